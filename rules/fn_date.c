/* fn_date — the date/time functions of both dialects (CDate, DateAdd, DateDiff, DateFromNum,
 * FormatDateTime, Now, NumFromDate, IsDate) and the .NET-style date parsing and formatting
 * they share.  Memory: results are copied into the evaluation arena; scratch text is freed. */
#include "rules/fn_data.h"

#include <string.h>

#include "schema/buf.h"

/* AD FILETIME counts 100-ns ticks from 1601-01-01, .NET (and value.h) from 0001-01-01. */
#define FILETIME_EPOCH INT64_C(504911232000000000)
/* Formatted dates are short; the cap only bounds what a hostile format string can produce. */
#define DATE_TEXT_MAX 4096
/* A repeated format letter is counted up to this; longer runs behave the same. */
#define MAX_REPEAT 32

static const char *const month_names[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
static const char *const day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static int is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }
static char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch; }

static void skip_space(const char *s, size_t n, size_t *i)
{
  while (*i < n && is_space(s[*i]))
    (*i)++;
}

/* Does s[i..n) start with word, ignoring ASCII case? */
static int has_word(const char *s, size_t n, size_t i, const char *word, size_t len)
{
  size_t k;
  if (n - i < len)
    return 0;
  for (k = 0; k < len; k++)
    if (lower(s[i + k]) != lower(word[k]))
      return 0;
  return 1;
}

/* 0001-01-01 was a Monday; 0 is Sunday as in .NET's DayOfWeek. */
static int day_of_week(int64_t ticks) { return (int)((ticks / MVS_TICKS_PER_DAY + 1) % 7); }

static int days_in_month(int y, int mo)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return mo == 2 && leap ? 29 : days[mo - 1];
}

/* ---- month and day names (en-US: the abbreviations are the first three letters) ---- */

enum { NAME_FULL, NAME_ABBR, NAME_ANY };

/* Match one of names at s[*i]; returns its index and advances, or -1. */
static int match_name(const char *s, size_t n, size_t *i, const char *const *names, int count,
                      int form)
{
  int k;
  for (k = 0; k < count && form != NAME_ABBR; k++)
    if (has_word(s, n, *i, names[k], strlen(names[k]))) {
      *i += strlen(names[k]);
      return k;
    }
  for (k = 0; k < count && form != NAME_FULL; k++)
    if (has_word(s, n, *i, names[k], 3)) {
      *i += 3;
      return k;
    }
  return -1;
}

/* ---- .NET date format strings ---- */

/* A one-character format is a .NET standard format; these are its en-US patterns, which is
 * how the Microsoft services render dates (Cloud Sync's "M/d/yyyy h:mm:ss tt" is "G"). */
static const char *standard_format(char ch)
{
  switch (ch) {
  case 'd': return "M/d/yyyy";
  case 'D': return "dddd, MMMM d, yyyy";
  case 'f': return "dddd, MMMM d, yyyy h:mm tt";
  case 'F':
  case 'U': return "dddd, MMMM d, yyyy h:mm:ss tt";
  case 'g': return "M/d/yyyy h:mm tt";
  case 'G': return "M/d/yyyy h:mm:ss tt";
  case 'm':
  case 'M': return "MMMM d";
  case 'o':
  case 'O': return "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK";
  case 'r':
  case 'R': return "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'";
  case 's': return "yyyy'-'MM'-'dd'T'HH':'mm':'ss";
  case 't': return "h:mm tt";
  case 'T': return "h:mm:ss tt";
  case 'u': return "yyyy'-'MM'-'dd HH':'mm':'ss'Z'";
  case 'y':
  case 'Y': return "MMMM yyyy";
  default: return NULL;
  }
}

/* The custom pattern a format string stands for ("" means "G", as DateTime.ToString("")
 * does); NULL for an unknown one-character format. */
static const char *resolve_format(const char *fmt, size_t *n)
{
  const char *std;
  if (*n > 1)
    return fmt;
  std = standard_format(*n ? fmt[0] : 'G');
  if (std)
    *n = strlen(std);
  return std;
}

typedef struct fmt_iter {
  const char *p;
  size_t n, i;
  char quote; /* the quote character of an open quoted literal, or 0 */
} fmt_iter;

typedef struct fmt_tok {
  char spec;  /* a specifier letter (or ':' '/'), or 0 for the literal byte `lit` */
  char lit;
  int count;  /* how many times spec repeats */
} fmt_tok;

static int is_spec(char ch) { return ch != '\0' && strchr("dfFghHKmMstyz:/", ch) != NULL; }

/* Next token of a custom format: 1 with *t set, 0 at the end, -1 when the format is
 * malformed (unclosed quote, trailing backslash, "%%").  Quoted text and \x are literals;
 * %x makes a lone letter a specifier. */
