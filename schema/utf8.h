/* utf8 — UTF-8 decoding, code-point indexing and simple Unicode case mapping for text
 * functions.  Memory: nothing here allocates; callers pass buffers. */
#ifndef MVS_UTF8_H
#define MVS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode one code point at p (n bytes left); sets *len to the bytes used (>=1).
 * Invalid sequences decode as U+FFFD consuming one byte, so every input makes progress. */
uint32_t utf8_decode(const char *p, size_t n, size_t *len);
/* Encode cp into out (>= 4 bytes); returns bytes written. */
size_t utf8_encode(uint32_t cp, char *out);
/* Number of code points in p[0..n). */
size_t utf8_length(const char *p, size_t n);
/* Byte offset of code point index i (0-based); n when i >= length. */
size_t utf8_offset(const char *p, size_t n, size_t i);
/* Simple (1:1) case mapping; code points without a mapping map to themselves. */
uint32_t utf8_toupper(uint32_t cp);
uint32_t utf8_tolower(uint32_t cp);
/* Ordinal comparison ignoring case (maps both sides with utf8_tolower); <0, 0, >0. */
int utf8_casecmp(const char *a, size_t an, const char *b, size_t bn);
/* Where p[0..n) stops being text read from a file: the offset of the first byte that is not
 * UTF-8 or is a control character other than tab, CR and LF; n when there is none. */
size_t utf8_text_end(const char *p, size_t n);
/* 1 when cp is Unicode white space (as .NET Char.IsWhiteSpace). */
int utf8_isspace(uint32_t cp);

#endif
