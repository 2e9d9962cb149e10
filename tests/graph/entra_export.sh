#!/bin/bash
# entra_export — the Entra connector's exports against the Graph peer through the real CLI:
# groups provisioned from an HR file connector are created (POST /groups in $batch requests of
# at most 20, then their members by $ref), updated (PATCH, member $ref add and remove) and
# deleted; a $batch with mixed results: an invalid group fails alone (error recorded, the run
# goes on), "already a member" and "not a member any more" count as done, a throttled item is
# resent after its Retry-After (proved from the request log's timestamps); a create whose
# member is gone from Entra is done once (anchor kept, the member's 404 reported), not
# created again by the next runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
# expect_rc CODE ARGS...: mvsync ARGS exits CODE ("bad nick" is refused by every export:
# 7 while other changes go through, 8 when it is all that is left to send).
expect_rc() {
  local want=$1 rc=0; shift
  mvs "$@" || rc=$?
  [ "$rc" = "$want" ] || { echo "FAILED: mvsync $* exited $rc (want $want)" >&2; exit 1; }
  echo "ok: mvsync $* exited $rc"
}
U=(10000000-0000-0000-0000-00000000000{1,2,3,4,5})
users_json=$(printf '{"id": "%s", "displayName": "User %s"},' "${U[0]}" 1 "${U[1]}" 2 "${U[2]}" 3 "${U[3]}" 4 "${U[4]}" 5)
peer_ctl POST /_fake/seed "{\"users\": [${users_json%,}]}" >/dev/null
# HR: the same people (Entra users join them by id) and 23 groups, one with a nickname Graph refuses.
python3 - "$WORK" "${U[@]}" <<'PY'
import json, sys
work, users = sys.argv[1], sys.argv[2:]
groups = [{"id": "30000000-0000-0000-0000-%012d" % i, "displayName": "Team %02d" % i,
           "mailNickname": "team%02d" % i, "members": [{"id": users[i % 5]}, {"id": users[(i + 1) % 5]}]}
          for i in range(1, 23)]
groups.append({"id": "30000000-0000-0000-0000-000000000099", "displayName": "Bad", "mailNickname": "bad nick",
               "members": [{"id": users[0]}]})
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
# The users rule of conn_lib provisions persons from Entra too: keep only the join.
python3 - "$WORK/rules/entra.rules" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r'rule "In from Entra - users" \{.*?\n\}\n', '', s, flags=re.S)
s = re.sub(r'rule "In from Entra - groups" \{.*?\n\}\n', '', s, flags=re.S)
open(p, "w").write(s)
PY
mvs rules check "$WORK/rules" >/dev/null

echo "== initial cycle: 23 creates, 22 succeed, then 44 member adds"
log_mark
out=$(mvs cycle --initial 2>&1) || true
echo "$out"
check 'len([g for g in state["groups"] if g["props"]["displayName"].startswith("Team ")]) == 22' "22 groups created"
check 'all(len(g["members"]) == 2 for g in state["groups"])' "each with its 2 members (added after the create)"
check 'all(len(e.get("batch_items", [])) <= 20 for e in log) and sum(1 for e in log if e["path"] == "/v1.0/$batch") >= 4' "at most 20 requests per \$batch (creates 20+3, members 20+20+4)"
check 'any(i["status"] == 400 and i["url"] == "/groups" for e in log for i in e.get("batch_items", []))' "the bad group was refused in its batch"
mvs pending entra --json >"$WORK/pending.json"
python3 - "$WORK/pending.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
items = p if isinstance(p, list) else p.get("pending", p.get("exports", []))
text = json.dumps(items)
assert "bad nick" in text or "mailNickname" in text, text[:2000]
assert "400" in text, text[:2000]
print("ok: the refused create stays pending with HTTP 400 and Graph's message")
PY
check 'sum(1 for o in cs.values() if o["type"] == "group" and o["anchor"] in {g["id"] for g in state["groups"]}) == 22' "created groups carry the ids Graph gave as anchors"
check 'all("dn" not in e["query"].split("select=")[-1].split(",") for e in log if "select=" in e["query"])' "\$select names Graph properties only (not the engine's dn)"

