/* authority_report — the authority map with the store's facts, and its renderings.  See
 * authority_report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/attrset.h"
#include "engine/authority_report.h"
#include "engine/engine_int.h"
#include "engine/flow.h"
#include "engine/label.h"
#include "engine/store.h"
#include "schema/array.h"
#include "schema/json_str.h"

/* A finding lists at most this many objects (n_objects_total counts them all). */
enum { MAX_LISTED = 50 };

/* ---- rendering ---- */

static void jstr(buf *b, const char *s)
{
  if (s)
    json_str_write(b, s, strlen(s));
  else
    buf_adds(b, "null");
}

static void jlist(buf *b, const char *const *v, size_t n)
{
  buf_addc(b, '[');
  for (size_t i = 0; i < n; i++) {
    if (i)
      buf_adds(b, ", ");
    jstr(b, v[i]);
  }
  buf_addc(b, ']');
}

static void jnum(buf *b, int64_t n)
{
  if (n < 0)
    buf_adds(b, "null");
  else
    buf_printf(b, "%lld", (long long)n);
}

/* ", \"key\": " and the value: the fields after an object's first. */
static void jfield_str(buf *b, const char *key, const char *v)
{
  buf_printf(b, ", \"%s\": ", key);
  jstr(b, v);
}

static void jfield_list(buf *b, const char *key, const char *const *v, size_t n)
{
  buf_printf(b, ", \"%s\": ", key);
  jlist(b, v, n);
}

static void jfield_num(buf *b, const char *key, int64_t n)
{
  buf_printf(b, ", \"%s\": ", key);
  jnum(b, n);
}

static void json_rule(buf *b, const auth_rule *ar)
{
  buf_adds(b, "{\"rule\": ");
  jstr(b, ar->r->name);
  buf_printf(b, ", \"precedence\": %ld, \"direction\": \"%s\", \"connector\": ",
             (long)ar->r->precedence, rule_direction_name(ar->r->direction));
  jstr(b, ar->r->connector);
  jfield_str(b, "source", ar->source);
  buf_printf(b, ", \"link\": \"%s\", \"merge\": \"%s\", \"scope\": ", rule_link_name(ar->r->link),
             rule_merge_name(ar->f->merge));
  jstr(b, ar->scope);
  jfield_str(b, "owner", ar->owner);
  jfield_str(b, "purpose", ar->purpose);
  jfield_str(b, "review_by", ar->review_by);
  jfield_str(b, "governed_by", ar->governed_by);
  jfield_num(b, "wins", ar->wins);
  if (ar->also)
    buf_adds(b, ", \"also\": true");
  buf_addc(b, '}');
}

