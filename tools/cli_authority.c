/* cli_authority — `mvsync authority`: the authority map of a rule set (who can set each
 * attribute, split authority, overlap with another engine, the writeback register), with the
 * store's facts when there is a store.  docs/authority.md.
 * Memory: the rule sets, the engine and the map are freed before returning. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/authority_report.h"
#include "engine/rule_files.h"
#include "tools/cli.h"

/* Load and check a rule set; diagnostics on stderr.  MVS_EXIT_OK or the exit code. */
static int load_rules(const char *path, rule_date today, rule_set **out)
{
  rule_files files = {0};
  char err[PATH_MAX + 256];
  rule_diags d;
  buf b;
  int rc = MVS_EXIT_SYSTEM, frc;

  rule_diags_init(&d);
  buf_init(&b, 0);
  *out = NULL;
  if ((frc = rule_files_add(&files, path, err, sizeof err)) != RULE_FILES_OK ||
      (*out = rule_set_new()) == NULL ||
      (frc = rule_files_parse(&files, *out, &d, err, sizeof err)) != RULE_FILES_OK) {
    fprintf(stderr, "mvsync authority: %s\n", *out || frc != RULE_FILES_OK ? err : "out of memory");
    rc = frc == RULE_FILES_EMPTY ? MVS_EXIT_INVALID : MVS_EXIT_SYSTEM;
    goto out;
  }
  if (rule_set_check(*out, today, &d) == RULE_NOMEM)
    goto out;
  rule_diags_sort(&d);
  if (d.n_errors) {
    rule_diags_format(&d, &b);
    fprintf(stderr, "%s%zu error%s\n", b.p ? b.p : "", d.n_errors, d.n_errors == 1 ? "" : "s");
    rc = MVS_EXIT_INVALID;
    goto out;
  }
  rc = MVS_EXIT_OK;
out:
  if (rc != MVS_EXIT_OK) {
    rule_set_free(*out);
    *out = NULL;
  }
  buf_free(&b);
  rule_diags_free(&d);
  rule_files_free(&files);
  return rc;
}

static int parse_date(const char *t, rule_date *d)
{
  char tail;
  return sscanf(t, "%4d-%2d-%2d%c", &d->year, &d->month, &d->day, &tail) == 3 &&
                 d->month >= 1 && d->month <= 12 && d->day >= 1 && d->day <= 31
             ? 0 : -1;
}

static int authority_run(const cli_args *a)
{
  /* Without --store (or $MVSYNC_STORE) the store is used only when ./mvsync.db exists: the
   * map of a rule set alone needs none. */
  const char *store_path =
      a->store_given || (getenv("MVSYNC_STORE") && *getenv("MVSYNC_STORE")) ||
              access(a->store, F_OK) == 0
          ? a->store
          : NULL;
  const char *also_path = cli_value(a, "also"), *connector = a->n_args ? a->args[0] : NULL;
  int format = cli_flag(a, "json") ? AUTHORITY_JSON : cli_flag(a, "csv") ? AUTHORITY_CSV
               : cli_flag(a, "html") ? AUTHORITY_HTML : AUTHORITY_TEXT;
  int rc = MVS_EXIT_USAGE;
  rule_set *rs = NULL, *also = NULL;
  mvs_engine *e = NULL;
  authority_map m = {0};
  time_t now = time(NULL);
  struct tm tm;
  rule_date today;
  char *err = NULL;
  buf out;

  gmtime_r(&now, &tm);
  today = (rule_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
  buf_init(&out, 0);
  if (cli_value(a, "today") && parse_date(cli_value(a, "today"), &today) != 0) {
    rc = cli_usage_error(a, "--today takes YYYY-MM-DD, got '%s'", cli_value(a, "today"));
    goto out;
  }
  if (also_path && (rc = load_rules(also_path, today, &also)) != MVS_EXIT_OK)
    goto out;
  if (store_path) {
    if ((rc = engine_open(store_path, a->rules, &e, &err)) != ENGINE_OK) {
      fprintf(stderr, "mvsync authority: %s\n", err ? err : "cannot open the store");
      goto out;
    }
    if ((rc = engine_authority(e, also, connector, today, &m)) != ENGINE_OK) {
      fprintf(stderr, "mvsync authority: %s\n", engine_error(e));
      goto out;
    }
  } else {
    if ((rc = load_rules(a->rules, today, &rs)) != MVS_EXIT_OK)
      goto out;
    if (authority_compute(rs, also, connector, today, &m) != 0) {
      fprintf(stderr, "mvsync authority: out of memory\n");
      rc = MVS_EXIT_SYSTEM;
      goto out;
    }
  }
  if (connector && !m.n_attrs && !m.n_reg) {
    fprintf(stderr, "mvsync authority: no rule of connector \"%s\" sets anything\n", connector);
    rc = MVS_EXIT_INVALID;
    goto out;
  }
  if (authority_render(&m, format, &out) != 0) {
    fprintf(stderr, "mvsync authority: out of memory\n");
    rc = MVS_EXIT_SYSTEM;
    goto out;
  }
  fwrite(out.p, 1, out.len, stdout);
  rc = MVS_EXIT_OK;
out:
  authority_free(&m);
  buf_free(&out);
  engine_close(e);
  rule_set_free(also);
  rule_set_free(rs);
  free(err);
  return rc;
}

static const cli_opt authority_opts[] = {
  {"json", CLI_NO_ARG, NULL, "The map as JSON: attributes, findings, register.", 1, 0},
  {"csv", CLI_NO_ARG, NULL, "The attribute table as CSV, one row per attribute and rule.", 1, 0},
  {"html", CLI_NO_ARG, NULL,
   "One self-contained HTML page (register, findings with their objects, detail per "
   "attribute), for a change board.", 1, 0},
  {"also", CLI_ARG, "PATH",
   "Another engine's rule set (an imported Connect Sync configuration, or another mvsync rule "
   "set): the attributes both write, and whether a joinnoflow pair keeps them apart.", 0, 0},
  {"today", CLI_ARG, "YYYY-MM-DD", "The date review-by dates are compared with (default: today, "
   "UTC).", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

const cli_verb cli_authority_verb = {
  "authority", "who decides each attribute; split authority, drift, the writeback register",
  "[CONNECTOR]", 0, 1, CLI_STORE, authority_opts,
  "Who can set each attribute (the rules in precedence order, source, scope, owner, purpose, "
  "review-by), the findings (split, drift, overlap, ungoverned, review-passed) and the "
  "writeback register, of every connector or of CONNECTOR. The store (--store, "
  "$MVSYNC_STORE, or ./mvsync.db when it exists) adds what it knows: which rule wins, drift, "
  "objects in scope; without one the rule set alone is mapped.",
  authority_run, NULL};
