/* search — `mvsync search`: the objects of a connector space or of the metaverse that a
 * filter selects (rules/: search_filter_parse), found through the store's indexes where one
 * can answer and checked against the whole filter, written as text, JSON or CSV.  How a
 * filter becomes probes: docs/internals/search.md.  Entry point: engine_search (engine.h).
 * Memory: the compiled filter and plans live in an arena freed before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/dump.h"
#include "engine/engine_int.h"
#include "engine/flow.h"
#include "engine/label.h"
#include "rules/scope.h"
#include "schema/json_str.h"

/* The object's own fields a filter names like attributes. */
#define PSEUDO_DN "dn"
#define PSEUDO_ANCHOR "anchor"
#define PSEUDO_TYPE "object-type"

/* ---- the ids already written (an object may come from several probes) ---- */

typedef struct id_set {
  int64_t *slots;   /* 0: empty (ids start at 1) */
  size_t n, cap;    /* cap: a power of two */
} id_set;

static size_t id_slot(const id_set *s, int64_t id)
{
  size_t i = ((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 20 & (s->cap - 1);
  while (s->slots[i] && s->slots[i] != id)
    i = (i + 1) & (s->cap - 1);
  return i;
}

/* 1 when id was added, 0 when it was there, -1 out of memory. */
static int id_set_add(id_set *s, int64_t id)
{
  size_t i;
  if ((s->n + 1) * 2 > s->cap) {
    id_set g = {calloc(s->cap ? s->cap * 2 : 1024, sizeof *g.slots), 0,
                s->cap ? s->cap * 2 : 1024};
    if (!g.slots)
      return -1;
    for (i = 0; i < s->cap; i++)
      if (s->slots[i])
        g.slots[id_slot(&g, s->slots[i])] = s->slots[i];
    g.n = s->n;
    free(s->slots);
    *s = g;
  }
  i = id_slot(s, id);
  if (s->slots[i])
    return 0;
  s->slots[i] = id;
  s->n++;
  return 1;
}

/* ---- compiling: which probe answers each group ---- */

/* Whether the store's key tables hold attr (any case) for this space, by the signature
 * the last sync wrote (meta key_attrs: "mv:ATTR;" and "CONNECTOR:ATTR;" entries); the
 * tables' spelling of it in stored[0..len). */
static bool key_attr(const char *sig, const char *space, const char *attr, const char **stored,
                     size_t *len)
{
  size_t sl = strlen(space), al = strlen(attr);
  const char *p = sig;
  while (p && *p) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > sl && memcmp(p, space, sl) == 0 && p[sl] == ':' && n - sl - 1 == al &&
        strncasecmp(p + sl + 1, attr, al) == 0) {
      *stored = p + sl + 1;
      *len = al;
      return true;
    }
    p = end ? end + 1 : NULL;
  }
  return false;
}

/* n zeroed pointers in the arena (the arena does not zero): NULL binds as no value. */
static const char **ptrs(mvs_arena *a, size_t n)
{
  const char **p = mvs_arena_alloc(a, n * sizeof *p);
  if (p)
    memset(p, 0, n * sizeof *p);
  return p;
}

/* One way to find a group's candidates: a probe run once per value. */
typedef struct plan {
  store_probe probe;
  const char *attr;          /* key probes: the attribute as the key table spells it */
  const char **values;       /* lo of each run (folded where the index is) */
  const char **his;          /* range probes: hi of each run */
  size_t n_values;
} plan;

typedef struct search_ctx {
  mvs_engine *e;
  const search_filter *f;
  const char *space;         /* connector name, or NULL for the metaverse */
  int64_t connector;
  int format;
  int64_t limit, found;
  FILE *out;
  id_set seen;
  bool more, failed;
  mvs_arena *a;              /* the compiled plans */
  buf row;                   /* one object's output */
} search_ctx;

