/* store — all SQL of mvsync.  Statements are prepared on first use and kept for the life of
 * the handle; every value is bound, never formatted into SQL text.
 * Memory: rows are copied into the caller's arena before the statement is reset. */
#include "engine/idset.h"
#include "engine/store.h"
#include "schema/array.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const char mvs_store_sql[];

enum stmt_id {
  Q_META_GET, Q_META_SET,
  Q_CONN_FIND, Q_CONN_INSERT, Q_CONN_NAME, Q_WM_GET, Q_WM_SET, Q_CONN_LIST,
  Q_CS_GET, Q_CS_BY_ANCHOR, Q_CS_BY_DN, Q_CS_LIVE_BY_DN, Q_CS_INSERT, Q_CS_UPDATE_IMPORT,
  Q_CS_UPDATE_ATTRS, Q_PENDING_PUT,
  Q_PENDING_SET_STATE, Q_PENDING_CLEAR, Q_PENDING_CLEAR_TAKEN,
  Q_CS_SET_LINK, Q_CS_SET_ERROR, Q_CS_SET_DN, Q_CS_SET_ANCHOR, Q_CS_DELETE, Q_CS_PENDING,
  Q_CS_PAGE, Q_CS_PAGE_JOINED, Q_CS_JOINED, Q_CS_COUNT, Q_CS_COUNT_LIVE, Q_CS_BY_ANCHOR_ORDER,
  Q_SEEN_RESET, Q_SEEN_ADD, Q_CS_MARK_UNSEEN, Q_CS_UNSEEN,
  Q_REF_LIST, Q_REF_LIST_ATTR, Q_REF_INSERT, Q_REF_DELETE,
  Q_REF_DELETE_OBJ, Q_REF_UNRESOLVE, Q_REF_RESOLVE, Q_REF_LOOKUP_ANCHOR, Q_REF_LOOKUP_DN,
  Q_REF_REFERRER_MVS, Q_REF_IS_MEMBER, Q_REF_GET, Q_REF_JOINED_COUNT, Q_REF_NAMES,
  Q_REF_DELTA_CANCEL, Q_REF_DELTA_INSERT, Q_REF_DELTA_TOUCH, Q_REF_DELTA_LIST,
  Q_REF_DELTA_LIST_ATTR, Q_REF_DELTA_CLEAR, Q_REF_DELTA_CLEAR_TAKEN,
  Q_CS_KEY_DELETE, Q_CS_KEY_INSERT, Q_CS_KEY_REMOVE, Q_CS_KEY_FIND, Q_CS_KEY_CLEAR,
  Q_CS_KEY_LIST, Q_MV_KEY_DELETE, Q_MV_KEY_INSERT, Q_MV_KEY_REMOVE, Q_MV_KEY_FIND,
  Q_MV_KEY_CLEAR, Q_MV_KEY_LIST,
  Q_MV_GET, Q_MV_INSERT, Q_MV_UPDATE, Q_MV_DELETE, Q_MV_REF_DELETE_OBJ, Q_MV_REF_DELETE_TARGET,
  Q_MV_PAGE, Q_MV_REF_LIST, Q_MV_REF_ALL, Q_MV_REF_INSERT, Q_MV_REF_DELETE,
  Q_MV_REF_REFERRERS, Q_MV_CS_IN, Q_MV_PAGE_TYPE, Q_REF_UNJOINED_COUNT,
  Q_COLL_GET, Q_COLL_SET, Q_COLL_NAME, Q_COLL_LIST, Q_COLL_DELETE,
  Q_PE_GET, Q_PE_IDS, Q_PE_VALUES, Q_PE_PUT, Q_PE_VALUES_DELETE, Q_PE_VALUE_INSERT, Q_PE_DELETE,
  Q_PE_SET_STATUS, Q_PE_UNSEND, Q_PE_LIST, Q_PE_LIST_ALL, Q_PE_DESTRUCTIVE, Q_PE_VALUE_FIND, Q_PE_VALUE_TAKEN, Q_CS_KEY_TAKEN, Q_PE_VALUE_ADD,
  Q_PE_VALUE_REMOVE, Q_PE_VALUE_ANY, Q_PE_RESTAGE,
  Q_INFLIGHT_MARK, Q_INFLIGHT_GET, Q_INFLIGHT_CLEAR,
  Q_DRY_NOTE_PUT, Q_DRY_NOTE_GET,
  Q_RUN_INSERT, Q_RUN_LIST,
  Q_CONN_INFO, Q_RUN_LAST, Q_PE_COUNTS, Q_MV_COUNT,
  Q_CS_SET_JOIN, Q_ERROR_LIST,
  Q_DRIFT_ADD, Q_DRIFT_CLAIM, Q_DRIFT_LIST, Q_RUN_LAST_CHANGE,
  Q_WINNER_ADD, Q_WINNER_CLAIM, Q_WINNER_LIST, Q_DRIFT_DROP, Q_WINNER_DROP,
  Q_OVR_SET, Q_OVR_GET, Q_OVR_LIST, Q_OVR_CLEAR,
  /* store_search: one statement per probe, in store_probe order */
  Q_PROBE_FIRST,
  Q_COUNT = Q_PROBE_FIRST + PROBE_COUNT
};

/* A timestamp as the store writes them (UTC, ISO 8601, as the run history). */
#define NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

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
/* An object with its pending import (cs_pending; none: state 0, not renamed, no change). */
#define CS_COLS "id, connector, mv_id, anchor, dn, object_type, link_rule, error, attrs, " \
                "coalesce(import_state, 0), present, link_type, link_out, provisioned, " \
                "coalesce(renamed, 0), linked_at, projected, coalesce(changed_attrs, 0)"
#define CS_FROM "cs_object LEFT JOIN cs_pending ON cs_pending.cs_id = cs_object.id"
/* Deleted by an import (state 3) that no sync has taken yet. */
#define IMPORT_DELETED "EXISTS (SELECT 1 FROM cs_pending p WHERE p.cs_id = cs_object.id " \
                       "AND p.import_state = 3)"
  [Q_CS_GET] = "SELECT " CS_COLS " FROM " CS_FROM " WHERE id = ?1",
  [Q_CS_BY_ANCHOR] = "SELECT " CS_COLS " FROM " CS_FROM " WHERE connector = ?1 AND anchor = ?2",
  [Q_CS_BY_DN] = "SELECT " CS_COLS " FROM " CS_FROM " WHERE connector = ?1 AND dn_key = ?2 "
                 "ORDER BY id LIMIT 1",
  [Q_CS_LIVE_BY_DN] = "SELECT " CS_COLS " FROM " CS_FROM " WHERE connector = ?1 AND "
                      "dn_key = ?2 AND present = 1 AND import_state IS NOT 3 ORDER BY id LIMIT 1",
  [Q_CS_INSERT] = "INSERT INTO cs_object(connector, mv_id, anchor, dn, object_type, link_rule, "
                  "error, attrs, present, link_type, link_out, provisioned, dn_key, "
                  "linked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                  "CASE WHEN ?2 IS NOT NULL THEN " NOW " END)",
  [Q_CS_UPDATE_IMPORT] = "UPDATE cs_object SET anchor = ?2, dn = ?3, dn_key = ?4, "
                         "object_type = ?5, attrs = ?6, present = ?7 WHERE id = ?1",
  /* The same, when anchor, DN and type stay: a column in SET rewrites its indexes' entries
   * (three index pages per object) even when its value does not change. */
  [Q_CS_UPDATE_ATTRS] = "UPDATE cs_object SET attrs = ?2, present = ?3 WHERE id = ?1",
  [Q_PENDING_PUT] = "INSERT INTO cs_pending(cs_id, import_state, renamed, changed_attrs) "
                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(cs_id) DO UPDATE SET "
                    "import_state = excluded.import_state, renamed = excluded.renamed, "
                    "changed_attrs = excluded.changed_attrs",
  /* A state set alone keeps what the imports recorded (none: not renamed, no change). */
  [Q_PENDING_SET_STATE] = "INSERT INTO cs_pending(cs_id, import_state, renamed, changed_attrs) "
                          "VALUES (?1, ?2, 0, 0) ON CONFLICT(cs_id) DO UPDATE SET "
                          "import_state = excluded.import_state",
  /* A synced object (state 0) is no longer "renamed since the last sync", and has no
   * attribute changed since. */
  [Q_PENDING_CLEAR] = "DELETE FROM cs_pending WHERE cs_id = ?1",
  /* The end of a full sync: the imports it took (store_full_sync_end). */
  [Q_PENDING_CLEAR_TAKEN] = "DELETE FROM cs_pending WHERE cs_id BETWEEN ?1 AND ?2 AND "
                           "mvs_taken(cs_id)",
  /* linked_at and projected belong to the join itself: kept while the metaverse object
   * stays the same (a rule taking over an existing join does not make it new). */
  [Q_CS_SET_LINK] = "UPDATE cs_object SET mv_id = ?2, link_rule = ?3, link_type = ?4, "
                    "link_out = ?5, provisioned = ?6, "
                    "linked_at = CASE WHEN ?2 IS NULL THEN NULL WHEN mv_id IS ?2 THEN linked_at "
                    "ELSE ?7 END, projected = projected AND mv_id IS ?2 WHERE id = ?1",
  /* A join or projection made inbound (store_cs_set_join also takes the import): one
   * write of the row where a link and a projection mark were two.  The links' time is
   * bound (now_text): strftime per row was 2 % of a full sync's instructions. */
  [Q_CS_SET_JOIN] = "UPDATE cs_object SET mv_id = ?2, link_rule = ?3, link_type = ?4, "
                    "link_out = 0, provisioned = 0, "
                    "linked_at = CASE WHEN mv_id IS ?2 THEN linked_at ELSE ?6 END, "
                    "projected = ?5 OR (projected AND mv_id IS ?2) WHERE id = ?1",
  /* An error seen again keeps its first sighting; a new message starts a new one.  A
   * clear (?2 NULL) clears only an error of its own side (?5: outbound), and writes
   * nothing for an object without one (every object, every sync). */
  [Q_CS_SET_ERROR] = "UPDATE cs_object SET error = ?2, error_rule = ?3, error_attr = ?4, "
                     "error_first = CASE WHEN ?2 IS NULL THEN NULL WHEN error IS ?2 THEN "
                     "coalesce(error_first, " NOW ") ELSE " NOW " END, "
                     "error_last = CASE WHEN ?2 IS NULL THEN NULL ELSE " NOW " END, "
                     "error_outbound = ?5 WHERE id = ?1 AND (?2 IS NOT NULL OR "
                     "(error IS NOT NULL AND error_outbound = ?5))",
  [Q_CS_SET_DN] = "UPDATE cs_object SET dn = ?2, dn_key = ?3 WHERE id = ?1",
  [Q_CS_SET_ANCHOR] = "UPDATE cs_object SET anchor = ?2 WHERE id = ?1",
  [Q_CS_DELETE] = "DELETE FROM cs_object WHERE id = ?1",
  /* cs_pending holds the pending objects (and a few state-0 rows from migration 6): a delta
   * sync of nothing reads one page. */
  [Q_CS_PENDING] = "SELECT cs_id FROM cs_pending WHERE import_state <> 0 ORDER BY cs_id",
  [Q_CS_PAGE] = "SELECT id FROM cs_object WHERE id > ?1 ORDER BY id LIMIT ?2",
  [Q_CS_PAGE_JOINED] = "SELECT id FROM cs_object WHERE id > ?1 AND (mv_id IS NOT NULL OR "
                       IMPORT_DELETED ") ORDER BY id LIMIT ?2",
  [Q_CS_JOINED] = "SELECT id FROM cs_object WHERE mv_id = ?1 ORDER BY id",
  [Q_CS_COUNT] = "SELECT count(*) FROM cs_object WHERE connector = ?1",
  [Q_CS_COUNT_LIVE] = "SELECT count(*) FROM cs_object WHERE connector = ?1 AND present = 1 "
                      "AND NOT " IMPORT_DELETED,
  [Q_CS_BY_ANCHOR_ORDER] = "SELECT id FROM cs_object WHERE connector = ?1 "
                           "ORDER BY anchor IS NULL, anchor, dn_key, id",
  [Q_SEEN_RESET] = "DELETE FROM temp.import_seen",
  [Q_SEEN_ADD] = "INSERT OR IGNORE INTO temp.import_seen(id) VALUES (?1)",
