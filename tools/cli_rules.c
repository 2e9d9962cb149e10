/* cli_rules — `mvsync rules check|fmt|show`: validate, format or dump rule files.
 * Memory: the rule set, diagnostics and file texts are freed before returning. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/rule_files.h"
#include "rules/policy.h"
#include "rules/ruleset.h"
#include "tools/cli.h"

static void rules_usage(FILE *f)
{
  fprintf(f,
          "usage: mvsync rules check PATH... [--policy] [--today YYYY-MM-DD]\n"
          "       mvsync rules fmt PATH... [--write | --check]\n"
          "       mvsync rules show PATH... [--json [--positions]]\n"
          "       mvsync rules import connect PATH [--connectors DIR] [--out DIR]\n"
          "PATH is a .rules file or a directory (all *.rules files in it, sorted).\n");
}

/* A rule_files failure as an exit code, reported on stderr. */
static int files_failed(int rc, const char *err)
{
  if (rc == RULE_FILES_NOMEM) {
    fprintf(stderr, "mvsync rules: out of memory\n");
    return MVS_EXIT_SYSTEM;
  }
  fprintf(stderr, "mvsync rules: %s\n", err);
  return rc == RULE_FILES_EMPTY ? MVS_EXIT_INVALID : MVS_EXIT_SYSTEM;
}

static int print_diags(rule_diags *d)
{
  buf b;
  buf_init(&b, 0);
  rule_diags_sort(d);
  if (rule_diags_format(d, &b) != 0) {
    buf_free(&b);
    return -1;
  }
  if (b.len)
    fputs(b.p, stderr);
  buf_free(&b);
  return 0;
}

