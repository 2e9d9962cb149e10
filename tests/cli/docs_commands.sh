#!/usr/bin/env bash
# Every command line in README.md, docs/cli.md and docs/migrating-from-connect.md runs, and
# does what the text says.
#
# The doc lines are extracted, not copied: every indented `mvsync …` / `$ mvsync …` line of a
# code block and every `mvsync …` in backquotes.  Each must be claimed by a `doc` line below
# (the exact text, trailing `# comment` removed), so a command added to the docs fails this
# test until it is run here.  Where the doc shows output (`$` examples), the output must be
# exactly that; elsewhere the checks follow the sentence next to the command.
#
# How the lines are run: in a scratch directory holding the store (./mvsync.db, the
# documented default) and ./rules (the documented default rule set): the file-connector
# variant of scenario 1 (rules/examples/demo/connectors.rules + cloud-groups-to-ad/groups.rules
# over tests/data/demo), so the engine commands meet the same objects as against the servers
# (`tools/demo.sh`), with no server.  ./rules/examples is a copy of rules/examples for the
# `rules` commands.  Placeholders are filled in: CONNECTOR = contoso.com, OBJECT and ID =
# the Sales group and objects of the demo data; bracketed options are run in each variant.
# Not run: tools/demo.sh and tools/test.sh (they install packages and start servers; CI
# runs them), the sample diff output in docs/cli.md (an output, not a command).
# Usage: docs_commands.sh PATH/TO/mvsync
set -u
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0; n=0
declare -A claimed=()

fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }

# doc TEXT: the doc line this block runs.
doc() { claimed["$1"]=1; current=$1; }

# run WANT_RC ARGS...: run mvsync in the scratch dir; $out, $err hold its output.
run() {
  local want=$1; shift
  n=$((n + 1))
  out=$(cd "$work" && "$mvsync" "$@" 2>"$work/.err"); rc=$?
  err=$(cat "$work/.err")
  [ "$rc" = "$want" ] || fail "[$current] mvsync $*: exit $rc, want $want; stderr: $err"
}
has() { [[ "$1" == *"$2"* ]] || fail "[$current] output lacks '$2': $(head -c 600 <<<"$1")"; }
lacks() { [[ "$1" != *"$2"* ]] || fail "[$current] output has '$2'"; }
same() { [ "$1" = "$2" ] || fail "[$current] output differs: got $(printf %q "$1"), want $(printf %q "$2")"; }
dump() { (cd "$work" && "$mvsync" dump --json); }

# ---- the doc lines
extract() {
  local f
  for f in "$root/README.md" "$root/docs/cli.md" "$root/docs/migrating-from-connect.md"; do
    # indented code lines, `\` continuations joined; then backquoted spans
    awk '/^    (\$ )?mvsync / { line = $0; sub(/^    (\$ )?/, "", line)
                                while (line ~ /\\$/ && (getline nxt) > 0) {
                                  sub(/ *\\$/, "", line); sub(/^ */, " ", nxt); line = line nxt }
                                print line }' "$f"
    grep -o '`mvsync [^`]*`' "$f" | tr -d '`'
  done | sed 's/  *#.*$//; s/ *$//' | sort -u
}

mkdir -p "$work/rules"
cp -r "$root/rules/examples" "$work/rules/"
cp "$root/rules/examples/demo/connectors.rules" "$root/rules/examples/cloud-groups-to-ad/groups.rules" \
  "$root"/tests/data/demo/contoso-* "$work/rules/"
unset MVSYNC_STORE MVSYNC_RULES

# ---- README: rules
doc 'mvsync rules check rules/examples'
doc 'mvsync rules check|fmt|show'
run 0 rules check rules/examples
has "$out" "ok: 3 files"
doc 'mvsync rules check PATH... [--today YYYY-MM-DD]'
run 0 rules check rules/examples/gwb-v2-coexistence.rules rules/examples/metaverse.rules --today 2026-01-15
has "$out" "ok: 2 files"
printf 'rule "Half" {\n  direction inbound\n}\n' >"$work/half.rules"
run 1 rules check half.rules
has "$err" "half.rules:1:1: error: "           # "Errors are reported as file:line:col: error:"

