/* store — every SQL statement of mvsync: open and migrate the SQLite store, transactions,
 * and typed reads and writes of connectors, connector-space objects, references, join keys,
 * metaverse objects, pending exports and runs.
 * Memory: a store owns its connection and prepared statements (store_close); rows read into
 * an arena live as long as that arena; id lists are the caller's (id_list_free). */
#ifndef MVS_STORE_H
#define MVS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"

typedef struct store store;

enum { STORE_OK = 0, STORE_ERR = 1, STORE_NOTFOUND = 2, STORE_BUSY = 3 };

/* Import states and pending-export ops/modes/statuses as stored. */
enum { IMPORT_NONE = 0, IMPORT_ADD = 1, IMPORT_UPDATE = 2, IMPORT_DELETE = 3,
       IMPORT_DELETE_ADD = 4 /* the object type changed: a delete, then an add */ };
enum { PE_ADD = 0, PE_UPDATE = 1, PE_DELETE = 2, PE_RENAME = 3 };
enum { PE_REPLACE = 0, PE_VADD = 1, PE_VDELETE = 2 };
enum { PE_PENDING = 0, PE_SENT = 1 };

/* Open a store, migrating it as needed.  Only create makes one (`mvsync init`): without it
 * a missing file, an empty (0-byte) file and a database without mvsync's schema are
 * refused, so a typo never creates a store.  create makes the file 0600 whatever the umask
 * (SQLite gives its -wal and -shm files the store's mode) and tightens an existing store
 * readable by others.  *err (malloc'd) says why on failure, naming the path. */
int store_open(const char *path, bool create, store **out, char **err);
/* Close, releasing the writer lock if held. */
void store_close(store *st);
/* The page cache, in KiB.  STORE_CACHE_KIB from store_open: imports and exports look
 * objects up all over the connector space's indexes, and a cache this size keeps much of
 * them.  A sync touches each object's pages once and uses SYNC_CACHE_KIB (sync.c): fresh
 * cache memory costs more to fault in than re-reading a page (docs/internals/store.md). */
#define STORE_CACHE_KIB 65536
void store_set_cache(store *st, int kib);
/* Pages this handle has read from the file (page-cache misses) and written to it (the
 * WAL), since it was opened: a step's cost in pages is the difference across it. */
void store_page_counts(store *st, int64_t *read, int64_t *written);
/* The writer lock (docs/internals/store.md): one process runs against a store at a time;
 * readers never take it.  An flock on PATH.lock, so it dies with its holder (even
 * kill -9); the file holds the holder's pid and start time for the message.  wait_ms: 0
 * fails at once, < 0 waits without bound.  STORE_BUSY when another process holds it
 * (*err: "PATH: a run is already in progress (pid N, started T)"), STORE_ERR on an I/O
 * error; *err malloc'd on failure. */
int store_lock_writer(store *st, int64_t wait_ms, char **err);
const char *store_errmsg(store *st);
int store_schema_version(void);

int store_begin(store *st);      /* BEGIN IMMEDIATE */
/* Rows the last insert, update or delete changed (an INSERT OR IGNORE that found the row: 0). */
int store_changes(store *st);
int store_commit(store *st);
int store_rollback(store *st);

/* ---- meta ---- */
/* *value malloc'd, NULL when the key is absent. */
int store_meta_get(store *st, const char *key, char **value);
int store_meta_set(store *st, const char *key, const char *value);

/* ---- id lists ---- */
typedef struct id_list {
  int64_t *ids;
  size_t n, cap;
} id_list;
int id_list_add(id_list *l, int64_t id);
void id_list_sort_unique(id_list *l);
/* Whether a sorted list holds id. */
bool id_list_has(const id_list *l, int64_t id);
void id_list_free(id_list *l);

/* ---- connectors ---- */
int store_connector_ensure(store *st, const char *name, const char *type, int64_t *id);
/* STORE_NOTFOUND when the connector has never been imported. */
int store_connector_find(store *st, const char *name, int64_t *id);
int store_connector_name(store *st, int64_t id, mvs_arena *a, const char **name);
int store_watermark_get(store *st, int64_t connector, char **wm);   /* malloc'd or NULL */
int store_watermark_set(store *st, int64_t connector, const char *wm);
/* Every connector id, by name. */
int store_connector_list(store *st, id_list *out);

