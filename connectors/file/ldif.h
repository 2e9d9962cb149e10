/* ldif — an RFC 2849 reader (capped, exact file:line errors) and the plain-or-base64 value
 * writer.  Memory: a record lives in the reader until the next ldif_next; text goes to a buf. */
#ifndef MVS_LDIF_H
#define MVS_LDIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "schema/buf.h"

typedef struct ldif_limits {
  size_t max_line;   /* one unfolded line, bytes */
  size_t max_record; /* one record: its lines plus bookkeeping, bytes */
} ldif_limits;

typedef enum ldif_kind {
  LDIF_CONTENT = 0,
  LDIF_ADD,
  LDIF_DELETE,
  LDIF_MODIFY,
  LDIF_MODDN
} ldif_kind;
typedef enum ldif_modop { LDIF_MOD_ADD = 0, LDIF_MOD_DELETE, LDIF_MOD_REPLACE } ldif_modop;

typedef struct ldif_attrval {
  const char *attr; /* the attribute description as written (options included) */
  const char *val;  /* NUL-terminated; base64 values decoded */
  size_t len;
  bool b64; /* written as base64 (the bytes may be binary) */
  long line;
} ldif_attrval;

typedef struct ldif_mod {
  ldif_modop op;
  const char *attr;
  size_t first, count; /* its values: vals[first .. first + count) */
  long line;
} ldif_mod;

typedef struct ldif_record {
  ldif_kind kind;
  const char *dn;
  size_t dn_len;
  long line;          /* the "dn:" line */
  int64_t offset;     /* byte offset of the "dn:" line */
  ldif_attrval *vals; /* CONTENT and ADD: the attributes; MODIFY: the values of the mods */
  size_t n_vals;
  ldif_mod *mods;
  size_t n_mods;
  const char *newrdn; /* MODDN */
  size_t newrdn_len;
  const char *newsuperior; /* MODDN; NULL when absent */
  size_t newsuperior_len;
  bool deleteoldrdn;
} ldif_record;

enum { LDIF_RECORD = 1, LDIF_END = 0, LDIF_EDATA = -1, LDIF_EIO = -2, LDIF_ENOMEM = -3 };

typedef struct ldif_reader ldif_reader;

/* Read the file f (named `name` in messages) from byte `start`, where f is positioned and
 * `lines_before` lines lie before it (so lines and offsets are the file's), up to byte `end`.
 * A start past 0 must be the start of a record. */
ldif_reader *ldif_reader_new(FILE *f, const char *name, int64_t start, long lines_before,
                             int64_t end, const ldif_limits *lim);
/* The next record: LDIF_RECORD, LDIF_END, or an error (message in ldif_error). */
int ldif_next(ldif_reader *r, const ldif_record **rec);
/* "file:line: message" of the last error. */
const char *ldif_error(const ldif_reader *r);
void ldif_reader_free(ldif_reader *r);

/* Whether LDIF allows this attribute description (letters, digits, '-', ';' options, OIDs). */
bool ldif_attr_name(const char *p, size_t n);

/* Append "attr: value" (or "attr:: base64" when the value is not a safe string) and a newline.
 * `binary` forces base64.  Returns BUF_* codes. */
int ldif_put(buf *out, const char *attr, const char *val, size_t n, bool binary);

#endif
