#!/usr/bin/env bash
# `mvsync rules import connect` on the real Contoso export (tests/fixtures/connect-export):
# every rule, clause, join and flow held to the XML by an independent script
# (tests/rules/connect_import_check.py), `rules check` and `rules fmt --check` clean, the same
# files from a second import, the same files from the PowerShell form of the same rules
# (tests/rules/connect_to_ps.py), what cannot be carried reported and kept as comments
# (tests/rules/connect-odd), broken input refused with file:line:col and nothing written.
# Usage: connect_import.sh PATH/TO/mvsync
set -u
mvsync=$1
here=$(cd "$(dirname "$0")/.." && pwd)
export_dir=$here/fixtures/connect-export/contoso
odd=$here/rules/connect-odd
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0; n=0

fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }

# expect NAME WANT_RC WANT_STDOUT_SUBSTRING WANT_STDERR_SUBSTRING -- ARGS...
expect() {
  local name=$1 want_rc=$2 want_out=$3 want_err=$4; shift 5
  local out err rc
  n=$((n + 1))
  out=$("$mvsync" "$@" 2>"$work/err"); rc=$?
  err=$(cat "$work/err")
  if [ "$rc" != "$want_rc" ] || [[ "$out" != *"$want_out"* ]] || [[ "$err" != *"$want_err"* ]]; then
    fail "$name"
    printf '  rc=%s (want %s)\n  stdout=%q (want *%s*)\n  stderr=%.600q (want *%s*)\n' \
      "$rc" "$want_rc" "$out" "$want_out" "$err" "$want_err"
  fi
}

# The XML export: every rule and flow of the export's 62 rules and 1,200 flows carried,
# except what Graph refuses on the Azure AD connector (docs/entra-mapping.md), each of those
# reported and kept as a comment; the output checks clean.  The counts are the check
# script's, from the XML and that page.
expect import-xml 0 "from 65 files" "" -- rules import connect "$export_dir" --out "$work/a"
expect import-xml-13-files 0 "(13 files)" "" -- rules import connect "$export_dir" --out "$work/a"
"$mvsync" rules import connect "$export_dir" --out "$work/a" >"$work/import.out" 2>&1
expect check-output 0 "ok: 13 files, 2 connectors" "" -- rules check "$work/a"
expect fmt-output 0 "" "" -- rules fmt --check "$work/a"
n=$((n + 1))
python3 "$here/rules/connect_import_check.py" "$mvsync" "$export_dir" "$work/a" \
  "$work/import.out" >"$work/cmp" 2>&1 || { fail "output differs from the XML"; cat "$work/cmp"; }
n=$((n + 1))
grep -q '^# flow \[objectSid\] -> onPremiseSecurityIdentifier' \
  "$work/a/contoso.onmicrosoft.com-aad.out.group.rules" 2>/dev/null ||
  grep -q '^  # flow .*-> onPremiseSecurityIdentifier' \
  "$work/a/contoso.onmicrosoft.com-aad.out.group.rules" || fail "refused flow kept as a comment"
grep -q '^# rule "Out to AAD - Contact Join" {' "$work/a/contoso.onmicrosoft.com-aad.out.person.rules" \
  || fail "refused rule kept as a comment"
grep -q ' 0 differences' "$work/cmp" || { fail "check script"; cat "$work/cmp"; }

# Grouped per connector, direction and metaverse object type.
n=$((n + 1))
for f in connectors.rules metaverse.rules contoso.com.in.person.rules contoso.com.in.any.rules \
         contoso.com.out.group.rules contoso.onmicrosoft.com-aad.out.person.rules; do
  [ -f "$work/a/$f" ] || fail "missing $f"
done
# Connectors: named from the export, placeholders for servers, secrets only as env:.
n=$((n + 1))
grep -q '^connector "contoso.com" type ad {' "$work/a/connectors.rules" || fail "ad connector"
grep -q '^connector "contoso.onmicrosoft.com - AAD" type entra {' "$work/a/connectors.rules" \
  || fail "entra connector"
grep -q 'password env:MVSYNC_CONTOSO_COM_PASSWORD' "$work/a/connectors.rules" || fail "env secret"
grep -q 'client-secret env:MVSYNC_CONTOSO_ONMICROSOFT_COM_AAD_CLIENT_SECRET' \
  "$work/a/connectors.rules" || fail "entra secret"
grep -q 'containers "OU=CORP,DC=contoso,DC=com"' "$work/a/connectors.rules" || fail "containers"
# %Connector.ID% in a scope: the connector's own value, as its flows write it.
grep -q 'contributingConnectorExchange EQUAL "{ae4db4cc-b16b-4eb2-acf5-837ca84e4d7d}"' \
  "$work/a/contoso.com.out.person.rules" || fail "Connector.ID in scope"

# The same export twice: the same bytes, into a new folder and over the old one.
n=$((n + 1))
"$mvsync" rules import connect "$export_dir" --out "$work/b" >/dev/null 2>&1
diff -r "$work/a" "$work/b" >/dev/null || fail "second import differs"
cp -r "$work/a" "$work/a0"
"$mvsync" rules import connect "$export_dir" --out "$work/a" >/dev/null 2>&1
diff -r "$work/a0" "$work/a" >/dev/null || fail "import over its own output differs"