/* ---- connector-space objects ---- */
typedef struct cs_row {
  int64_t id, connector, mv_id;   /* mv_id 0: a disconnector */
  const char *anchor, *dn, *object_type, *link_rule, *error;   /* NULL when absent */
  const void *attrs;
  size_t attrs_len;
  int import_state, present, link_type, link_out, provisioned;
  int renamed;                    /* the import changed its DN since the last sync */
  const char *linked_at;          /* when it joined mv_id (UTC, ISO 8601); NULL: unknown */
  int projected;                  /* it joined by projecting mv_id (an inbound rule) */
  uint64_t changed_attrs;         /* attr_name_bit of each attribute the imports changed
                                   * since the last sync took it; every bit: not known */
} cs_row;

int store_cs_get(store *st, int64_t id, mvs_arena *a, cs_row *row);
int store_cs_by_anchor(store *st, int64_t connector, const char *anchor, mvs_arena *a, cs_row *row);
int store_cs_by_dn(store *st, int64_t connector, const char *dn_key, mvs_arena *a, cs_row *row);
/* The object with this DN the directory holds (imported, not marked deleted): a DN can also
 * name an object marked deleted or one provisioned that no import has confirmed. */
int store_cs_live_by_dn(store *st, int64_t connector, const char *dn_key, mvs_arena *a,
                        cs_row *row);
/* Insert row (id ignored) with its import state (not renamed, every attribute changed:
 * renamed and changed_attrs are not read); sets row->id. */
int store_cs_insert(store *st, cs_row *row, const char *dn_key);
/* Write the imported part: attrs, present, and anchor, dn, type when names_changed (one of
 * them differs from the stored row: an unchanged one is not written, nor its indexes); and
 * import state, renamed, changed_attrs (kept apart from the object: a sync clears them
 * without writing its row). */
int store_cs_update_import(store *st, const cs_row *row, const char *dn_key, bool names_changed);
int store_cs_set_state(store *st, int64_t id, int import_state);
int store_cs_set_link(store *st, int64_t id, int64_t mv_id, const char *link_rule, int link_type,
                      int link_out, int provisioned);
/* How many links this handle has removed (store_cs_set_link with mv_id 0): a caller that
 * compares two counts knows no joined object became a disconnector in between. */
int64_t store_cs_unlinks(const store *st);
/* A full sync's shortcuts, between begin and end (docs/internals/store.md).  An import the
 * sync takes (store_cs_set_state(IMPORT_NONE), store_cs_set_join, store_ref_delta_clear) is
 * remembered, not written: the object reads as taken (its import state none, no value
 * deltas), and end(write) deletes the rows of every taken object, a statement per 1,024
 * ids.  And which objects may have a pending export is held in memory (the store's, then
 * every store_pe_put): store_pe_get and store_pe_values answer "none" for the others, most
 * objects, without a statement.  end(false) drops what was remembered (the run failed and
 * is rolled back). */
int store_full_sync_begin(store *st);
int store_full_sync_end(store *st, bool write);
/* Joined inbound to mv_id (projected: the join created it, for lineage), its import taken
 * (import state none): store_cs_set_link, store_cs_set_state(IMPORT_NONE) in one write. */
int store_cs_set_join(store *st, int64_t id, int64_t mv_id, const char *link_rule, int link_type,
                      bool projected);
/* The object's sync error, with the rule and the attribute it concerns when known; first
 * and last seen are kept by the store (migration 4).  outbound: found by outbound
 * evaluation (else inbound).  error NULL clears an error of that side only. */
int store_cs_set_error(store *st, int64_t id, bool outbound, const char *error,
                       const char *rule, const char *attr);
/* A DN the engine gives the object (a rename staged or exported); its key rows are the
 * caller's (sync_in_dn_keys). */
int store_cs_set_dn(store *st, int64_t id, const char *dn, const char *dn_key);
int store_cs_set_anchor(store *st, int64_t id, const char *anchor);
/* Delete the object with its references, keys, pending export and in-flight mark;
 * references to it become unresolved. */
int store_cs_delete(store *st, int64_t id);
/* Ids of objects with a pending import (all connectors), by id. */
int store_cs_pending(store *st, id_list *out);
/* Ids of the objects (all connectors) with id > after, by id, at most limit; joined: only
 * those joined or marked deleted (what a full sync's first pass evaluates). */
