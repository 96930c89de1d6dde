import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { createLogger, ManualClock } from '@aurora/core';
import { createBlobLake, DeltaTable, type Lake, ParquetCodec, type ParquetSchema } from '@aurora/lake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from './project.js';
import { runMedallion } from './run.js';
import { queryWarehouse } from './warehouse.js';

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
const dirs: string[] = [];
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
const log = createLogger({ level: 'silent', name: 'test' });

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const tmp = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aurora-engine-'));
  dirs.push(dir);
  return dir;
};

/** A two-model project: silver orders (dedup, quarantine, score) and a gold roll-up. */
async function project(): Promise<string> {
  const dir = await tmp();
  await mkdir(join(dir, 'silver'));
  await mkdir(join(dir, 'gold'));
  await mkdir(join(dir, 'reference'));
  await writeFile(
    join(dir, 'sources.yaml'),
    `bronze:
  orders:
    path: bronze/mes/test/orders
    columns: { order_id: VARCHAR, qty: BIGINT, material: VARCHAR, modified_at: TIMESTAMPTZ, _extracted_at: TIMESTAMPTZ, _batch_id: VARCHAR }
  never_landed:
    path: bronze/sap/nothing
    columns: { id: VARCHAR }
`,
  );
  await writeFile(
    join(dir, 'reference', 'materials.csv'),
    'material,description\nAUR-1,Bracket\nAUR-2,Cover\n',
  );
  await writeFile(
    join(dir, 'silver', 'orders.sql'),
    `/*
description: latest version per order
inputs: [bronze.orders, bronze.never_landed]
key: [order_id]
quarantine:
  - when: qty < 0
    reason: negative quantity
quality:
  completeness: [material]
  consistency: [qty <= 100]
expectations:
  - not_null: [material]
  - { relationship: { column: material, to: reference.materials.material }, severity: warn }
*/
SELECT order_id, qty, material, modified_at, (SELECT count(*) FROM bronze.never_landed) AS extra
FROM bronze.orders
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY modified_at DESC, _batch_id DESC) = 1
`,
  );
  await writeFile(
    join(dir, 'gold', 'totals.sql'),
    `/*
description: total quantity per material
inputs: [silver.orders]
key: [material]
*/
SELECT material, sum(qty) AS qty, count(*) AS orders FROM silver.orders GROUP BY material
`,
  );
  return dir;
}

