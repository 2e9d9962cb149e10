/* store — all SQL of mvsync.  Statements are prepared on first use and kept for the life of
 * the handle; every value is bound, never formatted into SQL text.
 * Memory: rows are copied into the caller's arena before the statement is reset. */
#include "engine/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char mvs_store_sql[];

enum stmt_id {
  Q_META_GET, Q_META_SET,
  Q_CONN_FIND, Q_CONN_INSERT, Q_CONN_NAME, Q_WM_GET, Q_WM_SET, Q_CONN_LIST,
  Q_CS_GET, Q_CS_BY_ANCHOR, Q_CS_BY_DN, Q_CS_INSERT, Q_CS_UPDATE_IMPORT, Q_CS_SET_STATE,
  Q_CS_SET_LINK, Q_CS_SET_ERROR, Q_CS_SET_DN, Q_CS_SET_ANCHOR, Q_CS_DELETE, Q_CS_PENDING,
  Q_CS_PAGE, Q_CS_JOINED, Q_CS_COUNT, Q_CS_BY_ANCHOR_ORDER,
  Q_SEEN_RESET, Q_SEEN_ADD, Q_CS_MARK_UNSEEN, Q_CS_UNSEEN,
  Q_REF_LIST, Q_REF_LIST_ATTR, Q_REF_INSERT, Q_REF_DELETE,
  Q_REF_DELETE_OBJ, Q_REF_UNRESOLVE, Q_REF_RESOLVE, Q_REF_LOOKUP_ANCHOR, Q_REF_LOOKUP_DN,
  Q_REF_REFERRER_MVS, Q_REF_IS_MEMBER, Q_REF_GET, Q_REF_JOINED_COUNT, Q_REF_NAMES,
  Q_REF_DELTA_CANCEL, Q_REF_DELTA_INSERT, Q_REF_DELTA_TOUCH, Q_REF_DELTA_LIST,
  Q_REF_DELTA_LIST_ATTR, Q_REF_DELTA_CLEAR,
  Q_CS_KEY_DELETE, Q_CS_KEY_INSERT, Q_CS_KEY_FIND, Q_CS_KEY_CLEAR,
  Q_MV_KEY_DELETE, Q_MV_KEY_INSERT, Q_MV_KEY_FIND, Q_MV_KEY_CLEAR, Q_MV_KEY_LIST,
  Q_MV_GET, Q_MV_INSERT, Q_MV_UPDATE, Q_MV_DELETE, Q_MV_REF_DELETE_OBJ, Q_MV_REF_DELETE_TARGET,
  Q_MV_PAGE, Q_MV_REF_LIST, Q_MV_REF_ALL, Q_MV_REF_INSERT, Q_MV_REF_DELETE,
  Q_MV_REF_REFERRERS, Q_MV_CS_IN,
  Q_PE_GET, Q_PE_VALUES, Q_PE_PUT, Q_PE_VALUES_DELETE, Q_PE_VALUE_INSERT, Q_PE_DELETE,
  Q_PE_SET_STATUS, Q_PE_UNSEND, Q_PE_LIST, Q_PE_LIST_ALL, Q_PE_VALUE_FIND, Q_PE_VALUE_ADD,
  Q_PE_VALUE_REMOVE, Q_PE_VALUE_ANY, Q_PE_RESTAGE,
  Q_RUN_INSERT, Q_RUN_LIST,
  Q_COUNT
};

