/* authority — the authority map of a rule set: who can set what, and where authority is
 * split.  See authority.h; what each finding means: docs/authority.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/authority.h"
#include "schema/array.h"

static const char *const kind_names[] = {"split", "drift", "overlap", "ungoverned",
                                         "review-passed"};

const char *auth_kind_name(auth_kind k) { return kind_names[k]; }

/* ---- small helpers (everything in the map's arena) ---- */

static const char *astr(authority_map *m, const char *s)
{
  return s ? mvs_arena_memdup(m->arena, s, strlen(s)) : NULL;
}

static const char *aprintf(authority_map *m, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
static const char *aprintf(authority_map *m, const char *fmt, ...)
{
  buf b;
  va_list ap;
  const char *s = NULL;
  buf_init(&b, 0);
  va_start(ap, fmt);
  if (buf_vprintf(&b, fmt, ap) == 0 && b.p)
    s = mvs_arena_memdup(m->arena, b.p, b.len);
  va_end(ap);
  buf_free(&b);
  return s;
}

/* A growable list of strings in the arena. */
typedef struct str_list {
  const char **v;
  size_t n, cap;
} str_list;

static int list_add(authority_map *m, str_list *l, const char *s)
{
  if (!s || array_reserve_in(m->arena, &l->v, l->n, &l->cap, l->n + 1, sizeof *l->v) != 0)
    return -1;
  l->v[l->n++] = s;
  return 0;
}

static bool list_has(const str_list *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0)
      return true;
  return false;
}

