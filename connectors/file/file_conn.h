/* file_conn — the file connector (type "file"): a directory kept as a snapshot plus an
 * append-only change log, in LDIF (shapes ad, ldap) or Graph-shaped JSON (shape entra); see
 * docs/internals/file-connector.md.  Memory: as connector.h says. */
#ifndef MVS_FILE_CONN_H
#define MVS_FILE_CONN_H

#include "connectors/connector.h"

extern const connector_ops file_connector_ops;

#endif
