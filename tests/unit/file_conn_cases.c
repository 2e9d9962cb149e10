/* file_conn_cases — runs one file-connector case (tests/connectors/file/README.md): steps
 * that write files, import through connector_find("file"), export, and show files, in a
 * scratch directory; the output must equal the case's .expected file.  `--print` prints the
 * output instead (to write an .expected file, then read it).  Memory: per step. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "schema/json_str.h"
#include "schema/value_json.h"
#include "test_file.h"

#define MAX_SETTINGS 32
#define MAX_LIST 64
#define MAX_EXPORTS 64
#define MAX_ATTRS 64

typedef struct lines {
  char **v;
  size_t n, i;
} lines;

typedef struct ctx {
  const char *case_dir;
  const char *case_name;
  buf out;
  /* config */
  conn_setting settings[MAX_SETTINGS];
  char *keys[MAX_SETTINGS], *vals[MAX_SETTINGS];
  size_t n_settings;
  char *attrs[MAX_LIST], *refs[MAX_LIST];
  size_t n_attrs, n_refs;
  char *types;
  char *shape;
  char *watermark;
  bool stop_after; /* the sink stops the import after the first object */
  /* objects of the current import, rendered */
  char **objs;
  size_t n_objs, cap_objs;
} ctx;

static void out(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(ctx *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&c->out, fmt, ap);
  va_end(ap);
}

static int split_lines(char *text, lines *l)
{
  size_t cap = 64;
  l->v = malloc(cap * sizeof *l->v);
  l->n = l->i = 0;
  for (char *p = text; p && *p;) {
    char *nl = strchr(p, '\n');
    if (nl)
      *nl = '\0';
    if (l->n == cap)
      l->v = realloc(l->v, (cap *= 2) * sizeof *l->v);
    l->v[l->n++] = p;
    p = nl ? nl + 1 : NULL;
  }
  return 0;
}

/* ---- rendering what the connector delivers ---- */

static int cmp_attr(const void *a, const void *b)
{
  const conn_attr *x = a, *y = b;
  int c = strcasecmp(x->name, y->name);
  return c ? c : (int)x->op - (int)y->op;
}

static const char *change_name(conn_change ch)
{
  static const char *const names[] = {"full", "add", "update", "delete"};
  return names[ch];
}

static int sink_object(void *u, const conn_object *o)
{
  static const char *const ops[] = {"replace", "add", "delete"};
  ctx *c = u;
  buf b;
  conn_attr *attrs = malloc((o->n_attrs + 1) * sizeof *attrs);

  buf_init(&b, 0);
  memcpy(attrs, o->attrs, o->n_attrs * sizeof *attrs);
  qsort(attrs, o->n_attrs, sizeof *attrs, cmp_attr);
  buf_printf(&b, "{\"change\": \"%s\", \"anchor\": ", change_name(o->change));
  json_str_write(&b, o->anchor, strlen(o->anchor));
  buf_adds(&b, ", \"dn\": ");
  if (o->dn)
    json_str_write(&b, o->dn, strlen(o->dn));
  else
    buf_adds(&b, "null");
  buf_printf(&b, ", \"type\": \"%s\", \"origin\": \"%s\", \"attrs\": {", o->object_type,
             o->origin ? o->origin : "");
  for (size_t i = 0; i < o->n_attrs; i++) {
    bool same = i > 0 && strcasecmp(attrs[i - 1].name, attrs[i].name) == 0;
    if (!same) {
      buf_adds(&b, i ? "}, " : "");
      json_str_write(&b, attrs[i].name, strlen(attrs[i].name));
      buf_adds(&b, ": {");
    } else {
      buf_adds(&b, ", ");
    }
    buf_printf(&b, "\"%s\": ", ops[attrs[i].op]);
    value_json_write(&b, attrs[i].value);
  }
  buf_adds(&b, o->n_attrs ? "}}}" : "}}");
  free(attrs);
  if (c->n_objs == c->cap_objs)
    c->objs =
        realloc(c->objs, (c->cap_objs = c->cap_objs ? c->cap_objs * 2 : 16) * sizeof *c->objs);
  c->objs[c->n_objs++] = buf_detach(&b);
  return c->stop_after;
}

static void sink_error(void *u, const char *origin, const char *message)
{
  out(u, "object error: %s: %s\n", origin, message);
}

