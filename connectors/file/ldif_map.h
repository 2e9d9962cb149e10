/* ldif_map — LDIF records as typed changes of an LDAP-shaped directory (ad, ldap), and
 * changes written back as LDIF records.  Memory: a change built here lives in the arena
 * passed in; written text is appended to a buf. */
#ifndef MVS_LDIF_MAP_H
#define MVS_LDIF_MAP_H

#include <stddef.h>

#include "connectors/change.h"
#include "connectors/file/ldif.h"

/* Most attributes an entry may have: keeps grouping values by attribute linear. */
#define LDIF_MAX_ATTRS 4096

/* The change a record stands for; `origin` ("file:line") is kept.  Returns 0, -1 with a
 * "file:line: message" in err, -2 when the arena is full. */
int ldif_to_change(const ldif_record *rec, const char *file, const ftyper *t, mvs_arena *a,
                   fchange *out, char *err, size_t errlen);
/* Append ch as an LDIF record (a content record, or a change record when it is one) and a
 * blank line.  Returns BUF_* codes, or -1 when ch cannot be written (an attribute name LDIF
 * does not allow, a rename to the root). */
int ldif_write_change(const fchange *ch, buf *out);

#endif
