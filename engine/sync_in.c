/* sync_in — inbound synchronization: for a connector-space object, scope its connector's
 * inbound rules, keep or drop its join, join (join groups in order, exactly one match wins)
 * or project; for a metaverse object, recompute every attribute from all joined objects by
 * precedence, keep the join-key index current, and delete the object when nothing keeps it
 * alive.  Semantics: docs/internals/engine.md, "Inbound" and "Import attribute flow".
 * Memory: per-object data lives in e->scratch (connector-space side) and e->scratch2
 * (metaverse side); both are reset per object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/collection.h"
#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/flow.h"
#include "engine/keys.h"
#include "engine/label.h"
#include "engine/mv.h"
#include "engine/sync_in.h"
#include "engine/work.h"

/* Inbound rules of c for a connector-space type (and metaverse type, when given) with their
 * scope verdicts; the arrays live in the arena the caller evaluates the object in, sized by
 * the connector's rule count (no fixed cap). */
typedef struct rule_hits {
  const rule **r;
  bool *in_scope;
  scope_verdict *v;
  size_t n;
} rule_hits;

static int scope_rules(mvs_engine *e, mvs_arena *a, const rule **rules, size_t n,
                       const char *src_type, const char *target_type, obj_view *v, rule_hits *h)
{
  scope_env env = view_scope_env(v);
  size_t i;

  h->n = 0;
  h->r = mvs_arena_alloc(a, (n ? n : 1) * sizeof *h->r);
  h->in_scope = mvs_arena_alloc(a, (n ? n : 1) * sizeof *h->in_scope);
  h->v = mvs_arena_alloc(a, (n ? n : 1) * sizeof *h->v);
  if (!h->r || !h->in_scope || !h->v) {
    engine_errorf(e, "out of memory scoping %zu rules", n);
    return -1;
  }
  for (i = 0; i < n; i++) {
    const rule *r = rules[i];
    if (!r->source_type || strcasecmp(r->source_type, src_type) != 0 ||
        (target_type && !rule_targets_type(r, target_type)))
      continue;
    if (rule_scope_eval(r, &env, &h->v[h->n]) != 0) {
      engine_errorf(e, "rule \"%s\": scope cannot be evaluated", r->name);
      return -1;
    }
    h->r[h->n] = r;
    h->in_scope[h->n] = h->v[h->n].in_scope;
    h->n++;
  }
  return 0;
}

/* Preview: one line per rule saying whether it is in scope, or the clause that failed. */
static void trace_hits(mvs_engine *e, const rule_hits *h)
{
  size_t i;
  if (!e->trace)
    return;
  for (i = 0; i < h->n; i++) {
    const rule *r = h->r[i];
    if (h->in_scope[i]) {
      buf_printf(e->trace, "rule \"%s\" (%s, precedence %d): in scope\n", r->name,
                 rule_link_name(r->link), r->precedence);
    } else {
      const scope_clause *c = &r->scope[h->v[i].group].clauses[h->v[i].clause];
      buf_printf(e->trace, "rule \"%s\": NotInScope: %s %s%s%s fails (%s:%u)\n", r->name,
                 c->attr, scope_op_name(c->op), c->n_values ? " " : "",
                 c->n_values ? c->values[0].text : "", c->pos.file, c->pos.line);
    }
  }
}

/* Does a metaverse object satisfy every condition of a join group for this view? */
static int group_matches(mvs_engine *e, obj_view *cs, const join_group *g, obj_view *mv)
{
  size_t i, a, b;
  scope_env env_cs = view_scope_env(cs), env_mv = view_scope_env(mv);

  (void)e;
  for (i = 0; i < g->n_conditions; i++) {
    const join_condition *jc = &g->conditions[i];
    mvs_value x = env_cs.attr(cs, jc->cs_attr, strlen(jc->cs_attr));
    mvs_value y = env_mv.attr(mv, jc->mv_attr, strlen(jc->mv_attr));
    bool hit = false;
    for (a = 0; a < mvs_count(x) && !hit; a++)
      for (b = 0; b < mvs_count(y) && !hit; b++)
        hit = mvs_equal(mvs_item(x, a), mvs_item(y, b), !jc->case_sensitive);
    if (!hit)
      return 0;
  }
  return 1;
}

/* Try the rule's join groups in order; *mv_id the single match of the first group with
 * exactly one, else 0. */
