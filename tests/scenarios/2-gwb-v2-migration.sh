#!/usr/bin/env bash
# Scenario 2 (issue 6; seed 003): migrating Connect Sync group writeback v2.  AD starts with the
# groups written back the old way (CN=Group_<objectId>, adminDescription = Group_<objectId>, no
# msDS-ExternalDirectoryObjectId); the migration step copies adminDescription to
# msDS-ExternalDirectoryObjectId (with ldapmodify, as the seed's PowerShell does); mvsync
# (rules/examples/gwb-v2-migration) then joins the existing groups — no duplicates, same
# objectGUIDs — and manages them.  Run twice: with the default cn expression the groups are
# renamed to "<displayName>_<last 12 of objectId>", with the seed's alternative
# Append("Group_", [objectId]) they keep their names.  Beside it, Connect Sync's rule set with
# the seed's coexistence pair (gwb-v2-migration/connect-sync, its own store) stays joined and
# flows nothing to them: three rounds of delta cycles of both, no exports, no value flaps.
# Usage: 2-gwb-v2-migration.sh MVSYNC
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
. "$root/tests/scenarios/checks.sh"
scen_start "$1"
check_dry=$root/tests/scenarios/dry_run_check.py
example=rules/examples/gwb-v2-migration
users_ou="OU=Users,$SAMBA_OU" wb_ou="OU=Writeback,$SAMBA_OU"
# The example's DNs, as this domain spells them.
dn_map=(-e "s/OU=Users,OU=Corp,DC=contoso,DC=com/$users_ou/g" -e "s/OU=Groups,DC=contoso,DC=com/$wb_ou/g"
  -e "s/DC=contoso,DC=com/$SAMBA_BASE/g")
group_attrs=(cn description displayName adminDescription msDS-ExternalDirectoryObjectId groupType member)

# --- AD: synced users (once) ---------------------------------------------------------------------
for u in "Ann Archer:ann" "Ben Baker:ben" "Cid Cole:cid"; do
  printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\n\n' "${u%%:*}" "$users_ou" "${u##*:}"
done | samba_ldap ldapadd >/dev/null
declare -A guid
for sam in ann ben cid; do
  guid[$sam]=$(ad_guid "$(samba_ldap ldapsearch -LLL -b "$users_ou" "(sAMAccountName=$sam)" dn | sed -n 's/^dn: //p')")
done
G_SALES=3a5c3221-c465-48c0-95b8-e9305786a271 G_FIN=5d7f1a2b-0000-4c4e-9000-5d7f1a2b3c4e
G_M365=4d5e6f70-5555-4182-9394-a5b6c7d8e9f0
# Longer than Cloud Sync's 448: Connect wrote it whole, Cloud Sync's mapping cuts it.
sales_desc="Sales and account managers.$(printf ' Pipeline reviews every Monday.%.0s' $(seq 1 16))"
U_ANN=30000000-0000-4000-8000-000000000001 U_BEN=30000000-0000-4000-8000-000000000002
U_CID=30000000-0000-4000-8000-000000000003 U_KIM=30000000-0000-4000-8000-000000000004

groups_json() { ldap_json "$wb_ou" '(objectClass=group)' "$@"; }
# guids_by_anchor: "Group_<id> <objectGUID> <DN>" per group of the writeback OU, sorted.
guids_by_anchor() {
  local dn
  samba_ldap ldapsearch -LLL -b "$wb_ou" '(objectClass=group)' dn | sed -n 's/^dn: //p' | while read -r dn; do
    printf '%s %s %s\n' "$(samba_ldap ldapsearch -LLL -b "$dn" -s base adminDescription |
      sed -n 's/^adminDescription: //p')" "$(ad_guid "$dn")" "$dn"
  done | sort
}

