/* property_gen — the fixtures of the delta ≡ full property test: a seeded random AD-shaped and
 * Entra-shaped directory pair, a rule set, and N random change steps (tests/engine/README.md).
 * Memory: the model is a few fixed arrays; every file is written and closed before exit. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_USERS 400
#define N_GROUPS 4

typedef struct user {
  bool exists;
  int guid;            /* objectGUID / id suffix: never reused */
  int emp;             /* employee number: AD and Entra users share some */
  int name;            /* renames change it, so DNs change */
  int dept, title, enabled;
  bool member[N_GROUPS];
} user;

typedef struct dir {
  user u[MAX_USERS];
  int n;
  int next_guid;
  int group_name[N_GROUPS];  /* Entra groups' displayName suffix (renames) */
} dir;

static uint64_t rng;

/* xorshift64*: small, seeded, the same sequence on every machine. */
static uint32_t rnd(uint32_t n)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (uint32_t)((rng * 2685821657736338717ULL) >> 33) % n;
}

static const char *const depts[] = {"Sales", "HR", "IT", "Leavers"};
static const char *const titles[] = {"Engineer", "Clerk", "Manager", "Analyst"};

static FILE *open_out(const char *out_dir, const char *name, const char *mode)
{
  char path[4096];
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", out_dir, name);
  if (!(f = fopen(path, mode))) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    exit(2);
  }
  return f;
}

static void close_out(FILE *f)
{
  if (ferror(f) || fclose(f) != 0) {
    fprintf(stderr, "write error\n");
    exit(2);
  }
}

static void ad_dn(FILE *f, const user *u)
{
  fprintf(f, "CN=User %d-%d,OU=Users,DC=contoso,DC=com", u->guid, u->name);
}

static void ad_entry(FILE *f, const user *u, bool change)
{
  fprintf(f, "dn: ");
  ad_dn(f, u);
  fprintf(f, "\n%sobjectClass: top\nobjectClass: user\n"
          "objectGUID: 00000000-0000-0000-0000-%012d\nsAMAccountName: u%d\n"
          "employeeID: E%d\ndisplayName: User %d-%d\ndepartment: %s\ntitle: %s\n"
          "proxyAddresses: SMTP:u%d@contoso.com\nproxyAddresses: smtp:E%d@contoso.com\n\n",
          change ? "changetype: add\n" : "", u->guid, u->guid, u->emp, u->guid, u->name,
          depts[u->dept], titles[u->title], u->guid, u->emp);
}

static void ad_group(FILE *f, const dir *ad, int g, bool change)
{
  fprintf(f, "dn: CN=ADGroup%d,OU=Groups,DC=contoso,DC=com\n%sobjectClass: top\n"
          "objectClass: group\nobjectGUID: 00000000-0000-0000-0000-%012d\n"
          "sAMAccountName: adgroup%d\n", g, change ? "changetype: add\n" : "", 900000 + g, g);
  for (int i = 0; i < ad->n; i++)
    if (ad->u[i].exists && ad->u[i].member[g]) {
      fprintf(f, "member: ");
      ad_dn(f, &ad->u[i]);
      fputc('\n', f);
    }
  fputc('\n', f);
}

static void entra_user(FILE *f, const user *u, bool delta)
{
  fprintf(f, "{%s\"id\": \"10000000-0000-0000-0000-%012d\", \"displayName\": \"Cloud %d-%d\", "
          "\"employeeId\": \"E%d\", \"department\": \"%s\", \"accountEnabled\": %s, "
          "\"mail\": \"c%d@contoso.com\", \"proxyAddresses\": [\"smtp:e%d@CONTOSO.com\"]}",
          delta ? "\"@odata.type\": \"#microsoft.graph.user\", " : "", u->guid, u->guid,
          u->name, u->emp, depts[u->dept], u->enabled ? "true" : "false", u->guid, u->emp);
}

