/* export — pending exports to AD/LDAP: add (objectClass from the shape, AD group defaults:
 * universal security groupType and a unique sAMAccountName), modify with value-level
 * add/delete/replace, large value lists split into chunks of member-chunk values, delete,
 * rename/move (modrdn with new superior).  Per-object failures carry the LDAP result code
 * and "ldap_err2string: server diagnostic"; the run goes on.  See ldap_int.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/guid.h"
#include "connectors/ldap/escape.h"
#include "connectors/ldap/ldap_int.h"
#include "schema/array.h"

#define UNIVERSAL_SECURITY_GROUP "-2147483640" /* 0x80000008 */
#define SAM_MAX 64                              /* bytes of a derived sAMAccountName */

/* A list of modifications (in c->arena). */
typedef struct mods {
  LDAPMod **items;
  size_t n, cap;
} mods;

static int mods_push(connector *c, mods *m, int op, const char *name, struct berval **vals)
{
  LDAPMod *mod;
  /* Room for this one and the NULL that ends the list. */
  if (array_reserve_in(c->arena, &m->items, m->n, &m->cap, m->n + 2, sizeof *m->items) != 0)
    return -1;
  if (!(mod = mvs_arena_alloc(c->arena, sizeof *mod)))
    return -1;
  mod->mod_op = op | LDAP_MOD_BVALUES;
  mod->mod_type = (char *)name;
  mod->mod_bvalues = vals;
  m->items[m->n++] = mod;
  m->items[m->n] = NULL;
  return 0;
}

/* One value as the directory stores it: SIDs and GUIDs given as text go as bytes. */
static int to_berval(connector *c, shape_syntax syn, mvs_value v, struct berval *out)
{
  char tmp[40];
  const char *p = tmp;
  size_t n;
  unsigned char bytes[SHAPE_SID_BIN_MAX];

  switch (v.type) {
  case MVS_V_NUM:
    n = (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, v.u.num);
    break;
  case MVS_V_BOOL:
    p = v.u.b ? "TRUE" : "FALSE";
    n = strlen(p);
    break;
  case MVS_V_DT:
    shape_format_gentime(v.u.dt, tmp);
    n = strlen(tmp);
    break;
  case MVS_V_STR:
  case MVS_V_BIN:
  case MVS_V_REF:
    p = v.u.s.p;
    n = v.u.s.n;
    if (v.type == MVS_V_STR && syn == SYN_SID && shape_sid_parse(p, n, bytes, &n) == 0)
      p = (const char *)bytes;
    else if (v.type == MVS_V_STR && syn == SYN_GUID && guid_parse_ms(p, n, bytes) == 0) {
      p = (const char *)bytes;
      n = 16;
    }
    break;
  default:
    return -1;
  }
  if (!(out->bv_val = mvs_arena_memdup(c->arena, p, n)))
    return -1;
  out->bv_len = n;
  return 0;
}

/* Values [from, to) of v as a NULL-terminated berval array; NULL for none. */
static int bervals(connector *c, const char *attr, mvs_value v, size_t from, size_t to,
                   struct berval ***out)
{
  shape_syntax syn = shape_syntax_of(c->shape, attr);
  struct berval **list, *items;
  *out = NULL;
  if (to <= from)
    return 0;
  list = mvs_arena_alloc(c->arena, (to - from + 1) * sizeof *list);
  items = mvs_arena_alloc(c->arena, (to - from) * sizeof *items);
  if (!list || !items)
    return -1;
  for (size_t i = from; i < to; i++) {
    if (to_berval(c, syn, mvs_item(v, i), &items[i - from]) != 0)
      return -1;
    list[i - from] = &items[i - from];
  }
  list[to - from] = NULL;
  *out = list;
  return 0;
}

static bool skipped_attr(connector *c, const char *name)
{
  /* Names of the entry, not attributes; the anchor is the directory's to assign. */
  return strcasecmp(name, "dn") == 0 || strcasecmp(name, "parentDistinguishedName") == 0 ||
         strcasecmp(name, c->shape->anchor_attr) == 0;
}

