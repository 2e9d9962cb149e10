/* graph_json — Graph-shaped JSON: a streaming (yajl callback) push reader of snapshots and of
 * delta pages (fed any bytes: a file, one per line, or an HTTP body as it arrives), as typed
 * changes; and the delta-page writer.  Memory: one object at a time in an arena capped by
 * max_object; a change lives until its callback returns; links and errors until the reader is
 * freed. */
#ifndef MVS_GRAPH_JSON_H
#define MVS_GRAPH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_gen.h>

#include "connectors/change.h"

typedef struct gj_opts {
  const char *name; /* the file, for origins and messages */
  const ftyper *typer;
  bool per_line;     /* one document per line (a change log) instead of one document */
  size_t max_object; /* bytes of JSON one object (or anything between objects) may take */
  const char *type;  /* the type of objects without "@odata.type" outside a named collection
                        (a Graph endpoint's); NULL: what "@odata.context" says */
  /* Where the bytes fed start in the file, so origins and offsets are the file's: its byte
   * offset (the start of a line) and the lines before it.  0 and 0: the start. */
  int64_t start;
  long lines_before;
} gj_opts;

enum { GJ_OK = 0, GJ_EDATA = -1, GJ_EIO = -2, GJ_ENOMEM = -3, GJ_STOPPED = -4 };

/* Nonzero stops the reading (gj_read then returns GJ_STOPPED). */
typedef int (*gj_change_fn)(void *u, const fchange *ch);

/* The push reader: feed bytes in any chunks, then end.  fn is called as each object ends.
 * feed and end return GJ_* (GJ_STOPPED when fn returned nonzero); after an error the message
 * ("name:line: message") is gj_reader_error's and further feeding does nothing. */
typedef struct gj_reader gj_reader;
typedef enum gj_link { GJ_NEXT_LINK = 0, GJ_DELTA_LINK } gj_link;

gj_reader *gj_reader_new(const gj_opts *o, gj_change_fn fn, void *u); /* NULL: no memory */
int gj_reader_feed(gj_reader *r, const char *p, size_t n);
int gj_reader_end(gj_reader *r);
const char *gj_reader_error(const gj_reader *r);
/* The last document's "@odata.nextLink" / "@odata.deltaLink" as given, or NULL. */
const char *gj_reader_link(const gj_reader *r, gj_link which);
void gj_reader_free(gj_reader *r);

/* Read f from byte o->start (where f is positioned) up to byte `end`, calling fn for each object in file order: an
 * FCH_UPSERT (properties REPLACE, "X@delta" lists ADD / DELETE) or, for "@removed", an
 * FCH_DELETE.  Errors other than GJ_STOPPED leave "file:line: message" in err. */
int gj_read(FILE *f, int64_t end, const gj_opts *o, gj_change_fn fn, void *u, char *err,
            size_t errlen);

/* Append ch (FCH_UPSERT or FCH_DELETE) as one delta-page line.  Returns BUF_* codes, or -1
 * when ch holds what a delta page cannot say (single values added to or removed from a
 * property that is not a reference, a name with '@', text that is not UTF-8). */
int gj_write_change(const fchange *ch, const shape *s, buf *out);

/* Generate v as Graph JSON: text, integer, boolean, ISO 8601 datetime, base64 binary, a
 * reference as {"id": ...}, multi-valued as an array, null.  0, or -1 when yajl refuses. */
int gj_gen_value(yajl_gen g, mvs_value v);

#endif
