/* connect_import — Connect Sync's configuration turned into mvsync rule files (see
 * connect_import.h).  Three parts: the model's allocation helpers, the readers of the
 * server-configuration export's XML (rules, connectors, metaverse), and the writer, which
 * prints DSL text per output file and then runs it through the rule parser and formatter, so
 * what is written is exactly `rules fmt` output.  Everything the writer cannot express is a
 * note and a `# not carried:` comment at its place.
 * Memory: all in the export's arena. */
#include "rules/connect_import.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/ruleset.h"
#include "schema/aad_map.h"
#include "schema/array.h"

/* ---- the model ---- */

connect_export *connect_export_new(void)
{
  connect_export *x = calloc(1, sizeof *x);
  if (x && !(x->arena = mvs_arena_new((size_t)1 << 30))) {
    free(x);
    return NULL;
  }
  return x;
}

void connect_export_free(connect_export *x)
{
  if (!x)
    return;
  mvs_arena_free(x->arena);
  free(x);
}

const char *connect_strdup(connect_export *x, const char *s, size_t n)
{
  return mvs_arena_memdup(x->arena, s, n);
}

/* Room for one more element of an arena array; its slot, zeroed, or NULL. */
static void *push(connect_export *x, void *items, size_t *n, size_t *cap, size_t size)
{
  char *slot;
  if (array_reserve_in(x->arena, items, *n, cap, *n + 1, size) != 0)
    return NULL;
  slot = *(char **)items + *n * size;
  memset(slot, 0, size);
  (*n)++;
  return slot;
}

int connect_note_add(connect_export *x, const char *where, const char *fmt, ...)
{
  connect_note *note;
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!where)   /* its own copy failed: memory is out */
    return CONNECT_NOMEM;
  if (!(note = push(x, &x->notes, &x->n_notes, &x->cap_notes, sizeof *note)) ||
      !(note->where = connect_strdup(x, where, strlen(where))) ||
      !(note->message = connect_strdup(x, msg, strlen(msg))))
    return CONNECT_NOMEM;
  return CONNECT_OK;
}

cx_rule *connect_rule_new(connect_export *x, const char *file, uint32_t line)
{
  cx_rule *r = push(x, &x->rules, &x->n_rules, &x->cap_rules, sizeof *r);
  if (r && !(r->file = connect_strdup(x, file, strlen(file))))
    return NULL;
  if (r)
    r->line = line;
  return r;
}

cx_flow *connect_flow_new(connect_export *x, cx_rule *r)
{
  return push(x, &r->flows, &r->n_flows, &r->cap_flows, sizeof *r->flows);
}

cx_scope_group *connect_scope_group_new(connect_export *x, cx_rule *r)
{
  return push(x, &r->scope, &r->n_scope, &r->cap_scope, sizeof *r->scope);
}

cx_join_group *connect_join_group_new(connect_export *x, cx_rule *r)
{
  return push(x, &r->join, &r->n_join, &r->cap_join, sizeof *r->join);
}

int connect_clause_add(connect_export *x, cx_scope_group *g, const char *attr, const char *op,
                       const char *value, uint32_t line)
{
  cx_clause *c = push(x, &g->clauses, &g->n, &g->cap, sizeof *c);
  if (!c)
    return CONNECT_NOMEM;
  *c = (cx_clause){attr, op, value, line};
  return CONNECT_OK;
}

int connect_join_add(connect_export *x, cx_join_group *g, const char *cs, const char *mv,
                     bool case_sensitive, uint32_t line)
{
  cx_join_cond *c = push(x, &g->conds, &g->n, &g->cap, sizeof *c);
  if (!c)
    return CONNECT_NOMEM;
  *c = (cx_join_cond){cs, mv, case_sensitive, line};
  return CONNECT_OK;
}

int connect_push_str(connect_export *x, const char ***items, size_t *n, size_t *cap,
                     const char *s)
{
  const char **slot = push(x, items, n, cap, sizeof *slot);
  if (!slot)
    return CONNECT_NOMEM;
  *slot = s;
  return CONNECT_OK;
}

/* ---- reading the server-configuration export ---- */

static const char *where_at(connect_export *x, const char *file, uint32_t line)
{
  char w[1024];
  snprintf(w, sizeof w, "%s:%u", file, line);
  return connect_strdup(x, w, strlen(w));
}

/* The text of child `name` of n, without surrounding white space; NULL when absent. */
static const char *child_trim(connect_export *x, const xml_node *n, const char *name)
{
  const char *t = xml_child_text(n, name), *end;
  if (!t)
    return NULL;
  while (isspace((unsigned char)*t))
    t++;
  for (end = t + strlen(t); end > t && isspace((unsigned char)end[-1]); end--)
    ;
  return connect_strdup(x, t, (size_t)(end - t));
}

/* A copy in the export's arena of a string of a parsed document (which the caller frees after
 * each file); NULL stays NULL. */
static const char *keep(connect_export *x, const char *s)
{
  return s ? connect_strdup(x, s, strlen(s)) : NULL;
}

static bool is_true(const char *s)
{
  return s && strcasecmp(s, "true") == 0;
}

/* Each child element of n not among `known` is a note: the reader does not know it, so the
 * rule set does not carry it. */
static int unknown_children(connect_export *x, const char *file, const xml_node *n,
                            const char *const *known)
{
  const xml_node *c;
  for (c = n->first; c; c = c->next) {
    size_t k;
    for (k = 0; known[k] && !xml_is(c, known[k]); k++)
      ;
    if (!known[k] && connect_note_add(x, where_at(x, file, c->line),
                                      "element <%s> of <%s> is not read: mvsync does not know "
                                      "it, so the rule set does not carry it",
                                      c->name, n->name) != CONNECT_OK)
      return CONNECT_NOMEM;
  }
  return CONNECT_OK;
}

static int read_mapping(connect_export *x, const char *file, cx_rule *r, const xml_node *m)
{
  static const char *const known[] = {"dest", "src", "expression", "valueMergeType", NULL};
  cx_flow *f = connect_flow_new(x, r);
  const xml_node *src, *a;

  if (!f)
    return CONNECT_NOMEM;
  f->line = m->line;
  f->dest = child_trim(x, m, "dest");
  f->expression = child_trim(x, m, "expression");
  if (f->expression && !*f->expression)
    f->expression = NULL;
  f->merge = child_trim(x, m, "valueMergeType");
  f->apply_once = is_true(xml_attr_get(m, "execute-once"));
  if ((src = xml_child(m, "src"))) {
    for (a = xml_child(src, "attr"); a; a = xml_next(a, "attr"))
      if (connect_push_str(x, &f->src, &f->n_src, &f->cap_src,
                           connect_strdup(x, a->text, a->text_len)) != CONNECT_OK)
        return CONNECT_NOMEM;
    /* A constant is the text of <src> (as Microsoft's AADConnectConfigDocumenter reads it). */
    if (!f->n_src)
      f->constant = keep(x, src->first ? src->first->text : src->text);
  }
  return unknown_children(x, file, m, known);
}

