import { FACILITIES } from './config.js';

/**
 * Aurora's alert rules as data: 47 rules in five categories, each with the signal it watches. The
 * Alerting component turns every row into an Azure Monitor rule (log search, metric or activity log) wired
 * to the on-call action group; the README documents the log events the log rules read.
 */

export const ALERT_CATEGORIES = [
  'pipeline-failure',
  'freshness-sla',
  'dead-letter',
  'security',
  'resource-health',
] as const;
export type AlertCategory = (typeof ALERT_CATEGORIES)[number];

/** Resources a metric rule can watch; the Alerting component maps each to a resource id. */
export type MetricTarget = 'sparkPool' | 'iotHub';

export interface LogSignal {
  kind: 'log';
  /** KQL over the Log Analytics workspace (App Insights tables, AzureDiagnostics, StorageBlobLogs). */
  query: string;
  /** The rule fires when the number of result rows crosses the threshold. */
  operator: 'GreaterThan';
  threshold: number;
  windowMinutes: number;
  frequencyMinutes: number;
}

export interface MetricSignal {
  kind: 'metric';
  target: MetricTarget;
  metricNamespace: string;
  metricName: string;
  aggregation: 'Total' | 'Average' | 'Maximum';
  operator: 'GreaterThan';
  threshold: number;
  dimensions?: { name: string; values: string[] }[];
  windowMinutes: number;
  frequencyMinutes: number;
}

export interface ActivityCondition {
  field: string;
  equals: string;
}

export interface ActivitySignal {
  kind: 'activity';
  scope: 'resourceGroup' | 'subscription';
  /** Every entry must hold; an array entry holds when any of its conditions does. */
  allOf: (ActivityCondition | ActivityCondition[])[];
}

export type AlertSignal = LogSignal | MetricSignal | ActivitySignal;

export interface AlertRule {
  /** Stable, kebab-case; part of the Azure rule name. */
  id: string;
  category: AlertCategory;
  title: string;
  /** Azure Monitor severity: 0 critical ... 4 verbose. */
  severity: 0 | 1 | 2 | 3 | 4;
  signal: AlertSignal;
}

/** Reads a structured-log field whether the host put it in Properties or left the JSON line in Message. */
const field = (name: string) => `tostring(coalesce(Properties["${name}"], parse_json(Message)["${name}"]))`;
const events = (event: string, windowMinutes: number) =>
  [
    'AppTraces',
    `| where TimeGenerated > ago(${windowMinutes}m)`,
    `| extend event = ${field('event')}`,
    `| where event == "${event}"`,
  ].join('\n');

/** Long windows are evaluated less often: Azure requires the frequency to suit the window. */
const defaultFrequency = (windowMinutes: number) =>
  windowMinutes >= 1440 ? 60 : windowMinutes >= 60 ? 15 : 5;

const log = (query: string, windowMinutes: number, threshold = 0): LogSignal => ({
  kind: 'log',
  query,
  operator: 'GreaterThan',
  threshold,
  windowMinutes,
  frequencyMinutes: Math.min(defaultFrequency(windowMinutes), windowMinutes),
});

/** Function names the pipeline-failure rules watch; each Function App's table must use these names. */
export const WATCHED_FUNCTIONS = {
  oracleErp: 'ingestOracleErp',
  mes: {
    augsburg: 'ingestMesAugsburg',
    ingolstadt: 'ingestMesIngolstadt',
    regensburg: 'ingestMesRegensburg',
  },
  iotTelemetry: 'iotTelemetry',
  sapTransactional: 'ingestSapTransactional',
  sapMasterData: 'ingestSapMaster',
  medallionRun: 'medallionRun',
  viewRefresh: 'refreshMaterializedViews',
} as const;

const failedInvocations = (functionName: string, windowMinutes = 15) =>
  log(
    [
      'AppRequests',
      `| where TimeGenerated > ago(${windowMinutes}m)`,
      `| where OperationName == "${functionName}" and Success == false`,
    ].join('\n'),
    windowMinutes,
  );

