/* graph_conn — the Entra ID connector (type "entra") over Microsoft Graph: delta imports of
 * users and groups, group exports through $batch.  See docs/internals/graph-connector.md.
 * Memory: see connector.h. */
#ifndef MVS_GRAPH_CONN_H
#define MVS_GRAPH_CONN_H

#include "connectors/connector.h"

extern const connector_ops entra_connector_ops;

#endif