# seed_old_state: the writeback OU as Connect Sync's group writeback v2 left it, and Entra.
seed_old_state() {
  samba_ldap ldapdelete -r "$wb_ou" 2>/dev/null || true
  samba_ldap ldapadd >/dev/null <<LDIF
dn: $wb_ou
objectClass: organizationalUnit

dn: CN=Group_$G_SALES,$wb_ou
objectClass: group
sAMAccountName: Group_$G_SALES
groupType: -2147483640
adminDescription: Group_$G_SALES
displayName: Sales
description: $sales_desc
member: CN=Ann Archer,$users_ou
member: CN=Ben Baker,$users_ou

dn: CN=Group_$G_FIN,$wb_ou
objectClass: group
sAMAccountName: Group_$G_FIN
groupType: -2147483640
adminDescription: Group_$G_FIN
displayName: Finance
description: Finance team
member: CN=Cid Cole,$users_ou

dn: CN=Group_$G_M365,$wb_ou
objectClass: group
sAMAccountName: Group_$G_M365
groupType: 8
adminDescription: Group_$G_M365
displayName: Contoso Everyone
description: stale description
mail: everyone@contoso-test.onmicrosoft.com
member: CN=Ann Archer,$users_ou
LDIF
  peer_ctl POST /_fake/reset >/dev/null
  peer_ctl POST /_fake/seed "$(python3 - "$G_SALES" "$G_FIN" "$G_M365" "$sales_desc" "${guid[ann]}" "${guid[ben]}" "${guid[cid]}" \
    "$U_ANN" "$U_BEN" "$U_CID" "$U_KIM" <<'PY'
import json, sys
sales, fin, m365, sales_desc, g_ann, g_ben, g_cid, u_ann, u_ben, u_cid, u_kim = sys.argv[1:12]
synced = lambda i, name, g: {"id": i, "displayName": name, "onPremisesSyncEnabled": True, "onPremisesObjectIdentifier": g}
users = [synced(u_ann, "Ann Archer", g_ann), synced(u_ben, "Ben Baker", g_ben), synced(u_cid, "Cid Cole", g_cid),
         {"id": u_kim, "displayName": "Kim Cloud"}]
# cloudMastered: what Connect's Entra connector says of cloud-created groups (its coexistence
# rule scopes on it); Graph has no such property, the peer keeps what it is given.
sec = lambda i, name, desc, members: {"id": i, "displayName": name, "description": desc, "mailNickname": name.lower(),
                                      "securityEnabled": True, "mailEnabled": False, "cloudMastered": True,
                                      "members": members}
groups = [sec(sales, "Sales", sales_desc, [u_ann, u_ben, u_kim]), sec(fin, "Finance", "Finance team", [u_cid]),
          {"id": m365, "displayName": "Contoso Everyone", "description": "Everyone at Contoso", "groupTypes": ["Unified"],
           "mailNickname": "everyone", "mail": "everyone@contoso-test.onmicrosoft.com", "securityEnabled": False,
           "mailEnabled": True, "cloudMastered": True, "members": [u_ann]}]
print(json.dumps({"users": users, "groups": groups}))
PY
)" >/dev/null
}

# migrate: the seed's step 1 — copy adminDescription to msDS-ExternalDirectoryObjectId for every
# group of the writeback OU that has one — then its check script: the two are equal.
migrate() {
  samba_ldap ldapsearch -LLL -b "$wb_ou" '(&(objectClass=group)(adminDescription=*))' adminDescription |
    awk '/^dn: /{dn=$0} /^adminDescription: /{v=substr($0, 19); print dn; print "changetype: modify";
         print "add: msDS-ExternalDirectoryObjectId"; print "msDS-ExternalDirectoryObjectId: " v; print "-"; print ""}' |
    samba_ldap ldapmodify >/dev/null
  samba_ldap ldapsearch -LLL -b "$wb_ou" '(&(objectClass=group)(adminDescription=*))' adminDescription msDS-ExternalDirectoryObjectId |
    awk '/^dn: /{n++} /^adminDescription: /{a[n]=substr($0,19)} /^msDS-ExternalDirectoryObjectId: /{m[n]=substr($0,33)}
         END {for (i = 1; i <= n; i++) if (a[i] != m[i]) bad++; print n, bad + 0}'
}

