#!/bin/bash
# entra_delete_member_delta — issue 11 item 5 against the Graph peer: one delta round in which
# a user is hard-deleted and so leaves its group (users/delta says @removed, groups/delta
# says members@delta @removed).  The person survives through its AD object (a file connector
# joined by displayName), so the delta sync must take it out of the metaverse group and give
# exactly what a full sync gives (the delta ≡ full invariant, docs/internals/engine.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
U1=10000000-0000-0000-0000-000000000001 U2=10000000-0000-0000-0000-000000000002
G1=20000000-0000-0000-0000-000000000001
cat >"$WORK/ad.ldif" <<'L'
dn: CN=Ada,OU=Users,DC=contoso,DC=com
objectClass: top
objectClass: user
objectGUID: 00000000-0000-0000-0000-000000000101
displayName: Ada

dn: CN=Bob,OU=Users,DC=contoso,DC=com
objectClass: top
objectClass: user
objectGUID: 00000000-0000-0000-0000-000000000102
displayName: Bob

L
: >"$WORK/ad.ldif.changes"
cat >"$WORK/rules/ad.rules" <<R
connector "ad" type file {
  shape "ad"
  path "$WORK/ad.ldif"
  changes "$WORK/ad.ldif.changes"
}

rule "In from AD - users" {
  direction inbound
  connector "ad"
  source user -> person
  link provision
  precedence 50
  join {
    displayName = displayName
  }
  flow [displayName] -> displayName
}
R
peer_ctl POST /_fake/seed "{\"users\": [
  {\"id\": \"$U1\", \"displayName\": \"Ada\"}, {\"id\": \"$U2\", \"displayName\": \"Bob\"}],
 \"groups\": [{\"id\": \"$G1\", \"displayName\": \"Staff\", \"mailNickname\": \"staff\",
               \"members\": [\"$U1\", \"$U2\"]}]}" >/dev/null

# mv_group_members DUMP: the metaverse group's members, as the links of the persons.
mv_group_members() {
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = next(o for o in d["metaverse"] if o["type"] == "group")
print(" ".join(sorted(m["ref"] for m in g["attrs"].get("members", []))))
PY
}

mvs import entra --full >/dev/null
mvs import ad --full >/dev/null
mvs sync --full >/dev/null
mvs dump --json >"$WORK/d0.json"
[ "$(mv_group_members "$WORK/d0.json")" = "ad/00000000-0000-0000-0000-000000000101 ad/00000000-0000-0000-0000-000000000102" ] ||
  { echo "FAILED: setup: both persons in the group: $(mv_group_members "$WORK/d0.json")" >&2; exit 1; }

echo "== one delta round: Bob hard-deleted, and so removed from Staff"
peer_ctl POST "/_fake/users/$U2/hard-delete" >/dev/null
mvs import entra --delta >/dev/null
check "cs['$U2']['import'] == 'delete' and members('$G1') == ['$U1']" "the round deletes Bob and removes him from Staff"
mvs sync --delta >/dev/null
mvs dump --json >"$WORK/delta.json"
[ "$(mv_group_members "$WORK/delta.json")" = "ad/00000000-0000-0000-0000-000000000101" ] ||
  { echo "FAILED: delta sync kept Bob's person in the group: $(mv_group_members "$WORK/delta.json")" >&2; exit 1; }
python3 - "$WORK/delta.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bob = [o for o in d["metaverse"] if "ad/00000000-0000-0000-0000-000000000102" in o["links"]]
assert len(bob) == 1 and bob[0]["links"] == ["ad/00000000-0000-0000-0000-000000000102"], bob
PY
echo "ok: delta sync: Bob's person survives through AD and leaves the group"
mvs sync --full >/dev/null
mvs dump --json >"$WORK/full.json"
cmp -s "$WORK/delta.json" "$WORK/full.json" ||
  { echo "FAILED: a full sync after the delta sync changed the store:" >&2; diff "$WORK/delta.json" "$WORK/full.json" >&2; exit 1; }
echo "ok: delta sync = full sync"
