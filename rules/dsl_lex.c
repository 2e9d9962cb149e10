/* dsl_lex — the rule DSL's lexer: words, strings, punctuation, comments, and the raw text of
 * flow expressions (handed to expr_parse).  See dsl_int.h. */
#include <stdio.h>
#include <string.h>

#include "rules/dsl_int.h"
#include "schema/utf8.h"

void lex_init(lexer *lx, const char *file, const char *src, size_t len, mvs_arena *a,
              rule_diags *d)
{
  memset(lx, 0, sizeof *lx);
  lx->file = file;
  lx->src = src;
  lx->len = len;
  lx->line = 1;
  lx->col = 1;
  lx->arena = a;
  lx->diags = d;
}

/* Step over one byte; columns count characters, so UTF-8 continuation bytes add none. */
static void adv(lexer *lx)
{
  unsigned char c = (unsigned char)lx->src[lx->pos++];
  if (c == '\n') {
    lx->line++;
    lx->col = 1;
  } else if ((c & 0xC0) != 0x80) {
    lx->col++;
  }
}

static int peek(const lexer *lx, size_t ahead)
{
  return lx->pos + ahead < lx->len ? (unsigned char)lx->src[lx->pos + ahead] : -1;
}

static void lex_error(lexer *lx, uint32_t line, uint32_t col, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static void lex_error(lexer *lx, uint32_t line, uint32_t col, const char *fmt, ...)
{
  va_list ap;
  rule_pos pos = {lx->file, line, col};
  va_start(ap, fmt);
  if (rule_diag_vadd(lx->diags, pos, RULE_SEV_ERROR, fmt, ap) != 0)
    lx->nomem = true;
  va_end(ap);
  lx->errors++;
}

static bool is_word_start(int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_';
}

static bool is_word_char(int c)
{
  return is_word_start(c) || c == '.' || c == ':' || c == '/' || c == '-';
}

/* Describe the character at the current position for an error message. */
static void describe_char(const lexer *lx, char *out, size_t outlen)
{
  size_t n;
  uint32_t cp = utf8_decode(lx->src + lx->pos, lx->len - lx->pos, &n);
  if (cp >= 0x21 && cp < 0x7F)
    snprintf(out, outlen, "'%c'", (char)cp);
  else
    snprintf(out, outlen, "U+%04X", (unsigned)cp);
}

static void lex_string(lexer *lx, token *t)
{
  buf value;
  bool closed = false;

  buf_init(&value, 0);
  adv(lx); /* the opening quote */
  while (lx->pos < lx->len) {
    int c = peek(lx, 0);
    if (c == '"') {
      adv(lx);
      closed = true;
      break;
    }
    if (c == '\n')
      break;
    if (c == '\\') {
      int e = peek(lx, 1);
      const char *rep = e == '"' ? "\"" : e == '\\' ? "\\"
                      : e == 'n' ? "\n" : e == 't' ? "\t" : NULL;
      if (!rep) {
        char what[16];
        uint32_t line = lx->line, col = lx->col;
        adv(lx);
        if (lx->pos < lx->len && peek(lx, 0) != '\n') {
          describe_char(lx, what, sizeof what);
          lex_error(lx, line, col,
                    "unknown escape '\\' followed by %s in a string; expected \\\", \\\\, \\n "
                    "or \\t", what);
        } else {
          lex_error(lx, line, col,
                    "a string cannot end in a lone '\\'; write \\\\ for a backslash");
        }
        continue;
      }
      if (buf_adds(&value, rep) != 0)
        lx->nomem = true;
      adv(lx);
      adv(lx);
      continue;
    }
    if (c < 0x20 && c != '\t') {
      lex_error(lx, lx->line, lx->col, "control character U+%04X in a string; write \\n or \\t",
                (unsigned)c);
      adv(lx);
      continue;
    }
    {
      size_t n;
      uint32_t cp = utf8_decode(lx->src + lx->pos, lx->len - lx->pos, &n);
      if (cp == 0xFFFD && n == 1) {
        lex_error(lx, lx->line, lx->col, "invalid UTF-8 byte 0x%02X in a string", (unsigned)c);
        adv(lx);
        continue;
      }
      if (buf_add(&value, lx->src + lx->pos, n) != 0)
        lx->nomem = true;
      while (n--)
        adv(lx);
    }
  }
  if (!closed)
    lex_error(lx, t->line, t->col, "unterminated string: expected '\"' before the end of the %s",
              lx->pos < lx->len ? "line" : "file");
  t->kind = TOK_STRING;
  t->s = mvs_arena_memdup(lx->arena, value.p ? value.p : "", value.len);
  t->slen = value.len;
  if (!t->s)
    lx->nomem = true;
  buf_free(&value);
}

void lex_next(lexer *lx, token *t)
{
  for (;;) {
    int c;

    while (lx->pos < lx->len && lx->src[lx->pos] && strchr(" \t\r\n", lx->src[lx->pos]))
      adv(lx);
    memset(t, 0, sizeof *t);
    t->p = lx->src + lx->pos;
    t->line = lx->line;
    t->col = lx->col;
    t->bol = lx->tok_line != lx->line;
    c = peek(lx, 0);
    if (c < 0) {
      t->kind = TOK_EOF;
      return;
    }
    if (c == '#') {
      bool reported = false;
      while (lx->pos < lx->len && lx->src[lx->pos] != '\n') {
        unsigned char b = (unsigned char)lx->src[lx->pos];
        /* Rule files are text: the formatter could not reproduce other control bytes. */
        if (b < 0x20 && b != '\t' && !(b == '\r' && (peek(lx, 1) == '\n' || peek(lx, 1) < 0)) &&
            !reported) {
          lex_error(lx, lx->line, lx->col, "control character U+%04X in a comment", (unsigned)b);
          reported = true;
        }
        adv(lx);
      }
      t->kind = TOK_COMMENT;
    } else if (c == '"') {
      lex_string(lx, t);
    } else if (is_word_start(c) || (c == '-' && peek(lx, 1) >= '0' && peek(lx, 1) <= '9')) {
      adv(lx);
      while (is_word_char(peek(lx, 0)) && !(peek(lx, 0) == '-' && peek(lx, 1) == '>'))
        adv(lx);
      t->kind = TOK_WORD;
    } else if (c == '-' && peek(lx, 1) == '>') {
      adv(lx);
      adv(lx);
      t->kind = TOK_ARROW;
    } else if (c == '*') {
      /* Connect's "any type" target (RULE_ANY_TYPE): a word only the target type accepts. */
      adv(lx);
      t->kind = TOK_WORD;
    } else if (c && strchr("{}(),", c)) {
      adv(lx);
      t->kind = c == '{' ? TOK_LBRACE : c == '}' ? TOK_RBRACE : c == '(' ? TOK_LPAREN
              : c == ')' ? TOK_RPAREN : TOK_COMMA;
    } else if (c == '=' || c == '<' || c == '>' || (c == '!' && peek(lx, 1) == '=')) {
      adv(lx);
      if (peek(lx, 0) == '=')
        adv(lx);
      t->kind = TOK_OP;
    } else {
      char what[16];
      size_t n;
      describe_char(lx, what, sizeof what);
      lex_error(lx, lx->line, lx->col, "unexpected character %s", what);
      utf8_decode(lx->src + lx->pos, lx->len - lx->pos, &n);
      while (n-- && lx->pos < lx->len)
        adv(lx);
      continue;
    }
    t->len = (size_t)(lx->src + lx->pos - t->p);
    if (t->kind == TOK_COMMENT)
      while (t->len && strchr(" \t\r", t->p[t->len - 1]))
        t->len--;
    lx->tok_line = t->line;
    return;
  }
}

/* At a line break inside a flow expression: does the next line start with `flow` or '}'? */
static bool next_line_ends_expr(const lexer *lx)
{
  size_t i = lx->pos + 1;
  while (i < lx->len && (lx->src[i] == ' ' || lx->src[i] == '\t'))
    i++;
  if (i < lx->len && lx->src[i] == '}')
    return true;
  return lx->len - i > 5 && memcmp(lx->src + i, "flow", 4) == 0 &&
         (lx->src[i + 4] == ' ' || lx->src[i + 4] == '\t');
}

void lex_expr(lexer *lx, expr_dialect d, token *t)
{
  int depth = 0;
  bool in_string = false, in_bracket = false, found = false;

  while (lx->pos < lx->len && (lx->src[lx->pos] == ' ' || lx->src[lx->pos] == '\t'))
    adv(lx);
  memset(t, 0, sizeof *t);
  t->kind = TOK_EXPR;
  t->p = lx->src + lx->pos;
  t->line = lx->line;
  t->col = lx->col;
  t->bol = lx->tok_line != lx->line;
  while (lx->pos < lx->len) {
    int c = peek(lx, 0);
    if (c == '\n') {
      /* Strings and [attribute] names end at a line break; expressions only continue
       * onto the next line inside parentheses, and never into a line that starts the next
       * flow or closes the rule (an unclosed parenthesis must not swallow the file). */
      in_string = in_bracket = false;
      if (depth == 0 || next_line_ends_expr(lx))
        break;
    } else if (c == 0) {
      /* The expression is handed on as a C string: expr_parse would never see this byte
       * or anything after it.  (It reports other control characters itself.) */
      lex_error(lx, lx->line, lx->col, "unexpected character U+0000 in an expression");
    } else if (in_string) {
      if (c == '\\' && d == EXPR_CLOUD && peek(lx, 1) >= 0 && peek(lx, 1) != '\n')
        adv(lx);
      else if (c == '"')
        in_string = false;
    } else if (in_bracket) {
      in_bracket = c != ']';
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[') {
      in_bracket = true;
    } else if (c == '(') {
      depth++;
    } else if (c == ')') {
      depth -= depth > 0;
    } else if (c == '-' && peek(lx, 1) == '>') {
      /* Neither expression language has a '->' operator: outside strings it is the flow's
       * arrow, even where parentheses are unbalanced (expr_parse then says which). */
      found = true;
      break;
    } else if ((c == '{' || c == '}') && depth == 0) {
      break;
    }
    adv(lx);
  }
  t->len = (size_t)(lx->src + lx->pos - t->p);
  while (t->len && strchr(" \t\r\n", t->p[t->len - 1]))
    t->len--;
  t->bad = !found;
  lx->tok_line = lx->line;
}

rule_pos rule_pos_in_text(rule_pos start, const char *text, size_t off)
{
  size_t i;
  for (i = 0; i < off && text[i]; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\n') {
      start.line++;
      start.col = 1;
    } else if ((c & 0xC0) != 0x80) {
      start.col++;
    }
  }
  return start;
}
