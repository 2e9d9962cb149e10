#!/usr/bin/env bash
# ctest ldap_harness: the Samba AD DC harness (tests/ldap/samba.sh) keeps its contract: TLS that
# verifies against SAMBA_CA only, StartTLS, plain binds, the schema extensions, and a DC that is
# stopped with its copy removed and its address released when the script exits, is killed by
# SIGTERM, or is killed by SIGKILL (watchdog). Usage: tests/ldap/harness.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-harness.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"

fails=0
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

samba_start

# --- TLS ---------------------------------------------------------------------------------------
if samba_ldap ldapsearch -LLL -b "$SAMBA_BASE" -s base dn >"$work/out" 2>&1 &&
  grep -q "^dn: $SAMBA_BASE" "$work/out"; then
  ok "ldaps to $SAMBA_IP verifies against SAMBA_CA"
else
  bad "ldaps with SAMBA_CA"; cat "$work/out"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/other.key" \
  -out "$work/other.pem" -days 1 -subj "/CN=some other CA" 2>/dev/null
tls_verify() { # CAFILE: openssl's verdict on the DC's ldaps certificate for the address
  openssl s_client -connect "$SAMBA_IP:636" -CAfile "$1" -verify_ip "$SAMBA_IP" -verify_return_error \
    </dev/null 2>&1 | grep -o 'Verify return code: .*\|verify error:.*' | head -1 || true
}
v=$(tls_verify "$SAMBA_CA")
[ "$v" = "Verify return code: 0 (ok)" ] && ok "certificate names IP:$SAMBA_IP and chains to SAMBA_CA" ||
  bad "openssl verification with SAMBA_CA: $v"
v=$(tls_verify "$work/other.pem")
case $v in "verify error:"*) ok "openssl with a different CA: $v" ;; *) bad "openssl with a different CA: $v" ;; esac
other() { LDAPTLS_CACERT=$work/other.pem LDAPTLS_REQCERT=demand "$@" -x -D "$SAMBA_BIND_DN" \
  -y "$SAMBA_PASSWORD_FILE" -b "$SAMBA_BASE" -s base dn >"$work/out" 2>&1; }
if other ldapsearch -H "$SAMBA_LDAPS_URL"; then
  bad "ldapsearch over ldaps accepted a certificate that another CA does not sign"
else
  ok "ldapsearch over ldaps with a different CA is refused"
fi
if other ldapsearch -ZZ -H "$SAMBA_LDAP_URL"; then
  bad "ldapsearch with StartTLS accepted a certificate that another CA does not sign"
else
  ok "ldapsearch with StartTLS and a different CA is refused"
fi
if LDAPTLS_CACERT=$SAMBA_CA LDAPTLS_REQCERT=demand ldapsearch -ZZ -x -H "$SAMBA_LDAP_URL" -D "$SAMBA_BIND_DN" \
  -y "$SAMBA_PASSWORD_FILE" -LLL -b "$SAMBA_BASE" -s base dn 2>&1 | grep -q "^dn: $SAMBA_BASE"; then
  ok "StartTLS (-ZZ) on $SAMBA_LDAP_URL verifies against SAMBA_CA"
else
  bad "StartTLS with SAMBA_CA"
fi
if ldapsearch -x -H "$SAMBA_LDAP_URL" -D "$SAMBA_BIND_DN" -y "$SAMBA_PASSWORD_FILE" -LLL -b "$SAMBA_BASE" \
  -s base dn 2>&1 | grep -q "^dn: $SAMBA_BASE"; then
  ok "plain ldap:// simple bind (strong auth not required)"
else
  bad "plain ldap:// simple bind"
fi
[ "$(stat -c %a "$SAMBA_PASSWORD_FILE")" = 600 ] && ok "password file is 0600" || bad "password file mode"
[ "$SAMBA_PASSWORD" = "$(cat "$SAMBA_PASSWORD_FILE")" ] && ok "SAMBA_PASSWORD matches the file" ||
  bad "SAMBA_PASSWORD differs from the file"

# --- schema extensions and the test OUs ---------------------------------------------------------
if samba_ldap ldapsearch -LLL -b "$SAMBA_OU" -s sub '(objectClass=organizationalUnit)' dn >"$work/out" &&
  grep -q "^dn: OU=Writeback,$SAMBA_OU" "$work/out" && grep -q "^dn: OU=Users,$SAMBA_OU" "$work/out"; then
  ok "OU=mvsync with OU=Writeback and OU=Users"
else
  bad "test OUs"; cat "$work/out"
