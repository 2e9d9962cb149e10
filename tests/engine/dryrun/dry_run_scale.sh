#!/bin/sh
# A dry run at scale says exactly what the live run then does (issue 11 item 3): an initial
# cycle over N users per directory (tests/bench/bench_gen.c: AD and Entra users, groups up to
# 100,000 members, plus a provisioned third directory, extra.rules) is run dry, then live, then
# the directories are read back (full imports).  dry_run_vs_live.py checks, object by object and
# value by value, that the dry run's import and send changes applied to an empty directory
# state give the directories as they are after the live run, that its metaverse changes give
# the live metaverse, and that both runs report the same counts.  Prints time and peak RSS of
# the dry run.  With MVSYNC_DRY_RUN_MEMORY set tiny, a dry run must fail, not report success.
# usage: dry_run_scale.sh MVSYNC BENCH_GEN USERS
set -eu
MVSYNC=$1 GEN=$2 N=$3
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-dryscale-XXXXXX")
trap 'rm -rf "$W"' EXIT
"$GEN" "$W" "$N" 0
cat "$HERE/extra.rules" >> "$W/rules.rules"
: > "$W/target.ldif"
: > "$W/target.ldif.changes"
cd "$W"
run() { "$MVSYNC" "$@" --store store.db --rules rules.rules; }
"$MVSYNC" init --store store.db >/dev/null

# A cap too small for one object's diff fails the dry run, with a message, exit code 3.
set +e
MVSYNC_DRY_RUN_MEMORY=2000 run cycle --initial --dry-run >capped.out 2>capped.err
rc=$?
set -e
if [ "$rc" -ne 3 ] || grep -q "success" capped.out || ! grep -q "diff's memory limit" capped.err; then
  echo "FAIL: a dry run over its diff memory cap must fail (exit 3), got $rc" >&2
  cat capped.err >&2
  tail -3 capped.out >&2
  exit 1
fi

TIME=
[ -x /usr/bin/time ] && TIME="/usr/bin/time -v -o time.txt"
start=$(date +%s)
$TIME "$MVSYNC" cycle --initial --dry-run --json --store store.db --rules rules.rules >dry.json
echo "dry run of an initial cycle, $N users per directory: $(( $(date +%s) - start )) s," \
     "$(wc -c <dry.json) bytes of JSON" \
     "$( [ -f time.txt ] && awk '/Maximum resident/ {printf ", peak RSS %.0f MiB", $NF/1024}' time.txt)"
run dump --json >after-dry.json
python3 - after-dry.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert not any(d["connectors"].values()) and not d["metaverse"] and not d["pending"], "dry run committed"
PY
run cycle --initial --json >live.json
for c in ad entra target; do run import "$c" --full >/dev/null 2>&1; done
run dump --json >live-dump.json
python3 "$HERE/dry_run_vs_live.py" dry.json live.json live-dump.json
