import * as monitor from '@pulumi/azure-native/monitor/index.js';
import * as pulumi from '@pulumi/pulumi';
import type { ActivityCondition, AlertRule, MetricTarget } from '../alert-catalogue.js';
import type { StackConfig } from '../config.js';

export interface AlertingArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  rules: readonly AlertRule[];
  actionGroupId: pulumi.Input<string>;
  /** Log Analytics workspace the log rules query. */
  workspaceId: pulumi.Input<string>;
  resourceGroupId: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  metricTargets: Record<MetricTarget, pulumi.Input<string>>;
}

const iso = (minutes: number) => (minutes % 60 === 0 ? `PT${minutes / 60}H` : `PT${minutes}M`);

const leaf = (c: ActivityCondition) => ({ field: c.field, equals: c.equals });

/**
 * Turns the alert catalogue into Azure Monitor rules: log search rules over the workspace, metric rules on
 * the resource they watch, activity-log rules for Resource Health, Service Health and security-relevant
 * administrative operations. Every rule notifies the on-call action group.
 */
export class Alerting extends pulumi.ComponentResource {
  readonly rules: pulumi.CustomResource[];

  constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Alerting', name, {}, opts);
    const { resourceGroupName, location, config } = args;
    const tags = { ...config.tags };

    this.rules = args.rules.map((rule): pulumi.CustomResource => {
      const ruleName = `aurora-${config.stack}-${rule.id}`;
      const common = { resourceGroupName, tags, description: `${rule.category}: ${rule.title}` };
      const signal = rule.signal;
      if (signal.kind === 'log') {
        return new monitor.ScheduledQueryRule(
          `alert-${rule.id}`,
          {
            ...common,
            location,
            ruleName,
            displayName: rule.title,
            kind: 'LogAlert',
            enabled: true,
            severity: rule.severity,
            scopes: [args.workspaceId],
            evaluationFrequency: iso(signal.frequencyMinutes),
            windowSize: iso(signal.windowMinutes),
            criteria: {
              allOf: [
                {
                  query: signal.query,
                  timeAggregation: 'Count',
                  operator: signal.operator,
                  threshold: signal.threshold,
                  failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
                },
              ],
            },
            autoMitigate: true,
            actions: { actionGroups: [args.actionGroupId] },
          },
          { parent: this },
        );
      }
      if (signal.kind === 'metric') {
        return new monitor.MetricAlert(
          `alert-${rule.id}`,
          {
            ...common,
            location: 'global',
            ruleName,
            enabled: true,
            severity: rule.severity,
            scopes: [args.metricTargets[signal.target]],
            evaluationFrequency: iso(signal.frequencyMinutes),
            windowSize: iso(signal.windowMinutes),
            criteria: {
              odataType: 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria',
              allOf: [
                {
                  criterionType: 'StaticThresholdCriterion',
                  name: 'threshold',
                  metricNamespace: signal.metricNamespace,
                  metricName: signal.metricName,
                  timeAggregation: signal.aggregation,
                  operator: signal.operator,
                  threshold: signal.threshold,
                  ...(signal.dimensions
                    ? { dimensions: signal.dimensions.map((d) => ({ ...d, operator: 'Include' })) }
                    : {}),
                },
              ],
            },
            autoMitigate: true,
            actions: [{ actionGroupId: args.actionGroupId }],
          },
          { parent: this },
        );
      }
      return new monitor.ActivityLogAlert(
        `alert-${rule.id}`,
        {
          ...common,
          location: 'global',
          activityLogAlertName: ruleName,
          enabled: true,
          scopes: [
            signal.scope === 'subscription'
              ? pulumi.interpolate`/subscriptions/${args.subscriptionId}`
              : args.resourceGroupId,
          ],
          condition: {
            allOf: signal.allOf.map((c) => (Array.isArray(c) ? { anyOf: c.map(leaf) } : leaf(c))),
          },
          actions: { actionGroups: [{ actionGroupId: args.actionGroupId }] },
        },
        { parent: this },
      );
    });

    this.registerOutputs({ ruleCount: this.rules.length });
  }
}
