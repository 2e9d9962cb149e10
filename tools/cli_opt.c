/* cli_opt — the one parser of the mvsync command line and everything printed from the verb
 * tables: usage, man page sections, bash completion (cli_opt.h).
 * Memory: cli_main frees the argv copy and the option values after the verb ran; the text
 * it prints is built in bufs freed before returning. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/array.h"
#include "tools/cli.h"
#include "tools/cli_log.h"
#include "tools/cli_opt.h"

struct cli_given {
  const char **values;
  size_t n, cap;
};

/* The options every verb takes (--help), and those CLI_STORE verbs take.  --quiet and
 * --verbose are taken out of argv before parsing (cli_log_init), wherever they are; they
 * are listed so that usage, man pages and completion show them. */
static const cli_opt store_opts[] = {
  {"store", CLI_ARG, "PATH", "The store (default $MVSYNC_STORE, else ./mvsync.db).", 0, 0},
  {"rules", CLI_ARG, "PATH",
   "The rule set, a .rules file or a directory of them (default $MVSYNC_RULES, else "
   "./rules).", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};
static const cli_opt common_opts[] = {
  {"quiet", CLI_NO_ARG, NULL,
   "Log errors and warnings only; a successful run prints no summary.", 0, 0},
  {"verbose", CLI_NO_ARG, NULL, "Log debug lines too.", 0, 0},
  {"help", CLI_NO_ARG, NULL, "Print this usage and exit.", 0, 0},
  {NULL, 0, NULL, NULL, 0, 0}};

/* The verbs of tools/mvsync.c, for help and completion; then the built-in ones. */
static const cli_verb *const *all_verbs;

/* ---- the built-in verbs: help, completion */

static int run_help(const cli_args *a);
static int run_completion(const cli_args *a);

static const cli_verb help_verb = {
  "help", "print the usage of mvsync or of one command", "[COMMAND [SUBCOMMAND]]", 0, 2, 0,
  NULL, NULL, run_help, NULL};
static const cli_verb completion_verb = {
  "completion", "print the bash completion script", "bash", 1, 1, 0, NULL,
  "Load it with `source <(mvsync completion bash)`; the package installs it.",
  run_completion, NULL};
static const cli_verb help_man_verb = {
  "--help-man", "print a command's man page SYNOPSIS, OPTIONS and GLOBAL OPTIONS (roff)",
  "COMMAND", 1, 1, CLI_HIDDEN, NULL, NULL, NULL, NULL};

static const cli_verb *const builtins[] = {&help_verb, &completion_verb, NULL};


/* Values of getopt_long's val: a verb option's index plus VAL_VERB; the global ones. */
enum { VAL_HELP = 'h', VAL_STORE = 1000, VAL_RULES, VAL_VERB = 2000 };

/* ---- the tables */

static size_t n_opts(const cli_opt *o)
{
  size_t n = 0;
  while (o && o[n].name)
    n++;
  return n;
}

/* The last word of a verb's name: "check" of "rules check". */
static const char *last_word(const char *name)
{
  const char *sp = strrchr(name, ' ');
  return sp ? sp + 1 : name;
}

static const cli_opt *find_in(const cli_opt *o, const char *name, size_t len)
{
  for (; o && o->name; o++)
    if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
      return o;
  return NULL;
}

/* An option of this name in any verb or sub-verb of the list (or the globals). */
static const cli_opt *find_anywhere(const cli_verb *const *verbs, const char *name, size_t len)
{
  const cli_opt *o;
  if ((o = find_in(store_opts, name, len)) || (o = find_in(common_opts, name, len)))
    return o;
  for (; verbs && *verbs; verbs++)
    if ((o = find_in((*verbs)->opts, name, len)) ||
        (o = find_anywhere((*verbs)->subs, name, len)))
      return o;
  return NULL;
}

static const cli_verb *find_verb(const cli_verb *const *verbs, const char *word)
{
  for (; verbs && *verbs; verbs++)
    if (strcmp(last_word((*verbs)->name), word) == 0)
      return *verbs;
  return NULL;
}

/* The index of the first word at or after `from` that is not an option nor an option's
 * value (the verb, or the sub-verb), or -1.  Whether an option takes the next word is
 * known from the tables: an option's name means one thing in every verb. */
static int verb_word(int argc, char **argv, int from)
{
  int i;
  for (i = from; i < argc; i++) {
    const char *s = argv[i];
    const cli_opt *o;
    if (strcmp(s, "--") == 0)
      return i + 1 < argc ? i + 1 : -1;
    if (s[0] != '-' || !s[1])
      return i;
    if (s[1] == '-' && !strchr(s, '=') && (o = find_anywhere(all_verbs, s + 2, strlen(s + 2))) &&
        o->arg == CLI_ARG)
      i++;
  }
  return -1;
}

/* Whether -h or --help comes before a "--" among argv[from..]. */
static bool wants_help(int argc, char **argv, int from)
{
  int i;
  for (i = from; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
      return true;
  return false;
}

/* ---- plain-text usage */

/* Append word to the line in b, wrapping at 79 columns with `indent` spaces. */
static void wrap_add(buf *b, size_t *col, size_t indent, const char *word, size_t len)
{
  size_t i;
  if (*col > indent && *col + 1 + len > 79) {
    buf_addc(b, '\n');
    for (i = 0; i < indent; i++)
      buf_addc(b, ' ');
    *col = indent;
  } else if (*col > indent) {
    buf_addc(b, ' ');
    (*col)++;
  }
  buf_add(b, word, len);
  *col += len;
}

/* Text wrapped at 79 columns, every line after the first indented; the first starts at col. */
static void wrap_text(buf *b, size_t col, size_t indent, const char *text)
{
  const char *p = text;
  while (*p) {
    size_t n;
    while (*p == ' ')
      p++;
    n = strcspn(p, " ");
    if (n)
      wrap_add(b, &col, indent, p, n);
    p += n;
  }
}

/* One option as the synopsis shows it, without brackets: "--full-import CONNECTOR". */
static void opt_synopsis(buf *b, const cli_opt *o)
{
  buf_printf(b, "--%s", o->name);
  if (o->arg == CLI_ARG)
    buf_printf(b, " %s", o->arg_name);
  else if (o->arg == CLI_OPTIONAL_ARG)
    buf_printf(b, "[=%s]", o->arg_name);
}

/* The synopsis items of a verb: its args, then each option or exclusive group in brackets. */
static void synopsis_items(const cli_verb *v, void (*item)(void *u, const char *text), void *u)
{
  size_t i, j, n = n_opts(v->opts);
  buf t;

  buf_init(&t, 0);
  if (v->args && *v->args)
    item(u, v->args);
  for (i = 0; i < n; i++) {
    const cli_opt *o = &v->opts[i];
    bool first = true;
    if (o->group)
      for (j = 0; j < i; j++)
        if (v->opts[j].group == o->group)
          first = false;
    if (!first)
      continue;
    buf_reset(&t);
    buf_addc(&t, '[');
    opt_synopsis(&t, o);
    for (j = i + 1; o->group && j < n; j++)
      if (v->opts[j].group == o->group) {
        buf_adds(&t, " | ");
        opt_synopsis(&t, &v->opts[j]);
      }
    buf_addc(&t, ']');
    if (o->flags & CLI_REPEAT)
      buf_adds(&t, "...");
    item(u, t.p);
  }
  buf_free(&t);
}

typedef struct wrap_state {
  buf *b;
  size_t col, indent;
} wrap_state;

/* An item of the synopsis kept whole on a line: its spaces do not break. */
static void wrap_item(void *u, const char *text)
{
  wrap_state *w = u;
  wrap_add(w->b, &w->col, w->indent, text, strlen(text));
}

static void usage_line(buf *b, const cli_verb *v, const char *lead)
{
  wrap_state w = {b, 0, 0};
  /* The first item follows "mvsync NAME " on the line; the rest line up under it. */
  buf_printf(b, "%smvsync %s ", lead, v->name);
  w.col = w.indent = b->len - (size_t)(strrchr(b->p, '\n') ? strrchr(b->p, '\n') + 1 - b->p : 0);
  if (w.indent > 40)
    w.indent = 8;
  synopsis_items(v, wrap_item, &w);
  if (b->p[b->len - 1] == ' ')
    b->len--;
  buf_addc(b, '\n');
}

static void opt_lines(buf *b, const cli_opt *o)
{
  for (; o && o->name; o++) {
    size_t start = b->len;
    buf_adds(b, "  ");
    opt_synopsis(b, o);
    if (b->len - start > 24) {
      buf_addc(b, '\n');
      start = b->len;
    }
    while (b->len - start < 26)
      buf_addc(b, ' ');
    wrap_text(b, 26, 26, o->help);
    buf_addc(b, '\n');
  }
}

static void verb_usage(buf *b, const cli_verb *v)
{
  const cli_verb *const *s;
  if (v->subs) {
    for (s = v->subs; *s; s++)
      usage_line(b, *s, s == v->subs ? "usage: " : "       ");
    buf_printf(b, "\n%s.\n\ncommands:\n", v->summary);
    for (s = v->subs; *s; s++) {
      size_t start = b->len;
      buf_printf(b, "  %s", last_word((*s)->name));
      while (b->len - start < 12)
        buf_addc(b, ' ');
      wrap_text(b, 12, 12, (*s)->summary);
      buf_addc(b, '\n');
    }
    buf_printf(b, "\n`mvsync %s COMMAND --help` shows a command's options.\n", v->name);
    return;
  }
  usage_line(b, v, "usage: ");
  buf_addc(b, '\n');
  wrap_text(b, 0, 0, v->summary);
  buf_adds(b, ".\n");
  if (v->detail) {
    buf_addc(b, '\n');
    wrap_text(b, 0, 0, v->detail);
    buf_addc(b, '\n');
  }
  if (n_opts(v->opts)) {
    buf_adds(b, "\noptions:\n");
    opt_lines(b, v->opts);
  }
  buf_adds(b, "\nglobal options:\n");
  if (v->flags & CLI_STORE)
    opt_lines(b, store_opts);
  opt_lines(b, common_opts);
}

static void print_buf(buf *b, FILE *f)
{
  fwrite(b->p ? b->p : "", 1, b->len, f);
  buf_free(b);
}

/* The lines of mvsync --help for the verbs of a list. */
static void verb_lines(buf *b, const cli_verb *const *v)
{
  const cli_verb *const *s;
  for (; *v; v++) {
    const cli_verb *one[2] = {*v, NULL};
    if ((*v)->flags & CLI_HIDDEN)
      continue;
    for (s = (*v)->subs ? (*v)->subs : one; *s; s++) {
      size_t start = b->len;
      buf_printf(b, "  %s%s%s", (*s)->name, (*s)->args && *(*s)->args ? " " : "",
                 (*s)->args ? (*s)->args : "");
      if (b->len - start > 30) {
        buf_addc(b, '\n');
        start = b->len;
      }
      while (b->len - start < 32)
        buf_addc(b, ' ');
      wrap_text(b, 32, 32, (*s)->summary);
      buf_addc(b, '\n');
    }
  }
}

static void top_usage(FILE *f)
{
  buf b;

  buf_init(&b, 0);
  buf_adds(&b, "usage: mvsync [--store PATH] [--rules PATH] [--quiet | --verbose] COMMAND "
               "[ARGS]\n\ncommands:\n");
  verb_lines(&b, all_verbs);
  verb_lines(&b, builtins);
  buf_adds(&b, "\n`mvsync COMMAND --help` (or `mvsync help COMMAND`) shows a command's options; "
               "`mvsync --version` the version.\n"
               "\nexit codes: 0 ok, 1 invalid input, 2 usage, 3 system error, 4 export safety stop,\n"
               "5 import safety stop, 6 store busy, 7 completed with errors, 8 all exports failed,\n"
               "9 deadline passed (docs/cli.md)\n");
  print_buf(&b, f);
}

/* "mvsync VERB: error: MESSAGE" and the verb's synopsis on stderr; MVS_EXIT_USAGE. */
static int usage_errorv(const cli_verb *v, const char *fmt, va_list ap)
{
  buf b;
  buf_init(&b, 0);
  buf_vprintf(&b, fmt, ap);
  cli_log(CLI_LOG_ERR, v ? v->name : NULL, "%s", b.p ? b.p : "");
  buf_reset(&b);
  if (v && !v->subs) {
    usage_line(&b, v, "usage: ");
    buf_printf(&b, "`mvsync %s --help` explains the options.\n", v->name);
  } else {
    buf_printf(&b, "`mvsync %s%s--help` lists the commands.\n", v ? v->name : "", v ? " " : "");
  }
  print_buf(&b, stderr);
  return MVS_EXIT_USAGE;
}

static int usage_error(const cli_verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const cli_verb *v, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = usage_errorv(v, fmt, ap);
  va_end(ap);
  return rc;
}

int cli_usage_error(const cli_args *a, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = usage_errorv(a->verb, fmt, ap);
  va_end(ap);
  return rc;
}

/* ---- the parsed values */

static size_t opt_index(const cli_args *a, const char *name)
{
  const cli_opt *o = find_in(a->verb->opts, name, strlen(name));
  if (!o) {
    fprintf(stderr, "mvsync: internal error: %s asks for --%s, which its table lacks\n",
            a->verb->name, name);
    abort();
  }
  return (size_t)(o - a->verb->opts);
}

bool cli_flag(const cli_args *a, const char *name)
{
  return a->given[opt_index(a, name)].n > 0;
}

const char *cli_value(const cli_args *a, const char *name)
{
  const struct cli_given *g = &a->given[opt_index(a, name)];
  return g->n ? g->values[g->n - 1] : NULL;
}

size_t cli_values(const cli_args *a, const char *name, const char *const **values)
{
  const struct cli_given *g = &a->given[opt_index(a, name)];
  *values = g->values;
  return g->n;
}

/* ---- parsing */

static int add_value(struct cli_given *g, const char *value)
{
  if (array_reserve(&g->values, &g->cap, g->n + 1, sizeof *g->values) != 0)
    return -1;
  g->values[g->n++] = value;
  return 0;
}

/* A bad option: say which and why. */
static int bad_option(const cli_verb *v, const char *text, bool missing_value)
{
  const char *name = text + (text[0] == '-' && text[1] == '-' ? 2 : 1);
  size_t len = strcspn(name, "=");
  const cli_opt *mine = find_in(v->opts, name, len);
  bool global = find_in(common_opts, name, len) ||
                ((v->flags & CLI_STORE) && find_in(store_opts, name, len));

  if (text[1] != '-')
    return usage_error(v, "unknown option %s", text);
  if (missing_value && (mine || global))
    return usage_error(v, "--%.*s needs a value (%s)", (int)len, name,
                       (mine ? mine : find_anywhere(NULL, name, len))->arg_name);
  if ((mine && mine->arg == CLI_NO_ARG) || (global && name[len] == '='))
    return usage_error(v, "--%.*s takes no value: %s", (int)len, name, text);
  if (find_anywhere(all_verbs, name, len))
    return usage_error(v, "takes no --%.*s", (int)len, name);
  return usage_error(v, "unknown option %s", text);
}

static int parse(const cli_verb *v, int argc, char **argv, cli_args *a)
{
  size_t n = n_opts(v->opts), i, k = 0;
  struct option *lo = calloc(n + 4, sizeof *lo);
  int c, li, rc = MVS_EXIT_SYSTEM;

  a->verb = v;
  a->given = calloc(n + 1, sizeof *a->given);
  a->args = calloc((size_t)argc + 1, sizeof *a->args);
  if (!lo || !a->given || !a->args)
    goto out;
  for (i = 0; i < n; i++)
    lo[k++] = (struct option){v->opts[i].name,
                              v->opts[i].arg == CLI_ARG ? required_argument
                              : v->opts[i].arg == CLI_OPTIONAL_ARG ? optional_argument
                                                                   : no_argument,
                              NULL, VAL_VERB + (int)i};
  lo[k++] = (struct option){"help", no_argument, NULL, VAL_HELP};
  if (v->flags & CLI_STORE) {
    lo[k++] = (struct option){"store", required_argument, NULL, VAL_STORE};
    lo[k++] = (struct option){"rules", required_argument, NULL, VAL_RULES};
  }
  /* "-": every word in order (positionals come back as 1), whatever POSIXLY_CORRECT says;
   * ":": a missing value is ':', not '?'. */
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "-:h", lo, &li)) != -1) {
    const char *text;
    if (c == 1) {
      a->args[a->n_args++] = optarg;
      continue;
    }
    if (c == '?' || c == ':') {
      /* A long option's error leaves optopt 0 or its val ('h' is --help's too); a short
       * one's is the letter, and optind may still be inside its word (-xy). */
      char short_opt[3] = {'-', (char)optopt, '\0'};
      bool is_long = optopt == 0 || optopt == VAL_HELP || optopt >= VAL_STORE;
      rc = bad_option(v, is_long ? argv[optind - 1] : short_opt, c == ':');
      goto out;
    }
    /* The word the option was: getopt_long also takes an unambiguous abbreviation, which
     * would break scripts the day a longer option is added; only whole names count. */
    text = optarg && optind >= 2 && argv[optind - 1] == optarg ? argv[optind - 2] : argv[optind - 1];
    if (c != VAL_HELP || text[1] == '-') {
      size_t len = strcspn(text + 2, "=");
      if (len != strlen(lo[li].name) || memcmp(text + 2, lo[li].name, len) != 0) {
        rc = usage_error(v, "unknown option %.*s (did you mean --%s?)", (int)len + 2, text,
                         lo[li].name);
        goto out;
      }
    }
    if (c == VAL_HELP) {
      rc = -1;
      goto out;
    }
    if (c == VAL_STORE || c == VAL_RULES) {
      *(c == VAL_STORE ? &a->store : &a->rules) = optarg;
      *(c == VAL_STORE ? &a->store_given : &a->rules_given) = true;
      continue;
    }
    i = (size_t)(c - VAL_VERB);
    if (a->given[i].n && !(v->opts[i].flags & CLI_REPEAT) && v->opts[i].arg != CLI_NO_ARG &&
        strcmp(a->given[i].values[0], optarg ? optarg : "") != 0) {
      rc = usage_error(v, "--%s given twice (%s, %s)", v->opts[i].name, a->given[i].values[0],
                       optarg ? optarg : "");
      goto out;
    }
    if (add_value(&a->given[i], optarg ? optarg : "") != 0)
      goto out;
  }
  for (; optind < argc; optind++)
    a->args[a->n_args++] = argv[optind];
  if (a->n_args < v->min_args) {
    rc = usage_error(v, "needs %s", v->args);
    goto out;
  }
  if (v->max_args >= 0 && a->n_args > v->max_args) {
    rc = usage_error(v, "unexpected argument '%s'", a->args[v->max_args]);
    goto out;
  }
  for (i = 0; i < n; i++) {
    size_t j;
    for (j = i + 1; v->opts[i].group && a->given[i].n && j < n; j++)
      if (v->opts[j].group == v->opts[i].group && a->given[j].n) {
        rc = usage_error(v, "give one of --%s and --%s", v->opts[i].name, v->opts[j].name);
        goto out;
      }
  }
  rc = 0;
