#!/usr/bin/env bash
# mvsync search and show (issue 15 item 1, docs/cli.md "search"), against a store built by
# real runs of the file connector: every filter kind (dn, anchor, object-type, join-key and
# other attributes with each family of scope operators, ISMEMBEROF, and/or) and every state
# (joined, disconnector, pending-import, pending-export, error), in a connector space and in
# the metaverse; the JSON and CSV shapes; errors with their column; the query plan of the
# common filters (EXPLAIN QUERY PLAN: an index search, never a scan of the table); show by
# DN and anchor with lineage.  The expected objects are read off the directory files below
# and the rules' meaning, never from mvsync's output.
# Usage: search.sh PATH/TO/mvsync
set -u
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export MVSYNC_STORE=$work/s.db MVSYNC_RULES=$work/rules.rules
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

cat >rules.rules <<'R'
connector "hr" type file {
  shape "ad"
  path "hr.ldif"
  changes "hr.ldif.changes"
  attribute dn string
  attribute employeeID string
  attribute department string
  attribute userAccountControl integer
  attribute member reference multi
}
connector "cloud" type file {
  shape "entra"
  path "cloud.json"
  changes "cloud.json.changes"
  attribute employeeId string
  attribute department string
  attribute displayName string
}
metaverse {
  object person {
    attribute employeeId string
    attribute department string
  }
  object group {
    attribute employeeId string
  }
}
rule "In from HR" {
  direction inbound
  connector "hr"
  source user -> person
  link provision
  precedence 100
  scope {
    employeeID ISNOTNULL
  }
  join {
    employeeID = employeeId
  }
  flow [employeeID] -> employeeId
  flow [department] -> department
}
rule "In from HR - Group" {
  direction inbound
  connector "hr"
  source group -> group
  link join
  precedence 110
  join {
    employeeID = employeeId
  }
}
rule "In from Cloud" {
  direction inbound
  connector "cloud"
  source user -> person
  link join
  precedence 50
  join {
    employeeId = employeeId
  }
}
rule "Out to Cloud" {
  direction outbound
  connector "cloud"
  source person -> user
  link join
  precedence 100
  flow [department] -> department
}
R

# HR: four people with employee numbers, a service account without one (out of the inbound
# rule's scope), a group, and two records with the same number E5 (the second cannot join:
# the metaverse object is taken by the first).  userAccountControl 514 = 512 + 2 (disabled).
guid() { printf '%08d-0000-4000-8000-000000000000' "$1"; }
cat >hr.ldif <<L
dn: CN=Ada Lovelace,OU=Staff,DC=example,DC=com
objectClass: user
objectGUID: $(guid 1)
employeeID: E1
department: Engineering
userAccountControl: 512

dn: CN=Alan Turing,OU=Staff,DC=example,DC=com
objectClass: user
objectGUID: $(guid 2)
employeeID: E2
department: Research
userAccountControl: 514

dn: CN=Grace Hopper,OU=Contractors,DC=example,DC=com
objectClass: user
objectGUID: $(guid 3)
employeeID: E3
department: Engineering
userAccountControl: 512

dn: CN=Edsger Dijkstra,OU=Staff,DC=example,DC=com
objectClass: user
objectGUID: $(guid 4)
employeeID: E4
department: research
userAccountControl: 66048

dn: CN=Svc Backup,OU=Service,DC=example,DC=com
objectClass: user
objectGUID: $(guid 5)
userAccountControl: 512

dn: CN=Staff,OU=Groups,DC=example,DC=com
objectClass: group
objectGUID: $(guid 6)
member: CN=Ada Lovelace,OU=Staff,DC=example,DC=com
member: CN=Alan Turing,OU=Staff,DC=example,DC=com
member: CN=Edsger Dijkstra,OU=Staff,DC=example,DC=com

dn: CN=Dup One,OU=Temps,DC=example,DC=com
objectClass: user
objectGUID: $(guid 7)
employeeID: E5
department: Sales

