#!/bin/sh
# Benchmark (not a test): the floor a full sync's writes set, issue 17 item 1.  Builds bench_gen's
# directories, imports both fully and runs `mvsync sync --full` (timed).  Then, on copies of the
# store as the imports left it, the sqlite3 shell replays in one transaction exactly the rows
# that sync wrote, copied set-wise from the synced store in the engine's order (no rule
# evaluated, one statement per table): the links, the metaverse objects, the key rows of both
# sides, the references, the pending exports and their values, and the imports taken.  Twice:
# in this store's schema, and with the link in a table of its own (the data-model change
# docs/PERFORMANCE.md names).  Beside them, in the same run: the shell reading the same rows
# without writing them, and the raw SQLite insert of as many rows (the limit of item 1).  Each
# figure is the median of 3 runs; each replay is printed as the rate a full sync would reach
# if it did nothing but those writes, as a percentage of the raw insert rate.
# usage: tests/bench/write_floor.sh [10k|100k|1m] [BUILD_DIR]
set -eu
SIZE=${1:-100k}
B=${2:-$(dirname "$0")/../../build}
B=$(cd "$B" && pwd)
case $SIZE in 10k) N=10000 ;; 100k) N=100000 ;; 1m) N=1000000 ;;
  *) echo "usage: write_floor.sh [10k|100k|1m] [BUILD_DIR]" >&2; exit 2 ;; esac
MVSYNC=$B/mvsync GEN=$B/tests/bench_gen INS=$B/tests/sqlite_insert
for x in "$MVSYNC" "$GEN" "$INS"; do [ -x "$x" ] || { echo "build first: $x missing" >&2; exit 2; }; done
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-floor-XXXXXX")
trap 'rm -rf "$W"' EXIT
"$GEN" "$W" "$N" 10000
cd "$W"
"$MVSYNC" init --store imported.db >/dev/null
for s in "import ad --full" "import entra --full"; do
  # shellcheck disable=SC2086
  "$MVSYNC" $s --store imported.db --rules rules.rules >/dev/null
done
sqlite3 imported.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
CS=$(sqlite3 imported.db "SELECT count(*) FROM cs_object")

now() { date +%s.%N; }
# fresh: a copy of the imported store, its WAL folded in (as the sync found it).
fresh() { rm -f "$1" "$1-wal" "$1-shm"; cp imported.db "$1"; }
# median3 CMD...: run CMD three times on a fresh copy (target.db), print the median seconds;
# target.db stays as the last run left it.
median3() {
  : >times.txt
  for _ in 1 2 3; do
    fresh target.db
    t0=$(now)
    "$@" >/dev/null 2>err.txt || { echo "$* failed:" >&2; cat err.txt >&2; exit 1; }
    t1=$(now)
    echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }' >>times.txt
  done
  sort -n times.txt | sed -n 2p
}

# The full sync; the store its last run leaves is the source of every replay.
full_sync() { "$MVSYNC" sync --full --store target.db --rules rules.rules; }
median3 full_sync >sync_s.txt
sqlite3 target.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
rm -f target.db-wal target.db-shm
mv target.db synced.db

# The rows the sync wrote, in the engine's order (it evaluates objects in id order).
cat >rest.sql <<'EOF'
INSERT INTO mv_object(id, object_type, attrs) SELECT id, object_type, attrs FROM d.mv_object ORDER BY id;
INSERT INTO cs_key SELECT * FROM d.cs_key ORDER BY cs_id;
INSERT INTO mv_key SELECT * FROM d.mv_key ORDER BY mv_id;
INSERT INTO mv_ref SELECT * FROM d.mv_ref ORDER BY mv_id;
INSERT INTO pending_export SELECT * FROM d.pending_export ORDER BY cs_id;
INSERT INTO pending_export_value SELECT * FROM d.pending_export_value ORDER BY cs_id;
DELETE FROM cs_pending;
COMMIT;
EOF
{ echo "ATTACH 'synced.db' AS d; BEGIN;"
  echo "UPDATE cs_object SET (mv_id, link_rule, link_type, link_out, provisioned, linked_at, projected) ="
  echo "  (SELECT mv_id, link_rule, link_type, link_out, provisioned, linked_at, projected"
  echo "   FROM d.cs_object o WHERE o.id = cs_object.id);"
  cat rest.sql; } >this_schema.sql
