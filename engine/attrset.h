/* attrset — an object's attributes (name -> typed values, with the contributing rule for
 * metaverse attributes) and their compact binary encoding: one blob per object in the store.
 * Memory: an attrset's names, values and sources live in the arena given to attrset_init;
 * the entry array is the attrset's own (attrset_free).  Encodings are appended to a buf. */
#ifndef MVS_ATTRSET_H
#define MVS_ATTRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/value.h"

enum {
  ATTR_MULTI = 1,  /* multi-valued: one value is still a list */
  ATTR_REF = 2     /* a reference attribute: its values live in cs_ref / mv_ref rows */
};

typedef struct attr_entry {
  const char *name;
  mvs_value value;   /* single value, MV list, or NULL (reference placeholders) */
  unsigned flags;
  const char *src;   /* metaverse: the rule that contributed the value; NULL elsewhere */
} attr_entry;

/* Entries sorted by name, compared ignoring ASCII case (LDAP names are case-insensitive). */
typedef struct attrset {
  attr_entry *items;
  size_t n, cap;
  mvs_arena *arena;
} attrset;

void attrset_init(attrset *s, mvs_arena *arena);
void attrset_clear(attrset *s);          /* keeps the arena and the entry array */
void attrset_free(attrset *s);

const attr_entry *attrset_get(const attrset *s, const char *name, size_t n);
/* Set (replace) an attribute; name, value and src are copied into the arena.  A NULL value
 * without ATTR_REF removes the attribute.  0, or -1 when out of memory. */
int attrset_set(attrset *s, const char *name, mvs_value v, unsigned flags, const char *src);
void attrset_remove(attrset *s, const char *name);
/* Deep copy of v (strings, lists) into the arena. */
int attrset_copy_value(mvs_arena *a, mvs_value v, mvs_value *out);

/* Blob encoding of the whole set; decoding replaces the set's contents.  -1 on a corrupt
 * blob or out of memory. */
int attrset_encode(const attrset *s, buf *out);
int attrset_decode(attrset *s, const void *blob, size_t n);

/* One single value on its own (pending_export_value.value). */
int attr_value_encode(mvs_value v, buf *out);
int attr_value_decode(mvs_arena *a, const void *blob, size_t n, mvs_value *out);

/* Exact equality: same type and bytes (lists item by item, in order). */
bool attr_value_same(mvs_value a, mvs_value b);
/* Same as attr_value_same, but lists compare as sets. */
bool attr_value_same_set(mvs_value a, mvs_value b);
/* Total order used to sort values for output: by type, then bytes / number. */
int attr_value_cmp(mvs_value a, mvs_value b);

/* Each attribute present in one set only, or with another value (flags are not compared),
 * in name order:
 * fn(u, entry before or NULL, entry after or NULL). */
void attrset_changes(const attrset *before, const attrset *after,
                     void (*fn)(void *u, const attr_entry *a, const attr_entry *b), void *u);
/* An attribute name's (n bytes) bit in a set of names hashed to 64 bits
 * (cs_row.changed_attrs): FNV-1a of the name in ASCII lower case (names are
 * case-insensitive, as attrset_get), modulo 64. */
uint64_t attr_name_bit(const char *name, size_t n);

/* Lower-case fold of a value's text form (join keys, DN matching); appended to out. */
int attr_fold(mvs_value v, buf *out);
int text_fold(const char *p, size_t n, buf *out);
/* A value's text for logs, diffs and DN building: the first of a list, "" for none (and
 * for NULL, AUTHNULL, IGNORE); other strings converted into the arena. */
int attr_value_text(mvs_arena *a, mvs_value v, const char **p, size_t *n);

#endif
