#!/usr/bin/env bash
# The store's rules as a user meets them (docs/safety.md "Store lock and hygiene", "Run
# deadline"; issue 10 items 4-6, issue 11 items 8 and 11), against the file connector:
#  - hygiene: only `init` creates a store (missing, empty and foreign files are refused and
#    left alone), the store and its -wal/-shm are 0600 whatever the umask;
#  - one writer: a second run exits 6 at once naming the holder, readers are never blocked,
#    --wait waits, a kill -9 of the holder frees the lock;
#  - outcomes: some exports failing exits 7, all of them 8 (runs shows the status);
#  - the run deadline: --timeout stops the run with exit 9 and leaves the store as it was;
#    a run blocked inside a connector is ended by the watchdog.
# A run is held inside the connector by holding the file connector's change-log lock (the
# one a real concurrent exporter would hold) with flock(1).
# Usage: store.sh PATH/TO/mvsync
set -u
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
export MVSYNC_RULES=rules.rules; unset MVSYNC_STORE
held=
cleanup() { [ -n "$held" ] && kill "$held" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
ms() { date +%s%3N; }
mode() { stat -c %a "$1"; }

# expect NAME WANT_RC WANT_STDERR_SUBSTRING ARGS...: run mvsync in $work/d ($took: its ms).
expect() {
  local name=$1 want_rc=$2 want_err=$3 rc t0; shift 3
  t0=$(ms)
  (cd "$work/d" && "$mvsync" "$@") >"$work/out" 2>"$work/err"; rc=$?
  took=$(( $(ms) - t0 ))
  if [ "$rc" != "$want_rc" ] || { [ -n "$want_err" ] && ! grep -qF -- "$want_err" "$work/err"; }; then
    bad "$name: rc=$rc (want $want_rc), stderr: $(head -c 600 "$work/err") (want *$want_err*)"
  fi
}

# A directory: Entra users (file connector, entra shape) provisioned to AD by display name.
# $1: which users' display names start with a comma, so their DN is no DN and the
# directory refuses the add (the others are written).
fixture() {
  rm -rf "$work/d" && mkdir "$work/d"
  cat >"$work/d/rules.rules" <<'R'
connector "ad" type file {
  shape "ad"
  path "ad.ldif"
  changes "ad.ldif.changes"
  attribute dn string
  attribute displayName string
  attribute employeeID string
}
connector "entra" type file {
  shape "entra"
  path "entra.json"
  changes "entra.json.changes"
  attribute displayName string
  attribute employeeId string
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
  join {
    employeeId = employeeId
  }
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
    for i in 1 2 3; do
      case " ${1-} " in *" $i "*) name=",User $i" ;; *) name="User $i" ;; esac
      printf '  {"id": "10000000-0000-0000-0000-00000000100%d", "displayName": "%s", "employeeId": "E%d"}%s\n' \
        "$i" "$name" "$i" "$([ $i = 3 ] || echo ,)"
    done
    echo ']}'
  } >"$work/d/entra.json"
  : >"$work/d/entra.json.changes"
  : >"$work/d/ad.ldif.changes"
  : >"$work/d/ad.ldif"
  (cd "$work/d" && "$mvsync" init >/dev/null) || bad "init of the fixture"
}
. "$(dirname "$0")/writer_lock.sh"

# ---- hygiene: only init creates a store ----------------------------------------------------
fixture
expect missing-pending 3 "typo.db: no store here" pending --store typo.db
[ -e "$work/d/typo.db" ] && bad "pending --store typo.db created typo.db"
for cmd in "runs" "dump --json" "staging" "staging on" "show cs 1" "cycle" "export ad"; do
  # shellcheck disable=SC2086
  expect "missing-$cmd" 3 "missing.db: no store here" $cmd --store missing.db
done
[ -e "$work/d/missing.db" ] && bad "a command other than init created missing.db"
: >"$work/d/empty.db"
expect empty-runs 3 "empty.db: the file is empty (0 bytes)" runs --store empty.db
expect empty-cycle 3 "empty.db: the file is empty (0 bytes)" cycle --store empty.db
[ -s "$work/d/empty.db" ] && bad "a 0-byte store was initialised by a command other than init"
sqlite3 "$work/d/other.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
before=$(sha256sum <"$work/d/other.db")
expect foreign-db 3 "other.db: not an mvsync store" pending --store other.db
[ "$(sha256sum <"$work/d/other.db")" = "$before" ] || bad "a foreign database was changed"
expect init-dry-run 2 "takes no --dry-run" init --dry-run --store dry.db
[ -e "$work/d/dry.db" ] && bad "init --dry-run created the store"
# 0600 whatever the umask; init may re-initialise an empty file and tightens an old store.
(cd "$work/d" && umask 000 && "$mvsync" init --store loose.db >/dev/null) || bad "init under umask 000"
[ "$(mode "$work/d/loose.db")" = 600 ] || bad "store created $(mode "$work/d/loose.db") under umask 000"
expect init-empty 0 "" init --store empty.db
[ "$(mode "$work/d/empty.db")" = 600 ] && [ -s "$work/d/empty.db" ] || bad "init of a 0-byte file"
chmod 644 "$work/d/loose.db"
expect init-tightens 0 "" init --store loose.db
[ "$(mode "$work/d/loose.db")" = 600 ] || bad "init left an old store $(mode "$work/d/loose.db")"