static const char *const stmt_sql[Q_COUNT] = {
  [Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
  [Q_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  [Q_CONN_FIND] = "SELECT id FROM connector WHERE name = ?1",
  [Q_CONN_INSERT] = "INSERT INTO connector(name, type) VALUES (?1, ?2)",
  [Q_CONN_NAME] = "SELECT name FROM connector WHERE id = ?1",
  [Q_WM_GET] = "SELECT watermark FROM connector WHERE id = ?1",
  [Q_WM_SET] = "UPDATE connector SET watermark = ?2 WHERE id = ?1",
  [Q_CONN_LIST] = "SELECT id FROM connector ORDER BY name",
#define CS_COLS "id, connector, mv_id, anchor, dn, object_type, link_rule, error, attrs, " \
                "import_state, present, link_type, link_out, provisioned, renamed"
  [Q_CS_GET] = "SELECT " CS_COLS " FROM cs_object WHERE id = ?1",
  [Q_CS_BY_ANCHOR] = "SELECT " CS_COLS " FROM cs_object WHERE connector = ?1 AND anchor = ?2",
  [Q_CS_BY_DN] = "SELECT " CS_COLS " FROM cs_object WHERE connector = ?1 AND dn_key = ?2 "
                 "ORDER BY id LIMIT 1",
  [Q_CS_INSERT] = "INSERT INTO cs_object(connector, mv_id, anchor, dn, object_type, link_rule, "
                  "error, attrs, import_state, present, link_type, link_out, provisioned, dn_key) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
  [Q_CS_UPDATE_IMPORT] = "UPDATE cs_object SET anchor = ?2, dn = ?3, dn_key = ?4, "
                         "object_type = ?5, attrs = ?6, import_state = ?7, present = ?8, "
                         "renamed = ?9 WHERE id = ?1",
  /* A synced object (state 0) is no longer "renamed since the last sync". */
  [Q_CS_SET_STATE] = "UPDATE cs_object SET import_state = ?2, renamed = renamed AND ?2 <> 0 "
                     "WHERE id = ?1",
  [Q_CS_SET_LINK] = "UPDATE cs_object SET mv_id = ?2, link_rule = ?3, link_type = ?4, "
                    "link_out = ?5, provisioned = ?6 WHERE id = ?1",
  [Q_CS_SET_ERROR] = "UPDATE cs_object SET error = ?2 WHERE id = ?1 AND error IS NOT ?2",
  [Q_CS_SET_DN] = "UPDATE cs_object SET dn = ?2, dn_key = ?3 WHERE id = ?1",
  [Q_CS_SET_ANCHOR] = "UPDATE cs_object SET anchor = ?2 WHERE id = ?1",
  [Q_CS_DELETE] = "DELETE FROM cs_object WHERE id = ?1",
  /* Without INDEXED BY the planner prefers a scan in id order to a sort: a delta sync of
   * nothing would read every object. */
  [Q_CS_PENDING] = "SELECT id FROM cs_object INDEXED BY cs_object_pending "
                   "WHERE import_state <> 0 ORDER BY id",
  [Q_CS_PAGE] = "SELECT id FROM cs_object WHERE id > ?1 ORDER BY id LIMIT ?2",
  [Q_CS_JOINED] = "SELECT id FROM cs_object WHERE mv_id = ?1 ORDER BY id",
  [Q_CS_COUNT] = "SELECT count(*) FROM cs_object WHERE connector = ?1",
  [Q_CS_BY_ANCHOR_ORDER] = "SELECT id FROM cs_object WHERE connector = ?1 "
                           "ORDER BY anchor IS NULL, anchor, dn_key, id",
  [Q_SEEN_RESET] = "DELETE FROM temp.import_seen",
  [Q_SEEN_ADD] = "INSERT OR IGNORE INTO temp.import_seen(id) VALUES (?1)",
#define UNSEEN "connector = ?1 AND present = 1 AND import_state <> 3 " \
               "AND id NOT IN (SELECT id FROM temp.import_seen)"
  [Q_CS_MARK_UNSEEN] = "UPDATE cs_object SET import_state = 3 WHERE " UNSEEN,
  [Q_CS_UNSEEN] = "SELECT id FROM cs_object WHERE " UNSEEN " ORDER BY id",
#define REF_COLS "r.attr, r.target_norm, r.target_key, r.target_id, t.mv_id"
  [Q_REF_LIST] = "SELECT " REF_COLS " FROM cs_ref r LEFT JOIN cs_object t ON t.id = r.target_id "
                 "WHERE r.cs_id = ?1 ORDER BY r.attr, r.target_norm",
  [Q_REF_LIST_ATTR] = "SELECT " REF_COLS " FROM cs_ref r LEFT JOIN cs_object t ON t.id = r.target_id "
                      "WHERE r.cs_id = ?1 AND r.attr = ?2 ORDER BY r.target_norm",
  [Q_REF_INSERT] = "INSERT OR REPLACE INTO cs_ref(cs_id, attr, target_norm, target_key, target_id) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)",
  [Q_REF_DELETE] = "DELETE FROM cs_ref WHERE cs_id = ?1 AND attr = ?2 AND target_norm = ?3",
  [Q_REF_DELETE_OBJ] = "DELETE FROM cs_ref WHERE cs_id = ?1",
  [Q_REF_UNRESOLVE] = "UPDATE cs_ref SET target_id = NULL WHERE target_id = ?1",
  /* Correlated on purpose: an IN (SELECT ...) over the connector would be materialized on
   * every call, making an import quadratic. */
  [Q_REF_RESOLVE] = "UPDATE cs_ref SET target_id = ?3 WHERE target_id IS NULL AND target_norm = ?2 "
                    "AND (SELECT connector FROM cs_object c WHERE c.id = cs_ref.cs_id) = ?1",
  [Q_REF_LOOKUP_ANCHOR] = "SELECT id FROM cs_object WHERE connector = ?1 AND anchor = ?2",
  [Q_REF_LOOKUP_DN] = "SELECT id FROM cs_object WHERE connector = ?1 AND dn_key = ?2 "
                      "ORDER BY id LIMIT 1",
  [Q_REF_REFERRER_MVS] = "SELECT DISTINCT c.mv_id FROM cs_ref r JOIN cs_object c ON c.id = r.cs_id "
                         "WHERE r.target_id = ?1 AND c.mv_id IS NOT NULL",
  [Q_REF_IS_MEMBER] = "SELECT 1 FROM cs_object g JOIN cs_ref r ON r.cs_id = g.id "
                      "WHERE g.connector = ?1 AND g.dn_key = ?2 AND r.target_id = ?3 LIMIT 1",
  [Q_REF_GET] = "SELECT target_id FROM cs_ref WHERE cs_id = ?1 AND attr = ?2 AND target_norm = ?3",
  [Q_REF_JOINED_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM cs_ref r JOIN cs_object t "
                         "ON t.id = r.target_id WHERE r.cs_id = ?1 AND r.attr = ?2 "
                         "AND t.mv_id IS NOT NULL LIMIT 2)",
  [Q_REF_NAMES] = "SELECT 1 FROM cs_ref WHERE target_id = ?3 AND cs_id = ?1 "
                  "AND attr = ?2 COLLATE NOCASE LIMIT 1",
  [Q_REF_DELTA_CANCEL] = "DELETE FROM cs_ref_delta WHERE cs_id = ?1 AND attr = ?2 "
                         "AND target_norm = ?3 AND op <> ?4",
  [Q_REF_DELTA_INSERT] = "INSERT OR IGNORE INTO cs_ref_delta(cs_id, attr, target_norm, op, "
                         "target_id) VALUES (?1, ?2, ?3, ?4, ?5)",
  [Q_REF_DELTA_TOUCH] = "INSERT OR IGNORE INTO cs_ref_delta(cs_id, attr, target_norm, op, "
                        "target_id) SELECT cs_id, attr, target_norm, 1, target_id FROM cs_ref "
                        "WHERE cs_id = ?1",
#define REF_DELTA_COLS "r.attr, r.target_norm, r.target_norm, r.target_id, t.mv_id, r.op"
  [Q_REF_DELTA_LIST] = "SELECT " REF_DELTA_COLS " FROM cs_ref_delta r LEFT JOIN cs_object t "
                       "ON t.id = r.target_id WHERE r.cs_id = ?1 ORDER BY r.attr, r.target_norm",
  [Q_REF_DELTA_LIST_ATTR] = "SELECT " REF_DELTA_COLS " FROM cs_ref_delta r LEFT JOIN cs_object t "
                            "ON t.id = r.target_id WHERE r.cs_id = ?1 AND r.attr = ?2 "
                            "ORDER BY r.target_norm",
  [Q_REF_DELTA_CLEAR] = "DELETE FROM cs_ref_delta WHERE cs_id = ?1",
  [Q_CS_KEY_DELETE] = "DELETE FROM cs_key WHERE cs_id = ?1",
  [Q_CS_KEY_INSERT] = "INSERT OR IGNORE INTO cs_key(connector, attr, norm, cs_id) VALUES (?1, ?2, ?3, ?4)",
  [Q_CS_KEY_FIND] = "SELECT k.cs_id FROM cs_key k JOIN cs_object c ON c.id = k.cs_id "
                    "WHERE k.connector = ?1 AND k.attr = ?2 AND k.norm = ?3 AND c.mv_id IS NULL "
                    "ORDER BY k.cs_id",
  [Q_CS_KEY_CLEAR] = "DELETE FROM cs_key",
  [Q_MV_KEY_DELETE] = "DELETE FROM mv_key WHERE mv_id = ?1",
  [Q_MV_KEY_INSERT] = "INSERT OR IGNORE INTO mv_key(attr, norm, mv_id) VALUES (?1, ?2, ?3)",
  [Q_MV_KEY_FIND] = "SELECT mv_id FROM mv_key WHERE attr = ?1 AND norm = ?2 ORDER BY mv_id",
  [Q_MV_KEY_CLEAR] = "DELETE FROM mv_key",
  [Q_MV_KEY_LIST] = "SELECT attr, norm FROM mv_key WHERE mv_id = ?1 ORDER BY attr, norm",
  [Q_MV_GET] = "SELECT id, object_type, attrs FROM mv_object WHERE id = ?1",
  [Q_MV_INSERT] = "INSERT INTO mv_object(object_type, attrs) VALUES (?1, ?2)",
  [Q_MV_UPDATE] = "UPDATE mv_object SET attrs = ?2 WHERE id = ?1",
  [Q_MV_DELETE] = "DELETE FROM mv_object WHERE id = ?1",
  [Q_MV_REF_DELETE_OBJ] = "DELETE FROM mv_ref WHERE mv_id = ?1",
  [Q_MV_REF_DELETE_TARGET] = "DELETE FROM mv_ref WHERE target_mv = ?1",
  [Q_MV_PAGE] = "SELECT id FROM mv_object WHERE id > ?1 ORDER BY id LIMIT ?2",
  [Q_MV_REF_LIST] = "SELECT target_mv FROM mv_ref WHERE mv_id = ?1 AND attr = ?2 ORDER BY target_mv",
  [Q_MV_REF_ALL] = "SELECT attr, target_mv FROM mv_ref WHERE mv_id = ?1 ORDER BY attr, target_mv",
  [Q_MV_REF_INSERT] = "INSERT OR IGNORE INTO mv_ref(mv_id, attr, target_mv) VALUES (?1, ?2, ?3)",
  [Q_MV_REF_DELETE] = "DELETE FROM mv_ref WHERE mv_id = ?1 AND attr = ?2 AND target_mv = ?3",
  [Q_MV_REF_REFERRERS] = "SELECT DISTINCT mv_id FROM mv_ref WHERE target_mv = ?1",
  [Q_MV_CS_IN] = "SELECT id FROM cs_object WHERE mv_id = ?1 AND connector = ?2 ORDER BY id LIMIT 1",
  [Q_PE_GET] = "SELECT cs_id, op, status, error_code, attempts, new_dn, error "
               "FROM pending_export WHERE cs_id = ?1",
  [Q_PE_VALUES] = "SELECT attr, mode, value FROM pending_export_value WHERE cs_id = ?1 "
                  "ORDER BY attr, mode, seq",
  [Q_PE_PUT] = "INSERT OR REPLACE INTO pending_export(cs_id, op, new_dn, status, error_code, "
               "error, attempts, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  [Q_PE_VALUES_DELETE] = "DELETE FROM pending_export_value WHERE cs_id = ?1",
  [Q_PE_VALUE_INSERT] = "INSERT INTO pending_export_value(cs_id, attr, mode, seq, value) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
  [Q_PE_DELETE] = "DELETE FROM pending_export WHERE cs_id = ?1",
  [Q_PE_SET_STATUS] = "UPDATE pending_export SET status = ?2, error_code = ?3, error = ?4, "
                      "attempts = attempts + 1 WHERE cs_id = ?1",
  [Q_PE_UNSEND] = "UPDATE pending_export SET status = 0 WHERE cs_id = ?1 AND status = 1",
  [Q_PE_VALUE_FIND] = "SELECT 1 FROM pending_export_value WHERE cs_id = ?1 AND attr = ?2 "
                      "AND mode = ?3 AND value = ?4",
  [Q_PE_VALUE_ADD] = "INSERT INTO pending_export_value(cs_id, attr, mode, seq, value) "
                     "SELECT ?1, ?2, ?3, coalesce(max(seq) + 1, 0), ?4 "
                     "FROM pending_export_value WHERE cs_id = ?1",
  [Q_PE_VALUE_REMOVE] = "DELETE FROM pending_export_value WHERE cs_id = ?1 AND attr = ?2 "
                        "AND mode = ?3 AND value = ?4",
  [Q_PE_VALUE_ANY] = "SELECT 1 FROM pending_export_value WHERE cs_id = ?1 LIMIT 1",
  [Q_PE_RESTAGE] = "UPDATE pending_export SET status = 0, error_code = NULL, error = NULL, "
                   "attempts = 0, run_id = NULL WHERE cs_id = ?1",

  [Q_PE_LIST] = "SELECT p.cs_id FROM pending_export p JOIN cs_object c ON c.id = p.cs_id "
                "WHERE c.connector = ?1 AND (?2 = 0 OR p.status = 0) "
                "ORDER BY CASE p.op WHEN 0 THEN 0 WHEN 2 THEN 2 ELSE 1 END, c.dn_key, p.cs_id",
  [Q_PE_LIST_ALL] = "SELECT p.cs_id FROM pending_export p JOIN cs_object c ON c.id = p.cs_id "
                    "WHERE (?2 = 0 OR p.status = 0) "
                    "ORDER BY c.connector, CASE p.op WHEN 0 THEN 0 WHEN 2 THEN 2 ELSE 1 END, "
                    "c.dn_key, p.cs_id",
  [Q_RUN_INSERT] = "INSERT INTO run(profile, connector, started, duration_ms, adds, updates, "
                   "deletes, errors, skipped_refs, ruleset_hash, status, log) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
  [Q_RUN_LIST] = "SELECT id, profile, connector, started, duration_ms, adds, updates, deletes, "
                 "errors, skipped_refs, ruleset_hash, status, log FROM run ORDER BY id",
};

struct store {
  sqlite3 *db;
  sqlite3_stmt *stmt[Q_COUNT];
};

/* ---- helpers ---- */

static sqlite3_stmt *S(store *st, enum stmt_id id)
{
  sqlite3_stmt *s = st->stmt[id];
  if (!s) {
    if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
        SQLITE_OK)
      return NULL;
    st->stmt[id] = s;
  }
  return s;
}

static void done(sqlite3_stmt *s)
{
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
  return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static int bind_id(sqlite3_stmt *s, int i, int64_t v)
{
  return v ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i);
}

static int bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
  return p ? sqlite3_bind_blob64(s, i, p, n, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Copy a text column into the arena; NULL stays NULL. */
static const char *col_text(sqlite3_stmt *s, int i, mvs_arena *a)
{
  const unsigned char *t = sqlite3_column_text(s, i);
  if (!t)
    return NULL;
  return mvs_arena_memdup(a, t, (size_t)sqlite3_column_bytes(s, i));
}

static const void *col_blob(sqlite3_stmt *s, int i, mvs_arena *a, size_t *n)
{
  const void *b = sqlite3_column_blob(s, i);
  *n = (size_t)sqlite3_column_bytes(s, i);
  if (!b)
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : "";
  return mvs_arena_memdup(a, b, *n);
}

/* Run a statement that returns no rows. */
static int exec_stmt(sqlite3_stmt *s)
{
  int rc = sqlite3_step(s);
  done(s);
  return rc == SQLITE_DONE ? STORE_OK : rc == SQLITE_BUSY ? STORE_BUSY : STORE_ERR;
}

/* Collect the first column of every row as ids. */
static int exec_ids(sqlite3_stmt *s, id_list *out)
{
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if (id_list_add(out, sqlite3_column_int64(s, 0)) != 0) {
      done(s);
      return STORE_ERR;
    }
  done(s);
  return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* One row, one integer column: STORE_NOTFOUND when there is no row. */
static int exec_id(sqlite3_stmt *s, int64_t *out)
{
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64(s, 0);
  done(s);
  return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int id_list_add(id_list *l, int64_t id)
{
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 64;
    int64_t *np = realloc(l->ids, ncap * sizeof *np);
    if (!np)
      return -1;
    l->ids = np;
    l->cap = ncap;
  }
  l->ids[l->n++] = id;
  return 0;
}

static int cmp_id(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

void id_list_sort_unique(id_list *l)
{
  size_t i, k = 0;
  if (l->n < 2)
    return;
  qsort(l->ids, l->n, sizeof *l->ids, cmp_id);
  for (i = 0; i < l->n; i++)
    if (k == 0 || l->ids[k - 1] != l->ids[i])
      l->ids[k++] = l->ids[i];
  l->n = k;
}

void id_list_free(id_list *l)
{
  free(l->ids);
  memset(l, 0, sizeof *l);
}

/* ---- open and migrate ---- */

int store_schema_version(void)
{
  const char *p = mvs_store_sql;
  int v = 0;
  while ((p = strstr(p, "\n-- migration ")) != NULL) {
    p += 14;
    v = atoi(p);
  }
  return v;
}

/* Apply every "-- migration N" section with N > from, in one transaction. */
static int migrate(sqlite3 *db, int from, char **err)
{
  const char *p = strstr(mvs_store_sql, "\n-- migration ");
  char *zerr = NULL, *section = NULL, pragma[64];
  int to = from, rc = -1;

  if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &zerr) != SQLITE_OK)
    goto out;
  while (p) {
    const char *next = strstr(p + 1, "\n-- migration ");
    int n = atoi(p + 14);
    size_t len = next ? (size_t)(next - p) : strlen(p);
    if (n > from) {
      if (!(section = strndup(p, len)) ||
          sqlite3_exec(db, section, NULL, NULL, &zerr) != SQLITE_OK)
        goto out;
      free(section);
      section = NULL;
      to = n;
    }
    p = next;
  }
  snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", to);
  if (sqlite3_exec(db, pragma, NULL, NULL, &zerr) != SQLITE_OK ||
      sqlite3_exec(db, "COMMIT", NULL, NULL, &zerr) != SQLITE_OK)
    goto out;
  rc = 0;
out:
  if (rc != 0) {
    if (asprintf(err, "cannot migrate the store from schema %d: %s", from,
                 zerr ? zerr : sqlite3_errmsg(db)) < 0)
      *err = NULL;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  }
  free(section);
  sqlite3_free(zerr);
  return rc;
}

int store_open(const char *path, store **out, char **err)
{
  store *st = calloc(1, sizeof *st);
  sqlite3_stmt *s = NULL;
  int version = 0;
  char *zerr = NULL;

  *err = NULL;
  if (!st)
    return STORE_ERR;
  if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
      SQLITE_OK)
    goto fail;
  sqlite3_busy_timeout(st->db, 5000);
  /* WAL: readers never block the writer; synchronous=NORMAL is durable per transaction in
   * WAL mode up to the last checkpoint, and a crash never corrupts the file. */
  if (sqlite3_exec(st->db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                   "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; "
                   "PRAGMA foreign_keys=OFF;",
                   NULL, NULL, &zerr) != SQLITE_OK)
    goto fail;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
    goto fail;
  if (sqlite3_step(s) == SQLITE_ROW)
    version = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  if (version > store_schema_version()) {
    if (asprintf(err, "%s: store schema %d is newer than this mvsync (%d)", path, version,
                 store_schema_version()) < 0)
      *err = NULL;
    goto fail_quiet;
  }
  if (version < store_schema_version() && migrate(st->db, version, err) != 0)
    goto fail_quiet;
  if (sqlite3_exec(st->db, "CREATE TEMP TABLE import_seen(id INTEGER PRIMARY KEY)", NULL,
                   NULL, &zerr) != SQLITE_OK)
    goto fail;
  *out = st;
  return STORE_OK;
fail:
  if (asprintf(err, "%s: %s", path, zerr ? zerr : sqlite3_errmsg(st->db)) < 0)
    *err = NULL;
fail_quiet:
  sqlite3_free(zerr);
  sqlite3_close(st->db);
  free(st);
  return STORE_ERR;
}

void store_close(store *st)
{
  size_t i;
  if (!st)
    return;
  for (i = 0; i < Q_COUNT; i++)
    sqlite3_finalize(st->stmt[i]);
  sqlite3_close(st->db);
  free(st);
}

const char *store_errmsg(store *st) { return sqlite3_errmsg(st->db); }

static int exec_sql(store *st, const char *sql)
{
  return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? STORE_OK : STORE_ERR;
}

int store_changes(store *st)
{
  return sqlite3_changes(st->db);
}

int store_begin(store *st) { return exec_sql(st, "BEGIN IMMEDIATE"); }
int store_commit(store *st) { return exec_sql(st, "COMMIT"); }
int store_rollback(store *st)
{
  return sqlite3_get_autocommit(st->db) ? STORE_OK : exec_sql(st, "ROLLBACK");
}

/* ---- meta ---- */

int store_meta_get(store *st, const char *key, char **value)
{
  sqlite3_stmt *s = S(st, Q_META_GET);
  int rc;
  *value = NULL;
  if (!s)
    return STORE_ERR;
  bind_text(s, 1, key);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && !(*value = strdup((const char *)sqlite3_column_text(s, 0))))
    rc = SQLITE_NOMEM;
  done(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_meta_set(store *st, const char *key, const char *value)
{
  sqlite3_stmt *s = S(st, Q_META_SET);
  if (!s)
    return STORE_ERR;
  bind_text(s, 1, key);
  bind_text(s, 2, value);
  return exec_stmt(s);
}

/* ---- connectors ---- */

int store_connector_find(store *st, const char *name, int64_t *id)
{
  sqlite3_stmt *s = S(st, Q_CONN_FIND);
  if (!s)
    return STORE_ERR;
  bind_text(s, 1, name);
  return exec_id(s, id);
}

int store_connector_ensure(store *st, const char *name, const char *type, int64_t *id)
{
  sqlite3_stmt *s;
  int rc = store_connector_find(st, name, id);
  if (rc != STORE_NOTFOUND)
    return rc;
  if (!(s = S(st, Q_CONN_INSERT)))
    return STORE_ERR;
  bind_text(s, 1, name);
  bind_text(s, 2, type);
  if ((rc = exec_stmt(s)) == STORE_OK)
    *id = sqlite3_last_insert_rowid(st->db);
  return rc;
}

int store_connector_name(store *st, int64_t id, mvs_arena *a, const char **name)
{
  sqlite3_stmt *s = S(st, Q_CONN_NAME);
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && !(*name = col_text(s, 0, a)))
    rc = SQLITE_NOMEM;
  done(s);
  return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int store_watermark_get(store *st, int64_t connector, char **wm)
{
  sqlite3_stmt *s = S(st, Q_WM_GET);
  int rc;
  *wm = NULL;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) &&
      !(*wm = strdup((const char *)sqlite3_column_text(s, 0))))
    rc = SQLITE_NOMEM;
  done(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_watermark_set(store *st, int64_t connector, const char *wm)
{
  sqlite3_stmt *s = S(st, Q_WM_SET);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, wm);
  return exec_stmt(s);
}

int store_connector_list(store *st, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_CONN_LIST);
  return s ? exec_ids(s, out) : STORE_ERR;
}

/* ---- connector-space objects ---- */

static int read_cs(sqlite3_stmt *s, mvs_arena *a, cs_row *r)
{
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    r->connector = sqlite3_column_int64(s, 1);
    r->mv_id = sqlite3_column_int64(s, 2);
    r->anchor = col_text(s, 3, a);
    r->dn = col_text(s, 4, a);
    r->object_type = col_text(s, 5, a);
    r->link_rule = col_text(s, 6, a);
    r->error = col_text(s, 7, a);
    r->attrs = col_blob(s, 8, a, &r->attrs_len);
    r->import_state = sqlite3_column_int(s, 9);
    r->present = sqlite3_column_int(s, 10);
    r->link_type = sqlite3_column_int(s, 11);
    r->link_out = sqlite3_column_int(s, 12);
    r->provisioned = sqlite3_column_int(s, 13);
    r->renamed = sqlite3_column_int(s, 14);
    if (!r->object_type)
      rc = SQLITE_NOMEM;
  }
  done(s);
  return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int store_cs_get(store *st, int64_t id, mvs_arena *a, cs_row *row)
{
  sqlite3_stmt *s = S(st, Q_CS_GET);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  return read_cs(s, a, row);
}

int store_cs_by_anchor(store *st, int64_t connector, const char *anchor, mvs_arena *a, cs_row *row)
{
  sqlite3_stmt *s = S(st, Q_CS_BY_ANCHOR);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, anchor);
  return read_cs(s, a, row);
}