doc 'mvsync rules fmt rules/examples/gwb-v2-coexistence.rules [--write]'
doc 'mvsync rules fmt PATH... [--write | --check]'
run 0 rules fmt rules/examples/gwb-v2-coexistence.rules
canonical=$out
has "$canonical" 'rule "Out to AD - Group SOAinAAD coexistence with Cloud Sync" {'
printf 'rule "R" {   direction   outbound\n connector "c"  source a->b link join precedence 1 }\n' \
  >"$work/messy.rules"
printf 'connector "c" type file {\n  path "x"\n}\n' >"$work/c.rules"
run 1 rules fmt --check messy.rules c.rules          # lists the files that differ, exits 1
has "$out" "messy.rules"
lacks "$out" "c.rules"
run 0 rules fmt --write messy.rules
run 0 rules fmt --check messy.rules                  # "Formatting formatted output changes nothing"
run 0 rules fmt --write rules/examples/gwb-v2-coexistence.rules
cmp -s "$work/rules/examples/gwb-v2-coexistence.rules" "$root/rules/examples/gwb-v2-coexistence.rules" ||
  fail "[$current] --write changed an example that is already canonical"

doc 'mvsync rules show rules/examples --json'
doc 'mvsync rules show PATH... [--json [--positions]]'
run 0 rules show rules/examples --json
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert len(d["rules"]) == 3' <<<"$out" ||
  fail "[$current] not the rule set as JSON"
run 0 rules show rules/examples --json --positions
has "$out" '"pos": "rules/examples/'
run 0 rules show rules/examples
has "$out" "collection"
run 1 rules show half.rules

# ---- README and cli.md: expr, with the output the README shows
doc "mvsync expr 'Append(Append(Left(Trim([displayName]), 51), \"_\"), Mid([objectId], 25, 12))' --attr displayName=Sales --attr objectId=3a5c3221-c465-48c0-95b8-e9305786a271"
run 0 expr 'Append(Append(Left(Trim([displayName]), 51), "_"), Mid([objectId], 25, 12))' \
  --attr displayName=Sales --attr objectId=3a5c3221-c465-48c0-95b8-e9305786a271
same "$out" "Sales_e9305786a271"
doc "mvsync expr --dialect cloud --json 'Join(\",\", [m])' --attr m=a --attr m=b"
run 0 expr --dialect cloud --json 'Join(",", [m])' --attr m=a --attr m=b
same "$out" '{"value": "a,b"}'
doc 'mvsync expr'
doc 'mvsync expr [--dialect connect|cloud|auto] [--attr NAME=VALUE]... [--param NAME=VALUE]...'
printf '{"b": ["x", "y"], "n": 7}' >"$work/obj.json"
run 0 expr --dialect connect --attr a=1 --object obj.json --now 2026-01-15T10:30:00Z --seed 3 --json \
  'Join([b], "-") & [a] & FormatDateTime(Now(), "yyyy")'
same "$out" '{"value": "x-y12026"}'
doc "mvsync expr --attr sAMAccountName=jdoe --param Domain.FQDN=contoso.com '[sAMAccountName] & \"@\" & %Domain.FQDN%'"
run 0 expr --attr sAMAccountName=jdoe --param Domain.FQDN=contoso.com '[sAMAccountName] & "@" & %Domain.FQDN%'
same "$out" "jdoe@contoso.com"
run 1 expr 'Left([a]'                                 # a parse error: expr:1:COL: error:
has "$err" "expr:1:"

# ---- README: the engine commands, in the order a user types them
doc 'mvsync init'
run 0 init
[ -f "$work/mvsync.db" ] || fail "[$current] no ./mvsync.db (the documented default store)"

