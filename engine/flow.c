/* flow — evaluating rules against one object: the attribute view that scoping filters and
 * expressions read (connector-space object with its references, or metaverse object whose
 * references render as DNs in an outbound connector), and the value one flow produces.
 * Memory: a view's attributes live in the arena it was loaded with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/connect.h"
#include "engine/engine_int.h"
#include "engine/flow.h"
#include "rules/expr.h"
#include "schema/array.h"

int view_load_cs(mvs_engine *e, obj_view *v, const cs_row *cs, mvs_arena *a)
{
  memset(v, 0, sizeof *v);
  v->e = e;
  v->arena = a;
  v->cs_id = cs->id;
  v->connector = cs->connector;
  v->dn = cs->dn;
  attrset_init(&v->attrs, a);
  if (attrset_decode(&v->attrs, cs->attrs, cs->attrs_len) != 0) {
    engine_errorf(e, "connector-space object %lld: corrupt attributes", (long long)cs->id);
    return -1;
  }
  return 0;
}

const ref_rows *view_refs(obj_view *v)
{
  if (!v->refs_loaded) {
    if (store_ref_list(v->e->st, v->cs_id, NULL, v->arena, &v->refs) != STORE_OK) {
      engine_errorf(v->e, "connector-space object %lld: cannot read its references: %s",
                    (long long)v->cs_id, store_errmsg(v->e->st));
      ref_rows_free(&v->refs);
      return NULL;
    }
    for (size_t i = 0; v->e->refs_read && i < v->refs.n; i++)
      if (v->refs.items[i].target_id &&
          idset_add(v->e->refs_read, v->refs.items[i].target_id) != 0) {
        engine_errorf(v->e, "out of memory noting the references read");
        ref_rows_free(&v->refs);
        return NULL;
      }
    v->refs_loaded = true;
  }
  return &v->refs;
}

int view_load_mv(mvs_engine *e, obj_view *v, const mv_row *mv, mvs_arena *a)
{
  memset(v, 0, sizeof *v);
  v->e = e;
  v->arena = a;
  v->mv_id = mv->id;
  attrset_init(&v->attrs, a);
  if (attrset_decode(&v->attrs, mv->attrs, mv->attrs_len) != 0) {
    engine_errorf(e, "metaverse object %lld: corrupt attributes", (long long)mv->id);
    return -1;
  }
  return 0;
}

void view_free(obj_view *v)
{
  attrset_free(&v->attrs);
  ref_rows_free(&v->refs);
}

/* A reference attribute as a list of REF values: the directory's keys for a
 * connector-space object; for a metaverse object, the DNs of the targets' objects in the
 * outbound connector (targets without one are left out). */
static mvs_value ref_value(obj_view *v, const attr_entry *ae)
{
  mvs_value *items = NULL, out = mvs_null();
  size_t n = 0, i, cap = 0;

  if (v->mv_id) {
    id_list targets = {0};
    if (v->out_connector &&
        store_mv_ref_list(v->e->st, v->mv_id, ae->name, &targets) == STORE_OK && targets.n &&
        (items = mvs_arena_alloc(v->arena, targets.n * sizeof *items)))
      for (i = 0; i < targets.n; i++) {
        int64_t cs_id;
        cs_row cs;
        if (store_mv_cs_in(v->e->st, targets.ids[i], v->out_connector, &cs_id) == STORE_OK &&
            cs_id && store_cs_get(v->e->st, cs_id, v->arena, &cs) == STORE_OK && cs.dn)
          items[n++] = mvs_str_ref(cs.dn, strlen(cs.dn));
      }
    id_list_free(&targets);
  } else {
    const ref_rows *rr = view_refs(v);
    for (i = 0; rr && i < rr->n; i++)
      if (strcasecmp(rr->items[i].attr, ae->name) == 0)
        cap++;
    if (cap && (items = mvs_arena_alloc(v->arena, cap * sizeof *items)))
      for (i = 0; i < rr->n; i++)
        if (strcasecmp(rr->items[i].attr, ae->name) == 0)
          items[n++] = mvs_str_ref(rr->items[i].target_key, strlen(rr->items[i].target_key));
  }
  for (i = 0; i < n; i++)
    items[i].type = MVS_V_REF;
  if (n == 1 && !(ae->flags & ATTR_MULTI))
    return items[0];
  if (n) {
    out.type = MVS_V_MV;
    out.u.mv.items = items;
    out.u.mv.n = n;
  }
  return out;
}

