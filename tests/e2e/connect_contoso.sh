#!/usr/bin/env bash
# Issue 13, end to end: the real Contoso Connect Sync export (tests/fixtures/connect-export/
# contoso), imported with `mvsync rules import connect`, runs an initial and then delta cycles
# against a Samba AD DC and the Graph peer.  What Entra must hold afterwards is computed here,
# independently of mvsync, by tests/e2e/contoso_expect.py from what Samba answers (objectGUID,
# userPrincipalName, userAccountControl, ...) and from Microsoft's documented semantics:
# onPremisesImmutableId is the base64 of the source anchor (Entra Connect: Design concepts,
# sourceAnchor; this export flows objectGUID), cloud-filtered objects (critical system objects,
# SystemMailbox{...} accounts, ...) are not synced.  The second delta cycle exports nothing.
# Usage: connect_contoso.sh PATH/TO/mvsync
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
. "$root/tests/scenarios/checks.sh"
scen_start "$1"
fails=0
conn_ad=contoso.com conn_aad="contoso.onmicrosoft.com - AAD"
corp="OU=Corp,$SAMBA_OU"
domain=contoso-test.onmicrosoft.com   # the peer tenant's verified domain: the UPN suffix AD users carry

# --- AD: the objects Connect Sync would see -------------------------------------------------
sysmbx='SystemMailbox{1f05a927-3be2-4fb9-aa03-b59fe3b56f4c}'
samba_ldap ldapadd >/dev/null <<LDIF
dn: $corp
objectClass: organizationalUnit

dn: CN=Ann Archer,$corp
objectClass: user
sAMAccountName: ann
userPrincipalName: ann@$domain
givenName: Ann
sn: Archer
displayName: Ann Archer
mail: ann.archer@$domain
proxyAddresses: SMTP:ann.archer@$domain
proxyAddresses: smtp:ann@$domain
userAccountControl: 544

dn: CN=Ben Baker,$corp
objectClass: user
sAMAccountName: ben
userPrincipalName: ben@$domain
displayName: Ben Baker
mail: ben.baker@$domain
mS-DS-ConsistencyGuid:: ESIzRFVmd4iZqrvM3e7/AA==
userAccountControl: 544

dn: CN=Cid Nodisplay,$corp
objectClass: user
sAMAccountName: cid
userPrincipalName: cid@$domain
userAccountControl: 544

dn: CN=Ivy Inet,$corp
objectClass: inetOrgPerson
sAMAccountName: ivy
userPrincipalName: ivy@$domain
displayName: Ivy Inet
mail: ivy@$domain
userAccountControl: 544

dn: CN=Dora Disabled,$corp
objectClass: user
sAMAccountName: dora
userPrincipalName: dora@$domain
displayName: Dora Disabled
userAccountControl: 514

dn: CN=$sysmbx,$corp
objectClass: user
sAMAccountName: SM_4f2b9c1d0e3a4b5c8
userPrincipalName: $sysmbx@$domain
displayName: Microsoft Exchange
mailNickname: $sysmbx
userAccountControl: 514

dn: CN=Crit Object,$corp
objectClass: user
sAMAccountName: crit
userPrincipalName: crit@$domain
displayName: Crit Object
userAccountControl: 544

dn: CN=MSOL_0123456789ab,$corp
objectClass: user
sAMAccountName: MSOL_0123456789ab
userPrincipalName: MSOL_0123456789ab@$domain
displayName: On-Premises Directory Synchronization Service Account
userAccountControl: 544

dn: CN=Carl Contact,$corp
objectClass: contact
displayName: Carl Contact
mail: carl@partner.example

dn: CN=Sales,$corp
objectClass: group
sAMAccountName: Sales
groupType: -2147483646
displayName: Sales
member: CN=Ann Archer,$corp
member: CN=Ben Baker,$corp

