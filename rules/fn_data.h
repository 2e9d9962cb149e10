/* fn_data — private interface between fn_data.c (conversion, tests, math, multi-valued and
 * flow functions, and the exported table) and fn_date.c (date/time functions).
 * Memory: as for every function body, results live in the evaluation arena. */
#ifndef MVS_FN_DATA_H
#define MVS_FN_DATA_H

#include "rules/expr_fn.h"
#include "schema/utf8.h"

/* How much of a user's text to quote in an error message (messages are 256 bytes): at
 * most 32 characters, cut on a character boundary. */
static inline int fd_clip(const char *p, size_t n) { return (int)utf8_offset(p, n, 32); }

/* Record "Name: argument I must be a T, got U" (I is 1-based; a string is quoted, as the
 * evaluator's own argument errors do) and return the error code. */
int fd_type_error(expr_call *c, const mvs_value *args, size_t i, mvs_vtype want);

/* True when v has at least one value and pred holds for each (NULL is never "all"). */
bool fd_all_values(mvs_value v, bool (*pred)(mvs_value));

/* Date/time function bodies (fn_date.c). */
int fd_cdate(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_dateadd(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_datediff(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_datefromnum(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_formatdatetime_connect(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_formatdatetime_cloud(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_now(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_numfromdate(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);
int fd_isdate(expr_call *c, const mvs_value *args, size_t n, mvs_value *out);

#endif
