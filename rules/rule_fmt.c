/* rule_fmt — the canonical text of a rule file: fixed field order, two-space indentation,
 * one statement per line, comments kept.  Formatting formatted text changes nothing.
 * See ruleset.h. */
#include <string.h>

#include "rules/dsl_int.h"

static void indent(rule_printer *pr, int depth) { rule_put(pr, "%*s", depth * 2, ""); }

static void put_quoted(rule_printer *pr, const char *s)
{
  rule_put(pr, "\"");
  for (; *s && !pr->rc; s++) {
    if (*s == '"' || *s == '\\')
      rule_put(pr, "\\%c", *s);
    else if (*s == '\n')
      rule_put(pr, "\\n");
    else if (*s == '\t')
      rule_put(pr, "\\t");
    else
      pr->rc = buf_addc(pr->b, *s);
  }
  rule_put(pr, "\"");
}

static void put_literal(rule_printer *pr, const rule_literal *lit)
{
  switch (lit->kind) {
  case RULE_VAL_STRING:
    put_quoted(pr, lit->text);
    break;
  case RULE_VAL_ENV:
    rule_put(pr, "env:%s", lit->text);
    break;
  case RULE_VAL_FILE:
    rule_put(pr, "file:%s", lit->text);
    break;
  default:
    rule_put(pr, "%s", lit->text);
    break;
  }
}

static void put_lines(rule_printer *pr, int depth, const rule_comment_list *l)
{
  size_t i;
  for (i = 0; i < l->n; i++) {
    if (*l->lines[i]) {
      indent(pr, depth);
      rule_put(pr, "%s", l->lines[i]);
    }
    rule_put(pr, "\n");
  }
}

/* End a node's first line, with its end-of-line comment. */
static void end_line(rule_printer *pr, const rule_comments *c)
{
  if (c->trail)
    rule_put(pr, "  %s", c->trail);
  rule_put(pr, "\n");
}

static void begin(rule_printer *pr, int depth, const rule_comments *c)
{
  put_lines(pr, depth, &c->lead);
  indent(pr, depth);
}

static void close_brace(rule_printer *pr, int depth, const rule_comment_list *footer)
{
  put_lines(pr, depth + 1, footer);
  indent(pr, depth);
  rule_put(pr, "}\n");
}

static void put_attr_decls(rule_printer *pr, int depth, const rule_attr_decl *attrs, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    begin(pr, depth, &attrs[i].comments);
    rule_put(pr, "attribute %s %s%s", attrs[i].name, rule_syntax_name(attrs[i].syntax),
             attrs[i].multi ? " multi" : "");
    end_line(pr, &attrs[i].comments);
  }
}

static void put_connector(rule_printer *pr, const rule_connector *c)
{
  size_t i;
  begin(pr, 0, &c->comments);
  rule_put(pr, "connector ");
  put_quoted(pr, c->name);
  rule_put(pr, " type %s {", rule_connector_type_name(c->type));
  end_line(pr, &c->comments);
  for (i = 0; i < c->n_settings; i++) {
    begin(pr, 1, &c->settings[i].comments);
    rule_put(pr, "%s ", c->settings[i].key);
    put_literal(pr, &c->settings[i].value);
    end_line(pr, &c->settings[i].comments);
  }
  put_attr_decls(pr, 1, c->attrs, c->n_attrs);
  close_brace(pr, 0, &c->footer);
}

static void put_metaverse(rule_printer *pr, const rule_metaverse *m)
{
  size_t i;
  begin(pr, 0, &m->comments);
  rule_put(pr, "metaverse {");
  end_line(pr, &m->comments);
  for (i = 0; i < m->n_objects; i++) {
    const rule_mv_object *o = &m->objects[i];
    begin(pr, 1, &o->comments);
    rule_put(pr, "object %s {", o->name);
    end_line(pr, &o->comments);
    put_attr_decls(pr, 2, o->attrs, o->n_attrs);
    close_brace(pr, 1, &o->footer);
  }
  close_brace(pr, 0, &m->footer);
}

