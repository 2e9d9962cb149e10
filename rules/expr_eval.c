/* expr_eval — evaluator: operators, multi-valued mapping, calls, and expr_fn_core's special
 * forms (IIF, Select, Where, With, ImportedValue, Connect's Switch).  Memory: results live in the caller's arena. */
#include <stdio.h>
#include <string.h>

#include "rules/expr_int.h"

/* Special forms: impl is NULL, the evaluator dispatches on the table index (expr_core). */
const expr_fn_def expr_fn_core[] = {
    [CORE_IIF] = {"IIF", EXPR_D_BOTH, 3, 3, EXPR_ARGS_ALL, NULL},
    [CORE_SELECT] = {"Select", EXPR_D_CONNECT, 3, 3, EXPR_ARGS_ALL, NULL},
    [CORE_WHERE] = {"Where", EXPR_D_CONNECT, 3, 3, EXPR_ARGS_ALL, NULL},
    [CORE_WITH] = {"With", EXPR_D_CONNECT, 3, 3, EXPR_ARGS_ALL, NULL},
    [CORE_IMPORTED] = {"ImportedValue", EXPR_D_CONNECT, 1, 1, EXPR_ARGS_ALL, NULL},
    [CORE_SWITCH] = {"Switch", EXPR_D_CONNECT, 2, -1, EXPR_ARGS_ALL, NULL},
    [CORE_VALUECOUNT] = {"ValueCount", EXPR_D_CONNECT, 1, 1, EXPR_ARGS_ALL, NULL},
    [CORE_NONE] = {NULL, 0, 0, 0, 0, NULL},
};

static int ev(expr_ctx *x, const expr_node *n, mvs_value *out);

/* ---- collecting multi-valued results ---- */

typedef struct coll {
  mvs_value *v;
  size_t n, cap;
} coll;

/* Append v's values (NULL adds none, MV adds each).  Callers reject specials first. */
static int coll_add(expr_ctx *x, size_t off, coll *c, mvs_value v)
{
  size_t i, cnt = mvs_count(v);
  if (cnt > c->cap - c->n) {
    size_t ncap = c->cap ? c->cap : 8;
    mvs_value *nv;
    while (ncap - c->n < cnt) {
      if (ncap > SIZE_MAX / 2 / sizeof *nv)
        return expr_ctx_nomem(x, off);
      ncap *= 2;
    }
    nv = mvs_arena_alloc(x->a, ncap * sizeof *nv);
    if (!nv)
      return expr_ctx_nomem(x, off);
    if (c->n)
      memcpy(nv, c->v, c->n * sizeof *nv);
    c->v = nv;
    c->cap = ncap;
  }
  for (i = 0; i < cnt; i++)
    c->v[c->n++] = mvs_item(v, i);
  return EXPR_OK;
}

/* The collected values: NULL when none, else multi-valued (even with one value). */
static mvs_value coll_value(const coll *c)
{
  mvs_value v = mvs_null();
  if (c->n) {
    v.type = MVS_V_MV;
    v.u.mv.items = c->v;
    v.u.mv.n = c->n;
  }
  return v;
}

static int special_error(expr_ctx *x, size_t off, const char *who, const char *what, mvs_value v)
{
  return expr_ctx_error(x, off, EXPR_ERR_RUNTIME,
                        "%s: %s cannot be %s; it can only be the result of the whole "
                        "expression or of an IIF branch",
                        who, what, mvs_type_name(v.type));
}

/* The common length of the multi-valued values among v[0..n) that are mapped (not in
 * `whole`); 0 when none is multi-valued. */
static int map_len(expr_ctx *x, size_t off, const char *who, const mvs_value *v, size_t n,
                   uint32_t whole, size_t *len)
{
  size_t i;
  *len = 0;
  for (i = 0; i < n; i++) {
    if (v[i].type != MVS_V_MV || (whole & EXPR_ARG(i)))
      continue;
    if (*len == 0)
      *len = v[i].u.mv.n;
    else if (v[i].u.mv.n != *len)
      return expr_ctx_error(x, off, EXPR_ERR_RUNTIME,
                            "%s: multi-valued arguments have different numbers of values "
                            "(%zu and %zu)",
                            who, *len, v[i].u.mv.n);
  }
  return EXPR_OK;
}

