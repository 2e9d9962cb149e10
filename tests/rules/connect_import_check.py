#!/usr/bin/env python3
"""Hold `mvsync rules import connect` output to the Connect export it came from.

usage: connect_import_check.py MVSYNC EXPORT_DIR OUT_DIR [IMPORT_STDOUT]

Reads the export with Python's ElementTree — rules, connectors, metaverse schema — and
compares every rule of `mvsync rules show --json OUT_DIR` with it: id, name, direction,
connector (by the name Connectors/*.xml gives the rule's connector GUID), object types, link
type, precedence, immutable tag, disabled, password sync, every scope clause (operator names
as Connect writes them, ISBITNOTSET being mvsync's ISNOTBITSET; a %Connector.ID% value is
the connector's {guid}), every join condition, and every flow (target, kind, source
attributes, merge type, apply once; an expression's text compared without white space and
parentheses, since mvsync prints it canonically).  Also the connectors' names and types and
the metaverse object types with their attributes, syntaxes and multi-valuedness.  Nothing
here comes from mvsync: the expected side is the XML alone, and for the outbound rules to the
Azure AD connector what Graph refuses, read from the table of docs/entra-mapping.md (which
cites Microsoft Learn for every row): a rule whose object type Graph does not create (contact,
device) and a flow whose target is read-only, has no Graph property or is not sent yet must
be left out, each reported once as not carried (IMPORT_STDOUT: what the import printed).
"""
import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

SYNTAX = {
    '1.3.6.1.4.1.1466.115.121.1.15': 'string',
    '1.3.6.1.4.1.1466.115.121.1.27': 'integer',
    '1.3.6.1.4.1.1466.115.121.1.7': 'boolean',
    '1.3.6.1.4.1.1466.115.121.1.5': 'binary',
    '1.3.6.1.4.1.1466.115.121.1.12': 'reference',
    '1.3.6.1.4.1.1466.115.121.1.24': 'datetime',
}
DSML = '{http://www.dsml.org/DSML}'

failures = []
REFUSED_FATES = ('read-only', 'no Graph property', 'not sent yet')
GRAPH_TYPES = ('user', 'group')


def load_graph_fates(doc):
    """{(type, AAD name): fate} from the table of docs/entra-mapping.md."""
    fates = {}
    for line in open(doc, encoding='utf-8'):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) != 7 or not cells[0].startswith('`'):
            continue
        name = cells[0].strip('`')
        fates[('user', name)] = cells[2]
        fates[('group', name)] = cells[4]
    return fates


def load_carried_changed(doc):
    """{AAD name: how} from the table of docs/entra-mapping.md, "What the import carries
    changed": 'apply-once' (the flow is made apply-once) or 'keep' (a Direct flow [x] becomes
    IIF(IsPresent([x]), [x], IgnoreThisFlow))."""
    out, on = {}, False
    for line in open(doc, encoding='utf-8'):
        if line.startswith('## '):
            on = line.strip() == '## What the import carries changed'
            continue
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if on and len(cells) == 3 and cells[0].startswith('`'):
            out[cells[0].strip('`')] = 'apply-once' if cells[1] == 'apply-once' else 'keep'
    return out


def check(what, got, want):
    if got != want:
        failures.append('%s: got %r, want %r' % (what, got, want))


def text(e, tag):
    c = e.find(tag)
    return (c.text or '').strip() if c is not None else ''


def guid(s):
    return s.strip().strip('{}').lower()


def squeeze(expr):
    return re.sub(r'[\s()]', '', expr)


def load_connectors(export):
    out = {}
    for f in glob.glob(os.path.join(export, 'Connectors', '*.xml')):
        r = ET.parse(f).getroot()
        subtype = text(r, 'subtype')
        kind = 'ad' if text(r, 'category') == 'AD' else \
            'entra' if 'Azure Active Directory' in subtype else 'ldap'
        out[guid(text(r, 'id'))] = (text(r, 'name'), kind)
    return out


