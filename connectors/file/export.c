/* export — a batch of exports appended to the change log (and the export log) as change
 * records, after checking each the way the directory would: a failed change is reported and
 * the others go on.  The checks ask the engine (conn_export_env) when its last import read
 * the whole log, holding only the entries this handle's exports created or deleted (lean);
 * otherwise, or for what only the whole directory answers (an LDAP delete or rename: entries
 * below it), an index of every object (anchor, DN, type).  Memory: see connector.h; the
 * index lives in the connector until it closes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/dn.h"
#include "connectors/file/file_int.h"
#include "connectors/file/fobj.h"
#include "connectors/graph_json.h"
#include "connectors/file/ldif_map.h"
#include "connectors/guid.h"

/* Why a change failed, as the directory would say it: LDAP result codes for ad / ldap,
 * HTTP statuses for entra. */
typedef enum xerr { X_EXISTS, X_NO_OBJECT, X_NOT_LEAF, X_UNWILLING } xerr;
static const int ldap_codes[] = {68, 32, 66, 53};
static const int http_codes[] = {400, 404, 400, 400};

/* export_change's answers beside 0 and -2 (out of memory): the lean index cannot tell (run
 * the batch again with the whole index); the engine's lookup failed. */
#define LEAN_CANNOT_TELL (-3)
#define LOOKUP_FAILED (-4)

typedef struct export_ctx {
  connector *c;
  const conn_export_env *env;
  int fd;
  int64_t size;     /* the change log's size when the batch began */
  buf out;          /* the records of the batch */
  buf rec;          /* the records of one change */
  mvs_arena *arena; /* one change's values */
  buf key;          /* a DN's key (lean) */
  fentry found;     /* lean: the engine's entry for a target (strings in arena) */
  char msg[512];
} export_ctx;

