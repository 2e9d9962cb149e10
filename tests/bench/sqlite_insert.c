/* sqlite_insert — the raw SQLite insert rate on this machine: N rows shaped like connector-space
 * objects (anchor, DN, type, ~200-byte attribute blob) through one prepared statement in one
 * transaction, WAL mode, SQLite configured as the store configures it (no memory statistics, a
 * connection without its own mutex); the ceiling any engine run on the same rows can reach.
 * Memory: one row buffer; the database file is the caller's (it is deleted first). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  char anchor[64], dn[128], blob[200];
  long n, i;
  double t0, t;

  if (argc != 3) {
    fprintf(stderr, "usage: sqlite_insert DB_FILE ROWS\n");
    return 2;
  }
  n = atol(argv[2]);
  remove(argv[1]);
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   "CREATE TABLE cs(id INTEGER PRIMARY KEY, connector INT, anchor TEXT, dn TEXT,"
                   " type TEXT, attrs BLOB, UNIQUE(connector, anchor));"
                   "CREATE INDEX cs_dn ON cs(connector, dn);", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO cs(connector, anchor, dn, type, attrs)"
                         " VALUES(1, ?, ?, 'user', ?)", -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    return 3;
  }
  memset(blob, 'x', sizeof blob);
  t0 = now();
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (i = 0; i < n; i++) {
    snprintf(anchor, sizeof anchor, "%08lx-0000-4000-8000-%012ld", i, i);
    snprintf(dn, sizeof dn, "CN=User %ld,OU=Users,DC=bench,DC=example", i);
    sqlite3_bind_text(st, 1, anchor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dn, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, blob, sizeof blob, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
      fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
      return 3;
    }
    sqlite3_reset(st);
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  t = now() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  printf("%-34s %9.2f s %12.0f rows/s\n", "raw SQLite insert (the limit)", t, (double)n / t);
  return 0;
}
