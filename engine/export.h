/* export — send a connector's pending exports through it, in dependency order and in
 * batches, each batch one transaction; the deletion threshold stops a run before anything is
 * sent.  Memory: rows live in e->scratch; nothing returned. */
#ifndef MVS_EXPORT_H
#define MVS_EXPORT_H

#include "engine/engine.h"
#include "engine/engine_int.h"

int export_run(mvs_engine *e, conn_info *c, const run_opts *o);

#endif
