/* xml — a small, non-validating XML reader (see xml.h).  One pass over the bytes after a
 * check that they are UTF-8 without control characters; elements are built straight into the
 * document's arena, and the character data of each open element gathers in a buf of its own
 * (a stack as deep as the nesting), so text split by comments or CDATA costs linear time.
 * Memory: everything reachable from the xml_doc lives in its arena. */
#include "schema/xml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/array.h"
#include "schema/utf8.h"

typedef struct parser {
  const char *s;
  size_t n, i;
  size_t line_at, line, line_start;  /* line counting up to line_at, done lazily */
  mvs_arena *a;
  char *err;
  size_t errlen;
  bool failed;
  buf text[XML_MAX_DEPTH];           /* character data of each open element */
  size_t depth;
} parser;

/* Line and column of byte offset off (>= every offset asked before). */
static void position(parser *p, size_t off, uint32_t *line, uint32_t *col)
{
  if (off < p->line_at) {
    p->line_at = p->line_start = 0;
    p->line = 1;
  }
  /* A line ends at LF, CR LF or a lone CR (XML's end-of-line handling). */
  for (; p->line_at < off && p->line_at < p->n; p->line_at++)
    if (p->s[p->line_at] == '\n' ||
        (p->s[p->line_at] == '\r' && (p->line_at + 1 >= p->n || p->s[p->line_at + 1] != '\n'))) {
      p->line++;
      p->line_start = p->line_at + 1;
    }
  *line = (uint32_t)p->line;
  *col = (uint32_t)(off - p->line_start + 1);
}

