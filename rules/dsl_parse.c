/* dsl_parse — recursive-descent parser of the rule DSL (grammar: docs/rules.md).  One call
 * parses one file into the rule set; errors are reported and parsing resumes at the next
 * line or closing brace, so one run reports many errors.  See ruleset.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/dsl_int.h"

#define MAX_ERRORS_PER_FILE 100
#define MAX_FILE_BYTES ((size_t)16 << 20)

typedef struct parser {
  rule_set *rs;
  rule_set_impl *impl;
  mvs_arena *a;
  rule_diags *d;
  lexer lx;
  token tok;              /* the lookahead; never a comment */
  size_t file_index;
  const char *file;       /* the file name, owned by the rule set */
  rule_vec items;         /* rule_item: this file's top-level items */
  uint32_t stmt_line;     /* line where the statement being parsed starts */
  rule_pos prev_end;      /* just after the last token consumed */
  int errors;
  bool stop;              /* out of memory or too many errors: behave as at end of file */
  bool nomem;
  const char *end_name;   /* how the end of the input reads: "end of file" (NULL), or "end
                           * of the filter" */
  rule_vec pending;       /* const char *: full-line comments not yet given to a node */
  uint32_t pending_line;  /* line of the last pending comment */
  rule_comments *trail;   /* the node a comment at the end of the current line belongs to */
} parser;

/* Out of memory: the parser stops, as at the end of the file. */
static void out_of_memory(parser *p) { p->nomem = p->stop = true; }

/* ---- errors ---- */

static rule_pos tok_pos(const parser *p) { return (rule_pos){p->file, p->tok.line, p->tok.col}; }

static void error_at(parser *p, rule_pos pos, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void error_at(parser *p, rule_pos pos, const char *fmt, ...)
{
  va_list ap;
  if (p->stop)
    return;
  va_start(ap, fmt);
  if (rule_diag_vadd(p->d, pos, RULE_SEV_ERROR, fmt, ap) != 0)
    out_of_memory(p);
  va_end(ap);
  p->errors++;
}

/* How the lookahead reads in a message: 'word', "string", '{', end of file. */
static const char *describe(const parser *p, char *out, size_t outlen)
{
  const token *t = &p->tok;
  int n = (int)(t->len > 40 ? 40 : t->len);
  const char *more = t->len > 40 ? "..." : "";

  switch (t->kind) {
  case TOK_EOF:
    return p->end_name ? p->end_name : "end of file";
  case TOK_STRING:
    snprintf(out, outlen, "\"%.*s%s\"", (int)(t->slen > 40 ? 40 : t->slen), t->s,
             t->slen > 40 ? "..." : "");
    return out;
  default:
    snprintf(out, outlen, "'%.*s%s'", n, t->p, more);
    return out;
  }
}

/* The lookahead starts a line after the one the current statement started on. */
static bool on_next_line(const parser *p)
{
  return p->tok.kind != TOK_EOF && p->tok.bol && p->tok.line > p->stmt_line;
}

/* "expected WHAT, found X".  A token starting a later line than the statement means the
 * statement ended early: that is reported at the end of its line. */
static void expected(parser *p, const char *what)
{
  char found[64];
  if (on_next_line(p))
    error_at(p, p->prev_end, "expected %s, found end of line", what);
  else
    error_at(p, tok_pos(p), "expected %s, found %s", what, describe(p, found, sizeof found));
}

static void begin_statement(parser *p) { p->stmt_line = p->tok.line; }

/* The statement's line ended before a value it needs: report it and say so. */
static bool line_ended(parser *p, const char *what)
{
  if (p->tok.kind != TOK_EOF && !on_next_line(p))
    return false;
  expected(p, what);
  return true;
}

/* ---- memory ---- */

static const char *copy_text(parser *p, const char *s, size_t n)
{
  char *c = mvs_arena_memdup(p->a, s, n);
  if (!c)
    out_of_memory(p);
  return c;
}

/* A zeroed slot at the end of v.  Nodes are parsed straight into their slot (and dropped
 * again with v->n-- when broken), so a trailing comment is never written to a dead local. */
static void *push(parser *p, rule_vec *v, size_t size)
{
  void *slot = rule_vec_push(p->a, v, size);
  if (!slot)
    out_of_memory(p);
  return slot;
}

/* ---- comments ---- */

static void push_pending(parser *p, const char *line)
{
  const char **slot = push(p, &p->pending, sizeof *slot);
  if (slot)
    *slot = line;
}

static void take_comment(parser *p, const token *t)
{
  const char *text = copy_text(p, t->p, t->len);
  if (!text)
    return;
  if (!t->bol && p->trail) {
    if (p->trail->trail) {
      size_t n = strlen(p->trail->trail);
      char *both = mvs_arena_alloc(p->a, n + t->len + 2);
      if (!both) {
        out_of_memory(p);
        return;
      }
      snprintf(both, n + t->len + 2, "%s %s", p->trail->trail, text);
      text = both;
    }
    p->trail->trail = text;
    return;
  }
  if (p->pending.n && t->line > p->pending_line + 1)
    push_pending(p, "");
  push_pending(p, text);
  p->pending_line = t->line;
}

/* Give the pending comments to the node starting at the lookahead. */
static rule_comment_list take_pending(parser *p, bool blank_before_node)
{
  rule_comment_list l;
  if (blank_before_node && p->pending.n && p->tok.line > p->pending_line + 1)
    push_pending(p, "");
  l.lines = p->pending.p;
  l.n = p->pending.n;
  memset(&p->pending, 0, sizeof p->pending);
  return l;
}

static void begin_node(parser *p, rule_comments *c)
{
  c->lead = take_pending(p, true);
  c->trail = NULL;
  p->trail = c;
}

/* ---- tokens ---- */

static void advance(parser *p)
{
  token t;
  if (p->stop) {
    p->tok.kind = TOK_EOF;
    return;
  }
  p->prev_end = (rule_pos){p->file, p->lx.line, p->lx.col};
  for (;;) {
    lex_next(&p->lx, &t);
    if (t.kind != TOK_COMMENT)
      break;
    take_comment(p, &t);
  }
  p->tok = t;
  if (p->lx.nomem)
    out_of_memory(p);
  if (!p->stop && p->errors + p->lx.errors >= MAX_ERRORS_PER_FILE) {
    error_at(p, tok_pos(p), "too many errors in this file; stopping here");
    p->stop = true;
  }
  if (p->stop)
    p->tok.kind = TOK_EOF;
}

static bool is_token(const parser *p, tok_kind kind, const char *text)
{
  return p->tok.kind == kind && p->tok.len == strlen(text) &&
         memcmp(p->tok.p, text, p->tok.len) == 0;
}

static bool is_word(const parser *p, const char *w) { return is_token(p, TOK_WORD, w); }

static bool at_end_of_block(const parser *p)
{
  return p->tok.kind == TOK_RBRACE || p->tok.kind == TOK_EOF;
}

/* Skip the rest of a broken statement that began on `line`: up to the next token starting
 * another line, or a '}' closing the enclosing block.  Nested braces are skipped whole. */
static void skip_statement(parser *p, uint32_t line)
{
  int depth = 0;
  while (p->tok.kind != TOK_EOF) {
    if (depth == 0 && p->tok.bol && p->tok.line != line)
      return;
    if (p->tok.kind == TOK_RBRACE) {
      if (depth == 0)
        return;
      depth--;
    } else if (p->tok.kind == TOK_LBRACE) {
      depth++;
    }
    advance(p);
  }
}

static const char *const top_keywords[] = {"connector", "metaverse", "rule", "collection",
                                           "dialect"};

static bool at_top_keyword(const parser *p)
{
  size_t i;
  if (!p->tok.bol)
    return false;
  for (i = 0; i < sizeof top_keywords / sizeof top_keywords[0]; i++)
    if (is_word(p, top_keywords[i]))
      return true;
  return false;
}

/* A line starting with `rule` or `metaverse` inside a block means its '}' is missing. */
static bool block_cut_short(const parser *p)
{
  return p->tok.bol && (is_word(p, "rule") || is_word(p, "metaverse"));
}

static void close_block(parser *p, const char *what, rule_pos open, rule_comment_list *footer,
                        rule_comments *owner)
{
  char found[64];
  *footer = take_pending(p, false);
  if (p->tok.kind == TOK_RBRACE) {
    p->trail = owner;
    advance(p);
    return;
  }
  error_at(p, tok_pos(p), "expected '}' to close %s (opened at line %u), found %s", what,
           open.line, describe(p, found, sizeof found));
}

static bool open_block(parser *p, const char *what)
{
  char msg[320];
  if (p->tok.kind == TOK_LBRACE) {
    advance(p);
    return true;
  }
  snprintf(msg, sizeof msg, "'{' to open %s", what);
  expected(p, msg);
  return false;
}

/* ---- values ---- */

static bool is_identifier(const char *s, size_t n)
{
  size_t i;
  if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
    return false;
  for (i = 1; i < n; i++)
    if (s[i] == ':' || s[i] == '/')
      return false;
  return true;
}

/* An attribute or object type name. */
static const char *parse_identifier(parser *p, const char *what)
{
  const char *s;
  if (line_ended(p, what))
    return NULL;
  if (p->tok.kind != TOK_WORD || !is_identifier(p->tok.p, p->tok.len)) {
    expected(p, what);
    return NULL;
  }
  s = copy_text(p, p->tok.p, p->tok.len);
  advance(p);
  return s;
}

/* A name in quotes (a bare word is accepted too). */
static const char *parse_name(parser *p, const char *what)
{
  const char *s;
  rule_pos pos = tok_pos(p);
  if (line_ended(p, what))
    return NULL;
  if (p->tok.kind == TOK_STRING)
    s = copy_text(p, p->tok.s, p->tok.slen);
  else if (p->tok.kind == TOK_WORD)
    s = copy_text(p, p->tok.p, p->tok.len);
  else {
    expected(p, what);
    return NULL;
  }
  advance(p);
  if (s && !*s) {
    error_at(p, pos, "%s cannot be empty", what);
    return NULL;
  }
  return s;
}

/* A string in quotes; "" gives NULL when empty_is_null. */
static int parse_string(parser *p, const char **out, bool empty_is_null)
{
  if (line_ended(p, "a string in double quotes"))
    return -1;
  if (p->tok.kind != TOK_STRING) {
    expected(p, "a string in double quotes");
    return -1;
  }
  *out = empty_is_null && p->tok.slen == 0 ? NULL : copy_text(p, p->tok.s, p->tok.slen);
  advance(p);
  return 0;
}

/* The text of a word or string token (a GUID or date may be quoted or not). */
static bool token_text(const parser *p, const char **s, size_t *n)
{
  if (p->tok.kind == TOK_WORD) {
    *s = p->tok.p;
    *n = p->tok.len;
  } else if (p->tok.kind == TOK_STRING) {
    *s = p->tok.s;
    *n = p->tok.slen;
  } else {
    return false;
  }
  return true;
}

static bool is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A GUID 8-4-4-4-12, stored lowercase; the all-zero GUID (Connect's "none") gives NULL. */
static int parse_guid(parser *p, const char **out)
{
  const char *s;
  size_t n, i;
  char g[37];
  bool zero = true;

  if (line_ended(p, "a GUID like e4eae1c9-b9bc-4328-ade9-df871cdd3027"))
    return -1;
  if (!token_text(p, &s, &n)) {
    expected(p, "a GUID like e4eae1c9-b9bc-4328-ade9-df871cdd3027");
    return -1;
  }
  for (i = 0; n == 36 && i < n; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i]))
      break;
    g[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
    zero = zero && (dash || s[i] == '0');
  }
  if (i != 36) {
    char found[64];
    error_at(p, tok_pos(p),
             "invalid GUID %s: expected 32 hexadecimal digits grouped 8-4-4-4-12, like "
             "e4eae1c9-b9bc-4328-ade9-df871cdd3027", describe(p, found, sizeof found));
    advance(p);
    return -1;
  }
  g[36] = '\0';
  *out = zero ? NULL : copy_text(p, g, 36);
  advance(p);
  return 0;
}

