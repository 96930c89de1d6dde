import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const httpUrl = z.url({ protocol: /^https?$/ });
const port = z.coerce.number().int().min(0).max(65_535);
const positive = z.coerce.number().positive();
const secondsList = z
  .string()
  .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'expected comma-separated seconds, e.g. 30,60,120')
  .transform((s) => s.split(',').map((n) => Math.round(Number(n) * 1000)));

/**
 * Every setting Aurora reads from the environment, with its local default. The README's configuration
 * table is this schema in prose; keep them together.
 */
export const configSchema = z.object({
  AURORA_HOME: z.string().default('.aurora'),
  AURORA_PORT: port.default(7071),
  AURORA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  AURORA_STORAGE_CONNECTION_STRING: z
    .string()
    .regex(/(BlobEndpoint|AccountName)=/, 'expected an Azure Storage connection string')
    .optional(),
  AURORA_LAKE_BLOB_URL: z.url({ protocol: /^https?$/ }).optional(),
  AURORA_LAKE_TABLE_URL: z.url({ protocol: /^https?$/ }).optional(),
  AURORA_AZURITE_BLOB_PORT: port.default(10_000),
  AURORA_AZURITE_QUEUE_PORT: port.default(10_001),
  AURORA_AZURITE_TABLE_PORT: port.default(10_002),
  AURORA_MQTT_URL: z
    .string()
    .regex(/^mqtts?:\/\/[^/\s]+/, 'expected mqtt://host:port or mqtts://host:port')
    .optional(),
  AURORA_MQTT_PORT: port.default(1883),
  AURORA_SIMULATE: z.stringbool().default(true),
  AURORA_IOT_RATE_HZ: positive.max(100).default(0.25),
  AURORA_IOT_BAD_RATIO: z.coerce.number().min(0).max(1).default(0.005),
  AURORA_IOT_SLA_S: positive.default(300),
  AURORA_EDGE_BATCH_MAX: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  AURORA_EDGE_FLUSH_MS: z.coerce.number().int().min(10).default(5000),
  AURORA_RETRY_DELAYS_S: secondsList.default([30_000, 60_000, 120_000]),
  AURORA_MES_OVERLAP_S: z.coerce.number().int().min(0).max(86_400).default(300),
  AURORA_MES_INITIAL_LOOKBACK_H: z.coerce
    .number()
    .positive()
    .max(24 * 366)
    .default(72),
  AURORA_MES_TIMEOUT_S: positive.max(600).default(30),
  AURORA_MES_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  AURORA_MES_SIMATIC_URL: httpUrl.optional(),
  AURORA_MES_SIMATIC_GRANT: z.enum(['password', 'client_credentials']).default('password'),
  AURORA_MES_SIMATIC_CLIENT_ID: z.string().optional(),
  AURORA_MES_SIMATIC_USERNAME: z.string().optional(),
  AURORA_MES_HYDRA_URL: httpUrl.optional(),
  AURORA_MES_HYDRA_ACCESS_ID: z
    .string()
    .regex(/^\d{8}$/, 'expected the 8-digit MIP access id of this client, e.g. 00123456')
    .optional(),
  AURORA_MES_REGENSBURG_URL: httpUrl.optional(),
  AURORA_MES_REGENSBURG_USERNAME: z.string().optional(),
  AURORA_SAP_ASHOST: z.string().optional(),
  AURORA_SAP_SYSNR: z
    .string()
    .regex(/^\d{2}$/, 'expected the 2-digit system number, e.g. 00')
    .optional(),
  AURORA_SAP_CLIENT: z
    .string()
    .regex(/^\d{3}$/, 'expected the 3-digit client, e.g. 100')
    .optional(),
  AURORA_SAP_USER: z.string().optional(),
  AURORA_SAP_LANG: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'expected a 2-letter language, e.g. EN')
    .default('EN'),
  AURORA_SAP_DEST: z.string().regex(/^\S+$/, 'expected a destination of sapnwrfc.ini, e.g. PRD').optional(),
  AURORA_SAP_POOL_LOW: z.coerce.number().int().min(0).max(64).default(2),
  AURORA_SAP_POOL_HIGH: z.coerce.number().int().min(1).max(64).default(4),
  AURORA_SAP_TIMEOUT_S: positive.max(3600).default(120),
  AURORA_SAP_GOODSMVT_LOOKBACK_DAYS: z.coerce.number().int().min(0).max(31).default(3),
  AURORA_SAP_INITIAL_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(400).default(3),
  AURORA_KEY_VAULT_URL: z.url({ protocol: /^https$/ }).optional(),
  AURORA_SECRETS_TTL_S: z.coerce.number().int().min(0).max(86_400).default(300),
  AURORA_PRIVACY_KEK: z
    .url({ protocol: /^https$/ })
    .regex(
      /^https:\/\/[^/]+\/keys\/[A-Za-z0-9-]+(\/[A-Za-z0-9]+)?$/,
      'expected a Key Vault key URL, https://<vault>.vault.azure.net/keys/<name>[/<version>]',
    )
    .optional(),
  AURORA_PRIVACY_KEY_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'expected a table name: letters and digits, 3-63 characters')
    .default('privacykeys'),
  AURORA_PRIVACY_DEADLINE_H: positive.max(24 * 90).default(72),
  AURORA_EVENTHUB_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'expected the namespace host, e.g. evhns-aurora-prod.servicebus.windows.net')
    .optional(),
  AURORA_EVENTHUB_NAME: z.string().default('telemetry'),
  AURORA_EVENTHUB_CONSUMER_GROUP: z.string().default('$Default'),
  AURORA_ERP_CONNECT_STRING: z
    .string()
    .regex(/^[^\s]+$/, 'expected an Easy Connect string (host:1521/SERVICE) or a TNS alias')
    .optional(),
  AURORA_ERP_USER: z.string().optional(),
  AURORA_ERP_ORACLE_CLIENT_LIB_DIR: z.string().optional(),
  AURORA_ERP_TABLES: z.string().optional(),
  AURORA_ERP_DB_TIME_ZONE: z
    .string()
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'expected an IANA time zone, e.g. Europe/Berlin')
    .default('Europe/Berlin'),
  AURORA_ERP_DB_VERSION: z.enum(['11.2', '19c']).default('19c'),
  AURORA_ERP_SNAPSHOT_LOOKBACK_S: z.coerce.number().int().min(0).max(86_400).default(600),
  AURORA_ERP_WATERMARK_LOOKBACK_S: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(3600),
  AURORA_ERP_CHUNK_ROWS: z.coerce.number().int().min(1).max(10_000_000).default(50_000),
  AURORA_LAKE_DFS_URL: z.url({ protocol: /^https$/ }).optional(),
  AURORA_SYNAPSE_SQL_SERVER: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'expected the SQL endpoint host, e.g. synw-aurora-prod.sql.azuresynapse.net')
    .optional(),
  AURORA_SYNAPSE_SQL_DATABASE: z.string().optional(),
  AURORA_SYNAPSE_MV_REBUILD_THRESHOLD: z.coerce.number().positive().max(100).default(0.3),
  AURORA_API_ISSUER: z.string().optional(),
  AURORA_API_AUDIENCE: z.string().optional(),
  AURORA_API_JWKS_URL: z.url({ protocol: /^https$/ }).optional(),
  AURORA_API_FACILITY_CLAIM: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'expected a claim name')
    .default('facility'),
  AURORA_API_RATE_LIMIT_CALLS: z.coerce.number().int().min(1).default(1000),
  AURORA_API_RATE_LIMIT_PERIOD_S: z.coerce.number().int().min(1).default(3600),
  AURORA_API_CACHE_TTL_S: z.coerce.number().int().min(0).default(300),
});