static int ldap_op_of(conn_attr_op op, bool add)
{
  if (add)
    return LDAP_MOD_ADD;
  return op == CONN_ATTR_ADD ? LDAP_MOD_ADD : op == CONN_ATTR_DELETE ? LDAP_MOD_DELETE
                                                                     : LDAP_MOD_REPLACE;
}

/* Values of a, where an empty text value is no value: LDAP has no empty strings (a Directory
 * String is at least one character; AD refuses it), and an expression like
 * Left(Trim([description]), 448) gives "" for an unset source.  So "" adds nothing and a
 * REPLACE with "" clears the attribute. */
static size_t value_count(const conn_attr *a)
{
  size_t n = mvs_count(a->value);
  mvs_value v0 = n == 1 ? mvs_item(a->value, 0) : a->value;
  return n == 1 && v0.type == MVS_V_STR && v0.u.s.n == 0 ? 0 : n;
}

/* Modifications of round r: round 0 holds every attribute with its first chunk of values,
 * round k > 0 the k-th chunk of the attributes longer than member-chunk (a REPLACE continues
 * as ADD).  skip_rdn names an attribute the operation set otherwise (rename).  *more when
 * another round has values. */
static int round_mods(connector *c, const conn_export *ex, bool add, size_t r, const char *skip_rdn,
                      mods *m, bool *more)
{
  size_t chunk = (size_t)c->member_chunk;
  *more = false;
  for (size_t i = 0; i < ex->n_attrs; i++) {
    const conn_attr *a = &ex->attrs[i];
    size_t n = value_count(a), from = r * chunk, to = from + chunk < n ? from + chunk : n;
    struct berval **vals;
    int op = ldap_op_of(a->op, add);
    if (skipped_attr(c, a->name) || (skip_rdn && strcasecmp(a->name, skip_rdn) == 0) ||
        (add && (a->op == CONN_ATTR_DELETE || n == 0)) || (r > 0 && from >= n) ||
        (n == 0 && (a->op == CONN_ATTR_ADD || (a->op == CONN_ATTR_DELETE && mvs_count(a->value)))))
      continue;
    if (r > 0 && op == LDAP_MOD_REPLACE)
      op = LDAP_MOD_ADD;
    if (n > to)
      *more = true;
    if (bervals(c, a->name, a->value, from, to, &vals) != 0 ||
        mods_push(c, m, op, a->name, vals) != 0)
      return -1;
  }
  return 0;
}

static void fail_result(connector *c, int lrc, conn_export_result *res, const char *what)
{
  buf b;
  buf_init(&b, 0);
  if (what)
    buf_printf(&b, "%s: ", what);
  lc_result_text(c, lrc, NULL, &b);
  res->ok = 0;
  res->code = lrc;
  res->message = buf_detach(&b);
}

/* What a failed call means for the batch: LC_ERR_DOWN when the connection is gone,
 * CONN_ERR_TIMEOUT when the server did not answer in time (the rest of the batch is not
 * attempted: a hung server would cost the deadline once per object), else CONN_OK. */
static int batch_code(int lrc)
{
  return lrc == LDAP_TIMEOUT ? CONN_ERR_TIMEOUT : lc_is_down(lrc) ? LC_ERR_DOWN : CONN_OK;
}

/* A write that failed: the object's result; what it means for the batch (batch_code). */
static int write_failed(connector *c, int lrc, conn_export_result *res)
{
  fail_result(c, lrc, res,
              lrc == LDAP_TIMEOUT ? "no answer in time (the change may yet be applied)" : NULL);
  return batch_code(lrc);
}

/* A connection-level retry loop around one synchronous read. */
#define WITH_RETRY(c, lrc, call)                                                               \
  do {                                                                                         \
    int attempts_ = 0;                                                                         \
    do                                                                                         \
      (lrc) = (call);                                                                          \
    while (lc_is_down(lrc) && lc_recover((c), &attempts_, &(lrc)) == 0);                       \
  } while (0)

/* The same around a write.  *resent: the result answers a write sent again after the
 * connection dropped with it in flight, so the first send may have been applied; the caller
 * takes the code that means "already done" as success.  A timed-out write is not sent again
 * (it may still be applied): the connection is dropped (a late answer must not be taken for
 * the next operation's) and the result is LDAP_TIMEOUT (see write_failed). */
