/* cli_engine — the engine's commands: init, import, sync, export, cycle, staging, preview,
 * pending, show, runs, dump.  Global options --store PATH (default $MVSYNC_STORE or
 * ./mvsync.db) and --rules PATH (default $MVSYNC_RULES or ./rules) may appear anywhere.
 * Memory: the engine and every buffer are freed before returning. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/run.h"
#include "engine/store.h"
#include "tools/cli.h"
#include "tools/value_json.h"

typedef struct engine_args {
  const char *cmd;
  const char *store, *rules;
  const char *pos[3];   /* positional arguments */
  int n_pos;
  bool full, delta, initial, dry_run, json, csv, commit, allow_deletes, allow_mass_delete;
} engine_args;

static const char *const usage_text =
    "usage: mvsync init\n"
    "       mvsync import CONNECTOR [--full|--delta] [--allow-mass-delete] [--dry-run] [--json]\n"
    "       mvsync sync [--full|--delta] [--dry-run] [--json]\n"
    "       mvsync export CONNECTOR [--allow-deletes] [--dry-run] [--json]\n"
    "       mvsync cycle [--initial|--delta] [--dry-run] [--json] [--allow-deletes]\n"
    "                    [--allow-mass-delete]\n"
    "       mvsync staging on|off\n"
    "       mvsync preview CONNECTOR OBJECT [--commit] [--json]\n"
    "       mvsync pending [CONNECTOR] [--json|--csv]\n"
    "       mvsync show cs|mv ID [--json]\n"
    "       mvsync runs [--json]\n"
    "       mvsync dump --json\n"
    "global options: --store PATH (default $MVSYNC_STORE or ./mvsync.db)\n"
    "                --rules PATH (default $MVSYNC_RULES or ./rules: a .rules file or a directory)\n";

static int usage_error(const char *cmd, const char *msg, const char *arg)
{
  fprintf(stderr, "mvsync %s: %s%s%s\n%s", cmd, msg, arg ? " " : "", arg ? arg : "", usage_text);
  return MVS_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, engine_args *a)
{
  static const struct {
    const char *name;
    size_t off;
  } flags[] = {
    {"--full", offsetof(engine_args, full)},       {"--delta", offsetof(engine_args, delta)},
    {"--initial", offsetof(engine_args, initial)}, {"--dry-run", offsetof(engine_args, dry_run)},
    {"--json", offsetof(engine_args, json)},       {"--csv", offsetof(engine_args, csv)},
    {"--commit", offsetof(engine_args, commit)},
    {"--allow-deletes", offsetof(engine_args, allow_deletes)},
    {"--allow-mass-delete", offsetof(engine_args, allow_mass_delete)},
  };
  int i;
  size_t f;

  memset(a, 0, sizeof *a);
  a->cmd = argv[0];
  a->store = getenv("MVSYNC_STORE") ? getenv("MVSYNC_STORE") : "mvsync.db";
  a->rules = getenv("MVSYNC_RULES") ? getenv("MVSYNC_RULES") : "rules";
  for (i = 1; i < argc; i++) {
    const char *s = argv[i];
    if ((strcmp(s, "--store") == 0 || strcmp(s, "--rules") == 0) && i + 1 < argc) {
      *(s[2] == 's' ? &a->store : &a->rules) = argv[++i];
      continue;
    }
    if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
      fputs(usage_text, stdout);
      return -1;
    }
    for (f = 0; f < sizeof flags / sizeof flags[0]; f++)
      if (strcmp(s, flags[f].name) == 0) {
        *(bool *)((char *)a + flags[f].off) = true;
        break;
      }
    if (f < sizeof flags / sizeof flags[0])
      continue;
    if (s[0] == '-' && s[1])
      return usage_error(a->cmd, "unknown option", s);
    if (a->n_pos == 3)
      return usage_error(a->cmd, "too many arguments at", s);
    a->pos[a->n_pos++] = s;
  }
  if ((a->full && a->delta) || (a->initial && a->delta))
    return usage_error(a->cmd, "give one of --full/--initial and --delta", NULL);
  return 0;
}

static int exit_code(int engine_rc)
{
  switch (engine_rc) {
  case ENGINE_OK: return MVS_EXIT_OK;
  case ENGINE_INVALID: return MVS_EXIT_INVALID;
  case ENGINE_STOPPED: return MVS_EXIT_STOPPED;
  case ENGINE_IMPORT_STOPPED: return MVS_EXIT_IMPORT_STOPPED;
  case ENGINE_BUSY: return MVS_EXIT_BUSY;
  case ENGINE_PARTIAL: return MVS_EXIT_PARTIAL;
  case ENGINE_ALL_FAILED: return MVS_EXIT_ALL_FAILED;
  case ENGINE_TIMEOUT: return MVS_EXIT_TIMEOUT;
  default: return MVS_EXIT_SYSTEM;
  }
}

