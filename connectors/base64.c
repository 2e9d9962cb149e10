/* base64 — RFC 4648 encoding and strict decoding.  See base64.h. */
#include "connectors/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

void base64_encode(const void *in, size_t n, char *out)
{
  const unsigned char *p = in;
  size_t i;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
    *out++ = alphabet[v >> 18];
    *out++ = alphabet[v >> 12 & 63];
    *out++ = alphabet[v >> 6 & 63];
    *out++ = alphabet[v & 63];
  }
  if (i < n) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
    *out++ = alphabet[v >> 18];
    *out++ = alphabet[v >> 12 & 63];
    *out++ = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
    *out++ = '=';
  }
}

static int sextet(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int base64_decode(const char *in, size_t n, unsigned char *out, size_t *outn)
{
  size_t i, o = 0;

  if (n % 4)
    return -1;
  for (i = 0; i < n; i += 4) {
    int a = sextet(in[i]), b = sextet(in[i + 1]), c = sextet(in[i + 2]), d = sextet(in[i + 3]);
    int last = i + 4 == n;
    if (a < 0 || b < 0)
      return -1;
    /* '=' only pads the last quantum, and the bits it drops must be zero (canonical form). */
    if (c < 0 || d < 0) {
      if (!last || in[i + 3] != '=' || (c < 0 && in[i + 2] != '='))
        return -1;
      if (c < 0) {
        if (b & 15)
          return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
      } else {
        if (c & 3)
          return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
      }
      break;
    }
    out[o++] = (unsigned char)(a << 2 | b >> 4);
    out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
    out[o++] = (unsigned char)((c & 3) << 6 | d);
  }
  *outn = o;
  return 0;
}
