/* cli_search — `mvsync search cs CONNECTOR|mv [FILTER...] [--json|--csv] [--limit N]
 * [--explain]`: find objects in a connector space or the metaverse (docs/cli.md, "search";
 * the filter language and how it is answered: docs/internals/search.md).  The filter may be
 * one argument or several, joined with spaces.  Reads only: takes no writer lock.
 * Memory: the engine and the filter text are freed before returning. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "schema/buf.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

/* With no --limit a search stops here: a filter that matches a million objects should not
 * flood a terminal by accident (--limit 0 lists them all). */
#define DEFAULT_LIMIT 1000

static const char usage_text[] =
    "usage: mvsync search cs CONNECTOR [FILTER...] [--json|--csv] [--limit N] [--explain]\n"
    "       mvsync search mv [FILTER...] [--json|--csv] [--limit N] [--explain]\n"
    "FILTER: scope clauses (ATTRIBUTE OPERATOR VALUE, as in a rule's scope) joined by 'and'\n"
    "        and 'or'; dn, anchor and object-type name the object's own fields; the states\n"
    "        joined, disconnector, pending-import, pending-export and error stand alone.\n"
    "        No filter: every object.  Example:\n"
    "          mvsync search cs ad 'object-type EQUAL \"user\" and department STARTSWITH \"IT\"'\n"
    "options: --json, --csv    a JSON array of {id, space, object_type, dn, anchor, attributes},\n"
    "                          or the same as CSV (attributes as JSON text)\n"
    "         --limit N        at most N objects (default 1000; 0: all)\n"
    "         --explain        the index probes and the store's query plan, on stderr\n"
    "         --store PATH     the store (default $MVSYNC_STORE or ./mvsync.db)\n";

static int usage_error(const char *msg, const char *arg)
{
  cli_log(CLI_LOG_ERR, "search", "%s%s%s", msg, arg ? " " : "", arg ? arg : "");
  fputs(usage_text, stderr);
  return MVS_EXIT_USAGE;
}

int cli_search(int argc, char **argv)
{
  enum { OPT_JSON = 1, OPT_CSV, OPT_LIMIT, OPT_EXPLAIN, OPT_STORE, OPT_HELP };
  static const struct option options[] = {
    {"json", no_argument, NULL, OPT_JSON},       {"csv", no_argument, NULL, OPT_CSV},
    {"limit", required_argument, NULL, OPT_LIMIT}, {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"store", required_argument, NULL, OPT_STORE}, {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};
  const char *store = getenv("MVSYNC_STORE") ? getenv("MVSYNC_STORE") : "mvsync.db";
  const char *space = NULL;
  int format = SEARCH_TEXT, opt, i, rc;
  long long limit = DEFAULT_LIMIT;
  bool explain = false, more = false;
  mvs_engine *e = NULL;
  char *err = NULL, *end;
  buf filter, plan;

  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (opt) {
    case OPT_JSON: format = SEARCH_JSON; break;
    case OPT_CSV: format = SEARCH_CSV; break;
    case OPT_EXPLAIN: explain = true; break;
    case OPT_STORE: store = optarg; break;
    case OPT_LIMIT:
      limit = strtoll(optarg, &end, 10);
      if (!*optarg || *end || limit < 0)
        return usage_error("--limit takes a number of objects (0: all), not", optarg);
      break;
    case 'h':
    case OPT_HELP:
      fputs(usage_text, stdout);
      return MVS_EXIT_OK;
    default:
      return usage_error(optopt ? "option needs a value:" : "unknown option",
                         argv[optind - 1]);
    }
  }
  if (optind < argc && strcmp(argv[optind], "cs") == 0 && optind + 1 < argc)
    space = argv[optind + 1], optind += 2;
  else if (optind < argc && strcmp(argv[optind], "mv") == 0)
    optind++;
  else
    return usage_error("needs cs CONNECTOR or mv", NULL);
  buf_init(&filter, 0);
  buf_init(&plan, 0);
  for (i = optind; i < argc; i++)
    buf_printf(&filter, "%s%s", i > optind ? " " : "", argv[i]);
  if ((rc = engine_open(store, NULL, &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "search", "%s", err ? err : "cannot open the store");
    free(err);
    buf_free(&filter);
    return rc == ENGINE_INVALID ? MVS_EXIT_INVALID : MVS_EXIT_SYSTEM;
  }
  rc = engine_search(e, space, filter.p, format, limit, stdout, explain ? &plan : NULL, &more);
  if (explain && plan.len)
    fputs(plan.p, stderr);
  /* A bad filter reads as a rule file's errors do: filter:1:COLUMN: error: ... */
  if (rc != ENGINE_OK && strncmp(engine_error(e), "filter:", 7) == 0)
    fprintf(stderr, "%s\n", engine_error(e));
  else if (rc != ENGINE_OK)
    cli_log(CLI_LOG_ERR, "search", "%s", engine_error(e));
  else if (more)
    cli_log(CLI_LOG_NOTICE, "search", "more objects match than the %lld shown (--limit N, "
            "or --limit 0 for all)", limit);
  if (fflush(stdout) != 0 && rc == ENGINE_OK)
    rc = ENGINE_SYSTEM;
  engine_close(e);
  buf_free(&filter);
  buf_free(&plan);
  return rc == ENGINE_OK ? MVS_EXIT_OK : rc == ENGINE_INVALID ? MVS_EXIT_INVALID : MVS_EXIT_SYSTEM;
}
