/* delta — delta import from AD: DirSync (1.2.840.113556.1.4.841, incremental values; two
 * cookies as watermark "dirsync:<objects>|<containers>", the second for OUs and containers
 * created, renamed or moved, whose objects DirSync does not report) or, for accounts without
 * DirSync rights, uSNChanged with Show Deleted (watermark "usn:<invocationId>:<USN>").
 * See ldap_int.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/base64.h"
#include "connectors/guid.h"
#include "connectors/ldap/ldap_int.h"

#define SHOW_DELETED_OID "1.2.840.113556.1.4.417"
/* What holds objects and can be created, renamed or moved with them inside. */
#define CONTAINER_FILTER "(|(objectClass=organizationalUnit)(objectClass=container))"

/* One value of attribute attr of entry e, or NULL (free with ldap_value_free_len). */
static struct berval **first_value(connector *c, LDAPMessage *e, const char *attr)
{
  struct berval **bv = e ? ldap_get_values_len(c->ld, e, attr) : NULL;
  if (bv && !bv[0]) {
    ldap_value_free_len(bv);
    bv = NULL;
  }
  return bv;
}

/* A base search for attrs at dn: *res (the caller frees) and its entry (NULL when none). */
static int read_base(connector *c, const char *dn, char **attrs, LDAPMessage **res,
                     LDAPMessage **e)
{
  int lrc = ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
                              NULL, NULL, 0, res);
  *e = lrc == LDAP_SUCCESS ? ldap_first_entry(c->ld, *res) : NULL;
  return lrc;
}

/* A USN: decimal digits only, 0 to INT64_MAX - 1 (the delta searches from USN + 1). */
static int parse_usn(const char *p, size_t n, int64_t *usn)
{
  char tmp[24];
  char *end;
  if (n == 0 || n >= sizeof tmp)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9')
      return -1;
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  errno = 0;
  *usn = strtoll(tmp, &end, 10);
  return errno || *end || *usn == INT64_MAX ? -1 : 0;
}

/* The DC's highestCommittedUSN (rootDSE) and the invocationId of its database (the
 * dsServiceName object's): a USN means something only on the database that counted it; a
 * restore or another DC gives another invocationId. */
static int read_usn(connector *c, char inv[GUID_TEXT_LEN + 1], int64_t *usn, char **err)
{
  char *root_attrs[] = {(char *)"highestCommittedUSN", (char *)"dsServiceName", NULL};
  char *inv_attrs[] = {(char *)"invocationId", NULL};
  const char *what = "highestCommittedUSN";
  int attempts = 0, lrc;
  for (;;) {
    LDAPMessage *res = NULL, *res2 = NULL, *e, *e2 = NULL;
    struct berval **u = NULL, **ds = NULL, **id = NULL;
    char *ds_dn = NULL;
    int rc = CONN_ERR_IO;
    lrc = read_base(c, "", root_attrs, &res, &e);
    if ((u = first_value(c, e, "highestCommittedUSN")) &&
        parse_usn(u[0]->bv_val, u[0]->bv_len, usn) == 0 &&
        (what = "dsServiceName", ds = first_value(c, e, "dsServiceName")) &&
        (ds_dn = strndup(ds[0]->bv_val, ds[0]->bv_len)) &&
        (what = "invocationId", lrc = read_base(c, ds_dn, inv_attrs, &res2, &e2)) == LDAP_SUCCESS &&
        (id = first_value(c, e2, "invocationId")) && id[0]->bv_len == 16) {
      guid_format_ms((const unsigned char *)id[0]->bv_val, inv);
      rc = CONN_OK;
    }
    ldap_value_free_len(u);
    ldap_value_free_len(ds);
    ldap_value_free_len(id);
    free(ds_dn);
    ldap_msgfree(res);
    ldap_msgfree(res2);
    if (rc == CONN_OK)
      return CONN_OK;
    if (!lc_is_down(lrc) || lc_recover(c, &attempts, &lrc) != 0)
      break;
  }
  *err = lc_errmsg(c, lrc == LDAP_SUCCESS ? LDAP_NO_SUCH_ATTRIBUTE : lrc, "%s: reading %s",
                   c->url, what);
  return lc_conn_code(lrc);
}

/* Whole objects delivered by where they are now: in the containers an ADD (an add or an
 * update alike), elsewhere a DELETE by anchor (moved out; an anchor the engine never saw is
 * ignored by it).  The uSNChanged delta and the objects of a moved container. */
