/* dump — the store as data: `mvsync dump --json` (the format tests compare, specified in
 * docs/internals/engine.md) and the inspection views behind `pending`, `show` and `runs`.
 * Labels of objects are label.c's.  Output depends only on the store's meaning, never on
 * internal ids.  Memory: rendered text is appended to the caller's buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/dump.h"
#include "engine/engine_int.h"
#include "engine/label.h"
#include "schema/array.h"
#include "schema/json_str.h"
#include "schema/value_json.h"

static const char *const import_names[] = {"none", "add", "update", "delete", "delete-add"};
static const char *const op_names[] = {"add", "update", "delete", "rename"};
static const char *const mode_names[] = {"replace", "add", "delete"};

/* ---- the dump ---- */

typedef struct item {
  char *key;
  char *text;
} item;

typedef struct items {
  item *v;
  size_t n, cap;
} items;

static int items_add(items *l, buf *key, buf *text)
{
  if (array_reserve(&l->v, &l->cap, l->n + 1, sizeof *l->v) != 0)
    return -1;
  l->v[l->n].key = buf_detach(key);
  l->v[l->n].text = buf_detach(text);
  if (!l->v[l->n].key || !l->v[l->n].text)
    return -1;
  l->n++;
  return 0;
}

/* Start one item: a fresh scratch arena and empty key and text. */
static void item_begin(mvs_engine *e, buf *key, buf *text)
{
  mvs_arena_reset(e->scratch);
  buf_init(key, 0);
  buf_init(text, 0);
}

/* Add the item (key, text) when it was built (built == 0); otherwise, or when it cannot be
 * added, free both.  0, or -1. */
static int items_take(items *l, int built, buf *key, buf *text)
{
  if (built == 0 && items_add(l, key, text) == 0)
    return 0;
  buf_free(key);
  buf_free(text);
  return -1;
}

static int cmp_item(const void *a, const void *b)
{
  return strcmp(((const item *)a)->key, ((const item *)b)->key);
}

