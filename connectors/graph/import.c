/* import — the Entra connector's imports: a delta round per object type (users, groups),
 * every page streamed through the Graph JSON push reader.  A full import is a fresh round
 * (each object FULL the first time its id shows, later slices of the same group as member
 * ADD / DELETE updates); a delta import resumes from the deltaLinks in the watermark.
 * See graph_int.h and docs/internals/graph-connector.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/graph_json.h"
#include "connectors/hmap.h"
#include "connectors/graph/graph_int.h"

#define WATERMARK_HEADER "mvsync-entra-delta 1"

static const char *const type_names[2] = {"user", "group"};
static const char *const collections[2] = {"users", "groups"};

typedef struct run {
  connector *c;
  bool full;
  const conn_sink *sink;
  int type;
  gj_opts opts;
  gj_reader *rd;
  int sink_rc; /* what stopped the import from the sink's side */
  hmap seen;   /* full import: ids delivered in this run (values: arena strings) */
  mvs_arena *ids;
  mvs_arena *scratch; /* one object's converted attributes */
  long objects, pages;
  char name[64]; /* "users/delta page N", for origins and messages */
} run;

/* ---- objects ---- */

static bool seen_before(run *r, const char *id, bool *seen)
{
  uint64_t h = hmap_hash(id, strlen(id));
  size_t it = 0;
  uintptr_t v;
  char *copy;
  while ((v = hmap_next(&r->seen, h, &it)) != 0)
    if (strcmp((const char *)v, id) == 0) {
      *seen = true;
      return true;
    }
  *seen = false;
  copy = mvs_arena_memdup(r->ids, id, strlen(id));
  return copy && hmap_put(&r->seen, h, (uintptr_t)copy) == 0;
}

/* The first sighting in a full import is the whole object: its "X@delta" additions are the
 * values of X (removals of what it does not have are nothing). */
static int whole_attrs(run *r, const fchange *ch, conn_attr **out, size_t *n_out)
{
  conn_attr *attrs = mvs_arena_alloc(r->scratch, (ch->n_attrs + 1) * sizeof *attrs);
  size_t n = 0;
  if (!attrs)
    return -1;
  for (size_t i = 0; i < ch->n_attrs; i++) {
    const conn_attr *a = &ch->attrs[i];
    size_t total = 0, k;
    mvs_value *items;
    if (a->op == CONN_ATTR_REPLACE) {
      attrs[n++] = *a;
      continue;
    }
    if (a->op != CONN_ATTR_ADD)
      continue;
    for (k = 0; k < n && strcmp(attrs[k].name, a->name) != 0; k++)
      ;
    if (k < n)
      continue; /* merged into the first run of this name below */
    for (size_t j = i; j < ch->n_attrs; j++)
      if (ch->attrs[j].op == CONN_ATTR_ADD && strcmp(ch->attrs[j].name, a->name) == 0)
        total += mvs_count(ch->attrs[j].value);
    if (!(items = mvs_arena_alloc(r->scratch, (total + 1) * sizeof *items)))
      return -1;
    total = 0;
    for (size_t j = i; j < ch->n_attrs; j++)
      if (ch->attrs[j].op == CONN_ATTR_ADD && strcmp(ch->attrs[j].name, a->name) == 0)
        for (size_t v = 0; v < mvs_count(ch->attrs[j].value); v++)
          items[total++] = mvs_item(ch->attrs[j].value, v);
    attrs[n].name = a->name;
    attrs[n].op = CONN_ATTR_REPLACE;
    attrs[n].value.type = MVS_V_MV;
    attrs[n].value.u.mv.items = items;
    attrs[n].value.u.mv.n = total;
    n++;
  }
  *out = attrs;
  *n_out = n;
  return 0;
}

/* The object's attributes under the names the rule set reads them by: a Graph property it
 * reads by Connect's AAD name (c->renames) is renamed, and kept under its own name too when
 * the rule set also uses that.  *attrs is replaced by a scratch copy when anything is. */
static int rename_aad(run *r, const conn_attr **attrs, size_t *n)
{
  const struct graph_rename *rn = r->c->renames[r->type];
  size_t nr = r->c->n_renames[r->type], out = 0;
  conn_attr *copy;

  if (!nr || !*n)
    return 0;
  if (!(copy = mvs_arena_alloc(r->scratch, 2 * *n * sizeof *copy)))
    return -1;
  for (size_t i = 0; i < *n; i++) {
    const struct graph_rename *hit = NULL;
    for (size_t k = 0; k < nr && !hit; k++)
      if (strcasecmp(rn[k].graph, (*attrs)[i].name) == 0)
        hit = &rn[k];
    if (!hit || hit->keep)
      copy[out++] = (*attrs)[i];
    if (hit) {
      copy[out] = (*attrs)[i];
      copy[out++].name = hit->aad;
    }
  }
  *attrs = copy;
  *n = out;
  return 0;
}