typedef struct scope_ctx {
  connector *c;
  const conn_sink *sink;
  char **err;
} scope_ctx;

static int scope_entry(void *u, LDAPMessage *e)
{
  scope_ctx *x = u;
  char *dn = ldap_get_dn(x->c->ld, e);
  conn_change ch = dn && lc_in_scope(x->c, dn) ? CONN_OBJ_ADD : CONN_OBJ_DELETE;
  ldap_memfree(dn);
  return lc_deliver(x->c, x->sink, e, LC_READ_WHOLE, ch, x->err);
}

/* ---- DirSync ---- */

typedef struct dirsync {
  connector *c;
  const conn_sink *sink;
  const char *filter;
  char **attrs;
  bool containers;      /* the container stream: a named entry's objects are read again */
  struct berval cookie; /* in: where to start; out: where the next run starts (ber memory) */
  bool deliver;         /* false: only move the cookie (a full import's starting point) */
} dirsync;

/* One DirSync change into the sink. */
static int dirsync_entry(dirsync *d, LDAPMessage *e, char **err)
{
  connector *c = d->c;
  lc_entry ent;
  char *why = NULL;
  bool found;
  int rc = lc_entry_read(c, e, LC_READ_DIRSYNC, &ent, &why);

  if (rc == CONN_ERR_DATA) {
    d->sink->object_error(d->sink->u, ent.obj.origin, why ? why : "unreadable entry");
    free(why);
    return CONN_OK;
  }
  if (rc != CONN_OK) {
    *err = why;
    return rc;
  }
  if (ent.deleted || !lc_in_scope(c, ent.obj.dn)) {
    /* A tombstone, or an object moved out of the containers: gone from the connector's
     * view (an anchor the engine never saw is ignored). */
    ent.obj.change = CONN_OBJ_DELETE;
    ent.obj.dn = NULL;
    ent.obj.n_attrs = 0;
  } else if (ent.named) {
    /* New, renamed or moved: DirSync sends only what changed, and the engine may never have
     * seen the object (moved in from outside the containers), so read it whole. */
    char *dn = strdup(ent.obj.dn), *anchor = strdup(ent.obj.anchor);
    if (!dn || !anchor) {
      free(dn);
      free(anchor);
      return CONN_ERR_NOMEM;
    }
    rc = lc_read_object(c, dn, &ent, &found, err);
    if (rc == CONN_ERR_DATA) {
      d->sink->object_error(d->sink->u, c->url, *err ? *err : "unreadable entry");
      free(*err);
      *err = NULL;
      rc = CONN_OK;
    } else if (rc == CONN_OK) {
      if (found) {
        ent.obj.change = CONN_OBJ_ADD;
      } else {
        /* Not one of the connector's types any more (or deleted since): gone. */
        memset(&ent, 0, sizeof ent);
        ent.obj.change = CONN_OBJ_DELETE;
        ent.obj.origin = c->url;
        ent.obj.anchor = anchor;
      }
      if (d->sink->object(d->sink->u, &ent.obj))
        rc = CONN_ERR_ABORTED;
    }
    free(dn);
    free(anchor);
    return rc;
  } else {
    ent.obj.change = CONN_OBJ_UPDATE;
  }
  return d->sink->object(d->sink->u, &ent.obj) ? CONN_ERR_ABORTED : CONN_OK;
}

/* One entry of the container stream.  DirSync reports an OU or container created, renamed
 * or moved (its name comes back), but not the objects under it, whose DNs changed with it:
 * a paged search of its subtree delivers them whole where they are now (see scope_entry).
 * An attribute change (no name) changes no object's DN: nothing to do. */
static int container_entry(dirsync *d, LDAPMessage *e, char **err)
{
  connector *c = d->c;
  struct berval **name = first_value(c, e, "name"), **del = first_value(c, e, "isDeleted");
  char *dn = ldap_get_dn(c->ld, e);
  int rc = CONN_OK;
  /* A deleted container's objects were deleted first, each with its own tombstone. */
  if (name && dn && !(del && del[0]->bv_len == 4 && strncasecmp(del[0]->bv_val, "TRUE", 4) == 0)) {
    scope_ctx x = {c, d->sink, err};
    lc_search s = {dn, LDAP_SCOPE_SUBTREE, c->type_filter, NULL};
    /* Moved again since DirSync read it: the search fails and the delta with it; the next
     * run gets the same container from the same cookie at its new DN. */
    rc = lc_paged(c, &s, scope_entry, &x, err);
  }
  ldap_value_free_len(name);
  ldap_value_free_len(del);
  ldap_memfree(dn);
  return rc;
}

