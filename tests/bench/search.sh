#!/bin/sh
# Benchmark (not a test): `mvsync search` at 100k or 1M users per directory.  Builds the
# store once (bench_gen's directories: full import of both, full sync; the AD side keeps its
# pending exports) unless STORE_DIR already holds one, then times each kind of search as a
# whole process (start, store open, search, output; wall and CPU time), the median of 5
# runs, beside the raw limit measured in the same run: the sqlite3 shell opening the store
# and making the same index lookup, and `mvsync show cs ID` (start, open, one object).
# usage: tests/bench/search.sh [100k|1m] [BUILD_DIR] [STORE_DIR]
set -eu
SIZE=${1:-100k}
B=${2:-$(dirname "$0")/../../build}
case $SIZE in 100k) N=100000 ;; 1m) N=1000000 ;; *) echo "usage: search.sh [100k|1m] [BUILD_DIR] [STORE_DIR]" >&2; exit 2 ;; esac
MVSYNC=$(cd "$(dirname "$B/mvsync")" && pwd)/mvsync GEN=$B/tests/bench_gen
for x in "$MVSYNC" "$GEN"; do [ -x "$x" ] || { echo "build first: $x missing" >&2; exit 2; }; done
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
if [ -n "${3-}" ]; then
  W=$3
  mkdir -p "$W"
else
  W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-search-bench-XXXXXX")
  trap 'rm -rf "$W"' EXIT
fi
cd "$W"
if [ ! -f store.db ]; then
  echo "building the store ($N users per directory) in $W"
  "$GEN" . "$N" 10000
  "$MVSYNC" init --store store.db >/dev/null
  for s in "import ad --full" "import entra --full" "sync --full"; do
    # shellcheck disable=SC2086
    "$MVSYNC" $s --store store.db --rules rules.rules >/dev/null
  done
fi
export MVSYNC_STORE=$W/store.db
# The first open migrates a store of an older schema; not part of any figure.
"$MVSYNC" search mv --limit 1 >/dev/null
echo "mvsync search benchmark: $N users per directory, $(nproc) cores, store $(du -h store.db | cut -f1)"
printf '%-58s %8s %8s %8s\n' "search (whole process, median of 5)" "wall ms" "CPU ms" lines

# median5 CMD...: the medians of 5 runs: wall and CPU (user + system) milliseconds, as
# "WALL CPU" (the last run's output: out.txt).  CPU time shows the work itself when other
# processes share the cores.
median5() {
  for i in 1 2 3 4 5; do
    /usr/bin/time -f '%e %U %S' -o time.txt "$@" >out.txt 2>/dev/null || true
    awk '{ printf "%d %d\n", $1 * 1000 + 0.5, ($2 + $3) * 1000 + 0.5 }' time.txt
  done >runs.txt
  echo "$(cut -d' ' -f1 runs.txt | sort -n | sed -n 3p) $(cut -d' ' -f2 runs.txt | sort -n | sed -n 3p)"
}
row() {
  name=$1; shift
  t=$(median5 "$@")
  printf '%-58s %8s %8s %8s\n' "$name" "${t% *}" "${t#* }" "$(wc -l <out.txt)"
}
mid=$((N * 7 / 9))
anchor=$(printf '%08x-0000-4000-8000-%012d' "$mid" "$mid")
dn="CN=User $mid,OU=Users,DC=bench,DC=example"
row "anchor EQUAL" "$MVSYNC" search cs ad "anchor EQUAL \"$anchor\""
row "anchor EQUAL --json" "$MVSYNC" search cs ad "anchor EQUAL \"$anchor\"" --json
row "dn EQUAL (any case)" "$MVSYNC" search cs ad "dn EQUAL \"$(echo "$dn" | tr 'A-Z' 'a-z')\""
row "dn STARTSWITH \"CN=User $((mid / 10))\" (11 objects)" "$MVSYNC" search cs ad "dn STARTSWITH \"CN=User $((mid / 10))\""
row "employeeID EQUAL (join key)" "$MVSYNC" search cs ad "employeeID EQUAL \"e$mid\""
row "sAMAccountName STARTSWITH \"u$((mid / 10))\" (join key)" "$MVSYNC" search cs ad "sAMAccountName STARTSWITH \"u$((mid / 10))\""
row "object-type EQUAL \"group\" --limit 100" "$MVSYNC" search cs ad 'object-type EQUAL "group"' --limit 100
row "object-type EQUAL \"user\" and employeeID EQUAL" "$MVSYNC" search cs ad "object-type EQUAL \"user\" and employeeID EQUAL \"E$mid\""
row "joined --limit 100" "$MVSYNC" search cs ad joined --limit 100
row "disconnector" "$MVSYNC" search cs ad disconnector
row "pending-export --limit 100" "$MVSYNC" search cs ad pending-export --limit 100
row "pending-import" "$MVSYNC" search cs ad pending-import
row "error" "$MVSYNC" search cs ad error
row "mv employeeId EQUAL (join key)" "$MVSYNC" search mv "employeeId EQUAL \"E$mid\""
row "mv object-type EQUAL \"group\" --limit 100" "$MVSYNC" search mv 'object-type EQUAL "group"' --limit 100
row "no index: department EQUAL \"Dept 7\" --limit 100" "$MVSYNC" search cs ad 'department EQUAL "Dept 7"' --limit 100
printf '%-58s %8s %8s %8s\n' "the limit, same run" "wall ms" "CPU ms" lines
row "mvsync show cs ID (start, open, one object)" "$MVSYNC" show cs "$mid"
row "sqlite3 shell: open, anchor lookup" sqlite3 store.db "SELECT id FROM cs_object WHERE connector = 1 AND anchor = '$anchor'"
row "sqlite3 shell: open, employeeID key lookup" sqlite3 store.db "SELECT cs_id FROM cs_key WHERE connector = 1 AND attr = 'employeeID' AND norm = 'e$mid'"
row "no index, no match: every object of ad read" "$MVSYNC" search cs ad 'department EQUAL "no such value"' --limit 0
