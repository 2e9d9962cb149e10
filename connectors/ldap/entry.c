/* entry — an LDAP entry read into a connector object: anchor (objectGUID text, entryUUID),
 * object type, values typed with shape.c, ranged values fetched to the end, DirSync's
 * incremental values as value adds and removes.  See ldap_int.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/guid.h"
#include "connectors/ldap/escape.h"
#include "connectors/ldap/ldap_int.h"
#include "schema/array.h"

/* Values of one attribute being gathered (ranged retrieval appends). */
typedef struct vals {
  mvs_value *items;
  size_t n, cap;
} vals;

static int vals_add(vals *v, mvs_value x)
{
  if (array_reserve(&v->items, &v->cap, v->n + 1, sizeof *v->items) != 0)
    return -1;
  v->items[v->n++] = x;
  return 0;
}

int lc_anchor_text(connector *c, const struct berval *bv, char *out)
{
  size_t i;
  if (c->ad) {
    if (bv->bv_len != 16)
      return -1;
    guid_format_ms((const unsigned char *)bv->bv_val, out);
    return 0;
  }
  if (bv->bv_len > GUID_TEXT_LEN)
    return -1;
  /* entryUUID in its canonical lower case, as the file connector gives it. */
  for (i = 0; i < bv->bv_len; i++)
    out[i] = (char)tolower((unsigned char)bv->bv_val[i]);
  out[i] = '\0';
  return 0;
}

/* Whether list names the attribute name[0..n) (options such as ";range=0-999" ignored). */
static bool listed(char *const *list, const char *name, size_t n)
{
  for (size_t i = 0; list && list[i]; i++)
    if (strcspn(list[i], ";") == n && strncasecmp(list[i], name, n) == 0)
      return true;
  return false;
}

/* "member;range=0-1499": the name's length, and the range (hi -1 for '*'); *ranged false
 * when there is no range option.  A range that cannot be one (not digits, hi < lo, hi at
 * LONG_MAX: nothing can follow it) comes back with *lo = -1 for the caller to refuse. */
static size_t parse_desc(const char *desc, bool *ranged, long *lo, long *hi)
{
  size_t n = strcspn(desc, ";");
  const char *r = desc + n;
  *ranged = false;
  while (*r == ';') {
    r++;
    if (strncasecmp(r, "range=", 6) == 0) {
      char *end = NULL;
      *ranged = true;
      errno = 0;
      *lo = isdigit((unsigned char)r[6]) ? strtol(r + 6, &end, 10) : -1;
      if (*lo >= 0 && !errno && *end == '-' && end[1] == '*')
        *hi = -1;
      else if (*lo >= 0 && !errno && *end == '-' && isdigit((unsigned char)end[1]))
        *hi = strtol(end + 1, &end, 10);
      else
        *lo = -1;
      if (errno || (*hi >= 0 && (*hi < *lo || *hi == LONG_MAX)))
        *lo = -1;
    }
    r += strcspn(r, ";");
  }
  return n;
}

static shape_syntax syntax_of(connector *c, const char *name)
{
  return listed(c->ref_attrs, name, strlen(name)) ? SYN_REF : shape_syntax_of(c->shape, name);
}

/* Type the raw bytes of one value into the arena. */
static int add_value(connector *c, shape_syntax syn, const struct berval *bv, vals *out,
                     const char *attr, char **err)
{
  mvs_value raw, v;
  const char *why = "cannot be read";
  int rc;
  bool text = shape_is_text(bv->bv_val, bv->bv_len);
  if ((text ? mvs_str_copy(c->arena, bv->bv_val, bv->bv_len, &raw)
            : mvs_bin_copy(c->arena, bv->bv_val, bv->bv_len, &raw)) != 0)
    return CONN_ERR_NOMEM;
  if ((rc = shape_convert(syn, raw, false, c->arena, &v, &why)) == -2)
    return CONN_ERR_NOMEM;
  if (rc != 0) {
    if (asprintf(err, "%s: %s", attr, why) < 0)
      *err = NULL;
    return CONN_ERR_DATA;
  }
  return vals_add(out, v) ? CONN_ERR_NOMEM : CONN_OK;
}