static int render_json(const authority_map *m, buf *b)
{
  buf_adds(b, "{\"attributes\": [");
  for (size_t i = 0; i < m->n_attrs; i++) {
    const auth_attr *a = &m->attrs[i];
    buf_adds(b, i ? ",\n  {\"space\": " : "\n  {\"space\": ");
    jstr(b, a->space);
    jfield_str(b, "object_type", a->object_type);
    jfield_str(b, "attribute", a->attribute);
    buf_printf(b, ", \"contested\": %s, \"rules\": [", a->contested ? "true" : "false");
    for (size_t j = 0; j < a->n_rules; j++) {
      if (j)
        buf_adds(b, ", ");
      json_rule(b, &a->rules[j]);
    }
    buf_adds(b, "]}");
  }
  buf_adds(b, "],\n\"findings\": [");
  for (size_t i = 0; i < m->n_findings; i++) {
    const auth_finding *f = &m->findings[i];
    buf_printf(b, "%s\n  {\"kind\": \"%s\", \"space\": ", i ? "," : "", auth_kind_name(f->kind));
    jstr(b, f->space);
    jfield_str(b, "object_type", f->object_type);
    jfield_str(b, "attribute", f->attribute);
    if (f->n_attributes)
      jfield_list(b, "attributes", f->attributes, f->n_attributes);
    jfield_list(b, "rules", f->rules, f->n_rules);
    jfield_list(b, "objects", f->objects, f->n_objects);
    jfield_num(b, "objects_total", f->n_objects_total);
    if (f->kind == AUTH_SPLIT) {
      jfield_num(b, "winner_changes", f->winner_changes);
      jfield_num(b, "winner_change_runs", f->winner_runs);
      jfield_num(b, "winner_last_run", f->winner_last_run);
    }
    jfield_str(b, "detail", f->detail);
    if (f->kind == AUTH_OVERLAP)
      jfield_str(b, "resolution", f->resolution);
    if (f->kind == AUTH_DRIFT) {
      buf_adds(b, ", \"changes\": [");
      for (size_t j = 0; j < f->n_changes; j++) {
        const auth_change *c = &f->changes[j];
        buf_adds(b, j ? ", {\"object\": " : "{\"object\": ");
        jstr(b, c->object);
        jfield_str(b, "value", c->value);
        jfield_str(b, "action", c->action);
        jfield_str(b, "rule", c->rule);
        buf_printf(b, ", \"runs\": %lld, \"last_run\": %lld, \"last_started\": ",
                   (long long)c->runs, (long long)c->last_run);
        jstr(b, c->last_started);
        buf_addc(b, '}');
      }
      buf_addc(b, ']');
    }
    buf_addc(b, '}');
  }
  buf_adds(b, "],\n\"register\": [");
  for (size_t i = 0; i < m->n_reg; i++) {
    const auth_register *r = &m->reg[i];
    buf_adds(b, i ? ",\n  {\"rule\": " : "\n  {\"rule\": ");
    jstr(b, r->r->name);
    jfield_str(b, "collection", r->c ? r->c->name : NULL);
    jfield_str(b, "connector", r->r->connector);
    jfield_str(b, "object_type", r->r->target_type);
    jfield_str(b, "purpose", r->purpose);
    jfield_str(b, "owner", r->owner);
    jfield_str(b, "review_by", r->review_by);
    jfield_str(b, "population", r->population);
    jfield_list(b, "attributes", r->attributes, r->n_attributes);
    jfield_list(b, "groups", r->groups, r->n_groups);
    jfield_list(b, "lifecycle", r->lifecycle, r->n_lifecycle);
    jfield_num(b, "objects_in_scope", r->objects_in_scope);
    jfield_str(b, "last_change", r->last_change);
    buf_addc(b, '}');
  }
  return buf_adds(b, "]}\n");
}

static const char *or_none(const char *s) { return s ? s : "-"; }

/* A split's history in words (text and HTML: no markup in it). */
static void winner_text(buf *b, const auth_finding *f)
{
  if (!f->winner_changes)
    buf_adds(b, "    the winner has not changed in the recorded runs\n");
  else
    buf_printf(b, "    the winner changed %lld time%s in %lld run%s (last in run %lld)\n",
               (long long)f->winner_changes, f->winner_changes == 1 ? "" : "s",
               (long long)f->winner_runs, f->winner_runs == 1 ? "" : "s",
               (long long)f->winner_last_run);
}

static void text_list(buf *b, const char *const *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    buf_printf(b, "%s%s", i ? ", " : "", v[i]);
  if (!n)
    buf_adds(b, "-");
}

