/* escape — values put into LDAP search filters (RFC 4515) and DN attribute values (RFC 4514)
 * made safe.  Memory: results are appended to the caller's buf. */
#ifndef MVS_LDAP_ESCAPE_H
#define MVS_LDAP_ESCAPE_H

#include <stddef.h>

#include "schema/buf.h"

/* Append p[0..n) as a filter assertion value: '*', '(', ')', '\' and NUL as \2a \28 \29 \5c
 * \00, control bytes as \XX, and every byte >= 0x80 as \XX when the value is not UTF-8 text
 * (binary values such as objectGUID).  BUF_* codes. */
int ldap_escape_filter(buf *out, const char *p, size_t n);
/* Append p[0..n) as a DN attribute value: '"', '+', ',', ';', '<', '=', '>', '\' with a
 * backslash, a leading ' ' or '#' and a trailing ' ' with a backslash, control bytes as \XX.
 * BUF_* codes. */
int ldap_escape_dn_value(buf *out, const char *p, size_t n);

#endif
