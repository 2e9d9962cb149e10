/* connect_import — Connect Sync's configuration turned into mvsync rule files
 * (`mvsync rules import connect`).  Two readers fill one model: the server-configuration
 * export (the XML files of SynchronizationRules/ and Connectors/ and GlobalSettings/MV.xml,
 * parsed with schema/xml.h by the caller) and the PowerShell form that the Synchronization Rules Editor
 * exports (New-ADSyncRule … Add-ADSyncRule, connect_ps.c).  connect_export_write() then
 * writes the rule set: connectors.rules, metaverse.rules and one file per connector,
 * direction and metaverse object type, each in `rules fmt` canonical form.  What cannot be
 * expressed becomes a note (where, what and why) and a comment where it was.  Pure: the
 * caller reads the files and writes the results; the same input gives the same bytes.
 * Memory: a connect_export owns the model, the notes and the written files (one arena)
 * until connect_export_free(). */
#ifndef MVS_CONNECT_IMPORT_H
#define MVS_CONNECT_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/xml.h"

/* ---- the model: Connect's configuration, as text, before any judgement ---- */

typedef struct cx_clause {     /* a scoping condition: csAttribute csOperator csValue */
  const char *attr, *op, *value;
  uint32_t line;
} cx_clause;

typedef struct cx_scope_group {  /* clauses ANDed; groups ORed */
  cx_clause *clauses;
  size_t n, cap;
} cx_scope_group;

typedef struct cx_join_cond {  /* csAttribute = ilmAttribute */
  const char *cs, *mv;
  bool case_sensitive;
  uint32_t line;
} cx_join_cond;

typedef struct cx_join_group {
  cx_join_cond *conds;
  size_t n, cap;
} cx_join_group;

/* An attribute flow mapping.  type is Connect's FlowType ("Direct", "Constant",
 * "Expression") when the source says it (PowerShell); NULL when it is read from the fields, as
 * Connect's own export reader does: an expression makes it Expression, else a source attribute
 * Direct, else the source text is a Constant. */
typedef struct cx_flow {
  const char *type;
  const char **src;          /* source attributes (Direct/Expression) */
  size_t n_src, cap_src;
  const char *constant;      /* Constant: the value */
  const char *expression;
  const char *dest;
  const char *merge;         /* ValueMergeType: Update, Merge, MergeCaseInsensitive, Replace */
  bool apply_once;
  uint32_t line;
} cx_flow;

typedef struct cx_rule {
  const char *file;          /* where it was read, for notes */
  uint32_t line;
  const char *id, *name, *description, *direction, *connector, *source_type, *target_type,
             *link, *precedence, *precedence_before, *precedence_after, *immutable_tag,
             *soft_delete;
  bool disabled, password_sync;
  cx_scope_group *scope;
  size_t n_scope, cap_scope;
  cx_join_group *join;
  size_t n_join, cap_join;
  cx_flow *flows;
  size_t n_flows, cap_flows;
} cx_rule;

typedef struct cx_param {
  const char *name, *value;
} cx_param;

typedef struct cx_connector {
  const char *file;
  const char *id;            /* lowercase GUID without braces */
  const char *name, *category, *subtype;
  const char *login_user, *login_domain, *last_dc;
  const char **partitions;   /* selected partitions' DNs */
  size_t n_partitions, cap_partitions;
  const char **inclusions, **exclusions;  /* of the first selected partition */
  size_t n_inclusions, cap_inclusions, n_exclusions, cap_exclusions;
  cx_param *params;          /* Forest.* and the first partition's Domain.* */
  size_t n_params, cap_params;
  size_t n_object_classes, n_attribute_inclusions;
} cx_connector;

typedef struct cx_mv_attr {
  const char *name, *syntax;  /* syntax: the DSML OID */
  bool multi;
} cx_mv_attr;

typedef struct cx_mv_class {
  const char *name;
  const char **attrs;
  size_t n, cap;
} cx_mv_class;

/* Something of the input that the rule set does not carry, or carries changed. */
typedef struct connect_note {
  const char *where;         /* "file:line" or `rule "name"` */
  const char *message;       /* what, and why */
  bool changed;              /* carried, but changed (a `# carried changed:` comment); else
                              * not carried */
} connect_note;

/* A written rule file: its name in the output folder and its text. */
typedef struct connect_file {
  const char *name;
  const char *text;
  size_t len;
} connect_file;

typedef struct connect_export {
  mvs_arena *arena;
  cx_rule *rules;
  size_t n_rules, cap_rules;
  cx_connector *connectors;
  size_t n_connectors, cap_connectors;
  cx_mv_class *mv_classes;
  size_t n_mv_classes, cap_mv_classes;
  cx_mv_attr *mv_attrs;
  size_t n_mv_attrs, cap_mv_attrs;
  const char *mv_file;
  connect_note *notes;
  size_t n_notes, cap_notes;
  connect_file *files;
  size_t n_files, cap_files;
} connect_export;

/* Return codes: 0, or CONNECT_NOMEM.  Input the readers cannot use becomes a note. */
enum { CONNECT_OK = 0, CONNECT_NOMEM = -1 };

connect_export *connect_export_new(void);
void connect_export_free(connect_export *x);

/* Add one parsed file of a server-configuration export: a <synchronizationRule>, an
 * <ma-data> connector or the <saved-mv-configuration> metaverse; any other root is a note.
 * file names it in notes. */
int connect_add_xml(connect_export *x, const char *file, const xml_node *root);

/* Add the rules of a PowerShell export (connect_ps.c); what it cannot read is a note. */
int connect_add_powershell(connect_export *x, const char *file, const char *src, size_t len);

/* Write the rule set into x->files (sorted by name) and add the notes of what it does not
 * carry.  Call once, after every input was added. */
int connect_export_write(connect_export *x);

/* For the readers: the model's allocation helpers (NULL / -1 when memory runs out). */
const char *connect_strdup(connect_export *x, const char *s, size_t n);
int connect_note_add(connect_export *x, const char *where, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
cx_rule *connect_rule_new(connect_export *x, const char *file, uint32_t line);
cx_flow *connect_flow_new(connect_export *x, cx_rule *r);
cx_scope_group *connect_scope_group_new(connect_export *x, cx_rule *r);
cx_join_group *connect_join_group_new(connect_export *x, cx_rule *r);
int connect_clause_add(connect_export *x, cx_scope_group *g, const char *attr, const char *op,
                       const char *value, uint32_t line);
int connect_join_add(connect_export *x, cx_join_group *g, const char *cs, const char *mv,
                     bool case_sensitive, uint32_t line);
int connect_push_str(connect_export *x, const char ***items, size_t *n, size_t *cap,
                     const char *s);

#endif
