#!/usr/bin/env bash
# The man pages (docs/man) against the binary they document:
#  - every command `mvsync --help` lists has its page mvsync-COMMAND.1, mvsync(1) names it,
#    and there is no page for a command that does not exist;
#  - every page renders with `man -l` without a warning (man --warnings: groff -ww);
#  - each command's page shows every option its `--help` shows in OPTIONS (or GLOBAL OPTIONS),
#    and its SYNOPSIS shows no
#    option the command does not take;
#  - mvsync(1)'s EXIT STATUS lists every exit code of tools/cli.h, and every page names the
#    version `mvsync --version` prints;
#  - the bash completion (tools/packaging/mvsync.bash-completion), which reads the same help,
#    completes commands and options.
# The command and option lists are read by the completion's own functions, so the pages, the
# completion and the help cannot drift apart unnoticed.
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

# shellcheck source=../../tools/packaging/mvsync.bash-completion
. "$root/tools/packaging/mvsync.bash-completion"
commands=$(_mvsync_commands "$mvsync")
[ "$(wc -w <<<"$commands")" -ge 13 ] || fail "mvsync --help lists too few commands: $commands"

version=$("$mvsync" --version | awk '{ print $2 }')
for page in "$man"/*.[15]; do
  grep -q "^\.TH .* \"mvsync $version\" " "$page" || fail "$(basename "$page") is not headed mvsync $version (mvsync --version)"
  warn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warn" ] || fail "$(basename "$page") renders with warnings: $warn"
  name=$(basename "$page"); name=${name%.1}; name=${name#mvsync-}
  case $page in
    *.1) [ "$name" = mvsync.1 ] || [ "$name" = mvsync ] || grep -qx "$name" <<<"$commands" ||
           fail "$(basename "$page") documents '$name', which mvsync --help does not list" ;;
  esac
done

overview=$(rendered "$man/mvsync.1")
for c in $commands; do
  page=$man/mvsync-$c.1
  [ -f "$page" ] || { fail "command $c has no man page docs/man/mvsync-$c.1"; continue; }
  grep -q "mvsync-$c(1)" <<<"$overview" || fail "mvsync(1) does not refer to mvsync-$c(1)"
  # Where a reader looks for an option: its OPTIONS (or GLOBAL OPTIONS) section, not after
  # EXAMPLES.
  text=$(section "$page" OPTIONS; section "$page" "GLOBAL OPTIONS")
  help=$(_mvsync_options "$mvsync" "$c")
  [ -n "$help" ] || fail "mvsync $c --help shows no option"
  for o in $help; do
    grep -qe "$o\b" <<<"$text" || fail "mvsync-$c(1) OPTIONS lacks $o, which mvsync $c --help shows"
  done
  for o in $(section "$page" SYNOPSIS | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qx -- "$o" <<<"$help" || fail "mvsync-$c(1) SYNOPSIS shows $o, which mvsync $c --help does not"
  done
done

# Exit codes: the enum's numbers and mvsync(1)'s list are the same set.
want=$(grep -o 'MVS_EXIT_[A-Z_]* = [0-9]*' "$root/tools/cli.h" | awk '{ print $3 }' | sort -n | tr '\n' ' ')
got=$(section "$man/mvsync.1" "EXIT STATUS" | grep -oE '^       [0-9]+ ' | tr -d ' ' | sort -n | tr '\n' ' ')
[ "$want" = "$got" ] || fail "mvsync(1) EXIT STATUS lists codes '$got'; tools/cli.h has '$want'"

# The completion: a command from its prefix, a command's options, a subcommand word.
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _mvsync; echo "${COMPREPLY[*]}"; }
[ "$(complete_words "$mvsync" cyc)" = cycle ] || fail "completion of 'cyc': $(complete_words "$mvsync" cyc)"
[ "$(complete_words "$mvsync" --store x.db cyc)" = cycle ] || fail "completion after --store: $(complete_words "$mvsync" --store x.db cyc)"
got=$(complete_words "$mvsync" cycle --allow-)
[ "$got" = "--allow-deletes --allow-mass-delete" ] || fail "completion of 'cycle --allow-': $got"
[ "$(complete_words "$mvsync" staging o)" = "on off" ] || fail "completion of 'staging o': $(complete_words "$mvsync" staging o)"
[ "$(complete_words "$mvsync" rules f)" = fmt ] || fail "completion of 'rules f'"
[ "$(complete_words "$mvsync" schedule o)" = override ] || fail "completion of 'schedule o': $(complete_words "$mvsync" schedule o)"
[ "$(complete_words "$mvsync" rules import c)" = connect ] || fail "completion of 'rules import c'"

n=$(ls "$man" | wc -l)
echo "man: $n pages, $(wc -w <<<"$commands") commands, $fails failures"
[ "$fails" = 0 ]
