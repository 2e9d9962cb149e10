/* rules_cases — runs the rule DSL cases in tests/rules/ (format: tests/rules/README.md).
 *   rules_cases good DIR   every *.rules file and subdirectory of DIR is a valid rule set
 *   rules_cases bad DIR    every *.rules file and subdirectory of DIR has a .expected file
 *   rules_cases set DIR    DIR itself is one valid rule set (the shipped examples)
 * Memory: each case builds and frees its own rule sets. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yajl/yajl_tree.h>

#include "rules/ruleset.h"
#include "test_file.h"

/* The "today" every case is checked against, so review-by warnings are reproducible. */
static const rule_date TODAY = {2026, 1, 15};

typedef struct source {
  char *name;   /* as diagnostics print it: relative to the case directory's parent */
  char *text;
  size_t len;
} source;

typedef struct rule_case {
  source files[32];
  size_t n;
} rule_case;

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dir that end in suffix (or are directories, with dirs). */
static size_t list_dir(const char *dir, const char *suffix, bool dirs, char **out, size_t max)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  size_t n = 0;

  if (!d)
    return 0;
  while ((de = readdir(d)) && n < max) {
    char path[4096];
    struct stat st;
    size_t len = strlen(de->d_name), sl = strlen(suffix);
    if (de->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (stat(path, &st) != 0)
      continue;
    if ((dirs && S_ISDIR(st.st_mode)) ||
        (S_ISREG(st.st_mode) && len > sl && strcmp(de->d_name + len - sl, suffix) == 0))
      out[n++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(out, n, sizeof *out, cmp_str);
  return n;
}

static void case_free(rule_case *c)
{
  size_t i;
  for (i = 0; i < c->n; i++) {
    free(c->files[i].name);
    free(c->files[i].text);
  }
  c->n = 0;
}

/* Load case `entry` of dir: a .rules file, or a directory of them (names "entry/x.rules"). */
static int case_load(const char *dir, const char *entry, rule_case *c)
{
  char path[4096], *names[32];
  struct stat st;
  size_t i, n;

  snprintf(path, sizeof path, "%s/%s", dir, entry);
  if (stat(path, &st) != 0)
    return -1;
  if (!S_ISDIR(st.st_mode)) {
    c->files[0].name = strdup(entry);
    c->files[0].text = test_read_file(path, &c->files[0].len);
    c->n = 1;
    return c->files[0].text ? 0 : -1;
  }
  n = list_dir(path, ".rules", false, names, 32);
  for (i = 0; i < n; i++) {
    char full[8192], name[4096];
    snprintf(full, sizeof full, "%s/%s", path, names[i]);
    snprintf(name, sizeof name, "%s/%s", entry, names[i]);
    c->files[c->n].name = strdup(name);
    c->files[c->n].text = test_read_file(full, &c->files[c->n].len);
    c->n++;
    free(names[i]);
    if (!c->files[c->n - 1].text)
      return -1;
  }
  return n ? 0 : -1;
}

/* Parse the files (texts[i] overrides the case's text when given) and check the set. */
static rule_set *build(const rule_case *c, char **texts, rule_diags *d)
{
  rule_set *rs = rule_set_new();
  size_t i;
  if (!rs)
    return NULL;
  for (i = 0; i < c->n; i++) {
    const char *t = texts ? texts[i] : c->files[i].text;
    size_t len = texts ? strlen(texts[i]) : c->files[i].len;
    rule_set_parse(rs, c->files[i].name, t, len, d);
  }
  rule_set_check(rs, TODAY, d);
  rule_diags_sort(d);
  return rs;
}

static char *diag_text(const rule_diags *d)
{
  buf b;
  buf_init(&b, 0);
  rule_diags_format(d, &b);
  return buf_detach(&b);
}

static char *json_of(const rule_set *rs)
{
  buf b;
  char err[256];
  yajl_val tree;

  buf_init(&b, 0);
  if (rule_set_to_json(rs, 0, &b) != RULE_OK) {
    buf_free(&b);
    return NULL;
  }
  /* The JSON must be well-formed (yajl is the judge). */
  tree = yajl_tree_parse(b.p, err, sizeof err);
  if (!tree) {
    fprintf(stderr, "  rule_set_to_json gave invalid JSON: %s\n%s\n", err, b.p);
    buf_free(&b);
    return NULL;
  }
  yajl_tree_free(tree);
  return buf_detach(&b);
}

/* The case name without ".rules": its .expected and .json files are named after it. */
static int stem_len(const char *entry)
{
  size_t n = strlen(entry);
  return (int)(n > 6 && strcmp(entry + n - 6, ".rules") == 0 ? n - 6 : n);
}

static int fail(const char *what, const char *name, const char *detail)
{
  fprintf(stderr, "FAIL %s: %s\n%s%s", name, what, detail ? detail : "",
          detail && *detail && detail[strlen(detail) - 1] != '\n' ? "\n" : "");
  return 1;
}

/* A valid set: no diagnostics; fmt is idempotent and keeps the meaning (same JSON); the
 * JSON matches DIR/entry.json when that file exists. */
static int run_good(const char *dir, const char *entry, rule_case *c)
{
  rule_diags d, d2;
  rule_set *rs = NULL, *rs2 = NULL;
  char *texts[32] = {0}, *texts2[32] = {0}, *diags = NULL, *json = NULL, *json2 = NULL;
  char path[4096], *want = NULL;
  size_t i, wlen;
  int failed = 0;

  rule_diags_init(&d);
  rule_diags_init(&d2);
  if (!(rs = build(c, NULL, &d)))
    return fail("out of memory", entry, NULL);
  if (d.n) {
    failed = fail("expected no diagnostics", entry, diags = diag_text(&d));
    goto out;
  }
  for (i = 0; i < c->n; i++) {
    buf b;
    buf_init(&b, 0);
    rule_fmt_file(rs, i, &b);
    texts[i] = buf_detach(&b);
  }
  rs2 = build(c, texts, &d2);
  if (!rs2 || d2.n) {
    failed = fail("formatted text does not check clean", entry, diags = diag_text(&d2));
    goto out;
  }
  for (i = 0; i < c->n; i++) {
    buf b;
    buf_init(&b, 0);
    rule_fmt_file(rs2, i, &b);
    texts2[i] = buf_detach(&b);
    if (strcmp(texts[i], texts2[i]) != 0) {
      fprintf(stderr, "--- fmt:\n%s--- fmt(fmt):\n%s", texts[i], texts2[i]);
      failed = fail("fmt is not idempotent", c->files[i].name, NULL);
      goto out;
    }
  }
  json = json_of(rs);
  json2 = json_of(rs2);
  if (!json || !json2 || strcmp(json, json2) != 0) {
    fprintf(stderr, "--- JSON of the file:\n%s--- JSON of its formatted text:\n%s",
            json ? json : "", json2 ? json2 : "");
    failed = fail("formatting changed the meaning", entry, NULL);
    goto out;
  }
  snprintf(path, sizeof path, "%s/%.*s.json", dir, stem_len(entry), entry);
  if ((want = test_read_file(path, &wlen)) && strcmp(want, json) != 0) {
    fprintf(stderr, "--- want:\n%s--- got:\n%s", want, json);
    failed = fail("JSON differs from the .json file", entry, NULL);
  }
out:
  for (i = 0; i < 32; i++) {
    free(texts[i]);
    free(texts2[i]);
  }
  free(want);
  free(diags);
  free(json);
  free(json2);
  rule_set_free(rs);
  rule_set_free(rs2);
  rule_diags_free(&d);
  rule_diags_free(&d2);
  return failed;
}

/* An invalid set: exactly the diagnostics of DIR/entry-without-.rules.expected. */
static int run_bad(const char *dir, const char *entry, rule_case *c)
{
  rule_diags d;
  rule_set *rs;
  char path[4096], *want, *got;
  size_t wlen;
  int failed = 0;

  snprintf(path, sizeof path, "%s/%.*s.expected", dir, stem_len(entry), entry);
  if (!(want = test_read_file(path, &wlen)))
    return fail("missing .expected file", path, NULL);
  rule_diags_init(&d);
  rs = build(c, NULL, &d);
  got = diag_text(&d);
  if (strcmp(want, got) != 0) {
    fprintf(stderr, "--- want:\n%s--- got:\n%s", want, got);
    failed = fail("diagnostics differ", entry, NULL);
  }
  free(want);
  free(got);
  rule_set_free(rs);
  rule_diags_free(&d);
  return failed;
}

int main(int argc, char **argv)
{
  char *entries[512];
  const char *mode, *dir;
  size_t i, n;
  int failures = 0;

  if (argc != 3) {
    fprintf(stderr, "usage: rules_cases good|bad|set DIR\n");
    return 2;
  }
  mode = argv[1];
  dir = argv[2];
  if (strcmp(mode, "set") == 0) {
    rule_case c = {0};
    char parent[4096], *slash;
    snprintf(parent, sizeof parent, "%s", dir);
    slash = strrchr(parent, '/');
    if (!slash)
      return fail("set DIR needs a parent directory", dir, NULL);
    *slash = '\0';
    if (case_load(parent, slash + 1, &c) != 0)
      return fail("cannot read the rule set", dir, NULL);
    failures = run_good(parent, slash + 1, &c);
    case_free(&c);
    printf("%s: %s\n", dir, failures ? "FAILED" : "ok");
    return failures != 0;
  }
  n = list_dir(dir, ".rules", true, entries, 512);
  for (i = 0; i < n; i++) {
    rule_case c = {0};
    if (case_load(dir, entries[i], &c) != 0)
      failures += fail("cannot read the case", entries[i], NULL);
    else if (strcmp(mode, "good") == 0)
      failures += run_good(dir, entries[i], &c);
    else
      failures += run_bad(dir, entries[i], &c);
    case_free(&c);
    free(entries[i]);
  }
  printf("%zu cases, %d failed\n", n, failures);
  return failures != 0 || n == 0;
}
