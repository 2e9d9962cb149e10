#!/usr/bin/env bash
# ctest graph_peer_shapes: the Graph peer's live responses held to the golden fixtures, so the
# peer cannot drift from Microsoft's documented shapes (tests/fixtures/graph/README.md).
# Starts the peer (tests/graph/peer.sh), drives it through its control API into each situation
# a fixture shows, captures the response with curl (body and head, verified against the peer's
# CA, with a token from its token endpoint) and runs shape_check.py on it.
# Usage: tests/graph/peer_shapes.sh   (MVSYNC_KEEP_PEER=1 keeps the peer's folder and the captures)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures/graph"
check_py="$here/shape_check.py"

work=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-peer-shapes.XXXXXX")
# peer_start chains its own stop after this; MVSYNC_KEEP_PEER=1 keeps the captures too.
trap '[ -n "${MVSYNC_KEEP_PEER:-}" ] && echo "captures kept in $work" || rm -rf "$work"' EXIT
. "$here/peer.sh"
peer_start

failed=0 checked=0
v1="$PEER_GRAPH_URL/v1.0"
auth="$work/auth.header"            # curl -H @file: the bearer token stays off command lines

# json FILE EXPR: prints a value of the JSON document (EXPR is Python on `d`).
json() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print("" if v is None else v)' "$1" "$2"
}

# token NAME CREDENTIAL...: POSTs the client-credentials form with the credential's fields
# (curl --data-urlencode arguments); the reply lands in NAME.json and NAME.head.
token() {
  local name=$1
  shift
  curl -sS --cacert "$PEER_CA" -o "$work/$name.json" -D "$work/$name.head" \
    --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$PEER_CLIENT_ID" \
    --data-urlencode scope=https://graph.microsoft.com/.default "$@" \
    "$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token"
}

login() {
  token login --data-urlencode "client_secret@$PEER_SECRET_FILE"
  local bearer
  bearer=$(json "$work/login.json" 'd["access_token"]')
  (umask 077; printf 'Authorization: Bearer %s\n' "$bearer" >"$auth")
}

# call NAME METHOD URL [curl args]: one Graph request, followed verbatim (--globoff), with a
# fresh client-request-id; the reply lands in NAME.json and NAME.head.
call() {
  local name=$1 method=$2 url=$3
  shift 3
  curl -sS --globoff --cacert "$PEER_CA" -X "$method" -o "$work/$name.json" -D "$work/$name.head" \
    -H @"$auth" -H "client-request-id: $(cat /proc/sys/kernel/random/uuid)" "$@" "$url"
}

# check FIXTURE NAME [ORIGIN]: NAME's reply against the fixture; differences fail the test.
check() {
  local out
  checked=$((checked + 1))
  if out=$(python3 "$check_py" "$fixtures/$1.json" "$work/$2.json" --headers "$work/$2.head" \
             --origin "${3:-$PEER_GRAPH_URL}" 2>&1); then
    echo "ok   $1 <- $2"
  else
    echo "FAIL $1 <- $2"
    echo "$out" | sed 's/^/     /'
    failed=1
  fi
}

link() { json "$work/$1.json" 'd.get("@odata.nextLink") or d.get("@odata.deltaLink")'; }

