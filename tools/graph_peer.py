#!/usr/bin/env python3
# mvsync's local Microsoft Graph peer for tests: token endpoint, v1.0/beta users and groups
# (lists, delta, writes, $batch) and a /_fake/ control API. Python 3 standard library only.
# Contract: docs/internals/test-servers.md; behaviour and control API: docs/internals/graph-peer.md.
"""Usage: graph_peer.py --dir DIR [--tenant T] [--parent-pid PID]

Generates a per-run CA and server certificate in DIR with the openssl CLI, listens on three
HTTPS ports on 127.0.0.1 (login, graph, foreign) and writes DIR/peer.json once ready."""

import argparse
import base64
import email.utils
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ODATA_JSON = ("application/json;odata.metadata=minimal;odata.streaming=true;"
              "IEEE754Compatible=false;charset=utf-8")
LOGIN_JSON = "application/json; charset=utf-8"
GRAPH_RESOURCE = "https://graph.microsoft.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_MAX_AGE_DAYS = 7
MAX_BIND = 20
MAX_BATCH = 20
MAX_FILTER_IDS = 50

# What Graph returns without $select (user: the documented 11; group: the group-list sample).
USER_DEFAULT = ["businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
                "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                "userPrincipalName"]
GROUP_DEFAULT = ["id", "deletedDateTime", "classification", "createdDateTime", "creationOptions",
                 "description", "displayName", "expirationDateTime", "groupTypes",
                 "isAssignableToRole", "mail", "mailEnabled", "mailNickname", "membershipRule",
                 "membershipRuleProcessingState", "onPremisesDomainName",
                 "onPremisesLastSyncDateTime", "onPremisesNetBiosName",
                 "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
                 "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage",
                 "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions",
                 "resourceProvisioningOptions", "securityEnabled", "securityIdentifier", "theme",
                 "visibility", "onPremisesProvisioningErrors", "serviceProvisioningErrors"]
DEFAULTS = {"user": USER_DEFAULT, "group": GROUP_DEFAULT}
# Unset collection-valued properties read back as [] rather than null.
COLLECTIONS = {"businessPhones", "groupTypes", "proxyAddresses", "creationOptions",
               "resourceBehaviorOptions", "resourceProvisioningOptions",
               "onPremisesProvisioningErrors", "serviceProvisioningErrors", "otherMails",
               "imAddresses", "identities", "assignedLicenses"}
GROUP_READ_ONLY = {"id", "mail", "proxyAddresses", "createdDateTime", "securityIdentifier",
                   "onPremisesSyncEnabled", "onPremisesSecurityIdentifier",
                   "onPremisesSamAccountName", "onPremisesLastSyncDateTime", "deletedDateTime"}
NICKNAME_FORBIDDEN = set('@()\\[]";:.<>, ')
# The user resource (learn.microsoft.com/graph/api/resources/user, v1.0 properties table):
# what POST /users requires (user-post-users), what it marks "Read-only", and every property
# it has; a write of another name is refused as OData refuses an undeclared property.
USER_REQUIRED = ("accountEnabled", "displayName", "mailNickname", "passwordProfile",
                 "userPrincipalName")
USER_READ_ONLY = {"id", "assignedPlans", "createdDateTime", "creationType", "deletedDateTime",
                  "imAddresses", "lastPasswordChangeDateTime", "legalAgeGroupClassification",
                  "licenseAssignmentStates", "onPremisesDistinguishedName",
                  "onPremisesDomainName", "onPremisesLastSyncDateTime",
                  "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
                  "onPremisesSyncEnabled", "onPremisesUserPrincipalName", "provisionedPlans",
                  "proxyAddresses", "refreshTokensValidFromDateTime",
                  "signInSessionsValidFromDateTime"}
USER_WRITABLE = {"aboutMe", "accountEnabled", "ageGroup", "birthday", "businessPhones", "city",
                 "companyName", "consentProvidedForMinor", "country", "department",
                 "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime",
                 "employeeOrgData", "employeeType", "externalUserState",
                 "externalUserStateChangeDateTime", "faxNumber", "givenName", "hireDate",
                 "identities", "interests", "isResourceAccount", "jobTitle", "mail",
                 "mailNickname", "mobilePhone", "mySite", "officeLocation",
                 "onPremisesExtensionAttributes", "onPremisesImmutableId", "otherMails",
                 "passwordPolicies", "passwordProfile", "pastProjects", "postalCode",
                 "preferredDataLocation", "preferredLanguage", "preferredName",
                 "responsibilities", "schools", "showInAddressList", "skills", "state",
                 "streetAddress", "surname", "usageLocation", "userPrincipalName", "userType"}
# Properties of users only: the group resource has none of them (a group has no
# onPremisesImmutableId: Connect matches groups otherwise).
USER_ONLY = (USER_WRITABLE | USER_READ_ONLY) - {
    "id", "createdDateTime", "deletedDateTime", "description", "displayName", "mail",
    "mailNickname", "onPremisesDomainName", "onPremisesLastSyncDateTime",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
    "preferredDataLocation", "preferredLanguage", "proxyAddresses"}
COLLECTION_OF = {"user": "users", "group": "groups"}
KIND_OF = {"users": "user", "groups": "group"}

DEFAULT_CONFIG = {
    "page_size": 3,            # lists and delta pages without $top / odata.maxpagesize
    "expires_in": 3599,        # access token lifetime (seconds of the fake clock)
    "member_split": 20,        # members@delta items per group entry before it repeats
    "replay": 0,               # extra passes over every delta round (duplicates, replays)
    "empty_first_page": True,  # the first page of each delta round is empty with a nextLink
    "batch_shuffle": True,     # $batch responses in a shuffled order
    "seed": 1,                 # for the shuffle and the generator
    "domain": "contoso-test.onmicrosoft.com",
}

NOT_FOUND_MSG = ("Resource '{}' does not exist or one of its queried reference-property "
                 "objects are not present.")
DUPLICATE_MSG = ("One or more added object references already exist for the following "
                 "modified properties: 'members'.")
TOP_MSG = "Invalid page size specified: '{}'. Must be between 1 and 999 inclusive."


class GraphError(Exception):
    """A Graph error response: status, code, message, extra headers."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class AuthError(Exception):
    """An Entra token endpoint error (AADSTS shape)."""

    def __init__(self, status, error, aadsts, text):
        super().__init__(text)
        self.status, self.error, self.aadsts, self.text = status, error, aadsts, text


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(ts, fraction=False):
    t = time.gmtime(ts)
    s = time.strftime("%Y-%m-%dT%H:%M:%S", t)
    return s + ("%.7fZ" % (ts % 1))[1:] if fraction else s + "Z"


def error_date():
    """innerError.date: UTC, seconds, no zone designator (as Graph sends it)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class DirObject:
    """One user or group with per-property change numbers (CSN) for delta."""

    __slots__ = ("id", "kind", "props", "pcsn", "ccsn", "state", "scsn", "seq", "lcsn",
                 "members", "removed", "mcsn", "suspended")

    def __init__(self, oid, kind, csn, seq):
        self.id, self.kind, self.seq = oid, kind, seq
        self.props = {}
        self.pcsn = {}           # property -> csn of its last change (absent: ccsn)
        self.ccsn = csn          # creation
        self.state = "active"    # active | soft | hard
        self.scsn = csn          # last state change (create, delete, restore)
        self.lcsn = csn          # last change of anything
        self.members = {} if kind == "group" else None   # member id -> csn added
        self.removed = {} if kind == "group" else None   # member id -> csn removed
        self.mcsn = 0
        self.suspended = []      # groups this object left when soft-deleted

    def prop_csn(self, name):
        return self.pcsn.get(name, self.ccsn)


class Peer:
    """All state: directory, credentials, tokens, faults, fake clock, request log."""

    def __init__(self, tenant, client_id, client_secret):
        self.lock = threading.RLock()
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.login_url = self.graph_url = self.foreign_url = ""
        self.certs = []          # registered certificates: {sha1, sha256, pubkey}
        self.workdir = None
        self.log_lock = threading.Lock()
        self.reset()

    # ---- state -------------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.csn = 0
            self.objects = {}
            self.order = {"user": [], "group": []}
            self.member_of = {}
            self.names = {"user": {}, "group": {}}  # lower-case property name -> canonical
            self.config = dict(DEFAULT_CONFIG)
            self.faults = []
            self.clock_offset = 0.0
            self.tokens = {}
            self.used_jti = set()
            self.rng = random.Random(self.config["seed"])
            self.member_cache = {}
        with self.log_lock:
            self.log = []
            self.log_seq = 0

    def now(self):
        return time.time() + self.clock_offset

    def next_csn(self):
        self.csn += 1
        return self.csn

    def canon(self, kind, name):
        return self.names[kind].get(name.lower(), name)

    def note_name(self, kind, name):
        self.names[kind].setdefault(name.lower(), name)

    def get(self, oid, kinds=("user", "group")):
        """An active object by id (a user also by userPrincipalName), else None."""
        o = self.objects.get(oid)
        if o is None and "@" in oid:
            low = oid.lower()
            o = next((x for x in self.objects.values() if x.kind == "user"
                      and str(x.props.get("userPrincipalName", "")).lower() == low), None)
        if o is None or o.kind not in kinds or o.state != "active":
            return None
        return o

    def create(self, kind, props, oid=None):
        oid = oid or props.get("id") or str(uuid.uuid4())
        if oid in self.objects:
            raise GraphError(400, "Request_BadRequest",
                             "Another object with the same value for property id already exists.")
        csn = self.next_csn()
        o = DirObject(oid, kind, csn, len(self.order[kind]))
        self.objects[oid] = o
        self.order[kind].append(o)
        for k, v in props.items():
            if k in ("id", "members") or v is None:
                continue
            self.note_name(kind, k)
            o.props[k] = v
        if kind == "group":
            self.group_defaults(o)
        return o

    def group_defaults(self, o):
        p = o.props
        p.setdefault("groupTypes", [])
        p.setdefault("mailEnabled", False)
        p.setdefault("securityEnabled", True)
        p.setdefault("createdDateTime", iso(self.now()))
        if re.fullmatch(r"[0-9a-fA-F-]{36}", o.id):
            # Entra's SID for cloud groups: S-1-12-1- and the object id as four 32-bit integers.
            raw = uuid.UUID(o.id).bytes_le
            p.setdefault("securityIdentifier", "S-1-12-1-" + "-".join(
                str(int.from_bytes(raw[i:i + 4], "little")) for i in range(0, 16, 4)))
        if "Unified" in p["groupTypes"] and "mail" not in p and p.get("mailNickname"):
            p["mail"] = "%s@%s" % (p["mailNickname"], self.config["domain"])
            p["proxyAddresses"] = ["SMTP:" + p["mail"]]
        for k in list(p):
            self.note_name("group", k)

    def update(self, o, props):
        csn = None
        for k, v in props.items():
            if k in ("id", "members"):
                continue
            k = self.canon(o.kind, k)
            if k in o.props and o.props[k] == v:
                continue
            if v is None and k not in o.props:
                continue
            csn = csn or self.next_csn()
            self.note_name(o.kind, k)
            o.props[k] = v
            o.pcsn[k] = csn
            o.lcsn = csn
        return csn is not None

    def add_member(self, g, m):
        if m.id in g.members:
            return False
        csn = self.next_csn()
        g.members[m.id] = csn
        g.removed.pop(m.id, None)
        g.mcsn = g.lcsn = csn
        self.member_of.setdefault(m.id, set()).add(g.id)
        return True

    def remove_member(self, g, mid):
        if mid not in g.members:
            return False
        csn = self.next_csn()
        del g.members[mid]
        g.removed[mid] = csn
        g.mcsn = g.lcsn = csn
        s = self.member_of.get(mid)
        if s:
            s.discard(g.id)
        return True

    def soft_delete(self, o):
        if o.state != "active":
            raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(o.id))
        o.suspended = sorted(self.member_of.get(o.id, ()), key=lambda g: self.objects[g].seq)
        for gid in o.suspended:
            self.remove_member(self.objects[gid], o.id)
        o.state = "soft"
        o.props["deletedDateTime"] = iso(self.now())
        o.scsn = o.lcsn = self.next_csn()

    def hard_delete(self, o):
        if o.state == "hard":
            raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(o.id))
        for gid in sorted(self.member_of.get(o.id, ()), key=lambda g: self.objects[g].seq):
            self.remove_member(self.objects[gid], o.id)
        o.suspended = []
        if o.kind == "group":
            for mid in o.members:
                self.member_of.get(mid, set()).discard(o.id)
        o.state = "hard"
        o.scsn = o.lcsn = self.next_csn()

    def restore(self, o):
        if o.state != "soft":
            raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(o.id))
        o.state = "active"
        o.props.pop("deletedDateTime", None)
        o.scsn = o.lcsn = self.next_csn()
        for gid in o.suspended:
            g = self.objects.get(gid)
            if g is not None and g.state == "active":
                self.add_member(g, o)
        o.suspended = []

    # ---- tokens and auth ---------------------------------------------------------------
    def issue_token(self, how):
        now = self.now()
        exp = now + int(self.config["expires_in"])
        head = b64url(dumps({"typ": "JWT", "alg": "RS256", "kid": "mvsync-graph-peer"}))
        body = b64url(dumps({"aud": GRAPH_RESOURCE, "iss": "https://sts.windows.net/%s/" %
                             self.tenant, "iat": int(now), "nbf": int(now), "exp": int(exp),
                             "appid": self.client_id, "tid": self.tenant, "roles":
                             ["Directory.ReadWrite.All"], "uti": b64url(secrets.token_bytes(12)),
                             "xms_peer_auth": how}))
        token = "%s.%s.%s" % (head, body, b64url(secrets.token_bytes(32)))
        self.tokens[token] = exp
        return token

    def check_bearer(self, header):
        if not header or not header.startswith("Bearer ") or not header[7:].strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        exp = self.tokens.get(header[7:].strip())
        if exp is None:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "IDX14100: JWT is not well formed, there are no dots (.).")
        if self.now() >= exp:
            raise GraphError(401, "InvalidAuthenticationToken",
                             "Lifetime validation failed, the token is expired.")

    def expire_bearer(self, header):
        if header and header.startswith("Bearer "):
            token = header[7:].strip()
            if token in self.tokens:
                self.tokens[token] = self.now() - 1


