/* dn — DNs as directories compare them (a case-folded, escape-normalized key) and the RDN /
 * parent split renames need.  Memory: results go to a caller's buf or point into the input. */
#ifndef MVS_DN_H
#define MVS_DN_H

#include <stdbool.h>
#include <stddef.h>

#include "schema/buf.h"

/* Append the comparison key of dn to out (BUF_* codes).  Text without '=' (a Graph id) is
 * simply case folded, so the same key works for every kind of reference. */
int dn_key(const char *dn, size_t n, buf *out);
/* Whether two DNs (or ids) name the same entry: their keys are equal. */
bool dn_equal(const char *a, size_t an, const char *b, size_t bn);
/* Whether text with each code point lower-cased (utf8_tolower; the engine folds DNs so) is
 * key.  A DN for which it holds with its own dn_key compares as a DN when compared as folded
 * text. */
bool dn_fold_is(const char *text, size_t n, const char *key, size_t kn);
/* Whether dn_fold_is(dn, dn_key(dn)): false also when out of memory. */
bool dn_folds_to_key(const char *dn, size_t n);
/* Whether dn is a DN: RDNs of attribute=value pairs with a type each, every escape complete. */
bool dn_valid(const char *dn, size_t n);
/* Length of the first RDN (up to the first unescaped ','). */
size_t dn_rdn_len(const char *dn, size_t n);
/* Offset where the parent DN starts (after the first RDN, its ',' and spaces); n when the DN
 * has a single RDN. */
size_t dn_parent_off(const char *dn, size_t n);
/* The next attribute=value pair of an RDN from *pos ("CN=Smith\, John+uid=js"): the type into
 * attr (ASCII lower case: "cn", as the attribute is named) and the unescaped value into value
 * (both reset first).  Returns 1, 0 at the end, -1
 * when the pair has no '=' or memory ran out. */
int dn_ava_next(const char *rdn, size_t n, size_t *pos, buf *attr, buf *value);
/* Append p[0..n) as an RDN attribute value (RFC 4514): '"', '+', ',', ';', '<', '=', '>', '\'
 * with a backslash, a leading ' ' or '#' and a trailing ' ' with a backslash, control bytes as
 * \XX.  BUF_* codes. */
int dn_escape_value(buf *out, const char *p, size_t n);

#endif
