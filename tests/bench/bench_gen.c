/* bench_gen — synthetic directories for the benchmarks and the crash test: N AD users and as
 * many Entra users (same employee numbers), groups with a long-tailed size distribution plus
 * one group of min(N, 100,000) members, a rule set, and change files (tests/bench/run.sh).
 * Memory: streams everything to files; only a member-count array is held. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(uint32_t n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng % n);
}

static FILE *out(const char *d, const char *name)
{
  char p[4096];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", d, name);
  if (!(f = fopen(p, "w"))) {
    fprintf(stderr, "%s: %s\n", p, strerror(errno));
    exit(2);
  }
  return f;
}

static void done(FILE *f)
{
  if (ferror(f) || fclose(f) != 0) {
    fprintf(stderr, "write error\n");
    exit(2);
  }
}

static void user_dn(FILE *f, long i)
{
  fprintf(f, "CN=User %ld,OU=Users,DC=bench,DC=example", i);
}

static const char rules[] =
"connector \"ad\" type file {\n  shape \"ad\"\n  path \"ad.ldif\"\n  changes \"ad.ldif.changes\"\n"
"  attribute dn string\n  attribute sAMAccountName string\n  attribute employeeID string\n"
"  attribute displayName string\n  attribute department string\n  attribute mail string\n"
"  attribute member reference multi\n}\n\n"
"connector \"entra\" type file {\n  shape \"entra\"\n  path \"entra.json\"\n"
"  changes \"entra.json.changes\"\n  attribute employeeId string\n  attribute mail string\n"
"  attribute displayName string\n  attribute mailNickname string\n  attribute members reference multi\n}\n\n"
"metaverse {\n  object person {\n    attribute accountName string\n    attribute displayName string\n"
"    attribute employeeId string\n    attribute department string\n    attribute mail string\n  }\n"
"  object group {\n    attribute displayName string\n    attribute mailNickname string\n"
"    attribute members reference multi\n  }\n}\n\n"
"rule \"In from AD - User\" {\n  direction inbound\n  connector \"ad\"\n  source user -> person\n"
"  link provision\n  precedence 100\n  join {\n    employeeID = employeeId\n  }\n"
"  flow [sAMAccountName] -> accountName\n  flow [displayName] -> displayName\n"
"  flow [employeeID] -> employeeId\n  flow [department] -> department\n}\n\n"
"rule \"In from AD - Group\" {\n  direction inbound\n  connector \"ad\"\n  source group -> group\n"
"  link provision\n  precedence 110\n  join {\n    sAMAccountName = mailNickname\n  }\n"
"  flow [sAMAccountName] -> mailNickname\n  flow [member] -> members\n}\n\n"
"rule \"In from Entra - User\" {\n  direction inbound\n  connector \"entra\"\n  source user -> person\n"
"  link join\n  precedence 50\n  join {\n    employeeId = employeeId\n  }\n  flow [mail] -> mail\n}\n\n"
"rule \"Out to AD - Mail\" {\n  direction outbound\n  connector \"ad\"\n  source person -> user\n"
"  link join\n  precedence 100\n  flow [mail] -> mail\n}\n";

int main(int argc, char **argv)
{
  long n, big, ngroups, i, g, changes;
  FILE *f;

  if (argc != 4) {
    fprintf(stderr, "usage: bench_gen OUT_DIR USERS DELTA_CHANGES\n");
    return 2;
  }
  n = atol(argv[2]);
  changes = atol(argv[3]);
  if (n < 10 || changes < 0) {
    fprintf(stderr, "USERS must be at least 10\n");
    return 2;
  }
  big = n < 100000 ? n : 100000;
  ngroups = n / 20;
  f = out(argv[1], "rules.rules");
  fputs(rules, f);
  done(f);

  f = out(argv[1], "ad.ldif");
  for (i = 0; i < n; i++) {
    fprintf(f, "dn: ");
    user_dn(f, i);
    fprintf(f, "\nobjectClass: top\nobjectClass: user\n"
            "objectGUID: %08lx-0000-4000-8000-%012ld\nsAMAccountName: u%ld\n"
            "employeeID: E%ld\ndisplayName: User %ld\ndepartment: Dept %u\n\n",
            i, i, i, i, i, rnd(50));
  }
  /* Group sizes: most small, a few hundred members for some, one of `big` members (the
   * first `big` users), as directories have. */
  for (g = 0; g < ngroups; g++) {
    long size = g == 0 ? big : rnd(100) < 90 ? 1 + rnd(20) : rnd(100) < 90 ? 20 + rnd(200)
                                                                          : 200 + rnd(2000);
    long start = g == 0 ? 0 : rnd((uint32_t)n);
    fprintf(f, "dn: CN=Group %ld,OU=Groups,DC=bench,DC=example\nobjectClass: top\n"
            "objectClass: group\nobjectGUID: %08lx-0000-4000-9000-%012ld\nsAMAccountName: g%ld\n",
            g, g, g, g);
    for (i = 0; i < size; i++) {
      fprintf(f, "member: ");
      user_dn(f, (start + i) % n);
      fputc('\n', f);
    }
    fputc('\n', f);
  }
  done(f);

  f = out(argv[1], "entra.json");
  fprintf(f, "{\"users\": [\n");
  for (i = 0; i < n; i++)
    fprintf(f, "{\"id\": \"%08lx-1111-4000-8000-%012ld\", \"employeeId\": \"E%ld\", "
            "\"displayName\": \"User %ld\", \"mail\": \"user%ld@bench.example\"}%s\n",
            i, i, i, i, i, i + 1 < n ? "," : "");
  fprintf(f, "], \"groups\": []}\n");
  done(f);
  done(out(argv[1], "ad.ldif.changes"));
  done(out(argv[1], "entra.json.changes"));

  /* delta.ldif: `changes` attribute changes on distinct users. */
  f = out(argv[1], "delta.ldif");
  for (i = 0; i < changes && i < n; i++) {
    fprintf(f, "dn: ");
    user_dn(f, (i * 7919) % n);
    fprintf(f, "\nchangetype: modify\nreplace: department\ndepartment: Moved %ld\n-\n\n", i);
  }
  done(f);
  /* member.ldif: one member removed from the big group. */
  f = out(argv[1], "member.ldif");
  fprintf(f, "dn: CN=Group 0,OU=Groups,DC=bench,DC=example\nchangetype: modify\n"
          "delete: member\nmember: ");
  user_dn(f, big / 2);
  fprintf(f, "\n-\n\n");
  done(f);
  return 0;
}
