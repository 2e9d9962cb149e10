/* attrset — object attribute sets and their blob encoding.
 * Memory: see attrset.h; decoding copies out of the blob (SQLite's blob memory is only valid
 * until the next step of the statement). */
#include "engine/attrset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema/array.h"
#include "schema/utf8.h"

#define BLOB_MAGIC 0xA1

void attrset_init(attrset *s, mvs_arena *arena)
{
  memset(s, 0, sizeof *s);
  s->arena = arena;
}

void attrset_clear(attrset *s) { s->n = 0; }

void attrset_free(attrset *s)
{
  free(s->items);
  s->items = NULL;
  s->n = s->cap = 0;
}

/* Index of name, or -(insertion point) - 1. */
static long find(const attrset *s, const char *name, size_t n)
{
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const char *m = s->items[mid].name;
    int c = strncasecmp(m, name, n);
    if (c == 0)
      c = m[n] ? 1 : 0;
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -(long)lo - 1;
}

const attr_entry *attrset_get(const attrset *s, const char *name, size_t n)
{
  long i = find(s, name, n);
  return i >= 0 ? &s->items[i] : NULL;
}

static int copy_single(mvs_arena *a, mvs_value v, mvs_value *out)
{
  switch (v.type) {
  case MVS_V_STR:
    return mvs_str_copy(a, v.u.s.p, v.u.s.n, out);
  case MVS_V_BIN:
    return mvs_bin_copy(a, v.u.s.p, v.u.s.n, out);
  case MVS_V_REF:
    return mvs_ref_copy(a, v.u.s.p, v.u.s.n, out);
  default:
    *out = v;
    return 0;
  }
}

int attrset_copy_value(mvs_arena *a, mvs_value v, mvs_value *out)
{
  mvs_value *items;
  size_t i;

  if (v.type != MVS_V_MV)
    return copy_single(a, v, out);
  if (!(items = mvs_arena_alloc(a, (v.u.mv.n ? v.u.mv.n : 1) * sizeof *items)))
    return -1;
  for (i = 0; i < v.u.mv.n; i++)
    if (copy_single(a, v.u.mv.items[i], &items[i]) != 0)
      return -1;
  *out = v;
  out->u.mv.items = items;
  return 0;
}

int attrset_set(attrset *s, const char *name, mvs_value v, unsigned flags, const char *src)
{
  size_t n = strlen(name);
  long i = find(s, name, n);
  attr_entry e;

  if (v.type == MVS_V_NULL && !(flags & ATTR_REF)) {
    attrset_remove(s, name);
    return 0;
  }
  memset(&e, 0, sizeof e);
  e.flags = flags;
  if (i >= 0)
    e.name = s->items[i].name;
  else if (!(e.name = mvs_arena_memdup(s->arena, name, n)))
    return -1;
  if (attrset_copy_value(s->arena, v, &e.value) != 0)
    return -1;
  if (src && !(e.src = mvs_arena_memdup(s->arena, src, strlen(src))))
    return -1;
  if (i >= 0) {
    s->items[i] = e;
    return 0;
  }
  if (array_reserve(&s->items, &s->cap, s->n + 1, sizeof *s->items) != 0)
    return -1;
  i = -i - 1;
  memmove(&s->items[i + 1], &s->items[i], (s->n - (size_t)i) * sizeof *s->items);
  s->items[i] = e;
  s->n++;
  return 0;
}

void attrset_remove(attrset *s, const char *name)
{
  long i = find(s, name, strlen(name));
  if (i < 0)
    return;
  memmove(&s->items[i], &s->items[i + 1], (s->n - (size_t)i - 1) * sizeof *s->items);
  s->n--;
}

/* ---- encoding: varints, zigzag for signed numbers ---- */

static int put_varint(buf *b, uint64_t v)
{
  unsigned char tmp[10];
  size_t n = 0;
  do {
    tmp[n] = (unsigned char)(v & 0x7f);
    v >>= 7;
    if (v)
      tmp[n] |= 0x80;
    n++;
  } while (v);
  return buf_add(b, tmp, n);
}

static int put_bytes(buf *b, const void *p, size_t n)
{
  int rc = put_varint(b, n);
  return rc ? rc : buf_add(b, p, n);
}

static int put_single(buf *b, mvs_value v)
{
  int rc = buf_addc(b, (char)v.type);
  if (rc)
    return rc;
  switch (v.type) {
  case MVS_V_STR:
  case MVS_V_BIN:
  case MVS_V_REF:
    return put_bytes(b, v.u.s.p, v.u.s.n);
  case MVS_V_NUM:
    return put_varint(b, ((uint64_t)v.u.num << 1) ^ (uint64_t)(v.u.num >> 63));
  case MVS_V_DT:
    return put_varint(b, ((uint64_t)v.u.dt << 1) ^ (uint64_t)(v.u.dt >> 63));
  case MVS_V_BOOL:
    return buf_addc(b, v.u.b ? 1 : 0);
  default:
    return 0;
  }
}

