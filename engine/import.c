/* import — a connector's import stream into the connector space: match by anchor, then by
 * DN; store attributes as one blob and references as rows (resolved to objects of the same
 * connector, or kept unresolved until the target arrives); set the pending-import state
 * (unchanged objects get none); a full import marks what it did not see as deleted.  The
 * whole import is one transaction: a malformed file rolls everything back.
 * Memory: per-object data lives in e->scratch, reset per object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/connect.h"
#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/import.h"
#include "schema/array.h"

typedef struct import_ctx {
  mvs_engine *e;
  conn_info *c;
  int64_t cid;
  bool full;
  bool store_failed;
  int64_t bad_objects;
  buf blob, norm;
  diff_entry *d;          /* dry runs: the object being imported */
} import_ctx;

/* One reference value as given by the directory. */
typedef struct ref_val {
  const char *attr, *key, *norm;
} ref_val;

typedef struct ref_vals {
  ref_val *items;
  size_t n, cap;
} ref_vals;

static bool is_ref_value(mvs_value v)
{
  return v.type == MVS_V_REF || (v.type == MVS_V_MV && v.u.mv.n && v.u.mv.items[0].type == MVS_V_REF);
}

static int fold_copy(import_ctx *ic, const char *p, size_t n, const char **out)
{
  buf_reset(&ic->norm);
  if (text_fold(p, n, &ic->norm) != 0)
    return -1;
  *out = mvs_arena_memdup(ic->e->scratch, ic->norm.p ? ic->norm.p : "", ic->norm.len);
  return *out ? 0 : -1;
}

static int ref_vals_add(import_ctx *ic, ref_vals *rv, const char *attr, mvs_value v)
{
  ref_val *r;
  if (array_reserve(&rv->items, &rv->cap, rv->n + 1, sizeof *rv->items) != 0)
    return -1;
  r = &rv->items[rv->n];
  r->attr = attr;
  if (!(r->key = mvs_arena_memdup(ic->e->scratch, v.u.s.p, v.u.s.n)) ||
      fold_copy(ic, v.u.s.p, v.u.s.n, &r->norm) != 0)
    return -1;
  rv->n++;
  return 0;
}

static int cmp_ref_val(const void *a, const void *b)
{
  const ref_val *x = a, *y = b;
  int c = strcmp(x->attr, y->attr);
  return c ? c : strcmp(x->norm, y->norm);
}

/* One reference value in and out, noted as a value delta for the next sync (and in a dry
 * run's diff). */
static int add_ref(import_ctx *ic, int64_t cs_id, const char *attr, const ref_val *r)
{
  store *st = ic->e->st;
  int64_t target;
  mvs_value v = mvs_str_ref(r->key, strlen(r->key));
  v.type = MVS_V_REF;
  diff_change_add(ic->e, ic->d, attr, mvs_null(), v, NULL);
  return store_ref_lookup(st, ic->cid, r->key, r->norm, &target) == STORE_OK &&
                 store_ref_insert(st, cs_id, attr, r->norm, r->key, target) == STORE_OK &&
                 store_ref_delta_note(st, cs_id, attr, r->norm, REF_ADDED, target) == STORE_OK
             ? 0 : -1;
}

static int remove_ref(import_ctx *ic, int64_t cs_id, const char *attr, const char *norm,
                      int64_t target)
{
  store *st = ic->e->st;
  mvs_value v = mvs_str_ref(norm, strlen(norm));
  v.type = MVS_V_REF;
  diff_change_add(ic->e, ic->d, attr, v, mvs_null(), NULL);
  return store_ref_delete(st, cs_id, attr, norm) == STORE_OK &&
                 store_ref_delta_note(st, cs_id, attr, norm, REF_REMOVED, target) == STORE_OK
             ? 0 : -1;
}

/* Make the reference rows of attr exactly `want` (sorted by norm).  *changed when any row
 * was added or removed. */
