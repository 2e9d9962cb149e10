#!/usr/bin/env bash
# Scenario 1 without servers: Contoso's cloud security groups written back to AD by the rules of
# rules/examples/cloud-groups-to-ad over the sample directories in tests/data/demo, read by file
# connectors (rules/examples/demo/connectors.rules).  It runs an initial cycle as a dry run
# (prints the diff, commits nothing), then for real, then a delta cycle after a cloud admin's
# and an AD admin's changes, dry run first again.  tools/demo.sh does the same against servers.
# Usage: tools/demo-files.sh [WORKDIR]   (installs missing packages and builds unless $MVSYNC is set)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
MVSYNC=${MVSYNC:-$("$root/tools/build.sh")}
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cp "$root"/rules/examples/demo/connectors.rules "$root"/rules/examples/cloud-groups-to-ad/groups.rules \
  "$root"/tests/data/demo/contoso-* "$work/"
cd "$work"
rm -f mvsync.db* contoso-*.changes
export MVSYNC_STORE=$work/mvsync.db MVSYNC_RULES=$work
step() { printf '\n== %s\n' "$*"; }

step "mvsync init"
"$MVSYNC" init
step "mvsync rules check ."
"$MVSYNC" rules check .
step "mvsync cycle --initial --dry-run   (what the first cycle would change; nothing is written)"
"$MVSYNC" cycle --initial --dry-run
step "mvsync cycle --initial"
"$MVSYNC" cycle --initial

step "a cloud admin adds Ada to Sales, removes Carol, edits Finance; an AD admin retitles Dan"
cat "$root/tests/data/demo/entra-delta-1.json" >>contoso-entra.json.changes
cat "$root/tests/data/demo/ad-delta-1.ldif" >>contoso-ad.ldif.changes
step "mvsync cycle --delta --dry-run"
"$MVSYNC" cycle --delta --dry-run
step "mvsync cycle --delta"
"$MVSYNC" cycle --delta

step "what was written to AD (contoso-ad.ldif.changes, the directory's change log)"
cat contoso-ad.ldif.changes
step "mvsync runs"
"$MVSYNC" runs
echo
echo "store and files: $work"
