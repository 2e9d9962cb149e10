/* fuzz_graph_json — libFuzzer target for the streaming Graph JSON reader (entra shape), as a
 * snapshot or as a change log (the first byte chooses): every object read is written back as
 * a delta-page line, and that line must read back to the same change.  Memory: everything is
 * freed per input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/file/fobj.h"
#include "connectors/graph_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct check {
  const fchange *want; /* the change the written line must give back */
  int count;
} check;

static bool same_value(mvs_value a, mvs_value b)
{
  if (mvs_count(a) != mvs_count(b))
    return false;
  for (size_t i = 0; i < mvs_count(a); i++)
    if (!fobj_value_eq(mvs_item(a, i), mvs_item(b, i)))
      return false;
  return true;
}

/* The changes a makes to name, in order, are those b makes (the writer may move an
 * attribute relative to others, never among changes of the same name). */
static bool same_changes_of(const fchange *a, const fchange *b, const char *name)
{
  size_t i = 0, j = 0;
  for (;;) {
    while (i < a->n_attrs && strcmp(a->attrs[i].name, name) != 0)
      i++;
    while (j < b->n_attrs && strcmp(b->attrs[j].name, name) != 0)
      j++;
    if (i == a->n_attrs || j == b->n_attrs)
      return i == a->n_attrs && j == b->n_attrs;
    if (a->attrs[i].op != b->attrs[j].op || !same_value(a->attrs[i].value, b->attrs[j].value))
      return false;
    i++;
    j++;
  }
}

static bool same_change(const fchange *a, const fchange *b)
{
  if (a->kind != b->kind || strcmp(a->anchor, b->anchor) != 0 || a->n_attrs != b->n_attrs ||
      (a->type == NULL) != (b->type == NULL) || (a->type && strcmp(a->type, b->type) != 0))
    return false;
  for (size_t i = 0; i < a->n_attrs; i++)
    if (!same_changes_of(a, b, a->attrs[i].name))
      return false;
  return true;
}

static int read_again(void *u, const fchange *ch)
{
  check *c = u;
  if (++c->count > 1 || !same_change(c->want, ch))
    abort(); /* the written line reads back as something else */
  return 0;
}

static int round_trip(void *u, const fchange *ch)
{
  const ftyper *t = u;
  gj_opts o = {"written.json", t, true, 1 << 16, NULL, 0, 0};
  check c = {ch, 0};
  char err[512];
  buf out;
  FILE *f;

  buf_init(&out, 0);
  if (gj_write_change(ch, t->shape, &out) != BUF_OK)
    abort(); /* everything the reader gives can be written */
  f = fmemopen(out.p, out.len, "r");
  if (!f || gj_read(f, (int64_t)out.len, &o, read_again, &c, err, sizeof err) != GJ_OK ||
      c.count != 1)
    abort();
  fclose(f);
  buf_free(&out);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ftyper t = {shape_find("entra"), NULL, 0};
  gj_opts o = {"fuzz.json", &t, size > 0 && (data[0] & 1), 1 << 16, NULL, 0, 0};
  char err[512];
  FILE *f;

  if (size < 2)
    return 0;
  f = fmemopen((void *)(data + 1), size - 1, "r");
  if (!f)
    return 0;
  gj_read(f, (int64_t)(size - 1), &o, round_trip, &t, err, sizeof err);
  fclose(f);
  return 0;
}
