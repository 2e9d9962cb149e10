/* diff — the attribute-level changes a dry run (or a preview) would make: collected while
 * the run's code runs inside a transaction that is then rolled back, rendered as text or
 * JSON.  A dry run streams: at each object boundary the entries are rendered to an unlinked
 * temporary file, so memory stays one object's diff (300,000 objects as well as 30); anything
 * lost (memory cap, write error) is recorded and fails the run.  Memory: entries and values
 * are copied into the diff's arena, reset at each flush. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/diff.h"
#include "engine/engine_int.h"
#include "schema/array.h"
#include "schema/json_str.h"
#include "schema/value_json.h"

/* Every loss is recorded: a diff missing an entry must fail the run, never pass as complete. */
static void diff_fail(diff_log *d, const char *what)
{
  if (!d->error[0])
    snprintf(d->error, sizeof d->error, "dry run: %s; nothing was committed and the diff is "
             "incomplete", what);
}

static const char *dup_str(diff_log *d, const char *s)
{
  const char *p;
  if (!s)
    return NULL;
  if (!(p = mvs_arena_memdup(d->arena, s, strlen(s))))
    diff_fail(d, "one object's changes exceed the diff's memory limit");
  return p;
}

int diff_open(diff_log *d, bool spill, bool json, size_t cap)
{
  const char *dir = getenv("TMPDIR");
  char path[4096];
  int fd;

  memset(d, 0, sizeof *d);
  d->json = json;
  if (!(d->arena = mvs_arena_new(cap ? cap : (size_t)1 << 30)))
    return -1;
  if (!spill)
    return 0;
  /* Unlinked at once: the file lives as long as the run and leaves nothing behind. */
  if (snprintf(path, sizeof path, "%s/mvsync-dry-run-XXXXXX", dir && dir[0] ? dir : "/tmp") >=
          (int)sizeof path ||
      (fd = mkstemp(path)) < 0)
    return -1;
  unlink(path);
  if (!(d->spill = fdopen(fd, "w+"))) {
    close(fd);
    return -1;
  }
  return 0;
}

diff_entry *diff_add(mvs_engine *e, const char *kind, const char *where, const char *object,
                     const char *op, const char *detail)
{
  diff_log *d = e->diff;
  diff_entry *x;
  if (!d)
    return NULL;
  if (array_reserve(&d->items, &d->cap, d->n + 1, sizeof *d->items) != 0) {
    diff_fail(d, "out of memory");
    return NULL;
  }
  if (!(x = mvs_arena_alloc(d->arena, sizeof *x))) {
    diff_fail(d, "one object's changes exceed the diff's memory limit");
    return NULL;
  }
  memset(x, 0, sizeof *x);
  x->kind = kind;
  x->where = dup_str(d, where);
  x->object = dup_str(d, object);
  x->op = op;
  x->detail = dup_str(d, detail);
  d->items[d->n++] = x;
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
  n = x->n_changes;
  if ((n & (n - 1)) == 0) {
    diff_change *np = mvs_arena_alloc(d->arena, (n ? n * 2 : 4) * sizeof *np);
    if (!np) {
      diff_fail(d, "one object's changes exceed the diff's memory limit");
      return -1;
    }
    if (n)
      memcpy(np, x->changes, n * sizeof *np);
    x->changes = np;
  }
  c = &x->changes[x->n_changes++];
  c->attr = dup_str(d, attr);
  c->rule = dup_str(d, rule_name);
  c->drift = false;
  if (attrset_copy_value(d->arena, old_v, &c->old_v) != 0 ||
      attrset_copy_value(d->arena, new_v, &c->new_v) != 0) {
    diff_fail(d, "one object's changes exceed the diff's memory limit");
    return -1;
  }
  return 0;
}

void diff_free(diff_log *d)
{
  free(d->items);
  if (d->arena)
    mvs_arena_free(d->arena);
  if (d->spill)
    fclose(d->spill);
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
  if (attr_value_text(e->scratch2, v, &t, &n) != 0)
    return -1;
  return buf_printf(out, "\"%.*s\"", (int)n, t);
}