static int fmt_next(fmt_iter *it, fmt_tok *t)
{
  for (;;) {
    char ch;
    if (it->i >= it->n)
      return it->quote ? -1 : 0;
    ch = it->p[it->i++];
    t->spec = 0;
    t->count = 1;
    if (it->quote && ch == it->quote) {
      it->quote = 0;
      continue;
    }
    if (!it->quote && (ch == '\'' || ch == '"')) {
      it->quote = ch;
      continue;
    }
    if (ch == '\\') {
      if (it->i >= it->n)
        return -1;
      t->lit = it->p[it->i++];
      return 1;
    }
    if (it->quote) {
      t->lit = ch;
      return 1;
    }
    if (ch == '%') {
      if (it->i >= it->n || it->p[it->i] == '%')
        return -1;
      ch = it->p[it->i++];
      if (is_spec(ch))
        t->spec = ch;
      else
        t->lit = ch;
      return 1;
    }
    if (!is_spec(ch)) {
      t->lit = ch;
      return 1;
    }
    t->spec = ch;
    /* separators stand alone; letters group into runs like "yyyy" */
    while (ch != ':' && ch != '/' && it->i < it->n && it->p[it->i] == ch) {
      it->i++;
      if (t->count < MAX_REPEAT)
        t->count++;
    }
    return 1;
  }
}

/* ---- formatting ---- */

static int put_num(buf *b, int64_t v, int width)
{
  return buf_printf(b, "%0*lld", width, (long long)v) ? -2 : 0;
}

static int put_text(buf *b, const char *s, size_t n) { return buf_add(b, s, n) ? -2 : 0; }

/* Seconds fraction to `digits` places; F trims trailing zeros and, when nothing is left,
 * the '.' before it (as .NET does, so "ss.FFF" gives "05" for a whole second). */
static int put_fraction(buf *b, int64_t frac, int digits, int trim)
{
  int k;
  if (digits > 7)
    return -1;
  for (k = digits; k < 7; k++)
    frac /= 10;
  while (trim && digits > 0 && frac % 10 == 0) {
    frac /= 10;
    digits--;
  }
  if (digits > 0)
    return put_num(b, frac, digits);
  if (trim && b->len > 0 && b->p[b->len - 1] == '.')
    b->p[--b->len] = '\0';
  return 0;
}

/* Render ticks with a .NET date format (every value is UTC: K is "Z", zzz "+00:00").
 * 0, -1 when the format is malformed, -2 when the text outgrows the buffer's cap. */
static int dt_format(buf *b, int64_t ticks, const char *fmt, size_t fn)
{
  int y, mo, d, h, mi, s, k, rc;
  int64_t frac;
  fmt_iter it = {0};
  fmt_tok t;

  it.p = resolve_format(fmt, &fn);
  it.n = fn;
  if (!it.p)
    return -1;
  mvs_dt_to_fields(ticks, &y, &mo, &d, &h, &mi, &s, &frac);
  while ((k = fmt_next(&it, &t)) > 0) {
    int w = t.count < 2 ? t.count : 2; /* numeric fields other than y never pad wider */
    switch (t.spec) {
    case 'd':
      rc = t.count <= 2 ? put_num(b, d, t.count)
                        : put_text(b, day_names[day_of_week(ticks)],
                                   t.count == 3 ? 3 : strlen(day_names[day_of_week(ticks)]));
      break;
    case 'M':
      rc = t.count <= 2 ? put_num(b, mo, t.count)
                        : put_text(b, month_names[mo - 1],
                                   t.count == 3 ? 3 : strlen(month_names[mo - 1]));
      break;
    case 'y': rc = put_num(b, t.count <= 2 ? y % 100 : y, t.count); break;
    case 'h': rc = put_num(b, h % 12 ? h % 12 : 12, w); break;
    case 'H': rc = put_num(b, h, w); break;
    case 'm': rc = put_num(b, mi, w); break;
    case 's': rc = put_num(b, s, w); break;
    case 'f':
    case 'F': rc = put_fraction(b, frac, t.count, t.spec == 'F'); break;
    case 't': rc = put_text(b, h < 12 ? "AM" : "PM", t.count == 1 ? 1 : 2); break;
    case 'z': rc = put_text(b, "+00:00", t.count == 1 ? 2 : t.count == 2 ? 3 : 6); break;
    case 'K': rc = put_text(b, "Z", 1); break;
    case 'g': rc = put_text(b, "A.D.", 4); break;
    case ':':
    case '/': rc = put_text(b, &t.spec, 1); break;
    default: rc = put_text(b, &t.lit, 1); break;
    }
    if (rc)
      return rc;
  }
  return k;
}

/* ---- parsing ---- */

typedef struct dt_fields {
  int y, mo, d, h, mi, s, dow; /* -1 until parsed */
  int ampm;                    /* -1 unset, 0 AM, 1 PM */
  int64_t frac;                /* ticks */
  int hour12, two_digit_year, has_tz;
  int tz_min;                  /* offset east of UTC, in minutes */
} dt_fields;

static const dt_fields fields_unset = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0};

/* A field given twice must agree (.NET's CheckNewValue). */
static int set_field(int *field, int v)
{
  if (*field >= 0 && *field != v)
    return -1;
  *field = v;
  return 0;
}

