/* xml_dump — prints what schema/xml.c reads from each file, in the form
 * tests/xml/expat_compare.py prints from Python's expat for the same file, so the two readers
 * can be compared: per element "<name> LINE", then "@name=value" per attribute and
 * "text=..." for its own character data (escaped as below), then "</name>".  A file that does
 * not parse prints "error: LINE:COL: message" and makes the exit code 1.
 * Memory: each file's text and document are freed before the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/xml.h"
#include "test_file.h"

/* Bytes as they are, except backslash, newline, CR and tab, written \\ \n \r \t. */
static void put_escaped(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\r': fputs("\\r", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    default: putchar(s[i]);
    }
  }
}

static void dump(const xml_node *e)
{
  printf("<%s> %u\n", e->name, e->line);
  for (size_t i = 0; i < e->n_attrs; i++) {
    printf("@%s=", e->attrs[i].name);
    put_escaped(e->attrs[i].value, strlen(e->attrs[i].value));
    putchar('\n');
  }
  if (e->text_len) {
    fputs("text=", stdout);
    put_escaped(e->text, e->text_len);
    putchar('\n');
  }
  for (const xml_node *c = e->first; c; c = c->next)
    dump(c);
  printf("</%s>\n", e->name);
}

int main(int argc, char **argv)
{
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    size_t len;
    char *text = test_read_file(argv[i], &len), err[512];
    xml_doc *d;
    if (!text) {
      perror(argv[i]);
      return 2;
    }
    if (xml_parse(text, len, &d, err, sizeof err) != 0) {
      printf("error: %s\n", err);
      rc = 1;
    } else {
      dump(d->root);
      xml_free(d);
    }
    free(text);
  }
  return rc;
}
