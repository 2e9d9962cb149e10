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
#include "schema/json_str.h"
#include "tools/cli.h"

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

/* `rules check --json`: the verdict and every diagnostic, on stdout (the diagnostics are
 * sorted).  rs is NULL when the files could not be parsed at all. */
static int print_check_json(const rule_files *files, const rule_set *rs, const rule_diags *d)
{
  buf b;
  size_t i;
  int rc = 0;

  buf_init(&b, 0);
  buf_printf(&b, "{\"ok\": %s, \"files\": %zu, \"connectors\": %zu, \"rules\": %zu, "
             "\"collections\": %zu, \"errors\": %zu, \"warnings\": %zu, \"diagnostics\": [",
             d->n_errors ? "false" : "true", files->n, rs ? rs->n_connectors : 0,
             rs ? rs->n_rules : 0, rs ? rs->n_collections : 0, d->n_errors, d->n - d->n_errors);
  for (i = 0; i < d->n; i++) {
    const rule_diag *g = &d->items[i];
    buf_adds(&b, i ? ",\n  {\"file\": " : "\n  {\"file\": ");
    json_str_write(&b, g->file, strlen(g->file));
    buf_printf(&b, ", \"line\": %u, \"col\": %u, \"severity\": \"%s\", \"message\": ",
               (unsigned)g->line, (unsigned)g->col,
               g->severity == RULE_SEV_ERROR ? "error" : "warning");
    json_str_write(&b, g->message, strlen(g->message));
    buf_addc(&b, '}');
  }
  if (buf_adds(&b, d->n ? "\n]}\n" : "]}\n") != 0)
    rc = -1;
  else
    fputs(b.p, stdout);
  buf_free(&b);
  return rc;
}

static int rules_run(const cli_args *a);

static const cli_opt check_opts[] = {
  {"policy", CLI_NO_ARG, NULL,
   "Check the house policy too (docs/authority.md): every outbound rule to an AD-type "
   "connector carries owner, purpose and review-by (its own or its collection's); a passed "
   "review-by is an error, not a warning; writing userAccountControl, "
   "msDS-AllowedToDelegateTo, msDS-AllowedToActOnBehalfOfOtherIdentity or the members of a "
   "protected group of Active Directory needs allow ATTR in the rule.", 0, 0},
  {"today", CLI_ARG, "YYYY-MM-DD", "The date review-by is compared with (default: today, UTC).",
   0, 0},
  {"json", CLI_NO_ARG, NULL,
   "The verdict as JSON on stdout: ok, files, connectors, rules, collections, errors, "
   "warnings, and diagnostics (each with file, line, col, severity, message).", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};
static const cli_opt fmt_opts[] = {
  {"write", CLI_NO_ARG, NULL, "Rewrite the files whose text is not canonical.", 1, 0},
  {"check", CLI_NO_ARG, NULL,
   "List the files whose text is not canonical and exit 1 if there is one; write nothing.", 1, 0},
  {NULL, 0, NULL, NULL, 0, 0}};
static const cli_opt show_opts[] = {
  {"json", CLI_NO_ARG, NULL, "The parsed rule set as JSON (docs/rules-json.md).", 0, 0},
  {"positions", CLI_NO_ARG, NULL, "With --json: each item's file:line:col as \"pos\".", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

#define PATH_DETAIL \
  "PATH is a .rules file or a directory (all *.rules files in it, sorted); all PATHs " \
  "together are one rule set."
static const cli_verb check_verb = {
  "rules check", "parse and check a rule set: file:line:col: error: on stderr", "PATH...", 1, -1,
  0, check_opts, PATH_DETAIL, rules_run, NULL};
static const cli_verb fmt_verb = {
  "rules fmt", "print, rewrite or check the canonical form of rule files", "PATH...", 1, -1, 0,
  fmt_opts, PATH_DETAIL, rules_run, NULL};
static const cli_verb show_verb = {
  "rules show", "a summary of each rule and collection, or the rule set as JSON", "PATH...", 1,
  -1, 0, show_opts, PATH_DETAIL, rules_run, NULL};
static const cli_verb *const rules_subs[] = {&check_verb, &fmt_verb, &show_verb,
                                             &cli_rules_import_verb, NULL};
const cli_verb cli_rules_verb = {"rules", "check, format, show or import rule files", NULL, 0, 0,
                                 0, NULL, NULL, NULL, rules_subs};

static int rules_run(const cli_args *a)
{
  rule_files files = {0};
  char err[PATH_MAX + 256];
  rule_set *rs = NULL;
  rule_diags d;
  const cli_verb *sub = a->verb;
  bool json = sub != &fmt_verb && cli_flag(a, "json");
  bool policy = sub == &check_verb && cli_flag(a, "policy");
  rule_date today = today_utc();
  int i, rc = MVS_EXIT_USAGE;

  rule_diags_init(&d);
  if (sub == &check_verb && cli_value(a, "today")) {
    const char *t = cli_value(a, "today");
    char tail;
    if (sscanf(t, "%4d-%2d-%2d%c", &today.year, &today.month, &today.day, &tail) != 3 ||
        today.month < 1 || today.month > 12 || today.day < 1 || today.day > 31) {
      rc = cli_usage_error(a, "--today takes YYYY-MM-DD, got '%s'", t);
      goto out;
    }
  }
  if (sub == &show_verb && cli_flag(a, "positions") && !json) {
    rc = cli_usage_error(a, "--positions goes with --json");
    goto out;
  }
  for (i = 0; i < a->n_args; i++) {
    int frc = rule_files_add(&files, a->args[i], err, sizeof err);
    if (frc != RULE_FILES_OK) {
      rc = files_failed(frc, err);
      goto out;
    }
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
  if (sub != &fmt_verb &&
      (rule_set_check(rs, policy ? (rule_date){0, 0, 0} : today, &d) == RULE_NOMEM ||
       (policy && !d.n_errors && rule_set_policy(rs, today, &d) == RULE_NOMEM))) {
    rc = MVS_EXIT_SYSTEM;
    goto out;
  }
  if (sub == &check_verb && json) {
    rule_diags_sort(&d);
    rc = print_check_json(&files, rs, &d) != 0 ? MVS_EXIT_SYSTEM
         : d.n_errors                          ? MVS_EXIT_INVALID
                                               : MVS_EXIT_OK;
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
  if (sub == &fmt_verb) {
    rc = run_fmt(&files, rs, cli_flag(a, "write"), cli_flag(a, "check"));
  } else if (sub == &check_verb) {
    printf("ok: %zu file%s, %zu connector%s, %zu rule%s", files.n, files.n == 1 ? "" : "s",
           rs->n_connectors, rs->n_connectors == 1 ? "" : "s", rs->n_rules,
           rs->n_rules == 1 ? "" : "s");
    if (rs->n_collections)
      printf(", %zu collection%s", rs->n_collections, rs->n_collections == 1 ? "" : "s");
    printf("\n");
  } else if (json) {
    buf b;
    buf_init(&b, 0);
    if (rule_set_to_json(rs, cli_flag(a, "positions") ? RULE_JSON_POSITIONS : 0, &b) != RULE_OK)
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