/* ---- operators ---- */

static int op_error(expr_ctx *x, size_t off, expr_op op, const char *what, mvs_value a,
                    mvs_value b)
{
  return expr_ctx_error(x, off, EXPR_ERR_RUNTIME, "operator '%s' %s, got %s and %s",
                        expr_op_text(op), what, mvs_type_name(a.type), mvs_type_name(b.type));
}

static bool is_text(mvs_value v) { return v.type == MVS_V_STR || v.type == MVS_V_REF; }

/* Bytes of text or binary in a single value.  Operators and functions are charged one step
 * per byte they are given, so work on a large value (which & can build without limit in a
 * few nodes) counts against the budget however often it is repeated. */
static uint64_t value_bytes(mvs_value v)
{
  return is_text(v) || v.type == MVS_V_BIN ? v.u.s.n : 0;
}

/* Ordering for < <= > >=: -1/0/1 in *cmp, or a type error. */
static int compare(expr_ctx *x, size_t off, expr_op op, mvs_value a, mvs_value b, int *cmp)
{
  if (a.type == MVS_V_NUM && b.type == MVS_V_NUM) {
    *cmp = (a.u.num > b.u.num) - (a.u.num < b.u.num);
  } else if (a.type == MVS_V_DT && b.type == MVS_V_DT) {
    *cmp = (a.u.dt > b.u.dt) - (a.u.dt < b.u.dt);
  } else if (a.type == MVS_V_BOOL && b.type == MVS_V_BOOL) {
    *cmp = (int)a.u.b - (int)b.u.b;
  } else if (is_text(a) && is_text(b)) {
    /* Ordinal: UTF-8 byte order is code point order. */
    size_t m = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
    int r = m ? memcmp(a.u.s.p, b.u.s.p, m) : 0;
    if (r == 0)
      r = (a.u.s.n > b.u.s.n) - (a.u.s.n < b.u.s.n);
    *cmp = (r > 0) - (r < 0);
  } else {
    return op_error(x, off, op, "compares two values of one type", a, b);
  }
  return EXPR_OK;
}

/* VBA's three-valued logic: NULL && False is False, NULL || True is True, else NULL. */
static int logic(expr_ctx *x, size_t off, expr_op op, mvs_value a, mvs_value b, mvs_value *out)
{
  bool ab = false, bb = false;
  bool an = a.type == MVS_V_NULL, bn = b.type == MVS_V_NULL;

  if ((!an && mvs_to_bool(a, &ab)) || (!bn && mvs_to_bool(b, &bb)))
    return op_error(x, off, op, "needs booleans", a, b);
  if (op == OP_AND) {
    if ((!an && !ab) || (!bn && !bb))
      *out = mvs_bool(false);
    else
      *out = an || bn ? mvs_null() : mvs_bool(true);
  } else {
    if ((!an && ab) || (!bn && bb))
      *out = mvs_bool(true);
    else
      *out = an || bn ? mvs_null() : mvs_bool(false);
  }
  return EXPR_OK;
}

static int concat(expr_ctx *x, size_t off, mvs_value a, mvs_value b, mvs_value *out)
{
  const char *pa = "", *pb = "";
  size_t na = 0, nb = 0;
  char *d;

  /* As VBA's &: NULL reads as "", but NULL & NULL stays NULL. */
  if (a.type == MVS_V_NULL && b.type == MVS_V_NULL) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if ((a.type != MVS_V_NULL && mvs_to_str(x->a, a, &pa, &na)) ||
      (b.type != MVS_V_NULL && mvs_to_str(x->a, b, &pb, &nb)))
    return expr_ctx_nomem(x, off);
  if (na > SIZE_MAX - 1 - nb)
    return expr_ctx_nomem(x, off);
  d = mvs_arena_alloc(x->a, na + nb + 1);
  if (!d)
    return expr_ctx_nomem(x, off);
  if (na)
    memcpy(d, pa, na);
  if (nb)
    memcpy(d + na, pb, nb);
  d[na + nb] = '\0';
  *out = mvs_str_ref(d, na + nb);
  return EXPR_OK;
}

