import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger, UsageError } from '@aurora/core';
import {
  type CheckpointStore,
  createBlobLake,
  createCheckpointStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { ErpModel, PlantModel } from '@aurora/plant';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestKeyRing } from '../test-sealer.fixture.js';
import { canonicalRowFromBronze, parseHashColumns, sha256Hex } from './bronze-rows.js';
import { DEFAULT_ERP_TABLES, type ErpTableConfig } from './erp-tables.js';
import { type FullLoadDeps, type FullLoadProgress, runFullLoad } from './full-load.js';
import { type FullLoadState, fullLoadKey } from './full-load-state.js';
import { type ErpCheckpoint, type ErpIngestionDeps, runErpIngestion } from './run-erp-ingestion.js';
import { ErpStandIn } from './stand-in/erp-stand-in.js';

const plant = new PlantModel({ seed: 1 });
const model = new ErpModel(plant);
let codec: ParquetCodec;
const running: { close(): unknown }[] = [];

beforeAll(async () => {
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec.close();
  for (const r of running) await r.close();
});

const table = (name: string): ErpTableConfig => DEFAULT_ERP_TABLES.find((t) => t.name === name)!;
const MMT = table('MTL_MATERIAL_TRANSACTIONS');
const PARTIES = table('HZ_PARTIES');

async function setup(start = '2026-11-23T10:00:00Z') {
  const clock = new ManualClock(start);
  const azurite: RunningAzurite = await startAzurite();
  running.push(azurite);
  const lake = createBlobLake({ connectionString: azurite.connectionString });
  const checkpoints = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpoints'));
  const standIn = await ErpStandIn.open({ model, clock, historyMs: 12 * 3_600_000 });
  running.push(standIn);
  const ring = new TestKeyRing();
  const deps: FullLoadDeps = {
    lake,
    checkpoints,
    clock,
    log: silentLogger,
    sealer: ring,
    connect: () => standIn.session(),
    timeZone: 'Europe/Berlin',
    chunkRows: 10,
    sleep: clock.sleep,
  };
  return { clock, lake, checkpoints, standIn, deps, ring };
}

async function landed(lake: Lake, name: string) {
  const out: { row: Record<string, unknown>; path: string; metadata: Record<string, string> }[] = [];
  for await (const f of lake.list(`bronze/oracle-erp/${name}/`))
    for (const row of await codec.decode(await lake.get(f.path)))
      out.push({ row, path: f.path, metadata: f.metadata });
  return out;
}

async function keysAt(standIn: ErpStandIn, scn: string): Promise<string[]> {
  const session = await standIn.session();
  try {
    const { rows } = await session.execute(
      'SELECT TO_CHAR("TRANSACTION_ID") AS "ID" FROM "INV"."MTL_MATERIAL_TRANSACTIONS" AS OF SCN :scn',
      { scn },
    );
    return rows.map((r) => r['ID']!).sort();
  } finally {
    await session.close();
  }
}

const loadState = async (checkpoints: CheckpointStore, name: string) =>
  (await checkpoints.load<FullLoadState>('oracle-erp', fullLoadKey(name)))?.value;

