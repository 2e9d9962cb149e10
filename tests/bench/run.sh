#!/bin/sh
# Benchmarks (not a test): times full import, full sync, a delta sync of 10,000 changes, an
# export, and one member change in the 100,000-member group, on synthetic directories of 100k
# or 1M users per directory; prints seconds, objects/s and peak RSS, and the raw SQLite insert
# rate of as many rows, measured in the same run, as the limit; then the store's bytes per
# object and, for each target of issue 17, the figure against that limit: met or missed.
# usage: tests/bench/run.sh [100k|1m|5m] [BUILD_DIR]   (5m: about an hour and 11 GB of TMPDIR)
set -eu
SIZE=${1:-100k}
B=${2:-$(dirname "$0")/../../build}
B=$(cd "$B" && pwd)   # absolute: the steps run in a temporary directory
case $SIZE in 100k) N=100000 ;; 1m) N=1000000 ;; 5m) N=5000000 ;;
  *) echo "usage: run.sh [100k|1m|5m] [BUILD_DIR]" >&2; exit 2 ;; esac
MVSYNC=$B/mvsync GEN=$B/tests/bench_gen INS=$B/tests/sqlite_insert
for x in "$MVSYNC" "$GEN" "$INS"; do [ -x "$x" ] || { echo "build first: $x missing" >&2; exit 2; }; done
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time for peak RSS" >&2
  apt-get install -y time >/dev/null
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-bench-XXXXXX")
trap 'rm -rf "$W"' EXIT
"$GEN" "$W" "$N" 10000
cd "$W"
CS=$(( $(grep -c '^dn: ' ad.ldif) + N ))
echo "mvsync benchmark: $N users per directory, $CS connector-space objects, $(nproc) cores"
printf '%-34s %9s %14s %10s\n' step seconds objects/s "peak RSS"

# step NAME OBJECTS mvsync-args...: one timed run, one line of figures.
step() {
  name=$1 objs=$2
  shift 2
  /usr/bin/time -v -o time.txt "$MVSYNC" "$@" --store store.db --rules rules.rules >out.txt 2>&1 ||
    { echo "$name failed:" >&2; tail -20 out.txt >&2; exit 1; }
  awk -v name="$name" -v objs="$objs" '
    /Elapsed \(wall clock\)/ { n = split($NF, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
    /Maximum resident set size/ { rss = $NF }
    END { printf "%-34s %9.2f %14.0f %7.0f MiB\n", name, s, (s > 0 ? objs / s : 0), rss / 1024
          printf "%s|%.2f|%.0f\n", name, s, rss / 1024 >> "results.txt" }' time.txt
}
"$MVSYNC" init --store store.db >/dev/null || exit 1
step "full import ad" $((CS - N)) import ad --full
step "full import entra" "$N" import entra --full
step "full sync" "$CS" sync --full
step "export ad" "$N" export ad
step "confirming delta import ad" "$N" import ad --delta
step "delta sync (confirmations)" "$N" sync --delta
cat delta.ldif >> ad.ldif.changes
step "delta import ad (10,000 changes)" 10000 import ad --delta
step "delta sync (10,000 changes)" 10000 sync --delta
cat member.ldif >> ad.ldif.changes
step "delta import (1 member change)" 1 import ad --delta
step "delta sync (1 member, 100k group)" 1 sync --delta
"$INS" "$W/raw.db" "$CS" >raw.txt || { echo "raw insert failed" >&2; exit 1; }
cat raw.txt
raw=$(awk '{ print $(NF-1) }' raw.txt)
case $raw in ''|0|*[!0-9.]*) echo "raw insert printed no rate: $(cat raw.txt)" >&2; exit 1 ;; esac
store_bytes=$(( $(stat -c %s store.db) + $( [ -f store.db-wal ] && stat -c %s store.db-wal || echo 0) ))
# The targets of issue 17, from the figures above and the limit measured in this run.
awk -F'|' -v cs="$CS" -v bytes="$store_bytes" -v raw="$raw" '
  { t[$1] = $2; if ($3 > rss) { rss = $3; rss_step = $1 } }
  END {
    printf "\nstore: %.0f bytes per connector-space object (%.0f MiB with its WAL)\n", bytes / cs, bytes / 1048576
    printf "targets (issue 17; met or missed against this run'\''s own limit):\n"
    r = cs / t["full sync"] / raw * 100
    printf "  full sync at %.1f %% of the raw insert rate (target >= 25 %%): %s\n", r, (r >= 25 ? "met" : "missed")
    r = t["delta import ad (10,000 changes)"] / t["full import ad"] * 100
    printf "  delta import of 10,000 changes in %.1f %% of the full import'\''s time (target <= 10 %%): %s\n", r, (r <= 10 ? "met" : "missed")
    r = t["delta import (1 member change)"]
    printf "  delta import of one change %.2f s, whole process (target <= 0.1 s): %s\n", r, (r <= 0.1 ? "met" : "missed")
    r = 150000 / raw
    printf "  delta sync of 10,000 changes %.2f s; raw insert of 150,000 rows %.2f s (target: not above it): %s\n", t["delta sync (10,000 changes)"], r, (t["delta sync (10,000 changes)"] <= r ? "met" : "missed")
    printf "  peak RSS %d MiB, in %s (target <= 256 MiB): %s\n", rss, rss_step, (rss <= 256 ? "met" : "missed")
  }' results.txt
