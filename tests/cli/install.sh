#!/usr/bin/env bash
# `cmake --install` with another prefix and a DESTDIR stays inside them, and puts in place what
# docs/operations.md says: the binary, a man page per command plus mvsync(1) and
# mvsync-rules(5), the docs and example rule sets (the file-connector demo with its data), the
# bash completion and the systemd units, whose ExecStart names the installed binary.  The
# installed binary runs, the installed mvsync(1) renders, and systemd-analyze verify finds
# nothing wrong with the units but the binary's absence from the real /opt (it is under
# DESTDIR).
# Usage: install.sh BUILD_DIR
set -u
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
prefix=/opt/mvsync-test
fails=0
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }

DESTDIR=$work/dest cmake --install "$build" --prefix "$prefix" >"$work/log" 2>&1 ||
  { cat "$work/log"; echo "FAIL: cmake --install"; exit 1; }
outside=$(cd "$work/dest" && find . ! -type d | grep -v "^\.$prefix/")
[ -z "$outside" ] || fail "installed outside the prefix: $outside"

want=(bin/mvsync share/man/man1/mvsync.1 share/man/man5/mvsync-rules.5
      share/doc/mvsync/README.md share/doc/mvsync/cli.md share/doc/mvsync/operations.md
      share/doc/mvsync/rules.md share/doc/mvsync/examples/cloud-groups-to-ad/groups.rules
      share/doc/mvsync/examples/demo/connectors.rules share/doc/mvsync/examples/demo/contoso-ad.ldif
      share/doc/mvsync/examples/demo/contoso-entra.json
      share/bash-completion/completions/mvsync
      lib/systemd/system/mvsync.service lib/systemd/system/mvsync.timer)
# help and completion are described in mvsync(1).
for c in $("$build/mvsync" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ && $1 != "help" && $1 != "completion" { print $1 }'); do
  want+=("share/man/man1/mvsync-$c.1")
done
for f in "${want[@]}"; do
  [ -f "$work/dest$prefix/$f" ] || fail "not installed: $prefix/$f"
done
[ -x "$work/dest$prefix/bin/mvsync" ] || fail "bin/mvsync is not executable"
n=$(cd "$work/dest" && find . ! -type d | wc -l)

ver=$("$work/dest$prefix/bin/mvsync" --version) || fail "the installed mvsync --version failed"
[[ $ver == "mvsync "[0-9]* ]] || fail "the installed mvsync --version printed: $ver"
MANWIDTH=80 LC_ALL=C man -l "$work/dest$prefix/share/man/man1/mvsync.1" | grep -q '^NAME' ||
  fail "the installed mvsync(1) does not render"

unit=$work/dest$prefix/lib/systemd/system
grep -qx "ExecStart=$prefix/bin/mvsync cycle --delta" "$unit/mvsync.service" ||
  fail "mvsync.service does not run $prefix/bin/mvsync: $(grep ExecStart "$unit/mvsync.service")"
grep -q '@[A-Z_]*@' "$unit/mvsync.service" && fail "mvsync.service has unfilled @VARS@"
grep -qx 'SuccessExitStatus=6' "$unit/mvsync.service" || fail "mvsync.service does not take exit 6 (store busy) as success"
grep -qx 'User=mvsync' "$unit/mvsync.service" || fail "mvsync.service does not run as mvsync"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no "$unit/mvsync.timer" "$unit/mvsync.service" >"$work/verify" 2>&1
  bad=$(grep -v "mvsync.service: Command $prefix/bin/mvsync is not executable" "$work/verify")
  [ -z "$bad" ] || fail "systemd-analyze verify: $bad"
fi

# The timer runs every 30 minutes (docs/operations.md): systemd's own reading of its
# OnCalendar expression gives elapses 30 minutes apart.
oncal=$(sed -n 's/^OnCalendar=//p' "$unit/mvsync.timer")
if command -v systemd-analyze >/dev/null; then
  gaps=$(systemd-analyze calendar --iterations=4 "$oncal" 2>/dev/null |
    sed -n 's/.*\(Next elapse\|Iter\. #[0-9]*\): ... \([0-9-]* [0-9:]*\) .*/\2/p' |
    while read -r t; do date -u -d "$t" +%s; done | awk 'NR > 1 { print $1 - prev } { prev = $1 }' | sort -u)
  [ "$gaps" = 1800 ] || fail "mvsync.timer OnCalendar=$oncal does not elapse every 1800 s: gaps '$gaps'"
fi

echo "install: $n files under $prefix, $fails failures"
[ "$fails" = 0 ]
