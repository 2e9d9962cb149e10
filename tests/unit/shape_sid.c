/* shape_sid — SIDs between their binary form (what AD stores in objectSid) and "S-1-…" text,
 * as a table, plus the conversion shape_convert does for the SID syntax.  Memory: one arena,
 * freed at the end. */
#include <stdio.h>
#include <string.h>

#include "connectors/shape.h"

typedef struct sid_case {
  const char *hex;  /* binary SID in hex; NULL: the text is not a SID */
  const char *text;
} sid_case;

static const sid_case cases[] = {
    {"010500000000000515000000dcf4dc3b833d2b46828ba6284d040000",
     "S-1-5-21-1004336348-1177238915-682003330-1101"},
    {"010100000000000512000000", "S-1-5-18"},                /* LocalSystem */
    {"010200000000000520000000ac020000", "S-1-5-32-684"},    /* a builtin alias */
    {"010000000000000000", NULL},                             /* wrong length */
    {"0101000000000001000000000000", NULL},                   /* wrong length */
    {"0105000000000005150000", NULL},                         /* truncated */
    {"020100000000000512000000", NULL},                       /* revision 2 */
    {"010000000000000f", "S-1-15"},                            /* no subauthority */
    {"0101ffffffffffff00000000", "S-1-281474976710655-0"},    /* 48-bit authority */
    {"0101000000000005ffffffff", "S-1-5-4294967295"},         /* 32-bit subauthority */
};

static const char *const bad_text[] = {
    "", "S-1", "S-1-", "S-2-5-18", "S-1-5-", "S-1-5--18", "S-1-5-4294967296", "S-1-5-x",
    "S-1-281474976710656", "s-1-5-18", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
};

static size_t unhex(const char *hex, unsigned char *out)
{
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++)
    sscanf(hex + 2 * i, "%2hhx", &out[i]);
  return n;
}

int main(void)
{
  int fails = 0;
  mvs_arena *a = mvs_arena_new(0);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    unsigned char bin[64], back[SHAPE_SID_BIN_MAX];
    char text[SHAPE_SID_TEXT_MAX];
    size_t n = unhex(cases[i].hex, bin), bn;
    int rc = shape_sid_format(bin, n, text);
    mvs_value out;
    const char *why;
    if (!cases[i].text) {
      if (rc == 0) {
        printf("FAIL format %s: got %s, want an error\n", cases[i].hex, text);
        fails++;
      }
      /* Bytes that are no SID stay bytes under the SID syntax. */
      if (shape_convert(SYN_SID, mvs_bin_ref(bin, n), false, a, &out, &why) != 0 ||
          out.type != MVS_V_BIN) {
        printf("FAIL convert %s: not kept as bytes\n", cases[i].hex);
        fails++;
      }
      continue;
    }
    if (rc != 0 || strcmp(text, cases[i].text) != 0) {
      printf("FAIL format %s: got %s, want %s\n", cases[i].hex, rc ? "an error" : text,
             cases[i].text);
      fails++;
    }
    if (shape_sid_parse(cases[i].text, strlen(cases[i].text), back, &bn) != 0 || bn != n ||
        memcmp(back, bin, n) != 0) {
      printf("FAIL parse %s: not the bytes %s\n", cases[i].text, cases[i].hex);
      fails++;
    }
    if (shape_convert(SYN_SID, mvs_bin_ref(bin, n), false, a, &out, &why) != 0 ||
        out.type != MVS_V_STR || strcmp(out.u.s.p, cases[i].text) != 0) {
      printf("FAIL convert %s: not the text %s\n", cases[i].hex, cases[i].text);
      fails++;
    }
  }
  for (size_t i = 0; i < sizeof bad_text / sizeof *bad_text; i++) {
    unsigned char back[SHAPE_SID_BIN_MAX];
    size_t bn;
    if (shape_sid_parse(bad_text[i], strlen(bad_text[i]), back, &bn) == 0) {
      printf("FAIL parse \"%s\": accepted\n", bad_text[i]);
      fails++;
    }
  }
  mvs_arena_free(a);
  printf("%zu SIDs, %zu bad texts, %d failures\n", sizeof cases / sizeof *cases,
         sizeof bad_text / sizeof *bad_text, fails);
  return fails != 0;
}