int store_cs_page(store *st, int64_t after, size_t limit, bool joined, id_list *out);
/* Ids of the objects joined to a metaverse object, by id. */
int store_cs_joined(store *st, int64_t mv_id, id_list *out);
int store_cs_count(store *st, int64_t connector, int64_t *n);
/* Objects of a connector the directory holds: imported and not marked deleted. */
int store_cs_count_live(store *st, int64_t connector, int64_t *n);
/* Every object of a connector by anchor (objects without one last, by DN). */
int store_cs_sorted(store *st, int64_t connector, id_list *out);

/* Full import: remember which objects were seen; mark the rest (confirmed ones) deleted. */
int store_seen_reset(store *st);
int store_seen_add(store *st, int64_t cs_id);
int store_cs_mark_unseen(store *st, int64_t connector, int64_t *marked);
/* The objects store_cs_mark_unseen would mark (a dry run lists them). */
int store_cs_unseen(store *st, int64_t connector, id_list *out);

/* ---- references ---- */
typedef struct ref_row {
  const char *attr, *target_norm, *target_key;
  int64_t target_id;        /* 0: unresolved */
  int64_t target_mv;        /* the target's metaverse object (0: none) */
  int op;                   /* value deltas: REF_ADDED or REF_REMOVED; 0 for values */
} ref_row;
enum { REF_ADDED = 1, REF_REMOVED = 2 };
typedef struct ref_rows {
  ref_row *items;
  size_t n, cap;
} ref_rows;
void ref_rows_free(ref_rows *r);
/* Every reference value of an object (attr NULL) or of one attribute, by attr and key. */
int store_ref_list(store *st, int64_t cs_id, const char *attr, mvs_arena *a, ref_rows *out);
int store_ref_insert(store *st, int64_t cs_id, const char *attr, const char *norm,
                     const char *key, int64_t target_id);
int store_ref_delete(store *st, int64_t cs_id, const char *attr, const char *norm);
/* Resolve unresolved references of a connector whose key is norm to target_id. */
int store_ref_resolve(store *st, int64_t connector, const char *norm, int64_t target_id);
/* The object a reference key names in a connector: by anchor, else by DN; 0 when none. */
int store_ref_lookup(store *st, int64_t connector, const char *key, const char *norm,
                     int64_t *target_id);
/* The value norm of an object's attribute: STORE_NOTFOUND when absent, else its target
 * (0: unresolved). */
int store_ref_get(store *st, int64_t cs_id, const char *attr, const char *norm,
                  int64_t *target_id);
/* How many values of attr name a joined object, counting up to 2 (none / one / several). */
int store_ref_joined_count(store *st, int64_t cs_id, const char *attr, int *n);
/* How many values of attr name no joined object (unresolved, or a disconnector). */
int store_ref_unjoined_count(store *st, int64_t cs_id, const char *attr, int64_t *n);
/* 1 when some value of attr still names target_id. */
int store_ref_names(store *st, int64_t cs_id, const char *attr, int64_t target_id, int *names);

/* Value deltas since the last sync (cs_ref_delta): note one (an opposite pending delta of
 * the same value cancels out), note every current value as added (the object's DN changed:
 * what its values mean to ISMEMBEROF changed), list them (attr NULL: all; target_mv is the
 * target's current metaverse object), forget them once synced. */
int store_ref_delta_note(store *st, int64_t cs_id, const char *attr, const char *norm, int op,
                         int64_t target_id);
int store_ref_delta_touch(store *st, int64_t cs_id);
int store_ref_delta_list(store *st, int64_t cs_id, const char *attr, mvs_arena *a,
                         ref_rows *out);
int store_ref_delta_clear(store *st, int64_t cs_id);
/* Metaverse objects joined to objects that reference cs_id, appended to out (a work list,
 * made unique when taken: a DISTINCT here would build a temporary table per call, 10 % of a
 * full sync). */
int store_ref_referrer_mvs(store *st, int64_t cs_id, id_list *out);
/* 1 when cs_id is a value of a reference attribute of the group with that DN. */
int store_ref_is_member(store *st, int64_t connector, const char *group_dn_key, int64_t cs_id,
                        int *member);

/* ---- join keys ---- */
int store_cs_key_insert(store *st, int64_t connector, const char *attr, const char *norm,
                        int64_t cs_id);
int store_cs_key_remove(store *st, int64_t connector, const char *attr, const char *norm,
                        int64_t cs_id);
/* A connector-space object's key values: attr, and the folded value in target_norm, in
 * (attr, norm) byte order. */
int store_cs_key_list(store *st, int64_t cs_id, mvs_arena *a, ref_rows *out);
/* Disconnectors (unjoined objects) of a connector with that key value. */
int store_cs_key_find(store *st, int64_t connector, const char *attr, const char *norm,
                      id_list *out);