static const char *fold_dup(mvs_arena *a, const char *s, size_t n)
{
  buf b;
  const char *r = NULL;
  buf_init(&b, 0);
  if (text_fold(s, n, &b) == 0)
    r = mvs_arena_memdup(a, b.p ? b.p : "", b.len);
  buf_free(&b);
  return r;
}

/* The end of the range of byte strings that start with lo: lo with its last byte plus one
 * (UTF-8 never has a 0xFF byte, so that never carries). */
static const char *range_end(mvs_arena *a, const char *lo)
{
  size_t n = strlen(lo);
  char *hi = mvs_arena_memdup(a, lo, n);
  if (hi && n)
    hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
  return hi;
}

/* The folded texts a value of the index may have when the clause's literal equals it:
 * its own text, and where it reads as a number, boolean or datetime the text of that
 * (a typed attribute compares as its type: 42 equals "042"). */
static int literal_keys(mvs_arena *a, const rule_literal *lit, const char **out, size_t *n)
{
  char tmp[48];
  if (!(out[(*n)++] = fold_dup(a, lit->text, lit->len)))
    return -1;
  tmp[0] = '\0';
  if (lit->is_num)
    snprintf(tmp, sizeof tmp, "%lld", (long long)lit->num);
  else if (lit->is_bool)
    snprintf(tmp, sizeof tmp, "%s", lit->b ? "true" : "false");
  else if (lit->is_dt)
    mvs_dt_format_iso(lit->dt, tmp);
  if (tmp[0] && strcmp(tmp, out[*n - 1]) != 0 && !(out[(*n)++] = fold_dup(a, tmp, strlen(tmp))))
    return -1;
  return 0;
}

/* How well a term narrows the search (higher is better; 0: no probe answers it), and the
 * plan when it does. */
static int term_plan(search_ctx *x, const char *sig, const filter_term *t, plan *p)
{
  const scope_clause *c = &t->clause;
  bool eq = c->op == SCOPE_EQUAL || c->op == SCOPE_ISIN;
  bool prefix = c->op == SCOPE_STARTSWITH && c->values && c->values[0].len > 0;
  const char *stored = NULL;
  size_t i, slen = 0;
  int score;

  memset(p, 0, sizeof *p);
  if (t->state != FILTER_CLAUSE) {
    static const struct { store_probe probe; int score; } states[FILTER_STATE_COUNT] = {
      [FILTER_ERROR] = {PROBE_CS_ERROR, 5}, [FILTER_PENDING_EXPORT] = {PROBE_CS_PENDING_EXPORT, 4},
      [FILTER_PENDING_IMPORT] = {PROBE_CS_PENDING_IMPORT, 4},
      [FILTER_DISCONNECTOR] = {PROBE_CS_DISCONNECTOR, 2}, [FILTER_JOINED] = {PROBE_CS_JOINED, 1}};
    p->probe = states[t->state].probe;
    p->n_values = 1;
    p->values = ptrs(x->a, 1);
    return p->values ? states[t->state].score : -1;
  }
  if (!eq && !prefix)
    return 0;
  if (strcasecmp(c->attr, PSEUDO_ANCHOR) == 0 && eq && x->space) {
    p->probe = PROBE_CS_ANCHOR;
    score = 10;
  } else if (strcasecmp(c->attr, PSEUDO_DN) == 0 && x->space) {
    p->probe = eq ? PROBE_CS_DN : PROBE_CS_DN_RANGE;
    score = eq ? 9 : 7;
  } else if (strcasecmp(c->attr, PSEUDO_TYPE) == 0 && eq) {
    p->probe = x->space ? PROBE_CS_TYPE : PROBE_MV_TYPE;
    score = 3;
  } else if (sig && key_attr(sig, x->space ? x->space : "mv", c->attr, &stored, &slen)) {
    p->probe = x->space ? (eq ? PROBE_CS_KEY : PROBE_CS_KEY_RANGE)
                        : (eq ? PROBE_MV_KEY : PROBE_MV_KEY_RANGE);
    p->attr = mvs_arena_memdup(x->a, stored, slen);
    score = eq ? 8 : 6;
  } else {
    return 0;
  }
  p->values = ptrs(x->a, 2 * c->n_values);
  p->his = ptrs(x->a, 2 * c->n_values);
  if (!p->values || !p->his)
    return -1;
  for (i = 0; i < c->n_values; i++) {
    const rule_literal *lit = &c->values[i];
    size_t before = p->n_values, k;
    if (p->probe == PROBE_CS_ANCHOR || p->probe == PROBE_CS_TYPE || p->probe == PROBE_MV_TYPE)
      p->values[p->n_values++] = lit->text;   /* exact; object types compare NOCASE */
    else if (p->probe == PROBE_CS_DN || !eq)
      p->values[p->n_values++] = fold_dup(x->a, lit->text, lit->len);
    else if (literal_keys(x->a, lit, p->values, &p->n_values) != 0)
      return -1;
    for (k = before; k < p->n_values; k++)
      if (!p->values[k] || (!eq && !(p->his[k] = range_end(x->a, p->values[k]))))
        return -1;
  }
  return score;
}