# A small directory with fixed ids: U0 is soft-deleted before the first round.
U0=0c1e7a52-4d0b-4a4e-9d57-1f6a2e7c0b10 U1=1d2f8b63-5e1c-4b5f-8e68-2a7b3f8d1c21
U2=2e3a9c74-6f2d-4c60-9f79-3b8c4a9e2d32 U3=3f4bad85-7a3e-4d71-8a8a-4c9d5baf3e43
U4=4a5cbe96-8b4f-4e82-9b9b-5dae6cba4f54 U5=5b6dcfa7-9c5a-4f93-8cac-6ebf7dcb5a65
GA=6c7ed0b8-ad6b-4aa4-9dbd-7fca8edc6b76 GB=7d8fe1c9-be7c-4bb5-8ece-8adb9fed7c87
GC=8e9af2da-cf8d-4cc6-9fdf-9bec0afe8d98
peer_ctl POST /_fake/config '{"page_size":2,"empty_first_page":false,"member_split":2}' >/dev/null
# U2 never has mail set, so delta leaves it out.
peer_ctl POST /_fake/seed "$(cat <<EOF
{"users": [
  {"id": "$U0", "displayName": "Gone User", "givenName": "Gone", "surname": "User",
   "userPrincipalName": "gone.user@adatum.example", "mail": "gone.user@adatum.example",
   "accountEnabled": true},
  {"id": "$U1", "displayName": "Ines Vasquez", "givenName": "Ines", "surname": "Vasquez",
   "userPrincipalName": "ines.vasquez@adatum.example", "mail": "ines.vasquez@adatum.example",
   "accountEnabled": true, "onPremisesImmutableId": "hJ2c4lW0TEmWv3n0yq1pAg=="},
  {"id": "$U2", "displayName": "Teodor Lindqvist", "givenName": "Teodor",
   "surname": "Lindqvist", "userPrincipalName": "teodor.lindqvist@adatum.example",
   "accountEnabled": false},
  {"id": "$U3", "displayName": "Amara Okafor", "givenName": "Amara", "surname": "Okafor",
   "userPrincipalName": "amara.okafor@adatum.example", "mail": "amara.okafor@adatum.example",
   "accountEnabled": true, "onPremisesImmutableId": "0b6kX2Qd3Um8oJcZ1wNf7Q=="},
  {"id": "$U4", "displayName": "Kenji Watanabe", "givenName": "Kenji", "surname": "Watanabe",
   "userPrincipalName": "kenji.watanabe@adatum.example", "mail": "kenji.watanabe@adatum.example",
   "accountEnabled": true},
  {"id": "$U5", "displayName": "Sofia Brandt", "givenName": "Sofia", "surname": "Brandt",
   "userPrincipalName": "sofia.brandt@adatum.example", "mail": "sofia.brandt@adatum.example",
   "accountEnabled": true, "onPremisesImmutableId": "7fWq3Zk1Hk2b0Gd9pXrL4A=="}],
 "groups": [
  {"id": "$GA", "displayName": "Field Engineers", "description": "On customer sites",
   "mailEnabled": false, "mailNickname": "field-engineers", "securityEnabled": true,
   "groupTypes": []},
  {"id": "$GB", "displayName": "Night Shift", "description": "Night rota",
   "mailEnabled": false, "mailNickname": "night-shift", "securityEnabled": true,
   "groupTypes": []},
  {"id": "$GC", "displayName": "Warehouse", "description": "Dock staff",
   "mailEnabled": false, "mailNickname": "warehouse", "securityEnabled": true,
   "groupTypes": []}]}
EOF
)" >/dev/null
peer_ctl POST /_fake/users/$U0/soft-delete >/dev/null
peer_ctl POST /_fake/groups/$GA/members "{\"add\":[\"$U4\",\"$U5\",\"$GB\"]}" >/dev/null

# Tokens: a secret, a wrong secret, and a certificate assertion built as Learn documents it
# (PS256, x5t#S256; header and claims held to their fixtures), signed with openssl.
token token-ok --data-urlencode "client_secret@$PEER_SECRET_FILE"
check token-success token-ok "$PEER_LOGIN_URL"
printf 'not-the-secret' >"$work/wrong-secret"
token token-bad --data-urlencode "client_secret@$work/wrong-secret"
check token-error-aadsts token-bad "$PEER_LOGIN_URL"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/app.key" -out "$work/app.pem" -days 1 \
  -subj /CN=mvsync-peer-shapes 2>/dev/null
peer_ctl POST /_fake/certificates "$(python3 -c 'import json, sys
print(json.dumps({"pem": open(sys.argv[1]).read()}))' "$work/app.pem")" >"$work/cert.json"
now=$(date +%s)
printf '{"alg": "PS256", "typ": "JWT", "x5t#S256": "%s"}' \
  "$(json "$work/cert.json" 'd["x5t#S256"]')" >"$work/assertion-header.json"
printf '{"aud": "%s", "exp": %d, "iss": "%s", "jti": "%s", "nbf": %d, "iat": %d, "sub": "%s"}' \
  "$PEER_LOGIN_URL/$PEER_TENANT/oauth2/v2.0/token" $((now + 300)) "$PEER_CLIENT_ID" \
  "$(cat /proc/sys/kernel/random/uuid)" "$now" "$now" "$PEER_CLIENT_ID" >"$work/assertion-claims.json"
