/* expr_parse — recursive-descent parser of both dialects with parse-time checks, and lookup.
 * Memory: expr_parse returns an expr the caller frees with expr_free (nodes in its arena). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr_int.h"
#include "schema/utf8.h"

/* ---- function lookup ---- */

static int ascii_ieq(const char *a, size_t an, const char *b)
{
  size_t i;
  if (strlen(b) != an)
    return 0;
  for (i = 0; i < an; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = (char)(x + 32);
    if (y >= 'A' && y <= 'Z')
      y = (char)(y + 32);
    if (x != y)
      return 0;
  }
  return 1;
}

static int name_eq(const char *a, size_t an, const char *b)
{
  return strlen(b) == an && memcmp(a, b, an) == 0;
}

const expr_fn_def *expr_fn_find(const char *name, size_t n, expr_dialect d,
                                const expr_fn_def **other)
{
  const expr_fn_def *const tables[] = {expr_fn_core, expr_fn_text, expr_fn_data};
  const expr_fn_def *exact = NULL, *same_other = NULL, *ci = NULL, *ci_other = NULL;
  unsigned bit = 1u << d;
  size_t t;

  for (t = 0; t < sizeof tables / sizeof *tables; t++) {
    const expr_fn_def *f;
    for (f = tables[t]; f->name; f++) {
      bool here = (f->dialects & bit) != 0;
      if (name_eq(name, n, f->name)) {
        if (here && !exact)
          exact = f;
        else if (!here && !same_other)
          same_other = f;
      } else if (ascii_ieq(name, n, f->name)) {
        if (here && !ci)
          ci = f;
        else if (!here && !ci_other)
          ci_other = f;
      }
    }
  }
  if (other)
    *other = exact ? same_other : same_other ? same_other : ci ? ci : ci_other;
  return exact;
}

/* Functions whose arguments differ between the dialects: named in arity errors so a rule
 * copied from the other engine gets a useful message. */
static const struct {
  const char *name, *connect, *cloud;
} sig_hints[] = {
    {"Join", "(values[, separator])", "(separator, values...)"},
    {"Replace", "(source, old, new)",
     "(source, oldValue, regexPattern, regexGroupName, replacementValue, "
     "replacementAttributeName, template)"},
    {"Switch", "(condition1, value1[, condition2, value2...])",
     "(source, defaultValue, key1, value1[, key2, value2...])"},
    {"FormatDateTime", "(datetime, format)",
     "(source[, dateTimeStyles], inputFormat, outputFormat)"},
    {"PCase", "(source)", "(source[, wordSeparators])"},
};

static const char *dialect_name(expr_dialect d) { return d == EXPR_CONNECT ? "connect" : "cloud"; }

static void describe_arity(const expr_fn_def *f, char *out, size_t outsz)
{
  if (f->max_args == f->min_args)
    snprintf(out, outsz, "%d argument%s", f->min_args, f->min_args == 1 ? "" : "s");
  else if (f->max_args < 0)
    snprintf(out, outsz, "at least %d argument%s", f->min_args, f->min_args == 1 ? "" : "s");
  else
    snprintf(out, outsz, "%d to %d arguments", f->min_args, f->max_args);
}

/* ---- parser ---- */

typedef struct parser {
  expr_lexer lx;
  expr_tok tok;
  expr *e;
  expr_error *err;
  unsigned depth;
  expr_name scopes[EXPR_MAX_DEPTH + 1];   /* bound variables; a binder nests in a call */
  unsigned nscopes;
  size_t *hash;       /* attribute dedup set: 1-based indices into e->attrs, 0 = empty */
  size_t hcap, attrs_cap;
} parser;

static int nomem(parser *P)
{
  expr_parse_error(P->err, P->tok.off, "out of memory");
  return EXPR_ERR_NOMEM;
}

static int advance(parser *P) { return expr_lex_next(&P->lx, &P->tok); }

static void found(parser *P, char *out, size_t outsz)
{
  expr_tok_describe(&P->tok, P->lx.src, out, outsz);
}

static expr_node *new_node(parser *P, expr_node_kind k, size_t off)
{
  expr_node *n = mvs_arena_alloc(P->e->arena, sizeof *n);
  if (n) {
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->off = off;
  }
  return n;
}