static int find_join(mvs_engine *e, obj_view *cs, const rule *r, int64_t *mv_id)
{
  size_t gi, i, j;
  buf norm;
  int rc = -1;

  *mv_id = 0;
  buf_init(&norm, BUF_CAP_VALUE);
  for (gi = 0; gi < r->n_join && !*mv_id; gi++) {
    const join_group *g = &r->join[gi];
    const join_condition *first = &g->conditions[0];
    mvs_value x = view_scope_env(cs).attr(cs, first->cs_attr, strlen(first->cs_attr));
    id_list cand = {0};
    int64_t match = 0;
    size_t matches = 0;

    for (i = 0; i < mvs_count(x); i++) {
      buf_reset(&norm);
      if (attr_fold(mvs_item(x, i), &norm) != 0 ||
          store_mv_key_find(e->st, first->mv_attr, norm.p ? norm.p : "", &cand) != STORE_OK) {
        id_list_free(&cand);
        goto out;
      }
    }
    id_list_sort_unique(&cand);
    for (j = 0; j < cand.n && matches < 2; j++) {
      mv_row mv;
      obj_view mvv;
      int m;
      mvs_arena_reset(e->scratch2);
      if (store_mv_get(e->st, cand.ids[j], e->scratch2, &mv) != STORE_OK ||
          !rule_targets_type(r, mv.object_type))
        continue;
      if (view_load_mv(e, &mvv, &mv, e->scratch2) != 0) {
        id_list_free(&cand);
        goto out;
      }
      m = group_matches(e, cs, g, &mvv);
      view_free(&mvv);
      if (m) {
        match = cand.ids[j];
        matches++;
      }
    }
    id_list_free(&cand);
    if (e->trace)
      buf_printf(e->trace, "join group %zu of \"%s\": %zu match%s\n", gi + 1, r->name, matches,
                 matches == 1 ? "" : matches ? "es (ambiguous: next group)" : "es");
    if (matches == 1)
      *mv_id = match;
  }
  rc = 0;
out:
  buf_free(&norm);
  return rc;
}

static bool has_join_value(obj_view *cs, const rule *r)
{
  size_t g, i;
  for (g = 0; g < r->n_join; g++)
    for (i = 0; i < r->join[g].n_conditions; i++) {
      const char *a = r->join[g].conditions[i].cs_attr;
      if (mvs_count(view_scope_env(cs).attr(cs, a, strlen(a))))
        return true;
    }
  return false;
}

typedef struct cs_keys {
  mvs_engine *e;
  obj_view *v;
} cs_keys;

static mvs_value cs_key_values(void *u, const char *attr)
{
  obj_view *v = ((cs_keys *)u)->v;
  return view_scope_env(v).attr(v, attr, strlen(attr));
}

static int cs_key_row(void *u, const char *attr, const char *norm, key_op op)
{
  cs_keys *k = u;
  if (op == KEY_KEEP)
    return 0;
  return (op == KEY_ADD ? store_cs_key_insert : store_cs_key_remove)(
             k->e->st, k->v->connector, attr, norm, k->v->cs_id) == STORE_OK ? 0 : -1;
}

/* Bring the join-key rows of a connector-space object to its values; none: it has no rows
 * (nothing to list). */
static int refresh_cs_keys(mvs_engine *e, conn_info *c, obj_view *v, bool none)
{
  ref_rows have = {0};
  cs_keys k = {e, v};
  int rc = (none || store_cs_key_list(e->st, v->cs_id, e->scratch2, &have) == STORE_OK) &&
                   keys_sync(e->scratch2, c->key_attrs, c->n_key_attrs, cs_key_values, &have,
                             cs_key_row, &k) == 0
               ? 0 : -1;
  ref_rows_free(&have);
  return rc;
}

int sync_in_dn_keys(mvs_engine *e, conn_info *c, int64_t cs_id)
{
  cs_row cs;
  obj_view v;
  int rc;

  if (!engine_keys_read_dn(c))
    return 0;
  if (store_cs_get(e->st, cs_id, e->scratch2, &cs) != STORE_OK ||
      view_load_cs(e, &v, &cs, e->scratch2) != 0)
    return -1;
  rc = refresh_cs_keys(e, c, &v, false);
  view_free(&v);
  return rc;
}

/* May the import have changed the object's join-key values?  An update says which
 * attributes its imports changed (cs_row.changed_attrs); an add or a type change writes
 * them all. */
static bool keys_may_differ(const conn_info *c, const cs_row *cs)
{
  return cs->import_state != IMPORT_UPDATE || (cs->changed_attrs & c->key_bits);
}

/* May the import have changed what its connector's outbound rules write (its exports are
 * compared with its values)?  Only an update says which attributes it changed. */
static bool targets_may_differ(const conn_info *c, const cs_row *cs)
{
  return cs->import_state != IMPORT_UPDATE || (cs->changed_attrs & c->out_target_bits);
}

/* The object's inbound error (msg NULL: none), with the rule it concerns.  Clearing an
 * object that had none when its evaluation began is no write (every object of a clean sync). */
static void set_error(mvs_engine *e, const cs_row *cs, conn_info *c, const char *msg,
                      const char *rule_name)
{
  if (!msg && !cs->error)
    return;
  store_cs_set_error(e->st, cs->id, false, msg, rule_name, NULL);
  if (msg) {
    e->res->errors++;
    engine_logf(e, "error: %s %s: %s", c->rc->name, cs->dn ? cs->dn : cs->anchor, msg);
    if (e->trace)
      buf_printf(e->trace, "error: %s\n", msg);
  }
}

/* ISMEMBEROF makes a group's membership part of its members' scope: queue the members
 * whose membership changed — all of them when a group that scopes name came or went, else
 * the values the import added or removed.  A full sync visits everyone anyway. */
