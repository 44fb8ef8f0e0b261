#!/usr/bin/env python3
"""plist_check.py - checks .mobileconfig profiles with an independent reader.

usage: plist_check.py PROFILE.mobileconfig...

Reads each file with Python's plistlib only (not libplist, which polc
writes with), so a profile that polc and its reader agree on but macOS would
not is still caught. Each file must be an XML plist whose top level is a
dict with:

  PayloadType "Configuration", PayloadVersion 1, PayloadScope "System",
  TargetDeviceType 5, a PayloadIdentifier, a PayloadDisplayName, a
  PayloadUUID, and a non-empty PayloadContent array of payload dicts,

and each payload must have PayloadType, PayloadIdentifier, PayloadUUID and
PayloadVersion (an integer). Every PayloadUUID is an upper-case UUID
(8-4-4-4-12 hex digits, version 5 as SPEC.md section 3 requires) and all
of them, like all PayloadIdentifiers, are distinct.

Silent on success. Prints "FILE: reason" on standard error for every
problem; exits 1 if any file failed, 2 on a usage error.
"""
import plistlib
import re
import sys

UUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")


def is_int(v):
    # bool is a subclass of int in Python: <true/> must not pass as 1.
    return isinstance(v, int) and not isinstance(v, bool)


def is_nonempty_str(v):
    return isinstance(v, str) and v != ""


def check_profile(top):
    """Returns a list of problems (empty when the profile is fine)."""
    problems = []
    if not isinstance(top, dict):
        return ["the top level is a %s, not a dict" % type(top).__name__]

    def expect(d, where, key, pred, want):
        if key not in d:
            problems.append("%s: missing %s" % (where, key))
            return False
        if not pred(d[key]):
            problems.append("%s: %s is %r, expected %s" % (where, key, d[key], want))
            return False
        return True

    expect(top, "profile", "PayloadType", lambda v: v == "Configuration", '"Configuration"')
    expect(top, "profile", "PayloadVersion", lambda v: is_int(v) and v == 1, "integer 1")
    expect(top, "profile", "PayloadScope", lambda v: v == "System", '"System"')
    expect(top, "profile", "TargetDeviceType", lambda v: is_int(v) and v == 5, "integer 5")
    expect(top, "profile", "PayloadIdentifier", is_nonempty_str, "a non-empty string")
    expect(top, "profile", "PayloadDisplayName", is_nonempty_str, "a non-empty string")

    uuids = []        # (where, value)
    identifiers = []  # (where, value)
    if expect(top, "profile", "PayloadUUID", lambda v: isinstance(v, str), "a string"):
        uuids.append(("profile", top["PayloadUUID"]))
    if is_nonempty_str(top.get("PayloadIdentifier")):
        identifiers.append(("profile", top["PayloadIdentifier"]))

    payloads = top.get("PayloadContent")
    if not isinstance(payloads, list) or not payloads:
        problems.append("profile: PayloadContent must be a non-empty array of payloads")
        payloads = []
    for i, p in enumerate(payloads):
        where = "payload %d" % i
        if not isinstance(p, dict):
            problems.append("%s: is a %s, not a dict" % (where, type(p).__name__))
            continue
        where = "payload %d (%s)" % (i, p.get("PayloadType", "?"))
        expect(p, where, "PayloadType", is_nonempty_str, "a non-empty string")
        if expect(p, where, "PayloadIdentifier", is_nonempty_str, "a non-empty string"):
            identifiers.append((where, p["PayloadIdentifier"]))
        if expect(p, where, "PayloadUUID", lambda v: isinstance(v, str), "a string"):
            uuids.append((where, p["PayloadUUID"]))
        expect(p, where, "PayloadVersion", is_int, "an integer")

    for where, u in uuids:
        if not UUID_RE.match(u):
            problems.append("%s: PayloadUUID %r is not an upper-case version-5 UUID" % (where, u))
    for kind, items in (("PayloadUUID", uuids), ("PayloadIdentifier", identifiers)):
        seen = {}
        for where, v in items:
            if v in seen:
                problems.append("%s: %s %r is also used by %s" % (where, kind, v, seen[v]))
            else:
                seen[v] = where
    return problems


def check_file(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return ["cannot read: %s" % e.strerror]
    if not data.lstrip().startswith(b"<?xml"):
        return ["not an XML plist (no <?xml declaration)"]
    try:
        top = plistlib.loads(data, fmt=plistlib.FMT_XML)
    except Exception as e:  # plistlib raises several types on bad input
        return ["plistlib cannot read it: %s: %s" % (type(e).__name__, e)]
    return check_profile(top)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: plist_check.py PROFILE.mobileconfig...\n")
        return 2
    failed = False
    for path in argv[1:]:
        for problem in check_file(path):
            sys.stderr.write("%s: %s\n" % (path, problem))
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