/* Grow an arena array to hold at least need elements (doubling; old blocks stay in the
 * arena until the expr is freed, which bounds waste to the final size). */
static int grow(parser *P, void **arr, size_t *cap, size_t need, size_t elsz)
{
  size_t ncap = *cap ? *cap : 4;
  void *na;
  if (need <= *cap)
    return EXPR_OK;
  while (ncap < need)
    ncap *= 2;
  if (ncap > SIZE_MAX / elsz)
    return nomem(P);
  na = mvs_arena_alloc(P->e->arena, ncap * elsz);
  if (!na)
    return nomem(P);
  if (*cap)
    memcpy(na, *arr, *cap * elsz);
  *arr = na;
  *cap = ncap;
  return EXPR_OK;
}

static size_t hash_name(const char *p, size_t n)
{
  size_t h = (size_t)14695981039346656037u;
  while (n--)
    h = (h ^ (unsigned char)*p++) * (size_t)1099511628211u;
  return h;
}

/* Remember an attribute the expression reads, once, in first-use order. */
static int add_attr(parser *P, const char *p, size_t n)
{
  expr *e = P->e;
  size_t i, h;
  int rc;

  if (e->nattrs * 2 >= P->hcap) {
    size_t ncap = P->hcap ? P->hcap * 2 : 16;
    size_t *nh = mvs_arena_alloc(e->arena, ncap * sizeof *nh);
    if (!nh)
      return nomem(P);
    memset(nh, 0, ncap * sizeof *nh);
    for (i = 0; i < e->nattrs; i++) {
      h = hash_name(e->attrs[i].p, e->attrs[i].n) & (ncap - 1);
      while (nh[h])
        h = (h + 1) & (ncap - 1);
      nh[h] = i + 1;
    }
    P->hash = nh;
    P->hcap = ncap;
  }
  h = hash_name(p, n) & (P->hcap - 1);
  while (P->hash[h]) {
    expr_name *a = &e->attrs[P->hash[h] - 1];
    if (a->n == n && memcmp(a->p, p, n) == 0)
      return EXPR_OK;
    h = (h + 1) & (P->hcap - 1);
  }
  rc = grow(P, (void **)&e->attrs, &P->attrs_cap, e->nattrs + 1, sizeof *e->attrs);
  if (rc)
    return rc;
  e->attrs[e->nattrs].p = p;
  e->attrs[e->nattrs].n = n;
  P->hash[h] = ++e->nattrs;
  return EXPR_OK;
}

static int parse_expr(parser *P, bool allow_cmp, expr_node **out);

static const char *const connect_keywords[] = {"True", "False", "NULL", "CRLF",
                                               "IgnoreThisFlow", "AuthoritativeNull"};

static int keyword(parser *P, expr_node **out)
{
  const expr_tok *t = &P->tok;
  static const expr_node_kind kinds[] = {EN_BOOL, EN_BOOL, EN_NULL, EN_CRLF, EN_IGNORE,
                                         EN_AUTHNULL};
  size_t i;

  for (i = 0; i < sizeof connect_keywords / sizeof *connect_keywords; i++) {
    if (!name_eq(t->s, t->n, connect_keywords[i]))
      continue;
    if (P->e->d == EXPR_CLOUD && i >= 2)
      return expr_parse_error(P->err, t->off, "'%s' is only available in the connect dialect",
                              connect_keywords[i]);
    *out = new_node(P, kinds[i], t->off);
    if (!*out)
      return nomem(P);
    (*out)->u.b = i == 0;
    return advance(P);
  }
  return -1;
}

static int parse_number(parser *P, bool neg, size_t off, expr_node **out)
{
  const expr_tok *t = &P->tok;
  int64_t v;
  expr_node *n;

  if (t->hex) {
    /* &H literals are 64-bit two's complement, as in VBA: &HFFFFFFFFFFFFFFFF is -1. */
    v = t->mag > (uint64_t)INT64_MAX ? -(int64_t)(~t->mag) - 1 : (int64_t)t->mag;
    if (neg && v == INT64_MIN)
      return expr_parse_error(P->err, off, "number too large: numbers are 64-bit integers");
    if (neg)
      v = -v;
  } else {
    if (t->mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
      return expr_parse_error(P->err, off, "number too large: numbers are 64-bit integers");
    if (neg)
      v = t->mag == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)t->mag;
    else
      v = (int64_t)t->mag;
  }
  n = new_node(P, EN_NUM, off);
  if (!n)
    return nomem(P);
  n->u.num.v = v;
  n->u.num.mag = t->mag;
  n->u.num.neg = neg;
  n->u.num.hex = t->hex;
  *out = n;
  return advance(P);
}