static int render_text(const authority_map *m, buf *b)
{
  buf_printf(b, "authority map: %zu attributes, %zu findings, %zu writeback dependencies "
             "(today %04d-%02d-%02d)\n", m->n_attrs, m->n_findings, m->n_reg, m->today.year,
             m->today.month, m->today.day);
  buf_adds(b, "\nfindings:\n");
  if (!m->n_findings)
    buf_adds(b, "  none\n");
  for (size_t i = 0; i < m->n_findings; i++) {
    const auth_finding *f = &m->findings[i];
    buf_printf(b, "  %s", auth_kind_name(f->kind));
    if (f->space)
      buf_printf(b, " %s", f->space);
    if (f->object_type)
      buf_printf(b, " %s", f->object_type);
    if (f->attribute)
      buf_printf(b, " %s", f->attribute);
    buf_adds(b, ": ");
    text_list(b, f->rules, f->n_rules);
    buf_printf(b, "\n    %s\n", f->detail);
    if (f->kind == AUTH_OVERLAP)
      buf_printf(b, "    resolution: %s\n", f->resolution ? f->resolution : "none: both write");
    if (f->winner_changes >= 0)
      winner_text(b, f);
    if (f->n_objects_total > 0) {
      buf_printf(b, "    objects (%lld): ", (long long)f->n_objects_total);
      text_list(b, f->objects, f->n_objects);
      buf_addc(b, '\n');
    }
    for (size_t j = 0; j < f->n_changes; j++) {
      const auth_change *c = &f->changes[j];
      buf_printf(b, "    %s: %s %s %s (runs %lld, last run %lld at %s, rule %s)\n", c->object,
                 c->action, f->attribute, or_none(c->value), (long long)c->runs,
                 (long long)c->last_run, or_none(c->last_started), or_none(c->rule));
    }
  }
  buf_adds(b, "\nwriteback register:\n");
  if (!m->n_reg)
    buf_adds(b, "  none\n");
  for (size_t i = 0; i < m->n_reg; i++) {
    const auth_register *r = &m->reg[i];
    buf_printf(b, "  \"%s\" -> %s %s%s%s%s\n", r->r->name, r->r->connector, r->r->target_type,
               r->c ? " (collection \"" : "", r->c ? r->c->name : "", r->c ? "\")" : "");
    buf_printf(b, "    purpose: %s\n    owner: %s\n    review by: %s\n    population: %s\n",
               or_none(r->purpose), or_none(r->owner), or_none(r->review_by), r->population);
    buf_adds(b, "    attributes: ");
    text_list(b, r->attributes, r->n_attributes);
    buf_adds(b, "\n    groups: ");
    text_list(b, r->groups, r->n_groups);
    buf_adds(b, "\n    lifecycle: ");
    text_list(b, r->lifecycle, r->n_lifecycle);
    buf_addc(b, '\n');
    if (r->objects_in_scope >= 0)
      buf_printf(b, "    objects in scope: %lld\n    last change: %s\n",
                 (long long)r->objects_in_scope, or_none(r->last_change));
  }
  buf_adds(b, "\nattributes (rules in precedence order):\n");
  for (size_t i = 0; i < m->n_attrs; i++) {
    const auth_attr *a = &m->attrs[i];
    buf_printf(b, "  %s %s %s%s\n", a->space, a->object_type, a->attribute,
               a->contested ? "  [contested]" : "");
    for (size_t j = 0; j < a->n_rules; j++) {
      const auth_rule *ar = &a->rules[j];
      buf_printf(b, "    %10ld  \"%s\"%s from %s, %s; %s; owner %s, review by %s", 
                 (long)ar->r->precedence, ar->r->name, ar->also ? " (other engine)" : "",
                 ar->source, rule_merge_name(ar->f->merge), ar->scope, or_none(ar->owner),
                 or_none(ar->review_by));
      if (ar->wins >= 0)
        buf_printf(b, "; wins %lld", (long long)ar->wins);
      buf_addc(b, '\n');
    }
  }
  return b->p ? 0 : -1;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void csv_field(buf *b, const char *s, bool last)
{
  s = s ? s : "";
  if (strpbrk(s, ",\"\r\n")) {
    buf_addc(b, '"');
    for (; *s; s++) {
      if (*s == '"')
        buf_addc(b, '"');
      buf_addc(b, *s);
    }
    buf_addc(b, '"');
  } else {
    buf_adds(b, s);
  }
  buf_adds(b, last ? "\r\n" : ",");
}

static int render_csv(const authority_map *m, buf *b)
{
  char num[32], wins[32];
  buf_adds(b, "space,object_type,attribute,contested,precedence,rule,engine,source,merge,scope,"
              "owner,purpose,review_by,wins\r\n");
  for (size_t i = 0; i < m->n_attrs; i++) {
    const auth_attr *a = &m->attrs[i];
    for (size_t j = 0; j < a->n_rules; j++) {
      const auth_rule *ar = &a->rules[j];
      snprintf(num, sizeof num, "%ld", (long)ar->r->precedence);
      snprintf(wins, sizeof wins, "%lld", (long long)ar->wins);
      csv_field(b, a->space, false);
      csv_field(b, a->object_type, false);
      csv_field(b, a->attribute, false);
      csv_field(b, a->contested ? "yes" : "no", false);
      csv_field(b, num, false);
      csv_field(b, ar->r->name, false);
      csv_field(b, ar->also ? "other" : "this", false);
      csv_field(b, ar->source, false);
      csv_field(b, rule_merge_name(ar->f->merge), false);
      csv_field(b, ar->scope, false);
      csv_field(b, ar->owner, false);
      csv_field(b, ar->purpose, false);
      csv_field(b, ar->review_by, false);
      csv_field(b, ar->wins >= 0 ? wins : "", true);
    }
  }
  return b->p ? 0 : -1;
}

/* ---- HTML: one self-contained page (no script, no external resource) ---- */

static void h(buf *b, const char *s)
{
  for (s = s ? s : "-"; *s; s++)
    switch (*s) {
    case '&': buf_adds(b, "&amp;"); break;
    case '<': buf_adds(b, "&lt;"); break;
    case '>': buf_adds(b, "&gt;"); break;
    case '"': buf_adds(b, "&quot;"); break;
    case '\'': buf_adds(b, "&#39;"); break;
    default: buf_addc(b, *s);
    }
}

static void h_list(buf *b, const char *const *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (i)
      buf_adds(b, ", ");
    h(b, v[i]);
  }
  if (!n)
    buf_adds(b, "-");
}

