#!/usr/bin/env python3
"""What Entra must hold after Connect Sync's default rules (the Contoso export) synced the AD
objects in AD.json, computed from Microsoft's documentation and AD's own answer -- not from
mvsync.  Prints PASS:/FAIL: lines (tests/e2e/connect_contoso.sh tallies them).

usage: contoso_expect.py AD.json DOMAIN_FQDN USERS.json GROUPS.json MEMBERS_DIR

Sources of the rules applied here:
- Entra Connect: Design concepts, sourceAnchor: the immutableId is the base64 of the anchor's
  bytes; this export's "In from AD - User AccountEnabled" and "Group Common" flow objectGUID
  (not ms-DS-ConsistencyGuid), so a ConsistencyGuid set on an object does not change it.
- Entra Connect sync: Understanding the default configuration: users and groups that are
  critical system objects, have no sAMAccountName, are SystemMailbox{...}/MSOL_/AAD_/CAS_{...}
  accounts or conflict objects are cloud-filtered (never provisioned to Entra); disabled users
  are synced with accountEnabled false; contacts go to Entra as contacts.
- userPrincipalName: the AD value, else sAMAccountName@<domain FQDN> ("In from AD - User
  AccountEnabled"); displayName: the AD value, else cn ("In from AD - User Common").
- Graph, update user: setting mail adds it to proxyAddresses as SMTP:<mail>.
- mailNickname: AD's, else the prefix of mail, else of the userPrincipalName (How the
  proxyAddresses attribute is populated in Microsoft Entra ID, KB 3190357, scenarios 1, 2).
- Groups: security groups without mail are securityEnabled, not mailEnabled (Understanding
  Users, Groups, and Contacts); their members are the synced objects among AD's members,
  nested groups included (Connect's "Out to AAD - Group Identity" flows member).
"""
import base64, json, os, sys

ad_path, domain_fqdn, users_path, groups_path, members_dir = sys.argv[1:6]
ad = json.load(open(ad_path))
users = json.load(open(users_path))["value"]
groups = json.load(open(groups_path))["value"]


def one(o, a):
    v = o.get(a.lower())
    return v[0] if v else None


def raw(v):
    """ldap_json gives binary values as b64:..., text values as text."""
    return base64.b64decode(v[4:]) if v.startswith("b64:") else v.encode()


def classes(o):
    return {c.lower() for c in o.get("objectclass", [])}


def cloud_filtered(o, is_group):
    """The cloudFiltered expressions of the default "In from AD - User Join" and "In from AD -
    Group Join" rules, as Microsoft documents them (msExchRecipientTypeDetails: none here)."""
    sam = one(o, "sAMAccountName")
    nick = one(o, "mailNickname") or ""
    if one(o, "isCriticalSystemObject") == "TRUE":
        return True
    if is_group:
        return sam == "MSOL_AD_Sync_RichCoexistence"
    return (sam is None or sam == "SUPPORT_388945a0" or nick.startswith("SystemMailbox{")
            or sam.startswith("AAD_") or sam.startswith("MSOL_")
            or (nick.startswith("CAS_") and "}" in nick) or (sam.startswith("CAS_") and "}" in sam))


def anchor(o):
    return base64.b64encode(raw(one(o, "objectGUID"))).decode()


results = []


def check(cond, msg):
    results.append(("PASS: " if cond else "FAIL: ") + msg)


def nickname(o):
    """The mailNickname Entra gives a synced user: AD's, else the prefix of the primary SMTP
    address (mail), else of the userPrincipalName (KB 3190357, How the proxyAddresses
    attribute is populated in Microsoft Entra ID, scenarios 1 and 2)."""
    if one(o, "mailNickname"):
        return one(o, "mailNickname")
    return (one(o, "mail") or one(o, "userPrincipalName")).split("@")[0]


want_users, want_groups, filtered, contacts = {}, {}, [], []
for dn, o in ad.items():
    cl = classes(o)
    if "group" in cl:
        if cloud_filtered(o, True):
            filtered.append(dn)
        else:
            want_groups[dn] = o
    elif "contact" in cl:
        contacts.append(dn)
    elif "user" in cl:  # inetOrgPerson is a subclass of user
        if cloud_filtered(o, False):
            filtered.append(dn)
        else:
            want_users[dn] = o

