#!/bin/bash
# entra_users — users and groups from an AD snapshot provisioned into Entra ID through Graph,
# as Connect Sync would: the outbound rules write Connect's AAD connector names (sourceAnchor,
# alias, title, ...; docs/entra-mapping.md) and the connector turns them into Graph
# properties.  Expected values come from the documentation, computed here independently of
# mvsync: onPremisesImmutableId is the base64 of the mS-DS-ConsistencyGuid bytes when set,
# else of the objectGUID bytes (Connect's sourceAnchor; an AD GUID's bytes are its
# little-endian form); proxyAddresses follows mail (Graph's user resource); a cloud-filtered
# user (Connect's cloudFiltered rule: a sAMAccountName starting "MSOL_") is not created;
# a cloud user with the same userPrincipalName is taken (soft match), not duplicated.  Then an
# update goes as PATCH, a second cycle sends nothing, and what Graph refuses is refused by
# `rules check` (file:line:col) and by the export without a request.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
D=contoso-test.onmicrosoft.com
# A cloud-only user already there with Bo's UPN: Connect soft-matches it.
peer_ctl POST /_fake/seed "{\"users\": [{\"id\": \"c1000000-0000-4000-8000-000000000001\", \"displayName\": \"Bo (cloud)\", \"userPrincipalName\": \"bo@$D\", \"mailNickname\": \"bo\", \"accountEnabled\": true}]}" >/dev/null
cat >"$WORK/rules/ad.ldif" <<LDIF
version: 1

dn: CN=Ann Lee,OU=Users,DC=contoso,DC=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
objectGUID: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
objectSid: S-1-5-21-1004336348-1177238915-682003330-1105
sAMAccountName: ann
userPrincipalName: ann@$D
displayName: Ann Lee
givenName: Ann
sn: Lee
mail: ann.lee@$D
mailNickname: ann
title: Engineer
userAccountControl: 512

dn: CN=Bo Ek,OU=Users,DC=contoso,DC=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
objectGUID: 11111111-2222-4333-8444-555555555555
mS-DS-ConsistencyGuid:: AAECAwQFBgcICQoLDA0ODw==
objectSid: S-1-5-21-1004336348-1177238915-682003330-1106
sAMAccountName: bo
userPrincipalName: bo@$D
displayName: Bo Ek
givenName: Bo
sn: Ek
mail: bo.ek@$D
mailNickname: bo
title: Analyst
userAccountControl: 514

dn: CN=MSOL_0a1b2c3d4e5f,OU=Users,DC=contoso,DC=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
objectGUID: 22222222-3333-4444-8555-666666666666
sAMAccountName: MSOL_0a1b2c3d4e5f
userPrincipalName: MSOL_0a1b2c3d4e5f@$D
displayName: On-Premises Directory Synchronization Service Account
mailNickname: MSOL_0a1b2c3d4e5f
userAccountControl: 512

dn: CN=Finance,OU=Groups,DC=contoso,DC=com
objectClass: top
objectClass: group
objectGUID: 33333333-4444-4555-8666-777777777777
objectSid: S-1-5-21-1004336348-1177238915-682003330-2201
sAMAccountName: Finance
displayName: Finance
mailNickname: finance
member: CN=Ann Lee,OU=Users,DC=contoso,DC=com
member: CN=Bo Ek,OU=Users,DC=contoso,DC=com
LDIF
# Connect's own expressions: "In from AD - User Join" (cloudFiltered), "In from AD - User
# Common" (accountEnabled, displayName, Trim), and the sourceAnchor of an installation that
# uses mS-DS-ConsistencyGuid (falls back to objectGUID).
cat >>"$WORK/rules/entra.rules" <<'R'

connector "contoso.com" type file {
  shape "ad"
  path "ad.ldif"
}

rule "In from AD - User Join" {
  direction inbound
  connector "contoso.com"
  source user -> person
  link provision
  precedence 200
  flow IIF(IsPresent([isCriticalSystemObject]) || IsPresent([sAMAccountName]) = False || [sAMAccountName] = "SUPPORT_388945a0" || Left([mailNickname], 14) = "SystemMailbox{" || Left([sAMAccountName], 4) = "AAD_" || Left([sAMAccountName], 5) = "MSOL_", True, NULL) -> cloudFiltered
  flow IIF(IsPresent([mS-DS-ConsistencyGuid]), IIF(IsString([mS-DS-ConsistencyGuid]), CStr([mS-DS-ConsistencyGuid]), ConvertToBase64([mS-DS-ConsistencyGuid])), IIF(IsString([objectGUID]), CStr([objectGUID]), ConvertToBase64([objectGUID]))) -> sourceAnchor
  flow IIF(BitAnd([userAccountControl], 2) = 0, True, False) -> accountEnabled
  flow IIF(IsNullOrEmpty([displayName]), [cn], [displayName]) -> displayName
  flow [userPrincipalName] -> userPrincipalName
  flow [mailNickname] -> mailNickname
  flow Trim([mail]) -> mail
  flow Trim([givenName]) -> givenName
  flow Trim([sn]) -> sn
  flow Trim([title]) -> title
  flow [objectSid] -> objectSid
}

