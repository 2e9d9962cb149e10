/* diff — what a dry run or a preview would change: entries per object (connector space,
 * metaverse, export) with their attribute changes, streamed to a spill file at each object
 * boundary (dry runs) or kept in memory (preview), and rendered as text or JSON; and values
 * as a preview trace shows them.  Labels of the objects named: label.h.  Memory: entries
 * live in the log's arena; diff_free releases the log; rendered text is appended to the
 * caller's buf. */
#ifndef MVS_DIFF_H
#define MVS_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "engine/engine_int.h"
#include "schema/buf.h"
#include "schema/value.h"

/* One attribute change for the dry-run diff and the preview trace. */
typedef struct diff_change {
  const char *attr;
  mvs_value old_v, new_v;   /* NULL when absent */
  const char *rule;         /* the contributing rule, NULL when unknown */
  bool drift;               /* an export putting back what the directory drifted from */
  /* Split authority or an overlap names its attribute (`mvsync authority`): another rule,
   * from another source, can set it too; the rule shown is the one precedence chose. */
  bool contested;
} diff_change;

typedef struct diff_entry {
  const char *kind;         /* "connector-space", "metaverse", "export" */
  const char *where;        /* connector name or metaverse object type */
  const char *object;       /* DN, anchor or metaverse links */
  const char *op;           /* add, update, delete, join, disconnect, rename, ... */
  const char *detail;       /* new DN of a rename, error text, ... ; NULL */
  /* An export's: the type of the connector object (the metaverse's is `where`); NULL when
   * not set (diff_set_object_type).  Its changes are marked contested by it. */
  const char *object_type;
  diff_change *changes;
  size_t n_changes;
  bool drift;               /* an export with drift changes */
} diff_entry;

/* What a dry run's shown entries add up to, per kind, connector (or metaverse object type)
 * and operation: the summary a person reads first. */
typedef struct diff_count {
  const char *kind, *op;    /* static strings */
  char *where;              /* malloc'd */
  int64_t objects, values;
} diff_count;

/* What a dry run shows: every entry, or only the writes (`send`), or only those of one
 * connector (the metaverse's entries then not at all). */
typedef struct diff_filter {
  bool only_writes;
  const char *connector;    /* NULL: every connector */
} diff_filter;

/* The entries of the objects being evaluated live in the arena; a dry run writes them, rendered,
 * to its spill file at each object boundary (diff_flush), so its memory is one object's diff
 * whatever the size of the run.  A preview (no spill file) keeps its few entries in memory. */
struct diff_log {
  mvs_arena *arena;
  diff_entry **items;       /* stable pointers: callers hold the entry they fill */
  size_t n, cap;
  FILE *spill;              /* dry runs: the rendered entries so far (unlinked temp file) */
  bool json;                /* how the spill file is rendered */
  size_t shown;             /* entries written to it */
  diff_filter filter;       /* connector: malloc'd copy */
  /* A cycle: its export step shows what it would send (with the rule and drift the sync
   * noted, store_dry_note_*), so the sync's staging entries are not shown again. */
  bool writes_follow;
  diff_count *counts;
  size_t n_counts, cap_counts;
  char error[256];          /* non-empty: an entry was lost; the run must fail */
  /* The attributes split authority or an overlap makes contested (diff_set_contested):
   * space ("metaverse" or a connector), object type, attribute; usually a handful. */
  struct diff_contested {
    char *space, *object_type, *attr;
  } *contested;
  size_t n_contested, cap_contested;
};

diff_entry *diff_add(mvs_engine *e, const char *kind, const char *where, const char *object,
                     const char *op, const char *detail);
int diff_change_add(mvs_engine *e, diff_entry *d, const char *attr, mvs_value old_v,
                    mvs_value new_v, const char *rule_name);
/* The type of an export entry's connector object, before its changes are added. */
void diff_set_object_type(mvs_engine *e, diff_entry *d, const char *object_type);
/* Mark the changes of the attributes the authority map of rs finds contested (split
 * authority; docs/authority.md).  0, or -1 out of memory. */
int diff_set_contested(diff_log *d, const rule_set *rs);
/* A diff kept in memory (preview), or, with spill, one that streams (dry runs); the arena
 * holds one object's entries and is capped at cap bytes (0: 1 GiB). */
int diff_open(diff_log *d, bool spill, bool json, size_t cap);
/* Show only what filter lets through (dry runs); 0, or -1 out of memory. */
int diff_set_filter(diff_log *d, const diff_filter *filter);
/* An object boundary: write the collected entries to the spill file.  -1 (and d->error set)
 * when anything could not be kept. */
int diff_flush(mvs_engine *e);
int diff_render(const diff_log *d, bool json, buf *out);
/* The whole streamed diff, framed ("[...]" or text), copied to out. */
int diff_write(diff_log *d, FILE *out);
/* The shown entries counted (diff_count), as text — what would be written to each target
 * connector first, then what would be staged, what changes in the connector spaces and the
 * metaverse, the references skipped — or as a JSON array of {"kind", "where", "op",
 * "objects", "values"}. */
int diff_summary(const diff_log *d, bool json, buf *out);
/* Each shown entry of a JSON spill file, one compact JSON object (no framing), to fn; stops
 * at fn's first nonzero return, which it returns; -1 when the file cannot be read. */
int diff_each(diff_log *d, int (*fn)(void *u, const char *entry, size_t len), void *u);
void diff_free(diff_log *d);
/* A value in a preview trace line: "text" (empty for none), a JSON array when multi-valued. */
int trace_value(mvs_engine *e, buf *out, mvs_value v);

#endif
