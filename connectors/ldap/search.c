/* search — the paged search (1.2.840.113556.1.4.319) full and USN-delta imports share (the
 * next page is requested before this one is processed; a dropped connection starts it over),
 * and delivering an entry it returns to the sink.  Used by import.c and delta.c, which do
 * not call each other for it.  See ldap_int.h. */
#include <stdlib.h>
#include <string.h>

#include "connectors/ldap/ldap_int.h"

int lc_deliver(connector *c, const conn_sink *sink, LDAPMessage *e, lc_read_mode mode,
               conn_change ch, char **err)
{
  lc_entry ent;
  char *why = NULL;
  int rc = lc_entry_read(c, e, mode, &ent, &why);
  if (rc == CONN_ERR_DATA) {
    sink->object_error(sink->u, ent.obj.origin, why ? why : "unreadable entry");
    free(why);
    return CONN_OK;
  }
  if (rc != CONN_OK) {
    *err = why;
    return rc;
  }
  ent.obj.change = ch;
  if (ent.deleted || ch == CONN_OBJ_DELETE) {
    ent.obj.change = CONN_OBJ_DELETE;
    ent.obj.dn = NULL; /* a tombstone's DN names nothing the engine knows */
    ent.obj.n_attrs = 0;
  }
  return sink->object(sink->u, &ent.obj) ? CONN_ERR_ABORTED : CONN_OK;
}

/* Ask for the page after `cookie` (empty: the first page): *msgid. */
static int request_page(connector *c, const lc_search *s, struct berval *cookie, int *msgid,
                        char **err)
{
  LDAPControl *page = NULL, *sctrls[8];
  size_t k = 0;
  int lrc;

  if (ldap_create_page_control(c->ld, c->page_size, cookie, 1, &page) != LDAP_SUCCESS)
    return CONN_ERR_NOMEM;
  sctrls[k++] = page;
  for (size_t i = 0; s->extra && s->extra[i] && k < 7; i++)
    sctrls[k++] = s->extra[i];
  sctrls[k] = NULL;
  lrc = ldap_search_ext(c->ld, s->base, s->scope, s->filter, c->attrs, 0, sctrls, NULL, NULL, 0,
                        msgid);
  ldap_control_free(page);
  if (lrc == LDAP_SUCCESS)
    return CONN_OK;
  if (lc_is_down(lrc))
    return LC_ERR_DOWN;
  *err = lc_errmsg(c, lrc, "search of %s", s->base);
  return lc_conn_code(lrc);
}

/* Wait for a whole page (*res, the caller frees) and its result: the next page's cookie
 * (bv_len 0 after the last page).  A result that cannot be read, or one without a readable
 * paged-results response, is an error: taken for the last page, it would end a full import
 * early and the engine would mark every object not yet seen as deleted. */
static int receive_page(connector *c, const lc_search *s, int msgid, LDAPMessage **res,
                        struct berval *cookie, char **err)
{
  struct timeval tv = {c->timeout, 0};
  LDAPControl **rctrls = NULL, *pr;
  LDAPMessage *m;
  ber_int_t count;
  int code = LDAP_SUCCESS, lrc = -1, rc = CONN_OK;

  cookie->bv_val = NULL;
  cookie->bv_len = 0;
  /* 0: nothing for `timeout` seconds (a deadline, not retried); -1: the connection is gone. */
  switch (ldap_result(c->ld, msgid, LDAP_MSG_ALL, &tv, res)) {
  case 0:
    *err = lc_errmsg(c, LDAP_TIMEOUT, "%s: search of %s", c->url, s->base);
    return CONN_ERR_TIMEOUT;
  case -1:
    return LC_ERR_DOWN;
  }
  for (m = ldap_first_message(c->ld, *res); m && lrc == -1; m = ldap_next_message(c->ld, m))
    if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
      lrc = ldap_parse_result(c->ld, m, &code, NULL, NULL, NULL, &rctrls, 0);
  if (lrc == LDAP_SUCCESS && lc_is_down(code)) {
    rc = LC_ERR_DOWN;
  } else if (lrc == LDAP_SUCCESS && code != LDAP_SUCCESS) {
    *err = lc_errmsg(c, code, "search of %s", s->base);
    rc = CONN_ERR_IO;
  } else if (lrc != LDAP_SUCCESS) {
    *err = lc_errmsg(c, lrc == -1 ? LDAP_DECODING_ERROR : lrc, "search of %s: %s", s->base,
                     lrc == -1 ? "no search result" : "unreadable search result");
    rc = CONN_ERR_IO;
  } else if (!(pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL)) ||
             !pr->ldctl_value.bv_len || /* libldap crashes on a control with an empty value */
             ldap_parse_pageresponse_control(c->ld, pr, &count, cookie) != LDAP_SUCCESS) {
    ber_memfree(cookie->bv_val);
    cookie->bv_val = NULL;
    cookie->bv_len = 0;
    *err = lc_errmsg(c, LDAP_CONTROL_NOT_FOUND, "search of %s: paged-results response", s->base);
    rc = CONN_ERR_IO;
  }
  ldap_controls_free(rctrls);
  return rc;
}

/* Run one search page by page; entries go to fn.  The next page is asked for before the
 * entries of this one are processed, so the server reads while the client works. */
static int paged_once(connector *c, const lc_search *s, int (*fn)(void *u, LDAPMessage *e),
                      void *u, char **err)
{
  struct berval cookie = {0, NULL};
  int msgid = -1, rc = request_page(c, s, &cookie, &msgid, err);

  while (rc == CONN_OK && msgid >= 0) {
    LDAPMessage *res = NULL;
    rc = receive_page(c, s, msgid, &res, &cookie, err);
    msgid = -1;
    if (rc == CONN_OK && cookie.bv_len > 0)
      rc = request_page(c, s, &cookie, &msgid, err);
    ber_memfree(cookie.bv_val);
    cookie.bv_val = NULL;
    cookie.bv_len = 0;
    for (LDAPMessage *m = res ? ldap_first_entry(c->ld, res) : NULL; m && rc == CONN_OK;
         m = ldap_next_entry(c->ld, m))
      rc = fn(u, m); /* continuation references are skipped */
    ldap_msgfree(res);
  }
  if (msgid >= 0)
    ldap_abandon_ext(c->ld, msgid, NULL, NULL);
  return rc;
}

int lc_paged(connector *c, const lc_search *s, int (*fn)(void *u, LDAPMessage *e), void *u,
             char **err)
{
  int attempts = 0, lrc = LDAP_SERVER_DOWN, rc;
  /* A paged search's cookie belongs to its connection: after a reconnect it starts over. */
  while ((rc = paged_once(c, s, fn, u, err)) == LC_ERR_DOWN)
    if (lc_recover(c, &attempts, &lrc) != 0) {
      *err = lc_errmsg(c, lrc, "%s: search of %s (after %d reconnects)", c->url, s->base,
                       attempts);
      return lc_conn_code(lrc);
    }
  return rc;
}
