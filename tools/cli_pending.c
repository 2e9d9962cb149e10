/* cli_pending — `mvsync pending`: list the pending exports (a reader: no lock, never waits),
 * and `pending --discard` to drop them safely after review (a writer: takes the store's
 * writer lock, --wait waits for it).  What discarding does to each object: docs/safety.md,
 * "Discarding pending exports"; engine/discard.c.
 * Memory: the engine and the rendered text are freed before returning. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

static const char usage_text[] =
    "usage: mvsync pending [CONNECTOR] [--json|--csv]\n"
    "       mvsync pending [CONNECTOR] --discard [--deletes|--object ID] [--dry-run] [--json]\n"
    "                      [--wait[=SECONDS]]\n"
    "  without --discard: the exports staged for the directories, value by value\n"
    "  --discard       drop the unsent pending exports of CONNECTOR (all connectors without\n"
    "                  one): a delete leaves the object in the directory, unjoined; an add is\n"
    "                  not made; an update is not sent.  A later sync stages an export again\n"
    "                  only while its cause holds (docs/safety.md).  Recorded in `mvsync runs`\n"
    "  --deletes       only the deletes\n"
    "  --object ID     only the export of connector-space object ID (`mvsync errors`, `show`)\n"
    "  --dry-run       list what would be dropped; change nothing\n"
    "  --wait[=SECONDS] wait for a run that holds the store (--discard)\n"
    "  --store PATH    the store (default $MVSYNC_STORE or ./mvsync.db)\n";

/* "mvsync pending: error: MSG ARG" and the usage; exit 2. */
static int usage_error(const char *msg, const char *arg)
{
  cli_log(CLI_LOG_ERR, "pending", "%s%s%s", msg, arg ? " " : "", arg ? arg : "");
  fputs(usage_text, stderr);
  return MVS_EXIT_USAGE;
}

int cli_pending(int argc, char **argv)
{
  enum { OPT_STORE = 1, OPT_RULES, OPT_JSON, OPT_CSV, OPT_DISCARD, OPT_DELETES, OPT_OBJECT,
         OPT_DRY_RUN, OPT_WAIT, OPT_HELP };
  static const struct option opts[] = {
    {"store", required_argument, NULL, OPT_STORE},
    {"rules", required_argument, NULL, OPT_RULES},   /* global; pending reads no rules */
    {"json", no_argument, NULL, OPT_JSON},
    {"csv", no_argument, NULL, OPT_CSV},
    {"discard", no_argument, NULL, OPT_DISCARD},
    {"deletes", no_argument, NULL, OPT_DELETES},
    {"object", required_argument, NULL, OPT_OBJECT},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"wait", optional_argument, NULL, OPT_WAIT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
  };
  const char *store = getenv("MVSYNC_STORE") ? getenv("MVSYNC_STORE") : "mvsync.db";
  discard_opts d = {0};
  bool json = false, csv = false, discard = false, wait_given = false;
  int64_t wait_ms = 0;
  mvs_engine *e = NULL;
  char *err = NULL, *end;
  buf out;
  int c, rc;

  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_STORE: store = optarg; break;
    case OPT_RULES: break;
    case OPT_JSON: json = true; break;
    case OPT_CSV: csv = true; break;
    case OPT_DISCARD: discard = true; break;
    case OPT_DELETES: d.deletes_only = true; break;
    case OPT_OBJECT:
      d.object = strtoll(optarg, &end, 10);
      if (!*optarg || *end || d.object <= 0)
        return usage_error("--object takes a connector-space object id, not", optarg);
      break;
    case OPT_DRY_RUN: d.dry_run = true; break;
    case OPT_WAIT:
      wait_given = true;
      wait_ms = optarg ? cli_parse_duration(optarg) : -1;
      if (optarg && wait_ms < 0)
        return usage_error("bad duration (seconds, or with a unit: 90s, 30m, 2h) in --wait=",
                           optarg);
      break;
    case OPT_HELP: case 'h': fputs(usage_text, stdout); return MVS_EXIT_OK;
    default: return usage_error("unknown option or missing value:", argv[optind - 1]);
    }
  }
  if (optind < argc)
    d.connector = argv[optind++];
  if (optind < argc)
    return usage_error("too many arguments at", argv[optind]);
  if (json && csv)
    return usage_error("give one of --json and --csv", NULL);
  if (!discard && (d.deletes_only || d.object || d.dry_run || wait_given))
    return usage_error("--deletes, --object, --dry-run and --wait go with --discard", NULL);
  if (discard && csv)
    return usage_error("--discard reports as text or --json, not --csv", NULL);
  if (d.deletes_only && d.object)
    return usage_error("give one of --deletes and --object", NULL);
  if ((rc = engine_open(store, NULL, &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "pending", "%s", err ? err : "cannot open");
    free(err);
    return rc;
  }
  /* Discarding writes (its dry run reads what a run may be changing): the writer lock. */
  if (discard && (rc = engine_lock(e, wait_ms)) != ENGINE_OK) {
    cli_log(rc == ENGINE_BUSY ? CLI_LOG_NOTICE : CLI_LOG_ERR, "pending", "%s", engine_error(e));
    engine_close(e);
    return rc;
  }
  buf_init(&out, 0);
  rc = discard ? engine_pending_discard(e, &d, json, &out)
               : engine_pending(e, d.connector,
                                json ? PENDING_JSON : csv ? PENDING_CSV : PENDING_TEXT, &out);
  if (rc == ENGINE_OK)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  else
    cli_log(CLI_LOG_ERR, "pending", "%s", engine_error(e));
  buf_free(&out);
  engine_close(e);
  return rc;
}
