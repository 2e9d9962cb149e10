/* cli_metrics — the metrics file (`--metrics PATH`, $MVSYNC_METRICS): the store's state in
 * Prometheus text format (engine_status, STATUS_METRICS) for node_exporter's textfile
 * collector, written whole or not at all: a temporary file beside PATH, then rename, so the
 * collector never reads half a file (docs/monitoring.md).
 * Memory: nothing is returned; the buffer and the temporary file's name are freed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "tools/cli.h"
#include "tools/cli_log.h"

int cli_metrics_write(mvs_engine *e, const char *path)
{
  buf text;
  char *tmp = NULL;
  const char *what = "cannot create a temporary file beside it";
  int fd = -1, health, rc = -1;

  buf_init(&text, 0);
  if (engine_status(e, STATUS_METRICS, &text, &health) != ENGINE_OK) {
    cli_log(CLI_LOG_ERR, NULL, "metrics %s: %s", path, engine_error(e));
    goto out;
  }
  /* Not named *.prom: the collector reads only those, so it never sees the temporary. */
  if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0) {
    tmp = NULL;
    goto fail;
  }
  if ((fd = mkstemp(tmp)) < 0)
    goto fail;
  /* The collector runs as another user; the file holds counts and connector names only. */
  what = "cannot write it";
  if (fchmod(fd, 0644) != 0 || write(fd, text.p, text.len) != (ssize_t)text.len ||
      fsync(fd) != 0)
    goto fail;
  what = "cannot close it";
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  what = "cannot rename the temporary file to it";
  if (rename(tmp, path) != 0)
    goto fail;
  rc = 0;
  goto out;
fail:
  cli_log(CLI_LOG_ERR, NULL, "metrics %s: %s: %s", path, what, strerror(errno));
out:
  if (fd >= 0)
    close(fd);
  if (rc != 0 && tmp)
    unlink(tmp);
  free(tmp);
  buf_free(&text);
  return rc;
}
