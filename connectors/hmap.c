/* hmap — linear-probing multimap of hashes to values.  See hmap.h. */
#include "connectors/hmap.h"

#include <stdlib.h>

uint64_t hmap_hash(const void *p, size_t n)
{
  const unsigned char *s = p;
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= UINT64_C(0x100000001b3);
  }
  /* FNV-1a alone clusters in the low bits the slot index uses; finish like MurmurHash3. */
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= UINT64_C(0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h;
}

static int grow(hmap *m)
{
  size_t ncap = m->cap ? m->cap * 2 : 64, i;
  uint64_t *nh = calloc(ncap, sizeof *nh);
  uintptr_t *nv = calloc(ncap, sizeof *nv);
  if (!nh || !nv) {
    free(nh);
    free(nv);
    return -1;
  }
  for (i = 0; i < m->cap; i++)
    if (m->v[i]) {
      size_t j = m->h[i] & (ncap - 1);
      while (nv[j])
        j = (j + 1) & (ncap - 1);
      nh[j] = m->h[i];
      nv[j] = m->v[i];
    }
  free(m->h);
  free(m->v);
  m->h = nh;
  m->v = nv;
  m->cap = ncap;
  return 0;
}

int hmap_put(hmap *m, uint64_t h, uintptr_t v)
{
  size_t j;
  if ((m->n + 1) * 4 > m->cap * 3 && grow(m) != 0)
    return -1;
  j = h & (m->cap - 1);
  while (m->v[j])
    j = (j + 1) & (m->cap - 1);
  m->h[j] = h;
  m->v[j] = v;
  m->n++;
  return 0;
}

uintptr_t hmap_next(const hmap *m, uint64_t h, size_t *it)
{
  size_t j;
  if (!m->cap)
    return 0;
  /* *it counts the slots probed so far from the home slot. */
  for (j = (h + *it) & (m->cap - 1); m->v[j]; j = (j + 1) & (m->cap - 1)) {
    ++*it;
    if (m->h[j] == h)
      return m->v[j];
  }
  return 0;
}

void hmap_free(hmap *m)
{
  free(m->h);
  free(m->v);
  m->h = NULL;
  m->v = NULL;
  m->cap = m->n = 0;
}
