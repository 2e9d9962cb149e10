#!/usr/bin/env python3
"""Write the seed corpus of fuzz_ldap: LDAP server answers (RFC 4511 BER) in the order the AD
connector asks, shaped as Samba 4 and AD answer them (objectGUID and objectSid binary,
DirSync incremental member values as member;range=1-1 / 0-0 [MS-ADTS 3.1.1.3.4.1.3],
ranged retrieval member;range=0-1 ... 2-* [MS-ADTS 3.1.1.3.1.3.3], tombstones under
CN=Deleted Objects with isDeleted TRUE).  Usage: ldap_seeds.py OUTDIR"""
import base64
import os
import struct
import sys
import uuid


def ln(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + ln(len(body)) + body


def integer(v, tag=0x02):
    return tlv(tag, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def octets(b):
    return tlv(0x04, b if isinstance(b, bytes) else b.encode())


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def message(msgid, op, controls=b""):
    return seq(integer(msgid), op, tlv(0xA0, controls) if controls else b"")


def entry(msgid, dn, attrs):
    al = b"".join(seq(octets(a), tlv(0x31, b"".join(octets(v) for v in vs))) for a, vs in attrs)
    return message(msgid, tlv(0x64, octets(dn) + seq(al)))


def done(msgid, code=0, controls=b"", diag=""):
    return message(msgid, tlv(0x65, integer(code, 0x0A) + octets("") + octets(diag)), controls)


def control(oid, value):
    return seq(octets(oid), octets(value))


def paged(cookie=b""):
    return control("1.2.840.113556.1.4.319", seq(integer(0), octets(cookie)))


def dirsync(cookie, more=0):
    return control("1.2.840.113556.1.4.841", seq(integer(more), integer(0), octets(cookie)))


def sid(rid):
    return struct.pack("<BB6sIIII", 1, 5, b"\0\0\0\0\0\5", 21, 3623811015, 3361044348, 30300820) + struct.pack("<I", rid)


def guid(n):
    return uuid.UUID(int=0x6F1B2C3D00004E5F8A9B000000000000 + n).bytes_le


BASE = "DC=samba,DC=example,DC=com"
USERS = "OU=Users," + BASE
# A cookie Samba 4 returned to a DirSync search (from a stored watermark of the Samba harness).
COOKIE = base64.b64decode("TVNEUwMAAACAAl5AF4TdAQAAAAAAAAAAKAAAAMUPAAAAAAAAAAAAAAAAAADFDwAAAAAAALRnInVS/KVIlNDFINz62kcBAAAAAAAAAAEAAAAAAAAAtGcidVL8pUiU0MUg3PraR8UPAAAAAAAA")
USER_CLASSES = ["top", "person", "organizationalPerson", "user"]


def user(msgid, n, extra=()):
    return entry(msgid, f"CN=User {n},{USERS}", [
        ("objectClass", USER_CLASSES), ("objectGUID", [guid(n)]), ("objectSid", [sid(1100 + n)]),
        ("sAMAccountName", [f"user{n}"]), ("displayName", [f"User {n}"]),
        ("userAccountControl", ["512"]), ("whenChanged", ["20261204172233.0Z"]), *extra])


def group(msgid, n, member_attr="member", members=(1, 2)):
    return entry(msgid, f"CN=Group {n},{USERS}", [
        ("objectClass", ["top", "group"]), ("objectGUID", [guid(100 + n)]),
        ("sAMAccountName", [f"group{n}"]),
        (member_attr, [f"CN=User {m},{USERS}" for m in members])])


def write(outdir, name, mode, watermark, msgs):
    data = bytes([mode]) + (watermark.encode() + b"\n" if mode & 1 else b"") + b"".join(msgs)
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    b64 = base64.b64encode(COOKIE).decode()
    # Full import, DirSync: two cookie-only DirSync searches, then the paged search (2 pages).
    write(out, "seed-full-dirsync", 0, "", [
        done(1, controls=dirsync(COOKIE)), done(2, controls=dirsync(COOKIE + b"c")),
        user(3, 1), user(3, 2, [("manager", [f"CN=User 1,{USERS}"])]), done(3, controls=paged(b"\1\2")),
        group(4, 1), done(4, controls=paged())])
    # Full import with ranged member retrieval: member;range=0-1, then 2-3, then 4-*.
    write(out, "seed-full-ranged", 4, "", [
        done(1, controls=dirsync(COOKIE)), done(2, controls=dirsync(COOKIE)),
        group(3, 2, "member;range=0-1", (1, 2)), done(3, controls=paged()),
        group(4, 2, "member;range=2-3", (3, 4)), done(4),
        group(5, 2, "member;range=4-*", (5,)), done(5)])
    # Full import, uSNChanged: rootDSE, the DSA object's invocationId, the paged search.
    write(out, "seed-full-usn", 2, "", [
        entry(1, "", [("highestCommittedUSN", ["4242"]),
                      ("dsServiceName", [f"CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,{BASE}"])]),
        done(1), entry(2, "CN=NTDS Settings,CN=DC1", [("invocationId", [guid(900)])]), done(2),
        user(3, 3), done(3, controls=paged())])
    # DirSync delta: an added and a removed member, a renamed user (read again whole), a
    # tombstone; then the container stream with a moved OU, whose objects are searched.
    write(out, "seed-delta-dirsync", 1, f"dirsync:{b64}|{b64}", [
        entry(1, f"CN=Group 1,{USERS}", [("objectGUID", [guid(101)]),
                                         ("member;range=1-1", [f"CN=User 3,{USERS}"]),
                                         ("member;range=0-0", [f"CN=User 2,{USERS}"])]),
        entry(1, f"CN=User 4,{USERS}", [("objectGUID", [guid(4)]), ("name", ["User 4"]),
                                         ("objectClass", USER_CLASSES), ("parentGUID", [guid(999)])]),
        entry(1, f"CN=User 5\\0ADEL:{uuid.UUID(bytes_le=guid(5))},CN=Deleted Objects,{BASE}",
              [("objectGUID", [guid(5)]), ("isDeleted", ["TRUE"])]),
        done(1, controls=dirsync(COOKIE + b"1")),
        user(2, 4), done(2),
        entry(3, f"OU=Moved,{USERS}", [("objectGUID", [guid(500)]), ("name", ["Moved"])]),
        done(3, controls=dirsync(COOKIE + b"2")),
        user(4, 6), done(4, controls=paged())])
    # DirSync with more results to come: a second round with the next cookie.
    write(out, "seed-delta-dirsync-more", 1, f"dirsync:{b64}|{b64}", [
        entry(1, f"CN=User 1,{USERS}", [("objectGUID", [guid(1)]), ("displayName", ["One"])]),
        done(1, controls=dirsync(COOKIE + b"a", 1)),
        entry(2, f"CN=User 2,{USERS}", [("objectGUID", [guid(2)]), ("displayName", ["Two"])]),
        done(2, controls=dirsync(COOKIE + b"b")), done(3, controls=dirsync(COOKIE))])
    # DirSync refused: Samba's answer to a cookie it cannot read.
    write(out, "seed-delta-dirsync-refused", 1, f"dirsync:{b64}|{b64}", [
        done(1, 53, diag="Unable to unmarshall cookie")])
    # uSNChanged delta: same DC, later USN; a changed user, a tombstone (Show Deleted).
    inv = str(uuid.UUID(bytes_le=guid(900)))
    write(out, "seed-delta-usn", 3, f"usn:{inv}:4000", [
        entry(1, "", [("highestCommittedUSN", ["4242"]), ("dsServiceName", ["CN=NTDS Settings,CN=DC1"])]),
        done(1), entry(2, "CN=NTDS Settings,CN=DC1", [("invocationId", [guid(900)])]), done(2),
        user(3, 7), entry(3, f"CN=User 8\\0ADEL:x,CN=Deleted Objects,{BASE}",
                          [("objectGUID", [guid(8)]), ("isDeleted", ["TRUE"])]),
        done(3, controls=paged())])
    # Watermarks alone (refused before anything is sent).
    for i, wm in enumerate(["usn:bad", "dirsync:", "dirsync:AAAA", f"usn:{inv}:99999999999999999999",
                            "junk"]):
        write(out, f"seed-watermark-{i}", 1 | (2 if wm.startswith("usn") else 0), wm, [])


main()
