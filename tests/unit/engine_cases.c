/* engine_cases — runs one engine case (tests/engine/cases/NNN-name/, format in
 * tests/engine/README.md) against the mvsync binary; `compare A B` compares two dump files.
 * Memory: one case at a time; step buffers are freed as the steps go, trees after each use. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/engine/jsoncmp.h"

#define MAX_ARGS 64
#define MAX_SAVED 16

typedef struct saved {
  char name[64];
  char *text;
  size_t len;
} saved;

typedef struct runner {
  const char *case_dir;
  char mvsync[PATH_MAX];
  char tmp[PATH_MAX];
  char store[PATH_MAX + 16];
  char rules[PATH_MAX + 16];
  int line;              /* current line of `steps` */
  char step[1024];       /* its text, for messages */
  int last_rc;           /* exit code of the last `run`; -1 before any */
  bool rc_checked;       /* an `exit` step looked at it */
  char *out, *err;       /* the last run's stdout and stderr */
  size_t out_len, err_len;
  saved saves[MAX_SAVED];
  int n_saves;
} runner;

static int fail(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(runner *r, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "FAIL %s: steps:%d: %s\n  ", r->case_dir, r->line, r->step);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n  (work dir kept: %s)\n", r->tmp);
  return 1;
}

static int read_all(const char *path, char **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *p = NULL, *np;
  size_t n = 0, cap = 0, got;

  if (!f)
    return -1;
  do {
    if (cap - n < 65536) {
      cap = cap ? cap * 2 : 65536;
      if (!(np = realloc(p, cap + 1))) {
        free(p);
        fclose(f);
        return -1;
      }
      p = np;
    }
    got = fread(p + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  p[n] = '\0';
  *out = p;
  *len = n;
  return 0;
}

static int write_all(const char *path, const char *data, size_t n, bool append)
{
  FILE *f = fopen(path, append ? "ab" : "wb");
  int rc;

  if (!f)
    return -1;
  rc = fwrite(data, 1, n, f) == n ? 0 : -1;
  return fclose(f) == 0 ? rc : -1;
}

/* Paths in steps are relative to the work dir; they may not climb out of it. */
static int work_path(runner *r, const char *name, char *out, size_t outlen)
{
  if (name[0] == '/' || strstr(name, "..")) {
    fail(r, "path '%s' must stay inside the case dir", name);
    return -1;
  }
  if ((size_t)snprintf(out, outlen, "%s/%s", r->tmp, name) >= outlen) {
    fail(r, "path %s is too long", name);
    return -1;
  }
  return 0;
}

/* The case dir's files (flat) into a fresh temporary work dir. */
static int make_work_dir(runner *r)
{
  const char *base = getenv("TMPDIR");
  DIR *d;
  struct dirent *e;
  char src[PATH_MAX + 256], dst[PATH_MAX + 256];
  char *data;
  size_t n;

  snprintf(r->tmp, sizeof r->tmp, "%s/mvsync-case-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(r->tmp)) {
    fprintf(stderr, "mkdtemp %s: %s\n", r->tmp, strerror(errno));
    return -1;
  }
  if (!(d = opendir(r->case_dir))) {
    fprintf(stderr, "%s: %s\n", r->case_dir, strerror(errno));
    return -1;
  }
  while ((e = readdir(d))) {
    struct stat st;
    snprintf(src, sizeof src, "%s/%s", r->case_dir, e->d_name);
    if (stat(src, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    snprintf(dst, sizeof dst, "%s/%s", r->tmp, e->d_name);
    if (read_all(src, &data, &n) != 0 || write_all(dst, data, n, false) != 0) {
      fprintf(stderr, "copying %s: %s\n", src, strerror(errno));
      closedir(d);
      return -1;
    }
    free(data);
  }
  closedir(d);
  snprintf(r->store, sizeof r->store, "%s/store.db", r->tmp);
  snprintf(r->rules, sizeof r->rules, "%s/rules.rules", r->tmp);
  return 0;
}

/* Split a line into words; "double quoted" words may hold blanks.  Modifies s. */
static int split(char *s, char **words, int max)
{
  int n = 0;
  while (*s) {
    while (isspace((unsigned char)*s))
      s++;
    if (!*s)
      break;
    if (n == max)
      return -1;
    if (*s == '"') {
      words[n++] = ++s;
      while (*s && *s != '"')
        s++;
    } else {
      words[n++] = s;
      while (*s && !isspace((unsigned char)*s))
        s++;
    }
    if (*s)
      *s++ = '\0';
  }
  return n;
}

/* Which subcommands read the rule set: they get --rules as well as --store. */
static bool takes_rules(const char *cmd)
{
  static const char *const with_rules[] = {"import", "sync", "export", "cycle", "preview"};
  for (size_t i = 0; i < sizeof with_rules / sizeof with_rules[0]; i++)
    if (strcmp(cmd, with_rules[i]) == 0)
      return true;
  return false;
}

/* Run mvsync with args (plus --store/--rules) in the work dir; keep its exit code and output. */
static int run_mvsync(runner *r, char **args, int nargs)
{
  char *argv[MAX_ARGS + 8];
  char outp[PATH_MAX + 16], errp[PATH_MAX + 16];
  int n = 0, status;
  pid_t pid;

  argv[n++] = r->mvsync;
  for (int i = 0; i < nargs; i++)
    argv[n++] = args[i];
  argv[n++] = "--store";
  argv[n++] = r->store;
  if (nargs > 0 && takes_rules(args[0])) {
    argv[n++] = "--rules";
    argv[n++] = r->rules;
  }
  argv[n] = NULL;
  snprintf(outp, sizeof outp, "%s/.stdout", r->tmp);
  snprintf(errp, sizeof errp, "%s/.stderr", r->tmp);
  fflush(NULL);
  if ((pid = fork()) < 0)
    return fail(r, "fork: %s", strerror(errno));
  if (pid == 0) {
    int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fo < 0 || fe < 0 || chdir(r->tmp) != 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
      _exit(127);
    execv(argv[0], argv);
    _exit(127);
  }
  if (waitpid(pid, &status, 0) < 0)
    return fail(r, "waitpid: %s", strerror(errno));
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
  if (read_all(outp, &r->out, &r->out_len) != 0 || read_all(errp, &r->err, &r->err_len) != 0)
    return fail(r, "cannot read the output of mvsync");
  r->last_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r->rc_checked = false;
  return 0;
}

/* A run whose exit code no `exit` step checked must have succeeded. */
static int check_unchecked_rc(runner *r)
{
  if (r->last_rc > 0 && !r->rc_checked) {
    fprintf(stderr, "FAIL %s: steps:%d: the previous run exited %d (no `exit` step expects "
            "that)\n  stderr: %.2000s\n  (work dir kept: %s)\n", r->case_dir, r->line,
            r->last_rc, r->err ? r->err : "", r->tmp);
    return 1;
  }
  r->rc_checked = true;
  return 0;
}

/* `mvsync dump --json` of the store; the text is malloc'd.  Keeps the last run's output. */
static int dump(runner *r, char **text, size_t *len)
{
  char *out = r->out, *err = r->err;
  size_t ol = r->out_len, el = r->err_len;
  int rc = r->last_rc;
  bool checked = r->rc_checked;
  char *args[] = {"dump", "--json"};

  /* Callers free *text on every path; NULL until the dump succeeds. */
  *text = NULL;
  *len = 0;
  r->out = r->err = NULL;
  if (run_mvsync(r, args, 2) != 0)
    return 1;
  if (r->last_rc != 0) {
    int f = fail(r, "mvsync dump --json exited %d: %.2000s", r->last_rc, r->err);
    free(out);
    free(err);
    return f;
  }
  *text = r->out;
  *len = r->out_len;
  free(r->err);
  r->out = out;
  r->err = err;
  r->out_len = ol;
  r->err_len = el;
  r->last_rc = rc;
  r->rc_checked = checked;
  return 0;
}

static yajl_val section(yajl_val root, const char *path)
{
  const char *keys[3] = {NULL, NULL, NULL};
  char buf[256], *slash;

  snprintf(buf, sizeof buf, "%s", path);
  keys[0] = buf;
  if ((slash = strchr(buf, '/'))) {
    *slash = '\0';
    keys[1] = slash + 1;
  }
  return yajl_tree_get(root, keys, yajl_t_any);
}

/* expect / expect-part / expect-subset: the dump (or one section of it) against a file. */
static int step_expect(runner *r, const char *sect, const char *file, bool subset)
{
  char path[PATH_MAX + 256], err[1024], msg[4096];
  char *text;
  size_t len;
  yajl_val want, got, part;
  int rc = 0;

  if (work_path(r, file, path, sizeof path) != 0)
    return 1;
  if (!(want = jsoncmp_load(path, err, sizeof err)))
    return fail(r, "expected file: %s", err);
  if (dump(r, &text, &len) != 0) {
    yajl_tree_free(want);
    return 1;
  }
  if (!(got = jsoncmp_parse(text, err, sizeof err))) {
    rc = fail(r, "mvsync dump --json printed invalid JSON (%s): %.500s", err, text);
  } else {
    part = sect ? section(got, sect) : got;
    if (!part)
      rc = fail(r, "the dump has no section '%s'", sect);
    else if (!jsoncmp_match(want, part, subset, msg, sizeof msg))
      rc = fail(r, "dump%s%s differs from %s %s\n  %s", sect ? " section " : "",
                sect ? sect : "", file, subset ? "(subset)" : "", msg);
    yajl_tree_free(got);
  }
  if (rc != 0) {
    char dp[PATH_MAX + 16];
    snprintf(dp, sizeof dp, "%s/.dump.json", r->tmp);
    write_all(dp, text, len, false);
    fprintf(stderr, "  (actual dump: %s)\n", dp);
  }
  free(text);
  yajl_tree_free(want);
  return rc;
}

static int step_count(runner *r, const char *sect, const char *num)
{
  char *text, err[512], *end;
  size_t len, n;
  long want = strtol(num, &end, 10);
  yajl_val got, part;
  int rc = 0;

  if (*end || want < 0)
    return fail(r, "count needs a number");
  if (dump(r, &text, &len) != 0)
    return 1;
  if (!(got = jsoncmp_parse(text, err, sizeof err))) {
    free(text);
    return fail(r, "invalid dump JSON: %s", err);
  }
  part = section(got, sect);
  n = !part ? 0 : YAJL_IS_ARRAY(part) ? part->u.array.len
      : YAJL_IS_OBJECT(part) ? part->u.object.len : 1;
  if (!part || n != (size_t)want)
    rc = fail(r, "%s has %zu elements, expected %ld", sect, n, want);
  yajl_tree_free(got);
  free(text);
  return rc;
}

static saved *find_saved(runner *r, const char *name)
{
  for (int i = 0; i < r->n_saves; i++)
    if (strcmp(r->saves[i].name, name) == 0)
      return &r->saves[i];
  return NULL;
}

/* save-dump NAME / save-file PATH NAME: remember text to compare later. */
static int step_save(runner *r, const char *file, const char *name)
{
  saved *s = find_saved(r, name);
  char path[PATH_MAX + 256];

  if (!s) {
    if (r->n_saves == MAX_SAVED)
      return fail(r, "too many saved snapshots");
    s = &r->saves[r->n_saves++];
    snprintf(s->name, sizeof s->name, "%s", name);
  }
  free(s->text);
  s->text = NULL;
  if (!file)
    return dump(r, &s->text, &s->len);
  if (work_path(r, file, path, sizeof path) != 0)
    return 1;
  if (read_all(path, &s->text, &s->len) != 0) {
    /* A file that does not exist yet is saved as empty: "still nothing there". */
    s->text = calloc(1, 1);
    s->len = 0;
  }
  return 0;
}

static int step_same_dump(runner *r, const char *name)
{
  saved *s = find_saved(r, name);
  char *text, err[512], msg[4096];
  size_t len;
  yajl_val a, b;
  int rc = 0;

  if (!s)
    return fail(r, "nothing saved as '%s'", name);
  if (dump(r, &text, &len) != 0)
    return 1;
  a = jsoncmp_parse(s->text, err, sizeof err);
  b = a ? jsoncmp_parse(text, err, sizeof err) : NULL;
  if (!a || !b)
    rc = fail(r, "invalid dump JSON: %s", err);
  else if (!jsoncmp_match(a, b, false, msg, sizeof msg))
    rc = fail(r, "the dump changed since save-dump %s\n  %s", name, msg);
  yajl_tree_free(a);
  yajl_tree_free(b);
  free(text);
  return rc;
}

static int step_same_file(runner *r, const char *file, const char *name)
{
  saved *s = find_saved(r, name);
  char path[PATH_MAX + 256], *text = NULL;
  size_t len = 0;
  int rc = 0;

  if (!s)
    return fail(r, "nothing saved as '%s'", name);
  if (work_path(r, file, path, sizeof path) != 0)
    return 1;
  if (read_all(path, &text, &len) != 0)
    len = 0;
  if (len != s->len || (len && memcmp(text, s->text, len) != 0))
    rc = fail(r, "%s changed since save-file (%zu bytes then, %zu now)", file, s->len, len);
  free(text);
  return rc;
}

static bool contains_ci(const char *hay, const char *needle)
{
  size_t n = strlen(needle);
  for (; hay && *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0)
      return true;
  return false;
}

/* The text of a *-contains step: the rest of the line after the keyword (and file). */
static const char *rest_after(const char *line, int words)
{
  while (words-- > 0) {
    while (isspace((unsigned char)*line))
      line++;
    while (*line && !isspace((unsigned char)*line))
      line++;
  }
  while (isspace((unsigned char)*line))
    line++;
  return line;
}

static int step_contains(runner *r, const char *kw, const char *line)
{
  bool negate = strstr(kw, "-not-") != NULL;
  const char *text, *what;
  char *file_text = NULL, name[PATH_MAX];
  bool found;

  if (strncmp(kw, "file-", 5) == 0) {
    char path[PATH_MAX + 256];
    size_t len;
    const char *a = rest_after(line, 1);
    size_t n = strcspn(a, " \t");
    snprintf(name, sizeof name, "%.*s", (int)n, a);
    if (work_path(r, name, path, sizeof path) != 0)
      return 1;
    if (read_all(path, &file_text, &len) != 0)
      file_text = NULL;
    text = rest_after(line, 2);
    found = contains_ci(file_text, text);
    what = name;
  } else {
    text = rest_after(line, 1);
    what = strncmp(kw, "stdout", 6) == 0 ? "stdout" : strncmp(kw, "stderr", 6) == 0 ? "stderr"
                                                                                    : "output";
    found = (what[3] != 'e' && contains_ci(r->out, text)) ||
            (what[3] != 'o' && contains_ci(r->err, text));
  }
  free(file_text);
  if (found != negate)
    return 0;
  return fail(r, "%s %s \"%s\"\n  stdout: %.3000s\n  stderr: %.3000s", what,
              negate ? "contains" : "does not contain", text, r->out ? r->out : "",
              r->err ? r->err : "");
}

/* Overwrite a file's bytes with 'x', keeping its size and times: a connector that reads it
 * fails, one that only checks its fingerprint (a watermark) does not notice. */
static int step_garble(runner *r, const char *name)
{
  char path[PATH_MAX + 256];
  struct stat st;
  char *x;
  int fd, rc = 0;

  if (work_path(r, name, path, sizeof path) != 0)
    return 1;
  if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    return fail(r, "cannot open %s: %s", name, strerror(errno));
  }
  if (!(x = malloc((size_t)st.st_size + 1))) {
    close(fd);
    return fail(r, "out of memory");
  }
  memset(x, 'x', (size_t)st.st_size);
  if (pwrite(fd, x, (size_t)st.st_size, 0) != st.st_size ||
      futimens(fd, (const struct timespec[2]){st.st_atim, st.st_mtim}) != 0)
    rc = fail(r, "cannot garble %s: %s", name, strerror(errno));
  free(x);
  close(fd);
  return rc;
}

static int step(runner *r, char *line)
{
  char copy[1024], *w[MAX_ARGS];
  int n;

  snprintf(copy, sizeof copy, "%s", line);
  if ((n = split(copy, w, MAX_ARGS)) < 0)
    return fail(r, "too many words");
  if (n == 0)
    return 0;
  if (strcmp(w[0], "exit") == 0) {
    if (n != 2)
      return fail(r, "usage: exit N|any");
    if (r->last_rc < 0)
      return fail(r, "exit before any run");
    r->rc_checked = true;
    if (strcmp(w[1], "any") == 0 || atoi(w[1]) == r->last_rc)
      return 0;
    return fail(r, "mvsync exited %d, expected %s\n  stdout: %.2000s\n  stderr: %.2000s",
                r->last_rc, w[1], r->out, r->err);
  }
  if (check_unchecked_rc(r) != 0)
    return 1;
  if (strcmp(w[0], "run") == 0 && n >= 2)
    return run_mvsync(r, w + 1, n - 1);
  if (strcmp(w[0], "expect") == 0 && n == 2)
    return step_expect(r, NULL, w[1], false);
  if (strcmp(w[0], "expect-part") == 0 && n == 3)
    return step_expect(r, w[1], w[2], false);
  if (strcmp(w[0], "expect-subset") == 0 && n == 3)
    return step_expect(r, w[1], w[2], true);
  if (strcmp(w[0], "count") == 0 && n == 3)
    return step_count(r, w[1], w[2]);
  if ((strcmp(w[0], "append") == 0 || strcmp(w[0], "copy") == 0) && n == 3) {
    char dst[PATH_MAX + 256], src[PATH_MAX + 256], *data;
    size_t len;
    if (work_path(r, w[1], dst, sizeof dst) != 0 || work_path(r, w[2], src, sizeof src) != 0)
      return 1;
    if (read_all(src, &data, &len) != 0)
      return fail(r, "cannot read %s", w[2]);
    n = write_all(dst, data, len, w[0][0] == 'a');
    free(data);
    return n == 0 ? 0 : fail(r, "cannot write %s", w[1]);
  }
  if (strcmp(w[0], "garble") == 0 && n == 2)
    return step_garble(r, w[1]);
  if (strcmp(w[0], "save-dump") == 0 && n == 2)
    return step_save(r, NULL, w[1]);
  if (strcmp(w[0], "same-dump") == 0 && n == 2)
    return step_same_dump(r, w[1]);
  if (strcmp(w[0], "save-file") == 0 && n == 3)
    return step_save(r, w[1], w[2]);
  if (strcmp(w[0], "same-file") == 0 && n == 3)
    return step_same_file(r, w[1], w[2]);
  if ((strstr(w[0], "-contains") && n >= 2))
    return step_contains(r, w[0], line);
  return fail(r, "unknown step (see tests/engine/README.md)");
}

static int run_case(runner *r)
{
  char path[PATH_MAX + 16], *text, *line, *next;
  size_t len;
  int rc = 0;

  snprintf(path, sizeof path, "%s/steps", r->case_dir);
  if (read_all(path, &text, &len) != 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 1;
  }
  if (make_work_dir(r) != 0) {
    free(text);
    return 1;
  }
  r->last_rc = -1;
  /* As a user starts: only `mvsync init` creates a store. */
  {
    char *init[] = {"init"};
    if (run_mvsync(r, init, 1) != 0 || r->last_rc != 0) {
      fprintf(stderr, "%s: mvsync init failed: %s\n", r->case_dir, r->err ? r->err : "");
      free(text);
      return 1;
    }
    r->rc_checked = true;
  }
  for (line = text; line && rc == 0; line = next) {
    char *c;
    if ((next = strchr(line, '\n')))
      *next++ = '\0';
    r->line++;
    if ((c = strchr(line, '\r')))
      *c = '\0';
    while (isspace((unsigned char)*line))
      line++;
    if (*line == '#' || *line == '\0')
      continue;
    snprintf(r->step, sizeof r->step, "%s", line);
    rc = step(r, line);
  }
  if (rc == 0) {
    snprintf(r->step, sizeof r->step, "(end of steps)");
    rc = check_unchecked_rc(r);
  }
  free(text);
  return rc;
}

/* Remove the work dir of a passing case (flat: the runner never makes subdirectories). */
static void remove_work_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[PATH_MAX + 256];

  if (!d)
    return;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  closedir(d);
  rmdir(dir);
}

static int compare_files(const char *a, const char *b)
{
  char err[1024], msg[4096];
  yajl_val va = jsoncmp_load(a, err, sizeof err), vb;
  int rc;

  if (!va) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  if (!(vb = jsoncmp_load(b, err, sizeof err))) {
    fprintf(stderr, "%s\n", err);
    yajl_tree_free(va);
    return 2;
  }
  rc = jsoncmp_match(va, vb, false, msg, sizeof msg) ? 0 : 1;
  if (rc)
    fprintf(stderr, "%s and %s differ %s\n", a, b, msg);
  yajl_tree_free(va);
  yajl_tree_free(vb);
  return rc;
}

int main(int argc, char **argv)
{
  runner r;
  int rc;

  if (argc == 4 && strcmp(argv[1], "compare") == 0)
    return compare_files(argv[2], argv[3]);
  if (argc != 3) {
    fprintf(stderr, "usage: engine_cases MVSYNC CASE_DIR | engine_cases compare A.json B.json\n");
    return 2;
  }
  memset(&r, 0, sizeof r);
  if (!realpath(argv[1], r.mvsync)) {
    fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  r.case_dir = argv[2];
  rc = run_case(&r);
  if (rc == 0)
    remove_work_dir(r.tmp);
  free(r.out);
  free(r.err);
  for (int i = 0; i < r.n_saves; i++)
    free(r.saves[i].text);
  return rc;
}
