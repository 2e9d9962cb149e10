/* cli_errors — `mvsync errors [CONNECTOR] [--json]`: the sync errors and export errors the
 * store holds, with object, attribute, rule, message and first / last seen (docs/cli.md).
 * A reader: it takes no lock and never waits for a run.
 * Memory: the engine and the rendered text are freed before returning. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

static const char usage_text[] =
    "usage: mvsync errors [CONNECTOR] [--json] [--store PATH]\n"
    "  the sync errors of connector-space objects (join conflicts, ambiguous joins, values\n"
    "  the target refuses) and the exports the directory refused, with the object, the\n"
    "  attribute, the rule, the message and when each was first and last seen\n"
    "  --json          a list of {\"phase\", \"connector\", \"object\", \"dn\", \"attribute\",\n"
    "                  \"rule\", \"message\", \"first_seen\", \"last_seen\"}\n"
    "  --store PATH    the store (default $MVSYNC_STORE or ./mvsync.db)\n";

int cli_errors(int argc, char **argv)
{
  enum { OPT_STORE = 1, OPT_RULES, OPT_JSON, OPT_HELP };
  static const struct option opts[] = {
    {"store", required_argument, NULL, OPT_STORE},
    {"rules", required_argument, NULL, OPT_RULES},   /* global; errors reads no rules */
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
  };
  const char *store = getenv("MVSYNC_STORE") ? getenv("MVSYNC_STORE") : "mvsync.db";
  const char *conn = NULL;
  bool json = false;
  mvs_engine *e = NULL;
  char *err = NULL;
  buf out;
  int c, rc;

  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_STORE: store = optarg; break;
    case OPT_RULES: break;
    case OPT_JSON: json = true; break;
    case OPT_HELP: case 'h': fputs(usage_text, stdout); return MVS_EXIT_OK;
    default:
      cli_log(CLI_LOG_ERR, "errors", "unknown option or missing value: %s", argv[optind - 1]);
      fputs(usage_text, stderr);
      return MVS_EXIT_USAGE;
    }
  }
  if (optind < argc)
    conn = argv[optind++];
  if (optind < argc) {
    cli_log(CLI_LOG_ERR, "errors", "too many arguments at %s", argv[optind]);
    fputs(usage_text, stderr);
    return MVS_EXIT_USAGE;
  }
  if ((rc = engine_open(store, NULL, &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "errors", "%s", err ? err : "cannot open");
    free(err);
    return rc;
  }
  buf_init(&out, 0);
  if ((rc = engine_errors(e, conn, json, &out)) == ENGINE_OK)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  else
    cli_log(CLI_LOG_ERR, "errors", "%s", engine_error(e));
  buf_free(&out);
  engine_close(e);
  return rc;
}
