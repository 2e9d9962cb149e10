/* import — a connector's import stream into connector-space objects with their pending
 * import state (full or delta; the import guard).  Memory: rows live in e->scratch; nothing
 * returned. */
#ifndef MVS_IMPORT_H
#define MVS_IMPORT_H

#include <stdbool.h>

#include "engine/engine.h"
#include "engine/engine_int.h"

int import_run(mvs_engine *e, conn_info *c, bool full, const run_opts *o);

#endif