static int set_zone(dt_fields *f, int minutes)
{
  if (f->has_tz && f->tz_min != minutes)
    return -1;
  f->has_tz = 1;
  f->tz_min = minutes;
  return 0;
}

/* Read min..max (<= 9) digits at s[*i]. */
static int read_digits(const char *s, size_t n, size_t *i, int min, int max, int *out)
{
  int v = 0, k = 0;
  while (k < max && *i < n && is_digit(s[*i])) {
    v = v * 10 + (s[*i] - '0');
    (*i)++;
    k++;
  }
  if (k < min)
    return -1;
  *out = v;
  return 0;
}

/* Up to max digits of a seconds fraction, as ticks; *digits says how many were read. */
static int64_t read_fraction(const char *s, size_t n, size_t *i, int max, int *digits)
{
  int64_t v = 0;
  int k;
  for (k = 0; k < max && *i < n && is_digit(s[*i]); k++, (*i)++)
    v = v * 10 + (s[*i] - '0');
  *digits = k;
  for (; k < 7; k++)
    v *= 10;
  return v;
}

/* A zone offset "[+-]h[h][[:]mm]" in minutes.  len is the 'z' token length as .NET reads it:
 * 1 or 2 give hours only, 3 wants minutes too; 0 (CDate) takes minutes when present. */
static int read_offset(const char *s, size_t n, size_t *i, int len, int *minutes)
{
  int neg, hh, mm = 0;
  if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
    return -1;
  neg = s[(*i)++] == '-';
  if (read_digits(s, n, i, len == 2 ? 2 : 1, 2, &hh))
    return -1;
  if (len == 0 || len >= 3) {
    int colon = *i < n && s[*i] == ':';
    *i += colon;
    if ((len >= 3 || colon || (*i < n && is_digit(s[*i]))) &&
        read_digits(s, n, i, 2, 2, &mm))
      return -1;
  }
  if (hh > 14 || mm > 59)
    return -1;
  *minutes = (neg ? -1 : 1) * (hh * 60 + mm);
  return 0;
}

/* "AM"/"PM" (or "A"/"P" when one_char), any case: 0 for AM, 1 for PM, -1. */
static int read_ampm(const char *s, size_t n, size_t *i, int one_char)
{
  char ch = *i < n ? lower(s[*i]) : '\0';
  if (ch != 'a' && ch != 'p')
    return -1;
  if (!one_char && (*i + 1 >= n || lower(s[*i + 1]) != 'm'))
    return -1;
  *i += one_char ? 1 : 2;
  return ch == 'p';
}

/* Fill in what the text did not say and build the UTC ticks, as .NET's ParseExact does:
 * no date at all means today (or 0001-01-01 with NoCurrentDateDefault), a missing year the
 * current one, a missing month or day 1; "h" without "tt" is a morning hour. */
static int dt_assemble(dt_fields *f, int64_t now, int today, int64_t *out)
{
  int ny, nmo, nd, h, x;
  int64_t t, xf;

  if (f->y < 0 || f->mo < 0 || f->d < 0) {
    mvs_dt_to_fields(now, &ny, &nmo, &nd, &x, &x, &x, &xf);
    if (f->y < 0 && f->mo < 0 && f->d < 0) {
      f->y = today ? ny : 1;
      f->mo = today ? nmo : 1;
      f->d = today ? nd : 1;
    }
    f->y = f->y < 0 ? ny : f->y;
    f->mo = f->mo < 0 ? 1 : f->mo;
    f->d = f->d < 0 ? 1 : f->d;
  }
  if (f->two_digit_year && f->y < 100) /* .NET's TwoDigitYearMax is 2049 */
    f->y += f->y <= 49 ? 2000 : 1900;
  if (f->hour12 && f->ampm < 0)
    f->ampm = 0;
  h = f->h < 0 ? 0 : f->h;
  if (f->ampm == 0) {
    if (h > 12)
      return -1;
    h %= 12;
  } else if (f->ampm == 1 && h < 12) {
    h += 12;
  }
  if (mvs_dt_from_fields(f->y, f->mo, f->d, h, f->mi < 0 ? 0 : f->mi, f->s < 0 ? 0 : f->s,
                         f->frac, &t) != 0)
    return -1;
  if (f->dow >= 0 && day_of_week(t) != f->dow)
    return -1;
  t -= (int64_t)f->tz_min * 60 * MVS_TICKS_PER_SEC;
  if (t < 0 || t > MVS_TICKS_MAX)
    return -1;
  *out = t;
  return 0;
}

/* Match one format token at s[*i] (.NET's ParseByFormat); `it` is passed so that a '.'
 * missing before an optional "F" fraction can skip it. */
