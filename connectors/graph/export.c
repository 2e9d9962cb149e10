/* export — the Entra connector's exports: user creates (looked up first, then POST /users or
 * PATCH of the user found), group creates (POST /groups, then members), updates (PATCH,
 * member and owner $ref adds and removals, manager), deletes; everything sent as $batch
 * requests of at most 20, responses matched by id, throttled items resent after Retry-After
 * within max-retry-seconds.  "Already a member" on add and 404 on removal count as done.
 * Attribute names go through schema/aad_map.h: Connect's AAD names become Graph properties,
 * and what Graph refuses fails the change before anything of it is sent.
 * See graph_int.h and docs/internals/graph-connector.md. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "connectors/graph_json.h"
#include "connectors/graph/graph_int.h"
#include "schema/aad_map.h"
#include "schema/array.h"

#define BATCH_MAX 20

typedef enum sub_kind {
  SUB_LOOKUP, /* GET /users or /groups?$filter=…: is the object to create there already? */
  SUB_CREATE,
  SUB_PATCH,
  SUB_REF_ADD,
  SUB_REF_DEL,
  SUB_REF_PUT,
  SUB_DELETE
} sub_kind;

/* One request of a change. */
typedef struct sub {
  size_t change;
  sub_kind kind;
  const char *method;
  char *url;    /* relative to /v1.0 */
  char *body;   /* JSON, or NULL */
  long depends; /* the sub this one must follow (sent once that one is settled), or -1 */
  bool pending;
  bool ok;
  long status;
  char *failure; /* "METHOD url: HTTP status code: message" */
  char *new_id;  /* SUB_CREATE: the id Graph gave; SUB_LOOKUP: the object found, or NULL */
  bool by_anchor; /* SUB_LOOKUP of a user by onPremisesImmutableId */
} sub;

typedef struct subs {
  sub *v;
  size_t n, cap;
} subs;

typedef struct ctx {
  connector *c;
  const conn_export *changes; /* as Graph takes them (translate) */
  size_t n;
  bool *refs_later; /* an update whose references name objects this export creates: its
                       $ref requests go in the second round, once those have ids */
  conn_export_result *results;
  char (*nick)[65]; /* per change: the mailNickname required_props derived, or "" */
  subs s;
  char *err; /* why the export stopped (a deadline, the retry budget, TLS) */
} ctx;

/* ---- building requests ---- */

static bool url_safe(const char *id)
{
  if (!id || !*id)
    return false;
  for (; *id; id++)
    if (!isalnum((unsigned char)*id) && !strchr("-._", *id))
      return false;
  return true;
}

static bool is_user(const char *type)
{
  return type && strcasecmp(type, "user") == 0;
}

static const char *collection_of(const char *type)
{
  return is_user(type) ? "users" : "groups";
}

static bool is_ref_attr(const connector *c, const conn_attr *a)
{
  mvs_value v = a->value;
  if (shape_syntax_of(c->shape, a->name) == SYN_REF)
    return true;
  for (size_t i = 0; i < c->typer.n_ref_attrs; i++)
    if (strcasecmp(c->typer.ref_attrs[i], a->name) == 0)
      return true;
  return mvs_count(v) > 0 && mvs_item(v, 0).type == MVS_V_REF;
}

static int add_sub(ctx *x, size_t change, sub_kind kind, const char *method, char *url, char *body,
                   long depends)
{
  sub *s;
  if (!url) {
    free(body);
    return -1;
  }
  if (array_reserve(&x->s.v, &x->s.cap, x->s.n + 1, sizeof *x->s.v) != 0) {
    free(url);
    free(body);
    return -1;
  }
  s = &x->s.v[x->s.n++];
  memset(s, 0, sizeof *s);
  s->change = change;
  s->kind = kind;
  s->method = method;
  s->url = url;
  s->body = body;
  s->depends = depends;
  s->pending = true;
  return 0;
}

static int gen_str(yajl_gen g, const char *s, size_t n)
{
  return yajl_gen_string(g, (const unsigned char *)s, n) == yajl_gen_status_ok ? 0 : -1;
}

/* The attribute the change replaces with name, or NULL. */
static const conn_attr *replaced(const conn_export *ch, const char *name)
{
  for (size_t k = 0; k < ch->n_attrs; k++)
    if (ch->attrs[k].op == CONN_ATTR_REPLACE && strcasecmp(ch->attrs[k].name, name) == 0)
      return &ch->attrs[k];
  return NULL;
}

/* A copy of the string the change sets attribute name to; NULL when it sets none (or out
 * of memory: the caller's lookup then fails safe, nothing is created). */
static char *replaced_str(const conn_export *ch, const char *name)
{
  const conn_attr *at = replaced(ch, name);
  return at && at->value.type == MVS_V_STR ? strndup(at->value.u.s.p, at->value.u.s.n) : NULL;
}

/* A new user's passwordProfile: Graph requires one (user-post-users) and Connect has none to
 * give (its own sync writes no password without password hash sync), so the password is 24
 * random characters that nobody knows, to be changed at first sign-in: the user signs in
 * once an administrator or self-service reset sets one.  Never stored, logged or returned. */
