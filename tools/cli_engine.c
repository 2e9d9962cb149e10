/* cli_engine — the engine's commands: init, import, sync, export, cycle, staging, preview,
 * show, runs, status, dump (pending: cli_pending.c).  Global options --store PATH (default
 * $MVSYNC_STORE or ./mvsync.db) and --rules PATH (default $MVSYNC_RULES or ./rules) may appear anywhere.
 * Commands that write take the store's writer lock (--wait waits for it); runs have a
 * deadline (--timeout) with a last-resort watchdog thread.
 * Memory: the engine and every buffer are freed before returning. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/store.h"
#include "tools/cli.h"
#include "tools/cli_log.h"
#include "tools/cli_opt.h"
#include "tools/cli_progress.h"
#include "schema/json_str.h"

typedef struct engine_args {
  const char *cmd;
  const char *store, *rules;
  const char *pos[3];   /* positional arguments */
  int n_pos;
  bool full, delta, initial, dry_run, json, commit, allow_deletes, allow_mass_delete;
  bool full_sync;       /* cycle --full-sync */
  bool only_writes;     /* --dry-run --only-writes */
  const char *connector; /* --dry-run --connector NAME */
  const char *const *full_imports; /* cycle --full-import CONNECTOR, repeated */
  size_t n_full_imports;
  const char *metrics;  /* --metrics PATH (default $MVSYNC_METRICS): the metrics file */
  int64_t wait_ms;      /* --wait[=SECONDS]: 0 fails at once when busy, < 0 waits unbounded */
  int64_t timeout_ms;   /* --timeout DURATION: the run's deadline (0: none) */
  bool wait_given, timeout_given, metrics_given;
} engine_args;

/* A scheduled cycle runs every 30 minutes or so; a run still going after 2 hours is stuck
 * (docs/cli.md). */
#define DEFAULT_TIMEOUT_MS (2 * 3600 * INT64_C(1000))
/* How long past its deadline a run blocked where the engine cannot check (inside a
 * connector call) may go on before the watchdog ends the process: a minute, or the
 * timeout itself when that is shorter. */
#define WATCHDOG_GRACE_MS (60 * INT64_C(1000))

static int64_t watchdog_grace(int64_t timeout_ms)
{
  return timeout_ms < WATCHDOG_GRACE_MS ? timeout_ms : WATCHDOG_GRACE_MS;
}

/* The options the runs share. */
#define OPT_DRY_RUN                                                                         \
  {"dry-run", CLI_NO_ARG, NULL,                                                            \
   "Run in one transaction, print a summary (first what would be written to each target "  \
   "connector) and the would-be changes attribute by attribute (each write once, with the " \
   "rule that decided each value), then roll back: nothing is committed and nothing is "   \
   "sent.", 0, 0}
#define OPT_DRY_FILTERS                                                                     \
  {"only-writes", CLI_NO_ARG, NULL,                                                        \
   "With --dry-run: list only what would be written (and what the deletion threshold "     \
   "would hold back).", 0, 0},                                                             \
  {"connector", CLI_ARG, "NAME", "With --dry-run: list only that connector's changes.", 0, 0}
#define OPT_RUN_JSON                                                                        \
  {"json", CLI_NO_ARG, NULL,                                                               \
   "The result as one JSON object (run, status, dry_run, adds, updates, deletes, errors, " \
   "skipped_refs, drift, log, and with --dry-run summary and changes).", 0, 0}
#define OPT_TIMEOUT                                                                         \
  {"timeout", CLI_ARG, "DURATION",                                                         \
   "The run's deadline from when it holds the lock: seconds, or with units s, m, h, d "    \
   "(90, 30m, 1h30m); default 2h, 0 for none. Past it the run stops with exit 9; the step " \
   "in progress is rolled back.", 0, 0}
#define OPT_WAIT CLI_OPT_WAIT
#define OPT_METRICS                                                                         \
  {"metrics", CLI_ARG, "PATH",                                                             \
   "After the run, write the metrics file to PATH (default $MVSYNC_METRICS; see mvsync "   \
   "status).", 0, 0}
#define OPT_END {NULL, 0, NULL, NULL, 0, 0}

