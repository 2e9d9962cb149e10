/* http — libcurl transport for the Entra connector.  See http.h. */
#include "connectors/graph/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CONNECT_MAX 30L /* seconds to connect, TLS handshake included */
#define STALL_MAX 60L   /* seconds without a byte before a transfer is given up */

struct gh_http {
  CURL *curl;
  char *ca_file;
  long timeout;
};

typedef struct xfer {
  gh_http *h;
  const gh_body *sink;
  size_t body_cap;
  gh_reply *r;
  bool started; /* the first body byte decided where the body goes */
  bool to_sink;
  bool sink_stopped;
  bool nomem;
} xfer;

static void curl_init_once(void)
{
  static bool done;
  if (!done) {
    /* libcurl would write every TLS session key (bearer tokens, secrets) to this file. */
    unsetenv("SSLKEYLOGFILE");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    done = true;
  }
}

gh_http *gh_http_new(const char *ca_file, long timeout)
{
  gh_http *h = calloc(1, sizeof *h);
  curl_init_once();
  if (!h || !(h->curl = curl_easy_init()) || (ca_file && !(h->ca_file = strdup(ca_file)))) {
    gh_http_free(h);
    return NULL;
  }
  h->timeout = timeout;
  return h;
}

void gh_http_free(gh_http *h)
{
  if (!h)
    return;
  if (h->curl)
    curl_easy_cleanup(h->curl);
  free(h->ca_file);
  free(h);
}

void gh_reply_free(gh_reply *r)
{
  free(r->location);
  buf_free(&r->body);
  memset(r, 0, sizeof *r);
}

double gh_parse_retry_after(const char *v, size_t n)
{
  char tmp[128];
  size_t i;
  time_t t;

  while (n && isspace((unsigned char)*v))
    v++, n--;
  while (n && isspace((unsigned char)v[n - 1]))
    n--;
  if (n == 0 || n >= sizeof tmp)
    return -1;
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  /* delay-seconds (RFC 9110 10.2.3: 1*DIGIT), or with a fraction as Graph sends it
   * ("Retry-After: 2.128" in Microsoft's throttling guidance); at most 1e9 s. */
  for (i = 0; i < n && isdigit((unsigned char)tmp[i]); i++)
    ;
  if (i > 0 && i < n && tmp[i] == '.') {
    double frac = 0, scale = 1; /* by hand: strtod would follow LC_NUMERIC */
    size_t k;
    for (k = i + 1; k < n && isdigit((unsigned char)tmp[k]); k++)
      if (k - i <= 9)
        frac += (tmp[k] - '0') * (scale /= 10);
    if (k == i + 1 || k != n)
      return -1;
    tmp[i] = '\0';
    return i > 9 ? 1e9 : (double)strtol(tmp, NULL, 10) + frac;
  }
  if (i == n)
    return i > 9 ? 1e9 : (double)strtol(tmp, NULL, 10);
  /* An HTTP-date: the wait is until then (none if it has passed). */
  if ((t = curl_getdate(tmp, NULL)) < 0)
    return -1;
  return t > time(NULL) ? difftime(t, time(NULL)) : 0;
}