static int gen_password(yajl_gen g)
{
  static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  unsigned char raw[20];
  char pw[25];
  int rc = -1;

  if (RAND_bytes(raw, sizeof raw) != 1)
    return -1;
  for (size_t i = 0; i < sizeof raw; i++)
    pw[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
  memcpy(pw + sizeof raw, "a7Q!", 4); /* every character class Graph's policy counts */
  pw[24] = '\0';
  if (gen_str(g, "passwordProfile", 15) == 0 && yajl_gen_map_open(g) == yajl_gen_status_ok &&
      gen_str(g, "forceChangePasswordNextSignIn", 29) == 0 &&
      yajl_gen_bool(g, 1) == yajl_gen_status_ok && gen_str(g, "password", 8) == 0 &&
      gen_str(g, pw, 24) == 0 && yajl_gen_map_close(g) == yajl_gen_status_ok)
    rc = 0;
  OPENSSL_cleanse(raw, sizeof raw);
  OPENSSL_cleanse(pw, sizeof pw);
  return rc;
}

/* The JSON object of a change's replaced properties (references and id left out), with a
 * passwordProfile for a new user (new_user) that sets none; NULL body when there are no
 * properties.  The generator's buffer is wiped: it may hold a password. */
static int props_body(const connector *c, const conn_export *ch, bool new_user, char **out)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  const unsigned char *text;
  size_t n, count = 0;
  int rc = -1;

  *out = NULL;
  if (!g)
    return -1;
  yajl_gen_config(g, yajl_gen_validate_utf8, 1);
  if (yajl_gen_map_open(g) != yajl_gen_status_ok)
    goto out;
  if (new_user && !replaced(ch, "passwordProfile")) {
    if (gen_password(g) != 0)
      goto out;
    count++;
  }
  for (size_t i = 0; i < ch->n_attrs; i++) {
    const conn_attr *a = &ch->attrs[i];
    if (a->op != CONN_ATTR_REPLACE || is_ref_attr(c, a) || strcmp(a->name, "id") == 0)
      continue;
    if (gen_str(g, a->name, strlen(a->name)) != 0 || gj_gen_value(g, a->value) != 0)
      goto out;
    count++;
  }
  if (yajl_gen_map_close(g) != yajl_gen_status_ok ||
      yajl_gen_get_buf(g, &text, &n) != yajl_gen_status_ok)
    goto out;
  if (count && !(*out = strndup((const char *)text, n)))
    goto out;
  rc = 0;
out:
  if (yajl_gen_get_buf(g, &text, &n) == yajl_gen_status_ok)
    OPENSSL_cleanse((void *)text, n);
  yajl_gen_free(g);
  return rc;
}

static char *ref_body(const connector *c, const char *id)
{
  return graph_printf("{\"@odata.id\":\"%s/directoryObjects/%s\"}", c->graph_base, id);
}

static void fail_change(ctx *x, size_t i, int code, char *message)
{
  conn_export_result *r = &x->results[i];
  if (r->message) { /* the first failure is the one reported */
    free(message);
    return;
  }
  r->ok = 0;
  r->code = code;
  r->message = message ? message : graph_printf("export failed");
}

/* The add of this export whose display key (the DN the engine gave it) a reference value
 * names, or -1: an object created in the same export is referred to by that key until Graph
 * gives it an id (the engine sends members after the objects they name). */
static long add_named(const ctx *x, const char *value)
{
  for (size_t j = 0; j < x->n; j++)
    if (x->changes[j].op == CONN_EXPORT_ADD && x->changes[j].dn &&
        strcasecmp(x->changes[j].dn, value) == 0)
      return (long)j;
  return -1;
}

/* The Graph id of the object add j created or found, or NULL (not created). */
static const char *created_id(const ctx *x, long j)
{
  for (size_t k = 0; k < x->s.n; k++)
    if (x->s.v[k].change == (size_t)j && x->s.v[k].ok && x->s.v[k].new_id &&
        (x->s.v[k].kind == SUB_CREATE || x->s.v[k].kind == SUB_LOOKUP))
      return x->s.v[k].new_id;
  return NULL;
}

/* Whether change i's reference values can be written as $ref requests (whole: an add, every
 * value an addition); if not, the change fails here, before anything of it is sent. */
static bool refs_writable(ctx *x, size_t i, bool whole)
{
  const conn_export *ch = &x->changes[i];

  for (size_t k = 0; k < ch->n_attrs; k++) {
    const conn_attr *a = &ch->attrs[k];
    bool single = strcasecmp(a->name, "manager") == 0;
    if (!is_ref_attr(x->c, a))
      continue;
    if (!single && strcasecmp(a->name, "members") != 0 && strcasecmp(a->name, "owners") != 0) {
      fail_change(x, i, 400,
                  graph_printf("%s: only members, owners and manager references can be written",
                               a->name));
      return false;
    }
    if (!single && !whole && a->op == CONN_ATTR_REPLACE) {
      fail_change(x, i, 400,
                  graph_printf("%s: Graph cannot replace every value at once; "
                               "send the values added and removed",
                               a->name));
      return false;
    }
    for (size_t v = 0; v < mvs_count(a->value); v++) {
      mvs_value mv = mvs_item(a->value, v);
      char *mid =
          mv.type == MVS_V_REF || mv.type == MVS_V_STR ? strndup(mv.u.s.p, mv.u.s.n) : NULL;
      long j = mid ? add_named(x, mid) : -1;
      bool safe = j >= 0 || url_safe(mid);
      if (j >= 0 && !whole)
        x->refs_later[i] = true;
      if (!safe)
        fail_change(x, i, 400,
                    graph_printf("%s: \"%s\" is not a Graph object id", a->name, mid ? mid : "?"));
      free(mid);
      if (!safe)
        return false;
    }
  }
  return true;
}

/* Member / owner / manager changes of a group or user (id) as $ref requests (checked by
 * refs_writable).  Removals first; an addition of a value removed in the same change follows
 * its removal (a later $batch). */
