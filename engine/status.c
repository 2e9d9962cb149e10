/* status — `mvsync status` and the metrics file: the store's state for an operator and a
 * monitoring check (docs/monitoring.md).  One reading of the store (staging, rule-set hashes,
 * the last run of each step, pending exports, the scheduler rules' due full steps, object
 * counts) rendered as text, as JSON, or as Prometheus text format; and the health it adds up
 * to.  Reads only: it runs beside a cycle (WAL readers see the last committed step).
 * Memory: run rows live in e->scratch until the next call; output is appended to the
 * caller's buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/schedule.h"
#include "engine/dump.h"
#include "engine/engine_int.h"
#include "schema/json_str.h"

typedef struct conn_status {
  const char *name, *type;
  bool has_import, has_export, due;
  run_row last_import, last_export;
  char due_reason[300];
  pe_counts pending;
  bool threshold_stop;
  int64_t objects;
} conn_status;

typedef struct status {
  bool staging;
  const char *rules_hash;   /* NULL without a rule set */
  char *synced_hash;        /* malloc'd; NULL: never synced */
  bool sync_due;
  char sync_reason[200];
  char *last_success;       /* malloc'd; NULL: no successful cycle yet */
  bool has_sync;
  run_row last_sync;
  conn_status *conns;
  size_t n_conns;
  int64_t mv_objects;
  int health;               /* ENGINE_OK healthy, ENGINE_PARTIAL degraded, else failed */
  buf reasons;              /* why not healthy: one line each */
} status;

/* Pending exports by kind, in the order status prints them (indexes of pe_counts.by_op). */
static const int kind_ops[4] = {PE_ADD, PE_UPDATE, PE_RENAME, PE_DELETE};
static const char *const kind_names[4] = {"add", "update", "rename", "delete"};

/* Failed outranks degraded; among failures the order of the list below (docs/cli.md). */
static int worse(int a, int b)
{
  static const int order[] = {ENGINE_IMPORT_STOPPED, ENGINE_STOPPED, ENGINE_ALL_FAILED,
                              ENGINE_TIMEOUT, ENGINE_SYSTEM, ENGINE_PARTIAL, ENGINE_OK};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (a == order[i] || b == order[i])
      return order[i];
  return ENGINE_SYSTEM;
}

static void judge_run(status *s, const run_row *r)
{
  int code = engine_run_status_code(r->status);
  if (code == ENGINE_OK)
    return;
  s->health = worse(s->health, code);
  buf_printf(&s->reasons, "%s%s%s: %s (run %lld)\n", r->profile, r->connector ? " " : "",
             r->connector ? r->connector : "", r->status, (long long)r->id);
}

static int read_run(mvs_engine *e, const char *conn, const char *p1, const char *p2,
                    run_row *row, bool *has)
{
  int rc = store_run_last(e->st, conn, p1, p2, e->scratch, row);
  *has = rc == STORE_OK;
  return rc == STORE_ERR ? -1 : 0;
}

static int read_conn(mvs_engine *e, status *s, conn_status *cs, conn_info *c, int64_t cid)
{
  if (read_run(e, cs->name, "full-import", "delta-import", &cs->last_import, &cs->has_import) ||
      read_run(e, cs->name, "export", "export", &cs->last_export, &cs->has_export))
    return ENGINE_SYSTEM;
  if (cid && (store_pe_counts(e->st, cid, &cs->pending) != STORE_OK ||
              store_cs_count(e->st, cid, &cs->objects) != STORE_OK))
    return ENGINE_SYSTEM;
  if (c) {
    /* What the next cycle acts on first: an override, then the scheduler rules. */
    bool unused;
    int rc = schedule_override_due(e, c, cs->due_reason, sizeof cs->due_reason, &cs->due,
                                   &unused);
    if (rc == ENGINE_OK && !cs->due)
      rc = schedule_import_due(e, c, cs->due_reason, sizeof cs->due_reason, &cs->due);
    if (rc != ENGINE_OK)
      return rc;
  }
  cs->threshold_stop = cs->has_export && strcmp(cs->last_export.status,
                                                "stopped-deletion-threshold") == 0;
  if (cs->has_import)
    judge_run(s, &cs->last_import);
  if (cs->has_export)
    judge_run(s, &cs->last_export);
  if (cs->pending.errors) {
    s->health = worse(s->health, ENGINE_PARTIAL);
    buf_printf(&s->reasons, "%s: %lld pending exports failed when last sent\n", cs->name,
               (long long)cs->pending.errors);
  }
  return ENGINE_OK;
}

