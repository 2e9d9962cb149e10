/* ldif — RFC 2849 reader and value writer.  See ldif.h.
 * The reader keeps one physical line of lookahead (to join folded lines) and builds each
 * record in one capped text buffer plus two vectors, all charged against max_record. */
#include "connectors/file/ldif.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/base64.h"
#include "connectors/shape.h"
#include "schema/array.h"

#define READ_CHUNK 65536

struct ldif_reader {
  FILE *f;
  char *name;
  int64_t end; /* bytes of the file to read */
  int64_t fed; /* bytes read from f so far */
  ldif_limits lim;
  char rbuf[READ_CHUNK];
  size_t rlen, roff;
  /* The lookahead physical line. */
  buf phys;
  int phys_state; /* 0 none read, 1 a line, 2 end of input */
  long phys_lineno;
  int64_t phys_off;
  long lines_read; /* physical lines read */
  bool at_start;   /* nothing but comments and blank lines read yet */
  /* The current logical (unfolded) line. */
  buf line;
  long line_at;
  int64_t line_off;
  /* The record being built: text holds every string (NUL-separated); vals and mods refer to
   * it by offset until the record is complete. */
  buf text;
  ldif_attrval *vals;
  size_t n_vals, cap_vals;
  ldif_mod *mods;
  size_t n_mods, cap_mods;
  size_t charged;
  bool has_sup; /* the modrdn record has a newsuperior */
  ldif_record rec;
  char err[512];
};

static int fail(ldif_reader *r, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(ldif_reader *r, long line, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf(r->err, sizeof r->err, "%s:%ld: ", r->name, line);
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof r->err)
    vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
  va_end(ap);
  return LDIF_EDATA;
}

static int nomem(ldif_reader *r)
{
  snprintf(r->err, sizeof r->err, "%s: out of memory", r->name);
  return LDIF_ENOMEM;
}

ldif_reader *ldif_reader_new(FILE *f, const char *name, int64_t start, long lines_before,
                             int64_t end, const ldif_limits *lim)
{
  ldif_reader *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->name = strdup(name);
  if (!r->name) {
    free(r);
    return NULL;
  }
  r->f = f;
  r->fed = start;
  r->lines_read = lines_before;
  r->end = end;
  r->lim = *lim;
  r->at_start = start == 0; /* "version: 1" comes first in a file only */
  buf_init(&r->phys, lim->max_line + 1);
  buf_init(&r->line, lim->max_line + 1);
  buf_init(&r->text, lim->max_record + 1);
  return r;
}

void ldif_reader_free(ldif_reader *r)
{
  if (!r)
    return;
  buf_free(&r->phys);
  buf_free(&r->line);
  buf_free(&r->text);
  free(r->vals);
  free(r->mods);
  free(r->name);
  free(r);
}

const char *ldif_error(const ldif_reader *r) { return r->err; }

/* Read the next physical line into r->phys (newline and a trailing CR removed). */
static int read_phys(ldif_reader *r)
{
  bool got_nl = false, any = false;

  buf_reset(&r->phys);
  r->phys_off = r->fed - (int64_t)(r->rlen - r->roff);
  for (;;) {
    char *start, *nl;
    size_t take;
    if (r->roff == r->rlen) {
      size_t want = READ_CHUNK, n;
      if ((int64_t)want > r->end - r->fed)
        want = (size_t)(r->end - r->fed);
      if (want == 0)
        break;
      n = fread(r->rbuf, 1, want, r->f);
      if (n == 0) {
        if (ferror(r->f)) {
          snprintf(r->err, sizeof r->err, "%s: read error", r->name);
          return LDIF_EIO;
        }
        break;
      }
      r->rlen = n;
      r->roff = 0;
      r->fed += (int64_t)n;
    }
    any = true;
    start = r->rbuf + r->roff;
    nl = memchr(start, '\n', r->rlen - r->roff);
    take = nl ? (size_t)(nl - start) : r->rlen - r->roff;
    if (r->phys.len + take > r->lim.max_line)
      return fail(r, r->lines_read + 1, "line longer than %zu bytes", r->lim.max_line);
    if (buf_add(&r->phys, start, take) != BUF_OK)
      return nomem(r);
    r->roff += take;
    if (nl) {
      r->roff++;
      got_nl = true;
      break;
    }
  }
  if (!got_nl && !any) {
    r->phys_state = 2;
    return LDIF_END;
  }
  r->phys_lineno = ++r->lines_read;
  if (r->phys.len && r->phys.p[r->phys.len - 1] == '\r')
    r->phys.p[--r->phys.len] = '\0';
  if (r->phys.len && memchr(r->phys.p, '\0', r->phys.len))
    return fail(r, r->phys_lineno, "NUL byte in line");
  r->phys_state = 1;
  return LDIF_RECORD;
}