/* Digits with an optional leading '-', into *out; false when not such a number or when it
 * does not fit in an int64. */
static bool read_integer(const char *s, size_t n, int64_t *out)
{
  size_t i = n && s[0] == '-';
  uint64_t v = 0, limit = i ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  if (n == i || n > 20)
    return false;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    if (v > (limit - (uint64_t)(s[i] - '0')) / 10)
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = s[0] == '-' ? (int64_t)(0 - v) : (int64_t)v; /* 0 - 2^63 wraps to INT64_MIN */
  return true;
}

static int parse_int_range(parser *p, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
  char msg[128];
  snprintf(msg, sizeof msg, "%s (a whole number from %lld to %lld)", what, (long long)lo,
           (long long)hi);
  if (line_ended(p, msg))
    return -1;
  if (p->tok.kind == TOK_WORD && read_integer(p->tok.p, p->tok.len, out) && *out >= lo &&
      *out <= hi) {
    advance(p);
    return 0;
  }
  expected(p, msg);
  if (p->tok.kind == TOK_WORD && !p->tok.bol)
    advance(p);
  return -1;
}

static bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static bool valid_date(int y, int m, int d)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1] + (m == 2 && leap_year(y));
}

/* The value of n decimal digits at s, or -1 when one is not a digit. */
static int digits(const char *s, size_t n)
{
  int v = 0;
  while (n--) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (*s++ - '0');
  }
  return v;
}

static int parse_date(parser *p, rule_date *out)
{
  const char *s;
  size_t n;

  if (line_ended(p, "a date YYYY-MM-DD"))
    return -1;
  if (token_text(p, &s, &n) && n == 10 && s[4] == '-' && s[7] == '-') {
    rule_date d = {digits(s, 4), digits(s + 5, 2), digits(s + 8, 2)};
    if (valid_date(d.year, d.month, d.day)) {
      *out = d;
      advance(p);
      return 0;
    }
  }
  expected(p, "a date YYYY-MM-DD");
  if (p->tok.kind == TOK_WORD && !p->tok.bol)
    advance(p);
  return -1;
}

/* A time span "[d.]hh:mm:ss" (as Connect prints softDeleteExpiryInterval) or seconds. */
static int parse_timespan(parser *p, int64_t *out)
{
  const char *s = p->tok.p;
  size_t n = p->tok.len;
  long long days = 0, h, m, sec;
  int used = 0;
  char tmp[40];

#define TIMESPAN "a time span like 00:00:00 or 30.00:00:00 (d.hh:mm:ss), or a number of seconds"
  if (line_ended(p, TIMESPAN))
    return -1;
  if (p->tok.kind == TOK_WORD && read_integer(s, n, out) && *out >= 0) {
    advance(p);
    return 0;
  }
  if (p->tok.kind == TOK_WORD && n < sizeof tmp && s[0] != '-') {
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if ((sscanf(tmp, "%lld.%lld:%lld:%lld%n", &days, &h, &m, &sec, &used) == 4 ||
         (days = 0, sscanf(tmp, "%lld:%lld:%lld%n", &h, &m, &sec, &used) == 3)) &&
        (size_t)used == n && days >= 0 && days <= 10675199 && h >= 0 && h < 24 && m >= 0 &&
        m < 60 && sec >= 0 && sec < 60) {
      *out = ((days * 24 + h) * 60 + m) * 60 + sec;
      advance(p);
      return 0;
    }
  }
  expected(p, TIMESPAN);
  if (p->tok.kind == TOK_WORD && !p->tok.bol)
    advance(p);
  return -1;
}

