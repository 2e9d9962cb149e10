/* fn_text — the string, DN and encoding functions of both expression dialects (expr_fn_text[]).
 * Memory: results are copied into the evaluation arena; scratch buffers are freed on return. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "rules/expr_fn.h"
#include "schema/buf.h"
#include "schema/utf8.h"
#include "schema/value.h"

/* Largest string one text function builds; past it the result is "too large". */
#define TEXT_MAX ((size_t)16 << 20)

/* Regex budgets for Cloud's Replace and PCase, so a hostile pattern fails quickly instead of
 * running for minutes: PCRE2 match() calls per start position (PCRE2 restarts the count at
 * each one, so a search may do subject length x limit work; see rx_match), backtracking
 * depth, heap KiB. */
#define RX_MATCH_LIMIT 100000
#define RX_DEPTH_LIMIT 10000
#define RX_HEAP_LIMIT_KIB 16384
/* PCRE2 match() calls one evaluation step pays for. */
#define RX_WORK_PER_STEP 10

/* RandomString's documented maximum length. */
#define RANDOM_STRING_MAX 256

/* ---- shared helpers ---- */

/* True when argument i was given and is not NULL (Cloud's omitted arguments arrive as NULL). */
static bool given(const mvs_value *args, size_t n, size_t i)
{
  return i < n && !mvs_is_null(args[i]);
}

static int ret_null(mvs_value *out)
{
  *out = mvs_null();
  return EXPR_OK;
}

static int ret_buf(expr_call *c, const buf *b, mvs_value *out)
{
  return expr_ret_str(c, b->p ? b->p : "", b->len, out);
}

/* Turn a buf_* result into the function's result: the text, or "too large". */
static int finish(expr_call *c, buf *b, int brc, mvs_value *out)
{
  int rc = brc != BUF_OK ? expr_nomem(c) : ret_buf(c, b, out);
  buf_free(b);
  return rc;
}

static int add_cp(buf *b, uint32_t cp)
{
  char t[4];
  return buf_add(b, t, utf8_encode(cp, t));
}

/* Counts clamp instead of wrapping: a count past the string just means "all of it". */
static size_t clamp_count(int64_t k)
{
  return k <= 0 ? 0 : (uint64_t)k > SIZE_MAX ? SIZE_MAX : (size_t)k;
}

/* True when the code point cp occurs in the UTF-8 string set. */
static bool cp_in(const char *set, size_t sn, uint32_t cp)
{
  size_t i = 0, len;
  while (i < sn) {
    if (utf8_decode(set + i, sn - i, &len) == cp)
      return true;
    i += len;
  }
  return false;
}

/* An enum argument: one of names (any letter case), or with `numeric` the index itself (VB's
 * vbBinaryCompare = 0, vbTextCompare = 1).  `what` lists the names for the error message. */
static int enum_arg(expr_call *c, const mvs_value *args, size_t i, const char *const *names,
                    bool numeric, const char *what, int *out)
{
  const char *p;
  size_t n;
  int rc, k;

  if (numeric && args[i].type == MVS_V_NUM) {
    for (k = 0; names[k]; k++)
      if (args[i].u.num == k) {
        *out = k;
        return EXPR_OK;
      }
  } else {
    if ((rc = expr_arg_str(c, args, i, &p, &n)) != EXPR_OK)
      return rc;
    for (k = 0; names[k]; k++)
      if (strlen(names[k]) == n && memcmp(names[k], p, n) == 0) {
        *out = k;
        return EXPR_OK;
      }
  }
  return expr_fail(c, "argument %zu must be %s", i + 1, what);
}

/* The common shape "NULL gives NULL, otherwise rewrite argument 0".  fn returns a buf_* code,
 * or TEXT_BAD when the input is malformed, reported as `bad` (NULL for rewrites that cannot
 * fail that way). */
#define TEXT_BAD (-1)
typedef int (*text_xform)(buf *b, const char *p, size_t n);

static int xform_arg0(expr_call *c, const mvs_value *args, text_xform fn, const char *bad,
                      mvs_value *out)
{
  const char *p;
  size_t n;
  buf b;
  int rc;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &n)) != EXPR_OK ||
      (rc = expr_call_steps(c, n)) != EXPR_OK)
    return rc;
  buf_init(&b, TEXT_MAX);
  rc = fn(&b, p, n);
  if (rc == TEXT_BAD) {
    buf_free(&b);
    return expr_fail(c, "%s", bad ? bad : "malformed input");
  }
  return finish(c, &b, rc, out);
}

/* ---- case ---- */

/* One code point in upper or lower case; `turkic` adds the tr/az dotted and dotless i. */
static uint32_t case_cp(uint32_t cp, bool upper, bool turkic)
{
  if (turkic && upper && cp == 'i')
    return 0x130;
  if (turkic && !upper && cp == 'I')
    return 0x131;
  return upper ? utf8_toupper(cp) : utf8_tolower(cp);
}

/* Title case differs from upper case only for the Latin digraphs DŽ, LJ, NJ and DZ. */
static uint32_t title_cp(uint32_t cp)
{
  if (cp >= 0x1C4 && cp <= 0x1CC)
    return 0x1C5 + 3 * ((cp - 0x1C4) / 3);
  if (cp >= 0x1F1 && cp <= 0x1F3)
    return 0x1F2;
  return utf8_toupper(cp);
}

static int case_map(buf *b, const char *p, size_t n, bool upper, bool turkic)
{
  size_t i = 0, len;
  int rc = BUF_OK;
  while (i < n && rc == BUF_OK) {
    rc = add_cp(b, case_cp(utf8_decode(p + i, n - i, &len), upper, turkic));
    i += len;
  }
  return rc;
}

static int lower_invariant(buf *b, const char *p, size_t n)
{
  return case_map(b, p, n, false, false);
}

static int upper_invariant(buf *b, const char *p, size_t n)
{
  return case_map(b, p, n, true, false);
}

static int fn_lcase(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, lower_invariant, NULL, out);
}

static int fn_ucase(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, upper_invariant, NULL, out);
}

/* Cloud's ToLower/ToUpper(source[, culture]): the invariant culture unless told otherwise;
 * the only simple case mapping that depends on culture is Turkish/Azeri i. */
static int to_case(expr_call *c, const mvs_value *args, size_t n, bool upper, mvs_value *out)
{
  const char *p, *cul;
  size_t len, cn;
  bool turkic = false;
  buf b;
  int rc;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (rc = expr_call_steps(c, len)) != EXPR_OK)
    return rc;
  if (given(args, n, 1)) {
    if ((rc = expr_arg_str(c, args, 1, &cul, &cn)) != EXPR_OK)
      return rc;
    turkic = cn >= 2 && (strncasecmp(cul, "tr", 2) == 0 || strncasecmp(cul, "az", 2) == 0) &&
             (cn == 2 || cul[2] == '-' || cul[2] == '_');
  }
  buf_init(&b, TEXT_MAX);
  return finish(c, &b, case_map(&b, p, len, upper, turkic), out);
}

static int fn_tolower(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  return to_case(c, args, n, false, out);
}

static int fn_toupper(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  return to_case(c, args, n, true, out);
}

/* ---- PCase ---- */

/* Words are runs between separator code points (white space when seps is NULL); each word gets
 * its first letter in title case and the rest in lower case. */
static int pcase_words(buf *b, const char *p, size_t n, const char *seps, size_t sn)
{
  size_t i = 0, len;
  bool start = true;
  int rc = BUF_OK;

  while (i < n && rc == BUF_OK) {
    uint32_t cp = utf8_decode(p + i, n - i, &len);
    if (seps ? cp_in(seps, sn, cp) : utf8_isspace(cp) != 0) {
      rc = add_cp(b, cp);
      start = true;
    } else {
      rc = add_cp(b, start ? title_cp(cp) : utf8_tolower(cp));
      start = false;
    }
    i += len;
  }
  return rc;
}

static int pcase_spaces(buf *b, const char *p, size_t n)
{
  return pcase_words(b, p, n, NULL, 0);
}

static int fn_pcase_connect(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, pcase_spaces, NULL, out);
}

/* ---- regular expressions (PCRE2) ---- */

typedef struct rx {
  pcre2_code *code;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  uint32_t ncap;
} rx;

static void rx_free(rx *r)
{
  pcre2_match_data_free(r->md);
  pcre2_match_context_free(r->mctx);
  pcre2_code_free(r->code);
}

/* Compile with Unicode semantics close to .NET's defaults: \d, \w and \s are Unicode-aware,
 * invalid UTF-8 in subjects never matches instead of failing. */
static int rx_compile(expr_call *c, rx *r, const char *pat, size_t n)
{
  int err;
  PCRE2_SIZE off;
  PCRE2_UCHAR msg[128];

  memset(r, 0, sizeof *r);
  r->code = pcre2_compile((PCRE2_SPTR)pat, n, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                          &err, &off, NULL);
  if (!r->code) {
    pcre2_get_error_message(err, msg, sizeof msg);
    return expr_fail(c, "regexPattern is invalid at offset %zu: %s", (size_t)off, (char *)msg);
  }
  r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
  r->mctx = pcre2_match_context_create(NULL);
  if (!r->md || !r->mctx) {
    rx_free(r);
    return expr_nomem(c);
  }
  pcre2_set_depth_limit(r->mctx, RX_DEPTH_LIMIT);
  pcre2_set_heap_limit(r->mctx, RX_HEAP_LIMIT_KIB);
  pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &r->ncap);
  return EXPR_OK;
}

