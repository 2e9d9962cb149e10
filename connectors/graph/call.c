/* call — the one way the Entra connector talks to Graph and the token endpoint: the
 * client-credentials token (secret or signed assertion), cached and renewed before expiry and
 * on a 401; the bearer token only ever sent to the Graph origin; throttling (429 / 503 / 504)
 * waited out as the server asks, within a total bound.  See graph_int.h. */
#include <curl/curl.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "connectors/graph/graph_int.h"

#define REPLY_CAP (1 << 20) /* what is kept of a body that is not streamed */
#define TOKEN_MARGIN 300    /* renew this many seconds before the token expires */
#define ASSERTION_LIFETIME 600
#define MAX_RETRIES 100 /* a cap on resends however short the server's waits */

char *graph_printf(const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

bool graph_same_origin(const connector *c, const char *url)
{
  char o[GRAPH_ORIGIN_MAX];
  return gh_origin(url, o, sizeof o) == 0 && strcmp(o, c->origin) == 0;
}

static void wipe_free(char *s)
{
  if (s) {
    memset(s, 0, strlen(s));
    free(s);
  }
}

/* A string member of a yajl tree object, or "". */
static const char *tree_str(yajl_val v, const char *a, const char *b)
{
  const char *path[3] = {a, b, NULL};
  yajl_val s = yajl_tree_get(v, path, yajl_t_string);
  return s ? s->u.string : "";
}

void graph_error_of(const gh_reply *r, char *code, size_t codelen, char *msg, size_t msglen)
{
  char ebuf[64];
  yajl_val v = r->body.p ? yajl_tree_parse(r->body.p, ebuf, sizeof ebuf) : NULL;
  const char *c = tree_str(v, "error", "code"), *m = tree_str(v, "error", "message");
  if (!c[0]) /* the token endpoint's shape: {"error": "...", "error_description": "..."} */
    c = tree_str(v, "error", NULL), m = tree_str(v, "error_description", NULL);
  snprintf(code, codelen, "%s", c);
  snprintf(msg, msglen, "%.*s", (int)strcspn(m, "\r\n"), m);
  yajl_tree_free(v);
}

void graph_sleep(double s)
{
  struct timespec ts;
  if (s <= 0)
    return;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0)
    ;
}

bool graph_throttled(long status) { return status == 429 || status == 503 || status == 504; }

