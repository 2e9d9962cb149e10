/* graph_wire — the Entra connector's readers and writers of Graph wire values, as tables of
 * inputs and expected outputs written from the specifications, not from mvsync's output:
 * Retry-After (RFC 9110 §10.2.3: "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT" and
 * "Retry-After: 120"; Microsoft Graph throttling guidance,
 * https://learn.microsoft.com/graph/throttling: "Retry-After: 2.128"), and the $filter of a
 * lookup (OData ABNF: a quote inside a string literal is doubled, SQUOTE-in-string = SQUOTE
 * SQUOTE; RFC 3986: all but the unreserved characters percent-encoded). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/graph/graph_int.h"

typedef struct ra_case {
  const char *in;
  double want; /* < 0: unreadable */
} ra_case;

static const ra_case ra_cases[] = {
    {"120", 120},                            /* RFC 9110's delay-seconds example */
    {"Fri, 31 Dec 1999 23:59:59 GMT", 0},    /* RFC 9110's HTTP-date example: past, no wait */
    {"2.128", 2.128},                        /* Microsoft's throttling example */
    {"0", 0},
    {"0.5", 0.5},
    {" 7 ", 7},                              /* optional whitespace around a field value */
    {"\t3.25\r\n", 3.25},
    {"10.000000000001", 10},                 /* digits past 1e-9 are dropped */
    {"99999999999", 1e9},                    /* capped */
    {"", -1},
    {"   ", -1},
    {"abc", -1},
    {"-1", -1},
    {"+5", -1},
    {"1e3", -1},
    {".5", -1},
    {"5.", -1},
    {"1.2.3", -1},
    {"2,128", -1},
    {"12 s", -1},
};

static int check_retry_after(void)
{
  int bad = 0;
  char future[64];
  time_t t = time(NULL) + 3600;
  struct tm tm;
  double got;

  for (size_t i = 0; i < sizeof ra_cases / sizeof *ra_cases; i++) {
    const ra_case *c = &ra_cases[i];
    got = gh_parse_retry_after(c->in, strlen(c->in));
    if (c->want < 0 ? got >= 0 : fabs(got - c->want) > 1e-9) {
      fprintf(stderr, "FAIL Retry-After \"%s\": got %.9g, want %.9g\n", c->in, got, c->want);
      bad++;
    }
  }
  /* An IMF-fixdate an hour ahead: the wait is that hour (the clock may tick once). */
  gmtime_r(&t, &tm);
  strftime(future, sizeof future, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  got = gh_parse_retry_after(future, strlen(future));
  if (got < 3598 || got > 3600) {
    fprintf(stderr, "FAIL Retry-After \"%s\": got %.3f, want about 3600\n", future, got);
    bad++;
  }
  return bad;
}

typedef struct filter_case {
  const char *prop, *value, *want;
} filter_case;

static const filter_case filter_cases[] = {
    {"mailNickname", "team01", "mailNickname%20eq%20%27team01%27"},
    {"mailNickname", "O'Brien", "mailNickname%20eq%20%27O%27%27Brien%27"},
    {"displayName", "''", "displayName%20eq%20%27%27%27%27%27%27"},
    {"displayName", "a&b=c#d+e/f?g", "displayName%20eq%20%27a%26b%3Dc%23d%2Be%2Ff%3Fg%27"},
    {"displayName", "x' or 1 eq 1 or id eq '", /* stays one literal */
     "displayName%20eq%20%27x%27%27%20or%201%20eq%201%20or%20id%20eq%20%27%27%27"},
    {"displayName", "Zo\xc3\xab ~-._", "displayName%20eq%20%27Zo%C3%AB%20~-._%27"},
    {"displayName", "", "displayName%20eq%20%27%27"},
};

static int check_filters(void)
{
  int bad = 0;
  for (size_t i = 0; i < sizeof filter_cases / sizeof *filter_cases; i++) {
    const filter_case *c = &filter_cases[i];
    char *got = graph_eq_filter(c->prop, c->value);
    if (!got || strcmp(got, c->want) != 0) {
      fprintf(stderr, "FAIL $filter %s eq \"%s\": got %s, want %s\n", c->prop, c->value,
              got ? got : "NULL", c->want);
      bad++;
    }
    free(got);
  }
  return bad;
}

int main(void)
{
  int bad = check_retry_after() + check_filters();
  if (bad)
    return 1;
  printf("ok: %zu Retry-After cases and a future HTTP-date, %zu $filter literals\n",
         sizeof ra_cases / sizeof *ra_cases, sizeof filter_cases / sizeof *filter_cases);
  return 0;
}
