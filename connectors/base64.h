/* base64 — RFC 4648 base64 (standard alphabet, padded): LDIF "::" values, binary values in
 * Graph JSON.  Memory: nothing here allocates; callers pass output buffers. */
#ifndef MVS_BASE64_H
#define MVS_BASE64_H

#include <stddef.h>

/* Characters base64_encode writes for n bytes (no NUL). */
size_t base64_encoded_len(size_t n);
void base64_encode(const void *in, size_t n, char *out);
/* Decode strictly (padding required, no white space).  out needs n / 4 * 3 bytes.
 * Returns 0 with *outn set, or -1 when the text is not base64. */
int base64_decode(const char *in, size_t n, unsigned char *out, size_t *outn);

#endif
