#!/usr/bin/env bash
# Scenario 4 (issue 6; seed 000): a narrow, owned writeback.  A collection of metaverse persons
# (department Finance, employee type Employee, both mastered in Entra) drives the membership of
# one existing AD group of a legacy application; nothing else about those users is written to
# AD.  rules/examples/finance-app-collection, pointed at a Samba AD DC and the Graph peer (only
# the connector settings and the domain's DNs changed).  Usage: 4-finance-app-collection.sh MVSYNC
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
. "$root/tests/scenarios/checks.sh"
scen_start "$1"
check_dry=$root/tests/scenarios/dry_run_check.py

users_ou="OU=Users,$SAMBA_OU" apps_ou="OU=Apps,$SAMBA_OU"
app_group="CN=Finance app users,$apps_ou"

# --- AD: the people, and the application's group as someone left it (Gus added by hand) ------
{
  printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$apps_ou"
  # cn:sAMAccountName:AD department (a stale value: Entra masters department now)
  for u in "Fiona Finch:fiona:Accounting" "Gus Grant:gus:Sales" "Hana Holm:hana:Finance" \
    "Ivan Ives:ivan:Finance" "Jo Jansen:jo:Finance"; do
    IFS=: read -r cn sam dep <<<"$u"
    printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\ndepartment: %s\ndisplayName: %s\n\n' \
      "$cn" "$users_ou" "$sam" "$dep" "$cn"
  done
  printf 'dn: %s\nobjectClass: group\nsAMAccountName: finance-app-users\nmember: CN=Gus Grant,%s\n\n' \
    "$app_group" "$users_ou"
} | samba_ldap ldapadd >/dev/null
declare -A guid
for sam in fiona gus hana ivan jo; do
  guid[$sam]=$(ad_guid "$(samba_ldap ldapsearch -LLL -b "$users_ou" "(sAMAccountName=$sam)" dn | sed -n 's/^dn: //p')")
done

# --- Entra: department and employee type; Cleo is cloud-only ----------------------------------
u() { # id sam displayName department employeeType
  local link=
  [ -z "$2" ] || link=", \"onPremisesObjectIdentifier\": \"${guid[$2]}\", \"onPremisesSyncEnabled\": true"
  printf '{"id": "%s", "displayName": "%s", "department": "%s", "employeeType": "%s"%s}' "$1" "$3" "$4" "$5" "$link"
}
U_FIONA=10000000-0000-4000-8000-000000000001 U_GUS=10000000-0000-4000-8000-000000000002
U_HANA=10000000-0000-4000-8000-000000000003 U_IVAN=10000000-0000-4000-8000-000000000004
U_JO=10000000-0000-4000-8000-000000000005 U_CLEO=10000000-0000-4000-8000-000000000006
peer_ctl POST /_fake/seed "{\"users\": [$(u $U_FIONA fiona "Fiona Finch" Finance Employee),
  $(u $U_GUS gus "Gus Grant" Sales Employee), $(u $U_HANA hana "Hana Holm" Finance Contractor),
  $(u $U_IVAN ivan "Ivan Ives" Finance Employee), $(u $U_JO jo "Jo Jansen" finance employee),
  $(u $U_CLEO "" "Cleo Cloud" Finance Employee)]}" >/dev/null

# --- the rule set: the example, pointed at these servers --------------------------------------
scen_rules rules/examples/finance-app-collection
scen_connect_ad contoso.com
scen_connect_entra contoso.onmicrosoft.com
dn_map=(-e "s/OU=Users,OU=Corp,DC=contoso,DC=com/$users_ou/g" -e "s/OU=Apps,DC=contoso,DC=com/$apps_ou/g"
  -e "s/DC=contoso,DC=com/$SAMBA_BASE/g")
