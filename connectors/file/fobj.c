/* fobj — owned attribute value sets and their change algebra.  See fobj.h. */
#include "connectors/file/fobj.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/hmap.h"
#include "schema/array.h"

static int copy_value(mvs_value in, mvs_value *out)
{
  *out = in;
  if (in.type == MVS_V_STR || in.type == MVS_V_BIN || in.type == MVS_V_REF) {
    char *p = malloc(in.u.s.n + 1);
    if (!p)
      return -1;
    memcpy(p, in.u.s.p, in.u.s.n);
    p[in.u.s.n] = '\0';
    out->u.s.p = p;
  }
  return 0;
}

static void free_value(mvs_value *v)
{
  if (v->type == MVS_V_STR || v->type == MVS_V_BIN || v->type == MVS_V_REF)
    free((char *)v->u.s.p);
}

static uint64_t value_hash(mvs_value v)
{
  uint64_t h;
  switch (v.type) {
  case MVS_V_REF: {
    buf key;
    buf_init(&key, 0);
    h = dn_key(v.u.s.p, v.u.s.n, &key) == BUF_OK ? hmap_hash(key.p, key.len) : 0;
    buf_free(&key);
    return h ^ MVS_V_REF;
  }
  case MVS_V_STR:
  case MVS_V_BIN:
    return hmap_hash(v.u.s.p, v.u.s.n) ^ v.type;
  case MVS_V_NUM:
  case MVS_V_DT:
    return hmap_hash(&v.u.num, sizeof v.u.num) ^ v.type;
  case MVS_V_BOOL:
    return (uint64_t)v.u.b ^ v.type;
  default:
    return v.type;
  }
}

bool fobj_value_eq(mvs_value a, mvs_value b)
{
  if (a.type != b.type)
    return false;
  switch (a.type) {
  case MVS_V_REF:
    return dn_equal(a.u.s.p, a.u.s.n, b.u.s.p, b.u.s.n);
  case MVS_V_STR:
  case MVS_V_BIN:
    return a.u.s.n == b.u.s.n && memcmp(a.u.s.p, b.u.s.p, a.u.s.n) == 0;
  case MVS_V_NUM:
    return a.u.num == b.u.num;
  case MVS_V_DT:
    return a.u.dt == b.u.dt;
  case MVS_V_BOOL:
    return a.u.b == b.u.b;
  default:
    return true;
  }
}

static void vals_clear(fvals *s)
{
  for (size_t i = 0; i < s->n; i++)
    free_value(&s->v[i]);
  free(s->v);
  free(s->h);
  memset(s, 0, sizeof *s);
}

/* Hash every value once, so finding a value in a 100,000-member group is a scan of hashes. */
static int vals_hash(fvals *s)
{
  if (s->h)
    return 0;
  s->h = malloc((s->cap ? s->cap : 1) * sizeof *s->h);
  if (!s->h)
    return -1;
  for (size_t i = 0; i < s->n; i++)
    s->h[i] = value_hash(s->v[i]);
  return 0;
}

/* Most attributes hold one value: a value set starts with room for a few. */
#define VALS_FIRST_CAP 4

static int vals_add(fvals *s, mvs_value v, uint64_t h)
{
  if (s->n == s->cap) {
    /* The hashes first: both grow alike from the same capacity, and a failure leaves the
     * values' capacity as it was. */
    size_t cap_h = s->cap;
    if ((s->h && array_grow_from(&s->h, &cap_h, s->n + 1, sizeof *s->h, VALS_FIRST_CAP) != 0) ||
        array_grow_from(&s->v, &s->cap, s->n + 1, sizeof *s->v, VALS_FIRST_CAP) != 0)
      return -1;
  }
  if (copy_value(v, &s->v[s->n]) != 0)
    return -1;
  if (s->h)
    s->h[s->n] = h;
  s->n++;
  return 0;
}

