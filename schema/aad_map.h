/* aad_map — what Microsoft Graph v1.0 does with each attribute name of Connect Sync's Azure AD
 * connector: every name the "Out to AAD" rules of a Connect export write (the contoso export
 * in ../shared/reference, which covers Connect's documented synchronized-attribute list), with
 * its Graph property per object type and the fate of a write:
 *   mapped     — written as that Graph property (the entra connector translates the name);
 *   read-only  — Graph has the property and refuses writes;
 *   no property — Graph has nothing to hold it;
 *   not sent yet — Graph can take it, the connector does not write it yet.
 * Users and groups are the object types Graph creates for an application; organizational
 * contacts (read-only in Graph) and devices (Create device takes no application permission)
 * are refused whole.  The one-line reasons come from Microsoft Learn (docs/entra-mapping.md
 * cites the pages).  Used by rules/rule_check.c (rules check) and connectors/graph/export.c.
 * Memory: static data; nothing is allocated, returned strings live forever. */
#ifndef MVS_AAD_MAP_H
#define MVS_AAD_MAP_H

#include <stdbool.h>
#include <stddef.h>

typedef enum aad_fate {
  AAD_UNUSED,      /* the Connect rules never write it on this type: the name is Graph's own */
  AAD_MAPPED,
  AAD_READ_ONLY,
  AAD_NO_PROPERTY,
  AAD_NOT_SENT
} aad_fate;

enum { AAD_USER_BIT = 1, AAD_GROUP_BIT = 2, AAD_CONTACT_BIT = 4, AAD_DEVICE_BIT = 8 };

typedef struct aad_attr {
  const char *name;       /* the AAD connector's attribute name */
  unsigned types;         /* AAD_*_BIT: the object types Connect's rules write it on */
  aad_fate fate[2];       /* on users, on groups */
  const char *graph[2];   /* the Graph property on users, on groups (mapped, read-only, not
                             sent yet), or NULL */
  const char *reason;
} aad_attr;

extern const aad_attr aad_attrs[];
extern const size_t aad_n_attrs;

/* The entry of an AAD attribute name (exact spelling), or NULL. */
const aad_attr *aad_attr_find(const char *name);

/* Whether Graph creates objects of this type for an application: "user" and "group" (any
 * case) do; for any other type *why says why not (contact, device, or unknown). */
bool aad_type_writable(const char *type, const char **why);

/* What becomes of attribute name written on an object of type ("user" or "group"): its fate
 * and the Graph property (*graph: the name itself when Graph's own or unused; else the
 * mapped or refused property, or NULL), and *reason (NULL when AAD_UNUSED). */
aad_fate aad_attr_fate(const char *type, const char *name, const char **graph,
                       const char **reason);

/* Why Entra computes the Graph property of AAD attribute name (exact spelling) when the sync
 * sends no value, and keeps it when the on-premises value goes -- so a rule's missing value
 * must leave it alone rather than clear it -- or NULL when Entra does not.  alias
 * (mailNickname) is the one: Graph requires it and Entra's sync computes it (KB 3190357). */
const char *aad_computed(const char *name);

/* "mapped", "read-only", "no Graph property", "not sent yet" ("" for AAD_UNUSED). */
const char *aad_fate_name(aad_fate f);

#endif
