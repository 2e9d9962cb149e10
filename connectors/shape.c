/* shape — the ad, ldap and entra data shapes as tables, and raw value conversion.
 * See shape.h. */
#include "connectors/shape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/base64.h"
#include "connectors/guid.h"
#include "schema/utf8.h"

static const shape_attr ad_attrs[] = {
    {"objectGUID", SYN_GUID},
    {"mS-DS-ConsistencyGuid", SYN_GUID},
    {"msExchMailboxGuid", SYN_GUID},
    {"msExchArchiveGUID", SYN_GUID},
    {"objectSid", SYN_SID},
    {"sIDHistory", SYN_SID},
    {"thumbnailPhoto", SYN_BINARY},
    {"jpegPhoto", SYN_BINARY},
    {"userCertificate", SYN_BINARY},
    {"member", SYN_REF},
    {"memberOf", SYN_REF},
    {"manager", SYN_REF},
    {"directReports", SYN_REF},
    {"managedBy", SYN_REF},
    {"managedObjects", SYN_REF},
    {"userAccountControl", SYN_INT},
    {"groupType", SYN_INT},
    {"sAMAccountType", SYN_INT},
    {"primaryGroupID", SYN_INT},
    {"pwdLastSet", SYN_INT},
    {"accountExpires", SYN_INT},
    {"lastLogonTimestamp", SYN_INT},
    {"msExchRecipientTypeDetails", SYN_INT},
    {"msExchRecipientDisplayType", SYN_INT},
    {"whenCreated", SYN_DT},
    {"whenChanged", SYN_DT},
    {"isCriticalSystemObject", SYN_BOOL},
    {"showInAdvancedViewOnly", SYN_BOOL},
    {"msExchHideFromAddressLists", SYN_BOOL},
};

static const shape_type ad_types[] = {
    {"computer", "top,person,organizationalPerson,user,computer", NULL, NULL},
    {"inetOrgPerson", "top,person,organizationalPerson,user,inetOrgPerson", NULL, NULL},
    {"user", "top,person,organizationalPerson,user", NULL, NULL},
    {"contact", "top,person,organizationalPerson,contact", NULL, NULL},
    {"group", "top,group", NULL, NULL},
    {"foreignSecurityPrincipal", "top,foreignSecurityPrincipal", NULL, NULL},
    {"organizationalUnit", "top,organizationalUnit", NULL, NULL},
    {"container", "top,container", NULL, NULL},
    {"domainDNS", "top,domain,domainDNS", NULL, NULL},
};

static const shape_attr ldap_attrs[] = {
    {"member", SYN_REF},           {"uniqueMember", SYN_REF},
    {"manager", SYN_REF},          {"owner", SYN_REF},
    {"seeAlso", SYN_REF},          {"secretary", SYN_REF},
    {"roleOccupant", SYN_REF},     {"memberOf", SYN_REF},
    {"jpegPhoto", SYN_BINARY},     {"photo", SYN_BINARY},
    {"audio", SYN_BINARY},         {"userCertificate", SYN_BINARY},
    {"cACertificate", SYN_BINARY}, {"userPKCS12", SYN_BINARY},
    {"uidNumber", SYN_INT},        {"gidNumber", SYN_INT},
    {"createTimestamp", SYN_DT},   {"modifyTimestamp", SYN_DT},
};

static const shape_type ldap_types[] = {
    {"inetOrgPerson", "top,person,organizationalPerson,inetOrgPerson", NULL, NULL},
    {"organizationalPerson", "top,person,organizationalPerson", NULL, NULL},
    {"person", "top,person", NULL, NULL},
    {"groupOfNames", "top,groupOfNames", NULL, NULL},
    {"groupOfUniqueNames", "top,groupOfUniqueNames", NULL, NULL},
    {"posixGroup", "top,posixGroup", NULL, NULL},
    {"organizationalUnit", "top,organizationalUnit", NULL, NULL},
    {"organization", "top,organization", NULL, NULL},
    {"domain", "top,domain", NULL, NULL},
};

static const shape_attr entra_attrs[] = {
    {"members", SYN_REF},
    {"owners", SYN_REF},
    {"manager", SYN_REF},
    {"memberOf", SYN_REF},
    {"createdDateTime", SYN_DT},
    {"deletedDateTime", SYN_DT},
    {"onPremisesLastSyncDateTime", SYN_DT},
    {"lastPasswordChangeDateTime", SYN_DT},
    {"employeeHireDate", SYN_DT},
    {"employeeLeaveDateTime", SYN_DT},
    {"renewedDateTime", SYN_DT},
    {"expirationDateTime", SYN_DT},
    {"refreshTokensValidFromDateTime", SYN_DT},
    {"signInSessionsValidFromDateTime", SYN_DT},
};

