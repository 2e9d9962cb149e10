#!/usr/bin/env bash
# The threshold-stop walkthrough of docs/safety.md ("After a threshold stop"), against a Samba AD
# DC: rules/examples/cloud-groups-to-ad with the cloud side read from a source file (Graph delta
# pages in its change log) writes 30 cloud security groups to AD; then a source mistake — a bulk
# edit turns 20 of them into non-security groups, out of the rules' scope — stages 20 deletes and
# the default cycle stops at the export threshold (deletion-threshold 10).  Both ways forward:
#   (A) the source is restored; the next `mvsync cycle` withdraws the 20 deletes and exports
#       nothing destructive;
#   (B) the mistake again; `mvsync pending contoso.com --discard --deletes` (after its
#       --dry-run) drops the deletes, recorded in the run history; cycles with the source still
#       wrong delete nothing (the 20 groups stay in AD, unmanaged); the source is restored and
#       the groups are managed again (a member change made in the source reaches AD).
# Throughout, AD's groups keep their identity: objectGUID and objectSid of every group, read
# with ldapsearch, are the same before and after — nothing deleted or recreated.  Expected
# numbers come from the data set up here and from AD's answers, never from mvsync's output.
# Usage: threshold-walkthrough.sh PATH/TO/mvsync
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/scenarios/lib.sh"
MVSYNC_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mvsync=$MVSYNC_BIN
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mvsync-threshold.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
. "$root/tests/ldap/samba.sh"
. "$root/tests/ldap/lib.sh"
samba_start    # samba_stop runs on exit (chained in front of the trap above)
export MVSYNC_STORE=$WORK/mvsync.db MVSYNC_RULES=$WORK/rules

users_ou="OU=Staff,$SAMBA_OU" wb_ou="OU=Cloud Groups,$SAMBA_OU"
printf 'dn: %s\nobjectClass: organizationalUnit\n\ndn: %s\nobjectClass: organizationalUnit\n' \
  "$users_ou" "$wb_ou" | samba_ldap ldapadd >/dev/null
for n in 1 2 3 4 5 6; do
  printf 'dn: CN=User %d,%s\nobjectClass: user\nsAMAccountName: user%d\n\n' "$n" "$users_ou" "$n"
done | samba_ldap ldapadd >/dev/null
guids=$(for n in 1 2 3 4 5 6; do ad_guid "CN=User $n,$users_ou"; done | paste -sd,)

# The cloud: the six users (synced from AD: onPremisesObjectIdentifier is their objectGUID) and
# 30 cloud security groups of two members each.  gid N: group N's id.
gid() { printf '7e570000-0000-4000-8000-%012d' "$1"; }
uid() { printf '00000000-0000-4000-8000-%012d' "$1"; }
python3 - "$guids" >"$WORK/source.json" <<'PY'
import json, sys
guids = sys.argv[1].split(",")
uid = lambda n: "00000000-0000-4000-8000-%012d" % n
gid = lambda n: "7e570000-0000-4000-8000-%012d" % n
users = [{"id": uid(n), "displayName": "User %d" % n, "onPremisesObjectIdentifier": guids[n - 1]}
         for n in range(1, 7)]
groups = [{"id": gid(n), "displayName": "Team %02d" % n, "mailNickname": "team%02d" % n,
           "securityEnabled": True, "mailEnabled": False,
           "members": [{"id": uid(1 + n % 6)}, {"id": uid(1 + (n + 1) % 6)}]} for n in range(1, 31)]
print(json.dumps({"users": users, "groups": groups}))
PY
: >"$WORK/source.json.changes"
# page SECURITY N...: a Graph delta page setting securityEnabled of groups N... (a bulk edit).
page() {
  local sec=$1
  shift
  python3 - "$sec" "$@" >>"$WORK/source.json.changes" <<'PY'
import json, sys
sec = sys.argv[1] == "true"
gid = lambda n: "7e570000-0000-4000-8000-%012d" % n
print(json.dumps({"@odata.context": "#groups/delta",
                  "value": [{"@odata.type": "#microsoft.graph.group", "id": gid(int(n)),
                             "securityEnabled": sec} for n in sys.argv[2:]]}))
PY
}
mistaken=$(seq 11 30)   # the 20 groups the bulk edit hits

