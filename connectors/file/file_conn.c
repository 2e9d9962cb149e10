/* file_conn — the file connector (type "file"): configuration, reading the snapshot and the
 * change log, watermarks; import.c and export.c do the rest.  See file_conn.h and
 * docs/internals/file-connector.md. */
#include "connectors/file/file_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/dn.h"
#include "connectors/file/file_int.h"
#include "connectors/graph_json.h"
#include "connectors/file/ldif_map.h"
#include "schema/array.h"

#define DEFAULT_MAX_LINE ((size_t)1 << 20)
#define DEFAULT_MAX_OBJECT ((size_t)256 << 20)
#define MAX_CAP ((size_t)1 << 30)
#define TAIL 64 /* bytes before the watermark that must not change */

char *fc_printf(const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

/* ---- configuration ---- */

static void file_close(connector *c)
{
  if (!c)
    return;
  for (size_t i = 0; c->ref_attrs && c->ref_attrs[i]; i++)
    free(c->ref_attrs[i]);
  for (size_t i = 0; c->attrs && c->attrs[i]; i++)
    free(c->attrs[i]);
  for (size_t i = 0; i < c->n_types; i++)
    free(c->types[i]);
  free(c->ref_attrs);
  free(c->attrs);
  free(c->types);
  free(c->name);
  free(c->path);
  free(c->changes);
  free(c->export_log);
  fstate_free(c->index);
  free(c);
}

int fc_cmp_name(const void *a, const void *b)
{
  return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* A NULL-terminated copy of n strings. */
static char **copy_list(const char *const *in, size_t n)
{
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++)
    if (!(out[i] = strdup(in[i]))) {
      while (i-- > 0)
        free(out[i]);
      free(out);
      return NULL;
    }
  return out;
}

/* A byte count of at most max (arenas take a few times it). */
static int parse_size(const char *s, size_t max, size_t *out)
{
  char *end;
  unsigned long long v;
  if (!s)
    return 0;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || *end || end == s || v == 0 || v > max || s[0] == '-')
    return -1;
  *out = (size_t)v;
  return 0;
}

static const char *shape_name(const conn_config *cfg, const char *path)
{
  const char *dot = strrchr(path, '.');
  if (cfg->shape && *cfg->shape)
    return cfg->shape;
  if (conn_config_get(cfg, "shape"))
    return conn_config_get(cfg, "shape");
  if (dot && strcmp(dot, ".json") == 0)
    return "entra";
  if (dot && strcmp(dot, ".ldif") == 0)
    return "ad";
  return NULL;
}

