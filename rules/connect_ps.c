/* connect_ps — the PowerShell form of Connect Sync rules, as the Synchronization Rules
 * Editor's Export button and Microsoft's documentation write them, read into the
 * connect_import model (see connect_import.h):
 *
 *   New-ADSyncRule -Name '…' -Identifier '…' -Direction 'Inbound' … -OutVariable syncRule
 *   Add-ADSyncAttributeFlowMapping -SynchronizationRule $syncRule[0] -Source @('a')
 *       -Destination 'b' -FlowType 'Direct|Constant|Expression' -ValueMergeType 'Update'
 *       [-Expression '…']
 *   New-Object -TypeName '…ScopeCondition' -ArgumentList 'attr','value','OP'
 *       -OutVariable condition0
 *   New-Object -TypeName '…JoinCondition' -ArgumentList 'csAttr','mvAttr',$false …
 *   Add-ADSyncScopeConditionGroup … -ScopeConditions @($condition0[0],$condition1[0])
 *   Add-ADSyncJoinConditionGroup … -JoinConditions @($condition0[0])
 *   Add-ADSyncRule -SynchronizationRule $syncRule[0]
 *
 * The language read is the subset those scripts use: commands with -Parameter values,
 * backtick line continuations, '…' and "…" strings, numbers, $true/$false/$null,
 * @(…) arrays, comma lists, variables ($x, $x[0], $x.Identifier), `$x = value` and
 * `$x = Get-ADSyncConnector -Name "…"` assignments, # and <# #> comments.  Anything else is a
 * note, never a guess.  Memory: everything in the export's arena. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/connect_import.h"
#include "schema/array.h"

typedef enum tok_kind {
  T_END, T_NEWLINE, T_STRING, T_WORD, T_PARAM, T_VAR, T_ARRAY_OPEN, T_OPEN, T_CLOSE, T_COMMA,
  T_ASSIGN, T_TYPE, T_BAD
} tok_kind;

typedef struct token {
  tok_kind kind;
  const char *text;   /* STRING: the value; WORD, PARAM (without '-'), VAR (without '$', up to
                       * any [index] or .Property), TYPE: the name; BAD: why */
  const char *prop;   /* VAR: the .Property, or NULL */
  uint32_t line;
} token;

/* A value: a string, a list, or an object a command made. */
/* PV_RULE: the rule New-ADSyncRule made (-OutVariable syncRule), passed on as $syncRule[0]. */
typedef enum pv_kind {
  PV_NONE, PV_STR, PV_LIST, PV_SCOPE, PV_JOIN, PV_CONNECTOR, PV_RULE
} pv_kind;

typedef struct pvalue {
  pv_kind kind;
  const char *s;              /* STR; CONNECTOR: its name */
  struct pvalue *items;       /* LIST; SCOPE: attr, value, op; JOIN: cs, mv, case-sensitive */
  size_t n;
  uint32_t line;
} pvalue;

typedef struct variable {
  const char *name;
  pvalue value;
} variable;

typedef struct reader {
  connect_export *x;
  const char *file;
  const char *s;
  size_t n, i;
  uint32_t line;
  token tok;
  variable *vars;
  size_t n_vars, cap_vars;
  long pending;               /* index of the rule New-ADSyncRule started, or -1 */
  int rc;
} reader;

static const char *where(reader *p, uint32_t line)
{
  char w[1024];
  snprintf(w, sizeof w, "%s:%u", p->file, line);
  return connect_strdup(p->x, w, strlen(w));
}

static void note(reader *p, uint32_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(reader *p, uint32_t line, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!p->rc && connect_note_add(p->x, where(p, line), "%s", msg) != CONNECT_OK)
    p->rc = CONNECT_NOMEM;
}

/* ---- tokens ---- */

static bool word_char(char c)
{
  return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == ':' ||
         (unsigned char)c >= 0x80;
}

