/* ruleset — the rule DSL: the syntax tree of a rule set (connectors, metaverse schema, sync
 * rules) parsed from *.rules files, and the parse, check, format and JSON entry points.
 * Memory: a rule_set owns every node, string and compiled expression reachable from it until
 * rule_set_free(); a rule_diags owns its diagnostics until rule_diags_free(). */
#ifndef MVS_RULESET_H
#define MVS_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/expr.h"
#include "schema/buf.h"

/* Return codes of the entry points below. */
enum {
  RULE_OK = 0,
  RULE_INVALID = 1,  /* at least one error diagnostic was added */
  RULE_NOMEM = 2
};

/* Where a node starts: file name (owned by the rule set), 1-based line and column (columns
 * count characters, not bytes). */
typedef struct rule_pos {
  const char *file;
  uint32_t line;
  uint32_t col;
} rule_pos;

/* Comments kept for the formatter.  Each line is the comment text from '#' to the end of the
 * line (trailing blanks removed); an empty string stands for a blank line that separated
 * comment paragraphs from what follows. */
typedef struct rule_comment_list {
  const char **lines;
  size_t n;
} rule_comment_list;

typedef struct rule_comments {
  rule_comment_list lead;  /* full-line comments just before the node */
  const char *trail;       /* a comment at the end of the node's line, or NULL */
} rule_comments;

typedef struct rule_date {
  int year, month, day;
} rule_date;

/* ---- values ---- */

typedef enum rule_value_kind {
  RULE_VAL_STRING = 0,  /* "text" */
  RULE_VAL_NUMBER,      /* 123, -5 */
  RULE_VAL_BOOL,        /* true, false */
  RULE_VAL_ENV,         /* env:NAME  (a secret reference: text is NAME) */
  RULE_VAL_FILE         /* file:PATH (a secret reference: text is PATH) */
} rule_value_kind;

/* A literal as written, plus the typed readings scope evaluation compares with: a string
 * "50000" also reads as the number 50000, "true" as a boolean, "2024-01-31" as a datetime. */
typedef struct rule_literal {
  rule_value_kind kind;
  const char *text;  /* NUL-terminated: unquoted string, decimal number, "true"/"false" */
  size_t len;
  bool is_num;       /* text reads as an integer (decimal or &Hhex) */
  int64_t num;
  bool is_bool;      /* text is true/false in any case */
  bool b;
  bool is_dt;        /* text is an ISO 8601 date or time */
  int64_t dt;        /* ticks, see schema/value.h */
} rule_literal;

/* ---- connectors ---- */

typedef enum rule_connector_type {
  RULE_CONN_AD = 0, RULE_CONN_LDAP, RULE_CONN_ENTRA, RULE_CONN_FILE
} rule_connector_type;

typedef enum rule_syntax {
  RULE_SYN_STRING = 0, RULE_SYN_INTEGER, RULE_SYN_BOOLEAN, RULE_SYN_BINARY,
  RULE_SYN_DATETIME, RULE_SYN_REFERENCE
} rule_syntax;

/* `attribute NAME SYNTAX [multi]`, in a connector or a metaverse object type. */
typedef struct rule_attr_decl {
  rule_pos pos;
  rule_comments comments;
  const char *name;
  rule_syntax syntax;
  bool multi;
} rule_attr_decl;

/* `KEY VALUE`: a connector setting.  Keys naming a secret (secret, password, token, key, or
 * ending in -secret, -password, -token, -key) only take env:/file: references. */
typedef struct rule_setting {
  rule_pos pos;
  rule_comments comments;
  const char *key;
  rule_literal value;
} rule_setting;

typedef struct rule_connector {
  rule_pos pos;
  rule_comments comments;
  rule_comment_list footer;  /* comments before the closing brace */
  const char *name;
  rule_connector_type type;
  rule_setting *settings;
  size_t n_settings;
  rule_attr_decl *attrs;
  size_t n_attrs;
} rule_connector;

/* ---- metaverse schema ---- */

typedef struct rule_mv_object {
  rule_pos pos;
  rule_comments comments;
  rule_comment_list footer;
  const char *name;       /* person, group, ... */
  rule_attr_decl *attrs;
  size_t n_attrs;
} rule_mv_object;

/* One `metaverse { ... }` block; a rule set may have several (in several files). */
typedef struct rule_metaverse {
  rule_pos pos;
  rule_comments comments;
  rule_comment_list footer;
  rule_mv_object *objects;
  size_t n_objects;
} rule_metaverse;

/* ---- rules ---- */

