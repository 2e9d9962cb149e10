/* engine_unit — the engine end to end with an in-memory connector (a unit-test fixture; the
 * engine tests proper use the file connector): import, join and projection across two
 * connectors, reference flow from an Entra group to AD member DNs, provisioning, export,
 * confirming import, delta sync, deprovisioning, the deletion threshold, dry runs.
 * Memory: everything is freed before exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "engine/engine.h"

/* ---- the in-memory directory: a list of objects per connector name ---- */

#define MAX_OBJS 64
#define MAX_ATTRS 8

typedef struct mem_obj {
  bool live;
  char anchor[64], dn[128], type[16];
  conn_attr attrs[MAX_ATTRS];
  size_t n_attrs;
  mvs_value vals[MAX_ATTRS][8];
} mem_obj;

typedef struct mem_dir {
  const char *name;
  mem_obj objs[MAX_OBJS];
  size_t n;
  int exports;       /* changes received */
  int export_deletes;
} mem_dir;

static mem_dir dirs[2] = {{.name = "entra"}, {.name = "ad"}};

static mem_dir *dir_named(const char *name)
{
  return strcmp(name, "entra") == 0 ? &dirs[0] : &dirs[1];
}

static mem_obj *obj_add(mem_dir *d, const char *anchor, const char *dn, const char *type)
{
  mem_obj *o = &d->objs[d->n++];
  memset(o, 0, sizeof *o);
  o->live = true;
  snprintf(o->anchor, sizeof o->anchor, "%s", anchor);
  snprintf(o->dn, sizeof o->dn, "%s", dn);
  snprintf(o->type, sizeof o->type, "%s", type);
  return o;
}

/* Set attribute name to the given strings (refs when ref). */
static void obj_set(mem_obj *o, const char *name, bool ref, int n, const char *const *v)
{
  size_t i, k;
  conn_attr *a = NULL;
  for (k = 0; k < o->n_attrs; k++)
    if (strcmp(o->attrs[k].name, name) == 0)
      a = &o->attrs[k];
  if (!a) {
    k = o->n_attrs++;
    a = &o->attrs[k];
  }
  a->name = name;
  a->op = CONN_ATTR_REPLACE;
  for (i = 0; i < (size_t)n; i++) {
    o->vals[k][i] = mvs_str_ref(v[i], strlen(v[i]));
    if (ref)
      o->vals[k][i].type = MVS_V_REF;
  }
  a->value = mvs_null();
  if (n == 1 && !ref)
    a->value = o->vals[k][0];
  else if (n) {
    a->value.type = MVS_V_MV;
    a->value.u.mv.items = o->vals[k];
    a->value.u.mv.n = (size_t)n;
  }
}

struct connector {
  mem_dir *d;
};

static int mem_open(const conn_config *cfg, connector **out, char **err)
{
  (void)err;
  *out = calloc(1, sizeof **out);
  (*out)->d = dir_named(cfg->name);
  return CONN_OK;
}

static int mem_import(connector *c, conn_import_mode mode, const char *wm, const conn_sink *sink,
                      char **new_wm, char **err)
{
  size_t i;
  (void)mode;
  (void)wm;
  (void)err;
  for (i = 0; i < c->d->n; i++) {
    mem_obj *o = &c->d->objs[i];
    conn_object co = {CONN_OBJ_FULL, o->anchor, o->dn, o->type, o->attrs, o->n_attrs, "mem"};
    if (!o->live)
      continue;
    if (sink->object(sink->u, &co) != 0)
      return CONN_ERR_ABORTED;
  }
  *new_wm = strdup("full");
  return CONN_OK;
}

static int mem_export(connector *c, const conn_export *x, size_t n, const conn_export_env *env,
                      conn_export_result *r, char **err)
{
  size_t i, k;
  (void)env;
  (void)err;
  for (i = 0; i < n; i++) {
    c->d->exports++;
    r[i].ok = 1;
    if (x[i].op == CONN_EXPORT_DELETE) {
      c->d->export_deletes++;
      for (k = 0; k < c->d->n; k++)
        if (c->d->objs[k].live && strcmp(c->d->objs[k].dn, x[i].dn) == 0)
          c->d->objs[k].live = false;
    } else if (x[i].op == CONN_EXPORT_ADD) {
      char anchor[64];
      snprintf(anchor, sizeof anchor, "new-%zu", c->d->n);
      mem_obj *o = obj_add(c->d, anchor, x[i].dn, x[i].object_type);
      for (k = 0; k < x[i].n_attrs && o->n_attrs < MAX_ATTRS; k++) {
        /* keep the strings: they belong to the engine's arena until the next batch */
        const char *v[8];
        size_t m, cnt = mvs_count(x[i].attrs[k].value);
        char **copies = calloc(cnt + 1, sizeof *copies);
        for (m = 0; m < cnt && m < 8; m++) {
          mvs_value it = mvs_item(x[i].attrs[k].value, m);
          copies[m] = it.type == MVS_V_NUM ? NULL : strndup(it.u.s.p, it.u.s.n);
          v[m] = copies[m] ? copies[m] : "0";
        }
        obj_set(o, strdup(x[i].attrs[k].name), mvs_item(x[i].attrs[k].value, 0).type == MVS_V_REF,
                (int)(cnt < 8 ? cnt : 8), v);
        free(copies);   /* the strings stay: the fixture leaks them on purpose */
      }
      r[i].anchor = strdup(anchor);
    }
  }
  return CONN_OK;
}

