/* import — full import: a paged search (search.c) of each container for the configured
 * object types, after taking the watermark the next delta (delta.c) starts from.
 * See ldap_int.h. */
#include <stdlib.h>
#include <string.h>

#include "connectors/ldap/ldap_int.h"

typedef struct full_ctx {
  connector *c;
  const conn_sink *sink;
  char **err;
} full_ctx;

static int full_entry(void *u, LDAPMessage *e)
{
  full_ctx *f = u;
  return lc_deliver(f->c, f->sink, e, LC_READ_WHOLE, CONN_OBJ_FULL, f->err);
}

int lc_import(connector *c, conn_import_mode mode, const char *watermark, const conn_sink *sink,
              char **new_watermark, char **err)
{
  full_ctx f = {c, sink, err};
  char *wm = NULL;
  int rc;

  if ((rc = lc_connect(c, err)) != CONN_OK)
    return rc;
  if (mode == CONN_IMPORT_DELTA)
    return lc_delta(c, watermark, sink, new_watermark, err);
  /* The watermark first: what changes during the full import comes again in the next delta. */
  if ((rc = lc_delta_start(c, sink, &wm, err)) != CONN_OK)
    return rc;
  for (size_t i = 0; i < c->n_containers && rc == CONN_OK; i++) {
    lc_search s = {c->containers[i], LDAP_SCOPE_SUBTREE, c->type_filter, NULL};
    rc = lc_paged(c, &s, full_entry, &f, err);
  }
  if (rc != CONN_OK) {
    free(wm);
    return rc;
  }
  *new_watermark = wm;
  return CONN_OK;
}