by_anchor = {u.get("onPremisesImmutableId"): u for u in users}
anchor_of = {}
for dn, o in sorted(want_users.items()):
    a = anchor(o)
    anchor_of[dn] = a
    u = by_anchor.get(a)
    if u is None:
        check(False, "%s: an Entra user with onPremisesImmutableId %s" % (dn, a))
        continue
    upn = one(o, "userPrincipalName") or "%s@%s" % (one(o, "sAMAccountName"), domain_fqdn)
    want = {"userPrincipalName": upn,
            "displayName": one(o, "displayName") or one(o, "cn"),
            "mail": one(o, "mail"),
            "mailNickname": nickname(o),
            "accountEnabled": not (int(one(o, "userAccountControl")) & 2)}
    got = {k: u.get(k) for k in want}
    check(got == want, "%s: Entra user %s (base64 objectGUID) %s" % (dn, a, json.dumps(want) if got == want
                                                                      else "is %s, want %s" % (json.dumps(got), json.dumps(want))))
    if one(o, "mail"):
        check("SMTP:" + one(o, "mail") in (u.get("proxyAddresses") or []),
              "%s: proxyAddresses has SMTP:%s (got %s)" % (dn, one(o, "mail"), u.get("proxyAddresses")))
    cg = one(o, "mS-DS-ConsistencyGuid")
    if cg:
        check(base64.b64encode(raw(cg)).decode() not in by_anchor,
              "%s: its ms-DS-ConsistencyGuid is not used as the anchor (this export anchors on objectGUID)" % dn)
check(len(users) == len(want_users), "Entra has %d users: every user of AD that is not cloud-filtered (%d)"
      % (len(users), len(want_users)))

by_name = {}
for g in groups:
    by_name.setdefault(g.get("displayName"), []).append(g)
id_of = {dn: by_anchor[a]["id"] for dn, a in anchor_of.items() if a in by_anchor}
for dn, o in sorted(want_groups.items()):
    name = one(o, "displayName") or one(o, "cn")
    found = by_name.get(name, [])
    check(len(found) == 1, "%s: one Entra group named %r (found %d)" % (dn, name, len(found)))
    if len(found) == 1:
        id_of[dn] = found[0]["id"]
        # A security group without mail: securityEnabled as groupType's bit 0x80000000 says,
        # mailEnabled false (Understanding Users, Groups, and Contacts: mail-enabled only
        # with an SMTP address in proxyAddresses or mail; none here).
        check(found[0].get("securityEnabled") is bool(int(one(o, "groupType")) & 0x80000000) and
              found[0].get("mailEnabled") is False,
              "%s: securityEnabled as groupType says, mailEnabled false (got %s, %s)"
              % (dn, found[0].get("securityEnabled"), found[0].get("mailEnabled")))
check(len(groups) == len(want_groups), "Entra has %d groups, want %d" % (len(groups), len(want_groups)))
for dn, o in sorted(want_groups.items()):
    if dn not in id_of:
        check(False, "%s: Entra members of the group" % dn)
        continue
    path = os.path.join(members_dir, "members-%s.json" % id_of[dn])
    got = sorted(m["id"] for m in json.load(open(path))["value"]) if os.path.exists(path) else None
    # Members that are synced objects; cloud-filtered members and contacts (which Graph cannot
    # create) are not in Entra.
    want = sorted(id_of[m] for m in o.get("member", []) if m in id_of)
    missing = [m for m in o.get("member", []) if m not in id_of]
    check(got == want, "%s: Entra members %s, want %s (not synced: %s)" % (dn, got, want, missing))

names = {u.get("displayName") for u in users}
for dn in filtered:
    check(one(ad[dn], "displayName") not in names and anchor(ad[dn]) not in by_anchor,
          "%s: cloud-filtered, not in Entra" % dn)
for dn in contacts:
    # Known difference 4: Graph cannot create contacts (the import keeps the contact rules as
    # comments); nothing else may stand in for one.
    check(one(ad[dn], "displayName") not in names and one(ad[dn], "displayName") not in by_name,
          "%s: a contact: no Entra user or group made of it" % dn)
print("\n".join(results))