/* The entry at dn itself (*e, in *res for the caller to free; NULL when absent): a base search
 * with filter.  Samba 4.17 answers a base search asking for a value range with no entry at
 * all, so when the base search finds nothing a subtree search at dn picks the entry out by
 * (&filter(distinguishedName=dn)) — never the whole subtree of an OU (AD's size limit).  The
 * LDAP result code. */
static int search_self(connector *c, const char *dn, const char *filter, char **attrs,
                       LDAPMessage **res, LDAPMessage **e)
{
  buf f;
  int lrc = ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, NULL, 0,
                              res);
  *e = lrc == LDAP_SUCCESS ? ldap_first_entry(c->ld, *res) : NULL;
  if (lrc != LDAP_SUCCESS || *e)
    return lrc;
  ldap_msgfree(*res);
  *res = NULL;
  buf_init(&f, 0);
  if (buf_printf(&f, "(&%s(distinguishedName=", filter) || ldap_escape_filter(&f, dn, strlen(dn)) ||
      buf_adds(&f, "))")) {
    buf_free(&f);
    return LDAP_NO_MEMORY;
  }
  lrc = ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_SUBTREE, f.p, attrs, 0, NULL, NULL, NULL, 0, res);
  buf_free(&f);
  for (LDAPMessage *m = lrc == LDAP_SUCCESS ? ldap_first_entry(c->ld, *res) : NULL; m && !*e;
       m = ldap_next_entry(c->ld, m)) {
    char *edn = ldap_get_dn(c->ld, m);
    if (edn && dn_equal(edn, strlen(edn), dn, strlen(dn)))
      *e = m;
    ldap_memfree(edn);
  }
  return lrc;
}

/* Fetch the rest of a ranged attribute from `next` on with searches of "attr;range=next-*"
 * until the server says '*'.  Each answer must continue where the last one ended: a server
 * that repeats a range, skips one, or loses the entry in between fails the import rather
 * than deliver part of the values as all of them. */
static int fetch_range(connector *c, const char *dn, const char *attr, shape_syntax syn, long next,
                       vals *out, char **err)
{
  int rc = CONN_OK;
  while (rc == CONN_OK && next >= 0) {
    char desc[160];
    char *want[] = {desc, NULL};
    LDAPMessage *res = NULL, *e;
    BerElement *ber = NULL;
    bool seen = false;
    int lrc, len = snprintf(desc, sizeof desc, "%s;range=%ld-*", attr, next);
    if (len < 0 || (size_t)len >= sizeof desc) {
      *err = lc_errmsg(c, LDAP_PARAM_ERROR, "%s: attribute name %s too long", dn, attr);
      return CONN_ERR_DATA;
    }
    lrc = search_self(c, dn, "(objectClass=*)", want, &res, &e);
    if (lc_is_down(lrc)) {
      ldap_msgfree(res);
      return LC_ERR_DOWN;
    }
    if (lrc != LDAP_SUCCESS || !e) {
      ldap_msgfree(res);
      *err = lc_errmsg(c, lrc != LDAP_SUCCESS ? lrc : LDAP_NO_SUCH_OBJECT,
                       "%s: reading %s (the entry changed during ranged retrieval)", dn, desc);
      return lc_conn_code(lrc);
    }
    for (char *a = ldap_first_attribute(c->ld, e, &ber); a; a = ldap_next_attribute(c->ld, e, ber)) {
      bool ranged;
      long lo = 0, hi = -1;
      size_t n = parse_desc(a, &ranged, &lo, &hi);
      if (rc == CONN_OK && n == strlen(attr) && strncasecmp(a, attr, n) == 0) {
        struct berval **bv = ldap_get_values_len(c->ld, e, a);
        seen = true;
        if (!ranged || lo != next) { /* a repeat, a gap, or all values again */
          *err = lc_errmsg(c, LDAP_DECODING_ERROR, "%s: asked for %s, got %s", dn, desc, a);
          rc = CONN_ERR_IO;
        }
        for (size_t i = 0; bv && bv[i] && rc == CONN_OK; i++)
          rc = add_value(c, syn, bv[i], out, attr, err);
        ldap_value_free_len(bv);
        next = ranged && hi >= 0 ? hi + 1 : -1;
      }
      ldap_memfree(a);
    }
    if (ber)
      ber_free(ber, 0);
    ldap_msgfree(res);
    if (rc == CONN_OK && !seen) {
      /* Values removed since the last range: what was read is not the attribute's content. */
      *err = lc_errmsg(c, LDAP_NO_SUCH_ATTRIBUTE, "%s: reading %s (the entry changed during "
                       "ranged retrieval)", dn, desc);
      rc = CONN_ERR_IO;
    }
  }
  return rc;
}