static void mem_close(connector *c) { free(c); }

static const connector_ops mem_ops = {"mem", mem_open, mem_import, mem_export, mem_close, NULL};

const connector_ops *connector_find(const char *type)
{
  (void)type;
  return &mem_ops;
}

const char *conn_config_get(const conn_config *c, const char *key)
{
  size_t i;
  for (i = 0; i < c->n_settings; i++)
    if (strcmp(c->settings[i].key, key) == 0)
      return c->settings[i].value;
  return NULL;
}

/* ---- the test ---- */

static const char *rules_text =
    "connector \"entra\" type entra {\n  tenant \"t\"\n}\n"
    "connector \"ad\" type ad {\n  url \"ldap://x\"\n  deletion-threshold 1\n"
    "}\n"
    "rule \"In from AD - User\" {\n  direction inbound\n  connector \"ad\"\n  source user -> person\n"
    "  link provision\n  precedence 100\n  join {\n    mail = mail\n  }\n"
    "  flow [mail] -> mail\n  flow [displayName] -> displayName\n}\n"
    "rule \"In from Entra - User\" {\n  direction inbound\n  connector \"entra\"\n"
    "  source user -> person\n  link provision\n  precedence 50\n  join {\n    mail = mail\n  }\n"
    "  flow [mail] -> mail\n  flow [displayName] -> displayName\n}\n"
    "rule \"In from Entra - Group\" {\n  direction inbound\n  connector \"entra\"\n"
    "  source group -> group\n  link provision\n  precedence 60\n  scope {\n"
    "    securityEnabled EQUAL true\n  }\n"
    "  flow [displayName] -> displayName\n  flow [members] -> members\n  flow [id] -> objectId\n}\n"
    "rule \"Out to AD - Group\" {\n  direction outbound\n  connector \"ad\"\n  source group -> group\n"
    "  link provision\n  precedence 70\n"
    "  flow [displayName] -> cn\n  flow constant \"OU=Groups,DC=x\" -> parentDistinguishedName\n"
    "  flow [members] -> member\n  flow [objectId] -> description\n}\n";

static int failures;

#define CHECK(cond, ...)                                  \
  do {                                                    \
    if (!(cond)) {                                        \
      failures++;                                         \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                       \
      fputc('\n', stderr);                                \
    }                                                     \
  } while (0)

static char *dump(mvs_engine *e)
{
  buf b;
  buf_init(&b, 0);
  engine_dump_json(e, &b);
  return buf_detach(&b);
}

static int run(mvs_engine *e, run_profile p, const char *conn, bool allow)
{
  run_opts o = {.allow_deletes = allow, .allow_mass_delete = allow};
  run_result r;
  int rc = engine_run(e, p, conn, &o, &r);
  if (rc != ENGINE_OK && rc != ENGINE_STOPPED && rc != ENGINE_IMPORT_STOPPED)
    fprintf(stderr, "run failed: %s\n%s", engine_error(e), engine_log(e));
  return rc;
}

static void cycle(mvs_engine *e)
{
  CHECK(run(e, RUN_FULL_IMPORT, "entra", false) == 0, "import entra");
  CHECK(run(e, RUN_FULL_IMPORT, "ad", false) == 0, "import ad");
}

