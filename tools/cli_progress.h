/* cli_progress — the progress line of a run on a terminal: for each step (an import, the
 * sync, an export) the objects done, the rate and, when the total is known, the ETA, kept on
 * one line of stderr that is rewritten a few times a second and cleared when the step ends.
 * Only for a terminal and without --quiet (cli_progress_wanted): never in a pipe, a log
 * file or the journal.
 * Memory: nothing is allocated; the line's state is one static struct. */
#ifndef MVS_CLI_PROGRESS_H
#define MVS_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the progress line is shown: stderr is a terminal and info lines are logged. */
bool cli_progress_wanted(void);

/* run_opts.progress (engine/engine.h): step, objects done (-1: the step ended), about how
 * many in all (-1: unknown).  u is unused. */
void cli_progress(void *u, const char *step, int64_t done, int64_t total);

#endif
