import * as pulumi from '@pulumi/pulumi';

/**
 * The stack configuration, typed and validated in one place. Every value comes from
 * `Pulumi.<stack>.yaml` (namespace `aurora:`), except the four deployment-specific keys in
 * {@link DEPLOYMENT_KEYS}, which each organisation sets once with `pulumi config set`.
 */

export const PROJECT = 'aurora';
export const STACK_NAMES = ['dev', 'staging', 'prod'] as const;
export type StackName = (typeof STACK_NAMES)[number];

/** The three plants; IoT routing, freshness alerts and dashboards are per facility. */
export const FACILITIES = ['augsburg', 'ingolstadt', 'regensburg'] as const;
export type Facility = (typeof FACILITIES)[number];

/**
 * Lake redundancy. Only LRS, GRS and RA-GRS accounts support the Archive tier, which the bronze
 * lifecycle rule needs after two years (Azure does not archive ZRS, GZRS or RA-GZRS blobs).
 */
export const LAKE_SKUS = ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS'] as const;
export const GEO_REDUNDANT_SKUS: readonly string[] = [
  'Standard_GRS',
  'Standard_RAGRS',
  'Standard_GZRS',
  'Standard_RAGZRS',
];
export const HOST_STORAGE_SKUS = [
  'Standard_LRS',
  'Standard_ZRS',
  'Standard_GZRS',
  'Standard_RAGZRS',
] as const;
/**
 * API Management tiers that can reach the private api Function App and run `rate-limit-by-key`.
 * Consumption has no rate-limit-by-key; Basic, Standard and Basic v2 cannot reach a private backend.
 */
export const APIM_SKUS = ['Developer', 'StandardV2', 'Premium', 'PremiumV2'] as const;
export type ApimSku = (typeof APIM_SKUS)[number];
export const SPARK_NODE_SIZES = ['Small', 'Medium', 'Large', 'XLarge'] as const;

/** Keys that identify the deploying organisation; not in the repo, set once per stack. */
export const DEPLOYMENT_KEYS = [
  'adminGroupObjectId',
  'adminGroupName',
  'alertEmail',
  'apimPublisherEmail',
] as const;

export interface StackConfig {
  stack: StackName;
  location: string;
  tags: Record<string, string>;
  network: { hubAddressPrefix: string; spokeAddressPrefix: string };
  lake: { sku: (typeof LAKE_SKUS)[number]; softDeleteDays: number };
  functions: {
    hostStorageSku: (typeof HOST_STORAGE_SKUS)[number];
    maximumInstanceCount: number;
    instanceMemoryMb: number;
    apiAlwaysReadyInstances: number;
    sapPlanSku: string;
    sapPlanInstances: number;
  };
  keyVault: { softDeleteRetentionDays: number };
  ingestion: {
    iotHubSku: 'S1' | 'S2' | 'S3';
    iotHubUnits: number;
    eventHubsThroughputUnits: number;
    eventHubsMaxThroughputUnits: number;
    telemetryPartitions: number;
    telemetryRetentionDays: number;
  };
  analytics: {
    sqlPoolSku: string;
    sqlPoolBackupStorage: 'GRS' | 'LRS';
    sparkNodeSize: (typeof SPARK_NODE_SIZES)[number];
    sparkMinNodes: number;
    sparkMaxNodes: number;
    sparkAutoPauseMinutes: number;
  };
  api: { apimSku: ApimSku; apimCapacity: number; publisherName: string; publisherEmail: string };
  monitoring: {
    logRetentionDays: number;
    /** Daily ingestion cap in GB; -1 means no cap. */
    logDailyCapGb: number;
    alertEmail: string;
    grafanaZoneRedundant: boolean;
    /** Monthly budget in the billing currency. */
    monthlyBudget: number;
    budgetStartDate: string;
  };
  admins: { groupObjectId: string; groupName: string };
  /**
   * Where the plant's source systems are, as the ingest app's settings (AURORA_MES_*_URL and their client
   * settings). Optional per key: an unset MES makes its timer fail naming the setting, until it is set.
   */
  sourceSettings: Record<string, string>;
}

