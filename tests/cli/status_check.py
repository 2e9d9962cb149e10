#!/usr/bin/env python3
"""Checks for tests/cli/status.sh: `mvsync status --json` and the metrics file, field by field,
against what the test expects from its own inputs.

The metrics file is read by a parser written here from the Prometheus exposition-format
documentation (text format 0.0.4, https://prometheus.io/docs/instrumenting/exposition_formats/),
not by mvsync: lines end in \\n, the last one too; `# HELP name text` (text escapes \\\\ and \\n)
and `# TYPE name type` at most once per metric and before its first sample; the samples of a
metric are one group; names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
(never a leading __); label values are "quoted" with \\\\, \\" and \\n escaped; a value is a
float (or NaN, +Inf, -Inf); an optional timestamp follows (node_exporter's textfile collector
refuses them, so mvsync must write none).

Usage: status_check.py STATUS_JSON|- METRICS_FILE|- EXPECT_JSON [RUNS_JSON]
EXPECT_JSON: {"status": {PATH: VALUE, ...}, "metrics": [[NAME, {LABELS}, VALUE], ...],
              "absent": [[NAME, {LABELS}], ...], "at_least": {PATH: NUMBER}, "between": ...}
A PATH is dotted ("reasons.0": an element); "connectors[NAME]" picks a connector by name.  VALUE "*" only requires the
field to be there; "~TEXT" requires a string containing TEXT.  Exit 1 listing every mismatch.
"""
import json
import math
import re
import sys

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class FormatError(Exception):
    pass


