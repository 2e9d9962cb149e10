/* import — full and delta imports of a file directory.
 * An import reads the change log twice and the snapshot once: pass one notes every DN (id)
 * the log names; pass two streams the snapshot, handing untouched objects straight to the
 * engine and keeping the touched ones; pass three applies the log to those (a delta import
 * delivers the records after its watermark).  Memory is one object plus the objects the log
 * touches, whatever the snapshot's size.  Memory: see connector.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/file/file_int.h"
#include "connectors/file/fobj.h"
#include "schema/array.h"

typedef struct import_ctx {
  connector *c;
  const conn_sink *sink;
  conn_import_mode mode;
  int64_t from; /* delta: change records at or after this offset are delivered */
  fstate *st;
  hmap seen_anchor, seen_key; /* every snapshot object by hash, to refuse duplicates */
  conn_attr *out;             /* attributes being delivered (filtered) */
  size_t cap_out;
  char **err;
} import_ctx;

static bool want_type(const connector *c, const char *type)
{
  for (size_t i = 0; i < c->n_types; i++)
    if (strcasecmp(c->types[i], type) == 0)
      return true;
  return c->n_types == 0;
}

static bool want_attr(const connector *c, const char *name)
{
  return c->n_attrs == 0 ||
         bsearch(&name, c->attrs, c->n_attrs, sizeof *c->attrs, fc_cmp_name) != NULL;
}

/* Hand one object to the engine, keeping the attributes and types the config asks for. */
static int deliver(import_ctx *x, conn_change change, const char *anchor, const char *dn,
                   const char *type, const conn_attr *attrs, size_t n, const char *origin)
{
  conn_object o = {change, anchor, dn, type, NULL, 0, origin};
  size_t k = 0;

  if (!want_type(x->c, type))
    return CONN_OK;
  if (array_reserve(&x->out, &x->cap_out, n, sizeof *x->out) != 0)
    return CONN_ERR_NOMEM;
  for (size_t i = 0; i < n; i++)
    if (want_attr(x->c, attrs[i].name))
      x->out[k++] = attrs[i];
  o.attrs = x->out;
  o.n_attrs = k;
  if (x->sink->object(x->sink->u, &o) != 0) {
    *x->err = fc_printf("%s: import stopped at %s", x->c->name, origin ? origin : dn);
    return CONN_ERR_ABORTED;
  }
  return CONN_OK;
}

/* Deliver the attribute changes of ch the way an object (complete) or an update gives them:
 * one REPLACE per attribute with its values, or the values added and removed. */
static int deliver_change(import_ctx *x, conn_change change, const fentry *e, const fchange *ch)
{
  bool complete = change != CONN_OBJ_UPDATE;
  bool plain = complete;
  fobj o = {0};
  conn_attr *attrs;
  size_t n;
  int rc;

  /* Snapshot entries and adds mostly are one REPLACE with values per attribute already. */
  for (size_t i = 0; plain && i < ch->n_attrs; i++)
    plain = ch->attrs[i].op == CONN_ATTR_REPLACE && !mvs_is_null(ch->attrs[i].value);
  if (plain)
    return deliver(x, change, e ? e->anchor : ch->anchor, e ? e->dn : ch->dn,
                   e ? e->type : ch->type, ch->attrs, ch->n_attrs, ch->origin);
  for (size_t i = 0; i < ch->n_attrs; i++)
    if (fobj_apply(&o, &ch->attrs[i], complete) != 0) {
      fobj_free(&o);
      return CONN_ERR_NOMEM;
    }
  attrs = malloc((2 * o.n + 1) * sizeof *attrs);
  if (!attrs) {
    fobj_free(&o);
    return CONN_ERR_NOMEM;
  }
  n = fobj_emit(&o, complete, attrs);
  rc = deliver(x, change, e ? e->anchor : ch->anchor, e ? e->dn : ch->dn, e ? e->type : ch->type,
               attrs, n, ch->origin);
  free(attrs);
  fobj_free(&o);
  return rc;
}

static int apply_failed(import_ctx *x, int rc, const char *msg)
{
  if (rc == -2) {
    *x->err = fc_printf("%s: out of memory", x->c->name);
    return CONN_ERR_NOMEM;
  }
  *x->err = strdup(msg);
  return CONN_ERR_DATA;
}