static int peek(ldif_reader *r)
{
  if (r->phys_state == 0)
    return read_phys(r);
  return r->phys_state == 1 ? LDIF_RECORD : LDIF_END;
}

enum { L_END = 0, L_BLANK, L_LINE };

/* The next logical line into r->line: L_LINE, L_BLANK, L_END, or an error (< 0).
 * Comments (with their continuation lines) are skipped. */
static int next_line(ldif_reader *r)
{
  int rc;
  for (;;) {
    bool comment;
    if ((rc = peek(r)) != LDIF_RECORD)
      return rc == LDIF_END ? L_END : rc;
    r->line_at = r->phys_lineno;
    r->line_off = r->phys_off;
    if (r->phys.len == 0) {
      r->phys_state = 0;
      return L_BLANK;
    }
    if (r->phys.p[0] == ' ')
      return fail(r, r->line_at, "continuation line with no line to continue");
    comment = r->phys.p[0] == '#';
    buf_reset(&r->line);
    if (!comment && buf_add(&r->line, r->phys.p, r->phys.len) != BUF_OK)
      return nomem(r);
    r->phys_state = 0;
    while ((rc = peek(r)) == LDIF_RECORD && r->phys.len && r->phys.p[0] == ' ') {
      if (!comment) {
        if (r->line.len + r->phys.len - 1 > r->lim.max_line)
          return fail(r, r->line_at, "line longer than %zu bytes", r->lim.max_line);
        if (buf_add(&r->line, r->phys.p + 1, r->phys.len - 1) != BUF_OK)
          return nomem(r);
      }
      r->phys_state = 0;
    }
    if (rc < 0)
      return rc;
    if (!comment)
      return L_LINE;
  }
}

/* ---- one "attr: value" line ---- */

typedef struct parsed {
  const char *attr; /* into r->line */
  size_t attr_len;
  const char *val; /* plain: into r->line; base64: still encoded */
  size_t val_len;
  bool b64;
} parsed;

static bool attr_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == ';' || c == '.';
}

bool ldif_attr_name(const char *p, size_t n)
{
  if (n == 0 || p[0] == '-' || p[0] == ';' || p[0] == '.')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!attr_char(p[i]))
      return false;
  return true;
}

static int split_line(ldif_reader *r, parsed *pl)
{
  const char *p = r->line.p, *colon = memchr(p, ':', r->line.len), *end = p + r->line.len;
  const char *v;

  if (!colon)
    return fail(r, r->line_at, "expected \"attribute: value\"");
  pl->attr = p;
  pl->attr_len = (size_t)(colon - p);
  if (!ldif_attr_name(p, pl->attr_len))
    return fail(r, r->line_at, "bad attribute name \"%.*s\"",
                (int)(pl->attr_len > 64 ? 64 : pl->attr_len), p);
  v = colon + 1;
  pl->b64 = false;
  if (v < end && *v == '<')
    return fail(r, r->line_at, "URL values (\"%.*s:<\") are not supported", (int)pl->attr_len, p);
  if (v < end && *v == ':') {
    pl->b64 = true;
    v++;
  }
  while (v < end && *v == ' ')
    v++;
  pl->val = v;
  pl->val_len = (size_t)(end - v);
  if (!pl->b64 && !shape_is_text(pl->val, pl->val_len))
    return fail(r, r->line_at, "value of \"%.*s\" is not UTF-8 (write it as base64 with \"::\")",
                (int)pl->attr_len, p);
  return 0;
}

