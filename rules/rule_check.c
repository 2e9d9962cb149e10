/* rule_check — semantic checks over a whole rule set (all files): what a parser of one file
 * cannot see.  Every diagnostic carries the position of the node at fault. See ruleset.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/dsl_int.h"
#include "schema/aad_map.h"

typedef struct checker {
  const rule_set *rs;
  rule_diags *d;
  bool nomem;
} checker;

static void report(checker *c, rule_pos pos, rule_severity sev, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static void report(checker *c, rule_pos pos, rule_severity sev, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (rule_diag_vadd(c->d, pos, sev, fmt, ap) != 0)
    c->nomem = true;
  va_end(ap);
}

/* ---- declared attributes ---- */

/* The attributes one side of a rule may name, when that side declares any. */
typedef struct schema {
  const rule_attr_decl *attrs;
  size_t n;
  char owner[160];   /* connector "contoso.com" / metaverse object type 'group' */
  const rule_connector *catalog_of; /* declares nothing: check against a catalog */
  bool has_dn;                      /* a connector: Connect's pseudo-attribute dn is known */
  rule_connector_type catalog;      /* ... of this connector type */
} schema;

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The catalog a connector's names are checked against: its type's, or for a file connector
 * the type its shape imitates (the `shape` setting, else the snapshot's extension, as the
 * file connector decides: .ldif is ad, .json entra).  False when there is none. */
static bool catalog_type(const rule_connector *conn, rule_connector_type *t)
{
  const char *shape = NULL, *path = NULL;
  size_t i;

  *t = conn->type;
  if (conn->type != RULE_CONN_FILE)
    return rule_catalog_exists(conn->type);
  for (i = 0; i < conn->n_settings; i++) {
    if (strcmp(conn->settings[i].key, "shape") == 0)
      shape = conn->settings[i].value.text;
    else if (strcmp(conn->settings[i].key, "path") == 0)
      path = conn->settings[i].value.text;
  }
  if (shape ? strcasecmp(shape, "ad") == 0 : path && ends_with(path, ".ldif"))
    *t = RULE_CONN_AD;
  else if (shape ? strcasecmp(shape, "entra") == 0 : path && ends_with(path, ".json"))
    *t = RULE_CONN_ENTRA;
  return *t != RULE_CONN_FILE;
}

static void connector_schema(const rule_connector *conn, schema *s)
{
  s->attrs = conn ? conn->attrs : NULL;
  s->n = conn ? conn->n_attrs : 0;
  s->catalog_of = conn && !conn->n_attrs && catalog_type(conn, &s->catalog) ? conn : NULL;
  s->has_dn = conn != NULL;
  if (conn)
    snprintf(s->owner, sizeof s->owner, "connector \"%s\"", conn->name);
}

static void mv_schema(const rule_mv_object *o, schema *s)
{
  s->catalog_of = NULL;
  s->has_dn = false;
  s->attrs = o ? o->attrs : NULL;
  s->n = o ? o->n_attrs : 0;
  if (o)
    snprintf(s->owner, sizeof s->owner, "metaverse object type '%s'", o->name);
}

/* A collection's metaverse object: the attributes the engine gives it. */
static void collection_schema(schema *s)
{
  s->catalog_of = NULL;
  s->attrs = rule_collection_attrs;
  s->n = rule_n_collection_attrs;
  snprintf(s->owner, sizeof s->owner, "metaverse object type '%s' (kept by collections)",
           RULE_COLLECTION_TYPE);
}

static bool is_collection_type(const char *type)
{
  return type && strcmp(type, RULE_COLLECTION_TYPE) == 0;
}

/* A connector that declares no attributes is checked against its type's catalog; an unknown
 * name there is a warning, not an error: directories extend their schemas (a custom AD
 * attribute, a Graph extension property) and declaring the attribute settles it. */