/** Optional stack keys that become ingest app settings (non-secret; secrets stay in Key Vault). */
export const SOURCE_SETTING_KEYS: Record<string, { setting: string; pattern: RegExp; expected: string }> = {
  mesSimaticUrl: {
    setting: 'AURORA_MES_SIMATIC_URL',
    pattern: /^https:\/\/\S+$/,
    expected: 'an https:// URL',
  },
  mesSimaticGrant: {
    setting: 'AURORA_MES_SIMATIC_GRANT',
    pattern: /^(password|client_credentials)$/,
    expected: 'password or client_credentials',
  },
  mesSimaticClientId: { setting: 'AURORA_MES_SIMATIC_CLIENT_ID', pattern: /^\S+$/, expected: 'a client id' },
  mesSimaticUsername: { setting: 'AURORA_MES_SIMATIC_USERNAME', pattern: /^\S+$/, expected: 'a user name' },
  mesHydraUrl: { setting: 'AURORA_MES_HYDRA_URL', pattern: /^https:\/\/\S+$/, expected: 'an https:// URL' },
  mesHydraAccessId: {
    setting: 'AURORA_MES_HYDRA_ACCESS_ID',
    pattern: /^\d{8}$/,
    expected: 'the 8-digit access id',
  },
  mesRegensburgUrl: {
    setting: 'AURORA_MES_REGENSBURG_URL',
    pattern: /^https:\/\/\S+$/,
    expected: 'an https:// URL',
  },
  mesRegensburgUsername: {
    setting: 'AURORA_MES_REGENSBURG_USERNAME',
    pattern: /^\S+$/,
    expected: 'a user name',
  },
  // SAP settings go to the sap app (every AURORA_SAP_* setting does); the password is the secret sap-rfc-password.
  sapAshost: {
    setting: 'AURORA_SAP_ASHOST',
    pattern: /^[A-Za-z0-9.-]+$/,
    expected: 'the application server host',
  },
  sapSysnr: { setting: 'AURORA_SAP_SYSNR', pattern: /^\d{2}$/, expected: 'the 2-digit system number' },
  sapClient: { setting: 'AURORA_SAP_CLIENT', pattern: /^\d{3}$/, expected: 'the 3-digit client' },
  sapUser: { setting: 'AURORA_SAP_USER', pattern: /^\S+$/, expected: 'the RFC user' },
};

/** The Function App a source setting belongs to: SAP's go to sap, the rest to ingest. */
export const sourceSettingApp = (setting: string): 'ingest' | 'sap' =>
  setting.startsWith('AURORA_SAP_') ? 'sap' : 'ingest';

/** Where values come from: `new pulumi.Config()` in a deployment, a plain map in tests. */
export interface ConfigSource {
  get(key: string): string | undefined;
}

export interface ConfigProblem {
  key: string;
  problem: string;
}

/** Every bad or missing key at once, so a stack file is fixed in one go. */
export class InfraConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `invalid configuration for stack "${stackName}":\n${problems.map((p) => `  ${PROJECT}:${p.key}: ${p.problem}`).join('\n')}`,
    );
    this.name = 'InfraConfigError';
  }
}

export const isStackName = (value: string): value is StackName =>
  (STACK_NAMES as readonly string[]).includes(value);

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function createReader(source: ConfigSource) {
  const problems: ConfigProblem[] = [];
  const raw = (key: string): string | undefined => {
    const value = source.get(key)?.trim();
    if (value === undefined || value === '') {
      problems.push({ key, problem: 'is required' });
      return undefined;
    }
    return value;
  };
  return {
    problems,
    string(key: string, check?: { pattern: RegExp; expected: string }): string {
      const value = raw(key);
      if (value !== undefined && check && !check.pattern.test(value)) {
        problems.push({ key, problem: `expected ${check.expected}, got "${value}"` });
      }
      return value ?? '';
    },
    oneOf<T extends string>(key: string, allowed: readonly T[], why = ''): T {
      const value = raw(key);
      if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
        problems.push({ key, problem: `expected one of ${allowed.join(', ')}, got "${value}"${why}` });
      }
      return (value ?? allowed[0]) as T;
    },
    int(key: string, min: number, max: number): number {
      const value = raw(key);
      if (value === undefined) return min;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        problems.push({ key, problem: `expected an integer from ${min} to ${max}, got "${value}"` });
        return min;
      }
      return n;
    },
    /** An optional key: undefined when unset, checked when set. */
    optional(key: string, check: { pattern: RegExp; expected: string }): string | undefined {
      const value = source.get(key)?.trim();
      if (value === undefined || value === '') return undefined;
      if (!check.pattern.test(value))
        problems.push({ key, problem: `expected ${check.expected}, got "${value}"` });
      return value;
    },
    bool(key: string): boolean {
      const value = raw(key);
      if (value !== undefined && value !== 'true' && value !== 'false') {
        problems.push({ key, problem: `expected true or false, got "${value}"` });
      }
      return value === 'true';
    },
  };
}

