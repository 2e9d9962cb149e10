/* shape — what ad, ldap and entra data look like (anchor, object types, attribute syntaxes, as
 * tables in shape.c) and how raw values become typed ones.  Memory: static tables; converted
 * values live in the caller's arena. */
#ifndef MVS_SHAPE_H
#define MVS_SHAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "schema/value.h"

typedef enum shape_syntax {
  SYN_STRING = 0, /* text (raw bytes that are not UTF-8 stay binary) */
  SYN_REF,        /* a DN (ad, ldap) or an object id (entra) */
  SYN_BINARY,     /* bytes: LDIF text as is, JSON base64 */
  SYN_GUID,       /* 16 bytes in .NET order: base64 bytes or GUID text */
  SYN_SID,        /* a SID: binary SID bytes become "S-1-..." text (other bytes stay bytes) */
  SYN_INT,        /* Int64 from decimal text */
  SYN_BOOL,       /* TRUE / FALSE */
  SYN_DT          /* LDAP GeneralizedTime or ISO 8601 */
} shape_syntax;

typedef struct shape_attr {
  const char *name;
  shape_syntax syntax;
} shape_attr;

/* An object type: its name, and (ad, ldap) the objectClass chain an add writes;
 * (entra) the Graph @odata.type and the snapshot collection holding it. */
typedef struct shape_type {
  const char *name;
  const char *classes;    /* "top,person,organizationalPerson,user" */
  const char *odata_type; /* "#microsoft.graph.user" */
  const char *collection; /* "users" */
} shape_type;

typedef struct shape {
  const char *name;        /* "ad", "ldap", "entra" */
  bool ldap;               /* entries named by DN (LDIF); else Graph objects named by id */
  const char *anchor_attr; /* objectGUID, entryUUID, id */
  const char *member_attr; /* a group's members: member (ad, ldap), members (entra) */
  const shape_attr *attrs;
  size_t n_attrs;
  /* Object types; for ad and ldap in priority order: an entry's type is the first whose
   * name is among its objectClass values (a computer is also a user). */
  const shape_type *types;
  size_t n_types;
} shape;

const shape *shape_find(const char *name);
/* The syntax of attr (options such as ";binary" ignored; names compare ignoring case). */
shape_syntax shape_syntax_of(const shape *s, const char *attr);
/* The type named by objectClass values: the first of the shape's types they list, else the
 * last value (the most specific class as AD lists them); NULL when there are none. */
const char *shape_type_of_classes(const shape *s, mvs_value classes);
/* The type with this name (case ignored), or NULL. */
const shape_type *shape_type_find(const shape *s, const char *name);
/* The entra type of an "@odata.type" ("#microsoft.graph.orgContact" -> "contact"; unknown
 * ones by their own name) or of a snapshot collection ("users"); NULL when unknown. */
const char *shape_type_of_odata(const shape *s, const char *odata_type);
const char *shape_type_of_collection(const shape *s, const char *collection);

/* Convert a raw value (STR; BIN from LDIF base64, text when shape_is_text says so; NUM or
 * BOOL from JSON; REF from a JSON {"id":…}) to the syntax.  `json` says the raw value came from
 * JSON (binary is then base64 text).  Returns 0; -1 when the value does not fit the syntax (*why
 * says why); -2 when the arena is full. */
int shape_convert(shape_syntax syn, mvs_value raw, bool json, mvs_arena *a, mvs_value *out,
                  const char **why);

/* The "S-1-5-21-..." text of a binary SID (revision, count, 6-byte authority, count 32-bit
 * little-endian subauthorities) into out (SHAPE_SID_TEXT_MAX bytes); -1 when not a SID. */
#define SHAPE_SID_TEXT_MAX 192
int shape_sid_format(const unsigned char *p, size_t n, char *out);
/* The binary form of "S-1-..." text into out (SHAPE_SID_BIN_MAX bytes), *outn its length;
 * -1 when the text is not a SID. */
#define SHAPE_SID_BIN_MAX 68
int shape_sid_parse(const char *p, size_t n, unsigned char *out, size_t *outn);

/* Whether bytes can be a string value: UTF-8 without NUL bytes. */
bool shape_is_text(const char *p, size_t n);

/* Parse LDAP GeneralizedTime ("20240131101500.0Z", with optional minutes, seconds, fraction
 * and offset) into ticks; 0 or -1. */
int shape_parse_gentime(const char *p, size_t n, int64_t *ticks);
/* Format ticks as GeneralizedTime ("20240131101500.0Z"); out holds 26 bytes. */
void shape_format_gentime(int64_t ticks, char *out);

#endif