/* The best plan of a group: its most selective term's, else every object of the space. */
static int group_plan(search_ctx *x, const char *sig, const filter_group *g, plan *best)
{
  int best_score = 0, score;
  size_t i;
  plan p;

  memset(best, 0, sizeof *best);
  for (i = 0; i < g->n_terms; i++) {
    if ((score = term_plan(x, sig, &g->terms[i], &p)) < 0)
      return -1;
    if (score > best_score) {
      best_score = score;
      *best = p;
    }
  }
  if (best_score == 0) {
    best->probe = x->space ? PROBE_CS_ALL : PROBE_MV_ALL;
    best->n_values = 1;
    if (!(best->values = ptrs(x->a, 1)))
      return -1;
  }
  return 0;
}

/* A term a metaverse search cannot answer (states, the connector-space fields, group
 * membership by DN), as "filter:1:COL: error: ..." in msg; 0 when there is none. */
static int check_terms(search_ctx *x, buf *msg)
{
  size_t g, i;
  for (g = 0; g < x->f->n_groups && !x->space; g++)
    for (i = 0; i < x->f->groups[g].n_terms; i++) {
      const filter_term *t = &x->f->groups[g].terms[i];
      const char *attr = t->clause.attr;
      buf_printf(msg, "filter:%u:%u: error: ", t->pos.line, t->pos.col);
      if (t->state != FILTER_CLAUSE) {
        buf_printf(msg, "'%s' is a connector-space state; search a connector space "
                   "(search cs CONNECTOR) for it", filter_state_names[t->state]);
        return -1;
      }
      if (strcasecmp(attr, PSEUDO_DN) == 0 || strcasecmp(attr, PSEUDO_ANCHOR) == 0) {
        buf_printf(msg, "metaverse objects have no %s; search a connector space "
                   "(search cs CONNECTOR) for it", attr);
        return -1;
      }
      if (t->clause.op == SCOPE_ISMEMBEROF || t->clause.op == SCOPE_ISNOTMEMBEROF) {
        buf_printf(msg, "%s names a group by its DN in a connector space; search the "
                   "connector space (search cs CONNECTOR)", scope_op_name(t->clause.op));
        return -1;
      }
      buf_reset(msg);
    }
  return 0;
}

/* ---- checking one object ---- */

typedef struct object {
  obj_view v;
  cs_row cs;                 /* a connector-space object */
  mv_row mv;                 /* a metaverse object */
  int pe;                    /* pending export: -1 not read yet, 0 none, 1 one, 2 one in error */
  search_ctx *x;
} object;

