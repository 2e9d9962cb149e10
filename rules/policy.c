/* policy — the house policy of `rules check --policy`.  See policy.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/authority.h"
#include "rules/dsl_int.h"
#include "rules/policy.h"

/* Attributes whose writing grants or changes privilege in Active Directory: account control
 * flags (enable, delegation, password not required) and Kerberos delegation. */
static const char *const guarded_attrs[] = {
  "userAccountControl", "msDS-AllowedToDelegateTo", "msDS-AllowedToActOnBehalfOfOtherIdentity",
};

/* The protected groups of Active Directory (Microsoft, "Appendix C: Protected Accounts and
 * Groups in Active Directory"): membership in them is administrative access. */
static const char *const protected_groups[] = {
  "Account Operators", "Administrators", "Backup Operators", "Domain Admins",
  "Domain Controllers", "Enterprise Admins", "Print Operators",
  "Read-only Domain Controllers", "Replicator", "Schema Admins", "Server Operators",
};

#define COUNT(a) (sizeof a / sizeof a[0])

typedef struct policy {
  const rule_set *rs;
  rule_diags *d;
  int n;
  bool nomem;
} policy;

static void breach(policy *p, rule_pos pos, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void breach(policy *p, rule_pos pos, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (rule_diag_vadd(p->d, pos, RULE_SEV_ERROR, fmt, ap) != 0)
    p->nomem = true;
  va_end(ap);
  p->n++;
}

static bool allows(const rule *r, const char *attr)
{
  for (size_t i = 0; i < r->n_allow; i++)
    if (strcasecmp(r->allow[i], attr) == 0)
      return true;
  return false;
}

/* The protected group a text names ("Domain Admins", "CN=Domain Admins,CN=Users,..."); NULL
 * when none. */
static const char *protected_group(const char *text, size_t n)
{
  if (n > 3 && strncasecmp(text, "CN=", 3) == 0) {
    const char *comma = memchr(text, ',', n);
    text += 3;
    n = (comma ? (size_t)(comma - text) : n - 3);
  }
  for (size_t i = 0; i < COUNT(protected_groups); i++)
    if (strlen(protected_groups[i]) == n && strncasecmp(protected_groups[i], text, n) == 0)
      return protected_groups[i];
  return NULL;
}

/* A protected group an outbound group rule names: its collection joined by name, a constant
 * cn or dn, or a scope clause `cn|name|displayName|sAMAccountName EQUAL "X"`. */
static const char *named_protected_group(const rule_set *rs, const rule *r)
{
  const rule_collection *c = authority_rule_collection(rs, r);
  const char *g;
  for (size_t i = 0; c && i < r->n_join; i++)
    for (size_t k = 0; k < r->join[i].n_conditions; k++) {
      const char *mv = r->join[i].conditions[k].mv_attr;
      if ((strcmp(mv, "name") == 0 || strcmp(mv, "displayName") == 0) &&
          (g = protected_group(c->name, strlen(c->name))))
        return g;
    }
  for (size_t i = 0; i < r->n_flows; i++) {
    const rule_flow *f = &r->flows[i];
    if (f->type == RULE_FLOW_CONSTANT &&
        (strcasecmp(f->target, "cn") == 0 || strcasecmp(f->target, "dn") == 0) &&
        (g = protected_group(f->constant.text, f->constant.len)))
      return g;
  }
  for (size_t i = 0; !c && i < r->n_scope; i++)
    for (size_t k = 0; k < r->scope[i].n_clauses; k++) {
      const scope_clause *sc = &r->scope[i].clauses[k];
      if (sc->op == SCOPE_EQUAL && sc->n_values == 1 &&
          (strcasecmp(sc->attr, "cn") == 0 || strcmp(sc->attr, "name") == 0 ||
           strcmp(sc->attr, "displayName") == 0 || strcasecmp(sc->attr, "sAMAccountName") == 0) &&
          (g = protected_group(sc->values[0].text, sc->values[0].len)))
        return g;
    }
  return NULL;
}

static int date_cmp(rule_date a, rule_date b)
{
  if (a.year != b.year)
    return a.year < b.year ? -1 : 1;
  if (a.month != b.month)
    return a.month < b.month ? -1 : 1;
  return a.day < b.day ? -1 : a.day > b.day;
}

static void check_review(policy *p, const rule *r, bool collection, rule_date today)
{
  if (!r->fields[RULE_F_REVIEW_BY].valid || date_cmp(r->review_by, today) >= 0)
    return;
  breach(p, r->fields[RULE_F_REVIEW_BY].pos,
         "%s \"%s\" was due for review on %04d-%02d-%02d (today is %04d-%02d-%02d): house policy "
         "makes a passed review an error; review the dependency and set a new review-by, or "
         "remove it", collection ? "collection" : "rule", r->name, r->review_by.year,
         r->review_by.month, r->review_by.day, today.year, today.month, today.day);
}

static void check_writeback(policy *p, const rule *r)
{
  const rule_collection *c = authority_rule_collection(p->rs, r);
  const char *missing[3];
  size_t n = 0;
  const char *g;

  if (!r->owner && !(c && c->owner))
    missing[n++] = "owner";
  if (!r->purpose && !(c && c->purpose))
    missing[n++] = "purpose";
  if (!r->fields[RULE_F_REVIEW_BY].valid && !(c && c->fields[RULE_F_REVIEW_BY].valid))
    missing[n++] = "review-by";
  if (n)
    breach(p, r->pos, "rule \"%s\" writes to AD connector \"%s\" without %s%s%s%s%s: house "
           "policy wants owner, purpose and review-by on every writeback", r->name,
           r->connector, missing[0], n > 1 ? (n > 2 ? ", " : " and ") : "", n > 1 ? missing[1] : "",
           n > 2 ? " and " : "", n > 2 ? missing[2] : "");
  for (size_t i = 0; i < r->n_flows; i++) {
    const rule_flow *f = &r->flows[i];
    for (size_t k = 0; k < COUNT(guarded_attrs); k++)
      if (strcasecmp(f->target, guarded_attrs[k]) == 0 && !allows(r, f->target))
        breach(p, f->target_pos, "rule \"%s\" writes %s, a guarded attribute: house policy "
               "wants 'allow %s' in the rule", r->name, f->target, guarded_attrs[k]);
    if (strcasecmp(f->target, "member") == 0 && strcmp(r->target_type, "group") == 0 &&
        !allows(r, "member") && (g = named_protected_group(p->rs, r)))
      breach(p, f->target_pos, "rule \"%s\" writes the members of \"%s\", a protected group of "
             "Active Directory: house policy wants 'allow member' in the rule", r->name, g);
  }
}

int rule_set_policy(const rule_set *rs, rule_date today, rule_diags *d)
{
  policy p = {rs, d, 0, false};
  for (size_t i = 0; i < rs->n_rules; i++) {
    const rule *r = &rs->rules[i];
    if (r->disabled)
      continue;
    check_review(&p, r, false, today);
    if (r->direction == RULE_OUTBOUND && authority_is_ad(rule_set_connector(rs, r->connector)))
      check_writeback(&p, r);
  }
  for (size_t i = 0; i < rs->n_collections; i++)
    check_review(&p, &rs->collections[i], true, today);
  return p.nomem ? RULE_NOMEM : p.n ? RULE_INVALID : RULE_OK;
}
