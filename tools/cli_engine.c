/* cli_engine — the engine's commands: init, import, sync, export, cycle, staging, preview,
 * pending, show, runs, status, dump.  Global options --store PATH (default $MVSYNC_STORE or
 * ./mvsync.db) and --rules PATH (default $MVSYNC_RULES or ./rules) may appear anywhere.
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
#include "schema/json_str.h"

typedef struct engine_args {
  const char *cmd;
  const char *store, *rules;
  const char *pos[3];   /* positional arguments */
  int n_pos;
  bool full, delta, initial, dry_run, json, csv, commit, allow_deletes, allow_mass_delete;
  bool full_sync;       /* cycle --full-sync */
  const char *full_imports[32]; /* cycle --full-import CONNECTOR, repeated */
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

static const char *const usage_text =
    "usage: mvsync init\n"
    "       mvsync import CONNECTOR [--full|--delta] [--allow-mass-delete] [--dry-run] [--json]\n"
    "       mvsync sync [--full|--delta] [--dry-run] [--json]\n"
    "       mvsync export CONNECTOR [--allow-deletes] [--dry-run] [--json]\n"
    "       mvsync cycle [--initial|--delta] [--dry-run] [--json] [--allow-deletes]\n"
    "                    [--allow-mass-delete] [--full-sync] [--full-import CONNECTOR]...\n"
    "       (import, sync, export, cycle: [--timeout DURATION] [--wait[=SECONDS]]\n"
    "        [--metrics PATH]: write the metrics file after the run)\n"
    "       mvsync status [--json] [--metrics PATH]   exit 0 healthy, 7 degraded, else failed\n"
    "       mvsync staging on|off [--wait[=SECONDS]]\n"
    "       mvsync preview CONNECTOR OBJECT [--commit] [--json] [--wait[=SECONDS]]\n"
    "       mvsync pending [CONNECTOR] [--json|--csv]\n"
    "       mvsync show cs|mv ID [--json]\n"
    "       mvsync runs [--json]\n"
    "       mvsync dump --json\n"
    "global options: --store PATH (default $MVSYNC_STORE or ./mvsync.db)\n"
    "                --rules PATH (default $MVSYNC_RULES or ./rules: a .rules file or a directory)\n"
    "                --quiet (errors and warnings only; no summary of a successful run)\n"
    "                --verbose (debug lines too)\n";

static int usage_error(const char *cmd, const char *msg, const char *arg)
{
  cli_log(CLI_LOG_ERR, cmd, "%s%s%s", msg, arg ? " " : "", arg ? arg : "");
  fputs(usage_text, stderr);
  return MVS_EXIT_USAGE;
}

/* A duration: whole seconds, or numbers with units s, m, h, d ("90", "30m", "1h30m").
 * Milliseconds, or -1 when it is not one. */
static int64_t parse_duration(const char *s)
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

/* --metrics PATH, --full-import CONNECTOR (repeated), and their =VALUE forms: 1 when s was
 * one (i advanced past its value), 0 when not, -1 when too many. */
static int valued_path(int argc, char **argv, int *i, engine_args *a)
{
  const char *s = argv[*i], *v = NULL;
  bool metrics = strncmp(s, "--metrics", 9) == 0 && (s[9] == '\0' || s[9] == '=');
  bool full_import = strncmp(s, "--full-import", 13) == 0 && (s[13] == '\0' || s[13] == '=');
  if (!metrics && !full_import)
    return 0;
  if (strchr(s, '='))
    v = strchr(s, '=') + 1;
  else if (*i + 1 < argc)
    v = argv[++*i];
  if (!v || !*v)
    return -1;
  if (metrics) {
    a->metrics = v;
    a->metrics_given = true;
    return 1;
  }
  if (a->n_full_imports == sizeof a->full_imports / sizeof a->full_imports[0])
    return -1;
  a->full_imports[a->n_full_imports++] = v;
  return 1;
}

/* --wait, --wait=SECONDS, --timeout D, --timeout=D: 1 when s was one (i advanced past its
 * value), 0 when not, -1 on a bad value. */