static int list_add_unique(authority_map *m, str_list *l, const char *s)
{
  return list_has(l, s) ? 0 : list_add(m, l, s);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *list_join(authority_map *m, const str_list *l, const char *sep)
{
  buf b;
  const char *s;
  buf_init(&b, 0);
  for (size_t i = 0; i < l->n; i++)
    if (buf_printf(&b, "%s%s", i ? sep : "", l->v[i]) != 0) {
      buf_free(&b);
      return NULL;
    }
  s = mvs_arena_memdup(m->arena, b.p ? b.p : "", b.len);
  buf_free(&b);
  return s;
}

static const char *date_text(authority_map *m, const rule *r)
{
  if (!r || !r->fields[RULE_F_REVIEW_BY].valid)
    return NULL;
  return aprintf(m, "%04d-%02d-%02d", r->review_by.year, r->review_by.month, r->review_by.day);
}

static int date_cmp(rule_date a, rule_date b)
{
  if (a.year != b.year)
    return a.year < b.year ? -1 : 1;
  if (a.month != b.month)
    return a.month < b.month ? -1 : 1;
  return a.day < b.day ? -1 : a.day > b.day;
}

/* ---- connectors and collections ---- */

static const char *setting(const rule_connector *c, const char *key)
{
  for (size_t i = 0; c && i < c->n_settings; i++)
    if (strcmp(c->settings[i].key, key) == 0)
      return c->settings[i].value.text;
  return NULL;
}

bool authority_is_ad(const rule_connector *conn)
{
  const char *shape, *path;
  size_t n;
  if (!conn)
    return false;
  if (conn->type == RULE_CONN_AD)
    return true;
  if (conn->type != RULE_CONN_FILE)
    return false;
  if ((shape = setting(conn, "shape")))
    return strcasecmp(shape, "ad") == 0;
  path = setting(conn, "path");
  return path && (n = strlen(path)) > 5 && strcasecmp(path + n - 5, ".ldif") == 0;
}

/* The connector of the other rule set that is the same directory as `c` of rs: the same
 * name, or the same type and `base` (an imported Connect configuration names its connectors
 * its own way). */
static bool same_directory(const rule_connector *a, const rule_connector *b)
{
  const char *ba, *bb;
  if (!a || !b)
    return false;
  if (strcmp(a->name, b->name) == 0)
    return true;
  ba = setting(a, "base");
  bb = setting(b, "base");
  return a->type == b->type && ba && bb && strcasecmp(ba, bb) == 0;
}

/* The space (a connector name of the main set) an also-set rule's connector stands for. */
static const char *space_of(const rule_set *rs, const rule_set *set, const rule *r)
{
  const rule_connector *c = rule_set_connector(set, r->connector);
  if (set == rs || !c)
    return r->connector;
  for (size_t i = 0; i < rs->n_connectors; i++)
    if (same_directory(&rs->connectors[i], c))
      return rs->connectors[i].name;
  return r->connector;
}

/* The collection an outbound rule from `collection` is scoped to (scope `name EQUAL "X"`). */
const rule_collection *authority_rule_collection(const rule_set *rs, const rule *r)
{
  if (!r->source_type || strcmp(r->source_type, RULE_COLLECTION_TYPE) != 0 || r->n_scope != 1)
    return NULL;
  for (size_t i = 0; i < r->scope[0].n_clauses; i++) {
    const scope_clause *c = &r->scope[0].clauses[i];
    if ((strcmp(c->attr, "name") == 0 || strcmp(c->attr, "displayName") == 0) &&
        c->op == SCOPE_EQUAL && c->n_values == 1)
      return rule_set_collection(rs, c->values[0].text);
  }
  return NULL;
}

/* ---- scope in words ---- */

static const char *const op_words[SCOPE_OP_COUNT] = {
  [SCOPE_EQUAL] = "is", [SCOPE_NOTEQUAL] = "is not",
  [SCOPE_LESSTHAN] = "is less than", [SCOPE_LESSTHAN_OR_EQUAL] = "is at most",
  [SCOPE_GREATERTHAN] = "is greater than", [SCOPE_GREATERTHAN_OR_EQUAL] = "is at least",
  [SCOPE_CONTAINS] = "contains", [SCOPE_NOTCONTAINS] = "does not contain",
  [SCOPE_STARTSWITH] = "starts with", [SCOPE_NOTSTARTSWITH] = "does not start with",
  [SCOPE_ENDSWITH] = "ends with", [SCOPE_NOTENDSWITH] = "does not end with",
  [SCOPE_ISNULL] = "is empty", [SCOPE_ISNOTNULL] = "is set",
  [SCOPE_ISIN] = "is one of", [SCOPE_ISNOTIN] = "is none of",
  [SCOPE_ISBITSET] = "has all bits set of", [SCOPE_ISNOTBITSET] = "has not all bits set of",
  [SCOPE_ISMEMBEROF] = "is a member of", [SCOPE_ISNOTMEMBEROF] = "is not a member of",
};

static int literal_words(buf *out, const rule_literal *v)
{
  return v->kind == RULE_VAL_STRING ? buf_printf(out, "\"%s\"", v->text) : buf_adds(out, v->text);
}

static int scope_clauses_words(const scope_group *g, size_t n, buf *out)
{
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (i)
      buf_adds(out, " or ");
    for (size_t j = 0; j < g[i].n_clauses && rc == 0; j++) {
      const scope_clause *c = &g[i].clauses[j];
      buf_printf(out, "%s%s %s", j ? " and " : "", c->attr, op_words[c->op]);
      for (size_t k = 0; k < c->n_values && rc == 0; k++) {
        buf_adds(out, k ? ", " : " ");
        rc = literal_words(out, &c->values[k]);
      }
    }
  }
  return rc;
}

int authority_scope_words(const rule_set *rs, const rule *r, buf *out)
{
  const rule_collection *c = r->direction == RULE_OUTBOUND ? authority_rule_collection(rs, r) : NULL;
  const char *type = c ? c->source_type : r->source_type;

  if (c) {
    buf_printf(out, "collection \"%s\": every %s", c->name, type ? type : "object");
    if (c->n_scope) {
      buf_adds(out, " where ");
      scope_clauses_words(c->scope, c->n_scope, out);
    }
    return buf_adds(out, "");
  }
  buf_printf(out, "every %s%s%s", type ? type : "object",
             r->direction == RULE_INBOUND ? " of " : "",
             r->direction == RULE_INBOUND && r->connector ? r->connector : "");
  if (r->n_scope) {
    buf_adds(out, " where ");
    return scope_clauses_words(r->scope, r->n_scope, out);
  }
  return buf_adds(out, "");
}