int store_cs_by_dn(store *st, int64_t connector, const char *dn_key, mvs_arena *a, cs_row *row)
{
  sqlite3_stmt *s = S(st, Q_CS_BY_DN);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, dn_key);
  return read_cs(s, a, row);
}

int store_cs_insert(store *st, cs_row *r, const char *dn_key)
{
  sqlite3_stmt *s = S(st, Q_CS_INSERT);
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, r->connector);
  bind_id(s, 2, r->mv_id);
  bind_text(s, 3, r->anchor);
  bind_text(s, 4, r->dn);
  bind_text(s, 5, r->object_type);
  bind_text(s, 6, r->link_rule);
  bind_text(s, 7, r->error);
  bind_blob(s, 8, r->attrs ? r->attrs : "", r->attrs_len);
  sqlite3_bind_int(s, 9, r->import_state);
  sqlite3_bind_int(s, 10, r->present);
  sqlite3_bind_int(s, 11, r->link_type);
  sqlite3_bind_int(s, 12, r->link_out);
  sqlite3_bind_int(s, 13, r->provisioned);
  bind_text(s, 14, dn_key);
  if ((rc = exec_stmt(s)) == STORE_OK)
    r->id = sqlite3_last_insert_rowid(st->db);
  return rc;
}

int store_cs_update_import(store *st, const cs_row *r, const char *dn_key)
{
  sqlite3_stmt *s = S(st, Q_CS_UPDATE_IMPORT);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, r->id);
  bind_text(s, 2, r->anchor);
  bind_text(s, 3, r->dn);
  bind_text(s, 4, dn_key);
  bind_text(s, 5, r->object_type);
  bind_blob(s, 6, r->attrs ? r->attrs : "", r->attrs_len);
  sqlite3_bind_int(s, 7, r->import_state);
  sqlite3_bind_int(s, 8, r->present);
  sqlite3_bind_int(s, 9, r->renamed);
  return exec_stmt(s);
}

