import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '@aurora/core';
import { type QueryResult, queryWarehouse } from '@aurora/engine';
import { toJsonRows } from '@aurora/lake';
import { DuckDBInstance } from '@duckdb/node-api';
import { type CompareOptions, compareResults, type ParallelRunComparison } from './parallel-run.js';

export type ResultFileFormat = 'csv' | 'json' | 'parquet';

/** What `--against` names: a file of the legacy system's result, or SQL over the warehouse. */
export type AgainstSource = { kind: 'sql'; sql: string } | { kind: ResultFileFormat; file: string };

const FORMATS: [RegExp, ResultFileFormat][] = [
  [/\.csv(\.gz)?$/i, 'csv'],
  [/\.(json|jsonl|ndjson)(\.gz)?$/i, 'json'],
  [/\.parquet$/i, 'parquet'],
];
const formatOf = (file: string) => FORMATS.find(([pattern]) => pattern.test(file))?.[1];

/**
 * An existing file is read by its extension (.csv, .json/.jsonl/.ndjson, .parquet); anything else is
 * SQL. A word that looks like a file name but names no file is a mistake, not SQL.
 */
export async function resolveAgainst(against: string, cwd = process.cwd()): Promise<AgainstSource> {
  const text = against.trim();
  if (text === '') throw new UsageError('--against is empty: give a file or a query');
  const file = resolve(cwd, text);
  const info = await stat(file).catch(() => undefined);
  if (info?.isFile()) {
    const format = formatOf(file);
    if (!format)
      throw new UsageError(
        `--against ${text}: a file, but not .csv, .json (an array of row objects or JSON lines) or .parquet`,
      );
    return { kind: format, file };
  }
  if (!/\s/.test(text) && formatOf(text))
    throw new UsageError(`--against ${text}: no such file (relative paths start at ${cwd})`);
  return { kind: 'sql', sql: text };
}

const quoteLiteral = (s: string) => `'${s.replaceAll("'", "''")}'`;
const READERS: Record<ResultFileFormat, string> = {
  csv: 'read_csv_auto',
  json: 'read_json_auto',
  parquet: 'read_parquet',
};

/**
 * The rows of a result file as DuckDB reads them (types inferred for CSV and JSON), in the shape of
 * queryWarehouse's answer: timestamps as ISO 8601 UTC, integers beyond 2^53 and decimals as text.
 */
export async function readResultFile(file: string, format: ResultFileFormat): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection
      .runAndReadAll(`SELECT * FROM ${READERS[format]}(${quoteLiteral(file)})`)
      .catch((error: Error) => {
        throw new UsageError(`cannot read ${file} as ${format}: ${error.message}`);
      });
    const types = reader.columnTypes();
    return {
      columns: reader.columnNames().map((name, i) => ({ name, type: types[i]!.toString() })),
      rows: toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson()),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export interface ParallelRunSide {
  /** The SQL, or the file's absolute path. */
  source: string;
  kind: 'sql' | ResultFileFormat;
  columns: { name: string; type: string }[];
}

/** The whole report of one `aurora reconcile --against` run, as written to the lake. */
export interface ParallelRunReport extends ParallelRunComparison {
  check: 'parallel-run';
  /** When the comparison ran (ISO 8601 UTC). */
  at: string;
  ours: ParallelRunSide;
  theirs: ParallelRunSide;
}

/**
 * The parallel run of a migration: `query` over the warehouse (ours) against `against` (theirs: a
 * result file of the legacy system, or SQL over the same warehouse), compared by compareResults.
 * Both results are held in memory: compare what a report shows, not a whole table.
 */
export async function reconcileAgainst(
  home: string,
  options: CompareOptions & { query: string; against: string; at: Date; cwd?: string },
): Promise<ParallelRunReport> {
  if (options.query.trim() === '')
    throw new UsageError('--query is empty: give the SQL whose result is ours');
  const against = await resolveAgainst(options.against, options.cwd);
  const ours = await queryWarehouse(home, options.query);
  const theirs =
    against.kind === 'sql'
      ? await queryWarehouse(home, against.sql)
      : await readResultFile(against.file, against.kind);
  const comparison = compareResults(ours, theirs, options);
  return {
    check: 'parallel-run',
    at: options.at.toISOString(),
    ours: { source: options.query, kind: 'sql', columns: ours.columns },
    theirs: {
      source: against.kind === 'sql' ? against.sql : against.file,
      kind: against.kind,
      columns: theirs.columns,
    },
    ...comparison,
  };
}
