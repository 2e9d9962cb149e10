/* sync_out — outbound synchronization of one metaverse object: per target connector, scope
 * the outbound rules; join (rule join conditions, then reverse join by DN) or provision with
 * the DN the rule computes; compute export attribute flow and compare it with the
 * connector-space object's imported values, staging value-level pending exports; deprovision
 * objects no Provision rule keeps.  Semantics: docs/internals/engine.md, "Outbound".
 * Memory: per-object data lives in e->scratch, reset per metaverse object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/shape.h"
#include "engine/connect.h"
#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/flow.h"
#include "engine/label.h"
#include "engine/mv.h"
#include "engine/sync_in.h"
#include "engine/sync_out.h"
#include "engine/work.h"
#include "rules/expr.h"
#include "schema/array.h"

static const char *const rdn_attrs[] = {"cn", "ou", "o", "uid"};

/* The DN the rules give the object: a flow to `dn`, or an RDN attribute (cn, ou, o, uid)
 * plus `parentDistinguishedName`.  *dn NULL when the rules give none; *rdn_attr the
 * attribute the RDN comes from (NULL for `dn`). */
static int out_dn(mvs_engine *e, const merged_set *ms, const char **dn, const char **rdn_attr)
{
  const merged *m = merged_get(ms, "dn"), *parent;
  const char *p, *pp;
  size_t n, pn, i;
  buf b;

  *dn = NULL;
  *rdn_attr = NULL;
  if (m && m->state == MERGED_VALUE && !m->is_ref) {
    if (attr_value_text(e->scratch, m->val, &p, &n) != 0)
      return -1;
    *dn = mvs_arena_memdup(e->scratch, p, n);
    return *dn ? 0 : -1;
  }
  parent = merged_get(ms, "parentDistinguishedName");
  if (!parent || parent->state != MERGED_VALUE ||
      attr_value_text(e->scratch, parent->val, &pp, &pn) != 0)
    return 0;
  for (i = 0; i < sizeof rdn_attrs / sizeof rdn_attrs[0]; i++) {
    m = merged_get(ms, rdn_attrs[i]);
    if (!m || m->state != MERGED_VALUE || m->is_ref || attr_value_text(e->scratch, m->val, &p, &n) != 0)
      continue;
    buf_init(&b, BUF_CAP_DN);
    if (strcmp(rdn_attrs[i], "uid") == 0)
      buf_adds(&b, "uid=");
    else {
      size_t k;
      for (k = 0; rdn_attrs[i][k]; k++)
        buf_addc(&b, (char)(rdn_attrs[i][k] - 'a' + 'A'));
      buf_addc(&b, '=');
    }
    dn_escape_value(&b, p, n);
    buf_addc(&b, ',');
    buf_add(&b, pp, pn);
    *dn = b.p ? mvs_arena_memdup(e->scratch, b.p, b.len) : NULL;
    *rdn_attr = m->attr;
    buf_free(&b);
    return *dn ? 0 : -1;
  }
  return 0;
}

static bool is_dn_attr(const char *name, const char *rdn_attr, bool present)
{
  return strcasecmp(name, "dn") == 0 || strcasecmp(name, "parentDistinguishedName") == 0 ||
         (present && rdn_attr && strcasecmp(name, rdn_attr) == 0);
}

/* ---- pending export values ---- */

typedef struct pe_builder {
  mvs_engine *e;
  pe_values vals;
  diff_entry *d;
  const obj_view *cur; /* the imported values: what a REPLACE replaces, shown in the diff */
  const char *rule;    /* the rule that decided the attribute being staged (diff) */
  buf tmp;
} pe_builder;

static int pe_add(pe_builder *pb, const char *attr, int mode, mvs_value v)
{
  pe_value_row *row;
  if (array_reserve(&pb->vals.items, &pb->vals.cap, pb->vals.n + 1, sizeof *pb->vals.items) != 0)
    return -1;
  row = &pb->vals.items[pb->vals.n];
  row->attr = attr;
  row->mode = mode;
  row->value = NULL;
  row->value_len = 0;
  if (v.type != MVS_V_NULL) {
    buf_reset(&pb->tmp);
    if (attr_value_encode(v, &pb->tmp) != 0 ||
        !(row->value = mvs_arena_memdup(pb->e->scratch, pb->tmp.p, pb->tmp.len)))
      return -1;
    row->value_len = pb->tmp.len;
  }
  pb->vals.n++;
  if (pb->d) {
    mvs_value old_v = mode == PE_VDELETE ? v : mvs_null();
    /* A REPLACE (its first value row) replaces what the directory holds. */
    bool first = pb->vals.n < 2 || pb->vals.items[pb->vals.n - 2].mode != PE_REPLACE ||
                 strcmp(pb->vals.items[pb->vals.n - 2].attr, attr) != 0;
    if (mode == PE_REPLACE && first && pb->cur) {
      const attr_entry *ae = attrset_get(&pb->cur->attrs, attr, strlen(attr));
      if (ae)
        old_v = ae->value;
    }
    diff_change_add(pb->e, pb->d, attr, old_v, mode == PE_VDELETE ? mvs_null() : v, pb->rule);
  }
  return 0;
}

/* A reference target's DN as a REF value. */
static int target_dn(mvs_engine *e, int64_t cs_id, mvs_value *out)
{
  cs_row t;
  if (store_cs_get(e->st, cs_id, e->scratch, &t) != STORE_OK || !t.dn)
    return -1;
  *out = mvs_str_ref(t.dn, strlen(t.dn));
  out->type = MVS_V_REF;
  return 0;
}

