#!/bin/bash
# entra_batch — $batch orders and failures the engine does not produce on its own, sent
# through the entra connector by tests/unit/graph_export_probe.c against the Graph peer: a
# member removed and added again in one change (dependsOn keeps the order), a removal of a
# non-member (404, counted done) whose dependent add gets 424 and is resent alone, a PATCH of
# a missing group (404 recorded), refusals that send nothing, a create with its members, and
# a $batch whose connection drops (its items fail; never resent, they may have happened).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
probe() {
  "$2" tenant="$PEER_TENANT" client-id="$PEER_CLIENT_ID" client-secret-file="$PEER_SECRET_FILE" \
    authority="$PEER_LOGIN_URL" graph-url="$PEER_GRAPH_URL" ca-file="$PEER_CA" max-retry-seconds=20
}
PROBE=$2
U1=10000000-0000-0000-0000-000000000001 U2=10000000-0000-0000-0000-000000000002
U3=10000000-0000-0000-0000-000000000003 U4=10000000-0000-0000-0000-000000000004
G=20000000-0000-0000-0000-000000000001 MISSING=20000000-0000-0000-0000-0000000000ff
peer_ctl POST /_fake/seed "{\"users\": [{\"id\": \"$U1\"}, {\"id\": \"$U2\"}, {\"id\": \"$U3\"}, {\"id\": \"$U4\"}],
  \"groups\": [{\"id\": \"$G\", \"displayName\": \"G\", \"mailNickname\": \"g\", \"members\": [\"$U1\", \"$U2\"]}]}" >/dev/null

echo "== one export: orders, mixed results, refusals"
log_mark
out=$(probe x "$PROBE" <<IN
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
IN
)
echo "$out"
echo "$out" | grep -qx '1: ok' || { echo "FAILED: change 1"; exit 1; }
echo "$out" | grep -q "^2: failed 404 PATCH /groups/$MISSING: HTTP 404 Request_ResourceNotFound" || { echo "FAILED: change 2"; exit 1; }
echo "$out" | grep -q '^3: failed 400 only groups can be created' || { echo "FAILED: change 3"; exit 1; }
echo "$out" | grep -q '^4: failed 400 proxyAddresses: Graph cannot add or remove single values' || { echo "FAILED: change 4"; exit 1; }
NEW=$(echo "$out" | sed -n 's/^5: ok \(.*\)$/\1/p')
[ -n "$NEW" ] || { echo "FAILED: change 5"; exit 1; }
check "peer_members('$G') == sorted(['$U1', '$U2', '$U3'])" "U1 removed and added again (in that order), U3 added"
check "next(g for g in state['groups'] if g['id'] == '$G')['props']['description'] == 'probed'" "PATCH sent with the member changes"
check "peer_members('$NEW') == ['$U4']" "the created group got its member after the create"
check "[(i['method'], i['status']) for e in log for i in e.get('batch_items', []) if i['url'].startswith('/groups/$G/members')] == [('DELETE', 204), ('DELETE', 404), ('POST', 204), ('POST', 424), ('POST', 204)]" "removals first; U3's removal 404 (done), its dependent add 424, then resent alone: 204"
check "not any('someone' in i['url'] or 'proxyAddresses' in str(i) for e in log for i in e.get('batch_items', []))" "refused changes sent nothing"

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
