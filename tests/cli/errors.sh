#!/usr/bin/env bash
# `mvsync errors` and `mvsync pending --discard` against the file connector (docs/cli.md,
# docs/safety.md "Discarding pending exports"; issue 15 item 2).  Entra users provisioned to
# AD by display name: User 2's name starts with a comma (its DN is no DN: the directory refuses
# the add, an export error), User 3's mailNickname has a '*' (sAMAccountName may not hold it: a
# sync error of rule "Out to AD", attribute sAMAccountName), and two inbound rules with join
# conditions take AD's contact (a join conflict, a sync error), and User 1's badge is no number
# (CNum fails: a sync error of rule "In from Entra", attribute badge, on the Entra object).
# Checks:
#  - errors --json lists exactly those four, with phase, object, DN, attribute, rule;
#    first_seen = last_seen at first; a later sync moves last_seen and keeps first_seen;
#    a fixed source clears the sync error; errors CONNECTOR filters; usage and bad input;
#  - pending --discard: --dry-run changes nothing; --object discards one add (the object no
#    longer stands in the connector space, the run history records it); a full sync provisions
#    it again while the rule still wants it (its cause holds); --deletes drops the delete of a
#    deprovisioned user, whose AD object stays (unjoined) and is not deleted by later syncs;
#  - a store of schema version 3 (before first/last seen) opens, migrates and lists its errors.
# Usage: errors.sh PATH/TO/mvsync
set -u
mvsync=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MVSYNC_RULES=rules.rules MVSYNC_STORE=s.db
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
m() { (cd "$work" && "$mvsync" "$@"); }
# expect NAME WANT_RC ARGS...: run mvsync; output in $work/out, $work/err.
expect() {
  local name=$1 want=$2 rc
  shift 2
  m "$@" >"$work/out" 2>"$work/err"; rc=$?
  [ "$rc" = "$want" ] || bad "$name: mvsync $* exited $rc, want $want: $(head -c 400 "$work/err")"
}
# q PYTHON: evaluate an expression over the last output as JSON (j); print it.
q() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$work/out"; }

cat >"$work/rules.rules" <<'R'
connector "ad" type file {
  shape "ad"
  path "ad.ldif"
  changes "ad.ldif.changes"
  attribute dn string
  attribute displayName string
  attribute employeeID string
  attribute sAMAccountName string
  attribute mail string
}
connector "entra" type file {
  shape "entra"
  path "entra.json"
  changes "entra.json.changes"
  attribute displayName string
  attribute employeeId string
  attribute mailNickname string
  attribute department string
  attribute badge string
}
metaverse {
  object person {
    attribute displayName string
    attribute employeeId string
    attribute accountName string
    attribute mail string
    attribute badge integer
  }
}
rule "In from Entra" {
  direction inbound
  connector "entra"
  source user -> person
  link provision
  precedence 50
  scope {
    department NOTEQUAL "Gone"
  }
  flow [employeeId] -> employeeId
  flow [displayName] -> displayName
  flow [mailNickname] -> accountName
  flow CNum([badge]) -> badge
}
rule "In from AD - Contact by mail" {
  direction inbound
  connector "ad"
  source contact -> person
  link join
  precedence 60
  join {
    mail = mail
  }
}
rule "In from AD - Contact by name" {
  direction inbound
  connector "ad"
  source contact -> person
  link join
  precedence 61
  join {
    displayName = displayName
  }
}
rule "Out to AD" {
  direction outbound
  connector "ad"
  source person -> user
  link provision
  precedence 100
  flow "CN=" & [displayName] & ",OU=Cloud,DC=contoso,DC=com" -> dn
  flow [displayName] -> displayName
  flow [employeeId] -> employeeID
  flow [accountName] -> sAMAccountName
}
R
cat >"$work/entra.json" <<'J'
{"users": [
 {"id": "10000000-0000-0000-0000-000000001001", "displayName": "User 1", "employeeId": "E1", "mailNickname": "user1", "badge": "x17"},
 {"id": "10000000-0000-0000-0000-000000001002", "displayName": ",User 2", "employeeId": "E2", "mailNickname": "user2"},
 {"id": "10000000-0000-0000-0000-000000001003", "displayName": "User 3", "employeeId": "E3", "mailNickname": "user*3"},
 {"id": "10000000-0000-0000-0000-000000001004", "displayName": "User 4", "employeeId": "E4", "mailNickname": "user4"}
]}
J
cat >"$work/ad.ldif" <<'L'
dn: CN=Vendor Contact,OU=Contacts,DC=contoso,DC=com
objectClass: contact
objectGUID: 00000000-0000-0000-0000-000000000301
displayName: Vendor Contact
mail: vendor@example.com
L
: >"$work/entra.json.changes"; : >"$work/ad.ldif.changes"
m init >/dev/null || bad "init"