/* One operator on two single values (either may be NULL). */
static int apply_scalar(expr_ctx *x, size_t off, expr_op op, mvs_value a, mvs_value b,
                        mvs_value *out)
{
  int64_t r = 0;
  int cmp = 0;
  bool ovf = false;

  if (expr_ctx_steps(x, off, value_bytes(a) + value_bytes(b)) != EXPR_OK)
    return EXPR_ERR_LIMIT;
  if (op == OP_CONCAT)
    return concat(x, off, a, b, out);
  if (op == OP_AND || op == OP_OR)
    return logic(x, off, op, a, b, out);
  /* Arithmetic and comparison with NULL give NULL, as in VBA. */
  if (a.type == MVS_V_NULL || b.type == MVS_V_NULL) {
    *out = mvs_null();
    return EXPR_OK;
  }
  switch (op) {
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
    if (a.type != MVS_V_NUM || b.type != MVS_V_NUM)
      return op_error(x, off, op, "needs numbers", a, b);
    if (op == OP_ADD)
      ovf = __builtin_add_overflow(a.u.num, b.u.num, &r);
    else if (op == OP_SUB)
      ovf = __builtin_sub_overflow(a.u.num, b.u.num, &r);
    else
      ovf = __builtin_mul_overflow(a.u.num, b.u.num, &r);
    if (ovf)
      return expr_ctx_error(x, off, EXPR_ERR_RUNTIME,
                            "operator '%s': the result does not fit in a 64-bit integer",
                            expr_op_text(op));
    *out = mvs_num(r);
    return EXPR_OK;
  case OP_EQ:
    *out = mvs_bool(mvs_equal(a, b, false));
    return EXPR_OK;
  case OP_NE:
    *out = mvs_bool(!mvs_equal(a, b, false));
    return EXPR_OK;
  default:
    if (compare(x, off, op, a, b, &cmp))
      return EXPR_ERR_RUNTIME;
    *out = mvs_bool(op == OP_LT   ? cmp < 0
                    : op == OP_LE ? cmp <= 0
                    : op == OP_GT ? cmp > 0
                                  : cmp >= 0);
    return EXPR_OK;
  }
}

/* An operator on two values, mapped over multi-valued operands like a function. */
static int apply_op(expr_ctx *x, size_t off, expr_op op, mvs_value a, mvs_value b,
                    mvs_value *out)
{
  mvs_value v[2] = {a, b}, r;
  char who[16];
  coll c = {NULL, 0, 0};
  size_t len, i;
  int rc;

  if (mvs_is_special(a) || mvs_is_special(b)) {
    snprintf(who, sizeof who, "operator '%s'", expr_op_text(op));
    return special_error(x, off, who, "an operand", mvs_is_special(a) ? a : b);
  }
  if (a.type != MVS_V_MV && b.type != MVS_V_MV)
    return apply_scalar(x, off, op, a, b, out);
  snprintf(who, sizeof who, "operator '%s'", expr_op_text(op));
  if ((rc = map_len(x, off, who, v, 2, 0, &len)) != EXPR_OK)
    return rc;
  for (i = 0; i < len; i++) {
    if ((rc = expr_ctx_steps(x, off, 1)) != EXPR_OK ||
        (rc = apply_scalar(x, off, op, a.type == MVS_V_MV ? a.u.mv.items[i] : a,
                           b.type == MVS_V_MV ? b.u.mv.items[i] : b, &r)) != EXPR_OK ||
        (rc = coll_add(x, off, &c, r)) != EXPR_OK)
      return rc;
  }
  *out = coll_value(&c);
  return EXPR_OK;
}