static int file_open(const conn_config *cfg, connector **out, char **err)
{
  connector *c = calloc(1, sizeof *c);
  const char *path = conn_config_get(cfg, "path"), *sname, *changes, *log;
  const char *who = cfg->name ? cfg->name : "file";
  int rc = CONN_ERR_NOMEM;

  *out = NULL;
  if (!c)
    goto fail;
  if (!path || !*path) {
    rc = CONN_ERR_CONFIG;
    *err = fc_printf("connector %s: setting \"path\" (the snapshot file) is required", who);
    goto fail;
  }
  sname = shape_name(cfg, path);
  if (!(c->shape = shape_find(sname))) {
    rc = CONN_ERR_CONFIG;
    *err = sname ? fc_printf("connector %s: unknown shape \"%s\" (ad, ldap or entra)", who, sname)
                 : fc_printf("connector %s: setting \"shape\" is required (ad, ldap or entra) when "
                             "the snapshot is neither .ldif nor .json",
                             who);
    goto fail;
  }
  c->max_line = DEFAULT_MAX_LINE;
  c->max_object = DEFAULT_MAX_OBJECT;
  if (parse_size(conn_config_get(cfg, "max-line"), MAX_CAP, &c->max_line) != 0 ||
      parse_size(conn_config_get(cfg, "max-object"), MAX_CAP, &c->max_object) != 0) {
    rc = CONN_ERR_CONFIG;
    *err = fc_printf("connector %s: \"max-line\" and \"max-object\" are byte counts (1 to %zu)",
                     who, MAX_CAP);
    goto fail;
  }
  changes = conn_config_get(cfg, "changes");
  log = conn_config_get(cfg, "export-log");
  c->name = strdup(who);
  c->path = strdup(path);
  c->changes = changes ? strdup(changes) : fc_printf("%s.changes", path);
  c->export_log = log ? strdup(log) : NULL;
  c->ref_attrs = copy_list(cfg->ref_attrs, cfg->n_ref_attrs);
  c->attrs = copy_list(cfg->attrs, cfg->n_attrs);
  if (!c->name || !c->path || !c->changes || (log && !c->export_log) || !c->ref_attrs || !c->attrs)
    goto fail;
  c->n_attrs = cfg->n_attrs;
  qsort(c->attrs, c->n_attrs, sizeof *c->attrs, fc_cmp_name);
  c->typer = (ftyper){c->shape, (const char *const *)c->ref_attrs, cfg->n_ref_attrs};
  for (const char *p = cfg->object_types_csv; p && *p;) {
    size_t n = strcspn(p, ","), b = 0, e = n;
    while (b < e && p[b] == ' ')
      b++;
    while (e > b && p[e - 1] == ' ')
      e--;
    if (e > b) {
      if (array_reserve(&c->types, &c->cap_types, c->n_types + 1, sizeof *c->types) != 0)
        goto fail;
      if (!(c->types[c->n_types] = strndup(p + b, e - b)))
        goto fail;
      c->n_types++;
    }
    p += n + (p[n] == ',');
  }
  *out = c;
  return CONN_OK;
fail:
  if (rc == CONN_ERR_NOMEM)
    *err = fc_printf("connector %s: out of memory", who);
  file_close(c);
  return rc;
}

/* ---- reading the files ---- */

/* Whether a record belongs where it was found: the snapshot holds entries, the log changes. */
static int check_kind(const source *s, const ldif_record *rec, const fchange *ch, char *msg,
                      size_t n)
{
  if (s->log && ch->kind == FCH_ENTRY && !ch->is_add) {
    snprintf(msg, n, "%s:%ld: an entry without \"changetype:\" in a change log", s->path,
             rec->line);
    return -1;
  }
  if (!s->log && (ch->kind != FCH_ENTRY || ch->is_add)) {
    snprintf(msg, n, "%s:%ld: a change record in a snapshot", s->path, rec->line);
    return -1;
  }
  return 0;
}

static int read_ldif(const source *s, FILE *f, char **err)
{
  ldif_limits lim = {s->c->max_line, s->c->max_object};
  ldif_reader *r = ldif_reader_new(f, s->path, s->start, s->lines_before, s->end, &lim);
  mvs_arena *a = mvs_arena_new(s->c->max_object * 4 + 65536);
  const ldif_record *rec;
  char msg[512];
  int rc = CONN_OK, lr;

  if (!r || !a) {
    rc = CONN_ERR_NOMEM;
    *err = fc_printf("%s: out of memory", s->path);
    goto out;
  }
  while ((lr = ldif_next(r, &rec)) == LDIF_RECORD) {
    fchange ch;
    int mr;
    mvs_arena_reset(a);
    mr = ldif_to_change(rec, s->path, &s->c->typer, a, &ch, msg, sizeof msg);
    if (mr == -2)
      snprintf(msg, sizeof msg, "%s:%ld: record too large (over %zu bytes)", s->path, rec->line,
               s->c->max_object);
    if (mr != 0 || check_kind(s, rec, &ch, msg, sizeof msg) != 0) {
      rc = CONN_ERR_DATA;
      *err = strdup(msg);
      goto out;
    }
    if ((rc = s->fn(s->u, &ch)) != CONN_OK)
      goto out;
  }
  if (lr != LDIF_END) {
    rc = lr == LDIF_EIO ? CONN_ERR_IO : lr == LDIF_ENOMEM ? CONN_ERR_NOMEM : CONN_ERR_DATA;
    *err = strdup(ldif_error(r));
  }
out:
  ldif_reader_free(r);
  mvs_arena_free(a);
  return rc;
}