def expected_rule(r, connectors):
    cid = guid(text(r, 'connector'))
    rule = {
        'id': guid(text(r, 'id')),
        'direction': text(r, 'direction').lower(),
        'connector': connectors[cid][0],
        'source_type': text(r, 'sourceObjectType'),
        'target_type': text(r, 'targetObjectType'),
        'link': text(r, 'linkType').lower(),
        'precedence': int(text(r, 'precedence')),
        'immutable_tag': text(r, 'immutable-tag') or None,
        'disabled': text(r, 'disabled').lower() == 'true',
        'enable_password_sync': text(r, 'EnablePasswordSync').lower() == 'true',
    }
    scope = []
    for g in r.findall('synchronizationCriteria/conditions'):
        group = []
        for c in g.findall('scope'):
            op = text(c, 'csOperator').upper()
            op = 'ISNOTBITSET' if op == 'ISBITNOTSET' else op
            value = c.find('csValue').text or ''
            if value == '%Connector.ID%':
                value = '{%s}' % cid
            clause = {'attribute': text(c, 'csAttribute'), 'operator': op}
            if op in ('ISBITSET', 'ISNOTBITSET') and value.isdigit():
                clause['value'] = int(value)
            elif op not in ('ISNULL', 'ISNOTNULL'):
                clause['value'] = value
            group.append(clause)
        scope.append(group)
    rule['scope'] = scope
    rule['join'] = [[{'cs_attribute': text(c, 'csAttribute'),
                      'mv_attribute': text(c, 'ilmAttribute'),
                      'case_sensitive': text(c, 'caseSensitive').lower() == 'true'}
                     for c in g.findall('condition')]
                    for g in r.findall('relationshipCriteria/conditions')]
    flows = []
    for m in r.findall('attribute-mappings/mapping'):
        merge = text(m, 'valueMergeType').lower()
        flow = {'target': text(m, 'dest'),
                'merge': 'update' if merge in ('', 'update', 'replace') else merge,
                'apply_once': m.get('execute-once', '').lower() == 'true'}
        expr = text(m, 'expression')
        attrs = [a.text for a in m.findall('src/attr')]
        if expr:
            flow['type'] = 'expression'
            flow['expression'] = squeeze(expr)
            # What the expression reads: [attr], and the quoted names of ImportedValue and
            # ValueCount (Connect's own <src> list is not always complete).
            flow['sources'] = sorted(set(re.findall(r'\[([^\]]+)\]', expr)) |
                                     set(re.findall(r'(?:ImportedValue|ValueCount)\(\s*"([^"]+)"',
                                                    expr)))
        elif attrs:
            flow['type'] = 'direct'
            flow['sources'] = attrs
        else:
            flow['type'] = 'constant'
            src = m.find('src')
            flow['value'] = ''.join(src.itertext()).strip()
        flows.append(flow)
    rule['flows'] = flows
    return rule


def got_rule(r):
    out = {k: r[k] for k in ('id', 'direction', 'connector', 'source_type', 'target_type',
                             'link', 'precedence', 'immutable_tag', 'disabled',
                             'enable_password_sync', 'scope', 'join')}
    flows = []
    for f in r['flows']:
        flow = {'target': f['target'], 'merge': f['merge'], 'apply_once': f['apply_once'],
                'type': f['type']}
        if f['type'] == 'expression':
            flow['expression'] = squeeze(f['expression'])
            flow['sources'] = sorted(set(f['sources']))
        elif f['type'] == 'direct':
            flow['sources'] = f['sources']
        else:
            v = f['value']
            flow['value'] = ('True' if v else 'False') if isinstance(v, bool) else str(v)
        flows.append(flow)
    out['flows'] = flows
    return out