/* Run DirSync from d->cookie until the server has nothing more (continue flag 0).  The
 * server's result code is kept in *lrc_out for the caller to judge (rights, cookie). */
static int dirsync_run(dirsync *d, int *lrc_out, char **err)
{
  connector *c = d->c;
  int more = 1, attempts = 0, rc = CONN_OK;
  *lrc_out = LDAP_SUCCESS;
  while (rc == CONN_OK && more) {
    LDAPControl *ctrl = NULL, *sctrls[2] = {NULL, NULL}, **rctrls = NULL, *resp;
    LDAPMessage *res = NULL;
    int lrc, code = LDAP_SUCCESS;
    struct berval next = {0, NULL};

    lrc = ldap_create_dirsync_control(c->ld, (int)LDAP_CONTROL_X_DIRSYNC_INCREMENTAL_VALUES, 0,
                                      &d->cookie, &ctrl);
    if (lrc != LDAP_SUCCESS)
      return CONN_ERR_NOMEM;
    ctrl->ldctl_iscritical = 1;
    sctrls[0] = ctrl;
    lrc = ldap_search_ext_s(c->ld, c->base, LDAP_SCOPE_SUBTREE, d->filter, d->attrs, 0, sctrls,
                            NULL, NULL, 0, &res);
    ldap_control_free(ctrl);
    if (lc_is_down(lrc)) {
      /* The cookie is ours, not the connection's: reconnect and ask again. */
      ldap_msgfree(res);
      if (lc_recover(c, &attempts, &lrc) == 0)
        continue;
      *err = lc_errmsg(c, lrc, "%s: DirSync", c->url);
      return lc_conn_code(lrc);
    }
    if (lrc != LDAP_SUCCESS) {
      *lrc_out = lrc;
      *err = lc_errmsg(c, lrc, "%s: DirSync", c->url);
      ldap_msgfree(res);
      return lc_conn_code(lrc);
    }
    /* An entry may lose the connection for good (c->ld NULL): no next entry then. */
    for (LDAPMessage *m = ldap_first_entry(c->ld, res); d->deliver && m && rc == CONN_OK;
         m = rc == CONN_OK ? ldap_next_entry(c->ld, m) : NULL)
      rc = d->containers ? container_entry(d, m, err) : dirsync_entry(d, m, err);
    more = 0;
    if (rc == CONN_OK &&
        (ldap_parse_result(c->ld, res, &code, NULL, NULL, NULL, &rctrls, 0) != LDAP_SUCCESS ||
         !(resp = ldap_control_find(LDAP_CONTROL_X_DIRSYNC, rctrls, NULL)) ||
         !resp->ldctl_value.bv_len || /* libldap crashes on a control with an empty value */
         ldap_parse_dirsync_control(c->ld, resp, &more, &next) != LDAP_SUCCESS)) {
      *err = lc_errmsg(c, LDAP_CONTROL_NOT_FOUND, "%s: DirSync response", c->url);
      rc = CONN_ERR_IO;
    }
    if (rc == CONN_OK) {
      ber_memfree(d->cookie.bv_val);
      d->cookie = next;
    }
    ldap_controls_free(rctrls);
    ldap_msgfree(res);
  }
  return rc;
}

/* "dirsync:<objects cookie>|<containers cookie>", both base64. */
static char *format_cookies(const struct berval *objects, const struct berval *containers)
{
  size_t n = base64_encoded_len(objects->bv_len), m = base64_encoded_len(containers->bv_len);
  char *wm = malloc(sizeof "dirsync:" + n + 1 + m);
  if (wm) {
    memcpy(wm, "dirsync:", 8);
    base64_encode(objects->bv_val, objects->bv_len, wm + 8);
    wm[8 + n] = '|';
    base64_encode(containers->bv_val, containers->bv_len, wm + 9 + n);
    wm[9 + n + m] = '\0';
  }
  return wm;
}

/* A base64 cookie into ber memory (libldap frees the cookie it replaces); -1 when malformed,
 * -2 when out of memory. */