static int write_refs(import_ctx *ic, int64_t cs_id, const char *attr, const ref_val *want,
                      size_t n_want, bool *changed)
{
  mvs_engine *e = ic->e;
  ref_rows have = {0};
  size_t i = 0, j = 0;
  int rc = 0;

  if (store_ref_list(e->st, cs_id, attr, e->scratch, &have) != STORE_OK)
    return -1;
  while (rc == 0 && (i < have.n || j < n_want)) {
    int c = i >= have.n ? 1 : j >= n_want ? -1 : strcmp(have.items[i].target_norm, want[j].norm);
    if (c == 0) {
      i++;
      j++;
    } else if (c < 0) {
      rc = remove_ref(ic, cs_id, attr, have.items[i].target_norm, have.items[i].target_id);
      i++;
      *changed = true;
    } else {
      rc = add_ref(ic, cs_id, attr, &want[j]);
      j++;
      *changed = true;
    }
  }
  ref_rows_free(&have);
  return rc;
}

/* References of other objects waiting for this one (by anchor or DN) now resolve. */
static int resolve_waiting(import_ctx *ic, const cs_row *row)
{
  const char *n;
  if (row->anchor && (fold_copy(ic, row->anchor, strlen(row->anchor), &n) != 0 ||
                      store_ref_resolve(ic->e->st, ic->cid, n, row->id) != STORE_OK))
    return -1;
  if (row->dn && (fold_copy(ic, row->dn, strlen(row->dn), &n) != 0 ||
                  store_ref_resolve(ic->e->st, ic->cid, n, row->id) != STORE_OK))
    return -1;
  return 0;
}

/* A value as the declared syntax types it: directories such as LDAP deliver every value as
 * text, and scoping (numbers compare as numbers), flows and exports need the declared type.
 * Text that does not read as that type stays text. */
static int typed_value(import_ctx *ic, const rule_attr_decl *decl, mvs_value v, mvs_value *out)
{
  size_t i, n;
  mvs_value *items;

  *out = v;
  if (!decl || decl->syntax == RULE_SYN_STRING || decl->syntax == RULE_SYN_REFERENCE)
    return 0;
  if (v.type == MVS_V_MV) {
    n = v.u.mv.n;
    if (!(items = mvs_arena_alloc(ic->e->scratch, (n ? n : 1) * sizeof *items)))
      return -1;
    for (i = 0; i < n; i++)
      if (typed_value(ic, decl, v.u.mv.items[i], &items[i]) != 0)
        return -1;
    out->u.mv.items = items;
    return 0;
  }
  if (v.type != MVS_V_STR)
    return 0;
  switch (decl->syntax) {
  case RULE_SYN_INTEGER: {
    int64_t num;
    if (mvs_to_num(v, &num) == 0)
      *out = mvs_num(num);
    break;
  }
  case RULE_SYN_BOOLEAN: {
    bool b;
    if (mvs_to_bool(v, &b) == 0)
      *out = mvs_bool(b);
    break;
  }
  case RULE_SYN_DATETIME: {
    int64_t ticks;
    if (mvs_dt_parse_iso(v.u.s.p, v.u.s.n, &ticks) == 0)
      *out = mvs_dt(ticks);
    break;
  }
  default:
    break;
  }
  return 0;
}

/* A reference attribute the object carries; replace: its rows are the given values. */
typedef struct ref_attr {
  const char *name;
  bool replace;
} ref_attr;

typedef struct ref_attr_list {
  ref_attr *items;
  size_t n, cap;
} ref_attr_list;

