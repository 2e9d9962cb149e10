#!/usr/bin/env python3
"""Hold a JSON document (a live Graph response) to a golden fixture's shape.

    shape_check.py FIXTURE.json LIVE.json [--headers LIVE_HEADERS] [--origin URL]
    shape_check.py --lint DIR

The fixture's sidecars (FIXTURE.rules, FIXTURE.headers) and every comparison rule are
described in tests/fixtures/graph/README.md. Each difference is printed as
`PATH: what differs`; the exit status is 1 when there is any, 2 on a usage error.
--lint checks every fixture of DIR: it parses, holds to its own shape, its rules name
paths the fixture has, and it has a .source sidecar citing Microsoft Learn.
"""

import argparse
import datetime
import email.utils
import json
import os
import re
import sys
import urllib.parse

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?"
                      r"(?:Z|[+-]\d{2}:?\d{2})?$")
ODATA_TYPE = re.compile(r"^#microsoft\.graph\.[A-Za-z][A-Za-z0-9]*$")
HTTP_DATE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Keys whose values are links a client follows or resolves: always absolute URLs.
LINK_KEYS = {"@odata.context", "@odata.nextLink", "@odata.deltaLink", "@odata.id"}
# The state token each paging link must carry (Graph's delta and paging docs).
LINK_TOKENS = {"@odata.nextLink": "$skiptoken=", "@odata.deltaLink": "$deltatoken="}
DIRECTIVES = {"optional", "open", "nullable", "empty", "headers", "equal", "oneof", "regex",
              "match", "status"}


# ---- paths ---------------------------------------------------------------------------

def fmt_path(segs, wild=False):
    """$.value[2]["@removed"].reason; with wild, indexes print as [*] (a rule pattern)."""
    out = "$"
    for s in segs:
        if isinstance(s, int):
            out += "[*]" if wild else "[%d]" % s
        elif NAME.match(s):
            out += "." + s
        else:
            out += "[" + json.dumps(s) + "]"
    return out


def parse_path(text):
    """A rule path back into its canonical pattern string; ValueError when malformed."""
    if not text.startswith("$"):
        raise ValueError("path must start with $")
    segs, i = [], 1
    while i < len(text):
        if text[i] == ".":
            m = re.compile(r"[^.\[]+").match(text, i + 1)
            if not m:
                raise ValueError("empty key at column %d" % (i + 1))
            segs.append(m.group(0))
            i = m.end()
        elif text.startswith("[*]", i):
            segs.append(0)
            i += 3
        elif text.startswith('["', i):
            end = text.find('"]', i + 2)
            if end < 0:
                raise ValueError("unterminated [\"key\"]")
            segs.append(json.loads(text[i + 1:end + 1]))
            i = end + 2
        else:
            raise ValueError("unexpected %r at column %d" % (text[i], i + 1))
    return fmt_path(segs, wild=True)


# ---- rules (FIXTURE.rules) -----------------------------------------------------------

class Rules:
    """A fixture's .rules: the differences a live document is allowed (README.md)."""

    def __init__(self):
        self.paths = {d: set() for d in ("optional", "open", "nullable", "empty", "headers",
                                         "equal")}
        self.oneof, self.regex, self.match = {}, {}, {}
        self.status = []

    @classmethod
    def load(cls, path):
        rules = cls()
        if not os.path.exists(path):
            return rules
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                where, d = "%s:%d" % (path, n), text.split()[0]
                words = text.split(None, 2) if d == "regex" else text.split()
                if d not in DIRECTIVES:
                    raise ValueError("%s: unknown directive %r" % (where, d))
                if d == "status":
                    if len(words) < 2 or not all(re.match(r"^[1-5][0-9x]{2}$", w) for w in words[1:]):
                        raise ValueError("%s: status wants codes like 404 or 4xx" % where)
                    rules.status = words[1:]
                    continue
                if len(words) < 2:
                    raise ValueError("%s: %s wants a path" % (where, d))
                try:
                    pat = parse_path(words[1])
                except ValueError as e:
                    raise ValueError("%s: %s" % (where, e)) from None
                if d in rules.paths:
                    rules.paths[d].add(pat)
                elif d == "oneof":
                    rules.oneof[pat] = words[2:]
                elif d == "regex":
                    rules.regex[pat] = re.compile(words[2].strip() if len(words) > 2 else "")
                elif d == "match":
                    if len(words) != 3:
                        raise ValueError("%s: match wants an array path and a field" % where)
                    rules.match[pat] = words[2]
        return rules

    def named(self):
        """Every (directive, pattern) the rules name, for --lint."""
        for d, pats in self.paths.items():
            for p in pats:
                yield d, p
        for table, d in ((self.oneof, "oneof"), (self.regex, "regex"), (self.match, "match")):
            for p in table:
                yield d, p


