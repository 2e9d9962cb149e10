/* engine_int — what the engine's modules share: the compiled view of the rule set, the run
 * context (counters, log, dry-run diff, preview trace) and the entry points between import,
 * sync, export and run.  Memory: everything hangs off mvs_engine and is freed by
 * engine_close; per-object scratch lives in e->scratch, reset between objects. */
#ifndef MVS_ENGINE_INT_H
#define MVS_ENGINE_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "engine/attrset.h"
#include "engine/engine.h"
#include "engine/store.h"
#include "rules/ruleset.h"
#include "rules/scope.h"

/* A connector of the rule set with the rules that concern it. */
typedef struct conn_info {
  const rule_connector *rc;
  const char *dir;          /* directory of the declaring rule file (relative paths) */
  int64_t id;               /* store id; 0 until first used */
  const rule **in_rules;    /* inbound rules of this connector, by precedence */
  size_t n_in;
  const rule **out_rules;   /* outbound rules to this connector, by precedence */
  size_t n_out;
  const char **key_attrs;   /* connector-space attributes join conditions use */
  size_t n_key_attrs;
  char **member_groups;     /* group DNs (folded) its inbound ISMEMBEROF scopes name */
  size_t n_member_groups;
  /* Safety guards (docs/safety.md): destructive exports per run (count, and percent of
   * the connector space; 0 turns one off), and the share of the connector space a full
   * import may delete. */
  int64_t deletion_threshold;
  int64_t deletion_threshold_pct;
  int64_t import_delete_pct;
  /* Opened on first use to ask the directory whether a SelectUniqueValue candidate is
   * taken (connector_ops.value_taken); closed by engine_close.  NULL until then. */
  struct open_connector *asked;
} conn_info;

/* One attribute change for the dry-run diff and the preview trace. */
typedef struct diff_change {
  const char *attr;
  mvs_value old_v, new_v;   /* NULL when absent */
  const char *rule;         /* the contributing rule, NULL when unknown */
  bool drift;               /* an export putting back what the directory drifted from */
} diff_change;

typedef struct diff_entry {
  const char *kind;         /* "connector-space", "metaverse", "export" */
  const char *where;        /* connector name or metaverse object type */
  const char *object;       /* DN, anchor or metaverse links */
  const char *op;           /* add, update, delete, join, disconnect, rename, ... */
  const char *detail;       /* new DN of a rename, error text, ... ; NULL */
  diff_change *changes;
  size_t n_changes;
  bool drift;               /* an export with drift changes */
} diff_entry;

/* The entries of the objects being evaluated live in the arena; a dry run writes them, rendered,
 * to its spill file at each object boundary (diff_flush), so its memory is one object's diff
 * whatever the size of the run.  A preview (no spill file) keeps its few entries in memory. */
typedef struct diff_log {
  mvs_arena *arena;
  diff_entry **items;       /* stable pointers: callers hold the entry they fill */
  size_t n, cap;
  FILE *spill;              /* dry runs: the rendered entries so far (unlinked temp file) */
  bool json;                /* how the spill file is rendered */
  size_t shown;             /* entries written to it */
  char error[256];          /* non-empty: an entry was lost; the run must fail */
} diff_log;

/* One metaverse reference value a delta sync added or removed by applying value deltas. */
typedef struct ref_change {
  int64_t mv_id;
  const char *attr;         /* the rule set's name of the metaverse attribute */
  int64_t target;           /* the metaverse object the value names */
  bool added;
} ref_change;

