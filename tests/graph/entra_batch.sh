#!/bin/bash
# entra_batch — $batch orders and failures the engine does not produce on its own, sent
# through the entra connector by tests/unit/graph_export_probe.c against the Graph peer: a
# member removed and added again in one change (the add goes in a later $batch, no
# dependsOn), a removal of a non-member (404, counted done), a PATCH of a missing group (404
# recorded), refusals that send nothing (a create with a malformed member id included), a
# create with its members, a create whose member is missing (done: the group exists; the
# member's 404 reported), creates that may have happened (looked up by mailNickname and
# displayName: taken, created, or refused when two match), a $batch whose connection drops or that gets a 504 (its items fail;
# never resent, they may have happened), Retry-After: 0 storms, bounded by
# max-retry-seconds; Retry-After: 2.128 waited exactly (the $batch POST and an item); and
# SSLKEYLOGFILE is ignored (no TLS keys written).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
probe() {
  "$2" tenant="$PEER_TENANT" client-id="$PEER_CLIENT_ID" client-secret-file="$PEER_SECRET_FILE" \
    authority="$PEER_LOGIN_URL" graph-url="$PEER_GRAPH_URL" ca-file="$PEER_CA" \
    max-retry-seconds="${MAX_RETRY:-20}"
}
PROBE=$2
U1=10000000-0000-0000-0000-000000000001 U2=10000000-0000-0000-0000-000000000002
U3=10000000-0000-0000-0000-000000000003 U4=10000000-0000-0000-0000-000000000004
G=20000000-0000-0000-0000-000000000001 MISSING=20000000-0000-0000-0000-0000000000ff
peer_ctl POST /_fake/seed "{\"users\": [{\"id\": \"$U1\"}, {\"id\": \"$U2\"}, {\"id\": \"$U3\"}, {\"id\": \"$U4\"}],
  \"groups\": [{\"id\": \"$G\", \"displayName\": \"G\", \"mailNickname\": \"g\", \"members\": [\"$U1\", \"$U2\"]}]}" >/dev/null

echo "== one export: orders, mixed results, refusals (SSLKEYLOGFILE set: ignored)"
log_mark
out=$(SSLKEYLOGFILE="$WORK/keylog" probe x "$PROBE" <<IN
update group $G
  delete members {"ref": "$U1"}
  add members {"ref": "$U1"}
  delete members {"ref": "$U3"}
  add members {"ref": "$U3"}
  replace description "probed"
update group $MISSING
  replace description "x"
add user someone
  replace displayName "x"
update group $G
  add proxyAddresses "smtp:x@contoso-test.example"
add group probe-new
  replace displayName "Probe"
  replace mailNickname "probe"
  replace mailEnabled false
  replace securityEnabled true
  replace members [{"ref": "$U4"}]
add contact ext-contact
  replace displayName "External"
update user $U1
  replace onPremisesSecurityIdentifier "S-1-5-21-1-2-3-1105"
IN
)
echo "$out"
echo "$out" | grep -qx '1: ok' || { echo "FAILED: change 1"; exit 1; }
echo "$out" | grep -q "^2: failed 404 PATCH /groups/$MISSING: HTTP 404 Request_ResourceNotFound" || { echo "FAILED: change 2"; exit 1; }
echo "$out" | grep -q '^3: failed 400 a user create needs a userPrincipalName' || { echo "FAILED: change 3"; exit 1; }
echo "$out" | grep -q '^4: failed 400 proxyAddresses: not written to Entra groups (read-only)' || { echo "FAILED: change 4"; exit 1; }
echo "$out" | grep -q '^6: failed 400 contact objects are not written to Entra ID: Graph cannot create organizational contacts' || { echo "FAILED: change 6"; exit 1; }
echo "$out" | grep -q '^7: failed 400 onPremisesSecurityIdentifier: not written to Entra users (read-only)' || { echo "FAILED: change 7"; exit 1; }
NEW=$(echo "$out" | sed -n 's/^5: ok \(.*\)$/\1/p')
[ -n "$NEW" ] || { echo "FAILED: change 5"; exit 1; }
check "peer_members('$G') == sorted(['$U1', '$U2', '$U3'])" "U1 removed and added again (in that order), U3 added"
check "next(g for g in state['groups'] if g['id'] == '$G')['props']['description'] == 'probed'" "PATCH sent with the member changes"
check "peer_members('$NEW') == ['$U4']" "the created group got its member after the create"
check "[(i['method'], i['status']) for e in log for i in e.get('batch_items', []) if i['url'].startswith('/groups/$G/members')] == [('DELETE', 204), ('DELETE', 404), ('POST', 204), ('POST', 204)]" "removals first (U3's 404 counts done), then the adds"
check "[[i['method'] for i in e['batch_items'] if '/groups/$G/members' in i['url']] for e in log if e.get('batch_items') and any('/groups/$G/members' in i['url'] for i in e['batch_items'])] == [['DELETE', 'DELETE'], ['POST', 'POST']]" "each add in a later \$batch than the removal it follows (no dependsOn)"
check "not any('someone' in i['url'] or 'proxyAddresses' in str(i) or 'contact' in i['url'] or i['url'] == '/users/$U1' for e in log for i in e.get('batch_items', []))" "refused changes sent nothing"
[ ! -e "$WORK/keylog" ] || { echo "FAILED: TLS session keys written to SSLKEYLOGFILE"; exit 1; }
echo "ok: no TLS key log written"