static int unknown_function(parser *P, const expr_tok *name, const expr_fn_def *other)
{
  if (other && name_eq(name->s, name->n, other->name))
    return expr_parse_error(P->err, name->off, "'%s' is only available in the %s dialect",
                            other->name,
                            dialect_name(P->e->d == EXPR_CONNECT ? EXPR_CLOUD : EXPR_CONNECT));
  if (other)
    return expr_parse_error(P->err, name->off,
                            "unknown function '%.*s': did you mean '%s'? (function names "
                            "are case-sensitive)",
                            (int)name->n, name->s, other->name);
  return expr_parse_error(P->err, name->off, "unknown function '%.*s'", (int)name->n, name->s);
}

static int arity_error(parser *P, const expr_fn_def *f, const expr_fn_def *other, size_t off,
                       size_t got)
{
  char want[64], owant[64], tail[200] = "";
  expr_dialect od = P->e->d == EXPR_CONNECT ? EXPR_CLOUD : EXPR_CONNECT;
  size_t i;

  describe_arity(f, want, sizeof want);
  if (other && strcmp(other->name, f->name) == 0) {
    describe_arity(other, owant, sizeof owant);
    snprintf(tail, sizeof tail, "; the %s dialect's %s takes %s", dialect_name(od), f->name,
             owant);
    for (i = 0; i < sizeof sig_hints / sizeof *sig_hints; i++)
      if (strcmp(sig_hints[i].name, f->name) == 0)
        snprintf(tail, sizeof tail, "; %s takes %s in the %s dialect", f->name,
                 od == EXPR_CLOUD ? sig_hints[i].cloud : sig_hints[i].connect,
                 dialect_name(od));
  }
  return expr_parse_error(P->err, off, "%s takes %s, got %zu%s", f->name, want, got, tail);
}

static int expect_after_arg(parser *P, const expr_fn_def *f, size_t argno)
{
  char what[64];
  found(P, what, sizeof what);
  if (P->tok.kind == TK_OP && P->e->d == EXPR_CLOUD)
    return expr_parse_error(P->err, P->tok.off,
                            "operator '%s': infix operators are not supported in the cloud "
                            "dialect (only one comparison, as the condition of IIF or CBool)",
                            expr_op_text(P->tok.op));
  return expr_parse_error(P->err, P->tok.off,
                          "expected ',' or ')' after argument %zu of %s, found %s", argno,
                          f->name, what);
}

/* The arguments where the cloud dialect allows one comparison: IIF's condition (APPFN: "The
 * following comparison operators can be used in the condition") and CBool's expression
 * (APPFN's example CBool([attribute1] = [attribute2])). */
static bool takes_condition(const expr_fn_def *f, expr_core core)
{
  return core == CORE_IIF || strcmp(f->name, "CBool") == 0;
}