typedef enum rule_direction { RULE_DIR_UNSET = 0, RULE_INBOUND, RULE_OUTBOUND } rule_direction;

typedef enum rule_link {
  RULE_LINK_UNSET = 0, RULE_LINK_JOIN, RULE_LINK_STICKYJOIN, RULE_LINK_PROVISION,
  RULE_LINK_JOINNOFLOW
} rule_link;

/* The 20 scoping-filter operators of Connect Sync, in the order of its documentation.
 * Every NOT operator is the exact negation of its positive twin (see docs/rules.md). */
typedef enum scope_op {
  SCOPE_EQUAL = 0, SCOPE_NOTEQUAL,
  SCOPE_LESSTHAN, SCOPE_LESSTHAN_OR_EQUAL, SCOPE_GREATERTHAN, SCOPE_GREATERTHAN_OR_EQUAL,
  SCOPE_CONTAINS, SCOPE_NOTCONTAINS, SCOPE_STARTSWITH, SCOPE_NOTSTARTSWITH,
  SCOPE_ENDSWITH, SCOPE_NOTENDSWITH,
  SCOPE_ISNULL, SCOPE_ISNOTNULL, SCOPE_ISIN, SCOPE_ISNOTIN,
  SCOPE_ISBITSET, SCOPE_ISNOTBITSET, SCOPE_ISMEMBEROF, SCOPE_ISNOTMEMBEROF,
  SCOPE_OP_COUNT
} scope_op;

/* `ATTR OPERATOR [VALUE]`.  values: none for ISNULL/ISNOTNULL, one or more for
 * ISIN/ISNOTIN, exactly one otherwise (a number for ISBITSET/ISNOTBITSET). */
typedef struct scope_clause {
  rule_pos pos;
  rule_comments comments;
  const char *attr;
  scope_op op;
  rule_literal *values;
  size_t n_values;
} scope_clause;

/* Clauses of a group are ANDed; the groups of a scope are ORed. */
typedef struct scope_group {
  rule_pos pos;
  scope_clause *clauses;
  size_t n_clauses;
} scope_group;

/* `CS_ATTR = MV_ATTR [case-sensitive]`: connector-space attribute on the left, metaverse
 * attribute on the right, whatever the rule's direction (as Connect's csAttribute /
 * ilmAttribute). */
typedef struct join_condition {
  rule_pos pos;
  rule_comments comments;
  const char *cs_attr;
  const char *mv_attr;
  bool case_sensitive;
} join_condition;

/* Conditions of a group are ANDed; groups are tried in order, the first with exactly one
 * match wins. */
typedef struct join_group {
  rule_pos pos;
  join_condition *conditions;
  size_t n_conditions;
} join_group;

typedef enum rule_flow_type {
  RULE_FLOW_DIRECT = 0, RULE_FLOW_CONSTANT, RULE_FLOW_EXPRESSION
} rule_flow_type;

/* Connect's ValueMergeType: update (the lowest precedence wins) or a union of values. */
typedef enum rule_merge {
  RULE_MERGE_UPDATE = 0, RULE_MERGE_MERGE, RULE_MERGE_CASEINSENSITIVE
} rule_merge;

typedef struct rule_flow {
  rule_pos pos;
  rule_comments comments;
  rule_flow_type type;
  const char *source;      /* DIRECT: the source attribute */
  rule_literal constant;   /* CONSTANT: the value */
  const char *expr_text;   /* EXPRESSION: canonical text (the source text if it did not parse) */
  rule_pos expr_pos;       /* EXPRESSION: where the expression starts */
  expr *expr;              /* EXPRESSION: compiled; NULL only when it did not parse */
  const char *target;
  rule_pos target_pos;
  rule_merge merge;
  bool apply_once;
} rule_flow;

/* The single-valued fields of a rule, in canonical print order; each records whether it was
 * given, where, and the comments around it. */
typedef enum rule_field {
  RULE_F_ID = 0, RULE_F_DESCRIPTION, RULE_F_DIRECTION, RULE_F_CONNECTOR, RULE_F_SOURCE,
  RULE_F_LINK, RULE_F_PRECEDENCE, RULE_F_PRECEDENCE_BEFORE, RULE_F_PRECEDENCE_AFTER,
  RULE_F_DISABLED, RULE_F_IMMUTABLE_TAG, RULE_F_SOFT_DELETE, RULE_F_ENABLE_PASSWORD_SYNC,
  RULE_F_DIALECT, RULE_F_OWNER, RULE_F_PURPOSE, RULE_F_REVIEW_BY, RULE_F_ALLOW, RULE_F_SCOPE,
  RULE_F_JOIN,
  RULE_F_COUNT
} rule_field;