static int queue_members(mvs_engine *e, const conn_info *c, const cs_row *cs, bool all,
                         sync_work *w)
{
  ref_rows rr = {0};
  size_t i;
  int rc = 0;

  if (e->full_sync || !c || !c->n_member_groups || (all && !engine_member_group(c, cs->dn)))
    return 0;
  if ((all ? store_ref_list(e->st, cs->id, NULL, e->scratch, &rr)
           : store_ref_delta_list(e->st, cs->id, NULL, e->scratch, &rr)) != STORE_OK)
    rc = -1;
  for (i = 0; i < rr.n && rc == 0; i++)
    if (rr.items[i].target_id)
      rc = id_list_add(&w->cs, rr.items[i].target_id);
  ref_rows_free(&rr);
  return rc;
}

/* One connector-space object being evaluated inbound. */
typedef struct cs_eval {
  cs_row cs;
  conn_info *c;
  const char *label;
  obj_view v;
  rule_hits h;
  int64_t old_mv;           /* its metaverse object before this evaluation */
  int64_t new_link;         /* the metaverse object it joined or projected now, 0 for none */
  const char *projected;    /* the type of the metaverse object it projected now, or NULL */
  char msg[512];            /* its error (join conflict, ambiguous join); "" for none */
  const char *msg_rule;     /* the rule the error concerns */
} cs_eval;

/* Deleted in the directory: its metaverse object loses it (and is recomputed now), the
 * objects that reference either are queued. */
static int in_delete(mvs_engine *e, cs_eval *x, sync_work *w)
{
  int64_t old_mv = x->old_mv;
  if (e->diff)
    diff_add(e, "connector-space", x->c ? x->c->rc->name : "?", x->label, "delete", NULL);
  /* Its metaverse object lost a link: its outbound rules may provision or join again. */
  if ((old_mv && (work_queue_referrers(e, x->cs.id, w) != 0 ||
                  work_queue_mv_key_matches(e, old_mv, w) != 0 ||
                  work_queue_out(w, old_mv) != 0 ||
                  work_queue_out_referrers(e, old_mv, w) != 0)) ||
      queue_members(e, x->c, &x->cs, true, w) != 0 || store_cs_delete(e->st, x->cs.id) != STORE_OK)
    return -1;
  return old_mv ? sync_in_mv(e, old_mv, 0, 0, w) : 0;
}

/* Delete/Add (its object type changed): the old object's join goes, and it is evaluated as
 * a new object. */
static int in_type_change(mvs_engine *e, cs_eval *x)
{
  if (e->trace)
    buf_printf(e->trace, "object type changed: disconnected, evaluated as a new object\n");
  if (e->diff)
    diff_add(e, "connector-space", x->c->rc->name, x->label, "disconnect", NULL);
  if (store_cs_set_link(e->st, x->cs.id, 0, NULL, 0, 0, 0) != STORE_OK ||
      store_pe_delete(e->st, x->cs.id) != STORE_OK)
    return -1;
  x->cs.mv_id = 0;
  x->cs.link_out = 0;
  return 0;
}

/* A joined object stays joined while an inbound rule to its metaverse type is in scope (the
 * rule that joined it first); else it is disconnected. */
static int in_keep_join(mvs_engine *e, cs_eval *x)
{
  mv_row mv;
  const rule *keep = NULL;
  size_t i;

  mvs_arena_reset(e->scratch2);
  if (store_mv_get(e->st, x->cs.mv_id, e->scratch2, &mv) != STORE_OK)
    return -1;
  for (i = 0; i < x->h.n && !keep; i++)
    if (x->h.in_scope[i] && rule_targets_type(x->h.r[i], mv.object_type) &&
        (!x->cs.link_rule || strcmp(x->h.r[i]->name, x->cs.link_rule) == 0))
      keep = x->h.r[i];
  for (i = 0; i < x->h.n && !keep; i++)
    if (x->h.in_scope[i] && rule_targets_type(x->h.r[i], mv.object_type))
      keep = x->h.r[i];
  if (!keep) {
    if (e->trace)
      buf_printf(e->trace, "join: disconnected (no joining rule in scope)\n");
    if (e->diff)
      diff_add(e, "connector-space", x->c->rc->name, x->label, "disconnect", NULL);
    if (store_cs_set_link(e->st, x->cs.id, 0, NULL, 0, 0, 0) != STORE_OK)
      return -1;
    x->cs.mv_id = 0;
    return 0;
  }
  if (e->trace)
    buf_printf(e->trace, "join: joined to metaverse object %lld by \"%s\"\n",
               (long long)x->cs.mv_id, keep->name);
  if ((!x->cs.link_rule || strcmp(keep->name, x->cs.link_rule) != 0) &&
      store_cs_set_link(e->st, x->cs.id, x->cs.mv_id, keep->name, keep->link, 0, 0) != STORE_OK)
    return -1;
  return 0;
}

/* Join the object to mv_id, the single match of jr's join groups, unless another object of
 * its connector holds that metaverse object (an ambiguous join). */