static int ev_chain(expr_ctx *x, const expr_node *n, mvs_value *out)
{
  mvs_value acc, rhs;
  size_t i;
  bool b;
  int rc;

  if ((rc = ev(x, n->u.chain.operands[0], &acc)) != EXPR_OK)
    return rc;
  for (i = 0; i + 1 < n->u.chain.n; i++) {
    expr_op op = n->u.chain.ops[i];
    /* && and || short-circuit on a single decided value, so a guard such as
     * IsPresent([x]) && ... never evaluates what it guards. */
    if ((op == OP_AND || op == OP_OR) && acc.type != MVS_V_MV && acc.type != MVS_V_NULL &&
        !mvs_is_special(acc) && mvs_to_bool(acc, &b) == 0 && b == (op == OP_OR)) {
      acc = mvs_bool(b);
      continue;
    }
    if ((rc = ev(x, n->u.chain.operands[i + 1], &rhs)) != EXPR_OK ||
        (rc = apply_op(x, n->u.chain.op_off[i], op, acc, rhs, &acc)) != EXPR_OK)
      return rc;
  }
  *out = acc;
  return EXPR_OK;
}

/* ---- function calls ---- */

static int invoke(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  uint64_t bytes = 0;
  size_t i;
  int rc;

  *out = mvs_null();
  for (i = 0; i < n; i++)
    bytes += value_bytes(args[i]);
  if ((rc = expr_ctx_steps(c->x, c->off, bytes)) != EXPR_OK)
    return rc;
  rc = c->fn->impl(c, args, n, out);
  if (rc == EXPR_OK && c->x->failed) {
    /* The body recovered from a failed expr_arg_*: that error must not mask a later one. */
    c->x->failed = false;
    if (c->x->err) {
      c->x->err->offset = 0;
      c->x->err->msg[0] = '\0';
    }
  } else if (rc != EXPR_OK && !c->x->failed) {
    expr_ctx_error(c->x, c->off, rc, "%s: failed", c->fn->name);
  }
  return rc;
}

#define SMALL_ARGS 8

static int ev_call(expr_ctx *x, const expr_node *n, mvs_value *out)
{
  const expr_fn_def *fn = n->u.call.fn;
  size_t nargs = n->u.call.n, len, i, j;
  mvs_value small[SMALL_ARGS], msmall[SMALL_ARGS], *args = small, *margs = msmall, r;
  expr_call call = {x, fn, n->off};
  coll c = {NULL, 0, 0};
  char what[32];
  bool mapped = false;
  int rc;

  if (nargs > SMALL_ARGS) {
    args = mvs_arena_alloc(x->a, nargs * sizeof *args);
    margs = mvs_arena_alloc(x->a, nargs * sizeof *margs);
    if (!args || !margs)
      return expr_ctx_nomem(x, n->off);
  }
  for (i = 0; i < nargs; i++)
    if ((rc = ev(x, n->u.call.args[i], &args[i])) != EXPR_OK)
      return rc;
  for (i = 0; i < nargs; i++) {
    if (mvs_is_special(args[i])) {
      snprintf(what, sizeof what, "argument %zu", i + 1);
      return special_error(x, n->u.call.args[i]->off, fn->name, what, args[i]);
    }
  }
  for (j = 0; j < nargs && !mapped; j++)
    mapped = args[j].type == MVS_V_MV && !(fn->whole & EXPR_ARG(j));
  if (!mapped)
    return invoke(&call, args, nargs, out);
  if ((rc = map_len(x, n->off, fn->name, args, nargs, fn->whole, &len)) != EXPR_OK)
    return rc;
  /* Connect applies a function to each value of a multi-valued argument: zip the mapped
   * arguments, broadcast the rest, keep the non-NULL results. */
  memcpy(margs, args, nargs * sizeof *margs);
  for (i = 0; i < len; i++) {
    for (j = 0; j < nargs; j++)
      if (args[j].type == MVS_V_MV && !(fn->whole & EXPR_ARG(j)))
        margs[j] = args[j].u.mv.items[i];
    if ((rc = expr_ctx_steps(x, n->off, 1)) != EXPR_OK ||
        (rc = invoke(&call, margs, nargs, &r)) != EXPR_OK)
      return rc;
    if (mvs_is_special(r))
      return expr_ctx_error(x, n->off, EXPR_ERR_RUNTIME,
                            "%s: cannot return %s for one value of a multi-valued argument",
                            fn->name, mvs_type_name(r.type));
    if ((rc = coll_add(x, n->off, &c, r)) != EXPR_OK)
      return rc;
  }
  *out = coll_value(&c);
  return EXPR_OK;
}