static mvs_value view_attr(void *u, const char *name, size_t n)
{
  obj_view *v = u;
  const attr_entry *ae = attrset_get(&v->attrs, name, n);
  /* [dn] reads the object's DN even where the connector does not list dn as an attribute,
   * as in Connect (Microsoft's cloudFiltered flows test DNComponent(CRef([dn]), 1)). */
  if (!ae && v->dn && n == 2 && memcmp(name, "dn", 2) == 0)
    return mvs_str_ref(v->dn, strlen(v->dn));
  if (!ae)
    return mvs_null();
  return (ae->flags & ATTR_REF) ? ref_value(v, ae) : ae->value;
}

static int view_is_member_of(void *u, const char *group_dn, size_t n)
{
  obj_view *v = u;
  buf key;
  int member = 0, rc;

  if (!v->cs_id)
    return 0;
  buf_init(&key, BUF_CAP_DN);
  if (text_fold(group_dn, n, &key) != 0) {
    buf_free(&key);
    return -1;
  }
  rc = store_ref_is_member(v->e->st, v->connector, key.p ? key.p : "", v->cs_id, &member);
  buf_free(&key);
  return rc == STORE_OK ? member : -1;
}

scope_env view_scope_env(obj_view *v)
{
  scope_env env;
  env.attr = view_attr;
  env.is_member_of = view_is_member_of;
  env.u = v;
  return env;
}