static void check_catalog_attr(checker *c, const schema *s, const char *name, size_t n,
                               rule_pos pos)
{
  rule_suggest sg;
  char hint[160];

  char aad[128];

  if (rule_catalog_has(s->catalog, name, n))
    return;
  /* An entra connector also takes Connect's AAD connector names, which it translates
   * (check_entra_writes says what Graph makes of them); a file connector does not. */
  if (s->catalog_of->type == RULE_CONN_ENTRA && n < sizeof aad) {
    memcpy(aad, name, n);
    aad[n] = '\0';
    if (aad_attr_find(aad))
      return;
  }
  rule_suggest_init(&sg, name, n);
  rule_catalog_suggest(s->catalog, &sg);
  report(c, pos, RULE_SEV_WARNING,
         "'%.*s' is not an attribute of the %s catalog (connector \"%s\" declares no "
         "attributes)%s", (int)n, name, rule_connector_type_names[s->catalog],
         s->catalog_of->name, rule_suggest_hint(&sg, '\'', hint, sizeof hint));
}

static void check_attr(checker *c, const schema *s, const char *name, size_t n, rule_pos pos)
{
  rule_suggest sg;
  char hint[160];
  size_t i;

  if (s->has_dn && n == 2 && memcmp(name, "dn", 2) == 0)
    return;
  if (s->catalog_of) {
    check_catalog_attr(c, s, name, n, pos);
    return;
  }
  if (!s->n)
    return;
  for (i = 0; i < s->n; i++)
    if (strlen(s->attrs[i].name) == n && memcmp(s->attrs[i].name, name, n) == 0)
      return;
  rule_suggest_init(&sg, name, n);
  for (i = 0; i < s->n; i++)
    rule_suggest_add(&sg, s->attrs[i].name);
  report(c, pos, RULE_SEV_ERROR, "%s declares no attribute '%.*s'%s", s->owner, (int)n, name,
         rule_suggest_hint(&sg, '\'', hint, sizeof hint));
}

typedef struct expr_attr_ctx {
  checker *c;
  const schema *s;
  rule_pos pos;
} expr_attr_ctx;

static void check_expr_attr(void *u, const char *name, size_t n)
{
  expr_attr_ctx *x = u;
  check_attr(x->c, x->s, name, n, x->pos);
}

/* An outbound rule to an entra connector writes through Graph: an object type Graph does not
 * create for an app, or a target attribute Graph refuses (read-only, no property, not sent
 * by the connector yet: schema/aad_map.h), is an error here, never a silent drop later. */
static void check_entra_writes(checker *c, const rule *r, const rule_connector *conn)
{
  const char *why, *graph, *reason;
  size_t i;

  if (!conn || conn->type != RULE_CONN_ENTRA || r->direction != RULE_OUTBOUND ||
      !r->target_type)
    return;
  if (!aad_type_writable(r->target_type, &why)) {
    report(c, r->fields[RULE_F_SOURCE].pos, RULE_SEV_ERROR,
           "rule \"%s\" writes '%s' objects to entra connector \"%s\": %s", r->name,
           r->target_type, conn->name, why);
    return;
  }
  for (i = 0; i < r->n_flows; i++) {
    const rule_flow *f = &r->flows[i];
    aad_fate fate = aad_attr_fate(r->target_type, f->target, &graph, &reason);
    if (strcmp(f->target, "dn") == 0 && !f->apply_once) {
      /* Graph objects have no DN: the value can name an add (the display key until Graph
       * gives an id), never rename; the import reads the id back, so it would differ. */
      report(c, f->target_pos, RULE_SEV_ERROR,
             "a flow to dn on entra connector \"%s\" must be apply-once: Graph objects have "
             "no DN, the value only names the object while it is created",
             conn->name);
      continue;
    }
    if (fate == AAD_UNUSED || fate == AAD_MAPPED)
      continue;
    report(c, f->target_pos, RULE_SEV_ERROR,
           "'%s' cannot be written to Entra %ss (%s): %s", f->target, r->target_type,
           aad_fate_name(fate), reason);
  }
}

