/* mv — the writes a sync makes to the metaverse: an object's creation and deletion, its
 * reference rows (in full or by the value deltas of one joined object), its join-key rows,
 * and the disconnect of a provisioned target with its delete staged.  Inbound (sync_in.c),
 * outbound (sync_out.c) and collections (collection.c) write through here; each write
 * queues in the sync_work what it touches.  Memory: rows are read into e->scratch2 (a new
 * object's empty attribute set into e->scratch); nothing is returned that the caller must
 * free. */
#ifndef MVS_MV_H
#define MVS_MV_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/flow.h"
#include "engine/work.h"

/* A new metaverse object of this type with no attributes yet (a projection); *mv_id its id. */
int mv_create(mvs_engine *e, const char *type, int64_t *mv_id);
/* True when name is a metaverse attribute some inbound join condition uses. */
bool mv_key_attr(mvs_engine *e, const char *name);
/* Write the key rows of the metaverse attributes join conditions use, from the attribute
 * set now; with queue, the disconnectors matching the old or the new values are queued;
 * none: the object has no key rows (nothing to list). */
int mv_write_keys(mvs_engine *e, int64_t mv_id, const attrset *now, bool queue, bool none,
                  sync_work *w);
/* Bring the reference rows of one attribute to want (sorted, unique; NULL: none), with
 * the changes in d (may be NULL); *changed set when a row changed. */
int mv_write_refs(mvs_engine *e, int64_t mv_id, const char *attr, const id_list *want,
                  diff_entry *d, bool *changed);
/* Apply the value deltas of ct's object to the reference rows of attr (the stored name);
 * each change is noted for outbound under the rule set's name of the attribute.  Returns 1,
 * having changed nothing, when a removed value names an object that is no longer joined (or
 * no longer exists: deleted in the same delta): the metaverse value it stood for is unknown
 * now, so the caller re-reads the references. */
int mv_apply_ref_delta(mvs_engine *e, int64_t mv_id, const char *attr, const contrib *ct,
                       diff_entry *d, bool *changed, sync_work *w);
/* Stage the delete of a provisioned object and disconnect it. */
int mv_deprovision(mvs_engine *e, const cs_row *cs, sync_work *w);
/* Delete a metaverse object: disconnect everything, stage deletes of provisioned targets. */
int mv_delete(mvs_engine *e, int64_t mv_id, sync_work *w);

#endif