/* An Entra group's name by its rename count: Cloud (in the outbound rule's scope) twice,
 * then Team: a rename moves a provisioned group to a new DN, or out of or into scope. */
static const char *group_prefix(int renames) { return renames % 3 == 2 ? "Team" : "Cloud"; }

static void entra_group(FILE *f, const dir *en, int g, bool delta)
{
  bool first = true;
  fprintf(f, "{%s\"id\": \"10000000-0000-0000-0000-%012d\", \"displayName\": \"%s %d-%d\", "
          "\"mailNickname\": \"cg%d\", \"securityEnabled\": true, \"mailEnabled\": false, "
          "\"members\": [", delta ? "\"@odata.type\": \"#microsoft.graph.group\", " : "",
          900000 + g, group_prefix(en->group_name[g]), g, en->group_name[g], g);
  for (int i = 0; i < en->n; i++)
    if (en->u[i].exists && en->u[i].member[g]) {
      fprintf(f, "%s{\"id\": \"10000000-0000-0000-0000-%012d\"}", first ? "" : ", ",
              en->u[i].guid);
      first = false;
    }
  fprintf(f, "]}");
}

static void new_user(dir *d, int emp)
{
  user *u = &d->u[d->n++];
  memset(u, 0, sizeof *u);
  u->exists = true;
  u->guid = d->next_guid++;
  u->emp = emp;
  u->dept = (int)rnd(4);
  u->title = (int)rnd(4);
  u->enabled = rnd(5) != 0;
  for (int g = 0; g < N_GROUPS; g++)
    u->member[g] = rnd(3) == 0;
}

/* A live user at random, or NULL when there is none. */
static user *pick(dir *d)
{
  for (int tries = 0; tries < 50; tries++) {
    user *u = &d->u[rnd((uint32_t)d->n)];
    if (u->exists)
      return u;
  }
  return NULL;
}

