/* fuzz_graph_reply — libFuzzer target for what the Entra connector reads from Graph and the
 * token endpoint outside the streamed pages (fuzz_graph_json): a $batch reply's items, a
 * token reply, the error envelope, Retry-After, and the origin of a URL the server hands
 * back (nextLink / deltaLink are only followed on the Graph origin), and the deltaLink
 * watermark the connector stores.  The input is each of them in turn.  Invariants: batch items have an id, a code and a message; at most one item
 * per response; a token is non-empty, on one line, with a lifetime of 60 s to 1 day; error
 * texts fit their buffers; a wait is never negative unless "none" (-1); an origin is
 * lower-case "http(s)://host:port" and its own origin.  Memory: per input. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/graph/graph_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
  if (!ok)
    abort();
}

typedef struct counted {
  size_t items;
} counted;

static void on_item(void *u, const graph_batch_item *it)
{
  counted *c = u;
  c->items++;
  check(it->id && it->code && it->message);
  check(it->retry_after == -1 || (it->retry_after >= 0 && isfinite(it->retry_after)));
}

/* The deltaLink watermark: text as a stored watermark gives one line's rest or nothing; the
 * first two lines of text, as links written in the watermark's format, read back exactly. */
static void watermark(const char *text)
{
  static const char *const colls[] = {"users", "groups"};
  size_t n1 = strcspn(text, "\n"), n2 = text[n1] ? strcspn(text + n1 + 1, "\n") : 0;
  char *written = NULL;

  for (int t = 0; t < 2; t++) {
    char *link = graph_watermark_link(text, colls[t]);
    check(!link || (link[0] && !strchr(link, '\n')));
    free(link);
  }
  if (n1 && n2 &&
      (written = graph_printf("mvsync-entra-delta 1\nusers %.*s\ngroups %.*s\n", (int)n1, text,
                              (int)n2, text + n1 + 1))) {
    for (int t = 0; t < 2; t++) {
      char *link = graph_watermark_link(written, colls[t]);
      check(link && strlen(link) == (t ? n2 : n1) &&
            memcmp(link, t ? text + n1 + 1 : text, t ? n2 : n1) == 0);
      free(link);
    }
  }
  free(written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1), code[128], msg[512], origin[GRAPH_ORIGIN_MAX],
       again[GRAPH_ORIGIN_MAX], *token = NULL;
  counted c = {0};
  gh_reply r;
  long expires = 0;
  double wait;
  int rc;

  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';

  /* Every item is a response object, and an object has at most size / 2 bytes' worth. */
  if (graph_batch_items(text, on_item, &c) == 0)
    check(c.items <= size / 2);

  rc = graph_token_parse(text, &token, &expires);
  check(rc == 0 ? token && token[0] && !strpbrk(token, "\r\n") && expires >= 60 &&
                      expires <= 86400
                : !token);
  free(token);

  memset(&r, 0, sizeof r);
  buf_init(&r.body, 0);
  check(buf_add(&r.body, text, size) == BUF_OK);
  graph_error_of(&r, code, sizeof code, msg, sizeof msg);
  check(strlen(code) < sizeof code && strlen(msg) < sizeof msg);
  gh_reply_free(&r);

  wait = gh_parse_retry_after(text, size);
  check(wait == -1 || (wait >= 0 && isfinite(wait)));

  if (gh_origin(text, origin, sizeof origin) == 0) {
    check(strncmp(origin, "http://", 7) == 0 || strncmp(origin, "https://", 8) == 0);
    for (const char *p = origin; *p; p++)
      check(*p < 'A' || *p > 'Z');
    check(gh_origin(origin, again, sizeof again) == 0 && strcmp(origin, again) == 0);
  }
  watermark(text);
  free(text);
  return 0;
}
