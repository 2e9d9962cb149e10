/* utf8 — strict UTF-8 decoding, code-point indexing, simple case mapping, white space.
 * Memory: nothing here allocates; callers own every buffer. */
#include "schema/utf8.h"

#include "schema/utf8_case.h"

#define REPLACEMENT 0xFFFDu

static int cont(const char *p, size_t i) { return ((unsigned char)p[i] & 0xC0) == 0x80; }

uint32_t utf8_decode(const char *p, size_t n, size_t *len)
{
  unsigned char c;
  unsigned char lo = 0x80, hi = 0xBF;   /* allowed range of the second byte */
  size_t need, i;
  uint32_t cp;

  *len = 1;
  if (n == 0)
    return REPLACEMENT;
  c = (unsigned char)p[0];
  if (c < 0x80)
    return c;
  /* Table 3-7 of the Unicode standard: these limits exclude overlong forms, surrogates
   * and code points above U+10FFFF. */
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    cp = c & 0x0F;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    cp = c & 0x07;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return REPLACEMENT;
  }
  if (n <= need)
    return REPLACEMENT;
  if ((unsigned char)p[1] < lo || (unsigned char)p[1] > hi)
    return REPLACEMENT;
  for (i = 1; i <= need; i++) {
    if (!cont(p, i))
      return REPLACEMENT;
    cp = cp << 6 | ((unsigned char)p[i] & 0x3F);
  }
  *len = need + 1;
  return cp;
}

size_t utf8_encode(uint32_t cp, char *out)
{
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    cp = REPLACEMENT;
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

size_t utf8_length(const char *p, size_t n)
{
  size_t i = 0, cnt = 0, l;
  while (i < n) {
    if ((unsigned char)p[i] < 0x80) {
      i++;
    } else {
      utf8_decode(p + i, n - i, &l);
      i += l;
    }
    cnt++;
  }
  return cnt;
}

size_t utf8_offset(const char *p, size_t n, size_t idx)
{
  size_t i = 0, l;
  while (i < n && idx > 0) {
    utf8_decode(p + i, n - i, &l);
    i += l;
    idx--;
  }
  return i;
}

static uint32_t map_case(const struct utf8_case_run *t, size_t nt, uint32_t cp)
{
  size_t lo = 0, hi = nt;
  /* Find the last run whose lo <= cp; runs never overlap. */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t[mid].lo <= cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return cp;
  t += lo - 1;
  if (cp > t->hi || (cp - t->lo) % t->stride != 0)
    return cp;
  return (uint32_t)((int64_t)cp + t->delta);
}

uint32_t utf8_toupper(uint32_t cp)
{
  if (cp < 0x80)
    return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
  return map_case(utf8_case_upper, sizeof utf8_case_upper / sizeof *utf8_case_upper, cp);
}

uint32_t utf8_tolower(uint32_t cp)
{
  if (cp < 0x80)
    return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  return map_case(utf8_case_lower, sizeof utf8_case_lower / sizeof *utf8_case_lower, cp);
}

int utf8_casecmp(const char *a, size_t an, const char *b, size_t bn)
{
  size_t i = 0, j = 0, la, lb;
  while (i < an && j < bn) {
    uint32_t ca = utf8_tolower(utf8_decode(a + i, an - i, &la));
    uint32_t cb = utf8_tolower(utf8_decode(b + j, bn - j, &lb));
    if (ca != cb)
      return ca < cb ? -1 : 1;
    i += la;
    j += lb;
  }
  if (i < an)
    return 1;
  if (j < bn)
    return -1;
  return 0;
}

int utf8_isspace(uint32_t cp)
{
  /* Char.IsWhiteSpace: categories Zs, Zl, Zp plus U+0009..U+000D and U+0085. */
  switch (cp) {
  case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
  case 0x20: case 0x85: case 0xA0: case 0x1680:
  case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
    return 1;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}

size_t utf8_text_end(const char *p, size_t n)
{
  size_t i = 0, len;
  while (i < n) {
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
        return i;
      i++;
      continue;
    }
    if (utf8_decode(p + i, n - i, &len) == 0xFFFD && len == 1)
      return i;
    i += len;
  }
  return n;
}
