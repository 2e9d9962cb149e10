/* ruleset — rule set lifetime, diagnostics, name tables and suggestions. See ruleset.h. */
#include "rules/ruleset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/dsl_int.h"
#include "schema/array.h"
#include "schema/utf8.h"
#include "schema/value.h"

/* ---- arena vectors ---- */

void *rule_vec_push(mvs_arena *a, rule_vec *v, size_t size)
{
  char *slot;

  if (array_reserve_in(a, &v->p, v->n, &v->cap, v->n + 1, size) != 0)
    return NULL;
  slot = (char *)v->p + v->n * size;
  memset(slot, 0, size);
  v->n++;
  return slot;
}

void rule_put(rule_printer *pr, const char *fmt, ...)
{
  va_list ap;
  if (pr->rc)
    return;
  va_start(ap, fmt);
  pr->rc = buf_vprintf(pr->b, fmt, ap);
  va_end(ap);
}

/* ---- rule sets ---- */

rule_set *rule_set_new(void)
{
  rule_set *rs = calloc(1, sizeof *rs);
  rule_set_impl *impl = calloc(1, sizeof *impl);

  if (!rs || !impl)
    goto fail;
  impl->arena = mvs_arena_new(0);
  if (!impl->arena)
    goto fail;
  rs->impl = impl;
  return rs;
fail:
  free(impl);
  free(rs);
  return NULL;
}

void rule_set_free(rule_set *rs)
{
  size_t i;
  expr **exprs;

  if (!rs)
    return;
  exprs = rs->impl->exprs.p;
  for (i = 0; i < rs->impl->exprs.n; i++)
    expr_free(exprs[i]);
  mvs_arena_free(rs->impl->arena);
  free(rs->impl);
  free(rs);
}

const rule_connector *rule_set_connector(const rule_set *rs, const char *name)
{
  size_t i;
  for (i = 0; i < rs->n_connectors; i++)
    if (strcmp(rs->connectors[i].name, name) == 0)
      return &rs->connectors[i];
  return NULL;
}

const rule_attr_decl rule_collection_attrs[] = {
  {.name = "name", .syntax = RULE_SYN_STRING},
  {.name = "displayName", .syntax = RULE_SYN_STRING},
  {.name = "description", .syntax = RULE_SYN_STRING},
  {.name = "owner", .syntax = RULE_SYN_STRING},
  {.name = "purpose", .syntax = RULE_SYN_STRING},
  {.name = "member", .syntax = RULE_SYN_REFERENCE, .multi = true},
};
const size_t rule_n_collection_attrs =
  sizeof rule_collection_attrs / sizeof rule_collection_attrs[0];

const rule_collection *rule_set_collection(const rule_set *rs, const char *name)
{
  size_t i;
  for (i = 0; i < rs->n_collections; i++)
    if (strcmp(rs->collections[i].name, name) == 0)
      return &rs->collections[i];
  return NULL;
}

const rule_mv_object *rule_set_mv_object(const rule_set *rs, const char *name)
{
  size_t i, k;
  for (i = 0; i < rs->n_metaverse; i++)
    for (k = 0; k < rs->metaverse[i].n_objects; k++)
      if (strcmp(rs->metaverse[i].objects[k].name, name) == 0)
        return &rs->metaverse[i].objects[k];
  return NULL;
}

bool rule_targets_type(const rule *r, const char *type)
{
  return strcmp(r->target_type, RULE_ANY_TYPE) == 0 || strcasecmp(r->target_type, type) == 0;
}

/* ---- diagnostics ---- */

void rule_diags_init(rule_diags *d) { memset(d, 0, sizeof *d); }

void rule_diags_free(rule_diags *d)
{
  free(d->items);
  mvs_arena_free(d->arena);
  memset(d, 0, sizeof *d);
}

