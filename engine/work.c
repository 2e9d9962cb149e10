/* work — the work lists of one sync run and the queries that add to them (work.h).
 * Memory: the lists are malloc'd and owned by the sync_work; store rows read to queue
 * work live in e->scratch2. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/work.h"
#include "schema/array.h"

void work_free(sync_work *w)
{
  id_list_free(&w->cs);
  id_list_free(&w->mv_in);
  id_list_free(&w->mv_out);
  id_list_free(&w->mv_out_delta);
  id_list_free(&w->drift_cs);
  id_list_free(&w->mv_changed);
  free(w->changes);
  w->changes = NULL;
  w->n_changes = w->cap_changes = 0;
  free(w->skips);
  w->skips = NULL;
  w->n_skips = w->cap_skips = 0;
  idset_free(&w->keyed_cs);
  idset_free(&w->keyed_mv);
  idset_free(&w->refs_read);
}

int work_queue_out(sync_work *w, int64_t mv_id)
{
  return w->out_all_later ? 0 : id_list_add(&w->mv_out, mv_id);
}

int work_queue_out_referrers(mvs_engine *e, int64_t mv_id, sync_work *w)
{
  if (w->out_all_later)
    return 0;
  return store_mv_ref_referrers(e->st, mv_id, &w->mv_out) == STORE_OK ? 0 : -1;
}

void work_drift_ready(sync_work *w)
{
  id_list_sort_unique(&w->drift_cs);
  id_list_sort_unique(&w->mv_changed);
}

int work_note_ref_change(sync_work *w, int64_t mv_id, const char *attr, int64_t target,
                         bool added)
{
  if (array_reserve(&w->changes, &w->cap_changes, w->n_changes + 1, sizeof *w->changes) != 0)
    return -1;
  w->changes[w->n_changes++] = (ref_change){mv_id, attr, target, added};
  return 0;
}

int work_note_skips(sync_work *w, int64_t cs_id, int64_t n)
{
  if (array_reserve(&w->skips, &w->cap_skips, w->n_skips + 1, sizeof *w->skips) != 0)
    return -1;
  w->skips[w->n_skips] = (skip_count){cs_id, n, w->n_skips};
  w->n_skips++;
  return 0;
}

static int cmp_skip(const void *a, const void *b)
{
  const skip_count *x = a, *y = b;
  if (x->cs_id != y->cs_id)
    return x->cs_id < y->cs_id ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int64_t work_skips_total(sync_work *w)
{
  int64_t total = 0;
  if (!w->n_skips)
    return 0;
  qsort(w->skips, w->n_skips, sizeof *w->skips, cmp_skip);
  for (size_t i = 0; i < w->n_skips; i++)
    if (i + 1 == w->n_skips || w->skips[i + 1].cs_id != w->skips[i].cs_id)
      total += w->skips[i].n;
  return total;
}

int work_queue_referrers(mvs_engine *e, int64_t cs_id, sync_work *w)
{
  return store_ref_referrer_mvs(e->st, cs_id, &w->mv_in) == STORE_OK ? 0 : -1;
}

/* Connector k's bit in sync_work.keyed_free. */
static uint64_t conn_bit(size_t k)
{
  return (uint64_t)1 << (k < 63 ? k : 63);
}

void work_note_free_keys(mvs_engine *e, sync_work *w, const conn_info *c)
{
  w->keyed_free |= conn_bit((size_t)(c - e->conns));
}

/* While the key tables are rebuilt, only the objects this sync evaluated have key rows: a
 * connector none of which was a disconnector then has none that could join (unless a link
 * was removed since). */
static bool no_free_keys(mvs_engine *e, const sync_work *w, size_t k)
{
  return e->rebuild_keys && !(w->keyed_free & conn_bit(k)) &&
         store_cs_unlinks(e->st) == w->keyed_unlinks;
}

int work_queue_key_matches(mvs_engine *e, const char *attr, const char *norm, sync_work *w)
{
  size_t k, r, g, cc;

  for (k = 0; k < e->n_conns; k++) {
    conn_info *c = &e->conns[k];
    int64_t cid;
    if (no_free_keys(e, w, k))
      continue;
    if (engine_conn_id(e, c, &cid) != 0)
      return -1;
    for (r = 0; r < c->n_in; r++)
      for (g = 0; g < c->in_rules[r]->n_join; g++)
        for (cc = 0; cc < c->in_rules[r]->join[g].n_conditions; cc++) {
          const join_condition *jc = &c->in_rules[r]->join[g].conditions[cc];
          if (strcasecmp(jc->mv_attr, attr) == 0 &&
              store_cs_key_find(e->st, cid, jc->cs_attr, norm, &w->cs) != STORE_OK)
            return -1;
        }
  }
  return 0;
}

int work_queue_key_rows_matches(mvs_engine *e, const ref_rows *keys, sync_work *w)
{
  size_t i;
  int rc = 0;
  for (i = 0; i < keys->n && rc == 0; i++)
    rc = work_queue_key_matches(e, keys->items[i].attr, keys->items[i].target_norm, w);
  return rc;
}

int work_queue_mv_key_matches(mvs_engine *e, int64_t mv_id, sync_work *w)
{
  ref_rows keys = {0};
  int rc = store_mv_key_list(e->st, mv_id, e->scratch2, &keys) == STORE_OK
               ? work_queue_key_rows_matches(e, &keys, w) : -1;
  ref_rows_free(&keys);
  return rc;
}