#define UNSEEN "connector = ?1 AND present = 1 AND NOT " IMPORT_DELETED " " \
               "AND id NOT IN (SELECT id FROM temp.import_seen)"
  [Q_CS_MARK_UNSEEN] = "INSERT INTO cs_pending(cs_id, import_state, renamed, changed_attrs) "
                       "SELECT id, 3, 0, 0 FROM cs_object WHERE " UNSEEN " "
                       "ON CONFLICT(cs_id) DO UPDATE SET import_state = 3",
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
  [Q_REF_REFERRER_MVS] = "SELECT c.mv_id FROM cs_ref r JOIN cs_object c ON c.id = r.cs_id "
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
  [Q_REF_DELTA_CLEAR_TAKEN] = "DELETE FROM cs_ref_delta WHERE cs_id BETWEEN ?1 AND ?2 AND "
                             "mvs_taken(cs_id)",
  [Q_CS_KEY_DELETE] = "DELETE FROM cs_key WHERE cs_id = ?1",
  [Q_CS_KEY_INSERT] = "INSERT OR IGNORE INTO cs_key(connector, attr, norm, cs_id) VALUES (?1, ?2, ?3, ?4)",
  [Q_CS_KEY_REMOVE] = "DELETE FROM cs_key WHERE connector = ?1 AND attr = ?2 AND norm = ?3 AND cs_id = ?4",
  [Q_CS_KEY_LIST] = "SELECT attr, norm FROM cs_key WHERE cs_id = ?1 ORDER BY attr, norm",
  [Q_CS_KEY_TAKEN] = "SELECT 1 FROM cs_key WHERE connector = ?1 AND attr = ?2 AND norm = ?3 "
                     "AND cs_id <> ?4 LIMIT 1",
  [Q_CS_KEY_FIND] = "SELECT k.cs_id FROM cs_key k JOIN cs_object c ON c.id = k.cs_id "
                    "WHERE k.connector = ?1 AND k.attr = ?2 AND k.norm = ?3 AND c.mv_id IS NULL "
                    "ORDER BY k.cs_id",
  [Q_CS_KEY_CLEAR] = "DELETE FROM cs_key",
  [Q_MV_KEY_DELETE] = "DELETE FROM mv_key WHERE mv_id = ?1",
  [Q_MV_KEY_INSERT] = "INSERT OR IGNORE INTO mv_key(attr, norm, mv_id) VALUES (?1, ?2, ?3)",
  [Q_MV_KEY_REMOVE] = "DELETE FROM mv_key WHERE attr = ?1 AND norm = ?2 AND mv_id = ?3",
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
  [Q_MV_REF_REFERRERS] = "SELECT mv_id FROM mv_ref WHERE target_mv = ?1",
  [Q_MV_CS_IN] = "SELECT id FROM cs_object WHERE mv_id = ?1 AND connector = ?2 ORDER BY id LIMIT 1",
  [Q_MV_PAGE_TYPE] = "SELECT id FROM mv_object WHERE id > ?1 AND object_type = ?3 "
                     "ORDER BY id LIMIT ?2",
  [Q_REF_UNJOINED_COUNT] = "SELECT count(*) FROM cs_ref r LEFT JOIN cs_object t "
                           "ON t.id = r.target_id WHERE r.cs_id = ?1 AND r.attr = ?2 "
                           "COLLATE NOCASE AND t.mv_id IS NULL",
  [Q_COLL_GET] = "SELECT mv_id FROM mv_collection WHERE name = ?1",
  [Q_COLL_SET] = "INSERT INTO mv_collection(name, mv_id) VALUES (?1, ?2) "
                 "ON CONFLICT(name) DO UPDATE SET mv_id = excluded.mv_id",
  [Q_COLL_NAME] = "SELECT name FROM mv_collection WHERE mv_id = ?1",
  [Q_COLL_LIST] = "SELECT mv_id, name FROM mv_collection ORDER BY name",
  [Q_COLL_DELETE] = "DELETE FROM mv_collection WHERE mv_id = ?1",
  [Q_PE_GET] = "SELECT cs_id, op, status, error_code, attempts, new_dn, error "
               "FROM pending_export WHERE cs_id = ?1",
  [Q_PE_IDS] = "SELECT cs_id FROM pending_export",
  [Q_PE_VALUES] = "SELECT attr, mode, value FROM pending_export_value WHERE cs_id = ?1 "
                  "ORDER BY attr, mode, seq",
  [Q_PE_PUT] = "INSERT OR REPLACE INTO pending_export(cs_id, op, new_dn, status, error_code, "
               "error, attempts, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  [Q_PE_VALUES_DELETE] = "DELETE FROM pending_export_value WHERE cs_id = ?1",
  [Q_PE_VALUE_INSERT] = "INSERT INTO pending_export_value(cs_id, attr, mode, seq, value) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
  [Q_PE_DELETE] = "DELETE FROM pending_export WHERE cs_id = ?1",
  /* A failure keeps the export's first failure; a success forgets both. */
  [Q_PE_SET_STATUS] = "UPDATE pending_export SET status = ?2, error_code = ?3, error = ?4, "
                      "attempts = attempts + 1, error_first = CASE WHEN ?4 IS NULL THEN NULL "
                      "ELSE coalesce(error_first, " NOW ") END, error_last = CASE WHEN "
                      "?4 IS NULL THEN NULL ELSE " NOW " END WHERE cs_id = ?1",
  [Q_PE_UNSEND] = "UPDATE pending_export SET status = 0 WHERE cs_id = ?1 AND status = 1",
  [Q_PE_VALUE_FIND] = "SELECT 1 FROM pending_export_value WHERE cs_id = ?1 AND attr = ?2 "
                      "AND mode = ?3 AND value = ?4",
  /* SelectUniqueValue: a value another object of the connector is about to get. */
  [Q_PE_VALUE_TAKEN] = "SELECT 1 FROM pending_export_value v JOIN cs_object o ON o.id = v.cs_id "
                       "WHERE o.connector = ?1 AND v.attr = ?2 AND v.value = ?3 AND v.cs_id <> ?4 "
                       "AND v.mode <> 2 LIMIT 1",
  [Q_PE_VALUE_ADD] = "INSERT INTO pending_export_value(cs_id, attr, mode, seq, value) "
                     "SELECT ?1, ?2, ?3, coalesce(max(seq) + 1, 0), ?4 "
                     "FROM pending_export_value WHERE cs_id = ?1",
  [Q_PE_VALUE_REMOVE] = "DELETE FROM pending_export_value WHERE cs_id = ?1 AND attr = ?2 "
                        "AND mode = ?3 AND value = ?4",
  [Q_PE_VALUE_ANY] = "SELECT 1 FROM pending_export_value WHERE cs_id = ?1 LIMIT 1",
  [Q_PE_RESTAGE] = "UPDATE pending_export SET status = 0, error_code = NULL, error = NULL, "
                   "attempts = 0, run_id = NULL, error_first = NULL, error_last = NULL "
                   "WHERE cs_id = ?1",

  [Q_PE_LIST] = "SELECT p.cs_id FROM pending_export p JOIN cs_object c ON c.id = p.cs_id "
                "WHERE c.connector = ?1 AND (?2 = 0 OR p.status = 0) "
                "ORDER BY CASE p.op WHEN 0 THEN 0 WHEN 2 THEN 2 ELSE 1 END, c.dn_key, p.cs_id",
  [Q_PE_LIST_ALL] = "SELECT p.cs_id FROM pending_export p JOIN cs_object c ON c.id = p.cs_id "
                    "WHERE (?2 = 0 OR p.status = 0) "
                    "ORDER BY c.connector, CASE p.op WHEN 0 THEN 0 WHEN 2 THEN 2 ELSE 1 END, "
                    "c.dn_key, p.cs_id",
  /* dry_run_note exists only inside a dry run's transaction (store_dry_notes_begin). */
  [Q_DRY_NOTE_PUT] = "INSERT INTO dry_run_note(cs_id, attr, mode, rule, drift) "
                     "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (cs_id, attr, mode) DO UPDATE "
                     "SET rule = coalesce(excluded.rule, rule), drift = drift OR excluded.drift",
  [Q_DRY_NOTE_GET] = "SELECT rule, drift FROM dry_run_note WHERE cs_id = ?1 AND attr = ?2 "
                     "AND mode = ?3",
  [Q_INFLIGHT_MARK] = "INSERT OR IGNORE INTO export_inflight(cs_id, since) "
                      "VALUES (?1, " NOW ")",
  [Q_INFLIGHT_GET] = "SELECT 1 FROM export_inflight WHERE cs_id = ?1",
  [Q_INFLIGHT_CLEAR] = "DELETE FROM export_inflight WHERE cs_id = ?1",
  /* Deletes, value removals (a value deleted, an attribute cleared) and the objects they
   * touch among a connector's exports still to send. */
  [Q_PE_DESTRUCTIVE] = "WITH d AS (SELECT p.op = 2 AS del, (SELECT count(*) FROM "
                       "pending_export_value v WHERE v.cs_id = p.cs_id AND (v.mode = 2 OR "
                       "(v.mode = 0 AND v.value IS NULL))) AS removed FROM pending_export p "
                       "JOIN cs_object c ON c.id = p.cs_id WHERE c.connector = ?1 AND "
                       "p.status = 0) SELECT coalesce(sum(del), 0), coalesce(sum(removed), 0), "
                       "count(*) FILTER (WHERE del OR removed > 0) FROM d",
  [Q_RUN_INSERT] = "INSERT INTO run(profile, connector, started, duration_ms, adds, updates, "
                   "deletes, errors, skipped_refs, ruleset_hash, status, log, drift) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
  [Q_RUN_LIST] = "SELECT id, profile, connector, started, duration_ms, adds, updates, deletes, "
                 "errors, skipped_refs, ruleset_hash, status, log, drift FROM run ORDER BY id",
  /* Status and metrics (engine/status.c). */
  [Q_CONN_INFO] = "SELECT name, type FROM connector WHERE id = ?1",
  [Q_RUN_LAST] = "SELECT id, profile, connector, started, duration_ms, adds, updates, deletes, "
                 "errors, skipped_refs, ruleset_hash, status, log, drift FROM run "
                 "WHERE connector IS ?1 AND profile IN (?2, ?3) ORDER BY id DESC LIMIT 1",
  [Q_PE_COUNTS] = "SELECT p.op, count(*), count(p.error) FROM pending_export p "
                  "JOIN cs_object c ON c.id = p.cs_id WHERE c.connector = ?1 AND p.status = 0 "
                  "GROUP BY p.op",
  [Q_MV_COUNT] = "SELECT count(*) FROM mv_object",
  /* Search probes (store_search): ?1 connector, ?2 attribute, ?3 value or range start,
   * ?4 range end.  A key probe adds the objects with a pending import: their cs_key rows
   * are written by the next sync.  UNION ALL, not UNION: the first rows come at once, and
   * the caller drops repeats.  CROSS JOIN keeps pending_export outermost. */
