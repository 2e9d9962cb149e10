/* catalog — the attribute catalogs shipped per connector type (schema/catalog/NAME.attrs),
 * compiled in by schema/embed.cmake with every tab and newline turned into a NUL: a catalog
 * is a run of C strings, a comment line ("# ...") or three fields per attribute (name,
 * syntax, single|multi), ended by an empty string.  Static data; nothing is allocated. */
#include <string.h>

#include "rules/dsl_int.h"

extern const char mvs_catalog_ad[];
extern const char mvs_catalog_entra[];

static const char *catalog_text(rule_connector_type t)
{
  switch (t) {
  case RULE_CONN_AD: return mvs_catalog_ad;
  case RULE_CONN_ENTRA: return mvs_catalog_entra;
  case RULE_CONN_LDAP: /* a generic LDAP server's schema is its own */
  case RULE_CONN_FILE: /* a file connector has the attributes it declares */
    break;
  }
  return NULL;
}

/* The next attribute name at or after *cur, or NULL at the end; *cur moves past its record. */
static const char *next_name(const char **cur)
{
  const char *p = *cur, *name;
  int field;

  while (*p == '#')
    p += strlen(p) + 1;
  if (!*p)
    return NULL;
  name = p;
  for (field = 0; field < 3 && *p; field++)
    p += strlen(p) + 1;
  *cur = p;
  return name;
}

bool rule_catalog_exists(rule_connector_type t)
{
  return catalog_text(t) != NULL;
}

bool rule_catalog_has(rule_connector_type t, const char *name, size_t n)
{
  const char *cur = catalog_text(t), *a;

  if (!cur)
    return false;
  while ((a = next_name(&cur)))
    if (strlen(a) == n && memcmp(a, name, n) == 0)
      return true;
  return false;
}

void rule_catalog_suggest(rule_connector_type t, rule_suggest *sg)
{
  const char *cur = catalog_text(t), *a;

  if (!cur)
    return;
  while ((a = next_name(&cur)))
    rule_suggest_add(sg, a);
}