static void set_failure(connector *c, conn_export_result *r, xerr why, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_failure(connector *c, conn_export_result *r, xerr why, const char *fmt, ...)
{
  va_list ap;
  r->ok = 0;
  r->code = c->shape->ldap ? ldap_codes[why] : http_codes[why];
  va_start(ap, fmt);
  if (vasprintf(&r->message, fmt, ap) < 0)
    r->message = NULL;
  va_end(ap);
}

/* Build the index of every object from the snapshot and the first `end` bytes of the log. */
static int index_apply(void *u, const fchange *ch)
{
  export_ctx *x = u;
  fentry *e;
  fev ev;
  int rc = fstate_apply(x->c->index, ch, &e, &ev, x->msg, sizeof x->msg);
  return rc == 0 ? CONN_OK : rc == -2 ? CONN_ERR_NOMEM : CONN_ERR_DATA;
}

/* Whether the index is of these files: the log as its first x->size bytes, the snapshot. */
static bool index_current(const export_ctx *x, const fingerprint *fp, uint64_t tail)
{
  const connector *c = x->c;
  return c->index && c->index_end == x->size && c->index_tail == tail &&
         c->index_snap_size == fp->snap_size &&
         c->index_snap_mtime.tv_sec == fp->snap_mtime.tv_sec &&
         c->index_snap_mtime.tv_nsec == fp->snap_mtime.tv_nsec;
}

static void index_mark(connector *c, int64_t end, uint64_t tail, const fingerprint *fp)
{
  c->index_end = end;
  c->index_tail = tail;
  c->index_snap_size = fp->snap_size;
  c->index_snap_mtime = fp->snap_mtime;
}

/* Start or go on with a lean index for this batch when the engine can answer for every entry
 * the batch does not create: its last import read the log to its end (nothing after the
 * watermark), every live entry then was of a type it imports, and the batch has no LDAP
 * delete or rename (whether entries lie below one only the whole directory tells).
 * 1 lean, 0 not (the whole index then), -2 out of memory. */
static int lean_begin(export_ctx *x, const fingerprint *fp, uint64_t tail,
                      const conn_export *changes, size_t n)
{
  connector *c = x->c;
  const conn_export_env *env = x->env;
  fc_watermark w;
  char *err = NULL;
  bool whole = false;

  for (size_t i = 0; c->shape->ldap && i < n; i++)
    whole |= changes[i].op == CONN_EXPORT_DELETE || changes[i].op == CONN_EXPORT_RENAME;
  if (c->index && !c->index_lean)
    return 0;
  if (!whole && index_current(x, fp, tail))
    return 1;
  fstate_free(c->index);
  c->index = NULL;
  if (whole || !env || !env->lookup || !env->watermark)
    return 0;
  if (fc_watermark_check(c, env->watermark, fp, &w, &err) != CONN_OK) {
    free(err);
    return 0;
  }
  if (w.fields != 8 || w.off != x->size || !fc_holds_wanted(c, w.holds))
    return 0;
  if (!(c->index = fstate_new(c->shape, false)))
    return -2;
  c->index_lean = true;
  c->lean_dns_folded = w.dns_folded;
  index_mark(c, x->size, tail, fp);
  return 1;
}

static int ensure_index(export_ctx *x, const fingerprint *fp, uint64_t tail, char **err)
{
  connector *c = x->c;
  source snap = {c, c->path, false, 0, 0, fp->snap_size, index_apply, x};
  source log = {c, c->changes, true, 0, 0, x->size, index_apply, x};
  int rc;

  if (!c->index_lean && index_current(x, fp, tail))
    return CONN_OK;
  fstate_free(c->index);
  c->index_lean = false;
  if (!(c->index = fstate_new(c->shape, false)))
    return CONN_ERR_NOMEM;
  x->msg[0] = '\0';
  if ((rc = fc_read(&snap, err)) == CONN_OK)
    rc = fc_read(&log, err);
  if (rc != CONN_OK) {
    if (!*err)
      *err = x->msg[0] ? strdup(x->msg) : fc_printf("%s: out of memory", c->name);
    fstate_free(c->index);
    c->index = NULL;
    return rc;
  }
  index_mark(c, x->size, tail, fp);
  return CONN_OK;
}

/* Apply ch to the index and write it to x->rec; on failure *r says why.  The engine's entry
 * for a lean target (x->found) is not in the index: a change that keeps its identity is
 * written without applying. */
static int stage(export_ctx *x, const fchange *ch, conn_export_result *r, xerr why)
{
  fentry *e;
  fev ev;
  size_t before = x->rec.len;
  int rc = x->c->shape->ldap ? ldif_write_change(ch, &x->rec)
                             : gj_write_change(ch, x->c->shape, &x->rec);

  if (rc == -1) {
    x->rec.len = before;
    set_failure(x->c, r, X_UNWILLING, "%s cannot be written as %s", ch->dn,
                x->c->shape->ldap ? "an LDIF record" : "a Graph delta page");
    return -1;
  }
  if (rc != BUF_OK)
    return -2;
  if (ch->anchor && ch->anchor == x->found.anchor)
    return 0;
  rc = fstate_apply(x->c->index, ch, &e, &ev, x->msg, sizeof x->msg);
  if (rc == -1) {
    x->rec.len = before;
    set_failure(x->c, r, why, "%s", x->msg);
  }
  return rc;
}

/* The values of the export's attribute changes for an add, merged per attribute. */
static int add_values(const conn_export *ex, fobj *o, conn_attr **attrs, size_t *n)
{
  for (size_t i = 0; i < ex->n_attrs; i++)
    if (ex->attrs[i].op == CONN_ATTR_DELETE || fobj_apply(o, &ex->attrs[i], true) != 0)
      return ex->attrs[i].op == CONN_ATTR_DELETE ? -1 : -2;
  if (!(*attrs = malloc((2 * o->n + 3) * sizeof **attrs)))
    return -2;
  *n = fobj_emit(o, true, *attrs);
  return 0;
}

/* A name-based anchor: the same history of exports gives the same anchors. */
static int new_anchor(export_ctx *x, const conn_export *ex, char out[37])
{
  char *name = fc_printf("%" PRId64 "\n%s", x->size + (int64_t)x->out.len, ex->dn ? ex->dn : "");
  int rc = name ? guid_v5(name, strlen(name), out) : -1;
  free(name);
  return rc;
}

/* The objectClass values of a new entry of this type: the shape's chain, else the type. */
static int class_values(export_ctx *x, const char *type, mvs_value *out)
{
  const shape_type *t = shape_type_find(x->c->shape, type);
  const char *p = t ? t->classes : type;
  mvs_value items[16];
  size_t n = 0;

  while (*p && n < 16) {
    size_t len = strcspn(p, ",");
    if (mvs_str_copy(x->arena, p, len, &items[n++]) != 0)
      return -2;
    p += len + (p[len] == ',');
  }
  return mvs_mv_make(x->arena, items, n, out) == 0 ? 0 : -2;
}

/* Add the attribute=value pairs of the DN's RDN that attrs[0..*k) lacks (a directory takes
 * them from the DN).  Returns 0, -1 when the DN is not one, -2 when out of memory. */
static int rdn_values(export_ctx *x, const char *dn, conn_attr *attrs, size_t *k, size_t max)
{
  buf an, av;
  size_t pos = 0, rdn = dn_rdn_len(dn, strlen(dn));
  int more, rc = 0;

  buf_init(&an, 0);
  buf_init(&av, 0);
  while (rc == 0 && (more = dn_ava_next(dn, rdn, &pos, &an, &av)) == 1 && *k < max) {
    bool have = false;
    char *name;
    mvs_value v;
    for (size_t i = 0; i < *k; i++)
      have |= strcasecmp(attrs[i].name, an.p) == 0;
    if (have)
      continue;
    if (!(name = mvs_arena_memdup(x->arena, an.p, an.len)) ||
        mvs_str_copy(x->arena, av.p ? av.p : "", av.len, &v) != 0)
      rc = -2;
    else
      attrs[(*k)++] = (conn_attr){name, CONN_ATTR_REPLACE, v};
  }
  if (rc == 0 && more < 0)
    rc = -1;
  buf_free(&an);
  buf_free(&av);
  return rc;
}

static bool all_refs(mvs_value v)
{
  for (size_t i = 0; i < mvs_count(v); i++)
    if (mvs_item(v, i).type != MVS_V_REF)
      return false;
  return mvs_count(v) > 0;
}

/* The attributes of an LDAP add: objectClass first (from the type when the export has none),
 * the anchor the directory assigns, the given ones, the RDN values. */
static int ldap_add_attrs(export_ctx *x, const conn_export *ex, const char *anchor,
                          const conn_attr *attrs, size_t n, conn_attr *all, size_t *k, size_t max)
{
  const shape *s = x->c->shape;
  const conn_attr *oc = NULL;
  unsigned char *g;
  mvs_value classes, anchor_v;

  for (size_t i = 0; i < n; i++)
    if (strcasecmp(attrs[i].name, "objectClass") == 0)
      oc = &attrs[i];
  if (!oc && class_values(x, ex->object_type, &classes) != 0)
    return -2;
  all[(*k)++] = oc ? *oc : (conn_attr){"objectClass", CONN_ATTR_REPLACE, classes};
  if (shape_syntax_of(s, s->anchor_attr) == SYN_GUID) {
    if (!(g = mvs_arena_alloc(x->arena, 16)))
      return -2;
    guid_parse_ms(anchor, GUID_TEXT_LEN, g);
    anchor_v = mvs_bin_ref(g, 16);
  } else {
    anchor_v = mvs_str_ref(anchor, GUID_TEXT_LEN);
  }
  all[(*k)++] = (conn_attr){s->anchor_attr, CONN_ATTR_REPLACE, anchor_v};
  for (size_t i = 0; i < n; i++)
    if (&attrs[i] != oc)
      all[(*k)++] = attrs[i];
  return rdn_values(x, ex->dn, all, k, max);
}

/* A copy of the engine's answer in the change's arena; -2 when out of memory. */
static int keep_found(export_ctx *x, const conn_found *f)
{
  x->found.anchor = mvs_arena_memdup(x->arena, f->anchor, strlen(f->anchor));
  x->found.dn = mvs_arena_memdup(x->arena, f->dn, strlen(f->dn));
  x->found.type = mvs_arena_memdup(x->arena, f->object_type, strlen(f->object_type));
  x->found.alive = true;
  return x->found.anchor && x->found.dn && x->found.type ? 0 : -2;
}

/* The live object an update, rename or delete names: *e, or NULL with *r saying so.  A lean
 * index answers for the entries it holds, the engine for the others (x->found; a Graph
 * removal seeds it into the index, which then remembers it removed).  0, -2, LEAN_CANNOT_TELL
 * or LOOKUP_FAILED. */
static int target(export_ctx *x, const conn_export *ex, conn_export_result *r, fentry **e)
{
  fstate *st = x->c->index;
  conn_found f;
  int found;

  *e = ex->anchor ? fstate_by_anchor(st, ex->anchor) : NULL;
  if (!*e && ex->anchor && x->c->index_lean && !fstate_knows_anchor(st, ex->anchor)) {
    if ((found = x->env->lookup(x->env->u, NULL, ex->anchor, &f)) < 0)
      return LOOKUP_FAILED;
    if (found && (!f.anchor || strcmp(f.anchor, ex->anchor) != 0 || !f.dn || !f.object_type))
      return LEAN_CANNOT_TELL;
    if (found && keep_found(x, &f) != 0)
      return -2;
    if (found && ex->op == CONN_EXPORT_DELETE) {
      found = fstate_seed(st, x->found.anchor, x->found.dn, x->found.type);
      if (found < 0)
        return found == -2 ? -2 : LEAN_CANNOT_TELL;
      *e = fstate_by_anchor(st, ex->anchor);
      x->found.anchor = NULL;
    } else if (found) {
      *e = &x->found;
    }
  }
  if (!*e)
    set_failure(x->c, r, X_NO_OBJECT, "no object with %s %s (%s)", x->c->shape->anchor_attr,
                ex->anchor ? ex->anchor : "(none)", ex->dn ? ex->dn : "no DN");
  return 0;
}

/* A lean index's check that an add's DN (id) and anchor are free where it holds nothing of
 * them: the engine holds every entry (lean_begin), so its answer is the directory's, and
 * not finding a DN proves it free when every DN it holds is in folded key form (and so is
 * this one).  1 free, 0 taken (*r says so), -2, LEAN_CANNOT_TELL or LOOKUP_FAILED. */
static int lean_add_free(export_ctx *x, const fchange *ch, conn_export_result *r)
{
  fstate *st = x->c->index;
  conn_found f;
  bool key_folded;
  int found;

  if (!x->c->index_lean)
    return 1;
  if (!fstate_knows_dn(st, ch->dn)) {
    found = fc_lookup_dn(x->env->lookup, x->env->u, ch->dn, &x->key, &f, &key_folded);
    if (found == -2 || found == -1)
      return found == -2 ? -2 : LOOKUP_FAILED;
    if (found) {
      set_failure(x->c, r, X_EXISTS, "an entry %s already exists", ch->dn);
      return 0;
    }
    if (!key_folded || !x->c->lean_dns_folded)
      return LEAN_CANNOT_TELL;
  }
  if (!fstate_knows_anchor(st, ch->anchor)) {
    if ((found = x->env->lookup(x->env->u, NULL, ch->anchor, &f)) < 0)
      return LOOKUP_FAILED;
    if (found) {
      set_failure(x->c, r, X_EXISTS, "%s %s is already the anchor of %s",
                  x->c->shape->anchor_attr, ch->anchor, f.dn ? f.dn : "another entry");
      return 0;
    }
  }
  return 1;
}

static int export_add(export_ctx *x, const conn_export *ex, conn_export_result *r)
{
  const shape *s = x->c->shape;
  fchange ch = {0};
  fobj o = {0};
  conn_attr *attrs = NULL, *all = NULL;
  char anchor[GUID_TEXT_LEN + 1];
  size_t n = 0, k = 0, max;
  int rc;

  if (!ex->object_type || (s->ldap && (!ex->dn || !*ex->dn))) {
    set_failure(x->c, r, X_UNWILLING, "an add needs %s",
                s->ldap ? "a DN and an object type" : "an object type");
    return 0;
  }
  if (s->ldap && !dn_valid(ex->dn, strlen(ex->dn))) {
    set_failure(x->c, r, X_UNWILLING, "%s is not a DN", ex->dn);
    return 0;
  }
  if ((rc = add_values(ex, &o, &attrs, &n)) != 0) {
    if (rc == -1) {
      set_failure(x->c, r, X_UNWILLING, "%s: an add cannot remove values", ex->dn ? ex->dn : "");
      rc = 0;
    }
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(attrs[i].name, s->anchor_attr) == 0) {
      set_failure(x->c, r, X_UNWILLING, "%s: %s is assigned by the directory", ex->dn ? ex->dn : "",
                  s->anchor_attr);
      goto out;
    }
  max = n + 2 + 16; /* objectClass, the anchor, RDN values */
  if ((rc = new_anchor(x, ex, anchor)) != 0 || !(all = calloc(max, sizeof *all))) {
    rc = -2;
    goto out;
  }
  ch = (fchange){s->ldap ? FCH_ENTRY : FCH_UPSERT,
                 true,
                 s->ldap ? ex->dn : anchor,
                 anchor,
                 ex->object_type,
                 NULL,
                 false,
                 all,
                 0,
                 NULL,
                 0};
  if (s->ldap) {
    rc = ldap_add_attrs(x, ex, anchor, attrs, n, all, &k, max);
    if (rc == -1) {
      set_failure(x->c, r, X_UNWILLING, "%s is not a DN", ex->dn);
      rc = 0;
      goto out;
    }
    if (rc != 0)
      goto out;
  } else {
    /* Graph: the references of a new object come as its first "members@delta". */
    for (size_t i = 0; i < n; i++)
      if (strcmp(attrs[i].name, "id") != 0) {
        all[k] = attrs[i];
        if (all_refs(attrs[i].value))
          all[k].op = CONN_ATTR_ADD;
        k++;
      }
  }
  ch.n_attrs = k;
  if ((rc = lean_add_free(x, &ch, r)) != 1)
    goto out; /* 0: refused; the others stop the batch */
  if ((rc = stage(x, &ch, r, X_EXISTS)) == 0) {
    r->ok = 1;
    if (!(r->anchor = strdup(anchor)))
      rc = -2;
  } else if (rc == -1) {
    rc = 0;
  }
out:
  free(all);
  free(attrs);
  fobj_free(&o);
  return rc;
}

/* Names the log can hold: LDIF's attribute descriptions; JSON names without '@' (which
 * would read back as annotations). */
static bool attr_name_ok(const shape *s, const char *name)
{
  return s->ldap ? ldif_attr_name(name, strlen(name)) : name[0] && !strchr(name, '@');
}

/* The value changes of an update: empty adds dropped; the anchor is not for changing; a
 * Graph delta page changes single values of references only. */
static int update_attrs(export_ctx *x, const conn_export *ex, const fentry *e, conn_attr *out,
                        size_t *k, conn_export_result *r)
{
  const shape *s = x->c->shape;
  for (size_t i = 0; i < ex->n_attrs; i++) {
    const conn_attr *at = &ex->attrs[i];
    /* Checked before anything is staged: a rename must not go out without its changes. */
    if (!attr_name_ok(s, at->name)) {
      set_failure(x->c, r, X_UNWILLING, "%s: \"%s\" is not an attribute name", e->dn, at->name);
      return -1;
    }
    if (strcasecmp(at->name, s->anchor_attr) == 0) {
      set_failure(x->c, r, X_UNWILLING, "%s: %s cannot change", e->dn, s->anchor_attr);
      return -1;
    }
    if (at->op == CONN_ATTR_ADD && mvs_count(at->value) == 0)
      continue;
    if (!s->ldap && at->op != CONN_ATTR_REPLACE && !all_refs(at->value)) {
      set_failure(x->c, r, X_UNWILLING,
                  "%s: %s: Graph changes single values of references only; replace the "
                  "attribute",
                  e->dn, at->name);
      return -1;
    }
    out[(*k)++] = *at;
  }
  return 0;
}

static int export_change(export_ctx *x, const conn_export *ex, conn_export_result *r)
{
  const shape *s = x->c->shape;
  fchange ch = {0};
  conn_attr *attrs = NULL;
  fentry *e;
  size_t k = 0;
  int rc = 0;

  x->found = (fentry){0};
  if (ex->op == CONN_EXPORT_ADD)
    return export_add(x, ex, r);
  if ((rc = target(x, ex, r, &e)) != 0 || !e)
    return rc;
  ch.dn = e->dn;
  ch.anchor = e->anchor;
  ch.type = e->type;
  if (ex->op == CONN_EXPORT_DELETE) {
    if (s->ldap && fstate_has_children(x->c->index, e)) {
      set_failure(x->c, r, X_NOT_LEAF, "%s has entries below it", e->dn);
      return 0;
    }
    ch.kind = FCH_DELETE;
    rc = stage(x, &ch, r, X_NO_OBJECT);
    goto done;
  }
  if (!(attrs = calloc(ex->n_attrs + 1, sizeof *attrs)))
    return -2;
  if (update_attrs(x, ex, e, attrs, &k, r) != 0)
    goto out;
  if (ex->op == CONN_EXPORT_RENAME) {
    fchange mv = ch;
    size_t len = ex->new_dn ? strlen(ex->new_dn) : 0;
    if (!s->ldap) {
      set_failure(x->c, r, X_UNWILLING, "%s: Graph objects have no DN to rename", e->dn);
      goto out;
    }
    if (!len || !dn_valid(ex->new_dn, len)) {
      set_failure(x->c, r, X_UNWILLING, "%s: a rename needs a new DN, not \"%s\"", e->dn,
                  ex->new_dn ? ex->new_dn : "");
      goto out;
    }
    if (fstate_has_children(x->c->index, e)) {
      set_failure(x->c, r, X_NOT_LEAF, "%s has entries below it", e->dn);
      goto out;
    }
    if (dn_parent_off(ex->new_dn, len) == len) {
      set_failure(x->c, r, X_UNWILLING, "%s: an entry cannot move to the root", e->dn);
      goto out;
    }
    mv.kind = FCH_RENAME;
    mv.new_dn = ex->new_dn;
    mv.delete_old_rdn = true;
    if ((rc = stage(x, &mv, r, X_EXISTS)) != 0)
      goto done;
    ch.dn = e->dn; /* the new DN now */
  }
  if (k > 0) {
    ch.kind = s->ldap ? FCH_MODIFY : FCH_UPSERT;
    ch.attrs = attrs;
    ch.n_attrs = k;
    rc = stage(x, &ch, r, X_NO_OBJECT);
  }
done:
  if (rc == 0)
    r->ok = 1;
  else if (rc == -1)
    rc = 0;
out:
  free(attrs);
  return rc;
}

/* What must come before appended records so the file stays well formed: LDIF records are
 * separated by a blank line, JSON documents end their line. */
static const char *separator(const connector *c, int64_t size, const unsigned char last2[2])
{
  if (size == 0)
    return "";
  if (!c->shape->ldap)
    return last2[1] == '\n' ? "" : "\n";
  if (last2[1] != '\n')
    return "\n\n";
  return size >= 2 && last2[0] == '\n' ? "" : "\n";
}

/* Append text to the file at path (or fd), fsync'd; on failure the file is cut back. */
static int append_file(const char *path, int fd, const char *text, size_t n, char **err)
{
  int own = fd < 0, rc = CONN_OK;
  struct stat st;
  size_t done = 0;

  if (own && (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
    *err = fc_printf("%s: %s", path, strerror(errno));
    return CONN_ERR_IO;
  }
  if (fstat(fd, &st) != 0)
    goto fail;
  while (done < n) {
    ssize_t w = write(fd, text + done, n - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      goto fail;
    done += (size_t)w;
  }
  if (fsync(fd) != 0)
    goto fail;
  goto out;
fail:
  *err = fc_printf("%s: %s", path, strerror(errno ? errno : EIO));
  rc = CONN_ERR_IO;
  /* Cut a partial record back off; should even that fail, the next import names its line. */
  if (ftruncate(fd, st.st_size) != 0)
    rc = CONN_ERR_IO;
out:
  if (own)
    close(fd);
  return rc;
}

/* Nothing of the batch was sent: no result says otherwise, none holds memory. */
static void results_clear(conn_export_result *results, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(results[i].anchor);
    free(results[i].message);
  }
  memset(results, 0, n * sizeof *results);
}

/* Check and write every change of the batch into x->out: CONN_OK, or the first
 * export_change answer that stops it. */
static int export_changes(export_ctx *x, const conn_export *changes, size_t n,
                          conn_export_result *results)
{
  for (size_t i = 0; i < n; i++) {
    int cr;
    buf_reset(&x->rec);
    mvs_arena_reset(x->arena);
    if ((cr = export_change(x, &changes[i], &results[i])) != 0)
      return cr;
    if (results[i].ok && buf_add(&x->out, x->rec.p, x->rec.len) != BUF_OK)
      return -2;
  }
  return CONN_OK;
}

int fc_export(connector *c, const conn_export *changes, size_t n, const conn_export_env *env,
              conn_export_result *results, char **err)
{
  export_ctx x = {.c = c, .env = env, .fd = -1};
  fingerprint fp;
  unsigned char last2[2];
  size_t sep = 0;
  uint64_t tail;
  struct stat st;
  int rc = CONN_OK, lean;

  *err = NULL;
  memset(results, 0, n * sizeof *results);
  buf_init(&x.out, 0);
  buf_init(&x.rec, 0);
  buf_init(&x.key, 0);
  if (!(x.arena = mvs_arena_new(0))) {
    rc = CONN_ERR_NOMEM;
    goto out;
  }
  /* One exporter at a time: the lock is on the change log itself. */
  if ((x.fd = open(c->changes, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
      flock(x.fd, LOCK_EX) != 0 || fstat(x.fd, &st) != 0) {
    *err = fc_printf("%s: %s", c->changes, strerror(errno));
    rc = CONN_ERR_IO;
    goto out;
  }
  x.size = st.st_size;
  if ((rc = fc_fingerprint(c, x.fd, &fp, err)) != CONN_OK)
    goto out;
  if (fc_tail_hash(c->changes, x.fd, x.size, &tail, last2) != 0) {
    rc = CONN_ERR_IO;
    *err = fc_printf("%s: %s", c->changes, strerror(errno));
    goto out;
  }
  if ((lean = lean_begin(&x, &fp, tail, changes, n)) < 0 ||
      (!lean && (rc = ensure_index(&x, &fp, tail, err)) != CONN_OK)) {
    rc = lean < 0 ? CONN_ERR_NOMEM : rc;
    goto out;
  }
  if (buf_adds(&x.out, separator(c, x.size, last2)) != BUF_OK) {
    rc = CONN_ERR_NOMEM;
    goto out;
  }
  sep = x.out.len;
  rc = export_changes(&x, changes, n, results);
  if (rc == LEAN_CANNOT_TELL) {
    /* The lean index may hold changes of this batch: the whole one checks it again. */
    results_clear(results, n);
    x.out.len = sep;
    if ((rc = ensure_index(&x, &fp, tail, err)) == CONN_OK)
      rc = export_changes(&x, changes, n, results);
  }
  if (rc == LOOKUP_FAILED) {
    *err = fc_printf("%s: the engine's lookup failed", c->name);
    rc = CONN_ERR_ABORTED;
  } else if (rc == -2) {
    rc = CONN_ERR_NOMEM;
  }
  /* The export log first: if the change log then fails, nothing claims a change that the
   * directory did not take. */
  if (rc == CONN_OK && c->export_log && x.out.len > sep)
    rc = append_file(c->export_log, -1, x.out.p + sep, x.out.len - sep, err);
  if (rc == CONN_OK && x.out.len > sep)
    rc = append_file(c->changes, x.fd, x.out.p, x.out.len, err);
  if (rc == CONN_OK) {
    c->index_end = x.size + (int64_t)x.out.len;
    if (fc_tail_hash(c->changes, x.fd, c->index_end, &c->index_tail, NULL) != 0)
      c->index_end = -1;
  }
out:
  if (rc != CONN_OK) {
    /* The index may hold changes that were not written: build it again next time. */
    fstate_free(c->index);
    c->index = NULL;
    results_clear(results, n);
    if (!*err)
      *err = fc_printf("%s: out of memory", c->name);
  }
  if (x.fd >= 0)
    close(x.fd);
  buf_free(&x.out);
  buf_free(&x.rec);
  buf_free(&x.key);
  mvs_arena_free(x.arena);
  return rc;
}