static int stage_ref_attr(pe_builder *pb, obj_view *cur, const merged *m, const char *attr,
                          bool present, bool multi)
{
  mvs_engine *e = pb->e;
  const ref_rows *rr = view_refs(cur);
  id_list have = {0};
  size_t i, j;
  int rc = -1;
  mvs_value v;
  bool differs = false;

  if (!rr)
    return -1;
  for (i = 0; i < rr->n; i++)
    if (strcasecmp(rr->items[i].attr, attr) == 0 && id_list_add(&have, rr->items[i].target_id) != 0)
      goto out;
  id_list_sort_unique(&have);
  if (!present || !multi) {
    /* An add, or a single-valued reference (manager): replace when different. */
    differs = !present ? m->refs.n > 0 : have.n != m->refs.n;
    for (i = 0; !differs && i < have.n; i++)
      differs = have.ids[i] != m->refs.ids[i];
    for (i = 0; differs && i < m->refs.n; i++)
      if (target_dn(e, m->refs.ids[i], &v) != 0 || pe_add(pb, attr, PE_REPLACE, v) != 0)
        goto out;
    if (differs && !m->refs.n && pe_add(pb, attr, PE_REPLACE, mvs_null()) != 0)
      goto out;
    rc = 0;
    goto out;
  }
  /* Value-level changes: one row per member added or removed. */
  for (i = 0, j = 0; i < have.n || j < m->refs.n;) {
    int64_t h = i < have.n ? have.ids[i] : INT64_MAX, w = j < m->refs.n ? m->refs.ids[j] : INT64_MAX;
    if (h == w) {
      i++;
      j++;
    } else if (h < w) {
      i++;
      if (h == 0)
        continue;   /* unresolved values: handled below */
      if (target_dn(e, h, &v) != 0 || pe_add(pb, attr, PE_VDELETE, v) != 0)
        goto out;
    } else {
      j++;
      if (target_dn(e, w, &v) != 0 || pe_add(pb, attr, PE_VADD, v) != 0)
        goto out;
    }
  }
  /* Values that name nothing mvsync knows are not in the metaverse: removed. */
  for (i = 0; i < rr->n; i++)
    if (!rr->items[i].target_id && strcasecmp(rr->items[i].attr, attr) == 0) {
      v = mvs_str_ref(rr->items[i].target_key, strlen(rr->items[i].target_key));
      v.type = MVS_V_REF;
      if (pe_add(pb, attr, PE_VDELETE, v) != 0)
        goto out;
    }
  rc = 0;
out:
  id_list_free(&have);
  return rc;
}

static int stage_value_attr(pe_builder *pb, obj_view *cur, const merged *m, const char *attr,
                            bool present, bool multi)
{
  const attr_entry *ae = attrset_get(&cur->attrs, attr, strlen(attr));
  mvs_value want = m->state == MERGED_VALUE ? m->val : mvs_null();
  mvs_value have = ae ? ae->value : mvs_null();
  size_t i, j;

  if (!present) {
    for (i = 0; i < mvs_count(want); i++)
      if (pe_add(pb, attr, PE_REPLACE, mvs_item(want, i)) != 0)
        return -1;
    return 0;
  }
  if (!multi) {
    if (attr_value_same(want.type == MVS_V_MV && want.u.mv.n == 1 ? want.u.mv.items[0] : want,
                        have.type == MVS_V_MV && have.u.mv.n == 1 ? have.u.mv.items[0] : have))
      return 0;
    return pe_add(pb, attr, PE_REPLACE, mvs_count(want) ? mvs_item(want, 0) : mvs_null());
  }
  for (i = 0; i < mvs_count(want); i++) {
    for (j = 0; j < mvs_count(have); j++)
      if (attr_value_same(mvs_item(want, i), mvs_item(have, j)))
        break;
    if (j == mvs_count(have) && pe_add(pb, attr, PE_VADD, mvs_item(want, i)) != 0)
      return -1;
  }
  /* A merge flow adds its values to what the directory holds, as Connect's does (Exchange
   * hybrid's x500 proxyAddresses): the directory's other values are not the rule's to remove. */
  if (m->merge)
    return 0;
  for (j = 0; j < mvs_count(have); j++) {
    for (i = 0; i < mvs_count(want); i++)
      if (attr_value_same(mvs_item(want, i), mvs_item(have, j)))
        break;
    if (i == mvs_count(want) && pe_add(pb, attr, PE_VDELETE, mvs_item(have, j)) != 0)
      return -1;
  }
  return 0;
}

static bool same_export(const pe_row *a, const pe_values *av, const pe_row *b, const pe_values *bv)
{
  size_t i;
  if (a->op != b->op || (!a->new_dn) != (!b->new_dn) ||
      (a->new_dn && strcmp(a->new_dn, b->new_dn) != 0) || av->n != bv->n)
    return false;
  for (i = 0; i < av->n; i++) {
    const pe_value_row *x = &av->items[i], *y = &bv->items[i];
    if (strcmp(x->attr, y->attr) != 0 || x->mode != y->mode || x->value_len != y->value_len ||
        (!x->value) != (!y->value) || (x->value && memcmp(x->value, y->value, x->value_len) != 0))
      return false;
  }
  return true;
}

/* By attribute, mode, then value bytes: one order for any two lists of the same rows,
 * whether the full evaluation wrote them or a delta sync edited them in place. */
static int cmp_pe_value(const void *a, const void *b)
{
  const pe_value_row *x = a, *y = b;
  int c = strcmp(x->attr, y->attr);
  size_t n;
  if (c || (c = x->mode - y->mode))
    return c;
  if (!x->value || !y->value)
    return (x->value != NULL) - (y->value != NULL);
  n = x->value_len < y->value_len ? x->value_len : y->value_len;
  if ((c = memcmp(x->value, y->value, n)))
    return c;
  return (x->value_len > y->value_len) - (x->value_len < y->value_len);
}

static const char *const op_names[] = {"add", "update", "delete", "rename"};

/* Is row x among the rows of v (sorted by cmp_pe_value)? */
static bool pe_values_have(const pe_values *v, const pe_value_row *x)
{
  return v->n && bsearch(x, v->items, v->n, sizeof *v->items, cmp_pe_value) != NULL;
}

/* Compare what the rules want with the object's imported values; write, keep or drop its
 * pending export.  drift: the directory changed the object while its metaverse side did
 * not, so value changes not staged before put back what someone changed there. */
/* A value the directory refuses in a naming attribute (shape_check_value) is not staged:
 * sent, it would be refused on every run.  The object's error (and the run log) names the
 * rule, the attribute and the character; a pending export of it staged before is withdrawn
 * (a pending delete stays).  1 when refused, 0, -1 on a store failure. */
