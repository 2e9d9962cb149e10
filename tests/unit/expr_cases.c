/* expr_cases — runs the expression case files of tests/expr (format: tests/expr/README.md).
 * Memory: one arena per case, freed before the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules/expr.h"
#include "schema/utf8.h"
#include "schema/value_json.h"

#define MAX_ATTRS 64

typedef struct tcase {
  const char *file;
  int line;                 /* line of the first key */
  char *expr;
  expr_dialect dialect;
  struct { char *name; char *json; } attrs[MAX_ATTRS], params[MAX_ATTRS];
  int nattrs, nparams;
  char *now, *seed, *steps, *want, *want_count, *want_match, *error, *parse_error;
} tcase;

typedef struct binding { const char *name; mvs_value v; } binding;
typedef struct bindings { binding b[MAX_ATTRS]; int n; } bindings;

static mvs_value lookup(void *u, const char *name, size_t n)
{
  bindings *bs = u;
  for (int i = 0; i < bs->n; i++)
    if (strlen(bs->b[i].name) == n && memcmp(bs->b[i].name, name, n) == 0)
      return bs->b[i].v;
  return mvs_null();
}

static bindings *g_params;
static int param_lookup(void *u, const char *name, size_t n, mvs_value *out)
{
  (void)u;
  for (int i = 0; g_params && i < g_params->n; i++)
    if (strlen(g_params->b[i].name) == n && memcmp(g_params->b[i].name, name, n) == 0) {
      *out = g_params->b[i].v;
      return 0;
    }
  return -1;
}

static int fail(const tcase *c, const char *fmt, const char *a, const char *b)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* fmt is always a literal here */
  fprintf(stderr, "%s:%d: FAIL: %s\n  ", c->file, c->line, c->expr ? c->expr : "(no expr)");
  fprintf(stderr, fmt, a, b);
#pragma GCC diagnostic pop
  fputc('\n', stderr);
  return 1;
}

/* Bind NAME = JSON entries; repeated names accumulate values into a multi-valued attribute. */
static int bind(const tcase *c, mvs_arena *a, int n, char *(*names), char *(*jsons),
                bindings *out)
{
  char err[256];
  out->n = 0;
  for (int i = 0; i < n; i++) {
    mvs_value v;
    int k;
    if (value_json_parse(a, jsons[i], strlen(jsons[i]), &v, err, sizeof err) != 0)
      return fail(c, "bad JSON value '%s': %s", jsons[i], err);
    for (k = 0; k < out->n; k++)
      if (strcmp(out->b[k].name, names[i]) == 0)
        break;
    if (k == out->n) {
      out->b[out->n].name = names[i];
      out->b[out->n].v = v;
      out->n++;
      continue;
    }
    {
      mvs_value old = out->b[k].v;
      size_t no = mvs_count(old), nv = mvs_count(v), j;
      mvs_value *items = mvs_arena_alloc(a, (no + nv + 1) * sizeof *items);
      if (!items)
        return fail(c, "%s%s", "out of memory", "");
      for (j = 0; j < no; j++)
        items[j] = mvs_item(old, j);
      for (j = 0; j < nv; j++)
        items[no + j] = mvs_item(v, j);
      if (mvs_mv_make(a, items, no + nv, &out->b[k].v) != 0)
        return fail(c, "%s%s", "out of memory", "");
    }
  }
  return 0;
}

static char *render(mvs_value v)
{
  buf b;
  buf_init(&b, 0);
  if (v.type == MVS_V_AUTHNULL)
    buf_adds(&b, "AuthoritativeNull");
  else if (v.type == MVS_V_IGNORE)
    buf_adds(&b, "IgnoreThisFlow");
  else
    value_json_write(&b, v);
  return buf_detach(&b);
}

