import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { ErpModel, PlantModel } from '@aurora/plant';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestKeyRing } from '../test-sealer.fixture.js';
import { DEFAULT_ERP_TABLES, type ErpTableConfig } from './erp-tables.js';
import { runFullLoad } from './full-load.js';
import { type ErpDbVersion, ErpStandIn } from './stand-in/erp-stand-in.js';
import { type VerifyLoadDeps, verifyFullLoad } from './verify-load.js';

const model = new ErpModel(new PlantModel({ seed: 1 }));
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
const LINES = table('OE_ORDER_LINES_ALL');
const PARTIES = table('HZ_PARTIES');
const HEADERS = table('OE_ORDER_HEADERS_ALL');

/** A stand-in and a lake with MTL_MATERIAL_TRANSACTIONS and OE_ORDER_LINES_ALL fully loaded. */
async function loaded(
  version: ErpDbVersion = '19c',
  tables: ErpTableConfig[] = [],
  ring = new TestKeyRing(),
) {
  const clock = new ManualClock('2026-11-23T10:00:00Z');
  const azurite = await startAzurite();
  running.push(azurite);
  const lake = createBlobLake({ connectionString: azurite.connectionString });
  const checkpoints = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpoints'));
  const standIn = await ErpStandIn.open({ model, clock, historyMs: 12 * 3_600_000, version });
  running.push(standIn);
  const connect = () => standIn.session();
  const load = await runFullLoad(
    {
      lake,
      checkpoints,
      clock,
      log: silentLogger,
      sealer: ring,
      connect,
      timeZone: 'Europe/Berlin',
      chunkRows: 25,
    },
    { tables: [MMT, LINES, ...tables], resume: false },
  );
  expect(load.ok).toBe(true);
  const deps: VerifyLoadDeps = {
    lake,
    checkpoints,
    codec,
    log: silentLogger,
    connect,
    timeZone: 'Europe/Berlin',
    opener: ring,
  };
  return { lake, standIn, deps, clock, ring };
}

/** Rewrites a landed file with one column of one row changed (as a bad copy job or a hand edit would). */
async function tamperLanded(lake: Lake, prefix: string, column: string, value: string) {
  let path = '';
  for await (const f of lake.list(prefix)) path ||= f.path;
  const dir = tmpdir();
  const input = join(dir, `tamper-in-${process.pid}.parquet`);
  const output = join(dir, `tamper-out-${process.pid}.parquet`);
  await writeFile(input, await lake.get(path));
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  const first = (
    await connection.runAndReadAll(`SELECT "_record_key" AS k FROM read_parquet('${input}') LIMIT 1`)
  ).getRowObjects()[0]!['k'] as string;
  await connection.run(
    `COPY (SELECT * REPLACE (CASE WHEN "_record_key" = '${first}' THEN '${value}' ELSE "${column}" END AS "${column}") FROM read_parquet('${input}')) TO '${output}' (FORMAT parquet)`,
  );
  connection.closeSync();
  db.closeSync();
  const info = await lake.stat(path);
  await lake.put(path, await readFile(output), { overwrite: true, metadata: info!.metadata });
  await rm(input, { force: true });
  await rm(output, { force: true });
  return { key: first, path };
}

