/* expr_lex — tokenizer of both expression dialects, one token at a time on demand.
 * Memory: token text points into the expr's source copy or its literal pool. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules/expr_int.h"
#include "schema/utf8.h"

int expr_parse_error(expr_error *err, size_t off, const char *fmt, ...)
{
  va_list ap;
  if (err) {
    err->offset = off;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return EXPR_ERR_PARSE;
}

static const char *const op_text[] = {"&", "+", "-", "*", "=", "<>", "<", "<=", ">", ">=",
                                      "&&", "||"};

const char *expr_op_text(expr_op op) { return op_text[op]; }

bool expr_op_is_cmp(expr_op op) { return op >= OP_EQ && op <= OP_GE; }

int expr_op_tier(expr_op op) { return op == OP_AND || op == OP_OR ? 2 : expr_op_is_cmp(op); }

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_ident(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }
/* LDAP attribute names plus ';' for options such as userCertificate;binary. */
static int is_attr_char(char c) { return is_ident(c) || c == '-' || c == '.' || c == ';'; }
static int is_param_char(char c) { return is_ident(c) || c == '-' || c == '.'; }

/* Describe the character at pos for "unexpected character" messages. */
static void describe_char(const expr_lexer *lx, size_t pos, char *out, size_t outsz)
{
  size_t l;
  uint32_t cp;
  if (pos >= lx->len) {
    snprintf(out, outsz, "end of expression");
    return;
  }
  cp = utf8_decode(lx->src + pos, lx->len - pos, &l);
  if (cp >= 0x20 && cp < 0x7F)
    snprintf(out, outsz, "'%c'", (char)cp);
  else
    snprintf(out, outsz, "U+%04X", (unsigned)cp);
}

static int lex_string(expr_lexer *lx, expr_tok *t)
{
  size_t i = lx->pos + 1;
  char *d = lx->pool + lx->pool_used;
  size_t k = 0;

  while (i < lx->len && lx->src[i] != '"') {
    /* Connect strings have no escapes.  In cloud strings \" and \\ are escapes and any
     * other backslash is kept, as regex patterns need it. */
    if (lx->d == EXPR_CLOUD && lx->src[i] == '\\' && i + 1 < lx->len &&
        (lx->src[i + 1] == '"' || lx->src[i + 1] == '\\'))
      i++;
    d[k++] = lx->src[i++];
  }
  if (i >= lx->len)
    return expr_parse_error(lx->err, t->off, "unterminated string: expected a closing '\"'");
  d[k] = '\0';
  lx->pool_used += k + 1;
  t->s = d;
  t->n = k;
  lx->pos = i + 1;
  return EXPR_OK;
}

static int lex_attr(expr_lexer *lx, expr_tok *t)
{
  size_t start = lx->pos + 1, i = start;
  char what[32];

  while (i < lx->len && is_attr_char(lx->src[i]))
    i++;
  if (i < lx->len && lx->src[i] == ']') {
    if (i == start)
      return expr_parse_error(lx->err, t->off, "empty attribute name in '[]'");
    t->s = lx->src + start;
    t->n = i - start;
    lx->pos = i + 1;
    return EXPR_OK;
  }
  if (i >= lx->len) {
    if (i == start)
      return expr_parse_error(lx->err, t->off,
                              "unterminated attribute reference: expected an attribute "
                              "name and ']', found end of expression");
    return expr_parse_error(lx->err, t->off,
                            "unterminated attribute reference: expected ']', found end of "
                            "expression");
  }
  describe_char(lx, i, what, sizeof what);
  return expr_parse_error(lx->err, i,
                          "invalid character %s in attribute name: expected letters, "
                          "digits, '-', '_', '.', ';' or the closing ']'",
                          what);
}

