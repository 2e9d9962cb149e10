#!/usr/bin/env bash
# The command-line grammar every verb shares (docs/cli.md#the-command-line, issue 15):
#  - `mvsync VERB --help`, `-h` and `mvsync help VERB` print the verb's usage on stdout and
#    exit 0, for every verb and sub-verb `mvsync --help` lists;
#  - an unknown option, and every option some verb takes but this one does not, is a usage
#    error (exit 2) naming the option — `mvsync runs --csv --allow-deletes --full` among them;
#    an abbreviation is not taken for the option; a missing value, too few or too many
#    arguments, two options of one exclusive group are exit 2 too;
#  - options may come anywhere, global ones before the verb;
#  - --json on the verbs that report prints JSON: `rules check` with each diagnostic's file,
#    line and col, `init`, `staging`, and the rest.
# Usage: grammar.sh PATH/TO/mvsync
set -u
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0; n=0
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
unset MVSYNC_STORE MVSYNC_RULES MVSYNC_METRICS

# run WANT_RC ARGS...: in the scratch dir; $out and $err hold the output.
run() {
  local want=$1; shift
  n=$((n + 1))
  out=$(cd "$work" && "$mvsync" "$@" 2>"$work/.err"); rc=$?
  err=$(cat "$work/.err")
  [ "$rc" = "$want" ] || fail "mvsync $*: exit $rc, want $want; stderr: $(head -c 300 <<<"$err")"
}
is_json() { python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$1" 2>/dev/null || fail "$2: not JSON: $(head -c 300 <<<"$1")"; }

# The verbs and sub-verbs, as `mvsync --help` lists them ("rules check", "cycle"); a group
# (a verb with sub-verbs) is one the completion knows as one.
groups=" $("$mvsync" completion bash | sed -n "s/^_mvsync_groups='\(.*\)'$/\1/p") "
verbs=$("$mvsync" --help | awk -v groups="$groups" '/^commands:/ { on = 1; next } on && /^$/ { on = 0 }
  on && /^  [a-z]/ { if (index(groups, " " $1 " ")) print $1 " " $2; else print $1 }' | sort -u)
[ "$(wc -l <<<"$verbs")" -ge 17 ] || fail "mvsync --help lists too few verbs: $verbs"

# Every option any verb takes (from the usages themselves).
all_opts=$(while IFS= read -r v; do "$mvsync" $v --help; done <<<"$verbs" |
  grep -oE -- '--[a-z][a-z-]*' | sort -u)

declare -A tried=() tried_verb=()
while IFS= read -r v; do
  run 0 $v --help
  [[ "$out" == "usage: mvsync $v"* ]] || fail "mvsync $v --help does not start 'usage: mvsync $v': $(head -c 200 <<<"$out")"
  [ -z "$err" ] || fail "mvsync $v --help wrote to stderr: $err"
  usage=$out
  run 0 $v -h
  [ "$out" = "$usage" ] || fail "mvsync $v -h differs from --help"
  run 0 help $v
  [ "$out" = "$usage" ] || fail "mvsync help $v differs from mvsync $v --help"
  run 2 $v --no-such-option
  [[ "$err" == *"--no-such-option"* ]] || fail "mvsync $v --no-such-option: the error does not name it: $err"
  # Options of other verbs: each option is tried on the first verb that does not take it
  # (the parser is one for all; every verb and every option is covered once).
  mine=$(grep -oE -- '^  --[a-z][a-z-]*' <<<"$usage" | tr -d ' ' | sort -u)
  for o in $all_opts; do
    grep -qx -- "$o" <<<"$mine" && continue
    [ -n "${tried[$o]+x}" ] && [ -n "${tried_verb[$v]+x}" ] && continue
    tried[$o]=1; tried_verb[$v]=1
    run 2 $v "$o=x"
    [[ "$err" == *"$o"* ]] || fail "mvsync $v $o=x: the error does not name $o: $err"
  done
done <<<"$verbs"

# The issue's example, and the rest of the grammar.
run 2 runs --csv --allow-deletes --full
[[ "$err" == *"runs"*"--csv"* ]] || fail "runs --csv: $err"
run 2 cycle --dry                                     # no abbreviations
[[ "$err" == *"--dry"* ]] || fail "cycle --dry: $err"
run 2 sync --full --delta                             # one of an exclusive group
[[ "$err" == *"--full"*"--delta"* ]] || fail "sync --full --delta: $err"
run 2 cycle --initial --delta
run 2 import                                          # too few arguments
[[ "$err" == *"CONNECTOR"* ]] || fail "import without CONNECTOR: $err"
run 2 runs extra                                      # too many
[[ "$err" == *"'extra'"* ]] || fail "runs extra: $err"
run 2 import contoso.com --timeout                    # a missing value
[[ "$err" == *"--timeout"* ]] || fail "--timeout without a value: $err"
run 2 cycle --json=yes                                # a value for an option that takes none
run 2 cycle --timeout=soon
run 2 frobnicate
run 2                                                 # no command
run 0 --help
[[ "$out" == usage:* ]] || fail "mvsync --help: $out"
run 0 help
run 0 --version
[[ "$out" == "mvsync "[0-9]* ]] || fail "--version: $out"
run 2 rules                                           # a group without its sub-verb
[[ "$err" == *"rules check"* ]] || fail "mvsync rules: no usage of its commands: $err"
run 0 rules --help
[[ "$out" == *"rules import"* ]] || fail "mvsync rules --help: $out"
run 0 completion bash
[[ "$out" == *"complete -o filenames -F _mvsync mvsync"* ]] || fail "completion bash: no complete line"
run 2 completion zsh

# Options anywhere: global ones before the verb, the verb's before it too; "--" ends them.
mkdir -p "$work/rules"
cp "$root/rules/examples/demo/connectors.rules" "$root/rules/examples/cloud-groups-to-ad/groups.rules" \
  "$root"/tests/data/demo/contoso-* "$work/rules/"
run 0 --store s.db init
[ -f "$work/s.db" ] || fail "--store before the verb: no s.db"
run 0 init --store s.db --quiet
run 0 --store s.db --rules rules --json pending
is_json "$out" "--json before the verb"
run 0 pending --json --store=s.db
run 0 expr --attr a=x -- '[a] & "-1"'
[ "$out" = "x-1" ] || fail "expr after --: $out"

# --json where a verb reports.  rules check: the diagnostics with file, line and col, as the
# text form gives them (the duplicate precedence of tests/rules/bad/precedence.rules is on
# its line 20, column 3).
bad=$root/tests/rules/bad/precedence.rules
want_line=$(grep -n 'precedence 10' "$bad" | sed -n 2p | cut -d: -f1)
run 1 rules check --json "$bad"
is_json "$out" "rules check --json"
python3 - "$out" "$bad" "$want_line" <<'PY' || fail "rules check --json: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["ok"] is False and d["errors"] >= 1, d
first = [g for g in d["diagnostics"] if g["severity"] == "error"][0]
assert first["file"] == sys.argv[2] and first["line"] == int(sys.argv[3]) and first["col"] == 3, first
assert "precedence 10 is already used" in first["message"], first
PY
run 0 rules check --json --today 2026-01-15 "$root/tests/rules/bad/review-by.rules"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] and d["warnings"] == 1 and d["diagnostics"][0]["severity"] == "warning", d' "$out" ||
  fail "rules check --json with a warning: $out"
run 0 rules check --json "$root/rules/examples"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] and (d["files"], d["connectors"], d["rules"], d["collections"]) == (3, 2, 3, 1), d' "$out" ||
  fail "rules check --json of the examples: $out"   # the counts `rules check` prints (tests/cli/rules.sh)
run 0 init --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["store"] == "mvsync.db" and d["schema_version"] >= 1, d' "$out" ||
  fail "init --json: $out"
run 0 staging --json
[ "$out" = '{"staging": false}' ] || fail "staging --json: $out"
run 0 staging on --json
[ "$out" = '{"staging": true}' ] || fail "staging on --json: $out"
run 0 staging --json
[ "$out" = '{"staging": true}' ] || fail "staging --json after on: $out"
run 0 staging off
run 0 cycle --initial --json
is_json "$out" "cycle --json"
run 0 runs --json;    is_json "$out" "runs --json"
run 0 status --json;  is_json "$out" "status --json"
run 0 pending --json; is_json "$out" "pending --json"
run 0 dump --json;    is_json "$out" "dump --json"
run 0 show mv 1 --json; is_json "$out" "show --json"
run 0 preview contoso.com "CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com" --json
is_json "$out" "preview --json"
run 0 expr --json '"a"'; is_json "$out" "expr --json"
run 0 rules show --json "$root/rules/examples"; is_json "$out" "rules show --json"
run 2 show mv one                                     # a bad value the verb checks
run 2 staging maybe

echo "grammar: $n runs, $fails failures"
[ "$fails" = 0 ]
