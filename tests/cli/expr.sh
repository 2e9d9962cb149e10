#!/usr/bin/env bash
# CLI tests for `mvsync expr`: output forms, exit codes and error positions.
# Usage: expr.sh PATH/TO/mvsync
set -u
mvsync=$1
fails=0; n=0

# expect NAME WANT_RC WANT_STDOUT WANT_STDERR_SUBSTRING -- ARGS...
expect() {
  local name=$1 want_rc=$2 want_out=$3 want_err=$4; shift 5
  local out err rc
  n=$((n + 1))
  out=$("$mvsync" "$@" 2>/tmp/mvsync-cli-err.$$); rc=$?
  err=$(cat /tmp/mvsync-cli-err.$$)
  if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ] ||
     { [ -n "$want_err" ] && [[ "$err" != *"$want_err"* ]]; }; then
    fails=$((fails + 1))
    printf 'FAIL %s\n  rc=%s (want %s)\n  stdout=%q (want %q)\n  stderr=%q (want *%s*)\n' \
      "$name" "$rc" "$want_rc" "$out" "$want_out" "$err" "$want_err"
  fi
}

# The acceptance example: Cloud Sync's default cn expression.
expect cn-default 0 "Sales_e9305786a271" "" -- expr \
  'Append(Append(Left(Trim([displayName]), 51), "_"), Mid([objectId], 25, 12))' \
  --attr displayName=Sales --attr objectId=3a5c3221-c465-48c0-95b8-e9305786a271

# Repeated --attr makes a multi-valued attribute: one value per line.
expect mv-plain 0 $'SMTP:a@x\nsmtp:b@x' "" -- expr \
  'IIF(InStr([proxyAddresses],"SIP:")=1,NULL,[proxyAddresses])' \
  --attr proxyAddresses=SMTP:a@x --attr proxyAddresses=SIP:a@x --attr proxyAddresses=smtp:b@x

# --param supplies %NAME%, Connect's UPN fallback of "In from AD - User Join"; without it the
# parameter is unknown.
expect param-upn 0 "jdoe@contoso.com" "" -- expr \
  'IIF(IsPresent([userPrincipalName]),[userPrincipalName], IIF(IsPresent([sAMAccountName]),([sAMAccountName]&"@"&%Domain.FQDN%),Error("AccountName is not present")))' \
  --attr sAMAccountName=jdoe --param Domain.FQDN=contoso.com
expect param-missing 1 "" "unknown parameter %Domain.FQDN%" -- expr '%Domain.FQDN%'
expect param-malformed 2 "" "--param takes NAME=VALUE" -- expr --param Domain.FQDN '%Domain.FQDN%'

# NULL prints nothing; --json prints null.
expect null-plain 0 "" "" -- expr '[missing]'
expect null-json 0 '{"value": null}' "" -- expr --json '[missing]'
expect authnull-json 0 '{"value": null, "flow": "AuthoritativeNull"}' "" -- expr --json 'AuthoritativeNull'
expect ignore-json 0 '{"value": null, "flow": "IgnoreThisFlow"}' "" -- expr --json 'IgnoreThisFlow'
expect num-json 0 '{"value": 13}' "" -- expr --json '2*5+3'
expect mv-json 0 '{"value": ["a", "b"]}' "" -- expr --json '[m]' --attr m=a --attr m=b

# --object reads a JSON object of attribute -> value or array.
obj=$(mktemp); trap 'rm -f "$obj" /tmp/mvsync-cli-err.$$' EXIT
printf '{"givenName": "Ada", "sn": "Lovelace", "otherMails": ["a@x", "b@x"]}' >"$obj"
expect object 0 "Ada Lovelace" "" -- expr --object "$obj" '[givenName] & " " & [sn]'
expect object-count 0 "2" "" -- expr --object "$obj" 'Count([otherMails])'

# The cloud dialect: Join(separator, values...).
expect cloud-join 0 "a,b" "" -- expr --dialect cloud 'Join(",", [m])' --attr m=a --attr m=b

# Errors: parse errors name expr:1:COL; runtime Error() exits 1 with its message.
expect parse-error 1 "" "expr:1:6: error:" -- expr 'Left(' 
expect unknown-fn 1 "" "expr:1:1: error:" -- expr 'Lfet([x], 2)'
expect runtime-error 1 "" "boom" -- expr 'Error("boom")'
expect usage 2 "" "usage:" -- expr
expect bad-dialect 2 "" "unknown dialect" -- expr --dialect vb 'Now()'

echo "$n cases, $fails failed"
[ "$fails" = 0 ]