out:
  free(lo);
  return rc;
}

static void args_free(cli_args *a)
{
  size_t i, n = n_opts(a->verb ? a->verb->opts : NULL);
  for (i = 0; a->given && i < n; i++)
    free(a->given[i].values);
  free(a->given);
  free(a->args);
}

/* Parse argv (the verb's words taken out) and run v. */
static int run_verb(const cli_verb *v, int argc, char **argv)
{
  cli_args a;
  int rc;

  memset(&a, 0, sizeof a);
  a.store = getenv("MVSYNC_STORE") && *getenv("MVSYNC_STORE") ? getenv("MVSYNC_STORE") : "mvsync.db";
  a.rules = getenv("MVSYNC_RULES") && *getenv("MVSYNC_RULES") ? getenv("MVSYNC_RULES") : "rules";
  rc = parse(v, argc, argv, &a);
  if (rc < 0) {
    buf b;
    buf_init(&b, 0);
    verb_usage(&b, v);
    print_buf(&b, stdout);
    rc = MVS_EXIT_OK;
  } else if (rc == 0) {
    rc = v->run(&a);
    cli_log(CLI_LOG_DEBUG, v->name, "exit %d", rc);
  } else if (rc == MVS_EXIT_SYSTEM) {
    cli_log(CLI_LOG_ERR, v->name, "out of memory");
  }
  args_free(&a);
  return rc;
}