static int naming_refused(mvs_engine *e, conn_info *c, int64_t cs_id, const merged_set *ms,
                          const char *label)
{
  const shape *sh = engine_conn_shape(c);
  for (size_t i = 0; sh && i < ms->n; i++) {
    const merged *m = &ms->items[i];
    size_t nv = m->val.type == MVS_V_MV ? m->val.u.mv.n : 1;
    for (size_t k = 0; m->state == MERGED_VALUE && !m->is_ref && k < nv; k++) {
      const mvs_value *v = m->val.type == MVS_V_MV ? &m->val.u.mv.items[k] : &m->val;
      const char *why;
      char msg[512];
      pe_row old;
      size_t pos;
      int q;
      if (v->type != MVS_V_STR || shape_check_value(sh, m->attr, v->u.s.p, v->u.s.n, &pos, &why) == 0)
        continue;
      snprintf(msg, sizeof msg, "rule \"%s\" gives %s a value with %s: character 0x%02X at "
               "position %zu (of %zu bytes): not exported", m->src ? m->src->name : "?", m->attr,
               why, (unsigned char)v->u.s.p[pos], pos + 1, v->u.s.n);
      engine_logf(e, "error: %s: %s: %s", c->rc->name, label, msg);
      e->res->errors++;
      if (store_cs_set_error(e->st, cs_id, true, msg, m->src ? m->src->name : NULL,
                             m->attr) != STORE_OK ||
          ((q = store_pe_get(e->st, cs_id, e->scratch, &old)) != STORE_OK && q != STORE_NOTFOUND))
        return -1;
      return q == STORE_OK && old.op != PE_DELETE && store_pe_delete(e->st, cs_id) != STORE_OK
                 ? -1 : 1;
    }
  }
  return 0;
}

/* The values the merged attributes want, staged in pb against the imported values in cur
 * (the DN's own attributes are not values: they name the object). */
static int stage_values(pe_builder *pb, conn_info *c, obj_view *cur, const merged_set *ms,
                        const char *rdn_attr, bool present)
{
  mvs_engine *e = pb->e;
  size_t i;

  for (i = 0; i < ms->n; i++) {
    const merged *m = &ms->items[i];
    const rule_attr_decl *decl = engine_conn_attr(c, m->attr);
    bool multi = (decl && decl->multi) || m->multi;
    if (m->state == MERGED_KEEP || is_dn_attr(m->attr, rdn_attr, present))
      continue;
    if (!m->is_ref) {
      const attr_entry *ae = attrset_get(&cur->attrs, m->attr, strlen(m->attr));
      if (ae && (ae->value.type == MVS_V_MV || (ae->flags & ATTR_MULTI)))
        multi = true;
    }
    if (e->trace && m->state == MERGED_VALUE && !m->is_ref) {
      buf_printf(e->trace, "export %s %s: ", c->rc->name, m->attr);
      trace_value(e, e->trace, m->val);
      buf_printf(e->trace, " by \"%s\"\n", m->src->name);
    }
    pb->rule = m->src ? m->src->name : NULL;
    if ((m->is_ref || (decl && decl->syntax == RULE_SYN_REFERENCE))
            ? stage_ref_attr(pb, cur, m, m->attr, present, multi || !decl)
            : stage_value_attr(pb, cur, m, m->attr, present, multi))
      return -1;
  }
  return 0;
}

/* The export already staged for cs_id, with its values sorted: *have STORE_OK or
 * STORE_NOTFOUND.  A delete staged before the object was joined again (back in scope, its
 * source restored) no longer applies and is withdrawn: what the rules want now replaces
 * it.  Sending it would delete and recreate the object, losing its identity (objectGUID,
 * objectSid). */
static int staged_before(mvs_engine *e, conn_info *c, int64_t cs_id, const char *label,
                         pe_row *old, pe_values *old_vals, int *have)
{
  *have = store_pe_get(e->st, cs_id, e->scratch, old);
  if (*have != STORE_OK && *have != STORE_NOTFOUND)
    return -1;
  if (*have == STORE_OK && old->op == PE_DELETE) {
    if (store_pe_delete(e->st, cs_id) != STORE_OK)
      return -1;
    engine_logf(e, "%s: %s: pending delete withdrawn: the object is joined again", c->rc->name,
                label);
    if (e->diff)
      diff_add(e, "export", c->rc->name, label, "withdraw-delete", NULL);
    *have = STORE_NOTFOUND;
  }
  if (*have == STORE_OK) {
    if (store_pe_values(e->st, cs_id, e->scratch, old_vals) != STORE_OK)
      return -1;
    if (old_vals->n)
      qsort(old_vals->items, old_vals->n, sizeof *old_vals->items, cmp_pe_value);
  }
  return 0;
}

/* What the export of cs is: an add of a provisioned object not yet in the directory (its DN
 * follows what the rules compute), an update, or a rename when the DN changed.  want's
 * cs_id, op and new_dn are set. */
static int stage_op(mvs_engine *e, const cs_row *cs, const char *dn, pe_row *want)
{
  buf key;
  int rc;

  memset(want, 0, sizeof *want);
  want->cs_id = cs->id;
  want->op = cs->present ? PE_UPDATE : PE_ADD;
  if (cs->present && dn && (!cs->dn || strcasecmp(dn, cs->dn) != 0)) {
    want->op = PE_RENAME;
    want->new_dn = dn;
  }
  if (cs->present || !dn || (cs->dn && strcmp(dn, cs->dn) == 0))
    return 0;
  buf_init(&key, BUF_CAP_DN);
  rc = text_fold(dn, strlen(dn), &key) == 0 &&
               store_cs_set_dn(e->st, cs->id, dn, key.p) == STORE_OK &&
               sync_in_dn_keys(e, engine_conn_by_id(e, cs->connector), cs->id) == 0
           ? 0 : -1;
  buf_free(&key);
  return rc;
}

/* A dry run's entry for the reference values an export leaves out (their objects have no
 * object in c), per attribute: a reviewer sees which groups lose which members' count. */
