/* array — the one way an array grows, malloc'd or in an arena: room for `need` elements, the
 * capacity doubling (from ARRAY_FIRST_CAP) so n pushes cost O(n).  Memory: a malloc'd array
 * stays the caller's (free it with free()); an arena array lives as long as its arena (the
 * outgrown block too, which at most doubles what it takes); on failure it is left as it was. */
#ifndef MVS_ARRAY_H
#define MVS_ARRAY_H

#include <stddef.h>

#include "schema/buf.h"

/* The capacity of an array's first block, in elements; each growth doubles it. */
enum { ARRAY_FIRST_CAP = 16 };

/* Grow the array *items (a T **, passed as void *) of *cap elements of `size` bytes to hold at
 * least `need`: 0, or -1 when memory runs out or the size overflows (*items and *cap
 * unchanged). */
int array_grow(void *items, size_t *cap, size_t need, size_t size);

/* array_grow with another first capacity: for arrays most of which stay small (an
 * attribute's values: one, mostly), where ARRAY_FIRST_CAP would waste more than they hold. */
int array_grow_from(void *items, size_t *cap, size_t need, size_t size, size_t first);

/* array_grow only when the array is full: the check every push makes stays inline. */
static inline int array_reserve(void *items, size_t *cap, size_t need, size_t size)
{
  return need <= *cap ? 0 : array_grow(items, cap, need, size);
}

static inline int array_reserve_from(void *items, size_t *cap, size_t need, size_t size,
                                     size_t first)
{
  return need <= *cap ? 0 : array_grow_from(items, cap, need, size, first);
}

/* The same for an array in arena a holding n elements: a new block, the n copied. */
int array_grow_in(mvs_arena *a, void *items, size_t n, size_t *cap, size_t need, size_t size);

static inline int array_reserve_in(mvs_arena *a, void *items, size_t n, size_t *cap,
                                   size_t need, size_t size)
{
  return need <= *cap ? 0 : array_grow_in(a, items, n, cap, need, size);
}

#endif