/* Bytes [*s, *e) of the whole last match (always set after a hit). */
static void rx_span(const rx *r, size_t *s, size_t *e)
{
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
  *s = ov[0];
  *e = ov[1];
}

/* Search s from byte `from`; *hit says whether it matched (the ovector then holds the spans).
 * The match limit starts small and grows only when a pattern needs it; each try is charged
 * (start positions tried) x limit / RX_WORK_PER_STEP steps, and never allowed more than the
 * steps left, so the whole evaluation's regex work is bounded by its step budget. */
static int rx_match(expr_call *c, rx *r, const char *s, size_t n, size_t from, bool *hit)
{
  static const uint64_t limits[] = {RX_WORK_PER_STEP, RX_MATCH_LIMIT / 100, RX_MATCH_LIMIT};
  uint64_t starts = (uint64_t)(n - from) + 1, limit, tried;
  size_t t, ms, me;
  int m = PCRE2_ERROR_MATCHLIMIT, rc;

  for (t = 0; t < sizeof limits / sizeof *limits && m == PCRE2_ERROR_MATCHLIMIT; t++) {
    limit = expr_call_steps_left(c) / starts;
    limit = limit >= limits[t] / RX_WORK_PER_STEP ? limits[t] : limit * RX_WORK_PER_STEP;
    if (limit == 0)
      return expr_call_steps(c, UINT64_MAX);   /* fails: over budget */
    pcre2_set_match_limit(r->mctx, (uint32_t)limit);
    m = pcre2_match(r->code, (PCRE2_SPTR)s, n, from, 0, r->md, r->mctx);
    tried = starts;
    if (m > 0) {
      rx_span(r, &ms, &me);
      tried = ms > from ? (uint64_t)(ms - from) + 1 : 1;
    }
    if ((rc = expr_call_steps(c, (tried * limit + RX_WORK_PER_STEP - 1) / RX_WORK_PER_STEP)) !=
        EXPR_OK)
      return rc;
    if (m == PCRE2_ERROR_MATCHLIMIT && limit < limits[t])
      return expr_call_steps(c, UINT64_MAX);   /* the budget, not the pattern, ran out */
  }
  *hit = m > 0;
  if (m >= 0 || m == PCRE2_ERROR_NOMATCH)
    return EXPR_OK;
  if (m == PCRE2_ERROR_NOMEMORY)
    return expr_nomem(c);
  return expr_fail(c, "regexPattern needs too much backtracking on this value (PCRE2 error %d)",
                   m);
}

/* Start and end of capture group g in the last match; false when it took no part. */
static bool rx_group(const rx *r, uint32_t g, size_t *s, size_t *e)
{
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
  if (g > r->ncap || ov[2 * g] == PCRE2_UNSET)
    return false;
  *s = ov[2 * g];
  *e = ov[2 * g + 1];
  return true;
}

static int add_group(buf *b, const rx *r, const char *s, uint32_t g)
{
  size_t gs, ge;
  return rx_group(r, g, &gs, &ge) ? buf_add(b, s + gs, ge - gs) : BUF_OK;
}

/* Group number for a name or a decimal number; -1 when the pattern has no such group. */
static int64_t rx_group_number(const rx *r, const char *name, size_t n)
{
  char tmp[256];
  size_t i;
  int64_t num = 0;
  int k;

  if (n == 0 || n >= sizeof tmp)
    return -1;
  for (i = 0; i < n && name[i] >= '0' && name[i] <= '9'; i++)
    num = num > (int64_t)r->ncap ? num : num * 10 + (name[i] - '0');
  if (i == n)
    return num <= (int64_t)r->ncap ? num : -1;
  memcpy(tmp, name, n);
  tmp[n] = '\0';
  k = pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)tmp);
  return k < 0 ? -1 : k;
}

/* Expand a .NET substitution string for the last match: $$, $&, $`, $', $+, $_, $n and
 * ${name|n}.  A reference to a group the pattern lacks stays literal text, as in .NET. */
static int rx_expand(buf *b, const rx *r, const char *s, size_t n, const char *rep, size_t rn)
{
  size_t i = 0, ms, me, j;
  int rc = BUF_OK;

  rx_span(r, &ms, &me);
  while (i < rn && rc == BUF_OK) {
    int64_t g = -2; /* a group to insert; -1: not a reference, so the '$' is literal */
    size_t next = i + 2;
    char ch = i + 1 < rn ? rep[i + 1] : '\0';
    const char *close;

    if (rep[i] != '$' || i + 1 >= rn) {
      rc = buf_addc(b, rep[i++]);
      continue;
    }
    switch (ch) {
    case '$':
      rc = buf_addc(b, '$');
      break;
    case '&':
      g = 0;
      break;
    case '`':
      rc = buf_add(b, s, ms);
      break;
    case '\'':
      rc = buf_add(b, s + me, n - me);
      break;
    case '+':
      g = r->ncap;
      break;
    case '_':
      rc = buf_add(b, s, n);
      break;
    case '{':
      close = memchr(rep + i + 2, '}', rn - i - 2);
      g = close ? rx_group_number(r, rep + i + 2, (size_t)(close - rep) - i - 2) : -1;
      next = close ? (size_t)(close - rep) + 1 : next;
      break;
    default:
      for (j = i + 1; j < rn && rep[j] >= '0' && rep[j] <= '9'; j++)
        ;
      g = j > i + 1 ? rx_group_number(r, rep + i + 1, j - i - 1) : -1;
      next = j;
      break;
    }
    if (g == -1) {
      rc = buf_addc(b, '$');
      i++;
      continue;
    }
    if (g >= 0)
      rc = add_group(b, r, s, (uint32_t)g);
    i = next;
  }
  return rc;
}

/* Replace every match of r in s, scanning as .NET's Regex.Replace does (after an empty match
 * the scan moves on one character).  With group < 0 the whole match becomes the expansion of
 * rep; otherwise only that group's text becomes rep, taken literally. */
static int rx_replace(expr_call *c, rx *r, const char *s, size_t n, int64_t group,
                      const char *rep, size_t rn, buf *b)
{
  size_t pos = 0, copied = 0, ms, me, gs, ge, len;
  bool hit;
  int rc = EXPR_OK, brc = BUF_OK;

  while (pos <= n) {
    if ((rc = rx_match(c, r, s, n, pos, &hit)) != EXPR_OK || !hit)
      break;
    rx_span(r, &ms, &me);
    if (group < 0) {
      brc = buf_add(b, s + copied, ms - copied);
      if (!brc)
        brc = rx_expand(b, r, s, n, rep, rn);
      copied = me;
    } else if (rx_group(r, (uint32_t)group, &gs, &ge) && gs >= copied) {
      brc = buf_add(b, s + copied, gs - copied);
      if (!brc)
        brc = buf_add(b, rep, rn);
      copied = ge;
    }
    if (brc)
      return expr_nomem(c);
    if (me > ms) {
      pos = me;
      continue;
    }
    if (me >= n)
      break;
    utf8_decode(s + me, n - me, &len);
    pos = me + len;
  }
  if (rc == EXPR_OK && buf_add(b, s + copied, n - copied))
    rc = expr_nomem(c);
  return rc;
}

/* Cloud PCase without separators is .NET TextInfo.ToTitleCase: a word starts at a letter and
 * runs through letters, apostrophes and anything that is not a separator (marks, digits);
 * separators are the Z, Cc, Cf, P and S categories.  Microsoft's documented output
 * ("PABLO GONSALVES" -> "Pablo Gonsalves") shows all-caps words are lowered too. */
static const char title_word_re[] = "\\p{L}(?:'|[^\\p{Z}\\p{Cc}\\p{Cf}\\p{P}\\p{S}])*";

static int title_case(expr_call *c, const char *p, size_t n, buf *b)
{
  rx r;
  size_t pos = 0, ws, we, i, len;
  bool hit;
  int rc, brc = BUF_OK;

  if ((rc = rx_compile(c, &r, title_word_re, sizeof title_word_re - 1)) != EXPR_OK)
    return rc;
  while (brc == BUF_OK) {
    if ((rc = rx_match(c, &r, p, n, pos, &hit)) != EXPR_OK || !hit)
      break;
    rx_span(&r, &ws, &we);
    brc = buf_add(b, p + pos, ws - pos);
    for (i = ws; i < we && brc == BUF_OK; i += len) {
      uint32_t cp = utf8_decode(p + i, we - i, &len);
      brc = add_cp(b, i == ws ? title_cp(cp) : utf8_tolower(cp));
    }
    pos = we;
  }
  if (rc == EXPR_OK && (brc || buf_add(b, p + pos, n - pos)))
    rc = expr_nomem(c);
  rx_free(&r);
  return rc;
}

static int fn_pcase_cloud(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p, *seps;
  size_t len, sn;
  buf b;
  int rc;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (rc = expr_call_steps(c, len)) != EXPR_OK)
    return rc;
  buf_init(&b, TEXT_MAX);
  if (!given(args, n, 1)) {
    if ((rc = title_case(c, p, len, &b)) == EXPR_OK)
      rc = ret_buf(c, &b, out);
    buf_free(&b);
    return rc;
  }
  if ((rc = expr_arg_str(c, args, 1, &seps, &sn)) != EXPR_OK) {
    buf_free(&b);
    return rc;
  }
  return finish(c, &b, pcase_words(&b, p, len, seps, sn), out);
}

