/* export_order — the order a connector's pending exports are sent in: what a change needs
 * goes before it.  An add needs its parent (an OU created in the same run) and the objects
 * its reference values name (a new group's new members): sent by DN alone, a group's add
 * would come before its members' and fail (LDAP 32, noSuchObject), and only a second cycle
 * would create it.  Deletes go the other way: a child before its parent.  Updates and
 * renames keep their place.  Any connector: the keys are the objects' DNs (or display keys)
 * as the engine holds them.  Memory: keys live in an arena freed before returning; each
 * object's rows and values in a second one, reset per object. */
#include <stdlib.h>
#include <string.h>

#include "connectors/dn.h"
#include "engine/engine_int.h"
#include "engine/export_order.h"

typedef struct node {
  const char *key;       /* the object's DN key */
  const char **needs;    /* keys of what must exist first (add) / go after it (delete) */
  size_t n_needs;
  size_t *deps;          /* the needs found among the changes being ordered (node indexes) */
  size_t n_deps, next;   /* next: the DFS's position in deps */
  int state;             /* 0 unseen, 1 on the path, 2 placed */
} node;

typedef struct key_ix {
  const char *key;
  size_t node;
} key_ix;

static int key_cmp(const void *a, const void *b)
{
  return strcmp(((const key_ix *)a)->key, ((const key_ix *)b)->key);
}

/* A DN's normalized key (dn_key: case and spacing folded); text folded for what is no DN. */
static const char *key_of(mvs_arena *a, const char *p, size_t n)
{
  buf b;
  const char *k = NULL;
  buf_init(&b, 0);
  if (dn_key(p, n, &b) == BUF_OK && b.p)
    k = mvs_arena_memdup(a, b.p, b.len);
  else {
    buf_free(&b);
    buf_init(&b, 0);
    if (text_fold(p, n, &b) == 0)
      k = mvs_arena_memdup(a, b.p ? b.p : "", b.len);
  }
  buf_free(&b);
  return k;
}

/* Fill nd for pending export cs_id: its key, its parent's, and (adds) its reference values.
 * Keys go to a; the rows read to tmp (reset first). */
static int load_node(mvs_engine *e, mvs_arena *a, mvs_arena *tmp, int64_t cs_id, bool add,
                     node *nd)
{
  pe_values vals = {0};
  cs_row cs;
  size_t len, par;
  int rc = -1;

  memset(nd, 0, sizeof *nd);
  mvs_arena_reset(tmp);
  if (store_cs_get(e->st, cs_id, tmp, &cs) != STORE_OK)
    goto out;
  if (!cs.dn) { /* nothing to be needed by or to need */
    rc = 0;
    goto out;
  }
  len = strlen(cs.dn);
  par = dn_parent_off(cs.dn, len);
  if (add && store_pe_values(e->st, cs_id, tmp, &vals) != STORE_OK)
    goto out;
  if (!(nd->key = key_of(a, cs.dn, len)) ||
      !(nd->needs = mvs_arena_alloc(a, (vals.n + 1) * sizeof *nd->needs)))
    goto out;
  if (par < len && !(nd->needs[nd->n_needs++] = key_of(a, cs.dn + par, len - par)))
    goto out;
  for (size_t i = 0; i < vals.n; i++) {
    mvs_value v;
    if (!vals.items[i].value || vals.items[i].mode == PE_VDELETE)
      continue;
    if (attr_value_decode(tmp, vals.items[i].value, vals.items[i].value_len, &v) != 0)
      goto out;
    if (v.type == MVS_V_REF && !(nd->needs[nd->n_needs++] = key_of(a, v.u.s.p, v.u.s.n)))
      goto out;
  }
  rc = 0;
out:
  pe_values_free(&vals);
  return rc;
}

/* Order the n nodes so that each comes after what it needs (a depth-first post-order, from
 * the nodes in their given order, so the DN order stays where nothing is needed); a cycle is
 * cut where it closes.  out[] gets node indexes. */
