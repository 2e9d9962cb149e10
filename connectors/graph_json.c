/* graph_json — streaming Graph JSON reader and delta-page writer.  See graph_json.h.
 * The reader is a stack of frames driven by yajl's callbacks: the page, a collection array,
 * an object, and inside an object the property arrays, nested objects and "X@delta" lists it
 * understands; anything else is skipped by counting nesting.  Every byte fed and every byte
 * of memory one object takes is capped. */
#include "connectors/graph_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "connectors/base64.h"
#include "schema/array.h"

#define READ_CHUNK 65536
/* The deepest the reader looks: page, collection, object, property list, reference (deeper
 * values are skipped, not pushed). */
#define MAX_FRAMES 5
#define MAX_PROPS 4096

typedef enum fkind {
  F_TOP,        /* the page: {"users": [...], "value": [...], "@odata.context": ...} */
  F_COLL,       /* an array of objects */
  F_OBJ,        /* one object */
  F_PROP_ARRAY, /* a property's array: scalars, or {"id": ...} references */
  F_REF_OBJ,    /* an object inside a property's array */
  F_NESTED,     /* an object-valued property: a reference {"id"} or fields to flatten */
  F_DELTA,      /* "X@delta": [...] */
  F_DELTA_ITEM  /* one {"id": ..., "@removed": ...} of it */
} fkind;

typedef struct flat {
  const char *name;
  mvs_value v; /* NULL: the field was null */
  long line;
} flat;

typedef struct frame {
  fkind kind;
  const char *name; /* the property (arrays, nested, delta) */
  size_t prop;      /* PROP_ARRAY, REF_OBJ: index of the property in props */
  const char *id;   /* REF_OBJ, NESTED, DELTA_ITEM: the "id" seen */
  bool removed;     /* DELTA_ITEM: "@removed" seen */
  flat *flats;      /* NESTED: its scalar fields, properties unless it is a reference */
  size_t n_flats, cap_flats;
  long line;
} frame;

typedef struct gprop {
  const char *name;
  long line;
  conn_attr_op op; /* REPLACE for properties; ADD / DELETE for "X@delta" lists */
  bool array;      /* given as a JSON array */
  bool drop;       /* an array of things that are not values: not read */
  mvs_value *vals;
  size_t n, cap;
} gprop;

struct gj_reader {
  const gj_opts *o;
  gj_change_fn fn;
  void *u;
  long line;        /* the line being fed */
  int64_t line_off; /* its byte offset */
  int64_t obj_off;  /* the offset of the line where the current object starts */
  long last_line;   /* the last line with something on it */
  size_t since;     /* bytes fed since the last object ended */
  int status;       /* GJ_* once a callback failed */
  mvs_arena *arena; /* the current object (reset after each) */
  frame fr[MAX_FRAMES];
  int nfr;
  int skip;              /* > 0: nesting depth inside a value being skipped */
  const char *key;       /* the key whose value comes next */
  const char *coll_type; /* the type the current collection's name says ("users") */
  const char *page_type; /* the type "@odata.context" said, when it came before "value" */
  /* The current object. */
  const char *id, *odata_type;
  bool removed;
  long obj_line;
  gprop *props;
  size_t n_props, cap_props;
  yajl_handle h;     /* the document being read; NULL between documents */
  int64_t fed;       /* bytes fed before the current gj_reader_feed call */
  char *links[2];    /* the page's "@odata.nextLink" and "@odata.deltaLink" (malloc'd) */
  char errbuf[512];
};

typedef struct gj_reader reader;

static int fail(reader *r, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(reader *r, long line, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf(r->errbuf, sizeof r->errbuf, "%s:%ld: ", r->o->name, line);
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof r->errbuf)
    vsnprintf(r->errbuf + n, sizeof r->errbuf - (size_t)n, fmt, ap);
  va_end(ap);
  r->status = GJ_EDATA;
  return 0; /* yajl: stop */
}

static int too_big(reader *r)
{
  return fail(r, r->line, "object larger than %zu bytes", r->o->max_object);
}

static mvs_value ref_value(const char *id)
{
  mvs_value v = mvs_str_ref(id, strlen(id));
  v.type = MVS_V_REF;
  return v;
}