/* ---- substrings ---- */

/* Return `count` code points of p starting at code point `from`. */
static int ret_slice(expr_call *c, const char *p, size_t n, size_t from, size_t count,
                     mvs_value *out)
{
  size_t a = utf8_offset(p, n, from);
  size_t e = a + utf8_offset(p + a, n - a, count);
  return expr_ret_str(c, p + a, e - a, out);
}

/* Left and Right: Microsoft documents "" for a NULL string and the whole string for a
 * negative count. */
static int take(expr_call *c, const mvs_value *args, bool right, mvs_value *out)
{
  const char *p;
  size_t n, chars, k;
  int64_t num;
  int rc;

  if (mvs_is_null(args[0]))
    return expr_ret_str(c, "", 0, out);
  if ((rc = expr_arg_str(c, args, 0, &p, &n)) != EXPR_OK ||
      (rc = expr_arg_num(c, args, 1, &num)) != EXPR_OK)
    return rc;
  if (num < 0)
    return expr_ret_str(c, p, n, out);
  k = clamp_count(num);
  chars = utf8_length(p, n);
  if (k >= chars)
    return expr_ret_str(c, p, n, out);
  return ret_slice(c, p, n, right ? chars - k : 0, k, out);
}

static int fn_left(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return take(c, args, false, out);
}

static int fn_right(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return take(c, args, true, out);
}

/* Mid(string, start[, count]): the rules are Microsoft's, checked in their documented order;
 * without a count (as in Microsoft's own Item example) it returns the rest of the string. */
static int fn_mid(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p;
  size_t len, chars;
  int64_t start, count = INT64_MAX;
  int rc;

  if (mvs_is_null(args[0]))
    return expr_ret_str(c, "", 0, out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (rc = expr_arg_num(c, args, 1, &start)) != EXPR_OK ||
      (n > 2 && (rc = expr_arg_num(c, args, 2, &count)) != EXPR_OK))
    return rc;
  if (count == 0)
    return expr_ret_str(c, "", 0, out);
  chars = utf8_length(p, len);
  if (count < 0 || start <= 0 || (uint64_t)start > chars)
    return expr_ret_str(c, p, len, out);
  return ret_slice(c, p, len, (size_t)start - 1, clamp_count(count), out);
}

static int fn_len(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p;
  size_t len;
  int rc;

  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK)
    return rc;
  *out = mvs_num((int64_t)utf8_length(p, len));
  return EXPR_OK;
}

/* ---- white space ---- */

enum { TRIM_LEFT = 1, TRIM_RIGHT = 2 };

/* Bytes [*s, *e) of p without leading/trailing white space (.NET Char.IsWhiteSpace). */
static void ws_bounds(const char *p, size_t n, size_t *s, size_t *e)
{
  size_t i = 0, len;
  *s = n;
  *e = n;
  while (i < n) {
    if (!utf8_isspace(utf8_decode(p + i, n - i, &len))) {
      if (*s == n)
        *s = i;
      *e = i + len;
    }
    i += len;
  }
}

static int trim(expr_call *c, const mvs_value *args, int sides, mvs_value *out)
{
  const char *p;
  size_t n, first, last_end;
  int rc;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &n)) != EXPR_OK ||
      (rc = expr_call_steps(c, n)) != EXPR_OK)
    return rc;
  ws_bounds(p, n, &first, &last_end);
  if (!(sides & TRIM_LEFT))
    first = 0;
  if (!(sides & TRIM_RIGHT))
    last_end = n;
  return expr_ret_str(c, p + first, last_end > first ? last_end - first : 0, out);
}

static int fn_ltrim(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return trim(c, args, TRIM_LEFT, out);
}

static int fn_rtrim(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return trim(c, args, TRIM_RIGHT, out);
}

static int fn_trim(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return trim(c, args, TRIM_LEFT | TRIM_RIGHT, out);
}

/* StripSpaces removes U+0020 only, as documented ("all space (" ") characters"). */
static int strip_spaces(buf *b, const char *p, size_t n)
{
  size_t i, from = 0;
  int rc = BUF_OK;
  for (i = 0; i < n && rc == BUF_OK; i++)
    if (p[i] == ' ') {
      rc = buf_add(b, p + from, i - from);
      from = i + 1;
    }
  return rc ? rc : buf_add(b, p + from, n - from);
}

static int fn_stripspaces(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, strip_spaces, NULL, out);
}

/* PadLeft/PadRight(string, length, padCharacter): documented "" for a NULL string; the pad
 * character must be one character and not NULL. */
static int pad(expr_call *c, const mvs_value *args, bool left, mvs_value *out)
{
  const char *p, *ch;
  size_t n, cn, chars, need, k;
  int64_t len;
  buf b;
  int rc, brc = BUF_OK;

  if (mvs_is_null(args[0]))
    return expr_ret_str(c, "", 0, out);
  if (mvs_is_null(args[2]))
    return expr_fail(c, "padCharacter cannot be NULL");
  if ((rc = expr_arg_str(c, args, 0, &p, &n)) != EXPR_OK ||
      (rc = expr_arg_num(c, args, 1, &len)) != EXPR_OK ||
      (rc = expr_arg_str(c, args, 2, &ch, &cn)) != EXPR_OK)
    return rc;
  if (utf8_length(ch, cn) != 1)
    return expr_fail(c, "padCharacter must be exactly one character");
  chars = utf8_length(p, n);
  if (len <= 0 || (uint64_t)len <= chars)
    return expr_ret_str(c, p, n, out);
  if ((uint64_t)len - chars > TEXT_MAX / cn)
    return expr_nomem(c);
  need = (size_t)len - chars;
  if ((rc = expr_call_steps(c, need)) != EXPR_OK)
    return rc;
  buf_init(&b, TEXT_MAX);
  if (!left)
    brc = buf_add(&b, p, n);
  for (k = 0; k < need && brc == BUF_OK; k++)
    brc = buf_add(&b, ch, cn);
  if (left && brc == BUF_OK)
    brc = buf_add(&b, p, n);
  return finish(c, &b, brc, out);
}

static int fn_padleft(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return pad(c, args, true, out);
}

static int fn_padright(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return pad(c, args, false, out);
}

/* ---- InStr / InStrRev ---- */

static const char *const compare_names[] = {"vbBinaryCompare", "vbTextCompare", NULL};

/* The arguments both searches share.  With vbTextCompare both strings are lower-cased copies;
 * simple case mapping keeps every code point in place, so positions carry over. */
typedef struct search {
  const char *hay, *needle;
  size_t hn, nn, chars;
  int64_t start; /* 0: not given */
  buf lh, ln;
} search;

/* Returns EXPR_OK with *null set when the string is NULL (the result is then NULL). */
static int search_args(expr_call *c, const mvs_value *args, size_t n, search *s, bool *null)
{
  int rc, mode = 0;

  memset(s, 0, sizeof *s);
  buf_init(&s->lh, TEXT_MAX);
  buf_init(&s->ln, TEXT_MAX);
  *null = mvs_is_null(args[0]);
  if (*null)
    return EXPR_OK;
  if ((rc = expr_arg_str(c, args, 0, &s->hay, &s->hn)) != EXPR_OK ||
      (rc = expr_arg_str(c, args, 1, &s->needle, &s->nn)) != EXPR_OK ||
      (given(args, n, 2) && (rc = expr_arg_num(c, args, 2, &s->start)) != EXPR_OK) ||
      (given(args, n, 3) &&
       (rc = enum_arg(c, args, 3, compare_names, true, "vbBinaryCompare or vbTextCompare",
                      &mode)) != EXPR_OK) ||
      (rc = expr_call_steps(c, s->hn + s->nn)) != EXPR_OK)
    return rc;
  s->chars = utf8_length(s->hay, s->hn);
  if (mode == 1) {
    if (case_map(&s->lh, s->hay, s->hn, false, false) ||
        case_map(&s->ln, s->needle, s->nn, false, false))
      return expr_nomem(c);
    s->hay = s->lh.p ? s->lh.p : "";
    s->hn = s->lh.len;
    s->needle = s->ln.p ? s->ln.p : "";
    s->nn = s->ln.len;
  }
  return EXPR_OK;
}

static void search_free(search *s)
{
  buf_free(&s->lh);
  buf_free(&s->ln);
}

/* InStr follows VB: 0 for an empty string or a start past the end, `start` for an empty
 * match.  A start below 1 (an error in VB) searches from the beginning. */
static int fn_instr(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  search s;
  bool null;
  const char *hit;
  size_t off;
  int64_t pos = 0;
  int rc = search_args(c, args, n, &s, &null);

  if (rc != EXPR_OK || null)
    goto out;
  if (s.start < 1)
    s.start = 1;
  if (s.chars == 0 || (uint64_t)s.start - 1 > s.chars) {
    pos = 0;
  } else if (s.nn == 0) {
    pos = s.start;
  } else {
    off = utf8_offset(s.hay, s.hn, (size_t)s.start - 1);
    hit = memmem(s.hay + off, s.hn - off, s.needle, s.nn);
    pos = hit ? (int64_t)utf8_length(s.hay, (size_t)(hit - s.hay)) + 1 : 0;
  }
out:
  search_free(&s);
  if (rc == EXPR_OK)
    *out = null ? mvs_null() : mvs_num(pos);
  return rc;
}

/* InStrRev: the last match lying wholly within the first `start` characters (VB); a start
 * below 1 (VB's -1 default) means the whole string. */
