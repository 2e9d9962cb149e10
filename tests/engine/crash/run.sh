#!/bin/sh
# Crash safety: kill a large `cycle --initial` (sync and export of 2×USERS objects) with
# SIGKILL at POINTS seeded random moments; after each kill the store must open (mvsync dump
# runs SQLite's integrity check), and rerunning must reach the dump of an uninterrupted run.
# usage: run.sh MVSYNC ENGINE_CASES BENCH_GEN POINTS USERS [SEED]
set -u
MVSYNC=$1 CMP=$2 GEN=$3 POINTS=$4 USERS=$5 SEED=${6:-1}
W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-crash-XXXXXX")
fail() { echo "FAIL: $*" >&2; echo "work dir kept: $W" >&2; exit 1; }
ms() { date +%s%3N; }

mkdir "$W/fixture" && "$GEN" "$W/fixture" "$USERS" 0 >/dev/null || fail "generator"
fresh() {
  rm -rf "$W/run" && cp -r "$W/fixture" "$W/run" &&
    "$MVSYNC" init --store "$W/run/store.db" >/dev/null || fail "init"
}
# Converge: the interrupted cycle again, then a delta cycle that confirms what was exported.
finish() {
  (cd "$W/run" && "$MVSYNC" cycle --initial --store store.db --rules rules.rules &&
   "$MVSYNC" cycle --delta --store store.db --rules rules.rules) >"$W/out.txt" 2>&1 ||
    fail "$1: rerun failed: $(tail -c 2000 "$W/out.txt")"
  "$MVSYNC" dump --json --store "$W/run/store.db" > "$W/$2" || fail "$1: dump after rerun failed"
}

fresh
t0=$(ms)
(cd "$W/run" && "$MVSYNC" cycle --initial --store store.db --rules rules.rules) >"$W/out.txt" 2>&1 ||
  fail "uninterrupted cycle failed: $(tail -c 2000 "$W/out.txt")"
total=$(( $(ms) - t0 ))
finish uninterrupted reference.json
echo "uninterrupted cycle: ${total} ms"

# Kill times: uniform in (0, total) from a seeded generator (awk's srand is deterministic).
awk -v seed="$SEED" -v n="$POINTS" -v t="$total" \
  'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%d\n", 1 + rand() * (t - 1) }' > "$W/points"
k=0
while read -r at; do
  k=$((k + 1))
  fresh
  (cd "$W/run" && exec "$MVSYNC" cycle --initial --store store.db --rules rules.rules) \
    >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v m="$at" 'BEGIN { printf "%.3f", m / 1000 }')"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ -f "$W/run/store.db" ]; then
    "$MVSYNC" dump --json --store "$W/run/store.db" > "$W/after-kill.json" 2>"$W/err.txt" ||
      fail "point $k (${at} ms): the store does not open after SIGKILL: $(cat "$W/err.txt")"
  fi
  finish "point $k (${at} ms)" final.json
  "$CMP" compare "$W/reference.json" "$W/final.json" 2>"$W/diff.txt" ||
    fail "point $k (${at} ms): rerun differs from the uninterrupted run: $(cat "$W/diff.txt")"
  echo "point $k: killed at ${at} ms: store consistent, rerun converged"
done < "$W/points"
echo "ok: $POINTS kill points, $USERS users per directory"
rm -rf "$W"