dn: CN=Dup Two,OU=Temps,DC=example,DC=com
objectClass: user
objectGUID: $(guid 8)
employeeID: E5
department: Sales
L
: >hr.ldif.changes
# The cloud: three of them (no department yet, so the outbound rule exports one) and E9,
# whom HR does not know (a disconnector).
cat >cloud.json <<'J'
{"users": [
 {"id": "c0000001-0000-4000-8000-000000000000", "employeeId": "E1", "displayName": "Ada"},
 {"id": "c0000002-0000-4000-8000-000000000000", "employeeId": "E2", "displayName": "Alan"},
 {"id": "c0000003-0000-4000-8000-000000000000", "employeeId": "E3", "displayName": "Grace"},
 {"id": "c0000009-0000-4000-8000-000000000000", "employeeId": "E9", "displayName": "Nine"}
], "groups": []}
J
: >cloud.json.changes

run() { "$mvsync" "$@" >"$work/out" 2>"$work/err" || { bad "$*: exit $?: $(head -c 400 "$work/err")"; }; }
run init
run import hr --full
run import cloud --full
"$mvsync" sync --full >"$work/out" 2>&1; [ $? = 7 ] || bad "the first sync: exit 7 (Dup Two's join error) wanted: $(cat "$work/out")"
# After the sync: Grace moves department and a new hire arrives, imported, not yet synced
# (pending imports; the new hire's employeeID is in no join-key row yet).
cat >>hr.ldif.changes <<L
dn: CN=Grace Hopper,OU=Contractors,DC=example,DC=com
changetype: modify
replace: department
department: Operations
-

dn: CN=New Hire,OU=Staff,DC=example,DC=com
changetype: add
objectClass: user
objectGUID: $(guid 9)
employeeID: E6
department: Research

L
run import hr --delta

# names SPACE FILTER...: the sorted DNs (connector space; the anchor where there is no DN,
# as for Entra objects) or employeeIds (metaverse) the search returns, one per line.
names() {
  local space=$1; shift
  if [ "$space" = mv ]; then set -- mv "$@"; else set -- cs "$space" "$@"; fi
  "$mvsync" search "$@" --json --limit 0 2>"$work/err" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
for r in rows:
    assert set(r) == {"id", "space", "object_type", "dn", "anchor", "attributes"}, r
    if r["space"] == "metaverse":
        print(r["attributes"].get("employeeId", "?"))
    else:
        print(r["dn"] if r["space"] == "hr" else r["attributes"]["employeeId"])
' | sort
}

# want SPACE FILTER EXPECTED...: the search returns exactly EXPECTED (short names: the CN of
# an HR object, an employeeId for the cloud and the metaverse).
want() {
  local space=$1 filter=$2 got exp; shift 2
  got=$(names "$space" "$filter" | sed -E 's/^CN=([^,]*),.*/\1/' | sort | tr '\n' '|')
  exp=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' '|')
  [ "$got" = "$exp" ] || bad "search $space '$filter': got [$got], want [$exp] $(head -c 300 "$work/err")"
}

ALL_HR=("Ada Lovelace" "Alan Turing" "Grace Hopper" "Edsger Dijkstra" "Svc Backup" "Staff"
        "Dup One" "Dup Two" "New Hire")
