/* test_file — reading a whole test input (a case, a fixture, an expected output) into memory.
 * Memory: the returned text is malloc'd, NUL-terminated, and the caller frees it. */
#ifndef MVS_TEST_FILE_H
#define MVS_TEST_FILE_H

#include <stddef.h>

/* The file's bytes plus a NUL; *len (when not NULL) is their number.  NULL when it cannot be
 * read. */
char *test_read_file(const char *path, size_t *len);

#endif