static int parse_cookie(const char *b64, size_t n, struct berval *out)
{
  unsigned char *bytes = malloc(n / 4 * 3 + 3);
  size_t len;
  int rc = 0;
  out->bv_val = NULL;
  out->bv_len = 0;
  if (!bytes)
    return -2;
  if (n == 0 || base64_decode(b64, n, bytes, &len) != 0 || len == 0)
    rc = -1;
  else if (!(out->bv_val = ber_memalloc(len)))
    rc = -2;
  else {
    memcpy(out->bv_val, bytes, len);
    out->bv_len = len;
  }
  free(bytes);
  return rc;
}

static char *format_usn(const char *inv, int64_t usn)
{
  char *wm = NULL;
  return asprintf(&wm, "usn:%s:%" PRId64, inv, usn) < 0 ? NULL : wm;
}

/* The two DirSync streams: objects of the configured types (and tombstones), and
 * containers (only their names: created, renamed or moved).  Only moving the cookies (not
 * deliver), both use filter: the cookie is a position in the DC's changes, not in a filter's
 * results (as the objects stream has always relied on). */
static void dirsync_streams(connector *c, const conn_sink *sink, const char *filter,
                            bool deliver, dirsync out[2])
{
  static char *container_attrs[] = {(char *)"name", (char *)"isDeleted", NULL};
  memset(out, 0, 2 * sizeof *out);
  out[0] = (dirsync){c, sink, filter, c->dirsync_attrs, false, {0, NULL}, deliver};
  out[1] = (dirsync){c, sink, deliver ? CONTAINER_FILTER : filter, container_attrs, true,
                     {0, NULL}, deliver};
}

int lc_delta_start(connector *c, const conn_sink *sink, char **watermark, char **err)
{
  char inv[GUID_TEXT_LEN + 1];
  int64_t usn;
  int rc = CONN_OK, lrc = LDAP_SUCCESS;

  *watermark = NULL;
  if (!c->ad)
    return CONN_OK; /* generic LDAP: every import is a full one (see ldap-connector.md) */
  if (!c->delta_usn) {
    /* A filter nothing matches: the server only moves the cookies to "now". */
    dirsync d[2];
    dirsync_streams(c, sink, "(&(objectClass=top)(!(objectClass=top)))", false, d);
    for (int k = 0; k < 2 && rc == CONN_OK; k++)
      rc = dirsync_run(&d[k], &lrc, err);
    if (rc == CONN_OK && !(*watermark = format_cookies(&d[0].cookie, &d[1].cookie)))
      rc = CONN_ERR_NOMEM;
    ber_memfree(d[0].cookie.bv_val);
    ber_memfree(d[1].cookie.bv_val);
    if (rc == CONN_OK || lrc != LDAP_INSUFFICIENT_ACCESS)
      return rc;
    sink->log(sink->u, *err);
    sink->log(sink->u, "DirSync refused for lack of rights: tracking changes by uSNChanged");
    free(*err);
    *err = NULL;
  }
  if ((rc = read_usn(c, inv, &usn, err)) != CONN_OK)
    return rc;
  return (*watermark = format_usn(inv, usn)) ? CONN_OK : CONN_ERR_NOMEM;
}

/* Result codes of a DirSync whose cookie the server refuses (Samba: 12 "Unable to unmarshall
 * cookie"; AD: 12, 53 or 2).  Anything else (busy, size or time limits, an operations error)
 * fails the run and the next one tries the same cookie again: a full import is not the
 * answer to a passing fault. */
static bool cookie_refused(int lrc)
{
  return lrc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION || lrc == LDAP_UNWILLING_TO_PERFORM ||
         lrc == LDAP_PROTOCOL_ERROR;
}