# The example's rules: AD pointed at the DC, the cloud read from the source file.
scen_rules rules/examples/cloud-groups-to-ad
scen_connect_ad contoso.com
scen_set contoso.com containers "\"$users_ou|$wb_ou\""
sed -i "s/OU=Cloud Groups,DC=contoso,DC=com/$wb_ou/" "$WORK/rules/groups.rules"
python3 - "$WORK/rules/connectors.rules" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
ad = re.search(r'connector "contoso\.com".*?\n}\n', text, re.S).group(0)
ad = ad.replace("\n}\n", "\n  deletion-threshold 10\n}\n")
open(path, "w").write(ad + '\nconnector "contoso.onmicrosoft.com" type file {\n  shape "entra"\n'
                      '  path "source.json"\n  changes "source.json.changes"\n}\n')
PY
sed -i "s|path \"source.json\"|path \"$WORK/source.json\"|; s|changes \"source.json.changes\"|changes \"$WORK/source.json.changes\"|" \
  "$WORK/rules/connectors.rules"

# snap NAME: the writeback groups as AD has them (identity and members); ids NAME: identity only.
snap() { ldap_json "$wb_ou" '(objectClass=group)' objectGUID objectSid member >"$WORK/$1.json"; }
ids() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({k: [v["objectguid"], v["objectsid"]] for k, v in d.items()}, sort_keys=True))' "$WORK/$1.json"; }
n_groups() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/$1.json"; }
same_ad() { # same_ad NAME WHAT: AD's groups are exactly as at the start (identity and members)
  snap "$1"
  if cmp -s "$WORK/start.json" "$WORK/$1.json"; then ok "$1: $2"; else
    diff <(python3 -m json.tool "$WORK/start.json") <(python3 -m json.tool "$WORK/$1.json") | head -20
    bad "$1: AD's groups changed (above)"
  fi
}
# run NAME WANT ARGS...: mvsync ARGS; its exit code must be WANT; output in $WORK/NAME.{out,err}.
run() {
  local name=$1 want=$2 rc=0
  shift 2
  "$mvsync" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  if [ "$rc" = "$want" ]; then ok "$name: mvsync $* exited $rc"; else
    cat "$WORK/$name.err"
    bad "$name: mvsync $* exited $rc, want $want"
  fi
}
says() { # says NAME TEXT: stdout or stderr of run NAME has TEXT
  cat "$WORK/$1.out" "$WORK/$1.err" | grep -qF -- "$2" && ok "$1: says \"$2\"" ||
    { cat "$WORK/$1.err"; bad "$1: does not say \"$2\""; }
}
pending_deletes() { "$mvsync" pending contoso.com --json | python3 -c 'import json,sys; print(sum(p["op"] == "delete" for p in json.load(sys.stdin)))'; }

# --- the initial state: 30 groups in AD ---------------------------------------------------------
"$mvsync" init >/dev/null
run initial 0 cycle --initial
run confirm 0 cycle
snap start
[ "$(n_groups start)" = 30 ] && ok "initial: the 30 cloud security groups are in AD" ||
  bad "initial: $(n_groups start) groups in AD, want 30"

# --- the mistake: 20 groups out of scope; the cycle stops at the threshold ----------------------
# shellcheck disable=SC2086
page false $mistaken
run mistake 4 cycle
says mistake "contoso.com: export stopped: 20 deletes"
says mistake "more than the deletion threshold of 10 changes"
same_ad mistake "nothing deleted in AD"
[ "$(pending_deletes)" = 20 ] && ok "mistake: 20 deletes wait in pending" || bad "mistake: $(pending_deletes) deletes pending, want 20"
run review 0 pending contoso.com
listed=$(grep -c "^contoso.com delete CN=Team " "$WORK/review.out" || true)
[ "$listed" = 20 ] && ok "review: mvsync pending contoso.com lists the 20 deletes" || bad "review: lists $listed deletes, want 20"