/* A new property (name, op) at the end; -1 after an error. */
static long new_prop(reader *r, const char *name, conn_attr_op op, long line)
{
  gprop *p;
  if (r->n_props == MAX_PROPS) {
    fail(r, line, "more than %d properties in one object", MAX_PROPS);
    return -1;
  }
  if (array_reserve_in(r->arena, &r->props, r->n_props, &r->cap_props, r->n_props + 1,
                       sizeof *r->props) != 0) {
    too_big(r);
    return -1;
  }
  p = &r->props[r->n_props];
  memset(p, 0, sizeof *p);
  p->name = name;
  p->op = op;
  p->line = line;
  return (long)r->n_props++;
}

/* The property `name` given (again): it replaces whatever came before for that name, as a
 * later key wins in JSON readers. */
static long set_prop(reader *r, const char *name, long line)
{
  for (size_t i = 0; i < r->n_props; i++)
    if (strcmp(r->props[i].name, name) == 0)
      r->props[i].drop = true;
  return new_prop(r, name, CONN_ATTR_REPLACE, line);
}

/* Where a "X@delta" item goes: the run of adds (removals) it continues, else a new one, so
 * interleaved adds and removals keep their order. */
static long delta_prop(reader *r, const char *name, conn_attr_op op, long line)
{
  if (r->n_props > 0) {
    gprop *last = &r->props[r->n_props - 1];
    if (!last->drop && last->op == op && strcmp(last->name, name) == 0)
      return (long)r->n_props - 1;
  }
  return new_prop(r, name, op, line);
}

static int add_value(reader *r, long i, mvs_value v)
{
  gprop *p = &r->props[i];
  if (array_reserve_in(r->arena, &p->vals, p->n, &p->cap, p->n + 1, sizeof *p->vals) != 0)
    return too_big(r);
  p->vals[p->n++] = v;
  return 1;
}

static frame *top(reader *r) { return &r->fr[r->nfr - 1]; }

static int push(reader *r, fkind kind, const char *name, size_t prop)
{
  frame *f;
  if (r->nfr == MAX_FRAMES)
    return fail(r, r->line, "JSON nested too deeply");
  f = &r->fr[r->nfr++];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->name = name;
  f->prop = prop;
  f->line = r->line;
  return 1;
}

static void reset_object(reader *r)
{
  mvs_arena_reset(r->arena);
  r->props = NULL;
  r->n_props = r->cap_props = 0;
  r->id = r->odata_type = NULL;
  r->removed = false;
  r->since = 0;
}

/* ---- the object is complete: type its values and hand it over ---- */

static int finish_object(reader *r)
{
  fchange ch;
  conn_attr *attrs;
  size_t k = 0;
  char *origin;
  size_t origin_size;
  const char *why = NULL;
  int rc;

  if (!r->id)
    return fail(r, r->obj_line, "object without \"id\"");
  memset(&ch, 0, sizeof ch);
  ch.dn = ch.anchor = r->id;
  if (r->odata_type) {
    ch.type = shape_type_of_odata(r->o->typer->shape, r->odata_type);
    if (!ch.type)
      return fail(r, r->obj_line, "unknown \"@odata.type\" \"%s\"", r->odata_type);
  } else {
    ch.type = r->coll_type ? r->coll_type : r->o->type ? r->o->type : r->page_type;
  }
  origin_size = strlen(r->o->name) + 24;
  origin = mvs_arena_alloc(r->arena, origin_size);
  attrs = mvs_arena_alloc(r->arena, (r->n_props + 1) * sizeof *attrs);
  if (!origin || !attrs)
    return too_big(r);
  snprintf(origin, origin_size, "%s:%ld", r->o->name, r->obj_line);
  ch.origin = origin;
  ch.offset = r->obj_off;
  ch.kind = r->removed ? FCH_DELETE : FCH_UPSERT;
  /* Changes of different names commute: a run of adds (removals) that follows another of the
   * same name, with only other names between, joins it.  Each name then alternates runs, the
   * form the writer keeps whatever it moves. */
  for (size_t i = 0; i < r->n_props; i++) {
    gprop *p = &r->props[i];
    size_t j = i;
    if (p->drop || p->op == CONN_ATTR_REPLACE)
      continue;
    while (j-- > 0 && (r->props[j].drop || strcmp(r->props[j].name, p->name) != 0))
      ;
    if (j == SIZE_MAX || r->props[j].op != p->op)
      continue;
    for (size_t v = 0; v < p->n; v++)
      if (!add_value(r, (long)j, p->vals[v]))
        return 0;
    p->drop = true;
  }
  for (size_t i = 0; !r->removed && i < r->n_props; i++) {
    gprop *p = &r->props[i];
    mvs_value raw = mvs_null();
    if (p->drop)
      continue;
    if (p->n > 0 && (p->array || p->n > 1)) {
      raw.type = MVS_V_MV;
      raw.u.mv.items = p->vals;
      raw.u.mv.n = p->n;
    } else if (p->n == 1) {
      raw = p->vals[0];
    }
    attrs[k].name = p->name;
    attrs[k].op = p->op;
    rc = ftype_value(r->o->typer, p->name, raw, true, r->arena, &attrs[k].value, &why);
    if (rc == -1)
      return fail(r, p->line, "%s: %s", p->name, why);
    if (rc != 0)
      return too_big(r);
    k++;
  }
  ch.attrs = attrs;
  ch.n_attrs = k;
  if (r->fn(r->u, &ch) != 0) {
    r->status = GJ_STOPPED;
    return 0;
  }
  reset_object(r);
  return 1;
}