# ---- the token endpoint ------------------------------------------------------------------

def token_endpoint(peer, tenant, headers, body):
    """POST /{tenant}/oauth2/v2.0/token: client credentials (secret, Basic, JWT assertion)."""
    if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
        raise AuthError(400, "invalid_request", 900144,
                        "The request body must contain the following parameter: 'grant_type'.")
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if tenant.lower() not in (peer.tenant.lower(), "organizations"):
        raise AuthError(400, "invalid_request", 90002,
                        "Tenant '%s' not found. Check to make sure you have the correct tenant "
                        "ID and are signing into the correct cloud." % tenant)
    if form.get("grant_type") != "client_credentials":
        raise AuthError(400, "unsupported_grant_type", 70003,
                        "The app requested an unsupported grant type '%s'."
                        % form.get("grant_type", ""))
    basic = headers.get("authorization", "")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    how = None
    if basic.startswith("Basic "):
        if secret is not None or "client_assertion" in form:
            raise AuthError(400, "invalid_request", 50148,
                            "Only one client authentication method may be used.")
        try:
            user, _, pw = base64.b64decode(basic[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise AuthError(401, "invalid_client", 7000218,
                            "The request body must contain the following parameter: "
                            "'client_assertion' or 'client_secret'.")
        client_id, secret = unquote(user.replace("+", " ")), unquote(pw.replace("+", " "))
        how = "basic"
    if client_id != peer.client_id:
        raise AuthError(400, "unauthorized_client", 700016,
                        "Application with identifier '%s' was not found in the directory '%s'."
                        % (client_id, peer.tenant))
    scope = form.get("scope", "")
    if scope not in (GRAPH_RESOURCE + "/.default", peer.graph_url + "/.default"):
        raise AuthError(400, "invalid_scope", 70011,
                        "The provided request must include a 'scope' input parameter. The "
                        "provided value for the input parameter 'scope' is not valid. "
                        "The scope %s is not valid." % scope)
    if "client_assertion" in form or "client_assertion_type" in form:
        if secret is not None:
            raise AuthError(400, "invalid_request", 50148,
                            "Only one client authentication method may be used.")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise AuthError(400, "invalid_request", 90014,
                            "The request body must contain the following parameter: "
                            "'client_assertion_type'.")
        how = "assertion:" + check_assertion(peer, form.get("client_assertion", ""))
    elif secret is None:
        raise AuthError(401, "invalid_client", 7000218,
                        "The request body must contain the following parameter: "
                        "'client_assertion' or 'client_secret'.")
    elif not secrets.compare_digest(secret.encode(), peer.client_secret.encode()):
        raise AuthError(401, "invalid_client", 7000215,
                        "Invalid client secret provided. Ensure the secret being sent in the "
                        "request is the client secret value, not the client secret ID, for a "
                        "secret added to app '%s'." % peer.client_id)
    else:
        how = how or "secret"
    with peer.lock:
        token = peer.issue_token(how)
        expires = int(peer.config["expires_in"])
    return {"token_type": "Bearer", "expires_in": expires, "ext_expires_in": expires,
            "access_token": token}, how


def check_assertion(peer, jwt):
    """Checks a client assertion JWT as Entra does (§3.9); returns its alg."""
    def bad(code, text):
        return AuthError(401, "invalid_client", code, text)
    parts = jwt.split(".")
    if len(parts) != 3:
        raise AuthError(400, "invalid_request", 50027,
                        "JWT token is invalid or malformed.")
    try:
        header = json.loads(unb64url(parts[0]))
        claims = json.loads(unb64url(parts[1]))
        signature = unb64url(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise AuthError(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
    alg = header.get("alg")
    if alg not in ("RS256", "PS256"):
        raise bad(5002738, "Invalid JWT token. '%s' is not a supported signature algorithm." % alg)
    cert = None
    with peer.lock:
        for c in peer.certs:
            if header.get("x5t#S256") == c["sha256"] or header.get("x5t") == c["sha1"]:
                cert = c
    if cert is None:
        raise bad(700027, "The certificate with identifier used to sign the client assertion "
                  "is not registered on application. [Reason - The key was not found.]")
    if not verify_signature(peer, cert["pubkey"], alg, (parts[0] + "." + parts[1]).encode(),
                            signature):
        raise bad(700027, "Client assertion failed signature validation.")
    token_url = "%s/%s/oauth2/v2.0/token" % (peer.login_url, peer.tenant)
    if claims.get("aud") != token_url:
        raise bad(700212, "The audience claim in the client assertion '%s' does not match the "
                  "token endpoint '%s'." % (claims.get("aud"), token_url))
    if claims.get("iss") != peer.client_id or claims.get("sub") != peer.client_id:
        raise bad(700021, "Client assertion application identifier doesn't match "
                  "'client_id' parameter.")
    now = peer.now()
    skew = 300
    for name in ("exp", "nbf"):
        if not isinstance(claims.get(name), (int, float)):
            raise bad(700024, "Client assertion is not within its valid time range. "
                      "Missing claim '%s'." % name)
    if claims["exp"] + skew <= now or claims["nbf"] - skew > now:
        raise bad(700024, "Client assertion is not within its valid time range. Current time: "
                  "%s, assertion valid from %s, expiry time of assertion %s." %
                  (iso(now), iso(claims["nbf"]), iso(claims["exp"])))
    jti = claims.get("jti")
    with peer.lock:
        if not jti or jti in peer.used_jti:
            raise bad(700025, "Client assertion contains a replayed or missing jti '%s'." % jti)
        peer.used_jti.add(jti)
    return alg


def verify_signature(peer, pubkey, alg, data, signature):
    """openssl dgst -verify (PSS with salt = digest length for PS256): stdlib has no RSA."""
    fd, sig_path = tempfile.mkstemp(dir=peer.workdir, suffix=".sig")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(signature)
        cmd = ["openssl", "dgst", "-sha256", "-verify", pubkey, "-signature", sig_path]
        if alg == "PS256":
            cmd[3:3] = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
        r = subprocess.run(cmd, input=data, capture_output=True)
        return r.returncode == 0
    finally:
        os.unlink(sig_path)


def register_certificate(peer, pem):
    """Registers a PEM certificate for assertions: thumbprints and its public key."""
    fd, cert_path = tempfile.mkstemp(dir=peer.workdir, suffix=".pem")
    with os.fdopen(fd, "w") as f:
        f.write(pem)
    der = subprocess.run(["openssl", "x509", "-in", cert_path, "-outform", "DER"],
                         capture_output=True)
    if der.returncode != 0:
        os.unlink(cert_path)
        raise GraphError(400, "Request_BadRequest",
                         "The certificate is not a PEM X.509 certificate.")
    pub_path = cert_path[:-4] + ".pub"
    subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey", "-out", pub_path],
                   check=True, capture_output=True)
    entry = {"sha1": b64url(hashlib.sha1(der.stdout).digest()),
             "sha256": b64url(hashlib.sha256(der.stdout).digest()), "pubkey": pub_path}
    with peer.lock:
        peer.certs.append(entry)
    return {"x5t": entry["sha1"], "x5t#S256": entry["sha256"]}


# ---- Graph: query options, pages, tokens -------------------------------------------------

class Query:
    """Query options with names case-insensitive and the '$' optional, as Graph reads them."""

    def __init__(self, query):
        self.items = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            self.items[k.lower().lstrip("$")] = v

    def get(self, name, default=None):
        return self.items.get(name, default)

    def has(self, name):
        return name in self.items


def parse_select(peer, kind, text):
    if text is None:
        return None
    names = [peer.canon(kind, s.strip()) for s in text.split(",") if s.strip()]
    return names or None


def page_size(peer, q, headers, allow_top):
    size = int(peer.config["page_size"])
    m = re.search(r"odata\.maxpagesize=(\d+)", headers.get("prefer", ""))
    if m:
        size = max(1, min(999, int(m.group(1))))
    if q.has("top"):
        if not allow_top:
            raise GraphError(400, "Request_UnsupportedQuery",
                             "The query option $top is not supported on delta queries.")
        top = q.get("top")
        if not re.fullmatch(r"-?\d+", top) or not 1 <= int(top) <= 999:
            raise GraphError(400, "Request_UnsupportedQuery", TOP_MSG.format(top))
        size = int(top)
    return size


def encode_token(payload):
    return b64url(dumps(payload))


def decode_token(text, want):
    try:
        t = json.loads(unb64url(text))
        if isinstance(t, dict) and t.get("t") == want:
            return t
    except (ValueError, UnicodeDecodeError):
        pass
    raise GraphError(400, "Request_BadRequest", "The token is not valid: '%s'." % text[:64])


def context_url(peer, version, kind, select, suffix=""):
    sel = "(%s)" % ",".join(select) if select else ""
    return "%s/%s/$metadata#%s%s%s" % (peer.graph_url, version, COLLECTION_OF[kind], sel, suffix)


def render(o, names, fill_null):
    """The object's properties `names` (id first); unset ones are null/[] only in reads."""
    out = {"id": o.id}
    p = o.props
    for n in names:
        if n == "id" or n == "members":
            continue
        if n in p:
            out[n] = p[n]
        elif fill_null:
            out[n] = [] if n in COLLECTIONS else None
    return out


# $filter on lists: the eq comparisons Graph serves without advanced query parameters
# (learn.microsoft.com/graph/aad-advanced-queries: "eq" on these properties is a default
# capability), joined with "and"; strings compare ignoring case, as the directory does.
LIST_FILTER_STRINGS = {
    "group": {"displayName", "mailNickname", "mail"},
    "user": {"displayName", "userPrincipalName", "mail", "mailNickname", "givenName", "surname",
             "jobTitle", "employeeId", "onPremisesImmutableId"},
}
LIST_FILTER_BOOLS = {"group": {"securityEnabled", "mailEnabled"}, "user": {"accountEnabled"}}
FILTER_CLAUSE = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)\s+eq\s+('(?:[^']|'')*'|true|false)\s*")


def parse_list_filter(peer, kind, text):
    """$filter=P eq 'v' [and …] on a users or groups list → [(property, value)], a string
    literal with its doubled quotes undone (OData ABNF: SQUOTE-in-string = SQUOTE SQUOTE)."""
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()):
        m = FILTER_CLAUSE.fullmatch(part)
        if not m:
            raise GraphError(400, "BadRequest", "Invalid filter clause")
        name, lit = peer.canon(kind, m.group(1)), m.group(2)
        is_str = lit.startswith("'")
        if name not in (LIST_FILTER_STRINGS if is_str else LIST_FILTER_BOOLS)[kind]:
            raise GraphError(400, "Request_UnsupportedQuery",
                             "Unsupported or invalid query filter clause specified for property "
                             "'%s' of resource '%s'." % (m.group(1), kind.capitalize()))
        clauses.append((name, lit[1:-1].replace("''", "'") if is_str else lit == "true"))
    return clauses