static int read_rule(connect_export *x, const char *file, const xml_node *root)
{
  static const char *const known[] = {
    "id", "internal-id", "version", "name", "description", "immutable-tag", "direction",
    "disabled", "connector", "sourceObjectType", "targetObjectType", "linkType", "precedence",
    "precedence-after", "precedence-before", "softDeleteExpiryInterval", "EnablePasswordSync",
    "attribute-mappings", "relationshipCriteria", "synchronizationCriteria", NULL};
  cx_rule *r = connect_rule_new(x, file, root->line);
  const xml_node *g, *c, *m;

  if (!r)
    return CONNECT_NOMEM;
  r->id = child_trim(x, root, "id");
  r->name = child_trim(x, root, "name");
  r->description = child_trim(x, root, "description");
  r->immutable_tag = child_trim(x, root, "immutable-tag");
  r->direction = child_trim(x, root, "direction");
  r->disabled = is_true(child_trim(x, root, "disabled"));
  r->connector = child_trim(x, root, "connector");
  r->source_type = child_trim(x, root, "sourceObjectType");
  r->target_type = child_trim(x, root, "targetObjectType");
  r->link = child_trim(x, root, "linkType");
  r->precedence = child_trim(x, root, "precedence");
  r->precedence_after = child_trim(x, root, "precedence-after");
  r->precedence_before = child_trim(x, root, "precedence-before");
  r->soft_delete = child_trim(x, root, "softDeleteExpiryInterval");
  r->password_sync = is_true(child_trim(x, root, "EnablePasswordSync"));
  for (m = xml_child(xml_child(root, "attribute-mappings"), "mapping"); m;
       m = xml_next(m, "mapping"))
    if (read_mapping(x, file, r, m) != CONNECT_OK)
      return CONNECT_NOMEM;
  for (g = xml_child(xml_child(root, "relationshipCriteria"), "conditions"); g;
       g = xml_next(g, "conditions")) {
    cx_join_group *jg = connect_join_group_new(x, r);
    if (!jg)
      return CONNECT_NOMEM;
    for (c = xml_child(g, "condition"); c; c = xml_next(c, "condition"))
      if (connect_join_add(x, jg, child_trim(x, c, "csAttribute"),
                           child_trim(x, c, "ilmAttribute"),
                           is_true(child_trim(x, c, "caseSensitive")), c->line) != CONNECT_OK)
        return CONNECT_NOMEM;
  }
  for (g = xml_child(xml_child(root, "synchronizationCriteria"), "conditions"); g;
       g = xml_next(g, "conditions")) {
    cx_scope_group *sg = connect_scope_group_new(x, r);
    if (!sg)
      return CONNECT_NOMEM;
    for (c = xml_child(g, "scope"); c; c = xml_next(c, "scope")) {
      const xml_node *v = xml_child(c, "csValue");
      if (connect_clause_add(x, sg, child_trim(x, c, "csAttribute"),
                             child_trim(x, c, "csOperator"), keep(x, v ? v->text : NULL),
                             c->line) != CONNECT_OK)
        return CONNECT_NOMEM;
    }
  }
  return unknown_children(x, file, root, known);
}

/* The lowercase GUID of "{AE4DB4CC-...}" (braces optional). */
static const char *guid_key(connect_export *x, const char *s)
{
  char g[64];
  size_t n = 0;
  if (!s)
    return NULL;
  for (; *s && n + 1 < sizeof g; s++)
    if (*s != '{' && *s != '}' && !isspace((unsigned char)*s))
      g[n++] = (char)tolower((unsigned char)*s);
  return connect_strdup(x, g, n);
}

/* Parameters named `Forest.*`, `Domain.*` under parameter-values of n. */
static int read_params(connect_export *x, cx_connector *c, const xml_node *n)
{
  const xml_node *p;
  for (p = xml_child(xml_child(n, "parameter-values"), "parameter"); p;
       p = xml_next(p, "parameter")) {
    const char *name = xml_attr_get(p, "name");
    cx_param *slot;
    if (!name || !p->text_len ||
        (strncmp(name, "Forest.", 7) != 0 && strncmp(name, "Domain.", 7) != 0))
      continue;
    if (!(slot = push(x, &c->params, &c->n_params, &c->cap_params, sizeof *slot)))
      return CONNECT_NOMEM;
    slot->name = keep(x, name);
    slot->value = keep(x, p->text);
  }
  return CONNECT_OK;
}

static const cx_connector *find_connector(const connect_export *x, const char *guid);

static int read_connector(connect_export *x, const char *file, const xml_node *root)
{
  const char *id = guid_key(x, child_trim(x, root, "id"));
  const cx_connector *seen = find_connector(x, id);
  cx_connector *c;
  const xml_node *priv, *adma, *part, *p;
  bool first = true;

  if (!id || !*id)
    return connect_note_add(x, where_at(x, file, root->line), "a connector without <id>: not "
                            "read");
  if (seen)
    return connect_note_add(x, where_at(x, file, root->line), "connector {%s} was read from %s "
                            "already: this copy is not read", id, seen->file);
  if (!(c = push(x, &x->connectors, &x->n_connectors, &x->cap_connectors, sizeof *c)) ||
      !(c->file = connect_strdup(x, file, strlen(file))))
    return CONNECT_NOMEM;
  c->id = id;
  c->name = child_trim(x, root, "name");
  c->category = child_trim(x, root, "category");
  c->subtype = child_trim(x, root, "subtype");
  priv = xml_child(root, "private-configuration");
  if ((adma = xml_child(priv, "adma-configuration"))) {
    c->login_user = child_trim(x, adma, "forest-login-user");
    c->login_domain = child_trim(x, adma, "forest-login-domain");
    if (read_params(x, c, adma) != CONNECT_OK)
      return CONNECT_NOMEM;
  }
  for (p = xml_child(xml_child(xml_child(priv, "MAConfig"), "parameter-values"), "parameter"); p;
       p = xml_next(p, "parameter")) {
    const char *name = xml_attr_get(p, "name");
    if (name && strcmp(name, "UserName") == 0)
      c->login_user = keep(x, p->text);
  }
  for (p = xml_child(xml_child(root, "attribute-inclusion"), "attribute"); p;
       p = xml_next(p, "attribute"))
    c->n_attribute_inclusions++;
  for (part = xml_child(xml_child(root, "ma-partition-data"), "partition"); part;
       part = xml_next(part, "partition")) {
    const xml_node *filter = xml_child(part, "filter"), *containers, *e;
    const char *selected = child_trim(x, part, "selected");
    if (!selected || (strcmp(selected, "1") != 0 && !is_true(selected)))
      continue;
    if (connect_push_str(x, &c->partitions, &c->n_partitions, &c->cap_partitions,
                         child_trim(x, part, "name")) != CONNECT_OK)
      return CONNECT_NOMEM;
    if (!first)
      continue;
    first = false;
    containers = xml_child(filter, "containers");
    for (e = xml_child(xml_child(containers, "inclusions"), "inclusion"); e;
         e = xml_next(e, "inclusion"))
      if (connect_push_str(x, &c->inclusions, &c->n_inclusions, &c->cap_inclusions,
                           keep(x, e->text)) != CONNECT_OK)
        return CONNECT_NOMEM;
    for (e = xml_child(xml_child(containers, "exclusions"), "exclusion"); e;
         e = xml_next(e, "exclusion"))
      if (connect_push_str(x, &c->exclusions, &c->n_exclusions, &c->cap_exclusions,
                           keep(x, e->text)) != CONNECT_OK)
        return CONNECT_NOMEM;
    for (e = xml_child(xml_child(filter, "object-classes"), "object-class"); e;
         e = xml_next(e, "object-class"))
      c->n_object_classes++;
    c->last_dc = child_trim(x, xml_child(xml_child(part, "custom-data"), "adma-partition-data"),
                            "last-dc");
    if (read_params(x, c, part) != CONNECT_OK)
      return CONNECT_NOMEM;
  }
  return CONNECT_OK;
}

