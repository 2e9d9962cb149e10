/* connect — open a rule-set connector through connector.h: build its conn_config from the
 * rule file (secrets resolved from env:/file:, relative paths made relative to the rule
 * file's directory, the attributes and object types the rules use).  Secrets are only ever
 * held in memory: never logged, never stored.
 * Memory: an open_connector owns its config strings until connector_close_for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "connectors/shape.h"
#include "engine/attrset.h"
#include "engine/connect.h"
#include "engine/engine_int.h"
#include "schema/array.h"

static char *own(open_connector *oc, char *s)
{
  if (!s || array_reserve(&oc->owned, &oc->cap_owned, oc->n_owned + 1, sizeof *oc->owned) != 0) {
    free(s);
    return NULL;
  }
  oc->owned[oc->n_owned++] = s;
  return s;
}

static bool is_path_key(const char *k)
{
  size_t n = strlen(k);
  return strcmp(k, "path") == 0 || strcmp(k, "changes") == 0 || strcmp(k, "export-log") == 0 ||
         (n > 5 && (strcmp(k + n - 5, "-path") == 0 || strcmp(k + n - 5, "-file") == 0));
}

/* A path as the rule file means it: relative ones from the rule file's directory. */
static char *rule_relative(const rule_connector *rc, const char *path)
{
  const char *slash = strrchr(rc->pos.file, '/');
  char *out;
  if (path[0] == '/' || !slash)
    return strdup(path);
  if (asprintf(&out, "%.*s/%s", (int)(slash - rc->pos.file), rc->pos.file, path) < 0)
    return NULL;
  return out;
}

static char *read_secret_file(mvs_engine *e, const rule_connector *rc, const char *key,
                              const char *path)
{
  char *full = rule_relative(rc, path), *text = NULL;
  struct stat st;
  FILE *f = NULL;
  long n;

  if (!full)
    return NULL;
  if (stat(full, &st) != 0) {
    engine_errorf(e, "connector \"%s\": %s: secret file %s: %s", rc->name, key, full, strerror(errno));
    goto out;
  }
  if (st.st_mode & 077) {
    engine_errorf(e, "connector \"%s\": %s: secret file %s is readable by others (mode %03o); "
                  "make it mode 0600 or stricter", rc->name, key, full, (unsigned)(st.st_mode & 0777));
    goto out;
  }
  if (!(f = fopen(full, "rb")) || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0 || !(text = calloc(1, (size_t)n + 1)) ||
      fread(text, 1, (size_t)n, f) != (size_t)n) {
    engine_errorf(e, "connector \"%s\": %s: cannot read secret file %s", rc->name, key, full);
    free(text);
    text = NULL;
    goto out;
  }
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
    text[--n] = '\0';
out:
  if (f)
    fclose(f);
  free(full);
  return text;
}

/* The attributes the connector is asked for, and which of them are references. */
static int add_attr(open_connector *oc, const char *name)
{
  return engine_name_add(&oc->attrs, &oc->cfg.n_attrs, &oc->cap_attrs, name);
}

static int add_ref_attr(open_connector *oc, const char *name)
{
  return engine_name_add(&oc->ref_attrs, &oc->cfg.n_ref_attrs, &oc->cap_ref_attrs, name);
}

/* expr_attrs callback: names are not NUL-terminated, so the list gets owned copies. */
static void add_expr_attr(void *u, const char *name, size_t n)
{
  open_connector *oc = u;
  char *copy = own(oc, strndup(name, n));
  if (copy)
    add_attr(oc, copy);
}

/* The connector-space attributes a rule reads outside its flows: inbound scope clauses and
 * the connector-space side of join conditions (either direction).  Without them an import
 * would leave out exactly what decides scope and joins. */
static int add_rule_cs_attrs(open_connector *oc, const rule *r)
{
  size_t g, k;
  if (r->direction == RULE_INBOUND)
    for (g = 0; g < r->n_scope; g++)
      for (k = 0; k < r->scope[g].n_clauses; k++)
        if (add_attr(oc, r->scope[g].clauses[k].attr) != 0)
          return -1;
  for (g = 0; g < r->n_join; g++)
    for (k = 0; k < r->join[g].n_conditions; k++)
      if (add_attr(oc, r->join[g].conditions[k].cs_attr) != 0)
        return -1;
  return 0;
}