static void diff_skipped(mvs_engine *e, conn_info *c, const merged_set *ms, const char *label)
{
  diff_entry *d = NULL;
  char why[300];
  size_t i;
  for (i = 0; i < ms->n; i++) {
    const merged *m = &ms->items[i];
    if (!m->is_ref || m->state == MERGED_KEEP || m->skipped <= 0)
      continue;
    snprintf(why, sizeof why, "values left out: their objects have no object in %s",
             c->rc->name);
    if (!d && !(d = diff_add(e, "skipped", c->rc->name, label, "references", why)))
      return;
    diff_change_add(e, d, m->attr, mvs_null(), mvs_num(m->skipped), m->src ? m->src->name : NULL);
  }
}

/* In a cycle's dry run the export step shows what would be sent; the rule and drift of each
 * staged value are noted for it (store_dry_note_*) — once per attribute and mode, and for
 * each value that reverts drift. */
static int note_staged(mvs_engine *e, int64_t cs_id, const pe_builder *pb)
{
  size_t i;
  if (!e->diff->writes_follow)
    return 0;
  for (i = 0; i < pb->vals.n && i < pb->d->n_changes; i++) {
    const pe_value_row *v = &pb->vals.items[i];
    bool first = i == 0 || v->mode != pb->vals.items[i - 1].mode ||
                 strcmp(v->attr, pb->vals.items[i - 1].attr) != 0;
    if ((first || pb->d->changes[i].drift) &&
        store_dry_note_put(e->st, cs_id, v->attr, v->mode, pb->d->changes[i].rule,
                           pb->d->changes[i].drift) != STORE_OK)
      return -1;
  }
  return 0;
}

/* Keep one drift value for `mvsync authority` (store_drift_add): the directory's value the
 * export changes and the rule whose value it puts back. */
static int record_drift(mvs_engine *e, conn_info *c, const cs_row *cs, const char *label,
                        const obj_view *cur, const merged_set *ms, const pe_value_row *row)
{
  static const char *const actions[] = {"replace", "add", "remove"};
  const merged *m = merged_get(ms, row->attr);
  drift_row d = {0};
  mvs_value v = mvs_null();
  size_t n;

  if (row->mode == PE_REPLACE) {
    const attr_entry *ae = attrset_get(&cur->attrs, row->attr, strlen(row->attr));
    v = ae ? ae->value : mvs_null();
  } else if (row->value && attr_value_decode(e->scratch, row->value, row->value_len, &v) != 0) {
    return -1;
  }
  if (v.type != MVS_V_NULL && attr_value_text(e->scratch, v, &d.value, &n) != 0)
    return -1;
  d.connector = c->rc->name;
  d.object = label;
  d.object_type = cs->object_type;
  d.attr = row->attr;
  d.action = actions[row->mode];
  d.rule = m && m->src ? m->src->name : NULL;
  return store_drift_add(e->st, &d) == STORE_OK ? 0 : -1;
}

/* Stage the export of cs_id: the values the merged set wants that its imported values do
 * not have, as one pending export (unless it is already staged as it is); value changes of
 * a drift computation are counted and marked.  read: its row as the caller read it, or NULL
 * (read here). */
static int stage_export(mvs_engine *e, conn_info *c, int64_t cs_id, const cs_row *read,
                        const merged_set *ms, bool drift)
{
  cs_row cs;
  obj_view cur;
  pe_builder pb;
  pe_row want, old;
  pe_values old_vals = {0};
  const char *dn, *rdn_attr, *label;
  size_t i;
  int rc = -1, have_old;

  memset(&pb, 0, sizeof pb);
  pb.e = e;
  buf_init(&pb.tmp, 0);
  if (read)
    cs = *read;
  else if (store_cs_get(e->st, cs_id, e->scratch, &cs) != STORE_OK)
    goto out_nov;
  if (view_load_cs(e, &cur, &cs, e->scratch) != 0)
    goto out_nov;
  if (out_dn(e, ms, &dn, &rdn_attr) != 0 || label_cs(e, &cs, e->scratch, &label) != 0)
    goto out;
  if ((rc = naming_refused(e, c, cs_id, ms, label)) != 0) {
    rc = rc > 0 ? 0 : -1;
    goto out;
  }
  rc = -1;
  /* The values are acceptable now: an outbound error recorded before is over (unless a
   * flow of this evaluation failed again). */
  if (cs.error && !engine_flow_failed(e, cs_id) &&
      store_cs_set_error(e->st, cs_id, true, NULL, NULL, NULL) != STORE_OK)
    goto out;
  if (stage_op(e, &cs, dn, &want) != 0)
    goto out;
  if (e->diff) {
    pb.d = diff_add(e, "export", c->rc->name, cs.present ? label : dn ? dn : label, "", want.new_dn);
    diff_set_object_type(e, pb.d, cs.object_type);
    pb.cur = &cur;
    diff_skipped(e, c, ms, label);
  }
  if (stage_values(&pb, c, &cur, ms, rdn_attr, cs.present) != 0 ||
      staged_before(e, c, cs_id, label, &old, &old_vals, &have_old) != 0)
    goto out;
  /* The diff's changes follow the rows in the order they were staged: mark them first. */
  for (i = 0; drift && want.op == PE_UPDATE && i < pb.vals.n; i++)
    if (!pe_values_have(&old_vals, &pb.vals.items[i])) {
      e->res->drift++;
      if (pb.d && i < pb.d->n_changes)
        pb.d->changes[i].drift = pb.d->drift = true;
      if (record_drift(e, c, &cs, label, &cur, ms, &pb.vals.items[i]) != 0)
        goto out;
    }
  if (pb.d && note_staged(e, cs_id, &pb) != 0)
    goto out;
  if (pb.vals.n)
    qsort(pb.vals.items, pb.vals.n, sizeof *pb.vals.items, cmp_pe_value);

  if (want.op == PE_UPDATE && pb.vals.n == 0) {
    if (pb.d)
      pb.d->op = NULL;
    rc = have_old == STORE_OK ? (store_pe_delete(e->st, cs_id) ? -1 : 0) : 0;
    goto out;
  }
  if (pb.d)
    pb.d->op = op_names[want.op];
  if (have_old == STORE_OK && same_export(&want, &pb.vals, &old, &old_vals)) {
    /* Already staged (maybe sent, waiting for the confirming import): keep its status. */
    if (pb.d)
      pb.d->op = NULL;
    rc = 0;
    goto out;
  }
  if (e->trace)
    buf_printf(e->trace, "pending export: %s %s (%zu value change%s)\n", op_names[want.op],
               want.new_dn ? want.new_dn : cs.dn ? cs.dn : "", pb.vals.n, pb.vals.n == 1 ? "" : "s");
  want.status = PE_PENDING;
  rc = store_pe_put(e->st, &want, &pb.vals, 0) == STORE_OK ? 0 : -1;
out:
  view_free(&cur);
out_nov:
  pe_values_free(&pb.vals);
  pe_values_free(&old_vals);
  buf_free(&pb.tmp);
  return rc;
}
/* Join an unjoined metaverse object to an object of c by the rule's join conditions:
 * exactly one disconnector of the rule's target type whose values match. */