const pipelineFailure = (id: string, title: string, signal: AlertSignal): AlertRule => ({
  id: `pipeline-${id}`,
  category: 'pipeline-failure',
  title,
  severity: 2,
  signal,
});

const pipelineFailures: AlertRule[] = [
  pipelineFailure(
    'oracle-erp-failed',
    'Oracle ERP extraction failed',
    failedInvocations(WATCHED_FUNCTIONS.oracleErp),
  ),
  ...FACILITIES.map((facility) =>
    pipelineFailure(
      `mes-${facility}-failed`,
      `MES extraction for ${facility} failed`,
      failedInvocations(WATCHED_FUNCTIONS.mes[facility]),
    ),
  ),
  pipelineFailure(
    'iot-telemetry-failed',
    'IoT telemetry landing failed',
    failedInvocations(WATCHED_FUNCTIONS.iotTelemetry),
  ),
  pipelineFailure(
    'sap-transactional-failed',
    'SAP transactional extraction failed',
    failedInvocations(WATCHED_FUNCTIONS.sapTransactional, 60),
  ),
  pipelineFailure(
    'sap-master-data-failed',
    'SAP master data extraction failed',
    failedInvocations(WATCHED_FUNCTIONS.sapMasterData, 1440),
  ),
  pipelineFailure(
    'medallion-run-failed',
    'Medallion run failed',
    failedInvocations(WATCHED_FUNCTIONS.medallionRun),
  ),
  pipelineFailure(
    'medallion-run-overrun',
    'Medallion run took longer than its 15-minute schedule',
    log(
      [
        'AppRequests',
        '| where TimeGenerated > ago(30m)',
        `| where OperationName == "${WATCHED_FUNCTIONS.medallionRun}" and DurationMs > 900000`,
      ].join('\n'),
      30,
    ),
  ),
  pipelineFailure(
    'view-refresh-failed',
    'Synapse materialized-view refresh failed',
    failedInvocations(WATCHED_FUNCTIONS.viewRefresh, 60),
  ),
  pipelineFailure('spark-application-failed', 'A Synapse Spark application failed', {
    kind: 'metric',
    target: 'sparkPool',
    metricNamespace: 'Microsoft.Synapse/workspaces/bigDataPools',
    metricName: 'BigDataPoolApplicationsEnded',
    aggregation: 'Total',
    operator: 'GreaterThan',
    threshold: 0,
    dimensions: [{ name: 'JobResult', values: ['Failed'] }],
    windowMinutes: 15,
    frequencyMinutes: 5,
  }),
];

/** Freshness SLAs per dataset, in seconds (ARCHITECTURE §6: IoT < 5 min, ERP to silver < 30 min). */
export const FRESHNESS_SLAS_S: Readonly<Record<string, number>> = {
  'bronze/oracle-erp': 1800,
  'bronze/sap/transactional': 5400,
  'bronze/sap/master-data': 93600,
  ...Object.fromEntries(FACILITIES.map((f) => [`bronze/mes/${f}`, 1800])),
  ...Object.fromEntries(FACILITIES.map((f) => [`bronze/iot/${f}`, 300])),
  silver: 1800,
  gold: 1800,
  'synapse/gold': 1800,
};

/**
 * Breached when the newest `freshness.measured` event for the dataset reports a lag above the SLA, or
 * when no measurement arrived at all (a silent pipeline is as stale as a slow one).
 */
const freshnessRule = (dataset: string, slaS: number): AlertRule => {
  const windowMinutes = 30;
  return {
    id: `freshness-${dataset.replaceAll('/', '-')}`,
    category: 'freshness-sla',
    title: `${dataset} older than its ${slaS >= 7200 ? `${slaS / 3600}-hour` : `${slaS / 60}-minute`} SLA`,
    severity: dataset.startsWith('bronze/iot') ? 1 : 2,
    signal: log(
      [
        events('freshness.measured', windowMinutes),
        `| where ${field('dataset')} == "${dataset}"`,
        `| extend lagS = todouble(${field('lag_s')})`,
        '| summarize measurements = count(), worstLagS = max(lagS)',
        `| where measurements == 0 or worstLagS > ${slaS}`,
      ].join('\n'),
      windowMinutes,
    ),
  };
};