rule "In from AD - Group Join" {
  direction inbound
  connector "contoso.com"
  source group -> group
  link provision
  precedence 210
  flow IIF(IsPresent([isCriticalSystemObject]), True, NULL) -> cloudFiltered
  flow [displayName] -> displayName
  flow [mailNickname] -> mailNickname
  flow [member] -> member
}

rule "Out to AAD - User Join" {
  direction outbound
  connector "entra"
  source person -> user
  link provision
  precedence 300
  scope {
    cloudFiltered NOTEQUAL true
    and sourceAnchor ISNOTNULL
  }
  flow "CN={" & ConvertToUTF8Hex([sourceAnchor]) & "}" -> dn apply-once
  flow [sourceAnchor] -> sourceAnchor
  flow [userPrincipalName] -> userPrincipalName
  flow [accountEnabled] -> accountEnabled
  flow [displayName] -> displayName
  flow [mailNickname] -> alias
  flow [mail] -> mail
  flow [givenName] -> givenName
  flow [sn] -> surname
  flow [title] -> title
}

rule "Out to AAD - Group Join" {
  direction outbound
  connector "entra"
  source group -> group
  link provision
  precedence 310
  scope {
    cloudFiltered NOTEQUAL true
  }
  flow [mailNickname] -> dn apply-once
  flow [displayName] -> displayName
  flow [mailNickname] -> alias
  flow constant false -> mailEnabled
  flow constant true -> securityEnabled
  flow [member] -> member
}
R
# Entra's own users and groups are not projected here (this test provisions into Entra).
python3 - "$WORK/rules/entra.rules" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r'rule "In from Entra - (users|groups)" \{.*?\n\}\n', '', s, flags=re.S)
open(p, "w").write(s)
PY
mvs rules check "$WORK/rules" >/dev/null