# ---- the object's own fields ----
want hr '' "${ALL_HR[@]}"
want hr "anchor EQUAL \"$(guid 2)\"" "Alan Turing"
want hr 'dn EQUAL "cn=ada lovelace,ou=staff,dc=example,dc=com"' "Ada Lovelace"
want hr 'dn STARTSWITH "CN=A"' "Ada Lovelace" "Alan Turing"
want hr 'dn ENDSWITH "OU=Staff,DC=example,DC=com"' "Ada Lovelace" "Alan Turing" "Edsger Dijkstra" "New Hire"
want hr 'dn CONTAINS "ou=temps"' "Dup One" "Dup Two"
want hr 'object-type EQUAL "group"' "Staff"
want hr 'object-type EQUAL "USER" and dn STARTSWITH "CN=D"' "Dup One" "Dup Two"
want hr 'dn ISIN ("CN=Staff,OU=Groups,DC=example,DC=com", "CN=Svc Backup,OU=Service,DC=example,DC=com")' "Staff" "Svc Backup"
# ---- attributes: a join key (employeeID, indexed) and others (department, the integer
# userAccountControl), each operator family ----
want hr 'employeeID EQUAL "e2"' "Alan Turing"
want hr 'employeeID STARTSWITH "E"' "Ada Lovelace" "Alan Turing" "Grace Hopper" "Edsger Dijkstra" "Dup One" "Dup Two" "New Hire"
want hr 'employeeID EQUAL "E6"' "New Hire"
want hr 'employeeID ISIN ("E1", "E4")' "Ada Lovelace" "Edsger Dijkstra"
want hr 'employeeID EQUAL "E5"' "Dup One" "Dup Two"
want hr 'department EQUAL "research"' "Alan Turing" "Edsger Dijkstra" "New Hire"
want hr 'department EQUAL "Operations"' "Grace Hopper"
want hr 'department NOTEQUAL "Engineering"' "Alan Turing" "Grace Hopper" "Edsger Dijkstra" "Svc Backup" "Staff" "Dup One" "Dup Two" "New Hire"
want hr 'department CONTAINS "EAR"' "Alan Turing" "Edsger Dijkstra" "New Hire"
want hr 'department ENDSWITH "ing"' "Ada Lovelace"
want hr 'department ISNULL' "Svc Backup" "Staff"
want hr 'department ISNOTNULL and department NOTSTARTSWITH "r"' "Ada Lovelace" "Grace Hopper" "Dup One" "Dup Two"
want hr 'department ISIN ("Sales", "Operations")' "Grace Hopper" "Dup One" "Dup Two"
want hr 'userAccountControl ISBITSET 2' "Alan Turing"
want hr 'userAccountControl ISNOTBITSET 2 and userAccountControl ISNOTNULL' "Ada Lovelace" "Grace Hopper" "Edsger Dijkstra" "Svc Backup"
want hr 'userAccountControl GREATERTHAN 600' "Edsger Dijkstra"
want hr 'userAccountControl LESSTHAN_OR_EQUAL 512' "Ada Lovelace" "Grace Hopper" "Svc Backup"
want hr 'member ISMEMBEROF "cn=staff,ou=groups,dc=example,dc=com"' "Ada Lovelace" "Alan Turing" "Edsger Dijkstra"
want hr 'member ISNOTMEMBEROF "CN=Staff,OU=Groups,DC=example,DC=com" and employeeID ISNOTNULL' "Grace Hopper" "Dup One" "Dup Two" "New Hire"
want hr 'dn EQUAL "CN=Ada Lovelace,OU=Staff,DC=example,DC=com" or employeeID EQUAL "E4" or department EQUAL "Engineering"' "Ada Lovelace" "Edsger Dijkstra"
# ---- states ----
want hr 'joined' "Ada Lovelace" "Alan Turing" "Grace Hopper" "Edsger Dijkstra" "Dup One"
want hr 'disconnector' "Svc Backup" "Staff" "Dup Two" "New Hire"
want hr 'pending-import' "Grace Hopper" "New Hire"
want hr 'error' "Dup Two"
want hr 'joined and department EQUAL "Engineering"' "Ada Lovelace"
want hr 'disconnector or pending-import' "Svc Backup" "Staff" "Dup Two" "New Hire" "Grace Hopper"
want hr 'pending-export' ""
want cloud 'pending-export' E1 E2 E3
want cloud 'joined' E1 E2 E3
want cloud 'disconnector' E9
want cloud 'employeeId EQUAL "E9"' E9
want cloud 'error' ""
# an attribute named like a state is an attribute when an operator follows it
want hr 'error ISNULL and joined' "Ada Lovelace" "Alan Turing" "Grace Hopper" "Edsger Dijkstra" "Dup One"
# ---- the metaverse ----
want mv '' E1 E2 E3 E4 E5
want mv 'employeeId EQUAL "E3"' E3
want mv 'employeeId STARTSWITH "e"' E1 E2 E3 E4 E5
want mv 'object-type EQUAL "person" and department EQUAL "Research"' E2 E4
want mv 'department ISNULL' ""

# ---- the JSON object, CSV, text, --limit ----
"$mvsync" search cs hr 'employeeID EQUAL "E1"' --json | python3 -c '
import json, sys
(r,) = json.load(sys.stdin)
assert r["space"] == "hr" and r["object_type"] == "user", r
assert r["dn"] == "CN=Ada Lovelace,OU=Staff,DC=example,DC=com", r
assert r["anchor"] == "00000001-0000-4000-8000-000000000000", r
a = r["attributes"]
assert a["department"] == "Engineering" and a["employeeID"] == "E1", a
assert a["userAccountControl"] == 512, a
' || bad "search --json: the object's fields"
"$mvsync" search cs hr 'object-type EQUAL "group"' --json | python3 -c '
import json, sys
(r,) = json.load(sys.stdin)
assert sorted(v["ref"] for v in r["attributes"]["member"]) == sorted([
    "CN=Ada Lovelace,OU=Staff,DC=example,DC=com", "CN=Alan Turing,OU=Staff,DC=example,DC=com",
    "CN=Edsger Dijkstra,OU=Staff,DC=example,DC=com"]), r
