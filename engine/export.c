/* export — send a connector's pending exports through connector.h: adds first, then
 * updates and renames, deletes last; per-object failures are recorded (code and message)
 * and the run goes on; sent changes stay "sent" until a confirming import.  The deletion
 * threshold stops the run before anything is sent; staging mode and dry runs never send.
 * Each batch is committed after the connector confirmed it, so a crash re-sends at most one
 * batch; its adds were marked in flight before it was sent, and are looked up, not created
 * again.  Memory: a batch's export records live in e->scratch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/connect.h"
#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/export.h"
#include "engine/export_order.h"
#include "engine/flow.h"
#include "engine/sync_in.h"

#define BATCH 100

static const conn_export_op op_map[] = {CONN_EXPORT_ADD, CONN_EXPORT_UPDATE, CONN_EXPORT_DELETE,
                                        CONN_EXPORT_RENAME};

/* Build one export record from a pending export. */
static int build_export(mvs_engine *e, int64_t cs_id, conn_export *x, pe_row *pe, cs_row *cs)
{
  pe_values vals = {0};
  conn_attr *attrs = NULL;
  size_t i, j, n = 0;
  int rc = -1;

  memset(x, 0, sizeof *x);
  if (store_cs_get(e->st, cs_id, e->scratch, cs) != STORE_OK ||
      store_pe_get(e->st, cs_id, e->scratch, pe) != STORE_OK ||
      store_pe_values(e->st, cs_id, e->scratch, &vals) != STORE_OK)
    goto out;
  if (vals.n && !(attrs = mvs_arena_alloc(e->scratch, vals.n * sizeof *attrs)))
    goto out;
  /* Values are stored by attribute and mode: one conn_attr per run of equal keys. */
  for (i = 0; i < vals.n;) {
    mvs_value *items;
    size_t m = 0;
    for (j = i; j < vals.n && strcmp(vals.items[j].attr, vals.items[i].attr) == 0 &&
                vals.items[j].mode == vals.items[i].mode; j++)
      ;
    if (!(items = mvs_arena_alloc(e->scratch, (j - i) * sizeof *items)))
      goto out;
    for (; i < j; i++)
      if (vals.items[i].value &&
          attr_value_decode(e->scratch, vals.items[i].value, vals.items[i].value_len, &items[m++]) != 0)
        goto out;
    attrs[n].name = vals.items[j - 1].attr;
    attrs[n].op = vals.items[j - 1].mode == PE_VADD ? CONN_ATTR_ADD
                  : vals.items[j - 1].mode == PE_VDELETE ? CONN_ATTR_DELETE : CONN_ATTR_REPLACE;
    attrs[n].value = mvs_null();
    if (m == 1)
      attrs[n].value = items[0];
    else if (m > 1) {
      attrs[n].value.type = MVS_V_MV;
      attrs[n].value.u.mv.items = items;
      attrs[n].value.u.mv.n = m;
    }
    n++;
  }
  x->op = op_map[pe->op & 3];
  if (x->op == CONN_EXPORT_ADD) {
    int inflight;
    if (store_inflight_get(e->st, cs_id, &inflight) != STORE_OK)
      goto out;
    x->maybe_created = inflight != 0;
  }
  x->anchor = cs->anchor;
  x->dn = cs->dn;
  x->new_dn = pe->new_dn;
  x->object_type = cs->object_type;
  x->attrs = attrs;
  x->n_attrs = n;
  rc = 0;
out:
  pe_values_free(&vals);
  return rc;
}

/* A create is not idempotent: the adds of a batch are marked in flight (committed) before
 * it is sent, so that after a crash or a deadline the next export has the connector look
 * them up instead of creating them twice. */
static int mark_inflight(mvs_engine *e, const int64_t *ids, const conn_export *x, size_t n)
{
  size_t k;
  for (k = 0; k < n && x[k].op != CONN_EXPORT_ADD; k++)
    ;
  if (k == n)
    return 0;
  if (engine_tx_begin(e) != STORE_OK)
    return -1;
  for (; k < n; k++)
    if (x[k].op == CONN_EXPORT_ADD && store_inflight_mark(e->st, ids[k]) != STORE_OK) {
      engine_tx_rollback(e);
      return -1;
    }
  return engine_tx_commit(e) == STORE_OK ? 0 : -1;
}

enum { ANCHOR_SET, ANCHOR_MERGED, ANCHOR_CONFLICT };

/* The anchor of a created (or, after a crash, found) object goes on its connector-space
 * object.  An import may have brought the same directory object in meanwhile as another
 * connector-space object: unjoined, it is dropped and this one takes its anchor; joined to
 * this one's metaverse object, this one is dropped (ANCHOR_MERGED); joined to another,
 * ANCHOR_CONFLICT (two metaverse objects would claim it).  -1: store error. */