/* Work a sync run still has to do; see docs/internals/sync.md. */
typedef struct sync_work {
  id_list cs;       /* connector-space objects to (re-)evaluate inbound */
  id_list mv_in;    /* metaverse objects whose import flow must be recomputed */
  id_list mv_out;   /* metaverse objects whose outbound rules must be re-evaluated */
  id_list mv_out_delta;  /* ... whose only change is in ref_changes: exports take those */
  /* Drift (docs/internals/sync.md): joined objects whose own import this sync takes, and
   * metaverse objects this sync changed; sorted before each outbound pass. */
  id_list drift_cs;
  id_list mv_changed;
  ref_change *changes;
  size_t n_changes, cap_changes;
  /* References each export computation left out, by connector-space object: an object
   * recomputed in the same sync (a nested group created after its parent) counts once,
   * with its last computation. */
  struct skip_count *skips;
  size_t n_skips, cap_skips;
} sync_work;

struct mvs_engine {
  store *st;
  rule_set *rs;
  conn_info *conns;
  size_t n_conns;
  const char **mv_key_attrs;  /* metaverse attributes inbound join conditions use */
  size_t n_mv_key_attrs;
  char ruleset_hash[65];

  /* run context */
  bool in_tx;                 /* a dry run's outer transaction is open */
  bool rebuild_keys;          /* full sync after the join-key attributes changed */
  bool full_sync;             /* a full sync re-reads everything: no value deltas */
  bool import_was_full;       /* the last import ran a full import (asked or turned into one) */
  run_result *res;
  buf log;
  diff_log *diff;             /* non-NULL: collect changes (dry runs, preview) */
  buf *trace;                 /* non-NULL: preview trace lines */
  int64_t now;                /* ticks at run start: Now() in flows */
  mvs_arena *scratch;         /* per-object evaluation memory */
  mvs_arena *scratch2;        /* a second object at the same time (joins, references) */
  char errmsg[512];
  /* The whole command's deadline (engine_set_timeout): CLOCK_MONOTONIC ms, 0 for none. */
  int64_t deadline_ms, timeout_ms;
  bool timed_out;             /* a step stopped at the deadline: the run is ENGINE_TIMEOUT */
  char activity[160];         /* what the run is doing, for the deadline's message */
};