echo "== creates: a malformed member refuses the add before anything is sent; a missing member does not undo it"
log_mark
out=$(probe x "$PROBE" <<IN
add group probe-bad-ref
  replace displayName "Probe bad ref"
  replace mailNickname "probebadref"
  replace mailEnabled false
  replace securityEnabled true
  replace members [{"ref": "$U4"}, {"ref": "not an id/.."}]
add group probe-missing-member
  replace displayName "Probe missing member"
  replace mailNickname "probemissing"
  replace mailEnabled false
  replace securityEnabled true
  replace members [{"ref": "$U4"}, {"ref": "$MISSING"}]
IN
)
echo "$out"
echo "$out" | grep -q '^1: failed 400 members: "not an id/.." is not a Graph object id' || { echo "FAILED: change 1"; exit 1; }
NEW=$(echo "$out" | sed -n 's/^2: ok \([^ ]*\) -- POST \/groups\/.*\/members\/\$ref: HTTP 404 .*$/\1/p')
[ -n "$NEW" ] || { echo "FAILED: change 2 should be done, with its anchor and the member's 404"; exit 1; }
check "not any(g['props'].get('displayName') == 'Probe bad ref' for g in state['groups'])" "the add with a malformed member sent nothing"
check "[g['id'] for g in state['groups'] if g['props'].get('displayName') == 'Probe missing member'] == ['$NEW'] and peer_members('$NEW') == ['$U4']" "one group created, its existing member added"

echo "== creates that may have happened (maybe-created): looked up by mailNickname, confirmed on displayName"
peer_ctl POST /_fake/groups '{"value": [
  {"displayName": "Probe earlier", "mailNickname": "probeearlier", "securityEnabled": true, "mailEnabled": false},
  {"displayName": "Twin", "mailNickname": "twin", "securityEnabled": true, "mailEnabled": false},
  {"displayName": "Twin", "mailNickname": "twin", "securityEnabled": true, "mailEnabled": false},
  {"displayName": "Not the probe", "mailNickname": "probeother", "securityEnabled": true, "mailEnabled": false}]}' >"$WORK/made.json"
EARLIER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["value"][0]["id"])' "$WORK/made.json")
OTHER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["value"][3]["id"])' "$WORK/made.json")
log_mark
out=$(probe x "$PROBE" <<IN
add group probe-earlier maybe-created
  replace displayName "Probe earlier"
  replace mailNickname "probeearlier"
  replace mailEnabled false
  replace securityEnabled true
  replace members [{"ref": "$U4"}]
add group probe-never maybe-created
  replace displayName "Probe never"
  replace mailNickname "probenever"
  replace mailEnabled false
  replace securityEnabled true
add group twin maybe-created
  replace displayName "Twin"
  replace mailNickname "twin"
  replace mailEnabled false
  replace securityEnabled true
add group probe-other maybe-created
  replace displayName "Probe other"
  replace mailNickname "probeother"
  replace mailEnabled false
  replace securityEnabled true
IN
)
echo "$out"
echo "$out" | grep -qx "1: ok $EARLIER" || { echo "FAILED: the earlier create should be taken"; exit 1; }
NEVER=$(echo "$out" | sed -n 's/^2: ok \([^ ]*\)$/\1/p')
[ -n "$NEVER" ] || { echo "FAILED: a create that did not happen should be made"; exit 1; }
echo "$out" | grep -q '^3: failed 200 GET /groups?$filter=mailNickname%20eq%20%27twin%27.*: 2 groups have this mailNickname and the displayName "Twin": not created again' || { echo "FAILED: twins should fail"; exit 1; }
OTHER_NEW=$(echo "$out" | sed -n 's/^4: ok \([^ ]*\)$/\1/p')
[ -n "$OTHER_NEW" ] && [ "$OTHER_NEW" != "$OTHER" ] || { echo "FAILED: another displayName is not this group"; exit 1; }
check "[i['url'] for e in log for i in e.get('batch_items', []) if i['method'] == 'POST' and i['url'] == '/groups'] == ['/groups', '/groups']" "two creates sent (probe-never, probe-other), none for the group found nor the twins"
check "sum(1 for e in log for i in e.get('batch_items', []) if i['method'] == 'GET' and i['url'].startswith('/groups?\$filter=mailNickname%20eq%20%27')) == 4 and all(i['status'] == 200 for e in log for i in e.get('batch_items', []) if i['method'] == 'GET')" "four lookups, each answered by the peer's \$filter"
check "peer_members('$EARLIER') == ['$U4']" "the group found got its members"
check "sum(1 for g in state['groups'] if g['props'].get('mailNickname') == 'probeearlier') == 1" "no second probeearlier"