static int ref_subs(ctx *x, size_t i, const char *coll, const char *id, bool whole)
{
  const conn_export *ch = &x->changes[i];
  connector *c = x->c;
  size_t first = x->s.n;

  for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < ch->n_attrs; k++) {
      const conn_attr *a = &ch->attrs[k];
      bool single = strcasecmp(a->name, "manager") == 0;
      conn_attr_op op = whole ? CONN_ATTR_ADD : a->op;
      if (!is_ref_attr(c, a) || (pass == 0) != (op == CONN_ATTR_DELETE))
        continue;
      if (single && !whole &&
          (op == CONN_ATTR_DELETE || (op == CONN_ATTR_REPLACE && mvs_count(a->value) == 0))) {
        if (add_sub(x, i, SUB_REF_DEL, "DELETE", graph_printf("/%s/%s/manager/$ref", coll, id),
                    NULL, -1) != 0)
          return -1;
        continue;
      }
      for (size_t v = 0; v < mvs_count(a->value); v++) {
        mvs_value mv = mvs_item(a->value, v);
        char *mid = strndup(mv.u.s.p, mv.u.s.n);
        long dep = -1, j = mid ? add_named(x, mid) : -1;
        int rc;
        if (!mid)
          return -1;
        if (j >= 0) { /* an object this export created: by the id Graph gave it */
          const char *id_of = created_id(x, j);
          if (!id_of) {
            char *why = graph_printf("%s: %s was not created: not written", a->name, mid);
            if (!whole)
              fail_change(x, i, 424, why);
            else if (!x->results[i].message) /* the add is done once its object exists */
              x->results[i].message = why;
            else
              free(why);
            free(mid);
            continue;
          }
          free(mid);
          if (!(mid = strdup(id_of)))
            return -1;
        }
        if (single) {
          rc = add_sub(x, i, SUB_REF_PUT, "PUT", graph_printf("/%s/%s/manager/$ref", coll, id),
                       ref_body(c, mid), -1);
        } else if (op == CONN_ATTR_DELETE) {
          rc = add_sub(x, i, SUB_REF_DEL, "DELETE",
                       graph_printf("/%s/%s/%s/%s/$ref", coll, id, a->name, mid), NULL, -1);
        } else {
          char *removal = graph_printf("/%s/%s/%s/%s/$ref", coll, id, a->name, mid);
          for (size_t s = first; removal && s < x->s.n; s++)
            if (x->s.v[s].kind == SUB_REF_DEL && strcmp(x->s.v[s].url, removal) == 0)
              dep = (long)s;
          free(removal);
          rc = add_sub(x, i, SUB_REF_ADD, "POST", graph_printf("/%s/%s/%s/$ref", coll, id, a->name),
                       ref_body(c, mid), dep);
        }
        free(mid);
        if (rc != 0)
          return -1;
      }
    }
  return 0;
}

static int plan_create(ctx *x, size_t i)
{
  bool user = is_user(x->changes[i].object_type);
  char *body = NULL;
  if (props_body(x->c, &x->changes[i], user, &body) != 0)
    return -1;
  return add_sub(x, i, SUB_CREATE, "POST", strdup(user ? "/users" : "/groups"),
                 body ? body : strdup("{}"), -1);
}

char *graph_eq_filter(const char *prop, const char *value)
{
  buf lit;
  char *out = NULL;
  buf_init(&lit, 0);
  if (buf_printf(&lit, "%s eq '", prop) != BUF_OK)
    goto done;
  for (const char *p = value; *p; p++)
    if (buf_addc(&lit, *p) != BUF_OK || (*p == '\'' && buf_addc(&lit, '\'') != BUF_OK))
      goto done;
  if (buf_addc(&lit, '\'') == BUF_OK)
    out = gh_query_escape(lit.p);
done:
  buf_free(&lit);
  return out;
}

/* Look the object of an add up before creating it.  A user, always, as Connect matches a
 * cloud user before it provisions one: by onPremisesImmutableId (the sourceAnchor, unique in
 * the directory: a hard match) when the add sets it and by_upn is false, else by
 * userPrincipalName (unique too: a soft match).  A group, when an earlier run may have
 * created it (its answer was lost): by its mailNickname (Graph requires one on every group;
 * the match is confirmed on displayName when the reply comes). */
static int plan_lookup(ctx *x, size_t i, bool by_upn)
{
  bool user = is_user(x->changes[i].object_type);
  const char *key = !user   ? "mailNickname"
                    : by_upn ? "userPrincipalName"
                             : "onPremisesImmutableId";
  char *value = replaced_str(&x->changes[i], key), *filter;
  int rc;
  if (!value && user && !by_upn)
    value = replaced_str(&x->changes[i], key = "userPrincipalName");
  if (!value) {
    fail_change(x, i, 400,
                graph_printf(user ? "a user create needs a userPrincipalName (or "
                                    "onPremisesImmutableId) to be looked up first: not sent"
                                  : "a create that may already have happened needs a "
                                    "mailNickname to be looked up: not sent again"));
    return 0;
  }
  filter = graph_eq_filter(key, value);
  free(value);
  if (!filter)
    return -1;
  rc = add_sub(x, i, SUB_LOOKUP, "GET",
               user ? graph_printf("/users?$filter=%s&$select=id,userPrincipalName,"
                                   "onPremisesImmutableId&$top=999",
                                   filter)
                    : graph_printf("/groups?$filter=%s&$select=id,displayName,mailNickname&"
                                   "$top=999",
                                   filter),
               NULL, -1);
  free(filter);
  if (rc == 0)
    x->s.v[x->s.n - 1].by_anchor = user && strcmp(key, "onPremisesImmutableId") == 0;
  return rc;
}