static void sink_log(void *u, const char *message) { out(u, "log: %s\n", message); }

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *rc_name(int rc)
{
  static const char *const names[] = {"ok",      "config",    "io",   "data",
                                      "aborted", "watermark", "nomem"};
  return rc >= 0 && rc <= 6 ? names[rc] : "?";
}

/* ---- steps ---- */

static void build_config(ctx *c, conn_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->name = c->case_name;
  cfg->type = "file";
  cfg->shape = c->shape;
  for (size_t i = 0; i < c->n_settings; i++)
    c->settings[i] = (conn_setting){c->keys[i], c->vals[i]};
  cfg->settings = c->settings;
  cfg->n_settings = c->n_settings;
  cfg->attrs = (const char *const *)c->attrs;
  cfg->n_attrs = c->n_attrs;
  cfg->ref_attrs = (const char *const *)c->refs;
  cfg->n_ref_attrs = c->n_refs;
  cfg->object_types_csv = c->types;
}

static void free_config(ctx *c)
{
  for (size_t i = 0; i < c->n_settings; i++) {
    free(c->keys[i]);
    free(c->vals[i]);
  }
  for (size_t i = 0; i < c->n_attrs; i++)
    free(c->attrs[i]);
  for (size_t i = 0; i < c->n_refs; i++)
    free(c->refs[i]);
  free(c->types);
  free(c->shape);
  c->n_settings = c->n_attrs = c->n_refs = 0;
  c->types = c->shape = NULL;
  c->stop_after = false;
}

static size_t split_list(const char *s, char **out)
{
  size_t n = 0;
  while (*s && n < MAX_LIST) {
    size_t len = strcspn(s, ",");
    out[n++] = strndup(s, len);
    s += len + (s[len] == ',');
  }
  return n;
}

/* "config key=value ...": attrs=, refs=, types=, config-shape= (conn_config.shape), stop
 * (the sink stops the import after one object); anything else is a connector setting. */
static void step_config(ctx *c, char *args)
{
  free_config(c);
  for (char *t = strtok(args, " "); t; t = strtok(NULL, " ")) {
    char *eq = strchr(t, '=');
    if (strcmp(t, "stop") == 0) {
      c->stop_after = true;
      continue;
    }
    if (!eq)
      continue;
    *eq = '\0';
    if (strcmp(t, "attrs") == 0)
      c->n_attrs = split_list(eq + 1, c->attrs);
    else if (strcmp(t, "refs") == 0)
      c->n_refs = split_list(eq + 1, c->refs);
    else if (strcmp(t, "types") == 0)
      c->types = strdup(eq + 1);
    else if (strcmp(t, "config-shape") == 0)
      c->shape = strdup(eq + 1);
    else if (c->n_settings < MAX_SETTINGS) {
      c->keys[c->n_settings] = strdup(t);
      c->vals[c->n_settings++] = strdup(eq + 1);
    }
  }
}

static int open_conn(ctx *c, const connector_ops **ops, connector **conn)
{
  conn_config cfg;
  char *err = NULL;
  int rc;
  build_config(c, &cfg);
  *ops = connector_find("file");
  rc = (*ops)->open(&cfg, conn, &err);
  if (rc != CONN_OK) {
    out(c, "open: %s: %s\n", rc_name(rc), err ? err : "");
    free(err);
  }
  return rc;
}

static void step_import(ctx *c, char *args)
{
  const connector_ops *ops;
  connector *conn;
  conn_sink sink = {sink_object, sink_error, sink_log, c, NULL};
  bool delta = strncmp(args, "delta", 5) == 0;
  char *wm_arg = strstr(args, "watermark="), *new_wm = NULL, *err = NULL;
  const char *wm = wm_arg ? wm_arg + 10 : c->watermark;
  int rc;

  out(c, "== import %s\n", args);
  if (open_conn(c, &ops, &conn) != CONN_OK)
    return;
  rc = ops->import(conn, delta ? CONN_IMPORT_DELTA : CONN_IMPORT_FULL, wm, &sink, &new_wm, &err);
  /* A full import delivers in no particular order: sort it.  A delta keeps the log's order. */
  if (!delta && c->n_objs)
    qsort(c->objs, c->n_objs, sizeof *c->objs, cmp_str);
  for (size_t i = 0; i < c->n_objs; i++) {
    out(c, "%s\n", c->objs[i]);
    free(c->objs[i]);
  }
  c->n_objs = 0;
  if (rc == CONN_OK) {
    out(c, "-> ok, watermark %.*s\n", new_wm ? (int)strcspn(new_wm, ":") : 4,
        new_wm ? new_wm : "none");
    free(c->watermark);
    c->watermark = new_wm;
  } else {
    out(c, "-> %s: %s\n", rc_name(rc), err ? err : "(no message)");
    free(new_wm);
  }
  free(err);
  ops->close(conn);
}