static int fn_instrrev(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  search s;
  bool null;
  const char *hit, *last = NULL;
  size_t lim, from = 0;
  int64_t pos = 0;
  int rc = search_args(c, args, n, &s, &null);

  if (rc != EXPR_OK || null)
    goto out;
  if (s.start < 1)
    s.start = (int64_t)s.chars;
  if (s.chars == 0 || (uint64_t)s.start > s.chars) {
    pos = 0;
  } else if (s.nn == 0) {
    pos = s.start;
  } else {
    lim = utf8_offset(s.hay, s.hn, (size_t)s.start);
    while (from < lim && (hit = memmem(s.hay + from, lim - from, s.needle, s.nn)) != NULL) {
      last = hit;
      from = (size_t)(hit - s.hay) + 1;
    }
    pos = last ? (int64_t)utf8_length(s.hay, (size_t)(last - s.hay)) + 1 : 0;
  }
out:
  search_free(&s);
  if (rc == EXPR_OK)
    *out = null ? mvs_null() : mvs_num(pos);
  return rc;
}

/* ---- Replace and friends ---- */

/* Every occurrence of old (non-empty) in p becomes rep, left to right. */
static int replace_all(buf *b, const char *p, size_t n, const char *old, size_t on,
                       const char *rep, size_t rn)
{
  const char *end = p + n, *hit;
  int rc = BUF_OK;

  while (rc == BUF_OK && (hit = memmem(p, (size_t)(end - p), old, on)) != NULL) {
    rc = buf_add(b, p, (size_t)(hit - p));
    if (rc == BUF_OK)
      rc = buf_add(b, rep, rn);
    p = hit + on;
  }
  return rc ? rc : buf_add(b, p, (size_t)(end - p));
}

/* Connect's Replace reads the monikers \n, \r and \t in its search and replacement strings. */
static int unescape_monikers(buf *b, const char *p, size_t n)
{
  size_t i;
  int rc = BUF_OK;
  for (i = 0; i < n && rc == BUF_OK; i++) {
    char e = p[i] == '\\' && i + 1 < n ? p[i + 1] : '\0';
    if (e == 'n' || e == 'r' || e == 't') {
      rc = buf_addc(b, e == 'n' ? '\n' : e == 'r' ? '\r' : '\t');
      i++;
    } else {
      rc = buf_addc(b, p[i]);
    }
  }
  return rc;
}

/* Connect Replace(string, old, new): NULL string gives NULL, an empty old gives the string
 * back. */
static int fn_replace_connect(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p, *op, *np;
  size_t len, on, nn;
  buf old, rep, b;
  int rc, brc;

  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (rc = expr_arg_str(c, args, 1, &op, &on)) != EXPR_OK ||
      (rc = expr_arg_str(c, args, 2, &np, &nn)) != EXPR_OK ||
      (rc = expr_call_steps(c, len)) != EXPR_OK)
    return rc;
  buf_init(&old, TEXT_MAX);
  buf_init(&rep, TEXT_MAX);
  buf_init(&b, TEXT_MAX);
  brc = unescape_monikers(&old, op, on);
  if (brc == BUF_OK)
    brc = unescape_monikers(&rep, np, nn);
  if (brc == BUF_OK)
    brc = old.len ? replace_all(&b, p, len, old.p, old.len, rep.p ? rep.p : "", rep.len)
                  : buf_add(&b, p, len);
  buf_free(&old);
  buf_free(&rep);
  return finish(c, &b, brc, out);
}

/* An optional string argument of Cloud's Replace: *has is false when omitted or NULL. */
static int opt_str(expr_call *c, const mvs_value *args, size_t n, size_t i, const char **p,
                   size_t *len, bool *has)
{
  *has = given(args, n, i);
  *p = "";
  *len = 0;
  return *has ? expr_arg_str(c, args, i, p, len) : EXPR_OK;
}

enum { R_SRC, R_OLD, R_PAT, R_GROUP, R_REPL, R_ATTR, R_TMPL, R_NARGS };

/* Cloud Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
 * replacementAttributeName, template).  The mode follows from which arguments are given,
 * checked in the documented order:
 *   oldValue + template            -> template with every oldValue replaced by source
 *   oldValue + replacementValue    -> source with every oldValue replaced
 *   pattern + group + value        -> that group of every match replaced by value (literal)
 *   pattern + group (+ attribute)  -> source if it has a value, else the group's text in the
 *                                     first match of replacementAttributeName
 *   pattern + value                -> every match replaced by value with $ substitutions */
static int fn_replace_cloud(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *s[R_NARGS];
  size_t l[R_NARGS];
  bool has[R_NARGS], hit, extract;
  int64_t group;
  size_t i, gs, ge;
  rx r;
  buf b;
  int rc = EXPR_OK;

  for (i = 0; i < R_NARGS; i++)
    if ((rc = opt_str(c, args, n, i, &s[i], &l[i], &has[i])) != EXPR_OK)
      return rc;
  if ((rc = expr_call_steps(c, l[R_SRC] + l[R_TMPL] + l[R_ATTR])) != EXPR_OK)
    return rc;
  if (has[R_OLD]) {
    const char *in = s[R_TMPL], *rep = s[R_SRC];
    size_t inl = l[R_TMPL], repl = l[R_SRC];
    if (!has[R_TMPL] && !has[R_REPL])
      return expr_fail(c, "oldValue needs a replacementValue or a template");
    if (!has[R_SRC])
      return ret_null(out);
    if (!has[R_TMPL]) {
      in = s[R_SRC], inl = l[R_SRC];
      rep = s[R_REPL], repl = l[R_REPL];
    }
    if (l[R_OLD] == 0)
      return expr_ret_str(c, in, inl, out);
    buf_init(&b, TEXT_MAX);
    return finish(c, &b, replace_all(&b, in, inl, s[R_OLD], l[R_OLD], rep, repl), out);
  }
  if (!has[R_PAT])
    return expr_fail(c, "needs an oldValue or a regexPattern");
  if (!has[R_GROUP] && !has[R_REPL])
    return expr_fail(c, "regexPattern needs a replacementValue or a regexGroupName");
  extract = has[R_GROUP] && !has[R_REPL];
  /* Extracting: a source with a value wins, and without a replacementAttributeName value
   * there is nothing to extract from.  Replacing: no source, nothing to replace in. */
  if (extract ? (has[R_SRC] && l[R_SRC] > 0) || !has[R_ATTR] : !has[R_SRC])
    return has[R_SRC] ? expr_ret_str(c, s[R_SRC], l[R_SRC], out) : ret_null(out);
  if ((rc = rx_compile(c, &r, s[R_PAT], l[R_PAT])) != EXPR_OK)
    return rc;
  group = has[R_GROUP] ? rx_group_number(&r, s[R_GROUP], l[R_GROUP]) : -1;
  buf_init(&b, TEXT_MAX);
  if (has[R_GROUP] && group < 0) {
    rc = expr_fail(c, "regexGroupName '%.*s' is not a group of regexPattern", (int)l[R_GROUP],
                   s[R_GROUP]);
  } else if (extract) {
    /* No match leaves the (empty) source as it was. */
    rc = rx_match(c, &r, s[R_ATTR], l[R_ATTR], 0, &hit);
    if (rc == EXPR_OK && hit && rx_group(&r, (uint32_t)group, &gs, &ge))
      rc = expr_ret_str(c, s[R_ATTR] + gs, ge - gs, out);
    else if (rc == EXPR_OK)
      rc = has[R_SRC] ? expr_ret_str(c, s[R_SRC], l[R_SRC], out) : ret_null(out);
  } else if ((rc = rx_replace(c, &r, s[R_SRC], l[R_SRC], group, s[R_REPL], l[R_REPL], &b)) ==
             EXPR_OK) {
    rc = ret_buf(c, &b, out);
  }
  buf_free(&b);
  rx_free(&r);
  return rc;
}

/* ReplaceChars(string, "ö:oe,ß:ss"): white space in the pattern is ignored; each entry is one
 * source character, a colon and a (possibly empty) target; the first entry for a character
 * wins.  A malformed entry is an error, as Microsoft documents a parsing error. */
typedef struct charmap {
  uint32_t from;
  const char *to;
  size_t tn;
} charmap;

static int parse_charmap(expr_call *c, const buf *pat, charmap **maps, size_t *count)
{
  const char *p = pat->p ? pat->p : "", *end = p + pat->len, *e, *colon;
  size_t k = 1, len;

  for (e = p; e < end; e++)
    k += *e == ',';
  *maps = mvs_arena_alloc(expr_call_arena(c), k * sizeof **maps);
  if (!*maps)
    return expr_nomem(c);
  *count = 0;
  for (;; p = e + 1) {
    e = memchr(p, ',', (size_t)(end - p));
    if (!e)
      e = end;
    if (e == p) {
      if (e == end)
        break;
      continue;
    }
    colon = memchr(p, ':', (size_t)(e - p));
    if (!colon || memchr(colon + 1, ':', (size_t)(e - colon - 1)))
      return expr_fail(c, "'%.*s' in ReplacePattern is not source:target", (int)(e - p), p);
    if (utf8_length(p, (size_t)(colon - p)) != 1)
      return expr_fail(c, "'%.*s' in ReplacePattern: the source must be exactly one character",
                       (int)(e - p), p);
    (*maps)[*count].from = utf8_decode(p, (size_t)(colon - p), &len);
    (*maps)[*count].to = colon + 1;
    (*maps)[*count].tn = (size_t)(e - colon - 1);
    (*count)++;
    if (e == end)
      break;
  }
  return EXPR_OK;
}

