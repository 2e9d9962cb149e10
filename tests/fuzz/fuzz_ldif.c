/* fuzz_ldif — libFuzzer target for the LDIF reader and its mapping to typed changes (ad
 * shape): every record that reads is written back as LDIF, and the written text must read
 * back to the same change.  Memory: everything is freed per input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/file/fobj.h"
#include "connectors/file/ldif_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ldif_limits limits = {4096, 1 << 16};

static bool same_value(mvs_value a, mvs_value b)
{
  if (mvs_count(a) != mvs_count(b))
    return false;
  for (size_t i = 0; i < mvs_count(a); i++)
    if (!fobj_value_eq(mvs_item(a, i), mvs_item(b, i)))
      return false;
  return true;
}

static bool same_change(const fchange *a, const fchange *b)
{
  if (a->kind != b->kind || a->is_add != b->is_add || strcmp(a->dn, b->dn) != 0 ||
      a->n_attrs != b->n_attrs || a->delete_old_rdn != b->delete_old_rdn)
    return false;
  if (a->kind == FCH_RENAME &&
      !dn_equal(a->new_dn, strlen(a->new_dn), b->new_dn, strlen(b->new_dn)))
    return false;
  if (a->kind == FCH_ENTRY && (strcmp(a->anchor, b->anchor) != 0 || strcmp(a->type, b->type) != 0))
    return false;
  for (size_t i = 0; i < a->n_attrs; i++)
    if (strcasecmp(a->attrs[i].name, b->attrs[i].name) != 0 || a->attrs[i].op != b->attrs[i].op ||
        !same_value(a->attrs[i].value, b->attrs[i].value))
      return false;
  return true;
}

/* Read text as LDIF; for each change call check(change, arg).  Returns the records read. */
static size_t each_change(const char *text, size_t n, const ftyper *t,
                          void (*check)(const fchange *, const ftyper *, void *), void *arg)
{
  FILE *f = n ? fmemopen((void *)text, n, "r") : NULL;
  ldif_reader *r;
  mvs_arena *a = mvs_arena_new(1 << 20);
  const ldif_record *rec;
  size_t count = 0;
  char err[512];

  if (!f || !a) {
    if (f)
      fclose(f);
    mvs_arena_free(a);
    return 0;
  }
  r = ldif_reader_new(f, "fuzz.ldif", 0, 0, (int64_t)n, &limits);
  while (r && ldif_next(r, &rec) == LDIF_RECORD) {
    fchange ch;
    mvs_arena_reset(a);
    if (ldif_to_change(rec, "fuzz.ldif", t, a, &ch, err, sizeof err) != 0)
      break;
    count++;
    check(&ch, t, arg);
  }
  ldif_reader_free(r);
  mvs_arena_free(a);
  fclose(f);
  return count;
}

static void expect_same(const fchange *again, const ftyper *t, void *arg)
{
  (void)t;
  if (!same_change(arg, again))
    abort(); /* the written record reads back as something else */
}

static void round_trip(const fchange *ch, const ftyper *t, void *arg)
{
  buf out;
  (void)arg;
  buf_init(&out, 0);
  if (ldif_write_change(ch, &out) == BUF_OK &&
      each_change(out.p, out.len, t, expect_same, (void *)ch) != 1)
    abort(); /* what the writer wrote is not one record */
  buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ftyper t = {shape_find("ad"), NULL, 0};
  each_change((const char *)data, size, &t, round_trip, NULL);
  return 0;
}