check token-assertion-header assertion-header "$PEER_LOGIN_URL"
check token-assertion-claims assertion-claims "$PEER_LOGIN_URL"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
signed="$(b64url <"$work/assertion-header.json").$(b64url <"$work/assertion-claims.json")"
signature=$(printf '%s' "$signed" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
  -sigopt rsa_pss_saltlen:-1 -sign "$work/app.key" | b64url)
printf '%s.%s' "$signed" "$signature" >"$work/assertion"
token token-cert \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode "client_assertion@$work/assertion"
check token-success token-cert "$PEER_LOGIN_URL"
login

# Users: an initial round in pages of 2 (a removal first, then users, the last page with the
# deltaLink), then a change round in one page: restored, updated, soft- and hard-deleted.
users_select='$select=displayName,givenName,surname,userPrincipalName,mail,accountEnabled,onPremisesImmutableId'
call users-1 GET "$v1/users/delta?$users_select"
check users-delta-initial users-1
call users-2 GET "$(link users-1)"
check users-delta-next users-2
call users-3 GET "$(link users-2)"
check users-delta-final users-3
users_delta=$(link users-3)
peer_ctl PATCH /_fake/users/$U1 '{"surname":"Vasquez-Moreau"}' >/dev/null
peer_ctl POST /_fake/users/$U2/soft-delete >/dev/null
peer_ctl POST /_fake/users/$U3/hard-delete >/dev/null
peer_ctl POST /_fake/users/$U0/restore >/dev/null
call users-changes GET "$users_delta" -H 'Prefer: odata.maxpagesize=10'
check users-delta-removed users-changes
users_delta=$(link users-changes)

# The check does catch a drifted peer: a nextLink moved to another origin must fail it.
peer_ctl POST /_fake/faults '{"kind":"foreign-next-link","method":"GET","path":"/v1.0/users/delta"}' \
  >/dev/null
call users-foreign GET "$v1/users/delta?$users_select"
drift=$(python3 "$check_py" "$fixtures/users-delta-initial.json" "$work/users-foreign.json" \
          --origin "$PEER_GRAPH_URL" 2>&1 || true)
if [[ $drift == *'nextLink"]: link leaves the origin'* ]]; then
  echo "ok   users-delta-initial rejects a nextLink to $PEER_FOREIGN_URL"
else
  echo "FAIL users-delta-initial accepted a nextLink to another origin"
  failed=1
fi

# An empty first page that still links on.
peer_ctl POST /_fake/config '{"empty_first_page":true}' >/dev/null
call users-empty GET "$v1/users/delta?$users_select"
check delta-empty-page users-empty
peer_ctl POST /_fake/config '{"empty_first_page":false}' >/dev/null

# Groups, one entry a page and members@delta in slices of 2: GA's members over two pages,
# then GB and GC without members; a change round with added and removed users and groups;
# then Prefer: return=minimal.
groups_select='$select=displayName,description,mailEnabled,mailNickname,securityEnabled,groupTypes,members'
call groups-1 GET "$v1/groups/delta?$groups_select" -H 'Prefer: odata.maxpagesize=1'
check groups-delta-members groups-1
call groups-2 GET "$(link groups-1)" -H 'Prefer: odata.maxpagesize=1'
check groups-delta-members-continued groups-2
call groups-3 GET "$(link groups-2)" -H 'Prefer: odata.maxpagesize=1'
check groups-delta-members groups-3
call groups-4 GET "$(link groups-3)" -H 'Prefer: odata.maxpagesize=1'
check groups-delta-no-members groups-4
peer_ctl POST /_fake/config '{"member_split":4}' >/dev/null
peer_ctl POST /_fake/groups/$GA/members "{\"add\":[\"$U1\",\"$GC\"],\"remove\":[\"$U5\",\"$GB\"]}" >/dev/null
peer_ctl PATCH /_fake/groups/$GB '{"description":"Night and weekend rota"}' >/dev/null
peer_ctl PATCH /_fake/groups/$GC '{"description":"Dock and yard staff"}' >/dev/null
call groups-c1 GET "$(link groups-4)" -H 'Prefer: odata.maxpagesize=1'
check groups-delta-members groups-c1
call groups-c2 GET "$(link groups-c1)" -H 'Prefer: odata.maxpagesize=1'
check groups-delta-members groups-c2
call groups-c3 GET "$(link groups-c2)" -H 'Prefer: odata.maxpagesize=1'
check groups-delta-no-members groups-c3
peer_ctl PATCH /_fake/groups/$GA '{"displayName":"Field Service Engineers","description":null}' >/dev/null
peer_ctl POST /_fake/groups/$GB/members "{\"add\":[\"$U4\"]}" >/dev/null
call groups-minimal GET "$(link groups-c3)" -H 'Prefer: return=minimal, odata.maxpagesize=10'
check groups-delta-minimal groups-minimal

