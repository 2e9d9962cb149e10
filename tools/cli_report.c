/* cli_report — `mvsync report`: a change review an architect attaches to a change request.
 * `--dry-run [--initial|--delta]` runs the cycle as a dry run (one transaction, rolled back)
 * and reports what it would do; `--run ID` (default: the last run) reports a recorded run —
 * its counts, its log and the exports still pending.  `--html` writes the self-contained page
 * (tools/cli_report_html.c), `--json` the same data as JSON.
 * Memory: the engine and every buffer are freed before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "schema/json_str.h"
#include "tools/cli.h"
#include "tools/cli_log.h"
#include "tools/cli_opt.h"
#include "tools/cli_report_html.h"

typedef struct report_args {
  const char *store, *rules, *connector;
  bool dry_run, initial, only_writes, html;
  int64_t run_id;
  int64_t wait_ms;
} report_args;

static const cli_opt report_opts[] = {
  {"dry-run", CLI_NO_ARG, NULL,
   "Run the cycle as a dry run (one transaction, rolled back; nothing is sent) and report it.",
   1, 0},
  {"run", CLI_ARG, "ID",
   "Report this recorded run (default: the last one; mvsync runs lists them).", 1, 0},
  {"initial", CLI_NO_ARG, NULL, "With --dry-run: full imports and a full sync.", 2, 0},
  {"delta", CLI_NO_ARG, NULL, "With --dry-run: delta steps (the default).", 2, 0},
  {"only-writes", CLI_NO_ARG, NULL,
   "With --dry-run: list only what would be written (and what the deletion threshold would "
   "hold back).", 0, 0},
  {"connector", CLI_ARG, "NAME", "With --dry-run: list only that connector's changes.", 0, 0},
  {"html", CLI_NO_ARG, NULL, "One self-contained HTML page on stdout.", 3, 0},
  {"json", CLI_NO_ARG, NULL, "The report's data as JSON on stdout.", 3, 0},
  {"wait", CLI_OPTIONAL_ARG, "SECONDS",
   "With --dry-run: wait for another run to release the store's writer lock (at most SECONDS "
   "when given, then exit 6) instead of exiting 6 at once.", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

static int report_verb(const cli_args *ca);

const cli_verb cli_report_verb = {
  "report", "a change review: a dry run or a recorded run as one self-contained page", "", 0, 0,
  CLI_STORE, report_opts,
  "Give --html or --json. With --dry-run the cycle runs as a dry run and is reported: what "
  "would be written to each target connector, every change with its old and new values and "
  "the rule that decided it, drift, skipped references, errors; without it, a recorded run.",
  report_verb, NULL};

/* 0 parsed, else the exit code of a usage error. */
static int parse_args(const cli_args *ca, report_args *a)
{
  const char *v;
  char *end;
  int rc;

  memset(a, 0, sizeof *a);
  a->store = ca->store;
  a->rules = ca->rules;
  a->dry_run = cli_flag(ca, "dry-run");
  a->initial = cli_flag(ca, "initial");
  a->only_writes = cli_flag(ca, "only-writes");
  a->connector = cli_value(ca, "connector");
  a->html = cli_flag(ca, "html");
  if ((v = cli_value(ca, "run")) && ((a->run_id = strtoll(v, &end, 10)) <= 0 || *end))
    return cli_usage_error(ca, "--run needs a run id (a positive number), not %s", v);
  if ((rc = cli_wait_ms(ca, &a->wait_ms)) != 0)
    return rc;
  if (!a->html && !cli_flag(ca, "json"))
    return cli_usage_error(ca, "give --html or --json");
  if (!a->dry_run && (a->initial || cli_flag(ca, "delta") || a->only_writes || a->connector ||
                      cli_value(ca, "wait")))
    return cli_usage_error(ca, "--initial, --delta, --only-writes, --connector and --wait go "
                               "with --dry-run");
  return 0;
}

/* The report's data, as the page reads it (cli_report_html.h) and --json prints it. */
static void meta_begin(buf *m, const char *title, const char *subtitle)
{
  buf_adds(m, "{\"title\": ");
  json_str_write(m, title, strlen(title));
  buf_adds(m, ", \"subtitle\": ");
  json_str_write(m, subtitle, strlen(subtitle));
}

/* --json: the data, then the changes as a list. */
static int json_entry(void *u, const char *entry, size_t len)
{
  size_t *n = u;
  fputs((*n)++ ? ",\n " : "\n ", stdout);
  return fwrite(entry, 1, len, stdout) == len ? 0 : -1;
}

typedef struct report_out {
  const report_args *a;
  report_page page;
  size_t n;
} report_out;

static int out_begin(report_out *o, const char *title, const buf *meta)
{
  if (o->a->html)
    return report_page_begin(&o->page, stdout, title, meta->p, meta->len);
  fwrite(meta->p, 1, meta->len - 1, stdout);   /* the object goes on: without its '}' */
  fputs(", \"changes\": [", stdout);
  return ferror(stdout) ? -1 : 0;
}

static int out_entry(void *u, const char *entry, size_t len)
{
  report_out *o = u;
  return o->a->html ? report_page_entry(&o->page, entry, len) : json_entry(&o->n, entry, len);
}

static int out_end(report_out *o)
{
  if (o->a->html)
    return report_page_end(&o->page);
  fputs(o->n ? "\n]}\n" : "]}\n", stdout);
  return fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
}

