/* expr_int — private AST, tokens and shared entry points of the expression lexer, parser,
 * printer and evaluator.  Memory: nodes, names and literals live in the expr's arena. */
#ifndef MVS_EXPR_INT_H
#define MVS_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/expr.h"
#include "rules/expr_fn.h"
#include "schema/buf.h"

/* Parser nesting limit (calls and parentheses); it also bounds evaluator recursion, since
 * operator chains are flat lists evaluated in a loop. */
#define EXPR_MAX_DEPTH 200
#define EXPR_DEFAULT_STEPS UINT64_C(1000000)

typedef enum expr_op {
  OP_CONCAT, /* & */
  OP_ADD,    /* + */
  OP_SUB,    /* - */
  OP_MUL,    /* * */
  OP_EQ,     /* = */
  OP_NE,     /* <> */
  OP_LT,     /* < */
  OP_LE,     /* <= */
  OP_GT,     /* > */
  OP_GE,     /* >= */
  OP_AND,    /* && */
  OP_OR      /* || */
} expr_op;

const char *expr_op_text(expr_op op);
bool expr_op_is_cmp(expr_op op);
/* Binding tier: 0 for & + - * (tightest), 1 for comparisons, 2 for && || (loosest).  Within a
 * tier operators evaluate left to right (docs/internals/expr.md says why). */
#define EXPR_OP_TIERS 3
int expr_op_tier(expr_op op);

/* ---- tokens ---- */

typedef enum expr_tok_kind {
  TK_EOF,
  TK_LPAREN,
  TK_RPAREN,
  TK_COMMA,
  TK_STR,    /* s/n: decoded text (escapes applied) */
  TK_NUM,    /* mag, hex */
  TK_ATTR,   /* s/n: the name between [ ] */
  TK_PARAM,  /* s/n: the name between % % */
  TK_VAR,    /* s/n: the name after $ */
  TK_IDENT,  /* s/n */
  TK_OP      /* op */
} expr_tok_kind;

typedef struct expr_tok {
  expr_tok_kind kind;
  size_t off, end;   /* byte range in the source */
  const char *s;     /* NUL-terminated, in the arena or the source copy */
  size_t n;
  uint64_t mag;      /* TK_NUM magnitude */
  bool hex;          /* TK_NUM written as &H... */
  expr_op op;
} expr_tok;

typedef struct expr_lexer {
  const char *src;   /* NUL-terminated copy owned by the expr */
  size_t len, pos;
  expr_dialect d;
  char *pool;        /* string literal texts are copied here (see struct expr) */
  size_t pool_used;
  expr_error *err;
} expr_lexer;

/* Read the next token.  Returns EXPR_OK, EXPR_ERR_PARSE or EXPR_ERR_NOMEM (err set). */
int expr_lex_next(expr_lexer *lx, expr_tok *t);
/* "what was found" text for parse errors, e.g. "name 'foo'" or "end of expression". */
void expr_tok_describe(const expr_tok *t, const char *src, char *out, size_t outsz);
/* Record a parse error at offset; returns EXPR_ERR_PARSE. */
int expr_parse_error(expr_error *err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- AST ---- */

typedef enum expr_node_kind {
  EN_STR,      /* s */
  EN_NUM,      /* num */
  EN_BOOL,     /* b */
  EN_NULL,     /* NULL */
  EN_CRLF,     /* CRLF */
  EN_IGNORE,   /* IgnoreThisFlow */
  EN_AUTHNULL, /* AuthoritativeNull */
  EN_EMPTY,    /* an omitted cloud argument, as in Replace([x], , "a", , "b", , ) */
  EN_ATTR,     /* s: attribute name */
  EN_PARAM,    /* s: parameter name */
  EN_VAR,      /* s: variable name; slot */
  EN_CALL,     /* call */
  EN_CHAIN     /* chain: operands joined by operators of one tier, evaluated left to right */
} expr_node_kind;

/* Special forms of expr_fn_core, by index in that table. */
typedef enum expr_core {
  CORE_IIF = 0,
  CORE_SELECT,
  CORE_WHERE,
  CORE_WITH,
  CORE_IMPORTED,
  CORE_SWITCH,
  CORE_VALUECOUNT,
  CORE_NONE
} expr_core;

typedef struct expr_node expr_node;
struct expr_node {
  expr_node_kind kind;
  size_t off;   /* byte offset of the node's first character */
  union {
    struct { const char *p; size_t n; unsigned slot; } s;
    struct { int64_t v; uint64_t mag; bool neg, hex; } num;
    bool b;
    struct {
      const expr_fn_def *fn;
      expr_core core;
      expr_node **args;
      size_t n;
    } call;
    struct {
      expr_node **operands;   /* n operands */
      expr_op *ops;           /* n - 1 operators; ops[i] joins operands i and i+1 */
      size_t *op_off;         /* byte offset of each operator */
      size_t n;
    } chain;
  } u;
};

typedef struct expr_name {
  const char *p;
  size_t n;
} expr_name;

struct expr {
  expr_dialect d;
  mvs_arena *arena;
  /* Every string literal's text, in one block of size len + 1 (a literal's text plus NUL
   * is never longer than the literal in the source), so expr_eval can tell by address
   * which result strings it must copy into the caller's arena. */
  char *pool;
  size_t pool_size;
  expr_node *root;
  unsigned nslots;       /* variable slots evaluation needs (nesting of Select/Where/With) */
  expr_name *attrs;      /* distinct attribute names, first-use order */
  size_t nattrs;
};

/* ---- evaluation (expr_eval.c, expr_call.c) ---- */

typedef struct expr_ctx {
  const expr *e;
  const expr_env *env;
  mvs_arena *a;
  expr_error *err;
  uint64_t steps, max_steps;
  uint64_t rng;          /* splitmix64 state, seeded from env->seed */
  mvs_value *slots;      /* values of $variables, by slot */
  bool failed;           /* an error message has been recorded */
} expr_ctx;

struct expr_call {
  expr_ctx *x;
  const expr_fn_def *fn;
  size_t off;            /* where the call is written, for error offsets */
};

/* Record an error (the first one wins) and return code. */
int expr_ctx_error(expr_ctx *x, size_t off, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Charge n steps; EXPR_ERR_LIMIT past the budget. */
int expr_ctx_steps(expr_ctx *x, size_t off, uint64_t n);
/* The arena is full: EXPR_ERR_LIMIT "expression result too large". */
int expr_ctx_nomem(expr_ctx *x, size_t off);

#endif