/** True when `cidr` is a valid IPv4 network address with its prefix length. */
export function isCidr(cidr: string): boolean {
  const m = CIDR.exec(cidr);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  return address % 2 ** (32 - prefix) === 0;
}

/**
 * Parses and validates one stack's configuration. Cross-field rules encode the design: prod keeps a
 * geo-redundant lake (RPO < 1 h) and an APIM tier with an SLA; Spark autoscale stays within Synapse limits;
 * the telemetry hub has a whole number of partitions per facility.
 */
export function parseStackConfig(stack: string, source: ConfigSource): StackConfig {
  const r = createReader(source);
  const problems = r.problems;
  if (!isStackName(stack))
    problems.push({ key: '(stack)', problem: `unknown stack; expected ${STACK_NAMES.join(', ')}` });
  const cidr = { pattern: CIDR, expected: 'an IPv4 CIDR such as 10.60.0.0/22' };

  const config: StackConfig = {
    stack: stack as StackName,
    location: r.string('location', {
      pattern: /^[a-z0-9]+$/,
      expected: 'an Azure region name such as westeurope',
    }),
    tags: { project: 'aurora', stack, 'managed-by': 'pulumi' },
    network: {
      hubAddressPrefix: r.string('hubAddressPrefix', cidr),
      spokeAddressPrefix: r.string('spokeAddressPrefix', cidr),
    },
    lake: {
      sku: r.oneOf('lakeSku', LAKE_SKUS, ' (the bronze Archive rule needs an LRS, GRS or RA-GRS account)'),
      softDeleteDays: r.int('blobSoftDeleteDays', 1, 365),
    },
    functions: {
      hostStorageSku: r.oneOf('hostStorageSku', HOST_STORAGE_SKUS),
      maximumInstanceCount: r.int('functionsMaxInstances', 1, 1000),
      instanceMemoryMb: Number(r.oneOf('functionsInstanceMemoryMb', ['512', '2048', '4096'] as const)),
      apiAlwaysReadyInstances: r.int('apiAlwaysReadyInstances', 0, 20),
      sapPlanSku: r.oneOf('sapPlanSku', ['P1v3', 'P2v3', 'P3v3'] as const),
      sapPlanInstances: r.int('sapPlanInstances', 1, 10),
    },
    keyVault: { softDeleteRetentionDays: r.int('keyVaultSoftDeleteDays', 7, 90) },
    ingestion: {
      iotHubSku: r.oneOf('iotHubSku', ['S1', 'S2', 'S3'] as const),
      iotHubUnits: r.int('iotHubUnits', 1, 200),
      eventHubsThroughputUnits: r.int('eventHubsThroughputUnits', 1, 40),
      eventHubsMaxThroughputUnits: r.int('eventHubsMaxThroughputUnits', 1, 40),
      telemetryPartitions: r.int('telemetryPartitions', 1, 32),
      telemetryRetentionDays: r.int('telemetryRetentionDays', 1, 7),
    },
    analytics: {
      sqlPoolSku: r.string('sqlPoolSku', {
        pattern: /^DW\d+c$/,
        expected: 'a Gen2 service level such as DW1000c',
      }),
      sqlPoolBackupStorage: r.oneOf('sqlPoolBackupStorage', ['GRS', 'LRS'] as const),
      sparkNodeSize: r.oneOf('sparkNodeSize', SPARK_NODE_SIZES),
      sparkMinNodes: r.int('sparkMinNodes', 3, 200),
      sparkMaxNodes: r.int('sparkMaxNodes', 3, 200),
      sparkAutoPauseMinutes: r.int('sparkAutoPauseMinutes', 5, 10080),
    },
    api: {
      apimSku: r.oneOf(
        'apimSku',
        APIM_SKUS,
        ' (Consumption has no rate-limit-by-key; Basic/Standard/BasicV2 cannot reach the private api app)',
      ),
      apimCapacity: r.int('apimCapacity', 1, 10),
      publisherName: r.string('apimPublisherName'),
      publisherEmail: r.string('apimPublisherEmail', { pattern: EMAIL, expected: 'an email address' }),
    },
    monitoring: {
      logRetentionDays: r.int('logRetentionDays', 30, 730),
      logDailyCapGb: Number(
        r.string('logDailyCapGb', { pattern: /^-?\d+$/, expected: '-1 (no cap) or a whole number of GB' }),
      ),
      alertEmail: r.string('alertEmail', { pattern: EMAIL, expected: 'an email address' }),
      grafanaZoneRedundant: r.bool('grafanaZoneRedundant'),
      monthlyBudget: r.int('monthlyBudget', 100, 1_000_000),
      budgetStartDate: r.string('budgetStartDate', {
        pattern: /^\d{4}-\d{2}-01$/,
        expected: 'the first day of a month, YYYY-MM-01',
      }),
    },
    admins: {
      groupObjectId: r.string('adminGroupObjectId', {
        pattern: GUID,
        expected: 'an Entra group object id (GUID)',
      }),
      groupName: r.string('adminGroupName'),
    },
    sourceSettings: Object.fromEntries(
      Object.entries(SOURCE_SETTING_KEYS).flatMap(([key, spec]) => {
        const value = r.optional(key, spec);
        return value === undefined ? [] : [[spec.setting, value]];
      }),
    ),
  };

  const { network, lake, ingestion, analytics, api, monitoring } = config;
  for (const [key, value] of [
    ['hubAddressPrefix', network.hubAddressPrefix],
    ['spokeAddressPrefix', network.spokeAddressPrefix],
  ] as const) {
    if (CIDR.test(value) && !isCidr(value))
      problems.push({ key, problem: `"${value}" is not a network address` });
  }
  const cap = monitoring.logDailyCapGb;
  const capAlreadyReported = problems.some((p) => p.key === 'logDailyCapGb');
  if (!capAlreadyReported && (!Number.isInteger(cap) || (cap !== -1 && cap < 1))) {
    problems.push({ key: 'logDailyCapGb', problem: 'expected -1 (no cap) or a whole number of GB' });
  }
  if (analytics.sparkMaxNodes < analytics.sparkMinNodes) {
    problems.push({
      key: 'sparkMaxNodes',
      problem: `must be at least sparkMinNodes (${analytics.sparkMinNodes})`,
    });
  }
  if (ingestion.telemetryPartitions % FACILITIES.length !== 0) {
    problems.push({
      key: 'telemetryPartitions',
      problem: `must be a multiple of ${FACILITIES.length} (the same number of partitions for each facility)`,
    });
  }
  if (ingestion.eventHubsMaxThroughputUnits < ingestion.eventHubsThroughputUnits) {
    problems.push({
      key: 'eventHubsMaxThroughputUnits',
      problem: 'must be at least eventHubsThroughputUnits',
    });
  }
  if (stack === 'prod') {
    if (!GEO_REDUNDANT_SKUS.includes(lake.sku)) {
      problems.push({
        key: 'lakeSku',
        problem: 'prod needs a geo-redundant lake (RPO < 1 h): Standard_GRS or Standard_RAGRS',
      });
    }
    if (analytics.sqlPoolBackupStorage !== 'GRS') {
      problems.push({
        key: 'sqlPoolBackupStorage',
        problem: 'prod keeps geo-redundant SQL pool backups (GRS)',
      });
    }
    if (api.apimSku === 'Developer') {
      problems.push({
        key: 'apimSku',
        problem: 'Developer has no SLA; prod needs StandardV2, Premium or PremiumV2',
      });
    }
  }
  if (problems.length > 0) throw new InfraConfigError(stack, problems);
  return config;
}

/** The current stack's configuration, read from Pulumi's config for namespace `aurora`. */
export function loadStackConfig(): StackConfig {
  return parseStackConfig(pulumi.getStack(), new pulumi.Config(PROJECT));
}
