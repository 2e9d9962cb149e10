/* ldap_escape — the AD/LDAP connector's escaping of filter values (RFC 4515) and DN attribute
 * values (RFC 4514), as a table of inputs and expected outputs.  Memory: each case's buf is
 * freed before the next. */
#include <stdio.h>
#include <string.h>

#include "connectors/dn.h"
#include "connectors/ldap/escape.h"

typedef struct esc_case {
  const char *in;
  size_t n; /* 0: strlen(in) */
  const char *filter, *dn;
} esc_case;

static const esc_case cases[] = {
    {"alice", 0, "alice", "alice"},
    {"", 0, "", ""},
    {"Team (A*)", 0, "Team \\28A\\2a\\29", "Team (A*)"},
    {"a\\b", 0, "a\\5cb", "a\\\\b"},
    {"*)(uid=*))(|(uid=*", 0, "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a",
     "*)(uid\\=*))(|(uid\\=*"},
    {"Smith, John", 0, "Smith, John", "Smith\\, John"},
    {"a+b;c<d>e=f\"g", 0, "a+b;c<d>e=f\"g", "a\\+b\\;c\\<d\\>e\\=f\\\"g"},
    {" lead", 0, " lead", "\\ lead"},
    {"trail ", 0, "trail ", "trail\\ "},
    {" ", 0, " ", "\\ "},
    {"#hash", 0, "#hash", "\\#hash"},
    {"in#side", 0, "in#side", "in#side"},
    {"nul\0byte", 8, "nul\\00byte", "nul\\00byte"},
    {"line\nfeed", 0, "line\\0afeed", "line\\0afeed"},
    {"Zoë Ørsted", 0, "Zoë Ørsted", "Zoë Ørsted"},   /* UTF-8 text stays as is */
    {"\x01\x05\xff\x80", 4, "\\01\\05\\ff\\80", "\\01\\05\xff\x80"}, /* bytes: all escaped */
};

static int check(const char *what, const esc_case *c, int (*fn)(buf *, const char *, size_t),
                 const char *want)
{
  buf b;
  size_t n = c->n ? c->n : strlen(c->in);
  int bad;
  buf_init(&b, 0);
  bad = fn(&b, c->in, n) != BUF_OK || strcmp(b.p ? b.p : "", want) != 0;
  if (bad)
    printf("FAIL %s(\"%s\"): got \"%s\", want \"%s\"\n", what, c->in, b.p ? b.p : "", want);
  buf_free(&b);
  return bad;
}

int main(void)
{
  int fails = 0;
  size_t n = sizeof cases / sizeof *cases;
  for (size_t i = 0; i < n; i++) {
    fails += check("filter", &cases[i], ldap_escape_filter, cases[i].filter);
    fails += check("dn", &cases[i], dn_escape_value, cases[i].dn);
  }
  printf("%zu cases, %d failures\n", n, fails);
  return fails != 0;
}
