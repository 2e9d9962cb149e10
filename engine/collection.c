/* collection — the metaverse objects the rule set's `collection` blocks keep: one object of
 * type `collection` per block (name, displayName, description, owner, purpose, and `member`
 * referencing the objects of its source type that its scope selects).  A full sync
 * recomputes every collection from every object of its source type; a delta sync moves only
 * the objects whose attributes changed in or out (a deleted object's references go with it).
 * Outbound rules then write a collection like any other metaverse object.
 * Semantics: docs/internals/collections.md.  Memory: per-object data lives in e->scratch2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/collection.h"
#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/flow.h"
#include "engine/label.h"
#include "engine/mv.h"
#include "engine/work.h"

#define PAGE 512

static const char member_attr[] = "member";

/* The attributes a collection's object has, from its block. */
static int collection_attrs(const rule_collection *col, attrset *s)
{
  const char *text[] = {col->name, col->name, col->description, col->owner, col->purpose};
  size_t i;

  for (i = 0; i < sizeof text / sizeof text[0]; i++)
    if (text[i] && attrset_set(s, rule_collection_attrs[i].name,
                               mvs_str_ref(text[i], strlen(text[i])), 0, NULL) != 0)
      return -1;
  return attrset_set(s, member_attr, mvs_null(), ATTR_REF | ATTR_MULTI, NULL);
}

/* Is the metaverse object (its attributes in blob) in the collection's scope? */
static int in_scope(mvs_engine *e, const rule_collection *col, const mv_row *mv, bool *yes)
{
  obj_view v;
  scope_env env;
  scope_verdict verdict;
  int rc = -1;

  *yes = false;
  if (view_load_mv(e, &v, mv, e->scratch2) != 0)
    return -1;
  env = view_scope_env(&v);
  if (rule_scope_eval(col, &env, &verdict) != 0)
    engine_errorf(e, "collection \"%s\": scope cannot be evaluated", col->name);
  else {
    *yes = verdict.in_scope;
    rc = 0;
  }
  view_free(&v);
  return rc;
}

/* The collection's object, created (and recorded) when it has none yet. */
static int collection_object(mvs_engine *e, const rule_collection *col, int64_t *mv_id,
                             bool *created)
{
  attrset s;
  buf blob;
  int rc = store_collection_get(e->st, col->name, mv_id);

  *created = false;
  if (rc != STORE_NOTFOUND)
    return rc == STORE_OK ? 0 : -1;
  attrset_init(&s, e->scratch2);
  buf_init(&blob, 0);
  rc = collection_attrs(col, &s) == 0 && attrset_encode(&s, &blob) == 0 &&
               store_mv_insert(e->st, RULE_COLLECTION_TYPE, blob.p, blob.len, mv_id) == STORE_OK &&
               store_collection_set(e->st, col->name, *mv_id) == STORE_OK
           ? 0 : -1;
  attrset_free(&s);
  buf_free(&blob);
  if (rc == 0) {
    *created = true;
    e->res->adds++;
  }
  return rc;
}

/* Bring the object's attributes (not its members) to what the block says. */
static int refresh_attrs(mvs_engine *e, const rule_collection *col, int64_t mv_id,
                         diff_entry *d, bool *changed)
{
  mv_row mv;
  attrset cur, want;
  buf blob;
  size_t i, j;
  int rc = -1;

  attrset_init(&cur, e->scratch2);
  attrset_init(&want, e->scratch2);
  buf_init(&blob, 0);
  if (store_mv_get(e->st, mv_id, e->scratch2, &mv) != STORE_OK ||
      attrset_decode(&cur, mv.attrs, mv.attrs_len) != 0 || collection_attrs(col, &want) != 0)
    goto out;
  for (i = 0, j = 0; i < cur.n || j < want.n;) {
    const attr_entry *a = i < cur.n ? &cur.items[i] : NULL, *b = j < want.n ? &want.items[j] : NULL;
    int c = !a ? 1 : !b ? -1 : strcasecmp(a->name, b->name);
    if (c != 0 || !attr_value_same(a->value, b->value) || a->flags != b->flags) {
      *changed = true;
      if (d && !((c <= 0 && (a->flags & ATTR_REF)) || (c >= 0 && (b->flags & ATTR_REF))))
        diff_change_add(e, d, c <= 0 ? a->name : b->name, c <= 0 ? a->value : mvs_null(),
                        c >= 0 ? b->value : mvs_null(), NULL);
    }
    i += c <= 0;
    j += c >= 0;
  }
  rc = 0;
  if (*changed && (attrset_encode(&want, &blob) != 0 ||
                   store_mv_update(e->st, mv_id, blob.p, blob.len) != STORE_OK))
    rc = -1;
out:
  attrset_free(&cur);
  attrset_free(&want);
  buf_free(&blob);
  return rc;
}

