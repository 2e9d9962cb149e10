/* fuzz_rules — libFuzzer target for the rule DSL: parse, check, and for inputs that parse,
 * format and re-parse (the formatter's output must parse and format to itself).
 * Memory: everything is freed per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse src into a fresh set; returns the set (caller frees) and whether it was clean. */
static rule_set *parse(const char *src, size_t len, int *clean)
{
  rule_set *rs = rule_set_new();
  rule_diags d;
  rule_date today = {2026, 11, 21};

  rule_diags_init(&d);
  *clean = 0;
  if (rs && rule_set_parse(rs, "fuzz.rules", src, len, &d) == RULE_OK &&
      rule_set_check(rs, today, &d) == RULE_OK)
    *clean = 1;
  if (rs && d.n) {
    buf out;
    buf_init(&out, 0);
    rule_diags_sort(&d);
    rule_diags_format(&d, &out);
    buf_free(&out);
  }
  rule_diags_free(&d);
  return rs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int clean, clean2;
  rule_set *rs = parse((const char *)data, size, &clean), *rs2;
  buf once, twice, json;

  if (!rs)
    return 0;
  if (!clean) {
    rule_set_free(rs);
    return 0;
  }
  buf_init(&once, 0);
  buf_init(&twice, 0);
  buf_init(&json, 0);
  if (rule_fmt_file(rs, 0, &once) != RULE_OK || rule_set_to_json(rs, 0, &json) != RULE_OK)
    abort();
  rs2 = parse(once.p ? once.p : "", once.len, &clean2);
  if (!rs2 || !clean2 || rule_fmt_file(rs2, 0, &twice) != RULE_OK)
    abort();
  if (once.len != twice.len || memcmp(once.p, twice.p, once.len) != 0)
    abort(); /* formatting formatted output must change nothing */
  rule_set_free(rs2);
  rule_set_free(rs);
  buf_free(&once);
  buf_free(&twice);
  buf_free(&json);
  return 0;
}