static int in_join_to(mvs_engine *e, cs_eval *x, const rule *jr, int64_t mv_id)
{
  int64_t other;

  if (store_mv_cs_in(e->st, mv_id, x->cs.connector, &other) != STORE_OK)
    return -1;
  if (other && other != x->cs.id) {
    /* Named by the object in the way, not by ids: the text is in dumps that compare
     * stores, and it stays true while that object stays joined. */
    cs_row oc;
    if (store_cs_get(e->st, other, e->scratch2, &oc) != STORE_OK)
      return -1;
    snprintf(x->msg, sizeof x->msg, "ambiguous join: the matching metaverse object is already "
             "joined to %s of this connector", oc.anchor ? oc.anchor : oc.dn ? oc.dn : "?");
    x->msg_rule = jr->name;
    return 0;
  }
  if (store_cs_set_join(e->st, x->cs.id, mv_id, jr->name, jr->link, false) != STORE_OK)
    return -1;
  if (e->trace)
    buf_printf(e->trace, "join: joined to metaverse object %lld by \"%s\"\n", (long long)mv_id,
               jr->name);
  if (e->diff)
    diff_add(e, "connector-space", x->c->rc->name, x->label, "join", jr->name);
  x->cs.mv_id = x->new_link = mv_id;
  return 0;
}

/* Projection: a new metaverse object of pr's target type, joined to the object. */
static int in_project(mvs_engine *e, cs_eval *x, const rule *pr)
{
  int64_t mv_id;

  if (mv_create(e, pr->target_type, &mv_id) != 0 ||
      store_cs_set_join(e->st, x->cs.id, mv_id, pr->name, pr->link, true) != STORE_OK)
    return -1;
  e->res->adds++;
  x->projected = pr->target_type;
  if (e->trace)
    buf_printf(e->trace, "projection: new %s metaverse object by \"%s\"\n", pr->target_type,
               pr->name);
  if (e->diff)
    diff_add(e, "metaverse", pr->target_type, x->label, "add", pr->name);
  x->cs.mv_id = x->new_link = mv_id;
  return 0;
}

/* A disconnector: only one in-scope rule with join conditions may try to join it (else a
 * join conflict); no match and a Provision rule in scope projects it — when that rule has
 * join conditions, only if one of its join attributes has a value. */
static int in_join_or_project(mvs_engine *e, cs_eval *x)
{
  const rule *jr = NULL, *pr = NULL;
  int64_t mv_id = 0;
  size_t i, n_join_rules = 0;

  for (i = 0; i < x->h.n; i++) {
    const rule *r = x->h.r[i];
    if (!x->h.in_scope[i])
      continue;
    if (r->n_join && n_join_rules++ == 0)
      jr = r;
    else if (r->n_join) {
      snprintf(x->msg, sizeof x->msg, "join conflict: rules \"%s\" and \"%s\" with join "
               "conditions are both in scope", jr->name, r->name);
      x->msg_rule = jr->name;
    }
    if (!pr && r->link == RULE_LINK_PROVISION)
      pr = r;
  }
  if (!x->msg[0] && jr && find_join(e, &x->v, jr, &mv_id) != 0)
    return -1;
  if (mv_id)
    return in_join_to(e, x, jr, mv_id);
  if (!x->msg[0] && pr && (!pr->n_join || has_join_value(&x->v, pr)))
    return in_project(e, x, pr);
  if (e->trace && !x->msg[0])
    buf_printf(e->trace, "join: no match; stays a disconnector\n");
  return 0;
}

/* After the join step: the object's import is taken (state, join keys) and what its change
 * touches is queued — its exports, drift, the objects that reference it or its old and new
 * metaverse objects, the disconnectors its old metaverse object may free, the members an
 * ISMEMBEROF scope names. */
static int in_queue_touched(mvs_engine *e, cs_eval *x, sync_work *w)
{
  const cs_row *cs = &x->cs;
  int64_t old_mv = x->old_mv;
  conn_info *c = x->c;

  /* A new join wrote the state with the link (store_cs_set_join). */
  if (cs->import_state != IMPORT_NONE && !x->new_link &&
      store_cs_set_state(e->st, cs->id, IMPORT_NONE) != STORE_OK)
    return -1;
  /* Key tables being rebuilt: an object's rows are written at its first evaluation, with
   * nothing to list (the tables were emptied); its values cannot change within the sync
   * (a DN the sync gives it rewrites them, sync_in_dn_keys). */
  if (e->rebuild_keys && !idset_has(&w->keyed_cs, cs->id)) {
    if (idset_add(&w->keyed_cs, cs->id) != 0 || refresh_cs_keys(e, c, &x->v, true) != 0)
      return -1;
    if (!cs->mv_id)
      work_note_free_keys(e, w, c);
  } else if (!e->rebuild_keys && cs->import_state != IMPORT_NONE && keys_may_differ(c, cs) &&
             refresh_cs_keys(e, c, &x->v, false) != 0) {
    return -1;
  }
  /* New imported values of a joined object change what its exports to this connector
   * must be (they are compared with them); a new DN changes the exports of the objects
   * that reference it. */
  if (cs->import_state != IMPORT_NONE && cs->mv_id && c->n_out && targets_may_differ(c, cs) &&
      work_queue_out(w, cs->mv_id) != 0)
    return -1;
  /* Changed in the directory, joined as before: what its exports now stage may be drift. */
  if (cs->import_state == IMPORT_UPDATE && cs->mv_id && cs->mv_id == old_mv && c->n_out &&
      id_list_add(&w->drift_cs, cs->id) != 0)
    return -1;
  if (cs->renamed && cs->mv_id &&
      work_queue_out_referrers(e, cs->mv_id, w) != 0)
    return -1;
  if (cs->mv_id != old_mv) {
    /* Objects that reference this one (inbound), and the metaverse objects that reference
     * its old and new metaverse object (their exports name its DN in this connector). */
    if (((!e->refs_read || idset_has(e->refs_read, cs->id)) &&
         work_queue_referrers(e, cs->id, w) != 0) ||
        (cs->mv_id && work_queue_out_referrers(e, cs->mv_id, w) != 0))
      return -1;
    /* Its old metaverse object may now be free for another object of this connector that
     * an ambiguous join kept out.  Its import flow is recomputed now, not in a later round:
     * the disconnectors queued here are evaluated before that round, and must see the
     * values the object has without this one (attribute recall, as Connect does it when
     * the disconnecting object is synced), or a delta sync joins them to keys a full sync
     * no longer finds. */
    if (old_mv && (work_queue_out(w, old_mv) != 0 ||   /* a lost link, as in_delete */
                   work_queue_out_referrers(e, old_mv, w) != 0 ||
                   work_queue_mv_key_matches(e, old_mv, w) != 0 ||
                   sync_in_mv(e, old_mv, 0, 0, w) != 0))
      return -1;
  }
  if (cs->import_state != IMPORT_NONE &&
      queue_members(e, c, cs, cs->import_state != IMPORT_UPDATE, w) != 0)
    return -1;
  return 0;
}

