/* work — the work lists of one sync run: the objects it still has to evaluate inbound and
 * outbound, the drift lists, the reference values it changed and the references its export
 * computations left out; and the store queries that queue what a change touches.  The work
 * loop that empties them is sync.c's (docs/internals/sync.md).  Memory: every list is
 * malloc'd and owned by its sync_work; work_free releases them. */
#ifndef MVS_WORK_H
#define MVS_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine_int.h"
#include "engine/idset.h"
#include "engine/store.h"

/* One metaverse reference value a delta sync added or removed by applying value deltas. */
typedef struct ref_change {
  int64_t mv_id;
  const char *attr;         /* the rule set's name of the metaverse attribute */
  int64_t target;           /* the metaverse object the value names */
  bool added;
} ref_change;

/* References one export computation left out (work_note_skips). */
typedef struct skip_count {
  int64_t cs_id, n;
  size_t seq;               /* order of computation: the last one counts */
} skip_count;

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
  skip_count *skips;
  size_t n_skips, cap_skips;
  /* A full sync's inbound phase: every metaverse object goes outbound after it, so nothing
   * is queued outbound (work_queue_out), saving a referrer query per object evaluated and a
   * list of every metaverse object. */
  bool out_all_later;
  /* While the key tables are rebuilt: the objects whose key rows this sync wrote; the
   * connectors (bit i: e->conns[i], bit 63 any beyond) one of whose objects was a
   * disconnector when they were written; the store's unlink count when it began.  Only
   * those rows can match a key value (work_queue_key_matches). */
  idset keyed_cs, keyed_mv;
  uint64_t keyed_free;
  int64_t keyed_unlinks;
  idset refs_read;  /* a full sync's mvs_engine.refs_read */
} sync_work;

void work_free(sync_work *w);
/* Sort the drift lists for lookups (before outbound work). */
void work_drift_ready(sync_work *w);
/* Note one reference value a sync added to or removed from a metaverse object, for the
 * value-level outbound of mv_out_delta.  0, or -1 when memory runs out. */
int work_note_ref_change(sync_work *w, int64_t mv_id, const char *attr, int64_t target,
                         bool added);
/* Note that cs_id's export computation left out n references; 0 or -1 (no memory). */
int work_note_skips(sync_work *w, int64_t cs_id, int64_t n);
/* The references left out, counting each object's last computation (sorts the notes). */
int64_t work_skips_total(sync_work *w);

/* Queue a metaverse object for outbound, and the metaverse objects that reference one
 * (their exports name it); both nothing while w->out_all_later.  0, or -1. */
int work_queue_out(sync_work *w, int64_t mv_id);
int work_queue_out_referrers(mvs_engine *e, int64_t mv_id, sync_work *w);
/* Queue for inbound the metaverse objects of the objects that reference cs_id. */
int work_queue_referrers(mvs_engine *e, int64_t cs_id, sync_work *w);
/* Queue the disconnectors whose join-key value matches a metaverse key value (attr, norm):
 * a value that appears can join them, one that goes can free them from an ambiguous match,
 * so a delta sync joins what a full sync would. */
int work_queue_key_matches(mvs_engine *e, const char *attr, const char *norm, sync_work *w);
/* A rebuild wrote the key rows of a disconnector of c. */
void work_note_free_keys(mvs_engine *e, sync_work *w, const conn_info *c);
/* work_queue_key_matches for each (attr, folded value) row of keys (store_mv_key_list's). */
int work_queue_key_rows_matches(mvs_engine *e, const ref_rows *keys, sync_work *w);
/* Queue the disconnectors matching a metaverse object's current key values (its links or
 * keys are about to change). */
int work_queue_mv_key_matches(mvs_engine *e, int64_t mv_id, sync_work *w);

#endif
