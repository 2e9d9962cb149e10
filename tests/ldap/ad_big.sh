#!/usr/bin/env bash
# ctest ldap_ad_big: the ad connector on the harness's big variant (52,000 users, a group of
# 6,000 members): the group imported through ranged retrieval (range-size 1500, as AD's
# MaxValRange answers), copied to another OU by a second ad connector (an add with the first
# chunk of members, then modifies of member-chunk values each), 1,500 member removals and
# 1,200 additions carried by DirSync, held by the export threshold, then written in chunks
# with --allow-deletes; then the DC stopped in the middle of a paged import: the run fails
# cleanly, the store is unchanged, the next run completes.
# Usage: tests/ldap/ad_big.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-adbig.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start big
B=$SAMBA_BENCH_OU C="OU=Copies,$SAMBA_OU"
printf 'dn: %s\nobjectClass: organizationalUnit\n' "$C" | samba_ldap ldapadd >/dev/null
connector() { # NAME CONTAINERS [SETTING...]
  local name=$1 containers=$2
  shift 2
  echo "connector \"$name\" type ad {"
  echo "  url \"$SAMBA_LDAPS_URL\""
  echo "  ca-file \"$SAMBA_CA\""
  echo "  bind-dn \"$SAMBA_BIND_DN\""
  echo "  password file:$SAMBA_PASSWORD_FILE"
  echo "  base \"$SAMBA_BASE\""
  echo "  containers \"$containers\""
  for s in "$@"; do echo "  $s"; done
  echo "}"
}
{
  connector src "$B" "range-size 1500" "page-size 200"
  connector dst "$B|$C" "range-size 1500"
  cat <<EOF

rule "In from src - Users" {
  direction inbound
  connector "src"
  source user -> person
  link provision
  precedence 100
  flow [sAMAccountName] -> accountName
}

rule "In from src - Groups" {
  direction inbound
  connector "src"
  source group -> group
  link provision
  precedence 101
  flow [cn] -> name
  flow [member] -> members
}

rule "In from dst - Users" {
  direction inbound
  connector "dst"
  source user -> person
  link join
  precedence 102
  join {
    sAMAccountName = accountName
  }
}

rule "Out to dst - Copies" {
  direction outbound
  connector "dst"
  source group -> group
  link provision
  precedence 103
  dialect cloud
  flow Append("Copy of ", [name]) -> cn
  flow constant "$C" -> parentDistinguishedName
  flow [members] -> member
}
EOF
} >"$work/big.rules"
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/big.rules
"$mvsync" init >/dev/null
copy="CN=Copy of Bench Group,$C"
members() { samba_ldap ldapsearch -LLL -b "$1" -s base member | grep -c '^member:' || true; }

# --- ranged import, chunked add ------------------------------------------------------------------
"$mvsync" cycle --initial >"$work/out" 2>&1 || { bad "initial cycle failed"; tail -5 "$work/out"; }
n=$(CONNECTOR=src cs_refs "$SAMBA_BENCH_GROUP" member | tr '|' '\n' | grep -c . || true)
[ "$n" = "$SAMBA_BENCH_MEMBERS" ] && ok "ranged retrieval: $n members imported" ||
  bad "ranged retrieval: $n of $SAMBA_BENCH_MEMBERS members"
[ "$(members "$copy")" = "$SAMBA_BENCH_MEMBERS" ] && ok "chunked add: the copy has $SAMBA_BENCH_MEMBERS members" ||
  { bad "chunked add: $(members "$copy") members"; tail -5 "$work/out"; }

# --- 1,500 removals and 1,200 additions: DirSync delta, chunked modify ----------------------------
awk -v g="$SAMBA_BENCH_GROUP" -v ou="$B" 'BEGIN {
  printf "dn: %s\nchangetype: modify\ndelete: member\n", g
  for (i = 1; i <= 1500; i++) printf "member: CN=Bench User %05d,%s\n", i, ou
  print "-"
  print "add: member"
  for (i = 10001; i <= 11200; i++) printf "member: CN=Bench User %05d,%s\n", i, ou
  print "-" }' | samba_ldap ldapmodify >/dev/null
want=$((SAMBA_BENCH_MEMBERS - 1500 + 1200))
# 1,500 value removals are more than the default export threshold of 500 changes (docs/safety.md):
# the first cycle must stop with nothing written; the intended change then goes with --allow-deletes.
rc=0
"$mvsync" cycle --delta >"$work/out0" 2>&1 || rc=$?
[ "$rc" = 4 ] && ok "1,500 removals stop at the deletion threshold (exit 4)" || { bad "exit $rc, want 4"; tail -5 "$work/out0"; }
[ "$(members "$copy")" = "$SAMBA_BENCH_MEMBERS" ] && ok "the stop wrote nothing" || bad "the stop wrote $(members "$copy") members"
"$mvsync" cycle --delta --allow-deletes >"$work/out" 2>&1 || { bad "delta cycle failed"; tail -5 "$work/out"; }
grep -q "src: delta import" "$work/out0" && ok "member changes came as a delta" || bad "not a delta"
[ "$(members "$copy")" = "$want" ] && ok "chunked modify: the copy has $want members" ||
  { bad "chunked modify: $(members "$copy") members, want $want"; tail -5 "$work/out"; }
samba_ldap ldapsearch -LLL -b "$copy" -s base member | grep -q "^member: CN=Bench User 00001," &&
  bad "a removed member is still in the copy" || ok "removed members are gone from the copy"

# --- the DC stopped in the middle of a paged import ----------------------------------------------
"$mvsync" dump --json >"$work/before"
"$mvsync" import src --full >"$work/out" 2>&1 &
pid=$!
sleep 0.7
kill -0 "$pid" 2>/dev/null && ok "import still running when the DC stops" || bad "import ended before the stop"
samba_halt
rc=0
wait "$pid" || rc=$?
[ "$rc" = 3 ] && ok "the run fails as a system error (exit 3)" || { bad "exit code $rc"; cat "$work/out"; }
grep -q "Can't contact LDAP server" "$work/out" && ok "the failure says the server is unreachable" ||
  { bad "failure message"; cat "$work/out"; }
"$mvsync" dump --json >"$work/after"
cmp -s "$work/before" "$work/after" && ok "the store is unchanged" || bad "the failed run changed the store"
samba_restart
"$mvsync" import src --full >"$work/out" 2>&1 && ok "the next run completes" || { bad "next run"; cat "$work/out"; }
"$mvsync" runs --json | jq -e '.[-2].status != "success" and .[-1].status == "success"' >/dev/null &&
  ok "run history: failed, then success" || bad "run history"

finish