# ---- an older store migrates: schema 5 kept the pending import in cs_object ---------------
# Imported, synced, imported again (User 2 renamed: an update; User 3 gone: a delete), then
# put back into schema 5's layout.  Opening it moves the pending imports to cs_pending
# (migration 6): the dump, which shows every object's import state, is what it was, and a
# delta sync takes both changes.
fixture
expect v5-import 0 "" import entra --full
expect v5-sync 0 "" sync --delta
sed -i 's/"User 2"/"User Two"/; s/"User 2"/"User Two"/' "$work/d/entra.json"
python3 - "$work/d/entra.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["users"] = [u for u in j["users"] if u["employeeId"] != "E3"]
json.dump(j, open(sys.argv[1], "w"))
PY
expect v5-reimport 0 "" import entra --full
(cd "$work/d" && "$mvsync" dump --json) >"$work/v6.json" || bad "dump of the schema 6 store"
sqlite3 "$work/d/mvsync.db" <<'SQL' || bad "cannot put the store back into schema 5"
ALTER TABLE cs_object ADD COLUMN import_state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cs_object ADD COLUMN renamed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cs_object ADD COLUMN changed_attrs INTEGER NOT NULL DEFAULT 0;
UPDATE cs_object SET import_state = p.import_state, renamed = p.renamed,
  changed_attrs = p.changed_attrs FROM cs_pending p WHERE p.cs_id = cs_object.id;
CREATE INDEX cs_object_pending ON cs_object(import_state) WHERE import_state <> 0;
DROP TABLE cs_pending;
PRAGMA user_version = 5;
SQL
(cd "$work/d" && "$mvsync" dump --json) >"$work/v5.json" || bad "the schema 5 store does not open"
[ "$(sqlite3 "$work/d/mvsync.db" 'PRAGMA user_version')" -ge 6 ] || bad "the schema 5 store was not migrated"
cmp -s "$work/v6.json" "$work/v5.json" || bad "migration 6 changed the store's objects: $(diff "$work/v6.json" "$work/v5.json" | head -20)"
expect v5-pending 0 "" search cs entra pending-import --json
names() { python3 -c 'import json,sys; print(sorted(r["attributes"][sys.argv[2]] for r in json.load(open(sys.argv[1]))))' "$work/out" "$1"; }
[ "$(names employeeId)" = "['E2', 'E3']" ] || bad "pending imports after migration: $(cat "$work/out")"
expect v5-delta-sync 0 "" sync --delta
expect v5-metaverse 0 "" search mv --json
[ "$(names displayName)" = "['User 1', 'User Two']" ] || bad "the metaverse after the migrated store's sync: $(cat "$work/out")"
expect v5-nothing-pending 0 "" search cs entra pending-import --json
[ "$(cat "$work/out")" = "[]" ] || bad "a pending import left after the sync: $(cat "$work/out")"

# ---- one writer ------------------------------------------------------------------------------
fixture
hold
(cd "$work/d" && umask 000 && exec "$mvsync" cycle --initial >"$work/c1.out" 2>&1) & c1=$!
wait_lock "$c1"
# "At once" and "not blocked": well under SQLite's 5 s busy wait, and the holder waits
# for 10 minutes.
quick() { [ "$took" -lt 4000 ] || bad "$1 took $took ms: it waited"; }
expect second-run 6 "mvsync.db: a run is already in progress (pid $c1, started " cycle
quick second-run
expect second-export 6 "a run is already in progress (pid $c1" export ad
quick second-export
expect second-dry-run 6 "a run is already in progress (pid $c1" cycle --dry-run
quick second-dry-run
expect staging-on 6 "a run is already in progress (pid $c1" staging on
quick staging-on
for cmd in "runs" "runs --json" "pending" "pending --json" "dump --json" "staging"; do
  # shellcheck disable=SC2086
  expect "reader-$cmd" 0 "" $cmd
  quick "reader-$cmd"
done
expect reader-show 1 "no connector-space object 999" show cs 999
quick reader-show
for f in mvsync.db mvsync.db-wal mvsync.db-shm mvsync.db.lock; do
  [ -e "$work/d/$f" ] && [ "$(mode "$work/d/$f")" != 600 ] && bad "$f is $(mode "$work/d/$f") during a run (umask 000)"
