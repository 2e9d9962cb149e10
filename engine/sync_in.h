/* sync_in — inbound synchronization: for a connector-space object, scope its connector's
 * inbound rules, keep or drop its join, join or project it; for a metaverse object,
 * recompute every attribute from all joined objects by precedence and delete it when nothing
 * keeps it alive.  Semantics: docs/internals/engine.md, "Inbound" and "Import attribute
 * flow".  Memory: per-object data lives in e->scratch and e->scratch2; nothing returned. */
#ifndef MVS_SYNC_IN_H
#define MVS_SYNC_IN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine_int.h"
#include "engine/work.h"

/* Inbound for one connector-space object: delete, join, project or disconnect it, then
 * recompute its metaverse object.  Two passes over a set of objects: joined_pass takes the
 * joined ones and deletes, the other pass the disconnectors (including those the first pass
 * disconnected), so who wins a contested join does not depend on which objects a sync
 * visits (delta ≡ full).  *other (when not NULL): the object was the other pass's, and
 * was not evaluated. */
int sync_in_cs(mvs_engine *e, int64_t cs_id, bool joined_pass, bool *other, sync_work *w);
/* Recompute a metaverse object's attributes from every joined object; deletes it when
 * nothing keeps it alive.  new_link: a connector-space object joined just now (apply-once
 * flows from it apply), 0 for none.  delta_cs: the joined object whose import is being
 * synced, its link unchanged: reference attributes whose winning rule did not change take
 * that object's value deltas instead of being re-read (0: re-read everything). */
int sync_in_mv(mvs_engine *e, int64_t mv_id, int64_t new_link, int64_t delta_cs,
               sync_work *w);
/* After the engine gave connector c's object cs_id a DN (provisioned it, or staged or
 * exported a rename: no import reports that as a change): when c's join keys read the DN,
 * bring the object's key rows to it, or a metaverse key naming the DN would not find the
 * object once it is a disconnector.  Memory: e->scratch2, not reset. */
int sync_in_dn_keys(mvs_engine *e, conn_info *c, int64_t cs_id);

#endif