static int apply_attrs(import_ctx *ic, const conn_object *o, attrset *set, ref_vals *refs,
                       ref_attr_list *ref_attrs)
{
  size_t i, j, k;
  bool whole = o->change == CONN_OBJ_FULL || o->change == CONN_OBJ_ADD;

  if (whole)
    attrset_clear(set);
  for (i = 0; i < o->n_attrs; i++) {
    const conn_attr *a = &o->attrs[i];
    const attr_entry *old = attrset_get(set, a->name, strlen(a->name));
    const rule_attr_decl *decl = engine_conn_attr(ic->c, a->name);
    bool ref = is_ref_value(a->value) || (old && (old->flags & ATTR_REF)) ||
               (decl && decl->syntax == RULE_SYN_REFERENCE);
    bool multi = a->value.type == MVS_V_MV || (decl && decl->multi) ||
                 (old && (old->flags & ATTR_MULTI));
    const char *name;
    ref_attr *ra;
    int op = whole ? CONN_ATTR_REPLACE : (int)a->op;
    mvs_value val;

    if (ref) {
      /* The placeholder says the attribute exists; its values are rows. */
      if (attrset_set(set, a->name, mvs_null(), ATTR_REF | (multi ? ATTR_MULTI : 0), NULL) != 0)
        return -1;
      name = attrset_get(set, a->name, strlen(a->name))->name;
      if (array_reserve(&ref_attrs->items, &ref_attrs->cap, ref_attrs->n + 1,
                        sizeof *ref_attrs->items) != 0)
        return -1;
      ra = &ref_attrs->items[ref_attrs->n];
      ra->name = name;
      /* A delete without values (LDIF "delete: member" alone) clears the attribute. */
      ra->replace = op == CONN_ATTR_REPLACE || (op == CONN_ATTR_DELETE && mvs_count(a->value) == 0);
      /* refs[op]: REPLACE values become the attribute's rows, ADD / DELETE edit them. */
      for (j = 0; j < mvs_count(a->value); j++) {
        mvs_value v = mvs_item(a->value, j);
        if ((v.type == MVS_V_REF || v.type == MVS_V_STR) &&
            ref_vals_add(ic, &refs[op], name, v) != 0)
          return -1;
      }
      ref_attrs->n++;
      continue;
    }
    if (typed_value(ic, decl, a->value, &val) != 0)
      return -1;
    if (a->op == CONN_ATTR_REPLACE || whole) {
      if (attrset_set(set, a->name, val, multi ? ATTR_MULTI : 0, NULL) != 0)
        return -1;
    } else {
      /* Value-level delta on a non-reference attribute. */
      mvs_value cur = old ? old->value : mvs_null();
      size_t cn = mvs_count(cur), an = mvs_count(val), m = 0;
      mvs_value *items = mvs_arena_alloc(ic->e->scratch, (cn + an + 1) * sizeof *items), nv;
      if (!items)
        return -1;
      for (j = 0; j < cn; j++) {
        bool drop = false;
        for (k = 0; a->op == CONN_ATTR_DELETE && k < an && !drop; k++)
          drop = attr_value_same(mvs_item(cur, j), mvs_item(val, k));
        if (!drop && !(a->op == CONN_ATTR_DELETE && an == 0))
          items[m++] = mvs_item(cur, j);
      }
      for (k = 0; a->op == CONN_ATTR_ADD && k < an; k++) {
        for (j = 0; j < m && !attr_value_same(items[j], mvs_item(val, k)); j++)
          ;
        if (j == m)
          items[m++] = mvs_item(val, k);
      }
      /* An LDAP "add:" of a single-valued attribute's only value leaves it single-valued. */
      nv = mvs_null();
      if (m == 1 && !multi) {
        nv = items[0];
      } else if (m) {
        nv.type = MVS_V_MV;
        nv.u.mv.items = items;
        nv.u.mv.n = m;
      }
      if (attrset_set(set, a->name, nv, multi || m > 1 ? ATTR_MULTI : 0, NULL) != 0)
        return -1;
    }
  }
  return 0;
}

/* Dry runs: an attribute change of one imported object (references are added by add_ref /
 * remove_ref as they happen). */
static void diff_attr(void *u, const attr_entry *a, const attr_entry *b)
{
  import_ctx *ic = u;
  if (!((a && (a->flags & ATTR_REF)) || (b && (b->flags & ATTR_REF))))
    diff_change_add(ic->e, ic->d, a ? a->name : b->name, a ? a->value : mvs_null(),
                    b ? b->value : mvs_null(), NULL);
}

/* The attributes an import changed (cs_row.changed_attrs). */
static void note_changed_attr(void *u, const attr_entry *a, const attr_entry *b)
{
  const char *name = a ? a->name : b->name;
  *(uint64_t *)u |= attr_name_bit(name, strlen(name));
}

/* One object of the import stream being written to the connector space. */
typedef struct import_obj {
  const conn_object *o;
  cs_row old;               /* the object it matched, when found */
  cs_row row;               /* what it is now */
  bool found;
  bool changed;             /* values, DN, type or reference rows differ from old */
  const char *dn_key;       /* the folded DN, NULL for none */
  attrset set, old_set;
  ref_vals refs[3];         /* reference values by CONN_ATTR_REPLACE / _ADD / _DELETE */
  ref_attr_list ref_attrs;  /* the reference attributes it carries */
} import_obj;

