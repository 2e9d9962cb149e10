#!/usr/bin/env bash
# Install missing Debian packages, build the release mvsync binary under build/, and print its
# path (what the demos run unless $MVSYNC names a binary).  Usage: tools/build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMVSYNC_WERROR=ON >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target mvsync >/dev/null
echo "$root/build/mvsync"