/* The requests of change i (creates' members come after the create, in a second round). */
static int plan_change(ctx *x, size_t i)
{
  const conn_export *ch = &x->changes[i];
  const char *coll = collection_of(ch->object_type);
  char *body = NULL;

  switch (ch->op) {
  case CONN_EXPORT_ADD:
    /* Its references are checked now: once the object exists, the add is done whatever
     * becomes of its members or manager (a failed add would create it again next run). */
    if (!refs_writable(x, i, true))
      return 0;
    return ch->maybe_created || is_user(ch->object_type) ? plan_lookup(x, i, false)
                                                         : plan_create(x, i);
  case CONN_EXPORT_UPDATE:
    if (!url_safe(ch->anchor)) {
      fail_change(x, i, 404, graph_printf("no Graph id to update"));
      return 0;
    }
    for (size_t k = 0; k < ch->n_attrs; k++)
      if (ch->attrs[k].op != CONN_ATTR_REPLACE && !is_ref_attr(x->c, &ch->attrs[k])) {
        fail_change(x, i, 400,
                    graph_printf("%s: Graph cannot add or remove single values of a "
                                 "property; replace it",
                                 ch->attrs[k].name));
        return 0;
      }
    if (!refs_writable(x, i, false))
      return 0;
    if (props_body(x->c, ch, false, &body) != 0)
      return -1;
    if (body &&
        add_sub(x, i, SUB_PATCH, "PATCH", graph_printf("/%s/%s", coll, ch->anchor), body, -1) != 0)
      return -1;
    return x->refs_later[i] ? 0 : ref_subs(x, i, coll, ch->anchor, false);
  case CONN_EXPORT_DELETE:
    if (!url_safe(ch->anchor)) {
      fail_change(x, i, 404, graph_printf("no Graph id to delete"));
      return 0;
    }
    return add_sub(x, i, SUB_DELETE, "DELETE", graph_printf("/%s/%s", coll, ch->anchor), NULL, -1);
  case CONN_EXPORT_RENAME:
  default:
    fail_change(x, i, 400, graph_printf("Graph objects have no DN to rename"));
    return 0;
  }
}

/* ---- sending ---- */

/* Whether a failed status is what the change wanted anyway. */
static bool counts_as_done(const sub *s, long status, const char *msg)
{
  if (s->kind == SUB_REF_ADD && status == 400 && strstr(msg, "already exist"))
    return true;
  return (s->kind == SUB_REF_DEL || s->kind == SUB_DELETE) && status == 404;
}

static void settle(sub *s, long status, const char *code, const char *msg)
{
  s->pending = false;
  s->status = status;
  s->ok = (status >= 200 && status < 300) || counts_as_done(s, status, msg);
  if (!s->ok && status == 0) /* no reply: msg says why */
    s->failure = graph_printf("%s %s: %s", s->method, s->url, msg);
  else if (!s->ok)
    s->failure = graph_printf("%s %s: HTTP %ld %s%s%s", s->method, s->url, status, code,
                              msg[0] ? ": " : "", msg);
}

static const char *obj_str(yajl_val o, const char *k)
{
  const char *path[] = {k, NULL};
  yajl_val v = yajl_tree_get(o, path, yajl_t_string);
  return v ? v->u.string : NULL;
}

int graph_batch_items(const char *json, graph_batch_fn fn, void *u)
{
  char ebuf[128];
  yajl_val root = json ? yajl_tree_parse(json, ebuf, sizeof ebuf) : NULL;
  yajl_val items = yajl_tree_get(root, (const char *[]){"responses", NULL}, yajl_t_array);

  if (!items) {
    yajl_tree_free(root);
    return -1;
  }
  for (size_t k = 0; k < YAJL_GET_ARRAY(items)->len; k++) {
    yajl_val it = YAJL_GET_ARRAY(items)->values[k], body, hdrs, e;
    yajl_val st = yajl_tree_get(it, (const char *[]){"status", NULL}, yajl_t_number);
    graph_batch_item item = {obj_str(it, "id"), 0, -1, "", "", NULL, NULL};
    if (!item.id || !st || !YAJL_IS_INTEGER(st))
      continue;
    item.status = (long)YAJL_GET_INTEGER(st);
    body = yajl_tree_get(it, (const char *[]){"body", NULL}, yajl_t_object);
    hdrs = yajl_tree_get(it, (const char *[]){"headers", NULL}, yajl_t_object);
    if ((e = yajl_tree_get(body, (const char *[]){"error", NULL}, yajl_t_object)) != NULL) {
      item.code = obj_str(e, "code") ? obj_str(e, "code") : "";
      item.message = obj_str(e, "message") ? obj_str(e, "message") : "";
    }
    item.new_id = body ? obj_str(body, "id") : NULL;
    item.body = body;
    for (size_t h = 0; hdrs && h < YAJL_GET_OBJECT(hdrs)->len; h++) {
      yajl_val hv = YAJL_GET_OBJECT(hdrs)->values[h];
      if (strcasecmp(YAJL_GET_OBJECT(hdrs)->keys[h], "Retry-After") == 0 && YAJL_IS_STRING(hv))
        item.retry_after = gh_parse_retry_after(hv->u.string, strlen(hv->u.string));
    }
    fn(u, &item);
  }
  yajl_tree_free(root);
  return 0;
}