#define PROBE_CS "SELECT id FROM cs_object WHERE connector = ?1 "
#define PENDING_IMPORT "SELECT cs_id FROM cs_pending JOIN cs_object ON id = cs_id " \
                       "WHERE import_state <> 0 AND connector = ?1"
  [Q_PROBE_FIRST + PROBE_CS_ALL] = PROBE_CS,
  [Q_PROBE_FIRST + PROBE_CS_ANCHOR] = PROBE_CS "AND anchor = ?3",
  [Q_PROBE_FIRST + PROBE_CS_DN] = PROBE_CS "AND dn_key = ?3",
  [Q_PROBE_FIRST + PROBE_CS_DN_RANGE] = PROBE_CS "AND dn_key >= ?3 AND dn_key < ?4",
  [Q_PROBE_FIRST + PROBE_CS_TYPE] = PROBE_CS "AND object_type = ?3 COLLATE NOCASE",
  [Q_PROBE_FIRST + PROBE_CS_KEY] = "SELECT cs_id FROM cs_key WHERE connector = ?1 AND attr = ?2 "
                                   "AND norm = ?3 UNION ALL " PENDING_IMPORT,
  [Q_PROBE_FIRST + PROBE_CS_KEY_RANGE] = "SELECT cs_id FROM cs_key WHERE connector = ?1 "
                                         "AND attr = ?2 AND norm >= ?3 AND norm < ?4 "
                                         "UNION ALL " PENDING_IMPORT,
  [Q_PROBE_FIRST + PROBE_CS_JOINED] = PROBE_CS "AND mv_id IS NOT NULL",
  [Q_PROBE_FIRST + PROBE_CS_DISCONNECTOR] = PROBE_CS "AND mv_id IS NULL",
  [Q_PROBE_FIRST + PROBE_CS_PENDING_IMPORT] = PENDING_IMPORT,
  [Q_PROBE_FIRST + PROBE_CS_PENDING_EXPORT] = "SELECT p.cs_id FROM pending_export p CROSS JOIN "
                                              "cs_object c ON c.id = p.cs_id "
                                              "WHERE c.connector = ?1",
  [Q_PROBE_FIRST + PROBE_CS_ERROR] = PROBE_CS "AND error IS NOT NULL UNION ALL "
                                     "SELECT p.cs_id FROM pending_export p CROSS JOIN "
                                     "cs_object c ON c.id = p.cs_id "
                                     "WHERE p.error IS NOT NULL AND c.connector = ?1",
  [Q_PROBE_FIRST + PROBE_MV_ALL] = "SELECT id FROM mv_object",
  [Q_PROBE_FIRST + PROBE_MV_TYPE] = "SELECT id FROM mv_object WHERE object_type = ?3 COLLATE NOCASE",
  [Q_PROBE_FIRST + PROBE_MV_KEY] = "SELECT mv_id FROM mv_key WHERE attr = ?2 AND norm = ?3",
  [Q_PROBE_FIRST + PROBE_MV_KEY_RANGE] = "SELECT mv_id FROM mv_key WHERE attr = ?2 "
                                         "AND norm >= ?3 AND norm < ?4",
#undef PROBE_CS
#undef PENDING_IMPORT
  /* `mvsync errors`: the sync errors of connector-space objects, then the exports the
   * directory refused, by connector and DN (?1: a connector, 0 for all). */
  [Q_ERROR_LIST] = "SELECT 0, o.id, c.name, o.dn, o.error_attr, o.error_rule, o.error, "
                   "o.error_first, o.error_last, NULL, NULL, o.dn_key FROM cs_object o "
                   "JOIN connector c ON c.id = o.connector WHERE o.error IS NOT NULL AND "
                   "(?1 = 0 OR o.connector = ?1) UNION ALL "
                   "SELECT 1, o.id, c.name, o.dn, NULL, o.link_rule, p.error, p.error_first, "
                   "p.error_last, p.error_code, p.op, o.dn_key FROM pending_export p "
                   "JOIN cs_object o ON o.id = p.cs_id JOIN connector c ON c.id = o.connector "
                   "WHERE p.error IS NOT NULL AND (?1 = 0 OR o.connector = ?1) "
                   "ORDER BY 3, 1, 12, 2",
  /* Drift records (engine/sync_out.c writes, engine/authority_report.c reads). */
  [Q_DRIFT_ADD] = "INSERT INTO drift(connector, object, object_type, attr, value, action, rule) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [Q_DRIFT_CLAIM] = "UPDATE drift SET run_id = ?1 WHERE run_id IS NULL",
  /* Winner changes (engine/sync_in.c writes, engine/authority_report.c reads). */
  [Q_WINNER_ADD] = "INSERT INTO winner_change(object_type, attr, from_rule, to_rule) "
                   "VALUES (?1, ?2, ?3, ?4)",
  [Q_WINNER_CLAIM] = "UPDATE winner_change SET run_id = ?1 WHERE run_id IS NULL",
  [Q_DRIFT_DROP] = "DELETE FROM drift WHERE run_id IS NULL",
  [Q_WINNER_DROP] = "DELETE FROM winner_change WHERE run_id IS NULL",
  [Q_WINNER_LIST] = "SELECT object_type, attr, count(*), count(DISTINCT run_id), max(run_id) "
                    "FROM winner_change WHERE run_id IS NOT NULL GROUP BY object_type, attr",
  [Q_DRIFT_LIST] = "WITH g AS (SELECT connector, object, object_type, attr, value, action, "
                   "max(rule) AS rule, count(DISTINCT run_id) AS runs, max(run_id) AS last "
                   "FROM drift WHERE run_id IS NOT NULL GROUP BY connector, object, "
                   "object_type, attr, value, action) SELECT g.connector, g.object, "
                   "g.object_type, g.attr, g.value, g.action, g.rule, g.runs, g.last, "
                   "r.started FROM g LEFT JOIN run r ON r.id = g.last "
                   "ORDER BY g.connector, g.object_type, g.attr, g.object, g.value",
  /* The last export to a connector that changed something. */
  [Q_RUN_LAST_CHANGE] = "SELECT started FROM run WHERE profile = 'export' AND connector = ?1 "
                        "AND adds + updates + deletes > 0 ORDER BY id DESC LIMIT 1",
  /* Schedule overrides (engine/schedule.c): a second override of a connector adds its steps. */
  [Q_OVR_SET] = "INSERT INTO schedule_override(connector, full_import, full_sync, since) "
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(connector) DO UPDATE SET "
                "full_import = full_import OR excluded.full_import, "
                "full_sync = full_sync OR excluded.full_sync, since = excluded.since",
  [Q_OVR_GET] = "SELECT connector, full_import, full_sync, since FROM schedule_override "
                "WHERE connector = ?1",
  [Q_OVR_LIST] = "SELECT connector, full_import, full_sync, since FROM schedule_override "
                 "ORDER BY connector",
  [Q_OVR_CLEAR] = "DELETE FROM schedule_override WHERE connector = ?1",
};

struct store {
  sqlite3 *db;
  sqlite3_stmt *stmt[Q_COUNT];
  char *path;
  int lock_fd;          /* the writer lock's file, -1 when not held */
  int64_t unlinks;      /* links this handle removed (store_cs_set_link to no object) */
  time_t now_sec;       /* now_text's second, and its text */
  char now[24];
  /* While a full sync runs (store_full_sync_begin): the objects whose import it took, and
   * every object that may have a pending export (those it had, and those staged since). */
  bool full_sync;
  idset taken, pe_ids;
};

/* ---- helpers ---- */

/* mvs_taken(cs_id): whether the running full sync took the object's import. */
static void sql_taken(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const store *st = sqlite3_user_data(ctx);
  (void)argc;
  sqlite3_result_int(ctx, idset_has(&st->taken, sqlite3_value_int64(argv[0])));
}

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

/* One parameter of a statement; parameters are bound in order, as ?1, ?2, ... */
typedef struct param {
  enum { K_NULL, K_INT, K_TEXT, K_BLOB } kind;
  int64_t i;
  const void *p;
  size_t n;
} param;

#define P_I(v) ((param){.kind = K_INT, .i = (v)})
#define P_ID(v) ((param){.kind = (v) ? K_INT : K_NULL, .i = (v)}) /* 0 binds NULL */
#define P_T(v) ((param){.kind = (v) ? K_TEXT : K_NULL, .p = (v)}) /* NULL binds NULL */
#define P_B(v, len) ((param){.kind = (v) ? K_BLOB : K_NULL, .p = (v), .n = (len)})

/* The prepared statement q with params bound; NULL when it cannot be prepared. */
static sqlite3_stmt *bind_params(store *st, enum stmt_id q, const param *p, size_t n)
{
  sqlite3_stmt *s = S(st, q);
  size_t i;
  for (i = 0; s && i < n; i++) {
    int k = (int)i + 1;
    switch (p[i].kind) {
    case K_NULL: sqlite3_bind_null(s, k); break;
    case K_INT: sqlite3_bind_int64(s, k, p[i].i); break;
    case K_TEXT: sqlite3_bind_text(s, k, p[i].p, -1, SQLITE_STATIC); break;
    case K_BLOB: sqlite3_bind_blob64(s, k, p[i].p, p[i].n, SQLITE_STATIC); break;
    }
  }
  return s;
}

#define STMT(st, q, ...)                                                                     \
  bind_params(st, q, (const param[]){__VA_ARGS__},                                          \
              sizeof((const param[]){__VA_ARGS__}) / sizeof(param))

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

/* Where a row reader puts a row: the arena for its text, the destination, a flag. */
typedef struct rd {
  mvs_arena *a;
  void *out;
  bool flag;
} rd;

/* Reads the current row into c; nonzero when out of memory. */
typedef int (*row_fn)(sqlite3_stmt *s, const rd *c);

/* Step s (NULL: it could not be prepared) and hand each row to fn (if any), stopping after
 * the first when one; then reset it.  The last SQLite code, SQLITE_NOMEM when fn failed. */
static int step_rows(sqlite3_stmt *s, bool one, row_fn fn, const rd *c)
{
  int rc;
  if (!s)
    return SQLITE_ERROR;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (fn && fn(s, c) != 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    if (one)
      break;
  }
  done(s);
  return rc;
}

/* What a statement is run for, which decides how its SQLite code maps to STORE_*. */
enum want {
  W_WRITE, /* no rows: done is STORE_OK, busy STORE_BUSY */
  W_ROWS,  /* every row: done is STORE_OK */
  W_ROW    /* the first row: a row is STORE_OK, none STORE_NOTFOUND */
};

static int map_rc(int rc, enum want w)
{
  if (rc == SQLITE_ROW)
    return w == W_ROW ? STORE_OK : STORE_ERR;
  if (rc == SQLITE_DONE)
    return w == W_ROW ? STORE_NOTFOUND : STORE_OK;
  return rc == SQLITE_BUSY && w == W_WRITE ? STORE_BUSY : STORE_ERR;
}

/* Run a statement that returns no rows. */
static int exec_stmt(sqlite3_stmt *s) { return map_rc(step_rows(s, true, NULL, NULL), W_WRITE); }

static int read_row(sqlite3_stmt *s, row_fn fn, mvs_arena *a, void *out)
{
  rd c = {a, out, false};
  return map_rc(step_rows(s, true, fn, &c), W_ROW);
}

static int read_rows(sqlite3_stmt *s, row_fn fn, mvs_arena *a, void *out, bool flag)
{
  rd c = {a, out, flag};
  return map_rc(step_rows(s, false, fn, &c), W_ROWS);
}