/* Scope and flow sources name source-side attributes, flow targets target-side ones; join
 * conditions name a connector-space and a metaverse attribute whatever the direction. */
static void check_rule_attrs(checker *c, const rule *r)
{
  const rule_connector *conn = r->connector ? rule_set_connector(c->rs, r->connector) : NULL;
  const char *mv_type = r->direction == RULE_OUTBOUND ? r->source_type : r->target_type;
  const rule_mv_object *mv;
  schema cs, mvs;
  const schema *src, *dst;
  size_t g, i;

  if (!r->fields[RULE_F_DIRECTION].valid || !r->fields[RULE_F_SOURCE].valid)
    return;
  mv = rule_set_mv_object(c->rs, mv_type);
  connector_schema(conn, &cs);
  mv_schema(mv, &mvs);
  if (is_collection_type(mv_type))
    collection_schema(&mvs);
  src = r->direction == RULE_INBOUND ? &cs : &mvs;
  dst = r->direction == RULE_INBOUND ? &mvs : &cs;
  for (g = 0; g < r->n_scope; g++)
    for (i = 0; i < r->scope[g].n_clauses; i++) {
      const scope_clause *cl = &r->scope[g].clauses[i];
      check_attr(c, src, cl->attr, strlen(cl->attr), cl->pos);
    }
  for (g = 0; g < r->n_join; g++)
    for (i = 0; i < r->join[g].n_conditions; i++) {
      const join_condition *jc = &r->join[g].conditions[i];
      check_attr(c, &cs, jc->cs_attr, strlen(jc->cs_attr), jc->pos);
      check_attr(c, &mvs, jc->mv_attr, strlen(jc->mv_attr), jc->pos);
    }
  for (i = 0; i < r->n_flows; i++) {
    const rule_flow *f = &r->flows[i];
    if (f->type == RULE_FLOW_DIRECT) {
      check_attr(c, src, f->source, strlen(f->source), f->pos);
    } else if (f->expr) {
      expr_attr_ctx x = {c, src, f->expr_pos};
      expr_attrs(f->expr, check_expr_attr, &x);
    }
    check_attr(c, dst, f->target, strlen(f->target), f->target_pos);
  }
  check_entra_writes(c, r, conn);
}

/* ---- one rule ---- */

static bool date_before(rule_date a, rule_date b)
{
  if (a.year != b.year)
    return a.year < b.year;
  if (a.month != b.month)
    return a.month < b.month;
  return a.day < b.day;
}

/* Metadata: warn once review-by has passed (kind: "rule" or "collection"). */
static void check_review_by(checker *c, const rule *r, const char *kind, rule_date today)
{
  if (r->fields[RULE_F_REVIEW_BY].valid && date_before(r->review_by, today))
    report(c, r->fields[RULE_F_REVIEW_BY].pos, RULE_SEV_WARNING,
           "%s \"%s\" was due for review on %04d-%02d-%02d (today is %04d-%02d-%02d)", kind,
           r->name, r->review_by.year, r->review_by.month, r->review_by.day, today.year,
           today.month, today.day);
}

/* The collection object type is the engine's: inbound rules cannot flow into it, outbound
 * rules take it only when collections exist, and a scope on its name names one of them. */
