/* idset — a bitmap of row ids (idset.h). */
#include <stdlib.h>
#include <string.h>

#include "engine/idset.h"
#include "schema/array.h"

int idset_add(idset *s, int64_t id)
{
  size_t w;
  if (id <= 0)
    return -1;
  w = (size_t)((uint64_t)id / 64);
  if (w >= s->words) {
    size_t old = s->words;
    if (array_grow(&s->bits, &s->words, w + 1, sizeof *s->bits) != 0)
      return -1;
    memset(s->bits + old, 0, (s->words - old) * sizeof *s->bits);
  }
  s->bits[w] |= (uint64_t)1 << ((uint64_t)id % 64);
  return 0;
}

bool idset_has(const idset *s, int64_t id)
{
  size_t w;
  if (id <= 0)
    return false;
  w = (size_t)((uint64_t)id / 64);
  return w < s->words && (s->bits[w] >> ((uint64_t)id % 64) & 1);
}

void idset_free(idset *s)
{
  free(s->bits);
  s->bits = NULL;
  s->words = 0;
}
