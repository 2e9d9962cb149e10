/* cli_schedule — `mvsync schedule`: full steps asked of the next cycle, as Connect's
 * Set-ADSyncSchedulerConnectorOverride -FullImportRequired / -FullSyncRequired and
 * Get-ADSyncSchedulerConnectorOverride (docs/monitoring.md, "Overrides").  An override stays
 * in the store until a cycle that ran it succeeds; `mvsync status` gives it as the reason the
 * step is due.  override and clear write the store, so they take its writer lock (--wait
 * waits for a run to end); show only reads.
 * Memory: the engine and the output buffer are freed before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

static int schedule_run(const cli_args *a);

static const cli_opt override_opts[] = {
  {"full-import", CLI_NO_ARG, NULL, "The next cycle runs a full import of CONNECTOR.", 0, 0},
  {"full-sync", CLI_NO_ARG, NULL, "The next cycle runs a full sync.", 0, 0},
  CLI_OPT_WAIT,
  {NULL, 0, NULL, NULL, 0, 0}};
static const cli_opt show_opts[] = {
  {"json", CLI_NO_ARG, NULL,
   "The overrides as JSON: {\"overrides\": [{\"connector\", \"full_import\", \"full_sync\", "
   "\"since\"}]}, since being when the override was last set (UTC).", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};
static const cli_opt clear_opts[] = {CLI_OPT_WAIT, {NULL, 0, NULL, NULL, 0, 0}};

static const cli_verb override_verb = {
  "schedule override", "ask the next cycle for a full import of CONNECTOR or a full sync",
  "CONNECTOR", 1, 1, CLI_STORE, override_opts,
  "As Connect's Set-ADSyncSchedulerConnectorOverride: kept in the store until a cycle that ran "
  "the steps succeeds; a second override of a connector adds its steps. Give --full-import, "
  "--full-sync or both.",
  schedule_run, NULL};
static const cli_verb show_verb = {"schedule show", "the overrides the store holds", "", 0, 0,
                                   CLI_STORE, show_opts, NULL, schedule_run, NULL};
static const cli_verb clear_verb = {"schedule clear", "take back the override of CONNECTOR",
                                    "CONNECTOR", 1, 1, CLI_STORE, clear_opts, NULL, schedule_run,
                                    NULL};
static const cli_verb *const schedule_subs[] = {&override_verb, &show_verb, &clear_verb, NULL};
const cli_verb cli_schedule_verb = {"schedule",
                                    "full imports and a full sync asked of the next cycle",
                                    NULL, 0, 0, 0, NULL, NULL, NULL, schedule_subs};

static int schedule_run(const cli_args *a)
{
  bool show = a->verb == &show_verb, override = a->verb == &override_verb;
  bool full_import = override && cli_flag(a, "full-import");
  bool full_sync = override && cli_flag(a, "full-sync");
  const char *connector = a->n_args ? a->args[0] : NULL;
  int64_t wait_ms = 0;
  mvs_engine *e = NULL;
  char *err = NULL;
  buf out;
  int rc;

  if (override && !full_import && !full_sync)
    return cli_usage_error(a, "give --full-import or --full-sync (or both)");
  if (!show && (rc = cli_wait_ms(a, &wait_ms)) != 0)
    return rc;
  /* Only override checks the connector against the rule set. */
  if ((rc = engine_open(a->store, override ? a->rules : NULL, &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "schedule", "%s", err ? err : "cannot open");
    free(err);
    return cli_exit_code(rc);
  }
  /* A cycle reads the overrides at its start and removes them at its end: never change them
   * in between. */
  if (!show && (rc = engine_lock(e, wait_ms)) != ENGINE_OK) {
    cli_log(rc == ENGINE_BUSY ? CLI_LOG_NOTICE : CLI_LOG_ERR, "schedule", "%s", engine_error(e));
    engine_close(e);
    return cli_exit_code(rc);
  }
  buf_init(&out, 0);
  if (show) {
    rc = engine_schedule_show(e, cli_flag(a, "json"), &out);
  } else if (override) {
    if ((rc = engine_schedule_override(e, connector, full_import, full_sync)) == ENGINE_OK)
      buf_printf(&out, "%s: the next cycle runs %s%s%s\n", connector,
                 full_import ? "a full import" : "", full_import && full_sync ? " and " : "",
                 full_sync ? "a full sync" : "");
  } else if ((rc = engine_schedule_clear(e, connector)) == ENGINE_OK) {
    buf_printf(&out, "%s: override cleared\n", connector);
  }
  if (rc == ENGINE_OK)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  else
    cli_log(CLI_LOG_ERR, "schedule", "%s", engine_error(e));
  buf_free(&out);
  engine_close(e);
  return cli_exit_code(rc);
}
