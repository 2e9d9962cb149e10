/* cli_expr — `mvsync expr`: evaluate one expression against attribute values given on the
 * command line or in a JSON file.  Memory: everything lives in one arena freed on return. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/rule_files.h"
#include "rules/expr.h"
#include "schema/array.h"
#include "schema/utf8.h"
#include "tools/cli.h"
#include "schema/value_json.h"

typedef struct attr_entry {
  const char *name;
  mvs_value v;
} attr_entry;

typedef struct attr_table {
  attr_entry *e;
  size_t n, cap;
} attr_table;

static mvs_value table_attr(void *u, const char *name, size_t n)
{
  const attr_table *t = u;
  size_t i;
  for (i = 0; i < t->n; i++)
    if (strlen(t->e[i].name) == n && memcmp(t->e[i].name, name, n) == 0)
      return t->e[i].v;
  return mvs_null();
}

static mvs_value attr_of_tables(void *u, const char *name, size_t n)
{
  return table_attr(((attr_table *const *)u)[0], name, n);
}

/* %NAME% from --param: the value given, -1 (unknown parameter) otherwise. */
static int table_param(void *u, const char *name, size_t n, mvs_value *out)
{
  attr_table *params = ((attr_table *const *)u)[1];
  *out = table_attr(params, name, n);
  return out->type == MVS_V_NULL ? -1 : 0;
}

/* Add one value to `name`: a second value makes the attribute multi-valued. */
static int table_add(attr_table *t, mvs_arena *a, const char *name, mvs_value v)
{
  size_t i;
  for (i = 0; i < t->n; i++)
    if (strcmp(t->e[i].name, name) == 0) {
      mvs_value old = t->e[i].v, *items;
      size_t k, n = mvs_count(old);
      items = mvs_arena_alloc(a, (n + 1) * sizeof *items);
      if (!items)
        return -1;
      for (k = 0; k < n; k++)
        items[k] = mvs_item(old, k);
      items[n] = v;
      return mvs_mv_make(a, items, n + 1, &t->e[i].v);
    }
  if (array_reserve_in(a, &t->e, t->n, &t->cap, t->n + 1, sizeof *t->e) != 0)
    return -1;
  t->e[t->n].name = name;
  t->e[t->n].v = v;
  t->n++;
  return 0;
}

/* Column (1-based, in characters) and line of a byte offset in src. */
static void offset_pos(const char *src, size_t len, size_t off, size_t *line, size_t *col)
{
  size_t i = 0, l = 1, c = 1, step;
  if (off > len)
    off = len;
  while (i < off) {
    if (src[i] == '\n') {
      l++;
      c = 1;
      i++;
      continue;
    }
    utf8_decode(src + i, len - i, &step);
    i += step;
    c++;
  }
  *line = l;
  *col = c;
}

static int print_plain(mvs_arena *a, mvs_value v)
{
  size_t i, n = mvs_count(v);
  for (i = 0; i < n; i++) {
    const char *p;
    size_t len;
    if (mvs_to_str(a, mvs_item(v, i), &p, &len) != 0)
      return -1;
    fwrite(p, 1, len, stdout);
    fputc('\n', stdout);
  }
  return 0;
}

static int print_json(mvs_value v)
{
  buf b;
  int rc;
  buf_init(&b, 0);
  rc = buf_adds(&b, "{\"value\": ");
  if (rc == 0)
    rc = value_json_write(&b, v);
  if (rc == 0 && v.type == MVS_V_AUTHNULL)
    rc = buf_adds(&b, ", \"flow\": \"AuthoritativeNull\"");
  if (rc == 0 && v.type == MVS_V_IGNORE)
    rc = buf_adds(&b, ", \"flow\": \"IgnoreThisFlow\"");
  if (rc == 0)
    rc = buf_adds(&b, "}\n");
  if (rc == 0)
    fputs(b.p, stdout);
  buf_free(&b);
  return rc ? -1 : 0;
}

/* --attr/--param NAME=VALUE, each given value added to its table. */
static int add_pairs(const cli_args *ca, const char *opt, attr_table *t, mvs_arena *a)
{
  const char *const *kvs;
  size_t i, n = cli_values(ca, opt, &kvs);
  for (i = 0; i < n; i++) {
    const char *eq = strchr(kvs[i], '=');
    mvs_value v;
    char *name;
    if (!eq || eq == kvs[i])
      return cli_usage_error(ca, "--%s takes NAME=VALUE, got '%s'", opt, kvs[i]);
    name = mvs_arena_memdup(a, kvs[i], (size_t)(eq - kvs[i]));
    if (!name || mvs_str_copy(a, eq + 1, strlen(eq + 1), &v) != 0 || table_add(t, a, name, v) != 0)
      return MVS_EXIT_SYSTEM;
  }
  return MVS_EXIT_OK;
}

