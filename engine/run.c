/* run — run profiles (full/delta import, full/delta sync, export), Connect's cycle, dry
 * runs, staging and run history: the engine's public API around import, sync and export.
 * Each run step is one transaction (exports: one per batch); a dry run wraps everything in
 * one transaction that is rolled back.  Memory: see run.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/schedule.h"
#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/export.h"
#include "engine/import.h"
#include "engine/sync.h"

static const char *const profile_names[] = {"full-import", "delta-import", "full-sync",
                                            "delta-sync", "export"};

static int sync_profile(mvs_engine *e, bool full)
{
  int rc = ENGINE_SYSTEM;

  if (!e->rs) {
    engine_errorf(e, "sync needs a rule set (--rules)");
    return ENGINE_INVALID;
  }
  if (engine_tx_begin(e) != STORE_OK) {
    engine_errorf(e, "cannot begin a transaction: %s", store_errmsg(e->st));
    return ENGINE_SYSTEM;
  }
  if (sync_run(e, full) != 0) {
    if (!e->errmsg[0])
      engine_errorf(e, "sync failed: %s", store_errmsg(e->st));
    engine_tx_rollback(e);
    return rc;
  }
  if (engine_tx_commit(e) != STORE_OK) {
    engine_errorf(e, "cannot commit: %s", store_errmsg(e->st));
    engine_tx_rollback(e);
    return rc;
  }
  return ENGINE_OK;
}

int engine_record_run(mvs_engine *e, const char *profile, const char *conn_name,
                      const char *started, int64_t ms, size_t log_from, int64_t *run_id)
{
  run_row row;
  bool own = !e->in_tx;
  memset(&row, 0, sizeof row);
  row.profile = profile;
  row.connector = conn_name;
  row.started = started;
  row.duration_ms = ms;
  row.adds = e->res->adds;
  row.updates = e->res->updates;
  row.deletes = e->res->deletes;
  row.errors = e->res->errors;
  row.skipped_refs = e->res->skipped_refs;
  row.drift = e->res->drift;
  row.ruleset_hash = e->rs ? e->ruleset_hash : NULL;
  row.status = e->res->status;
  row.log = e->log.p ? e->log.p + log_from : NULL;
  if (own && store_begin(e->st) != STORE_OK)
    return -1;
  if (store_run_insert(e->st, &row) != STORE_OK || store_records_claim(e->st, row.id) != STORE_OK) {
    if (own)
      store_rollback(e->st);
    return -1;
  }
  if (run_id)
    *run_id = row.id;
  return own && store_commit(e->st) != STORE_OK ? -1 : 0;
}

/* A finished step's status and code: errors make a completed run ENGINE_PARTIAL, or
 * ENGINE_ALL_FAILED when it is an export none of whose attempts the directory accepted. */
static int run_outcome(mvs_engine *e, run_profile p, int rc, run_result *r)
{
  if (e->timed_out && rc != ENGINE_OK)
    rc = ENGINE_TIMEOUT;
  if (rc == ENGINE_OK && r->errors) {
    rc = p == RUN_EXPORT && !r->adds && !r->updates && !r->deletes ? ENGINE_ALL_FAILED
                                                                    : ENGINE_PARTIAL;
    engine_errorf(e, "%s: %s%lld errors (the run log says which; failed exports stay "
                  "pending: `mvsync pending`)", e->activity,
                  rc == ENGINE_ALL_FAILED ? "every export failed, " : "completed with ",
                  (long long)r->errors);
  }
  snprintf(r->status, sizeof r->status, "%s", engine_run_status(rc));
  if (rc != ENGINE_OK && rc != ENGINE_STOPPED && rc != ENGINE_IMPORT_STOPPED &&
      rc != ENGINE_PARTIAL && rc != ENGINE_ALL_FAILED)
    engine_logf(e, "%s", e->errmsg);
  return rc;
}

/* A step's code that lets a cycle go on: its failures are per object. */
static bool cycle_goes_on(int rc)
{
  return rc == ENGINE_OK || rc == ENGINE_PARTIAL || rc == ENGINE_ALL_FAILED;
}