static const char *scope_text(authority_map *m, const rule_set *rs, const rule *r)
{
  buf b;
  const char *s = NULL;
  buf_init(&b, 0);
  if (authority_scope_words(rs, r, &b) == 0 && b.p)
    s = mvs_arena_memdup(m->arena, b.p, b.len);
  buf_free(&b);
  return s;
}

/* ---- where an outbound flow's values come from ---- */

typedef struct feed_ctx {
  authority_map *m;
  const rule_set *rs;
  const char *mv_type;
  str_list *out;
  int rc;
} feed_ctx;

static void feed_attr(void *u, const char *name, size_t n)
{
  feed_ctx *x = u;
  for (size_t i = 0; i < x->rs->n_rules; i++) {
    const rule *r = &x->rs->rules[i];
    if (r->disabled || r->direction != RULE_INBOUND || !rule_targets_type(r, x->mv_type))
      continue;
    for (size_t j = 0; j < r->n_flows; j++)
      if (strlen(r->flows[j].target) == n && memcmp(r->flows[j].target, name, n) == 0 &&
          list_add_unique(x->m, x->out, r->connector) != 0)
        x->rc = -1;
  }
}

static const char *flow_source(authority_map *m, const rule_set *rs, const rule *r,
                               const rule_flow *f)
{
  str_list l = {0};
  feed_ctx x = {m, rs, r->source_type, &l, 0};
  const rule_collection *c;

  if (r->direction == RULE_INBOUND)
    return r->connector;
  if (f->type == RULE_FLOW_CONSTANT)
    return "constant";
  if (f->type == RULE_FLOW_DIRECT)
    feed_attr(&x, f->source, strlen(f->source));
  else if (f->expr)
    expr_attrs(f->expr, feed_attr, &x);
  if (x.rc != 0)
    return NULL;
  if (!l.n && (c = authority_rule_collection(rs, r)))
    return aprintf(m, "collection \"%s\"", c->name);
  if (!l.n)
    return "metaverse";
  qsort(l.v, l.n, sizeof *l.v, cmp_str);
  return list_join(m, &l, ", ");
}

/* ---- the attribute entries ---- */

static auth_attr *attr_entry(authority_map *m, const char *space, const char *type,
                             const char *attribute)
{
  auth_attr *a;
  for (size_t i = 0; i < m->n_attrs; i++) {
    a = &m->attrs[i];
    if (strcmp(a->space, space) == 0 && strcmp(a->object_type, type) == 0 &&
        strcmp(a->attribute, attribute) == 0)
      return a;
  }
  if (array_reserve(&m->attrs, &m->cap_attrs, m->n_attrs + 1, sizeof *m->attrs) != 0)
    return NULL;
  a = &m->attrs[m->n_attrs++];
  memset(a, 0, sizeof *a);
  a->space = astr(m, space);
  a->object_type = astr(m, type);
  a->attribute = astr(m, attribute);
  return a->space && a->object_type && a->attribute ? a : NULL;
}

static int governance(authority_map *m, const rule_set *set, const rule *r, auth_rule *ar)
{
  const rule_collection *c = r->direction == RULE_OUTBOUND ? authority_rule_collection(set, r) : NULL;
  ar->owner = r->owner ? r->owner : c ? c->owner : NULL;
  ar->purpose = r->purpose ? r->purpose : c ? c->purpose : NULL;
  ar->review_by = date_text(m, r->fields[RULE_F_REVIEW_BY].valid ? r : c);
  ar->governed_by = c && (!r->owner || !r->purpose || !r->fields[RULE_F_REVIEW_BY].valid)
                        ? c->name : "rule";
  return 0;
}

