/* cli_import — `mvsync rules import connect PATH [--connectors DIR] [--out DIR]`: read a
 * Connect Sync server-configuration export (a folder) or a PowerShell rules export (a .ps1
 * file), write the rule set rules/connect_import.c makes of it into DIR, check it, and
 * report what was not carried.  All the file I/O of the import is here.
 * Memory: file texts, parsed documents and the export model are freed before returning. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rules/connect_import.h"
#include "rules/ruleset.h"
#include "schema/xml.h"
#include "tools/cli.h"

/* A whole file, NUL-terminated; NULL with errno set (EFBIG past XML_MAX_INPUT). */
static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *text = NULL;
  long n;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto out;
  if ((size_t)n > XML_MAX_INPUT) {
    errno = EFBIG;
    goto out;
  }
  if (!(text = malloc((size_t)n + 1)))
    goto out;
  if (fread(text, 1, (size_t)n, f) != (size_t)n) {
    free(text);
    text = NULL;
    errno = EIO;
    goto out;
  }
  text[n] = '\0';
  *len = (size_t)n;
out:
  fclose(f);
  return text;
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the files in dir ending in suffix, sorted; NULL with *n = 0 when none or the
 * folder does not exist. */
static char **list_dir(const char *dir, const char *suffix, size_t *n)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  char **names = NULL;
  size_t cap = 0;

  *n = 0;
  if (!d)
    return NULL;
  while ((de = readdir(d))) {
    char **grown;
    if (de->d_name[0] == '.' || !ends_with(de->d_name, suffix))
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      if (!(grown = realloc(names, cap * sizeof *names)))
        break;
      names = grown;
    }
    if (!(names[*n] = strdup(de->d_name)))
      break;
    (*n)++;
  }
  closedir(d);
  if (names)
    qsort(names, *n, sizeof *names, cmp_name);
  return names;
}