static double now_monotonic(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void graph_retry_begin(graph_retry *rt)
{
  rt->start = now_monotonic();
  rt->backoff = 1;
  rt->retries = 0;
}

double graph_retry_next(connector *c, graph_retry *rt, double retry_after)
{
  double wait = retry_after;
  if (wait < 1) {
    /* None given, or 0 / a past HTTP-date: resending at once would storm the server. */
    unsigned short rnd = 0x8000;
    if (RAND_bytes((unsigned char *)&rnd, sizeof rnd) != 1)
      rnd = 0x8000; /* jitter is a courtesy, not a secret */
    wait = rt->backoff * (0.5 + (double)rnd / 131070.0);
    rt->backoff = rt->backoff < 32 ? rt->backoff * 2 : 64;
  }
  if (c->retry_spent + wait > c->run_retry) {
    c->run_budget_spent = true;
    return -1;
  }
  if (rt->retries >= MAX_RETRIES || now_monotonic() - rt->start + wait > c->max_retry)
    return -1;
  rt->retries++;
  c->retry_spent += wait;
  return wait;
}

char *graph_budget_error(const connector *c, const char *url, const char *last)
{
  char o[GRAPH_ORIGIN_MAX] = "";
  gh_origin(url, o, sizeof o);
  return graph_printf("%s: the run's retry budget is spent (%.0f s waited on throttling and "
                      "outages, run-retry-seconds %.0f): stopped (last: %s)",
                      o, c->retry_spent, c->run_retry, last);
}

/* Send, waiting out throttling and failed connections within the connector's total bound;
 * a request that may have reached the server is resent only when idempotent (a token
 * request, a GET): a non-idempotent one is not resent after a broken connection or a 504
 * (the gateway gave up; the request may still have run).  The last reply is left in *r (a
 * 429 when the bound ran out). */
static int send_retrying(connector *c, const char *method, const char *url,
                         const char *const *headers, const char *body, size_t body_len,
                         bool idempotent, const gh_body *sink, gh_reply *r, char **err)
{
  graph_retry rt;

  graph_retry_begin(&rt);
  for (;;) {
    double wait;
    int rc;
    c->requests++;
    rc = gh_http_send(c->http, method, url, headers, body, body_len, sink, REPLY_CAP, r);
    if (rc == GH_ENOMEM || rc == GH_ESINK) {
      gh_reply_free(r);
      *err = rc == GH_ENOMEM ? graph_printf("out of memory") : NULL;
      return rc == GH_ENOMEM ? CONN_ERR_NOMEM : CONN_ERR_ABORTED;
    }
    if (rc == GH_OK && (!graph_throttled(r->status) || (!idempotent && r->status == 504)))
      return CONN_OK;
    if (rc == GH_ENET && (r->tls_failed || r->timed_out)) {
      /* Never retried: no wait makes a certificate trusted, and a silent server must not
       * hold the run for max-retry-seconds more. */
      char o[GRAPH_ORIGIN_MAX] = "";
      bool tls = r->tls_failed;
      gh_origin(url, o, sizeof o);
      *err = tls ? graph_printf("%s: TLS certificate not verified: %s (not retried; the trust "
                                "anchors are ca-file's, else the system's)",
                                o, r->error)
                 : graph_printf("%s: no answer in time: %s (timeout %ld s; not retried)", o,
                                r->error, c->timeout);
      gh_reply_free(r);
      return tls ? CONN_ERR_CONFIG : CONN_ERR_TIMEOUT;
    }
    if (rc == GH_ENET && !idempotent && !r->not_sent) {
      *err = graph_printf("%s %s: %s (not resent: the outcome is unknown)", method, url, r->error);
      gh_reply_free(r);
      return CONN_ERR_IO;
    }
    /* Retry-After when the server gave one, else exponential backoff with jitter. */
    if ((wait = graph_retry_next(c, &rt, rc == GH_OK ? r->retry_after : -1)) < 0) {
      if (c->run_budget_spent) {
        char last[64];
        if (rc == GH_OK)
          snprintf(last, sizeof last, "HTTP %ld", r->status);
        else
          snprintf(last, sizeof last, "%.63s", r->error);
        *err = graph_budget_error(c, url, last);
        gh_reply_free(r);
        return CONN_ERR_TIMEOUT;
      }
      if (rc == GH_OK)
        return CONN_OK; /* the caller reports the throttled reply */
      *err = graph_printf("%s %s: %s", method, url, r->error);
      gh_reply_free(r);
      return CONN_ERR_IO;
    }
    gh_reply_free(r);
    graph_sleep(wait);
    c->retries++;
  }
}

static char *form_field(CURL *e, buf *b, const char *key, const char *value)
{
  char *v = curl_easy_escape(e, value, 0);
  int rc;
  if (!v)
    return NULL;
  rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, v);
  memset(v, 0, strlen(v));
  curl_free(v);
  return rc == BUF_OK ? b->p : NULL;
}

int graph_token_parse(const char *body, char **token, long *expires_in)
{
  char ebuf[64];
  yajl_val v = body ? yajl_tree_parse(body, ebuf, sizeof ebuf) : NULL;
  yajl_val tok = yajl_tree_get(v, (const char *[]){"access_token", NULL}, yajl_t_string);
  yajl_val exp = yajl_tree_get(v, (const char *[]){"expires_in", NULL}, yajl_t_any);
  int rc = -1;

  *token = NULL;
  if (tok && tok->u.string[0] && !strpbrk(tok->u.string, "\r\n")) {
    /* expires_in is a number (Microsoft once sent it as a string); clamped, so a zero or
     * negative one cannot make every request fetch a token, nor a huge one overflow. */
    *expires_in = exp && YAJL_IS_INTEGER(exp)  ? (long)YAJL_GET_INTEGER(exp)
                  : exp && YAJL_IS_STRING(exp) ? strtol(exp->u.string, NULL, 10)
                                               : 3599;
    *expires_in = *expires_in < 60 ? 60 : *expires_in > 86400 ? 86400 : *expires_in;
    rc = (*token = strdup(tok->u.string)) ? 0 : -2;
  }
  if (tok) /* the tree holds the token: wipe it */
    memset(tok->u.string, 0, strlen(tok->u.string));
  yajl_tree_free(v);
  return rc;
}