const shape *engine_conn_shape(const conn_info *c)
{
  const char *name = rule_connector_type_name(c->rc->type);
  for (size_t i = 0; i < c->rc->n_settings; i++)
    if (strcmp(c->rc->settings[i].key, "shape") == 0 &&
        c->rc->settings[i].value.kind == RULE_VAL_STRING)
      name = c->rc->settings[i].value.text;
  return shape_find(name);
}

int connector_import_list(conn_info *c, open_connector *oc)
{
  const rule_connector *rc = c->rc;
  buf types;
  size_t i, j, n_types = 0, cap_types = 0;
  const char **type_list = NULL;

  buf_init(&types, 0);
  /* Attributes: the declared ones, plus what the rules read and write. */
  for (i = 0; i < rc->n_attrs; i++) {
    if (add_attr(oc, rc->attrs[i].name) != 0 ||
        (rc->attrs[i].syntax == RULE_SYN_REFERENCE &&
         add_ref_attr(oc, rc->attrs[i].name) != 0))
      goto fail;
  }
  for (i = 0; i < c->n_in; i++) {
    const rule *r = c->in_rules[i];
    if (engine_name_add(&type_list, &n_types, &cap_types, r->source_type) != 0)
      goto fail;
    for (j = 0; j < r->n_flows; j++) {
      if (r->flows[j].type == RULE_FLOW_DIRECT &&
          add_attr(oc, r->flows[j].source) != 0)
        goto fail;
      if (r->flows[j].expr)
        expr_attrs(r->flows[j].expr, add_expr_attr, oc);
    }
    if (add_rule_cs_attrs(oc, r) != 0)
      goto fail;
  }
  for (i = 0; i < c->n_out; i++) {
    const rule *r = c->out_rules[i];
    if (engine_name_add(&type_list, &n_types, &cap_types, r->target_type) != 0)
      goto fail;
    for (j = 0; j < r->n_flows; j++)
      if (add_attr(oc, r->flows[j].target) != 0)
        goto fail;
    if (add_rule_cs_attrs(oc, r) != 0)
      goto fail;
  }
  /* An ISMEMBEROF scope names no attribute, yet it reads the membership of the groups it
   * names: import the connector's group membership attribute as a reference. */
  if (c->n_member_groups) {
    const shape *sh = engine_conn_shape(c);
    if (sh && (add_attr(oc, sh->member_attr) != 0 ||
               add_ref_attr(oc, sh->member_attr) != 0))
      goto fail;
  }
  oc->cfg.attrs = oc->attrs;
  oc->cfg.ref_attrs = oc->ref_attrs;
  for (i = 0; i < n_types; i++)
    buf_printf(&types, "%s%s", i ? "," : "", type_list[i]);
  /* ISMEMBEROF looks groups up in the connector space: every type is imported then. */
  oc->types_csv = types.p && !c->n_member_groups ? buf_detach(&types) : NULL;
  buf_free(&types);
  oc->cfg.object_types_csv = oc->types_csv;
  free(type_list);
  return 0;
fail:
  free(type_list);
  buf_free(&types);
  return -1;
}