static int in_mv(mvs_engine *e, int64_t mv_id, int64_t new_link, int64_t delta_cs,
                 const cs_row *from_cs, obj_view *from_v, const char *projected,
                 sync_work *w);

/* The steps, in order: delete; scope; type change; keep or drop the join, or join or
 * project; queue what changed; recompute the metaverse object. */
int sync_in_cs(mvs_engine *e, int64_t cs_id, bool joined_pass, bool *other, sync_work *w)
{
  cs_eval x;
  pe_row pe;
  int64_t delta_cs;
  int rc;

  if (other)
    *other = false;
  mvs_arena_reset(e->scratch);
  diff_flush(e);   /* an object boundary: no diff entry is held here */
  e->flow_err.n = 0;
  if ((rc = store_cs_get(e->st, cs_id, e->scratch, &x.cs)) != STORE_OK)
    return rc == STORE_NOTFOUND ? 0 : -1;
  if (joined_pass != (x.cs.mv_id != 0 || x.cs.import_state == IMPORT_DELETE)) {
    if (other)
      *other = true;
    return 0;
  }
  x.old_mv = x.cs.mv_id;
  x.new_link = 0;
  x.projected = NULL;
  x.msg[0] = '\0';
  x.msg_rule = NULL;
  x.c = engine_conn_by_id(e, x.cs.connector);
  if (label_cs(e, &x.cs, e->scratch, &x.label) != 0)
    return -1;
  if (x.cs.import_state == IMPORT_DELETE)
    return in_delete(e, &x, w);
  if (!x.c) /* its connector left the rule set: nothing to evaluate */
    return store_cs_set_state(e->st, cs_id, IMPORT_NONE) == STORE_OK &&
                   store_ref_delta_clear(e->st, cs_id) == STORE_OK
               ? 0 : -1;
  if (view_load_cs(e, &x.v, &x.cs, e->scratch) != 0)
    return -1;
  rc = -1;
  if (scope_rules(e, e->scratch, x.c->in_rules, x.c->n_in, x.cs.object_type, NULL, &x.v,
                  &x.h) != 0)
    goto out;
  trace_hits(e, &x.h);
  if (x.cs.import_state == IMPORT_DELETE_ADD && x.cs.mv_id && in_type_change(e, &x) != 0)
    goto out;
  /* An object waiting for its deprovisioning delete is left alone. */
  if (store_pe_get(e->st, cs_id, e->scratch, &pe) == STORE_OK && pe.op == PE_DELETE) {
    if (e->trace)
      buf_printf(e->trace, "skipped: a delete is pending export\n");
  } else if (x.cs.mv_id && !x.cs.link_out) {
    if (in_keep_join(e, &x) != 0)
      goto out;
  } else if (!x.cs.mv_id && in_join_or_project(e, &x) != 0) {
    goto out;
  }
  if (in_queue_touched(e, &x, w) != 0)
    goto out;
  /* Only the import changed this object, not its join: its reference value deltas are
   * what changed in the metaverse. */
  delta_cs = !e->full_sync && x.cs.import_state == IMPORT_UPDATE && x.cs.mv_id == x.old_mv
                 ? cs_id : 0;
  /* sync_in_mv takes the object that joined, not the metaverse object it joined; and this
   * object as read and loaded here, not read again among the joined ones. */
  if (x.cs.mv_id &&
      in_mv(e, x.cs.mv_id, x.new_link ? cs_id : 0, delta_cs, &x.cs, &x.v, x.projected, w) != 0)
    goto out;
  /* Its inbound error: a join error, else a flow error of its own this evaluation recorded
   * (kept as it is: its first sighting stays), else none. */
  if (x.msg[0] || !engine_flow_failed(e, cs_id))
    set_error(e, &x.cs, x.c, x.msg[0] ? x.msg : NULL, x.msg_rule);
  rc = x.cs.import_state != IMPORT_NONE && store_ref_delta_clear(e->st, cs_id) != STORE_OK
           ? -1 : 0;
out:
  view_free(&x.v);
  return rc;
}

