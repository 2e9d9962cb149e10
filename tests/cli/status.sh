#!/usr/bin/env bash
# `mvsync status` and the metrics file (docs/monitoring.md; issue 14 items 2, 4 and 6), against
# the file connector: Entra users (entra shape) provisioned to AD (ad shape).  After a
# successful cycle, a cycle with an export error and a deletion-threshold stop, `status --json`
# and the metrics file are checked field by field (tests/cli/status_check.py parses the
# metrics with its own Prometheus text-format parser) against counts this script's inputs
# give: USERS users, BAD of them with a display name no DN can hold, DELETED deleted.  The exit
# code says healthy (0) / degraded (7) / failed (the failure's code).  Status answers during a
# run (a cycle held inside the AD connector by the change-log lock).  The scheduler rules: a new
# imported attribute or a changed connector block makes the next import a full one, an old
# watermark too (delta-max-age), --full-import / --full-sync force them.
# Usage: status.sh PATH/TO/mvsync
set -u
# The interpreter itself, not a version manager's shim: it runs some 40 times.
py=$(python3 -c 'import sys; print(sys.executable)')
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
check=$(cd "$(dirname "$0")" && pwd)/status_check.py
work=$(mktemp -d)
export MVSYNC_RULES=rules.rules; unset MVSYNC_STORE MVSYNC_METRICS
held=
cleanup() { [ -n "$held" ] && kill "$held" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
ms() { date +%s%3N; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
# The AD connector's name has a quote and a backslash: label values must be escaped.
AD='ad "corp" \east'
USERS=5

# expect NAME WANT_RC ARGS...: run mvsync in $work/d ($took: its ms; output in $work/out, err).
expect() {
  local name=$1 want_rc=$2 rc t0; shift 2
  t0=$(ms)
  (cd "$work/d" && "$mvsync" "$@") >"$work/out" 2>"$work/err"; rc=$?
  took=$(( $(ms) - t0 ))
  [ "$rc" = "$want_rc" ] || bad "$name: rc=$rc (want $want_rc): $(head -c 600 "$work/err") $(head -c 600 "$work/out")"
}

# status_is NAME WANT_RC EXPECT_JSON: status --json (and its metrics) checked field by field.
status_is() {
  local name=$1 want_rc=$2
  printf '%s\n' "$3" >"$work/expect.json"
  rm -f "$work/d/status.prom"
  expect "$name status" "$want_rc" status --json --metrics status.prom
  cp "$work/out" "$work/status.json"
  (cd "$work/d" && "$mvsync" runs --json) >"$work/runs.json"
  "$py" "$check" "$work/status.json" "$work/d/status.prom" "$work/expect.json" "$work/runs.json" ||
    bad "$name: status or metrics differ (above); status: $(head -c 3000 "$work/status.json")"
}

# metrics_are NAME FILE EXPECT_JSON: a run's own metrics file.
metrics_are() {
  printf '%s\n' "$3" >"$work/expect.json"
  [ -s "$2" ] || { bad "$1: no metrics file $2"; return; }
  "$py" "$check" - "$2" "$work/expect.json" || bad "$1: metrics differ (above)"
}

# fixture BAD EXTRA: USERS Entra users, those listed in BAD with a name that is no DN (the
# directory refuses their add); EXTRA: more lines for the entra connector block.
fixture() {
  rm -rf "$work/d" && mkdir "$work/d"
  cat >"$work/d/rules.rules" <<R
connector "entra" type file {
  path "entra.json"
  changes "entra.json.changes"
  attribute displayName string
  attribute employeeId string
  ${2-}
}
connector "ad \"corp\" \\\\east" type file {
  shape "ad"
  path "ad.ldif"
  changes "ad.ldif.changes"
  deletion-threshold 2
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
  connector "ad \"corp\" \\\\east"
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
      case " ${1-} " in *" $i "*) name=",User $i" ;; *) name="User $i" ;; esac
      printf '  {"id": "10000000-0000-0000-0000-0000000010%02d", "displayName": "%s", "employeeId": "E%d"}%s\n' \
        "$i" "$name" "$i" "$([ "$i" = "$USERS" ] || echo ,)"
    done
    echo ']}'
  } >"$work/d/entra.json"
  : >"$work/d/entra.json.changes"
  : >"$work/d/ad.ldif.changes"
  : >"$work/d/ad.ldif"
  (cd "$work/d" && "$mvsync" init >/dev/null) || bad "init of the fixture"
}
. "$(dirname "$0")/writer_lock.sh"
# A JSON string of $1 (backslash and quote escaped: no control characters here).
jstr() { local v=${1//\\/\\\\}; v=${v//\"/\\\"}; printf '"%s"' "$v"; }
# The AD connector's name as a JSON string and inside a status path.
ADJ=$(jstr "$AD")
ADE=${ADJ:1:${#ADJ}-2}   # inside a JSON string
ADP="connectors[$AD]"
adp() { jstr "$ADP$1"; }

# ---- a store no cycle has run on: degraded, everything due ------------------------------------
fixture
status_is fresh 7 "{\"status\": {\"health\": \"degraded\", \"reasons\": [\"no cycle has completed yet\"],
  \"staging\": false, \"rules_hash\": \"*\", \"synced_rules_hash\": null, \"full_sync_due\": true,
  \"full_sync_reason\": \"never synced\", \"last_success_at\": null, \"last_sync\": null,
  \"metaverse_objects\": 0,
  \"connectors[entra].full_import_due\": true,
  \"connectors[entra].due_reason\": \"no full import recorded for this connector\",
  \"connectors[entra].last_import\": null, \"connectors[entra].objects\": 0,
  $(adp .full_import_due): true, $(adp .last_export): null},
  \"metrics\": [[\"mvsync_health\", {}, 1], [\"mvsync_last_success_timestamp_seconds\", {}, 0],
    [\"mvsync_full_sync_due\", {}, 1], [\"mvsync_full_import_due\", {\"connector\": $ADJ}, 1]],
  \"absent\": [[\"mvsync_run_duration_seconds\", {\"step\": \"sync\"}]]}"

# ---- a successful cycle ----------------------------------------------------------------------
t0=$(now)
expect initial 0 cycle --initial --metrics cycle.prom
t1=$(now)
success="{\"status\": {\"health\": \"healthy\", \"reasons\": [], \"staging\": false,
  \"full_sync_due\": false, \"full_sync_reason\": null, \"metaverse_objects\": $USERS,
  \"last_sync.profile\": \"full-sync\", \"last_sync.status\": \"success\", \"last_sync.connector\": null,
  \"last_sync.errors\": 0,
  \"connectors[entra].type\": \"file\",
  \"connectors[entra].last_import.profile\": \"full-import\",
  \"connectors[entra].last_import.status\": \"success\",
  \"connectors[entra].last_import.adds\": $USERS, \"connectors[entra].last_import.errors\": 0,
  \"connectors[entra].last_export.adds\": 0, \"connectors[entra].last_export.status\": \"success\",
  \"connectors[entra].objects\": $USERS, \"connectors[entra].full_import_due\": false,
  \"connectors[entra].due_reason\": null, \"connectors[entra].threshold_stop\": false,
  \"connectors[entra].pending\": {\"adds\": 0, \"updates\": 0, \"deletes\": 0, \"renames\": 0, \"errors\": 0},
  $(adp .type): \"file\", $(adp .last_import.profile): \"full-import\", $(adp .last_import.adds): 0,
  $(adp .last_export.profile): \"export\", $(adp .last_export.status): \"success\",
  $(adp .last_export.adds): $USERS, $(adp .last_export.errors): 0, $(adp .objects): $USERS,
  $(adp .pending): {\"adds\": 0, \"updates\": 0, \"deletes\": 0, \"renames\": 0, \"errors\": 0},
  $(adp .threshold_stop): false, $(adp .full_import_due): false},
  \"between\": {\"last_success_at\": [\"$t0\", \"$t1\"], \"last_sync.started\": [\"$t0\", \"$t1\"]},
  \"metrics\": [[\"mvsync_health\", {}, 0], [\"mvsync_staging\", {}, 0], [\"mvsync_full_sync_due\", {}, 0],
    [\"mvsync_metaverse_objects\", {}, $USERS],
    [\"mvsync_connector_space_objects\", {\"connector\": \"entra\"}, $USERS],
    [\"mvsync_connector_space_objects\", {\"connector\": $ADJ}, $USERS],
    [\"mvsync_run_changes\", {\"connector\": \"entra\", \"step\": \"import\", \"change\": \"add\"}, $USERS],
    [\"mvsync_run_changes\", {\"connector\": $ADJ, \"step\": \"export\", \"change\": \"add\"}, $USERS],
    [\"mvsync_run_changes\", {\"connector\": $ADJ, \"step\": \"export\", \"change\": \"delete\"}, 0],
    [\"mvsync_run_errors\", {\"connector\": $ADJ, \"step\": \"export\"}, 0],
    [\"mvsync_run_errors\", {\"step\": \"sync\"}, 0],
    [\"mvsync_run_status\", {\"connector\": $ADJ, \"step\": \"export\", \"status\": \"success\"}, 1],
    [\"mvsync_run_status\", {\"step\": \"sync\", \"status\": \"success\"}, 1],
    [\"mvsync_run_duration_seconds\", {\"step\": \"sync\"}, \"*\"],
    [\"mvsync_pending_exports\", {\"connector\": $ADJ, \"kind\": \"add\"}, 0],
    [\"mvsync_pending_exports\", {\"connector\": $ADJ, \"kind\": \"delete\"}, 0],
    [\"mvsync_pending_export_errors\", {\"connector\": $ADJ}, 0],
    [\"mvsync_threshold_stop\", {\"connector\": $ADJ}, 0],
    [\"mvsync_full_import_due\", {\"connector\": \"entra\"}, 0]],
  \"metric_between\": [[\"mvsync_last_success_timestamp_seconds\", {}, $(date -d "$t0" +%s), $(date -d "$t1" +%s)],
    [\"mvsync_run_duration_seconds\", {\"connector\": \"entra\", \"step\": \"import\"}, 0, 60]]}"
status_is success 0 "$success"
metrics_are "initial cycle's --metrics" "$work/d/cycle.prom" "$success"
[ "$(stat -c %a "$work/d/cycle.prom")" = 644 ] || bad "metrics file mode $(stat -c %a "$work/d/cycle.prom") (want 644: the collector reads it)"
ls "$work/d" | grep -q 'tmp-' && bad "a temporary metrics file was left: $(ls "$work/d")"
# The metrics docs/monitoring.md lists and its sample alerts use are the ones written.
doc=$(dirname "$check")/../../docs/monitoring.md
names=$( (awk '/^```yaml$/,/^```$/' "$doc"; grep '^| `mvsync_' "$doc") | grep -o 'mvsync_[a-z_]*' | sort -u)
[ "$(wc -l <<<"$names")" -ge 15 ] || bad "docs/monitoring.md names only $(wc -l <<<"$names") metrics"
for m in $names; do
  grep -q "^# TYPE $m gauge$" "$work/d/cycle.prom" || bad "docs/monitoring.md names $m, which the metrics file lacks"
done
for m in $(grep '^# TYPE ' "$work/d/cycle.prom" | cut -d' ' -f3); do
  grep -qx "$m" <<<"$names" || bad "metric $m is not in docs/monitoring.md"
done
# Text form: the same facts for people.
expect status-text 0 status
grep -q "^health: healthy$" "$work/out" && grep -q "^connector entra (file): $USERS objects$" "$work/out" &&
  grep -q "^  full import due: no$" "$work/out" || bad "status text: $(cat "$work/out")"

# ---- status answers during a run ----------------------------------------------------------------
echo '{"value": [{"id": "10000000-0000-0000-0000-000000001001", "displayName": "User 1b"}]}' >>"$work/d/entra.json.changes"
hold
(cd "$work/d" && exec "$mvsync" cycle --delta >"$work/c1.out" 2>&1) & c1=$!
wait_lock "$c1"
# Until the cycle has committed entra's import and is held in AD's.
for i in $(seq 300); do
  (cd "$work/d" && "$mvsync" runs) | grep -q "delta-import .*entra" && break
  sleep 0.1
done
# Answered while the run still holds the store (it is held until release): never blocked.
# The bound only catches a wait on SQLite's 5 s busy timeout; the machine may be loaded.
expect during-run 0 status --json
kill -0 "$c1" 2>/dev/null || bad "the held cycle ended before status answered: $(cat "$work/c1.out")"
[ "$took" -lt 4500 ] || bad "status took $took ms during a run: it waited"
cp "$work/out" "$work/status.json"
printf '{"status": {"health": "healthy", "connectors[entra].last_import.profile": "delta-import", "last_sync.profile": "full-sync"}}\n' >"$work/expect.json"
"$py" "$check" "$work/status.json" - "$work/expect.json" || bad "status during the run (above)"
expect during-run-runs 0 runs --json
[ "$took" -lt 4500 ] || bad "runs took $took ms during a run"
kill -0 "$c1" 2>/dev/null || bad "the held cycle ended before runs answered"
release
wait "$c1" || bad "the held cycle failed: $(cat "$work/c1.out")"

# ---- a cycle with an export error ---------------------------------------------------------------
fixture 2
t0=$(now)
expect partial 7 cycle --initial --metrics cycle.prom
t1=$(now)
partial="{\"status\": {\"health\": \"degraded\", \"full_sync_due\": false,
  \"reasons.0\": \"~export $ADE: completed-errors (run \", \"reasons.1\": \"$ADE: 1 pending exports failed when last sent\",
  $(adp .last_export.status): \"completed-errors\", $(adp .last_export.adds): $((USERS - 1)),
  $(adp .last_export.errors): 1, $(adp .objects): $USERS,
  $(adp .pending): {\"adds\": 1, \"updates\": 0, \"deletes\": 0, \"renames\": 0, \"errors\": 1},
  $(adp .threshold_stop): false, \"connectors[entra].last_import.adds\": $USERS},
  \"between\": {\"last_success_at\": [\"$t0\", \"$t1\"]},
  \"metrics\": [[\"mvsync_health\", {}, 1],
    [\"mvsync_run_errors\", {\"connector\": $ADJ, \"step\": \"export\"}, 1],
    [\"mvsync_run_changes\", {\"connector\": $ADJ, \"step\": \"export\", \"change\": \"add\"}, $((USERS - 1))],
    [\"mvsync_run_status\", {\"connector\": $ADJ, \"step\": \"export\", \"status\": \"completed-errors\"}, 1],
    [\"mvsync_pending_exports\", {\"connector\": $ADJ, \"kind\": \"add\"}, 1],
    [\"mvsync_pending_export_errors\", {\"connector\": $ADJ}, 1],
    [\"mvsync_threshold_stop\", {\"connector\": $ADJ}, 0]],
  \"absent\": [[\"mvsync_run_status\", {\"connector\": $ADJ, \"step\": \"export\", \"status\": \"success\"}]]}"
status_is partial 7 "$partial"
metrics_are "partial cycle's --metrics" "$work/d/cycle.prom" "$partial"

# ---- a deletion-threshold stop --------------------------------------------------------------------
fixture
expect before-stop 0 cycle --initial
(cd "$work/d" && "$mvsync" status --json) >"$work/before.json"
DELETED=3   # more than the AD connector's deletion-threshold 2
for i in $(seq "$DELETED"); do
  printf '{"value": [{"id": "10000000-0000-0000-0000-0000000010%02d", "@removed": {"reason": "deleted"}}]}\n' "$i"
done >>"$work/d/entra.json.changes"
expect stop 4 cycle --delta --metrics cycle.prom
last=$(grep -o '"last_success_at": "[^"]*"' "$work/before.json" | cut -d'"' -f4)
stop="{\"status\": {\"health\": \"failed\", \"last_success_at\": \"$last\",
  \"reasons.0\": \"~export $ADE: stopped-deletion-threshold (run \",
  \"metaverse_objects\": $((USERS - DELETED)),
  $(adp .last_export.status): \"stopped-deletion-threshold\", $(adp .last_export.deletes): 0,
  $(adp .threshold_stop): true, $(adp .objects): $USERS,
  $(adp .pending): {\"adds\": 0, \"updates\": 0, \"deletes\": $DELETED, \"renames\": 0, \"errors\": 0},
  \"connectors[entra].last_import.deletes\": $DELETED, \"connectors[entra].threshold_stop\": false},
  \"metrics\": [[\"mvsync_health\", {}, 2], [\"mvsync_threshold_stop\", {\"connector\": $ADJ}, 1],
    [\"mvsync_threshold_stop\", {\"connector\": \"entra\"}, 0],
    [\"mvsync_pending_exports\", {\"connector\": $ADJ, \"kind\": \"delete\"}, $DELETED],
    [\"mvsync_metaverse_objects\", {}, $((USERS - DELETED))],
    [\"mvsync_run_status\", {\"connector\": $ADJ, \"step\": \"export\", \"status\": \"stopped-deletion-threshold\"}, 1],
    [\"mvsync_last_success_timestamp_seconds\", {}, $(date -d "$last" +%s)]]}"
status_is threshold-stop 4 "$stop"
metrics_are "stopped cycle's --metrics" "$work/d/cycle.prom" "$stop"
expect allow 0 export "$AD" --allow-deletes
status_is after-allow 0 "{\"status\": {\"health\": \"healthy\", $(adp .threshold_stop): false,
  $(adp .pending.deletes): 0, $(adp .last_export.deletes): $DELETED}}"

# ---- scheduler rules ------------------------------------------------------------------------------
fixture "" "delta-max-age 7"
expect sched-initial 0 cycle --initial
# A new imported attribute: entra's next import is a full one (AD's is not), and the sync too.
sed -i 's/^  attribute employeeId string$/  attribute employeeId string\n  attribute department string/' "$work/d/rules.rules"
status_is new-attribute 0 "{\"status\": {\"full_sync_due\": true, \"full_sync_reason\": \"~the rule set changed since the last sync\",
  \"connectors[entra].full_import_due\": true,
  \"connectors[entra].due_reason\": \"imports attribute department, which its last full import did not read\",
  $(adp .full_import_due): false},
  \"metrics\": [[\"mvsync_full_import_due\", {\"connector\": \"entra\"}, 1],
    [\"mvsync_full_import_due\", {\"connector\": $ADJ}, 0], [\"mvsync_full_sync_due\", {}, 1]]}"
expect sched-delta 0 cycle --delta
grep -q "entra: imports attribute department, which its last full import did not read: running a full import" "$work/err" ||
  bad "the full import is not explained: $(cat "$work/err")"
status_is after-new-attribute 0 "{\"status\": {\"full_sync_due\": false,
  \"connectors[entra].last_import.profile\": \"full-import\", $(adp .last_import.profile): \"delta-import\",
  \"last_sync.profile\": \"full-sync\", \"connectors[entra].full_import_due\": false}}"
# A changed setting of the connector block; a safety setting changes nothing imported.
sed -i "s/^  deletion-threshold 2$/  deletion-threshold 3/" "$work/d/rules.rules"
status_is safety-setting 0 "{\"status\": {$(adp .full_import_due): false}}"
# How the directory is reached (here a page size, as an AD or Graph connector has): no full import.
sed -i 's/^  deletion-threshold 3$/  deletion-threshold 3\n  page-size 500/' "$work/d/rules.rules"
status_is connection-setting 0 "{\"status\": {$(adp .full_import_due): false}}"
# (the AD snapshot moved to another file)
cp "$work/d/ad.ldif" "$work/d/ad-2.ldif"
sed -i 's/^  path "ad.ldif"$/  path "ad-2.ldif"/' "$work/d/rules.rules"
status_is changed-setting 0 "{\"status\": {$(adp .full_import_due): true,
  $(adp .due_reason): \"its connector block (settings or attribute declarations) changed since its last full import\",
  \"connectors[entra].full_import_due\": false}}"
expect sched-setting 0 cycle --delta
status_is after-setting 0 "{\"status\": {$(adp .full_import_due): false, $(adp .last_import.profile): \"full-import\",
  \"connectors[entra].last_import.profile\": \"delta-import\"}}"
# A watermark older than the directory keeps changes (delta-max-age 7 on entra): 8 days.
old=$(date -u -d '8 days ago' +%Y-%m-%dT%H:%M:%SZ)
sqlite3 "$work/d/mvsync.db" "UPDATE meta SET value = '$old' WHERE key = 'watermark_at:entra'"
status_is old-watermark 0 "{\"status\": {\"connectors[entra].full_import_due\": true,
  \"connectors[entra].due_reason\": \"its delta watermark is 8 days old; the directory keeps changes for 7 days (delta-max-age)\"}}"
expect sched-old 0 cycle --delta
status_is after-old 0 "{\"status\": {\"connectors[entra].full_import_due\": false,
  \"connectors[entra].last_import.profile\": \"full-import\", \"last_sync.profile\": \"delta-sync\"}}"
# Forced, as Set-ADSyncSchedulerConnectorOverride.
expect forced 0 cycle --delta --full-import entra --full-sync
status_is after-forced 0 "{\"status\": {\"connectors[entra].last_import.profile\": \"full-import\",
  $(adp .last_import.profile): \"delta-import\", \"last_sync.profile\": \"full-sync\"}}"
expect forced-unknown 1 cycle --full-import nosuch
grep -q 'no connector "nosuch" in the rule set' "$work/err" || bad "unknown --full-import: $(cat "$work/err")"
expect status-no-full-sync 2 status --full-sync
expect status-no-args 2 status entra
expect runs-no-metrics 2 runs --metrics x.prom
expect metrics-no-value 2 cycle --metrics
# A metrics file that cannot be written: the run says so and exits 3.
expect metrics-unwritable 3 cycle --delta --metrics /nonexistent/dir/m.prom
grep -q "metrics /nonexistent/dir/m.prom: cannot create a temporary file beside it" "$work/err" ||
  bad "unwritable metrics: $(cat "$work/err")"
expect status-metrics-unwritable 3 status --metrics /nonexistent/dir/m.prom
grep -q "metrics /nonexistent/dir/m.prom: cannot create a temporary file beside it" "$work/err" ||
  bad "status, unwritable metrics: $(cat "$work/err")"
# $MVSYNC_METRICS: the timer's setting; runs write it, readers leave it alone.
(cd "$work/d" && MVSYNC_METRICS=$work/d/env.prom "$mvsync" cycle --delta >/dev/null 2>&1) || bad "cycle with MVSYNC_METRICS"
[ -s "$work/d/env.prom" ] || bad "\$MVSYNC_METRICS was not written"
rm -f "$work/d/env.prom"
(cd "$work/d" && MVSYNC_METRICS=$work/d/env.prom "$mvsync" runs >/dev/null 2>&1) || bad "runs with MVSYNC_METRICS"
[ -e "$work/d/env.prom" ] && bad "runs wrote \$MVSYNC_METRICS"

[ "$fails" = 0 ] && echo "status: ok" || { echo "status: $fails failures"; exit 1; }
