/* fn_data — the non-text functions of both dialects: conversion, evaluation (Is*), math,
 * multi-valued and program flow, and the exported table expr_fn_data (the date functions
 * live in fn_date.c).  Memory: results are copied into the evaluation arena.
 *
 * NULL rule: a function that transforms a value returns NULL when that value is NULL (an
 * absent attribute simply does not flow); predicates (Is*) answer True or False; parameters
 * (formats, indexes, flags, search text) must be present. */
#include "rules/fn_data.h"

#include <stdio.h>
#include <string.h>

#include "rules/expr_fn.h"
#include "schema/buf.h"
#include "schema/json_str.h"
#include "schema/utf8.h"

/* SCIM role objects are short; the cap only bounds a hostile role value. */
#define ROLE_TEXT_MAX 65536

int fd_type_error(expr_call *c, const mvs_value *args, size_t i, mvs_vtype want)
{
  mvs_value v = args[i];
  int k;
  if (v.type != MVS_V_STR)
    return expr_fail(c, "argument %zu must be a %s, got %s", i + 1, mvs_type_name(want),
                     mvs_type_name(v.type));
  k = fd_clip(v.u.s.p, v.u.s.n);
  return expr_fail(c, "argument %zu must be a %s, got string \"%.*s%s\"", i + 1,
                   mvs_type_name(want), k, v.u.s.p, (size_t)k < v.u.s.n ? "..." : "");
}

bool fd_all_values(mvs_value v, bool (*pred)(mvs_value))
{
  size_t i, n = mvs_count(v);
  for (i = 0; i < n; i++)
    if (!pred(mvs_item(v, i)))
      return false;
  return n > 0;
}

static int ret_null(mvs_value *out)
{
  *out = mvs_null();
  return EXPR_OK;
}

static int ret_bool(mvs_value *out, bool b)
{
  *out = mvs_bool(b);
  return EXPR_OK;
}

static int not_convertible(expr_call *c, mvs_value v, const char *what)
{
  if (v.type == MVS_V_STR)
    return expr_fail(c, "\"%.*s\" is not %s", fd_clip(v.u.s.p, v.u.s.n), v.u.s.p, what);
  return expr_fail(c, "a %s cannot be converted to %s", mvs_type_name(v.type), what);
}

/* A value as a condition (VBA's CBool): booleans, numbers (nonzero is true), and text that
 * is "True"/"False" in any case or a number.  NULL is false.  -1 for anything else. */
static int to_truth(mvs_value v, bool *out)
{
  int64_t num;
  if (mvs_is_null(v)) {
    *out = false;
    return 0;
  }
  if (v.type == MVS_V_MV || mvs_is_special(v))
    return -1;
  if (mvs_to_bool(v, out) == 0)
    return 0;
  if (v.type == MVS_V_STR && mvs_to_num(v, &num) == 0) {
    *out = num != 0;
    return 0;
  }
  return -1;
}

/* What CNum converts, and so what IsNumeric accepts. */
static int as_num(mvs_value v, int64_t *out)
{
  return (v.type == MVS_V_NUM || v.type == MVS_V_STR) ? mvs_to_num(v, out) : -1;
}

/* What CStr converts, and so what IsString accepts: text, numbers, booleans, references
 * and datetimes — not binary, which has no text form of its own (use StringFromGuid,
 * StringFromSid or ConvertToBase64). */
static bool is_stringable(mvs_value v)
{
  return v.type == MVS_V_STR || v.type == MVS_V_NUM || v.type == MVS_V_BOOL ||
         v.type == MVS_V_REF || v.type == MVS_V_DT;
}

/* Argument i as text: NULL reads as "" (Cloud Switch matches an absent source with the key
 * ""), any CStr-able value as its text. */
static int arg_text(expr_call *c, const mvs_value *args, size_t i, const char **p, size_t *n)
{
  if (mvs_is_null(args[i])) {
    *p = "";
    *n = 0;
    return EXPR_OK;
  }
  if (!is_stringable(args[i]))
    return fd_type_error(c, args, i, MVS_V_STR);
  return mvs_to_str(expr_call_arena(c), args[i], p, n) == 0 ? EXPR_OK : expr_nomem(c);
}

/* .NET's Guid.ToByteArray order: the first three groups are little-endian. Byte k of the
 * text form is byte guid_order[k] of the binary form. */
static const int guid_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