static int on_change(void *u, const fchange *ch)
{
  run *r = u;
  conn_object o;
  conn_attr *attrs = NULL;
  bool seen = false;

  memset(&o, 0, sizeof o);
  mvs_arena_reset(r->scratch);
  o.anchor = o.dn = ch->anchor;
  o.object_type = ch->type ? ch->type : type_names[r->type];
  o.origin = ch->origin;
  r->objects++;
  if (ch->kind == FCH_DELETE) {
    /* Soft-deleted ("changed") and deleted alike leave the connector space, as in Connect;
     * a restored object comes back whole. */
    o.change = CONN_OBJ_DELETE;
  } else if (r->full && !seen_before(r, ch->anchor, &seen)) {
    r->sink_rc = CONN_ERR_NOMEM;
    return 1;
  } else if (r->full && !seen) {
    o.change = CONN_OBJ_FULL;
    if (whole_attrs(r, ch, &attrs, &o.n_attrs) != 0) {
      r->sink_rc = CONN_ERR_NOMEM;
      return 1;
    }
    o.attrs = attrs;
  } else {
    o.change = CONN_OBJ_UPDATE;
    o.attrs = ch->attrs;
    o.n_attrs = ch->n_attrs;
  }
  if (rename_aad(r, &o.attrs, &o.n_attrs) != 0) {
    r->sink_rc = CONN_ERR_NOMEM;
    return 1;
  }
  if (r->sink->object(r->sink->u, &o) != 0) {
    r->sink_rc = CONN_ERR_ABORTED;
    return 1;
  }
  return 0;
}

/* ---- pages ---- */

static int page_begin(void *u)
{
  run *r = u;
  /* A new body (a retried request starts over: objects read again are replays). */
  gj_reader_free(r->rd);
  r->rd = gj_reader_new(&r->opts, on_change, r);
  return r->rd ? 0 : 1;
}

static int page_data(void *u, const char *p, size_t n)
{
  run *r = u;
  return gj_reader_feed(r->rd, p, n) != GJ_OK;
}

/* Why the reader or the sink stopped a page. */
static int stopped(run *r, char **err)
{
  if (r->sink_rc) {
    if (r->sink_rc == CONN_ERR_NOMEM)
      *err = graph_printf("out of memory");
    return r->sink_rc;
  }
  if (!r->rd) {
    *err = graph_printf("out of memory");
    return CONN_ERR_NOMEM;
  }
  *err = graph_printf("%s", gj_reader_error(r->rd));
  return CONN_ERR_DATA;
}

/* Codes that say a delta token is no longer good: start over with a full import. */
static bool resync_code(const char *code)
{
  return strcmp(code, "syncStateNotFound") == 0 || strcmp(code, "resyncRequired") == 0 ||
         strcmp(code, "syncStateInvalid") == 0;
}

static bool has_ctrl(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

/* Follow one type's links from url to its deltaLink (*delta_link, malloc'd). */
static int round_trip(run *r, const char *start, char **delta_link, char **err)
{
  connector *c = r->c;
  char prefer[64], code[128], msg[512];
  const char *extra[] = {prefer, NULL};
  char *url = strdup(start);
  gh_body body = {page_begin, page_data, r};
  gh_reply rep;
  int rc = CONN_ERR_NOMEM;

  snprintf(prefer, sizeof prefer, "Prefer: odata.maxpagesize=%ld", c->page_size);
  memset(&rep, 0, sizeof rep);
  while (url) {
    const char *next, *delta;
    r->pages++;
    snprintf(r->name, sizeof r->name, "%s/delta page %ld", collections[r->type], r->pages);
    r->opts.name = r->name;
    gj_reader_free(r->rd);
    r->rd = NULL;
    rc = graph_call(c, "GET", url, NULL, extra, &body, &rep, err);
    if (rc == CONN_ERR_ABORTED)
      rc = stopped(r, err);
    if (rc != CONN_OK)
      goto out;
    if (rep.status < 200 || rep.status >= 300) {
      graph_error_of(&rep, code, sizeof code, msg, sizeof msg);
      if (rep.status == 410 || resync_code(code)) {
        /* The delta token is gone: a full import starts over (the engine says so). */
        *err = graph_printf("%s: HTTP %ld %s%s%s%s%s", collections[r->type], rep.status, code,
                            msg[0] ? ": " : "", msg, rep.location ? "; Location: " : "",
                            rep.location ? rep.location : "");
        rc = r->full ? CONN_ERR_IO : CONN_ERR_WATERMARK;
      } else {
        *err =
            graph_printf("GET %s: HTTP %ld %s%s%s", url, rep.status, code, msg[0] ? ": " : "", msg);
        rc = CONN_ERR_IO;
      }
      goto out;
    }
    if (!r->rd && page_begin(r) != 0) {
      rc = CONN_ERR_NOMEM;
      goto out;
    }
    if (gj_reader_end(r->rd) != GJ_OK) {
      rc = stopped(r, err);
      goto out;
    }
    next = gj_reader_link(r->rd, GJ_NEXT_LINK);
    delta = gj_reader_link(r->rd, GJ_DELTA_LINK);
    free(url);
    url = NULL;
    if ((next && has_ctrl(next)) || (!next && delta && has_ctrl(delta))) {
      /* A link goes into a request line, and a deltaLink into the line-based watermark. */
      *err = graph_printf("%s: an @odata.%s with control characters", r->name,
                          next ? "nextLink" : "deltaLink");
      rc = CONN_ERR_DATA;
      goto out;
    }
    if (next) {
      /* Followed as given, never rebuilt: the token in it carries the $select. */
      if (!(url = strdup(next))) {
        rc = CONN_ERR_NOMEM;
        goto out;
      }
    } else if (delta) {
      if (!(*delta_link = strdup(delta))) {
        rc = CONN_ERR_NOMEM;
        goto out;
      }
    } else {
      *err = graph_printf("%s: a page without @odata.nextLink or @odata.deltaLink", r->name);
      rc = CONN_ERR_DATA;
      goto out;
    }
    gh_reply_free(&rep);
  }
  rc = CONN_OK;
out:
  gh_reply_free(&rep);
  gj_reader_free(r->rd);
  r->rd = NULL;
  free(url);
  return rc;
}

/* ---- watermarks: "mvsync-entra-delta 1\nusers <deltaLink>\ngroups <deltaLink>\n" ---- */

char *graph_watermark_link(const char *wm, const char *coll)
{
  size_t n = strlen(coll);
  const char *p = strchr(wm, '\n');
  while (p && *p) {
    const char *line = p + 1, *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > n + 1 && strncmp(line, coll, n) == 0 && line[n] == ' ')
      return strndup(line + n + 1, len - n - 1);
    p = end;
  }
  return NULL;
}