static void write_rules(const char *out)
{
  FILE *f = open_out(out, "rules.rules", "w");
  fputs(
"connector \"ad\" type file {\n  shape \"ad\"\n  path \"ad.ldif\"\n  changes \"ad.ldif.changes\"\n"
"  attribute dn string\n  attribute sAMAccountName string\n  attribute employeeID string\n"
"  attribute displayName string\n  attribute department string\n  attribute title string\n"
"  attribute proxyAddresses string multi\n  attribute member reference multi\n}\n\n"
"connector \"entra\" type file {\n  shape \"entra\"\n  path \"entra.json\"\n"
"  changes \"entra.json.changes\"\n  attribute displayName string\n  attribute employeeId string\n"
"  attribute department string\n  attribute accountEnabled boolean\n  attribute mail string\n"
"  attribute proxyAddresses string multi\n  attribute mailNickname string\n"
"  attribute members reference multi\n}\n\n"
"metaverse {\n  object person {\n    attribute accountName string\n    attribute displayName string\n"
"    attribute employeeId string\n    attribute department string\n    attribute title string\n"
"    attribute mail string\n    attribute proxyAddresses string multi\n  }\n"
"  object group {\n    attribute displayName string\n    attribute mailNickname string\n"
"    attribute members reference multi\n    attribute adDn string\n  }\n}\n\n"
"rule \"In from AD - User\" {\n  direction inbound\n  connector \"ad\"\n  source user -> person\n"
"  link provision\n  precedence 100\n  scope {\n    department NOTEQUAL \"Leavers\"\n  }\n"
"  join {\n    employeeID = employeeId\n  }\n  flow [sAMAccountName] -> accountName\n"
"  flow [displayName] -> displayName\n  flow [employeeID] -> employeeId\n"
"  flow [department] -> department\n  flow [title] -> title\n"
"  flow [proxyAddresses] -> proxyAddresses merge mergecaseinsensitive\n}\n\n"
"rule \"In from AD - Group 0 members are staff\" {\n  direction inbound\n  connector \"ad\"\n"
"  source user -> person\n  link join\n  precedence 90\n  scope {\n"
"    dn ISMEMBEROF \"CN=ADGroup0,OU=Groups,DC=contoso,DC=com\"\n  }\n"
"  flow constant \"Staff\" -> title\n}\n\n"
"rule \"In from Entra - User\" {\n  direction inbound\n  connector \"entra\"\n  source user -> person\n"
"  link provision\n  precedence 50\n  scope {\n    accountEnabled EQUAL true\n  }\n"
"  join {\n    employeeId = employeeId\n  }\n  flow [displayName] -> displayName\n"
"  flow [employeeId] -> employeeId\n  flow [mail] -> mail\n"
"  flow [proxyAddresses] -> proxyAddresses merge mergecaseinsensitive\n}\n\n"
"rule \"In from Entra - Group\" {\n  direction inbound\n  connector \"entra\"\n  source group -> group\n"
"  link provision\n  precedence 60\n  join {\n    mailNickname = mailNickname\n  }\n"
"  flow [displayName] -> displayName\n  flow [mailNickname] -> mailNickname\n"
"  flow [members] -> members\n"
"  flow \"CN=\" & [displayName] & \",OU=Groups,DC=contoso,DC=com\" -> adDn\n}\n\n"
/* A join by DN (issue 17: key rows of a DN the engine gives an object, sync_in_dn_keys):
 * AD's groups, its cloud groups provisioned and renamed by the sync among them. */
"rule \"In from AD - Group by DN\" {\n  direction inbound\n  connector \"ad\"\n"
"  source group -> group\n  link join\n  precedence 120\n  join {\n    dn = adDn\n  }\n"
"  flow [sAMAccountName] -> mailNickname\n}\n\n"
"rule \"Out to AD - Cloud groups\" {\n  direction outbound\n  connector \"ad\"\n  source group -> group\n"
"  link provision\n  precedence 100\n  scope {\n    displayName STARTSWITH \"Cloud\"\n  }\n"
"  flow \"CN=\" & [displayName] & \",OU=Groups,DC=contoso,DC=com\" -> dn\n"
"  flow [mailNickname] -> sAMAccountName\n  flow [members] -> member\n}\n\n"
/* Persons outbound (issue 17: a delta sync evaluates a metaverse object outbound only when a
 * change reaches what an outbound rule reads): title is read by the scope, department by an
 * expression, the other person attributes by none. */
"rule \"Out to Entra - Department of non-managers\" {\n  direction outbound\n"
"  connector \"entra\"\n  source person -> user\n  link join\n  precedence 100\n"
"  scope {\n    title NOTEQUAL \"Manager\"\n  }\n"
"  flow \"Dept \" & [department] -> department\n}\n\n"
/* A collection (issue 6, seed 000): persons move in and out as their department and title
 * change, and its members are written to one provisioned AD group. */
"collection \"IT staff\" {\n  source person\n  scope {\n    department EQUAL \"IT\"\n"
"    and title NOTEQUAL \"Manager\"\n  }\n}\n\n"
"rule \"Out to AD - IT staff group\" {\n  direction outbound\n  connector \"ad\"\n"
"  source collection -> group\n  link provision\n  precedence 110\n"
"  flow constant \"CN=IT staff,OU=Groups,DC=contoso,DC=com\" -> dn\n"
"  flow [member] -> member\n}\n", f);
  close_out(f);
}

/* A member add or delete of one AD group for u. */
static void ad_member(FILE *f, int g, const user *u, bool add)
{
  fprintf(f, "dn: CN=ADGroup%d,OU=Groups,DC=contoso,DC=com\nchangetype: modify\n%s: member\n"
          "member: ", g, add ? "add" : "delete");
  ad_dn(f, u);
  fprintf(f, "\n-\n\n");
}

/* u deleted: dropped from its groups first, as AD does. */
static void ad_delete(FILE *f, user *u)
{
  for (int k = 0; k < N_GROUPS; k++)
    if (u->member[k])
      ad_member(f, k, u, false);
  fprintf(f, "dn: ");
  ad_dn(f, u);
  fprintf(f, "\nchangetype: delete\n\n");
  u->exists = false;
}