static int check_case(tcase *c)
{
  mvs_arena *a = mvs_arena_new(0);
  expr *e = NULL;
  expr_error err;
  mvs_value out;
  bindings attrs, params;
  char *names[MAX_ATTRS], *jsons[MAX_ATTRS];
  int rc, failed = 0;
  char *got = NULL;
  int64_t now;

  if (!c->expr) {
    failed = fail(c, "%s%s", "case has no expr", "");
    goto out;
  }
  rc = expr_parse(c->expr, strlen(c->expr), c->dialect, &e, &err);
  if (c->parse_error) {
    long col = strtol(c->parse_error, NULL, 10);
    const char *text = strchr(c->parse_error, ':');
    size_t gotcol = utf8_length(c->expr, err.offset < strlen(c->expr) ? err.offset
                                                                      : strlen(c->expr)) + 1;
    char gotmsg[320];
    if (rc == EXPR_OK) {
      failed = fail(c, "expected parse error '%s'%s, but it parsed", c->parse_error, "");
      goto out;
    }
    snprintf(gotmsg, sizeof gotmsg, "%zu: %s", gotcol, err.msg);
    if ((size_t)col != gotcol || !text || !strstr(err.msg, text + 1 + strspn(text + 1, " ")))
      failed = fail(c, "expected parse error '%s', got '%s'", c->parse_error, gotmsg);
    goto out;
  }
  if (rc != EXPR_OK) {
    failed = fail(c, "parse error: %s%s", err.msg, "");
    goto out;
  }
  for (int i = 0; i < c->nattrs; i++) {
    names[i] = c->attrs[i].name;
    jsons[i] = c->attrs[i].json;
  }
  if ((failed = bind(c, a, c->nattrs, names, jsons, &attrs)))
    goto out;
  for (int i = 0; i < c->nparams; i++) {
    names[i] = c->params[i].name;
    jsons[i] = c->params[i].json;
  }
  if ((failed = bind(c, a, c->nparams, names, jsons, &params)))
    goto out;
  g_params = &params;
  if (mvs_dt_parse_iso(c->now ? c->now : "2026-01-15T10:30:00Z",
                       strlen(c->now ? c->now : "2026-01-15T10:30:00Z"), &now) != 0) {
    failed = fail(c, "bad now '%s'%s", c->now, "");
    goto out;
  }
  {
    expr_env env = {.attr = lookup, .param = param_lookup, .u = &attrs, .now = now,
                    .seed = c->seed ? strtoull(c->seed, NULL, 10) : 1,
                    .max_steps = c->steps ? strtoull(c->steps, NULL, 10) : 0};
    rc = expr_eval(e, &env, a, &out, &err);
  }
  if (c->error) {
    if (rc == EXPR_OK) {
      got = render(out);
      failed = fail(c, "expected error '%s', got value %s", c->error, got);
    } else if (!strstr(err.msg, c->error)) {
      failed = fail(c, "expected error '%s', got error '%s'", c->error, err.msg);
    }
    goto out;
  }
  if (rc != EXPR_OK) {
    failed = fail(c, "unexpected error: %s%s", err.msg, "");
    goto out;
  }
  got = render(out);
  if (c->want) {
    char *want;
    mvs_value wv;
    char msg[256];
    if (strcmp(c->want, "AuthoritativeNull") == 0 || strcmp(c->want, "IgnoreThisFlow") == 0)
      want = strdup(c->want);
    else if (value_json_parse(a, c->want, strlen(c->want), &wv, msg, sizeof msg) != 0) {
      failed = fail(c, "bad want '%s': %s", c->want, msg);
      goto out;
    } else
      want = render(wv);
    if (strcmp(want, got) != 0)
      failed = fail(c, "want %s, got %s", want, got);
    free(want);
  }
  if (c->want_count && (long)mvs_count(out) != strtol(c->want_count, NULL, 10))
    failed = fail(c, "want %s values, got %s", c->want_count, got);
  if (c->want_match) {
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)c->want_match, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF, &errcode, &erroff, NULL);
    if (!re) {
      failed = fail(c, "bad want-match pattern '%s'%s", c->want_match, "");
      goto out;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    for (size_t i = 0; i < mvs_count(out); i++) {
      const char *p;
      size_t n;
      if (mvs_to_str(a, mvs_item(out, i), &p, &n) != 0 ||
          pcre2_match(re, (PCRE2_SPTR)p, n, 0, 0, md, NULL) < 0) {
        failed = fail(c, "value does not match '%s': %s", c->want_match, got);
        break;
      }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
  }
out:
  free(got);
  expr_free(e);
  mvs_arena_free(a);
  return failed;
}