' || bad "search --json: reference values"
"$mvsync" search mv 'employeeId EQUAL "E2"' --json | python3 -c '
import json, sys
(r,) = json.load(sys.stdin)
assert r["space"] == "metaverse" and r["dn"] is None and r["anchor"] is None, r
assert r["attributes"] == {"employeeId": "E2", "department": "Research"}, r
' || bad "search mv --json"
[ "$("$mvsync" search mv 'employeeId EQUAL "nobody"' --json)" = "[]" ] || bad "an empty result is []"
"$mvsync" search cs hr 'dn STARTSWITH "CN=Alan"' --csv >"$work/out"
python3 - "$work/out" <<'P' || bad "search --csv"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0] == ["id", "space", "object_type", "dn", "anchor", "attributes"], rows
assert len(rows) == 2 and rows[1][1:5] == ["hr", "user", "CN=Alan Turing,OU=Staff,DC=example,DC=com",
                                           "00000002-0000-4000-8000-000000000000"], rows
assert json.loads(rows[1][5])["department"] == "Research", rows
P
"$mvsync" search cs hr 'dn STARTSWITH "CN=Alan"' >"$work/out" || bad "search text"
grep -q "^[0-9]*  user  CN=Alan Turing,OU=Staff,DC=example,DC=com  00000002-0000-4000-8000-000000000000$" "$work/out" ||
  bad "search text line: $(cat "$work/out")"
"$mvsync" search cs hr joined --limit 2 >"$work/out" 2>"$work/err" || bad "search --limit 2"
[ "$(wc -l <"$work/out")" = 2 ] || bad "--limit 2 printed $(wc -l <"$work/out") objects"
grep -q "more objects match than the 2 shown" "$work/err" || bad "--limit 2: no notice: $(cat "$work/err")"
# the filter may come as several arguments
[ "$(names hr object-type EQUAL '"group"')" = "CN=Staff,OU=Groups,DC=example,DC=com" ] || bad "filter in words"

# ---- errors: the column of a bad filter, exit codes ----
# expect WANT_RC WANT_STDERR ARGS...
expect() {
  local rc want_rc=$1 want_err=$2; shift 2
  "$mvsync" "$@" >"$work/out" 2>"$work/err"; rc=$?
  [ "$rc" = "$want_rc" ] && grep -qF -- "$want_err" "$work/err" ||
    bad "$*: rc=$rc (want $want_rc), stderr: $(cat "$work/err") (want *$want_err*)"
}
expect 1 "filter:1:29: error: unknown scope operator 'EQUALS'; did you mean 'EQUAL'?" \
  search cs hr 'department EQUAL "x" and dn EQUALS "y"'
expect 1 'filter:1:17: error: expected a value (a quoted string, a number, true or false), found end of the filter' \
  search cs hr 'department EQUAL'
expect 1 "filter:1:22: error: ISNOTNULL takes no value, found 'dn'" \
  search cs hr 'department ISNOTNULL dn EQUAL "x"'
expect 1 "filter:1:22: error: expected 'and', 'or' or the end of the filter, found 'dn'" \
  search cs hr 'department EQUAL "x" dn EQUAL "y"'
expect 1 "filter:1:22: error: ISBITSET takes an integer bit mask" search cs hr 'department ISNULL or uac ISBITSET "x"'
expect 1 "filter:1:22: error: expected a filter term after 'and' or 'or', found end of the filter" search cs hr 'department ISNULL and'
expect 1 "filter:1:27: error: 'joined' is a connector-space state" search mv 'employeeId EQUAL "E1" and joined'
expect 1 "filter:1:1: error: metaverse objects have no dn" search mv 'dn EQUAL "x"'
expect 1 'no connector "nope" in the store' search cs nope joined
expect 2 "needs cs CONNECTOR|mv" search
expect 2 "needs cs CONNECTOR or mv" search cs
expect 2 "--limit takes a number" search mv --limit x
expect 2 "takes no --full" search mv --full
expect 3 "no store here" search mv --store "$work/missing.db"
"$mvsync" search --help >"$work/out" 2>&1 && grep -q "^usage: mvsync search cs CONNECTOR" "$work/out" ||
  bad "search --help: $(cat "$work/out")"

