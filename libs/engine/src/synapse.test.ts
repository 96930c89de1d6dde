import { describe, expect, it } from 'vitest';
import { parseModel } from './model.js';
import type { Project } from './project.js';
import {
  lakeFileUrl,
  loadSynapse,
  refreshMaterializedViews,
  type SqlRunner,
  type SynapseTableSource,
  synapseDdl,
  tsqlType,
} from './synapse.js';

const LAKE = 'https://lake.dfs.core.windows.net';

const model = (table: string, synapse: string) =>
  parseModel(
    `gold/${table}.sql`,
    'gold',
    table,
    `/*
description: test
inputs: [silver.x]
key: [machine_id, day]
expectations:
  - not_null: [good_count]
  - { not_null: [note], severity: warn }
${synapse}
*/
SELECT * FROM silver.x`,
  );

const project = (...models: ReturnType<typeof model>[]): Project => ({
  dir: '/tmp',
  bronze: [],
  reference: [],
  models,
  levels: [models],
});

const source = (over: Partial<SynapseTableSource> = {}): SynapseTableSource => ({
  columns: [
    { name: 'machine_id', type: 'string', nullable: true },
    { name: 'day', type: 'date', nullable: true },
    { name: 'good_count', type: 'long', nullable: true },
    { name: 'run_time_s', type: 'decimal(18,3)', nullable: true },
    { name: 'note', type: 'string', nullable: true },
  ],
  files: ['gold/t/part-0.parquet'],
  partitionColumns: [],
  version: 3,
  ...over,
});

const ddlOf = (synapse: string, src = source()) =>
  synapseDdl(project(model('t', synapse)), new Map([['gold.t', src]]), { lakeDfsUrl: LAKE });

describe('synapseDdl', () => {
  it('makes key and error-severity not_null columns NOT NULL, warnings stay nullable', () => {
    const [table] = ddlOf('synapse: { distribution: HASH(machine_id) }').tables;
    expect(table!.createTable).toBe(
      'CREATE TABLE [gold].[t] (\n  [machine_id] NVARCHAR(4000) NOT NULL,\n  [day] DATE NOT NULL,\n  [good_count] BIGINT NOT NULL,\n  [run_time_s] DECIMAL(18, 3) NULL,\n  [note] NVARCHAR(4000) NULL\n)\nWITH (DISTRIBUTION = HASH([machine_id]), CLUSTERED COLUMNSTORE INDEX);',
    );
  });

  it('distributes ROUND_ROBIN when a model declares nothing, and refuses a hash column the table lacks', () => {
    expect(ddlOf('').tables[0]!.distribution).toBe('ROUND_ROBIN');
    expect(() => ddlOf('synapse: { distribution: HASH(plant) }')).toThrow(
      'synapse.distribution HASH(plant): plant is not a column of gold.t',
    );
  });

  it('loads nothing but a DELETE from a table without files, and refuses partitioned tables', () => {
    expect(ddlOf('', source({ files: [] })).tables[0]!.load).toEqual(['DELETE FROM [gold].[t];']);
    expect(() => ddlOf('', source({ partitionColumns: ['day'] }))).toThrow(
      'gold.t is partitioned by day: COPY INTO cannot load partition columns',
    );
  });

  it('refuses views the load would disable or Synapse rejects', () => {
    const view = (select: string) =>
      ddlOf(`synapse:\n  distribution: HASH(machine_id)\n  materialized_view: "${select}"`);
    expect(() => view('SELECT day, MAX(good_count) AS m FROM gold.t GROUP BY day')).toThrow(
      /MIN\/MAX views need FOR_APPEND/,
    );
    expect(() => view('SELECT day, SUM(run_time_s) AS r FROM gold.t GROUP BY day')).toThrow(
      'SUM(run_time_s) over a nullable column needs COUNT_BIG(run_time_s) in the same view',
    );
    expect(() => view('SELECT day, COUNT(DISTINCT machine_id) AS n FROM gold.t GROUP BY day')).toThrow(
      /COUNT\(DISTINCT\)/,
    );
    expect(() => view('SELECT day, SUM(good_count) AS g FROM gold.other GROUP BY day')).toThrow(
      /own table gold.t/,
    );
    expect(() => view('SELECT SUM(good_count) AS g FROM gold.t')).toThrow(/needs a GROUP BY/);
    // A NOT NULL column needs no COUNT_BIG; grouping by the hash column keeps the table's distribution.
    const ok = view(
      'SELECT machine_id, SUM(good_count) AS g, SUM(run_time_s) AS r, COUNT_BIG(run_time_s) AS n FROM gold.t GROUP BY machine_id',
    );
    expect(ok.views[0]!.distribution).toBe('HASH([machine_id])');
  });
});