int store_cs_set_state(store *st, int64_t id, int import_state)
{
  sqlite3_stmt *s = S(st, Q_CS_SET_STATE);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int(s, 2, import_state);
  return exec_stmt(s);
}

int store_cs_set_link(store *st, int64_t id, int64_t mv_id, const char *link_rule, int link_type,
                      int link_out, int provisioned)
{
  sqlite3_stmt *s = S(st, Q_CS_SET_LINK);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  bind_id(s, 2, mv_id);
  bind_text(s, 3, mv_id ? link_rule : NULL);
  sqlite3_bind_int(s, 4, mv_id ? link_type : 0);
  sqlite3_bind_int(s, 5, mv_id ? link_out : 0);
  sqlite3_bind_int(s, 6, provisioned);
  return exec_stmt(s);
}

int store_cs_set_error(store *st, int64_t id, const char *error)
{
  sqlite3_stmt *s = S(st, Q_CS_SET_ERROR);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  bind_text(s, 2, error);
  return exec_stmt(s);
}

int store_cs_set_dn(store *st, int64_t id, const char *dn, const char *dn_key)
{
  sqlite3_stmt *s = S(st, Q_CS_SET_DN);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  bind_text(s, 2, dn);
  bind_text(s, 3, dn_key);
  return exec_stmt(s);
}

