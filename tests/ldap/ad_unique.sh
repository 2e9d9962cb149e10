#!/usr/bin/env bash
# ctest ldap_ad_unique: SelectUniqueValue asks the directory (issue 11 item 7).  A user with
# sAMAccountName ghopper exists in the domain outside the containers mvsync imports, so it is
# in no connector space; two cloud users, Grace and Grant Hopper, both derive ghopper first.
# Connect's semantics (Microsoft's expression reference: SelectUniqueValue checks uniqueness
# against the target; ref connect-sync-semantics.md): each candidate in order, taken when the
# directory or the connector space holds it or a pending add of this run gets it.  So neither
# gets ghopper; one gets grhopper (the second candidate of both) and the other its third
# candidate.  The dry run shows the values the live run then writes.
# Usage: tests/ldap/ad_unique.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-aduniq.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start
P="OU=People,$SAMBA_OU" C="OU=Cloud,$SAMBA_OU"
samba_ldap ldapadd >/dev/null <<EOF
dn: $P
objectClass: organizationalUnit

dn: $C
objectClass: organizationalUnit

dn: CN=Gerald Hopper,$P
objectClass: user
sAMAccountName: ghopper
EOF

cat >"$work/cloud.json" <<'EOF'
{"users": [{"id": "c-grace", "givenName": "Grace", "surname": "Hopper", "displayName": "Grace Hopper"},
           {"id": "c-grant", "givenName": "Grant", "surname": "Hopper", "displayName": "Grant Hopper"}],
 "groups": []}
EOF
write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$C\""
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
  flow [givenName] -> givenName
  flow [surname] -> surname
  flow [displayName] -> displayName
}

rule "Out to AD - Users" {
  direction outbound
  connector "test.lan"
  source person -> user
  link provision
  precedence 120
  dialect cloud
  scope {
    surname ISNOTNULL
  }
  flow [displayName] -> cn
  flow constant "$C" -> parentDistinguishedName
  flow SelectUniqueValue(ToLower(Join("", Mid([givenName], 1, 1), [surname])), ToLower(Join("", Mid([givenName], 1, 2), [surname])), ToLower(Join("", [givenName], [surname]))) -> sAMAccountName
}
EOF
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules
"$mvsync" init >/dev/null

# sAMAccountName of Grace and Grant, as "grace=VALUE grant=VALUE", from a dry-run diff or an
# LDIF listing: a line naming one of them starts its entry.  A dry run's value line ends with
# the rule that decided it, "  (RULE)": not part of the value.
pair() {
  awk '/Grace Hopper/ { who = "grace" } /Grant Hopper/ { who = "grant" }
       tolower($0) ~ /samaccountname: / && who { v = $0; sub(/.*[Ss][Aa][Mm][Aa]ccount[Nn]ame: */, "", v);
                                                 sub(/  \(.*$/, "", v); gsub(/"/, "", v); val[who] = v }
       END { printf "grace=%s grant=%s", val["grace"], val["grant"] }' "$1"
}
# Either order of evaluation is Connect's: the first one evaluated gets grhopper.
want1="grace=grhopper grant=granthopper" want2="grace=gracehopper grant=grhopper"

rc=0; "$mvsync" cycle --initial --dry-run >"$work/dry" 2>&1 || rc=$?
[ "$rc" = 0 ] && ok "dry run exits 0" || { bad "dry run exited $rc"; cat "$work/dry"; }
dry=$(pair "$work/dry")
{ [ "$dry" = "$want1" ] || [ "$dry" = "$want2" ]; } && ok "dry run: $dry" ||
  { bad "dry run shows '$dry', want '$want1' or '$want2'"; cat "$work/dry"; }
grep -qi 'sAMAccountName: "ghopper"' "$work/dry" && bad "the dry run would write ghopper" || ok "the dry run writes no ghopper"

rc=0; "$mvsync" cycle --initial >"$work/out" 2>&1 || rc=$?
[ "$rc" = 0 ] && ok "live run exits 0" || { bad "live run exited $rc"; cat "$work/out"; }
samba_ldap ldapsearch -LLL -b "$C" -s one "(objectClass=user)" sAMAccountName >"$work/ad.ldif" 2>&1 ||
  bad "cannot read $C"
live=$(pair "$work/ad.ldif")
[ "$live" = "$dry" ] && ok "the live run wrote what the dry run showed ($live)" ||
  { bad "live run wrote '$live', dry run showed '$dry'"; cat "$work/out" "$work/ad.ldif"; }
[ "$(samba_ldap ldapsearch -LLL -b "$SAMBA_BASE" "(sAMAccountName=ghopper)" dn | grep -c '^dn:')" = 1 ] &&
  ok "ghopper is still held by one object only" || bad "ghopper is held twice"

finish