static void put_clause(rule_printer *pr, const scope_clause *c)
{
  size_t i;
  rule_put(pr, "%s %s", c->attr, scope_op_name(c->op));
  if (c->op == SCOPE_ISIN || c->op == SCOPE_ISNOTIN) {
    rule_put(pr, " (");
    for (i = 0; i < c->n_values; i++) {
      if (i)
        rule_put(pr, ", ");
      put_literal(pr, &c->values[i]);
    }
    rule_put(pr, ")");
  } else if (c->n_values) {
    rule_put(pr, " ");
    put_literal(pr, &c->values[0]);
  }
}

/* The word before item i of group g: groups are ORed, items in a group ANDed. */
static const char *connective(size_t g, size_t i) { return i ? "and " : g ? "or " : ""; }

static void put_scope(rule_printer *pr, const rule *r)
{
  size_t g, i;
  for (g = 0; g < r->n_scope; g++)
    for (i = 0; i < r->scope[g].n_clauses; i++) {
      const scope_clause *c = &r->scope[g].clauses[i];
      begin(pr, 2, &c->comments);
      rule_put(pr, "%s", connective(g, i));
      put_clause(pr, c);
      end_line(pr, &c->comments);
    }
}

static void put_join(rule_printer *pr, const rule *r)
{
  size_t g, i;
  for (g = 0; g < r->n_join; g++)
    for (i = 0; i < r->join[g].n_conditions; i++) {
      const join_condition *c = &r->join[g].conditions[i];
      begin(pr, 2, &c->comments);
      rule_put(pr, "%s%s = %s%s", connective(g, i), c->cs_attr, c->mv_attr,
               c->case_sensitive ? " case-sensitive" : "");
      end_line(pr, &c->comments);
    }
}

static void put_timespan(rule_printer *pr, int64_t s)
{
  long long days = (long long)(s / 86400), rest = (long long)(s % 86400);
  if (days)
    rule_put(pr, "%lld.", days);
  rule_put(pr, "%02lld:%02lld:%02lld", rest / 3600, rest / 60 % 60, rest % 60);
}

/* A field given with a value that means "none" (the all-zero GUID, an empty tag) prints
 * nothing but its comments. */
static bool field_is_none(const rule *r, rule_field f)
{
  return (f == RULE_F_PRECEDENCE_BEFORE && !r->precedence_before) ||
         (f == RULE_F_PRECEDENCE_AFTER && !r->precedence_after) ||
         (f == RULE_F_IMMUTABLE_TAG && !r->immutable_tag);
}

static void put_field_value(rule_printer *pr, const rule *r, rule_field f)
{
  switch (f) {
  case RULE_F_ID: rule_put(pr, " %s", r->id); break;
  case RULE_F_DESCRIPTION: rule_put(pr, " "); put_quoted(pr, r->description); break;
  case RULE_F_DIRECTION: rule_put(pr, " %s", rule_direction_name(r->direction)); break;
  case RULE_F_CONNECTOR: rule_put(pr, " "); put_quoted(pr, r->connector); break;
  case RULE_F_SOURCE:
    /* A collection's source is one type (ruleset.h). */
    rule_put(pr, r->target_type ? " %s -> %s" : " %s", r->source_type, r->target_type);
    break;
  case RULE_F_LINK: rule_put(pr, " %s", rule_link_name(r->link)); break;
  case RULE_F_PRECEDENCE: rule_put(pr, " %ld", (long)r->precedence); break;
  case RULE_F_PRECEDENCE_BEFORE: rule_put(pr, " %s", r->precedence_before); break;
  case RULE_F_PRECEDENCE_AFTER: rule_put(pr, " %s", r->precedence_after); break;
  case RULE_F_IMMUTABLE_TAG: rule_put(pr, " "); put_quoted(pr, r->immutable_tag); break;
  case RULE_F_SOFT_DELETE: rule_put(pr, " "); put_timespan(pr, r->soft_delete_seconds); break;
  case RULE_F_DIALECT: rule_put(pr, " %s", rule_dialect_name(r->dialect)); break;
  case RULE_F_OWNER: rule_put(pr, " "); put_quoted(pr, r->owner); break;
  case RULE_F_PURPOSE: rule_put(pr, " "); put_quoted(pr, r->purpose); break;
  case RULE_F_REVIEW_BY:
    rule_put(pr, " %04d-%02d-%02d", r->review_by.year, r->review_by.month, r->review_by.day);
    break;
  case RULE_F_ALLOW:
    for (size_t i = 0; i < r->n_allow; i++)
      rule_put(pr, " %s", r->allow[i]);
    break;
  default: /* the flags disabled and enable-password-sync: the keyword alone */
    break;
  }
}