describe('tsqlType', () => {
  it('maps every Delta primitive Aurora writes and names the column it cannot map', () => {
    expect(
      [
        'string',
        'long',
        'integer',
        'short',
        'byte',
        'double',
        'float',
        'boolean',
        'date',
        'timestamp',
        'timestamp_ntz',
        'decimal(38, 9)',
      ].map((t) => tsqlType(t, 'x')),
    ).toEqual([
      'NVARCHAR(4000)',
      'BIGINT',
      'INT',
      'SMALLINT',
      'SMALLINT',
      'FLOAT',
      'REAL',
      'BIT',
      'DATE',
      'DATETIME2(6)',
      'DATETIME2(6)',
      'DECIMAL(38, 9)',
    ]);
    expect(() => tsqlType({ type: 'array', elementType: 'string' }, 'gold.t.tags')).toThrow(
      /gold\.t\.tags has Delta type/,
    );
  });
});

describe('lakeFileUrl', () => {
  it('percent-encodes each path segment and keeps the slashes', () => {
    expect(lakeFileUrl(`${LAKE}/`, "gold/t/day=2026-11-23/part 0's.parquet")).toBe(
      `${LAKE}/gold/t/day%3D2026-11-23/part%200's.parquet`,
    );
  });
});

/** A pool that answers the catalog queries from a map and records every statement. */
function fakePool(state: {
  columns?: Record<string, string[]>;
  loads?: Record<string, number>;
  failOn?: RegExp;
  overhead?: Record<string, [number, number]>;
}) {
  const statements: string[] = [];
  const runner: SqlRunner = {
    async query(sql) {
      statements.push(sql);
      if (state.failOn?.test(sql)) throw new Error('COPY failed: 403 on the lake');
      if (sql.startsWith('SELECT [table_name], [delta_version]')) {
        return Object.entries(state.loads ?? {}).map(([table_name, delta_version]) => ({
          table_name,
          delta_version,
        }));
      }
      const columns = /OBJECT_ID\('([^']+)'\) ORDER BY \[column_id\]/.exec(sql);
      if (columns) return (state.columns?.[columns[1]!] ?? []).map((name) => ({ name }));
      if (sql.startsWith('SELECT SCHEMA_NAME')) {
        return Object.keys(state.overhead ?? {}).map((v) => ({
          schema_name: v.split('.')[0],
          view_name: v.split('.')[1],
        }));
      }
      const dbcc = /SHOWMATERIALIZEDVIEWOVERHEAD \("([^"]+)"\)/.exec(sql);
      if (dbcc) {
        const [base, total] = state.overhead![dbcc[1]!]!;
        return [
          {
            OBJECT_ID: 1,
            BASE_VIEW_ROWS: base,
            TOTAL_ROWS: total,
            OVERHEAD_RATIO: total / Math.max(1, base),
          },
        ];
      }
      return [];
    },
  };
  return { runner, statements };
}