int attrset_encode(const attrset *s, buf *out)
{
  size_t i, j;
  int rc = buf_addc(out, (char)BLOB_MAGIC);

  if (rc == 0)
    rc = put_varint(out, s->n);
  for (i = 0; rc == 0 && i < s->n; i++) {
    const attr_entry *e = &s->items[i];
    size_t cnt = mvs_count(e->value);
    rc = put_bytes(out, e->name, strlen(e->name));
    if (rc == 0)
      rc = buf_addc(out, (char)e->flags);
    if (rc == 0)
      rc = e->src ? put_bytes(out, e->src, strlen(e->src)) : put_varint(out, (uint64_t)-1 >> 1);
    if (rc == 0)
      rc = put_varint(out, cnt);
    for (j = 0; rc == 0 && j < cnt; j++)
      rc = put_single(out, mvs_item(e->value, j));
  }
  return rc ? -1 : 0;
}

typedef struct reader {
  const unsigned char *p, *end;
} reader;

static int get_varint(reader *r, uint64_t *v)
{
  unsigned shift = 0;
  *v = 0;
  while (r->p < r->end && shift < 64) {
    unsigned char c = *r->p++;
    *v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80))
      return 0;
    shift += 7;
  }
  return -1;
}

static int get_bytes(reader *r, const unsigned char **p, size_t *n)
{
  uint64_t len;
  if (get_varint(r, &len) != 0 || len > (uint64_t)(r->end - r->p))
    return -1;
  *p = r->p;
  *n = (size_t)len;
  r->p += len;
  return 0;
}

static int get_single(mvs_arena *a, reader *r, mvs_value *out)
{
  const unsigned char *p;
  size_t n;
  uint64_t u;
  int t;

  if (r->p >= r->end)
    return -1;
  t = *r->p++;
  switch (t) {
  case MVS_V_STR:
    return get_bytes(r, &p, &n) ? -1 : mvs_str_copy(a, (const char *)p, n, out);
  case MVS_V_BIN:
    return get_bytes(r, &p, &n) ? -1 : mvs_bin_copy(a, p, n, out);
  case MVS_V_REF:
    return get_bytes(r, &p, &n) ? -1 : mvs_ref_copy(a, (const char *)p, n, out);
  case MVS_V_NUM:
  case MVS_V_DT:
    if (get_varint(r, &u) != 0)
      return -1;
    u = (u >> 1) ^ (uint64_t)-(int64_t)(u & 1);
    *out = t == MVS_V_NUM ? mvs_num((int64_t)u) : mvs_dt((int64_t)u);
    return 0;
  case MVS_V_BOOL:
    if (r->p >= r->end)
      return -1;
    *out = mvs_bool(*r->p++ != 0);
    return 0;
  default:
    return -1;
  }
}

int attrset_decode(attrset *s, const void *blob, size_t n)
{
  reader r = {blob, (const unsigned char *)blob + n};
  uint64_t cnt, nvals, j;
  mvs_arena *a = s->arena;

  attrset_clear(s);
  if (n == 0)
    return 0;
  if (*r.p++ != BLOB_MAGIC || get_varint(&r, &cnt) != 0 || cnt > n)
    return -1;
  if (array_reserve(&s->items, &s->cap, (size_t)cnt, sizeof *s->items) != 0)
    return -1;
  for (s->n = 0; s->n < cnt; s->n++) {
    attr_entry *e = &s->items[s->n];
    const unsigned char *p;
    size_t len;
    uint64_t srclen;
    mvs_value *items;

    memset(e, 0, sizeof *e);
    if (get_bytes(&r, &p, &len) != 0 || memchr(p, '\0', len) ||
        !(e->name = mvs_arena_memdup(a, p, len)) || r.p >= r.end)
      return -1;
    /* Names are unique and in find's order, or lookups miss them: else the blob is corrupt. */
    if (s->n > 0 && strcasecmp(s->items[s->n - 1].name, e->name) >= 0)
      return -1;
    e->flags = *r.p++;
    /* The source is a length-prefixed string, or the sentinel length for none. */
    if (get_varint(&r, &srclen) != 0)
      return -1;
    if (srclen != (uint64_t)-1 >> 1) {
      if (srclen > (uint64_t)(r.end - r.p) || !(e->src = mvs_arena_memdup(a, r.p, srclen)))
        return -1;
      r.p += srclen;
    }
    if (get_varint(&r, &nvals) != 0 || nvals > (uint64_t)(r.end - r.p))
      return -1;
    if (nvals == 0)
      continue;
    if (nvals == 1 && !(e->flags & ATTR_MULTI)) {
      if (get_single(a, &r, &e->value) != 0)
        return -1;
      continue;
    }
    if (!(items = mvs_arena_alloc(a, nvals * sizeof *items)))
      return -1;
    for (j = 0; j < nvals; j++)
      if (get_single(a, &r, &items[j]) != 0)
        return -1;
    e->value = mvs_null();
    e->value.type = MVS_V_MV;
    e->value.u.mv.items = items;
    e->value.u.mv.n = nvals;
  }
  return r.p == r.end ? 0 : -1;
}

