#!/bin/bash
# graph_import — benchmark of the Entra connector: a full import of 100,000 users and 10,000
# groups (10 members each) from the Graph peer through the real CLI (page size 999), then a
# delta import of nothing.  Prints seconds, objects/s and peak RSS (/usr/bin/time -v).  Not a
# test: it prints figures, it does not fail on them.
#   tests/bench/graph_import.sh BUILD_DIR [USERS GROUPS MEMBERS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: graph_import.sh BUILD_DIR [USERS GROUPS MEMBERS]}" && pwd)
users=${2:-100000} groups=${3:-10000} members=${4:-10}
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$build/mvsync" '  page-size 999'
peer_ctl POST /_fake/config '{"member_split": 1000, "empty_first_page": false}' >/dev/null
gen=$(peer_ctl POST /_fake/generate "{\"users\": $users, \"groups\": $groups, \"members_per_group\": $members}")
echo "peer: generated $gen"
objects=$((users + groups))

run() { # run LABEL ARGS...: one timed mvsync run
  local label=$1
  shift
  /usr/bin/time -v "$MVSYNC_BIN" "$@" >"$WORK/out.txt" 2>"$WORK/time.txt" ||
    { cat "$WORK/out.txt" "$WORK/time.txt"; exit 1; }
  python3 - "$label" "$objects" "$WORK/time.txt" <<'PY'
import re, sys
label, n, text = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
secs = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
cpu = sum(float(re.search(r"%s time \(seconds\): ([\d.]+)" % k, text).group(1)) for k in ("User", "System"))
print("%-34s %8.2f s  %9s objects/s  peak RSS %6.1f MiB  mvsync CPU %.2f s" %
      (label, secs, "{:,.0f}".format(n / secs) if "full" in label else "-", rss, cpu))
PY
}
log_mark
run "full import ($objects objects)" import entra --full
peer_ctl GET "/_fake/log?since=$LOG_MARK" | python3 -c '
import json, sys
log = json.load(sys.stdin)["requests"]
pages = [e for e in log if "/delta" in e["path"]]
print("requests: %d (%d delta pages, %.1f MB of JSON); peer time serving pages %.1f s" % (
    len(log), len(pages), sum(e.get("bytes", 0) for e in pages) / 1e6,
    sum(e["t_end"] - e["t_start"] for e in pages)))'
run "delta import (no changes)" import entra --delta