/* "00112233-4455-6677-8899-aabbccddeeff", optionally in braces (the two documented
 * patterns), any hex case, surrounding spaces ignored as .NET's Guid.Parse does. */
static int parse_guid(const char *p, size_t n, unsigned char out[16])
{
  size_t pos;
  int k = 0;

  while (n > 0 && p[n - 1] == ' ')
    n--;
  while (n > 0 && p[0] == ' ') {
    p++;
    n--;
  }
  if (n == 38 && p[0] == '{' && p[37] == '}') {
    p++;
    n -= 2;
  }
  if (n != 36)
    return -1;
  for (pos = 0; pos < 36;) {
    int hi, lo;
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
      if (p[pos++] != '-')
        return -1;
      continue;
    }
    hi = mvs_hex_digit(p[pos]);
    lo = mvs_hex_digit(p[pos + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[guid_order[k++]] = (unsigned char)(hi << 4 | lo);
    pos += 2;
  }
  return 0;
}

static bool is_guid_text(mvs_value v)
{
  unsigned char g[16];
  return v.type == MVS_V_STR && parse_guid(v.u.s.p, v.u.s.n, g) == 0;
}

static bool is_numeric(mvs_value v)
{
  int64_t x;
  return as_num(v, &x) == 0;
}

static bool is_empty_value(mvs_value v)
{
  return (v.type == MVS_V_STR || v.type == MVS_V_BIN || v.type == MVS_V_REF) && v.u.s.n == 0;
}

/* NULL, or every value empty (an absent attribute or one that is only ""). */
static bool null_or_empty(mvs_value v)
{
  return mvs_count(v) == 0 || fd_all_values(v, is_empty_value);
}

/* ---- conversion ---- */

/* CBool(exp): NULL stays NULL. */
static int fn_cbool(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  bool b;
  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if (to_truth(args[0], &b) != 0)
    return not_convertible(c, args[0], "a boolean");
  return ret_bool(out, b);
}

/* CNum(str): decimal or &H hex text to a number; NULL stays NULL. */
static int fn_cnum(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t v;
  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if (as_num(args[0], &v) != 0)
    return not_convertible(c, args[0], "a number");
  *out = mvs_num(v);
  return EXPR_OK;
}

/* CRef(str): text to a reference; NULL stays NULL. */
static int fn_cref(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  if (mvs_is_null(args[0]) || args[0].type == MVS_V_REF) {
    *out = args[0];
    return EXPR_OK;
  }
  if (args[0].type != MVS_V_STR)
    return fd_type_error(c, args, 0, MVS_V_STR);
  if (mvs_ref_copy(expr_call_arena(c), args[0].u.s.p, args[0].u.s.n, out) != 0)
    return expr_nomem(c);
  return EXPR_OK;
}

/* CStr(num|ref|bool|str|dt); NULL stays NULL. */
static int fn_cstr(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p;
  size_t len;
  int rc;
  (void)n;
  if (mvs_is_null(args[0]) || args[0].type == MVS_V_STR) {
    *out = args[0];
    return EXPR_OK;
  }
  if ((rc = arg_text(c, args, 0, &p, &len)) != EXPR_OK)
    return rc;
  *out = mvs_str_ref(p, len);
  return EXPR_OK;
}

/* CGuid(str): the 16-byte binary form; NULL stays NULL. */
static int fn_cguid(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  unsigned char g[16];
  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if (args[0].type != MVS_V_STR)
    return fd_type_error(c, args, 0, MVS_V_STR);
  if (parse_guid(args[0].u.s.p, args[0].u.s.n, g) != 0)
    return not_convertible(c, args[0], "a GUID");
  return expr_ret_bin(c, g, sizeof g, out);
}

/* StringFromGuid(bin): lowercase "D" form, as .NET's Guid.ToString(); NULL stays NULL. */
static int fn_stringfromguid(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *g;
  char text[36];
  size_t k, pos = 0;
  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if (args[0].type != MVS_V_BIN)
    return fd_type_error(c, args, 0, MVS_V_BIN);
  if (args[0].u.s.n != 16)
    return expr_fail(c, "a GUID has 16 bytes, got %zu", args[0].u.s.n);
  g = (const unsigned char *)args[0].u.s.p;
  for (k = 0; k < 16; k++) {
    if (k == 4 || k == 6 || k == 8 || k == 10)
      text[pos++] = '-';
    text[pos++] = hex[g[guid_order[k]] >> 4];
    text[pos++] = hex[g[guid_order[k]] & 15];
  }
  return expr_ret_str(c, text, sizeof text, out);
}

/* True when s is SID text as StringFromSid writes it: "S-1-" then decimal numbers joined by
 * "-" (the authority and at most 15 sub-authorities). */
static bool is_sid_text(const char *s, size_t len)
{
  size_t k = 4, parts = 0;
  if (len < 5 || memcmp(s, "S-1-", 4) != 0)
    return false;
  while (k < len) {
    size_t digits = 0;
    while (k < len && s[k] >= '0' && s[k] <= '9' && digits < 15)
      k++, digits++;
    if (!digits || ++parts > 16 || (k < len && (s[k] != '-' || k + 1 == len)))
      return false;
    k += k < len;
  }
  return true;
}

/* StringFromSid(bin): "S-1-<authority>-<sub>..." as .NET's SecurityIdentifier.ToString():
 * revision 1, at most 15 sub-authorities (little-endian), a 48-bit big-endian authority
 * printed in decimal.  The length must be exactly 8 + 4 * count.  NULL stays NULL.  SID text
 * is returned as it is: the ad connector reads objectSid as that text already (connectors/
 * shape.h, SYN_SID), where Connect's AD connector hands the rule the bytes. */
static int fn_stringfromsid(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const unsigned char *b;
  char text[200]; /* "S-1-" + 15 digits + 15 * "-4294967295" */
  unsigned long long auth = 0;
  size_t len, k;
  int used;
  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if (args[0].type == MVS_V_STR && is_sid_text(args[0].u.s.p, args[0].u.s.n))
    return expr_ret_str(c, args[0].u.s.p, args[0].u.s.n, out);
  if (args[0].type != MVS_V_BIN)
    return fd_type_error(c, args, 0, MVS_V_BIN);
  b = (const unsigned char *)args[0].u.s.p;
  len = args[0].u.s.n;
  if (len < 8 || b[0] != 1 || b[1] > 15 || len != 8 + 4u * b[1])
    return expr_fail(c, "not a security identifier (%zu bytes)", len);
  for (k = 2; k < 8; k++)
    auth = auth << 8 | b[k];
  used = snprintf(text, sizeof text, "S-1-%llu", auth);
  for (k = 0; k < b[1]; k++) {
    const unsigned char *s = b + 8 + 4 * k;
    unsigned long sub = (unsigned long)s[0] | (unsigned long)s[1] << 8 |
                        (unsigned long)s[2] << 16 | (unsigned long)s[3] << 24;
    used += snprintf(text + used, sizeof text - (size_t)used, "-%lu", sub);
  }
  return expr_ret_str(c, text, (size_t)used, out);
}

/* Not(source) (Cloud): "Flips the boolean value of the source. If source value is True,
 * returns False. Otherwise, returns True." (APPFN, CSFN).  The result is a boolean, so that
 * Cloud Sync's accountDisabled <- Not([accountEnabled]) writes a boolean attribute.  NULL stays
 * NULL (outside the documented "True"/"False" inputs), so an absent flag never turns into True. */
static int fn_not(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  bool b;
  (void)c;
  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if (to_truth(args[0], &b) != 0)
    b = false; /* not a boolean: "otherwise" */
  return ret_bool(out, !b);
}

/* ---- evaluation: each answers True or False, never NULL ---- */

static int fn_isnull(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  return ret_bool(out, mvs_count(args[0]) == 0);
}

static int fn_isnullorempty(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  return ret_bool(out, null_or_empty(args[0]));
}

static int fn_ispresent(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  return ret_bool(out, !null_or_empty(args[0]));
}

/* Present, but only empty text. */
static int fn_isempty(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  return ret_bool(out, fd_all_values(args[0], is_empty_value));
}

static int fn_isguid(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  return ret_bool(out, fd_all_values(args[0], is_guid_text));
}

static int fn_isnumeric(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  return ret_bool(out, fd_all_values(args[0], is_numeric));
}

static int fn_isstring(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  return ret_bool(out, fd_all_values(args[0], is_stringable));
}

/* IsBitSet(value, flag): every bit of flag is set in value; a NULL value has none set. */
static int fn_isbitset(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t v, flag;
  int rc;
  (void)n;
  if ((rc = expr_arg_num(c, args, 1, &flag)) != EXPR_OK)
    return rc;
  if (mvs_is_null(args[0]))
    return ret_bool(out, false);
  if ((rc = expr_arg_num(c, args, 0, &v)) != EXPR_OK)
    return rc;
  return ret_bool(out, (v & flag) == flag);
}

/* ---- math ---- */

/* BitAnd / BitOr: NULL when either value is NULL. */
static int bitop(expr_call *c, const mvs_value *args, bool and_, mvs_value *out)
{
  int64_t a, b;
  int rc;
  if (mvs_is_null(args[0]) || mvs_is_null(args[1]))
    return ret_null(out);
  if ((rc = expr_arg_num(c, args, 0, &a)) || (rc = expr_arg_num(c, args, 1, &b)))
    return rc;
  *out = mvs_num(and_ ? (a & b) : (a | b));
  return EXPR_OK;
}

static int fn_bitand(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return bitop(c, args, true, out);
}

static int fn_bitor(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return bitop(c, args, false, out);
}

/* RandomNum(start, end): uniform over start..end inclusive, from the env-seeded generator. */
static int fn_randomnum(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t lo, hi;
  uint64_t range, reject, r;
  int rc;
  (void)n;
  if ((rc = expr_arg_num(c, args, 0, &lo)) || (rc = expr_arg_num(c, args, 1, &hi)))
    return rc;
  if (lo > hi)
    return expr_fail(c, "start %lld is greater than end %lld", (long long)lo, (long long)hi);
  range = (uint64_t)hi - (uint64_t)lo + 1; /* 0: the whole int64 range */
  reject = range ? (0 - range) % range : 0; /* 2^64 mod range: draws below it are biased */
  do {
    if ((rc = expr_call_steps(c, 1)) != EXPR_OK)
      return rc;
    r = expr_call_random(c);
  } while (r < reject);
  *out = mvs_num((int64_t)((uint64_t)lo + (range ? r % range : r)));
  return EXPR_OK;
}

/* ---- multi-valued ---- */

/* Does needle occur in hay?  nocase compares code points after simple lowercasing. */
static bool has_substring(const char *hay, size_t hn, const char *needle, size_t nn,
                          bool nocase)
{
  size_t start, step;
  if (!nocase)
    return memmem(hay, hn, needle, nn) != NULL;
  for (start = 0;; start += step) {
    size_t a = start, b = 0, la, lb;
    while (b < nn && a < hn &&
           utf8_tolower(utf8_decode(hay + a, hn - a, &la)) ==
               utf8_tolower(utf8_decode(needle + b, nn - b, &lb))) {
      a += la;
      b += lb;
    }
    if (b == nn)
      return true;
    if (start >= hn)
      return false;
    utf8_decode(hay + start, hn - start, &step);
  }
}

/* Contains(mv, search[, CaseInsensitive|CaseSensitive]): 1-based index of the first value
 * containing search (a reference must equal it), 0 if none; case-sensitive by default. */
static int fn_contains(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *needle, *mode, *p;
  size_t nn, mn, len, i, count = mvs_count(args[0]);
  bool nocase = false, hit;
  int rc;

  if ((rc = expr_arg_str(c, args, 1, &needle, &nn)) != EXPR_OK)
    return rc;
  if (n == 3) {
    if ((rc = expr_arg_str(c, args, 2, &mode, &mn)) != EXPR_OK)
      return rc;
    nocase = mn == 15 && memcmp(mode, "CaseInsensitive", 15) == 0;
    if (!nocase && !(mn == 13 && memcmp(mode, "CaseSensitive", 13) == 0))
      return expr_fail(c, "argument 3 must be CaseInsensitive or CaseSensitive, got \"%.*s\"",
                       fd_clip(mode, mn), mode);
  }
  for (i = 0; i < count; i++) {
    mvs_value v = mvs_item(args[0], i);
    if (!is_stringable(v))
      return expr_fail(c, "value %zu is a %s, not text", i + 1, mvs_type_name(v.type));
    if (mvs_to_str(expr_call_arena(c), v, &p, &len) != 0)
      return expr_nomem(c);
    /* the case-insensitive search compares at every position: charge its worst case */
    if ((rc = expr_call_steps(c, 1 + (uint64_t)len * (nocase && nn ? nn : 1))) != EXPR_OK)
      return rc;
    if (v.type == MVS_V_REF)
      hit = nocase ? utf8_casecmp(p, len, needle, nn) == 0
                   : len == nn && memcmp(p, needle, nn) == 0;
    else
      hit = has_substring(p, len, needle, nn, nocase);
    if (hit) {
      *out = mvs_num((int64_t)i + 1);
      return EXPR_OK;
    }
  }
  *out = mvs_num(0);
  return EXPR_OK;
}

/* Count(mv): number of values; 0 for NULL, 1 for a single value. */
static int fn_count(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  *out = mvs_num((int64_t)mvs_count(args[0]));
  return EXPR_OK;
}

/* Item / ItemOrNull: the 1-based index-th value; out of range (NULL has no values) is an
 * error for Item and NULL for ItemOrNull. */
static int pick_item(expr_call *c, const mvs_value *args, bool strict, mvs_value *out)
{
  size_t count = mvs_count(args[0]);
  int64_t idx;
  int rc;
  if ((rc = expr_arg_num(c, args, 1, &idx)) != EXPR_OK)
    return rc;
  if (idx >= 1 && (uint64_t)idx <= count) {
    *out = mvs_item(args[0], (size_t)idx - 1);
    return EXPR_OK;
  }
  if (!strict)
    return ret_null(out);
  return expr_fail(c, "index %lld is out of range (the value has %zu item%s)", (long long)idx,
                   count, count == 1 ? "" : "s");
}

static int fn_item(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return pick_item(c, args, true, out);
}

static int fn_itemornull(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return pick_item(c, args, false, out);
}

/* RemoveDuplicates(mv): first occurrences in order, compared as "=" does (case-sensitive);
 * a single value or NULL is returned as it is. */
static int fn_removeduplicates(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  size_t count = mvs_count(args[0]), kept = 0, i, j;
  mvs_value *items;
  int rc;
  (void)n;
  if (args[0].type != MVS_V_MV) {
    *out = args[0];
    return EXPR_OK;
  }
  items = mvs_arena_alloc(expr_call_arena(c), count * sizeof *items);
  if (!items)
    return expr_nomem(c);
  for (i = 0; i < count; i++) {
    mvs_value v = mvs_item(args[0], i);
    if ((rc = expr_call_steps(c, 1 + kept)) != EXPR_OK)
      return rc;
    for (j = 0; j < kept && !mvs_equal(items[j], v, false); j++)
      ;
    if (j == kept)
      items[kept++] = v;
  }
  return mvs_mv_make(expr_call_arena(c), items, kept, out) == 0 ? EXPR_OK : expr_nomem(c);
}

/* ---- program flow ---- */

/* Error(str): fail with exactly the given text (an absent message gives an empty one);
 * the rule author's text is what an operator must see. */
static int fn_error(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p = "";
  size_t len = 0;
  int rc;
  (void)n;
  (void)out;
  if (!mvs_is_null(args[0]) && (rc = arg_text(c, args, 0, &p, &len)) != EXPR_OK)
    return rc;
  return expr_fail_text(c, p, len);
}

/* Cloud Switch(source, default, key1, value1, ...): the value whose key equals source
 * (case-sensitive, as text; an absent source or key reads as ""), else default. */
static int fn_switch_cloud(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *src, *key;
  size_t sn, kn, i;
  int rc;
  if (n % 2)
    return expr_fail(c, "keys and values must come in pairs");
  if ((rc = arg_text(c, args, 0, &src, &sn)) != EXPR_OK)
    return rc;
  for (i = 2; i < n; i += 2) {
    if ((rc = arg_text(c, args, i, &key, &kn)) != EXPR_OK)
      return rc;
    if (kn == sn && memcmp(key, src, sn) == 0) {
      *out = args[i + 1];
      return EXPR_OK;
    }
  }
  *out = args[1];
  return EXPR_OK;
}

/* Coalesce(source1, ..., [default]): the first argument that is not NULL ("" counts as a
 * value, as documented); NULL when all are. */
static int fn_coalesce(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  size_t i;
  (void)c;
  for (i = 0; i < n && mvs_is_null(args[i]); i++)
    ;
  *out = i < n ? args[i] : mvs_null();
  return EXPR_OK;
}

/* IgnoreFlowIfNullOrEmpty(expr): IgnoreThisFlow when expr is NULL or only "". */
static int fn_ignoreflow(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  *out = null_or_empty(args[0]) ? mvs_special(MVS_V_IGNORE) : args[0];
  return EXPR_OK;
}

/* SelectUniqueValue(rule1, rule2, ...): the first candidate the target does not hold yet
 * (env->is_unique; without it the first candidate wins).  NULL and "" candidates are
 * skipped; when every candidate is taken the object cannot be provisioned: an error. */
static int fn_selectunique(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const expr_env *env = expr_call_env(c);
  size_t i;
  for (i = 0; i < n; i++) {
    if (null_or_empty(args[i]))
      continue;
    if (args[i].type == MVS_V_MV)
      return expr_fail(c, "rule %zu gave %zu values; a candidate must be one value", i + 1,
                       mvs_count(args[i]));
    int unique = env->is_unique ? env->is_unique(env->u, args[i]) : 1;
    if (unique < 0)
      return expr_fail(c, "cannot tell whether candidate %zu is taken in the target", i + 1);
    if (unique > 0) {
      *out = args[i];
      return EXPR_OK;
    }
  }
  return expr_fail(c, "no unique value: every candidate of the %zu rules is already taken", n);
}

/* SingleAppRoleAssignment([appRoleAssignments]): the one role value.  With several, the
 * documentation promises no particular one; this takes the first. */
static int fn_singlerole(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  *out = mvs_count(args[0]) ? mvs_item(args[0], 0) : mvs_null();
  return EXPR_OK;
}

/* AppRoleAssignmentsComplex([appRoleAssignments]): each distinct role value as the SCIM role
 * object the provisioning service sends, all non-primary as documented:
 * {"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":R,"value":R}. */
static int fn_rolescomplex(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  size_t count = mvs_count(args[0]), kept = 0, i, j, len;
  mvs_arena *a = expr_call_arena(c);
  mvs_value *items;
  const char *p;
  buf b;
  int rc = EXPR_OK;
  (void)n;

  if (count == 0)
    return ret_null(out);
  items = mvs_arena_alloc(a, count * sizeof *items);
  if (!items)
    return expr_nomem(c);
  buf_init(&b, ROLE_TEXT_MAX);
  for (i = 0; i < count; i++) {
    mvs_value role = mvs_item(args[0], i), obj;
    if ((rc = expr_call_steps(c, 1 + kept)) != EXPR_OK)
      goto out;
    if (!is_stringable(role)) {
      rc = expr_fail(c, "role %zu is a %s, not text", i + 1, mvs_type_name(role.type));
      goto out;
    }
    buf_reset(&b);
    if (mvs_to_str(a, role, &p, &len) != 0 ||
        buf_adds(&b, "{\"primary\":false,\"type\":\"WindowsAzureActiveDirectoryRole\","
                     "\"display\":") ||
        json_str_write(&b, p, len) || buf_adds(&b, ",\"value\":") || json_str_write(&b, p, len) ||
        buf_addc(&b, '}') || mvs_str_copy(a, b.p, b.len, &obj) != 0) {
      rc = expr_nomem(c);
      goto out;
    }
    for (j = 0; j < kept && !mvs_equal(items[j], obj, false); j++)
      ;
    if (j == kept)
      items[kept++] = obj;
  }
  if (mvs_mv_make(a, items, kept, out) != 0)
    rc = expr_nomem(c);
out:
  buf_free(&b);
  return rc;
}

/* CBin and Thumbprint: Microsoft's "In from AAD - User NGCKey" rule uses them on
 * searchableDeviceKey, and Microsoft documents neither (MicrosoftDocs/azure-docs issue
 * 101660, closed undocumented).  They are known, so such a rule parses and its flow gives
 * NULL where searchableDeviceKey is absent (every object from AD); computing them would mean
 * guessing, so a present value is an error that says so. */
static int fn_undocumented(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)args;
  (void)n;
  (void)out;
  return expr_fail(c, "not documented by Microsoft, so mvsync does not compute it "
                      "(docs/functions.md)");
}