/* Pass one: the DNs (ids) the change log names. */
static int touch_change(void *u, const fchange *ch)
{
  import_ctx *x = u;
  if (fstate_touch(x->st, ch) != 0) {
    *x->err = fc_printf("%s: out of memory", x->c->name);
    return CONN_ERR_NOMEM;
  }
  return CONN_OK;
}

/* Refuse a second snapshot object with an anchor or DN seen before, remembering each by
 * hash and line (16 bytes an object, where keeping the strings would cost a hundred). */
static int check_unique(import_ctx *x, hmap *m, const char *what, const char *key,
                        const char *shown, const fchange *ch)
{
  uint64_t h = hmap_hash(key, strlen(key));
  size_t it = 0;
  uintptr_t first = hmap_next(m, h, &it);
  const char *colon = strrchr(ch->origin, ':');

  if (first) {
    *x->err = fc_printf("%s: %s %s is used twice (first on line %lu)", ch->origin, what, shown,
                        (unsigned long)first);
    return CONN_ERR_DATA;
  }
  if (hmap_put(m, h, (uintptr_t)strtoul(colon ? colon + 1 : "0", NULL, 10)) != 0) {
    *x->err = fc_printf("%s: out of memory", x->c->name);
    return CONN_ERR_NOMEM;
  }
  return CONN_OK;
}

/* Each DN (id) and anchor once in the snapshot. */
static int check_snapshot_unique(import_ctx *x, const fchange *ch)
{
  buf key;
  int rc = CONN_ERR_NOMEM;

  buf_init(&key, 0);
  if (dn_key(ch->dn, strlen(ch->dn), &key) == BUF_OK && buf_addc(&key, '\0') == BUF_OK)
    rc = check_unique(x, &x->seen_key, x->c->shape->ldap ? "DN" : "id", key.p, ch->dn, ch);
  buf_free(&key);
  if (rc == CONN_ERR_NOMEM)
    *x->err = fc_printf("%s: out of memory", x->c->name);
  if (rc == CONN_OK && x->c->shape->ldap && strcmp(ch->anchor, ch->dn) != 0)
    rc = check_unique(x, &x->seen_anchor, x->c->shape->anchor_attr, ch->anchor, ch->anchor, ch);
  return rc;
}

/* Pass two: one snapshot object. */
static int snapshot_object(void *u, const fchange *ch)
{
  import_ctx *x = u;
  char msg[512];
  fentry *e;
  fev ev;
  int rc;

  if (ch->kind == FCH_DELETE)
    return CONN_OK; /* a removal in an initial Graph sync: nothing to remove yet */
  if (!ch->type) {
    *x->err = fc_printf("%s: object %s has no type (list it under \"users\", \"groups\", ... or "
                        "give \"@odata.type\")",
                        ch->origin, ch->dn);
    return CONN_ERR_DATA;
  }
  if ((rc = check_snapshot_unique(x, ch)) != CONN_OK)
    return rc;
  if (fstate_touched(x->st, ch)) {
    if ((rc = fstate_apply(x->st, ch, &e, &ev, msg, sizeof msg)) != 0)
      return apply_failed(x, rc, msg);
    return CONN_OK;
  }
  return x->mode == CONN_IMPORT_FULL ? deliver_change(x, CONN_OBJ_FULL, NULL, ch) : CONN_OK;
}

/* An LDAP add whose anchor belongs to a snapshot entry the log never named (so not in the
 * state, which checks the others). */
static int check_new_anchor(import_ctx *x, const fchange *ch)
{
  size_t it = 0;
  uintptr_t line;
  if (ch->kind != FCH_ENTRY || strcmp(ch->anchor, ch->dn) == 0 ||
      fstate_knows_anchor(x->st, ch->anchor))
    return CONN_OK;
  line = hmap_next(&x->seen_anchor, hmap_hash(ch->anchor, strlen(ch->anchor)), &it);
  if (!line)
    return CONN_OK;
  *x->err = fc_printf("%s: %s %s is already the anchor of the entry on line %lu of %s", ch->origin,
                      x->c->shape->anchor_attr, ch->anchor, (unsigned long)line, x->c->path);
  return CONN_ERR_DATA;
}

