/* file_int — what the file connector's parts share: the connector's state, reading the
 * snapshot and the change log, fingerprints and watermarks.  Memory: a connector owns its
 * strings and its export index; messages are malloc'd for the caller. */
#ifndef MVS_FILE_INT_H
#define MVS_FILE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "connectors/change.h"
#include "connectors/file/state.h"

struct connector {
  char *name, *path, *changes, *export_log;
  const shape *shape;
  ftyper typer;
  char **ref_attrs;
  char **attrs; /* attributes to deliver, sorted (case ignored); none: all */
  size_t n_attrs;
  char **types; /* object types to deliver; none: all */
  size_t n_types, cap_types;
  size_t max_line, max_object;
  /* The export index, as of index_end bytes of the change log: every object, or (lean) only
   * those this handle's exports created or deleted, the engine answering for the others. */
  fstate *index;
  bool index_lean;
  bool lean_dns_folded; /* lean: every DN the engine holds is in folded key form */
  int64_t index_end;
  uint64_t index_tail;
  struct timespec index_snap_mtime;
  int64_t index_snap_size;
};

char *fc_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fc_cmp_name(const void *a, const void *b);

/* A change read from a file: CONN_OK goes on, anything else stops the reading with it. */
typedef int (*change_fn)(void *u, const fchange *ch);

typedef struct source {
  connector *c;
  const char *path;
  bool log;          /* the change log (change records) rather than the snapshot */
  int64_t start;     /* the byte to read from: 0, or where a record starts */
  long lines_before; /* the lines before start */
  int64_t end;       /* the byte to read up to */
  change_fn fn;
  void *u;
} source;

/* Read a file of the source, calling s->fn for each change.  A change log that does not
 * exist is empty.  Returns CONN_* codes with *err set on failure (except what fn returned). */
int fc_read(const source *s, char **err);

/* What an import or export saw of the files: the log's size, the snapshot's size and time. */
typedef struct fingerprint {
  int64_t log_size;
  int64_t snap_size;
  struct timespec snap_mtime;
} fingerprint;

/* Take the fingerprint; log_fd is the change log already open and locked by the caller, or
 * -1 (the log is then read under a shared lock, so never halfway through an export). */
int fc_fingerprint(connector *c, int log_fd, fingerprint *fp, char **err);
/* Hash of the bytes of the change log just before off (read with fd, or the file when fd < 0),
 * and the last two of them in last2 when not NULL.  0, or -1 with errno. */
int fc_tail_hash(const char *path, int fd, int64_t off, uint64_t *h, unsigned char *last2);
/* The newlines in bytes [from, to) of a file, in *lines.  0, or -1 with errno. */
int fc_count_lines(const char *path, int64_t from, int64_t to, long *lines);
/* Whether reading the change log from byte off (0 < off < end, the bytes to look at) finds
 * the records a reading from its start finds there: 1, 0, or -1 with errno. */
int fc_record_starts_at(const char *path, bool ldif, int64_t off, int64_t end);
/* "OFF:TAIL:SNAPSIZE:SEC.NSEC:LINES:DNS:HOLDS": the log's size, the hash of the 64 bytes
 * before it, the snapshot's size and time, the newlines before OFF (a delta import starts
 * reading there with the right line numbers), whether every DN (id) an entry was ever given
 * is in folded key form (1: the engine's case-folded DN lookup then finds an entry by any
 * spelling), and, when every live entry was of a type the import delivers (so the engine
 * holds them all), the hash of those types (import.c), else 0.  Malloc'd; NULL when out of
 * memory. */
char *fc_watermark_format(int64_t off, uint64_t tail, const fingerprint *fp, long lines,
                          bool dns_folded, uint64_t holds);
/* A watermark's fields: as fc_watermark_format writes it (fields 8), the same without LINES,
 * DNS and HOLDS (fields 5, written before them), or a bare offset written by hand (fields 1,
 * digits only).  0, or -1 when it is none of these. */
typedef struct fc_watermark {
  int fields;
  long long off, snap_size, sec;
  unsigned long long tail;
  long nsec;
  long lines;
  int dns_folded;
  unsigned long long holds;
} fc_watermark;
int fc_watermark_parse(const char *wm, fc_watermark *out);
/* Check a delta watermark against the files: CONN_OK with its fields, or CONN_ERR_WATERMARK. */
int fc_watermark_check(connector *c, const char *wm, const fingerprint *fp, fc_watermark *out,
                       char **err);

/* Whether the connector delivers objects of this type (its object_types_csv; none: all). */
bool fc_want_type(const connector *c, const char *type);
/* The types delivered, as a watermark's HOLDS remembers them (never 0; 0 when out of
 * memory, which no watermark's HOLDS matches: fc_holds_wanted). */
uint64_t fc_wanted_hash(const connector *c);
/* Whether a watermark's HOLDS says every live entry was of a type the connector delivers. */
bool fc_holds_wanted(const connector *c, uint64_t holds);
/* Ask the engine (a conn_sink.lookup) for the entry at dn: as written, then by its key when
 * that folds differently (the engine compares case-folded text, the connector DN keys).
 * key: scratch, left holding dn's key; *key_folded: whether that key is in folded form (so a
 * miss by it is a miss by every spelling).  1 found (*f), 0 not, -1 the lookup failed, -2
 * out of memory. */
int fc_lookup_dn(int (*lookup)(void *u, const char *dn, const char *anchor, conn_found *out),
                 void *u, const char *dn, buf *key, conn_found *f, bool *key_folded);

int fc_import(connector *c, conn_import_mode mode, const char *watermark, const conn_sink *sink,
              char **new_watermark, char **err);
int fc_export(connector *c, const conn_export *changes, size_t n, const conn_export_env *env,
              conn_export_result *results, char **err);

#endif
