/* ldap_conn — the AD and generic LDAP connector types (one implementation): settings, open,
 * close; import and export live beside it.  Memory: see connector.h. */
#ifndef MVS_LDAP_CONN_H
#define MVS_LDAP_CONN_H

#include "connectors/connector.h"

extern const connector_ops ad_connector_ops;
extern const connector_ops ldap_connector_ops;

#endif
