/* json_str — text as a JSON string (RFC 8259): the one JSON string escaper of the tree, used by
 * the value codec, the rule-set writer and the SCIM role functions.  Pure: no JSON library, so
 * rules/ can use it.  Memory: nothing is allocated here but the bytes appended to the caller's
 * buf. */
#ifndef MVS_JSON_STR_H
#define MVS_JSON_STR_H

#include <stddef.h>

#include "schema/buf.h"

/* Append the inside of a JSON string for s[0..n): '"' and '\\' escaped, \n \r \t as such,
 * other control bytes as \u00xx, bytes that are not UTF-8 as \ufffd (so the result is always
 * valid JSON).  Returns a BUF_* code. */
int json_str_chars(buf *b, const char *s, size_t n);
/* The same between double quotes. */
int json_str_write(buf *b, const char *s, size_t n);

#endif