int main(void)
{
  char dir[] = "/tmp/mvs_engine_unitXXXXXX", path[256], store[256];
  FILE *f;
  mvs_engine *e;
  char *err = NULL, *d1, *d2;
  mem_obj *o;
  run_result r;
  run_opts dry = {.dry_run = true};

  if (!mkdtemp(dir))
    return 1;
  snprintf(path, sizeof path, "%s/test.rules", dir);
  snprintf(store, sizeof store, "%s/store.db", dir);
  f = fopen(path, "w");
  fputs(rules_text, f);
  fclose(f);

  /* AD: two users.  Entra: the same two (joined by mail), a cloud-only user, a group. */
  o = obj_add(&dirs[1], "guid-a1", "CN=Ann,OU=Users,DC=x", "user");
  obj_set(o, "mail", false, 1, (const char *[]){"ann@x.com"});
  obj_set(o, "displayName", false, 1, (const char *[]){"Ann (AD)"});
  o = obj_add(&dirs[1], "guid-a2", "CN=Bob,OU=Users,DC=x", "user");
  obj_set(o, "mail", false, 1, (const char *[]){"bob@x.com"});
  o = obj_add(&dirs[0], "e1", "ann@x.com", "user");
  obj_set(o, "mail", false, 1, (const char *[]){"ANN@x.com"});
  obj_set(o, "displayName", false, 1, (const char *[]){"Ann"});
  o = obj_add(&dirs[0], "e2", "bob@x.com", "user");
  obj_set(o, "mail", false, 1, (const char *[]){"bob@x.com"});
  o = obj_add(&dirs[0], "e3", "cloud@x.com", "user");
  obj_set(o, "mail", false, 1, (const char *[]){"cloud@x.com"});
  o = obj_add(&dirs[0], "g1", "Staff", "group");
  obj_set(o, "displayName", false, 1, (const char *[]){"Staff"});
  obj_set(o, "id", false, 1, (const char *[]){"g1"});
  obj_set(o, "securityEnabled", false, 1, (const char *[]){"true"});
  obj_set(o, "members", true, 3, (const char *[]){"e1", "e2", "e3"});

  if (engine_init(store, &err) != ENGINE_OK || engine_open(store, path, &e, &err) != ENGINE_OK) {
    fprintf(stderr, "open: %s\n", err);
    return 1;
  }
  cycle(e);
  /* A dry run of the sync changes nothing. */
  d1 = dump(e);
  CHECK(engine_dry_begin(e, &(dry_run_opts){.json = false}) == 0, "dry begin");
  CHECK(engine_run(e, RUN_DELTA_SYNC, NULL, &dry, &r) == 0, "dry sync: %s", engine_error(e));
  {
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    CHECK(mf && engine_diff_write(e, mf) == 0 && fclose(mf) == 0, "dry diff written");
    CHECK(text && strstr(text, "export ad: add CN=Staff,OU=Groups,DC=x"), "dry diff:\n%s", text);
    free(text);
  }
  CHECK(engine_dry_end(e) == 0, "dry end");
  d2 = dump(e);
  CHECK(strcmp(d1, d2) == 0, "dry run changed the store");
  free(d1);
  free(d2);

  CHECK(run(e, RUN_DELTA_SYNC, NULL, false) == 0, "sync");
  d1 = dump(e);
  CHECK(strstr(d1, "\"displayName\": \"Ann\""), "precedence: Entra (50) wins over AD (100)\n%s", d1);
  CHECK(strstr(d1, "\"member\": {\"add\": [{\"ref\": \"CN=Ann,OU=Users,DC=x\"}, {\"ref\": \"CN=Bob,OU=Users,DC=x\"}]")
        || strstr(d1, "\"member\": {\"replace\": [{\"ref\": \"CN=Ann,OU=Users,DC=x\"}, {\"ref\": \"CN=Bob,OU=Users,DC=x\"}]"),
        "group export with member DNs\n%s", d1);
  free(d1);

  /* Export, confirming import: the pending export disappears. */
  CHECK(run(e, RUN_EXPORT, "ad", false) == 0, "export");
  CHECK(dirs[1].exports == 1, "one export sent, got %d", dirs[1].exports);
  cycle(e);
  CHECK(run(e, RUN_DELTA_SYNC, NULL, false) == 0, "sync 2");
  d1 = dump(e);
  CHECK(strstr(d1, "\"pending\": [\n]"), "confirmed: nothing pending\n%s", d1);
  /* A full sync of the same data changes nothing (delta == full). */
  CHECK(run(e, RUN_FULL_SYNC, NULL, false) == 0, "full sync");
  d2 = dump(e);
  CHECK(strcmp(d1, d2) == 0, "full sync after delta differs:\n%s\n---\n%s", d1, d2);
  free(d1);
  free(d2);

  /* Group leaves scope: its metaverse object goes, the AD group is deprovisioned. */
  obj_set(&dirs[0].objs[3], "securityEnabled", false, 1, (const char *[]){"false"});
  cycle(e);
  CHECK(run(e, RUN_DELTA_SYNC, NULL, false) == 0, "sync 3");
  d1 = dump(e);
  CHECK(strstr(d1, "\"op\": \"delete\""), "deprovision staged\n%s", d1);
  free(d1);
  CHECK(run(e, RUN_EXPORT, "ad", false) == 0, "export delete (threshold 1 allows one)");
  CHECK(dirs[1].export_deletes == 1, "delete sent");

  /* Both users gone from both directories: the AD import would empty its connector space,
   * so the import guard stops it and commits nothing; let through once, it marks both. */
  dirs[0].objs[0].live = dirs[0].objs[1].live = false;
  dirs[1].objs[0].live = dirs[1].objs[1].live = false;
  CHECK(run(e, RUN_FULL_IMPORT, "entra", false) == 0, "import entra");
  d1 = dump(e);
  CHECK(run(e, RUN_FULL_IMPORT, "ad", false) == ENGINE_IMPORT_STOPPED, "the import guard stops");
  d2 = dump(e);
  CHECK(strcmp(d1, d2) == 0, "a stopped import changed the store:\n%s\n---\n%s", d1, d2);
  free(d1);
  free(d2);
  CHECK(run(e, RUN_FULL_IMPORT, "ad", true) == 0, "import ad --allow-mass-delete");
  CHECK(run(e, RUN_DELTA_SYNC, NULL, false) == 0, "sync 4");
  engine_close(e);
  if (failures == 0)
    printf("engine_unit: ok\n");
  snprintf(path, sizeof path, "rm -rf %s", dir);
  if (system(path) != 0)
    return 1;
  return failures ? 1 : 0;
}