static bool attr_is(const parsed *pl, const char *name)
{
  return strlen(name) == pl->attr_len && strncasecmp(pl->attr, name, pl->attr_len) == 0;
}

/* Charge n bytes against the record cap. */
static int charge(ldif_reader *r, size_t n)
{
  if (n > r->lim.max_record - r->charged || r->charged > r->lim.max_record)
    return fail(r, r->rec.line, "record larger than %zu bytes", r->lim.max_record);
  r->charged += n;
  return 0;
}

/* Copy bytes into the record text, NUL-terminated; *off gets their offset. */
static int keep(ldif_reader *r, const char *p, size_t n, size_t *off)
{
  int rc;
  if ((rc = charge(r, n + 1)) != 0)
    return rc;
  *off = r->text.len;
  if (buf_add(&r->text, p, n) != BUF_OK || buf_addc(&r->text, '\0') != BUF_OK)
    return nomem(r);
  return 0;
}

/* Keep the value of pl, base64-decoded when it was written so. */
static int keep_value(ldif_reader *r, const parsed *pl, size_t *off, size_t *len)
{
  unsigned char *bytes;
  int rc;

  if (!pl->b64) {
    *len = pl->val_len;
    return keep(r, pl->val, pl->val_len, off);
  }
  if (!(bytes = malloc(pl->val_len / 4 * 3 + 1)))
    return nomem(r);
  if (base64_decode(pl->val, pl->val_len, bytes, len) != 0)
    rc = fail(r, r->line_at, "bad base64 value of \"%.*s\"", (int)pl->attr_len, pl->attr);
  else
    rc = keep(r, (const char *)bytes, *len, off);
  free(bytes);
  return rc;
}

/* A value that is text: plain values are checked already; base64 ones must decode to UTF-8
 * without NUL bytes. */
static int text_value(ldif_reader *r, const parsed *pl, size_t off, size_t len, const char *what)
{
  const char *p = r->text.p + off;
  if (pl->b64 && !shape_is_text(p, len))
    return fail(r, r->line_at, "%s is not UTF-8 text", what);
  return 0;
}

/* Room for one more item in a reader array, charged before it is made so the reader stays
 * within its memory budget (growing a full array adds its capacity, or the first one). */
static int grow_charged(ldif_reader *r, void *items, size_t n, size_t *cap, size_t size)
{
  int rc;
  if (n < *cap)
    return 0;
  if ((rc = charge(r, (*cap ? *cap : ARRAY_FIRST_CAP) * size)) != 0)
    return rc;
  return array_reserve(items, cap, n + 1, size) != 0 ? nomem(r) : 0;
}

static int add_val(ldif_reader *r, const parsed *pl)
{
  size_t aoff, voff, vlen;
  int rc;
  if ((rc = grow_charged(r, &r->vals, r->n_vals, &r->cap_vals, sizeof *r->vals)) != 0)
    return rc;
  if ((rc = keep(r, pl->attr, pl->attr_len, &aoff)) != 0 ||
      (rc = keep_value(r, pl, &voff, &vlen)) != 0)
    return rc;
  /* Offsets for now: the text buffer may still move. */
  r->vals[r->n_vals++] = (ldif_attrval){(const char *)(uintptr_t)aoff,
                                        (const char *)(uintptr_t)voff, vlen, pl->b64, r->line_at};
  return 0;
}

static int add_mod(ldif_reader *r, ldif_modop op, const parsed *pl)
{
  size_t aoff;
  int rc;
  if ((rc = grow_charged(r, &r->mods, r->n_mods, &r->cap_mods, sizeof *r->mods)) != 0)
    return rc;
  if ((rc = keep(r, pl->val, pl->val_len, &aoff)) != 0)
    return rc;
  r->mods[r->n_mods++] = (ldif_mod){op, (const char *)(uintptr_t)aoff, r->n_vals, 0, r->line_at};
  return 0;
}

