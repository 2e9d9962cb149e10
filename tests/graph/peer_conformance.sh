#!/usr/bin/env bash
# Conformance of the Graph peer (tools/graph_peer.py) with graph-api.md §3, points 1-10,
# driven over HTTPS with curl --cacert; JSON is read with python3. Usage: peer_conformance.sh
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
peer_start || exit 1
T=$PEER_DIR/t
mkdir -p "$T"
fails=0
n=0

# The checker: evaluates a Python expression over the last response: s (status), j (JSON body
# or None), b (raw body), h (headers, lower-case names), P (pages of the last round), E (their
# entries), plus any NAME=VALUE given after the expression as a variable.
cat >"$T/chk.py" <<'PY'
import json, sys
T = sys.argv[1]
expr = sys.argv[2]
env = dict(a.split("=", 1) for a in sys.argv[3:])
b = open(T + "/body", "rb").read()
try:
    j = json.loads(b)
except ValueError:
    j = None
s = int(open(T + "/status").read() or 0)
h = {}
for line in open(T + "/hdr", encoding="latin-1").read().splitlines()[1:]:
    k, _, v = line.partition(":")
    if v:
        h[k.strip().lower()] = v.strip()
P = []
try:
    P = [json.loads(l) for l in open(T + "/pages")]
except OSError:
    pass
E = [e for p in P for e in p.get("value", [])]
def tok(link):
    import base64
    t = link.split("token=")[1]
    return json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))
def log():
    return json.load(open(T + "/log"))["requests"]
globals().update(env)
if "email." in expr:
    import email.utils
v = eval(expr)
sys.exit(0 if v else 1)
PY

# req METHOD URL [curl args]: status -> $T/status, body -> $T/body, headers -> $T/hdr; $rc
req() {
  local method=$1 url=$2; shift 2
  curl -sS --cacert "$PEER_CA" -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$method" "$@" \
    "$url" >"$T/status" 2>"$T/curl_err"
  rc=$?
}
# g METHOD PATH [curl args]: a Graph call with the current token
g() { local m=$1 p=$2; shift 2; req "$m" "$PEER_GRAPH_URL$p" -H "Authorization: Bearer $TOKEN" "$@"; }
gj() { local m=$1 p=$2 d=$3; shift 3; g "$m" "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
# ok NAME EXPR [VAR=VALUE...]: one assertion on the last response
ok() {
  local name=$1 expr=$2; shift 2
  n=$((n + 1))
  if ! "$PEER_PYTHON" -S "$T/chk.py" "$T" "$expr" "$@"; then
    fails=$((fails + 1))
    printf 'FAIL %s\n  expr: %s\n  status: %s curl rc: %s\n  body: %.600s\n' "$name" "$expr" \
      "$(cat "$T/status")" "$rc" "$(cat "$T/body")"
  fi
}
# py EXPR: prints the value of a Python expression over the last response
py() { "$PEER_PYTHON" -S - "$T" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1] + "/body"))
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))
PY
}
ctl() { peer_ctl "$@" >"$T/ctl" || { fails=$((fails + 1)); echo "FAIL control $*: $(cat "$T/ctl")"; }; }
# follow URL [curl args]: one delta/list round from URL; pages -> $T/pages; $last_link
follow() {
  local url=$1; shift
  : >"$T/pages"
  local guard=0
  while [ $guard -lt 5000 ]; do
    guard=$((guard + 1))
    req GET "$url" -H "Authorization: Bearer $TOKEN" "$@"
    if [ "$(cat "$T/status")" != 200 ]; then
      echo "follow: $url -> $(cat "$T/status") $(cat "$T/body")" >&2
      return 1
    fi
    cat "$T/body" >>"$T/pages"; echo >>"$T/pages"
    url=$(py 'j.get("@odata.nextLink", "")')
    if [ -z "$url" ]; then
      last_link=$(py 'j.get("@odata.deltaLink", "")')
      return 0
    fi
  done
  return 1
}
token_secret() {
  req POST "$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token" -d grant_type=client_credentials \
    -d "client_id=$PEER_CLIENT_ID" --data-urlencode "client_secret@$PEER_SECRET_FILE" \
    -d scope=https://graph.microsoft.com/.default
  TOKEN=$(py 'j.get("access_token", "")')
}
id_of() { "$PEER_PYTHON" -S -c 'import json,sys; print(json.load(open(sys.argv[1]))["value"][int(sys.argv[2])]["id"])' "$T/ctl" "$1"; }

uA=11111111-1111-4111-8111-000000000001 uB=11111111-1111-4111-8111-000000000002
uC=11111111-1111-4111-8111-000000000003 uD=11111111-1111-4111-8111-000000000004
uE=11111111-1111-4111-8111-000000000005 uS=11111111-1111-4111-8111-000000000006
gEmpty=22222222-2222-4222-8222-000000000001 gSmall=22222222-2222-4222-8222-000000000002
gDyn=22222222-2222-4222-8222-000000000003
ctl POST /_fake/seed "$(cat <<EOF
{"users": [
  {"id": "$uA", "displayName": "Ann", "department": "Finance", "jobTitle": "Clerk", "userPrincipalName": "ann@contoso-test.onmicrosoft.com"},
  {"id": "$uB", "displayName": "Bob", "department": "Sales", "jobTitle": "Rep"},
  {"id": "$uC", "displayName": "Cid", "department": "Sales"},
  {"id": "$uD", "displayName": "Dee", "department": "Legal"},
  {"id": "$uE", "displayName": "Eve", "department": "Legal", "mail": "eve@contoso-test.onmicrosoft.com"},
  {"id": "$uS", "displayName": "Sam", "onPremisesSyncEnabled": true,
   "onPremisesObjectIdentifier": "5c8e2f5a-0000-4000-8000-00000000ad01"}],
 "groups": [
  {"id": "$gEmpty", "displayName": "Empty", "mailNickname": "empty", "securityEnabled": true, "mailEnabled": false},
  {"id": "$gSmall", "displayName": "Small", "mailNickname": "small", "members": ["$uA", "$uB", "$uC"]},
  {"id": "$gDyn", "displayName": "Dyn", "mailNickname": "dyn", "groupTypes": ["DynamicMembership"],
   "membershipRule": "user.department -eq \"Legal\"", "members": ["$uD"]}]}
EOF
)"

# ---- 9. Auth -------------------------------------------------------------------------------
token_secret
ok token-secret 's == 200 and j["token_type"] == "Bearer" and isinstance(j["expires_in"], int) and j["access_token"].count(".") == 2'
req POST "$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token" -u "$PEER_CLIENT_ID:$(cat "$PEER_SECRET_FILE")" \
  -d grant_type=client_credentials -d scope=https://graph.microsoft.com/.default