/* Whether an object of the connector other than except_cs holds the value (any object,
 * joined or not: SelectUniqueValue). */
int store_cs_key_taken(store *st, int64_t connector, const char *attr, const char *norm,
                       int64_t except_cs, int *taken);
int store_cs_key_clear(store *st);
int store_mv_key_insert(store *st, const char *attr, const char *norm, int64_t mv_id);
int store_mv_key_remove(store *st, const char *attr, const char *norm, int64_t mv_id);
int store_mv_key_find(store *st, const char *attr, const char *norm, id_list *out);
int store_mv_key_clear(store *st);
/* A metaverse object's key values: attr, and the folded value in target_norm, in (attr,
 * norm) byte order. */
int store_mv_key_list(store *st, int64_t mv_id, mvs_arena *a, ref_rows *out);

/* ---- metaverse ---- */
typedef struct mv_row {
  int64_t id;
  const char *object_type;
  const void *attrs;
  size_t attrs_len;
} mv_row;
int store_mv_get(store *st, int64_t id, mvs_arena *a, mv_row *row);
int store_mv_insert(store *st, const char *object_type, const void *attrs, size_t len, int64_t *id);
int store_mv_update(store *st, int64_t id, const void *attrs, size_t len);
/* Delete with its references and keys (references to it are deleted too). */
int store_mv_delete(store *st, int64_t id);
int store_mv_page(store *st, int64_t after, size_t limit, id_list *out);
/* Reference values of a metaverse object's attribute, by target id. */
int store_mv_ref_list(store *st, int64_t mv_id, const char *attr, id_list *out);
/* Every (attr, target) of a metaverse object, by attr then target. */
int store_mv_ref_all(store *st, int64_t mv_id, mvs_arena *a, ref_rows *out);
int store_mv_ref_insert(store *st, int64_t mv_id, const char *attr, int64_t target);
int store_mv_ref_delete(store *st, int64_t mv_id, const char *attr, int64_t target);
/* Metaverse objects with a reference row naming target, appended (repeats too: see
 * store_ref_referrer_mvs). */
int store_mv_ref_referrers(store *st, int64_t target, id_list *out);
/* Ids of the metaverse objects of one type with id > after, by id, at most limit. */
int store_mv_page_type(store *st, const char *object_type, int64_t after, size_t limit,
                       id_list *out);
/* The object joined to mv_id in a connector (the first by id); 0 when none. */
int store_mv_cs_in(store *st, int64_t mv_id, int64_t connector, int64_t *cs_id);

/* ---- collections: the metaverse object each rule-set collection maintains ---- */
/* STORE_NOTFOUND when the collection has no object yet. */
int store_collection_get(store *st, const char *name, int64_t *mv_id);
int store_collection_set(store *st, const char *name, int64_t mv_id);
/* The collection a metaverse object stands for: STORE_NOTFOUND when it is none. */
int store_collection_name(store *st, int64_t mv_id, mvs_arena *a, const char **name);
/* Every collection object: name in attr, metaverse object in target_mv, by name. */
int store_collection_list(store *st, mvs_arena *a, ref_rows *out);
int store_collection_delete(store *st, int64_t mv_id);

/* ---- pending exports ---- */
typedef struct pe_row {
  int64_t cs_id;
  int op, status, error_code, attempts;
  const char *new_dn, *error;
} pe_row;
typedef struct pe_value_row {
  const char *attr;
  int mode;
  const void *value;   /* encoded single value; NULL: clear */
  size_t value_len;
} pe_value_row;
typedef struct pe_values {
  pe_value_row *items;
  size_t n, cap;
} pe_values;
void pe_values_free(pe_values *v);
int store_pe_get(store *st, int64_t cs_id, mvs_arena *a, pe_row *row);
/* Values by attr, mode, then order of insertion. */
int store_pe_values(store *st, int64_t cs_id, mvs_arena *a, pe_values *out);
/* Replace the pending export of cs_id (values included). */
int store_pe_put(store *st, const pe_row *row, const pe_values *vals, int64_t run_id);
int store_pe_delete(store *st, int64_t cs_id);
int store_pe_set_status(store *st, int64_t cs_id, int status, int error_code, const char *error);
/* A confirming import saw the object: a sent export goes back to pending until sync. */
int store_pe_unsend(store *st, int64_t cs_id);
/* One value row of a pending export (a delta sync edits a large member list in place):
 * is it there, add it, remove it; does the export have any value rows left. */
