/* rule_files — a rule set read from disk: a .rules file, or every *.rules file of a
 * directory in name order; the one loader of `mvsync rules` and the engine.
 * Memory: a rule_files owns its paths and file texts (rule_files_free); the texts stay
 * available after parsing (rules fmt compares its output with them). */
#ifndef MVS_RULE_FILES_H
#define MVS_RULE_FILES_H

#include <stddef.h>

#include "rules/ruleset.h"

enum {
  RULE_FILES_OK = 0,
  RULE_FILES_IO,      /* a path cannot be read (err says which and why) */
  RULE_FILES_EMPTY,   /* a directory without *.rules files */
  RULE_FILES_NOMEM
};

typedef struct rule_files {
  char **paths;
  char **texts;       /* NUL-terminated, one per path, after rule_files_parse */
  size_t *lens;
  size_t n, cap;
} rule_files;

/* Add path: the file itself, or the *.rules files of a directory, sorted by name.  On
 * failure err says why ("PATH: reason"). */
int rule_files_add(rule_files *l, const char *path, char *err, size_t errlen);
/* Read every file and parse it into rs; syntax errors go to d (not a failure here). */
int rule_files_parse(rule_files *l, rule_set *rs, rule_diags *d, char *err, size_t errlen);
void rule_files_free(rule_files *l);

/* A whole file into a NUL-terminated malloc'd buffer (the caller's); 0, or -1 with errno
 * set.  Shared with the CLI's other file arguments. */
int mvs_read_file(const char *path, char **out, size_t *len);

#endif