static const cli_opt init_opts[] = {
  {"json", CLI_NO_ARG, NULL, "The result as JSON: store, schema_version.", 0, 0}, OPT_END};
static const cli_opt import_opts[] = {
  {"full", CLI_NO_ARG, NULL, "A full import: objects not seen are marked deleted.", 1, 0},
  {"delta", CLI_NO_ARG, NULL, "A delta import (the default).", 1, 0},
  {"allow-mass-delete", CLI_NO_ARG, NULL, "Let a full import past the import guard, once.", 0, 0},
  OPT_DRY_RUN, OPT_DRY_FILTERS, OPT_RUN_JSON, OPT_TIMEOUT, OPT_WAIT, OPT_METRICS, OPT_END};
static const cli_opt sync_opts[] = {
  {"full", CLI_NO_ARG, NULL, "Every object (a full sync).", 1, 0},
  {"delta", CLI_NO_ARG, NULL, "The objects changed since the last sync (the default).", 1, 0},
  OPT_DRY_RUN, OPT_DRY_FILTERS, OPT_RUN_JSON, OPT_TIMEOUT, OPT_WAIT, OPT_METRICS, OPT_END};
static const cli_opt export_opts[] = {
  {"allow-deletes", CLI_NO_ARG, NULL, "Override the deletion threshold, once.", 0, 0},
  OPT_DRY_RUN, OPT_DRY_FILTERS, OPT_RUN_JSON, OPT_TIMEOUT, OPT_WAIT, OPT_METRICS, OPT_END};
static const cli_opt cycle_opts[] = {
  {"initial", CLI_NO_ARG, NULL, "Full imports and a full sync.", 1, 0},
  {"delta", CLI_NO_ARG, NULL, "Delta imports and a delta sync (the default).", 1, 0},
  OPT_DRY_RUN, OPT_DRY_FILTERS, OPT_RUN_JSON,
  {"allow-deletes", CLI_NO_ARG, NULL, "Let every export past the deletion threshold, once.", 0, 0},
  {"allow-mass-delete", CLI_NO_ARG, NULL, "Let every full import past the import guard, once.",
   0, 0},
  {"full-sync", CLI_NO_ARG, NULL, "A full sync instead of a delta one.", 0, 0},
  {"full-import", CLI_ARG, "CONNECTOR",
   "A full import of CONNECTOR instead of a delta one; repeat it for several. A delta cycle "
   "already runs a full import where one is due (a connector's block, imported attributes or "
   "types changed, or its watermark too old) and says why; mvsync status shows which are due.",
   0, CLI_REPEAT},
  OPT_TIMEOUT, OPT_WAIT, OPT_METRICS, OPT_END};
static const cli_opt staging_opts[] = {
  {"json", CLI_NO_ARG, NULL, "The mode as JSON: staging (true or false).", 0, 0},
  OPT_WAIT, OPT_END};
static const cli_opt preview_opts[] = {
  {"commit", CLI_NO_ARG, NULL, "Keep what the preview computed.", 0, 0},
  {"json", CLI_NO_ARG, NULL, "The trace as JSON.", 0, 0}, OPT_WAIT, OPT_END};
static const cli_opt show_opts[] = {
  {"json", CLI_NO_ARG, NULL, "The object as JSON.", 0, 0}, OPT_END};
static const cli_opt runs_opts[] = {
  {"json", CLI_NO_ARG, NULL, "A JSON array, with skipped_refs too.", 0, 0}, OPT_END};
static const cli_opt status_opts[] = {
  {"json", CLI_NO_ARG, NULL, "The report as JSON.", 0, 0},
  {"metrics", CLI_ARG, "PATH",
   "Also write the metrics file (the Prometheus text format, for node_exporter's textfile "
   "collector) to PATH, atomically. The runs write it too when given --metrics or "
   "$MVSYNC_METRICS.", 0, 0},
  OPT_END};
static const cli_opt dump_opts[] = {
  {"json", CLI_NO_ARG, NULL, "Required: the dump is JSON.", 0, 0}, OPT_END};

static int engine_verb(const cli_args *ca);

const cli_verb cli_init_verb = {"init", "create or migrate the store", "", 0, 0, CLI_STORE,
                                init_opts, NULL, engine_verb, NULL};
