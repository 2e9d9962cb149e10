/* diff — the attribute-level changes a dry run (or a preview) would make: collected while
 * the run's code runs inside a transaction that is then rolled back, rendered as text or
 * JSON.  A dry run streams: at each object boundary the entries are rendered to an unlinked
 * temporary file, so memory stays one object's diff (300,000 objects as well as 30); anything
 * lost (memory cap, write error) is recorded and fails the run.  Memory: entries and values
 * are copied into the diff's arena, reset at each flush. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/diff.h"
#include "engine/engine_int.h"
#include "rules/authority.h"
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

/* Whether the attribute of entry x is contested: metaverse changes by the metaverse object
 * type, export changes by the connector and the object's type. */
static bool is_contested(const diff_log *d, const diff_entry *x, const char *attr)
{
  bool mv = strcmp(x->kind, "metaverse") == 0;
  const char *type = mv ? x->where : x->object_type;
  size_t i;
  if (!type || !attr)
    return false;
  for (i = 0; i < d->n_contested; i++) {
    const struct diff_contested *c = &d->contested[i];
    if (strcmp(c->space, mv ? "metaverse" : x->where) == 0 &&
        strcasecmp(c->object_type, type) == 0 && strcasecmp(c->attr, attr) == 0)
      return true;
  }
  return false;
}

void diff_set_object_type(mvs_engine *e, diff_entry *x, const char *object_type)
{
  if (e->diff && x)
    x->object_type = dup_str(e->diff, object_type);
}

int diff_set_contested(diff_log *d, const rule_set *rs)
{
  authority_map m = {0};
  size_t i;
  int rc = 0;
  if (authority_compute(rs, NULL, NULL, (rule_date){0, 0, 0}, &m) != 0)
    return -1;
  for (i = 0; i < m.n_attrs && rc == 0; i++) {
    const auth_attr *a = &m.attrs[i];
    struct diff_contested *c;
    if (!a->contested)
      continue;
    if (array_reserve(&d->contested, &d->cap_contested, d->n_contested + 1,
                      sizeof *d->contested) != 0) {
      rc = -1;
      break;
    }
    c = &d->contested[d->n_contested];
    c->space = strdup(a->space);
    c->object_type = strdup(a->object_type);
    c->attr = strdup(a->attribute);
    d->n_contested++;
    if (!c->space || !c->object_type || !c->attr)
      rc = -1;
  }
  authority_free(&m);
  return rc;
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
  c->contested = is_contested(d, x, attr);
  if (attrset_copy_value(d->arena, old_v, &c->old_v) != 0 ||
      attrset_copy_value(d->arena, new_v, &c->new_v) != 0) {
    diff_fail(d, "one object's changes exceed the diff's memory limit");
    return -1;
  }
  return 0;
}

int diff_set_filter(diff_log *d, const diff_filter *filter)
{
  d->filter = *filter;
  d->filter.connector = NULL;
  if (filter->connector && !(d->filter.connector = strdup(filter->connector)))
    return -1;
  return 0;
}

void diff_free(diff_log *d)
{
  size_t i;
  for (i = 0; i < d->n_counts; i++)
    free(d->counts[i].where);
  free(d->counts);
  for (i = 0; i < d->n_contested; i++) {
    free(d->contested[i].space);
    free(d->contested[i].object_type);
    free(d->contested[i].attr);
  }
  free(d->contested);
  free((char *)d->filter.connector);
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
      if (c->contested)
        buf_adds(out, ", \"contested\": true");
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
    if (c->contested)
      buf_adds(out, "  (contested: another rule can set it too; mvsync authority)");
    rc = buf_addc(out, '\n');
  }
  return rc;
}

static bool shown(const diff_entry *x)
{
  return x->op && x->op[0];
}

/* A dry run's entry that its output shows: not a staging entry its export step shows again,
 * and one the filter lets through. */
static bool listed(const diff_log *d, const diff_entry *x)
{
  bool metaverse = strcmp(x->kind, "metaverse") == 0;
  /* A withdrawn delete is no pending export any more: the export step never shows it. */
  if (!shown(x) || (d->writes_follow && strcmp(x->kind, "export") == 0 &&
                    strcmp(x->op, "withdraw-delete") != 0))
    return false;
  if (d->filter.only_writes && strcmp(x->kind, "send") != 0 && strcmp(x->kind, "held") != 0)
    return false;
  return !d->filter.connector || (!metaverse && strcmp(x->where, d->filter.connector) == 0);
}