static int delta_dirsync(connector *c, const char *text, const conn_sink *sink,
                         char **new_watermark, char **err)
{
  size_t n = strcspn(text, "|");
  char *filter = NULL;
  dirsync d[2];
  int rc = CONN_OK, lrc = LDAP_SUCCESS, p0, p1;

  /* Tombstones lose most attributes; isDeleted finds them whatever their class. */
  if (asprintf(&filter, "(|%s(isDeleted=TRUE))", c->type_filter) < 0)
    return CONN_ERR_NOMEM;
  dirsync_streams(c, sink, filter, true, d);
  p0 = parse_cookie(text, n, &d[0].cookie);
  p1 = text[n] == '|' ? parse_cookie(text + n + 1, strlen(text + n + 1), &d[1].cookie) : -1;
  if (p0 == -2 || p1 == -2) {
    rc = CONN_ERR_NOMEM;
  } else if (p0 || p1) {
    *err = strdup("the DirSync watermark is not two base64 cookies (objects|containers)");
    rc = CONN_ERR_WATERMARK;
  }
  /* Objects first, then containers: a container moved into scope brings its objects whole,
   * after any partial change of theirs the first stream delivered. */
  for (int k = 0; k < 2 && rc == CONN_OK; k++)
    rc = dirsync_run(&d[k], &lrc, err);
  if (rc == CONN_OK) {
    *new_watermark = format_cookies(&d[0].cookie, &d[1].cookie);
    rc = *new_watermark ? CONN_OK : CONN_ERR_NOMEM;
  } else if (lrc == LDAP_INSUFFICIENT_ACCESS) {
    /* No usable watermark for uSNChanged: a full import starts it. */
    char *m = NULL;
    if (asprintf(&m, "%s (DirSync refused for lack of rights: the full import falls back to "
                     "uSNChanged)", *err) >= 0) {
      free(*err);
      *err = m;
    }
    rc = CONN_ERR_WATERMARK;
  } else if (cookie_refused(lrc)) {
    rc = CONN_ERR_WATERMARK; /* start over with a full import */
  }
  ber_memfree(d[0].cookie.bv_val);
  ber_memfree(d[1].cookie.bv_val);
  free(filter);
  return rc;
}

/* ---- uSNChanged ---- */

static int delta_usn(connector *c, const char *text, const conn_sink *sink, char **new_watermark,
                     char **err)
{
  LDAPControl show_deleted = {(char *)SHOW_DELETED_OID, {0, NULL}, 1};
  LDAPControl *extra[] = {&show_deleted, NULL};
  scope_ctx x = {c, sink, err};
  char inv[GUID_TEXT_LEN + 1], *filter = NULL;
  int64_t from, now;
  int rc;

  if (strlen(text) <= GUID_TEXT_LEN + 1 || text[GUID_TEXT_LEN] != ':' ||
      parse_usn(text + GUID_TEXT_LEN + 1, strlen(text + GUID_TEXT_LEN + 1), &from) != 0) {
    *err = strdup("the uSNChanged watermark is not usn:INVOCATIONID:NUMBER");
    return CONN_ERR_WATERMARK;
  }
  /* The USN first: what changes during the search comes again next time. */
  if ((rc = read_usn(c, inv, &now, err)) != CONN_OK)
    return rc;
  if (strncasecmp(text, inv, GUID_TEXT_LEN) != 0 || now < from) {
    if (asprintf(err, "the uSNChanged watermark %s comes from another domain controller or an "
                      "earlier state of this one (invocationId %s, USN %" PRId64 " now)",
                 text, inv, now) < 0)
      *err = NULL;
    return CONN_ERR_WATERMARK;
  }
  if (asprintf(&filter, "(&(uSNChanged>=%" PRId64 ")(|%s(isDeleted=TRUE)))", from + 1,
               c->type_filter) < 0)
    return CONN_ERR_NOMEM;
  lc_search s = {c->base, LDAP_SCOPE_SUBTREE, filter, extra};
  rc = lc_paged(c, &s, scope_entry, &x, err);
  free(filter);
  if (rc == CONN_OK && !(*new_watermark = format_usn(inv, now)))
    rc = CONN_ERR_NOMEM;
  return rc;
}

int lc_delta(connector *c, const char *watermark, const conn_sink *sink, char **new_watermark,
             char **err)
{
  if (!c->ad) {
    *err = strdup("generic LDAP has no delta import yet: running a full import");
    return CONN_ERR_WATERMARK;
  }
  if (watermark && strncmp(watermark, "dirsync:", 8) == 0)
    return delta_dirsync(c, watermark + 8, sink, new_watermark, err);
  if (watermark && strncmp(watermark, "usn:", 4) == 0)
    return delta_usn(c, watermark + 4, sink, new_watermark, err);
  *err = strdup("malformed watermark (expected dirsync:COOKIES or usn:INVOCATIONID:NUMBER)");
  return CONN_ERR_WATERMARK;
}
