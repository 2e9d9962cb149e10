/* keys — the join-key rows of one object kept equal to its values.  The wanted rows (each
 * key attribute's values, folded by attr_fold) are compared with the stored ones and only
 * the difference is written: an import that changed no key value (most do) dirties no page
 * of the key tables.  Used for connector-space keys (sync_in.c) and metaverse keys (mv.c).
 * Memory: the wanted rows live in the arena the caller passes; nothing is returned that
 * the caller must free. */
#ifndef MVS_KEYS_H
#define MVS_KEYS_H

#include <stddef.h>

#include "engine/store.h"
#include "schema/buf.h"
#include "schema/value.h"

typedef enum key_op { KEY_ADD, KEY_REMOVE, KEY_KEEP } key_op;

/* The values of one key attribute of the object. */
typedef mvs_value (*key_values_fn)(void *u, const char *attr);
/* Write (KEY_ADD, KEY_REMOVE) or note (KEY_KEEP) one row; 0 or -1. */
typedef int (*key_row_fn)(void *u, const char *attr, const char *norm, key_op op);

/* Bring the rows in `have` (as the store lists them: sorted by attr, then norm, bytewise)
 * to the values of attrs[0..n) that `values` gives, calling `row` for each row removed,
 * added or kept.  0, or -1 (memory, a value too large to fold, or `row` failed). */
int keys_sync(mvs_arena *a, const char *const *attrs, size_t n, key_values_fn values,
              const ref_rows *have, key_row_fn row, void *u);

#endif