static int read_mv(connect_export *x, const char *file, const xml_node *root)
{
  const xml_node *ds = xml_child(xml_child(xml_child(xml_child(root, "mv-data"), "schema"),
                                           "dsml"), "directory-schema");
  const xml_node *n, *a;

  if (x->mv_file)
    return connect_note_add(x, file, "a second metaverse schema is not read (the first came "
                                     "from %s)", x->mv_file);
  if (!(x->mv_file = connect_strdup(x, file, strlen(file))))
    return CONNECT_NOMEM;
  if (!ds)
    return connect_note_add(x, where_at(x, file, root->line),
                            "no mv-data/schema/dsml/directory-schema: no metaverse schema read");
  for (n = ds->first; n; n = n->next) {
    if (xml_is(n, "class")) {
      cx_mv_class *cl = push(x, &x->mv_classes, &x->n_mv_classes, &x->cap_mv_classes,
                             sizeof *cl);
      if (!cl || !(cl->name = child_trim(x, n, "name")))
        return CONNECT_NOMEM;
      for (a = xml_child(n, "attribute"); a; a = xml_next(a, "attribute")) {
        const char *ref = xml_attr_get(a, "ref");
        if (ref && connect_push_str(x, &cl->attrs, &cl->n, &cl->cap,
                                    keep(x, ref[0] == '#' ? ref + 1 : ref)) != CONNECT_OK)
          return CONNECT_NOMEM;
      }
    } else if (xml_is(n, "attribute-type")) {
      cx_mv_attr *at = push(x, &x->mv_attrs, &x->n_mv_attrs, &x->cap_mv_attrs, sizeof *at);
      const char *single = xml_attr_get(n, "single-value");
      if (!at)
        return CONNECT_NOMEM;
      at->name = keep(x, xml_attr_get(n, "id"));
      if (!at->name)
        at->name = child_trim(x, n, "name");
      at->syntax = child_trim(x, n, "syntax");
      at->multi = !is_true(single);
    }
  }
  return CONNECT_OK;
}

int connect_add_xml(connect_export *x, const char *file, const xml_node *root)
{
  if (xml_is(root, "synchronizationRule"))
    return read_rule(x, file, root);
  if (xml_is(root, "ma-data"))
    return read_connector(x, file, root);
  if (xml_is(root, "saved-mv-configuration"))
    return read_mv(x, file, root);
  return connect_note_add(x, where_at(x, file, root->line),
                          "<%s> is not a part of a Connect export mvsync reads (a "
                          "synchronizationRule, an ma-data connector, the "
                          "saved-mv-configuration): not read", root->name);
}

/* ---- writing the rule set ---- */

/* The file being written, and the first error (sticky). */
typedef struct writer {
  connect_export *x;
  buf *b;
  int rc;
} writer;

static void put(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(writer *w, const char *fmt, ...)
{
  va_list ap;
  if (w->rc)
    return;
  va_start(ap, fmt);
  if (buf_vprintf(w->b, fmt, ap) != BUF_OK)
    w->rc = CONNECT_NOMEM;
  va_end(ap);
}

/* Whether s can be a DSL string: no control characters but tab and newline (escaped). */
static bool quotable(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
      return false;
  return true;
}

static void put_quoted(writer *w, const char *s)
{
  put(w, "\"");
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      put(w, "\\%c", *s);
    else if (*s == '\n')
      put(w, "\\n");
    else if (*s == '\t')
      put(w, "\\t");
    else
      put(w, "%c", *s);
  }
  put(w, "\"");
}

/* A comment line of free text: everything on one line. */
static void put_comment(writer *w, int indent, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void put_comment(writer *w, int indent, const char *fmt, ...)
{
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  for (char *c = line; *c; c++)
    if ((unsigned char)*c < 0x20)
      *c = ' ';
  put(w, "%*s# %s\n", indent * 2, "", line);
}

/* A note and the same text as a `# not carried:` comment at the place. */
static void not_carried(writer *w, int indent, const char *where, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static void not_carried(writer *w, int indent, const char *where, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!w->rc && connect_note_add(w->x, where, "%s", msg) != CONNECT_OK)
    w->rc = CONNECT_NOMEM;
  put_comment(w, indent, "not carried: %s", msg);
}

/* An attribute or object-type name the DSL takes as a word: a letter or '_', then letters,
 * digits and _ . : / - (docs/rules.md, Lexical rules). */
static bool dsl_name(const char *s)
{
  if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
    return false;
  for (s++; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("_.:/-", *s))
      return false;
  return true;
}

/* 8-4-4-4-12 hexadecimal digits. */
static bool is_guid(const char *s)
{
  static const int groups[] = {8, 4, 4, 4, 12};
  if (!s)
    return false;
  for (int g = 0; g < 5; g++) {
    for (int k = 0; k < groups[g]; k++, s++)
      if (!isxdigit((unsigned char)*s))
        return false;
    if (*s != (g < 4 ? '-' : '\0'))
      return false;
    if (g < 4)
      s++;
  }
  return true;
}

static const cx_connector *find_connector(const connect_export *x, const char *guid)
{
  for (size_t i = 0; guid && i < x->n_connectors; i++)
    if (x->connectors[i].id && strcmp(x->connectors[i].id, guid) == 0)
      return &x->connectors[i];
  return NULL;
}

/* The connector a rule's reference names: a GUID (Connect's exports) or a name (PowerShell's
 * $c = Get-ADSyncConnector -Name), matched against the connectors read; when none matches,
 * the GUID or the name itself (declared with placeholders then). */
static const cx_connector *ref_connector(connect_export *x, const char *ref)
{
  const cx_connector *c = find_connector(x, guid_key(x, ref));
  for (size_t i = 0; !c && ref && i < x->n_connectors; i++)
    if (x->connectors[i].name && strcasecmp(x->connectors[i].name, ref) == 0)
      c = &x->connectors[i];
  return c;
}

static const char *connector_name(connect_export *x, const char *ref)
{
  const cx_connector *c = ref_connector(x, ref);
  const char *g = guid_key(x, ref);
  return c && c->name && *c->name ? c->name : is_guid(g) ? g : ref;
}

static const char *param_value(const cx_connector *c, const char *name)
{
  for (size_t i = 0; c && i < c->n_params; i++)
    if (strcmp(c->params[i].name, name) == 0)
      return c->params[i].value;
  return NULL;
}

/* Connect's %NAME% parameter as the rule's connector gives it (connectors.rules declares the
 * same values as settings); NULL when not known. */
static const char *rule_param(connect_export *x, const cx_rule *r, const char *name)
{
  const cx_connector *c = ref_connector(x, r->connector);
  const char *g = c ? c->id : guid_key(x, r->connector);
  /* The connector's GUID is known from the rule even when the export does not describe the
   * connector (connectors.rules then declares it with the same Connector.ID). */
  if (strcmp(name, "Connector.ID") == 0 && is_guid(g)) {
    char id[64];
    snprintf(id, sizeof id, "{%s}", g);
    return connect_strdup(x, id, strlen(id));
  }
  if (strcmp(name, "Connector.Name") == 0)
    return c ? c->name : NULL;
  return param_value(c, name);
}

/* Connect's Azure AD connector, which becomes an entra connector (writes through Graph). */
static bool is_aad(const cx_connector *c)
{
  return c && c->subtype && strstr(c->subtype, "Azure Active Directory");
}

/* What Graph refuses of an outbound rule to the Azure AD connector, as `rules check` refuses
 * it (schema/aad_map.h): the rule's object type (attr NULL) or a flow's target attribute.
 * The reason goes to why; false when Graph takes it. */
static bool graph_refuses(connect_export *x, const cx_rule *r, const char *attr, char *why,
                          size_t cap)
{
  const char *reason, *graph;
  aad_fate fate;

  if (!r->direction || strcasecmp(r->direction, "Outbound") != 0 || !r->target_type ||
      !is_aad(ref_connector(x, r->connector)))
    return false;
  if (!aad_type_writable(r->target_type, &reason)) {
    /* The rule is refused whole: its flows are not reported one by one. */
    if (attr)
      return false;
    snprintf(why, cap, "Graph does not create '%s' objects: %s", r->target_type, reason);
    return true;
  }
  if (!attr)
    return false;
  fate = aad_attr_fate(r->target_type, attr, &graph, &reason);
  if (fate == AAD_UNUSED || fate == AAD_MAPPED)
    return false;
  snprintf(why, cap, "Entra %ss: %s (%s)", r->target_type, aad_fate_name(fate), reason);
  return true;
}

/* A note and a `# carried changed:` comment: what the rule set carries differently, and why. */
static void carried_changed(writer *w, int indent, const char *where, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static void carried_changed(writer *w, int indent, const char *where, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!w->rc && connect_note_add(w->x, where, "%s", msg) != CONNECT_OK)
    w->rc = CONNECT_NOMEM;
  if (!w->rc)
    w->x->notes[w->x->n_notes - 1].changed = true;
  put_comment(w, indent, "carried changed: %s", msg);
}

/* Whether r is an outbound rule to the Azure AD connector of objects Graph creates (a rule
 * of other objects is kept as a comment whole: graph_refuses). */
static bool to_aad(connect_export *x, const cx_rule *r)
{
  const char *why;
  return r->direction && strcasecmp(r->direction, "Outbound") == 0 && r->target_type &&
         is_aad(ref_connector(x, r->connector)) && aad_type_writable(r->target_type, &why);
}

static const char *canonical_op(const char *op)
{
  if (!op)
    return NULL;
  if (strcasecmp(op, "ISBITNOTSET") == 0)
    return scope_op_name(SCOPE_ISNOTBITSET);
  for (int k = 0; k < SCOPE_OP_COUNT; k++)
    if (strcasecmp(op, scope_op_name((scope_op)k)) == 0)
      return scope_op_name((scope_op)k);
  return NULL;
}

static bool all_digits(const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s))
      return false;
  return true;
}

