/* escape — RFC 4515 filter values and RFC 4514 DN values.  See escape.h. */
#include "connectors/ldap/escape.h"

#include <stdbool.h>
#include <string.h>

#include "connectors/shape.h"

static int hex_escape(buf *out, unsigned char c)
{
  static const char hex[] = "0123456789abcdef";
  char e[3] = {'\\', hex[c >> 4], hex[c & 15]};
  return buf_add(out, e, 3);
}

int ldap_escape_filter(buf *out, const char *p, size_t n)
{
  bool text = shape_is_text(p, n);
  int rc = BUF_OK;
  for (size_t i = 0; i < n && rc == BUF_OK; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c == 0x7f ||
        (c >= 0x80 && !text))
      rc = hex_escape(out, c);
    else
      rc = buf_addc(out, (char)c);
  }
  return rc;
}