typedef struct json_ctx {
  const source *s;
  int rc; /* what the callback returned */
} json_ctx;

static int json_change(void *u, const fchange *ch)
{
  json_ctx *j = u;
  j->rc = j->s->fn(j->s->u, ch);
  return j->rc != CONN_OK;
}

static int read_json(const source *s, FILE *f, char **err)
{
  gj_opts o = {s->path, &s->c->typer, s->log, s->c->max_object, NULL, s->start, s->lines_before};
  json_ctx j = {s, CONN_OK};
  char msg[512];
  int rc = gj_read(f, s->end, &o, json_change, &j, msg, sizeof msg);
  switch (rc) {
  case GJ_OK:
    return CONN_OK;
  case GJ_STOPPED:
    return j.rc;
  default:
    *err = strdup(msg);
    return rc == GJ_EIO ? CONN_ERR_IO : rc == GJ_ENOMEM ? CONN_ERR_NOMEM : CONN_ERR_DATA;
  }
}

int fc_read(const source *s, char **err)
{
  FILE *f;
  int rc;
  if (s->end <= s->start)
    return CONN_OK;
  if (!(f = fopen(s->path, "rb")) || fseeko(f, s->start, SEEK_SET) != 0) {
    *err = fc_printf("%s: %s", s->path, strerror(errno));
    if (f)
      fclose(f);
    return CONN_ERR_IO;
  }
  rc = s->c->shape->ldap ? read_ldif(s, f, err) : read_json(s, f, err);
  fclose(f);
  return rc;
}

/* ---- watermarks ---- */

int fc_fingerprint(connector *c, int log_fd, fingerprint *fp, char **err)
{
  struct stat st;
  int fd = log_fd;

  if (stat(c->path, &st) != 0) {
    *err = fc_printf("%s: %s", c->path, strerror(errno));
    return CONN_ERR_IO;
  }
  fp->snap_size = st.st_size;
  fp->snap_mtime = st.st_mtim;
  fp->log_size = 0;
  if (log_fd < 0 && (fd = open(c->changes, O_RDONLY | O_CLOEXEC)) < 0) {
    if (errno == ENOENT)
      return CONN_OK;
    *err = fc_printf("%s: %s", c->changes, strerror(errno));
    return CONN_ERR_IO;
  }
  /* The size between two exports, never halfway through one (an export appends under an
   * exclusive lock; closing the file lets go of this one). */
  if ((log_fd < 0 && flock(fd, LOCK_SH) != 0) || fstat(fd, &st) != 0) {
    *err = fc_printf("%s: %s", c->changes, strerror(errno));
    if (log_fd < 0)
      close(fd);
    return CONN_ERR_IO;
  }
  fp->log_size = st.st_size;
  if (log_fd < 0)
    close(fd);
  return CONN_OK;
}

int fc_tail_hash(const char *path, int fd, int64_t off, uint64_t *h, unsigned char *last2)
{
  unsigned char b[TAIL] = {0};
  int64_t from = off > TAIL ? off - TAIL : 0;
  int own = fd < 0;
  ssize_t n = 0;

  if (off > 0) {
    if (own && (fd = open(path, O_RDONLY)) < 0)
      return -1;
    n = pread(fd, b, (size_t)(off - from), from);
    if (own)
      close(fd);
    if (n != off - from)
      return -1;
  }
  *h = hmap_hash(b, (size_t)n);
  if (last2) {
    last2[0] = n >= 2 ? b[n - 2] : 0;
    last2[1] = n >= 1 ? b[n - 1] : 0;
  }
  return 0;
}