/* Fetch a token (client credentials). */
static int fetch_token(connector *c, char **err)
{
  static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                        "Accept: application/json", NULL};
  CURL *e = curl_easy_init();
  char *assertion = NULL, *token = NULL, code[128], msg[512];
  buf form;
  gh_reply r;
  int rc = CONN_ERR_NOMEM, prc;
  long expires_in = 0;

  buf_init(&form, 0);
  memset(&r, 0, sizeof r);
  if (!e)
    goto out;
  if (c->cert_file) {
    assertion = jwt_assertion(c->alg, c->cert_file, c->key_pem, c->client_id, c->token_url,
                              time(NULL), ASSERTION_LIFETIME, err);
    if (!assertion) {
      rc = CONN_ERR_CONFIG;
      goto out;
    }
  }
  if (!form_field(e, &form, "client_id", c->client_id) ||
      !form_field(e, &form, "scope", c->scope) ||
      !form_field(e, &form, "grant_type", "client_credentials") ||
      (c->secret && !form_field(e, &form, "client_secret", c->secret)) ||
      (assertion && (!form_field(e, &form, "client_assertion_type",
                                 "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") ||
                     !form_field(e, &form, "client_assertion", assertion))))
    goto out;
  if ((rc = send_retrying(c, "POST", c->token_url, headers, form.p, form.len, true, NULL, &r,
                          err)) != CONN_OK)
    goto out;
  rc = CONN_ERR_IO;
  if (r.status != 200) {
    graph_error_of(&r, code, sizeof code, msg, sizeof msg);
    *err = graph_printf("token endpoint %s: HTTP %ld %s: %s", c->token_url, r.status, code, msg);
    rc = r.status == 400 || r.status == 401 ? CONN_ERR_CONFIG : CONN_ERR_IO;
    goto out;
  }
  if ((prc = graph_token_parse(r.body.p, &token, &expires_in)) != 0) {
    if (prc == -2)
      rc = CONN_ERR_NOMEM;
    else
      *err = graph_printf("token endpoint %s: no access_token in the reply", c->token_url);
    goto out;
  }
  wipe_free(c->token);
  c->token = token;
  /* Renewed 5 minutes before expiry; a short-lived token (tests) at half its life. */
  c->token_renew =
      time(NULL) + expires_in - (expires_in / 2 < TOKEN_MARGIN ? expires_in / 2 : TOKEN_MARGIN);
  rc = CONN_OK;
out:
  if (r.body.p)
    memset(r.body.p, 0, r.body.len);
  gh_reply_free(&r);
  if (form.p)
    memset(form.p, 0, form.len);
  buf_free(&form);
  wipe_free(assertion);
  if (e)
    curl_easy_cleanup(e);
  return rc;
}

int graph_call(connector *c, const char *method, const char *url, const char *json_body,
               const char *const *extra, const gh_body *sink, gh_reply *r, char **err)
{
  const char *headers[16];
  char *auth = NULL, code[128], msg[512];
  bool renewed = false;
  size_t n;
  int rc;

  memset(r, 0, sizeof *r);
  if (!graph_same_origin(c, url)) {
    *err = graph_printf("refused to follow %s: not on the Graph origin %s (no request sent)", url,
                        c->origin);
    return CONN_ERR_IO;
  }
  for (;;) {
    if ((!c->token || time(NULL) >= c->token_renew) && (rc = fetch_token(c, err)) != CONN_OK)
      return rc;
    if (!(auth = graph_printf("Authorization: Bearer %s", c->token)))
      return CONN_ERR_NOMEM;
    n = 0;
    headers[n++] = auth;
    headers[n++] = "Accept: application/json";
    if (json_body)
      headers[n++] = "Content-Type: application/json";
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
      headers[n++] = extra[i];
    headers[n] = NULL;
    rc = send_retrying(c, method, url, headers, json_body, json_body ? strlen(json_body) : 0,
                       strcmp(method, "GET") == 0, sink, r, err);
    wipe_free(auth);
    if (rc != CONN_OK || r->status != 401 || renewed)
      return rc;
    graph_error_of(r, code, sizeof code, msg, sizeof msg);
    if (strcmp(code, "InvalidAuthenticationToken") != 0)
      return rc;
    /* The token expired or was revoked early: one fresh token, the same request again. */
    gh_reply_free(r);
    wipe_free(c->token);
    c->token = NULL;
    renewed = true;
  }
}