done
[ -e "$work/d/mvsync.db-wal" ] || bad "no -wal file during the run (mode not checked)"
t0=$(ms)
expect wait-bounded 6 "gave up waiting" import entra --wait=1
el=$(( $(ms) - t0 ))
[ "$el" -ge 900 ] && [ "$el" -lt 4000 ] || bad "--wait=1 gave up after $el ms"
(cd "$work/d" && exec "$mvsync" import entra --wait >"$work/w.out" 2>&1) & w=$!
sleep 1
kill -0 "$w" 2>/dev/null || bad "--wait did not wait: $(cat "$work/w.out")"
release
wait "$c1"; rc=$?
[ "$rc" = 0 ] || bad "the holder's cycle exited $rc: $(tail -5 "$work/c1.out")"
wait "$w"; rc=$?
[ "$rc" = 0 ] || bad "the waiting import exited $rc after the lock was free: $(cat "$work/w.out")"
grep -q "delta import entra: success" "$work/w.out" || bad "the waiter did not run: $(cat "$work/w.out")"
# kill -9 of the holder leaves no stale lock.
hold
(cd "$work/d" && exec "$mvsync" cycle --delta >/dev/null 2>&1) & c2=$!
wait_lock "$c2"
kill -KILL "$c2"; wait "$c2" 2>/dev/null
release
expect after-kill 0 "" cycle --delta

# ---- run outcomes: some exports failed (7), all failed (8) ---------------------------------
fixture 2
expect partial 7 "completed with errors" cycle --initial
grep -q "^initial cycle: completed-errors (.*1 errors" "$work/out" || bad "partial summary: $(cat "$work/out")"
grep -q "export add CN=,User 2,OU=Cloud,DC=contoso,DC=com failed" "$work/err" ||
  bad "the failed export is not named: $(cat "$work/err")"
grep -c "^dn: CN=User [13]," "$work/d/ad.ldif.changes" | grep -qx 2 || bad "the other two adds were not written"
# The refused export is an error line, printed once (docs/cli.md#logging); in the journal
# (JOURNAL_STREAM is stderr's device:inode) with sd-daemon(3)'s error prefix <3>.
[ "$(grep -c "export add CN=,User 2,OU=Cloud" "$work/err")" = 1 ] || bad "the failed export is not printed once: $(cat "$work/err")"
grep -q "^error: ad: export add CN=,User 2," "$work/err" || bad "the failed export is not an error line: $(cat "$work/err")"
fixture 2
: >"$work/err"
JOURNAL_STREAM=$(stat -c %d:%i "$work/err") expect partial-journal 7 "" cycle --initial
grep -q "^<3>error: ad: export add CN=,User 2," "$work/err" || bad "the failed export is not <3> in the journal: $(cat "$work/err")"
expect partial-runs 0 "" runs
grep -q "export .* ad .*completed-errors" "$work/out" || bad "runs lacks the export's status: $(cat "$work/out")"
# Run again, the export attempts only the failed add: every attempt failed.
expect failed-export-again 8 "every export failed, 1 errors" export ad
fixture "1 2 3"
expect all-failed 8 "every export failed" cycle --initial
grep -q "^initial cycle: all-exports-failed (.* 3 errors" "$work/out" || bad "all-failed summary: $(cat "$work/out")"
expect all-failed-runs 0 "" runs --json
grep -q '"profile": "export", "connector": "ad".*"status": "all-exports-failed"' "$work/out" ||
  bad "runs --json lacks all-exports-failed: $(cat "$work/out")"

# ---- the run deadline -------------------------------------------------------------------------
fixture
expect first-cycle 0 "" cycle --initial
(cd "$work/d" && "$mvsync" dump --json) >"$work/before.json"
echo 'dn: CN=New,OU=Cloud,DC=contoso,DC=com
objectClass: user
objectGUID: 00000000-0000-0000-0000-000000000299
displayName: New

' >>"$work/d/ad.ldif"
hold
(cd "$work/d" && exec "$mvsync" import ad --full --timeout 3s >"$work/t.out" 2>&1) & t=$!
sleep 4.5
release
wait "$t"; rc=$?
[ "$rc" = 9 ] || bad "a run past its --timeout exited $rc: $(cat "$work/t.out")"
grep -q "deadline (--timeout 3s) passed while full-import ad" "$work/t.out" || bad "timeout message: $(cat "$work/t.out")"
(cd "$work/d" && "$mvsync" dump --json) >"$work/after.json"
cmp -s "$work/before.json" "$work/after.json" || bad "the timed-out import changed the store"
expect timeout-runs 0 "" runs
grep -q "full-import .* ad .*timed-out" "$work/out" || bad "runs lacks timed-out: $(cat "$work/out")"
# Blocked inside the connector past the deadline: the watchdog ends the process.
hold
t0=$(ms)
expect watchdog 9 "still blocked in full-import ad" import ad --full --timeout 1s
el=$(( $(ms) - t0 ))
[ "$el" -ge 1900 ] && [ "$el" -lt 6000 ] || bad "watchdog ended the run after $el ms (want ~2 s)"
release
(cd "$work/d" && "$mvsync" dump --json) >"$work/after.json" || bad "the store does not open after the watchdog"
cmp -s "$work/before.json" "$work/after.json" || bad "the watchdog's stop changed the store"
expect after-watchdog 0 "" import ad --full
expect bad-timeout 2 "bad duration" cycle --timeout soon
expect reader-timeout 2 "takes no --timeout" pending --timeout 5s
expect reader-wait 2 "takes no --wait" runs --wait

[ "$fails" = 0 ] && echo "store: ok" || { echo "store: $fails failures"; exit 1; }