static int set_created_anchor(mvs_engine *e, int64_t cs_id, const char *anchor)
{
  cs_row self, other;
  int q;
  if (store_cs_get(e->st, cs_id, e->scratch, &self) != STORE_OK)
    return -1;
  q = store_cs_by_anchor(e->st, self.connector, anchor, e->scratch, &other);
  if (q == STORE_ERR)
    return -1;
  if (q == STORE_OK && other.id != cs_id) {
    if (other.mv_id && other.mv_id != self.mv_id)
      return ANCHOR_CONFLICT;
    if (other.mv_id)
      return store_cs_delete(e->st, cs_id) == STORE_OK ? ANCHOR_MERGED : -1;
    if (store_cs_delete(e->st, other.id) != STORE_OK)
      return -1;
  }
  return store_cs_set_anchor(e->st, cs_id, anchor) == STORE_OK ? ANCHOR_SET : -1;
}

static int record_failure(mvs_engine *e, conn_info *c, const conn_export *x, int64_t cs_id,
                          int code, const char *message)
{
  e->res->errors++;
  engine_logf(e, "error: %s: export %s %s failed (%d): %s", c->rc->name,
              x->op == CONN_EXPORT_ADD ? "add" : x->op == CONN_EXPORT_DELETE ? "delete" : "update",
              x->dn ? x->dn : "", code, message ? message : "no message");
  return store_pe_set_status(e->st, cs_id, PE_PENDING, code ? code : -1,
                             message ? message : "export failed") == STORE_OK ? 0 : -1;
}

static int record_result(mvs_engine *e, conn_info *c, const conn_export *x, int64_t cs_id,
                         conn_export_result *r)
{
  if (!r->ok)
    return record_failure(e, c, x, cs_id, r->code, r->message);
  switch (x->op) {
  case CONN_EXPORT_ADD: {
    int set = r->anchor ? set_created_anchor(e, cs_id, r->anchor) : ANCHOR_SET;
    if (set < 0)
      return -1;
    if (set == ANCHOR_CONFLICT)
      return record_failure(e, c, x, cs_id, -1,
                            "the directory object it made or found is joined to another "
                            "metaverse object");
    e->res->adds++;
    if (set == ANCHOR_MERGED)
      return 0;
    if (store_inflight_clear(e->st, cs_id) != STORE_OK)
      return -1;
    break;
  }
  case CONN_EXPORT_DELETE:
    e->res->deletes++;
    /* The directory confirmed the delete: the object leaves the connector space. */
    return store_cs_delete(e->st, cs_id) == STORE_OK ? 0 : -1;
  case CONN_EXPORT_RENAME: {
    /* The object now lives at the new DN: later exports (and references to it) must name
     * that one, not the DN the last import saw. */
    buf key;
    int rc;
    e->res->updates++;
    buf_init(&key, BUF_CAP_DN);
    rc = text_fold(x->new_dn, strlen(x->new_dn), &key) == 0 &&
                 store_cs_set_dn(e->st, cs_id, x->new_dn, key.p ? key.p : "") == STORE_OK &&
                 sync_in_dn_keys(e, c, cs_id) == 0
             ? 0 : -1;
    buf_free(&key);
    if (rc != 0)
      return -1;
    break;
  }
  default:
    e->res->updates++;
  }
  return store_pe_set_status(e->st, cs_id, PE_SENT, 0, NULL) == STORE_OK ? 0 : -1;
}

/* Below this many destructive changes a percentage says little (1 of 2 objects is 50 %). */
#define PERCENT_FLOOR 10

/* The deletion threshold (docs/safety.md): object deletes (deprovisions included) plus value
 * removals, as a count and as a share of the connector space.  1 when it stops (the reason
 * logged), 0, or -1. */