/* ---- special forms ---- */

/* Truth of an IIF condition; Connect reads NULL as false, Cloud fails as Microsoft's does. */
static int cond_true(expr_ctx *x, size_t off, const char *who, mvs_value v, bool *res)
{
  if (v.type == MVS_V_NULL) {
    if (x->e->d == EXPR_CLOUD)
      return expr_ctx_error(x, off, EXPR_ERR_RUNTIME,
                            "%s: the condition has no value (an attribute it reads is "
                            "null); test it with IsPresent or use Switch",
                            who);
    *res = false;
    return EXPR_OK;
  }
  if (mvs_to_bool(v, res))
    return expr_ctx_error(x, off, EXPR_ERR_RUNTIME, "%s: the condition must be a boolean, got %s",
                          who, mvs_type_name(v.type));
  return EXPR_OK;
}

static int ev_iif(expr_ctx *x, const expr_node *n, mvs_value *out)
{
  expr_node *const *args = n->u.call.args;
  mvs_value cond, br[2], v;
  bool done[2] = {false, false}, t;
  coll c = {NULL, 0, 0};
  size_t i, k;
  int rc;

  if ((rc = ev(x, args[0], &cond)) != EXPR_OK)
    return rc;
  if (mvs_is_special(cond))
    return special_error(x, args[0]->off, "IIF", "the condition", cond);
  if (cond.type != MVS_V_MV) {
    /* Lazy: only the chosen branch is evaluated. */
    if ((rc = cond_true(x, args[0]->off, "IIF", cond, &t)) != EXPR_OK)
      return rc;
    return ev(x, args[t ? 1 : 2], out);
  }
  /* A multi-valued condition zips with the branches: value i of the result is value i of
   * the chosen branch (or the branch itself when single-valued); NULLs drop out.  Each
   * branch is evaluated at most once, and only if some value chooses it. */
  for (i = 0; i < cond.u.mv.n; i++) {
    if ((rc = cond_true(x, args[0]->off, "IIF", cond.u.mv.items[i], &t)) != EXPR_OK)
      return rc;
    k = t ? 0 : 1;
    if (!done[k]) {
      if ((rc = ev(x, args[k + 1], &br[k])) != EXPR_OK)
        return rc;
      if (mvs_is_special(br[k]))
        return expr_ctx_error(x, args[k + 1]->off, EXPR_ERR_RUNTIME,
                              "IIF: a branch cannot be %s when the condition is multi-valued",
                              mvs_type_name(br[k].type));
      if (br[k].type == MVS_V_MV && br[k].u.mv.n != cond.u.mv.n)
        return expr_ctx_error(x, args[k + 1]->off, EXPR_ERR_RUNTIME,
                              "IIF: the condition has %zu values but the %s branch has %zu",
                              cond.u.mv.n, t ? "true" : "false", br[k].u.mv.n);
      done[k] = true;
    }
    v = br[k].type == MVS_V_MV ? br[k].u.mv.items[i] : br[k];
    if ((rc = expr_ctx_steps(x, n->off, 1)) != EXPR_OK ||
        (rc = coll_add(x, n->off, &c, v)) != EXPR_OK)
      return rc;
  }
  *out = coll_value(&c);
  return EXPR_OK;
}

/* Connect Switch(cond1, value1, ...): every condition is evaluated, as documented, but only
 * the value of the first true one, so Error("...") can follow a final True condition as in
 * Microsoft's own example.  NULL when no condition holds. */
