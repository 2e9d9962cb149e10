/* mv — the writes a sync makes to the metaverse and to the links of its objects (mv.h).
 * Memory: rows read here live in e->scratch2; labels for the diff likewise. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/keys.h"
#include "engine/label.h"
#include "engine/mv.h"

int mv_create(mvs_engine *e, const char *type, int64_t *mv_id)
{
  buf empty;
  attrset none;
  int rc;

  buf_init(&empty, 0);
  attrset_init(&none, e->scratch);
  rc = attrset_encode(&none, &empty) == 0 &&
               store_mv_insert(e->st, type, empty.p, empty.len, mv_id) == STORE_OK
           ? 0 : -1;
  buf_free(&empty);
  return rc;
}

bool mv_key_attr(mvs_engine *e, const char *name)
{
  size_t i;
  for (i = 0; i < e->n_mv_key_attrs; i++)
    if (strcasecmp(e->mv_key_attrs[i], name) == 0)
      return true;
  return false;
}

typedef struct mv_keys {
  mvs_engine *e;
  int64_t mv_id;
  const attrset *now;
  sync_work *w; /* NULL: queue nothing */
} mv_keys;

static mvs_value mv_key_values(void *u, const char *attr)
{
  const attr_entry *ae = attrset_get(((mv_keys *)u)->now, attr, strlen(attr));
  return ae ? ae->value : mvs_null();
}

/* Write a row; with a work list, queue the disconnectors a value now held matches. */
static int mv_key_row(void *u, const char *attr, const char *norm, key_op op)
{
  mv_keys *k = u;
  if ((op == KEY_ADD && store_mv_key_insert(k->e->st, attr, norm, k->mv_id) != STORE_OK) ||
      (op == KEY_REMOVE && store_mv_key_remove(k->e->st, attr, norm, k->mv_id) != STORE_OK))
    return -1;
  return op != KEY_REMOVE && k->w ? work_queue_key_matches(k->e, attr, norm, k->w) : 0;
}

int mv_write_keys(mvs_engine *e, int64_t mv_id, const attrset *now, bool queue, bool none,
                  sync_work *w)
{
  ref_rows have = {0};
  mv_keys k = {e, mv_id, now, queue ? w : NULL};
  int rc = none || store_mv_key_list(e->st, mv_id, e->scratch2, &have) == STORE_OK ? 0 : -1;

  /* The disconnectors the old values matched may be free to join elsewhere now. */
  if (rc == 0 && queue)
    rc = work_queue_key_rows_matches(e, &have, w);
  if (rc == 0)
    rc = keys_sync(e->scratch2, e->mv_key_attrs, e->n_mv_key_attrs, mv_key_values, &have,
                   mv_key_row, &k);
  ref_rows_free(&have);
  return rc;
}

int mv_write_refs(mvs_engine *e, int64_t mv_id, const char *attr, const id_list *want,
                  diff_entry *d, bool *changed)
{
  id_list have = {0};
  size_t i = 0, j = 0;
  int rc = 0;

  if (store_mv_ref_list(e->st, mv_id, attr, &have) != STORE_OK)
    return -1;
  while (rc == 0 && (i < have.n || j < (want ? want->n : 0))) {
    int64_t h = i < have.n ? have.ids[i] : INT64_MAX;
    int64_t wv = want && j < want->n ? want->ids[j] : INT64_MAX;
    if (h == wv) {
      i++;
      j++;
      continue;
    }
    *changed = true;
    if (h < wv) {
      rc = store_mv_ref_delete(e->st, mv_id, attr, h) == STORE_OK ? 0 : -1;
      if (d && rc == 0) {
        const char *label;
        if (label_mv(e, h, e->scratch2, &label) == 0)
          diff_change_add(e, d, attr, mvs_str_ref(label, strlen(label)), mvs_null(), NULL);
      }
      i++;
    } else {
      rc = store_mv_ref_insert(e->st, mv_id, attr, wv) == STORE_OK ? 0 : -1;
      if (d && rc == 0) {
        const char *label;
        if (label_mv(e, wv, e->scratch2, &label) == 0)
          diff_change_add(e, d, attr, mvs_null(), mvs_str_ref(label, strlen(label)), NULL);
      }
      j++;
    }
  }
  id_list_free(&have);
  return rc;
}