/* Match by anchor, then by DN: x->found and x->old.  A DN match with another anchor is a
 * new object: the old one is marked deleted. */
static int import_match(import_ctx *ic, import_obj *x)
{
  mvs_engine *e = ic->e;
  const conn_object *o = x->o;
  int q;

  q = o->anchor ? store_cs_by_anchor(e->st, ic->cid, o->anchor, e->scratch, &x->old)
                : STORE_NOTFOUND;
  if (q == STORE_NOTFOUND && x->dn_key) {
    q = store_cs_by_dn(e->st, ic->cid, x->dn_key, e->scratch, &x->old);
    if (q == STORE_OK && x->old.anchor && o->anchor && strcmp(x->old.anchor, o->anchor) != 0) {
      /* Same DN, another anchor: the old object is gone, this is a new one. */
      if (x->old.import_state != IMPORT_DELETE &&
          store_cs_set_state(e->st, x->old.id, IMPORT_DELETE) != STORE_OK)
        return -1;
      e->res->deletes++;
      q = STORE_NOTFOUND;
    }
  }
  if (q == STORE_ERR)
    return -1;
  x->found = q == STORE_OK;
  return 0;
}

/* The row the object is now, compared with the one it matched (x->changed, the import
 * state), or inserted when new. */
static int import_row(import_ctx *ic, import_obj *x)
{
  mvs_engine *e = ic->e;
  const conn_object *o = x->o;
  const cs_row *old = &x->old;
  cs_row *row = &x->row;
  bool found = x->found;

  memset(row, 0, sizeof *row);
  row->connector = ic->cid;
  row->anchor = o->anchor ? o->anchor : found ? old->anchor : NULL;
  row->dn = o->dn ? o->dn : found ? old->dn : NULL;
  row->object_type = o->object_type ? o->object_type : found ? old->object_type : "object";
  row->attrs = ic->blob.p;
  row->attrs_len = ic->blob.len;
  row->present = 1;
  if (!x->dn_key && row->dn && fold_copy(ic, row->dn, strlen(row->dn), &x->dn_key) != 0)
    return -1;
  if (!found) {
    row->import_state = IMPORT_ADD;
    if (store_cs_insert(e->st, row, x->dn_key) != STORE_OK)
      return -1;
    e->res->adds++;
    return 0;
  }
  row->id = old->id;
  /* Other objects' exports name it by DN: the sync re-evaluates them. */
  row->renamed = old->renamed || (row->dn && old->dn && strcmp(old->dn, row->dn) != 0);
  /* Changed since the last sync: what earlier imports changed and what this one does (the
   * reference rows add theirs as they are written, import_refs). */
  row->changed_attrs = old->changed_attrs;
  attrset_changes(&x->old_set, &x->set, note_changed_attr, &row->changed_attrs);
  if (row->dn && (!old->dn || strcmp(old->dn, row->dn) != 0))
    row->changed_attrs |= attr_name_bit("dn", 2);
  x->changed = old->attrs_len != row->attrs_len ||
               memcmp(old->attrs, row->attrs, row->attrs_len) != 0 || !old->present ||
               (old->anchor == NULL) != (row->anchor == NULL) ||
               (row->dn && (!old->dn || strcmp(old->dn, row->dn) != 0)) ||
               strcmp(old->object_type, row->object_type) != 0;
  /* Another object type under the same anchor is Connect's Delete/Add: sync drops the
   * old object's join and evaluates it as new (an object never synced stays an add). */
  row->import_state = old->import_state == IMPORT_ADD ? IMPORT_ADD
                      : old->import_state == IMPORT_DELETE_ADD ||
                              strcasecmp(old->object_type, row->object_type) != 0
                          ? IMPORT_DELETE_ADD
                          : IMPORT_UPDATE;
  return 0;
}

/* Reference rows of attr changed (changed: whether they did). */
static void refs_changed(import_obj *x, const char *attr, bool changed)
{
  if (!changed)
    return;
  x->changed = true;
  x->row.changed_attrs |= attr_name_bit(attr, strlen(attr));
}