/* The rule set's connectors, then any the store holds that the rule set no longer has. */
static int read_status(mvs_engine *e, status *s)
{
  id_list ids = {0};
  size_t i, j;
  int rc = ENGINE_SYSTEM;
  char *staging = NULL;
  bool unused;

  mvs_arena_reset(e->scratch);
  buf_init(&s->reasons, 0);
  s->health = ENGINE_OK;
  s->rules_hash = e->rs ? e->ruleset_hash : NULL;
  if (store_meta_get(e->st, "staging", &staging) != STORE_OK ||
      store_meta_get(e->st, "sync_ruleset_hash", &s->synced_hash) != STORE_OK ||
      store_meta_get(e->st, "last_cycle_success", &s->last_success) != STORE_OK ||
      schedule_override_due(e, NULL, s->sync_reason, sizeof s->sync_reason, &unused,
                            &s->sync_due) != ENGINE_OK ||
      (!s->sync_due &&
       schedule_sync_due(e, s->sync_reason, sizeof s->sync_reason, &s->sync_due) != ENGINE_OK) ||
      read_run(e, NULL, "full-sync", "delta-sync", &s->last_sync, &s->has_sync) ||
      store_mv_count(e->st, &s->mv_objects) != STORE_OK || store_connector_list(e->st, &ids) != STORE_OK)
    goto out;
  s->staging = staging && strcmp(staging, "on") == 0;
  if (!(s->conns = calloc(e->n_conns + ids.n + 1, sizeof *s->conns)))
    goto out;
  for (i = 0; i < e->n_conns; i++) {
    conn_status *cs = &s->conns[s->n_conns++];
    int64_t cid = 0;
    cs->name = e->conns[i].rc->name;
    cs->type = rule_connector_type_name(e->conns[i].rc->type);
    if (store_connector_find(e->st, cs->name, &cid) == STORE_ERR ||
        (rc = read_conn(e, s, cs, &e->conns[i], cid)) != ENGINE_OK)
      goto out;
    rc = ENGINE_SYSTEM;
  }
  for (i = 0; i < ids.n; i++) {
    const char *name, *type;
    if (store_connector_info(e->st, ids.ids[i], e->scratch, &name, &type) != STORE_OK)
      goto out;
    for (j = 0; j < e->n_conns && strcmp(e->conns[j].rc->name, name) != 0; j++)
      ;
    if (j < e->n_conns)
      continue;
    s->conns[s->n_conns].name = name;
    s->conns[s->n_conns].type = type;
    if (read_conn(e, s, &s->conns[s->n_conns++], NULL, ids.ids[i]) != ENGINE_OK)
      goto out;
  }
  if (s->has_sync)
    judge_run(s, &s->last_sync);
  if (!s->last_success) {
    s->health = worse(s->health, ENGINE_PARTIAL);
    buf_adds(&s->reasons, "no cycle has completed yet\n");
  }
  rc = ENGINE_OK;
out:
  free(staging);
  id_list_free(&ids);
  return engine_fail(e, rc, "status");
}

static void status_free(status *s)
{
  free(s->synced_hash);
  free(s->last_success);
  free(s->conns);
  buf_free(&s->reasons);
}

static const char *health_name(int health)
{
  return health == ENGINE_OK ? "healthy" : health == ENGINE_PARTIAL ? "degraded" : "failed";
}

/* ---- JSON ---- */

static void json_text_or_null(buf *out, const char *s)
{
  if (s)
    json_str_write(out, s, strlen(s));
  else
    buf_adds(out, "null");
}

static void json_run_or_null(buf *out, bool has, const run_row *r)
{
  if (has)
    dump_run_json(out, r);
  else
    buf_adds(out, "null");
}