/* The reply of a lookup: one user, or one group with the change's displayName (the object
 * is there: it is taken, new_id), none (it is created now), or several (failed: which one
 * is this object is not for mvsync to guess). */
static void take_lookup(ctx *x, sub *s, yajl_val body)
{
  yajl_val list = yajl_tree_get(body, (const char *[]){"value", NULL}, yajl_t_array);
  bool user = is_user(x->changes[s->change].object_type);
  char *name = user ? NULL : replaced_str(&x->changes[s->change], "displayName");
  const char *why = !list                                 ? "no \"value\" list in the reply"
                    : !user && !name                      ? "no displayName to confirm a match"
                    : obj_str(body, "@odata.nextLink") ? "more matches than one page"
                                                          : NULL;
  size_t found = 0;

  for (size_t k = 0; !why && k < YAJL_GET_ARRAY(list)->len; k++) {
    yajl_val g = YAJL_GET_ARRAY(list)->values[k];
    const char *id = obj_str(g, "id"), *dn = obj_str(g, "displayName");
    if (!id || (!user && (!dn || strcmp(dn, name) != 0)))
      continue;
    if (++found == 1 && (!url_safe(id) || !(s->new_id = strdup(id))))
      why = "unusable \"id\" in the reply";
  }
  if (!why && found > 1) {
    free(s->new_id);
    s->new_id = NULL;
    s->failure = user ? graph_printf("%s %s: %zu users match: not created (join the right one "
                                     "by hand)",
                                     s->method, s->url, found)
                      : graph_printf("%s %s: %zu groups have this mailNickname and the "
                                     "displayName \"%s\": not created again (join the right "
                                     "one by hand)",
                                     s->method, s->url, found, name);
  } else if (why) {
    s->failure = graph_printf("%s %s: %s: not created again", s->method, s->url, why);
  }
  s->ok = !s->failure;
  free(name);
}

typedef struct reply_ctx {
  ctx *x;
  const size_t *idx;
  size_t n;
  double *wait;
  bool handled[BATCH_MAX];
} reply_ctx;

/* One item of a $batch reply settles its request, or (throttled) leaves it for a resend. */
static void on_item(void *u, const graph_batch_item *it)
{
  reply_ctx *rc = u;
  ctx *x = rc->x;
  char *end;
  unsigned long j = strtoul(it->id, &end, 10);
  sub *s;

  if (j < 1 || j > rc->n || *end || rc->handled[j - 1])
    return;
  rc->handled[j - 1] = true;
  s = &x->s.v[rc->idx[j - 1]];
  /* Resent later, except a create the gateway gave up on: it may have happened. */
  if (graph_throttled(it->status) && !(it->status == 504 && s->kind == SUB_CREATE)) {
    if (it->retry_after > *rc->wait)
      *rc->wait = it->retry_after;
    s->status = it->status;
    free(s->failure);
    s->failure = graph_printf("%s %s: HTTP %ld %s%s%s", s->method, s->url, it->status, it->code,
                              it->message[0] ? ": " : "", it->message);
    return;
  }
  settle(s, it->status, it->code, it->message);
  if (s->ok && s->kind == SUB_LOOKUP)
    take_lookup(x, s, it->body);
  if (s->ok && s->kind == SUB_CREATE &&
      (!it->new_id || !url_safe(it->new_id) || !(s->new_id = strdup(it->new_id)))) {
    s->ok = false;
    s->failure = graph_printf("POST %s: HTTP %ld without a usable \"id\"", s->url, it->status);
  }
}

static void read_batch_reply(ctx *x, const size_t *idx, size_t n, const gh_reply *rep, double *wait)
{
  reply_ctx rc = {x, idx, n, wait, {false}};
  bool readable = graph_batch_items(rep->body.p, on_item, &rc) == 0;
  /* Requests the reply left out (or an unreadable reply): failed, never resent (they may
   * have happened). */
  for (size_t k = 0; k < n; k++)
    if (!rc.handled[k])
      settle(&x->s.v[idx[k]], rep->status, "",
             readable ? "no response for this request in the $batch reply"
                      : "unreadable $batch reply");
}

/* Build the $batch body of subs idx[0..n) (no dependsOn: a request that must follow
 * another is sent in a later batch). */
static char *batch_body(ctx *x, const size_t *idx, size_t n)
{
  buf b;
  int rc;
  buf_init(&b, 0);
  rc = buf_adds(&b, "{\"requests\":[");
  for (size_t k = 0; k < n && rc == BUF_OK; k++) {
    sub *s = &x->s.v[idx[k]];
    rc = buf_printf(&b, "%s{\"id\":\"%zu\",\"method\":\"%s\",\"url\":\"%s\"", k ? "," : "",
                    k + 1, s->method, s->url);
    if (rc == BUF_OK && s->body)
      rc = buf_printf(&b, ",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":%s",
                      s->body);
    if (rc == BUF_OK)
      rc = buf_addc(&b, '}');
  }
  if (rc != BUF_OK || buf_adds(&b, "]}") != BUF_OK) {
    buf_free(&b);
    return NULL;
  }
  return buf_detach(&b);
}