describe('loadSynapse', () => {
  const withView =
    'synapse:\n  distribution: HASH(machine_id)\n  materialized_view: "SELECT machine_id, SUM(good_count) AS g FROM gold.t GROUP BY machine_id"';
  const columns = ['machine_id', 'day', 'good_count', 'run_time_s', 'note'];

  it('creates the missing table and view, then loads and records the Delta version', async () => {
    const { runner, statements } = fakePool({});
    const report = await loadSynapse(runner, ddlOf(withView));
    expect(report).toEqual({
      loaded: [{ table: 'gold.t', version: 3, files: 1 }],
      unchanged: [],
      failed: [],
    });
    const create = statements.findIndex((s) => s.startsWith('CREATE TABLE [gold].[t]'));
    const view = statements.findIndex((s) => s.includes('CREATE MATERIALIZED VIEW [gold].[mv_t]'));
    const copy = statements.findIndex((s) => s.startsWith('COPY INTO [gold].[t]'));
    expect(create).toBeGreaterThan(0);
    expect(view).toBeGreaterThan(create);
    expect(copy).toBeGreaterThan(view);
    expect(statements[copy - 1]).toBe('DELETE FROM [gold].[t];');
    expect(statements.at(-1)).toMatch(
      /INSERT INTO \[dbo\]\.\[aurora_gold_loads\] VALUES \('gold\.t', 3, SYSUTCDATETIME\(\)\)$/,
    );
  });

  it('skips a table whose Delta version is already loaded', async () => {
    const { runner, statements } = fakePool({ columns: { 'gold.t': columns }, loads: { 'gold.t': 3 } });
    expect(await loadSynapse(runner, ddlOf(withView))).toEqual({
      loaded: [],
      unchanged: ['gold.t'],
      failed: [],
    });
    expect(statements.some((s) => s.startsWith('COPY') || s.startsWith('DELETE FROM [gold]'))).toBe(false);
  });

  it('recreates a table whose columns changed, dropping its views first, and reloads it', async () => {
    const { runner, statements } = fakePool({
      columns: { 'gold.t': ['machine_id', 'day'] },
      loads: { 'gold.t': 3 },
    });
    const report = await loadSynapse(runner, ddlOf(withView));
    expect(report.loaded).toHaveLength(1);
    const drop = statements.findIndex((s) => s.includes('DROP VIEW gold.mv_t'));
    expect(drop).toBeGreaterThan(0);
    expect(statements[drop + 1]).toBe('DROP TABLE gold.t');
    expect(statements[drop + 2]).toMatch(/^CREATE TABLE \[gold\]\.\[t\]/);
  });

  it('reports a failed table and goes on with the others', async () => {
    const two = project(model('t', ''), model('u', ''));
    const ddl = synapseDdl(
      two,
      new Map([
        ['gold.t', source()],
        ['gold.u', source({ files: ['gold/u/p.parquet'] })],
      ]),
      { lakeDfsUrl: LAKE },
    );
    const { runner } = fakePool({ failOn: /^COPY INTO \[gold\]\.\[t\]/ });
    const report = await loadSynapse(runner, ddl);
    expect(report.failed).toEqual([{ table: 'gold.t', error: 'COPY failed: 403 on the lake' }]);
    expect(report.loaded.map((l) => l.table)).toEqual(['gold.u']);
  });
});

describe('refreshMaterializedViews', () => {
  it('rebuilds only views whose tracking rows exceed the threshold of their rows', async () => {
    const { runner, statements } = fakePool({
      overhead: { 'gold.mv_a': [100, 129], 'gold.mv_b': [100, 131], 'gold.mv_c': [0, 0] },
    });
    const result = await refreshMaterializedViews(runner, 0.3);
    expect(result.map((r) => [r.view, r.overheadRatio, r.rebuilt])).toEqual([
      ['gold.mv_a', 1.29, false],
      ['gold.mv_b', 1.31, true],
      ['gold.mv_c', 0, false],
    ]);
    expect(statements.filter((s) => s.startsWith('ALTER'))).toEqual([
      'ALTER MATERIALIZED VIEW [gold].[mv_b] REBUILD',
    ]);
  });
});