/* Sort and write the items as the body of a JSON array; frees them. */
static int items_flush(items *l, buf *out, const char *indent)
{
  size_t i;
  if (l->n)
    qsort(l->v, l->n, sizeof *l->v, cmp_item);
  for (i = 0; i < l->n; i++) {
    buf_printf(out, "%s\n%s%s", i ? "," : "", indent, l->v[i].text);
    free(l->v[i].key);
    free(l->v[i].text);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
  return 0;
}

static int cmp_value(const void *a, const void *b)
{
  return attr_value_cmp(*(const mvs_value *)a, *(const mvs_value *)b);
}

/* Write a list of values as one value (a single one unless multi) or an array. */
static void write_values(buf *b, mvs_value *vals, size_t n, bool multi)
{
  size_t i;
  if (n == 1 && !multi) {
    value_json_write(b, vals[0]);
    return;
  }
  qsort(vals, n, sizeof *vals, cmp_value);
  buf_addc(b, '[');
  for (i = 0; i < n; i++) {
    if (i)
      buf_adds(b, ", ");
    value_json_write(b, vals[i]);
  }
  buf_addc(b, ']');
}

/* One attribute's value as JSON appended to b: 1 when it has none (a reference attribute
 * without values is absent), 0 when written, -1 out of memory. */
static int attr_value_json(mvs_engine *e, buf *b, const attr_entry *ae, const ref_rows *refs,
                           bool metaverse, mvs_arena *a)
{
  mvs_value *vals;
  size_t j, n;

  if (!(ae->flags & ATTR_REF)) {
    value_json_write(b, ae->value);
    return 0;
  }
  for (n = 0, j = 0; j < refs->n; j++)
    n += strcasecmp(refs->items[j].attr, ae->name) == 0;
  if (!n)
    return 1;
  if (!(vals = mvs_arena_alloc(a, n * sizeof *vals)))
    return -1;
  for (n = 0, j = 0; j < refs->n; j++) {
    const char *t;
    if (strcasecmp(refs->items[j].attr, ae->name) != 0)
      continue;
    if (metaverse) {
      const char **links;
      size_t nl;
      if (label_mv_links(e, refs->items[j].target_mv, a, &links, &nl) != 0)
        return -1;
      t = nl ? links[0] : "";
      free(links);
    } else {
      t = refs->items[j].target_key;
    }
    vals[n] = mvs_str_ref(t, strlen(t));
    vals[n++].type = MVS_V_REF;
  }
  write_values(b, vals, n, (ae->flags & ATTR_MULTI) != 0);
  return 0;
}

int dump_attrs(mvs_engine *e, buf *b, const attrset *s, const ref_rows *refs, bool metaverse,
               mvs_arena *a)
{
  size_t i;
  bool first = true;
  buf v;
  int rc = 0;

  buf_init(&v, 0);
  buf_addc(b, '{');
  for (i = 0; i < s->n && rc >= 0; i++) {
    buf_reset(&v);
    if ((rc = attr_value_json(e, &v, &s->items[i], refs, metaverse, a)) != 0)
      continue;
    buf_adds(b, first ? "" : ", ");
    json_str_write(b, s->items[i].name, strlen(s->items[i].name));
    buf_printf(b, ": %s", v.p ? v.p : "null");
    first = false;
  }
  buf_free(&v);
  return rc < 0 ? -1 : buf_addc(b, '}');
}

/* The attributes as an admin reads them: one line each, "  name: value  [rule]". */
static int show_attr_lines(mvs_engine *e, buf *out, const attrset *s, const ref_rows *refs,
                           bool metaverse, mvs_arena *a)
{
  size_t i;
  buf v;
  int rc = 0;

  buf_init(&v, 0);
  for (i = 0; i < s->n && rc >= 0; i++) {
    buf_reset(&v);
    if ((rc = attr_value_json(e, &v, &s->items[i], refs, metaverse, a)) != 0)
      continue;
    buf_printf(out, "    %s: %s", s->items[i].name, v.p ? v.p : "null");
    if (s->items[i].src)
      buf_printf(out, "  [%s]", s->items[i].src);
    buf_addc(out, '\n');
  }
  buf_free(&v);
  return rc < 0 ? -1 : 0;
}

static int dump_connector(mvs_engine *e, int64_t cid, buf *out)
{
  id_list ids = {0};
  items l = {0};
  size_t i;
  int rc = -1;

  if (store_cs_sorted(e->st, cid, &ids) != STORE_OK)
    goto out;
  for (i = 0; i < ids.n; i++) {
    cs_row cs;
    attrset s;
    ref_rows refs = {0};
    buf key, text;
    item_begin(e, &key, &text);
    attrset_init(&s, e->scratch);
    if (store_cs_get(e->st, ids.ids[i], e->scratch, &cs) != STORE_OK ||
        attrset_decode(&s, cs.attrs, cs.attrs_len) != 0 ||
        store_ref_list(e->st, cs.id, NULL, e->scratch, &refs) != STORE_OK) {
      attrset_free(&s);
      ref_rows_free(&refs);
      goto out;
    }
    buf_printf(&key, "%s\x01%s", cs.anchor ? cs.anchor : "\x7f", cs.dn ? cs.dn : "");
    buf_adds(&text, "{\"anchor\": ");
    if (cs.anchor)
      json_str_write(&text, cs.anchor, strlen(cs.anchor));
    else
      buf_adds(&text, "null");
    buf_adds(&text, ", \"dn\": ");
    if (cs.dn)
      json_str_write(&text, cs.dn, strlen(cs.dn));
    else
      buf_adds(&text, "null");
    buf_adds(&text, ", \"type\": ");
    json_str_write(&text, cs.object_type, strlen(cs.object_type));
    buf_printf(&text, ", \"import\": \"%s\", \"joined\": %s, \"attrs\": ",
               import_names[cs.import_state], cs.mv_id ? "true" : "false");
    rc = dump_attrs(e, &text, &s, &refs, false, e->scratch);
    if (cs.error) {
      buf_adds(&text, ", \"error\": ");
      json_str_write(&text, cs.error, strlen(cs.error));
    }
    buf_addc(&text, '}');
    attrset_free(&s);
    ref_rows_free(&refs);
    if ((rc = items_take(&l, rc, &key, &text)) != 0)
      goto out;
    rc = -1;
  }
  items_flush(&l, out, "    ");
  rc = 0;
out:
  items_flush(&l, &(buf){0}, "");
  id_list_free(&ids);
  return rc;
}

static int dump_metaverse(mvs_engine *e, buf *out)
{
  id_list page = {0};
  items l = {0};
  int64_t after = 0;
  size_t i, j;
  int rc = -1;

  for (;;) {
    page.n = 0;
    if (store_mv_page(e->st, after, 512, &page) != STORE_OK)
      goto out;
    if (!page.n)
      break;
    for (i = 0; i < page.n; i++) {
      mv_row mv;
      attrset s;
      ref_rows refs = {0};
      const char **links = NULL;
      size_t nl = 0;
      buf key, text;
      item_begin(e, &key, &text);
      attrset_init(&s, e->scratch);
      if (store_mv_get(e->st, page.ids[i], e->scratch, &mv) != STORE_OK ||
          attrset_decode(&s, mv.attrs, mv.attrs_len) != 0 ||
          store_mv_ref_all(e->st, mv.id, e->scratch, &refs) != STORE_OK ||
          label_mv_links(e, mv.id, e->scratch, &links, &nl) != 0) {
        attrset_free(&s);
        ref_rows_free(&refs);
        goto out;
      }
      buf_adds(&text, "{\"type\": ");
      json_str_write(&text, mv.object_type, strlen(mv.object_type));
      buf_adds(&text, ", \"links\": [");
      for (j = 0; j < nl; j++) {
        buf_printf(&key, "%s%s", j ? "\x01" : "", links[j]);
        if (j)
          buf_adds(&text, ", ");
        json_str_write(&text, links[j], strlen(links[j]));
      }
      buf_adds(&text, "], \"attrs\": ");
      free(links);
      rc = dump_attrs(e, &text, &s, &refs, true, e->scratch);
      buf_addc(&text, '}');
      buf_adds(&key, "");
      attrset_free(&s);
      ref_rows_free(&refs);
      if ((rc = items_take(&l, rc, &key, &text)) != 0)
        goto out;
      rc = -1;
    }
    after = page.ids[page.n - 1];
  }
  items_flush(&l, out, "  ");
  rc = 0;
out:
  items_flush(&l, &(buf){0}, "");
  id_list_free(&page);
  return rc;
}

/* One pending export as JSON (the dump's form). */
static int pending_json(mvs_engine *e, int64_t cs_id, buf *key, buf *text)
{
  cs_row cs;
  pe_row pe;
  pe_values vals = {0};
  const char *conn;
  size_t i, j;
  int rc = -1;

  if (store_cs_get(e->st, cs_id, e->scratch, &cs) != STORE_OK ||
      store_pe_get(e->st, cs_id, e->scratch, &pe) != STORE_OK ||
      store_pe_values(e->st, cs_id, e->scratch, &vals) != STORE_OK ||
      store_connector_name(e->st, cs.connector, e->scratch, &conn) != STORE_OK)
    goto out;
  buf_printf(key, "%s\x01%s\x01%d", conn, cs.dn ? cs.dn : "", pe.op);
  buf_adds(text, "{\"connector\": ");
  json_str_write(text, conn, strlen(conn));
  buf_adds(text, ", \"dn\": ");
  if (cs.dn)
    json_str_write(text, cs.dn, strlen(cs.dn));
  else
    buf_adds(text, "null");
  buf_printf(text, ", \"op\": \"%s\"", op_names[pe.op & 3]);
  if (pe.new_dn) {
    buf_adds(text, ", \"new_dn\": ");
    json_str_write(text, pe.new_dn, strlen(pe.new_dn));
  }
  buf_adds(text, ", \"attrs\": {");
  for (i = 0; i < vals.n;) {
    const char *attr = vals.items[i].attr;
    int prev_mode = -1;
    buf_printf(text, "%s", i ? ", " : "");
    json_str_write(text, attr, strlen(attr));
    buf_adds(text, ": {");
    for (j = i; j < vals.n && strcmp(vals.items[j].attr, attr) == 0; j++) {
      const pe_value_row *v = &vals.items[j];
      mvs_value val;
      if (v->mode != prev_mode) {
        buf_printf(text, "%s\"%s\": [", prev_mode < 0 ? "" : "], ", mode_names[v->mode % 3]);
        prev_mode = v->mode;
      } else {
        buf_adds(text, ", ");
      }
      if (!v->value)
        continue;
      if (attr_value_decode(e->scratch, v->value, v->value_len, &val) != 0)
        goto out;
      value_json_write(text, val);
    }
    buf_adds(text, "]}");
    i = j;
  }
  buf_printf(text, "}, \"status\": \"%s\"", pe.status == PE_SENT ? "sent" : "pending");
  if (pe.error) {
    buf_adds(text, ", \"error\": ");
    json_str_write(text, pe.error, strlen(pe.error));
  }
  rc = buf_addc(text, '}') ? -1 : 0;
out:
  pe_values_free(&vals);
  return rc;
}

static int dump_pending(mvs_engine *e, int64_t conn_name, buf *out, const char *indent)
{
  id_list ids = {0};
  items l = {0};
  size_t i;
  int rc = -1;

  if (store_pe_list(e->st, conn_name, false, &ids) != STORE_OK)
    goto out;
  for (i = 0; i < ids.n; i++) {
    buf key, text;
    item_begin(e, &key, &text);
    if (items_take(&l, pending_json(e, ids.ids[i], &key, &text), &key, &text) != 0)
      goto out;
  }
  items_flush(&l, out, indent);
  rc = 0;
out:
  items_flush(&l, &(buf){0}, "");
  id_list_free(&ids);
  return rc;
}

int engine_dump_json(mvs_engine *e, buf *out)
{
  id_list conns = {0};
  size_t i;
  int rc = ENGINE_SYSTEM;

  if (store_connector_list(e->st, &conns) != STORE_OK)
    goto out;
  buf_adds(out, "{\n\"connectors\": {");
  for (i = 0; i < conns.n; i++) {
    const char *name;
    mvs_arena_reset(e->scratch2);
    if (store_connector_name(e->st, conns.ids[i], e->scratch2, &name) != STORE_OK)
      goto out;
    buf_printf(out, "%s\n  ", i ? "," : "");
    json_str_write(out, name, strlen(name));
    buf_adds(out, ": [");
    if (dump_connector(e, conns.ids[i], out) != 0)
      goto out;
    buf_adds(out, "\n  ]");
  }
  buf_adds(out, "\n},\n\"metaverse\": [");
  if (dump_metaverse(e, out) != 0)
    goto out;
  buf_adds(out, "\n],\n\"pending\": [");
  if (dump_pending(e, 0, out, "  ") != 0)
    goto out;
  buf_adds(out, "\n]\n}\n");
  rc = ENGINE_OK;
out:
  id_list_free(&conns);
  return engine_fail(e, rc, "dump");
}

/* ---- pending, show, runs ---- */

static void csv_field(buf *b, const char *s)
{
  buf_addc(b, '"');
  for (; s && *s; s++) {
    if (*s == '"')
      buf_addc(b, '"');
    buf_addc(b, *s);
  }
  buf_addc(b, '"');
}

int engine_pending(mvs_engine *e, const char *conn_name, int format, buf *out)
{
  int64_t cid = 0;
  id_list ids = {0};
  size_t i, j;
  int rc = ENGINE_SYSTEM;

  if (conn_name && store_connector_find(e->st, conn_name, &cid) != STORE_OK) {
    engine_errorf(e, "no connector \"%s\" in the store", conn_name);
    return ENGINE_INVALID;
  }
  if (format == PENDING_JSON) {
    buf_adds(out, "[");
    if (dump_pending(e, cid, out, " ") != 0)
      return engine_fail(e, ENGINE_SYSTEM, "pending");
    buf_adds(out, "\n]\n");
    return ENGINE_OK;
  }
  if (store_pe_list(e->st, cid, false, &ids) != STORE_OK)
    goto out;
  if (format == PENDING_CSV)
    buf_adds(out, "connector,dn,op,new_dn,status,attr,mode,value,error\n");
  for (i = 0; i < ids.n; i++) {
    cs_row cs;
    pe_row pe;
    pe_values vals = {0};
    const char *conn;
    mvs_arena_reset(e->scratch);
    if (store_cs_get(e->st, ids.ids[i], e->scratch, &cs) != STORE_OK ||
        store_pe_get(e->st, cs.id, e->scratch, &pe) != STORE_OK ||
        store_pe_values(e->st, cs.id, e->scratch, &vals) != STORE_OK ||
        store_connector_name(e->st, cs.connector, e->scratch, &conn) != STORE_OK) {
      pe_values_free(&vals);
      goto out;
    }
    if (format == PENDING_TEXT)
      buf_printf(out, "%s %s %s%s%s [%s, object %lld]%s%s\n", conn, op_names[pe.op & 3],
                 cs.dn ? cs.dn : "", pe.new_dn ? " -> " : "", pe.new_dn ? pe.new_dn : "",
                 pe.status == PE_SENT ? "sent" : "pending", (long long)cs.id,
                 pe.error ? " error: " : "",
                 pe.error ? pe.error : "");
    for (j = 0; j < vals.n || (format == PENDING_CSV && j == 0); j++) {
      const char *t = "";
      size_t tn = 0;
      mvs_value v = mvs_null();
      if (j < vals.n && vals.items[j].value &&
          attr_value_decode(e->scratch, vals.items[j].value, vals.items[j].value_len, &v) == 0)
        attr_value_text(e->scratch, v, &t, &tn);
      t = mvs_arena_memdup(e->scratch, t, tn);
      if (format == PENDING_TEXT) {
        buf_printf(out, "  %s %s: %s\n", mode_names[vals.items[j].mode % 3], vals.items[j].attr, t);
        continue;
      }
      csv_field(out, conn);
      buf_addc(out, ',');
      csv_field(out, cs.dn);
      buf_printf(out, ",%s,", op_names[pe.op & 3]);
      csv_field(out, pe.new_dn);
      buf_printf(out, ",%s,", pe.status == PE_SENT ? "sent" : "pending");
      csv_field(out, j < vals.n ? vals.items[j].attr : "");
      buf_printf(out, ",%s,", j < vals.n ? mode_names[vals.items[j].mode % 3] : "");
      csv_field(out, t);
      buf_addc(out, ',');
      csv_field(out, pe.error);
      buf_addc(out, '\n');
    }
    pe_values_free(&vals);
  }
  rc = ENGINE_OK;
out:
  id_list_free(&ids);
  return engine_fail(e, rc, "pending");
}

/* How a connector-space object came to be joined (lineage): by an inbound join, by
 * projecting its metaverse object, by an outbound join, or provisioned by an outbound rule;
 * NULL when it is not joined. */
static const char *link_how(const cs_row *cs)
{
  if (!cs->mv_id)
    return NULL;
  return cs->provisioned ? "provision" : cs->link_out ? "outbound join"
       : cs->projected ? "projection" : "join";
}

/* One joined object of a metaverse object, as JSON or as a text line. */
static void show_lineage(buf *out, const cs_row *cs, const char *conn, bool json, bool first)
{
  const char *how = link_how(cs);
  if (json) {
    buf_printf(out, "%s{\"connector\": ", first ? "" : ", ");
    json_str_write(out, conn, strlen(conn));
    buf_printf(out, ", \"id\": %lld, \"dn\": ", (long long)cs->id);
    cs->dn ? json_str_write(out, cs->dn, strlen(cs->dn)) : buf_adds(out, "null");
    buf_adds(out, ", \"anchor\": ");
    cs->anchor ? json_str_write(out, cs->anchor, strlen(cs->anchor)) : buf_adds(out, "null");
    buf_adds(out, ", \"rule\": ");
    cs->link_rule ? json_str_write(out, cs->link_rule, strlen(cs->link_rule)) : buf_adds(out, "null");
    buf_printf(out, ", \"link\": \"%s\", \"since\": ", how ? how : "");
    cs->linked_at ? json_str_write(out, cs->linked_at, strlen(cs->linked_at)) : buf_adds(out, "null");
    buf_addc(out, '}');
    return;
  }
  buf_printf(out, "    %s %s (connector-space object %lld): %s by \"%s\", since %s\n", conn,
             cs->dn ? cs->dn : cs->anchor ? cs->anchor : "(no dn)", (long long)cs->id,
             how ? how : "", cs->link_rule ? cs->link_rule : "",
             cs->linked_at ? cs->linked_at : "unknown (joined before schema 4)");
}

static int show_mv(mvs_engine *e, int64_t id, bool json, buf *attrs, buf *out)
{
  attrset s;
  ref_rows refs = {0};
  id_list joined = {0};
  mv_row mv;
  const char **links = NULL, *coll = NULL;
  mvs_arena *rows = NULL;
  size_t nl, i;
  int rc;

  attrset_init(&s, e->scratch);
  if ((rc = store_mv_get(e->st, id, e->scratch, &mv)) != STORE_OK) {
    engine_errorf(e, "no metaverse object %lld", (long long)id);
    return rc == STORE_NOTFOUND ? ENGINE_INVALID : ENGINE_SYSTEM;
  }
  rc = ENGINE_SYSTEM;
  if (attrset_decode(&s, mv.attrs, mv.attrs_len) != 0 ||
      store_mv_ref_all(e->st, id, e->scratch, &refs) != STORE_OK ||
      label_mv_links(e, id, e->scratch, &links, &nl) != 0 ||
      store_cs_joined(e->st, id, &joined) != STORE_OK || !(rows = mvs_arena_new(0)) ||
      store_collection_name(e->st, id, e->scratch, &coll) == STORE_ERR)
    goto out;
  if (json) {
    if (dump_attrs(e, attrs, &s, &refs, true, e->scratch) != 0)
      goto out;
    buf_printf(out, "{\"id\": %lld, \"type\": ", (long long)id);
    json_str_write(out, mv.object_type, strlen(mv.object_type));
    buf_adds(out, ", \"links\": [");
    for (i = 0; i < nl; i++) {
      buf_adds(out, i ? ", " : "");
      json_str_write(out, links[i], strlen(links[i]));
    }
    buf_adds(out, "], \"lineage\": [");
  } else {
    buf_printf(out, "metaverse object %lld (%s)\n", (long long)id, mv.object_type);
    if (coll)
      buf_printf(out, "  collection: %s\n", coll);
    buf_printf(out, "  joined:%s\n", joined.n ? "" : " nothing");
  }
  for (i = 0; i < joined.n; i++) {
    cs_row cs;
    const char *conn;
    mvs_arena_reset(rows);
    if (store_cs_get(e->st, joined.ids[i], rows, &cs) != STORE_OK ||
        store_connector_name(e->st, cs.connector, rows, &conn) != STORE_OK)
      goto out;
    show_lineage(out, &cs, conn, json, i == 0);
  }
  if (json) {
    buf_printf(out, "], \"attrs\": %s, \"contributors\": {", attrs->p);
    for (i = 0; i < s.n; i++) {
      buf_adds(out, i ? ", " : "");
      json_str_write(out, s.items[i].name, strlen(s.items[i].name));
      buf_adds(out, ": ");
      s.items[i].src ? json_str_write(out, s.items[i].src, strlen(s.items[i].src))
                     : buf_adds(out, "null");
    }
    buf_adds(out, "}}\n");
  } else {
    buf_adds(out, "  attributes (value  [the rule that contributed it]):\n");
    if (show_attr_lines(e, out, &s, &refs, true, e->scratch) != 0)
      goto out;
  }
  rc = ENGINE_OK;
out:
  free(links);
  id_list_free(&joined);
  if (rows)
    mvs_arena_free(rows);
  attrset_free(&s);
  ref_rows_free(&refs);
  return rc;
}

static int show_cs(mvs_engine *e, int64_t id, bool json, buf *attrs, buf *out)
{
  attrset s;
  ref_rows refs = {0};
  cs_row cs;
  const char *conn, *how;
  int rc;

  attrset_init(&s, e->scratch);
  if ((rc = store_cs_get(e->st, id, e->scratch, &cs)) != STORE_OK) {
    engine_errorf(e, "no connector-space object %lld", (long long)id);
    return rc == STORE_NOTFOUND ? ENGINE_INVALID : ENGINE_SYSTEM;
  }
  rc = ENGINE_SYSTEM;
  how = link_how(&cs);
  if (attrset_decode(&s, cs.attrs, cs.attrs_len) != 0 ||
      store_ref_list(e->st, id, NULL, e->scratch, &refs) != STORE_OK ||
      store_connector_name(e->st, cs.connector, e->scratch, &conn) != STORE_OK)
    goto out;
  if (json) {
    if (dump_attrs(e, attrs, &s, &refs, false, e->scratch) != 0)
      goto out;
    buf_printf(out, "{\"id\": %lld, \"connector\": ", (long long)id);
    json_str_write(out, conn, strlen(conn));
    buf_adds(out, ", \"anchor\": ");
    cs.anchor ? json_str_write(out, cs.anchor, strlen(cs.anchor)) : buf_adds(out, "null");
    buf_adds(out, ", \"dn\": ");
    cs.dn ? json_str_write(out, cs.dn, strlen(cs.dn)) : buf_adds(out, "null");
    buf_adds(out, ", \"type\": ");
    json_str_write(out, cs.object_type, strlen(cs.object_type));
    buf_printf(out, ", \"import\": \"%s\", \"mv_id\": %lld, \"link_rule\": ",
               import_names[cs.import_state], (long long)cs.mv_id);
    cs.link_rule ? json_str_write(out, cs.link_rule, strlen(cs.link_rule)) : buf_adds(out, "null");
    buf_adds(out, ", \"link\": ");
    how ? json_str_write(out, how, strlen(how)) : buf_adds(out, "null");
    buf_adds(out, ", \"linked_at\": ");
    cs.linked_at ? json_str_write(out, cs.linked_at, strlen(cs.linked_at)) : buf_adds(out, "null");
    buf_printf(out, ", \"provisioned\": %s, \"attrs\": %s}\n",
               cs.provisioned ? "true" : "false", attrs->p);
  } else {
    buf_printf(out, "connector-space object %lld in %s\n  anchor: %s\n  dn: %s\n  type: %s\n"
               "  import: %s\n", (long long)id, conn, cs.anchor ? cs.anchor : "(none)",
               cs.dn ? cs.dn : "(none)", cs.object_type, import_names[cs.import_state]);
    if (cs.mv_id)
      buf_printf(out, "  joined: metaverse object %lld, %s by \"%s\", since %s\n",
                 (long long)cs.mv_id, how, cs.link_rule ? cs.link_rule : "",
                 cs.linked_at ? cs.linked_at : "unknown (joined before schema 4)");
    else
      buf_adds(out, "  joined: no (a disconnector)\n");
    if (cs.error)
      buf_printf(out, "  error: %s\n", cs.error);
    buf_adds(out, "  attributes:\n");
    if (show_attr_lines(e, out, &s, &refs, false, e->scratch) != 0)
      goto out;
  }
  rc = ENGINE_OK;
out:
  attrset_free(&s);
  ref_rows_free(&refs);
  return rc;
}

int engine_show(mvs_engine *e, bool metaverse, int64_t id, bool json, buf *out)
{
  buf attrs;
  int rc;

  mvs_arena_reset(e->scratch);
  buf_init(&attrs, 0);
  rc = metaverse ? show_mv(e, id, json, &attrs, out) : show_cs(e, id, json, &attrs, out);
  buf_free(&attrs);
  return engine_fail(e, rc, "show");
}

int engine_show_cs(mvs_engine *e, const char *conn_name, const char *object, bool json,
                   buf *out)
{
  int64_t cid;
  cs_row cs;

  mvs_arena_reset(e->scratch);
  if (store_connector_find(e->st, conn_name, &cid) != STORE_OK ||
      engine_find_cs(e, cid, object, &cs) != STORE_OK) {
    engine_errorf(e, "no object \"%s\" in connector \"%s\" (give its anchor or DN)", object,
                  conn_name);
    return ENGINE_INVALID;
  }
  return engine_show(e, false, cs.id, json, out);
}

void dump_run_json(buf *out, const run_row *r)
{
  buf_printf(out, "{\"id\": %lld, \"profile\": \"%s\", \"connector\": ", (long long)r->id,
             r->profile);
  r->connector ? json_str_write(out, r->connector, strlen(r->connector)) : buf_adds(out, "null");
  buf_printf(out, ", \"started\": \"%s\", \"duration_ms\": %lld, \"adds\": %lld, "
             "\"updates\": %lld, \"deletes\": %lld, \"errors\": %lld, \"skipped_refs\": %lld, "
             "\"drift\": %lld, \"ruleset_hash\": \"%s\", \"status\": \"%s\", \"log\": ",
             r->started, (long long)r->duration_ms, (long long)r->adds, (long long)r->updates,
             (long long)r->deletes, (long long)r->errors, (long long)r->skipped_refs,
             (long long)r->drift, r->ruleset_hash ? r->ruleset_hash : "", r->status);
  json_str_write(out, r->log ? r->log : "", r->log ? strlen(r->log) : 0);
  buf_addc(out, '}');
}

int engine_run_json(mvs_engine *e, int64_t id, buf *out)
{
  run_row *rows = NULL;
  size_t n, i, pick;
  int rc = ENGINE_INVALID;

  mvs_arena_reset(e->scratch);
  if (store_run_list(e->st, e->scratch, &rows, &n) != STORE_OK)
    return engine_fail(e, ENGINE_SYSTEM, "runs");
  for (pick = n, i = 0; i < n; i++)
    if (id ? rows[i].id == id : (pick == n || rows[i].id > rows[pick].id))
      pick = i;
  if (pick < n) {
    dump_run_json(out, &rows[pick]);
    rc = ENGINE_OK;
  } else if (id) {
    engine_errorf(e, "no run %lld in the store (`mvsync runs` lists them)", (long long)id);
  } else {
    engine_errorf(e, "no run in the store yet");
  }
  free(rows);
  return rc;
}

int engine_runs(mvs_engine *e, bool json, buf *out)
{
  run_row *rows = NULL;
  size_t n, i;

  mvs_arena_reset(e->scratch);
  if (store_run_list(e->st, e->scratch, &rows, &n) != STORE_OK)
    return engine_fail(e, ENGINE_SYSTEM, "runs");
  if (json)
    buf_adds(out, "[");
  else
    buf_printf(out, "%-4s %-15s %-24s %-20s %8s %6s %6s %6s %6s %6s  %-16s %s\n", "id",
               "profile", "connector", "started", "ms", "adds", "upd", "del", "err", "drift",
               "rules", "status");
  for (i = 0; i < n; i++) {
    run_row *r = &rows[i];
    if (json) {
      buf_adds(out, i ? ",\n " : "\n ");
      dump_run_json(out, r);
    } else {
      buf_printf(out,
                 "%-4lld %-15s %-24s %-20s %8lld %6lld %6lld %6lld %6lld %6lld  %-16.16s %s\n",
                 (long long)r->id, r->profile, r->connector ? r->connector : "-", r->started,
                 (long long)r->duration_ms, (long long)r->adds, (long long)r->updates,
                 (long long)r->deletes, (long long)r->errors, (long long)r->drift,
                 r->ruleset_hash ? r->ruleset_hash : "", r->status);
    }
  }
  if (json)
    buf_adds(out, n ? "\n]\n" : "]\n");
  free(rows);
  return ENGINE_OK;
}
