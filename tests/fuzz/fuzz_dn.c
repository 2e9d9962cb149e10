/* fuzz_dn — libFuzzer target for connectors/dn.c, which reads every DN a server sends (entry
 * names, member values, renames).  The input is taken two ways:
 *   as a DN: the RDN split stays inside it; for a DN dn_valid accepts, its key is a fixed
 *     point (the key of a key is itself) and names the same entry, it splits into
 *     attribute=value pairs, and writing those back with dn_escape_value gives the same key;
 *   as two values (split at the first 0xff): escaped into "CN=<v1>,OU=<v2>", the DN is valid,
 *     its first RDN ends where the first value does, and the pairs read back are exactly v1
 *     and v2.
 * Memory: per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/dn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

static bool same(const buf *a, const char *p, size_t n)
{
  return a->len == n && (n == 0 || memcmp(a->p, p, n) == 0);
}

/* The pairs of every RDN of dn written again, escaped by dn_escape_value. */
static void rebuild(const char *dn, size_t n, buf *out)
{
  buf attr, value;
  size_t at = 0;
  buf_init(&attr, 0);
  buf_init(&value, 0);
  while (at < n) {
    size_t len = dn_rdn_len(dn + at, n - at), pos = 0;
    int r, k = 0;
    while ((r = dn_ava_next(dn + at, len, &pos, &attr, &value)) == 1) {
      check(buf_adds(out, k++ ? "+" : (out->len ? "," : "")) == BUF_OK &&
            buf_add(out, attr.p, attr.len) == BUF_OK && buf_addc(out, '=') == BUF_OK &&
            dn_escape_value(out, value.p ? value.p : "", value.len) == BUF_OK);
    }
    check(r == 0 && k > 0); /* a valid DN's every RDN is pairs */
    at += len < n - at ? len + 1 : len;
  }
  buf_free(&attr);
  buf_free(&value);
}

static void as_dn(const char *dn, size_t n)
{
  buf key, key2, again, again_key;
  size_t rdn = dn_rdn_len(dn, n), parent = dn_parent_off(dn, n);

  check(rdn <= parent && parent <= n);
  buf_init(&key, 0);
  buf_init(&key2, 0);
  buf_init(&again, 0);
  buf_init(&again_key, 0);
  check(dn_key(dn, n, &key) == BUF_OK);
  if (dn_valid(dn, n)) {
    check(dn_key(key.p, key.len, &key2) == BUF_OK && same(&key2, key.p, key.len));
    check(dn_equal(dn, n, key.p, key.len));
    rebuild(dn, n, &again);
    check(dn_valid(again.p ? again.p : "", again.len));
    check(dn_key(again.p ? again.p : "", again.len, &again_key) == BUF_OK &&
          same(&again_key, key.p, key.len));
  }
  buf_free(&key);
  buf_free(&key2);
  buf_free(&again);
  buf_free(&again_key);
}

static void as_values(const char *v1, size_t n1, const char *v2, size_t n2)
{
  buf dn, attr, value;
  size_t first, pos = 0;

  buf_init(&dn, 0);
  buf_init(&attr, 0);
  buf_init(&value, 0);
  check(buf_adds(&dn, "CN=") == BUF_OK && dn_escape_value(&dn, v1, n1) == BUF_OK);
  first = dn.len;
  check(buf_adds(&dn, ",OU=") == BUF_OK && dn_escape_value(&dn, v2, n2) == BUF_OK);
  check(dn_valid(dn.p, dn.len));
  check(dn_rdn_len(dn.p, dn.len) == first && dn_parent_off(dn.p, dn.len) == first + 1);
  check(dn_ava_next(dn.p, first, &pos, &attr, &value) == 1 && same(&attr, "cn", 2) &&
        same(&value, v1, n1));
  check(dn_ava_next(dn.p, first, &pos, &attr, &value) == 0);
  pos = 0;
  check(dn_ava_next(dn.p + first + 1, dn.len - first - 1, &pos, &attr, &value) == 1 &&
        same(&attr, "ou", 2) && same(&value, v2, n2));
  buf_free(&dn);
  buf_free(&attr);
  buf_free(&value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  const char *cut = memchr(p, 0xff, size);
  size_t n1 = cut ? (size_t)(cut - p) : size;

  as_dn(p, size);
  as_values(p, n1, cut ? cut + 1 : "", cut ? size - n1 - 1 : 0);
  return 0;
}