static int parse_token(const char *s, size_t n, size_t *i, const fmt_tok *t, fmt_iter *it,
                       dt_fields *f)
{
  int v, c = t->count, digits;
  int64_t frac;
  fmt_iter peek;
  fmt_tok next;

  switch (t->spec) {
  case 'y':
    if (c > 9)
      return -1;
    f->two_digit_year |= c <= 2;
    return read_digits(s, n, i, c, c == 1 ? 2 : c, &v) || set_field(&f->y, v) ? -1 : 0;
  case 'M':
    if (c <= 2)
      return read_digits(s, n, i, c, 2, &v) || set_field(&f->mo, v) ? -1 : 0;
    v = match_name(s, n, i, month_names, 12, c == 3 ? NAME_ABBR : NAME_FULL);
    return v < 0 || set_field(&f->mo, v + 1) ? -1 : 0;
  case 'd':
    if (c <= 2)
      return read_digits(s, n, i, c, 2, &v) || set_field(&f->d, v) ? -1 : 0;
    v = match_name(s, n, i, day_names, 7, c == 3 ? NAME_ABBR : NAME_FULL);
    return v < 0 || set_field(&f->dow, v) ? -1 : 0;
  case 'h':
  case 'H':
    f->hour12 |= t->spec == 'h';
    return read_digits(s, n, i, c < 2 ? 1 : 2, 2, &v) || set_field(&f->h, v) ? -1 : 0;
  case 'm': return read_digits(s, n, i, c < 2 ? 1 : 2, 2, &v) || set_field(&f->mi, v) ? -1 : 0;
  case 's': return read_digits(s, n, i, c < 2 ? 1 : 2, 2, &v) || set_field(&f->s, v) ? -1 : 0;
  case 'f':
  case 'F':
    if (c > 7)
      return -1;
    frac = read_fraction(s, n, i, c, &digits);
    if ((t->spec == 'f' && digits != c) || (f->frac && f->frac != frac))
      return -1;
    f->frac = frac;
    return 0;
  case 't':
    v = read_ampm(s, n, i, c == 1);
    return v < 0 || set_field(&f->ampm, v) ? -1 : 0;
  case 'z': return read_offset(s, n, i, c < 3 ? c : 3, &v) || set_zone(f, v) ? -1 : 0;
  case 'K': /* "Z", an offset, or nothing */
    if (*i < n && s[*i] == 'Z') {
      (*i)++;
      return set_zone(f, 0);
    }
    if (*i < n && (s[*i] == '+' || s[*i] == '-'))
      return read_offset(s, n, i, 3, &v) || set_zone(f, v) ? -1 : 0;
    return 0;
  case 'g':
    v = has_word(s, n, *i, "A.D.", 4) ? 4 : has_word(s, n, *i, "AD", 2) ? 2 : 0;
    *i += (size_t)v;
    return v ? 0 : -1;
  default: {
    char want = t->spec ? t->spec : t->lit;
    if (*i < n && s[*i] == want) {
      (*i)++;
      return 0;
    }
    peek = *it;
    if (want == '.' && fmt_next(&peek, &next) > 0 && next.spec == 'F') {
      *it = peek;
      return 0;
    }
    return -1;
  }
  }
}

/* DateTimeStyles bits that change parsing here (every value is UTC, so the kind and zone
 * adjustment styles are accepted and change nothing). */
enum { DTS_LEAD = 1, DTS_TRAIL = 2, DTS_INNER = 4, DTS_NO_TODAY = 8 };

/* DateTime.ParseExact: 0, -1 when s does not match, -2 when the format is malformed. */
static int dt_parse_exact(const char *s, size_t n, const char *fmt, size_t fn,
                          unsigned styles, int64_t now, int64_t *out)
{
  dt_fields f = fields_unset;
  fmt_iter it = {0};
  fmt_tok t;
  size_t i = 0;
  int k;

  if (fn == 0) /* ParseExact has no default format */
    return -2;
  fmt = resolve_format(fmt, &fn);
  if (!fmt)
    return -2;
  if (styles & DTS_TRAIL) {
    while (n > 0 && is_space(s[n - 1]))
      n--;
    while (fn > 0 && fmt[fn - 1] == ' ')
      fn--;
  }
  if (styles & DTS_LEAD) {
    skip_space(s, n, &i);
    while (it.i < fn && fmt[it.i] == ' ')
      it.i++;
  }
  it.p = fmt;
  it.n = fn;
  while ((k = fmt_next(&it, &t)) > 0) {
    if (styles & DTS_INNER) {
      skip_space(s, n, &i);
      if (!t.spec && t.lit == ' ')
        continue;
    }
    if (parse_token(s, n, &i, &t, &it, &f) != 0) {
      /* a malformed rest of the format is still a format error, not a mismatch */
      while ((k = fmt_next(&it, &t)) > 0)
        ;
      return k < 0 ? -2 : -1;
    }
  }
  if (k < 0)
    return -2;
  return i == n && dt_assemble(&f, now, !(styles & DTS_NO_TODAY), out) == 0 ? 0 : -1;
}

/* Time of day after a date: H[:m[m][:ss[.fffffff]]] and an optional AM/PM; a bare hour
 * needs the designator ("4 PM"). */