/* The anchor of attribute entry i. */
static void h_attr_link(buf *b, const authority_map *m, const char *space, const char *type,
                        const char *attribute)
{
  const auth_attr *a = space && type && attribute ? authority_attr(m, space, type, attribute) : NULL;
  if (!a) {
    h(b, attribute);
    return;
  }
  buf_printf(b, "<a href=\"#attr-%zu\">", (size_t)(a - m->attrs));
  h(b, attribute);
  buf_adds(b, "</a>");
}

static const char html_style[] =
  "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b;max-width:110em}"
  "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}"
  "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;"
  "vertical-align:top;text-align:left}th{background:#f2f2f2}"
  ".kind{font-weight:600;white-space:nowrap}.split,.overlap{color:#a33}.drift{color:#a60}"
  ".ungoverned,.review-passed{color:#836}details{margin:.2em 0}summary{cursor:pointer}"
  ".contested{color:#a33;font-weight:600}.muted{color:#666}";

static int render_html(const authority_map *m, buf *b)
{
  buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<title>mvsync authority map</title><style>");
  buf_adds(b, html_style);
  buf_printf(b, "</style></head><body>\n<h1>Authority map</h1>\n<p class=\"muted\">%zu "
             "attributes, <span id=\"n-findings\">%zu</span> findings, writeback dependencies: "
             "<span id=\"n-register\">%zu</span>; reviewed against %04d-%02d-%02d.</p>\n",
             m->n_attrs, m->n_findings, m->n_reg, m->today.year, m->today.month, m->today.day);

  buf_adds(b, "<h2>Writeback register</h2>\n<table id=\"register\"><tr><th>rule</th>"
              "<th>purpose</th><th>owner</th><th>review by</th><th>population</th>"
              "<th>attributes</th><th>groups</th><th>lifecycle</th><th>objects in scope</th>"
              "<th>last change</th></tr>\n");
  for (size_t i = 0; i < m->n_reg; i++) {
    const auth_register *r = &m->reg[i];
    buf_adds(b, "<tr><td>");
    h(b, r->r->name);
    buf_adds(b, " <span class=\"muted\">&rarr; ");
    h(b, r->r->connector);
    buf_adds(b, "</span></td><td>");
    h(b, r->purpose);
    buf_adds(b, "</td><td>");
    h(b, r->owner);
    buf_adds(b, "</td><td>");
    h(b, r->review_by);
    buf_adds(b, "</td><td>");
    h(b, r->population);
    buf_adds(b, "</td><td>");
    for (size_t j = 0; j < r->n_attributes; j++) {
      if (j)
        buf_adds(b, ", ");
      h_attr_link(b, m, r->r->connector, r->r->target_type, r->attributes[j]);
    }
    buf_adds(b, "</td><td>");
    h_list(b, r->groups, r->n_groups);
    buf_adds(b, "</td><td>");
    h_list(b, r->lifecycle, r->n_lifecycle);
    buf_adds(b, "</td><td>");
    if (r->objects_in_scope >= 0)
      buf_printf(b, "%lld", (long long)r->objects_in_scope);
    else
      buf_adds(b, "-");
    buf_adds(b, "</td><td>");
    h(b, r->last_change);
    buf_adds(b, "</td></tr>\n");
  }
  buf_adds(b, "</table>\n<h2>Findings</h2>\n<table id=\"findings\"><tr><th>finding</th>"
              "<th>where</th><th>rules</th><th>what</th><th>objects</th></tr>\n");
  for (size_t i = 0; i < m->n_findings; i++) {
    const auth_finding *f = &m->findings[i];
    buf_printf(b, "<tr class=\"finding\"><td class=\"kind %s\">%s</td><td>",
               auth_kind_name(f->kind), auth_kind_name(f->kind));
    h(b, f->space);
    buf_adds(b, " ");
    h(b, f->object_type);
    buf_adds(b, " ");
    if (f->n_attributes)
      for (size_t j = 0; j < f->n_attributes; j++) {
        if (j)
          buf_adds(b, ", ");
        h_attr_link(b, m, f->space, f->object_type, f->attributes[j]);
      }
    else if (f->attribute)
      h_attr_link(b, m, f->space, f->object_type, f->attribute);
    buf_adds(b, "</td><td>");
    h_list(b, f->rules, f->n_rules);
    buf_adds(b, "</td><td>");
    h(b, f->detail);
    if (f->kind == AUTH_OVERLAP) {
      buf_adds(b, "<br><b>resolution:</b> ");
      h(b, f->resolution ? f->resolution : "none: both engines write");
    }
    if (f->winner_changes >= 0) {
      buf_adds(b, "<br>");
      winner_text(b, f);
    }
    buf_adds(b, "</td><td>");
    if (f->n_objects_total > 0) {
      /* A short list is open: the change board reads it without a click. */
      buf_printf(b, "<details%s><summary>%lld object%s</summary>",
                 f->n_objects_total <= 5 ? " open" : "", (long long)f->n_objects_total,
                 f->n_objects_total == 1 ? "" : "s");
      for (size_t j = 0; !f->n_changes && j < f->n_objects; j++) {
        buf_adds(b, "<div class=\"object\">");
        h(b, f->objects[j]);
        buf_adds(b, "</div>");
      }
      for (size_t j = 0; j < f->n_changes; j++) {
        const auth_change *c = &f->changes[j];
        buf_adds(b, "<div class=\"change\">");
        h(b, c->object);
        buf_printf(b, ": %s ", c->action);
        h(b, f->attribute);
        buf_adds(b, " <code>");
        h(b, c->value);
        buf_printf(b, "</code> (runs %lld, last run %lld at ", (long long)c->runs,
                   (long long)c->last_run);
        h(b, c->last_started);
        buf_adds(b, ")</div>");
      }
      buf_adds(b, "</details>");
    } else {
      buf_adds(b, "-");
    }
    buf_adds(b, "</td></tr>\n");
  }
  buf_adds(b, "</table>\n<h2>Attributes</h2>\n<p class=\"muted\">Every attribute a rule can "
              "set, with the rules in precedence order (lowest first); open one for its "
              "rules.</p>\n");
  for (size_t i = 0; i < m->n_attrs; i++) {
    const auth_attr *a = &m->attrs[i];
    buf_printf(b, "<details class=\"attr\" id=\"attr-%zu\"><summary>", i);
    h(b, a->space);
    buf_adds(b, " &middot; ");
    h(b, a->object_type);
    buf_adds(b, " &middot; <b>");
    h(b, a->attribute);
    buf_printf(b, "</b> (%zu rule%s)%s</summary>\n<table><tr><th>precedence</th><th>rule</th>"
               "<th>source</th><th>merge</th><th>scope</th><th>owner</th><th>purpose</th>"
               "<th>review by</th><th>wins</th></tr>\n", a->n_rules, a->n_rules == 1 ? "" : "s",
               a->contested ? " <span class=\"contested\">contested</span>" : "");
    for (size_t j = 0; j < a->n_rules; j++) {
      const auth_rule *ar = &a->rules[j];
      buf_printf(b, "<tr><td>%ld</td><td>", (long)ar->r->precedence);
      h(b, ar->r->name);
      if (ar->also)
        buf_adds(b, " <span class=\"muted\">(other engine)</span>");
      buf_adds(b, "</td><td>");
      h(b, ar->source);
      buf_printf(b, "</td><td>%s</td><td>", rule_merge_name(ar->f->merge));
      h(b, ar->scope);
      buf_adds(b, "</td><td>");
      h(b, ar->owner);
      buf_adds(b, "</td><td>");
      h(b, ar->purpose);
      buf_adds(b, "</td><td>");
      h(b, ar->review_by);
      buf_adds(b, "</td><td>");
      if (ar->wins >= 0)
        buf_printf(b, "%lld", (long long)ar->wins);
      else
        buf_adds(b, "-");
      buf_adds(b, "</td></tr>\n");
    }
    buf_adds(b, "</table></details>\n");
  }
  return buf_adds(b, "</body></html>\n");
}