static int ev_switch(expr_ctx *x, const expr_node *n, mvs_value *out)
{
  expr_node *const *args = n->u.call.args;
  size_t i, chosen = 0;
  mvs_value cond;
  bool t;
  int rc;

  for (i = 0; i + 1 < n->u.call.n; i += 2) {
    if ((rc = ev(x, args[i], &cond)) != EXPR_OK)
      return rc;
    if (mvs_is_special(cond))
      return special_error(x, args[i]->off, "Switch", "a condition", cond);
    if (cond.type == MVS_V_MV)
      return expr_ctx_error(x, args[i]->off, EXPR_ERR_RUNTIME,
                            "Switch: condition %zu is multi-valued", i / 2 + 1);
    if ((rc = cond_true(x, args[i]->off, "Switch", cond, &t)) != EXPR_OK)
      return rc;
    if (t && !chosen)
      chosen = i + 1;
  }
  if (!chosen) {
    *out = mvs_null();
    return EXPR_OK;
  }
  return ev(x, args[chosen], out);
}

/* Select($item, values, f) and Where($item, values, cond): bind each value in turn. */
static int ev_select_where(expr_ctx *x, const expr_node *n, mvs_value *out)
{
  expr_node *const *args = n->u.call.args;
  const char *who = n->u.call.fn->name;
  unsigned slot = args[0]->u.s.slot;
  mvs_value src, item, r;
  coll c = {NULL, 0, 0};
  size_t i, cnt;
  bool keep;
  int rc;

  if ((rc = ev(x, args[1], &src)) != EXPR_OK)
    return rc;
  if (mvs_is_special(src))
    return special_error(x, args[1]->off, who, "argument 2", src);
  cnt = mvs_count(src);
  for (i = 0; i < cnt; i++) {
    item = mvs_item(src, i);
    x->slots[slot] = item;
    if ((rc = ev(x, args[2], &r)) != EXPR_OK)
      return rc;
    if (mvs_is_special(r))
      return special_error(x, args[2]->off, who, "argument 3", r);
    if (n->u.call.core == CORE_WHERE) {
      if (r.type == MVS_V_MV)
        return expr_ctx_error(x, args[2]->off, EXPR_ERR_RUNTIME,
                              "Where: the condition must give one value for each value, "
                              "got %zu",
                              r.u.mv.n);
      keep = false;
      if (r.type != MVS_V_NULL && mvs_to_bool(r, &keep))
        return expr_ctx_error(x, args[2]->off, EXPR_ERR_RUNTIME,
                              "Where: the condition must be a boolean, got %s",
                              mvs_type_name(r.type));
      r = keep ? item : mvs_null();
    }
    if ((rc = coll_add(x, n->off, &c, r)) != EXPR_OK)
      return rc;
  }
  *out = coll_value(&c);
  return EXPR_OK;
}

static int ev_with(expr_ctx *x, const expr_node *n, mvs_value *out)
{
  expr_node *const *args = n->u.call.args;
  mvs_value v;
  int rc;

  if ((rc = ev(x, args[1], &v)) != EXPR_OK)
    return rc;
  if (mvs_is_special(v))
    return special_error(x, args[1]->off, "With", "argument 2", v);
  x->slots[args[0]->u.s.slot] = v;
  return ev(x, args[2], out);
}

static mvs_value read_attr(expr_ctx *x, bool imported, const char *p, size_t n)
{
  const expr_env *env = x->env;
  mvs_value v = mvs_null();
  if (imported && env->imported)
    v = env->imported(env->u, p, n);
  else if (env->attr)
    v = env->attr(env->u, p, n);
  /* A multi-valued attribute without values is absent; specials are not attribute values. */
  if (mvs_count(v) == 0)
    v = mvs_null();
  return v;
}