static int read_time(const char *s, size_t n, size_t *i, dt_fields *f)
{
  size_t save;
  int digits, has_min = 0, pm;

  if (read_digits(s, n, i, 1, 2, &f->h))
    return -1;
  if (*i < n && s[*i] == ':') {
    (*i)++;
    has_min = 1;
    if (read_digits(s, n, i, 1, 2, &f->mi))
      return -1;
    if (*i < n && s[*i] == ':') {
      (*i)++;
      if (read_digits(s, n, i, 1, 2, &f->s))
        return -1;
      if (*i < n && s[*i] == '.') {
        (*i)++;
        f->frac = read_fraction(s, n, i, 7, &digits);
        if (digits == 0)
          return -1;
        while (*i < n && is_digit(s[*i])) /* beyond 100 ns */
          (*i)++;
      }
    }
  }
  save = *i;
  skip_space(s, n, i);
  pm = read_ampm(s, n, i, 0);
  if (pm >= 0) {
    f->ampm = pm;
    return 0;
  }
  *i = save;
  return has_min ? 0 : -1;
}

/* The date part of CDate text; see dt_parse_loose. */
static int read_date(const char *s, size_t n, size_t *i, dt_fields *f)
{
  size_t run = 0, run2;
  int a, b, m;
  char sep;

  if (*i < n && is_alpha(s[*i])) { /* "Jan 1, 2012" */
    if ((m = match_name(s, n, i, month_names, 12, NAME_ANY)) < 0)
      return -1;
    f->mo = m + 1;
    skip_space(s, n, i);
    if (read_digits(s, n, i, 1, 2, &f->d))
      return -1;
    *i += *i < n && s[*i] == ',';
    skip_space(s, n, i);
    return read_digits(s, n, i, 4, 4, &f->y);
  }
  while (*i + run < n && is_digit(s[*i + run]))
    run++;
  if (run == 8 || run == 14) { /* yyyyMMdd, or AD generalized time yyyyMMddHHmmss */
    read_digits(s, n, i, 4, 4, &f->y);
    read_digits(s, n, i, 2, 2, &f->mo);
    read_digits(s, n, i, 2, 2, &f->d);
    if (run == 14) {
      read_digits(s, n, i, 2, 2, &f->h);
      read_digits(s, n, i, 2, 2, &f->mi);
      read_digits(s, n, i, 2, 2, &f->s);
      if (*i < n && s[*i] == '.') {
        (*i)++;
        f->frac = read_fraction(s, n, i, 7, &a);
        while (*i < n && is_digit(s[*i]))
          (*i)++;
      }
    }
    return 0;
  }
  if (run < 1 || run > 4 || read_digits(s, n, i, 1, 4, &a))
    return -1;
  if (*i < n && (s[*i] == '-' || s[*i] == '/' || s[*i] == '.')) {
    sep = s[(*i)++];
    if (read_digits(s, n, i, 1, 2, &b) || *i >= n || s[(*i)++] != sep)
      return -1;
    for (run2 = 0; *i + run2 < n && is_digit(s[*i + run2]); run2++)
      ;
    if (run >= 3) { /* yyyy-M-d */
      f->y = a;
      f->mo = b;
      return run2 > 2 ? -1 : read_digits(s, n, i, 1, 2, &f->d);
    }
    f->mo = a; /* M/d/yyyy, the en-US order */
    f->d = b;
    f->two_digit_year = run2 <= 2;
    return run2 > 4 ? -1 : read_digits(s, n, i, 1, 4, &f->y);
  }
  if (run > 2 || *i >= n || !is_space(s[*i])) /* "01 Jan 2012" */
    return -1;
  f->d = a;
  skip_space(s, n, i);
  if ((m = match_name(s, n, i, month_names, 12, NAME_ANY)) < 0)
    return -1;
  f->mo = m + 1;
  skip_space(s, n, i);
  return read_digits(s, n, i, 4, 4, &f->y);
}

/* CDate's text forms — those of .NET's DateTime.Parse under en-US that directory data uses:
 * ISO 8601 ("2024-01-31", "2024-01-31T10:00:00.5Z", "2020-03-16-07:00"), US "M/d/yyyy
 * h:mm:ss tt", "d MMM yyyy" and "MMM d, yyyy" with an optional weekday in front, AD
 * generalized time ("20150123105347.0Z"), then "Z", "GMT", "UTC" or an offset ("-8",
 * "+05:30").  Text without a zone is UTC (a server's local zone never matters here). */
static int dt_parse_loose(const char *s, size_t n, int64_t *out)
{
  dt_fields f = fields_unset;
  size_t i = 0, save;
  int v;

  skip_space(s, n, &i);
  if (match_name(s, n, &i, day_names, 7, NAME_ANY) >= 0) { /* "Sun, 01 Jan 2012" */
    i += i < n && s[i] == ',';
    skip_space(s, n, &i);
  }
  if (read_date(s, n, &i, &f))
    return -1;
  save = i;
  if (i < n && (s[i] == 'T' || s[i] == 't'))
    i++;
  else
    skip_space(s, n, &i);
  if (f.h < 0 && i > save && i < n && is_digit(s[i])) {
    if (read_time(s, n, &i, &f))
      return -1;
  } else {
    i = save;
  }
  skip_space(s, n, &i);
  if (i < n && s[i] == 'Z') {
    i++;
    f.has_tz = 1;
  } else if (has_word(s, n, i, "GMT", 3) || has_word(s, n, i, "UTC", 3)) {
    i += 3;
    f.has_tz = 1;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    if (read_offset(s, n, &i, 0, &v))
      return -1;
    set_zone(&f, v);
  }
  skip_space(s, n, &i);
  return i == n ? dt_assemble(&f, 0, 1, out) : -1;
}