static int out_join(mvs_engine *e, conn_info *c, obj_view *mvv, const rule *r, int64_t *cs_id)
{
  size_t g, i, j;
  buf norm;
  int rc = -1;

  *cs_id = 0;
  buf_init(&norm, BUF_CAP_VALUE);
  for (g = 0; g < r->n_join && !*cs_id; g++) {
    const join_condition *first = &r->join[g].conditions[0];
    mvs_value y = view_scope_env(mvv).attr(mvv, first->mv_attr, strlen(first->mv_attr));
    id_list cand = {0};
    size_t matches = 0;
    int64_t match = 0;
    for (i = 0; i < mvs_count(y); i++) {
      buf_reset(&norm);
      if (attr_fold(mvs_item(y, i), &norm) != 0 ||
          store_cs_key_find(e->st, c->id, first->cs_attr, norm.p ? norm.p : "", &cand) != STORE_OK) {
        id_list_free(&cand);
        goto out;
      }
    }
    id_list_sort_unique(&cand);
    for (j = 0; j < cand.n && matches < 2; j++) {
      cs_row cs;
      obj_view v;
      size_t k, a, b;
      bool all = true;
      if (store_cs_get(e->st, cand.ids[j], e->scratch, &cs) != STORE_OK || cs.mv_id ||
          strcasecmp(cs.object_type, r->target_type) != 0 || view_load_cs(e, &v, &cs, e->scratch) != 0)
        continue;
      for (k = 0; k < r->join[g].n_conditions && all; k++) {
        const join_condition *jc = &r->join[g].conditions[k];
        mvs_value x = view_scope_env(&v).attr(&v, jc->cs_attr, strlen(jc->cs_attr));
        mvs_value yy = view_scope_env(mvv).attr(mvv, jc->mv_attr, strlen(jc->mv_attr));
        bool hit = false;
        for (a = 0; a < mvs_count(x) && !hit; a++)
          for (b = 0; b < mvs_count(yy) && !hit; b++)
            hit = mvs_equal(mvs_item(x, a), mvs_item(yy, b), !jc->case_sensitive);
        all = hit;
      }
      view_free(&v);
      if (all) {
        match = cand.ids[j];
        matches++;
      }
    }
    id_list_free(&cand);
    if (matches == 1)
      *cs_id = match;
  }
  rc = 0;
out:
  buf_free(&norm);
  return rc;
}

/* The outbound rules of one connector in scope for a metaverse object. */
typedef struct out_scope {
  const rule **r;
  size_t n;
  const rule *provision;    /* the first Provision rule, NULL for none */
  const rule *join;         /* the first rule with join conditions, NULL for none */
  bool noflow;              /* a JoinNoFlow rule is in scope: nothing flows */
} out_scope;

static int out_scope_rules(mvs_engine *e, conn_info *c, const mv_row *mv, obj_view *mvv,
                           out_scope *s)
{
  scope_env env = view_scope_env(mvv);
  size_t i;

  memset(s, 0, sizeof *s);
  /* Sized by the connector's rule count: every rule is evaluated (no fixed cap). */
  if (!(s->r = mvs_arena_alloc(mvv->arena, (c->n_out ? c->n_out : 1) * sizeof *s->r))) {
    engine_errorf(e, "out of memory scoping %zu rules", c->n_out);
    return -1;
  }
  for (i = 0; i < c->n_out; i++) {
    const rule *r = c->out_rules[i];
    scope_verdict v;
    if (!r->source_type || strcasecmp(r->source_type, mv->object_type) != 0)
      continue;
    if (rule_scope_eval(r, &env, &v) != 0)
      return -1;
    if (e->trace)
      buf_printf(e->trace, "outbound rule \"%s\": %s\n", r->name, v.in_scope ? "in scope" : "NotInScope");
    if (!v.in_scope)
      continue;
    s->r[s->n++] = r;
    if (r->link == RULE_LINK_PROVISION && !s->provision)
      s->provision = r;
    if (r->link == RULE_LINK_JOINNOFLOW)
      s->noflow = true;
    if (r->n_join && !s->join)
      s->join = r;
  }
  return 0;
}

/* Out of every rule: deprovision what a Provision rule created; drop an outbound join.  cs:
 * the object joined in the connector, NULL for none. */
static int out_unscoped(mvs_engine *e, const cs_row *cs, int64_t mv_id, sync_work *w)
{
  if (cs && cs->link_out && cs->provisioned)
    return mv_deprovision(e, cs, w);
  if (cs && cs->link_out)
    return store_cs_set_link(e->st, cs->id, 0, NULL, 0, 0, 0) == STORE_OK &&
                   work_queue_out_referrers(e, mv_id, w) == 0
               ? 0 : -1;
  return 0;
}

/* The contributions of the in-scope rules (none under JoinNoFlow), merged. */
static int out_contribs(mvs_engine *e, obj_view *mvv, const out_scope *s, bool apply_once_ok,
                        int64_t cid, contribs *cb, merged_set *ms)
{
  size_t i;
  for (i = 0; i < s->n && !s->noflow; i++)
    if (contribs_from_rule(e, mvv, s->r[i], apply_once_ok, cid, false, cb) != 0)
      return -1;
  return contribs_merge(cb, e->scratch, ms) == 0 ? 0 : -1;
}

/* A new connector-space object in connector cid at dn (key: its folded form), provisioned
 * by pr for metaverse object mv_id and not yet in the directory. */
