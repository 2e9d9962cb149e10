/* cli — the mvsync command line: the verbs and the stable exit codes.
 * Memory: verbs own nothing they return; they print to stdout/stderr. */
#ifndef MVS_CLI_H
#define MVS_CLI_H

#include <stdint.h>

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

/* The verbs (tools/cli_opt.h): each is defined in its tools/cli_VERB.c, listed in
 * tools/mvsync.c.  rules (check, fmt, show: cli_rules.c; import: cli_import.c): */
#include "tools/cli_opt.h"
extern const cli_verb cli_rules_verb, cli_rules_import_verb;
extern const cli_verb cli_expr_verb;
/* The engine's verbs (cli_engine.c). */
extern const cli_verb cli_init_verb, cli_import_verb, cli_sync_verb, cli_export_verb,
    cli_cycle_verb, cli_staging_verb, cli_preview_verb, cli_show_verb, cli_runs_verb,
    cli_status_verb, cli_dump_verb;
/* pending: the list and --discard (cli_pending.c); errors (cli_errors.c). */
extern const cli_verb cli_pending_verb, cli_errors_verb;
/* search (cli_search.c). */
extern const cli_verb cli_search_verb;
/* A dry run or a recorded run as an HTML page or JSON (cli_report.c). */
extern const cli_verb cli_report_verb;
/* Who decides each attribute (cli_authority.c). */
extern const cli_verb cli_authority_verb;
/* Full steps asked of the next cycle: schedule override|show|clear (cli_schedule.c). */
extern const cli_verb cli_schedule_verb;

/* A duration: whole seconds, or numbers with units s, m, h, d ("90", "30m", "1h30m").
 * Milliseconds, or -1 when it is not one (cli_engine.c). */
int64_t cli_parse_duration(const char *s);
/* The verb's --wait[=SECONDS] as engine_lock takes it in *ms: 0 when not given (busy: fail
 * at once), -1 bare (wait without bound), else the duration.  0, or the usage error's exit
 * code for a bad duration (cli_engine.c). */
int cli_wait_ms(const cli_args *ca, int64_t *ms);
/* The --wait option of a verb that takes the writer lock (a cli_opt initializer). */
#define CLI_OPT_WAIT                                                                       \
  {"wait", CLI_OPTIONAL_ARG, "SECONDS",                                                   \
   "Wait for another run to release the store's writer lock (at most SECONDS when given, " \
   "then exit 6) instead of exiting 6 at once.", 0, 0}
/* The exit code of an ENGINE_* result (cli_engine.c). */
int cli_exit_code(int engine_rc);

/* Write the metrics file (docs/monitoring.md) for the store e has open, atomically (a
 * temporary file beside path, then rename).  0, or -1 after saying why on stderr. */
struct mvs_engine;
int cli_metrics_write(struct mvs_engine *e, const char *path);

#endif