def main():
    mvsync, export, out_dir = sys.argv[1:4]
    show = subprocess.run([mvsync, 'rules', 'show', '--json', out_dir], capture_output=True,
                          text=True)
    if show.returncode != 0:
        print(show.stderr)
        return 1
    got = json.loads(show.stdout)
    connectors = load_connectors(export)

    check('connectors', sorted((c['name'], c['type']) for c in got['connectors']),
          sorted(connectors.values()))

    here = os.path.dirname(os.path.abspath(__file__))
    doc = os.path.join(here, '..', '..', 'docs', 'entra-mapping.md')
    fates = load_graph_fates(doc)
    changed_how = load_carried_changed(doc)
    n_changed = 0
    rules = {}
    refused = []    # (rule name, target attribute or None for the whole rule)
    n_xml_flows = 0
    for f in sorted(glob.glob(os.path.join(export, 'SynchronizationRules', '*.xml'))):
        r = ET.parse(f).getroot()
        rule = expected_rule(r, connectors)
        name = text(r, 'name')
        n_xml_flows += len(rule['flows'])
        to_graph = rule['direction'] == 'outbound' and \
            connectors[guid(text(r, 'connector'))][1] == 'entra'
        if to_graph and rule['target_type'] not in GRAPH_TYPES:
            refused.append((name, None))
            continue
        if to_graph:
            keep = []
            for fl in rule['flows']:
                how = changed_how.get(fl['target'])
                if fates.get((rule['target_type'], fl['target'])) in REFUSED_FATES:
                    refused.append((name, fl['target']))
                    continue
                if how == 'apply-once' and not fl['apply_once']:
                    fl['apply_once'] = True
                    n_changed += 1
                elif how == 'keep' and fl['type'] == 'direct':
                    x = fl['sources'][0]
                    fl.update(type='expression', sources=[x],
                              expression=squeeze('IIF(IsPresent([%s]),[%s],IgnoreThisFlow)' % (x, x)))
                    n_changed += 1
                keep.append(fl)
            rule['flows'] = keep
        rules[name] = rule
    got_rules = {r['name']: got_rule(r) for r in got['rules']}
    check('rule names', sorted(got_rules), sorted(rules))
    n_flows = n_clauses = n_joins = 0
    for name, want in rules.items():
        have = got_rules.get(name)
        if not have:
            continue
        for k in want:
            if k == 'flows':
                # Connect's order of flows is kept; compare flow by flow for a readable diff.
                check('rule %r: number of flows' % name, len(have['flows']), len(want['flows']))
                for i, (a, b) in enumerate(zip(have['flows'], want['flows'])):
                    check('rule %r flow %d (-> %s)' % (name, i + 1, b['target']), a, b)
            else:
                check('rule %r: %s' % (name, k), have[k], want[k])
        n_flows += len(want['flows'])
        n_clauses += sum(len(g) for g in want['scope'])
        n_joins += sum(len(g) for g in want['join'])

    mv = ET.parse(os.path.join(export, 'GlobalSettings', 'MV.xml')).getroot()
    schema = mv.find('mv-data/schema/%sdsml/%sdirectory-schema' % (DSML, DSML))
    types = {}
    for t in schema.findall(DSML + 'attribute-type'):
        types[t.get('id')] = (SYNTAX[t.find(DSML + 'syntax').text],
                              t.get('single-value') != 'true')
    want_mv = []
    for c in schema.findall(DSML + 'class'):
        attrs = [a.get('ref').lstrip('#') for a in c.findall(DSML + 'attribute')]
        want_mv.append({'object': c.find(DSML + 'name').text,
                        'attributes': [{'name': a, 'syntax': types[a][0], 'multi': types[a][1]}
                                       for a in attrs]})
    check('metaverse', [o for o in got['metaverse']], want_mv)

    if len(sys.argv) > 4:
        out = open(sys.argv[4], encoding='utf-8').read()
        got_refused = sorted(
            [(m.group(2), m.group(1)) for m in re.finditer(
                r"flow to '([^']+)' of rule \"([^\"]+)\": Graph refuses it", out)] +
            [(m.group(1), None) for m in re.finditer(
                r'rule "([^"]+)": Graph does not create', out)], key=str)
        check('what Graph refuses, not carried', got_refused, sorted(refused, key=str))
        n_kept = sum(len(r['flows']) for r in rules.values())
        check('import summary', re.search(r'imported \d+ of \d+ rules and \d+ of \d+ flows',
                                          out).group(0) if 'imported' in out else out,
              'imported %d of %d rules and %d of %d flows' %
              (len(rules), len(rules) + sum(1 for x in refused if x[1] is None),
               n_kept, n_xml_flows))
        # What is not carried and what is carried changed are counted apart.
        check('not carried', re.search(r'^not carried: (\d+)$', out, re.M).group(1),
              str(len(refused)))
        m = re.search(r'^carried changed: (\d+)$', out, re.M)
        check('carried changed count', m.group(1) if m else '0', str(n_changed))
        check('carried changed', len(re.findall(r'(?:made apply-once|IgnoreThisFlow\)): ', out)),
              n_changed)

    for f in failures[:40]:
        print('FAIL', f)
    print('%d rules, %d flows, %d scope clauses, %d join conditions, %d metaverse types '
          'compared with the export (%d rules and flows Graph refuses left out, %d carried changed): '
          '%d differences' % (len(rules), n_flows, n_clauses, n_joins, len(want_mv), len(refused),
                               n_changed, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
