/* graph_parse — network-free tests of the Entra connector's readers on the golden fixtures
 * (tests/fixtures/graph/): each NAME.json is fed through the Graph JSON push reader whole and
 * in random chunk sizes, every feeding must give the same typed changes and links, and those
 * (plus the error envelope, $batch items, and the Retry-After / Location of NAME.headers) must
 * equal tests/graph/parse/NAME.expected.  `--print` prints instead (to write an expected file, then
 * read it).  Memory: per fixture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/graph_json.h"
#include "connectors/graph/graph_int.h"
#include "schema/value_json.h"
#include "test_file.h"

#define CHUNKINGS 64

static const char *const op_names[] = {"replace", "add", "delete"};

static int print_change(void *u, const fchange *ch)
{
  buf *out = u;
  buf_printf(out, "%s %s %s\n", ch->kind == FCH_DELETE ? "delete" : "upsert",
             ch->type ? ch->type : "-", ch->anchor);
  for (size_t i = 0; i < ch->n_attrs; i++) {
    buf_printf(out, "  %s %s ", op_names[ch->attrs[i].op], ch->attrs[i].name);
    value_json_write(out, ch->attrs[i].value);
    buf_addc(out, '\n');
  }
  return 0;
}

/* The reader's account of data fed in chunks from cut points chosen by seed (0: whole). */
static void read_page(const char *name, const char *data, size_t n, unsigned seed, buf *out)
{
  shape const *s = shape_find("entra");
  ftyper typer = {s, NULL, 0};
  gj_opts o = {name, &typer, false, 1 << 20, NULL, 0, 0};
  gj_reader *r = gj_reader_new(&o, print_change, out);
  size_t off = 0;
  int rc = GJ_OK;

  srand(seed);
  while (off < n && rc == GJ_OK) {
    size_t k = seed == 0 ? n : 1 + (size_t)rand() % (seed % 3 == 0 ? 3 : 97);
    if (k > n - off)
      k = n - off;
    rc = gj_reader_feed(r, data + off, k);
    off += k;
  }
  if (rc == GJ_OK)
    rc = gj_reader_end(r);
  if (rc != GJ_OK)
    buf_printf(out, "reader: %s\n", gj_reader_error(r));
  if (gj_reader_link(r, GJ_NEXT_LINK))
    buf_printf(out, "next %s\n", gj_reader_link(r, GJ_NEXT_LINK));
  if (gj_reader_link(r, GJ_DELTA_LINK))
    buf_printf(out, "delta %s\n", gj_reader_link(r, GJ_DELTA_LINK));
  gj_reader_free(r);
}

static void print_item(void *u, const graph_batch_item *it)
{
  buf_printf(u, "item %s: %ld retry-after %.0f %s%s%s%s%s\n", it->id, it->status, it->retry_after,
             it->code, it->message[0] ? ": " : "", it->message, it->new_id ? " id " : "",
             it->new_id ? it->new_id : "");
}

/* What the connector reads from NAME.headers: Retry-After and Location. */
static void read_headers(const char *path, buf *out)
{
  size_t n;
  char *text = test_read_file(path, &n), *line, *save = NULL;
  if (!text)
    return;
  for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "HTTP/", 5) == 0)
      buf_printf(out, "status %s\n", strchr(line, ' ') ? strchr(line, ' ') + 1 : line);
    else if (colon && strncasecmp(line, "Retry-After", 11) == 0)
      buf_printf(out, "retry-after %.0f\n", gh_parse_retry_after(colon + 1, strlen(colon + 1)));
    else if (colon && strncasecmp(line, "Location", 8) == 0)
      buf_printf(out, "location %s\n", colon + 2);
  }
  free(text);
}

static int run(const char *fixtures, const char *name, const char *expected_dir, bool print)
{
  char path[4096];
  size_t n, en;
  char *data, *expected;
  gh_reply rep;
  char code[128], msg[512];
  buf whole, other;
  int rc = 0;

  snprintf(path, sizeof path, "%s/%s.json", fixtures, name);
  if (!(data = test_read_file(path, &n))) {
    fprintf(stderr, "%s: cannot read\n", path);
    return 1;
  }
  buf_init(&whole, 0);
  read_page(name, data, n, 0, &whole);
  for (unsigned seed = 1; seed <= CHUNKINGS; seed++) {
    buf_init(&other, 0);
    read_page(name, data, n, seed, &other);
    if (other.len != whole.len || memcmp(other.p, whole.p, whole.len) != 0) {
      fprintf(stderr, "%s: fed in chunks (seed %u) it reads differently:\n%s\n---\n%s", name, seed,
              whole.p, other.p);
      rc = 1;
    }
    buf_free(&other);
  }
  /* The error envelope, as the connector reports a failed response. */
  memset(&rep, 0, sizeof rep);
  buf_init(&rep.body, 0);
  buf_add(&rep.body, data, n);
  graph_error_of(&rep, code, sizeof code, msg, sizeof msg);
  if (code[0] || msg[0])
    buf_printf(&whole, "error %s: %s\n", code, msg);
  graph_batch_items(data, print_item, &whole);
  buf_free(&rep.body);
  snprintf(path, sizeof path, "%s/%s.headers", fixtures, name);
  read_headers(path, &whole);
  if (print) {
    printf("%s", whole.p ? whole.p : "");
  } else {
    snprintf(path, sizeof path, "%s/%s.expected", expected_dir, name);
    expected = test_read_file(path, &en);
    if (!expected || en != whole.len || memcmp(expected, whole.p, en) != 0) {
      fprintf(stderr, "%s: output differs from %s:\n%s", name, path, whole.p ? whole.p : "");
      rc = 1;
    }
    free(expected);
  }
  buf_free(&whole);
  free(data);
  return rc;
}

int main(int argc, char **argv)
{
  bool print = argc > 1 && strcmp(argv[1], "--print") == 0;
  int failed = 0;
  if (argc - print < 4) {
    fprintf(stderr, "usage: graph_parse [--print] FIXTURE_DIR EXPECTED_DIR NAME...\n");
    return 2;
  }
  for (int i = 3 + print; i < argc; i++)
    failed |= run(argv[1 + print], argv[i], argv[2 + print], print);
  return failed;
}