int authority_render(const authority_map *m, int format, buf *out)
{
  switch (format) {
  case AUTHORITY_JSON: return render_json(m, out);
  case AUTHORITY_CSV: return render_csv(m, out);
  case AUTHORITY_HTML: return render_html(m, out);
  default: return render_text(m, out);
  }
}

/* ---- the store's facts ---- */

static const char *adup(authority_map *m, const char *s)
{
  return s ? mvs_arena_memdup(m->arena, s, strlen(s)) : NULL;
}

/* Add one object to a finding's list (the first MAX_LISTED) and count it. */
static int finding_object(authority_map *m, auth_finding *f, const char *label)
{
  if (f->n_objects_total < 0)
    f->n_objects_total = 0;
  f->n_objects_total++;
  if (f->n_objects >= MAX_LISTED)
    return 0;
  if (!f->objects) {
    if (!(f->objects = mvs_arena_alloc(m->arena, MAX_LISTED * sizeof *f->objects)))
      return -1;
  }
  return (f->objects[f->n_objects++] = adup(m, label)) ? 0 : -1;
}

static auth_finding *split_of(authority_map *m, const auth_attr *a)
{
  for (size_t i = 0; i < m->n_findings; i++) {
    auth_finding *f = &m->findings[i];
    if (f->kind == AUTH_SPLIT && strcmp(f->space, a->space) == 0 &&
        strcmp(f->object_type, a->object_type) == 0 && strcmp(f->attribute, a->attribute) == 0)
      return f;
  }
  return NULL;
}

