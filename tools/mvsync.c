/* mvsync — the command-line entry point: dispatches git-style subcommands.
 * Memory: nothing is returned; each subcommand frees what it allocates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} commands[] = {
  {"rules", cli_rules, "rules check|fmt|show PATH...   validate, format or dump rule files"},
  {"expr", cli_expr, "expr [options] EXPRESSION      evaluate an attribute-flow expression"},
};

static void usage(FILE *f)
{
  size_t i;
  fprintf(f, "usage: mvsync <command> [args]\n\ncommands:\n");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %s\n", commands[i].help);
  fprintf(f, "\nexit codes: 0 ok, 1 invalid input, 2 usage, 3 system error, 4 safety stop\n");
}

int cli_read_file(const char *path, char **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *p = NULL, *np;
  size_t cap = 0, n = 0, got;
  int saved;

  if (!f)
    return -1;
  for (;;) {
    if (cap - n < 65536) {
      cap = cap ? cap * 2 : 65536;
      np = realloc(p, cap + 1);
      if (!np) {
        errno = ENOMEM;
        goto fail;
      }
      p = np;
    }
    got = fread(p + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
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

int main(int argc, char **argv)
{
  size_t i;

  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? MVS_EXIT_USAGE : MVS_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("mvsync 0.1.0\n");
    return MVS_EXIT_OK;
  }
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "mvsync: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return MVS_EXIT_USAGE;
}
