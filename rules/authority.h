/* authority — who decides each identity outcome: from a rule set (and optionally a second
 * one, another engine's configuration), the rules that can set every metaverse attribute and
 * every connector attribute, in precedence order, with their source, scope in words, merge
 * type and the owner / purpose / review-by that governs them; the findings (split authority,
 * overlap with the other engine, ungoverned writeback, reviews past due) and the writeback
 * register (one row per outbound rule to an AD-type connector).  Pure: the store's facts
 * (wins, drift, objects in scope) are added by engine/authority.c.  docs/authority.md.
 * Memory: an authority_map owns everything it points to except the rule sets' nodes, which
 * stay the rule sets' (free the map before them): authority_free. */
#ifndef MVS_AUTHORITY_H
#define MVS_AUTHORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/ruleset.h"
#include "schema/buf.h"

/* One rule that can set an attribute. */
typedef struct auth_rule {
  const rule *r;
  const rule_flow *f;
  bool also;                  /* from the other engine's rule set (--also) */
  const char *source;         /* inbound: the rule's connector; outbound: the connectors that
                               * feed the metaverse attributes the flow reads, "constant" */
  const char *scope;          /* in words */
  const char *owner, *purpose;  /* the rule's, else its collection's; NULL: none */
  const char *review_by;      /* YYYY-MM-DD, NULL: none */
  const char *governed_by;    /* "rule" or the collection's name */
  int64_t wins;               /* objects it decides today; -1: no store */
} auth_rule;

typedef struct auth_attr {
  const char *space;          /* "metaverse" or a connector name */
  const char *object_type, *attribute;
  auth_rule *rules;           /* by precedence (this set first on a tie) */
  size_t n_rules, cap_rules;
  bool contested;             /* a split or overlap finding names it */
} auth_attr;

typedef enum auth_kind {
  AUTH_SPLIT = 0, AUTH_DRIFT, AUTH_OVERLAP, AUTH_UNGOVERNED, AUTH_REVIEW_PASSED
} auth_kind;

/* A drift finding's values, one per object, attribute value and action (from the store). */
typedef struct auth_change {
  const char *object, *value, *action, *rule;  /* action: remove, add, replace */
  int64_t runs, last_run;                      /* how many runs found it; the latest */
  const char *last_started;
} auth_change;

typedef struct auth_finding {
  auth_kind kind;
  const char *space, *object_type, *attribute;  /* NULL when it is not about one */
  const char **attributes;    /* overlap: every attribute both engines write */
  size_t n_attributes;
  const char **rules;
  size_t n_rules;
  const char **objects;       /* filled from the store; NULL/0 without one */
  size_t n_objects;
  int64_t n_objects_total;    /* objects concerned (the list may be cut); -1: no store */
  /* A split of a metaverse attribute, from the store's run history: how many times the rule
   * that contributes it changed on an object, in how many runs, the latest; -1: no store
   * (or not such a split). */
  int64_t winner_changes, winner_runs, winner_last_run;
  const char *detail;
  const char *resolution;     /* overlap: how a joinnoflow pair resolves it, NULL: unresolved */
  auth_change *changes;       /* drift */
  size_t n_changes;
} auth_finding;

typedef struct auth_register {
  const rule *r;
  const rule_collection *c;   /* the collection the rule writes, NULL: none */
  const char *purpose, *owner, *review_by;
  const char *population;     /* in words */
  const char **attributes;
  size_t n_attributes;
  const char **groups;        /* groups the rule names; "every group in scope" otherwise */
  size_t n_groups;
  const char **lifecycle;     /* provision, update, deprovision */
  size_t n_lifecycle;
  int64_t objects_in_scope;   /* -1: no store */
  const char *last_change;    /* NULL: no store, or never */
} auth_register;

typedef struct authority_map {
  mvs_arena *arena;
  auth_attr *attrs;           /* by space (metaverse first), object type, attribute */
  size_t n_attrs, cap_attrs;
  auth_finding *findings;     /* by kind, then space, object type, attribute */
  size_t n_findings, cap_findings;
  auth_register *reg;
  size_t n_reg, cap_reg;
  rule_date today;
} authority_map;

const char *auth_kind_name(auth_kind k);

/* A new finding in the map (the store's drift findings are added this way); NULL when out of
 * memory.  Strings must live as long as the map (its arena). */
auth_finding *authority_finding_add(authority_map *m, auth_kind k, const char *space,
                                    const char *object_type, const char *attribute);
/* Order the findings (kind, space, object type, attribute) after adding some. */
void authority_findings_sort(authority_map *m);

/* Compute the map of rs (checked, without errors) and, when also is not NULL, the overlap
 * with that other rule set.  connector: only the attributes, findings and register rows of
 * that connector (and the metaverse attributes its rules feed); NULL: all.  today: review
 * dates before it are findings.  0, or -1 when out of memory (m is then freed). */
int authority_compute(const rule_set *rs, const rule_set *also, const char *connector,
                      rule_date today, authority_map *m);
void authority_free(authority_map *m);

/* The attribute entry of a space / object type / attribute; NULL when no rule sets it. */
const auth_attr *authority_attr(const authority_map *m, const char *space,
                                const char *object_type, const char *attribute);

/* Whether connector conn writes to Active Directory: type ad, or a file connector shaped as
 * AD (shape "ad", or an .ldif snapshot). */
bool authority_is_ad(const rule_connector *conn);

/* The collection an outbound rule from `collection` writes (its scope `name EQUAL "X"`);
 * NULL when none. */
const rule_collection *authority_rule_collection(const rule_set *rs, const rule *r);

/* A rule's scope in words ("groups where cloudAnchor starts with \"Group_\""); a rule scoped
 * to a collection names it and its population.  Appended to out. */
int authority_scope_words(const rule_set *rs, const rule *r, buf *out);

#endif