dn: CN=All Staff,$corp
objectClass: group
sAMAccountName: AllStaff
groupType: -2147483640
description: everyone
member: CN=Sales,$corp
member: CN=Ivy Inet,$corp
member: CN=Dora Disabled,$corp
member: CN=$sysmbx,$corp
LDIF
# A critical system object of our own (AD's Administrator and krbtgt are too, outside the
# synced container): isCriticalSystemObject is system-only, so with the relax control.
samba_ldap ldapmodify -e relax >/dev/null <<LDIF
dn: CN=Crit Object,$corp
changetype: modify
replace: isCriticalSystemObject
isCriticalSystemObject: TRUE
LDIF

# --- the rule set: the Contoso export imported, its placeholders filled ----------------------
mvs rules import connect "$root/tests/fixtures/connect-export/contoso" --out "$WORK/rules" >"$WORK/import.txt" &&
  ok "rules import connect: $(head -1 "$WORK/import.txt")" || { bad "rules import connect"; cat "$WORK/import.txt"; }
scen_connect_ad "$conn_ad"
scen_set "$conn_ad" containers "\"$corp\""
for k in Forest.FQDN Domain.FQDN; do scen_set "$conn_ad" "$k" '"test.lan"'; done
for k in Forest.LDAP Domain.LDAP; do scen_set "$conn_ad" "$k" "\"$SAMBA_BASE\""; done
for k in Forest.Netbios Domain.Netbios; do scen_set "$conn_ad" "$k" '"TEST"'; done
scen_connect_entra "$conn_aad"
mvs rules check "$WORK/rules" >"$WORK/check.txt" 2>&1 && ok "rules check: $(tail -1 "$WORK/check.txt")" ||
  { bad "rules check"; cat "$WORK/check.txt"; }
mvs init >/dev/null

# --- initial cycle: dry run, then live ------------------------------------------------------
mvs cycle --initial --dry-run --json >"$WORK/dry.json" 2>"$WORK/dry.err" &&
  ok "initial cycle --dry-run" || { bad "initial cycle --dry-run"; tail -20 "$WORK/dry.err"; }
graph_get 'users?$top=999' >"$WORK/users0.json"
jq -e '.value | length == 0' "$WORK/users0.json" >/dev/null && ok "dry run wrote nothing to Entra" || bad "dry run wrote users"
mvs cycle --initial --json >"$WORK/run1.json" 2>"$WORK/run1.err" || true
jq -e '.status == "success" and .errors == 0' "$WORK/run1.json" >/dev/null && ok "initial cycle: success" ||
  { bad "initial cycle"; jq . "$WORK/run1.json" | head -60; tail -20 "$WORK/run1.err"; }

# --- Entra against the expectations computed from AD ---------------------------------------
ldap_json "$corp" '(|(objectClass=user)(objectClass=group)(objectClass=contact))' objectClass objectGUID \
  mS-DS-ConsistencyGuid sAMAccountName userPrincipalName displayName cn mail proxyAddresses mailNickname \
  userAccountControl isCriticalSystemObject groupType member >"$WORK/ad.json"
graph_get 'users?$top=999&$select=id,onPremisesImmutableId,userPrincipalName,displayName,mail,proxyAddresses,accountEnabled' >"$WORK/users.json"
graph_get 'groups?$top=999' >"$WORK/groups.json"
for gid in $(jq -r '.value[].id' "$WORK/groups.json"); do
  graph_get "groups/$gid/members?\$select=id" >"$WORK/members-$gid.json"
done
tally < <(python3 "$root/tests/e2e/contoso_expect.py" "$WORK/ad.json" "$domain" "$WORK/users.json" "$WORK/groups.json" "$WORK")

# --- delta cycles: the second exports nothing ----------------------------------------------
for round in 1 2; do
  mvs cycle --delta --json >"$WORK/d$round.json" 2>"$WORK/d$round.err" || true
  jq -e '.status == "success" and .errors == 0' "$WORK/d$round.json" >/dev/null && ok "delta cycle $round: success" ||
    { bad "delta cycle $round"; jq . "$WORK/d$round.json" | head -40; }
done
n=$(run_exports "$WORK/d2.json")
[ "$n" = 0 ] && ok "second delta cycle exports nothing" || { bad "second delta cycle exported $n changes"; jq -r .log "$WORK/d2.json"; }
mvs runs --json >"$WORK/runs.json"
finish
