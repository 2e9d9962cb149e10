#!/usr/bin/env bash
# CLI tests for `mvsync rules check|fmt|show`: exit codes, output and file handling.
# Usage: rules.sh PATH/TO/mvsync
set -u
mvsync=$1
here=$(cd "$(dirname "$0")/.." && pwd)
examples=$(cd "$here/../rules/examples" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0; n=0

# expect NAME WANT_RC WANT_STDOUT_SUBSTRING WANT_STDERR_SUBSTRING -- ARGS...
expect() {
  local name=$1 want_rc=$2 want_out=$3 want_err=$4; shift 5
  local out err rc
  n=$((n + 1))
  out=$("$mvsync" "$@" 2>"$work/err"); rc=$?
  err=$(cat "$work/err")
  if [ "$rc" != "$want_rc" ] || [[ "$out" != *"$want_out"* ]] || [[ "$err" != *"$want_err"* ]]; then
    fails=$((fails + 1))
    printf 'FAIL %s\n  rc=%s (want %s)\n  stdout=%q (want *%s*)\n  stderr=%q (want *%s*)\n' \
      "$name" "$rc" "$want_rc" "$out" "$want_out" "$err" "$want_err"
  fi
}

# check: a directory is one rule set; warnings do not fail it.
expect check-examples 0 "ok: 3 files, 2 connectors, 3 rules, 1 collection" "" -- rules check "$examples"
expect check-one-file 0 "ok: 1 file" "" -- rules check "$examples/gwb-v2-coexistence.rules"
expect check-bad 1 "" "bad/precedence.rules:20:3: error: precedence 10 is already used" \
  -- rules check "$here/rules/bad/precedence.rules"
expect check-count 1 "" "3 errors" -- rules check "$here/rules/bad/duplicates.rules"
expect check-warning 0 "ok:" "warning: rule \"Overdue\" was due for review on 2025-12-31" \
  -- rules check --today 2026-01-15 "$here/rules/bad/review-by.rules"
expect check-missing 3 "" "no-such.rules: No such file or directory" -- rules check "$work/no-such.rules"
mkdir "$work/empty"
expect check-empty-dir 1 "" "no *.rules files" -- rules check "$work/empty"
expect usage-none 2 "" "usage:" -- rules
expect usage-sub 2 "" "unknown command 'lint'" -- rules lint x
expect usage-nopath 2 "" "usage:" -- rules check
expect usage-option 2 "" "unknown option --frob" -- rules check --frob "$examples"
expect usage-today 2 "" "--today takes YYYY-MM-DD" -- rules check --today tomorrow "$examples"

# fmt: prints the canonical text; --check lists files that are not canonical; --write
# rewrites them; a file with syntax errors is left alone.
cp "$here/rules/good/aliases.rules" "$work/a.rules"
expect fmt-print 0 'a EQUAL "x"' "" -- rules fmt "$work/a.rules"
expect fmt-check-dirty 1 "$work/a.rules" "" -- rules fmt --check "$work/a.rules"
expect fmt-write 0 "" "" -- rules fmt --write "$work/a.rules"
expect fmt-check-clean 0 "" "" -- rules fmt --check "$work/a.rules"
expect fmt-examples-clean 0 "" "" -- rules fmt --check "$examples"
cp "$here/rules/bad/lexical.rules" "$work/bad.rules"
expect fmt-syntax-error 1 "" "unexpected character ';'" -- rules fmt --write "$work/bad.rules"
if ! cmp -s "$here/rules/bad/lexical.rules" "$work/bad.rules"; then
  fails=$((fails + 1)); echo "FAIL fmt --write changed a file with errors"
fi
expect fmt-both 2 "" "usage:" -- rules fmt --write --check "$work/a.rules"

# show: a summary, or JSON (with positions on request).
expect show-summary 0 "inbound   join" "" -- rules show "$examples/gwb-v2-coexistence.rules"
expect show-json 0 '"precedence": 88' "" -- rules show --json "$examples"
expect show-json-pos 0 '"pos": "' "" -- rules show --json --positions "$examples"
expect show-positions-alone 2 "" "usage:" -- rules show --positions "$examples"
expect show-invalid 1 "" "error:" -- rules show --json "$here/rules/bad/joinnoflow.rules"

echo "$n cases, $fails failed"
[ "$fails" = 0 ]