/* Whether `text` reads as rule-file text without errors; else the first message in why.  The
 * writer's last guard: a piece it cannot vouch for becomes a note, never a broken file. */
static bool dsl_reads(const char *text, size_t len, char *why, size_t cap)
{
  rule_set *rs = rule_set_new();
  rule_diags d;
  bool ok = false;

  rule_diags_init(&d);
  if (rs) {
    ok = rule_set_parse(rs, "import", text, len, &d) == RULE_OK;
    snprintf(why, cap, "%s", ok ? "" : d.n ? d.items[0].message : "out of memory");
  }
  rule_diags_free(&d);
  rule_set_free(rs);
  return ok;
}

/* Whether one line of a rule's body (a field or a flow) reads, tried inside a rule of its own. */
static bool rule_line_reads(const char *line, char *why, size_t cap)
{
  buf t;
  bool ok;
  buf_init(&t, 0);
  ok = buf_printf(&t, "rule \"t\" {\n%s}\n", line) == BUF_OK && dsl_reads(t.p, t.len, why, cap);
  buf_free(&t);
  return ok;
}

/* One scope clause; false when it cannot be carried (the rule is then disabled). */
static bool put_clause(writer *w, const cx_rule *r, const cx_clause *c, const char *joiner)
{
  const char *op = canonical_op(c->op), *value = c->value ? c->value : "";
  const char *where = where_at(w->x, r->file, c->line);
  size_t n = strlen(value);

  if (!dsl_name(c->attr) || !op) {
    not_carried(w, 2, where, "scope clause '%s %s %s' of rule \"%s\": %s", c->attr ? c->attr : "",
                c->op ? c->op : "", value, r->name,
                !op ? "an operator mvsync does not know" : "not an attribute name");
    return false;
  }
  /* %Connector.ID% and the like: Connect reads the rule's connector's value; mvsync's scope
   * compares text, so the value is written in. */
  if (n > 2 && value[0] == '%' && value[n - 1] == '%') {
    char name[256];
    const char *v;
    snprintf(name, sizeof name, "%.*s", (int)(n - 2), value + 1);
    if (!(v = rule_param(w->x, r, name))) {
      not_carried(w, 2, where, "scope clause '%s %s %s' of rule \"%s\": the parameter %s has no "
                  "value in the export", c->attr, op, value, r->name, value);
      return false;
    }
    put_comment(w, 2, "Connect: %s %s %s (the parameter's value for this connector)", c->attr, op,
                value);
    value = v;
  }
  if (!quotable(value)) {
    not_carried(w, 2, where, "scope clause of rule \"%s\" on '%s': its value holds control "
                "characters", r->name, c->attr);
    return false;
  }
  put(w, "    %s%s %s", joiner, c->attr, op);
  if (strcmp(op, "ISNULL") == 0 || strcmp(op, "ISNOTNULL") == 0) {
    put(w, "\n");
  } else if (strcmp(op, "ISIN") == 0 || strcmp(op, "ISNOTIN") == 0) {
    put(w, " (");
    put_quoted(w, value);
    put(w, ")\n");
  } else if ((strcmp(op, "ISBITSET") == 0 || strcmp(op, "ISNOTBITSET") == 0) &&
             all_digits(value)) {
    put(w, " %s\n", value);
  } else {
    put(w, " ");
    put_quoted(w, value);
    put(w, "\n");
  }
  return true;
}

/* The expression text on one line: line breaks and tabs outside string literals become
 * spaces (the DSL's flow expression is one line unless inside parentheses). */
