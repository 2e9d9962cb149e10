/* collection — the metaverse objects of the rule set's collections and their members
 * (docs/internals/collections.md).  Memory: rows live in e->scratch2; nothing returned. */
#ifndef MVS_COLLECTION_H
#define MVS_COLLECTION_H

#include "engine/engine_int.h"
#include "engine/store.h"
#include "engine/work.h"

/* Full sync, once inbound has settled: the object of every collection of the rule set
 * (created when missing, dropped when its block is gone), its attributes and all its
 * members.  Its outbound is the full sync's outbound pass over every object. */
int collection_sync_all(mvs_engine *e, sync_work *w);
/* Delta sync: a metaverse object whose attributes changed (mv: its new blob) moves in or
 * out of the collections of its type, each move a value-level change of that collection. */
int collection_sync_object(mvs_engine *e, const mv_row *mv, sync_work *w);

#endif
