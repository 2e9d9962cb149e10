/* hmap — an open-addressing multimap from 64-bit hashes to nonzero values (the indexes of
 * objects by anchor and DN); callers confirm keys, nothing is removed.  Memory: the map owns its
 * slots, never the values. */
#ifndef MVS_HMAP_H
#define MVS_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hmap {
  uint64_t *h;
  uintptr_t *v; /* 0 marks an empty slot */
  size_t cap, n;
} hmap;

/* A well-mixed 64-bit hash of bytes. */
uint64_t hmap_hash(const void *p, size_t n);
/* Add (h, v); v must be nonzero.  Returns 0, or -1 when out of memory. */
int hmap_put(hmap *m, uint64_t h, uintptr_t v);
/* The values stored under h, one per call: start with *it = 0; 0 when there are no more. */
uintptr_t hmap_next(const hmap *m, uint64_t h, size_t *it);
void hmap_free(hmap *m);

#endif