static int ev(expr_ctx *x, const expr_node *n, mvs_value *out)
{
  int rc = expr_ctx_steps(x, n->off, 1);
  if (rc)
    return rc;
  switch (n->kind) {
  case EN_STR: *out = mvs_str_ref(n->u.s.p, n->u.s.n); return EXPR_OK;
  case EN_NUM: *out = mvs_num(n->u.num.v); return EXPR_OK;
  case EN_BOOL: *out = mvs_bool(n->u.b); return EXPR_OK;
  case EN_NULL:
  case EN_EMPTY: *out = mvs_null(); return EXPR_OK;
  case EN_CRLF: *out = mvs_str_ref("\r\n", 2); return EXPR_OK;
  case EN_IGNORE: *out = mvs_special(MVS_V_IGNORE); return EXPR_OK;
  case EN_AUTHNULL: *out = mvs_special(MVS_V_AUTHNULL); return EXPR_OK;
  case EN_ATTR: *out = read_attr(x, false, n->u.s.p, n->u.s.n); return EXPR_OK;
  case EN_PARAM:
    if (!x->env->param || x->env->param(x->env->u, n->u.s.p, n->u.s.n, out) != 0)
      return expr_ctx_error(x, n->off, EXPR_ERR_RUNTIME, "unknown parameter %%%.*s%%",
                            (int)n->u.s.n, n->u.s.p);
    return EXPR_OK;
  case EN_VAR: *out = x->slots[n->u.s.slot]; return EXPR_OK;
  case EN_CHAIN: return ev_chain(x, n, out);
  case EN_CALL:
    switch (n->u.call.core) {
    case CORE_IIF: return ev_iif(x, n, out);
    case CORE_SELECT:
    case CORE_WHERE: return ev_select_where(x, n, out);
    case CORE_WITH: return ev_with(x, n, out);
    case CORE_SWITCH: return ev_switch(x, n, out);
    case CORE_IMPORTED:
      *out = read_attr(x, true, n->u.call.args[0]->u.s.p, n->u.call.args[0]->u.s.n);
      return EXPR_OK;
    case CORE_VALUECOUNT:
      *out = mvs_num((int64_t)mvs_count(
        read_attr(x, false, n->u.call.args[0]->u.s.p, n->u.call.args[0]->u.s.n)));
      return EXPR_OK;
    case CORE_NONE: return ev_call(x, n, out);
    }
  }
  return expr_ctx_error(x, n->off, EXPR_ERR_RUNTIME, "internal error: unknown node");
}

/* ---- entry point ---- */

static bool in_pool(const expr *e, const char *p)
{
  uintptr_t a = (uintptr_t)p, lo = (uintptr_t)e->pool;
  return a >= lo && a - lo < e->pool_size;
}

/* Copy any string that points into the expr's literal pool into the caller's arena, so
 * the result outlives the expr as expr.h promises. */
static int detach(expr_ctx *x, mvs_value *v)
{
  mvs_value *items;
  size_t i;
  bool any = false;

  if (v->type == MVS_V_STR)
    return in_pool(x->e, v->u.s.p) ? mvs_str_copy(x->a, v->u.s.p, v->u.s.n, v) : 0;
  if (v->type != MVS_V_MV)
    return 0;
  for (i = 0; i < v->u.mv.n && !any; i++)
    any = v->u.mv.items[i].type == MVS_V_STR && in_pool(x->e, v->u.mv.items[i].u.s.p);
  if (!any)
    return 0;
  items = mvs_arena_alloc(x->a, v->u.mv.n * sizeof *items);
  if (!items)
    return -1;
  for (i = 0; i < v->u.mv.n; i++) {
    items[i] = v->u.mv.items[i];
    if (detach(x, &items[i]))
      return -1;
  }
  v->u.mv.items = items;
  return 0;
}

int expr_eval(const expr *e, const expr_env *env, mvs_arena *a, mvs_value *out,
              expr_error *err)
{
  static const expr_env no_env;
  expr_ctx x;
  mvs_value v;
  int rc;

  *out = mvs_null();
  if (err) {
    err->offset = 0;
    err->msg[0] = '\0';
  }
  memset(&x, 0, sizeof x);
  x.e = e;
  x.env = env ? env : &no_env;
  x.a = a;
  x.err = err;
  x.max_steps = x.env->max_steps ? x.env->max_steps : EXPR_DEFAULT_STEPS;
  x.rng = x.env->seed;
  if (e->nslots) {
    x.slots = mvs_arena_alloc(a, e->nslots * sizeof *x.slots);
    if (!x.slots)
      return expr_ctx_nomem(&x, 0);
    memset(x.slots, 0, e->nslots * sizeof *x.slots);
  }
  rc = ev(&x, e->root, &v);
  if (rc == EXPR_OK && detach(&x, &v))
    rc = expr_ctx_nomem(&x, 0);
  if (rc == EXPR_OK)
    *out = v;
  return rc;
}
