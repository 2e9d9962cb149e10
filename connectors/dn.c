/* dn — DN keys and RDN splitting.  See dn.h. */
#include "connectors/dn.h"

#include <stdbool.h>
#include <string.h>

#include "schema/utf8.h"
#include "schema/value.h"

/* Decode one character at dn[*i]: a "\XX" hex pair or "\c" gives the byte, escaped. */
static char decode(const char *dn, size_t n, size_t *i, bool *escaped)
{
  char c = dn[*i];
  *escaped = false;
  if (c == '\\' && *i + 1 < n) {
    *escaped = true;
    if (*i + 2 < n && mvs_hex_digit(dn[*i + 1]) >= 0 && mvs_hex_digit(dn[*i + 2]) >= 0) {
      c = (char)(mvs_hex_digit(dn[*i + 1]) << 4 | mvs_hex_digit(dn[*i + 2]));
      *i += 3;
      return c;
    }
    *i += 2;
    return dn[*i - 1];
  }
  *i += 1;
  return c;
}

/* Decode the text up to one of the unescaped stop characters into out, dropping unescaped
 * spaces at both ends.  Returns the stop character ('\0' at the end of the DN). */
static int decode_until(const char *dn, size_t n, size_t *i, const char *stops, buf *out,
                        char *stop)
{
  size_t keep = 0;
  int rc;

  *stop = '\0';
  while (*i < n) {
    bool esc;
    char c = decode(dn, n, i, &esc);
    if (!esc && c != '\0' && strchr(stops, c)) { /* a NUL byte is text, not the end */
      *stop = c;
      break;
    }
    if (!esc && c == ' ' && out->len == 0)
      continue;
    if ((rc = buf_addc(out, c)) != BUF_OK)
      return rc;
    if (esc || c != ' ')
      keep = out->len;
  }
  out->len = keep;
  if (out->p)
    out->p[keep] = '\0';
  return BUF_OK;
}

/* Attribute types are ASCII and compare ignoring case. */
static void lower_ascii(buf *b)
{
  for (size_t i = 0; i < b->len; i++)
    if (b->p[i] >= 'A' && b->p[i] <= 'Z')
      b->p[i] = (char)(b->p[i] - 'A' + 'a');
}

/* Append v case folded, escaping what a DN must escape, so equal names give equal keys. */
static int put_value(buf *out, const char *v, size_t n)
{
  size_t i = 0;
  int rc = BUF_OK;
  while (i < n && rc == BUF_OK) {
    size_t len;
    uint32_t cp = utf8_decode(v + i, n - i, &len);
    char enc[4];
    bool edge_space = cp == ' ' && (i == 0 || i + len == n);
    if ((cp && cp < 0x80 && strchr(",+\"\\<>;=", (int)cp)) || edge_space || (i == 0 && cp == '#'))
      rc = buf_addc(out, '\\');
    if (rc == BUF_OK)
      rc = buf_add(out, enc, utf8_encode(utf8_tolower(cp), enc));
    i += len;
  }
  return rc;
}

int dn_key(const char *dn, size_t n, buf *out)
{
  buf part;
  size_t i = 0;
  int rc = BUF_OK;

  buf_init(&part, BUF_CAP_DN);
  while (i < n && rc == BUF_OK) {
    char stop;
    /* The attribute type, up to '=' (text without '=' is one value: already in part). */
    buf_reset(&part);
    if ((rc = decode_until(dn, n, &i, "=,+", &part, &stop)) != BUF_OK)
      break;
    if (stop == '=') {
      lower_ascii(&part);
      if ((rc = buf_add(out, part.p, part.len)) != BUF_OK || (rc = buf_addc(out, '=')) != BUF_OK)
        break;
      buf_reset(&part);
      if ((rc = decode_until(dn, n, &i, ",+", &part, &stop)) != BUF_OK)
        break;
    }
    if ((rc = put_value(out, part.p ? part.p : "", part.len)) != BUF_OK)
      break;
    if (stop)
      rc = buf_addc(out, stop);
  }
  buf_free(&part);
  return rc;
}

