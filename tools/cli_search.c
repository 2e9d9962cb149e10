/* cli_search — `mvsync search cs CONNECTOR|mv [FILTER...] [--json|--csv] [--limit N]
 * [--explain]`: find objects in a connector space or the metaverse (docs/cli.md, "mvsync
 * search"; the filter language and how it is answered: docs/internals/search.md).  The
 * filter may be one argument or several, joined with spaces.  Reads only: takes no writer
 * lock.  Memory: the engine and the filter text are freed before returning. */
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

static const cli_opt search_opts[] = {
  {"json", CLI_NO_ARG, NULL,
   "A JSON array of {id, space, object_type, dn, anchor, attributes}; space is the "
   "connector's name or metaverse.", 1, 0},
  {"csv", CLI_NO_ARG, NULL,
   "The same fields as CSV with a header line, the attributes as JSON text.", 1, 0},
  {"limit", CLI_ARG, "N", "At most N objects (default 1000; 0: all); a notice on stderr says "
   "when more match.", 0, 0},
  {"explain", CLI_NO_ARG, NULL,
   "Print each index probe and the store's query plan for it (EXPLAIN QUERY PLAN) on stderr.",
   0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

static int search_run(const cli_args *a);

const cli_verb cli_search_verb = {
  "search", "find objects in a connector space or the metaverse", "cs CONNECTOR|mv [FILTER...]",
  1, -1, CLI_STORE, search_opts,
  "FILTER is the scope language of the rules without its braces: clauses ATTRIBUTE OPERATOR "
  "VALUE (EQUAL, NOTEQUAL, STARTSWITH, ENDSWITH, CONTAINS, ISNULL, ISNOTNULL, ISIN, ISBITSET, "
  "ISMEMBEROF, ...) joined by and and or; dn, anchor and object-type name the object's own "
  "fields; the states joined, disconnector, pending-import, pending-export and error stand "
  "alone. No filter: every object. Example: mvsync search cs ad 'object-type EQUAL \"user\" "
  "and department STARTSWITH \"IT\"'",
  search_run, NULL};

static int search_run(const cli_args *a)
{
  const char *space = NULL, *limit_text = cli_value(a, "limit");
  int format = cli_flag(a, "json") ? SEARCH_JSON : cli_flag(a, "csv") ? SEARCH_CSV : SEARCH_TEXT;
  int first, i, rc;
  long long limit = DEFAULT_LIMIT;
  bool more = false;
  mvs_engine *e = NULL;
  char *err = NULL, *end;
  buf filter, plan;

  if (limit_text) {
    limit = strtoll(limit_text, &end, 10);
    if (!*limit_text || *end || limit < 0)
      return cli_usage_error(a, "--limit takes a number of objects (0: all), not '%s'",
                             limit_text);
  }
  if (strcmp(a->args[0], "cs") == 0 && a->n_args >= 2)
    space = a->args[1], first = 2;
  else if (strcmp(a->args[0], "mv") == 0)
    first = 1;
  else
    return cli_usage_error(a, "needs cs CONNECTOR or mv");
  buf_init(&filter, 0);
  buf_init(&plan, 0);
  for (i = first; i < a->n_args; i++)
    buf_printf(&filter, "%s%s", i > first ? " " : "", a->args[i]);
  if ((rc = engine_open(a->store, NULL, &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "search", "%s", err ? err : "cannot open the store");
    free(err);
    buf_free(&filter);
    return rc == ENGINE_INVALID ? MVS_EXIT_INVALID : MVS_EXIT_SYSTEM;
  }
  rc = engine_search(e, space, filter.p, format, limit, stdout, cli_flag(a, "explain") ? &plan : NULL,
                     &more);
  if (plan.len)
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