static int place(mvs_arena *a, node *nodes, size_t n, size_t *out)
{
  key_ix *ix = mvs_arena_alloc(a, (n ? n : 1) * sizeof *ix);
  size_t *stack = mvs_arena_alloc(a, (n ? n : 1) * sizeof *stack), placed = 0;
  if (!ix || !stack)
    return -1;
  for (size_t i = 0; i < n; i++)
    ix[i] = (key_ix){nodes[i].key ? nodes[i].key : "", i};
  qsort(ix, n, sizeof *ix, key_cmp);
  for (size_t i = 0; i < n; i++) {
    node *nd = &nodes[i];
    if (!(nd->deps = mvs_arena_alloc(a, (nd->n_needs ? nd->n_needs : 1) * sizeof *nd->deps)))
      return -1;
    for (size_t k = 0; k < nd->n_needs; k++) {
      key_ix want = {nd->needs[k], 0};
      const key_ix *hit = bsearch(&want, ix, n, sizeof *ix, key_cmp);
      if (hit && hit->node != i)
        nd->deps[nd->n_deps++] = hit->node;
    }
  }
  for (size_t i = 0; i < n; i++) {
    size_t top = 0;
    if (nodes[i].state)
      continue;
    nodes[i].state = 1;
    stack[top++] = i;
    while (top) {
      node *nd = &nodes[stack[top - 1]];
      if (nd->next < nd->n_deps) {
        size_t d = nd->deps[nd->next++];
        if (nodes[d].state == 0) {
          nodes[d].state = 1;
          stack[top++] = d;
        }
        continue;
      }
      nd->state = 2;
      out[placed++] = stack[--top];
    }
  }
  return 0;
}

/* Reorder the changes of one op (positions pos[0..n), ids as listed) by place(); reverse:
 * the dependents first (deletes). */
static int order_op(mvs_engine *e, mvs_arena *a, mvs_arena *tmp, id_list *ids, const size_t *pos,
                    size_t n, bool add)
{
  node *nodes = mvs_arena_alloc(a, (n ? n : 1) * sizeof *nodes);
  size_t *order = mvs_arena_alloc(a, (n ? n : 1) * sizeof *order);
  int64_t *was = mvs_arena_alloc(a, (n ? n : 1) * sizeof *was);
  if (!nodes || !order || !was)
    return -1;
  for (size_t i = 0; i < n; i++) {
    was[i] = ids->ids[pos[i]];
    if (load_node(e, a, tmp, was[i], add, &nodes[i]) != 0)
      return -1;
  }
  if (place(a, nodes, n, order) != 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    ids->ids[pos[i]] = was[order[add ? i : n - 1 - i]];
  return 0;
}

int export_order(mvs_engine *e, id_list *ids)
{
  /* Keys of every add and delete (and the adds' reference values): room for millions. */
  mvs_arena *a = mvs_arena_new((size_t)4 << 30), *tmp = mvs_arena_new((size_t)1 << 30);
  size_t *adds = NULL, *deletes = NULL, n_adds = 0, n_deletes = 0;
  int rc = -1;

  if (!a || !tmp || !(adds = malloc((ids->n + 1) * sizeof *adds)) ||
      !(deletes = malloc((ids->n + 1) * sizeof *deletes)))
    goto out;
  for (size_t i = 0; i < ids->n; i++) {
    pe_row pe;
    mvs_arena_reset(tmp);
    if (store_pe_get(e->st, ids->ids[i], tmp, &pe) != STORE_OK)
      goto out;
    if (pe.op == PE_ADD)
      adds[n_adds++] = i;
    else if (pe.op == PE_DELETE)
      deletes[n_deletes++] = i;
  }
  if (order_op(e, a, tmp, ids, adds, n_adds, true) != 0 ||
      order_op(e, a, tmp, ids, deletes, n_deletes, false) != 0)
    goto out;
  rc = 0;
out:
  free(adds);
  free(deletes);
  if (a)
    mvs_arena_free(a);
  if (tmp)
    mvs_arena_free(tmp);
  return rc;
}
