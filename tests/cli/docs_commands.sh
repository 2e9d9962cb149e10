#!/usr/bin/env bash
# Every command line in README.md, docs/cli.md, docs/migrating-from-connect.md and docs/monitoring.md runs, and
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
declare -A claimed=() usage_example=()

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
  for f in "$root/README.md" "$root/docs/cli.md" "$root/docs/migrating-from-connect.md" \
           "$root/docs/monitoring.md"; do
    # indented code lines, `\` continuations joined; then backquoted spans
    awk '/^    +(\$ )?mvsync / { line = $0; sub(/^    +(\$ )?/, "", line)
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
doc 'mvsync rules check PATH... [--policy] [--today YYYY-MM-DD] [--json]'
run 0 rules check rules/examples/gwb-v2-coexistence.rules rules/examples/metaverse.rules --today 2026-01-15
has "$out" "ok: 2 files"
# --policy: the coexistence pair's outbound rule has no owner, purpose or review-by.
run 1 rules check --policy rules/examples/gwb-v2-coexistence.rules rules/examples/metaverse.rules
has "$err" "without owner, purpose and review-by: house policy"
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
has "$out" "send contoso.com: add CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com"
has "$out" "+ displayName: \"Sales\""                  # "attribute by attribute"
same "$(dump)" "$before"                              # "commits nothing"

doc 'mvsync report --dry-run [--initial|--delta] [--only-writes] [--connector NAME] --html'
doc 'mvsync report --dry-run --initial --html >report.html'
run 0 report --dry-run --initial --html
has "$out" "<!DOCTYPE html>"                          # one page ...
lacks "$out" "<link"                                  # ... self-contained
has "$out" 'CN=Sales_e9305786a271,OU=Cloud Groups'    # the writes, in the page's data
run 0 report --dry-run --delta --only-writes --connector contoso.com --html
same "$(dump)" "$before"                              # a dry run: nothing committed

doc 'mvsync cycle --initial'
run 0 cycle --initial
has "$err" "contoso.com: full import"                 # full imports, full sync, exports
has "$err" "full sync"
has "$(cat "$work/rules/contoso-ad.ldif.changes")" "CN=Sales_e9305786a271,OU=Cloud Groups"

doc 'mvsync cycle --delta'
run 0 cycle --delta
has "$err" "contoso.onmicrosoft.com: delta import"
has "$err" "delta sync"

doc 'mvsync report [--run ID] --html'
run 0 report --html                                   # the last run
has "$out" '"profile": "export"'
run 0 report --run 1 --html
has "$out" '"profile": "full-import"'

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

doc 'mvsync schedule override CONNECTOR --full-import|--full-sync'
doc 'mvsync schedule override CONNECTOR --full-import'
doc 'mvsync schedule override'
run 0 schedule override contoso.onmicrosoft.com --full-import
run 0 cycle
has "$err" "contoso.onmicrosoft.com: a full import asked for by \`mvsync schedule override\`"
doc 'mvsync schedule show [--json]'
run 0 schedule show --json
same "$out" '{"overrides": []}'                        # the cycle consumed it
doc 'mvsync schedule clear CONNECTOR'
run 1 schedule clear contoso.com                      # none to clear
has "$err" 'connector "contoso.com" has no override'

doc 'mvsync show cs|mv ID'
doc 'mvsync show cs|mv ID [--json]'
run 0 show mv 1
has "$out" "metaverse object 1"
run 0 show cs 1 --json
has "$out" '"connector": "contoso.com"'

doc 'mvsync show cs CONNECTOR DN|ANCHOR [--json]'
run 0 show cs contoso.com "cn=sales_e9305786a271,ou=cloud groups,dc=contoso,dc=com"
has "$out" 'joined: metaverse object'
has "$out" 'provision by "Out to AD - Cloud security groups"'
run 0 show cs contoso.onmicrosoft.com 3a5c3221-c465-48c0-95b8-e9305786a271 --json
has "$out" '"link": "projection"'

doc 'mvsync search cs CONNECTOR|mv [FILTER] [--json|--csv] [--limit N]'
doc "mvsync search cs contoso.com 'object-type EQUAL \"group\" and dn ENDSWITH \"OU=Cloud Groups,DC=contoso,DC=com\"'"
run 0 search cs contoso.com 'object-type EQUAL "group" and dn ENDSWITH "OU=Cloud Groups,DC=contoso,DC=com"'
has "$out" "  group  CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com"
lacks "$out" "CN=VPN Users"
doc 'mvsync search cs contoso.onmicrosoft.com disconnector'
run 0 search cs contoso.onmicrosoft.com disconnector
has "$out" "8e2f3a41-5b6c-4d7e-9f80-a1b2c3d4e511"                    # Kim Guest, cloud-only
has "$out" "8e2f3a41-5b6c-4d7e-9f80-a1b2c3d4e512"                    # Lee Park
lacks "$out" "7d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d01"                   # Ada: joined
doc "mvsync search mv 'object-type EQUAL \"person\" and displayName STARTSWITH \"ada\"' --json"
run 0 search mv 'object-type EQUAL "person" and displayName STARTSWITH "ada"' --json
python3 -c 'import json,sys; (r,) = json.loads(sys.stdin.read()); assert r["space"] == "metaverse" and r["attributes"]["displayName"] == "Ada Lovelace", r' \
  <<<"$out" || fail "[$current] --json"
