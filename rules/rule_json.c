/* rule_json — a rule set as JSON text (schema: docs/rules-json.md), written without a JSON
 * library so rules/ stays free of dependencies.  See ruleset.h. */
#include <string.h>

#include "rules/dsl_int.h"
#include "schema/json_str.h"

typedef struct json_out {
  rule_printer pr;
  bool positions;
} json_out;

/* The inside of a JSON string (json_str.h: bytes that are not UTF-8 become U+FFFD). */
static void jchars(json_out *j, const char *s, size_t n)
{
  if (!j->pr.rc)
    j->pr.rc = json_str_chars(j->pr.b, s, n);
}

/* A JSON string, or null for NULL. */
static void jstr(json_out *j, const char *s)
{
  if (!s) {
    rule_put(&j->pr, "null");
    return;
  }
  rule_put(&j->pr, "\"");
  jchars(j, s, strlen(s));
  rule_put(&j->pr, "\"");
}

static void jbool(json_out *j, bool b) { rule_put(&j->pr, "%s", b ? "true" : "false"); }

/* `"key": `, after a comma unless it is the object's first member. */
static void key(json_out *j, bool *first, const char *k)
{
  rule_put(&j->pr, "%s", *first ? "" : ", ");
  *first = false;
  jstr(j, k);
  rule_put(&j->pr, ": ");
}

static void jpos(json_out *j, bool *first, rule_pos pos)
{
  if (!j->positions)
    return;
  key(j, first, "pos");
  rule_put(&j->pr, "\"");
  jchars(j, pos.file, strlen(pos.file));
  rule_put(&j->pr, ":%u:%u\"", pos.line, pos.col);
}

static void jliteral(json_out *j, const rule_literal *lit)
{
  switch (lit->kind) {
  case RULE_VAL_NUMBER:
  case RULE_VAL_BOOL:
    rule_put(&j->pr, "%s", lit->text);
    break;
  case RULE_VAL_ENV:
  case RULE_VAL_FILE:
    rule_put(&j->pr, "{\"%s\": ", lit->kind == RULE_VAL_ENV ? "env" : "file");
    jstr(j, lit->text);
    rule_put(&j->pr, "}");
    break;
  default:
    jstr(j, lit->text);
    break;
  }
}

static void jattrs(json_out *j, const rule_attr_decl *attrs, size_t n)
{
  size_t i;
  rule_put(&j->pr, "[");
  for (i = 0; i < n; i++) {
    bool first = true;
    rule_put(&j->pr, "%s{", i ? ", " : "");
    key(j, &first, "name");
    jstr(j, attrs[i].name);
    key(j, &first, "syntax");
    jstr(j, rule_syntax_name(attrs[i].syntax));
    key(j, &first, "multi");
    jbool(j, attrs[i].multi);
    jpos(j, &first, attrs[i].pos);
    rule_put(&j->pr, "}");
  }
  rule_put(&j->pr, "]");
}

static void jconnector(json_out *j, const rule_connector *c)
{
  bool first = true, sfirst = true;
  size_t i;
  rule_put(&j->pr, "{");
  key(j, &first, "name");
  jstr(j, c->name);
  key(j, &first, "type");
  jstr(j, rule_connector_type_name(c->type));
  key(j, &first, "settings");
  rule_put(&j->pr, "{");
  for (i = 0; i < c->n_settings; i++) {
    key(j, &sfirst, c->settings[i].key);
    jliteral(j, &c->settings[i].value);
  }
  rule_put(&j->pr, "}");
  key(j, &first, "attributes");
  jattrs(j, c->attrs, c->n_attrs);
  jpos(j, &first, c->pos);
  rule_put(&j->pr, "}");
}

static void jscope(json_out *j, const rule *r)
{
  size_t g, i, v;
  rule_put(&j->pr, "[");
  for (g = 0; g < r->n_scope; g++) {
    rule_put(&j->pr, "%s[", g ? ", " : "");
    for (i = 0; i < r->scope[g].n_clauses; i++) {
      const scope_clause *c = &r->scope[g].clauses[i];
      bool first = true;
      rule_put(&j->pr, "%s{", i ? ", " : "");
      key(j, &first, "attribute");
      jstr(j, c->attr);
      key(j, &first, "operator");
      jstr(j, scope_op_name(c->op));
      if (c->op == SCOPE_ISIN || c->op == SCOPE_ISNOTIN) {
        key(j, &first, "values");
        rule_put(&j->pr, "[");
        for (v = 0; v < c->n_values; v++) {
          rule_put(&j->pr, "%s", v ? ", " : "");
          jliteral(j, &c->values[v]);
        }
        rule_put(&j->pr, "]");
      } else if (c->n_values) {
        key(j, &first, "value");
        jliteral(j, &c->values[0]);
      }
      jpos(j, &first, c->pos);
      rule_put(&j->pr, "}");
    }
    rule_put(&j->pr, "]");
  }
  rule_put(&j->pr, "]");
}