int connector_open_for(mvs_engine *e, conn_info *c, open_connector *oc)
{
  const rule_connector *rc = c->rc;
  const char *type = rule_connector_type_name(rc->type);
  char *err = NULL;
  size_t i;

  memset(oc, 0, sizeof *oc);
  if (!(oc->ops = connector_find(type))) {
    engine_errorf(e, "connector \"%s\": no implementation of connector type %s", rc->name, type);
    return ENGINE_INVALID;
  }
  if (!(oc->settings = calloc(rc->n_settings + 1, sizeof *oc->settings)))
    return ENGINE_SYSTEM;
  for (i = 0; i < rc->n_settings; i++) {
    const rule_setting *s = &rc->settings[i];
    const char *v = s->value.text;
    char *owned = NULL;
    if (s->value.kind == RULE_VAL_ENV) {
      if (!(v = getenv(s->value.text))) {
        engine_errorf(e, "connector \"%s\": %s: environment variable %s is not set", rc->name,
                      s->key, s->value.text);
        return ENGINE_INVALID;
      }
    } else if (s->value.kind == RULE_VAL_FILE) {
      if (!(owned = own(oc, read_secret_file(e, rc, s->key, s->value.text))))
        return e->errmsg[0] ? ENGINE_INVALID : ENGINE_SYSTEM;
      v = owned;
    } else if (s->value.kind == RULE_VAL_STRING && is_path_key(s->key)) {
      if (!(v = own(oc, rule_relative(rc, s->value.text))))
        return ENGINE_SYSTEM;
    }
    oc->settings[i].key = s->key;
    oc->settings[i].value = v;
    if (strcmp(s->key, "shape") == 0)
      oc->cfg.shape = v;
  }
  oc->cfg.name = rc->name;
  oc->cfg.type = type;
  if (!oc->cfg.shape && rc->type != RULE_CONN_FILE)
    oc->cfg.shape = type;
  oc->cfg.settings = oc->settings;
  oc->cfg.n_settings = rc->n_settings;
  oc->cfg.deadline_ms = e->deadline_ms;

  if (connector_import_list(c, oc) != 0)
    return ENGINE_SYSTEM;
  if (oc->ops->open(&oc->cfg, &oc->conn, &err) != CONN_OK) {
    engine_errorf(e, "connector \"%s\": %s", rc->name, err ? err : "cannot open");
    free(err);
    oc->conn = NULL;
    return ENGINE_INVALID;
  }
  return ENGINE_OK;
}

int connector_cs_lookup(store *st, int64_t cid, const char *dn, const char *anchor, mvs_arena *a,
                        buf *norm, conn_found *out)
{
  cs_row row;
  int q;

  if (dn) {
    buf_reset(norm);
    if (text_fold(dn, strlen(dn), norm) != 0 || buf_addc(norm, '\0') != BUF_OK)
      return -1;
    q = store_cs_live_by_dn(st, cid, norm->p, a, &row);
  } else {
    q = store_cs_by_anchor(st, cid, anchor, a, &row);
    if (q == STORE_OK && (!row.present || row.import_state == IMPORT_DELETE))
      q = STORE_NOTFOUND;
  }
  if (q == STORE_ERR)
    return -1;
  if (q == STORE_NOTFOUND)
    return 0;
  out->anchor = row.anchor;
  out->dn = row.dn;
  out->object_type = row.object_type;
  return 1;
}

void connector_close_for(open_connector *oc)
{
  size_t i;
  if (oc->conn)
    oc->ops->close(oc->conn);
  for (i = 0; i < oc->n_owned; i++) {
    /* Secrets are wiped before the memory is returned. */
    memset(oc->owned[i], 0, strlen(oc->owned[i]));
    free(oc->owned[i]);
  }
  free(oc->owned);
  free(oc->settings);
  free(oc->attrs);
  free(oc->ref_attrs);
  free(oc->types_csv);
  memset(oc, 0, sizeof *oc);
}

int connector_value_taken(mvs_engine *e, conn_info *c, const char *object_type,
                          const char *attr, const char *value, const char *except_anchor,
                          bool *taken)
{
  char *err = NULL;
  int rc;

  *taken = false;
  if (!c->asked) {
    const connector_ops *ops = connector_find(rule_connector_type_name(c->rc->type));
    if (!ops || !ops->value_taken)
      return ENGINE_OK;
    if (!(c->asked = calloc(1, sizeof *c->asked)))
      return ENGINE_SYSTEM;
    if ((rc = connector_open_for(e, c, c->asked)) != ENGINE_OK) {
      connector_close_for(c->asked);
      free(c->asked);
      c->asked = NULL;
      return rc;
    }
  }
  if (c->asked->ops->value_taken(c->asked->conn, object_type, attr, value, except_anchor, taken,
                                 &err) != CONN_OK) {
    engine_errorf(e, "connector \"%s\": %s", c->rc->name, err ? err : "lookup failed");
    free(err);
    return ENGINE_INVALID;
  }
  return ENGINE_OK;
}