static void skip_blanks(reader *p)
{
  for (;;) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r'))
      p->i++;
    /* A backtick before white space continues the command (on this line or the next). */
    if (p->i + 1 < p->n && p->s[p->i] == '`' && isspace((unsigned char)p->s[p->i + 1])) {
      p->i++;
      while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r'))
        p->i++;
      if (p->i < p->n && p->s[p->i] == '\n') {
        p->i++;
        p->line++;
      }
      continue;
    }
    if (p->i + 1 < p->n && p->s[p->i] == '<' && p->s[p->i + 1] == '#') {
      for (p->i += 2; p->i < p->n && !(p->s[p->i] == '#' && p->i + 1 < p->n &&
                                       p->s[p->i + 1] == '>'); p->i++)
        if (p->s[p->i] == '\n')
          p->line++;
      p->i = p->i + 2 <= p->n ? p->i + 2 : p->n;
      continue;
    }
    if (p->i < p->n && p->s[p->i] == '#') {
      while (p->i < p->n && p->s[p->i] != '\n')
        p->i++;
      continue;
    }
    return;
  }
}

/* A quoted string at p->i: '…' ('' is a quote) or "…" (`x escapes, "" is a quote). */
static void lex_string(reader *p)
{
  char q = p->s[p->i++];
  buf b;
  uint32_t line = p->line;
  buf_init(&b, 0);
  for (;;) {
    char c;
    if (p->i >= p->n) {
      p->tok = (token){T_BAD, "a string is not closed", NULL, line};
      buf_free(&b);
      return;
    }
    c = p->s[p->i++];
    if (c == '\n')
      p->line++;
    if (c == q) {
      if (p->i < p->n && p->s[p->i] == q) {
        p->i++;
      } else {
        break;
      }
    } else if (q == '"' && c == '`' && p->i < p->n) {
      c = p->s[p->i++];
      c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == '0' ? ' ' : c;
    } else if (q == '"' && c == '$') {
      p->tok = (token){T_BAD, "a variable inside a \"…\" string (not expanded here)", NULL, line};
      buf_free(&b);
      return;
    }
    if (buf_addc(&b, c) != BUF_OK)
      p->rc = CONNECT_NOMEM;
  }
  p->tok = (token){T_STRING, connect_strdup(p->x, b.len ? b.p : "", b.len), NULL, line};
  if (!p->tok.text)
    p->rc = CONNECT_NOMEM;
  buf_free(&b);
}

static const char *take(reader *p, size_t start, size_t end)
{
  const char *s = connect_strdup(p->x, p->s + start, end - start);
  if (!s)
    p->rc = CONNECT_NOMEM;
  return s;
}