static const char *one_line(connect_export *x, const char *e)
{
  size_t n = strlen(e);
  char *s = (char *)connect_strdup(x, e, n);
  bool in_str = false;
  if (!s)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"')
      in_str = !in_str;
    else if (!in_str && (s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
      s[i] = ' ';
  }
  return s;
}

static const char *merge_option(const char *m)
{
  if (!m || !*m || strcasecmp(m, "Update") == 0 || strcasecmp(m, "Replace") == 0)
    return "";
  if (strcasecmp(m, "Merge") == 0)
    return " merge merge";
  if (strcasecmp(m, "MergeCaseInsensitive") == 0)
    return " merge mergecaseinsensitive";
  return NULL;
}

/* One flow's line; a note and a comment when it cannot be carried. */
static void flow_line(writer *w, const cx_rule *r, const cx_flow *f, size_t index)
{
  const char *where = where_at(w->x, r->file, f->line), *merge = merge_option(f->merge);
  const char *type = f->type;
  const char *dest = f->dest ? f->dest : "";
  char opts[64];
  bool dn_once;

  for (size_t k = 0; k < index; k++)
    if (r->flows[k].dest && strcmp(r->flows[k].dest, dest) == 0) {
      not_carried(w, 1, where, "flow to '%s' of rule \"%s\": the rule already flows to it (an "
                  "mvsync rule gives an attribute one flow)", dest, r->name);
      return;
    }
  if (!dsl_name(dest)) {
    not_carried(w, 1, where, "flow to '%s' of rule \"%s\": not an attribute name", dest,
                r->name);
    return;
  }
  if (!merge) {
    not_carried(w, 1, where, "flow to '%s' of rule \"%s\": unknown ValueMergeType '%s'", dest,
                r->name, f->merge);
    return;
  }
  /* Graph objects have no DN (docs/entra-mapping.md): a flow to dn only names the object
   * while it is created (the display key until Graph gives an id), as `rules check` requires
   * of an entra connector; every later sync would otherwise ask for a rename. */
  dn_once = !f->apply_once && strcasecmp(dest, "dn") == 0 && to_aad(w->x, r);
  if (dn_once)
    carried_changed(w, 1, where, "flow to 'dn' of rule \"%s\": made apply-once: Graph objects "
                    "have no DN, the value only names the object while it is created", r->name);
  snprintf(opts, sizeof opts, "%s%s", merge, f->apply_once || dn_once ? " apply-once" : "");
  if (!type)
    type = f->expression ? "Expression" : f->n_src ? "Direct" : "Constant";
  if (strcasecmp(type, "Expression") == 0) {
    const char *text = f->expression ? one_line(w->x, f->expression) : NULL;
    expr *e = NULL;
    expr_error err;
    if (!text || !*text) {
      not_carried(w, 1, where, "flow to '%s' of rule \"%s\": an Expression flow without an "
                  "expression", dest, r->name);
      return;
    }
    if (expr_parse(text, strlen(text), EXPR_CONNECT, &e, &err) != EXPR_OK) {
      not_carried(w, 1, where, "flow %s -> %s of rule \"%s\": %s", text, dest, r->name,
                  err.msg);
      return;
    }
    expr_free(e);
    put(w, "  flow %s -> %s%s\n", text, dest, opts);
  } else if (strcasecmp(type, "Direct") == 0) {
    if (f->n_src != 1 || !dsl_name(f->src[0])) {
      not_carried(w, 1, where, "flow to '%s' of rule \"%s\": a Direct flow needs one source "
                  "attribute, it has %zu", dest, r->name, f->n_src);
      return;
    }
    if (aad_computed(dest) && to_aad(w->x, r)) {
      /* Entra computes what Graph requires when the sync sends none, and keeps it when the
       * on-premises value goes (schema/aad_map.h, aad_computed): no value leaves it alone. */
      carried_changed(w, 1, where, "flow [%s] -> %s of rule \"%s\": no value leaves Entra's "
                      "alone (IgnoreThisFlow): %s", f->src[0], dest, r->name,
                      aad_computed(dest));
      put(w, "  flow IIF(IsPresent([%s]), [%s], IgnoreThisFlow) -> %s%s\n", f->src[0],
          f->src[0], dest, opts);
    } else {
      put(w, "  flow [%s] -> %s%s\n", f->src[0], dest, opts);
    }
  } else if (strcasecmp(type, "Constant") == 0) {
    const char *v = f->constant ? f->constant : "";
    if (!quotable(v)) {
      not_carried(w, 1, where, "constant flow to '%s' of rule \"%s\": the value holds control "
                  "characters", dest, r->name);
      return;
    }
    put(w, "  flow constant ");
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0)
      put(w, "%s", strcasecmp(v, "true") == 0 ? "true" : "false");
    else
      put_quoted(w, v);
    put(w, " -> %s%s\n", dest, opts);
  } else {
    not_carried(w, 1, where, "flow to '%s' of rule \"%s\": unknown FlowType '%s'", dest, r->name,
                type);
  }
}

/* One flow, written only when its line reads back (a value or expression text the checks
 * above let through, like a line break inside an expression's string, is a note instead). */
static void put_flow(writer *w, const cx_rule *r, const cx_flow *f, size_t index)
{
  buf line, *rule_text = w->b;
  char why[300];

  buf_init(&line, 0);
  w->b = &line;
  flow_line(w, r, f, index);
  w->b = rule_text;
  if (line.len && strncmp(line.p, "  flow ", 7) == 0 && !rule_line_reads(line.p, why, sizeof why))
    not_carried(w, 1, where_at(w->x, r->file, f->line), "flow to '%s' of rule \"%s\": mvsync "
                "cannot read the line written for it (%s)", f->dest ? f->dest : "", r->name, why);
  else if (line.len && strncmp(line.p, "  flow ", 7) == 0 &&
           graph_refuses(w->x, r, f->dest, why, sizeof why)) {
    /* Kept as a comment where it was, so whoever makes Graph take it finds the flow. */
    not_carried(w, 1, where_at(w->x, r->file, f->line), "flow to '%s' of rule \"%s\": Graph "
                "refuses it on %s", f->dest, r->name, why);
    line.p[line.len - 1] = '\0';
    put_comment(w, 1, "%s", line.p + 2);
  } else if (line.len)
    put(w, "%s", line.p);     /* the flow, or the comments of why it is not carried */
  buf_free(&line);
}

static const char *link_name(const char *l)
{
  static const char *const links[] = {"Join", "StickyJoin", "Provision", "JoinNoFlow"};
  for (size_t k = 0; l && k < sizeof links / sizeof links[0]; k++)
    if (strcasecmp(l, links[k]) == 0)
      return links[k];
  return NULL;
}

/* "hh:mm:ss", "d.hh:mm:ss" or seconds, not zero; NULL for none. */
static const char *soft_delete(const char *s)
{
  if (!s || !*s || strcmp(s, "0") == 0 || strcmp(s, "00:00:00") == 0)
    return NULL;
  return s;
}

/* Why a rule cannot be written at all, or NULL. */
static const char *rule_unwritable(const cx_rule *r)
{
  if (!r->name || !*r->name || !quotable(r->name))
    return "it has no usable name";
  if (!r->direction || (strcasecmp(r->direction, "Inbound") && strcasecmp(r->direction, "Outbound")))
    return "its direction is neither Inbound nor Outbound";
  if (!r->connector || !*r->connector)
    return "it names no connector";
  if (!link_name(r->link))
    return "its link type is not Join, StickyJoin, Provision or JoinNoFlow";
  if (!dsl_name(r->source_type) ||
      !(dsl_name(r->target_type) || (r->target_type && strcmp(r->target_type, "*") == 0)))
    return "its object types are not names";
  if (!r->precedence || !all_digits(r->precedence) || strlen(r->precedence) > 10 ||
      strtoll(r->precedence, NULL, 10) > 2147483647LL)
    return "its precedence is not a number from 0 to 2147483647";
  return NULL;
}

