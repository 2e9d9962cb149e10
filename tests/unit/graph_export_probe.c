/* graph_export_probe — sends hand-written exports through the entra connector (for
 * tests/graph/entra_batch.sh: orders and failures the engine does not produce on its own).
 * Settings are KEY=VALUE arguments (secrets read from the files named by client-secret-file);
 * changes come on stdin, one per block:
 *     update|delete TYPE ANCHOR        add TYPE DN [maybe-created]
 *       replace|add|delete ATTR JSON   (JSON as schema/value_json.h reads it)
 * and each result prints as "N: ok [anchor][ -- message]" or "N: failed CODE MESSAGE".  Memory: one run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "schema/value_json.h"

#define MAX 64

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  char text[4096];
  size_t n;
  if (!f)
    return NULL;
  n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
    n--;
  text[n] = '\0';
  return strdup(text);
}

int main(int argc, char **argv)
{
  conn_setting settings[MAX];
  conn_config cfg;
  conn_export x[MAX];
  conn_attr attrs[MAX][MAX];
  conn_export_result res[MAX];
  const connector_ops *ops = connector_find("entra");
  connector *c = NULL;
  mvs_arena *a = mvs_arena_new(0);
  char line[4096], *err = NULL, errbuf[256];
  size_t ns = 0, n = 0;
  int rc;

  memset(&cfg, 0, sizeof cfg);
  memset(x, 0, sizeof x);
  memset(res, 0, sizeof res);
  for (int i = 1; i < argc && ns < MAX; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq)
      continue;
    *eq = '\0';
    settings[ns].key = argv[i];
    settings[ns].value = eq + 1;
    if (strcmp(argv[i], "client-secret-file") == 0) {
      settings[ns].key = "client-secret";
      settings[ns].value = slurp(eq + 1);
    }
    ns++;
  }
  cfg.name = "probe";
  cfg.type = cfg.shape = "entra";
  cfg.settings = settings;
  cfg.n_settings = ns;
  cfg.object_types_csv = "user,group";
  while (fgets(line, sizeof line, stdin)) {
    char op[16], type[32], key[1024], name[256], flag[16] = "";
    int off = 0;
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == ' ' && n > 0 && sscanf(line, " %15s %255s %n", op, name, &off) == 2) {
      conn_export *e = &x[n - 1];
      conn_attr *at = &attrs[n - 1][e->n_attrs++];
      at->name = strdup(name);
      at->op = strcmp(op, "add") == 0      ? CONN_ATTR_ADD
               : strcmp(op, "delete") == 0 ? CONN_ATTR_DELETE
                                           : CONN_ATTR_REPLACE;
      if (value_json_parse(a, line + off, strlen(line + off), &at->value, errbuf, sizeof errbuf) !=
          0) {
        fprintf(stderr, "bad value: %s\n", errbuf);
        return 2;
      }
      continue;
    }
    if (sscanf(line, "%15s %31s %1023s %15s", op, type, key, flag) < 3 || n == MAX)
      continue;
    x[n].maybe_created = strcmp(flag, "maybe-created") == 0;
    x[n].op = strcmp(op, "add") == 0      ? CONN_EXPORT_ADD
              : strcmp(op, "delete") == 0 ? CONN_EXPORT_DELETE
                                          : CONN_EXPORT_UPDATE;
    x[n].object_type = strdup(type);
    if (x[n].op == CONN_EXPORT_ADD)
      x[n].dn = strdup(key);
    else
      x[n].anchor = x[n].dn = strdup(key);
    x[n].attrs = attrs[n];
    n++;
  }
  if ((rc = ops->open(&cfg, &c, &err)) != CONN_OK) {
    fprintf(stderr, "open: %s\n", err ? err : "?");
    return 1;
  }
  if ((rc = ops->export(c, x, n, NULL, res, &err)) != CONN_OK) {
    fprintf(stderr, "export: %s\n", err ? err : "?");
    free(err);
  }
  for (size_t i = 0; i < n; i++) {
    if (rc == CONN_OK && res[i].ok)
      printf("%zu: ok%s%s%s%s\n", i + 1, res[i].anchor ? " " : "", res[i].anchor ? res[i].anchor : "",
             res[i].message ? " -- " : "", res[i].message ? res[i].message : "");
    else if (rc == CONN_OK)
      printf("%zu: failed %d %s\n", i + 1, res[i].code, res[i].message ? res[i].message : "");
    free(res[i].anchor);
    free(res[i].message);
  }
  ops->close(c);
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < x[i].n_attrs; k++)
      free((char *)attrs[i][k].name);
    free((char *)x[i].object_type);
    free((char *)x[i].dn);
  }
  for (size_t i = 0; i < ns; i++)
    if (strcmp(settings[i].key, "client-secret") == 0)
      free((char *)settings[i].value);
  mvs_arena_free(a);
  return rc == CONN_OK ? 0 : 1;
}
