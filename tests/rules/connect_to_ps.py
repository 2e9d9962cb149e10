#!/usr/bin/env python3
"""Write the PowerShell form of the rules of a Connect export, as the Synchronization Rules
Editor's Export button and Microsoft's documentation write it.

usage: connect_to_ps.py EXPORT_DIR OUT.ps1

Shape (Microsoft Learn, "Migrate group writeback to Cloud Sync", and the editor's exports of
the out-of-box rules): per rule, New-ADSyncRule with -Name -Identifier -Description
-Direction -Precedence -PrecedenceAfter -PrecedenceBefore -SourceObjectType
-TargetObjectType -Connector -LinkType -SoftDeleteExpiryInterval -ImmutableTag
[-EnablePasswordSync] [-Disabled] -OutVariable syncRule; one Add-ADSyncAttributeFlowMapping
per flow (-Source @(...) -Destination -FlowType Direct|Constant|Expression -ValueMergeType
[-Expression] [-ExecuteOnce]; a constant's value is its -Source); New-Object ScopeCondition
/ JoinCondition with -ArgumentList and Add-ADSyncScopeConditionGroup /
Add-ADSyncJoinConditionGroup per group; Add-ADSyncRule; Get-ADSyncRule.  Lines are
continued with a backtick, strings single-quoted ('' for a quote).  Built from the XML with
ElementTree alone, so the import of this script and the import of the XML meet only in
mvsync's output.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET

OBJECT_MODEL = 'Microsoft.IdentityManagement.PowerShell.ObjectModel.'


def q(s):
    return "'" + (s or '').replace("'", "''") + "'"


def text(e, tag):
    c = e.find(tag)
    return (c.text or '') if c is not None else ''


def command(name, params):
    """A command, one parameter per line, continued with backticks."""
    lines = [name + '  `']
    for i, p in enumerate(params):
        lines.append(p + (' `' if i + 1 < len(params) else ''))
    return '\n'.join(lines) + '\n\n'


def rule_ps(r):
    out = []
    guid = text(r, 'id').strip('{}')
    params = ['-Name ' + q(text(r, 'name')),
              '-Identifier ' + q(guid),
              '-Description ' + q(text(r, 'description')),
              '-Direction ' + q(text(r, 'direction')),
              '-Precedence ' + text(r, 'precedence'),
              '-PrecedenceAfter ' + q(text(r, 'precedence-after').strip('{}')),
              '-PrecedenceBefore ' + q(text(r, 'precedence-before').strip('{}')),
              '-SourceObjectType ' + q(text(r, 'sourceObjectType')),
              '-TargetObjectType ' + q(text(r, 'targetObjectType')),
              '-Connector ' + q(text(r, 'connector').strip('{}')),
              '-LinkType ' + q(text(r, 'linkType')),
              '-SoftDeleteExpiryInterval 0',
              '-ImmutableTag ' + q(text(r, 'immutable-tag'))]
    if text(r, 'EnablePasswordSync').lower() == 'true':
        params.append('-EnablePasswordSync')
    if text(r, 'disabled').lower() == 'true':
        params.append('-Disabled')
    params.append('-OutVariable syncRule')
    out.append(command('New-ADSyncRule', params))

    for m in r.findall('attribute-mappings/mapping'):
        expr = text(m, 'expression')
        attrs = [a.text for a in m.findall('src/attr')]
        if expr:
            kind = 'Expression'
        elif attrs:
            kind = 'Direct'
        else:
            kind = 'Constant'
            attrs = [''.join(m.find('src').itertext()).strip()]
        params = ['-SynchronizationRule $syncRule[0]',
                  '-Source @(' + ','.join(q(a) for a in attrs) + ')',
                  '-Destination ' + q(text(m, 'dest')),
                  '-FlowType ' + q(kind),
                  '-ValueMergeType ' + q(text(m, 'valueMergeType'))]
        if expr:
            params.append('-Expression ' + q(expr))
        if m.get('execute-once', '').lower() == 'true':
            params.append('-ExecuteOnce')
        params.append('-OutVariable syncRule')
        out.append(command('Add-ADSyncAttributeFlowMapping', params))

    for g in r.findall('synchronizationCriteria/conditions'):
        names = []
        for i, c in enumerate(g.findall('scope')):
            out.append(command('New-Object', [
                '-TypeName ' + q(OBJECT_MODEL + 'ScopeCondition'),
                '-ArgumentList ' + ','.join([q(text(c, 'csAttribute')), q(text(c, 'csValue')),
                                             q(text(c, 'csOperator'))]),
                '-OutVariable condition%d' % i]))
            names.append('$condition%d[0]' % i)
        out.append(command('Add-ADSyncScopeConditionGroup', [
            '-SynchronizationRule $syncRule[0]',
            '-ScopeConditions @(' + ','.join(names) + ')',
            '-OutVariable syncRule']))

    for g in r.findall('relationshipCriteria/conditions'):
        names = []
        for i, c in enumerate(g.findall('condition')):
            sensitive = text(c, 'caseSensitive').lower() == 'true'
            out.append(command('New-Object', [
                '-TypeName ' + q(OBJECT_MODEL + 'JoinCondition'),
                '-ArgumentList ' + ','.join([q(text(c, 'csAttribute')),
                                             q(text(c, 'ilmAttribute')),
                                             '$true' if sensitive else '$false']),
                '-OutVariable condition%d' % i]))
            names.append('$condition%d[0]' % i)
        out.append(command('Add-ADSyncJoinConditionGroup', [
            '-SynchronizationRule $syncRule[0]',
            '-JoinConditions @(' + ','.join(names) + ')',
            '-OutVariable syncRule']))

    out.append(command('Add-ADSyncRule', ['-SynchronizationRule $syncRule[0]']))
    out.append(command('Get-ADSyncRule', ['-Identifier ' + q(guid)]))
    return ''.join(out)


def main():
    export, out = sys.argv[1], sys.argv[2]
    parts = ['# The synchronization rules of %s, in the form the Synchronization Rules\n'
             '# Editor exports (generated by tests/rules/connect_to_ps.py).\n\n'
             % os.path.basename(os.path.normpath(export))]
    for f in sorted(glob.glob(os.path.join(export, 'SynchronizationRules', '*.xml'))):
        parts.append(rule_ps(ET.parse(f).getroot()))
    with open(out, 'w', encoding='utf-8') as fh:
        fh.write(''.join(parts))
    return 0


if __name__ == '__main__':
    sys.exit(main())