type RawConfig = z.infer<typeof configSchema>;

export interface AuroraConfig {
  /** Absolute directory holding all local state (Azurite data, lock files). */
  home: string;
  port: number;
  logLevel: RawConfig['AURORA_LOG_LEVEL'];
  storage:
    | { kind: 'azure'; connectionString: string }
    | { kind: 'azure-identity'; blobUrl: string; tableUrl: string }
    | { kind: 'azurite'; blobPort: number; queuePort: number; tablePort: number };
  mqtt: { kind: 'external'; url: string } | { kind: 'embedded'; port: number };
  simulate: boolean;
  iot: { rateHz: number; badRatio: number; slaS: number; edgeBatchMax: number; edgeFlushMs: number };
  retryDelaysMs: number[];
  mes: MesConfig;
  sap: SapConfig;
  /** Where secrets come from: Key Vault when a vault URL is set, else the environment; cached for ttlMs. */
  secrets: { keyVaultUrl?: string; ttlMs: number };
  /** The telemetry Event Hub, for replay and load tests in Azure (namespace host unset = not configured). */
  eventHub: { namespace?: string; name: string; consumerGroup: string };
  erp: ErpConfig;
  synapse: SynapseConfig;
  api: ApiConfig;
  privacy: PrivacyConfig;
}

