#!/usr/bin/env bash
# Scenario 1, the large group (issue 6): a cloud security group of more than 50,000 members
# (Cloud Sync's limit) written to AD by rules/examples/cloud-groups-to-ad, then changed by a
# delta cycle (dry run first, compared).  Needs the harness's big variant (52,000 users under
# OU=Bench, built once into the cache).  Prints the times it measures (TIME: lines).
# Usage: 1-large-group.sh PATH/TO/mvsync
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
scen_start "$1" big

members=51900   # users 1..51900 at first; the delta adds 51901..52000 and removes 1..50
wb_ou="OU=Writeback,$SAMBA_OU"
G_ALL=6b0c1d2e-7777-4f80-9a1b-2c3d4e5f6a7b
group_dn="CN=All Staff_2c3d4e5f6a7b,$wb_ou"
now() { date +%s.%N; }
took() { python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$@"; }
count_members() {
  samba_ldap ldapsearch -LLL -b "$group_dn" -s base member | grep -c '^member:' || true
}

# Entra: every bench user synced (onPremisesObjectIdentifier = objectGUID), one cloud-only user,
# and the group.  Entra user N is bench user N.
ldap_json "$SAMBA_BENCH_OU" '(objectClass=user)' objectGUID sAMAccountName >"$WORK/bench.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/bench.json")
[ "$n" = "$SAMBA_BENCH_USERS" ] && ok "AD: $n synced users (the big variant)" || bad "AD: $n users, the harness says $SAMBA_BENCH_USERS"
python3 - "$WORK" "$G_ALL" "$members" <<'PY'
import base64, json, sys, uuid
work, gid, members = sys.argv[1], sys.argv[2], int(sys.argv[3])
bench = json.load(open(work + "/bench.json"))
uid = lambda n: "00000000-0000-4000-9000-%012d" % n
users = [{"id": uid(101000), "displayName": "Kim Guest", "userPrincipalName": "kim@contoso-test.onmicrosoft.com"}]
for o in bench.values():
    n = int(o["samaccountname"][0][len("bench"):])
    users.append({"id": uid(n), "displayName": "Bench User %05d" % n,
                  "userPrincipalName": "bench%05d@contoso-test.onmicrosoft.com" % n,
                  "onPremisesSyncEnabled": True,
                  "onPremisesObjectIdentifier": str(uuid.UUID(bytes_le=base64.b64decode(o["objectguid"][0][4:])))})
group = {"id": gid, "displayName": "All Staff", "mailNickname": "allstaff", "securityEnabled": True,
         "mailEnabled": False, "description": "Everyone", "members": [uid(n) for n in range(1, members + 1)] + [uid(101000)]}
json.dump({"users": users, "groups": [group]}, open(work + "/seed.json", "w"))
print("seeding Entra: %d users, a group of %d members" % (len(users), len(group["members"])))
PY
peer_ctl_file POST /_fake/seed "$WORK/seed.json" >/dev/null

scen_cloud_groups "$SAMBA_BENCH_OU" "$wb_ou"

mvs init >/dev/null
t0=$(now)
mvs cycle --initial --json >"$WORK/initial.json" 2>"$WORK/initial.err" || bad "initial cycle exited $?"
t1=$(now)
echo "TIME: initial cycle (52,000 + 52,001 users imported, a group of $members members written): $(took "$t0" "$t1") s"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["log"])' "$WORK/initial.json"
[ "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status"], r["skipped_refs"])' "$WORK/initial.json")" = "success 1" ] &&
  ok "initial: success, the cloud-only member skipped and counted" || bad "initial: not a success with 1 skipped reference"
n=$(count_members)
[ "$n" = "$members" ] && ok "initial: the AD group has $n members" || bad "initial: the AD group has $n members, want $members"
mvs cycle --delta --json >"$WORK/confirm.json" 2>/dev/null || bad "confirming delta exited $?"
t2=$(now)
echo "TIME: confirming delta cycle: $(took "$t1" "$t2") s"

# The delta: 100 members added, 50 removed, in the cloud.
python3 - "$G_ALL" "$members" >"$WORK/change.json" <<'PY'
import json, sys
gid, members = sys.argv[1], int(sys.argv[2])
uid = lambda n: "00000000-0000-4000-9000-%012d" % n
print(json.dumps({"add": [uid(n) for n in range(members + 1, members + 101)], "remove": [uid(n) for n in range(1, 51)]}))
PY
peer_ctl_file POST "/_fake/groups/$G_ALL/members" "$WORK/change.json" >/dev/null
t3=$(now)
mvs cycle --delta --dry-run --json >"$WORK/delta-dry.json" 2>/dev/null || bad "delta dry run exited $?"
t4=$(now)
mvs cycle --delta --json >"$WORK/delta.json" 2>"$WORK/delta.err" || bad "delta cycle exited $?"
t5=$(now)
echo "TIME: delta cycle (100 members added, 50 removed): dry run $(took "$t3" "$t4") s, live $(took "$t4" "$t5") s"
python3 - "$WORK" "$group_dn" <<'PY' && ok "delta: the dry run showed 100 member adds and 50 removals on the group, nothing else" || bad "delta: the dry run's sends differ"
import json, sys
work, dn = sys.argv[1], sys.argv[2]
sends = [c for c in json.load(open(work + "/delta-dry.json"))["changes"] if c["kind"] == "send"]
adds = sum(len(c["new"]) if isinstance(c["new"], list) else 1 for s in sends for c in s["changes"] if c["new"] is not None)
dels = sum(len(c["old"]) if isinstance(c["old"], list) else 1 for s in sends for c in s["changes"] if c["old"] is not None)
ok = len(sends) == 1 and sends[0]["object"].lower() == dn.lower() and (adds, dels) == (100, 50)
if not ok:
    print(len(sends), adds, dels)
sys.exit(0 if ok else 1)
PY
want=$((members + 100 - 50))
n=$(count_members)
[ "$n" = "$want" ] && ok "delta: the AD group has $n members" || bad "delta: the AD group has $n members, want $want"
samba_ldap ldapsearch -LLL -b "$group_dn" -s base member >"$WORK/members.ldif"
grep -q "^member: CN=Bench User 00001," "$WORK/members.ldif" && bad "delta: user 1 still a member" || ok "delta: removed members are gone"
last=$(printf '%05d' $((members + 100)))
grep -q "^member: CN=Bench User $last," "$WORK/members.ldif" && ok "delta: added members are there" || bad "delta: user $last not a member"
mvs runs
finish