static int parse_call(parser *P, expr_tok name, expr_node **out)
{
  const expr_fn_def *f, *other;
  expr_node *n, *arg;
  expr_node **args = NULL;
  size_t nargs = 0, cap = 0;
  expr_core core = CORE_NONE;
  bool pushed = false;
  char what[64];
  int rc;

  f = expr_fn_find(name.s, name.n, P->e->d, &other);
  if (!f)
    return unknown_function(P, &name, other);
  if (f >= expr_fn_core && f < expr_fn_core + CORE_NONE)
    core = (expr_core)(f - expr_fn_core);
  rc = advance(P);   /* past '(' */
  if (rc)
    return rc;
  if (P->tok.kind == TK_RPAREN)
    goto close;
  for (;;) {
    bool binder = core == CORE_SELECT || core == CORE_WHERE || core == CORE_WITH;
    if (binder && nargs == 0) {
      /* The first argument of Select/Where/With names the variable it binds. */
      if (P->tok.kind != TK_VAR) {
        found(P, what, sizeof what);
        return expr_parse_error(P->err, P->tok.off,
                                "%s: the first argument must be a $variable, found %s",
                                f->name, what);
      }
      arg = new_node(P, EN_VAR, P->tok.off);
      if (!arg)
        return nomem(P);
      arg->u.s.p = P->tok.s;
      arg->u.s.n = P->tok.n;
      arg->u.s.slot = P->nscopes;
      rc = advance(P);
    } else if (P->e->d == EXPR_CLOUD &&
               (P->tok.kind == TK_COMMA || P->tok.kind == TK_RPAREN)) {
      arg = new_node(P, EN_EMPTY, P->tok.off);
      if (!arg)
        return nomem(P);
    } else {
      if (binder && nargs == 2) {
        P->scopes[P->nscopes].p = args[0]->u.s.p;
        P->scopes[P->nscopes].n = args[0]->u.s.n;
        P->nscopes++;
        if (P->nscopes > P->e->nslots)
          P->e->nslots = P->nscopes;
        pushed = true;
      }
      rc = parse_expr(P, nargs == 0 && takes_condition(f, core), &arg);
      if (pushed) {
        P->nscopes--;
        pushed = false;
      }
    }
    if (rc)
      return rc;
    rc = grow(P, (void **)&args, &cap, nargs + 1, sizeof *args);
    if (rc)
      return rc;
    args[nargs++] = arg;
    if (P->tok.kind == TK_RPAREN)
      break;
    if (P->tok.kind != TK_COMMA)
      return expect_after_arg(P, f, nargs);
    rc = advance(P);
    if (rc)
      return rc;
    if (P->e->d == EXPR_CONNECT && (P->tok.kind == TK_COMMA || P->tok.kind == TK_RPAREN)) {
      found(P, what, sizeof what);
      return expr_parse_error(P->err, P->tok.off,
                              "expected argument %zu of %s after ',', found %s", nargs + 1,
                              f->name, what);
    }
  }
close:
  if ((int64_t)nargs < f->min_args || (f->max_args >= 0 && (int64_t)nargs > f->max_args))
    return arity_error(P, f, other, name.off, nargs);
  if (core == CORE_SWITCH && nargs % 2)
    return expr_parse_error(P->err, name.off,
                            "Switch takes conditions and values in pairs, got %zu arguments",
                            nargs);
  if (core == CORE_IMPORTED || core == CORE_VALUECOUNT) {
    /* The attribute is named, not read: the name must be known before evaluation, so the
     * rule's attribute list (expr_attrs) holds it. */
    if (args[0]->kind != EN_STR)
      return expr_parse_error(P->err, args[0]->off,
                              "%s takes a string literal naming an attribute, "
                              "as in %s(\"%s\")", f->name, f->name,
                              core == CORE_IMPORTED ? "mail" : "member");
    rc = add_attr(P, args[0]->u.s.p, args[0]->u.s.n);
    if (rc)
      return rc;
  }
  n = new_node(P, EN_CALL, name.off);
  if (!n)
    return nomem(P);
  n->u.call.fn = f;
  n->u.call.core = core;
  n->u.call.args = args;
  n->u.call.n = nargs;
  *out = n;
  return advance(P);   /* past ')' */
}

/* Microsoft writes the option arguments of InStr, Contains and ConvertFromBase64 as bare
 * names (InStr(x, y, 1, vbTextCompare)); they read as the strings they spell.  The table
 * is static, so the node's text outlives any expr. */
static const char *const option_names[] = {"vbTextCompare", "vbBinaryCompare",
                                           "CaseSensitive", "CaseInsensitive",
                                           "Unicode",       "ASCII",
                                           "UTF8"};

