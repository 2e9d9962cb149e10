/* cli_authority — `mvsync authority`: the authority map of a rule set (who can set each
 * attribute, split authority, overlap with another engine, the writeback register), with the
 * store's facts when there is a store.  docs/authority.md.
 * Memory: the rule sets, the engine and the map are freed before returning. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/authority_report.h"
#include "engine/rule_files.h"
#include "tools/cli.h"

static void authority_usage(FILE *f)
{
  fprintf(f,
          "usage: mvsync authority [--json | --csv | --html] [--also PATH] [--today YYYY-MM-DD]\n"
          "                        [--rules PATH] [--store PATH] [CONNECTOR]\n"
          "Who can set each attribute (rules in precedence order, source, scope, owner /\n"
          "purpose / review-by), the findings (split, drift, overlap, ungoverned,\n"
          "review-passed) and the writeback register.  --rules: default $MVSYNC_RULES or\n"
          "./rules.  --store (default $MVSYNC_STORE, or ./mvsync.db when it exists) adds what\n"
          "the store knows: wins, drift, objects in scope.  --also PATH: another engine's rule\n"
          "set (an imported Connect Sync configuration): the attributes both write.\n");
}

static const struct option authority_opts[] = {
  {"json", no_argument, NULL, 'j'},
  {"csv", no_argument, NULL, 'c'},
  {"html", no_argument, NULL, 'H'},
  {"also", required_argument, NULL, 'a'},
  {"today", required_argument, NULL, 't'},
  {"rules", required_argument, NULL, 'r'},
  {"store", required_argument, NULL, 's'},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0},
};

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

int cli_authority(int argc, char **argv)
{
  const char *rules_path = getenv("MVSYNC_RULES") ? getenv("MVSYNC_RULES") : "rules";
  const char *store_path = getenv("MVSYNC_STORE"), *also_path = NULL, *connector = NULL;
  int format = AUTHORITY_TEXT, opt, rc = MVS_EXIT_USAGE;
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
  optind = 1;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":h", authority_opts, NULL)) != -1) {
    switch (opt) {
    case 'j': format = AUTHORITY_JSON; break;
    case 'c': format = AUTHORITY_CSV; break;
    case 'H': format = AUTHORITY_HTML; break;
    case 'a': also_path = optarg; break;
    case 'r': rules_path = optarg; break;
    case 's': store_path = optarg; break;
    case 't':
      if (parse_date(optarg, &today) != 0) {
        fprintf(stderr, "mvsync authority: --today takes YYYY-MM-DD, got '%s'\n", optarg);
        goto out;
      }
      break;
    case 'h':
      authority_usage(stdout);
      rc = MVS_EXIT_OK;
      goto out;
    default:
      fprintf(stderr, "mvsync authority: %s '%s'\n",
              opt == ':' ? "option needs a value:" : "unknown option", argv[optind - 1]);
      authority_usage(stderr);
      goto out;
    }
  }
  if (optind < argc)
    connector = argv[optind++];
  if (optind < argc) {
    fprintf(stderr, "mvsync authority: unexpected argument '%s'\n", argv[optind]);
    authority_usage(stderr);
    goto out;
  }
  if (!store_path && access("mvsync.db", F_OK) == 0)
    store_path = "mvsync.db";
  if (also_path && (rc = load_rules(also_path, today, &also)) != MVS_EXIT_OK)
    goto out;
  if (store_path) {
    if ((rc = engine_open(store_path, rules_path, &e, &err)) != ENGINE_OK) {
      fprintf(stderr, "mvsync authority: %s\n", err ? err : "cannot open the store");
      goto out;
    }
    if ((rc = engine_authority(e, also, connector, today, &m)) != ENGINE_OK) {
      fprintf(stderr, "mvsync authority: %s\n", engine_error(e));
      goto out;
    }
  } else {
    if ((rc = load_rules(rules_path, today, &rs)) != MVS_EXIT_OK)
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
