/* engine — the engine's public API, its engine_* entry points in one header: open a store
 * with a rule set, run profiles (full/delta import, full/delta sync, export), Connect's cycle,
 * staging, dry runs, preview, dump and inspection.  Memory: an mvs_engine owns the store, the
 * rule set and everything it compiled (engine_close); results and rendered text are malloc'd
 * or appended to the caller's buf and owned by the caller. */
#ifndef MVS_ENGINE_H
#define MVS_ENGINE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "schema/buf.h"

typedef struct mvs_engine mvs_engine;

enum {
  ENGINE_OK = 0,
  ENGINE_INVALID = 1,   /* bad rules, bad data, unknown connector or object */
  ENGINE_SYSTEM = 3,    /* store, I/O or memory failure */
  ENGINE_STOPPED = 4,   /* export safety stop: the deletion threshold */
  ENGINE_IMPORT_STOPPED = 5, /* import safety stop: a full import would lose too much */
  ENGINE_BUSY = 6,      /* another run holds the store's writer lock */
  ENGINE_PARTIAL = 7,   /* completed, but some objects or exports failed */
  ENGINE_ALL_FAILED = 8, /* every export of the run failed */
  ENGINE_TIMEOUT = 9    /* a deadline passed (a server's, or the run's --timeout) */
};
/* The ENGINE_* codes equal the CLI's exit codes (tools/cli.h, docs/cli.md). */

/* Create the store (0600), or migrate an existing one: `mvsync init`, the only way a store
 * comes to be.  On failure *err (malloc'd) says why. */
int engine_init(const char *store_path, char **err);
/* Open an existing store (migrated as needed; a missing or empty file is an error naming
 * the path).  rules_path is a .rules file or a directory of them; NULL opens the store only
 * (dump, runs, pending, show, staging).  On failure *err (malloc'd) says why. */
int engine_open(const char *store_path, const char *rules_path, mvs_engine **out, char **err);
/* Take the store's writer lock before anything that writes (runs, dry runs, preview,
 * staging on/off); readers need none.  wait_ms: 0 fails at once, < 0 waits without bound.
 * ENGINE_BUSY names the holder: "PATH: a run is already in progress (pid N, started T)".
 * Held until engine_close (or the process dies). */
int engine_lock(mvs_engine *e, int64_t wait_ms);
void engine_close(mvs_engine *e);

typedef enum run_profile {
  RUN_FULL_IMPORT = 0, RUN_DELTA_IMPORT, RUN_FULL_SYNC, RUN_DELTA_SYNC, RUN_EXPORT
} run_profile;

typedef struct run_opts {
  bool dry_run;         /* compute everything, commit nothing, collect the diff */
  bool allow_deletes;   /* export: ignore the deletion threshold this once */
  bool allow_mass_delete; /* full import: ignore the import guard this once */
  /* Progress as a step goes (the CLI's line on a terminal), or NULL: step is what runs
   * ("full-import contoso.com"), done the objects so far, total how many there will be
   * about (-1: unknown); done -1 when the step has ended.  Called once per object: the
   * callee throttles. */
  void (*progress)(void *u, const char *step, int64_t done, int64_t total);
  void *progress_u;
  /* Cycle: full steps forced this once, as Connect's Set-ADSyncSchedulerConnectorOverride
   * (--full-sync, --full-import CONNECTOR); the scheduler rules (docs/monitoring.md) add
   * the ones a change needs by themselves. */
  bool full_sync;
  const char *const *full_imports;
  size_t n_full_imports;
} run_opts;

typedef struct run_result {
  char status[40];      /* success, completed-errors, stopped-deletion-threshold,
                         * stopped-import-guard, failed */
  int64_t adds, updates, deletes, errors, skipped_refs;
  int64_t drift;        /* sync: values exported back because the directory drifted */
} run_result;

/* The whole command's deadline, from now (0: none): every run after this checks it between
 * objects and export batches, stops with ENGINE_TIMEOUT and rolls back its uncommitted step
 * when it passes; connectors get it as conn_config.deadline_ms for their own waits. */
void engine_set_timeout(mvs_engine *e, int64_t timeout_ms);
/* What the run is doing now ("full import contoso.com"): a stable buffer of the engine, for
 * a last-resort watchdog's message (readable from a signal handler). */
const char *engine_activity(mvs_engine *e);

/* Run one profile (connector: imports and exports only).  Each run is logged to stderr-free
 * run history; the run log and, for dry runs, the diff accumulate in the engine
 * (engine_log, engine_diff).  Returns ENGINE_*. */
int engine_run(mvs_engine *e, run_profile p, const char *conn_name, const run_opts *o,
               run_result *r);
/* Connect's cycle: imports of every connector, then syncs, then exports. */
int engine_cycle(mvs_engine *e, bool initial, const run_opts *o, run_result *r);

/* Begin / end a dry run around any runs: everything after begin happens in one transaction
 * that end rolls back.  The would-be changes stream to a temporary file as they are computed
 * (bounded memory), rendered as text, or as a JSON array with json; a run whose diff lost
 * anything fails (ENGINE_SYSTEM).  MVSYNC_DRY_RUN_MEMORY caps one object's diff (bytes). */
typedef struct dry_run_opts {
  bool json;            /* the diff as a JSON array (else text) */
  bool only_writes;     /* show only what would be sent (and held back) */
  const char *connector; /* show only this connector's changes (NULL: all) */
} dry_run_opts;
int engine_dry_begin(mvs_engine *e, const dry_run_opts *o);
int engine_dry_end(mvs_engine *e);
/* The changes collected since engine_dry_begin, copied to out. */
int engine_diff_write(mvs_engine *e, FILE *out);
/* What the shown changes add up to (engine/diff.h, diff_summary): text — what would be
 * written to each target connector first, then the connector spaces and the metaverse — or
 * a JSON array of {"kind", "where", "op", "objects", "values"}. */
