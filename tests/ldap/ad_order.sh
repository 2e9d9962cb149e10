#!/usr/bin/env bash
# ctest ldap_ad_order: exports go in dependency order.  One first cycle provisions, from a file
# connector (Entra shape), new users and new groups that have those users (and one another) as
# members: the users before the groups that name them, a nested group before its parent group.
# Sent by DN alone, the groups' adds came first and failed with 32 (noSuchObject), and only a
# second cycle made them.  Checked with ldapsearch: every object and member present after ONE
# cycle, zero errors.
# Usage: tests/ldap/ad_order.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-adorder.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start
N="OU=New,$SAMBA_OU"
samba_ldap ldapadd >/dev/null <<EOF
dn: $N
objectClass: organizationalUnit
EOF
u() { printf '{"id": "%s", "displayName": "%s", "mailNickname": "%s"}' "$1" "$2" "$3"; }
m() { printf '{"@odata.type": "#microsoft.graph.%s", "id": "%s"}' "$1" "$2"; }
g() { printf '{"id": "%s", "displayName": "%s", "securityEnabled": true, "mailEnabled": false, "members": [%s]}' "$1" "$2" "$3"; }
# Names chosen so that DN order puts every group before its members ("A…" < "Z…").
cat >"$work/cloud.json" <<EOF
{"users": [$(u u1 "Zoe Alpha" zalpha), $(u u2 "Zed Beta" zbeta), $(u u3 "Zack Gamma" zgamma)],
 "groups": [$(g g1 "A Team" "$(m user u1), $(m user u2), $(m group g2)"),
            $(g g2 "B Team" "$(m user u3)")]}
EOF
write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$SAMBA_OU\""
group_rule "$work/ad.rules"
cat >>"$work/ad.rules" <<EOF

connector "cloud" type file {
  shape "entra"
  path "cloud.json"
}

rule "In from cloud - Users" {
  direction inbound
  connector "cloud"
  source user -> person
  link provision
  precedence 110
  flow [id] -> objectId
  flow [displayName] -> displayName
  flow [mailNickname] -> accountName
}

rule "In from cloud - Groups" {
  direction inbound
  connector "cloud"
  source group -> group
  link provision
  precedence 120
  flow [id] -> objectId
  flow [displayName] -> displayName
  flow [members] -> members
}

rule "Out to AD - Users" {
  direction outbound
  connector "test.lan"
  source person -> user
  link provision
  precedence 200
  scope {
    objectId ISNOTNULL
  }
  flow [displayName] -> cn
  flow constant "$N" -> parentDistinguishedName
  flow [accountName] -> sAMAccountName
}

rule "Out to AD - Groups" {
  direction outbound
  connector "test.lan"
  source group -> group
  link provision
  precedence 210
  scope {
    objectId ISNOTNULL
  }
  flow [displayName] -> cn
  flow constant "$N" -> parentDistinguishedName
  flow [members] -> member
}
EOF
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules
"$mvsync" init >/dev/null
rc=0
"$mvsync" cycle --initial >"$work/out" 2>&1 || rc=$?
[ "$rc" = 0 ] && ok "the first cycle exits 0" || { bad "first cycle: exit $rc"; cat "$work/out"; }
grep -q "test.lan: export: 5 adds, 0 updates, 0 deletes, 0 errors" "$work/out" &&
  ok "one cycle: 5 adds, 0 errors" || { bad "export summary"; grep -i "export" "$work/out"; }
grep -q "failed (32)" "$work/out" && bad "an add failed with 32 (noSuchObject)" || ok "no add refused for a missing member"
members() { samba_ldap ldapsearch -LLL -b "CN=$1,$N" -s base member | sed -n 's/^member: //p' | sort | tr '\n' '|'; }
[ "$(members "A Team")" = "CN=B Team,$N|CN=Zed Beta,$N|CN=Zoe Alpha,$N|" ] &&
  ok "A Team has its two users and the nested B Team (ldapsearch)" || bad "A Team members: $(members "A Team")"
[ "$(members "B Team")" = "CN=Zack Gamma,$N|" ] && ok "B Team has its user" || bad "B Team members: $(members "B Team")"
"$mvsync" pending test.lan --json | jq -e '[.[] | select(.status == "pending")] | length == 0' >/dev/null &&
  ok "nothing left pending for a second cycle" || { bad "pending after one cycle"; "$mvsync" pending test.lan; }

finish
