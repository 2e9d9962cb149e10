/* fobj — one object's attributes as owned value sets, with the replace / add / delete algebra
 * change records need.  Memory: an fobj owns its names and values until fobj_free; arrays from
 * fobj_emit point into it until it next changes. */
#ifndef MVS_FOBJ_H
#define MVS_FOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connectors/connector.h"

typedef struct fvals {
  mvs_value *v; /* single values; their bytes are malloc'd and NUL-terminated */
  uint64_t *h;  /* value hashes, computed on the first add or delete (NULL until then) */
  size_t n, cap;
} fvals;

typedef struct fattr {
  char *name;
  bool incr;  /* values added (vals) and removed (dels); the full set is unknown */
  bool multi; /* deliver as multi-valued even with one value (it came as a list) */
  fvals vals;
  fvals dels;
} fattr;

typedef struct fobj {
  fattr *a;
  size_t n, cap;
} fobj;

/* Apply one change (REPLACE / ADD / DELETE; a DELETE without values clears the attribute).
 * `complete`: the object is whole, so an attribute not yet present has no values.
 * Returns 0, or -1 when out of memory. */
int fobj_apply(fobj *o, const conn_attr *ch, bool complete);
/* The attributes as the engine receives them, into out (room for 2 * o->n entries): complete
 * objects give one REPLACE per attribute with values; change records also give REPLACE with
 * no values (cleared) and ADD / DELETE lists.  Returns the number written. */
size_t fobj_emit(const fobj *o, bool complete, conn_attr *out);
void fobj_free(fobj *o);

/* Two single values are the same value (references compare as DN keys, ignoring case). */
bool fobj_value_eq(mvs_value a, mvs_value b);

#endif
