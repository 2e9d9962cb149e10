# Graph peer harness for tests (sourced): starts tools/graph_peer.py with an EXIT trap.
# Contract: docs/internals/test-servers.md ("Graph peer");
# control API: docs/internals/graph-peer.md.
#
#   . "$root/tests/graph/peer.sh"
#   peer_start     # exports PEER_DIR PEER_GRAPH_URL PEER_LOGIN_URL PEER_FOREIGN_URL PEER_CA
#                  #         PEER_TENANT PEER_CLIENT_ID PEER_SECRET_FILE (0600) PEER_PID
#                  #         PEER_PYTHON (the python3 interpreter, for JSON in tests)
#   peer_ctl POST /_fake/seed '{"users":[...]}'   # control API; prints the JSON reply
#   peer_stop      # also run by the EXIT trap (chained in front of an EXIT trap already set)

_peer_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

peer_start() {
  local prev deadline
  # The interpreter itself, not a version-manager shim (pyenv's costs ~0.2 s per start).
  PEER_PYTHON=$(python3 -c 'import sys; print(sys.executable)') || return 1
  PEER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-graph-peer.XXXXXX")
  # Chain in front of an EXIT trap the script or another harness (samba.sh) already set;
  # HUP/INT/TERM exit through it. Call peer_start in the script's main shell, not in $(...).
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then
    eval "set -- $prev"
    trap "peer_stop; $3" EXIT
  else
    trap peer_stop EXIT
  fi
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  "$PEER_PYTHON" "$_peer_root/tools/graph_peer.py" --dir "$PEER_DIR" --parent-pid $$ \
    >"$PEER_DIR/peer.log" 2>&1 &
  PEER_PID=$!
  deadline=$((SECONDS + 30))
  while [ ! -s "$PEER_DIR/peer.json" ]; do
    if ! kill -0 "$PEER_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "graph peer failed to start:" >&2
      cat "$PEER_DIR/peer.log" >&2
      return 1
    fi
    sleep 0.05
  done
  eval "$("$PEER_PYTHON" - "$PEER_DIR" <<'PY'
import json, shlex, sys
d = sys.argv[1]
p = json.load(open(d + "/peer.json"))
with open(d + "/client_secret", "w") as f:
    f.write(p["client_secret"])
for k, v in (("PEER_GRAPH_URL", "graph_url"), ("PEER_LOGIN_URL", "login_url"),
             ("PEER_FOREIGN_URL", "foreign_url"), ("PEER_CA", "ca"),
             ("PEER_TENANT", "tenant"), ("PEER_CLIENT_ID", "client_id")):
    print("export %s=%s" % (k, shlex.quote(p[v])))
PY
)"
  chmod 600 "$PEER_DIR/client_secret"
  export PEER_DIR PEER_PID PEER_PYTHON PEER_SECRET_FILE="$PEER_DIR/client_secret"
}

# peer_ctl METHOD PATH [JSON]: one control call; prints the reply, fails on a non-2xx status.
peer_ctl() {
  local method=$1 path=$2 data=${3-}
  local args=(-sS --fail-with-body --cacert "$PEER_CA" -X "$method")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  curl "${args[@]}" "$PEER_GRAPH_URL$path"
}

peer_stop() {
  if [ -n "${PEER_PID:-}" ]; then
    kill "$PEER_PID" 2>/dev/null && wait "$PEER_PID" 2>/dev/null
    PEER_PID=
  fi
  if [ -n "${PEER_DIR:-}" ] && [ -z "${MVSYNC_KEEP_PEER:-}" ]; then
    rm -rf "$PEER_DIR"
  fi
  PEER_DIR=
}
