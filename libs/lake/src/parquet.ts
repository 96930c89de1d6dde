import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  type Json,
  TIMESTAMPTZ,
  VARCHAR,
} from '@duckdb/node-api';

export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMP';
export interface Column {
  name: string;
  type: ColumnType;
}
/** A Parquet file's columns, in order. TIMESTAMP columns are UTC instants (isAdjustedToUTC). */
export type ParquetSchema = readonly Column[];
export type CellValue = string | number | bigint | boolean | Date | null | undefined;
export type Row = Readonly<Record<string, CellValue>>;

const duckTypes: Record<ColumnType, DuckDBType> = {
  VARCHAR,
  DOUBLE,
  BIGINT,
  INTEGER,
  BOOLEAN,
  TIMESTAMP: TIMESTAMPTZ,
};
const sqlTypes: Record<ColumnType, string> = {
  VARCHAR: 'VARCHAR',
  DOUBLE: 'DOUBLE',
  BIGINT: 'BIGINT',
  INTEGER: 'INTEGER',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMPTZ',
};

const toDuck: Record<ColumnType, (v: NonNullable<CellValue>) => DuckDBValue> = {
  VARCHAR: (v) => String(v),
  DOUBLE: (v) => Number(v),
  INTEGER: (v) => Number(v),
  BIGINT: (v) => (typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)))),
  BOOLEAN: (v) => Boolean(v),
  TIMESTAMP: (v) => new DuckDBTimestampTZValue(BigInt(v instanceof Date ? v.getTime() : Number(v)) * 1000n),
};

const CHUNK_ROWS = 2048;

/**
 * DuckDB's JSON rendering, with fixes for people and tools downstream: timestamps become ISO 8601
 * UTC (`2026-11-23T07:55:00.332Z`) and integers that fit a double become numbers. Decimals stay exact
 * strings (`"12.50"`, as DuckDB renders them) unless `decimals: 'number'` asks for doubles, which is
 * what KPI readers (the warehouse, the API) want.
 */
export function toJsonRows(
  raw: Record<string, DuckDBValue>[],
  json: Record<string, Json>[],
  options: { decimals?: 'exact' | 'number' } = {},
): Record<string, Json>[] {
  const decimalsAsNumbers = options.decimals === 'number';
  return json.map((row, i) => {
    const source = raw[i]!;
    for (const key of Object.keys(row)) {
      const value = source[key];
      if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) {
        row[key] = new Date(Number(value.micros / 1000n)).toISOString();
      } else if (
        typeof value === 'bigint' &&
        value >= BigInt(Number.MIN_SAFE_INTEGER) &&
        value <= BigInt(Number.MAX_SAFE_INTEGER)
      ) {
        row[key] = Number(value);
      } else if (decimalsAsNumbers && value instanceof DuckDBDecimalValue) {
        row[key] = value.toDouble();
      }
    }
    return row;
  });
}
const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (s: string) => `'${s.replaceAll("'", "''")}'`;

export interface EncodedParquet {
  bytes: Buffer;
  rowCount: number;
}

/**
 * Parquet encoding and decoding through an embedded DuckDB (zstd, row groups of 122,880 rows). Chosen by
 * benchmark over parquetjs-lite: see `pnpm bench` and the README's Performance section.
 */
export class ParquetCodec {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async create(options: { threads?: number } = {}): Promise<ParquetCodec> {
    const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 1) });
    return new ParquetCodec(instance);
  }

  /** Encodes rows (read in one pass) into a Parquet file held in memory. */
  async encode(schema: ParquetSchema, rows: Iterable<Row>): Promise<EncodedParquet> {
    const connection = await this.instance.connect();
    const table = `t_${randomUUID().replaceAll('-', '')}`;
    const file = join(tmpdir(), `aurora-${table}.parquet`);
    try {
      const columns = schema.map((c) => `${quoteIdent(c.name)} ${sqlTypes[c.type]}`).join(', ');
      await connection.run(`CREATE TEMP TABLE ${table} (${columns})`);
      const appender = await connection.createAppender(table, 'main', 'temp');
      const types = schema.map((c) => duckTypes[c.type]);
      const convert = schema.map((c) => toDuck[c.type]);
      let buffer: Row[] = [];
      let rowCount = 0;
      const flush = () => {
        const chunk = DuckDBDataChunk.create(types, buffer.length);
        chunk.setColumns(
          schema.map((column, i) =>
            buffer.map((row) => {
              // Own properties only: a row without a `constructor` column must not hand over Object.
              const v = Object.hasOwn(row, column.name) ? row[column.name] : undefined;
              return v === null || v === undefined ? null : convert[i]!(v);
            }),
          ),
        );
        appender.appendDataChunk(chunk);
        rowCount += buffer.length;
        buffer = [];
      };
      for (const row of rows) {
        buffer.push(row);
        if (buffer.length === CHUNK_ROWS) flush();
      }
      if (buffer.length > 0) flush();
      appender.closeSync();
      await connection.run(`COPY ${table} TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
      return { bytes: await readFile(file), rowCount };
    } finally {
      await connection.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      connection.closeSync();
      await rm(file, { force: true });
    }
  }

  /** Rows of a Parquet file as JSON-safe objects (timestamps as ISO strings, big integers and decimals as strings). */
  async decode(bytes: Uint8Array, options: { limit?: number } = {}): Promise<Record<string, Json>[]> {
    return this.withFile(bytes, async (connection, file) => {
      const limit = options.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.trunc(options.limit))}`;
      const reader = await connection.runAndReadAll(
        `SELECT * FROM read_parquet(${quoteLiteral(file)})${limit}`,
      );
      return toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson());
    });
  }

  /** Reads the footer and every row group: throws on a truncated or corrupt file; returns the row count. */
  async check(bytes: Uint8Array): Promise<number> {
    return this.withFile(bytes, async (connection, file) => {
      const reader = await connection.runAndReadAll(
        `SELECT count(*)::BIGINT AS n FROM read_parquet(${quoteLiteral(file)})`,
      );
      const verified = await connection.runAndReadAll(
        `SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata(${quoteLiteral(file)})`,
      );
      const counted = Number(reader.getRowObjects()[0]?.['n']);
      const declared = Number(verified.getRowObjects()[0]?.['n']);
      if (counted !== declared) throw new Error(`footer declares ${declared} rows, ${counted} readable`);
      return counted;
    });
  }

  /** Runs SQL against this codec's DuckDB (for reading several files at once). */
  async query(sql: string): Promise<Record<string, Json>[]> {
    const connection = await this.instance.connect();
    try {
      const reader = await connection.runAndReadAll(sql);
      return toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson());
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }

  private async withFile<T>(
    bytes: Uint8Array,
    use: (connection: Awaited<ReturnType<DuckDBInstance['connect']>>, file: string) => Promise<T>,
  ): Promise<T> {
    const file = join(tmpdir(), `aurora-read-${randomUUID()}.parquet`);
    await writeFile(file, bytes);
    const connection = await this.instance.connect();
    try {
      return await use(connection, file);
    } finally {
      connection.closeSync();
      await rm(file, { force: true });
    }
  }
}