/**
 * Personal data: the key-encryption key (a Key Vault key in Azure; unset = the local key file
 * $AURORA_HOME/keys/privacy.json), the key table, and the deadline of data-subject requests.
 */
export interface PrivacyConfig {
  kekUrl?: string;
  keyTable: string;
  deadlineH: number;
}

/**
 * The HTTP API. Without `auth`, tokens come from Aurora's local issuer (`aurora token`); with it, from
 * Entra ID. `gateway` is what the local host applies in place of API Management.
 */
export interface ApiConfig {
  auth?: { issuer: string; audience: string; jwksUrl: string };
  facilityClaim: string;
  gateway: { calls: number; periodS: number; cacheTtlS: number };
}

/** The Synapse dedicated pool gold is loaded into (orchestrator, Azure only); unset server = no pool. */
export interface SynapseConfig {
  pool?: { server: string; database: string };
  /** The lake's DFS endpoint COPY INTO reads from (default: AURORA_LAKE_BLOB_URL with .blob. -> .dfs.). */
  lakeDfsUrl?: string;
  /** REBUILD a materialized view when its tracking rows exceed this share of its rows. */
  mvRebuildThreshold: number;
}

/** The Oracle EBS source; no connect string means the local stand-in (when simulating). */
export interface ErpConfig {
  oracle?: { connectString: string; user: string; clientLibDir?: string };
  /** AURORA_ERP_TABLES as given (parsed by the connector), or unset for its default set. */
  tables?: string;
  timeZone: string;
  /** What the stand-in pretends to be (11.2: no STANDARD_HASH). */
  standInVersion: '11.2' | '19c';
  snapshotLookbackS: number;
  watermarkLookbackS: number;
  chunkRows: number;
}

/** Where each plant's MES is; an unset URL means the local stand-in (when simulating). */
export interface MesConfig {
  overlapMs: number;
  initialLookbackMs: number;
  timeoutMs: number;
  pageSize: number;
  simatic?: { url: string; grant: 'password' | 'client_credentials'; clientId: string; username?: string };
  hydra?: { url: string; accessId: string };
  regensburg?: { url: string; username: string };
}

/**
 * SAP over RFC. Without `connection`, the local RFC stand-in answers (when simulating). The password is
 * the secret `sap-rfc-password`, never a setting.
 */
export interface SapConfig {
  connection?: {
    ashost?: string;
    sysnr?: string;
    client?: string;
    dest?: string;
    user: string;
    lang: string;
  };
  pool: { low: number; high: number };
  timeoutS: number;
  /** Goods movements are selected by posting date: how many days before the last run each run re-reads. */
  goodsMovementLookbackDays: number;
  /** Where the first run of each BAPI starts, in days back from now. */
  initialLookbackDays: number;
}