static int deletion_guard(mvs_engine *e, conn_info *c, int64_t cid, const run_opts *o)
{
  pe_destructive d;
  int64_t live, total;
  bool over_count, over_pct;

  if (o->allow_deletes)
    return 0;
  if (store_pe_destructive(e->st, cid, &d) != STORE_OK || store_cs_count_live(e->st, cid, &live) != STORE_OK)
    return -1;
  total = d.deletes + d.value_removals;
  over_count = c->deletion_threshold > 0 && total > c->deletion_threshold;
  over_pct = c->deletion_threshold_pct > 0 && d.objects >= PERCENT_FLOOR && live > 0 &&
             d.objects * 100 > c->deletion_threshold_pct * live;
  if (!over_count && !over_pct)
    return 0;
  engine_logf(e, "error: %s: export stopped: %lld deletes and %lld value removals (%lld changes) touch "
              "%lld of the %lld objects of the connector space (%lld%%), more than %s%lld%s: "
              "nothing was exported (review with `mvsync pending %s`; if the changes are "
              "intended, rerun with --allow-deletes)",
              c->rc->name, (long long)d.deletes, (long long)d.value_removals, (long long)total,
              (long long)d.objects, (long long)live,
              (long long)(live ? d.objects * 100 / live : 100),
              over_count ? "the deletion threshold of " : "deletion-threshold-percent ",
              (long long)(over_count ? c->deletion_threshold : c->deletion_threshold_pct),
              over_count ? " changes" : "%", c->rc->name);
  return 1;
}

/* A dry run shows what would be sent, and sends nothing: one diff entry per pending export
 * (kind "send"), counted as the live run counts what the directory accepts, so the two
 * summaries can be compared; or, kind "held", what the deletion threshold holds back. */
static int export_show(mvs_engine *e, conn_info *c, const id_list *ids, const char *kind)
{
  size_t i, k;

  for (i = 0; i < ids->n; i++) {
    conn_export x;
    pe_row pe;
    cs_row cs;
    obj_view cur;
    diff_entry *d;
    bool has_old;
    mvs_arena_reset(e->scratch);
    diff_flush(e);
    if (build_export(e, ids->ids[i], &x, &pe, &cs) != 0)
      return -1;
    d = diff_add(e, kind, c->rc->name, x.dn ? x.dn : "",
                 pe.op == PE_ADD ? "add" : pe.op == PE_DELETE ? "delete" : pe.op == PE_RENAME ? "rename" : "update",
                 x.new_dn);
    diff_set_object_type(e, d, cs.object_type);
    /* An update or rename replaces values the directory holds (as last imported). */
    has_old = x.op != CONN_EXPORT_ADD && x.op != CONN_EXPORT_DELETE;
    if (has_old && view_load_cs(e, &cur, &cs, e->scratch) != 0)
      return -1;
    for (k = 0; k < x.n_attrs; k++) {
      mvs_value old_v = x.attrs[k].op == CONN_ATTR_DELETE ? x.attrs[k].value : mvs_null();
      const char *rule_name;
      bool drift;
      /* The op of a conn_attr is the pending_export_value mode it was built from. */
      int nrc = store_dry_note_get(e->st, ids->ids[i], x.attrs[k].name, (int)x.attrs[k].op,
                                   e->scratch, &rule_name, &drift);
      if (nrc != STORE_OK && nrc != STORE_NOTFOUND) {
        if (has_old)
          view_free(&cur);
        return -1;
      }
      if (has_old && x.attrs[k].op == CONN_ATTR_REPLACE) {
        const attr_entry *ae = attrset_get(&cur.attrs, x.attrs[k].name, strlen(x.attrs[k].name));
        if (ae)
          old_v = ae->value;
      }
      if (diff_change_add(e, d, x.attrs[k].name, old_v,
                          x.attrs[k].op == CONN_ATTR_DELETE ? mvs_null() : x.attrs[k].value,
                          rule_name) == 0 && d && drift)
        d->changes[d->n_changes - 1].drift = d->drift = true;
    }
    if (has_old)
      view_free(&cur);
    if (strcmp(kind, "send") != 0)
      continue;
    if (x.op == CONN_EXPORT_ADD)
      e->res->adds++;
    else if (x.op == CONN_EXPORT_DELETE)
      e->res->deletes++;
    else
      e->res->updates++;
  }
  return 0;
}

static void results_free(conn_export_result *res, size_t n)
{
  size_t k;
  for (k = 0; k < n; k++) {
    free(res[k].anchor);
    free(res[k].message);
  }
}

/* The engine's answers to the connector (conn_export_env.lookup), in their own arena: the
 * batch's records live in e->scratch while the connector asks. */
typedef struct export_lookup {
  mvs_engine *e;
  int64_t cid;
  mvs_arena *arena;
  buf norm;
} export_lookup;

static int export_lookup_cs(void *u, const char *dn, const char *anchor, conn_found *out)
{
  export_lookup *l = u;
  mvs_arena_reset(l->arena);
  return connector_cs_lookup(l->e->st, l->cid, dn, anchor, l->arena, &l->norm, out);
}

/* Send one batch of n pending exports (n <= BATCH) and record what the directory said, in
 * one transaction.  ENGINE_OK, ENGINE_TIMEOUT (the connector's deadline) or ENGINE_SYSTEM. */
