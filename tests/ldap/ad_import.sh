#!/usr/bin/env bash
# ctest ldap_ad_import: the ad connector against a real Samba AD DC (tests/ldap/samba.sh) through
# the mvsync CLI: full import of users, contacts and groups (computers and other containers left
# out), DirSync delta after adds, attribute changes, renames, moves in and out, deletes and
# member adds/removes (delta ≡ full for the connector space), a rejected and a malformed cookie
# (full import said in the run log), and the uSNChanged delta.
# Usage: tests/ldap/ad_import.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-adimp.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start
P="OU=People,$SAMBA_OU" G="OU=Groups,$SAMBA_OU" E="OU=Elsewhere,$SAMBA_OU"
samba_ldap ldapadd >/dev/null <<EOF
dn: $P
objectClass: organizationalUnit

dn: $G
objectClass: organizationalUnit

dn: $E
objectClass: organizationalUnit

dn: CN=Ann One,$P
objectClass: user
sAMAccountName: ann
mail: ann@test.lan
proxyAddresses: SMTP:ann@test.lan
proxyAddresses: smtp:a1@test.lan

dn: CN=Ben Two,$P
objectClass: user
sAMAccountName: ben
mail: ben@test.lan

dn: CN=Cid Three,$P
objectClass: user
sAMAccountName: cid
mail: cid@test.lan

dn: CN=Out Side,$E
objectClass: user
sAMAccountName: outside
mail: outside@test.lan

dn: CN=PC1,$P
objectClass: computer
sAMAccountName: pc1\$

dn: CN=Con Tact,$P
objectClass: contact
mail: contact@example.org

dn: CN=Team (A*),$G
objectClass: group
sAMAccountName: team-a
groupType: -2147483640
member: CN=Ann One,$P
member: CN=Ben Two,$P
EOF

write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$P|$G\""
group_rule "$work/ad.rules"
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules
"$mvsync" init >/dev/null

# --- full import --------------------------------------------------------------------------------
"$mvsync" import test.lan --full >"$work/out" 2>&1 || { cat "$work/out"; bad "full import failed"; }
cs_lines >"$work/cs"
[ "$(grep -c . "$work/cs")" = 5 ] && ok "full import: 5 objects (3 users, 1 contact, 1 group)" ||
  { bad "full import object count"; cat "$work/cs"; }
grep -q "^CN=PC1," "$work/cs" && bad "a computer was imported as a user" || ok "computers left out"
grep -q "^CN=Out Side," "$work/cs" && bad "an object outside the containers was imported" ||
  ok "objects outside the containers left out"
grep -q "^CN=Con Tact,$P	contact	" "$work/cs" && ok "contact typed contact" || bad "contact type"
guid=$(ad_guid "CN=Ann One,$P")
[ "$(cs_anchor "CN=Ann One,$P")" = "$guid" ] && ok "anchor is the objectGUID text ($guid)" ||
  bad "anchor $(cs_anchor "CN=Ann One,$P") != objectGUID $guid"
cs_attr "CN=Ann One,$P" objectSid | grep -Eq '^"S-1-5-21-[0-9]+-[0-9]+-[0-9]+-[0-9]+"$' &&
  ok "objectSid as S-1-5-21-… text" || bad "objectSid: $(cs_attr "CN=Ann One,$P" objectSid)"
[ "$(cs_attr "CN=Ann One,$P" proxyAddresses)" = '["SMTP:ann@test.lan","smtp:a1@test.lan"]' ] &&
  ok "multi-valued attribute" || bad "proxyAddresses: $(cs_attr "CN=Ann One,$P" proxyAddresses)"
[ "$(cs_refs "CN=Team (A*),$G" member)" = "CN=Ann One,$P|CN=Ben Two,$P" ] && ok "group members" ||
  bad "members: $(cs_refs "CN=Team (A*),$G" member)"
ann=$(cs_anchor "CN=Ann One,$P") ben=$(cs_anchor "CN=Ben Two,$P") cid=$(cs_anchor "CN=Cid Three,$P")
"$mvsync" sync --full >/dev/null

# --- DirSync delta ------------------------------------------------------------------------------
samba_ldap ldapmodify >/dev/null <<EOF
dn: CN=Dee Four,$P
changetype: add
objectClass: user
sAMAccountName: dee
mail: dee@test.lan

dn: CN=Ann One,$P
changetype: modify
replace: mail
mail: ann.one@test.lan
-
add: proxyAddresses
proxyAddresses: smtp:ann.one@test.lan

dn: CN=Ben Two,$P
changetype: modrdn
newrdn: CN=Ben Renamed
deleteoldrdn: 1

dn: CN=Cid Three,$P
changetype: modrdn
newrdn: CN=Cid Three
deleteoldrdn: 1
newsuperior: $E

dn: CN=Out Side,$E
changetype: modrdn
newrdn: CN=Out Side
deleteoldrdn: 1
newsuperior: $P

dn: CN=Con Tact,$P
changetype: delete

