#!/usr/bin/env bash
# ctest ldap_ad_naming: a derived sAMAccountName the directory refuses is rejected when the
# outbound rule computes it, not sent to be refused on every run.  Microsoft's SAM-Account-Name
# reference: the value "cannot contain any of these characters: " / \ [ ] : ; | = , + * ? < >";
# account names also exclude the non-printable characters 1-31 (USER_INFO_0) and a final period;
# DEL (0x7F) is a control character too.  Each is tried, from a file connector (Entra shape)
# through `mvsync cycle` into Samba (then a full cycle again): not created (ldapsearch), not sent (no server error), one
# error per object per run naming the rule, the attribute, the character and its position; the
# valid users of the same run are created; the run goes on.  Usage: tests/ldap/ad_naming.sh MVSYNC
set -euo pipefail
mvsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mvs-adnaming.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$here/samba.sh"
. "$here/lib.sh"

samba_start
N="OU=Named,$SAMBA_OU"
samba_ldap ldapadd >/dev/null <<EOF
dn: $N
objectClass: organizationalUnit
EOF
# Microsoft's list, one character each, as JSON strings; then the control characters and the
# final period.  Each value is "ab" + the character + "cd" (position 3), except the period.
forbidden=('"' / '\' '[' ']' : ';' '|' = , + '*' '?' '<' '>')
users=() i=0
for ch in "${forbidden[@]}"; do
  i=$((i + 1))
  j=$(jq -Rn --arg c "$ch" '"ab" + $c + "cd"')
  users+=("{\"id\": \"bad$i\", \"displayName\": \"Bad $i\", \"mailNickname\": $j}")
done
for code in 0001 0009 001f 007f; do
  i=$((i + 1))
  users+=("{\"id\": \"bad$i\", \"displayName\": \"Bad $i\", \"mailNickname\": \"ab\\u${code}cd\"}")
done
i=$((i + 1))
users+=("{\"id\": \"bad$i\", \"displayName\": \"Bad $i\", \"mailNickname\": \"abcd.\"}")
n_bad=$i
users+=('{"id": "good1", "displayName": "Good One", "mailNickname": "good.one-1_x"}')
users+=('{"id": "good2", "displayName": "Good Two", "mailNickname": "Ünïcødé"}')
(IFS=,; echo "{\"users\": [${users[*]}]}") >"$work/cloud.json"
jq -e . "$work/cloud.json" >/dev/null

write_rules "$work/ad.rules" "$SAMBA_LDAPS_URL" "" "containers \"$SAMBA_OU\""
cat >>"$work/ad.rules" <<EOF

connector "cloud" type file {
  shape "entra"
  path "cloud.json"
}

rule "In from cloud - Users" {
  direction inbound
  connector "cloud"
  source user -> person
  link provision
  precedence 110
  flow [id] -> objectId
  flow [displayName] -> displayName
  flow [mailNickname] -> accountName
}

rule "Out to AD - Users" {
  direction outbound
  connector "test.lan"
  source person -> user
  link provision
  precedence 200
  scope {
    objectId ISNOTNULL
  }
  flow [displayName] -> cn
  flow constant "$N" -> parentDistinguishedName
  flow [accountName] -> sAMAccountName
}
EOF
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/ad.rules
"$mvsync" init >/dev/null
# The second run is a full cycle: every object is evaluated again, and refused again.
for run in 1 2; do
  rc=0
  "$mvsync" cycle $([ "$run" = 1 ] || echo --initial) >"$work/out$run" 2>&1 || rc=$?
  # Exit 7 (completed with errors) where the engine reports it, else 0; the status says it.
  { [ "$rc" = 0 ] || [ "$rc" = 7 ]; } && grep -q "cycle: completed-errors" "$work/out$run" &&
    ok "cycle $run: completes with errors (exit $rc, completed-errors)" ||
    { bad "cycle $run: exit $rc"; cat "$work/out$run"; }
  refused=$(grep -c 'rule "Out to AD - Users" gives sAMAccountName a value with' "$work/out$run" || true)
  [ "$refused" = "$n_bad" ] && ok "cycle $run: $n_bad values refused, each reported once" ||
    { bad "cycle $run: $refused refusals, expected $n_bad"; cat "$work/out$run"; }
  grep -q "failed (" "$work/out$run" && { bad "cycle $run: something was sent and refused"; grep "failed (" "$work/out$run"; } ||
    ok "cycle $run: nothing was sent for the server to refuse"
done
i=0
for ch in "${forbidden[@]}"; do
  i=$((i + 1))
  hex=$(printf '%s' "$ch" | od -An -tx1 | tr -d ' ' | tr a-f A-F)
  grep -q "Bad $i.*character 0x$hex at position 3 " "$work/out1" && ok "'$ch': character 0x$hex at position 3 named" ||
    { bad "'$ch' (Bad $i) not reported as 0x$hex at 3"; grep "Bad $i" "$work/out1"; }
done
for hex in 01 09 1F 7F; do
  i=$((i + 1))
  grep -q "Bad $i.*a control character.*character 0x$hex at position 3 " "$work/out1" &&
    ok "control character 0x$hex at position 3 named" || { bad "0x$hex (Bad $i)"; grep "Bad $i" "$work/out1"; }
done
i=$((i + 1))
grep -q "Bad $i.*a period at the end.*character 0x2E at position 5 " "$work/out1" && ok "the final period named" ||
  { bad "final period (Bad $i)"; grep "Bad $i" "$work/out1"; }
found=$(samba_ldap ldapsearch -LLL -b "$N" '(objectClass=user)' sAMAccountName | sed -n 's/^sAMAccountName:: *//p; s/^sAMAccountName: //p' | sort | tr '\n' '|')
[ "$found" = "$(printf '%s\n' good.one-1_x "$(printf '%s' 'Ünïcødé' | base64)" | sort | tr '\n' '|')" ] &&
  ok "only the two valid users exist in AD (ldapsearch)" || bad "AD has: $found"
"$mvsync" pending test.lan --json | jq -e '[.[] | select(.dn | test("Bad"))] | length == 0' >/dev/null &&
  ok "no export of a refused value is pending" || { bad "refused values pending"; "$mvsync" pending test.lan; }

finish