static int export_batch(mvs_engine *e, conn_info *c, open_connector *oc,
                        const conn_export_env *env, const int64_t *ids, size_t n)
{
  conn_export x[BATCH];
  conn_export_result res[BATCH];
  pe_row pe;
  cs_row cs;
  char *err = NULL;
  size_t k;
  int crc;

  mvs_arena_reset(e->scratch);
  memset(res, 0, sizeof res);
  for (k = 0; k < n; k++)
    if (build_export(e, ids[k], &x[k], &pe, &cs) != 0)
      return ENGINE_SYSTEM;
  if (mark_inflight(e, ids, x, n) != 0)
    return ENGINE_SYSTEM;
  crc = oc->ops->export(oc->conn, x, n, env, res, &err);
  if (crc != CONN_OK) {
    engine_errorf(e, "%s: export failed: %s", c->rc->name, err ? err : "connector error");
    free(err);
    results_free(res, n);
    return crc == CONN_ERR_TIMEOUT ? ENGINE_TIMEOUT : ENGINE_SYSTEM;
  }
  if (engine_tx_begin(e) != STORE_OK) {
    results_free(res, n);
    return ENGINE_SYSTEM;
  }
  for (k = 0; k < n; k++)
    if (record_result(e, c, &x[k], ids[k], &res[k]) != 0) {
      results_free(res, n);
      engine_tx_rollback(e);
      return ENGINE_SYSTEM;
    }
  results_free(res, n);
  return engine_tx_commit(e) == STORE_OK ? ENGINE_OK : ENGINE_SYSTEM;
}

int export_run(mvs_engine *e, conn_info *c, const run_opts *o)
{
  open_connector oc;
  id_list ids = {0};
  int64_t cid;
  char *staging = NULL, *watermark = NULL;
  export_lookup lookup = {e, 0, NULL, {0}};
  conn_export_env env = {export_lookup_cs, &lookup, NULL};
  size_t i;
  int rc = ENGINE_SYSTEM, stop;
  bool opened = false;

  if (engine_conn_id(e, c, &cid) != 0 || store_pe_list(e->st, cid, true, &ids) != STORE_OK ||
      export_order(e, &ids) != 0 || store_meta_get(e->st, "staging", &staging) != STORE_OK)
    goto out;
  if ((stop = deletion_guard(e, c, cid, o))) {
    rc = stop > 0 ? ENGINE_STOPPED : ENGINE_SYSTEM;
    /* A dry run shows what the threshold holds back: what a reviewer must look at. */
    if (stop > 0 && e->diff && export_show(e, c, &ids, "held") != 0)
      rc = ENGINE_SYSTEM;
    goto out;
  }
  if (staging && strcmp(staging, "on") == 0) {
    engine_logf(e, "%s: staging mode: %zu pending exports kept, none sent", c->rc->name, ids.n);
    rc = ENGINE_OK;
    goto out;
  }
  if (e->diff) {
    rc = export_show(e, c, &ids, "send") == 0 ? ENGINE_OK : ENGINE_SYSTEM;
    goto out;
  }
  if (ids.n == 0) {
    rc = ENGINE_OK;
    goto out;
  }
  if (store_watermark_get(e->st, cid, &watermark) != STORE_OK ||
      !(lookup.arena = mvs_arena_new(0))) {
    rc = ENGINE_SYSTEM;
    goto out;
  }
  lookup.cid = cid;
  buf_init(&lookup.norm, 0);
  env.watermark = watermark;
  if ((rc = connector_open_for(e, c, &oc)) != ENGINE_OK)
    goto out;
  opened = true;
  for (i = 0; i < ids.n; i += BATCH) {
    size_t n = ids.n - i < BATCH ? ids.n - i : BATCH;
    if (engine_deadline_passed(e)) {
      rc = ENGINE_SYSTEM;
      goto out;
    }
    if ((rc = export_batch(e, c, &oc, &env, ids.ids + i, n)) != ENGINE_OK)
      goto out;
    e->progress_total = (int64_t)ids.n;
    engine_progress(e, (int64_t)n);
  }
  engine_logf(e, "%s: export: %lld adds, %lld updates, %lld deletes, %lld errors", c->rc->name,
              (long long)e->res->adds, (long long)e->res->updates, (long long)e->res->deletes,
              (long long)e->res->errors);
  rc = ENGINE_OK;
out:
  if (opened)
    connector_close_for(&oc);
  mvs_arena_free(lookup.arena);
  buf_free(&lookup.norm);
  free(watermark);
  free(staging);
  id_list_free(&ids);
  return rc;
}
