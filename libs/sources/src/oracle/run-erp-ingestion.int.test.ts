import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createSourceStatusStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { ErpModel, PlantModel } from '@aurora/plant';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestKeyRing } from '../test-sealer.fixture.js';
import { canonicalRowFromBronze, parseHashColumns, sha256Hex } from './bronze-rows.js';
import { DEFAULT_ERP_TABLES } from './erp-tables.js';
import { type ErpCheckpoint, type ErpIngestionDeps, runErpIngestion } from './run-erp-ingestion.js';
import { type ErpDbVersion, ErpStandIn } from './stand-in/erp-stand-in.js';

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

async function setup(
  start: string,
  options: { version?: ErpDbVersion; overrides?: Partial<ErpIngestionDeps> } = {},
) {
  const clock = new ManualClock(start);
  const azurite: RunningAzurite = await startAzurite();
  running.push(azurite);
  const lake = createBlobLake({ connectionString: azurite.connectionString });
  const checkpoints = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpoints'));
  const status = createSourceStatusStore(createTableClient(azurite.connectionString, 'sourcestatus'));
  const standIn = await ErpStandIn.open({
    model,
    clock,
    historyMs: 12 * 3_600_000,
    ...(options.version ? { version: options.version } : {}),
  });
  running.push(standIn);
  const ring = new TestKeyRing();
  const deps: ErpIngestionDeps = {
    lake,
    checkpoints,
    status,
    clock,
    log: silentLogger,
    sealer: ring,
    connect: () => standIn.session(),
    tables: DEFAULT_ERP_TABLES,
    timeZone: 'Europe/Berlin',
    snapshotLookbackS: 600,
    watermarkLookbackS: 3600,
    chunkRows: 100,
    sleep: clock.sleep,
    ...options.overrides,
  };
  return { clock, lake, checkpoints, status, standIn, deps, ring };
}

async function rowsOf(lake: Lake, table: string) {
  const out: Record<string, unknown>[] = [];
  for await (const f of lake.list(`bronze/oracle-erp/${table}/`)) {
    for (const row of await codec.decode(await lake.get(f.path))) out.push({ ...row, _file: f.path });
  }
  return out;
}