/* ---- yajl callbacks ---- */

enum vkind { V_NULL, V_SCALAR, V_MAP, V_ARRAY };

static bool is_annotation(const char *key) { return strchr(key, '@') != NULL; }

/* "members@delta" -> "members"; NULL for other keys.  Only a plain property name takes
 * "@delta": "@odata.@delta" is an annotation like any other key holding '@'. */
static const char *delta_name(reader *r, const char *key)
{
  size_t n = strlen(key);
  if (n > 6 && strcmp(key + n - 6, "@delta") == 0 && !memchr(key, '@', n - 6))
    return mvs_arena_memdup(r->arena, key, n - 6);
  return NULL;
}

/* Skip the value now starting (a container: count its nesting until it ends). */
static int skip_value(reader *r, enum vkind k)
{
  if (k == V_MAP || k == V_ARRAY)
    r->skip = 1;
  return 1;
}

static int page_value(reader *r, enum vkind k, mvs_value v)
{
  const char *key = r->key;
  const char *type;

  if (strcmp(key, "@odata.context") == 0 && v.type == MVS_V_STR) {
    /* ".../$metadata#users/delta" or "#groups(displayName,members)/delta" */
    const char *hash = strrchr(v.u.s.p, '#');
    if (hash) {
      char coll[32];
      size_t n = strcspn(hash + 1, "(/");
      if (n < sizeof coll) {
        memcpy(coll, hash + 1, n);
        coll[n] = '\0';
        r->page_type = shape_type_of_collection(r->o->typer->shape, coll);
      }
    }
    return 1;
  }
  if ((strcmp(key, "@odata.nextLink") == 0 || strcmp(key, "@odata.deltaLink") == 0) &&
      v.type == MVS_V_STR) {
    char **link = &r->links[key[7] == 'n' ? GJ_NEXT_LINK : GJ_DELTA_LINK];
    free(*link);
    if (!(*link = strdup(v.u.s.p)))
      return too_big(r);
    return 1;
  }
  if (key[0] == '@')
    return skip_value(r, k);
  if (strcmp(key, "value") == 0)
    type = NULL;
  else if ((type = shape_type_of_collection(r->o->typer->shape, key)) == NULL)
    return fail(r, r->line,
                "unknown key \"%s\" (expected \"users\", \"groups\", \"contacts\", \"devices\" "
                "or \"value\")",
                key);
  if (k != V_ARRAY)
    return fail(r, r->line, "\"%s\" must be an array", key);
  r->coll_type = type;
  return push(r, F_COLL, NULL, 0);
}