static void jjoin(json_out *j, const rule *r)
{
  size_t g, i;
  rule_put(&j->pr, "[");
  for (g = 0; g < r->n_join; g++) {
    rule_put(&j->pr, "%s[", g ? ", " : "");
    for (i = 0; i < r->join[g].n_conditions; i++) {
      const join_condition *c = &r->join[g].conditions[i];
      bool first = true;
      rule_put(&j->pr, "%s{", i ? ", " : "");
      key(j, &first, "cs_attribute");
      jstr(j, c->cs_attr);
      key(j, &first, "mv_attribute");
      jstr(j, c->mv_attr);
      key(j, &first, "case_sensitive");
      jbool(j, c->case_sensitive);
      jpos(j, &first, c->pos);
      rule_put(&j->pr, "}");
    }
    rule_put(&j->pr, "]");
  }
  rule_put(&j->pr, "]");
}

typedef struct sources_ctx {
  json_out *j;
  bool first;
} sources_ctx;

static void jsource(void *u, const char *name, size_t n)
{
  sources_ctx *s = u;
  rule_put(&s->j->pr, "%s\"", s->first ? "" : ", ");
  jchars(s->j, name, n);
  rule_put(&s->j->pr, "\"");
  s->first = false;
}

static void jflow(json_out *j, const rule_flow *f)
{
  static const char *const types[] = {"direct", "constant", "expression"};
  sources_ctx sources = {j, true};
  bool first = true;

  rule_put(&j->pr, "{");
  key(j, &first, "type");
  jstr(j, types[f->type]);
  if (f->type == RULE_FLOW_DIRECT) {
    key(j, &first, "source");
    jstr(j, f->source);
  } else if (f->type == RULE_FLOW_CONSTANT) {
    key(j, &first, "value");
    jliteral(j, &f->constant);
  } else {
    key(j, &first, "expression");
    jstr(j, f->expr_text);
  }
  key(j, &first, "sources");
  rule_put(&j->pr, "[");
  if (f->type == RULE_FLOW_DIRECT)
    jsource(&sources, f->source, strlen(f->source));
  else if (f->expr)
    expr_attrs(f->expr, jsource, &sources);
  rule_put(&j->pr, "]");
  key(j, &first, "target");
  jstr(j, f->target);
  key(j, &first, "merge");
  jstr(j, rule_merge_name(f->merge));
  key(j, &first, "apply_once");
  jbool(j, f->apply_once);
  jpos(j, &first, f->pos);
  rule_put(&j->pr, "}");
}

static void jmetadata(json_out *j, bool *first, const rule *r)
{
  bool mfirst = true;
  key(j, first, "metadata");
  rule_put(&j->pr, "{");
  key(j, &mfirst, "owner");
  jstr(j, r->owner);
  key(j, &mfirst, "purpose");
  jstr(j, r->purpose);
  key(j, &mfirst, "review_by");
  if (r->fields[RULE_F_REVIEW_BY].valid)
    rule_put(&j->pr, "\"%04d-%02d-%02d\"", r->review_by.year, r->review_by.month,
             r->review_by.day);
  else
    rule_put(&j->pr, "null");
  if (r->n_allow) {
    key(j, &mfirst, "allow");
    rule_put(&j->pr, "[");
    for (size_t i = 0; i < r->n_allow; i++) {
      rule_put(&j->pr, i ? ", " : "");
      jstr(j, r->allow[i]);
    }
    rule_put(&j->pr, "]");
  }
  rule_put(&j->pr, "}");
}

static void jcollection(json_out *j, const rule_collection *c)
{
  bool first = true;
  rule_put(&j->pr, "{");
  key(j, &first, "name");
  jstr(j, c->name);
  key(j, &first, "description");
  jstr(j, c->description);
  key(j, &first, "source_type");
  jstr(j, c->source_type);
  jmetadata(j, &first, c);
  key(j, &first, "scope");
  jscope(j, c);
  jpos(j, &first, c->pos);
  rule_put(&j->pr, "}");
}