static void check_collection_use(checker *c, const rule *r)
{
  rule_suggest sg;
  char hint[160];
  size_t g, i, v, k;

  if (!r->fields[RULE_F_DIRECTION].valid || !r->fields[RULE_F_SOURCE].valid)
    return;
  if (r->direction == RULE_INBOUND && is_collection_type(r->target_type)) {
    report(c, r->fields[RULE_F_SOURCE].pos, RULE_SEV_ERROR,
           "metaverse object type '%s' is kept by the rule set's collection blocks; inbound "
           "rules cannot project or join into it", RULE_COLLECTION_TYPE);
    return;
  }
  if (r->direction != RULE_OUTBOUND || !is_collection_type(r->source_type))
    return;
  if (!c->rs->n_collections) {
    report(c, r->fields[RULE_F_SOURCE].pos, RULE_SEV_ERROR,
           "rule \"%s\" writes collections, but the rule set declares no collection", r->name);
    return;
  }
  for (g = 0; g < r->n_scope; g++)
    for (i = 0; i < r->scope[g].n_clauses; i++) {
      const scope_clause *cl = &r->scope[g].clauses[i];
      if ((strcmp(cl->attr, "name") != 0 && strcmp(cl->attr, "displayName") != 0) ||
          (cl->op != SCOPE_EQUAL && cl->op != SCOPE_ISIN))
        continue;
      for (v = 0; v < cl->n_values; v++) {
        const char *want = cl->values[v].text;
        if (rule_set_collection(c->rs, want))
          continue;
        rule_suggest_init(&sg, want, strlen(want));
        for (k = 0; k < c->rs->n_collections; k++)
          rule_suggest_add(&sg, c->rs->collections[k].name);
        report(c, cl->pos, RULE_SEV_ERROR,
               "rule \"%s\" is scoped to collection \"%s\", which is not declared%s", r->name,
               want, rule_suggest_hint(&sg, '"', hint, sizeof hint));
      }
    }
}

static void check_collection(checker *c, const rule_collection *col, rule_date today)
{
  rule_suggest sg;
  char hint[160];
  schema mvs;
  size_t g, i, k;

  if (!col->fields[RULE_F_SOURCE].present)
    report(c, col->pos, RULE_SEV_ERROR,
           "collection \"%s\" is missing the field source (required)", col->name);
  else if (col->fields[RULE_F_SOURCE].valid && is_collection_type(col->source_type))
    report(c, col->fields[RULE_F_SOURCE].pos, RULE_SEV_ERROR,
           "a collection's members cannot be collections; name the type of their members "
           "(as in 'source person')");
  else if (col->fields[RULE_F_SOURCE].valid && c->rs->n_metaverse &&
           !rule_set_mv_object(c->rs, col->source_type)) {
    rule_suggest_init(&sg, col->source_type, strlen(col->source_type));
    for (i = 0; i < c->rs->n_metaverse; i++)
      for (k = 0; k < c->rs->metaverse[i].n_objects; k++)
        rule_suggest_add(&sg, c->rs->metaverse[i].objects[k].name);
    report(c, col->fields[RULE_F_SOURCE].pos, RULE_SEV_ERROR,
           "the metaverse declares no object type '%s'%s", col->source_type,
           rule_suggest_hint(&sg, '\'', hint, sizeof hint));
  } else if (col->fields[RULE_F_SOURCE].valid) {
    mv_schema(rule_set_mv_object(c->rs, col->source_type), &mvs);
    for (g = 0; g < col->n_scope; g++)
      for (i = 0; i < col->scope[g].n_clauses; i++) {
        const scope_clause *cl = &col->scope[g].clauses[i];
        check_attr(c, &mvs, cl->attr, strlen(cl->attr), cl->pos);
      }
  }
  for (i = 0; i < c->rs->n_collections && &c->rs->collections[i] != col; i++)
    if (strcmp(c->rs->collections[i].name, col->name) == 0) {
      report(c, col->pos, RULE_SEV_ERROR, "collection name \"%s\" is already used (%s:%u)",
             col->name, c->rs->collections[i].pos.file, c->rs->collections[i].pos.line);
      break;
    }
  check_review_by(c, col, "collection", today);
}