/* A scope or join block whose lines were written into `lines`: the block when it has a
 * clause (an empty block is not valid), else only the comments of what was lost. */
static void put_block(writer *w, const char *keyword, const buf *lines, bool any)
{
  if (any)
    put(w, "  %s {\n", keyword);
  if (lines->len)
    put(w, "%s", lines->p);
  if (any)
    put(w, "  }\n");
}

static void rule_text(writer *w, const cx_rule *r)
{
  const char *why = rule_unwritable(r), *where = where_at(w->x, r->file, r->line);
  const char *id = guid_key(w->x, r->id);
  bool disable = false;
  size_t g, k;

  if (why) {
    not_carried(w, 0, where, "rule \"%s\": %s", r->name ? r->name : "", why);
    put(w, "\n");
    return;
  }
  put(w, "rule ");
  put_quoted(w, r->name);
  put(w, " {\n");
  if (is_guid(id))
    put(w, "  id %s\n", id);
  else if (r->id)
    not_carried(w, 1, where, "the identifier '%s' of rule \"%s\" is not a GUID", r->id, r->name);
  if (r->description && *r->description && quotable(r->description)) {
    put(w, "  description ");
    put_quoted(w, r->description);
    put(w, "\n");
  }
  put(w, "  direction %s\n", strcasecmp(r->direction, "Inbound") == 0 ? "inbound" : "outbound");
  put(w, "  connector ");
  put_quoted(w, connector_name(w->x, r->connector));
  put(w, "\n  source %s -> %s\n", r->source_type, r->target_type);
  put(w, "  link %s\n", link_name(r->link));
  put(w, "  precedence %s\n", r->precedence);
  if (is_guid(guid_key(w->x, r->precedence_before)))
    put(w, "  precedence-before %s\n", guid_key(w->x, r->precedence_before));
  if (is_guid(guid_key(w->x, r->precedence_after)))
    put(w, "  precedence-after %s\n", guid_key(w->x, r->precedence_after));
  if (r->immutable_tag && *r->immutable_tag && quotable(r->immutable_tag)) {
    put(w, "  immutable-tag ");
    put_quoted(w, r->immutable_tag);
    put(w, "\n");
  }
  if (soft_delete(r->soft_delete)) {
    char line[512], problem[300] = "control characters";
    snprintf(line, sizeof line, "  soft-delete %s\n", soft_delete(r->soft_delete));
    if (quotable(line) && rule_line_reads(line, problem, sizeof problem))
      put(w, "%s", line);
    else
      not_carried(w, 1, where, "the soft-delete interval '%s' of rule \"%s\": %s",
                  soft_delete(r->soft_delete), r->name, problem);
  }
  if (r->password_sync)
    put(w, "  enable-password-sync\n");
  if (r->n_scope || r->n_join) {
    buf block;
    buf *rule_text = w->b;
    bool any = false;
    buf_init(&block, 0);
    w->b = &block;
    for (g = 0; g < r->n_scope; g++) {
      bool first = true;
      for (k = 0; k < r->scope[g].n; k++) {
        const char *joiner = !any ? "" : first ? "or " : "and ";
        if (put_clause(w, r, &r->scope[g].clauses[k], joiner))
          first = false, any = true;
        else
          disable = true;
      }
    }
    w->b = rule_text;
    put_block(w, "scope", &block, any);
    buf_reset(&block);
    w->b = &block;
    any = false;
    for (g = 0; g < r->n_join; g++)
      for (k = 0; k < r->join[g].n; k++) {
        const cx_join_cond *c = &r->join[g].conds[k];
        if (!dsl_name(c->cs) || !dsl_name(c->mv)) {
          not_carried(w, 2, where_at(w->x, r->file, c->line), "join condition '%s = %s' of rule "
                      "\"%s\": not attribute names", c->cs ? c->cs : "", c->mv ? c->mv : "",
                      r->name);
          disable = true;
          continue;
        }
        put(w, "    %s%s = %s%s\n", !any ? "" : k ? "and " : "or ", c->cs, c->mv,
            c->case_sensitive ? " case-sensitive" : "");
        any = true;
      }
    w->b = rule_text;
    put_block(w, "join", &block, any);
    buf_free(&block);
  }
  if (disable && !r->disabled)
    not_carried(w, 1, where, "rule \"%s\" is disabled: a scope clause or join condition of it "
                "could not be carried, and without it the rule would reach other objects",
                r->name);
  if (disable || r->disabled)
    put(w, "  disabled\n");
  for (k = 0; k < r->n_flows; k++)
    put_flow(w, r, &r->flows[k], k);
  put(w, "}\n\n");
}

/* A rule, written only when its text reads back; otherwise kept as comment lines under a
 * note, so a file is never broken by what a check above missed. */
static void put_rule(writer *w, const cx_rule *r)
{
  buf text, *file_text = w->b;
  char why[300];
  bool refused = false;

  buf_init(&text, 0);
  w->b = &text;
  rule_text(w, r);
  w->b = file_text;
  if (w->rc == CONNECT_OK && text.len &&
      ((refused = graph_refuses(w->x, r, NULL, why, sizeof why)) ||
       !dsl_reads(text.p, text.len, why, sizeof why))) {
    if (refused)
      not_carried(w, 0, where_at(w->x, r->file, r->line), "rule \"%s\": %s; kept as a comment",
                  r->name, why);
    else
      not_carried(w, 0, where_at(w->x, r->file, r->line), "rule \"%s\": mvsync cannot read the "
                  "text written for it (%s); kept as a comment", r->name ? r->name : "", why);
    for (char *line = text.p, *end; line && *line; line = end ? end + 1 : NULL) {
      if ((end = strchr(line, '\n')))
        *end = '\0';
      put_comment(w, 0, "%s", line);
    }
    put(w, "\n");
  } else if (text.len) {
    put(w, "%s", text.p);
  }
  buf_free(&text);
}

/* ---- files ---- */

/* The name part for a connector's files: lowercase letters, digits and dots; others '-'. */
static void slug(char *out, size_t cap, const char *s, bool upper)
{
  size_t n = 0;
  for (; *s && n + 1 < cap; s++) {
    char c = *s;
    if (isalnum((unsigned char)c) || (!upper && c == '.'))
      out[n++] = (char)(upper ? toupper((unsigned char)c) : tolower((unsigned char)c));
    else if (n && out[n - 1] != (upper ? '_' : '-'))
      out[n++] = upper ? '_' : '-';
  }
  while (n && (out[n - 1] == '-' || out[n - 1] == '_'))
    n--;
  out[n] = '\0';
}

/* Run generated text through the DSL parser and formatter: the file written is `rules fmt`
 * output.  Text that does not parse (a bug here, or input this writer failed to judge) is
 * written as generated, with a note. */