/* ---- records ---- */

static int read_attrvals(ldif_reader *r, int *lt)
{
  parsed pl;
  int rc;
  while ((*lt = next_line(r)) == L_LINE) {
    if ((rc = split_line(r, &pl)) != 0 || (rc = charge(r, r->line.len)) != 0)
      return rc;
    if (attr_is(&pl, "dn") || attr_is(&pl, "changetype") || attr_is(&pl, "control"))
      return fail(r, r->line_at, "\"%.*s:\" inside a record (records end with a blank line)",
                  (int)pl.attr_len, pl.attr);
    if ((rc = add_val(r, &pl)) != 0)
      return rc;
  }
  return *lt < 0 ? *lt : 0;
}

static int read_modify(ldif_reader *r)
{
  static const struct {
    const char *name;
    ldif_modop op;
  } ops[] = {{"add", LDIF_MOD_ADD}, {"delete", LDIF_MOD_DELETE}, {"replace", LDIF_MOD_REPLACE}};
  parsed pl;
  int lt, rc;

  while ((lt = next_line(r)) == L_LINE) {
    size_t k, nops = sizeof ops / sizeof *ops;
    ldif_mod *m;
    if ((rc = charge(r, r->line.len)) != 0)
      return rc;
    if (r->line.len == 1 && r->line.p[0] == '-')
      return fail(r, r->line_at, "\"-\" without a modification before it");
    if ((rc = split_line(r, &pl)) != 0)
      return rc;
    for (k = 0; k < nops && !attr_is(&pl, ops[k].name); k++)
      ;
    if (k == nops) {
      if (attr_is(&pl, "increment"))
        return fail(r, r->line_at, "\"increment:\" is not supported");
      return fail(r, r->line_at, "expected \"add:\", \"delete:\" or \"replace:\"");
    }
    if (pl.b64 || !ldif_attr_name(pl.val, pl.val_len))
      return fail(r, r->line_at, "expected an attribute name after \"%s:\"", ops[k].name);
    if ((rc = add_mod(r, ops[k].op, &pl)) != 0)
      return rc;
    m = &r->mods[r->n_mods - 1];
    /* The mod's values, up to "-" (RFC 2849 wants it; a record may end without the last). */
    while ((lt = next_line(r)) == L_LINE) {
      const char *mattr = r->text.p + (uintptr_t)m->attr;
      if ((rc = charge(r, r->line.len)) != 0)
        return rc;
      if (r->line.len == 1 && r->line.p[0] == '-')
        break;
      if ((rc = split_line(r, &pl)) != 0)
        return rc;
      if (!attr_is(&pl, mattr))
        return fail(r, r->line_at, "expected a value of \"%s\" or \"-\"", mattr);
      if ((rc = add_val(r, &pl)) != 0)
        return rc;
      m = &r->mods[r->n_mods - 1];
      m->count++;
    }
    if (lt != L_LINE)
      break;
  }
  return lt < 0 ? lt : 0;
}

/* "name: value" that must come next in a modrdn record; the value is kept. */
static int expect_field(ldif_reader *r, const char *name, bool optional, size_t *off, size_t *len,
                        bool *found)
{
  parsed pl;
  int lt = next_line(r), rc;
  *found = false;
  if (lt < 0)
    return lt;
  if (lt != L_LINE) {
    if (optional)
      return 0;
    return fail(r, r->line_at, "expected \"%s:\"", name);
  }
  if ((rc = split_line(r, &pl)) != 0 || (rc = charge(r, r->line.len)) != 0)
    return rc;
  if (!attr_is(&pl, name))
    return fail(r, r->line_at, optional ? "unexpected line in a modrdn record" : "expected \"%s:\"",
                name);
  if ((rc = keep_value(r, &pl, off, len)) != 0 || (rc = text_value(r, &pl, *off, *len, name)) != 0)
    return rc;
  *found = true;
  return 0;
}

