/* ldap_conn — settings, the attribute list and type filter, open and close of the AD and LDAP
 * connector types.  See ldap_conn.h and docs/internals/ldap-connector.md. */
#include "connectors/ldap/ldap_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/dn.h"
#include "connectors/ldap/escape.h"
#include "connectors/ldap/ldap_int.h"
#include "schema/array.h"

static int config_error(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int config_error(char **err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(err, fmt, ap) < 0)
    *err = NULL;
  va_end(ap);
  return CONN_ERR_CONFIG;
}

static void free_list(char **list)
{
  for (size_t i = 0; list && list[i]; i++)
    free(list[i]);
  free(list);
}

/* Append a copy of name unless the list has it (case ignored); the list stays NULL-terminated. */
static int list_add(char ***list, size_t *n, size_t *cap, const char *name, size_t len)
{
  char **np;
  for (size_t i = 0; i < *n; i++)
    if (strlen((*list)[i]) == len && strncasecmp((*list)[i], name, len) == 0)
      return 0;
  if (array_reserve(list, cap, *n + 2, sizeof **list) != 0)
    return -1;
  np = *list;
  if (!(np[*n] = strndup(name, len)))
    return -1;
  np[++*n] = NULL;
  return 0;
}

static int int_setting(const conn_config *cfg, const char *key, int def, int lo, int hi, int *out,
                       char **err)
{
  const char *v = conn_config_get(cfg, key);
  char *end;
  long n;
  if (!v) {
    *out = def;
    return CONN_OK;
  }
  errno = 0;
  n = strtol(v, &end, 10);
  if (errno || end == v || *end || n < lo || n > hi)
    return config_error(err, "%s: expected a number from %d to %d, got \"%s\"", key, lo, hi, v);
  *out = (int)n;
  return CONN_OK;
}

static int dup_setting(const conn_config *cfg, const char *key, bool required, char **out,
                       char **err)
{
  const char *v = conn_config_get(cfg, key);
  if (!v || !*v)
    return required ? config_error(err, "the setting %s is required", key) : CONN_OK;
  return (*out = strdup(v)) ? CONN_OK : CONN_ERR_NOMEM;
}

static int parse_tls(connector *c, const conn_config *cfg, char **err)
{
  bool ldaps = strncasecmp(c->url, "ldaps://", 8) == 0;
  const char *t = conn_config_get(cfg, "tls");
  /* libldap takes a list of URLs separated by spaces or commas and fails over along it: an
   * ldaps:// URL followed by an ldap:// one would send the password in the clear. */
  if ((!ldaps && strncasecmp(c->url, "ldap://", 7) != 0) || c->url[strcspn(c->url, " \t\r\n,")])
    return config_error(err, "url: expected one ldaps://host[:port] or ldap://host[:port], got "
                             "\"%s\"", c->url);
  if (!t)
    c->tls = ldaps ? LC_TLS_LDAPS : LC_TLS_STARTTLS;
  else if (strcmp(t, "ldaps") == 0 && ldaps)
    c->tls = LC_TLS_LDAPS;
  else if (strcmp(t, "starttls") == 0 && !ldaps)
    c->tls = LC_TLS_STARTTLS;
  else if (strcmp(t, "none") == 0 && !ldaps)
    c->tls = LC_TLS_NONE; /* plain LDAP only when declared */
  else
    return config_error(err, "tls \"%s\" does not fit the url %s (ldaps:// takes ldaps; ldap:// "
                             "takes starttls or none)", t, c->url);
  return CONN_OK;
}

/* containers "OU=A,DC=x|OU=B,DC=x"; none: the base. */
static int parse_containers(connector *c, const conn_config *cfg, char **err)
{
  const char *v = conn_config_get(cfg, "containers");
  const char *p = v && *v ? v : c->base;
  size_t n = 0, cap = 0;
  while (*p) {
    size_t len = strcspn(p, "|");
    const char *s = p, *e = p + len;
    while (s < e && *s == ' ')
      s++;
    while (e > s && e[-1] == ' ')
      e--;
    if (e > s) {
      if (!dn_valid(s, (size_t)(e - s)))
        return config_error(err, "containers: \"%.*s\" is not a DN", (int)(e - s), s);
      if (list_add(&c->containers, &n, &cap, s, (size_t)(e - s)) != 0)
        return CONN_ERR_NOMEM;
    }
    p += len + (p[len] == '|');
  }
  if (!n)
    return config_error(err, "containers: no DN given");
  c->n_containers = n;
  if (!(c->container_keys = calloc(n + 1, sizeof *c->container_keys)))
    return CONN_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    buf k;
    buf_init(&k, 0);
    if (dn_key(c->containers[i], strlen(c->containers[i]), &k) != BUF_OK || !k.p) {
      buf_free(&k);
      return CONN_ERR_NOMEM;
    }
    c->container_keys[i] = buf_detach(&k);
  }
  return CONN_OK;
}