static int push_attr(connector *c, size_t *n, const char *name, conn_attr_op op, const vals *v)
{
  conn_attr *a;
  if (array_reserve(&c->av, &c->av_cap, *n + 1, sizeof *c->av) != 0)
    return CONN_ERR_NOMEM;
  a = &c->av[(*n)++];
  a->name = name;
  a->op = op;
  a->value = mvs_null();
  if (v->n == 1) {
    a->value = v->items[0];
  } else if (v->n > 1) {
    mvs_value *items = mvs_arena_alloc(c->arena, v->n * sizeof *items);
    if (!items)
      return CONN_ERR_NOMEM;
    memcpy(items, v->items, v->n * sizeof *items);
    a->value.type = MVS_V_MV;
    a->value.u.mv.items = items;
    a->value.u.mv.n = v->n;
  }
  return CONN_OK;
}

/* One attribute of the entry (its description a, values bv) into the object. */
static int read_attr(connector *c, const char *dn, const char *a,
                     struct berval **bv, lc_read_mode mode, lc_entry *out, size_t *n_attrs,
                     vals *v, char **err)
{
  bool ranged;
  long lo = 0, hi = -1;
  size_t n = parse_desc(a, &ranged, &lo, &hi);
  const char *name;
  conn_attr_op op = CONN_ATTR_REPLACE;
  shape_syntax syn;
  int rc = CONN_OK;

  if (n == strlen(c->shape->anchor_attr) && strncasecmp(a, c->shape->anchor_attr, n) == 0 &&
      bv && bv[0]) {
    char *anchor = mvs_arena_alloc(c->arena, GUID_TEXT_LEN + 1);
    if (!anchor)
      return CONN_ERR_NOMEM;
    out->obj.anchor = lc_anchor_text(c, bv[0], anchor) == 0 ? anchor : NULL;
  }
  if (n == 9 && strncasecmp(a, "isDeleted", 9) == 0) {
    out->deleted = bv && bv[0] && bv[0]->bv_len == 4 && strncasecmp(bv[0]->bv_val, "TRUE", 4) == 0;
    return CONN_OK;
  }
  if (mode == LC_READ_DIRSYNC && ((n == 4 && strncasecmp(a, "name", 4) == 0) ||
                                  (n == 11 && strncasecmp(a, "objectClass", 11) == 0)))
    out->named = true;
  if (!c->all_attrs && !listed(c->attrs, a, n))
    return CONN_OK; /* not asked for (DirSync adds parentGUID, instanceType) */
  if (!(name = mvs_arena_memdup(c->arena, a, n)))
    return CONN_ERR_NOMEM;
  if (ranged && (lo < 0 || (mode == LC_READ_WHOLE && lo != 0))) {
    *err = lc_errmsg(c, LDAP_DECODING_ERROR, "%s: unexpected value range %s", dn, a);
    return CONN_ERR_IO;
  }
  syn = syntax_of(c, name);
  v->n = 0;
  for (size_t i = 0; bv && bv[i] && rc == CONN_OK; i++)
    rc = add_value(c, syn, bv[i], v, name, err);
  if (rc == CONN_OK && ranged && mode == LC_READ_DIRSYNC)
    /* Incremental values: range=1-1 were added, range=0-0 removed. */
    op = lo == 1 ? CONN_ATTR_ADD : lo == 0 && hi == 0 ? CONN_ATTR_DELETE : CONN_ATTR_REPLACE;
  else if (rc == CONN_OK && ranged && hi >= 0)
    rc = fetch_range(c, dn, name, syn, hi + 1, v, err);
  /* The type names a shape table entry or a value in the arena: it outlives v. */
  if (rc == CONN_OK && n == 11 && strncasecmp(a, "objectClass", 11) == 0)
    out->obj.object_type =
        shape_type_of_classes(c->shape, v->n == 1 ? v->items[0]
                                                  : (mvs_value){.type = MVS_V_MV,
                                                                .u.mv = {v->items, v->n}});
  return rc == CONN_OK ? push_attr(c, n_attrs, name, op, v) : rc;
}

