/* schedule — Connect's scheduler rules (docs/monitoring.md): whether a connector's next import
 * or the next sync must be a full one and why, and what a finished import or cycle leaves for
 * the next decision.  Memory: reasons are written into the caller's buffers; nothing returned
 * is allocated. */
#ifndef MVS_SCHEDULE_H
#define MVS_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine_int.h"

/* Whether c's next import must be a full one, and why (reason; "" when not due): never
 * fully imported, no delta watermark, its settings changed or it imports an attribute or
 * object type it did not at its last full import, or its watermark is older than its
 * directory keeps changes (delta-max-age).  ENGINE_OK or ENGINE_SYSTEM, with e->errmsg. */
int schedule_import_due(mvs_engine *e, conn_info *c, char *reason, size_t len, bool *due);
/* Whether the next sync must be a full one (never synced, or the rule set changed), and why;
 * ENGINE_OK or ENGINE_SYSTEM. */
int schedule_sync_due(mvs_engine *e, char *reason, size_t len, bool *due);
/* After a committed import of c (full: it was a full one): remember when its watermark was
 * issued and, for a full import, what it read.  0, or -1 on a store error. */
int schedule_note_import(mvs_engine *e, conn_info *c, bool full);
/* After a cycle that ran every step (errors per object allowed): when it ended. */
int schedule_note_cycle(mvs_engine *e);
/* What the overrides (`mvsync schedule override`) ask of the next cycle: with c, whether a
 * full import of c; without, whether a full sync (any rule-set connector's override asks
 * for one); and why.  Overrides of connectors the rule set does not name ask for nothing.
 * ENGINE_OK or ENGINE_SYSTEM. */
int schedule_override_due(mvs_engine *e, conn_info *c, char *reason, size_t len,
                          bool *full_import, bool *full_sync);
/* After a cycle that ran every step: it ran what every rule-set connector's override asked
 * for, so they are done.  0, or -1 on a store error. */
int schedule_overrides_done(mvs_engine *e);
/* "YYYY-MM-DDTHH:MM:SSZ" (the runs' times) as seconds since the epoch, -1 when it is not
 * one; and back (out: 32 bytes). */
int64_t schedule_epoch(const char *iso);
void schedule_iso(int64_t epoch, char out[32]);

#endif