int store_cs_set_anchor(store *st, int64_t id, const char *anchor)
{
  sqlite3_stmt *s = S(st, Q_CS_SET_ANCHOR);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  bind_text(s, 2, anchor);
  return exec_stmt(s);
}

static int exec_on_id(store *st, enum stmt_id q, int64_t id)
{
  sqlite3_stmt *s = S(st, q);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  return exec_stmt(s);
}

int store_cs_delete(store *st, int64_t id)
{
  static const enum stmt_id steps[] = {Q_REF_DELETE_OBJ, Q_REF_DELTA_CLEAR, Q_REF_UNRESOLVE,
                                       Q_CS_KEY_DELETE, Q_PE_VALUES_DELETE, Q_PE_DELETE,
                                       Q_CS_DELETE};
  size_t i;
  for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
    if (exec_on_id(st, steps[i], id) != STORE_OK)
      return STORE_ERR;
  return STORE_OK;
}

int store_cs_pending(store *st, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_CS_PENDING);
  return s ? exec_ids(s, out) : STORE_ERR;
}

int store_cs_page(store *st, int64_t after, size_t limit, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_CS_PAGE);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, after);
  sqlite3_bind_int64(s, 2, (int64_t)limit);
  return exec_ids(s, out);
}

int store_cs_joined(store *st, int64_t mv_id, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_CS_JOINED);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, mv_id);
  return exec_ids(s, out);
}

int store_cs_sorted(store *st, int64_t connector, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_CS_BY_ANCHOR_ORDER);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  return exec_ids(s, out);
}

int store_cs_count(store *st, int64_t connector, int64_t *n)
{
  sqlite3_stmt *s = S(st, Q_CS_COUNT);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  return exec_id(s, n);
}

int store_seen_reset(store *st)
{
  sqlite3_stmt *s = S(st, Q_SEEN_RESET);
  return s ? exec_stmt(s) : STORE_ERR;
}

int store_seen_add(store *st, int64_t cs_id) { return exec_on_id(st, Q_SEEN_ADD, cs_id); }

int store_cs_unseen(store *st, int64_t connector, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_CS_UNSEEN);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  return exec_ids(s, out);
}

int store_cs_mark_unseen(store *st, int64_t connector, int64_t *marked)
{
  int rc = exec_on_id(st, Q_CS_MARK_UNSEEN, connector);
  *marked = rc == STORE_OK ? sqlite3_changes64(st->db) : 0;
  return rc;
}

/* ---- references ---- */

void ref_rows_free(ref_rows *r)
{
  free(r->items);
  memset(r, 0, sizeof *r);
}

