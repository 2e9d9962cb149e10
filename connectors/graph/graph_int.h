/* graph_int — what the Entra connector's parts share: its settings and state, and the one
 * way to call Graph (token, origin check, throttling and retries).  Memory: the connector owns
 * its strings, token and HTTP handle; messages are malloc'd for the caller. */
#ifndef MVS_GRAPH_INT_H
#define MVS_GRAPH_INT_H

#include <stdbool.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "connectors/connector.h"
#include "connectors/change.h"
#include "connectors/graph/http.h"
#include "connectors/graph/jwt.h"

#define GRAPH_ORIGIN_MAX 512

struct connector {
  char *name;
  const shape *shape;
  ftyper typer;
  char *client_id, *token_url, *scope;
  char *secret;              /* client-secret, or NULL */
  char *cert_file, *key_pem; /* certificate auth, or NULL */
  jwt_alg alg;
  char *graph_base;              /* <graph-url>/v1.0, no trailing slash */
  char *graph_root;              /* <graph-url>, no trailing slash */
  char origin[GRAPH_ORIGIN_MAX]; /* scheme://host:port of graph-url: the only token holder */
  double max_retry;              /* seconds a request may spend waiting on throttling in total */
  double run_retry;              /* seconds the whole run may spend waiting (run-retry-seconds) */
  double retry_spent;            /* seconds waited so far in this run */
  bool run_budget_spent;         /* graph_retry_next refused a wait: the run must stop */
  long timeout;                  /* seconds one request may take */
  long page_size;
  size_t max_object;
  char *select[2]; /* $select of users and groups; NULL: the type is not imported */
  /* Per type, the Graph properties the rule set reads by Connect's AAD names
   * (schema/aad_map.h: onPremisesImmutableId as sourceAnchor): imported under the AAD name,
   * and also under the Graph name when the rule set uses that too.  Static strings. */
  struct graph_rename {
    const char *graph, *aad;
    bool keep;
  } *renames[2];
  size_t n_renames[2], rename_cap[2];
  gh_http *http;
  char *token;        /* the cached access token */
  time_t token_renew; /* when to fetch the next one */
  long requests;      /* counters for the run log */
  long retries;
};

enum { GRAPH_USERS = 0, GRAPH_GROUPS = 1 };

char *graph_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether url's origin is the configured Graph origin. */
bool graph_same_origin(const connector *c, const char *url);

/* Call Graph: url must be on the Graph origin (else CONN_ERR_IO, nothing sent).  Sends the
 * bearer token (fetched or renewed as needed; once more on a 401 InvalidAuthenticationToken);
 * waits out 429 / 503 / 504 (graph_retry_next) within max-retry-seconds, except a 504 to a
 * non-GET (it may have run); retries a GET whose connection failed.  json_body: sent as
 * application/json when non-NULL.  On CONN_OK *r holds the final response (any status; a 2xx
 * body went to sink); else *err says why.  extra: more header lines (NULL-terminated) or NULL. */
int graph_call(connector *c, const char *method, const char *url, const char *json_body,
               const char *const *extra, const gh_body *sink, gh_reply *r, char **err);

/* 429, 503 and 504: throttled, worth waiting for. */
bool graph_throttled(long status);
/* The retry budget of one request (or of one export round's throttled $batch items): time on
 * a monotonic clock since graph_retry_begin, and a cap on the number of resends. */
typedef struct graph_retry {
  double start;
  double backoff;
  int retries;
} graph_retry;
void graph_retry_begin(graph_retry *rt);
/* The wait before the next try: retry_after (seconds) when >= 1, else (none, 0, a past
 * HTTP-date) an exponential backoff with jitter (0.5-1 x 1, 2, 4 ... 64 s); < 0 when that
 * wait would pass max-retry-seconds since the start, or the resends are used up, or the
 * run's waits would pass run-retry-seconds (then c->run_budget_spent is set: the run
 * stops with graph_budget_error). */
double graph_retry_next(connector *c, graph_retry *rt, double retry_after);
/* The error of a run whose retry budget is spent, at url (CONN_ERR_TIMEOUT). */
char *graph_budget_error(const connector *c, const char *url, const char *last);
void graph_sleep(double seconds);

/* The access token (*token, malloc'd; the caller wipes it) and its lifetime in seconds
 * (clamped to 60..86400; 3599 when not given) of a token endpoint's JSON reply body; -1 when
 * it holds no usable token (none, empty, or with a line break), -2 when out of memory.  The
 * parsed copy of the token is wiped. */
int graph_token_parse(const char *body, char **token, long *expires_in);

/* The Graph error envelope of a reply body: code and message (either may be empty). */
void graph_error_of(const gh_reply *r, char *code, size_t codelen, char *msg, size_t msglen);

/* One item of a $batch reply: its id and status, Retry-After (< 0: none), the error code and
 * message ("" when none), the "id" of its body (a created object's), or NULL, and the body
 * itself (an object, or NULL; valid during the callback). */
typedef struct graph_batch_item {
  const char *id;
  long status;
  double retry_after;
  const char *code, *message;
  const char *new_id;
  yajl_val body;
} graph_batch_item;
typedef void (*graph_batch_fn)(void *u, const graph_batch_item *it);
/* Call fn for each item of a $batch reply body (any order); -1 when it is not one. */
int graph_batch_items(const char *json, graph_batch_fn fn, void *u);

/* The query value of $filter=PROP eq 'VALUE': VALUE as an OData string literal (a quote
 * doubled), the whole percent-encoded.  malloc'd; NULL when out of memory. */
char *graph_eq_filter(const char *prop, const char *value);
/* The deltaLink a watermark ("mvsync-entra-delta 1\nusers <link>\ngroups <link>\n") stores
 * for collection coll (the first line after the header naming it), malloc'd; NULL when none. */
char *graph_watermark_link(const char *wm, const char *coll);

int graph_import(connector *c, conn_import_mode mode, const char *watermark, const conn_sink *sink,
                 char **new_watermark, char **err);
/* connector_ops.value_taken: GET /users or /groups?$filter=ATTR eq 'VALUE' (graph_eq_filter). */
int graph_value_taken(connector *c, const char *object_type, const char *attr,
                      const char *value, const char *except_anchor, bool *taken, char **err);
int graph_export(connector *c, const conn_export *changes, size_t n,
                 const conn_export_env *env, conn_export_result *results, char **err);

#endif
