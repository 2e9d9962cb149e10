/* value — typed attribute values: constructors, conversions, equality, UTC datetimes.
 * Memory: values never own bytes; the *_copy constructors copy into the caller's arena. */
#include "schema/value.h"

#include <string.h>

#include "schema/utf8.h"

/* Days from 0001-01-01 to 1970-01-01: converts Hinnant's Unix-epoch day count to ticks. */
#define DAYS_0001_TO_1970 INT64_C(719162)

mvs_value mvs_null(void)
{
  mvs_value v;
  memset(&v, 0, sizeof v);
  v.type = MVS_V_NULL;
  return v;
}

mvs_value mvs_num(int64_t n)
{
  mvs_value v = mvs_null();
  v.type = MVS_V_NUM;
  v.u.num = n;
  return v;
}

mvs_value mvs_bool(bool b)
{
  mvs_value v = mvs_null();
  v.type = MVS_V_BOOL;
  v.u.b = b;
  return v;
}

mvs_value mvs_dt(int64_t ticks)
{
  mvs_value v = mvs_null();
  v.type = MVS_V_DT;
  v.u.dt = ticks;
  return v;
}

mvs_value mvs_special(mvs_vtype t)
{
  mvs_value v = mvs_null();
  if (t == MVS_V_AUTHNULL || t == MVS_V_IGNORE)
    v.type = t;
  return v;
}

static mvs_value bytes_ref(mvs_vtype t, const void *p, size_t n)
{
  mvs_value v = mvs_null();
  v.type = t;
  v.u.s.p = p ? p : "";
  v.u.s.n = p ? n : 0;
  return v;
}

mvs_value mvs_str_ref(const char *p, size_t n) { return bytes_ref(MVS_V_STR, p, n); }
mvs_value mvs_bin_ref(const void *p, size_t n) { return bytes_ref(MVS_V_BIN, p, n); }

static int bytes_copy(mvs_arena *a, mvs_vtype t, const void *p, size_t n, mvs_value *out)
{
  char *d = mvs_arena_memdup(a, p ? p : "", p ? n : 0);
  if (!d)
    return -1;
  *out = bytes_ref(t, d, p ? n : 0);
  return 0;
}

int mvs_str_copy(mvs_arena *a, const char *p, size_t n, mvs_value *out)
{
  return bytes_copy(a, MVS_V_STR, p, n, out);
}

int mvs_bin_copy(mvs_arena *a, const void *p, size_t n, mvs_value *out)
{
  return bytes_copy(a, MVS_V_BIN, p, n, out);
}

int mvs_ref_copy(mvs_arena *a, const char *p, size_t n, mvs_value *out)
{
  return bytes_copy(a, MVS_V_REF, p, n, out);
}

/* MV items are flattened and NULL or special items dropped, so the result keeps the
 * invariant "items are single values" whatever the caller passes. */
int mvs_mv_make(mvs_arena *a, const mvs_value *items, size_t n, mvs_value *out)
{
  size_t i, j, cnt = 0, k = 0;
  mvs_value *arr;

  for (i = 0; i < n; i++)
    cnt += mvs_count(items[i]);
  if (cnt == 0) {
    *out = mvs_null();
    return 0;
  }
  if (cnt > SIZE_MAX / sizeof *arr)
    return -1;
  arr = mvs_arena_alloc(a, cnt * sizeof *arr);
  if (!arr)
    return -1;
  for (i = 0; i < n; i++)
    for (j = 0; j < mvs_count(items[i]); j++)
      arr[k++] = mvs_item(items[i], j);
  *out = mvs_null();
  out->type = MVS_V_MV;
  out->u.mv.items = arr;
  out->u.mv.n = cnt;
  return 0;
}

size_t mvs_count(mvs_value v)
{
  switch (v.type) {
  case MVS_V_NULL:
  case MVS_V_AUTHNULL:
  case MVS_V_IGNORE:
    return 0;
  case MVS_V_MV:
    return v.u.mv.n;
  default:
    return 1;
  }
}

mvs_value mvs_item(mvs_value v, size_t i)
{
  if (v.type == MVS_V_MV)
    return i < v.u.mv.n ? v.u.mv.items[i] : mvs_null();
  if (i == 0 && mvs_count(v) == 1)
    return v;
  return mvs_null();
}