static int ref_rows_add(ref_rows *r, ref_row *row)
{
  if (r->n == r->cap) {
    size_t ncap = r->cap ? r->cap * 2 : 32;
    ref_row *np = realloc(r->items, ncap * sizeof *np);
    if (!np)
      return -1;
    r->items = np;
    r->cap = ncap;
  }
  r->items[r->n++] = *row;
  return 0;
}

/* Rows of REF_COLS / REF_DELTA_COLS into out. */
static int read_refs(sqlite3_stmt *s, bool with_op, mvs_arena *a, ref_rows *out)
{
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ref_row r;
    r.attr = col_text(s, 0, a);
    r.target_norm = col_text(s, 1, a);
    r.target_key = col_text(s, 2, a);
    r.target_id = sqlite3_column_int64(s, 3);
    r.target_mv = sqlite3_column_int64(s, 4);
    r.op = with_op ? sqlite3_column_int(s, 5) : 0;
    if (!r.attr || !r.target_norm || !r.target_key || ref_rows_add(out, &r) != 0) {
      rc = SQLITE_NOMEM;
      break;
    }
  }
  done(s);
  return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_ref_list(store *st, int64_t cs_id, const char *attr, mvs_arena *a, ref_rows *out)
{
  sqlite3_stmt *s = S(st, attr ? Q_REF_LIST_ATTR : Q_REF_LIST);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  if (attr)
    bind_text(s, 2, attr);
  return read_refs(s, false, a, out);
}

int store_ref_get(store *st, int64_t cs_id, const char *attr, const char *norm,
                  int64_t *target_id)
{
  sqlite3_stmt *s = S(st, Q_REF_GET);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  bind_text(s, 2, attr);
  bind_text(s, 3, norm);
  return exec_id(s, target_id);
}

int store_ref_joined_count(store *st, int64_t cs_id, const char *attr, int *n)
{
  sqlite3_stmt *s = S(st, Q_REF_JOINED_COUNT);
  int64_t v = 0;
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  bind_text(s, 2, attr);
  rc = exec_id(s, &v);
  *n = (int)v;
  return rc == STORE_ERR ? STORE_ERR : STORE_OK;
}

int store_ref_names(store *st, int64_t cs_id, const char *attr, int64_t target_id, int *names)
{
  sqlite3_stmt *s = S(st, Q_REF_NAMES);
  int64_t one = 0;
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  bind_text(s, 2, attr);
  sqlite3_bind_int64(s, 3, target_id);
  rc = exec_id(s, &one);
  *names = rc == STORE_OK;
  return rc == STORE_ERR ? STORE_ERR : STORE_OK;
}

int store_ref_delta_note(store *st, int64_t cs_id, const char *attr, const char *norm, int op,
                         int64_t target_id)
{
  sqlite3_stmt *s = S(st, Q_REF_DELTA_CANCEL);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  bind_text(s, 2, attr);
  bind_text(s, 3, norm);
  sqlite3_bind_int(s, 4, op);
  if (exec_stmt(s) != STORE_OK)
    return STORE_ERR;
  if (sqlite3_changes(st->db) > 0)
    return STORE_OK;
  if (!(s = S(st, Q_REF_DELTA_INSERT)))
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  bind_text(s, 2, attr);
  bind_text(s, 3, norm);
  sqlite3_bind_int(s, 4, op);
  bind_id(s, 5, target_id);
  return exec_stmt(s);
}

int store_ref_delta_touch(store *st, int64_t cs_id)
{
  return exec_on_id(st, Q_REF_DELTA_TOUCH, cs_id);
}

int store_ref_delta_list(store *st, int64_t cs_id, const char *attr, mvs_arena *a,
                         ref_rows *out)
{
  sqlite3_stmt *s = S(st, attr ? Q_REF_DELTA_LIST_ATTR : Q_REF_DELTA_LIST);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  if (attr)
    bind_text(s, 2, attr);
  return read_refs(s, true, a, out);
}

int store_ref_delta_clear(store *st, int64_t cs_id)
{
  return exec_on_id(st, Q_REF_DELTA_CLEAR, cs_id);
}

int store_ref_insert(store *st, int64_t cs_id, const char *attr, const char *norm,
                     const char *key, int64_t target_id)
{
  sqlite3_stmt *s = S(st, Q_REF_INSERT);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  bind_text(s, 2, attr);
  bind_text(s, 3, norm);
  bind_text(s, 4, key);
  bind_id(s, 5, target_id);
  return exec_stmt(s);
}

int store_ref_delete(store *st, int64_t cs_id, const char *attr, const char *norm)
{
  sqlite3_stmt *s = S(st, Q_REF_DELETE);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  bind_text(s, 2, attr);
  bind_text(s, 3, norm);
  return exec_stmt(s);
}

int store_ref_resolve(store *st, int64_t connector, const char *norm, int64_t target_id)
{
  sqlite3_stmt *s = S(st, Q_REF_RESOLVE);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, norm);
  sqlite3_bind_int64(s, 3, target_id);
  return exec_stmt(s);
}

int store_ref_lookup(store *st, int64_t connector, const char *key, const char *norm,
                     int64_t *target_id)
{
  sqlite3_stmt *s = S(st, Q_REF_LOOKUP_ANCHOR);
  int rc;
  *target_id = 0;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, key);
  if ((rc = exec_id(s, target_id)) != STORE_NOTFOUND)
    return rc;
  if (!(s = S(st, Q_REF_LOOKUP_DN)))
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, norm);
  rc = exec_id(s, target_id);
  return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int store_ref_referrer_mvs(store *st, int64_t cs_id, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_REF_REFERRER_MVS);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  return exec_ids(s, out);
}

int store_ref_is_member(store *st, int64_t connector, const char *group_dn_key, int64_t cs_id,
                        int *member)
{
  sqlite3_stmt *s = S(st, Q_REF_IS_MEMBER);
  int64_t one;
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, group_dn_key);
  sqlite3_bind_int64(s, 3, cs_id);
  rc = exec_id(s, &one);
  *member = rc == STORE_OK;
  return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* ---- join keys ---- */

int store_cs_key_delete(store *st, int64_t cs_id) { return exec_on_id(st, Q_CS_KEY_DELETE, cs_id); }

int store_cs_key_insert(store *st, int64_t connector, const char *attr, const char *norm,
                        int64_t cs_id)
{
  sqlite3_stmt *s = S(st, Q_CS_KEY_INSERT);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, attr);
  bind_text(s, 3, norm);
  sqlite3_bind_int64(s, 4, cs_id);
  return exec_stmt(s);
}

int store_cs_key_find(store *st, int64_t connector, const char *attr, const char *norm,
                      id_list *out)
{
  sqlite3_stmt *s = S(st, Q_CS_KEY_FIND);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, connector);
  bind_text(s, 2, attr);
  bind_text(s, 3, norm);
  return exec_ids(s, out);
}

int store_cs_key_clear(store *st)
{
  sqlite3_stmt *s = S(st, Q_CS_KEY_CLEAR);
  return s ? exec_stmt(s) : STORE_ERR;
}