typedef struct facts {
  mvs_engine *e;
  authority_map *m;
  int64_t *conn_ids;          /* per connector of the rule set: its store id, 0: none */
  char *in_scope;             /* per rule of the rule set, for the current object */
  int64_t *reg_counts;
  const char *connector;      /* only this connector's drift; NULL: all */
} facts;

static int64_t conn_id(facts *x, const char *name)
{
  const rule_set *rs = x->e->rs;
  for (size_t i = 0; i < rs->n_connectors; i++)
    if (strcmp(rs->connectors[i].name, name) == 0)
      return x->conn_ids[i];
  return 0;
}

static size_t rule_index(const rule_set *rs, const rule *r)
{
  return (size_t)(r - rs->rules);
}

/* A rule of the engine's set (not the other engine's). */
static bool own_rule(const rule_set *rs, const auth_rule *ar)
{
  return !ar->also && ar->r >= rs->rules && ar->r < rs->rules + rs->n_rules;
}

/* One metaverse object: which rules are in scope, who decides each attribute. */
static int object_facts(facts *x, const mv_row *mv)
{
  mvs_engine *e = x->e;
  const rule_set *rs = e->rs;
  authority_map *m = x->m;
  obj_view v;
  scope_env env;
  int rc = -1;

  if (view_load_mv(e, &v, mv, e->scratch) != 0)
    return -1;
  env = view_scope_env(&v);
  for (size_t i = 0; i < rs->n_rules; i++) {
    const rule *r = &rs->rules[i];
    scope_verdict vd;
    x->in_scope[i] = !r->disabled && r->direction == RULE_OUTBOUND &&
                     strcmp(r->source_type, mv->object_type) == 0 &&
                     rule_scope_eval(r, &env, &vd) == 0 && vd.in_scope;
  }
  for (size_t i = 0; i < m->n_reg; i++)
    if (!m->reg[i].c && x->in_scope[rule_index(rs, m->reg[i].r)])
      x->reg_counts[i]++;
  for (size_t i = 0; i < m->n_attrs; i++) {
    auth_attr *a = &m->attrs[i];
    auth_finding *split = a->contested ? split_of(m, a) : NULL;
    if (strcmp(a->space, "metaverse") == 0) {
      const attr_entry *ae;
      size_t joined = 0;
      if (strcmp(a->object_type, mv->object_type) != 0)
        continue;
      ae = attrset_get(&v.attrs, a->attribute, strlen(a->attribute));
      for (size_t j = 0; ae && ae->src && j < a->n_rules; j++)
        if (strcmp(a->rules[j].r->name, ae->src) == 0)
          a->rules[j].wins++;
      /* The split concerns the objects joined in two of its sources' connectors. */
      for (size_t j = 0; split && j < a->n_rules; j++) {
        int64_t cs = 0, c = conn_id(x, a->rules[j].r->connector);
        bool seen = false;
        for (size_t k = 0; k < j; k++)
          seen = seen || strcmp(a->rules[k].r->connector, a->rules[j].r->connector) == 0;
        if (!seen && c && store_mv_cs_in(e->st, mv->id, c, &cs) != STORE_OK)
          goto out;
        joined += !seen && cs;
      }
      if (joined >= 2) {
        const char *label;
        char *text = NULL;
        if (label_mv(e, mv->id, e->scratch, &label) != 0 ||
            asprintf(&text, "%s (decided by %s)", label, ae && ae->src ? ae->src : "none") < 0)
          goto out;
        rc = finding_object(m, split, text);
        free(text);
        if (rc != 0)
          goto out;
        rc = -1;
      }
    } else {
      int64_t c = conn_id(x, a->space), cs_id = 0;
      size_t n_in = 0;
      const auth_rule *winner = NULL;
      for (size_t j = 0; j < a->n_rules; j++)
        if (own_rule(rs, &a->rules[j]) && x->in_scope[rule_index(rs, a->rules[j].r)]) {
          n_in++;
          winner = winner ? winner : &a->rules[j];
        }
      if (!winner || !c || store_mv_cs_in(e->st, mv->id, c, &cs_id) != STORE_OK || !cs_id)
        continue;
      ((auth_rule *)winner)->wins++;
      if (split && n_in >= 2) {
        cs_row cs;
        const char *label;
        if (store_cs_get(e->st, cs_id, e->scratch, &cs) != STORE_OK ||
            label_cs(e, &cs, e->scratch, &label) != 0 || finding_object(m, split, label) != 0)
          goto out;
      }
    }
  }
  rc = 0;
out:
  view_free(&v);
  return rc;
}