echo "== updates and deletes in one export: mixed results"
G1=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(g["id"] for g in d["groups"] if g["props"]["displayName"]=="Team 01"))' "$WORK/state.json")
G2=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(g["id"] for g in d["groups"] if g["props"]["displayName"]=="Team 02"))' "$WORK/state.json")
G3=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(g["id"] for g in d["groups"] if g["props"]["displayName"]=="Team 03"))' "$WORK/state.json")
G4=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(g["id"] for g in d["groups"] if g["props"]["displayName"]=="Team 04"))' "$WORK/state.json")
# Team 01 has U2, U3: HR renames it, adds U4 and U5, removes U2 and U3.  Team 03 and 04 leave HR.
python3 - "$WORK/rules/hr.json" "${U[@]}" <<'PY'
import json, sys
p, users = sys.argv[1], sys.argv[2:]
d = json.load(open(p))
g = next(g for g in d["groups"] if g["displayName"] == "Team 01")
g["displayName"] = "Team 01 renamed"
g["members"] = [{"id": users[3]}, {"id": users[4]}]
d["groups"] = [g for g in d["groups"] if g["displayName"] not in ("Team 03", "Team 04")]
json.dump(d, open(p, "w"), indent=1)
PY
mvs import hr --full >/dev/null
mvs import entra --delta >/dev/null
mvs sync --delta >/dev/null
# Meanwhile a cloud admin adds U4 to Team 01 and removes U3, and deletes Team 04.
peer_ctl POST "/_fake/groups/$G1/members" "{\"add\": [\"${U[3]}\"], \"remove\": [\"${U[2]}\"]}" >/dev/null
peer_ctl POST "/_fake/groups/$G4/hard-delete" >/dev/null
# One member add is throttled inside its batch (Retry-After: 2).
peer_ctl POST /_fake/faults "{\"kind\": \"429\", \"where\": \"batch\", \"path\": \"/v1.0/groups/$G1/members\", \"method\": \"POST\", \"retry_after\": 2}" >/dev/null
log_mark
expect_rc 7 export entra --allow-deletes
check "sorted(peer_members('$G1')) == sorted(['${U[3]}', '${U[4]}'])" "members added and removed (\"already exist\" and 404 counted as done)"
check "next(g for g in state['groups'] if g['id'] == '$G1')['props']['displayName'] == 'Team 01 renamed'" "PATCH of the changed property"
check "next(g for g in state['groups'] if g['id'] == '$G3')['state'] != 'active'" "a group leaving HR is deleted"
check "any(i['status'] == 400 and 'members' in i['url'] for e in log for i in e.get('batch_items', []))" "the add of an existing member got 400 (counted done)"
check "any(i['status'] == 404 for e in log for i in e.get('batch_items', []))" "a removal or delete got 404 (counted done)"
python3 - "$WORK/log.json" <<'PY'
import json, sys
log = [e for e in json.load(open(sys.argv[1]))["requests"] if e["path"] == "/v1.0/$batch"]
for i, e in enumerate(log):
    hit = [it for it in e.get("batch_items", []) if it["status"] == 429]
    if hit:
        nxt = log[i + 1]
        waited = nxt["t_start"] - e["t_end"]
        assert waited >= 1.9, "resent after %.2fs, Retry-After said 2" % waited
        assert [(it["method"], it["url"]) for it in nxt["batch_items"]] == [(hit[0]["method"], hit[0]["url"])], nxt
        assert nxt["batch_items"][0]["status"] in (204, 400), nxt
        print("ok: the throttled item was resent %.2fs later (Retry-After: 2)" % waited)
        break
else:
    raise SystemExit("FAILED: no throttled batch item in the log")
PY
mvs import entra --delta >/dev/null
mvs sync --delta >/dev/null
mvs pending entra --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert [(e["dn"], e["status"]) for e in p] == [("bad nick", "pending")], p
print("ok: the confirming import clears what was sent; only the refused create is left")'

echo "== a create whose member is gone from Entra: done once, anchor kept, no duplicate next run"
peer_ctl POST "/_fake/users/${U[4]}/hard-delete" >/dev/null
python3 - "$WORK/rules/hr.json" "${U[@]}" <<'PY'
import json, sys
p, users = sys.argv[1], sys.argv[2:]
d = json.load(open(p))
d["groups"].append({"id": "30000000-0000-0000-0000-000000000050", "displayName": "Team 50",
                    "mailNickname": "team50", "members": [{"id": users[0]}, {"id": users[4]}]})
json.dump(d, open(p, "w"), indent=1)
PY
mvs import hr --full >/dev/null
mvs sync --delta >/dev/null
log_mark
expect_rc 7 export entra
check "len([g for g in state['groups'] if g['props']['displayName'] == 'Team 50']) == 1" "Team 50 created"
T50=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(g["id"] for g in d["groups"] if g["props"]["displayName"]=="Team 50"))' "$WORK/state.json")
check "peer_members('$T50') == ['${U[0]}'] and any(i['status'] == 404 and i['url'] == '/groups/$T50/members/\$ref' for e in log for i in e.get('batch_items', []))" "its present member added; the gone one got 404"
check "cs['$T50']['type'] == 'group'" "the connector space object carries Graph's id as its anchor"
expect_rc 8 export entra
mvs import entra --delta >/dev/null
mvs sync --delta >/dev/null
expect_rc 8 export entra
check "len([g for g in state['groups'] if g['props']['displayName'] == 'Team 50']) == 1 and sum(1 for e in log for i in e.get('batch_items', []) if i['method'] == 'POST' and i['url'] == '/groups' and i['status'] == 201) == 1" "no duplicate: one group created over three exports"
echo "PASS"