int store_mv_key_delete(store *st, int64_t mv_id) { return exec_on_id(st, Q_MV_KEY_DELETE, mv_id); }

int store_mv_key_insert(store *st, const char *attr, const char *norm, int64_t mv_id)
{
  sqlite3_stmt *s = S(st, Q_MV_KEY_INSERT);
  if (!s)
    return STORE_ERR;
  bind_text(s, 1, attr);
  bind_text(s, 2, norm);
  sqlite3_bind_int64(s, 3, mv_id);
  return exec_stmt(s);
}

int store_mv_key_find(store *st, const char *attr, const char *norm, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_MV_KEY_FIND);
  if (!s)
    return STORE_ERR;
  bind_text(s, 1, attr);
  bind_text(s, 2, norm);
  return exec_ids(s, out);
}

int store_mv_key_list(store *st, int64_t mv_id, mvs_arena *a, ref_rows *out)
{
  sqlite3_stmt *s = S(st, Q_MV_KEY_LIST);
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, mv_id);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ref_row r;
    memset(&r, 0, sizeof r);
    r.attr = col_text(s, 0, a);
    r.target_norm = col_text(s, 1, a);
    if (!r.attr || !r.target_norm || ref_rows_add(out, &r) != 0) {
      rc = SQLITE_NOMEM;
      break;
    }
  }
  done(s);
  return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_mv_key_clear(store *st)
{
  sqlite3_stmt *s = S(st, Q_MV_KEY_CLEAR);
  return s ? exec_stmt(s) : STORE_ERR;
}

/* ---- metaverse ---- */

int store_mv_get(store *st, int64_t id, mvs_arena *a, mv_row *row)
{
  sqlite3_stmt *s = S(st, Q_MV_GET);
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    row->id = sqlite3_column_int64(s, 0);
    row->object_type = col_text(s, 1, a);
    row->attrs = col_blob(s, 2, a, &row->attrs_len);
    if (!row->object_type)
      rc = SQLITE_NOMEM;
  }
  done(s);
  return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int store_mv_insert(store *st, const char *object_type, const void *attrs, size_t len, int64_t *id)
{
  sqlite3_stmt *s = S(st, Q_MV_INSERT);
  int rc;
  if (!s)
    return STORE_ERR;
  bind_text(s, 1, object_type);
  bind_blob(s, 2, attrs ? attrs : "", len);
  if ((rc = exec_stmt(s)) == STORE_OK)
    *id = sqlite3_last_insert_rowid(st->db);
  return rc;
}

int store_mv_update(store *st, int64_t id, const void *attrs, size_t len)
{
  sqlite3_stmt *s = S(st, Q_MV_UPDATE);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, id);
  bind_blob(s, 2, attrs ? attrs : "", len);
  return exec_stmt(s);
}

int store_mv_delete(store *st, int64_t id)
{
  static const enum stmt_id steps[] = {Q_MV_REF_DELETE_OBJ, Q_MV_REF_DELETE_TARGET,
                                       Q_MV_KEY_DELETE, Q_MV_DELETE};
  size_t i;
  for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
    if (exec_on_id(st, steps[i], id) != STORE_OK)
      return STORE_ERR;
  return STORE_OK;
}

int store_mv_page(store *st, int64_t after, size_t limit, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_MV_PAGE);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, after);
  sqlite3_bind_int64(s, 2, (int64_t)limit);
  return exec_ids(s, out);
}

int store_mv_ref_list(store *st, int64_t mv_id, const char *attr, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_MV_REF_LIST);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, mv_id);
  bind_text(s, 2, attr);
  return exec_ids(s, out);
}

int store_mv_ref_all(store *st, int64_t mv_id, mvs_arena *a, ref_rows *out)
{
  sqlite3_stmt *s = S(st, Q_MV_REF_ALL);
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, mv_id);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ref_row r;
    memset(&r, 0, sizeof r);
    r.attr = col_text(s, 0, a);
    r.target_mv = sqlite3_column_int64(s, 1);
    if (!r.attr || ref_rows_add(out, &r) != 0) {
      rc = SQLITE_NOMEM;
      break;
    }
  }
  done(s);
  return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

static int mv_ref_write(store *st, enum stmt_id q, int64_t mv_id, const char *attr, int64_t target)
{
  sqlite3_stmt *s = S(st, q);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, mv_id);
  bind_text(s, 2, attr);
  sqlite3_bind_int64(s, 3, target);
  return exec_stmt(s);
}

int store_mv_ref_insert(store *st, int64_t mv_id, const char *attr, int64_t target)
{
  return mv_ref_write(st, Q_MV_REF_INSERT, mv_id, attr, target);
}

int store_mv_ref_delete(store *st, int64_t mv_id, const char *attr, int64_t target)
{
  return mv_ref_write(st, Q_MV_REF_DELETE, mv_id, attr, target);
}

int store_mv_ref_referrers(store *st, int64_t target, id_list *out)
{
  sqlite3_stmt *s = S(st, Q_MV_REF_REFERRERS);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, target);
  return exec_ids(s, out);
}

int store_mv_cs_in(store *st, int64_t mv_id, int64_t connector, int64_t *cs_id)
{
  sqlite3_stmt *s = S(st, Q_MV_CS_IN);
  int rc;
  *cs_id = 0;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, mv_id);
  sqlite3_bind_int64(s, 2, connector);
  rc = exec_id(s, cs_id);
  return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* ---- pending exports ---- */

void pe_values_free(pe_values *v)
{
  free(v->items);
  memset(v, 0, sizeof *v);
}

int store_pe_get(store *st, int64_t cs_id, mvs_arena *a, pe_row *row)
{
  sqlite3_stmt *s = S(st, Q_PE_GET);
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    row->cs_id = sqlite3_column_int64(s, 0);
    row->op = sqlite3_column_int(s, 1);
    row->status = sqlite3_column_int(s, 2);
    row->error_code = sqlite3_column_int(s, 3);
    row->attempts = sqlite3_column_int(s, 4);
    row->new_dn = col_text(s, 5, a);
    row->error = col_text(s, 6, a);
  }
  done(s);
  return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int store_pe_values(store *st, int64_t cs_id, mvs_arena *a, pe_values *out)
{
  sqlite3_stmt *s = S(st, Q_PE_VALUES);
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    pe_value_row v;
    v.attr = col_text(s, 0, a);
    v.mode = sqlite3_column_int(s, 1);
    v.value = col_blob(s, 2, a, &v.value_len);
    if (!v.attr) {
      rc = SQLITE_NOMEM;
      break;
    }
    if (out->n == out->cap) {
      size_t ncap = out->cap ? out->cap * 2 : 16;
      pe_value_row *np = realloc(out->items, ncap * sizeof *np);
      if (!np) {
        rc = SQLITE_NOMEM;
        break;
      }
      out->items = np;
      out->cap = ncap;
    }
    out->items[out->n++] = v;
  }
  done(s);
  return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_pe_put(store *st, const pe_row *row, const pe_values *vals, int64_t run_id)
{
  sqlite3_stmt *s = S(st, Q_PE_PUT);
  size_t i;
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, row->cs_id);
  sqlite3_bind_int(s, 2, row->op);
  bind_text(s, 3, row->new_dn);
  sqlite3_bind_int(s, 4, row->status);
  if (row->error_code)
    sqlite3_bind_int(s, 5, row->error_code);
  bind_text(s, 6, row->error);
  sqlite3_bind_int(s, 7, row->attempts);
  bind_id(s, 8, run_id);
  if ((rc = exec_stmt(s)) != STORE_OK || (rc = exec_on_id(st, Q_PE_VALUES_DELETE, row->cs_id)))
    return rc;
  for (i = 0; i < vals->n; i++) {
    const pe_value_row *v = &vals->items[i];
    if (!(s = S(st, Q_PE_VALUE_INSERT)))
      return STORE_ERR;
    sqlite3_bind_int64(s, 1, row->cs_id);
    bind_text(s, 2, v->attr);
    sqlite3_bind_int(s, 3, v->mode);
    sqlite3_bind_int64(s, 4, (int64_t)i);
    bind_blob(s, 5, v->value, v->value_len);
    if ((rc = exec_stmt(s)) != STORE_OK)
      return rc;
  }
  return STORE_OK;
}

