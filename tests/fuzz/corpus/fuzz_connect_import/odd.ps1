# A PowerShell export with things mvsync does not read.
Import-Module ADSync
$connectorHR = Get-ADSyncConnector -Name "HR"
[int] $precedence = 60

New-ADSyncRule `
-Name 'In from HR - PowerShell' `
-Identifier '11111111-2222-3333-4444-777777777777' `
-Direction 'Inbound' `
-Precedence $precedence `
-SourceObjectType 'user' `
-TargetObjectType 'person' `
-Connector $connectorHR.Identifier `
-LinkType 'Join' `
-ImmutableTag '' `
-OutVariable syncRule

Add-ADSyncAttributeFlowMapping `
-SynchronizationRule $syncRule[0] `
-Source @('true') `
-Destination 'cloudNoFlow' `
-FlowType 'Constant' `
-ValueMergeType 'Update' `
-OutVariable syncRule

Set-ADSyncScheduler -SyncCycleEnabled $true

New-Object `
-TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' `
-ArgumentList 'mail','','ISNULL' `
-OutVariable condition0

Add-ADSyncScopeConditionGroup `
-SynchronizationRule $syncRule[0] `
-ScopeConditions @($condition0[0]) `
-OutVariable syncRule

Add-ADSyncRule `
-SynchronizationRule $syncRule[0]

New-ADSyncRule -Name 'Never added' -Direction 'Inbound' -OutVariable syncRule
