# Scenario 1's directories (sourced after lib.sh and scen_start; used by the scenario_1 test and
# tools/demo.sh): synced users in AD and Entra, cloud-only users, the cloud groups of seeds 004
# and 002, and rules/examples/cloud-groups-to-ad pointed at the servers.  Sets users_ou, wb_ou,
# the group ids G_*, and uid N (the id of Entra user N).

uid() { printf '00000000-0000-4000-8000-%012d' "$1"; }

cloud_groups_setup() {
  local u cn sam dn seed long_name long_desc
  declare -A guid
  users_ou="OU=Users,$SAMBA_OU"
  wb_ou="OU=Writeback,$SAMBA_OU"

  # --- AD: synced users (what Connect Sync would have synced to Entra) -------------------------
  for u in "Ada Lovelace:ada" "Bob Babbage:bob" "Carol Shaw:carol" "Dan Bricklin:dan" "Eve Hopper:eve" "Fay Allen:fay"; do
    cn=${u%%:*} sam=${u##*:}
    printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\ndisplayName: %s\n\n' "$cn" "$users_ou" "$sam" "$cn"
  done | samba_ldap ldapadd >/dev/null
  for sam in ada bob carol dan eve fay; do
    dn=$(samba_ldap ldapsearch -LLL -b "$users_ou" "(sAMAccountName=$sam)" dn | sed -n 's/^dn: //p')
    guid[$sam]=$(ad_guid "$dn")
  done

  # --- Entra: the same users synced, cloud-only users, groups -----------------------------------
  G_SALES=3a5c3221-c465-48c0-95b8-e9305786a271
  G_FIN=5d7f1a2b-0000-4c4e-9000-5d7f1a2b3c4e
  G_DYN=7b1e4c2d-1111-4a5b-8c6d-0e1f2a3b4c5d
  G_LONG=9c8b7a6d-2222-4e5f-9a0b-1c2d3e4f5a6b
  G_TEMP=1f2e3d4c-3333-4b5a-8f9e-8d7c6b5a4f3e
  G_MAIL=2a3b4c5d-4444-4e6f-8a7b-9c0d1e2f3a4b
  G_M365=4d5e6f70-5555-4182-9394-a5b6c7d8e9f0
  long_name="  Project Phoenix Steering Committee and Extended Working Group Members  "
  long_desc=$(printf 'Access to the Phoenix share. %.0s' $(seq 1 20))
  seed=$(python3 - "$G_SALES" "$G_FIN" "$G_DYN" "$G_LONG" "$G_TEMP" "$G_MAIL" "$G_M365" \
  "$long_name" "$long_desc" "${guid[ada]}" "${guid[bob]}" "${guid[carol]}" "${guid[dan]}" "${guid[eve]}" "${guid[fay]}" <<'PY'
import json, sys
sales, fin, dyn, long_, temp, mail, m365, long_name, long_desc = sys.argv[1:10]
guids = dict(zip(["ada", "bob", "carol", "dan", "eve", "fay"], sys.argv[10:16]))
names = {"ada": "Ada Lovelace", "bob": "Bob Babbage", "carol": "Carol Shaw", "dan": "Dan Bricklin",
         "eve": "Eve Hopper", "fay": "Fay Allen"}
uid = lambda n: "00000000-0000-4000-8000-%012d" % n
users = [{"id": uid(i + 1), "displayName": names[s], "userPrincipalName": s + "@contoso-test.onmicrosoft.com",
          "onPremisesSyncEnabled": True, "onPremisesObjectIdentifier": guids[s]}
         for i, s in enumerate(names)]
users += [{"id": uid(101), "displayName": "Kim Guest", "userPrincipalName": "kim@contoso-test.onmicrosoft.com"},
          {"id": uid(102), "displayName": "Leo Cloud", "userPrincipalName": "leo@contoso-test.onmicrosoft.com"}]
sec = lambda gid, name, members, **kw: dict({"id": gid, "displayName": name, "mailNickname": name.split()[0].lower(),
                                             "securityEnabled": True, "mailEnabled": False, "members": members}, **kw)
groups = [
    sec(fin, "Finance", [uid(3), uid(102)], description="Finance team"),
    sec(sales, "Sales", [uid(1), uid(2), uid(101), fin], description="  Sales and account managers  "),
    sec(dyn, "Engineering (dynamic)", [uid(4), uid(5)], groupTypes=["DynamicMembership"],
        membershipRule='user.department -eq "Engineering"', membershipRuleProcessingState="On"),
    sec(long_, long_name, [uid(1)], description=long_desc),
    sec(temp, "Temp Contractors", [uid(6)]),
    dict(sec(mail, "Marketing", [uid(1), uid(2)]), mailEnabled=True, mail="marketing@contoso-test.onmicrosoft.com"),
    {"id": m365, "displayName": "Contoso Everyone", "mailNickname": "everyone", "groupTypes": ["Unified"],
     "securityEnabled": False, "mailEnabled": True, "members": [uid(1), uid(2), uid(101)]},
]
print(json.dumps({"users": users, "groups": groups}))
PY
  )
  peer_ctl POST /_fake/seed "$seed" >/dev/null

  # --- the rule set: the example, pointed at these servers --------------------------------------
  scen_cloud_groups "$users_ou" "$wb_ou"
}
