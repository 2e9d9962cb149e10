/* dump — the store as `mvsync dump`, `show` and `runs` print it; here what status.c shares:
 * a run as `runs --json` prints it, so `status --json` prints the same shape.  Memory: appends to the caller's buf. */
#ifndef MVS_DUMP_H
#define MVS_DUMP_H

#include "engine/store.h"
#include "schema/buf.h"

/* One run as a JSON object appended to out. */
void dump_run_json(buf *out, const run_row *r);

#endif