const freshness: AlertRule[] = Object.entries(FRESHNESS_SLAS_S).map(([dataset, slaS]) =>
  freshnessRule(dataset, slaS),
);

/** Dead letters per source (`bronze/_deadletter/{source}`), tolerated per hour before anyone is paged. */
export const DEAD_LETTER_THRESHOLDS_PER_HOUR: Readonly<Record<string, number>> = {
  'oracle-erp': 0,
  sap: 0,
  ...Object.fromEntries(FACILITIES.map((f) => [`mes-${f}`, 0])),
  iot: 3000,
};

const deadLetters: AlertRule[] = [
  ...Object.entries(DEAD_LETTER_THRESHOLDS_PER_HOUR).map(
    ([source, threshold]): AlertRule => ({
      id: `dead-letter-${source}`,
      category: 'dead-letter',
      title: `Dead letters growing for ${source}`,
      severity: 3,
      signal: log(
        [
          events('deadletter.written', 60),
          `| where ${field('source')} == "${source}"`,
          `| summarize deadLettered = sum(toint(${field('count')}))`,
          `| where deadLettered > ${threshold}`,
        ].join('\n'),
        60,
      ),
    }),
  ),
  {
    id: 'dead-letter-silver-quarantine',
    category: 'dead-letter',
    title: 'Silver quarantine growing',
    severity: 3,
    signal: log(
      [
        events('quarantine.written', 60),
        `| summarize rows = sum(toint(${field('rows')})) by table = ${field('table')}`,
        '| where rows > 100',
      ].join('\n'),
      60,
    ),
  },
  {
    id: 'dead-letter-iothub-unrouted',
    category: 'dead-letter',
    title: 'IoT Hub messages fell back to the built-in endpoint (unknown facility)',
    severity: 3,
    signal: {
      kind: 'metric',
      target: 'iotHub',
      metricNamespace: 'Microsoft.Devices/IotHubs',
      metricName: 'd2c.telemetry.egress.fallback',
      aggregation: 'Total',
      operator: 'GreaterThan',
      threshold: 0,
      windowMinutes: 15,
      frequencyMinutes: 5,
    },
  },
];

const administrative = (...operations: string[]): ActivitySignal => ({
  kind: 'activity',
  scope: 'resourceGroup',
  allOf: [
    { field: 'category', equals: 'Administrative' },
    operations.map((op) => ({ field: 'operationName', equals: op })),
  ],
});

