#!/usr/bin/env bash
# ctest ldap_ad_delta: delta imports where DirSync reports a container, not its objects, against
# a real Samba AD DC (tests/ldap/samba.sh): an OU moved into the containers brings its objects
# whole (also when one of them changed in the same interval), an OU renamed inside them moves
# its objects' DNs, an OU moved out deletes its objects, an OU created with objects in it; delta
# ≡ full after each.  A uSNChanged watermark of another invocationId (another DC, a restored
# database) or of the old form is refused: a full import runs and the run log says why.
# Usage: tests/ldap/ad_delta.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-addelta.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start
IN="OU=In,$SAMBA_OU" OUT="OU=Out,$SAMBA_OU"
samba_ldap ldapadd >/dev/null <<EOF
dn: $IN
objectClass: organizationalUnit

dn: $OUT
objectClass: organizationalUnit

dn: OU=Stay,$IN
objectClass: organizationalUnit

dn: CN=Max Stay,OU=Stay,$IN
objectClass: user
sAMAccountName: max
mail: max@test.lan

dn: OU=Branch,$OUT
objectClass: organizationalUnit

dn: OU=Deep,OU=Branch,$OUT
objectClass: organizationalUnit

dn: CN=Kim Branch,OU=Branch,$OUT
objectClass: user
sAMAccountName: kim
mail: kim@test.lan

dn: CN=Lou Deep,OU=Deep,OU=Branch,$OUT
objectClass: user
sAMAccountName: lou
mail: lou@test.lan

dn: CN=Branch Team,OU=Branch,$OUT
objectClass: group
sAMAccountName: branch-team
groupType: -2147483640
member: CN=Kim Branch,OU=Branch,$OUT
member: CN=Lou Deep,OU=Deep,OU=Branch,$OUT
EOF

write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$IN\""
group_rule "$work/ad.rules"
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules
"$mvsync" init >/dev/null
"$mvsync" import test.lan --full >"$work/out" 2>&1 || { cat "$work/out"; bad "full import failed"; }
[ "$(cs_lines | grep -c .)" = 1 ] && ok "full import: only the object inside the containers" ||
  { bad "full import object count"; cs_lines; }
get_watermark test.lan | grep -Eq '^dirsync:[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+$' &&
  ok "watermark: the objects' and the containers' DirSync cookies" || bad "watermark $(get_watermark test.lan)"
max=$(cs_anchor "CN=Max Stay,OU=Stay,$IN")

# delta ≡ full: a fresh store's full import has the same objects and values
same_as_full() {
  cs_values | grep -v "	delete	" >"$work/after-delta"
  rm -f "$work/full.db"
  MVSYNC_STORE=$work/full.db "$mvsync" init >/dev/null
  MVSYNC_STORE=$work/full.db "$mvsync" import test.lan --full >/dev/null 2>&1
  MVSYNC_STORE=$work/full.db cs_values >"$work/after-full"
  diff "$work/after-delta" "$work/after-full" >"$work/diff" && ok "$1: delta ≡ full import" ||
    { bad "$1: delta differs from a full import"; cat "$work/diff"; }
}
delta() {
  "$mvsync" import test.lan --delta >"$work/out" 2>&1 || { cat "$work/out"; bad "$1: delta import failed"; }
  grep -q "delta import" "$work/out" || { bad "$1: not a delta"; cat "$work/out"; }
}

# --- an OU moved in (one of its objects changed too), an OU renamed inside ----------------------
samba_ldap ldapmodify >/dev/null <<EOF
dn: CN=Kim Branch,OU=Branch,$OUT
changetype: modify
replace: mail
mail: kim.b@test.lan

dn: OU=Branch,$OUT
changetype: modrdn
newrdn: OU=Branch
deleteoldrdn: 1
newsuperior: $IN

dn: OU=Stay,$IN
changetype: modrdn
newrdn: OU=Stayed
deleteoldrdn: 1
EOF
delta "move in"
B="OU=Branch,$IN"
[ "$(cs_attr "CN=Kim Branch,$B" mail)" = '"kim.b@test.lan"' ] &&
  [ "$(cs_attr "CN=Kim Branch,$B" sAMAccountName)" = '"kim"' ] &&
  ok "OU moved in: its object read whole (changed in the same interval)" ||
  { bad "OU moved in: $(cs_lines)"; }