ok token-basic 's == 200 and j["access_token"]'
req POST "$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token" -d grant_type=client_credentials \
  -d "client_id=$PEER_CLIENT_ID" -d client_secret=wrong -d scope=https://graph.microsoft.com/.default
ok token-bad-secret 's == 401 and j["error"] == "invalid_client" and j["error_codes"] == [7000215] and j["error_description"].startswith("AADSTS7000215:") and all(k in j for k in ("timestamp", "trace_id", "correlation_id"))'
req POST "$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token" -d grant_type=client_credentials \
  -d "client_id=$PEER_CLIENT_ID" --data-urlencode "client_secret@$PEER_SECRET_FILE" -d scope=https://example.org/.default
ok token-bad-scope 's == 400 and j["error"] == "invalid_scope" and j["error_codes"] == [70011]'

# Certificate assertions: a client key pair, registered with its PEM; JWTs signed by openssl.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/client.key" -out "$T/client.pem" -days 1 \
  -subj /CN=mvsync-test-client 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -out "$T/other.pem" -days 1 \
  -subj /CN=other 2>/dev/null
ctl POST /_fake/certificates "$("$PEER_PYTHON" -S -c 'import json,sys; print(json.dumps({"pem": open(sys.argv[1]).read()}))' "$T/client.pem")"
cat >"$T/jwt.py" <<'PY'
import base64, hashlib, json, subprocess, sys, time, uuid
alg, thumb, key, cert, aud, client, overrides = sys.argv[1:8]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True).stdout
b64 = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
head = {"alg": alg, "typ": "JWT"}
head[thumb] = b64((hashlib.sha256 if thumb == "x5t#S256" else hashlib.sha1)(der).digest())
now = int(time.time())
claims = {"aud": aud, "iss": client, "sub": client, "jti": str(uuid.uuid4()), "nbf": now,
          "iat": now, "exp": now + 600}
claims.update(json.loads(overrides))
data = (b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())).encode()
cmd = ["openssl", "dgst", "-sha256", "-sign", key]
if alg == "PS256":
    cmd += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
sig = subprocess.run(cmd, input=data, capture_output=True, check=True).stdout
print(data.decode() + "." + b64(sig))
PY
token_url="$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token"
assert_token() { # assert_token JWT
  req POST "$token_url" -d grant_type=client_credentials -d "client_id=$PEER_CLIENT_ID" \
    -d scope=https://graph.microsoft.com/.default \
    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    -d "client_assertion=$1"
}
jwt=$("$PEER_PYTHON" -S "$T/jwt.py" PS256 'x5t#S256' "$T/client.key" "$T/client.pem" "$token_url" "$PEER_CLIENT_ID" '{}')
assert_token "$jwt"
ok assertion-ps256 's == 200 and j["access_token"]'
assert_token "$jwt"
ok assertion-jti-replay 's == 401 and j["error"] == "invalid_client" and j["error_codes"] == [700025]'
assert_token "$("$PEER_PYTHON" -S "$T/jwt.py" RS256 x5t "$T/client.key" "$T/client.pem" "$token_url" "$PEER_CLIENT_ID" '{}')"
ok assertion-rs256-x5t 's == 200 and j["access_token"]'
assert_token "$("$PEER_PYTHON" -S "$T/jwt.py" PS256 'x5t#S256' "$T/client.key" "$T/client.pem" https://login.microsoftonline.com/x/oauth2/v2.0/token "$PEER_CLIENT_ID" '{}')"
ok assertion-bad-aud 's == 401 and j["error_codes"] == [700212]'
assert_token "$("$PEER_PYTHON" -S "$T/jwt.py" PS256 'x5t#S256' "$T/client.key" "$T/client.pem" "$token_url" other-client '{}')"
ok assertion-bad-iss 's == 401 and j["error_codes"] == [700021]'
assert_token "$("$PEER_PYTHON" -S "$T/jwt.py" PS256 'x5t#S256' "$T/client.key" "$T/client.pem" "$token_url" "$PEER_CLIENT_ID" "{\"exp\": $(($(date +%s) - 900)), \"nbf\": $(($(date +%s) - 1500))}")"
ok assertion-expired 's == 401 and j["error_codes"] == [700024]'
assert_token "$("$PEER_PYTHON" -S "$T/jwt.py" PS256 'x5t#S256' "$T/client.key" "$T/client.pem" "$token_url" "$PEER_CLIENT_ID" "{\"nbf\": $(($(date +%s) + 1200))}")"
ok assertion-not-yet-valid 's == 401 and j["error_codes"] == [700024]'
# Signed by another key but naming the registered certificate: signature check fails.
bad=$("$PEER_PYTHON" -S "$T/jwt.py" PS256 'x5t#S256' "$T/other.key" "$T/client.pem" "$token_url" "$PEER_CLIENT_ID" '{}')
assert_token "$bad"
ok assertion-bad-signature 's == 401 and j["error_codes"] == [700027]'
assert_token "$("$PEER_PYTHON" -S "$T/jwt.py" PS256 'x5t#S256' "$T/other.key" "$T/other.pem" "$token_url" "$PEER_CLIENT_ID" '{}')"
ok assertion-unknown-cert 's == 401 and j["error_codes"] == [700027]'

token_secret
req GET "$PEER_GRAPH_URL/v1.0/users"
ok no-token '''s == 401 and j["error"]["code"] == "InvalidAuthenticationToken" and j["error"]["message"] == "Access token is empty."'''
req GET "$PEER_GRAPH_URL/v1.0/users" -H "Authorization: Bearer not-a-token"
ok bad-token 's == 401 and j["error"]["code"] == "InvalidAuthenticationToken"'

# Token expiry in the middle of paging: a short lifetime, the fake clock moves past it.
ctl POST /_fake/config '{"expires_in": 60}'
token_secret
ok short-expires-in 'j["expires_in"] == 60'
g GET '/v1.0/users?$select=displayName'
next=$(py 'j["@odata.nextLink"]')
ctl POST /_fake/clock '{"advance": 61}'
req GET "$next" -H "Authorization: Bearer $TOKEN"
ok expired-mid-paging '''s == 401 and j["error"]["code"] == "InvalidAuthenticationToken" and "expired" in j["error"]["message"]'''
token_secret
req GET "$next" -H "Authorization: Bearer $TOKEN"
ok renewed-same-nextlink 's == 200 and len(j["value"]) == 3'
ctl POST /_fake/config '{"expires_in": 3599}'
token_secret

