/* config — a connector's settings as every connector type reads them (conn_config_get) and
 * the time left before the run's deadline; declared in connector.h beside conn_config.
 * Memory: nothing here allocates; settings are borrowed from the conn_config. */
#include <string.h>
#include <time.h>

#include "connectors/connector.h"

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
