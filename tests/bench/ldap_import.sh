#!/usr/bin/env bash
# Benchmark (not a test): a full import of the Samba AD DC's big variant (tests/ldap/samba.sh:
# 52,000 users and a group of 6,000 members under OU=Bench) by `mvsync import --full`, against a
# raw paged ldapsearch of the same entries with the same attributes, filter and page size over
# the same ldaps connection type, alternating in the same run; prints each time and the ratio
# (mvsync / ldapsearch; the goal is <= 1.25, that is >= 0.8 of ldapsearch's speed).
# usage: tests/bench/ldap_import.sh [BUILD_DIR] [RUNS]     (RUNS default 3; median reported)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$root/build}" && pwd)
runs=${2:-3}
mvsync=$B/mvsync
[ -x "$mvsync" ] || { echo "build first: $mvsync missing" >&2; exit 2; }
work=$(mktemp -d /tmp/mvs-ldapbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$root/tests/ldap/samba.sh"
samba_start big

# The attributes the rules below read, as mvsync asks for them: its flows' sources, plus the
# anchor (objectGUID), objectClass and isDeleted (connectors/ldap/ldap_conn.c build_attrs).
attrs=(sAMAccountName userPrincipalName givenName sn displayName mail department employeeID member
  objectGUID objectClass isDeleted)
# The filter mvsync builds for the types user and group (a computer is also a user).
filter='(&(|(objectClass=user)(objectClass=group))(!(objectClass=computer)))'
page=1000
cat >"$work/bench.rules" <<EOF
connector "bench" type ad {
  url "$SAMBA_LDAPS_URL"
  ca-file "$SAMBA_CA"
  bind-dn "$SAMBA_BIND_DN"
  password file:$SAMBA_PASSWORD_FILE
  base "$SAMBA_BASE"
  containers "$SAMBA_BENCH_OU"
  page-size $page
}

rule "In from AD - User" {
  direction inbound
  connector "bench"
  source user -> person
  link provision
  precedence 100
  flow [sAMAccountName] -> accountName
  flow [userPrincipalName] -> userPrincipalName
  flow [givenName] -> givenName
  flow [sn] -> sn
  flow [displayName] -> displayName
  flow [mail] -> mail
  flow [department] -> department
  flow [employeeID] -> employeeId
}

rule "In from AD - Group" {
  direction inbound
  connector "bench"
  source group -> group
  link provision
  precedence 101
  flow [sAMAccountName] -> accountName
  flow [member] -> members
}
EOF
"$mvsync" rules check "$work/bench.rules" >/dev/null

# measure NAME CMD...: wall seconds, client CPU seconds (user+sys of CMD) and the DC's CPU
# seconds while CMD ran, as "wall client server" in $NAME.
clk=$(getconf CLK_TCK)
dc_cpu() { awk -v hz="$clk" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$(cat "$SAMBA_DIR/run/samba.pid")/stat"; }
measure() {
  local name=$1 t s0 s1
  shift
  s0=$(dc_cpu)
  t=$({ TIMEFORMAT='%R %U %S'; time "$@" >/dev/null; } 2>&1 | tail -1)
  s1=$(dc_cpu)
  printf -v "$name" '%s' "$(awk -v t="$t" -v a="$s0" -v b="$s1" \
    'BEGIN { split(t, x, " "); printf "%.2f %.2f %.2f", x[1], x[2] + x[3], b - a }')"
}

raw_search() {
  samba_ldap ldapsearch -b "$SAMBA_BENCH_OU" -E "pr=$page/noprompt" "$filter" "${attrs[@]}" >"$work/raw.ldif"
}
fresh_store() {
  rm -f "$work/store.db"*
  "$mvsync" init --store "$work/store.db" --rules "$work/bench.rules" >/dev/null
}
mvsync_import() {
  "$mvsync" import bench --full --store "$work/store.db" --rules "$work/bench.rules" >"$work/import.log" 2>&1 ||
    { cat "$work/import.log" >&2; return 1; }
}

raw_search # warm-up: the copy was just made; both contenders then read from a warm server
entries=$(grep -c '^dn: ' "$work/raw.ldif")
echo "LDAP full-import benchmark: $entries entries ($SAMBA_BENCH_USERS users, a group of $SAMBA_BENCH_MEMBERS members)"
echo "server: $(samba -V), $SAMBA_LDAPS_URL, page size $page; machine: $(nproc) cores; $runs runs, alternating"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "times in seconds: wall, client CPU (user+sys), DC CPU during the run"
printf '%-4s %24s %24s %7s\n' run "ldapsearch wall/cpu/dc" "mvsync wall/cpu/dc" ratio
rows=()
for i in $(seq "$runs"); do
  measure raw raw_search
  fresh_store
  measure mv mvsync_import
  ratio=$(awk -v a="${mv%% *}" -v b="${raw%% *}" 'BEGIN { printf "%.2f", a / b }')
  rows+=("$ratio|$raw|$mv")
  printf '%-4s %24s %24s %7s\n' "$i" "${raw// //}" "${mv// //}" "$ratio"
done
echo "mvsync's last run: $(grep -o 'full import bench: .*' "$work/import.log") (ldapsearch: $entries entries)"
IFS='|' read -r ratio raw mv <<<"$(printf '%s\n' "${rows[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")"
echo "median run: ldapsearch ${raw%% *} s, mvsync import ${mv%% *} s, ratio $ratio (goal <= 1.25)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
