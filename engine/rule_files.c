/* rule_files — reading rule files from disk for the engine and `mvsync rules` (the rules/
 * module is pure: no I/O).  Memory: see rule_files.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/rule_files.h"
#include "schema/array.h"

static int add_one(rule_files *l, char *path)
{
  if (array_reserve(&l->paths, &l->cap, l->n + 1, sizeof *l->paths) != 0) {
    free(path);
    return RULE_FILES_NOMEM;
  }
  l->paths[l->n++] = path;
  return RULE_FILES_OK;
}

static bool is_rules_file(const char *name)
{
  size_t n = strlen(name);
  return name[0] != '.' && n > 6 && strcmp(name + n - 6, ".rules") == 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int rule_files_add(rule_files *l, const char *path, char *err, size_t errlen)
{
  struct stat st;
  DIR *dir;
  struct dirent *de;
  size_t first = l->n;
  char *copy;
  int rc = RULE_FILES_OK;

  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return RULE_FILES_IO;
  }
  if (!S_ISDIR(st.st_mode))
    return (copy = strdup(path)) ? add_one(l, copy) : RULE_FILES_NOMEM;
  if (!(dir = opendir(path))) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return RULE_FILES_IO;
  }
  while ((de = readdir(dir)) && rc == RULE_FILES_OK) {
    if (!is_rules_file(de->d_name))
      continue;
    if (asprintf(&copy, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                 de->d_name) < 0)
      rc = RULE_FILES_NOMEM;
    else
      rc = add_one(l, copy);
  }
  closedir(dir);
  if (rc == RULE_FILES_OK && l->n == first) {
    snprintf(err, errlen, "%s: no *.rules files in this directory", path);
    return RULE_FILES_EMPTY;
  }
  /* Name order: the rule set (and its hash) do not depend on the directory's order. */
  qsort(l->paths + first, l->n - first, sizeof *l->paths, cmp_str);
  return rc;
}

/* What one fread asks for at least. */
#define READ_CHUNK 65536

int mvs_read_file(const char *path, char **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *p = NULL;
  size_t cap = 0, n = 0, got;
  int saved;

  if (!f)
    return -1;
  for (;;) {
    /* Room for a chunk and the final NUL; the buffer doubles from the first chunk. */
    if (array_reserve_from(&p, &cap, n + READ_CHUNK + 1, 1, READ_CHUNK + 1) != 0) {
      errno = ENOMEM;
      goto fail;
    }
    if ((got = fread(p + n, 1, cap - n - 1, f)) == 0)
      break;
    n += got;
  }
  if (ferror(f))
    goto fail;
  fclose(f);
  p[n] = '\0';
  *out = p;
  *len = n;
  return 0;
fail:
  saved = errno ? errno : EIO;
  free(p);
  fclose(f);
  errno = saved;
  return -1;
}

int rule_files_parse(rule_files *l, rule_set *rs, rule_diags *d, char *err, size_t errlen)
{
  size_t i;

  if (!(l->texts = calloc(l->n ? l->n : 1, sizeof *l->texts)) ||
      !(l->lens = calloc(l->n ? l->n : 1, sizeof *l->lens)))
    return RULE_FILES_NOMEM;
  for (i = 0; i < l->n; i++) {
    if (mvs_read_file(l->paths[i], &l->texts[i], &l->lens[i]) != 0) {
      if (errno == ENOMEM)
        return RULE_FILES_NOMEM;
      snprintf(err, errlen, "%s: %s", l->paths[i], strerror(errno));
      return RULE_FILES_IO;
    }
    if (rule_set_parse(rs, l->paths[i], l->texts[i], l->lens[i], d) == RULE_NOMEM)
      return RULE_FILES_NOMEM;
  }
  return RULE_FILES_OK;
}

void rule_files_free(rule_files *l)
{
  size_t i;
  for (i = 0; i < l->n; i++) {
    free(l->paths[i]);
    if (l->texts)
      free(l->texts[i]);
  }
  free(l->paths);
  free(l->texts);
  free(l->lens);
  memset(l, 0, sizeof *l);
}
