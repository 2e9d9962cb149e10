/* jsoncmp — semantic comparison of mvsync dumps for the engine tests: JSON equality that
 * ignores key order and array order, and a "contains" form for partial expectations.
 * Memory: trees are yajl's (the caller frees them); messages are written to a caller buffer. */
#ifndef MVS_TEST_JSONCMP_H
#define MVS_TEST_JSONCMP_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_tree.h>

/* Arrays compare as multisets: dump arrays are either sorted lists of objects or the values
 * of a multi-valued attribute, and neither's order carries meaning.  With `subset`, every key
 * of an expected object must be in the actual object (extra actual keys are allowed); arrays
 * must still have the same length.  Returns true when `want` matches `got`; otherwise
 * writes where and how they differ to msg. */
bool jsoncmp_match(yajl_val want, yajl_val got, bool subset, char *msg, size_t msglen);

/* The compact JSON text of v, cut to at most max bytes ("..." appended when cut). */
void jsoncmp_text(yajl_val v, char *out, size_t max);

/* Parse a file into a tree; NULL with err set when it cannot be read or parsed. */
yajl_val jsoncmp_load(const char *path, char *err, size_t errlen);

/* Parse text into a tree; NULL with err set. */
yajl_val jsoncmp_parse(const char *text, char *err, size_t errlen);

#endif