/* One of a fixed set of lowercase words (matched in any case): its index, or -1. */
static int parse_enum(parser *p, const char *what, const char *const *names, size_t count)
{
  char list[160];
  int i = on_next_line(p) || p->tok.kind != TOK_WORD
            ? -1 : rule_name_index(names, count, p->tok.p, p->tok.len, true);
  if (i >= 0) {
    advance(p);
    return i;
  }
  rule_name_list(names, count, "or", list, sizeof list);
  if (p->tok.kind == TOK_WORD && !p->tok.bol) {
    error_at(p, tok_pos(p), "unknown %s '%.*s'; expected %s%s", what, (int)p->tok.len,
             p->tok.p, count - (names[0] == NULL) > 2 ? "one of " : "", list);
    advance(p);
  } else {
    char msg[200];
    snprintf(msg, sizeof msg, "%s %s (%s)", strchr("aeiou", what[0]) ? "an" : "a", what, list);
    expected(p, msg);
  }
  return -1;
}

static bool is_secret_key(const char *key)
{
  static const char *const words[] = {"secret", "password", "token", "key"};
  size_t n = strlen(key), i, w;
  for (i = 0; i < sizeof words / sizeof words[0]; i++) {
    w = strlen(words[i]);
    if (n == w ? strcasecmp(key, words[i]) == 0
               : n > w && key[n - w - 1] == '-' && strcasecmp(key + n - w, words[i]) == 0)
      return true;
  }
  return false;
}

enum { LIT_PLAIN = 0, LIT_SECRETS = 1 };

/* A literal: "string", number, true/false, and with LIT_SECRETS env:NAME / file:PATH. */
static int parse_literal(parser *p, rule_literal *lit, int flags, const char *what)
{
  const char *s = p->tok.p;
  size_t n = p->tok.len;
  int64_t num;

  memset(lit, 0, sizeof *lit);
  if (line_ended(p, what))
    return -1;
  if (p->tok.kind == TOK_STRING) {
    lit->kind = RULE_VAL_STRING;
    lit->text = copy_text(p, p->tok.s, p->tok.slen);
    lit->len = p->tok.slen;
  } else if (p->tok.kind == TOK_WORD && read_integer(s, n, &num)) {
    char tmp[24];
    lit->kind = RULE_VAL_NUMBER;
    lit->len = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)num);
    lit->text = copy_text(p, tmp, lit->len);
  } else if (p->tok.kind == TOK_WORD && (n == 4 || n == 5) &&
             (strncasecmp(s, "true", n) == 0 || strncasecmp(s, "false", n) == 0)) {
    lit->kind = RULE_VAL_BOOL;
    lit->text = n == 4 ? "true" : "false";
    lit->len = n;
  } else if (p->tok.kind == TOK_WORD && (flags & LIT_SECRETS) && n > 4 &&
             strncmp(s, "env:", 4) == 0) {
    size_t i;
    for (i = 4; i < n; i++)
      if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
            (i > 4 && s[i] >= '0' && s[i] <= '9')))
        break;
    if (i < n) {
      error_at(p, tok_pos(p),
               "invalid environment variable name in '%.*s': expected env:NAME with NAME of "
               "letters, digits and '_', like env:MVSYNC_AD_PASSWORD", (int)n, s);
      advance(p);
      return -1;
    }
    lit->kind = RULE_VAL_ENV;
    lit->text = copy_text(p, s + 4, n - 4);
    lit->len = n - 4;
  } else if (p->tok.kind == TOK_WORD && (flags & LIT_SECRETS) && n > 5 &&
             strncmp(s, "file:", 5) == 0) {
    lit->kind = RULE_VAL_FILE;
    lit->text = copy_text(p, s + 5, n - 5);
    lit->len = n - 5;
  } else if (p->tok.kind == TOK_WORD) {
    error_at(p, tok_pos(p), "expected %s, found '%.*s'; put text in double quotes: \"%.*s\"",
             what, (int)n, s, (int)n, s);
    advance(p);
    return -1;
  } else {
    expected(p, what);
    return -1;
  }
  if (!lit->text)
    return -1;
  rule_literal_type(lit);
  advance(p);
  return 0;
}

/* ---- connectors and the metaverse ---- */

static int parse_attr_decl(parser *p, rule_vec *attrs, const char *owner)
{
  rule_attr_decl *decl, *prev;
  size_t i;
  int syntax;

  if (!(decl = push(p, attrs, sizeof *decl)))
    return -1;
  begin_node(p, &decl->comments);
  advance(p); /* attribute */
  decl->pos = tok_pos(p);
  if (!(decl->name = parse_identifier(p, "an attribute name")))
    goto fail;
  prev = attrs->p;
  for (i = 0; i + 1 < attrs->n; i++)
    if (strcmp(prev[i].name, decl->name) == 0) {
      error_at(p, decl->pos, "attribute '%s' is already declared in %s (line %u)", decl->name,
               owner, prev[i].pos.line);
      goto fail;
    }
  if ((syntax = parse_enum(p, "attribute syntax", rule_syntax_names, 6)) < 0)
    goto fail;
  decl->syntax = (rule_syntax)syntax;
  if (is_word(p, "multi")) {
    decl->multi = true;
    advance(p);
  }
  return 0;
fail:
  attrs->n--;
  return -1;
}

static int parse_setting(parser *p, rule_vec *settings, const rule_connector *conn)
{
  rule_setting *s, *prev;
  size_t i;

  if (!(s = push(p, settings, sizeof *s)))
    return -1;
  s->pos = tok_pos(p);
  begin_node(p, &s->comments);
  if (!(s->key = parse_identifier(p, "a connector setting (NAME VALUE) or 'attribute'")))
    goto fail;
  prev = settings->p;
  for (i = 0; i + 1 < settings->n; i++)
    if (strcmp(prev[i].key, s->key) == 0) {
      error_at(p, s->pos, "setting '%s' is already given for connector \"%s\" (line %u)",
               s->key, conn->name, prev[i].pos.line);
      goto fail;
    }
  if (parse_literal(p, &s->value, LIT_SECRETS,
                    "a setting value: a quoted string, a number, true/false, env:NAME or "
                    "file:PATH") != 0)
    goto fail;
  if (is_secret_key(s->key) && s->value.kind != RULE_VAL_ENV && s->value.kind != RULE_VAL_FILE) {
    error_at(p, s->pos,
             "setting '%s' of connector \"%s\" is a secret: give it as env:NAME or file:PATH, "
             "not a %s literal (rule files are kept in git)", s->key, conn->name,
             s->value.kind == RULE_VAL_STRING ? "quoted" : "plain");
    goto fail;
  }
  return 0;
fail:
  settings->n--;
  return -1;
}

/* Publish a finished top-level node: copy it into the set's array of its kind. */
static void *publish(parser *p, rule_vec *v, const void *node, size_t size, rule_item_kind kind)
{
  void *slot = push(p, v, size);
  rule_item *it = slot ? push(p, &p->items, sizeof *it) : NULL;
  if (!it)
    return NULL;
  memcpy(slot, node, size);
  *it = (rule_item){kind, v->n - 1};
  p->rs->connectors = p->impl->connectors.p;
  p->rs->n_connectors = p->impl->connectors.n;
  p->rs->metaverse = p->impl->metaverse.p;
  p->rs->n_metaverse = p->impl->metaverse.n;
  p->rs->rules = p->impl->rules.p;
  p->rs->n_rules = p->impl->rules.n;
  p->rs->collections = p->impl->collections.p;
  p->rs->n_collections = p->impl->collections.n;
  return slot;
}