/* One random change to the AD side, appended as LDIF change records. */
static void ad_change(dir *ad, FILE *f, int *next_emp)
{
  user *u = pick(ad);
  int g = (int)rnd(N_GROUPS);

  switch (u ? rnd(8) : 0) {
  case 0:  /* add */
    if (ad->n < MAX_USERS) {
      new_user(ad, rnd(2) ? (*next_emp)++ : (int)rnd((uint32_t)*next_emp));
      memset(ad->u[ad->n - 1].member, 0, sizeof ad->u[ad->n - 1].member);
      ad_entry(f, &ad->u[ad->n - 1], true);
    }
    break;
  case 1:  /* delete */
    ad_delete(f, u);
    break;
  case 2:  /* attribute change, possibly a scope change (Leavers); half of them the
            * department alone (an outbound expression reads it, no scope does) */
    u->dept = (int)rnd(4);
    fprintf(f, "dn: ");
    ad_dn(f, u);
    fprintf(f, "\nchangetype: modify\nreplace: department\ndepartment: %s\n-\n", depts[u->dept]);
    if (rnd(2)) {
      u->title = (int)rnd(4);
      fprintf(f, "replace: title\ntitle: %s\n-\n", titles[u->title]);
    }
    fprintf(f, "\n");
    break;
  case 3:  /* rename: the group's member value follows, as AD's does */
    fprintf(f, "dn: ");
    ad_dn(f, u);
    u->name++;
    fprintf(f, "\nchangetype: modrdn\nnewrdn: CN=User %d-%d\ndeleteoldrdn: 1\n\n", u->guid,
            u->name);
    for (int k = 0; k < N_GROUPS; k++)
      if (u->member[k]) {
        fprintf(f, "dn: CN=ADGroup%d,OU=Groups,DC=contoso,DC=com\nchangetype: modify\n"
                "delete: member\nmember: CN=User %d-%d,OU=Users,DC=contoso,DC=com\n-\n"
                "add: member\nmember: ", k, u->guid, u->name - 1);
        ad_dn(f, u);
        fprintf(f, "\n-\n\n");
      }
    break;
  case 4:  /* employeeID change: the join key moves */
    u->emp = (int)rnd((uint32_t)*next_emp);
    fprintf(f, "dn: ");
    ad_dn(f, u);
    fprintf(f, "\nchangetype: modify\nreplace: employeeID\nemployeeID: E%d\n-\n\n", u->emp);
    break;
  case 5:  /* add + member add in one step */
    if (ad->n < MAX_USERS) {
      new_user(ad, rnd(2) ? (*next_emp)++ : (int)rnd((uint32_t)*next_emp));
      u = &ad->u[ad->n - 1];
      memset(u->member, 0, sizeof u->member);
      u->member[g] = true;
      ad_entry(f, u, true);
      ad_member(f, g, u, true);
    }
    break;
  case 6:  /* type change: the user leaves its groups and comes back as a contact, same GUID */
    ad_delete(f, u);
    fprintf(f, "dn: ");
    ad_dn(f, u);
    fprintf(f, "\nchangetype: add\nobjectClass: top\nobjectClass: contact\n"
            "objectGUID: 00000000-0000-0000-0000-%012d\ndisplayName: Contact %d\n"
            "employeeID: E%d\n\n", u->guid, u->guid, u->emp);
    break;
  default:  /* member add or remove (group 0 drives a scope) */
    u->member[g] = !u->member[g];
    ad_member(f, g, u, u->member[g]);
    break;
  }
}

/* A group's members@delta item for one user: added, or removed when the user is not (or no
 * longer) a member. */
