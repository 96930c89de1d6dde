import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { createLogger, ManualClock } from '@aurora/core';
import { DQ_RESULTS_TABLE, loadProject, type Project } from '@aurora/engine';
import { createBlobLake, DeltaTable, type Lake, ParquetCodec, type ParquetSchema } from '@aurora/lake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type MedallionActivities, stagePath } from './activities.js';

/**
 * The activities as Azure runs them, against Azurite: each model built on its own (upstream read back from
 * the lake's staging), then published; the Delta tables, the quarantine and the DQ results are what the
 * in-process medallion leaves.
 */
let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
let project: Project;
let activities: MedallionActivities;
const dirs: string[] = [];
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));

const tmp = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aurora-activities-'));
  dirs.push(dir);
  return dir;
};

const SCHEMA: ParquetSchema = [
  { name: 'order_id', type: 'VARCHAR' },
  { name: 'qty', type: 'BIGINT' },
  { name: 'material', type: 'VARCHAR' },
];

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
  const dir = await tmp();
  await mkdir(join(dir, 'silver'));
  await mkdir(join(dir, 'gold'));
  await writeFile(
    join(dir, 'sources.yaml'),
    'bronze:\n  orders:\n    path: bronze/mes/test/orders\n    columns: { order_id: VARCHAR, qty: BIGINT, material: VARCHAR }\n',
  );
  await writeFile(
    join(dir, 'silver', 'orders.sql'),
    `/*
description: orders
inputs: [bronze.orders]
key: [order_id]
quarantine:
  - when: qty < 0
    reason: negative quantity
quality:
  completeness: [material]
expectations:
  - not_null: [material]
*/
SELECT DISTINCT order_id, qty, material FROM bronze.orders
`,
  );
  await writeFile(
    join(dir, 'gold', 'totals.sql'),
    `/*
description: totals per material
inputs: [silver.orders]
key: [material]
*/
SELECT material, CAST(sum(qty) AS BIGINT) AS qty, count(*) AS orders FROM silver.orders GROUP BY material
`,
  );
  await writeFile(
    join(dir, 'gold', 'broken.sql'),
    `/*
description: reads a column that does not exist
inputs: [silver.orders]
key: [material]
*/
SELECT material, no_such_column FROM silver.orders
`,
  );
  project = await loadProject(dir);
  const { bytes } = await codec.encode(SCHEMA, [
    { order_id: 'o1', qty: 5, material: 'AUR-1' },
    { order_id: 'o2', qty: 7, material: 'AUR-1' },
    { order_id: 'o3', qty: -1, material: 'AUR-2' },
    { order_id: 'o4', qty: 2, material: null },
  ] as never);
  await lake.put('bronze/mes/test/orders/year=2026/month=11/day=23/orders_1.parquet', bytes);
  activities = createActivities({
    lake,
    codec,
    clock,
    log: createLogger({ level: 'silent', name: 'test' }),
    workDir: await tmp(),
    project: async () => project,
  });
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('medallion activities', () => {
  it('build each model apart, staged in the lake, and publish them as the in-process run does', async () => {
    const runId = 'r1';
    expect(await activities.syncBronze({ runId })).toEqual({ files: 1, downloaded: 1 });
    expect(await activities.buildModel({ runId, model: 'silver.orders' })).toEqual({
      ok: true,
      rows: 3,
      quarantined: 1,
      failedExpectations: ['not_null(material)'],
    });
    expect(await lake.stat(stagePath(runId, 'silver.orders', 'table'))).toBeDefined();
    // gold.totals reads silver.orders back from the staging, on what may be another instance.
    expect(await activities.buildModel({ runId, model: 'gold.totals' })).toEqual({
      ok: true,
      rows: 2,
      quarantined: 0,
      failedExpectations: [],
    });
    const broken = await activities.buildModel({ runId, model: 'gold.broken' });
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error).toMatch(/no_such_column/);

    const published = await activities.publishTables({ runId, models: ['silver.orders', 'gold.totals'] });
    expect(published.problems).toEqual([]);
    expect(published.tables.map((t) => t.model)).toEqual([
      'silver.orders',
      'gold.totals',
      'silver.quarantine',
    ]);

    const deps = { lake, codec };
    expect(await new DeltaTable(deps, 'gold/totals/').read()).toEqual([
      { material: 'AUR-1', qty: 12, orders: 2 },
      { material: null, qty: 2, orders: 1 },
    ]);
    const orders = await new DeltaTable(deps, 'silver/orders/').read();
    expect(orders.map((o) => [o['order_id'], o['_quality_score']])).toEqual([
      ['o1', 100],
      ['o2', 100],
      ['o4', 0],
    ]);
    const quarantine = await new DeltaTable(deps, 'silver/quarantine/').read();
    expect(quarantine).toEqual([
      expect.objectContaining({ table_name: 'silver.orders', reason: 'negative quantity', record_key: 'o3' }),
    ]);
    const dq = await new DeltaTable(deps, DQ_RESULTS_TABLE).read();
    expect(dq.map((r) => [r['model'], r['expectation'], r['passed']]).sort()).toEqual([
      ['gold.totals', 'unique(material)', true],
      ['silver.orders', 'not_null(material)', false],
      ['silver.orders', 'unique(order_id)', true],
    ]);
    // The run's staging is gone once published.
    const left: string[] = [];
    for await (const f of lake.list(`silver/_runs/${runId}/`)) left.push(f.path);
    expect(left).toEqual([]);
  });

  it('say what is missing when Synapse is not configured', async () => {
    await expect(activities.loadSynapse({ runId: 'r1' })).rejects.toThrow(/AURORA_SYNAPSE_SQL_SERVER/);
  });
});
