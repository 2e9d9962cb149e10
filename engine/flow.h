/* flow — rule evaluation shared by inbound and outbound: an object's view (attributes,
 * references, ISMEMBEROF), a flow's value, and the contributions of in-scope rules merged per
 * attribute by precedence (Update, Merge, MergeCaseInsensitive).  Memory: views and
 * contributions take their memory from the arena given (reset per object by the caller);
 * contribs_free, merged_free and view_free release what they hold outside it. */
#ifndef MVS_FLOW_H
#define MVS_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/attrset.h"
#include "engine/engine_int.h"
#include "engine/store.h"
#include "rules/ruleset.h"
#include "rules/scope.h"

typedef struct obj_view {
  mvs_engine *e;
  attrset attrs;
  ref_rows refs;              /* connector-space references: read by view_refs */
  bool refs_loaded;
  int64_t cs_id, connector;   /* connector-space object, for ISMEMBEROF */
  const char *dn;             /* its DN: Connect's pseudo-attribute dn (NULL: none) */
  const char *rule_conn;      /* the evaluated rule's connector name: its %parameters% */
  int64_t mv_id;              /* metaverse object (outbound) */
  int64_t out_connector;      /* outbound: references render as DNs in this connector */
  int64_t out_cs_id;          /* outbound: the target object (its own values are not taken) */
  const char *unique_attr;    /* outbound: the flow's target, for SelectUniqueValue */
  const char *unique_type;    /* outbound: the rule's target object type, likewise */
  mvs_arena *arena;
} obj_view;
int view_load_cs(mvs_engine *e, obj_view *v, const cs_row *cs, mvs_arena *a);
int view_load_mv(mvs_engine *e, obj_view *v, const mv_row *mv, mvs_arena *a);
void view_free(obj_view *v);
/* A connector-space view's reference rows, read on first use (most evaluations never need
 * them, and a large group has 100,000).  NULL on a store error (e->errmsg). */
const ref_rows *view_refs(obj_view *v);
scope_env view_scope_env(obj_view *v);
/* Evaluate a flow against a view: value (possibly NULL / AUTHNULL / IGNORE).  Returns 0, or
 * -1 with the error text in e->errmsg. */
int flow_eval(obj_view *v, const rule *r, const rule_flow *f, mvs_value *out);
/* True when the rule's flow f is a plain copy of a reference attribute of the view. */
bool flow_ref_source(obj_view *v, const rule_flow *f, const char **attr);


/* ---- contributions: what rules flow to one object, merged per attribute ---- */
typedef struct contrib {
  const char *attr;
  const rule *r;
  int64_t cs_id;             /* the contributing connector-space object (inbound) */
  bool keep;                 /* IgnoreThisFlow, or apply-once after creation: keep current */
  bool is_ref;
  bool multi;                /* the source was multi-valued */
  mvs_value val;             /* non-reference value (NULL / AUTHNULL allowed) */
  id_list refs;              /* reference targets: metaverse ids inbound, cs ids outbound */
  int64_t skipped;           /* outbound: values with no object in the target connector */
  /* Inbound references not read yet (a delta sync applies value deltas instead):
   * ref_attr the connector-space attribute, lazy_count its joined values up to 2. */
  bool lazy;
  const char *ref_attr;
  int lazy_count;
} contrib;

typedef struct contribs {
  contrib *items;
  size_t n, cap;
} contribs;

enum { MERGED_VALUE = 0, MERGED_NONE, MERGED_KEEP };

typedef struct merged {
  const char *attr;
  int state;
  bool is_ref, multi;
  bool merge;                /* Merge or MergeCaseInsensitive: outbound, it adds values only */
  mvs_value val;             /* MERGED_VALUE, non-reference */
  id_list refs;              /* MERGED_VALUE, reference: sorted, unique (owned) */
  const rule *src;           /* the winning rule (the first contributor for merges) */
  int64_t skipped;           /* outbound references the values leave out (no target object) */
  contrib *lazy;             /* Update won by a lazy reference contribution: refs unread */
} merged;

typedef struct merged_set {
  merged *items;
  size_t n;
} merged_set;

contrib *contribs_add(contribs *c);
void contribs_free(contribs *c);
/* Order by attribute then precedence and resolve each attribute: Update (first non-NULL
 * wins, AuthoritativeNull empties, IgnoreThisFlow keeps), Merge, MergeCaseInsensitive. */
int contribs_merge(contribs *c, mvs_arena *a, merged_set *out);
void merged_free(merged_set *m);
const merged *merged_get(const merged_set *m, const char *attr);
/* Add the contributions of one in-scope rule evaluated against a view; errors are counted
 * and logged, the flow contributes nothing.  apply_once_ok: apply-once flows apply.  lazy:
 * inbound reference flows only count their values (contrib_materialize reads them). */
int contribs_from_rule(mvs_engine *e, obj_view *v, const rule *r, bool apply_once_ok,
                       int64_t out_connector, bool lazy, contribs *c);
/* Read an inbound reference contribution's targets (metaverse ids) from its object's view;
 * it is no longer lazy. */
int contrib_materialize(obj_view *v, contrib *ct);

#endif
