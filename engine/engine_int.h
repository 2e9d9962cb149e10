/* engine_int — the context every engine module shares: the compiled view of the rule set
 * (connectors with their rules), the run context (store, counters, log, dry-run diff,
 * preview trace, deadline, scratch arenas) and its helpers (engine_int.c).  Each module's
 * entry points are in its own header; docs/internals/README.md draws the order they call
 * each other in.  Memory: everything hangs off mvs_engine and is freed by
 * engine_close; per-object scratch lives in e->scratch and e->scratch2, reset between
 * objects. */
#ifndef MVS_ENGINE_INT_H
#define MVS_ENGINE_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "engine/attrset.h"
#include "engine/engine.h"
#include "engine/idset.h"
#include "engine/store.h"
#include "rules/ruleset.h"

/* A connector of the rule set with the rules that concern it. */
typedef struct conn_info {
  const rule_connector *rc;
  const char *dir;          /* directory of the declaring rule file (relative paths) */
  int64_t id;               /* store id; 0 until first used */
  const rule **in_rules;    /* inbound rules of this connector, by precedence */
  size_t n_in, cap_in;
  const rule **out_rules;   /* outbound rules to this connector, by precedence */
  size_t n_out, cap_out;
  const char **key_attrs;   /* connector-space attributes join conditions use */
  size_t n_key_attrs, cap_key_attrs;
  uint64_t key_bits;        /* attr_name_bit of each of key_attrs */
  uint64_t out_target_bits; /* attr_name_bit of the attributes its outbound rules write, and
                             * of dn */
  char **member_groups;     /* group DNs (folded) its inbound ISMEMBEROF scopes name */
  size_t n_member_groups, cap_member_groups;
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

/* The dry-run diff (diff.h). */
typedef struct diff_log diff_log;

struct mvs_engine {
  store *st;
  rule_set *rs;
  conn_info *conns;
  size_t n_conns;
  const char **mv_key_attrs;  /* metaverse attributes inbound join conditions use */
  size_t n_mv_key_attrs, cap_mv_key_attrs;
  uint64_t out_read_bits;     /* attr_name_bit of the metaverse attributes outbound rules
                               * read (scopes, join conditions, flows); every bit when one
                               * cannot tell */
  char ruleset_hash[65];

  /* run context */
  bool in_tx;                 /* a dry run's outer transaction is open */
  bool rebuild_keys;          /* full sync after the join-key attributes changed */
  bool full_sync;             /* a full sync re-reads everything: no value deltas */
  /* A full sync's objects whose metaverse object a reference read resolved (view_refs):
   * only a change of their link can change a metaverse object already computed. */
  idset *refs_read;
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
  /* The connector-space objects a flow error was recorded for during one evaluation (a
   * metaverse object's inbound flows read every object joined to it): the evaluation's end
   * keeps those errors rather than clearing them.  Unsorted, a few; emptied per evaluation. */
  id_list flow_err;
  /* run_opts.progress of the run, the objects its step has done and about how many it
   * will do (-1: unknown). */
  void (*progress)(void *u, const char *step, int64_t done, int64_t total);
  void *progress_u;
  int64_t progress_done, progress_total;
};

/* ---- engine_int.c: helpers on the context ---- */
/* One line of the run log.  A line that reports an error starts "error: ", a warning
 * "warning: "; the rest are information (the CLI prints each at its level). */
void engine_logf(mvs_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void engine_errorf(mvs_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* n more objects done by the step (run_opts.progress). */
void engine_progress(mvs_engine *e, int64_t n);
/* CLOCK_MONOTONIC milliseconds. */
int64_t engine_now_ms(void);
/* True once the run's deadline has passed: e->errmsg names what the run was doing and
 * e->timed_out is set; the caller stops and rolls back its step.  Checked between objects
 * and between export batches. */
bool engine_deadline_passed(mvs_engine *e);
/* rc, after giving a failure no step explained the store's message, prefixed by what. */
int engine_fail(mvs_engine *e, int rc, const char *what);
/* A connector's object named by its anchor, else by its DN (any case), read into
 * e->scratch: STORE_OK, STORE_NOTFOUND or STORE_ERR. */
int engine_find_cs(mvs_engine *e, int64_t connector, const char *object, cs_row *cs);
conn_info *engine_conn(mvs_engine *e, const char *name);
conn_info *engine_conn_by_id(mvs_engine *e, int64_t id);
/* True when c's join keys read the DN: a DN the engine gives its object changes its key
 * rows (sync_in_dn_keys).  c may be NULL (a connector gone from the rule set: no keys). */
bool engine_keys_read_dn(const conn_info *c);
/* The connector's store id, creating its row on first use. */
int engine_conn_id(mvs_engine *e, conn_info *c, int64_t *id);
const rule_attr_decl *engine_conn_attr(const conn_info *c, const char *name);
/* True when an inbound ISMEMBEROF / ISNOTMEMBEROF scope of c names the group with this DN:
 * its membership is part of its members' scope. */
bool engine_member_group(const conn_info *c, const char *dn);
/* Append name to the list *v of *n names (capacity *cap) unless it has it, case ignored
 * (a NULL name is skipped); the list holds the pointer, not a copy.  0, or -1. */
int engine_name_add(const char ***v, size_t *n, size_t *cap, const char *name);
/* A run's status as the store keeps it ("success", "completed-errors", …) for an ENGINE_*
 * outcome, and back (an unknown text is ENGINE_SYSTEM: "failed"). */
const char *engine_run_status(int rc);
int engine_run_status_code(const char *status);
/* Record a run in the history (engine/run.c): its profile ("full-import", …,
 * "discard-pending"), connector (NULL: none), start ("YYYY-MM-DDTHH:MM:SSZ"), duration, the
 * counts and status of e->res and the run log from log_from; in its own transaction unless
 * one is open (e->in_tx).  *run_id (may be NULL) gets the run's id.  0, or -1. */
int engine_record_run(mvs_engine *e, const char *profile, const char *conn_name,
                      const char *started, int64_t ms, size_t log_from, int64_t *run_id);
/* Whether a flow error was recorded for cs_id during this evaluation (e->flow_err). */
bool engine_flow_failed(const mvs_engine *e, int64_t cs_id);
/* Step transactions: real ones, or nothing inside a dry run's outer transaction. */
int engine_tx_begin(mvs_engine *e);
int engine_tx_commit(mvs_engine *e);
void engine_tx_rollback(mvs_engine *e);

#endif
