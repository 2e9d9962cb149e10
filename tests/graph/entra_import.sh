#!/bin/bash
# entra_import — the Entra connector's imports against the Graph peer through the real CLI:
# full import (paging through empty pages, members@delta split over pages), delta with property
# changes, soft and hard delete, restore, member add/remove, a group of 10,000 members split
# over pages, replays, a token expiring mid-paging, dropped and cut connections, a 410 resync
# and an expired delta token (both: full import said in the run log), a nextLink to another
# origin (refused, never sent), and a deltaLink with control characters (refused, never
# stored in the watermark).  Links are proved followed verbatim from the peer's request log.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1" '  page-size 3'
peer_ctl POST /_fake/config '{"member_split": 2}' >/dev/null
U1=10000000-0000-0000-0000-000000000001 U2=10000000-0000-0000-0000-000000000002
U3=10000000-0000-0000-0000-000000000003 U4=10000000-0000-0000-0000-000000000004
U5=10000000-0000-0000-0000-000000000005 U6=10000000-0000-0000-0000-000000000006
G1=20000000-0000-0000-0000-000000000001 G2=20000000-0000-0000-0000-000000000002
peer_ctl POST /_fake/seed "{\"users\": [
  {\"id\": \"$U1\", \"displayName\": \"Ada\", \"department\": \"Eng\"},
  {\"id\": \"$U2\", \"displayName\": \"Bob\", \"department\": \"Eng\"},
  {\"id\": \"$U3\", \"displayName\": \"Cy\"},
  {\"id\": \"$U4\", \"displayName\": \"Di\"},
  {\"id\": \"$U5\", \"displayName\": \"Ed\"}],
 \"groups\": [{\"id\": \"$G1\", \"displayName\": \"Staff\", \"mailNickname\": \"staff\",
               \"description\": \"everyone\", \"members\": [\"$U1\", \"$U2\", \"$U3\", \"$U4\", \"$U5\"]}]}" >/dev/null

echo "== full import"
mvs import entra --full
check 'len(cs) == 6 and all(o["import"] == "add" for o in cs.values())' "6 objects imported"
check "cs['$U1']['attrs']['displayName'] == 'Ada' and cs['$U1']['attrs']['department'] == 'Eng'" "selected properties"
check "members('$G1') == peer_members('$G1') and len(members('$G1')) == 5" "members@delta over 3 entries merged"
check 'sum(1 for e in log if "/v1.0/users/delta" in e["path"]) >= 3' "users paged (small pages, an empty first page)"
check 'all(re.fullmatch(r"\$skiptoken=[A-Za-z0-9_-]+", e["query"]) for e in log if e["origin"] == "graph" and "/delta" in e["path"] and "select" not in e["query"])' "links followed verbatim (\$skiptoken as given, nothing re-encoded or added)"
check 'all(e["prefer"] == "odata.maxpagesize=3" for e in log if e["origin"] == "graph")' "page-size sent as Prefer: odata.maxpagesize"
check 'all(e["status"] == 200 for e in log)' "every request answered 200 (tokens accepted as sent)"
check 'all(e["auth"] for e in log if e["origin"] == "graph") and not any(e["auth"] for e in log if e["origin"] == "login")' "the bearer token only on the Graph origin"
check 'sum(1 for e in log if e["origin"] == "login") == 1' "one token for the whole import (cached)"

echo "== delta: property change, soft and hard delete, member add and remove, new group"
log_mark
peer_ctl PATCH "/_fake/users/$U1" '{"displayName": "Ada L", "department": null}' >/dev/null
peer_ctl POST "/_fake/users/$U2/soft-delete" >/dev/null
peer_ctl POST "/_fake/users/$U3/hard-delete" >/dev/null
peer_ctl POST /_fake/users "{\"id\": \"$U6\", \"displayName\": \"Fay\"}" >/dev/null
peer_ctl POST "/_fake/groups/$G1/members" "{\"add\": [\"$U6\"], \"remove\": [\"$U4\"]}" >/dev/null
peer_ctl POST /_fake/groups "{\"id\": \"$G2\", \"displayName\": \"Ops\", \"mailNickname\": \"ops\", \"members\": [\"$U5\"]}" >/dev/null
mvs import entra --delta
check "cs['$U1']['attrs']['displayName'] == 'Ada L' and 'department' not in cs['$U1']['attrs']" "changed property replaced, explicit null cleared"
check "cs['$U2']['import'] == 'delete' and cs['$U3']['import'] == 'delete'" "soft-deleted (changed) and hard-deleted users leave"
check "'$U6' in cs and cs['$G2']['attrs']['displayName'] == 'Ops' and members('$G2') == ['$U5']" "new user and new group"
check "members('$G1') == sorted(['$U1', '$U5', '$U6'])" "member added and removed (deleted users removed too)"
check 'all(e["query"].startswith("$deltatoken=") or e["query"].startswith("$skiptoken=") for e in log if e["origin"] == "graph" and "/delta" in e["path"])' "delta round started from the stored deltaLinks"

echo "== delta: restore"
peer_ctl POST "/_fake/users/$U2/restore" >/dev/null
mvs import entra --delta
check "cs['$U2']['import'] != 'delete' and cs['$U2']['attrs']['displayName'] == 'Bob'" "a restored user comes back"
check "members('$G1') == peer_members('$G1') and '$U2' in members('$G1')" "its memberships come back"

echo "== replays: every round sent twice"
peer_ctl POST /_fake/config '{"replay": 1}' >/dev/null
peer_ctl POST "/_fake/groups/$G1/members" "{\"remove\": [\"$U6\"]}" >/dev/null
peer_ctl PATCH "/_fake/groups/$G2" '{"description": "night shift"}' >/dev/null
mvs import entra --delta
check "members('$G1') == peer_members('$G1') and cs['$G2']['attrs']['description'] == 'night shift'" "duplicates are harmless (delta)"
mvs import entra --full
check "members('$G1') == peer_members('$G1') and members('$G2') == ['$U5'] and len(cs) == 8" "duplicates are harmless (full)"
peer_ctl POST /_fake/config '{"replay": 0}' >/dev/null

echo "== token expiring mid-paging"
log_mark
peer_ctl POST /_fake/faults '{"kind": "expired-token", "path": "/v1.0/users/delta", "skip": 1}' >/dev/null
mvs import entra --full
check '[e["status"] for e in log if e["origin"] == "graph"][1] == 401' "the second page was refused (401 InvalidAuthenticationToken)"
check '[(e["origin"], e["status"]) for e in log[:5]] == [("login", 200), ("graph", 200), ("graph", 401), ("login", 200), ("graph", 200)] and log[4]["url"] == log[2]["url"]' "a new token, then the same link again"

echo "== dropped and cut connections on a GET: retried"
log_mark
peer_ctl POST /_fake/faults '{"faults": [{"kind": "drop", "path": "/v1.0/users/delta", "skip": 1},
                                         {"kind": "cut", "path": "/v1.0/groups/delta", "skip": 1}]}' >/dev/null
mvs import entra --full
check 'sum(1 for e in log if e["fault"] in ("drop", "cut")) == 2 and len(cs) == 8' "import done after the retries"

echo "== a group of 10,000 members split over pages"
write_rules '  page-size 100'
peer_ctl POST /_fake/config '{"member_split": 40}' >/dev/null
BIG=$(peer_ctl POST /_fake/generate '{"users": 10000, "groups": 0, "large_groups": [10000], "prefix": "big"}' |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["large_groups"][0])')
log_mark
mvs import entra --delta
check "len(members('$BIG')) == 10000 and members('$BIG') == peer_members('$BIG')" "10,000 members merged across pages (delta)"
check 'sum(1 for e in log if "/v1.0/groups/delta" in e["path"]) >= 4' "the group spanned 3 pages (250 entries of 40 members, 100 a page)"
mvs import entra --full
check "len(members('$BIG')) == 10000 and len(cs) == 10009" "10,000 members merged across pages (full)"
write_rules '  page-size 3'

echo "== 410 Gone: full import, said in the run log"
peer_ctl POST /_fake/faults '{"kind": "resync", "path": "/v1.0/groups/delta"}' >/dev/null
out=$(mvs import entra --delta 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -q 'watermark rejected (groups: HTTP 410 resyncRequired.*Location: https://.*): running a full import' ||
  { echo "FAILED: no resync message in: $out"; exit 1; }
mvs runs --json | grep -q 'watermark rejected (groups: HTTP 410 resyncRequired' ||
  { echo "FAILED: the run history's log does not say it"; exit 1; }
echo "ok: 410 -> full import, in the output and the run history"

echo "== expired delta token (syncStateNotFound): full import"
peer_ctl POST /_fake/clock '{"advance": 691200}' >/dev/null
out=$(mvs import entra --delta 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -q 'watermark rejected (users: HTTP 400 syncStateNotFound' ||
  { echo "FAILED: no syncStateNotFound message in: $out"; exit 1; }
echo "ok: syncStateNotFound -> full import"

echo "== a nextLink to another origin: refused, nothing sent there"
log_mark
peer_ctl POST /_fake/faults '{"kind": "foreign-next-link", "path": "/v1.0/users/delta"}' >/dev/null
if out=$(mvs import entra --full 2>&1); then echo "FAILED: import succeeded: $out"; exit 1; fi
echo "$out" | grep -q "refused to follow $PEER_FOREIGN_URL/v1.0/users/delta" ||
  { echo "FAILED: no refusal in: $out"; exit 1; }
check 'not any(e["origin"] == "foreign" for e in log)' "no request at all to the foreign origin"
check "len(cs) == 10009" "the failed import changed nothing"

echo "== a deltaLink with control characters: refused, never stored in the watermark"
peer_ctl POST /_fake/faults '{"kind": "ctrl-delta-link", "path": "/v1.0/users/delta", "count": 100000}' >/dev/null
if out=$(mvs import entra --full 2>&1); then echo "FAILED: import succeeded: $out"; exit 1; fi
peer_ctl DELETE /_fake/faults >/dev/null
echo "$out" | grep -q "users/delta page [0-9]*: an @odata.deltaLink with control characters" ||
  { echo "FAILED: no refusal in: $out"; exit 1; }
check "len(cs) == 10009" "the failed import changed nothing"
out=$(mvs import entra --delta 2>&1) || { echo "FAILED: $out"; exit 1; }
if echo "$out" | grep -q 'watermark rejected'; then echo "FAILED: $out"; exit 1; fi
echo "ok: the delta import after it resumes from the last good watermark"
echo "PASS"
