import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStorage, openLocalStorage } from '@aurora/azurite';
import { createLogger, ManualClock } from '@aurora/core';
import { loadProject, runMedallion } from '@aurora/engine';
import { createBlobLake, type Lake, ParquetCodec, type ParquetSchema } from '@aurora/lake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aurora } from './cli.js';

/**
 * `aurora dq` against the results two real medallion runs appended to silver/dq_results: the first run
 * clean, the second with an order that has no material (an error-severity expectation fails) and a
 * quantity out of range (a warning). The CLI joins the Azurite this test keeps open on the same home.
 */
const dirs: string[] = [];
let home: string;
let storage: LocalStorage;
let lake: Lake;
let codec: ParquetCodec;
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
const log = createLogger({ level: 'silent', name: 'test' });

const tmp = async (prefix: string) => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

async function project(): Promise<string> {
  const dir = await tmp('aurora-dq-project-');
  await mkdir(join(dir, 'silver'));
  await writeFile(
    join(dir, 'sources.yaml'),
    `bronze:
  orders:
    path: bronze/mes/test/orders
    columns: { order_id: VARCHAR, qty: BIGINT, material: VARCHAR }
`,
  );
  await writeFile(
    join(dir, 'silver', 'orders.sql'),
    `/*
description: orders
inputs: [bronze.orders]
key: [order_id]
expectations:
  - not_null: [material]
  - { range: { column: qty, min: 0, max: 100 }, severity: warn }
*/
SELECT DISTINCT order_id, qty, material FROM bronze.orders
`,
  );
  return dir;
}

const SCHEMA: ParquetSchema = [
  { name: 'order_id', type: 'VARCHAR' },
  { name: 'qty', type: 'BIGINT' },
  { name: 'material', type: 'VARCHAR' },
];

async function land(name: string, rows: { order_id: string; qty: number; material: string | null }[]) {
  const { bytes } = await codec.encode(SCHEMA, rows as never);
  await lake.put(`bronze/mes/test/orders/year=2026/month=11/day=23/${name}`, bytes);
}

beforeAll(async () => {
  home = await tmp('aurora-dq-home-');
  storage = await openLocalStorage(home, { blobPort: 0, queuePort: 0, tablePort: 0 });
  lake = createBlobLake({ connectionString: storage.connectionString });
  codec = await ParquetCodec.create();
  const proj = await loadProject(await project());
  const deps = { lake, codec, clock, log, home };
  await land('orders_1.parquet', [
    { order_id: 'o1', qty: 5, material: 'AUR-1' },
    { order_id: 'o2', qty: 7, material: 'AUR-2' },
  ]);
  await runMedallion(deps, { project: proj });
  clock.advance(15 * 60_000);
  await land('orders_2.parquet', [
    { order_id: 'o3', qty: 500, material: 'AUR-1' },
    { order_id: 'o4', qty: 1, material: null },
  ]);
  await runMedallion(deps, { project: proj });
});
afterAll(async () => {
  codec?.close();
  await storage?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('aurora dq', () => {
  it('prints the latest run per model with dimension scores and exits 1 on a failed error expectation', async () => {
    const run = await aurora(['dq'], { AURORA_HOME: home });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^silver\.orders {2}1\/3 passed {2}\(run 20261123T081500000Z-\w+, 2026-11-23T08:15:00\.000Z\)$/,
    );
    // completeness: 1 of 4 rows null; uniqueness: no duplicate; validity: 1 of 4 outside the range.
    expect(lines[1]).toBe('  dimensions: completeness 75.0 %, uniqueness 100.0 %, validity 75.0 %');
    expect(run.stdout).toMatch(/ {2}FAIL {2}completeness +1 \/ 4 failed +not_null\(material\)$/m);
    expect(run.stdout).toMatch(/ {2}warn {2}validity +1 \/ 4 failed +range\(qty >= 0 <= 100\)$/m);
    expect(run.stdout).toMatch(/ {2}pass {2}uniqueness +0 \/ 4 failed +unique\(order_id\)$/m);
    expect(run.stdout).not.toContain('sample:');
    expect(run.stdout).toContain('FAILED: error-severity expectations failed in silver.orders');
  });

  it('shows the failing rows with --samples and the same figures as JSON', async () => {
    const run = await aurora(['dq', '--samples', '--json'], { AURORA_HOME: home });
    expect(run.code).toBe(1);
    const body = JSON.parse(run.stdout) as {
      ok: boolean;
      models: {
        model: string;
        failedErrors: number;
        dimensions: { dimension: string; checks: number; passedChecks: number; rowScore: number }[];
        expectations: { expectation: string; passed: boolean; sample?: unknown }[];
      }[];
    };
    expect(body.ok).toBe(false);
    expect(body.models).toHaveLength(1);
    const [orders] = body.models;
    expect(orders!.failedErrors).toBe(1);
    expect(orders!.dimensions.find((d) => d.dimension === 'validity')).toEqual({
      dimension: 'validity',
      checks: 1,
      passedChecks: 0,
      checkScore: 0,
      rowScore: 0.75,
    });
    const notNull = orders!.expectations.find((e) => e.expectation === 'not_null(material)');
    // As the engine samples them: DuckDB's JSON rendering, BIGINTs as text.
    expect(notNull!.sample).toEqual([{ order_id: 'o4', qty: '1', material: null }]);
    const range = orders!.expectations.find((e) => e.expectation.startsWith('range'));
    expect(range!.sample).toEqual([{ order_id: 'o3', qty: '500', material: 'AUR-1' }]);
    // Passed expectations carry no sample.
    expect(orders!.expectations.find((e) => e.passed)).not.toHaveProperty('sample');
  });

  it('shows the pass rate per model over the last runs with --trend', async () => {
    const all = await aurora(['dq', '--trend', '--model', 'silver.orders'], { AURORA_HOME: home });
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/^silver\.orders +100% +33% {3}latest 1\/3$/m);
    const last = await aurora(['dq', '--trend', '--runs', '1', '--json'], { AURORA_HOME: home });
    expect({ code: last.code, stderr: last.stderr }).toEqual({ code: 1, stderr: '' });
    const body = JSON.parse(last.stdout) as { trend: { model: string; runs: { passRate: number }[] }[] };
    expect(body.trend).toEqual([
      {
        model: 'silver.orders',
        runs: [expect.objectContaining({ passed: 1, total: 3, runAt: '2026-11-23T08:15:00.000Z' })],
      },
    ]);
  });

  it('names the model it has no results for, and says what to run on a fresh home (exit 2, as for any usage error)', async () => {
    const unknown = await aurora(['dq', '--model', 'gold.nothing'], { AURORA_HOME: home });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no data-quality results for model gold.nothing');
    const fresh = await aurora(['dq'], { AURORA_HOME: await tmp('aurora-dq-fresh-') });
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toContain('no data-quality results yet: run `pnpm aurora run --once` first');
    expect(fresh.stdout).toBe('');
  });
});
