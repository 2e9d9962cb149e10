/* fuzz_connect_import — libFuzzer target for `rules import connect` without the file system:
 * an input starting with '<' is one XML file of a Connect export (schema/xml.c, then
 * connect_add_xml), anything else a PowerShell rules export (connect_ps.c).  Whatever it
 * holds, every file the writer makes must read back as a rule file without errors (the writer
 * reports what it cannot express instead of writing it), and formatting it again changes
 * nothing.  Memory: everything is freed per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/connect_import.h"
#include "rules/ruleset.h"
#include "schema/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_file(const connect_file *f)
{
  rule_set *rs = rule_set_new();
  rule_diags d;
  buf out;

  rule_diags_init(&d);
  buf_init(&out, 0);
  if (!rs)
    abort();
  if (rule_set_parse(rs, f->name, f->text, f->len, &d) != RULE_OK)
    abort(); /* the writer wrote something mvsync cannot read */
  if (rule_fmt_file(rs, 0, &out) != RULE_OK || out.len != f->len ||
      memcmp(out.p, f->text, f->len) != 0)
    abort(); /* what was written is not `rules fmt` output */
  buf_free(&out);
  rule_diags_free(&d);
  rule_set_free(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  connect_export *x = connect_export_new();
  xml_doc *doc = NULL;
  char err[256];
  int rc;

  if (!x)
    return 0;
  if (size && data[0] == '<') {
    if (xml_parse((const char *)data, size, &doc, err, sizeof err) != 0) {
      connect_export_free(x);
      return 0;
    }
    rc = connect_add_xml(x, "fuzz.xml", doc->root);
    xml_free(doc);
  } else {
    rc = connect_add_powershell(x, "fuzz.ps1", (const char *)data, size);
  }
  if (rc == CONNECT_OK && connect_export_write(x) == CONNECT_OK)
    for (size_t i = 0; i < x->n_files; i++)
      check_file(&x->files[i]);
  connect_export_free(x);
  return 0;
}