int fc_count_lines(const char *path, int64_t from, int64_t to, long *lines)
{
  char b[65536];
  int fd;
  int rc = 0;

  *lines = 0;
  if (to <= from)
    return 0;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -1;
  while (from < to) {
    size_t want = to - from < (int64_t)sizeof b ? (size_t)(to - from) : sizeof b;
    ssize_t n = pread(fd, b, want, from);
    if (n <= 0) {
      if (n == 0)
        errno = EIO; /* shorter than the fingerprint said: it was cut meanwhile */
      rc = -1;
      break;
    }
    for (const char *p = b, *end = b + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
      (*lines)++;
    from += n;
  }
  close(fd);
  return rc;
}

int fc_record_starts_at(const char *path, bool ldif, int64_t off, int64_t end)
{
  unsigned char b[5];
  int64_t from = off > 3 ? off - 3 : 0, to = end - off < 2 ? end : off + 2;
  size_t before = (size_t)(off - from), n = (size_t)(to - from);
  int fd;
  ssize_t got;

  if (off == 0)
    return 1;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -1;
  got = pread(fd, b, n, from);
  close(fd);
  if (got != (ssize_t)n) {
    errno = got < 0 ? errno : EIO;
    return -1;
  }
  if (b[before - 1] != '\n')
    return 0;
  if (!ldif)
    return 1; /* a JSON page is one line */
  /* An LDIF record ends at a blank line: one just before off ("\n\n", "\n\r\n"), or the
   * one an export writes first when the log did not end with one. */
  return (before >= 2 && b[before - 2] == '\n') ||
         (before == 3 && b[0] == '\n' && b[1] == '\r') ||
         (n > before && b[before] == '\n') ||
         (n > before + 1 && b[before] == '\r' && b[before + 1] == '\n');
}

char *fc_watermark_format(int64_t off, uint64_t tail, const fingerprint *fp, long lines,
                          bool dns_folded, uint64_t holds)
{
  return fc_printf("%" PRId64 ":%016" PRIx64 ":%" PRId64 ":%lld.%09ld:%ld:%d:%016" PRIx64, off,
                   tail, fp->snap_size, (long long)fp->snap_mtime.tv_sec,
                   (long)fp->snap_mtime.tv_nsec, lines, dns_folded ? 1 : 0, holds);
}

int fc_watermark_parse(const char *wm, fc_watermark *out)
{
  char extra;
  memset(out, 0, sizeof *out);
  out->off = -1;
  out->fields = sscanf(wm, "%lld:%16llx:%lld:%lld.%9ld:%ld:%d:%16llx%c", &out->off, &out->tail,
                       &out->snap_size, &out->sec, &out->nsec, &out->lines, &out->dns_folded,
                       &out->holds, &extra);
  if (out->fields == 8 && (out->lines < 0 || out->dns_folded < 0 || out->dns_folded > 1))
    return -1;
  /* The older form ends at the nanoseconds: nothing may follow (sscanf stops at a mismatch). */
  if (out->fields == 5) {
    fc_watermark o;
    int end = -1;
    if (sscanf(wm, "%lld:%16llx:%lld:%lld.%9ld%n", &o.off, &o.tail, &o.snap_size, &o.sec,
               &o.nsec, &end) != 5 || end < 0 || wm[end] != '\0')
      return -1;
  }
  return (out->fields == 1 && wm[strspn(wm, "0123456789")] == '\0') || out->fields == 5 ||
                 out->fields == 8
             ? 0
             : -1;
}

int fc_watermark_check(connector *c, const char *wm, const fingerprint *fp, fc_watermark *out,
                       char **err)
{
  fc_watermark w;
  uint64_t h;
  unsigned char last2[2];

  if (!wm) {
    *err = fc_printf("%s: no watermark yet: a full import comes first", c->name);
    return CONN_ERR_WATERMARK;
  }
  if (fc_watermark_parse(wm, &w) != 0) {
    *err = fc_printf("%s: watermark \"%s\" is not a file connector watermark", c->name, wm);
    return CONN_ERR_WATERMARK;
  }
  if (w.off < 0 || w.off > fp->log_size) {
    *err = fc_printf("%s: the change log is shorter than the watermark (%" PRId64 " < %lld bytes): "
                     "it was truncated or replaced",
                     c->changes, fp->log_size, w.off);
    return CONN_ERR_WATERMARK;
  }
  if (fc_tail_hash(c->changes, -1, w.off, &h, last2) != 0) {
    *err = fc_printf("%s: %s", c->changes, strerror(errno));
    return CONN_ERR_IO;
  }
  /* A bare offset (written by hand) must at least fall between two lines. */
  if (w.fields == 1 && w.off > 0 && w.off < fp->log_size && last2[1] != '\n') {
    *err = fc_printf("%s: watermark %lld is not at the start of a line", c->changes, w.off);
    return CONN_ERR_WATERMARK;
  }
  if (w.fields >= 5 && h != w.tail) {
    *err =
        fc_printf("%s: the change log changed before the watermark (it was rewritten)", c->changes);
    return CONN_ERR_WATERMARK;
  }
  if (w.fields >= 5 && (w.snap_size != fp->snap_size || w.sec != (long long)fp->snap_mtime.tv_sec ||
                        w.nsec != fp->snap_mtime.tv_nsec)) {
    *err = fc_printf("%s: the snapshot changed since the watermark", c->path);
    return CONN_ERR_WATERMARK;
  }
  *out = w;
  return CONN_OK;
}

bool fc_want_type(const connector *c, const char *type)
{
  for (size_t i = 0; i < c->n_types; i++)
    if (strcasecmp(c->types[i], type) == 0)
      return true;
  return c->n_types == 0;
}

/* The types delivered, as a watermark remembers them: a hash of their sorted names (case
 * ignored, as fc_want_type compares them), never 0; every type is "*". */
uint64_t fc_wanted_hash(const connector *c)
{
  char **names = malloc((c->n_types + 1) * sizeof *names);
  buf list;
  uint64_t h;

  if (!names)
    return 0; /* out of memory: nothing is known to be held */
  buf_init(&list, 0);
  for (size_t i = 0; i < c->n_types; i++)
    names[i] = c->types[i];
  qsort(names, c->n_types, sizeof *names, fc_cmp_name);
  for (size_t i = 0; i < c->n_types; i++) {
    if (i)
      buf_addc(&list, ','); /* no type holds one: the configuration splits on it */
    for (const char *p = names[i]; *p; p++)
      buf_addc(&list, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
  }
  if (!c->n_types)
    buf_addc(&list, '*');
  h = hmap_hash(list.p ? list.p : "", list.len) | 1;
  buf_free(&list);
  free(names);
  return h;
}

bool fc_holds_wanted(const connector *c, uint64_t holds)
{
  return holds != 0 && holds == fc_wanted_hash(c);
}

int fc_lookup_dn(int (*lookup)(void *u, const char *dn, const char *anchor, conn_found *out),
                 void *u, const char *dn, buf *key, conn_found *f, bool *key_folded)
{
  size_t n = strlen(dn);
  int r;

  buf_reset(key);
  if (dn_key(dn, n, key) != BUF_OK || buf_addc(key, '\0') != BUF_OK)
    return -2;
  *key_folded = dn_fold_is(key->p, key->len - 1, key->p, key->len - 1);
  r = lookup(u, dn, NULL, f);
  if (r == 0 && *key_folded && !dn_fold_is(dn, n, key->p, key->len - 1))
    r = lookup(u, key->p, NULL, f);
  return r < 0 ? -1 : r;
}

const connector_ops file_connector_ops = {"file", file_open, fc_import, fc_export, file_close,
                                           NULL /* a file holds what the import read */};