static int parse_connector(parser *p)
{
  rule_connector c = {0};
  rule_vec settings = {0}, attrs = {0};
  char what[300];
  int type;

  c.pos = tok_pos(p);
  begin_node(p, &c.comments);
  advance(p); /* connector */
  if (!(c.name = parse_name(p, "a connector name in double quotes")))
    return -1;
  snprintf(what, sizeof what, "connector \"%s\"", c.name);
  if (!is_word(p, "type")) {
    expected(p, "'type' and the connector type (ad, ldap, entra or file) after the connector name");
    if (p->tok.kind != TOK_LBRACE)
      return -1;
  } else {
    advance(p);
    if ((type = parse_enum(p, "connector type", rule_connector_type_names, 4)) >= 0)
      c.type = (rule_connector_type)type;
  }
  if (!open_block(p, what))
    return -1;
  while (!at_end_of_block(p) && !block_cut_short(p)) {
    uint32_t line = p->tok.line;
    int rc;
    begin_statement(p);
    rc = is_word(p, "attribute") ? parse_attr_decl(p, &attrs, what)
                                 : parse_setting(p, &settings, &c);
    if (rc != 0)
      skip_statement(p, line);
  }
  c.settings = settings.p;
  c.n_settings = settings.n;
  c.attrs = attrs.p;
  c.n_attrs = attrs.n;
  close_block(p, what, c.pos, &c.footer, &c.comments);
  return publish(p, &p->impl->connectors, &c, sizeof c, RULE_ITEM_CONNECTOR) ? 0 : -1;
}

static int parse_mv_object(parser *p, rule_vec *objects)
{
  rule_mv_object *o;
  rule_vec attrs = {0};
  char what[200];

  if (!(o = push(p, objects, sizeof *o)))
    return -1;
  o->pos = tok_pos(p);
  begin_node(p, &o->comments);
  advance(p); /* object */
  if (!(o->name = parse_identifier(p, "a metaverse object type name such as person or group")))
    goto fail;
  snprintf(what, sizeof what, "metaverse object type '%s'", o->name);
  if (!open_block(p, what))
    goto fail;
  while (!at_end_of_block(p) && !block_cut_short(p)) {
    uint32_t line = p->tok.line;
    begin_statement(p);
    if (!is_word(p, "attribute")) {
      expected(p, "'attribute NAME SYNTAX [multi]' or '}'");
      skip_statement(p, line);
    } else if (parse_attr_decl(p, &attrs, what) != 0) {
      skip_statement(p, line);
    }
  }
  o->attrs = attrs.p;
  o->n_attrs = attrs.n;
  close_block(p, what, o->pos, &o->footer, &o->comments);
  return 0;
fail:
  objects->n--;
  return -1;
}

static int parse_metaverse(parser *p)
{
  rule_metaverse m = {0};
  rule_vec objects = {0};

  m.pos = tok_pos(p);
  begin_node(p, &m.comments);
  advance(p); /* metaverse */
  if (!open_block(p, "the metaverse block"))
    return -1;
  while (!at_end_of_block(p) && !block_cut_short(p)) {
    uint32_t line = p->tok.line;
    begin_statement(p);
    if (!is_word(p, "object")) {
      expected(p, "'object TYPE { ... }' or '}'");
      skip_statement(p, line);
    } else if (parse_mv_object(p, &objects) != 0) {
      skip_statement(p, line);
    }
  }
  m.objects = objects.p;
  m.n_objects = objects.n;
  close_block(p, "the metaverse block", m.pos, &m.footer, &m.comments);
  return publish(p, &p->impl->metaverse, &m, sizeof m, RULE_ITEM_METAVERSE) ? 0 : -1;
}

/* ---- scope and join groups ---- */

/* What differs between a scope block and a join block. */
typedef struct group_syntax {
  const char *keyword;   /* "scope" */
  const char *block;     /* "the scope block" */
  const char *item;      /* "scope clause" */
  size_t item_size, group_size;
  /* Parse one item into the zeroed slot; the comments are the item's. */
  int (*parse)(parser *p, void *slot, const rule_comments *c);
  /* Fill a group slot (scope_group or join_group) with its items. */
  void (*store)(void *group, rule_pos pos, void *items, size_t n);
} group_syntax;

static int end_group(parser *p, const group_syntax *gs, rule_vec *groups, rule_pos pos,
                     rule_vec *items)
{
  void *g = push(p, groups, gs->group_size);
  if (!g)
    return -1;
  gs->store(g, pos, items->p, items->n);
  memset(items, 0, sizeof *items);
  return 0;
}

/* '{' item ('and' item)* ('or' item ('and' item)*)* '}' into groups. */
static int parse_groups(parser *p, const group_syntax *gs, rule_field_info *fi, rule_vec *groups)
{
  rule_vec items = {0};  /* of the group being read */
  rule_pos pos;
  rule_comments c;
  char msg[120];
  bool attempted = false;  /* an item (maybe a broken one) was read in this group */
  bool any = false;        /* ... in any group */

  if (!open_block(p, gs->block))
    return -1;
  pos = tok_pos(p);
  while (!at_end_of_block(p) && !block_cut_short(p)) {
    uint32_t line = p->tok.line;
    void *slot;

    begin_statement(p);
    begin_node(p, &c);
    if (attempted && is_word(p, "and")) {
      advance(p);
    } else if (attempted && is_word(p, "or")) {
      if (items.n && end_group(p, gs, groups, pos, &items) != 0)
        return -1;
      attempted = false;
      advance(p);
      pos = tok_pos(p);
    } else if (attempted) {
      snprintf(msg, sizeof msg, "'and', 'or' or '}' after a %s", gs->item);
      expected(p, msg);
    } else if (is_word(p, "and") || is_word(p, "or")) {
      snprintf(msg, sizeof msg, "a %s", gs->item);
      expected(p, msg);
      advance(p);
      continue;
    }
    if (at_end_of_block(p)) {
      snprintf(msg, sizeof msg, "a %s", gs->item);
      expected(p, msg);
      break;
    }
    if (!(slot = push(p, &items, gs->item_size)))
      return -1;
    attempted = any = true;
    if (gs->parse(p, slot, &c) != 0) {
      items.n--; /* drop the broken item; its memory stays in the arena */
      skip_statement(p, line);
    }
  }
  if (items.n) {
    if (end_group(p, gs, groups, pos, &items) != 0)
      return -1;
  } else if (!any && p->tok.kind == TOK_RBRACE) {
    snprintf(msg, sizeof msg, "a %s (leave out an empty '%s' block)", gs->item, gs->keyword);
    expected(p, msg);
  }
  close_block(p, gs->block, fi->pos, &fi->footer, &fi->comments);
  return 0;
}

static const struct {
  const char *alias;
  scope_op op;
} op_aliases[] = {
  {"=", SCOPE_EQUAL}, {"==", SCOPE_EQUAL}, {"!=", SCOPE_NOTEQUAL}, {"<", SCOPE_LESSTHAN},
  {"<=", SCOPE_LESSTHAN_OR_EQUAL}, {">", SCOPE_GREATERTHAN}, {">=", SCOPE_GREATERTHAN_OR_EQUAL},
};

/* Connect's own name for ISNOTBITSET: its exports write ISBITNOTSET ("In from AD - User
 * AccountEnabled"), its documentation ISNOTBITSET. */
#define CONNECT_ISNOTBITSET "ISBITNOTSET"

/* Whether an operator name says NOT (NOTEQUAL, ISNOTNULL, ISBITNOTSET, ...), in any case. */
static bool has_not(const char *w, size_t n)
{
  size_t i;
  for (i = 0; i + 3 <= n; i++)
    if (strncasecmp(w + i, "NOT", 3) == 0)
      return true;
  return false;
}

