#!/bin/bash
# entra_crash — kill -9 during an Entra export of 40 group creates, at 12 points (the
# export's token request; each of the six $batch requests — two of creates, four of
# members — as the peer takes it, while it holds it, or just before it processes it; and
# the rerun's own lookups), then rerun: zero duplicate groups in the peer, every group
# joined (its connector-space object carries the peer's id), every member in place.  A kill
# while a later $batch is in flight is a kill after the earlier ones were answered and
# before the engine recorded them (40 of 40 groups were created twice before).  Reruns
# alternate between `cycle` (the import brings the orphan groups in first) and `export`
# alone (no import).  The creates were marked in flight before they were sent
# (engine/export.c); the rerun looks each up by mailNickname and displayName before
# creating it (connectors/graph/export.c).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
U=(10000000-0000-0000-0000-00000000000{1,2,3,4,5})
users_json=$(printf '{"id": "%s", "displayName": "User %s"},' "${U[0]}" 1 "${U[1]}" 2 "${U[2]}" 3 "${U[3]}" 4 "${U[4]}" 5)
python3 - "$WORK" "${U[@]}" <<'PY'
import json, sys
work, users = sys.argv[1], sys.argv[2:]
groups = [{"id": "30000000-0000-0000-0000-%012d" % i, "displayName": "Team %02d" % i,
           "mailNickname": "team%02d" % i, "members": [{"id": users[i % 5]}, {"id": users[(i + 1) % 5]}]}
          for i in range(1, 41)]
json.dump({"users": [{"id": u, "displayName": "User %d" % (i + 1)} for i, u in enumerate(users)],
           "groups": groups}, open(work + "/rules/hr.json", "w"), indent=1)
PY
cat >>"$WORK/rules/entra.rules" <<'R'

connector "hr" type file {
  shape "entra"
  path "hr.json"
}

rule "In from HR - people" {
  direction inbound
  connector "hr"
  source user -> person
  link provision
  precedence 50
  flow [id] -> personId
}

rule "In from HR - teams" {
  direction inbound
  connector "hr"
  source group -> team
  link provision
  precedence 60
  flow [displayName] -> displayName
  flow [mailNickname] -> mailNickname
  flow [members] -> members
}

rule "Join Entra users" {
  direction inbound
  connector "entra"
  source user -> person
  link join
  precedence 120
  join {
    id = personId
  }
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
  flow [members] -> members
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

fresh() {
  peer_ctl POST /_fake/reset >/dev/null
  peer_ctl POST /_fake/seed "{\"users\": [${users_json%,}]}" >/dev/null
  rm -f "$MVSYNC_STORE" "$MVSYNC_STORE"-wal "$MVSYNC_STORE"-shm
  mvs init >/dev/null
}

# crash NAME FAULT_JSON AFTER [CMD]: runs CMD (default: cycle --initial) with FAULT queued (a
# delay of 3 s on one request), kills it with SIGKILL AFTER seconds once the peer holds
# that request (0: as the peer takes it; later: while it holds it).  The
# watcher polls the control API over one kept-alive connection, every 5 ms, so the kill
# lands where it is meant to even on a loaded machine.
crash() {
  local name=$1 fault=$2 after=$3 pid watcher
  shift 3
  peer_ctl POST /_fake/faults "$fault" >/dev/null
  rm -f "$WORK/watching"
  python3 - "$PEER_GRAPH_URL" "$PEER_CA" "$after" "$WORK/watching" <<'PY' &
import http.client, json, ssl, sys, time, urllib.parse
url, ca, after, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=ca))
deadline = time.time() + 120
while time.time() < deadline:
    conn.request("GET", "/_fake/faults")
    if not json.loads(conn.getresponse().read())["faults"]:
        time.sleep(after)
        sys.exit(0)
    open(ready, "w").close()
    time.sleep(0.005)