/* Whether a comma-separated list names name[0..len) (case ignored). */
static bool csv_has(const char *csv, const char *name, size_t len)
{
  for (const char *p = csv; p && *p;) {
    size_t n = strcspn(p, ",");
    if (n == len && strncasecmp(p, name, len) == 0)
      return true;
    p += n + (p[n] == ',');
  }
  return false;
}

/* The object types as a filter.  The shape types an entry by the first type its objectClass
 * names, in the shape's order (a computer is also a user): a type asked for excludes the
 * types before it that derive from it and were not asked for themselves. */
static int build_type_filter(connector *c, const conn_config *cfg)
{
  const char *csv = cfg->object_types_csv;
  buf f, any, not;
  size_t n_any = 0, n_not = 0;
  bool excluded[32] = {false};
  int rc = BUF_OK;

  buf_init(&f, 0);
  buf_init(&any, 0);
  buf_init(&not, 0);
  for (const char *p = csv; p && *p && rc == BUF_OK;) {
    size_t len = strcspn(p, ",");
    if (len) {
      n_any++;
      if ((rc = buf_adds(&any, "(objectClass=")) || (rc = ldap_escape_filter(&any, p, len)) ||
          (rc = buf_addc(&any, ')')))
        break;
    }
    for (size_t t = 0; len && t < c->shape->n_types && rc == BUF_OK; t++) {
      const shape_type *st = &c->shape->types[t];
      if (strlen(st->name) == len && strncasecmp(st->name, p, len) == 0)
        break; /* the types after it do not shadow it */
      if (t >= sizeof excluded || excluded[t] || csv_has(csv, st->name, strlen(st->name)) ||
          !csv_has(st->classes, p, len))
        continue;
      excluded[t] = true;
      n_not++;
      rc = buf_printf(&not, "(objectClass=%s)", st->name);
    }
    p += len + (p[len] == ',');
  }
  if (rc == BUF_OK && !n_any)
    rc = buf_adds(&f, "(objectClass=*)");
  else if (rc == BUF_OK && n_not)
    rc = buf_printf(&f, "(&%s%s%s(!%s%s%s))", n_any > 1 ? "(|" : "", any.p, n_any > 1 ? ")" : "",
                    n_not > 1 ? "(|" : "", not.p, n_not > 1 ? ")" : "");
  else if (rc == BUF_OK)
    rc = buf_printf(&f, "%s%s%s", n_any > 1 ? "(|" : "", any.p, n_any > 1 ? ")" : "");
  c->type_filter = rc == BUF_OK ? buf_detach(&f) : NULL;
  buf_free(&f);
  buf_free(&any);
  buf_free(&not);
  return c->type_filter ? CONN_OK : CONN_ERR_NOMEM;
}

/* What every search asks for: the rules' attributes, the anchor, objectClass, isDeleted. */
static int build_attrs(connector *c, const conn_config *cfg, int range_size)
{
  size_t n = 0, cap = 0, nd = 0, cap_d = 0, nr = 0, cap_r = 0;
  c->all_attrs = cfg->n_attrs == 0;
  if (c->all_attrs && list_add(&c->attrs, &n, &cap, "*", 1) != 0)
    return CONN_ERR_NOMEM;
  for (size_t i = 0; i < cfg->n_attrs; i++) {
    const char *a = cfg->attrs[i];
    /* "dn" and "parentDistinguishedName" are what the rules call the entry's name. */
    if (strcasecmp(a, "dn") == 0 || strcasecmp(a, "parentDistinguishedName") == 0)
      continue;
    if (list_add(&c->attrs, &n, &cap, a, strlen(a)) != 0)
      return CONN_ERR_NOMEM;
  }
  if (range_size) {
    /* Ask for member values in ranges, as AD answers large groups (MaxValRange). */
    for (size_t i = 0; i < n; i++)
      if (strcasecmp(c->attrs[i], "member") == 0) {
        char *r = NULL;
        if (asprintf(&r, "member;range=0-%d", range_size - 1) < 0)
          return CONN_ERR_NOMEM;
        free(c->attrs[i]);
        c->attrs[i] = r;
      }
  }
  if (list_add(&c->attrs, &n, &cap, c->shape->anchor_attr, strlen(c->shape->anchor_attr)) != 0 ||
      list_add(&c->attrs, &n, &cap, "objectClass", 11) != 0 ||
      (c->ad && list_add(&c->attrs, &n, &cap, "isDeleted", 9) != 0))
    return CONN_ERR_NOMEM;
  c->n_attrs = n;
  /* DirSync sends incremental values, never ranges. */
  for (size_t i = 0; i < n; i++)
    if (list_add(&c->dirsync_attrs, &nd, &cap_d, c->attrs[i], strcspn(c->attrs[i], ";")) != 0)
      return CONN_ERR_NOMEM;
  if (list_add(&c->dirsync_attrs, &nd, &cap_d, "name", 4) != 0)
    return CONN_ERR_NOMEM;
  for (size_t i = 0; i < cfg->n_ref_attrs; i++)
    if (list_add(&c->ref_attrs, &nr, &cap_r, cfg->ref_attrs[i], strlen(cfg->ref_attrs[i])) != 0)
      return CONN_ERR_NOMEM;
  return CONN_OK;
}