/* Every object of the collection's source type that its scope selects, by id. */
static int scan_members(mvs_engine *e, const rule_collection *col, id_list *want)
{
  id_list page = {0};
  int64_t after = 0;
  size_t i;
  int rc = -1;

  for (;;) {
    page.n = 0;
    if (store_mv_page_type(e->st, col->source_type, after, PAGE, &page) != STORE_OK)
      goto out;
    if (!page.n)
      break;
    for (i = 0; i < page.n; i++) {
      mv_row mv;
      bool yes;
      mvs_arena_reset(e->scratch2);
      if (store_mv_get(e->st, page.ids[i], e->scratch2, &mv) != STORE_OK ||
          in_scope(e, col, &mv, &yes) != 0 || (yes && id_list_add(want, mv.id) != 0))
        goto out;
    }
    after = page.ids[page.n - 1];
  }
  rc = 0;
out:
  id_list_free(&page);
  return rc;
}

/* Drop the objects of collections the rule set no longer has (deprovisioning what they
 * provisioned). */
static int drop_removed(mvs_engine *e, sync_work *w)
{
  ref_rows rows = {0};
  mvs_arena *a = mvs_arena_new(0);
  size_t i;
  int rc = -1;

  if (!a || store_collection_list(e->st, a, &rows) != STORE_OK)
    goto out;
  for (i = 0; i < rows.n; i++)
    if (!rule_set_collection(e->rs, rows.items[i].attr) &&
        (mv_delete(e, rows.items[i].target_mv, w) != 0 ||
         store_collection_delete(e->st, rows.items[i].target_mv) != STORE_OK))
      goto out;
  rc = 0;
out:
  ref_rows_free(&rows);
  if (a)
    mvs_arena_free(a);
  return rc;
}

int collection_sync_all(mvs_engine *e, sync_work *w)
{
  size_t i;

  if (drop_removed(e, w) != 0)
    return -1;
  for (i = 0; i < e->rs->n_collections; i++) {
    const rule_collection *col = &e->rs->collections[i];
    id_list want = {0};
    int64_t mv_id;
    bool created, changed = false;
    diff_entry *d = NULL;
    int rc;

    const char *label;

    mvs_arena_reset(e->scratch2);
    if (collection_object(e, col, &mv_id, &created) != 0 ||
        (e->diff && label_mv(e, mv_id, e->scratch2, &label) != 0))
      return -1;
    if (e->diff)
      d = diff_add(e, "metaverse", RULE_COLLECTION_TYPE, label, created ? "add" : "update", NULL);
    /* No outbound work to queue: the full sync's outbound pass takes every object next. */
    rc = refresh_attrs(e, col, mv_id, d, &changed) == 0 && scan_members(e, col, &want) == 0 &&
                 mv_write_refs(e, mv_id, member_attr, &want, d, &changed) == 0
             ? 0 : -1;
    id_list_free(&want);
    if (rc != 0 || ((changed || created) && id_list_add(&w->mv_changed, mv_id) != 0))
      return -1;
    if (changed && !created)
      e->res->updates++;
    if (d && !created && !d->n_changes)
      d->op = NULL;   /* nothing changed: dropped when rendered */
  }
  return 0;
}

int collection_sync_object(mvs_engine *e, const mv_row *mv, sync_work *w)
{
  size_t i;

  for (i = 0; i < e->rs->n_collections; i++) {
    const rule_collection *col = &e->rs->collections[i];
    int64_t coll_mv;
    bool yes;
    int rc;

    if (!col->source_type || strcasecmp(col->source_type, mv->object_type) != 0)
      continue;
    /* No object yet: the full sync that creates it fills it. */
    if ((rc = store_collection_get(e->st, col->name, &coll_mv)) == STORE_NOTFOUND)
      continue;
    if (rc != STORE_OK || in_scope(e, col, mv, &yes) != 0 ||
        (yes ? store_mv_ref_insert(e->st, coll_mv, member_attr, mv->id)
             : store_mv_ref_delete(e->st, coll_mv, member_attr, mv->id)) != STORE_OK)
      return -1;
    if (!store_changes(e->st))
      continue;
    /* One member in or out: its exports change by that value alone. */
    if (work_note_ref_change(w, coll_mv, member_attr, mv->id, yes) != 0 ||
        id_list_add(&w->mv_out_delta, coll_mv) != 0 || id_list_add(&w->mv_changed, coll_mv) != 0)
      return -1;
    e->res->updates++;
    if (e->diff) {
      const char *label, *coll_label;
      diff_entry *d;
      if (label_mv(e, coll_mv, e->scratch2, &coll_label) != 0)
        return -1;
      d = diff_add(e, "metaverse", RULE_COLLECTION_TYPE, coll_label, "update", NULL);
      if (label_mv(e, mv->id, e->scratch2, &label) == 0) {
        mvs_value lv = mvs_str_ref(label, strlen(label));
        diff_change_add(e, d, member_attr, yes ? mvs_null() : lv, yes ? lv : mvs_null(), NULL);
      }
    }
  }
  return 0;
}
