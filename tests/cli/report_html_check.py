#!/usr/bin/env python3
"""The report page as a person sees it (tests/cli/report_html.sh).

usage: report_html_check.py WORKDIR ENTRA.json GROUPS.rules

WORKDIR holds the DOMs Chromium dumped after the page's script ran: dom-all.html (no
fragment), dom-send.html (#kind=send), dom-finance.html (#kind=send&q=finance),
dom-hostile.html (#kind=send&q=</script>), dom-drift.html (#drift=1).  What they must show is
worked out here from the input data alone: the Entra groups in Cloud Sync's writeback scope
(security-enabled, not mail-enabled, not synced from AD: docs/scenarios/1, tests/data/demo
README) are the adds to AD, named as the rule names them (Left(Trim(displayName), 51) & "_" &
the id's last 12 characters, under the rule's parent OU); their cloud-only members are the
skipped references; every value is decided by the outbound rule of groups.rules."""
import json
import re
import sys
from html.parser import HTMLParser

VOID = {"meta", "input", "br", "img", "hr", "link"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids = tag, dict(attrs), parent, []

    def text(self):
        return "".join(k if isinstance(k, str) else k.text() for k in self.kids)

    def find(self, pred):
        out = []
        for k in self.kids:
            if isinstance(k, Node):
                if pred(k):
                    out.append(k)
                out.extend(k.find(pred))
        return out


class Tree(HTMLParser):
    def __init__(self):
        super().__init__()
        self.root = Node("root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.kids.append(data)


def load(path):
    t = Tree()
    t.feed(open(path, encoding="utf-8").read())
    return t.root


def cls(name):
    return lambda n: name in n.attrs.get("class", "").split()


def by_id(root, i):
    found = root.find(lambda n: n.attrs.get("id") == i)
    return found[0] if found else None


def entries(root):
    """Each change shown: (kind/where/op line, object, [(attr, old, new, rule)])."""
    out = []
    for e in root.find(cls("entry")):
        head = e.find(lambda n: n.tag == "summary")[0]
        kind = head.find(cls("kind"))[0].text().strip()
        obj = head.find(cls("obj"))[0].text()
        rows = []
        for tr in e.find(lambda n: n.tag == "tr")[1:]:
            tds = [td.text() for td in tr.find(lambda n: n.tag == "td")]
            rows.append((tds[0], tds[1], tds[3], tds[4]))
        out.append((kind, obj, rows))
    return out


def summary_tables(root):
    """The summary's tables by their heading: a list of rows of cell texts."""
    sec, out, head = by_id(root, "summary"), {}, None
    for k in sec.kids:
        if isinstance(k, Node) and k.tag == "h2":
            head = k.text()
        elif isinstance(k, Node) and k.tag == "table":
            out[head] = [[td.text() for td in tr.find(lambda n: n.tag == "td")]
                         for tr in k.find(lambda n: n.tag == "tr")[1:]]
    return out


def main():
    work, entra_path, rules_path = sys.argv[1:4]
    entra = json.load(open(entra_path))
    rules = open(rules_path).read()
    out_rule = re.search(r'rule "([^"]+)" \{\s*direction outbound', rules).group(1)
    parent = re.search(r'flow constant "([^"]+)" -> parentDistinguishedName', rules).group(1)
    users = {u["id"]: u for u in entra["users"]}
    groups = {g["id"]: g for g in entra["groups"]}
    in_scope = [g for g in entra["groups"] if g.get("securityEnabled") and not g.get("mailEnabled")
                and not g.get("onPremisesSyncEnabled")]

    def dn(g):
        return "CN=%s_%s,%s" % (g["displayName"].strip()[:51], g["id"][-12:], parent)

    cloud_only = {}
    for g in in_scope:
        n = sum(1 for m in g.get("members", [])
                if m["id"] in users and not users[m["id"]].get("onPremisesSyncEnabled"))
        if n:
            cloud_only[g["id"]] = n
    problems = []

    def expect(cond, what):
        if not cond:
            problems.append(what)

    pages = {v: load("%s/dom-%s.html" % (work, v)) for v in ("all", "send", "finance", "hostile", "drift")}
    for view, root in pages.items():
        body = root.find(lambda n: n.tag == "body")[0]
        expect(body.attrs.get("data-ready") == "1", "%s: the page's script did not finish" % view)
        expect("data-pwned" not in body.attrs, "%s: a value ran as script" % view)
        expect(not root.find(lambda n: n.tag == "img"), "%s: a value became an <img> element" % view)

    # The summary: what would be written to AD first.
    tables = summary_tables(pages["all"])
    writes = tables.get("What would be written", [])
    expect(writes == [["contoso.com", str(len(in_scope)), "0", "0", "0", writes[0][5] if writes else ""]],
           "writes per target connector: %s, expected contoso.com with %d adds" % (writes, len(in_scope)))
    skipped = tables.get("References skipped (their objects have no object in the target connector)", [])
    expect(skipped == [["contoso.com", str(len(cloud_only)), str(sum(cloud_only.values()))]],
           "skipped references: %s, expected %d objects, %d values" % (skipped, len(cloud_only), sum(cloud_only.values())))
    expect("Errors (0) and warnings (0)" in by_id(pages["all"], "errors").text(), "errors shown for a clean run")

    # #kind=send: one add per group in scope, each value with the rule that decided it.
    sends = entries(pages["send"])
    got = sorted(obj for kind, obj, rows in sends)
    want = sorted(dn(g) for g in in_scope)
    expect(got == want, "sends: %s, expected %s" % (got, want))
    expect(all(kind == "send contoso.com: add" for kind, obj, rows in sends), "send kinds: %s" % [s[0] for s in sends])
    for kind, obj, rows in sends:
        g = next(g for g in in_scope if dn(g) == obj)
        vals = {a: new for a, old, new, rule in rows}
        expect(vals.get("displayName") == g["displayName"], "%s: displayName %r" % (obj, vals.get("displayName")))
        expect(vals.get("description") == g["description"], "%s: description %r, input %r" % (obj, vals.get("description"), g["description"]))
        expect(all(old == "(none)" for a, old, new, rule in rows), "%s: an add has old values" % obj)
        expect(all(rule == out_rule for a, old, new, rule in rows), "%s: rules %s" % (obj, {r for *_, r in rows}))
    count = by_id(pages["send"], "count").text()
    expect(count.startswith("%d of " % len(in_scope)), "#kind=send count: %r" % count)

    # Search (q=finance) among the writes: groups naming Finance, or nesting a group that does.
    def mentions(g):
        names = [g["displayName"], g.get("description") or ""]
        names += [groups[m["id"]]["displayName"] for m in g.get("members", []) if m["id"] in groups]
        return any("finance" in x.lower() for x in names)
    got = sorted(obj for kind, obj, rows in entries(pages["finance"]))
    want = sorted(dn(g) for g in in_scope if mentions(g))
    expect(got == want, "q=finance: %s, expected %s" % (got, want))
    got = [obj for kind, obj, rows in entries(pages["hostile"])]
    want = [dn(g) for g in in_scope if "</script>" in (g.get("description") or "")]
    expect(got == want, "q=</script>: %s, expected %s" % (got, want))
    expect(by_id(pages["hostile"], "q").attrs.get("value", "") in ("", "</script>"), "search box")
    # An initial cycle reverts no drift.
    expect(not entries(pages["drift"]) and "no changes match" in by_id(pages["drift"], "list").text(),
           "#drift=1 lists %d changes" % len(entries(pages["drift"])))

    for p in problems:
        print("FAIL: " + p)
    print("report page: %d sends, %d checks failed" % (len(sends), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