/* ---- man page sections */

/* Text for roff: backslashes, hyphens and a leading dot or quote escaped; fonts by the
 * caller. */
static void roff_text(buf *b, const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++) {
    if ((b->len == 0 || b->p[b->len - 1] == '\n') && (s[i] == '.' || s[i] == '\''))
      buf_adds(b, "\\&");
    if (s[i] == '\\')
      buf_adds(b, "\\e");
    else if (s[i] == '-')
      buf_adds(b, "\\-");
    else
      buf_addc(b, s[i]);
  }
}

/* A paragraph of help: wrapped source lines (roff fills them again). */
static void roff_para(buf *b, const char *text)
{
  const char *p = text;
  size_t col = 0;
  while (*p) {
    size_t n;
    while (*p == ' ')
      p++;
    n = strcspn(p, " ");
    if (!n)
      break;
    if (col && col + n > 78) {
      buf_addc(b, '\n');
      col = 0;
    } else if (col) {
      buf_addc(b, ' ');
      col++;
    }
    roff_text(b, p, n);
    col += n;
    p += n;
  }
  buf_addc(b, '\n');
}

/* A synopsis item: placeholders (upper case) in italics, literal words and options in
 * bold, brackets, bars and dots in roman. */
static void roff_synopsis_item(void *u, const char *text)
{
  buf *b = u;
  const char *p = text;
  while (*p) {
    size_t n;
    if (strchr("[]|.= ", *p)) {
      n = strspn(p, "[]|.= ");
      roff_text(b, p, n);
    } else {
      bool upper = *p >= 'A' && *p <= 'Z';
      n = strcspn(p, "[]|.= ");
      buf_adds(b, upper ? "\\fI" : "\\fB");
      roff_text(b, p, n);
      buf_adds(b, "\\fR");
    }
    p += n;
  }
  buf_addc(b, '\n');
}