static int read_moddn(ldif_reader *r)
{
  size_t rdn_off, rdn_len, del_off, del_len, sup_off = 0, sup_len = 0;
  bool found, has_sup;
  const char *del;
  int rc, lt;

  if ((rc = expect_field(r, "newrdn", false, &rdn_off, &rdn_len, &found)) != 0)
    return rc;
  if (rdn_len == 0)
    return fail(r, r->line_at, "empty \"newrdn:\"");
  if ((rc = expect_field(r, "deleteoldrdn", false, &del_off, &del_len, &found)) != 0)
    return rc;
  del = r->text.p + del_off;
  if (del_len != 1 || (del[0] != '0' && del[0] != '1'))
    return fail(r, r->line_at, "expected \"deleteoldrdn: 0\" or \"deleteoldrdn: 1\"");
  r->rec.deleteoldrdn = del[0] == '1';
  if ((rc = expect_field(r, "newsuperior", true, &sup_off, &sup_len, &has_sup)) != 0)
    return rc;
  if (has_sup && sup_len == 0)
    return fail(r, r->line_at, "empty \"newsuperior:\"");
  if (has_sup) {
    if ((lt = next_line(r)) < 0)
      return lt;
    if (lt == L_LINE)
      return fail(r, r->line_at, "unexpected line in a modrdn record");
  }
  r->rec.newrdn = (const char *)(uintptr_t)rdn_off;
  r->rec.newrdn_len = rdn_len;
  r->has_sup = has_sup;
  r->rec.newsuperior = (const char *)(uintptr_t)sup_off;
  r->rec.newsuperior_len = sup_len;
  return 0;
}

static int read_change(ldif_reader *r, const parsed *ct)
{
  int lt, rc;
  if (ct->b64)
    return fail(r, r->line_at, "expected a changetype, not base64");
  if (ct->val_len == 3 && strncmp(ct->val, "add", 3) == 0) {
    r->rec.kind = LDIF_ADD;
    if ((rc = read_attrvals(r, &lt)) != 0)
      return rc;
    if (r->n_vals == 0)
      return fail(r, r->rec.line, "add record without attributes");
    return 0;
  }
  if (ct->val_len == 6 && strncmp(ct->val, "delete", 6) == 0) {
    r->rec.kind = LDIF_DELETE;
    if ((lt = next_line(r)) < 0)
      return lt;
    if (lt == L_LINE)
      return fail(r, r->line_at, "unexpected line in a delete record");
    return 0;
  }
  if (ct->val_len == 6 && strncmp(ct->val, "modify", 6) == 0) {
    r->rec.kind = LDIF_MODIFY;
    return read_modify(r);
  }
  if ((ct->val_len == 6 && strncmp(ct->val, "modrdn", 6) == 0) ||
      (ct->val_len == 5 && strncmp(ct->val, "moddn", 5) == 0)) {
    r->rec.kind = LDIF_MODDN;
    return read_moddn(r);
  }
  return fail(r, r->line_at, "unknown changetype \"%.*s\"",
              (int)(ct->val_len > 32 ? 32 : ct->val_len), ct->val);
}

/* Turn the offsets of a complete record into pointers into its text. */
static void resolve(ldif_reader *r)
{
  const char *base = r->text.p;
  for (size_t i = 0; i < r->n_vals; i++) {
    r->vals[i].attr = base + (uintptr_t)r->vals[i].attr;
    r->vals[i].val = base + (uintptr_t)r->vals[i].val;
  }
  for (size_t i = 0; i < r->n_mods; i++)
    r->mods[i].attr = base + (uintptr_t)r->mods[i].attr;
  r->rec.dn = base + (uintptr_t)r->rec.dn;
  if (r->rec.kind == LDIF_MODDN) {
    r->rec.newrdn = base + (uintptr_t)r->rec.newrdn;
    r->rec.newsuperior = r->has_sup ? base + (uintptr_t)r->rec.newsuperior : NULL;
  }
  r->rec.vals = r->vals;
  r->rec.n_vals = r->n_vals;
  r->rec.mods = r->mods;
  r->rec.n_mods = r->n_mods;
}