static int parse_scope_op(parser *p, scope_op *op)
{
  size_t i;
  int k;

  for (i = 0; i < sizeof op_aliases / sizeof op_aliases[0]; i++)
    if (is_token(p, TOK_OP, op_aliases[i].alias)) {
      *op = op_aliases[i].op;
      advance(p);
      return 0;
    }
  if (is_word(p, "is")) {
    advance(p);
    *op = SCOPE_ISNULL;
    if (is_word(p, "not")) {
      *op = SCOPE_ISNOTNULL;
      advance(p);
    }
    if (!is_word(p, "null")) {
      expected(p, *op == SCOPE_ISNULL ? "'null' or 'not null' after 'is'"
                                      : "'null' after 'is not'");
      return -1;
    }
    advance(p);
    return 0;
  }
  if (p->tok.kind == TOK_WORD &&
      (k = rule_name_index(scope_op_names, SCOPE_OP_COUNT, p->tok.p, p->tok.len, true)) >= 0) {
    *op = (scope_op)k;
    advance(p);
    return 0;
  }
  if (p->tok.kind == TOK_WORD && p->tok.len == strlen(CONNECT_ISNOTBITSET) &&
      strncasecmp(p->tok.p, CONNECT_ISNOTBITSET, p->tok.len) == 0) {
    *op = SCOPE_ISNOTBITSET;
    advance(p);
    return 0;
  }
  if (p->tok.kind == TOK_WORD && !p->tok.bol) {
    rule_suggest s;
    const char *best;
    char list[400];
    bool negated = has_not(p->tok.p, p->tok.len);
    rule_suggest_init(&s, p->tok.p, p->tok.len);
    /* Never the opposite test: a word with NOT in it is offered only NOT operators. */
    for (i = 0; i < SCOPE_OP_COUNT; i++)
      if (has_not(scope_op_names[i], strlen(scope_op_names[i])) == negated)
        rule_suggest_add(&s, scope_op_names[i]);
    if (negated)
      rule_suggest_add(&s, CONNECT_ISNOTBITSET);
    rule_name_list(scope_op_names, SCOPE_OP_COUNT, "or", list, sizeof list);
    if ((best = rule_suggest_result(&s)))
      error_at(p, tok_pos(p), "unknown scope operator '%.*s'; did you mean '%s'?",
               (int)p->tok.len, p->tok.p, best);
    else
      error_at(p, tok_pos(p), "unknown scope operator '%.*s'; expected one of %s",
               (int)p->tok.len, p->tok.p, list);
    return -1;
  }
  expected(p, "a scope operator such as EQUAL or ISNOTNULL");
  return -1;
}

#define SCOPE_VALUE "a value (a quoted string, a number, true or false)"

static int parse_scope_clause(parser *p, void *slot, const rule_comments *c)
{
  scope_clause *cl = slot;
  rule_vec values = {0};
  rule_literal *lit;

  cl->pos = tok_pos(p);
  cl->comments = *c;
  p->trail = &cl->comments;
  if (!(cl->attr = parse_identifier(p, "an attribute name")))
    return -1;
  if (parse_scope_op(p, &cl->op) != 0)
    return -1;
  if (cl->op == SCOPE_ISNULL || cl->op == SCOPE_ISNOTNULL) {
    if (!p->tok.bol && (p->tok.kind == TOK_STRING || p->tok.kind == TOK_LPAREN ||
                        (p->tok.kind == TOK_WORD && !is_word(p, "and") && !is_word(p, "or")))) {
      char found[64];
      error_at(p, tok_pos(p), "%s takes no value, found %s", scope_op_name(cl->op),
               describe(p, found, sizeof found));
      return -1;
    }
    return 0;
  }
  if ((cl->op == SCOPE_ISIN || cl->op == SCOPE_ISNOTIN) && p->tok.kind == TOK_LPAREN) {
    for (;;) {
      advance(p); /* '(' or ',' */
      if (!(lit = push(p, &values, sizeof *lit)) ||
          parse_literal(p, lit, LIT_PLAIN, SCOPE_VALUE) != 0)
        return -1;
      if (p->tok.kind != TOK_COMMA)
        break;
    }
    if (p->tok.kind != TOK_RPAREN) {
      expected(p, "',' or ')' in the value list");
      return -1;
    }
    advance(p);
  } else {
    if (!(lit = push(p, &values, sizeof *lit)))
      return -1;
    if (parse_literal(p, lit, LIT_PLAIN,
                      cl->op == SCOPE_ISIN || cl->op == SCOPE_ISNOTIN
                        ? "a value or a list of values in parentheses" : SCOPE_VALUE) != 0)
      return -1;
    if ((cl->op == SCOPE_ISBITSET || cl->op == SCOPE_ISNOTBITSET) && !lit->is_num) {
      error_at(p, cl->pos, "%s takes an integer bit mask such as 2, found \"%s\"",
               scope_op_name(cl->op), lit->text);
      return -1;
    }
  }
  cl->values = values.p;
  cl->n_values = values.n;
  return 0;
}

static int parse_join_condition(parser *p, void *slot, const rule_comments *c)
{
  join_condition *jc = slot;

  jc->pos = tok_pos(p);
  jc->comments = *c;
  p->trail = &jc->comments;
  if (!(jc->cs_attr = parse_identifier(p, "a connector-space attribute name")))
    return -1;
  if (!is_token(p, TOK_OP, "=") && !is_token(p, TOK_OP, "==")) {
    expected(p, "'=' between the connector-space and the metaverse attribute");
    return -1;
  }
  advance(p);
  if (!(jc->mv_attr = parse_identifier(p, "a metaverse attribute name")))
    return -1;
  if (is_word(p, "case-sensitive")) {
    jc->case_sensitive = true;
    advance(p);
  }
  return 0;
}

static void store_scope_group(void *group, rule_pos pos, void *items, size_t n)
{
  *(scope_group *)group = (scope_group){pos, items, n};
}

static void store_join_group(void *group, rule_pos pos, void *items, size_t n)
{
  *(join_group *)group = (join_group){pos, items, n};
}

static const group_syntax scope_syntax = {
  "scope", "the scope block", "scope clause", sizeof(scope_clause), sizeof(scope_group),
  parse_scope_clause, store_scope_group};
static const group_syntax join_syntax = {
  "join", "the join block", "join condition", sizeof(join_condition), sizeof(join_group),
  parse_join_condition, store_join_group};

/* ---- rules ---- */

typedef struct rule_build {
  rule r;
  rule_vec flows;
  rule scratch;           /* takes the value of a duplicated field, to check and drop it */
} rule_build;

static expr_dialect dialect_for(const parser *p, const rule *r)
{
  const rule_file *f = &p->rs->files[p->file_index];
  if (r->fields[RULE_F_DIALECT].present)
    return r->dialect;
  return f->has_dialect ? f->dialect : EXPR_CONNECT;
}