doc "mvsync search cs contoso.com 'department EQUALS \"Sales\"'"
run 1 search cs contoso.com 'department EQUALS "Sales"'
same "$err" "filter:1:12: error: unknown scope operator 'EQUALS'; did you mean 'EQUAL'?"
doc "mvsync search cs contoso.com joined and object-type EQUAL '\"user\"'"
run 0 search cs contoso.com joined and object-type EQUAL '"user"'
has "$out" "CN=Ada Lovelace,OU=Users,OU=Corp,DC=contoso,DC=com"

doc 'mvsync dump --json'
run 0 dump --json
python3 -c 'import json,sys; assert set(json.loads(sys.stdin.read())) == {"connectors","metaverse","pending"}' \
  <<<"$out" || fail "[$current] not the store as JSON"

doc 'mvsync COMMAND [ARGS]'
run 2 frobnicate                                      # exit 2: usage, unknown command
has "$err" "unknown command 'frobnicate'"

# ---- docs/cli.md: the command line
doc 'mvsync cycle --help'
run 0 cycle --help
has "$out" "usage: mvsync cycle"
same "$err" ""
doc 'mvsync help rules check'
run 0 help rules check
has "$out" "usage: mvsync rules check PATH..."
doc 'mvsync --help'
run 0 --help
has "$out" "commands:"
doc 'mvsync COMMAND --help'
doc 'mvsync help COMMAND'
for c in $("$mvsync" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort -u); do
  run 0 "$c" --help
  help=$out
  run 0 help "$c"
  same "$out" "$help"
done
doc 'mvsync runs --allow-deletes'
usage_example['mvsync runs --allow-deletes']=1    # the docs show it as a usage error
run 2 runs --allow-deletes
has "$err" "mvsync runs: error: takes no --allow-deletes"  # the message the doc quotes
doc 'mvsync --rules DIR cycle'
run 0 --rules rules cycle --dry-run
run 0 --rules rules cycle
has "$out$err" "delta cycle"
doc "mvsync expr -- '-1'"
run 0 expr -- '-1'
same "$out" "-1"
doc 'mvsync completion bash'
run 0 completion bash
has "$out" "complete -o filenames -F _mvsync mvsync"
bash -c 'source /dev/stdin; declare -F _mvsync' <<<"$out" >/dev/null || fail "[$current] does not load in bash"
run 0 rules check --json rules/examples --today 2026-01-15
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["ok"] and d["files"] == 3' <<<"$out" ||
  fail "[$current] --json"
run 1 rules check --json half.rules
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); g=d["diagnostics"][0]; assert (g["file"], g["line"], g["col"]) == ("half.rules", 1, 1)' \
  <<<"$out" || fail "[$current] --json diagnostics: $out"