int rule_diag_vadd(rule_diags *d, rule_pos pos, rule_severity sev, const char *fmt,
                   va_list ap)
{
  char msg[1024];
  rule_diag *it;
  const char *file = pos.file ? pos.file : "";

  if (!d->arena && !(d->arena = mvs_arena_new(0)))
    return -1;
  if (array_reserve(&d->items, &d->cap, d->n + 1, sizeof *d->items) != 0)
    return -1;
  vsnprintf(msg, sizeof msg, fmt, ap);
  it = &d->items[d->n];
  /* Consecutive diagnostics mostly name the same file: share its copy. */
  if (d->n && strcmp(d->items[d->n - 1].file, file) == 0)
    it->file = d->items[d->n - 1].file;
  else if (!(it->file = mvs_arena_memdup(d->arena, file, strlen(file))))
    return -1;
  if (!(it->message = mvs_arena_memdup(d->arena, msg, strlen(msg))))
    return -1;
  it->line = pos.line;
  it->col = pos.col;
  it->severity = sev;
  d->n++;
  if (sev == RULE_SEV_ERROR)
    d->n_errors++;
  return 0;
}

int rule_diag_add(rule_diags *d, rule_pos pos, rule_severity sev, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = rule_diag_vadd(d, pos, sev, fmt, ap);
  va_end(ap);
  return rc;
}

static int diag_cmp(const rule_diag *a, const rule_diag *b)
{
  int c = strcmp(a->file, b->file);
  if (c)
    return c;
  if (a->line != b->line)
    return a->line < b->line ? -1 : 1;
  if (a->col != b->col)
    return a->col < b->col ? -1 : 1;
  return 0;
}

/* Insertion sort: stable, and diagnostics arrive nearly sorted. */
void rule_diags_sort(rule_diags *d)
{
  size_t i, j;
  for (i = 1; i < d->n; i++) {
    rule_diag x = d->items[i];
    for (j = i; j > 0 && diag_cmp(&d->items[j - 1], &x) > 0; j--)
      d->items[j] = d->items[j - 1];
    d->items[j] = x;
  }
}

int rule_diags_format(const rule_diags *d, buf *out)
{
  size_t i;
  int rc = 0;
  for (i = 0; i < d->n && rc == 0; i++) {
    const rule_diag *x = &d->items[i];
    rc = buf_printf(out, "%s:%u:%u: %s: %s\n", x->file, x->line, x->col,
                    x->severity == RULE_SEV_ERROR ? "error" : "warning", x->message);
  }
  return rc;
}

/* ---- names ---- */

const char *const rule_direction_names[3] = {NULL, "inbound", "outbound"};
const char *const rule_link_names[5] = {NULL, "join", "stickyjoin", "provision", "joinnoflow"};
const char *const scope_op_names[SCOPE_OP_COUNT] = {
  "EQUAL", "NOTEQUAL", "LESSTHAN", "LESSTHAN_OR_EQUAL", "GREATERTHAN",
  "GREATERTHAN_OR_EQUAL", "CONTAINS", "NOTCONTAINS", "STARTSWITH", "NOTSTARTSWITH",
  "ENDSWITH", "NOTENDSWITH", "ISNULL", "ISNOTNULL", "ISIN", "ISNOTIN", "ISBITSET",
  "ISNOTBITSET", "ISMEMBEROF", "ISNOTMEMBEROF"};
const char *const rule_merge_names[3] = {"update", "merge", "mergecaseinsensitive"};
const char *const rule_syntax_names[6] = {"string", "integer", "boolean", "binary",
                                          "datetime", "reference"};
const char *const rule_connector_type_names[4] = {"ad", "ldap", "entra", "file"};
const char *const rule_dialect_names[2] = {"connect", "cloud"};

#define NAME_OF(table, i) \
  ((size_t)(i) < sizeof table / sizeof table[0] && table[i] ? table[i] : "?")

const char *rule_direction_name(rule_direction d) { return NAME_OF(rule_direction_names, d); }
const char *rule_link_name(rule_link l) { return NAME_OF(rule_link_names, l); }
const char *scope_op_name(scope_op op) { return NAME_OF(scope_op_names, op); }
const char *rule_merge_name(rule_merge m) { return NAME_OF(rule_merge_names, m); }
const char *rule_syntax_name(rule_syntax s) { return NAME_OF(rule_syntax_names, s); }
const char *rule_connector_type_name(rule_connector_type t)
{
  return NAME_OF(rule_connector_type_names, t);
}
const char *rule_dialect_name(expr_dialect d) { return NAME_OF(rule_dialect_names, d); }