static rule_date today_utc(void)
{
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  return (rule_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

/* Write text to path through a temporary file and a rename, keeping the file's mode. */
static int write_file(const char *path, const char *text, size_t len)
{
  struct stat st;
  char *tmp = NULL;
  FILE *f = NULL;
  int rc = -1;

  if (asprintf(&tmp, "%s.fmt-tmp", path) < 0) {
    tmp = NULL;
    goto out;
  }
  if (!(f = fopen(tmp, "wb")))
    goto out;
  if (fwrite(text, 1, len, f) != len)
    goto out;
  if (stat(path, &st) == 0)
    fchmod(fileno(f), st.st_mode & 07777);
  if (fclose(f) != 0) {
    f = NULL;
    goto out;
  }
  f = NULL;
  if (rename(tmp, path) != 0)
    goto out;
  rc = 0;
out:
  if (f)
    fclose(f);
  if (rc != 0 && tmp)
    unlink(tmp);
  free(tmp);
  return rc;
}

static int run_fmt(rule_files *l, rule_set *rs, bool write, bool check)
{
  buf out;
  size_t i;
  int rc = MVS_EXIT_OK;

  buf_init(&out, 0);
  for (i = 0; i < l->n && rc != MVS_EXIT_SYSTEM; i++) {
    bool same;
    buf_reset(&out);
    if (rule_fmt_file(rs, i, &out) != RULE_OK) {
      rc = MVS_EXIT_SYSTEM;
      break;
    }
    same = out.len == l->lens[i] && memcmp(out.p, l->texts[i], out.len) == 0;
    if (check) {
      if (!same) {
        printf("%s\n", l->paths[i]);
        rc = MVS_EXIT_INVALID;
      }
    } else if (write) {
      if (!same && write_file(l->paths[i], out.p, out.len) != 0) {
        fprintf(stderr, "mvsync rules fmt: %s: %s\n", l->paths[i], strerror(errno));
        rc = MVS_EXIT_SYSTEM;
      }
    } else {
      if (l->n > 1)
        printf("%s==> %s <==\n", i ? "\n" : "", l->paths[i]);
      fwrite(out.p, 1, out.len, stdout);
    }
  }
  buf_free(&out);
  return rc;
}

static void print_summary(const rule_set *rs)
{
  size_t i;
  for (i = 0; i < rs->n_rules; i++) {
    const rule *r = &rs->rules[i];
    printf("%10ld  %-8s  %-10s  %-30s  %s%s\n", (long)r->precedence,
           rule_direction_name(r->direction), rule_link_name(r->link), r->connector, r->name,
           r->disabled ? "  (disabled)" : "");
  }
  for (i = 0; i < rs->n_collections; i++) {
    const rule_collection *c = &rs->collections[i];
    printf("%10s  %-8s  %-10s  %-30s  %s", "", "", "collection",
           c->source_type ? c->source_type : "", c->name);
    if (c->fields[RULE_F_REVIEW_BY].valid)
      printf("  (review by %04d-%02d-%02d)", c->review_by.year, c->review_by.month,
             c->review_by.day);
    printf("\n");
  }
}

enum rules_cmd { CMD_CHECK, CMD_FMT, CMD_SHOW };

int cli_rules(int argc, char **argv)
{
  rule_files files = {0};
  char err[PATH_MAX + 256];
  rule_set *rs = NULL;
  rule_diags d;
  const char *cmd;
  enum rules_cmd sub;
  bool write = false, check = false, json = false, positions = false, policy = false;
  rule_date today = today_utc();
  int i, rc = MVS_EXIT_USAGE;

  rule_diags_init(&d);
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    rules_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? MVS_EXIT_USAGE : MVS_EXIT_OK;
  }
  cmd = argv[1];
  if (strcmp(cmd, "import") == 0)
    return cli_rules_import(argc - 1, argv + 1);
  if (strcmp(cmd, "check") == 0)
    sub = CMD_CHECK;
  else if (strcmp(cmd, "fmt") == 0)
    sub = CMD_FMT;
  else if (strcmp(cmd, "show") == 0)
    sub = CMD_SHOW;
  else {
    fprintf(stderr, "mvsync rules: unknown subcommand '%s'\n", cmd);
    rules_usage(stderr);
    return MVS_EXIT_USAGE;
  }
  for (i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (sub == CMD_FMT && strcmp(a, "--write") == 0) {
      write = true;
    } else if (sub == CMD_FMT && strcmp(a, "--check") == 0) {
      check = true;
    } else if (sub == CMD_SHOW && strcmp(a, "--json") == 0) {
      json = true;
    } else if (sub == CMD_SHOW && strcmp(a, "--positions") == 0) {
      positions = true;
    } else if (sub == CMD_CHECK && strcmp(a, "--policy") == 0) {
      policy = true;
    } else if (sub == CMD_CHECK && strcmp(a, "--today") == 0 && i + 1 < argc) {
      const char *t = argv[++i];
      char tail;
      if (sscanf(t, "%4d-%2d-%2d%c", &today.year, &today.month, &today.day, &tail) != 3 ||
          today.month < 1 || today.month > 12 || today.day < 1 || today.day > 31) {
        fprintf(stderr, "mvsync rules check: --today takes YYYY-MM-DD, got '%s'\n", t);
        goto out;
      }
    } else if (a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "mvsync rules %s: unknown option '%s'\n", cmd, a);
      rules_usage(stderr);
      goto out;
    } else {
      int frc = rule_files_add(&files, a, err, sizeof err);
      if (frc != RULE_FILES_OK) {
        rc = files_failed(frc, err);
        goto out;
      }
    }
  }
  if (!files.n || (write && check) || (positions && !json)) {
    rules_usage(stderr);
    goto out;
  }
  if (!(rs = rule_set_new())) {
    rc = MVS_EXIT_SYSTEM;
    goto out;
  }
  if ((rc = rule_files_parse(&files, rs, &d, err, sizeof err)) != RULE_FILES_OK) {
    rc = files_failed(rc, err);
    goto out;
  }
  /* fmt needs only clean syntax; check and show judge the whole set.  Under the policy a
   * passed review is its error, not check's warning: check reviews against day zero. */
  if (sub != CMD_FMT && (rule_set_check(rs, policy ? (rule_date){0, 0, 0} : today, &d) == RULE_NOMEM ||
                         (policy && !d.n_errors && rule_set_policy(rs, today, &d) == RULE_NOMEM))) {
    rc = MVS_EXIT_SYSTEM;
    goto out;
  }
  if (print_diags(&d) != 0) {
    rc = MVS_EXIT_SYSTEM;
    goto out;
  }
  if (d.n_errors) {
    fprintf(stderr, "%zu error%s\n", d.n_errors, d.n_errors == 1 ? "" : "s");
    rc = MVS_EXIT_INVALID;
    goto out;
  }
  rc = MVS_EXIT_OK;
  if (sub == CMD_FMT) {
    rc = run_fmt(&files, rs, write, check);
  } else if (sub == CMD_CHECK) {
    printf("ok: %zu file%s, %zu connector%s, %zu rule%s", files.n, files.n == 1 ? "" : "s",
           rs->n_connectors, rs->n_connectors == 1 ? "" : "s", rs->n_rules,
           rs->n_rules == 1 ? "" : "s");
    if (rs->n_collections)
      printf(", %zu collection%s", rs->n_collections, rs->n_collections == 1 ? "" : "s");
    printf("\n");
  } else if (json) {
    buf b;
    buf_init(&b, 0);
    if (rule_set_to_json(rs, positions ? RULE_JSON_POSITIONS : 0, &b) != RULE_OK)
      rc = MVS_EXIT_SYSTEM;
    else
      fputs(b.p, stdout);
    buf_free(&b);
  } else {
    print_summary(rs);
  }
out:
  rule_set_free(rs);
  rule_diags_free(&d);
  rule_files_free(&files);
  return rc;
}