# ---- errors ---------------------------------------------------------------------------------
expect cycle 7 cycle --initial
expect errors-json 0 errors --json
[ "$(q 'len(j)')" = 4 ] || bad "errors: $(q 'len(j)') errors, want 4: $(cat "$work/out")"
[ "$(q '[(e["connector"], e["attribute"], e["rule"], "CNum" in e["message"]) for e in j if e["connector"] == "entra"]')" = \
  "[('entra', 'badge', 'In from Entra', True)]" ] || bad "errors: User 1's flow error: $(cat "$work/out")"
[ "$(q '[(e["phase"], e["dn"], e["attribute"], e["rule"]) for e in j if e["connector"] == "ad" and e["attribute"]]')" = \
  "[('sync', 'CN=User 3,OU=Cloud,DC=contoso,DC=com', 'sAMAccountName', 'Out to AD')]" ] ||
  bad "errors: User 3's sync error: $(cat "$work/out")"
[ "$(q '[(e["dn"], e["rule"], "join conflict" in e["message"]) for e in j if e["phase"] == "sync" and not e["attribute"]]')" = \
  "[('CN=Vendor Contact,OU=Contacts,DC=contoso,DC=com', 'In from AD - Contact by mail', True)]" ] ||
  bad "errors: the contact's join conflict: $(cat "$work/out")"
[ "$(q '[(e["dn"], e["op"], e["rule"]) for e in j if e["phase"] == "export"]')" = \
  "[('CN=,User 2,OU=Cloud,DC=contoso,DC=com', 'add', 'Out to AD')]" ] || bad "errors: User 2's export error: $(cat "$work/out")"
[ "$(q 'all(e["first_seen"] == e["last_seen"] and e["first_seen"].endswith("Z") for e in j)')" = True ] ||
  bad "errors: first_seen and last_seen at first: $(cat "$work/out")"
[ "$(q 'sorted(set(k for e in j for k in e)) == sorted(["phase","connector","object","dn","attribute","rule","message","first_seen","last_seen","op","code"])')" = True ] ||
  bad "errors: the keys of the JSON: $(cat "$work/out")"
cp "$work/out" "$work/errors-1.json"
user2=$(q '[e["object"] for e in j if e["phase"] == "export"][0]')
sleep 1.1
expect cycle-again 8 cycle --initial   # only User 2's add is exported, and refused
expect errors-again 0 errors --json
python3 - "$work/errors-1.json" "$work/out" <<'PY' || bad "errors: a later sync must keep first_seen and move last_seen"
import json, sys
a = {(e["phase"], e["dn"]): e for e in json.load(open(sys.argv[1]))}
b = {(e["phase"], e["dn"]): e for e in json.load(open(sys.argv[2]))}
assert a.keys() == b.keys(), (a.keys(), b.keys())
for k in a:
    assert b[k]["first_seen"] == a[k]["first_seen"], k
    assert b[k]["last_seen"] > a[k]["last_seen"], k
PY
expect errors-text 0 errors ad
grep -q '^3 errors (2 sync, 1 export)$' "$work/out" || bad "errors text: $(head -3 "$work/out")"
grep -q 'attribute sAMAccountName' "$work/out" || bad "errors text names no attribute"
expect errors-entra 0 errors entra
grep -q '^1 error (1 sync, 0 export)$' "$work/out" || bad "errors entra: $(cat "$work/out")"
expect errors-unknown 1 errors nosuch
grep -q 'no connector "nosuch"' "$work/err" || bad "errors nosuch: $(cat "$work/err")"
expect errors-bad-option 2 errors --csv
expect errors-help 0 errors --help
grep -q '^usage: mvsync errors' "$work/out" || bad "errors --help prints no usage on stdout"
# The source fixed: User 3's sync error goes.
sed -i 's/user\*3/user3/' "$work/entra.json"
expect cycle-fixed 7 cycle --initial
expect errors-fixed 0 errors --json
[ "$(q '[e["dn"] for e in j if e["attribute"] == "sAMAccountName"]')" = "[]" ] || bad "errors: User 3's error stayed after the fix"

# ---- pending --discard ----------------------------------------------------------------------
expect discard-usage 2 pending --deletes
expect discard-usage2 2 pending --discard --deletes --object 1
expect discard-usage3 2 pending --discard --csv
expect discard-help 0 pending --help
grep -q -- '--discard' "$work/out" || bad "pending --help does not show --discard"
m dump --json >"$work/before.json"
expect discard-dry 0 pending ad --discard --object "$user2" --dry-run
grep -q "would discard 1 pending export of ad (0 deletes, 1 adds" "$work/out" || bad "discard --dry-run: $(cat "$work/out")"
m dump --json >"$work/after.json"
cmp -s "$work/before.json" "$work/after.json" || bad "discard --dry-run changed the store"
expect discard-one 0 pending ad --discard --object "$user2" --json
[ "$(q '(j["dry_run"], j["discarded"]["add"], [e["dn"] for e in j["exports"]], j["run"] is not None)')" = \
  "(False, 1, ['CN=,User 2,OU=Cloud,DC=contoso,DC=com'], True)" ] || bad "discard --object: $(cat "$work/out")"
