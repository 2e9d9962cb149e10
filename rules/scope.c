/* scope — scoping-filter evaluation with Connect Sync's operators; the comparison rules are
 * documented in docs/rules.md ("How scope clauses compare").  See scope.h. */
#include "rules/scope.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "schema/utf8.h"

#define NO_MATCH SIZE_MAX

/* If needle is a prefix of hay ignoring case, the bytes of hay it covers; else NO_MATCH. */
static size_t prefix_nocase(const char *hay, size_t hn, const char *needle, size_t nn)
{
  size_t i = 0, j = 0, la, lb;
  while (j < nn) {
    if (i >= hn)
      return NO_MATCH;
    if (utf8_tolower(utf8_decode(hay + i, hn - i, &la)) !=
        utf8_tolower(utf8_decode(needle + j, nn - j, &lb)))
      return NO_MATCH;
    i += la;
    j += lb;
  }
  return i;
}

/* needle occurs in hay ignoring case (anywhere, or with at_end only as a suffix). */
static bool find_nocase(const char *hay, size_t hn, const char *needle, size_t nn, bool at_end)
{
  size_t i = 0, step, m;
  for (;;) {
    m = prefix_nocase(hay + i, hn - i, needle, nn);
    if (m != NO_MATCH && (!at_end || m == hn - i))
      return true;
    if (i >= hn)
      return false;
    utf8_decode(hay + i, hn - i, &step);
    i += step;
  }
}

/* A single value as text, the way it compares with a clause's string: numbers in decimal,
 * booleans True/False, datetimes ISO 8601.  False for binary values (no text form). */
static bool value_text(mvs_value v, char *tmp, size_t tmplen, const char **p, size_t *n)
{
  switch (v.type) {
  case MVS_V_STR:
  case MVS_V_REF:
    *p = v.u.s.p;
    *n = v.u.s.n;
    return true;
  case MVS_V_NUM:
    *n = (size_t)snprintf(tmp, tmplen, "%lld", (long long)v.u.num);
    *p = tmp;
    return true;
  case MVS_V_BOOL:
    *p = v.u.b ? "True" : "False";
    *n = strlen(*p);
    return true;
  case MVS_V_DT:
    mvs_dt_format_iso(v.u.dt, tmp);
    *p = tmp;
    *n = strlen(tmp);
    return true;
  default:
    return false;
  }
}

/* Binary values equal a clause value written as hexadecimal digits (any case). */
static bool bin_equals_hex(mvs_value v, const rule_literal *lit)
{
  size_t i;
  if (lit->len != v.u.s.n * 2)
    return false;
  for (i = 0; i < v.u.s.n; i++) {
    int hi = mvs_hex_digit(lit->text[2 * i]), lo = mvs_hex_digit(lit->text[2 * i + 1]);
    if (hi < 0 || lo < 0 || (unsigned char)v.u.s.p[i] != (unsigned)(hi * 16 + lo))
      return false;
  }
  return true;
}

/* Compare one value with a clause value: <0, 0, >0, or INT32_MIN when they cannot be
 * compared.  Typed values compare as their type when the clause value reads as that type;
 * everything else compares as text, ordinally, ignoring case. */
static int32_t compare(mvs_value v, const rule_literal *lit)
{
  char tmp[48];
  const char *p;
  size_t n;
  int c;

  if (v.type == MVS_V_NUM && lit->is_num)
    return v.u.num < lit->num ? -1 : v.u.num > lit->num;
  if (v.type == MVS_V_BOOL && lit->is_bool)
    return v.u.b == lit->b ? 0 : v.u.b ? 1 : -1;
  if (v.type == MVS_V_DT && lit->is_dt)
    return v.u.dt < lit->dt ? -1 : v.u.dt > lit->dt;
  if (v.type == MVS_V_BIN)
    return bin_equals_hex(v, lit) ? 0 : INT32_MIN;
  if (!value_text(v, tmp, sizeof tmp, &p, &n))
    return INT32_MIN;
  c = utf8_casecmp(p, n, lit->text, lit->len);
  return c < 0 ? -1 : c > 0;
}

static bool integer_of(mvs_value v, int64_t *out)
{
  return (v.type == MVS_V_NUM || v.type == MVS_V_STR) && mvs_to_num(v, out) == 0;
}