# ---- value kinds ---------------------------------------------------------------------

def kind_of(key, value):
    """What a fixture string stands for; the live value must be of the same kind."""
    if key in LINK_KEYS:
        return "url"
    if key == "@odata.type":
        return "odata-type"
    if isinstance(value, str) and GUID.match(value):
        return "guid"
    if (isinstance(key, str) and (key.endswith("DateTime") or key in ("date", "timestamp"))) \
            or (isinstance(value, str) and DATETIME.match(value)):
        return "datetime"
    if isinstance(value, str) and re.match(r"^https?://", value):
        return "url"
    return "string"


def valid_datetime(text):
    m = DATETIME.match(text)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    try:
        datetime.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return False
    return True


def url_problem(text, key, origin):
    u = urllib.parse.urlsplit(text)
    if u.scheme not in ("http", "https") or not u.netloc:
        return "not an absolute URL: %s" % json.dumps(text)
    if origin and not (text == origin or text.startswith(origin.rstrip("/") + "/")):
        return "link leaves the origin %s: %s" % (origin, json.dumps(text))
    token = LINK_TOKENS.get(key)
    if token and token not in text.lower():
        return "%s carries no %s: %s" % (key, token, json.dumps(text))
    return None


def string_problem(kind, key, text, origin):
    if kind == "guid" and not GUID.match(text):
        return "not a GUID: %s" % json.dumps(text)
    if kind == "datetime" and not valid_datetime(text):
        return "not an ISO 8601 date-time: %s" % json.dumps(text)
    if kind == "odata-type" and not ODATA_TYPE.match(text):
        return "not an @odata.type like #microsoft.graph.user: %s" % json.dumps(text)
    if kind == "url":
        return url_problem(text, key, origin)
    return None


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(v)]


# ---- HTTP headers --------------------------------------------------------------------

