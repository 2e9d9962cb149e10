/* discard — `mvsync pending --discard`: drop pending exports an operator does not want sent
 * (after a deletion-threshold stop, say), leaving each object in a state from which the next
 * sync stages an export again only when its cause still holds (docs/safety.md, "Discarding
 * pending exports"):
 *   - a delete: the export is dropped; the object stays in the connector space, as the
 *     disconnector its deprovisioning made it, and in the directory.  Nothing stages a
 *     delete for a disconnector; a sync joins it again when a metaverse object claims it;
 *   - an add of an object not in the directory: the connector-space object standing for it
 *     is removed (it was never anything else); a sync provisions again while a Provision
 *     rule still wants the metaverse object there;
 *   - an update or a rename: the export is dropped; a sync that evaluates the object again
 *     stages what the rules still want.
 * Exports already sent (waiting for their confirming import) are kept: the directory has
 * them.  One transaction; the run history records it (profile "discard-pending", one log
 * line per export).  A dry run lists what would be dropped and changes nothing.
 * Memory: rendered text is appended to the caller's buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine_int.h"
#include "engine/label.h"
#include "engine/schedule.h"
#include "schema/json_str.h"

static const char *const op_names[] = {"add", "update", "delete", "rename"};

typedef struct discard_state {
  const discard_opts *o;
  bool json;
  buf *out;
  buf items;             /* the JSON items or text lines of the exports */
  int64_t by_op[4], kept_sent;
} discard_state;

/* The exports the options name: one object's, or a connector's (all connectors') unsent
 * exports in send order.  Sent ones are counted in kept_sent (all of them for a list). */
static int select_exports(mvs_engine *e, discard_state *d, int64_t cid, id_list *ids)
{
  const discard_opts *o = d->o;
  id_list all = {0};
  cs_row cs;
  pe_row pe;
  int q;

  if (!o->object) {
    if (store_pe_list(e->st, cid, true, ids) != STORE_OK || store_pe_list(e->st, cid, false, &all) != STORE_OK) {
      id_list_free(&all);
      return engine_fail(e, ENGINE_SYSTEM, "pending --discard");
    }
    d->kept_sent = (int64_t)(all.n - ids->n);
    id_list_free(&all);
    return ENGINE_OK;
  }
  if ((q = store_cs_get(e->st, o->object, e->scratch, &cs)) == STORE_OK && cid &&
      cs.connector != cid)
    q = STORE_NOTFOUND;
  if (q == STORE_OK && (q = store_pe_get(e->st, o->object, e->scratch, &pe)) == STORE_NOTFOUND) {
    engine_errorf(e, "connector-space object %lld has no pending export", (long long)o->object);
    return ENGINE_INVALID;
  }
  if (q == STORE_NOTFOUND) {
    engine_errorf(e, "no connector-space object %lld%s%s%s", (long long)o->object,
                  o->connector ? " in connector \"" : "", o->connector ? o->connector : "",
                  o->connector ? "\"" : "");
    return ENGINE_INVALID;
  }
  if (q != STORE_OK)
    return engine_fail(e, ENGINE_SYSTEM, "pending --discard");
  if (pe.status == PE_SENT) {
    engine_errorf(e, "the %s of connector-space object %lld was sent already (it waits for its "
                  "confirming import): the directory has it, nothing to discard",
                  op_names[pe.op & 3], (long long)o->object);
    return ENGINE_INVALID;
  }
  if (o->deletes_only && pe.op != PE_DELETE) {
    engine_errorf(e, "the pending export of connector-space object %lld is an %s, not a delete "
                  "(--deletes)", (long long)o->object, op_names[pe.op & 3]);
    return ENGINE_INVALID;
  }
  return id_list_add(ids, o->object) == 0 ? ENGINE_OK : engine_fail(e, ENGINE_SYSTEM, "memory");
}

/* Drop one export (unless a dry run), log it and list it. */
static int discard_one(mvs_engine *e, discard_state *d, int64_t cs_id)
{
  cs_row cs;
  pe_row pe;
  const char *conn, *label;
  bool drop_object;

  mvs_arena_reset(e->scratch);
  if (store_cs_get(e->st, cs_id, e->scratch, &cs) != STORE_OK ||
      store_pe_get(e->st, cs_id, e->scratch, &pe) != STORE_OK ||
      store_connector_name(e->st, cs.connector, e->scratch, &conn) != STORE_OK ||
      label_cs(e, &cs, e->scratch, &label) != 0)
    return -1;
  if (d->o->deletes_only && pe.op != PE_DELETE)
    return 0;
  /* An add never sent stands for an object the directory does not have. */
  drop_object = pe.op == PE_ADD && !cs.present;
  if (!d->o->dry_run &&
      (drop_object ? store_cs_delete(e->st, cs_id) : store_pe_delete(e->st, cs_id)) != STORE_OK)
    return -1;
  d->by_op[pe.op & 3]++;
  if (!d->o->dry_run)
    engine_logf(e, "%s: discarded pending %s %s", conn, op_names[pe.op & 3], label);
  if (d->json) {
    buf_adds(&d->items, d->items.len ? ",\n  {\"connector\": " : "\n  {\"connector\": ");
    json_str_write(&d->items, conn, strlen(conn));
    buf_printf(&d->items, ", \"object\": %lld, \"dn\": ", (long long)cs_id);
    json_str_write(&d->items, label, strlen(label));
    buf_printf(&d->items, ", \"op\": \"%s\"}", op_names[pe.op & 3]);
  } else {
    buf_printf(&d->items, "  %s %s %s (cs %lld)\n", conn, op_names[pe.op & 3], label,
               (long long)cs_id);
  }
  return 0;
}