static mvs_value object_attr(void *u, const char *name, size_t n)
{
  object *o = u;
  const char *s = NULL;
  if (n == strlen(PSEUDO_TYPE) && strncasecmp(name, PSEUDO_TYPE, n) == 0)
    s = o->x->space ? o->cs.object_type : o->mv.object_type;
  else if (o->x->space && n == strlen(PSEUDO_DN) && strncasecmp(name, PSEUDO_DN, n) == 0)
    s = o->cs.dn;
  else if (o->x->space && n == strlen(PSEUDO_ANCHOR) && strncasecmp(name, PSEUDO_ANCHOR, n) == 0)
    s = o->cs.anchor;
  else
    return view_scope_env(&o->v).attr(&o->v, name, n);
  return s ? mvs_str_ref(s, strlen(s)) : mvs_null();
}

static int object_member_of(void *u, const char *group_dn, size_t n)
{
  object *o = u;
  return view_scope_env(&o->v).is_member_of(&o->v, group_dn, n);
}

/* The object's pending export: 0 none, 1 one, 2 one the directory refused; -1 on error. */
static int pending_export(object *o)
{
  pe_row pe;
  int rc;
  if (o->pe < 0) {
    rc = store_pe_get(o->x->e->st, o->cs.id, o->x->e->scratch, &pe);
    if (rc == STORE_ERR)
      return -1;
    o->pe = rc == STORE_NOTFOUND ? 0 : pe.error ? 2 : 1;
  }
  return o->pe;
}

/* 1 when the term holds, 0 when not, -1 on error. */
static int term_holds(object *o, const filter_term *t)
{
  scope_env env = {object_attr, object_member_of, o};
  int pe;
  switch (t->state) {
  case FILTER_CLAUSE:
    return scope_clause_eval(&t->clause, &env);
  case FILTER_JOINED:
    return o->cs.mv_id != 0;
  case FILTER_DISCONNECTOR:
    return o->cs.mv_id == 0;
  case FILTER_PENDING_IMPORT:
    return o->cs.import_state != IMPORT_NONE;
  case FILTER_PENDING_EXPORT:
    return pending_export(o) < 0 ? -1 : o->pe > 0;
  case FILTER_ERROR:
    if (o->cs.error)
      return 1;
    return (pe = pending_export(o)) < 0 ? -1 : pe == 2;
  default:
    return -1;
  }
}

/* 1 when some group of the filter holds (every term of it), 0 when none, -1 on error. */
static int filter_holds(object *o)
{
  size_t g, i;
  int rc = 1;
  for (g = 0; g < o->x->f->n_groups; g++) {
    for (i = 0, rc = 1; i < o->x->f->groups[g].n_terms && rc == 1; i++)
      rc = term_holds(o, &o->x->f->groups[g].terms[i]);
    if (rc != 0)
      return rc;
  }
  return rc;
}

/* ---- output ---- */

static void csv_field(buf *b, const char *s, size_t n)
{
  size_t i;
  buf_addc(b, '"');
  for (i = 0; s && i < n; i++) {
    if (s[i] == '"')
      buf_addc(b, '"');
    buf_addc(b, s[i]);
  }
  buf_addc(b, '"');
}

static void json_or_null(buf *b, const char *s)
{
  s ? json_str_write(b, s, strlen(s)) : buf_adds(b, "null");
}