static void lc_close(connector *c)
{
  if (!c)
    return;
  lc_disconnect(c);
  if (c->holds_sigpipe)
    lc_sigpipe_release();
  if (c->password) {
    memset(c->password, 0, strlen(c->password)); /* secrets are wiped before free */
    free(c->password);
  }
  free(c->name);
  free(c->url);
  free(c->bind_dn);
  free(c->base);
  free(c->ca_file);
  free_list(c->containers);
  free_list(c->container_keys);
  free_list(c->attrs);
  free_list(c->dirsync_attrs);
  free_list(c->ref_attrs);
  free(c->type_filter);
  free(c->av);
  if (c->arena)
    mvs_arena_free(c->arena);
  free(c);
}

static int lc_open(const conn_config *cfg, bool ad, connector **out, char **err)
{
  connector *c = calloc(1, sizeof *c);
  const char *delta;
  int rc, range_size = 0;

  *out = NULL;
  if (!c)
    return CONN_ERR_NOMEM;
  c->ad = ad;
  c->shape = shape_find(ad ? "ad" : "ldap");
  if (!(c->name = strdup(cfg->name ? cfg->name : "")) || !(c->arena = mvs_arena_new(LC_ENTRY_MAX))) {
    rc = CONN_ERR_NOMEM;
    goto fail;
  }
  if ((rc = dup_setting(cfg, "url", true, &c->url, err)) != CONN_OK ||
      (rc = dup_setting(cfg, "base", true, &c->base, err)) != CONN_OK ||
      (rc = dup_setting(cfg, "bind-dn", false, &c->bind_dn, err)) != CONN_OK ||
      (rc = dup_setting(cfg, "password", false, &c->password, err)) != CONN_OK ||
      (rc = dup_setting(cfg, "ca-file", false, &c->ca_file, err)) != CONN_OK ||
      (rc = parse_tls(c, cfg, err)) != CONN_OK ||
      (rc = int_setting(cfg, "page-size", 1000, 1, 100000, &c->page_size, err)) != CONN_OK ||
      (rc = int_setting(cfg, "timeout", 30, 1, 3600, &c->timeout, err)) != CONN_OK ||
      (rc = int_setting(cfg, "retries", 3, 0, 20, &c->retries, err)) != CONN_OK ||
      (rc = int_setting(cfg, "member-chunk", 1000, 1, 100000, &c->member_chunk, err)) != CONN_OK ||
      (rc = int_setting(cfg, "range-size", 0, 0, 1000000, &range_size, err)) != CONN_OK)
    goto fail;
  if (c->bind_dn && !c->password) {
    /* A DN with an empty password is an unauthenticated bind (RFC 4513 5.1.2): refused here
     * rather than let a server treat it as anonymous. */
    rc = config_error(err, "bind-dn is set but password is missing or empty");
    goto fail;
  }
  if (!dn_valid(c->base, strlen(c->base))) {
    rc = config_error(err, "base: \"%s\" is not a DN", c->base);
    goto fail;
  }
  delta = conn_config_get(cfg, "delta");
  if (delta && strcmp(delta, "usn") != 0 && strcmp(delta, "dirsync") != 0) {
    rc = config_error(err, "delta: expected dirsync or usn, got \"%s\"", delta);
    goto fail;
  }
  c->delta_usn = delta && strcmp(delta, "usn") == 0;
  if ((rc = parse_containers(c, cfg, err)) != CONN_OK ||
      (rc = build_attrs(c, cfg, range_size)) != CONN_OK ||
      (rc = build_type_filter(c, cfg)) != CONN_OK)
    goto fail;
  lc_sigpipe_hold();
  c->holds_sigpipe = true;
  *out = c;
  return CONN_OK;
fail:
  lc_close(c);
  return rc;
}

static int ad_open(const conn_config *cfg, connector **out, char **err)
{
  return lc_open(cfg, true, out, err);
}

static int ldap_open(const conn_config *cfg, connector **out, char **err)
{
  return lc_open(cfg, false, out, err);
}

const connector_ops ad_connector_ops = {"ad", ad_open, lc_import, lc_export, lc_close,
                                        lc_value_taken};
const connector_ops ldap_connector_ops = {"ldap", ldap_open, lc_import, lc_export,
                                          lc_close, lc_value_taken};