/* Each metaverse split's history: how often its winner changed, from the run records. */
static int winner_history(facts *x)
{
  winner_row *rows = NULL;
  size_t n = 0;

  if (store_winner_list(x->e->st, x->m->arena, &rows, &n) != STORE_OK)
    return -1;
  for (size_t i = 0; i < x->m->n_findings; i++) {
    auth_finding *f = &x->m->findings[i];
    if (f->kind != AUTH_SPLIT || strcmp(f->space, "metaverse") != 0)
      continue;
    f->winner_changes = f->winner_runs = f->winner_last_run = 0;
    for (size_t j = 0; j < n; j++)
      if (strcasecmp(rows[j].object_type, f->object_type) == 0 &&
          strcasecmp(rows[j].attr, f->attribute) == 0) {
        f->winner_changes = rows[j].changes;
        f->winner_runs = rows[j].runs;
        f->winner_last_run = rows[j].last_run;
      }
  }
  free(rows);
  return 0;
}

static int drift_findings(facts *x)
{
  mvs_engine *e = x->e;
  authority_map *m = x->m;
  drift_row *rows = NULL;
  size_t n = 0;
  int rc = -1;

  if (store_drift_list(e->st, m->arena, &rows, &n) != STORE_OK)
    goto out;
  for (size_t i = 0; i < n;) {
    size_t j = i, objects = 0;
    int64_t runs = 0, last = 0;
    const char *last_started = NULL;
    auth_finding *f;
    /* One finding per connector, object type and attribute. */
    while (j < n && strcmp(rows[j].connector, rows[i].connector) == 0 &&
           strcmp(rows[j].object_type, rows[i].object_type) == 0 &&
           strcmp(rows[j].attr, rows[i].attr) == 0)
      j++;
    if (x->connector && strcmp(rows[i].connector, x->connector) != 0) {
      i = j;
      continue;
    }
    if (!(f = authority_finding_add(m, AUTH_DRIFT, rows[i].connector, rows[i].object_type,
                                    rows[i].attr)) ||
        !(f->changes = mvs_arena_alloc(m->arena, (j - i) * sizeof *f->changes)))
      goto out;
    for (size_t k = i; k < j; k++) {
      auth_change *ch = &f->changes[f->n_changes++];
      ch->object = rows[k].object;
      ch->value = rows[k].value;
      ch->action = rows[k].action;
      ch->rule = rows[k].rule;
      ch->runs = rows[k].runs;
      ch->last_run = rows[k].last_run;
      ch->last_started = rows[k].last_started;
      runs = rows[k].runs > runs ? rows[k].runs : runs;
      if (rows[k].last_run > last) {
        last = rows[k].last_run;
        last_started = rows[k].last_started;
      }
      if (k == i || strcmp(rows[k].object, rows[k - 1].object) != 0) {
        objects++;
        if (finding_object(m, f, rows[k].object) != 0)
          goto out;
      }
      if (rows[k].rule && (!f->n_rules || strcmp(f->rules[f->n_rules - 1], rows[k].rule) != 0)) {
        const char **nr = mvs_arena_alloc(m->arena, (f->n_rules + 1) * sizeof *nr);
        if (!nr)
          goto out;
        if (f->n_rules)
          memcpy(nr, f->rules, f->n_rules * sizeof *nr);
        nr[f->n_rules++] = rows[k].rule;
        f->rules = nr;
      }
    }
    {
      buf b;
      buf_init(&b, 0);
      buf_printf(&b, "%zu value%s of %s changed in %s outside the rules on %zu object%s, found "
                 "in up to %lld run%s; last in run %lld (%s); mvsync put back what the rules "
                 "want", j - i, j - i == 1 ? "" : "s", rows[i].attr, rows[i].connector, objects,
                 objects == 1 ? "" : "s", (long long)runs, runs == 1 ? "" : "s", (long long)last,
                 last_started ? last_started : "?");
      f->detail = b.p ? adup(m, b.p) : NULL;
      buf_free(&b);
      if (!f->detail)
        goto out;
    }
    i = j;
  }
  rc = 0;
out:
  free(rows);
  return rc;
}

