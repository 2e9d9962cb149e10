/* dump — the store as `mvsync dump`, `show` and `runs` print it; here what others share: an
 * object's attributes as JSON (search.c), and a run as `runs --json` prints it (status.c).
 * Memory: appends to the caller's buf. */
#ifndef MVS_DUMP_H
#define MVS_DUMP_H

#include "engine/attrset.h"
#include "engine/engine.h"
#include "engine/store.h"
#include "schema/buf.h"

/* An object's attributes as a JSON object appended to b: values from its attribute set,
 * references from its rows (metaverse: each target named by its links). */
int dump_attrs(mvs_engine *e, buf *b, const attrset *s, const ref_rows *refs, bool metaverse,
               mvs_arena *a);
/* One run as a JSON object appended to out. */
void dump_run_json(buf *out, const run_row *r);

#endif
