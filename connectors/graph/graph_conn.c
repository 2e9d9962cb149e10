/* graph_conn — the Entra connector's configuration: settings, the Graph origin, the $select
 * lists built from the attributes the rule set uses; import.c and export.c do the work.
 * See graph_conn.h. */
#include "connectors/graph/graph_conn.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/graph/graph_int.h"
#include "schema/aad_map.h"
#include "schema/array.h"
#include "schema/buf.h"

#define DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define DEFAULT_GRAPH "https://graph.microsoft.com"
#define DEFAULT_MAX_OBJECT ((size_t)64 << 20)

/* Graph v1.0 properties of one type only, so each $select names what that type has
 * (Graph refuses a property its type lacks).  Names not listed go to both types. */
static const char *const user_only[] = {"accountEnabled",
                                        "ageGroup",
                                        "businessPhones",
                                        "city",
                                        "companyName",
                                        "country",
                                        "department",
                                        "employeeId",
                                        "employeeType",
                                        "employeeHireDate",
                                        "employeeLeaveDateTime",
                                        "externalUserState",
                                        "faxNumber",
                                        "givenName",
                                        "identities",
                                        "imAddresses",
                                        "jobTitle",
                                        "lastPasswordChangeDateTime",
                                        "legalAgeGroupClassification",
                                        "manager",
                                        "mobilePhone",
                                        "officeLocation",
                                        "onPremisesDistinguishedName",
                                        "onPremisesExtensionAttributes",
                                        "onPremisesImmutableId",
                                        "onPremisesUserPrincipalName",
                                        "otherMails",
                                        "passwordPolicies",
                                        "postalCode",
                                        "preferredLanguage",
                                        "showInAddressList",
                                        "state",
                                        "streetAddress",
                                        "surname",
                                        "usageLocation",
                                        "userPrincipalName",
                                        "userType",
                                        "onPremisesObjectIdentifier",
                                        "creationType",
                                        "mySite",
                                        "signInSessionsValidFromDateTime"};
static const char *const group_only[] = {"classification",
                                         "description",
                                         "expirationDateTime",
                                         "groupTypes",
                                         "isAssignableToRole",
                                         "mailEnabled",
                                         "members",
                                         "membershipRule",
                                         "membershipRuleProcessingState",
                                         "onPremisesNetBiosName",
                                         "owners",
                                         "preferredDataLocation",
                                         "renewedDateTime",
                                         "securityEnabled",
                                         "securityIdentifier",
                                         "theme",
                                         "visibility"};

static bool listed(const char *const *list, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(list[i], name) == 0)
      return true;
  return false;
}

/* extensionAttribute1..15: read through onPremisesExtensionAttributes (users). */
static bool is_ext_attr(const char *name)
{
  char *end;
  long k;
  if (strncasecmp(name, "extensionAttribute", 18) != 0 || !isdigit((unsigned char)name[18]))
    return false;
  k = strtol(name + 18, &end, 10);
  return *end == '\0' && k >= 1 && k <= 15;
}

/* A name that can go into a URL query as it is. */
static bool plain_name(const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_')
      return false;
  return true;
}

static int add_select(buf *b, const char *name)
{
  /* Already there (case ignored)? */
  size_t n = strlen(name);
  for (const char *p = b->p; p && *p;) {
    size_t k = strcspn(p, ",");
    if (k == n && strncasecmp(p, name, n) == 0)
      return BUF_OK;
    p += k + (p[k] == ',');
  }
  return buf_printf(b, "%s%s", b->len ? "," : "", name);
}

static bool wants_type(const conn_config *cfg, const char *type)
{
  const char *p = cfg->object_types_csv;
  size_t n = strlen(type);
  if (!p)
    return true;
  while (*p) {
    size_t k = strcspn(p, ",");
    if (k == n && strncasecmp(p, type, n) == 0)
      return true;
    p += k + (p[k] == ',');
  }
  return false;
}

static bool uses(const conn_config *cfg, const char *name)
{
  for (size_t i = 0; i < cfg->n_attrs; i++)
    if (strcasecmp(cfg->attrs[i], name) == 0)
      return true;
  return false;
}

/* Attribute *name of type t as Graph reads it (schema/aad_map.h): a Connect AAD name Graph
 * holds (mapped or read-only) becomes its Graph property, the pair recorded for the import
 * to rename; one Graph holds nowhere becomes NULL (nothing to select). */