static void roff_opts(buf *b, const cli_opt *o)
{
  for (; o && o->name; o++) {
    buf t;
    buf_init(&t, 0);
    opt_synopsis(&t, o);
    buf_adds(b, ".TP\n");
    roff_synopsis_item(b, t.p);
    buf_free(&t);
    roff_para(b, o->help);
  }
}

static void man_sections(buf *b, const cli_verb *v)
{
  const cli_verb *one[2] = {v, NULL};
  const cli_verb *const *s, *const *list = v->subs ? v->subs : one;
  bool store = false;

  buf_adds(b, ".SH SYNOPSIS\n");
  for (s = list; *s; s++) {
    if (s != list)
      buf_adds(b, ".br\n");
    buf_adds(b, ".B mvsync ");
    roff_text(b, (*s)->name, strlen((*s)->name));
    buf_addc(b, '\n');
    synopsis_items(*s, roff_synopsis_item, b);
    store = store || ((*s)->flags & CLI_STORE);
  }
  buf_adds(b, ".SH OPTIONS\n");
  for (s = list; *s; s++) {
    if (v->subs && n_opts((*s)->opts)) {
      buf_adds(b, ".SS ");
      roff_text(b, (*s)->name, strlen((*s)->name));
      buf_addc(b, '\n');
    }
    roff_opts(b, (*s)->opts);
  }
  if (!v->subs && !n_opts(v->opts))
    buf_adds(b, "None but the global ones.\n");
  buf_adds(b, ".SH GLOBAL OPTIONS\n");
  if (store)
    roff_opts(b, store_opts);
  roff_opts(b, common_opts);
}