static void jrule(json_out *j, const rule *r)
{
  bool first = true;
  size_t i;

  rule_put(&j->pr, "{");
  key(j, &first, "name");
  jstr(j, r->name);
  key(j, &first, "id");
  jstr(j, r->id);
  key(j, &first, "description");
  jstr(j, r->description);
  key(j, &first, "direction");
  jstr(j, r->direction ? rule_direction_name(r->direction) : NULL);
  key(j, &first, "connector");
  jstr(j, r->connector);
  key(j, &first, "source_type");
  jstr(j, r->source_type);
  key(j, &first, "target_type");
  jstr(j, r->target_type);
  key(j, &first, "link");
  jstr(j, r->link ? rule_link_name(r->link) : NULL);
  key(j, &first, "precedence");
  if (r->fields[RULE_F_PRECEDENCE].valid)
    rule_put(&j->pr, "%ld", (long)r->precedence);
  else
    rule_put(&j->pr, "null");
  key(j, &first, "precedence_before");
  jstr(j, r->precedence_before);
  key(j, &first, "precedence_after");
  jstr(j, r->precedence_after);
  key(j, &first, "disabled");
  jbool(j, r->disabled);
  key(j, &first, "immutable_tag");
  jstr(j, r->immutable_tag);
  key(j, &first, "soft_delete_seconds");
  rule_put(&j->pr, "%lld", (long long)r->soft_delete_seconds);
  key(j, &first, "enable_password_sync");
  jbool(j, r->enable_password_sync);
  key(j, &first, "dialect");
  jstr(j, rule_dialect_name(r->dialect));
  jmetadata(j, &first, r);
  key(j, &first, "scope");
  jscope(j, r);
  key(j, &first, "join");
  jjoin(j, r);
  key(j, &first, "flows");
  rule_put(&j->pr, "[");
  for (i = 0; i < r->n_flows; i++) {
    rule_put(&j->pr, "%s", i ? ", " : "");
    jflow(j, &r->flows[i]);
  }
  rule_put(&j->pr, "]");
  jpos(j, &first, r->pos);
  rule_put(&j->pr, "}");
}

int rule_set_to_json(const rule_set *rs, unsigned flags, buf *out)
{
  json_out j = {{out, 0}, (flags & RULE_JSON_POSITIONS) != 0};
  size_t i, k, n = 0;

  rule_put(&j.pr, "{\"files\": [");
  for (i = 0; i < rs->n_files; i++) {
    rule_put(&j.pr, "%s{\"name\": ", i ? ", " : "");
    jstr(&j, rs->files[i].name);
    rule_put(&j.pr, ", \"dialect\": ");
    jstr(&j, rs->files[i].has_dialect ? rule_dialect_name(rs->files[i].dialect) : NULL);
    rule_put(&j.pr, "}");
  }
  rule_put(&j.pr, "],\n \"connectors\": [");
  for (i = 0; i < rs->n_connectors; i++) {
    rule_put(&j.pr, "%s", i ? ",\n  " : "\n  ");
    jconnector(&j, &rs->connectors[i]);
  }
  rule_put(&j.pr, "],\n \"metaverse\": [");
  for (i = 0; i < rs->n_metaverse; i++)
    for (k = 0; k < rs->metaverse[i].n_objects; k++) {
      const rule_mv_object *o = &rs->metaverse[i].objects[k];
      bool first = true;
      rule_put(&j.pr, "%s{", n++ ? ",\n  " : "\n  ");
      key(&j, &first, "object");
      jstr(&j, o->name);
      key(&j, &first, "attributes");
      jattrs(&j, o->attrs, o->n_attrs);
      jpos(&j, &first, o->pos);
      rule_put(&j.pr, "}");
    }
  rule_put(&j.pr, "],\n \"rules\": [");
  for (i = 0; i < rs->n_rules; i++) {
    rule_put(&j.pr, "%s", i ? ",\n  " : "\n  ");
    jrule(&j, &rs->rules[i]);
  }
  rule_put(&j.pr, "],\n \"collections\": [");
  for (i = 0; i < rs->n_collections; i++) {
    rule_put(&j.pr, "%s", i ? ",\n  " : "\n  ");
    jcollection(&j, &rs->collections[i]);
  }
  rule_put(&j.pr, "]}\n");
  return j.pr.rc ? RULE_NOMEM : RULE_OK;
}