static int out_create(mvs_engine *e, int64_t cid, int64_t mv_id, const rule *pr,
                      const char *dn, const char *key, int64_t *cs_id)
{
  cs_row nw;
  buf empty;
  attrset none;
  int rc;

  memset(&nw, 0, sizeof nw);
  buf_init(&empty, 0);
  attrset_init(&none, e->scratch);
  nw.connector = cid;
  nw.dn = dn;
  nw.object_type = pr->target_type;
  nw.present = 0;
  nw.mv_id = mv_id;
  nw.link_rule = pr->name;
  nw.link_type = pr->link;
  nw.link_out = 1;
  nw.provisioned = 1;
  rc = attrset_encode(&none, &empty) == 0 ? 0 : -1;
  nw.attrs = empty.p;
  nw.attrs_len = empty.len;
  /* Its DN is all its key rows can hold until an import brings its attributes. */
  if (rc == 0 && (store_cs_insert(e->st, &nw, key) != STORE_OK ||
                  sync_in_dn_keys(e, engine_conn_by_id(e, cid), nw.id) != 0))
    rc = -1;
  buf_free(&empty);
  *cs_id = nw.id;
  return rc;
}

/* Provision by pr at the DN its flows compute: an unjoined object already there is joined
 * (reverse join), else a new object is created (*created).  *cs_id stays 0 when nothing is
 * provisioned: no DN, or the DN taken by an object joined elsewhere (an error, logged and
 * counted). */
static int out_provision(mvs_engine *e, conn_info *c, int64_t cid, obj_view *mvv,
                         const rule *pr, const merged_set *ms, int64_t *cs_id, bool *created)
{
  const char *dn = NULL, *rdn_attr;
  int64_t mv_id = mvv->mv_id;
  cs_row cs;
  buf key;
  int q, rc = -1;

  if (out_dn(e, ms, &dn, &rdn_attr) != 0)
    return -1;
  if (!dn) {
    engine_logf(e, "error: rule \"%s\" gives metaverse object %lld no DN: not provisioned "
                "(flow a value to dn, or to cn/ou and parentDistinguishedName)",
                pr->name, (long long)mv_id);
    e->res->errors++;
    return 0;
  }
  buf_init(&key, BUF_CAP_DN);
  if (text_fold(dn, strlen(dn), &key) != 0 ||
      (q = store_cs_by_dn(e->st, cid, key.p, e->scratch, &cs)) == STORE_ERR)
    goto out;
  if (q == STORE_OK && !cs.mv_id) {
    /* Reverse join: an existing object at the DN the rule computes. */
    *cs_id = cs.id;
    if (store_cs_set_link(e->st, cs.id, mv_id, pr->name, pr->link, 1, 1) != STORE_OK)
      goto out;
    if (e->trace)
      buf_printf(e->trace, "outbound join by DN: %s %s\n", c->rc->name, dn);
  } else if (q == STORE_OK) {
    engine_logf(e, "error: %s %s: the DN is taken by an object joined elsewhere; metaverse "
                "object %lld not provisioned", c->rc->name, dn, (long long)mv_id);
    e->res->errors++;
  } else {
    if (out_create(e, cid, mv_id, pr, dn, key.p, cs_id) != 0)
      goto out;
    mvv->out_cs_id = *cs_id;
    *created = true;
    e->res->adds++;
    if (e->trace)
      buf_printf(e->trace, "provision: %s %s by \"%s\"\n", c->rc->name, dn, pr->name);
  }
  rc = 0;
out:
  buf_free(&key);
  return rc;
}

/* A metaverse object with no object in c: join one by the rule's join conditions, else
 * provision one.  Joined to an existing object, the contributions are evaluated again
 * without apply-once flows.  *cs_id stays 0 when the object stays unlinked in c. */
static int out_link(mvs_engine *e, conn_info *c, int64_t cid, obj_view *mvv,
                    const out_scope *s, contribs *cb, merged_set *ms, int64_t *cs_id,
                    sync_work *w)
{
  int64_t mv_id = mvv->mv_id;
  bool created = false;

  if (s->join && out_join(e, c, mvv, s->join, cs_id) != 0)
    return -1;
  if (*cs_id) {
    /* An object mvsync provisioned stays provisioned when joined again (a deprovisioned
     * object whose source came back): a later deprovisioning stages its delete again. */
    cs_row joined;
    if (store_cs_get(e->st, *cs_id, e->scratch2, &joined) != STORE_OK ||
        store_cs_set_link(e->st, *cs_id, mv_id, s->join->name, s->join->link, 1,
                          joined.provisioned) != STORE_OK)
      return -1;
    if (e->trace)
      buf_printf(e->trace, "outbound join: %s object %lld by \"%s\"\n", c->rc->name,
                 (long long)*cs_id, s->join->name);
  } else if (s->provision &&
             out_provision(e, c, cid, mvv, s->provision, ms, cs_id, &created) != 0) {
    return -1;
  }
  if (!*cs_id)
    return 0;
  /* Objects referencing this one can now name it in this connector. */
  if (work_queue_out_referrers(e, mv_id, w) != 0)
    return -1;
  if (created)
    return 0;
  /* Joined to an existing object: apply-once flows do not apply to it. */
  contribs_free(cb);
  merged_free(ms);
  return out_contribs(e, mvv, s, false, cid, cb, ms);
}

/* JoinNoFlow: joined, nothing flows; a staged update is dropped. */
static int out_noflow(mvs_engine *e, int64_t cs_id)
{
  pe_row old;
  int rc = store_pe_get(e->st, cs_id, e->scratch, &old);
  rc = rc == STORE_OK && old.op == PE_UPDATE ? store_pe_delete(e->st, cs_id) : STORE_OK;
  return rc == STORE_OK ? 0 : -1;
}

/* The references the merged values leave out (no object in the target connector). */
static int64_t out_skipped(const merged_set *ms)
{
  int64_t skipped = 0;
  size_t i;
  for (i = 0; i < ms->n; i++)
    if (ms->items[i].is_ref && ms->items[i].state != MERGED_KEEP)
      skipped += ms->items[i].skipped;
  return skipped;
}

