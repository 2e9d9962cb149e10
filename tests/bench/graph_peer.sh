#!/usr/bin/env bash
# Benchmark (not a test) of the Graph peer alone, so connector figures can be read against it:
# bulk generation, then full rounds read by one keep-alive HTTPS client (Python http.client) as
# a connector would: users list and delta at 999 per page, groups delta with members, and the
# request rate at the default page size. Prints seconds, entries/s and the peer's peak RSS.
# usage: tests/bench/graph_peer.sh [USERS] [GROUPS] [MEMBERS_PER_GROUP]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
peer_start
"$PEER_PYTHON" -S - "$PEER_DIR" "${1:-100000}" "${2:-10000}" "${3:-10}" <<'PY'
import http.client, json, ssl, sys, time, urllib.parse
d, users, groups, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
info = json.load(open(d + "/peer.json"))
ctx = ssl.create_default_context(cafile=info["ca"])

def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx)

graph = connect(info["graph_url"])

def call(method, path, body=None, headers={}):
    graph.request(method, path, body=body, headers=headers)
    r = graph.getresponse()
    return r.status, r.read()

def control(path, doc):
    s, out = call("POST", path, json.dumps(doc), {"Content-Type": "application/json"})
    assert s == 200, out
    return json.loads(out)

t = time.time()
gen = control("/_fake/generate", {"users": users, "groups": groups, "members_per_group": per})
print("generate %d users, %d groups, %d memberships: %.2f s" %
      (gen["users"], gen["groups"], gen["memberships"], time.time() - t))
login = connect(info["login_url"])
login.request("POST", "/%s/oauth2/v2.0/token" % info["tenant"], headers={
    "Content-Type": "application/x-www-form-urlencoded"}, body=urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": info["client_id"],
        "client_secret": info["client_secret"], "scope": "https://graph.microsoft.com/.default"}))
bearer = {"Authorization": "Bearer " + json.loads(login.getresponse().read())["access_token"]}
user_sel = "displayName,userPrincipalName,mail,department,employeeType,onPremisesObjectIdentifier"
group_sel = "displayName,description,mailNickname,securityEnabled,mailEnabled,groupTypes,members"
rounds = [("users list, $top=999", "/v1.0/users?$top=999&$select=" + user_sel, {}),
          ("users delta, maxpagesize 999", "/v1.0/users/delta?$select=" + user_sel,
           {"Prefer": "odata.maxpagesize=999"}),
          ("groups delta with members, maxpagesize 999", "/v1.0/groups/delta?$select=" + group_sel,
           {"Prefer": "odata.maxpagesize=999"}),
          ("users delta, default page size (3)", "/v1.0/users/delta?$select=displayName", {})]
for label, url, extra in rounds:
    t, n, pages, size = time.time(), 0, 0, 0
    while url:
        s, body = call("GET", url, headers=dict(bearer, **extra))
        assert s == 200, body[:300]
        page = json.loads(body)
        pages, n, size = pages + 1, n + len(page["value"]), size + len(body)
        link = page.get("@odata.nextLink")
        url = link[len(info["graph_url"]):] if link else None
    dt = time.time() - t
    print("%s: %d entries, %d pages, %.1f MB, %.2f s, %.0f entries/s, %.0f pages/s" %
          (label, n, pages, size / 1e6, dt, n / dt, pages / dt))
status = open("/proc/%d/status" % info["pid"]).read()
print("peer peak RSS:", status.split("VmHWM:")[1].split("\n")[0].strip())
PY
