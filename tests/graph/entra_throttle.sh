#!/bin/bash
# entra_throttle — the Entra connector under throttling, proved from the peer's request log
# timestamps: a 429 storm with Retry-After in seconds and as an HTTP-date, Retry-After: 2.128, 503 / 504 with and
# without Retry-After (exponential backoff), a throttled token endpoint; and the bound: with
# max-retry-seconds spent, the import stops with the 429 instead of waiting on, also when a
# storm says Retry-After: 0 (backoff instead of resending at once).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1" '  page-size 2'
peer_ctl POST /_fake/seed '{"users": [{"displayName": "A"}, {"displayName": "B"}, {"displayName": "C"}],
                            "groups": [{"displayName": "G", "mailNickname": "g"}]}' >/dev/null

echo "== a 429 storm: Retry-After honoured"
log_mark
peer_ctl POST /_fake/faults "{\"faults\": [
  {\"kind\": \"503\", \"path\": \"/$PEER_TENANT/oauth2/v2.0/token\", \"retry_after\": 1},
  {\"kind\": \"429\", \"path\": \"/v1.0/users/delta\", \"retry_after\": 2, \"count\": 2},
  {\"kind\": \"429\", \"path\": \"/v1.0/users/delta\", \"retry_after_date\": 3},
  {\"kind\": \"503\", \"path\": \"/v1.0/users/delta\"},
  {\"kind\": \"504\", \"path\": \"/v1.0/groups/delta\", \"retry_after\": 1},
  {\"kind\": \"429\", \"path\": \"/v1.0/groups/delta\", \"skip\": 1}]}" >/dev/null
mvs import entra --full
check 'len(cs) == 4' "the import completed"
peer_ctl GET "/_fake/log?since=$LOG_MARK" | python3 -c '
import json, sys
log = json.load(sys.stdin)["requests"]
faulted = [(i, e) for i, e in enumerate(log) if e["fault"]]
assert len(faulted) == 7, [e["fault"] for e in log]
for i, e in faulted:
    nxt = log[i + 1]
    assert nxt["url"] == e["url"], ("the same request again", e["url"], nxt["url"])
    waited = nxt["t_start"] - e["t_end"]
    # Retry-After seconds exactly; an HTTP-date has one-second resolution; without one the
    # backoff starts at 0.5-1 s.
    want = {1: 0.95, 2: 1.95}.get(e.get("retry_after"), None)
    print("  %s %s: next try %.2fs later" % (e["fault"], e["path"], waited))
    if e["fault"] == "429" and i == faulted[2][0]:
        want = 1.9
    elif want is None:
        want = 0.45
    assert waited >= want, (e["fault"], waited, want)
print("ok: every retry waited what it was told (or backed off)")
' 2>&1

echo "== Retry-After: 2.128 (Microsoft's throttling example): waited, not the backoff"
log_mark
peer_ctl POST /_fake/faults '{"kind": "429", "path": "/v1.0/users/delta", "retry_after": 2.128}' >/dev/null
mvs import entra --full
peer_ctl GET "/_fake/log?since=$LOG_MARK" | python3 -c '
import json, sys
log = [e for e in json.load(sys.stdin)["requests"] if e["path"] == "/v1.0/users/delta"]
assert log[0]["fault"] == "429" and log[1]["url"] == log[0]["url"], log[:2]
gap = log[1]["t_start"] - log[0]["t_end"]
assert 2.128 <= gap < 3.2, gap
print("ok: the same request %.3f s later" % gap)'

echo "== the bound: max-retry-seconds 3, a storm of Retry-After 2"
write_rules '  page-size 2
  max-retry-seconds 3'
peer_ctl POST /_fake/faults '{"kind": "429", "path": "/v1.0/users/delta", "retry_after": 2, "count": 10}' >/dev/null
start=$(date +%s.%N)
if out=$(mvs import entra --full 2>&1); then echo "FAILED: the import should stop: $out"; exit 1; fi
elapsed=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
echo "$out" | grep -q 'HTTP 429 TooManyRequests' || { echo "FAILED: $out"; exit 1; }
python3 -c "import sys; e=float(sys.argv[1]); assert 1.9 <= e < 10, e; print('ok: stopped with the 429 after %.1fs (one wait of 2s fits in 3s, a second does not)' % e)" "$elapsed"
peer_ctl DELETE /_fake/faults >/dev/null

echo "== a Retry-After: 0 storm: backoff instead, stopped by max-retry-seconds 3"
log_mark
peer_ctl POST /_fake/faults '{"kind": "429", "path": "/v1.0/users/delta", "retry_after": 0, "count": 1000}' >/dev/null
start=$(date +%s.%N)
if out=$(mvs import entra --full 2>&1); then echo "FAILED: the import should stop: $out"; exit 1; fi
elapsed=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
peer_ctl DELETE /_fake/faults >/dev/null
echo "$out" | grep -q 'HTTP 429 TooManyRequests' || { echo "FAILED: $out"; exit 1; }
python3 -c "import sys; e=float(sys.argv[1]); assert e < 8, e; print('ok: stopped with the 429 after %.1fs' % e)" "$elapsed"
peer_ctl GET "/_fake/log?since=$LOG_MARK" | python3 -c '
import json, sys
log = [e for e in json.load(sys.stdin)["requests"] if e["path"] == "/v1.0/users/delta"]
gaps = [b["t_start"] - a["t_end"] for a, b in zip(log, log[1:])]
assert 2 <= len(log) <= 6 and all(g >= 0.45 for g in gaps), (len(log), gaps)
print("ok: %d requests, %s s apart (backoff, not at once)" % (len(log), ", ".join("%.2f" % g for g in gaps)))'
echo "PASS"
