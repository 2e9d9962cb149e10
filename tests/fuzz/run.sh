#!/usr/bin/env bash
# Run every libFuzzer target for SECONDS each, seeded from tests/fuzz/corpus/<target>/.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS    (BUILD_DIR configured with -DMVSYNC_FUZZ=ON)
# The seed is fixed (MVSYNC_FUZZ_SEED, default 1) so a run can be repeated exactly; set
# MVSYNC_FUZZ_SEED=0 for a random seed on long exploratory runs.
set -euo pipefail
build=$1; seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for bin in "$build"/tests/fuzz_*; do
  t=$(basename "$bin")
  mkdir -p "$work/$t" "$here/artifacts"
  echo "fuzz: $t for ${seconds}s"
  "$bin" "$work/$t" "$here/corpus/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -seed="${MVSYNC_FUZZ_SEED:-1}" \
    -artifact_prefix="$here/artifacts/$t-" 2>"$work/$t.log" || {
      tail -50 "$work/$t.log"; echo "fuzz: $t FAILED (artifact in tests/fuzz/artifacts/)"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$t.log" | tr '\n' ' '; echo
done