def filter_match(o, clauses):
    for name, want in clauses:
        have = o.props.get(name)
        if isinstance(want, str):
            if not isinstance(have, str) or have.casefold() != want.casefold():
                return False
        elif have is not want:
            return False
    return True


def list_page(peer, version, kind, base, q, headers, items_of, typed=False):
    """One page of a list: items_of(start) yields (position, object); skiptoken = position.
    typed: a directoryObjects list (group members), items carry @odata.type."""
    if q.has("skiptoken"):
        tok = decode_token(q.get("skiptoken"), "l")
        sel, size, start, flt = tok["sel"], tok["top"], tok["pos"], tok.get("flt")
    else:
        for opt in ("orderby", "expand", "search", "skip", "count") + (("filter",) if typed else ()):
            if q.has(opt):
                raise GraphError(400, "Request_UnsupportedQuery",
                                 "mvsync graph peer: $%s is not supported on this list." % opt)
        sel = parse_select(peer, kind, q.get("select"))
        size, start, flt = page_size(peer, q, headers, True), 0, q.get("filter")
    clauses = parse_list_filter(peer, kind, flt) if flt is not None else []
    value, nxt = [], None
    for pos, o in items_of(start):
        if clauses and not filter_match(o, clauses):
            continue
        if len(value) == size:
            nxt = pos
            break
        item = render(o, sel or DEFAULTS[o.kind], True)
        value.append(dict({"@odata.type": "#microsoft.graph." + o.kind}, **item) if typed else item)
    page = {"@odata.context": "%s/%s/$metadata#directoryObjects" % (peer.graph_url, version)
            if typed else context_url(peer, version, kind, sel)}
    if nxt is not None:
        page["@odata.nextLink"] = "%s?$skiptoken=%s" % (base, encode_token(
            {"t": "l", "sel": sel, "top": size, "pos": nxt, "flt": flt}))
    page["value"] = value
    return page