static int add_rule_flows(authority_map *m, const rule_set *rs, const rule_set *set, bool also,
                          const char *only)
{
  for (size_t i = 0; i < set->n_rules; i++) {
    const rule *r = &set->rules[i];
    const char *space;
    if (r->disabled || (also && r->direction != RULE_OUTBOUND))
      continue;
    space = r->direction == RULE_INBOUND ? "metaverse" : space_of(rs, set, r);
    if (only && strcmp(r->connector, only) != 0 && strcmp(space, only) != 0)
      continue;
    for (size_t j = 0; j < r->n_flows; j++) {
      const rule_flow *f = &r->flows[j];
      auth_attr *a = attr_entry(m, space, r->target_type, f->target);
      auth_rule *ar;
      if (!a || array_reserve_in(m->arena, &a->rules, a->n_rules, &a->cap_rules,
                                 a->n_rules + 1, sizeof *a->rules) != 0)
        return -1;
      ar = &a->rules[a->n_rules];
      memset(ar, 0, sizeof *ar);
      ar->r = r;
      ar->f = f;
      ar->also = also;
      ar->wins = -1;
      if (!(ar->source = flow_source(m, set, r, f)) || !(ar->scope = scope_text(m, set, r)) ||
          governance(m, set, r, ar) != 0)
        return -1;
      a->n_rules++;
    }
  }
  return 0;
}

static int cmp_rule(const void *a, const void *b)
{
  const auth_rule *x = a, *y = b;
  int c;
  if (x->r->precedence != y->r->precedence)
    return x->r->precedence < y->r->precedence ? -1 : 1;
  if (x->also != y->also)
    return x->also ? 1 : -1;
  if ((c = strcmp(x->r->name, y->r->name)))
    return c;
  return strcmp(x->f->target, y->f->target);
}

static int cmp_attr(const void *a, const void *b)
{
  const auth_attr *x = a, *y = b;
  bool xm = strcmp(x->space, "metaverse") == 0, ym = strcmp(y->space, "metaverse") == 0;
  int c;
  if (xm != ym)
    return xm ? -1 : 1;
  if ((c = strcmp(x->space, y->space)) || (c = strcmp(x->object_type, y->object_type)))
    return c;
  return strcmp(x->attribute, y->attribute);
}

/* ---- findings ---- */

auth_finding *authority_finding_add(authority_map *m, auth_kind k, const char *space,
                                    const char *type, const char *attribute)
{
  auth_finding *f;
  if (array_reserve(&m->findings, &m->cap_findings, m->n_findings + 1, sizeof *m->findings) != 0)
    return NULL;
  f = &m->findings[m->n_findings++];
  memset(f, 0, sizeof *f);
  f->kind = k;
  f->space = space;
  f->object_type = type;
  f->attribute = attribute;
  f->n_objects_total = -1;
  f->winner_changes = f->winner_runs = f->winner_last_run = -1;
  return f;
}

static void set_rules(auth_finding *f, const str_list *names)
{
  f->rules = names->v;
  f->n_rules = names->n;
}

