#!/usr/bin/env bash
# ctest scenario_1_demo: the README's main job (tools/demo.sh) runs scenario 1 against servers it
# starts, shows the dry run and the results, and stops the servers.  Usage: 1-demo.sh PATH/TO/mvsync
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp); trap 'rm -f "$out"' EXIT
fails=0
want() { grep -qF -- "$1" "$out" && echo "PASS: shows $1" || { echo "FAIL: lacks: $1"; fails=$((fails + 1)); }; }
MVSYNC=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") "$root/tools/demo.sh" >"$out" 2>&1 ||
  { cat "$out"; echo "FAIL: tools/demo.sh exited non-zero"; exit 1; }
want "ok: 2 files, 2 connectors, 4 rules"
want "send contoso.com: add CN=Sales_e9305786a271,OU=Writeback,OU=mvsync,DC=test,DC=lan"
want "dry run of initial cycle: success"
want "initial cycle: success"
want "send contoso.com: rename CN=Sales_e9305786a271,OU=Writeback,OU=mvsync,DC=test,DC=lan -> CN=Sales EMEA_e9305786a271"
want "delta cycle: success"
want "dn: CN=Sales EMEA_e9305786a271,OU=Writeback,OU=mvsync,DC=test,DC=lan"
# The servers are gone: the DC's copy removed (the harness's trap), the peer's folder too.
dc_dir=$(sed -n 's/^samba: DC up on .* from \([^ ]*\) .*/\1/p' "$out")
peer_dir=$(sed -n 's/^Entra: .* (peer folder \(.*\))$/\1/p' "$out")
for d in "$dc_dir" "$peer_dir"; do
  [ -n "$d" ] && [ ! -e "$d" ] && echo "PASS: $d removed (server stopped)" ||
    { echo "FAIL: server folder '$d' left behind"; fails=$((fails + 1)); }
done
echo "$fails failed"
[ "$fails" = 0 ]