# ---- 10. Envelope --------------------------------------------------------------------------
g GET /v1.0/users/00000000-0000-4000-8000-00000000dead -H 'client-request-id: 5f1b9f27-0000-4000-8000-00000000c1d0'
ok envelope '''s == 404 and list(j) == ["error"] and sorted(j["error"]) == ["code", "innerError", "message"] and j["error"]["code"] == "Request_ResourceNotFound" and sorted(j["error"]["innerError"]) == ["client-request-id", "date", "request-id"] and j["error"]["innerError"]["client-request-id"] == "5f1b9f27-0000-4000-8000-00000000c1d0" and j["error"]["innerError"]["request-id"] == h["request-id"]'''
ok envelope-headers '''h["client-request-id"] == "5f1b9f27-0000-4000-8000-00000000c1d0" and len(h["request-id"]) == 36 and h["content-type"] == "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"'''
ok envelope-date '__import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", j["error"]["innerError"]["date"])'

# ---- 5. Lists ------------------------------------------------------------------------------
USER_DEFAULT='["businessPhones","displayName","givenName","id","jobTitle","mail","mobilePhone","officeLocation","preferredLanguage","surname","userPrincipalName"]'
follow "$PEER_GRAPH_URL/v1.0/users"
ok list-pages '''len(P) == 2 and [len(p["value"]) for p in P] == [3, 3] and "@odata.nextLink" in P[0] and "@odata.nextLink" not in P[1] and "$skiptoken=" in P[0]["@odata.nextLink"]'''
ok list-default-properties 'all(sorted(e) == sorted(json.loads(D)) for e in E) and len({e["id"] for e in E}) == 6 and E[0]["businessPhones"] == [] and E[0]["givenName"] is None' "D=$USER_DEFAULT"
ok list-context 'P[0]["@odata.context"].endswith("/v1.0/$metadata#users")'
g GET '/v1.0/users?$top=1000'
ok top-1000 '''s == 400 and j["error"]["message"] == "Invalid page size specified: \x271000\x27. Must be between 1 and 999 inclusive."'''
g GET '/v1.0/users?$top=0'
ok top-0 '''s == 400 and j["error"]["message"] == "Invalid page size specified: \x270\x27. Must be between 1 and 999 inclusive."'''
g GET '/v1.0/users?$top=999&$select=displayName,department'
ok top-999-select '''s == 200 and len(j["value"]) == 6 and "@odata.nextLink" not in j and all(sorted(e) == ["department", "displayName", "id"] for e in j["value"]) and j["@odata.context"].endswith("#users(displayName,department)")'''
g GET '/v1.0/users?$top=4'
next=$(py 'j["@odata.nextLink"]')
ok top-4 'len(j["value"]) == 4'
req GET "$next" -H "Authorization: Bearer $TOKEN"
ok skiptoken-keeps-top 'len(j["value"]) == 2 and "@odata.nextLink" not in j'
g GET /v1.0/users -H 'Prefer: odata.maxpagesize=5'
ok maxpagesize 'len(j["value"]) == 5'
g GET /v1.0/groups
ok group-defaults '''s == 200 and {"securityIdentifier", "groupTypes", "mailNickname", "onPremisesSyncEnabled", "proxyAddresses", "visibility"} <= set(j["value"][0]) and "members" not in j["value"][0]'''
g GET "/beta/users/$uA?\$select=displayName,onPremisesObjectIdentifier"
ok beta-get-select '''s == 200 and j["@odata.context"].endswith("/beta/$metadata#users(displayName,onPremisesObjectIdentifier)/$entity") and j["onPremisesObjectIdentifier"] is None and j["displayName"] == "Ann"'''
g GET "/v1.0/groups/$gSmall/members"
ok members-list '''s == 200 and j["@odata.context"].endswith("#directoryObjects") and j["value"][0]["@odata.type"] == "#microsoft.graph.user" and len(j["value"]) == 3'''

# ---- 1. Delta paging -----------------------------------------------------------------------
follow "$PEER_GRAPH_URL/v1.0/users/delta?\$select=displayName,department"
ok delta-first-empty 'P[0]["value"] == [] and "@odata.nextLink" in P[0]'
ok delta-one-link '''all(("@odata.nextLink" in p) != ("@odata.deltaLink" in p) for p in P) and all(len(p["value"]) <= 3 for p in P) and "$deltatoken=" in P[-1]["@odata.deltaLink"] and all("$skiptoken=" in p["@odata.nextLink"] for p in P[:-1])'''
ok delta-all-users 'sorted(e["id"] for e in E) == sorted(U.split(","))' "U=$uA,$uB,$uC,$uD,$uE,$uS"
ok delta-token-select 'tok(P[-1]["@odata.deltaLink"])["sel"] == ["displayName", "department"] and tok(P[0]["@odata.nextLink"])["sel"] == ["displayName", "department"]'
ok delta-never-set-absent '[e for e in E if e["id"] == S][0] == {"id": S, "displayName": "Sam"}' "S=$uS"
users_delta=$last_link
follow "$PEER_GRAPH_URL/v1.0/users/microsoft.graph.delta?\$select=displayName"
ok delta-long-form 'len(E) == 6 and P[-1]["@odata.deltaLink"].split("?")[0].endswith("/users/microsoft.graph.delta")'
g GET '/v1.0/users/delta?$deltatoken=latest&$select=displayName'
ok deltatoken-latest '''s == 200 and j["value"] == [] and "@odata.deltaLink" in j and "@odata.nextLink" not in j'''
latest=$(py 'j["@odata.deltaLink"]')
follow "$PEER_GRAPH_URL/v1.0/users/delta?\$filter=id%20eq%20'$uA'%20or%20id%20eq%20'$uB'"
ok delta-filter-ids 'sorted(e["id"] for e in E) == sorted([A, B])' "A=$uA" "B=$uB"
ids=$("$PEER_PYTHON" -S -c 'print("%20or%20".join("id%%20eq%%20%%27%08d-0000-4000-8000-000000000000%%27" % i for i in range(51)))')
g GET "/v1.0/users/delta?\$filter=$ids"
ok delta-filter-51 's == 400'
g GET "/v1.0/users/delta?\$top=5"
ok delta-no-top 's == 400'
req GET "$(sed -n 1p "$T/pages" | "$PEER_PYTHON" -S -c 'import json,sys; print(json.load(sys.stdin)["@odata.nextLink"])')&\$select=displayName" -H "Authorization: Bearer $TOKEN"
ok delta-skiptoken-with-select 's == 400'

