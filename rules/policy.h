/* policy — the house policy `mvsync rules check --policy` turns on (docs/authority.md): every
 * outbound rule to an AD-type connector carries owner, purpose and review-by (its own or its
 * collection's); a review-by that has passed is an error; writing a guarded attribute
 * (userAccountControl, the delegation attributes, member of a protected group) needs an
 * explicit `allow ATTR` in the rule.  Pure, like rule_check.  Memory: diagnostics go to the
 * caller's rule_diags. */
#ifndef MVS_POLICY_H
#define MVS_POLICY_H

#include "rules/ruleset.h"

/* Add an error for every breach of the policy in rs (checked, without errors); RULE_OK,
 * RULE_INVALID when any was found, RULE_NOMEM. */
int rule_set_policy(const rule_set *rs, rule_date today, rule_diags *d);

#endif