static int row_id(sqlite3_stmt *s, const rd *c)
{
  *(int64_t *)c->out = sqlite3_column_int64(s, 0);
  return 0;
}

static int row_id_add(sqlite3_stmt *s, const rd *c)
{
  return id_list_add(c->out, sqlite3_column_int64(s, 0));
}

/* A list query's rows (run_row, error_row, drift_row, override_row…): a growing malloc'd
 * array the row function appends to (row_list_push), handed to the caller by read_list. */
typedef struct row_list {
  void *v;
  size_t n, cap, size;
} row_list;

static void *row_list_push(row_list *l)
{
  if (array_reserve(&l->v, &l->cap, l->n + 1, l->size) != 0)
    return NULL;
  return (char *)l->v + l->size * l->n++;
}

/* Every row of s through fn into a malloc'd array of size-byte rows: *rows (free it), *n. */
static int read_list(sqlite3_stmt *s, row_fn fn, mvs_arena *a, size_t size, void *rows, size_t *n)
{
  row_list l = {NULL, 0, 0, size};
  if (read_rows(s, fn, a, &l, false) != STORE_OK) {
    free(l.v);
    return STORE_ERR;
  }
  *(void **)rows = l.v;
  *n = l.n;
  return STORE_OK;
}

/* Collect the first column of every row as ids. */
static int exec_ids(sqlite3_stmt *s, id_list *out) { return read_rows(s, row_id_add, NULL, out, false); }

/* One row, one integer column: STORE_NOTFOUND when there is no row. */
static int exec_id(sqlite3_stmt *s, int64_t *out) { return read_row(s, row_id, NULL, out); }

/* Whether s returns a row: STORE_OK or STORE_ERR. */
static int exec_exists(sqlite3_stmt *s, int *found)
{
  int64_t one;
  int rc = exec_id(s, &one);
  *found = rc == STORE_OK;
  return rc == STORE_ERR ? STORE_ERR : STORE_OK;
}

static int exec_on_id(store *st, enum stmt_id q, int64_t id) { return exec_stmt(STMT(st, q, P_I(id))); }

/* Run a sequence of statements on one id, stopping at the first failure. */
static int exec_on_id_all(store *st, const enum stmt_id *q, size_t n, int64_t id)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (exec_on_id(st, q[i], id) != STORE_OK)
      return STORE_ERR;
  return STORE_OK;
}

/* An insert; its new rowid into *id. */
static int exec_insert(store *st, sqlite3_stmt *s, int64_t *id)
{
  int rc = exec_stmt(s);
  if (rc == STORE_OK)
    *id = sqlite3_last_insert_rowid(st->db);
  return rc;
}

int id_list_add(id_list *l, int64_t id)
{
  if (array_reserve(&l->ids, &l->cap, l->n + 1, sizeof *l->ids) != 0)
    return -1;
  l->ids[l->n++] = id;
  return 0;
}

static int cmp_id(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

bool id_list_has(const id_list *l, int64_t id)
{
  return l->n && bsearch(&id, l->ids, l->n, sizeof *l->ids, cmp_id) != NULL;
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

void store_set_cache(store *st, int kib)
{
  char pragma[64];   /* a PRAGMA takes no bound parameter; kib is the caller's constant */
  snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%d", kib);
  /* Only a size: on an open handle it cannot fail but for memory, which the next statement
   * reports. */
  sqlite3_exec(st->db, pragma, NULL, NULL, NULL);
}

void store_page_counts(store *st, int64_t *read, int64_t *written)
{
  int cur = 0, hi = 0;
  sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 0);
  *read = cur;
  sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 0);
  *written = cur;
}

int store_schema_version(void)
{
  const char *p = mvs_store_sql;
  int v = 0;
  while ((p = strstr(p, "\n-- migration ")) != NULL) {
    p += 14;
    v = (int)strtol(p, NULL, 10);
  }
  return v;
}

/* Apply every "-- migration N" section with N > from, in one transaction. */
static int migrate(sqlite3 *db, int from, char **err)
{
  const char *p = strstr(mvs_store_sql, "\n-- migration ");
  char *zerr = NULL, *section = NULL, pragma[64];
  int to = from, rc = -1;

  /* A migration may rewrite a table in one statement (ALTER TABLE DROP COLUMN, migration
   * 6), whose statement journal holds every page it changes: in a file, not in memory
   * (700 MiB for 2,050,000 objects). */
  if (sqlite3_exec(db, "PRAGMA temp_store=FILE; BEGIN IMMEDIATE", NULL, NULL, &zerr) !=
      SQLITE_OK)
    goto out;
  while (p) {
    const char *next = strstr(p + 1, "\n-- migration ");
    int n = (int)strtol(p + 14, NULL, 10);
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
  sqlite3_exec(db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
  free(section);
  sqlite3_free(zerr);
  return rc;
}

/* Before SQLite sees the path: only create may make a file, and an existing empty file is
 * not a store (SQLite would silently make it one).  create: the file is 0600. */
static int check_store_file(const char *path, bool create, char **err)
{
  struct stat sb;
  int fd, rc = -1;

  if (!create) {
    if (stat(path, &sb) != 0) {
      if (asprintf(err, "%s: %s; `mvsync init --store %s` creates a store", path,
                   errno == ENOENT ? "no store here" : strerror(errno), path) < 0)
        *err = NULL;
      return -1;
    }
    if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
      if (asprintf(err, "%s: the file is empty (0 bytes), not a store; only `mvsync init` "
                   "makes a store of it", path) < 0)
        *err = NULL;
      return -1;
    }
    return 0;
  }
  /* The store holds directory data: its owner only, whatever the umask. */
  if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
      fstat(fd, &sb) != 0 ||
      (S_ISREG(sb.st_mode) && (sb.st_mode & 0777) != 0600 && fchmod(fd, 0600) != 0)) {
    if (asprintf(err, "%s: cannot create the store: %s", path, strerror(errno)) < 0)
      *err = NULL;
  } else {
    rc = 0;
  }
  if (fd >= 0)
    close(fd);
  return rc;
}

/* -wal and -shm files an older mvsync left readable by others (SQLite creates new ones
 * with the store's mode). */
static void tighten_sidecars(const char *path)
{
  static const char *const ext[] = {"-wal", "-shm"};
  char *p;
  size_t i;
  for (i = 0; i < 2; i++)
    if (asprintf(&p, "%s%s", path, ext[i]) >= 0) {
      chmod(p, 0600);
      free(p);
    }
}

/* Before SQLite's first use: no memory statistics (they take a global mutex on every
 * allocation, about 5 % of a full sync).  A store's connection is used by one thread
 * only (the CLI's watchdog never touches it), so it is opened without its own mutex
 * (SQLITE_OPEN_NOMUTEX, another 7 %). */