static int expr_run(const cli_args *ca)
{
  mvs_arena *a = mvs_arena_new(0);
  attr_table attrs = {0}, params = {0};
  attr_table *tables[2] = {&attrs, &params};
  expr_dialect dialect = EXPR_CONNECT;
  int auto_dialect = 1;
  const char *src = ca->args[0], *object_path = cli_value(ca, "object"), *d, *t;
  int json = cli_flag(ca, "json"), rc = MVS_EXIT_USAGE;
  int64_t now = 0;
  int have_now = 0;
  uint64_t seed = (uint64_t)time(NULL);
  expr *e = NULL;
  expr_error err;
  mvs_value result;
  char *text = NULL;
  size_t text_len;

  if (!a)
    return MVS_EXIT_SYSTEM;
  if ((d = cli_value(ca, "dialect"))) {
    auto_dialect = strcmp(d, "auto") == 0;
    if (strcmp(d, "cloud") == 0)
      dialect = EXPR_CLOUD;
    else if (strcmp(d, "connect") != 0 && !auto_dialect) {
      rc = cli_usage_error(ca, "unknown dialect '%s' (expected connect, cloud or auto)", d);
      goto out;
    }
  }
  /* --param names a %NAME% parameter (Connect's Domain.FQDN, Connector.Name, ...). */
  if ((rc = add_pairs(ca, "attr", &attrs, a)) != MVS_EXIT_OK ||
      (rc = add_pairs(ca, "param", &params, a)) != MVS_EXIT_OK)
    goto out;
  rc = MVS_EXIT_USAGE;
  if ((t = cli_value(ca, "now"))) {
    if (mvs_dt_parse_iso(t, strlen(t), &now) != 0) {
      rc = cli_usage_error(ca, "--now takes an ISO 8601 time, got '%s'", t);
      goto out;
    }
    have_now = 1;
  }
  if ((t = cli_value(ca, "seed"))) {
    char *end;
    errno = 0;
    seed = strtoull(t, &end, 10);
    if (!*t || *end || errno || *t == '-') {
      rc = cli_usage_error(ca, "--seed takes a whole number, got '%s'", t);
      goto out;
    }
  }
  if (object_path) {
    value_json_field *fields;
    size_t nf, k;
    char msg[256];
    if (mvs_read_file(object_path, &text, &text_len) != 0) {
      perror(object_path);
      rc = MVS_EXIT_SYSTEM;
      goto out;
    }
    if (value_json_parse_object(a, text, text_len, &fields, &nf, msg, sizeof msg) != 0) {
      fprintf(stderr, "%s: error: %s\n", object_path, msg);
      rc = MVS_EXIT_INVALID;
      goto out;
    }
    for (k = 0; k < nf; k++) {
      size_t j, nv = mvs_count(fields[k].v);
      for (j = 0; j < nv; j++)
        if (table_add(&attrs, a, fields[k].name, mvs_item(fields[k].v, j)) != 0) {
          rc = MVS_EXIT_SYSTEM;
          goto out;
        }
    }
  }
  if (!have_now) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* .NET ticks of the Unix epoch: 621355968000000000 */
    now = INT64_C(621355968000000000) + (int64_t)ts.tv_sec * MVS_TICKS_PER_SEC +
          ts.tv_nsec / 100;
  }

  rc = expr_parse(src, strlen(src), dialect, &e, &err);
  if (rc != EXPR_OK && auto_dialect) {
    /* No --dialect: an expression only the Cloud Sync language accepts (Append, Coalesce,
     * ...) is evaluated as that; where both accept it, Connect's meaning wins. */
    expr_error cloud_err;
    if (expr_parse(src, strlen(src), EXPR_CLOUD, &e, &cloud_err) == EXPR_OK)
      rc = EXPR_OK;
  }
  if (rc != EXPR_OK) {
    size_t line, col;
    offset_pos(src, strlen(src), err.offset, &line, &col);
    fprintf(stderr, "expr:%zu:%zu: error: %s\n", line, col, err.msg);
    rc = MVS_EXIT_INVALID;
    goto out;
  }
  {
    expr_env env = {.attr = attr_of_tables, .param = table_param, .u = tables, .now = now,
                    .seed = seed};
    rc = expr_eval(e, &env, a, &result, &err);
  }
  if (rc != EXPR_OK) {
    fprintf(stderr, "expr: error: %s\n", err.msg);
    rc = MVS_EXIT_INVALID;
    goto out;
  }
  if ((json ? print_json(result) : print_plain(a, result)) != 0) {
    fprintf(stderr, "mvsync expr: out of memory\n");
    rc = MVS_EXIT_SYSTEM;
    goto out;
  }
  rc = MVS_EXIT_OK;
out:
  free(text);
  expr_free(e);
  mvs_arena_free(a);
  return rc;
}

static const cli_opt expr_opts[] = {
  {"dialect", CLI_ARG, "connect|cloud|auto",
   "The expression language: Connect Sync's, Cloud Sync's, or (auto, the default) Connect's "
   "where it parses, else Cloud Sync's.", 0, 0},
  {"attr", CLI_ARG, "NAME=VALUE",
   "An attribute value; repeat the NAME for a multi-valued attribute.", 0, CLI_REPEAT},
  {"param", CLI_ARG, "NAME=VALUE", "A %NAME% parameter (Domain.FQDN, Connector.Name, ...).", 0,
   CLI_REPEAT},
  {"object", CLI_ARG, "FILE.json", "Attribute values from a JSON object file.", 0, 0},
  {"now", CLI_ARG, "ISO8601", "The time Now() returns (default: the clock).", 0, 0},
  {"seed", CLI_ARG, "N", "The seed of RandomNum() (default: the clock).", 0, 0},
  {"json", CLI_NO_ARG, NULL,
   "The result as JSON: {\"value\": ...}, with \"flow\" for AuthoritativeNull and "
   "IgnoreThisFlow.", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

const cli_verb cli_expr_verb = {
  "expr", "evaluate an attribute-flow expression", "EXPRESSION", 1, 1, 0, expr_opts,
  "Quote the EXPRESSION; one that starts with - goes after --. A parse error is reported as "
  "expr:LINE:COL: error: and exits 1.",
  expr_run, NULL};