const security: AlertRule[] = [
  {
    id: 'security-keyvault-access-denied',
    category: 'security',
    title: 'Key Vault denied a request',
    severity: 1,
    signal: log(
      [
        'AzureDiagnostics',
        '| where TimeGenerated > ago(15m)',
        '| where ResourceProvider == "MICROSOFT.KEYVAULT" and httpStatusCode_d in (401, 403)',
      ].join('\n'),
      15,
    ),
  },
  {
    id: 'security-keyvault-destructive-operation',
    category: 'security',
    title: 'A Key Vault secret or key was deleted or purged',
    severity: 1,
    signal: log(
      [
        'AzureDiagnostics',
        '| where TimeGenerated > ago(15m)',
        '| where ResourceProvider == "MICROSOFT.KEYVAULT"',
        '| where OperationName in ("SecretDelete", "SecretPurge", "KeyDelete", "KeyPurge", "VaultDelete")',
      ].join('\n'),
      15,
    ),
  },
  {
    id: 'security-role-assignment-changed',
    category: 'security',
    title: 'A role assignment was created or removed',
    severity: 2,
    signal: administrative(
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Authorization/roleAssignments/delete',
    ),
  },
  {
    id: 'security-nsg-changed',
    category: 'security',
    title: 'A network security group or rule changed',
    severity: 2,
    signal: administrative(
      'Microsoft.Network/networkSecurityGroups/write',
      'Microsoft.Network/networkSecurityGroups/securityRules/write',
      'Microsoft.Network/networkSecurityGroups/securityRules/delete',
    ),
  },
  {
    id: 'security-storage-access-denied',
    category: 'security',
    title: 'Repeated authorization failures on the lake',
    severity: 2,
    signal: log(
      [
        'StorageBlobLogs',
        '| where TimeGenerated > ago(15m)',
        '| where StatusCode == 403',
        '| summarize failures = count() by CallerIpAddress',
        '| where failures > 10',
      ].join('\n'),
      15,
    ),
  },
  {
    id: 'security-api-auth-failures',
    category: 'security',
    title: 'Burst of 401/403 responses from the API',
    severity: 2,
    signal: log(
      [
        'AppRequests',
        '| where TimeGenerated > ago(5m)',
        '| where Url has "/api/v1/" and ResultCode in ("401", "403")',
        '| summarize failures = count()',
        '| where failures > 50',
      ].join('\n'),
      5,
    ),
  },
  {
    id: 'security-personal-data-access-spike',
    category: 'security',
    title: 'Unusual volume of personal-data access',
    severity: 1,
    signal: log(
      [
        events('privacy.access', 60),
        `| summarize accesses = count() by subject = ${field('subject')}`,
        '| where accesses > 200',
      ].join('\n'),
      60,
    ),
  },
  {
    id: 'security-defender-alert',
    category: 'security',
    title: 'Microsoft Defender for Cloud raised a security alert',
    severity: 1,
    signal: { kind: 'activity', scope: 'resourceGroup', allOf: [{ field: 'category', equals: 'Security' }] },
  },
];

/** Resource types whose Resource Health is watched (one rule each). */
export const HEALTH_WATCHED_TYPES: Readonly<Record<string, string[]>> = {
  storage: ['Microsoft.Storage/storageAccounts'],
  'key-vault': ['Microsoft.KeyVault/vaults'],
  'event-hubs': ['Microsoft.EventHub/namespaces'],
  'iot-hub': ['Microsoft.Devices/IotHubs'],
  synapse: ['Microsoft.Synapse/workspaces', 'Microsoft.Synapse/workspaces/sqlPools'],
  functions: ['Microsoft.Web/sites'],
  'api-management': ['Microsoft.ApiManagement/service'],
};

const resourceHealth: AlertRule[] = [
  ...Object.entries(HEALTH_WATCHED_TYPES).map(
    ([name, types]): AlertRule => ({
      id: `health-${name}`,
      category: 'resource-health',
      title: `${name} unavailable or degraded`,
      severity: 1,
      signal: {
        kind: 'activity',
        scope: 'resourceGroup',
        allOf: [
          { field: 'category', equals: 'ResourceHealth' },
          types.map((t) => ({ field: 'resourceType', equals: t })),
          ['Unavailable', 'Degraded'].map((s) => ({ field: 'properties.currentHealthStatus', equals: s })),
        ],
      },
    }),
  ),
  {
    id: 'health-azure-service-incident',
    category: 'resource-health',
    title: 'Azure service incident affecting the subscription',
    severity: 1,
    signal: {
      kind: 'activity',
      scope: 'subscription',
      allOf: [
        { field: 'category', equals: 'ServiceHealth' },
        ['Incident', 'ActionRequired'].map((t) => ({ field: 'properties.incidentType', equals: t })),
      ],
    },
  },
];

/** The complete set; its size is part of the design (47). */
export const ALERT_CATALOGUE: readonly AlertRule[] = [
  ...pipelineFailures,
  ...freshness,
  ...deadLetters,
  ...security,
  ...resourceHealth,
];