const cli_verb cli_import_verb = {"import", "import one connector into its connector space",
                                  "CONNECTOR", 1, 1, CLI_STORE, import_opts, NULL, engine_verb,
                                  NULL};
const cli_verb cli_sync_verb = {"sync", "synchronize: the metaverse and the pending exports", "",
                                0, 0, CLI_STORE, sync_opts, NULL, engine_verb, NULL};
const cli_verb cli_export_verb = {"export", "send one connector's pending exports", "CONNECTOR",
                                  1, 1, CLI_STORE, export_opts, NULL, engine_verb, NULL};
const cli_verb cli_cycle_verb = {
  "cycle", "run every import, the sync and every export (a delta cycle unless --initial)", "",
  0, 0, CLI_STORE, cycle_opts, NULL, engine_verb, NULL};
const cli_verb cli_staging_verb = {"staging", "show or set staging mode: keep exports, never send them",
                                   "[on|off]", 0, 1, CLI_STORE, staging_opts, NULL, engine_verb,
                                   NULL};
const cli_verb cli_preview_verb = {
  "preview", "trace one object through the rules", "CONNECTOR OBJECT", 2, 2, CLI_STORE,
  preview_opts, "OBJECT is the object's anchor or DN in CONNECTOR's connector space.",
  engine_verb, NULL};
const cli_verb cli_show_verb = {
  "show", "one connector-space or metaverse object", "cs|mv ID", 2, 3, CLI_STORE, show_opts,
  "Or cs CONNECTOR DN|ANCHOR: a connector's object by its DN (any case) or anchor.",
  engine_verb, NULL};
const cli_verb cli_runs_verb = {"runs", "the run history", "", 0, 0, CLI_STORE, runs_opts, NULL,
                                engine_verb, NULL};
const cli_verb cli_status_verb = {
  "status", "health, last runs, pending exports, due full steps", "", 0, 0, CLI_STORE,
  status_opts, "Exits 0 when healthy, 7 when degraded, else the failure's code.", engine_verb,
  NULL};
const cli_verb cli_dump_verb = {"dump", "the whole store as JSON (for tests)", "", 0, 0, CLI_STORE,
                                dump_opts, NULL, engine_verb, NULL};

static int usage_error(const cli_args *ca, const char *msg, const char *arg)
{
  return cli_usage_error(ca, "%s%s%s", msg, arg ? " " : "", arg ? arg : "");
}

int64_t cli_parse_duration(const char *s)
{
  int64_t total = 0;
  if (!*s)
    return -1;
  while (*s) {
    char *end;
    long long n;
    int64_t unit;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (end == s || n < 0 || errno || n > 100LL * 365 * 86400)
      return -1;
    switch (*end) {
    case '\0': case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 86400 * 1000; break;
    default: return -1;
    }
    total += n * unit;
    s = *end ? end + 1 : end;
  }
  return total;
}

/* Whether the verb's table has option name (each verb's options are its own). */
static bool takes(const cli_args *ca, const char *name)
{
  const cli_opt *o;
  for (o = ca->verb->opts; o && o->name; o++)
    if (strcmp(o->name, name) == 0)
      return true;
  return false;
}

static bool given(const cli_args *ca, const char *name)
{
  return takes(ca, name) && cli_flag(ca, name);
}