# ---- Graph: delta ---------------------------------------------------------------------------

def delta(peer, version, kind, base, q, headers):
    """GET /{users|groups}/delta: rounds over CSN ranges with skip and delta tokens (§1.4)."""
    minimal = "return=minimal" in headers.get("prefer", "").replace(" ", "")
    size = page_size(peer, q, headers, False)
    now = peer.now()
    stoken = q.get("skiptoken")
    dtoken = q.get("deltatoken")
    if (stoken or (dtoken and dtoken.lower() != "latest")) and \
            (q.has("select") or q.has("filter")):
        raise GraphError(400, "Request_BadRequest",
                         "mvsync graph peer: $select and $filter belong in the first request of "
                         "a round only; state tokens already carry them.")
    if stoken:
        cur = decode_token(stoken, "s")
        if cur["k"] != kind:
            raise GraphError(400, "Request_BadRequest", "The token is for another resource.")
    else:
        if dtoken and dtoken.lower() != "latest":
            tok = decode_token(dtoken, "d")
            if tok["k"] != kind:
                raise GraphError(400, "Request_BadRequest", "The token is for another resource.")
            if now - tok["iat"] > TOKEN_MAX_AGE_DAYS * 86400:
                raise GraphError(400, "syncStateNotFound",
                                 "The delta token has expired (older than %d days); "
                                 "start a new sync round." % TOKEN_MAX_AGE_DAYS)
            low, sel, ids = tok["csn"], tok["sel"], tok["ids"]
        else:
            low = 0
            sel = parse_select(peer, kind, q.get("select"))
            ids = parse_id_filter(q.get("filter"))
            for opt in ("expand", "orderby", "search", "count"):
                if q.has(opt):
                    raise GraphError(400, "Request_UnsupportedQuery",
                                     "The query option $%s is not supported on delta." % opt)
        if dtoken and dtoken.lower() == "latest":
            link = "%s?$deltatoken=%s" % (base, encode_token(
                {"t": "d", "k": kind, "csn": peer.csn, "sel": sel, "ids": ids, "iat": now}))
            return {"@odata.context": context_url(peer, version, kind, sel),
                    "@odata.deltaLink": link, "value": []}
        cur = {"t": "s", "k": kind, "low": low, "high": peer.csn, "sel": sel, "ids": ids,
               "iat": now, "pass": 0, "pos": 0, "moff": 0}
        if peer.config["empty_first_page"]:
            return {"@odata.context": context_url(peer, version, kind, sel),
                    "@odata.nextLink": "%s?$skiptoken=%s" % (base, encode_token(cur)),
                    "value": []}
    value, done = delta_entries(peer, kind, cur, size, minimal)
    page = {"@odata.context": context_url(peer, version, kind, cur["sel"])}
    if done:
        page["@odata.deltaLink"] = "%s?$deltatoken=%s" % (base, encode_token(
            {"t": "d", "k": kind, "csn": cur["high"], "sel": cur["sel"], "ids": cur["ids"],
             "iat": now}))
    else:
        page["@odata.nextLink"] = "%s?$skiptoken=%s" % (base, encode_token(cur))
    page["value"] = value
    return page


def round_query(q):
    """The first-request query of the round a token belongs to (for a 410's Location)."""
    text = q.get("deltatoken") or q.get("skiptoken")
    if text and text.lower() != "latest":
        try:
            tok = json.loads(unb64url(text))
            sel, ids = tok.get("sel"), tok.get("ids")
        except (ValueError, UnicodeDecodeError, AttributeError):
            sel = ids = None
    else:
        sel, ids = q.get("select"), q.get("filter")
        sel, ids = (sel.split(",") if sel else None), (parse_id_filter(ids) if ids else None)
    out = ""
    if sel:
        out += "$select=%s&" % quote(",".join(sel), safe=",")
    if ids:
        out += "$filter=%s&" % quote(" or ".join("id eq '%s'" % i for i in ids), safe="'")
    return out


def parse_id_filter(text):
    if text is None:
        return None
    parts = re.split(r"\s+or\s+", text.strip())
    ids = []
    for p in parts:
        m = re.fullmatch(r"id\s+eq\s+'([^']*)'", p.strip())
        if not m:
            raise GraphError(400, "Request_UnsupportedQuery",
                             "Unsupported filter on delta: only \"id eq '…'\" joined with 'or'.")
        ids.append(m.group(1))
    if len(ids) > MAX_FILTER_IDS:
        raise GraphError(400, "Request_UnsupportedQuery",
                         "Too many filter ids: %d; at most %d are allowed."
                         % (len(ids), MAX_FILTER_IDS))
    return ids


def delta_entries(peer, kind, cur, size, minimal):
    """Fills one page from cursor cur (updated in place); returns (entries, round_done)."""
    if cur["ids"] is not None:
        seq = [peer.objects[i] for i in cur["ids"] if i in peer.objects
               and peer.objects[i].kind == kind]
    else:
        seq = peer.order[kind]
    low, sel = cur["low"], cur["sel"]
    want_members = kind == "group" and sel is not None and "members" in sel
    split = max(1, int(peer.config["member_split"]))
    out = []
    while True:
        while cur["pos"] < len(seq) and len(out) < size:
            o = seq[cur["pos"]]
            if not changed_since(o, low, sel, want_members):
                cur["pos"] += 1
                continue
            entry = delta_entry(o, low, sel, minimal)
            if entry is None:
                cur["pos"] += 1
                continue
            members = member_changes(peer, o, low) if want_members and "@removed" not in entry \
                else []
            if not members:
                out.append(entry)
                cur["pos"] += 1
                continue
            while cur["moff"] < len(members) and len(out) < size:
                chunk = members[cur["moff"]:cur["moff"] + split]
                e = entry if cur["moff"] == 0 or not minimal else {"id": o.id}
                out.append(dict(e, **{"members@delta": chunk}))
                cur["moff"] += split
            if cur["moff"] >= len(members):
                cur["pos"] += 1
                cur["moff"] = 0
        if len(out) >= size and not (cur["pos"] >= len(seq)):
            return out, False
        if cur["pos"] >= len(seq):
            if cur["pass"] < int(peer.config["replay"]):
                cur["pass"] += 1
                cur["pos"] = cur["moff"] = 0
                if len(out) >= size:
                    return out, False
                continue
            return out, True
        return out, False


def changed_since(o, low, sel, want_members):
    if o.lcsn <= low:
        return False
    if low == 0 or o.scsn > low:
        return True
    if want_members and o.mcsn > low:
        return True
    names = sel if sel is not None else o.props.keys()
    return any(o.prop_csn(n) > low for n in names if n in o.props or n in o.pcsn)


def delta_entry(o, low, sel, minimal):
    if o.state != "active":
        if low and o.scsn <= low:
            return None
        return {"id": o.id, "@removed": {"reason": "changed" if o.state == "soft" else "deleted"}}
    names = sel if sel is not None else DEFAULTS[o.kind]
    fresh = low == 0 or o.scsn > low
    entry = {"id": o.id}
    for n in names:
        if n in ("id", "members") or n not in o.props:
            continue
        if minimal and not fresh and o.prop_csn(n) <= low:
            continue
        entry[n] = o.props[n]
    return entry


def member_changes(peer, g, low):
    """members@delta items since low (all current members for a new object); cached per round."""
    key = (g.id, low, g.mcsn, g.scsn)
    hit = peer.member_cache.get(key)
    if hit is not None:
        return hit
    objs = peer.objects
    fresh = low == 0 or g.scsn > low
    items = []
    for mid, csn in g.members.items():
        if fresh or csn > low:
            items.append({"@odata.type": "#microsoft.graph." + objs[mid].kind, "id": mid})
    if not fresh:
        for mid, csn in g.removed.items():
            if csn > low:
                items.append({"@odata.type": "#microsoft.graph." + objs[mid].kind, "id": mid,
                              "@removed": {"reason": "deleted"}})
    if len(peer.member_cache) > 64:
        peer.member_cache.clear()
    peer.member_cache[key] = items
    return items


# ---- Graph: writes --------------------------------------------------------------------------

def json_body(body):
    try:
        obj = json.loads(body or b"null")
    except ValueError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                         "Content-Type header is set and payload is of valid JSON format.")
    if not isinstance(obj, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                         "Content-Type header is set and payload is of valid JSON format.")
    return obj