/* ---- bash completion */

/* The words of a completion list: option names, or literal words of an args string. */
static void completion_case(buf *b, const cli_verb *v)
{
  const cli_opt *o;
  const char *p;
  int pos = 0;

  buf_printf(b, "    '%s')\n      opts='", v->name);
  for (o = v->opts; o && o->name; o++)
    buf_printf(b, "--%s%s ", o->name, o->arg == CLI_OPTIONAL_ARG ? "=" : "");
  if (v->flags & CLI_STORE)
    buf_adds(b, "--store --rules ");
  buf_adds(b, "--quiet --verbose --help'\n");
  /* The positionals: literal words (on|off, cs|mv, connect) by position. */
  for (p = v->args ? v->args : ""; *p; pos++) {
    size_t n;
    while (*p == ' ' || *p == '[' || *p == ']')
      p++;
    n = strcspn(p, " []");
    if (n && *p >= 'a' && *p <= 'z') {
      buf_printf(b, "      [ \"$n\" = %d ] && words='", pos);
      for (size_t i = 0; i < n; i++)
        buf_addc(b, p[i] == '|' ? ' ' : p[i]);
      buf_adds(b, "'\n");
    }
    p += n;
  }
  buf_adds(b, "      ;;\n");
}

static void completion_cases(buf *b, const cli_verb *const *verbs)
{
  for (; *verbs; verbs++) {
    if ((*verbs)->flags & CLI_HIDDEN)
      continue;
    if ((*verbs)->subs)
      completion_cases(b, (*verbs)->subs);
    else
      completion_case(b, *verbs);
  }
}

