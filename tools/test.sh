#!/usr/bin/env bash
# Run every mvsync test: installs missing Debian packages, builds a release build and an
# ASan/UBSan build, runs ctest in both, then short libFuzzer runs of every fuzz target.
# Usage: tools/test.sh            (from anywhere; builds under build/ and build-asan/)
#        MVSYNC_FUZZ_SECONDS=600 tools/test.sh   for the long fuzz runs
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh

jobs=$(nproc)
echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan/UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMVSYNC_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== fuzz (libFuzzer, ${MVSYNC_FUZZ_SECONDS:-20}s per target)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMVSYNC_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_targets
tests/fuzz/run.sh build-fuzz "${MVSYNC_FUZZ_SECONDS:-20}"
echo "== all tests passed"