doc 'mvsync cycle --initial --dry-run'
before=$(dump)
run 0 cycle --initial --dry-run
has "$out" "export contoso.com: add CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com"
has "$out" "+ displayName: \"Sales\""                  # "attribute by attribute"
same "$(dump)" "$before"                              # "commits nothing"

doc 'mvsync cycle --initial'
run 0 cycle --initial
has "$err" "contoso.com: full import"                 # full imports, full sync, exports
has "$err" "full sync"
has "$(cat "$work/rules/contoso-ad.ldif.changes")" "CN=Sales_e9305786a271,OU=Cloud Groups"

doc 'mvsync cycle --delta'
run 0 cycle --delta
has "$err" "contoso.onmicrosoft.com: delta import"
has "$err" "delta sync"

doc 'mvsync preview contoso.com "CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com"'
doc 'mvsync preview CONNECTOR OBJECT [--commit] [--json]'
run 0 preview contoso.com "CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com"
has "$out" "object: contoso.com CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com (group"
run 0 preview contoso.com "CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com" --json
python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out" || fail "[$current] --json is not JSON"
before=$(dump)
run 0 preview contoso.com "CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com" --commit
same "$(dump)" "$before"                              # nothing to change after the cycles

doc 'mvsync staging on|off'
doc 'mvsync staging'
run 0 staging on
run 0 staging
has "$out" "on"
cp "$work/rules/contoso-ad.ldif.changes" "$work/ad-before"
cat "$root/tests/data/demo/entra-delta-1.json" >>"$work/rules/contoso-entra.json.changes"
run 0 cycle --delta                                   # imports and syncs run; exports kept
cmp -s "$work/ad-before" "$work/rules/contoso-ad.ldif.changes" || fail "[$current] staging sent exports"

doc 'mvsync pending --store typo.db'
run 3 pending --store typo.db
[ -e "$work/typo.db" ] && fail "[$current] typo.db was created"
has "$err" "typo.db"

doc 'mvsync pending [CONNECTOR] [--json|--csv]'
run 0 pending
has "$out" "CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com"
run 0 pending contoso.com
has "$out" "CN=Sales_e9305786a271"
run 0 pending --json
python3 -c 'import json,sys; assert json.loads(sys.stdin.read())' <<<"$out" || fail "[$current] --json"
run 0 pending contoso.com --csv
has "$out" "connector,dn,op"

run 0 staging off
doc 'mvsync export CONNECTOR [--allow-deletes]'
run 0 export contoso.com
cmp -s "$work/ad-before" "$work/rules/contoso-ad.ldif.changes" && fail "[$current] nothing was sent"
run 0 export contoso.com --allow-deletes
run 0 pending contoso.com --json
python3 -c 'import json,sys; assert not [p for p in json.loads(sys.stdin.read()) if p.get("status") == "pending"]' \
  <<<"$out" || fail "[$current] exports still pending after export"

doc 'mvsync import CONNECTOR [--full|--delta]'
doc 'mvsync import CONNECTOR [--full|--delta] [--allow-mass-delete]'
run 0 import contoso.com
has "$err" "delta import"                             # "default delta"
run 0 import contoso.com --full
has "$err" "full import"
run 0 import contoso.onmicrosoft.com --delta --allow-mass-delete

doc 'mvsync sync [--full|--delta]'
run 0 sync
has "$err" "delta sync"
run 0 sync --full
has "$err" "full sync"
run 0 sync --delta

doc 'mvsync cycle [--initial|--delta] [--allow-deletes] [--allow-mass-delete]'
run 0 cycle
has "$out$err" "delta cycle"                          # "default --delta"
run 0 cycle --delta --allow-deletes --allow-mass-delete

doc 'mvsync runs [--json]'
run 0 runs
has "$out" "full-import"
run 0 runs --json
python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); assert {"profile","connector","status"} <= set(r[0])' \
  <<<"$out" || fail "[$current] --json"