static int field_id(parser *p, rule *r)
{
  rule_pos pos = tok_pos(p);
  if (parse_guid(p, &r->id) != 0)
    return -1;
  if (!r->id) {
    error_at(p, pos, "a rule id cannot be the all-zero GUID");
    return -1;
  }
  return 0;
}
static int field_description(parser *p, rule *r) { return parse_string(p, &r->description, false); }
static int field_direction(parser *p, rule *r)
{
  int v = parse_enum(p, "direction", rule_direction_names, 3);
  if (v < 0)
    return -1;
  r->direction = (rule_direction)v;
  return 0;
}
static int field_connector(parser *p, rule *r)
{
  return (r->connector = parse_name(p, "a connector name in double quotes")) ? 0 : -1;
}
static int field_source(parser *p, rule *r)
{
  r->source_type = parse_identifier(p, "the source object type (as in 'source user -> person')");
  if (!r->source_type)
    return -1;
  if (p->tok.kind != TOK_ARROW) {
    expected(p, "'->' and the target object type");
    return -1;
  }
  advance(p);
  if (p->tok.kind == TOK_WORD && p->tok.len == 1 && p->tok.p[0] == RULE_ANY_TYPE[0]) {
    r->target_type = RULE_ANY_TYPE;
    advance(p);
    return 0;
  }
  return (r->target_type = parse_identifier(p, "the target object type")) ? 0 : -1;
}
static int field_link(parser *p, rule *r)
{
  int v = parse_enum(p, "link type", rule_link_names, 5);
  if (v < 0)
    return -1;
  r->link = (rule_link)v;
  return 0;
}
static int field_precedence(parser *p, rule *r)
{
  int64_t v;
  if (parse_int_range(p, "a precedence", 0, INT32_MAX, &v) != 0)
    return -1;
  r->precedence = (int32_t)v;
  return 0;
}
static int field_precedence_before(parser *p, rule *r)
{
  return parse_guid(p, &r->precedence_before);
}
static int field_precedence_after(parser *p, rule *r)
{
  return parse_guid(p, &r->precedence_after);
}
static int field_flag(parser *p, bool *flag)
{
  *flag = true;
  if (!p->tok.bol && p->tok.kind == TOK_WORD &&
      rule_name_index((const char *const[]){"true", "false"}, 2, p->tok.p, p->tok.len, true) >= 0) {
    error_at(p, tok_pos(p), "this field takes no value: write it alone to set it, or leave it out");
    advance(p);
    return -1;
  }
  return 0;
}
static int field_disabled(parser *p, rule *r) { return field_flag(p, &r->disabled); }
static int field_immutable_tag(parser *p, rule *r)
{
  return parse_string(p, &r->immutable_tag, true);
}
static int field_soft_delete(parser *p, rule *r)
{
  return parse_timespan(p, &r->soft_delete_seconds);
}
static int field_password_sync(parser *p, rule *r)
{
  return field_flag(p, &r->enable_password_sync);
}
static int field_dialect(parser *p, rule *r)
{
  int v = parse_enum(p, "dialect", rule_dialect_names, 2);
  if (v < 0)
    return -1;
  r->dialect = (expr_dialect)v;
  return 0;
}
static int field_owner(parser *p, rule *r) { return parse_string(p, &r->owner, false); }
static int field_purpose(parser *p, rule *r) { return parse_string(p, &r->purpose, false); }
static int field_review_by(parser *p, rule *r) { return parse_date(p, &r->review_by); }
/* `allow ATTR...`: one or more attribute names on the field's line. */
static int field_allow(parser *p, rule *r)
{
  rule_vec names = {0};
  do {
    const char **slot = push(p, &names, sizeof *slot);
    if (!slot || !(*slot = parse_identifier(p, "an attribute name (as in 'allow userAccountControl')")))
      return -1;
  } while (!p->tok.bol && p->tok.kind == TOK_WORD);
  r->allow = names.p;
  r->n_allow = names.n;
  return 0;
}

static int field_scope(parser *p, rule *r)
{
  rule_vec groups = {0};
  int rc = parse_groups(p, &scope_syntax, &r->fields[RULE_F_SCOPE], &groups);
  r->scope = groups.p;
  r->n_scope = groups.n;
  return rc;
}

static int field_join(parser *p, rule *r)
{
  rule_vec groups = {0};
  int rc = parse_groups(p, &join_syntax, &r->fields[RULE_F_JOIN], &groups);
  r->join = groups.p;
  r->n_join = groups.n;
  return rc;
}

/* The keywords of a rule's fields (index = rule_field). */
static const struct {
  const char *keyword;
  int (*parse)(parser *p, rule *r);
} rule_fields[RULE_F_COUNT] = {
  [RULE_F_ID] = {"id", field_id},
  [RULE_F_DESCRIPTION] = {"description", field_description},
  [RULE_F_DIRECTION] = {"direction", field_direction},
  [RULE_F_CONNECTOR] = {"connector", field_connector},
  [RULE_F_SOURCE] = {"source", field_source},
  [RULE_F_LINK] = {"link", field_link},
  [RULE_F_PRECEDENCE] = {"precedence", field_precedence},
  [RULE_F_PRECEDENCE_BEFORE] = {"precedence-before", field_precedence_before},
  [RULE_F_PRECEDENCE_AFTER] = {"precedence-after", field_precedence_after},
  [RULE_F_DISABLED] = {"disabled", field_disabled},
  [RULE_F_IMMUTABLE_TAG] = {"immutable-tag", field_immutable_tag},
  [RULE_F_SOFT_DELETE] = {"soft-delete", field_soft_delete},
  [RULE_F_ENABLE_PASSWORD_SYNC] = {"enable-password-sync", field_password_sync},
  [RULE_F_DIALECT] = {"dialect", field_dialect},
  [RULE_F_OWNER] = {"owner", field_owner},
  [RULE_F_PURPOSE] = {"purpose", field_purpose},
  [RULE_F_REVIEW_BY] = {"review-by", field_review_by},
  [RULE_F_ALLOW] = {"allow", field_allow},
  [RULE_F_SCOPE] = {"scope", field_scope},
  [RULE_F_JOIN] = {"join", field_join},
};

const char *rule_field_keyword(rule_field f) { return rule_fields[f].keyword; }

/* The first word after the lookahead, when it is on the same line. */
static bool next_word_is(const parser *p, const char *w)
{
  const char *s = p->lx.src + p->lx.pos, *end = p->lx.src + p->lx.len;
  size_t n = strlen(w);
  while (s < end && (*s == ' ' || *s == '\t'))
    s++;
  return (size_t)(end - s) > n && memcmp(s, w, n) == 0 && (s[n] == ' ' || s[n] == '\t');
}

static int parse_flow(parser *p, rule_build *b)
{
  rule_flow *f;
  int merge;

  if (!(f = push(p, &b->flows, sizeof *f)))
    return -1;
  f->pos = tok_pos(p);
  begin_node(p, &f->comments);
  if (next_word_is(p, "constant")) {
    advance(p);
    advance(p);
    f->type = RULE_FLOW_CONSTANT;
    if (parse_literal(p, &f->constant, LIT_PLAIN,
                      "a constant value (a quoted string, a number, true or false)") != 0)
      goto fail;
  } else if (next_word_is(p, "direct")) {
    advance(p);
    advance(p);
    f->type = RULE_FLOW_DIRECT;
    if (!(f->source = parse_identifier(p, "the source attribute of the direct flow")))
      goto fail;
  } else {
    lex_expr(&p->lx, dialect_for(p, &b->r), &p->tok);
    f->type = RULE_FLOW_EXPRESSION;
    f->expr_pos = tok_pos(p);
    if (p->tok.len == 0) {
      error_at(p, tok_pos(p), "expected a flow source ([attribute], constant VALUE or an "
               "expression), found %s", p->tok.bad ? "end of line" : "'->'");
      advance(p);
      goto fail;
    }
    if (p->tok.bad) {
      const lexer *lx = &p->lx;
      error_at(p, (rule_pos){p->file, lx->line, lx->col},
               "expected '->' and the target attribute after the flow expression, found %s",
               lx->pos == lx->len ? "end of file" : lx->src[lx->pos] == '{' ? "'{'"
               : lx->src[lx->pos] == '}' ? "'}'" : "end of line");
      advance(p);
      goto fail;
    }
    if (!(f->expr_text = copy_text(p, p->tok.p, p->tok.len)))
      goto fail;
    advance(p);
  }
  if (p->tok.kind != TOK_ARROW) {
    expected(p, "'->' and the target attribute");
    goto fail;
  }
  advance(p);
  f->target_pos = tok_pos(p);
  if (!(f->target = parse_identifier(p, "the target attribute of the flow")))
    goto fail;
  for (;;) {
    if (is_word(p, "merge")) {
      advance(p);
      if ((merge = parse_enum(p, "merge type", rule_merge_names, 3)) < 0)
        goto fail;
      f->merge = (rule_merge)merge;
    } else if (is_word(p, "apply-once")) {
      f->apply_once = true;
      advance(p);
    } else {
      return 0;
    }
  }
fail:
  b->flows.n--;
  return -1;
}