# `mvsync cycle` with no flag on a new store: a delta cycle whose imports and sync run full by
# themselves and say so — the same store and the same exports as `mvsync cycle --initial`.
for d in plain initial; do
  mkdir -p "$work/$d/rules"
  cp "$work"/rules/*.rules "$work/$d/rules/"
  cp "$root"/tests/data/demo/contoso-* "$work/$d/rules/"
  (cd "$work/$d" && "$mvsync" init >/dev/null) || fail "init in $d"
done
n=$((n + 2))
err=$(cd "$work/plain" && "$mvsync" cycle 2>&1 >/dev/null) || fail "[mvsync cycle] on a new store: exit $?"
has "$err" "contoso.com: no full import recorded for this connector: running a full import"
has "$err" "never synced: running a full sync"
(cd "$work/initial" && "$mvsync" cycle --initial >/dev/null 2>&1) || fail "[mvsync cycle] --initial"
[ "$(cd "$work/plain" && "$mvsync" dump --json)" = "$(cd "$work/initial" && "$mvsync" dump --json)" ] ||
  fail "[mvsync cycle] on a new store did not do what --initial does"
cmp -s "$work/plain/rules/contoso-ad.ldif.changes" "$work/initial/rules/contoso-ad.ldif.changes" ||
  fail "[mvsync cycle] on a new store exported other changes than --initial"

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
has "$out" "not carried: 268"
has "$out" "carried changed: 12"
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

doc 'mvsync errors [CONNECTOR] [--json]'
run 0 errors
has "$out" " errors ("
run 0 errors contoso.com --json
python3 -c 'import json,sys; assert isinstance(json.loads(sys.stdin.read()), list)' <<<"$out" ||
  fail "[$current] --json is no list"
run 1 errors nosuch.example
doc 'mvsync pending [CONNECTOR] --discard [--deletes|--object ID] [--dry-run] [--json]'
run 0 pending contoso.com --discard --deletes --dry-run
has "$out" "would discard 0 pending exports of contoso.com (0 deletes"
run 0 pending --discard --dry-run --json
python3 -c 'import json,sys; d = json.loads(sys.stdin.read()); assert d["dry_run"] and d["run"] is None' \
  <<<"$out" || fail "[$current] --dry-run --json"
run 1 pending contoso.com --discard --object 999999
has "$err" "no connector-space object 999999"
run 0 pending contoso.com --discard --deletes
has "$out" "discarded 0 pending exports of contoso.com"

# ---- docs/cli.md: mvsync authority (./rules and ./mvsync.db: the store's facts are in)
doc 'mvsync authority [--json | --csv | --html] [--also PATH] [--today YYYY-MM-DD] [CONNECTOR]'
doc 'mvsync authority'
run 0 authority
has "$out" "writeback register:"
has "$out" '"Out to AD - Cloud security groups" -> contoso.com group'
run 0 authority --json --today 2026-12-05 contoso.com
has "$out" '"wins": '
lacks "$out" '"wins": null'
run 0 authority --csv --also rules/examples/gwb-v2-coexistence.rules
has "$out" "space,object_type,attribute,contested,precedence,rule"
doc 'mvsync authority --html >authority.html'
run 0 authority --html
has "$out" "<h2>Writeback register</h2>"

# ---- docs/monitoring.md: the scheduler's rules and overrides (tests/cli/schedule.sh checks
# what they do in depth); the lines that name a command in prose run it plainly.
doc 'mvsync status [--json] [--metrics PATH]'
doc 'mvsync runs'
doc 'mvsync runs --json'
doc 'mvsync rules check'
run 0 rules check rules
doc 'mvsync import'
doc 'mvsync import CONNECTOR --delta'
run 0 import contoso.com --delta
has "$out" "delta import contoso.com: success"
doc 'mvsync sync'
doc 'mvsync sync --delta'
run 0 sync --delta
doc 'mvsync cycle --delta'
doc 'mvsync cycle --delta --full-import contoso.com --full-sync'
run 0 cycle --delta --full-import contoso.com --full-sync
has "$err" "contoso.com: full import asked for (--full-import)"
doc 'mvsync schedule'
doc 'mvsync schedule override'
doc 'mvsync schedule override contoso.com --full-import'
run 0 schedule override contoso.com --full-import
has "$out" "contoso.com: the next cycle runs a full import"
doc 'mvsync schedule override contoso.com --full-sync'
run 0 schedule override contoso.com --full-sync
doc 'mvsync schedule show'
run 0 schedule show
has "$out" "contoso.com: full import, full sync (since "
run 0 status --json
python3 -c 'import json,sys; s=json.loads(sys.stdin.read()); c={x["name"]: x for x in s["connectors"]}
assert s["full_sync_due"] and c["contoso.com"]["full_import_due"] and not c["contoso.onmicrosoft.com"]["full_import_due"]
assert c["contoso.com"]["due_reason"].startswith("a full import asked for by `mvsync schedule override`")' \
  <<<"$out" || fail "[$current] status does not show the override"
doc 'mvsync schedule clear contoso.com'
run 0 schedule clear contoso.com
run 0 schedule show --json
same "$out" '{"overrides": []}'

# ---- every doc line is claimed above, or marked as one that cannot run here
# A doc line that cannot run in this test (it needs a server, root, or the network) carries
# the comment `# not run here: REASON` in the doc; those are counted, not run.
not_run=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  [ -n "${claimed[$line]+x}" ] || fail "a command line of README.md, docs/cli.md, docs/migrating-from-connect.md or docs/monitoring.md is not run by this test: $line"
done < <(extract)
while IFS= read -r line; do
  not_run=$((not_run + 1))
  [[ "$line" =~ "# not run here: "[^[:space:]] ]] || fail "marked as not run without a reason: $line"
done < <(grep -hE '^ {4,}(\$ )?mvsync .*# not run here:' "$root/README.md" "$root/docs/cli.md" "$root/docs/migrating-from-connect.md")

# ---- every option a doc line shows is one its command takes (its --help), placeholders and
# all: the docs cannot show an option the program has dropped or never had.  A group's
# (rules, schedule: the completion knows them) is its sub-verb's.
groups=" $("$mvsync" completion bash | sed -n "s/^_mvsync_groups='\(.*\)'$/\1/p") "
while IFS= read -r line; do
  words=$(sed -E 's/--[a-z][a-z-]*//g; s/[][|.]/ /g' <<<"${line#mvsync }")
  verb=$(awk '{ print $1 }' <<<"$words")
  [[ "$groups" == *" $verb "* ]] && verb="$verb $(awk '{ print $2 }' <<<"$words")"
  [ "$verb" = help ] || [ -n "${usage_example[$line]+x}" ] && continue
  usage=$("$mvsync" $verb --help 2>/dev/null) || continue   # "COMMAND" and the like
  for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$line" | sort -u); do
    [ "$o" = --help ] && continue
    grep -qE -- "^  $o( |\[|=|$)" <<<"$usage" ||
      fail "a doc line shows $o, which mvsync $verb does not take: $line"
  done
done < <(extract)

echo "docs_commands: $n runs, $not_run doc lines marked not run here, $fails failures"
[ "$fails" = 0 ]