def ref_id(url):
    """The object id at the end of an @odata.id / @odata.bind URL."""
    if not isinstance(url, str):
        raise GraphError(400, "Request_BadRequest", "Invalid object identifier '%s'." % url)
    m = re.search(r"/(?:directoryObjects|users|groups)/([^/?#]+)$", url) or \
        re.fullmatch(r"([0-9a-fA-F-]{36})", url)
    if not m:
        raise GraphError(400, "Request_BadRequest", "Invalid object identifier '%s'." % url)
    return unquote(m.group(1))


def check_nickname(value):
    if not isinstance(value, str) or not value or len(value) > 64 or \
            any(ord(c) > 127 or c in NICKNAME_FORBIDDEN for c in value):
        raise GraphError(400, "Request_BadRequest",
                         "Invalid value specified for property 'mailNickname' of resource 'Group'.")


def bind_members(peer, g, body):
    """members@odata.bind: at most 20, all resolve and none is already a member, or none added."""
    urls = body.get("members@odata.bind")
    if urls is None:
        return []
    if not isinstance(urls, list) or len(urls) > MAX_BIND:
        raise GraphError(400, "Request_BadRequest",
                         "The request contains more than %d references in 'members@odata.bind'; "
                         "at most %d are allowed per request." % (MAX_BIND, MAX_BIND))
    members = []
    for u in urls:
        mid = ref_id(u)
        m = peer.get(mid)
        if m is None:
            raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(mid))
        if (g is not None and m.id in g.members) or m in members:
            raise GraphError(400, "Request_BadRequest", DUPLICATE_MSG)
        members.append(m)
    return members


def refuse_dynamic(g):
    if "DynamicMembership" in (g.props.get("groupTypes") or []):
        raise GraphError(400, "Request_BadRequest",
                         "Insufficient privileges to complete the operation. Members of a group "
                         "with dynamic membership cannot be added or removed.")


def create_group(peer, body):
    for req in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
        if body.get(req) is None:
            raise GraphError(400, "Request_BadRequest",
                             "A value is required for property '%s' of resource 'Group'." % req)
    check_nickname(body["mailNickname"])
    types = body.get("groupTypes") or []
    if body["mailEnabled"] and "Unified" not in types:
        raise GraphError(400, "Request_BadRequest",
                         "Only Microsoft 365 groups and security groups can be created: a "
                         "mail-enabled group needs groupTypes [\"Unified\"].")
    if not body["mailEnabled"] and not body["securityEnabled"]:
        raise GraphError(400, "Request_BadRequest",
                         "Only Microsoft 365 groups and security groups can be created.")
    owners = body.get("owners@odata.bind") or []
    if len(owners) > MAX_BIND:
        raise GraphError(400, "Request_BadRequest",
                         "At most %d owners can be added in one request." % MAX_BIND)
    check_group_props(peer, body)
    members = bind_members(peer, None, body)
    props = {k: v for k, v in body.items() if "@" not in k and k not in ("id",)}
    g = peer.create("group", props)
    for m in members:
        peer.add_member(g, m)
    return g


def undeclared(name):
    return GraphError(400, "Request_BadRequest", "Property '%s' does not exist as a declared "
                      "property or extension property." % name)


def check_group_props(peer, body):
    for k in body:
        if "@" in k:
            continue
        if peer.canon("group", k) in GROUP_READ_ONLY:
            raise GraphError(400, "Request_BadRequest",
                             "Property '%s' is read-only and cannot be set." % k)
        if k in USER_ONLY:
            raise undeclared(k)


def check_user_props(peer, o, body):
    """A user write: read-only and undeclared properties refused; userPrincipalName and
    onPremisesImmutableId unique (ignoring case, as the directory compares them)."""
    for k, v in body.items():
        if k in USER_READ_ONLY:
            raise GraphError(400, "Request_BadRequest",
                             "Property '%s' is read-only and cannot be set." % k)
        if k not in USER_WRITABLE:
            raise undeclared(k)
    if "displayName" in body and not body["displayName"]:
        raise GraphError(400, "Request_BadRequest",
                         "Invalid value specified for property 'displayName' of resource 'User'.")
    for k, shown in (("userPrincipalName", "userPrincipalName"),
                     ("onPremisesImmutableId", "immutableId")):
        v = body.get(k)
        if not isinstance(v, str):
            continue
        if any(x is not o and x.kind == "user" and x.state == "active" and
               str(x.props.get(k, "")).lower() == v.lower() for x in peer.objects.values()):
            raise GraphError(400, "Request_BadRequest",
                             "Another object with the same value for property %s already "
                             "exists." % shown)
    upn = body.get("userPrincipalName")
    if upn is not None and (not isinstance(upn, str) or upn.count("@") != 1 or
                            upn.split("@")[1].lower() != peer.config["domain"].lower()):
        raise GraphError(400, "Request_BadRequest",
                         "The domain portion of the userPrincipalName property is invalid. You "
                         "must use one of the verified domain names in your organization.")


def user_props(o_props, body):
    """The properties a user write stores: the password is never kept (Graph never returns
    it); mail also puts its SMTP address first in proxyAddresses, the former primary kept
    as a secondary (user resource, mail: "Changes to this property will also update the
    user's proxyAddresses collection to include the value as an SMTP address")."""
    props = {k: v for k, v in body.items() if "@" not in k and k != "passwordProfile"}
    if isinstance(body.get("mail"), str):
        kept = ["smtp:" + a[5:] if a.startswith("SMTP:") else a
                for a in (o_props.get("proxyAddresses") or [])
                if a.lower() != "smtp:" + body["mail"].lower()]
        props["proxyAddresses"] = ["SMTP:" + body["mail"]] + kept
    return props


def create_user(peer, body):
    for req in USER_REQUIRED:
        if body.get(req) is None:
            raise GraphError(400, "Request_BadRequest",
                             "A value is required for property '%s' of resource 'User'." % req)
    profile = body["passwordProfile"]
    if not isinstance(profile, dict) or not profile.get("password"):
        raise GraphError(400, "Request_BadRequest",
                         "A value is required for property 'passwordProfile' of resource "
                         "'User'.")
    check_user_props(peer, None, body)
    props = user_props({}, body)
    props["createdDateTime"] = iso(peer.now())
    return peer.create("user", props, str(uuid.uuid4()))


def patch_object(peer, o, body):
    if o.props.get("onPremisesSyncEnabled") is True:
        raise GraphError(400, "Request_BadRequest",
                         "Unable to update the specified properties for on-premises mastered "
                         "Directory Sync objects or objects currently undergoing migration.")
    if o.kind == "user":
        check_user_props(peer, o, body)
        body = user_props(o.props, body)
    if o.kind == "group":
        check_group_props(peer, body)
        if "mailNickname" in body:
            check_nickname(body["mailNickname"])
        if "members@odata.bind" in body:
            refuse_dynamic(o)
    members = bind_members(peer, o, body) if o.kind == "group" else []
    peer.update(o, {k: v for k, v in body.items() if "@" not in k})
    for m in members:
        peer.add_member(o, m)


# ---- Graph: the router (top-level requests and $batch items) --------------------------------

