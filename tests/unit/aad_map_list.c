/* aad_map_list — prints schema/aad_map's table, one tab-separated line per AAD name: name,
 * object types (u g c d), fate on users, fate on groups, Graph property on users, on groups
 * ("-" when none), reason; then "type\tTYPE\twritable|refused" for the four Connect types.
 * tests/rules/aad_map_check.py holds it to the Connect export and docs/entra-mapping.md.
 * Memory: nothing allocated. */
#include <stdio.h>

#include "schema/aad_map.h"

static const char *fate(aad_fate f)
{
  return f == AAD_UNUSED ? "-" : aad_fate_name(f);
}

int main(void)
{
  static const char *const types[] = {"user", "group", "contact", "device"};
  const char *why;

  for (size_t i = 0; i < aad_n_attrs; i++) {
    const aad_attr *a = &aad_attrs[i];
    printf("%s\t%s%s%s%s\t%s\t%s\t%s\t%s\t%s\n", a->name, a->types & AAD_USER_BIT ? "u" : "",
           a->types & AAD_GROUP_BIT ? "g" : "", a->types & AAD_CONTACT_BIT ? "c" : "",
           a->types & AAD_DEVICE_BIT ? "d" : "", fate(a->fate[0]), fate(a->fate[1]),
           a->graph[0] ? a->graph[0] : "-", a->graph[1] ? a->graph[1] : "-", a->reason);
  }
  for (size_t i = 0; i < 4; i++)
    printf("type\t%s\t%s\n", types[i], aad_type_writable(types[i], &why) ? "writable" : "refused");
  return 0;
}