# ---- 2. Change rules -----------------------------------------------------------------------
ctl PATCH "/_fake/users/$uA" '{"department": "Treasury"}'
ctl PATCH "/_fake/users/$uB" '{"jobTitle": "Lead"}'
ctl POST "/_fake/users/$uC/soft-delete"
ctl POST "/_fake/users/$uD/hard-delete"
follow "$users_delta"
ok change-selected '[e for e in E if e["id"] == A] == [{"id": A, "displayName": "Ann", "department": "Treasury"}]' "A=$uA"
ok change-outside-select-suppressed 'not [e for e in E if e["id"] == B]' "B=$uB"
ok soft-delete-changed '[e for e in E if e["id"] == C] == [{"id": C, "@removed": {"reason": "changed"}}]' "C=$uC"
ok hard-delete-deleted '[e for e in E if e["id"] == D] == [{"id": D, "@removed": {"reason": "deleted"}}]' "D=$uD"
ok change-count 'len(E) == 3'
users_delta=$last_link
ctl PATCH "/_fake/users/$uA" '{"displayName": "Ann B"}'
ctl PATCH "/_fake/users/$uE" '{"department": null}'
ctl POST "/_fake/users/$uC/restore"
follow "$users_delta" -H 'Prefer: return=minimal'
ok minimal-only-changed '[e for e in E if e["id"] == A] == [{"id": A, "displayName": "Ann B"}]' "A=$uA"
ok explicit-null '[e for e in E if e["id"] == X] == [{"id": X, "department": None}]' "X=$uE"
ok restore-plain '[e for e in E if e["id"] == C] == [{"id": C, "displayName": "Cid", "department": "Sales"}]' "C=$uC"
follow "$users_delta"
ok default-all-selected '[e for e in E if e["id"] == A] == [{"id": A, "displayName": "Ann B", "department": "Treasury"}] and [e for e in E if e["id"] == X] == [{"id": X, "displayName": "Eve", "department": None}]' "A=$uA" "X=$uE"
follow "$latest"
ok latest-then-changes 'sorted(e["id"] for e in E) == sorted([A, C, D])' "A=$uA" "C=$uC" "D=$uD"

# ---- 3. members@delta ----------------------------------------------------------------------
follow "$PEER_GRAPH_URL/v1.0/groups/delta?\$select=displayName,members"
ok members-absent-when-empty '[e for e in E if e["id"] == G] == [{"id": G, "displayName": "Empty"}]' "G=$gEmpty"
ok members-initial 'sorted(m["id"] for e in E if e["id"] == G for m in e["members@delta"]) == sorted([A, B, C]) and all(m["@odata.type"] == "#microsoft.graph.user" and "@removed" not in m for e in E if e["id"] == G for m in e["members@delta"])' "G=$gSmall" "A=$uA" "B=$uB" "C=$uC"
ok groups-context 'P[0]["@odata.context"].endswith("/v1.0/$metadata#groups(displayName,members)")'
groups_delta=$last_link
ctl POST "/_fake/groups/$gSmall/members" "{\"remove\": [\"$uB\"], \"add\": [\"$uE\"]}"
follow "$groups_delta"
ok member-removed '''[e for e in E if e["id"] == G] and sorted([(m["id"], m.get("@removed")) for e in E if e["id"] == G for m in e["members@delta"]], key=str) == sorted([(B, {"reason": "deleted"}), (X, None)], key=str)''' "G=$gSmall" "B=$uB" "X=$uE"
groups_delta=$last_link
# A member object deleted: its removal is reported the same way.
ctl POST "/_fake/users/$uE/soft-delete"
follow "$groups_delta"
ok member-object-deleted '[m for e in E if e["id"] == G for m in e["members@delta"]] == [{"@odata.type": "#microsoft.graph.user", "id": X, "@removed": {"reason": "deleted"}}]' "G=$gSmall" "X=$uE"
ctl POST "/_fake/users/$uE/restore"
# Large group: members split over several entries and pages, to be merged by the client.
ctl POST /_fake/generate '{"users": 25, "groups": 0, "large_groups": [25], "prefix": "big", "seed": 7}'
big=$("$PEER_PYTHON" -S -c 'import json,sys; print(json.load(open(sys.argv[1]))["large_groups"][0])' "$T/ctl")
ctl POST /_fake/config '{"member_split": 4}'
follow "$PEER_GRAPH_URL/v1.0/groups/delta?\$select=displayName,members"
ok large-group-split '''len([e for e in E if e["id"] == G]) == 7 and len({m["id"] for e in E if e["id"] == G for m in e["members@delta"]}) == 25 and all(len(e["members@delta"]) <= 4 for e in E if e["id"] == G) and len([p for p in P if any(e["id"] == G for e in p["value"])]) >= 3''' "G=$big"
ctl POST /_fake/config '{"member_split": 20, "replay": 1}'
follow "$PEER_GRAPH_URL/v1.0/groups/delta?\$select=displayName,members"
ok replay-duplicates 'len([e for e in E if e["id"] == G]) == 4 and len([e for e in E if e["id"] == S]) == 2' "G=$big" "S=$gSmall"
ctl POST /_fake/config '{"replay": 0}'

# ---- 4. Resync and expiry ------------------------------------------------------------------
follow "$PEER_GRAPH_URL/v1.0/users/delta?\$select=displayName"
users_delta=$last_link
ctl POST /_fake/faults '{"kind": "resync", "method": "GET", "path": "/v1.0/users/delta"}'
req GET "$users_delta" -H "Authorization: Bearer $TOKEN"
ok resync-410 's == 410 and j["error"]["code"] == "resyncRequired" and h["location"].endswith("$deltatoken=") and "$select=displayName" in h["location"] and h["location"].startswith(G)' "G=$PEER_GRAPH_URL"
follow "$(sed -n 's/^[Ll]ocation: *//p' "$T/hdr" | tr -d '\r')"
ok resync-location-round 'len(P) >= 2 and "@odata.deltaLink" in P[-1] and tok(P[-1]["@odata.deltaLink"])["sel"] == ["displayName"]'
ctl POST /_fake/faults '{"kind": "sync-state-not-found", "path": "/v1.0/users/delta"}'
req GET "$users_delta" -H "Authorization: Bearer $TOKEN"
ok sync-state-fault 's == 400 and j["error"]["code"] == "syncStateNotFound"'
ctl POST /_fake/clock '{"advance": 691200}'
token_secret
req GET "$users_delta" -H "Authorization: Bearer $TOKEN"
ok token-older-than-7-days 's == 400 and j["error"]["code"] == "syncStateNotFound"'