static int write_object(search_ctx *x, object *o)
{
  mvs_engine *e = x->e;
  const char *type = x->space ? o->cs.object_type : o->mv.object_type;
  const char *dn = x->space ? o->cs.dn : NULL, *anchor = x->space ? o->cs.anchor : NULL;
  int64_t id = x->space ? o->cs.id : o->mv.id;
  const ref_rows *refs = NULL;
  ref_rows mv_refs = {0};
  buf attrs;
  int rc = -1;

  buf_reset(&x->row);
  buf_init(&attrs, 0);
  if (x->format != SEARCH_TEXT) {
    if (x->space)
      refs = view_refs(&o->v);
    else if (store_mv_ref_all(e->st, id, e->scratch, &mv_refs) == STORE_OK)
      refs = &mv_refs;
    if (!refs || dump_attrs(e, &attrs, &o->v.attrs, refs, !x->space, e->scratch) != 0)
      goto out;
  }
  if (x->format == SEARCH_JSON) {
    buf_printf(&x->row, "%s\n {\"id\": %lld, \"space\": ", x->found ? "," : "", (long long)id);
    json_str_write(&x->row, x->space ? x->space : "metaverse",
                   strlen(x->space ? x->space : "metaverse"));
    buf_adds(&x->row, ", \"object_type\": ");
    json_str_write(&x->row, type, strlen(type));
    buf_adds(&x->row, ", \"dn\": ");
    json_or_null(&x->row, dn);
    buf_adds(&x->row, ", \"anchor\": ");
    json_or_null(&x->row, anchor);
    buf_printf(&x->row, ", \"attributes\": %s}", attrs.p);
  } else if (x->format == SEARCH_CSV) {
    buf_printf(&x->row, "%lld,", (long long)id);
    csv_field(&x->row, x->space ? x->space : "metaverse",
              strlen(x->space ? x->space : "metaverse"));
    buf_addc(&x->row, ',');
    csv_field(&x->row, type, strlen(type));
    buf_addc(&x->row, ',');
    csv_field(&x->row, dn, dn ? strlen(dn) : 0);
    buf_addc(&x->row, ',');
    csv_field(&x->row, anchor, anchor ? strlen(anchor) : 0);
    buf_addc(&x->row, ',');
    csv_field(&x->row, attrs.p, attrs.len);
    buf_addc(&x->row, '\n');
  } else if (x->space) {
    buf_printf(&x->row, "%lld  %s  %s  %s\n", (long long)id, type, dn ? dn : "(no dn)",
               anchor ? anchor : "(no anchor)");
  } else {
    const char *label;
    if (label_mv(e, id, e->scratch, &label) != 0)
      goto out;
    buf_printf(&x->row, "%lld  %s  %s\n", (long long)id, type, label);
  }
  if (!x->row.p || fwrite(x->row.p, 1, x->row.len, x->out) != x->row.len) {
    engine_errorf(e, "cannot write the results");
    goto out;
  }
  rc = 0;
out:
  ref_rows_free(&mv_refs);
  buf_free(&attrs);
  return rc;
}

/* store_search's callback: check one candidate; write it when it matches. */
static int visit(void *u, int64_t id)
{
  search_ctx *x = u;
  mvs_engine *e = x->e;
  object o;
  int rc = -1, holds;

  memset(&o, 0, sizeof o);
  o.x = x;
  o.pe = -1;
  mvs_arena_reset(e->scratch);
  if (x->space) {
    if (store_cs_get(e->st, id, e->scratch, &o.cs) != STORE_OK ||
        view_load_cs(e, &o.v, &o.cs, e->scratch) != 0)
      goto out;
  } else if (store_mv_get(e->st, id, e->scratch, &o.mv) != STORE_OK ||
             view_load_mv(e, &o.v, &o.mv, e->scratch) != 0) {
    goto out;
  }
  if ((holds = filter_holds(&o)) < 0)
    goto out;
  rc = 0;
  if (!holds)
    goto out;
  switch (id_set_add(&x->seen, id)) {
  case 0:
    goto out;
  case 1:
    break;
  default:
    rc = -1;
    goto out;
  }
  if (x->limit && x->found == x->limit) {
    x->more = true;
    rc = 1;
    goto out;
  }
  rc = write_object(x, &o) == 0 ? 0 : -1;
  x->found++;
out:
  view_free(&o.v);
  if (rc < 0)
    x->failed = true;
  return rc;
}

static const char *const probe_names[PROBE_COUNT] = {
  [PROBE_CS_ALL] = "every object of the connector", [PROBE_CS_ANCHOR] = "anchor",
  [PROBE_CS_DN] = "dn", [PROBE_CS_DN_RANGE] = "dn prefix", [PROBE_CS_TYPE] = "object type",
  [PROBE_CS_KEY] = "join-key value", [PROBE_CS_KEY_RANGE] = "join-key prefix",
  [PROBE_CS_JOINED] = "joined", [PROBE_CS_DISCONNECTOR] = "disconnector",
  [PROBE_CS_PENDING_IMPORT] = "pending import", [PROBE_CS_PENDING_EXPORT] = "pending export",
  [PROBE_CS_ERROR] = "error", [PROBE_MV_ALL] = "every metaverse object",
  [PROBE_MV_TYPE] = "object type", [PROBE_MV_KEY] = "join-key value",
  [PROBE_MV_KEY_RANGE] = "join-key prefix"};

