import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Json } from '@duckdb/node-api';
import { LakeNotFoundError } from '../lake.js';
import { DeltaDataFileMissingError, DeltaUnsupportedError } from './errors.js';
import type { DeltaFile, DeltaLogDeps, DeltaSnapshot } from './log.js';
import { duckTypeOf } from './protocol.js';
import { mapBounded, quoteIdent, quoteLiteral } from './sql.js';

export interface ReadRowsOptions {
  /** A DuckDB SQL condition over the table's columns (partition columns included). */
  where?: string;
  /** How many data files are downloaded at once. */
  concurrency?: number;
}

/** A partition value (always a string in the log) as a typed SQL literal of its column's type. */
function partitionLiteral(snapshot: DeltaSnapshot, column: string, value: string | null | undefined): string {
  const field = snapshot.schema.fields.find((f) => f.name === column);
  const duckType = field ? duckTypeOf(field.type) : undefined;
  if (!duckType) {
    throw new DeltaUnsupportedError(snapshot.location, `partition column ${column} has no primitive type`);
  }
  if (value === null || value === undefined) return `CAST(NULL AS ${duckType})`;
  // Spark writes `2021-09-08 11:11:11` in UTC when no zone is given; say so, whatever DuckDB's TimeZone is.
  const text = duckType === 'TIMESTAMPTZ' && !/(Z|[+-]\d\d(:?\d\d)?)$/.test(value) ? `${value}+00:00` : value;
  return `CAST(${quoteLiteral(text)} AS ${duckType})`;
}

/**
 * A SELECT of one downloaded data file with the partition columns added back from the log, typed from the
 * schema. Any copy of a partition column inside the file is dropped: the log is the truth.
 */
export function fileSelectSql(snapshot: DeltaSnapshot, file: DeltaFile, localPath: string): string {
  const partitions = snapshot.partitionColumns;
  const source = `read_parquet(${quoteLiteral(localPath)})`;
  if (partitions.length === 0) return `SELECT * FROM ${source}`;
  const excluded = partitions.map((p) => quoteLiteral(p)).join(', ');
  const literals = partitions
    .map((p) => `${partitionLiteral(snapshot, p, file.add.partitionValues[p])} AS ${quoteIdent(p)}`)
    .join(', ');
  return `SELECT COLUMNS(c -> c NOT IN (${excluded})), ${literals} FROM ${source}`;
}

/** Downloads the files into a fresh temp folder; a file the log lists but the lake lacks is an error. */
export async function downloadFiles<T>(
  deps: DeltaLogDeps,
  snapshot: DeltaSnapshot,
  files: readonly DeltaFile[],
  concurrency: number,
  use: (localPaths: string[], dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'aurora-delta-'));
  try {
    const local = await mapBounded(files, concurrency, async (file, i) => {
      const target = join(dir, `f${i}.parquet`);
      try {
        await writeFile(target, await deps.lake.get(file.lakePath, { signal: deps.signal }));
      } catch (error) {
        if (error instanceof LakeNotFoundError) {
          throw new DeltaDataFileMissingError(snapshot.location, file.lakePath, snapshot.version, {
            cause: error,
          });
        }
        throw error;
      }
      return target;
    });
    return await use(local, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The rows of a snapshot as JSON-safe objects (as ParquetCodec.decode renders them), columns in schema
 * order. Only the snapshot's active files are read, never whatever else lies in the table's folder.
 */
export async function readSnapshotRows(
  deps: DeltaLogDeps,
  snapshot: DeltaSnapshot,
  options: ReadRowsOptions = {},
): Promise<Record<string, Json>[]> {
  if (snapshot.files.length === 0) return [];
  return downloadFiles(deps, snapshot, snapshot.files, options.concurrency ?? 4, async (local) => {
    const union = snapshot.files
      .map((file, i) => fileSelectSql(snapshot, file, local[i]!))
      .join('\nUNION ALL BY NAME\n');
    const columns = snapshot.schema.fields.map((f) => quoteIdent(f.name)).join(', ');
    const where = options.where ? ` WHERE ${options.where}` : '';
    return deps.codec.query(`SELECT ${columns} FROM (\n${union}\n)${where}`);
  });
}
