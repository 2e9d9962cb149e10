# Checks shared by scenarios 2-4 (sourced after lib.sh): what a run exported, per `--json` run
# summary.  Output goes to stdout; nothing is kept.
# shellcheck shell=bash

# run_exports RUN.json: the number of objects the run's exports added, updated, deleted or
# renamed, summed over connectors (0 when nothing was pending).
run_exports() {
  jq -r '.log' "$1" | sed -n 's/^.*: export: \([0-9]*\) adds, \([0-9]*\) updates, \([0-9]*\) deletes.*/\1 \2 \3/p' |
    awk '{ n += $1 + $2 + $3 } END { print n + 0 }'
}

# run_synced RUN.json: adds + updates + deletes of the run's sync step (metaverse and exports
# staged).
run_synced() {
  jq -r '.log' "$1" | sed -n 's/^\(full\|delta\) sync: \([0-9]*\) adds, \([0-9]*\) updates, \([0-9]*\) deletes.*/\2 \3 \4/p' |
    awk '{ n += $1 + $2 + $3 } END { print n + 0 }'
}

# tally < <(command): counts the command's "PASS: …" and "FAIL: …" lines with ok / bad
# (tests/ldap/lib.sh) in this shell; other lines are printed as they are.
tally() {
  local line
  while IFS= read -r line; do
    case $line in
    PASS:\ *) ok "${line#PASS: }" ;;
    FAIL:\ *) bad "${line#FAIL: }" ;;
    *) printf '%s\n' "$line" ;;
    esac
  done
}

# rules_diff EXAMPLE COPY SED_ARG...: the differences between an example rule file, with its
# DNs mapped by the sed arguments, and the test's copy, leaving out the connector settings a
# copy points at its servers.  Prints the diff; fails when there is one.
rules_diff() {
  local example=$1 copy=$2 settings
  shift 2
  settings='^  \(url\|ca-file\|bind-dn\|password\|base\|containers\|tenant\|client-id\|client-secret\|authority\|graph-url\) '
  diff <(sed "$@" "$example" | grep -v "$settings") <(grep -v "$settings" "$copy")
}
