/* sync — the full and delta sync drivers and the work loop both run.  Memory: the work
 * lists are the caller's (work_free). */
#ifndef MVS_SYNC_H
#define MVS_SYNC_H

#include <stdbool.h>

#include "engine/engine_int.h"
#include "engine/work.h"

int sync_run(mvs_engine *e, bool full);
/* Process the listed connector-space objects (and everything they touch) to the end. */
int sync_objects(mvs_engine *e, sync_work *w);

#endif