static int fn_replacechars(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p, *pp;
  size_t len, pn, i, len1, k, count = 0;
  charmap *maps = NULL;
  buf pat, b;
  int rc, brc = BUF_OK;

  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (rc = expr_arg_str(c, args, 1, &pp, &pn)) != EXPR_OK ||
      (rc = expr_call_steps(c, len + pn)) != EXPR_OK)
    return rc;
  buf_init(&pat, TEXT_MAX);
  buf_init(&b, TEXT_MAX);
  for (i = 0; i < pn && brc == BUF_OK; i += len1)
    if (!utf8_isspace(utf8_decode(pp + i, pn - i, &len1)))
      brc = buf_add(&pat, pp + i, len1);
  if (brc != BUF_OK) {
    rc = expr_nomem(c);
    goto out;
  }
  if ((rc = parse_charmap(c, &pat, &maps, &count)) != EXPR_OK)
    goto out;
  for (i = 0; i < len && brc == BUF_OK; i += len1) {
    uint32_t cp = utf8_decode(p + i, len - i, &len1);
    for (k = 0; k < count && maps[k].from != cp; k++)
      ;
    brc = k < count ? buf_add(&b, maps[k].to, maps[k].tn) : buf_add(&b, p + i, len1);
  }
  rc = brc != BUF_OK ? expr_nomem(c) : ret_buf(c, &b, out);
out:
  buf_free(&pat);
  buf_free(&b);
  return rc;
}

/* ---- words, lists ---- */

/* Word(string, n, delimiters): documented "" for a NULL string, n < 1 and a missing word.
 * A run of delimiters separates two words (no empty words are counted). */
static int fn_word(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p, *d;
  size_t len, dn, i = 0, cl, ws = 0;
  int64_t k, idx = 0;
  bool in_word = false;
  int rc;

  (void)n;
  if (mvs_is_null(args[0]))
    return expr_ret_str(c, "", 0, out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (rc = expr_arg_num(c, args, 1, &k)) != EXPR_OK ||
      (rc = expr_arg_str(c, args, 2, &d, &dn)) != EXPR_OK ||
      (rc = expr_call_steps(c, len)) != EXPR_OK)
    return rc;
  if (k < 1)
    return expr_ret_str(c, "", 0, out);
  for (i = 0; i <= len; i += cl) {
    bool delim = i == len || cp_in(d, dn, utf8_decode(p + i, len - i, &cl));
    if (i == len)
      cl = 1;
    if (!delim && !in_word) {
      in_word = true;
      ws = i;
    } else if (delim && in_word) {
      in_word = false;
      if (++idx == k)
        return expr_ret_str(c, p + ws, i - ws, out);
    }
  }
  return expr_ret_str(c, "", 0, out);
}

/* The i-th value of v (a single value counts as a list of one) as text. */
static int item_str(expr_call *c, mvs_value v, size_t i, const char **p, size_t *n)
{
  int rc = mvs_to_str(expr_call_arena(c), mvs_item(v, i), p, n);
  if (rc == -2)
    return expr_nomem(c);
  if (rc != 0)
    return expr_fail(c, "a %s value cannot be used as text", mvs_type_name(mvs_item(v, i).type));
  return EXPR_OK;
}

/* Multi-valued results are collected as an array of mvs_value in a buf. */
static int list_add(expr_call *c, buf *list, const char *p, size_t n)
{
  mvs_value v;
  if (mvs_str_copy(expr_call_arena(c), p, n, &v) != 0 || buf_add(list, &v, sizeof v))
    return expr_nomem(c);
  return EXPR_OK;
}

/* Split one value at every delim into l; `limit` values at most, the last holding the rest.
 * Empty pieces are dropped (a multi-valued attribute cannot hold an empty value); with
 * `trim` white space around each piece goes first. */
static int split_value(expr_call *c, buf *list, const char *p, size_t n, const char *d,
                       size_t dn, uint64_t limit, bool trim_pieces)
{
  size_t from = 0, e, ps, pe;
  uint64_t count = 0;
  const char *hit;
  int rc = EXPR_OK;

  for (;;) {
    hit = dn > 0 && count + 1 < limit ? memmem(p + from, n - from, d, dn) : NULL;
    e = hit ? (size_t)(hit - p) : n;
    ps = 0;
    pe = e - from;
    if (trim_pieces)
      ws_bounds(p + from, e - from, &ps, &pe);
    if (pe > ps) {
      if ((rc = list_add(c, list, p + from + ps, pe - ps)) != EXPR_OK)
        return rc;
      count++;
    }
    if (!hit)
      return EXPR_OK;
    from = e + dn;
  }
}

/* Split's source is taken whole so a multi-valued source splits into one flat list. */
static int split(expr_call *c, const mvs_value *args, const char *d, size_t dn, uint64_t limit,
                 bool trim_pieces, mvs_value *out)
{
  buf list;
  const char *p;
  size_t i, len;
  int rc = EXPR_OK;

  buf_init(&list, TEXT_MAX);
  for (i = 0; i < mvs_count(args[0]) && rc == EXPR_OK; i++)
    if ((rc = item_str(c, args[0], i, &p, &len)) == EXPR_OK &&
        (rc = expr_call_steps(c, len)) == EXPR_OK)
      rc = split_value(c, &list, p, len, d, dn, limit, trim_pieces);
  if (rc == EXPR_OK && mvs_mv_make(expr_call_arena(c), (const mvs_value *)(const void *)list.p,
                                   list.len / sizeof(mvs_value), out) != 0)
    rc = expr_nomem(c);
  buf_free(&list);
  return rc;
}

/* Connect Split(value, delimiter[, limit]): the delimiter is one character; with a limit the
 * last value holds the rest (.NET String.Split count); a limit below 1 gives NULL, a NULL
 * limit counts as omitted. */
static int fn_split_connect(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *d;
  size_t dn;
  int64_t limit = INT64_MAX;
  int rc;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 1, &d, &dn)) != EXPR_OK ||
      (given(args, n, 2) && (rc = expr_arg_num(c, args, 2, &limit)) != EXPR_OK))
    return rc;
  if (utf8_length(d, dn) != 1)
    return expr_fail(c, "the delimiter must be exactly one character");
  if (limit < 1)
    return ret_null(out);
  return split(c, args, d, dn, (uint64_t)limit, false, out);
}

/* Cloud Split(source, delimiter): values are trimmed, as Microsoft's example shows
 * ("PermissionSetOne, PermissionSetTwo" gives "PermissionSetTwo" without the space). */
static int fn_split_cloud(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *d;
  size_t dn;
  int rc;

  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 1, &d, &dn)) != EXPR_OK)
    return rc;
  return split(c, args, d, dn, UINT64_MAX, true, out);
}

/* Append the values of v to b, each after sep once *wrote is set; with skip_empty empty
 * values are left out. */
static int join_values(expr_call *c, buf *b, mvs_value v, const char *sep, size_t sn,
                       bool skip_empty, bool *wrote)
{
  const char *p;
  size_t i, len;
  int rc;

  for (i = 0; i < mvs_count(v); i++) {
    if ((rc = item_str(c, v, i, &p, &len)) != EXPR_OK ||
        (rc = expr_call_steps(c, len + 1)) != EXPR_OK)
      return rc;
    if (skip_empty && len == 0)
      continue;
    if ((*wrote && buf_add(b, sep, sn)) || buf_add(b, p, len))
      return expr_nomem(c);
    *wrote = true;
  }
  return EXPR_OK;
}

/* Connect Join(attribute[, delimiter]): the delimiter defaults to " "; a NULL or "" delimiter
 * concatenates (documented). */
static int fn_join_connect(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *sep = " ";
  size_t sn = 1;
  bool wrote = false;
  buf b;
  int rc;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if (n > 1) {
    sep = "";
    sn = 0;
    if (given(args, n, 1) && (rc = expr_arg_str(c, args, 1, &sep, &sn)) != EXPR_OK)
      return rc;
  }
  buf_init(&b, TEXT_MAX);
  if ((rc = join_values(c, &b, args[0], sep, sn, false, &wrote)) != EXPR_OK) {
    buf_free(&b);
    return rc;
  }
  return finish(c, &b, BUF_OK, out);
}

/* Cloud Join(separator, source1, ...): multi-valued sources are flattened; NULL and empty
 * values are skipped (Microsoft's Join(", ", "", [surname], [givenName]) gives "Doe, John");
 * all sources NULL gives NULL. */
static int fn_join_cloud(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *sep = "";
  size_t sn = 0, i;
  bool any = false, wrote = false;
  buf b;
  int rc = EXPR_OK;

  if (args[0].type == MVS_V_MV)
    return expr_fail(c, "the separator must be a single value");
  if (!mvs_is_null(args[0]) && (rc = expr_arg_str(c, args, 0, &sep, &sn)) != EXPR_OK)
    return rc;
  buf_init(&b, TEXT_MAX);
  for (i = 1; i < n && rc == EXPR_OK; i++) {
    any = any || !mvs_is_null(args[i]);
    rc = join_values(c, &b, args[i], sep, sn, true, &wrote);
  }
  if (rc != EXPR_OK || !any) {
    buf_free(&b);
    return rc != EXPR_OK ? rc : ret_null(out);
  }
  return finish(c, &b, BUF_OK, out);
}