/* ---- helpers shared by the function bodies ---- */

/* Format into the arena; see dt_format. */
static int ret_formatted(expr_call *c, int64_t ticks, const char *fmt, size_t fn,
                         mvs_value *out)
{
  buf b;
  int rc;

  buf_init(&b, DATE_TEXT_MAX);
  switch (dt_format(&b, ticks, fmt, fn)) {
  case 0: rc = expr_ret_str(c, b.p ? b.p : "", b.len, out); break;
  case -1: rc = expr_fail(c, "invalid date format \"%.*s\"", fd_clip(fmt, fn), fmt); break;
  default: rc = expr_nomem(c); break;
  }
  buf_free(&b);
  return rc;
}

/* Return a datetime the dialect's way: Connect has a datetime type; Cloud Sync returns the
 * text "M/d/yyyy h:mm:ss tt" (the documented output of its CDate, DateAdd and Now). */
static int ret_date(expr_call *c, int64_t ticks, mvs_value *out)
{
  if (expr_call_dialect(c) == EXPR_CONNECT) {
    *out = mvs_dt(ticks);
    return EXPR_OK;
  }
  return ret_formatted(c, ticks, "G", 1, out);
}

/* Argument i as a datetime.  Connect is strongly typed and wants a datetime; Cloud Sync
 * passes dates around as text, so there a string is read as CDate reads it. */
static int arg_date(expr_call *c, const mvs_value *args, size_t i, int64_t *out)
{
  mvs_value v = args[i];
  if (v.type == MVS_V_DT) {
    *out = v.u.dt;
    return EXPR_OK;
  }
  if (v.type != MVS_V_STR || expr_call_dialect(c) != EXPR_CLOUD)
    return fd_type_error(c, args, i, MVS_V_DT);
  if (dt_parse_loose(v.u.s.p, v.u.s.n, out) != 0)
    return expr_fail(c, "argument %zu is not a date: \"%.*s\"", i + 1,
                     fd_clip(v.u.s.p, v.u.s.n), v.u.s.p);
  return EXPR_OK;
}

/* VBA interval names (DateAdd and DateDiff read them case-insensitively). */
enum { IV_YEAR, IV_QUARTER, IV_MONTH, IV_DAYOFYEAR, IV_DAY, IV_WEEKDAY, IV_WEEK, IV_HOUR,
       IV_MINUTE, IV_SECOND };

static int arg_interval(expr_call *c, const mvs_value *args, size_t i, int *out)
{
  static const char *const names[] = {"yyyy", "q", "m", "y", "d", "w", "ww", "h", "n", "s"};
  const char *p;
  size_t n;
  int rc, k;

  if ((rc = expr_arg_str(c, args, i, &p, &n)) != EXPR_OK)
    return rc;
  for (k = 0; k < (int)(sizeof names / sizeof names[0]); k++)
    if (strlen(names[k]) == n && has_word(p, n, 0, names[k], n)) {
      *out = k;
      return EXPR_OK;
    }
  return expr_fail(c, "unknown interval \"%.*s\" (use yyyy, q, m, y, d, w, ww, h, n or s)",
                   fd_clip(p, n), p);
}

/* .NET AddMonths: the day is clamped to the target month's length (Jan 31 + 1 month is the
 * last day of February); at most 120000 months either way. */
static int add_months(int64_t t, int64_t months, int64_t *out)
{
  int y, mo, d, h, mi, s;
  int64_t frac, total;

  if (months < -120000 || months > 120000)
    return -1;
  mvs_dt_to_fields(t, &y, &mo, &d, &h, &mi, &s, &frac);
  total = (int64_t)y * 12 + (mo - 1) + months;
  if (total < 12 || total >= 10000 * 12)
    return -1;
  y = (int)(total / 12);
  mo = (int)(total % 12) + 1;
  if (d > days_in_month(y, mo))
    d = days_in_month(y, mo);
  return mvs_dt_from_fields(y, mo, d, h, mi, s, frac, out);
}

static int add_ticks(int64_t t, int64_t units, int64_t unit, int64_t *out)
{
  int64_t delta;
  if (__builtin_mul_overflow(units, unit, &delta) || __builtin_add_overflow(t, delta, out))
    return -1;
  return *out < 0 || *out > MVS_TICKS_MAX ? -1 : 0;
}

