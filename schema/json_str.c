/* json_str — the one JSON string escaper; see json_str.h. */
#include "schema/json_str.h"

#include "schema/utf8.h"

int json_str_chars(buf *b, const char *s, size_t n)
{
  size_t i = 0, len;
  int rc = 0;

  while (rc == 0 && i < n) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp = utf8_decode(s + i, n - i, &len);
    switch (c) {
    case '"': rc = buf_adds(b, "\\\""); break;
    case '\\': rc = buf_adds(b, "\\\\"); break;
    case '\n': rc = buf_adds(b, "\\n"); break;
    case '\r': rc = buf_adds(b, "\\r"); break;
    case '\t': rc = buf_adds(b, "\\t"); break;
    default:
      if (c < 0x20)
        rc = buf_printf(b, "\\u%04x", c);
      else if (cp == 0xFFFD && len == 1)
        rc = buf_adds(b, "\\ufffd");
      else
        rc = buf_add(b, s + i, len);
    }
    i += len;
  }
  return rc;
}

int json_str_write(buf *b, const char *s, size_t n)
{
  int rc = buf_addc(b, '"');
  if (rc == 0)
    rc = json_str_chars(b, s, n);
  return rc ? rc : buf_addc(b, '"');
}
