/* state — a file directory's objects while the connector reads it: entries by anchor and DN
 * key (with attributes when kept), the keys the log touches, and applying one change with a
 * directory's checks.  Memory: the state owns its entries until fstate_free. */
#ifndef MVS_FILE_STATE_H
#define MVS_FILE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "connectors/change.h"
#include "connectors/file/fobj.h"
#include "connectors/hmap.h"

typedef struct fentry {
  char *anchor;
  char *dn;         /* DN; Graph objects: the id */
  char *key;        /* dn_key(dn) */
  const char *type; /* interned in the state */
  char *origin;     /* where it was last changed (kept with attributes only) */
  bool alive;
  bool seeded; /* added by fstate_seed (known to exist), not created by a change */
  fobj attrs;  /* when the state keeps attributes */
} fentry;

typedef enum fev { FEV_NONE = 0, FEV_ADD, FEV_UPDATE, FEV_DELETE } fev;

typedef struct fstate {
  const shape *shape;
  bool keep_attrs;
  fentry **e; /* every entry, in order of creation (dead ones too) */
  size_t n, cap;
  hmap by_anchor, by_key, touched;
  char **touched_keys;
  size_t n_touched, cap_touched;
  char **types;
  size_t n_types, cap_types;
  buf scratch;
} fstate;

fstate *fstate_new(const shape *s, bool keep_attrs);
void fstate_free(fstate *st);

/* Pass one over the change log: remember the DNs (ids) a change names.  0 or -1 (memory). */
int fstate_touch(fstate *st, const fchange *ch);
/* Whether the change log named this snapshot entry's DN (id). */
bool fstate_touched(fstate *st, const fchange *ch);

/* Apply a change: a snapshot entry, or a change record of the log.  On success *e is the
 * entry concerned (NULL when nothing happened) and *ev what happened to it.  Returns 0, -1
 * with "origin: message" in err, or -2 when out of memory. */
int fstate_apply(fstate *st, const fchange *ch, fentry **e, fev *ev, char *err, size_t errlen);

/* Add an entry known to exist without reading it (a delta import's lookup in the engine):
 * identity only, no attributes.  0, 1 when it is there already (same anchor and DN key), -1
 * when another live entry has its anchor or DN key, -2 when out of memory. */
int fstate_seed(fstate *st, const char *anchor, const char *dn, const char *type);

/* The live entry with this anchor / DN, or NULL. */
fentry *fstate_by_anchor(fstate *st, const char *anchor);
fentry *fstate_by_dn(fstate *st, const char *dn);
/* Whether some entry, live or deleted, ever had this anchor. */
bool fstate_knows_anchor(fstate *st, const char *anchor);
/* Whether some entry, live or deleted, has this DN (key) now. */
bool fstate_knows_dn(fstate *st, const char *dn);
/* Whether a live entry lies below e (an LDAP entry with children). */
bool fstate_has_children(fstate *st, const fentry *e);

#endif
