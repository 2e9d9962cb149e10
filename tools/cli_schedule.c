/* cli_schedule — `mvsync schedule`: full steps asked of the next cycle, as Connect's
 * Set-ADSyncSchedulerConnectorOverride -FullImportRequired / -FullSyncRequired and
 * Get-ADSyncSchedulerConnectorOverride (docs/monitoring.md, "Overrides").  An override stays
 * in the store until a cycle that ran it succeeds; `mvsync status` gives it as the reason the
 * step is due.  override and clear write the store, so they take its writer lock (--wait
 * waits for a run to end); show only reads.
 * Memory: the engine and the output buffer are freed before returning. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

static const char *const usage_text =
    "usage: mvsync schedule override CONNECTOR --full-import|--full-sync [--wait[=SECONDS]]\n"
    "       mvsync schedule show [--json]\n"
    "       mvsync schedule clear CONNECTOR [--wait[=SECONDS]]\n"
    "An override makes the next cycle run a full import of CONNECTOR (--full-import) or a\n"
    "full sync (--full-sync), or both; it stays until a cycle that ran them succeeds.\n"
    "global options: --store PATH (default $MVSYNC_STORE or ./mvsync.db)\n"
    "                --rules PATH (default $MVSYNC_RULES or ./rules; override reads it)\n";

enum { OPT_STORE = 256, OPT_RULES, OPT_FULL_IMPORT, OPT_FULL_SYNC, OPT_WAIT, OPT_JSON };

static const struct option options[] = {
  {"store", required_argument, NULL, OPT_STORE},
  {"rules", required_argument, NULL, OPT_RULES},
  {"full-import", no_argument, NULL, OPT_FULL_IMPORT},
  {"full-sync", no_argument, NULL, OPT_FULL_SYNC},
  {"wait", optional_argument, NULL, OPT_WAIT},
  {"json", no_argument, NULL, OPT_JSON},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0},
};

typedef struct schedule_args {
  const char *store, *rules, *action, *connector;
  bool full_import, full_sync, json, wait_given;
  int64_t wait_ms;          /* 0: fail at once when busy; < 0: wait without bound */
} schedule_args;

static int usage_error(const char *msg, const char *arg)
{
  cli_log(CLI_LOG_ERR, "schedule", "%s%s%s", msg, arg ? " " : "", arg ? arg : "");
  fputs(usage_text, stderr);
  return MVS_EXIT_USAGE;
}

/* 0 when parsed, -1 after --help, else the exit code of a usage error. */
static int parse_args(int argc, char **argv, schedule_args *a)
{
  int c;
  char *end;
  long long secs;

  memset(a, 0, sizeof *a);
  a->store = getenv("MVSYNC_STORE") ? getenv("MVSYNC_STORE") : "mvsync.db";
  a->rules = getenv("MVSYNC_RULES") ? getenv("MVSYNC_RULES") : "rules";
  opterr = 0;
  optind = 1;
  /* "-": positional arguments come back as 1, in order, wherever the options are. */
  while ((c = getopt_long(argc, argv, "-h", options, NULL)) != -1) {
    switch (c) {
    case OPT_STORE: a->store = optarg; break;
    case OPT_RULES: a->rules = optarg; break;
    case OPT_FULL_IMPORT: a->full_import = true; break;
    case OPT_FULL_SYNC: a->full_sync = true; break;
    case OPT_JSON: a->json = true; break;
    case OPT_WAIT:
      a->wait_given = true;
      a->wait_ms = -1;
      if (optarg) {
        errno = 0;
        secs = strtoll(optarg, &end, 10);
        if (!*optarg || *end || errno || secs < 0 || secs > 100LL * 365 * 86400)
          return usage_error("--wait takes whole seconds, not", optarg);
        a->wait_ms = secs * 1000;
      }
      break;
    case 'h': fputs(usage_text, stdout); return -1;
    case 1:
      if (!a->action)
        a->action = optarg;
      else if (!a->connector)
        a->connector = optarg;
      else
        return usage_error("too many arguments at", optarg);
      break;
    default:
      return usage_error(optopt ? "unknown option or missing value:" : "unknown option",
                         argv[optind - 1]);
    }
  }
  if (!a->action)
    return usage_error("needs override, show or clear", NULL);
  if (strcmp(a->action, "show") == 0) {
    if (a->connector || a->full_import || a->full_sync || a->wait_given)
      return usage_error("show takes only --json", NULL);
    return 0;
  }
  if (strcmp(a->action, "override") != 0 && strcmp(a->action, "clear") != 0)
    return usage_error("needs override, show or clear, not", a->action);
  if (!a->connector)
    return usage_error(a->action, "needs a CONNECTOR");
  if (a->json)
    return usage_error(a->action, "takes no --json");
  if (strcmp(a->action, "override") == 0 && !a->full_import && !a->full_sync)
    return usage_error("override needs --full-import or --full-sync (or both)", NULL);
  if (strcmp(a->action, "clear") == 0 && (a->full_import || a->full_sync))
    return usage_error("clear removes the whole override: it takes no --full-import or --full-sync",
                       NULL);
  return 0;
}

int cli_schedule(int argc, char **argv)
{
  schedule_args a;
  mvs_engine *e = NULL;
  char *err = NULL;
  buf out;
  bool show;
  int rc;

  if ((rc = parse_args(argc, argv, &a)) != 0)
    return rc < 0 ? MVS_EXIT_OK : rc;
  show = strcmp(a.action, "show") == 0;
  /* Only override checks the connector against the rule set. */
  if ((rc = engine_open(a.store, strcmp(a.action, "override") == 0 ? a.rules : NULL, &e,
                        &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "schedule", "%s", err ? err : "cannot open");
    free(err);
    return cli_exit_code(rc);
  }
  /* A cycle reads the overrides at its start and removes them at its end: never change them
   * in between. */
  if (!show && (rc = engine_lock(e, a.wait_ms)) != ENGINE_OK) {
    cli_log(rc == ENGINE_BUSY ? CLI_LOG_NOTICE : CLI_LOG_ERR, "schedule", "%s", engine_error(e));
    engine_close(e);
    return cli_exit_code(rc);
  }
  buf_init(&out, 0);
  if (show) {
    rc = engine_schedule_show(e, a.json, &out);
  } else if (strcmp(a.action, "override") == 0) {
    if ((rc = engine_schedule_override(e, a.connector, a.full_import, a.full_sync)) == ENGINE_OK)
      buf_printf(&out, "%s: the next cycle runs %s%s%s\n", a.connector,
                 a.full_import ? "a full import" : "", a.full_import && a.full_sync ? " and " : "",
                 a.full_sync ? "a full sync" : "");
  } else if ((rc = engine_schedule_clear(e, a.connector)) == ENGINE_OK) {
    buf_printf(&out, "%s: override cleared\n", a.connector);
  }
  if (rc == ENGINE_OK)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  else
    cli_log(CLI_LOG_ERR, "schedule", "%s", engine_error(e));
  buf_free(&out);
  engine_close(e);
  return cli_exit_code(rc);
}
