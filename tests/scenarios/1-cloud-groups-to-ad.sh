#!/usr/bin/env bash
# Scenario 1 (issue 6; seeds 004 and 002): cloud security groups provisioned to AD, end to end
# against a Samba AD DC and the Graph peer, driven by the CLI with
# rules/examples/cloud-groups-to-ad (only its server-specific values changed).
# Usage: 1-cloud-groups-to-ad.sh PATH/TO/mvsync
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
scen_start "$1"
. "$root/tests/scenarios/cloud_groups.sh"
cloud_groups_setup

# --- checks -----------------------------------------------------------------------------------
check=$root/tests/scenarios/groups_check.py
ldap_json "$users_ou" '(objectClass=user)' objectGUID >"$WORK/ad-users.json"
# snap NAME: the writeback OU as AD has it now.
snap() {
  ldap_json "$wb_ou" '(objectClass=group)' objectGUID cn displayName description groupType member \
    msDS-ExternalDirectoryObjectId adminDescription >"$WORK/$1.json"
}
# expect_ad NAME: AD's writeback OU is what Cloud Sync's mapping gives for Entra's state now.
expect_ad() {
  peer_ctl GET /_fake/state >"$WORK/$1-state.json"
  python3 "$check" expect "$WORK/$1-state.json" "$WORK/ad-users.json" "$wb_ou" >"$WORK/$1-expected.json"
  if python3 "$check" same "$WORK/$1-expected.json" "$WORK/$1.json"; then
    ok "$1: AD holds exactly the in-scope cloud groups, attributes and members"
  else
    bad "$1: AD differs from what the cloud groups should give (above)"
  fi
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
# cycle NAME ARGS...: a dry run, then the live run; the dry run changed nothing, its sends are
# what the live run did to AD (as ldapsearch shows it), and both runs counted the same.
cycle() {
  local name=$1
  shift
  snap "$name-before"
  mvs cycle "$@" --dry-run >"$WORK/$name-dry.txt" 2>&1
  mvs cycle "$@" --dry-run --json >"$WORK/$name-dry.json" 2>/dev/null
  snap "$name-after-dry"
  cmp -s "$WORK/$name-before.json" "$WORK/$name-after-dry.json" &&
    ok "$name: the dry run wrote nothing to AD" || bad "$name: the dry run changed AD"
  mvs cycle "$@" --json >"$WORK/$name-live.json" 2>"$WORK/$name-live.err" || bad "$name: mvsync cycle $* exited $?"
  snap "$name"
  [ "$(field "$WORK/$name-live.json" status)" = success ] && ok "$name: the live run succeeded" ||
    bad "$name: the live run: $(cat "$WORK/$name-live.json")"
  python3 "$check" sent "$WORK/$name-dry.json" >"$WORK/$name-sent.txt"
  python3 "$check" diff "$WORK/$name-before.json" "$WORK/$name.json" >"$WORK/$name-done.txt"
  if diff -u "$WORK/$name-sent.txt" "$WORK/$name-done.txt" >"$WORK/$name-sent.diff"; then
    ok "$name: the dry run showed exactly what the live run wrote ($(grep -c . "$WORK/$name-done.txt") changes)"
  else
    cat "$WORK/$name-sent.diff"
    bad "$name: dry run (-) and AD's change (+) differ"
  fi
  for k in adds updates deletes errors skipped_refs drift; do
    [ "$(field "$WORK/$name-dry.json" $k)" = "$(field "$WORK/$name-live.json" $k)" ] ||
      bad "$name: $k: dry run $(field "$WORK/$name-dry.json" $k), live $(field "$WORK/$name-live.json" $k)"
  done
}

# --- as a user would: init, check the rules, dry run, live run --------------------------------
mvs init >/dev/null
if mvs rules check "$MVSYNC_RULES" >"$WORK/check.txt"; then ok "rules check: $(cat "$WORK/check.txt")"; else bad "rules check"; fi
cycle initial --initial
expect_ad initial
# Every cloud-only member is skipped and counted once, also in the initial cycle, where a group
# is computed again after its nested group is provisioned in the same sync.
want_skipped=$(field "$WORK/initial-expected.json" skipped)
for run in initial-dry initial-live; do
  [ "$(field "$WORK/$run.json" skipped_refs)" = "$want_skipped" ] &&
    ok "$run: $want_skipped cloud-only memberships skipped and counted once" ||
    bad "$run: skipped references $(field "$WORK/$run.json" skipped_refs), want $want_skipped"
done
grep -q "references skipped" "$WORK/initial-dry.txt" && ok "initial: the summary shows the skipped references" ||
  bad "initial: the summary lacks the skipped references"
for g in Marketing "Contoso Everyone"; do
  grep -q "CN=$g" "$WORK/initial.json" && bad "out-of-scope group $g written" || ok "out-of-scope group $g not written"
done
# The confirming import: nothing more to send.
cycle confirm --delta
! grep -q . "$WORK/confirm-sent.txt" && ok "confirm: nothing sent after the confirming import" ||
  bad "confirm: sends after the confirming import: $(cat "$WORK/confirm-sent.txt")"
mvs sync --full --dry-run --json >"$WORK/full-dry.json" 2>/dev/null
[ "$(field "$WORK/full-dry.json" skipped_refs)" = "$want_skipped" ] &&
  ok "full sync: $want_skipped skipped references, one per cloud-only membership" ||
  bad "full sync: skipped references $(field "$WORK/full-dry.json" skipped_refs), want $want_skipped"

# --- delta cycles after cloud changes, each a dry run first ----------------------------------

peer_ctl PATCH "/_fake/groups/$G_SALES" '{"displayName": "Sales EMEA"}' >/dev/null
cycle rename --delta
expect_ad rename
grep -qx "rename cn=sales_e9305786a271,${wb_ou,,} -> cn=sales emea_e9305786a271,${wb_ou,,}" "$WORK/rename-done.txt" &&
  ok "rename: the AD group was renamed in place (same objectGUID)" || bad "rename: not a rename: $(cat "$WORK/rename-done.txt")"
sales_dn="CN=Sales EMEA_e9305786a271,$wb_ou"

peer_ctl POST "/_fake/groups/$G_SALES/members" "{\"add\": [\"$(uid 3)\", \"$(uid 102)\"]}" >/dev/null
peer_ctl POST "/_fake/groups/$G_DYN/members" "{\"add\": [\"$(uid 6)\"]}" >/dev/null
cycle add-member --delta
expect_ad add-member
grep -qix "$sales_dn member +CN=Carol Shaw,$users_ou" "$WORK/add-member-done.txt" &&
  ok "add-member: Carol added to the AD group" || bad "add-member: Carol not added"

# A time-bound (PIM-style) assignment expires / an access review denies Bob: the cloud removes him.
peer_ctl POST "/_fake/groups/$G_SALES/members" "{\"remove\": [\"$(uid 2)\"]}" >/dev/null
cycle remove-member --delta
expect_ad remove-member
grep -qix "$sales_dn member -CN=Bob Babbage,$users_ou" "$WORK/remove-member-done.txt" &&
  ok "remove-member: Bob removed from the AD group" || bad "remove-member: Bob not removed"

peer_ctl POST "/_fake/groups/$G_TEMP/soft-delete" >/dev/null
cycle delete --delta
expect_ad delete
grep -qix "delete CN=Temp Contractors_8d7c6b5a4f3e,$wb_ou" "$WORK/delete-done.txt" &&
  ok "delete: the group deleted in the cloud is deleted in AD" || bad "delete: not deleted in AD"

# --- drift: a member added by hand in AD is reported and reverted -----------------------------
printf 'dn: %s\nchangetype: modify\nadd: member\nmember: CN=Eve Hopper,%s\n' "$sales_dn" "$users_ou" |
  samba_ldap ldapmodify >/dev/null
cycle drift --delta
grep -qF "update $sales_dn [drift]" "$WORK/drift-dry.txt" && ok "drift: the dry run marks the revert as drift" ||
  bad "drift: the dry run does not mark drift: $(cat "$WORK/drift-dry.txt")"
[ "$(field "$WORK/drift-live.json" drift)" = 1 ] && ok "drift: the live run reports 1 drift" ||
  bad "drift: drift $(field "$WORK/drift-live.json" drift), want 1"
expect_ad drift
# mvsync authority names the group, the member added by hand and the run that put it back (the
# delta sync of the live cycle: the one run of the history with drift 1).
mvs runs --json >"$WORK/runs.json"
mvs authority --json >"$WORK/authority.json" || bad "authority: exit $?"
python3 - "$WORK/runs.json" "$WORK/authority.json" "$sales_dn" "CN=Eve Hopper,$users_ou" <<'PY' &&
import json, sys
runs, auth, group, member = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
run = [r["id"] for r in runs if r["profile"] == "delta-sync" and r["drift"] == 1]
d = [f for f in auth["findings"] if f["kind"] == "drift" and f["attribute"] == "member"]
ch = [c for f in d for c in f["changes"]]
ok = len(run) == 1 and len(ch) == 1 and ch[0]["object"].lower() == group.lower() and \
     (ch[0]["value"] or "").lower() == member.lower() and ch[0]["action"] == "remove" and \
     ch[0]["last_run"] == run[0] and ch[0]["rule"] == "Out to AD - Cloud security groups"
if not ok:
    print(run, d)
sys.exit(0 if ok else 1)
PY
  ok "authority: the drift finding names the group, Eve Hopper and the run that removed her" ||
  bad "authority: no drift finding naming the group, the member and the run"
cycle after-drift --delta
[ "$(field "$WORK/after-drift-live.json" drift)" = 0 ] && ! grep -q . "$WORK/after-drift-sent.txt" &&
  ok "after-drift: nothing left to revert" || bad "after-drift: still drift or sends"

# --- Entra was only read ----------------------------------------------------------------------
peer_ctl GET /_fake/log >"$WORK/log.json"
writes=$(python3 -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["requests"]
  if r["origin"] == "graph" and r["method"] != "GET"))' "$WORK/log.json")
[ "$writes" = 0 ] && ok "Entra: mvsync sent no write request to Graph" || bad "Entra: $writes write requests to Graph"
graph_get 'groups?$top=999&$select=id,displayName,description,securityEnabled,mailEnabled,groupTypes' >"$WORK/graph-groups.json"
graph_get "groups/$G_SALES/members?\$top=999" >"$WORK/graph-sales-members.json"
python3 - "$WORK" "$(uid 1)" "$(uid 3)" "$(uid 101)" "$(uid 102)" "$G_FIN" <<'PY' && ok "Entra over Graph: groups and members as the cloud admin left them" || bad "Entra over Graph differs"
import json, sys
work, want_members = sys.argv[1], set(sys.argv[2:])
groups = {g["id"]: g for g in json.load(open(work + "/graph-groups.json"))["value"]}
names = sorted(g["displayName"] for g in groups.values())
members = {m["id"] for m in json.load(open(work + "/graph-sales-members.json"))["value"]}
ok = "Sales EMEA" in names and "Temp Contractors" not in names and len(groups) == 6 and members == want_members
if not ok:
    print(names, members)
sys.exit(0 if ok else 1)
PY

finish