def parse_label_value(s, i, where):
    """The quoted value starting at s[i] == '"': (text, index after the closing quote)."""
    if s[i] != '"':
        raise FormatError(f"{where}: label value must be quoted")
    out, i = [], i + 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                raise FormatError(f"{where}: bad escape in label value")
            out.append({"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        elif c == "\n":
            raise FormatError(f"{where}: raw line feed in label value")
        else:
            out.append(c)
            i += 1
    raise FormatError(f"{where}: unterminated label value")


def unescape_help(raw, where):
    """HELP text: \\\\ and \\n are its only escapes."""
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\":
            if i + 1 >= len(raw) or raw[i + 1] not in "\\n":
                raise FormatError(f"{where}: bad escape in HELP text")
            out.append("\\" if raw[i + 1] == "\\" else "\n")
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse_value(tok, where):
    if tok in ("NaN", "+Inf", "-Inf"):
        return float(tok.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(tok)
    except ValueError:
        raise FormatError(f"{where}: value {tok!r} is not a float") from None


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value}, and {name: (type, help)}."""
    if text and not text.endswith("\n"):
        raise FormatError("the last line does not end with a line feed")
    samples, meta, done, current = {}, {}, set(), None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}"
        stripped = line.strip(" \t")
        if not stripped:
            continue
        if stripped.startswith("#"):
            toks = stripped[1:].lstrip(" \t").split(None, 2)
            if not toks or toks[0] not in ("HELP", "TYPE"):
                continue
            if len(toks) < 2 or not NAME_RE.fullmatch(toks[1]):
                raise FormatError(f"{where}: {toks[0]} without a metric name")
            name = toks[1]
            if name in done:
                raise FormatError(f"{where}: {toks[0]} for {name} after its group ended")
            if name != current and current is not None:
                done.add(current)
            current = name
            kind, helptext = meta.get(name, (None, None))
            if toks[0] == "TYPE":
                if kind is not None:
                    raise FormatError(f"{where}: second TYPE line for {name}")
                if any(k[0] == name for k in samples):
                    raise FormatError(f"{where}: TYPE of {name} after its first sample")
                if len(toks) != 3 or toks[2] not in TYPES:
                    raise FormatError(f"{where}: bad TYPE line")
                kind = toks[2]
            else:
                if helptext is not None:
                    raise FormatError(f"{where}: second HELP line for {name}")
                helptext = unescape_help(toks[2] if len(toks) == 3 else "", where)
            meta[name] = (kind, helptext)
            continue
        m = NAME_RE.match(stripped)
        if not m:
            raise FormatError(f"{where}: no metric name")
        name, i, labels = m.group(0), m.end(), {}
        if i < len(stripped) and stripped[i] == "{":
            i += 1
            while True:
                while i < len(stripped) and stripped[i] in " \t":
                    i += 1
                if stripped[i] == "}":
                    i += 1
                    break
                lm = LABEL_RE.match(stripped, i)
                if not lm or lm.group(0).startswith("__"):
                    raise FormatError(f"{where}: bad label name")
                lname, i = lm.group(0), lm.end()
                if stripped[i] != "=":
                    raise FormatError(f"{where}: expected = after label {lname}")
                value, i = parse_label_value(stripped, i + 1, where)
                if lname in labels:
                    raise FormatError(f"{where}: label {lname} twice")
                labels[lname] = value
                if stripped[i] == ",":
                    i += 1
                elif stripped[i] != "}":
                    raise FormatError(f"{where}: expected , or }} in labels")
        rest = stripped[i:].split()
        if len(rest) not in (1, 2):
            raise FormatError(f"{where}: expected a value (and at most a timestamp)")
        if len(rest) == 2:
            raise FormatError(f"{where}: a timestamp (node_exporter's textfile collector refuses them)")
        if name in done:
            raise FormatError(f"{where}: sample of {name} outside its group")
        if name != current and current is not None:
            done.add(current)
        current = name
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise FormatError(f"{where}: the same series twice")
        samples[key] = parse_value(rest[0], where)
    return samples, meta


def path_get(obj, path):
    for part in re.findall(r"[^.\[\]]+|\[[^\]]*\]", path):
        if part.startswith("["):
            name = part[1:-1]
            matches = [c for c in obj if c.get("name") == name]
            if len(matches) != 1:
                raise KeyError(f"{path}: {len(matches)} entries named {name!r}")
            obj = matches[0]
        elif isinstance(obj, list) and part.isdigit():
            if int(part) >= len(obj):
                raise KeyError(f"{path}: no element {part}")
            obj = obj[int(part)]
        else:
            if not isinstance(obj, dict) or part not in obj:
                raise KeyError(f"{path}: no field {part!r}")
            obj = obj[part]
    return obj


def same(got, want):
    if want == "*":
        return True
    if isinstance(want, str) and want.startswith("~"):
        return isinstance(got, str) and want[1:] in got
    if isinstance(want, bool) or want is None:
        return got is want
    return got == want and type(got) is type(want)


def main():
    # "-": the metrics only (a run's own file); the status checks are skipped.
    status = json.load(open(sys.argv[1])) if sys.argv[1] != "-" else None
    text = open(sys.argv[2]).read() if sys.argv[2] != "-" else ""
    expect = json.load(open(sys.argv[3]))
    runs = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else None
    bad = []
    for path, want in (expect.get("status", {}) if status is not None else {}).items():
        try:
            got = path_get(status, path)
        except KeyError as e:
            bad.append(f"status: {e}")
            continue
        if not same(got, want):
            bad.append(f"status {path}: got {got!r}, want {want!r}")
    for path, (lo, hi) in (expect.get("between", {}) if status is not None else {}).items():
        try:
            got = path_get(status, path)
        except KeyError as e:
            bad.append(f"status: {e}")
            continue
        if not (isinstance(got, str) and lo <= got <= hi):
            bad.append(f"status {path}: got {got!r}, want between {lo} and {hi}")
    # Every run object status prints is the one `runs --json` prints for that run.
    if runs is not None:
        by_id = {r["id"]: r for r in runs}
        objs = [status["last_sync"]] + [c[k] for c in status["connectors"]
                                        for k in ("last_import", "last_export")]
        for o in objs:
            if o is not None and by_id.get(o["id"]) != o:
                bad.append(f"run {o['id']}: status prints {o!r}, runs --json {by_id.get(o['id'])!r}")
    if text or expect.get("metrics"):
        try:
            samples, meta = parse_metrics(text)
        except IndexError:
            bad.append("metrics format: a sample line ends inside its labels")
            samples, meta = {}, {}
        except FormatError as e:
            bad.append(f"metrics format: {e}")
            samples, meta = {}, {}
        for name in {k[0] for k in samples}:
            if not name.startswith("mvsync_"):
                bad.append(f"metric {name} is not named mvsync_...")
            if meta.get(name, (None, None))[0] is None or meta[name][1] is None:
                bad.append(f"metric {name} lacks a TYPE or HELP line")
        for name, labels, want in expect.get("metrics", []):
            key = (name, frozenset(labels.items()))
            if key not in samples:
                bad.append(f"metric {name}{labels}: missing")
            elif want != "*" and not math.isclose(samples[key], want, abs_tol=1e-9):
                bad.append(f"metric {name}{labels}: got {samples[key]}, want {want}")
        for name, labels in expect.get("absent", []):
            if (name, frozenset(labels.items())) in samples:
                bad.append(f"metric {name}{labels}: present, want none")
        for name, labels, lo, hi in expect.get("metric_between", []):
            v = samples.get((name, frozenset(labels.items())))
            if v is None or not lo <= v <= hi:
                bad.append(f"metric {name}{labels}: got {v}, want between {lo} and {hi}")
    for b in bad:
        print("  " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
