/* cli_progress — the progress line on a terminal (cli_progress.h).
 * Memory: nothing is allocated. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "tools/cli_log.h"
#include "tools/cli_progress.h"

/* How often the line is rewritten: often enough to look alive, rarely enough to cost
 * nothing next to the objects. */
#define REDRAW_MS 250

static struct {
  bool shown;          /* the line is on the screen */
  int64_t start_ms;    /* when the step's first object came; 0 before it */
  int64_t drawn_ms;    /* when the line was last drawn */
} line;

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool cli_progress_wanted(void)
{
  return isatty(2) && cli_log_enabled(CLI_LOG_INFO);
}

void cli_progress(void *u, const char *step, int64_t done, int64_t total)
{
  int64_t now = now_ms(), elapsed;
  double rate;

  (void)u;
  if (done < 0) {
    /* "\r" and erase to the end of the line (ECMA-48 EL): the run log follows. */
    if (line.shown)
      fputs("\r\033[K", stderr);
    line.shown = false;
    line.start_ms = 0;
    return;
  }
  if (!line.start_ms)
    line.start_ms = now;
  /* The first object at once, then a few times a second. */
  if (line.shown && now - line.drawn_ms < REDRAW_MS)
    return;
  elapsed = now - line.start_ms;
  rate = elapsed > 0 ? (double)done * 1000.0 / (double)elapsed : 0;
  /* The total is an estimate (what the connector space held; the sync's follow-up
   * rounds): never show fewer than done. */
  if (total >= 0 && total < done)
    total = done;
  fprintf(stderr, "\r\033[K%s: %lld", step, (long long)done);
  if (total >= 0)
    fprintf(stderr, "/%lld", (long long)total);
  fputs(done == 1 && total < 0 ? " object" : " objects", stderr);
  if (rate > 0)
    fprintf(stderr, ", %.0f/s", rate);
  if (total >= 0 && rate > 0) {
    long long eta = (long long)((double)(total - done) / rate + 0.5);
    fprintf(stderr, ", ETA %lld:%02lld", eta / 60, eta % 60);
  }
  fflush(stderr);
  line.shown = true;
  line.drawn_ms = now;
}