/* Export lines: "add TYPE DN", "update ANCHOR", "delete ANCHOR", "rename ANCHOR NEWDN", each
 * followed by "  OP ATTR [JSON]" lines (OP replace, add or delete). */
static void step_export(ctx *c, lines *l)
{
  conn_export ex[MAX_EXPORTS];
  conn_attr attrs[MAX_EXPORTS][MAX_ATTRS];
  conn_export_result res[MAX_EXPORTS];
  mvs_arena *a = mvs_arena_new(0);
  const connector_ops *ops;
  connector *conn;
  size_t n = 0;
  char *err = NULL;
  int rc;

  memset(ex, 0, sizeof ex);
  out(c, "== export\n");
  while (l->i < l->n && strcmp(l->v[l->i], ".") != 0) {
    char *line = l->v[l->i++];
    if (line[0] == ' ') {
      char op[16], name[256];
      int used = 0;
      conn_export *e = &ex[n ? n - 1 : 0];
      conn_attr *at = &attrs[n ? n - 1 : 0][e->n_attrs];
      char errbuf[256];
      if (n == 0 || e->n_attrs == MAX_ATTRS ||
          sscanf(line, " %15s %255s %n", op, name, &used) < 2) {
        out(c, "bad export line in case: %s\n", line);
        continue;
      }
      at->name = mvs_arena_memdup(a, name, strlen(name));
      at->op = strcmp(op, "add") == 0      ? CONN_ATTR_ADD
               : strcmp(op, "delete") == 0 ? CONN_ATTR_DELETE
                                           : CONN_ATTR_REPLACE;
      at->value = mvs_null();
      if (used && line[used] &&
          value_json_parse(a, line + used, strlen(line + used), &at->value, errbuf, sizeof errbuf))
        out(c, "bad value in case: %s\n", errbuf);
      e->attrs = attrs[n - 1];
      e->n_attrs++;
      continue;
    }
    if (n == MAX_EXPORTS || !strtok(line, " ")) {
      out(c, "bad export line in case: %s\n", line);
      continue;
    }
    {
      char *op = line, *x = strtok(NULL, " "), *y = strtok(NULL, "");
      conn_export *e = &ex[n++];
      if (strcmp(op, "add") == 0) {
        e->op = CONN_EXPORT_ADD;
        e->object_type = x;
        e->dn = y;
      } else {
        e->op = strcmp(op, "update") == 0   ? CONN_EXPORT_UPDATE
                : strcmp(op, "delete") == 0 ? CONN_EXPORT_DELETE
                                            : CONN_EXPORT_RENAME;
        e->anchor = x;
        e->new_dn = y;
      }
    }
  }
  l->i++;
  if (open_conn(c, &ops, &conn) == CONN_OK) {
    rc = ops->export(conn, ex, n, NULL, res, &err);
    out(c, "-> %s%s%s\n", rc_name(rc), err ? ": " : "", err ? err : "");
    for (size_t i = 0; i < n; i++) {
      if (rc != CONN_OK)
        ;
      else if (res[i].ok)
        out(c, "%zu ok%s%s\n", i, res[i].anchor ? " anchor " : "",
            res[i].anchor ? res[i].anchor : "");
      else
        out(c, "%zu failed %d: %s\n", i, res[i].code, res[i].message ? res[i].message : "");
      free(res[i].anchor);
      free(res[i].message);
    }
    free(err);
    ops->close(conn);
  }
  mvs_arena_free(a);
}

static void step_write(ctx *c, lines *l, const char *name, const char *mode)
{
  FILE *f = fopen(name, mode);
  bool raw_end = false;
  while (l->i < l->n && strcmp(l->v[l->i], ".") != 0) {
    const char *line = l->v[l->i++];
    /* A line "\" ends the text without a final newline. */
    if (strcmp(line, "\\") == 0) {
      raw_end = true;
      continue;
    }
    if (f && !raw_end)
      fprintf(f, "%s\n", line);
  }
  l->i++;
  if (!f)
    out(c, "cannot write %s: %s\n", name, strerror(errno));
  else if (raw_end && fseek(f, -1, SEEK_END) == 0 && ftruncate(fileno(f), ftell(f)) != 0)
    out(c, "cannot cut %s\n", name);
  if (f)
    fclose(f);
}