static int date_add(int iv, int64_t t, int64_t num, int64_t *out)
{
  switch (iv) {
  case IV_YEAR: return num < -10000 || num > 10000 ? -1 : add_months(t, num * 12, out);
  case IV_QUARTER: return num < -40000 || num > 40000 ? -1 : add_months(t, num * 3, out);
  case IV_MONTH: return add_months(t, num, out);
  case IV_WEEK: return add_ticks(t, num, 7 * MVS_TICKS_PER_DAY, out);
  case IV_HOUR: return add_ticks(t, num, 3600 * MVS_TICKS_PER_SEC, out);
  case IV_MINUTE: return add_ticks(t, num, 60 * MVS_TICKS_PER_SEC, out);
  case IV_SECOND: return add_ticks(t, num, MVS_TICKS_PER_SEC, out);
  default: return add_ticks(t, num, MVS_TICKS_PER_DAY, out); /* d, y and w all add days */
  }
}

/* Microsoft.VisualBasic DateDiff: calendar intervals count boundaries crossed, time
 * intervals truncate toward zero, "ww" counts Sundays crossed. */
static int64_t date_diff(int iv, int64_t t1, int64_t t2)
{
  int y1, mo1, y2, mo2, x;
  int64_t frac, span = t2 - t1; /* both in range: cannot overflow */

  mvs_dt_to_fields(t1, &y1, &mo1, &x, &x, &x, &x, &frac);
  mvs_dt_to_fields(t2, &y2, &mo2, &x, &x, &x, &x, &frac);
  switch (iv) {
  case IV_YEAR: return y2 - y1;
  case IV_QUARTER: return (y2 - y1) * 4 + (mo2 - 1) / 3 - (mo1 - 1) / 3;
  case IV_MONTH: return (int64_t)(y2 - y1) * 12 + mo2 - mo1;
  case IV_WEEKDAY: return span / MVS_TICKS_PER_DAY / 7;
  case IV_WEEK:
    span -= (int64_t)(day_of_week(t2) - day_of_week(t1)) * MVS_TICKS_PER_DAY;
    return span / MVS_TICKS_PER_DAY / 7;
  case IV_HOUR: return span / (3600 * MVS_TICKS_PER_SEC);
  case IV_MINUTE: return span / (60 * MVS_TICKS_PER_SEC);
  case IV_SECOND: return span / MVS_TICKS_PER_SEC;
  default: return span / MVS_TICKS_PER_DAY;
  }
}

/* DateTimeStyles names, comma- or '|'-separated, with or without "DateTimeStyles.". */
static int parse_styles(const char *p, size_t n, unsigned *out)
{
  static const struct { const char *name; unsigned bits; } styles[] = {
      {"None", 0}, {"AllowLeadingWhite", DTS_LEAD}, {"AllowTrailingWhite", DTS_TRAIL},
      {"AllowInnerWhite", DTS_INNER}, {"AllowWhiteSpaces", DTS_LEAD | DTS_TRAIL | DTS_INNER},
      {"NoCurrentDateDefault", DTS_NO_TODAY}, {"AdjustToUniversal", 0},
      {"AssumeLocal", 0}, {"AssumeUniversal", 0}, {"RoundtripKind", 0}};
  size_t i = 0, k;

  *out = 0;
  while (i < n) {
    size_t start, end;
    skip_space(p, n, &i);
    if (has_word(p, n, i, "DateTimeStyles.", 15))
      i += 15;
    start = i;
    while (i < n && p[i] != ',' && p[i] != '|')
      i++;
    end = i++;
    while (end > start && is_space(p[end - 1]))
      end--;
    for (k = 0; k < sizeof styles / sizeof styles[0]; k++)
      if (strlen(styles[k].name) == end - start &&
          has_word(p, end, start, styles[k].name, end - start))
        break;
    if (k == sizeof styles / sizeof styles[0])
      return -1;
    *out |= styles[k].bits;
  }
  return 0;
}

/* ---- function bodies ---- */

/* CDate(str): NULL stays NULL (an absent attribute does not flow). */
int fd_cdate(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t t;
  (void)n;
  if (mvs_is_null(args[0])) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if (args[0].type == MVS_V_DT)
    return ret_date(c, args[0].u.dt, out);
  if (args[0].type != MVS_V_STR)
    return fd_type_error(c, args, 0, MVS_V_STR);
  if (dt_parse_loose(args[0].u.s.p, args[0].u.s.n, &t) != 0)
    return expr_fail(c, "\"%.*s\" is not a date", fd_clip(args[0].u.s.p, args[0].u.s.n),
                     args[0].u.s.p);
  return ret_date(c, t, out);
}

static bool is_date_value(mvs_value v)
{
  int64_t t;
  return v.type == MVS_V_DT ||
         (v.type == MVS_V_STR && dt_parse_loose(v.u.s.p, v.u.s.n, &t) == 0);
}

/* IsDate(var): every value is a datetime or text CDate accepts (False for NULL). */
int fd_isdate(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)c;
  (void)n;
  *out = mvs_bool(fd_all_values(args[0], is_date_value));
  return EXPR_OK;
}