def parse_http_head(text):
    """(status, {lower-name: value}) of the last response head in text (curl -D output or a
    fixture's .headers file)."""
    blocks = [b for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
              if b.startswith("HTTP/")]
    if not blocks:
        raise ValueError("no status line (HTTP/1.1 NNN ...)")
    lines = blocks[-1].strip("\n").split("\n")
    parts = lines[0].split()
    if len(parts) < 2:
        raise ValueError("malformed status line %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError("malformed header line %r" % line)
        headers[name.strip().lower()] = value.strip()
    return parts[1], headers


def media_type(value):
    main, *params = [p.strip() for p in value.split(";")]
    return main.lower(), {p.split("=", 1)[0].strip().lower() for p in params if p}


def header_problem(name, fix, live, origin):
    name = name.lower()
    if name == "content-type":
        fmain, fparams = media_type(fix)
        lmain, lparams = media_type(live)
        if fmain != lmain:
            return "media type %s, fixture has %s" % (lmain, fmain)
        missing = sorted(fparams - lparams)
        if missing:
            return "lacks the media-type parameters %s: %s" % (", ".join(missing), live)
        return None
    if name == "retry-after":
        if re.match(r"^\d+$", live) or (HTTP_DATE.match(live) and email.utils.parsedate(live)):
            return None
        return "neither delay-seconds nor an HTTP-date: %s" % json.dumps(live)
    if name == "location":
        return url_problem(live, name, origin)
    if GUID.match(fix) and not GUID.match(live):
        return "not a GUID: %s" % json.dumps(live)
    if re.match(r"^\d+$", fix) and not re.match(r"^\d+$", live):
        return "not an integer: %s" % json.dumps(live)
    if HTTP_DATE.match(fix) and not HTTP_DATE.match(live):
        return "not an HTTP-date: %s" % json.dumps(live)
    return None


def status_matches(patterns, status):
    return any(len(p) == len(status) and all(a in ("x", b) for a, b in zip(p, status))
               for p in patterns)


# ---- the comparison ------------------------------------------------------------------

class StructuralDiff(str):
    """A difference in structure (a key or a container missing or extra): it weighs more
    than a value difference when an array element picks its closest fixture element."""


def weight(diffs):
    return (sum(isinstance(d, StructuralDiff) for d in diffs), len(diffs))


class Checker:
    """Compares live documents with one fixture under its rules."""

    def __init__(self, rules, origin=None):
        self.rules, self.origin = rules, origin

    def compare(self, fix, live, segs=()):
        """Differences of live from the fixture's shape, as 'PATH: message' strings."""
        pat, here = fmt_path(segs, wild=True), fmt_path(segs)
        if isinstance(fix, dict) and pat in self.rules.paths["headers"]:
            return self.compare_header_map(fix, live, segs)
        if isinstance(fix, dict):
            return self.compare_object(fix, live, segs)
        if isinstance(fix, list):
            return self.compare_array(fix, live, segs)
        key = segs[-1] if segs and isinstance(segs[-1], str) else None
        return self.compare_scalar(fix, live, key, pat, here)

    def compare_object(self, fix, live, segs):
        here, pat = fmt_path(segs), fmt_path(segs, wild=True)
        if not isinstance(live, dict):
            return [StructuralDiff("%s: expected an object, got %s" % (here, jtype(live)))]
        diffs = []
        for k, fv in fix.items():
            if k in live:
                diffs += self.compare(fv, live[k], segs + (k,))
            elif fmt_path(segs + (k,), wild=True) not in self.rules.paths["optional"]:
                diffs.append(StructuralDiff("%s: missing key" % fmt_path(segs + (k,))))
        if pat not in self.rules.paths["open"]:
            diffs += [StructuralDiff("%s: key not in the fixture" % fmt_path(segs + (k,)))
                      for k in live if k not in fix]
        return diffs

    def compare_array(self, fix, live, segs):
        here, pat = fmt_path(segs), fmt_path(segs, wild=True)
        if not isinstance(live, list):
            return [StructuralDiff("%s: expected an array, got %s" % (here, jtype(live)))]
        if pat in self.rules.paths["empty"]:
            return [] if not live else ["%s: expected an empty array, got %d elements"
                                        % (here, len(live))]
        if not fix:
            return []   # the fixture shows no element: any elements pass
        field, diffs = self.rules.match.get(pat), []
        for i, lv in enumerate(live):
            candidates = fix
            if field is not None and isinstance(lv, dict):
                candidates = [f for f in fix if isinstance(f, dict) and f.get(field) == lv.get(field)]
                if not candidates:
                    diffs.append("%s: no fixture element has %s %s" % (
                        fmt_path(segs + (i,)), field, json.dumps(lv.get(field))))
                    continue
            best = None
            for fv in candidates:
                d = self.compare(fv, lv, segs + (i,))
                if best is None or weight(d) < weight(best):
                    best = d
                if not d:
                    break
            diffs += best
        return diffs

    def compare_scalar(self, fix, live, key, pat, here):
        ft, lt = jtype(fix), jtype(live)
        kind = kind_of(key, fix)
        if isinstance(live, (dict, list)):
            return [StructuralDiff("%s: expected %s, got %s"
                               % (here, ft if fix is not None else "a scalar", lt))]
        if live is None:
            if fix is None or pat in self.rules.paths["nullable"] \
                    or (ft == "string" and kind in ("string", "datetime")):
                return []
            return ["%s: expected %s, got null" % (here, ft)]
        if fix is not None and ft != lt:
            return ["%s: expected %s, got %s %s" % (here, ft, lt, json.dumps(live))]
        diffs = []
        if isinstance(live, str):
            problem = string_problem(kind, key, live, self.origin)
            if problem:
                diffs.append("%s: %s" % (here, problem))
        if pat in self.rules.paths["equal"] and live != fix:
            diffs.append("%s: expected %s, got %s" % (here, json.dumps(fix), json.dumps(live)))
        if pat in self.rules.oneof and str(live) not in self.rules.oneof[pat]:
            diffs.append("%s: expected one of %s, got %s" % (
                here, ", ".join(self.rules.oneof[pat]), json.dumps(live)))
        if pat in self.rules.regex and not self.rules.regex[pat].search(str(live)):
            diffs.append("%s: does not match /%s/: %s" % (
                here, self.rules.regex[pat].pattern, json.dumps(live)))
        return diffs

    def compare_header_map(self, fix, live, segs):
        """An HTTP header map inside JSON ($batch items): names case-insensitive, extra
        headers allowed, values checked like the response's own headers."""
        here = fmt_path(segs)
        if not isinstance(live, dict):
            return ["%s: expected an object of headers, got %s" % (here, jtype(live))]
        lower = {k.lower(): v for k, v in live.items()}
        diffs = []
        for name, fv in fix.items():
            where = fmt_path(segs + (name,))
            if name.lower() not in lower:
                if fmt_path(segs + (name,), wild=True) not in self.rules.paths["optional"]:
                    diffs.append("%s: missing header" % where)
                continue
            lv = lower[name.lower()]
            if not isinstance(lv, str):
                diffs.append("%s: expected a string, got %s" % (where, jtype(lv)))
                continue
            problem = header_problem(name, fv, lv, self.origin)
            if problem:
                diffs.append("%s: %s" % (where, problem))
        return diffs

    def compare_head(self, fix_head, live_head):
        """The response's status and the headers the fixture lists (extra headers pass)."""
        (fstatus, fheaders), (lstatus, lheaders) = fix_head, live_head
        diffs = []
        if not status_matches(self.rules.status or [fstatus], lstatus):
            diffs.append("HTTP status: expected %s, got %s"
                         % (" or ".join(self.rules.status or [fstatus]), lstatus))
        for name, fv in fheaders.items():
            if name not in lheaders:
                diffs.append("HTTP header %s: missing" % name)
                continue
            problem = header_problem(name, fv, lheaders[name], self.origin)
            if problem:
                diffs.append("HTTP header %s: %s" % (name, problem))
        return diffs


# ---- fixtures --------------------------------------------------------------------------

def sidecar(fixture, ext):
    return os.path.splitext(fixture)[0] + ext


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_head(path):
    with open(path, encoding="utf-8", newline="") as f:
        return parse_http_head(f.read())


def fixture_patterns(doc, segs=()):
    """Every path pattern the fixture has, for checking that rules name real paths."""
    yield fmt_path(segs, wild=True)
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from fixture_patterns(v, segs + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from fixture_patterns(v, segs + (i,))


def lint(directory):
    problems = []
    fixtures = sorted(f for f in os.listdir(directory) if f.endswith(".json"))
    if not fixtures:
        return ["%s: no fixtures" % directory]
    for name in fixtures:
        path = os.path.join(directory, name)
        try:
            doc = load_json(path)
            rules = Rules.load(sidecar(path, ".rules"))
        except (OSError, ValueError) as e:
            problems.append("%s: %s" % (path, e))
            continue
        known = set(fixture_patterns(doc))
        for d, pat in rules.named():
            if pat not in known:
                problems.append("%s: %s names %s, which the fixture lacks"
                                % (sidecar(path, ".rules"), d, pat))
        checker = Checker(rules)
        problems += ["%s: %s" % (path, d) for d in checker.compare(doc, doc)]
        if os.path.exists(sidecar(path, ".headers")):
            try:
                head = load_head(sidecar(path, ".headers"))
                problems += ["%s: %s" % (sidecar(path, ".headers"), d)
                             for d in checker.compare_head(head, head)]
            except ValueError as e:
                problems.append("%s: %s" % (sidecar(path, ".headers"), e))
        try:
            with open(sidecar(path, ".source"), encoding="utf-8") as f:
                if "https://learn.microsoft.com/" not in f.read():
                    problems.append("%s: cites no Microsoft Learn page" % sidecar(path, ".source"))
        except OSError:
            problems.append("%s: missing .source sidecar" % path)
    return problems


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fixture", nargs="?")
    ap.add_argument("live", nargs="?", help="the live JSON document ('-' reads stdin)")
    ap.add_argument("--headers", help="the live response head (curl -D output)")
    ap.add_argument("--origin", help="links must stay on this origin (https://host:port)")
    ap.add_argument("--lint", metavar="DIR", help="check every fixture in DIR")
    args = ap.parse_args(argv)

    if args.lint:
        problems = lint(args.lint)
        for p in problems:
            print(p)
        return 1 if problems else 0
    if not args.fixture or not args.live:
        ap.print_usage(sys.stderr)
        return 2
    try:
        fix = load_json(args.fixture)
        rules = Rules.load(sidecar(args.fixture, ".rules"))
        fix_head = load_head(sidecar(args.fixture, ".headers")) \
            if os.path.exists(sidecar(args.fixture, ".headers")) else None
    except (OSError, ValueError) as e:
        print("shape_check: fixture %s: %s" % (args.fixture, e), file=sys.stderr)
        return 2
    checker = Checker(rules, args.origin)
    diffs = []
    try:
        if args.live == "-":
            live = json.load(sys.stdin)
        else:
            live = load_json(args.live)
        diffs += checker.compare(fix, live)
    except json.JSONDecodeError as e:
        diffs.append("$: the live document is not JSON: %s" % e)
    except OSError as e:
        print("shape_check: %s" % e, file=sys.stderr)
        return 2
    if fix_head and args.headers:
        try:
            diffs += checker.compare_head(fix_head, load_head(args.headers))
        except (OSError, ValueError) as e:
            diffs.append("HTTP head: %s" % e)
    elif fix_head:
        print("shape_check: note: %s has a .headers sidecar; pass --headers to check them"
              % args.fixture, file=sys.stderr)
    for d in diffs:
        print("%s: %s" % (os.path.basename(args.fixture), d))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