int mv_apply_ref_delta(mvs_engine *e, int64_t mv_id, const char *attr, const contrib *ct,
                       diff_entry *d, bool *changed, sync_work *w)
{
  ref_rows rr = {0};
  size_t i;
  int rc = -1, names;

  if (store_ref_delta_list(e->st, ct->cs_id, ct->ref_attr, e->scratch2, &rr) != STORE_OK)
    goto out;
  for (i = 0; i < rr.n; i++)
    if (rr.items[i].op != REF_ADDED && !rr.items[i].target_mv) {
      rc = 1;
      goto out;
    }
  for (i = 0; i < rr.n; i++) {
    const ref_row *r = &rr.items[i];
    bool add = r->op == REF_ADDED;
    if (!r->target_mv)
      continue;   /* an added value naming no joined object: not in the metaverse */
    if (!add) {
      /* Another value may name the same object. */
      if (store_ref_names(e->st, ct->cs_id, ct->ref_attr, r->target_id, &names) != STORE_OK)
        goto out;
      if (names)
        continue;
    }
    if ((add ? store_mv_ref_insert(e->st, mv_id, attr, r->target_mv)
             : store_mv_ref_delete(e->st, mv_id, attr, r->target_mv)) != STORE_OK)
      goto out;
    if (!store_changes(e->st))
      continue;
    *changed = true;
    if (work_note_ref_change(w, mv_id, ct->attr, r->target_mv, add) != 0)
      goto out;
    if (d) {
      const char *label;
      if (label_mv(e, r->target_mv, e->scratch2, &label) == 0) {
        mvs_value lv = mvs_str_ref(label, strlen(label));
        diff_change_add(e, d, attr, add ? mvs_null() : lv, add ? lv : mvs_null(), NULL);
      }
    }
  }
  rc = 0;
out:
  ref_rows_free(&rr);
  return rc;
}

int mv_deprovision(mvs_engine *e, const cs_row *cs, sync_work *w)
{
  pe_row pe, old;
  pe_values none = {0};
  conn_info *c = engine_conn_by_id(e, cs->connector);
  const char *label;

  if (label_cs(e, cs, e->scratch2, &label) != 0)
    return -1;
  if (e->trace)
    buf_printf(e->trace, "deprovision: %s %s\n", c ? c->rc->name : "?", label);
  if (e->diff)
    diff_add(e, "export", c ? c->rc->name : "?", label, "delete", NULL);
  if (work_queue_out_referrers(e, cs->mv_id, w) != 0)
    return -1;
  e->res->deletes++;
  /* Never sent to the directory: nothing to delete there. */
  if (!cs->present && store_pe_get(e->st, cs->id, e->scratch2, &old) == STORE_OK &&
      old.op == PE_ADD && old.status == PE_PENDING && !cs->anchor)
    return store_cs_delete(e->st, cs->id) == STORE_OK ? 0 : -1;
  memset(&pe, 0, sizeof pe);
  pe.cs_id = cs->id;
  pe.op = PE_DELETE;
  pe.status = PE_PENDING;
  return store_pe_put(e->st, &pe, &none, 0) == STORE_OK &&
                 store_cs_set_link(e->st, cs->id, 0, NULL, 0, 0, 1) == STORE_OK
             ? 0 : -1;
}

int mv_delete(mvs_engine *e, int64_t mv_id, sync_work *w)
{
  id_list joined = {0};
  const char *label;
  size_t i;
  int rc = -1;

  if (store_cs_joined(e->st, mv_id, &joined) != STORE_OK ||
      work_queue_mv_key_matches(e, mv_id, w) != 0)
    goto out;
  if (e->diff && label_mv(e, mv_id, e->scratch2, &label) == 0)
    diff_add(e, "metaverse", "object", label, "delete", NULL);
  for (i = 0; i < joined.n; i++) {
    cs_row cs;
    if (store_cs_get(e->st, joined.ids[i], e->scratch2, &cs) != STORE_OK)
      goto out;
    if (cs.provisioned && cs.link_out) {
      if (mv_deprovision(e, &cs, w) != 0)
        goto out;
    } else if (store_cs_set_link(e->st, cs.id, 0, NULL, 0, 0, cs.provisioned) != STORE_OK ||
               work_queue_referrers(e, cs.id, w) != 0) {
      goto out;
    }
  }
  /* Objects referencing this one lose the value: their exports change. */
  if (work_queue_out_referrers(e, mv_id, w) != 0 ||
      store_mv_ref_referrers(e->st, mv_id, &w->mv_changed) != STORE_OK ||
      store_mv_delete(e->st, mv_id) != STORE_OK)
    goto out;
  e->res->deletes++;
  rc = 0;
out:
  id_list_free(&joined);
  return rc;
}