/* One entry (not a dropped one); first: the first entry written in JSON (no comma). */
static int render_entry(const diff_entry *x, bool json, bool first, buf *out)
{
  size_t j;
  int rc = 0;

  if (json) {
    buf_printf(out, "%s\n {\"kind\": \"%s\", \"where\": ", first ? "" : ",", x->kind);
    json_str_write(out, x->where, strlen(x->where));
    buf_adds(out, ", \"object\": ");
    json_str_write(out, x->object, strlen(x->object));
    buf_printf(out, ", \"op\": \"%s\"%s", x->op, x->drift ? ", \"drift\": true" : "");
    if (x->detail) {
      buf_adds(out, ", \"detail\": ");
      json_str_write(out, x->detail, strlen(x->detail));
    }
    buf_adds(out, ", \"changes\": [");
    for (j = 0; j < x->n_changes; j++) {
      const diff_change *c = &x->changes[j];
      buf_printf(out, "%s{\"attr\": ", j ? ", " : "");
      json_str_write(out, c->attr, strlen(c->attr));
      buf_adds(out, ", \"old\": ");
      value_json_write(out, c->old_v);
      buf_adds(out, ", \"new\": ");
      value_json_write(out, c->new_v);
      if (c->rule) {
        buf_adds(out, ", \"rule\": ");
        json_str_write(out, c->rule, strlen(c->rule));
      }
      if (c->drift)
        buf_adds(out, ", \"drift\": true");
      buf_addc(out, '}');
    }
    return buf_adds(out, "]}");
  }
  {
    bool rename = strcmp(x->op, "rename") == 0;
    rc = buf_printf(out, "%s %s: %s %s%s%s%s%s\n", x->kind, x->where, x->op, x->object,
                    x->detail ? (rename ? " -> " : " (") : "", x->detail ? x->detail : "",
                    x->detail && !rename ? ")" : "", x->drift ? " [drift]" : "");
  }
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
  return rc;
}

static bool shown(const diff_entry *x)
{
  return x->op && x->op[0];
}

int diff_render(const diff_log *d, bool json, buf *out)
{
  size_t i, n_shown = 0;
  int rc = 0;

  if (d && d->error[0])
    return -1;
  if (json)
    rc = buf_addc(out, '[');
  for (i = 0; d && i < d->n && rc == 0; i++)
    if (shown(d->items[i]))
      rc = render_entry(d->items[i], json, n_shown++ == 0, out);
  if (json)
    rc = buf_adds(out, n_shown ? "\n]\n" : "]\n");
  else if (!n_shown)
    rc = buf_adds(out, "no changes\n");
  return rc ? -1 : 0;
}

int diff_flush(mvs_engine *e)
{
  diff_log *d = e->diff;
  buf out;
  size_t i;
  int rc = 0;

  if (!d || !d->spill)
    return d && d->error[0] ? -1 : 0;
  buf_init(&out, 0);
  for (i = 0; i < d->n && rc == 0; i++) {
    if (!shown(d->items[i]))
      continue;
    buf_reset(&out);
    if (render_entry(d->items[i], d->json, d->shown == 0, &out) != 0 ||
        fwrite(out.p, 1, out.len, d->spill) != out.len)
      rc = -1;
    else
      d->shown++;
  }
  buf_free(&out);
  d->n = 0;
  mvs_arena_reset(d->arena);
  if (rc != 0)
    diff_fail(d, "cannot write the diff to its temporary file (disk full?)");
  return d->error[0] ? -1 : 0;
}

int diff_write(diff_log *d, FILE *out)
{
  char chunk[65536];
  size_t n;

  if (d->error[0] || !d->spill || fflush(d->spill) != 0 || fseek(d->spill, 0, SEEK_SET) != 0)
    return -1;
  if (d->json)
    fputc('[', out);
  else if (!d->shown)
    fputs("no changes\n", out);
  while ((n = fread(chunk, 1, sizeof chunk, d->spill)) > 0)
    if (fwrite(chunk, 1, n, out) != n)
      return -1;
  if (ferror(d->spill))
    return -1;
  if (d->json)
    fputs(d->shown ? "\n]" : "]", out);
  return ferror(out) ? -1 : 0;
}
