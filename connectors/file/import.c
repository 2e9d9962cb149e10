/* import — full and delta imports of a file directory.
 * A full import reads the change log twice and the snapshot once: pass one notes every DN
 * (id) the log names; pass two streams the snapshot, handing untouched objects straight to
 * the engine and keeping the touched ones; pass three applies the log to those.  Memory is
 * one object plus the objects the log touches, whatever the snapshot's size.
 * A delta import reads only the log after its watermark when the engine can say what the
 * objects it names were (conn_sink.lookup): it asks for each, checks that the records apply
 * to those answers as they would to the directory, then asks again and applies them to the
 * fresh answers, delivering (one state of the window in memory at a time; a modify of a DN
 * the window names once is checked and delivered from the engine's answer alone, never kept).
 * When it cannot be sure it reads everything as a full import does (the reason goes to the
 * run log) and delivers the records after the watermark.  See
 * docs/internals/file-connector.md.  Memory: see connector.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/file/file_int.h"
#include "connectors/file/fobj.h"
#include "schema/array.h"

/* A callback's answer that ends the fast delta import: read everything instead. */
#define FALL_BACK (-1)

typedef struct import_ctx {
  connector *c;
  const conn_sink *sink;
  conn_import_mode mode;
  int64_t from; /* delta: change records at or after this offset are delivered */
  fstate *st;
  hmap seen_anchor, seen_key; /* every snapshot object by hash, to refuse duplicates */
  conn_attr *out;             /* attributes being delivered (filtered) */
  size_t cap_out;
  bool dns_folded;    /* every entry DN read so far is in folded key form (dn_folds_to_key) */
  bool all_wanted;    /* every live entry is of a type delivered (so the engine holds it) */
  bool engine_proves; /* fast delta: the engine holds every entry, findable by folded DN */
  bool counted;       /* fast delta: the window's DNs are counted (named_once, named_more) */
  bool checked;       /* fast delta: the window applies to the engine's answers */
  hmap named_once, named_more; /* fast delta: DN keys the window names, by hash */
  char *fall_back;    /* fast delta: why it cannot be sure (malloc'd) */
  buf key;            /* fast delta: a DN's key */
  char **err;
} import_ctx;

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

  if (!fc_want_type(x->c, type))
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

/* The DNs an entry gets (a snapshot entry, an add, a rename's new DN): whether each is in
 * the form the engine's case-folded lookup finds by any spelling. */
static void note_dns(import_ctx *x, const fchange *ch)
{
  const char *dn = ch->kind == FCH_RENAME ? ch->new_dn
                   : ch->kind == FCH_ENTRY || ch->kind == FCH_UPSERT ? ch->dn
                                                                      : NULL;
  if (x->dns_folded && dn && !dn_folds_to_key(dn, strlen(dn)))
    x->dns_folded = false;
}

