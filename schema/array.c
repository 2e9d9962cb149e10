/* array — growing malloc'd arrays; see array.h. */
#include "schema/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The capacity after growing from cap (first when empty) to hold need elements of size
 * bytes; 0 on overflow. */
static size_t grown_cap(size_t cap, size_t need, size_t size, size_t first)
{
  size_t ncap = cap ? cap : first ? first : 1;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2)
      return 0;
    ncap *= 2;
  }
  return size && ncap > SIZE_MAX / size ? 0 : ncap;
}

int array_grow_from(void *items, size_t *cap, size_t need, size_t size, size_t first)
{
  size_t ncap = grown_cap(*cap, need, size, first);
  void *p, *np;

  if (!ncap)
    return -1;
  /* items points at the caller's T *: read and write it as bytes, whatever T is. */
  memcpy(&p, items, sizeof p);
  if (!(np = realloc(p, ncap * size)))
    return -1;
  memcpy(items, &np, sizeof np);
  *cap = ncap;
  return 0;
}

int array_grow(void *items, size_t *cap, size_t need, size_t size)
{
  return array_grow_from(items, cap, need, size, ARRAY_FIRST_CAP);
}

int array_grow_in(mvs_arena *a, void *items, size_t n, size_t *cap, size_t need, size_t size)
{
  size_t ncap = grown_cap(*cap, need, size, ARRAY_FIRST_CAP);
  void *p, *np;

  if (!ncap || !(np = mvs_arena_alloc(a, ncap * size)))
    return -1;
  memcpy(&p, items, sizeof p);
  if (n)
    memcpy(np, p, n * size);
  memcpy(items, &np, sizeof np);
  *cap = ncap;
  return 0;
}
