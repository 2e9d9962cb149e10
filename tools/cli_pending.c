/* cli_pending — `mvsync pending`: list the pending exports (a reader: no lock, never waits),
 * and `pending --discard` to drop them safely after review (a writer: takes the store's
 * writer lock, --wait waits for it).  What discarding does to each object: docs/safety.md,
 * "Discarding pending exports"; engine/discard.c.
 * Memory: the engine and the rendered text are freed before returning. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

static const cli_opt pending_opts[] = {
  {"json", CLI_NO_ARG, NULL,
   "A JSON array; with --discard an object: dry_run, run, discarded (add, update, delete, "
   "rename), kept_sent, exports.", 1, 0},
  {"csv", CLI_NO_ARG, NULL, "CSV with a header line (the list only).", 1, 0},
  {"discard", CLI_NO_ARG, NULL,
   "Drop the pending exports not yet sent, of CONNECTOR (of every connector without one), in "
   "one transaction recorded in the run history: a delete leaves the object in the directory, "
   "unjoined; an add is not made; an update or rename is not sent. A later sync stages an "
   "export again only while its cause holds (docs/safety.md). Sent exports are kept.", 0, 0},
  {"deletes", CLI_NO_ARG, NULL, "With --discard: only the deletes.", 2, 0},
  {"object", CLI_ARG, "ID",
   "With --discard: only the export of connector-space object ID (as errors and show cs print "
   "it); exit 1 when it has none not yet sent.", 2, 0},
  {"dry-run", CLI_NO_ARG, NULL, "With --discard: list what would be dropped; change nothing.", 0,
   0},
  {"wait", CLI_OPTIONAL_ARG, "SECONDS",
   "With --discard: wait for another run to release the store's writer lock (at most SECONDS "
   "when given, then exit 6) instead of exiting 6 at once.", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

static int pending_run(const cli_args *ca)
{
  discard_opts d = {0};
  bool json = cli_flag(ca, "json"), discard = cli_flag(ca, "discard");
  const char *object = cli_value(ca, "object"), *wait = cli_value(ca, "wait");
  int64_t wait_ms = 0;
  mvs_engine *e = NULL;
  char *err = NULL, *end = NULL;
  buf out;
  int rc;

  d.connector = ca->n_args ? ca->args[0] : NULL;
  d.deletes_only = cli_flag(ca, "deletes");
  d.dry_run = cli_flag(ca, "dry-run");
  if (!discard && (d.deletes_only || object || d.dry_run || wait))
    return cli_usage_error(ca, "--deletes, --object, --dry-run and --wait go with --discard");
  if (discard && cli_flag(ca, "csv"))
    return cli_usage_error(ca, "--discard reports as text or --json, not --csv");
  if (object && ((d.object = strtoll(object, &end, 10)) <= 0 || !*object || *end))
    return cli_usage_error(ca, "--object takes a connector-space object id, not %s", object);
  if ((rc = cli_wait_ms(ca, &wait_ms)) != 0)
    return rc;
  if ((rc = engine_open(ca->store, NULL, &e, &err)) != ENGINE_OK) {
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
                                json ? PENDING_JSON : cli_flag(ca, "csv") ? PENDING_CSV
                                                                         : PENDING_TEXT,
                                &out);
  if (rc == ENGINE_OK)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  else
    cli_log(CLI_LOG_ERR, "pending", "%s", engine_error(e));
  buf_free(&out);
  engine_close(e);
  return rc;
}

const cli_verb cli_pending_verb = {
  "pending", "list the pending exports, or discard them (--discard)", "[CONNECTOR]", 0, 1,
  CLI_STORE, pending_opts,
  "Without --discard: the exports staged for the directories, of every connector or of "
  "CONNECTOR, value by value, with their status (pending or sent) and last error. It reads "
  "while a run writes and never waits for one.",
  pending_run, NULL};
