/* sync_out — outbound synchronization of one metaverse object: per target connector,
 * join, provision or deprovision, and stage the export attribute flow as value-level pending
 * exports; or, when only reference values changed, edit the pending export values of those
 * alone.  Semantics: docs/internals/engine.md, "Outbound".  Memory: per-object data lives in
 * e->scratch; nothing returned. */
#ifndef MVS_SYNC_OUT_H
#define MVS_SYNC_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine_int.h"
#include "engine/work.h"

/* Outbound for a metaverse object: every connector its outbound rules target. */
int sync_out_mv(mvs_engine *e, int64_t mv_id, sync_work *w);
/* Outbound for a metaverse object whose only change is the reference values in ch (n of
 * them): pending export values follow those values where nothing else can differ, else the
 * connector is evaluated in full. */
int sync_out_mv_delta(mvs_engine *e, int64_t mv_id, const ref_change *ch, size_t n,
                      sync_work *w);

#endif
