/* escape — values put into LDAP search filters (RFC 4515) made safe (DN values: dn.h's
 * dn_escape_value).  Memory: results are appended to the caller's buf. */
#ifndef MVS_LDAP_ESCAPE_H
#define MVS_LDAP_ESCAPE_H

#include <stddef.h>

#include "schema/buf.h"

/* Append p[0..n) as a filter assertion value: '*', '(', ')', '\' and NUL as \2a \28 \29 \5c
 * \00, control bytes as \XX, and every byte >= 0x80 as \XX when the value is not UTF-8 text
 * (binary values such as objectGUID).  BUF_* codes. */
int ldap_escape_filter(buf *out, const char *p, size_t n);

#endif
