/* http — the Entra connector's HTTPS transport: one reused libcurl easy handle (keep-alive,
 * TLS always verified, redirects never followed), a response body streamed to a sink on 2xx
 * and kept (capped) otherwise, Retry-After and Location read from the headers.
 * Memory: a gh_reply owns its body and location until gh_reply_free. */
#ifndef MVS_GRAPH_HTTP_H
#define MVS_GRAPH_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "schema/buf.h"

typedef struct gh_http gh_http;

/* Where a 2xx body goes as it arrives: begin once per response, then data in any chunks.
 * Nonzero from either stops the transfer (gh_http_send returns GH_ESINK). */
typedef struct gh_body {
  int (*begin)(void *u);
  int (*data)(void *u, const char *p, size_t n);
  void *u;
} gh_body;

typedef struct gh_reply {
  long status;        /* HTTP status; 0 when no response came */
  double retry_after; /* seconds the server asked to wait (Retry-After); < 0: none */
  char *location;     /* the Location header, or NULL */
  buf body;           /* the body when it went to no sink (non-2xx, or no sink given) */
  char error[256];    /* transport error text (GH_ENET) */
  bool not_sent;      /* GH_ENET before the request could go out (no connection) */
  bool timed_out;     /* GH_ENET: a deadline passed (connect, stall or the whole request) */
  bool tls_failed;    /* GH_ENET: the server's certificate could not be verified */
} gh_reply;

enum { GH_OK = 0, GH_ENET = -1, GH_ESINK = -2, GH_ENOMEM = -3 };

/* ca_file: the trust anchors (NULL: the system's).  timeout: seconds a request may take in
 * all (>= 1); connecting (TLS handshake included) may take at most 30 of them, and a
 * transfer stalled (no byte) for 60 of them is given up. */
gh_http *gh_http_new(const char *ca_file, long timeout);
void gh_http_free(gh_http *h);

/* Send one request.  headers: "Name: value" lines, NULL-terminated; body may be NULL.
 * body_cap caps what is kept in r->body.  Returns GH_OK when a response arrived (any status),
 * GH_ENET (no complete response: r->error says why), GH_ESINK, GH_ENOMEM. */
int gh_http_send(gh_http *h, const char *method, const char *url, const char *const *headers,
                 const char *body, size_t body_len, const gh_body *sink, size_t body_cap,
                 gh_reply *r);
void gh_reply_free(gh_reply *r);

/* Retry-After: delay-seconds, also with a fraction ("2.128", as Graph sends it), or an
 * HTTP-date (then relative to now, 0 when past); < 0 when unreadable. */
double gh_parse_retry_after(const char *v, size_t n);

/* s percent-encoded for a URL query: every byte but the unreserved (RFC 3986: ALPHA /
 * DIGIT / "-" / "." / "_" / "~") as %XX.  malloc'd; NULL when out of memory. */
char *gh_query_escape(const char *s);

/* The origin (lowercase "scheme://host:port", default ports made explicit) of an absolute
 * http(s) URL into out; -1 when it is not one. */
int gh_origin(const char *url, char *out, size_t outlen);

#endif