int graph_import(connector *c, conn_import_mode mode, const char *watermark, const conn_sink *sink,
                 char **new_watermark, char **err)
{
  run r;
  buf wm;
  char *links[2] = {NULL, NULL}, *start = NULL;
  int rc = CONN_ERR_NOMEM;

  memset(&r, 0, sizeof r);
  buf_init(&wm, 0);
  r.c = c;
  r.full = mode == CONN_IMPORT_FULL;
  r.sink = sink;
  r.opts.typer = &c->typer;
  r.opts.max_object = c->max_object;
  if (!(r.scratch = mvs_arena_new(c->max_object * 2 + 65536)) ||
      !(r.ids = mvs_arena_new((size_t)1 << 30)))
    goto out;
  if (!r.full) {
    size_t hn = strlen(WATERMARK_HEADER);
    if (!watermark || strncmp(watermark, WATERMARK_HEADER, hn) != 0 || watermark[hn] != '\n') {
      *err = graph_printf("the watermark is not an Entra delta watermark");
      rc = CONN_ERR_WATERMARK;
      goto out;
    }
    for (int t = 0; t < 2; t++) {
      if (!c->select[t])
        continue;
      if (!(links[t] = graph_watermark_link(watermark, collections[t])) || has_ctrl(links[t]) ||
          !graph_same_origin(c, links[t])) {
        *err = graph_printf("the watermark has no %s deltaLink on %s (new object type, or "
                            "graph-url changed)",
                            collections[t], c->origin);
        rc = CONN_ERR_WATERMARK;
        goto out;
      }
    }
  }
  if (buf_adds(&wm, WATERMARK_HEADER "\n") != BUF_OK)
    goto out;
  for (int t = 0; t < 2; t++) {
    char *delta = NULL;
    if (!c->select[t])
      continue;
    r.type = t;
    r.opts.type = type_names[t];
    long requests = c->requests, retries = c->retries;
    r.pages = r.objects = 0;
    free(start);
    start = links[t] ? strdup(links[t])
                     : graph_printf("%s/%s/delta?$select=%s", c->graph_base, collections[t],
                                    c->select[t]);
    if (!start) {
      rc = CONN_ERR_NOMEM;
      goto out;
    }
    if ((rc = round_trip(&r, start, &delta, err)) != CONN_OK)
      goto out;
    rc = buf_printf(&wm, "%s %s\n", collections[t], delta) == BUF_OK ? CONN_OK : CONN_ERR_NOMEM;
    free(delta);
    if (rc != CONN_OK)
      goto out;
    if (sink->log) {
      char *m = graph_printf("%s: %s round: %ld objects in %ld pages (%ld requests, %ld retries)",
                             collections[t], r.full ? "full" : "delta", r.objects, r.pages,
                             c->requests - requests, c->retries - retries);
      if (m)
        sink->log(sink->u, m);
      free(m);
    }
  }
  *new_watermark = buf_detach(&wm);
  rc = *new_watermark ? CONN_OK : CONN_ERR_NOMEM;
out:
  if (rc == CONN_ERR_NOMEM && !*err)
    *err = graph_printf("out of memory");
  free(start);
  free(links[0]);
  free(links[1]);
  buf_free(&wm);
  hmap_free(&r.seen);
  mvs_arena_free(r.ids);
  mvs_arena_free(r.scratch);
  return rc;
}
