#!/usr/bin/env bash
# ctest ldap_ad_export: cloud security groups (a file connector in Entra shape) written back to a
# real Samba AD DC by the ad connector, through `mvsync cycle`: a universal security group with
# members and msDS-ExternalDirectoryObjectId (groupType and a unique sAMAccountName supplied by
# the connector), the new objectGUID confirmed by the next import, an export the server rejects
# (missing parent OU: recorded in `mvsync pending`, the run goes on), member adds/removes,
# a rename, and a delete.  Usage: tests/ldap/ad_export.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-adexp.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start
P="OU=People,$SAMBA_OU" CG="OU=Cloud Groups,$SAMBA_OU"
samba_ldap ldapadd >/dev/null <<EOF
dn: $P
objectClass: organizationalUnit

dn: $CG
objectClass: organizationalUnit

dn: CN=Ann One,$P
objectClass: user
sAMAccountName: ann

dn: CN=Ben Two,$P
objectClass: user
sAMAccountName: ben

dn: CN=Cid Three,$P
objectClass: user
sAMAccountName: cid

dn: CN=Squatter,$P
objectClass: user
sAMAccountName: Sales_e9305786a271
EOF
ann=$(ad_guid "CN=Ann One,$P") ben=$(ad_guid "CN=Ben Two,$P") cid=$(ad_guid "CN=Cid Three,$P")
sales=3a5c3221-c465-48c0-95b8-e9305786a271 broken=5b6c7d8e-0000-4000-8000-00000000b0b0
u() { # id, displayName, onPremisesObjectIdentifier (none: a cloud-only user)
  local link=
  [ -z "${3:-}" ] || link=", \"onPremisesObjectIdentifier\": \"$3\""
  printf '{"id": "%s", "displayName": "%s"%s}' "$1" "$2" "$link"
}
m() { # a member reference; a second argument: removed
  local removed=
  [ -z "${2:-}" ] || removed=', "@removed": {"reason": "deleted"}'
  printf '{"@odata.type": "#microsoft.graph.user", "id": "%s"%s}' "$1" "$removed"
}
cat >"$work/cloud.json" <<EOF
{"users": [$(u c-ann "Ann One" "$ann"), $(u c-ben "Ben Two" "$ben"), $(u c-cid "Cid Three" "$cid"),
           $(u c-only "Cloud Only")],
 "groups": [
  {"id": "$sales", "displayName": "Sales", "securityEnabled": true, "mailEnabled": false,
   "members": [$(m c-ann), $(m c-ben), $(m c-only)]},
  {"id": "$broken", "displayName": "Broken", "securityEnabled": true, "mailEnabled": false,
   "members": [$(m c-cid)]}]}
EOF

write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$P|$CG\""
cat >>"$work/ad.rules" <<EOF

connector "cloud" type file {
  shape "entra"
  path "cloud.json"
}

rule "In from cloud - Users" {
  direction inbound
  connector "cloud"
  source user -> person
  link join
  precedence 110
  scope {
    onPremisesObjectIdentifier ISNOTNULL
  }
  join {
    onPremisesObjectIdentifier = adObjectGuid
  }
}

rule "In from cloud - Security groups" {
  direction inbound
  connector "cloud"
  source group -> group
  link provision
  precedence 120
  dialect cloud
  scope {
    securityEnabled EQUAL true
  }
  flow [id] -> objectId
  flow Append("Group_", [id]) -> cloudAnchor
  flow [displayName] -> displayName
  flow [members] -> members
}

rule "Out to AD - Cloud groups" {
  direction outbound
  connector "test.lan"
  source group -> group
  link provision
  precedence 120
  dialect cloud
  scope {
    cloudAnchor STARTSWITH "Group_"
    and displayName NOTSTARTSWITH "Broken"
  }
  join {
    msDS-ExternalDirectoryObjectId = cloudAnchor case-sensitive
  }
  flow Append(Append(Left(Trim([displayName]), 51), "_"), Mid([objectId], 25, 12)) -> cn
  flow constant "$CG" -> parentDistinguishedName
  flow Append("Group_", [objectId]) -> msDS-ExternalDirectoryObjectId
  flow [displayName] -> displayName
  flow [members] -> member
}

rule "Out to AD - Groups whose OU is missing" {
  direction outbound
  connector "test.lan"
  source group -> group
  link provision
  precedence 121
  dialect cloud
  scope {
    displayName STARTSWITH "Broken"
  }
  flow [displayName] -> cn
  flow constant "OU=Missing,$SAMBA_OU" -> parentDistinguishedName
  flow Append("Group_", [objectId]) -> msDS-ExternalDirectoryObjectId
  flow [members] -> member
}
EOF
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules
"$mvsync" init >/dev/null
G="CN=Sales_e9305786a271,$CG"

