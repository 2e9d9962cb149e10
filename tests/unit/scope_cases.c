/* scope_cases — runs the scoping-filter cases of one tests/scope file (format:
 * tests/scope/README.md).  Memory: one arena and one rule set per case, freed before the next. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/scope.h"
#include "schema/value_json.h"

#define MAX_ITEMS 32

typedef struct tcase {
  const char *file;
  int line;
  char *scope;
  struct { char *name; char *json; } attrs[MAX_ITEMS];
  char *members[MAX_ITEMS];
  int nattrs, nmembers;
  bool no_membership;
  char *want;
} tcase;

typedef struct object {
  struct { const char *name; mvs_value v; } attrs[MAX_ITEMS];
  int nattrs;
  const tcase *c;
} object;

static mvs_value object_attr(void *u, const char *name, size_t n)
{
  object *o = u;
  for (int i = 0; i < o->nattrs; i++)
    if (strlen(o->attrs[i].name) == n && memcmp(o->attrs[i].name, name, n) == 0)
      return o->attrs[i].v;
  return mvs_null();
}

/* Group DNs compare ignoring case, as DNs do. */
static int object_member_of(void *u, const char *dn, size_t n)
{
  object *o = u;
  for (int i = 0; i < o->c->nmembers; i++)
    if (strlen(o->c->members[i]) == n && strncasecmp(o->c->members[i], dn, n) == 0)
      return 1;
  return 0;
}

static int fail(const tcase *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const tcase *c, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "%s:%d: FAIL: scope { %s }\n  ", c->file, c->line, c->scope ? c->scope : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

/* Bind attributes; repeating a name adds values (a multi-valued attribute). */
static int bind(const tcase *c, mvs_arena *a, object *o)
{
  char err[256];
  o->nattrs = 0;
  o->c = c;
  for (int i = 0; i < c->nattrs; i++) {
    mvs_value v, *items;
    int k;
    if (value_json_parse(a, c->attrs[i].json, strlen(c->attrs[i].json), &v, err, sizeof err) != 0)
      return fail(c, "bad JSON value '%s': %s", c->attrs[i].json, err);
    for (k = 0; k < o->nattrs && strcmp(o->attrs[k].name, c->attrs[i].name) != 0; k++)
      ;
    if (k == o->nattrs) {
      o->attrs[o->nattrs].name = c->attrs[i].name;
      o->attrs[o->nattrs++].v = v;
      continue;
    }
    {
      mvs_value old = o->attrs[k].v;
      size_t no = mvs_count(old), nv = mvs_count(v), j;
      if (!(items = mvs_arena_alloc(a, (no + nv + 1) * sizeof *items)))
        return fail(c, "out of memory");
      for (j = 0; j < no; j++)
        items[j] = mvs_item(old, j);
      for (j = 0; j < nv; j++)
        items[no + j] = mvs_item(v, j);
      if (mvs_mv_make(a, items, no + nv, &o->attrs[k].v) != 0)
        return fail(c, "out of memory");
    }
  }
  return 0;
}

static int check_case(tcase *c)
{
  mvs_arena *a = mvs_arena_new(0);
  rule_set *rs = rule_set_new();
  rule_diags d;
  buf src, diags;
  object o;
  scope_verdict v;
  char got[96];
  int rc, failed = 0;

  rule_diags_init(&d);
  buf_init(&src, 0);
  buf_init(&diags, 0);
  if (!a || !rs) {
    failed = fail(c, "out of memory");
    goto out;
  }
  if (!c->scope || !c->want) {
    failed = fail(c, "a case needs 'scope' and 'want'");
    goto out;
  }
  buf_printf(&src, "rule \"case\" {\n  scope {\n    %s\n  }\n}\n", c->scope);
  if (rule_set_parse(rs, "case", src.p, src.len, &d) != RULE_OK || rs->n_rules != 1) {
    rule_diags_format(&d, &diags);
    failed = fail(c, "the scope does not parse:\n%s", diags.p ? diags.p : "");
    goto out;
  }
  if ((failed = bind(c, a, &o)))
    goto out;
  {
    scope_env env = {object_attr, c->no_membership ? NULL : object_member_of, &o};
    rc = rule_scope_eval(&rs->rules[0], &env, &v);
  }
  if (rc != 0)
    snprintf(got, sizeof got, "error");
  else if (v.in_scope)
    snprintf(got, sizeof got, "in %zu", v.group == SIZE_MAX ? (size_t)0 : v.group);
  else
    snprintf(got, sizeof got, "out %zu %zu", v.group, v.clause);
  /* "want in" and "want out" need not give the group and clause. */
  if (strncmp(got, c->want, strlen(c->want)) != 0 ||
      (got[strlen(c->want)] != '\0' && got[strlen(c->want)] != ' '))
    failed = fail(c, "want %s, got %s", c->want, got);
out:
  buf_free(&src);
  buf_free(&diags);
  rule_diags_free(&d);
  rule_set_free(rs);
  mvs_arena_free(a);
  return failed;
}

static char *trim(char *s)
{
  char *e;
  while (*s == ' ' || *s == '\t')
    s++;
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
    *--e = '\0';
  return s;
}

static void reset(tcase *c)
{
  for (int i = 0; i < c->nattrs; i++) {
    free(c->attrs[i].name);
    free(c->attrs[i].json);
  }
  for (int i = 0; i < c->nmembers; i++)
    free(c->members[i]);
  free(c->scope);
  free(c->want);
  memset(c, 0, sizeof *c);
}

int main(int argc, char **argv)
{
  FILE *f;
  char line[4096];
  tcase c = {0};
  int lineno = 0, cases = 0, failures = 0, in_case = 0;

  if (argc != 2 || !(f = fopen(argv[1], "r"))) {
    fprintf(stderr, "usage: scope_cases FILE.test\n");
    return 2;
  }
  for (;;) {
    char *got = fgets(line, sizeof line, f), *s, *key, *rest;
    lineno++;
    s = got ? trim(line) : NULL;
    if (!got || !*s) {
      if (in_case) {
        cases++;
        failures += check_case(&c);
        reset(&c);
        in_case = 0;
      }
      if (!got)
        break;
      continue;
    }
    if (*s == '#')
      continue;
    if (!in_case) {
      c.file = argv[1];
      c.line = lineno;
      in_case = 1;
    }
    key = s;
    rest = s + strcspn(s, " \t");
    if (*rest)
      *rest++ = '\0';
    rest = trim(rest);
    if (strcmp(key, "scope") == 0) {
      c.scope = strdup(rest);
    } else if (strcmp(key, "attr") == 0 && c.nattrs < MAX_ITEMS) {
      char *eq = strchr(rest, '=');
      if (!eq) {
        fprintf(stderr, "%s:%d: attr needs NAME = JSON\n", argv[1], lineno);
        return 2;
      }
      *eq = '\0';
      c.attrs[c.nattrs].name = strdup(trim(rest));
      c.attrs[c.nattrs++].json = strdup(trim(eq + 1));
    } else if (strcmp(key, "member") == 0 && c.nmembers < MAX_ITEMS) {
      c.members[c.nmembers++] = strdup(rest);
    } else if (strcmp(key, "no-membership") == 0) {
      c.no_membership = true;
    } else if (strcmp(key, "want") == 0) {
      c.want = strdup(rest);
    } else {
      fprintf(stderr, "%s:%d: unknown key '%s'\n", argv[1], lineno, key);
      return 2;
    }
  }
  fclose(f);
  printf("%s: %d cases, %d failed\n", argv[1], cases, failures);
  return failures != 0 || cases == 0;
}