static void render_json(const status *s, buf *out)
{
  const char *l, *nl;
  size_t i, k;

  buf_printf(out, "{\"health\": \"%s\", \"reasons\": [", health_name(s->health));
  for (l = s->reasons.p, k = 0; l && *l; l = nl + 1, k++) {
    nl = strchr(l, '\n');
    buf_adds(out, k ? ", " : "");
    json_str_write(out, l, (size_t)(nl - l));
  }
  buf_printf(out, "],\n \"staging\": %s, \"rules_hash\": ", s->staging ? "true" : "false");
  json_text_or_null(out, s->rules_hash);
  buf_adds(out, ", \"synced_rules_hash\": ");
  json_text_or_null(out, s->synced_hash);
  buf_printf(out, ", \"full_sync_due\": %s, \"full_sync_reason\": ", s->sync_due ? "true" : "false");
  json_text_or_null(out, s->sync_due ? s->sync_reason : NULL);
  buf_adds(out, ",\n \"last_success_at\": ");
  json_text_or_null(out, s->last_success);
  buf_printf(out, ", \"metaverse_objects\": %lld,\n \"last_sync\": ", (long long)s->mv_objects);
  json_run_or_null(out, s->has_sync, &s->last_sync);
  buf_adds(out, ",\n \"connectors\": [");
  for (i = 0; i < s->n_conns; i++) {
    const conn_status *c = &s->conns[i];
    buf_adds(out, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
    json_str_write(out, c->name, strlen(c->name));
    buf_adds(out, ", \"type\": ");
    json_str_write(out, c->type, strlen(c->type));
    buf_adds(out, ",\n   \"last_import\": ");
    json_run_or_null(out, c->has_import, &c->last_import);
    buf_adds(out, ",\n   \"last_export\": ");
    json_run_or_null(out, c->has_export, &c->last_export);
    buf_printf(out, ",\n   \"full_import_due\": %s, \"due_reason\": ", c->due ? "true" : "false");
    json_text_or_null(out, c->due ? c->due_reason : NULL);
    buf_adds(out, ", \"pending\": {");
    for (k = 0; k < 4; k++)
      buf_printf(out, "\"%ss\": %lld, ", kind_names[k], (long long)c->pending.by_op[kind_ops[k]]);
    buf_printf(out, "\"errors\": %lld}, \"threshold_stop\": %s, \"objects\": %lld}",
               (long long)c->pending.errors, c->threshold_stop ? "true" : "false",
               (long long)c->objects);
  }
  buf_adds(out, s->n_conns ? "\n ]}\n" : "]}\n");
}

/* ---- text ---- */

static void text_run(buf *out, const char *what, bool has, const run_row *r)
{
  if (!has) {
    buf_printf(out, "  %s: none\n", what);
    return;
  }
  buf_printf(out, "  %s: %s %s, %s, %lld ms (%lld adds, %lld updates, %lld deletes, "
             "%lld errors)\n", what, r->profile, r->started, r->status, (long long)r->duration_ms,
             (long long)r->adds, (long long)r->updates, (long long)r->deletes,
             (long long)r->errors);
}

static void render_text(const status *s, buf *out)
{
  const char *l, *nl;
  size_t i;

  buf_printf(out, "health: %s\n", health_name(s->health));
  for (l = s->reasons.p; l && *l; l = nl + 1) {
    nl = strchr(l, '\n');
    buf_printf(out, "  - %.*s\n", (int)(nl - l), l);
  }
  buf_printf(out, "staging mode: %s\n", s->staging ? "on (exports are kept, never sent)" : "off");
  buf_printf(out, "rule set: %.12s, last synced: %.12s\n", s->rules_hash ? s->rules_hash : "-",
             s->synced_hash ? s->synced_hash : "never");
  buf_printf(out, "full sync due: %s%s\n", s->sync_due ? "yes: " : "no",
             s->sync_due ? s->sync_reason : "");
  buf_printf(out, "last successful cycle: %s\n", s->last_success ? s->last_success : "never");
  buf_printf(out, "metaverse objects: %lld\n", (long long)s->mv_objects);
  text_run(out, "last sync", s->has_sync, &s->last_sync);
  for (i = 0; i < s->n_conns; i++) {
    const conn_status *c = &s->conns[i];
    buf_printf(out, "connector %s (%s): %lld objects\n", c->name, c->type, (long long)c->objects);
    text_run(out, "last import", c->has_import, &c->last_import);
    text_run(out, "last export", c->has_export, &c->last_export);
    buf_printf(out, "  pending exports: %lld adds, %lld updates, %lld renames, %lld deletes; "
               "%lld in error\n", (long long)c->pending.by_op[PE_ADD],
               (long long)c->pending.by_op[PE_UPDATE], (long long)c->pending.by_op[PE_RENAME],
               (long long)c->pending.by_op[PE_DELETE], (long long)c->pending.errors);
    if (c->threshold_stop)
      buf_adds(out, "  deletion threshold: the last export stopped; exports are held back "
                    "(`mvsync export CONNECTOR --allow-deletes` after a review)\n");
    buf_printf(out, "  full import due: %s%s\n", c->due ? "yes: " : "no", c->due ? c->due_reason : "");
  }
}

/* ---- Prometheus text format (docs/monitoring.md) ---- */

static void metric_head(buf *out, const char *name, const char *help)
{
  buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* A label value: backslash, double quote and line feed escaped. */
static void label_value(buf *out, const char *v)
{
  for (; *v; v++) {
    if (*v == '\\' || *v == '"')
      buf_printf(out, "\\%c", *v);
    else if (*v == '\n')
      buf_adds(out, "\\n");
    else
      buf_addc(out, *v);
  }
}

/* name{connector="C",step="S",EXTRA="X"} value; a NULL label is left out. */
static void sample(buf *out, const char *name, const char *conn, const char *step,
                   const char *extra_name, const char *extra, const char *value)
{
  const char *sep = "{";
  buf_adds(out, name);
  if (conn) {
    buf_printf(out, "%sconnector=\"", sep);
    label_value(out, conn);
    buf_addc(out, '"');
    sep = ",";
  }
  if (step) {
    buf_printf(out, "%sstep=\"%s\"", sep, step);
    sep = ",";
  }
  if (extra) {
    buf_printf(out, "%s%s=\"", sep, extra_name);
    label_value(out, extra);
    buf_addc(out, '"');
    sep = ",";
  }
  buf_printf(out, "%s %s\n", sep[0] == ',' ? "}" : "", value);
}

static void sample_int(buf *out, const char *name, const char *conn, const char *step,
                       int64_t v)
{
  char num[32];
  snprintf(num, sizeof num, "%lld", (long long)v);
  sample(out, name, conn, step, NULL, NULL, num);
}

/* The last run of each step: the sync's, then each connector's import and export. */
typedef struct step_run {
  const char *conn, *step;
  const run_row *r;
} step_run;

static size_t step_runs(const status *s, step_run *v)
{
  size_t n = 0, i;
  if (s->has_sync)
    v[n++] = (step_run){NULL, "sync", &s->last_sync};
  for (i = 0; i < s->n_conns; i++) {
    if (s->conns[i].has_import)
      v[n++] = (step_run){s->conns[i].name, "import", &s->conns[i].last_import};
    if (s->conns[i].has_export)
      v[n++] = (step_run){s->conns[i].name, "export", &s->conns[i].last_export};
  }
  return n;
}

static void render_metrics(const status *s, const step_run *runs, size_t n_runs, buf *out)
{
  static const char *const change[3] = {"add", "update", "delete"};
  char num[32];
  size_t i, k;

  metric_head(out, "mvsync_health", "Health as mvsync status reports it: 0 healthy, 1 degraded, 2 failed.");
  sample_int(out, "mvsync_health", NULL, NULL,
             s->health == ENGINE_OK ? 0 : s->health == ENGINE_PARTIAL ? 1 : 2);
  metric_head(out, "mvsync_staging", "1 when staging mode keeps every export (none is sent).");
  sample_int(out, "mvsync_staging", NULL, NULL, s->staging);
  metric_head(out, "mvsync_last_success_timestamp_seconds",
              "When the last cycle that ran every step ended (Unix time; 0: never).");
  sample_int(out, "mvsync_last_success_timestamp_seconds", NULL, NULL,
             s->last_success ? schedule_epoch(s->last_success) : 0);
  metric_head(out, "mvsync_full_sync_due", "1 when the next sync is a full one (rule set changed).");
  sample_int(out, "mvsync_full_sync_due", NULL, NULL, s->sync_due);
  metric_head(out, "mvsync_metaverse_objects", "Objects in the metaverse.");
  sample_int(out, "mvsync_metaverse_objects", NULL, NULL, s->mv_objects);

  metric_head(out, "mvsync_run_duration_seconds", "Duration of the last run of each step.");
  for (i = 0; i < n_runs; i++) {
    snprintf(num, sizeof num, "%.3f", (double)runs[i].r->duration_ms / 1000.0);
    sample(out, "mvsync_run_duration_seconds", runs[i].conn, runs[i].step, NULL, NULL, num);
  }
  metric_head(out, "mvsync_run_started_timestamp_seconds", "When the last run of each step started (Unix time).");
  for (i = 0; i < n_runs; i++)
    sample_int(out, "mvsync_run_started_timestamp_seconds", runs[i].conn, runs[i].step,
               schedule_epoch(runs[i].r->started));
  metric_head(out, "mvsync_run_changes", "Objects the last run of each step added, updated or deleted.");
  for (i = 0; i < n_runs; i++)
    for (k = 0; k < 3; k++) {
      const run_row *r = runs[i].r;
      snprintf(num, sizeof num, "%lld", (long long)(k == 0 ? r->adds : k == 1 ? r->updates : r->deletes));
      sample(out, "mvsync_run_changes", runs[i].conn, runs[i].step, "change", change[k], num);
    }
  metric_head(out, "mvsync_run_errors", "Errors (objects or exports that failed) of the last run of each step.");
  for (i = 0; i < n_runs; i++)
    sample_int(out, "mvsync_run_errors", runs[i].conn, runs[i].step, runs[i].r->errors);
  metric_head(out, "mvsync_run_status", "The status of the last run of each step (value 1).");
  for (i = 0; i < n_runs; i++)
    sample(out, "mvsync_run_status", runs[i].conn, runs[i].step, "status", runs[i].r->status, "1");

  metric_head(out, "mvsync_pending_exports", "Exports still to send, by kind.");
  for (i = 0; i < s->n_conns; i++)
    for (k = 0; k < 4; k++) {
      snprintf(num, sizeof num, "%lld", (long long)s->conns[i].pending.by_op[kind_ops[k]]);
      sample(out, "mvsync_pending_exports", s->conns[i].name, NULL, "kind", kind_names[k], num);
    }
  metric_head(out, "mvsync_pending_export_errors", "Exports still to send that failed when last sent.");
  for (i = 0; i < s->n_conns; i++)
    sample_int(out, "mvsync_pending_export_errors", s->conns[i].name, NULL, s->conns[i].pending.errors);
  metric_head(out, "mvsync_threshold_stop", "1 when the last export stopped at the deletion threshold: exports are held back.");
  for (i = 0; i < s->n_conns; i++)
    sample_int(out, "mvsync_threshold_stop", s->conns[i].name, NULL, s->conns[i].threshold_stop);
  metric_head(out, "mvsync_full_import_due", "1 when the next import of the connector is a full one.");
  for (i = 0; i < s->n_conns; i++)
    sample_int(out, "mvsync_full_import_due", s->conns[i].name, NULL, s->conns[i].due);
  metric_head(out, "mvsync_connector_space_objects", "Objects in the connector space.");
  for (i = 0; i < s->n_conns; i++)
    sample_int(out, "mvsync_connector_space_objects", s->conns[i].name, NULL, s->conns[i].objects);
}

int engine_status(mvs_engine *e, int format, buf *out, int *health)
{
  status s;
  step_run *runs = NULL;
  int rc;

  memset(&s, 0, sizeof s);
  if ((rc = read_status(e, &s)) != ENGINE_OK)
    goto out;
  if (format == STATUS_JSON) {
    render_json(&s, out);
  } else if (format == STATUS_TEXT) {
    render_text(&s, out);
  } else {
    if (!(runs = calloc(2 * s.n_conns + 1, sizeof *runs))) {
      rc = engine_fail(e, ENGINE_SYSTEM, "metrics");
      goto out;
    }
    render_metrics(&s, runs, step_runs(&s, runs), out);
  }
  *health = s.health;
out:
  free(runs);
  status_free(&s);
  return rc;
}