/* Compile a flow's expression, mapping expression errors to file positions.  A bare
 * [attribute] is a direct flow. */
static void compile_flow(parser *p, rule_flow *f, expr_dialect d)
{
  expr *e = NULL;
  expr_error err;
  const char *name;
  size_t n;
  char *text;
  expr **slot;
  int rc = expr_parse(f->expr_text, strlen(f->expr_text), d, &e, &err);

  if (rc == EXPR_ERR_NOMEM) {
    out_of_memory(p);
    return;
  }
  if (rc != EXPR_OK) {
    error_at(p, rule_pos_in_text(f->expr_pos, f->expr_text, err.offset), "%s", err.msg);
    return;
  }
  if (expr_is_attr(e, &name, &n)) {
    f->type = RULE_FLOW_DIRECT;
    f->source = copy_text(p, name, n);
    f->expr_text = NULL;
    expr_free(e);
    return;
  }
  if (!(slot = push(p, &p->impl->exprs, sizeof *slot))) {
    expr_free(e);
    return;
  }
  *slot = e;
  f->expr = e;
  if (!(text = expr_to_string(e))) {
    out_of_memory(p);
    return;
  }
  f->expr_text = copy_text(p, text, strlen(text));
  free(text);
}

/* The field f at the lookahead (its keyword) of a rule or collection ("kind"), its value
 * read by parse. */
static int parse_field(parser *p, rule_build *b, rule_field f, int (*parse)(parser *, rule *),
                       const char *kind)
{
  rule *r = &b->r;
  rule_field_info *fi = &r->fields[f];

  if (fi->present) {
    /* Report, then parse the value into a scratch rule so the line is checked too. */
    error_at(p, tok_pos(p), "duplicate '%s' in %s \"%s\" (first given at line %u)",
             rule_fields[f].keyword, kind, r->name, fi->pos.line);
    memset(&b->scratch, 0, sizeof b->scratch);
    r = &b->scratch;
    fi = &r->fields[f];
  }
  fi->present = true;
  fi->pos = tok_pos(p);
  begin_node(p, &fi->comments);
  advance(p);
  fi->valid = parse(p, r) == 0;
  return fi->valid ? 0 : -1;
}

static int parse_rule_item(parser *p, rule_build *b)
{
  rule_suggest s;
  const char *best;
  int f;

  if (is_word(p, "flow"))
    return parse_flow(p, b);
  for (f = 0; f < RULE_F_COUNT; f++)
    if (is_word(p, rule_fields[f].keyword))
      break;
  if (f == RULE_F_COUNT) {
    char found[64];
    if (p->tok.kind == TOK_WORD) {
      rule_suggest_init(&s, p->tok.p, p->tok.len);
      for (f = 0; f < RULE_F_COUNT; f++)
        rule_suggest_add(&s, rule_fields[f].keyword);
      rule_suggest_add(&s, "flow");
      if ((best = rule_suggest_result(&s))) {
        error_at(p, tok_pos(p), "unknown rule field '%.*s'; did you mean '%s'?", (int)p->tok.len,
                 p->tok.p, best);
        return -1;
      }
    }
    error_at(p, tok_pos(p), "expected a rule field (id, direction, connector, source, link, "
             "precedence, scope, join, flow, ...) or '}', found %s",
             describe(p, found, sizeof found));
    return -1;
  }
  return parse_field(p, b, (rule_field)f, rule_fields[f].parse, "rule");
}

static int parse_rule(parser *p)
{
  rule_build b = {0};
  rule *r = &b.r, *done;
  size_t i;
  expr_dialect d;

  r->pos = tok_pos(p);
  begin_node(p, &r->comments);
  advance(p); /* rule */
  if (!(r->name = parse_name(p, "a rule name in double quotes")))
    return -1;
  if (!open_block(p, "the rule"))
    return -1;
  while (!at_end_of_block(p) && !block_cut_short(p)) {
    uint32_t line = p->tok.line;
    begin_statement(p);
    if (parse_rule_item(p, &b) != 0)
      skip_statement(p, line);
  }
  r->flows = b.flows.p;
  r->n_flows = b.flows.n;
  close_block(p, "the rule", r->pos, &r->footer, &r->comments);
  /* The dialect is known only now (its field may follow the flows). */
  d = r->dialect = dialect_for(p, r);
  for (i = 0; i < r->n_flows && !p->stop; i++)
    if (r->flows[i].type == RULE_FLOW_EXPRESSION)
      compile_flow(p, &r->flows[i], d);
  done = publish(p, &p->impl->rules, r, sizeof *r, RULE_ITEM_RULE);
  p->trail = NULL;
  return done ? 0 : -1;
}

/* ---- collections ---- */

/* The fields a collection takes; `source` names one metaverse object type. */
static const rule_field collection_fields[] = {RULE_F_DESCRIPTION, RULE_F_SOURCE, RULE_F_OWNER,
                                               RULE_F_PURPOSE, RULE_F_REVIEW_BY, RULE_F_SCOPE};
#define N_COLLECTION_FIELDS (sizeof collection_fields / sizeof collection_fields[0])

static int field_collection_source(parser *p, rule *r)
{
  r->source_type = parse_identifier(p, "the metaverse object type of the members (as in "
                                       "'source person')");
  if (!r->source_type)
    return -1;
  if (p->tok.kind == TOK_ARROW) {
    error_at(p, tok_pos(p), "a collection's source is one metaverse object type, as in "
             "'source person'; its members are that type's objects");
    return -1;
  }
  return 0;
}

static int parse_collection_item(parser *p, rule_build *b)
{
  char found[64], list[200];
  const char *names[N_COLLECTION_FIELDS];
  rule_suggest s;
  const char *best;
  size_t i;

  for (i = 0; i < N_COLLECTION_FIELDS; i++) {
    rule_field f = collection_fields[i];
    names[i] = rule_fields[f].keyword;
    if (is_word(p, names[i]))
      return parse_field(p, b, f,
                         f == RULE_F_SOURCE ? field_collection_source : rule_fields[f].parse,
                         "collection");
  }
  rule_name_list(names, N_COLLECTION_FIELDS, "or", list, sizeof list);
  if (p->tok.kind == TOK_WORD) {
    rule_suggest_init(&s, p->tok.p, p->tok.len);
    for (i = 0; i < N_COLLECTION_FIELDS; i++)
      rule_suggest_add(&s, names[i]);
    if ((best = rule_suggest_result(&s))) {
      error_at(p, tok_pos(p), "unknown collection field '%.*s'; did you mean '%s'?",
               (int)p->tok.len, p->tok.p, best);
      return -1;
    }
  }
  error_at(p, tok_pos(p), "expected a collection field (%s) or '}', found %s", list,
           describe(p, found, sizeof found));
  return -1;
}

static int parse_collection(parser *p)
{
  rule_build b = {0};
  rule *r = &b.r;
  void *done;

  r->pos = tok_pos(p);
  begin_node(p, &r->comments);
  advance(p); /* collection */
  if (!(r->name = parse_name(p, "a collection name in double quotes")))
    return -1;
  if (!open_block(p, "the collection"))
    return -1;
  while (!at_end_of_block(p) && !block_cut_short(p)) {
    uint32_t line = p->tok.line;
    begin_statement(p);
    if (parse_collection_item(p, &b) != 0)
      skip_statement(p, line);
  }
  close_block(p, "the collection", r->pos, &r->footer, &r->comments);
  done = publish(p, &p->impl->collections, r, sizeof *r, RULE_ITEM_COLLECTION);
  p->trail = NULL;
  return done ? 0 : -1;
}

