"""Check the DOM headless Chromium built from `mvsync authority --html` (authority_html.sh).

Expected values come from the inputs of the test, not from mvsync: engine case 071's rules
(one outbound rule, "Out to AD - Group", provisioning groups to AD; "In from Entra - User" at
precedence 50 and "In from AD - User" at 100 both flowing a person's employeeId), the metadata
the test gives the outbound rule (review-by 2026-06-30, before the --today 2026-12-05), and the
hand edit (Dee Late added to CN=Staff).  The JSON form only says how many attributes the page
must detail.  usage: authority_html_check.py DOM.html AUTHORITY.json
"""
import json
import sys
from html.parser import HTMLParser


class Page(HTMLParser):
    """Rows of the tables by id, the details elements, every element's tag."""

    def __init__(self):
        super().__init__()
        self.tables = {}
        self.table = None
        self.row = None
        self.cell = None
        self.details = []
        self.tags = []
        self.body_attrs = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "body":
            self.body_attrs = a
        if tag == "table" and a.get("id"):
            self.table = a["id"]
            self.tables[self.table] = []
        elif tag == "tr" and self.table:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
        elif tag == "details" and "attr" in (a.get("class") or ""):
            self.details.append(a.get("id"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def main():
    page = Page()
    page.feed(open(sys.argv[1], encoding="utf-8").read())
    n_attrs = len(json.load(open(sys.argv[2]))["attributes"])
    fails = []

    def check(cond, what):
        print(("ok - " if cond else "FAIL: ") + what)
        if not cond:
            fails.append(what)

    reg = page.tables.get("register", [])[1:]
    check(len(reg) == 1, "the register has one row: the one outbound rule to AD")
    if reg:
        r = reg[0]
        check(r[0].startswith("Out to AD - Group"), "register: the rule")
        check(r[1] == "</td><script>document.body.setAttribute('data-pwned','1')</script> & \"Staff\"",
              "register: the hostile purpose is shown as text, whole")
        check(r[2] == "Groups team <groups@contoso.com>", "register: the owner")
        check(r[3] == "2026-06-30", "register: review-by")
        check(r[5] == "dn, sAMAccountName, member", "register: the attributes it writes")
        check(r[7] == "provision, update, deprovision", "register: a provision rule's lifecycle")
    check("data-pwned" not in page.body_attrs, "nothing from the data ran")
    check("script" not in page.tags, "no script element in the DOM")

    rows = page.tables.get("findings", [])[1:]
    kinds = sorted(r[0] for r in rows)
    check(kinds == ["drift", "review-passed", "split"], "findings: drift, review-passed, split (%s)" % kinds)
    by = {r[0]: r for r in rows}
    if "drift" in by:
        d = by["drift"]
        check("member" in d[1] and "Out to AD - Group" in d[2], "drift: member, by Out to AD - Group")
        check("CN=Staff,OU=Groups,DC=contoso,DC=com" in d[4] and "CN=Dee Late,OU=Users,DC=contoso,DC=com" in d[4],
              "drift: the group and the member added by hand")
    if "split" in by:
        s = by["split"]
        check("employeeId" in s[1] and s[2] == "In from Entra - User, In from AD - User",
              "split: employeeId, Entra (50) before AD (100)")
    if "review-passed" in by:
        check("2026-06-30" in by["review-passed"][3], "review-passed: the date")
    check(len(page.details) == n_attrs and all(page.details), "one detail per attribute (%d)" % n_attrs)
    sys.exit(1 if fails else 0)


main()
