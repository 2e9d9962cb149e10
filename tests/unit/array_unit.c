/* array_unit — schema/array.h held to its contract: capacities double from the first block
 * (ARRAY_FIRST_CAP, or the one array_grow_from is given), an arena array keeps its elements
 * when it moves, and a size that overflows fails leaving the array as it was.
 * Memory: everything is freed before exit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "schema/array.h"

static int fails;

#define CHECK(cond, what)                                        \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what); \
      fails++;                                                   \
    }                                                            \
  } while (0)

int main(void)
{
  int *v = NULL, *before;
  size_t cap = 0, n;
  mvs_arena *a = mvs_arena_new(0);

  /* Pushes one by one: 16, then 32 (the first block, then doubling). */
  for (n = 0; n < 17; n++) {
    CHECK(array_reserve(&v, &cap, n + 1, sizeof *v) == 0, "reserve");
    v[n] = (int)n;
  }
  CHECK(cap == 32, "17 pushes: capacity 16 doubled once");
  CHECK(v[0] == 0 && v[16] == 16, "values kept across growth");
  /* A need beyond one doubling doubles until it fits. */
  CHECK(array_reserve(&v, &cap, 100, sizeof *v) == 0 && cap == 128, "need 100 from 32: 128");
  /* Overflow: fails, the array unchanged. */
  before = v;
  CHECK(array_grow(&v, &cap, SIZE_MAX / 2, sizeof *v) == -1, "overflowing size fails");
  CHECK(v == before && cap == 128, "a failed growth leaves the array as it was");
  free(v);

  /* A chosen first block: 4, 8. */
  v = NULL;
  cap = 0;
  CHECK(array_grow_from(&v, &cap, 1, sizeof *v, 4) == 0 && cap == 4, "first block of 4");
  CHECK(array_grow_from(&v, &cap, 5, sizeof *v, 4) == 0 && cap == 8, "then 8");
  free(v);

  /* In an arena: the n elements move with the array. */
  v = NULL;
  cap = 0;
  CHECK(a != NULL, "arena");
  for (n = 0; a && n < 40; n++) {
    CHECK(array_reserve_in(a, &v, n, &cap, n + 1, sizeof *v) == 0, "reserve in arena");
    v[n] = (int)(n * 3);
  }
  CHECK(cap == 64 && v[0] == 0 && v[39] == 117, "arena array: 64, values kept");
  if (a)
    mvs_arena_free(a);
  if (fails)
    return 1;
  printf("array_unit: all checks passed\n");
  return 0;
}
