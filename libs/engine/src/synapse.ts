import { UsageError } from '@aurora/core';
import { type DeltaSnapshot, DeltaTable, type DeltaTableDeps, DeltaTableNotFoundError } from '@aurora/lake';
import type { Model } from './model.js';
import type { Project } from './project.js';

/**
 * The Synapse dedicated SQL pool's side of gold, generated from pipelines/: one table per gold model
 * (distribution as its header declares, clustered columnstore, T-SQL types from the Delta schema), the
 * COPY INTO that loads it from exactly the files of the gold Delta table's current snapshot, and the
 * materialized views models declare (`synapse.materialized_view`: the view's T-SQL SELECT over the model's
 * table). Nothing here talks to Synapse: `SqlRunner` is whatever executes T-SQL (mssql in Azure, a fake in
 * tests).
 */

/** What the generator needs of one gold table: its columns (Delta types) and its current data files. */
export interface SynapseTableSource {
  columns: { name: string; type: unknown; nullable: boolean }[];
  /** Lake paths, container first: `gold/agg_oee_daily/part-00000-....parquet`. */
  files: string[];
  partitionColumns: readonly string[];
  /** The Delta version the files are of. */
  version: number;
}

export interface SynapseDdlOptions {
  /** The lake's DFS endpoint: Parquet through a managed identity needs `https://<account>.dfs.core.windows.net`. */
  lakeDfsUrl: string;
}

export interface SynapseTableDdl {
  model: string;
  /** `gold.agg_oee_daily`. */
  table: string;
  distribution: string;
  version: number;
  /** How many data files the load reads. */
  files: number;
  columns: { name: string; sqlType: string; nullable: boolean }[];
  createTable: string;
  /** Empties the table and loads the snapshot's files (DELETE, not TRUNCATE: materialized views track it). */
  load: string[];
}

export interface SynapseViewDdl {
  /** `gold.mv_agg_oee_daily`. */
  name: string;
  baseTable: string;
  distribution: string;
  select: string;
  create: string;
}

export interface SynapseDdl {
  tables: SynapseTableDdl[];
  views: SynapseViewDdl[];
}

/** A table's columns as Delta types. */
export function snapshotSource(snapshot: DeltaSnapshot): SynapseTableSource {
  return {
    columns: snapshot.schema.fields.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable })),
    files: snapshot.files.map((f) => f.lakePath),
    partitionColumns: snapshot.partitionColumns,
    version: snapshot.version,
  };
}