/* The positive operator (EQUAL, not NOTEQUAL) on one value. */
static bool holds_for(scope_op op, mvs_value v, const scope_clause *c)
{
  const rule_literal *lit = c->values; /* the value; ISIN reads them all */
  char tmp[48];
  const char *p;
  size_t n, i;
  int64_t num;
  int32_t cmp;

  switch (op) {
  case SCOPE_EQUAL:
    return compare(v, lit) == 0;
  case SCOPE_ISIN:
    for (i = 0; i < c->n_values; i++)
      if (compare(v, &c->values[i]) == 0)
        return true;
    return false;
  case SCOPE_LESSTHAN:
  case SCOPE_LESSTHAN_OR_EQUAL:
  case SCOPE_GREATERTHAN:
  case SCOPE_GREATERTHAN_OR_EQUAL:
    if (v.type == MVS_V_BIN || (cmp = compare(v, lit)) == INT32_MIN)
      return false;
    return op == SCOPE_LESSTHAN ? cmp < 0 : op == SCOPE_LESSTHAN_OR_EQUAL ? cmp <= 0
         : op == SCOPE_GREATERTHAN ? cmp > 0 : cmp >= 0;
  case SCOPE_CONTAINS:
  case SCOPE_STARTSWITH:
  case SCOPE_ENDSWITH:
    if (!value_text(v, tmp, sizeof tmp, &p, &n))
      return false;
    if (op == SCOPE_STARTSWITH)
      return prefix_nocase(p, n, lit->text, lit->len) != NO_MATCH;
    return find_nocase(p, n, lit->text, lit->len, op == SCOPE_ENDSWITH);
  case SCOPE_ISBITSET:
    return integer_of(v, &num) && (num & lit->num) == lit->num;
  default:
    return false;
  }
}

/* Each NOT operator is its positive twin, negated. */
static scope_op positive_of(scope_op op, bool *negated)
{
  *negated = true;
  switch (op) {
  case SCOPE_NOTEQUAL: return SCOPE_EQUAL;
  case SCOPE_NOTCONTAINS: return SCOPE_CONTAINS;
  case SCOPE_NOTSTARTSWITH: return SCOPE_STARTSWITH;
  case SCOPE_NOTENDSWITH: return SCOPE_ENDSWITH;
  case SCOPE_ISNOTNULL: return SCOPE_ISNULL;
  case SCOPE_ISNOTIN: return SCOPE_ISIN;
  case SCOPE_ISNOTBITSET: return SCOPE_ISBITSET;
  case SCOPE_ISNOTMEMBEROF: return SCOPE_ISMEMBEROF;
  default:
    *negated = false;
    return op;
  }
}

int scope_clause_eval(const scope_clause *c, const scope_env *env)
{
  bool negated, holds = false;
  scope_op op = positive_of(c->op, &negated);
  mvs_value v;
  size_t i, n;

  if (op == SCOPE_ISMEMBEROF) {
    int member;
    if (!env->is_member_of ||
        (member = env->is_member_of(env->u, c->values[0].text, c->values[0].len)) < 0)
      return -1;
    return (member != 0) != negated;
  }
  v = env->attr(env->u, c->attr, strlen(c->attr));
  n = mvs_count(v);
  if (op == SCOPE_ISNULL)
    holds = n == 0;
  else
    for (i = 0; i < n && !holds; i++)
      holds = holds_for(op, mvs_item(v, i), c);
  return holds != negated;
}

int scope_group_eval(const scope_group *g, const scope_env *env, size_t *failed)
{
  size_t i;
  for (i = 0; i < g->n_clauses; i++) {
    int rc = scope_clause_eval(&g->clauses[i], env);
    if (rc <= 0) {
      *failed = i;
      return rc;
    }
  }
  return 1;
}

int rule_scope_eval(const rule *r, const scope_env *env, scope_verdict *v)
{
  size_t g, failed;

  v->in_scope = r->n_scope == 0;
  v->group = SIZE_MAX;
  v->clause = SIZE_MAX;
  for (g = 0; g < r->n_scope; g++) {
    int rc = scope_group_eval(&r->scope[g], env, &failed);
    if (rc < 0)
      return -1;
    if (rc == 1) {
      v->in_scope = true;
      v->group = g;
      v->clause = SIZE_MAX;
      return 0;
    }
    if (v->group == SIZE_MAX || failed > v->clause) {
      v->group = g;
      v->clause = failed;
    }
  }
  return 0;
}
