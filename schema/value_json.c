/* value_json — JSON <-> typed values using yajl's tree parser.  See value_json.h.
 * Memory: values are copied out of the yajl tree into the caller's arena. */
#include "schema/value_json.h"

#include "schema/json_str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

static int from_node(mvs_arena *a, yajl_val v, int depth, mvs_value *out, char *err,
                     size_t errlen)
{
  if (YAJL_IS_NULL(v)) {
    *out = mvs_null();
    return 0;
  }
  if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
    *out = mvs_bool(YAJL_IS_TRUE(v));
    return 0;
  }
  if (YAJL_IS_INTEGER(v)) {
    *out = mvs_num(YAJL_GET_INTEGER(v));
    return 0;
  }
  if (YAJL_IS_NUMBER(v)) {
    snprintf(err, errlen, "number %s is not an integer", YAJL_GET_NUMBER(v));
    return -1;
  }
  if (YAJL_IS_STRING(v)) {
    const char *s = YAJL_GET_STRING(v);
    if (mvs_str_copy(a, s, strlen(s), out) != 0)
      goto nomem;
    return 0;
  }
  if (YAJL_IS_ARRAY(v)) {
    size_t n = v->u.array.len, i;
    mvs_value *items;
    if (depth > 0) {
      snprintf(err, errlen, "nested arrays are not values");
      return -1;
    }
    items = mvs_arena_alloc(a, (n ? n : 1) * sizeof *items);
    if (!items)
      goto nomem;
    for (i = 0; i < n; i++)
      if (from_node(a, v->u.array.values[i], depth + 1, &items[i], err, errlen) != 0)
        return -1;
    for (i = 0; i < n; i++)
      if (items[i].type == MVS_V_NULL || items[i].type == MVS_V_MV) {
        snprintf(err, errlen, "array items must be single values");
        return -1;
      }
    if (n == 0) {
      *out = mvs_null();
      return 0;
    }
    if (mvs_mv_make(a, items, n, out) != 0)
      goto nomem;
    return 0;
  }
  if (YAJL_IS_OBJECT(v) && v->u.object.len == 1 && YAJL_IS_STRING(v->u.object.values[0])) {
    const char *key = v->u.object.keys[0];
    const char *s = YAJL_GET_STRING(v->u.object.values[0]);
    size_t n = strlen(s);
    if (strcmp(key, "ref") == 0) {
      if (mvs_ref_copy(a, s, n, out) != 0)
        goto nomem;
      return 0;
    }
    if (strcmp(key, "datetime") == 0) {
      int64_t t;
      if (mvs_dt_parse_iso(s, n, &t) != 0) {
        snprintf(err, errlen, "bad datetime '%s'", s);
        return -1;
      }
      *out = mvs_dt(t);
      return 0;
    }
    if (strcmp(key, "binary") == 0) {
      unsigned char *bytes;
      size_t i;
      if (n % 2) {
        snprintf(err, errlen, "binary hex has an odd number of digits");
        return -1;
      }
      bytes = mvs_arena_alloc(a, n / 2 + 1);
      if (!bytes)
        goto nomem;
      for (i = 0; i < n; i += 2) {
        int hi = mvs_hex_digit(s[i]), lo = mvs_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) {
          snprintf(err, errlen, "bad hex digit in binary value");
          return -1;
        }
        bytes[i / 2] = (unsigned char)(hi << 4 | lo);
      }
      *out = mvs_bin_ref((const char *)bytes, n / 2);
      return 0;
    }
  }
  snprintf(err, errlen,
           "unsupported JSON value (use a string, integer, boolean, null, array, or "
           "{\"binary\"|\"datetime\"|\"ref\": \"...\"})");
  return -1;
nomem:
  snprintf(err, errlen, "out of memory");
  return -1;
}

static yajl_val parse_tree(const char *json, size_t n, char *err, size_t errlen)
{
  char *copy = malloc(n + 1);
  yajl_val t;
  if (!copy) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  memcpy(copy, json, n);
  copy[n] = '\0';
  t = yajl_tree_parse(copy, err, errlen);
  free(copy);
  if (!t && err[0] == '\0')
    snprintf(err, errlen, "invalid JSON");
  return t;
}

int value_json_parse(mvs_arena *a, const char *json, size_t n, mvs_value *out, char *err,
                     size_t errlen)
{
  yajl_val t;
  int rc;

  err[0] = '\0';
  t = parse_tree(json, n, err, errlen);
  if (!t)
    return -1;
  rc = from_node(a, t, 0, out, err, errlen);
  yajl_tree_free(t);
  return rc;
}

int value_json_parse_object(mvs_arena *a, const char *json, size_t n,
                            value_json_field **fields, size_t *count, char *err,
                            size_t errlen)
{
  yajl_val t;
  value_json_field *f;
  size_t i;
  int rc = -1;

  err[0] = '\0';
  t = parse_tree(json, n, err, errlen);
  if (!t)
    return -1;
  if (!YAJL_IS_OBJECT(t)) {
    snprintf(err, errlen, "expected a JSON object of attribute -> value");
    goto out;
  }
  f = mvs_arena_alloc(a, (t->u.object.len + 1) * sizeof *f);
  if (!f) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  for (i = 0; i < t->u.object.len; i++) {
    const char *k = t->u.object.keys[i];
    f[i].name = mvs_arena_memdup(a, k, strlen(k));
    if (!f[i].name) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
    if (from_node(a, t->u.object.values[i], 0, &f[i].v, err, errlen) != 0) {
      char inner[200];
      snprintf(inner, sizeof inner, "%s", err);
      snprintf(err, errlen, "attribute '%s': %s", k, inner);
      goto out;
    }
  }
  *fields = f;
  *count = t->u.object.len;
  rc = 0;
out:
  yajl_tree_free(t);
  return rc;
}

int value_json_write(buf *b, mvs_value v)
{
  size_t i;
  int rc = 0;

  switch (v.type) {
  case MVS_V_NULL:
  case MVS_V_AUTHNULL:
  case MVS_V_IGNORE:
    return buf_adds(b, "null");
  case MVS_V_STR:
    return json_str_write(b, v.u.s.p, v.u.s.n);
  case MVS_V_NUM:
    return buf_printf(b, "%lld", (long long)v.u.num);
  case MVS_V_BOOL:
    return buf_adds(b, v.u.b ? "true" : "false");
  case MVS_V_BIN:
    rc = buf_adds(b, "{\"binary\": \"");
    for (i = 0; rc == 0 && i < v.u.s.n; i++)
      rc = buf_printf(b, "%02x", (unsigned char)v.u.s.p[i]);
    return rc ? rc : buf_adds(b, "\"}");
  case MVS_V_DT: {
    char iso[40];
    mvs_dt_format_iso(v.u.dt, iso);
    return buf_printf(b, "{\"datetime\": \"%s\"}", iso);
  }
  case MVS_V_REF:
    rc = buf_adds(b, "{\"ref\": ");
    if (rc == 0)
      rc = json_str_write(b, v.u.s.p, v.u.s.n);
    return rc ? rc : buf_addc(b, '}');
  case MVS_V_MV:
    rc = buf_addc(b, '[');
    for (i = 0; rc == 0 && i < v.u.mv.n; i++) {
      if (i)
        rc = buf_adds(b, ", ");
      if (rc == 0)
        rc = value_json_write(b, v.u.mv.items[i]);
    }
    return rc ? rc : buf_addc(b, ']');
  }
  return -1;
}
