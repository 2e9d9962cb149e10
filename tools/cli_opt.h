/* cli_opt — the grammar of the mvsync command line: each verb declares its options and
 * positional arguments in one static table (a cli_verb), and one parser (getopt_long,
 * permuting: options may come anywhere, global ones before the verb too, as in
 * `mvsync --rules DIR cycle`) hands the verb its parsed options and arguments.  The usage
 * text (`mvsync VERB --help`, `mvsync help VERB`), the man pages' SYNOPSIS and OPTIONS
 * (`mvsync --help-man VERB`) and the bash completion (`mvsync completion bash`) are all
 * printed from the same tables, so none of them can disagree with what the parser accepts.
 *
 * Memory: a verb's cli_verb and cli_opt tables are static const data of its own file
 * (tools/cli_VERB.c); tools/mvsync.c lists the verbs.  cli_main parses, calls the
 * verb's run with a cli_args that lives until run returns: its strings point into argv (or
 * the environment), its arrays are cli_opt.c's and freed by it.  A verb never frees them.
 *
 * The contract every verb gets from the parser (docs/cli.md): --help/-h prints its usage on
 * stdout and exits 0; an option it does not take, a missing or unexpected value, too few or
 * too many arguments, or two options of one exclusive group are a usage error (exit 2,
 * MVS_EXIT_USAGE) naming the offender.  How to add a verb: docs/internals/cli.md. */
#ifndef MVS_CLI_OPT_H
#define MVS_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>

enum cli_arg_kind {
  CLI_NO_ARG = 0,    /* --json */
  CLI_ARG,           /* --store PATH or --store=PATH */
  CLI_OPTIONAL_ARG   /* --wait or --wait=SECONDS (never a separate word) */
};

/* cli_opt.flags */
enum {
  CLI_REPEAT = 1     /* may be given more than once; cli_values returns them all */
};

/* One option a verb takes. */
typedef struct cli_opt {
  const char *name;      /* the long name without its dashes: "dry-run" */
  enum cli_arg_kind arg;
  /* The value's name in the usage ("PATH", "CONNECTOR", "DURATION"), or the words it can be
   * ("connect|cloud|auto"), which the completion offers.  NULL without a value. */
  const char *arg_name;
  /* What it does: plain sentences, no markup; wrapped by whoever prints it. */
  const char *help;
  /* Options of a verb with the same non-zero group exclude each other: the synopsis shows
   * [--full | --delta] and giving both is a usage error. */
  int group;
  unsigned flags;        /* CLI_REPEAT */
} cli_opt;

/* cli_verb.flags */
enum {
  CLI_STORE = 1,         /* takes the global --store PATH and --rules PATH */
  CLI_HIDDEN = 2         /* not listed by `mvsync --help` nor completed */
};

struct cli_args;

/* A verb ("cycle") or a sub-verb ("rules check"). */
typedef struct cli_verb {
  const char *name;      /* as typed after mvsync: "cycle", "rules check" */
  const char *summary;   /* one line, lower case, no full stop: mvsync --help, the man NAME */
  /* The positional arguments as the usage shows them: "CONNECTOR OBJECT", "[CONNECTOR]",
   * "PATH...", "on|off" (lower-case words are literal: the completion offers them). */
  const char *args;
  int min_args, max_args; /* how many positionals; max_args -1: no limit */
  unsigned flags;        /* CLI_STORE, CLI_HIDDEN */
  const cli_opt *opts;   /* its options, ending with {NULL}; NULL for none */
  /* More about the arguments for --help (plain text), or NULL. */
  const char *detail;
  /* Runs it: an exit code of tools/cli.h.  NULL when the verb has sub-verbs. */
  int (*run)(const struct cli_args *a);
  /* Its sub-verbs ("rules" has check, fmt, show, import), ending with NULL; or NULL. */
  const struct cli_verb *const *subs;
} cli_verb;

/* What the parser hands a verb's run. */
typedef struct cli_args {
  const cli_verb *verb;
  /* --store (else $MVSYNC_STORE, else mvsync.db), --rules (else $MVSYNC_RULES, else rules);
   * set for every verb, meaningful for CLI_STORE ones. */
  const char *store, *rules;
  bool store_given, rules_given;
  char **args;           /* the positional arguments, in order */
  int n_args;
  struct cli_given *given; /* per option of verb->opts, in its order: cli_opt.c's */
} cli_args;

/* Whether option NAME was given (at least once).  NAME must be one of the verb's options:
 * asking for another is a programming error and aborts, so the code and table agree. */
bool cli_flag(const cli_args *a, const char *name);
/* The value of option NAME as last given; "" for a CLI_OPTIONAL_ARG given bare; NULL when
 * not given. */
const char *cli_value(const cli_args *a, const char *name);
/* Every value of a CLI_REPEAT option NAME in the order given; how many. */
size_t cli_values(const cli_args *a, const char *name, const char *const **values);

/* A usage error found by the verb itself (a bad value): "mvsync VERB: error: MESSAGE" and
 * the verb's synopsis on stderr.  Returns MVS_EXIT_USAGE. */
int cli_usage_error(const cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The whole command line: argv as main got it (after cli_log_init), verbs the table of
 * tools/mvsync.c ending with NULL.  Handles --help, --version, `help [VERB]`,
 * `completion bash` and the hidden --help-man VERB; otherwise finds the verb, parses and
 * runs it.  Returns the exit code. */
int cli_main(const cli_verb *const *verbs, int argc, char **argv);

#endif
