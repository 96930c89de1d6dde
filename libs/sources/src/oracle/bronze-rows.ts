import { createHash, randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceDataError } from '@aurora/core';
import type { ColumnType } from '@aurora/lake';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api';
import type { RedoValue } from './logminer/index.js';
import { formatOracleDateTime, oracleNumberText, parseOracleDateTime } from './oracle-text.js';

/** An Oracle column as ALL_TAB_COLUMNS describes it, reduced to what landing needs. */
export interface OracleColumn {
  name: string;
  /** NUMBER, DATE, TIMESTAMP, VARCHAR2, CHAR, CLOB, ... (TIMESTAMP(6) is TIMESTAMP). */
  dataType: string;
  /** DATA_SCALE; null for a NUMBER without a declared scale. */
  scale: number | null;
}

/**
 * The Parquet type of an Oracle column in bronze: NUMBER with scale 0 (ids, codes, counts) as VARCHAR
 * holding Oracle's exact digits; other NUMBERs (quantities, prices) as DOUBLE; DATE and TIMESTAMP as UTC
 * TIMESTAMP, converted from the database server's zone; VARCHAR2, CHAR and CLOB as VARCHAR.
 */
export function bronzeType(column: OracleColumn): ColumnType {
  switch (column.dataType) {
    case 'NUMBER':
      return column.scale === 0 ? 'VARCHAR' : 'DOUBLE';
    case 'FLOAT':
    case 'BINARY_DOUBLE':
    case 'BINARY_FLOAT':
      return 'DOUBLE';
    case 'DATE':
    case 'TIMESTAMP':
      return 'TIMESTAMP';
    default:
      return 'VARCHAR';
  }
}

export type BronzeValue = string | number | Date | null;