/* Pass three: one change record, applied; a delta import delivers those after the mark. */
static int log_change(void *u, const fchange *ch)
{
  import_ctx *x = u;
  char msg[512];
  fentry *e;
  fev ev;
  int rc = check_new_anchor(x, ch);

  if (rc != CONN_OK)
    return rc;
  if ((rc = fstate_apply(x->st, ch, &e, &ev, msg, sizeof msg)) != 0)
    return apply_failed(x, rc, msg);
  if (x->mode != CONN_IMPORT_DELTA || ch->offset < x->from)
    return CONN_OK;
  switch (ev) {
  case FEV_ADD:
    return deliver_change(x, CONN_OBJ_ADD, e, ch);
  case FEV_UPDATE:
    return deliver_change(x, CONN_OBJ_UPDATE, e, ch);
  case FEV_DELETE:
    return deliver(x, CONN_OBJ_DELETE, e->anchor, e->dn, e->type, NULL, 0, ch->origin);
  case FEV_NONE:
    break;
  }
  return CONN_OK;
}

/* A full import ends with the objects the change log touched, as they are now. */
static int deliver_kept(import_ctx *x)
{
  conn_attr *attrs = NULL;
  size_t cap = 0;
  int rc = CONN_OK;

  for (size_t i = 0; i < x->st->n && rc == CONN_OK; i++) {
    const fentry *e = x->st->e[i];
    size_t n;
    if (!e->alive)
      continue;
    if (array_reserve(&attrs, &cap, 2 * e->attrs.n + 1, sizeof *attrs) != 0) {
      rc = CONN_ERR_NOMEM;
      break;
    }
    n = fobj_emit(&e->attrs, true, attrs);
    rc = deliver(x, CONN_OBJ_FULL, e->anchor, e->dn, e->type, attrs, n, e->origin);
  }
  free(attrs);
  return rc;
}

int fc_import(connector *c, conn_import_mode mode, const char *watermark, const conn_sink *sink,
              char **new_watermark, char **err)
{
  import_ctx x = {c, sink, mode, 0, NULL, {0}, {0}, NULL, 0, err};
  fingerprint fp;
  source log = {c, c->changes, true, 0, touch_change, &x};
  source snap = {c, c->path, false, 0, snapshot_object, &x};
  uint64_t tail;
  int rc;

  *new_watermark = NULL;
  *err = NULL;
  if ((rc = fc_fingerprint(c, -1, &fp, err)) != CONN_OK)
    return rc;
  if (mode == CONN_IMPORT_DELTA &&
      (rc = fc_watermark_check(c, watermark, &fp, &x.from, err)) != CONN_OK)
    return rc;
  /* Only what existed when the import began: an export appending now is the next import's. */
  log.end = fp.log_size;
  snap.end = fp.snap_size;
  if (!(x.st = fstate_new(c->shape, mode == CONN_IMPORT_FULL))) {
    rc = CONN_ERR_NOMEM;
    goto out;
  }
  if ((rc = fc_read(&log, err)) != CONN_OK || (rc = fc_read(&snap, err)) != CONN_OK)
    goto out;
  log.fn = log_change;
  if ((rc = fc_read(&log, err)) != CONN_OK)
    goto out;
  if (mode == CONN_IMPORT_FULL && (rc = deliver_kept(&x)) != CONN_OK)
    goto out;
  if (fc_tail_hash(c->changes, -1, fp.log_size, &tail, NULL) != 0) {
    rc = CONN_ERR_IO;
    *err = fc_printf("%s: %s", c->changes, strerror(errno));
    goto out;
  }
  if (!(*new_watermark = fc_watermark_format(fp.log_size, tail, &fp)))
    rc = CONN_ERR_NOMEM;
out:
  if (rc == CONN_ERR_NOMEM && !*err)
    *err = fc_printf("%s: out of memory", c->name);
  fstate_free(x.st);
  hmap_free(&x.seen_anchor);
  hmap_free(&x.seen_key);
  free(x.out);
  return rc;
}
