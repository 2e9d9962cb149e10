/* label — how diffs, traces and the dump name objects: a connector-space object by its DN
 * (else anchor), a metaverse object by its sorted links ("CONNECTOR/anchor ...", a
 * collection's "collection/NAME"), or metaverse/ID when nothing links it.  Memory: labels and
 * link texts live in the arena given; the links array is malloc'd (the caller frees it). */
#ifndef MVS_LABEL_H
#define MVS_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine_int.h"
#include "engine/store.h"

/* A connector-space object's label: its DN, else its anchor. */
int label_cs(mvs_engine *e, const cs_row *cs, mvs_arena *a, const char **label);
/* A metaverse object's label: its links joined by spaces, else "metaverse/ID". */
int label_mv(mvs_engine *e, int64_t mv_id, mvs_arena *a, const char **label);
/* The sorted links of a metaverse object; a collection's object also names its collection
 * (`collection/NAME`), which identifies it before anything joins it. */
int label_mv_links(mvs_engine *e, int64_t mv_id, mvs_arena *a, const char ***links, size_t *n);

#endif
