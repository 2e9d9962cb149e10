#!/usr/bin/env bash
# Unit check of shape_check.py (ctest graph_shape_check): every golden fixture lints clean and
# holds to its own shape; each case in shape_cases/ gives exactly its .expected output.
#
# A case is shape_cases/FIXTURE--what.json, checked against tests/fixtures/graph/FIXTURE.json,
# with the live response head in .headers and extra arguments in .args when present. An empty
# .expected means the case must pass (exit 0); otherwise it must fail (exit 1) with that output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures/graph"
cases="$here/shape_cases"
check="$here/shape_check.py"
failed=0
fail() { echo "FAIL: $*"; failed=1; }

out=$(python3 "$check" --lint "$fixtures" 2>&1) || fail "fixtures do not lint clean:
$out"

# From inside lint-bad so the reported paths do not depend on where the tree is.
out=$(cd "$cases/lint-bad" && python3 "$check" --lint . 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "lint-bad: exit $rc, want 1"
[ "$out" = "$(cat "$cases/lint-bad.expected")" ] || fail "lint-bad: output differs:
$(diff <(echo "$out") "$cases/lint-bad.expected")"

n=0
for live in "$cases"/*--*.json; do
  name=$(basename "$live" .json)
  fixture="$fixtures/${name%%--*}.json"
  [ -f "$fixture" ] || { fail "$name: no fixture ${name%%--*}.json"; continue; }
  args=()
  [ -f "$cases/$name.headers" ] && args+=(--headers "$cases/$name.headers")
  [ -f "$cases/$name.args" ] && read -r -a extra < "$cases/$name.args" && args+=("${extra[@]}")
  out=$(python3 "$check" "$fixture" "$live" "${args[@]}" 2>/dev/null)
  rc=$?
  want=$(cat "$cases/$name.expected")
  if [ -z "$want" ]; then want_rc=0; else want_rc=1; fi
  [ $rc -eq $want_rc ] || fail "$name: exit $rc, want $want_rc"
  [ "$out" = "$want" ] || fail "$name: output differs:
$(diff <(echo "$out") "$cases/$name.expected")"
  n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n cases found in $cases"

# Usage errors are not differences.
python3 "$check" "$fixtures/no-such.json" "$fixtures/token-success.json" 2>/dev/null
[ $? -eq 2 ] || fail "a missing fixture must exit 2"

[ $failed -eq 0 ] && echo "shape_check: fixtures lint clean, $n cases as expected"
exit $failed