const char *mvs_type_name(mvs_vtype t)
{
  switch (t) {
  case MVS_V_NULL: return "null";
  case MVS_V_STR: return "string";
  case MVS_V_NUM: return "number";
  case MVS_V_BOOL: return "boolean";
  case MVS_V_BIN: return "binary";
  case MVS_V_DT: return "datetime";
  case MVS_V_REF: return "reference";
  case MVS_V_MV: return "multi-valued";
  case MVS_V_AUTHNULL: return "AuthoritativeNull";
  case MVS_V_IGNORE: return "IgnoreThisFlow";
  }
  return "unknown";
}

/* ---- text rendering ---- */

/* Decimal text of n into out (>= 21 bytes); returns the length.  Works on the unsigned
 * magnitude so INT64_MIN needs no negation of a signed value. */
static size_t fmt_num(int64_t n, char *out)
{
  char tmp[24];
  size_t len = 0, i = 0;
  uint64_t m = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;

  do {
    tmp[len++] = (char)('0' + m % 10);
    m /= 10;
  } while (m);
  if (n < 0)
    out[i++] = '-';
  while (len)
    out[i++] = tmp[--len];
  out[i] = '\0';
  return i;
}

static const char hexdig[] = "0123456789abcdef";

int mvs_to_str(mvs_arena *a, mvs_value v, const char **p, size_t *n)
{
  char tmp[32];
  char *d;
  size_t len, i;

  switch (v.type) {
  case MVS_V_STR:
  case MVS_V_REF:
    *p = v.u.s.p;
    *n = v.u.s.n;
    return 0;
  case MVS_V_BOOL:
    *p = v.u.b ? "True" : "False";
    *n = v.u.b ? 4 : 5;
    return 0;
  case MVS_V_NUM:
    len = fmt_num(v.u.num, tmp);
    break;
  case MVS_V_DT:
    mvs_dt_format_iso(v.u.dt, tmp);
    len = strlen(tmp);
    break;
  case MVS_V_BIN:
    if (v.u.s.n > (SIZE_MAX - 1) / 2)
      return -2;
    d = mvs_arena_alloc(a, v.u.s.n * 2 + 1);
    if (!d)
      return -2;
    for (i = 0; i < v.u.s.n; i++) {
      unsigned char c = (unsigned char)v.u.s.p[i];
      d[2 * i] = hexdig[c >> 4];
      d[2 * i + 1] = hexdig[c & 15];
    }
    d[2 * v.u.s.n] = '\0';
    *p = d;
    *n = 2 * v.u.s.n;
    return 0;
  default:
    return -1;
  }
  d = mvs_arena_memdup(a, tmp, len);
  if (!d)
    return -2;
  *p = d;
  *n = len;
  return 0;
}

/* ---- parsing numbers and booleans from text ---- */

static int is_ascii_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Trim the white space .NET's Parse methods accept around a number or boolean. */
static void trim_ascii(const char **p, size_t *n)
{
  while (*n && is_ascii_space(**p)) {
    (*p)++;
    (*n)--;
  }
  while (*n && is_ascii_space((*p)[*n - 1]))
    (*n)--;
}

int mvs_hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int mvs_to_num(mvs_value v, int64_t *out)
{
  const char *p;
  size_t n, i = 0;
  uint64_t m = 0;
  bool neg = false;

  if (v.type == MVS_V_NUM) {
    *out = v.u.num;
    return 0;
  }
  if (v.type != MVS_V_STR)
    return -1;
  p = v.u.s.p;
  n = v.u.s.n;
  trim_ascii(&p, &n);
  if (n >= 3 && p[0] == '&' && (p[1] == 'H' || p[1] == 'h')) {
    /* VBA hex literal: up to 16 digits, read as a two's complement Int64. */
    if (n - 2 > 16)
      return -1;
    for (i = 2; i < n; i++) {
      int h = mvs_hex_digit(p[i]);
      if (h < 0)
        return -1;
      m = m << 4 | (uint64_t)h;
    }
    *out = m > (uint64_t)INT64_MAX ? -(int64_t)(~m) - 1 : (int64_t)m;
    return 0;
  }
  if (n && (p[0] == '+' || p[0] == '-')) {
    neg = p[0] == '-';
    i = 1;
  }
  if (i == n)
    return -1;
  for (; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    if (m > (UINT64_C(1) << 63) / 10)
      return -1;
    m = m * 10 + (uint64_t)(p[i] - '0');
    if (m > (UINT64_C(1) << 63))
      return -1;
  }
  if (!neg && m > (uint64_t)INT64_MAX)
    return -1;
  if (neg)
    *out = m == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)m;
  else
    *out = (int64_t)m;
  return 0;
}