/* Index of v in s (hashed), or s->n. */
static size_t vals_find(const fvals *s, mvs_value v, uint64_t h)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->h[i] == h && fobj_value_eq(s->v[i], v))
      return i;
  return s->n;
}

static void vals_remove(fvals *s, size_t i)
{
  free_value(&s->v[i]);
  memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
  memmove(&s->h[i], &s->h[i + 1], (s->n - i - 1) * sizeof *s->h);
  s->n--;
}

static fattr *attr_get(fobj *o, const char *name, bool incr)
{
  for (size_t i = 0; i < o->n; i++)
    if (strcasecmp(o->a[i].name, name) == 0)
      return &o->a[i];
  if (array_reserve(&o->a, &o->cap, o->n + 1, sizeof *o->a) != 0)
    return NULL;
  memset(&o->a[o->n], 0, sizeof o->a[o->n]);
  o->a[o->n].name = strdup(name);
  if (!o->a[o->n].name)
    return NULL;
  o->a[o->n].incr = incr;
  return &o->a[o->n++];
}

int fobj_apply(fobj *o, const conn_attr *ch, bool complete)
{
  size_t n = mvs_count(ch->value), i;
  fattr *a = attr_get(o, ch->name, !complete && ch->op != CONN_ATTR_REPLACE);

  if (!a)
    return -1;
  a->multi |= ch->value.type == MVS_V_MV;
  if (ch->op == CONN_ATTR_REPLACE || (ch->op == CONN_ATTR_DELETE && n == 0)) {
    vals_clear(&a->vals);
    vals_clear(&a->dels);
    a->incr = false;
    for (i = 0; i < n; i++)
      if (vals_add(&a->vals, mvs_item(ch->value, i), 0) != 0)
        return -1;
    return 0;
  }
  if (vals_hash(&a->vals) != 0 || vals_hash(&a->dels) != 0)
    return -1;
  for (i = 0; i < n; i++) {
    mvs_value v = mvs_item(ch->value, i);
    uint64_t h = value_hash(v);
    size_t in_vals, in_dels;
    in_vals = vals_find(&a->vals, v, h);
    in_dels = vals_find(&a->dels, v, h);
    if (ch->op == CONN_ATTR_ADD) {
      if (in_dels < a->dels.n)
        vals_remove(&a->dels, in_dels);
      if (in_vals == a->vals.n && vals_add(&a->vals, v, h) != 0)
        return -1;
    } else {
      if (in_vals < a->vals.n)
        vals_remove(&a->vals, in_vals);
      if (a->incr && in_dels == a->dels.n && vals_add(&a->dels, v, h) != 0)
        return -1;
    }
  }
  return 0;
}

static mvs_value values_of(const fattr *a, const fvals *s)
{
  mvs_value v = mvs_null();
  if (s->n == 1 && !a->multi)
    return s->v[0];
  if (s->n > 0) {
    v.type = MVS_V_MV;
    v.u.mv.items = s->v;
    v.u.mv.n = s->n;
  }
  return v;
}

size_t fobj_emit(const fobj *o, bool complete, conn_attr *out)
{
  size_t k = 0;
  for (size_t i = 0; i < o->n; i++) {
    const fattr *a = &o->a[i];
    if (!a->incr) {
      if (complete && a->vals.n == 0)
        continue;
      out[k++] = (conn_attr){a->name, CONN_ATTR_REPLACE, values_of(a, &a->vals)};
      continue;
    }
    if (a->vals.n)
      out[k++] = (conn_attr){a->name, CONN_ATTR_ADD, values_of(a, &a->vals)};
    if (a->dels.n)
      out[k++] = (conn_attr){a->name, CONN_ATTR_DELETE, values_of(a, &a->dels)};
  }
  return k;
}

void fobj_free(fobj *o)
{
  for (size_t i = 0; i < o->n; i++) {
    free(o->a[i].name);
    vals_clear(&o->a[i].vals);
    vals_clear(&o->a[i].dels);
  }
  free(o->a);
  memset(o, 0, sizeof *o);
}
