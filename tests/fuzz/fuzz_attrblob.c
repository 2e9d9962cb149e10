/* fuzz_attrblob — libFuzzer target for the store's attribute blobs (engine/attrset.c): the
 * whole input as an object's blob and as one pending export value.  A blob that decodes is
 * a set every name can be found in (sorted, unique, no NUL inside a name); it encodes to
 * a canonical blob that decodes to the same attributes, sources and values and encodes to
 * itself.  Likewise for a single value.  Memory: per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attrset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

static bool same_text(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

static void blob(mvs_arena *arena, const uint8_t *data, size_t size)
{
  attrset s, again;
  buf out, out2;

  attrset_init(&s, arena);
  attrset_init(&again, arena);
  buf_init(&out, 0);
  buf_init(&out2, 0);
  if (attrset_decode(&s, data, size) == 0) {
    for (size_t i = 0; i < s.n; i++)
      check(attrset_get(&s, s.items[i].name, strlen(s.items[i].name)) == &s.items[i]);
    check(attrset_encode(&s, &out) == 0);
    check(attrset_decode(&again, out.p, out.len) == 0 && again.n == s.n);
    for (size_t i = 0; i < s.n; i++)
      check(strcmp(s.items[i].name, again.items[i].name) == 0 &&
            s.items[i].flags == again.items[i].flags &&
            same_text(s.items[i].src, again.items[i].src) &&
            attr_value_same(s.items[i].value, again.items[i].value));
    check(attrset_encode(&again, &out2) == 0 && out2.len == out.len &&
          memcmp(out.p, out2.p, out.len) == 0);
  }
  attrset_free(&s);
  attrset_free(&again);
  buf_free(&out);
  buf_free(&out2);
}

static void single(mvs_arena *arena, const uint8_t *data, size_t size)
{
  mvs_value v, again;
  buf out, out2;

  buf_init(&out, 0);
  buf_init(&out2, 0);
  if (attr_value_decode(arena, data, size, &v) == 0) {
    check(attr_value_encode(v, &out) == 0);
    check(attr_value_decode(arena, out.p, out.len, &again) == 0 && attr_value_same(v, again));
    check(attr_value_encode(again, &out2) == 0 && out2.len == out.len &&
          memcmp(out.p, out2.p, out.len) == 0);
  }
  buf_free(&out);
  buf_free(&out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mvs_arena *arena = mvs_arena_new(1 << 24);
  if (!arena)
    return 0;
  blob(arena, data, size);
  single(arena, data, size);
  mvs_arena_free(arena);
  return 0;
}