/* ---- metaverse side ---- */

/* The targets of a lazy reference contribution, read now (sorted, unique). */
static int lazy_refs(mvs_engine *e, contrib *ct, id_list *out)
{
  cs_row cs;
  obj_view v;
  size_t i;
  int rc = -1;

  if (store_cs_get(e->st, ct->cs_id, e->scratch2, &cs) != STORE_OK ||
      view_load_cs(e, &v, &cs, e->scratch2) != 0)
    return -1;
  if (contrib_materialize(&v, ct) != 0)
    goto out;
  for (i = 0; i < ct->refs.n; i++)
    if (id_list_add(out, ct->refs.ids[i]) != 0)
      goto out;
  id_list_sort_unique(out);
  rc = 0;
out:
  view_free(&v);
  return rc;
}

/* May the value deltas of the winning (lazy) contribution stand for a re-read?  Only when
 * the same rule won last time with a value (a kept value records no rule), from the only
 * object that rule takes the attribute from. */
static bool ref_delta_ok(const contribs *cb, const merged *m, const attr_entry *cur)
{
  size_t i, n = 0;
  if (!cur || !(cur->flags & ATTR_REF) || !cur->src || strcmp(cur->src, m->src->name) != 0)
    return false;
  for (i = 0; i < cb->n; i++)
    if (cb->items[i].r == m->src && strcasecmp(cb->items[i].attr, m->attr) == 0)
      n++;
  return n == 1;
}

/* One metaverse object being recomputed inbound. */
typedef struct mv_eval {
  mv_row mv;
  int64_t new_link, delta_cs;   /* as sync_in_mv takes them */
  const cs_row *from_cs;        /* the object whose evaluation asks, as it read it, or NULL */
  obj_view *from_v;             /* ... and its view */
  attrset cur, now;             /* its attributes before and after */
  contribs cb;
  merged_set ms;
  diff_entry *d;                /* its diff entry (dry runs, preview), or NULL */
  bool changed;                 /* attributes or reference rows changed */
  uint64_t changed_bits;        /* attr_name_bit of each attribute that changed (of each
                                 * reference attribute, whether or not its rows did) */
  bool keys_changed;            /* a join-key attribute changed */
  bool projected;               /* just projected by from_cs: joined to it alone */
  bool delta_changed;           /* value deltas changed reference rows */
} mv_eval;

/* The contributions of the in-scope inbound rules of every joined object; *survive when one
 * of them is a Provision or StickyJoin rule (the object stays alive). */
static int in_contributions(mvs_engine *e, mv_eval *x, bool *survive)
{
  id_list joined = {0};
  size_t i, j;
  int rc = -1;

  *survive = false;
  if (x->projected ? id_list_add(&joined, x->from_cs->id) != 0
                   : store_cs_joined(e->st, x->mv.id, &joined) != STORE_OK)
    goto out;
  for (i = 0; i < joined.n; i++) {
    cs_row cs;
    obj_view v;
    rule_hits h;
    conn_info *c;
    bool noflow = false, own = x->from_cs && x->from_cs->id == joined.ids[i];
    int vrc = 0;

    if (own)
      cs = *x->from_cs;
    else if (store_cs_get(e->st, joined.ids[i], e->scratch2, &cs) != STORE_OK)
      goto out;
    if (cs.import_state == IMPORT_DELETE || !(c = engine_conn_by_id(e, cs.connector)))
      continue;
    if (own)
      v = *x->from_v;
    else if (view_load_cs(e, &v, &cs, e->scratch2) != 0)
      goto out;
    if (scope_rules(e, e->scratch2, c->in_rules, c->n_in, cs.object_type, x->mv.object_type,
                    &v, &h) != 0)
      vrc = -1;
    for (j = 0; vrc == 0 && j < h.n; j++)
      if (h.in_scope[j]) {
        if (h.r[j]->link == RULE_LINK_PROVISION || h.r[j]->link == RULE_LINK_STICKYJOIN)
          *survive = true;
        if (h.r[j]->link == RULE_LINK_JOINNOFLOW)
          noflow = true;
      }
    /* A JoinNoFlow rule in scope stops every rule of the connector from flowing. */
    for (j = 0; vrc == 0 && j < h.n && !noflow; j++)
      if (h.in_scope[j])
        vrc = contribs_from_rule(e, &v, h.r[j], x->new_link == cs.id, 0, x->delta_cs != 0,
                                 &x->cb);
    if (own)
      *x->from_v = v; /* the caller's, with what evaluating it cached */
    else
      view_free(&v);
    if (vrc != 0)
      goto out;
  }
  rc = 0;
out:
  id_list_free(&joined);
  return rc;
}

/* The new attribute set from the merged contributions: KEEP copies the current value; a
 * reference attribute is a marker (its values are rows).  A value another rule contributed
 * before is a winner change (store_winner_change_add: `mvsync authority`'s split history),
 * unless a new join brought the rule: a second source arriving (every object of an initial
 * sync) is not two systems taking turns. */