/* Append(source, suffix): NULL source gives NULL, a NULL suffix leaves source as it is. */
static int fn_append(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p, *s = "";
  size_t len, sn = 0;
  buf b;
  int rc, brc;

  (void)n;
  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (!mvs_is_null(args[1]) && (rc = expr_arg_str(c, args, 1, &s, &sn)) != EXPR_OK))
    return rc;
  buf_init(&b, TEXT_MAX);
  brc = buf_add(&b, p, len);
  if (brc == BUF_OK)
    brc = buf_add(&b, s, sn);
  return finish(c, &b, brc, out);
}

/* ---- NormalizeDiacritics ---- */

/* Microsoft's documented table, row by row: the replacement, then the space-separated
 * sequences it replaces (some are a letter followed by combining marks).  Nothing else is
 * changed: characters outside the table, such as plain œ, pass through. */
static const struct {
  const char *to;
  const char *from;
} diacritics[] = {
  {"a", "ä à â ã å á ą ă ā ā́ ā̀ ā̂ ā̃ ǟ ā̈ ǡ a̱ å̄"},
  {"A", "Ä À Â Ã Å Á Ą Ă Ā Ā́ Ā̀ Ā̂ Ā̃ Ǟ Ā̈ Ǡ A̱ Å̄"},
  {"ae", "æ ǣ"},
  {"AE", "Æ Ǣ"},
  {"c", "ç č ć c̄ c̱"},
  {"C", "Ç Č Ć C̄ C̱"},
  {"d", "ď d̄ ḏ"},
  {"D", "Ď D̄ Ḏ"},
  {"e", "ë è é ê ę ě ė ē ḗ ḕ ē̂ ē̃ ê̄ e̱ ë̄ e̊̄"},
  {"E", "Ë È É Ê Ę Ě Ė Ē Ḗ Ḕ Ē̂ Ē̃ Ê̄ E̱ Ë̄ E̊̄"},
  {"g", "ğ ḡ g̱"},
  {"G", "Ğ Ḡ G̱"},
  {"i", "ï î ì í ı ī ī́ ī̀ ī̂ ī̃ i̱"},
  {"I", "Ï Î Ì Í İ Ī Ī́ Ī̀ Ī̂ Ī̃ I̱"},
  {"l", "ľ ł l̄ ḹ ḻ"},
  {"L", "Ł Ľ L̄ Ḹ Ḻ"},
  {"n", "ñ ń ň n̄ ṉ"},
  {"N", "Ñ Ń Ň N̄ Ṉ"},
  {"o", "ö ò ő õ ô ó ō ṓ ṑ ō̂ ō̃ ȫ ō̈ ǭ ȭ ȱ o̱"},
  {"O", "Ö Ò Ő Õ Ô Ó Ō Ṓ Ṑ Ō̂ Ō̃ Ȫ Ō̈ Ǭ Ȭ Ȱ O̱"},
  {"oe", "ø ø̄ œ̄"},
  {"OE", "Ø Ø̄ Œ̄"},
  {"r", "ř r̄ ṟ ṝ"},
  {"R", "Ř R̄ Ṟ Ṝ"},
  {"ss", "ß"},
  {"s", "š ś ș ş s̄ s̱"},
  {"S", "Š Ś Ș Ş S̄ S̱"},
  {"t", "ť ț t̄ ṯ"},
  {"T", "Ť Ț T̄ Ṯ"},
  {"u", "ü ù û ú ů ű ū ū́ ū̀ ū̂ ū̃ u̇̄ ǖ ṻ ṳ̄ u̱"},
  {"U", "Ü Ù Û Ú Ů Ű Ū Ū́ Ū̀ Ū̂ Ū̃ U̇̄ Ǖ Ṻ Ṳ̄ U̱"},
  {"y", "ÿ ý ȳ ȳ́ ȳ̀ ȳ̃ y̱"},
  {"Y", "Ÿ Ý Ȳ Ȳ́ Ȳ̀ Ȳ̃ Y̱"},
  {"z", "ź ž ż z̄ ẕ"},
  {"Z", "Ź Ž Ż Z̄ Ẕ"},
};

/* The longest table sequence at p (n bytes left); 0 when none. */
static size_t diacritic_at(const char *p, size_t n, const char **to)
{
  size_t best = 0, r, tl;
  const char *t, *sp;

  for (r = 0; r < sizeof diacritics / sizeof diacritics[0]; r++)
    for (t = diacritics[r].from; *t; t = *sp ? sp + 1 : sp) {
      sp = strchr(t, ' ');
      if (!sp)
        sp = t + strlen(t);
      tl = (size_t)(sp - t);
      if (tl > best && tl <= n && memcmp(p, t, tl) == 0) {
        best = tl;
        *to = diacritics[r].to;
      }
    }
  return best;
}

static int normalize_diacritics(buf *b, const char *p, size_t n)
{
  size_t i = 0, m;
  const char *to = NULL;
  int rc = BUF_OK;

  while (i < n && rc == BUF_OK) {
    /* Table sequences start with a non-ASCII byte or with a letter before a combining mark
     * (U+0300..U+036F, lead bytes CC and CD); plain ASCII skips the table scan. */
    bool candidate = (unsigned char)p[i] >= 0x80 ||
                     (i + 1 < n && ((unsigned char)p[i + 1] == 0xCC ||
                                    (unsigned char)p[i + 1] == 0xCD));
    if (candidate && (m = diacritic_at(p + i, n - i, &to)) > 0) {
      rc = buf_adds(b, to);
      i += m;
    } else {
      utf8_decode(p + i, n - i, &m);
      rc = buf_add(b, p + i, m);
      i += m;
    }
  }
  return rc;
}

static int fn_normalizediacritics(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, normalize_diacritics, NULL, out);
}

/* ---- distinguished names ---- */

/* EscapeDNComponent("cn=" & x): the part before the first '=' is the attribute type and is
 * kept; the value gets the escapes Microsoft's LDAP documentation lists for AD: , + " \ < > ;
 * and = with a backslash, a leading space or #, a trailing space, and CR, LF and NUL as hex. */
static int escape_dn(buf *b, const char *p, size_t n)
{
  const char *eq = memchr(p, '=', n);
  size_t start = eq ? (size_t)(eq - p) + 1 : 0, i;
  int rc = buf_add(b, p, start);

  for (i = start; i < n && rc == BUF_OK; i++) {
    char ch = p[i];
    if (ch == '\n' || ch == '\r' || ch == '\0')
      rc = buf_printf(b, "\\%02X", (unsigned)ch);
    else if (strchr(",+\"\\<>;=", ch) || (i == start && (ch == ' ' || ch == '#')) ||
             (i == n - 1 && ch == ' '))
      rc = buf_add(b, (char[2]){'\\', ch}, 2);
    else
      rc = buf_addc(b, ch);
  }
  return rc;
}

static int fn_escapedncomponent(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, escape_dn, NULL, out);
}

typedef struct span {
  size_t off, len;
} span;

/* True when p[i] is preceded by an odd number of backslashes (so it is escaped). */
static bool escaped_at(const char *p, size_t from, size_t i)
{
  size_t k = 0;
  while (i > from + k && p[i - 1 - k] == '\\')
    k++;
  return k % 2 == 1;
}

/* The RDNs of a DN, split at unescaped commas (and RFC 1779 semicolons), with surrounding
 * spaces trimmed and empty ones (a trailing comma) dropped. */
static int dn_split(expr_call *c, const char *p, size_t n, span **out, size_t *count)
{
  size_t i, k = 1, start = 0;
  span *v;

  for (i = 0; i < n; i++)
    k += p[i] == ',' || p[i] == ';';
  v = mvs_arena_alloc(expr_call_arena(c), k * sizeof *v);
  if (!v)
    return expr_nomem(c);
  *count = 0;
  for (i = 0; i <= n; i++) {
    size_t s = start, e = i;
    if (i < n && !((p[i] == ',' || p[i] == ';') && !escaped_at(p, start, i)))
      continue;
    start = i + 1;
    while (s < e && p[s] == ' ')
      s++;
    while (e > s && p[e - 1] == ' ' && !escaped_at(p, s, e - 1))
      e--;
    if (e > s) {
      v[*count].off = s;
      v[*count].len = e - s;
      (*count)++;
    }
  }
  *out = v;
  return EXPR_OK;
}

/* The value of one RDN (after its first unescaped '='), with RFC 4514 escapes undone. */
static int rdn_value(expr_call *c, const char *p, size_t n, mvs_value *out)
{
  size_t i, s = 0;
  buf b;
  int brc = BUF_OK;

  for (i = 0; i < n; i++)
    if (p[i] == '=' && !escaped_at(p, 0, i)) {
      s = i + 1;
      break;
    }
  while (s < n && p[s] == ' ')
    s++;
  buf_init(&b, TEXT_MAX);
  for (i = s; i < n && brc == BUF_OK; i++) {
    if (p[i] == '\\' && i + 2 < n && mvs_hex_digit(p[i + 1]) >= 0 && mvs_hex_digit(p[i + 2]) >= 0) {
      brc = buf_addc(&b, (char)(mvs_hex_digit(p[i + 1]) * 16 + mvs_hex_digit(p[i + 2])));
      i += 2;
    } else if (p[i] == '\\' && i + 1 < n) {
      brc = buf_addc(&b, p[++i]);
    } else {
      brc = buf_addc(&b, p[i]);
    }
  }
  return finish(c, &b, brc, out);
}