/* The result, with a dry run's diff streamed from its temporary file (it can be far larger
 * than memory).  Returns rc, or ENGINE_SYSTEM when the diff could not be written in full:
 * a dry run never reports success over a truncated diff. */
static int print_result(const engine_args *a, mvs_engine *e, const char *what,
                        const run_result *r, int rc)
{
  buf out;
  const char *log = engine_log(e);
  const char *status = r->status[0] ? r->status : "failed";
  bool diff_failed = false;

  buf_init(&out, 0);
  if (a->json) {
    buf_adds(&out, "{\"run\": ");
    value_json_write_str(&out, what, strlen(what));
    buf_printf(&out, ", \"status\": \"%s\", \"dry_run\": %s, \"adds\": %lld, \"updates\": %lld, "
               "\"deletes\": %lld, \"errors\": %lld, \"skipped_refs\": %lld, \"drift\": %lld, "
               "\"log\": ",
               status, a->dry_run ? "true" : "false",
               (long long)r->adds, (long long)r->updates, (long long)r->deletes,
               (long long)r->errors, (long long)r->skipped_refs, (long long)r->drift);
    value_json_write_str(&out, log, strlen(log));
    if (a->dry_run) {
      buf_adds(&out, ", \"changes\": ");
      fwrite(out.p, 1, out.len, stdout);
      buf_reset(&out);
      if ((diff_failed = engine_diff_write(e, stdout) != ENGINE_OK))
        buf_adds(&out, "null");
    }
    buf_adds(&out, "}\n");
  } else {
    if (a->dry_run) {
      fputs("dry run: nothing was committed; the changes it would make:\n", stdout);
      if ((diff_failed = engine_diff_write(e, stdout) != ENGINE_OK))
        status = "failed";
    }
    buf_printf(&out, "%s%s: %s (%lld adds, %lld updates, %lld deletes, %lld errors",
               a->dry_run ? "dry run of " : "", what, status,
               (long long)r->adds, (long long)r->updates, (long long)r->deletes,
               (long long)r->errors);
    if (r->skipped_refs)
      buf_printf(&out, ", %lld references skipped", (long long)r->skipped_refs);
    if (r->drift)
      buf_printf(&out, ", %lld drift", (long long)r->drift);
    buf_adds(&out, ")\n");
    if (log[0])
      fputs(log, stderr);
  }
  if (diff_failed && rc == ENGINE_OK)
    rc = ENGINE_SYSTEM;
  /* A safety stop explains itself in the log. */
  if (rc != ENGINE_OK && rc != ENGINE_STOPPED && rc != ENGINE_IMPORT_STOPPED)
    fprintf(stderr, "mvsync %s: %s\n", a->cmd, engine_error(e));
  fwrite(out.p ? out.p : "", 1, out.len, stdout);
  buf_free(&out);
  return rc;
}

static int run_command(const engine_args *a, mvs_engine *e)
{
  run_opts o = {.dry_run = a->dry_run, .allow_deletes = a->allow_deletes,
                .allow_mass_delete = a->allow_mass_delete, .progress = isatty(2) != 0};
  run_result r;
  char what[256];
  int rc;

  memset(&r, 0, sizeof r);
  if (a->dry_run && (rc = engine_dry_begin(e, a->json)) != ENGINE_OK) {
    fprintf(stderr, "mvsync %s: %s\n", a->cmd, engine_error(e));
    return exit_code(rc);
  }
  if (strcmp(a->cmd, "cycle") == 0) {
    snprintf(what, sizeof what, "%s cycle", a->initial ? "initial" : "delta");
    rc = engine_cycle(e, a->initial, &o, &r);
  } else if (strcmp(a->cmd, "sync") == 0) {
    snprintf(what, sizeof what, "%s sync", a->full ? "full" : "delta");
    rc = engine_run(e, a->full ? RUN_FULL_SYNC : RUN_DELTA_SYNC, NULL, &o, &r);
  } else {
    bool import = strcmp(a->cmd, "import") == 0;
    if (a->n_pos != 1) {
      engine_dry_end(e);
      return usage_error(a->cmd, "needs one CONNECTOR", NULL);
    }
    snprintf(what, sizeof what, "%s %s", import ? (a->full ? "full import" : "delta import") : "export",
             a->pos[0]);
    rc = engine_run(e, import ? (a->full ? RUN_FULL_IMPORT : RUN_DELTA_IMPORT) : RUN_EXPORT,
                    a->pos[0], &o, &r);
  }
  rc = print_result(a, e, what, &r, rc);
  if (a->dry_run)
    engine_dry_end(e);
  return exit_code(rc);
}

