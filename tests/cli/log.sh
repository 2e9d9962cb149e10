#!/usr/bin/env bash
# Log lines and their levels (docs/cli.md#logging), through the real binary on the
# file-connector demo (tools/demo-files.sh's rule set over tests/data/demo):
#  - a successful cycle prints its run log (info) on stderr and its summary on stdout;
#    --quiet prints nothing at all; --verbose adds "debug:" lines, the last one the exit code;
#  - when stderr is the journal (JOURNAL_STREAM holds its device:inode, systemd.exec(5)) every
#    line starts with sd-daemon(3)'s priority prefix: <3> error, <5> notice, <6> info,
#    <7> debug (syslog(3)'s numbers); when JOURNAL_STREAM names another file, no prefix;
#  - a failing run prints its error once, as an error;
#  - a store held by another run: exit 6 with a notice, not an error; nothing with --quiet;
#  - a metrics file that cannot be written: one error line;
#  - an unknown command is an error line.
# The per-object error lines of a run that completes with errors (exit 7) are checked in
# store.sh, which has the fixture whose export the directory refuses.
# Usage: log.sh PATH/TO/mvsync
set -u
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
holder=
cleanup() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fails=0
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
d=$work/d
mkdir "$d"
cp "$root/rules/examples/demo/connectors.rules" "$root/rules/examples/cloud-groups-to-ad/groups.rules" \
  "$root"/tests/data/demo/contoso-* "$d/"
export MVSYNC_STORE=$d/mvsync.db MVSYNC_RULES=$d
unset JOURNAL_STREAM

# run NAME WANT_RC ARGS...: mvsync with stdout in $work/out, stderr in $work/err; with
# JOURNAL=1 in the environment, stderr is the journal.
run() {
  local name=$1 want=$2 rc; shift 2
  : >"$work/err"
  if [ "${JOURNAL:-}" = 1 ]; then
    JOURNAL_STREAM=$(stat -c %d:%i "$work/err") "$mvsync" "$@" >"$work/out" 2>"$work/err"; rc=$?
  else
    "$mvsync" "$@" >"$work/out" 2>"$work/err"; rc=$?
  fi
  [ "$rc" = "$want" ] || fail "$name: exit $rc, want $want; stderr: $(head -c 600 "$work/err")"
}
has() { grep -qE -- "$2" "$work/$1" || fail "[$current] $1 lacks /$2/: $(head -c 600 "$work/$1")"; }
lacks() { grep -qE -- "$2" "$work/$1" && fail "[$current] $1 has /$2/: $(grep -E -- "$2" "$work/$1" | head -3)"; }
count() { grep -cF -- "$2" "$work/$1"; }

"$mvsync" init >/dev/null || fail "init"

current=default
run "$current" 0 cycle --initial
has out '^initial cycle: success'
has err '^contoso\.com: full import: '
lacks err 'debug: |^<[0-9]>'

current=quiet
printf '%s\n' "$(sed -n 1p "$root/tests/data/demo/entra-delta-1.json")" >>"$d/contoso-entra.json.changes"
run "$current" 0 cycle --delta --quiet
[ -s "$work/out" ] && fail "[quiet] printed on stdout: $(head -c 300 "$work/out")"
[ -s "$work/err" ] && fail "[quiet] printed on stderr: $(head -c 300 "$work/err")"

current=verbose
run "$current" 0 --verbose cycle --delta
has err '^mvsync cycle: debug: store '
has err '^mvsync cycle: debug: exit 0$'
has err '^contoso\.com: delta import: '

current=journal
JOURNAL=1 run "$current" 0 --verbose cycle --delta
has err '^<7>mvsync cycle: debug: exit 0$'
has err '^<6>contoso\.com: delta import: '
bad_lines=$(grep -vE '^<[3-7]>' "$work/err")
[ -z "$bad_lines" ] || fail "[journal] lines without a priority prefix: $bad_lines"
current=not-journal
JOURNAL_STREAM=$(stat -c %d:%i "$work/out") "$mvsync" cycle --delta >"$work/out" 2>"$work/err"
lacks err '^<[0-9]>'

current=failure
cp "$d/contoso-ad.ldif" "$work/ad.ldif.good"
printf 'garbage line\n' >>"$d/contoso-ad.ldif"
JOURNAL=1 run "$current" 1 cycle --initial
has err '^<3>error: contoso\.com: import failed: .*contoso-ad\.ldif:[0-9]+: '
n=$(count err "contoso-ad.ldif:")
[ "$n" = 1 ] || fail "[failure] the error is printed $n times, want once: $(cat "$work/err")"
run "$current" 1 cycle --initial --quiet
n=$(count err "contoso-ad.ldif:")
[ "$n" = 1 ] || fail "[failure --quiet] the error is printed $n times, want once"
has err '^error: contoso\.com: import failed: '
cp "$work/ad.ldif.good" "$d/contoso-ad.ldif"

current=busy
(exec 9>>"$d/mvsync.db.lock" && flock -x 9 && exec sleep 60) &
holder=$!
for _ in $(seq 50); do
  "$mvsync" staging on >/dev/null 2>&1 || break
  sleep 0.1
done
JOURNAL=1 run "$current" 6 cycle --delta
has err '^<5>mvsync cycle: .*a run is already in progress'
lacks err 'error'
run "$current" 6 cycle --delta --quiet
[ -s "$work/err" ] && fail "[busy --quiet] printed: $(cat "$work/err")"
kill "$holder"; wait "$holder" 2>/dev/null; holder=

current=metrics
run "$current" 3 status --metrics "$work/no-such-dir/mvsync.prom"
[ "$(wc -l <"$work/err")" = 1 ] || fail "[metrics] want one error line: $(cat "$work/err")"
has err '^mvsync: error: metrics .*no-such-dir/mvsync\.prom: '

current=unknown
JOURNAL=1 run "$current" 2 frobnicate
has err "^<3>mvsync: error: unknown command 'frobnicate'"

echo "log: $fails failures"
[ "$fails" = 0 ]
