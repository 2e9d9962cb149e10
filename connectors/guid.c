/* guid — GUID text, .NET byte order and v5 GUIDs.  See guid.h. */
#include "connectors/guid.h"

#include <openssl/evp.h>
#include <string.h>

#include "schema/value.h"

/* .NET stores the first three groups little-endian: byte i of the text order lands here. */
static const unsigned char ms_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

int guid_parse_ms(const char *s, size_t n, unsigned char out[16])
{
  unsigned char text[16];
  size_t i, k = 0;

  if (n == GUID_TEXT_LEN + 2 && s[0] == '{' && s[n - 1] == '}') {
    s++;
    n -= 2;
  }
  if (n != GUID_TEXT_LEN)
    return -1;
  for (i = 0; i < n; i++) {
    int hi, lo;
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return -1;
      continue;
    }
    hi = mvs_hex_digit(s[i]);
    lo = mvs_hex_digit(s[++i]);
    if (hi < 0 || lo < 0)
      return -1;
    text[k++] = (unsigned char)(hi << 4 | lo);
  }
  for (i = 0; i < 16; i++)
    out[ms_order[i]] = text[i];
  return 0;
}

static void format_text(const unsigned char text[16], char out[37])
{
  static const char hex[] = "0123456789abcdef";
  size_t i, o = 0;
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[text[i] >> 4];
    out[o++] = hex[text[i] & 15];
  }
  out[o] = '\0';
}

void guid_format_ms(const unsigned char b[16], char out[37])
{
  unsigned char text[16];
  for (size_t i = 0; i < 16; i++)
    text[i] = b[ms_order[i]];
  format_text(text, out);
}

int guid_v5(const void *name, size_t n, char out[37])
{
  /* mvsync's namespace: a fixed random GUID, so the same name always gives the same GUID. */
  static const unsigned char ns[16] = {0x6d, 0x76, 0x73, 0x79, 0x6e, 0x63, 0x4e, 0x5a,
                                       0x9f, 0x1c, 0x3b, 0x27, 0xc0, 0x4d, 0x81, 0x5e};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = -1;

  if (!ctx)
    return -1;
  if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(ctx, ns, 16) != 1 ||
      EVP_DigestUpdate(ctx, name, n) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16)
    goto out;
  md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
  md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  format_text(md, out);
  rc = 0;
out:
  EVP_MD_CTX_free(ctx);
  return rc;
}
