/* sync — full and delta sync drivers: which objects to visit, in what order, until no work
 * is left.  Both run the same work loop; full sync starts from every object, delta sync from
 * the objects with a pending import, so the two reach the same state (the delta ≡ full
 * invariant of docs/internals/engine.md).  Memory: work lists are the driver's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/collection.h"
#include "engine/engine_int.h"
#include "engine/sync.h"
#include "engine/sync_in.h"
#include "engine/sync_out.h"
#include "engine/work.h"

#define PAGE 512
#define MAX_ROUNDS 64
/* The page cache while a sync runs (store_set_cache).  A sync evaluates one object at a
 * time and reuses its pages within it; a delta sync's changed objects lie all over the
 * store.  At 1M users per directory, 10,000 changes took 30 % longer with 64 MiB than with
 * 16 (every page touched was fresh memory to fault in), a full sync the same. */
#define SYNC_CACHE_KIB 16384

/* Take a work list (sorted, unique), leaving an empty one to collect the next round. */
static id_list take(id_list *l)
{
  id_list t = *l;
  memset(l, 0, sizeof *l);
  id_list_sort_unique(&t);
  return t;
}

static int cmp_change(const void *a, const void *b)
{
  const ref_change *x = a, *y = b;
  return x->mv_id < y->mv_id ? -1 : x->mv_id > y->mv_id;
}

/* Outbound round: full evaluations first; objects whose only change is reference values
 * (and that no full evaluation covers) take those values. */
/* Between two objects: one more done (the progress line), and whether the deadline passed. */
static bool next_object(mvs_engine *e)
{
  engine_progress(e, 1);
  return engine_deadline_passed(e);
}

/* About how many objects a full sync visits: every connector-space object twice (joined
 * ones first), then every metaverse object outbound. */
static int full_sync_total(mvs_engine *e, int64_t *total)
{
  int64_t n, id;
  size_t i;
  *total = 0;
  for (i = 0; i < e->n_conns; i++) {
    if (engine_conn_id(e, &e->conns[i], &id) != 0 || store_cs_count(e->st, id, &n) != STORE_OK)
      return -1;
    *total += 2 * n;
  }
  if (store_mv_count(e->st, &n) != STORE_OK)
    return -1;
  *total += n;
  return 0;
}

static int out_round(mvs_engine *e, sync_work *w)
{
  id_list full = take(&w->mv_out), delta = take(&w->mv_out_delta);
  ref_change *ch = w->changes;
  size_t n_ch = w->n_changes, i, j = 0, k = 0;
  int rc = 0;

  w->changes = NULL;
  w->n_changes = w->cap_changes = 0;
  work_drift_ready(w);
  if (n_ch)
    qsort(ch, n_ch, sizeof *ch, cmp_change);
  for (i = 0; i < full.n && rc == 0; i++)
    rc = next_object(e) ? -1 : sync_out_mv(e, full.ids[i], w);
  for (i = 0; i < delta.n && rc == 0; i++) {
    size_t first;
    while (j < full.n && full.ids[j] < delta.ids[i])
      j++;
    while (k < n_ch && ch[k].mv_id < delta.ids[i])
      k++;
    for (first = k; k < n_ch && ch[k].mv_id == delta.ids[i]; k++)
      ;
    if (j < full.n && full.ids[j] == delta.ids[i])
      continue;
    rc = sync_out_mv_delta(e, delta.ids[i], ch + first, k - first, w);
  }
  id_list_free(&full);
  id_list_free(&delta);
  free(ch);
  return rc;
}

/* Inbound round: the joined objects and deletes, then the disconnectors.  The second pass
 * reads only the objects the first left to it, unless a link was removed meanwhile (an
 * object the first pass evaluated may then be a disconnector now). */
static int in_round(mvs_engine *e, sync_work *w)
{
  id_list batch = take(&w->cs), left = {0};
  const id_list *second;
  int64_t unlinks = store_cs_unlinks(e->st);
  size_t i;
  int rc = 0;

  for (i = 0; i < batch.n && rc == 0; i++) {
    bool other = false;
    rc = next_object(e) ? -1 : sync_in_cs(e, batch.ids[i], true, &other, w);
    if (rc == 0 && other)
      rc = id_list_add(&left, batch.ids[i]);
  }
  second = store_cs_unlinks(e->st) == unlinks ? &left : &batch;
  engine_progress(e, (int64_t)(batch.n - second->n));
  for (i = 0; i < second->n && rc == 0; i++)
    rc = next_object(e) ? -1 : sync_in_cs(e, second->ids[i], false, NULL, w);
  id_list_free(&batch);
  id_list_free(&left);
  return rc;
}

int sync_objects(mvs_engine *e, sync_work *w)
{
  size_t round = 0, i;
  int rc = 0;

  while (rc == 0 && (w->cs.n || w->mv_in.n || w->mv_out.n || w->mv_out_delta.n)) {
    id_list batch;
    if (++round > MAX_ROUNDS) {
      engine_errorf(e, "sync did not settle after %d rounds (rules that feed each other?)",
                    MAX_ROUNDS);
      return -1;
    }
    /* Inbound first, to the end (joins and projections may free disconnectors to join),
     * then outbound: exports see the settled metaverse. */
    if (w->cs.n) {
      rc = in_round(e, w);
      continue;
    }
    if (w->mv_in.n) {
      batch = take(&w->mv_in);
      for (i = 0; i < batch.n && rc == 0; i++)
        rc = next_object(e) ? -1 : sync_in_mv(e, batch.ids[i], 0, 0, w);
      id_list_free(&batch);
      continue;
    }
    rc = out_round(e, w);
  }
  return rc;
}