bool dn_equal(const char *a, size_t an, const char *b, size_t bn)
{
  buf ka, kb;
  bool eq;
  buf_init(&ka, BUF_CAP_DN);
  buf_init(&kb, BUF_CAP_DN);
  eq = dn_key(a, an, &ka) == BUF_OK && dn_key(b, bn, &kb) == BUF_OK && ka.len == kb.len &&
       (ka.len == 0 || memcmp(ka.p, kb.p, ka.len) == 0);
  buf_free(&ka);
  buf_free(&kb);
  return eq;
}

bool dn_fold_is(const char *text, size_t n, const char *key, size_t kn)
{
  size_t i = 0, k = 0;
  while (i < n) {
    size_t len;
    char enc[4];
    size_t m = utf8_encode(utf8_tolower(utf8_decode(text + i, n - i, &len)), enc);
    if (m > kn - k || memcmp(key + k, enc, m) != 0)
      return false;
    k += m;
    i += len;
  }
  return k == kn;
}

bool dn_folds_to_key(const char *dn, size_t n)
{
  buf key;
  bool folds;
  buf_init(&key, BUF_CAP_DN);
  folds = dn_key(dn, n, &key) == BUF_OK && dn_fold_is(dn, n, key.p ? key.p : "", key.len);
  buf_free(&key);
  return folds;
}

bool dn_valid(const char *dn, size_t n)
{
  bool in_value = false, typed = false;
  for (size_t i = 0; i < n; i++) {
    char c = dn[i];
    if (c == '\\') {
      if (++i == n || (mvs_hex_digit(dn[i]) >= 0 && (i + 1 == n || mvs_hex_digit(dn[i + 1]) < 0)))
        return false; /* a dangling escape, or half a hex pair */
      i += mvs_hex_digit(dn[i]) >= 0;
      if (!in_value)
        return false;
    } else if (!in_value && c == '=') {
      if (!typed)
        return false;
      in_value = true;
    } else if (c == ',' || c == '+') {
      if (!in_value)
        return false;
      in_value = typed = false;
    } else if (!in_value && c != ' ') {
      typed = true;
    }
  }
  return in_value;
}

size_t dn_rdn_len(const char *dn, size_t n)
{
  size_t i = 0;
  while (i < n) {
    bool esc;
    size_t at = i;
    char c = decode(dn, n, &i, &esc);
    if (!esc && c == ',')
      return at;
  }
  return n;
}

size_t dn_parent_off(const char *dn, size_t n)
{
  size_t i = dn_rdn_len(dn, n);
  if (i < n)
    i++;
  while (i < n && dn[i] == ' ')
    i++;
  return i;
}

int dn_ava_next(const char *rdn, size_t n, size_t *pos, buf *attr, buf *value)
{
  char stop;
  buf_reset(attr);
  buf_reset(value);
  if (*pos >= n)
    return 0;
  if (decode_until(rdn, n, pos, "=,+", attr, &stop) != BUF_OK || stop != '=' || attr->len == 0)
    return -1;
  lower_ascii(attr);
  if (decode_until(rdn, n, pos, ",+", value, &stop) != BUF_OK)
    return -1;
  if (stop != '+')
    *pos = n;
  return 1;
}

int dn_escape_value(buf *out, const char *p, size_t n)
{
  int rc = BUF_OK;
  for (size_t i = 0; i < n && rc == BUF_OK; i++) {
    unsigned char c = (unsigned char)p[i];
    bool special = strchr("\"+,;<=>\\", c) || (i == 0 && (c == ' ' || c == '#')) ||
                   (i == n - 1 && c == ' ');
    if (c < 0x20 || c == 0x7f)
      rc = buf_printf(out, "\\%02x", c);
    else if (special && (rc = buf_addc(out, '\\')) == BUF_OK)
      rc = buf_addc(out, (char)c);
    else if (!special)
      rc = buf_addc(out, (char)c);
  }
  return rc;
}
