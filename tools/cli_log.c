/* cli_log — levelled log lines on stderr, with the journal's priority prefixes (cli_log.h).
 * Memory: each line is built in a local buffer and freed; nothing is returned. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "tools/cli_log.h"

static struct {
  int max_level;  /* lines above it are not printed */
  bool journal;   /* stderr is the journal's stream */
} settings = {CLI_LOG_INFO, false};

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected to the journal;
 * stderr is the journal when it is that very file (not when a wrapper redirected it). */
static bool stderr_is_journal(void)
{
  const char *v = getenv("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;
  char end;

  if (!v || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(2, &st) != 0)
    return false;
  return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int cli_log_init(int argc, char **argv)
{
  int i, n = 1;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quiet") == 0)
      settings.max_level = CLI_LOG_WARNING;
    else if (strcmp(argv[i], "--verbose") == 0)
      settings.max_level = CLI_LOG_DEBUG;
    else
      argv[n++] = argv[i];
  }
  argv[n] = NULL;
  settings.journal = stderr_is_journal();
  return n;
}

bool cli_log_enabled(int level)
{
  return level <= settings.max_level;
}

const char *cli_log_prefix(int level)
{
  static const char *const prefixes[] = {"<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>"};
  return settings.journal && level >= 0 && level <= CLI_LOG_DEBUG ? prefixes[level] : "";
}

static const char *level_word(int level)
{
  switch (level) {
  case CLI_LOG_ERR: return "error: ";
  case CLI_LOG_WARNING: return "warning: ";
  case CLI_LOG_DEBUG: return "debug: ";
  default: return "";
  }
}

/* Print text (n bytes, no trailing newline) as one message: the prefixes on its first line,
 * the journal prefix on each further one.  One write per message, so lines of two
 * processes sharing a stream do not interleave within a line. */
static void emit(int level, const char *head, const char *text, size_t n)
{
  buf line;
  const char *p = text, *end = text + n;

  if (!cli_log_enabled(level))
    return;
  buf_init(&line, 0);
  buf_printf(&line, "%s%s%s", cli_log_prefix(level), head, level_word(level));
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    buf_add(&line, p, len);
    buf_addc(&line, '\n');
    p += len + (nl != NULL);
    if (p < end)
      buf_adds(&line, cli_log_prefix(level));
  }
  if (n == 0)
    buf_addc(&line, '\n');
  fwrite(line.p ? line.p : "", 1, line.len, stderr);
  buf_free(&line);
}

void cli_log(int level, const char *cmd, const char *fmt, ...)
{
  buf head, text;
  va_list ap;

  if (!cli_log_enabled(level))
    return;
  buf_init(&head, 0);
  buf_init(&text, 0);
  buf_printf(&head, "mvsync%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  va_start(ap, fmt);
  buf_vprintf(&text, fmt, ap);
  va_end(ap);
  emit(level, head.p ? head.p : "mvsync: ", text.p ? text.p : "", text.len);
  buf_free(&head);
  buf_free(&text);
}

void cli_log_run(const char *log, const char *failure, bool *failure_seen)
{
  const char *p = log;
  size_t failure_len = failure ? strlen(failure) : 0;

  *failure_seen = false;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    int level = CLI_LOG_INFO;
    const char *text = p;
    size_t text_len = len;

    /* The engine marks a line's level with its first word (docs/internals/engine.md). */
    if (len >= 7 && strncmp(p, "error: ", 7) == 0) {
      level = CLI_LOG_ERR;
      text += 7;
      text_len -= 7;
    } else if (len >= 9 && strncmp(p, "warning: ", 9) == 0) {
      level = CLI_LOG_WARNING;
      text += 9;
      text_len -= 9;
    }
    if (failure_len && text_len == failure_len && memcmp(text, failure, failure_len) == 0) {
      level = CLI_LOG_ERR;
      *failure_seen = true;
    }
    emit(level, "", text, text_len);
    p += len + (nl != NULL);
  }
}
