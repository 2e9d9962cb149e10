/* errors — `mvsync errors`: the sync errors of connector-space objects (a join conflict, an
 * ambiguous join, an attribute flow that failed, a value the target refuses) and the exports
 * the directory refused, each with its object, attribute, rule, message and when it was
 * first and last seen (store migration 4).  Reads only.
 * Memory: rendered text is appended to the caller's buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "schema/json_str.h"

static const char *const op_names[] = {"add", "update", "delete", "rename"};

/* "key": "text" or null. */
static void json_field(buf *out, const char *key, const char *text)
{
  buf_printf(out, ", \"%s\": ", key);
  if (text)
    json_str_write(out, text, strlen(text));
  else
    buf_adds(out, "null");
}

static void render_json(const error_row *r, size_t n, buf *out)
{
  size_t i;
  buf_adds(out, "[");
  for (i = 0; i < n; i++) {
    buf_printf(out, "%s\n {\"phase\": \"%s\"", i ? "," : "", r[i].export ? "export" : "sync");
    json_field(out, "connector", r[i].connector);
    buf_printf(out, ", \"object\": %lld", (long long)r[i].cs_id);
    json_field(out, "dn", r[i].dn);
    json_field(out, "attribute", r[i].attr);
    json_field(out, "rule", r[i].rule);
    json_field(out, "message", r[i].message);
    json_field(out, "first_seen", r[i].first_seen);
    json_field(out, "last_seen", r[i].last_seen);
    if (r[i].export) {
      buf_printf(out, ", \"op\": \"%s\", \"code\": ", op_names[r[i].op & 3]);
      if (r[i].code)
        buf_printf(out, "%d", r[i].code);
      else
        buf_adds(out, "null");
    }
    buf_adds(out, "}");
  }
  buf_adds(out, n ? "\n]\n" : "]\n");
}

/* One error in two lines:
 *   CONNECTOR PHASE DN (cs ID)
 *     [rule "R"] [attribute A] [export OP, code C]: MESSAGE (first seen F, last seen L) */
static void render_text(const error_row *r, size_t n, buf *out)
{
  size_t i, n_export = 0;
  for (i = 0; i < n; i++)
    n_export += r[i].export;
  buf_printf(out, "%zu error%s (%zu sync, %zu export)\n", n, n == 1 ? "" : "s", n - n_export,
             n_export);
  for (i = 0; i < n; i++) {
    buf_printf(out, "%s %s %s (cs %lld)\n  ", r[i].connector, r[i].export ? "export" : "sync",
               r[i].dn ? r[i].dn : "(no DN)", (long long)r[i].cs_id);
    if (r[i].export)
      buf_printf(out, "%s", op_names[r[i].op & 3]);
    if (r[i].export && r[i].code)
      buf_printf(out, " (code %d)", r[i].code);
    if (r[i].rule)
      buf_printf(out, "%srule \"%s\"", r[i].export ? ", " : "", r[i].rule);
    if (r[i].attr)
      buf_printf(out, "%sattribute %s", r[i].export || r[i].rule ? ", " : "", r[i].attr);
    buf_printf(out, "%s%s", r[i].export || r[i].rule || r[i].attr ? ": " : "", r[i].message);
    if (r[i].first_seen)
      buf_printf(out, " (first seen %s, last seen %s)", r[i].first_seen,
                 r[i].last_seen ? r[i].last_seen : r[i].first_seen);
    buf_addc(out, '\n');
  }
}

int engine_errors(mvs_engine *e, const char *conn_name, bool json, buf *out)
{
  int64_t cid = 0;
  error_row *rows = NULL;
  size_t n = 0;

  mvs_arena_reset(e->scratch);
  if (conn_name && store_connector_find(e->st, conn_name, &cid) != STORE_OK) {
    engine_errorf(e, "no connector \"%s\" in the store", conn_name);
    return ENGINE_INVALID;
  }
  if (store_error_list(e->st, cid, e->scratch, &rows, &n) != STORE_OK)
    return engine_fail(e, ENGINE_SYSTEM, "errors");
  if (json)
    render_json(rows, n, out);
  else
    render_text(rows, n, out);
  free(rows);
  return ENGINE_OK;
}
