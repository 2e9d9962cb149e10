/* conn — the AD/LDAP connection: TLS (verified; per-connection context), simple bind,
 * timeouts, referrals off, bounded reconnects; error texts; scope checks.  See ldap_int.h. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include "connectors/dn.h"
#include "connectors/ldap/ldap_int.h"

bool lc_is_down(int rc)
{
  return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR;
}

int lc_conn_code(int rc)
{
  return rc == LDAP_TIMEOUT ? CONN_ERR_TIMEOUT : CONN_ERR_IO;
}

void lc_result_text(connector *c, int rc, const char *diag, buf *out)
{
  char *opt = NULL;
  if (!diag && c->ld &&
      ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &opt) == LDAP_OPT_SUCCESS)
    diag = opt;
  buf_adds(out, ldap_err2string(rc));
  /* A deadline names the server even where the caller's text names only an entry. */
  if (rc == LDAP_TIMEOUT)
    buf_printf(out, " (no answer from %s within %d s)", c->url, c->timeout);
  else if (diag && *diag)
    buf_printf(out, ": %s", diag);
  ldap_memfree(opt);
}

char *lc_errmsg(connector *c, int rc, const char *fmt, ...)
{
  buf b;
  va_list ap;
  buf_init(&b, 0);
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  buf_adds(&b, ": ");
  lc_result_text(c, rc, NULL, &b);
  return buf_detach(&b);
}

/* While any connector is open, SIGPIPE is ignored: libldap writes to its socket with write(),
 * and a server that goes away must make an operation fail, not kill the process.  The
 * disposition the process had is restored when the last connector closes. */
static int sigpipe_users;
static struct sigaction sigpipe_saved;

void lc_sigpipe_hold(void)
{
  struct sigaction ign;
  if (sigpipe_users++ > 0)
    return;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &sigpipe_saved);
}

void lc_sigpipe_release(void)
{
  if (sigpipe_users > 0 && --sigpipe_users == 0)
    sigaction(SIGPIPE, &sigpipe_saved, NULL);
}

void lc_disconnect(connector *c)
{
  if (c->ld)
    ldap_unbind_ext_s(c->ld, NULL, NULL);
  c->ld = NULL;
}

int lc_socket_prepare(const connector *c, Sockbuf *sb)
{
  struct timeval tv = {c->timeout, 0};
  ber_len_t max = LC_ENTRY_MAX;
  ber_socket_t fd = -1;
  if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max) != 1 ||
      ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    return LDAP_CONNECT_ERROR;
  return 0;
}

/* Called by libldap once the TCP connection is up, before the TLS handshake.
 * LDAP_OPT_NETWORK_TIMEOUT bounds only the connect, and libldap runs the handshake on a
 * blocking socket: a server that accepts and then says nothing (a hung or stopped DC) would
 * hold it forever.  A read that times out fails with EAGAIN, which libldap takes as "wait"
 * and then bounds with the network timeout. */
static int socket_deadline(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
                           struct ldap_conncb *ctx)
{
  (void)ld;
  (void)srv;
  (void)addr;
  return lc_socket_prepare(ctx->lc_arg, sb);
}

static void socket_closed(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
  (void)ld;
  (void)sb;
  (void)ctx;
}

/* Options of a fresh handle: protocol 3, no referral chasing, timeouts, TLS verification. */
static int set_options(connector *c, LDAP *ld)
{
  int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, is_server = 0;
  struct timeval tv = {c->timeout, 0};
  int rc;

  if ((rc = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON)) != LDAP_OPT_SUCCESS ||
      (rc = ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &c->deadline_cb)) != LDAP_OPT_SUCCESS)
    return rc;
  if (c->tls == LC_TLS_NONE)
    return LDAP_SUCCESS;
  /* The handle's own TLS context, so one connector's CA never leaks into another's. */
  if ((rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) != LDAP_OPT_SUCCESS ||
      (c->ca_file &&
       (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ca_file)) != LDAP_OPT_SUCCESS) ||
      (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server)) != LDAP_OPT_SUCCESS)
    return rc;
  return LDAP_SUCCESS;
}

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connection that failed after the deadline passed was cut by it (libldap reports a
 * handshake that timed out as "can't contact"): LDAP_TIMEOUT, so it is said and not retried. */
