/* jsoncmp — semantic comparison of mvsync dumps (see jsoncmp.h).
 * Memory: only a few malloc'd scratch arrays, freed before returning. */
#include "tests/engine/jsoncmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

static bool gen_value(yajl_gen g, yajl_val v)
{
  size_t i;

  if (!v)
    return yajl_gen_null(g) == yajl_gen_status_ok;
  switch (v->type) {
  case yajl_t_string:
    return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string)) ==
           yajl_gen_status_ok;
  case yajl_t_number:
    return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)) == yajl_gen_status_ok;
  case yajl_t_true:
  case yajl_t_false:
    return yajl_gen_bool(g, v->type == yajl_t_true) == yajl_gen_status_ok;
  case yajl_t_null:
  case yajl_t_any:
    return yajl_gen_null(g) == yajl_gen_status_ok;
  case yajl_t_object:
    yajl_gen_map_open(g);
    for (i = 0; i < v->u.object.len; i++) {
      const char *k = v->u.object.keys[i];
      yajl_gen_string(g, (const unsigned char *)k, strlen(k));
      if (!gen_value(g, v->u.object.values[i]))
        return false;
    }
    return yajl_gen_map_close(g) == yajl_gen_status_ok;
  case yajl_t_array:
    yajl_gen_array_open(g);
    for (i = 0; i < v->u.array.len; i++)
      if (!gen_value(g, v->u.array.values[i]))
        return false;
    return yajl_gen_array_close(g) == yajl_gen_status_ok;
  }
  return false;
}

void jsoncmp_text(yajl_val v, char *out, size_t max)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  const unsigned char *p;
  size_t n;

  out[0] = '\0';
  if (!g || max < 4)
    goto done;
  if (gen_value(g, v) && yajl_gen_get_buf(g, &p, &n) == yajl_gen_status_ok) {
    if (n < max) {
      memcpy(out, p, n);
      out[n] = '\0';
    } else {
      memcpy(out, p, max - 4);
      memcpy(out + max - 4, "...", 4);
    }
  }
done:
  if (g)
    yajl_gen_free(g);
}

static yajl_val obj_get(yajl_val o, const char *key)
{
  for (size_t i = 0; i < o->u.object.len; i++)
    if (strcmp(o->u.object.keys[i], key) == 0)
      return o->u.object.values[i];
  return NULL;
}

static bool has_key(yajl_val o, const char *key)
{
  for (size_t i = 0; i < o->u.object.len; i++)
    if (strcmp(o->u.object.keys[i], key) == 0)
      return true;
  return false;
}

/* true and false are two yajl types; everything else compares by type first. */
static int kind(yajl_val v)
{
  return v ? (int)v->type : (int)yajl_t_null;
}

static bool match(yajl_val want, yajl_val got, bool subset, const char *path, char *msg,
                  size_t msglen);

static void describe(char *msg, size_t msglen, const char *path, const char *what,
                     yajl_val want, yajl_val got)
{
  char w[600], g[600];
  /* A NULL pointer is "nothing there", unlike a JSON null (a non-NULL yajl value). */
  if (want)
    jsoncmp_text(want, w, sizeof w);
  else
    snprintf(w, sizeof w, "(nothing)");
  if (got)
    jsoncmp_text(got, g, sizeof g);
  else
    snprintf(g, sizeof g, "(nothing)");
  /* A message cut at msglen ends in "..." so a reader knows there was more. */
  if (snprintf(msg, msglen, "at %s: %s\n    expected: %s\n    got:      %s",
               path[0] ? path : "/", what, w, g) >= (int)msglen && msglen > 4)
    memcpy(msg + msglen - 4, "...", 4);
}

static bool match_object(yajl_val want, yajl_val got, bool subset, const char *path,
                         char *msg, size_t msglen)
{
  char sub[1024];
  size_t i;

  for (i = 0; i < want->u.object.len; i++) {
    const char *k = want->u.object.keys[i];
    snprintf(sub, sizeof sub, "%s/%s", path, k);
    if (!has_key(got, k)) {
      describe(msg, msglen, sub, "key missing", want->u.object.values[i], NULL);
      return false;
    }
    if (!match(want->u.object.values[i], obj_get(got, k), subset, sub, msg, msglen))
      return false;
  }
  if (!subset)
    for (i = 0; i < got->u.object.len; i++)
      if (!has_key(want, got->u.object.keys[i])) {
        snprintf(sub, sizeof sub, "%s/%s", path, got->u.object.keys[i]);
        describe(msg, msglen, sub, "unexpected key", NULL, got->u.object.values[i]);
        return false;
      }
  return true;
}

