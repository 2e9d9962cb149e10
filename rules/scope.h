/* scope — evaluate a rule's scoping filter against one object's attributes, with the reason
 * when the object is out of scope (for `mvsync preview`).
 * Memory: nothing here allocates; attribute values belong to the caller's callback. */
#ifndef MVS_SCOPE_H
#define MVS_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/ruleset.h"
#include "schema/value.h"

/* What evaluation may read, supplied by the caller (the same shape as expr_env.attr). */
typedef struct scope_env {
  /* Value of attribute `name` (MVS_V_NULL when absent). Required. */
  mvs_value (*attr)(void *u, const char *name, size_t n);
  /* ISMEMBEROF: 1 when the object is a member of the group with this DN, 0 when not, -1 on
   * error.  NULL: a scope using ISMEMBEROF/ISNOTMEMBEROF fails to evaluate. */
  int (*is_member_of)(void *u, const char *group_dn, size_t n);
  void *u;
} scope_env;

typedef struct scope_verdict {
  bool in_scope;
  /* In scope: the first group that holds (SIZE_MAX for an empty scope), clause SIZE_MAX.
   * Out of scope: the group that got furthest (most leading clauses held; the first such
   * group on a tie) and the index of its first clause that failed. */
  size_t group;
  size_t clause;
} scope_verdict;

/* 1 when the clause holds, 0 when not, -1 when a callback failed. */
int scope_clause_eval(const scope_clause *c, const scope_env *env);

/* 1 when every clause of g holds; 0 when not, with *failed set to the first failing clause;
 * -1 when a callback failed. */
int scope_group_eval(const scope_group *g, const scope_env *env, size_t *failed);

/* Evaluate the rule's whole scope: 0 with *v set, or -1 when a callback failed. */
int rule_scope_eval(const rule *r, const scope_env *env, scope_verdict *v);

#endif