static int ascii_ieq(const char *p, size_t n, const char *lit)
{
  size_t i;
  if (strlen(lit) != n)
    return 0;
  for (i = 0; i < n; i++) {
    char c = p[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != lit[i])
      return 0;
  }
  return 1;
}

int mvs_to_bool(mvs_value v, bool *out)
{
  const char *p;
  size_t n;

  switch (v.type) {
  case MVS_V_BOOL:
    *out = v.u.b;
    return 0;
  case MVS_V_NUM:
    *out = v.u.num != 0;
    return 0;
  case MVS_V_STR:
    p = v.u.s.p;
    n = v.u.s.n;
    trim_ascii(&p, &n);
    if (ascii_ieq(p, n, "true")) {
      *out = true;
      return 0;
    }
    if (ascii_ieq(p, n, "false")) {
      *out = false;
      return 0;
    }
    return -1;
  default:
    return -1;
  }
}

/* ---- equality ---- */

/* Text view of a scalar for comparison; small renderings go to tmp (>= 32 bytes).
 * Returns 0, or -1 for binary (compared separately, as it may be large). */
static int text_view(mvs_value v, char *tmp, const char **p, size_t *n)
{
  switch (v.type) {
  case MVS_V_STR:
  case MVS_V_REF:
    *p = v.u.s.p;
    *n = v.u.s.n;
    return 0;
  case MVS_V_BOOL:
    *p = v.u.b ? "True" : "False";
    *n = v.u.b ? 4 : 5;
    return 0;
  case MVS_V_NUM:
    *n = fmt_num(v.u.num, tmp);
    *p = tmp;
    return 0;
  case MVS_V_DT:
    mvs_dt_format_iso(v.u.dt, tmp);
    *p = tmp;
    *n = strlen(tmp);
    return 0;
  default:
    return -1;
  }
}

/* Binary against text: the text must be the hex rendering (either case). */
static bool bin_eq_text(mvs_value b, const char *p, size_t n)
{
  size_t i;
  if (n != 2 * b.u.s.n)
    return false;
  for (i = 0; i < b.u.s.n; i++) {
    unsigned char c = (unsigned char)b.u.s.p[i];
    if (mvs_hex_digit(p[2 * i]) != (c >> 4) || mvs_hex_digit(p[2 * i + 1]) != (c & 15))
      return false;
  }
  return true;
}

bool mvs_equal(mvs_value a, mvs_value b, bool nocase)
{
  char ta[32], tb[32];
  const char *pa, *pb;
  size_t na, nb, i;

  if (a.type == MVS_V_MV || b.type == MVS_V_MV) {
    if (a.type != b.type || a.u.mv.n != b.u.mv.n)
      return false;
    for (i = 0; i < a.u.mv.n; i++)
      if (!mvs_equal(a.u.mv.items[i], b.u.mv.items[i], nocase))
        return false;
    return true;
  }
  if (a.type == MVS_V_NULL || b.type == MVS_V_NULL || mvs_is_special(a) || mvs_is_special(b))
    return a.type == b.type;
  if (a.type == b.type) {
    switch (a.type) {
    case MVS_V_NUM: return a.u.num == b.u.num;
    case MVS_V_BOOL: return a.u.b == b.u.b;
    case MVS_V_DT: return a.u.dt == b.u.dt;
    case MVS_V_BIN:
      return a.u.s.n == b.u.s.n && (a.u.s.n == 0 || memcmp(a.u.s.p, b.u.s.p, a.u.s.n) == 0);
    default:
      break;
    }
  }
  if (a.type == MVS_V_BIN) {
    text_view(b, tb, &pb, &nb);
    return bin_eq_text(a, pb, nb);
  }
  if (b.type == MVS_V_BIN) {
    text_view(a, ta, &pa, &na);
    return bin_eq_text(b, pa, na);
  }
  text_view(a, ta, &pa, &na);
  text_view(b, tb, &pb, &nb);
  if (nocase)
    return utf8_casecmp(pa, na, pb, nb) == 0;
  return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
}

/* ---- datetimes ---- */

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
  int64_t era, doe, yoe, doy, mp, yy;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  yy = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yy + (*m <= 2));
}

