/* xml — a small, non-validating XML reader for configuration files that come from outside
 * (Connect Sync's server-configuration export): elements, attributes, character data,
 * comments, CDATA sections, processing instructions (skipped), the five predefined entities
 * and character references.  No DTD: a DOCTYPE is refused, so no entity can expand.  No
 * namespace processing: names keep their prefix, and the lookups below compare local names
 * (`dsml:name` is found as "name").  Input is UTF-8 (a UTF-8 byte-order mark is skipped);
 * every node records its line and column (1-based; columns count bytes).
 * Memory: an xml_doc owns every node and string (one arena) until xml_free(). */
#ifndef MVS_XML_H
#define MVS_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"

typedef struct xml_attr {
  const char *name;   /* as written, prefix included */
  const char *value;  /* entities decoded, NUL-terminated */
} xml_attr;

typedef struct xml_node {
  const char *name;          /* as written, prefix included */
  const char *text;          /* the element's own character data (CDATA included), entities
                              * decoded and concatenated in order; "" when none */
  size_t text_len;           /* bytes in text (no NUL: &#0; is refused) */
  xml_attr *attrs;
  size_t n_attrs;
  struct xml_node *parent;
  struct xml_node *first;    /* first child element */
  struct xml_node *next;     /* next sibling element */
  uint32_t line, col;        /* where its '<' is */
} xml_node;

typedef struct xml_doc {
  xml_node *root;
  mvs_arena *arena;
} xml_doc;

/* Deepest element nesting accepted; the largest input callers should hand in (a document's
 * nodes take a few times its size). */
enum { XML_MAX_DEPTH = 256 };
#define XML_MAX_INPUT ((size_t)64 << 20)

/* Parse src[0..len) (need not be NUL-terminated).  On success *out is the document and 0 is
 * returned; on failure -1 with "LINE:COL: message" in err (always NUL-terminated) and *out
 * NULL.  Out of memory is a failure with the message "out of memory". */
int xml_parse(const char *src, size_t len, xml_doc **out, char *err, size_t errlen);
void xml_free(xml_doc *d);

/* Whether node n's local name (the part after any "prefix:") is `local`. */
bool xml_is(const xml_node *n, const char *local);
/* The first child element of n named `local` (local name), or NULL. */
const xml_node *xml_child(const xml_node *n, const char *local);
/* The next sibling after n named `local`, or NULL: for (c = xml_child(p, "x"); c;
 * c = xml_next(c, "x")). */
const xml_node *xml_next(const xml_node *n, const char *local);
/* The text of the first child element named `local`, or NULL when there is none. */
const char *xml_child_text(const xml_node *n, const char *local);
/* The value of attribute `local` (local name) of n, or NULL. */
const char *xml_attr_get(const xml_node *n, const char *local);

#endif