static int parse_args(const cli_args *ca, engine_args *a)
{
  int v_rc;
  int i;

  memset(a, 0, sizeof *a);
  a->cmd = ca->verb->name;
  a->store = ca->store;
  a->rules = ca->rules;
  a->full = given(ca, "full");
  a->delta = given(ca, "delta");
  a->initial = given(ca, "initial");
  a->dry_run = given(ca, "dry-run");
  a->json = given(ca, "json");
  a->commit = given(ca, "commit");
  a->allow_deletes = given(ca, "allow-deletes");
  a->allow_mass_delete = given(ca, "allow-mass-delete");
  a->full_sync = given(ca, "full-sync");
  a->only_writes = given(ca, "only-writes");
  a->connector = given(ca, "connector") ? cli_value(ca, "connector") : NULL;
  if ((a->only_writes || a->connector) && !a->dry_run)
    return usage_error(ca, "--only-writes and --connector filter a dry run: give --dry-run",
                       NULL);
  if (takes(ca, "full-import"))
    a->n_full_imports = cli_values(ca, "full-import", &a->full_imports);
  for (i = 0; i < ca->n_args && i < 3; i++)
    a->pos[i] = ca->args[i];
  a->n_pos = ca->n_args;
  a->timeout_ms = DEFAULT_TIMEOUT_MS;
  if (given(ca, "timeout") && (a->timeout_ms = cli_parse_duration(cli_value(ca, "timeout"))) < 0)
    return usage_error(ca, "bad duration (seconds, or with a unit: 90s, 30m, 2h) in --timeout",
                       cli_value(ca, "timeout"));
  if (given(ca, "wait")) {
    a->wait_given = true;
    if ((v_rc = cli_wait_ms(ca, &a->wait_ms)) != 0)
      return v_rc;
  }
  /* $MVSYNC_METRICS is for the runs (a timer's): the verbs that take --metrics. */
  a->metrics_given = given(ca, "metrics");
  if (a->metrics_given)
    a->metrics = cli_value(ca, "metrics");
  else if (takes(ca, "metrics") && strcmp(a->cmd, "status") != 0 && getenv("MVSYNC_METRICS") &&
           *getenv("MVSYNC_METRICS"))
    a->metrics = getenv("MVSYNC_METRICS");
  if (a->metrics && !*a->metrics)
    return usage_error(ca, "--metrics needs a PATH", NULL);
  return 0;
}

static int exit_code(int engine_rc)
{
  switch (engine_rc) {
  case ENGINE_OK: return MVS_EXIT_OK;
  case ENGINE_INVALID: return MVS_EXIT_INVALID;
  case ENGINE_STOPPED: return MVS_EXIT_STOPPED;
  case ENGINE_IMPORT_STOPPED: return MVS_EXIT_IMPORT_STOPPED;
  case ENGINE_BUSY: return MVS_EXIT_BUSY;
  case ENGINE_PARTIAL: return MVS_EXIT_PARTIAL;
  case ENGINE_ALL_FAILED: return MVS_EXIT_ALL_FAILED;
  case ENGINE_TIMEOUT: return MVS_EXIT_TIMEOUT;
  default: return MVS_EXIT_SYSTEM;
  }
}

/* The result, with a dry run's diff streamed from its temporary file (it can be far larger
 * than memory).  Returns rc, or ENGINE_SYSTEM when the diff could not be written in full:
 * a dry run never reports success over a truncated diff. */
