/* expr_print — canonical text of a parsed expression, for the rule formatter: parsing the
 * output gives the same AST.  Memory: expr_to_string returns malloc'd text the caller frees. */
#include <inttypes.h>
#include <stdlib.h>

#include "rules/expr_int.h"

/* Conventional (VBA) precedence, used only to decide where the printer adds parentheses
 * so a reader who assumes it still reads the left-to-right meaning. */
static int std_prec(expr_op op)
{
  switch (op) {
  case OP_MUL: return 6;
  case OP_ADD:
  case OP_SUB: return 5;
  case OP_CONCAT: return 4;
  case OP_AND: return 2;
  case OP_OR: return 1;
  default: return 3;   /* comparisons */
  }
}

static int print_node(buf *b, const expr *e, const expr_node *n, size_t depth);

/* Whether operand i of a chain prints in parentheses: when it binds looser than its parent,
 * or as loose on the right (a - (b - c)).  A tighter one, as a comparison between ||, reads
 * the same without them. */
static bool operand_wrapped(const expr_node *chain, size_t i)
{
  const expr_node *r = chain->u.chain.operands[i];
  int inner, outer = expr_op_tier(chain->u.chain.ops[0]);
  if (r->kind != EN_CHAIN)
    return false;
  inner = expr_op_tier(r->u.chain.ops[0]);
  return inner > outer || (i > 0 && inner == outer);
}

/* Parser nesting (expr_parse's depth count) the text of n needs beyond the level it
 * starts at, printed without clarifying parentheses: one level per call argument and per
 * parenthesised chain on the right of an operator. */
static size_t flat_height(const expr_node *n)
{
  size_t h = 0, i, k;
  if (n->kind == EN_CALL) {
    for (i = 0; i < n->u.call.n; i++)
      if ((k = 1 + flat_height(n->u.call.args[i])) > h)
        h = k;
  } else if (n->kind == EN_CHAIN) {
    for (i = 0; i < n->u.chain.n; i++) {
      const expr_node *r = n->u.chain.operands[i];
      if ((k = operand_wrapped(n, i) + flat_height(r)) > h)
        h = k;
    }
  }
  return h;
}

static int print_string(buf *b, const expr *e, const char *p, size_t n)
{
  size_t i;
  int rc = buf_addc(b, '"');
  if (e->d == EXPR_CONNECT) {
    /* Connect strings have no escapes; the lexer cannot produce one holding a quote. */
    if (!rc)
      rc = buf_add(b, p, n);
  } else {
    for (i = 0; i < n && !rc; i++) {
      /* A backslash is doubled only where the lexer would read it as an escape. */
      if (p[i] == '"' || (p[i] == '\\' && (i + 1 == n || p[i + 1] == '"' || p[i + 1] == '\\')))
        rc = buf_addc(b, '\\');
      if (!rc)
        rc = buf_addc(b, p[i]);
    }
  }
  return rc ? rc : buf_addc(b, '"');
}

/* Parentheses go around the prefix before ops[i] when ops[i] binds tighter conventionally
 * than ops[i-1], so "(a + b) * c" shows what a + b * c means here.  The last operator of an
 * unwrapped prefix is always its loosest one, so comparing neighbours is enough. */
static bool wrap_before(const expr_op *ops, size_t i)
{
  return i > 0 && std_prec(ops[i]) > std_prec(ops[i - 1]);
}

static int print_operand(buf *b, const expr *e, const expr_node *chain, size_t i, size_t depth)
{
  bool wrap = operand_wrapped(chain, i);
  int rc = wrap ? buf_addc(b, '(') : 0;
  if (!rc)
    rc = print_node(b, e, chain->u.chain.operands[i], depth + wrap);
  return !rc && wrap ? buf_addc(b, ')') : rc;
}

/* depth: the parser's nesting level at which the chain's text starts.  Clarifying
 * parentheses nest one level each, so they are left out where they would take the text past
 * the parser's limit: the chain then prints flat, which means the same. */
static int print_chain(buf *b, const expr *e, const expr_node *n, size_t depth)
{
  const expr_op *ops = n->u.chain.ops;
  size_t i, cnt = n->u.chain.n, wraps = 0;
  bool clarify;
  int rc = 0;

  for (i = 1; i + 1 < cnt; i++)
    wraps += wrap_before(ops, i);
  clarify = depth + wraps + flat_height(n->u.chain.operands[0]) <= EXPR_MAX_DEPTH;
  for (i = 1; clarify && i + 1 < cnt && !rc; i++)
    if (wrap_before(ops, i))
      rc = buf_addc(b, '(');
  if (!rc)
    rc = print_operand(b, e, n, 0, clarify ? depth + wraps : depth);
  for (i = 0; i + 1 < cnt && !rc; i++) {
    if (clarify && wrap_before(ops, i))
      rc = buf_addc(b, ')');
    if (!rc)
      rc = buf_printf(b, " %s ", expr_op_text(ops[i]));
    if (!rc)
      rc = print_operand(b, e, n, i + 1, depth);
  }
  return rc;
}

static int print_node(buf *b, const expr *e, const expr_node *n, size_t depth)
{
  size_t i;
  int rc = 0;

  switch (n->kind) {
  case EN_STR: return print_string(b, e, n->u.s.p, n->u.s.n);
  case EN_NUM:
    if (n->u.num.hex)
      return buf_printf(b, "%s&H%" PRIX64, n->u.num.neg ? "-" : "", n->u.num.mag);
    return buf_printf(b, "%" PRId64, n->u.num.v);
  case EN_BOOL: return buf_adds(b, n->u.b ? "True" : "False");
  case EN_NULL: return buf_adds(b, "NULL");
  case EN_CRLF: return buf_adds(b, "CRLF");
  case EN_IGNORE: return buf_adds(b, "IgnoreThisFlow");
  case EN_AUTHNULL: return buf_adds(b, "AuthoritativeNull");
  case EN_EMPTY: return 0;
  case EN_ATTR: return buf_printf(b, "[%.*s]", (int)n->u.s.n, n->u.s.p);
  case EN_PARAM: return buf_printf(b, "%%%.*s%%", (int)n->u.s.n, n->u.s.p);
  case EN_VAR: return buf_printf(b, "$%.*s", (int)n->u.s.n, n->u.s.p);
  case EN_CALL:
    rc = buf_printf(b, "%s(", n->u.call.fn->name);
    for (i = 0; i < n->u.call.n && !rc; i++) {
      if (i > 0)
        rc = buf_adds(b, ", ");
      if (!rc)
        rc = print_node(b, e, n->u.call.args[i], depth + 1);
    }
    return rc ? rc : buf_addc(b, ')');
  case EN_CHAIN: return print_chain(b, e, n, depth);
  }
  return 0;
}

char *expr_to_string(const expr *e)
{
  buf b;
  buf_init(&b, 0);
  if (print_node(&b, e, e->root, 1)) {
    buf_free(&b);
    return NULL;
  }
  return buf_detach(&b);
}