static bool rdn_is_dc(const char *p, size_t n)
{
  size_t i = 0;
  while (i < n && p[i] == ' ')
    i++;
  if (n - i < 2 || strncasecmp(p + i, "dc", 2) != 0)
    return false;
  for (i += 2; i < n && p[i] == ' '; i++)
    ;
  return i < n && p[i] == '=';
}

static const char *const dc_names[] = {"DC", NULL};

/* DNComponent counts RDNs from the left, DNComponentRev from the right (optionally skipping
 * dc= RDNs); a number outside 1..count gives NULL. */
static int dn_component(expr_call *c, const mvs_value *args, size_t n, bool rev,
                        mvs_value *out)
{
  const char *p;
  size_t len, count = 0, i, kept = 0;
  span *v = NULL;
  int64_t k;
  int rc, opt = -1;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (rc = expr_arg_num(c, args, 1, &k)) != EXPR_OK ||
      (given(args, n, 2) &&
       (rc = enum_arg(c, args, 2, dc_names, false, "\"DC\"", &opt)) != EXPR_OK) ||
      (rc = expr_call_steps(c, len)) != EXPR_OK ||
      (rc = dn_split(c, p, len, &v, &count)) != EXPR_OK)
    return rc;
  for (i = 0; i < count; i++)
    if (opt != 0 || !rdn_is_dc(p + v[i].off, v[i].len))
      v[kept++] = v[i];
  if (k < 1 || (uint64_t)k > kept)
    return ret_null(out);
  i = rev ? kept - (size_t)k : (size_t)k - 1;
  return rdn_value(c, p + v[i].off, v[i].len, out);
}

static int fn_dncomponent(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  return dn_component(c, args, n, false, out);
}

static int fn_dncomponentrev(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  return dn_component(c, args, n, true, out);
}

/* ---- encodings ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The string as UTF-16LE bytes (.NET's Encoding.Unicode), with surrogate pairs above U+FFFF. */
static int utf16le(buf *b, const char *p, size_t n)
{
  size_t i = 0, len;
  int rc = BUF_OK;

  while (i < n && rc == BUF_OK) {
    uint32_t cp = utf8_decode(p + i, n - i, &len), hi = cp, lo = 0;
    unsigned char u[4] = {0};
    i += len;
    if (cp >= 0x10000) {
      hi = 0xD800 + ((cp - 0x10000) >> 10);
      lo = 0xDC00 + (cp & 0x3FF);
    }
    u[0] = (unsigned char)hi, u[1] = (unsigned char)(hi >> 8);
    u[2] = (unsigned char)lo, u[3] = (unsigned char)(lo >> 8);
    rc = buf_add(b, u, cp >= 0x10000 ? 4 : 2);
  }
  return rc;
}

/* Base64 of u[0..n) with '=' padding. */
static int base64_encode(buf *b, const unsigned char *u, size_t n)
{
  size_t i;
  int rc = BUF_OK;

  for (i = 0; i < n && rc == BUF_OK; i += 3) {
    uint32_t v = (uint32_t)u[i] << 16 | (i + 1 < n ? (uint32_t)u[i + 1] << 8 : 0) |
                 (i + 2 < n ? u[i + 2] : 0);
    char t[4] = {b64_alphabet[v >> 18], b64_alphabet[(v >> 12) & 63],
                 i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=',
                 i + 2 < n ? b64_alphabet[v & 63] : '='};
    rc = buf_add(b, t, 4);
  }
  return rc;
}

/* ConvertToBase64 encodes the UTF-16LE bytes of the string: the documented "Hello world!"
 * gives "SABlAGwAbABvACAAdwBvAHIAbABkACEA". */
static int to_base64(buf *b, const char *p, size_t n)
{
  buf u16;
  int rc;

  buf_init(&u16, TEXT_MAX);
  rc = utf16le(&u16, p, n);
  if (rc == BUF_OK)
    rc = base64_encode(b, (const unsigned char *)(u16.p ? u16.p : ""), u16.len);
  buf_free(&u16);
  return rc;
}

/* A binary value is encoded as its bytes: Microsoft's sourceAnchor flow
 * ConvertToBase64([objectGUID]) gives the base64 of the GUID's 16 bytes, the
 * onPremisesImmutableId Entra ID shows. */
static int fn_converttobase64(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  buf b;
  int rc;

  (void)n;
  if (args[0].type != MVS_V_BIN)
    return xform_arg0(c, args, to_base64, NULL, out);
  if ((rc = expr_call_steps(c, args[0].u.s.n)) != EXPR_OK)
    return rc;
  buf_init(&b, TEXT_MAX);
  rc = base64_encode(&b, (const unsigned char *)args[0].u.s.p, args[0].u.s.n);
  return finish(c, &b, rc, out);
}

static int b64_value(char ch)
{
  const char *f = ch ? strchr(b64_alphabet, ch) : NULL;
  return f ? (int)(f - b64_alphabet) : -1;
}

/* Decode base64 as .NET's Convert.FromBase64String: white space is ignored, the length must
 * be a multiple of 4 and '=' may only pad the end.  Returns TEXT_BAD when malformed. */
static int from_base64(buf *b, const char *p, size_t n)
{
  uint32_t acc = 0;
  size_t i;
  int k = 0, pad = 0, rc = BUF_OK;
  bool done = false;

  for (i = 0; i < n && rc == BUF_OK; i++) {
    char ch = p[i];
    int v;
    if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
      continue;
    if (done)
      return TEXT_BAD;
    if (ch == '=') {
      if (k < 2)
        return TEXT_BAD;
      pad++;
      v = 0;
    } else if (pad > 0 || (v = b64_value(ch)) < 0) {
      return TEXT_BAD;
    }
    acc = (acc << 6) | (uint32_t)v;
    if (++k < 4)
      continue;
    rc = buf_addc(b, (char)(acc >> 16));
    if (rc == BUF_OK && pad < 2)
      rc = buf_addc(b, (char)(acc >> 8));
    if (rc == BUF_OK && pad < 1)
      rc = buf_addc(b, (char)acc);
    done = pad > 0;
    k = 0;
    acc = 0;
  }
  return rc == BUF_OK && k != 0 ? TEXT_BAD : rc;
}

static const char *const encoding_names[] = {"Unicode", "ASCII", "UTF8", NULL};
enum { ENC_UNICODE, ENC_ASCII, ENC_UTF8 };

/* Decoded bytes to UTF-8 text, replacing what the encoding cannot represent as .NET's
 * decoders do: U+FFFD for broken UTF-16/UTF-8, '?' for bytes above 0x7F in ASCII. */
static int decode_bytes(buf *b, const unsigned char *u, size_t n, int enc)
{
  size_t i = 0, len;
  int rc = BUF_OK;

  while (i < n && rc == BUF_OK) {
    uint32_t cp;
    if (enc == ENC_ASCII) {
      cp = u[i] < 0x80 ? u[i] : '?';
      i++;
    } else if (enc == ENC_UTF8) {
      cp = utf8_decode((const char *)u + i, n - i, &len);
      i += len;
    } else if (i + 1 >= n) {
      cp = 0xFFFD;
      i++;
    } else {
      cp = (uint32_t)u[i] | (uint32_t)u[i + 1] << 8;
      i += 2;
      if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < n &&
          (u[i + 1] & 0xFC) == 0xDC) {
        uint32_t lo = (uint32_t)u[i] | (uint32_t)u[i + 1] << 8;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      } else if (cp >= 0xD800 && cp < 0xE000) {
        cp = 0xFFFD;
      }
    }
    rc = add_cp(b, cp);
  }
  return rc;
}

/* ConvertFromBase64(source[, Unicode|ASCII|UTF8]): Unicode (UTF-16LE) by default, as
 * documented; malformed base64 is an error, as in .NET. */
static int fn_convertfrombase64(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *p;
  size_t len;
  int enc = ENC_UNICODE, rc;
  buf raw, b;

  if (mvs_is_null(args[0]))
    return ret_null(out);
  if ((rc = expr_arg_str(c, args, 0, &p, &len)) != EXPR_OK ||
      (given(args, n, 1) && (rc = enum_arg(c, args, 1, encoding_names, false,
                                           "Unicode, ASCII or UTF8", &enc)) != EXPR_OK) ||
      (rc = expr_call_steps(c, len)) != EXPR_OK)
    return rc;
  buf_init(&raw, TEXT_MAX);
  buf_init(&b, TEXT_MAX);
  rc = from_base64(&raw, p, len);
  if (rc == TEXT_BAD) {
    buf_free(&raw);
    buf_free(&b);
    return expr_fail(c, "the source is not valid base64");
  }
  if (rc == BUF_OK)
    rc = decode_bytes(&b, (const unsigned char *)(raw.p ? raw.p : ""), raw.len, enc);
  buf_free(&raw);
  return finish(c, &b, rc, out);
}

/* ConvertToUTF8Hex: the UTF-8 bytes as upper-case hex ("Hello world!" gives
 * "48656C6C6F20776F726C6421"), the form Entra ID uses in DNs. */
static int to_utf8hex(buf *b, const char *p, size_t n)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  int rc = BUF_OK;
  for (i = 0; i < n && rc == BUF_OK; i++) {
    char t[2] = {hex[(unsigned char)p[i] >> 4], hex[(unsigned char)p[i] & 15]};
    rc = buf_add(b, t, 2);
  }
  return rc;
}

