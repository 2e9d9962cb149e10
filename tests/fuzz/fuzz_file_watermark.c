/* fuzz_file_watermark — libFuzzer target for the file connector's stored watermark
 * (connectors/file/file_conn.c): any text either is refused or gives fields that
 * fc_watermark_format writes back as a watermark with the same fields (the older forms
 * gain LINES 0, DNS 0 and HOLDS 0), and that written
 * watermark reads back unchanged (format and parse are inverse).  Memory: per input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/file/file_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = strndup((const char *)data, size), *written, *again;
  fc_watermark w, w2, w3;

  if (!text)
    return 0;
  if (fc_watermark_parse(text, &w) == 0) {
    fingerprint fp = {0, w.snap_size, {(time_t)w.sec, w.nsec}};
    long lines = w.fields == 8 ? w.lines : 0;
    bool dns = w.fields == 8 && w.dns_folded;
    uint64_t holds = w.fields == 8 ? w.holds : 0;
    check(w.fields == 1 || w.fields == 5 || w.fields == 8);
    check((written = fc_watermark_format(w.off, w.tail, &fp, lines, dns, holds)) != NULL);
    check(fc_watermark_parse(written, &w2) == 0 && w2.fields == 8 && w2.off == w.off &&
          w2.lines == lines && w2.dns_folded == dns && w2.holds == holds &&
          (w.fields == 1 || (w2.tail == w.tail && w2.snap_size == w.snap_size &&
                             w2.sec == w.sec && w2.nsec == w.nsec)));
    check((again = fc_watermark_format(w2.off, w2.tail, &fp, w2.lines, w2.dns_folded, w2.holds)) != NULL &&
          strcmp(again, written) == 0 && fc_watermark_parse(again, &w3) == 0);
    free(written);
    free(again);
  }
  free(text);
  return 0;
}
