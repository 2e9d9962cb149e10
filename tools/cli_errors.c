/* cli_errors — `mvsync errors [CONNECTOR] [--json]`: the sync errors and export errors the
 * store holds, with object, attribute, rule, message and first / last seen (docs/cli.md).
 * A reader: it takes no lock and never waits for a run.
 * Memory: the engine and the rendered text are freed before returning. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

static const cli_opt errors_opts[] = {
  {"json", CLI_NO_ARG, NULL,
   "A JSON list of {phase (sync or export), connector, object, dn, attribute, rule, message, "
   "first_seen, last_seen}; unknown values are null; an export error also has op and the "
   "directory's code.", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

static int errors_run(const cli_args *ca)
{
  mvs_engine *e = NULL;
  char *err = NULL;
  buf out;
  int rc;

  if ((rc = engine_open(ca->store, NULL, &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "errors", "%s", err ? err : "cannot open");
    free(err);
    return rc;
  }
  buf_init(&out, 0);
  if ((rc = engine_errors(e, ca->n_args ? ca->args[0] : NULL, cli_flag(ca, "json"), &out)) ==
      ENGINE_OK)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  else
    cli_log(CLI_LOG_ERR, "errors", "%s", engine_error(e));
  buf_free(&out);
  engine_close(e);
  return rc;
}

const cli_verb cli_errors_verb = {
  "errors", "sync errors and export errors, with first and last seen", "[CONNECTOR]", 0, 1,
  CLI_STORE, errors_opts,
  "The sync errors of connector-space objects (join conflicts, ambiguous joins, attribute "
  "flows that failed, values the target refuses in a naming attribute) and the exports the directory refused, of every "
  "connector or of CONNECTOR: the object (its connector-space id) and DN, the attribute and "
  "the rule when known, the message, and when each was first and last seen.",
  errors_run, NULL};