int engine_authority(mvs_engine *e, const rule_set *also, const char *connector,
                     rule_date today, authority_map *m)
{
  facts x = {e, m, NULL, NULL, NULL, connector};
  id_list page = {0};
  int64_t after = 0;
  int rc = ENGINE_SYSTEM;

  if (authority_compute(e->rs, also, connector, today, m) != 0) {
    engine_errorf(e, "out of memory computing the authority map");
    return ENGINE_SYSTEM;
  }
  if (!(x.conn_ids = calloc(e->rs->n_connectors + 1, sizeof *x.conn_ids)) ||
      !(x.in_scope = calloc(e->rs->n_rules + 1, 1)) ||
      !(x.reg_counts = calloc(m->n_reg + 1, sizeof *x.reg_counts)))
    goto out;
  for (size_t i = 0; i < e->rs->n_connectors; i++) {
    int q = store_connector_find(e->st, e->rs->connectors[i].name, &x.conn_ids[i]);
    if (q != STORE_OK && q != STORE_NOTFOUND)
      goto out;
  }
  for (size_t i = 0; i < m->n_attrs; i++)
    for (size_t j = 0; j < m->attrs[i].n_rules; j++)
      if (own_rule(e->rs, &m->attrs[i].rules[j]))
        m->attrs[i].rules[j].wins = 0;
  for (size_t i = 0; i < m->n_findings; i++)
    if (m->findings[i].kind == AUTH_SPLIT)
      m->findings[i].n_objects_total = 0;
  do {
    page.n = 0;
    if (store_mv_page(e->st, after, 1000, &page) != STORE_OK)
      goto out;
    for (size_t i = 0; i < page.n; i++) {
      mv_row mv;
      mvs_arena_reset(e->scratch);
      if (store_mv_get(e->st, page.ids[i], e->scratch, &mv) != STORE_OK ||
          object_facts(&x, &mv) != 0)
        goto out;
      after = page.ids[i];
    }
  } while (page.n);
  for (size_t i = 0; i < m->n_reg; i++) {
    auth_register *r = &m->reg[i];
    int64_t mv_id;
    int q;
    r->objects_in_scope = x.reg_counts[i];
    if (r->c) {
      id_list members = {0};
      if ((q = store_collection_get(e->st, r->c->name, &mv_id)) == STORE_OK &&
          store_mv_ref_list(e->st, mv_id, "member", &members) != STORE_OK)
        goto out;
      if (q != STORE_OK && q != STORE_NOTFOUND)
        goto out;
      r->objects_in_scope = (int64_t)members.n;
      id_list_free(&members);
    }
    if ((q = store_run_last_change(e->st, r->r->connector, m->arena, &r->last_change)) !=
            STORE_OK && q != STORE_NOTFOUND)
      goto out;
  }
  if (drift_findings(&x) != 0 || winner_history(&x) != 0)
    goto out;
  authority_findings_sort(m);
  rc = ENGINE_OK;
out:
  if (rc != ENGINE_OK)
    engine_errorf(e, "authority: cannot read the store: %s", store_errmsg(e->st));
  id_list_free(&page);
  free(x.conn_ids);
  free(x.in_scope);
  free(x.reg_counts);
  return rc;
}