/* (a) rules from different sources set one value: precedence (or a merge) decides. */
static int split_findings(authority_map *m)
{
  for (size_t i = 0; i < m->n_attrs; i++) {
    auth_attr *a = &m->attrs[i];
    str_list sources = {0}, names = {0};
    buf b;
    const auth_rule *first = NULL;
    auth_finding *f;
    bool merge = false;
    int rc = 0;

    for (size_t j = 0; j < a->n_rules; j++) {
      const auth_rule *ar = &a->rules[j];
      if (ar->also)
        continue;
      if (!first)
        first = ar;
      merge = merge || ar->f->merge != RULE_MERGE_UPDATE;
      if (list_add_unique(m, &sources, ar->source) != 0 ||
          list_add_unique(m, &names, ar->r->name) != 0)
        return -1;
    }
    if (sources.n < 2)
      continue;
    a->contested = true;
    if (!(f = authority_finding_add(m, AUTH_SPLIT, a->space, a->object_type, a->attribute)))
      return -1;
    set_rules(f, &names);
    buf_init(&b, 0);
    if (merge) {
      buf_printf(&b, "%s values from %s are merged (%s): each adds its own; none can take "
                 "another's away", a->attribute, list_join(m, &sources, " and "),
                 rule_merge_name(first->f->merge));
    } else {
      buf_printf(&b, "precedence decides: \"%s\" (from %s, precedence %ld) wins wherever it "
                 "is in scope and gives a value", first->r->name, first->source,
                 (long)first->r->precedence);
      for (size_t j = 0; j < a->n_rules; j++) {
        const auth_rule *ar = &a->rules[j];
        if (ar->also || ar == first)
          continue;
        rc |= buf_printf(&b, "; then \"%s\" (from %s, precedence %ld)", ar->r->name,
                         ar->source, (long)ar->r->precedence);
      }
    }
    if (rc != 0 || !b.p || !(f->detail = mvs_arena_memdup(m->arena, b.p, b.len))) {
      buf_free(&b);
      return -1;
    }
    buf_free(&b);
  }
  return 0;
}

/* The inbound rules of set that set a metaverse attribute of type: "\"R\" (precedence P)
 * for SCOPE", joined. */
static int setters_words(authority_map *m, const rule_set *set, const char *type,
                         const char *attribute, buf *out)
{
  size_t n = 0;
  for (size_t i = 0; i < set->n_rules; i++) {
    const rule *r = &set->rules[i];
    if (r->disabled || r->direction != RULE_INBOUND || !rule_targets_type(r, type))
      continue;
    for (size_t j = 0; j < r->n_flows; j++) {
      const rule_flow *f = &r->flows[j];
      if (strcmp(f->target, attribute) != 0)
        continue;
      buf_printf(out, "%s\"%s\" (precedence %ld) sets it", n++ ? "; " : "", r->name,
                 (long)r->precedence);
      if (f->type == RULE_FLOW_CONSTANT)
        buf_printf(out, " to %s", f->constant.text);
      buf_printf(out, " for %s", scope_text(m, set, r));
    }
  }
  return n ? 0 : buf_printf(out, "no inbound rule sets %s", attribute);
}

/* How a joinnoflow rule of `set` stops `writer` (a rule of set) for some objects: text, or
 * NULL when no joinnoflow rule does. */
static const char *joinnoflow_resolution(authority_map *m, const rule_set *rs,
                                         const rule_set *set, const rule *writer,
                                         const char *engine)
{
  buf b;
  const char *s = NULL;
  size_t n = 0;

  buf_init(&b, 0);
  for (size_t i = 0; i < set->n_rules; i++) {
    const rule *j = &set->rules[i];
    if (j->disabled || j->direction != RULE_OUTBOUND || j->link != RULE_LINK_JOINNOFLOW ||
        strcmp(space_of(rs, set, j), space_of(rs, set, writer)) != 0 ||
        strcmp(j->target_type, writer->target_type) != 0 ||
        strcmp(j->source_type, writer->source_type) != 0 || j->precedence >= writer->precedence)
      continue;
    buf_printf(&b, "%s%s's joinnoflow rule \"%s\" (precedence %ld, before \"%s\" at %ld) keeps "
               "its %s objects joined and flows nothing to them for %s", n++ ? "; " : "", engine, j->name,
               (long)j->precedence, writer->name, (long)writer->precedence,
               j->target_type, scope_text(m, set, j));
    for (size_t g = 0; g < j->n_scope; g++)
      for (size_t c = 0; c < j->scope[g].n_clauses; c++) {
        buf_printf(&b, "; %s: ", j->scope[g].clauses[c].attr);
        setters_words(m, set, j->source_type, j->scope[g].clauses[c].attr, &b);
      }
  }
  if (n && b.p)
    s = mvs_arena_memdup(m->arena, b.p, b.len);
  buf_free(&b);
  return s;
}