/* Pass one: the DNs (ids) the change log names. */
static int touch_change(void *u, const fchange *ch)
{
  import_ctx *x = u;
  note_dns(x, ch);
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
  note_dns(x, ch);
  if (fstate_touched(x->st, ch)) {
    if ((rc = fstate_apply(x->st, ch, &e, &ev, msg, sizeof msg)) != 0)
      return apply_failed(x, rc, msg);
    return CONN_OK;
  }
  if (!fc_want_type(x->c, ch->type))
    x->all_wanted = false;
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

/* The fast delta import's lone modifies (below). */
static bool lone_modify(import_ctx *x, const fchange *ch);
static int deliver_lone(import_ctx *x, const fchange *ch);

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
  if (lone_modify(x, ch))
    return deliver_lone(x, ch);
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

/* ---- the fast delta import: the log after the watermark, and the engine's answers ---- */

static int fall_back(import_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fall_back(import_ctx *x, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (!x->fall_back && vasprintf(&x->fall_back, fmt, ap) < 0)
    x->fall_back = NULL;
  va_end(ap);
  return FALL_BACK;
}

static int lookup_failed(import_ctx *x)
{
  *x->err = fc_printf("%s: the engine's lookup failed", x->c->name);
  return CONN_ERR_ABORTED;
}

/* Seed the state with what the engine found, when it is the object asked for (the DN, when
 * given, is the same DN).  CONN_OK or FALL_BACK. */
static int seed_found(import_ctx *x, const conn_found *f, const char *dn)
{
  int sr;
  if (!f->anchor || !f->dn || !f->object_type ||
      (dn && !dn_equal(f->dn, strlen(f->dn), dn, strlen(dn))))
    return fall_back(x, "the engine's object for %s is not that entry", dn ? dn : f->anchor);
  if ((sr = fstate_seed(x->st, f->anchor, f->dn, f->object_type)) == -2)
    return CONN_ERR_NOMEM;
  if (sr < 0)
    return fall_back(x, "the engine holds two objects for %s", f->dn);
  return CONN_OK;
}

/* Ask the engine for the entry at dn (fc_lookup_dn).  *sure: when not found, whether that
 * proves no entry has the DN (every DN the engine holds is in folded key form, and so is
 * the one asked). */
static int lookup_dn(import_ctx *x, const char *dn, conn_found *f, bool *found, bool *sure)
{
  bool key_folded;
  int r = fc_lookup_dn(x->sink->lookup, x->sink->u, dn, &x->key, f, &key_folded);

  if (r == -2)
    return CONN_ERR_NOMEM;
  if (r < 0)
    return lookup_failed(x);
  *found = r == 1;
  *sure = *found || (x->engine_proves && key_folded);
  return CONN_OK;
}

/* Ask the engine for the entry at dn and seed it (see lookup_dn). */
static int seed_dn(import_ctx *x, const char *dn, bool *found, bool *sure)
{
  conn_found f;
  int rc = lookup_dn(x, dn, &f, found, sure);
  return rc == CONN_OK && *found ? seed_found(x, &f, dn) : rc;
}

/* The window's DNs (a rename's new DN too), counted by the hash of their key: seen once, or
 * more.  A modify of a DN named once leaves the entry as the engine holds it, so the state
 * never keeps it (a confirming import's window modifies every entry the export changed:
 * 16 bytes a DN here, where an entry in the state costs about 300). */
static int count_dn(import_ctx *x, const char *dn, uint64_t *h)
{
  buf_reset(&x->key);
  if (dn_key(dn, strlen(dn), &x->key) != BUF_OK)
    return CONN_ERR_NOMEM;
  *h = hmap_hash(x->key.p, x->key.len);
  return CONN_OK;
}

static int count_change(void *u, const fchange *ch)
{
  import_ctx *x = u;
  const char *dns[2] = {ch->dn, ch->kind == FCH_RENAME ? ch->new_dn : NULL};
  for (int i = 0; i < 2 && dns[i]; i++) {
    uint64_t h;
    size_t it = 0;
    hmap *m = &x->named_once;
    if (count_dn(x, dns[i], &h) != CONN_OK)
      return CONN_ERR_NOMEM;
    if (hmap_next(&x->named_more, h, &it))
      continue;
    it = 0;
    if (hmap_next(&x->named_once, h, &it))
      m = &x->named_more;
    if (hmap_put(m, h, 1) != 0)
      return CONN_ERR_NOMEM;
  }
  return CONN_OK;
}

/* A modify of an entry the window names nowhere else: checked and delivered from the
 * engine's answer alone.  (Two DNs of one hash count as one DN named twice: kept.) */
static bool lone_modify(import_ctx *x, const fchange *ch)
{
  uint64_t h;
  size_t it = 0;
  if (!x->counted || ch->kind != FCH_MODIFY || count_dn(x, ch->dn, &h) != CONN_OK)
    return false;
  return hmap_next(&x->named_more, h, &it) == 0;
}

/* The engine's entry for a lone modify, when it is that entry: CONN_OK or FALL_BACK. */
static int lone_target(import_ctx *x, const fchange *ch, conn_found *f)
{
  bool found, sure;
  int rc = lookup_dn(x, ch->dn, f, &found, &sure);
  if (rc != CONN_OK)
    return rc;
  if (!found)
    return fall_back(x, "%s: no entry %s to modify", ch->origin, ch->dn);
  if (!f->anchor || !f->dn || !f->object_type ||
      !dn_equal(f->dn, strlen(f->dn), ch->dn, strlen(ch->dn)))
    return fall_back(x, "the engine's object for %s is not that entry", ch->dn);
  return CONN_OK;
}

/* A lone modify (see lone_modify), delivered with the engine's identity of the entry: the
 * records before it did not change that (nothing else names it), and the check pass found
 * it.  The answer is copied: delivering may reuse the sink's memory. */
static int deliver_lone(import_ctx *x, const fchange *ch)
{
  conn_found f;
  fentry e = {0};
  char *type = NULL;
  int rc = lone_target(x, ch, &f);

  if (rc == FALL_BACK) {
    *x->err = fc_printf("%s: the engine's answer for %s changed while delivering (%s)",
                        x->c->name, ch->dn, x->fall_back ? x->fall_back : "");
    return CONN_ERR_DATA;
  }
  if (rc != CONN_OK)
    return rc;
  e.anchor = strdup(f.anchor);
  e.dn = strdup(f.dn);
  e.type = type = strdup(f.object_type);
  rc = e.anchor && e.dn && type ? deliver_change(x, CONN_OBJ_UPDATE, &e, ch) : CONN_ERR_NOMEM;
  free(e.anchor);
  free(e.dn);
  free(type);
  return rc;
}

/* Pass one: every entry a record names, as the engine holds it.  An add needs its DN free
 * and its anchor known; a rename needs its new DN free in the engine (an export's rename is
 * there already: the engine moved the object when the directory took it). */
static int seed_change(void *u, const fchange *ch)
{
  import_ctx *x = u;
  bool add = ch->kind == FCH_ENTRY || ch->kind == FCH_UPSERT, found, sure;
  conn_found f;
  int rc, r;

  if (lone_modify(x, ch))
    /* Checked on the first pass; delivered from a fresh answer (log_change). */
    return x->checked ? CONN_OK : lone_target(x, ch, &f);
  note_dns(x, ch);
  if ((rc = seed_dn(x, ch->dn, &found, &sure)) != CONN_OK)
    return rc;
  if (add && !sure)
    return fall_back(x, "%s: cannot tell from the engine whether %s is free", ch->origin, ch->dn);
  if (add && ch->anchor) {
    if ((r = x->sink->lookup(x->sink->u, NULL, ch->anchor, &f)) < 0)
      return lookup_failed(x);
    /* Not found is free only when the engine holds every entry (an entry of a type not
     * imported may hold the anchor: the full reading refuses the add). */
    if (r == 0 && !x->all_wanted)
      return fall_back(x, "%s: cannot tell from the engine whether anchor %s is free", ch->origin,
                       ch->anchor);
    if (r == 1 && (!f.anchor || strcmp(f.anchor, ch->anchor) != 0))
      return fall_back(x, "the engine's object for anchor %s has another anchor", ch->anchor);
    if (r == 1 && (rc = seed_found(x, &f, NULL)) != CONN_OK)
      return rc;
  }
  if (ch->kind != FCH_RENAME)
    return CONN_OK;
  if ((rc = seed_dn(x, ch->new_dn, &found, &sure)) != CONN_OK)
    return rc;
  if (found || !sure)
    return fall_back(x, "%s: the engine %s %s, the new DN of %s", ch->origin,
                     found ? "already holds" : "cannot tell whether it holds", ch->new_dn, ch->dn);
  return CONN_OK;
}

/* Pass two: the records apply to the engine's answers, without delivering. */
static int check_change(void *u, const fchange *ch)
{
  import_ctx *x = u;
  char msg[512];
  fentry *e;
  fev ev;
  int rc;

  if (lone_modify(x, ch))
    return CONN_OK; /* the engine holds it (seed_change), and nothing else names it */
  /* The engine drops an object when the directory takes mvsync's delete of it, before
   * the import reads that delete: a Graph removal of an id the engine does not hold may be
   * of such an object (or of one never seen, which is no change), and an entry the window
   * creates and then deletes may have been created over such an object (the full reading
   * refuses an LDAP add over it; a Graph page before mvsync's removal updates it).  Only
   * the whole directory tells. */
  if (ch->kind == FCH_DELETE && !((e = fstate_by_dn(x->st, ch->dn)) && e->seeded))
    return fall_back(x, "%s: the engine holds no %s to delete", ch->origin, ch->dn);
  if ((rc = fstate_apply(x->st, ch, &e, &ev, msg, sizeof msg)) == -2)
    return CONN_ERR_NOMEM;
  return rc == 0 ? CONN_OK : fall_back(x, "%s", msg);
}

/* The log after the watermark with the engine's answers: CONN_OK (delivered), FALL_BACK
 * (nothing delivered; x->fall_back says why), or another CONN_* error.  *lines: the newlines
 * before the end of the log. */
static int import_fast(import_ctx *x, const fingerprint *fp, const fc_watermark *w, long *lines)
{
  connector *c = x->c;
  source log = {c, c->changes, true, w->off, 0, fp->log_size, count_change, x};
  long window = 0;
  bool delivering = false;
  int rc, at;

  x->all_wanted = w->fields == 8 && fc_holds_wanted(c, w->holds);
  x->dns_folded = w->fields == 8 && w->dns_folded;
  x->engine_proves = x->all_wanted && x->dns_folded;
  if (w->fields == 8)
    log.lines_before = w->lines;
  else if (fc_count_lines(c->changes, 0, w->off, &log.lines_before) != 0)
    goto io_error;
  if (w->off < fp->log_size) {
    if ((at = fc_record_starts_at(c->changes, c->shape->ldap, w->off, fp->log_size)) < 0)
      goto io_error;
    if (!at)
      return fall_back(x, "the watermark is not where a record starts");
  }
  if (fc_count_lines(c->changes, w->off, fp->log_size, &window) != 0)
    goto io_error;
  *lines = log.lines_before + window;
  if (!(x->st = fstate_new(c->shape, false)))
    return CONN_ERR_NOMEM;
  if ((rc = fc_read(&log, x->err)) != CONN_OK)
    goto out;
  hmap_free(&x->named_once); /* lone_modify asks named_more only */
  x->named_once = (hmap){0};
  x->counted = true;
  log.fn = seed_change;
  if ((rc = fc_read(&log, x->err)) != CONN_OK)
    goto out;
  log.fn = check_change;
  if ((rc = fc_read(&log, x->err)) != CONN_OK)
    goto out;
  x->checked = true;
  /* Deliver from the engine's answers again, not from the checked state: asked a second
   * time rather than copied, so the import holds one state of the window at a time (a
   * confirming import's window names every object the export changed).  Nothing is
   * delivered yet, so the answers are the same. */
  fstate_free(x->st);
  if (!(x->st = fstate_new(c->shape, false))) {
    rc = CONN_ERR_NOMEM;
    goto out;
  }
  log.fn = seed_change;
  if ((rc = fc_read(&log, x->err)) != CONN_OK)
    goto out;
  log.fn = log_change;
  delivering = true;
  rc = fc_read(&log, x->err);
out:
  /* A record the log cannot read there may read from its start: the full reading decides. */
  if (rc == CONN_ERR_DATA && !delivering && !x->fall_back) {
    rc = fall_back(x, "%s", *x->err ? *x->err : "unreadable");
    free(*x->err);
    *x->err = NULL;
  }
  if (rc == FALL_BACK) {
    fstate_free(x->st);
    x->st = NULL;
    x->counted = x->checked = false;
  }
  return rc;
io_error:
  *x->err = fc_printf("%s: %s", c->changes, strerror(errno));
  return CONN_ERR_IO;
}

/* Everything, as today's full import reads it: the log, the snapshot, the log again.
 * held: whether the engine held every entry before (a full import delivers everything; a
 * delta only the window, so entries of a type not imported then are still missing). */
static int import_all(import_ctx *x, const fingerprint *fp, bool held, long *lines)
{
  connector *c = x->c;
  source log = {c, c->changes, true, 0, 0, fp->log_size, touch_change, x};
  source snap = {c, c->path, false, 0, 0, fp->snap_size, snapshot_object, x};
  int rc;

  x->dns_folded = true;
  x->all_wanted = held;
  if (fc_count_lines(c->changes, 0, fp->log_size, lines) != 0) {
    *x->err = fc_printf("%s: %s", c->changes, strerror(errno));
    return CONN_ERR_IO;
  }
  if (!(x->st = fstate_new(c->shape, x->mode == CONN_IMPORT_FULL)))
    return CONN_ERR_NOMEM;
  if ((rc = fc_read(&log, x->err)) != CONN_OK || (rc = fc_read(&snap, x->err)) != CONN_OK)
    return rc;
  log.fn = log_change;
  if ((rc = fc_read(&log, x->err)) != CONN_OK)
    return rc;
  return x->mode == CONN_IMPORT_FULL ? deliver_kept(x) : CONN_OK;
}

int fc_import(connector *c, conn_import_mode mode, const char *watermark, const conn_sink *sink,
              char **new_watermark, char **err)
{
  import_ctx x = {.c = c, .sink = sink, .mode = mode, .err = err};
  fingerprint fp;
  fc_watermark w = {0};
  uint64_t tail;
  long lines = 0;
  int rc;

  *new_watermark = NULL;
  *err = NULL;
  buf_init(&x.key, 0);
  if ((rc = fc_fingerprint(c, -1, &fp, err)) != CONN_OK)
    return rc;
  if (mode == CONN_IMPORT_DELTA && (rc = fc_watermark_check(c, watermark, &fp, &w, err)) != CONN_OK)
    return rc;
  /* Only what existed when the import began: an export appending now is the next import's. */
  x.from = mode == CONN_IMPORT_DELTA ? w.off : 0;
  rc = FALL_BACK;
  if (mode == CONN_IMPORT_DELTA && sink->lookup &&
      (rc = import_fast(&x, &fp, &w, &lines)) == FALL_BACK && sink->log) {
    char *msg = fc_printf("delta import reads the whole directory: %s",
                          x.fall_back ? x.fall_back : "out of memory");
    sink->log(sink->u, msg ? msg : "delta import reads the whole directory");
    free(msg);
  }
  if (rc == FALL_BACK)
    /* A watermark from before the fast delta (5 fields) says nothing of types: such a
     * delta read everything and delivered the window, and trusting it is what that did. */
    rc = import_all(&x, &fp,
                    mode == CONN_IMPORT_FULL || w.fields == 5 ||
                        (w.fields == 8 && fc_holds_wanted(c, w.holds)),
                    &lines);
  if (rc != CONN_OK)
    goto out;
  if (fc_tail_hash(c->changes, -1, fp.log_size, &tail, NULL) != 0) {
    rc = CONN_ERR_IO;
    *err = fc_printf("%s: %s", c->changes, strerror(errno));
    goto out;
  }
  /* The live entries the state holds at the end: the others were checked as the snapshot
   * was read, or (a fast delta) are as the old watermark says. */
  for (size_t i = 0; x.st && i < x.st->n && x.all_wanted; i++)
    x.all_wanted = !x.st->e[i]->alive || fc_want_type(c, x.st->e[i]->type);
  if (!(*new_watermark = fc_watermark_format(fp.log_size, tail, &fp, lines, x.dns_folded,
                                             x.all_wanted ? fc_wanted_hash(c) : 0)))
    rc = CONN_ERR_NOMEM;
out:
  if (rc == CONN_ERR_NOMEM && !*err)
    *err = fc_printf("%s: out of memory", c->name);
  fstate_free(x.st);
  hmap_free(&x.seen_anchor);
  hmap_free(&x.seen_key);
  hmap_free(&x.named_once);
  hmap_free(&x.named_more);
  buf_free(&x.key);
  free(x.out);
  free(x.fall_back);
  return rc;
}