# --- way A: restore the source; the next cycle re-evaluates the deletes -------------------------
# shellcheck disable=SC2086
page true $mistaken
run restored 0 cycle
withdrawn=$(grep -c "pending delete withdrawn: the object is joined again" "$WORK/restored.err" || true)
[ "$withdrawn" = 20 ] && ok "restored: 20 pending deletes withdrawn" || bad "restored: $withdrawn withdrawn, want 20"
[ "$(pending_deletes)" = 0 ] && ok "restored: no delete pending" || bad "restored: $(pending_deletes) deletes pending"
run restored-confirm 0 cycle
same_ad restored "every group as before: same objectGUID, objectSid and members"

# --- way B: the mistake again; discard the deletes ----------------------------------------------
# shellcheck disable=SC2086
page false $mistaken
run mistake2 4 cycle
[ "$(pending_deletes)" = 20 ] && ok "mistake2: 20 deletes wait in pending" || bad "mistake2: $(pending_deletes) deletes pending"
run discard-dry 0 pending contoso.com --discard --deletes --dry-run
listed=$(grep -c "^  contoso.com delete CN=Team " "$WORK/discard-dry.out" || true)
[ "$listed" = 20 ] && ok "discard --dry-run: lists the 20 deletes" || bad "discard --dry-run: lists $listed, want 20"
says discard-dry "would discard 20 pending exports of contoso.com (20 deletes"
[ "$(pending_deletes)" = 20 ] && ok "discard --dry-run: changed nothing" || bad "discard --dry-run: $(pending_deletes) deletes left"
run discard 0 pending contoso.com --discard --deletes
says discard "discarded 20 pending exports of contoso.com (20 deletes, 0 adds, 0 updates, 0 renames)"
[ "$(pending_deletes)" = 0 ] && ok "discard: no delete pending" || bad "discard: $(pending_deletes) deletes pending"
"$mvsync" runs --json | python3 -c '
import json, sys
r = [r for r in json.load(sys.stdin) if r["profile"] == "discard-pending"]
sys.exit(0 if len(r) == 1 and r[0]["deletes"] == 20 and r[0]["connector"] == "contoso.com" and r[0]["status"] == "success" else 1)' &&
  ok "runs: the discard is in the run history (20 deletes)" || bad "runs: no discard-pending run with 20 deletes"
# The source is still wrong: the next cycles stage nothing destructive again.
run after-discard 0 cycle
run after-discard2 0 cycle --initial
[ "$(pending_deletes)" = 0 ] && ok "after-discard: no delete staged again" || bad "after-discard: $(pending_deletes) deletes staged again"
same_ad after-discard "nothing deleted in AD while the source is still wrong"
# The source restored: the groups are joined again and managed (a member change reaches AD).
# shellcheck disable=SC2086
page true $mistaken
python3 - "$(gid 12)" "$(uid 6)" >>"$WORK/source.json.changes" <<'PY'
import json, sys
print(json.dumps({"value": [{"@odata.type": "#microsoft.graph.group", "id": sys.argv[1],
                             "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": sys.argv[2]}]}]}))
PY
run restored2 0 cycle
run restored2-confirm 0 cycle
[ "$(pending_deletes)" = 0 ] && ok "restored2: no delete pending" || bad "restored2: $(pending_deletes) deletes pending"
snap final
[ "$(ids final)" = "$(ids start)" ] && ok "final: the same 30 groups, each with its objectGUID and objectSid" ||
  bad "final: AD's groups are not the same objects as at the start"
team12=$(samba_ldap ldapsearch -LLL -b "$wb_ou" "(cn=Team 12_*)" member | grep -c "^member: CN=User 6," || true)
[ "$team12" = 1 ] && ok "restored2: Team 12 is managed again (User 6, added in the source, is a member in AD)" ||
  bad "restored2: User 6 is not a member of Team 12 in AD"
finish
