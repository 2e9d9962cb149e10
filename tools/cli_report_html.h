/* cli_report_html — the page `mvsync report --html` writes: one self-contained HTML file (inline
 * CSS and script, no network resource: its Content-Security-Policy forbids any) that an
 * architect attaches to a change request.  The data go in as JSON in <script
 * type="application/json"> blocks of REPORT_CHUNK changes each, escaped so no value can end
 * its block or open a tag; the page's script renders one page of changes at a time (filters,
 * search, pages driven by the URL fragment), so 200,000 objects make a large file but a small
 * DOM.  Memory: the caller owns the FILE; nothing is kept between calls but counters. */
#ifndef MVS_CLI_REPORT_HTML_H
#define MVS_CLI_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Changes per data block: the page parses a block when it shows or searches it. */
#define REPORT_CHUNK 500

typedef struct report_page {
  FILE *out;
  size_t n;               /* changes written */
} report_page;

/* The head of the page: title (HTML-escaped) and meta, a JSON object the page reads —
 * "title", "subtitle", and either "log" and "summary" (a dry run's: engine_log,
 * engine_diff_summary) or "run" (a recorded run as `runs --json` prints one, its log inside).  -1 on a write error. */
int report_page_begin(report_page *p, FILE *out, const char *title, const char *meta,
                      size_t meta_len);
/* One change (a dry run's JSON entry, or a pending export as `pending --json` prints it);
 * u is the report_page.  Fits engine_diff_each.  -1 on a write error. */
int report_page_entry(void *u, const char *entry, size_t len);
/* The rest of the page; -1 when anything could not be written. */
int report_page_end(report_page *p);

#endif
