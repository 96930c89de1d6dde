/**
 * The lake's paths, exactly as ARCHITECTURE §3 fixes them (other tools read these): UTC partitions by the
 * date of extraction, except IoT, which is partitioned by the hour of the events it holds.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `20261123T081500123456Z`: UTC, sortable, microseconds so that files of one millisecond stay apart. */
export function fileTimestamp(at: Date, micros = 0): string {
  return (
    `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}` +
    `T${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}` +
    `${pad(at.getUTCMilliseconds(), 3)}${pad(micros, 3)}Z`
  );
}

/** `year=YYYY/month=MM/day=DD` of an instant, in UTC. */
export const datePartitions = (at: Date) =>
  `year=${at.getUTCFullYear()}/month=${pad(at.getUTCMonth() + 1)}/day=${pad(at.getUTCDate())}`;

const segment = (kind: string, value: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value) || value.includes('..')) {
    throw new Error(`invalid ${kind} "${value}" for a lake path`);
  }
  return value;
};

export const bronzePaths = {
  oracleErp: (table: string, extractedAt: Date, micros = 0) =>
    `bronze/oracle-erp/${segment('table', table)}/${datePartitions(extractedAt)}/${table}_${fileTimestamp(extractedAt, micros)}.parquet`,
  sap: (bapi: string, extractedAt: Date, micros = 0) =>
    `bronze/sap/${segment('bapi', bapi)}/${datePartitions(extractedAt)}/${bapi}_${fileTimestamp(extractedAt, micros)}.parquet`,
  mes: (facility: string, entity: string, extractedAt: Date, micros = 0) =>
    `bronze/mes/${segment('facility', facility)}/${segment('entity', entity)}/${datePartitions(extractedAt)}/${entity}_${fileTimestamp(extractedAt, micros)}.parquet`,
  /** `eventHour` picks the partition (any instant inside the hour); `extractedAt` names the file. */
  iot: (facility: string, eventHour: Date, extractedAt: Date, micros = 0) =>
    `bronze/iot/${segment('facility', facility)}/${datePartitions(eventHour)}/hour=${pad(eventHour.getUTCHours())}/telemetry_${fileTimestamp(extractedAt, micros)}.parquet`,
  /** Records that failed validation, kept with their reasons; `_`-prefixed so Synapse COPY skips it. */
  deadLetter: (source: string, at: Date, micros = 0) =>
    `bronze/_deadletter/${segment('source', source)}/${datePartitions(at)}/${source}_${fileTimestamp(at, micros)}.jsonl`,
};

/**
 * Reports of the migration checks (`aurora reconcile --against`, `aurora erp verify-load`), one JSON file
 * per run, partitioned by the UTC day of the run like bronze.
 */
export const reportPaths = {
  reconcile: (at: Date, micros = 0) =>
    `reports/reconcile/${datePartitions(at)}/reconcile_${fileTimestamp(at, micros)}.json`,
  erpVerifyLoad: (at: Date, micros = 0) =>
    `reports/erp-verify-load/${datePartitions(at)}/verify-load_${fileTimestamp(at, micros)}.json`,
};

export interface ParsedBronzePath {
  source: 'oracle-erp' | 'sap' | 'mes' | 'iot' | 'deadletter';
  /** Table, BAPI, MES entity, or `telemetry`. */
  entity: string;
  facility?: string;
  partition: { year: number; month: number; day: number; hour?: number };
}

const PATTERNS: [RegExp, (m: RegExpMatchArray) => Omit<ParsedBronzePath, 'partition'>][] = [
  [
    /^bronze\/oracle-erp\/([^/]+)\/(.+)\/\1_\d{8}T\d{12}Z\.parquet$/,
    (m) => ({ source: 'oracle-erp', entity: m[1]! }),
  ],
  [/^bronze\/sap\/([^/]+)\/(.+)\/\1_\d{8}T\d{12}Z\.parquet$/, (m) => ({ source: 'sap', entity: m[1]! })],
  [
    /^bronze\/mes\/([^/]+)\/([^/]+)\/(.+)\/\2_\d{8}T\d{12}Z\.parquet$/,
    (m) => ({ source: 'mes', facility: m[1]!, entity: m[2]! }),
  ],
  [
    /^bronze\/iot\/([^/]+)\/(.+)\/telemetry_\d{8}T\d{12}Z\.parquet$/,
    (m) => ({ source: 'iot', facility: m[1]!, entity: 'telemetry' }),
  ],
  [
    /^bronze\/_deadletter\/([^/]+)\/(.+)\/\1_\d{8}T\d{12}Z\.jsonl$/,
    (m) => ({ source: 'deadletter', entity: m[1]! }),
  ],
];

/** Reads a bronze path back into its parts; undefined for anything that does not follow the layout. */
export function parseBronzePath(path: string): ParsedBronzePath | undefined {
  for (const [pattern, build] of PATTERNS) {
    const match = path.match(pattern);
    if (!match) continue;
    const partitions = path.match(/\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})(?:\/hour=(\d{2}))?\//);
    if (!partitions) return undefined;
    const [, y, mo, d, h] = partitions;
    return {
      ...build(match),
      partition: {
        year: Number(y),
        month: Number(mo),
        day: Number(d),
        ...(h === undefined ? {} : { hour: Number(h) }),
      },
    };
  }
  return undefined;
}