static int object_value(reader *r, enum vkind k, mvs_value v)
{
  const char *key = r->key, *dname;
  long i;

  if (strcmp(key, "id") == 0) {
    if (v.type != MVS_V_STR || v.u.s.n == 0)
      return fail(r, r->line, "\"id\" must be a non-empty string");
    r->id = v.u.s.p; /* and a property like any other */
  } else if (strcmp(key, "@odata.type") == 0) {
    if (v.type != MVS_V_STR)
      return fail(r, r->line, "\"@odata.type\" must be a string");
    r->odata_type = v.u.s.p;
    return 1;
  } else if (strcmp(key, "@removed") == 0) {
    if (k != V_MAP)
      return fail(r, r->line, "\"@removed\" must be an object");
    r->removed = true;
    return skip_value(r, k);
  } else if ((dname = delta_name(r, key)) != NULL) {
    if (k != V_ARRAY)
      return fail(r, r->line, "\"%s\" must be an array", key);
    return push(r, F_DELTA, dname, 0);
  } else if (is_annotation(key)) {
    return skip_value(r, k);
  }
  if (k == V_MAP)
    return push(r, F_NESTED, key, 0);
  if ((i = set_prop(r, key, r->line)) < 0)
    return 0;
  if (k == V_ARRAY) {
    r->props[i].array = true;
    return push(r, F_PROP_ARRAY, key, (size_t)i);
  }
  return k == V_NULL ? 1 : add_value(r, i, v);
}

static int nested_value(reader *r, frame *f, enum vkind k, mvs_value v)
{
  if (strcmp(r->key, "id") == 0) {
    if (v.type != MVS_V_STR || v.u.s.n == 0)
      return fail(r, r->line, "\"id\" must be a non-empty string");
    f->id = v.u.s.p;
    return 1;
  }
  if (k == V_MAP || k == V_ARRAY || is_annotation(r->key))
    return skip_value(r, k);
  if (array_reserve_in(r->arena, &f->flats, f->n_flats, &f->cap_flats, f->n_flats + 1,
                       sizeof *f->flats) != 0)
    return too_big(r);
  f->flats[f->n_flats++] = (flat){r->key, k == V_NULL ? mvs_null() : v, r->line};
  return 1;
}

static int value_event(reader *r, enum vkind k, mvs_value v)
{
  frame *f;

  if (r->skip) {
    if (k == V_MAP || k == V_ARRAY)
      r->skip++;
    return 1;
  }
  if (r->nfr == 0) {
    if (k != V_MAP)
      return fail(r, r->line, "expected a JSON object");
    return push(r, F_TOP, NULL, 0);
  }
  f = top(r);
  switch (f->kind) {
  case F_TOP:
    return page_value(r, k, v);
  case F_COLL:
    if (k != V_MAP)
      return fail(r, r->line, "expected an object in the array");
    r->obj_line = r->line;
    r->obj_off = r->line_off;
    return push(r, F_OBJ, NULL, 0);
  case F_OBJ:
    return object_value(r, k, v);
  case F_PROP_ARRAY:
    if (k == V_MAP)
      return push(r, F_REF_OBJ, f->name, f->prop);
    if (k == V_ARRAY) {
      r->props[f->prop].drop = true;
      return skip_value(r, k);
    }
    return k == V_NULL ? 1 : add_value(r, (long)f->prop, v);
  case F_REF_OBJ:
  case F_DELTA_ITEM:
    if (strcmp(r->key, "id") == 0) {
      if (v.type != MVS_V_STR || v.u.s.n == 0)
        return fail(r, r->line, "\"id\" must be a non-empty string");
      f->id = v.u.s.p;
      return 1;
    }
    if (f->kind == F_DELTA_ITEM && strcmp(r->key, "@removed") == 0) {
      if (k != V_MAP)
        return fail(r, r->line, "\"@removed\" must be an object");
      f->removed = true;
    }
    return skip_value(r, k);
  case F_NESTED:
    return nested_value(r, f, k, v);
  case F_DELTA:
    if (k != V_MAP)
      return fail(r, r->line, "\"%s@delta\" items must be objects", f->name);
    return push(r, F_DELTA_ITEM, f->name, 0);
  }
  return 1;
}

