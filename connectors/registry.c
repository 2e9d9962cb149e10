/* registry — the connector types mvsync knows, configuration lookups and the run deadline.
 * Memory: nothing here allocates. */
#include <string.h>
#include <time.h>

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

const char *conn_config_get(const conn_config *c, const char *key)
{
  /* The last setting wins, as when a key is repeated in a rule file. */
  for (size_t i = c->n_settings; i-- > 0;)
    if (strcmp(c->settings[i].key, key) == 0)
      return c->settings[i].value;
  return NULL;
}

int64_t conn_config_remaining_ms(const conn_config *c)
{
  struct timespec ts;
  int64_t now;
  if (!c->deadline_ms)
    return -1;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  return now < c->deadline_ms ? c->deadline_ms - now : 0;
}