describe('runErpIngestion against the ERP stand-in', () => {
  it('snapshots every table on the first run, then mines the redo: I/U/D rows with _scn, in the bronze layout', async () => {
    const { lake, deps, clock, checkpoints } = await setup('2026-11-23T08:00:00Z');
    const first = await runErpIngestion(deps);
    expect(first.ok).toBe(true);
    expect(first.snapshot).toBe(true);
    const landed = first.tables.filter((t) => t.file);
    expect(landed.length).toBeGreaterThanOrEqual(14);
    for (const t of landed)
      expect(t.file).toMatch(
        new RegExp(
          `^bronze/oracle-erp/${t.table.split('.')[1]!.toLowerCase()}/year=2026/month=11/day=23/[a-z_]+_20261123T080000000000Z\\.parquet$`,
        ),
      );

    const items = await rowsOf(lake, 'mtl_system_items_b');
    expect(items.every((r) => r['_source'] === 'oracle-erp' && r['_op'] === 'R')).toBe(true);
    const bracket = items.find((r) => r['SEGMENT1'] === 'AUR-10011' && r['ORGANIZATION_ID'] === '101')!;
    expect(bracket['_record_key']).toBe(`${bracket['INVENTORY_ITEM_ID']}|101`);
    expect(typeof bracket['LIST_PRICE_PER_UNIT']).toBe('number');
    expect(String(bracket['LONG_DESCRIPTION']).length).toBeGreaterThan(100);

    clock.advance(6 * 3_600_000);
    const second = await runErpIngestion(deps);
    expect(second.ok).toBe(true);
    expect(second.snapshot).toBe(false);
    const jobs = await rowsOf(lake, 'wip_discrete_jobs');
    const cdc = jobs.filter((r) => r['_op'] !== 'R');
    expect(cdc.length).toBeGreaterThan(0);
    expect(new Set(cdc.map((r) => r['_op']))).toEqual(new Set(['I', 'U']));
    expect(cdc.every((r) => /^\d+$/.test(String(r['_scn'])) && typeof r['_commit_ts'] === 'string')).toBe(
      true,
    );
    // A completed job's update carries the whole row, not only the changed columns.
    const completed = cdc.find((r) => r['_op'] === 'U' && r['STATUS_TYPE'] === '4')!;
    expect(completed['WIP_ENTITY_ID']).toBeTruthy();
    expect(completed['SCHEDULED_START_DATE']).toBeTruthy();
    // On-hand lots used up by shipments are deleted in EBS: the deletes land with their before-image.
    const onhand = await rowsOf(lake, 'mtl_onhand_quantities_detail');
    const deleted = onhand.filter((r) => r['_op'] === 'D');
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.every((r) => r['ONHAND_QUANTITIES_ID'] !== null && r['INVENTORY_ITEM_ID'] !== null)).toBe(
      true,
    );
    const checkpoint = await checkpoints.load<ErpCheckpoint>('oracle-erp', 'cdc');
    expect(checkpoint?.value.fromScn).toBe(second.window?.toScn);
  });

  it('lands the whole CLOB of a long item text whose SQL_REDO spans continuation rows', async () => {
    // The model revises one item text a day at 04:17 UTC.
    const { lake, deps, clock } = await setup('2026-11-23T04:00:00Z');
    await runErpIngestion(deps);
    clock.advance(30 * 60_000);
    const report = await runErpIngestion(deps);
    const items = report.tables.find((t) => t.table === 'INV.MTL_SYSTEM_ITEMS_B')!;
    expect(items.updates).toBe(1);
    const rows = (await rowsOf(lake, 'mtl_system_items_b')).filter((r) => r['_op'] === 'U');
    const text = String(rows[0]!['LONG_DESCRIPTION']);
    expect(text).toContain('revision');
    expect(text.endsWith('"don\'t mix lots".')).toBe(true);
  });

  it('re-lands the window after a crash between landing and the checkpoint; the repeats share their _scn', async () => {
    const { lake, deps, clock } = await setup('2026-11-23T10:00:00Z');
    const first = await runErpIngestion(deps);
    clock.advance(60 * 60_000);
    await expect(
      runErpIngestion({
        ...deps,
        beforeCheckpoint: async () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    const after = await runErpIngestion(deps);
    expect(after.ok).toBe(true);
    const mmt = (await rowsOf(lake, 'mtl_material_transactions')).filter(
      (r) => r['_op'] !== 'R' && BigInt(String(r['_scn'])) > BigInt(first.window!.toScn),
    );
    const byScn = new Map<string, Set<string>>();
    for (const r of mmt) {
      const files = byScn.get(String(r['_scn'])) ?? new Set<string>();
      files.add(String(r['_file']));
      byScn.set(String(r['_scn']), files);
    }
    expect(mmt.length).toBeGreaterThan(0);
    // Every change of the crashed window landed twice (two files), identical keys and SCNs.
    expect([...byScn.values()].every((files) => files.size === 2)).toBe(true);
  });

  it('lands a column added by DDL in the middle of the window and reports it', async () => {
    const { lake, deps, clock, standIn } = await setup('2026-11-23T10:00:00Z');
    await runErpIngestion(deps);
    standIn.faults.inject({ fault: 'new_column', times: 1 });
    clock.advance(60 * 60_000);
    const report = await runErpIngestion(deps);
    expect(report.ddl[0]).toMatch(
      /ALTER TABLE "INV"."MTL_MATERIAL_TRANSACTIONS" ADD \("ATTRIBUTE15" VARCHAR2\(150\)\)/,
    );
    expect(report.tables.find((t) => t.table === 'INV.MTL_MATERIAL_TRANSACTIONS')?.newColumns).toEqual([
      'ATTRIBUTE15',
    ]);
    const rows = (await rowsOf(lake, 'mtl_material_transactions')).filter((r) => r['_op'] === 'I');
    expect(rows.some((r) => r['ATTRIBUTE15'] === 'TRACE-LOT')).toBe(true);
  });

  it('retries ORA-03113 and ORA-01291 at 30/60/120 s; a purged window is dead-lettered and stays open', async () => {
    const { deps, clock, standIn, checkpoints, status, lake } = await setup('2026-11-23T10:00:00Z');
    await runErpIngestion(deps);
    const before = await checkpoints.load<ErpCheckpoint>('oracle-erp', 'cdc');

    clock.advance(15 * 60_000);
    standIn.faults.inject({ fault: 'connection_lost', times: 1, afterRows: 3 });
    const recovered = await runErpIngestion(deps);
    expect(recovered.ok).toBe(true);
    expect(clock.sleeps).toEqual([30_000]);

    clock.advance(2 * 3_600_000);
    const mid = await checkpoints.load<ErpCheckpoint>('oracle-erp', 'cdc');
    standIn.faults.inject({ fault: 'missing_log' });
    const failed = await runErpIngestion(deps);
    expect(failed.ok).toBe(false);
    expect(failed.summary).toContain('ORA-01291');
    expect(clock.sleeps).toEqual([30_000, 30_000, 60_000, 120_000]);
    expect((await checkpoints.load<ErpCheckpoint>('oracle-erp', 'cdc'))?.value).toEqual(mid?.value);
    expect(mid?.value.fromScn).not.toBe(before?.value.fromScn);
    const letters: string[] = [];
    for await (const f of lake.list('bronze/_deadletter/oracle-erp/'))
      letters.push((await lake.get(f.path)).toString());
    expect(letters.join('\n')).toContain(`"from_scn":"${mid?.value.fromScn}"`);
    expect((await status.get('oracle-erp'))?.lastError).toContain('ORA-01291');
  });

  it('computes the same row checksum in Node on 11.2 as STANDARD_HASH on 19c, and it matches the landed row', async () => {
    const a = await setup('2026-11-23T10:00:00Z', { version: '19c' });
    const b = await setup('2026-11-23T10:00:00Z', { version: '11.2' });
    await runErpIngestion(a.deps);
    await runErpIngestion(b.deps);
    for (const table of ['mtl_material_transactions', 'hz_parties', 'oe_order_lines_all']) {
      const files: string[] = [];
      for await (const f of a.lake.list(`bronze/oracle-erp/${table}/`)) files.push(f.path);
      const info = await a.lake.stat(files[0]!);
      const columns = parseHashColumns(info!.metadata['hash_columns']!);
      const server = (await rowsOf(a.lake, table)).filter((r) => r['_op'] === 'R');
      const node = new Map(
        (await rowsOf(b.lake, table))
          .filter((r) => r['_op'] === 'R')
          .map((r) => [r['_record_key'], r['_row_sha256']]),
      );
      expect(server.length).toBeGreaterThan(0);
      for (const row of server) {
        expect(row['_row_sha256']).toBe(node.get(row['_record_key']));
        // Personal data landed sealed; the source hashed its plaintext.
        const plain = await a.ring.openRow(row);
        expect(sha256Hex(canonicalRowFromBronze(columns, plain, 'Europe/Berlin'))).toBe(row['_row_sha256']);
      }
    }
  });

  it('never lands a rolled-back transaction, whether LogMiner filters it (committed mode) or the connector does', async () => {
    for (const committedDataOnly of [true, false]) {
      const { lake, deps, clock } = await setup('2026-11-23T08:00:00Z', { overrides: { committedDataOnly } });
      await runErpIngestion(deps);
      clock.advance(24 * 3_600_000);
      await runErpIngestion(deps);
      const headers = await rowsOf(lake, 'oe_order_headers_all');
      // Abandoned entries use header ids from 10,000,000 up (see ErpModel): none may land.
      expect(headers.some((r) => Number(r['HEADER_ID']) >= 10_000_000)).toBe(false);
      expect(headers.filter((r) => r['_op'] === 'I').length).toBeGreaterThan(10);
    }
  });
  it('dead-letters an unparseable SQL_REDO with the whole statement; the rest of the window lands and the SCN moves', async () => {
    // Two identical databases mined over the same window; in one, a DML row of the redo comes back garbled.
    const clean = await setup('2026-11-23T10:00:00Z');
    const faulty = await setup('2026-11-23T10:00:00Z');
    for (const s of [clean, faulty]) {
      await runErpIngestion(s.deps);
      s.clock.advance(60 * 60_000);
    }
    faulty.standIn.faults.inject({ fault: 'garbled_redo', times: 1 });
    const good = await runErpIngestion(clean.deps);
    const report = await runErpIngestion(faulty.deps);
    expect(report.ok).toBe(true);
    expect(report.deadLettered).toBe(1);
    expect(report.window).toEqual(good.window);
    const rows = (t: typeof report) => t.tables.reduce((n, x) => n + x.rows, 0);
    expect(rows(report)).toBe(rows(good) - 1);
    expect((await faulty.checkpoints.load<ErpCheckpoint>('oracle-erp', 'cdc'))?.value.fromScn).toBe(
      report.window?.toScn,
    );

    const letter = JSON.parse((await faulty.lake.get(report.deadLetterFile!)).toString().trim()) as {
      code: string;
      reason: string;
      payload: string;
      context: { scn: string; xid: string; owner: string; table: string };
    };
    expect(letter.code).toBe('erp.redo_unparseable');
    expect(letter.reason).toMatch(/^SQL_REDO not understood: /);
    expect(letter.payload).toMatch(
      /^(insert into|update|delete from) "[A-Z]+"\."[A-Z_]+".*#\?UNKNOWN\(0x1F3A\)/,
    );
    // The one change missing from bronze is the dead-lettered one: same table, same SCN.
    const table = letter.context.table.toLowerCase();
    const key = (r: Record<string, unknown>) => `${r['_scn']}|${r['_record_key']}|${r['_op']}`;
    const landed = new Set((await rowsOf(faulty.lake, table)).filter((r) => r['_op'] !== 'R').map(key));
    const missing = (await rowsOf(clean.lake, table)).filter((r) => r['_op'] !== 'R' && !landed.has(key(r)));
    expect(missing).toHaveLength(1);
    expect(missing[0]!['_scn']).toBe(letter.context.scn);
    expect(missing[0]!['_xid']).toBe(letter.context.xid);
  });
  it('lands personal data sealed under its subject from snapshot and CDC, and seals the statements of garbled redo of such tables', async () => {
    const clean = await setup('2026-11-23T08:00:00Z');
    const faulty = await setup('2026-11-23T08:00:00Z');
    for (const s of [clean, faulty]) {
      await runErpIngestion(s.deps);
      // A day of redo: the CRM updates a buyer's e-mail and phone, orders carry shipping instructions.
      s.clock.advance(24 * 3_600_000);
    }
    faulty.standIn.faults.inject({ fault: 'garbled_redo' });
    const report = await runErpIngestion(clean.deps);
    expect(report.tables.every((t) => t.unattributed === undefined)).toBe(true);
    const { ring, lake } = clean;

    const parties = await rowsOf(lake, 'hz_parties');
    const crm = parties.filter((r) => r['_op'] === 'U' && r['EMAIL_ADDRESS'] !== null);
    expect(crm.length).toBeGreaterThan(0);
    for (const r of crm) {
      expect(ring.subjectOf(r['EMAIL_ADDRESS'])).toBe(`erp-party:${r['PARTY_ID']}`);
      expect((await ring.openRow(r))['EMAIL_ADDRESS']).toMatch(/^[a-z]+\.[a-z]+\.\d+@[a-z]+\.example$/);
    }
    const organisations = parties.filter((r) => r['PARTY_TYPE'] === 'ORGANIZATION');
    expect(organisations.length).toBeGreaterThan(0);
    expect(organisations.every((r) => !String(r['PARTY_NAME']).startsWith('pd1.'))).toBe(true);
    const orders = (await rowsOf(lake, 'oe_order_headers_all')).filter((r) => r['_op'] === 'I');
    expect(orders.length).toBeGreaterThan(0);
    for (const r of orders)
      expect(ring.subjectOf(r['SHIPPING_INSTRUCTIONS'])).toBe(`erp-cust-account:${r['SOLD_TO_ORG_ID']}`);
    // Nothing in bronze reads as an e-mail address.
    for (const table of ['hz_parties', 'ap_supplier_contacts', 'oe_order_headers_all'])
      expect(JSON.stringify(await rowsOf(lake, table))).not.toMatch(/@[a-z]+\.example/);

    const garbled = await runErpIngestion(faulty.deps);
    expect(garbled.deadLettered).toBeGreaterThan(0);
    const letters = (await faulty.lake.get(garbled.deadLetterFile!))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { payload: string; context: { owner: string; table: string } });
    const personal = letters.filter((l) => ['HZ_PARTIES', 'OE_ORDER_HEADERS_ALL'].includes(l.context.table));
    expect(personal.length).toBeGreaterThan(0);
    for (const l of personal) {
      const table = `${l.context.owner}.${l.context.table}`;
      expect(faulty.ring.subjectOf(l.payload)).toBe(`erp-unattributed:${table}`);
      expect((await faulty.ring.open(l.payload)).state).toBe('open');
    }
    // Tables without personal data keep their statement readable.
    expect(
      letters.some((l) => l.context.table === 'MTL_MATERIAL_TRANSACTIONS' && /^insert into/.test(l.payload)),
    ).toBe(true);
    expect(letters.map((l) => JSON.stringify(l)).join('\n')).not.toMatch(/@[a-z]+\.example/);
  });

  it('mines a bulk window (the benchmark increment) whole: every insert and every update, the updates as full rows', async () => {
    const { lake, deps, standIn } = await setup('2026-11-23T10:00:00Z');
    await runErpIngestion(deps);
    const bulk = await standIn.bulkIncrement({ inserts: 2_500, updates: 600, transactionRows: 100 });
    expect(bulk.changes).toBe(3_100);
    const report = await runErpIngestion(deps);
    expect(report.window).toEqual({ fromScn: String(bulk.fromScn), toScn: String(bulk.toScn) });
    expect(report.tables.find((t) => t.table === 'INV.MTL_MATERIAL_TRANSACTIONS')).toMatchObject({
      inserts: 2_500,
      updates: 600,
      deletes: 0,
    });
    const rows = (await rowsOf(lake, 'mtl_material_transactions')).filter((r) => r['_op'] !== 'R');
    const updated = rows.filter((r) => r['_op'] === 'U');
    expect(updated.every((r) => r['COSTED_FLAG'] === 'Y' && r['TRANSACTION_QUANTITY'] !== null)).toBe(true);
    expect(new Set(updated.map((r) => Number(r['TRANSACTION_ID'])))).toEqual(
      new Set(Array.from({ length: 600 }, (_, i) => bulk.firstTransactionId + i)),
    );
    // The database agrees: the updated rows are costed.
    const costed = await standIn.connection.runAndReadAll(
      `SELECT count(*) AS n FROM "INV"."MTL_MATERIAL_TRANSACTIONS" WHERE "COSTED_FLAG" = 'Y' AND "TRANSACTION_ID" >= ${bulk.firstTransactionId}`,
    );
    expect(Number(costed.getRowObjects()[0]!['n'])).toBe(600);
  });
});