static int end_container(reader *r)
{
  frame f;
  long i;

  if (r->skip) {
    r->skip--;
    return 1;
  }
  f = *top(r);
  r->nfr--;
  switch (f.kind) {
  case F_TOP:
  case F_COLL:
  case F_PROP_ARRAY:
  case F_DELTA:
    return 1;
  case F_OBJ:
    return finish_object(r);
  case F_REF_OBJ:
    if (!f.id) {
      r->props[f.prop].drop = true; /* objects that are not references (assignedLicenses) */
      return 1;
    }
    return add_value(r, (long)f.prop, ref_value(f.id));
  case F_NESTED:
    if (f.id) {
      if ((i = set_prop(r, f.name, f.line)) < 0)
        return 0;
      return add_value(r, i, ref_value(f.id));
    }
    /* Not a reference: its fields are properties (onPremisesExtensionAttributes). */
    for (size_t j = 0; j < f.n_flats; j++) {
      if ((i = set_prop(r, f.flats[j].name, f.flats[j].line)) < 0)
        return 0;
      if (f.flats[j].v.type != MVS_V_NULL && !add_value(r, i, f.flats[j].v))
        return 0;
    }
    return 1;
  case F_DELTA_ITEM:
    if (!f.id)
      return fail(r, f.line, "\"%s@delta\" item without \"id\"", f.name);
    if ((i = delta_prop(r, f.name, f.removed ? CONN_ATTR_DELETE : CONN_ATTR_ADD, f.line)) < 0)
      return 0;
    r->props[i].array = true;
    return add_value(r, i, ref_value(f.id));
  }
  return 1;
}

static int cb_null(void *ctx) { return value_event(ctx, V_NULL, mvs_null()); }

static int cb_boolean(void *ctx, int b) { return value_event(ctx, V_SCALAR, mvs_bool(b)); }

static int cb_number(void *ctx, const char *s, size_t n)
{
  reader *r = ctx;
  char tmp[32], *end;
  long long v;

  if (r->skip)
    return 1;
  if (n >= sizeof tmp || memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
    return fail(r, r->line, "%.*s is not an integer", (int)(n > 40 ? 40 : n), s);
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  errno = 0;
  v = strtoll(tmp, &end, 10);
  if (errno || *end)
    return fail(r, r->line, "%s is out of range", tmp);
  return value_event(r, V_SCALAR, mvs_num(v));
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
  reader *r = ctx;
  mvs_value v;
  if (r->skip)
    return 1;
  if (memchr(s, '\0', n))
    return fail(r, r->line, "text with a NUL character (\\u0000)");
  if (mvs_str_copy(r->arena, (const char *)s, n, &v) != 0)
    return too_big(r);
  return value_event(r, V_SCALAR, v);
}

static int cb_start_map(void *ctx) { return value_event(ctx, V_MAP, mvs_null()); }

static int cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
  reader *r = ctx;
  if (r->skip)
    return 1;
  if (n == 0 || memchr(s, '\0', n))
    return fail(r, r->line, "an empty key, or one with a NUL character (\\u0000)");
  r->key = mvs_arena_memdup(r->arena, s, n);
  return r->key ? 1 : too_big(r);
}

static int cb_start_array(void *ctx) { return value_event(ctx, V_ARRAY, mvs_null()); }

static int cb_end(void *ctx) { return end_container(ctx); }