static int parse_ident(parser *P, expr_node **out)
{
  expr_tok name = P->tok;
  const expr_fn_def *f, *other;
  char what[64];
  size_t i;
  int rc;

  rc = keyword(P, out);
  if (rc >= 0)
    return rc;
  rc = advance(P);
  if (rc)
    return rc;
  if (P->tok.kind == TK_LPAREN)
    return parse_call(P, name, out);
  for (i = 0; i < sizeof option_names / sizeof *option_names; i++)
    if (name_eq(name.s, name.n, option_names[i])) {
      if (!(*out = new_node(P, EN_STR, name.off)))
        return nomem(P);
      (*out)->u.s.p = option_names[i];
      (*out)->u.s.n = strlen(option_names[i]);
      return EXPR_OK;
    }
  found(P, what, sizeof what);
  f = expr_fn_find(name.s, name.n, P->e->d, &other);
  if (f)
    return expr_parse_error(P->err, P->tok.off,
                            "expected '(' after the function name '%s', found %s", f->name,
                            what);
  for (i = 0; i < sizeof connect_keywords / sizeof *connect_keywords; i++)
    if (ascii_ieq(name.s, name.n, connect_keywords[i]) &&
        (P->e->d == EXPR_CONNECT || i < 2))
      return expr_parse_error(P->err, name.off,
                              "unknown name '%.*s': did you mean '%s'? (names are "
                              "case-sensitive)",
                              (int)name.n, name.s, connect_keywords[i]);
  return expr_parse_error(P->err, name.off,
                          "unknown name '%.*s': expected a function call, an [attribute], a "
                          "\"string\", a number or a constant",
                          (int)name.n, name.s);
}

static int parse_operand(parser *P, expr_node **out)
{
  expr_tok t = P->tok;
  expr_node *n;
  char what[64];
  unsigned i;
  int rc;

  switch (t.kind) {
  case TK_STR:
  case TK_ATTR:
  case TK_PARAM:
    n = new_node(P, t.kind == TK_STR ? EN_STR : t.kind == TK_ATTR ? EN_ATTR : EN_PARAM, t.off);
    if (!n)
      return nomem(P);
    n->u.s.p = t.s;
    n->u.s.n = t.n;
    if (t.kind == TK_ATTR && (rc = add_attr(P, t.s, t.n)) != EXPR_OK)
      return rc;
    *out = n;
    return advance(P);
  case TK_VAR:
    /* Innermost binding wins, so nested Select/Where/With may reuse a name. */
    for (i = P->nscopes; i-- > 0;) {
      if (P->scopes[i].n == t.n && memcmp(P->scopes[i].p, t.s, t.n) == 0) {
        n = new_node(P, EN_VAR, t.off);
        if (!n)
          return nomem(P);
        n->u.s.p = t.s;
        n->u.s.n = t.n;
        n->u.s.slot = i;
        *out = n;
        return advance(P);
      }
    }
    return expr_parse_error(P->err, t.off,
                            "unknown variable $%.*s: variables are bound by the first "
                            "argument of Select, Where and With, for use in their last",
                            (int)t.n, t.s);
  case TK_NUM:
    return parse_number(P, false, t.off, out);
  case TK_IDENT:
    return parse_ident(P, out);
  case TK_LPAREN:
    if (P->e->d == EXPR_CLOUD)
      return expr_parse_error(P->err, t.off,
                              "parentheses are not supported in the cloud dialect (it has "
                              "no infix operators)");
    rc = advance(P);
    if (rc)
      return rc;
    rc = parse_expr(P, false, out);
    if (rc)
      return rc;
    if (P->tok.kind != TK_RPAREN) {
      found(P, what, sizeof what);
      return expr_parse_error(P->err, P->tok.off,
                              "expected an operator or ')' to close the '(' at column %zu, "
                              "found %s",
                              t.off + 1, what);
    }
    return advance(P);
  case TK_OP:
    if (t.op == OP_SUB) {
      rc = advance(P);
      if (rc)
        return rc;
      if (P->tok.kind == TK_NUM)
        return parse_number(P, true, t.off, out);
      found(P, what, sizeof what);
      return expr_parse_error(P->err, P->tok.off,
                              "a minus sign must be followed by a number here, found %s",
                              what);
    }
    break;
  default:
    break;
  }
  found(P, what, sizeof what);
  return expr_parse_error(P->err, t.off,
                          "expected a value (a function call, an [attribute], a \"string\", a "
                          "number or a constant), found %s",
                          what);
}

static int infix_error(parser *P)
{
  return expr_parse_error(P->err, P->tok.off,
                          "operator '%s': infix operators are not supported in the cloud "
                          "dialect (only one comparison, as the condition of IIF or CBool)",
                          expr_op_text(P->tok.op));
}

/* Tier of a chain node: all its operators share one (see expr_op_tier). */
static int chain_tier(const expr_node *n) { return expr_op_tier(n->u.chain.ops[0]); }