typedef struct rule_field_info {
  bool present;              /* given in the file */
  bool valid;                /* ... and its value parsed (in a set without errors: both) */
  rule_pos pos;
  rule_comments comments;
  rule_comment_list footer;  /* scope and join blocks: comments before '}' */
} rule_field_info;

typedef struct rule {
  rule_pos pos;
  rule_comments comments;
  rule_comment_list footer;
  rule_field_info fields[RULE_F_COUNT];

  const char *name;
  const char *id;                 /* lowercase GUID, NULL when not given */
  const char *description;        /* NULL when not given */
  rule_direction direction;
  const char *connector;          /* connector name, NULL when not given */
  const char *source_type;        /* inbound: connector-space type; outbound: metaverse type */
  const char *target_type;
  rule_link link;
  int32_t precedence;             /* lower wins; valid when fields[RULE_F_PRECEDENCE].valid */
  const char *precedence_before;  /* GUIDs; NULL when absent or all zeros */
  const char *precedence_after;
  bool disabled;
  const char *immutable_tag;      /* NULL when absent or empty */
  int64_t soft_delete_seconds;
  bool enable_password_sync;
  expr_dialect dialect;           /* the rule's own, else its file's, else connect */
  const char *owner;              /* metadata, NULL when absent */
  const char *purpose;
  rule_date review_by;            /* valid when fields[RULE_F_REVIEW_BY].valid */
  const char **allow;             /* `allow ATTR...`: guarded attributes the house policy lets
                                   * this rule write (`rules check --policy`) */
  size_t n_allow;

  scope_group *scope;             /* no groups: every object is in scope */
  size_t n_scope;
  join_group *join;
  size_t n_join;
  rule_flow *flows;
  size_t n_flows;
} rule;

/* ---- collections ---- */

/* `collection NAME { source TYPE  scope { ... }  owner/purpose/review-by/description }`: the
 * metaverse objects of one type that a scoping filter selects.  The engine keeps each as a
 * metaverse object of type RULE_COLLECTION_TYPE whose `member` references them, which
 * outbound rules (`source collection -> group`) write like any other object.  A collection
 * is held in a rule struct: it uses the fields description, source (source_type alone;
 * target_type stays NULL), owner, purpose, review-by and scope; the rest stay unset. */
typedef rule rule_collection;

#define RULE_COLLECTION_TYPE "collection"
/* The attributes the engine gives a collection's metaverse object: name and displayName
 * (the collection's name), description, owner, purpose (when given) and member. */
extern const rule_attr_decl rule_collection_attrs[];
extern const size_t rule_n_collection_attrs;

/* ---- files and the whole set ---- */

typedef enum rule_item_kind {
  RULE_ITEM_CONNECTOR, RULE_ITEM_METAVERSE, RULE_ITEM_RULE, RULE_ITEM_COLLECTION
} rule_item_kind;

/* A top-level item of a file, in source order: an index into the set's array of its kind. */
typedef struct rule_item {
  rule_item_kind kind;
  size_t index;
} rule_item;

typedef struct rule_file {
  const char *name;
  bool has_dialect;         /* a file-level `dialect` line: the default for its rules */
  expr_dialect dialect;
  rule_pos dialect_pos;
  rule_comments dialect_comments;
  rule_comment_list footer; /* comments after the last item */
  rule_item *items;
  size_t n_items;
} rule_file;

typedef struct rule_set_impl rule_set_impl;

typedef struct rule_set {
  rule_file *files;
  size_t n_files;
  rule_connector *connectors;
  size_t n_connectors;
  rule_metaverse *metaverse;
  size_t n_metaverse;
  rule *rules;
  size_t n_rules;
  rule_collection *collections;
  size_t n_collections;
  rule_set_impl *impl;      /* private: arena and growth state */
} rule_set;

/* ---- diagnostics ---- */

typedef enum rule_severity { RULE_SEV_ERROR = 0, RULE_SEV_WARNING } rule_severity;

typedef struct rule_diag {
  const char *file;
  uint32_t line, col;
  rule_severity severity;
  const char *message;      /* says what was expected and what was found */
} rule_diag;

typedef struct rule_diags {
  rule_diag *items;
  size_t n;
  size_t n_errors;
  size_t cap;
  mvs_arena *arena;         /* holds the file names and messages */
} rule_diags;

void rule_diags_init(rule_diags *d);
void rule_diags_free(rule_diags *d);
/* Order by file name, line, column (stable), as the CLI prints them. */
void rule_diags_sort(rule_diags *d);
/* Append "file:line:col: error: message\n" (or "warning:") for each diagnostic. */
int rule_diags_format(const rule_diags *d, buf *out);