static void put_field(rule_printer *pr, const rule *r, rule_field f)
{
  const rule_field_info *fi = &r->fields[f];

  put_lines(pr, 1, &fi->comments.lead);
  if (field_is_none(r, f)) {
    if (fi->comments.trail) {
      indent(pr, 1);
      rule_put(pr, "%s\n", fi->comments.trail);
    }
    return;
  }
  indent(pr, 1);
  rule_put(pr, "%s", rule_field_keyword(f));
  if (f == RULE_F_SCOPE || f == RULE_F_JOIN) {
    rule_put(pr, " {");
    end_line(pr, &fi->comments);
    (f == RULE_F_SCOPE ? put_scope : put_join)(pr, r);
    close_brace(pr, 1, &fi->footer);
    return;
  }
  put_field_value(pr, r, f);
  end_line(pr, &fi->comments);
}

static void put_flow(rule_printer *pr, const rule_flow *f)
{
  begin(pr, 1, &f->comments);
  rule_put(pr, "flow ");
  switch (f->type) {
  case RULE_FLOW_DIRECT:
    rule_put(pr, "[%s]", f->source);
    break;
  case RULE_FLOW_CONSTANT:
    rule_put(pr, "constant ");
    put_literal(pr, &f->constant);
    break;
  case RULE_FLOW_EXPRESSION:
    rule_put(pr, "%s", f->expr_text);
    break;
  }
  rule_put(pr, " -> %s", f->target);
  if (f->merge != RULE_MERGE_UPDATE)
    rule_put(pr, " merge %s", rule_merge_name(f->merge));
  if (f->apply_once)
    rule_put(pr, " apply-once");
  end_line(pr, &f->comments);
}

/* A rule, or a collection (kind "collection": it has no flows). */
static void put_rule(rule_printer *pr, const rule *r, const char *kind)
{
  size_t i;
  int f;

  begin(pr, 0, &r->comments);
  rule_put(pr, "%s ", kind);
  put_quoted(pr, r->name);
  rule_put(pr, " {");
  end_line(pr, &r->comments);
  for (f = 0; f < RULE_F_COUNT; f++)
    if (r->fields[f].present)
      put_field(pr, r, (rule_field)f);
  for (i = 0; i < r->n_flows; i++)
    put_flow(pr, &r->flows[i]);
  close_brace(pr, 0, &r->footer);
}

int rule_fmt_file(const rule_set *rs, size_t file_index, buf *out)
{
  rule_printer pr = {out, 0};
  const rule_file *f = &rs->files[file_index];
  size_t i;
  bool first = true;

  rule_put(&pr, "%s", ""); /* out->p is a string even for an empty file */
  if (f->has_dialect) {
    begin(&pr, 0, &f->dialect_comments);
    rule_put(&pr, "dialect %s", rule_dialect_name(f->dialect));
    end_line(&pr, &f->dialect_comments);
    first = false;
  }
  for (i = 0; i < f->n_items; i++) {
    const rule_item *it = &f->items[i];
    if (!first)
      rule_put(&pr, "\n");
    first = false;
    if (it->kind == RULE_ITEM_CONNECTOR)
      put_connector(&pr, &rs->connectors[it->index]);
    else if (it->kind == RULE_ITEM_METAVERSE)
      put_metaverse(&pr, &rs->metaverse[it->index]);
    else if (it->kind == RULE_ITEM_COLLECTION)
      put_rule(&pr, &rs->collections[it->index], "collection");
    else
      put_rule(&pr, &rs->rules[it->index], "rule");
  }
  if (f->footer.n) {
    if (!first)
      rule_put(&pr, "\n");
    put_lines(&pr, 0, &f->footer);
  }
  return pr.rc ? RULE_NOMEM : RULE_OK;
}