int engine_run(mvs_engine *e, run_profile p, const char *conn_name, const run_opts *o,
               run_result *r)
{
  conn_info *c = NULL;
  char started[32];
  time_t t = time(NULL);
  struct tm tm;
  int64_t t0 = engine_now_ms(), read0, written0, read1, written1;
  size_t log_from = e->log.len;
  int rc;

  memset(r, 0, sizeof *r);
  e->res = r;
  e->errmsg[0] = '\0';
  gmtime_r(&t, &tm);
  strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
  /* Now() in flows: the run's start, so one run evaluates one instant. */
  e->now = ((int64_t)t + INT64_C(62135596800)) * MVS_TICKS_PER_SEC;
  if (p == RUN_FULL_IMPORT || p == RUN_DELTA_IMPORT || p == RUN_EXPORT) {
    if (!e->rs || !conn_name || !(c = engine_conn(e, conn_name))) {
      engine_errorf(e, "no connector \"%s\" in the rule set", conn_name ? conn_name : "");
      return ENGINE_INVALID;
    }
  }
  /* Connect's scheduler rules: a delta step that would miss something (a changed rule set
   * or connector, a newly imported attribute, an expired watermark) runs as a full one. */
  if (p == RUN_DELTA_IMPORT || (p == RUN_DELTA_SYNC && e->rs)) {
    char why[300];
    bool due;
    rc = p == RUN_DELTA_IMPORT ? schedule_import_due(e, c, why, sizeof why, &due)
                               : schedule_sync_due(e, why, sizeof why, &due);
    if (rc != ENGINE_OK)
      return rc;
    if (due && p == RUN_DELTA_IMPORT)
      engine_logf(e, "%s: %s: running a full import", c->rc->name, why);
    else if (due)
      engine_logf(e, "%s: running a full sync", why);
    if (due)
      p = p == RUN_DELTA_IMPORT ? RUN_FULL_IMPORT : RUN_FULL_SYNC;
  }
  store_page_counts(e->st, &read0, &written0);
  snprintf(e->activity, sizeof e->activity, "%s%s%s", profile_names[p], c ? " " : "",
           c ? c->rc->name : "");
  e->import_was_full = false;
  e->progress = o->progress;
  e->progress_u = o->progress_u;
  e->progress_done = 0;
  e->progress_total = -1;
  if (engine_deadline_passed(e))
    rc = ENGINE_TIMEOUT;
  else if (p == RUN_FULL_IMPORT || p == RUN_DELTA_IMPORT)
    rc = import_run(e, c, p == RUN_FULL_IMPORT, o);
  else if (p == RUN_FULL_SYNC || p == RUN_DELTA_SYNC)
    rc = sync_profile(e, p == RUN_FULL_SYNC);
  else
    rc = export_run(e, c, o);
  if (e->progress)
    e->progress(e->progress_u, e->activity, -1, -1);
  e->progress = NULL;
  /* A dry run whose diff lost an entry has failed, whatever the step did. */
  if (e->diff && diff_flush(e) != 0 && rc != ENGINE_SYSTEM) {
    engine_errorf(e, "%s", e->diff->error);
    rc = ENGINE_SYSTEM;
  }
  /* A delta import the connector turned into a full one (a rejected watermark) is one. */
  if (p == RUN_DELTA_IMPORT && e->import_was_full)
    p = RUN_FULL_IMPORT;
  /* What the committed import read, for the next one's scheduler rules. */
  if ((p == RUN_FULL_IMPORT || p == RUN_DELTA_IMPORT) && rc == ENGINE_OK &&
      schedule_note_import(e, c, p == RUN_FULL_IMPORT) != 0) {
    engine_errorf(e, "cannot record what the import read: %s", store_errmsg(e->st));
    rc = ENGINE_SYSTEM;
  }
  /* A step's cost in the store's pages: a delta's should follow its changes, not the store. */
  store_page_counts(e->st, &read1, &written1);
  engine_logf(e, "%s: store pages: %lld read, %lld written", e->activity,
              (long long)(read1 - read0), (long long)(written1 - written0));
  rc = run_outcome(e, p, rc, r);
  if (engine_record_run(e, profile_names[p], c ? c->rc->name : NULL, started,
                        engine_now_ms() - t0, log_from, NULL) != 0 &&
      (rc == ENGINE_OK || rc == ENGINE_PARTIAL || rc == ENGINE_ALL_FAILED)) {
    engine_errorf(e, "cannot record the run: %s", store_errmsg(e->st));
    rc = ENGINE_SYSTEM;
  }
  return rc;
}

