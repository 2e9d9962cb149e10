/* cli_log — the command line's log lines on stderr, each with a level: error, warning,
 * notice, info or debug.  --quiet keeps errors and warnings; --verbose adds debug lines.
 * When stderr is the systemd journal ($JOURNAL_STREAM names it, systemd.exec(5)) every
 * line starts with the priority prefix sd-daemon(3) defines ("<3>" for an error), so
 * `journalctl -p err` finds the errors; errors, warnings and debug lines also carry their
 * level as a word ("mvsync cycle: error: ...") wherever they go.
 * Memory: nothing is returned that the caller frees; the settings are one static struct. */
#ifndef MVS_CLI_LOG_H
#define MVS_CLI_LOG_H

#include <stdbool.h>

/* syslog(3)'s priorities, the numbers of sd-daemon(3)'s prefixes. */
enum cli_log_level {
  CLI_LOG_ERR = 3,
  CLI_LOG_WARNING = 4,
  CLI_LOG_NOTICE = 5,
  CLI_LOG_INFO = 6,
  CLI_LOG_DEBUG = 7
};

/* Take --quiet and --verbose out of argv (wherever they are; the last one given wins) and
 * find out whether stderr is the journal.  Returns the new argc; argv[argc] stays NULL. */
int cli_log_init(int argc, char **argv);

/* Whether a line of this level is printed. */
bool cli_log_enabled(int level);

/* One message of this level: "[<N>]mvsync CMD: [LEVEL: ]TEXT" ("mvsync: " when cmd is NULL),
 * each further line of a TEXT with newlines prefixed in the journal too.  fmt has no
 * trailing newline. */
void cli_log(int level, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* An engine run log (lines ending in '\n'): a line starting "error: " or "warning: " has that
 * level and the rest are info; a line that is the run's failure message (failure, or NULL)
 * is an error, and *failure_seen is set so the caller does not print it a second time. */
void cli_log_run(const char *log, const char *failure, bool *failure_seen);

/* The journal prefix of a level ("<3>"), or "" when stderr is not the journal: for a line
 * written without stdio (the watchdog thread). */
const char *cli_log_prefix(int level);

#endif
