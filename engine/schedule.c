/* schedule — Connect's scheduler rules: which full steps the next cycle must run
 * (docs/monitoring.md, "Scheduler rules").  A changed rule set needs a full sync (run.c turns
 * the delta sync into one); a changed connector block, or an attribute or object type a
 * connector imports now that its last full import did not read, needs a full import of that
 * connector, as does a delta watermark older than the directory keeps its changes.  What a
 * full import read and when each watermark was issued are kept in the store's meta table
 * under per-connector keys, so `mvsync status` sees the same answer the next cycle acts on.
 * Memory: nothing is returned; reasons are written into the caller's buffer. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/schedule.h"
#include "engine/connect.h"
#include "engine/engine_int.h"
#include "schema/json_str.h"

/* How long a directory keeps what a delta needs, by connector type, in days: Graph's
 * directory delta tokens last 7 days (docs/internals/graph-connector.md); AD keeps deleted
 * objects for its tombstone lifetime, 60 days when the forest leaves it unset (MS-ADTS
 * 6.1.1.4.1.1; forests since Windows Server 2003 SP1 set 180), after which a DirSync or
 * uSNChanged delta no longer reports a delete.  The connector setting delta-max-age (days,
 * 0: never) overrides it. */
static int64_t default_max_age_days(rule_connector_type t)
{
  switch (t) {
  case RULE_CONN_ENTRA: return 7;
  case RULE_CONN_AD: return 60;
  default: return 0;
  }
}

/* Settings that do not change what an import reads: the safety guards, export settings,
 * and how the directory is reached (server, TLS, credentials, timeouts, retries, page
 * sizes).  A different server of the same directory brings no new object; a watermark it
 * cannot use is rejected by the connector, which then runs a full import.  Everything else
 * (base, containers, tenant, client-id, bind-dn, delta, shape, path, changes, settings
 * unknown here) counts: erring that way costs a full import, never a missed object. */
static bool import_neutral(const char *key)
{
  static const char *const keys[] = {
    "deletion-threshold", "deletion-threshold-percent", "import-delete-threshold",
    "export-log", "delta-max-age", "member-chunk",
    /* reaching the directory */
    "url", "tls", "ca-file", "password", "timeout", "retries", "page-size", "range-size",
    "client-secret", "certificate-file", "private-key", "assertion-alg", "authority",
    "graph-url", "scope", "max-retry-seconds", "run-retry-seconds", "max-object"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(key, keys[i]) == 0)
      return true;
  return false;
}

static void meta_key(char *out, size_t len, const char *what, const conn_info *c)
{
  snprintf(out, len, "%s:%s", what, c->rc->name);
}