/* Values of options: words, files or directories, by the value's name. */
/* seen: " --NAME" of every option taking a word, so far. */
static void completion_values(buf *b, const cli_verb *const *verbs, buf *seen)
{
  const cli_opt *o;
  for (; *verbs; verbs++) {
    if ((*verbs)->subs)
      completion_values(b, (*verbs)->subs, seen);
    for (o = (*verbs)->opts; o && o->name; o++) {
      char key[80];
      if (o->arg != CLI_ARG)
        continue;
      snprintf(key, sizeof key, " --%s ", o->name);
      if (seen->p && strstr(seen->p, key))
        continue;
      buf_adds(seen, key + 1);
      if (strchr(o->arg_name, '|')) {
        buf_printf(b, "    --%s) COMPREPLY=($(compgen -W '", o->name);
        for (const char *p = o->arg_name; *p; p++)
          buf_addc(b, *p == '|' ? ' ' : *p);
        buf_adds(b, "' -- \"$cur\")); return ;;\n");
      } else if (strcmp(o->arg_name, "DIR") == 0) {
        buf_printf(b, "    --%s) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n", o->name);
      } else if (strstr(o->arg_name, "PATH") || strstr(o->arg_name, "FILE")) {
        buf_printf(b, "    --%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", o->name);
      } else {
        buf_printf(b, "    --%s) return ;;\n", o->name);
      }
    }
  }
}