static void next(reader *p)
{
  size_t start;
  char c;

  skip_blanks(p);
  p->tok = (token){T_END, "", NULL, p->line};
  if (p->i >= p->n || p->rc)
    return;
  c = p->s[p->i];
  start = p->i;
  if (c == '\n' || c == ';') {
    if (c == '\n')
      p->line++;
    p->i++;
    p->tok.kind = T_NEWLINE;
  } else if (c == '\'' || c == '"') {
    lex_string(p);
  } else if (c == '@' && p->i + 1 < p->n && p->s[p->i + 1] == '(') {
    p->i += 2;
    p->tok.kind = T_ARRAY_OPEN;
  } else if (c == '(' || c == ')' || c == ',' || c == '=') {
    p->i++;
    p->tok.kind = c == '(' ? T_OPEN : c == ')' ? T_CLOSE : c == ',' ? T_COMMA : T_ASSIGN;
  } else if (c == '[') {
    while (p->i < p->n && p->s[p->i] != ']' && p->s[p->i] != '\n')
      p->i++;
    if (p->i >= p->n || p->s[p->i] != ']') {
      p->tok = (token){T_BAD, "'[' without ']'", NULL, p->line};
      return;
    }
    p->tok.kind = T_TYPE;
    p->tok.text = take(p, start + 1, p->i++);
  } else if (c == '$') {
    size_t name;
    p->i++;
    name = p->i;
    while (p->i < p->n && (isalnum((unsigned char)p->s[p->i]) || p->s[p->i] == '_'))
      p->i++;
    p->tok.kind = T_VAR;
    p->tok.text = take(p, name, p->i);
    if (p->i < p->n && p->s[p->i] == '[') {   /* $syncRule[0]: the one object either way */
      while (p->i < p->n && p->s[p->i] != ']' && p->s[p->i] != '\n')
        p->i++;
      if (p->i < p->n && p->s[p->i] == ']')
        p->i++;
    }
    if (p->i + 1 < p->n && p->s[p->i] == '.' && isalpha((unsigned char)p->s[p->i + 1])) {
      size_t prop = ++p->i;
      while (p->i < p->n && (isalnum((unsigned char)p->s[p->i]) || p->s[p->i] == '_'))
        p->i++;
      p->tok.prop = take(p, prop, p->i);
    }
  } else if (c == '-' && p->i + 1 < p->n && isalpha((unsigned char)p->s[p->i + 1])) {
    p->i++;
    while (p->i < p->n && word_char(p->s[p->i]))
      p->i++;
    p->tok.kind = T_PARAM;
    p->tok.text = take(p, start + 1, p->i);
  } else if (word_char(c)) {
    while (p->i < p->n && word_char(p->s[p->i]))
      p->i++;
    p->tok.kind = T_WORD;
    p->tok.text = take(p, start, p->i);
  } else {
    p->i++;
    p->tok = (token){T_BAD, "a character PowerShell rules exports do not use", NULL, p->line};
  }
}

/* ---- values ---- */

static variable *find_var(reader *p, const char *name)
{
  for (size_t i = 0; i < p->n_vars; i++)
    if (strcasecmp(p->vars[i].name, name) == 0)
      return &p->vars[i];
  return NULL;
}

static int set_var(reader *p, const char *name, pvalue v)
{
  variable *slot = find_var(p, name);
  if (!slot) {
    if (array_reserve_in(p->x->arena, &p->vars, p->n_vars, &p->cap_vars, p->n_vars + 1,
                         sizeof *p->vars))
      return p->rc = CONNECT_NOMEM;
    slot = &p->vars[p->n_vars++];
    slot->name = name;
  }
  slot->value = v;
  return CONNECT_OK;
}

static int parse_value(reader *p, pvalue *out);

/* One element: a string, a word, a variable, or @(…). */
static int parse_primary(reader *p, pvalue *out)
{
  *out = (pvalue){PV_NONE, NULL, NULL, 0, p->tok.line};
  switch (p->tok.kind) {
  case T_STRING:
  case T_WORD:
    out->kind = PV_STR;
    out->s = p->tok.text;
    next(p);
    return 0;
  case T_VAR: {
    const char *name = p->tok.text, *prop = p->tok.prop;
    variable *v;
    if (strcasecmp(name, "true") == 0 || strcasecmp(name, "false") == 0) {
      out->kind = PV_STR;
      out->s = strcasecmp(name, "true") == 0 ? "True" : "False";
    } else if (strcasecmp(name, "null") == 0) {
      out->kind = PV_NONE;
    } else if (!(v = find_var(p, name))) {
      note(p, p->tok.line, "$%s is not set by this script: not read", name);
      return -1;
    } else if (prop && !(v->value.kind == PV_CONNECTOR && strcasecmp(prop, "Identifier") == 0)) {
      note(p, p->tok.line, "$%s.%s: the only property read is a connector's .Identifier", name,
           prop);
      return -1;
    } else {
      *out = v->value;
    }
    next(p);
    return 0;
  }
  case T_ARRAY_OPEN: {
    size_t cap = 0;
    next(p);
    out->kind = PV_LIST;
    while (p->tok.kind == T_NEWLINE)
      next(p);
    while (p->tok.kind != T_CLOSE) {
      pvalue item;
      if (parse_value(p, &item) != 0)
        return -1;
      if (array_reserve_in(p->x->arena, &out->items, out->n, &cap, out->n + (item.kind ==
                           PV_LIST ? item.n : 1), sizeof *out->items)) {
        p->rc = CONNECT_NOMEM;
        return -1;
      }
      /* @('a','b') is one list, not a list holding a list. */
      if (item.kind == PV_LIST)
        for (size_t k = 0; k < item.n; k++)
          out->items[out->n++] = item.items[k];
      else
        out->items[out->n++] = item;
      while (p->tok.kind == T_NEWLINE)
        next(p);
    }
    next(p);
    return 0;
  }
  default:
    note(p, p->tok.line, "expected a value, found %s", p->tok.kind == T_BAD ? p->tok.text
         : "something else");
    return -1;
  }
}

