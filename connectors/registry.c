/* registry — the connector types mvsync knows (connector_find).
 * Memory: nothing here allocates. */
#include <string.h>

#include "connectors/connector.h"
#include "connectors/file/file_conn.h"
#include "connectors/ldap/ldap_conn.h"
#include "connectors/graph/graph_conn.h"

/* One line per connector type. */
static const connector_ops *const registry[] = {
    &file_connector_ops,
    &ad_connector_ops,
    &ldap_connector_ops,
    &entra_connector_ops,
};

const connector_ops *connector_find(const char *type)
{
  for (size_t i = 0; type && i < sizeof registry / sizeof *registry; i++)
    if (strcmp(registry[i]->type, type) == 0)
      return registry[i];
  return NULL;
}