/* Reference rows: whole attributes replaced, value-level deltas applied, and the reference
 * attributes a whole object no longer has emptied. */
static int import_refs(import_ctx *ic, import_obj *x)
{
  mvs_engine *e = ic->e;
  const ref_vals *rep = &x->refs[CONN_ATTR_REPLACE];
  int64_t id = x->row.id, target;
  size_t i, j;
  int q;

  for (i = 0; i < 3; i++)
    if (x->refs[i].n)
      qsort(x->refs[i].items, x->refs[i].n, sizeof *x->refs[i].items, cmp_ref_val);
  for (i = 0; i < x->ref_attrs.n; i++) {
    const char *attr = x->ref_attrs.items[i].name;
    size_t s, n;
    bool changed = false;
    if (!x->ref_attrs.items[i].replace)
      continue;
    for (s = 0; s < rep->n && strcmp(rep->items[s].attr, attr) != 0; s++)
      ;
    for (n = 0; s + n < rep->n && strcmp(rep->items[s + n].attr, attr) == 0; n++)
      ;
    if (write_refs(ic, id, attr, rep->items + s, n, &changed) != 0)
      return -1;
    refs_changed(x, attr, changed);
  }
  for (j = 0; j < x->refs[CONN_ATTR_ADD].n; j++) {
    ref_val *r = &x->refs[CONN_ATTR_ADD].items[j];
    if ((q = store_ref_get(e->st, id, r->attr, r->norm, &target)) == STORE_OK)
      continue;
    if (q != STORE_NOTFOUND || add_ref(ic, id, r->attr, r) != 0)
      return -1;
    refs_changed(x, r->attr, true);
  }
  for (j = 0; j < x->refs[CONN_ATTR_DELETE].n; j++) {
    ref_val *r = &x->refs[CONN_ATTR_DELETE].items[j];
    if ((q = store_ref_get(e->st, id, r->attr, r->norm, &target)) == STORE_NOTFOUND)
      continue;
    if (q != STORE_OK || remove_ref(ic, id, r->attr, r->norm, target) != 0)
      return -1;
    refs_changed(x, r->attr, true);
  }
  if (x->found && x->o->change != CONN_OBJ_UPDATE)
    for (i = 0; i < x->old_set.n; i++) {
      const attr_entry *a = &x->old_set.items[i];
      bool changed = false;
      if ((a->flags & ATTR_REF) && !attrset_get(&x->set, a->name, strlen(a->name))) {
        if (write_refs(ic, id, a->name, NULL, 0, &changed) != 0)
          return -1;
        refs_changed(x, a->name, changed);
      }
    }
  return 0;
}