static void entra_member_delta(FILE *f, int g, const user *u)
{
  fprintf(f, "{\"@odata.type\": \"#microsoft.graph.group\", \"id\": "
          "\"10000000-0000-0000-0000-%012d\", \"members@delta\": [{\"@odata.type\": "
          "\"#microsoft.graph.user\", \"id\": \"10000000-0000-0000-0000-%012d\"%s}]}",
          900000 + g, u->guid, u->member[g] && u->exists ? "" : ", \"@removed\": {\"reason\": \"deleted\"}");
}

static void entra_user_deleted(FILE *f, const user *u)
{
  fprintf(f, "{\"@odata.type\": \"#microsoft.graph.user\", \"id\": "
          "\"10000000-0000-0000-0000-%012d\", \"@removed\": {\"reason\": \"deleted\"}}", u->guid);
}

/* Compound changes in one delta page (issue 11 item 5: each change alone was right, together
 * they were not), items in either order. */
static void entra_compound(dir *en, FILE *f, user *u, int *next_emp)
{
  int g = (int)rnd(N_GROUPS);
  bool swap = rnd(2);

  switch (u ? rnd(3) : 2) {
  case 0:  /* delete + its removal from a group it was in */
    for (g = 0; g < N_GROUPS && !u->member[g]; g++)
      ;
    if (g == N_GROUPS)
      g = (int)rnd(N_GROUPS);
    u->exists = false;
    if (swap)
      entra_member_delta(f, g, u);
    else
      entra_user_deleted(f, u);
    fprintf(f, ", ");
    if (swap)
      entra_user_deleted(f, u);
    else
      entra_member_delta(f, g, u);
    u->member[g] = false;
    break;
  case 1:  /* rename (a new join key too) + a member change of that user */
    u->name++;
    u->emp = (int)rnd((uint32_t)*next_emp);
    u->member[g] = !u->member[g];
    if (swap) {
      entra_member_delta(f, g, u);
      fprintf(f, ", ");
    }
    fprintf(f, "{\"@odata.type\": \"#microsoft.graph.user\", \"id\": "
            "\"10000000-0000-0000-0000-%012d\", \"displayName\": \"Cloud %d-%d\", "
            "\"employeeId\": \"E%d\"}", u->guid, u->guid, u->name, u->emp);
    if (!swap) {
      fprintf(f, ", ");
      entra_member_delta(f, g, u);
    }
    break;
  default:  /* add + member add in one page */
    if (en->n >= MAX_USERS)
      break;
    new_user(en, rnd(2) ? (*next_emp)++ : (int)rnd((uint32_t)*next_emp));
    u = &en->u[en->n - 1];
    memset(u->member, 0, sizeof u->member);
    u->member[g] = true;
    if (swap) {
      entra_member_delta(f, g, u);
      fprintf(f, ", ");
    }
    entra_user(f, u, true);
    if (!swap) {
      fprintf(f, ", ");
      entra_member_delta(f, g, u);
    }
    break;
  }
}

