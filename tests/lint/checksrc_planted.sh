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

# plant NAME FILE RULE HOW TEXT: in a fresh copy, plant one violation in FILE (HOW: "append"
# the line TEXT, or "edit" it with the sed script TEXT); checksrc must exit 1 naming
# "FILE:LINE: RULE:".
plant() {
  local name=$1 file=$2 rule=$3 how=$4 text=$5 rc=0
  fresh
  case $how in
    append) printf '%s\n' "$text" >>"$tmp/tree/$file" ;;
    edit) sed -i "$text" "$tmp/tree/$file" ;;
  esac
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

plant "banned strcpy" schema/buf.c banned append 'static void planted(char *d) { strcpy(d, "x"); }'
plant "banned atoi" connectors/dn.c banned append 'static int planted(const char *s) { return atoi(s); }'
plant "guard name" schema/buf.h guard edit 's/^#ifndef MVS_BUF_H$/#ifndef BUF_H/'
plant "guard closed early" schema/value.h guard append 'extern int planted;'
plant "header first line" schema/utf8.h header edit '1s|^/\* utf8 — |/* UTF-8 helpers: |'
plant "header memory ownership" connectors/base64.h header edit '1,5s/Memory:/Owner:/'
plant "sqlite outside store.c" engine/diff.c sqlite append 'void *planted(void) { return sqlite3_malloc(1); }'
plant "I/O in rules/" rules/scope.c rules-io append 'void planted(void) { puts("x"); }'
plant "fopen in rules/" rules/catalog.c rules-io append 'void *planted(void) { return fopen("x", "r"); }'
plant "connector includes engine/" connectors/dn.c connectors edit '0,/^#include "/s//#include "engine\/store.h"\n#include "/'
plant "connector includes rules/" connectors/ldap/escape.c connectors edit '0,/^#include "/s//#include "rules\/expr.h"\n#include "/'
plant "schema includes tools/" schema/value.c tools edit '0,/^#include "/s//#include "tools\/cli.h"\n#include "/'
# mv.c is below the sync driver: sync.c -> sync_in.c -> mv.c; mv.c reaching up closes a circle.
plant "include circle (engine/ .c)" engine/mv.c circle edit '0,/^#include "engine/s//#include "engine\/sync.h"\n#include "engine/'
# The context header reaching up to a module that includes it.
plant "include circle (engine/ .h)" engine/engine_int.h circle edit '0,/^#include "engine/s//#include "engine\/diff.h"\n#include "engine/'

[ "$fails" -eq 0 ] || { echo "$fails case(s) failed"; exit 1; }
echo "all planted violations caught"