/** The current snapshot of every gold model's Delta table (`gold/{table}/`); a missing one is an error. */
export async function readGoldSources(
  deps: DeltaTableDeps,
  project: Project,
): Promise<Map<string, SynapseTableSource>> {
  const sources = new Map<string, SynapseTableSource>();
  for (const model of project.models.filter((m) => m.layer === 'gold')) {
    try {
      sources.set(model.name, snapshotSource(await new DeltaTable(deps, `gold/${model.table}/`).snapshot()));
    } catch (error) {
      if (error instanceof DeltaTableNotFoundError) {
        throw new UsageError(
          `${model.name} has no Delta table in the lake yet (gold/${model.table}/): run the medallion first`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  return sources;
}

/** A Delta column type in T-SQL; UTC instants become DATETIME2(6) (Synapse has no zone-aware type for COPY). */
export function tsqlType(deltaType: unknown, where: string): string {
  if (typeof deltaType === 'string') {
    const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(deltaType);
    if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
    const known: Record<string, string> = {
      string: 'NVARCHAR(4000)',
      long: 'BIGINT',
      integer: 'INT',
      short: 'SMALLINT',
      // T-SQL's TINYINT is unsigned (0-255); Delta's byte is signed.
      byte: 'SMALLINT',
      double: 'FLOAT',
      float: 'REAL',
      boolean: 'BIT',
      date: 'DATE',
      timestamp: 'DATETIME2(6)',
      timestamp_ntz: 'DATETIME2(6)',
      binary: 'VARBINARY(8000)',
    };
    const mapped = known[deltaType];
    if (mapped) return mapped;
  }
  throw new UsageError(
    `${where} has Delta type ${JSON.stringify(deltaType)}, which the Synapse DDL does not map: cast it in the model`,
  );
}

export const quoteName = (name: string): string => `[${name.replaceAll(']', ']]')}]`;
const qualified = (schema: string, name: string) => `${quoteName(schema)}.${quoteName(name)}`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The lake URL of a lake path (`gold/x/part-0.parquet`), every segment percent-encoded. */
export function lakeFileUrl(lakeDfsUrl: string, lakePath: string): string {
  return `${lakeDfsUrl.replace(/\/+$/, '')}/${lakePath.split('/').map(encodeURIComponent).join('/')}`;
}

/** Columns a model promises are never null: its key and its error-severity not_null expectations. */
function notNullColumns(model: Model): Set<string> {
  const columns = new Set(model.key);
  for (const e of model.expectations) {
    if ('not_null' in e && (e.severity ?? 'error') === 'error') for (const c of e.not_null) columns.add(c);
  }
  return columns;
}

function distributionOf(model: Model, columns: readonly string[]): string {
  const declared = model.synapse?.distribution ?? 'ROUND_ROBIN';
  const hash = /^HASH\((\w+)\)$/.exec(declared);
  if (hash) {
    if (!columns.includes(hash[1]!)) {
      throw new UsageError(
        `${model.file}: synapse.distribution ${declared}: ${hash[1]} is not a column of ${model.name}`,
      );
    }
    return `HASH(${quoteName(hash[1]!)})`;
  }
  return declared;
}

function tableDdl(model: Model, source: SynapseTableSource, options: SynapseDdlOptions): SynapseTableDdl {
  if (source.partitionColumns.length > 0) {
    // COPY INTO reads columns from the files only; partition values live in folder names and the log.
    throw new UsageError(
      `${model.name} is partitioned by ${source.partitionColumns.join(', ')}: COPY INTO cannot load partition columns`,
    );
  }
  const notNull = notNullColumns(model);
  const columns = source.columns.map((c) => ({
    name: c.name,
    sqlType: tsqlType(c.type, `${model.name}.${c.name}`),
    nullable: !notNull.has(c.name),
  }));
  const table = qualified('gold', model.table);
  const distribution = distributionOf(
    model,
    columns.map((c) => c.name),
  );
  const columnLines = columns.map(
    (c) => `  ${quoteName(c.name)} ${c.sqlType} ${c.nullable ? 'NULL' : 'NOT NULL'}`,
  );
  const createTable = `CREATE TABLE ${table} (\n${columnLines.join(',\n')}\n)\nWITH (DISTRIBUTION = ${distribution}, CLUSTERED COLUMNSTORE INDEX);`;
  const load = [`DELETE FROM ${table};`];
  if (source.files.length > 0) {
    // Only the snapshot's files: a wildcard over the folder would also load files earlier versions removed.
    const urls = source.files.map((f) => `  ${literal(lakeFileUrl(options.lakeDfsUrl, f))}`);
    load.push(
      `COPY INTO ${table} (${columns.map((c) => quoteName(c.name)).join(', ')})\nFROM\n${urls.join(',\n')}\nWITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');`,
    );
  }
  return {
    model: model.name,
    table: `gold.${model.table}`,
    distribution,
    version: source.version,
    files: source.files.length,
    columns,
    createTable,
    load,
  };
}

/**
 * A model's materialized view, checked against what Synapse accepts and what the load does to the base
 * table: the load DELETEs, which disables views with MIN/MAX (FOR_APPEND), so those are refused; SUM over
 * a nullable column needs its COUNT_BIG beside it; COUNT(DISTINCT) is not allowed.
 */
function viewDdl(model: Model, table: SynapseTableDdl): SynapseViewDdl {
  const select = model.synapse!.materialized_view!.trim().replace(/;\s*$/, '');
  const problem = (text: string) => new UsageError(`${model.file}: synapse.materialized_view: ${text}`);
  const base = new RegExp(`\\bgold\\.(\\[${model.table}\\]|${model.table})\\b`, 'i');
  if (!/^select\b/i.test(select)) throw problem('must be one SELECT');
  if (!base.test(select)) throw problem(`must read the model's own table gold.${model.table}`);
  if (!/\bgroup\s+by\b/i.test(select)) throw problem('needs a GROUP BY');
  if (/\b(min|max)\s*\(/i.test(select)) {
    throw problem(
      'MIN/MAX views need FOR_APPEND, which the load (DELETE + COPY) disables: use SUM/COUNT_BIG',
    );
  }
  if (/\bcount(_big)?\s*\(\s*distinct\b/i.test(select)) throw problem('COUNT(DISTINCT) is not allowed');
  const nullable = new Set(table.columns.filter((c) => c.nullable).map((c) => c.name.toLowerCase()));
  for (const [, column] of select.matchAll(/\bsum\s*\(\s*\[?(\w+)\]?\s*\)/gi)) {
    const name = column!.toLowerCase();
    if (
      nullable.has(name) &&
      !new RegExp(`\\bcount_big\\s*\\(\\s*\\[?${name}\\]?\\s*\\)`, 'i').test(select)
    ) {
      throw problem(`SUM(${column}) over a nullable column needs COUNT_BIG(${column}) in the same view`);
    }
  }
  const hash = /^HASH\(\[(\w+)\]\)$/.exec(table.distribution);
  // Only HASH and ROUND_ROBIN are allowed for views; keep the table's hash when the view groups by its column.
  const groupBy = (/\bgroup\s+by\s+([\s\S]*?)(\bhaving\b|\border\s+by\b|$)/i.exec(select)?.[1] ?? '')
    .split(',')
    .map((c) =>
      c
        .trim()
        .replace(/^\[(.*)\]$/, '$1')
        .toLowerCase(),
    );
  const distribution = hash && groupBy.includes(hash[1]!.toLowerCase()) ? table.distribution : 'ROUND_ROBIN';
  const name = `gold.mv_${model.table}`;
  return {
    name,
    baseTable: table.table,
    distribution,
    select,
    create: `CREATE MATERIALIZED VIEW ${qualified('gold', `mv_${model.table}`)}\nWITH (DISTRIBUTION = ${distribution})\nAS\n${select};`,
  };
}

/** The pool's DDL and loads for every gold model of the project, from the gold tables' snapshots. */
export function synapseDdl(
  project: Project,
  sources: ReadonlyMap<string, SynapseTableSource>,
  options: SynapseDdlOptions,
): SynapseDdl {
  const tables: SynapseTableDdl[] = [];
  const views: SynapseViewDdl[] = [];
  for (const model of project.models.filter((m) => m.layer === 'gold')) {
    const source = sources.get(model.name);
    if (!source) throw new UsageError(`no column types for ${model.name}: its gold table was not read`);
    const table = tableDdl(model, source, options);
    tables.push(table);
    if (model.synapse?.materialized_view) views.push(viewDdl(model, table));
  }
  return { tables, views };
}

/** The whole DDL as one script for people: schema, tables, views, then the loads. */
export function synapseScript(ddl: SynapseDdl): string {
  return [
    "-- Generated from pipelines/ by `aurora infra synapse-ddl`: edit the models' headers, not this.",
    "IF SCHEMA_ID('gold') IS NULL EXEC ('CREATE SCHEMA [gold]');",
    ...ddl.tables.map((t) => `-- ${t.model} (Delta version ${t.version})\n${t.createTable}`),
    ...ddl.views.map((v) => v.create),
    '-- Loads: the current snapshot of each gold Delta table',
    ...ddl.tables.flatMap((t) => t.load),
  ].join('\n\n');
}

/** Executes T-SQL against the dedicated pool (mssql in Azure); rows as plain objects. */
export interface SqlRunner {
  query(sql: string): Promise<Record<string, unknown>[]>;
}

export interface SynapseLoadReport {
  loaded: { table: string; version: number; files: number }[];
  unchanged: string[];
  failed: { table: string; error: string }[];
}

const LOADS_TABLE = '[dbo].[aurora_gold_loads]';

/**
 * Loads gold into the pool: creates the schema, missing tables and views; recreates a table whose columns
 * changed (gold is derived data, and its views with it); and reloads each table whose Delta version is not
 * the one last loaded. One table failing does not stop the others.
 */
export async function loadSynapse(runner: SqlRunner, ddl: SynapseDdl): Promise<SynapseLoadReport> {
  await runner.query("IF SCHEMA_ID('gold') IS NULL EXEC ('CREATE SCHEMA [gold]')");
  await runner.query(
    `IF OBJECT_ID('dbo.aurora_gold_loads') IS NULL CREATE TABLE ${LOADS_TABLE} ([table_name] NVARCHAR(256) NOT NULL, [delta_version] BIGINT NOT NULL, [loaded_at] DATETIME2(6) NOT NULL) WITH (DISTRIBUTION = ROUND_ROBIN, HEAP)`,
  );
  const loadedVersions = new Map(
    (await runner.query(`SELECT [table_name], [delta_version] FROM ${LOADS_TABLE}`)).map((r) => [
      String(r['table_name']),
      Number(r['delta_version']),
    ]),
  );
  const report: SynapseLoadReport = { loaded: [], unchanged: [], failed: [] };
  for (const table of ddl.tables) {
    try {
      const views = ddl.views.filter((v) => v.baseTable === table.table);
      const existing = (
        await runner.query(
          `SELECT [name] FROM sys.columns WHERE [object_id] = OBJECT_ID(${literal(table.table)}) ORDER BY [column_id]`,
        )
      ).map((r) => String(r['name']));
      const wanted = table.columns.map((c) => c.name);
      let created = false;
      if (existing.join('\u0000') !== wanted.join('\u0000')) {
        if (existing.length > 0) {
          for (const v of views)
            await runner.query(`IF OBJECT_ID(${literal(v.name)}) IS NOT NULL DROP VIEW ${v.name}`);
          await runner.query(`DROP TABLE ${table.table}`);
        }
        await runner.query(table.createTable);
        created = true;
      }
      for (const v of views) {
        await runner.query(
          `IF OBJECT_ID(${literal(v.name)}) IS NULL EXEC (${literal(v.create.replace(/;$/, ''))})`,
        );
      }
      if (!created && loadedVersions.get(table.table) === table.version) {
        report.unchanged.push(table.table);
        continue;
      }
      for (const statement of table.load) await runner.query(statement);
      await runner.query(
        `DELETE FROM ${LOADS_TABLE} WHERE [table_name] = ${literal(table.table)}; INSERT INTO ${LOADS_TABLE} VALUES (${literal(table.table)}, ${table.version}, SYSUTCDATETIME())`,
      );
      report.loaded.push({ table: table.table, version: table.version, files: table.files });
    } catch (error) {
      report.failed.push({ table: table.table, error: (error as Error).message });
    }
  }
  return report;
}

/** Every materialized view in the pool (`schema.name`), from the catalog. */
export const LIST_MATERIALIZED_VIEWS_SQL =
  'SELECT SCHEMA_NAME(v.[schema_id]) AS [schema_name], v.[name] AS [view_name] FROM sys.views AS v JOIN sys.pdw_materialized_view_distribution_properties AS p ON p.[object_id] = v.[object_id] ORDER BY 1, 2';

export interface ViewRefresh {
  view: string;
  baseViewRows: number;
  totalRows: number;
  /** DBCC's OVERHEAD_RATIO = TOTAL_ROWS / MAX(1, BASE_VIEW_ROWS): 1.0 means no tracking rows. */
  overheadRatio: number;
  rebuilt: boolean;
}

/**
 * Keeps the pool's materialized views healthy: DBCC PDW_SHOWMATERIALIZEDVIEWOVERHEAD per view, and
 * `ALTER MATERIALIZED VIEW ... REBUILD` when its tracking rows exceed `threshold` of its rows, that is when
 * OVERHEAD_RATIO > 1 + threshold (the ratio counts the view's own rows too, so it never falls below 1).
 */
export async function refreshMaterializedViews(runner: SqlRunner, threshold: number): Promise<ViewRefresh[]> {
  const views = await runner.query(LIST_MATERIALIZED_VIEWS_SQL);
  const out: ViewRefresh[] = [];
  for (const v of views) {
    const view = `${quoteName(String(v['schema_name']))}.${quoteName(String(v['view_name']))}`;
    const [row] = await runner.query(
      `DBCC PDW_SHOWMATERIALIZEDVIEWOVERHEAD ("${String(v['schema_name'])}.${String(v['view_name'])}")`,
    );
    const baseViewRows = Number(row?.['BASE_VIEW_ROWS'] ?? 0);
    const totalRows = Number(row?.['TOTAL_ROWS'] ?? 0);
    const overheadRatio = Number(row?.['OVERHEAD_RATIO'] ?? totalRows / Math.max(1, baseViewRows));
    const rebuilt = overheadRatio > 1 + threshold;
    if (rebuilt) await runner.query(`ALTER MATERIALIZED VIEW ${view} REBUILD`);
    out.push({
      view: `${v['schema_name']}.${v['view_name']}`,
      baseViewRows,
      totalRows,
      overheadRatio,
      rebuilt,
    });
  }
  return out;
}