int store_pe_value_has(store *st, int64_t cs_id, const char *attr, int mode, const void *value,
                       size_t len, int *has);
/* Whether an object of the connector other than except_cs has a pending add or replace of
 * this (encoded) value of attr (SelectUniqueValue: pending adds count as taken). */
int store_pe_value_taken(store *st, int64_t connector, const char *attr, const void *value,
                         size_t len, int64_t except_cs, int *taken);
int store_pe_value_add(store *st, int64_t cs_id, const char *attr, int mode, const void *value,
                       size_t len);
int store_pe_value_remove(store *st, int64_t cs_id, const char *attr, int mode,
                          const void *value, size_t len);
int store_pe_value_any(store *st, int64_t cs_id, int *any);
/* The export changed: pending again, its last error and attempts forgotten (as a new one). */
int store_pe_restage(store *st, int64_t cs_id);
/* Pending exports of a connector (0: all) in send order: adds, updates and renames, deletes;
 * status PE_PENDING only when only_pending. */
int store_pe_list(store *st, int64_t connector, bool only_pending, id_list *out);
/* What a connector's exports still to send would destroy: object deletes (deprovisions
 * included), value removals (a value deleted or an attribute cleared), and the objects
 * either touches. */
typedef struct pe_destructive {
  int64_t deletes, value_removals, objects;
} pe_destructive;
int store_pe_destructive(store *st, int64_t connector, pe_destructive *out);

/* In-flight creates: marked (committed) before an add is sent, cleared once its result is
 * recorded as done; a marked add may exist already (a crash or deadline lost its answer). */
int store_inflight_mark(store *st, int64_t cs_id);
int store_inflight_get(store *st, int64_t cs_id, int *found);
int store_inflight_clear(store *st, int64_t cs_id);

/* A dry run's notes on the exports its sync staged — the rule that decided each attribute's
 * values and whether they revert drift — read back when its export step shows what it would
 * send.  begin creates the table inside the dry run's transaction (its rollback drops it);
 * mode is the pending_export_value mode.  get: STORE_NOTFOUND when nothing was noted; *rule
 * (NULL when none) lives in a. */
int store_dry_notes_begin(store *st);
int store_dry_note_put(store *st, int64_t cs_id, const char *attr, int mode, const char *rule,
                       bool drift);
int store_dry_note_get(store *st, int64_t cs_id, const char *attr, int mode, mvs_arena *a,
                       const char **rule, bool *drift);

/* ---- runs ---- */
typedef struct run_row {
  int64_t id;
  const char *profile, *connector, *started, *ruleset_hash, *status, *log;
  int64_t duration_ms, adds, updates, deletes, errors, skipped_refs, drift;
} run_row;
int store_run_insert(store *st, run_row *row);
/* Runs, oldest first; *rows malloc'd (strings in the arena). */
int store_run_list(store *st, mvs_arena *a, run_row **rows, size_t *n);

/* ---- drift records (docs/internals/sync.md, "Drift") ---- */
/* One value a sync put back in a directory; read back grouped: runs is how many runs found
 * it, last_run / last_started the latest. */
typedef struct drift_row {
  const char *connector, *object, *object_type, *attr, *value, *action, *rule;
  int64_t runs, last_run;
  const char *last_started;
} drift_row;
int store_drift_add(store *st, const drift_row *d);
/* The drift and winner-change records no run claimed yet belong to run_id (the run being
 * recorded). */
int store_records_claim(store *st, int64_t run_id);
/* Drop the records no run claimed (a committed preview is no run: nothing may later claim
 * what it found). */
int store_records_drop_unclaimed(store *st);
/* A metaverse object's attribute changed the rule that contributes it (a split attribute's
 * winner changed). */
int store_winner_change_add(store *st, const char *object_type, const char *attr,
                            const char *from_rule, const char *to_rule);
/* Winner changes per metaverse object type and attribute (strings in the arena). */
typedef struct winner_row {
  const char *object_type, *attr;
  int64_t changes, runs, last_run;
} winner_row;
/* Every (object type, attribute) with claimed winner changes; *rows malloc'd (free it). */
int store_winner_list(store *st, mvs_arena *a, winner_row **rows, size_t *n);
/* Every record grouped by connector, object, attribute, value and action; *rows malloc'd,
 * strings in the arena. */