/* (c) the other engine writes what this rule set writes. */
typedef struct overlap_key {
  const char *space, *type;
  const rule *mine, *theirs;
  auth_finding *f;
  str_list attrs;
} overlap_key;

static int overlap_findings(authority_map *m, const rule_set *rs, const rule_set *also)
{
  overlap_key *keys = NULL;
  size_t n_keys = 0, cap = 0;
  int rc = -1;

  for (size_t i = 0; i < m->n_attrs; i++) {
    auth_attr *a = &m->attrs[i];
    for (size_t x = 0; x < a->n_rules; x++)
      for (size_t y = 0; y < a->n_rules; y++) {
        const auth_rule *mine = &a->rules[x], *theirs = &a->rules[y];
        overlap_key *k = NULL;
        if (mine->also || !theirs->also)
          continue;
        a->contested = true;
        for (size_t q = 0; q < n_keys && !k; q++)
          if (keys[q].mine == mine->r && keys[q].theirs == theirs->r &&
              strcmp(keys[q].space, a->space) == 0)
            k = &keys[q];
        if (!k) {
          if (array_reserve(&keys, &cap, n_keys + 1, sizeof *keys) != 0)
            goto out;
          k = &keys[n_keys++];
          memset(k, 0, sizeof *k);
          k->space = a->space;
          k->type = a->object_type;
          k->mine = mine->r;
          k->theirs = theirs->r;
        }
        if (list_add_unique(m, &k->attrs, a->attribute) != 0)
          goto out;
      }
  }
  for (size_t q = 0; q < n_keys; q++) {
    overlap_key *k = &keys[q];
    str_list names = {0};
    const char *res_theirs, *res_mine;
    auth_finding *f;
    qsort(k->attrs.v, k->attrs.n, sizeof *k->attrs.v, cmp_str);
    if (!(f = authority_finding_add(m, AUTH_OVERLAP, k->space, k->type, list_join(m, &k->attrs, ", "))) ||
        list_add(m, &names, k->mine->name) != 0 || list_add(m, &names, k->theirs->name) != 0)
      goto out;
    set_rules(f, &names);
    f->attributes = k->attrs.v;
    f->n_attributes = k->attrs.n;
    f->detail = aprintf(m, "both engines write %s of %s objects in %s: this rule set's \"%s\" "
                        "(precedence %ld, %s) and the other's \"%s\" (precedence %ld, %s); "
                        "precedence does not order two engines: each overwrites the other",
                        f->attribute, k->type, k->space, k->mine->name,
                        (long)k->mine->precedence, scope_text(m, rs, k->mine), k->theirs->name,
                        (long)k->theirs->precedence, scope_text(m, also, k->theirs));
    res_theirs = joinnoflow_resolution(m, rs, also, k->theirs, "the other rule set");
    res_mine = joinnoflow_resolution(m, rs, rs, k->mine, "this rule set");
    if (res_theirs && res_mine)
      f->resolution = aprintf(m, "%s; %s", res_theirs, res_mine);
    else
      f->resolution = res_theirs ? res_theirs : res_mine;
    if (!f->detail)
      goto out;
  }
  rc = 0;
out:
  free(keys);
  return rc;
}

static bool governed(const auth_rule *g)
{
  return g->owner && g->purpose && g->review_by;
}