int engine_diff_summary(mvs_engine *e, bool json, buf *out);
/* Each shown change of a JSON dry run, one JSON object per call, to fn (a report renders
 * them); fn's nonzero return stops and is returned, -1 when the diff cannot be read. */
int engine_diff_each(mvs_engine *e, int (*fn)(void *u, const char *entry, size_t len), void *u);
/* Log lines of the runs so far (notices such as "rule set changed: full sync"). */
const char *engine_log(mvs_engine *e);

int engine_staging_set(mvs_engine *e, bool on);
int engine_staging_get(mvs_engine *e, bool *on);

/* Trace one connector-space object (anchor or DN) through the rules; commit applies it. */
int engine_preview(mvs_engine *e, const char *conn_name, const char *object, bool commit,
                   bool json, buf *out);

/* Inspection. */
int engine_dump_json(mvs_engine *e, buf *out);
int engine_pending(mvs_engine *e, const char *conn_name, int format, buf *out);
enum { PENDING_TEXT = 0, PENDING_JSON, PENDING_CSV };
/* `mvsync pending --discard` (engine/discard.c, docs/safety.md): drop the unsent pending
 * exports of a connector (NULL: every connector), only its deletes, or one object's, in one
 * transaction recorded in the run history; a dry run lists them and changes nothing.  The
 * list and the counts are rendered to out (JSON with json).  ENGINE_INVALID for an unknown
 * connector or object, an object without an unsent export (or not a delete with
 * deletes_only).  Needs the writer lock. */
typedef struct discard_opts {
  const char *connector;  /* NULL: every connector */
  bool deletes_only;      /* --deletes */
  int64_t object;         /* --object ID: one connector-space object; 0: all */
  bool dry_run;
} discard_opts;
int engine_pending_discard(mvs_engine *e, const discard_opts *o, bool json, buf *out);
/* `mvsync errors`: the sync errors of connector-space objects and the exports the directory
 * refused, of one connector (NULL: all), as text or as a JSON list (docs/cli.md). */
int engine_errors(mvs_engine *e, const char *conn_name, bool json, buf *out);
/* One object as an admin reads it: its attributes (with the rule that contributed each, in
 * the metaverse) and its lineage — the connector-space objects joined to a metaverse
 * object, or the metaverse object a connector-space object is joined to — with the rule,
 * how (join, projection, outbound join, provision) and since when.  engine_show_cs names
 * the object by its anchor or DN in a connector. */
int engine_show(mvs_engine *e, bool metaverse, int64_t id, bool json, buf *out);
int engine_show_cs(mvs_engine *e, const char *conn_name, const char *object, bool json,
                   buf *out);
int engine_runs(mvs_engine *e, bool json, buf *out);
/* `mvsync search` (docs/cli.md, docs/internals/search.md): the objects of connector space
 * `space` (NULL: the metaverse) that the filter selects (NULL or "": every object), found
 * through the store's indexes where one can answer; at most limit of them (0: all), written
 * to out as they are found, as text, a JSON array or CSV.  *more: the limit cut the list.
 * explain (may be NULL): each index probe and the store's query plan for it.  A bad filter
 * is ENGINE_INVALID with engine_error "filter:1:COLUMN: error: ...". */
enum { SEARCH_TEXT = 0, SEARCH_JSON, SEARCH_CSV };
int engine_search(mvs_engine *e, const char *space, const char *filter, int format,
                  int64_t limit, FILE *out, buf *explain, bool *more);
/* One run as `runs --json` prints it (id 0: the last run); ENGINE_INVALID when there is none. */
int engine_run_json(mvs_engine *e, int64_t id, buf *out);
/* `mvsync status` (docs/monitoring.md): staging, rule-set hashes, the last run of each step,
 * pending exports, the full steps the next cycle will run and why, object counts; as text,
 * JSON or the Prometheus text format of the metrics file.  Reads only (safe beside a run).
 * *health: ENGINE_OK healthy, ENGINE_PARTIAL degraded, or, failed, the code of the worst
 * failure (ENGINE_IMPORT_STOPPED, ENGINE_STOPPED, ENGINE_ALL_FAILED, ENGINE_TIMEOUT,
 * ENGINE_SYSTEM).  Returns ENGINE_* for reading the store itself. */
enum { STATUS_TEXT = 0, STATUS_JSON, STATUS_METRICS };
int engine_status(mvs_engine *e, int format, buf *out, int *health);

/* `mvsync schedule` (docs/monitoring.md, "Overrides"): full steps asked of the next cycle,
 * as Connect's Set-ADSyncSchedulerConnectorOverride -FullImportRequired / -FullSyncRequired;
 * they stay in the store until a cycle that ran them succeeds.  override: the connector must
 * be in the rule set (ENGINE_INVALID); a second override adds its steps.  clear:
 * ENGINE_INVALID when the connector has none.  show: every override as text or JSON. */
int engine_schedule_override(mvs_engine *e, const char *conn_name, bool full_import,
                             bool full_sync);
int engine_schedule_clear(mvs_engine *e, const char *conn_name);
int engine_schedule_show(mvs_engine *e, bool json, buf *out);

/* The last error message (valid until the next call). */
const char *engine_error(mvs_engine *e);

#endif