#define WITH_WRITE(c, lrc, resent, call)                                                       \
  do {                                                                                         \
    int attempts_ = 0;                                                                         \
    bool sent_ = false;                                                                        \
    for (;;) {                                                                                 \
      bool live_ = (c)->ld != NULL;                                                            \
      (lrc) = (call);                                                                          \
      (resent) = sent_;                                                                        \
      if ((lrc) == LDAP_TIMEOUT) {                                                             \
        lc_disconnect(c);                                                                      \
        break;                                                                                 \
      }                                                                                        \
      if (!lc_is_down(lrc) || lc_recover((c), &attempts_, &(lrc)) != 0)                        \
        break;                                                                                 \
      sent_ = sent_ || live_;                                                                  \
    }                                                                                          \
  } while (0)

static int modify(connector *c, const char *dn, LDAPMod **list)
{
  int lrc;
  bool resent;
  WITH_WRITE(c, lrc, resent,
             c->ld ? ldap_modify_ext_s(c->ld, dn, list, NULL, NULL) : LDAP_SERVER_DOWN);
  /* Sent again: a value already added (20) or already removed (16) was the first send's. */
  if (resent && (lrc == LDAP_TYPE_OR_VALUE_EXISTS || lrc == LDAP_NO_SUCH_ATTRIBUTE))
    lrc = LDAP_SUCCESS;
  return lrc;
}

/* Rounds 1.. of a change (the values past the first chunk) on dn. */
static int more_rounds(connector *c, const conn_export *ex, bool add, const char *dn,
                       const char *skip_rdn, bool more)
{
  int lrc = LDAP_SUCCESS;
  for (size_t r = 1; more && lrc == LDAP_SUCCESS; r++) {
    mods m = {0};
    if (round_mods(c, ex, add, r, skip_rdn, &m, &more) != 0)
      return LDAP_NO_MEMORY;
    if (m.n)
      lrc = modify(c, dn, m.items);
  }
  return lrc;
}

static const conn_attr *find_attr(const conn_export *ex, const char *name)
{
  for (size_t i = 0; i < ex->n_attrs; i++)
    if (strcasecmp(ex->attrs[i].name, name) == 0 && mvs_count(ex->attrs[i].value) > 0 &&
        ex->attrs[i].op != CONN_ATTR_DELETE)
      return &ex->attrs[i];
  return NULL;
}

/* Whether an object under the base other than except_anchor holds value in attr (an escaped
 * equality filter, compared as the directory compares).  An LDAP result code. */
static int held_by_other(connector *c, const char *attr, const char *value,
                         const char *except_anchor, bool *taken)
{
  buf f;
  char *want[] = {(char *)c->shape->anchor_attr, NULL};
  LDAPMessage *res = NULL, *e;
  int lrc;

  *taken = false;
  buf_init(&f, 0);
  if (buf_printf(&f, "(%s=", attr) || ldap_escape_filter(&f, value, strlen(value)) ||
      buf_addc(&f, ')')) {
    buf_free(&f);
    return LDAP_NO_MEMORY;
  }
  WITH_RETRY(c, lrc,
             c->ld ? ldap_search_ext_s(c->ld, c->base, LDAP_SCOPE_SUBTREE, f.p, want, 0, NULL,
                                       NULL, NULL, 0, &res)
                   : LDAP_SERVER_DOWN);
  for (e = lrc == LDAP_SUCCESS ? ldap_first_entry(c->ld, res) : NULL; e && !*taken;
       e = ldap_next_entry(c->ld, e)) {
    struct berval **bv = except_anchor ? ldap_get_values_len(c->ld, e, c->shape->anchor_attr)
                                       : NULL;
    char anchor[GUID_TEXT_LEN + 1];
    *taken = !bv || !bv[0] || lc_anchor_text(c, bv[0], anchor) != 0 ||
             strcasecmp(anchor, except_anchor) != 0;
    ldap_value_free_len(bv);
  }
  ldap_msgfree(res);
  buf_free(&f);
  return lrc;
}

static int sam_taken(connector *c, const char *name, bool *taken)
{
  return held_by_other(c, "sAMAccountName", name, NULL, taken);
}

