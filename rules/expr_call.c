/* expr_call — the helpers function bodies use (expr_fn.h): errors, budgets, arguments,
 * results, the seeded generator.  Memory: everything returned lives in the eval arena. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules/expr_int.h"
#include "schema/utf8.h"

static int vrecord(expr_ctx *x, size_t off, int code, const char *prefix, const char *fmt,
                   va_list ap) __attribute__((format(printf, 5, 0)));

static int vrecord(expr_ctx *x, size_t off, int code, const char *prefix, const char *fmt,
                   va_list ap)
{
  size_t k = 0;
  if (x->failed)
    return code;
  x->failed = true;
  if (!x->err)
    return code;
  x->err->offset = off;
  if (prefix)
    k = (size_t)snprintf(x->err->msg, sizeof x->err->msg, "%s: ", prefix);
  if (k < sizeof x->err->msg)
    vsnprintf(x->err->msg + k, sizeof x->err->msg - k, fmt, ap);
  return code;
}

int expr_ctx_error(expr_ctx *x, size_t off, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  code = vrecord(x, off, code, NULL, fmt, ap);
  va_end(ap);
  return code;
}

int expr_ctx_steps(expr_ctx *x, size_t off, uint64_t n)
{
  if (n > x->max_steps - x->steps) {
    x->steps = x->max_steps;
    return expr_ctx_error(x, off, EXPR_ERR_LIMIT,
                          "expression evaluation exceeded its budget of %llu steps",
                          (unsigned long long)x->max_steps);
  }
  x->steps += n;
  return EXPR_OK;
}

int expr_fail_text(expr_call *c, const char *p, size_t n)
{
  return expr_ctx_error(c->x, c->off, EXPR_ERR_RUNTIME, "%.*s", n > 255 ? 255 : (int)n, p);
}

int expr_ctx_nomem(expr_ctx *x, size_t off)
{
  return expr_ctx_error(x, off, EXPR_ERR_LIMIT, "expression result too large");
}

mvs_arena *expr_call_arena(expr_call *c) { return c->x->a; }
expr_dialect expr_call_dialect(expr_call *c) { return c->x->e->d; }
const char *expr_call_name(expr_call *c) { return c->fn->name; }
int64_t expr_call_now(expr_call *c) { return c->x->env->now; }
const expr_env *expr_call_env(expr_call *c) { return c->x->env; }

uint64_t expr_call_random(expr_call *c)
{
  /* splitmix64: tiny, full-period, and deterministic for a given env->seed. */
  uint64_t z = (c->x->rng += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

int expr_call_steps(expr_call *c, uint64_t n) { return expr_ctx_steps(c->x, c->off, n); }

uint64_t expr_call_steps_left(expr_call *c) { return c->x->max_steps - c->x->steps; }

int expr_fail(expr_call *c, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = vrecord(c->x, c->off, EXPR_ERR_RUNTIME, c->fn->name, fmt, ap);
  va_end(ap);
  return rc;
}

int expr_nomem(expr_call *c) { return expr_ctx_nomem(c->x, c->off); }

static int arg_type_error(expr_call *c, size_t i, const char *want, mvs_value v)
{
  if (v.type == MVS_V_STR) {
    /* Quote at most 32 code points, cut on a character boundary. */
    size_t k = utf8_offset(v.u.s.p, v.u.s.n, 32);
    return expr_fail(c, "argument %zu must be %s, got string \"%.*s%s\"", i + 1, want,
                     (int)k, v.u.s.p, k < v.u.s.n ? "..." : "");
  }
  return expr_fail(c, "argument %zu must be %s, got %s", i + 1, want, mvs_type_name(v.type));
}

int expr_arg_str(expr_call *c, const mvs_value *args, size_t i, const char **p, size_t *n)
{
  mvs_value v = args[i];
  int rc;

  /* Binary is refused rather than silently rendered as hex: a text function applied to
   * objectGUID is a mistake; functions that want hex call mvs_to_str themselves. */
  if (v.type == MVS_V_BIN)
    return arg_type_error(c, i, "a string", v);
  rc = mvs_to_str(c->x->a, v, p, n);
  if (rc == -2)
    return expr_nomem(c);
  if (rc)
    return arg_type_error(c, i, "a string", v);
  return EXPR_OK;
}

int expr_arg_num(expr_call *c, const mvs_value *args, size_t i, int64_t *out)
{
  if (mvs_to_num(args[i], out))
    return arg_type_error(c, i, "a number", args[i]);
  return EXPR_OK;
}

int expr_arg_bool(expr_call *c, const mvs_value *args, size_t i, bool *out)
{
  if (mvs_to_bool(args[i], out))
    return arg_type_error(c, i, "a boolean", args[i]);
  return EXPR_OK;
}

int expr_ret_str(expr_call *c, const char *p, size_t n, mvs_value *out)
{
  if (mvs_str_copy(c->x->a, p, n, out))
    return expr_nomem(c);
  return EXPR_OK;
}

int expr_ret_bin(expr_call *c, const void *p, size_t n, mvs_value *out)
{
  if (mvs_bin_copy(c->x->a, p, n, out))
    return expr_nomem(c);
  return EXPR_OK;
}