static char *trim(char *s)
{
  char *end;
  while (*s == ' ' || *s == '\t')
    s++;
  end = s + strlen(s);
  while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
    *--end = '\0';
  return s;
}

/* "NAME = JSON" */
static int split_binding(const tcase *c, char *v, char **name, char **json)
{
  char *eq = strchr(v, '=');
  if (!eq)
    return fail(c, "expected NAME = JSON, got '%s'%s", v, "");
  *eq = '\0';
  *name = trim(v);
  *json = trim(eq + 1);
  return 0;
}

int main(int argc, char **argv)
{
  int total = 0, failures = 0;
  for (int fi = 1; fi < argc; fi++) {
    FILE *f = fopen(argv[fi], "r");
    char line[8192];
    int lineno = 0, in_case = 0;
    tcase c;

    if (!f) {
      perror(argv[fi]);
      return 2;
    }
    memset(&c, 0, sizeof c);
    for (;;) {
      char *got = fgets(line, sizeof line, f), *s, *key, *val;
      lineno++;
      s = got ? trim(line) : NULL;
      if (!got || *s == '\0') {
        if (in_case) {
          total++;
          failures += check_case(&c);
          /* case strings point into strdup'd copies: free them */
          free(c.expr); free(c.now); free(c.seed); free(c.steps); free(c.want); free(c.want_count);
          free(c.want_match); free(c.error); free(c.parse_error);
          for (int i = 0; i < c.nattrs; i++) free(c.attrs[i].name);
          for (int i = 0; i < c.nparams; i++) free(c.params[i].name);
          memset(&c, 0, sizeof c);
          in_case = 0;
        }
        if (!got)
          break;
        continue;
      }
      if (*s == '#')
        continue;
      if (!in_case) {
        in_case = 1;
        c.file = argv[fi];
        c.line = lineno;
      }
      key = s;
      val = s + strcspn(s, " \t");
      if (*val)
        *val++ = '\0';
      val = trim(val);
      if (strcmp(key, "expr") == 0) c.expr = strdup(val);
      else if (strcmp(key, "dialect") == 0) c.dialect = strcmp(val, "cloud") == 0 ? EXPR_CLOUD : EXPR_CONNECT;
      else if (strcmp(key, "now") == 0) c.now = strdup(val);
      else if (strcmp(key, "seed") == 0) c.seed = strdup(val);
      else if (strcmp(key, "steps") == 0) c.steps = strdup(val);
      else if (strcmp(key, "want") == 0) c.want = strdup(val);
      else if (strcmp(key, "want-count") == 0) c.want_count = strdup(val);
      else if (strcmp(key, "want-match") == 0) c.want_match = strdup(val);
      else if (strcmp(key, "error") == 0) c.error = strdup(val);
      else if (strcmp(key, "parse-error") == 0) c.parse_error = strdup(val);
      else if (strcmp(key, "attr") == 0 || strcmp(key, "param") == 0) {
        int isattr = key[0] == 'a';
        int *n = isattr ? &c.nattrs : &c.nparams;
        char *dup = strdup(val), *name = NULL, *json = NULL;
        if (*n >= MAX_ATTRS || split_binding(&c, dup, &name, &json)) {
          free(dup);
          failures++;
          continue;
        }
        /* name and json both point into dup; dup is freed through name's slot */
        memmove(dup, name, strlen(name) + 1);
        if (isattr) { c.attrs[*n].name = dup; c.attrs[*n].json = json; }
        else { c.params[*n].name = dup; c.params[*n].json = json; }
        (*n)++;
      } else {
        fprintf(stderr, "%s:%d: unknown key '%s'\n", argv[fi], lineno, key);
        failures++;
      }
    }
    fclose(f);
  }
  printf("%d cases, %d failed\n", total, failures);
  return failures ? 1 : 0;
}
