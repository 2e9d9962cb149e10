#!/bin/sh
# Every delta proportional to its changes (issue 17 item 2), counted in the store's pages,
# which every step logs ("store pages: R read, W written": SQLite's cache misses and pages
# written, engine/run.c).  Seconds are noisy here; pages are not.  On bench_gen's directories
# (20,000 users per directory), after a full cycle and its confirmation:
#  - a delta sync with nothing pending reads a few pages and writes none, right after the
#    full sync (which takes every import) and after the confirming import's sync;
#  - a delta import of 1,000 department changes writes at most the page of each changed
#    object's row, plus 100 pages of shared structure (b-tree interior pages, the pending
#    table): an update that also rewrites the entries of indexes on columns that did not
#    change (anchor, DN, type) writes 1,606;
#  - its delta sync writes at most the page of each changed metaverse row, plus 100 (the
#    pending table, the key and export indexes): a step that rewrites each changed object's
#    own row as well (clearing its import state there, migration 6) writes about twice that;
#  - one member change in a large group is a few b-tree paths: at most 64 pages read and
#    32 written by its import and by its sync.
# Usage: delta_pages.sh PATH/TO/mvsync PATH/TO/bench_gen
set -eu
M=$1 GEN=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
"$GEN" "$W" 20000 1000 >/dev/null
cd "$W"
"$M" init --store s.db >/dev/null
# step ARGS...: run one step; its pages into $read and $written.
step() {
  "$M" "$@" --store s.db --rules rules.rules >out.txt 2>&1 || { cat out.txt; exit 1; }
  line=$(grep "store pages:" out.txt) || { echo "no store pages line: $(cat out.txt)"; exit 1; }
  read=$(echo "$line" | sed -E 's/.*store pages: ([0-9]+) read.*/\1/')
  written=$(echo "$line" | sed -E 's/.*read, ([0-9]+) written.*/\1/')
}
# steps ARGS...: the steps named (one per argument), then a delta sync that must find
# nothing to do (after ARGS...).
steps() {
  for s in "$@"; do
    # shellcheck disable=SC2086
    step $s
  done
  step sync --delta
  [ "$read" -le 10 ] && [ "$written" = 0 ] ||
    bad "a delta sync with nothing pending after $*: $read pages read, $written written (want <= 10, 0)"
}
# A full sync takes every import (it defers the writes to its end: store_full_sync_end).
steps "import ad --full" "import entra --full" "sync --full"
steps "export ad" "import ad --delta" "sync --delta"
cat delta.ldif >>ad.ldif.changes
step import ad --delta
grep -q "1000 updates" out.txt || bad "the delta import did not take 1,000 changes: $(cat out.txt)"
[ "$written" -le 1100 ] || bad "a delta import of 1,000 changes wrote $written pages (want <= 1,100)"
step sync --delta
grep -q "1000 updates" out.txt || bad "the delta sync did not take 1,000 changes: $(cat out.txt)"
[ "$written" -le 1100 ] || bad "a delta sync of 1,000 changes wrote $written pages (want <= 1,100)"
cat member.ldif >>ad.ldif.changes
step import ad --delta
[ "$read" -le 64 ] && [ "$written" -le 32 ] ||
  bad "a delta import of one member change: $read pages read, $written written (want <= 64, 32)"
step sync --delta
[ "$read" -le 64 ] && [ "$written" -le 32 ] ||
  bad "a delta sync of one member change: $read pages read, $written written (want <= 64, 32)"
[ "$fails" = 0 ] && echo "delta pages: ok" || { echo "delta pages: $fails failures"; exit 1; }