static void check_rule(checker *c, const rule *r, rule_date today)
{
  static const rule_field required[] = {RULE_F_DIRECTION, RULE_F_CONNECTOR, RULE_F_SOURCE,
                                        RULE_F_LINK, RULE_F_PRECEDENCE};
  const char *missing[sizeof required / sizeof required[0]];
  char list[160], hint[160];
  rule_suggest sg;
  size_t i, k, n_missing = 0;

  for (i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!r->fields[required[i]].present)
      missing[n_missing++] = rule_field_keyword(required[i]);
  if (n_missing) {
    rule_name_list(missing, n_missing, "and", list, sizeof list);
    report(c, r->pos, RULE_SEV_ERROR, "rule \"%s\" is missing %s %s (required)", r->name,
           n_missing == 1 ? "the field" : "the fields", list);
  }

  if (r->connector && !rule_set_connector(c->rs, r->connector)) {
    rule_suggest_init(&sg, r->connector, strlen(r->connector));
    for (i = 0; i < c->rs->n_connectors; i++)
      rule_suggest_add(&sg, c->rs->connectors[i].name);
    report(c, r->fields[RULE_F_CONNECTOR].pos, RULE_SEV_ERROR,
           "rule \"%s\" names connector \"%s\", which is not declared%s", r->name,
           r->connector, rule_suggest_hint(&sg, '"', hint, sizeof hint));
  }

  if (c->rs->n_metaverse && r->fields[RULE_F_DIRECTION].valid &&
      r->fields[RULE_F_SOURCE].valid) {
    const char *mv_type = r->direction == RULE_OUTBOUND ? r->source_type : r->target_type;
    if (!rule_set_mv_object(c->rs, mv_type) && !is_collection_type(mv_type) &&
        strcmp(mv_type, RULE_ANY_TYPE) != 0) {
      rule_suggest_init(&sg, mv_type, strlen(mv_type));
      for (i = 0; i < c->rs->n_metaverse; i++)
        for (k = 0; k < c->rs->metaverse[i].n_objects; k++)
          rule_suggest_add(&sg, c->rs->metaverse[i].objects[k].name);
      report(c, r->fields[RULE_F_SOURCE].pos, RULE_SEV_ERROR,
             "the metaverse declares no object type '%s'%s", mv_type,
             rule_suggest_hint(&sg, '\'', hint, sizeof hint));
    }
  }

  /* Connect ships `*` only on an inbound join rule; it names no type to provision into. */
  if (r->fields[RULE_F_SOURCE].valid && r->target_type &&
      strcmp(r->target_type, RULE_ANY_TYPE) == 0 &&
      (r->direction != RULE_INBOUND || r->link == RULE_LINK_PROVISION))
    report(c, r->fields[RULE_F_SOURCE].pos, RULE_SEV_ERROR,
           "rule \"%s\": the target type * (any metaverse type) is for inbound rules that "
           "join, not for %s", r->name,
           r->direction != RULE_INBOUND ? "outbound rules" : "link provision");
  if (r->link == RULE_LINK_JOINNOFLOW && r->n_flows)
    report(c, r->flows[0].pos, RULE_SEV_ERROR,
           "rule \"%s\" has link joinnoflow, which flows no attributes; remove its flows or "
           "use link join", r->name);
  if (r->link == RULE_LINK_JOINNOFLOW && r->n_join)
    report(c, r->fields[RULE_F_JOIN].pos, RULE_SEV_ERROR,
           "rule \"%s\" has link joinnoflow, which keeps a join another rule made and never "
           "joins by itself; move these join conditions to that rule", r->name);

  for (i = 1; i < r->n_flows; i++)
    for (k = 0; k < i; k++)
      if (strcmp(r->flows[i].target, r->flows[k].target) == 0) {
        report(c, r->flows[i].target_pos, RULE_SEV_ERROR,
               "rule \"%s\" already flows to '%s' (line %u); a rule gives an attribute one flow",
               r->name, r->flows[i].target, r->flows[k].pos.line);
        break;
      }

  check_review_by(c, r, "rule", today);
  check_rule_attrs(c, r);
  check_collection_use(c, r);
}

/* ---- across rules ---- */