static int governance_findings(authority_map *m, const rule_set *rs, const char *only)
{
  for (size_t i = 0; i < rs->n_rules; i++) {
    const rule *r = &rs->rules[i];
    const rule_connector *c = rule_set_connector(rs, r->connector);
    auth_rule g = {0};
    str_list names = {0}, missing = {0};
    auth_finding *f;
    if (r->disabled || r->direction != RULE_OUTBOUND || !authority_is_ad(c) ||
        (only && strcmp(r->connector, only) != 0))
      continue;
    governance(m, rs, r, &g);
    if (governed(&g))
      continue;
    if ((!g.owner && list_add(m, &missing, "owner") != 0) ||
        (!g.purpose && list_add(m, &missing, "purpose") != 0) ||
        (!g.review_by && list_add(m, &missing, "review-by") != 0) ||
        list_add(m, &names, r->name) != 0 ||
        !(f = authority_finding_add(m, AUTH_UNGOVERNED, r->connector, r->target_type, NULL)))
      return -1;
    set_rules(f, &names);
    if (!(f->detail = aprintf(m, "writeback to %s without %s (%s:%u:%u)", r->connector,
                              list_join(m, &missing, ", "), r->pos.file, r->pos.line,
                              r->pos.col)))
      return -1;
  }
  for (int coll = 0; coll < 2; coll++) {
    size_t n = coll ? rs->n_collections : rs->n_rules;
    for (size_t i = 0; i < n; i++) {
      const rule *r = coll ? &rs->collections[i] : &rs->rules[i];
      str_list names = {0};
      auth_finding *f;
      if (!r->fields[RULE_F_REVIEW_BY].valid || date_cmp(r->review_by, m->today) >= 0 ||
          (!coll && r->disabled) || (only && !coll && strcmp(r->connector, only) != 0))
        continue;
      if (list_add(m, &names, r->name) != 0 ||
          !(f = authority_finding_add(m, AUTH_REVIEW_PASSED, coll ? NULL : r->connector,
                            coll ? r->source_type : r->target_type, NULL)))
        return -1;
      set_rules(f, &names);
      if (!(f->detail = aprintf(m, "%s \"%s\" was due for review on %s (today is "
                                "%04d-%02d-%02d); owner %s (%s:%u:%u)",
                                coll ? "collection" : "rule", r->name, date_text(m, r),
                                m->today.year, m->today.month, m->today.day,
                                r->owner ? r->owner : "none", r->pos.file, r->pos.line,
                                r->pos.col)))
        return -1;
    }
  }
  return 0;
}

/* ---- the writeback register ---- */

static int register_row(authority_map *m, const rule_set *rs, const rule *r)
{
  auth_register *row;
  auth_rule g = {0};
  str_list attrs = {0}, groups = {0}, life = {0};

  if (array_reserve(&m->reg, &m->cap_reg, m->n_reg + 1, sizeof *m->reg) != 0)
    return -1;
  row = &m->reg[m->n_reg++];
  memset(row, 0, sizeof *row);
  row->r = r;
  row->c = authority_rule_collection(rs, r);
  row->objects_in_scope = -1;
  governance(m, rs, r, &g);
  row->owner = g.owner;
  row->purpose = g.purpose;
  row->review_by = g.review_by;
  if (!(row->population = scope_text(m, rs, r)))
    return -1;
  for (size_t j = 0; j < r->n_flows; j++) {
    const rule_flow *f = &r->flows[j];
    if (list_add_unique(m, &attrs, f->target) != 0)
      return -1;
    if (strcmp(r->target_type, "group") == 0 && f->type == RULE_FLOW_CONSTANT &&
        (strcasecmp(f->target, "dn") == 0 || strcasecmp(f->target, "cn") == 0) &&
        list_add(m, &groups, aprintf(m, "%s=%s", f->target, f->constant.text)) != 0)
      return -1;
  }
  if (strcmp(r->target_type, "group") == 0 && row->c)
    for (size_t g2 = 0; g2 < r->n_join; g2++)
      for (size_t k = 0; k < r->join[g2].n_conditions; k++) {
        const join_condition *jc = &r->join[g2].conditions[k];
        if ((strcmp(jc->mv_attr, "name") == 0 || strcmp(jc->mv_attr, "displayName") == 0) &&
            list_add_unique(m, &groups, aprintf(m, "%s=%s", jc->cs_attr, row->c->name)) != 0)
          return -1;
      }
  if (strcmp(r->target_type, "group") == 0 && !groups.n &&
      list_add(m, &groups, "every group in scope") != 0)
    return -1;
  if ((r->link == RULE_LINK_PROVISION && list_add(m, &life, "provision") != 0) ||
      (r->n_flows && list_add(m, &life, "update") != 0) ||
      (r->link == RULE_LINK_PROVISION && list_add(m, &life, "deprovision") != 0) ||
      (r->link == RULE_LINK_JOINNOFLOW && list_add(m, &life, "join only") != 0))
    return -1;
  row->attributes = attrs.v;
  row->n_attributes = attrs.n;
  row->groups = groups.v;
  row->n_groups = groups.n;
  row->lifecycle = life.v;
  row->n_lifecycle = life.n;
  return 0;
}

