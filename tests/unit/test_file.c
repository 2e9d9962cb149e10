/* test_file — see test_file.h. */
#include "test_file.h"

#include <stdio.h>
#include <stdlib.h>

char *test_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *p = NULL;
  long n;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
    p[n] = '\0';
    if (len)
      *len = (size_t)n;
  } else {
    free(p);
    p = NULL;
  }
  fclose(f);
  return p;
}
