/* state — entries, indexes and change application of a file directory.  See state.h. */
#include "connectors/file/state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/dn.h"
#include "schema/array.h"

fstate *fstate_new(const shape *s, bool keep_attrs)
{
  fstate *st = calloc(1, sizeof *st);
  if (!st)
    return NULL;
  st->shape = s;
  st->keep_attrs = keep_attrs;
  buf_init(&st->scratch, 0);
  return st;
}

static void entry_free(fentry *e)
{
  free(e->anchor);
  free(e->dn);
  free(e->key);
  free(e->origin);
  fobj_free(&e->attrs);
  free(e);
}

void fstate_free(fstate *st)
{
  if (!st)
    return;
  for (size_t i = 0; i < st->n; i++)
    entry_free(st->e[i]);
  for (size_t i = 0; i < st->n_touched; i++)
    free(st->touched_keys[i]);
  for (size_t i = 0; i < st->n_types; i++)
    free(st->types[i]);
  free(st->e);
  free(st->touched_keys);
  free(st->types);
  hmap_free(&st->by_anchor);
  hmap_free(&st->by_key);
  hmap_free(&st->touched);
  buf_free(&st->scratch);
  free(st);
}

static int fail(char *err, size_t errlen, const fchange *ch, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, const fchange *ch, const char *fmt, ...)
{
  va_list ap;
  int n = ch->origin ? snprintf(err, errlen, "%s: ", ch->origin) : 0; /* exports have none */
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < errlen)
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* The key of a DN in st->scratch (valid until the next call); NULL when out of memory. */
static const char *key_of(fstate *st, const char *dn)
{
  buf_reset(&st->scratch);
  if (dn_key(dn, strlen(dn), &st->scratch) != BUF_OK || buf_addc(&st->scratch, '\0') != BUF_OK)
    return NULL;
  return st->scratch.p;
}

static fentry *find(const hmap *m, const char *k, bool by_key, bool dead_too)
{
  uint64_t h = hmap_hash(k, strlen(k));
  size_t it = 0;
  uintptr_t v;
  while ((v = hmap_next(m, h, &it)) != 0) {
    fentry *e = (fentry *)v;
    if ((e->alive || dead_too) && strcmp(by_key ? e->key : e->anchor, k) == 0)
      return e;
  }
  return NULL;
}

fentry *fstate_by_anchor(fstate *st, const char *anchor)
{
  return find(&st->by_anchor, anchor, false, false);
}

bool fstate_knows_anchor(fstate *st, const char *anchor)
{
  return find(&st->by_anchor, anchor, false, true) != NULL;
}

fentry *fstate_by_dn(fstate *st, const char *dn)
{
  const char *k = key_of(st, dn);
  return k ? find(&st->by_key, k, true, false) : NULL;
}

bool fstate_knows_dn(fstate *st, const char *dn)
{
  const char *k = key_of(st, dn);
  return k && find(&st->by_key, k, true, true) != NULL;
}

bool fstate_has_children(fstate *st, const fentry *e)
{
  size_t kn = strlen(e->key);
  for (size_t i = 0; i < st->n; i++) {
    const fentry *c = st->e[i];
    size_t cn = strlen(c->key);
    if (c->alive && cn > kn + 1 && c->key[cn - kn - 1] == ',' &&
        strcmp(c->key + cn - kn, e->key) == 0)
      return true;
  }
  return false;
}

/* ---- pass one ---- */

static int touch_key(fstate *st, const char *dn)
{
  const char *k = key_of(st, dn);
  uint64_t h;
  size_t it = 0;
  uintptr_t v;

  if (!k)
    return -1;
  h = hmap_hash(k, strlen(k));
  while ((v = hmap_next(&st->touched, h, &it)) != 0)
    if (strcmp((const char *)v, k) == 0)
      return 0;
  if (array_reserve(&st->touched_keys, &st->cap_touched, st->n_touched + 1,
                    sizeof *st->touched_keys) != 0)
    return -1;
  if (!(st->touched_keys[st->n_touched] = strdup(k)))
    return -1;
  if (hmap_put(&st->touched, h, (uintptr_t)st->touched_keys[st->n_touched]) != 0) {
    free(st->touched_keys[st->n_touched]);
    return -1;
  }
  st->n_touched++;
  return 0;
}

int fstate_touch(fstate *st, const fchange *ch)
{
  if (touch_key(st, ch->dn) != 0)
    return -1;
  return ch->kind == FCH_RENAME ? touch_key(st, ch->new_dn) : 0;
}

bool fstate_touched(fstate *st, const fchange *ch)
{
  const char *k = key_of(st, ch->dn);
  uint64_t h;
  size_t it = 0;
  uintptr_t v;
  if (!k)
    return true; /* out of memory: keep the entry, the apply pass will report it */
  h = hmap_hash(k, strlen(k));
  while ((v = hmap_next(&st->touched, h, &it)) != 0)
    if (strcmp((const char *)v, k) == 0)
      return true;
  return false;
}

/* ---- applying changes ---- */

/* One copy of each type name: an index of a million objects holds a handful of types. */
static const char *intern_type(fstate *st, const char *type)
{
  char **nt;
  for (size_t i = 0; i < st->n_types; i++)
    if (strcmp(st->types[i], type) == 0)
      return st->types[i];
  if (array_reserve(&st->types, &st->cap_types, st->n_types + 1, sizeof *st->types) != 0)
    return NULL;
  nt = st->types;
  if (!(nt[st->n_types] = strdup(type)))
    return NULL;
  return nt[st->n_types++];
}