static int aad_select(connector *c, const conn_config *cfg, int t, const char **name)
{
  static const char *const types[2] = {"user", "group"};
  const char *graph, *reason;
  aad_fate fate = aad_attr_fate(types[t], *name, &graph, &reason);
  struct graph_rename *r;

  if (fate == AAD_UNUSED)
    return BUF_OK;
  if ((fate != AAD_MAPPED && fate != AAD_READ_ONLY) || !graph || strchr(graph, '.')) {
    *name = NULL;
    return BUF_OK;
  }
  if (strcmp(graph, *name) != 0) {
    if (array_reserve(&c->renames[t], &c->rename_cap[t], c->n_renames[t] + 1,
                      sizeof *c->renames[t]) != 0)
      return BUF_NOMEM;
    r = &c->renames[t][c->n_renames[t]++];
    r->graph = graph;
    r->aad = aad_attr_find(*name)->name;
    r->keep = uses(cfg, graph);
  }
  *name = graph;
  return BUF_OK;
}

static int build_selects(connector *c, const conn_config *cfg, char **err)
{
  static const char *const types[2] = {"user", "group"};
  for (int t = 0; t < 2; t++) {
    buf b;
    int rc = BUF_OK;
    if (!wants_type(cfg, types[t]))
      continue;
    buf_init(&b, 0);
    rc = add_select(&b, "id");
    if (rc == BUF_OK && t == GRAPH_GROUPS)
      rc = add_select(&b, "members");
    for (size_t i = 0; rc == BUF_OK && i < cfg->n_attrs; i++) {
      const char *a = cfg->attrs[i];
      if (t == GRAPH_USERS && is_ext_attr(a)) {
        rc = add_select(&b, "onPremisesExtensionAttributes");
        continue;
      }
      /* The engine's naming attributes are not Graph properties (Graph names by id). */
      if (strcasecmp(a, "dn") == 0 || strcasecmp(a, "parentDistinguishedName") == 0)
        continue;
      if (!plain_name(a)) {
        buf_free(&b);
        *err = graph_printf("attribute \"%s\" is not a Graph property name", a);
        return CONN_ERR_CONFIG;
      }
      if (is_ext_attr(a) ||
          (t == GRAPH_USERS && listed(group_only, sizeof group_only / sizeof *group_only, a)) ||
          (t == GRAPH_GROUPS && listed(user_only, sizeof user_only / sizeof *user_only, a)))
        continue;
      if ((rc = aad_select(c, cfg, t, &a)) != BUF_OK || !a)
        continue;
      rc = add_select(&b, a);
    }
    if (rc != BUF_OK) {
      buf_free(&b);
      return CONN_ERR_NOMEM;
    }
    c->select[t] = buf_detach(&b);
  }
  return CONN_OK;
}

static void entra_close(connector *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->typer.n_ref_attrs; i++)
    free((char *)c->typer.ref_attrs[i]);
  free((void *)c->typer.ref_attrs);
  if (c->secret)
    memset(c->secret, 0, strlen(c->secret));
  if (c->key_pem)
    memset(c->key_pem, 0, strlen(c->key_pem));
  if (c->token)
    memset(c->token, 0, strlen(c->token));
  free(c->name);
  free(c->client_id);
  free(c->token_url);
  free(c->scope);
  free(c->secret);
  free(c->cert_file);
  free(c->key_pem);
  free(c->graph_base);
  free(c->graph_root);
  free(c->select[0]);
  free(c->select[1]);
  free(c->renames[0]);
  free(c->renames[1]);
  free(c->token);
  gh_http_free(c->http);
  free(c);
}