/* A chain node over copies of operands[0..cnt) and ops/offs[0..cnt-1), all of one tier.  A
 * parenthesised chain of the same tier in first position is spliced in, since it means the
 * same written without its parentheses; splicing keeps the AST (and the printer) canonical. */
static int new_chain(parser *P, expr_node *const *operands, const expr_op *ops,
                     const size_t *offs, size_t cnt, expr_node **out)
{
  const expr_node *first = operands[0];
  size_t fn = first->kind == EN_CHAIN && chain_tier(first) == expr_op_tier(ops[0])
                ? first->u.chain.n : 1;
  size_t total = fn + cnt - 1;
  expr_node *n = new_node(P, EN_CHAIN, first->off);
  expr_node **no = mvs_arena_alloc(P->e->arena, total * sizeof *no);
  expr_op *nop = mvs_arena_alloc(P->e->arena, (total - 1) * sizeof *nop);
  size_t *nof = mvs_arena_alloc(P->e->arena, (total - 1) * sizeof *nof);

  if (!n || !no || !nop || !nof)
    return nomem(P);
  if (fn > 1) {
    memcpy(no, first->u.chain.operands, fn * sizeof *no);
    memcpy(nop, first->u.chain.ops, (fn - 1) * sizeof *nop);
    memcpy(nof, first->u.chain.op_off, (fn - 1) * sizeof *nof);
  } else {
    no[0] = operands[0];
  }
  memcpy(no + fn, operands + 1, (cnt - 1) * sizeof *no);
  memcpy(nop + fn - 1, ops, (cnt - 1) * sizeof *nop);
  memcpy(nof + fn - 1, offs, (cnt - 1) * sizeof *nof);
  n->u.chain.operands = no;
  n->u.chain.ops = nop;
  n->u.chain.op_off = nof;
  n->u.chain.n = total;
  *out = n;
  return EXPR_OK;
}

/* Turn the flat operand/operator list of one parenthesis level into nested chains, one per
 * run of operators of the same tier, tightest tier first (docs/internals/expr.md: operators
 * of one tier evaluate left to right; & + - * bind tighter than comparisons, comparisons
 * tighter than && and ||, as Microsoft's shipped rules need).  Compacts the arrays in place. */
static int group_tiers(parser *P, expr_node **operands, expr_op *ops, size_t *offs,
                       size_t cnt, expr_node **out)
{
  size_t i, j, m;
  int tier, rc;

  for (tier = 0; cnt > 1 && tier < EXPR_OP_TIERS; tier++) {
    for (i = 0, m = 0; i < cnt; i = j + 1, m++) {
      for (j = i; j + 1 < cnt && expr_op_tier(ops[j]) == tier; j++)
        ;
      if (j > i) {
        if ((rc = new_chain(P, operands + i, ops + i, offs + i, j - i + 1, &operands[m])) !=
            EXPR_OK)
          return rc;
      } else {
        operands[m] = operands[i];
      }
      if (j + 1 < cnt) {
        ops[m] = ops[j];
        offs[m] = offs[j];
      }
    }
    cnt = m;
  }
  *out = operands[0];
  return EXPR_OK;
}

static int parse_expr(parser *P, bool allow_cmp, expr_node **out)
{
  expr_node *first = NULL, *opnd;
  expr_node **operands = NULL;
  expr_op *ops = NULL;
  size_t *offs = NULL;
  size_t cnt = 0, cap_a = 0, cap_o = 0, cap_f = 0;
  int rc;

  if (++P->depth > EXPR_MAX_DEPTH) {
    rc = expr_parse_error(P->err, P->tok.off, "expression nested too deeply (more than %d "
                                              "levels)",
                          EXPR_MAX_DEPTH);
    goto out;
  }
  rc = parse_operand(P, &first);
  if (rc || P->tok.kind != TK_OP) {
    *out = first;
    goto out;
  }
  if (P->e->d == EXPR_CLOUD && (!allow_cmp || !expr_op_is_cmp(P->tok.op))) {
    rc = infix_error(P);
    goto out;
  }
  if ((rc = grow(P, (void **)&operands, &cap_a, 1, sizeof *operands)) != EXPR_OK)
    goto out;
  operands[cnt++] = first;
  while (P->tok.kind == TK_OP) {
    if (P->e->d == EXPR_CLOUD && cnt == 2) {
      rc = infix_error(P);
      goto out;
    }
    if ((rc = grow(P, (void **)&ops, &cap_o, cnt, sizeof *ops)) != EXPR_OK ||
        (rc = grow(P, (void **)&offs, &cap_f, cnt, sizeof *offs)) != EXPR_OK ||
        (rc = grow(P, (void **)&operands, &cap_a, cnt + 1, sizeof *operands)) != EXPR_OK)
      goto out;
    ops[cnt - 1] = P->tok.op;
    offs[cnt - 1] = P->tok.off;
    if ((rc = advance(P)) != EXPR_OK || (rc = parse_operand(P, &opnd)) != EXPR_OK)
      goto out;
    operands[cnt++] = opnd;
  }
  rc = group_tiers(P, operands, ops, offs, cnt, out);
out:
  P->depth--;
  return rc;
}

