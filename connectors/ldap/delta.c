/* delta — delta import from AD: DirSync (1.2.840.113556.1.4.841, incremental values, the
 * cookie as watermark "dirsync:<base64>") or, for accounts without DirSync rights,
 * uSNChanged with Show Deleted (watermark "usn:<highestCommittedUSN>").  See ldap_int.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/base64.h"
#include "connectors/ldap/ldap_int.h"

#define SHOW_DELETED_OID "1.2.840.113556.1.4.417"

/* highestCommittedUSN of the rootDSE (readable anonymously). */
static int read_usn(connector *c, int64_t *usn, char **err)
{
  char *want[] = {(char *)"highestCommittedUSN", NULL};
  int attempts = 0, lrc;
  for (;;) {
    LDAPMessage *res = NULL, *e;
    struct berval **bv = NULL;
    lrc = ldap_search_ext_s(c->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", want, 0, NULL, NULL,
                            NULL, 0, &res);
    if (lrc == LDAP_SUCCESS && (e = ldap_first_entry(c->ld, res)))
      bv = ldap_get_values_len(c->ld, e, "highestCommittedUSN");
    if (bv && bv[0]) {
      *usn = strtoll(bv[0]->bv_val, NULL, 10);
      ldap_value_free_len(bv);
      ldap_msgfree(res);
      return CONN_OK;
    }
    ldap_value_free_len(bv);
    ldap_msgfree(res);
    if (!lc_is_down(lrc) || lc_recover(c, &attempts) != 0)
      break;
  }
  *err = lc_errmsg(c, lrc == LDAP_SUCCESS ? LDAP_NO_SUCH_ATTRIBUTE : lrc,
                   "%s: reading highestCommittedUSN", c->url);
  return CONN_ERR_IO;
}

/* ---- DirSync ---- */