static bool needs_rules(const char *cmd)
{
  static const char *const with_rules[] = {"import", "sync", "export", "cycle", "preview"};
  size_t i;
  for (i = 0; i < sizeof with_rules / sizeof with_rules[0]; i++)
    if (strcmp(cmd, with_rules[i]) == 0)
      return true;
  return false;
}

int cli_engine(int argc, char **argv)
{
  engine_args a;
  mvs_engine *e = NULL;
  char *err = NULL;
  buf out;
  int rc;

  if ((rc = parse_args(argc, argv, &a)) != 0)
    return rc < 0 ? MVS_EXIT_OK : rc;
  if (strcmp(a.cmd, "dump") == 0 && !a.json)
    return usage_error(a.cmd, "the dump is JSON: give --json", NULL);
  if ((rc = engine_open(a.store, needs_rules(a.cmd) ? a.rules : NULL, &e, &err)) != ENGINE_OK) {
    fprintf(stderr, "mvsync %s: %s\n", a.cmd, err ? err : "cannot open");
    free(err);
    return exit_code(rc);
  }
  buf_init(&out, 0);
  rc = ENGINE_OK;
  if (strcmp(a.cmd, "init") == 0) {
    buf_printf(&out, "store %s ready (schema version %d)\n", a.store, store_schema_version());
  } else if (needs_rules(a.cmd) && strcmp(a.cmd, "preview") != 0) {
    int code = run_command(&a, e);
    engine_close(e);
    buf_free(&out);
    return code;
  } else if (strcmp(a.cmd, "preview") == 0) {
    if (a.n_pos != 2) {
      rc = -1;
      usage_error(a.cmd, "needs CONNECTOR and OBJECT (anchor or DN)", NULL);
    } else {
      rc = engine_preview(e, a.pos[0], a.pos[1], a.commit, a.json, &out);
    }
  } else if (strcmp(a.cmd, "staging") == 0) {
    bool on;
    if (a.n_pos == 1 && (strcmp(a.pos[0], "on") == 0 || strcmp(a.pos[0], "off") == 0)) {
      rc = engine_staging_set(e, strcmp(a.pos[0], "on") == 0);
      buf_printf(&out, "staging mode %s: exports are %s\n", a.pos[0],
                 strcmp(a.pos[0], "on") == 0 ? "kept, never sent" : "sent");
    } else if (a.n_pos == 0 && (rc = engine_staging_get(e, &on)) == ENGINE_OK) {
      buf_printf(&out, "staging mode %s\n", on ? "on" : "off");
    } else if (a.n_pos) {
      rc = -1;
      usage_error(a.cmd, "takes on or off", NULL);
    }
  } else if (strcmp(a.cmd, "pending") == 0) {
    rc = engine_pending(e, a.n_pos ? a.pos[0] : NULL,
                        a.json ? PENDING_JSON : a.csv ? PENDING_CSV : PENDING_TEXT, &out);
  } else if (strcmp(a.cmd, "show") == 0) {
    char *end = NULL;
    long long id = a.n_pos == 2 ? strtoll(a.pos[1], &end, 10) : 0;
    if (a.n_pos != 2 || (strcmp(a.pos[0], "cs") != 0 && strcmp(a.pos[0], "mv") != 0) || !end ||
        *end || id <= 0) {
      rc = -1;
      usage_error(a.cmd, "needs cs|mv and a numeric ID", NULL);
    } else {
      rc = engine_show(e, strcmp(a.pos[0], "mv") == 0, id, a.json, &out);
    }
  } else if (strcmp(a.cmd, "runs") == 0) {
    rc = engine_runs(e, a.json, &out);
  } else {
    rc = engine_dump_json(e, &out);
  }
  if (rc > 0)
    fprintf(stderr, "mvsync %s: %s\n", a.cmd, engine_error(e));
  else if (rc == 0)
    fwrite(out.p ? out.p : "", 1, out.len, stdout);
  engine_close(e);
  buf_free(&out);
  return rc < 0 ? MVS_EXIT_USAGE : exit_code(rc);
}