def route(peer, version, method, path, query, headers, body, base):
    """Serves one Graph request under /{version}; returns (status, extra headers, JSON or None)."""
    segs = [unquote(s) for s in path.split("/") if s]
    q = Query(query)
    coll = segs[0] if segs else ""
    kind = KIND_OF.get(coll)
    if coll == "contacts" and method == "POST" and len(segs) == 1:
        # orgContact: "read-only in Microsoft Graph" (List and Get only).
        raise GraphError(405, "Request_BadRequest",
                         "The HTTP method 'POST' is not allowed for this resource.")
    if coll == "devices" and method == "POST" and len(segs) == 1:
        # Create device: application permissions "Not supported"; the peer issues app tokens.
        raise GraphError(403, "Authorization_RequestDenied",
                         "Insufficient privileges to complete the operation.")
    if kind is None:
        raise GraphError(400, "BadRequest", "Resource not found for the segment '%s'." % coll)
    base_coll = "%s/%s/%s" % (base, version, coll)
    with peer.lock:
        if len(segs) == 1:
            if method == "GET":
                order = peer.order[kind]

                def items(start):
                    for i in range(start, len(order)):
                        if order[i].state == "active":
                            yield i, order[i]
                return 200, {}, list_page(peer, version, kind, base_coll, q, headers, items)
            if method == "POST" and kind == "user":
                u = create_user(peer, json_body(body))
                out = {"@odata.context": context_url(peer, version, kind, None, "/$entity")}
                out.update(render(u, USER_DEFAULT, True))
                location = "%s/%s/directoryObjects/%s/Microsoft.DirectoryServices.User" % (
                    base, version, u.id)
                return 201, {"Location": location}, out
            if method == "POST" and kind == "group":
                g = create_group(peer, json_body(body))
                out = {"@odata.context": context_url(peer, version, kind, None, "/$entity")}
                out.update(render(g, GROUP_DEFAULT, True))
                location = "%s/%s/directoryObjects/%s/Microsoft.DirectoryServices.Group" % (
                    base, version, g.id)
                return 201, {"Location": location}, out
            raise GraphError(405, "Request_BadRequest",
                             "The HTTP method '%s' is not allowed for this resource." % method)
        if segs[1] in ("delta", "microsoft.graph.delta") and len(segs) == 2:
            if method != "GET":
                raise GraphError(405, "Request_BadRequest", "Delta only supports GET.")
            return 200, {}, delta(peer, version, kind, "%s/%s" % (base_coll, segs[1]), q, headers)
        o = peer.get(segs[1], (kind,))
        if o is None:
            raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(segs[1]))
        if len(segs) == 2:
            if method == "GET":
                sel = parse_select(peer, kind, q.get("select"))
                out = {"@odata.context": context_url(peer, version, kind, sel, "/$entity")}
                out.update(render(o, sel or DEFAULTS[kind], True))
                return 200, {}, out
            if method == "PATCH":
                patch_object(peer, o, json_body(body))
                return 204, {}, None
            if method == "DELETE":
                peer.soft_delete(o)
                return 204, {}, None
            raise GraphError(405, "Request_BadRequest",
                             "The HTTP method '%s' is not allowed for this resource." % method)
        if kind != "group" or segs[2] != "members":
            raise GraphError(400, "BadRequest",
                             "Resource not found for the segment '%s'." % segs[2])
        rest = segs[3:]
        if not rest and method == "GET":
            order = list(o.members)

            def items(start):
                for i in range(start, len(order)):
                    m = peer.objects.get(order[i])
                    if m is not None and m.state == "active":
                        yield i, m
            return 200, {}, list_page(peer, version, "user", "%s/%s/members" % (base_coll, o.id),
                                      q, headers, items, typed=True)
        if rest == ["$ref"] and method == "POST":
            refuse_dynamic(o)
            mid = ref_id(json_body(body).get("@odata.id"))
            m = peer.get(mid)
            if m is None:
                raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(mid))
            if not peer.add_member(o, m):
                raise GraphError(400, "Request_BadRequest", DUPLICATE_MSG)
            return 204, {}, None
        if len(rest) == 2 and rest[1] == "$ref" and method == "DELETE":
            refuse_dynamic(o)
            if not peer.remove_member(o, rest[0]):
                raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(rest[0]))
            return 204, {}, None
        if len(rest) == 1 and method == "DELETE":
            raise GraphError(400, "Request_BadRequest",
                             "mvsync graph peer refuses DELETE /groups/{id}/members/{id} without "
                             "/$ref: on Graph it deletes the member object itself.")
        raise GraphError(400, "BadRequest", "Resource not found for the segment '%s'."
                         % "/".join(rest or ["members"]))


def error_body(code, message, request_id, client_request_id, date):
    return {"error": {"code": code, "message": message,
                      "innerError": {"date": date, "request-id": request_id,
                                     "client-request-id": client_request_id}}}


def throttle_body(request_id, client_request_id, date):
    return {"error": {"code": "TooManyRequests", "message": "Please retry again later.",
                      "innerError": {"code": "429", "date": date, "message": "Please retry after",
                                     "request-id": request_id, "status": "429",
                                     "client-request-id": client_request_id}}}


def status_fault(peer, fault, request_id, client_request_id):
    """The response of a status-producing fault: (status, headers, body)."""
    kind = fault["kind"]
    date = error_date()
    headers = {}
    if "retry_after" in fault:
        headers["Retry-After"] = str(fault["retry_after"])
    elif "retry_after_date" in fault:
        headers["Retry-After"] = email.utils.formatdate(
            time.time() + float(fault["retry_after_date"]), usegmt=True)
    if kind == "429":
        headers.update({"x-ms-throttle-scope": "Tenant_Application/ReadWrite/%s/%s" %
                        (peer.client_id, peer.tenant),
                        "x-ms-throttle-information": "ResourceUnitLimitExceeded",
                        "x-ms-resource-unit": "1"})
        return 429, headers, throttle_body(request_id, client_request_id, date)
    table = {"503": (503, "serviceNotAvailable", "Service Unavailable. Please retry later."),
             "504": (504, "gatewayTimeout", "The gateway did not receive a timely response."),
             "expired-token": (401, "InvalidAuthenticationToken",
                               "Lifetime validation failed, the token is expired."),
             "sync-state-not-found": (400, "syncStateNotFound",
                                      "The sync state generation is invalid or not found.")}
    if kind in table:
        status, code, message = table[kind]
        return status, headers, error_body(code, message, request_id, client_request_id, date)
    raise ValueError(kind)


STATUS_FAULTS = {"429", "503", "504", "expired-token", "sync-state-not-found"}
FAULT_KINDS = STATUS_FAULTS | {"drop", "truncate", "cut", "resync", "foreign-next-link", "delay",
                               "ctrl-delta-link"}


def take_fault(peer, method, path, where):
    """Consumes the first queued fault matching method + path prefix (+ where)."""
    with peer.lock:
        for f in peer.faults:
            if f["method"] not in ("*", method) or not path.startswith(f["path"]):
                continue
            if f["where"] not in ("any", where):
                continue
            if where == "batch" and f["kind"] not in STATUS_FAULTS:
                continue
            if f["skip"] > 0:
                f["skip"] -= 1
                continue
            f["count"] -= 1
            f["hits"] += 1
            if f["count"] <= 0:
                peer.faults.remove(f)
            return dict(f)
    return None


def batch(peer, version, headers, body, base, auth_header, log_items):
    """POST /$batch: ≤20 unique ids, Content-Type with bodies, dependsOn, shuffled responses."""
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        doc = None
    reqs = doc.get("requests") if isinstance(doc, dict) else None
    if not isinstance(reqs, list) or not reqs or \
            not all(isinstance(r, dict) and isinstance(r.get("id"), str) and r.get("id")
                    and isinstance(r.get("method"), str) and isinstance(r.get("url"), str)
                    and isinstance(r.get("headers", {}), dict)
                    and isinstance(r.get("dependsOn", []), list)
                    and all(isinstance(d, str) for d in r.get("dependsOn", []))
                    for r in reqs):
        raise GraphError(400, "BadRequest", "Invalid batch payload format.")
    if len(reqs) > MAX_BATCH:
        raise GraphError(400, "BadRequest",
                         "The number of batch requests exceeds the limit of %d." % MAX_BATCH)
    seen = set()
    for r in reqs:
        rid = r["id"].lower()
        if rid in seen:
            raise GraphError(400, "BadRequest", "Batch request ids must be unique: '%s' is "
                             "repeated." % r["id"])
        seen.add(rid)
        hdrs = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        if "body" in r and "content-type" not in hdrs:
            raise GraphError(400, "BadRequest", "Content-Type header must be specified for "
                             "request '%s' with a body." % r["id"])
        for d in r.get("dependsOn") or []:
            if d.lower() not in seen:
                raise GraphError(400, "BadRequest", "Request '%s' depends on '%s', which is not "
                                 "an earlier request of the batch." % (r["id"], d))
    status_of = {}
    responses = []
    for r in reqs:
        rid = r["id"]
        item_rid = str(uuid.uuid4())
        hdrs = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        url = r["url"] if r["url"].startswith("/") else "/" + r["url"]
        path, _, query = url.partition("?")
        method = r["method"].upper()
        fault = None
        item_crid = hdrs.get("client-request-id", item_rid)
        if any(status_of.get(d.lower(), 200) >= 400 for d in r.get("dependsOn") or []):
            status, extra, out = 424, {}, error_body(
                "FailedDependency", "The request depends on a request of the batch that failed.",
                item_rid, item_crid, error_date())
        elif re.match(r"https?://", r["url"]) or path.lstrip("/").startswith("$batch"):
            status, extra, out = 400, {}, error_body(
                "BadRequest", "Batch item URLs are relative to /%s and cannot be a batch." %
                version, item_rid, item_crid, error_date())
        else:
            fault = take_fault(peer, method, "/%s%s" % (version, path), "batch")
            if fault is not None:
                status, extra, out = status_fault(peer, fault, item_rid, item_crid)
                if fault["kind"] == "expired-token":
                    with peer.lock:
                        peer.expire_bearer(auth_header)
            else:
                raw = r.get("body")
                try:
                    if isinstance(raw, str) and "json" not in hdrs.get("content-type", ""):
                        try:
                            raw = base64.b64decode(raw, validate=True)
                        except ValueError:
                            raise GraphError(400, "BadRequest", "The body is neither JSON nor "
                                             "base64.")
                    elif raw is not None:
                        raw = dumps(raw)
                    status, extra, out = route(peer, version, method, path, query, hdrs, raw, base)
                except GraphError as e:
                    status, extra = e.status, e.headers
                    out = error_body(e.code, e.message, item_rid, item_crid, error_date())
        status_of[rid.lower()] = status
        item_headers = {"Cache-Control": "no-cache"}
        if out is not None:
            item_headers["Content-Type"] = ODATA_JSON
        item_headers.update(extra)
        responses.append({"id": rid, "status": status, "headers": item_headers, "body": out})
        log_items.append({"id": rid, "method": method, "url": url, "status": status,
                          "fault": fault["kind"] if fault else None})
    if peer.config["batch_shuffle"]:
        with peer.lock:
            peer.rng.shuffle(responses)
    return {"responses": responses}


