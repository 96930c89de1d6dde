import * as applicationinsights from '@pulumi/azure-native/applicationinsights/index.js';
import * as consumption from '@pulumi/azure-native/consumption/index.js';
import * as dashboard from '@pulumi/azure-native/dashboard/index.js';
import * as monitor from '@pulumi/azure-native/monitor/index.js';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights/index.js';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config.js';
import { type DashboardFile, loadDashboards } from '../dashboards.js';
import { grafanaName } from '../naming.js';
import type { Network } from './network.js';

export interface MonitoringArgs {
  resourceGroupName: pulumi.Input<string>;
  resourceGroupId: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  network: Network;
}

/**
 * Sends a resource's logs and metrics to the workspace. Key Vault audit events, storage access logs and
 * Synapse/IoT Hub/APIM logs feed the security and pipeline alert rules; metrics feed the dashboards.
 */
export function sendDiagnostics(
  name: string,
  args: { resourceUri: pulumi.Input<string>; workspaceId: pulumi.Input<string>; metrics?: boolean },
  parent: pulumi.Resource,
): monitor.DiagnosticSetting {
  return new monitor.DiagnosticSetting(
    `diag-${name}`,
    {
      name: 'to-log-analytics',
      resourceUri: args.resourceUri,
      workspaceId: args.workspaceId,
      logs: [{ categoryGroup: 'allLogs', enabled: true }],
      ...(args.metrics === false ? {} : { metrics: [{ category: 'AllMetrics', enabled: true }] }),
    },
    { parent },
  );
}

/**
 * Observability: a Log Analytics workspace (the design's 90-day retention) behind an Azure Monitor Private
 * Link Scope, workspace-based Application Insights with local auth off, the on-call action group, a cost
 * budget, and Azure Managed Grafana reached only through a private endpoint. The alert rules live in the
 * Alerting component, which needs every other resource to exist first.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly workspace: operationalinsights.Workspace;
  readonly appInsights: applicationinsights.Component;
  readonly privateLinkScope: monitor.PrivateLinkScope;
  readonly actionGroup: monitor.ActionGroup;
  readonly grafana: dashboard.Grafana;
  readonly budget: consumption.Budget;
  readonly dashboards: DashboardFile[];

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Monitoring', name, {}, opts);
    const { resourceGroupName, location, config, network } = args;
    const { tags, monitoring } = config;

    this.workspace = new operationalinsights.Workspace(
      'log-aurora',
      {
        resourceGroupName,
        location,
        tags,
        sku: { name: 'PerGB2018' },
        retentionInDays: monitoring.logRetentionDays,
        workspaceCapping: { dailyQuotaGb: monitoring.logDailyCapGb },
        publicNetworkAccessForIngestion: 'Disabled',
        publicNetworkAccessForQuery: 'Disabled',
        features: { disableLocalAuth: true, enableLogAccessUsingOnlyResourcePermissions: true },
      },
      { parent: this },
    );

    this.appInsights = new applicationinsights.Component(
      'appi-aurora',
      {
        resourceGroupName,
        location,
        tags,
        kind: 'web',
        applicationType: 'web',
        ingestionMode: 'LogAnalytics',
        workspaceResourceId: this.workspace.id,
        retentionInDays: monitoring.logRetentionDays,
        disableLocalAuth: true,
        publicNetworkAccessForIngestion: 'Disabled',
        publicNetworkAccessForQuery: 'Disabled',
      },
      { parent: this },
    );

    this.privateLinkScope = new monitor.PrivateLinkScope(
      'ampls-aurora',
      {
        resourceGroupName,
        location: 'global',
        tags,
        accessModeSettings: { ingestionAccessMode: 'PrivateOnly', queryAccessMode: 'PrivateOnly' },
      },
      { parent: this },
    );
    for (const [key, linked] of [
      ['workspace', this.workspace.id],
      ['appinsights', this.appInsights.id],
    ] as const) {
      new monitor.PrivateLinkScopedResource(
        `ampls-${key}`,
        { resourceGroupName, scopeName: this.privateLinkScope.name, name: key, linkedResourceId: linked },
        { parent: this.privateLinkScope },
      );
    }
    network.privateEndpoint(
      'monitor',
      {
        serviceId: this.privateLinkScope.id,
        groupId: 'azuremonitor',
        zones: ['monitor', 'oms', 'ods', 'agentsvc', 'blob'],
      },
      this,
    );

    this.actionGroup = new monitor.ActionGroup(
      'ag-platform-oncall',
      {
        resourceGroupName,
        location: 'global',
        tags,
        enabled: true,
        groupShortName: `aurora-${config.stack}`.slice(0, 12),
        emailReceivers: [
          { name: 'platform-oncall', emailAddress: monitoring.alertEmail, useCommonAlertSchema: true },
        ],
      },
      { parent: this },
    );

    this.budget = new consumption.Budget(
      'budget-aurora',
      {
        scope: args.resourceGroupId,
        amount: monitoring.monthlyBudget,
        category: 'Cost',
        timeGrain: 'Monthly',
        timePeriod: { startDate: `${monitoring.budgetStartDate}T00:00:00Z` },
        notifications: {
          actual80: {
            enabled: true,
            operator: 'GreaterThan',
            threshold: 80,
            thresholdType: 'Actual',
            contactEmails: [monitoring.alertEmail],
            contactGroups: [this.actionGroup.id],
          },
          forecast100: {
            enabled: true,
            operator: 'GreaterThan',
            threshold: 100,
            thresholdType: 'Forecasted',
            contactEmails: [monitoring.alertEmail],
            contactGroups: [this.actionGroup.id],
          },
        },
      },
      { parent: this },
    );

    this.grafana = new dashboard.Grafana(
      'grafana',
      {
        resourceGroupName,
        location,
        tags,
        workspaceName: grafanaName(config.stack),
        sku: { name: 'Standard' },
        identity: { type: 'SystemAssigned' },
        properties: {
          publicNetworkAccess: 'Disabled',
          apiKey: 'Disabled',
          deterministicOutboundIP: 'Disabled',
          zoneRedundancy: monitoring.grafanaZoneRedundant ? 'Enabled' : 'Disabled',
          grafanaMajorVersion: '11',
        },
      },
      { parent: this },
    );
    network.privateEndpoint(
      'grafana',
      { serviceId: this.grafana.id, groupId: 'grafana', zones: ['grafana'] },
      this,
    );
    // Grafana queries the private workspace through its own managed private endpoint into the scope;
    // the connection is approved once on the scope (README, "After the first pulumi up").
    new dashboard.ManagedPrivateEndpoint(
      'grafana-to-monitor',
      {
        resourceGroupName,
        location,
        workspaceName: this.grafana.name,
        managedPrivateEndpointName: 'azure-monitor',
        privateLinkResourceId: this.privateLinkScope.id,
        groupIds: ['azuremonitor'],
        requestMessage: 'Aurora Managed Grafana reads the Log Analytics workspace',
      },
      { parent: this.grafana },
    );

    this.dashboards = loadDashboards();

    this.registerOutputs({
      workspaceId: this.workspace.id,
      appInsightsId: this.appInsights.id,
      actionGroupId: this.actionGroup.id,
      grafanaId: this.grafana.id,
    });
  }
}
