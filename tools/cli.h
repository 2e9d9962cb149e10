/* cli — the mvsync command line: subcommand entry points and the stable exit codes.
 * Memory: entry points own nothing they return; they print to stdout/stderr. */
#ifndef MVS_CLI_H
#define MVS_CLI_H

/* Exit codes are part of the interface: scripts depend on them (docs/cli.md). */
enum mvs_exit {
  MVS_EXIT_OK = 0,        /* success */
  MVS_EXIT_INVALID = 1,   /* invalid input: rule errors, expression errors, bad data */
  MVS_EXIT_USAGE = 2,     /* bad command line */
  MVS_EXIT_SYSTEM = 3,    /* I/O, memory, store errors */
  MVS_EXIT_STOPPED = 4,   /* export safety stop: the deletion threshold */
  MVS_EXIT_IMPORT_STOPPED = 5, /* import safety stop: a full import would lose too much */
  MVS_EXIT_BUSY = 6,      /* another run holds the store */
  MVS_EXIT_PARTIAL = 7,   /* the run completed, but some objects or exports failed */
  MVS_EXIT_ALL_FAILED = 8, /* every export of the run failed */
  MVS_EXIT_TIMEOUT = 9    /* a deadline passed: a server did not answer in time, or --timeout */
};

/* argv[0] is the subcommand name ("rules", "expr"). */
int cli_rules(int argc, char **argv);
int cli_expr(int argc, char **argv);
/* `rules import connect PATH ...` (tools/cli_import.c): argv[0] is "import". */
int cli_rules_import(int argc, char **argv);
/* The engine's commands (init, import, sync, export, cycle, staging, preview, pending, show,
 * runs, status, dump): argv[0] says which. */
int cli_engine(int argc, char **argv);
/* `schedule override|show|clear` (tools/cli_schedule.c). */
int cli_schedule(int argc, char **argv);
/* The exit code of an ENGINE_* result. */
int cli_exit_code(int engine_rc);

/* Write the metrics file (docs/monitoring.md) for the store e has open, atomically (a
 * temporary file beside path, then rename).  0, or -1 after saying why on stderr. */
struct mvs_engine;
int cli_metrics_write(struct mvs_engine *e, const char *path);

#endif
