/* preview — trace one connector-space object through every rule (`mvsync preview`): each
 * inbound rule in scope or the clause that failed, the join result, every metaverse
 * attribute's old -> new value with the rule that set it, the outbound rules and the exports
 * it would cause.  The object is synced by the same code as a delta sync, inside a
 * transaction that is rolled back unless the caller commits.
 * Memory: the trace and diff are appended to the caller's buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/diff.h"
#include "engine/engine_int.h"
#include "engine/sync.h"
#include "engine/work.h"
#include "schema/json_str.h"

int engine_preview(mvs_engine *e, const char *conn_name, const char *object, bool commit,
                   bool json, buf *out)
{
  conn_info *c = e->rs ? engine_conn(e, conn_name) : NULL;
  run_result res;
  sync_work w;
  buf trace;
  cs_row cs;
  int64_t cid;
  int rc = ENGINE_SYSTEM;
  diff_log *outer = e->diff, own;
  bool began = false, have_diff = false;

  memset(&w, 0, sizeof w);
  memset(&res, 0, sizeof res);
  buf_init(&trace, 0);
  if (!c) {
    engine_errorf(e, "no connector \"%s\" in the rule set", conn_name);
    return ENGINE_INVALID;
  }
  mvs_arena_reset(e->scratch);
  if (store_connector_find(e->st, conn_name, &cid) != STORE_OK ||
      engine_find_cs(e, cid, object, &cs) != STORE_OK) {
    engine_errorf(e, "no object \"%s\" in connector \"%s\" (give its anchor or DN)", object,
                  conn_name);
    return ENGINE_INVALID;
  }
  /* Its own diff, kept in memory: one object's changes, shown with the trace. */
  if (diff_open(&own, false, json, 0) != 0)
    goto out;
  have_diff = true;
  e->diff = &own;
  if (!e->in_tx) {
    if (store_begin(e->st) != STORE_OK)
      goto out;
    began = true;
  }
  e->res = &res;
  e->trace = &trace;
  buf_printf(&trace, "object: %s %s (%s, anchor %s)\n", conn_name, cs.dn ? cs.dn : "",
             cs.object_type, cs.anchor ? cs.anchor : "none");
  if (id_list_add(&w.cs, cs.id) != 0 || sync_objects(e, &w) != 0) {
    if (!e->errmsg[0])
      engine_errorf(e, "preview failed: %s", store_errmsg(e->st));
    goto out;
  }
  if (json) {
    size_t i = 0;
    char *line = trace.p, *nl;
    buf_adds(out, "{\"trace\": [");
    for (; line && *line; line = nl + 1, i++) {
      nl = strchr(line, '\n');
      buf_adds(out, i ? ", " : "");
      json_str_write(out, line, (size_t)(nl - line));
    }
    buf_printf(out, "], \"committed\": %s, \"changes\": ", commit ? "true" : "false");
    if (diff_render(e->diff, true, out) != 0)
      goto out;
    buf_adds(out, "}\n");
  } else {
    buf_adds(out, trace.p ? trace.p : "");
    buf_adds(out, "\nchanges:\n");
    if (diff_render(e->diff, false, out) != 0)
      goto out;
    if (commit)
      buf_adds(out, "committed\n");
  }
  rc = ENGINE_OK;
out:
  e->trace = NULL;
  if (began) {
    if (rc == ENGINE_OK && commit &&
        (store_records_drop_unclaimed(e->st) != STORE_OK || store_commit(e->st) != STORE_OK))
      rc = ENGINE_SYSTEM;
    if (rc != ENGINE_OK || !commit)
      store_rollback(e->st);
  }
  e->diff = outer;
  if (have_diff)
    diff_free(&own);
  work_free(&w);
  buf_free(&trace);
  return engine_fail(e, rc, "preview");
}
