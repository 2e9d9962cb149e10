#!/usr/bin/env bash
# ctest ldap_ad_tls: the ad connector verifies the DC's certificate by default: ldaps and StartTLS
# with the harness's CA work; another CA, or none, is refused (even with LDAPTLS_REQCERT=never in
# the environment); plain LDAP only with an explicit tls "none"; contradictory settings are
# refused; the password appears in no output.  Also: an account without DirSync rights falls
# back to uSNChanged, and says so.  Usage: tests/ldap/ad_tls.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-adtls.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules
"$mvsync" init >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/other.key" \
  -out "$work/other.pem" -days 1 -subj "/CN=another CA" 2>/dev/null

# try NAME URL CA [SETTING...]: a full import with that connector; its output in $work/out.
try() {
  local name=$1
  shift
  write_rules "$work/ad.rules" "$@"
  LDAPTLS_REQCERT=never "$mvsync" import test.lan --full >"$work/out" 2>&1
}
try ldaps "$SAMBA_LDAPS_URL" "" && ok "ldaps verified against the configured CA" ||
  { bad "ldaps with the right CA"; cat "$work/out"; }
try starttls "$SAMBA_LDAP_URL" "" && ok "StartTLS (the default for ldap://) verified" ||
  { bad "StartTLS with the right CA"; cat "$work/out"; }
if try wrong "$SAMBA_LDAPS_URL" "$work/other.pem"; then bad "ldaps accepted a certificate another CA does not sign"
else grep -qi "certificate\|Can't contact" "$work/out" && ok "ldaps with another CA refused" || { bad "message"; cat "$work/out"; }; fi
try wrong-starttls "$SAMBA_LDAP_URL" "$work/other.pem" && bad "StartTLS accepted another CA's certificate" ||
  ok "StartTLS with another CA refused"
try none "$SAMBA_LDAPS_URL" - && bad "ldaps accepted the certificate without a CA" ||
  ok "ldaps without a CA file refused (system CAs do not sign it)"
try plain "$SAMBA_LDAP_URL" - 'tls "none"' && ok "plain LDAP when declared (tls none)" ||
  { bad "plain LDAP with tls none"; cat "$work/out"; }
try bad1 "$SAMBA_LDAPS_URL" "" 'tls "none"' || true
grep -q 'tls "none" does not fit' "$work/out" &&
  ok "tls none with an ldaps:// URL refused" || { bad "tls none + ldaps"; cat "$work/out"; }
try bad2 "$SAMBA_LDAP_URL" "" 'tls "ldaps"' || true
grep -q 'does not fit' "$work/out" &&
  ok "tls ldaps with an ldap:// URL refused" || bad "tls ldaps + ldap://"
grep -rqF "$SAMBA_PASSWORD" "$work/out" <("$mvsync" runs --json) <("$mvsync" dump --json) &&
  bad "the password appears in output" || ok "the password appears in no output or run log"

# --- an account without DirSync rights ----------------------------------------------------------
pw='Sync!Account1'
samba_ldap ldapadd >/dev/null <<EOF
dn: CN=svc-sync,$SAMBA_OU
objectClass: user
sAMAccountName: svc-sync
unicodePwd:: $(printf '"%s"' "$pw" | iconv -t UTF-16LE | base64 -w0)
userAccountControl: 512
EOF
printf '%s' "$pw" >"$work/svc.pass"
chmod 600 "$work/svc.pass"
write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$SAMBA_OU\""
sed -i "s|bind-dn .*|bind-dn \"CN=svc-sync,$SAMBA_OU\"|; s|password file:.*|password file:$work/svc.pass|" \
  "$work/ad.rules"
rm -f "$MVSYNC_STORE"
"$mvsync" init >/dev/null
"$mvsync" import test.lan --full >"$work/out" 2>&1 && ok "full import as an account without DirSync rights" ||
  { bad "full import as svc-sync"; cat "$work/out"; }
grep -q "DirSync refused for lack of rights: tracking changes by uSNChanged" "$work/out" &&
  ok "the fallback to uSNChanged is in the run log" || { bad "no fallback notice"; cat "$work/out"; }
get_watermark test.lan | grep -Eq '^usn:[0-9a-f-]{36}:[0-9]+$' && ok "the watermark is a USN (with the DC's invocationId)" || bad "watermark"
printf 'dn: CN=svc-sync,%s\nchangetype: modify\nreplace: mail\nmail: svc@test.lan\n' "$SAMBA_OU" |
  samba_ldap ldapmodify >/dev/null
"$mvsync" import test.lan --delta >"$work/out" 2>&1 && grep -q "delta import" "$work/out" &&
  [ "$(cs_attr "CN=svc-sync,$SAMBA_OU" mail)" = '"svc@test.lan"' ] &&
  ok "the uSNChanged delta sees the change" || { bad "usn delta as svc-sync"; cat "$work/out"; }

finish