static int64_t rule_seed(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  while (s && *s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
  return (int64_t)(h >> 1);
}

static mvs_value literal_value(const rule_literal *l)
{
  if (l->kind == RULE_VAL_NUMBER && l->is_num)
    return mvs_num(l->num);
  if (l->kind == RULE_VAL_BOOL && l->is_bool)
    return mvs_bool(l->b);
  return mvs_str_ref(l->text, l->len);
}

bool flow_ref_source(obj_view *v, const rule_flow *f, const char **attr)
{
  const char *name = NULL;
  size_t n = 0;
  const attr_entry *ae;

  if (f->type == RULE_FLOW_DIRECT) {
    name = f->source;
    n = name ? strlen(name) : 0;
  } else if (f->type != RULE_FLOW_EXPRESSION || !f->expr || !expr_is_attr(f->expr, &name, &n)) {
    return false;
  }
  if (!name || !(ae = attrset_get(&v->attrs, name, n)) || !(ae->flags & ATTR_REF))
    return false;
  *attr = ae->name;
  return true;
}

/* SelectUniqueValue in an outbound flow (Connect's semantics): a candidate is taken when
 * another object of the target connector holds it (its connector space, indexed in cs_key as
 * a key attribute, case-insensitively), is about to get it (a pending add or replace, this
 * run's earlier adds included), or holds it in the directory itself (connector_ops
 * value_taken, asked in dry runs too; values added there since the last import).  The
 * object's own value is not taken: when its connector-space object holds the candidate, the
 * directory is not asked again. */
static int view_is_unique(void *u, mvs_value val)
{
  obj_view *v = u;
  buf b;
  int taken = 0, own = 0, rc = -1;
  const char *text;
  size_t n;
  cs_row cs;
  bool held = false;

  buf_init(&b, BUF_CAP_VALUE);
  if (attr_fold(val, &b) != 0 ||
      store_cs_key_taken(v->e->st, v->out_connector, v->unique_attr, b.p ? b.p : "",
                         v->out_cs_id, &taken) != STORE_OK ||
      (!taken && v->out_cs_id &&
       store_cs_key_taken(v->e->st, v->out_connector, v->unique_attr, b.p ? b.p : "", 0,
                          &own) != STORE_OK))
    goto store_error;
  buf_reset(&b);
  if (!taken && (attr_value_encode(val, &b) != 0 ||
                 store_pe_value_taken(v->e->st, v->out_connector, v->unique_attr, b.p, b.len,
                                      v->out_cs_id, &taken) != STORE_OK))
    goto store_error;
  if (taken || own) {
    buf_free(&b);
    return !taken;
  }
  buf_reset(&b);
  if (attr_value_text(v->arena, val, &text, &n) != 0 || buf_add(&b, text, n) != BUF_OK ||
      buf_addc(&b, '\0') != BUF_OK ||
      (v->out_cs_id && store_cs_get(v->e->st, v->out_cs_id, v->arena, &cs) != STORE_OK))
    goto store_error;
  if (connector_value_taken(v->e, engine_conn_by_id(v->e, v->out_connector), v->unique_type,
                            v->unique_attr, b.p, v->out_cs_id ? cs.anchor : NULL,
                            &held) == ENGINE_OK)
    rc = !held;
  buf_free(&b);
  return rc;
store_error:
  engine_errorf(v->e, "SelectUniqueValue: cannot look %s up: %s", v->unique_attr,
                store_errmsg(v->e->st));
  buf_free(&b);
  return -1;
}

/* The DNS name of a DN's DC components: DC=contoso,DC=com is contoso.com. */
static int dn_to_fqdn(mvs_arena *a, const char *dn, mvs_value *out)
{
  buf b;
  const char *p = dn;
  int rc = 0;

  buf_init(&b, 0);
  while (*p && rc == 0) {
    size_t n = strcspn(p, ",");
    if (n > 3 && strncasecmp(p, "DC=", 3) == 0)
      rc = (b.len && buf_addc(&b, '.')) || buf_add(&b, p + 3, n - 3);
    p += n + (p[n] == ',');
    while (*p == ' ')
      p++;
  }
  rc = rc || !b.len ? -1 : mvs_str_copy(a, b.p, b.len, out);
  buf_free(&b);
  return rc;
}

/* Connect's %NAME% parameters, from the rule's connector (docs/rules.md, "Parameters"): a
 * setting whose key is the parameter's name (Domain.Netbios "CONTOSO"); Connector.Name is the
 * connector's name; an ad connector's Domain.FQDN defaults to the DC components of its base. */
static int view_param(void *u, const char *name, size_t n, mvs_value *out)
{
  const obj_view *v = u;
  /* Looked up here, not per flow: parameters are rare, flows are the hot path. */
  const rule_connector *c = v->rule_conn ? rule_set_connector(v->e->rs, v->rule_conn) : NULL;
  const char *base = NULL;
  size_t i;

  if (!c)
    return -1;
  for (i = c->n_settings; i-- > 0;) {
    const rule_setting *s = &c->settings[i];
    if (strlen(s->key) == n && memcmp(s->key, name, n) == 0)
      return s->value.kind == RULE_VAL_STRING ? mvs_str_copy(v->arena, s->value.text,
                                                             s->value.len, out) : -1;
    if (!base && strcmp(s->key, "base") == 0 && s->value.kind == RULE_VAL_STRING)
      base = s->value.text;
  }
  if (n == strlen("Connector.Name") && memcmp(name, "Connector.Name", n) == 0)
    return mvs_str_copy(v->arena, c->name, strlen(c->name), out);
  if (c->type == RULE_CONN_AD && base && n == strlen("Domain.FQDN") &&
      memcmp(name, "Domain.FQDN", n) == 0)
    return dn_to_fqdn(v->arena, base, out);
  return -1;
}

int flow_eval(obj_view *v, const rule *r, const rule_flow *f, mvs_value *out)
{
  expr_env env;
  expr_error err;
  int rc;

  switch (f->type) {
  case RULE_FLOW_DIRECT:
    *out = view_attr(v, f->source, strlen(f->source));
    return 0;
  case RULE_FLOW_CONSTANT:
    *out = literal_value(&f->constant);
    return 0;
  case RULE_FLOW_EXPRESSION:
    break;
  }
  if (!f->expr) {
    engine_errorf(v->e, "rule \"%s\": expression does not parse", r->name);
    return -1;
  }
  memset(&env, 0, sizeof env);
  env.attr = view_attr;
  env.param = view_param;
  env.u = v;
  v->rule_conn = r->connector;
  env.now = v->e->now;
  /* Random functions are seeded per object and target so that a rerun (and a delta sync)
   * computes what a full sync computes. */
  env.seed = (uint64_t)(v->cs_id * 1000003 + v->mv_id) ^ (uint64_t)rule_seed(f->target);
  if (v->out_connector) {
    env.is_unique = view_is_unique;
    v->unique_attr = f->target;
    v->unique_type = r->target_type;
  }
  rc = expr_eval(f->expr, &env, v->arena, out, &err);
  if (rc != EXPR_OK) {
    engine_errorf(v->e, "rule \"%s\", flow to %s: %s", r->name, f->target, err.msg);
    return -1;
  }
  /* Directories hold no empty strings (Left(Trim([description]), 448) of an unset
   * description is ""): an empty result is no value, as the import sees it. */
  if (out->type == MVS_V_STR && out->u.s.n == 0)
    *out = mvs_null();
  return 0;
}

/* ---- contributions ---- */

/* A flow that failed is the sync error (`mvsync errors`) of the object it belongs to: the
 * connector-space object an inbound flow read, or the target of an outbound one (none while
 * the target is not provisioned: the run log only).  The message is e->errmsg. */
static int flow_error_record(mvs_engine *e, const obj_view *v, bool outbound, const rule *r,
                             const rule_flow *f)
{
  int64_t id = outbound ? v->out_cs_id : v->cs_id;
  if (!id)
    return 0;
  return id_list_add(&e->flow_err, id) == 0 &&
                 store_cs_set_error(e->st, id, outbound, e->errmsg, r->name, f->target) == STORE_OK
             ? 0 : -1;
}

contrib *contribs_add(contribs *c)
{
  if (array_reserve(&c->items, &c->cap, c->n + 1, sizeof *c->items) != 0)
    return NULL;
  memset(&c->items[c->n], 0, sizeof *c->items);
  return &c->items[c->n++];
}

void contribs_free(contribs *c)
{
  size_t i;
  for (i = 0; i < c->n; i++)
    id_list_free(&c->items[i].refs);
  free(c->items);
  memset(c, 0, sizeof *c);
}

void merged_free(merged_set *m)
{
  size_t i;
  for (i = 0; i < m->n; i++)
    id_list_free(&m->items[i].refs);
  free(m->items);
  memset(m, 0, sizeof *m);
}

const merged *merged_get(const merged_set *m, const char *attr)
{
  size_t i;
  for (i = 0; i < m->n; i++)
    if (strcasecmp(m->items[i].attr, attr) == 0)
      return &m->items[i];
  return NULL;
}

int contrib_materialize(obj_view *v, contrib *ct)
{
  const ref_rows *rr;
  size_t j;

  if (!(rr = view_refs(v)))
    return -1;
  for (j = 0; j < rr->n; j++)
    if (rr->items[j].target_mv && strcasecmp(rr->items[j].attr, ct->ref_attr) == 0 &&
        id_list_add(&ct->refs, rr->items[j].target_mv) != 0)
      return -1;
  if (ct->refs.n > 1)
    ct->multi = true;
  ct->lazy = false;
  return 0;
}

/* How many values of the connector-space attribute that a metaverse reference attribute
 * was flowed from reached no metaverse object (a cloud-only member that no join rule takes
 * in, a key naming nothing): they have no object in any target connector either, so an
 * export of the attribute skips them too. */
static int unreached_refs(mvs_engine *e, obj_view *v, const attr_entry *ae, int64_t *n)
{
  const rule *r = NULL;
  conn_info *c;
  const char *src = NULL;
  size_t i, len;
  int64_t cid, cs_id;

  *n = 0;
  for (i = 0; ae->src && i < e->rs->n_rules && !r; i++)
    if (strcmp(e->rs->rules[i].name, ae->src) == 0)
      r = &e->rs->rules[i];
  if (!r || r->direction != RULE_INBOUND || !(c = engine_conn(e, r->connector)))
    return 0;
  for (i = 0; i < r->n_flows && !src; i++) {
    const rule_flow *f = &r->flows[i];
    if (strcasecmp(f->target, ae->name) != 0)
      continue;
    if (f->type == RULE_FLOW_DIRECT)
      src = f->source;
    else if (f->type == RULE_FLOW_EXPRESSION && f->expr && expr_is_attr(f->expr, &src, &len))
      src = mvs_arena_memdup(v->arena, src, len);
  }
  if (!src || engine_conn_id(e, c, &cid) != 0 ||
      store_mv_cs_in(e->st, v->mv_id, cid, &cs_id) != STORE_OK)
    return src ? -1 : 0;
  return cs_id && store_ref_unjoined_count(e->st, cs_id, src, n) != STORE_OK ? -1 : 0;
}

int contribs_from_rule(mvs_engine *e, obj_view *v, const rule *r, bool apply_once_ok,
                       int64_t out_connector, bool lazy, contribs *c)
{
  size_t i, j;

  for (i = 0; i < r->n_flows; i++) {
    const rule_flow *f = &r->flows[i];
    const char *attr;
    contrib *ct = contribs_add(c);

    if (!ct)
      return -1;
    ct->attr = f->target;
    ct->r = r;
    ct->cs_id = v->cs_id;
    if (f->apply_once && !apply_once_ok) {
      ct->keep = true;
      continue;
    }
    if (flow_ref_source(v, f, &attr)) {
      const attr_entry *ae = attrset_get(&v->attrs, attr, strlen(attr));
      ct->is_ref = true;
      ct->multi = ae && (ae->flags & ATTR_MULTI);
      if (!out_connector) {
        ct->ref_attr = attr;
        if (lazy && f->merge == RULE_MERGE_UPDATE) {
          /* Read only whether there are none, one or several: enough for precedence. */
          int cnt;
          if (store_ref_joined_count(e->st, v->cs_id, attr, &cnt) != STORE_OK)
            return -1;
          ct->lazy = true;
          ct->lazy_count = cnt;
          if (cnt > 1)
            ct->multi = true;
          continue;
        }
        if (contrib_materialize(v, ct) != 0)
          return -1;
        continue;
      } else {
        id_list targets = {0};
        if (store_mv_ref_list(e->st, v->mv_id, attr, &targets) != STORE_OK ||
            unreached_refs(e, v, ae, &ct->skipped) != 0)
          return -1;
        for (j = 0; j < targets.n; j++) {
          int64_t cs_id;
          if (store_mv_cs_in(e->st, targets.ids[j], out_connector, &cs_id) != STORE_OK) {
            id_list_free(&targets);
            return -1;
          }
          /* A member with no object in the target connector (cloud-only): skipped. */
          if (!cs_id)
            ct->skipped++;
          else if (id_list_add(&ct->refs, cs_id) != 0) {
            id_list_free(&targets);
            return -1;
          }
        }
        id_list_free(&targets);
      }
      if (ct->refs.n > 1)
        ct->multi = true;
      continue;
    }
    if (flow_eval(v, r, f, &ct->val) != 0) {
      engine_logf(e, "error: %s", e->errmsg);
      e->res->errors++;
      if (flow_error_record(e, v, out_connector != 0, r, f) != 0)
        return -1;
      ct->val = mvs_null();
      continue;
    }
    if (ct->val.type == MVS_V_IGNORE)
      ct->keep = true;
    ct->multi = ct->val.type == MVS_V_MV;
  }
  return 0;
}

static int cmp_contrib(const void *a, const void *b)
{
  const contrib *x = a, *y = b;
  int c = strcasecmp(x->attr, y->attr);
  if (c)
    return c;
  if (x->r->precedence != y->r->precedence)
    return x->r->precedence < y->r->precedence ? -1 : 1;
  if (x->r != y->r)
    return x->r < y->r ? -1 : 1;   /* rules live in one array: file order */
  return x->cs_id < y->cs_id ? -1 : x->cs_id > y->cs_id;
}

/* Union of values into a list, duplicates dropped (ignoring case for nocase). */
static int merge_values(mvs_arena *a, const contrib *g, size_t n, bool nocase, mvs_value *out)
{
  size_t total = 0, k = 0, i, j, m;
  mvs_value *items;

  for (i = 0; i < n; i++)
    if (!g[i].keep)
      total += mvs_count(g[i].val);
  if (!total) {
    *out = mvs_null();
    return 0;
  }
  if (!(items = mvs_arena_alloc(a, total * sizeof *items)))
    return -1;
  for (i = 0; i < n; i++) {
    if (g[i].keep)
      continue;
    for (j = 0; j < mvs_count(g[i].val); j++) {
      mvs_value v = mvs_item(g[i].val, j);
      for (m = 0; m < k; m++)
        if (nocase ? mvs_equal(items[m], v, true) : attr_value_same(items[m], v))
          break;
      if (m == k)
        items[k++] = v;
    }
  }
  *out = mvs_null();
  out->type = MVS_V_MV;
  out->u.mv.items = items;
  out->u.mv.n = k;
  return 0;
}

int contribs_merge(contribs *c, mvs_arena *a, merged_set *out)
{
  size_t i = 0, j, k;

  memset(out, 0, sizeof *out);
  if (!c->n)
    return 0;
  qsort(c->items, c->n, sizeof *c->items, cmp_contrib);
  if (!(out->items = calloc(c->n, sizeof *out->items)))
    return -1;
  while (i < c->n) {
    contrib *g = &c->items[i];
    merged *m = &out->items[out->n++];
    size_t n = 1;
    while (i + n < c->n && strcasecmp(g[n].attr, g[0].attr) == 0)
      n++;
    m->attr = g[0].attr;
    m->src = g[0].r;
    m->state = MERGED_NONE;
    /* Every rule in scope for one attribute uses one merge type (rules check enforces
     * it), so the first contribution's flow decides. */
    for (k = 0; k < g[0].r->n_flows; k++)
      if (strcasecmp(g[0].r->flows[k].target, g[0].attr) == 0)
        break;
    if (k < g[0].r->n_flows && g[0].r->flows[k].merge != RULE_MERGE_UPDATE) {
      bool nocase = g[0].r->flows[k].merge == RULE_MERGE_CASEINSENSITIVE;
      m->is_ref = g[0].is_ref;
      m->multi = true;
      m->merge = true;
      for (j = 0; j < n; j++)
        if (!g[j].keep)
          m->skipped += g[j].skipped;
      for (j = 0; j < n; j++)
        if (!g[j].keep)
          for (k = 0; k < g[j].refs.n; k++)
            if (id_list_add(&m->refs, g[j].refs.ids[k]) != 0)
              return -1;
      id_list_sort_unique(&m->refs);
      if (!m->is_ref && merge_values(a, g, n, nocase, &m->val) != 0)
        return -1;
      m->state = (m->is_ref ? m->refs.n : mvs_count(m->val)) ? MERGED_VALUE : MERGED_NONE;
    } else {
      /* IgnoreThisFlow "is similar to NULL in the sense that it indicates there's nothing to
       * contribute. The difference is that it does not remove an already existing value in
       * the target. It's like the attribute flow has never been there" (Connect's
       * declarative provisioning, "Control the attribute flow process"): a lower-precedence
       * rule still contributes (Connect's own "Out to AAD - Group Join" ignores member so
       * that "Group Identity" flows it); with no value from any rule, the target keeps its. */
      const rule *ignored = NULL;
      for (j = 0; j < n; j++) {
        if (g[j].keep) {
          if (!ignored)
            ignored = g[j].r;
          continue;
        }
        if (g[j].val.type == MVS_V_AUTHNULL) {
          m->state = MERGED_NONE;
          m->src = g[j].r;
          break;
        }
        if (g[j].is_ref ? (g[j].lazy ? g[j].lazy_count == 0 : g[j].refs.n == 0)
                        : g[j].val.type == MVS_V_NULL)
          continue;   /* NULL: the next rule may contribute */
        m->state = MERGED_VALUE;
        m->src = g[j].r;
        m->skipped = g[j].skipped;
        m->is_ref = g[j].is_ref;
        m->multi = g[j].multi;
        m->val = g[j].val;
        m->lazy = g[j].lazy ? &g[j] : NULL;
        for (k = 0; k < g[j].refs.n; k++)
          if (id_list_add(&m->refs, g[j].refs.ids[k]) != 0)
            return -1;
        id_list_sort_unique(&m->refs);
        break;
      }
      if (j == n && ignored) {
        m->state = MERGED_KEEP;
        m->src = ignored;
      } else if (j == n) {
        /* Nobody contributed: a reference attribute stays one (no values), and the values
         * its first rule skipped are still skipped. */
        m->is_ref = g[0].is_ref;
        m->skipped = g[0].skipped;
      }
    }
    i += n;
  }
  return 0;
}