# ---- the common filters are index searches: no SCAN of a table in their query plans ----
for f in "anchor EQUAL \"$(guid 2)\"" 'dn EQUAL "cn=ada lovelace,ou=staff,dc=example,dc=com"' \
         'dn STARTSWITH "CN=A"' 'object-type EQUAL "user"' 'employeeID EQUAL "E2"' \
         'employeeID STARTSWITH "E"' 'joined' 'disconnector' 'pending-import' 'error'; do
  "$mvsync" search cs hr "$f" --explain >/dev/null 2>"$work/err" || bad "--explain $f"
  grep -q '^probe: ' "$work/err" || bad "--explain '$f' printed no probe: $(cat "$work/err")"
  grep -q '^SEARCH ' "$work/err" || bad "'$f': no index search in its plan: $(cat "$work/err")"
  # SCAN without USING (an index) reads a whole table
  ! grep '^SCAN ' "$work/err" | grep -vq ' USING ' || bad "'$f' scans a table: $(cat "$work/err")"
done
for f in 'employeeId EQUAL "E2"' 'employeeId STARTSWITH "E"' 'object-type EQUAL "person"'; do
  "$mvsync" search mv "$f" --explain >/dev/null 2>"$work/err" || bad "--explain mv $f"
  grep -q '^SEARCH ' "$work/err" && ! grep -q '^SCAN' "$work/err" ||
    bad "mv '$f': not an index search: $(cat "$work/err")"
done
# a filter no index answers reads the connector's objects through its index (and says so)
"$mvsync" search cs hr 'department EQUAL "x"' --explain >/dev/null 2>"$work/err"
grep -q '^probe: every object of the connector' "$work/err" || bad "scan probe: $(cat "$work/err")"

# ---- show: by DN and by anchor, with lineage ----
"$mvsync" show cs hr "cn=alan turing,ou=staff,dc=example,dc=com" >"$work/out" || bad "show cs hr DN"
grep -q '^  joined: metaverse object [0-9]*, projection by "In from HR", since 20[0-9-]*T' "$work/out" ||
  bad "show cs by DN: lineage: $(cat "$work/out")"
grep -q '^    department: "Research"$' "$work/out" || bad "show cs: attributes: $(cat "$work/out")"
"$mvsync" show cs cloud c0000002-0000-4000-8000-000000000000 --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["link"] == "join" and r["link_rule"] == "In from Cloud" and r["linked_at"], r
' || bad "show cs by anchor --json"
mv=$("$mvsync" show cs cloud c0000002-0000-4000-8000-000000000000 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mv_id"])')
"$mvsync" show mv "$mv" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
got = sorted((l["connector"], l["rule"], l["link"]) for l in r["lineage"])
assert got == [("cloud", "In from Cloud", "join"), ("hr", "In from HR", "projection")], got
assert all(l["since"] for l in r["lineage"]), r
assert r["attrs"]["department"] == "Research" and r["contributors"]["department"] == "In from HR", r
' || bad "show mv --json: lineage"
"$mvsync" show mv "$mv" >"$work/out"
grep -q '^    hr CN=Alan Turing,OU=Staff,DC=example,DC=com (connector-space object [0-9]*): projection by "In from HR", since ' "$work/out" ||
  bad "show mv text: $(cat "$work/out")"
grep -q '^    department: "Research"  \[In from HR\]$' "$work/out" || bad "show mv attributes: $(cat "$work/out")"
"$mvsync" show cs hr "CN=Dup Two,OU=Temps,DC=example,DC=com" >"$work/out"
grep -q '^  joined: no' "$work/out" && grep -q '^  error: ambiguous join' "$work/out" || bad "show a disconnector in error: $(cat "$work/out")"
expect 1 'no object "CN=Nobody" in connector "hr"' show cs hr "CN=Nobody"

[ "$fails" = 0 ] && echo "search: all checks passed"
exit $((fails > 0))