static int add_file(connect_export *x, const char *name, const buf *text)
{
  connect_file *f = push(x, &x->files, &x->n_files, &x->cap_files, sizeof *f);
  rule_set *rs = rule_set_new();
  rule_diags d;
  buf out;
  int rc = CONNECT_NOMEM;

  rule_diags_init(&d);
  buf_init(&out, 0);
  if (!f || !rs || !(f->name = connect_strdup(x, name, strlen(name))))
    goto out;
  switch (rule_set_parse(rs, name, text->p ? text->p : "", text->len, &d)) {
  case RULE_OK:
    if (rule_fmt_file(rs, 0, &out) != RULE_OK)
      goto out;
    break;
  case RULE_INVALID:
    if (connect_note_add(x, name, "mvsync could not read the text written for it (%s:%u:%u: %s); "
                         "written unformatted", d.items[0].file, d.items[0].line, d.items[0].col,
                         d.items[0].message) != CONNECT_OK ||
        buf_add(&out, text->p, text->len) != BUF_OK)
      goto out;
    break;
  default:
    goto out;
  }
  if (!(f->text = connect_strdup(x, out.len ? out.p : "", out.len)))
    goto out;
  f->len = out.len;
  rc = CONNECT_OK;
out:
  buf_free(&out);
  rule_diags_free(&d);
  rule_set_free(rs);
  return rc;
}

static const char *mv_syntax(const char *oid)
{
  static const struct { const char *oid, *syntax; } map[] = {
    {"1.3.6.1.4.1.1466.115.121.1.15", "string"},  {"1.3.6.1.4.1.1466.115.121.1.27", "integer"},
    {"1.3.6.1.4.1.1466.115.121.1.7", "boolean"},  {"1.3.6.1.4.1.1466.115.121.1.5", "binary"},
    {"1.3.6.1.4.1.1466.115.121.1.12", "reference"}, {"1.3.6.1.4.1.1466.115.121.1.24", "datetime"},
  };
  for (size_t k = 0; oid && k < sizeof map / sizeof map[0]; k++)
    if (strcmp(oid, map[k].oid) == 0)
      return map[k].syntax;
  return NULL;
}

static const cx_mv_attr *mv_attr(const connect_export *x, const char *name)
{
  for (size_t i = 0; i < x->n_mv_attrs; i++)
    if (x->mv_attrs[i].name && strcmp(x->mv_attrs[i].name, name) == 0)
      return &x->mv_attrs[i];
  return NULL;
}

static int write_metaverse(connect_export *x)
{
  buf b;
  writer w = {x, &b, CONNECT_OK};

  if (!x->n_mv_classes)
    return CONNECT_OK;
  buf_init(&b, 0);
  put_comment(&w, 0, "The metaverse schema of the Connect export (%s): its object types and",
              x->mv_file);
  put_comment(&w, 0, "their attributes, which rules check names against.");
  put(&w, "metaverse {\n");
  for (size_t i = 0; i < x->n_mv_classes; i++) {
    const cx_mv_class *c = &x->mv_classes[i];
    if (!dsl_name(c->name)) {
      not_carried(&w, 1, x->mv_file, "metaverse object type '%s': not a name", c->name);
      continue;
    }
    put(&w, "  object %s {\n", c->name);
    for (size_t k = 0; k < c->n; k++) {
      const cx_mv_attr *a = mv_attr(x, c->attrs[k]);
      const char *syn = a ? mv_syntax(a->syntax) : NULL;
      if (!a || !syn || !dsl_name(a->name)) {
        not_carried(&w, 2, x->mv_file, "attribute '%s' of metaverse object type %s: %s",
                    c->attrs[k], c->name, !a ? "the schema does not define it"
                    : !syn ? "its syntax is not one mvsync has" : "not a name");
        continue;
      }
      put(&w, "    attribute %s %s%s\n", a->name, syn, a->multi ? " multi" : "");
    }
    put(&w, "  }\n");
  }
  put(&w, "}\n");
  if (w.rc == CONNECT_OK)
    w.rc = add_file(x, "metaverse.rules", &b);
  buf_free(&b);
  return w.rc;
}

static void put_setting(writer *w, const char *key, const char *value)
{
  if (!value || !quotable(value))
    return;
  put(w, "  %s ", key);
  put_quoted(w, value);
  put(w, "\n");
}

/* DC=contoso,DC=com under which `dn` lies (or equal), ignoring case. */
static bool dn_under(const char *dn, const char *base)
{
  size_t n = strlen(dn), m = strlen(base);
  return n >= m && strcasecmp(dn + n - m, base) == 0 && (n == m || dn[n - m - 1] == ',');
}

static void put_ad_connector(writer *w, const cx_connector *c, const char *env)
{
  const char *forest = param_value(c, "Forest.FQDN");
  const char *base = c->n_partitions ? c->partitions[0] : NULL;
  char bind[1024];
  buf containers;

  put_comment(w, 1, "placeholder: an LDAPS address of a domain controller%s%s%s",
              c->last_dc ? " (Connect last used " : "", c->last_dc ? c->last_dc : "",
              c->last_dc ? ")" : "");
  put(w, "  url \"ldaps://%s\"\n", forest && quotable(forest) ? forest : "dc.example.invalid");
  if (c->login_user && base) {
    put_comment(w, 1, "placeholder: the DN of Connect's account %s\\%s",
                c->login_domain ? c->login_domain : "", c->login_user);
    snprintf(bind, sizeof bind, "CN=%s,CN=Users,%s", c->login_user, base);
    put_setting(w, "bind-dn", bind);
  }
  put(w, "  password env:MVSYNC_%s_PASSWORD\n", env);
  put_setting(w, "base", base);
  buf_init(&containers, 0);
  for (size_t i = 0; i < c->n_inclusions; i++) {
    if (base && strcasecmp(c->inclusions[i], base) == 0)
      continue;
    if ((containers.len && buf_addc(&containers, '|') != BUF_OK) ||
        buf_adds(&containers, c->inclusions[i]) != BUF_OK)
      w->rc = CONNECT_NOMEM;
  }
  if (containers.len)
    put_setting(w, "containers", containers.p);
  buf_free(&containers);
  for (size_t i = 0; i < c->n_exclusions; i++)
    for (size_t k = 0; k < c->n_inclusions; k++)
      if (dn_under(c->exclusions[i], c->inclusions[k]) &&
          strcasecmp(c->exclusions[i], c->inclusions[k]) != 0) {
        not_carried(w, 1, c->file, "connector \"%s\": the excluded container %s lies inside "
                    "the included %s; mvsync's containers setting has no exclusions, so its "
                    "objects are imported", c->name, c->exclusions[i], c->inclusions[k]);
        break;
      }
  for (size_t i = 1; i < c->n_partitions; i++)
    not_carried(w, 1, c->file, "connector \"%s\": partition %s is selected too; an ad "
                "connector reads one naming context: declare another connector for it",
                c->name, c->partitions[i]);
}