/* Outbound of one metaverse object to one connector: scope; unlink when out of every rule;
 * evaluate and merge; link (join or provision) when unlinked; stage the export. */
static int out_connector(mvs_engine *e, conn_info *c, int64_t mv_id, const mv_row *mv,
                         obj_view *mvv, sync_work *w)
{
  out_scope s;
  bool drift, linked;
  int64_t cid, cs_id;
  contribs cb = {0};
  merged_set ms = {0};
  cs_row cs;
  int rc = -1;

  e->flow_err.n = 0;
  if (engine_conn_id(e, c, &cid) != 0 || store_mv_cs_in(e->st, mv_id, cid, &cs_id) != STORE_OK)
    return -1;
  /* Joined before this sync, changed by its import, its metaverse object unchanged. */
  drift = cs_id && id_list_has(&w->drift_cs, cs_id) && !id_list_has(&w->mv_changed, mv_id);
  linked = cs_id != 0;   /* its row read below, as stage_export reads it */
  mvv->out_connector = cid;
  mvv->out_cs_id = cs_id;
  if (out_scope_rules(e, c, mv, mvv, &s) != 0 ||
      (cs_id && store_cs_get(e->st, cs_id, e->scratch, &cs) != STORE_OK))
    return -1;
  if (!s.n)
    return out_unscoped(e, cs_id ? &cs : NULL, mv_id, w);
  if (out_contribs(e, mvv, &s, !cs_id || !cs.present, cid, &cb, &ms) != 0 ||
      (!cs_id && out_link(e, c, cid, mvv, &s, &cb, &ms, &cs_id, w) != 0))
    goto out;
  if (!cs_id)
    rc = 0;
  else if (s.noflow)
    rc = out_noflow(e, cs_id);
  /* Skips are counted from the values this export computation stages; work.c keeps the
   * last computation per object. */
  else if (work_note_skips(w, cs_id, out_skipped(&ms)) == 0)
    rc = stage_export(e, c, cs_id, linked ? &cs : NULL, &ms, drift);
out:
  contribs_free(&cb);
  merged_free(&ms);
  return rc;
}
/* ---- delta outbound: only the reference values that changed ---- */

typedef struct reads_ctx {
  const char *attr;
  bool hit;
} reads_ctx;

static void reads_cb(void *u, const char *name, size_t n)
{
  reads_ctx *r = u;
  if (strlen(r->attr) == n && strncasecmp(r->attr, name, n) == 0)
    r->hit = true;
}

/* Does r read attr other than by copying it (its scope, an expression)?  Then a changed
 * value can change more than that value's export. */
static bool reads_otherwise(obj_view *mvv, const rule *r, const char *attr)
{
  size_t g, k;
  for (g = 0; g < r->n_scope; g++)
    for (k = 0; k < r->scope[g].n_clauses; k++)
      if (strcasecmp(r->scope[g].clauses[k].attr, attr) == 0)
        return true;
  for (k = 0; k < r->n_flows; k++) {
    const rule_flow *f = &r->flows[k];
    const char *src;
    reads_ctx rc = {attr, false};
    if (flow_ref_source(mvv, f, &src))
      continue;
    if (f->type == RULE_FLOW_DIRECT && f->source && strcasecmp(f->source, attr) == 0)
      return true;
    if (f->expr)
      expr_attrs(f->expr, reads_cb, &rc);
    if (rc.hit)
      return true;
  }
  return false;
}

/* A plain copy of a changed reference attribute into an export attribute it alone sets. */
typedef struct ref_copy {
  const char *from, *to;
} ref_copy;

/* Which reference copies the changes feed, if the delta path can stand for a full
 * evaluation of this connector: false when anything else could differ. */
static bool delta_copies(conn_info *c, const mv_row *mv, obj_view *mvv,
                         const cs_row *cs, const ref_change *ch, size_t n, ref_copy *copies,
                         size_t *n_copies, size_t max)
{
  scope_env env = view_scope_env(mvv);
  const rule **in_scope = mvs_arena_alloc(mvv->arena, (c->n_out ? c->n_out : 1) * sizeof *in_scope);
  size_t n_in = 0, i, j, k, r2, f2;

  *n_copies = 0;
  if (!in_scope)
    return false;   /* the full evaluation reports what memory it lacks */
  for (i = 0; i < c->n_out; i++) {
    const rule *r = c->out_rules[i];
    scope_verdict v;
    if (!r->source_type || strcasecmp(r->source_type, mv->object_type) != 0)
      continue;
    for (j = 0; j < n; j++)
      if (reads_otherwise(mvv, r, ch[j].attr))
        return false;
    if (rule_scope_eval(r, &env, &v) != 0)
      return false;
    if (!v.in_scope)
      continue;
    if (r->link == RULE_LINK_JOINNOFLOW)
      return false;
    in_scope[n_in++] = r;
  }
  if (!n_in)
    return false;   /* deprovisioning or unjoining: the full evaluation does that */
  for (i = 0; i < n_in; i++)
    for (k = 0; k < in_scope[i]->n_flows; k++) {
      const rule_flow *f = &in_scope[i]->flows[k];
      const rule_attr_decl *decl;
      const char *src;
      size_t contributors = 0;
      bool fed = false;
      if (!flow_ref_source(mvv, f, &src))
        continue;
      for (j = 0; j < n && !fed; j++)
        fed = strcasecmp(src, ch[j].attr) == 0;
      if (!fed)
        continue;
      /* Precedence and merging only matter with several contributions to one attribute. */
      for (r2 = 0; r2 < n_in; r2++)
        for (f2 = 0; f2 < in_scope[r2]->n_flows; f2++)
          contributors += strcasecmp(in_scope[r2]->flows[f2].target, f->target) == 0;
      decl = engine_conn_attr(c, f->target);
      if (contributors != 1 || (decl && !decl->multi) || is_dn_attr(f->target, NULL, false) ||
          *n_copies == max)
        return false;
      for (j = 0; j < sizeof rdn_attrs / sizeof rdn_attrs[0]; j++)
        if (strcasecmp(f->target, rdn_attrs[j]) == 0)
          return false;
      /* Apply-once after creation keeps the value: nothing to export. */
      if (f->apply_once && cs->present)
        continue;
      copies[*n_copies].from = src;
      copies[*n_copies].to = f->target;
      (*n_copies)++;
    }
  return true;
}