static void add_result(run_result *total, const run_result *r)
{
  total->adds += r->adds;
  total->updates += r->updates;
  total->deletes += r->deletes;
  total->errors += r->errors;
  total->skipped_refs += r->skipped_refs;
  total->drift += r->drift;
}

static bool forced_full_import(const run_opts *o, const char *name)
{
  for (size_t i = 0; i < o->n_full_imports; i++)
    if (strcmp(o->full_imports[i], name) == 0)
      return true;
  return false;
}

int engine_cycle(mvs_engine *e, bool initial, const run_opts *o, run_result *total)
{
  run_result r;
  size_t i;
  int rc, worst = ENGINE_OK;
  int64_t sent = 0, export_errors = 0;
  char why[300];
  bool full_sync = false, unused;

  memset(total, 0, sizeof *total);
  if (!e->rs) {
    engine_errorf(e, "a cycle needs a rule set (--rules)");
    return ENGINE_INVALID;
  }
  for (i = 0; i < o->n_full_imports; i++)
    if (!engine_conn(e, o->full_imports[i])) {
      engine_errorf(e, "--full-import: no connector \"%s\" in the rule set", o->full_imports[i]);
      return ENGINE_INVALID;
    }
  /* What the export steps would send is shown once, as they show it (engine/diff.h).  In
   * staging mode they send nothing: the sync's staging entries are what there is to see. */
  if (e->diff) {
    char *staging = NULL;
    if (store_meta_get(e->st, "staging", &staging) != STORE_OK)
      return ENGINE_SYSTEM;
    e->diff->writes_follow = !staging || strcmp(staging, "on") != 0;
    free(staging);
  }
  /* Connect's order: every import, then the sync, then every export. */
  for (i = 0; i < e->n_conns; i++) {
    bool forced = forced_full_import(o, e->conns[i].rc->name), overridden = false;
    bool full;
    if (!initial && !forced &&
        schedule_override_due(e, &e->conns[i], why, sizeof why, &overridden, &unused) != ENGINE_OK)
      return ENGINE_SYSTEM;
    full = initial || forced || overridden;
    if (full && !initial)
      engine_logf(e, "%s: %s", e->conns[i].rc->name,
                  forced ? "full import asked for (--full-import)" : why);
    rc = engine_run(e, full ? RUN_FULL_IMPORT : RUN_DELTA_IMPORT, e->conns[i].rc->name, o, &r);
    add_result(total, &r);
    /* An import guard stop ends the cycle here: no sync, no export acts on what is left. */
    if (!cycle_goes_on(rc))
      goto stop;
  }
  if (!initial && !o->full_sync &&
      schedule_override_due(e, NULL, why, sizeof why, &unused, &full_sync) != ENGINE_OK)
    return ENGINE_SYSTEM;
  if ((o->full_sync || full_sync) && !initial)
    engine_logf(e, "%s", o->full_sync ? "full sync asked for (--full-sync)" : why);
  full_sync = initial || o->full_sync || full_sync;
  rc = engine_run(e, full_sync ? RUN_FULL_SYNC : RUN_DELTA_SYNC, NULL, o, &r);
  add_result(total, &r);
  if (!cycle_goes_on(rc))
    goto stop;
  for (i = 0; i < e->n_conns; i++) {
    rc = engine_run(e, RUN_EXPORT, e->conns[i].rc->name, o, &r);
    add_result(total, &r);
    sent += r.adds + r.updates + r.deletes;
    export_errors += r.errors;
    /* A deletion-threshold stop holds back that connector only. */
    if (rc == ENGINE_STOPPED)
      worst = ENGINE_STOPPED;
    else if (!cycle_goes_on(rc))
      goto stop;
  }
  /* A safety stop outranks errors; a cycle none of whose exports went through is told
   * from one where some did. */
  if (worst == ENGINE_OK && total->errors) {
    worst = export_errors && !sent ? ENGINE_ALL_FAILED : ENGINE_PARTIAL;
    engine_errorf(e, "the cycle %s (%lld errors; the run log says which, `mvsync runs` "
                  "lists the runs)", worst == ENGINE_ALL_FAILED ? "sent nothing: every export "
                  "failed" : "completed with errors", (long long)total->errors);
  }
  snprintf(total->status, sizeof total->status, "%s", engine_run_status(worst));
  /* Every step ran and something of every export went through: a successful cycle
   * (`mvsync status`, the metrics' last success); it ran what the overrides asked for. */
  if (worst == ENGINE_OK || worst == ENGINE_PARTIAL) {
    if (engine_tx_begin(e) != STORE_OK || schedule_note_cycle(e) != 0 ||
        schedule_overrides_done(e) != 0 || engine_tx_commit(e) != STORE_OK) {
      engine_errorf(e, "cannot record the cycle: %s", store_errmsg(e->st));
      engine_tx_rollback(e);
      return ENGINE_SYSTEM;
    }
  }
  return worst;
stop:
  snprintf(total->status, sizeof total->status, "%s", r.status);
  return rc;
}