static int cmp_finding(const void *a, const void *b)
{
  const auth_finding *x = a, *y = b;
  int c;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  if ((c = strcmp(x->space ? x->space : "", y->space ? y->space : "")) ||
      (c = strcmp(x->object_type ? x->object_type : "", y->object_type ? y->object_type : "")) ||
      (c = strcmp(x->attribute ? x->attribute : "", y->attribute ? y->attribute : "")))
    return c;
  return strcmp(x->n_rules ? x->rules[0] : "", y->n_rules ? y->rules[0] : "");
}

void authority_findings_sort(authority_map *m)
{
  if (m->n_findings)
    qsort(m->findings, m->n_findings, sizeof *m->findings, cmp_finding);
}

int authority_compute(const rule_set *rs, const rule_set *also, const char *connector,
                      rule_date today, authority_map *m)
{
  memset(m, 0, sizeof *m);
  m->today = today;
  if (!(m->arena = mvs_arena_new(0)))
    return -1;
  if (add_rule_flows(m, rs, rs, false, connector) != 0 ||
      (also && add_rule_flows(m, rs, also, true, connector) != 0))
    goto fail;
  for (size_t i = 0; i < m->n_attrs; i++)
    qsort(m->attrs[i].rules, m->attrs[i].n_rules, sizeof *m->attrs[i].rules, cmp_rule);
  if (m->n_attrs)
    qsort(m->attrs, m->n_attrs, sizeof *m->attrs, cmp_attr);
  if (split_findings(m) != 0 || (also && overlap_findings(m, rs, also) != 0) ||
      governance_findings(m, rs, connector) != 0)
    goto fail;
  for (size_t i = 0; i < rs->n_rules; i++) {
    const rule *r = &rs->rules[i];
    if (!r->disabled && r->direction == RULE_OUTBOUND &&
        authority_is_ad(rule_set_connector(rs, r->connector)) &&
        (!connector || strcmp(r->connector, connector) == 0) && register_row(m, rs, r) != 0)
      goto fail;
  }
  authority_findings_sort(m);
  return 0;
fail:
  authority_free(m);
  return -1;
}

void authority_free(authority_map *m)
{
  free(m->attrs);
  free(m->findings);
  free(m->reg);
  if (m->arena)
    mvs_arena_free(m->arena);
  memset(m, 0, sizeof *m);
}

const auth_attr *authority_attr(const authority_map *m, const char *space,
                                const char *object_type, const char *attribute)
{
  for (size_t i = 0; i < m->n_attrs; i++) {
    const auth_attr *a = &m->attrs[i];
    if (strcmp(a->space, space) == 0 && strcasecmp(a->object_type, object_type) == 0 &&
        strcasecmp(a->attribute, attribute) == 0)
      return a;
  }
  return NULL;
}