static const yajl_callbacks callbacks = {
    cb_null,      cb_boolean, NULL,   NULL,           cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

/* ---- feeding yajl line by line ---- */

static int feed(reader *r, const char *p, size_t n)
{
  yajl_status st;
  if (n > r->o->max_object - r->since || r->since > r->o->max_object) {
    too_big(r);
    return r->status;
  }
  r->since += n;
  st = yajl_parse(r->h, (const unsigned char *)p, n);
  if (st == yajl_status_ok)
    return GJ_OK;
  if (st == yajl_status_error) {
    unsigned char *m = yajl_get_error(r->h, 0, NULL, 0);
    const char *t = m ? (const char *)m : "";
    fail(r, r->line, "invalid JSON (%.*s)", (int)strcspn(t, "\n"), t);
    yajl_free_error(r->h, m);
  }
  return r->status ? r->status : GJ_EDATA;
}

/* The document being fed ends here. */
static int complete(reader *r)
{
  int rc = GJ_OK;
  if (yajl_complete_parse(r->h) != yajl_status_ok) {
    if (!r->status)
      fail(r, r->last_line, "truncated JSON (the document does not end)");
    rc = r->status;
  }
  yajl_free(r->h);
  r->h = NULL;
  return rc;
}

static int new_handle(reader *r)
{
  r->nfr = 0;
  r->skip = 0;
  r->coll_type = r->page_type = NULL;
  free(r->links[GJ_NEXT_LINK]);
  free(r->links[GJ_DELTA_LINK]);
  r->links[GJ_NEXT_LINK] = r->links[GJ_DELTA_LINK] = NULL;
  reset_object(r);
  if (!(r->h = yajl_alloc(&callbacks, NULL, r))) {
    snprintf(r->errbuf, sizeof r->errbuf, "%s: out of memory", r->o->name);
    return r->status = GJ_ENOMEM;
  }
  return GJ_OK;
}

static bool blank(const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
      return false;
  return true;
}

gj_reader *gj_reader_new(const gj_opts *o, gj_change_fn fn, void *u)
{
  reader *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->o = o;
  r->fn = fn;
  r->u = u;
  r->line = r->last_line = 1 + o->lines_before;
  r->fed = r->line_off = r->obj_off = o->start;
  /* Everything one object holds lives in the arena: a few times its JSON at most. */
  if (!(r->arena = mvs_arena_new(o->max_object * 4 + 65536))) {
    free(r);
    return NULL;
  }
  return r;
}

int gj_reader_feed(gj_reader *r, const char *p, size_t n)
{
  size_t off = 0;
  int rc = r->status;

  /* Feed up to each newline separately, so every callback knows its line. */
  while (off < n && rc == GJ_OK) {
    const char *nl = memchr(p + off, '\n', n - off);
    size_t seg = nl ? (size_t)(nl - (p + off)) : n - off;
    if (seg && !blank(p + off, seg))
      r->last_line = r->line;
    /* A handle starts with the first text: blank lines between documents are fine. */
    if (seg && !(!r->h && blank(p + off, seg)) && (r->h || (rc = new_handle(r)) == GJ_OK))
      rc = feed(r, p + off, seg);
    off += seg;
    if (!nl || rc != GJ_OK)
      continue;
    off++;
    if (r->o->per_line && r->h)
      rc = complete(r);
    else if (r->h)
      rc = feed(r, "\n", 1);
    r->line++;
    r->line_off = r->fed + (int64_t)off;
  }
  r->fed += (int64_t)n;
  return rc;
}

int gj_reader_end(gj_reader *r)
{
  if (r->status == GJ_OK && r->h)
    return complete(r);
  return r->status;
}

const char *gj_reader_error(const gj_reader *r) { return r->errbuf; }

const char *gj_reader_link(const gj_reader *r, gj_link which) { return r->links[which]; }

void gj_reader_free(gj_reader *r)
{
  if (!r)
    return;
  if (r->h)
    yajl_free(r->h);
  free(r->links[GJ_NEXT_LINK]);
  free(r->links[GJ_DELTA_LINK]);
  mvs_arena_free(r->arena);
  free(r);
}

int gj_read(FILE *f, int64_t end, const gj_opts *o, gj_change_fn fn, void *u, char *err,
            size_t errlen)
{
  reader *r = gj_reader_new(o, fn, u);
  char *chunk = malloc(READ_CHUNK);
  int64_t fed = o->start;
  int rc = GJ_OK;

  err[0] = '\0';
  if (!chunk || !r) {
    rc = GJ_ENOMEM;
    snprintf(err, errlen, "%s: out of memory", o->name);
    goto out;
  }
  while (fed < end && rc == GJ_OK) {
    size_t want = (int64_t)READ_CHUNK < end - fed ? READ_CHUNK : (size_t)(end - fed);
    size_t n = fread(chunk, 1, want, f);
    if (n == 0) {
      if (ferror(f)) {
        rc = GJ_EIO;
        snprintf(r->errbuf, sizeof r->errbuf, "%s: read error", o->name);
      }
      break;
    }
    fed += (int64_t)n;
    rc = gj_reader_feed(r, chunk, n);
  }
  if (rc == GJ_OK)
    rc = gj_reader_end(r);
  if (rc != GJ_OK)
    snprintf(err, errlen, "%s", r->errbuf);
out:
  gj_reader_free(r);
  free(chunk);
  return rc;
}

/* ---- writing delta pages ---- */

/* onPremisesExtensionAttributes' fields: the reader flattens them, the writer nests them back
 * (single values only: the reader does not look into a nested object's lists or objects). */
static const char ext_parent[] = "onPremisesExtensionAttributes";

static bool is_ext_attr(const fchange *ch, const conn_attr *at)
{
  const char *n = at->name;
  int k;
  for (size_t i = 0; i < ch->n_attrs; i++)
    if (ch->attrs[i].op != CONN_ATTR_REPLACE && strcmp(ch->attrs[i].name, n) == 0)
      return false; /* nested, it would move after its own adds and removals */
  if (strncmp(n, "extensionAttribute", 18) != 0 || n[18] < '1' || n[18] > '9')
    return false;
  k = n[18] - '0';
  if (n[19] >= '0' && n[19] <= '9')
    k = k * 10 + n[19] - '0';
  return k <= 15 && n[18 + 1 + (k > 9)] == '\0' && at->op == CONN_ATTR_REPLACE &&
         at->value.type != MVS_V_MV && at->value.type != MVS_V_REF;
}

static int gen_str(yajl_gen g, const char *s, size_t n)
{
  return yajl_gen_string(g, (const unsigned char *)s, n) == yajl_gen_status_ok ? 0 : -1;
}

int gj_gen_value(yajl_gen g, mvs_value v)
{
  char tmp[40];
  switch (v.type) {
  case MVS_V_STR:
    return gen_str(g, v.u.s.p, v.u.s.n);
  case MVS_V_REF:
    if (yajl_gen_map_open(g) != yajl_gen_status_ok || gen_str(g, "id", 2) != 0 ||
        gen_str(g, v.u.s.p, v.u.s.n) != 0)
      return -1;
    return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
  case MVS_V_NUM:
    return yajl_gen_integer(g, v.u.num) == yajl_gen_status_ok ? 0 : -1;
  case MVS_V_BOOL:
    return yajl_gen_bool(g, v.u.b) == yajl_gen_status_ok ? 0 : -1;
  case MVS_V_DT:
    mvs_dt_format_iso(v.u.dt, tmp);
    return gen_str(g, tmp, strlen(tmp));
  case MVS_V_BIN: {
    char *enc = malloc(base64_encoded_len(v.u.s.n) + 1);
    int rc;
    if (!enc)
      return -1;
    base64_encode(v.u.s.p, v.u.s.n, enc);
    rc = gen_str(g, enc, base64_encoded_len(v.u.s.n));
    free(enc);
    return rc;
  }
  case MVS_V_MV:
    if (yajl_gen_array_open(g) != yajl_gen_status_ok)
      return -1;
    for (size_t i = 0; i < v.u.mv.n; i++)
      if (gj_gen_value(g, v.u.mv.items[i]) != 0)
        return -1;
    return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
  default:
    return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
  }
}

/* "@removed": {"reason": "deleted"} */
static int gen_removed(yajl_gen g)
{
  if (gen_str(g, "@removed", 8) != 0 || yajl_gen_map_open(g) != yajl_gen_status_ok ||
      gen_str(g, "reason", 6) != 0 || gen_str(g, "deleted", 7) != 0)
    return -1;
  return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

/* "X@delta": the values of the run of ADD / DELETE of X starting at attrs[first], in their
 * order (a removal carries "@removed"); returns the index after the run. */
static int gen_delta(yajl_gen g, const fchange *ch, size_t first, size_t *next)
{
  const char *name = ch->attrs[first].name;
  size_t key_size = strlen(name) + 7;
  char *key = malloc(key_size);
  size_t i;
  int rc = -1;

  if (!key)
    return -1;
  snprintf(key, key_size, "%s@delta", name);
  if (gen_str(g, key, strlen(key)) != 0 || yajl_gen_array_open(g) != yajl_gen_status_ok)
    goto out;
  for (i = first; i < ch->n_attrs && ch->attrs[i].op != CONN_ATTR_REPLACE &&
                  strcmp(ch->attrs[i].name, name) == 0;
       i++) {
    bool removed = ch->attrs[i].op == CONN_ATTR_DELETE;
    for (size_t k = 0; k < mvs_count(ch->attrs[i].value); k++) {
      mvs_value v = mvs_item(ch->attrs[i].value, k);
      if (v.type != MVS_V_REF || yajl_gen_map_open(g) != yajl_gen_status_ok ||
          gen_str(g, "id", 2) != 0 || gen_str(g, v.u.s.p, v.u.s.n) != 0)
        goto out;
      if (removed && gen_removed(g) != 0)
        goto out;
      if (yajl_gen_map_close(g) != yajl_gen_status_ok)
        goto out;
    }
  }
  *next = i;
  rc = yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
out:
  free(key);
  return rc;
}

static int gen_object(yajl_gen g, const fchange *ch, const shape *s)
{
  const shape_type *t = ch->type ? shape_type_find(s, ch->type) : NULL;
  bool ext = false;

  /* The table's @odata.type only for its own spelling: "Group" reads back as "Group". */
  if (t && strcmp(t->name, ch->type) != 0)
    t = NULL;
  if (yajl_gen_map_open(g) != yajl_gen_status_ok)
    return -1;
  if (ch->type) {
    buf odata;
    int rc;
    buf_init(&odata, 0);
    rc = t ? buf_adds(&odata, t->odata_type) : buf_printf(&odata, "#microsoft.graph.%s", ch->type);
    if (rc == BUF_OK && gen_str(g, "@odata.type", 11) == 0)
      rc = gen_str(g, odata.p, odata.len);
    buf_free(&odata);
    if (rc != 0)
      return -1;
  }
  if (gen_str(g, "id", 2) != 0 || gen_str(g, ch->anchor, strlen(ch->anchor)) != 0)
    return -1;
  if (ch->kind == FCH_DELETE)
    return gen_removed(g) == 0 && yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
  for (size_t i = 0; i < ch->n_attrs;) {
    const conn_attr *at = &ch->attrs[i];
    if (at->op != CONN_ATTR_REPLACE) {
      if (gen_delta(g, ch, i, &i) != 0)
        return -1;
      continue;
    }
    i++;
    if (strcmp(at->name, "id") == 0)
      continue;
    if (is_ext_attr(ch, at)) {
      ext = true;
      continue;
    }
    if (gen_str(g, at->name, strlen(at->name)) != 0 || gj_gen_value(g, at->value) != 0)
      return -1;
  }
  if (ext) {
    if (gen_str(g, ext_parent, sizeof ext_parent - 1) != 0 ||
        yajl_gen_map_open(g) != yajl_gen_status_ok)
      return -1;
    for (size_t i = 0; i < ch->n_attrs; i++) {
      const conn_attr *at = &ch->attrs[i];
      if (is_ext_attr(ch, at) &&
          (gen_str(g, at->name, strlen(at->name)) != 0 || gj_gen_value(g, at->value) != 0))
        return -1;
    }
    if (yajl_gen_map_close(g) != yajl_gen_status_ok)
      return -1;
  }
  return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

int gj_write_change(const fchange *ch, const shape *s, buf *out)
{
  yajl_gen g;
  const unsigned char *text;
  size_t n;
  int rc = -1;

  /* A name with '@' would read back as an annotation, an empty one as nothing. */
  for (size_t i = 0; i < ch->n_attrs; i++)
    if (!ch->attrs[i].name[0] || strchr(ch->attrs[i].name, '@'))
      return -1;
  if (!(g = yajl_gen_alloc(NULL)))
    return BUF_NOMEM;
  yajl_gen_config(g, yajl_gen_validate_utf8, 1);
  if (yajl_gen_map_open(g) != yajl_gen_status_ok || gen_str(g, "value", 5) != 0 ||
      yajl_gen_array_open(g) != yajl_gen_status_ok || gen_object(g, ch, s) != 0 ||
      yajl_gen_array_close(g) != yajl_gen_status_ok ||
      yajl_gen_map_close(g) != yajl_gen_status_ok ||
      yajl_gen_get_buf(g, &text, &n) != yajl_gen_status_ok)
    goto out;
  if ((rc = buf_add(out, text, n)) == BUF_OK)
    rc = buf_addc(out, '\n');
out:
  yajl_gen_free(g);
  return rc;
}