static int run_group(search_ctx *x, const plan *p, buf *explain)
{
  size_t i;
  for (i = 0; i < p->n_values && !x->more; i++) {
    store_probe_args a = {x->connector, p->attr, p->values[i], p->his ? p->his[i] : NULL};
    if (explain) {
      buf_printf(explain, "probe: %s%s%s%s%s\n", probe_names[p->probe], p->attr ? " " : "",
                 p->attr ? p->attr : "", a.lo ? " " : "", a.lo ? a.lo : "");
      if (store_search_plan(x->e->st, p->probe, &a, explain) != STORE_OK)
        return -1;
    }
    if (store_search(x->e->st, p->probe, &a, visit, x) != STORE_OK || x->failed)
      return -1;
  }
  return 0;
}

int engine_search(mvs_engine *e, const char *space, const char *filter, int format,
                  int64_t limit, FILE *out, buf *explain, bool *more)
{
  search_ctx x;
  search_filter f;
  filter_group all = {{0}, NULL, 0};
  rule_set *rs = rule_set_new();
  rule_diags d;
  char *sig = NULL;
  buf msg;
  size_t g;
  int rc = ENGINE_SYSTEM, prc;

  memset(&x, 0, sizeof x);
  rule_diags_init(&d);
  buf_init(&msg, 0);
  buf_init(&x.row, 0);
  x.e = e;
  x.space = space;
  x.format = format;
  x.limit = limit;
  x.out = out;
  x.f = &f;
  *more = false;
  if (!rs || !(x.a = mvs_arena_new(0)))
    goto out;
  if (space && store_connector_find(e->st, space, &x.connector) != STORE_OK) {
    engine_errorf(e, "no connector \"%s\" in the store", space);
    rc = ENGINE_INVALID;
    goto out;
  }
  prc = search_filter_parse(rs, filter ? filter : "", filter ? strlen(filter) : 0, &d, &f);
  if (prc == RULE_NOMEM)
    goto out;
  if (prc != RULE_OK || check_terms(&x, &msg) != 0) {
    rule_diags_sort(&d);
    rule_diags_format(&d, &msg);
    if (msg.len && msg.p[msg.len - 1] == '\n')
      msg.p[--msg.len] = '\0';
    engine_errorf(e, "%s", msg.p ? msg.p : "bad filter");
    rc = ENGINE_INVALID;
    goto out;
  }
  if (!f.n_groups) {
    f.groups = &all;
    f.n_groups = 1;
  }
  if (store_meta_get(e->st, "key_attrs", &sig) != STORE_OK)
    goto out;
  if (format == SEARCH_JSON)
    fputs("[", out);
  else if (format == SEARCH_CSV)
    fputs("id,space,object_type,dn,anchor,attributes\n", out);
  for (g = 0; g < f.n_groups && !x.more; g++) {
    plan p;
    if (group_plan(&x, sig, &f.groups[g], &p) != 0 || run_group(&x, &p, explain) != 0)
      goto out;
  }
  if (format == SEARCH_JSON)
    fputs(x.found ? "\n]\n" : "]\n", out);
  *more = x.more;
  rc = ENGINE_OK;
out:
  if (rc == ENGINE_SYSTEM && !x.failed)
    engine_errorf(e, "search: %s", store_errmsg(e->st));
  free(sig);
  free(x.seen.slots);
  buf_free(&x.row);
  buf_free(&msg);
  rule_diags_free(&d);
  rule_set_free(rs);
  if (x.a)
    mvs_arena_free(x.a);
  return engine_fail(e, rc, "search");
}
