# Helpers of the ad connector's integration tests (sourced): results, a rule file for the DC the
# harness started, and the connector space of `mvsync dump --json` in greppable forms.
# Needs MVSYNC_STORE set and $mvsync; jq; sqlite3 (only to plant a watermark the server rejects).

fails=0
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
finish() {
  echo "$fails failed"
  [ "$fails" = 0 ]
}

# write_rules FILE URL CA [SETTING...]: connector "test.lan" of type ad bound as the domain
# administrator (password from the harness's file), inbound rules for users and contacts.
# CA empty: the harness's CA; "-": no ca-file line.
write_rules() {
  local file=$1 url=$2 ca=${3:-$SAMBA_CA}
  shift 3
  {
    echo 'connector "test.lan" type ad {'
    echo "  url \"$url\""
    [ "$ca" = - ] || echo "  ca-file \"$ca\""
    echo "  bind-dn \"$SAMBA_BIND_DN\""
    echo "  password file:$SAMBA_PASSWORD_FILE"
    echo "  base \"$SAMBA_BASE\""
    for s in "$@"; do echo "  $s"; done
    echo '}'
    cat <<'EOF'

rule "In from AD - User" {
  direction inbound
  connector "test.lan"
  source user -> person
  link provision
  precedence 100
  flow StringFromGuid([objectGUID]) -> adObjectGuid
  flow [sAMAccountName] -> accountName
  flow [mail] -> mail
  flow [objectSid] -> sid
  flow [proxyAddresses] -> proxyAddresses
}

rule "In from AD - Contact" {
  direction inbound
  connector "test.lan"
  source contact -> contact
  link provision
  precedence 101
  flow [mail] -> mail
}
EOF
  } >"$file"
}

# group_rule FILE: append an inbound rule projecting AD groups with their members.
group_rule() {
  cat >>"$1" <<'EOF'

rule "In from AD - Group" {
  direction inbound
  connector "test.lan"
  source group -> group
  link provision
  precedence 102
  flow [sAMAccountName] -> accountName
  flow [member] -> members
}
EOF
}

# The objectGUID of an entry as the directory stores it, in the D text form (first three groups
# little-endian), read with ldapsearch rather than with mvsync.
ad_guid() {
  samba_ldap ldapsearch -LLL -b "$1" -s base objectGUID | sed -n 's/^objectGUID:: //p' |
    python3 -c 'import base64, sys, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))'
}

_cs() { "$mvsync" dump --json | jq -r --arg c "${CONNECTOR:-test.lan}" ".connectors[\$c][] | $1"; }

# One line per object: DN, type, import state, attributes as JSON.
cs_lines() { _cs '[.dn, .type, .import, (.attrs | tojson)] | @tsv'; }
# Anchor, DN, type and non-reference values of the objects not deleted (member: its count).
cs_values() {
  _cs 'select(.import != "delete") | [.anchor, .dn, .type,
       (.attrs | with_entries(if .key == "member" then .value |= ([.] | flatten | length) else . end)
        | tojson)] | @tsv' | sort
}
cs_anchor() { _cs "select(.dn == \"$1\") | .anchor"; }
cs_state_of() { _cs "select(.anchor == \"$1\") | .import"; }
cs_attr() { _cs "select(.dn == \"$1\") | .attrs[\"$2\"] | tojson"; }
# The reference values of an attribute, sorted, joined with '|'.
cs_refs() { _cs "select(.dn == \"$1\") | [.attrs[\"$2\"]] | flatten | map(.ref) | sort | join(\"|\")"; }

# The stored watermark; planting one is how the tests make the server see a cookie it rejects.
get_watermark() { sqlite3 "$MVSYNC_STORE" "SELECT watermark FROM connector WHERE name = '$1'"; }
set_watermark() { sqlite3 "$MVSYNC_STORE" "UPDATE connector SET watermark = '$2' WHERE name = '$1'"; }