static int print_result(const engine_args *a, mvs_engine *e, const char *what,
                        const run_result *r, int rc)
{
  buf out;
  const char *log = engine_log(e);
  const char *status = r->status[0] ? r->status : "failed";
  const char *failure;
  bool diff_failed = false, failure_seen = false;

  buf_init(&out, 0);
  if (a->json) {
    buf_adds(&out, "{\"run\": ");
    json_str_write(&out, what, strlen(what));
    buf_printf(&out, ", \"status\": \"%s\", \"dry_run\": %s, \"adds\": %lld, \"updates\": %lld, "
               "\"deletes\": %lld, \"errors\": %lld, \"skipped_refs\": %lld, \"drift\": %lld, "
               "\"log\": ",
               status, a->dry_run ? "true" : "false",
               (long long)r->adds, (long long)r->updates, (long long)r->deletes,
               (long long)r->errors, (long long)r->skipped_refs, (long long)r->drift);
    json_str_write(&out, log, strlen(log));
    if (a->dry_run) {
      buf_adds(&out, ", \"summary\": ");
      engine_diff_summary(e, true, &out);
      buf_adds(&out, ", \"changes\": ");
      fwrite(out.p, 1, out.len, stdout);
      buf_reset(&out);
      if ((diff_failed = engine_diff_write(e, stdout) != ENGINE_OK))
        buf_adds(&out, "null");
    }
    buf_adds(&out, "}\n");
  } else {
    if (a->dry_run) {
      /* What would be written first; the changes, object by object, after it. */
      fputs("dry run: nothing was committed.\n", stdout);
      engine_diff_summary(e, false, &out);
      buf_adds(&out, "the changes it would make:\n");
      fwrite(out.p, 1, out.len, stdout);
      buf_reset(&out);
      if ((diff_failed = engine_diff_write(e, stdout) != ENGINE_OK))
        status = "failed";
    }
    buf_printf(&out, "%s%s: %s (%lld adds, %lld updates, %lld deletes, %lld errors",
               a->dry_run ? "dry run of " : "", what, status,
               (long long)r->adds, (long long)r->updates, (long long)r->deletes,
               (long long)r->errors);
    if (r->skipped_refs)
      buf_printf(&out, ", %lld references skipped", (long long)r->skipped_refs);
    if (r->drift)
      buf_printf(&out, ", %lld drift", (long long)r->drift);
    buf_adds(&out, ")\n");
  }
  /* A truncated diff outranks per-object errors: the run's result is not all there. */
  if (diff_failed && (rc == ENGINE_OK || rc == ENGINE_PARTIAL || rc == ENGINE_ALL_FAILED))
    rc = ENGINE_SYSTEM;
  /* The run log, each line at its level; the failure once, whether or not the log holds it.
   * A safety stop explains itself in the log. */
  failure = rc != ENGINE_OK ? engine_error(e) : NULL;
  if (!a->json && log[0])
    cli_log_run(log, failure, &failure_seen);
  if (failure && !failure_seen && rc != ENGINE_STOPPED && rc != ENGINE_IMPORT_STOPPED)
    cli_log(CLI_LOG_ERR, a->cmd, "%s", failure);
  /* --quiet: a successful run says nothing (cron mails what a job prints). */
  if (rc == ENGINE_OK && !a->json && !a->dry_run && !cli_log_enabled(CLI_LOG_INFO))
    buf_reset(&out);
  fwrite(out.p ? out.p : "", 1, out.len, stdout);
  buf_free(&out);
  return rc;
}

/* The last resort behind the engine's own deadline checks: a run blocked where the engine
 * cannot check (a connector call that ignores the deadline) is ended WATCHDOG_GRACE_MS
 * after it.  Ending the process is safe: the store's transactions are atomic (an
 * uncommitted step is rolled back, as after kill -9) and the writer lock dies with it. */
typedef struct watchdog {
  const char *cmd;
  mvs_engine *e;
  int64_t timeout_ms;
  struct timespec at;
} watchdog;

static void *watchdog_main(void *u)
{
  watchdog *w = u;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &w->at, NULL) == EINTR)
    ;
  /* dprintf, not stdio: the main thread may hold stderr's lock. */
  dprintf(2, "%smvsync %s: error: the run's deadline (--timeout %llds) passed %llds ago and it "
          "is still blocked in %s: ended; the store keeps its last committed step\n",
          cli_log_prefix(CLI_LOG_ERR), w->cmd,
          (long long)(w->timeout_ms / 1000), (long long)(watchdog_grace(w->timeout_ms) / 1000),
          engine_activity(w->e));
  _exit(MVS_EXIT_TIMEOUT);
}

static void start_watchdog(const engine_args *a, mvs_engine *e)
{
  static watchdog w;
  pthread_t t;
  int64_t at;

  engine_set_timeout(e, a->timeout_ms);
  if (a->timeout_ms <= 0)
    return;
  clock_gettime(CLOCK_MONOTONIC, &w.at);
  at = (int64_t)w.at.tv_sec * 1000 + w.at.tv_nsec / 1000000 + a->timeout_ms + watchdog_grace(a->timeout_ms);
  w.at.tv_sec = at / 1000;
  w.at.tv_nsec = (at % 1000) * 1000000;
  w.cmd = a->cmd;
  w.e = e;
  w.timeout_ms = a->timeout_ms;
  if (pthread_create(&t, NULL, watchdog_main, &w) == 0)
    pthread_detach(t);
}