/* Both NULL, or the same bytes. */
static bool same_text(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* What the import of a matched or new object leaves for the sync: its pending import
 * state, references waiting for it resolved, a sent export re-checked, a full import's
 * seen mark. */
static int import_settle(import_ctx *ic, import_obj *x)
{
  mvs_engine *e = ic->e;
  const cs_row *old = &x->old, *row = &x->row;
  bool found = x->found, changed = x->changed;

  /* A group renamed into or out of a DN that ISMEMBEROF scopes name: every member's
   * membership changed, so every value counts as changed for the next sync. */
  if (found && changed && row->dn && old->dn && strcmp(old->dn, row->dn) != 0 &&
      (engine_member_group(ic->c, old->dn) || engine_member_group(ic->c, row->dn)) &&
      store_ref_delta_touch(e->st, row->id) != STORE_OK)
    return -1;
  if (found && changed) {
    bool names_changed = !same_text(old->anchor, row->anchor) || !same_text(old->dn, row->dn) ||
                         strcmp(old->object_type, row->object_type) != 0;
    if (store_cs_update_import(e->st, row, x->dn_key, names_changed) != STORE_OK)
      return -1;
    if (old->import_state != IMPORT_ADD)
      e->res->updates++;
  } else if (found && old->import_state == IMPORT_DELETE) {
    /* Marked deleted earlier but back (unchanged): an update for sync to re-evaluate. */
    if (store_cs_set_state(e->st, row->id, IMPORT_UPDATE) != STORE_OK)
      return -1;
  }
  if (ic->d && found && !changed)
    ic->d->op = NULL;   /* unchanged: dropped when rendered */
  if ((!found || changed) && resolve_waiting(ic, row) != 0)
    return -1;
  /* A confirming import: a sent export is re-checked by the next sync. */
  if (found && store_pe_unsend(e->st, row->id) != STORE_OK)
    return -1;
  if (ic->full && store_seen_add(e->st, row->id) != STORE_OK)
    return -1;
  return 0;
}

/* The steps, in order: match; a delete marks the match deleted; else the values (an update
 * starts from the matched ones), the row, the reference rows, the state left for sync. */
static int import_object(import_ctx *ic, const conn_object *o)
{
  mvs_engine *e = ic->e;
  import_obj x;
  size_t i;
  int rc = -1;

  mvs_arena_reset(e->scratch);
  diff_flush(e);   /* an object boundary; a lost entry fails the run at its end */
  memset(&x, 0, sizeof x);
  x.o = o;
  attrset_init(&x.set, e->scratch);
  attrset_init(&x.old_set, e->scratch);
  if (!o->anchor && !o->dn) {
    if (ic->e->res)
      ic->bad_objects++;
    engine_logf(e, "warning: %s: object without anchor or DN skipped",
                o->origin ? o->origin : ic->c->rc->name);
    return 0;
  }
  if ((o->dn && fold_copy(ic, o->dn, strlen(o->dn), &x.dn_key) != 0) || import_match(ic, &x) != 0)
    goto out;
  ic->d = NULL;
  if (o->change == CONN_OBJ_DELETE) {
    if (x.found && x.old.import_state != IMPORT_DELETE) {
      diff_add(e, "import", ic->c->rc->name, x.old.dn ? x.old.dn : x.old.anchor, "delete", NULL);
      if (store_cs_set_state(e->st, x.old.id, IMPORT_DELETE) != STORE_OK)
        goto out;
      e->res->deletes++;
    }
    rc = 0;
    goto out;
  }
  if ((x.found && attrset_decode(&x.old_set, x.old.attrs, x.old.attrs_len) != 0) ||
      (x.found && o->change == CONN_OBJ_UPDATE &&
       attrset_decode(&x.set, x.old.attrs, x.old.attrs_len) != 0) ||
      apply_attrs(ic, o, &x.set, x.refs, &x.ref_attrs) != 0)
    goto out;
  buf_reset(&ic->blob);
  if (attrset_encode(&x.set, &ic->blob) != 0)
    goto out;
  if (e->diff) {
    /* A renamed object shows as "update OLD_DN (NEW_DN)". */
    const char *label = x.found && x.old.dn ? x.old.dn : o->dn ? o->dn : o->anchor;
    ic->d = diff_add(e, "import", ic->c->rc->name, label, x.found ? "update" : "add",
                     x.found && o->dn && x.old.dn && strcmp(o->dn, x.old.dn) != 0 ? o->dn : NULL);
    attrset_changes(&x.old_set, &x.set, diff_attr, ic);
  }
  if (import_row(ic, &x) != 0 || import_refs(ic, &x) != 0 || import_settle(ic, &x) != 0)
    goto out;
  rc = 0;
out:
  for (i = 0; i < 3; i++)
    free(x.refs[i].items);
  free(x.ref_attrs.items);
  attrset_free(&x.set);
  attrset_free(&x.old_set);
  return rc;
}
static int sink_object(void *u, const conn_object *o)
{
  import_ctx *ic = u;
  if (engine_deadline_passed(ic->e))
    return 1;
  if (import_object(ic, o) != 0) {
    ic->store_failed = true;
    return 1;
  }
  engine_progress(ic->e, 1);
  return 0;
}

static void sink_object_error(void *u, const char *origin, const char *message)
{
  import_ctx *ic = u;
  ic->bad_objects++;
  ic->e->res->errors++;
  engine_logf(ic->e, "error: %s: %s", origin ? origin : ic->c->rc->name, message);
}

static void sink_log(void *u, const char *message)
{
  import_ctx *ic = u;
  engine_logf(ic->e, "%s: %s", ic->c->rc->name, message);
}

/* conn_sink.lookup: an object the directory held as last imported, by DN or anchor.  The
 * strings live in e->scratch, which the next object or lookup resets. */
static int sink_lookup(void *u, const char *dn, const char *anchor, conn_found *out)
{
  import_ctx *ic = u;
  int r;

  mvs_arena_reset(ic->e->scratch);
  if ((r = connector_cs_lookup(ic->e->st, ic->cid, dn, anchor, ic->e->scratch, &ic->norm, out)) < 0)
    ic->store_failed = true;
  return r;
}

/* Dry runs: the objects a full import did not see, which it marks deleted. */
static int diff_unseen(import_ctx *ic, const id_list *ids)
{
  size_t i;
  for (i = 0; i < ids->n; i++) {
    cs_row cs;
    mvs_arena_reset(ic->e->scratch);
    diff_flush(ic->e);
    if (store_cs_get(ic->e->st, ids->ids[i], ic->e->scratch, &cs) != STORE_OK)
      return -1;
    diff_add(ic->e, "import", ic->c->rc->name, cs.dn ? cs.dn : cs.anchor, "delete", NULL);
  }
  return 0;
}

/* The import guard (docs/safety.md): a full import that did not see all of a non-empty
 * connector space, or more than import-delete-threshold percent of it, is an empty or
 * partial answer until someone says otherwise.  live: objects before the import; unseen: the
 * objects it would mark deleted.  1 when it stops (the reason logged), 0, or -1. */
static int import_guard(import_ctx *ic, const id_list *unseen, int64_t live, const run_opts *o)
{
  mvs_engine *e = ic->e;
  const conn_info *c = ic->c;
  int64_t removed = (int64_t)unseen->n;
  buf msg;
  size_t i, shown = unseen->n < 5 ? unseen->n : 5;
  int rc = -1;

  if (o->allow_mass_delete || live <= 0 || removed <= 0 ||
      (removed < live && (c->import_delete_pct <= 0 || removed * 100 <= c->import_delete_pct * live)))
    return 0;
  buf_init(&msg, 0);
  buf_printf(&msg, "%s: full import stopped: it would delete %lld of the %lld objects of the "
             "connector space (%lld%%), ", c->rc->name, (long long)removed, (long long)live,
             (long long)(removed * 100 / live));
  if (removed >= live)
    buf_adds(&msg, "all of them");
  else
    buf_printf(&msg, "more than import-delete-threshold %lld%%", (long long)c->import_delete_pct);
  buf_adds(&msg, "; nothing was imported and nothing downstream ran. An empty or partial answer "
           "(a lost permission, a wrong base or filter, an empty file) looks like this.");
  for (i = 0; i < shown; i++) {
    cs_row cs;
    attrset set;
    const attr_entry *name;
    const char *p;
    size_t n;
    mvs_arena_reset(e->scratch);
    attrset_init(&set, e->scratch);
    if (store_cs_get(e->st, unseen->ids[i], e->scratch, &cs) != STORE_OK ||
        attrset_decode(&set, cs.attrs, cs.attrs_len) != 0) {
      attrset_free(&set);
      goto out;
    }
    buf_printf(&msg, "%s %s", i ? ";" : " Would delete:", cs.dn ? cs.dn : cs.anchor);
    /* An Entra object's DN is its id: its name says more to a person. */
    name = attrset_get(&set, "displayName", strlen("displayName"));
    if (name && attr_value_text(e->scratch, name->value, &p, &n) == 0 && n)
      buf_printf(&msg, " (%.*s)", (int)n, p);
    attrset_free(&set);
  }
  if (unseen->n > shown)
    buf_printf(&msg, " (and %zu more)", unseen->n - shown);
  buf_printf(&msg, ". If the deletes are intended, rerun with --allow-mass-delete (or raise "
             "import-delete-threshold of connector \"%s\")", c->rc->name);
  engine_logf(e, "%s", msg.p);
  engine_errorf(e, "%s", msg.p);
  rc = 1;
out:
  buf_free(&msg);
  return rc;
}

int import_run(mvs_engine *e, conn_info *c, bool full, const run_opts *o)
{
  open_connector oc;
  import_ctx ic;
  conn_sink sink = {sink_object, sink_object_error, sink_log, NULL, sink_lookup};
  char *wm = NULL, *new_wm = NULL, *err = NULL;
  id_list unseen = {0};
  int rc, crc, stop;
  int64_t marked = 0, live = 0;

  memset(&ic, 0, sizeof ic);
  ic.e = e;
  ic.c = c;
  buf_init(&ic.blob, 0);
  buf_init(&ic.norm, 0);
  sink.u = &ic;
  if ((rc = connector_open_for(e, c, &oc)) != ENGINE_OK)
    goto out_noconn;
  rc = ENGINE_SYSTEM;
  if (engine_tx_begin(e) != STORE_OK) {
    engine_errorf(e, "cannot begin a transaction: %s", store_errmsg(e->st));
    goto out;
  }
  if (engine_conn_id(e, c, &ic.cid) != 0 || (!full && store_watermark_get(e->st, ic.cid, &wm) != STORE_OK))
    goto fail;
  if (!full && !wm) {
    engine_logf(e, "%s: no watermark yet: running a full import", c->rc->name);
    full = true;
  }
  for (;;) {
    ic.full = full;
    /* The import guard's base: what the directory held before this full import. */
    if (full && (store_seen_reset(e->st) != STORE_OK ||
                 store_cs_count_live(e->st, ic.cid, &live) != STORE_OK))
      goto fail;
    /* A full import reads about what the connector space holds. */
    e->progress_total = full && live ? live : -1;
    crc = oc.ops->import(oc.conn, full ? CONN_IMPORT_FULL : CONN_IMPORT_DELTA, full ? NULL : wm,
                         &sink, &new_wm, &err);
    if (crc == CONN_ERR_WATERMARK && !full) {
      engine_logf(e, "%s: watermark rejected (%s): running a full import", c->rc->name,
                  err ? err : "no reason given");
      free(err);
      err = NULL;
      full = true;
      continue;
    }
    break;
  }
  /* Past the deadline, even a finished import is not committed: the run is an error. */
  if (engine_deadline_passed(e))
    goto fail;
  if (ic.store_failed) {
    engine_errorf(e, "%s: store error during import: %s", c->rc->name, store_errmsg(e->st));
    goto fail;
  }
  if (crc != CONN_OK) {
    engine_errorf(e, "%s: import failed: %s", c->rc->name, err ? err : "connector error");
    rc = crc == CONN_ERR_TIMEOUT                          ? ENGINE_TIMEOUT
         : crc == CONN_ERR_DATA || crc == CONN_ERR_CONFIG ? ENGINE_INVALID
                                                          : ENGINE_SYSTEM;
    goto fail;
  }
  if (full && store_cs_unseen(e->st, ic.cid, &unseen) != STORE_OK)
    goto fail;
  if (full && e->diff && diff_unseen(&ic, &unseen) != 0)
    goto fail;
  if (full && (stop = import_guard(&ic, &unseen, live, o))) {
    rc = stop > 0 ? ENGINE_IMPORT_STOPPED : ENGINE_SYSTEM;
    goto fail;
  }
  if (full && store_cs_mark_unseen(e->st, ic.cid, &marked) != STORE_OK)
    goto fail;
  e->res->deletes += marked;
  if (store_watermark_set(e->st, ic.cid, new_wm) != STORE_OK)
    goto fail;
  if (engine_tx_commit(e) != STORE_OK) {
    engine_errorf(e, "cannot commit: %s", store_errmsg(e->st));
    goto fail;
  }
  engine_logf(e, "%s: %s import: %lld adds, %lld updates, %lld deletes, %lld bad objects",
              c->rc->name, full ? "full" : "delta", (long long)e->res->adds,
              (long long)e->res->updates, (long long)e->res->deletes, (long long)ic.bad_objects);
  e->import_was_full = full;
  rc = ENGINE_OK;
  goto out;
fail:
  engine_tx_rollback(e);
out:
  connector_close_for(&oc);
out_noconn:
  id_list_free(&unseen);
  free(wm);
  free(new_wm);
  free(err);
  buf_free(&ic.blob);
  buf_free(&ic.norm);
  return rc;
}