fi
user="CN=Harness User,OU=Users,$SAMBA_OU"
group="CN=Harness Group,OU=Writeback,$SAMBA_OU"
single=()
for i in $(seq 1 15); do single+=("extensionAttribute$i: value $i"); done
single+=("msExchRecipientTypeDetails: 2147483648" "msExchRemoteRecipientType: 4"
  "msExchMailboxGuid:: AAECAwQFBgcICQoLDA0ODw==" "targetAddress: SMTP:harness@contoso.mail.onmicrosoft.com"
  "mailNickname: harness")
{
  printf 'dn: %s\nchangetype: add\nobjectClass: user\nsAMAccountName: harness\n' "$user"
  printf 'msDS-ExternalDirectoryObjectId: User_6f3c2a9e-0000-4000-8000-000000000002\nextensionAttribute5: five\n\n'
  printf 'dn: %s\nchangetype: add\nobjectClass: group\nsAMAccountName: harnessgroup\ngroupType: -2147483640\n' "$group"
  printf 'member: %s\nmsDS-ExternalDirectoryObjectId: Group_6f3c2a9e-0000-4000-8000-000000000001\n\n' "$user"
  printf 'dn: %s\nchangetype: modify\n' "$user"
  for a in "${single[@]}"; do printf 'replace: %s\n%s\n-\n' "${a%%:*}" "$a"; done
  printf 'replace: proxyAddresses\nproxyAddresses: SMTP:harness@test.lan\nproxyAddresses: smtp:h@test.lan\n-\n'
} >"$work/schema.ldif"
if samba_ldap ldapmodify -f "$work/schema.ldif" >"$work/out" 2>&1; then
  ok "add/modify with msDS-ExternalDirectoryObjectId, extensionAttribute1-15 and the Exchange attributes"
else
  bad "writes of the extended attributes"; cat "$work/out"
fi
samba_ldap ldapsearch -LLL -b "$user" -s base msDS-ExternalDirectoryObjectId extensionAttribute1 \
  extensionAttribute5 extensionAttribute15 msExchRecipientTypeDetails msExchRemoteRecipientType \
  msExchMailboxGuid targetAddress mailNickname proxyAddresses >"$work/user" 2>&1 || true
for want in "msDS-ExternalDirectoryObjectId: User_6f3c2a9e-0000-4000-8000-000000000002" \
  "extensionAttribute1: value 1" "extensionAttribute5: value 5" "extensionAttribute15: value 15" \
  "msExchRecipientTypeDetails: 2147483648" "msExchRemoteRecipientType: 4" \
  "msExchMailboxGuid:: AAECAwQFBgcICQoLDA0ODw==" "targetAddress: SMTP:harness@contoso.mail.onmicrosoft.com" \
  "mailNickname: harness" "proxyAddresses: SMTP:harness@test.lan" "proxyAddresses: smtp:h@test.lan"; do
  grep -qxF "$want" "$work/user" && ok "read back $want" || bad "read back $want (got: $(tr '\n' '|' <"$work/user"))"
done
samba_ldap ldapsearch -LLL -b "$SAMBA_BASE" '(msDS-ExternalDirectoryObjectId=Group_6f3c2a9e-0000-4000-8000-000000000001)' \
  member >"$work/group" 2>&1 || true
grep -qxF "member: $user" "$work/group" && ok "group found by msDS-ExternalDirectoryObjectId, with its member" ||
  { bad "group search by msDS-ExternalDirectoryObjectId"; cat "$work/group"; }

# --- restart keeps data and address -------------------------------------------------------------
samba_halt
if ldapsearch -x -H "$SAMBA_LDAP_URL" -b '' -s base dn >/dev/null 2>&1; then bad "samba_halt left the DC up"; else
  ok "samba_halt stops the DC"; fi
samba_restart
samba_ldap ldapsearch -LLL -b "$user" -s base extensionAttribute5 2>&1 | grep -qxF "extensionAttribute5: value 5" &&
  ok "samba_restart: same DC, same data, same address" || bad "samba_restart"
samba_stop

# --- lifecycle: exit, SIGTERM and SIGKILL all stop the DC and release its address ---------------
# Each child starts a DC (the three at once: parallel starts get distinct addresses), reports its
# address, samba pid and copy, then exits or waits to be killed.
cat >"$work/child.sh" <<'EOF'
set -euo pipefail
. "$1"
samba_start
echo "$SAMBA_IP $(cat "$SAMBA_DIR/run/samba.pid") $SAMBA_DIR" >"$2.tmp" && mv "$2.tmp" "$2"
[ "$3" = exit ] && exit 0
while :; do sleep 0.2; done   # short sleeps: nothing outlives a kill for long
EOF
pids=()
for how in exit term kill; do
  bash "$work/child.sh" "$here/samba.sh" "$work/$how.info" "$how" >"$work/$how.log" 2>&1 &
  pids+=($!)
done
for how in exit term kill; do
  for _ in $(seq 600); do [ -s "$work/$how.info" ] && break; sleep 0.1; done
  [ -s "$work/$how.info" ] || { bad "child ($how) did not start a DC"; cat "$work/$how.log"; }
done
kill -TERM "${pids[1]}" 2>/dev/null || true
kill -KILL "${pids[2]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
ips=()
for how in exit term kill; do
  [ -s "$work/$how.info" ] || continue
  read -r ip pid dir <"$work/$how.info"
  ips+=("$ip")
  # Up to 60 s: on a loaded machine a DC stopping beside ldap_ad_big took over 15 s.
  for _ in $(seq 600); do
    [ -d "/proc/$pid" ] || [ -d "$dir" ] || [ -d "$_samba_ips/$ip" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ] || [ -d "$dir" ] || [ -d "$_samba_ips/$ip" ]; then
    bad "after $how: DC pid $pid running, copy $dir or lock $_samba_ips/$ip left"
  else
    ok "after $how: DC on $ip stopped, copy removed, address released"
  fi
done
[ "$(printf '%s\n' "${ips[@]}" | sort -u | wc -l)" = 3 ] && ok "three DCs at once on distinct addresses (${ips[*]})" ||
  bad "parallel DCs got addresses ${ips[*]}"

echo "ldap_harness: $fails failed"
[ "$fails" = 0 ]