static int run_command(const engine_args *a, mvs_engine *e)
{
  run_opts o = {.dry_run = a->dry_run, .allow_deletes = a->allow_deletes,
                .allow_mass_delete = a->allow_mass_delete,
                .progress = cli_progress_wanted() ? cli_progress : NULL,
                .full_sync = a->full_sync, .full_imports = a->full_imports,
                .n_full_imports = a->n_full_imports};
  dry_run_opts dry = {.json = a->json, .only_writes = a->only_writes, .connector = a->connector};
  run_result r;
  char what[256];
  int rc;

  memset(&r, 0, sizeof r);
  start_watchdog(a, e);
  if (a->dry_run && (rc = engine_dry_begin(e, &dry)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, a->cmd, "%s", engine_error(e));
    return exit_code(rc);
  }
  if (strcmp(a->cmd, "cycle") == 0) {
    snprintf(what, sizeof what, "%s cycle", a->initial ? "initial" : "delta");
    rc = engine_cycle(e, a->initial, &o, &r);
  } else if (strcmp(a->cmd, "sync") == 0) {
    snprintf(what, sizeof what, "%s sync", a->full ? "full" : "delta");
    rc = engine_run(e, a->full ? RUN_FULL_SYNC : RUN_DELTA_SYNC, NULL, &o, &r);
  } else {
    bool import = strcmp(a->cmd, "import") == 0;
    snprintf(what, sizeof what, "%s %s", import ? (a->full ? "full import" : "delta import") : "export",
             a->pos[0]);
    rc = engine_run(e, import ? (a->full ? RUN_FULL_IMPORT : RUN_DELTA_IMPORT) : RUN_EXPORT,
                    a->pos[0], &o, &r);
  }
  rc = print_result(a, e, what, &r, rc);
  if (a->dry_run)
    engine_dry_end(e);
  /* The metrics follow every run, failed ones too: they are how a failure is seen. */
  if (a->metrics && cli_metrics_write(e, a->metrics) != 0 && rc == ENGINE_OK)
    rc = ENGINE_SYSTEM;
  return exit_code(rc);
}

static bool needs_rules(const char *cmd)
{
  static const char *const with_rules[] = {"import", "sync", "export", "cycle", "preview"};
  size_t i;
  for (i = 0; i < sizeof with_rules / sizeof with_rules[0]; i++)
    if (strcmp(cmd, with_rules[i]) == 0)
      return true;
  return false;
}

/* Commands that write to the store (dry runs and preview too: they write inside a
 * transaction they roll back) take the writer lock; readers never wait for it. */
static bool takes_lock(const engine_args *a)
{
  return needs_rules(a->cmd) || (strcmp(a->cmd, "staging") == 0 && a->n_pos);
}

