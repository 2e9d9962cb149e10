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

static void json_rule(buf *b, const auth_rule *ar)
{
  buf_adds(b, "{\"rule\": ");
  jstr(b, ar->r->name);
  buf_printf(b, ", \"precedence\": %ld, \"direction\": \"%s\", \"connector\": ",
             (long)ar->r->precedence, rule_direction_name(ar->r->direction));
  jstr(b, ar->r->connector);
  buf_adds(b, ", \"source\": ");
  jstr(b, ar->source);
  buf_printf(b, ", \"link\": \"%s\", \"merge\": \"%s\", \"scope\": ", rule_link_name(ar->r->link),
             rule_merge_name(ar->f->merge));
  jstr(b, ar->scope);
  buf_adds(b, ", \"owner\": ");
  jstr(b, ar->owner);
  buf_adds(b, ", \"purpose\": ");
  jstr(b, ar->purpose);
  buf_adds(b, ", \"review_by\": ");
  jstr(b, ar->review_by);
  buf_adds(b, ", \"governed_by\": ");
  jstr(b, ar->governed_by);
  buf_adds(b, ", \"wins\": ");
  jnum(b, ar->wins);
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
    buf_adds(b, ", \"object_type\": ");
    jstr(b, a->object_type);
    buf_adds(b, ", \"attribute\": ");
    jstr(b, a->attribute);
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
    buf_adds(b, ", \"object_type\": ");
    jstr(b, f->object_type);
    buf_adds(b, ", \"attribute\": ");
    jstr(b, f->attribute);
    if (f->n_attributes) {
      buf_adds(b, ", \"attributes\": ");
      jlist(b, f->attributes, f->n_attributes);
    }
    buf_adds(b, ", \"rules\": ");
    jlist(b, f->rules, f->n_rules);
    buf_adds(b, ", \"objects\": ");
    jlist(b, f->objects, f->n_objects);
    buf_adds(b, ", \"objects_total\": ");
    jnum(b, f->n_objects_total);
    buf_adds(b, ", \"detail\": ");
    jstr(b, f->detail);
    if (f->kind == AUTH_OVERLAP) {
      buf_adds(b, ", \"resolution\": ");
      jstr(b, f->resolution);
    }
    buf_addc(b, '}');
  }
  buf_adds(b, "],\n\"register\": [");
  for (size_t i = 0; i < m->n_reg; i++) {
    const auth_register *r = &m->reg[i];
    buf_adds(b, i ? ",\n  {\"rule\": " : "\n  {\"rule\": ");
    jstr(b, r->r->name);
    buf_adds(b, ", \"collection\": ");
    jstr(b, r->c ? r->c->name : NULL);
    buf_adds(b, ", \"connector\": ");
    jstr(b, r->r->connector);
    buf_adds(b, ", \"object_type\": ");
    jstr(b, r->r->target_type);
    buf_adds(b, ", \"purpose\": ");
    jstr(b, r->purpose);
    buf_adds(b, ", \"owner\": ");
    jstr(b, r->owner);
    buf_adds(b, ", \"review_by\": ");
    jstr(b, r->review_by);
    buf_adds(b, ", \"population\": ");
    jstr(b, r->population);
    buf_adds(b, ", \"attributes\": ");
    jlist(b, r->attributes, r->n_attributes);
    buf_adds(b, ", \"groups\": ");
    jlist(b, r->groups, r->n_groups);
    buf_adds(b, ", \"lifecycle\": ");
    jlist(b, r->lifecycle, r->n_lifecycle);
    buf_adds(b, ", \"objects_in_scope\": ");
    jnum(b, r->objects_in_scope);
    buf_adds(b, ", \"last_change\": ");
    jstr(b, r->last_change);
    buf_addc(b, '}');
  }
  return buf_adds(b, "]}\n");
}

static const char *or_none(const char *s) { return s ? s : "-"; }

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
    if (f->n_objects_total > 0) {
      buf_printf(b, "    objects (%lld): ", (long long)f->n_objects_total);
      text_list(b, f->objects, f->n_objects);
      buf_addc(b, '\n');
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
  "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b;max-width:80em}"
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
             "attributes, <span id=\"n-findings\">%zu</span> findings, <span id=\"n-register\">"
             "%zu</span> writeback dependencies; reviewed against %04d-%02d-%02d.</p>\n",
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
    buf_adds(b, "</td><td>");
    if (f->n_objects_total > 0) {
      buf_printf(b, "<details><summary>%lld object%s</summary>", (long long)f->n_objects_total,
                 f->n_objects_total == 1 ? "" : "s");
      for (size_t j = 0; j < f->n_objects; j++) {
        buf_adds(b, "<div class=\"object\">");
        h(b, f->objects[j]);
        buf_adds(b, "</div>");
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

int engine_authority(mvs_engine *e, const rule_set *also, const char *connector,
                     rule_date today, authority_map *m)
{
  if (authority_compute(e->rs, also, connector, today, m) != 0) {
    engine_errorf(e, "out of memory computing the authority map");
    return ENGINE_SYSTEM;
  }
  return ENGINE_OK;
}
