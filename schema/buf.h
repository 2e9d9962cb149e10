/* buf — a growable byte buffer with a hard size cap, and a bump arena with a cap.
 * Memory: a buf owns its bytes until buf_free() or buf_detach(); an arena owns every
 * block it hands out until mvs_arena_reset() or mvs_arena_free(). */
#ifndef MVS_BUF_H
#define MVS_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Return codes shared by schema/ helpers. */
enum { BUF_OK = 0, BUF_TOOBIG = 1, BUF_NOMEM = 2 };

typedef struct buf {
  char *p;      /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;   /* allocated bytes */
  size_t max;   /* hard cap on len; 0 means 1 GiB */
} buf;

/* Caps for what a buffer is known to hold, so bad input fails there, not at 1 GiB:
 *  - BUF_CAP_DN: one DN or its folded key.  Directories bound a DN's parts, not its depth
 *    (Active Directory: an RDN is under 255 characters, MS-ADTS 3.1.1.5.1.2); 1 MiB is
 *    thousands of levels of the longest RDNs, escaped.
 *  - BUF_CAP_VALUE: one attribute value or its folded text (join keys).  Above what one
 *    request can carry to a directory (Active Directory's LDAP MaxReceiveBuffer is 10 MiB;
 *    Graph takes 4 MB), with room for folding, which can lengthen UTF-8 by half. */
enum { BUF_CAP_DN = 1 << 20, BUF_CAP_VALUE = 32 << 20 };

void buf_init(buf *b, size_t max);
int buf_add(buf *b, const void *p, size_t n);
int buf_addc(buf *b, char c);
int buf_adds(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(buf *b);
char *buf_detach(buf *b);   /* caller frees; buffer is left empty */
void buf_free(buf *b);

/* Arena: every allocation is 16-byte aligned; allocations past the cap return NULL,
 * which is how evaluation keeps memory bounded whatever the input. */
typedef struct mvs_arena mvs_arena;
mvs_arena *mvs_arena_new(size_t cap);   /* cap 0 means 64 MiB */
void *mvs_arena_alloc(mvs_arena *a, size_t n);
void *mvs_arena_memdup(mvs_arena *a, const void *p, size_t n); /* adds a NUL byte */
size_t mvs_arena_used(const mvs_arena *a);
void mvs_arena_reset(mvs_arena *a);
void mvs_arena_free(mvs_arena *a);

#endif
