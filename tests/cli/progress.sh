#!/usr/bin/env bash
# The progress line of import, sync and export (docs/cli.md#progress): on a terminal —
# script(1) gives the run one — stderr shows each step's objects done, out of how many when
# that is known, the rate and the ETA; never when stderr is a pipe or a file, never with
# --quiet, and never in the run log the store keeps.
#
# The data: bench_gen's synthetic directories (5,000 users in each, groups), large enough
# that a step outlasts the line's redraw interval.  The totals checked come from outside the
# program: the objects of the LDIF file (its "dn:" lines) for a full import of it, and the
# pending exports `mvsync pending --csv` lists for an export.
# Usage: progress.sh PATH/TO/mvsync PATH/TO/bench_gen
set -u
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bench_gen=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
command -v script >/dev/null || { echo "script(1) (util-linux) is needed"; exit 1; }

"$bench_gen" "$work" 5000 0 >/dev/null || { echo "bench_gen failed"; exit 1; }
cd "$work" || exit 1
export MVSYNC_RULES=rules.rules
unset MVSYNC_STORE MVSYNC_METRICS JOURNAL_STREAM
"$mvsync" init >/dev/null || exit 1

# on_tty ARGS...: run mvsync with a terminal as stdin, stdout and stderr; $out holds what the
# terminal got, carriage returns as newlines.
on_tty() {
  local cmd="'$mvsync'"
  for a in "$@"; do cmd+=" '$a'"; done
  script -qec "$cmd" /dev/null >"$work/tty" 2>&1
  rc=$?
  out=$(tr '\r' '\n' <"$work/tty")
}

# A full import of the AD file: the total is what the connector space held, i.e. the file's
# objects once it has been imported before.
objects=$(grep -c '^dn:' ad.ldif)
"$mvsync" import ad --full >/dev/null 2>&1 || fail "first import"
on_tty import ad --full
[ "$rc" = 0 ] || fail "import on a terminal: exit $rc: $out"
grep -qE "^.\[Kfull-import ad: [0-9]+/$objects objects" <<<"$out" ||
  fail "no 'full-import ad: N/$objects objects' line on the terminal: $(head -c 400 <<<"$out")"

# The sync, then the export with a known total: the pending exports.
"$mvsync" import entra --full >/dev/null 2>&1 || fail "import entra"
on_tty sync --full
grep -qE "full-sync: [0-9]+/[0-9]+ objects, [0-9]+/s, ETA [0-9]+:[0-9]{2}" <<<"$out" ||
  fail "no sync progress with rate and ETA: $(head -c 600 <<<"$out")"
pending=$(("$("$mvsync" pending ad --csv | wc -l)" - 1))
[ "$pending" -gt 1000 ] || fail "only $pending pending exports: the data did not make a large export"
on_tty export ad
[ "$rc" = 0 ] || fail "export on a terminal: exit $rc"
grep -qE "export ad: [0-9]+/$pending objects" <<<"$out" ||
  fail "no 'export ad: N/$pending objects' line: $(head -c 600 <<<"$out")"
# Each drawn line is erased before the next and at the step's end: the last one is cleared.
grep -q $'\033\\[K' "$work/tty" || fail "the line is not erased (ESC [ K)"

# Not when stderr is a file or a pipe, not with --quiet, not in the run log.
"$mvsync" import ad --full >/dev/null 2>"$work/err"
progress_re='[0-9]+(/[0-9]+)? objects?\b'   # the line's count; not the run log's "0 bad objects"
grep -qE "$progress_re" "$work/err" && fail "progress in a file: $(head -c 300 "$work/err")"
grep -q $'\r' "$work/err" && fail "carriage returns in a file"
err=$("$mvsync" sync --full 2>&1 >/dev/null | cat)
grep -qE "$progress_re" <<<"$err" && fail "progress in a pipe"
on_tty --quiet import ad --full
grep -qE "$progress_re" <<<"$out" && fail "progress with --quiet: $(head -c 300 <<<"$out")"
"$mvsync" runs --json | grep -q 'ETA' && fail "progress in the run log the store keeps"

echo "progress: $fails failures"
[ "$fails" = 0 ]
