#!/usr/bin/env bash
# mvsync's main job, runnable on a fresh Debian 12 machine: install what is missing, build,
# validate the shipped example rule sets, then compute the AD names Cloud Sync's default
# group mapping gives a few sample cloud groups.  (The sync cycle replaces this when the
# engine lands.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target mvsync >/dev/null
mvsync=build/mvsync

echo "== mvsync rules check rules/examples"
$mvsync rules check rules/examples
echo
echo "== AD group names from Cloud Sync's default cn mapping"
cn='Append(Append(Left(Trim([displayName]), 51), "_"), Mid([objectId], 25, 12))'
while IFS='|' read -r name id; do
  printf '%-45s -> CN=%s\n' "$name" "$($mvsync expr "$cn" --attr "displayName=$name" --attr "objectId=$id")"
done <<'GROUPS'
Sales|3a5c3221-c465-48c0-95b8-e9305786a271
  Finance Approvers  |9b2f6a10-4c1e-4d2b-8a77-0c3e51d2f4aa
A group name far longer than fifty-one characters in total|0d5e7c3b-1f2a-4b6c-9d8e-7f6a5b4c3d2e
GROUPS