# ---- 6. Writes -----------------------------------------------------------------------------
gj POST /v1.0/groups '{"displayName": "New", "mailEnabled": false, "securityEnabled": true}'
ok create-missing-field '''s == 400 and j["error"]["code"] == "Request_BadRequest" and "mailNickname" in j["error"]["message"]'''
gj POST /v1.0/groups '{"displayName": "New", "mailNickname": "new", "securityEnabled": true}'
ok create-missing-mailenabled '''s == 400 and j["error"]["message"].startswith("A value is required for property") and "mailEnabled" in j["error"]["message"]'''
gj POST /v1.0/groups '{"displayName": "New", "mailEnabled": false, "securityEnabled": true, "mailNickname": "bad nick"}'
ok create-bad-nickname 's == 400'
# group resource, mailNickname: at most 64 characters, ASCII only.
gj POST /v1.0/groups "{\"displayName\": \"New\", \"mailEnabled\": false, \"securityEnabled\": true, \"mailNickname\": \"$(printf 'n%.0s' $(seq 65))\"}"
ok create-nickname-65-refused 's == 400'
gj POST /v1.0/groups '{"displayName": "New", "mailEnabled": false, "securityEnabled": true, "mailNickname": "caf\u00e9"}'
ok create-nickname-not-ascii-refused 's == 400'
# Create group: only security and Microsoft 365 groups; a distribution group is neither.
gj POST /v1.0/groups '{"displayName": "DL", "mailEnabled": false, "securityEnabled": false, "mailNickname": "dl"}'
ok create-distribution-group-refused 's == 400'
gj POST /v1.0/groups "{\"displayName\": \"New\", \"description\": \"d\", \"mailEnabled\": false, \"securityEnabled\": true, \"mailNickname\": \"new\", \"members@odata.bind\": [\"https://graph.microsoft.com/v1.0/directoryObjects/$uA\"]}"
ok create-201 '''s == 201 and j["@odata.context"].endswith("/v1.0/$metadata#groups/$entity") and j["displayName"] == "New" and j["groupTypes"] == [] and len(j["id"]) == 36'''
gnew=$(py 'j["id"]')
gj POST /v1.0/groups '{"displayName": "Mail sec", "mailEnabled": true, "securityEnabled": true, "mailNickname": "mailsec"}'
ok create-mail-enabled-security-refused 's == 400'
gj POST /v1.0/groups '{"displayName": "Team", "mailEnabled": true, "securityEnabled": false, "mailNickname": "team", "groupTypes": ["Unified"]}'
ok create-unified 's == 201 and j["mail"] == "team@contoso-test.onmicrosoft.com" and j["proxyAddresses"] == ["SMTP:team@contoso-test.onmicrosoft.com"] and j["securityIdentifier"].startswith("S-1-12-1-")'
gj PATCH "/v1.0/groups/$gnew" '{"displayName": "Renamed", "description": null}'
ok patch-204 's == 204 and b == b""'
g GET "/v1.0/groups/$gnew?\$select=displayName,description"
ok patch-applied 'j["displayName"] == "Renamed" and j["description"] is None'
binds=$("$PEER_PYTHON" -S -c 'import json; print(json.dumps({"members@odata.bind": ["https://graph.microsoft.com/v1.0/directoryObjects/%08d-0000-4000-8000-000000000000" % i for i in range(21)]}))')
gj PATCH "/v1.0/groups/$gnew" "$binds"
ok bind-over-20 's == 400 and j["error"]["code"] == "Request_BadRequest"'
gj PATCH "/v1.0/groups/$gnew" "{\"members@odata.bind\": [\"https://graph.microsoft.com/v1.0/directoryObjects/$uB\", \"https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-00000000dead\"]}"
ok bind-all-or-nothing 's == 404'
gj PATCH "/v1.0/groups/$gnew" "{\"members@odata.bind\": [\"https://graph.microsoft.com/v1.0/directoryObjects/$uB\"]}"
ok bind-204 's == 204'
gj PATCH "/v1.0/groups/$gnew" '{"mail": "x@y"}'
ok patch-read-only 's == 400'
gj PATCH "/v1.0/users/$uS" '{"department": "X"}'
ok patch-onprem-mastered 's == 400 and "on-premises mastered" in j["error"]["message"]'
# Users (user-post-users: five required properties; the user resource's "Read-only" ones;
# userPrincipalName in a verified domain, unique; mail puts an SMTP address in proxyAddresses,
# which is read-only) and what Graph does not create for an app (orgContact is read-only;
# Create device takes no application permission).
D=contoso-test.onmicrosoft.com
newuser='"accountEnabled": true, "displayName": "Nia New", "mailNickname": "nia", "passwordProfile": {"password": "xW9!kq-27-Lm"}'
gj POST /v1.0/users "{\"accountEnabled\": true, \"displayName\": \"Nia New\", \"mailNickname\": \"nia\", \"userPrincipalName\": \"nia@$D\"}"
ok user-create-missing-password '''s == 400 and j["error"]["code"] == "Request_BadRequest" and "passwordProfile" in j["error"]["message"]'''
gj POST /v1.0/users "{$newuser}"
ok user-create-missing-upn '''s == 400 and "userPrincipalName" in j["error"]["message"]'''
gj POST /v1.0/users "{$newuser, \"userPrincipalName\": \"nia@$D\", \"onPremisesSecurityIdentifier\": \"S-1-5-21-1-2-3-1105\"}"
ok user-create-read-only-sid '''s == 400 and j["error"]["code"] == "Request_BadRequest" and "onPremisesSecurityIdentifier" in j["error"]["message"]'''
gj POST /v1.0/users "{$newuser, \"userPrincipalName\": \"nia@$D\", \"proxyAddresses\": [\"SMTP:nia@$D\"]}"
ok user-create-read-only-proxy 's == 400 and "proxyAddresses" in j["error"]["message"]'
gj POST /v1.0/users "{$newuser, \"userPrincipalName\": \"nia@unverified.example\"}"
ok user-create-unverified-domain 's == 400 and "verified domain" in j["error"]["message"]'
gj POST /v1.0/users "{$newuser, \"userPrincipalName\": \"nia@$D\", \"mail\": \"nia@$D\", \"onPremisesImmutableId\": \"AAECAwQFBgcICQoLDA0ODw==\"}"
ok user-create-201 '''s == 201 and j["@odata.context"].endswith("/v1.0/$metadata#users/$entity") and j["userPrincipalName"] == "nia@contoso-test.onmicrosoft.com" and len(j["id"]) == 36 and "passwordProfile" not in j'''
unew=$(py 'j["id"]')
g GET "/v1.0/users/$unew?\$select=proxyAddresses,onPremisesImmutableId,onPremisesSyncEnabled,passwordProfile"
ok user-proxy-from-mail '''j["proxyAddresses"] == ["SMTP:nia@contoso-test.onmicrosoft.com"] and j["onPremisesImmutableId"] == "AAECAwQFBgcICQoLDA0ODw==" and j["onPremisesSyncEnabled"] is None and j["passwordProfile"] is None'''
gj POST /v1.0/users "{$newuser, \"userPrincipalName\": \"NIA@$D\"}"
ok user-create-duplicate-upn '''s == 400 and j["error"]["code"] == "Request_BadRequest" and j["error"]["message"] == "Another object with the same value for property userPrincipalName already exists."'''
gj POST /v1.0/users "{$newuser, \"userPrincipalName\": \"nia2@$D\", \"onPremisesImmutableId\": \"AAECAwQFBgcICQoLDA0ODw==\"}"
ok user-create-duplicate-immutable-id '''s == 400 and j["error"]["message"] == "Another object with the same value for property immutableId already exists."'''
gj PATCH "/v1.0/users/$unew" "{\"mail\": \"nia.new@$D\", \"jobTitle\": \"Analyst\"}"
ok user-patch-204 's == 204'
g GET "/v1.0/users/$unew?\$select=mail,jobTitle,proxyAddresses"
ok user-patch-mail-updates-proxy '''j["mail"] == "nia.new@contoso-test.onmicrosoft.com" and j["jobTitle"] == "Analyst" and j["proxyAddresses"] == ["SMTP:nia.new@contoso-test.onmicrosoft.com", "smtp:nia@contoso-test.onmicrosoft.com"]'''
gj PATCH "/v1.0/users/$unew" '{"onPremisesSyncEnabled": true}'
ok user-patch-read-only 's == 400 and "onPremisesSyncEnabled" in j["error"]["message"]'
gj PATCH "/v1.0/users/$unew" '{"sourceAnchor": "x"}'
ok user-patch-undeclared '''s == 400 and j["error"]["message"] == "Property \x27sourceAnchor\x27 does not exist as a declared property or extension property."'''
gj PATCH "/v1.0/users/$unew" '{"displayName": null}'
ok user-patch-clear-display-name 's == 400'
# A user's manager (user-post-manager, user-delete-manager; users delta reports it as
# "manager@delta", the Graph API design guidelines' example).
gj POST /v1.0/users "{$newuser, \"userPrincipalName\": \"boss@$D\", \"mailNickname\": \"boss\"}"
uboss=$(py 'j["id"]')
follow "$PEER_GRAPH_URL/v1.0/users/delta?\$select=displayName,manager"
mgr_delta=$last_link
gj PUT "/v1.0/users/$unew/manager/\$ref" "{\"@odata.id\": \"https://graph.microsoft.com/v1.0/users/$uboss\"}"
ok manager-put-204 's == 204'
g GET "/v1.0/users/$unew/manager"
ok manager-get '''s == 200 and j["id"] == "'"$uboss"'" and j["@odata.type"] == "#microsoft.graph.user"'''
gj PUT "/v1.0/users/$unew/manager/\$ref" '{"@odata.id": "https://graph.microsoft.com/v1.0/users/00000000-0000-4000-8000-00000000dead"}'
ok manager-put-missing 's == 404 and j["error"]["code"] == "Request_ResourceNotFound"'
follow "$mgr_delta"
ok manager-delta-set '''any(e.get("id") == "'"$unew"'" and e.get("manager@delta") == [{"@odata.type": "#microsoft.graph.user", "id": "'"$uboss"'"}] for p in P for e in p["value"])'''
mgr_delta=$last_link
g DELETE "/v1.0/users/$unew/manager/\$ref"
ok manager-delete-204 's == 204'
g DELETE "/v1.0/users/$unew/manager/\$ref"
ok manager-delete-none-404 's == 404'
follow "$mgr_delta"
ok manager-delta-removed '''any(e.get("id") == "'"$unew"'" and e.get("manager@delta") == [{"@odata.type": "#microsoft.graph.user", "id": "'"$uboss"'", "@removed": {"reason": "deleted"}}] for p in P for e in p["value"])'''
gj POST /v1.0/groups '{"displayName": "G imm", "mailEnabled": false, "securityEnabled": true, "mailNickname": "gimm", "onPremisesImmutableId": "AAECAwQFBgcICQoLDA0ODw=="}'
ok group-create-no-immutable-id '''s == 400 and "onPremisesImmutableId" in j["error"]["message"]'''
gj PATCH "/v1.0/groups/$gnew" '{"onPremisesImmutableId": "AAECAwQFBgcICQoLDA0ODw=="}'
ok group-patch-no-immutable-id 's == 400'
gj POST /v1.0/contacts '{"displayName": "Ext Contact", "mail": "ext@example.com"}'
ok contact-create-405 's == 405'
gj POST /v1.0/devices '{"accountEnabled": false, "displayName": "d", "deviceId": "4c299165-6e8f-4b45-a5ba-c5d250a707ff", "alternativeSecurityIds": []}'
ok device-create-app-refused '''s == 403 and j["error"]["code"] == "Authorization_RequestDenied"'''
gj POST "/v1.0/groups/$gnew/members/\$ref" "{\"@odata.id\": \"https://graph.microsoft.com/v1.0/directoryObjects/$uC\"}"
ok ref-add-204 's == 204'
gj POST "/v1.0/groups/$gnew/members/\$ref" "{\"@odata.id\": \"https://graph.microsoft.com/v1.0/directoryObjects/$uC\"}"
ok ref-add-duplicate '''s == 400 and j["error"]["code"] == "Request_BadRequest" and j["error"]["message"] == "One or more added object references already exist for the following modified properties: \x27members\x27."'''
gj POST "/v1.0/groups/$gnew/members/%24ref" '{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-00000000dead"}'
ok ref-add-missing 's == 404 and j["error"]["code"] == "Request_ResourceNotFound"'
g DELETE "/v1.0/groups/$gnew/members/$uC"
ok delete-without-ref-refused 's == 400'
g GET "/v1.0/groups/$gnew/members?\$top=999"
ok member-still-there 'C in [m["id"] for m in j["value"]]' "C=$uC"
g DELETE "/v1.0/groups/$gnew/members/$uC/\$ref"
ok ref-delete-204 's == 204'
g DELETE "/v1.0/groups/$gnew/members/$uC/\$ref"
ok ref-delete-not-member 's == 404 and j["error"]["code"] == "Request_ResourceNotFound"'
gj POST "/v1.0/groups/$gDyn/members/\$ref" "{\"@odata.id\": \"https://graph.microsoft.com/v1.0/directoryObjects/$uC\"}"
ok dynamic-add-refused 's == 400'
g DELETE "/v1.0/groups/$gDyn/members/$uD/\$ref"
ok dynamic-remove-refused 's == 400'
follow "$PEER_GRAPH_URL/v1.0/groups/delta?\$deltatoken=latest"
groups_delta=$last_link
g DELETE "/v1.0/groups/$gnew"
ok group-delete-204 's == 204'
g GET "/v1.0/groups/$gnew"
ok group-soft-deleted 's == 404'
follow "$groups_delta"
ok group-delete-in-delta 'E == [{"id": G, "@removed": {"reason": "changed"}}]' "G=$gnew"
ctl POST "/_fake/groups/$gnew/restore"
ok control-restore 'True'

