import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';

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
  if (Boolean(c.AURORA_LAKE_BLOB_URL) !== Boolean(c.AURORA_LAKE_TABLE_URL)) {
    const missing = c.AURORA_LAKE_BLOB_URL ? 'AURORA_LAKE_TABLE_URL' : 'AURORA_LAKE_BLOB_URL';
    throw new ConfigError(`invalid configuration:\n  ${missing}: required together with the other lake URL`, [
      { variable: missing, problem: 'required together with the other lake URL' },
    ]);
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
  };
}