/* A value: a primary, or primaries separated by commas (a list). */
static int parse_value(reader *p, pvalue *out)
{
  size_t cap = 0;
  pvalue first;
  if (parse_primary(p, &first) != 0)
    return -1;
  if (p->tok.kind != T_COMMA) {
    *out = first;
    return 0;
  }
  *out = (pvalue){PV_LIST, NULL, NULL, 0, first.line};
  for (;;) {
    if (array_reserve_in(p->x->arena, &out->items, out->n, &cap, out->n + 1,
                         sizeof *out->items)) {
      p->rc = CONNECT_NOMEM;
      return -1;
    }
    out->items[out->n++] = first;
    if (p->tok.kind != T_COMMA)
      return 0;
    next(p);
    if (parse_primary(p, &first) != 0)
      return -1;
  }
}

/* ---- commands ---- */

typedef struct param {
  const char *name;
  pvalue value;     /* PV_NONE for a switch */
  bool is_switch;
} param;

typedef struct command {
  const char *name;
  uint32_t line;
  param *params;
  size_t n, cap;
} command;

static const pvalue *arg(const command *c, const char *name)
{
  for (size_t i = 0; i < c->n; i++)
    if (strcasecmp(c->params[i].name, name) == 0)
      return &c->params[i].value;
  return NULL;
}

/* The string of parameter `name`, or NULL. */
static const char *arg_str(const command *c, const char *name)
{
  const pvalue *v = arg(c, name);
  return v && v->kind == PV_STR ? v->s : NULL;
}

static bool arg_switch(const command *c, const char *name)
{
  for (size_t i = 0; i < c->n; i++)
    if (strcasecmp(c->params[i].name, name) == 0)
      return c->params[i].is_switch ||
             (c->params[i].value.kind == PV_STR && strcasecmp(c->params[i].value.s, "True") == 0);
  return false;
}

/* Every parameter of c must be one of `known`; the others are notes. */
static void unknown_params(reader *p, const command *c, const char *const *known)
{
  for (size_t i = 0; i < c->n; i++) {
    size_t k;
    for (k = 0; known[k] && strcasecmp(known[k], c->params[i].name) != 0; k++)
      ;
    if (!known[k])
      note(p, c->line, "%s %s%s is not read: mvsync does not know the parameter", c->name,
           *c->params[i].name ? "-" : "a value without a parameter", c->params[i].name);
  }
}

static cx_rule *pending_rule(reader *p, const command *c)
{
  if (p->pending < 0) {
    note(p, c->line, "%s without a New-ADSyncRule before it: not read", c->name);
    return NULL;
  }
  return &p->x->rules[p->pending];
}

/* The connector a rule names: a GUID, or the name of $c = Get-ADSyncConnector -Name (the
 * writer matches either against the connectors read). */
static const char *rule_connector(const command *c)
{
  const pvalue *v = arg(c, "Connector");
  return v && (v->kind == PV_CONNECTOR || v->kind == PV_STR) ? v->s : NULL;
}