/* Send one $batch of subs idx[0..n) and read what became of each. */
static int send_batch(ctx *x, const char *url, const size_t *idx, size_t n, double *wait)
{
  gh_reply rep;
  char *body = batch_body(x, idx, n), *err = NULL, code[128], msg[512];
  int rc;

  if (!body)
    return CONN_ERR_NOMEM;
  rc = graph_call(x->c, "POST", url, body, NULL, NULL, &rep, &err);
  OPENSSL_cleanse(body, strlen(body)); /* it may hold a new user's password */
  free(body);
  if (rc == CONN_ERR_NOMEM || rc == CONN_ERR_TIMEOUT || rc == CONN_ERR_CONFIG) {
    /* The export stops: every later batch would meet the same deadline, budget or trust
     * failure.  What this batch did is unknown; the next run reconciles (creates are marked
     * in flight by the engine, so none is made twice). */
    x->err = err;
    gh_reply_free(&rep);
    return rc;
  }
  if (rc != CONN_OK) {
    /* Not sent, or the outcome is unknown: failed, the run goes on. */
    for (size_t k = 0; k < n; k++)
      settle(&x->s.v[idx[k]], 0, "", err ? err : "not sent");
  } else if (rep.status != 200) {
    graph_error_of(&rep, code, sizeof code, msg, sizeof msg);
    for (size_t k = 0; k < n; k++)
      settle(&x->s.v[idx[k]], rep.status, code, msg);
  } else {
    read_batch_reply(x, idx, n, &rep, wait);
  }
  free(err);
  gh_reply_free(&rep);
  return CONN_OK;
}

/* Send every pending request, BATCH_MAX at a time, until each is settled; a request that
 * follows another goes in a batch after the one that settled it. */
static int send_pending(ctx *x)
{
  connector *c = x->c;
  graph_retry rt;
  bool budget_started = false;
  char *url = graph_printf("%s/$batch", c->graph_base);
  int rc = CONN_OK;

  if (!url)
    return CONN_ERR_NOMEM;
  for (;;) {
    size_t idx[BATCH_MAX], n = 0, left = 0;
    double wait = -1;
    bool any_throttled = false;

    for (size_t i = 0; i < x->s.n && rc == CONN_OK; i++) {
      sub *s = &x->s.v[i];
      if (!s->pending || graph_throttled(s->status))
        continue;
      if (s->depends >= 0 && x->s.v[s->depends].pending)
        continue; /* a later round, once the request it follows is settled */
      if (s->depends >= 0 && !x->s.v[s->depends].ok) {
        settle(s, 424, "", "the request it depends on failed");
        continue;
      }
      if (n == BATCH_MAX) {
        rc = send_batch(x, url, idx, n, &wait);
        n = 0;
      }
      idx[n++] = i;
    }
    if (n && rc == CONN_OK)
      rc = send_batch(x, url, idx, n, &wait);
    if (rc != CONN_OK)
      break;
    for (size_t i = 0; i < x->s.n; i++) {
      left += x->s.v[i].pending;
      any_throttled |= x->s.v[i].pending && graph_throttled(x->s.v[i].status);
    }
    if (left == 0)
      break;
    if (!any_throttled)
      continue;
    /* What was throttled waits (Retry-After, else backoff) and goes again, within the bound
     * (counted from the first throttling: the round's other batches are not its time). */
    if (!budget_started) {
      graph_retry_begin(&rt);
      budget_started = true;
    }
    if ((wait = graph_retry_next(c, &rt, wait)) < 0) {
      if (c->run_budget_spent) {
        x->err = graph_budget_error(c, url, "throttled $batch items");
        rc = x->err ? CONN_ERR_TIMEOUT : CONN_ERR_NOMEM;
        break;
      }
      for (size_t i = 0; i < x->s.n; i++)
        if (x->s.v[i].pending && graph_throttled(x->s.v[i].status))
          x->s.v[i].pending = false; /* failed, with its throttled reply as the reason */
      continue;
    }
    graph_sleep(wait);
    c->retries++;
    for (size_t i = 0; i < x->s.n; i++)
      if (x->s.v[i].pending && graph_throttled(x->s.v[i].status))
        x->s.v[i].status = 0;
  }
  free(url);
  return rc;
}

/* Change ch as Graph takes it (*t, its attribute array malloc'd): each attribute under its
 * Graph name (schema/aad_map.h: Connect's AAD names translated, Graph's own kept).  An object
 * type Graph does not write for an app, or an attribute Graph refuses (read-only, no
 * property, not sent by the connector yet), fails change i here: nothing of it is sent. */
/* The mailNickname Graph requires of a new user (user-post-users) when the rules give none:
 * what Entra's own sync computes for a user synced without one (KB 3190357, "How the
 * proxyAddresses attribute is populated in Microsoft Entra ID": the prefix of the primary
 * SMTP address, which is the mail attribute when there is one (scenario 2), else the prefix
 * of the userPrincipalName, "because it's a mandatory attribute" (scenario 1)).  A group's,
 * from its displayName: the characters Graph allows in a group's mailNickname (group
 * resource: ASCII, none of @ ( ) \ [ ] " ; : . < > , or space; at most 64) -- Entra
 * documents no default for a synced group without one.  "" when nothing can be derived. */
static void derive_nickname(const conn_export *t, bool user, char out[65])
{
  const conn_attr *from = user ? replaced(t, "mail") : replaced(t, "displayName");
  size_t n = 0;

  if (user && !(from && from->value.type == MVS_V_STR))
    from = replaced(t, "userPrincipalName");
  out[0] = '\0';
  if (!from || from->value.type != MVS_V_STR)
    return;
  if (user) { /* the local part: up to the @ */
    const char *at = memchr(from->value.u.s.p, '@', from->value.u.s.n);
    n = at ? (size_t)(at - from->value.u.s.p) : 0;
    if (n > 64)
      n = 0;
    memcpy(out, from->value.u.s.p, n);
  } else {
    for (size_t k = 0; k < from->value.u.s.n && n < 64; k++) {
      unsigned char ch = (unsigned char)from->value.u.s.p[k];
      if (ch > ' ' && ch < 127 && !strchr("@()\\[]\";:.<>,", ch))
        out[n++] = (char)ch;
    }
  }
  out[n] = '\0';
}

