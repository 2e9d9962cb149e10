/* value — typed attribute values shared by every layer: string, number, boolean, binary,
 * datetime, reference, multi-valued, and the special flow results NULL / AuthoritativeNull /
 * IgnoreThisFlow.  Memory: a value never owns its bytes; constructors copy into the arena
 * they are given, so a value lives exactly as long as that arena. */
#ifndef MVS_VALUE_H
#define MVS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"

typedef enum mvs_vtype {
  MVS_V_NULL = 0,   /* absent: no value */
  MVS_V_STR,        /* UTF-8 text in u.s */
  MVS_V_NUM,        /* 64-bit signed integer in u.num (Connect's num is Int64) */
  MVS_V_BOOL,       /* u.b */
  MVS_V_BIN,        /* bytes in u.s */
  MVS_V_DT,         /* u.dt: 100-ns ticks since 0001-01-01T00:00:00Z (.NET DateTime, UTC) */
  MVS_V_REF,        /* a reference (DN or anchor) in u.s */
  MVS_V_MV,         /* multi-valued: u.mv items are single values (never MV or special) */
  MVS_V_AUTHNULL,   /* AuthoritativeNull: forces the target empty */
  MVS_V_IGNORE      /* IgnoreThisFlow: contributes nothing, leaves the target alone */
} mvs_vtype;

typedef struct mvs_value mvs_value;
struct mvs_value {
  mvs_vtype type;
  union {
    struct { const char *p; size_t n; } s;        /* STR, BIN, REF; p is NUL-terminated */
    int64_t num;
    bool b;
    int64_t dt;
    struct { const mvs_value *items; size_t n; } mv;
  } u;
};

/* Constructors of single values; they cannot fail. */
mvs_value mvs_null(void);
mvs_value mvs_num(int64_t n);
mvs_value mvs_bool(bool b);
mvs_value mvs_dt(int64_t ticks);
mvs_value mvs_special(mvs_vtype t);                       /* AUTHNULL or IGNORE */
/* Wrap bytes that already live at least as long as the value (no copy). */
mvs_value mvs_str_ref(const char *p, size_t n);
mvs_value mvs_bin_ref(const void *p, size_t n);
/* Copy into the arena. Return 0, or -1 when the arena is full (out untouched). */
int mvs_str_copy(mvs_arena *a, const char *p, size_t n, mvs_value *out);
int mvs_bin_copy(mvs_arena *a, const void *p, size_t n, mvs_value *out);
int mvs_ref_copy(mvs_arena *a, const char *p, size_t n, mvs_value *out);
/* Build a multi-valued value from n values (copied into the arena).  Multi-valued items are
 * flattened, NULL and special items dropped; 0 items gives NULL; 1 item stays multi-valued. */
int mvs_mv_make(mvs_arena *a, const mvs_value *items, size_t n, mvs_value *out);

static inline bool mvs_is_null(mvs_value v) { return v.type == MVS_V_NULL; }
static inline bool mvs_is_special(mvs_value v)
{
  return v.type == MVS_V_AUTHNULL || v.type == MVS_V_IGNORE;
}
/* Number of values: 0 for NULL/special, n for MV, 1 otherwise. */
size_t mvs_count(mvs_value v);
/* The i-th value (0-based) of v seen as a list: v itself when single-valued. */
mvs_value mvs_item(mvs_value v, size_t i);

const char *mvs_type_name(mvs_vtype t);   /* "string", "number", ... */

/* Conversions used by functions and operators.  Each returns 0 on success, -1 when the
 * value cannot be converted (the caller reports a type error) and -2 when the arena is full.
 * mvs_to_str renders: numbers in decimal, booleans as "True"/"False" (as .NET does),
 * binary as lowercase hex, datetimes as "yyyy-MM-ddTHH:mm:ss.fffffffZ", refs as their text. */
int mvs_to_str(mvs_arena *a, mvs_value v, const char **p, size_t *n);
int mvs_to_num(mvs_value v, int64_t *out);   /* STR: optional sign + decimal digits, or &Hhex */
int mvs_to_bool(mvs_value v, bool *out);     /* STR: "true"/"false" any case; NUM: nonzero */
/* Value of one hexadecimal digit (either case), or -1. */
int mvs_hex_digit(char c);

/* Equality as Connect's "=" does it: numbers numerically, else as strings; `nocase`
 * compares strings ordinally ignoring case (Unicode simple case folding). */
bool mvs_equal(mvs_value a, mvs_value b, bool nocase);

/* Datetime helpers (proleptic Gregorian, UTC). */
#define MVS_TICKS_PER_SEC INT64_C(10000000)
#define MVS_TICKS_PER_DAY (INT64_C(86400) * MVS_TICKS_PER_SEC)
#define MVS_TICKS_MAX INT64_C(3155378975999999999) /* 9999-12-31T23:59:59.9999999 */
/* Build from calendar fields; -1 when a field is out of range. */
int mvs_dt_from_fields(int y, int mo, int d, int h, int mi, int s, int64_t frac_ticks,
                       int64_t *out);
void mvs_dt_to_fields(int64_t ticks, int *y, int *mo, int *d, int *h, int *mi, int *s,
                      int64_t *frac_ticks);
/* Parse ISO 8601 ("2024-01-31", "2024-01-31T10:00:00Z", with fraction / offset) -> 0 or -1. */
int mvs_dt_parse_iso(const char *p, size_t n, int64_t *out);
/* Render ISO 8601 UTC with 7 fraction digits and 'Z' into buf (>= 29 bytes). */
void mvs_dt_format_iso(int64_t ticks, char *out);

#endif