static void new_rule(reader *p, const command *c)
{
  static const char *const known[] = {
    "Name", "Identifier", "Description", "Direction", "Precedence", "PrecedenceAfter",
    "PrecedenceBefore", "SourceObjectType", "TargetObjectType", "Connector", "LinkType",
    "SoftDeleteExpiryInterval", "ImmutableTag", "EnablePasswordSync", "Disabled",
    "OutVariable", NULL};
  cx_rule *r;
  if (p->pending >= 0) {
    note(p, p->x->rules[p->pending].line, "rule \"%s\" was never added (no Add-ADSyncRule "
         "before the next New-ADSyncRule): not carried", p->x->rules[p->pending].name);
    p->x->n_rules--;
  }
  if (!(r = connect_rule_new(p->x, p->file, c->line))) {
    p->rc = CONNECT_NOMEM;
    return;
  }
  p->pending = (long)(p->x->n_rules - 1);
  r->name = arg_str(c, "Name");
  r->id = arg_str(c, "Identifier");
  r->description = arg_str(c, "Description");
  r->direction = arg_str(c, "Direction");
  r->precedence = arg_str(c, "Precedence");
  r->precedence_after = arg_str(c, "PrecedenceAfter");
  r->precedence_before = arg_str(c, "PrecedenceBefore");
  r->source_type = arg_str(c, "SourceObjectType");
  r->target_type = arg_str(c, "TargetObjectType");
  r->connector = rule_connector(c);
  r->link = arg_str(c, "LinkType");
  r->soft_delete = arg_str(c, "SoftDeleteExpiryInterval");
  r->immutable_tag = arg_str(c, "ImmutableTag");
  r->password_sync = arg_switch(c, "EnablePasswordSync");
  r->disabled = arg_switch(c, "Disabled");
  unknown_params(p, c, known);
}

static void add_flow(reader *p, const command *c)
{
  static const char *const known[] = {"SynchronizationRule", "Source", "Destination",
                                      "FlowType", "ValueMergeType", "Expression", "ExecuteOnce",
                                      "OutVariable", NULL};
  cx_rule *r = pending_rule(p, c);
  const pvalue *src = arg(c, "Source");
  cx_flow *f;

  if (!r)
    return;
  if (!(f = connect_flow_new(p->x, r))) {
    p->rc = CONNECT_NOMEM;
    return;
  }
  f->line = c->line;
  f->dest = arg_str(c, "Destination");
  f->type = arg_str(c, "FlowType");
  f->type = f->type ? f->type : "";
  f->merge = arg_str(c, "ValueMergeType");
  f->expression = arg_str(c, "Expression");
  f->apply_once = arg_switch(c, "ExecuteOnce");
  if (src && src->kind == PV_STR && connect_push_str(p->x, &f->src, &f->n_src, &f->cap_src, src->s))
    p->rc = CONNECT_NOMEM;
  for (size_t k = 0; src && src->kind == PV_LIST && k < src->n; k++)
    if (src->items[k].kind == PV_STR &&
        connect_push_str(p->x, &f->src, &f->n_src, &f->cap_src, src->items[k].s))
      p->rc = CONNECT_NOMEM;
  /* A Constant flow's value is its -Source (Microsoft's scripts: -Source @('true')). */
  if (strcasecmp(f->type, "Constant") == 0 && f->n_src)
    f->constant = f->src[0];
  unknown_params(p, c, known);
}

