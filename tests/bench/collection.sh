#!/bin/sh
# Benchmark (not a test): what a collection costs.  On bench_gen's 100k-user directories it
# runs the same steps twice — the plain rule set, then with a collection of the persons of
# departments "Dept 1*" (about 22,000) provisioned to one AD group — and prints seconds and
# peak RSS per step.  The 10,000 changes move people out of their departments, so about
# 2,200 leave the collection: value-level member deletes of one export.
# usage: tests/bench/collection.sh [BUILD_DIR]
set -eu
B=${1:-$(dirname "$0")/../../build}
for x in "$B/mvsync" "$B/tests/bench_gen"; do [ -x "$x" ] || { echo "build first: $x missing" >&2; exit 2; }; done
W=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-bench-coll-XXXXXX")
trap 'rm -rf "$W"' EXIT

step() { # NAME mvsync-args...
  name=$1; shift
  /usr/bin/time -f "%e %M" -o "$W/time.txt" "$B/mvsync" "$@" --store store.db --rules rules.rules \
    >"$W/out.txt" 2>&1 || { echo "$name failed:" >&2; tail -20 "$W/out.txt" >&2; exit 1; }
  read -r s kib <"$W/time.txt"
  printf '%-12s %-28s %8s %7s MiB\n' "$mode" "$name" "$s" $((kib / 1024))
}

printf '%-12s %-28s %8s %11s\n' "rule set" step seconds "peak RSS"
for mode in plain collection; do
  rm -rf "$W/d" && mkdir "$W/d" && cd "$W/d"
  "$B/tests/bench_gen" . 100000 10000 >/dev/null
  if [ "$mode" = collection ]; then cat >>rules.rules <<'RULES'

collection "Dept 1x" {
  source person
  scope {
    department STARTSWITH "Dept 1"
  }
}

rule "Out to AD - Dept 1x group" {
  direction outbound
  connector "ad"
  source collection -> group
  link provision
  precedence 300
  flow constant "CN=Dept 1x,OU=Groups,DC=bench,DC=example" -> dn
  flow [member] -> member
}
RULES
  fi
  "$B/mvsync" init --store store.db >/dev/null || exit 1
  step "full import ad" import ad --full
  step "full import entra" import entra --full
  step "full sync" sync --full
  step "export ad" export ad
  step "confirming delta import ad" import ad --delta
  step "delta sync (confirmations)" sync --delta
  cat delta.ldif >>ad.ldif.changes
  step "delta import (10,000 changes)" import ad --delta
  step "delta sync (10,000 changes)" sync --delta
done
"$B/mvsync" pending --store store.db --json | grep -o '"delete": \[[^]]*\]' | grep -o '"ref"' | wc -l |
  xargs printf 'collection group: %s member deletes staged by the delta sync\n'
cd /