describe('verifyFullLoad', () => {
  it('finds nothing wrong with an untouched load, on 19c (STANDARD_HASH) and 11.2 (Node)', async () => {
    for (const version of ['19c', '11.2'] as const) {
      const { deps } = await loaded(version);
      const report = await verifyFullLoad(deps, { tables: [MMT, LINES] });
      expect(report.mismatches).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.tables.every((t) => t.sourceChecked && t.rows > 0 && t.completed)).toBe(true);
    }
  });

  it('detects a landed row changed after the load: a lake-side mismatch naming table, key and file', async () => {
    const { lake, deps } = await loaded();
    const tampered = await tamperLanded(
      lake,
      'bronze/oracle-erp/mtl_material_transactions/',
      'TRANSACTION_REFERENCE',
      'WIP issue tampered',
    );
    const report = await verifyFullLoad(deps, { tables: [MMT, LINES] });
    expect(report.ok).toBe(false);
    expect(report.mismatches).toHaveLength(1);
    expect(report.mismatches[0]).toMatchObject({
      table: 'INV.MTL_MATERIAL_TRANSACTIONS',
      key: tampered.key,
      side: 'lake',
      file: tampered.path,
    });
    // Without the source the landed side alone still catches it.
    const offline = await verifyFullLoad({ ...deps, connect: undefined }, { tables: [MMT] });
    expect(offline.mismatches.map((m) => [m.key, m.side])).toEqual([[tampered.key, 'lake']]);
    expect(offline.tables[0]).toMatchObject({ sourceChecked: false, sourceSkipped: 'no source configured' });
  });

  it('detects a source row that differs from the landed one (changed without redo) or is gone', async () => {
    const { standIn, deps } = await loaded();
    const rows = await standIn.connection.runAndReadAll(
      'SELECT "LINE_ID" AS id FROM "ONT"."OE_ORDER_LINES_ALL" ORDER BY "LINE_ID" LIMIT 2',
    );
    const [changed, gone] = rows.getRowObjects().map((r) => String(r['id'])) as [string, string];
    // A data fix straight in the datafiles: no redo, so the flashback view shows it too.
    await standIn.connection.run(
      `UPDATE "ONT"."OE_ORDER_LINES_ALL" SET "ORDERED_QUANTITY" = "ORDERED_QUANTITY" + 1 WHERE "LINE_ID" = ${changed}`,
    );
    await standIn.connection.run(`DELETE FROM "ONT"."OE_ORDER_LINES_ALL" WHERE "LINE_ID" = ${gone}`);
    const report = await verifyFullLoad(deps, { tables: [MMT, LINES] });
    expect(report.ok).toBe(false);
    expect(
      report.mismatches
        .map((m) => ({ table: m.table, key: m.key, side: m.side }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    ).toEqual(
      [
        { table: 'ONT.OE_ORDER_LINES_ALL', key: changed, side: 'source' },
        { table: 'ONT.OE_ORDER_LINES_ALL', key: gone, side: 'source' },
      ].sort((a, b) => a.key.localeCompare(b.key)),
    );
    expect(report.mismatches.find((m) => m.key === gone)?.problem).toMatch(/not at the source/);
  });

  it('says why the source side was skipped when the undo for the load SCN is gone, and still checks the lake', async () => {
    const { deps, clock } = await loaded();
    clock.advance(4 * 3_600_000);
    const report = await verifyFullLoad(deps, { tables: [MMT] });
    expect(report.ok).toBe(true);
    expect(report.tables[0]).toMatchObject({ sourceChecked: false });
    expect(report.tables[0]!.sourceSkipped).toMatch(/ORA-01555/);
    expect(report.tables[0]!.rows).toBeGreaterThan(0);
  });

  it('opens sealed personal data before hashing (the source hashed the plaintext): a load with sealed columns checks out', async () => {
    for (const version of ['19c', '11.2'] as const) {
      const { deps, lake } = await loaded(version, [PARTIES, HEADERS]);
      const landedParties: Record<string, unknown>[] = [];
      for await (const f of lake.list('bronze/oracle-erp/hz_parties/'))
        landedParties.push(...(await codec.decode(await lake.get(f.path))));
      const persons = landedParties.filter((r) => r['PARTY_TYPE'] === 'PERSON');
      expect(persons.length).toBeGreaterThan(0);
      expect(persons.every((r) => String(r['EMAIL_ADDRESS']).startsWith('pd1.'))).toBe(true);
      const report = await verifyFullLoad(deps, { tables: [PARTIES, HEADERS] });
      expect(report.mismatches).toEqual([]);
      expect(report).toMatchObject({ ok: true, erasedCount: 0 });
      expect(report.tables.every((t) => t.sourceChecked && t.rows > 0)).toBe(true);
      // Without the key ring the sealed rows cannot be checked: it says what it needs.
      await expect(verifyFullLoad({ ...deps, opener: undefined }, { tables: [PARTIES] })).rejects.toThrow(
        /privacy key ring/,
      );
    }
  });

  it('reports the rows of erased subjects as erased, not as mismatches, whether erased before or after the load', async () => {
    const ring = new TestKeyRing();
    // Erased before the load: its values land as null (named in _unavailable).
    ring.erase('erp-party:50001');
    const { deps, lake } = await loaded('19c', [PARTIES], ring);
    // Erased after the load: its sealed values can no longer be opened.
    ring.erase('erp-party:50002');
    const report = await verifyFullLoad(deps, { tables: [PARTIES] });
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.erasedCount).toBe(2);
    expect(report.erased.map((e) => [e.table, e.key]).sort()).toEqual([
      ['AR.HZ_PARTIES', '50001'],
      ['AR.HZ_PARTIES', '50002'],
    ]);
    expect(report.tables[0]).toMatchObject({ erased: 2, mismatches: 0, sourceChecked: true });
    expect(report.summary).toMatch(/0 mismatches, 2 rows of erased subjects/);

    // A sealed value altered in the lake is still a mismatch.
    const tampered = await tamperLanded(
      lake,
      'bronze/oracle-erp/hz_parties/',
      'PARTY_NAME',
      `pd1.${ring.keyIdOf('erp-party:50003')}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    );
    const again = await verifyFullLoad(deps, { tables: [PARTIES] });
    expect(again.mismatches.map((m) => [m.key, m.side])).toEqual([[tampered.key, 'lake']]);
  });
});
