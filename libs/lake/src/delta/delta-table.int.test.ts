import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock } from '@aurora/core';
import type { Json } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobLake } from '../blob-lake.js';
import type { Lake } from '../lake.js';
import { ParquetCodec, type ParquetSchema } from '../parquet.js';
import { DeltaConcurrentCommitError } from './errors.js';
import { DeltaTable } from './table.js';

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
});

const ORDERS: ParquetSchema = [
  { name: 'facility_id', type: 'VARCHAR' },
  { name: 'order_id', type: 'VARCHAR' },
  { name: 'quantity', type: 'BIGINT' },
  { name: 'updated_at', type: 'TIMESTAMP' },
];
const order = (facility: string | null, id: string, quantity: number) => ({
  facility_id: facility,
  order_id: id,
  quantity,
  updated_at: new Date(Date.UTC(2026, 4, 1, 10, 0, quantity)),
});
const json = (o: ReturnType<typeof order>) => ({ ...o, updated_at: o.updated_at.toISOString() });
const sorted = (rows: Record<string, Json>[]) =>
  [...rows].sort((a, b) =>
    `${a['facility_id']}|${a['order_id']}`.localeCompare(`${b['facility_id']}|${b['order_id']}`),
  );
const names = async (prefix: string) => {
  const out: string[] = [];
  for await (const f of lake.list(prefix)) out.push(f.path.slice(prefix.length));
  return out;
};