sys.exit(1)
PY
  watcher=$!
  while [ ! -e "$WORK/watching" ]; do sleep 0.02; done
  ( exec "$MVSYNC_BIN" "${@:-cycle}" $([ $# -eq 0 ] && echo --initial) >"$WORK/crash.out" 2>&1 ) &
  pid=$!
  wait $watcher || { echo "FAILED: $name: the fault was never taken"; cat "$WORK/crash.out"; exit 1; }
  kill -9 $pid 2>/dev/null || { echo "FAILED: $name: the run ended before the kill"; cat "$WORK/crash.out"; exit 1; }
  wait $pid 2>/dev/null || true
  sleep 3.1 # the peer finishes the request it held
  peer_ctl DELETE /_fake/faults >/dev/null
}

# verify NAME: no duplicates, all 40 joined with the peer's ids, members in place.
verify() {
  mvs dump --json >"$WORK/dump.json"
  peer_ctl GET "/_fake/state?members=1" >"$WORK/state.json"
  python3 - "$WORK" "$1" <<'PY'
import collections, json, sys
work, name = sys.argv[1:3]
dump = json.load(open(work + "/dump.json"))
state = json.load(open(work + "/state.json"))
teams = [g for g in state["groups"] if g["state"] == "active" and g["props"].get("mailNickname", "").startswith("team")]
count = collections.Counter(g["props"]["mailNickname"] for g in teams)
dups = {k: v for k, v in count.items() if v > 1}
assert not dups, "%s: duplicates in Entra: %s" % (name, dups)
assert len(count) == 40, "%s: %d of 40 groups in Entra" % (name, len(count))
ids = {g["id"]: g for g in teams}
cs = [o for o in dump["connectors"]["entra"] if o["type"] == "group"]
anchors = [o["anchor"] for o in cs]
assert sorted(anchors, key=str) == sorted(ids), "%s: connector space %s vs Entra %s" % (name, sorted(anchors, key=str)[:5], sorted(ids)[:5])
assert all(o["joined"] for o in cs), "%s: unjoined: %s" % (name, [o["anchor"] for o in cs if not o["joined"]])
hr = {g["mailNickname"]: sorted(m["id"] for m in g["members"]) for g in json.load(open(work + "/rules/hr.json"))["groups"]}
bad = [g["props"]["mailNickname"] for g in teams if sorted(g["members"]) != hr[g["props"]["mailNickname"]]]
assert not bad, "%s: members differ: %s" % (name, bad)
print("ok: %s: 40 groups, no duplicate, all joined, members in place" % name)
PY
}

B='"path": "/v1.0/$batch", "method": "POST", "kind": "delay", "seconds": 3'
T="\"path\": \"/$PEER_TENANT/oauth2/v2.0/token\", \"kind\": \"delay\", \"seconds\": 3"
points=(
  "export-token-in-flight|{$T, \"skip\": 1}|0.2"
  "creates-1-as-taken|{$B}|0"
  "creates-1-in-flight|{$B}|0.2"
  "creates-1-late-in-flight|{$B}|1.5"
  "creates-2-as-taken|{$B, \"skip\": 1}|0"
  "creates-2-in-flight|{$B, \"skip\": 1}|0.5"
  "members-1-in-flight|{$B, \"skip\": 2}|0.2"
  "members-2-in-flight|{$B, \"skip\": 3}|0.2"
  "members-3-in-flight|{$B, \"skip\": 4}|0.2"
  "members-4-late-in-flight|{$B, \"skip\": 5}|1.5"
)
i=0
for p in "${points[@]}"; do
  IFS='|' read -r name fault after <<<"$p"
  echo "== kill -9: $name"
  fresh
  crash "$name" "$fault" "$after"
  made=$(peer_ctl GET '/_fake/state?members=0' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["groups"]))')
  rerun=cycle
  [ $((i % 2)) -eq 0 ] || rerun=export
  i=$((i + 1))
  echo "   $made groups in Entra after the kill; rerun: $rerun"
  if [ $rerun = export ]; then mvs export entra >"$WORK/rerun.out" 2>&1 || { cat "$WORK/rerun.out"; exit 1; }
  else mvs cycle >"$WORK/rerun.out" 2>&1 || { cat "$WORK/rerun.out"; exit 1; }; fi
  verify "$name"
  mvs cycle >"$WORK/rerun.out" 2>&1 || { cat "$WORK/rerun.out"; exit 1; }
  verify "$name, one more cycle"
done

echo "== kill -9 twice: after the creates, then during the rerun's lookups"
fresh
crash "members-1-in-flight" "{$B, \"skip\": 2}" 0.2
crash "rerun-lookups-in-flight" "{$B}" 0.2 export entra
mvs export entra >"$WORK/rerun.out" 2>&1 || { cat "$WORK/rerun.out"; exit 1; }
verify "killed after the creates and during the rerun's lookups"
mvs cycle >"$WORK/rerun.out" 2>&1 || { cat "$WORK/rerun.out"; exit 1; }
verify "killed twice, one more cycle"
echo "PASS"