static int engine_verb(const cli_args *ca)
{
  engine_args a;
  mvs_engine *e = NULL;
  char *err = NULL;
  long long show_id = 0;
  buf out;
  int rc;

  if ((rc = parse_args(ca, &a)) != 0)
    return rc;
  if (strcmp(a.cmd, "dump") == 0 && !a.json)
    return usage_error(ca, "the dump is JSON: give --json", NULL);
  if (a.wait_given && !takes_lock(&a))
    return usage_error(ca, "takes --wait only with on or off: reading the mode never waits", NULL);
  if (strcmp(a.cmd, "staging") == 0 && a.n_pos && strcmp(a.pos[0], "on") != 0 &&
      strcmp(a.pos[0], "off") != 0)
    return usage_error(ca, "takes on or off, not", a.pos[0]);
  if (strcmp(a.cmd, "show") == 0 && !(a.n_pos == 3 && strcmp(a.pos[0], "cs") == 0)) {
    char *end = NULL;
    show_id = strtoll(a.pos[1], &end, 10);
    if (a.n_pos != 2 || (strcmp(a.pos[0], "cs") != 0 && strcmp(a.pos[0], "mv") != 0) ||
        !*a.pos[1] || *end || show_id <= 0)
      return usage_error(ca, "needs cs ID, cs CONNECTOR DN|ANCHOR, or mv ID", NULL);
  }
  if (strcmp(a.cmd, "init") == 0) {
    if ((rc = engine_init(a.store, &err)) != ENGINE_OK) {
      cli_log(CLI_LOG_ERR, "init", "%s", err);
    } else if (a.json) {
      buf_init(&out, 0);
      buf_adds(&out, "{\"store\": ");
      json_str_write(&out, a.store, strlen(a.store));
      buf_printf(&out, ", \"schema_version\": %d}\n", store_schema_version());
      fwrite(out.p, 1, out.len, stdout);
      buf_free(&out);
    } else {
      printf("store %s ready (schema version %d)\n", a.store, store_schema_version());
    }
    free(err);
    return exit_code(rc);
  }
  cli_log(CLI_LOG_DEBUG, a.cmd, "store %s, rules %s", a.store,
          needs_rules(a.cmd) || strcmp(a.cmd, "status") == 0 ? a.rules : "(not read)");
  if ((rc = engine_open(a.store, needs_rules(a.cmd) || strcmp(a.cmd, "status") == 0 ? a.rules : NULL,
                        &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, a.cmd, "%s", err ? err : "cannot open");
    free(err);
    return exit_code(rc);
  }
  if (takes_lock(&a) && (rc = engine_lock(e, a.wait_ms)) != ENGINE_OK) {
    /* Busy is no failure: a scheduled run beside a manual one did nothing (exit 6). */
    cli_log(rc == ENGINE_BUSY ? CLI_LOG_NOTICE : CLI_LOG_ERR, a.cmd, "%s", engine_error(e));
    engine_close(e);
    return exit_code(rc);
  }
  if (takes_lock(&a))
    cli_log(CLI_LOG_DEBUG, a.cmd, "holding the store's writer lock");
  buf_init(&out, 0);
  rc = ENGINE_OK;
  if (needs_rules(a.cmd) && strcmp(a.cmd, "preview") != 0) {
    int code = run_command(&a, e);
    engine_close(e);
    buf_free(&out);
    return code;
  } else if (strcmp(a.cmd, "preview") == 0) {
    rc = engine_preview(e, a.pos[0], a.pos[1], a.commit, a.json, &out);
  } else if (strcmp(a.cmd, "staging") == 0) {
    bool on = a.n_pos && strcmp(a.pos[0], "on") == 0;
    rc = a.n_pos ? engine_staging_set(e, on) : engine_staging_get(e, &on);
    if (a.json)
      buf_printf(&out, "{\"staging\": %s}\n", on ? "true" : "false");
    else if (a.n_pos)
      buf_printf(&out, "staging mode %s: exports are %s\n", a.pos[0],
                 on ? "kept, never sent" : "sent");
    else
      buf_printf(&out, "staging mode %s\n", on ? "on" : "off");
  } else if (strcmp(a.cmd, "show") == 0 && a.n_pos == 3) {
    rc = engine_show_cs(e, a.pos[1], a.pos[2], a.json, &out);
  } else if (strcmp(a.cmd, "show") == 0) {
    rc = engine_show(e, strcmp(a.pos[0], "mv") == 0, show_id, a.json, &out);
  } else if (strcmp(a.cmd, "runs") == 0) {
    rc = engine_runs(e, a.json, &out);
  } else if (strcmp(a.cmd, "status") == 0) {
    int health = ENGINE_OK;
    bool metrics_failed = false;
    if ((rc = engine_status(e, a.json ? STATUS_JSON : STATUS_TEXT, &out, &health)) == ENGINE_OK &&
        a.metrics)
      metrics_failed = cli_metrics_write(e, a.metrics) != 0;
    /* A metrics file that could not be written has said why: no second message. */
    if (rc == ENGINE_OK) {
      if (!metrics_failed)
        fwrite(out.p ? out.p : "", 1, out.len, stdout);
      engine_close(e);
      buf_free(&out);
      return metrics_failed ? MVS_EXIT_SYSTEM : exit_code(health);
    }
  } else {
    rc = engine_dump_json(e, &out);
  }
  if (rc != ENGINE_OK)
    cli_log(CLI_LOG_ERR, a.cmd, "%s", engine_error(e));
  else
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  engine_close(e);
  buf_free(&out);
  return exit_code(rc);
}

int cli_exit_code(int engine_rc) { return exit_code(engine_rc); }

int cli_wait_ms(const cli_args *ca, int64_t *ms)
{
  const char *v = cli_value(ca, "wait");
  *ms = !v ? 0 : *v ? cli_parse_duration(v) : -1;
  if (v && *v && *ms < 0)
    return cli_usage_error(ca, "bad duration (seconds, or with a unit: 90s, 30m, 2h) in --wait=%s",
                           v);
  return 0;
}
