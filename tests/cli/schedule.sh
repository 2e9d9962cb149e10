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