static const shape_type entra_types[] = {
    {"user", NULL, "#microsoft.graph.user", "users"},
    {"group", NULL, "#microsoft.graph.group", "groups"},
    {"contact", NULL, "#microsoft.graph.orgContact", "contacts"},
    {"device", NULL, "#microsoft.graph.device", "devices"},
};

#define N(a) (sizeof(a) / sizeof *(a))

static const shape shapes[] = {
    {"ad", true, "objectGUID", "member", ad_attrs, N(ad_attrs), ad_types, N(ad_types)},
    {"ldap", true, "entryUUID", "member", ldap_attrs, N(ldap_attrs), ldap_types, N(ldap_types)},
    {"entra", false, "id", "members", entra_attrs, N(entra_attrs), entra_types, N(entra_types)},
};

const shape *shape_find(const char *name)
{
  for (size_t i = 0; name && i < N(shapes); i++)
    if (strcmp(shapes[i].name, name) == 0)
      return &shapes[i];
  return NULL;
}

shape_syntax shape_syntax_of(const shape *s, const char *attr)
{
  size_t n = strcspn(attr, ";");
  for (size_t i = 0; i < s->n_attrs; i++)
    if (strlen(s->attrs[i].name) == n && strncasecmp(s->attrs[i].name, attr, n) == 0)
      return s->attrs[i].syntax;
  return SYN_STRING;
}

const char *shape_type_of_classes(const shape *s, mvs_value classes)
{
  size_t n = mvs_count(classes);
  for (size_t t = 0; t < s->n_types; t++)
    for (size_t i = 0; i < n; i++) {
      mvs_value v = mvs_item(classes, i);
      if (v.type == MVS_V_STR && strcasecmp(v.u.s.p, s->types[t].name) == 0)
        return s->types[t].name;
    }
  if (n == 0 || mvs_item(classes, n - 1).type != MVS_V_STR)
    return NULL;
  return mvs_item(classes, n - 1).u.s.p;
}

const shape_type *shape_type_find(const shape *s, const char *name)
{
  for (size_t i = 0; i < s->n_types; i++)
    if (strcasecmp(s->types[i].name, name) == 0)
      return &s->types[i];
  return NULL;
}

