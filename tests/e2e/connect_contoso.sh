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
mailNickname: ann
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
mailNickname: ben
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
mailNickname: ivy
userPrincipalName: ivy@$domain
displayName: Ivy Inet
mail: ivy@$domain
userAccountControl: 544

dn: CN=Dora Disabled,$corp
objectClass: user
sAMAccountName: dora
mailNickname: dora
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
# Critical system objects: Samba refuses isCriticalSystemObject on objects LDAP adds
# ("samldb: isCriticalSystemObject must not be specified"), so the synced containers include
# CN=Users, where the domain's own Administrator, Guest, krbtgt and Domain Admins carry it.
users_cn="CN=Users,$SAMBA_BASE"

# --- the rule set: the Contoso export imported, its placeholders filled ----------------------
mvs rules import connect "$root/tests/fixtures/connect-export/contoso" --out "$WORK/rules" >"$WORK/import.txt" &&
  ok "rules import connect: $(head -1 "$WORK/import.txt")" || { bad "rules import connect"; cat "$WORK/import.txt"; }
# fill CONNECTOR KEY VALUE: set KEY in CONNECTOR's block, adding the line when the import wrote
# none (the import writes the placeholders a Connect export implies: no ca-file, authority ...).
fill() {
  awk -v c="connector \"$1\" " -v k="  $2 " 'index($0, c) == 1 { in_c = 1 } in_c && /^}/ { in_c = 0 }
    in_c && index($0, k) == 1 { found = 1 } END { exit !found }' "$WORK/rules/connectors.rules" ||
    sed -i "/^connector \"$1\" /a\\  $2 \"\"" "$WORK/rules/connectors.rules"
  scen_set "$1" "$2" "$3"
}
fill "$conn_ad" url "\"$SAMBA_LDAPS_URL\""
fill "$conn_ad" ca-file "\"$SAMBA_CA\""
fill "$conn_ad" bind-dn "\"$SAMBA_BIND_DN\""
fill "$conn_ad" password "file:$SAMBA_PASSWORD_FILE"
fill "$conn_ad" base "\"$SAMBA_BASE\""
fill "$conn_ad" containers "\"$corp|$users_cn\""
for k in Forest.FQDN Domain.FQDN; do fill "$conn_ad" "$k" '"test.lan"'; done
for k in Forest.LDAP Domain.LDAP; do fill "$conn_ad" "$k" "\"$SAMBA_BASE\""; done
for k in Forest.Netbios Domain.Netbios; do fill "$conn_ad" "$k" '"TEST"'; done
fill "$conn_aad" tenant "\"$PEER_TENANT\""
fill "$conn_aad" client-id "\"$PEER_CLIENT_ID\""
fill "$conn_aad" client-secret "file:$PEER_SECRET_FILE"
fill "$conn_aad" authority "\"$PEER_LOGIN_URL\""
fill "$conn_aad" graph-url "\"$PEER_GRAPH_URL\""
fill "$conn_aad" ca-file "\"$PEER_CA\""
# Seed 003: the group writeback v2 coexistence pair (rules/examples/gwb-v2-coexistence.rules,
# Microsoft's migrate-group-writeback steps 3 and 4, ids included) added beside the imported
# set, on its connectors; its cloudNoFlow goes into the metaverse's group, as the admin adds
# it in Connect's Metaverse Designer when the server's schema lacks it.
awk '/^rule /{on=1} on' "$root/rules/examples/gwb-v2-coexistence.rules" |
  sed -e "s/connector \"contoso.onmicrosoft.com\"/connector \"$conn_aad\"/" \
      -e "s/connector \"contoso.com\"/connector \"$conn_ad\"/" >"$WORK/rules/gwb-v2-coexistence.rules"
sed -i '/^  object group {/a\    attribute cloudNoFlow boolean' "$WORK/rules/metaverse.rules"
mvs rules check "$WORK/rules" >"$WORK/check.txt" 2>&1 && ok "rules check, with the coexistence pair: $(tail -1 "$WORK/check.txt")" ||
  { bad "rules check"; cat "$WORK/check.txt"; }