static void put_connector(writer *w, const cx_connector *c)
{
  char env[256];
  bool ad = c->category && strcasecmp(c->category, "AD") == 0;
  bool aad = is_aad(c);

  slug(env, sizeof env, c->name, true);
  put_comment(w, 0, "Connect connector {%s} (%s%s%s), %s", c->id, c->category ? c->category : "",
              c->subtype && *c->subtype ? ": " : "", c->subtype ? c->subtype : "", c->file);
  if (c->n_object_classes || c->n_attribute_inclusions)
    put_comment(w, 0, "Connect imported %zu object classes and %zu attributes; mvsync asks for "
                "what the rules use", c->n_object_classes, c->n_attribute_inclusions);
  put(w, "connector ");
  put_quoted(w, c->name);
  put(w, " type %s {\n", ad ? "ad" : aad ? "entra" : "ldap");
  if (ad) {
    put_ad_connector(w, c, env);
  } else if (aad) {
    const char *at = c->login_user ? strchr(c->login_user, '@') : NULL;
    put_setting(w, "tenant", at ? at + 1 : "placeholder.onmicrosoft.com");
    put_comment(w, 1, "placeholder: the application (client) id of an app registration with "
                "Graph permissions");
    put(w, "  client-id \"00000000-0000-0000-0000-000000000000\"\n");
    put(w, "  client-secret env:MVSYNC_%s_CLIENT_SECRET\n", env);
  } else {
    not_carried(w, 1, c->file, "connector \"%s\" is of type %s%s%s, which mvsync has not: "
                "declared as ldap with placeholders", c->name, c->category ? c->category : "?",
                c->subtype && *c->subtype ? "/" : "", c->subtype ? c->subtype : "");
    put(w, "  url \"ldaps://placeholder.example.invalid\"\n");
    put(w, "  base \"DC=example,DC=invalid\"\n");
    put(w, "  password env:MVSYNC_%s_PASSWORD\n", env);
  }
  put(w, "  Connector.ID \"{%s}\"\n", c->id);
  for (size_t i = 0; i < c->n_params; i++)
    put_setting(w, c->params[i].name, c->params[i].value);
  put(w, "}\n\n");
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int write_connectors(connect_export *x)
{
  buf b;
  writer w = {x, &b, CONNECT_OK};
  const char **unknown = NULL;
  size_t n_unknown = 0, cap_unknown = 0;

  buf_init(&b, 0);
  put_comment(&w, 0, "The connectors of the Connect export, named as Connect named them. Server "
              "names and");
  put_comment(&w, 0, "accounts marked placeholder are yours to fill in; secrets are read from "
              "the environment");
  put_comment(&w, 0, "(env:) or a file (file:), never written here. Connect's %%Forest.*%%, "
              "%%Domain.*%% and");
  put_comment(&w, 0, "%%Connector.ID%% parameters are the settings of the same names.");
  put(&w, "\n");
  for (size_t i = 0; i < x->n_connectors; i++)
    if (x->connectors[i].id && x->connectors[i].name && *x->connectors[i].name)
      put_connector(&w, &x->connectors[i]);
  /* Rules of connectors the export does not describe: one declaration each. */
  for (size_t i = 0; i < x->n_rules; i++) {
    const char *name = x->rules[i].connector;
    size_t k;
    if (!name || !*name || ref_connector(x, name))
      continue;
    name = connector_name(x, name);
    for (k = 0; k < n_unknown && strcmp(unknown[k], name) != 0; k++)
      ;
    if (k == n_unknown && connect_push_str(x, &unknown, &n_unknown, &cap_unknown, name))
      w.rc = CONNECT_NOMEM;
  }
  if (n_unknown)
    qsort(unknown, n_unknown, sizeof *unknown, cmp_str);
  for (size_t k = 0; k < n_unknown && !w.rc; k++) {
    char env[256];
    slug(env, sizeof env, unknown[k], true);
    not_carried(&w, 0, unknown[k], "connector %s: the export does not describe it (give "
                "--connectors DIR); declared as type ldap with placeholders", unknown[k]);
    put(&w, "connector ");
    put_quoted(&w, unknown[k]);
    put(&w, " type ldap {\n  url \"ldaps://placeholder.example.invalid\"\n"
        "  base \"DC=example,DC=invalid\"\n  password env:MVSYNC_%s_PASSWORD\n", env);
    if (is_guid(unknown[k]))
      put(&w, "  Connector.ID \"{%s}\"\n", unknown[k]);
    put(&w, "}\n\n");
  }
  if (w.rc == CONNECT_OK)
    w.rc = add_file(x, "connectors.rules", &b);
  buf_free(&b);
  return w.rc;
}

/* A rule's output file: connector, direction and metaverse object type. */
static void rule_file_name(connect_export *x, const cx_rule *r, char *out, size_t cap)
{
  char c[256];
  bool in = r->direction && strcasecmp(r->direction, "Inbound") == 0;
  const char *mv = in ? r->target_type : r->source_type;
  slug(c, sizeof c, connector_name(x, r->connector ? r->connector : ""), false);
  snprintf(out, cap, "%s.%s.%s.rules", *c ? c : "unknown", in ? "in" : "out",
           !mv || strcmp(mv, "*") == 0 ? "any" : mv);
}

typedef struct rule_slot {
  const cx_rule *r;
  char file[512];
  long precedence;
} rule_slot;

static int cmp_slot(const void *pa, const void *pb)
{
  const rule_slot *a = pa, *b = pb;
  int c = strcmp(a->file, b->file);
  if (c)
    return c;
  if (a->precedence != b->precedence)
    return a->precedence < b->precedence ? -1 : 1;
  c = strcmp(a->r->name ? a->r->name : "", b->r->name ? b->r->name : "");
  return c ? c : strcmp(a->r->file, b->r->file);
}

static int write_rules(connect_export *x)
{
  rule_slot *slots = x->n_rules ? calloc(x->n_rules, sizeof *slots) : NULL;
  buf b;
  writer w = {x, &b, CONNECT_OK};
  size_t i = 0;

  if (x->n_rules && !slots)
    return CONNECT_NOMEM;
  buf_init(&b, 0);
  for (i = 0; i < x->n_rules; i++) {
    slots[i].r = &x->rules[i];
    rule_file_name(x, &x->rules[i], slots[i].file, sizeof slots[i].file);
    slots[i].precedence = x->rules[i].precedence ? strtol(x->rules[i].precedence, NULL, 10) : 0;
  }
  if (x->n_rules)
    qsort(slots, x->n_rules, sizeof *slots, cmp_slot);
  for (i = 0; i < x->n_rules && w.rc == CONNECT_OK;) {
    const cx_rule *r = slots[i].r;
    bool in = r->direction && strcasecmp(r->direction, "Inbound") == 0;
    size_t j;
    buf_reset(&b);
    put_comment(&w, 0, "%s rules of connector \"%s\" %s metaverse %s, in precedence order "
                "(imported", in ? "Inbound" : "Outbound",
                connector_name(x, r->connector ? r->connector : ""), in ? "into" : "from",
                in ? (r->target_type && strcmp(r->target_type, "*") == 0 ? "objects of any type"
                                                                         : r->target_type)
                   : r->source_type);
    put_comment(&w, 0, "from Connect: id, immutable-tag and precedence are Connect's own).");
    put(&w, "\n");
    for (j = i; j < x->n_rules && strcmp(slots[j].file, slots[i].file) == 0; j++)
      put_rule(&w, slots[j].r);
    if (w.rc == CONNECT_OK)
      w.rc = add_file(x, slots[i].file, &b);
    i = j;
  }
  buf_free(&b);
  free(slots);
  return w.rc;
}

static int cmp_file(const void *a, const void *b)
{
  return strcmp(((const connect_file *)a)->name, ((const connect_file *)b)->name);
}

int connect_export_write(connect_export *x)
{
  int rc;
  if ((rc = write_connectors(x)) != CONNECT_OK || (rc = write_metaverse(x)) != CONNECT_OK ||
      (rc = write_rules(x)) != CONNECT_OK)
    return rc;
  if (x->n_files)
    qsort(x->files, x->n_files, sizeof *x->files, cmp_file);
  return CONNECT_OK;
}