static void completion_script(buf *b)
{
  const cli_verb *const *v, *const *s;
  buf seen;

  buf_init(&seen, 0);
  buf_adds(&seen, " --store --rules ");
  buf_adds(b, "# bash completion for mvsync, generated from its option tables by\n"
              "# `mvsync completion bash` (tools/cli_opt.c); installed as\n"
              "# share/bash-completion/completions/mvsync.  tests/cli/man.sh checks that this\n"
              "# file is what the binary prints.\n"
              "_mvsync()\n{\n"
              "  local cur prev verb='' opts='' words='' n=0 i w\n"
              "  cur=${COMP_WORDS[COMP_CWORD]}\n"
              "  prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
              "  case $prev in\n"
              "    --store | --rules) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
  completion_values(b, all_verbs, &seen);
  buf_adds(b, "  esac\n"
              "  # The verb (and sub-verb) words, then how many positionals follow them.\n"
              "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
              "    w=${COMP_WORDS[i]}\n"
              "    case $w in\n"
              "      --*=*) ;;\n"
              "      -*) case \" $_mvsync_valued \" in *\" $w \"*) ((i++)) ;; esac ;;\n"
              "      *) if [ -z \"$verb\" ]; then verb=$w\n"
              "         elif [ $n = 0 ] && [[ \" $_mvsync_groups \" == *\" $verb \"* ]]; then "
              "verb=\"$verb $w\"\n"
              "         else n=$((n + 1)); fi ;;\n"
              "    esac\n"
              "  done\n"
              "  if [ -z \"$verb\" ]; then\n"
              "    COMPREPLY=($(compgen -W \"$_mvsync_verbs --store --rules --quiet --verbose "
              "--help --version\" -- \"$cur\"))\n"
              "    return\n"
              "  fi\n"
              "  case $verb in\n");
  for (v = all_verbs; *v; v++)
    if ((*v)->subs && !((*v)->flags & CLI_HIDDEN)) {
      buf_printf(b, "    %s) COMPREPLY=($(compgen -W '", (*v)->name);
      for (s = (*v)->subs; *s; s++)
        buf_printf(b, "%s%s", s == (*v)->subs ? "" : " ", last_word((*s)->name));
      buf_adds(b, "' -- \"$cur\")); return ;;\n");
    }
  completion_cases(b, all_verbs);
  completion_cases(b, builtins);
  buf_adds(b, "  esac\n"
              "  if [[ $cur == -* ]]; then\n"
              "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
              "    [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace\n"
              "  elif [ -n \"$words\" ]; then\n"
              "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
              "  else\n"
              "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
              "  fi\n"
              "}\n");
  /* The lists the function reads: verbs, verbs with sub-verbs, options taking a word. */
  buf_adds(b, "_mvsync_verbs='");
  for (v = all_verbs; *v; v++)
    if (!((*v)->flags & CLI_HIDDEN))
      buf_printf(b, "%s ", (*v)->name);
  buf_adds(b, "help completion'\n_mvsync_groups='");
  for (v = all_verbs; *v; v++)
    if ((*v)->subs)
      buf_printf(b, "%s ", (*v)->name);
  buf_adds(b, "'\n_mvsync_valued='");
  buf_add(b, seen.p + 1, seen.len - 2);
  buf_adds(b, "'\ncomplete -o filenames -F _mvsync mvsync\n");
  buf_free(&seen);
}

static const cli_verb *lookup(const char *word)
{
  const cli_verb *v = find_verb(all_verbs, word);
  return v ? v : find_verb(builtins, word);
}

static int run_help(const cli_args *a)
{
  const cli_verb *v;
  buf b;

  if (!a->n_args) {
    top_usage(stdout);
    return MVS_EXIT_OK;
  }
  if (!(v = lookup(a->args[0])))
    return cli_usage_error(a, "no command '%s'", a->args[0]);
  if (a->n_args == 2 && !(v->subs && (v = find_verb(v->subs, a->args[1]))))
    return cli_usage_error(a, "no command '%s %s'", a->args[0], a->args[1]);
  buf_init(&b, 0);
  verb_usage(&b, v);
  print_buf(&b, stdout);
  return MVS_EXIT_OK;
}

static int run_completion(const cli_args *a)
{
  buf b;
  if (strcmp(a->args[0], "bash") != 0)
    return cli_usage_error(a, "only bash, not '%s'", a->args[0]);
  buf_init(&b, 0);
  completion_script(&b);
  print_buf(&b, stdout);
  return MVS_EXIT_OK;
}

/* mvsync(1)'s COMMANDS: each verb (sub-verbs under their group) with its page. */
static void man_commands(buf *b, const cli_verb *const *v)
{
  for (; *v; v++) {
    const cli_verb *one[2] = {*v, NULL};
    const cli_verb *const *s;
    char first;
    if ((*v)->flags & CLI_HIDDEN)
      continue;
    for (s = (*v)->subs ? (*v)->subs : one; *s; s++) {
      buf t;
      buf_init(&t, 0);
      buf_printf(&t, "%s%s%s", (*s)->name, (*s)->args && *(*s)->args ? " " : "",
                 (*s)->args ? (*s)->args : "");
      buf_adds(b, ".TP\n");
      roff_synopsis_item(b, t.p);
      buf_free(&t);
      /* The summary as a sentence: capital first. */
      first = (*s)->summary[0];
      if (first >= 'a' && first <= 'z')
        first = (char)(first - 'a' + 'A');
      roff_text(b, &first, 1);
      roff_text(b, (*s)->summary + 1, strlen((*s)->summary + 1));
      if ((*v)->run != run_help && (*v)->run != run_completion) {
        buf_adds(b, ";\n.BR mvsync\\-");
        roff_text(b, (*v)->name, strlen((*v)->name));
        buf_adds(b, " (1).\n");
      } else {
        buf_adds(b, ".\n");
      }
    }
  }
}

/* --help-man COMMAND: that page's generated sections; --help-man alone: mvsync(1)'s. */
static int help_man(int argc, char **argv)
{
  const cli_verb *v = NULL;
  buf b;
  if (argc > 3 || (argc == 3 && !(v = find_verb(all_verbs, argv[2]))))
    return usage_error(&help_man_verb, "takes one COMMAND of mvsync --help, or none");
  buf_init(&b, 0);
  if (v) {
    man_sections(&b, v);
  } else {
    buf_adds(&b, ".SH COMMANDS\n");
    man_commands(&b, all_verbs);
    man_commands(&b, builtins);
  }
  print_buf(&b, stdout);
  return MVS_EXIT_OK;
}

int cli_main(const cli_verb *const *verbs, int argc, char **argv)
{
  const cli_verb *v, *sub;
  char **rest;
  int vi, si = -1, i, n = 0, rc;

  all_verbs = verbs;
  if (argc >= 2 && strcmp(argv[1], "--help-man") == 0)
    return help_man(argc, argv);
  vi = verb_word(argc, argv, 1);
  if (vi < 0) {
    for (i = 1; i < argc; i++)
      if (strcmp(argv[i], "--version") == 0) {
        printf("mvsync %s\n", MVSYNC_VERSION);
        return MVS_EXIT_OK;
      }
    if (wants_help(argc, argv, 1) || argc < 2) {
      top_usage(argc < 2 ? stderr : stdout);
      return argc < 2 ? MVS_EXIT_USAGE : MVS_EXIT_OK;
    }
    return usage_error(NULL, "no command given (%s)", argv[1]);
  }
  if (!(v = lookup(argv[vi])))
    return usage_error(NULL, "unknown command '%s'", argv[vi]);
  if (v->subs) {
    si = verb_word(argc, argv, vi + 1);
    if (si < 0 && wants_help(argc, argv, vi + 1)) {
      buf b;
      buf_init(&b, 0);
      verb_usage(&b, v);
      print_buf(&b, stdout);
      return MVS_EXIT_OK;
    }
    if (si < 0) {
      buf b;
      buf_init(&b, 0);
      verb_usage(&b, v);
      print_buf(&b, stderr);
      return MVS_EXIT_USAGE;
    }
    if (!(sub = find_verb(v->subs, argv[si])))
      return usage_error(v, "unknown command '%s'", argv[si]);
    v = sub;
  }
  if (!(rest = calloc((size_t)argc + 1, sizeof *rest))) {
    cli_log(CLI_LOG_ERR, NULL, "out of memory");
    return MVS_EXIT_SYSTEM;
  }
  for (i = 0; i < argc; i++)
    if (i != vi && i != si)
      rest[n++] = argv[i];
  rc = run_verb(v, n, rest);
  free(rest);
  return rc;
}