int store_pe_delete(store *st, int64_t cs_id)
{
  int rc = exec_on_id(st, Q_PE_VALUES_DELETE, cs_id);
  return rc ? rc : exec_on_id(st, Q_PE_DELETE, cs_id);
}

int store_pe_set_status(store *st, int64_t cs_id, int status, int error_code, const char *error)
{
  sqlite3_stmt *s = S(st, Q_PE_SET_STATUS);
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  sqlite3_bind_int(s, 2, status);
  if (error_code)
    sqlite3_bind_int(s, 3, error_code);
  bind_text(s, 4, error);
  return exec_stmt(s);
}

int store_pe_unsend(store *st, int64_t cs_id) { return exec_on_id(st, Q_PE_UNSEND, cs_id); }

/* Bind (cs_id, attr, mode, value) of the single-value statements. */
static sqlite3_stmt *pe_value_stmt(store *st, enum stmt_id q, int64_t cs_id, const char *attr,
                                   int mode, const void *value, size_t len)
{
  sqlite3_stmt *s = S(st, q);
  if (s) {
    sqlite3_bind_int64(s, 1, cs_id);
    bind_text(s, 2, attr);
    sqlite3_bind_int(s, 3, mode);
    bind_blob(s, 4, value, len);
  }
  return s;
}

int store_pe_value_has(store *st, int64_t cs_id, const char *attr, int mode, const void *value,
                       size_t len, int *has)
{
  sqlite3_stmt *s = pe_value_stmt(st, Q_PE_VALUE_FIND, cs_id, attr, mode, value, len);
  int64_t one;
  int rc = s ? exec_id(s, &one) : STORE_ERR;
  *has = rc == STORE_OK;
  return rc == STORE_ERR ? STORE_ERR : STORE_OK;
}

int store_pe_value_add(store *st, int64_t cs_id, const char *attr, int mode, const void *value,
                       size_t len)
{
  sqlite3_stmt *s = pe_value_stmt(st, Q_PE_VALUE_ADD, cs_id, attr, mode, value, len);
  return s ? exec_stmt(s) : STORE_ERR;
}

int store_pe_value_remove(store *st, int64_t cs_id, const char *attr, int mode,
                          const void *value, size_t len)
{
  sqlite3_stmt *s = pe_value_stmt(st, Q_PE_VALUE_REMOVE, cs_id, attr, mode, value, len);
  return s ? exec_stmt(s) : STORE_ERR;
}

int store_pe_value_any(store *st, int64_t cs_id, int *any)
{
  sqlite3_stmt *s = S(st, Q_PE_VALUE_ANY);
  int64_t one;
  int rc;
  if (!s)
    return STORE_ERR;
  sqlite3_bind_int64(s, 1, cs_id);
  rc = exec_id(s, &one);
  *any = rc == STORE_OK;
  return rc == STORE_ERR ? STORE_ERR : STORE_OK;
}

int store_pe_restage(store *st, int64_t cs_id) { return exec_on_id(st, Q_PE_RESTAGE, cs_id); }

int store_pe_list(store *st, int64_t connector, bool only_pending, id_list *out)
{
  sqlite3_stmt *s = S(st, connector ? Q_PE_LIST : Q_PE_LIST_ALL);
  if (!s)
    return STORE_ERR;
  if (connector)
    sqlite3_bind_int64(s, 1, connector);
  sqlite3_bind_int(s, 2, only_pending);
  return exec_ids(s, out);
}

/* ---- runs ---- */

int store_run_insert(store *st, run_row *r)
{
  sqlite3_stmt *s = S(st, Q_RUN_INSERT);
  int rc;
  if (!s)
    return STORE_ERR;
  bind_text(s, 1, r->profile);
  bind_text(s, 2, r->connector);
  bind_text(s, 3, r->started);
  sqlite3_bind_int64(s, 4, r->duration_ms);
  sqlite3_bind_int64(s, 5, r->adds);
  sqlite3_bind_int64(s, 6, r->updates);
  sqlite3_bind_int64(s, 7, r->deletes);
  sqlite3_bind_int64(s, 8, r->errors);
  sqlite3_bind_int64(s, 9, r->skipped_refs);
  bind_text(s, 10, r->ruleset_hash);
  bind_text(s, 11, r->status);
  bind_text(s, 12, r->log);
  if ((rc = exec_stmt(s)) == STORE_OK)
    r->id = sqlite3_last_insert_rowid(st->db);
  return rc;
}

int store_run_list(store *st, mvs_arena *a, run_row **rows, size_t *n)
{
  sqlite3_stmt *s = S(st, Q_RUN_LIST);
  run_row *v = NULL, *nv;
  size_t cnt = 0, cap = 0;
  int rc;
  if (!s)
    return STORE_ERR;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    run_row *r;
    if (cnt == cap) {
      cap = cap ? cap * 2 : 32;
      if (!(nv = realloc(v, cap * sizeof *nv))) {
        rc = SQLITE_NOMEM;
        break;
      }
      v = nv;
    }
    r = &v[cnt++];
    r->id = sqlite3_column_int64(s, 0);
    r->profile = col_text(s, 1, a);
    r->connector = col_text(s, 2, a);
    r->started = col_text(s, 3, a);
    r->duration_ms = sqlite3_column_int64(s, 4);
    r->adds = sqlite3_column_int64(s, 5);
    r->updates = sqlite3_column_int64(s, 6);
    r->deletes = sqlite3_column_int64(s, 7);
    r->errors = sqlite3_column_int64(s, 8);
    r->skipped_refs = sqlite3_column_int64(s, 9);
    r->ruleset_hash = col_text(s, 10, a);
    r->status = col_text(s, 11, a);
    r->log = col_text(s, 12, a);
  }
  done(s);
  if (rc != SQLITE_DONE) {
    free(v);
    return STORE_ERR;
  }
  *rows = v;
  *n = cnt;
  return STORE_OK;
}