doc 'mvsync cycle --full-import CONNECTOR --full-sync'
run 0 cycle --full-import contoso.com --full-sync
has "$err" "contoso.com: full import asked for (--full-import)"
has "$err" "contoso.com: full import:"
has "$err" "full sync asked for (--full-sync)"
has "$err" "contoso.onmicrosoft.com: delta import"
run 1 cycle --full-import nosuch
has "$err" 'no connector "nosuch" in the rule set'

doc 'mvsync status'
doc 'mvsync status [--json]'
doc 'mvsync status [--json] [--metrics PATH]'
run 0 status                                          # every last run succeeded: healthy, 0
has "$out" "health: healthy"
has "$out" "connector contoso.com (file):"
run 0 status --json --metrics "$work/mvsync.prom"
python3 -c 'import json,sys; s=json.loads(sys.stdin.read()); assert s["health"] == "healthy" and s["last_sync"]["profile"] == "full-sync"' \
  <<<"$out" || fail "[$current] --json"
grep -q '^mvsync_health 0$' "$work/mvsync.prom" || fail "[$current] no metrics file"
run 0 cycle --metrics "$work/cycle.prom"
grep -q '^# TYPE mvsync_run_duration_seconds gauge$' "$work/cycle.prom" || fail "[$current] cycle --metrics"

doc 'mvsync show cs|mv ID'
doc 'mvsync show cs|mv ID [--json]'
run 0 show mv 1
has "$out" "metaverse object 1"
run 0 show cs 1 --json
has "$out" '"connector": "contoso.com"'

doc 'mvsync dump --json'
run 0 dump --json
python3 -c 'import json,sys; assert set(json.loads(sys.stdin.read())) == {"connectors","metaverse","pending"}' \
  <<<"$out" || fail "[$current] not the store as JSON"

doc 'mvsync <command> [args]'
run 2 frobnicate                                      # exit 2: usage, unknown command
has "$err" "usage: mvsync <command> [args]"

# ---- docs/migrating-from-connect.md: the import of Microsoft's Contoso export (in a folder of
# its own, so ./rules stays the demo rule set), then the engine steps on the demo rule set.
mkdir -p "$work/migrate"
ln -s "$root/tests/fixtures/connect-export/contoso" "$work/migrate/connect-export"
doc 'mvsync rules import connect connect-export --out rules'
doc 'mvsync rules import connect PATH [--connectors DIR] [--out DIR]'
n=$((n + 1))
out=$(cd "$work/migrate" && "$mvsync" rules import connect connect-export --out rules 2>/dev/null) ||
  fail "[$current] exit $?"
has "$out" "imported 53 of 62 rules and 741 of 1200 flows from 65 files into rules (13 files)"
has "$out" "not carried: 280"
has "$out" "rules check: ok"
doc 'mvsync rules check rules'
n=$((n + 1))
out=$(cd "$work/migrate" && "$mvsync" rules check rules 2>/dev/null) || fail "[$current] exit $?"
has "$out" "ok: 13 files, 2 connectors, 53 rules"
doc 'mvsync rules fmt --check rules'
n=$((n + 1))
(cd "$work/migrate" && "$mvsync" rules fmt --check rules >/dev/null 2>&1) || fail "[$current] not canonical"
doc 'mvsync staging on'
run 0 staging on
doc 'mvsync pending contoso.com --csv'
run 0 pending contoso.com --csv
doc 'mvsync staging off'
run 0 staging off
run 0 staging
has "$out" "off"
doc 'mvsync cycle'
run 0 cycle

# ---- every doc line is claimed above
while IFS= read -r line; do
  [ -n "$line" ] || continue
  [ -n "${claimed[$line]+x}" ] || fail "a command line of README.md, docs/cli.md or docs/migrating-from-connect.md is not run by this test: $line"
done < <(extract)

echo "docs_commands: $n runs, $fails failures"
[ "$fails" = 0 ]