int64_t schedule_epoch(const char *iso)
{
  struct tm tm;
  const char *end;
  memset(&tm, 0, sizeof tm);
  if (!iso || !(end = strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
    return -1;
  return (int64_t)timegm(&tm);
}

void schedule_iso(int64_t epoch, char out[32])
{
  time_t t = (time_t)epoch;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The connector block as an import depends on it: type, settings (secrets as their env:/file:
 * reference, never their value) and attribute declarations, hashed (SHA-256, hex). */
static int config_hash(const conn_info *c, char out[65])
{
  const rule_connector *rc = c->rc;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;
  buf b;
  int result = -1;

  buf_init(&b, 0);
  buf_printf(&b, "type %s\n", rule_connector_type_name(rc->type));
  for (i = 0; i < rc->n_settings; i++)
    if (!import_neutral(rc->settings[i].key))
      buf_printf(&b, "setting %s %d %s\n", rc->settings[i].key, (int)rc->settings[i].value.kind,
                 rc->settings[i].value.text);
  for (i = 0; i < rc->n_attrs; i++)
    buf_printf(&b, "attribute %s %s%s\n", rc->attrs[i].name,
               rule_syntax_name(rc->attrs[i].syntax), rc->attrs[i].multi ? " multi" : "");
  if (b.p && EVP_Digest(b.p, b.len, md, &len, EVP_sha256(), NULL) == 1) {
    for (i = 0; i < len && i < 32; i++)
      snprintf(out + 2 * i, 3, "%02x", md[i]);
    result = 0;
  }
  buf_free(&b);
  return result;
}

/* What an import of c reads, one "attribute NAME" or "type NAME" line each ("type *": every
 * type), as a malloc'd string; NULL when out of memory. */
static char *import_list(conn_info *c)
{
  open_connector oc;
  buf b;
  const char *t, *comma;
  size_t i;

  memset(&oc, 0, sizeof oc);
  buf_init(&b, 0);
  if (connector_import_list(c, &oc) != 0) {
    connector_close_for(&oc);
    return NULL;
  }
  for (i = 0; i < oc.cfg.n_attrs; i++)
    buf_printf(&b, "attribute %s\n", oc.attrs[i]);
  for (t = oc.types_csv; t && *t; t = comma ? comma + 1 : t + strlen(t)) {
    comma = strchr(t, ',');
    buf_printf(&b, "type %.*s\n", (int)(comma ? (size_t)(comma - t) : strlen(t)), t);
  }
  if (!oc.types_csv)
    buf_adds(&b, "type *\n");
  connector_close_for(&oc);
  return buf_detach(&b);
}

/* The first line of now that then lacks (case-insensitively), copied to out; false when
 * then has every line.  "type *" in then covers every type. */
static bool first_new_line(const char *now, const char *then, char *out, size_t len)
{
  const char *l, *nl;
  bool every_type = strstr(then, "type *\n") != NULL;
  for (l = now; *l; l = nl + 1) {
    const char *m, *mnl;
    size_t n;
    bool found = false;
    if (!(nl = strchr(l, '\n')))
      break;
    n = (size_t)(nl - l);
    if (every_type && strncmp(l, "type ", 5) == 0)
      continue;
    for (m = then; *m && !found; m = mnl + 1) {
      if (!(mnl = strchr(m, '\n')))
        break;
      found = (size_t)(mnl - m) == n && strncasecmp(m, l, n) == 0;
    }
    if (!found) {
      snprintf(out, len, "%.*s", (int)n, l);
      return true;
    }
  }
  return false;
}

/* The delta-max-age setting in days (rule_set_check refused one that is no count), or the
 * type's default. */
static int64_t max_age_days(const conn_info *c)
{
  for (size_t i = 0; i < c->rc->n_settings; i++) {
    const rule_setting *s = &c->rc->settings[i];
    if (strcmp(s->key, "delta-max-age") == 0)
      return s->value.num;
  }
  return default_max_age_days(c->rc->type);
}

int schedule_import_due(mvs_engine *e, conn_info *c, char *reason, size_t len, bool *due)
{
  char key[512], hash[65], line[256];
  char *then_hash = NULL, *then_list = NULL, *wm_at = NULL, *now_list = NULL, *wm = NULL;
  int64_t cid = 0, days = max_age_days(c), at;
  int rc = ENGINE_SYSTEM, found;

  reason[0] = '\0';
  *due = false;
  found = store_connector_find(e->st, c->rc->name, &cid);
  if (found == STORE_ERR)
    goto out;
  if (found == STORE_OK && store_watermark_get(e->st, cid, &wm) != STORE_OK)
    goto out;
  meta_key(key, sizeof key, "import_config", c);
  if (store_meta_get(e->st, key, &then_hash) != STORE_OK)
    goto out;
  meta_key(key, sizeof key, "import_list", c);
  if (store_meta_get(e->st, key, &then_list) != STORE_OK)
    goto out;
  meta_key(key, sizeof key, "watermark_at", c);
  if (store_meta_get(e->st, key, &wm_at) != STORE_OK)
    goto out;
  if (config_hash(c, hash) != 0 || !(now_list = import_list(c)))
    goto out;
  rc = ENGINE_OK;
  *due = true;
  if (!then_hash || !then_list)
    snprintf(reason, len, "no full import recorded for this connector");
  else if (!wm)
    snprintf(reason, len, "no watermark yet");
  else if (first_new_line(now_list, then_list, line, sizeof line))
    snprintf(reason, len, "imports %s, which its last full import did not read", line);
  else if (strcmp(hash, then_hash) != 0)
    snprintf(reason, len, "its connector block (settings or attribute declarations) changed "
             "since its last full import");
  else if (days && (at = schedule_epoch(wm_at)) >= 0 && time(NULL) - at > days * 86400)
    snprintf(reason, len, "its delta watermark is %lld days old; the directory keeps changes "
             "for %lld days (delta-max-age)", (long long)((time(NULL) - at) / 86400),
             (long long)days);
  else
    *due = false;
out:
  if (rc != ENGINE_OK)
    engine_errorf(e, "connector \"%s\": cannot read its schedule: %s", c->rc->name,
                  store_errmsg(e->st));
  free(then_hash);
  free(then_list);
  free(wm_at);
  free(now_list);
  free(wm);
  return rc;
}

int schedule_sync_due(mvs_engine *e, char *reason, size_t len, bool *due)
{
  char *last = NULL;
  reason[0] = '\0';
  if (store_meta_get(e->st, "sync_ruleset_hash", &last) != STORE_OK)
    return engine_fail(e, ENGINE_SYSTEM, "reading the last sync's rule set");
  if (!last)
    snprintf(reason, len, "never synced");
  else if (e->rs && strcmp(last, e->ruleset_hash) != 0)
    snprintf(reason, len, "the rule set changed since the last sync (%.12s -> %.12s)", last,
             e->ruleset_hash);
  free(last);
  *due = reason[0] != '\0';
  return ENGINE_OK;
}

static int meta_set_conn(mvs_engine *e, const char *what, const conn_info *c, const char *v)
{
  char key[512];
  meta_key(key, sizeof key, what, c);
  return store_meta_set(e->st, key, v) == STORE_OK ? 0 : -1;
}

int schedule_note_import(mvs_engine *e, conn_info *c, bool full)
{
  char now[32], hash[65];
  char *list = NULL;
  int rc = -1;

  schedule_iso((int64_t)time(NULL), now);
  if (full && (config_hash(c, hash) != 0 || !(list = import_list(c))))
    goto out;
  if (engine_tx_begin(e) != STORE_OK)
    goto out;
  if (meta_set_conn(e, "watermark_at", c, now) != 0 ||
      (full && (meta_set_conn(e, "import_config", c, hash) != 0 ||
                meta_set_conn(e, "import_list", c, list) != 0))) {
    engine_tx_rollback(e);
    goto out;
  }
  if (engine_tx_commit(e) != STORE_OK)
    engine_tx_rollback(e);
  else
    rc = 0;
out:
  free(list);
  return rc;
}

int schedule_note_cycle(mvs_engine *e)
{
  char now[32];
  schedule_iso((int64_t)time(NULL), now);
  return store_meta_set(e->st, "last_cycle_success", now) == STORE_OK ? 0 : -1;
}

/* ---- overrides (`mvsync schedule`, Connect's Set-ADSyncSchedulerConnectorOverride) ---- */

/* Every override, read into a's strings; rows malloc'd. */
static int read_overrides(mvs_engine *e, mvs_arena *a, override_row **rows, size_t *n)
{
  if (store_override_list(e->st, a, rows, n) == STORE_OK)
    return ENGINE_OK;
  return engine_fail(e, ENGINE_SYSTEM, "reading the schedule overrides");
}

int schedule_override_due(mvs_engine *e, conn_info *c, char *reason, size_t len,
                          bool *full_import, bool *full_sync)
{
  mvs_arena *a = mvs_arena_new(0);
  override_row *rows = NULL;
  size_t n = 0, i;
  int rc;

  reason[0] = '\0';
  *full_import = *full_sync = false;
  if (!a)
    return engine_fail(e, ENGINE_SYSTEM, "reading the schedule overrides");
  if ((rc = read_overrides(e, a, &rows, &n)) != ENGINE_OK)
    goto out;
  for (i = 0; i < n; i++) {
    /* An override of a connector the rule set no longer has asks for nothing. */
    if (!engine_conn(e, rows[i].connector))
      continue;
    if (c && strcmp(rows[i].connector, c->rc->name) == 0 && rows[i].full_import) {
      *full_import = true;
      snprintf(reason, len, "a full import asked for by `mvsync schedule override` (%s)",
               rows[i].since);
    }
    if (!c && rows[i].full_sync && !*full_sync) {
      *full_sync = true;
      snprintf(reason, len, "a full sync asked for by `mvsync schedule override %s` (%s)",
               rows[i].connector, rows[i].since);
    }
  }
out:
  free(rows);
  mvs_arena_free(a);
  return rc;
}

int schedule_overrides_done(mvs_engine *e)
{
  for (size_t i = 0; i < e->n_conns; i++)
    if (store_override_clear(e->st, e->conns[i].rc->name) == STORE_ERR)
      return -1;
  return 0;
}

int engine_schedule_override(mvs_engine *e, const char *conn_name, bool full_import,
                             bool full_sync)
{
  char now[32];
  if (!e->rs || !engine_conn(e, conn_name)) {
    engine_errorf(e, "no connector \"%s\" in the rule set", conn_name);
    return ENGINE_INVALID;
  }
  schedule_iso((int64_t)time(NULL), now);
  return engine_fail(e, store_override_set(e->st, conn_name, full_import, full_sync, now) ==
                            STORE_OK ? ENGINE_OK : ENGINE_SYSTEM, "schedule override");
}

int engine_schedule_clear(mvs_engine *e, const char *conn_name)
{
  int rc = store_override_clear(e->st, conn_name);
  if (rc == STORE_NOTFOUND) {
    engine_errorf(e, "connector \"%s\" has no override (`mvsync schedule show` lists them)",
                  conn_name);
    return ENGINE_INVALID;
  }
  return engine_fail(e, rc == STORE_OK ? ENGINE_OK : ENGINE_SYSTEM, "schedule clear");
}

int engine_schedule_show(mvs_engine *e, bool json, buf *out)
{
  mvs_arena *a = mvs_arena_new(0);
  override_row *rows = NULL;
  size_t n = 0, i;
  int rc;

  if (!a)
    return engine_fail(e, ENGINE_SYSTEM, "schedule show");
  if ((rc = read_overrides(e, a, &rows, &n)) != ENGINE_OK)
    goto out;
  if (json)
    buf_adds(out, "{\"overrides\": [");
  else if (!n)
    buf_adds(out, "no overrides: the next cycle runs the full steps the scheduler rules call "
                  "for (`mvsync status` says which)\n");
  for (i = 0; i < n; i++) {
    const override_row *r = &rows[i];
    if (json) {
      buf_adds(out, i ? ",\n  {\"connector\": " : "\n  {\"connector\": ");
      json_str_write(out, r->connector, strlen(r->connector));
      buf_printf(out, ", \"full_import\": %s, \"full_sync\": %s, \"since\": ",
                 r->full_import ? "true" : "false", r->full_sync ? "true" : "false");
      json_str_write(out, r->since, strlen(r->since));
      buf_adds(out, "}");
    } else {
      buf_printf(out, "%s: %s%s%s (since %s)\n", r->connector, r->full_import ? "full import" : "",
                 r->full_import && r->full_sync ? ", " : "", r->full_sync ? "full sync" : "",
                 r->since);
    }
  }
  if (json)
    buf_adds(out, n ? "\n]}\n" : "]}\n");
out:
  free(rows);
  mvs_arena_free(a);
  return rc;
}
