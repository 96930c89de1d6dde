import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, Logger } from '@aurora/core';
import {
  type DeltaStructType,
  DeltaTable,
  DeltaTableNotFoundError,
  type Lake,
  type ParquetCodec,
  quoteIdent,
  quoteLiteral,
} from '@aurora/lake';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  type CompiledExpectation,
  compileExpectations,
  type Dimension,
  qualityScoreSql,
} from './expectations.js';
import { syncToCache } from './lake-cache.js';
import type { Model } from './model.js';
import { loadProject, type Project } from './project.js';

export interface MedallionDeps {
  lake: Lake;
  codec: ParquetCodec;
  clock: Clock;
  log: Logger;
  /** AURORA_HOME: the bronze cache and the warehouse file live under it. */
  home: string;
  signal?: AbortSignal;
  /**
   * Key ids of erased data subjects (the key table's tombstones): their sealed values (`pd1.<keyId>.…`)
   * become NULL in every silver and gold table this run builds. Without it nothing is anonymised.
   */
  erasedKeyIds?: () => Promise<readonly string[]>;
}

export interface MedallionOptions {
  project?: Project;
  /** Publish silver and gold as Delta tables in the lake (default true); off for a dry run. */
  publish?: boolean;
  /** Threads DuckDB may use (default: all cores). */
  threads?: number;
  onProgress?: (line: string) => void;
}

export interface ExpectationResult {
  model: string;
  expectation: string;
  dimension: Dimension;
  severity: 'error' | 'warn';
  passed: boolean;
  failedRows: number;
  totalRows: number;
  /** Up to five failing rows as JSON text. */
  sample: string;
}

export interface ModelReport {
  model: string;
  rows: number;
  quarantined: number;
  durationMs: number;
  /** The Delta version the table is at after the run; `committed` false when its content did not change. */
  delta?: { version: number; committed: boolean };
  expectations: ExpectationResult[];
  error?: string;
}

export interface MedallionReport {
  runId: string;
  startedAt: string;
  durationMs: number;
  bronze: { files: number; downloaded: number };
  models: ModelReport[];
  ok: boolean;
  problems: string[];
  /** The DuckDB file `aurora query` reads: schemas silver and gold. */
  warehouse: string;
}

export const warehousePath = (home: string): string => join(home, 'warehouse', 'warehouse.duckdb');

/** DuckDB column types as Delta types; anything else must be cast by the model. */
function deltaTypeOf(duckType: string): string | undefined {
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType.replace(/\s/g, ''));
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  const known: Record<string, string> = {
    VARCHAR: 'string',
    BIGINT: 'long',
    INTEGER: 'integer',
    SMALLINT: 'short',
    TINYINT: 'byte',
    DOUBLE: 'double',
    FLOAT: 'float',
    BOOLEAN: 'boolean',
    DATE: 'date',
    'TIMESTAMP WITH TIME ZONE': 'timestamp',
    TIMESTAMP: 'timestamp_ntz',
  };
  return known[duckType];
}

