# Samba AD DC test harness, the pristine copies (sourced by samba.sh): provisioning, the schema
# extensions, the test OUs, the big variant's data. The cache key is a hash of this file, so any
# change here rebuilds the cached copies; the folders it builds belong to the cache (samba.sh).

# The big variant's data set.
_samba_bench_users=52000   # more than Cloud Sync's 50,000-member group limit (scenario_1_large)
_samba_bench_members=6000
_samba_bench_batch=2000

# ldap-utils against a DC of ours, over plain LDAP on its address (building pristine copies only).
_samba_ldap_plain() {
  local tool=$1 dir=$2
  shift 2
  "$tool" -x -H "ldap://$_samba_ip" -D "$SAMBA_BIND_DN" -y "$dir/admin.pass" -o ldif-wrap=no "$@"
}

# The schema extensions Samba 4.17 (2012_R2 schema) lacks, as one LDIF: msDS-ExternalDirectoryObjectId
# (Samba's own 2016 definition) and the Exchange recipient attributes of scenario 3 (OIDs from the
# Exchange schema; Samba generates their schemaIDGUIDs), each a mayContain of the auxiliary class
# mailRecipient, which user, group and contact include. Only attributes the schema lacks are added.
_samba_schema_ldif() {
  local dir=$1 s="CN=Schema,CN=Configuration,$SAMBA_BASE" name cn oid syntax om extra added=()
  local defs=(
    "msDS-ExternalDirectoryObjectId|ms-DS-External-Directory-Object-Id|1.2.840.113556.1.4.2310|2.5.5.12|64|rangeUpper: 256;searchFlags: 9;schemaIDGUID:: kL8pva1m4UCIexDfBwQZpg==;attributeSecurityGUID:: hri1d0qU0RGuvQAA+ANnwQ=="
    "mailNickname|ms-Exch-Mail-Nickname|1.2.840.113556.1.2.447|2.5.5.12|64|rangeLower: 1;rangeUpper: 64;searchFlags: 1"
    "targetAddress|ms-Exch-Target-Address|1.2.840.113556.1.2.352|2.5.5.12|64|rangeLower: 1;rangeUpper: 1123;searchFlags: 1"
    "msExchRecipientTypeDetails|ms-Exch-Recipient-Type-Details|1.2.840.113556.1.4.7000.102.50855|2.5.5.16|65|searchFlags: 1"
    "msExchRemoteRecipientType|ms-Exch-Remote-Recipient-Type|1.2.840.113556.1.4.7000.102.51611|2.5.5.16|65|searchFlags: 0"
    "msExchMailboxGuid|ms-Exch-Mailbox-Guid|1.2.840.113556.1.4.7000.102.11058|2.5.5.10|4|rangeLower: 16;rangeUpper: 16;searchFlags: 1"
  )
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    defs+=("extensionAttribute$i|ms-Exch-Extension-Attribute-$i|1.2.840.113556.1.2.$((422 + i))|2.5.5.12|64|rangeLower: 1;rangeUpper: 1024;searchFlags: 16")
  done
  for i in 11 12 13 14 15; do
    defs+=("extensionAttribute$i|ms-Exch-Extension-Attribute-$i|1.2.840.113556.1.2.$((588 + i))|2.5.5.12|64|rangeLower: 1;rangeUpper: 2048;searchFlags: 16")
  done
  for i in "${defs[@]}"; do
    IFS='|' read -r name cn oid syntax om extra <<<"$i"
    if _samba_ldap_plain ldapsearch "$dir" -LLL -b "$s" -s one "(lDAPDisplayName=$name)" dn | grep -q '^dn:'; then
      continue
    fi
    added+=("$name")
    printf 'dn: CN=%s,%s\nchangetype: add\nobjectClass: top\nobjectClass: attributeSchema\ncn: %s\n' "$cn" "$s" "$cn"
    printf 'lDAPDisplayName: %s\nattributeID: %s\nattributeSyntax: %s\noMSyntax: %s\nisSingleValued: TRUE\n' \
      "$name" "$oid" "$syntax" "$om"
    printf 'showInAdvancedViewOnly: FALSE\nsystemOnly: FALSE\nisMemberOfPartialAttributeSet: TRUE\n%s\n\n' "${extra//;/$'\n'}"
  done
  [ ${#added[@]} -gt 0 ] || return 0
  printf 'dn:\nchangetype: modify\nadd: schemaUpdateNow\nschemaUpdateNow: 1\n-\n\n'
  printf 'dn: CN=Mail-Recipient,%s\nchangetype: modify\nadd: mayContain\n' "$s"
  printf 'mayContain: %s\n' "${added[@]}"
  printf -- '-\n\ndn:\nchangetype: modify\nadd: schemaUpdateNow\nschemaUpdateNow: 1\n-\n'
}

# Variant base: provision (mdb, LDAP only, pinned names), CA, strong-auth off, schema extensions,
# the test OUs. DIR is the final pristine path's build folder.
_samba_build_base() {
  local dir=$1 pass
  mkdir -p "$dir"/{run,log,cache,tls}
  : >"$dir/empty.conf"   # do not inherit globals from /etc/samba/smb.conf
  # Complexity rules need upper, lower, digit and symbol.
  pass="Mv1-$(openssl rand -hex 12)"
  (umask 077 && printf '%s' "$pass" >"$dir/admin.pass")
  samba-tool domain provision -s "$dir/empty.conf" --targetdir="$dir" \
    --realm="$SAMBA_REALM" --domain="$SAMBA_DOMAIN" --adminpass="$pass" \
    --server-role=dc --dns-backend=NONE --use-rfc2307 --backend-store=mdb \
    --host-name=dc1 --host-ip=127.0.0.1 \
    --option="netbios name=DC1" --option="interfaces=127.0.0.1/8" --option="bind interfaces only=yes" \
    --option="server services=ldap" --option="dsdb:schema update allowed=true" \
    --option="pid directory=$dir/run" --option="ncalrpc dir=$dir/run/ncalrpc" \
    --option="winbindd socket directory=$dir/run/winbindd" \
    --option="ntp signd socket directory=$dir/run/ntp_signd" \
    --option="log file=$dir/log/log.%m" --option="cache directory=$dir/cache" \
    >"$dir/log/provision.log" 2>&1 || { tail -20 "$dir/log/provision.log" >&2; return 1; }
  # Provision drops "ldap server require strong auth" given as --option; TLS files are per copy;
  # the data is throwaway, so no fsync (writes about 4 times faster).
  sed -i "s|^\[global\]\$|[global]\n\tldap server require strong auth = no\n\tldb:nosync = true\n\ttls enabled = yes\n\ttls keyfile = $dir/tls/key.pem\n\ttls certfile = $dir/tls/cert.pem\n\ttls cafile = $dir/tls/ca.pem|" \
    "$dir/etc/smb.conf"
  echo "$dir" >"$dir/.samba-root"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/tls/ca.key" \
    -out "$dir/tls/ca.pem" -days 3650 -subj "/CN=mvsync test CA $(openssl rand -hex 4)" 2>/dev/null &&
    chmod 600 "$dir/tls/ca.key" || { _samba_say "CA generation failed"; return 1; }
  _samba_up "$dir" keep || return 1
  { _samba_schema_ldif "$dir" && cat <<LDIF; } >"$dir/extend.ldif" || { _samba_down "$dir"; return 1; }

dn: $SAMBA_OU
changetype: add
objectClass: organizationalUnit
ou: mvsync

dn: OU=Writeback,$SAMBA_OU
changetype: add
objectClass: organizationalUnit
ou: Writeback

dn: OU=Users,$SAMBA_OU
changetype: add
objectClass: organizationalUnit
ou: Users
LDIF
  _samba_ldap_plain ldapmodify "$dir" -f "$dir/extend.ldif" >>"$dir/log/provision.log" 2>&1 ||
    { _samba_say "schema extension failed:"; tail -5 "$dir/log/provision.log" >&2; _samba_down "$dir"; return 1; }
  _samba_down "$dir"
}

# Variant big: base plus $_samba_bench_users users under OU=Bench and one universal security group
# with the first $_samba_bench_members of them, added online in batches (mdb: about 200 adds/s).
_samba_build_big() {
  local dir=$1 from to t0
  _samba_up "$dir" keep || return 1
  t0=$SECONDS
  printf 'dn: OU=Bench,%s\nobjectClass: organizationalUnit\nou: Bench\n\n' "$SAMBA_BASE" |
    _samba_ldap_plain ldapadd "$dir" >/dev/null || { _samba_down "$dir"; return 1; }
  for ((from = 1; from <= _samba_bench_users; from += _samba_bench_batch)); do
    to=$((from + _samba_bench_batch - 1 > _samba_bench_users ? _samba_bench_users : from + _samba_bench_batch - 1))
    awk -v from="$from" -v to="$to" -v base="$SAMBA_BASE" 'BEGIN {
        for (i = from; i <= to; i++) {
          n = sprintf("%05d", i)
          printf "dn: CN=Bench User %s,OU=Bench,%s\nobjectClass: user\nsAMAccountName: bench%s\n", n, base, n
          printf "userPrincipalName: bench%s@test.lan\ngivenName: Bench\nsn: User%s\n", n, n
          printf "displayName: Bench User %s\nmail: bench%s@test.lan\ndepartment: Dept %02d\nemployeeID: E%s\n\n", n, n, i % 50, n
        } }' | _samba_ldap_plain ldapadd "$dir" >/dev/null || { _samba_down "$dir"; return 1; }
    _samba_say "big: $to of $_samba_bench_users users ($((SECONDS - t0)) s)"
  done
  printf 'dn: CN=Bench Group,OU=Bench,%s\nobjectClass: group\nsAMAccountName: benchgroup\ngroupType: -2147483640\n\n' \
    "$SAMBA_BASE" | _samba_ldap_plain ldapadd "$dir" >/dev/null || { _samba_down "$dir"; return 1; }
  for ((from = 1; from <= _samba_bench_members; from += 1000)); do
    to=$((from + 999 > _samba_bench_members ? _samba_bench_members : from + 999))
    awk -v from="$from" -v to="$to" -v base="$SAMBA_BASE" 'BEGIN {
        printf "dn: CN=Bench Group,OU=Bench,%s\nchangetype: modify\nadd: member\n", base
        for (i = from; i <= to; i++) printf "member: CN=Bench User %05d,OU=Bench,%s\n", i, base
        print "-" }' | _samba_ldap_plain ldapmodify "$dir" >/dev/null || { _samba_down "$dir"; return 1; }
  done
  _samba_say "big: group of $_samba_bench_members members ($((SECONDS - t0)) s)"
  _samba_down "$dir"
}