echo "== expected values, from the documentation (not from mvsync)"
python3 - "$WORK" <<'PY'
import base64, json, sys, uuid
work = sys.argv[1]
# sourceAnchor: base64 of the binary attribute; objectGUID's bytes are the GUID's
# little-endian form (the bytes AD stores; MS-DTYP GUID packet representation).
want = {
    "ann@contoso-test.onmicrosoft.com": base64.b64encode(uuid.UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d").bytes_le).decode(),
    "bo@contoso-test.onmicrosoft.com": base64.b64encode(bytes(range(16))).decode(),
}
json.dump(want, open(work + "/want.json", "w"))
print(want)
PY

echo "== initial cycle: Ann created, Bo soft-matched, the MSOL_ account filtered, Finance created"
log_mark
mvs cycle --initial >"$WORK/cycle1.out" 2>&1 || { cat "$WORK/cycle1.out"; exit 1; }
check 'len(state["users"]) == 2' "two users in Entra: Ann created, Bo's cloud user taken (no duplicate)"
check 'not any(u["props"].get("userPrincipalName", "").startswith("MSOL_") for u in state["users"])' "the cloud-filtered MSOL_ account is not in Entra"
check 'not any("MSOL_" in i["url"] + json.dumps(i) for e in log for i in e.get("batch_items", []))' "nothing was sent for it"
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
want = json.load(open(work + "/want.json"))
state = json.load(open(work + "/state.json"))
users = {u["props"]["userPrincipalName"]: u for u in state["users"]}
D = "contoso-test.onmicrosoft.com"
ann, bo = users["ann@" + D], users["bo@" + D]
for upn, u in users.items():
    assert u["props"].get("onPremisesImmutableId") == want[upn], (upn, u["props"])
ok = {
    "Ann's onPremisesImmutableId is base64(objectGUID bytes)": True,
    "Bo's onPremisesImmutableId is base64(mS-DS-ConsistencyGuid)": True,
    "Bo soft-matched: the cloud user's id is kept": bo["id"] == "c1000000-0000-4000-8000-000000000001",
    "displayName, givenName, surname, jobTitle (from title), mailNickname (from alias)":
        (ann["props"]["displayName"], ann["props"]["givenName"], ann["props"]["surname"], ann["props"]["jobTitle"], ann["props"]["mailNickname"]) == ("Ann Lee", "Ann", "Lee", "Engineer", "ann"),
    "mail, and proxyAddresses from it (Graph derives them)":
        ann["props"]["mail"] == "ann.lee@" + D and ann["props"]["proxyAddresses"] == ["SMTP:ann.lee@" + D],
    "accountEnabled from userAccountControl (514 = disabled)":
        ann["props"]["accountEnabled"] is True and bo["props"]["accountEnabled"] is False,
    "Bo's cloud displayName replaced": bo["props"]["displayName"] == "Bo Ek",
    "no password kept or returned": all("passwordProfile" not in u["props"] for u in users.values()),
}
fin = [g for g in state["groups"] if g["props"].get("displayName") == "Finance"]
ok["Finance created with both members"] = len(fin) == 1 and sorted(fin[0]["members"]) == sorted([ann["id"], bo["id"]])
ok["Finance has no onPremisesImmutableId"] = len(fin) == 1 and "onPremisesImmutableId" not in fin[0]["props"]
for k, v in ok.items():
    if not v:
        print("FAILED: " + k); sys.exit(1)
    print("ok: " + k)
PY
check 'sum(1 for e in log for i in e.get("batch_items", []) if i["method"] == "POST" and i["url"] == "/users") == 1' "one POST /users (Ann); Bo looked up and PATCHed"
check 'any(i["method"] == "GET" and "onPremisesImmutableId" in i["url"] for e in log for i in e.get("batch_items", []))' "users looked up by onPremisesImmutableId first"
check 'not any("sourceAnchor" in i["url"] for e in log for i in e.get("batch_items", []))' "no AAD name reached Graph"

echo "== the connector space reads Graph's properties back under the AAD names"
mvs import entra --full >/dev/null
check 'sorted(o["attrs"]["sourceAnchor"] for o in cs.values() if o["type"] == "user") == sorted(json.load(open(sys.argv[1] + "/want.json")).values())' "sourceAnchor imported from onPremisesImmutableId"

echo "== an AD change goes as PATCH; a second cycle sends nothing"
sed -i 's/^title: Engineer$/title: Lead Engineer/; s/^mail: ann.lee@/mail: ann@/' "$WORK/rules/ad.ldif"
log_mark
mvs cycle >"$WORK/cycle2.out" 2>&1 || { cat "$WORK/cycle2.out"; exit 1; }
check '[(i["method"], i["url"].split("/")[1]) for e in log for i in e.get("batch_items", [])] == [("PATCH", "users")]' "one PATCH /users/{id}, nothing else"
check 'next(u for u in state["users"] if u["props"]["userPrincipalName"].startswith("ann@"))["props"]["jobTitle"] == "Lead Engineer"' "jobTitle updated"
check 'next(u for u in state["users"] if u["props"]["userPrincipalName"].startswith("ann@"))["props"]["proxyAddresses"][0] == "SMTP:ann@contoso-test.onmicrosoft.com"' "the new mail is the primary proxy address"
log_mark
mvs cycle >"$WORK/cycle3.out" 2>&1 || { cat "$WORK/cycle3.out"; exit 1; }
check 'not any(e.get("batch_items") for e in log)' "a third cycle writes nothing (converged)"

echo "== what Graph refuses: rules check names it; nothing is sent"
cp "$WORK/rules/entra.rules" "$WORK/entra.rules.good"
sed -i 's/^  flow \[title\] -> title$/  flow [title] -> title\n  flow [objectSid] -> onPremiseSecurityIdentifier/' "$WORK/rules/entra.rules"
rc=0; out=$(mvs rules check "$WORK/rules" 2>&1) || rc=$?
echo "$out" | grep -E "entra.rules:[0-9]+:[0-9]+: error: 'onPremiseSecurityIdentifier' cannot be written to Entra users \(read-only\)" >/dev/null \
  || { echo "FAILED: rules check did not refuse onPremiseSecurityIdentifier (rc $rc): $out"; exit 1; }
[ "$rc" != 0 ] || { echo "FAILED: rules check exited 0"; exit 1; }
echo "ok: rules check refuses onPremiseSecurityIdentifier with file:line:col (exit $rc)"
cp "$WORK/entra.rules.good" "$WORK/rules/entra.rules"