typedef struct dirsync {
  connector *c;
  const conn_sink *sink;
  const char *filter;
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
    lrc = ldap_search_ext_s(c->ld, c->base, LDAP_SCOPE_SUBTREE, d->filter, c->dirsync_attrs, 0,
                            sctrls, NULL, NULL, 0, &res);
    ldap_control_free(ctrl);
    if (lc_is_down(lrc)) {
      /* The cookie is ours, not the connection's: reconnect and ask again. */
      ldap_msgfree(res);
      if (lc_recover(c, &attempts) == 0)
        continue;
      *err = lc_errmsg(c, lrc, "%s: DirSync", c->url);
      return CONN_ERR_IO;
    }
    if (lrc != LDAP_SUCCESS) {
      *lrc_out = lrc;
      *err = lc_errmsg(c, lrc, "%s: DirSync", c->url);
      ldap_msgfree(res);
      return CONN_ERR_IO;
    }
    for (LDAPMessage *m = ldap_first_entry(c->ld, res); d->deliver && m && rc == CONN_OK;
         m = ldap_next_entry(c->ld, m))
      rc = dirsync_entry(d, m, err);
    more = 0;
    if (rc == CONN_OK &&
        (ldap_parse_result(c->ld, res, &code, NULL, NULL, NULL, &rctrls, 0) != LDAP_SUCCESS ||
         !(resp = ldap_control_find(LDAP_CONTROL_X_DIRSYNC, rctrls, NULL)) ||
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

static char *format_cookie(const struct berval *cookie)
{
  size_t n = base64_encoded_len(cookie->bv_len);
  char *wm = malloc(sizeof "dirsync:" + n);
  if (wm) {
    memcpy(wm, "dirsync:", 8);
    base64_encode(cookie->bv_val, cookie->bv_len, wm + 8);
    wm[8 + n] = '\0';
  }
  return wm;
}

static char *format_usn(int64_t usn)
{
  char *wm = NULL;
  return asprintf(&wm, "usn:%" PRId64, usn) < 0 ? NULL : wm;
}

int lc_delta_start(connector *c, const conn_sink *sink, char **watermark, char **err)
{
  int64_t usn;
  int rc, lrc;

  *watermark = NULL;
  if (!c->ad)
    return CONN_OK; /* generic LDAP: every import is a full one (see ldap-connector.md) */
  if (!c->delta_usn) {
    /* A filter nothing matches: the server only moves the cookie to "now". */
    dirsync d = {c, sink, "(&(objectClass=top)(!(objectClass=top)))", {0, NULL}, false};
    rc = dirsync_run(&d, &lrc, err);
    if (rc == CONN_OK) {
      *watermark = format_cookie(&d.cookie);
      ber_memfree(d.cookie.bv_val);
      return *watermark ? CONN_OK : CONN_ERR_NOMEM;
    }
    ber_memfree(d.cookie.bv_val);
    if (lrc != LDAP_INSUFFICIENT_ACCESS)
      return rc;
    sink->log(sink->u, *err);
    sink->log(sink->u, "DirSync refused for lack of rights: tracking changes by uSNChanged");
    free(*err);
    *err = NULL;
  }
  if ((rc = read_usn(c, &usn, err)) != CONN_OK)
    return rc;
  return (*watermark = format_usn(usn)) ? CONN_OK : CONN_ERR_NOMEM;
}

static int delta_dirsync(connector *c, const char *b64, const conn_sink *sink,
                         char **new_watermark, char **err)
{
  size_t n = strlen(b64), len;
  unsigned char *bytes = malloc(n / 4 * 3 + 1);
  char *filter = NULL;
  dirsync d = {c, sink, NULL, {0, NULL}, true};
  int rc, lrc;

  if (!bytes)
    return CONN_ERR_NOMEM;
  if (n == 0 || base64_decode(b64, n, bytes, &len) != 0) {
    free(bytes);
    *err = strdup("the DirSync cookie is not base64");
    return CONN_ERR_WATERMARK;
  }
  /* libldap frees the cookie it replaces: give it ber memory. */
  if (!(d.cookie.bv_val = ber_memalloc(len ? len : 1))) {
    free(bytes);
    return CONN_ERR_NOMEM;
  }
  memcpy(d.cookie.bv_val, bytes, len);
  d.cookie.bv_len = len;
  free(bytes);
  /* Tombstones lose most attributes; isDeleted finds them whatever their class. */
  if (asprintf(&filter, "(|%s(isDeleted=TRUE))", c->type_filter) < 0) {
    ber_memfree(d.cookie.bv_val);
    return CONN_ERR_NOMEM;
  }
  d.filter = filter;
  rc = dirsync_run(&d, &lrc, err);
  if (rc == CONN_OK) {
    *new_watermark = format_cookie(&d.cookie);
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
  } else if (lrc != LDAP_SUCCESS && lrc != LDAP_BUSY && lrc != LDAP_UNAVAILABLE) {
    /* The server answered but refused the cookie (AD: 12 unavailableCriticalExtension,
     * 53 unwillingToPerform, 2 protocolError): start over with a full import. */
    rc = CONN_ERR_WATERMARK;
  }
  ber_memfree(d.cookie.bv_val);
  free(filter);
  return rc;
}

/* ---- uSNChanged ---- */

typedef struct usn_ctx {
  connector *c;
  const conn_sink *sink;
  char **err;
} usn_ctx;

static int usn_entry(void *u, LDAPMessage *e)
{
  usn_ctx *x = u;
  char *dn = ldap_get_dn(x->c->ld, e);
  /* Whole objects: adds and updates alike; out of the containers means moved out. */
  conn_change ch = dn && lc_in_scope(x->c, dn) ? CONN_OBJ_ADD : CONN_OBJ_DELETE;
  ldap_memfree(dn);
  return lc_deliver(x->c, x->sink, e, LC_READ_WHOLE, ch, x->err);
}

static int delta_usn(connector *c, const char *text, const conn_sink *sink, char **new_watermark,
                     char **err)
{
  LDAPControl show_deleted = {(char *)SHOW_DELETED_OID, {0, NULL}, 1};
  LDAPControl *extra[] = {&show_deleted, NULL};
  usn_ctx x = {c, sink, err};
  char *end, *filter = NULL;
  int64_t from, now;
  int rc;

  errno = 0;
  from = strtoll(text, &end, 10);
  if (errno || end == text || *end || from < 0) {
    *err = strdup("the uSNChanged watermark is not a number");
    return CONN_ERR_WATERMARK;
  }
  /* The USN first: what changes during the search comes again next time. */
  if ((rc = read_usn(c, &now, err)) != CONN_OK)
    return rc;
  if (asprintf(&filter, "(&(uSNChanged>=%" PRId64 ")(|%s(isDeleted=TRUE)))", from + 1,
               c->type_filter) < 0)
    return CONN_ERR_NOMEM;
  lc_search s = {c->base, LDAP_SCOPE_SUBTREE, filter, extra};
  rc = lc_paged(c, &s, usn_entry, &x, err);
  free(filter);
  if (rc == CONN_OK && !(*new_watermark = format_usn(now)))
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
  *err = strdup("malformed watermark (expected dirsync:COOKIE or usn:NUMBER)");
  return CONN_ERR_WATERMARK;
}
