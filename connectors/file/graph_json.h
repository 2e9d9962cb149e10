/* graph_json — Graph-shaped JSON: a streaming (yajl callback) reader of snapshots and of delta
 * pages one per line, as typed changes; and the delta-page writer.  Memory: one object at a time
 * in an arena capped by max_object; a change lives until its callback returns. */
#ifndef MVS_GRAPH_JSON_H
#define MVS_GRAPH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "connectors/file/change.h"

typedef struct gj_opts {
  const char *name; /* the file, for origins and messages */
  const ftyper *typer;
  bool per_line;     /* one document per line (a change log) instead of one document */
  size_t max_object; /* bytes of JSON one object (or anything between objects) may take */
} gj_opts;

enum { GJ_OK = 0, GJ_EDATA = -1, GJ_EIO = -2, GJ_ENOMEM = -3, GJ_STOPPED = -4 };

/* Nonzero stops the reading (gj_read then returns GJ_STOPPED). */
typedef int (*gj_change_fn)(void *u, const fchange *ch);

/* Read f from its start up to byte `end`, calling fn for each object in file order: an
 * FCH_UPSERT (properties REPLACE, "X@delta" lists ADD / DELETE) or, for "@removed", an
 * FCH_DELETE.  Errors other than GJ_STOPPED leave "file:line: message" in err. */
int gj_read(FILE *f, int64_t end, const gj_opts *o, gj_change_fn fn, void *u, char *err,
            size_t errlen);

/* Append ch (FCH_UPSERT or FCH_DELETE) as one delta-page line.  Returns BUF_* codes, or -1
 * when ch holds what a delta page cannot say (single values added to or removed from a
 * property that is not a reference, a name with '@', text that is not UTF-8). */
int gj_write_change(const fchange *ch, const shape *s, buf *out);

#endif