static void free_list(char **names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* Read one file into the model: XML through schema/xml.c, .ps1 through connect_ps.c.  `shown`
 * names it in notes (relative to the folder given).  Returns an exit code. */
static int add_file(connect_export *x, const char *path, const char *shown, size_t *n_read)
{
  size_t len = 0;
  char *text = read_all(path, &len), err[512];
  xml_doc *doc = NULL;
  int rc = MVS_EXIT_OK;

  if (!text) {
    fprintf(stderr, "mvsync rules import: %s: %s\n", path,
            errno == EFBIG ? "larger than 64 MiB, not a Connect export file" : strerror(errno));
    return MVS_EXIT_SYSTEM;
  }
  if (ends_with(path, ".ps1")) {
    if (connect_add_powershell(x, shown, text, len) != CONNECT_OK)
      rc = MVS_EXIT_SYSTEM;
  } else if (xml_parse(text, len, &doc, err, sizeof err) != 0) {
    fprintf(stderr, "%s:%s\n", path, err);
    rc = MVS_EXIT_INVALID;
  } else if (connect_add_xml(x, shown, doc->root) != CONNECT_OK) {
    rc = MVS_EXIT_SYSTEM;
  }
  (*n_read)++;
  xml_free(doc);
  free(text);
  return rc;
}

static int too_long(const char *path)
{
  fprintf(stderr, "mvsync rules import: %s: path too long\n", path);
  return MVS_EXIT_USAGE;
}

/* Every file of dir/sub ending in suffix (sub "" for dir itself). */
static int add_folder(connect_export *x, const char *dir, const char *sub, const char *suffix,
                      size_t *n_read)
{
  char folder[PATH_MAX], path[PATH_MAX], shown[PATH_MAX];
  size_t n, i;
  char **names;
  int rc = MVS_EXIT_OK;

  if (snprintf(folder, sizeof folder, "%s%s%s", dir, *sub ? "/" : "", sub) >= (int)sizeof folder)
    return too_long(dir);
  names = list_dir(folder, suffix, &n);
  for (i = 0; i < n && rc == MVS_EXIT_OK; i++) {
    if (snprintf(path, sizeof path, "%s/%s", folder, names[i]) >= (int)sizeof path ||
        snprintf(shown, sizeof shown, "%s%s%s", sub, *sub ? "/" : "", names[i]) >=
          (int)sizeof shown)
      rc = too_long(folder);
    else
      rc = add_file(x, path, shown, n_read);
  }
  free_list(names, n);
  return rc;
}

static bool is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An export folder: its Connectors/ and GlobalSettings/MV.xml (connectors_only), or all of it;
 * a folder without those parts: its own *.xml (and *.ps1) files. */
static int add_export(connect_export *x, const char *dir, bool connectors_only, size_t *n_read)
{
  char sub[PATH_MAX];
  bool layout;
  int rc;

  snprintf(sub, sizeof sub, "%s/Connectors", dir);
  layout = is_dir(sub);
  snprintf(sub, sizeof sub, "%s/SynchronizationRules", dir);
  layout = layout || is_dir(sub);
  if (!layout) {
    rc = add_folder(x, dir, "", ".xml", n_read);
    return rc == MVS_EXIT_OK && !connectors_only ? add_folder(x, dir, "", ".ps1", n_read) : rc;
  }
  if ((rc = add_folder(x, dir, "Connectors", ".xml", n_read)) != MVS_EXIT_OK)
    return rc;
  snprintf(sub, sizeof sub, "%s/GlobalSettings/MV.xml", dir);
  if (access(sub, F_OK) == 0 &&
      (rc = add_file(x, sub, "GlobalSettings/MV.xml", n_read)) != MVS_EXIT_OK)
    return rc;
  return connectors_only ? MVS_EXIT_OK : add_folder(x, dir, "SynchronizationRules", ".xml", n_read);
}

/* Write text to dir/name through a temporary file and a rename. */
static int write_out(const char *dir, const connect_file *f)
{
  char path[PATH_MAX], tmp[PATH_MAX + 16];
  FILE *out;
  int ok;

  snprintf(path, sizeof path, "%s/%s", dir, f->name);
  snprintf(tmp, sizeof tmp, "%s.import-tmp", path);
  if (!(out = fopen(tmp, "wb")))
    return -1;
  ok = fwrite(f->text, 1, f->len, out) == f->len;
  ok = fclose(out) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* mkdir -p for the output folder. */
static int make_dirs(const char *dir)
{
  char p[PATH_MAX];
  size_t n = strlen(dir);
  if (n >= sizeof p)
    return -1;
  memcpy(p, dir, n + 1);
  for (size_t i = 1; i <= n; i++)
    if (p[i] == '/' || p[i] == '\0') {
      char c = p[i];
      p[i] = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return -1;
      p[i] = c;
    }
  return is_dir(dir) ? 0 : -1;
}

/* Check the written rule set as `rules check` would: print its errors (named by their path
 * in the output folder), count its warnings.  Returns the number of errors, or -1 when memory
 * ran out. */
static long check_output(const connect_export *x, const char *out_dir, size_t *n_rules,
                         size_t *n_flows, size_t *n_warnings)
{
  rule_set *rs = rule_set_new();
  rule_diags d;
  time_t now = time(NULL);
  struct tm tm;
  long errors = -1;

  rule_diags_init(&d);
  gmtime_r(&now, &tm);
  if (!rs)
    goto out;
  for (size_t i = 0; i < x->n_files; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", out_dir, x->files[i].name);
    if (rule_set_parse(rs, path, x->files[i].text, x->files[i].len, &d) == RULE_NOMEM)
      goto out;
  }
  if (rule_set_check(rs, (rule_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday}, &d) ==
      RULE_NOMEM)
    goto out;
  rule_diags_sort(&d);
  *n_warnings = 0;
  for (size_t i = 0; i < d.n; i++) {
    if (d.items[i].severity == RULE_SEV_ERROR)
      fprintf(stderr, "%s:%u:%u: error: %s\n", d.items[i].file, d.items[i].line, d.items[i].col,
              d.items[i].message);
    else
      (*n_warnings)++;
  }
  *n_rules = rs->n_rules;
  *n_flows = 0;
  for (size_t i = 0; i < rs->n_rules; i++)
    *n_flows += rs->rules[i].n_flows;
  errors = (long)d.n_errors;
out:
  rule_diags_free(&d);
  rule_set_free(rs);
  return errors;
}

static int run_import(const char *path, const char *connectors, const char *out_dir)
{
  connect_export *x = connect_export_new();
  size_t n_read = 0, n_rules = 0, n_flows = 0, in_flows = 0, n_warnings = 0;
  long errors;
  int rc = MVS_EXIT_SYSTEM;

  if (!x)
    goto out;
  if (connectors && (rc = add_export(x, connectors, true, &n_read)) != MVS_EXIT_OK)
    goto out;
  if (is_dir(path))
    rc = add_export(x, path, false, &n_read);
  else if (access(path, R_OK) == 0)
    rc = add_file(x, path, strrchr(path, '/') ? strrchr(path, '/') + 1 : path, &n_read);
  else {
    fprintf(stderr, "mvsync rules import: %s: %s\n", path, strerror(errno));
    rc = MVS_EXIT_INVALID;
  }
  if (rc != MVS_EXIT_OK)
    goto out;
  if (!x->n_rules) {
    for (size_t i = 0; i < x->n_notes; i++)
      fprintf(stderr, "%s: %s\n", x->notes[i].where, x->notes[i].message);
    fprintf(stderr, "mvsync rules import: no synchronization rules in %s\n", path);
    rc = MVS_EXIT_INVALID;
    goto out;
  }
  for (size_t i = 0; i < x->n_rules; i++)
    in_flows += x->rules[i].n_flows;
  rc = MVS_EXIT_SYSTEM;
  if (connect_export_write(x) != CONNECT_OK)
    goto out;
  if (make_dirs(out_dir) != 0) {
    fprintf(stderr, "mvsync rules import: %s: %s\n", out_dir, strerror(errno));
    goto out;
  }
  for (size_t i = 0; i < x->n_files; i++)
    if (write_out(out_dir, &x->files[i]) != 0) {
      fprintf(stderr, "mvsync rules import: %s/%s: %s\n", out_dir, x->files[i].name,
              strerror(errno));
      goto out;
    }
  if ((errors = check_output(x, out_dir, &n_rules, &n_flows, &n_warnings)) < 0)
    goto out;
  printf("imported %zu of %zu rules and %zu of %zu flows from %zu files into %s (%zu files)\n",
         n_rules, x->n_rules, n_flows, in_flows, n_read, out_dir, x->n_files);
  /* What is not carried, then what is carried changed (each kept as a comment at its place). */
  for (int changed = 0; changed <= 1; changed++) {
    size_t n = 0;
    for (size_t i = 0; i < x->n_notes; i++)
      n += x->notes[i].changed == changed;
    if (!n && changed)
      continue;
    printf("%s: %zu\n", changed ? "carried changed" : "not carried", n);
    for (size_t i = 0; i < x->n_notes; i++)
      if (x->notes[i].changed == changed)
        printf("  %s: %s\n", x->notes[i].where, x->notes[i].message);
  }
  printf("rules check: %s", errors ? "errors (above)" : "ok");
  if (n_warnings)
    printf(", %zu warning%s (`mvsync rules check %s` lists them)", n_warnings,
           n_warnings == 1 ? "" : "s", out_dir);
  printf("\n");
  rc = errors ? MVS_EXIT_INVALID : MVS_EXIT_OK;
out:
  if (rc == MVS_EXIT_SYSTEM && !x)
    fprintf(stderr, "mvsync rules import: out of memory\n");
  connect_export_free(x);
  return rc;
}

static int import_run(const cli_args *a)
{
  if (strcmp(a->args[0], "connect") != 0)
    return cli_usage_error(a, "unknown source '%s' (only 'connect')", a->args[0]);
  return run_import(a->args[1], cli_value(a, "connectors"),
                    cli_value(a, "out") ? cli_value(a, "out") : "rules");
}

static const cli_opt import_opts[] = {
  {"connectors", CLI_ARG, "DIR",
   "An export folder (or a folder of Connector_*.xml) whose connectors and metaverse schema "
   "a PowerShell export lacks.", 0, 0},
  {"out", CLI_ARG, "DIR", "Where the rule set goes (default ./rules).", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

const cli_verb cli_rules_import_verb = {
  "rules import", "a rule set from an Entra Connect Sync configuration export",
  "connect PATH", 2, 2, 0, import_opts,
  "PATH is a Connect Sync server-configuration export folder (SynchronizationRules/, "
  "Connectors/, GlobalSettings/MV.xml, as Export-ADSyncServerConfiguration writes it) or a "
  "PowerShell rules export (.ps1: New-ADSyncRule ... Add-ADSyncRule). What cannot be carried "
  "is listed, and kept as a comment where it was.",
  import_run, NULL};