/* An add gets what Graph requires to create it and Connect's rules leave to Entra's sync
 * service (docs/entra-mapping.md, "What Graph requires"): a mailNickname (derive_nickname)
 * and, for a group, mailEnabled false -- Graph creates mail-enabled groups only as
 * Microsoft 365 groups (group-post-groups), and a security group is securityEnabled true,
 * mailEnabled false (group resource, groupTypes).  t->attrs has room for both. */
static void required_props(ctx *x, size_t i, conn_export *t)
{
  conn_attr *attrs = (conn_attr *)t->attrs;
  bool user = is_user(t->object_type);

  if (t->op != CONN_EXPORT_ADD)
    return;
  if (!replaced(t, "mailNickname")) {
    derive_nickname(t, user, x->nick[i]);
    if (x->nick[i][0]) {
      attrs[t->n_attrs].name = "mailNickname";
      attrs[t->n_attrs].op = CONN_ATTR_REPLACE;
      attrs[t->n_attrs++].value = mvs_str_ref(x->nick[i], strlen(x->nick[i]));
    }
  }
  if (!user && !replaced(t, "mailEnabled")) {
    attrs[t->n_attrs].name = "mailEnabled";
    attrs[t->n_attrs].op = CONN_ATTR_REPLACE;
    attrs[t->n_attrs++].value = mvs_bool(false);
  }
}

static int translate(ctx *x, size_t i, const conn_export *ch, conn_export *t)
{
  const char *why, *graph, *reason;
  conn_attr *attrs;

  *t = *ch;
  t->attrs = NULL;
  t->n_attrs = 0;
  if (!aad_type_writable(ch->object_type, &why)) {
    fail_change(x, i, 400,
                graph_printf("%s objects are not written to Entra ID: %s (nothing sent)",
                             ch->object_type ? ch->object_type : "untyped", why));
    return 0;
  }
  if (!(attrs = calloc(ch->n_attrs + 2, sizeof *attrs)))
    return -1;
  t->attrs = attrs;
  for (size_t k = 0; k < ch->n_attrs; k++) {
    aad_fate fate = aad_attr_fate(ch->object_type, ch->attrs[k].name, &graph, &reason);
    if (fate != AAD_UNUSED && fate != AAD_MAPPED) {
      fail_change(x, i, 400,
                  graph_printf("%s: not written to Entra %ss (%s): %s (nothing sent; "
                               "docs/entra-mapping.md)",
                               ch->attrs[k].name, ch->object_type, aad_fate_name(fate), reason));
      return 0;
    }
    attrs[t->n_attrs] = ch->attrs[k];
    attrs[t->n_attrs++].name = graph;
  }
  required_props(x, i, t);
  return 0;
}

/* A user found by its lookup takes the add's properties (PATCH), as Connect updates the cloud
 * user it matched; a group found is taken as it is (its members follow). */
static int patch_found(ctx *x, const sub *s)
{
  const conn_export *ch = &x->changes[s->change];
  char *body = NULL;
  if (s->kind != SUB_LOOKUP || !is_user(ch->object_type))
    return 0;
  if (props_body(x->c, ch, false, &body) != 0)
    return -1;
  return body ? add_sub(x, s->change, SUB_PATCH, "PATCH", graph_printf("/users/%s", s->new_id),
                        body, -1)
              : 0;
}