static int fail_at(parser *p, size_t off, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static int fail_at(parser *p, size_t off, const char *fmt, ...)
{
  uint32_t line, col;
  int k;
  va_list ap;

  if (p->failed)
    return -1;
  p->failed = true;
  position(p, off, &line, &col);
  k = snprintf(p->err, p->errlen, "%u:%u: ", line, col);
  if (k >= 0 && (size_t)k < p->errlen) {
    va_start(ap, fmt);
    vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int nomem(parser *p)
{
  if (!p->failed) {
    p->failed = true;
    snprintf(p->err, p->errlen, "out of memory");
  }
  return -1;
}

/* The whole input must be UTF-8 without control characters other than tab, CR and LF (XML
 * 1.0's Char production, minus the surrogates utf8_decode already refuses). */
static int check_chars(parser *p)
{
  size_t i = 0, len;
  while (i < p->n) {
    unsigned char c = (unsigned char)p->s[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
        return fail_at(p, i, "control character 0x%02X is not allowed in XML", c);
      i++;
      continue;
    }
    if (utf8_decode(p->s + i, p->n - i, &len) == 0xFFFD && len == 1)
      return fail_at(p, i, "invalid UTF-8 byte 0x%02X (the reader takes UTF-8 only)", c);
    i += len;
  }
  return 0;
}

static bool at(const parser *p, const char *lit)
{
  size_t k = strlen(lit);
  return p->n - p->i >= k && memcmp(p->s + p->i, lit, k) == 0;
}

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Append raw text to b with XML's end-of-line handling (CR LF and a lone CR read as LF);
 * in an attribute value every tab, CR and LF then reads as a space (attribute-value
 * normalization; character references are exempt: they do not pass through here). */
static int add_raw(parser *p, buf *b, const char *s, size_t n, bool attr)
{
  size_t i = 0, run;
  while (i < n) {
    for (run = i; run < n && s[run] != '\r' && !(attr && (s[run] == '\n' || s[run] == '\t'));
         run++)
      ;
    if (buf_add(b, s + i, run - i) != BUF_OK)
      return nomem(p);
    if (run == n)
      break;
    if (buf_addc(b, attr ? ' ' : '\n') != BUF_OK)
      return nomem(p);
    i = run + (s[run] == '\r' && run + 1 < n && s[run + 1] == '\n' ? 2 : 1);
  }
  return 0;
}

static void skip_space(parser *p)
{
  while (p->i < p->n && is_space(p->s[p->i]))
    p->i++;
}

static bool name_start(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
  return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* A name at p->i, copied into the arena. */
static const char *read_name(parser *p, const char *what)
{
  size_t start = p->i;
  const char *s;
  if (p->i >= p->n || !name_start((unsigned char)p->s[p->i])) {
    fail_at(p, p->i, "expected %s", what);
    return NULL;
  }
  while (p->i < p->n && name_char((unsigned char)p->s[p->i]))
    p->i++;
  if (!(s = mvs_arena_memdup(p->a, p->s + start, p->i - start)))
    nomem(p);
  return s;
}

/* Skip to just past `end`, or fail naming what was left open at `start`. */
static int skip_past(parser *p, const char *end, size_t start, const char *what)
{
  const char *hit = NULL;
  size_t k = strlen(end);
  if (p->i <= p->n)
    hit = memmem(p->s + p->i, p->n - p->i, end, k);
  if (!hit)
    return fail_at(p, start, "%s is not closed with '%s'", what, end);
  p->i = (size_t)(hit - p->s) + k;
  return 0;
}

/* Append the decoded reference at p->i ('&') to b. */
static int read_reference(parser *p, buf *b)
{
  static const struct { const char *name; char c; } named[] = {
    {"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}};
  size_t start = p->i, k;
  uint32_t cp = 0;
  char enc[4];

  p->i++;
  for (k = 0; k < sizeof named / sizeof named[0]; k++)
    if (at(p, named[k].name)) {
      p->i += strlen(named[k].name);
      return buf_addc(b, named[k].c) == BUF_OK ? 0 : nomem(p);
    }
  if (p->i < p->n && p->s[p->i] == '#') {
    bool hex = p->i + 1 < p->n && p->s[p->i + 1] == 'x';
    size_t digits = 0;
    p->i += hex ? 2 : 1;
    for (; p->i < p->n && p->s[p->i] != ';'; p->i++, digits++) {
      char c = p->s[p->i];
      int v = c >= '0' && c <= '9' ? c - '0'
              : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
              : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (v < 0)
        return fail_at(p, start, "invalid character reference");
      cp = cp * (hex ? 16u : 10u) + (uint32_t)v;
      if (cp > 0x10FFFF)
        return fail_at(p, start, "character reference beyond U+10FFFF");
    }
    if (p->i >= p->n || !digits)
      return fail_at(p, start, "invalid character reference");
    p->i++;
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
      return fail_at(p, start, "character reference to U+%04X, which XML does not allow", cp);
    return buf_add(b, enc, utf8_encode(cp, enc)) == BUF_OK ? 0 : nomem(p);
  }
  return fail_at(p, start, "unknown entity (only &lt; &gt; &amp; &quot; &apos; and &#N; are "
                           "known; there is no DTD)");
}

/* Character data up to the next '<' into b. */
static int read_text(parser *p, buf *b)
{
  while (p->i < p->n && p->s[p->i] != '<') {
    size_t start = p->i;
    if (p->s[p->i] == '&') {
      if (read_reference(p, b) != 0)
        return -1;
      continue;
    }
    while (p->i < p->n && p->s[p->i] != '<' && p->s[p->i] != '&') {
      if (p->s[p->i] == ']' && at(p, "]]>"))
        return fail_at(p, p->i, "']]>' is not allowed in character data");
      p->i++;
    }
    if (add_raw(p, b, p->s + start, p->i - start, false) != 0)
      return -1;
  }
  return 0;
}

static int read_attr_value(parser *p, const char **out)
{
  buf b;
  char q;
  size_t start = p->i;
  int rc = -1;

  buf_init(&b, 0);
  if (p->i >= p->n || (p->s[p->i] != '"' && p->s[p->i] != '\''))
    return fail_at(p, p->i, "expected a quoted attribute value");
  q = p->s[p->i++];
  while (p->i < p->n && p->s[p->i] != q) {
    if (p->s[p->i] == '<') {
      fail_at(p, p->i, "'<' is not allowed in an attribute value");
      goto out;
    }
    if (p->s[p->i] == '&') {
      if (read_reference(p, &b) != 0)
        goto out;
      continue;
    }
    {
      size_t run = p->i;
      while (run < p->n && p->s[run] != q && p->s[run] != '<' && p->s[run] != '&')
        run++;
      if (add_raw(p, &b, p->s + p->i, run - p->i, true) != 0)
        goto out;
      p->i = run;
    }
  }
  if (p->i >= p->n) {
    fail_at(p, start, "attribute value is not closed");
    goto out;
  }
  p->i++;
  if (!(*out = mvs_arena_memdup(p->a, b.len ? b.p : "", b.len))) {
    nomem(p);
    goto out;
  }
  rc = 0;
out:
  buf_free(&b);
  return rc;
}

/* A start tag at p->i ('<' name): the node, its attributes, and whether it closed itself. */
static xml_node *read_start_tag(parser *p, xml_node *parent, bool *empty)
{
  xml_node *e = mvs_arena_alloc(p->a, sizeof *e);
  size_t cap = 0;

  if (!e) {
    nomem(p);
    return NULL;
  }
  memset(e, 0, sizeof *e);
  position(p, p->i, &e->line, &e->col);
  e->parent = parent;
  e->text = "";
  p->i++;
  if (!(e->name = read_name(p, "an element name after '<'")))
    return NULL;
  for (;;) {
    size_t before = p->i;
    xml_attr *at_;
    skip_space(p);
    if (at(p, "/>")) {
      p->i += 2;
      *empty = true;
      return e;
    }
    if (at(p, ">")) {
      p->i++;
      *empty = false;
      return e;
    }
    if (p->i >= p->n) {
      fail_at(p, p->i, "start tag <%s> is not closed", e->name);
      return NULL;
    }
    if (p->i == before) {
      fail_at(p, p->i, "expected white space, '>' or '/>' in <%s>", e->name);
      return NULL;
    }
    if (array_reserve_in(p->a, &e->attrs, e->n_attrs, &cap, e->n_attrs + 1, sizeof *e->attrs)) {
      nomem(p);
      return NULL;
    }
    at_ = &e->attrs[e->n_attrs];
    if (!(at_->name = read_name(p, "an attribute name")))
      return NULL;
    for (size_t k = 0; k < e->n_attrs; k++)
      if (strcmp(e->attrs[k].name, at_->name) == 0) {
        fail_at(p, p->i, "attribute '%s' given twice in <%s>", at_->name, e->name);
        return NULL;
      }
    skip_space(p);
    if (!at(p, "=")) {
      fail_at(p, p->i, "expected '=' after attribute '%s'", at_->name);
      return NULL;
    }
    p->i++;
    skip_space(p);
    if (read_attr_value(p, &at_->value) != 0)
      return NULL;
    e->n_attrs++;
  }
}

/* Comments, processing instructions, a DOCTYPE (refused) and white space before or after the
 * root element. */
static int read_misc(parser *p)
{
  for (;;) {
    size_t start;
    skip_space(p);
    start = p->i;
    if (at(p, "<!--")) {
      p->i += 4;
      if (skip_past(p, "-->", start, "comment") != 0)
        return -1;
    } else if (at(p, "<?")) {
      if (skip_past(p, "?>", start, "processing instruction") != 0)
        return -1;
    } else if (at(p, "<!DOCTYPE")) {
      return fail_at(p, start, "DOCTYPE is not supported (no DTD is read)");
    } else {
      return 0;
    }
  }
}

/* Close element e: its gathered text moves into the arena. */
static int close_element(parser *p, xml_node *e)
{
  buf *b = &p->text[p->depth - 1];
  if (b->len) {
    char *t = mvs_arena_memdup(p->a, b->p, b->len);
    if (!t)
      return nomem(p);
    e->text = t;
    e->text_len = b->len;
  }
  buf_reset(b);
  p->depth--;
  return 0;
}

static int read_document(parser *p, xml_node **root)
{
  xml_node *cur = NULL, *last_child[XML_MAX_DEPTH + 1] = {0};
  bool empty;

  if (at(p, "\xEF\xBB\xBF"))
    p->i += 3;
  if (read_misc(p) != 0)
    return -1;
  if (!at(p, "<"))
    return fail_at(p, p->i, p->i >= p->n ? "no root element" : "expected the root element");
  if (!(cur = read_start_tag(p, NULL, &empty)))
    return -1;
  *root = cur;
  if (empty)
    return read_misc(p) != 0 ? -1 : p->i < p->n ? fail_at(p, p->i, "content after the root element") : 0;
  p->depth = 1;
  while (cur) {
    size_t start = p->i;
    if (p->i >= p->n)
      return fail_at(p, p->i, "element <%s> (line %u) is not closed", cur->name, cur->line);
    if (p->s[p->i] != '<') {
      if (read_text(p, &p->text[p->depth - 1]) != 0)
        return -1;
    } else if (at(p, "<!--")) {
      p->i += 4;
      if (skip_past(p, "-->", start, "comment") != 0)
        return -1;
    } else if (at(p, "<![CDATA[")) {
      const char *body = p->s + p->i + 9;
      p->i += 9;
      if (skip_past(p, "]]>", start, "CDATA section") != 0)
        return -1;
      if (add_raw(p, &p->text[p->depth - 1], body, (size_t)(p->s + p->i - 3 - body), false))
        return -1;
    } else if (at(p, "<?")) {
      if (skip_past(p, "?>", start, "processing instruction") != 0)
        return -1;
    } else if (at(p, "<!")) {
      return fail_at(p, start, "markup declarations are not supported inside elements");
    } else if (at(p, "</")) {
      const char *name;
      p->i += 2;
      if (!(name = read_name(p, "an element name after '</'")))
        return -1;
      if (strcmp(name, cur->name) != 0)
        return fail_at(p, start, "</%s> closes <%s> (line %u)", name, cur->name, cur->line);
      skip_space(p);
      if (!at(p, ">"))
        return fail_at(p, p->i, "expected '>' to end </%s>", name);
      p->i++;
      if (close_element(p, cur) != 0)
        return -1;
      cur = cur->parent;
    } else {
      xml_node *e;
      if (p->depth >= XML_MAX_DEPTH)
        return fail_at(p, start, "elements nest deeper than %d", XML_MAX_DEPTH);
      if (!(e = read_start_tag(p, cur, &empty)))
        return -1;
      if (last_child[p->depth])
        last_child[p->depth]->next = e;
      else
        cur->first = e;
      last_child[p->depth] = e;
      if (!empty) {
        last_child[++p->depth] = NULL;
        cur = e;
      }
    }
  }
  if (read_misc(p) != 0)
    return -1;
  return p->i < p->n ? fail_at(p, p->i, "content after the root element") : 0;
}

int xml_parse(const char *src, size_t len, xml_doc **out, char *err, size_t errlen)
{
  parser *p = calloc(1, sizeof *p);
  xml_doc *d = NULL;
  int rc = -1;
  size_t k;

  *out = NULL;
  if (errlen)
    err[0] = '\0';
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  p->s = src;
  p->n = len;
  p->line = 1;
  p->err = err;
  p->errlen = errlen;
  for (k = 0; k < XML_MAX_DEPTH; k++)
    buf_init(&p->text[k], 0);
  /* Nodes, names and text take a few times the input; the cap only stops a runaway (callers
   * read files of at most XML_MAX_INPUT bytes). */
  if (!(d = calloc(1, sizeof *d)) || !(d->arena = mvs_arena_new((size_t)1 << 30))) {
    nomem(p);
    goto out;
  }
  p->a = d->arena;
  if (check_chars(p) != 0 || read_document(p, &d->root) != 0)
    goto out;
  *out = d;
  d = NULL;
  rc = 0;
out:
  for (k = 0; k < XML_MAX_DEPTH; k++)
    buf_free(&p->text[k]);
  free(p);
  xml_free(d);
  return rc;
}

void xml_free(xml_doc *d)
{
  if (!d)
    return;
  mvs_arena_free(d->arena);
  free(d);
}

static const char *local_name(const char *name)
{
  const char *c = strrchr(name, ':');
  return c ? c + 1 : name;
}

bool xml_is(const xml_node *n, const char *local)
{
  return n && strcmp(local_name(n->name), local) == 0;
}

const xml_node *xml_child(const xml_node *n, const char *local)
{
  const xml_node *c;
  for (c = n ? n->first : NULL; c; c = c->next)
    if (xml_is(c, local))
      return c;
  return NULL;
}

const xml_node *xml_next(const xml_node *n, const char *local)
{
  const xml_node *c;
  for (c = n ? n->next : NULL; c; c = c->next)
    if (xml_is(c, local))
      return c;
  return NULL;
}

const char *xml_child_text(const xml_node *n, const char *local)
{
  const xml_node *c = xml_child(n, local);
  return c ? c->text : NULL;
}

const char *xml_attr_get(const xml_node *n, const char *local)
{
  size_t i;
  for (i = 0; n && i < n->n_attrs; i++)
    if (strcmp(local_name(n->attrs[i].name), local) == 0)
      return n->attrs[i].value;
  return NULL;
}