int lc_value_taken(connector *c, const char *object_type, const char *attr, const char *value,
                   const char *except_anchor, bool *taken, char **err)
{
  int rc, lrc;
  (void)object_type;
  if ((rc = lc_connect(c, err)) != CONN_OK)
    return rc;
  if ((lrc = held_by_other(c, attr, value, except_anchor, taken)) != LDAP_SUCCESS) {
    *err = lc_errmsg(c, lrc, "looking up %s=%s", attr, value);
    return lrc == LDAP_NO_MEMORY ? CONN_ERR_NOMEM : lc_conn_code(lrc);
  }
  return CONN_OK;
}

/* A unique sAMAccountName from the cn (or the DN's RDN value): characters AD refuses become
 * '_', at most SAM_MAX bytes; "-2", "-3"... on a clash. */
static int derive_sam(connector *c, const conn_export *ex, char *out, size_t outlen)
{
  const conn_attr *cn = find_attr(ex, "cn");
  buf attr, value;
  size_t pos = 0, n;
  int lrc = LDAP_SUCCESS;
  bool taken = true;

  buf_init(&attr, 0);
  buf_init(&value, 0);
  if (cn && mvs_item(cn->value, 0).type == MVS_V_STR)
    buf_add(&value, mvs_item(cn->value, 0).u.s.p, mvs_item(cn->value, 0).u.s.n);
  else
    dn_ava_next(ex->dn, dn_rdn_len(ex->dn, strlen(ex->dn)), &pos, &attr, &value);
  n = value.len < SAM_MAX ? value.len : SAM_MAX;
  /* Cut on a character boundary. */
  while (n > 0 && n < value.len && ((unsigned char)value.p[n] & 0xC0) == 0x80)
    n--;
  for (size_t i = 0; i < n; i++)
    out[i] = (unsigned char)value.p[i] < 0x20 || strchr("\"/\\[]:;|=,+*?<>@", value.p[i])
                 ? '_' : value.p[i];
  out[n] = '\0';
  if (!n)
    snprintf(out, outlen, "group");
  n = strlen(out);
  for (int k = 2; k < 1000 && lrc == LDAP_SUCCESS; k++) {
    if ((lrc = sam_taken(c, out, &taken)) != LDAP_SUCCESS || !taken)
      break;
    char suffix[8];
    size_t sl = (size_t)snprintf(suffix, sizeof suffix, "-%d", k), keep = n;
    if (keep + sl > SAM_MAX)
      keep = SAM_MAX - sl;
    while (keep > 0 && ((unsigned char)out[keep] & 0xC0) == 0x80)
      keep--;
    memcpy(out + keep, suffix, sl + 1);
  }
  buf_free(&attr);
  buf_free(&value);
  return lrc == LDAP_SUCCESS && taken ? LDAP_ALREADY_EXISTS : lrc;
}

/* The new object's anchor, read back. */
static char *read_anchor(connector *c, const char *dn)
{
  char *want[] = {(char *)c->shape->anchor_attr, NULL};
  LDAPMessage *res = NULL, *e;
  struct berval **bv = NULL;
  char *anchor = NULL;
  int lrc;
  WITH_RETRY(c, lrc,
             c->ld ? ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", want, 0,
                                       NULL, NULL, NULL, 0, &res)
                   : LDAP_SERVER_DOWN);
  if (lrc == LDAP_SUCCESS && (e = ldap_first_entry(c->ld, res)))
    bv = ldap_get_values_len(c->ld, e, c->shape->anchor_attr);
  if (bv && bv[0] && (anchor = malloc(GUID_TEXT_LEN + 1)) &&
      lc_anchor_text(c, bv[0], anchor) != 0) {
    free(anchor);
    anchor = NULL;
  }
  ldap_value_free_len(bv);
  ldap_msgfree(res);
  return anchor;
}