static int in_new_attrs(mvs_engine *e, mv_eval *x)
{
  size_t i;

  for (i = 0; i < x->ms.n; i++) {
    const merged *m = &x->ms.items[i];
    const attr_entry *old = attrset_get(&x->cur, m->attr, strlen(m->attr));
    unsigned flags = (m->multi ? ATTR_MULTI : 0) | (m->is_ref ? ATTR_REF : 0);
    if (!x->new_link && m->state == MERGED_VALUE && !m->merge && old && old->src && m->src &&
        strcmp(old->src, m->src->name) != 0 &&
        store_winner_change_add(e->st, x->mv.object_type, m->attr, old->src, m->src->name) !=
            STORE_OK)
      return -1;
    if (m->state == MERGED_KEEP) {
      /* A kept reference records no rule: its rows no longer follow one (ref_delta_ok). */
      if (old && attrset_set(&x->now, old->name, old->value, old->flags,
                             (old->flags & ATTR_REF) ? NULL : old->src) != 0)
        return -1;
    } else if (m->is_ref) {
      if (attrset_set(&x->now, m->attr, mvs_null(), flags | ATTR_REF, m->src->name) != 0)
        return -1;
    } else if (m->state == MERGED_VALUE &&
               attrset_set(&x->now, m->attr, m->val, flags, m->src->name) != 0) {
      return -1;
    }
  }
  return 0;
}

/* A changed non-reference attribute in the diff and the preview trace (a, b: before and
 * after, either NULL when absent). */
static void in_note_change(mvs_engine *e, mv_eval *x, const char *name, const attr_entry *a,
                           const attr_entry *b)
{
  mvs_value old_v = a ? a->value : mvs_null(), new_v = b ? b->value : mvs_null();
  const char *src = b ? b->src : NULL;

  if (x->d)
    diff_change_add(e, x->d, name, old_v, new_v, src);
  if (e->trace) {
    buf_printf(e->trace, "metaverse %s: ", name);
    trace_value(e, e->trace, old_v);
    buf_adds(e->trace, " -> ");
    trace_value(e, e->trace, new_v);
    buf_printf(e->trace, "%s%s\n", src ? " by " : "", src ? src : "");
  }
}

/* Bring the reference rows of attribute name to what the merge says: kept as they are
 * (IgnoreThisFlow, spent apply-once), changed by the winning object's value deltas, or
 * rewritten from the references (read now when the contribution was lazy).  cur: the
 * attribute before (NULL when new). */
static int in_ref_rows(mvs_engine *e, mv_eval *x, const char *name, const attr_entry *cur,
                       bool present, sync_work *w)
{
  const merged *m = present ? merged_get(&x->ms, name) : NULL;
  int64_t mv_id = x->mv.id;
  id_list want = {0};
  int rc;

  if (m && m->state == MERGED_KEEP)
    return 0;
  if (m && m->state == MERGED_VALUE && m->lazy && ref_delta_ok(&x->cb, m, cur)) {
    /* Same rule, same object: only its delta can have changed the rows. */
    rc = m->lazy->cs_id != x->delta_cs
             ? 0 : mv_apply_ref_delta(e, mv_id, name, m->lazy, x->d, &x->delta_changed, w);
    if (rc <= 0)
      return rc;
  }
  if (!(m && m->state == MERGED_VALUE && m->lazy))
    return mv_write_refs(e, mv_id, name, m && m->state == MERGED_VALUE ? &m->refs : NULL,
                         x->d, &x->changed);
  rc = lazy_refs(e, m->lazy, &want) == 0 && mv_write_refs(e, mv_id, name, &want, x->d,
                                                          &x->changed) == 0
           ? 0 : -1;
  id_list_free(&want);
  return rc;
}

/* Compare the two attribute sets attribute by attribute (both are sorted by name), noting
 * changes and writing reference rows. */
static int in_compare(mvs_engine *e, mv_eval *x, sync_work *w)
{
  const attrset *cur = &x->cur, *now = &x->now;
  size_t i, j;

  for (i = 0, j = 0; i < cur->n || j < now->n;) {
    const attr_entry *a = i < cur->n ? &cur->items[i] : NULL;
    const attr_entry *b = j < now->n ? &now->items[j] : NULL;
    int c = !a ? 1 : !b ? -1 : strcasecmp(a->name, b->name);
    const char *name = c <= 0 ? a->name : b->name;
    bool same = c == 0 && attr_value_same(a->value, b->value) && a->flags == b->flags &&
                ((!a->src && !b->src) || (a->src && b->src && strcmp(a->src, b->src) == 0));
    /* Reference rows: every attribute that is (or was) a reference. */
    bool is_ref = (c <= 0 && (a->flags & ATTR_REF)) || (c >= 0 && (b->flags & ATTR_REF));
    if (!same || is_ref)
      x->changed_bits |= attr_name_bit(name, strlen(name));
    if (!same) {
      x->changed = true;
      if (mv_key_attr(e, name))
        x->keys_changed = true;
      if (!is_ref)
        in_note_change(e, x, name, c <= 0 ? a : NULL, c >= 0 ? b : NULL);
    }
    if (is_ref && in_ref_rows(e, x, name, c == 0 ? a : NULL, c >= 0, w) != 0)
      return -1;
    i += c <= 0;
    j += c >= 0;
  }
  return 0;
}