/* ---- entry points ---- */

/* An empty rule set; NULL when out of memory. */
rule_set *rule_set_new(void);
void rule_set_free(rule_set *rs);

/* Parse one file's bytes (src[0..len), need not be NUL-terminated) into rs, adding its
 * connectors, metaverse blocks and rules.  Syntax errors, unknown keywords and values, bad
 * GUIDs/dates and expression errors become diagnostics; parsing recovers and goes on, so one
 * call reports many errors.  Returns RULE_OK, RULE_INVALID or RULE_NOMEM. */
int rule_set_parse(rule_set *rs, const char *file, const char *src, size_t len,
                   rule_diags *d);

/* Semantic checks across everything parsed so far (duplicate ids, names and precedences,
 * undeclared connectors and attributes, merge-type conflicts, link-type misuse, missing
 * fields, collections: duplicate or unknown names; review-by dates before `today` are
 * warnings).  Returns RULE_OK when no error was
 * added (warnings allowed), else RULE_INVALID or RULE_NOMEM. */
int rule_set_check(const rule_set *rs, rule_date today, rule_diags *d);

/* Append the canonical text of file `file_index` of rs to out.  Formatting is idempotent and
 * keeps full-line and end-of-line comments.  Meant for files that parsed without errors. */
int rule_fmt_file(const rule_set *rs, size_t file_index, buf *out);

/* Append the rule set as JSON (schema: docs/rules-json.md).  With RULE_JSON_POSITIONS every
 * node carries "pos": "file:line:col"; without, the output depends only on the meaning of
 * the rules, so a file and its formatted text give the same JSON. */
enum { RULE_JSON_POSITIONS = 1 };
int rule_set_to_json(const rule_set *rs, unsigned flags, buf *out);

/* ---- search filters (`mvsync search`, docs/cli.md) ---- */

/* A filter is the scope grammar without its braces — clauses joined by `and`, groups by
 * `or` — where a term may also be one of these state words standing alone. */
typedef enum filter_state {
  FILTER_CLAUSE = 0,       /* the term is its clause */
  FILTER_JOINED, FILTER_DISCONNECTOR, FILTER_PENDING_IMPORT, FILTER_PENDING_EXPORT,
  FILTER_ERROR,
  FILTER_STATE_COUNT
} filter_state;
extern const char *const filter_state_names[FILTER_STATE_COUNT];  /* "joined", ... */

typedef struct filter_term {
  rule_pos pos;
  filter_state state;
  scope_clause clause;     /* FILTER_CLAUSE only */
} filter_term;

/* Terms ANDed; the groups of a filter are ORed. */
typedef struct filter_group {
  rule_pos pos;
  filter_term *terms;
  size_t n_terms;
} filter_group;

typedef struct search_filter {
  filter_group *groups;    /* none: every object */
  size_t n_groups;
} search_filter;

/* Parse a search filter from text[0..len) into nodes in rs's arena; errors are diagnostics
 * at "filter:1:COLUMN".  Returns RULE_OK, RULE_INVALID or RULE_NOMEM. */
int search_filter_parse(rule_set *rs, const char *text, size_t len, rule_diags *d,
                        search_filter *out);

/* ---- lookups and names ---- */

const rule_connector *rule_set_connector(const rule_set *rs, const char *name);
const rule_mv_object *rule_set_mv_object(const rule_set *rs, const char *name);
const rule_collection *rule_set_collection(const rule_set *rs, const char *name);

/* Connect's target type `*` ("In from AD - ForeignSecurityPrincipal Join User",
 * foreignSecurityPrincipal -> *): an inbound join rule that joins a metaverse object of any
 * type. */
#define RULE_ANY_TYPE "*"
/* Whether inbound rule r flows to metaverse objects of `type`: its target type, in any case,
 * or any type for RULE_ANY_TYPE. */
bool rule_targets_type(const rule *r, const char *type);

/* Canonical spellings, as the formatter prints them ("inbound", "joinnoflow", "ISNOTNULL",
 * "mergecaseinsensitive", "reference", "entra", "cloud"). */
const char *rule_direction_name(rule_direction d);
const char *rule_link_name(rule_link l);
const char *scope_op_name(scope_op op);
const char *rule_merge_name(rule_merge m);
const char *rule_syntax_name(rule_syntax s);
const char *rule_connector_type_name(rule_connector_type t);
const char *rule_dialect_name(expr_dialect d);

#endif