/* Expressions are text: invalid UTF-8 would flow into directories, and a NUL byte could
 * not survive expr_to_string's C string. */
static int check_text(const char *s, size_t n, expr_error *err)
{
  size_t i = 0, l;
  while (i < n) {
    uint32_t cp = utf8_decode(s + i, n - i, &l);
    if (cp == 0)
      return expr_parse_error(err, i, "NUL byte in expression");
    if (cp == 0xFFFD && l == 1)
      return expr_parse_error(err, i, "invalid UTF-8 byte 0x%02X",
                              (unsigned)(unsigned char)s[i]);
    i += l;
  }
  return EXPR_OK;
}

int expr_parse(const char *src, size_t len, expr_dialect d, expr **out, expr_error *err)
{
  parser P;
  expr *e = NULL;
  char *copy;
  char what[64];
  int rc;

  *out = NULL;
  if (err) {
    err->offset = 0;
    err->msg[0] = '\0';
  }
  memset(&P, 0, sizeof P);
  e = calloc(1, sizeof *e);
  if (!e || !(e->arena = mvs_arena_new(0))) {
    rc = EXPR_ERR_NOMEM;
    expr_parse_error(err, 0, "out of memory");
    goto out;
  }
  e->d = d == EXPR_CLOUD ? EXPR_CLOUD : EXPR_CONNECT;
  if (!src)
    len = 0;
  copy = mvs_arena_memdup(e->arena, src ? src : "", len);
  e->pool_size = len + 1;
  e->pool = len < SIZE_MAX ? mvs_arena_alloc(e->arena, e->pool_size) : NULL;
  if (!copy || !e->pool) {
    rc = EXPR_ERR_NOMEM;
    expr_parse_error(err, 0, "out of memory");
    goto out;
  }
  if ((rc = check_text(copy, len, err)) != EXPR_OK)
    goto out;
  P.e = e;
  P.err = err;
  P.lx.src = copy;
  P.lx.len = len;
  P.lx.d = e->d;
  P.lx.pool = e->pool;
  P.lx.err = err;
  if ((rc = advance(&P)) != EXPR_OK)
    goto out;
  if (P.tok.kind == TK_EOF) {
    rc = expr_parse_error(err, 0, "empty expression: expected a value");
    goto out;
  }
  if ((rc = parse_expr(&P, false, &e->root)) != EXPR_OK)
    goto out;
  if (P.tok.kind != TK_EOF) {
    found(&P, what, sizeof what);
    rc = expr_parse_error(err, P.tok.off,
                          d == EXPR_CONNECT
                              ? "expected an operator or the end of the expression, found %s"
                              : "expected the end of the expression, found %s",
                          what);
    goto out;
  }
  *out = e;
  e = NULL;
out:
  expr_free(e);
  return rc;
}

void expr_free(expr *e)
{
  if (!e)
    return;
  mvs_arena_free(e->arena);
  free(e);
}

expr_dialect expr_get_dialect(const expr *e) { return e->d; }

void expr_attrs(const expr *e, void (*fn)(void *u, const char *name, size_t n), void *u)
{
  size_t i;
  for (i = 0; i < e->nattrs; i++)
    fn(u, e->attrs[i].p, e->attrs[i].n);
}

int expr_is_attr(const expr *e, const char **name, size_t *n)
{
  if (e->root->kind != EN_ATTR)
    return 0;
  *name = e->root->u.s.p;
  *n = e->root->u.s.n;
  return 1;
}