static void now_text(char *s, size_t n)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(s, n, "%Y-%m-%d %H:%M UTC", &tm);
}

static int report_dry_run(const report_args *a, mvs_engine *e)
{
  dry_run_opts dry = {.json = true, .only_writes = a->only_writes, .connector = a->connector};
  run_opts o = {.dry_run = true};
  run_result r;
  report_out out = {.a = a};
  buf meta, sub;
  char when[40];
  const char *what = a->initial ? "initial cycle" : "delta cycle";
  int rc, wrc = 0;

  buf_init(&meta, 0);
  buf_init(&sub, 0);
  memset(&r, 0, sizeof r);
  if ((rc = engine_dry_begin(e, &dry)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "report", "%s", engine_error(e));
    return rc;
  }
  rc = engine_cycle(e, a->initial, &o, &r);
  now_text(when, sizeof when);
  buf_printf(&sub, "dry run of the %s, %s: %s — nothing was committed or sent. Store %s, "
             "rules %s%s%s%s.", what, when, r.status[0] ? r.status : "failed", a->store, a->rules,
             a->only_writes ? "; only what would be written" : "",
             a->connector ? "; only connector " : "", a->connector ? a->connector : "");
  meta_begin(&meta, "mvsync dry run: what the cycle would change", sub.p);
  buf_adds(&meta, ", \"log\": ");
  json_str_write(&meta, engine_log(e), strlen(engine_log(e)));
  buf_printf(&meta, ", \"status\": \"%s\", \"adds\": %lld, \"updates\": %lld, \"deletes\": %lld, "
             "\"errors\": %lld, \"skipped_refs\": %lld, \"drift\": %lld, \"summary\": ",
             r.status[0] ? r.status : "failed", (long long)r.adds, (long long)r.updates,
             (long long)r.deletes, (long long)r.errors, (long long)r.skipped_refs,
             (long long)r.drift);
  engine_diff_summary(e, true, &meta);
  buf_addc(&meta, '}');
  /* A run that stopped (a safety stop, errors) is reported too: that is what to review. */
  if (out_begin(&out, "mvsync dry run", &meta) != 0 ||
      (wrc = engine_diff_each(e, out_entry, &out)) != 0 || out_end(&out) != 0) {
    cli_log(CLI_LOG_ERR, "report", "%s", wrc == -1 && engine_error(e)[0] ? engine_error(e)
                                                  : "cannot write the report");
    rc = ENGINE_SYSTEM;
  } else if (rc != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "report", "the dry run: %s", engine_error(e));
  }
  engine_dry_end(e);
  buf_free(&meta);
  buf_free(&sub);
  return rc;
}

/* A pending export as `pending --json` prints it, one per line. */
static int each_pending(const buf *pending, report_out *out)
{
  const char *p = pending->p ? pending->p : "", *nl;
  for (; *p; p = nl + 1) {
    size_t len;
    if (!(nl = strchr(p, '\n')))
      nl = p + strlen(p);
    len = (size_t)(nl - p);
    while (len && (*p == ' ' || *p == ',')) {
      p++;
      len--;
    }
    while (len && p[len - 1] == ',')
      len--;
    if (len && *p == '{' && out_entry(out, p, len) != 0)
      return -1;
    if (!*nl)
      break;
  }
  return 0;
}

static int report_run(const report_args *a, mvs_engine *e)
{
  report_out out = {.a = a};
  buf run, pending, meta;
  char when[40], sub[512];
  int rc;

  buf_init(&run, 0);
  buf_init(&pending, 0);
  buf_init(&meta, 0);
  if ((rc = engine_run_json(e, a->run_id, &run)) != ENGINE_OK ||
      (rc = engine_pending(e, NULL, PENDING_JSON, &pending)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "report", "%s", engine_error(e));
    goto out;
  }
  now_text(when, sizeof when);
  snprintf(sub, sizeof sub, "Report of a recorded run, made %s from store %s.", when, a->store);
  meta_begin(&meta, "mvsync run report", sub);
  buf_printf(&meta, ", \"run\": %s}", run.p);
  if (out_begin(&out, "mvsync run report", &meta) != 0 || each_pending(&pending, &out) != 0 ||
      out_end(&out) != 0) {
    cli_log(CLI_LOG_ERR, "report", "cannot write the report");
    rc = ENGINE_SYSTEM;
  }
out:
  buf_free(&run);
  buf_free(&pending);
  buf_free(&meta);
  return rc;
}

static int report_verb(const cli_args *ca)
{
  report_args a;
  mvs_engine *e = NULL;
  char *err = NULL;
  int rc;

  if ((rc = parse_args(ca, &a)) != 0)
    return rc;
  if ((rc = engine_open(a.store, a.dry_run ? a.rules : NULL, &e, &err)) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, "report", "%s", err ? err : "cannot open");
    free(err);
    return rc;
  }
  /* A dry run writes inside a transaction it rolls back: it takes the writer lock. */
  if (a.dry_run && (rc = engine_lock(e, a.wait_ms)) != ENGINE_OK)
    cli_log(rc == ENGINE_BUSY ? CLI_LOG_NOTICE : CLI_LOG_ERR, "report", "%s", engine_error(e));
  else
    rc = a.dry_run ? report_dry_run(&a, e) : report_run(&a, e);
  engine_close(e);
  /* The engine's codes are the exit codes (engine.h). */
  return rc;
}