/* Store the new attributes (moving the object into or out of collections on a delta sync),
 * count the update, and queue what the change touches: key matches, exports. */
static int in_store_changes(mvs_engine *e, mv_eval *x, sync_work *w)
{
  int64_t mv_id = x->mv.id;
  buf blob;
  int rc = -1;

  buf_init(&blob, 0);
  if (x->changed) {
    mv_row after = x->mv;
    if (attrset_encode(&x->now, &blob) != 0 ||
        store_mv_update(e->st, mv_id, blob.p, blob.len) != STORE_OK)
      goto out;
    /* Its attributes may move it into or out of collections (a full sync recomputes them
     * whole, after inbound). */
    after.attrs = blob.p;
    after.attrs_len = blob.len;
    if (!e->full_sync && collection_sync_object(e, &after, w) != 0)
      goto out;
  }
  if (x->changed || x->delta_changed)
    e->res->updates++;
  if ((x->changed || x->delta_changed || x->new_link) && id_list_add(&w->mv_changed, mv_id) != 0)
    goto out;
  /* While the key tables are rebuilt every object writes its keys at its first evaluation
   * (the tables were emptied: nothing to list), later only when they changed; only changed
   * values can make a disconnector join. */
  if (e->rebuild_keys && !idset_has(&w->keyed_mv, mv_id)) {
    if (idset_add(&w->keyed_mv, mv_id) != 0 ||
        mv_write_keys(e, mv_id, &x->now, x->keys_changed, true, w) != 0)
      goto out;
  } else if (x->keys_changed && mv_write_keys(e, mv_id, &x->now, true, false, w) != 0) {
    goto out;
  }
  /* Exports follow: in full — a new link, or a change of what an outbound rule reads — or
   * only the reference values the deltas changed. */
  if (x->new_link || (x->changed && (x->changed_bits & e->out_read_bits))
          ? work_queue_out(w, mv_id) != 0
          : x->delta_changed && id_list_add(&w->mv_out_delta, mv_id) != 0)
    goto out;
  rc = 0;
out:
  buf_free(&blob);
  return rc;
}

/* The steps, in order: contributions of every joined object (or the delete when nothing
 * keeps the object alive); merge by precedence; compare and write; store and queue. */
int sync_in_mv(mvs_engine *e, int64_t mv_id, int64_t new_link, int64_t delta_cs, sync_work *w)
{
  return in_mv(e, mv_id, new_link, delta_cs, NULL, NULL, NULL, w);
}

/* projected: from_cs has just projected the object, of this type (no attributes, no other
 * object joined: nothing to read). */
static int in_mv(mvs_engine *e, int64_t mv_id, int64_t new_link, int64_t delta_cs,
                 const cs_row *from_cs, obj_view *from_v, const char *projected,
                 sync_work *w)
{
  mv_eval x;
  bool survive;
  int rc;

  mvs_arena_reset(e->scratch2);
  diff_flush(e);
  memset(&x, 0, sizeof x);
  x.mv.id = mv_id;
  x.mv.object_type = projected;
  x.projected = projected != NULL;
  if (!projected && (rc = store_mv_get(e->st, mv_id, e->scratch2, &x.mv)) != STORE_OK)
    return rc == STORE_NOTFOUND ? 0 : -1;
  /* A collection's object is the collection's (collection.c): its joined objects are
   * targets of outbound rules, which neither feed nor keep it. */
  if (strcmp(x.mv.object_type, RULE_COLLECTION_TYPE) == 0)
    return 0;
  x.new_link = new_link;
  x.delta_cs = delta_cs;
  x.from_cs = from_cs;
  x.from_v = from_v;
  attrset_init(&x.cur, e->scratch2);
  attrset_init(&x.now, e->scratch2);
  rc = -1;
  if (attrset_decode(&x.cur, x.mv.attrs, x.mv.attrs_len) != 0 ||
      in_contributions(e, &x, &survive) != 0)
    goto out;
  if (!survive) {
    if (e->trace)
      buf_printf(e->trace, "metaverse object %lld: no Provision or StickyJoin rule in scope "
                 "keeps it: deleted\n", (long long)mv_id);
    rc = mv_delete(e, mv_id, w);
    goto out;
  }
  if (contribs_merge(&x.cb, e->scratch2, &x.ms) != 0 || in_new_attrs(e, &x) != 0)
    goto out;
  {
    const char *label;
    if ((e->diff || e->trace) && label_mv(e, mv_id, e->scratch2, &label) == 0 && e->diff)
      x.d = diff_add(e, "metaverse", x.mv.object_type, label, "update", NULL);
  }
  if (in_compare(e, &x, w) != 0 || in_store_changes(e, &x, w) != 0)
    goto out;
  if (x.d && !x.d->n_changes)
    x.d->op = NULL;   /* nothing changed: dropped when rendered */
  rc = 0;
out:
  attrset_free(&x.cur);
  attrset_free(&x.now);
  contribs_free(&x.cb);
  merged_free(&x.ms);
  return rc;
}