# ---- control API (/_fake/) ------------------------------------------------------------------

def control(peer, method, path, query, body):
    """The /_fake/ control API: returns (status, JSON)."""
    segs = [unquote(s) for s in path.split("/") if s][1:]
    q = Query(query)
    doc = json.loads(body) if body else {}
    with peer.lock:
        if segs == ["reset"] and method == "POST":
            certs = peer.certs
            peer.reset()
            peer.certs = certs
            return 200, {"ok": True}
        if segs == ["config"]:
            if method == "POST":
                unknown = set(doc) - set(DEFAULT_CONFIG)
                if unknown:
                    return 400, {"error": "unknown config keys: %s" % sorted(unknown)}
                peer.config.update(doc)
                if "seed" in doc:
                    peer.rng = random.Random(doc["seed"])
            return 200, dict(peer.config)
        if segs == ["clock"]:
            if method == "POST":
                peer.clock_offset += float(doc.get("advance", 0))
            return 200, {"now": peer.now(), "iso": iso(peer.now(), True),
                         "offset": peer.clock_offset}
        if segs == ["faults"]:
            if method == "POST":
                added = []
                for f in doc.get("faults", [doc]) if isinstance(doc, dict) else doc:
                    added.append(add_fault(peer, f))
                return 200, {"faults": added}
            if method == "DELETE":
                peer.faults = []
            return 200, {"faults": [dict(f) for f in peer.faults]}
        if segs == ["certificates"] and method == "POST":
            return 200, register_certificate(peer, doc["pem"])
        if segs == ["generate"] and method == "POST":
            return 200, generate(peer, doc)
        if segs == ["seed"] and method == "POST":
            return 200, seed(peer, doc)
        if segs == ["state"] and method == "GET":
            return 200, state_dump(peer, q)
        if segs and segs[0] in ("users", "groups"):
            return object_control(peer, method, KIND_OF[segs[0]], segs[1:], doc)
        if segs and segs[0] == "objects" and len(segs) == 2 and method == "GET":
            o = peer.objects.get(segs[1])
            return (200, dump_object(o)) if o else (404, {"error": "no such object"})
    if segs == ["log"] and method == "GET":
        since = int(q.get("since", "0"))
        with peer.log_lock:
            return 200, {"requests": [e for e in peer.log if e["seq"] > since]}
    if segs in (["log", "reset"], ["log"]) and method in ("POST", "DELETE"):
        with peer.log_lock:
            peer.log = []
        return 200, {"ok": True}
    return 404, {"error": "unknown control call %s %s" % (method, path)}


def add_fault(peer, f):
    kind = str(f.get("kind", "")).replace("_", "-")
    if kind not in FAULT_KINDS:
        raise GraphError(400, "BadRequest", "unknown fault kind '%s'" % f.get("kind"))
    if not isinstance(f.get("path"), str) or not f["path"].startswith("/"):
        raise GraphError(400, "BadRequest", "a fault needs a path prefix, e.g. /v1.0/users/delta")
    fault = {"kind": kind, "method": f.get("method", "*").upper(), "path": f["path"],
             "count": int(f.get("count", 1)), "skip": int(f.get("skip", 0)),
             "where": f.get("where", "any"), "hits": 0}
    for k in ("retry_after", "retry_after_date", "seconds", "location"):
        if k in f:
            fault[k] = f[k]
    peer.faults.append(fault)
    return fault


def object_control(peer, method, kind, rest, doc):
    if not rest and method == "POST":
        items = doc.get("value", [doc]) if isinstance(doc, dict) else doc
        made = [create_seeded(peer, kind, item) for item in items]
        return 200, {"value": [dump_object(o) for o in made]}
    o = peer.objects.get(rest[0]) if rest else None
    if o is None or o.kind != kind:
        return 404, {"error": "no such %s" % kind}
    action = rest[1] if len(rest) > 1 else None
    if action is None and method == "GET":
        return 200, dump_object(o)
    if action is None and method == "PATCH":
        peer.update(o, doc)
        return 200, dump_object(o)
    if method == "POST" and action in ("soft-delete", "delete", "hard-delete", "restore"):
        {"soft-delete": peer.soft_delete, "delete": peer.soft_delete,
         "hard-delete": peer.hard_delete, "restore": peer.restore}[action](o)
        return 200, dump_object(o)
    if method == "POST" and action == "members" and kind == "group":
        for mid in doc.get("add", []):
            m = peer.objects.get(mid)
            if m is None or m.state != "active":
                return 404, {"error": "no such member %s" % mid}
            peer.add_member(o, m)
        for mid in doc.get("remove", []):
            peer.remove_member(o, mid)
        return 200, dump_object(o, members=True)
    return 404, {"error": "unknown control call %s %s" % (method, "/".join(rest))}


def create_seeded(peer, kind, item):
    o = peer.create(kind, item)
    if kind == "group":
        for mid in item.get("members", []):
            m = peer.objects.get(mid)
            if m is None:
                raise GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(mid))
            peer.add_member(o, m)
    return o


def seed(peer, doc):
    users = [create_seeded(peer, "user", u) for u in doc.get("users", [])]
    groups = [create_seeded(peer, "group", g) for g in doc.get("groups", [])]
    return {"users": [o.id for o in users], "groups": [o.id for o in groups], "csn": peer.csn}


def generate(peer, doc):
    """Bulk data: N users, M security groups of K members, optional large groups; fast."""
    t0 = time.time()
    # Without an explicit seed, each call draws one from the peer's seeded generator: runs stay
    # reproducible and a second call does not repeat the first call's ids.
    rng = random.Random(doc["seed"] if "seed" in doc else peer.rng.getrandbits(64))
    n, m = int(doc.get("users", 0)), int(doc.get("groups", 0))
    k = int(doc.get("members_per_group", 0))
    onprem = float(doc.get("onprem_fraction", 0.5))
    prefix = doc.get("prefix", "gen")
    domain = peer.config["domain"]
    depts = ["Finance", "Sales", "Engineering", "Marketing", "Support", "Legal"]
    types = ["Employee", "Employee", "Employee", "Contractor"]
    users = []
    for i in range(n):
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        name = "%s.user%06d" % (prefix, i)
        props = {"displayName": "%s User %06d" % (prefix.title(), i), "givenName": "User",
                 "surname": "%06d" % i, "userPrincipalName": "%s@%s" % (name, domain),
                 "mail": "%s@%s" % (name, domain), "mailNickname": name,
                 "department": depts[i % len(depts)], "employeeType": types[i % len(types)],
                 "jobTitle": "Staff", "accountEnabled": True}
        if rng.random() < onprem:
            props["onPremisesSyncEnabled"] = True
            props["onPremisesObjectIdentifier"] = str(uuid.UUID(int=rng.getrandbits(128),
                                                                version=4))
        users.append(peer.create("user", props, uid))
    groups = []
    sizes = [k] * m + [int(s) for s in doc.get("large_groups", [])]
    for j, size in enumerate(sizes):
        gid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        nick = "%sgroup%05d" % (prefix, j)
        g = peer.create("group", {"displayName": "%s Group %05d" % (prefix.title(), j),
                                  "description": "Generated group %d" % j, "mailNickname": nick,
                                  "securityEnabled": True, "mailEnabled": False,
                                  "groupTypes": []}, gid)
        if users and size:
            for u in rng.sample(users, min(size, len(users))):
                peer.add_member(g, u)
        groups.append(g)
    return {"users": len(users), "groups": len(groups),
            "memberships": sum(len(g.members) for g in groups), "csn": peer.csn,
            "first_user": users[0].id if users else None,
            "first_group": groups[0].id if groups else None,
            "large_groups": [g.id for g in groups[m:]], "seconds": round(time.time() - t0, 3)}


def dump_object(o, members=True):
    # Copies: the reply is serialized after the lock is released.
    out = {"id": o.id, "kind": o.kind, "state": o.state, "csn": o.lcsn, "props": dict(o.props)}
    if o.kind == "group" and members:
        out["members"] = list(o.members)
    return out


def state_dump(peer, q):
    members = q.get("members", "1") != "0"
    return {"csn": peer.csn, "now": peer.now(),
            "users": [dump_object(o) for o in peer.order["user"]],
            "groups": [dump_object(o, members) for o in peer.order["group"]]}