# variant NAME CN_EXPRESSION: one migration from the old state, with mvsync's rule set using
# CN_EXPRESSION (empty: the example's own, Cloud Sync's default).
variant() {
  local name=$1 cn_expr=$2 dir=$WORK/$1 sales_dn fin_dn m365_dn
  mkdir -p "$dir"
  echo "=== variant $name"
  seed_old_state
  guids_by_anchor >"$dir/guids0"
  [ "$(migrate)" = "3 0" ] && ok "$name: migration step: msDS-ExternalDirectoryObjectId = adminDescription on all 3 groups" ||
    bad "$name: migration step"

  # mvsync's rule set: the example pointed at these servers.
  rm -rf "$WORK/rules"
  scen_rules "$example"
  scen_connect_ad contoso.com
  scen_connect_entra contoso.onmicrosoft.com
  sed -i "${dn_map[@]}" "$WORK"/rules/*.rules
  if [ -n "$cn_expr" ]; then
    sed -i "s/^  flow Append(Append(Left(Trim(\[displayName\]), 51), \"_\"), Mid(\[objectId\], 25, 12)) -> cn$/  flow $cn_expr -> cn/" \
      "$WORK/rules/groups.rules"
  fi
  rules_diff "$root/$example/groups.rules" "$WORK/rules/groups.rules" "${dn_map[@]}" >"$dir/rules.diff" || true
  [ "$(grep -c '^[<>]' "$dir/rules.diff")" = "$([ -n "$cn_expr" ] && echo 2 || echo 0)" ] &&
    ok "$name: the example's rules$([ -n "$cn_expr" ] && echo ", cn flow replaced")" || { bad "$name: rules differ"; cat "$dir/rules.diff"; }
  export MVSYNC_STORE=$dir/mvsync.db
  mvs init >/dev/null

  # Dry run first, then the live cycle.
  mvs cycle --initial --dry-run >"$dir/dry1.txt"
  sed -n '/^send /,$p' "$dir/dry1.txt" | cut -c1-160
  mvs cycle --initial --dry-run --json >"$dir/dry1.json"
  jq -e '[.changes[] | select(.kind == "send" and .op == "add")] | length == 0' "$dir/dry1.json" >/dev/null &&
    ok "$name: dry run: no group would be created" || bad "$name: dry run would create groups"
  groups_json "${group_attrs[@]}" >"$dir/groups0.json"
  mvs cycle --initial --json >"$dir/run1.json"
  jq -e '.status == "success" and .errors == 0' "$dir/run1.json" >/dev/null && ok "$name: initial cycle: success" ||
    { bad "$name: initial cycle"; cat "$dir/run1.json"; }
  groups_json "${group_attrs[@]}" >"$dir/groups1.json"
  python3 "$check_dry" "$dir/dry1.json" contoso.com "$dir/groups0.json" "$dir/groups1.json" "${group_attrs[@]}" &&
    ok "$name: the initial cycle wrote what its dry run showed" || bad "$name: initial cycle differs from its dry run"

  # No duplicates: the same three objects (objectGUIDs), by anchor.
  guids_by_anchor >"$dir/guids1"
  diff <(cut -d' ' -f1,2 "$dir/guids0") <(cut -d' ' -f1,2 "$dir/guids1") >/dev/null &&
    ok "$name: no duplicates: the same 3 groups, same objectGUIDs" || { bad "$name: groups changed"; cat "$dir/guids0" "$dir/guids1"; }
  sales_dn=$(grep "^Group_$G_SALES " "$dir/guids1" | cut -d' ' -f3-)
  fin_dn=$(grep "^Group_$G_FIN " "$dir/guids1" | cut -d' ' -f3-)
  m365_dn=$(grep "^Group_$G_M365 " "$dir/guids1" | cut -d' ' -f3-)
  if [ -n "$cn_expr" ]; then
    [ "$sales_dn" = "CN=Group_$G_SALES,$wb_ou" ] && [ "$fin_dn" = "CN=Group_$G_FIN,$wb_ou" ] &&
      ok "$name: names kept (CN=Group_<objectId>)" || bad "$name: renamed: $sales_dn / $fin_dn"
  else
    [ "$sales_dn" = "CN=Sales_${G_SALES: -12},$wb_ou" ] && [ "$fin_dn" = "CN=Finance_${G_FIN: -12},$wb_ou" ] &&
      ok "$name: renamed to the new format (CN=Sales_${G_SALES: -12})" || bad "$name: not renamed: $sales_dn / $fin_dn"
  fi
  [ "$m365_dn" = "CN=Group_$G_M365,$wb_ou" ] && ok "$name: the Microsoft 365 group is not mvsync's (not renamed)" || bad "$name: M365 group $m365_dn"
  # Managed: the description is Cloud Sync's (448 characters), the members are the synced users
  # (Kim is cloud-only: skipped and counted).
  jq -e --arg dn "$sales_dn" --arg ann "CN=Ann Archer,$users_ou" --arg ben "CN=Ben Baker,$users_ou" \
    '(.[$dn].description[0] | length) == 448 and (.[$dn].member | sort) == ([$ann, $ben] | sort)
     and .[$dn]["msds-externaldirectoryobjectid"] == ["Group_'"$G_SALES"'"]' "$dir/groups1.json" >/dev/null &&
    ok "$name: Sales managed: description cut to 448, members Ann and Ben, anchor kept" || { bad "$name: Sales values"; jq --arg dn "$sales_dn" '.[$dn]' "$dir/groups1.json"; }
  jq -e '.skipped_refs >= 1' "$dir/run1.json" >/dev/null && ok "$name: the cloud-only member is skipped and counted" || bad "$name: skipped_refs"

  # Connect Sync beside it: its rule set with the coexistence pair, in its own store.
  mkdir -p "$dir/connect"
  cp "$root/$example/connect-sync/"*.rules "$dir/connect/"
  (
    WORK=$dir/connect-work
    mkdir -p "$WORK/rules"
    cp "$dir/connect/"*.rules "$WORK/rules/"
    scen_connect_ad contoso.com
    scen_connect_entra contoso.onmicrosoft.com
    sed -i "${dn_map[@]}" "$WORK"/rules/*.rules
    cp "$WORK"/rules/*.rules "$dir/connect/"
  )
  rules_diff "$root/$example/connect-sync/connect-sync.rules" "$dir/connect/connect-sync.rules" "${dn_map[@]}" >/dev/null &&
    ok "$name: Connect Sync's rules: the example's" || bad "$name: Connect Sync's rules differ from the example"
  connect() { MVSYNC_STORE=$dir/connect.db MVSYNC_RULES=$dir/connect mvs "$@"; }
  connect init >/dev/null
  groups_json "${group_attrs[@]}" >"$dir/groups1b.json"
  connect cycle --initial --dry-run --json >"$dir/connect-dry1.json"
  connect cycle --initial --json >"$dir/connect1.json"
  groups_json "${group_attrs[@]}" >"$dir/groups2.json"
  python3 "$check_dry" "$dir/connect-dry1.json" contoso.com "$dir/groups1b.json" "$dir/groups2.json" "${group_attrs[@]}" &&
    ok "$name: Connect Sync's initial cycle wrote what its dry run showed" || bad "$name: Connect Sync's cycle differs from its dry run"
  jq -e --arg s "$sales_dn" --arg f "$fin_dn" \
    '[.changes[] | select(.kind == "send" and (.object == $s or .object == $f))] | length == 0' "$dir/connect-dry1.json" >/dev/null &&
    ok "$name: Connect Sync flows nothing to the migrated groups (JoinNoFlow)" || bad "$name: Connect Sync writes the migrated groups"
  connect dump --json | jq -e --arg s "$sales_dn" --arg f "$fin_dn" \
    '[.connectors["contoso.com"][] | select((.dn == $s or .dn == $f) and .joined)] | length == 2' >/dev/null &&
    ok "$name: ... while it stays joined to them" || bad "$name: Connect Sync is not joined to the migrated groups"
  jq -e --arg m "$m365_dn" '.[$m].description == ["Everyone at Contoso"]' "$dir/groups2.json" >/dev/null &&
    ok "$name: Connect Sync still writes the Microsoft 365 group (writeback v1)" || bad "$name: M365 group description"

  # Three rounds of delta cycles of both engines: nothing synced, nothing exported, nothing
  # changed in AD (uSNChanged included).
  local round flaps=0
  ldap_json "$wb_ou" '(objectClass=group)' uSNChanged "${group_attrs[@]}" >"$dir/usn0.json"
  for round in 1 2 3; do
    mvs cycle --delta --json >"$dir/mvs-d$round.json"
    connect cycle --delta --json >"$dir/connect-d$round.json"
    flaps=$((flaps + $(run_exports "$dir/mvs-d$round.json") + $(run_exports "$dir/connect-d$round.json")))
    [ "$round" = 1 ] || flaps=$((flaps + $(run_synced "$dir/mvs-d$round.json") + $(run_synced "$dir/connect-d$round.json")))
  done
  ldap_json "$wb_ou" '(objectClass=group)' uSNChanged "${group_attrs[@]}" >"$dir/usn3.json"
  [ "$flaps" = 0 ] && ok "$name: three delta rounds of both engines: zero exports" || bad "$name: $flaps changes in the delta rounds"
  diff "$dir/usn0.json" "$dir/usn3.json" >/dev/null && ok "$name: no value flapped: AD's groups unchanged (uSNChanged included)" ||
    { bad "$name: AD changed across the delta rounds"; diff "$dir/usn0.json" "$dir/usn3.json" | head -20; }

  # Read back from both sides: each cloud security group in Graph is one AD group, anchored by
  # its id, named and described by Cloud Sync's mappings; nothing was written to Entra.
  graph_get 'groups?$top=999&$select=id,displayName,description,securityEnabled,mailEnabled' >"$dir/graph-groups.json"
  ldap_json "$wb_ou" '(objectClass=group)' cn description msDS-ExternalDirectoryObjectId >"$dir/final.json"
  tally < <(python3 - "$dir/graph-groups.json" "$dir/final.json" "$name" <<'PY'
import json, sys
groups, ad, name = json.load(open(sys.argv[1]))["value"], json.load(open(sys.argv[2])), sys.argv[3]
by_anchor = {o["msds-externaldirectoryobjectid"][0]: o for o in ad.values() if "msds-externaldirectoryobjectid" in o}
fails, seen = [], 0
for g in groups:
    if not g.get("securityEnabled") or g.get("mailEnabled"):
        continue
    seen += 1
    o = by_anchor.get("Group_" + g["id"])
    want_cn = "Group_" + g["id"] if name == "keep-names" else g["displayName"].strip()[:51] + "_" + g["id"][24:36]
    if not o:
        fails.append("no AD group for " + g["id"])
    elif o["cn"] != [want_cn] or o["description"] != [g["description"].strip()[:448]]:
        fails.append("%s: cn %s description %r..." % (g["id"], o["cn"], o["description"][0][:20]))
if seen != 2:
    fails.append("Graph lists %d security groups, not 2" % seen)
print("FAIL: %s: %s" % (name, fails) if fails else "PASS: %s: AD (LDAP) matches Graph's security groups: anchor, cn, description" % name)
PY
)
  peer_ctl GET /_fake/log | jq -e '[.requests[] | select(.origin == "graph" and .method != "GET")] | length == 0' >/dev/null &&
    ok "$name: nothing written to Entra" || bad "$name: something wrote to Entra"

  # The control: the same Connect Sync rule set without the coexistence pair would write the
  # migrated groups back its way (dry run on a copy of its store: nothing is sent).
  mkdir -p "$dir/nopair"
  python3 - "$dir/connect/connect-sync.rules" >"$dir/nopair/connect-sync.rules" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
print(re.sub(r'\n# Step [34]:[^\n]*\nrule "[^"]*coexistence with Cloud Sync" \{.*?\n\}\n', "\n", text, flags=re.S))
PY
  cp "$dir/connect.db" "$dir/nopair.db"
  MVSYNC_STORE=$dir/nopair.db MVSYNC_RULES=$dir/nopair mvs cycle --delta --dry-run --json >"$dir/nopair.json" 2>/dev/null
  jq -e --arg s "$sales_dn" '[.changes[] | select(.kind == "send" and .object == $s)] | length == 1' "$dir/nopair.json" >/dev/null &&
    ok "$name: control: without the pair, Connect Sync would write Sales back its way ($(jq -r --arg s "$sales_dn" \
      '[.changes[] | select(.kind == "send" and .object == $s) | (.op + " " + ([.changes[].attr] | join(",")))] | join("")' "$dir/nopair.json"))" ||
    { bad "$name: control: Connect Sync without the pair would not touch Sales"; jq -c '.changes[] | select(.kind == "send")' "$dir/nopair.json"; }
}

variant default ""
variant keep-names 'Append("Group_", [objectId])'
finish