static int lex_param(expr_lexer *lx, expr_tok *t)
{
  size_t start = lx->pos + 1, i = start;
  char what[32];

  while (i < lx->len && is_param_char(lx->src[i]))
    i++;
  if (i < lx->len && lx->src[i] == '%' && i > start) {
    t->s = lx->src + start;
    t->n = i - start;
    lx->pos = i + 1;
    return EXPR_OK;
  }
  if (i < lx->len && lx->src[i] == '%')
    return expr_parse_error(lx->err, t->off, "empty parameter name in '%%%%'");
  describe_char(lx, i, what, sizeof what);
  return expr_parse_error(lx->err, i == lx->len ? t->off : i,
                          "malformed parameter: expected a name and a closing '%%', found %s",
                          what);
}

static int lex_number(expr_lexer *lx, expr_tok *t, size_t i, int base)
{
  size_t start = i;
  uint64_t m = 0;
  bool big = false;

  for (; i < lx->len; i++) {
    int v = base == 16 ? mvs_hex_digit(lx->src[i]) : (is_digit(lx->src[i]) ? lx->src[i] - '0' : -1);
    if (v < 0)
      break;
    if (base == 16) {
      if (i - start >= 16)
        big = true;
      m = m << 4 | (uint64_t)v;
    } else {
      /* Decimal magnitudes up to 2^63 are kept: -9223372036854775808 is valid. */
      if (m > ((UINT64_C(1) << 63) - (uint64_t)v) / 10)
        big = true;
      else
        m = m * 10 + (uint64_t)v;
    }
  }
  if (big)
    return expr_parse_error(lx->err, t->off, "number too large: numbers are 64-bit integers");
  if (i < lx->len && lx->src[i] == '.' && i + 1 < lx->len && is_digit(lx->src[i + 1]))
    return expr_parse_error(lx->err, t->off, "only whole numbers are supported, found '%.*s'",
                            (int)(i + 2 - t->off), lx->src + t->off);
  if (i < lx->len && is_ident(lx->src[i])) {
    size_t j = i;
    while (j < lx->len && is_ident(lx->src[j]) && j - t->off < 40)
      j++;
    return expr_parse_error(lx->err, t->off, "invalid number '%.*s'", (int)(j - t->off),
                            lx->src + t->off);
  }
  t->kind = TK_NUM;
  t->mag = m;
  t->hex = base == 16;
  lx->pos = i;
  return EXPR_OK;
}

static int lex_op(expr_lexer *lx, expr_tok *t, expr_op op, size_t len)
{
  t->kind = TK_OP;
  t->op = op;
  lx->pos += len;
  return EXPR_OK;
}

