/* expr — the two Microsoft attribute-flow expression languages: parse once, evaluate many
 * times against an object's attributes.  Memory: expr_parse returns an expr the caller frees
 * with expr_free; values from expr_eval live in the arena the caller passes in. */
#ifndef MVS_EXPR_H
#define MVS_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "schema/value.h"

typedef enum expr_dialect {
  EXPR_CONNECT = 0,  /* Connect Sync / MIM declarative provisioning language */
  EXPR_CLOUD = 1     /* Cloud Sync / app provisioning attribute-mapping language */
} expr_dialect;

enum {
  EXPR_OK = 0,
  EXPR_ERR_PARSE = 1,    /* syntax, unknown function, wrong arity */
  EXPR_ERR_RUNTIME = 2,  /* Error(), type errors, out-of-range Item() */
  EXPR_ERR_LIMIT = 3,    /* evaluation exceeded its memory or step budget */
  EXPR_ERR_NOMEM = 4
};

/* An error: message and the byte offset in the expression text where it applies. */
typedef struct expr_error {
  size_t offset;
  char msg[256];
} expr_error;

typedef struct expr expr;

int expr_parse(const char *src, size_t len, expr_dialect d, expr **out, expr_error *err);
void expr_free(expr *e);
expr_dialect expr_get_dialect(const expr *e);

/* Call fn once per distinct attribute name the expression reads ([attr] and
 * ImportedValue("attr")), in first-use order. */
void expr_attrs(const expr *e, void (*fn)(void *u, const char *name, size_t n), void *u);

/* True when the expression is a bare attribute reference ([attr]); sets name. */
int expr_is_attr(const expr *e, const char **name, size_t *n);

/* Canonical text of the expression (used by the rule formatter): caller frees. */
char *expr_to_string(const expr *e);

/* What evaluation may read.  Everything is supplied by the caller: evaluation does no I/O,
 * reads no clock and no global random state, so the same env gives the same result. */
typedef struct expr_env {
  /* Value of attribute `name` (MVS_V_NULL when absent). Required. */
  mvs_value (*attr)(void *u, const char *name, size_t n);
  /* ImportedValue("name"); NULL means "same as attr". */
  mvs_value (*imported)(void *u, const char *name, size_t n);
  /* %Param%: return 0 and set *out when known, -1 when unknown. NULL: none known. */
  int (*param)(void *u, const char *name, size_t n, mvs_value *out);
  void *u;
  int64_t now;        /* Now(), in ticks (see value.h) */
  uint64_t seed;      /* seeds Guid(), RandomNum(), RandomString() */
  uint64_t max_steps; /* 0: 1,000,000 evaluation steps */
  /* SelectUniqueValue: 1 when v is not yet taken in the target, 0 when taken, -1 when the
   * target cannot tell (the evaluation fails).
   * NULL: every candidate counts as unique (the first non-empty rule wins). */
  int (*is_unique)(void *u, mvs_value v);
} expr_env;

/* Evaluate.  On EXPR_OK *out is the result (possibly MVS_V_NULL, MVS_V_AUTHNULL or
 * MVS_V_IGNORE).  Otherwise err says why. Memory is bounded by the arena's cap. */
int expr_eval(const expr *e, const expr_env *env, mvs_arena *a, mvs_value *out,
              expr_error *err);

#endif