int graph_export(connector *c, const conn_export *changes, size_t n,
                 const conn_export_env *env, conn_export_result *results, char **err)
{
  ctx x;
  conn_export *tx = calloc(n ? n : 1, sizeof *tx);
  size_t first_round;
  int rc = CONN_ERR_NOMEM;

  (void)env; /* Graph itself refuses what it must */
  memset(&x, 0, sizeof x);
  x.c = c;
  x.changes = tx;
  x.n = n;
  x.results = results;
  x.refs_later = calloc(n ? n : 1, sizeof *x.refs_later);
  x.nick = calloc(n ? n : 1, sizeof *x.nick);
  if (!tx || !x.refs_later || !x.nick)
    goto out;
  for (size_t i = 0; i < n; i++)
    results[i].ok = 1;
  for (size_t i = 0; i < n; i++)
    if (translate(&x, i, &changes[i], &tx[i]) != 0)
      goto out;
  for (size_t i = 0; i < n; i++) /* a change refused while planned sends nothing */
    if (results[i].ok && plan_change(&x, i) != 0)
      goto out;
  if ((rc = send_pending(&x)) != CONN_OK)
    goto out;
  /* Creates looked up and not found: a user not found by its onPremisesImmutableId is looked
   * up by its userPrincipalName (Connect's soft match: the cloud user found takes the
   * immutableId), anything else is created now; then the users not found that way. */
  for (size_t from = 0, round = 0; round < 2; round++) {
    first_round = x.s.n;
    for (size_t i = from; i < first_round; i++) {
      const sub *s = &x.s.v[i];
      int r;
      if (s->kind != SUB_LOOKUP || !s->ok || s->new_id)
        continue;
      r = s->by_anchor && replaced(&tx[s->change], "userPrincipalName")
              ? plan_lookup(&x, s->change, true)
              : plan_create(&x, s->change);
      if (r != 0) {
        rc = CONN_ERR_NOMEM;
        goto out;
      }
    }
    if ((rc = send_pending(&x)) != CONN_OK)
      goto out;
    from = first_round;
  }
  /* Second round: the members or manager of the objects just created (or found), the
   * properties of the users found. */
  first_round = x.s.n;
  for (size_t i = 0; i < first_round; i++) {
    sub *s = &x.s.v[i];
    if ((s->kind == SUB_CREATE || s->kind == SUB_LOOKUP) && s->ok && s->new_id) {
      char *id = strdup(s->new_id);
      int r;
      if (!id) {
        rc = CONN_ERR_NOMEM;
        goto out;
      }
      r = patch_found(&x, s);
      if (r == 0)
        r = ref_subs(&x, s->change, collection_of(tx[s->change].object_type), id, true);
      free(id);
      if (r != 0) {
        rc = CONN_ERR_NOMEM;
        goto out;
      }
    }
  }
  for (size_t i = 0; i < n; i++) /* updates naming objects created above */
    if (x.refs_later[i] && results[i].ok &&
        ref_subs(&x, i, collection_of(tx[i].object_type), tx[i].anchor, false) != 0) {
      rc = CONN_ERR_NOMEM;
      goto out;
    }
  if ((rc = send_pending(&x)) != CONN_OK)
    goto out;
  /* Per change: the first failed request, else done; a create is done once the object exists
   * (its members', manager's or properties' failures are reported; the next sync sends them
   * again). */
  for (size_t i = 0; i < x.s.n; i++) {
    sub *s = &x.s.v[i];
    conn_export_result *r = &results[s->change];
    if ((s->kind == SUB_CREATE || s->kind == SUB_LOOKUP) && s->ok && s->new_id &&
        !(r->anchor = strdup(s->new_id))) {
      rc = CONN_ERR_NOMEM;
      goto out;
    }
    if (s->ok)
      continue;
    if (changes[s->change].op == CONN_EXPORT_ADD && s->kind != SUB_CREATE &&
        s->kind != SUB_LOOKUP) {
      if (!r->message) {
        r->message = s->failure;
        s->failure = NULL;
      }
      continue;
    }
    if (r->ok) {
      r->ok = 0;
      r->code = (int)s->status;
      free(r->message);
      r->message = s->failure ? s->failure : graph_printf("%s %s failed", s->method, s->url);
      s->failure = NULL;
    }
  }
  rc = CONN_OK;
out:
  if (rc != CONN_OK)
    *err = x.err ? x.err : graph_printf("out of memory");
  else
    free(x.err);
  for (size_t i = 0; i < x.s.n; i++) {
    free(x.s.v[i].url);
    if (x.s.v[i].body) /* a new user's holds its password */
      OPENSSL_cleanse(x.s.v[i].body, strlen(x.s.v[i].body));
    free(x.s.v[i].body);
    free(x.s.v[i].failure);
    free(x.s.v[i].new_id);
  }
  free(x.s.v);
  for (size_t i = 0; tx && i < n; i++)
    free((void *)tx[i].attrs);
  free(tx);
  free(x.refs_later);
  free(x.nick);
  return rc;
}

int graph_value_taken(connector *c, const char *object_type, const char *attr,
                      const char *value, const char *except_anchor, bool *taken, char **err)
{
  const char *graph, *reason;
  char *filter, *url = NULL, ebuf[64], code[128], msg[512];
  const char *path[] = {"value", NULL};
  yajl_val root = NULL, list;
  gh_reply rep;
  int rc = CONN_ERR_NOMEM;

  *taken = false;
  memset(&rep, 0, sizeof rep);
  /* A rule's AAD name (alias, sourceAnchor) is looked up as its Graph property. */
  if (aad_attr_fate(object_type, attr, &graph, &reason) == AAD_MAPPED)
    attr = graph;
  filter = graph_eq_filter(attr, value);
  if (!filter || !(url = graph_printf("%s/%s?$filter=%s&$select=id&$top=999", c->graph_base,
                                      collection_of(object_type), filter)))
    goto out;
  if ((rc = graph_call(c, "GET", url, NULL, NULL, NULL, &rep, err)) != CONN_OK)
    goto out;
  if (rep.status != 200) {
    graph_error_of(&rep, code, sizeof code, msg, sizeof msg);
    *err = graph_printf("looking up %s eq '%s': HTTP %ld %s%s%s", attr, value, rep.status, code,
                        msg[0] ? ": " : "", msg);
    rc = CONN_ERR_IO;
    goto out;
  }
  root = rep.body.p ? yajl_tree_parse(rep.body.p, ebuf, sizeof ebuf) : NULL;
  if (!(list = yajl_tree_get(root, path, yajl_t_array))) {
    *err = graph_printf("looking up %s eq '%s': the reply holds no value list", attr, value);
    rc = CONN_ERR_DATA;
    goto out;
  }
  /* Objects other than the one being written hold it (Graph ids compare ignoring case). */
  for (size_t i = 0; i < list->u.array.len && !*taken; i++) {
    const char *id_path[] = {"id", NULL};
    yajl_val id = yajl_tree_get(list->u.array.values[i], id_path, yajl_t_string);
    *taken = !except_anchor || !id || strcasecmp(id->u.string, except_anchor) != 0;
  }
  rc = CONN_OK;
out:
  if (rc == CONN_ERR_NOMEM && !*err)
    *err = graph_printf("out of memory");
  yajl_tree_free(root);
  gh_reply_free(&rep);
  free(filter);
  free(url);
  return rc;
}