/* The join-key attribute sets, as one string: when it changes, the key tables are rebuilt. */
static int key_signature(mvs_engine *e, buf *b)
{
  size_t i, j;
  for (i = 0; i < e->n_mv_key_attrs; i++)
    buf_printf(b, "mv:%s;", e->mv_key_attrs[i]);
  for (i = 0; i < e->n_conns; i++)
    for (j = 0; j < e->conns[i].n_key_attrs; j++)
      buf_printf(b, "%s:%s;", e->conns[i].rc->name, e->conns[i].key_attrs[j]);
  return b->p ? 0 : buf_adds(b, "");
}

int sync_run(mvs_engine *e, bool full)
{
  sync_work w;
  id_list page = {0};
  buf sig;
  char *old_sig = NULL;
  size_t i;
  int64_t after;
  int rc = -1, pass;

  memset(&w, 0, sizeof w);
  buf_init(&sig, 0);
  store_set_cache(e->st, SYNC_CACHE_KIB);
  if (key_signature(e, &sig) != 0 || store_meta_get(e->st, "key_attrs", &old_sig) != STORE_OK)
    goto out;
  e->rebuild_keys = !old_sig || strcmp(old_sig, sig.p) != 0;
  w.keyed_unlinks = store_cs_unlinks(e->st);
  if (e->rebuild_keys && !full) {
    engine_logf(e, "%s: running a full sync",
                old_sig ? "join-key attributes changed" : "first sync of this store");
    full = true;
  }
  e->full_sync = full;
  if (e->rebuild_keys && (store_cs_key_clear(e->st) != STORE_OK ||
                          store_mv_key_clear(e->st) != STORE_OK))
    goto out;
  if (!full) {
    if (store_cs_pending(e->st, &w.cs) != STORE_OK)
      goto out;
    e->progress_total = 2 * (int64_t)w.cs.n;
    if (sync_objects(e, &w) != 0)
      goto out;
  } else {
    if ((e->progress && full_sync_total(e, &e->progress_total) != 0) ||
        store_full_sync_begin(e->st) != STORE_OK)
      goto out;
    e->refs_read = &w.refs_read;
    /* Every object in id (import) order, joined ones first, as a delta sync takes its
     * objects (sync_in_cs); then every metaverse object outbound, so inbound queues none. */
    w.out_all_later = true;
    for (pass = 0; pass < 2; pass++)
      for (after = 0;;) {
        page.n = 0;
        /* The first pass's objects only: a first full sync has none to read twice. */
        if (store_cs_page(e->st, after, PAGE, pass == 0, &page) != STORE_OK)
          goto out;
        if (!page.n)
          break;
        for (i = 0; i < page.n; i++)
          if (next_object(e) || sync_in_cs(e, page.ids[i], pass == 0, NULL, &w) != 0)
            goto out;
        after = page.ids[page.n - 1];
      }
    /* Finish inbound work; every metaverse object gets outbound below anyway. */
    if (sync_objects(e, &w) != 0)
      goto out;
    e->rebuild_keys = false;
    /* Collections over the settled metaverse; their objects go outbound with the rest. */
    if (collection_sync_all(e, &w) != 0)
      goto out;
    w.out_all_later = false;
    work_drift_ready(&w);
    for (after = 0;;) {
      page.n = 0;
      if (store_mv_page(e->st, after, PAGE, &page) != STORE_OK)
        goto out;
      if (!page.n)
        break;
      for (i = 0; i < page.n; i++)
        if (next_object(e) || sync_out_mv(e, page.ids[i], &w) != 0)
          goto out;
      after = page.ids[page.n - 1];
    }
    if (sync_objects(e, &w) != 0 || store_full_sync_end(e->st, true) != STORE_OK)
      goto out;
  }
  e->res->skipped_refs += work_skips_total(&w);
  engine_logf(e, "%s sync: %lld adds, %lld updates, %lld deletes, %lld errors, %lld "
              "references skipped (no object in the target connector), %lld drift (directory "
              "values the rules do not want, put back)",
              full ? "full" : "delta", (long long)e->res->adds, (long long)e->res->updates,
              (long long)e->res->deletes, (long long)e->res->errors,
              (long long)e->res->skipped_refs, (long long)e->res->drift);
  if (store_meta_set(e->st, "key_attrs", sig.p) != STORE_OK ||
      store_meta_set(e->st, "sync_ruleset_hash", e->ruleset_hash) != STORE_OK)
    goto out;
  rc = 0;
out:
  store_full_sync_end(e->st, false);
  e->refs_read = NULL;
  store_set_cache(e->st, STORE_CACHE_KIB);
  e->rebuild_keys = false;
  e->full_sync = false;
  free(old_sig);
  buf_free(&sig);
  id_list_free(&page);
  work_free(&w);
  return rc;
}
