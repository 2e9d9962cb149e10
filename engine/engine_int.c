/* engine_int — the helpers on the engine's context (engine_int.h): the run log and error
 * text, the deadline, connector lookups, step transactions; and the engine.h accessors of
 * the same state.  Memory: the log and error text live in the engine. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/engine_int.h"
#include "engine/attrset.h"
#include "schema/array.h"

void engine_logf(mvs_engine *e, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&e->log, fmt, ap);
  va_end(ap);
  buf_addc(&e->log, '\n');
}

void engine_errorf(mvs_engine *e, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->errmsg, sizeof e->errmsg, fmt, ap);
  va_end(ap);
}

const char *engine_error(mvs_engine *e)
{
  /* Every failure carries a message: one no step explained is the store's last word. */
  if (!e->errmsg[0])
    engine_errorf(e, "store error: %s", e->st ? store_errmsg(e->st) : "not open");
  return e->errmsg;
}

void engine_progress(mvs_engine *e, int64_t n)
{
  e->progress_done += n;
  if (e->progress)
    e->progress(e->progress_u, e->activity, e->progress_done, e->progress_total);
}

int64_t engine_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void engine_set_timeout(mvs_engine *e, int64_t timeout_ms)
{
  e->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
  e->deadline_ms = timeout_ms > 0 ? engine_now_ms() + timeout_ms : 0;
}

const char *engine_activity(mvs_engine *e) { return e->activity; }

bool engine_deadline_passed(mvs_engine *e)
{
  if (e->timed_out)
    return true;
  if (!e->deadline_ms || engine_now_ms() < e->deadline_ms)
    return false;
  e->timed_out = true;
  engine_errorf(e, "the run's deadline (--timeout %llds) passed while %s: stopped; that "
                "step's uncommitted changes were rolled back", (long long)(e->timeout_ms / 1000),
                e->activity[0] ? e->activity : "running");
  return true;
}

int engine_fail(mvs_engine *e, int rc, const char *what)
{
  if (rc != ENGINE_OK && !e->errmsg[0])
    engine_errorf(e, "%s: store error: %s", what, store_errmsg(e->st));
  return rc;
}

const char *engine_log(mvs_engine *e) { return e->log.p ? e->log.p : ""; }

conn_info *engine_conn(mvs_engine *e, const char *name)
{
  size_t i;
  for (i = 0; i < e->n_conns; i++)
    if (strcmp(e->conns[i].rc->name, name) == 0)
      return &e->conns[i];
  return NULL;
}

bool engine_keys_read_dn(const conn_info *c)
{
  return c && (c->key_bits & attr_name_bit("dn", 2)) != 0;
}

conn_info *engine_conn_by_id(mvs_engine *e, int64_t id)
{
  size_t i;
  for (i = 0; i < e->n_conns; i++) {
    int64_t cid;
    if (engine_conn_id(e, &e->conns[i], &cid) == 0 && cid == id)
      return &e->conns[i];
  }
  return NULL;
}

int engine_conn_id(mvs_engine *e, conn_info *c, int64_t *id)
{
  if (!c->id && store_connector_ensure(e->st, c->rc->name,
                                       rule_connector_type_name(c->rc->type), &c->id) != 0)
    return -1;
  *id = c->id;
  return 0;
}

const rule_attr_decl *engine_conn_attr(const conn_info *c, const char *name)
{
  size_t i;
  for (i = 0; i < c->rc->n_attrs; i++)
    if (strcasecmp(c->rc->attrs[i].name, name) == 0)
      return &c->rc->attrs[i];
  return NULL;
}

bool engine_member_group(const conn_info *c, const char *dn)
{
  buf key;
  size_t i;
  bool hit = false;

  if (!c->n_member_groups || !dn)
    return false;
  buf_init(&key, BUF_CAP_DN);
  if (text_fold(dn, strlen(dn), &key) == 0)
    for (i = 0; i < c->n_member_groups && !hit; i++)
      hit = strcmp(c->member_groups[i], key.p ? key.p : "") == 0;
  buf_free(&key);
  return hit;
}

int engine_name_add(const char ***v, size_t *n, size_t *cap, const char *name)
{
  size_t i;
  if (!name)
    return 0;
  for (i = 0; i < *n; i++)
    if (strcasecmp((*v)[i], name) == 0)
      return 0;
  if (array_reserve(v, cap, *n + 1, sizeof **v) != 0)
    return -1;
  (*v)[(*n)++] = name;
  return 0;
}

/* One table for both directions, so run.c's writer and status.c's reader agree. */
static const struct {
  int rc;
  const char *status;
} run_statuses[] = {
  {ENGINE_OK, "success"},
  {ENGINE_PARTIAL, "completed-errors"},
  {ENGINE_ALL_FAILED, "all-exports-failed"},
  {ENGINE_STOPPED, "stopped-deletion-threshold"},
  {ENGINE_IMPORT_STOPPED, "stopped-import-guard"},
  {ENGINE_TIMEOUT, "timed-out"},
};

const char *engine_run_status(int rc)
{
  for (size_t i = 0; i < sizeof run_statuses / sizeof run_statuses[0]; i++)
    if (run_statuses[i].rc == rc)
      return run_statuses[i].status;
  return "failed";
}

int engine_run_status_code(const char *status)
{
  for (size_t i = 0; i < sizeof run_statuses / sizeof run_statuses[0]; i++)
    if (strcmp(run_statuses[i].status, status) == 0)
      return run_statuses[i].rc;
  return ENGINE_SYSTEM;
}

bool engine_flow_failed(const mvs_engine *e, int64_t cs_id)
{
  for (size_t i = 0; i < e->flow_err.n; i++)
    if (e->flow_err.ids[i] == cs_id)
      return true;
  return false;
}

int engine_tx_begin(mvs_engine *e) { return e->in_tx ? 0 : store_begin(e->st); }
int engine_tx_commit(mvs_engine *e) { return e->in_tx ? 0 : store_commit(e->st); }
void engine_tx_rollback(mvs_engine *e)
{
  if (!e->in_tx)
    store_rollback(e->st);
}

int engine_find_cs(mvs_engine *e, int64_t connector, const char *object, cs_row *cs)
{
  buf key;
  int rc = store_cs_by_anchor(e->st, connector, object, e->scratch, cs);
  if (rc != STORE_NOTFOUND)
    return rc;
  buf_init(&key, 0);
  if (text_fold(object, strlen(object), &key) != 0) {
    buf_free(&key);
    return STORE_ERR;
  }
  rc = store_cs_by_dn(e->st, connector, key.p ? key.p : "", e->scratch, cs);
  buf_free(&key);
  return rc;
}