static void step_show(ctx *c, const char *name)
{
  size_t n;
  char *p = test_read_file(name, &n);
  out(c, "== show %s\n%s", name, p ? p : "(missing)\n");
  if (p && n && p[n - 1] != '\n')
    out(c, "\\ (no newline at the end)\n");
  free(p);
}

static void step_copy(ctx *c, const char *src, const char *dst)
{
  char path[4096];
  size_t n;
  char *p;
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", c->case_dir, src);
  p = test_read_file(path, &n);
  if (!p || !(f = fopen(dst, "wb"))) {
    out(c, "cannot copy %s\n", src);
    free(p);
    return;
  }
  fwrite(p, 1, n, f);
  fclose(f);
  free(p);
}

static void run(ctx *c, lines *l)
{
  while (l->i < l->n) {
    char *line = l->v[l->i++], *arg;
    if (!line[0] || line[0] == '#')
      continue;
    arg = strchr(line, ' ');
    arg = arg ? arg + 1 : line + strlen(line);
    if (strncmp(line, "config", 6) == 0)
      step_config(c, arg);
    else if (strncmp(line, "import ", 7) == 0)
      step_import(c, arg);
    else if (strcmp(line, "export") == 0)
      step_export(c, l);
    else if (strncmp(line, "file ", 5) == 0)
      step_write(c, l, arg, "w");
    else if (strncmp(line, "append ", 7) == 0)
      step_write(c, l, arg, "a");
    else if (strncmp(line, "show ", 5) == 0)
      step_show(c, arg);
    else if (strncmp(line, "copy ", 5) == 0) {
      char *dst = strchr(arg, ' ');
      if (dst)
        *dst++ = '\0';
      step_copy(c, arg, dst ? dst : arg);
    } else if (strncmp(line, "echo ", 5) == 0)
      out(c, "%s\n", arg);
    else
      out(c, "unknown step: %s\n", line);
  }
}

static void remove_tree(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  if (d)
    closedir(d);
  rmdir(dir);
}

int main(int argc, char **argv);
int main(int argc, char **argv)
{
  bool print = argc == 3 && strcmp(argv[1], "--print") == 0;
  const char *case_path = argv[argc - 1];
  char abs_case[4096], dir_buf[4096], name_buf[4096], expected_path[4096],
      work[] = "/tmp/mvs-file-XXXXXX";
  char cwd[4096], *text, *want;
  size_t n, wn;
  ctx c;
  lines l;
  int fails = 0;

  if (argc < 2 || !realpath(case_path, abs_case) || !getcwd(cwd, sizeof cwd)) {
    fprintf(stderr, "usage: file_conn_cases [--print] CASE.case\n");
    return 2;
  }
  snprintf(dir_buf, sizeof dir_buf, "%s", abs_case);
  snprintf(name_buf, sizeof name_buf, "%s", abs_case);
  memset(&c, 0, sizeof c);
  c.case_dir = dirname(dir_buf);
  c.case_name = basename(name_buf);
  buf_init(&c.out, 0);
  if (!(text = test_read_file(abs_case, &n)) || !mkdtemp(work) || chdir(work) != 0) {
    fprintf(stderr, "%s: cannot set up: %s\n", case_path, strerror(errno));
    return 2;
  }
  split_lines(text, &l);
  run(&c, &l);
  if (chdir(cwd) != 0)
    perror(cwd);
  remove_tree(work);
  if (print) {
    fwrite(c.out.p, 1, c.out.len, stdout);
  } else {
    snprintf(expected_path, sizeof expected_path, "%.*s.expected",
             (int)(strlen(abs_case) - strlen(".case")), abs_case);
    want = test_read_file(expected_path, &wn);
    if (!want || wn != c.out.len || memcmp(want, c.out.p, wn) != 0) {
      fprintf(stderr, "%s: output differs from %s\n--- got:\n%s", case_path, expected_path,
              c.out.p ? c.out.p : "");
      fails = 1;
    } else {
      printf("%s: ok\n", case_path);
    }
    free(want);
  }
  free(l.v);
  free(text);
  free_config(&c);
  free(c.watermark);
  free(c.objs);
  buf_free(&c.out);
  return fails;
}