int store_drift_list(store *st, mvs_arena *a, drift_row **rows, size_t *n);
/* When the last export to connector changed anything (NULL: never); STORE_NOTFOUND then. */
int store_run_last_change(store *st, const char *connector, mvs_arena *a, const char **started);

/* ---- status and metrics (engine/status.c) ---- */
/* A connector's name and type (in the arena). */
int store_connector_info(store *st, int64_t id, mvs_arena *a, const char **name,
                         const char **type);
/* The last run of a connector (NULL: runs without one, the syncs) whose profile is profile1
 * or profile2 (a kind's full and delta profiles; the same twice for one); strings in the
 * arena; STORE_NOTFOUND when there is none. */
int store_run_last(store *st, const char *connector, const char *profile1,
                   const char *profile2, mvs_arena *a, run_row *row);
/* A connector's exports still to send (not those sent and waiting for a confirming import),
 * by op (PE_ADD .. PE_RENAME), and how many of them the directory refused last time. */
typedef struct pe_counts {
  int64_t by_op[4], errors;
} pe_counts;
int store_pe_counts(store *st, int64_t connector, pe_counts *out);
int store_mv_count(store *st, int64_t *n);

/* ---- search (engine/search.c): the objects an index finds ---- */
/* Each probe is one indexed statement; the connector-space ones are of one connector.
 * RANGE probes take lo <= value < hi (byte order). */
typedef enum store_probe {
  PROBE_CS_ALL,             /* every object of the connector */
  PROBE_CS_ANCHOR,          /* anchor = lo */
  PROBE_CS_DN,              /* dn_key = lo (folded) */
  PROBE_CS_DN_RANGE,
  PROBE_CS_TYPE,            /* object_type = lo */
  PROBE_CS_KEY,             /* join key attr = lo (folded), and objects with a pending import */
  PROBE_CS_KEY_RANGE,
  PROBE_CS_JOINED, PROBE_CS_DISCONNECTOR, PROBE_CS_PENDING_IMPORT, PROBE_CS_PENDING_EXPORT,
  PROBE_CS_ERROR,           /* a sync error, or an export error (an object may come twice) */
  PROBE_MV_ALL, PROBE_MV_TYPE, PROBE_MV_KEY, PROBE_MV_KEY_RANGE,
  PROBE_COUNT
} store_probe;
typedef struct store_probe_args {
  int64_t connector;
  const char *attr, *lo, *hi;
} store_probe_args;
/* Hand each object id the probe finds to each() until it returns nonzero (> 0: stop, < 0:
 * fail); ids may repeat.  each() may use the store, but not store_search. */
int store_search(store *st, store_probe p, const store_probe_args *a,
                 int (*each)(void *u, int64_t id), void *u);
/* The probe's EXPLAIN QUERY PLAN, one detail line each, appended to out. */
int store_search_plan(store *st, store_probe p, const store_probe_args *a, buf *out);
/* ---- errors (`mvsync errors`) ---- */
/* One error: an object's sync error, or an export the directory refused.  Strings in the
 * arena; attr, rule, dn, first_seen, last_seen NULL when not known. */
typedef struct error_row {
  bool export;          /* an export error (else a sync error) */
  int64_t cs_id;
  const char *connector, *dn, *attr, *rule, *message, *first_seen, *last_seen;
  int code;             /* export: the directory's code (0: none) */
  int op;               /* export: PE_ADD .. PE_RENAME; -1 for a sync error */
} error_row;
/* Every error of a connector (0: all), sync errors before export errors, by connector and
 * DN; *rows malloc'd (free it). */
int store_error_list(store *st, int64_t connector, mvs_arena *a, error_row **rows, size_t *n);
/* ---- schedule overrides (engine/schedule.c; `mvsync schedule`) ---- */
/* The full steps asked of the next cycle for a connector (strings in the arena). */
typedef struct override_row {
  const char *connector, *since;
  bool full_import, full_sync;
} override_row;
/* Ask for full_import / full_sync, in addition to what the connector's override holds. */
int store_override_set(store *st, const char *connector, bool full_import, bool full_sync,
                       const char *since);
/* STORE_NOTFOUND when the connector has none. */
int store_override_get(store *st, const char *connector, mvs_arena *a, override_row *row);
/* Every override, by connector name; *rows malloc'd (strings in the arena). */
int store_override_list(store *st, mvs_arena *a, override_row **rows, size_t *n);
/* STORE_NOTFOUND when the connector had none. */
int store_override_clear(store *st, const char *connector);

#endif
