/* dsl_int — internals shared by the rule DSL's lexer, parser, checker, formatter and JSON
 * writer: arena vectors, diagnostics, name tables, suggestions, the lexer.
 * Memory: everything allocated here lives in the arena it was given (a rule set's or a
 * rule_diags'); nothing is freed piecemeal. */
#ifndef MVS_DSL_INT_H
#define MVS_DSL_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/ruleset.h"

/* ---- growable arrays in an arena: growth copies, the old block is left to the arena ---- */

typedef struct rule_vec {
  void *p;
  size_t n, cap;
} rule_vec;

/* A new zeroed slot of `size` bytes at the end of v, or NULL when the arena is full. */
void *rule_vec_push(mvs_arena *a, rule_vec *v, size_t size);

struct rule_set_impl {
  mvs_arena *arena;
  rule_vec files, connectors, metaverse, rules, collections;
  rule_vec exprs;           /* every compiled expr, freed by rule_set_free */
};

/* ---- diagnostics ---- */

int rule_diag_vadd(rule_diags *d, rule_pos pos, rule_severity sev, const char *fmt,
                   va_list ap) __attribute__((format(printf, 4, 0)));
int rule_diag_add(rule_diags *d, rule_pos pos, rule_severity sev, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* ---- name tables (index = enum value; NULL where an enum value has no spelling) ---- */

extern const char *const rule_direction_names[3];
extern const char *const rule_link_names[5];
extern const char *const scope_op_names[SCOPE_OP_COUNT];
extern const char *const rule_merge_names[3];
extern const char *const rule_syntax_names[6];
extern const char *const rule_connector_type_names[4];
extern const char *const rule_dialect_names[2];

/* Index of s[0..n) in names (case-insensitively with nocase), or -1. */
int rule_name_index(const char *const *names, size_t count, const char *s, size_t n,
                    bool nocase);
/* "a, b, c or d" (with conj "or") of the non-NULL names, into out. */
void rule_name_list(const char *const *names, size_t count, const char *conj, char *out,
                    size_t outlen);

/* ---- "did you mean": the closest candidate by edit distance (case-insensitive) ---- */

typedef struct rule_suggest {
  const char *word;
  size_t len;
  const char *best;
  size_t best_dist;
} rule_suggest;

void rule_suggest_init(rule_suggest *s, const char *word, size_t len);
void rule_suggest_add(rule_suggest *s, const char *candidate);
/* The best candidate when it is close enough to be a likely typo, else NULL. */
const char *rule_suggest_result(const rule_suggest *s);
/* "; did you mean 'best'?" with the given quote character, or "" (into out). */
const char *rule_suggest_hint(const rule_suggest *s, char quote, char *out, size_t outlen);

/* ---- attribute catalogs (catalog.c: schema/catalog/NAME.attrs, compiled in) ---- */

/* Whether connector type t ships a catalog (ad: Active Directory's schema; entra: Graph's
 * user and group properties; none for ldap and file). */
bool rule_catalog_exists(rule_connector_type t);
/* Whether t's catalog names attribute name[0..n) (exactly, as rule names are case-sensitive). */
bool rule_catalog_has(rule_connector_type t, const char *name, size_t n);
/* Offer every name of t's catalog to sg. */
void rule_catalog_suggest(rule_connector_type t, rule_suggest *sg);

/* ---- literals ---- */

/* Fill lit->is_num/num, is_bool/b, is_dt/dt from lit->text. */
void rule_literal_type(rule_literal *lit);

/* ---- lexer ---- */

typedef enum tok_kind {
  TOK_EOF = 0,
  TOK_WORD,     /* [A-Za-z0-9_] then [A-Za-z0-9_.:/-]*; a leading '-' before a digit; or "*" */
  TOK_STRING,   /* "..." with \" \\ \n \t escapes; s/slen hold the value */
  TOK_LBRACE, TOK_RBRACE, TOK_LPAREN, TOK_RPAREN, TOK_COMMA,
  TOK_ARROW,    /* -> */
  TOK_OP,       /* = == != < <= > >= */
  TOK_COMMENT,  /* # to end of line */
  TOK_EXPR      /* raw expression text of a flow, up to its top-level '->' */
} tok_kind;

typedef struct token {
  tok_kind kind;
  const char *p;      /* raw text in the source */
  size_t len;
  const char *s;      /* TOK_STRING: unescaped value (NUL-terminated, in the arena) */
  size_t slen;
  uint32_t line, col;
  bool bol;           /* first token on its line */
  bool bad;           /* TOK_EXPR: no '->' found before the end of the line */
} token;

typedef struct lexer {
  const char *src;
  size_t len, pos;
  uint32_t line, col;
  uint32_t tok_line;  /* line of the last token returned (0: none yet) */
  const char *file;
  mvs_arena *arena;
  rule_diags *diags;
  int errors;         /* lexical errors reported */
  bool nomem;
} lexer;

void lex_init(lexer *lx, const char *file, const char *src, size_t len, mvs_arena *a,
              rule_diags *d);
/* The next token (comments included).  Lexical errors are reported and skipped. */
void lex_next(lexer *lx, token *t);
/* Scan a flow expression from the current position to its '->' (outside strings, brackets
 * and parentheses), which stays unread.  Strings escape quotes as the dialect does. */
void lex_expr(lexer *lx, expr_dialect d, token *t);
/* The position of byte `off` of text that starts at `start`. */
rule_pos rule_pos_in_text(rule_pos start, const char *text, size_t off);

/* ---- output with a sticky error: once an append fails the rest are skipped (fmt, JSON) ---- */

typedef struct rule_printer {
  buf *b;
  int rc;
} rule_printer;

void rule_put(rule_printer *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- shared by the parser and the formatter ---- */

/* The keyword of a rule field ("precedence-before"). */
const char *rule_field_keyword(rule_field f);

#endif