describe('runFullLoad against the ERP stand-in', () => {
  it('lands a table in key-range chunks, one bronze file each, every row once with its source-side SHA-256', async () => {
    const { lake, deps, standIn, checkpoints } = await setup();
    const report = await runFullLoad(deps, { tables: [MMT, PARTIES], resume: false });
    expect(report.ok).toBe(true);
    const mmt = report.tables[0]!;
    expect(mmt.completed).toBe(true);
    expect(mmt.chunks).toBeGreaterThan(5);
    const rows = await landed(lake, 'mtl_material_transactions');
    const paths = new Set(rows.map((r) => r.path));
    expect(paths.size).toBe(mmt.files);
    for (const p of paths)
      expect(p).toMatch(
        /^bronze\/oracle-erp\/mtl_material_transactions\/year=2026\/month=11\/day=23\/mtl_material_transactions_20261123T100000000\d{3}Z\.parquet$/,
      );
    const keys = rows.map((r) => String(r.row['TRANSACTION_ID'])).sort();
    expect(keys).toEqual(await keysAt(standIn, mmt.scn));
    expect(rows.every((r) => r.row['_op'] === 'R' && r.row['_scn'] === mmt.scn)).toBe(true);
    for (const { row, metadata } of rows) {
      expect(row['_row_sha256']).toMatch(/^[0-9a-f]{64}$/);
      const columns = parseHashColumns(metadata['hash_columns']!);
      expect(sha256Hex(canonicalRowFromBronze(columns, row, 'Europe/Berlin'))).toBe(row['_row_sha256']);
      expect(BigInt(String(row['TRANSACTION_ID']))).toBeGreaterThanOrEqual(BigInt(metadata['key_lo']!));
      expect(BigInt(String(row['TRANSACTION_ID']))).toBeLessThan(BigInt(metadata['key_hi']!));
    }
    const state = await loadState(checkpoints, 'INV.MTL_MATERIAL_TRANSACTIONS');
    expect(state?.next).toBe(state?.plan.count);
    expect(state?.completedAt).not.toBeNull();
    expect(report.tables[1]!.rows).toBe((await landed(lake, 'hz_parties')).length);
  });

  it('aborted after 3 chunks, resumes at the 4th: nothing landed twice, nothing skipped', async () => {
    const { lake, deps, standIn, checkpoints } = await setup();
    const controller = new AbortController();
    const seen: FullLoadProgress[] = [];
    const aborted = await runFullLoad(
      {
        ...deps,
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.chunk === 3) controller.abort(new Error('Ctrl-C'));
        },
      },
      { tables: [MMT], resume: false },
    );
    expect(aborted.ok).toBe(false);
    expect(aborted.error?.code).toBe('aborted');
    expect(seen.map((p) => p.chunk)).toEqual([1, 2, 3]);
    const state = await loadState(checkpoints, 'INV.MTL_MATERIAL_TRANSACTIONS');
    expect(state?.next).toBe(3);
    const before = new Set((await landed(lake, 'mtl_material_transactions')).map((r) => r.path));
    // Keys are sparse (ids from two sequences), so some key ranges hold nothing and land no file.
    expect(before.size).toBe(state?.files);
    expect(before.size).toBeGreaterThan(0);

    await expect(runFullLoad(deps, { tables: [MMT], resume: false })).rejects.toThrow(UsageError);
    const resumed = await runFullLoad(deps, { tables: [MMT], resume: true });
    expect(resumed.ok).toBe(true);
    const t = resumed.tables[0]!;
    expect(t.resumedAt).toBe(3);
    expect(t.chunksLanded).toBe(t.files - before.size);
    expect(t.chunksLanded).toBeGreaterThan(0);
    const rows = await landed(lake, 'mtl_material_transactions');
    const keys = rows.map((r) => String(r.row['TRANSACTION_ID'])).sort();
    expect(keys).toEqual(await keysAt(standIn, t.scn));
    expect(new Set(rows.map((r) => r.metadata['chunk'])).size).toBe(t.files);
    expect(new Set(rows.map((r) => r.path)).size).toBe(t.files);
    // A completed load is not loaded again on --resume.
    const again = await runFullLoad(deps, { tables: [MMT], resume: true });
    expect(again.tables[0]).toMatchObject({ alreadyComplete: true, rowsLanded: 0 });
    expect(again.tables[0]?.cdc?.action).toBe('already');
  });

  it('a crash between a chunk’s put and its checkpoint: the resume counts the durable file, never lands it again', async () => {
    const { lake, deps, standIn } = await setup();
    let puts = 0;
    let crashedAt = -1;
    const crashed = await runFullLoad(
      {
        ...deps,
        beforeChunkCheckpoint: async ({ chunk }) => {
          if (++puts === 2) {
            crashedAt = chunk;
            throw new Error('kill -9');
          }
        },
      },
      { tables: [MMT], resume: false },
    );
    expect(crashed.ok).toBe(false);
    expect(crashed.error).toMatchObject({ table: 'INV.MTL_MATERIAL_TRANSACTIONS', chunk: crashedAt });
    expect(new Set((await landed(lake, 'mtl_material_transactions')).map((r) => r.path)).size).toBe(2);

    const resumed = await runFullLoad(deps, { tables: [MMT], resume: true });
    const t = resumed.tables[0]!;
    expect(t).toMatchObject({ resumedAt: crashedAt, chunksRecovered: 1, completed: true });
    const rows = await landed(lake, 'mtl_material_transactions');
    expect(rows.map((r) => String(r.row['TRANSACTION_ID'])).sort()).toEqual(await keysAt(standIn, t.scn));
    expect(t.rows).toBe(rows.length);
    expect(new Set(rows.map((r) => r.path)).size).toBe(t.files);
  });

  it('retries a lost connection on a new session (30 s), and reads later chunks at a new SCN once the undo is gone', async () => {
    const { lake, deps, standIn, clock, checkpoints } = await setup();
    const controller = new AbortController();
    await runFullLoad(
      {
        ...deps,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.chunk === 2) controller.abort();
        },
      },
      { tables: [MMT], resume: false },
    );
    const first = (await loadState(checkpoints, 'INV.MTL_MATERIAL_TRANSACTIONS'))!.firstScn;
    const atFirst = await keysAt(standIn, first);
    // Four hours later the undo for the load's SCN is gone (the stand-in keeps 3 h).
    clock.advance(4 * 3_600_000);
    await expect(keysAt(standIn, first)).rejects.toThrow('ORA-01555');
    standIn.faults.inject({ fault: 'connection_lost', times: 1, afterRows: 5 });
    const resumed = await runFullLoad(deps, { tables: [MMT], resume: true });
    expect(resumed.ok).toBe(true);
    expect(resumed.tables[0]!.scn).toBe(first);
    expect(clock.sleeps).toEqual([30_000]);
    const rows = await landed(lake, 'mtl_material_transactions');
    const scns = [...new Set(rows.map((r) => String(r.row['_scn'])))].sort();
    expect(scns).toHaveLength(2);
    expect(scns[0]).toBe(first);
    const keys = rows.map((r) => String(r.row['TRANSACTION_ID']));
    expect(new Set(keys).size).toBe(keys.length);
    // The table is append-only: everything it held at the first SCN is there.
    expect(atFirst.filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('hands a completed table to CDC: no second snapshot, changes after the load SCN mined; an unfinished one waits', async () => {
    const { lake, deps, standIn, clock, checkpoints } = await setup();
    const cdcDeps: ErpIngestionDeps = {
      ...deps,
      tables: [MMT, PARTIES],
      snapshotLookbackS: 600,
      watermarkLookbackS: 3600,
    };
    const controller = new AbortController();
    await runFullLoad(
      {
        ...deps,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.chunk === 1) controller.abort();
        },
      },
      { tables: [MMT], resume: false },
    );
    clock.advance(30 * 60_000);
    const waiting = await runErpIngestion(cdcDeps);
    expect(waiting.ok).toBe(true);
    expect(waiting.fullLoadPending).toEqual(['INV.MTL_MATERIAL_TRANSACTIONS']);
    expect(waiting.tables.map((t) => t.table)).toEqual(['AR.HZ_PARTIES']);
    const cdcFrom = (await checkpoints.load<ErpCheckpoint>('oracle-erp', 'cdc'))!.value.fromScn;

    clock.advance(30 * 60_000);
    const done = await runFullLoad(deps, { tables: [MMT], resume: true });
    const load = done.tables[0]!;
    // The load began before CDC's first window: CDC mines again from the load's SCN, for this table.
    expect(load.cdc).toEqual({ action: 'rewound', fromScn: load.scn });
    expect(BigInt(load.scn)).toBeLessThan(BigInt(cdcFrom));

    clock.advance(30 * 60_000);
    const next = await runErpIngestion(cdcDeps);
    const mmt = next.tables.find((t) => t.table === 'INV.MTL_MATERIAL_TRANSACTIONS')!;
    expect(mmt.snapshotRows).toBe(0);
    expect(mmt.inserts).toBeGreaterThan(0);
    const rows = await landed(lake, 'mtl_material_transactions');
    const cdc = rows.filter((r) => r.row['_op'] === 'I');
    expect(cdc.every((r) => BigInt(String(r.row['_scn'])) > BigInt(load.scn))).toBe(true);
    // Full load plus CDC: every transaction the table holds now, none missing.
    const keys = new Set(rows.map((r) => String(r.row['TRANSACTION_ID'])));
    const session = await standIn.session();
    const now = (await session.execute('SELECT TO_CHAR(CURRENT_SCN) AS CURRENT_SCN FROM V$DATABASE'))
      .rows[0]!;
    await session.close();
    expect((await keysAt(standIn, now['CURRENT_SCN']!)).filter((k) => !keys.has(k))).toEqual([]);
    // HZ_PARTIES was not re-mined: its changes up to CDC's old position are not landed twice.
    const parties = (await landed(lake, 'hz_parties')).filter((r) => r.row['_op'] !== 'R');
    const scns = parties.map((r) => `${r.row['_record_key']}@${r.row['_scn']}`);
    expect(new Set(scns).size).toBe(scns.length);
  });
});
