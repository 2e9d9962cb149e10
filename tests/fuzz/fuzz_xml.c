/* fuzz_xml — libFuzzer target for the XML reader (schema/xml.c), which reads Connect Sync's
 * server-configuration exports: a document that reads is written back as XML (own text
 * first, then the child elements, every special character escaped) and must read back to the
 * same tree.  Memory: everything is freed per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_escaped(buf *b, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '<': buf_adds(b, "&lt;"); break;
    case '>': buf_adds(b, "&gt;"); break;
    case '&': buf_adds(b, "&amp;"); break;
    case '"': buf_adds(b, "&quot;"); break;
    case '\r': buf_adds(b, "&#13;"); break;
    case '\n': buf_adds(b, "&#10;"); break;
    case '\t': buf_adds(b, "&#9;"); break;
    default: buf_addc(b, s[i]);
    }
  }
}

static void write_node(buf *b, const xml_node *e)
{
  buf_printf(b, "<%s", e->name);
  for (size_t i = 0; i < e->n_attrs; i++) {
    buf_printf(b, " %s=\"", e->attrs[i].name);
    put_escaped(b, e->attrs[i].value, strlen(e->attrs[i].value));
    buf_addc(b, '"');
  }
  buf_addc(b, '>');
  put_escaped(b, e->text, e->text_len);
  for (const xml_node *c = e->first; c; c = c->next)
    write_node(b, c);
  buf_printf(b, "</%s>", e->name);
}

static int same_tree(const xml_node *a, const xml_node *b)
{
  if (strcmp(a->name, b->name) != 0 || a->text_len != b->text_len ||
      memcmp(a->text, b->text, a->text_len) != 0 || a->n_attrs != b->n_attrs)
    return 0;
  for (size_t i = 0; i < a->n_attrs; i++)
    if (strcmp(a->attrs[i].name, b->attrs[i].name) != 0 ||
        strcmp(a->attrs[i].value, b->attrs[i].value) != 0)
      return 0;
  for (a = a->first, b = b->first; a && b; a = a->next, b = b->next)
    if (!same_tree(a, b))
      return 0;
  return !a && !b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  xml_doc *d = NULL, *again = NULL;
  char err[256];
  buf out;

  if (xml_parse((const char *)data, size, &d, err, sizeof err) != 0) {
    if (!err[0])
      abort(); /* a failure always says why */
    return 0;
  }
  buf_init(&out, 0);
  write_node(&out, d->root);
  if (out.len && (xml_parse(out.p, out.len, &again, err, sizeof err) != 0 ||
                  !same_tree(d->root, again->root)))
    abort(); /* what was read, written back, reads as something else */
  buf_free(&out);
  xml_free(again);
  xml_free(d);
  return 0;
}