static void configure_sqlite(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

int store_open(const char *path, bool create, store **out, char **err)
{
  static pthread_once_t configured = PTHREAD_ONCE_INIT;
  store *st = calloc(1, sizeof *st);
  sqlite3_stmt *s = NULL;
  int version = 0;
  char *zerr = NULL;

  *err = NULL;
  pthread_once(&configured, configure_sqlite);
  if (!st)
    return STORE_ERR;
  st->lock_fd = -1;
  if (check_store_file(path, create, err) != 0) {
    free(st);
    return STORE_ERR;
  }
  if (create)
    tighten_sidecars(path);
  if (!(st->path = strdup(path)) ||
      sqlite3_open_v2(path, &st->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                          (create ? SQLITE_OPEN_CREATE : 0), NULL) != SQLITE_OK)
    goto fail;
  sqlite3_busy_timeout(st->db, 5000);
  /* The version first: switching to WAL writes the file, and a database that is not a
   * store must be left as it was. */
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
  /* Schema 0 is a database mvsync never initialised: only init may make it a store. */
  if (version == 0 && !create) {
    if (asprintf(err, "%s: not an mvsync store (a database without its schema); only "
                 "`mvsync init` makes a store of it", path) < 0)
      *err = NULL;
    goto fail_quiet;
  }
  /* WAL: readers never block the writer; synchronous=NORMAL is durable per transaction in
   * WAL mode up to the last checkpoint, and a crash never corrupts the file.  The page
   * cache: STORE_CACHE_KIB until a step sets another (store_set_cache). */
  if (sqlite3_exec(st->db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                   "PRAGMA temp_store=MEMORY; "
                   "PRAGMA foreign_keys=OFF;",
                   NULL, NULL, &zerr) != SQLITE_OK)
    goto fail;
  store_set_cache(st, STORE_CACHE_KIB);
  if (version < store_schema_version() && migrate(st->db, version, err) != 0)
    goto fail_quiet;
  if (sqlite3_exec(st->db, "CREATE TEMP TABLE import_seen(id INTEGER PRIMARY KEY)", NULL,
                   NULL, &zerr) != SQLITE_OK ||
      sqlite3_create_function_v2(st->db, "mvs_taken", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, st,
                                 sql_taken, NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  *out = st;
  return STORE_OK;
fail:
  if (asprintf(err, "%s: %s", path, zerr ? zerr : st->db ? sqlite3_errmsg(st->db) : "out of memory") < 0)
    *err = NULL;
fail_quiet:
  sqlite3_free(zerr);
  sqlite3_close(st->db);
  free(st->path);
  free(st);
  return STORE_ERR;
}

/* "pid N, started T" from a lock file's text; "holder unknown" while it is being written. */
static void lock_holder(int fd, char *out, size_t len)
{
  char text[128];
  long long pid = 0;
  char started[64] = "";
  ssize_t n = pread(fd, text, sizeof text - 1, 0);

  text[n > 0 ? n : 0] = '\0';
  if (sscanf(text, "pid %lld started %63s", &pid, started) == 2)
    snprintf(out, len, "pid %lld, started %s", pid, started);
  else
    snprintf(out, len, "holder unknown");
}

int store_lock_writer(store *st, int64_t wait_ms, char **err)
{
  struct timespec t0, now, pause = {0, 100 * 1000 * 1000};
  char *lpath = NULL, holder[128], text[128];
  time_t wall = time(NULL);
  struct tm tm;
  int fd = -1, rc = STORE_ERR;
  size_t len;

  *err = NULL;
  if (st->lock_fd >= 0)
    return STORE_OK;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (asprintf(&lpath, "%s.lock", st->path) < 0) {
    lpath = NULL;
    goto out;
  }
  if ((fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
    if (asprintf(err, "%s: cannot open the lock file: %s", lpath, strerror(errno)) < 0)
      *err = NULL;
    goto out;
  }
  /* flock, not fcntl: an fcntl lock is dropped when any descriptor of the file closes in
   * this process, and neither survives the process. */
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int64_t waited;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      if (asprintf(err, "%s: cannot lock: %s", lpath, strerror(errno)) < 0)
        *err = NULL;
      goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    waited = (int64_t)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
    if (wait_ms >= 0 && waited >= wait_ms) {
      lock_holder(fd, holder, sizeof holder);
      if (asprintf(err, "%s: a run is already in progress (%s)%s", st->path, holder,
                   wait_ms ? "; gave up waiting" : "; --wait waits for it") < 0)
        *err = NULL;
      rc = STORE_BUSY;
      goto out;
    }
    nanosleep(&pause, NULL);
  }
  gmtime_r(&wall, &tm);
  len = (size_t)snprintf(text, sizeof text, "pid %lld started ", (long long)getpid());
  len += strftime(text + len, sizeof text - len, "%Y-%m-%dT%H:%M:%SZ\n", &tm);
  /* The text is for messages only: the lock is the flock, whatever the file says. */
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text, len, 0) != (ssize_t)len) {
    if (asprintf(err, "%s: cannot write the lock file: %s", lpath, strerror(errno)) < 0)
      *err = NULL;
    goto out;
  }
  st->lock_fd = fd;
  fd = -1;
  rc = STORE_OK;
out:
  if (fd >= 0)
    close(fd);
  free(lpath);
  return rc;
}

void store_close(store *st)
{
  size_t i;
  if (!st)
    return;
  for (i = 0; i < Q_COUNT; i++)
    sqlite3_finalize(st->stmt[i]);
  idset_free(&st->taken);
  idset_free(&st->pe_ids);
  sqlite3_close(st->db);
  /* The lock goes last: nothing of this process touches the store after it. */
  if (st->lock_fd >= 0)
    close(st->lock_fd);
  free(st->path);
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

/* A text column into a malloc'ed *(char **)out; a NULL column leaves it NULL. */
static int row_strdup(sqlite3_stmt *s, const rd *c)
{
  const char *t = (const char *)sqlite3_column_text(s, 0);
  return t && !(*(char **)c->out = strdup(t)) ? -1 : 0;
}

int store_meta_get(store *st, const char *key, char **value)
{
  int rc;
  *value = NULL;
  rc = read_row(STMT(st, Q_META_GET, P_T(key)), row_strdup, NULL, value);
  return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int store_meta_set(store *st, const char *key, const char *value)
{
  return exec_stmt(STMT(st, Q_META_SET, P_T(key), P_T(value)));
}

/* ---- connectors ---- */

int store_connector_find(store *st, const char *name, int64_t *id)
{
  return exec_id(STMT(st, Q_CONN_FIND, P_T(name)), id);
}

int store_connector_ensure(store *st, const char *name, const char *type, int64_t *id)
{
  int rc = store_connector_find(st, name, id);
  if (rc != STORE_NOTFOUND)
    return rc;
  return exec_insert(st, STMT(st, Q_CONN_INSERT, P_T(name), P_T(type)), id);
}

/* A text column that must not be NULL into the arena. */
static int row_text(sqlite3_stmt *s, const rd *c)
{
  return !(*(const char **)c->out = col_text(s, 0, c->a));
}

int store_connector_name(store *st, int64_t id, mvs_arena *a, const char **name)
{
  return read_row(STMT(st, Q_CONN_NAME, P_I(id)), row_text, a, name);
}

int store_watermark_get(store *st, int64_t connector, char **wm)
{
  int rc;
  *wm = NULL;
  rc = read_row(STMT(st, Q_WM_GET, P_I(connector)), row_strdup, NULL, wm);
  return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int store_watermark_set(store *st, int64_t connector, const char *wm)
{
  return exec_stmt(STMT(st, Q_WM_SET, P_I(connector), P_T(wm)));
}

int store_connector_list(store *st, id_list *out) { return exec_ids(S(st, Q_CONN_LIST), out); }

/* ---- connector-space objects ---- */

static int row_cs(sqlite3_stmt *s, const rd *c)
{
  cs_row *r = c->out;
  memset(r, 0, sizeof *r);
  r->id = sqlite3_column_int64(s, 0);
  r->connector = sqlite3_column_int64(s, 1);
  r->mv_id = sqlite3_column_int64(s, 2);
  r->anchor = col_text(s, 3, c->a);
  r->dn = col_text(s, 4, c->a);
  r->object_type = col_text(s, 5, c->a);
  r->link_rule = col_text(s, 6, c->a);
  r->error = col_text(s, 7, c->a);
  r->attrs = col_blob(s, 8, c->a, &r->attrs_len);
  r->import_state = sqlite3_column_int(s, 9);
  r->present = sqlite3_column_int(s, 10);
  r->link_type = sqlite3_column_int(s, 11);
  r->link_out = sqlite3_column_int(s, 12);
  r->provisioned = sqlite3_column_int(s, 13);
  r->renamed = sqlite3_column_int(s, 14);
  r->linked_at = col_text(s, 15, c->a);
  r->projected = sqlite3_column_int(s, 16);
  r->changed_attrs = (uint64_t)sqlite3_column_int64(s, 17);
  return !r->object_type;
}

/* A connector-space row as the store holds it: one whose import a full sync took reads as
 * taken before its cs_pending row is deleted. */
static int read_cs(store *st, sqlite3_stmt *s, mvs_arena *a, cs_row *row)
{
  int rc = read_row(s, row_cs, a, row);
  if (rc == STORE_OK && st->full_sync && idset_has(&st->taken, row->id)) {
    row->import_state = 0;
    row->renamed = 0;
    row->changed_attrs = 0;
  }
  return rc;
}

int store_cs_get(store *st, int64_t id, mvs_arena *a, cs_row *row)
{
  return read_cs(st, STMT(st, Q_CS_GET, P_I(id)), a, row);
}

int store_cs_by_anchor(store *st, int64_t connector, const char *anchor, mvs_arena *a, cs_row *row)
{
  return read_cs(st, STMT(st, Q_CS_BY_ANCHOR, P_I(connector), P_T(anchor)), a, row);
}

int store_cs_by_dn(store *st, int64_t connector, const char *dn_key, mvs_arena *a, cs_row *row)
{
  return read_cs(st, STMT(st, Q_CS_BY_DN, P_I(connector), P_T(dn_key)), a, row);
}

int store_cs_live_by_dn(store *st, int64_t connector, const char *dn_key, mvs_arena *a,
                        cs_row *row)
{
  return read_cs(st, STMT(st, Q_CS_LIVE_BY_DN, P_I(connector), P_T(dn_key)), a, row);
}

/* An object's import taken by a full sync: noted, its rows deleted at the end. */
static int note_taken(store *st, int64_t id)
{
  return idset_add(&st->taken, id) == 0 ? STORE_OK : STORE_ERR;
}

/* An object's import taken by a sync: noted during a full sync, else deleted now. */
static int take_import(store *st, int64_t id)
{
  return st->full_sync ? note_taken(st, id) : exec_on_id(st, Q_PENDING_CLEAR, id);
}

/* An object's pending import as cs_pending holds it (state 0: none). */
static int pending_put(store *st, int64_t id, int import_state, int renamed, uint64_t changed)
{
  if (import_state == 0)
    return exec_on_id(st, Q_PENDING_CLEAR, id);
  return exec_stmt(STMT(st, Q_PENDING_PUT, P_I(id), P_I(import_state), P_I(renamed),
                        P_I((int64_t)changed)));
}

int store_cs_insert(store *st, cs_row *r, const char *dn_key)
{
  int rc = exec_insert(
      st,
      STMT(st, Q_CS_INSERT, P_I(r->connector), P_ID(r->mv_id), P_T(r->anchor), P_T(r->dn),
           P_T(r->object_type), P_T(r->link_rule), P_T(r->error),
           P_B(r->attrs ? r->attrs : "", r->attrs_len), P_I(r->present), P_I(r->link_type),
           P_I(r->link_out), P_I(r->provisioned), P_T(dn_key)),
      &r->id);
  /* A new object: every attribute is new to its key rows. */
  return rc == STORE_OK && r->import_state ? pending_put(st, r->id, r->import_state, 0, UINT64_MAX)
                                           : rc;
}

int store_cs_update_import(store *st, const cs_row *r, const char *dn_key, bool names_changed)
{
  const void *attrs = r->attrs ? r->attrs : "";
  int rc = names_changed
               ? exec_stmt(STMT(st, Q_CS_UPDATE_IMPORT, P_I(r->id), P_T(r->anchor), P_T(r->dn),
                                P_T(dn_key), P_T(r->object_type), P_B(attrs, r->attrs_len),
                                P_I(r->present)))
               : exec_stmt(STMT(st, Q_CS_UPDATE_ATTRS, P_I(r->id), P_B(attrs, r->attrs_len),
                                P_I(r->present)));
  return rc == STORE_OK ? pending_put(st, r->id, r->import_state, r->renamed, r->changed_attrs)
                        : rc;
}

int store_cs_set_state(store *st, int64_t id, int import_state)
{
  if (import_state == 0)
    return take_import(st, id);
  return exec_stmt(STMT(st, Q_PENDING_SET_STATE, P_I(id), P_I(import_state)));
}

/* The time as NOW writes it (UTC, to the second), formatted once a second. */
static const char *now_text(store *st)
{
  time_t t = time(NULL);
  struct tm tm;
  if (t != st->now_sec && gmtime_r(&t, &tm) &&
      strftime(st->now, sizeof st->now, "%Y-%m-%dT%H:%M:%SZ", &tm))
    st->now_sec = t;
  return st->now_sec ? st->now : NULL;
}

int store_cs_set_link(store *st, int64_t id, int64_t mv_id, const char *link_rule, int link_type,
                      int link_out, int provisioned)
{
  if (!mv_id)
    st->unlinks++;   /* counted even when no row changes: a count too high only reads more */
  return exec_stmt(STMT(st, Q_CS_SET_LINK, P_I(id), P_ID(mv_id), P_T(mv_id ? link_rule : NULL),
                        P_I(mv_id ? link_type : 0), P_I(mv_id ? link_out : 0),
                        P_I(provisioned), P_T(now_text(st))));
}

int store_cs_set_join(store *st, int64_t id, int64_t mv_id, const char *link_rule, int link_type,
                      bool projected)
{
  int rc = exec_stmt(STMT(st, Q_CS_SET_JOIN, P_I(id), P_I(mv_id), P_T(link_rule),
                          P_I(link_type), P_I(projected), P_T(now_text(st))));
  return rc == STORE_OK ? take_import(st, id) : rc;
}

int store_cs_set_error(store *st, int64_t id, bool outbound, const char *error,
                       const char *rule, const char *attr)
{
  return exec_stmt(STMT(st, Q_CS_SET_ERROR, P_I(id), P_T(error), P_T(error ? rule : NULL),
                        P_T(error ? attr : NULL), P_I(outbound)));
}

int store_cs_set_dn(store *st, int64_t id, const char *dn, const char *dn_key)
{
  return exec_stmt(STMT(st, Q_CS_SET_DN, P_I(id), P_T(dn), P_T(dn_key)));
}

int store_cs_set_anchor(store *st, int64_t id, const char *anchor)
{
  return exec_stmt(STMT(st, Q_CS_SET_ANCHOR, P_I(id), P_T(anchor)));
}

int store_cs_delete(store *st, int64_t id)
{
  static const enum stmt_id steps[] = {Q_REF_DELETE_OBJ, Q_REF_DELTA_CLEAR, Q_REF_UNRESOLVE,
                                       Q_CS_KEY_DELETE, Q_PE_VALUES_DELETE, Q_PE_DELETE,
                                       Q_INFLIGHT_CLEAR, Q_PENDING_CLEAR, Q_CS_DELETE};
  return exec_on_id_all(st, steps, sizeof steps / sizeof steps[0], id);
}

int64_t store_cs_unlinks(const store *st) { return st->unlinks; }

static int row_pe_id(sqlite3_stmt *s, const rd *c)
{
  return idset_add(c->out, sqlite3_column_int64(s, 0));
}

int store_full_sync_begin(store *st)
{
  st->full_sync = true;
  return read_rows(S(st, Q_PE_IDS), row_pe_id, NULL, &st->pe_ids, false);
}

/* The rows of the taken objects, 1,024 ids (16 bitmap words) per statement: a statement's
 * journal holds the original of every page it changes, in memory (temp_store), so one
 * statement for the whole table would hold its every page at once.  A full sync at 100k
 * users per directory peaked at 70 MiB with 16,384 ids per statement, at 51 MiB with 1,024
 * (48 without the deletes). */
#define TAKEN_CHUNK_WORDS 16
static int clear_taken(store *st)
{
  size_t w, i;
  int rc = STORE_OK;
  for (w = 0; w < st->taken.words && rc == STORE_OK; w += TAKEN_CHUNK_WORDS) {
    int64_t lo = (int64_t)w * 64, hi = lo + TAKEN_CHUNK_WORDS * 64 - 1;
    bool any = false;
    for (i = w; i < w + TAKEN_CHUNK_WORDS && i < st->taken.words && !any; i++)
      any = st->taken.bits[i] != 0;
    if (any && (rc = exec_stmt(STMT(st, Q_PENDING_CLEAR_TAKEN, P_I(lo), P_I(hi)))) == STORE_OK)
      rc = exec_stmt(STMT(st, Q_REF_DELTA_CLEAR_TAKEN, P_I(lo), P_I(hi)));
  }
  return rc;
}

int store_full_sync_end(store *st, bool write)
{
  int rc = write && st->full_sync ? clear_taken(st) : STORE_OK;
  st->full_sync = false;
  idset_free(&st->taken);
  idset_free(&st->pe_ids);
  return rc;
}

int store_cs_pending(store *st, id_list *out) { return exec_ids(S(st, Q_CS_PENDING), out); }

int store_cs_page(store *st, int64_t after, size_t limit, bool joined, id_list *out)
{
  return exec_ids(STMT(st, joined ? Q_CS_PAGE_JOINED : Q_CS_PAGE, P_I(after), P_I((int64_t)limit)),
                  out);
}

int store_cs_joined(store *st, int64_t mv_id, id_list *out)
{
  return exec_ids(STMT(st, Q_CS_JOINED, P_I(mv_id)), out);
}

int store_cs_sorted(store *st, int64_t connector, id_list *out)
{
  return exec_ids(STMT(st, Q_CS_BY_ANCHOR_ORDER, P_I(connector)), out);
}

int store_cs_count(store *st, int64_t connector, int64_t *n)
{
  return exec_id(STMT(st, Q_CS_COUNT, P_I(connector)), n);
}

int store_cs_count_live(store *st, int64_t connector, int64_t *n)
{
  return exec_id(STMT(st, Q_CS_COUNT_LIVE, P_I(connector)), n);
}

int store_seen_reset(store *st) { return exec_stmt(S(st, Q_SEEN_RESET)); }

int store_seen_add(store *st, int64_t cs_id) { return exec_on_id(st, Q_SEEN_ADD, cs_id); }

int store_cs_unseen(store *st, int64_t connector, id_list *out)
{
  return exec_ids(STMT(st, Q_CS_UNSEEN, P_I(connector)), out);
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
  if (array_reserve(&r->items, &r->cap, r->n + 1, sizeof *r->items) != 0)
    return -1;
  r->items[r->n++] = *row;
  return 0;
}

/* A row of REF_COLS, or of REF_DELTA_COLS when c->flag. */
static int row_ref(sqlite3_stmt *s, const rd *c)
{
  ref_row r;
  r.attr = col_text(s, 0, c->a);
  r.target_norm = col_text(s, 1, c->a);
  r.target_key = col_text(s, 2, c->a);
  r.target_id = sqlite3_column_int64(s, 3);
  r.target_mv = sqlite3_column_int64(s, 4);
  r.op = c->flag ? sqlite3_column_int(s, 5) : 0;
  return !r.attr || !r.target_norm || !r.target_key || ref_rows_add(c->out, &r) != 0;
}

int store_ref_list(store *st, int64_t cs_id, const char *attr, mvs_arena *a, ref_rows *out)
{
  sqlite3_stmt *s = attr ? STMT(st, Q_REF_LIST_ATTR, P_I(cs_id), P_T(attr))
                         : STMT(st, Q_REF_LIST, P_I(cs_id));
  return read_rows(s, row_ref, a, out, false);
}

int store_ref_get(store *st, int64_t cs_id, const char *attr, const char *norm,
                  int64_t *target_id)
{
  return exec_id(STMT(st, Q_REF_GET, P_I(cs_id), P_T(attr), P_T(norm)), target_id);
}

int store_ref_joined_count(store *st, int64_t cs_id, const char *attr, int *n)
{
  int64_t v = 0;
  int rc = exec_id(STMT(st, Q_REF_JOINED_COUNT, P_I(cs_id), P_T(attr)), &v);
  *n = (int)v;
  return rc == STORE_ERR ? STORE_ERR : STORE_OK;
}

int store_ref_names(store *st, int64_t cs_id, const char *attr, int64_t target_id, int *names)
{
  return exec_exists(STMT(st, Q_REF_NAMES, P_I(cs_id), P_T(attr), P_I(target_id)), names);
}

int store_ref_delta_note(store *st, int64_t cs_id, const char *attr, const char *norm, int op,
                         int64_t target_id)
{
  if (exec_stmt(STMT(st, Q_REF_DELTA_CANCEL, P_I(cs_id), P_T(attr), P_T(norm), P_I(op))) !=
      STORE_OK)
    return STORE_ERR;
  if (sqlite3_changes(st->db) > 0)
    return STORE_OK;
  return exec_stmt(STMT(st, Q_REF_DELTA_INSERT, P_I(cs_id), P_T(attr), P_T(norm), P_I(op),
                        P_ID(target_id)));
}

int store_ref_delta_touch(store *st, int64_t cs_id)
{
  return exec_on_id(st, Q_REF_DELTA_TOUCH, cs_id);
}

int store_ref_delta_list(store *st, int64_t cs_id, const char *attr, mvs_arena *a,
                         ref_rows *out)
{
  if (st->full_sync && idset_has(&st->taken, cs_id))
    return STORE_OK;
  sqlite3_stmt *s = attr ? STMT(st, Q_REF_DELTA_LIST_ATTR, P_I(cs_id), P_T(attr))
                         : STMT(st, Q_REF_DELTA_LIST, P_I(cs_id));
  return read_rows(s, row_ref, a, out, true);
}

int store_ref_delta_clear(store *st, int64_t cs_id)
{
  return st->full_sync ? note_taken(st, cs_id) : exec_on_id(st, Q_REF_DELTA_CLEAR, cs_id);
}

int store_ref_insert(store *st, int64_t cs_id, const char *attr, const char *norm,
                     const char *key, int64_t target_id)
{
  return exec_stmt(
      STMT(st, Q_REF_INSERT, P_I(cs_id), P_T(attr), P_T(norm), P_T(key), P_ID(target_id)));
}

int store_ref_delete(store *st, int64_t cs_id, const char *attr, const char *norm)
{
  return exec_stmt(STMT(st, Q_REF_DELETE, P_I(cs_id), P_T(attr), P_T(norm)));
}

int store_ref_resolve(store *st, int64_t connector, const char *norm, int64_t target_id)
{
  return exec_stmt(STMT(st, Q_REF_RESOLVE, P_I(connector), P_T(norm), P_I(target_id)));
}

int store_ref_lookup(store *st, int64_t connector, const char *key, const char *norm,
                     int64_t *target_id)
{
  int rc;
  *target_id = 0;
  if ((rc = exec_id(STMT(st, Q_REF_LOOKUP_ANCHOR, P_I(connector), P_T(key)), target_id)) !=
      STORE_NOTFOUND)
    return rc;
  rc = exec_id(STMT(st, Q_REF_LOOKUP_DN, P_I(connector), P_T(norm)), target_id);
  return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int store_ref_referrer_mvs(store *st, int64_t cs_id, id_list *out)
{
  return exec_ids(STMT(st, Q_REF_REFERRER_MVS, P_I(cs_id)), out);
}

int store_ref_is_member(store *st, int64_t connector, const char *group_dn_key, int64_t cs_id,
                        int *member)
{
  return exec_exists(STMT(st, Q_REF_IS_MEMBER, P_I(connector), P_T(group_dn_key), P_I(cs_id)),
                     member);
}

/* ---- join keys ---- */

int store_cs_key_insert(store *st, int64_t connector, const char *attr, const char *norm,
                        int64_t cs_id)
{
  return exec_stmt(STMT(st, Q_CS_KEY_INSERT, P_I(connector), P_T(attr), P_T(norm), P_I(cs_id)));
}

int store_cs_key_remove(store *st, int64_t connector, const char *attr, const char *norm,
                        int64_t cs_id)
{
  return exec_stmt(STMT(st, Q_CS_KEY_REMOVE, P_I(connector), P_T(attr), P_T(norm), P_I(cs_id)));
}

int store_cs_key_find(store *st, int64_t connector, const char *attr, const char *norm,
                      id_list *out)
{
  return exec_ids(STMT(st, Q_CS_KEY_FIND, P_I(connector), P_T(attr), P_T(norm)), out);
}

int store_cs_key_taken(store *st, int64_t connector, const char *attr, const char *norm,
                       int64_t except_cs, int *taken)
{
  return exec_exists(STMT(st, Q_CS_KEY_TAKEN, P_I(connector), P_T(attr), P_T(norm),
                          P_I(except_cs)), taken);
}

int store_cs_key_clear(store *st) { return exec_stmt(S(st, Q_CS_KEY_CLEAR)); }

int store_mv_key_insert(store *st, const char *attr, const char *norm, int64_t mv_id)
{
  return exec_stmt(STMT(st, Q_MV_KEY_INSERT, P_T(attr), P_T(norm), P_I(mv_id)));
}

int store_mv_key_remove(store *st, const char *attr, const char *norm, int64_t mv_id)
{
  return exec_stmt(STMT(st, Q_MV_KEY_REMOVE, P_T(attr), P_T(norm), P_I(mv_id)));
}

int store_mv_key_find(store *st, const char *attr, const char *norm, id_list *out)
{
  return exec_ids(STMT(st, Q_MV_KEY_FIND, P_T(attr), P_T(norm)), out);
}

/* (attr, norm) into a ref_row's attr and target_norm. */
static int row_key(sqlite3_stmt *s, const rd *c)
{
  ref_row r;
  memset(&r, 0, sizeof r);
  r.attr = col_text(s, 0, c->a);
  r.target_norm = col_text(s, 1, c->a);
  return !r.attr || !r.target_norm || ref_rows_add(c->out, &r) != 0;
}

int store_cs_key_list(store *st, int64_t cs_id, mvs_arena *a, ref_rows *out)
{
  return read_rows(STMT(st, Q_CS_KEY_LIST, P_I(cs_id)), row_key, a, out, false);
}

int store_mv_key_list(store *st, int64_t mv_id, mvs_arena *a, ref_rows *out)
{
  return read_rows(STMT(st, Q_MV_KEY_LIST, P_I(mv_id)), row_key, a, out, false);
}

int store_mv_key_clear(store *st) { return exec_stmt(S(st, Q_MV_KEY_CLEAR)); }

/* ---- metaverse ---- */

static int row_mv(sqlite3_stmt *s, const rd *c)
{
  mv_row *row = c->out;
  row->id = sqlite3_column_int64(s, 0);
  row->object_type = col_text(s, 1, c->a);
  row->attrs = col_blob(s, 2, c->a, &row->attrs_len);
  return !row->object_type;
}

int store_mv_get(store *st, int64_t id, mvs_arena *a, mv_row *row)
{
  return read_row(STMT(st, Q_MV_GET, P_I(id)), row_mv, a, row);
}

int store_mv_insert(store *st, const char *object_type, const void *attrs, size_t len, int64_t *id)
{
  return exec_insert(st, STMT(st, Q_MV_INSERT, P_T(object_type), P_B(attrs ? attrs : "", len)),
                     id);
}

int store_mv_update(store *st, int64_t id, const void *attrs, size_t len)
{
  return exec_stmt(STMT(st, Q_MV_UPDATE, P_I(id), P_B(attrs ? attrs : "", len)));
}

int store_mv_delete(store *st, int64_t id)
{
  static const enum stmt_id steps[] = {Q_MV_REF_DELETE_OBJ, Q_MV_REF_DELETE_TARGET,
                                       Q_MV_KEY_DELETE, Q_MV_DELETE};
  return exec_on_id_all(st, steps, sizeof steps / sizeof steps[0], id);
}

int store_mv_page(store *st, int64_t after, size_t limit, id_list *out)
{
  return exec_ids(STMT(st, Q_MV_PAGE, P_I(after), P_I((int64_t)limit)), out);
}

int store_mv_ref_list(store *st, int64_t mv_id, const char *attr, id_list *out)
{
  return exec_ids(STMT(st, Q_MV_REF_LIST, P_I(mv_id), P_T(attr)), out);
}

/* (attr, target_mv) into a ref_row. */
static int row_mv_ref(sqlite3_stmt *s, const rd *c)
{
  ref_row r;
  memset(&r, 0, sizeof r);
  r.attr = col_text(s, 0, c->a);
  r.target_mv = sqlite3_column_int64(s, 1);
  return !r.attr || ref_rows_add(c->out, &r) != 0;
}

int store_mv_ref_all(store *st, int64_t mv_id, mvs_arena *a, ref_rows *out)
{
  return read_rows(STMT(st, Q_MV_REF_ALL, P_I(mv_id)), row_mv_ref, a, out, false);
}

int store_mv_ref_insert(store *st, int64_t mv_id, const char *attr, int64_t target)
{
  return exec_stmt(STMT(st, Q_MV_REF_INSERT, P_I(mv_id), P_T(attr), P_I(target)));
}

int store_mv_ref_delete(store *st, int64_t mv_id, const char *attr, int64_t target)
{
  return exec_stmt(STMT(st, Q_MV_REF_DELETE, P_I(mv_id), P_T(attr), P_I(target)));
}

int store_mv_ref_referrers(store *st, int64_t target, id_list *out)
{
  return exec_ids(STMT(st, Q_MV_REF_REFERRERS, P_I(target)), out);
}

int store_mv_page_type(store *st, const char *object_type, int64_t after, size_t limit,
                       id_list *out)
{
  return exec_ids(STMT(st, Q_MV_PAGE_TYPE, P_I(after), P_I((int64_t)limit), P_T(object_type)),
                  out);
}

int store_ref_unjoined_count(store *st, int64_t cs_id, const char *attr, int64_t *n)
{
  return exec_id(STMT(st, Q_REF_UNJOINED_COUNT, P_I(cs_id), P_T(attr)), n);
}

/* ---- collections ---- */

int store_collection_get(store *st, const char *name, int64_t *mv_id)
{
  return exec_id(STMT(st, Q_COLL_GET, P_T(name)), mv_id);
}

int store_collection_set(store *st, const char *name, int64_t mv_id)
{
  return exec_stmt(STMT(st, Q_COLL_SET, P_T(name), P_I(mv_id)));
}

int store_collection_name(store *st, int64_t mv_id, mvs_arena *a, const char **name)
{
  *name = NULL;
  return read_row(STMT(st, Q_COLL_NAME, P_I(mv_id)), row_text, a, name);
}

/* (mv_id, name) into a ref_row's target_mv and attr. */
static int row_collection(sqlite3_stmt *s, const rd *c)
{
  ref_row r;
  memset(&r, 0, sizeof r);
  r.target_mv = sqlite3_column_int64(s, 0);
  r.attr = col_text(s, 1, c->a);
  return !r.attr || ref_rows_add(c->out, &r) != 0;
}

int store_collection_list(store *st, mvs_arena *a, ref_rows *out)
{
  return read_rows(S(st, Q_COLL_LIST), row_collection, a, out, false);
}

int store_collection_delete(store *st, int64_t mv_id)
{
  return exec_on_id(st, Q_COLL_DELETE, mv_id);
}

int store_mv_cs_in(store *st, int64_t mv_id, int64_t connector, int64_t *cs_id)
{
  int rc;
  *cs_id = 0;
  rc = exec_id(STMT(st, Q_MV_CS_IN, P_I(mv_id), P_I(connector)), cs_id);
  return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* ---- pending exports ---- */

void pe_values_free(pe_values *v)
{
  free(v->items);
  memset(v, 0, sizeof *v);
}

static int row_pe(sqlite3_stmt *s, const rd *c)
{
  pe_row *row = c->out;
  row->cs_id = sqlite3_column_int64(s, 0);
  row->op = sqlite3_column_int(s, 1);
  row->status = sqlite3_column_int(s, 2);
  row->error_code = sqlite3_column_int(s, 3);
  row->attempts = sqlite3_column_int(s, 4);
  row->new_dn = col_text(s, 5, c->a);
  row->error = col_text(s, 6, c->a);
  return 0;
}

int store_pe_get(store *st, int64_t cs_id, mvs_arena *a, pe_row *row)
{
  if (st->full_sync && !idset_has(&st->pe_ids, cs_id))
    return STORE_NOTFOUND;
  return read_row(STMT(st, Q_PE_GET, P_I(cs_id)), row_pe, a, row);
}

static int row_pe_value(sqlite3_stmt *s, const rd *c)
{
  pe_values *out = c->out;
  pe_value_row v;
  v.attr = col_text(s, 0, c->a);
  v.mode = sqlite3_column_int(s, 1);
  v.value = col_blob(s, 2, c->a, &v.value_len);
  if (!v.attr)
    return -1;
  if (array_reserve(&out->items, &out->cap, out->n + 1, sizeof *out->items) != 0)
    return -1;
  out->items[out->n++] = v;
  return 0;
}

int store_pe_values(store *st, int64_t cs_id, mvs_arena *a, pe_values *out)
{
  if (st->full_sync && !idset_has(&st->pe_ids, cs_id))
    return STORE_OK;
  return read_rows(STMT(st, Q_PE_VALUES, P_I(cs_id)), row_pe_value, a, out, false);
}

int store_pe_put(store *st, const pe_row *row, const pe_values *vals, int64_t run_id)
{
  size_t i;
  int rc;
  /* Known to have none (a full sync's): no values to delete. */
  bool none = st->full_sync && !idset_has(&st->pe_ids, row->cs_id);
  if (st->full_sync && idset_add(&st->pe_ids, row->cs_id) != 0)
    return STORE_ERR;
  if ((rc = exec_stmt(STMT(st, Q_PE_PUT, P_I(row->cs_id), P_I(row->op), P_T(row->new_dn),
                           P_I(row->status), P_ID(row->error_code), P_T(row->error),
                           P_I(row->attempts), P_ID(run_id)))) != STORE_OK ||
      (!none && (rc = exec_on_id(st, Q_PE_VALUES_DELETE, row->cs_id))))
    return rc;
  for (i = 0; i < vals->n; i++) {
    const pe_value_row *v = &vals->items[i];
    if ((rc = exec_stmt(STMT(st, Q_PE_VALUE_INSERT, P_I(row->cs_id), P_T(v->attr),
                             P_I(v->mode), P_I((int64_t)i), P_B(v->value, v->value_len)))) !=
        STORE_OK)
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
  return exec_stmt(
      STMT(st, Q_PE_SET_STATUS, P_I(cs_id), P_I(status), P_ID(error_code), P_T(error)));
}

int store_pe_unsend(store *st, int64_t cs_id) { return exec_on_id(st, Q_PE_UNSEND, cs_id); }

/* The single-value statements, bound (cs_id, attr, mode, value). */
#define PE_VALUE(st, q, cs_id, attr, mode, value, len)                                       \
  STMT(st, q, P_I(cs_id), P_T(attr), P_I(mode), P_B(value, len))

int store_pe_value_has(store *st, int64_t cs_id, const char *attr, int mode, const void *value,
                       size_t len, int *has)
{
  return exec_exists(PE_VALUE(st, Q_PE_VALUE_FIND, cs_id, attr, mode, value, len), has);
}

int store_pe_value_taken(store *st, int64_t connector, const char *attr, const void *value,
                         size_t len, int64_t except_cs, int *taken)
{
  return exec_exists(STMT(st, Q_PE_VALUE_TAKEN, P_I(connector), P_T(attr), P_B(value, len),
                          P_I(except_cs)), taken);
}

int store_pe_value_add(store *st, int64_t cs_id, const char *attr, int mode, const void *value,
                       size_t len)
{
  return exec_stmt(PE_VALUE(st, Q_PE_VALUE_ADD, cs_id, attr, mode, value, len));
}

int store_pe_value_remove(store *st, int64_t cs_id, const char *attr, int mode,
                          const void *value, size_t len)
{
  return exec_stmt(PE_VALUE(st, Q_PE_VALUE_REMOVE, cs_id, attr, mode, value, len));
}

int store_pe_value_any(store *st, int64_t cs_id, int *any)
{
  return exec_exists(STMT(st, Q_PE_VALUE_ANY, P_I(cs_id)), any);
}

int store_pe_restage(store *st, int64_t cs_id) { return exec_on_id(st, Q_PE_RESTAGE, cs_id); }

/* A table of the dry run's own, in the main database: created inside its transaction, so the
 * rollback that ends the run removes it, and its pages go through the page cache like the
 * run's other writes (a TEMP table would be held in memory: temp_store=MEMORY). */
int store_dry_notes_begin(store *st)
{
  return exec_sql(st, "CREATE TABLE dry_run_note(cs_id INTEGER NOT NULL, attr TEXT NOT NULL, "
                      "mode INTEGER NOT NULL, rule TEXT, drift INTEGER NOT NULL, "
                      "PRIMARY KEY (cs_id, attr, mode)) WITHOUT ROWID");
}

int store_dry_note_put(store *st, int64_t cs_id, const char *attr, int mode, const char *rule,
                       bool drift)
{
  return exec_stmt(STMT(st, Q_DRY_NOTE_PUT, P_I(cs_id), P_T(attr), P_I(mode), P_T(rule),
                        P_I(drift)));
}

int store_dry_note_get(store *st, int64_t cs_id, const char *attr, int mode, mvs_arena *a,
                       const char **rule, bool *drift)
{
  sqlite3_stmt *s = STMT(st, Q_DRY_NOTE_GET, P_I(cs_id), P_T(attr), P_I(mode));
  int rc;
  *rule = NULL;
  *drift = false;
  if (!s)
    return STORE_ERR;
  if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *rule = col_text(s, 0, a);
    *drift = sqlite3_column_int(s, 1) != 0;
    if (sqlite3_column_type(s, 0) != SQLITE_NULL && !*rule)
      rc = SQLITE_NOMEM;
  }
  done(s);
  return map_rc(rc, W_ROW);
}

int store_inflight_mark(store *st, int64_t cs_id) { return exec_on_id(st, Q_INFLIGHT_MARK, cs_id); }

int store_inflight_get(store *st, int64_t cs_id, int *found)
{
  return exec_exists(STMT(st, Q_INFLIGHT_GET, P_I(cs_id)), found);
}

int store_inflight_clear(store *st, int64_t cs_id)
{
  return exec_on_id(st, Q_INFLIGHT_CLEAR, cs_id);
}

int store_pe_list(store *st, int64_t connector, bool only_pending, id_list *out)
{
  /* Q_PE_LIST_ALL has no ?1: bound NULL, unused. */
  return exec_ids(STMT(st, connector ? Q_PE_LIST : Q_PE_LIST_ALL, P_ID(connector),
                       P_I(only_pending)),
                  out);
}

static int row_destructive(sqlite3_stmt *s, const rd *c)
{
  pe_destructive *d = c->out;
  d->deletes = sqlite3_column_int64(s, 0);
  d->value_removals = sqlite3_column_int64(s, 1);
  d->objects = sqlite3_column_int64(s, 2);
  return 0;
}

int store_pe_destructive(store *st, int64_t connector, pe_destructive *out)
{
  return read_row(STMT(st, Q_PE_DESTRUCTIVE, P_I(connector)), row_destructive, NULL, out);
}

/* ---- runs ---- */

int store_run_insert(store *st, run_row *r)
{
  return exec_insert(st,
                     STMT(st, Q_RUN_INSERT, P_T(r->profile), P_T(r->connector), P_T(r->started),
                          P_I(r->duration_ms), P_I(r->adds), P_I(r->updates), P_I(r->deletes),
                          P_I(r->errors), P_I(r->skipped_refs), P_T(r->ruleset_hash),
                          P_T(r->status), P_T(r->log), P_I(r->drift)),
                     &r->id);
}

static int row_run(sqlite3_stmt *s, const rd *c)
{
  run_row *r = row_list_push(c->out);
  if (!r)
    return -1;
  r->id = sqlite3_column_int64(s, 0);
  r->profile = col_text(s, 1, c->a);
  r->connector = col_text(s, 2, c->a);
  r->started = col_text(s, 3, c->a);
  r->duration_ms = sqlite3_column_int64(s, 4);
  r->adds = sqlite3_column_int64(s, 5);
  r->updates = sqlite3_column_int64(s, 6);
  r->deletes = sqlite3_column_int64(s, 7);
  r->errors = sqlite3_column_int64(s, 8);
  r->skipped_refs = sqlite3_column_int64(s, 9);
  r->ruleset_hash = col_text(s, 10, c->a);
  r->status = col_text(s, 11, c->a);
  r->log = col_text(s, 12, c->a);
  r->drift = sqlite3_column_int64(s, 13);
  return 0;
}

int store_run_list(store *st, mvs_arena *a, run_row **rows, size_t *n)
{
  return read_list(S(st, Q_RUN_LIST), row_run, a, sizeof **rows, rows, n);
}

/* ---- status (engine/status.c) ---- */

typedef struct name_type {
  const char **name, **type;
} name_type;

static int row_name_type(sqlite3_stmt *s, const rd *c)
{
  name_type *nt = c->out;
  *nt->name = col_text(s, 0, c->a);
  *nt->type = col_text(s, 1, c->a);
  return !*nt->name || !*nt->type;
}

int store_connector_info(store *st, int64_t id, mvs_arena *a, const char **name,
                         const char **type)
{
  name_type nt = {name, type};
  return read_row(STMT(st, Q_CONN_INFO, P_I(id)), row_name_type, a, &nt);
}

int store_run_last(store *st, const char *connector, const char *profile1,
                   const char *profile2, mvs_arena *a, run_row *row)
{
  row_list acc = {NULL, 0, 0, sizeof(run_row)};
  int rc = read_row(STMT(st, Q_RUN_LAST, P_T(connector), P_T(profile1), P_T(profile2)), row_run,
                    a, &acc);
  if (rc == STORE_OK)
    *row = *(run_row *)acc.v;
  free(acc.v);
  return rc;
}

static int row_pe_count(sqlite3_stmt *s, const rd *c)
{
  pe_counts *pc = c->out;
  int op = sqlite3_column_int(s, 0);
  if (op >= 0 && op < 4)
    pc->by_op[op] = sqlite3_column_int64(s, 1);
  pc->errors += sqlite3_column_int64(s, 2);
  return 0;
}

int store_pe_counts(store *st, int64_t connector, pe_counts *out)
{
  memset(out, 0, sizeof *out);
  return read_rows(STMT(st, Q_PE_COUNTS, P_I(connector)), row_pe_count, NULL, out, false);
}

int store_mv_count(store *st, int64_t *n)
{
  return exec_id(S(st, Q_MV_COUNT), n);
}

/* ---- search ---- */

/* Bind a probe's values (?1 connector, ?2 attribute, ?3 and ?4 the value or range); a
 * statement without some of them ignores those. */
static void bind_probe(sqlite3_stmt *s, const store_probe_args *a)
{
  const char *t[3] = {a->attr, a->lo, a->hi};
  int i;
  sqlite3_bind_int64(s, 1, a->connector);
  for (i = 0; i < 3; i++)
    t[i] ? sqlite3_bind_text(s, i + 2, t[i], -1, SQLITE_STATIC) : sqlite3_bind_null(s, i + 2);
}

int store_search(store *st, store_probe p, const store_probe_args *a,
                 int (*each)(void *u, int64_t id), void *u)
{
  sqlite3_stmt *s;
  int rc, stop = 0;

  if ((unsigned)p >= PROBE_COUNT || !(s = S(st, Q_PROBE_FIRST + p)))
    return STORE_ERR;
  bind_probe(s, a);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((stop = each(u, sqlite3_column_int64(s, 0))) != 0)
      break;
  done(s);
  if (stop)
    return stop < 0 ? STORE_ERR : STORE_OK;
  return map_rc(rc, W_ROWS);
}

int store_search_plan(store *st, store_probe p, const store_probe_args *a, buf *out)
{
  sqlite3_stmt *s = NULL;
  char *sql = NULL;
  int rc = SQLITE_ERROR;

  if ((unsigned)p >= PROBE_COUNT ||
      asprintf(&sql, "EXPLAIN QUERY PLAN %s", stmt_sql[Q_PROBE_FIRST + p]) < 0)
    return STORE_ERR;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK) {
    bind_probe(s, a);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const unsigned char *d = sqlite3_column_text(s, 3);
      buf_printf(out, "%s\n", d ? (const char *)d : "");
    }
  }
  sqlite3_finalize(s);
  free(sql);
  return map_rc(rc, W_ROWS);
}

/* ---- errors (`mvsync errors`) ---- */

static int row_error(sqlite3_stmt *s, const rd *c)
{
  error_row *r = row_list_push(c->out);
  if (!r)
    return -1;
  r->export = sqlite3_column_int(s, 0) != 0;
  r->cs_id = sqlite3_column_int64(s, 1);
  r->connector = col_text(s, 2, c->a);
  r->dn = col_text(s, 3, c->a);
  r->attr = col_text(s, 4, c->a);
  r->rule = col_text(s, 5, c->a);
  r->message = col_text(s, 6, c->a);
  r->first_seen = col_text(s, 7, c->a);
  r->last_seen = col_text(s, 8, c->a);
  r->code = sqlite3_column_type(s, 9) == SQLITE_NULL ? 0 : sqlite3_column_int(s, 9);
  r->op = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 10);
  return !r->connector || !r->message;
}

int store_error_list(store *st, int64_t connector, mvs_arena *a, error_row **rows, size_t *n)
{
  return read_list(STMT(st, Q_ERROR_LIST, P_I(connector)), row_error, a, sizeof **rows, rows, n);
}

/* ---- drift records ---- */

int store_drift_add(store *st, const drift_row *d)
{
  return exec_stmt(STMT(st, Q_DRIFT_ADD, P_T(d->connector), P_T(d->object), P_T(d->object_type),
                        P_T(d->attr), P_T(d->value), P_T(d->action), P_T(d->rule)));
}

int store_records_claim(store *st, int64_t run_id)
{
  int rc = exec_stmt(STMT(st, Q_DRIFT_CLAIM, P_I(run_id)));
  return rc == STORE_OK ? exec_stmt(STMT(st, Q_WINNER_CLAIM, P_I(run_id))) : rc;
}

int store_records_drop_unclaimed(store *st)
{
  int rc = exec_stmt(S(st, Q_DRIFT_DROP));
  return rc == STORE_OK ? exec_stmt(S(st, Q_WINNER_DROP)) : rc;
}

int store_winner_change_add(store *st, const char *object_type, const char *attr,
                            const char *from_rule, const char *to_rule)
{
  return exec_stmt(STMT(st, Q_WINNER_ADD, P_T(object_type), P_T(attr), P_T(from_rule),
                        P_T(to_rule)));
}

static int row_winner(sqlite3_stmt *s, const rd *c)
{
  winner_row *w = row_list_push(c->out);
  if (!w)
    return -1;
  w->object_type = col_text(s, 0, c->a);
  w->attr = col_text(s, 1, c->a);
  w->changes = sqlite3_column_int64(s, 2);
  w->runs = sqlite3_column_int64(s, 3);
  w->last_run = sqlite3_column_int64(s, 4);
  return !w->object_type || !w->attr;
}

int store_winner_list(store *st, mvs_arena *a, winner_row **rows, size_t *n)
{
  return read_list(S(st, Q_WINNER_LIST), row_winner, a, sizeof **rows, rows, n);
}

static int row_drift(sqlite3_stmt *s, const rd *c)
{
  drift_row *d = row_list_push(c->out);
  if (!d)
    return -1;
  d->connector = col_text(s, 0, c->a);
  d->object = col_text(s, 1, c->a);
  d->object_type = col_text(s, 2, c->a);
  d->attr = col_text(s, 3, c->a);
  d->value = col_text(s, 4, c->a);
  d->action = col_text(s, 5, c->a);
  d->rule = col_text(s, 6, c->a);
  d->runs = sqlite3_column_int64(s, 7);
  d->last_run = sqlite3_column_int64(s, 8);
  d->last_started = col_text(s, 9, c->a);
  return !d->connector || !d->object || !d->attr || !d->action;
}

int store_drift_list(store *st, mvs_arena *a, drift_row **rows, size_t *n)
{
  return read_list(S(st, Q_DRIFT_LIST), row_drift, a, sizeof **rows, rows, n);
}

/* ---- schedule overrides (engine/schedule.c) ---- */

int store_override_set(store *st, const char *connector, bool full_import, bool full_sync,
                       const char *since)
{
  return exec_stmt(STMT(st, Q_OVR_SET, P_T(connector), P_I(full_import), P_I(full_sync),
                        P_T(since)));
}

static int row_override(sqlite3_stmt *s, const rd *c)
{
  override_row *r = row_list_push(c->out);
  if (!r)
    return -1;
  r->connector = col_text(s, 0, c->a);
  r->full_import = sqlite3_column_int(s, 1) != 0;
  r->full_sync = sqlite3_column_int(s, 2) != 0;
  r->since = col_text(s, 3, c->a);
  return !r->connector || !r->since;
}

int store_override_get(store *st, const char *connector, mvs_arena *a, override_row *row)
{
  row_list acc = {NULL, 0, 0, sizeof(override_row)};
  int rc = read_row(STMT(st, Q_OVR_GET, P_T(connector)), row_override, a, &acc);
  if (rc == STORE_OK)
    *row = *(override_row *)acc.v;
  free(acc.v);
  return rc;
}

int store_override_list(store *st, mvs_arena *a, override_row **rows, size_t *n)
{
  return read_list(S(st, Q_OVR_LIST), row_override, a, sizeof **rows, rows, n);
}

int store_run_last_change(store *st, const char *connector, mvs_arena *a, const char **started)
{
  *started = NULL;
  return read_row(STMT(st, Q_RUN_LAST_CHANGE, P_T(connector)), row_text, a, started);
}

int store_override_clear(store *st, const char *connector)
{
  int rc = exec_stmt(STMT(st, Q_OVR_CLEAR, P_T(connector)));
  return rc == STORE_OK && sqlite3_changes(st->db) == 0 ? STORE_NOTFOUND : rc;
}
