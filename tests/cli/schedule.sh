#!/usr/bin/env bash
# The scheduler's decisions a timer depends on (docs/monitoring.md, "Scheduler rules"; issue 14
# item 2), against the file connector: Entra users (entra shape) provisioned to AD (ad shape).
# - The rule-set hash is the rule set's, not its path's: a timer that names the rule set
#   another way than the last run did (`--rules cfg`, `./cfg/`, an absolute path, a symlink,
#   the .rules file itself) finds no full sync due and runs a delta sync.
# - `mvsync schedule override|show|clear` (Connect's Set-/Get-ADSyncSchedulerConnectorOverride
#   -FullImportRequired / -FullSyncRequired): an override persists in the store, `status`
#   shows it as the reason the step is due, the next cycle runs the full step, and a cycle that
#   succeeds consumes it; a dry run, a failed cycle or a lone run profile does not.
# Usage: schedule.sh PATH/TO/mvsync
set -u
py=$(python3 -c 'import sys; print(sys.executable)')
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
unset MVSYNC_STORE MVSYNC_RULES MVSYNC_METRICS
trap 'rm -rf "$work"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect NAME WANT_RC ARGS...: mvsync in $work/d; output in $work/out and $work/err.
expect() {
  local name=$1 want_rc=$2 rc; shift 2
  (cd "$work/d" && "$mvsync" "$@") >"$work/out" 2>"$work/err"; rc=$?
  [ "$rc" = "$want_rc" ] || bad "$name: rc=$rc (want $want_rc): $(head -c 400 "$work/err") $(head -c 300 "$work/out")"
}
# field EXPR: a Python expression over the JSON in $work/out (as j).
field() { "$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' "$work/out" "$1"; }
# is NAME EXPR WANT: field EXPR of $work/out is WANT (JSON text).
is() {
  local got
  got=$(field "$2" 2>&1)
  [ "$got" = "$3" ] || bad "$1: $2 = $got (want $3): $(head -c 300 "$work/out")"
}
# last_runs N: the profiles of the last N runs, oldest first, "profile connector" each.
last_runs() {
  (cd "$work/d" && "$mvsync" runs --json) >"$work/runs.json"
  "$py" -c 'import json,sys
r = json.load(open(sys.argv[1]))
r = r["runs"] if isinstance(r, dict) else r
r.sort(key=lambda x: x["id"])
print(" ".join("%s:%s" % (x["profile"], x["connector"] or "") for x in r[-int(sys.argv[2]):]))' "$work/runs.json" "$1"
}

USERS=4
# fixture: the rule set in $work/d/cfg/sync.rules, USERS users in Entra, AD empty (the files
# beside it: a relative path in a rule file is relative to the file's directory).
fixture() {
  rm -rf "$work/d" && mkdir -p "$work/d/cfg"
  cat >"$work/d/cfg/sync.rules" <<'R'
connector "entra" type file {
  path "entra.json"
  attribute displayName string
  attribute employeeId string
}
connector "ad" type file {
  shape "ad"
  path "ad.ldif"
  attribute dn string
  attribute displayName string
  attribute employeeID string
}
metaverse {
  object person {
    attribute displayName string
    attribute employeeId string
  }
}
rule "In from Entra" {
  direction inbound
  connector "entra"
  source user -> person
  link provision
  precedence 50
  flow [employeeId] -> employeeId
  flow [displayName] -> displayName
}
rule "Out to AD" {
  direction outbound
  connector "ad"
  source person -> user
  link provision
  precedence 100
  flow "CN=" & [displayName] & ",OU=Cloud,DC=contoso,DC=com" -> dn
  flow [displayName] -> displayName
  flow [employeeId] -> employeeID
}
R
  {
    echo '{"users": ['
    for i in $(seq "$USERS"); do
      printf '  {"id": "20000000-0000-0000-0000-0000000020%02d", "displayName": "User %d", "employeeId": "E%d"}%s\n' \
        "$i" "$i" "$i" "$([ "$i" = "$USERS" ] || echo ,)"
    done
    echo ']}'
  } >"$work/d/cfg/entra.json"
  : >"$work/d/cfg/ad.ldif"
  (cd "$work/d" && "$mvsync" init >/dev/null) || bad "init of the fixture"
}

# ---- the rule-set hash does not depend on how --rules names the rule set --------------------------
fixture
ln -s cfg "$work/d/link"
ln -s "$work/d/cfg" "$work/d/abslink"
expect initial 0 cycle --initial --rules cfg
expect status-cfg 0 status --json --rules cfg
is "status --rules cfg" 'j["full_sync_due"]' false
hash=$(field 'j["rules_hash"]')
for spelling in ./cfg/ "$work/d/cfg" "$work/d/cfg/" "$work/d/./cfg" link link/ abslink cfg/sync.rules \
                "$work/d/link/sync.rules"; do
  expect "status --rules $spelling" 0 status --json --rules "$spelling"
  is "status --rules $spelling" 'j["full_sync_due"]' false
  is "status --rules $spelling" 'j["full_sync_reason"]' null
  is "status --rules $spelling" 'j["rules_hash"]' "$hash"
  expect "cycle --rules $spelling" 0 cycle --delta --rules "$spelling"
  [ "$(last_runs 5)" = "delta-import:entra delta-import:ad delta-sync: export:entra export:ad" ] ||
    bad "cycle --delta --rules $spelling ran $(last_runs 5) (want a delta cycle)"
done
# The hash still follows the content: a changed flow is a full sync due.
sed -i 's/flow \[displayName\] -> displayName$/flow Trim([displayName]) -> displayName/' "$work/d/cfg/sync.rules"
expect status-changed 0 status --json --rules "$work/d/link"
is "status after a rule change" 'j["full_sync_due"]' true
is "status after a rule change" 'j["full_sync_reason"].startswith("the rule set changed")' true
expect cycle-changed 0 cycle --delta --rules cfg
[ "$(last_runs 3 | cut -d" " -f1)" = "full-sync:" ] || bad "the changed rule set's cycle ran $(last_runs 3)"
# Comments and formatting do not count (the hash is of the meaning).
sed -i -e '1i # a comment' -e 's/^  precedence 50$/  precedence   50/' "$work/d/cfg/sync.rules"
expect status-comment 0 status --json --rules ./cfg
is "status after a comment" 'j["full_sync_due"]' false

# ---- overrides: mvsync schedule override|show|clear ------------------------------------------------
fixture
ln -s cfg "$work/d/rules"     # the default --rules
expect ovr-initial 0 cycle --initial
expect show-none 0 schedule show
grep -q "^no overrides" "$work/out" || bad "schedule show with no override: $(cat "$work/out")"
expect show-none-json 0 schedule show --json
is "show --json, none" 'j' '{"overrides": []}'
t0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expect ovr-entra 0 schedule override entra --full-import
t1=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expect show-entra 0 schedule show --json
is "show --json" '[(o["connector"], o["full_import"], o["full_sync"]) for o in j["overrides"]]' '[["entra", true, false]]'
is "show --json since" "\"$t0\" <= j[\"overrides\"][0][\"since\"] <= \"$t1\"" true
expect show-entra-text 0 schedule show
grep -qx "entra: full import (since 20[0-9-]*T[0-9:]*Z)" "$work/out" || bad "schedule show: $(cat "$work/out")"
# status gives it as the reason; the other connector and the sync are not due.
expect status-ovr 0 status --json
is "status, entra overridden" '[(c["name"], c["full_import_due"]) for c in j["connectors"]]' '[["entra", true], ["ad", false]]'
is "status, entra's reason" 'j["connectors"][0]["due_reason"].startswith("a full import asked for by `mvsync schedule override`")' true
is "status, sync" 'j["full_sync_due"]' false
# A lone run profile is no cycle: it neither acts on the override nor consumes it (Connect's
# override is the scheduler's); a dry-run cycle commits nothing, so it keeps it too.
expect lone-import 0 import entra --delta
[ "$(last_runs 1)" = "delta-import:entra" ] || bad "a lone delta import ran $(last_runs 1)"
expect dry-cycle 0 cycle --delta --dry-run
grep -q "entra: a full import asked for by \`mvsync schedule override\`" "$work/err" ||
  bad "the dry-run cycle does not say why it runs a full import: $(cat "$work/err")"
expect show-after-dry 0 schedule show --json
is "override after a lone import and a dry run" '[o["connector"] for o in j["overrides"]]' '["entra"]'
# A second override adds its steps; another connector's asks for the (one) full sync.
expect ovr-ad 0 schedule override ad --full-sync
expect ovr-entra-sync 0 schedule override entra --full-sync
expect show-two 0 schedule show --json
is "two overrides" '[(o["connector"], o["full_import"], o["full_sync"]) for o in j["overrides"]]' \
  '[["ad", false, true], ["entra", true, true]]'
expect status-two 0 status --json
is "status, full sync asked for" 'j["full_sync_due"]' true
is "status, full sync reason" 'j["full_sync_reason"].startswith("a full sync asked for by `mvsync schedule override ad`")' true
is "status, ad's import" 'j["connectors"][1]["full_import_due"]' false
# The next cycle runs them, and having succeeded, consumes them.
expect ovr-cycle 0 cycle --delta
[ "$(last_runs 5)" = "full-import:entra delta-import:ad full-sync: export:entra export:ad" ] ||
  bad "the cycle after the overrides ran $(last_runs 5)"
expect show-consumed 0 schedule show --json
is "overrides after the cycle" 'j' '{"overrides": []}'
expect status-consumed 0 status --json
is "status after the cycle" '[j["full_sync_due"]] + [c["full_import_due"] for c in j["connectors"]]' '[false, false, false]'
expect ovr-next 0 cycle --delta
[ "$(last_runs 5)" = "delta-import:entra delta-import:ad delta-sync: export:entra export:ad" ] ||
  bad "the cycle after the consumed overrides ran $(last_runs 5)"
# A cycle that fails keeps the override for the next one.
expect ovr-again 0 schedule override entra --full-import
cp "$work/d/cfg/ad.ldif.changes" "$work/ad-log"
printf 'this is no LDIF\n' >>"$work/d/cfg/ad.ldif.changes"
(cd "$work/d" && "$mvsync" cycle --delta) >"$work/out" 2>&1 && bad "a cycle over a broken AD log succeeded: $(cat "$work/out")"
expect show-after-failure 0 schedule show --json
is "override after a failed cycle" '[o["connector"] for o in j["overrides"]]' '["entra"]'
cp "$work/ad-log" "$work/d/cfg/ad.ldif.changes"
expect ovr-recovered 0 cycle --delta
[ "$(last_runs 5 | cut -d' ' -f1)" = "full-import:entra" ] || bad "the cycle after the failure ran $(last_runs 5)"
expect show-after-recovery 0 schedule show --json
is "override after the recovered cycle" 'j' '{"overrides": []}'
# clear takes an override back before any cycle.
expect ovr-clear-set 0 schedule override ad --full-import
expect ovr-clear 0 schedule clear ad
expect show-cleared 0 schedule show --json
is "overrides after clear" 'j' '{"overrides": []}'
expect status-cleared 0 status --json
is "status after clear" 'j["connectors"][1]["full_import_due"]' false
# Refused: a connector the rule set does not name, clearing what is not there, bad usage.
expect ovr-unknown 1 schedule override nosuch --full-import
grep -q 'no connector "nosuch" in the rule set' "$work/err" || bad "override of an unknown connector: $(cat "$work/err")"
expect clear-none 1 schedule clear entra
grep -q 'connector "entra" has no override' "$work/err" || bad "clear without an override: $(cat "$work/err")"
expect ovr-no-step 2 schedule override entra
expect show-arg 2 schedule show entra
expect clear-step 2 schedule clear entra --full-sync
expect bad-wait 2 schedule override entra --full-import --wait=soon
expect bad-action 2 schedule set entra --full-import
expect bad-option 2 schedule show --full
expect help 0 schedule --help
grep -q "^usage: mvsync schedule override CONNECTOR" "$work/out" || bad "schedule --help: $(cat "$work/out")"
# While a run holds the store an override waits or says it is busy (exit 6); show answers.
(exec 9>>"$work/d/mvsync.db.lock" && flock -x 9 && exec sleep 60) & holder=$!
sleep 0.3
expect ovr-busy 6 schedule override entra --full-import
grep -q "a run is already in progress" "$work/err" || bad "the busy override's message: $(cat "$work/err")"
s0=$(date +%s%3N)
expect ovr-busy-wait 6 schedule override entra --full-import --wait=1
[ $(( $(date +%s%3N) - s0 )) -ge 900 ] || bad "--wait=1 did not wait"
expect show-busy 0 schedule show --json
is "show while a run holds the store" 'j' '{"overrides": []}'
kill "$holder"; wait "$holder" 2>/dev/null
expect ovr-after-busy 0 schedule override entra --full-import --wait=5

# ---- a scheduler setting that is no number in range is refused where it is written -------------
fixture
expect rules-ok 0 rules check cfg
sed -i 's/^  path "entra.json"$/  path "entra.json"\n  delta-max-age "7d"/' "$work/d/cfg/sync.rules"
expect bad-max-age-check 1 rules check cfg
grep -q "^cfg/sync.rules:3:3: error: setting 'delta-max-age' of connector \"entra\" must be a number of days" "$work/err" ||
  bad "rules check of delta-max-age \"7d\": $(cat "$work/err")"
# Every command that loads the rule set refuses it the same way, before touching the store.
expect bad-max-age-status 1 status --rules cfg
grep -q "^cfg/sync.rules:3:3: error: setting 'delta-max-age'" "$work/err" || bad "status with a bad delta-max-age: $(cat "$work/err")"
expect bad-max-age-cycle 1 cycle --delta --rules cfg
grep -q "^cfg/sync.rules:3:3: error: setting 'delta-max-age'" "$work/err" || bad "cycle with a bad delta-max-age: $(cat "$work/err")"
[ -z "$(last_runs 1)" ] || bad "a cycle with a bad delta-max-age ran: $(last_runs 5)"

exit $((fails > 0))