static int set_origin(fstate *st, fentry *e, const char *origin)
{
  char *o;
  if (!st->keep_attrs || !origin)
    return 0;
  if (!(o = strdup(origin)))
    return -2;
  free(e->origin);
  e->origin = o;
  return 0;
}

static int apply_attrs(fstate *st, fentry *e, const fchange *ch)
{
  if (!st->keep_attrs)
    return 0;
  for (size_t i = 0; i < ch->n_attrs; i++)
    if (fobj_apply(&e->attrs, &ch->attrs[i], true) != 0)
      return -2;
  return set_origin(st, e, ch->origin);
}

static int create(fstate *st, const fchange *ch, const char *key, fentry **out)
{
  fentry *e;

  if (array_reserve(&st->e, &st->cap, st->n + 1, sizeof *st->e) != 0)
    return -2;
  if (!(e = calloc(1, sizeof *e)))
    return -2;
  e->anchor = strdup(ch->anchor);
  e->dn = strdup(ch->dn);
  e->key = strdup(key);
  e->type = intern_type(st, ch->type);
  if (!e->anchor || !e->dn || !e->key || !e->type) {
    entry_free(e);
    return -2;
  }
  /* In the list before the indexes, so an index slot never outlives its entry. */
  st->e[st->n++] = e;
  if (hmap_put(&st->by_key, hmap_hash(e->key, strlen(e->key)), (uintptr_t)e) != 0 ||
      hmap_put(&st->by_anchor, hmap_hash(e->anchor, strlen(e->anchor)), (uintptr_t)e) != 0)
    return -2;
  e->alive = true;
  *out = e;
  return apply_attrs(st, e, ch);
}

int fstate_seed(fstate *st, const char *anchor, const char *dn, const char *type)
{
  fchange ch = {.kind = FCH_ENTRY, .dn = dn, .anchor = anchor, .type = type};
  const char *key = key_of(st, dn);
  fentry *by_key, *by_anchor, *e;

  if (!key)
    return -2;
  by_key = find(&st->by_key, key, true, false);
  by_anchor = fstate_by_anchor(st, anchor);
  if (by_key || by_anchor)
    return by_key == by_anchor ? 1 : -1;
  if (create(st, &ch, key, &e) != 0)
    return -2;
  e->seeded = true;
  return 0;
}

static int rename_entry(fstate *st, fentry *e, const fchange *ch, char *err, size_t errlen)
{
  char *k2, *dn;
  fentry *other;

  if (!key_of(st, ch->new_dn) || !(k2 = strdup(st->scratch.p)))
    return -2;
  other = find(&st->by_key, k2, true, false);
  if (other && other != e) {
    free(k2);
    return fail(err, errlen, ch, "an entry %s already exists", ch->new_dn);
  }
  if (!(dn = strdup(ch->new_dn)) ||
      hmap_put(&st->by_key, hmap_hash(k2, strlen(k2)), (uintptr_t)e) != 0) {
    free(dn);
    free(k2);
    return -2;
  }
  free(e->dn);
  free(e->key);
  e->dn = dn;
  e->key = k2;
  return apply_attrs(st, e, ch);
}

int fstate_apply(fstate *st, const fchange *ch, fentry **out, fev *ev, char *err, size_t errlen)
{
  const char *key = key_of(st, ch->dn);
  fentry *e, *other;

  *out = NULL;
  *ev = FEV_NONE;
  if (!key)
    return -2;
  e = find(&st->by_key, key, true, false);
  switch (ch->kind) {
  case FCH_ENTRY:
  case FCH_UPSERT:
    if (e && ch->kind == FCH_UPSERT) {
      *out = e;
      *ev = FEV_UPDATE;
      return apply_attrs(st, e, ch);
    }
    if (e)
      return fail(err, errlen, ch, "an entry %s already exists", ch->dn);
    if ((other = fstate_by_anchor(st, ch->anchor)) != NULL)
      return fail(err, errlen, ch, "%s %s is already the anchor of %s", st->shape->anchor_attr,
                  ch->anchor, other->dn);
    if (!ch->type)
      return fail(err, errlen, ch, "new object %s has no type (give \"@odata.type\")", ch->dn);
    *ev = FEV_ADD;
    return create(st, ch, key, out);
  case FCH_MODIFY:
    if (!e)
      return fail(err, errlen, ch, "no entry %s to modify", ch->dn);
    *out = e;
    *ev = FEV_UPDATE;
    return apply_attrs(st, e, ch);
  case FCH_RENAME:
    if (!e)
      return fail(err, errlen, ch, "no entry %s to rename", ch->dn);
    *out = e;
    *ev = FEV_UPDATE;
    return rename_entry(st, e, ch, err, errlen);
  case FCH_DELETE:
    if (!e) {
      if (!st->shape->ldap)
        return 0; /* Graph reports removals of objects a client never saw */
      return fail(err, errlen, ch, "no entry %s to delete", ch->dn);
    }
    e->alive = false;
    *out = e;
    *ev = FEV_DELETE;
    return set_origin(st, e, ch->origin);
  }
  return 0;
}
