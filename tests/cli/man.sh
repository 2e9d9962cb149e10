#!/usr/bin/env bash
# The man pages (docs/man) and the bash completion (tools/packaging/mvsync.bash-completion)
# against the option tables of the binary they document (tools/cli_opt.h):
#  - the generated parts (each page's SYNOPSIS, OPTIONS and GLOBAL OPTIONS, mvsync(1)'s
#    COMMANDS, the whole completion) are what the binary prints now: tools/cli_docs.py
#    --check, so a changed option table without `tools/cli_docs.py MVSYNC` fails here;
#  - every command `mvsync --help` lists has its page mvsync-COMMAND.1 and no page documents
#    a command that does not exist; every page renders with `man -l` without a warning
#    (man --warnings: groff -ww) and names the version `mvsync --version` prints;
#  - mvsync(1)'s EXIT STATUS lists every exit code of tools/cli.h;
#  - the completion, loaded into bash, completes commands, sub-commands, options, option
#    values and literal arguments.
# Usage: man.sh PATH/TO/mvsync
set -u
mvsync=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
man=$root/docs/man
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
# rendered PAGE: the page as text, one paragraph per line (wide enough never to break or
# hyphenate a line), plain ASCII; rendered once.
rendered() {
  local t=$work/$(basename "$1")
  [ -f "$t" ] || MANWIDTH=2000 LC_ALL=C man -l "$1" 2>/dev/null | col -b >"$t"
  cat "$t"
}
# section PAGE NAME: the lines of one section of the rendered page.
section() { rendered "$1" | awk -v s="$2" '/^[A-Z]/ { on = ($0 == s); next } on'; }

out=$(python3 "$root/tools/cli_docs.py" "$mvsync" --check) ||
  fail "generated parts differ from the option tables (run tools/cli_docs.py $mvsync): $out"

commands=$("$mvsync" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 }
  on && /^  [a-z]/ && $1 != "help" && $1 != "completion" && !seen[$1]++ { print $1 }')
[ "$(wc -w <<<"$commands")" -ge 13 ] || fail "mvsync --help lists too few commands: $commands"

version=$("$mvsync" --version | awk '{ print $2 }')
for page in "$man"/*.[15]; do
  grep -q "^\.TH .* \"mvsync $version\" " "$page" || fail "$(basename "$page") is not headed mvsync $version (mvsync --version)"
  warn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warn" ] || fail "$(basename "$page") renders with warnings: $warn"
  name=$(basename "$page"); name=${name%.1}; name=${name#mvsync-}
  case $page in
    *.1) [ "$name" = mvsync ] || grep -qx "$name" <<<"$commands" ||
           fail "$(basename "$page") documents '$name', which mvsync --help does not list" ;;
  esac
done

overview=$(rendered "$man/mvsync.1")
for c in $commands; do
  page=$man/mvsync-$c.1
  [ -f "$page" ] || { fail "command $c has no man page docs/man/mvsync-$c.1"; continue; }
  grep -q "mvsync-$c(1)" <<<"$overview" || fail "mvsync(1) does not refer to mvsync-$c(1)"
  # Every option the usage shows is in the rendered page (the generated OPTIONS).
  for o in $("$mvsync" help $c | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qe "$o\b" <<<"$(rendered "$page")" || fail "mvsync-$c(1) lacks $o, which mvsync help $c shows"
  done
done

# Exit codes: the enum's numbers and mvsync(1)'s list are the same set.
want=$(grep -o 'MVS_EXIT_[A-Z_]* = [0-9]*' "$root/tools/cli.h" | awk '{ print $3 }' | sort -n | tr '\n' ' ')
got=$(section "$man/mvsync.1" "EXIT STATUS" | grep -oE '^       [0-9]+ ' | tr -d ' ' | sort -n | tr '\n' ' ')
[ "$want" = "$got" ] || fail "mvsync(1) EXIT STATUS lists codes '$got'; tools/cli.h has '$want'"

# The completion, as bash loads it.  The expected words are the options and arguments the
# docs (docs/cli.md) give each command.
# shellcheck source=../../tools/packaging/mvsync.bash-completion
. "$root/tools/packaging/mvsync.bash-completion"
complete_words() {
  COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
  _mvsync 2>/dev/null
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
check_completion() {
  local want=$1; shift
  got=$(complete_words mvsync "$@")
  [ "$got" = "$want" ] || fail "completion of '$*': '$got', want '$want'"
}
check_completion cycle cyc
check_completion cycle --store x.db cyc
check_completion cycle --rules=r cyc
check_completion "--allow-deletes --allow-mass-delete" cycle --allow-
check_completion "--allow-mass-delete" import contoso.com --allow-
check_completion "off on" staging o
check_completion "cs" show c
check_completion "fmt" rules f
check_completion "connect" rules import c
check_completion "--today" rules check x.rules --to
check_completion "--write" rules fmt --w
check_completion "auto cloud connect" expr --dialect ''
check_completion "--dry-run" --store s.db sync --dry
check_completion "--wait=" staging on --wa
check_completion "bash" completion ''
check_completion override schedule o
[ -z "$(complete_words mvsync runs --allow)" ] || fail "completion offers runs an option it does not take"

# The installed completion is the generated one (tests/cli/install.sh installs this file).
cmp -s <("$mvsync" completion bash) "$root/tools/packaging/mvsync.bash-completion" ||
  fail "tools/packaging/mvsync.bash-completion is not what mvsync completion bash prints"

n=$(ls "$man" | wc -l)
echo "man: $n pages, $(wc -w <<<"$commands") commands, $fails failures"
[ "$fails" = 0 ]
