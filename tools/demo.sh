#!/usr/bin/env bash
# mvsync's main job, live: Entra ID cloud security groups provisioned to Active Directory as
# Cloud Sync does it (scenario 1, rules/examples/cloud-groups-to-ad), against a Samba AD DC and
# the Graph peer started here and stopped on exit.  It shows the rule check, the initial cycle
# as a dry run (the attribute-level diff; nothing written), the live cycle, what AD holds, then
# a cloud admin's changes, the delta cycle (dry run, then live) and AD again.
# Usage: tools/demo.sh   (as root on Debian 12: installs missing packages and builds unless
# $MVSYNC names an mvsync binary).  tools/demo-files.sh runs the same rules on files, no servers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
MVSYNC=${MVSYNC:-$("$root/tools/build.sh")}
step() { printf '\n== %s\n' "$*"; }
show_ad() {
  samba_ldap ldapsearch -LLL -b "$wb_ou" '(objectClass=group)' cn description member \
    msDS-ExternalDirectoryObjectId | sed 's/^/  /'
}

step "starting a Samba AD DC and the Graph peer (stopped when the demo ends)"
. "$root/tests/scenarios/lib.sh"
scen_start "$MVSYNC"
. "$root/tests/scenarios/cloud_groups.sh"
cloud_groups_setup
echo "AD: $SAMBA_LDAPS_URL ($SAMBA_BASE): 6 users in $users_ou"
echo "Entra: $PEER_GRAPH_URL (peer folder $PEER_DIR)"
echo "  6 users synced from AD (onPremisesObjectIdentifier = their objectGUID),"
echo "  2 cloud-only users, 5 cloud security groups (one dynamic, one nested in another),"
echo "  a mail-enabled security group and a Microsoft 365 group"
echo "rules: rules/examples/cloud-groups-to-ad with these servers' URLs, CAs and secret files"
cd "$WORK"

step "mvsync init"
mvs init
step "mvsync rules check rules"
mvs rules check rules
step "mvsync cycle --initial --dry-run   (what the first cycle would change; nothing is written)"
mvs cycle --initial --dry-run
step "mvsync cycle --initial"
mvs cycle --initial
step "what AD shows now (ldapsearch of $wb_ou)"
show_ad
step "mvsync cycle --delta   (the confirming import of what was written)"
mvs cycle --delta

step "a cloud admin renames Sales to Sales EMEA and adds Carol; an access review removes Bob"
peer_ctl PATCH "/_fake/groups/$G_SALES" '{"displayName": "Sales EMEA"}' >/dev/null
peer_ctl POST "/_fake/groups/$G_SALES/members" "{\"add\": [\"$(uid 3)\"], \"remove\": [\"$(uid 2)\"]}" >/dev/null
step "mvsync cycle --delta --dry-run"
mvs cycle --delta --dry-run
step "mvsync cycle --delta"
mvs cycle --delta
step "what AD shows now"
show_ad
step "mvsync runs"
mvs runs