/* Multiset matching: positional first (dumps are sorted, so this is the usual case and keeps
 * large dumps linear), then each expected element against any unused actual element. */
static bool match_array(yajl_val want, yajl_val got, bool subset, const char *path,
                        char *msg, size_t msglen)
{
  size_t nw = want->u.array.len, ng = got->u.array.len, i, j;
  bool *used, ok = true, positional = nw == ng;
  char scratch[16];
  char sub[1024];

  for (i = 0; positional && i < nw; i++)
    positional = match(want->u.array.values[i], got->u.array.values[i], subset, path, scratch,
                       sizeof scratch);
  if (positional)
    return true;
  if (!(used = calloc(ng + 1, sizeof *used))) {
    snprintf(msg, msglen, "out of memory");
    return false;
  }
  for (i = 0; i < nw && ok; i++) {
    for (j = 0; j < ng; j++)
      if (!used[j] && match(want->u.array.values[i], got->u.array.values[j], subset, path,
                            scratch, sizeof scratch))
        break;
    if (j < ng) {
      used[j] = true;
      continue;
    }
    snprintf(sub, sizeof sub, "%s[%zu]", path, i);
    ok = false;
    /* Show the actual element most likely meant: the one at the same position if unused. */
    describe(msg, msglen, sub, "no actual element matches this expected one", want->u.array.values[i],
             i < ng && !used[i] ? got->u.array.values[i] : NULL);
  }
  for (j = 0; j < ng && ok; j++)
    if (!used[j]) {
      snprintf(sub, sizeof sub, "%s[%zu]", path, j);
      describe(msg, msglen, sub, "unexpected actual element", NULL, got->u.array.values[j]);
      ok = false;
    }
  free(used);
  return ok;
}

static bool match(yajl_val want, yajl_val got, bool subset, const char *path, char *msg,
                  size_t msglen)
{
  if (kind(want) != kind(got)) {
    describe(msg, msglen, path, "different types", want, got);
    return false;
  }
  switch (kind(want)) {
  case yajl_t_object:
    return match_object(want, got, subset, path, msg, msglen);
  case yajl_t_array:
    return match_array(want, got, subset, path, msg, msglen);
  case yajl_t_string:
    if (strcmp(want->u.string, got->u.string) == 0)
      return true;
    break;
  case yajl_t_number:
    /* Integers compare exactly; anything else by value. */
    if (YAJL_IS_INTEGER(want) && YAJL_IS_INTEGER(got) ? want->u.number.i == got->u.number.i
                                                       : want->u.number.d == got->u.number.d)
      return true;
    break;
  default:
    return true;  /* null, true, false: the type is the value */
  }
  describe(msg, msglen, path, "different values", want, got);
  return false;
}

bool jsoncmp_match(yajl_val want, yajl_val got, bool subset, char *msg, size_t msglen)
{
  msg[0] = '\0';
  return match(want, got, subset, "", msg, msglen);
}

yajl_val jsoncmp_parse(const char *text, char *err, size_t errlen)
{
  yajl_val v = yajl_tree_parse(text, err, errlen);
  if (!v && err[0] == '\0')
    snprintf(err, errlen, "not JSON");
  return v;
}

yajl_val jsoncmp_load(const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  char *text = NULL, *np;
  size_t n = 0, cap = 0, got;
  yajl_val v = NULL;

  if (!f) {
    snprintf(err, errlen, "%s: cannot open", path);
    return NULL;
  }
  do {
    if (cap - n < 65536) {
      cap = cap ? cap * 2 : 65536;
      if (!(np = realloc(text, cap + 1))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
      }
      text = np;
    }
    got = fread(text + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  text[n] = '\0';
  if (!(v = jsoncmp_parse(text, err, errlen))) {
    char inner[512];
    snprintf(inner, sizeof inner, "%s", err);
    snprintf(err, errlen, "%s: %s", path, inner);
  }
done:
  free(text);
  fclose(f);
  return v;
}