echo "== a 504 to the \$batch POST: its items fail, not resent"
log_mark
peer_ctl POST /_fake/faults '{"kind": "504", "path": "/v1.0/$batch", "where": "top"}' >/dev/null
out=$(probe x "$PROBE" <<IN
update group $G
  replace description "after 504"
IN
)
echo "$out"
echo "$out" | grep -q '^1: failed 504 ' || { echo "FAILED: no 504 failure"; exit 1; }
check "[e['status'] for e in log if e['path'] == '/v1.0/\$batch'] == [504]" "one \$batch POST, not resent"

echo "== a 504 to a create inside a \$batch: failed, not resent"
log_mark
peer_ctl POST /_fake/faults '{"kind": "504", "path": "/v1.0/groups", "method": "POST", "where": "batch"}' >/dev/null
out=$(probe x "$PROBE" <<IN
add group probe-504
  replace displayName "Probe 504"
  replace mailNickname "probe504"
  replace mailEnabled false
  replace securityEnabled true
IN
)
echo "$out"
echo "$out" | grep -q '^1: failed 504 POST /groups: HTTP 504' || { echo "FAILED: no 504 failure"; exit 1; }
check "[i['status'] for e in log for i in e.get('batch_items', [])] == [504]" "the create was sent once"
peer_ctl DELETE /_fake/faults >/dev/null

echo "== Retry-After: 0 storms (the \$batch POST, then one item) stop at max-retry-seconds 3"
for fault in '{"kind": "429", "path": "/v1.0/$batch", "where": "top", "retry_after": 0, "count": 1000}' \
             "{\"kind\": \"429\", \"path\": \"/v1.0/groups/$G\", \"where\": \"batch\", \"retry_after\": 0, \"count\": 1000}"; do
  log_mark
  peer_ctl POST /_fake/faults "$fault" >/dev/null
  start=$(date +%s.%N)
  out=$(MAX_RETRY=3 probe x "$PROBE" <<IN
update group $G
  replace description "storm"
IN
)
  end=$(date +%s.%N)
  peer_ctl DELETE /_fake/faults >/dev/null
  echo "$out"
  echo "$out" | grep -q '^1: failed 429 ' || { echo "FAILED: the storm should end in the 429"; exit 1; }
  python3 -c "import sys; e=float(sys.argv[2])-float(sys.argv[1]); assert e < 8, e; print('ok: gave up after %.1fs' % e)" "$start" "$end"
  peer_ctl GET "/_fake/log?since=$LOG_MARK" | python3 -c '
import json, sys
log = [e for e in json.load(sys.stdin)["requests"] if e["path"] == "/v1.0/$batch"]
gaps = [b["t_start"] - a["t_end"] for a, b in zip(log, log[1:])]
assert 2 <= len(log) <= 6, len(log)
assert all(g >= 0.45 for g in gaps), gaps
print("ok: %d $batch POSTs, %s s apart (backoff, not at once)" % (len(log), ", ".join("%.2f" % g for g in gaps)))'
done

echo "== Retry-After: 2.128 (Microsoft's throttling example) on the \$batch POST, then on an item"
for fault in '{"kind": "429", "path": "/v1.0/$batch", "where": "top", "retry_after": 2.128}' \
             "{\"kind\": \"429\", \"path\": \"/v1.0/groups/$G\", \"where\": \"batch\", \"retry_after\": 2.128}"; do
  log_mark
  peer_ctl POST /_fake/faults "$fault" >/dev/null
  out=$(probe x "$PROBE" <<IN
update group $G
  replace description "fractional"
IN
)
  echo "$out"
  echo "$out" | grep -qx '1: ok' || { echo "FAILED: the change should go through after the wait"; exit 1; }
  peer_ctl GET "/_fake/log?since=$LOG_MARK" | python3 -c '
import json, sys
log = [e for e in json.load(sys.stdin)["requests"] if e["path"] == "/v1.0/$batch"]
assert len(log) == 2, len(log)
gap = log[1]["t_start"] - log[0]["t_end"]
assert 2.128 <= gap < 3.2, gap
print("ok: resent %.3f s later (Retry-After: 2.128, not the 0.5-1 s backoff)" % gap)'
done

echo "== a \$batch whose connection drops: failed, not resent"
log_mark
peer_ctl POST /_fake/faults '{"kind": "drop", "path": "/v1.0/$batch"}' >/dev/null
out=$(probe x "$PROBE" <<IN
update group $G
  delete members {"ref": "$U3"}
IN
)
echo "$out"
echo "$out" | grep -q '^1: failed 0 .*not resent: the outcome is unknown' || { echo "FAILED: no failure"; exit 1; }
check "[e['fault'] for e in log if e['path'] == '/v1.0/\$batch'] == ['drop']" "one \$batch POST, not resent"
echo "PASS"