static void new_object(reader *p, const command *c)
{
  static const char *const known[] = {"TypeName", "ArgumentList", "OutVariable", NULL};
  const char *type = arg_str(c, "TypeName"), *var = arg_str(c, "OutVariable");
  const pvalue *args = arg(c, "ArgumentList");
  bool scope = type && strlen(type) >= 14 && strcasecmp(type + strlen(type) - 14, "ScopeCondition") == 0;
  bool join = type && strlen(type) >= 13 && strcasecmp(type + strlen(type) - 13, "JoinCondition") == 0;
  pvalue obj;

  if (!scope && !join) {
    note(p, c->line, "New-Object of type %s is not a scope or join condition: not read",
         type ? type : "(none)");
    return;
  }
  if (!var || !args || args->kind != PV_LIST || args->n != 3 || args->items[0].kind != PV_STR ||
      args->items[1].kind != PV_STR || args->items[2].kind != PV_STR) {
    note(p, c->line, "a %s needs -ArgumentList with three values and -OutVariable: not read",
         scope ? "ScopeCondition" : "JoinCondition");
    return;
  }
  obj = *args;
  obj.kind = scope ? PV_SCOPE : PV_JOIN;
  obj.line = c->line;
  set_var(p, var, obj);
  unknown_params(p, c, known);
}

static void add_group(reader *p, const command *c, bool scope)
{
  static const char *const known_scope[] = {"SynchronizationRule", "ScopeConditions",
                                            "OutVariable", NULL};
  static const char *const known_join[] = {"SynchronizationRule", "JoinConditions",
                                           "OutVariable", NULL};
  cx_rule *r = pending_rule(p, c);
  const pvalue *list = arg(c, scope ? "ScopeConditions" : "JoinConditions");
  cx_scope_group *sg = NULL;
  cx_join_group *jg = NULL;
  pvalue one;

  if (!r)
    return;
  if (list && list->kind != PV_LIST) {
    one = *list;
    one.kind = PV_LIST;
    one.items = (pvalue *)list;
    one.n = 1;
    list = &one;
  }
  if (!list || !list->n) {
    note(p, c->line, "%s without conditions: not read", c->name);
    return;
  }
  if (scope ? !(sg = connect_scope_group_new(p->x, r)) : !(jg = connect_join_group_new(p->x, r))) {
    p->rc = CONNECT_NOMEM;
    return;
  }
  for (size_t k = 0; k < list->n; k++) {
    const pvalue *v = &list->items[k];
    if (v->kind != (scope ? PV_SCOPE : PV_JOIN)) {
      note(p, c->line, "%s: condition %zu is not a %s condition made by New-Object", c->name,
           k + 1, scope ? "scope" : "join");
      continue;
    }
    if (scope ? connect_clause_add(p->x, sg, v->items[0].s, v->items[2].s, v->items[1].s,
                                   v->line)
              : connect_join_add(p->x, jg, v->items[0].s, v->items[1].s,
                                 strcasecmp(v->items[2].s, "True") == 0, v->line))
      p->rc = CONNECT_NOMEM;
  }
  unknown_params(p, c, scope ? known_scope : known_join);
}

static void run_command(reader *p, const command *c)
{
  const char *out_var = arg_str(c, "OutVariable");
  static const char *const ignored[] = {"Get-ADSyncRule", "Import-Module", "Write-Host",
                                        "Write-Output", NULL};
  if (strcasecmp(c->name, "New-ADSyncRule") == 0) {
    new_rule(p, c);
    if (out_var)
      set_var(p, out_var, (pvalue){PV_RULE, NULL, NULL, 0, c->line});
  } else if (strcasecmp(c->name, "Add-ADSyncAttributeFlowMapping") == 0) {
    add_flow(p, c);
  } else if (strcasecmp(c->name, "New-Object") == 0) {
    new_object(p, c);
  } else if (strcasecmp(c->name, "Add-ADSyncScopeConditionGroup") == 0) {
    add_group(p, c, true);
  } else if (strcasecmp(c->name, "Add-ADSyncJoinConditionGroup") == 0) {
    add_group(p, c, false);
  } else if (strcasecmp(c->name, "Add-ADSyncRule") == 0) {
    if (pending_rule(p, c))
      p->pending = -1;
  } else {
    size_t k;
    for (k = 0; ignored[k] && strcasecmp(ignored[k], c->name) != 0; k++)
      ;
    if (!ignored[k])
      note(p, c->line, "command %s is not one that makes rules: not read", c->name);
  }
}

