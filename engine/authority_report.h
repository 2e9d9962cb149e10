/* authority_report — the authority map with the store's facts: how many objects each rule
 * decides today, the objects a split finding concerns, drift findings from the recorded
 * drift (object, attribute, value, runs), objects in scope and last change of each writeback
 * dependency; and the map rendered as text, JSON, CSV or a self-contained HTML page.  The
 * map itself is rules/authority.h.  docs/authority.md, docs/internals/authority.md.
 * Memory: everything added to the map lives in its arena; rendered text is appended to the
 * caller's buf. */
#ifndef MVS_AUTHORITY_REPORT_H
#define MVS_AUTHORITY_REPORT_H

#include "engine/engine.h"
#include "rules/authority.h"

enum { AUTHORITY_TEXT = 0, AUTHORITY_JSON, AUTHORITY_CSV, AUTHORITY_HTML };

/* The map of the engine's rule set (also: the other engine's rule set, or NULL) with the
 * store's facts.  ENGINE_OK, or ENGINE_SYSTEM (engine_error says why). */
int engine_authority(mvs_engine *e, const rule_set *also, const char *connector,
                     rule_date today, authority_map *m);

/* Render the map; 0, or -1 when out of memory. */
int authority_render(const authority_map *m, int format, buf *out);

#endif
