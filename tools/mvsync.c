/* mvsync — the command-line entry point: the table of verbs, handed to the one parser
 * (tools/cli_opt.h).  Memory: nothing is returned; each verb frees what it allocates. */
#include <stddef.h>

#include "tools/cli.h"
#include "tools/cli_log.h"

/* The verbs in the order `mvsync --help` lists them; a new verb is one line here. */
static const cli_verb *const verbs[] = {
  &cli_rules_verb,
  &cli_expr_verb,
  &cli_init_verb,
  &cli_import_verb,
  &cli_sync_verb,
  &cli_export_verb,
  &cli_cycle_verb,
  &cli_staging_verb,
  &cli_preview_verb,
  &cli_pending_verb,
  &cli_show_verb,
  &cli_search_verb,
  &cli_runs_verb,
  &cli_status_verb,
  &cli_schedule_verb,
  &cli_dump_verb,
  &cli_errors_verb,
  &cli_report_verb,
  &cli_authority_verb,
  NULL,
};

int main(int argc, char **argv)
{
  argc = cli_log_init(argc, argv);
  return cli_main(verbs, argc, argv);
}
