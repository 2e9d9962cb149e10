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

#include "engine/engine_int.h"
#include "engine/mv.h"

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
  buf_init(&norm, 0);
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

/* Rewrite the join-key rows of a connector-space object. */
static int refresh_cs_keys(mvs_engine *e, conn_info *c, obj_view *v)
{
  size_t i, j;
  buf norm;
  int rc = 0;

  if (store_cs_key_delete(e->st, v->cs_id) != STORE_OK)
    return -1;
  buf_init(&norm, 0);
  for (i = 0; i < c->n_key_attrs && rc == 0; i++) {
    mvs_value x = view_scope_env(v).attr(v, c->key_attrs[i], strlen(c->key_attrs[i]));
    for (j = 0; j < mvs_count(x) && rc == 0; j++) {
      buf_reset(&norm);
      if (attr_fold(mvs_item(x, j), &norm) != 0 ||
          store_cs_key_insert(e->st, v->connector, c->key_attrs[i], norm.p ? norm.p : "",
                              v->cs_id) != STORE_OK)
        rc = -1;
    }
  }
  buf_free(&norm);
  return rc;
}

static void set_error(mvs_engine *e, const cs_row *cs, conn_info *c, const char *msg)
{
  store_cs_set_error(e->st, cs->id, msg);
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

int sync_in_cs(mvs_engine *e, int64_t cs_id, bool joined_pass, sync_work *w)
{
  cs_row cs;
  obj_view v;
  rule_hits h;
  conn_info *c;
  pe_row pe;
  int64_t old_mv, new_link = 0, delta_cs;
  const char *label;
  char msg[512];
  size_t i;
  int rc;

  mvs_arena_reset(e->scratch);
  diff_flush(e);   /* an object boundary: no diff entry is held here */
  if ((rc = store_cs_get(e->st, cs_id, e->scratch, &cs)) != STORE_OK)
    return rc == STORE_NOTFOUND ? 0 : -1;
  if (joined_pass != (cs.mv_id != 0 || cs.import_state == IMPORT_DELETE))
    return 0;   /* the other pass's object */
  old_mv = cs.mv_id;
  c = engine_conn_by_id(e, cs.connector);
  if (dump_cs_label(e, &cs, e->scratch, &label) != 0)
    return -1;

  if (cs.import_state == IMPORT_DELETE) {
    if (e->diff)
      diff_add(e, "connector-space", c ? c->rc->name : "?", label, "delete", NULL);
    if ((old_mv && (work_queue_referrers(e, cs_id, w) != 0 ||
                    work_queue_mv_key_matches(e, old_mv, w) != 0 ||
                    store_mv_ref_referrers(e->st, old_mv, &w->mv_out) != STORE_OK)) ||
        queue_members(e, c, &cs, true, w) != 0 || store_cs_delete(e->st, cs_id) != STORE_OK)
      return -1;
    return old_mv ? sync_in_mv(e, old_mv, 0, 0, w) : 0;
  }
  if (!c) /* its connector left the rule set: nothing to evaluate */
    return store_cs_set_state(e->st, cs_id, IMPORT_NONE) == STORE_OK &&
                   store_ref_delta_clear(e->st, cs_id) == STORE_OK
               ? 0 : -1;
  if (view_load_cs(e, &v, &cs, e->scratch) != 0)
    return -1;
  rc = -1;
  if (scope_rules(e, e->scratch, c->in_rules, c->n_in, cs.object_type, NULL, &v, &h) != 0)
    goto out;
  trace_hits(e, &h);
  msg[0] = '\0';

  /* Delete/Add (its object type changed): the old object's join goes, and it is evaluated
   * as a new object. */
  if (cs.import_state == IMPORT_DELETE_ADD && cs.mv_id) {
    if (e->trace)
      buf_printf(e->trace, "object type changed: disconnected, evaluated as a new object\n");
    if (e->diff)
      diff_add(e, "connector-space", c->rc->name, label, "disconnect", NULL);
    if (store_cs_set_link(e->st, cs_id, 0, NULL, 0, 0, 0) != STORE_OK ||
        store_pe_delete(e->st, cs_id) != STORE_OK)
      goto out;
    cs.mv_id = 0;
    cs.link_out = 0;
  }

  /* An object waiting for its deprovisioning delete is left alone. */
  if (store_pe_get(e->st, cs_id, e->scratch, &pe) == STORE_OK && pe.op == PE_DELETE) {
    if (e->trace)
      buf_printf(e->trace, "skipped: a delete is pending export\n");
  } else if (cs.mv_id && !cs.link_out) {
    /* Stays joined while an inbound rule to its metaverse type is in scope. */
    mv_row mv;
    const rule *keep = NULL;
    mvs_arena_reset(e->scratch2);
    if (store_mv_get(e->st, cs.mv_id, e->scratch2, &mv) != STORE_OK)
      goto out;
    for (i = 0; i < h.n && !keep; i++)
      if (h.in_scope[i] && rule_targets_type(h.r[i], mv.object_type) &&
          (!cs.link_rule || strcmp(h.r[i]->name, cs.link_rule) == 0))
        keep = h.r[i];
    for (i = 0; i < h.n && !keep; i++)
      if (h.in_scope[i] && rule_targets_type(h.r[i], mv.object_type))
        keep = h.r[i];
    if (!keep) {
      if (e->trace)
        buf_printf(e->trace, "join: disconnected (no joining rule in scope)\n");
      if (e->diff)
        diff_add(e, "connector-space", c->rc->name, label, "disconnect", NULL);
      if (store_cs_set_link(e->st, cs_id, 0, NULL, 0, 0, 0) != STORE_OK)
        goto out;
      cs.mv_id = 0;
    } else {
      if (e->trace)
        buf_printf(e->trace, "join: joined to metaverse object %lld by \"%s\"\n",
                   (long long)cs.mv_id, keep->name);
      if ((!cs.link_rule || strcmp(keep->name, cs.link_rule) != 0) &&
          store_cs_set_link(e->st, cs_id, cs.mv_id, keep->name, keep->link, 0, 0) != STORE_OK)
        goto out;
    }
  } else if (!cs.mv_id) {
    const rule *jr = NULL, *pr = NULL;
    int64_t mv_id = 0, other;
    size_t n_join_rules = 0;

    for (i = 0; i < h.n; i++) {
      if (!h.in_scope[i])
        continue;
      if (h.r[i]->n_join && n_join_rules++ == 0)
        jr = h.r[i];
      else if (h.r[i]->n_join)
        snprintf(msg, sizeof msg, "join conflict: rules \"%s\" and \"%s\" with join "
                 "conditions are both in scope", jr->name, h.r[i]->name);
      if (!pr && h.r[i]->link == RULE_LINK_PROVISION)
        pr = h.r[i];
    }
    if (!msg[0] && jr && find_join(e, &v, jr, &mv_id) != 0)
      goto out;
    if (mv_id) {
      if (store_mv_cs_in(e->st, mv_id, cs.connector, &other) != STORE_OK)
        goto out;
      if (other && other != cs_id) {
        /* Named by the object in the way, not by ids: the text is in dumps that compare
         * stores, and it stays true while that object stays joined. */
        cs_row oc;
        if (store_cs_get(e->st, other, e->scratch2, &oc) != STORE_OK)
          goto out;
        snprintf(msg, sizeof msg, "ambiguous join: the matching metaverse object is already "
                 "joined to %s of this connector", oc.anchor ? oc.anchor : oc.dn ? oc.dn : "?");
      } else {
        if (store_cs_set_link(e->st, cs_id, mv_id, jr->name, jr->link, 0, 0) != STORE_OK)
          goto out;
        if (e->trace)
          buf_printf(e->trace, "join: joined to metaverse object %lld by \"%s\"\n",
                     (long long)mv_id, jr->name);
        if (e->diff)
          diff_add(e, "connector-space", c->rc->name, label, "join", jr->name);
        cs.mv_id = new_link = mv_id;
      }
    } else if (!msg[0] && pr && (!pr->n_join || has_join_value(&v, pr))) {
      buf empty;
      attrset none;
      buf_init(&empty, 0);
      attrset_init(&none, e->scratch);
      rc = attrset_encode(&none, &empty) == 0 &&
                   store_mv_insert(e->st, pr->target_type, empty.p, empty.len, &mv_id) == STORE_OK &&
                   store_cs_set_link(e->st, cs_id, mv_id, pr->name, pr->link, 0, 0) == STORE_OK
               ? 0 : -1;
      buf_free(&empty);
      if (rc != 0)
        goto out;
      rc = -1;
      e->res->adds++;
      if (e->trace)
        buf_printf(e->trace, "projection: new %s metaverse object by \"%s\"\n",
                   pr->target_type, pr->name);
      if (e->diff)
        diff_add(e, "metaverse", pr->target_type, label, "add", pr->name);
      cs.mv_id = new_link = mv_id;
    } else if (e->trace && !msg[0]) {
      buf_printf(e->trace, "join: no match; stays a disconnector\n");
    }
  }
  set_error(e, &cs, c, msg[0] ? msg : NULL);

  if (cs.import_state != IMPORT_NONE &&
      store_cs_set_state(e->st, cs_id, IMPORT_NONE) != STORE_OK)
    goto out;
  if ((cs.import_state != IMPORT_NONE || e->rebuild_keys) && refresh_cs_keys(e, c, &v) != 0)
    goto out;
  /* New imported values of a joined object change what its exports to this connector
   * must be (they are compared with them); a new DN changes the exports of the objects
   * that reference it. */
  if (cs.import_state != IMPORT_NONE && cs.mv_id && c->n_out &&
      id_list_add(&w->mv_out, cs.mv_id) != 0)
    goto out;
  /* Changed in the directory, joined as before: what its exports now stage may be drift. */
  if (cs.import_state == IMPORT_UPDATE && cs.mv_id && cs.mv_id == old_mv && c->n_out &&
      id_list_add(&w->drift_cs, cs_id) != 0)
    goto out;
  if (cs.renamed && cs.mv_id && store_mv_ref_referrers(e->st, cs.mv_id, &w->mv_out) != STORE_OK)
    goto out;
  if (cs.mv_id != old_mv) {
    /* Objects that reference this one (inbound), and the metaverse objects that reference
     * its old and new metaverse object (their exports name its DN in this connector). */
    if (work_queue_referrers(e, cs_id, w) != 0 ||
        (cs.mv_id && store_mv_ref_referrers(e->st, cs.mv_id, &w->mv_out) != STORE_OK))
      goto out;
    /* Its old metaverse object may now be free for another object of this connector that
     * an ambiguous join kept out.  Its import flow is recomputed now, not in a later round:
     * the disconnectors queued here are evaluated before that round, and must see the
     * values the object has without this one (attribute recall, as Connect does it when
     * the disconnecting object is synced), or a delta sync joins them to keys a full sync
     * no longer finds. */
    if (old_mv && (store_mv_ref_referrers(e->st, old_mv, &w->mv_out) != STORE_OK ||
                   work_queue_mv_key_matches(e, old_mv, w) != 0 ||
                   sync_in_mv(e, old_mv, 0, 0, w) != 0))
      goto out;
  }
  if (cs.import_state != IMPORT_NONE &&
      queue_members(e, c, &cs, cs.import_state != IMPORT_UPDATE, w) != 0)
    goto out;
  /* Only the import changed this object, not its join: its reference value deltas are
   * what changed in the metaverse. */
  delta_cs = !e->full_sync && cs.import_state == IMPORT_UPDATE && cs.mv_id == old_mv ? cs_id : 0;
  if (cs.mv_id && sync_in_mv(e, cs.mv_id, new_link, delta_cs, w) != 0)
    goto out;
  rc = cs.import_state != IMPORT_NONE && store_ref_delta_clear(e->st, cs_id) != STORE_OK ? -1 : 0;
out:
  view_free(&v);
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

int sync_in_mv(mvs_engine *e, int64_t mv_id, int64_t new_link, int64_t delta_cs, sync_work *w)
{
  mv_row mv;
  attrset cur, now;
  id_list joined = {0};
  contribs cb = {0};
  merged_set ms = {0};
  diff_entry *d = NULL;
  bool survive = false, changed = false, keys_changed = false, delta_changed = false;
  buf blob;
  size_t i, j;
  int rc;

  mvs_arena_reset(e->scratch2);
  diff_flush(e);
  if ((rc = store_mv_get(e->st, mv_id, e->scratch2, &mv)) != STORE_OK)
    return rc == STORE_NOTFOUND ? 0 : -1;
  /* A collection's object is the collection's (collection.c): its joined objects are
   * targets of outbound rules, which neither feed nor keep it. */
  if (strcmp(mv.object_type, RULE_COLLECTION_TYPE) == 0)
    return 0;
  attrset_init(&cur, e->scratch2);
  attrset_init(&now, e->scratch2);
  buf_init(&blob, 0);
  rc = -1;
  if (attrset_decode(&cur, mv.attrs, mv.attrs_len) != 0 ||
      store_cs_joined(e->st, mv_id, &joined) != STORE_OK)
    goto out;

  for (i = 0; i < joined.n; i++) {
    cs_row cs;
    obj_view v;
    rule_hits h;
    conn_info *c;
    bool noflow = false;

    if (store_cs_get(e->st, joined.ids[i], e->scratch2, &cs) != STORE_OK)
      goto out;
    if (cs.import_state == IMPORT_DELETE || !(c = engine_conn_by_id(e, cs.connector)))
      continue;
    if (view_load_cs(e, &v, &cs, e->scratch2) != 0)
      goto out;
    if (scope_rules(e, e->scratch2, c->in_rules, c->n_in, cs.object_type, mv.object_type, &v, &h) != 0) {
      view_free(&v);
      goto out;
    }
    for (j = 0; j < h.n; j++)
      if (h.in_scope[j]) {
        if (h.r[j]->link == RULE_LINK_PROVISION || h.r[j]->link == RULE_LINK_STICKYJOIN)
          survive = true;
        if (h.r[j]->link == RULE_LINK_JOINNOFLOW)
          noflow = true;
      }
    /* A JoinNoFlow rule in scope stops every rule of the connector from flowing. */
    for (j = 0; j < h.n && !noflow; j++)
      if (h.in_scope[j] &&
          contribs_from_rule(e, &v, h.r[j], new_link == cs.id, 0, delta_cs != 0, &cb) != 0) {
        view_free(&v);
        goto out;
      }
    view_free(&v);
  }
  if (!survive) {
    if (e->trace)
      buf_printf(e->trace, "metaverse object %lld: no Provision or StickyJoin rule in scope "
                 "keeps it: deleted\n", (long long)mv_id);
    rc = mv_delete(e, mv_id, w);
    goto out;
  }
  if (contribs_merge(&cb, e->scratch2, &ms) != 0)
    goto out;

  /* The new attribute set: merged values; KEEP copies the current value. */
  for (i = 0; i < ms.n; i++) {
    const merged *m = &ms.items[i];
    const attr_entry *old = attrset_get(&cur, m->attr, strlen(m->attr));
    unsigned flags = (m->multi ? ATTR_MULTI : 0) | (m->is_ref ? ATTR_REF : 0);
    if (m->state == MERGED_KEEP) {
      /* A kept reference records no rule: its rows no longer follow one (ref_delta_ok). */
      if (old && attrset_set(&now, old->name, old->value, old->flags,
                             (old->flags & ATTR_REF) ? NULL : old->src) != 0)
        goto out;
    } else if (m->is_ref) {
      if (attrset_set(&now, m->attr, mvs_null(), flags | ATTR_REF, m->src->name) != 0)
        goto out;
    } else if (m->state == MERGED_VALUE &&
               attrset_set(&now, m->attr, m->val, flags, m->src->name) != 0) {
      goto out;
    }
  }

  /* Compare attribute by attribute (both sets are sorted by name). */
  {
    const char *label;
    if ((e->diff || e->trace) && dump_mv_label(e, mv_id, e->scratch2, &label) == 0 && e->diff)
      d = diff_add(e, "metaverse", mv.object_type, label, "update", NULL);
  }
  for (i = 0, j = 0; i < cur.n || j < now.n;) {
    const attr_entry *a = i < cur.n ? &cur.items[i] : NULL, *b = j < now.n ? &now.items[j] : NULL;
    int c = !a ? 1 : !b ? -1 : strcasecmp(a->name, b->name);
    const char *name = c <= 0 ? a->name : b->name;
    bool same = c == 0 && attr_value_same(a->value, b->value) && a->flags == b->flags &&
                ((!a->src && !b->src) || (a->src && b->src && strcmp(a->src, b->src) == 0));
    if (!same) {
      changed = true;
      if (mv_key_attr(e, name))
        keys_changed = true;
      if (d && !((c <= 0 && (a->flags & ATTR_REF)) || (c >= 0 && (b->flags & ATTR_REF))))
        diff_change_add(e, d, name, c <= 0 ? a->value : mvs_null(), c >= 0 ? b->value : mvs_null(),
                        c >= 0 ? b->src : NULL);
      if (e->trace && !((c <= 0 && (a->flags & ATTR_REF)) || (c >= 0 && (b->flags & ATTR_REF)))) {
        buf_printf(e->trace, "metaverse %s: ", name);
        trace_value(e, e->trace, c <= 0 ? a->value : mvs_null());
        buf_adds(e->trace, " -> ");
        trace_value(e, e->trace, c >= 0 ? b->value : mvs_null());
        buf_printf(e->trace, "%s%s\n", c >= 0 && b->src ? " by " : "", c >= 0 && b->src ? b->src : "");
      }
    }
    /* Reference rows: every attribute that is (or was) a reference. */
    if ((c <= 0 && (a->flags & ATTR_REF)) || (c >= 0 && (b->flags & ATTR_REF))) {
      const merged *m = c >= 0 ? merged_get(&ms, name) : NULL;
      bool keep = m && m->state == MERGED_KEEP;
      bool applied = false;   /* the rows are up to date without reading the references */
      if (!keep && m && m->state == MERGED_VALUE && m->lazy &&
          ref_delta_ok(&cb, m, c == 0 ? a : NULL)) {
        /* Same rule, same object: only its delta can have changed the rows. */
        int arc = m->lazy->cs_id != delta_cs
                      ? 0 : mv_apply_ref_delta(e, mv_id, name, m->lazy, d, &delta_changed, w);
        if (arc < 0)
          goto out;
        applied = arc == 0;
      }
      if (keep || applied) {
        /* IgnoreThisFlow / spent apply-once: the rows stay as they are; or deltas applied. */
      } else if (m && m->state == MERGED_VALUE && m->lazy) {
        id_list want = {0};
        int wrc = lazy_refs(e, m->lazy, &want) == 0 &&
                          mv_write_refs(e, mv_id, name, &want, d, &changed) == 0
                      ? 0 : -1;
        id_list_free(&want);
        if (wrc != 0)
          goto out;
      } else if (mv_write_refs(e, mv_id, name,
                                    m && m->state == MERGED_VALUE ? &m->refs : NULL, d,
                                    &changed) != 0) {
        goto out;
      }
    }
    i += c <= 0;
    j += c >= 0;
  }
  if (changed) {
    mv_row after = mv;
    if (attrset_encode(&now, &blob) != 0 || store_mv_update(e->st, mv_id, blob.p, blob.len) != STORE_OK)
      goto out;
    /* Its attributes may move it into or out of collections (a full sync recomputes them
     * whole, after inbound). */
    after.attrs = blob.p;
    after.attrs_len = blob.len;
    if (!e->full_sync && collection_sync_object(e, &after, w) != 0)
      goto out;
  }
  if (changed || delta_changed)
    e->res->updates++;
  if ((changed || delta_changed || new_link) && id_list_add(&w->mv_changed, mv_id) != 0)
    goto out;
  /* After a rebuild of the key tables every object writes its keys; only changed values
   * can make a disconnector join. */
  if ((keys_changed || e->rebuild_keys) && mv_write_keys(e, mv_id, &now, keys_changed, w) != 0)
    goto out;
  /* Exports follow: in full, or only the reference values the deltas changed. */
  if ((changed || new_link) ? id_list_add(&w->mv_out, mv_id) != 0
                            : delta_changed && id_list_add(&w->mv_out_delta, mv_id) != 0)
    goto out;
  if (d && !d->n_changes)
    d->op = NULL;   /* nothing changed: dropped when rendered */
  rc = 0;
out:
  attrset_free(&cur);
  attrset_free(&now);
  id_list_free(&joined);
  contribs_free(&cb);
  merged_free(&ms);
  buf_free(&blob);
  return rc;
}