mvs rules show --json "$WORK/rules" 2>/dev/null | jq -e --arg aad "$conn_aad" --arg ad "$conn_ad" '[.rules[] |
    select((.id == "e4eae1c9-b9bc-4328-ade9-df871cdd3027" and .connector == $aad and .link == "join" and .precedence == 88) or
           (.id == "419fda18-75bb-4e23-b947-8b06e7246551" and .connector == $ad and .link == "joinnoflow" and .precedence == 89))] |
    length == 2' >/dev/null && ok "the coexistence pair is in the rule set beside the imported rules" ||
  bad "the coexistence pair is not in the rule set as the seed gives it"
mvs init >/dev/null

# run_ok RUN.json WHAT: the run succeeded with no error in its log.
run_ok() {
  if jq -e '.status == "success"' "$1" >/dev/null && ! jq -r .log "$1" | grep -q '^error: '; then
    ok "$2: success, no errors"
  else
    bad "$2: status $(jq -r .status "$1")"
    jq -r .log "$1" | grep '^error: ' | head -20
  fi
}

# --- initial cycle: dry run, then live ------------------------------------------------------
mvs cycle --initial --dry-run --json >"$WORK/dry.json" 2>"$WORK/dry.err" &&
  ok "initial cycle --dry-run" || { bad "initial cycle --dry-run"; tail -20 "$WORK/dry.err"; }
graph_get 'users?$top=999' >"$WORK/users0.json"
jq -e '.value | length == 0' "$WORK/users0.json" >/dev/null && ok "dry run wrote nothing to Entra" || bad "dry run wrote users"
mvs cycle --initial --json >"$WORK/run1.json" 2>"$WORK/run1.err" || true
run_ok "$WORK/run1.json" "initial cycle"

# AD keeps what Connect leaves alone: "Out to AD - User Exchange Hybrid" only adds an x500
# address from cloudLegacyExchangeDN (Entra Connect Sync: Attributes synchronized, Exchange
# hybrid writeback); with none, Ann's own proxyAddresses stay.
ann_px=$(samba_ldap ldapsearch -LLL -b "CN=Ann Archer,$corp" -s base proxyAddresses | sed -n 's/^proxyAddresses: //p' | LC_ALL=C sort | tr '\n' ' ')
[ "$ann_px" = "SMTP:ann.archer@$domain smtp:ann@$domain " ] && ok "the initial cycle kept Ann's proxyAddresses in AD" ||
  bad "the initial cycle changed Ann's proxyAddresses in AD: now '$ann_px'"
jq -e '[.changes[] | select(.kind == "send" and .where == "contoso.com")] | length == 0' "$WORK/dry.json" >/dev/null &&
  ok "the initial cycle writes nothing back to AD (no Exchange hybrid values in this forest)" || bad "the initial cycle writes to AD"

# --- Entra against the expectations computed from AD ---------------------------------------
for c in "$corp" "$users_cn"; do
  ldap_json "$c" '(|(objectClass=user)(objectClass=group)(objectClass=contact))' objectClass objectGUID \
    mS-DS-ConsistencyGuid sAMAccountName userPrincipalName displayName cn mail proxyAddresses mailNickname \
    userAccountControl isCriticalSystemObject groupType member
done | jq -s add >"$WORK/ad.json"
graph_get 'users?$top=999&$select=id,onPremisesImmutableId,userPrincipalName,displayName,mail,mailNickname,proxyAddresses,accountEnabled' >"$WORK/users.json"
graph_get 'groups?$top=999' >"$WORK/groups.json"
for gid in $(jq -r '.value[].id' "$WORK/groups.json"); do
  graph_get "groups/$gid/members?\$select=id" >"$WORK/members-$gid.json"
done
tally < <(python3 "$root/tests/e2e/contoso_expect.py" "$WORK/ad.json" "$domain" "$WORK/users.json" "$WORK/groups.json" "$WORK")

# --- delta cycles: the second exports nothing ----------------------------------------------
for round in 1 2; do
  mvs cycle --delta --json >"$WORK/d$round.json" 2>"$WORK/d$round.err" || true
  run_ok "$WORK/d$round.json" "delta cycle $round"
done
n=$(run_exports "$WORK/d2.json")
[ "$n" = 0 ] && ok "second delta cycle exports nothing" || { bad "second delta cycle exported $n changes"; jq -r .log "$WORK/d2.json"; }
mvs runs --json >"$WORK/runs.json"
# E2E_KEEP=DIR keeps the work folder (rule set, run logs, what Graph and AD answered) there.
[ -z "${E2E_KEEP:-}" ] || cp -r "$WORK" "$E2E_KEEP"
finish