/** The lineage columns every Oracle bronze row carries after the table's own. */
export const ERP_LINEAGE: readonly { name: string; type: ColumnType }[] = [
  { name: '_source', type: 'VARCHAR' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
  /** I, U, D from the redo; R for snapshot and full-load rows; U for watermark rows (insert or update). */
  { name: '_op', type: 'VARCHAR' },
  /** SCN of the change (CDC), or the SCN the snapshot was read at. Decimal text. */
  { name: '_scn', type: 'VARCHAR' },
  { name: '_commit_ts', type: 'TIMESTAMP' },
  { name: '_xid', type: 'VARCHAR' },
  /** The key column values joined by `|`, in key order. */
  { name: '_record_key', type: 'VARCHAR' },
  /** SHA-256 of the canonical row text, computed at the source (snapshot and full-load rows). */
  { name: '_row_sha256', type: 'VARCHAR' },
  /** Columns an update's redo does not carry (unchanged LOBs): null here, not known to be null. */
  { name: '_unavailable', type: 'VARCHAR' },
];

const numberType = (column: OracleColumn) => bronzeType(column);

/** How Oracle writes a number as text (TO_CHAR, LogMiner's quoted literals): `12`, `-.5`, `1.5E+125`. */
const ORACLE_NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** An integer's exact digits: what a NUMBER with scale 0 holds. */
const ORACLE_INTEGER_TEXT = /^[+-]?\d+$/;
/** BINARY_FLOAT and BINARY_DOUBLE may also hold infinities and NaN, written `Inf`, `-Inf`, `Nan`. */
const BINARY_SPECIAL: Readonly<Record<string, number>> = {
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  nan: Number.NaN,
};

const quoted = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

/**
 * A fetched text value (TO_CHAR output, or a SQL_REDO literal's text) as its bronze value. Numbers must be
 * written as Oracle writes them (never `0x1F`, never Infinity for a NUMBER), and an id (scale 0) must be
 * an integer: anything else is a SourceDataError, so the row is dead-lettered rather than landed as a
 * value it is not. An empty text is NULL, as it is to Oracle.
 */
export function fetchedToBronze(column: OracleColumn, text: string | null, zone: string): BronzeValue {
  if (text === null) return null;
  if (column.dataType === 'NUMBER' && column.scale === 0) {
    if (text === '') return null;
    if (!ORACLE_INTEGER_TEXT.test(text))
      throw new SourceDataError(`${column.name}: ${quoted(text)} is not an integer (the column has scale 0)`);
    return text;
  }
  switch (column.dataType === 'NUMBER' ? numberType(column) : bronzeType(column)) {
    case 'DOUBLE': {
      const trimmed = text.trim();
      if (trimmed === '') return null;
      const special = column.dataType.startsWith('BINARY_')
        ? BINARY_SPECIAL[trimmed.toLowerCase()]
        : undefined;
      if (special !== undefined) return special;
      const n = ORACLE_NUMBER_TEXT.test(trimmed) ? Number(trimmed) : Number.NaN;
      if (!Number.isFinite(n)) throw new SourceDataError(`${column.name}: ${quoted(text)} is not a number`);
      return n;
    }
    case 'TIMESTAMP': {
      const d = parseOracleDateTime(text, zone);
      if (!d) throw new SourceDataError(`${column.name}: "${text}" is not a date-time`);
      return d;
    }
    default:
      return text;
  }
}

/** A SQL_REDO literal as its bronze value, by the column's type. */
export function redoToBronze(column: OracleColumn, value: RedoValue | null, zone: string): BronzeValue {
  if (value === null) return null;
  if (typeof value === 'string') return fetchedToBronze(column, value, zone);
  switch (value.kind) {
    case 'number':
      return fetchedToBronze(column, value.text, zone);
    case 'date':
    case 'timestamp':
    case 'timestamp_tz':
      return fetchedToBronze(column, value.text, zone);
    case 'raw':
      return value.hex;
    case 'empty_lob':
      return '';
  }
}

/**
 * How a column enters the canonical row text the checksum is taken over: in Oracle, as an expression
 * (`NVL(TO_CHAR("C"), '\N')`); in Node, from a fetched text value; and from a landed bronze value. All
 * three give the same text. CLOBs are left out (STANDARD_HASH takes no LOB).
 */
export type HashKind = 'v' | 'n' | 'd' | 't';

export function hashKind(column: OracleColumn): HashKind | undefined {
  switch (column.dataType) {
    case 'CLOB':
    case 'NCLOB':
    case 'BLOB':
    case 'LONG':
      return undefined;
    case 'NUMBER':
      return column.scale === 0 ? 'v' : 'n';
    case 'DATE':
      return 'd';
    case 'TIMESTAMP':
      return 't';
    default:
      return 'v';
  }
}

const NULL_TEXT = '\\N';

/** The Oracle expression of the canonical row text over `columns` (for STANDARD_HASH). */
export function canonicalRowSql(columns: readonly OracleColumn[]): string {
  const parts: string[] = [];
  for (const c of columns) {
    const kind = hashKind(c);
    if (!kind) continue;
    const col = `"${c.name}"`;
    const text =
      kind === 'n' || (kind === 'v' && c.dataType === 'NUMBER')
        ? `TO_CHAR(${col})`
        : kind === 'd'
          ? `TO_CHAR(${col}, 'YYYY-MM-DD HH24:MI:SS')`
          : kind === 't'
            ? `TO_CHAR(${col}, 'YYYY-MM-DD HH24:MI:SS.FF6')`
            : col;
    parts.push(`NVL(${text}, '${NULL_TEXT}')`);
  }
  return parts.join(" || '|' || ");
}

/** The canonical row text from fetched text values (what Node hashes on an 11.2 database). */
export function canonicalRowFromFetched(
  columns: readonly OracleColumn[],
  row: Record<string, string | null>,
): string {
  const parts: string[] = [];
  for (const c of columns) {
    if (!hashKind(c)) continue;
    parts.push(row[c.name] ?? NULL_TEXT);
  }
  return parts.join('|');
}

/** The canonical row text from landed bronze values (what `aurora erp verify-load` hashes). */
export function canonicalRowFromBronze(
  columns: readonly { name: string; kind: HashKind }[],
  row: Record<string, unknown>,
  zone: string,
): string {
  const parts: string[] = [];
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) {
      parts.push(NULL_TEXT);
      continue;
    }
    switch (c.kind) {
      case 'n':
        parts.push(oracleNumberText(Number(v)));
        break;
      case 'd':
        parts.push(formatOracleDateTime(new Date(String(v)), zone));
        break;
      case 't':
        parts.push(formatOracleDateTime(new Date(String(v)), zone, true));
        break;
      default:
        parts.push(String(v));
    }
  }
  return parts.join('|');
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** `NAME:kind,...` for the file metadata, so verify-load can rebuild the canonical text offline. */
export function hashColumnsText(columns: readonly OracleColumn[]): string {
  return columns
    .map((c) => [c.name, hashKind(c)] as const)
    .filter(([, k]) => k !== undefined)
    .map(([n, k]) => `${n}:${k}`)
    .join(',');
}

export function parseHashColumns(text: string): { name: string; kind: HashKind }[] {
  return text
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [name, kind] = pair.split(':');
      return { name: name!, kind: kind as HashKind };
    });
}

/** Rows per DataChunk handed to the appender (DuckDB's vector size). */
const CHUNK_ROWS = 2048;

/**
 * One bronze file in the making: rows are appended to a DuckDB table as they come (a million-row
 * increment never sits in JS memory: at most one vector of 2,048 rows does, handed over as one DataChunk,
 * which costs far less than a call per value), columns can be added mid-run (DDL in the redo), and
 * `finish` writes the Parquet file (zstd) with the table's columns in Oracle's order, then the lineage
 * columns.
 */