/* ---- the table ---- */

#define ARG0 EXPR_ARG(0)

const expr_fn_def expr_fn_data[] = {
    /* conversion */
    {"CBool", EXPR_D_BOTH, 1, 1, 0, fn_cbool},
    {"CDate", EXPR_D_BOTH, 1, 1, 0, fd_cdate},
    {"CGuid", EXPR_D_CONNECT, 1, 1, 0, fn_cguid},
    {"CNum", EXPR_D_CONNECT, 1, 1, 0, fn_cnum},
    {"CRef", EXPR_D_CONNECT, 1, 1, 0, fn_cref},
    {"CStr", EXPR_D_BOTH, 1, 1, 0, fn_cstr},
    {"CBin", EXPR_D_CONNECT, 2, 2, 0, fn_undocumented},
    {"Thumbprint", EXPR_D_CONNECT, 1, 1, 0, fn_undocumented},
    {"Not", EXPR_D_CLOUD, 1, 1, 0, fn_not},
    {"StringFromGuid", EXPR_D_CONNECT, 1, 1, 0, fn_stringfromguid},
    /* Cloud Sync's reference spells it both ways */
    {"StringFromSid", EXPR_D_BOTH, 1, 1, 0, fn_stringfromsid},
    {"StringFromSID", EXPR_D_CLOUD, 1, 1, 0, fn_stringfromsid},
    /* date and time (fn_date.c) */
    {"DateAdd", EXPR_D_BOTH, 3, 3, 0, fd_dateadd},
    {"DateDiff", EXPR_D_CLOUD, 3, 3, 0, fd_datediff},
    {"DateFromNum", EXPR_D_BOTH, 1, 1, 0, fd_datefromnum},
    {"FormatDateTime", EXPR_D_CONNECT, 2, 2, 0, fd_formatdatetime_connect},
    {"FormatDateTime", EXPR_D_CLOUD, 3, 4, 0, fd_formatdatetime_cloud},
    {"Now", EXPR_D_BOTH, 0, 0, 0, fd_now},
    {"NumFromDate", EXPR_D_BOTH, 1, 1, 0, fd_numfromdate},
    /* evaluation: about the whole value, so multi-valued arguments are not mapped */
    {"IsBitSet", EXPR_D_CONNECT, 2, 2, 0, fn_isbitset},
    {"IsDate", EXPR_D_CONNECT, 1, 1, ARG0, fd_isdate},
    {"IsEmpty", EXPR_D_CONNECT, 1, 1, ARG0, fn_isempty},
    {"IsGuid", EXPR_D_CONNECT, 1, 1, ARG0, fn_isguid},
    {"IsNull", EXPR_D_BOTH, 1, 1, ARG0, fn_isnull},
    {"IsNullOrEmpty", EXPR_D_BOTH, 1, 1, ARG0, fn_isnullorempty},
    {"IsNumeric", EXPR_D_CONNECT, 1, 1, ARG0, fn_isnumeric},
    {"IsPresent", EXPR_D_BOTH, 1, 1, ARG0, fn_ispresent},
    {"IsString", EXPR_D_BOTH, 1, 1, ARG0, fn_isstring},
    /* math */
    {"BitAnd", EXPR_D_BOTH, 2, 2, 0, fn_bitand},
    {"BitOr", EXPR_D_CONNECT, 2, 2, 0, fn_bitor},
    {"RandomNum", EXPR_D_CONNECT, 2, 2, 0, fn_randomnum},
    /* multi-valued */
    {"Contains", EXPR_D_CONNECT, 2, 3, ARG0, fn_contains},
    {"Count", EXPR_D_BOTH, 1, 1, ARG0, fn_count},
    {"Item", EXPR_D_BOTH, 2, 2, ARG0, fn_item},
    {"ItemOrNull", EXPR_D_CONNECT, 2, 2, ARG0, fn_itemornull},
    {"RemoveDuplicates", EXPR_D_BOTH, 1, 1, ARG0, fn_removeduplicates},
    /* program flow */
    {"Error", EXPR_D_BOTH, 1, 1, 0, fn_error},
    {"Switch", EXPR_D_CLOUD, 4, -1, EXPR_ARGS_ALL & ~ARG0, fn_switch_cloud},
    {"Coalesce", EXPR_D_CLOUD, 1, -1, EXPR_ARGS_ALL, fn_coalesce},
    {"IgnoreFlowIfNullOrEmpty", EXPR_D_CLOUD, 1, 1, ARG0, fn_ignoreflow},
    {"SelectUniqueValue", EXPR_D_CLOUD, 2, -1, EXPR_ARGS_ALL, fn_selectunique},
    {"AppRoleAssignmentsComplex", EXPR_D_CLOUD, 1, 1, ARG0, fn_rolescomplex},
    {"SingleAppRoleAssignment", EXPR_D_CLOUD, 1, 1, ARG0, fn_singlerole},
    {NULL, 0, 0, 0, 0, NULL}};