# ---- 7. $batch -----------------------------------------------------------------------------
many=$("$PEER_PYTHON" -S -c 'import json; print(json.dumps({"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]}))')
gj POST '/v1.0/$batch' "$many"
ok batch-over-20 's == 400'
gj POST '/v1.0/$batch' '{"requests": [{"id": "a", "method": "GET", "url": "/users"}, {"id": "A", "method": "GET", "url": "/groups"}]}'
ok batch-duplicate-id 's == 400'
gj POST '/v1.0/$batch' "{\"requests\": [{\"id\": \"1\", \"method\": \"PATCH\", \"url\": \"/groups/$gSmall\", \"body\": {\"description\": \"x\"}}]}"
ok batch-body-needs-content-type 's == 400'
ctl POST /_fake/faults "{\"kind\": \"429\", \"retry_after\": 3, \"where\": \"batch\", \"method\": \"POST\", \"path\": \"/v1.0/groups/$gSmall/members\"}"
batch=$("$PEER_PYTHON" -S - "$gSmall" "$uC" "$gnew" <<'PY'
import json, sys
g, d, gnew = sys.argv[1:4]
ref = lambda i: {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + i}
ct = {"Content-Type": "application/json"}
print(json.dumps({"requests": [
    {"id": "1", "method": "POST", "url": "/groups/%s/members/$ref" % g, "headers": ct, "body": ref(d)},
    {"id": "2", "method": "POST", "url": "/groups/%s/members/$ref" % gnew, "headers": ct, "body": ref(d)},
    {"id": "3", "method": "POST", "url": "/groups/%s/members/$ref" % gnew, "headers": ct, "body": ref(d)},
    {"id": "4", "method": "DELETE", "url": "/groups/%s/members/00000000-0000-4000-8000-00000000dead/$ref" % gnew},
    {"id": "5", "method": "PATCH", "url": "/groups/" + gnew, "dependsOn": ["4"], "headers": ct, "body": {"description": "never"}},
    {"id": "6", "method": "GET", "url": "users?$select=displayName&$top=2"}]}))
PY
)
gj POST '/v1.0/$batch' "$batch"
ok batch-200 's == 200 and sorted(r["id"] for r in j["responses"]) == ["1", "2", "3", "4", "5", "6"]'
ok batch-shuffled '[r["id"] for r in j["responses"]] != ["1", "2", "3", "4", "5", "6"]'
ok batch-item-429 '(lambda R: R["1"]["status"] == 429 and R["1"]["headers"]["Retry-After"] == "3" and R["1"]["body"]["error"]["code"] == "TooManyRequests")({r["id"]: r for r in j["responses"]})'
ok batch-mixed '(lambda R: R["2"]["status"] == 204 and R["3"]["status"] == 400 and R["3"]["body"]["error"]["code"] == "Request_BadRequest" and R["4"]["status"] == 404 and R["5"]["status"] == 424 and R["6"]["status"] == 200 and len(R["6"]["body"]["value"]) == 2)({r["id"]: r for r in j["responses"]})'
g GET "/v1.0/groups/$gnew?\$select=description"
ok batch-424-not-applied 'j["description"] != "never"'