int engine_dry_begin(mvs_engine *e, const dry_run_opts *o)
{
  /* The memory one object's diff may take (a test forces a small one to see the run fail). */
  const char *cap = getenv("MVSYNC_DRY_RUN_MEMORY");
  diff_filter filter = {.only_writes = o->only_writes, .connector = o->connector};
  if (e->in_tx)
    return ENGINE_OK;
  if (o->connector && e->rs && !engine_conn(e, o->connector)) {
    engine_errorf(e, "--connector: no connector \"%s\" in the rule set", o->connector);
    return ENGINE_INVALID;
  }
  if (!(e->diff = calloc(1, sizeof *e->diff)) ||
      diff_open(e->diff, true, o->json, cap ? (size_t)strtoull(cap, NULL, 10) : 0) != 0) {
    engine_errorf(e, "dry run: cannot create the diff's temporary file in %s: %s",
                  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", strerror(errno));
    return ENGINE_SYSTEM;
  }
  if (diff_set_filter(e->diff, &filter) != 0 ||
      (e->rs && diff_set_contested(e->diff, e->rs) != 0)) {
    engine_errorf(e, "dry run: out of memory");
    return ENGINE_SYSTEM;
  }
  if (store_begin(e->st) != STORE_OK || store_dry_notes_begin(e->st) != STORE_OK) {
    engine_errorf(e, "cannot begin a transaction: %s", store_errmsg(e->st));
    store_rollback(e->st);
    return ENGINE_SYSTEM;
  }
  e->in_tx = true;
  return ENGINE_OK;
}

int engine_dry_end(mvs_engine *e)
{
  if (e->diff) {
    diff_free(e->diff);
    free(e->diff);
    e->diff = NULL;
  }
  if (!e->in_tx)
    return ENGINE_OK;
  e->in_tx = false;
  return engine_fail(e, store_rollback(e->st) == STORE_OK ? ENGINE_OK : ENGINE_SYSTEM,
                     "ending the dry run");
}

int engine_diff_write(mvs_engine *e, FILE *out)
{
  if (!e->diff || diff_write(e->diff, out) != 0) {
    engine_errorf(e, "%s", e->diff && e->diff->error[0] ? e->diff->error
                                                        : "dry run: cannot write the diff");
    return ENGINE_SYSTEM;
  }
  return ENGINE_OK;
}

int engine_diff_summary(mvs_engine *e, bool json, buf *out)
{
  if (!e->diff || diff_summary(e->diff, json, out) != 0)
    return engine_fail(e, ENGINE_SYSTEM, "dry run summary");
  return ENGINE_OK;
}

int engine_diff_each(mvs_engine *e, int (*fn)(void *u, const char *entry, size_t len), void *u)
{
  int rc;
  if (!e->diff)
    return -1;
  if ((rc = diff_each(e->diff, fn, u)) == -1)
    engine_errorf(e, "%s", e->diff->error[0] ? e->diff->error : "dry run: cannot read the diff");
  return rc;
}

int engine_staging_set(mvs_engine *e, bool on)
{
  return engine_fail(e, store_meta_set(e->st, "staging", on ? "on" : "off") == STORE_OK
                            ? ENGINE_OK : ENGINE_SYSTEM, "staging");
}

int engine_staging_get(mvs_engine *e, bool *on)
{
  char *v = NULL;
  if (store_meta_get(e->st, "staging", &v) != STORE_OK)
    return engine_fail(e, ENGINE_SYSTEM, "staging");
  *on = v && strcmp(v, "on") == 0;
  free(v);
  return ENGINE_OK;
}
