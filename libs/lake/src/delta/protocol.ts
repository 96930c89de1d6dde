/**
 * The parts of the Delta Lake transaction protocol (PROTOCOL.md, reader v1 / writer v2) that Aurora reads
 * and writes: actions, the Spark StructType schema, partition value encoding and log file names.
 */
import type { ColumnType, ParquetSchema } from '../parquet.js';

export interface DeltaProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[] | null;
  writerFeatures?: string[] | null;
}

export interface DeltaMetadataAction {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options?: Record<string, string> | null };
  /** A Spark StructType as JSON. */
  schemaString: string;
  partitionColumns: string[];
  configuration?: Record<string, string> | null;
  createdTime?: number | null;
}

export interface DeltaAddAction {
  /** Relative to the table root and URL-encoded (RFC 2396), as the protocol stores it. */
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON: numRecords, minValues, maxValues, nullCount. */
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}

export interface DeltaRemoveAction {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  deletionVector?: unknown;
}

export interface DeltaTxnAction {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

export interface DeltaCommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  readVersion?: number;
  isBlindAppend?: boolean;
  [key: string]: unknown;
}

/** One line of a commit file. Unknown action kinds (cdc, domainMetadata, ...) are kept but ignored. */
export type DeltaAction =
  | { protocol: DeltaProtocolAction }
  | { metaData: DeltaMetadataAction }
  | { add: DeltaAddAction }
  | { remove: DeltaRemoveAction }
  | { txn: DeltaTxnAction }
  | { commitInfo: DeltaCommitInfo };

export type DeltaPrimitiveType = string;
export interface DeltaStructField {
  name: string;
  type: DeltaDataType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}
export interface DeltaStructType {
  type: 'struct';
  fields: DeltaStructField[];
}
export type DeltaDataType =
  | DeltaPrimitiveType
  | DeltaStructType
  | { type: 'array'; elementType: DeltaDataType; containsNull: boolean }
  | { type: 'map'; keyType: DeltaDataType; valueType: DeltaDataType; valueContainsNull: boolean };

/** The protocol this implementation writes: no table features, so any Delta reader can read the table. */
export const WRITTEN_PROTOCOL: DeltaProtocolAction = { minReaderVersion: 1, minWriterVersion: 2 };
/** The highest reader version whose tables we can read correctly (v2 adds column mapping). */
export const MAX_READER_VERSION = 1;

export const LOG_FOLDER = '_delta_log/';
/** What Spark writes for a null partition value in a folder name. */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** `00000000000000000007.json`: versions are zero-padded to 20 digits so names sort by version. */
export const commitFileName = (version: number): string => `${String(version).padStart(20, '0')}.json`;
export const checkpointFileName = (version: number): string =>
  `${String(version).padStart(20, '0')}.checkpoint.parquet`;

export type LogFile =
  | { kind: 'commit'; version: number }
  | { kind: 'checkpoint'; version: number; part: number; parts: number }
  | { kind: 'last-checkpoint' };

/** Recognises the log's own files; anything else in `_delta_log/` (crc, temp files) is undefined. */
export function parseLogFileName(name: string): LogFile | undefined {
  if (name === '_last_checkpoint') return { kind: 'last-checkpoint' };
  const commit = /^(\d{20})\.json$/.exec(name);
  if (commit) return { kind: 'commit', version: Number(commit[1]) };
  const single = /^(\d{20})\.checkpoint\.parquet$/.exec(name);
  if (single) return { kind: 'checkpoint', version: Number(single[1]), part: 1, parts: 1 };
  const multi = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/.exec(name);
  if (multi) {
    return { kind: 'checkpoint', version: Number(multi[1]), part: Number(multi[2]), parts: Number(multi[3]) };
  }
  return undefined;
}

const columnToDelta: Record<ColumnType, string> = {
  VARCHAR: 'string',
  DOUBLE: 'double',
  BIGINT: 'long',
  INTEGER: 'integer',
  BOOLEAN: 'boolean',
  // Delta's `timestamp` is an instant (UTC-adjusted), exactly what ParquetCodec writes as TIMESTAMPTZ.
  TIMESTAMP: 'timestamp',
};

/** The Spark StructType of a ParquetSchema (every column nullable, as Spark writes them). */
export function toDeltaSchema(schema: ParquetSchema): DeltaStructType {
  return {
    type: 'struct',
    fields: schema.map((c) => ({ name: c.name, type: columnToDelta[c.type], nullable: true, metadata: {} })),
  };
}

/** The ParquetSchema to write a table's rows with, or a problem for a type our writer cannot produce. */
export function toParquetSchema(schema: DeltaStructType): ParquetSchema | string {
  const columns: { name: string; type: ColumnType }[] = [];
  for (const field of schema.fields) {
    const type = Object.entries(columnToDelta).find(([, delta]) => delta === field.type)?.[0];
    if (type === undefined) return `column ${field.name} has type ${JSON.stringify(field.type)}`;
    columns.push({ name: field.name, type: type as ColumnType });
  }
  return columns;
}

/** The DuckDB type of a primitive Delta type (partition columns are always primitive). */
export function duckTypeOf(type: DeltaDataType): string | undefined {
  if (typeof type !== 'string') return undefined;
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  const known: Record<string, string> = {
    string: 'VARCHAR',
    long: 'BIGINT',
    integer: 'INTEGER',
    short: 'SMALLINT',
    byte: 'TINYINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    binary: 'BLOB',
    date: 'DATE',
    timestamp: 'TIMESTAMPTZ',
    timestamp_ntz: 'TIMESTAMP',
  };
  return known[type];
}

/** Characters Hive (and so Spark) escapes in partition folder names, besides control characters. */
const HIVE_ESCAPED = new Set(['"', '#', '%', "'", '*', '/', ':', '=', '?', '\\', '{', '[', ']', '^']);
const mustEscape = (c: string) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || HIVE_ESCAPED.has(c);

/** A partition folder's value as Spark spells it: `2021-09-08 11%3A11%3A11`. */
export function escapePartitionValue(value: string | null): string {
  if (value === null || value === '') return NULL_PARTITION;
  return [...value]
    .map((c) => (mustEscape(c) ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : c))
    .join('');
}

/** The `add.path` form of a relative file path: URL-encoded per segment, `=` kept readable. */
export function encodeAddPath(relative: string): string {
  return relative
    .split('/')
    .map((segment) => encodeURIComponent(segment).replaceAll('%3D', '='))
    .join('/');
}

/** The file path an `add.path` names, relative to the table root (or absolute, which we refuse). */
export function decodeAddPath(path: string): string {
  return decodeURIComponent(path);
}

/** How a value of a written column is stored in `partitionValues` (strings, null for null). */
export function serializePartitionValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  // ISO 8601 in UTC is one of the protocol's accepted timestamp encodings and cannot be misread as local.
  if (value instanceof Date) return value.toISOString();
  return String(value);
}