/**
 * Reads and validates the environment once, at start-up. Empty strings count as unset. One error names
 * every bad variable, so a misconfigured deployment is fixed in one go.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): AuroraConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(
      ([key, value]) => key.startsWith('AURORA_') && value !== undefined && value !== '',
    ),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      problem: issue.message,
    }));
    const lines = issues.map(
      (i) => `  ${i.variable}=${JSON.stringify(present[i.variable] ?? '')}: ${i.problem}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`, issues);
  }
  const c = parsed.data;
  const missing = requiredTogether(c);
  if (missing.length > 0) {
    const lines = missing.map((m) => `  ${m.variable}: ${m.problem}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`, missing);
  }
  return {
    home: isAbsolute(c.AURORA_HOME) ? c.AURORA_HOME : resolve(cwd, c.AURORA_HOME),
    port: c.AURORA_PORT,
    logLevel: c.AURORA_LOG_LEVEL,
    storage: c.AURORA_STORAGE_CONNECTION_STRING
      ? { kind: 'azure', connectionString: c.AURORA_STORAGE_CONNECTION_STRING }
      : c.AURORA_LAKE_BLOB_URL && c.AURORA_LAKE_TABLE_URL
        ? { kind: 'azure-identity', blobUrl: c.AURORA_LAKE_BLOB_URL, tableUrl: c.AURORA_LAKE_TABLE_URL }
        : {
            kind: 'azurite',
            blobPort: c.AURORA_AZURITE_BLOB_PORT,
            queuePort: c.AURORA_AZURITE_QUEUE_PORT,
            tablePort: c.AURORA_AZURITE_TABLE_PORT,
          },
    mqtt: c.AURORA_MQTT_URL
      ? { kind: 'external', url: c.AURORA_MQTT_URL }
      : { kind: 'embedded', port: c.AURORA_MQTT_PORT },
    simulate: c.AURORA_SIMULATE,
    iot: {
      rateHz: c.AURORA_IOT_RATE_HZ,
      badRatio: c.AURORA_IOT_BAD_RATIO,
      slaS: c.AURORA_IOT_SLA_S,
      edgeBatchMax: c.AURORA_EDGE_BATCH_MAX,
      edgeFlushMs: c.AURORA_EDGE_FLUSH_MS,
    },
    retryDelaysMs: c.AURORA_RETRY_DELAYS_S,
    secrets: {
      ...(c.AURORA_KEY_VAULT_URL ? { keyVaultUrl: c.AURORA_KEY_VAULT_URL } : {}),
      ttlMs: c.AURORA_SECRETS_TTL_S * 1000,
    },
    eventHub: {
      ...(c.AURORA_EVENTHUB_NAMESPACE ? { namespace: c.AURORA_EVENTHUB_NAMESPACE } : {}),
      name: c.AURORA_EVENTHUB_NAME,
      consumerGroup: c.AURORA_EVENTHUB_CONSUMER_GROUP,
    },
    erp: {
      ...(c.AURORA_ERP_CONNECT_STRING
        ? {
            oracle: {
              connectString: c.AURORA_ERP_CONNECT_STRING,
              user: c.AURORA_ERP_USER ?? '',
              ...(c.AURORA_ERP_ORACLE_CLIENT_LIB_DIR
                ? { clientLibDir: c.AURORA_ERP_ORACLE_CLIENT_LIB_DIR }
                : {}),
            },
          }
        : {}),
      ...(c.AURORA_ERP_TABLES ? { tables: c.AURORA_ERP_TABLES } : {}),
      timeZone: c.AURORA_ERP_DB_TIME_ZONE,
      standInVersion: c.AURORA_ERP_DB_VERSION,
      snapshotLookbackS: c.AURORA_ERP_SNAPSHOT_LOOKBACK_S,
      watermarkLookbackS: c.AURORA_ERP_WATERMARK_LOOKBACK_S,
      chunkRows: c.AURORA_ERP_CHUNK_ROWS,
    },
    synapse: {
      ...(c.AURORA_SYNAPSE_SQL_SERVER
        ? { pool: { server: c.AURORA_SYNAPSE_SQL_SERVER, database: c.AURORA_SYNAPSE_SQL_DATABASE ?? '' } }
        : {}),
      ...(c.AURORA_LAKE_DFS_URL || c.AURORA_LAKE_BLOB_URL
        ? { lakeDfsUrl: c.AURORA_LAKE_DFS_URL ?? c.AURORA_LAKE_BLOB_URL!.replace('.blob.', '.dfs.') }
        : {}),
      mvRebuildThreshold: c.AURORA_SYNAPSE_MV_REBUILD_THRESHOLD,
    },
    privacy: {
      ...(c.AURORA_PRIVACY_KEK ? { kekUrl: c.AURORA_PRIVACY_KEK } : {}),
      keyTable: c.AURORA_PRIVACY_KEY_TABLE,
      deadlineH: c.AURORA_PRIVACY_DEADLINE_H,
    },
    api: {
      ...(c.AURORA_API_ISSUER
        ? {
            auth: {
              issuer: c.AURORA_API_ISSUER,
              audience: c.AURORA_API_AUDIENCE ?? '',
              jwksUrl: c.AURORA_API_JWKS_URL ?? '',
            },
          }
        : {}),
      facilityClaim: c.AURORA_API_FACILITY_CLAIM,
      gateway: {
        calls: c.AURORA_API_RATE_LIMIT_CALLS,
        periodS: c.AURORA_API_RATE_LIMIT_PERIOD_S,
        cacheTtlS: c.AURORA_API_CACHE_TTL_S,
      },
    },
    sap: {
      ...(c.AURORA_SAP_ASHOST || c.AURORA_SAP_DEST
        ? {
            connection: {
              ...(c.AURORA_SAP_ASHOST ? { ashost: c.AURORA_SAP_ASHOST } : {}),
              ...(c.AURORA_SAP_SYSNR ? { sysnr: c.AURORA_SAP_SYSNR } : {}),
              ...(c.AURORA_SAP_CLIENT ? { client: c.AURORA_SAP_CLIENT } : {}),
              ...(c.AURORA_SAP_DEST ? { dest: c.AURORA_SAP_DEST } : {}),
              user: c.AURORA_SAP_USER ?? '',
              lang: c.AURORA_SAP_LANG.toUpperCase(),
            },
          }
        : {}),
      pool: { low: c.AURORA_SAP_POOL_LOW, high: c.AURORA_SAP_POOL_HIGH },
      timeoutS: c.AURORA_SAP_TIMEOUT_S,
      goodsMovementLookbackDays: c.AURORA_SAP_GOODSMVT_LOOKBACK_DAYS,
      initialLookbackDays: c.AURORA_SAP_INITIAL_LOOKBACK_DAYS,
    },
    mes: {
      overlapMs: c.AURORA_MES_OVERLAP_S * 1000,
      initialLookbackMs: c.AURORA_MES_INITIAL_LOOKBACK_H * 3_600_000,
      timeoutMs: c.AURORA_MES_TIMEOUT_S * 1000,
      pageSize: c.AURORA_MES_PAGE_SIZE,
      ...(c.AURORA_MES_SIMATIC_URL
        ? {
            simatic: {
              url: c.AURORA_MES_SIMATIC_URL,
              grant: c.AURORA_MES_SIMATIC_GRANT,
              clientId: c.AURORA_MES_SIMATIC_CLIENT_ID ?? '',
              ...(c.AURORA_MES_SIMATIC_USERNAME ? { username: c.AURORA_MES_SIMATIC_USERNAME } : {}),
            },
          }
        : {}),
      ...(c.AURORA_MES_HYDRA_URL
        ? { hydra: { url: c.AURORA_MES_HYDRA_URL, accessId: c.AURORA_MES_HYDRA_ACCESS_ID ?? '' } }
        : {}),
      ...(c.AURORA_MES_REGENSBURG_URL
        ? {
            regensburg: {
              url: c.AURORA_MES_REGENSBURG_URL,
              username: c.AURORA_MES_REGENSBURG_USERNAME ?? '',
            },
          }
        : {}),
    },
  };
}

/** Settings that only make sense together: a real MES needs its client settings too. */
function requiredTogether(c: RawConfig): { variable: string; problem: string }[] {
  const out: { variable: string; problem: string }[] = [];
  const need = (when: unknown, variable: keyof RawConfig, because: string) => {
    if (when && !c[variable]) out.push({ variable, problem: `required with ${because}` });
  };
  need(c.AURORA_LAKE_BLOB_URL, 'AURORA_LAKE_TABLE_URL', 'AURORA_LAKE_BLOB_URL');
  need(c.AURORA_LAKE_TABLE_URL, 'AURORA_LAKE_BLOB_URL', 'AURORA_LAKE_TABLE_URL');
  need(c.AURORA_MES_SIMATIC_URL, 'AURORA_MES_SIMATIC_CLIENT_ID', 'AURORA_MES_SIMATIC_URL');
  need(
    c.AURORA_MES_SIMATIC_URL && c.AURORA_MES_SIMATIC_GRANT === 'password',
    'AURORA_MES_SIMATIC_USERNAME',
    'AURORA_MES_SIMATIC_GRANT=password',
  );
  need(c.AURORA_MES_HYDRA_URL, 'AURORA_MES_HYDRA_ACCESS_ID', 'AURORA_MES_HYDRA_URL');
  need(c.AURORA_MES_REGENSBURG_URL, 'AURORA_MES_REGENSBURG_USERNAME', 'AURORA_MES_REGENSBURG_URL');
  need(c.AURORA_ERP_CONNECT_STRING, 'AURORA_ERP_USER', 'AURORA_ERP_CONNECT_STRING');
  need(c.AURORA_ERP_ORACLE_CLIENT_LIB_DIR, 'AURORA_ERP_CONNECT_STRING', 'AURORA_ERP_ORACLE_CLIENT_LIB_DIR');
  need(c.AURORA_SYNAPSE_SQL_SERVER, 'AURORA_SYNAPSE_SQL_DATABASE', 'AURORA_SYNAPSE_SQL_SERVER');
  need(c.AURORA_SYNAPSE_SQL_DATABASE, 'AURORA_SYNAPSE_SQL_SERVER', 'AURORA_SYNAPSE_SQL_DATABASE');
  need(c.AURORA_API_ISSUER, 'AURORA_API_AUDIENCE', 'AURORA_API_ISSUER');
  need(c.AURORA_API_ISSUER, 'AURORA_API_JWKS_URL', 'AURORA_API_ISSUER');
  need(c.AURORA_API_AUDIENCE, 'AURORA_API_ISSUER', 'AURORA_API_AUDIENCE');
  need(c.AURORA_API_JWKS_URL, 'AURORA_API_ISSUER', 'AURORA_API_JWKS_URL');
  need(c.AURORA_SAP_ASHOST, 'AURORA_SAP_SYSNR', 'AURORA_SAP_ASHOST');
  need(c.AURORA_SAP_ASHOST, 'AURORA_SAP_CLIENT', 'AURORA_SAP_ASHOST');
  need(c.AURORA_SAP_ASHOST || c.AURORA_SAP_DEST, 'AURORA_SAP_USER', 'AURORA_SAP_ASHOST or AURORA_SAP_DEST');
  if (c.AURORA_SAP_POOL_HIGH < c.AURORA_SAP_POOL_LOW)
    out.push({
      variable: 'AURORA_SAP_POOL_HIGH',
      problem: `must be at least AURORA_SAP_POOL_LOW (${c.AURORA_SAP_POOL_LOW})`,
    });
  return out;
}