export class BronzeTableWriter {
  #connection: DuckDBConnection | undefined;
  #appender: DuckDBAppender | undefined;
  readonly #table = `erp_${randomUUID().replaceAll('-', '')}`;
  #columns: { name: string; type: ColumnType }[] = [];
  /** Physical column order of the DuckDB table (appends follow it). */
  #physical: { name: string; type: ColumnType }[] = [];
  /** Values not yet appended, one array per physical column. */
  #pending: DuckDBValue[][] = [];
  #pendingRows = 0;
  rowCount = 0;

  static async create(
    instance: DuckDBInstance,
    columns: readonly OracleColumn[],
  ): Promise<BronzeTableWriter> {
    const writer = new BronzeTableWriter();
    writer.#connection = await instance.connect();
    writer.#columns = [...columns.map((c) => ({ name: c.name, type: bronzeType(c) })), ...ERP_LINEAGE];
    writer.#physical = [...writer.#columns];
    writer.#pending = writer.#physical.map(() => []);
    const ddl = writer.#columns.map((c) => `"${c.name}" ${sqlType(c.type)}`).join(', ');
    await writer.#connection.run(`CREATE TEMP TABLE ${writer.#table} (${ddl})`);
    return writer;
  }

  get columnNames(): string[] {
    return this.#columns.map((c) => c.name);
  }

  /** Adds a column the source gained (placed before the lineage columns in the file). */
  async addColumn(column: OracleColumn): Promise<boolean> {
    if (this.#columns.some((c) => c.name === column.name)) return false;
    await this.#flushPending();
    this.#closeAppender();
    const type = bronzeType(column);
    await this.#connection!.run(`ALTER TABLE ${this.#table} ADD COLUMN "${column.name}" ${sqlType(type)}`);
    const lineageAt = this.#columns.findIndex((c) => c.name === '_source');
    this.#physical = [...this.#physical, { name: column.name, type }];
    this.#pending = this.#physical.map(() => []);
    this.#columns.splice(lineageAt, 0, { name: column.name, type });
    return true;
  }

  async append(row: Readonly<Record<string, BronzeValue>>): Promise<void> {
    const physical = this.#physical;
    for (let i = 0; i < physical.length; i++) {
      const c = physical[i]!;
      const v = row[c.name];
      this.#pending[i]!.push(
        v === null || v === undefined
          ? null
          : c.type === 'VARCHAR'
            ? typeof v === 'string'
              ? v
              : v instanceof Date
                ? v.toISOString()
                : String(v)
            : c.type === 'DOUBLE'
              ? Number(v)
              : c.type === 'TIMESTAMP'
                ? // Staged as epoch milliseconds: a plain number, no BigInt or value object per cell.
                  v instanceof Date
                  ? v.getTime()
                  : Date.parse(String(v))
                : String(v),
      );
    }
    this.rowCount++;
    if (++this.#pendingRows >= CHUNK_ROWS) await this.#flushPending();
  }

  async #flushPending(): Promise<void> {
    if (this.#pendingRows === 0) return;
    this.#appender ??= await this.#connection!.createAppender(this.#table, 'main', 'temp');
    const chunk = DuckDBDataChunk.create(
      this.#physical.map((c) => stagedType(c.type)),
      this.#pendingRows,
    );
    for (let i = 0; i < this.#pending.length; i++) chunk.setColumnValues(i, this.#pending[i]!);
    this.#appender.appendDataChunk(chunk);
    this.#pending = this.#physical.map(() => []);
    this.#pendingRows = 0;
  }

  /** The Parquet file's bytes; the writer is spent. */
  async finish(): Promise<Buffer> {
    await this.#flushPending();
    this.#closeAppender();
    const file = join(tmpdir(), `aurora-${this.#table}.parquet`);
    try {
      const list = this.#columns
        .map((c) =>
          c.type === 'TIMESTAMP'
            ? `make_timestamptz(CAST("${c.name}" * 1000 AS BIGINT)) AS "${c.name}"`
            : `"${c.name}"`,
        )
        .join(', ');
      await this.#connection!.run(
        `COPY (SELECT ${list} FROM ${this.#table}) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
      );
      return await readFile(file);
    } finally {
      await rm(file, { force: true });
      this.close();
    }
  }

  close(): void {
    this.#closeAppender();
    if (this.#connection) {
      this.#connection.closeSync();
      this.#connection = undefined;
    }
  }

  #closeAppender(): void {
    if (this.#appender) {
      this.#appender.closeSync();
      this.#appender = undefined;
    }
  }
}

/** How a column is staged in DuckDB until `finish`: timestamps as epoch milliseconds (DOUBLE). */
function stagedType(type: ColumnType): DuckDBType {
  return type === 'TIMESTAMP' || type === 'DOUBLE'
    ? DOUBLE
    : type === 'BIGINT'
      ? BIGINT
      : type === 'INTEGER'
        ? INTEGER
        : type === 'BOOLEAN'
          ? BOOLEAN
          : VARCHAR;
}

function sqlType(type: ColumnType): string {
  return type === 'TIMESTAMP' ? 'DOUBLE' : type;
}