# ---- HTTP ------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mvsync-graph-peer"
    timeout = 300

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.serve()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_GET

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def serve(self):
        peer, origin = self.server.peer, self.server.origin
        t_start = time.time()
        body = self.read_body()
        method = self.command
        split = urlsplit(self.path)
        path, query = split.path, split.query
        headers = {k.lower(): v for k, v in self.headers.items()}
        request_id = str(uuid.uuid4())
        client_rid = headers.get("client-request-id") or request_id
        entry = {"origin": origin, "port": self.server.server_address[1], "method": method,
                 "url": "https://127.0.0.1:%d%s" % (self.server.server_address[1], self.path),
                 "path": path, "query": query, "auth": "authorization" in headers,
                 "auth_scheme": headers.get("authorization", "").split(" ")[0] or None,
                 "client_request_id": headers.get("client-request-id"),
                 "prefer": headers.get("prefer"), "fault": None, "t_start": t_start}
        if origin == "graph" and path.startswith("/_fake/"):
            try:
                status, out = control(peer, method, path, query, body)
            except GraphError as e:
                status, out = e.status, {"error": e.message}
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                status, out = 400, {"error": "%s: %s" % (type(e).__name__, e)}
            self.send(status, {"Content-Type": "application/json"}, dumps(out))
            return
        status, extra, out, action = 500, {}, None, None
        content_type = ODATA_JSON
        try:
            fault = take_fault(peer, method, path, "top") if origin != "foreign" else None
            if fault is not None:
                entry["fault"] = fault["kind"]
                action = fault
            if fault is not None and fault["kind"] == "drop":
                entry.update(status=None, t_end=time.time())
                self.record(entry)
                self.close_connection = True
                return
            if fault is not None and fault["kind"] == "delay":
                time.sleep(float(fault.get("seconds", 1)))
            if origin == "login" and fault is not None and fault["kind"] in STATUS_FAULTS:
                content_type = LOGIN_JSON
                status, extra, _ = status_fault(peer, fault, request_id, client_rid)
                out = aad_error(AuthError(status, "temporarily_unavailable", 50196,
                                          "The server is temporarily unavailable."),
                                request_id, client_rid)
            elif origin == "login":
                content_type = LOGIN_JSON
                status, out = self.login(peer, method, path, headers, body, entry)
            elif fault is not None and fault["kind"] in STATUS_FAULTS:
                status, extra, out = status_fault(peer, fault, request_id, client_rid)
                if fault["kind"] == "expired-token":
                    with peer.lock:
                        peer.expire_bearer(headers.get("authorization"))
            else:
                status, extra, out = self.graph(peer, origin, method, path, query, headers, body,
                                                entry, fault)
        except GraphError as e:
            status, extra = e.status, e.headers
            out = error_body(e.code, e.message, request_id, client_rid, error_date())
        except AuthError as e:
            content_type = LOGIN_JSON
            status, out = e.status, aad_error(e, request_id, client_rid)
        except Exception:  # a peer bug: answer like Graph's 500 and keep serving
            traceback.print_exc()
            status, extra = 500, {}
            out = error_body("generalException", "mvsync graph peer: internal error (see its "
                             "log).", request_id, client_rid, error_date())
        data = dumps(out) if out is not None else b""
        headers_out = {"Content-Type": content_type} if out is not None else {}
        headers_out.update({"request-id": request_id, "client-request-id": client_rid,
                            "Cache-Control": "no-cache",
                            "Strict-Transport-Security": "max-age=31536000",
                            "x-ms-ags-diagnostic": '{"ServerInfo":{"DataCenter":"Local",'
                            '"Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"peer"}}'})
        headers_out.update(extra)
        if action is not None and action["kind"] == "truncate" and data:
            data = data[:max(1, len(data) // 2)]
        entry.update(status=status, bytes=len(data))
        if action is not None and action["kind"] == "cut" and data:
            entry["t_end"] = time.time()
            self.record(entry)
            self.send(status, headers_out, data[:len(data) // 2], length=len(data))
            self.close_connection = True
            return
        entry["t_end"] = time.time()
        self.record(entry)
        self.send(status, headers_out, data)

    def login(self, peer, method, path, headers, body, entry):
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if not m or method != "POST":
            raise AuthError(404, "invalid_request", 900561,
                            "The endpoint only accepts POST requests to "
                            "/{tenant}/oauth2/v2.0/token.")
        out, how = token_endpoint(peer, unquote(m.group(1)), headers, body)
        entry["token_auth"] = how
        return 200, out

    def graph(self, peer, origin, method, path, query, headers, body, entry, fault):
        m = re.match(r"/(v1\.0|beta)(/.*)?$", path)
        if origin == "foreign":
            if not m or method != "GET":
                return 200, {}, {}
        elif not m:
            raise GraphError(400, "BadRequest", "Invalid version: '%s'." % path.split("/")[1:2])
        version, rest = m.group(1), m.group(2) or "/"
        base = peer.foreign_url if origin == "foreign" else peer.graph_url
        if origin == "graph":
            with peer.lock:
                peer.check_bearer(headers.get("authorization"))
        if fault is not None and fault["kind"] == "resync":
            kind = KIND_OF.get(rest.strip("/").split("/")[0])
            seg = rest.strip("/").split("/")
            if kind and len(seg) == 2 and seg[1] in ("delta", "microsoft.graph.delta"):
                loc = "%s/%s/%s/%s?%s$deltatoken=" % (base, version, COLLECTION_OF[kind], seg[1],
                                                      round_query(Query(query)))
                raise GraphError(410, "resyncRequired", "Resync required. Replace any local "
                                 "cached copies of the data with a full synchronization.",
                                 {"Location": fault.get("location", loc)})
        if rest.strip("/") in ("$batch", "%24batch") and method == "POST":
            items = []
            out = batch(peer, version, headers, body, base, headers.get("authorization"), items)
            entry["batch_items"] = items
            return 200, {}, out
        status, extra, out = route(peer, version, method, rest, query, headers, body, base)
        if fault is not None and fault["kind"] == "foreign-next-link" and isinstance(out, dict):
            for link in ("@odata.nextLink", "@odata.deltaLink"):
                if link in out:
                    out[link] = peer.foreign_url + out[link][len(base):]
                    break
        if fault is not None and fault["kind"] == "ctrl-delta-link" and isinstance(out, dict) \
                and "@odata.deltaLink" in out:
            out["@odata.deltaLink"] += "\r\nX-Injected: 1"
        return status, extra, out

    def send(self, status, headers, data, length=None):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def record(self, entry):
        peer = self.server.peer
        with peer.log_lock:
            peer.log_seq += 1
            entry["seq"] = peer.log_seq
            peer.log.append(entry)
            if len(peer.log) > 200000:
                del peer.log[:100000]


def aad_error(e, request_id, client_rid):
    ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return {"error": e.error,
            "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" %
            (e.aadsts, e.text, request_id, client_rid, ts),
            "error_codes": [e.aadsts], "timestamp": ts, "trace_id": request_id,
            "correlation_id": client_rid,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % e.aadsts}


class TLSServer(ThreadingHTTPServer):
    """HTTPS with the TLS handshake in the connection's thread, not in accept()."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, peer, origin, context):
        super().__init__(("127.0.0.1", 0), Handler)
        self.peer, self.origin, self.context = peer, origin, context

    def finish_request(self, request, client_address):
        try:
            request.settimeout(60)
            # Headers and body go out as separate writes: without NODELAY, Nagle and the
            # client's delayed ACK add 40 ms to every response.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (ConnectionError, ssl.SSLError, TimeoutError, socket.timeout):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


# ---- startup -------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(d):
    """A per-run CA and a server certificate for 127.0.0.1 (SAN IP and localhost)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "7", "-subj", "/CN=mvsync graph peer test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "7", "-extfile", "server.ext", cwd=d)
    os.unlink(os.path.join(d, "ca.key"))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tenant", default="contoso-test")
    ap.add_argument("--client-id", default=None)
    ap.add_argument("--parent-pid", type=int, default=0,
                    help="exit when this process is gone (the test script died)")
    args = ap.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o700)
    make_certificates(d)
    peer = Peer(args.tenant, args.client_id or str(uuid.uuid4()), secrets.token_urlsafe(30))
    peer.workdir = d
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    servers = {o: TLSServer(peer, o, ctx) for o in ("login", "graph", "foreign")}
    urls = {o: "https://127.0.0.1:%d" % s.server_address[1] for o, s in servers.items()}
    peer.login_url, peer.graph_url, peer.foreign_url = urls["login"], urls["graph"], urls["foreign"]
    for s in servers.values():
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    info = {"pid": os.getpid(), "ca": os.path.join(d, "ca.pem"), "login_url": urls["login"],
            "graph_url": urls["graph"], "foreign_url": urls["foreign"], "tenant": peer.tenant,
            "client_id": peer.client_id, "client_secret": peer.client_secret}
    tmp = os.path.join(d, "peer.json.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(info, f, indent=1)
    os.rename(tmp, os.path.join(d, "peer.json"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    orphaned = False
    while not stop.wait(0.5):
        if args.parent_pid:
            try:
                os.kill(args.parent_pid, 0)
            except ProcessLookupError:
                orphaned = True
                break
    for s in servers.values():
        s.shutdown()
    # The script that started us died without its EXIT trap (SIGKILL, ctest timeout): clean up
    # the folder it would have removed.
    if orphaned and not os.environ.get("MVSYNC_KEEP_PEER"):
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