dn: CN=Team (A*),$G
changetype: modify
add: member
member: CN=Dee Four,$P
-
delete: member
member: CN=Ann One,$P
EOF
"$mvsync" import test.lan --delta >"$work/out" 2>&1 || { cat "$work/out"; bad "delta import failed"; }
grep -q "delta import" "$work/out" && ok "delta import ran as a delta" || { bad "not a delta"; cat "$work/out"; }
cs_lines >"$work/cs"
grep -q "^CN=Dee Four,$P	user	add	" "$work/cs" && ok "delta: added user" || bad "delta: add"
[ "$(cs_attr "CN=Ann One,$P" mail)" = '"ann.one@test.lan"' ] && ok "delta: attribute replaced" ||
  bad "delta: mail $(cs_attr "CN=Ann One,$P" mail)"
[ "$(cs_attr "CN=Ann One,$P" proxyAddresses)" = '["SMTP:ann@test.lan","smtp:a1@test.lan","smtp:ann.one@test.lan"]' ] &&
  ok "delta: value added to a multi-valued attribute" || bad "delta: proxyAddresses $(cs_attr "CN=Ann One,$P" proxyAddresses)"
[ "$(cs_anchor "CN=Ben Renamed,$P")" = "$ben" ] && ok "delta: rename keeps the anchor" || bad "delta: rename"
[ "$(cs_state_of "$cid")" = delete ] && ok "delta: moved out of the containers = delete" ||
  bad "delta: move out ($(cs_state_of "$cid"))"
[ "$(cs_attr "CN=Out Side,$P" mail)" = '"outside@test.lan"' ] && ok "delta: moved in, read whole" ||
  bad "delta: move in $(cs_attr "CN=Out Side,$P" mail)"
grep -q "^CN=Con Tact,$P	contact	delete	" "$work/cs" && ok "delta: tombstone = delete" || bad "delta: delete"
cs_refs "CN=Team (A*),$G" member | grep -q "CN=Dee Four,$P" && ok "delta: member added (incremental)" ||
  bad "delta: member add: $(cs_refs "CN=Team (A*),$G" member)"
cs_refs "CN=Team (A*),$G" member | grep -q "CN=Ann One" && bad "delta: member not removed" ||
  ok "delta: member removed (incremental)"

# Delta ≡ full: a fresh store's full import sees the same objects and values (member values
# name renamed members by their new DN there; compared by count).
"$mvsync" sync --delta >/dev/null
cs_values | grep -v "	delete	" >"$work/after-delta"
MVSYNC_STORE=$work/full.db "$mvsync" init >/dev/null
MVSYNC_STORE=$work/full.db "$mvsync" import test.lan --full >/dev/null 2>&1
MVSYNC_STORE=$work/full.db cs_values >"$work/after-full"
diff "$work/after-delta" "$work/after-full" >"$work/diff" && ok "delta import ≡ full import" ||
  { bad "delta import differs from a full import"; cat "$work/diff"; }

# --- rejected and malformed cookies -------------------------------------------------------------
set_watermark test.lan 'dirsync:QUJDRA==|QUJDRA=='
"$mvsync" import test.lan --delta >"$work/out" 2>&1 && ok "rejected cookie: the run succeeds" ||
  bad "rejected cookie: run failed"
grep -q "watermark rejected.*running a full import" "$work/out" && ok "rejected cookie: full import said in the run log" ||
  { bad "rejected cookie: no notice"; cat "$work/out"; }
grep -q "full import:" "$work/out" && ok "rejected cookie: a full import ran" || bad "rejected cookie: no full import"
set_watermark test.lan 'garbage'
"$mvsync" import test.lan --delta >"$work/out" 2>&1 && grep -q "malformed watermark.*running a full import" "$work/out" &&
  ok "malformed watermark: full import" || { bad "malformed watermark"; cat "$work/out"; }
"$mvsync" runs --json | jq -e '[.[] | select(.log != null and (.log | test("watermark rejected")))] | length >= 2' >/dev/null &&
  ok "run history keeps the notices" || bad "run history: no watermark notice"

# --- uSNChanged delta ---------------------------------------------------------------------------
write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$P|$G\"" 'delta "usn"'
group_rule "$work/ad.rules"
"$mvsync" import test.lan --full >/dev/null 2>&1
get_watermark test.lan | grep -Eq '^usn:[0-9a-f-]{36}:[0-9]+$' && ok "usn: watermark is the DC's invocationId and highestCommittedUSN" ||
  bad "usn watermark: $(get_watermark test.lan)"
"$mvsync" sync --full >/dev/null
samba_ldap ldapmodify >/dev/null <<EOF
dn: CN=Dee Four,$P
changetype: modify
replace: mail
mail: dee.four@test.lan

dn: CN=Out Side,$P
changetype: delete

dn: CN=Ben Renamed,$P
changetype: modrdn
newrdn: CN=Ben Renamed
deleteoldrdn: 1
newsuperior: $E

dn: CN=Team (A*),$G
changetype: modify
add: member
member: CN=Ann One,$P
EOF
"$mvsync" import test.lan --delta >"$work/out" 2>&1 || { cat "$work/out"; bad "usn delta failed"; }
[ "$(cs_attr "CN=Dee Four,$P" mail)" = '"dee.four@test.lan"' ] && ok "usn: attribute change" || bad "usn: change"
grep -q "^CN=Out Side,$P	user	delete	" <(cs_lines) && ok "usn: tombstone via Show Deleted = delete" ||
  bad "usn: delete"
[ "$(cs_state_of "$ben")" = delete ] && ok "usn: moved out = delete" || bad "usn: move out"
cs_refs "CN=Team (A*),$G" member | grep -q "CN=Ann One" && ok "usn: member added" || bad "usn: member"

finish