/* One random change to the Entra side, appended as one Graph delta page (one line). */
static void entra_change(dir *en, FILE *f, int *next_emp)
{
  user *u = pick(en);
  int g = (int)rnd(N_GROUPS);

  fprintf(f, "{\"value\": [");
  switch (u ? rnd(8) : 0) {
  case 0:
    if (en->n < MAX_USERS) {
      new_user(en, rnd(2) ? (*next_emp)++ : (int)rnd((uint32_t)*next_emp));
      memset(en->u[en->n - 1].member, 0, sizeof en->u[en->n - 1].member);
      entra_user(f, &en->u[en->n - 1], true);
    }
    break;
  case 1:
    u->exists = false;
    entra_user_deleted(f, u);
    break;
  case 2:  /* accountEnabled drives the Entra rule's scope */
    u->enabled = !u->enabled;
    u->dept = (int)rnd(4);
    fprintf(f, "{\"@odata.type\": \"#microsoft.graph.user\", \"id\": "
            "\"10000000-0000-0000-0000-%012d\", \"accountEnabled\": %s, \"department\": \"%s\"}",
            u->guid, u->enabled ? "true" : "false", depts[u->dept]);
    break;
  case 3:  /* rename and a new employeeId: the join key moves */
    u->name++;
    u->emp = (int)rnd((uint32_t)*next_emp);
    fprintf(f, "{\"@odata.type\": \"#microsoft.graph.user\", \"id\": "
            "\"10000000-0000-0000-0000-%012d\", \"displayName\": \"Cloud %d-%d\", "
            "\"employeeId\": \"E%d\"}", u->guid, u->guid, u->name, u->emp);
    break;
  case 4:  /* group rename: in or out of the outbound rule's scope, or a new AD DN in it */
    en->group_name[g]++;
    fprintf(f, "{\"@odata.type\": \"#microsoft.graph.group\", \"id\": "
            "\"10000000-0000-0000-0000-%012d\", \"displayName\": \"%s %d-%d\"}", 900000 + g,
            group_prefix(en->group_name[g]), g, en->group_name[g]);
    break;
  case 5:
  case 6:
    entra_compound(en, f, u, next_emp);
    break;
  default:
    u->member[g] = !u->member[g];
    entra_member_delta(f, g, u);
    break;
  }
  fprintf(f, "]}\n");
}

int main(int argc, char **argv)
{
  static dir ad, en;
  int users, steps, next_emp;
  char name[64];
  FILE *f;

  if (argc != 5) {
    fprintf(stderr, "usage: property_gen OUT_DIR SEED USERS STEPS\n");
    return 2;
  }
  rng = strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
  users = atoi(argv[3]);
  steps = atoi(argv[4]);
  if (users < 1 || users > MAX_USERS / 2 || steps < 0) {
    fprintf(stderr, "USERS must be 1..%d\n", MAX_USERS / 2);
    return 2;
  }
  ad.next_guid = 100;
  en.next_guid = 100;
  /* Half the people are in both directories (same employee number), the rest in one. */
  next_emp = users;
  for (int i = 0; i < users; i++) {
    new_user(&ad, i);
    if (rnd(4) != 0)
      new_user(&en, rnd(5) == 0 ? next_emp++ : i);
  }
  for (int g = 0; g < N_GROUPS; g++)
    en.group_name[g] = g;
  write_rules(argv[1]);
  f = open_out(argv[1], "ad.ldif", "w");
  for (int i = 0; i < ad.n; i++)
    ad_entry(f, &ad.u[i], false);
  for (int g = 0; g < N_GROUPS; g++)
    ad_group(f, &ad, g, false);
  close_out(f);
  f = open_out(argv[1], "entra.json", "w");
  fprintf(f, "{\"users\": [\n");
  for (int i = 0; i < en.n; i++) {
    entra_user(f, &en.u[i], false);
    fprintf(f, "%s\n", i + 1 < en.n ? "," : "");
  }
  fprintf(f, "],\n\"groups\": [\n");
  for (int g = 0; g < N_GROUPS; g++) {
    entra_group(f, &en, g, false);
    fprintf(f, "%s\n", g + 1 < N_GROUPS ? "," : "");
  }
  fprintf(f, "]}\n");
  close_out(f);
  close_out(open_out(argv[1], "ad.ldif.changes", "w"));
  close_out(open_out(argv[1], "entra.json.changes", "w"));
  /* Each step: one to three changes, on either side. */
  for (int s = 1; s <= steps; s++) {
    FILE *fa, *fe;
    snprintf(name, sizeof name, "step-%d.ldif", s);
    fa = open_out(argv[1], name, "w");
    snprintf(name, sizeof name, "step-%d.json", s);
    fe = open_out(argv[1], name, "w");
    for (int n = 1 + (int)rnd(3); n > 0; n--) {
      if (rnd(2))
        ad_change(&ad, fa, &next_emp);
      else
        entra_change(&en, fe, &next_emp);
    }
    close_out(fa);
    close_out(fe);
  }
  return 0;
}