static int export_add(connector *c, const conn_export *ex, conn_export_result *res)
{
  const shape_type *t = ex->object_type ? shape_type_find(c->shape, ex->object_type) : NULL;
  bool group = c->ad && t && strcmp(t->name, "group") == 0, more = false, resent;
  char sam[SAM_MAX + 1];
  struct berval *gt, *sv;
  mods m = {0};
  int lrc;

  if (!find_attr(ex, "objectClass")) {
    /* objectClass from the shape: "top,person,organizationalPerson,user". */
    size_t n = 0, k = 0;
    struct berval **vals;
    const char *p;
    if (!t || !t->classes) {
      fail_result(c, LDAP_OBJECT_CLASS_VIOLATION, res, "no objectClass for this object type");
      return CONN_OK;
    }
    for (p = t->classes; *p; p++)
      n += *p == ',';
    if (!(vals = mvs_arena_alloc(c->arena, (n + 2) * sizeof *vals)))
      return CONN_ERR_NOMEM;
    for (p = t->classes; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
      struct berval *bv = mvs_arena_alloc(c->arena, sizeof *bv);
      if (!bv || !(bv->bv_val = mvs_arena_memdup(c->arena, p, strcspn(p, ","))))
        return CONN_ERR_NOMEM;
      bv->bv_len = strcspn(p, ",");
      vals[k++] = bv;
    }
    vals[k] = NULL;
    if (mods_push(c, &m, LDAP_MOD_ADD, "objectClass", vals) != 0)
      return CONN_ERR_NOMEM;
  }
  if (group && !find_attr(ex, "groupType")) {
    struct berval **vals = mvs_arena_alloc(c->arena, 2 * sizeof *vals);
    if (!vals || !(gt = mvs_arena_alloc(c->arena, sizeof *gt)))
      return CONN_ERR_NOMEM;
    gt->bv_val = (char *)UNIVERSAL_SECURITY_GROUP;
    gt->bv_len = strlen(UNIVERSAL_SECURITY_GROUP);
    vals[0] = gt;
    vals[1] = NULL;
    if (mods_push(c, &m, LDAP_MOD_ADD, "groupType", vals) != 0)
      return CONN_ERR_NOMEM;
  }
  if (group && !find_attr(ex, "sAMAccountName")) {
    struct berval **vals = mvs_arena_alloc(c->arena, 2 * sizeof *vals);
    if ((lrc = derive_sam(c, ex, sam, sizeof sam)) != LDAP_SUCCESS) {
      fail_result(c, lrc, res, "choosing a sAMAccountName");
      return batch_code(lrc);
    }
    if (!vals || !(sv = mvs_arena_alloc(c->arena, sizeof *sv)))
      return CONN_ERR_NOMEM;
    sv->bv_val = sam;
    sv->bv_len = strlen(sam);
    vals[0] = sv;
    vals[1] = NULL;
    if (mods_push(c, &m, LDAP_MOD_ADD, "sAMAccountName", vals) != 0)
      return CONN_ERR_NOMEM;
  }
  if (round_mods(c, ex, true, 0, NULL, &m, &more) != 0)
    return CONN_ERR_NOMEM;
  /* A missing parent comes back from the server as the object's error: never created here. */
  WITH_WRITE(c, lrc, resent,
             c->ld ? ldap_add_ext_s(c->ld, ex->dn, m.items, NULL, NULL) : LDAP_SERVER_DOWN);
  /* Sent again (here, or by a run that died before recording it): the first send made it,
   * and its anchor is read back below.  The engine refuses the anchor if another
   * metaverse object holds it. */
  if ((resent || ex->maybe_created) && lrc == LDAP_ALREADY_EXISTS)
    lrc = LDAP_SUCCESS;
  if (lrc == LDAP_SUCCESS)
    lrc = more_rounds(c, ex, true, ex->dn, NULL, more);
  if (lrc != LDAP_SUCCESS)
    return write_failed(c, lrc, res);
  res->ok = 1;
  res->anchor = read_anchor(c, ex->dn);
  return CONN_OK;
}

static int export_update(connector *c, const conn_export *ex, const char *dn, const char *skip_rdn,
                         conn_export_result *res)
{
  mods m = {0};
  bool more = false;
  int lrc = LDAP_SUCCESS;
  if (round_mods(c, ex, false, 0, skip_rdn, &m, &more) != 0)
    return CONN_ERR_NOMEM;
  if (m.n)
    lrc = modify(c, dn, m.items);
  if (lrc == LDAP_SUCCESS)
    lrc = more_rounds(c, ex, false, dn, skip_rdn, more);
  if (lrc != LDAP_SUCCESS)
    return write_failed(c, lrc, res);
  res->ok = 1;
  return CONN_OK;
}