# The link in a table of its own, appended in id order, with the two indexes the link has
# today (by metaverse object; by connector and metaverse object, for search).
{ echo "CREATE TABLE cs_link(cs_id INTEGER PRIMARY KEY, connector INTEGER NOT NULL,"
  echo "  mv_id INTEGER NOT NULL, link_rule TEXT, link_type INTEGER, link_out INTEGER,"
  echo "  provisioned INTEGER, linked_at TEXT, projected INTEGER);"
  echo "CREATE INDEX cs_link_mv ON cs_link(mv_id);"
  echo "CREATE INDEX cs_link_connector ON cs_link(connector, mv_id);"
  echo "ATTACH 'synced.db' AS d; BEGIN;"
  echo "INSERT INTO cs_link SELECT id, connector, mv_id, link_rule, link_type, link_out, provisioned,"
  echo "  linked_at, projected FROM d.cs_object WHERE mv_id IS NOT NULL ORDER BY id;"
  cat rest.sql; } >link_table.sql
# Reading the same rows, writing nothing: what the replays spend on their source.
cat >read_only.sql <<'EOF'
ATTACH 'synced.db' AS d;
SELECT sum(length(o.link_rule)) FROM d.cs_object o JOIN main.cs_object c ON c.id = o.id;
SELECT sum(length(attrs)) FROM (SELECT attrs FROM d.mv_object ORDER BY id);
SELECT count(*) FROM (SELECT * FROM d.cs_key ORDER BY cs_id);
SELECT count(*) FROM (SELECT * FROM d.mv_key ORDER BY mv_id);
SELECT count(*) FROM (SELECT * FROM d.mv_ref ORDER BY mv_id);
SELECT count(*) FROM (SELECT * FROM d.pending_export ORDER BY cs_id);
SELECT sum(length(value)) FROM (SELECT * FROM d.pending_export_value ORDER BY cs_id);
EOF
replay() { sqlite3 target.db <"$1"; }
median3 replay read_only.sql >read_s.txt
median3 replay this_schema.sql >this_s.txt
median3 replay link_table.sql >link_s.txt
raw_run() { "$INS" raw.db "$CS" | awk '{ print $(NF-3) }'; }
raw_s=$( (raw_run; raw_run; raw_run) | sort -n | sed -n 2p)
rows=$(sqlite3 synced.db "ATTACH 'imported.db' AS i; SELECT
  (SELECT count(*) FROM cs_object WHERE mv_id IS NOT NULL) || ' links, ' ||
  (SELECT count(*) FROM mv_object) || ' metaverse objects, ' ||
  ((SELECT count(*) FROM cs_key) + (SELECT count(*) FROM mv_key)) || ' key rows, ' ||
  (SELECT count(*) FROM mv_ref) || ' references, ' || (SELECT count(*) FROM pending_export) ||
  ' pending exports with ' || (SELECT count(*) FROM pending_export_value) || ' values, ' ||
  (SELECT count(*) FROM i.cs_pending) || ' imports taken'")
echo "mvsync write floor: $N users per directory, $CS connector-space objects, $(nproc) cores"
echo "the full sync wrote: $rows"
printf '%-62s %8s %10s\n' "step (median of 3)" seconds "% of raw"
awk -v cs="$CS" -v raw="$raw_s" -v s="$(cat sync_s.txt)" -v r="$(cat read_s.txt)" -v t="$(cat this_s.txt)" -v l="$(cat link_s.txt)" 'BEGIN {
  row("mvsync sync --full (rules evaluated, every read and write)", s)
  row("its writes replayed set-wise, this schema", t)
  row("its writes replayed set-wise, the link in its own table", l)
  row("reading the replayed rows only (the replays include it)", r)
  printf "%-62s %8.2f %10s   (%.0f rows/s)\n", "raw SQLite insert of as many rows (the limit)", raw, "100.0", cs / raw
}
function row(name, sec) { printf "%-62s %8.2f %10.1f\n", name, sec, raw / sec * 100 }'
