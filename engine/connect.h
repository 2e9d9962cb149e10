/* connect — a rule-set connector opened through connectors/connector.h: its settings
 * resolved (secrets, relative paths), its attribute lists; and the SelectUniqueValue
 * question put to its directory.  Memory: an open_connector owns what it resolved;
 * connector_close_for releases it. */
#ifndef MVS_CONNECT_H
#define MVS_CONNECT_H

#include <stdbool.h>
#include <stddef.h>

#include "connectors/connector.h"
#include "engine/engine_int.h"

typedef struct open_connector {
  const connector_ops *ops;
  connector *conn;
  conn_config cfg;
  conn_setting *settings;   /* owned: values resolved (secrets, relative paths) */
  char **owned;             /* strings the settings point to */
  size_t n_owned, cap_owned;
  size_t cap_attrs, cap_ref_attrs;  /* of attrs and ref_attrs (counts: cfg.n_attrs, ...) */
  const char **attrs, **ref_attrs;
  char *types_csv;
} open_connector;
/* What an import of c reads: the attributes (oc->attrs, oc->ref_attrs, counted in oc->cfg)
 * and the object types (oc->types_csv; NULL: every type), from its declarations and rules,
 * into a zeroed oc (connector_close_for frees them).  0, or -1 when out of memory. */
int connector_import_list(conn_info *c, open_connector *oc);
int connector_open_for(mvs_engine *e, conn_info *c, open_connector *oc);
/* SelectUniqueValue: whether the directory of c holds value in attr on an object other than
 * except_anchor (NULL: none excepted), through connector_ops.value_taken (c->asked is opened
 * on first use).  A connector that cannot be asked answers not taken.  ENGINE_* codes. */
int connector_value_taken(mvs_engine *e, conn_info *c, const char *object_type,
                          const char *attr, const char *value, const char *except_anchor,
                          bool *taken);
/* An object of connector cid as the engine last imported it (conn_sink.lookup and
 * conn_export_env.lookup answer with this): by DN compared as case-folded text, or by anchor
 * when dn is NULL; present and not marked deleted.  *out's strings live in a; norm is the
 * caller's scratch.  1 found, 0 not found, -1 a store error. */
int connector_cs_lookup(store *st, int64_t cid, const char *dn, const char *anchor, mvs_arena *a,
                        buf *norm, conn_found *out);
/* The data shape of a connector (its "shape" setting, else its type); NULL when none. */
const struct shape *engine_conn_shape(const conn_info *c);
void connector_close_for(open_connector *oc);

#endif
