# Helpers of the seed scenarios (sourced): start Samba AD DC and the Graph peer, point a copy of
# an example rule set at them, run mvsync, read AD and Entra back.  Output files live in $WORK.
#
#   . "$root/tests/scenarios/lib.sh"
#   scen_start PATH/TO/mvsync        # WORK, a Samba DC and the peer (all gone on exit); MVSYNC_STORE
#   scen_rules rules/examples/X      # copies the example's *.rules into $WORK/rules (MVSYNC_RULES)
#   scen_connect_ad CONNECTOR; scen_connect_entra CONNECTOR   # the harness's URLs, CAs, secrets
#   scen_cloud_groups USERS_OU WRITEBACK_OU   # the cloud-groups-to-ad example, pointed at them
#   mvs cycle --initial              # the CLI; ok/bad/finish/ad_guid come from tests/ldap/lib.sh
#   ldap_json BASE FILTER ATTR...    # {"dn": {"attr": [values]}} (lowercase attr names)
#   graph_get PATH                   # GET <graph>/v1.0/PATH with a token, as an app would
#   peer_ctl_file METHOD PATH FILE   # a peer control call with a file body (bulk seeds)

_scen_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

scen_start() {
  MVSYNC_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  mvsync=$MVSYNC_BIN
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-scenario.XXXXXX")
  # Our own trap first: the harnesses chain theirs in front of it.
  trap 'rm -rf "$WORK"' EXIT
  . "$_scen_root/tests/ldap/samba.sh"
  . "$_scen_root/tests/graph/peer.sh"
  . "$_scen_root/tests/ldap/lib.sh"
  samba_start "${2:-base}"
  peer_start
  export MVSYNC_STORE=$WORK/mvsync.db MVSYNC_RULES=$WORK/rules
}

mvs() { "$MVSYNC_BIN" "$@"; }

scen_rules() {
  mkdir -p "$WORK/rules"
  cp "$_scen_root/$1"/*.rules "$WORK/rules/"
}

# scen_set CONNECTOR KEY VALUE: replace the setting line KEY inside CONNECTOR's block of the rule
# files in $WORK/rules (VALUE is written as is: quote strings yourself).  The rest of the text
# stays as the example ships it.
scen_set() {
  python3 - "$WORK/rules" "$1" "$2" "$3" <<'PY'
import glob, re, sys
d, conn, key, value = sys.argv[1:5]
found = False
for path in glob.glob(d + "/*.rules"):
    lines, inside, out = open(path).read().split("\n"), False, []
    for line in lines:
        if re.match(r'\s*connector\s+"%s"\s' % re.escape(conn), line):
            inside = True
        elif inside and re.match(r"\s*}", line):
            inside = False
        elif inside and re.match(r"\s*%s\s" % re.escape(key), line):
            line, found = "  %s %s" % (key, value), True
        out.append(line)
    open(path, "w").write("\n".join(out))
if not found:
    sys.exit("scen_set: no setting %s in connector %s" % (key, conn))
PY
}

# scen_cloud_groups USERS_OU WRITEBACK_OU: rules/examples/cloud-groups-to-ad pointed at the
# harness's servers, reading users from USERS_OU and writing groups to WRITEBACK_OU.
scen_cloud_groups() {
  scen_rules rules/examples/cloud-groups-to-ad
  scen_connect_ad contoso.com
  scen_connect_entra contoso.onmicrosoft.com
  sed -i -e "s/OU=Users,OU=Corp,DC=contoso,DC=com/$1/g" -e "s/OU=Cloud Groups,DC=contoso,DC=com/$2/g" \
    -e "s/DC=contoso,DC=com/$SAMBA_BASE/g" "$WORK"/rules/*.rules
}

scen_connect_ad() {
  scen_set "$1" url "\"$SAMBA_LDAPS_URL\""
  scen_set "$1" ca-file "\"$SAMBA_CA\""
  scen_set "$1" bind-dn "\"$SAMBA_BIND_DN\""
  scen_set "$1" password "file:$SAMBA_PASSWORD_FILE"
  scen_set "$1" base "\"$SAMBA_BASE\""
}

scen_connect_entra() {
  scen_set "$1" tenant "\"$PEER_TENANT\""
  scen_set "$1" client-id "\"$PEER_CLIENT_ID\""
  scen_set "$1" client-secret "file:$PEER_SECRET_FILE"
  scen_set "$1" authority "\"$PEER_LOGIN_URL\""
  scen_set "$1" graph-url "\"$PEER_GRAPH_URL\""
  scen_set "$1" ca-file "\"$PEER_CA\""
}

# ldap_json BASE FILTER ATTR...: a subtree search as JSON (values base64-decoded; binary values
# that are not UTF-8 as "b64:…"); DNs as the server spells them.
ldap_json() {
  local base=$1 filter=$2
  shift 2
  samba_ldap ldapsearch -LLL -E pr=1000/noprompt -b "$base" "$filter" "$@" | python3 -c '
import base64, json, sys
objs, cur = {}, None
for line in sys.stdin.read().split("\n"):
    if not line or line.startswith("#"):
        cur = None
        continue
    name, _, rest = line.partition(":")
    if rest.startswith(":"):
        raw = base64.b64decode(rest[1:].strip())
        try:
            value = raw.decode()
        except UnicodeDecodeError:
            value = "b64:" + rest[1:].strip()
    else:
        value = rest[1:] if rest.startswith(" ") else rest
    if name == "dn":
        cur = objs.setdefault(value, {})
    elif cur is not None:
        cur.setdefault(name.lower(), []).append(value)
json.dump(objs, sys.stdout, indent=1, sort_keys=True)
'
}

# A token from the peer's login endpoint (client credentials), then Graph reads with it.
graph_get() {
  local token
  # The token goes to curl in a 0600 header file, not on its command line.
  token=$(curl -sS --fail-with-body --cacert "$PEER_CA" \
    --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$PEER_CLIENT_ID" \
    --data-urlencode "client_secret@$PEER_SECRET_FILE" \
    --data-urlencode "scope=https://graph.microsoft.com/.default" \
    "$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
    return 1
  (umask 077; printf 'Authorization: Bearer %s\n' "$token" >"$WORK/graph-auth.hdr")
  curl -sS --fail-with-body --cacert "$PEER_CA" -H @"$WORK/graph-auth.hdr" "$PEER_GRAPH_URL/v1.0/$1"
}

# peer_ctl_file METHOD PATH FILE: a control call whose JSON body is a file (bulk seeds are larger
# than one command-line argument may be).
peer_ctl_file() {
  curl -sS --fail-with-body --cacert "$PEER_CA" -X "$1" -H 'Content-Type: application/json' \
    --data-binary @"$3" "$PEER_GRAPH_URL$2"
}