int rule_name_index(const char *const *names, size_t count, const char *s, size_t n,
                    bool nocase)
{
  size_t i;
  for (i = 0; i < count; i++)
    if (names[i] && strlen(names[i]) == n &&
        (nocase ? strncasecmp(names[i], s, n) : strncmp(names[i], s, n)) == 0)
      return (int)i;
  return -1;
}

void rule_name_list(const char *const *names, size_t count, const char *conj, char *out,
                    size_t outlen)
{
  size_t i, seen = 0, total = 0, used = 0;
  for (i = 0; i < count; i++)
    total += names[i] != NULL;
  out[0] = '\0';
  for (i = 0; i < count; i++) {
    char sep[16];
    int w;
    if (!names[i])
      continue;
    seen++;
    if (seen == 1)
      sep[0] = '\0';
    else if (seen == total)
      snprintf(sep, sizeof sep, " %s ", conj);
    else
      snprintf(sep, sizeof sep, ", ");
    w = snprintf(out + used, outlen - used, "%s%s", sep, names[i]);
    if (w < 0 || (size_t)w >= outlen - used)
      return;
    used += (size_t)w;
  }
}

/* ---- suggestions ---- */

void rule_suggest_init(rule_suggest *s, const char *word, size_t len)
{
  s->word = word;
  s->len = len;
  s->best = NULL;
  s->best_dist = SIZE_MAX;
}

static bool same_letter(char a, char b)
{
  return utf8_tolower((unsigned char)a) == utf8_tolower((unsigned char)b);
}

/* Edit distance (insert, delete, substitute, swap two neighbours) ignoring ASCII case, over
 * three rows; words longer than 64 bytes are too long to be typos and get no suggestion. */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
  size_t rows[3][65], *older = rows[0], *prev = rows[1], *cur = rows[2], *t, i, j;

  if (an > 64 || bn > 64)
    return SIZE_MAX;
  for (j = 0; j <= bn; j++)
    prev[j] = j;
  for (i = 1; i <= an; i++) {
    cur[0] = i;
    for (j = 1; j <= bn; j++) {
      size_t best = prev[j - 1] + !same_letter(a[i - 1], b[j - 1]);
      if (prev[j] + 1 < best)
        best = prev[j] + 1;
      if (cur[j - 1] + 1 < best)
        best = cur[j - 1] + 1;
      if (i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) && same_letter(a[i - 2], b[j - 1]) &&
          older[j - 2] + 1 < best)
        best = older[j - 2] + 1;
      cur[j] = best;
    }
    t = older;
    older = prev;
    prev = cur;
    cur = t;
  }
  return prev[bn];
}

void rule_suggest_add(rule_suggest *s, const char *candidate)
{
  size_t d = edit_distance(s->word, s->len, candidate, strlen(candidate));
  if (d < s->best_dist) {
    s->best_dist = d;
    s->best = candidate;
  }
}

const char *rule_suggest_result(const rule_suggest *s)
{
  size_t limit = s->len / 3 > 1 ? s->len / 3 : 1;
  return s->best && s->best_dist <= limit ? s->best : NULL;
}

const char *rule_suggest_hint(const rule_suggest *s, char quote, char *out, size_t outlen)
{
  const char *best = rule_suggest_result(s);
  if (best)
    snprintf(out, outlen, "; did you mean %c%s%c?", quote, best, quote);
  else
    out[0] = '\0';
  return out;
}

/* ---- literals ---- */

void rule_literal_type(rule_literal *lit)
{
  mvs_value v = mvs_str_ref(lit->text, lit->len);
  lit->is_num = mvs_to_num(v, &lit->num) == 0;
  lit->is_bool = false;
  if (lit->len == 4 && strncasecmp(lit->text, "true", 4) == 0)
    lit->is_bool = lit->b = true;
  else if (lit->len == 5 && strncasecmp(lit->text, "false", 5) == 0)
    lit->is_bool = true, lit->b = false;
  lit->is_dt = mvs_dt_parse_iso(lit->text, lit->len, &lit->dt) == 0;
}
