/* mvsync — the command-line entry point: dispatches git-style subcommands.
 * Memory: nothing is returned; each subcommand frees what it allocates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cli_log.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} commands[] = {
  {"rules", cli_rules, "rules check|fmt|show PATH...   validate, format or dump rule files"},
  {"rules", cli_rules, "rules import connect PATH      a rule set from a Connect Sync export"},
  {"expr", cli_expr, "expr [options] EXPRESSION      evaluate an attribute-flow expression"},
  {"init", cli_engine, "init                           create or migrate the store"},
  {"import", cli_engine, "import CONNECTOR [--full|--delta]   import into the connector space"},
  {"sync", cli_engine, "sync [--full|--delta]          synchronize: metaverse and pending exports"},
  {"export", cli_engine, "export CONNECTOR [--allow-deletes]  send pending exports"},
  {"cycle", cli_engine, "cycle [--initial|--delta]      imports, sync, exports (--dry-run: diff only)"},
  {"staging", cli_engine, "staging on|off                 keep exports instead of sending them"},
  {"preview", cli_engine, "preview CONNECTOR OBJECT       trace one object through the rules"},
  {"pending", cli_engine, "pending [CONNECTOR]            list pending exports (--json, --csv)"},
  {"show", cli_engine, "show cs|mv ID                  one connector-space or metaverse object"},
  {"runs", cli_engine, "runs [--json]                  run history"},
  {"status", cli_engine, "status [--json]                health, last runs, pending, due full steps"},
  {"schedule", cli_schedule, "schedule override|show|clear   full steps asked of the next cycle"},
  {"dump", cli_engine, "dump --json                    the whole store as JSON (for tests)"},
};

static void usage(FILE *f)
{
  size_t i;
  fprintf(f, "usage: mvsync <command> [args]\n\ncommands:\n");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %s\n", commands[i].help);
  fprintf(f, "\nglobal options: --store PATH, --rules PATH (the engine's commands), --quiet (log\n"
             "errors and warnings only), --verbose (debug lines too)\n");
  fprintf(f, "\nexit codes: 0 ok, 1 invalid input, 2 usage, 3 system error, 4 export safety stop,\n"
             "5 import safety stop, 6 store busy, 7 completed with errors, 8 all exports failed,\n"
             "9 deadline passed (docs/cli.md)\n");
}

/* Global options (--store PATH, --rules PATH) may come before the command too, as in
 * `mvsync --rules DIR cycle`: they are moved behind it, where the command reads them. */
static char **command_first(int argc, char **argv)
{
  int n = 1, i;
  char **out;

  while (n + 1 < argc && (strcmp(argv[n], "--store") == 0 || strcmp(argv[n], "--rules") == 0))
    n += 2;
  if (n == 1 || n >= argc)
    return argv;
  if (!(out = calloc((size_t)argc + 1, sizeof *out)))
    return argv;
  out[0] = argv[0];
  for (i = n; i < argc; i++)
    out[1 + i - n] = argv[i];
  for (i = 1; i < n; i++)
    out[argc - n + i] = argv[i];
  return out;
}

static int dispatch(int argc, char **argv)
{
  size_t i;

  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? MVS_EXIT_USAGE : MVS_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("mvsync %s\n", MVSYNC_VERSION);
    return MVS_EXIT_OK;
  }
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  cli_log(CLI_LOG_ERR, NULL, "unknown command '%s'", argv[1]);
  usage(stderr);
  return MVS_EXIT_USAGE;
}

int main(int argc, char **argv)
{
  char **args;
  int rc;

  argc = cli_log_init(argc, argv);
  args = command_first(argc, argv);
  rc = dispatch(argc, args);
  cli_log(CLI_LOG_DEBUG, argc > 1 ? args[1] : NULL, "exit %d", rc);
  if (args != argv)
    free(args);
  return rc;
}