/* DateAdd(interval, num, dt): a NULL date gives NULL; leaving 0001..9999 is an error. */
int fd_dateadd(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t num, t, r;
  int iv, rc;
  (void)n;
  if (mvs_is_null(args[2])) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if ((rc = arg_interval(c, args, 0, &iv)) || (rc = expr_arg_num(c, args, 1, &num)) ||
      (rc = arg_date(c, args, 2, &t)))
    return rc;
  if (date_add(iv, t, num, &r) != 0)
    return expr_fail(c, "the result is outside the dates 0001-01-01 to 9999-12-31");
  return ret_date(c, r, out);
}

/* DateDiff(interval, dt1, dt2) (Cloud): positive when dt2 is later; NULL when either is. */
int fd_datediff(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t t1, t2;
  int iv, rc;
  (void)n;
  if (mvs_is_null(args[1]) || mvs_is_null(args[2])) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if ((rc = arg_interval(c, args, 0, &iv)) || (rc = arg_date(c, args, 1, &t1)) ||
      (rc = arg_date(c, args, 2, &t2)))
    return rc;
  *out = mvs_num(date_diff(iv, t1, t2));
  return EXPR_OK;
}

/* DateFromNum(num): AD FILETIME (100 ns since 1601-01-01 UTC) to a datetime, like .NET's
 * DateTime.FromFileTimeUtc: negative values and values past 9999 (such as accountExpires'
 * "never", 0x7FFFFFFFFFFFFFFF) are errors. */
int fd_datefromnum(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t v;
  int rc;
  (void)n;
  if (mvs_is_null(args[0])) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if ((rc = expr_arg_num(c, args, 0, &v)) != EXPR_OK)
    return rc;
  if (v < 0 || v > MVS_TICKS_MAX - FILETIME_EPOCH)
    return expr_fail(c, "%lld is not an AD date (0 to %lld)", (long long)v,
                     (long long)(MVS_TICKS_MAX - FILETIME_EPOCH));
  return ret_date(c, v + FILETIME_EPOCH, out);
}

/* NumFromDate(dt): the inverse of DateFromNum; dates before 1601 are an error. */
int fd_numfromdate(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  int64_t t;
  int rc;
  (void)n;
  if (mvs_is_null(args[0])) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if ((rc = arg_date(c, args, 0, &t)) != EXPR_OK)
    return rc;
  if (t < FILETIME_EPOCH)
    return expr_fail(c, "dates before 1601-01-01 have no AD form");
  *out = mvs_num(t - FILETIME_EPOCH);
  return EXPR_OK;
}

/* Now(): the time the caller put in the environment. */
int fd_now(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  (void)args;
  (void)n;
  return ret_date(c, expr_call_now(c), out);
}

/* Connect FormatDateTime(dt, format). */
int fd_formatdatetime_connect(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const char *fmt;
  size_t fn;
  int64_t t;
  int rc;
  (void)n;
  if (mvs_is_null(args[0])) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if ((rc = arg_date(c, args, 0, &t)) || (rc = expr_arg_str(c, args, 1, &fmt, &fn)))
    return rc;
  return ret_formatted(c, t, fmt, fn, out);
}

/* Cloud FormatDateTime(source, [dateTimeStyles,] inputFormat, outputFormat): parse source
 * with DateTime.ParseExact(inputFormat), render with outputFormat.  The styles default to
 * RoundtripKind, AllowLeadingWhite, AllowTrailingWhite as documented. */
int fd_formatdatetime_cloud(expr_call *c, const mvs_value *args, size_t n, mvs_value *out)
{
  const mvs_value *src = &args[0], *style = n == 4 ? &args[1] : NULL;
  const char *in, *outf;
  size_t inn, outn;
  unsigned styles = DTS_LEAD | DTS_TRAIL;
  int64_t t;
  int rc;

  if (mvs_is_null(*src)) {
    *out = mvs_null();
    return EXPR_OK;
  }
  if ((rc = expr_arg_str(c, args, n - 2, &in, &inn)) ||
      (rc = expr_arg_str(c, args, n - 1, &outf, &outn)))
    return rc;
  if (style && !mvs_is_null(*style) && !(style->type == MVS_V_STR && style->u.s.n == 0)) {
    if (style->type != MVS_V_STR)
      return fd_type_error(c, args, 1, MVS_V_STR);
    if (parse_styles(style->u.s.p, style->u.s.n, &styles) != 0)
      return expr_fail(c, "unknown DateTimeStyles \"%.*s\"",
                       fd_clip(style->u.s.p, style->u.s.n), style->u.s.p);
  }
  if (src->type == MVS_V_DT) {
    t = src->u.dt;
  } else if (src->type != MVS_V_STR) {
    return fd_type_error(c, args, 0, MVS_V_STR);
  } else {
    rc = dt_parse_exact(src->u.s.p, src->u.s.n, in, inn, styles, expr_call_now(c), &t);
    if (rc == -2)
      return expr_fail(c, "invalid date format \"%.*s\"", fd_clip(in, inn), in);
    if (rc != 0)
      return expr_fail(c, "\"%.*s\" does not match the date format \"%.*s\"",
                       fd_clip(src->u.s.p, src->u.s.n), src->u.s.p, fd_clip(in, inn), in);
  }
  return ret_formatted(c, t, outf, outn, out);
}