const SCHEMA: ParquetSchema = [
  { name: 'order_id', type: 'VARCHAR' },
  { name: 'qty', type: 'BIGINT' },
  { name: 'material', type: 'VARCHAR' },
  { name: 'modified_at', type: 'TIMESTAMP' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
];
const at = (m: number) => new Date(Date.UTC(2026, 10, 23, 7, m));

async function land(name: string, rows: Record<string, unknown>[]) {
  const { bytes } = await codec.encode(SCHEMA, rows as never);
  await lake.put(`bronze/mes/test/orders/year=2026/month=11/day=23/${name}`, bytes);
}

describe('runMedallion', () => {
  it('dedupes by key, quarantines hard-rule failures with the reason, scores rows, checks expectations and publishes Delta tables', async () => {
    const home = await tmp();
    const proj = await loadProject(await project());
    await land('orders_1.parquet', [
      {
        order_id: 'o1',
        qty: 5,
        material: 'AUR-1',
        modified_at: at(0),
        _extracted_at: at(5),
        _batch_id: 'b1',
      },
      {
        order_id: 'o2',
        qty: -3,
        material: 'AUR-2',
        modified_at: at(0),
        _extracted_at: at(5),
        _batch_id: 'b1',
      },
      {
        order_id: 'o3',
        qty: 500,
        material: 'AUR-9',
        modified_at: at(0),
        _extracted_at: at(5),
        _batch_id: 'b1',
      },
    ]);
    // A redelivery of o1 and a newer version of it (at-least-once, the overlap of the next window).
    await land('orders_2.parquet', [
      {
        order_id: 'o1',
        qty: 5,
        material: 'AUR-1',
        modified_at: at(0),
        _extracted_at: at(20),
        _batch_id: 'b2',
      },
      {
        order_id: 'o1',
        qty: 7,
        material: 'AUR-1',
        modified_at: at(10),
        _extracted_at: at(20),
        _batch_id: 'b2',
      },
    ]);

    const report = await runMedallion({ lake, codec, clock, log, home }, { project: proj });
    expect(report.models.map((m) => [m.model, m.rows, m.quarantined])).toEqual([
      ['silver.orders', 2, 1],
      ['gold.totals', 2, 0],
    ]);

    const silver = await queryWarehouse(
      home,
      'SELECT order_id, qty, extra, _quality_score FROM silver.orders ORDER BY 1',
    );
    // o1 at its newest version; o3 complete but inconsistent (qty > 100): completeness 1, consistency 0.
    expect(silver.rows).toEqual([
      { order_id: 'o1', qty: 7, extra: 0, _quality_score: 100 },
      { order_id: 'o3', qty: 500, extra: 0, _quality_score: 50 },
    ]);
    const quarantine = await queryWarehouse(
      home,
      'SELECT table_name, reason, record_key, record FROM silver.quarantine',
    );
    expect(quarantine.rows).toHaveLength(1);
    expect(quarantine.rows[0]).toMatchObject({
      table_name: 'silver.orders',
      reason: 'negative quantity',
      record_key: 'o2',
    });
    expect(JSON.parse(String(quarantine.rows[0]!['record']))).toMatchObject({ order_id: 'o2', qty: -3 });

    // The relationship to the material reference fails for AUR-9, as a warning: the run stays ok.
    const silverChecks = report.models[0]!.expectations;
    expect(silverChecks.find((e) => e.expectation.startsWith('unique'))).toMatchObject({
      passed: true,
      totalRows: 2,
    });
    const relation = silverChecks.find((e) => e.expectation.startsWith('relationship'));
    expect(relation).toMatchObject({
      passed: false,
      failedRows: 1,
      severity: 'warn',
      dimension: 'consistency',
    });
    expect(JSON.parse(relation!.sample)[0]).toMatchObject({ order_id: 'o3', material: 'AUR-9' });
    expect(report.ok).toBe(true);

    // Published: Delta tables with the same rows, and the DQ results appended, passes included.
    const delta = new DeltaTable({ lake, codec }, 'silver/orders/');
    expect((await delta.read()).map((r) => r['order_id']).sort()).toEqual(['o1', 'o3']);
    expect(
      (await lake.stat('silver/orders/_delta_log/00000000000000000000.json'))?.sizeBytes,
    ).toBeGreaterThan(0);
    const dq = await new DeltaTable({ lake, codec }, 'silver/dq_results/').read();
    expect(dq.length).toBe(silverChecks.length + report.models[1]!.expectations.length);
    expect(dq.filter((r) => r['passed'] === true).length).toBeGreaterThan(0);

    // A re-run over the same bronze commits nothing new; the bytes are the same.
    const again = await runMedallion({ lake, codec, clock, log, home }, { project: proj });
    expect(again.models.map((m) => m.delta?.committed)).toEqual([false, false]);
  });

  it('gives the same silver and gold, bit for bit, when rebuilt from bronze in another home', async () => {
    const proj = await loadProject(await project());
    const contentHashes = async () => {
      const out: Record<string, string[]> = {};
      for (const name of ['silver/orders/', 'gold/totals/']) {
        const snapshot = await new DeltaTable({ lake, codec }, name).snapshot();
        out[name] = await Promise.all(
          snapshot.files.map(async (f) =>
            createHash('sha256')
              .update(await lake.get(f.lakePath))
              .digest('hex'),
          ),
        );
      }
      return out;
    };
    await runMedallion({ lake, codec, clock, log, home: await tmp() }, { project: proj });
    const before = await contentHashes();
    // Disaster: silver and gold are gone; only bronze is left.
    for (const prefix of ['silver/', 'gold/'])
      for await (const f of lake.list(prefix)) await lake.delete(f.path);
    const rebuilt = await runMedallion(
      { lake, codec, clock, log, home: await tmp() },
      { project: proj, threads: 1 },
    );
    expect(rebuilt.models.every((m) => m.delta?.committed)).toBe(true);
    expect(await contentHashes()).toEqual(before);
  });

  it('reports a model whose SQL fails, and the models reading it, without stopping the others', async () => {
    const dir = await project();
    await writeFile(
      join(dir, 'silver', 'broken.sql'),
      '/*\ndescription: broken\ninputs: [bronze.orders]\nkey: [x]\n*/\nSELECT no_such_column AS x FROM bronze.orders',
    );
    const report = await runMedallion(
      { lake, codec, clock, log, home: await tmp() },
      { project: await loadProject(dir), publish: false },
    );
    const broken = report.models.find((m) => m.model === 'silver.broken');
    expect(broken?.error).toMatch(/no_such_column/);
    expect(report.models.find((m) => m.model === 'silver.orders')?.rows).toBe(2);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/silver.broken: .*no_such_column/);
  });

  it('anonymises erased subjects: their sealed values become NULL in silver and gold, and [erased] inside quarantined rows', async () => {
    const dir = await project();
    const sources = join(dir, 'sources.yaml');
    await writeFile(
      sources,
      (await readFile(sources, 'utf8')).replace('bronze/mes/test/orders', 'bronze/mes/erasure/orders'),
    );
    const erased = 'ERASEDxxxxxxxxxxxxxxxx';
    const kept = 'KEPTxxxxxxxxxxxxxxxxxx';
    const { bytes } = await codec.encode(SCHEMA, [
      {
        order_id: 'o1',
        qty: 5,
        material: `pd1.${erased}.c2VhbGVk`,
        modified_at: at(1),
        _extracted_at: at(2),
        _batch_id: 'b',
      },
      {
        order_id: 'o2',
        qty: 7,
        material: `pd1.${kept}.c2VhbGVk`,
        modified_at: at(1),
        _extracted_at: at(2),
        _batch_id: 'b',
      },
      {
        order_id: 'o4',
        qty: 1,
        material: `see pd1.${erased}.YWJj and pd1.${kept}.ZGVm`,
        modified_at: at(1),
        _extracted_at: at(2),
        _batch_id: 'b',
      },
      {
        order_id: 'o3',
        qty: -1,
        material: `pd1.${erased}.b3RoZXI`,
        modified_at: at(1),
        _extracted_at: at(2),
        _batch_id: 'b',
      },
    ] as never);
    await lake.put('bronze/mes/erasure/orders/year=2026/month=11/day=23/orders_1.parquet', bytes);
    const home = await tmp();
    const report = await runMedallion(
      { lake, codec, clock, log, home, erasedKeyIds: async () => [erased, 'not a key id'] },
      { project: await loadProject(dir), publish: false },
    );
    expect(report.models.every((m) => !m.error)).toBe(true);
    const silver = await queryWarehouse(
      home,
      'SELECT order_id, material FROM silver.orders ORDER BY order_id',
    );
    expect(silver.rows).toEqual([
      { order_id: 'o1', material: null },
      { order_id: 'o2', material: `pd1.${kept}.c2VhbGVk` },
      { order_id: 'o4', material: `see [erased] and pd1.${kept}.ZGVm` },
    ]);
    const gold = await queryWarehouse(home, 'SELECT material, qty FROM gold.totals ORDER BY qty');
    expect(gold.rows).toEqual([
      { material: `see [erased] and pd1.${kept}.ZGVm`, qty: 1 },
      { material: null, qty: 5 },
      { material: `pd1.${kept}.c2VhbGVk`, qty: 7 },
    ]);
    const quarantine = await queryWarehouse(home, 'SELECT record FROM silver.quarantine');
    expect(quarantine.rows).toHaveLength(1);
    expect(String(quarantine.rows[0]!['record'])).not.toContain(erased);
    // The whole value was sealed, so the row's JSON holds null for it.
    expect(JSON.parse(String(quarantine.rows[0]!['record']))).toMatchObject({
      order_id: 'o3',
      material: null,
    });
  });
});