static int export_rename(connector *c, const conn_export *ex, conn_export_result *res)
{
  size_t n = strlen(ex->dn), nn = strlen(ex->new_dn);
  size_t rdn_len = dn_rdn_len(ex->new_dn, nn), parent = dn_parent_off(ex->new_dn, nn);
  size_t old_parent = dn_parent_off(ex->dn, n);
  char *rdn = mvs_arena_memdup(c->arena, ex->new_dn, rdn_len);
  char *rdn_attr = mvs_arena_memdup(c->arena, ex->new_dn, strcspn(ex->new_dn, "="));
  /* Only a move names a new superior. */
  const char *superior = parent < nn && !dn_equal(ex->new_dn + parent, nn - parent,
                                                  ex->dn + old_parent, n - old_parent)
                             ? ex->new_dn + parent : NULL;
  int lrc;
  bool resent;
  char *moved;
  if (!rdn || !rdn_attr)
    return CONN_ERR_NOMEM;
  WITH_WRITE(c, lrc, resent,
             c->ld ? ldap_rename_s(c->ld, ex->dn, rdn, superior, 1, NULL, NULL)
                   : LDAP_SERVER_DOWN);
  /* Sent again and the old DN is gone: the first send made it if the new DN is there. */
  if (resent && lrc == LDAP_NO_SUCH_OBJECT && (moved = read_anchor(c, ex->new_dn))) {
    free(moved);
    lrc = LDAP_SUCCESS;
  }
  if (lrc != LDAP_SUCCESS)
    return write_failed(c, lrc, res);
  /* The RDN attribute was set by the rename itself (AD refuses it in a modify). */
  return export_update(c, ex, ex->new_dn, rdn_attr, res);
}

static int export_one(connector *c, const conn_export *ex, conn_export_result *res)
{
  int lrc;
  bool resent;
  mvs_arena_reset(c->arena);
  memset(res, 0, sizeof *res);
  if (!ex->dn || (ex->op == CONN_EXPORT_RENAME && !ex->new_dn)) {
    fail_result(c, LDAP_PARAM_ERROR, res, "no DN to export to");
    return CONN_OK;
  }
  switch (ex->op) {
  case CONN_EXPORT_ADD:
    return export_add(c, ex, res);
  case CONN_EXPORT_UPDATE:
    return export_update(c, ex, ex->dn, NULL, res);
  case CONN_EXPORT_RENAME:
    return export_rename(c, ex, res);
  case CONN_EXPORT_DELETE:
    WITH_WRITE(c, lrc, resent,
               c->ld ? ldap_delete_ext_s(c->ld, ex->dn, NULL, NULL) : LDAP_SERVER_DOWN);
    if (resent && lrc == LDAP_NO_SUCH_OBJECT)
      lrc = LDAP_SUCCESS; /* the first send deleted it */
    if (lrc != LDAP_SUCCESS)
      return write_failed(c, lrc, res);
    res->ok = 1;
    return CONN_OK;
  }
  fail_result(c, LDAP_PARAM_ERROR, res, "unknown export operation");
  return CONN_OK;
}

int lc_export(connector *c, const conn_export *changes, size_t n, const conn_export_env *env,
              conn_export_result *results, char **err)
{
  int rc;
  (void)env; /* the directory itself refuses what it must */
  if ((rc = lc_connect(c, err)) != CONN_OK)
    return rc;
  for (size_t i = 0; i < n; i++) {
    if ((rc = export_one(c, &changes[i], &results[i])) == CONN_OK)
      continue;
    /* The directory is gone (after the bounded reconnects) or hung: what is left was not
     * attempted; results[i] says how change i failed. */
    for (size_t j = i + 1; j < n; j++)
      memset(&results[j], 0, sizeof results[j]);
    if (rc == LC_ERR_DOWN || rc == CONN_ERR_TIMEOUT)
      *err = lc_errmsg(c, rc == LC_ERR_DOWN ? LDAP_SERVER_DOWN : LDAP_TIMEOUT, "%s: export of %s",
                       c->url, changes[i].dn ? changes[i].dn : "(no DN)");
    return rc == LC_ERR_DOWN ? CONN_ERR_IO : rc;
  }
  return CONN_OK;
}