/* A whole number setting in [lo, hi] (def when absent); -1 when it is not one. */
static int num_setting(const conn_config *cfg, const char *key, long lo, long hi, long def,
                       long *out, char **err)
{
  const char *s = conn_config_get(cfg, key);
  char *end;
  long v;
  *out = def;
  if (!s)
    return 0;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    *err = graph_printf("%s must be a whole number from %ld to %ld", key, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

/* A URL setting: https only (credentials and tokens travel on it), without its trailing
 * slashes. */
static char *url_setting(const conn_config *cfg, const char *key, const char *def, char **err)
{
  const char *s = conn_config_get(cfg, key);
  char o[GRAPH_ORIGIN_MAX];
  size_t n;
  if (!s)
    s = def;
  if (gh_origin(s, o, sizeof o) != 0 || strncmp(o, "https://", 8) != 0 || strpbrk(s, "?#")) {
    *err = graph_printf("%s must be an https URL without query (got \"%s\")", key, s);
    return NULL;
  }
  n = strlen(s);
  while (n && s[n - 1] == '/')
    n--;
  return strndup(s, n);
}

/* Tenant and client ids go into URLs and JSON: GUIDs or domain names. */
static bool id_chars(const char *s)
{
  if (!s || !*s)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("-._", *s))
      return false;
  return true;
}

static int entra_open(const conn_config *cfg, connector **out, char **err)
{
  connector *c = calloc(1, sizeof *c);
  const char *tenant = conn_config_get(cfg, "tenant"), *client = conn_config_get(cfg, "client-id");
  const char *secret = conn_config_get(cfg, "client-secret"),
             *cert = conn_config_get(cfg, "certificate-file");
  const char *key = conn_config_get(cfg, "private-key"),
             *alg = conn_config_get(cfg, "assertion-alg");
  const char *scope = conn_config_get(cfg, "scope");
  char *authority = NULL;
  long timeout, max_retry, run_retry, max_object;
  int rc = CONN_ERR_NOMEM;

  *out = NULL;
  if (!c)
    goto fail;
  rc = CONN_ERR_CONFIG;
  if (!id_chars(tenant) || !id_chars(client)) {
    *err = graph_printf("tenant and client-id are required (a GUID or domain name each)");
    goto fail;
  }
  if (!secret == !cert || (cert && !key)) {
    *err = graph_printf("give client-secret, or certificate-file with private-key (not both)");
    goto fail;
  }
  if (alg && strcmp(alg, "PS256") != 0 && strcmp(alg, "RS256") != 0) {
    *err = graph_printf("assertion-alg must be PS256 or RS256");
    goto fail;
  }
  if (num_setting(cfg, "timeout", 1, 86400, 300, &timeout, err) != 0 ||
      num_setting(cfg, "max-retry-seconds", 0, 86400, 300, &max_retry, err) != 0 ||
      num_setting(cfg, "run-retry-seconds", 0, 7 * 86400, 900, &run_retry, err) != 0 ||
      num_setting(cfg, "page-size", 1, 999, 999, &c->page_size, err) != 0 ||
      num_setting(cfg, "max-object", 4096, 1L << 30, (long)DEFAULT_MAX_OBJECT, &max_object, err) !=
          0)
    goto fail;
  if (!(authority = url_setting(cfg, "authority", DEFAULT_AUTHORITY, err)) ||
      !(c->graph_root = url_setting(cfg, "graph-url", DEFAULT_GRAPH, err)))
    goto fail;
  gh_origin(c->graph_root, c->origin, sizeof c->origin);
  rc = CONN_ERR_NOMEM;
  c->max_retry = (double)max_retry;
  c->run_retry = (double)run_retry;
  c->timeout = timeout;
  c->max_object = (size_t)max_object;
  c->alg = alg && strcmp(alg, "RS256") == 0 ? JWT_RS256 : JWT_PS256;
  c->shape = shape_find("entra");
  if (!(c->name = strdup(cfg->name ? cfg->name : "entra")) || !(c->client_id = strdup(client)) ||
      !(c->token_url = graph_printf("%s/%s/oauth2/v2.0/token", authority, tenant)) ||
      !(c->scope = scope ? strdup(scope) : graph_printf("%s/.default", c->graph_root)) ||
      !(c->graph_base = graph_printf("%s/v1.0", c->graph_root)) ||
      (secret && !(c->secret = strdup(secret))) || (cert && !(c->cert_file = strdup(cert))) ||
      (key && !(c->key_pem = strdup(key))))
    goto fail;
  c->typer.shape = c->shape;
  if (cfg->n_ref_attrs) {
    char **refs = calloc(cfg->n_ref_attrs, sizeof *refs);
    if (!refs)
      goto fail;
    c->typer.ref_attrs = (const char *const *)refs;
    for (size_t i = 0; i < cfg->n_ref_attrs; i++, c->typer.n_ref_attrs++)
      if (!(refs[i] = strdup(cfg->ref_attrs[i])))
        goto fail;
  }
  if ((rc = build_selects(c, cfg, err)) != CONN_OK)
    goto fail;
  rc = CONN_ERR_NOMEM;
  if (!(c->http = gh_http_new(conn_config_get(cfg, "ca-file"), timeout)))
    goto fail;
  free(authority);
  *out = c;
  return CONN_OK;
fail:
  free(authority);
  if (rc == CONN_ERR_NOMEM && !*err)
    *err = graph_printf("out of memory");
  entra_close(c);
  return rc;
}

const connector_ops entra_connector_ops = {"entra", entra_open, graph_import, graph_export,
                                           entra_close, graph_value_taken};