# The PowerShell form of the same rules, with the export's connectors and metaverse: the same
# files, byte for byte.
n=$((n + 1))
python3 "$here/rules/connect_to_ps.py" "$export_dir" "$work/contoso.ps1" || fail "connect_to_ps"
expect import-ps 0 "from 4 files" "" \
  -- rules import connect "$work/contoso.ps1" --connectors "$export_dir" --out "$work/ps"
diff -r "$work/a" "$work/ps" >"$work/psdiff" || { fail "PowerShell import differs"; head -20 "$work/psdiff"; }

# What cannot be carried: reported with file:line and why, kept as a comment where it was,
# the rule disabled when a scope clause is lost; the rest still checks clean.
expect odd-report 0 "not carried: 7" "" -- rules import connect "$odd" --out "$work/odd"
expect odd-operator 0 \
  "SynchronizationRules/rule-odd.xml:52: scope clause 'department EQUALS IT' of rule \"In from HR - Odd\": an operator mvsync does not know" \
  "" -- rules import connect "$odd" --out "$work/odd"
expect odd-function 0 "rule-odd.xml:15: flow Lfet([displayName], 3) -> displayName of rule \"In from HR - Odd\": unknown function 'Lfet'" \
  "" -- rules import connect "$odd" --out "$work/odd"
expect odd-element 0 "rule-odd.xml:13: element <futureSetting> of <synchronizationRule> is not read" \
  "" -- rules import connect "$odd" --out "$work/odd"
expect odd-merge 0 "unknown ValueMergeType 'Overwrite'" "" -- rules import connect "$odd" --out "$work/odd"
expect odd-twice 0 "the rule already flows to it" "" -- rules import connect "$odd" --out "$work/odd"
expect odd-check 0 "ok: 2 files, 1 connector, 2 rules" "" -- rules check "$work/odd"
n=$((n + 1))
f=$work/odd/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.in.person.rules
grep -q "# not carried: flow Lfet(\[displayName\], 3) -> displayName" "$f" || fail "comment kept"
grep -A2 'is disabled: a scope clause' "$f" | grep -q '^  disabled$' || fail "odd rule disabled"
grep -q 'company ISIN ("Contoso \\"East\\"")' "$f" || fail "quoted value"
grep -q 'flow IIF(IsPresent(\[jobTitle\]), Trim(\[jobTitle\]), NULL) -> title' "$f" \
  || fail "multi-line expression"
grep -q 'soft-delete 1.00:00:00' "$f" || fail "soft-delete"
expect odd-ps 0 "odd.ps1:26: command Set-ADSyncScheduler is not one that makes rules: not read" \
  "" -- rules import connect "$odd/odd.ps1" --out "$work/oddps"
expect odd-ps-never-added 0 "odd.ps1:41: rule \"Never added\" was never added" "" \
  -- rules import connect "$odd/odd.ps1" --out "$work/oddps"
grep -q 'precedence 60' "$work/oddps/hr.in.person.rules" || fail "PowerShell variable"

# A script that is not UTF-8 text is not read (a misread name would be carried wrong); a UTF-8
# byte-order mark is fine.
printf '\xff\xfeN\x00e\x00w\x00' >"$work/u16.ps1"
expect ps-utf16 1 "" "u16.ps1:1: the script is UTF-16" -- rules import connect "$work/u16.ps1" --out "$work/e"
printf '\xef\xbb\xbf' >"$work/bom.ps1"
cat "$odd/odd.ps1" >>"$work/bom.ps1"
expect ps-bom 0 "imported 1 of 1 rules" "" -- rules import connect "$work/bom.ps1" --out "$work/e"

# Broken input: refused with file:line:col, nothing written.
cp -r "$export_dir" "$work/broken"
chmod -R u+w "$work/broken"
f=$(ls "$work/broken/SynchronizationRules/" | head -1)
head -c 300 "$export_dir/SynchronizationRules/$f" > "$work/broken/SynchronizationRules/$f"
expect broken-xml 1 "" "SynchronizationRules/$f:" -- rules import connect "$work/broken" --out "$work/c"
n=$((n + 1))
[ ! -e "$work/c" ] || fail "a broken export wrote output"
expect no-rules 1 "" "no synchronization rules" -- rules import connect "$odd/../good" --out "$work/d"
expect missing 1 "" "No such file or directory" -- rules import connect "$work/nope" --out "$work/d"
expect usage-none 2 "" "usage: mvsync rules import connect" -- rules import
expect usage-source 2 "" "unknown source 'mim'" -- rules import mim "$export_dir"
expect usage-arg 2 "" "unknown option --frob" -- rules import connect "$export_dir" --frob
expect help 0 "usage: mvsync rules import connect PATH" "" -- rules import --help

echo "$n checks, $fails failed"
[ "$fails" = 0 ]
