/* change — one record of a file directory in either format (snapshot entry, LDIF change record,
 * Graph delta object) with typed values.  Memory: a change and what it points to belong to
 * whoever built it (a reader until its next record). */
#ifndef MVS_CHANGE_H
#define MVS_CHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "connectors/shape.h"

typedef enum fch_kind {
  FCH_ENTRY = 0, /* a complete object: a snapshot entry, or (is_add) an LDIF add */
  FCH_UPSERT,    /* a Graph object: created if new, else the properties given change */
  FCH_MODIFY,    /* LDIF modify: value changes of an existing entry */
  FCH_RENAME,    /* LDIF modrdn / moddn: the entry moves to new_dn */
  FCH_DELETE     /* the object is gone (LDIF delete, Graph "@removed") */
} fch_kind;

typedef struct fchange {
  fch_kind kind;
  bool is_add;         /* FCH_ENTRY written as "changetype: add" */
  const char *dn;      /* the entry's DN; Graph: the id */
  const char *anchor;  /* complete objects and Graph objects: the anchor */
  const char *type;    /* the object type, when the record says */
  const char *new_dn;  /* FCH_RENAME */
  bool delete_old_rdn; /* FCH_RENAME: the old RDN values are removed */
  /* FCH_ENTRY: one REPLACE per attribute.  FCH_UPSERT: REPLACE per property given (no
   * values: cleared), ADD / DELETE for "X@delta" lists.  FCH_MODIFY: the modifications in
   * order (DELETE without values removes the attribute).  FCH_RENAME: the RDN value changes. */
  conn_attr *attrs;
  size_t n_attrs;
  const char *origin; /* "file:line" */
  int64_t offset;     /* byte offset in its file where the record (its line) starts */
} fchange;

/* How raw values become typed: the shape's syntaxes, plus the attributes the connector's
 * configuration names as references. */
typedef struct ftyper {
  const shape *shape;
  const char *const *ref_attrs;
  size_t n_ref_attrs;
} ftyper;

/* Type a raw value (single or multi-valued) for attr; see shape_convert.  Returns 0, -1 with
 * *why when a value does not fit, -2 when the arena is full. */
int ftype_value(const ftyper *t, const char *attr, mvs_value raw, bool json, mvs_arena *a,
                mvs_value *out, const char **why);
/* Set the anchor and type of a complete LDAP-shaped object from its attributes: the anchor
 * attribute (a GUID as its lowercase text), else the DN; the type from objectClass.
 * Returns 0, -1 with *why, -2 when the arena is full. */
int fchange_identify(fchange *ch, const shape *s, mvs_arena *a, const char **why);
/* The attribute named name (case ignored) among the change's attributes, or NULL. */
const conn_attr *fchange_attr(const fchange *ch, const char *name);

#endif