# ---- 8. Faults -----------------------------------------------------------------------------
ctl DELETE /_fake/log
ctl POST /_fake/faults '{"faults": [
  {"kind": "429", "retry_after": 2, "method": "GET", "path": "/v1.0/users"},
  {"kind": "429", "retry_after_date": 5, "method": "GET", "path": "/v1.0/users"},
  {"kind": "429", "method": "GET", "path": "/v1.0/users"},
  {"kind": "503", "retry_after": 1, "method": "GET", "path": "/v1.0/users"},
  {"kind": "504", "method": "GET", "path": "/v1.0/users"},
  {"kind": "drop", "method": "GET", "path": "/v1.0/users"},
  {"kind": "truncate", "method": "GET", "path": "/v1.0/users"},
  {"kind": "cut", "method": "GET", "path": "/v1.0/users"},
  {"kind": "expired-token", "method": "GET", "path": "/v1.0/users"}]}'
g GET /v1.0/users
ok fault-429-seconds '''s == 429 and h["retry-after"] == "2" and j["error"]["code"] == "TooManyRequests" and j["error"]["innerError"]["status"] == "429" and "x-ms-throttle-scope" in h and "x-ms-throttle-information" in h'''
g GET /v1.0/users
ok fault-429-http-date 's == 429 and 3 <= email.utils.parsedate_to_datetime(h["retry-after"]).timestamp() - __import__("time").time() <= 6'
g GET /v1.0/users
ok fault-429-no-header 's == 429 and "retry-after" not in h'
g GET /v1.0/users
ok fault-503 's == 503 and h["retry-after"] == "1" and j["error"]["code"] == "serviceNotAvailable"'
g GET /v1.0/users
ok fault-504 's == 504'
g GET /v1.0/users
ok fault-drop 'True' ; [ "$rc" = 52 ] || { fails=$((fails + 1)); echo "FAIL fault-drop: curl rc $rc (want 52)"; }
g GET /v1.0/users
ok fault-truncate 's == 200 and j is None and b.startswith(b"{")'
g GET /v1.0/users
ok fault-cut 'True' ; [ "$rc" = 18 ] || { fails=$((fails + 1)); echo "FAIL fault-cut: curl rc $rc (want 18)"; }
g GET /v1.0/users
ok fault-expired-token 's == 401 and j["error"]["code"] == "InvalidAuthenticationToken"'
g GET /v1.0/users
ok fault-token-really-expired 's == 401'
token_secret
g GET /v1.0/users
ok faults-consumed 's == 200'
ctl POST /_fake/faults '{"kind": "503", "path": "/v1.0/groups", "count": 2, "skip": 1}'
g GET /v1.0/groups; s1=$(cat "$T/status")
g GET /v1.0/groups; s2=$(cat "$T/status")
g GET /v1.0/groups; s3=$(cat "$T/status")
g GET /v1.0/groups
ok fault-count-skip 's == 200 and S == "200,503,503"' "S=$s1,$s2,$s3"
peer_ctl GET /_fake/log >"$T/log"
ok log-entries 'len([e for e in log() if e["origin"] == "graph"]) >= 12 and all(isinstance(e["t_start"], float) and e["t_end"] >= e["t_start"] and e["t_start"] % 1 != 0 for e in log()) and [e["fault"] for e in log() if e["fault"]][:3] == ["429", "429", "429"]'
ok log-fields 'all(k in log()[-1] for k in ("method", "url", "origin", "port", "auth", "status", "t_start", "t_end")) and log()[-1]["url"].startswith(G + "/v1.0/groups") and log()[-1]["auth"] is True' "G=$PEER_GRAPH_URL"
ok log-no-secrets '"Bearer " not in json.dumps(log()) and open(P).read().strip() not in json.dumps(log())' "P=$PEER_SECRET_FILE"

