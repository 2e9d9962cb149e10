#!/usr/bin/env bash
# Scenario 1 over file connectors (tools/demo-files.sh) as a test: it must succeed and write
# what scenario 1 expects to the demo AD's change log.  Usage: demo.sh PATH/TO/mvsync
set -euo pipefail
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
MVSYNC=$1 "$(dirname "$0")/../../tools/demo-files.sh" "$work" >"$work/out.log" 2>&1 ||
  { cat "$work/out.log"; echo "FAIL: tools/demo-files.sh exited non-zero"; exit 1; }
fails=0
want() { grep -qF -- "$2" "$work/$1" || { echo "FAIL: $1 lacks: $2"; fails=$((fails + 1)); }; }
want out.log "dry run of initial cycle: success"
want out.log "delta cycle: success"
# Kim Guest, a cloud-only member of Sales, is skipped and counted once (dry run and live).
for run in "dry run of initial cycle" "initial cycle"; do
  grep -qE "^$run: success \(.*, 1 references skipped\)$" "$work/out.log" ||
    { echo "FAIL: $run does not count 1 skipped reference"; fails=$((fails + 1)); }
done
want contoso-ad.ldif.changes "dn: CN=Sales_e9305786a271,OU=Cloud Groups,DC=contoso,DC=com"
want contoso-ad.ldif.changes "msDS-ExternalDirectoryObjectId: Group_3a5c3221-c465-48c0-95b8-e9305786a271"
want contoso-ad.ldif.changes "member: CN=Finance_5d7f1a2b3c4e,OU=Cloud Groups,DC=contoso,DC=com"
want contoso-ad.ldif.changes "member: CN=Ada Lovelace,OU=Users,OU=Corp,DC=contoso,DC=com"
# Out-of-scope groups (mail-enabled, Microsoft 365, synced from AD) are never written.
for g in Marketing "Contoso Everyone" "VPN Users_"; do
  if grep -q "dn: CN=$g" "$work/contoso-ad.ldif.changes"; then echo "FAIL: $g written"; fails=$((fails + 1)); fi
done
[ "$fails" = 0 ] && echo "demo: ok"