static int fn_converttoutf8hex(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, to_utf8hex, NULL, out);
}

/* ConvertFromUTF8Hex: hex pairs (either case) to bytes, read as UTF-8. */
static int from_utf8hex(buf *b, const char *p, size_t n)
{
  buf raw;
  size_t i;
  int rc = BUF_OK;

  if (n % 2)
    return TEXT_BAD;
  buf_init(&raw, TEXT_MAX);
  for (i = 0; i < n && rc == BUF_OK; i += 2) {
    if (mvs_hex_digit(p[i]) < 0 || mvs_hex_digit(p[i + 1]) < 0) {
      rc = TEXT_BAD;
      break;
    }
    rc = buf_addc(&raw, (char)(mvs_hex_digit(p[i]) * 16 + mvs_hex_digit(p[i + 1])));
  }
  if (rc == BUF_OK)
    rc = decode_bytes(b, (const unsigned char *)(raw.p ? raw.p : ""), raw.len, ENC_UTF8);
  buf_free(&raw);
  return rc;
}

static int fn_convertfromutf8hex(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)n;
  return xform_arg0(c, args, from_utf8hex, "the source is not hex pairs", out);
}

/* ---- generated values ---- */

/* Guid(): a version 4 GUID from the environment's seeded generator, in .NET's "D" format. */
static int fn_guid(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char g[16];
  char s[36];
  uint64_t r[2] = {expr_call_random(c), expr_call_random(c)};
  size_t i, k = 0;

  (void)args;
  (void)n;
  for (i = 0; i < 16; i++)
    g[i] = (unsigned char)(r[i / 8] >> (8 * (i % 8)));
  g[6] = (unsigned char)((g[6] & 0x0F) | 0x40);
  g[8] = (unsigned char)((g[8] & 0x3F) | 0x80);
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      s[k++] = '-';
    s[k++] = hex[g[i] >> 4];
    s[k++] = hex[g[i] & 15];
  }
  return expr_ret_str(c, s, sizeof s, out);
}

/* RandomString's character classes; specials are those Windows password complexity counts:
 * ~!@#$%^&*_-+=`|\(){}[]:;"'<>,.?/ */
static const char *const rs_classes[4] = {
    "0123456789",
    "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "abcdefghijklmnopqrstuvwxyz",
};
static const char *const rs_class_names[4] = {"MinimumNumbers", "MinimumSpecialCharacters",
                                              "MinimumCapital", "MinimumLowerCase"};

/* RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital,
 * MinimumLowerCase[, CharactersToAvoid]).  The minimums are drawn first; the rest comes from
 * the classes that have a minimum (all four when none has), then the string is shuffled. */
static int fn_randomstring(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  char pools[4][40], rest[160], s[RANDOM_STRING_MAX];
  size_t plen[4], rlen = 0, k = 0, i, j;
  int64_t len, min[4], sum = 0;
  const char *avoid = "";
  size_t an = 0;
  bool any_min = false;
  int rc;

  if ((rc = expr_arg_num(c, args, 0, &len)) != EXPR_OK)
    return rc;
  for (i = 0; i < 4; i++)
    if ((rc = expr_arg_num(c, args, i + 1, &min[i])) != EXPR_OK)
      return rc;
  if (given(args, n, 5) && (rc = expr_arg_str(c, args, 5, &avoid, &an)) != EXPR_OK)
    return rc;
  if (len < 0 || len > RANDOM_STRING_MAX)
    return expr_fail(c, "Length must be between 0 and %d", RANDOM_STRING_MAX);
  for (i = 0; i < 4; i++) {
    if (min[i] < 0 || min[i] > RANDOM_STRING_MAX)
      return expr_fail(c, "%s must be between 0 and %d", rs_class_names[i], RANDOM_STRING_MAX);
    sum += min[i];
    any_min = any_min || min[i] > 0;
  }
  if (sum > len)
    return expr_fail(c, "Length is less than the sum of the minimums");
  /* Pools without the characters to avoid (ASCII bytes never occur inside a UTF-8 sequence,
   * so a byte search in CharactersToAvoid is exact). */
  for (i = 0; i < 4; i++) {
    plen[i] = 0;
    for (j = 0; rs_classes[i][j]; j++)
      if (!memchr(avoid, rs_classes[i][j], an))
        pools[i][plen[i]++] = rs_classes[i][j];
    if (min[i] > 0 && plen[i] == 0)
      return expr_fail(c, "CharactersToAvoid leaves nothing for %s", rs_class_names[i]);
    if (!any_min || min[i] > 0) {
      memcpy(rest + rlen, pools[i], plen[i]);
      rlen += plen[i];
    }
  }
  if (len > sum && rlen == 0)
    return expr_fail(c, "CharactersToAvoid leaves no characters to use");
  for (i = 0; i < 4; i++)
    for (j = 0; j < (size_t)min[i]; j++)
      s[k++] = pools[i][expr_call_random(c) % plen[i]];
  while (k < (size_t)len)
    s[k++] = rest[expr_call_random(c) % rlen];
  for (i = k; i > 1; i--) {
    char t;
    j = (size_t)(expr_call_random(c) % i);
    t = s[i - 1], s[i - 1] = s[j], s[j] = t;
  }
  return expr_ret_str(c, s, k, out);
}

/* Redact(value) returns the value: Microsoft's Redact only masks it in provisioning logs. */
static int fn_redact(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  *out = args[0];
  return EXPR_OK;
}

/* ---- the table ---- */

const expr_fn_def expr_fn_text[] = {
    {"Append", EXPR_D_CLOUD, 2, 2, 0, fn_append},
    {"ConvertFromBase64", EXPR_D_BOTH, 1, 2, 0, fn_convertfrombase64},
    {"ConvertFromUTF8Hex", EXPR_D_CONNECT, 1, 1, 0, fn_convertfromutf8hex},
    {"ConvertToBase64", EXPR_D_BOTH, 1, 1, 0, fn_converttobase64},
    {"ConvertToUTF8Hex", EXPR_D_BOTH, 1, 1, 0, fn_converttoutf8hex},
    {"DNComponent", EXPR_D_BOTH, 2, 2, 0, fn_dncomponent},
    {"DNComponentRev", EXPR_D_CONNECT, 2, 3, 0, fn_dncomponentrev},
    {"EscapeDNComponent", EXPR_D_CONNECT, 1, 1, 0, fn_escapedncomponent},
    {"Guid", EXPR_D_BOTH, 0, 0, 0, fn_guid},
    {"InStr", EXPR_D_BOTH, 2, 4, 0, fn_instr},
    {"InStrRev", EXPR_D_CONNECT, 2, 4, 0, fn_instrrev},
    {"Join", EXPR_D_CONNECT, 1, 2, EXPR_ARG(0), fn_join_connect},
    {"Join", EXPR_D_CLOUD, 2, -1, EXPR_ARGS_ALL, fn_join_cloud},
    {"LCase", EXPR_D_CONNECT, 1, 1, 0, fn_lcase},
    {"LTrim", EXPR_D_CONNECT, 1, 1, 0, fn_ltrim},
    {"Left", EXPR_D_BOTH, 2, 2, 0, fn_left},
    {"Len", EXPR_D_CONNECT, 1, 1, 0, fn_len},
    {"Mid", EXPR_D_BOTH, 2, 3, 0, fn_mid},
    {"NormalizeDiacritics", EXPR_D_CLOUD, 1, 1, 0, fn_normalizediacritics},
    {"PCase", EXPR_D_CONNECT, 1, 1, 0, fn_pcase_connect},
    {"PCase", EXPR_D_CLOUD, 1, 2, 0, fn_pcase_cloud},
    {"PadLeft", EXPR_D_CONNECT, 3, 3, 0, fn_padleft},
    {"PadRight", EXPR_D_CONNECT, 3, 3, 0, fn_padright},
    {"RTrim", EXPR_D_CONNECT, 1, 1, 0, fn_rtrim},
    {"RandomString", EXPR_D_CLOUD, 5, 6, 0, fn_randomstring},
    {"Redact", EXPR_D_CLOUD, 1, 1, EXPR_ARG(0), fn_redact},
    {"Replace", EXPR_D_CONNECT, 3, 3, 0, fn_replace_connect},
    {"Replace", EXPR_D_CLOUD, 3, 7, 0, fn_replace_cloud},
    {"ReplaceChars", EXPR_D_CONNECT, 2, 2, 0, fn_replacechars},
    {"Right", EXPR_D_CONNECT, 2, 2, 0, fn_right},
    {"Split", EXPR_D_CONNECT, 2, 3, EXPR_ARG(0), fn_split_connect},
    {"Split", EXPR_D_CLOUD, 2, 2, EXPR_ARG(0), fn_split_cloud},
    {"StripSpaces", EXPR_D_CLOUD, 1, 1, 0, fn_stripspaces},
    {"ToLower", EXPR_D_CLOUD, 1, 2, 0, fn_tolower},
    {"ToUpper", EXPR_D_CLOUD, 1, 2, 0, fn_toupper},
    {"Trim", EXPR_D_BOTH, 1, 1, 0, fn_trim},
    {"UCase", EXPR_D_CONNECT, 1, 1, 0, fn_ucase},
    {"Word", EXPR_D_BOTH, 3, 3, 0, fn_word},
    {NULL, 0, 0, 0, 0, NULL},
};