# --- provisioning -------------------------------------------------------------------------------
rc=0; "$mvsync" cycle --initial >"$work/out" 2>&1 || rc=$?
# One add refused (no parent OU: LDAP 32), the others done: "completed with errors".
[ "$rc" = 7 ] && grep -q "^initial cycle: completed-errors" "$work/out" &&
  ok "a partly refused export exits 7 (completed-errors)" || { bad "initial cycle exited $rc, want 7"; cat "$work/out"; }
samba_ldap ldapsearch -LLL -b "$G" -s base groupType sAMAccountName msDS-ExternalDirectoryObjectId \
  member objectGUID >"$work/g" 2>&1 || { bad "the group was not created"; cat "$work/out" "$work/g"; }
grep -q "^groupType: -2147483640$" "$work/g" && ok "universal security group (groupType -2147483640)" ||
  { bad "groupType"; cat "$work/g"; }
grep -q "^msDS-ExternalDirectoryObjectId: Group_$sales$" "$work/g" && ok "msDS-ExternalDirectoryObjectId" ||
  bad "msDS-ExternalDirectoryObjectId"
grep -q "^sAMAccountName: Sales_e9305786a271-2$" "$work/g" && ok "unique sAMAccountName (clash: suffix -2)" ||
  bad "sAMAccountName: $(grep sAMAccountName "$work/g")"
[ "$(grep '^member:' "$work/g" | sort | tr '\n' '|')" = "member: CN=Ann One,$P|member: CN=Ben Two,$P|" ] &&
  ok "members (the cloud-only member skipped)" || { bad "members"; grep member "$work/g"; }
samba_ldap ldapsearch -LLL -b "$SAMBA_OU" '(cn=Broken)' dn | grep -q dn: && bad "the OU-less group exists" ||
  ok "a missing parent OU is not created"
"$mvsync" pending test.lan --json >"$work/pending"
jq -e --arg dn "CN=Broken,OU=Missing,$SAMBA_OU" '[.[] | select(.dn == $dn and .status == "pending")] | length == 1' \
  "$work/pending" >/dev/null && ok "rejected export stays pending" || { bad "rejected export not pending"; cat "$work/pending"; }
"$mvsync" runs --json | jq -e '[.[] | select(.log != null and (.log | test("export add CN=Broken,.* failed \\(32\\)")))] | length == 1' \
  >/dev/null && ok "the run log has the LDAP result code (32)" || bad "no result code in the run log"
grep -q "No such object" "$work/pending" && ok "rejected export keeps the server's message" ||
  bad "no server message in pending"

# --- confirming import --------------------------------------------------------------------------
rc=0; "$mvsync" cycle --delta >"$work/out" 2>&1 || rc=$?
# Only the refused add is left to send, and it is refused again: every export failed.
[ "$rc" = 8 ] && grep -q "^delta cycle: all-exports-failed" "$work/out" &&
  ok "an export that sent nothing exits 8 (all-exports-failed)" || { bad "confirming cycle exited $rc, want 8"; cat "$work/out"; }
[ "$(cs_anchor "$G")" = "$(ad_guid "$G")" ] && ok "the new objectGUID is the anchor" ||
  { bad "anchor $(cs_anchor "$G") vs $(ad_guid "$G")"; cat "$work/out"; }
"$mvsync" pending test.lan --json | jq -e --arg dn "$G" '[.. | objects | select(.dn? == $dn)] | length == 0' \
  >/dev/null && ok "the confirming import cleared the group's pending export" || bad "still pending"

# --- member changes, rename, delete -------------------------------------------------------------
guid=$(ad_guid "$G")
echo "{\"value\": [{\"@odata.type\": \"#microsoft.graph.group\", \"id\": \"$sales\", \"displayName\": \"Sales Team\", \"members@delta\": [$(m c-cid), $(m c-ben x)]}]}" \
  >>"$work/cloud.json.changes"
"$mvsync" cycle --delta >"$work/out" 2>&1 || true
G2="CN=Sales Team_e9305786a271,$CG"
[ "$(ad_guid "$G2" 2>/dev/null)" = "$guid" ] && ok "rename: same object under the new DN" ||
  { bad "rename"; cat "$work/out"; }
[ "$(samba_ldap ldapsearch -LLL -b "$G2" -s base member | grep '^member:' | sort | tr '\n' '|')" = \
  "member: CN=Ann One,$P|member: CN=Cid Three,$P|" ] && ok "member added and removed" ||
  { bad "member changes"; samba_ldap ldapsearch -LLL -b "$G2" -s base member; cat "$work/out"; }
echo "{\"value\": [{\"@odata.type\": \"#microsoft.graph.group\", \"id\": \"$sales\", \"@removed\": {\"reason\": \"deleted\"}}]}" \
  >>"$work/cloud.json.changes"
"$mvsync" cycle --delta >"$work/out" 2>&1 || true
samba_ldap ldapsearch -LLL -b "$CG" '(objectClass=group)' dn | grep -q "^dn:" &&
  { bad "the group was not deleted"; cat "$work/out"; } || ok "delete"

finish
