/* expr_fn — the contract between the expression evaluator and the function library: the
 * table each fn_*.c file exports and the helpers a function uses.  Memory: arguments and
 * results live in the evaluation arena (expr_call_arena); functions never free. */
#ifndef MVS_EXPR_FN_H
#define MVS_EXPR_FN_H

#include <stdint.h>

#include "rules/expr.h"

typedef struct expr_call expr_call;

/* A function body.  args[0..n) are evaluated arguments (possibly MVS_V_NULL).  Return
 * EXPR_OK with *out set, or the code from expr_fail()/expr_nomem(). */
typedef int (*expr_fn_impl)(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);

enum {
  EXPR_D_CONNECT = 1u << EXPR_CONNECT,
  EXPR_D_CLOUD = 1u << EXPR_CLOUD,
  EXPR_D_BOTH = EXPR_D_CONNECT | EXPR_D_CLOUD
};

/* Arguments named in `whole` (bit i = argument i; bit 31 covers every argument >= 31) are
 * passed as they are, multi-valued or not.  Every other argument is scalar: when it is
 * multi-valued the evaluator calls the function once per value (zipping several such
 * arguments of equal length) and collects the non-NULL results into a multi-valued result.
 * This is Connect's "a function applied to a multi-valued attribute applies to each value". */
#define EXPR_ARG(i) (1u << ((i) < 31 ? (i) : 31))
#define EXPR_ARGS_ALL 0xffffffffu

typedef struct expr_fn_def {
  const char *name;   /* case-sensitive, as both languages are */
  unsigned dialects;  /* EXPR_D_* */
  int min_args;
  int max_args;       /* -1: variadic */
  uint32_t whole;     /* see above */
  expr_fn_impl impl;  /* NULL for special forms the evaluator implements itself */
} expr_fn_def;

/* Tables, each ended by an entry with name == NULL. */
extern const expr_fn_def expr_fn_text[];  /* fn_text.c: strings, DNs, encodings */
extern const expr_fn_def expr_fn_data[];  /* fn_data.c: conversion, dates, math, tests, multi-valued, flow */
extern const expr_fn_def expr_fn_core[];  /* expr_eval.c: IIF, Select, Where, With, ImportedValue,
                                              * Switch, ValueCount */

/* Lookup by exact name for a dialect; NULL when unknown.  *other is set (may be NULL) to a
 * same-named function of the other dialect or a case-insensitive match, for "did you mean". */
const expr_fn_def *expr_fn_find(const char *name, size_t n, expr_dialect d,
                                const expr_fn_def **other);

/* ---- helpers for function bodies ---- */
mvs_arena *expr_call_arena(expr_call *c);
expr_dialect expr_call_dialect(expr_call *c);
const char *expr_call_name(expr_call *c);     /* the function being called */
int64_t expr_call_now(expr_call *c);
uint64_t expr_call_random(expr_call *c);      /* next value of the env-seeded generator */
const expr_env *expr_call_env(expr_call *c);
/* Count work done inside a function (loops over input); fails with EXPR_ERR_LIMIT. */
int expr_call_steps(expr_call *c, uint64_t n);
/* Steps still available, for work that must be sized before it starts (a regex match). */
uint64_t expr_call_steps_left(expr_call *c);

/* Record a runtime error "Name: message" and return EXPR_ERR_RUNTIME. */
int expr_fail(expr_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record exactly p[0..n) (no "Name: " prefix; Error() uses it) and return EXPR_ERR_RUNTIME. */
int expr_fail_text(expr_call *c, const char *p, size_t n);
/* Record "expression result too large" and return EXPR_ERR_LIMIT. */
int expr_nomem(expr_call *c);

/* Argument conversions: on failure they record "Name: argument I must be a T, got U" and
 * return the error code; a NULL argument fails too (check for NULL first where the
 * function gives NULL a meaning). */
int expr_arg_str(expr_call *c, const mvs_value *args, size_t i, const char **p, size_t *n);
int expr_arg_num(expr_call *c, const mvs_value *args, size_t i, int64_t *out);
int expr_arg_bool(expr_call *c, const mvs_value *args, size_t i, bool *out);
/* Results copied into the arena. */
int expr_ret_str(expr_call *c, const char *p, size_t n, mvs_value *out);
int expr_ret_bin(expr_call *c, const void *p, size_t n, mvs_value *out);

#endif