/* A command's parameters up to the end of the statement. */
static int parse_params(reader *p, command *c)
{
  while (p->tok.kind != T_NEWLINE && p->tok.kind != T_END && !p->rc) {
    param *slot;
    bool positional = p->tok.kind != T_PARAM;
    if (array_reserve_in(p->x->arena, &c->params, c->n, &c->cap, c->n + 1, sizeof *c->params)) {
      p->rc = CONNECT_NOMEM;
      return -1;
    }
    slot = &c->params[c->n++];
    memset(slot, 0, sizeof *slot);
    /* A value without a -Parameter (Import-Module ADSync) is positional: named "". */
    slot->name = positional ? "" : p->tok.text;
    if (!positional)
      next(p);
    if (!positional &&
        (p->tok.kind == T_PARAM || p->tok.kind == T_NEWLINE || p->tok.kind == T_END))
      slot->is_switch = true;
    else if (parse_value(p, &slot->value) != 0)
      return -1;
  }
  return 0;
}

/* Skip the rest of a statement after an error. */
static void skip_statement(reader *p)
{
  while (p->tok.kind != T_NEWLINE && p->tok.kind != T_END && !p->rc)
    next(p);
}

/* One statement; -1 when it could not be read (a note says why), and the caller skips the
 * rest of it. */
static int statement(reader *p)
{
  command c = {0};
  uint32_t line = p->tok.line;

  while (p->tok.kind == T_TYPE)   /* [int] $x = 88 */
    next(p);
  if (p->tok.kind == T_VAR && !p->tok.prop) {
    const char *name = p->tok.text;
    pvalue v;
    next(p);
    if (p->tok.kind != T_ASSIGN) {
      note(p, line, "$%s alone is not a statement these scripts use: not read", name);
      return -1;
    }
    next(p);
    if (p->tok.kind == T_WORD && strcasecmp(p->tok.text, "Get-ADSyncConnector") == 0) {
      c.name = p->tok.text;
      c.line = line;
      next(p);
      if (parse_params(p, &c) != 0 || !arg_str(&c, "Name")) {
        note(p, line, "$%s = Get-ADSyncConnector needs -Name: not read", name);
        return -1;
      }
      return set_var(p, name, (pvalue){PV_CONNECTOR, arg_str(&c, "Name"), NULL, 0, line});
    }
    if (p->tok.kind == T_WORD && !isdigit((unsigned char)p->tok.text[0]) &&
        p->tok.text[0] != '-') {
      note(p, line, "$%s = %s …: only values and Get-ADSyncConnector are read", name,
           p->tok.text);
      return -1;
    }
    if (parse_value(p, &v) != 0)
      return -1;
    return set_var(p, name, v);
  }
  if (p->tok.kind != T_WORD) {
    note(p, line, "expected a command, found %s", p->tok.kind == T_BAD ? p->tok.text
         : "something else");
    next(p);
    return -1;
  }
  c.name = p->tok.text;
  c.line = line;
  next(p);
  if (parse_params(p, &c) != 0)
    return -1;
  run_command(p, &c);
  return 0;
}

int connect_add_powershell(connect_export *x, const char *file, const char *src, size_t len)
{
  reader p = {0};
  p.x = x;
  p.file = file;
  p.s = src;
  p.n = len;
  p.line = 1;
  p.pending = -1;
  next(&p);
  while (p.tok.kind != T_END && !p.rc) {
    if (p.tok.kind == T_NEWLINE) {
      next(&p);
      continue;
    }
    if (statement(&p) != 0)
      skip_statement(&p);
  }
  if (!p.rc && p.pending >= 0) {
    note(&p, x->rules[p.pending].line, "rule \"%s\" was never added (no Add-ADSyncRule): not "
         "carried", x->rules[p.pending].name ? x->rules[p.pending].name : "");
    x->n_rules--;
  }
  return p.rc;
}