/* ---- engine.c helpers shared by the modules ---- */
void engine_logf(mvs_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void engine_errorf(mvs_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* CLOCK_MONOTONIC milliseconds. */
int64_t engine_now_ms(void);
/* True once the run's deadline has passed: e->errmsg names what the run was doing and
 * e->timed_out is set; the caller stops and rolls back its step.  Checked between objects
 * and between export batches. */
bool engine_deadline_passed(mvs_engine *e);
/* rc, after giving a failure no step explained the store's message, prefixed by what. */
int engine_fail(mvs_engine *e, int rc, const char *what);
conn_info *engine_conn(mvs_engine *e, const char *name);
conn_info *engine_conn_by_id(mvs_engine *e, int64_t id);
/* The connector's store id, creating its row on first use. */
int engine_conn_id(mvs_engine *e, conn_info *c, int64_t *id);
const rule_attr_decl *engine_conn_attr(const conn_info *c, const char *name);
/* True when an inbound ISMEMBEROF / ISNOTMEMBEROF scope of c names the group with this DN:
 * its membership is part of its members' scope. */
bool engine_member_group(const conn_info *c, const char *dn);
/* Step transactions: real ones, or nothing inside a dry run's outer transaction. */
int engine_tx_begin(mvs_engine *e);
int engine_tx_commit(mvs_engine *e);
void engine_tx_rollback(mvs_engine *e);

/* ---- diff.c ---- */
diff_entry *diff_add(mvs_engine *e, const char *kind, const char *where, const char *object,
                     const char *op, const char *detail);
int diff_change_add(mvs_engine *e, diff_entry *d, const char *attr, mvs_value old_v,
                    mvs_value new_v, const char *rule_name);
/* A diff kept in memory (preview), or, with spill, one that streams (dry runs); the arena
 * holds one object's entries and is capped at cap bytes (0: 1 GiB). */
int diff_open(diff_log *d, bool spill, bool json, size_t cap);
/* An object boundary: write the collected entries to the spill file.  -1 (and d->error set)
 * when anything could not be kept. */
int diff_flush(mvs_engine *e);
int diff_render(const diff_log *d, bool json, buf *out);
/* The whole streamed diff, framed ("[...]" or text), copied to out. */
int diff_write(diff_log *d, FILE *out);
void diff_free(diff_log *d);
/* A value in a preview trace line: "text" (empty for none), a JSON array when multi-valued. */
int trace_value(mvs_engine *e, buf *out, mvs_value v);

/* ---- import.c ---- */
int import_run(mvs_engine *e, conn_info *c, bool full, const run_opts *o);

/* ---- sync.c ---- */
int sync_run(mvs_engine *e, bool full);
/* Process the listed connector-space objects (and everything they touch) to the end. */
int sync_objects(mvs_engine *e, sync_work *w);
void sync_work_free(sync_work *w);
/* Sort the drift lists for lookups (before outbound work). */
void sync_drift_ready(sync_work *w);
/* Note that cs_id's export computation left out n references; 0 or -1 (no memory). */
int sync_skips_note(sync_work *w, int64_t cs_id, int64_t n);

/* ---- sync_in.c ---- */
/* Inbound for one connector-space object: delete, join, project or disconnect it, then
 * recompute its metaverse object.  Two passes over a set of objects: joined_pass takes the
 * joined ones and deletes, the other pass the disconnectors (including those the first pass
 * disconnected), so who wins a contested join does not depend on which objects a sync
 * visits (delta ≡ full). */
int sync_in_cs(mvs_engine *e, int64_t cs_id, bool joined_pass, sync_work *w);
/* Recompute a metaverse object's attributes from every joined object; deletes it when
 * nothing keeps it alive.  new_link: a connector-space object joined just now (apply-once
 * flows from it apply), 0 for none.  delta_cs: the joined object whose import is being
 * synced, its link unchanged: reference attributes whose winning rule did not change take
 * that object's value deltas instead of being re-read (0: re-read everything). */
int sync_in_mv(mvs_engine *e, int64_t mv_id, int64_t new_link, int64_t delta_cs,
               sync_work *w);
/* Delete a metaverse object: disconnect everything, stage deletes of provisioned targets. */
int sync_mv_delete(mvs_engine *e, int64_t mv_id, sync_work *w);
/* Bring the reference rows of one attribute to want (sorted, unique; NULL: none), with
 * the changes in d (may be NULL); *changed set when a row changed. */
int sync_write_mv_refs(mvs_engine *e, int64_t mv_id, const char *attr, const id_list *want,
                       diff_entry *d, bool *changed);
/* Note one reference value a sync added to or removed from a metaverse object, for the
 * value-level outbound of mv_out_delta. */
int sync_note_ref_change(sync_work *w, int64_t mv_id, const char *attr, int64_t target,
                         bool added);

/* ---- collection.c ---- */
/* Full sync, once inbound has settled: the object of every collection of the rule set
 * (created when missing, dropped when its block is gone), its attributes and all its
 * members.  Its outbound is the full sync's outbound pass over every object. */
int collection_sync_all(mvs_engine *e, sync_work *w);
/* Delta sync: a metaverse object whose attributes changed (mv: its new blob) moves in or
 * out of the collections of its type, each move a value-level change of that collection. */
int collection_sync_object(mvs_engine *e, const mv_row *mv, sync_work *w);

/* ---- sync_out.c ---- */
int sync_out_mv(mvs_engine *e, int64_t mv_id, sync_work *w);
/* Outbound for a metaverse object whose only change is the reference values in ch (n of
 * them): pending export values follow those values where nothing else can differ, else the
 * connector is evaluated in full. */
int sync_out_mv_delta(mvs_engine *e, int64_t mv_id, const ref_change *ch, size_t n,
                      sync_work *w);
/* Stage the delete of a provisioned object and disconnect it. */
int sync_out_deprovision(mvs_engine *e, const cs_row *cs, sync_work *w);

/* ---- flow.c: evaluation shared by inbound and outbound ---- */
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
int64_t engine_seed(const char *s);

/* A value's text for logs, diffs and DN building. */
int value_text(mvs_arena *a, mvs_value v, const char **p, size_t *n);

/* ---- export.c ---- */
int export_run(mvs_engine *e, conn_info *c, const run_opts *o);
/* Reorder a connector's pending exports (as store_pe_list gives them) so that what a change
 * needs is sent first: parents and referenced objects before an add, children before a
 * delete (export_order.c).  0, or -1 on a store or memory failure. */
int export_order(mvs_engine *e, id_list *ids);

/* ---- schedule.c: Connect's scheduler rules (docs/monitoring.md) ---- */
/* Whether c's next import must be a full one, and why (reason; "" when not due): never
 * fully imported, no delta watermark, its settings changed or it imports an attribute or
 * object type it did not at its last full import, or its watermark is older than its
 * directory keeps changes (delta-max-age).  ENGINE_OK, ENGINE_INVALID (a bad delta-max-age)
 * or ENGINE_SYSTEM, with e->errmsg. */
int schedule_import_due(mvs_engine *e, conn_info *c, char *reason, size_t len, bool *due);
/* Whether the next sync must be a full one (never synced, or the rule set changed), and why;
 * ENGINE_OK or ENGINE_SYSTEM. */
int schedule_sync_due(mvs_engine *e, char *reason, size_t len, bool *due);
/* After a committed import of c (full: it was a full one): remember when its watermark was
 * issued and, for a full import, what it read.  0, or -1 on a store error. */
int schedule_note_import(mvs_engine *e, conn_info *c, bool full);
/* After a cycle that ran every step (errors per object allowed): when it ended. */
int schedule_note_cycle(mvs_engine *e);
/* "YYYY-MM-DDTHH:MM:SSZ" (the runs' times) as seconds since the epoch, -1 when it is not
 * one; and back (out: 32 bytes). */
int64_t schedule_epoch(const char *iso);
void schedule_iso(int64_t epoch, char out[32]);

/* ---- dump.c ---- */
int dump_mv_label(mvs_engine *e, int64_t mv_id, mvs_arena *a, const char **label);
int dump_cs_label(mvs_engine *e, const cs_row *cs, mvs_arena *a, const char **label);
/* A run as `mvsync runs --json` and `mvsync status --json` print it (one JSON object). */
void dump_run_json(buf *out, const run_row *r);

/* ---- contributions (flow.c): what rules flow to one object, merged per attribute ---- */
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

/* ---- connect.c: a rule-set connector opened through connector.h ---- */
typedef struct open_connector {
  const connector_ops *ops;
  connector *conn;
  conn_config cfg;
  conn_setting *settings;   /* owned: values resolved (secrets, relative paths) */
  char **owned;             /* strings the settings point to */
  size_t n_owned;
  const char **attrs, **ref_attrs;
  char *types_csv;
} open_connector;
int connector_open_for(mvs_engine *e, conn_info *c, open_connector *oc);
/* What an import of c reads: the attributes (oc->attrs, oc->ref_attrs, counted in oc->cfg)
 * and the object types (oc->types_csv; NULL: every type), from its declarations and rules,
 * into a zeroed oc (connector_close_for frees them).  0, or -1 when out of memory. */
int connector_import_list(conn_info *c, open_connector *oc);
/* SelectUniqueValue: whether the directory of c holds value in attr on an object other than
 * except_anchor (NULL: none excepted), through connector_ops.value_taken (c->asked is opened
 * on first use).  A connector that cannot be asked answers not taken.  ENGINE_* codes. */
int connector_value_taken(mvs_engine *e, conn_info *c, const char *object_type,
                          const char *attr, const char *value, const char *except_anchor,
                          bool *taken);
/* The data shape of a connector (its "shape" setting, else its type); NULL when none. */
const struct shape *engine_conn_shape(const conn_info *c);
void connector_close_for(open_connector *oc);

#endif
