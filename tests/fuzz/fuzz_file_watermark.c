/* fuzz_file_watermark — libFuzzer target for the file connector's stored watermark
 * (connectors/file/file_conn.c): any text either is refused or gives fields that
 * fc_watermark_format writes back as a watermark with the same fields, and that written
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
    check(w.fields == 1 || w.fields == 5);
    check((written = fc_watermark_format(w.off, w.tail, &fp)) != NULL);
    check(fc_watermark_parse(written, &w2) == 0 && w2.fields == 5 && w2.off == w.off &&
          (w.fields == 1 || (w2.tail == w.tail && w2.snap_size == w.snap_size &&
                             w2.sec == w.sec && w2.nsec == w.nsec)));
    check((again = fc_watermark_format(w2.off, w2.tail, &fp)) != NULL &&
          strcmp(again, written) == 0 && fc_watermark_parse(again, &w3) == 0);
    free(written);
    free(again);
  }
  free(text);
  return 0;
}
