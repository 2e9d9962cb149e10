/* fuzz_expr — libFuzzer target for the expression parser, printer and evaluator.
 * Input: byte 0 picks the dialect, the rest is expression text. Memory: freed per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mvs_value fuzz_attr(void *u, const char *name, size_t n)
{
  static const mvs_value mv_items[] = {
    {.type = MVS_V_STR, .u.s = {"SMTP:a@contoso.com", 18}},
    {.type = MVS_V_STR, .u.s = {"SIP:a@contoso.com", 17}},
    {.type = MVS_V_STR, .u.s = {"", 0}},
  };
  (void)u;
  if (n == 0)
    return mvs_null();
  switch (name[0] % 6) {
  case 0: return mvs_str_ref("Sales Team  ", 12);
  case 1: return mvs_num(514);
  case 2: return (mvs_value){.type = MVS_V_MV, .u.mv = {mv_items, 3}};
  case 3: return mvs_bin_ref("\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00", 12);
  case 4: return mvs_dt(INT64_C(638400000000000000));
  default: return mvs_null();
  }
}

static int fuzz_param(void *u, const char *name, size_t n, mvs_value *out)
{
  (void)u;
  (void)name;
  if (n % 2)
    return -1;
  *out = mvs_str_ref("CONTOSO", 7);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  expr *e = NULL, *again = NULL;
  expr_error err;
  mvs_arena *a;
  mvs_value out;
  expr_dialect d;
  char *text;

  if (size < 1)
    return 0;
  d = data[0] & 1 ? EXPR_CLOUD : EXPR_CONNECT;
  if (expr_parse((const char *)data + 1, size - 1, d, &e, &err) != EXPR_OK)
    return 0;
  /* The canonical text must parse again: the formatter relies on it. */
  text = expr_to_string(e);
  if (!text || expr_parse(text, strlen(text), d, &again, &err) != EXPR_OK)
    abort();
  free(text);
  expr_free(again);
  a = mvs_arena_new(8u << 20);
  if (a) {
    expr_env env = {.attr = fuzz_attr, .param = fuzz_param, .now = INT64_C(638400000000000000),
                    .seed = 7, .max_steps = 200000};
    expr_eval(e, &env, a, &out, &err);
    mvs_arena_free(a);
  }
  expr_free(e);
  return 0;
}
