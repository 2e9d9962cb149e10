/* diff — the attribute-level changes a dry run (or a preview) would make: collected while
 * the run's code runs inside a transaction that is then rolled back, rendered as text or
 * JSON.  Memory: entries and values are copied into the diff's arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "tools/value_json.h"

static const char *dup_str(mvs_arena *a, const char *s)
{
  return s ? mvs_arena_memdup(a, s, strlen(s)) : NULL;
}

diff_entry *diff_add(mvs_engine *e, const char *kind, const char *where, const char *object,
                     const char *op, const char *detail)
{
  diff_log *d = e->diff;
  diff_entry *x;
  if (!d)
    return NULL;
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 64;
    diff_entry *np = realloc(d->items, ncap * sizeof *np);
    if (!np)
      return NULL;
    d->items = np;
    d->cap = ncap;
  }
  x = &d->items[d->n++];
  memset(x, 0, sizeof *x);
  x->kind = kind;
  x->where = dup_str(d->arena, where);
  x->object = dup_str(d->arena, object);
  x->op = op;
  x->detail = dup_str(d->arena, detail);
  return x;
}

int diff_change_add(mvs_engine *e, diff_entry *x, const char *attr, mvs_value old_v,
                    mvs_value new_v, const char *rule_name)
{
  diff_log *d = e->diff;
  diff_change *c;
  size_t n;
  if (!d || !x)
    return 0;
  /* Entries are kept in an array that may move: the change lists are per entry. */
  n = x->n_changes;
  if ((n & (n - 1)) == 0) {
    diff_change *np = mvs_arena_alloc(d->arena, (n ? n * 2 : 4) * sizeof *np);
    if (!np)
      return -1;
    if (n)
      memcpy(np, x->changes, n * sizeof *np);
    x->changes = np;
  }
  c = &x->changes[x->n_changes++];
  c->attr = dup_str(d->arena, attr);
  c->rule = dup_str(d->arena, rule_name);
  c->drift = false;
  if (attrset_copy_value(d->arena, old_v, &c->old_v) != 0 ||
      attrset_copy_value(d->arena, new_v, &c->new_v) != 0)
    return -1;
  return 0;
}

void diff_free(diff_log *d)
{
  free(d->items);
  if (d->arena)
    mvs_arena_free(d->arena);
  memset(d, 0, sizeof *d);
}

static int text_value(buf *out, mvs_value v)
{
  if (v.type == MVS_V_NULL)
    return buf_adds(out, "(none)");
  return value_json_write(out, v);
}

int trace_value(mvs_engine *e, buf *out, mvs_value v)
{
  const char *t;
  size_t n;
  if (v.type == MVS_V_MV && v.u.mv.n > 1)
    return value_json_write(out, v);
  if (value_text(e->scratch2, v, &t, &n) != 0)
    return -1;
  return buf_printf(out, "\"%.*s\"", (int)n, t);
}

int diff_render(const diff_log *d, bool json, buf *out)
{
  size_t i, j, shown = 0;
  int rc = 0;

  if (json)
    rc = buf_addc(out, '[');
  for (i = 0; d && i < d->n && rc == 0; i++) {
    const diff_entry *x = &d->items[i];
    if (!x->op || !x->op[0])
      continue;
    if (json) {
      rc = buf_printf(out, "%s\n {\"kind\": \"%s\", \"where\": ", shown ? "," : "", x->kind);
      value_json_write_str(out, x->where, strlen(x->where));
      buf_adds(out, ", \"object\": ");
      value_json_write_str(out, x->object, strlen(x->object));
      buf_printf(out, ", \"op\": \"%s\"%s", x->op, x->drift ? ", \"drift\": true" : "");
      if (x->detail) {
        buf_adds(out, ", \"detail\": ");
        value_json_write_str(out, x->detail, strlen(x->detail));
      }
      buf_adds(out, ", \"changes\": [");
      for (j = 0; j < x->n_changes; j++) {
        const diff_change *c = &x->changes[j];
        buf_printf(out, "%s{\"attr\": ", j ? ", " : "");
        value_json_write_str(out, c->attr, strlen(c->attr));
        buf_adds(out, ", \"old\": ");
        value_json_write(out, c->old_v);
        buf_adds(out, ", \"new\": ");
        value_json_write(out, c->new_v);
        if (c->rule) {
          buf_adds(out, ", \"rule\": ");
          value_json_write_str(out, c->rule, strlen(c->rule));
        }
        if (c->drift)
          buf_adds(out, ", \"drift\": true");
        rc = buf_addc(out, '}');
      }
      rc = buf_adds(out, "]}");
    } else {
      bool rename = strcmp(x->op, "rename") == 0;
      rc = buf_printf(out, "%s %s: %s %s%s%s%s%s\n", x->kind, x->where, x->op, x->object,
                      x->detail ? (rename ? " -> " : " (") : "", x->detail ? x->detail : "",
                      x->detail && !rename ? ")" : "", x->drift ? " [drift]" : "");
      for (j = 0; j < x->n_changes && rc == 0; j++) {
        const diff_change *c = &x->changes[j];
        if (c->old_v.type == MVS_V_NULL && c->new_v.type != MVS_V_NULL) {
          buf_printf(out, "  + %s: ", c->attr);
          text_value(out, c->new_v);
        } else if (c->new_v.type == MVS_V_NULL && c->old_v.type != MVS_V_NULL) {
          buf_printf(out, "  - %s: ", c->attr);
          text_value(out, c->old_v);
        } else {
          buf_printf(out, "  ~ %s: ", c->attr);
          text_value(out, c->old_v);
          buf_adds(out, " -> ");
          text_value(out, c->new_v);
        }
        if (c->rule)
          buf_printf(out, "  (%s)", c->rule);
        if (c->drift)
          buf_adds(out, "  (drift: the directory was changed outside the rules)");
        rc = buf_addc(out, '\n');
      }
    }
    shown++;
  }
  if (json)
    rc = buf_adds(out, shown ? "\n]\n" : "]\n");
  else if (!shown)
    rc = buf_adds(out, "no changes\n");
  return rc ? -1 : 0;
}