static bool same_str(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Rules r and o compete for the same precedence slot. */
static bool precedence_clash(const rule *r, const rule *o)
{
  return !r->disabled && !o->disabled && r->fields[RULE_F_PRECEDENCE].valid &&
         o->fields[RULE_F_PRECEDENCE].valid && r->precedence == o->precedence &&
         r->direction && r->direction == o->direction && same_str(r->connector, o->connector);
}

/* Ids, names and (per connector and direction) precedences used by two rules. */
static void check_duplicates(checker *c)
{
  const rule_set *rs = c->rs;
  size_t i, k;

  for (i = 0; i < rs->n_rules; i++) {
    const rule *r = &rs->rules[i];
    bool id_done = false, name_done = false, prec_done = false;
    for (k = 0; k < i; k++) {
      const rule *o = &rs->rules[k];
      if (!id_done && same_str(r->id, o->id)) {
        report(c, r->fields[RULE_F_ID].pos, RULE_SEV_ERROR,
               "rule id %s is already used by rule \"%s\" (%s:%u)", r->id, o->name, o->pos.file,
               o->pos.line);
        id_done = true;
      }
      if (!name_done && strcmp(r->name, o->name) == 0) {
        report(c, r->pos, RULE_SEV_ERROR, "rule name \"%s\" is already used (%s:%u)", r->name,
               o->pos.file, o->pos.line);
        name_done = true;
      }
      if (!prec_done && precedence_clash(r, o)) {
        report(c, r->fields[RULE_F_PRECEDENCE].pos, RULE_SEV_ERROR,
               "precedence %ld is already used by rule \"%s\" (%s:%u) among the %s rules of "
               "connector \"%s\"; give each a different precedence", (long)r->precedence,
               o->name, o->pos.file, o->pos.line, rule_direction_name(r->direction),
               r->connector);
        prec_done = true;
      }
    }
  }
}

/* A flow of an enabled rule, for the merge-type check. */
typedef struct contribution {
  const rule *r;
  const rule_flow *f;
  size_t order;      /* position in the set: rules, then flows, in file order */
} contribution;

/* Flows contribute to the same attribute when they target one attribute of one object type:
 * inbound in the metaverse, outbound in one connector's space.  0 when they do. */
static int target_cmp(const contribution *a, const contribution *b)
{
  int d;
  if (a->r->direction != b->r->direction)
    return a->r->direction < b->r->direction ? -1 : 1;
  if ((d = strcmp(a->r->target_type, b->r->target_type)) != 0 ||
      (d = strcmp(a->f->target, b->f->target)) != 0)
    return d;
  return a->r->direction == RULE_OUTBOUND ? strcmp(a->r->connector, b->r->connector) : 0;
}

static int contribution_cmp(const void *pa, const void *pb)
{
  const contribution *a = pa, *b = pb;
  int d = target_cmp(a, b);
  return d ? d : a->order < b->order ? -1 : a->order > b->order;
}

/* Connect raises an error at sync time when rules contributing to one attribute mix merge
 * types; here every flow that differs from the first contributor (in file order) is one. */
static void check_merge_types(checker *c)
{
  const rule_set *rs = c->rs;
  contribution *all;
  size_t i, k, n = 0, total = 0;

  for (i = 0; i < rs->n_rules; i++)
    total += rs->rules[i].n_flows;
  if (!total)
    return;
  if (!(all = malloc(total * sizeof *all))) {
    c->nomem = true;
    return;
  }
  for (i = 0; i < rs->n_rules; i++) {
    const rule *r = &rs->rules[i];
    if (r->disabled || !r->fields[RULE_F_DIRECTION].valid || !r->fields[RULE_F_SOURCE].valid ||
        !r->connector)
      continue;
    for (k = 0; k < r->n_flows; k++, n++)
      all[n] = (contribution){r, &r->flows[k], n};
  }
  qsort(all, n, sizeof *all, contribution_cmp);
  for (i = 0; i < n; i = k) {
    const contribution *first = &all[i];
    for (k = i + 1; k < n && target_cmp(first, &all[k]) == 0; k++)
      if (all[k].f->merge != first->f->merge)
        report(c, all[k].f->pos, RULE_SEV_ERROR,
               "flow to '%s' uses merge type %s, but rule \"%s\" (%s:%u) flows to it with %s; "
               "every rule contributing to an attribute must use the same merge type",
               all[k].f->target, rule_merge_name(all[k].f->merge), first->r->name,
               first->f->pos.file, first->f->pos.line, rule_merge_name(first->f->merge));
  }
  free(all);
}

static void check_declarations(checker *c)
{
  const rule_set *rs = c->rs;
  size_t i, k;

  for (i = 0; i < rs->n_connectors; i++)
    for (k = 0; k < i; k++)
      if (strcmp(rs->connectors[i].name, rs->connectors[k].name) == 0) {
        report(c, rs->connectors[i].pos, RULE_SEV_ERROR,
               "connector \"%s\" is already declared (%s:%u)", rs->connectors[i].name,
               rs->connectors[k].pos.file, rs->connectors[k].pos.line);
        break;
      }
  /* Object types may be declared in several metaverse blocks, but each only once. */
  for (i = 0; i < rs->n_metaverse; i++)
    for (k = 0; k < rs->metaverse[i].n_objects; k++) {
      const rule_mv_object *o = &rs->metaverse[i].objects[k];
      const rule_mv_object *first = rule_set_mv_object(rs, o->name);
      if (first != o)
        report(c, o->pos, RULE_SEV_ERROR,
               "metaverse object type '%s' is already declared (%s:%u)", o->name,
               first->pos.file, first->pos.line);
    }
}

/* The connector settings the engine reads as numbers: the safety guards (docs/safety.md) and
 * the scheduler's delta-max-age (docs/monitoring.md).  A guard or a schedule that silently
 * fell back to its default would be worse than a refused rule set. */
static const struct {
  const char *key;
  int64_t max;          /* inclusive; the minimum is 0 */
  const char *what;
} number_settings[] = {
  {"deletion-threshold", INT64_MAX, "a count of changes (0: off)"},
  {"deletion-threshold-percent", 100, "a percentage 0-100 (0: off)"},
  {"import-delete-threshold", 100, "a percentage 0-100"},
  {"delta-max-age", 36500, "a number of days 0-36500 (0: never too old)"},
};

static void check_settings(checker *c, const rule_connector *conn)
{
  size_t i, k;
  for (i = 0; i < conn->n_settings; i++) {
    const rule_setting *st = &conn->settings[i];
    for (k = 0; k < sizeof number_settings / sizeof number_settings[0]; k++)
      if (strcmp(st->key, number_settings[k].key) == 0 &&
          (st->value.kind != RULE_VAL_NUMBER || !st->value.is_num || st->value.num < 0 ||
           st->value.num > number_settings[k].max))
        report(c, st->pos, RULE_SEV_ERROR, "setting '%s' of connector \"%s\" must be %s, not %s%s%s%s",
               st->key, conn->name, number_settings[k].what,
               st->value.kind == RULE_VAL_ENV ? "env:" : st->value.kind == RULE_VAL_FILE ? "file:" : "",
               st->value.kind == RULE_VAL_STRING ? "\"" : "", st->value.text,
               st->value.kind == RULE_VAL_STRING ? "\"" : "");
  }
}

int rule_set_check(const rule_set *rs, rule_date today, rule_diags *d)
{
  checker c = {rs, d, false};
  size_t i, errors_before = d->n_errors;

  check_declarations(&c);
  for (i = 0; i < rs->n_connectors; i++)
    check_settings(&c, &rs->connectors[i]);
  for (i = 0; i < rs->n_rules; i++)
    check_rule(&c, &rs->rules[i], today);
  for (i = 0; i < rs->n_collections; i++)
    check_collection(&c, &rs->collections[i], today);
  check_duplicates(&c);
  check_merge_types(&c);
  if (c.nomem)
    return RULE_NOMEM;
  return d->n_errors > errors_before ? RULE_INVALID : RULE_OK;
}