expect pending-after 0 pending ad --json
[ "$(q '[p["dn"] for p in j if p["dn"].startswith("CN=,User 2")]')" = "[]" ] || bad "discard --object: the add is still pending"
expect discard-none 1 pending ad --discard --object "$user2"
grep -q "no connector-space object $user2" "$work/err" || bad "discard of a removed object: $(cat "$work/err")"
expect runs 0 runs --json
[ "$(q '[(r["adds"], r["connector"], r["status"]) for r in j if r["profile"] == "discard-pending"]')" = "[(1, 'ad', 'success')]" ] ||
  bad "runs: the discard is not recorded: $(cat "$work/out")"
grep -q 'discarded pending add CN=,User 2' "$work/out" || bad "runs: the discard's log does not name the export"
# Its cause holds (the rule still provisions User 2): a full sync stages the add again.
expect resync 7 sync --full   # the contact's join conflict
expect pending-resync 0 pending ad --json
[ "$(q '[(p["op"], p["status"]) for p in j if p["dn"].startswith("CN=,User 2")]')" = "[('add', 'pending')]" ] ||
  bad "a full sync did not provision User 2 again: $(cat "$work/out")"

# A delete: User 4 leaves the inbound scope; its AD user (exported, confirmed) is deprovisioned.
# Imported and synced, not exported: the delete waits in pending, as after a threshold stop.
grep -q 'dn: CN=User 4,OU=Cloud' "$work/ad.ldif.changes" || bad "User 4 was never written to AD"
sed -i 's/"mailNickname": "user4"}/"mailNickname": "user4", "department": "Gone"}/' "$work/entra.json"
expect import-gone 0 import entra --full
expect sync-gone 7 sync --full
expect pending-gone 0 pending ad --json
[ "$(q '[p["dn"] for p in j if p["op"] == "delete"]')" = "['CN=User 4,OU=Cloud,DC=contoso,DC=com']" ] ||
  bad "User 4's delete is not pending: $(cat "$work/out")"
expect discard-deletes 0 pending --discard --deletes
grep -q "^discarded 1 pending export (1 deletes, 0 adds, 0 updates, 0 renames)" "$work/out" ||
  bad "discard --deletes: $(cat "$work/out")"
expect pending-left 0 pending ad --json
[ "$(q '[p["op"] for p in j if p["status"] == "pending"]')" = "['add']" ] || bad "discard --deletes touched more than the delete: $(cat "$work/out")"
expect cycle-after 8 cycle --initial
expect cycle-after2 8 cycle --initial
grep -q 'changetype: delete' "$work/ad.ldif.changes" && bad "User 4 was deleted in AD after its delete was discarded"
m dump --json >"$work/dump.json"
python3 - "$work/dump.json" <<'PY' || bad "User 4 is not an unjoined object of the AD connector space"
import json, sys
d = json.load(open(sys.argv[1]))
u4 = [o for o in d["connectors"]["ad"] if o["dn"] == "CN=User 4,OU=Cloud,DC=contoso,DC=com"]
assert len(u4) == 1 and not u4[0]["joined"] and u4[0]["import"] == "none", u4
assert not [p for p in d["pending"] if p["op"] == "delete"], d["pending"]
PY

# ---- a store of schema version 3 keeps working ----------------------------------------------
python3 - "$root/schema/store.sql" >"$work/v3.sql" <<'PY'
import sys
text = open(sys.argv[1]).read()
print(text[:text.index("\n-- migration 4")])
PY
cat >>"$work/v3.sql" <<'SQL'
INSERT INTO connector(id, name, type) VALUES (1, 'ad', 'file');
INSERT INTO cs_object(id, connector, anchor, dn, dn_key, object_type, error, attrs, import_state, present)
  VALUES (7, 1, 'a7', 'CN=Old,DC=contoso,DC=com', 'cn=old,dc=contoso,dc=com', 'user', 'join conflict: old', x'', 0, 1);
INSERT INTO pending_export(cs_id, op, status, error_code, error, attempts) VALUES (7, 1, 0, 50, 'insufficient access', 2);
PRAGMA user_version = 3;
SQL
sqlite3 "$work/v3.db" <"$work/v3.sql" || bad "cannot build a version 3 store"
expect v3-errors 0 errors --json --store v3.db
[ "$(q '[(e["phase"], e["object"], e["message"], e["first_seen"], e["code"] if e["phase"] == "export" else None) for e in j]')" = \
  "[('sync', 7, 'join conflict: old', None, None), ('export', 7, 'insufficient access', None, 50)]" ] ||
  bad "a version 3 store's errors: $(cat "$work/out") $(cat "$work/err")"
[ "$(sqlite3 "$work/v3.db" 'PRAGMA user_version')" -ge 4 ] || bad "the version 3 store was not migrated"

[ "$fails" = 0 ] && echo "errors: ok" || { echo "errors: $fails failures"; exit 1; }