static int deadline_code(const connector *c, int rc, double started)
{
  return lc_is_down(rc) && now_seconds() - started >= c->timeout ? LDAP_TIMEOUT : rc;
}

int lc_connect(connector *c, char **err)
{
  struct berval cred;
  double started = now_seconds();
  int rc;

  if (c->ld)
    return CONN_OK;
  c->deadline_cb.lc_add = socket_deadline;
  c->deadline_cb.lc_del = socket_closed;
  c->deadline_cb.lc_arg = c;
  if ((rc = ldap_initialize(&c->ld, c->url)) != LDAP_SUCCESS) {
    c->ld = NULL;
    *err = lc_errmsg(c, rc, "%s", c->url);
    return CONN_ERR_CONFIG;
  }
  if ((rc = set_options(c, c->ld)) != LDAP_SUCCESS) {
    *err = lc_errmsg(c, rc, "%s: TLS and connection options", c->url);
    goto fail;
  }
  if (c->tls == LC_TLS_STARTTLS && (rc = ldap_start_tls_s(c->ld, NULL, NULL)) != LDAP_SUCCESS) {
    rc = deadline_code(c, rc, started);
    *err = lc_errmsg(c, rc, "%s: StartTLS", c->url);
    goto fail;
  }
  /* Simple bind; an empty DN and password is an anonymous bind.  The password is never
   * part of a message. */
  cred.bv_val = c->password ? c->password : (char *)"";
  cred.bv_len = strlen(cred.bv_val);
  rc = ldap_sasl_bind_s(c->ld, c->bind_dn ? c->bind_dn : "", LDAP_SASL_SIMPLE, &cred, NULL, NULL,
                        NULL);
  if (rc != LDAP_SUCCESS) {
    rc = deadline_code(c, rc, started);
    *err = lc_errmsg(c, rc, "%s: %sbind as %s", c->url,
                     c->tls == LC_TLS_LDAPS && rc == LDAP_TIMEOUT ? "TLS handshake and " : "",
                     c->bind_dn ? c->bind_dn : "(anonymous)");
    goto fail;
  }
  return CONN_OK;
fail:
  lc_disconnect(c);
  return lc_conn_code(rc);
}

int lc_recover(connector *c, int *attempts, int *lrc)
{
  char *err = NULL;
  lc_disconnect(c);
  while (*attempts < c->retries) {
    /* A short, growing pause: a restarting server gets a moment, a dead one fails fast. */
    long ms = 250L * ++*attempts;
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
    int rc;
    nanosleep(&ts, NULL);
    if ((rc = lc_connect(c, &err)) == CONN_OK)
      return 0;
    free(err);
    err = NULL;
    /* A server that accepts and does not answer is hung, not restarting: the deadline is
     * not waited out again for each retry. */
    if (rc == CONN_ERR_TIMEOUT) {
      *lrc = LDAP_TIMEOUT;
      break;
    }
  }
  return -1;
}

bool lc_in_scope(connector *c, const char *dn)
{
  buf key;
  bool in = false;
  buf_init(&key, 0);
  if (dn_key(dn, strlen(dn), &key) == BUF_OK && key.p)
    for (size_t i = 0; i < c->n_containers && !in; i++) {
      size_t n = strlen(c->container_keys[i]);
      in = key.len >= n && strcmp(key.p + key.len - n, c->container_keys[i]) == 0 &&
           (key.len == n || key.p[key.len - n - 1] == ',');
    }
  buf_free(&key);
  return in;
}