static int parse_file_dialect(parser *p, rule_file *f)
{
  rule_comments c;
  rule_pos pos = tok_pos(p);
  rule_item *items = p->items.p;
  size_t i;
  int v;

  begin_node(p, &c);
  for (i = 0; i < p->items.n; i++)
    if (items[i].kind == RULE_ITEM_RULE) {
      error_at(p, pos, "a file's 'dialect' line must come before its first rule");
      return -1;
    }
  if (f->has_dialect) {
    error_at(p, pos, "duplicate 'dialect' line (first given at line %u)", f->dialect_pos.line);
    return -1;
  }
  advance(p);
  if ((v = parse_enum(p, "dialect", rule_dialect_names, 2)) < 0)
    return -1;
  f->has_dialect = true;
  f->dialect = (expr_dialect)v;
  f->dialect_pos = pos;
  f->dialect_comments = c;
  p->trail = &f->dialect_comments;
  return 0;
}

/* Skip to the next line that starts with a top-level keyword, outside braces. */
static void skip_top(parser *p, uint32_t line)
{
  int depth = 0;
  while (p->tok.kind != TOK_EOF) {
    if (depth == 0 && p->tok.line != line && at_top_keyword(p))
      return;
    if (p->tok.kind == TOK_LBRACE)
      depth++;
    else if (p->tok.kind == TOK_RBRACE && depth > 0)
      depth--;
    advance(p);
  }
}

static void parse_file(parser *p)
{
  advance(p);
  while (p->tok.kind != TOK_EOF) {
    uint32_t line = p->tok.line;
    int rc;
    begin_statement(p);
    if (is_word(p, "connector"))
      rc = parse_connector(p);
    else if (is_word(p, "rule"))
      rc = parse_rule(p);
    else if (is_word(p, "metaverse"))
      rc = parse_metaverse(p);
    else if (is_word(p, "collection"))
      rc = parse_collection(p);
    else if (is_word(p, "dialect"))
      rc = parse_file_dialect(p, &p->rs->files[p->file_index]);
    else {
      rule_suggest s;
      char found[64], hint[64] = "";
      size_t i;
      if (p->tok.kind == TOK_WORD) {
        rule_suggest_init(&s, p->tok.p, p->tok.len);
        for (i = 0; i < sizeof top_keywords / sizeof top_keywords[0]; i++)
          rule_suggest_add(&s, top_keywords[i]);
        rule_suggest_hint(&s, '\'', hint, sizeof hint);
      }
      error_at(p, tok_pos(p), "expected 'connector', 'metaverse', 'rule', 'collection' or "
               "'dialect', found %s%s",
               describe(p, found, sizeof found), hint);
      rc = -1;
    }
    p->trail = NULL;
    if (rc != 0)
      skip_top(p, line);
  }
}

int rule_set_parse(rule_set *rs, const char *file, const char *src, size_t len, rule_diags *d)
{
  parser p = {0};
  rule_file *f;
  size_t errors_before = d->n_errors;

  p.rs = rs;
  p.impl = rs->impl;
  p.a = rs->impl->arena;
  p.d = d;
  if (!(p.file = mvs_arena_memdup(p.a, file, strlen(file))) ||
      !(f = rule_vec_push(p.a, &p.impl->files, sizeof *f)))
    return RULE_NOMEM;
  rs->files = p.impl->files.p;
  rs->n_files = p.impl->files.n;
  p.file_index = rs->n_files - 1;
  f->name = p.file;
  if (len > MAX_FILE_BYTES) {
    error_at(&p, (rule_pos){p.file, 1, 1}, "file is larger than %zu MiB", MAX_FILE_BYTES >> 20);
    return p.nomem ? RULE_NOMEM : RULE_INVALID;
  }
  lex_init(&p.lx, p.file, src, len, p.a, d);
  parse_file(&p);
  f = &rs->files[p.file_index];
  f->footer = take_pending(&p, false);
  f->items = p.items.p;
  f->n_items = p.items.n;
  if (p.nomem)
    return RULE_NOMEM;
  return d->n_errors > errors_before ? RULE_INVALID : RULE_OK;
}

/* ---- search filters ---- */

const char *const filter_state_names[FILTER_STATE_COUNT] = {
  NULL, "joined", "disconnector", "pending-import", "pending-export", "error"};

static bool is_conjunction(const token *t)
{
  return t->kind == TOK_WORD && ((t->len == 3 && memcmp(t->p, "and", 3) == 0) ||
                                 (t->len == 2 && memcmp(t->p, "or", 2) == 0));
}

/* The state a word names when it stands alone (the filter ends or 'and'/'or' follows it);
 * 0 when it is an attribute name (a clause such as `error ISNOTNULL`). */
static filter_state state_at(parser *p)
{
  lexer saved = p->lx;
  rule_diags quiet;
  token next;
  int k;

  if (p->tok.kind != TOK_WORD ||
      (k = rule_name_index(filter_state_names, FILTER_STATE_COUNT, p->tok.p, p->tok.len,
                           false)) <= 0)
    return FILTER_CLAUSE;
  /* Look one token ahead on a copy of the lexer; its diagnostics are the real read's. */
  rule_diags_init(&quiet);
  p->lx.diags = &quiet;
  lex_next(&p->lx, &next);
  p->lx = saved;
  rule_diags_free(&quiet);
  return next.kind == TOK_EOF || is_conjunction(&next) ? (filter_state)k : FILTER_CLAUSE;
}

int search_filter_parse(rule_set *rs, const char *text, size_t len, rule_diags *d,
                        search_filter *out)
{
  parser p = {0};
  rule_vec groups = {0}, terms = {0};
  rule_comments none = {0};
  filter_term *t;
  size_t errors_before = d->n_errors;

  memset(out, 0, sizeof *out);
  p.rs = rs;
  p.impl = rs->impl;
  p.a = rs->impl->arena;
  p.d = d;
  p.end_name = "end of the filter";
  if (!(p.file = mvs_arena_memdup(p.a, "filter", 6)))
    return RULE_NOMEM;
  lex_init(&p.lx, p.file, text, len, p.a, d);
  advance(&p);
  begin_statement(&p);
  while (p.tok.kind != TOK_EOF) {
    if (!(t = push(&p, &terms, sizeof *t)))
      break;
    t->pos = tok_pos(&p);
    if ((t->state = state_at(&p)) != FILTER_CLAUSE)
      advance(&p);
    else if (parse_scope_clause(&p, &t->clause, &none) != 0)
      break;
    if (p.tok.kind != TOK_EOF && !is_conjunction(&p.tok)) {
      expected(&p, "'and', 'or' or the end of the filter");
      break;
    }
    if (p.tok.kind == TOK_EOF || is_word(&p, "or")) {
      filter_group *g = push(&p, &groups, sizeof *g);
      if (!g)
        break;
      *g = (filter_group){((filter_term *)terms.p)[0].pos, terms.p, terms.n};
      memset(&terms, 0, sizeof terms);
    }
    if (p.tok.kind == TOK_EOF)
      break;
    advance(&p);
    if (p.tok.kind == TOK_EOF)
      expected(&p, "a filter term after 'and' or 'or'");
  }
  out->groups = groups.p;
  out->n_groups = groups.n;
  if (p.nomem)
    return RULE_NOMEM;
  return d->n_errors > errors_before ? RULE_INVALID : RULE_OK;
}