static void render(discard_state *d, int64_t run_id)
{
  int64_t n = d->by_op[0] + d->by_op[1] + d->by_op[2] + d->by_op[3];
  const char *conn = d->o->connector;
  buf *out = d->out;

  if (d->json) {
    buf_printf(out, "{\"dry_run\": %s, \"run\": ", d->o->dry_run ? "true" : "false");
    if (run_id)
      buf_printf(out, "%lld", (long long)run_id);
    else
      buf_adds(out, "null");
    buf_printf(out, ", \"discarded\": {\"add\": %lld, \"update\": %lld, \"delete\": %lld, "
               "\"rename\": %lld}, \"kept_sent\": %lld, \"exports\": [%s%s]}\n",
               (long long)d->by_op[PE_ADD], (long long)d->by_op[PE_UPDATE],
               (long long)d->by_op[PE_DELETE], (long long)d->by_op[PE_RENAME],
               (long long)d->kept_sent, d->items.p ? d->items.p : "", d->items.len ? "\n" : "");
    return;
  }
  if (d->o->dry_run)
    buf_adds(out, "dry run: nothing was changed; it would discard:\n");
  buf_add(out, d->items.p ? d->items.p : "", d->items.len);
  buf_printf(out, "%s %lld pending export%s%s%s (%lld deletes, %lld adds, %lld updates, "
             "%lld renames)",
             d->o->dry_run ? "would discard" : "discarded", (long long)n, n == 1 ? "" : "s",
             conn ? " of " : "", conn ? conn : "", (long long)d->by_op[PE_DELETE],
             (long long)d->by_op[PE_ADD], (long long)d->by_op[PE_UPDATE],
             (long long)d->by_op[PE_RENAME]);
  if (d->kept_sent)
    buf_printf(out, "; kept %lld sent (waiting for the confirming import)",
               (long long)d->kept_sent);
  if (run_id)
    buf_printf(out, "; recorded as run %lld (`mvsync runs`)", (long long)run_id);
  buf_addc(out, '\n');
}

int engine_pending_discard(mvs_engine *e, const discard_opts *o, bool json, buf *out)
{
  discard_state d;
  run_result r;
  id_list ids = {0};
  int64_t cid = 0, run_id = 0, t0 = engine_now_ms();
  size_t i, log_from = e->log.len;
  char started[32];
  int rc;

  memset(&d, 0, sizeof d);
  d.o = o;
  d.json = json;
  d.out = out;
  buf_init(&d.items, 0);
  schedule_iso((int64_t)time(NULL), started);
  e->errmsg[0] = '\0';
  if (o->connector && store_connector_find(e->st, o->connector, &cid) != STORE_OK) {
    engine_errorf(e, "no connector \"%s\" in the store", o->connector);
    return ENGINE_INVALID;
  }
  if (!o->dry_run && store_begin(e->st) != STORE_OK)
    return engine_fail(e, ENGINE_SYSTEM, "pending --discard");
  if ((rc = select_exports(e, &d, cid, &ids)) != ENGINE_OK)
    goto out;
  rc = ENGINE_SYSTEM;
  for (i = 0; i < ids.n; i++)
    if (discard_one(e, &d, ids.ids[i]) != 0)
      goto out;
  if (!o->dry_run) {
    /* The record of what was dropped commits with the drops. */
    memset(&r, 0, sizeof r);
    r.adds = d.by_op[PE_ADD];
    r.updates = d.by_op[PE_UPDATE] + d.by_op[PE_RENAME];
    r.deletes = d.by_op[PE_DELETE];
    snprintf(r.status, sizeof r.status, "%s", engine_run_status(ENGINE_OK));
    e->res = &r;
    e->in_tx = true;
    rc = engine_record_run(e, "discard-pending", o->connector, started, engine_now_ms() - t0,
                           log_from, &run_id);
    e->in_tx = false;
    e->res = NULL;
    if (rc != 0 || store_commit(e->st) != STORE_OK) {
      rc = ENGINE_SYSTEM;
      goto out;
    }
  }
  render(&d, run_id);
  rc = ENGINE_OK;
out:
  if (rc != ENGINE_OK && !o->dry_run)
    store_rollback(e->st);
  id_list_free(&ids);
  buf_free(&d.items);
  return engine_fail(e, rc, "pending --discard");
}