int ldif_next(ldif_reader *r, const ldif_record **out)
{
  parsed pl;
  size_t dn_off;
  int lt, rc;

  buf_reset(&r->text);
  r->n_vals = r->n_mods = 0;
  r->charged = r->cap_vals * sizeof *r->vals + r->cap_mods * sizeof *r->mods;
  memset(&r->rec, 0, sizeof r->rec);
  while ((lt = next_line(r)) == L_BLANK)
    ;
  if (lt <= L_END)
    return lt;
  r->rec.line = r->line_at;
  if (r->at_start) {
    r->at_start = false;
    if ((rc = split_line(r, &pl)) != 0)
      return rc;
    if (attr_is(&pl, "version")) {
      if (pl.b64 || pl.val_len != 1 || pl.val[0] != '1')
        return fail(r, r->line_at, "unsupported LDIF version (only \"version: 1\")");
      while ((lt = next_line(r)) == L_BLANK)
        ;
      if (lt <= L_END)
        return lt;
      r->rec.line = r->line_at;
    }
  }
  r->rec.offset = r->line_off;
  if ((rc = charge(r, r->line.len)) != 0 || (rc = split_line(r, &pl)) != 0)
    return rc;
  if (!attr_is(&pl, "dn"))
    return fail(r, r->line_at, "expected \"dn:\" to start a record");
  if ((rc = keep_value(r, &pl, &dn_off, &r->rec.dn_len)) != 0 ||
      (rc = text_value(r, &pl, dn_off, r->rec.dn_len, "DN")) != 0)
    return rc;
  if (r->rec.dn_len == 0)
    return fail(r, r->line_at, "empty DN");
  r->rec.dn = (const char *)(uintptr_t)dn_off;
  if ((lt = next_line(r)) < 0)
    return lt;
  if (lt != L_LINE)
    return fail(r, r->rec.line, "entry without attributes");
  if ((rc = split_line(r, &pl)) != 0 || (rc = charge(r, r->line.len)) != 0)
    return rc;
  if (attr_is(&pl, "control"))
    return fail(r, r->line_at, "controls are not supported");
  if (attr_is(&pl, "changetype")) {
    if ((rc = read_change(r, &pl)) != 0)
      return rc;
  } else {
    r->rec.kind = LDIF_CONTENT;
    if ((rc = add_val(r, &pl)) != 0 || (rc = read_attrvals(r, &lt)) != 0)
      return rc;
  }
  resolve(r);
  *out = &r->rec;
  return LDIF_RECORD;
}

/* ---- writing ---- */

/* RFC 2849 SAFE-STRING, and no trailing space (some readers drop it). */
static bool safe_string(const char *p, size_t n)
{
  if (n == 0)
    return true;
  if (p[0] == ' ' || p[0] == ':' || p[0] == '<' || p[n - 1] == ' ')
    return false;
  for (size_t i = 0; i < n; i++)
    if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r' || (unsigned char)p[i] >= 0x80)
      return false;
  return true;
}

int ldif_put(buf *out, const char *attr, const char *val, size_t n, bool binary)
{
  int rc;
  if (!binary && safe_string(val, n)) {
    if ((rc = buf_adds(out, attr)) != BUF_OK ||
        (rc = buf_add(out, n ? ": " : ":", n ? 2 : 1)) != BUF_OK ||
        (rc = buf_add(out, val, n)) != BUF_OK)
      return rc;
    return buf_addc(out, '\n');
  }
  {
    char *enc = malloc(base64_encoded_len(n) + 1);
    if (!enc)
      return BUF_NOMEM;
    base64_encode(val, n, enc);
    if ((rc = buf_adds(out, attr)) == BUF_OK && (rc = buf_add(out, ":: ", 3)) == BUF_OK)
      rc = buf_add(out, enc, base64_encoded_len(n));
    free(enc);
    if (rc != BUF_OK)
      return rc;
  }
  return buf_addc(out, '\n');
}