ctl POST /_fake/faults '{"kind": "delay", "seconds": 0.5, "method": "GET", "path": "/v1.0/groups"}'
g GET /v1.0/groups
peer_ctl GET /_fake/log >"$T/log"
ok fault-delay 's == 200 and log()[-1]["fault"] == "delay" and log()[-1]["t_end"] - log()[-1]["t_start"] >= 0.5'
ctl POST /_fake/faults '{"kind": "429", "retry_after": 1, "path": "/'"$PEER_TENANT"'/oauth2/v2.0/token"}'
token_secret
ok fault-on-token-endpoint 's == 429 and h["retry-after"] == "1" and j["error"] == "temporarily_unavailable" and j["error_codes"] == [50196]'
token_secret
# HTTP/1.1 keep-alive: curl reuses one connection for two requests.
reuse=$(curl -sv --cacert "$PEER_CA" -o /dev/null -o /dev/null -H "Authorization: Bearer $TOKEN" \
  "$PEER_GRAPH_URL/v1.0/users" "$PEER_GRAPH_URL/v1.0/groups" 2>&1 | grep -c 'Re-using existing connection')
n=$((n + 1)); [ "$reuse" -ge 1 ] || { fails=$((fails + 1)); echo "FAIL keep-alive: no connection reuse"; }

# ---- Another origin: a nextLink pointing away from Graph gets no token --------------------
ctl POST /_fake/faults '{"kind": "foreign-next-link", "method": "GET", "path": "/v1.0/users"}'
g GET '/v1.0/users?$select=displayName'
ok foreign-next-link 'j["@odata.nextLink"].startswith(F + "/v1.0/users?$skiptoken=")' "F=$PEER_FOREIGN_URL"
req GET "$(py 'j["@odata.nextLink"]')"
ok foreign-serves-page 's == 200 and len(j["value"]) == 3'
req GET "$PEER_FOREIGN_URL/anything/at/all?x=1"
ok foreign-any-path 's == 200 and j == {}'
peer_ctl GET /_fake/log >"$T/log"
ok foreign-logged-without-auth '[e["auth"] for e in log() if e["origin"] == "foreign"] == [False, False]'

# ---- Control API -----------------------------------------------------------------------------
peer_ctl GET "/_fake/objects/$gSmall" >"$T/body"; echo 200 >"$T/status"
ok control-object 'j["kind"] == "group" and j["state"] == "active" and A in j["members"]' "A=$uA"
peer_ctl GET '/_fake/state?members=0' >"$T/body"
ok control-state 'len(j["users"]) >= 30 and "members" not in j["groups"][0] and j["csn"] > 0'
peer_ctl POST /_fake/reset >/dev/null
peer_ctl POST /_fake/generate '{"users": 2000, "groups": 200, "members_per_group": 10}' >"$T/body"
ok control-generate 'j["users"] == 2000 and j["groups"] == 200 and j["memberships"] == 2000'
token_secret
follow "$PEER_GRAPH_URL/v1.0/users?\$top=999&\$select=displayName,onPremisesObjectIdentifier"
ok generated-list 'len(E) == 2000 and len(P) == 3 and any(e["onPremisesObjectIdentifier"] for e in E)'

# ---- $filter on lists (default eq capabilities; what Graph refuses, refused) ---------------
peer_ctl POST /_fake/reset >/dev/null
token_secret
ctl POST /_fake/groups '{"value": [
  {"displayName": "Team A", "mailNickname": "teamA", "securityEnabled": true, "mailEnabled": false},
  {"displayName": "Team A", "mailNickname": "teama2", "securityEnabled": true, "mailEnabled": false},
  {"displayName": "O'"'"'Brien", "mailNickname": "obrien", "securityEnabled": true, "mailEnabled": false},
  {"displayName": "Mail", "mailNickname": "mailgrp", "securityEnabled": false, "mailEnabled": true, "groupTypes": ["Unified"]}]}'
g GET "/v1.0/groups?\$filter=mailNickname%20eq%20'TEAMA'&\$select=id,displayName"
ok filter-eq-ignores-case '''s == 200 and [e["displayName"] for e in j["value"]] == ["Team A"] and sorted(j["value"][0]) == ["displayName", "id"]'''
g GET "/v1.0/groups?\$filter=displayName%20eq%20'O''Brien'"
ok filter-quote-doubled '''s == 200 and [e["mailNickname"] for e in j["value"]] == ["obrien"]'''
g GET "/v1.0/groups?\$filter=displayName%20eq%20'Team%20A'%20and%20securityEnabled%20eq%20true&\$top=1"
next=$(py 'j.get("@odata.nextLink", "")')
ok filter-and-paged '''s == 200 and len(j["value"]) == 1 and "$skiptoken=" in j["@odata.nextLink"]'''
req GET "$next" -H "Authorization: Bearer $TOKEN"
ok filter-kept-by-skiptoken '''s == 200 and [e["mailNickname"] for e in j["value"]] == ["teama2"] and "@odata.nextLink" not in j'''
g GET "/v1.0/groups?\$filter=mailNickname%20eq%20'nobody'"
ok filter-none '''s == 200 and j["value"] == []'''
g GET "/v1.0/groups?\$filter=description%20eq%20'x'"
ok filter-unsupported-property '''s == 400 and j["error"]["code"] == "Request_UnsupportedQuery" and "description" in j["error"]["message"]'''
g GET "/v1.0/groups?\$filter=mailNickname%20eq%20'unterminated"
ok filter-syntax '''s == 400 and j["error"]["code"] == "BadRequest"'''
g GET "/v1.0/groups?\$filter=mailNickname%20eq%20'a'%20or%20mailNickname%20eq%20'b'"
ok filter-or-refused 's == 400'
g GET "/v1.0/groups/00000000-0000-4000-8000-00000000dead/members?\$filter=displayName%20eq%20'x'"
ok filter-members-refused 's == 400 or s == 404'

echo "peer_conformance: $((n - fails))/$n checks passed"
[ "$fails" -eq 0 ]
