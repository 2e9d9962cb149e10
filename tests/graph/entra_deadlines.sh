#!/bin/bash
# entra_deadlines — the Entra connector's deadlines and its retry budget per run, through the
# CLI against the Graph peer and two broken servers: a 503 outage stops once the run's
# budget (run-retry-seconds) is spent, not after max-retry-seconds per request (an import,
# exit 9), and likewise an export of several $batch requests (the probe); a server whose
# certificate is not trusted fails at once, never retried, naming the host (with another
# CA as ca-file, and with the system's trust); a server that accepts TCP and says nothing
# fails within `timeout` (exit 9, naming the server), during the TLS handshake and after
# the token, on Graph itself; and a Graph that holds its answer past `timeout`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

# A TCP server that accepts and never answers (it exits with this script).
SILENT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-silent.XXXXXX")
python3 - "$SILENT_DIR/port" $$ <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(0.5)
held = []
while os.getppid() == int(sys.argv[2]):
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
PY
SILENT_PID=$!
trap 'kill $SILENT_PID 2>/dev/null; rm -rf "$SILENT_DIR"' EXIT
while [ ! -s "$SILENT_DIR/port" ]; do sleep 0.05; done
SILENT_URL=https://127.0.0.1:$(cat "$SILENT_DIR/port")

conn_setup "$1"
PROBE=$2
peer_ctl POST /_fake/seed '{"users": [{"displayName": "A"}]}' >/dev/null

# run EXPECTED_EXIT MAX_SECONDS PATTERN CMD...: CMD exits with EXPECTED_EXIT within
# MAX_SECONDS, its output matching PATTERN (grep -E).
run() {
  local want=$1 max=$2 pat=$3 start end code=0 out
  shift 3
  start=$(date +%s.%N)
  out=$("$@" 2>&1) || code=$?
  end=$(date +%s.%N)
  echo "$out" | tail -3
  [ "$code" = "$want" ] || { echo "FAILED: exit $code, want $want"; exit 1; }
  echo "$out" | grep -Eq "$pat" || { echo "FAILED: no /$pat/ in the output"; exit 1; }
  python3 -c "import sys; e=float(sys.argv[2])-float(sys.argv[1]); assert e < float(sys.argv[3]), e; print('ok: exit %s after %.1fs' % (sys.argv[4], e))" \
    "$start" "$end" "$max" "$want"
}

echo "== a 503 outage on import: stopped by run-retry-seconds 4, not max-retry-seconds 60"
write_rules '  run-retry-seconds 4'
log_mark
peer_ctl POST /_fake/faults '{"kind": "503", "path": "/v1.0/users/delta", "retry_after": 1, "count": 1000}' >/dev/null
run 9 8 "retry budget is spent .*run-retry-seconds 4.*HTTP 503" mvs import entra --full
peer_ctl DELETE /_fake/faults >/dev/null
check 'sum(e["fault"] == "503" for e in log) in range(4, 6)' "4 or 5 tries, 1 s apart (Retry-After), then stopped"

echo "== a 503 outage on export: 60 changes (3 \$batch requests), one budget for all"
log_mark
peer_ctl POST /_fake/faults '{"kind": "503", "path": "/v1.0/$batch", "where": "top", "retry_after": 1, "count": 1000}' >/dev/null
changes=$(for i in $(seq 1 60); do printf 'update group 20000000-0000-0000-0000-%012d\n  replace description "x"\n' "$i"; done)
run 1 8 "export: .*retry budget is spent .*run-retry-seconds 4" \
  "$PROBE" tenant="$PEER_TENANT" client-id="$PEER_CLIENT_ID" client-secret-file="$PEER_SECRET_FILE" \
  authority="$PEER_LOGIN_URL" graph-url="$PEER_GRAPH_URL" ca-file="$PEER_CA" \
  max-retry-seconds=3 run-retry-seconds=4 <<<"$changes"
peer_ctl DELETE /_fake/faults >/dev/null
check 'sum(e["path"] == "/v1.0/$batch" for e in log) <= 6' "at most 6 \$batch POSTs in all (not 3 x max-retry-seconds)"

echo "== a certificate from another CA: at once, not retried, naming the host"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.key" -out "$WORK/other-ca.pem" \
  -days 1 -subj "/CN=not the peer's CA" 2>/dev/null
write_rules "  max-retry-seconds 60
  ca-file \"$WORK/other-ca.pem\""
sed -i "0,/ca-file \"${PEER_CA//\//\\/}\"/{//d}" "$WORK/rules/entra.rules"
grep -c ca-file "$WORK/rules/entra.rules" | grep -qx 1
host=${PEER_LOGIN_URL#https://}
run 1 3 "https://${host%%/*}: TLS certificate not verified.*not retried" mvs import entra --full
echo "== the same with the system's trust anchors (no ca-file)"
sed -i '/ca-file/d' "$WORK/rules/entra.rules"
run 1 3 "https://${host%%/*}: TLS certificate not verified.*not retried" mvs import entra --full

echo "== a silent server as the authority: the TLS handshake times out (timeout 3)"
write_rules "  timeout 3"
sed -i "s|authority \".*\"|authority \"$SILENT_URL\"|" "$WORK/rules/entra.rules"
run 9 6 "${SILENT_URL}: no answer in time.*timeout 3 s" mvs import entra --full

echo "== a silent server as Graph (the token from the peer): timed out, naming Graph's host"
write_rules "  timeout 3
  scope \"$PEER_GRAPH_URL/.default\""
sed -i "s|graph-url \".*\"|graph-url \"$SILENT_URL\"|" "$WORK/rules/entra.rules"
run 9 6 "${SILENT_URL}: no answer in time.*timeout 3 s" mvs import entra --full
echo "== the peer holds a delta page for 10 s (connected, TLS done): timed out after 3"
write_rules "  timeout 3"
peer_ctl POST /_fake/faults '{"kind": "delay", "path": "/v1.0/users/delta", "seconds": 10}' >/dev/null
run 9 6 "${PEER_GRAPH_URL%/}: no answer in time.*timeout 3 s" mvs import entra --full
echo "PASS"