/* The values an entry changes: each value written or removed; a skipped-references entry's
 * changes hold how many values each attribute left out. */
static int64_t entry_values(const diff_entry *x)
{
  int64_t n = 0;
  size_t j;
  bool skipped = strcmp(x->kind, "skipped") == 0;
  for (j = 0; j < x->n_changes; j++) {
    const diff_change *c = &x->changes[j];
    if (skipped)
      n += c->new_v.type == MVS_V_NUM ? c->new_v.u.num : 0;
    else
      n += (int64_t)(c->new_v.type != MVS_V_NULL ? mvs_count(c->new_v) : mvs_count(c->old_v));
  }
  return n;
}

static int count_entry(diff_log *d, const diff_entry *x)
{
  diff_count *c;
  size_t i;
  for (i = 0; i < d->n_counts; i++) {
    c = &d->counts[i];
    if (strcmp(c->kind, x->kind) == 0 && strcmp(c->op, x->op) == 0 &&
        strcmp(c->where, x->where) == 0)
      break;
  }
  if (i == d->n_counts) {
    if (array_reserve(&d->counts, &d->cap_counts, d->n_counts + 1, sizeof *d->counts) != 0)
      return -1;
    c = &d->counts[d->n_counts];
    memset(c, 0, sizeof *c);
    c->kind = x->kind;
    c->op = x->op;
    if (!(c->where = strdup(x->where)))
      return -1;
    d->n_counts++;
  }
  c = &d->counts[i];
  c->objects++;
  c->values += entry_values(x);
  return 0;
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
    if (!listed(d, d->items[i]))
      continue;
    buf_reset(&out);
    if (count_entry(d, d->items[i]) != 0) {
      diff_fail(d, "out of memory");
      break;
    }
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

/* ---- the summary ---- */

/* The order the summary reads in: what would be written first. */
static const char *const summary_kinds[] = {"send", "held", "export", "import",
                                            "connector-space", "metaverse", "skipped"};

static size_t kind_rank(const char *kind)
{
  size_t k;
  for (k = 0; k < sizeof summary_kinds / sizeof summary_kinds[0]; k++)
    if (strcmp(kind, summary_kinds[k]) == 0)
      return k;
  return k;
}

/* Connector-space entries (import, sync) read as one group per connector. */
static size_t group_rank(const char *kind)
{
  size_t k = kind_rank(kind);
  return k == 4 ? 3 : k;
}

static int cmp_count(const void *a, const void *b)
{
  const diff_count *x = *(const diff_count *const *)a, *y = *(const diff_count *const *)b;
  size_t gx = group_rank(x->kind), gy = group_rank(y->kind);
  int c;
  if (gx != gy)
    return gx < gy ? -1 : 1;
  if ((c = strcmp(x->where, y->where)) != 0)
    return c;
  if (kind_rank(x->kind) != kind_rank(y->kind))
    return kind_rank(x->kind) < kind_rank(y->kind) ? -1 : 1;
  return strcmp(x->op, y->op);
}

static int64_t op_count(const diff_count *const *v, size_t from, size_t to, const char *op,
                        int64_t *values)
{
  int64_t n = 0;
  size_t i;
  for (i = from; i < to; i++) {
    *values += strcmp(v[i]->op, op) == 0 ? v[i]->values : 0;
    n += strcmp(v[i]->op, op) == 0 ? v[i]->objects : 0;
  }
  return n;
}

/* One connector's writes (or staged exports): the four operations always, then any other. */
static void summary_writes(buf *out, const diff_count *const *v, size_t from, size_t to)
{
  static const char *const ops[] = {"add", "update", "rename", "delete"};
  int64_t values = 0, n;
  size_t i, k;
  buf_printf(out, "  %s:", v[from]->where);
  for (k = 0; k < 4; k++) {
    n = op_count(v, from, to, ops[k], &values);
    buf_printf(out, "%s %lld %s%s", k ? "," : "", (long long)n, ops[k], n == 1 ? "" : "s");
  }
  for (i = from; i < to; i++) {
    for (k = 0; k < 4 && strcmp(v[i]->op, ops[k]) != 0; k++)
      ;
    if (k == 4) {
      buf_printf(out, ", %lld %s", (long long)v[i]->objects, v[i]->op);
      values += v[i]->values;
    }
  }
  buf_printf(out, " (%lld value%s)\n", (long long)values, values == 1 ? "" : "s");
}

/* Any other group: "import: 3 add, 1 update; sync: 2 join" per connector or object type. */
static void summary_changes(buf *out, const diff_count *const *v, size_t from, size_t to)
{
  size_t i;
  buf_printf(out, "  %s:", v[from]->where);
  for (i = from; i < to; i++) {
    bool head = i == from || strcmp(v[i]->kind, v[i - 1]->kind) != 0;
    const char *kind = strcmp(v[i]->kind, "connector-space") == 0 ? "sync" : v[i]->kind;
    if (group_rank(v[i]->kind) == 3 && head)
      buf_printf(out, "%s %s:", i == from ? "" : ";", kind);
    else if (!head || i != from)
      buf_addc(out, ',');
    if (strcmp(v[i]->kind, "skipped") == 0)
      buf_printf(out, " %lld object%s, %lld value%s", (long long)v[i]->objects,
                 v[i]->objects == 1 ? "" : "s", (long long)v[i]->values,
                 v[i]->values == 1 ? "" : "s");
    else
      buf_printf(out, " %lld %s", (long long)v[i]->objects, v[i]->op);
  }
  buf_addc(out, '\n');
}

int diff_summary(const diff_log *d, bool json, buf *out)
{
  static const char *const heads[] = {
      "would write to each target connector:\n",
      "held back by the deletion threshold (not written):\n",
      "would stage as pending exports (an export run sends them):\n",
      "would change in the connector spaces:\n",
      "",
      "would change in the metaverse:\n",
      "references skipped (their objects have no object in the target connector):\n"};
  const diff_count **v;
  size_t i, j;

  if (!(v = malloc((d->n_counts + 1) * sizeof *v)))
    return -1;
  for (i = 0; i < d->n_counts; i++)
    v[i] = &d->counts[i];
  if (d->n_counts)
    qsort(v, d->n_counts, sizeof *v, cmp_count);
  if (json)
    buf_addc(out, '[');
  for (i = 0; i < d->n_counts; i++) {
    if (!json)
      break;
    buf_printf(out, "%s{\"kind\": \"%s\", \"where\": ", i ? ", " : "", v[i]->kind);
    json_str_write(out, v[i]->where, strlen(v[i]->where));
    buf_printf(out, ", \"op\": \"%s\", \"objects\": %lld, \"values\": %lld}", v[i]->op,
               (long long)v[i]->objects, (long long)v[i]->values);
  }
  if (!json && (!d->n_counts || group_rank(v[0]->kind) != 0))
    buf_adds(out, "would write to each target connector: nothing\n");
  for (i = 0; !json && i < d->n_counts; i = j) {
    size_t g = group_rank(v[i]->kind);
    if (i == 0 || g != group_rank(v[i - 1]->kind))
      buf_adds(out, heads[g]);
    for (j = i; j < d->n_counts && group_rank(v[j]->kind) == g &&
                strcmp(v[j]->where, v[i]->where) == 0; j++)
      ;
    if (g <= 2)
      summary_writes(out, v, i, j);
    else
      summary_changes(out, v, i, j);
  }
  if (json)
    buf_addc(out, ']');
  free(v);
  return 0;
}

int diff_each(diff_log *d, int (*fn)(void *u, const char *entry, size_t len), void *u)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int rc = 0;

  if (d->error[0] || !d->spill || !d->json || fflush(d->spill) != 0 ||
      fseek(d->spill, 0, SEEK_SET) != 0)
    return -1;
  /* The spill file holds "\n {...}" then ",\n {...}" per entry: one entry per line. */
  while (rc == 0 && (n = getline(&line, &cap, d->spill)) > 0) {
    size_t len = (size_t)n;
    const char *p = line;
    while (len && (p[len - 1] == '\n' || p[len - 1] == ','))
      len--;
    while (len && *p == ' ') {
      p++;
      len--;
    }
    if (len)
      rc = fn(u, p, len);
  }
  if (rc == 0 && ferror(d->spill))
    rc = -1;
  free(line);
  return rc;
}