describe('DeltaTable on Azurite', () => {
  it('creates, appends, overwrites, deletes and replaces by key, each a new version', async () => {
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const t = await DeltaTable.create({ lake, codec, clock }, 'silver/production_orders_a', {
      schema: ORDERS,
      partitionColumns: ['facility_id'],
    });
    expect(await t.read()).toEqual([]);
    const a1 = order('augsburg', 'A-1', 5);
    const a2 = order('augsburg', 'A-2', 7);
    const odd = order('ingolstadt: hall 2/%', 'I-1', 3); // escaped in the folder name, URL-encoded in the log
    const none = order(null, 'N-1', 1); // the null partition
    clock.advance(1000);
    expect(await t.append([a1, a2, odd, none])).toMatchObject({ version: 1, committed: true, addedFiles: 3 });
    expect(sorted(await t.read())).toEqual(sorted([a1, a2, odd, none].map(json)));
    const files = await names('silver/production_orders_a/');
    expect(
      files
        .filter((f) => f.endsWith('.parquet'))
        .map((f) => f.replace(/part-\d{5}-[0-9a-f-]{36}-c000/, 'P'))
        .sort(),
    ).toEqual([
      'facility_id=__HIVE_DEFAULT_PARTITION__/P.zstd.parquet',
      'facility_id=augsburg/P.zstd.parquet',
      'facility_id=ingolstadt%3A hall 2%2F%25/P.zstd.parquet',
    ]);
    const v1 = await t.snapshot();
    const oddAdd = v1.files.find((f) => f.add.partitionValues['facility_id'] === 'ingolstadt: hall 2/%')!.add;
    expect(oddAdd.path).toMatch(/^facility_id=ingolstadt%253A%20hall%202%252F%2525\//);
    expect(
      JSON.parse(v1.files.find((f) => f.add.partitionValues['facility_id'] === 'augsburg')!.add.stats!),
    ).toEqual({
      numRecords: 2,
      minValues: { order_id: 'A-1', quantity: 5, updated_at: '2026-05-01T10:00:05.000Z' },
      maxValues: { order_id: 'A-2', quantity: 7, updated_at: '2026-05-01T10:00:07.000Z' },
      nullCount: { order_id: 0, quantity: 0, updated_at: 0 },
    });

    clock.advance(1000);
    await t.deleteWhere(`order_id = 'A-2' OR facility_id IS NULL`);
    expect(sorted(await t.read())).toEqual(sorted([a1, odd].map(json)));

    clock.advance(1000);
    const a1v2 = order('augsburg', 'A-1', 50);
    const a3 = order('augsburg', 'A-3', 9);
    expect(await t.replaceByKey(['facility_id', 'order_id'], [a1v2, a3])).toMatchObject({
      version: 3,
      removedFiles: 1,
    });
    expect(sorted(await t.read())).toEqual(sorted([a1v2, a3, odd].map(json)));

    clock.advance(1000);
    const r = order('regensburg', 'R-1', 2);
    await t.overwrite([r]);
    expect(await t.read()).toEqual([json(r)]);

    expect(
      (await t.history()).map((h) => [h.version, h.operation, h.operationParameters['mode'] ?? null]),
    ).toEqual([
      [4, 'WRITE', 'Overwrite'],
      [3, 'MERGE', null],
      [2, 'DELETE', null],
      [1, 'WRITE', 'Append'],
      [0, 'CREATE TABLE', null],
    ]);
    // time travel: by version, and by timestamp between commits
    expect(sorted(await t.read({ version: 1 }))).toEqual(sorted([a1, a2, odd, none].map(json)));
    expect(sorted(await t.read({ version: 3 }))).toEqual(sorted([a1v2, a3, odd].map(json)));
    expect(sorted(await t.read({ timestamp: new Date('2026-05-01T10:00:02.500Z') }))).toEqual(
      sorted([a1, odd].map(json)),
    );
    expect(await t.read({ timestamp: new Date('2026-05-01T10:00:00.500Z') })).toEqual([]);
    await expect(t.read({ timestamp: new Date('2026-05-01T09:00:00Z') })).rejects.toMatchObject({
      code: 'usage.invalid',
    });
  });

  it('checkpoints every N commits, and a reader of the checkpoint plus later commits sees the same table', async () => {
    const t = await DeltaTable.create(
      { lake, codec },
      'silver/cp_table',
      { schema: ORDERS },
      { checkpointInterval: 3 },
    );
    const expected: ReturnType<typeof order>[] = [];
    const results = [];
    for (let i = 1; i <= 7; i++) {
      const batch = [order('augsburg', `A-${i}`, i)];
      expected.push(...batch);
      results.push(await t.append(batch));
      if (i === 5) {
        await t.deleteWhere(`order_id = 'A-2'`); // version 6: a remove the checkpoint at 6 must honour
        expected.splice(1, 1);
      }
    }
    expect(results.map((r) => r.checkpoint?.version ?? null)).toEqual([
      null,
      null,
      3,
      null,
      null,
      null,
      null,
    ]);
    const log = await names('silver/cp_table/_delta_log/');
    expect(log.filter((n) => n.includes('checkpoint'))).toEqual([
      '00000000000000000003.checkpoint.parquet',
      '00000000000000000006.checkpoint.parquet',
      '_last_checkpoint',
    ]);
    expect(
      JSON.parse((await lake.get('silver/cp_table/_delta_log/_last_checkpoint')).toString()),
    ).toMatchObject({ version: 6 });
    // the checkpoint's columns are the protocol's action structs, maps as maps
    const cp = await lake.get('silver/cp_table/_delta_log/00000000000000000006.checkpoint.parquet');
    const decoded = await codec.decode(cp);
    expect(decoded.filter((r) => r['add'] !== null)).toHaveLength(4);
    expect(decoded.filter((r) => r['remove'] !== null)).toHaveLength(1);
    // drop the commits the checkpoint covers: the same rows must come back from it alone
    for (let v = 0; v <= 6; v++)
      await lake.delete(`silver/cp_table/_delta_log/${String(v).padStart(20, '0')}.json`);
    const fresh = new DeltaTable({ lake, codec }, 'silver/cp_table');
    expect(sorted(await fresh.read())).toEqual(sorted(expected.map(json)));
    expect((await fresh.snapshot()).version).toBe(8);
    expect(sorted(await fresh.read({ version: 6 }))).toEqual(sorted(expected.slice(0, -2).map(json)));
  });

  it('lets exactly one of two writers commit a version; the loser retries on the new snapshot', async () => {
    await DeltaTable.create({ lake, codec }, 'silver/race', { schema: ORDERS });
    const writerA = new DeltaTable({ lake, codec }, 'silver/race');
    const writerB = new DeltaTable({ lake, codec }, 'silver/race');
    const base = await writerA.snapshot();
    const plan = (id: string) => ({
      actions: [],
      operation: 'WRITE',
      operationParameters: { mode: 'Append', writer: id },
      isBlindAppend: true,
    });
    const outcomes = await Promise.allSettled([
      writerA.commitOnce(base, plan('a')),
      writerB.commitOnce(base, plan('b')),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected');
    expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(DeltaConcurrentCommitError);
    expect(lost?.status === 'rejected' && lost.reason).toMatchObject({ code: 'lake.conflict', version: 1 });

    // Real appends racing: every one lands, each at its own version.
    const appended = await Promise.all([
      writerA.append([order('augsburg', 'A-1', 1)]),
      writerB.append([order('ingolstadt', 'I-1', 2)]),
      writerA.append([order('regensburg', 'R-1', 3)]),
    ]);
    expect(appended.map((r) => r.version).sort()).toEqual([2, 3, 4]);
    expect((await writerB.read()).map((r) => r['order_id']).sort()).toEqual(['A-1', 'I-1', 'R-1']);

    // A writer that loses the race rebuilds its commit on the snapshot that beat it.
    let builds = 0;
    const retried = await writerA.commit(async (snapshot) => {
      if (builds++ === 0) await writerB.append([order('augsburg', 'A-9', 9)]); // takes version snapshot + 1
      return { actions: [], operation: 'WRITE', operationParameters: { readVersion: snapshot.version } };
    });
    expect(retried).toMatchObject({ attempts: 2, version: 6 });

    // A single attempt surfaces the typed conflict rather than a retry.
    const stale = await writerA.snapshot();
    await writerB.append([order('augsburg', 'A-2', 4)]);
    await expect(writerA.commitOnce(stale, plan('a'))).rejects.toMatchObject({
      code: 'lake.conflict',
      version: 7,
    });
  });

  it('commits an application transaction once: a replayed batch is a no-op', async () => {
    const t = await DeltaTable.create({ lake, codec }, 'silver/idempotent', { schema: ORDERS });
    const batch = [order('augsburg', 'A-1', 1)];
    expect(await t.append(batch, { txn: { appId: 'mes-augsburg', version: 7 } })).toMatchObject({
      committed: true,
      version: 1,
    });
    expect(await t.append(batch, { txn: { appId: 'mes-augsburg', version: 7 } })).toMatchObject({
      committed: false,
      version: 1,
    });
    expect(await t.read()).toHaveLength(1);
  });

  it('fails clearly on a missing table, a corrupt commit and a missing data file', async () => {
    await expect(new DeltaTable({ lake, codec }, 'silver/nothing').read()).rejects.toMatchObject({
      code: 'lake.not_found',
    });
    const t = await DeltaTable.create({ lake, codec }, 'silver/broken', { schema: ORDERS });
    await t.append([order('augsburg', 'A-1', 1)]);
    const [file] = (await t.snapshot()).files;
    await lake.delete(file!.lakePath);
    await expect(t.read()).rejects.toMatchObject({
      code: 'lake.not_found',
      name: 'DeltaDataFileMissingError',
    });
    await lake.put('silver/broken/_delta_log/00000000000000000002.json', Buffer.from('{"add": {"path": '));
    await expect(t.read()).rejects.toMatchObject({ code: 'lake.corrupt' });
    await expect(
      DeltaTable.create({ lake, codec }, 'silver/broken', { schema: ORDERS }),
    ).rejects.toMatchObject({
      code: 'lake.conflict',
    });
  });
});