[ "$(cs_attr "CN=Lou Deep,OU=Deep,$B" mail)" = '"lou@test.lan"' ] &&
  ok "OU moved in: an object in an OU under it" || bad "OU moved in: nested object"
[ "$(cs_refs "CN=Branch Team,$B" member)" = "CN=Kim Branch,$B|CN=Lou Deep,OU=Deep,$B" ] &&
  ok "OU moved in: its group with members at their new DNs" ||
  bad "OU moved in: members $(cs_refs "CN=Branch Team,$B" member)"
[ "$(cs_anchor "CN=Max Stay,OU=Stayed,$IN")" = "$max" ] && ok "OU renamed: its object's DN follows" ||
  { bad "OU renamed"; cs_lines; }
same_as_full "move in"
kim=$(cs_anchor "CN=Kim Branch,$B")
"$mvsync" sync --delta >/dev/null 2>&1

# --- an OU moved out, an OU created with objects in it ------------------------------------------
samba_ldap ldapmodify >/dev/null <<EOF
dn: $B
changetype: modrdn
newrdn: OU=Branch
deleteoldrdn: 1
newsuperior: $OUT

dn: OU=Fresh,$IN
changetype: add
objectClass: organizationalUnit

dn: CN=New Fresh,OU=Fresh,$IN
changetype: add
objectClass: user
sAMAccountName: newfresh
mail: new@test.lan
EOF
delta "move out"
[ "$(cs_state_of "$kim")" = delete ] && ok "OU moved out: its objects deleted" ||
  bad "OU moved out: $(cs_state_of "$kim")"
cs_lines | grep -q "^CN=Lou Deep,.*	delete	" && ok "OU moved out: nested object deleted" ||
  { bad "OU moved out: nested"; cs_lines; }
[ "$(cs_attr "CN=New Fresh,OU=Fresh,$IN" mail)" = '"new@test.lan"' ] &&
  ok "OU created: its new object seen" || bad "OU created"
same_as_full "move out"

# --- uSNChanged watermark of another invocationId -----------------------------------------------
write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$IN\"" 'delta "usn"'
group_rule "$work/ad.rules"
"$mvsync" import test.lan --full >/dev/null 2>&1
wm=$(get_watermark test.lan)
inv=$(samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "$(samba_ldap ldapsearch -LLL -o ldif-wrap=no -b "" \
  -s base dsServiceName | sed -n 's/^dsServiceName: //p')" -s base invocationId |
  sed -n 's/^invocationId:: //p' |
  python3 -c 'import base64, sys, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))')
[ "${wm#usn:$inv:}" != "$wm" ] && ok "usn watermark names the DC's invocationId ($inv)" ||
  bad "usn watermark $wm (invocationId $inv)"
"$mvsync" import test.lan --delta >"$work/out" 2>&1 && grep -q "delta import" "$work/out" &&
  ! grep -q "watermark rejected" "$work/out" && ok "usn: a delta from its own watermark" ||
  { bad "usn delta"; cat "$work/out"; }
set_watermark test.lan "usn:00000000-0000-0000-0000-000000000001:${wm##*:}"
"$mvsync" import test.lan --delta >"$work/out" 2>&1 &&
  grep -q "watermark rejected.*another domain controller.*running a full import" "$work/out" &&
  ok "usn watermark of another invocationId: refused, full import" || { bad "other invocationId"; cat "$work/out"; }
[ "$(get_watermark test.lan)" != "usn:00000000-0000-0000-0000-000000000001:${wm##*:}" ] &&
  get_watermark test.lan | grep -q "^usn:$inv:" && ok "the full import left this DC's watermark" ||
  bad "watermark after refusal: $(get_watermark test.lan)"
set_watermark test.lan "usn:${wm##*:}"
"$mvsync" import test.lan --delta >"$work/out" 2>&1 && grep -q "watermark rejected.*running a full import" "$work/out" &&
  ok "usn watermark without invocationId (old form): full import" || { bad "old usn form"; cat "$work/out"; }

finish