/* The delta path for one connector; *done false when the full evaluation must run. */
static int out_connector_delta(mvs_engine *e, conn_info *c, int64_t mv_id, const mv_row *mv,
                               obj_view *mvv, const ref_change *ch, size_t n, bool *done)
{
  ref_copy copies[16];
  size_t n_copies, i, j;
  int64_t cid, cs_id, tc;
  cs_row cs;
  pe_row pe;
  diff_entry *d = NULL;
  buf enc;
  bool have_pe, changed = false;
  int q, rc = -1;

  *done = false;
  if (engine_conn_id(e, c, &cid) != 0 || store_mv_cs_in(e->st, mv_id, cid, &cs_id) != STORE_OK)
    return -1;
  if (!cs_id)
    return 0;   /* provisioning: the full evaluation */
  if (store_cs_get(e->st, cs_id, e->scratch, &cs) != STORE_OK ||
      ((q = store_pe_get(e->st, cs_id, e->scratch, &pe)) != STORE_OK && q != STORE_NOTFOUND))
    return -1;
  have_pe = q == STORE_OK;
  /* A waiting delete, or an add that has no staged export to edit: the full evaluation. */
  if ((have_pe && pe.op == PE_DELETE) || (!cs.present && !have_pe))
    return 0;
  mvv->out_connector = cid;
  mvv->out_cs_id = cs_id;
  if (!delta_copies(c, mv, mvv, &cs, ch, n, copies, &n_copies,
                    sizeof copies / sizeof copies[0]))
    return 0;
  *done = true;
  buf_init(&enc, 0);
  for (i = 0; i < n; i++)
    for (j = 0; j < n_copies; j++) {
      mvs_value v;
      int mode, has, names = 0;
      bool add;
      if (strcasecmp(copies[j].from, ch[i].attr) != 0)
        continue;
      if (store_mv_cs_in(e->st, ch[i].target, cid, &tc) != STORE_OK)
        goto out;
      if (!tc) {
        e->res->skipped_refs++;   /* no object in this connector, as in a full evaluation */
        continue;
      }
      buf_reset(&enc);
      if (target_dn(e, tc, &v) != 0 || attr_value_encode(v, &enc) != 0)
        goto out;
      /* What the export of this value becomes: an added value the directory has cancels a
       * staged delete, one it lacks is added; a removed one the reverse.  An object not
       * created yet lists its values. */
      if (cs.present &&
          store_ref_names(e->st, cs_id, copies[j].to, tc, &names) != STORE_OK)
        goto out;
      mode = !cs.present ? PE_REPLACE : names ? PE_VDELETE : PE_VADD;
      add = cs.present ? ch[i].added != (names != 0) : ch[i].added;
      if (store_pe_value_has(e->st, cs_id, copies[j].to, mode, enc.p, enc.len, &has) != STORE_OK)
        goto out;
      if (has == add)
        continue;
      if (!have_pe) {
        pe_values none = {0};
        memset(&pe, 0, sizeof pe);
        pe.cs_id = cs_id;
        pe.op = PE_UPDATE;
        if (store_pe_put(e->st, &pe, &none, 0) != STORE_OK)
          goto out;
        have_pe = true;
      }
      if ((add ? store_pe_value_add(e->st, cs_id, copies[j].to, mode, enc.p, enc.len)
               : store_pe_value_remove(e->st, cs_id, copies[j].to, mode, enc.p, enc.len)) !=
          STORE_OK)
        goto out;
      changed = true;
      if (e->diff && !d) {
        const char *label;
        if (label_cs(e, &cs, e->scratch, &label) != 0)
          goto out;
        d = diff_add(e, "export", c->rc->name, label, op_names[pe.op], pe.new_dn);
      }
      /* A row in is the change it stages; a row out, the change it no longer stages. */
      if ((mode == PE_VDELETE) == add)
        diff_change_add(e, d, copies[j].to, v, mvs_null(), NULL);
      else
        diff_change_add(e, d, copies[j].to, mvs_null(), v, NULL);
    }
  rc = 0;
  if (changed) {
    int any;
    if (store_pe_restage(e->st, cs_id) != STORE_OK ||
        store_pe_value_any(e->st, cs_id, &any) != STORE_OK)
      rc = -1;
    else if (pe.op == PE_UPDATE && !any && store_pe_delete(e->st, cs_id) != STORE_OK)
      rc = -1;
  }
out:
  buf_free(&enc);
  return rc;
}

/* The outbound flows of a metaverse object to every connector; with delta, each connector
 * first gets out_connector_delta (the changes ch) and the whole object only when that did
 * not do it. */
static int out_mv(mvs_engine *e, int64_t mv_id, const ref_change *ch, size_t n, bool delta,
                  sync_work *w)
{
  mv_row mv;
  obj_view mvv;
  size_t i;
  int rc;

  mvs_arena_reset(e->scratch);
  diff_flush(e);   /* an object boundary: no diff entry is held here */
  if ((rc = store_mv_get(e->st, mv_id, e->scratch, &mv)) != STORE_OK)
    return rc == STORE_NOTFOUND ? 0 : -1;
  if (view_load_mv(e, &mvv, &mv, e->scratch) != 0)
    return -1;
  rc = 0;
  for (i = 0; i < e->n_conns && rc == 0; i++) {
    bool done = false;
    if (!e->conns[i].n_out)
      continue;
    if (delta)
      rc = out_connector_delta(e, &e->conns[i], mv_id, &mv, &mvv, ch, n, &done);
    if (rc == 0 && !done)
      rc = out_connector(e, &e->conns[i], mv_id, &mv, &mvv, w);
  }
  view_free(&mvv);
  return rc;
}

int sync_out_mv(mvs_engine *e, int64_t mv_id, sync_work *w)
{
  return out_mv(e, mv_id, NULL, 0, false, w);
}

int sync_out_mv_delta(mvs_engine *e, int64_t mv_id, const ref_change *ch, size_t n,
                      sync_work *w)
{
  return out_mv(e, mv_id, ch, n, true, w);
}
