/* cli_report_html — the self-contained HTML page of `mvsync report` (cli_report_html.h).
 * Memory: nothing is allocated; the caller owns the FILE. */
#include <stdio.h>
#include <string.h>

#include "tools/cli_report_html.h"

/* tools/report/page.css and page.js, embedded at build time (schema/embed.cmake). */
extern const char mvs_report_css[], mvs_report_js[];

/* JSON text inside a <script> block: '<', '>' and '&' only occur inside JSON strings, where
 * \u003c (and so on) means the same character, and no value can close the block ("</script>")
 * or open a comment. */
static int write_json_text(FILE *out, const char *s, size_t n)
{
  size_t i, from = 0;
  for (i = 0; i < n; i++) {
    const char *esc = s[i] == '<' ? "\\u003c" : s[i] == '>' ? "\\u003e" : s[i] == '&' ? "\\u0026"
                                                                                   : NULL;
    if (!esc)
      continue;
    if (fwrite(s + from, 1, i - from, out) != i - from || fputs(esc, out) == EOF)
      return -1;
    from = i + 1;
  }
  return fwrite(s + from, 1, n - from, out) == n - from ? 0 : -1;
}

static void write_html_text(FILE *out, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '&': fputs("&amp;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&#39;", out); break;
    default: fputc(*s, out);
    }
  }
}

int report_page_begin(report_page *p, FILE *out, const char *title, const char *meta,
                      size_t meta_len)
{
  p->out = out;
  p->n = 0;
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
        out);
  write_html_text(out, title);
  fprintf(out, "</title>\n<style>\n%s</style></head>\n<body>\n"
          "<header><h1 id=\"title\"></h1><p id=\"sub\"></p></header>\n<main>\n"
          "<noscript><p>This report renders its data with JavaScript.</p></noscript>\n"
          "<section id=\"summary\"></section>\n<section id=\"errors\"></section>\n"
          "<section id=\"changes\"><h2>Changes</h2>\n<div id=\"filters\">"
          "<input type=\"search\" id=\"q\" placeholder=\"search DNs, attributes, values, rules\">"
          "<select id=\"kind\"></select><select id=\"where\"></select><select id=\"op\"></select>"
          "<label><input type=\"checkbox\" id=\"drift\"> drift only</label></div>\n"
          "<div class=\"pager\"><button id=\"prev\">previous</button><span id=\"count\"></span>"
          "<button id=\"next\">next</button></div>\n<div id=\"list\"></div>\n</section>\n</main>\n"
          "<script type=\"application/json\" id=\"mvs-meta\">", mvs_report_css);
  if (write_json_text(out, meta, meta_len) != 0)
    return -1;
  fputs("</script>\n", out);
  return ferror(out) ? -1 : 0;
}

int report_page_entry(void *u, const char *entry, size_t len)
{
  report_page *p = u;
  if (p->n % REPORT_CHUNK == 0)
    fputs(p->n ? "]</script>\n<script type=\"application/json\" class=\"mvs-chunk\">["
               : "<script type=\"application/json\" class=\"mvs-chunk\">[",
          p->out);
  else
    fputc(',', p->out);
  p->n++;
  if (write_json_text(p->out, entry, len) != 0 || fputc('\n', p->out) == EOF)
    return -1;
  return 0;
}

int report_page_end(report_page *p)
{
  if (p->n)
    fputs("]</script>\n", p->out);
  fprintf(p->out, "<script type=\"application/json\" id=\"mvs-counts\">"
          "{\"changes\": %zu, \"chunk\": %d}</script>\n<script>\n%s</script>\n</body></html>\n",
          p->n, REPORT_CHUNK, mvs_report_js);
  return fflush(p->out) != 0 || ferror(p->out) ? -1 : 0;
}