static int parse_valued(int argc, char **argv, int *i, engine_args *a)
{
  const char *s = argv[*i], *v = NULL;
  if (strcmp(s, "--wait") == 0) {
    a->wait_ms = -1;
    a->wait_given = true;
    return 1;
  }
  if (strncmp(s, "--wait=", 7) == 0) {
    a->wait_ms = parse_duration(s + 7);
    a->wait_given = true;
    return a->wait_ms < 0 ? -1 : 1;
  }
  if (strncmp(s, "--timeout=", 10) == 0)
    v = s + 10;
  else if (strcmp(s, "--timeout") == 0 && *i + 1 < argc)
    v = argv[++*i];
  if (!v)
    return valued_path(argc, argv, i, a);
  a->timeout_given = true;
  a->timeout_ms = parse_duration(v);
  return a->timeout_ms < 0 ? -1 : 1;
}

static int parse_args(int argc, char **argv, engine_args *a)
{
  static const struct {
    const char *name;
    size_t off;
  } flags[] = {
    {"--full", offsetof(engine_args, full)},       {"--delta", offsetof(engine_args, delta)},
    {"--initial", offsetof(engine_args, initial)}, {"--dry-run", offsetof(engine_args, dry_run)},
    {"--json", offsetof(engine_args, json)},       {"--csv", offsetof(engine_args, csv)},
    {"--commit", offsetof(engine_args, commit)},
    {"--allow-deletes", offsetof(engine_args, allow_deletes)},
    {"--allow-mass-delete", offsetof(engine_args, allow_mass_delete)},
    {"--full-sync", offsetof(engine_args, full_sync)},
  };
  int i;
  size_t f;

  memset(a, 0, sizeof *a);
  a->cmd = argv[0];
  a->store = getenv("MVSYNC_STORE") ? getenv("MVSYNC_STORE") : "mvsync.db";
  a->rules = getenv("MVSYNC_RULES") ? getenv("MVSYNC_RULES") : "rules";
  a->timeout_ms = DEFAULT_TIMEOUT_MS;
  a->metrics = getenv("MVSYNC_METRICS") && *getenv("MVSYNC_METRICS") ? getenv("MVSYNC_METRICS")
                                                                     : NULL;
  for (i = 1; i < argc; i++) {
    const char *s = argv[i];
    int valued = parse_valued(argc, argv, &i, a);
    if (valued < 0 && (strncmp(s, "--metrics", 9) == 0 || strncmp(s, "--full-import", 13) == 0))
      return usage_error(a->cmd, "needs a value (at most 32 --full-import):", s);
    if (valued < 0)
      return usage_error(a->cmd, "bad duration (seconds, or with a unit: 90s, 30m, 2h) in", s);
    if (valued)
      continue;
    if ((strcmp(s, "--store") == 0 || strcmp(s, "--rules") == 0) && i + 1 < argc) {
      *(s[2] == 's' ? &a->store : &a->rules) = argv[++i];
      continue;
    }
    if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
      fputs(usage_text, stdout);
      return -1;
    }
    for (f = 0; f < sizeof flags / sizeof flags[0]; f++)
      if (strcmp(s, flags[f].name) == 0) {
        *(bool *)((char *)a + flags[f].off) = true;
        break;
      }
    if (f < sizeof flags / sizeof flags[0])
      continue;
    if (s[0] == '-' && s[1])
      return usage_error(a->cmd, "unknown option", s);
    if (a->n_pos == 3)
      return usage_error(a->cmd, "too many arguments at", s);
    a->pos[a->n_pos++] = s;
  }
  if ((a->full && a->delta) || (a->initial && a->delta))
    return usage_error(a->cmd, "give one of --full/--initial and --delta", NULL);
  /* init writes a store or nothing: a dry run of it would still create the file. */
  if (strcmp(a->cmd, "init") == 0 && a->dry_run)
    return usage_error(a->cmd, "has no --dry-run: it creates the store or migrates it", NULL);
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
      buf_adds(&out, ", \"changes\": ");
      fwrite(out.p, 1, out.len, stdout);
      buf_reset(&out);
      if ((diff_failed = engine_diff_write(e, stdout) != ENGINE_OK))
        buf_adds(&out, "null");
    }
    buf_adds(&out, "}\n");
  } else {
    if (a->dry_run) {
      fputs("dry run: nothing was committed; the changes it would make:\n", stdout);
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
                .progress = isatty(2) && cli_log_enabled(CLI_LOG_INFO),
                .full_sync = a->full_sync, .full_imports = a->full_imports,
                .n_full_imports = a->n_full_imports};
  run_result r;
  char what[256];
  int rc;

  memset(&r, 0, sizeof r);
  start_watchdog(a, e);
  if (a->dry_run && (rc = engine_dry_begin(e, a->json)) != ENGINE_OK) {
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
    if (a->n_pos != 1) {
      engine_dry_end(e);
      return usage_error(a->cmd, "needs one CONNECTOR", NULL);
    }
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

int cli_engine(int argc, char **argv)
{
  engine_args a;
  mvs_engine *e = NULL;
  char *err = NULL;
  buf out;
  int rc;

  if ((rc = parse_args(argc, argv, &a)) != 0)
    return rc < 0 ? MVS_EXIT_OK : rc;
  if (strcmp(a.cmd, "dump") == 0 && !a.json)
    return usage_error(a.cmd, "the dump is JSON: give --json", NULL);
  if (a.wait_given && !takes_lock(&a))
    return usage_error(a.cmd, "takes no --wait: it never waits for a run", NULL);
  if (a.timeout_given && !(needs_rules(a.cmd) && strcmp(a.cmd, "preview") != 0))
    return usage_error(a.cmd, "takes no --timeout (import, sync, export and cycle do)", NULL);
  if ((a.full_sync || a.n_full_imports) && strcmp(a.cmd, "cycle") != 0)
    return usage_error(a.cmd, "takes no --full-sync or --full-import (cycle does)", NULL);
  /* $MVSYNC_METRICS is for the runs (a timer's); other commands leave the file alone. */
  if (a.metrics && !(needs_rules(a.cmd) && strcmp(a.cmd, "preview") != 0) &&
      strcmp(a.cmd, "status") != 0) {
    if (a.metrics_given)
      return usage_error(a.cmd, "takes no --metrics (import, sync, export, cycle and status do)", NULL);
    a.metrics = NULL;
  }
  if (strcmp(a.cmd, "status") == 0 && !a.metrics_given)
    a.metrics = NULL;
  if (strcmp(a.cmd, "status") == 0 && a.n_pos)
    return usage_error(a.cmd, "takes no arguments:", a.pos[0]);
  if (strcmp(a.cmd, "init") == 0) {
    if ((rc = engine_init(a.store, &err)) == ENGINE_OK)
      printf("store %s ready (schema version %d)\n", a.store, store_schema_version());
    else
      cli_log(CLI_LOG_ERR, "init", "%s", err);
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
    if (a.n_pos != 2) {
      rc = -1;
      usage_error(a.cmd, "needs CONNECTOR and OBJECT (anchor or DN)", NULL);
    } else {
      rc = engine_preview(e, a.pos[0], a.pos[1], a.commit, a.json, &out);
    }
  } else if (strcmp(a.cmd, "staging") == 0) {
    bool on;
    if (a.n_pos == 1 && (strcmp(a.pos[0], "on") == 0 || strcmp(a.pos[0], "off") == 0)) {
      rc = engine_staging_set(e, strcmp(a.pos[0], "on") == 0);
      buf_printf(&out, "staging mode %s: exports are %s\n", a.pos[0],
                 strcmp(a.pos[0], "on") == 0 ? "kept, never sent" : "sent");
    } else if (a.n_pos == 0 && (rc = engine_staging_get(e, &on)) == ENGINE_OK) {
      buf_printf(&out, "staging mode %s\n", on ? "on" : "off");
    } else if (a.n_pos) {
      rc = -1;
      usage_error(a.cmd, "takes on or off", NULL);
    }
  } else if (strcmp(a.cmd, "pending") == 0) {
    rc = engine_pending(e, a.n_pos ? a.pos[0] : NULL,
                        a.json ? PENDING_JSON : a.csv ? PENDING_CSV : PENDING_TEXT, &out);
  } else if (strcmp(a.cmd, "show") == 0) {
    char *end = NULL;
    long long id = a.n_pos == 2 ? strtoll(a.pos[1], &end, 10) : 0;
    if (a.n_pos != 2 || (strcmp(a.pos[0], "cs") != 0 && strcmp(a.pos[0], "mv") != 0) || !end ||
        *end || id <= 0) {
      rc = -1;
      usage_error(a.cmd, "needs cs|mv and a numeric ID", NULL);
    } else {
      rc = engine_show(e, strcmp(a.pos[0], "mv") == 0, id, a.json, &out);
    }
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
  if (rc > 0)
    cli_log(CLI_LOG_ERR, a.cmd, "%s", engine_error(e));
  else if (rc == 0)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  engine_close(e);
  buf_free(&out);
  return rc < 0 ? MVS_EXIT_USAGE : exit_code(rc);
}

int cli_exit_code(int engine_rc) { return exit_code(engine_rc); }
