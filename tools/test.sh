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
# The builds people type: Release with gcc and with clang, and the default build type (the
# one the suite runs in).  Warnings are errors here (MVSYNC_WERROR), never in a user's build.
for cc in gcc clang; do
  echo "== Release build ($cc)"
  CC=$cc cmake -S . -B "build-release-$cc" -DCMAKE_BUILD_TYPE=Release -DMVSYNC_WERROR=ON >/dev/null
  cmake --build "build-release-$cc" -j"$jobs" --target mvsync
done
echo "== default build"
cmake -S . -B build -DMVSYNC_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" -LE scale

echo "== ASan/UBSan build ($SECONDS s so far)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMVSYNC_SANITIZE=ON -DMVSYNC_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
# The `slow` tests (SIGKILL loops over a large sync, the 52,000-user Samba directory, the
# package) run above in the default build; under the sanitizers they would take most of CI's
# 90 minutes while exercising the code paths the small tests already run there.  The
# `browser` tests load a page in Chromium: their C side (`report --html`, `authority --html`)
# runs under the sanitizers in cli_docs_commands and cli_authority; the browser's time would not.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE 'scale|package|slow|browser'

echo "== fuzz ($SECONDS s so far; libFuzzer, ${MVSYNC_FUZZ_SECONDS:-20}s per target)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMVSYNC_FUZZ=ON -DMVSYNC_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_targets
tests/fuzz/run.sh build-fuzz "${MVSYNC_FUZZ_SECONDS:-20}"
echo "== all tests passed in $SECONDS s"