const char *shape_type_of_odata(const shape *s, const char *odata_type)
{
  static const char prefix[] = "#microsoft.graph.";
  for (size_t i = 0; i < s->n_types; i++)
    if (s->types[i].odata_type && strcmp(s->types[i].odata_type, odata_type) == 0)
      return s->types[i].name;
  if (strncmp(odata_type, prefix, sizeof prefix - 1) != 0 || !odata_type[sizeof prefix - 1])
    return NULL;
  /* Graph type names are identifiers; anything else is not a type. */
  for (const char *p = odata_type + sizeof prefix - 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      return NULL;
  return odata_type + sizeof prefix - 1;
}

const char *shape_type_of_collection(const shape *s, const char *collection)
{
  for (size_t i = 0; i < s->n_types; i++)
    if (s->types[i].collection && strcmp(s->types[i].collection, collection) == 0)
      return s->types[i].name;
  return NULL;
}

bool shape_is_text(const char *p, size_t n)
{
  size_t i = 0, len;
  while (i < n) {
    if (p[i] == '\0' || (utf8_decode(p + i, n - i, &len) == 0xFFFD && len == 1))
      return false;
    i += len;
  }
  return true;
}

static int digits(const char **p, const char *end, int w, int *out)
{
  int v = 0;
  for (int i = 0; i < w; i++, (*p)++) {
    if (*p >= end || **p < '0' || **p > '9')
      return -1;
    v = v * 10 + (**p - '0');
  }
  *out = v;
  return 0;
}

int shape_parse_gentime(const char *p, size_t n, int64_t *ticks)
{
  const char *end = p + n;
  int y, mo, d, h, mi = 0, s = 0, oh = 0, om = 0;
  int64_t frac = 0, scale = MVS_TICKS_PER_SEC, t;

  if (digits(&p, end, 4, &y) || digits(&p, end, 2, &mo) || digits(&p, end, 2, &d) ||
      digits(&p, end, 2, &h))
    return -1;
  if (p < end && *p >= '0' && *p <= '9') {
    if (digits(&p, end, 2, &mi))
      return -1;
    if (p < end && *p >= '0' && *p <= '9' && digits(&p, end, 2, &s))
      return -1;
  }
  /* A fraction applies to the last field given; mvsync keeps it only for seconds, the form
   * AD and OpenLDAP write. */
  if (p < end && (*p == '.' || *p == ',')) {
    p++;
    if (p >= end || *p < '0' || *p > '9')
      return -1;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
      if (scale > 1) {
        scale /= 10;
        frac += (*p - '0') * scale;
      }
  }
  if (p < end && *p == 'Z') {
    p++;
  } else if (p < end && (*p == '+' || *p == '-')) {
    int sign = *p++ == '-' ? -1 : 1;
    if (digits(&p, end, 2, &oh) || (p < end && digits(&p, end, 2, &om)) || oh > 23 || om > 59)
      return -1;
    oh *= sign;
    om *= sign;
  } else {
    return -1; /* mvsync needs a zone to place a time (local time is ambiguous) */
  }
  if (p != end || mvs_dt_from_fields(y, mo, d, h, mi, s, frac, &t) != 0)
    return -1;
  t -= ((int64_t)oh * 3600 + (int64_t)om * 60) * MVS_TICKS_PER_SEC;
  if (t < 0 || t > MVS_TICKS_MAX)
    return -1;
  *ticks = t;
  return 0;
}

void shape_format_gentime(int64_t ticks, char *out)
{
  int y, mo, d, h, mi, s;
  int64_t frac;
  mvs_dt_to_fields(ticks, &y, &mo, &d, &h, &mi, &s, &frac);
  if (frac == 0)
    snprintf(out, 26, "%04d%02d%02d%02d%02d%02d.0Z", y, mo, d, h, mi, s);
  else
    snprintf(out, 26, "%04d%02d%02d%02d%02d%02d.%07lldZ", y, mo, d, h, mi, s, (long long)frac);
}

int shape_sid_format(const unsigned char *p, size_t n, char *out)
{
  uint64_t auth = 0;
  size_t len;
  /* At most 15 subauthorities (SID_MAX_SUB_AUTHORITIES). */
  if (n < 8 || p[0] != 1 || p[1] > 15 || n != 8 + 4 * (size_t)p[1])
    return -1;
  for (int i = 2; i < 8; i++)
    auth = auth << 8 | p[i];
  len = (size_t)snprintf(out, SHAPE_SID_TEXT_MAX, "S-1-%llu", (unsigned long long)auth);
  for (size_t i = 0; i < p[1]; i++) {
    const unsigned char *s = p + 8 + 4 * i;
    uint32_t sub =
        (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
    len += (size_t)snprintf(out + len, SHAPE_SID_TEXT_MAX - len, "-%lu", (unsigned long)sub);
  }
  return 0;
}

/* A decimal number of at most max from *p (no sign, no leading '+'). */
static int sid_number(const char **p, const char *end, uint64_t max, uint64_t *out)
{
  uint64_t v = 0;
  const char *start = *p;
  for (; *p < end && **p >= '0' && **p <= '9'; (*p)++) {
    v = v * 10 + (uint64_t)(**p - '0');
    if (v > max)
      return -1;
  }
  *out = v;
  return *p == start ? -1 : 0;
}

int shape_sid_parse(const char *p, size_t n, unsigned char *out, size_t *outn)
{
  const char *end = p + n;
  uint64_t auth, sub;
  size_t count = 0;

  if (n < 4 || memcmp(p, "S-1-", 4) != 0)
    return -1;
  p += 4;
  if (sid_number(&p, end, UINT64_C(0xFFFFFFFFFFFF), &auth) != 0)
    return -1;
  out[0] = 1;
  for (int i = 0; i < 6; i++)
    out[2 + i] = (unsigned char)(auth >> (8 * (5 - i)));
  while (p < end) {
    if (*p++ != '-' || count == 15 || sid_number(&p, end, UINT32_MAX, &sub) != 0)
      return -1;
    for (int i = 0; i < 4; i++)
      out[8 + 4 * count + (size_t)i] = (unsigned char)(sub >> (8 * i));
    count++;
  }
  out[1] = (unsigned char)count;
  *outn = 8 + 4 * count;
  return 0;
}

static int parse_int(const char *p, size_t n, int64_t *out)
{
  char tmp[24], *end;
  long long v;
  if (n == 0 || n >= sizeof tmp || (p[0] != '-' && (p[0] < '0' || p[0] > '9')))
    return -1;
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  errno = 0;
  v = strtoll(tmp, &end, 10);
  if (errno || *end || end == tmp)
    return -1;
  *out = v;
  return 0;
}

static int bytes_value(mvs_arena *a, mvs_vtype t, const char *p, size_t n, mvs_value *out)
{
  int rc = t == MVS_V_BIN ? mvs_bin_copy(a, p, n, out) : mvs_ref_copy(a, p, n, out);
  return rc ? -2 : 0;
}

int shape_convert(shape_syntax syn, mvs_value raw, bool json, mvs_arena *a, mvs_value *out,
                  const char **why)
{
  const char *p = raw.u.s.p;
  size_t n =
      raw.type == MVS_V_STR || raw.type == MVS_V_BIN || raw.type == MVS_V_REF ? raw.u.s.n : 0;
  unsigned char g[16];

  /* Base64 in LDIF says nothing about the syntax: bytes that are text are text, except where
   * the syntax wants bytes.  (A binary SID is never text: its authority holds NUL bytes.) */
  if (raw.type == MVS_V_BIN && syn != SYN_BINARY && syn != SYN_GUID && shape_is_text(p, n))
    raw.type = MVS_V_STR;
  switch (syn) {
  case SYN_STRING:
    *out = raw;
    return 0;
  case SYN_REF:
    if (raw.type == MVS_V_REF) {
      *out = raw;
      return 0;
    }
    if (raw.type == MVS_V_STR && n > 0)
      return bytes_value(a, MVS_V_REF, p, n, out);
    *why = json ? "expected an object id" : "expected a DN";
    return -1;
  case SYN_BINARY:
    if (raw.type == MVS_V_BIN || (raw.type == MVS_V_STR && !json))
      return bytes_value(a, MVS_V_BIN, p, n, out);
    if (raw.type == MVS_V_STR) {
      unsigned char *bytes = mvs_arena_alloc(a, n / 4 * 3 + 1);
      size_t bn;
      if (!bytes)
        return -2;
      if (base64_decode(p, n, bytes, &bn) != 0)
        break;
      *out = mvs_bin_ref(bytes, bn);
      return 0;
    }
    break;
  case SYN_GUID:
    if (raw.type == MVS_V_BIN && n == 16)
      return bytes_value(a, MVS_V_BIN, p, n, out);
    if (raw.type == MVS_V_STR && guid_parse_ms(p, n, g) == 0)
      return bytes_value(a, MVS_V_BIN, (const char *)g, 16, out);
    *why = "expected a GUID (16 bytes, or text like 00112233-4455-6677-8899-aabbccddeeff)";
    return -1;
  case SYN_SID: {
    unsigned char sid[SHAPE_SID_BIN_MAX];
    char text[SHAPE_SID_TEXT_MAX];
    size_t sn;
    if (raw.type == MVS_V_STR && shape_sid_parse(p, n, sid, &sn) == 0) {
      *out = raw;
      return 0;
    }
    if (raw.type == MVS_V_BIN && shape_sid_format((const unsigned char *)p, n, text) == 0)
      return mvs_str_copy(a, text, strlen(text), out) ? -2 : 0;
    /* Bytes that are not a well-formed SID stay bytes: an odd value never fails an import. */
    if (raw.type == MVS_V_BIN)
      return bytes_value(a, MVS_V_BIN, p, n, out);
    *why = "expected a SID (binary, or text like S-1-5-21-1-2-3-500)";
    return -1;
  }
  case SYN_INT:
    if (raw.type == MVS_V_NUM) {
      *out = raw;
      return 0;
    }
    if (raw.type == MVS_V_STR && parse_int(p, n, &out->u.num) == 0) {
      out->type = MVS_V_NUM;
      return 0;
    }
    *why = "expected an integer";
    return -1;
  case SYN_BOOL:
    if (raw.type == MVS_V_BOOL) {
      *out = raw;
      return 0;
    }
    if (raw.type == MVS_V_STR && (strcasecmp(p, "TRUE") == 0 || strcasecmp(p, "FALSE") == 0)) {
      *out = mvs_bool(strcasecmp(p, "TRUE") == 0);
      return 0;
    }
    *why = "expected TRUE or FALSE";
    return -1;
  case SYN_DT:
    if (raw.type == MVS_V_STR) {
      int64_t t;
      bool iso = n > 4 && p[4] == '-';
      if ((iso ? mvs_dt_parse_iso(p, n, &t) : shape_parse_gentime(p, n, &t)) == 0) {
        *out = mvs_dt(t);
        return 0;
      }
    }
    *why = "expected a date and time (20240131101500.0Z or 2024-01-31T10:15:00Z)";
    return -1;
  }
  *why = json ? "expected base64 text" : "expected bytes";
  return -1;
}