int mvs_dt_from_fields(int y, int mo, int d, int h, int mi, int s, int64_t frac_ticks,
                       int64_t *out)
{
  int64_t days;
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
      h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || frac_ticks < 0 ||
      frac_ticks >= MVS_TICKS_PER_SEC)
    return -1;
  days = days_from_civil(y, mo, d) + DAYS_0001_TO_1970;
  *out = days * MVS_TICKS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + s) * MVS_TICKS_PER_SEC +
         frac_ticks;
  return 0;
}

void mvs_dt_to_fields(int64_t ticks, int *y, int *mo, int *d, int *h, int *mi, int *s,
                      int64_t *frac_ticks)
{
  int64_t days, secs;
  /* Out-of-range ticks are clamped so every input has a defined rendering. */
  if (ticks < 0)
    ticks = 0;
  if (ticks > MVS_TICKS_MAX)
    ticks = MVS_TICKS_MAX;
  days = ticks / MVS_TICKS_PER_DAY;
  civil_from_days(days - DAYS_0001_TO_1970, y, mo, d);
  ticks -= days * MVS_TICKS_PER_DAY;
  secs = ticks / MVS_TICKS_PER_SEC;
  *frac_ticks = ticks % MVS_TICKS_PER_SEC;
  *h = (int)(secs / 3600);
  *mi = (int)(secs / 60 % 60);
  *s = (int)(secs % 60);
}

/* Read exactly `w` digits at *p; advances.  -1 when fewer are there. */
static int digits(const char **p, const char *end, int w, int *out)
{
  int v = 0, i;
  for (i = 0; i < w; i++) {
    if (*p >= end || **p < '0' || **p > '9')
      return -1;
    v = v * 10 + (**p - '0');
    (*p)++;
  }
  *out = v;
  return 0;
}

int mvs_dt_parse_iso(const char *p, size_t n, int64_t *out)
{
  const char *end = p + n;
  int y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0, sign = 0;
  int64_t frac = 0, scale = MVS_TICKS_PER_SEC, t;

  if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) ||
      p >= end || *p++ != '-' || digits(&p, end, 2, &d))
    return -1;
  if (p < end) {
    if (*p != 'T' && *p != 't' && *p != ' ')
      return -1;
    p++;
    if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi))
      return -1;
    if (p < end && *p == ':') {
      p++;
      if (digits(&p, end, 2, &s))
        return -1;
      if (p < end && (*p == '.' || *p == ',')) {
        p++;
        if (p >= end || *p < '0' || *p > '9')
          return -1;
        /* Seven digits are ticks; further digits are below a tick and are dropped. */
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
          if (scale > 1) {
            scale /= 10;
            frac += (*p - '0') * scale;
          }
        }
      }
    }
    if (p < end) {
      if (*p == 'Z' || *p == 'z') {
        p++;
      } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(&p, end, 2, &oh))
          return -1;
        if (p < end && *p == ':')
          p++;
        if (digits(&p, end, 2, &om) || oh > 23 || om > 59)
          return -1;
      } else {
        return -1;
      }
    }
    if (p != end)
      return -1;
  }
  if (mvs_dt_from_fields(y, mo, d, h, mi, s, frac, &t))
    return -1;
  /* Local time = UTC + offset, so UTC = local - offset. */
  t -= (int64_t)sign * ((int64_t)oh * 3600 + om * 60) * MVS_TICKS_PER_SEC;
  if (t < 0 || t > MVS_TICKS_MAX)
    return -1;
  *out = t;
  return 0;
}

static char *put_digits(char *o, int64_t v, int w)
{
  int i;
  for (i = w - 1; i >= 0; i--) {
    o[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return o + w;
}

void mvs_dt_format_iso(int64_t ticks, char *out)
{
  int y, mo, d, h, mi, s;
  int64_t frac;
  char *o = out;

  mvs_dt_to_fields(ticks, &y, &mo, &d, &h, &mi, &s, &frac);
  o = put_digits(o, y, 4);
  *o++ = '-';
  o = put_digits(o, mo, 2);
  *o++ = '-';
  o = put_digits(o, d, 2);
  *o++ = 'T';
  o = put_digits(o, h, 2);
  *o++ = ':';
  o = put_digits(o, mi, 2);
  *o++ = ':';
  o = put_digits(o, s, 2);
  *o++ = '.';
  o = put_digits(o, frac, 7);
  *o++ = 'Z';
  *o = '\0';
}