# Lists: $select with $top, and $top out of range (the error envelope).
call users-list GET "$v1/users?\$select=id,displayName,userPrincipalName,mail,accountEnabled,onPremisesImmutableId&\$top=2"
check users-list-select users-list
call users-top GET "$v1/users?\$top=1000"
check error-envelope users-top

# Throttling: Retry-After as seconds, then as an HTTP-date.
peer_ctl POST /_fake/faults '{"kind":"429","method":"GET","path":"/v1.0/users","retry_after":3}' >/dev/null
call throttled GET "$v1/users"
check throttle-429 throttled
peer_ctl POST /_fake/faults '{"kind":"429","method":"GET","path":"/v1.0/users","retry_after_date":30}' >/dev/null
call throttled-date GET "$v1/users"
check throttle-429 throttled-date

# Writes: a security group created, then a $batch with one item of each outcome (2 adds a
# member GA already has, so 5, which depends on it, fails with 424; 6 meets an injected 429).
call group-new POST "$v1/groups" -H 'Content-Type: application/json' --data-binary \
  '{"displayName": "Warehouse Leads", "description": "Written back", "mailEnabled": false,
    "mailNickname": "warehouse-leads", "securityEnabled": true}'
check group-create group-new
call user-new POST "$v1/users" -H 'Content-Type: application/json' --data-binary \
  '{"accountEnabled": true, "displayName": "Wren Okafor", "mailNickname": "wren",
    "userPrincipalName": "wren.okafor@contoso-test.onmicrosoft.com",
    "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "tQ7!vx-41-Rp"}}'
check user-create user-new
peer_ctl POST /_fake/faults \
  '{"kind":"429","method":"GET","path":"/v1.0/users/","where":"batch","retry_after":7}' >/dev/null
json_ct='"headers": {"Content-Type": "application/json"}'
call batch POST "$v1/\$batch" -H 'Content-Type: application/json' --data-binary "$(cat <<EOF
{"requests": [
  {"id": "1", "method": "POST", "url": "/groups/$GB/members/\$ref", $json_ct,
   "body": {"@odata.id": "$v1/directoryObjects/$U1"}},
  {"id": "2", "method": "POST", "url": "/groups/$GA/members/\$ref", $json_ct,
   "body": {"@odata.id": "$v1/directoryObjects/$U4"}},
  {"id": "3", "method": "DELETE", "url": "/groups/$GA/members/$U5/\$ref"},
  {"id": "4", "method": "GET", "url": "/groups/$GA?\$select=id,displayName,securityEnabled"},
  {"id": "5", "method": "GET", "url": "/groups/$GB", "dependsOn": ["2"]},
  {"id": "6", "method": "GET", "url": "/users/$U1"},
  {"id": "7", "method": "POST", "url": "/groups/$GC/members/\$ref", $json_ct,
   "body": {"@odata.id": "$v1/directoryObjects/$U5"}}]}
EOF
)"
check batch-mixed batch
statuses=$(json "$work/batch.json" '" ".join(sorted(str(r["status"]) for r in d["responses"]))')
[ "$statuses" = "200 204 204 400 404 424 429" ] || { echo "FAIL batch statuses: $statuses"; failed=1; }

# Resync: a 410 with Location on the deltaLink; then the token expires after 7 days.
peer_ctl POST /_fake/faults '{"kind":"resync","method":"GET","path":"/v1.0/users/delta"}' >/dev/null
call resync GET "$users_delta"
check delta-resync-410 resync
peer_ctl POST /_fake/clock '{"advance":691200}' >/dev/null
login
call expired GET "$users_delta"
check delta-sync-state-not-found expired

[ $checked -ge 20 ] || { echo "FAIL only $checked checks ran"; failed=1; }
[ $failed -eq 0 ] && echo "graph peer: $checked responses and documents hold to the fixtures"
exit $failed