int lc_entry_read(connector *c, LDAPMessage *e, lc_read_mode mode, lc_entry *out, char **err)
{
  BerElement *ber = NULL;
  char *dn = ldap_get_dn(c->ld, e);
  size_t n_attrs = 0;
  vals v = {0};
  int rc = CONN_OK;

  mvs_arena_reset(c->arena);
  memset(out, 0, sizeof *out);
  out->obj.origin = c->url;
  if (!dn || !(out->obj.dn = mvs_arena_memdup(c->arena, dn, strlen(dn)))) {
    ldap_memfree(dn);
    return CONN_ERR_NOMEM;
  }
  for (char *a = ldap_first_attribute(c->ld, e, &ber); a && rc == CONN_OK;
       a = ldap_next_attribute(c->ld, e, ber)) {
    struct berval **bv = ldap_get_values_len(c->ld, e, a);
    rc = read_attr(c, dn, a, bv, mode, out, &n_attrs, &v, err);
    ldap_value_free_len(bv);
    ldap_memfree(a);
    if (rc != CONN_OK)
      break; /* before ldap_next_attribute allocates another name */
  }
  if (ber)
    ber_free(ber, 0);
  free(v.items);
  if (rc == CONN_ERR_DATA && *err) {
    char *m = NULL;
    if (asprintf(&m, "%s: %s", dn, *err) >= 0) {
      free(*err);
      *err = m;
    }
  }
  if (rc == CONN_OK && !out->obj.anchor) {
    if (asprintf(err, "%s: no %s: skipped", dn, c->shape->anchor_attr) < 0)
      *err = NULL;
    rc = CONN_ERR_DATA;
  }
  ldap_memfree(dn);
  out->obj.attrs = c->av;
  out->obj.n_attrs = n_attrs;
  return rc;
}

int lc_read_object(connector *c, const char *dn, lc_entry *out, bool *found, char **err)
{
  int attempts = 0, lrc, rc;
  for (;;) {
    LDAPMessage *res = NULL, *e;
    *found = false;
    lrc = search_self(c, dn, c->type_filter, c->attrs, &res, &e);
    if (lrc == LDAP_NO_SUCH_OBJECT) {
      ldap_msgfree(res);
      return CONN_OK;
    }
    rc = lc_is_down(lrc) ? LC_ERR_DOWN : CONN_OK;
    if (lrc != LDAP_SUCCESS && rc == CONN_OK) {
      *err = lc_errmsg(c, lrc, "%s: reading the object", dn);
      rc = lc_conn_code(lrc);
    }
    if (rc == CONN_OK && e) {
      *found = true;
      rc = lc_entry_read(c, e, LC_READ_WHOLE, out, err);
    }
    ldap_msgfree(res);
    if (rc != LC_ERR_DOWN)
      return rc;
    if (lc_recover(c, &attempts, &lrc) != 0) {
      *err = lc_errmsg(c, lrc, "%s: reading %s", c->url, dn);
      return lc_conn_code(lrc);
    }
  }
}
