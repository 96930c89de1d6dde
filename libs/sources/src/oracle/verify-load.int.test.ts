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

/** A stand-in and a lake with MTL_MATERIAL_TRANSACTIONS and OE_ORDER_LINES_ALL fully loaded. */
async function loaded(version: ErpDbVersion = '19c') {
  const clock = new ManualClock('2026-11-23T10:00:00Z');
  const azurite = await startAzurite();
  running.push(azurite);
  const lake = createBlobLake({ connectionString: azurite.connectionString });
  const checkpoints = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpoints'));
  const standIn = await ErpStandIn.open({ model, clock, historyMs: 12 * 3_600_000, version });
  running.push(standIn);
  const connect = () => standIn.session();
  const load = await runFullLoad(
    { lake, checkpoints, clock, log: silentLogger, connect, timeZone: 'Europe/Berlin', chunkRows: 25 },
    { tables: [MMT, LINES], resume: false },
  );
  expect(load.ok).toBe(true);
  const deps: VerifyLoadDeps = {
    lake,
    checkpoints,
    codec,
    log: silentLogger,
    connect,
    timeZone: 'Europe/Berlin',
  };
  return { lake, standIn, deps, clock };
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
});