int expr_lex_next(expr_lexer *lx, expr_tok *t)
{
  const char *s = lx->src;
  char c, c1, what[32];
  size_t l;
  uint32_t cp;
  int rc;

  memset(t, 0, sizeof *t);
  for (;;) {
    if (lx->pos >= lx->len)
      break;
    cp = utf8_decode(s + lx->pos, lx->len - lx->pos, &l);
    if (!utf8_isspace(cp))
      break;
    lx->pos += l;
  }
  t->off = lx->pos;
  if (lx->pos >= lx->len) {
    t->kind = TK_EOF;
    t->end = lx->pos;
    return EXPR_OK;
  }
  c = s[lx->pos];
  c1 = lx->pos + 1 < lx->len ? s[lx->pos + 1] : '\0';
  switch (c) {
  case '(': t->kind = TK_LPAREN; lx->pos++; rc = EXPR_OK; break;
  case ')': t->kind = TK_RPAREN; lx->pos++; rc = EXPR_OK; break;
  case ',': t->kind = TK_COMMA; lx->pos++; rc = EXPR_OK; break;
  case '"':
    t->kind = TK_STR;
    rc = lex_string(lx, t);
    break;
  case '[':
    t->kind = TK_ATTR;
    rc = lex_attr(lx, t);
    break;
  case '%':
    if (lx->d != EXPR_CONNECT)
      return expr_parse_error(lx->err, t->off,
                              "parameters (%%name%%) are only available in the connect dialect");
    t->kind = TK_PARAM;
    rc = lex_param(lx, t);
    break;
  case '$':
    if (lx->d != EXPR_CONNECT)
      return expr_parse_error(lx->err, t->off,
                              "variables ($name) are only available in the connect dialect");
    l = lx->pos + 1;
    while (l < lx->len && is_ident(s[l]))
      l++;
    if (l == lx->pos + 1) {
      describe_char(lx, l, what, sizeof what);
      return expr_parse_error(lx->err, t->off, "expected a variable name after '$', found %s",
                              what);
    }
    t->kind = TK_VAR;
    t->s = s + lx->pos + 1;
    t->n = l - lx->pos - 1;
    lx->pos = l;
    rc = EXPR_OK;
    break;
  case '&':
    if (c1 == '&') {
      rc = lex_op(lx, t, OP_AND, 2);
    } else if ((c1 == 'H' || c1 == 'h') && lx->pos + 2 < lx->len &&
               mvs_hex_digit(s[lx->pos + 2]) >= 0) {
      rc = lex_number(lx, t, lx->pos + 2, 16);
    } else {
      rc = lex_op(lx, t, OP_CONCAT, 1);
    }
    break;
  case '|':
    if (c1 != '|')
      return expr_parse_error(lx->err, t->off, "unexpected character '|': the 'or' operator "
                                               "is '||'");
    rc = lex_op(lx, t, OP_OR, 2);
    break;
  case '+': rc = lex_op(lx, t, OP_ADD, 1); break;
  case '-': rc = lex_op(lx, t, OP_SUB, 1); break;
  case '*': rc = lex_op(lx, t, OP_MUL, 1); break;
  case '=': rc = lex_op(lx, t, OP_EQ, 1); break;
  case '<':
    if (c1 == '=')
      rc = lex_op(lx, t, OP_LE, 2);
    else if (c1 == '>')
      rc = lex_op(lx, t, OP_NE, 2);
    else
      rc = lex_op(lx, t, OP_LT, 1);
    break;
  case '>':
    rc = c1 == '=' ? lex_op(lx, t, OP_GE, 2) : lex_op(lx, t, OP_GT, 1);
    break;
  default:
    if (is_digit(c)) {
      rc = lex_number(lx, t, lx->pos, 10);
    } else if (is_alpha(c) || c == '_') {
      l = lx->pos;
      while (l < lx->len && is_ident(s[l]))
        l++;
      t->kind = TK_IDENT;
      t->s = s + lx->pos;
      t->n = l - lx->pos;
      lx->pos = l;
      rc = EXPR_OK;
    } else {
      cp = utf8_decode(s + lx->pos, lx->len - lx->pos, &l);
      if (cp == 0x201C || cp == 0x201D || cp == 0x2018 || cp == 0x2019)
        return expr_parse_error(lx->err, t->off,
                                "typographic quote U+%04X: strings need straight quotes \"",
                                (unsigned)cp);
      describe_char(lx, lx->pos, what, sizeof what);
      return expr_parse_error(lx->err, t->off, "unexpected character %s", what);
    }
    break;
  }
  t->end = lx->pos;
  return rc;
}

void expr_tok_describe(const expr_tok *t, const char *src, char *out, size_t outsz)
{
  int n = (int)(t->end - t->off);
  const char *more = "";
  if (n > 32) {
    n = 32;
    more = "...";
  }
  switch (t->kind) {
  case TK_EOF: snprintf(out, outsz, "end of expression"); return;
  case TK_LPAREN: snprintf(out, outsz, "'('"); return;
  case TK_RPAREN: snprintf(out, outsz, "')'"); return;
  case TK_COMMA: snprintf(out, outsz, "','"); return;
  case TK_STR: snprintf(out, outsz, "string %.*s%s", n, src + t->off, more); return;
  case TK_NUM: snprintf(out, outsz, "number %.*s%s", n, src + t->off, more); return;
  case TK_ATTR: snprintf(out, outsz, "attribute %.*s%s", n, src + t->off, more); return;
  case TK_PARAM: snprintf(out, outsz, "parameter %.*s%s", n, src + t->off, more); return;
  case TK_VAR: snprintf(out, outsz, "variable %.*s%s", n, src + t->off, more); return;
  case TK_IDENT: snprintf(out, outsz, "name '%.*s%s'", n, src + t->off, more); return;
  case TK_OP: snprintf(out, outsz, "operator '%s'", expr_op_text(t->op)); return;
  }
}