async function rowsOf(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

async function scalar(connection: DuckDBConnection, sql: string): Promise<number> {
  const row = (await connection.runAndReadAll(sql)).getRows()[0];
  return Number(row?.[0] ?? 0);
}

/**
 * One run of the medallion: bronze (mirrored from the lake) -> silver -> gold, every model of pipelines/
 * in dependency order inside one embedded DuckDB, rows failing a model's hard rules into
 * silver.quarantine, every expectation checked, and each table published to the lake as a Delta table
 * (silver/{table}, gold/{table}). Every model is a full rebuild from bronze, ordered by its key, so the
 * same bronze gives the same tables bit for bit. The run's DuckDB file replaces the warehouse that
 * `aurora query` reads only when the run is complete.
 */
export async function runMedallion(
  deps: MedallionDeps,
  options: MedallionOptions = {},
): Promise<MedallionReport> {
  const started = performance.now();
  const startedAt = deps.clock.now();
  const runId = `${startedAt.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
  const progress = options.onProgress ?? (() => {});
  const project = options.project ?? (await loadProject());
  const problems: string[] = [];

  progress('medallion: mirroring bronze');
  const cacheDir = join(deps.home, 'cache', 'lake');
  const synced = await syncToCache(deps.lake, 'bronze/', cacheDir, {
    include: (f) => f.path.endsWith('.parquet'),
    ...(deps.signal ? { signal: deps.signal } : {}),
    onProgress: (n) => progress(`medallion: ${n} bronze files fetched`),
  });

  const target = warehousePath(deps.home);
  await mkdir(join(deps.home, 'warehouse'), { recursive: true });
  const building = `${target}.${runId}.building`;
  const instance = await DuckDBInstance.create(
    building,
    options.threads ? { threads: String(options.threads) } : {},
  );
  const connection = await instance.connect();
  // Local dates and hours are computed explicitly in Europe/Berlin; everything else is UTC, whatever the
  // machine's zone.
  await connection.run("SET TimeZone = 'UTC'");
  const reports: ModelReport[] = [];
  try {
    for (const schema of ['bronze', 'reference', 'silver', 'gold']) {
      await connection.run(`CREATE SCHEMA ${schema}`);
    }
    const erased = await createErased(connection, deps.erasedKeyIds);
    await createBronze(connection, project, synced.files);
    for (const ref of project.reference) {
      await connection.run(
        `CREATE TABLE reference.${quoteIdent(ref.name)} AS SELECT * FROM read_csv(${quoteLiteral(ref.file)}, header = true, auto_detect = true)`,
      );
    }
    await connection.run(
      'CREATE TABLE silver.quarantine (table_name VARCHAR, reason VARCHAR, record_key VARCHAR, record VARCHAR)',
    );

    for (const level of project.levels) {
      for (const model of level) {
        progress(`medallion: ${model.name}`);
        reports.push(await buildModel(connection, model, startedAt, erased));
      }
    }
    await connection.run(
      'CREATE OR REPLACE TABLE silver.quarantine AS SELECT * FROM silver.quarantine ORDER BY table_name, record_key, reason, record',
    );
    await connection.run('DROP SCHEMA bronze CASCADE');

    if (options.publish !== false) {
      progress('medallion: publishing Delta tables');
      const tables = [...reports.filter((r) => !r.error).map((r) => r.model), 'silver.quarantine'];
      const exportDir = await mkdtemp(join(tmpdir(), 'aurora-medallion-'));
      try {
        for (const name of tables) {
          const delta = await publishDelta(deps, connection, name, exportDir);
          const report = reports.find((r) => r.model === name);
          if (report) report.delta = delta;
        }
      } finally {
        await rm(exportDir, { recursive: true, force: true });
      }
      await appendDqResults(deps, runId, startedAt, reports);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  await rename(building, target);
  await rm(`${building}.wal`, { force: true });

  for (const r of reports) {
    if (r.error) problems.push(`${r.model}: ${r.error}`);
    for (const e of r.expectations.filter((x) => !x.passed && x.severity === 'error')) {
      problems.push(
        `${r.model}: expectation ${e.expectation} failed for ${e.failedRows} of ${e.totalRows} rows`,
      );
    }
  }
  return {
    runId,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    bronze: { files: synced.files.length, downloaded: synced.downloaded },
    models: reports,
    ok: problems.length === 0,
    problems,
    warehouse: target,
  };
}

/** One relation per bronze input: its declared columns (absent ones NULL) over all its files (cached locally). */
export async function createBronze(
  connection: DuckDBConnection,
  project: Project,
  files: readonly { path: string; local: string }[],
): Promise<void> {
  for (const input of project.bronze) {
    const prefix = `${input.path.replace(/\/$/, '')}/`;
    const mine = files.filter((f) => f.path.startsWith(prefix)).map((f) => f.local);
    const declared = Object.entries(input.columns);
    const name = `bronze.${quoteIdent(input.name)}`;
    if (mine.length === 0) {
      await connection.run(
        `CREATE TABLE ${name} (${declared.map(([c, t]) => `${quoteIdent(c)} ${t}`).join(', ')}, _file VARCHAR)`,
      );
      continue;
    }
    const scan = `read_parquet([${mine.map(quoteLiteral).join(', ')}], union_by_name = true, hive_partitioning = false, filename = true)`;
    const present = new Set(
      (await rowsOf(connection, `DESCRIBE SELECT * FROM ${scan}`)).map((r) => String(r['column_name'])),
    );
    const select = declared.map(([c, t]) =>
      present.has(c)
        ? `TRY_CAST(${quoteIdent(c)} AS ${t}) AS ${quoteIdent(c)}`
        : `CAST(NULL AS ${t}) AS ${quoteIdent(c)}`,
    );
    await connection.run(
      `CREATE VIEW ${name} AS SELECT ${select.join(', ')}, filename AS _file FROM ${scan}`,
    );
  }
}

const SEALED_KEY_ID = /^[A-Za-z0-9_-]{22}$/;

/** Loads the erased key ids into a temporary table; false when there are none (nothing to anonymise). */
async function createErased(
  connection: DuckDBConnection,
  source: MedallionDeps['erasedKeyIds'],
): Promise<boolean> {
  const ids = (source ? await source() : []).filter((id) => SEALED_KEY_ID.test(id));
  if (ids.length === 0) return false;
  await connection.run('CREATE TEMP TABLE _erased (key_id VARCHAR PRIMARY KEY)');
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000).map((id) => `('${id}')`);
    await connection.run(`INSERT OR IGNORE INTO _erased VALUES ${chunk.join(', ')}`);
  }
  return true;
}

/**
 * Anonymises erased subjects in a freshly built table: a value sealed under an erased key becomes NULL,
 * and a sealed value embedded in text (a quarantined row's JSON) becomes `[erased]`.
 */
async function anonymise(connection: DuckDBConnection, table: string): Promise<void> {
  const columns = (await rowsOf(connection, `DESCRIBE ${table}`))
    .filter((c) => String(c['column_type']) === 'VARCHAR')
    .map((c) => quoteIdent(String(c['column_name'])));
  for (const c of columns) {
    await connection.run(
      `UPDATE ${table} SET ${c} = NULL WHERE ${c} LIKE 'pd1.%' AND split_part(${c}, '.', 2) IN (SELECT key_id FROM _erased)`,
    );
    await connection.run(
      `UPDATE ${table} SET ${c} = regexp_replace(${c}, 'pd1\\.(' || (SELECT string_agg(key_id, '|') FROM _erased) || ')\\.[A-Za-z0-9_-]+', '[erased]', 'g') WHERE ${c} LIKE '%pd1.%'`,
    );
  }
}

async function buildModel(
  connection: DuckDBConnection,
  model: Model,
  now: Date,
  erased: boolean,
): Promise<ModelReport> {
  const started = performance.now();
  const schema = model.layer;
  const table = `${schema}.${quoteIdent(model.table)}`;
  const stage = `${schema}.${quoteIdent(`_stage_${model.table}`)}`;
  const keyText = `concat_ws('|', ${model.key.map((k) => `CAST(${quoteIdent(k)} AS VARCHAR)`).join(', ')})`;
  try {
    await connection.run(`CREATE TABLE ${stage} AS ${model.sql}`);
    if (erased) await anonymise(connection, stage);
    let quarantined = 0;
    let keep = 'true';
    if (model.quarantine.length > 0) {
      const reason = `CASE ${model.quarantine.map((q) => `WHEN COALESCE((${q.when}), false) THEN ${quoteLiteral(q.reason)}`).join(' ')} END`;
      await connection.run(
        `INSERT INTO silver.quarantine SELECT ${quoteLiteral(model.name)}, reason, record_key, record FROM (SELECT ${reason} AS reason, ${keyText} AS record_key, CAST(to_json(s) AS VARCHAR) AS record FROM ${stage} AS s) WHERE reason IS NOT NULL`,
      );
      quarantined = await scalar(
        connection,
        `SELECT count(*) FROM silver.quarantine WHERE table_name = ${quoteLiteral(model.name)}`,
      );
      keep = `NOT COALESCE((${model.quarantine.map((q) => `COALESCE((${q.when}), false)`).join(' OR ')}), false)`;
    }
    const score = model.quality ? qualityScoreSql(model.quality) : undefined;
    // Ordered by the key, then by every other column: rows that tie on the key (a failed uniqueness
    // expectation) still come out in one order, so the file is the same bytes on every run.
    const described = await rowsOf(connection, `DESCRIBE ${stage}`);
    const columns = described.map((c) => String(c['column_name']));
    const order = [...model.key, ...columns.filter((c) => !model.key.includes(c))].map(quoteIdent);
    // SQL's sum of integers is a 128-bit HUGEINT, which Parquet readers (and Delta) do not take: BIGINT.
    const select = described.map((c) => {
      const name = quoteIdent(String(c['column_name']));
      return /^U?HUGEINT$|^UBIGINT$/.test(String(c['column_type']))
        ? `CAST(${name} AS BIGINT) AS ${name}`
        : name;
    });
    await connection.run(
      `CREATE TABLE ${table} AS SELECT ${select.join(', ')}${score ? `, ${score} AS _quality_score` : ''} FROM ${stage} WHERE ${keep} ORDER BY ${order.join(', ')}`,
    );
    await connection.run(`DROP TABLE ${stage}`);
    const rows = await scalar(connection, `SELECT count(*) FROM ${table}`);
    const expectations = await checkExpectations(
      connection,
      model,
      compileExpectations(model, table, now.toISOString()),
    );
    return {
      model: model.name,
      rows,
      quarantined,
      durationMs: Math.round(performance.now() - started),
      expectations,
    };
  } catch (error) {
    await connection.run(`DROP TABLE IF EXISTS ${stage}`);
    // A model that fails leaves an empty table of nothing behind it: dependants fail with a clear cause.
    return {
      model: model.name,
      rows: 0,
      quarantined: 0,
      durationMs: Math.round(performance.now() - started),
      expectations: [],
      error: (error as Error).message,
    };
  }
}

async function checkExpectations(
  connection: DuckDBConnection,
  model: Model,
  compiled: readonly CompiledExpectation[],
): Promise<ExpectationResult[]> {
  const results: ExpectationResult[] = [];
  for (const e of compiled) {
    const failedRows = await scalar(connection, `SELECT count(*) FROM (${e.failing})`);
    const totalRows = await scalar(connection, e.total);
    const sample =
      failedRows > 0
        ? JSON.stringify(await rowsOf(connection, `SELECT * FROM (${e.failing}) LIMIT 5`))
        : '[]';
    results.push({
      model: model.name,
      expectation: e.name,
      dimension: e.dimension,
      severity: e.severity,
      passed: failedRows === 0,
      failedRows,
      totalRows,
      sample,
    });
  }
  return results;
}

/** The table as one zstd Parquet file, committed as the Delta table's new content (if it changed). */
async function publishDelta(
  deps: MedallionDeps,
  connection: DuckDBConnection,
  name: string,
  exportDir: string,
): Promise<{ version: number; committed: boolean }> {
  const [schema, table] = name.split('.') as [string, string];
  const qualified = `${schema}.${quoteIdent(table)}`;
  const columns = await rowsOf(connection, `DESCRIBE ${qualified}`);
  const fields = columns.map((c) => {
    const type = deltaTypeOf(String(c['column_type']));
    if (!type) {
      throw new Error(
        `${name}.${c['column_name']} has type ${c['column_type']}, which Delta tables here do not take: cast it in the model`,
      );
    }
    return { name: String(c['column_name']), type, nullable: true, metadata: {} };
  });
  const deltaSchema: DeltaStructType = { type: 'struct', fields };
  const file = join(exportDir, `${schema}-${table}.parquet`);
  // Gold is what Synapse's COPY INTO loads, whose documentation names Snappy and GZIP for Parquet: Snappy.
  const compression = schema === 'gold' ? 'snappy' : 'zstd';
  await connection.run(
    `COPY ${qualified} TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION ${compression})`,
  );
  const bytes = await readFile(file);
  const location = `${schema}/${table}/`;
  const tableDeps = {
    lake: deps.lake,
    codec: deps.codec,
    clock: deps.clock,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  let delta = new DeltaTable(tableDeps, location);
  try {
    await delta.snapshot();
  } catch (error) {
    if (!(error instanceof DeltaTableNotFoundError)) throw error;
    delta = await DeltaTable.create(tableDeps, location, { schema: deltaSchema, name: table });
  }
  const result = await delta.replaceWithFiles([bytes], deltaSchema);
  return { version: result.version, committed: result.committed };
}

export const DQ_RESULTS_TABLE = 'silver/dq_results/';

/** Every expectation's outcome of the run, passes included, appended to the DQ history in the lake. */
async function appendDqResults(
  deps: MedallionDeps,
  runId: string,
  at: Date,
  reports: readonly ModelReport[],
): Promise<void> {
  const schema = [
    { name: 'run_id', type: 'VARCHAR' },
    { name: 'run_at', type: 'TIMESTAMP' },
    { name: 'model', type: 'VARCHAR' },
    { name: 'expectation', type: 'VARCHAR' },
    { name: 'dimension', type: 'VARCHAR' },
    { name: 'severity', type: 'VARCHAR' },
    { name: 'passed', type: 'BOOLEAN' },
    { name: 'failed_rows', type: 'BIGINT' },
    { name: 'total_rows', type: 'BIGINT' },
    { name: 'sample', type: 'VARCHAR' },
  ] as const;
  const tableDeps = {
    lake: deps.lake,
    codec: deps.codec,
    clock: deps.clock,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  let table = new DeltaTable(tableDeps, DQ_RESULTS_TABLE);
  try {
    await table.snapshot();
  } catch (error) {
    if (!(error instanceof DeltaTableNotFoundError)) throw error;
    table = await DeltaTable.create(tableDeps, DQ_RESULTS_TABLE, { schema, name: 'dq_results' }).catch(
      () => new DeltaTable(tableDeps, DQ_RESULTS_TABLE),
    );
  }
  const rows = reports.flatMap((r) =>
    r.expectations.map((e) => ({
      run_id: runId,
      run_at: at,
      model: e.model,
      expectation: e.expectation,
      dimension: e.dimension,
      severity: e.severity,
      passed: e.passed,
      failed_rows: e.failedRows,
      total_rows: e.totalRows,
      sample: e.sample,
    })),
  );
  if (rows.length > 0) await table.append(rows);
}
