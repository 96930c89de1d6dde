import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { createLogger, ManualClock } from '@aurora/core';
import { createBlobLake, DeltaTable, type Lake, ParquetCodec } from '@aurora/lake';
import transactsql from 'node-sql-parser/build/transactsql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject, type Project } from './project.js';
import { runMedallion } from './run.js';
import { readGoldSources, type SynapseDdl, synapseDdl, synapseScript } from './synapse.js';

/**
 * The pool's DDL for the real pipelines/: the medallion runs over an empty lake (every bronze input empty,
 * so every model builds with its real column types and no rows) and publishes its gold Delta tables; the
 * DDL is generated from those snapshots, as `aurora infra synapse-ddl` and the loadSynapse activity do.
 */
let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
let home: string;
let project: Project;
let ddl: SynapseDdl;
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
const LAKE = 'https://auroralake.dfs.core.windows.net';
const parser = new transactsql.Parser();
const parse = (sql: string) => parser.astify(sql, { database: 'transactsql' });

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
  home = await mkdtemp(join(tmpdir(), 'aurora-synapse-'));
  project = await loadProject();
  const report = await runMedallion(
    { lake, codec, clock, log: createLogger({ level: 'silent', name: 'test' }), home },
    { project, threads: 1 },
  );
  expect(report.models.filter((m) => m.error)).toEqual([]);
  ddl = synapseDdl(project, await readGoldSources({ lake, codec }, project), { lakeDfsUrl: LAKE });
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('synapseDdl over the real pipelines/', () => {
  it('has a table for every gold model, distributed as its header declares', () => {
    const gold = project.models.filter((m) => m.layer === 'gold');
    expect(ddl.tables.map((t) => t.table)).toEqual(gold.map((m) => m.name));
    for (const model of gold) {
      const table = ddl.tables.find((t) => t.model === model.name)!;
      const declared = model.synapse?.distribution ?? 'ROUND_ROBIN';
      expect(table.distribution).toBe(declared.replace(/^HASH\((\w+)\)$/, 'HASH([$1])'));
      expect(table.createTable).toContain(
        `WITH (DISTRIBUTION = ${table.distribution}, CLUSTERED COLUMNSTORE INDEX);`,
      );
    }
    expect(ddl.tables.find((t) => t.table === 'gold.dim_facility')!.distribution).toBe('REPLICATE');
    expect(ddl.tables.find((t) => t.table === 'gold.agg_oee_hourly')!.distribution).toBe(
      'HASH([machine_id])',
    );
  });

  it('maps the DuckDB/Delta types to T-SQL, keys and not-null expectations as NOT NULL', () => {
    const hourly = ddl.tables.find((t) => t.table === 'gold.agg_oee_hourly')!;
    const col = (name: string) => hourly.columns.find((c) => c.name === name);
    expect(col('facility_id')).toEqual({ name: 'facility_id', sqlType: 'NVARCHAR(4000)', nullable: false });
    expect(col('hour_start')).toEqual({ name: 'hour_start', sqlType: 'DATETIME2(6)', nullable: false });
    expect(col('planned_time_s')).toMatchObject({ sqlType: 'DECIMAL(18, 3)', nullable: false });
    expect(col('total_count')).toMatchObject({ sqlType: 'BIGINT', nullable: false });
    expect(col('availability')).toMatchObject({ sqlType: 'FLOAT', nullable: true });
    expect(col('is_complete')).toMatchObject({ sqlType: 'BIT' });
    const daily = ddl.tables.find((t) => t.table === 'gold.agg_oee_daily')!;
    expect(daily.columns.find((c) => c.name === 'day')).toMatchObject({ sqlType: 'DATE', nullable: false });
    for (const t of ddl.tables) {
      expect(
        t.columns
          .map((c) => c.sqlType)
          .every((s) =>
            /^(NVARCHAR\(4000\)|BIGINT|INT|SMALLINT|FLOAT|REAL|BIT|DATE|DATETIME2\(6\)|DECIMAL\(\d+, \d+\))$/.test(
              s,
            ),
          ),
      ).toBe(true);
    }
  });

  it('writes T-SQL a T-SQL parser reads: every table body and every view query', () => {
    for (const t of ddl.tables) {
      // The parser knows no Synapse WITH options; the column definitions are what it checks.
      const body = t.createTable.replace(/\nWITH \(DISTRIBUTION[^)]*\)[^;]*;$/, '');
      const ast = parse(body) as unknown as { type: string; create_definitions: unknown[] };
      expect(ast.type).toBe('create');
      expect(ast.create_definitions).toHaveLength(t.columns.length);
      for (const statement of t.load.filter((s) => s.startsWith('DELETE')))
        expect(() => parse(statement)).not.toThrow();
    }
    expect(ddl.views.length).toBeGreaterThan(0);
    for (const v of ddl.views) {
      const ast = parse(v.select) as unknown as { type: string; groupby: unknown };
      expect(ast.type).toBe('select');
      expect(ast.groupby).toBeTruthy();
    }
  });

  it('declares the OEE daily roll-up as a materialized view over agg_oee_daily, SUMs only', () => {
    const view = ddl.views.find((v) => v.name === 'gold.mv_agg_oee_daily')!;
    expect(view.baseTable).toBe('gold.agg_oee_daily');
    // Grouped by facility and day, so the table's machine hash does not carry over.
    expect(view.distribution).toBe('ROUND_ROBIN');
    expect(view.create).toMatch(
      /^CREATE MATERIALIZED VIEW \[gold\]\.\[mv_agg_oee_daily\]\nWITH \(DISTRIBUTION = ROUND_ROBIN\)\nAS\nSELECT facility_id, day, SUM\(planned_time_s\)/,
    );
    expect(view.select).not.toMatch(/\b(MIN|MAX)\(/i);
  });

  it("COPY INTO lists exactly the files of the gold table's current Delta snapshot", async () => {
    const hourly = ddl.tables.find((t) => t.table === 'gold.agg_oee_hourly')!;
    const snapshot = await new DeltaTable({ lake, codec }, 'gold/agg_oee_hourly/').snapshot();
    const copy = hourly.load.find((s) => s.startsWith('COPY INTO'))!;
    const urls = [...copy.matchAll(/'(https:[^']+)'/g)].map((m) => m[1]);
    expect(urls).toEqual(snapshot.files.map((f) => `${LAKE}/${f.lakePath}`));
    expect(urls.length).toBeGreaterThan(0);
    expect(copy).not.toContain('*');
    expect(copy).toMatch(/^COPY INTO \[gold\]\.\[agg_oee_hourly\] \(\[facility_id\], /);
    expect(copy).toContain(
      "WITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');",
    );
    expect(hourly.load[0]).toBe('DELETE FROM [gold].[agg_oee_hourly];');
  });

  it('prints one script: schema, tables, views, loads', () => {
    const script = synapseScript(ddl);
    const at = (text: string) => script.indexOf(text);
    expect(at("IF SCHEMA_ID('gold') IS NULL")).toBeGreaterThan(0);
    expect(at('CREATE TABLE [gold].[agg_oee_daily]')).toBeGreaterThan(at("IF SCHEMA_ID('gold')"));
    expect(at('CREATE MATERIALIZED VIEW')).toBeGreaterThan(at('CREATE TABLE [gold].[dim_time]'));
    expect(at('COPY INTO')).toBeGreaterThan(at('CREATE MATERIALIZED VIEW'));
  });
});