char *gh_query_escape(const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = malloc(3 * strlen(s) + 1), *o = out;
  if (!out)
    return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~", *p)) {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

int gh_origin(const char *url, char *out, size_t outlen)
{
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int rc = -1;

  if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
    goto out;
  if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0)
    goto out;
  if ((size_t)snprintf(out, outlen, "%s://%s:%s", scheme, host, port) >= outlen)
    goto out;
  for (char *p = out; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  rc = 0;
out:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return rc;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
  xfer *x = ud;
  size_t len = size * n, k;
  const char *v;

  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    /* A new response (after a 100 Continue, say): forget the last one's headers. */
    free(x->r->location);
    x->r->location = NULL;
    x->r->retry_after = -1;
    return len;
  }
  if (!(v = memchr(p, ':', len)))
    return len;
  k = (size_t)(v - p);
  v++;
  if (k == 11 && strncasecmp(p, "Retry-After", 11) == 0) {
    x->r->retry_after = gh_parse_retry_after(v, len - k - 1);
  } else if (k == 8 && strncasecmp(p, "Location", 8) == 0) {
    size_t vn = len - k - 1;
    while (vn && isspace((unsigned char)*v))
      v++, vn--;
    while (vn && isspace((unsigned char)v[vn - 1]))
      vn--;
    free(x->r->location);
    if (!(x->r->location = strndup(v, vn)))
      x->nomem = true;
  }
  return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
  xfer *x = ud;
  size_t len = size * n;

  if (!x->started) {
    long status = 0;
    curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &status);
    x->started = true;
    x->to_sink = x->sink && status >= 200 && status < 300;
    if (x->to_sink && x->sink->begin && x->sink->begin(x->sink->u) != 0) {
      x->sink_stopped = true;
      return 0;
    }
  }
  if (x->to_sink) {
    if (x->sink->data(x->sink->u, p, len) != 0) {
      x->sink_stopped = true;
      return 0;
    }
    return len;
  }
  /* Kept for the caller up to the cap; the rest is read and dropped. */
  if (x->r->body.len < x->body_cap) {
    size_t room = x->body_cap - x->r->body.len;
    if (buf_add(&x->r->body, p, len < room ? len : room) != BUF_OK) {
      x->nomem = true;
      return 0;
    }
  }
  return len;
}

int gh_http_send(gh_http *h, const char *method, const char *url, const char *const *headers,
                 const char *body, size_t body_len, const gh_body *sink, size_t body_cap,
                 gh_reply *r)
{
  CURL *c = h->curl;
  struct curl_slist *list = NULL, *np;
  char curl_err[CURL_ERROR_SIZE] = "";
  xfer x = {h, sink, body_cap, r, false, false, false, false};
  CURLcode cc;
  int rc = GH_ENOMEM;

  memset(r, 0, sizeof *r);
  r->retry_after = -1;
  buf_init(&r->body, 0);
  for (size_t i = 0; headers && headers[i]; i++) {
    if (!(np = curl_slist_append(list, headers[i])))
      goto out;
    list = np;
  }
  /* Graph is fine with HTTP/1.1; "Expect: 100-continue" only costs a round trip. */
  if (!(np = curl_slist_append(list, "Expect:")))
    goto out;
  list = np;
  curl_easy_reset(c); /* keeps the connection cache: keep-alive across requests */
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
  if (h->ca_file)
    curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
  /* Deadlines, so a server that accepts and says nothing cannot hang a run: the whole
   * request, the connection (TLS handshake included), and a stall. */
  curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->timeout < CONNECT_MAX ? h->timeout : CONNECT_MAX);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->timeout < STALL_MAX ? h->timeout : STALL_MAX);
  if (strcmp(method, "HEAD") == 0)
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  if (x.nomem) {
    rc = GH_ENOMEM;
  } else if (x.sink_stopped) {
    rc = GH_ESINK;
  } else if (cc != CURLE_OK) {
    snprintf(r->error, sizeof r->error, "%s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
    r->not_sent = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
                  cc == CURLE_SSL_CONNECT_ERROR;
    r->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
    /* Trying again cannot make a certificate trusted (CURLE_SSL_CACERT is the same code as
     * CURLE_PEER_FAILED_VERIFICATION since curl 7.62). */
    r->tls_failed = cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
                    cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_ISSUER_ERROR ||
                    cc == CURLE_SSL_CRL_BADFILE || cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
                    cc == CURLE_SSL_INVALIDCERTSTATUS;
    rc = GH_ENET;
  } else {
    rc = GH_OK;
  }
  if (!x.started && sink && rc == GH_OK && r->status >= 200 && r->status < 300 && sink->begin &&
      sink->begin(sink->u) != 0)
    rc = GH_ESINK; /* an empty 2xx body still begins (and ends) a document */
out:
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
  for (np = list; np; np = np->next) /* the copies of the Authorization header */
    memset(np->data, 0, strlen(np->data));
  curl_slist_free_all(list);
  return rc;
}
