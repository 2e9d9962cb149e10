#!/bin/bash
# entra_lock — two concurrent cycles on one store against the Graph peer (issue 10 item 4:
# without a writer lock they created every group twice): one runs, the other exits 6 at
# once naming the holder; readers work during the run; --wait runs after it; the peer ends
# with exactly one group per HR team, none created twice.
# The first cycle is held inside its HR import (the file connector's change-log lock, held
# here with flock(1)) so that the second surely starts while it runs; then two cycles are
# started together with nothing held, as two overlapping cron jobs would be.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
N=40
python3 - "$WORK" "$N" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
groups = [{"id": "30000000-0000-0000-0000-%012d" % i, "displayName": "Team %02d" % i,
           "mailNickname": "team%02d" % i} for i in range(1, n + 1)]
json.dump({"groups": groups}, open(work + "/rules/hr.json", "w"), indent=1)
PY
: >"$WORK/rules/hr.json.changes"
cat >>"$WORK/rules/entra.rules" <<'R'

connector "hr" type file {
  shape "entra"
  path "hr.json"
  changes "hr.json.changes"
}

rule "In from HR - teams" {
  direction inbound
  connector "hr"
  source group -> team
  link provision
  precedence 60
  flow [displayName] -> displayName
  flow [mailNickname] -> mailNickname
}

rule "Out to Entra - teams" {
  direction outbound
  connector "entra"
  source team -> group
  link provision
  precedence 130
  flow [mailNickname] -> dn apply-once
  flow [displayName] -> displayName
  flow [mailNickname] -> mailNickname
  flow constant false -> mailEnabled
  flow constant true -> securityEnabled
}
R
python3 - "$WORK/rules/entra.rules" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r'rule "In from Entra - (users|groups)" \{.*?\n\}\n', '', s, flags=re.S)
open(p, "w").write(s)
PY
mvs rules check "$WORK/rules" >/dev/null
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
teams_in_peer() {
  peer_ctl GET /_fake/state | python3 -c '
import collections, json, sys
names = collections.Counter(g["props"]["displayName"] for g in json.load(sys.stdin)["groups"]
                            if g["props"]["displayName"].startswith("Team "))
print(len(names), sum(names.values()), max(names.values(), default=0))'
}

echo "== a held cycle and a second one"
(exec 9>>"$WORK/rules/hr.json.changes" && flock -x 9 && exec sleep 600) >/dev/null 2>&1 &
held=$!
trap 'kill $held 2>/dev/null || true' EXIT
sleep 0.3
"$MVSYNC_BIN" cycle --initial >"$WORK/c1.out" 2>&1 &
c1=$!
for _ in $(seq 100); do grep -q "^pid $c1 " "$MVSYNC_STORE.lock" 2>/dev/null && break; sleep 0.1; done
grep -q "^pid $c1 " "$MVSYNC_STORE.lock" || bad "the first cycle never took the lock"
t0=$(date +%s%3N)
rc=0; mvs cycle --initial >"$WORK/c2.out" 2>&1 || rc=$?
el=$(( $(date +%s%3N) - t0 ))
[ "$rc" = 6 ] || bad "the second cycle exited $rc (want 6): $(cat "$WORK/c2.out")"
grep -q "a run is already in progress (pid $c1, started " "$WORK/c2.out" || bad "message: $(cat "$WORK/c2.out")"
[ "$el" -lt 3000 ] || bad "the second cycle took $el ms to give up (want at once)"
mvs runs >/dev/null || bad "runs during the cycle"
mvs pending entra >/dev/null || bad "pending during the cycle"
mvs dump --json >/dev/null || bad "dump during the cycle"
mvs cycle --delta --wait >"$WORK/w.out" 2>&1 &
w=$!
sleep 1
kill -0 "$w" 2>/dev/null || bad "cycle --wait did not wait: $(cat "$WORK/w.out")"
kill "$held"; wait "$held" 2>/dev/null || true
rc=0; wait "$c1" || rc=$?
[ "$rc" = 0 ] || bad "the first cycle exited $rc: $(tail -5 "$WORK/c1.out")"
rc=0; wait "$w" || rc=$?
[ "$rc" = 0 ] || bad "the waiting cycle exited $rc: $(tail -5 "$WORK/w.out")"
read -r distinct total most <<<"$(teams_in_peer)"
echo "peer: $distinct teams, $total groups, at most $most of one name"
[ "$distinct" = "$N" ] && [ "$total" = "$N" ] || bad "want $N groups, one per team; got $total for $distinct teams"

echo "== two cycles started together (overlapping cron jobs)"
python3 - "$WORK/rules/hr.json" "$N" <<'PY'
import json, sys
p, n = sys.argv[1], int(sys.argv[2])
d = json.load(open(p))
d["groups"] += [{"id": "30000000-0000-0000-0000-%012d" % i, "displayName": "Team %02d" % i,
                 "mailNickname": "team%02d" % i} for i in range(n + 1, 2 * n + 1)]
json.dump(d, open(p, "w"), indent=1)
PY
mvs cycle --initial >"$WORK/a.out" 2>&1 & a=$!
mvs cycle --initial >"$WORK/b.out" 2>&1 & b=$!
ra=0; wait "$a" || ra=$?
rb=0; wait "$b" || rb=$?
echo "exit codes: $ra $rb"
case "$ra$rb" in 06|60|00) ;; *) bad "exit codes $ra $rb (want 0 and 6, or 0 and 0 when they did not overlap)";; esac
read -r distinct total most <<<"$(teams_in_peer)"
echo "peer: $distinct teams, $total groups, at most $most of one name"
[ "$distinct" = $((2 * N)) ] && [ "$total" = $((2 * N)) ] || bad "want $((2 * N)) groups, one per team; got $total for $distinct teams"

[ "$fails" = 0 ] && echo "entra_lock: ok" || { echo "entra_lock: $fails failures"; exit 1; }