int attr_value_encode(mvs_value v, buf *out) { return put_single(out, v) ? -1 : 0; }

int attr_value_decode(mvs_arena *a, const void *blob, size_t n, mvs_value *out)
{
  reader r = {blob, (const unsigned char *)blob + n};
  return get_single(a, &r, out) == 0 && r.p == r.end ? 0 : -1;
}

/* ---- comparison ---- */

int attr_value_cmp(mvs_value a, mvs_value b)
{
  size_t i, n;
  int c;

  if (a.type != b.type)
    return a.type < b.type ? -1 : 1;
  switch (a.type) {
  case MVS_V_STR:
  case MVS_V_BIN:
  case MVS_V_REF:
    n = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
    if ((c = memcmp(a.u.s.p, b.u.s.p, n)) != 0)
      return c < 0 ? -1 : 1;
    return a.u.s.n == b.u.s.n ? 0 : a.u.s.n < b.u.s.n ? -1 : 1;
  case MVS_V_NUM:
    return a.u.num == b.u.num ? 0 : a.u.num < b.u.num ? -1 : 1;
  case MVS_V_DT:
    return a.u.dt == b.u.dt ? 0 : a.u.dt < b.u.dt ? -1 : 1;
  case MVS_V_BOOL:
    return (int)a.u.b - (int)b.u.b;
  case MVS_V_MV:
    for (i = 0; i < a.u.mv.n && i < b.u.mv.n; i++)
      if ((c = attr_value_cmp(a.u.mv.items[i], b.u.mv.items[i])) != 0)
        return c;
    return a.u.mv.n == b.u.mv.n ? 0 : a.u.mv.n < b.u.mv.n ? -1 : 1;
  default:
    return 0;
  }
}

bool attr_value_same(mvs_value a, mvs_value b) { return attr_value_cmp(a, b) == 0; }

void attrset_changes(const attrset *before, const attrset *after,
                     void (*fn)(void *u, const attr_entry *a, const attr_entry *b), void *u)
{
  size_t i = 0, j = 0;
  while (i < before->n || j < after->n) {
    const attr_entry *a = i < before->n ? &before->items[i] : NULL;
    const attr_entry *b = j < after->n ? &after->items[j] : NULL;
    int c = !a ? 1 : !b ? -1 : strcasecmp(a->name, b->name);
    if (c != 0 || !attr_value_same(a->value, b->value))
      fn(u, c <= 0 ? a : NULL, c >= 0 ? b : NULL);
    i += c <= 0;
    j += c >= 0;
  }
}

uint64_t attr_name_bit(const char *name, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)name[i];
    h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch + 32 : ch)) * 1099511628211ULL;
  }
  return (uint64_t)1 << (h % 64);
}

bool attr_value_same_set(mvs_value a, mvs_value b)
{
  size_t i, j, na = mvs_count(a), nb = mvs_count(b);

  if (a.type != MVS_V_MV && b.type != MVS_V_MV)
    return attr_value_same(a, b);
  if (na != nb)
    return false;
  /* Lists are short except references, which are compared as rows, not here. */
  for (i = 0; i < na; i++) {
    for (j = 0; j < nb; j++)
      if (attr_value_same(mvs_item(a, i), mvs_item(b, j)))
        break;
    if (j == nb)
      return false;
  }
  return true;
}

int text_fold(const char *p, size_t n, buf *out)
{
  size_t i = 0, len;
  char enc[4];

  while (i < n) {
    uint32_t cp = utf8_decode(p + i, n - i, &len);
    size_t m = utf8_encode(utf8_tolower(cp), enc);
    if (buf_add(out, enc, m) != 0)
      return -1;
    i += len;
  }
  return 0;
}

int attr_fold(mvs_value v, buf *out)
{
  switch (v.type) {
  case MVS_V_STR:
  case MVS_V_REF:
    return text_fold(v.u.s.p, v.u.s.n, out);
  case MVS_V_BIN: {
    size_t i;
    for (i = 0; i < v.u.s.n; i++)
      if (buf_printf(out, "%02x", (unsigned char)v.u.s.p[i]) != 0)
        return -1;
    return 0;
  }
  case MVS_V_NUM:
    return buf_printf(out, "%lld", (long long)v.u.num) ? -1 : 0;
  case MVS_V_BOOL:
    return buf_adds(out, v.u.b ? "true" : "false") ? -1 : 0;
  case MVS_V_DT: {
    char iso[40];
    mvs_dt_format_iso(v.u.dt, iso);
    return buf_adds(out, iso) ? -1 : 0;
  }
  default:
    return -1;
  }
}

int attr_value_text(mvs_arena *a, mvs_value v, const char **p, size_t *n)
{
  if (v.type == MVS_V_MV)
    v = v.u.mv.n ? v.u.mv.items[0] : mvs_null();
  if (v.type == MVS_V_NULL || mvs_is_special(v)) {
    *p = "";
    *n = 0;
    return 0;
  }
  return mvs_to_str(a, v, p, n) == 0 ? 0 : -1;
}