sed -i "${dn_map[@]}" "$WORK"/rules/*.rules
for f in connectors.rules finance-app.rules; do
  rules_diff "$root/rules/examples/finance-app-collection/$f" "$WORK/rules/$f" "${dn_map[@]}" &&
    ok "$f: the example's rules (only the servers' settings and DNs changed)" || bad "$f differs from the example"
done

# --- owner, purpose, review-by: rules check warns once the date has passed ---------------------
mvs rules check "$MVSYNC_RULES" --today 2026-11-21 >"$WORK/check.out" 2>&1 && ! grep -q warning "$WORK/check.out" &&
  ok "rules check: clean before the review date" || { bad "rules check before the review date"; cat "$WORK/check.out"; }
mkdir "$WORK/overdue"
cp "$WORK"/rules/*.rules "$WORK/overdue/"
sed -i 's/review-by 2027-06-30/review-by 2026-01-31/' "$WORK/overdue/finance-app.rules"
if mvs rules check "$WORK/overdue" >"$WORK/overdue.out" 2>&1; then ok "rules check: a passed review-by is a warning (exit 0)"; else bad "rules check failed on a passed review-by"; fi
grep -q 'warning: collection "Finance app users" was due for review on 2026-01-31' "$WORK/overdue.out" &&
  grep -q 'warning: rule "Out to AD - Finance app group" was due for review on 2026-01-31' "$WORK/overdue.out" &&
  ok "rules check names the overdue collection and rule" || { bad "review-by warnings"; cat "$WORK/overdue.out"; }

# --- snapshots --------------------------------------------------------------------------------
user_attrs=(cn displayName department mail proxyAddresses userAccountControl uSNChanged whenChanged)
users_json() { ldap_json "$users_ou" '(objectClass=user)' "${user_attrs[@]}"; }
group_json() { ldap_json "$apps_ou" '(objectClass=group)' member; }
members() { # the sAMAccountNames of the app group's members, sorted, comma-separated
  samba_ldap ldapsearch -LLL -b "$users_ou" "(memberOf=$app_group)" sAMAccountName |
    sed -n 's/^sAMAccountName: //p' | sort | paste -sd, -
}
users_json >"$WORK/users0.json"

# only_group_member DRY: every export and send of the dry run is the app group's member.
only_group_member() {
  python3 - "$1" "$app_group" <<'PY'
import json, sys
changes, group = json.load(open(sys.argv[1]))["changes"], sys.argv[2].lower()
out = [c for c in changes if c["kind"] in ("export", "send")]
other = [(c["object"], ch["attr"]) for c in out for ch in c["changes"]
         if c["object"].lower() != group or ch["attr"] != "member"]
other += [(c["object"], c["op"]) for c in out if c["object"].lower() != group or c["op"] != "update"]
print("outbound changes outside the group's member: %s" % other if other else "%d outbound changes, all the group's member" % len(out))
sys.exit(1 if other or not out else 0)
PY
}

# --- initial cycle: dry run first, then live ---------------------------------------------------
mvs init >/dev/null
mvs cycle --initial --dry-run >"$WORK/dry1.txt"
sed -n '/^export /,$p' "$WORK/dry1.txt"
mvs cycle --initial --dry-run --json >"$WORK/dry1.json"
only_group_member "$WORK/dry1.json" && ok "initial dry run: only the group's member goes out" || bad "initial dry run writes more than member"
group_json >"$WORK/group0.json"
[ "$(members)" = gus ] && ok "before: the group holds only Gus (added by hand)" || bad "before: members $(members)"
mvs cycle --initial --json >"$WORK/run1.json"
jq -e '.status == "success" and .errors == 0' "$WORK/run1.json" >/dev/null && ok "initial cycle: success" || { bad "initial cycle"; cat "$WORK/run1.json"; }
group_json >"$WORK/group1.json"
python3 "$check_dry" "$WORK/dry1.json" contoso.com "$WORK/group0.json" "$WORK/group1.json" member &&
  ok "initial cycle wrote what its dry run showed" || bad "initial cycle differs from its dry run"
# Fiona, Ivan, Jo: Finance employees (Jo's values in another case); Hana is a contractor, Gus is
# in Sales (taken out), Cleo has no AD account.
[ "$(members)" = fiona,ivan,jo ] && ok "the group holds the collection: fiona,ivan,jo" || bad "members after the initial cycle: $(members)"

# --- steady state: the next delta imports confirm the export; nothing is synced or sent ----------
mvs cycle --delta --json >"$WORK/run2.json"
[ "$(run_synced "$WORK/run2.json")" = 0 ] && [ "$(run_exports "$WORK/run2.json")" = 0 ] &&
  ok "a delta cycle with no changes syncs and exports nothing" || { bad "idle delta cycle"; cat "$WORK/run2.json"; }

# --- Ivan moves to Treasury and Hana becomes an employee, in Entra ------------------------------
peer_ctl PATCH "/_fake/users/$U_IVAN" '{"department": "Treasury"}' >/dev/null
peer_ctl PATCH "/_fake/users/$U_HANA" '{"employeeType": "Employee"}' >/dev/null
mvs cycle --delta --dry-run --json >"$WORK/dry3.json"
only_group_member "$WORK/dry3.json" && ok "delta dry run: only the group's member goes out" || bad "delta dry run writes more than member"
jq -r '.changes[] | select(.kind == "send") | .changes[] | "\(.old.ref // "-") -> \(.new.ref // "-")"' "$WORK/dry3.json"
group_json >"$WORK/group2.json"
mvs cycle --delta --json >"$WORK/run3.json"
group_json >"$WORK/group3.json"
python3 "$check_dry" "$WORK/dry3.json" contoso.com "$WORK/group2.json" "$WORK/group3.json" member &&
  ok "delta cycle wrote what its dry run showed" || bad "delta cycle differs from its dry run"
[ "$(members)" = fiona,hana,jo ] && ok "Ivan left the group, Hana joined it, on the next delta cycle" ||
  bad "members after the delta cycle: $(members)"

# --- nothing else about the users was written ---------------------------------------------------
users_json >"$WORK/users1.json"
if diff "$WORK/users0.json" "$WORK/users1.json"; then
  ok "AD users untouched (department, displayName, uSNChanged, whenChanged as before)"
else bad "AD users changed"; fi

# Read back from both sides: the group's members are exactly the synced users Graph lists as
# Finance employees (compared ignoring case, as scoping does).
graph_get 'users?$top=999&$select=id,department,employeeType,onPremisesObjectIdentifier' >"$WORK/graph-users.json"
want=$(python3 - "$WORK/graph-users.json" "${guid[fiona]}=fiona" "${guid[gus]}=gus" "${guid[hana]}=hana" \
  "${guid[ivan]}=ivan" "${guid[jo]}=jo" <<'PY'
import json, sys
sam = dict(a.split("=") for a in sys.argv[2:])
users = json.load(open(sys.argv[1]))["value"]
print(",".join(sorted(sam[u["onPremisesObjectIdentifier"]] for u in users
                      if (u.get("department") or "").lower() == "finance" and (u.get("employeeType") or "").lower() == "employee"
                      and u.get("onPremisesObjectIdentifier") in sam)))
PY
)
[ "$want" = "$(members)" ] && ok "AD group (LDAP) = Graph's Finance employees with an AD account: $want" ||
  bad "AD group $(members), Graph says $want"

# Entra is read, never written: the peer saw no writes.
peer_ctl GET /_fake/log | jq -e '[.requests[] | select(.origin == "graph" and .method != "GET")] | length == 0' >/dev/null &&
  ok "no writes to Entra" || bad "mvsync wrote to Entra"
finish
