/* idset — a set of row ids as a bitmap: what a full sync remembers about every object it
 * visits (its key rows written, its import taken, its references read) without a statement
 * per object.  Row ids are dense (SQLite hands out max + 1), so a store of n rows costs n/8
 * bytes.  Memory: the bitmap is malloc'd and owned by the set; idset_free releases it. */
#ifndef MVS_IDSET_H
#define MVS_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct idset {
  uint64_t *bits;
  size_t words;
} idset;

/* Add id (> 0): 0, or -1 when memory runs out (the set unchanged). */
int idset_add(idset *s, int64_t id);
bool idset_has(const idset *s, int64_t id);
void idset_free(idset *s);

#endif
