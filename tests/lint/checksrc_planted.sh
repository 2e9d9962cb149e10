#!/usr/bin/env bash
# checksrc_planted: tools/checksrc must fail on a planted violation of each of its rules.
# Each case copies the checked source folders to a fresh temporary tree, plants one
# violation, and expects checksrc to exit 1 naming that file and rule; the clean copy passes.
# Usage: checksrc_planted.sh SOURCE_ROOT
set -euo pipefail
src=$(cd "${1:?usage: checksrc_planted.sh SOURCE_ROOT}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fresh() {
  rm -rf "$tmp/tree"
  mkdir -p "$tmp/tree"
  cp -r "$src"/schema "$src"/rules "$src"/connectors "$src"/engine "$src"/tools "$tmp/tree/"
}

# expect NAME FILE RULE: checksrc on the planted tree exits 1 with "FILE:LINE: RULE:".
expect() {
  local name=$1 file=$2 rule=$3 rc=0
  "$src/tools/checksrc" "$tmp/tree" >"$tmp/out" 2>&1 || rc=$?
  if [ "$rc" -eq 1 ] && grep -Eq "^${file//./\\.}:[0-9]+: ${rule}:" "$tmp/out"; then
    echo "ok   $name"
  else
    echo "FAIL $name: checksrc exit $rc, wanted 1 with '$file:N: $rule:'; it printed:"
    sed 's/^/     /' "$tmp/out"
    fails=$((fails + 1))
  fi
}

fresh
if "$src/tools/checksrc" "$tmp/tree" >"$tmp/out" 2>&1; then
  echo "ok   clean copy passes"
else
  echo "FAIL clean copy:"; cat "$tmp/out"; fails=$((fails + 1))
fi

fresh
printf 'static void planted(char *d) { strcpy(d, "x"); }\n' >>"$tmp/tree/schema/buf.c"
expect "banned strcpy" schema/buf.c banned

fresh
printf 'static int planted(const char *s) { return atoi(s); }\n' >>"$tmp/tree/connectors/dn.c"
expect "banned atoi" connectors/dn.c banned

fresh
sed -i 's/^#ifndef MVS_BUF_H$/#ifndef BUF_H/' "$tmp/tree/schema/buf.h"
expect "guard name" schema/buf.h guard

fresh
printf 'extern int planted;\n' >>"$tmp/tree/schema/value.h"
expect "guard closed early" schema/value.h guard

fresh
sed -i '1s|^/\* utf8 — |/* UTF-8 helpers: |' "$tmp/tree/schema/utf8.h"
expect "header first line" schema/utf8.h header

fresh
sed -i '1,5s/Memory:/Owner:/' "$tmp/tree/connectors/base64.h"
expect "header memory ownership" connectors/base64.h header

fresh
printf 'void *planted(void);\nvoid *planted(void) { return sqlite3_malloc(1); }\n' >>"$tmp/tree/engine/diff.c"
expect "sqlite outside store.c" engine/diff.c sqlite

fresh
printf 'void planted(void);\nvoid planted(void) { puts("x"); }\n' >>"$tmp/tree/rules/scope.c"
expect "I/O in rules/" rules/scope.c rules-io

fresh
printf 'void *planted(void);\nvoid *planted(void) { return fopen("x", "r"); }\n' >>"$tmp/tree/rules/catalog.c"
expect "fopen in rules/" rules/catalog.c rules-io

fresh
sed -i '0,/^#include "/s//#include "engine\/store.h"\n#include "/' "$tmp/tree/connectors/dn.c"
expect "connector includes engine/" connectors/dn.c connectors

fresh
sed -i '0,/^#include "/s//#include "rules\/expr.h"\n#include "/' "$tmp/tree/connectors/ldap/escape.c"
expect "connector includes rules/" connectors/ldap/escape.c connectors

fresh
sed -i '0,/^#include "/s//#include "tools\/cli.h"\n#include "/' "$tmp/tree/schema/value.c"
expect "schema includes tools/" schema/value.c tools

[ "$fails" -eq 0 ] || { echo "$fails case(s) failed"; exit 1; }
echo "all planted violations caught"
