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
import { PlantModel, ProcurementModel, plantDayOf, SapRfcStandIn, SUPPLIERS } from '@aurora/plant';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestKeyRing } from '../test-sealer.fixture.js';
import { MARD_FIELDS, PO_DETAIL_FIELDS, SAP_BAPIS } from './bapi-rows.js';
import type { RfcPool } from './rfc.js';
import { runSapMasterData, runSapTransactional, type SapIngestionDeps } from './run-sap-ingestion.js';

let codec: ParquetCodec;
const procurement = new ProcurementModel(new PlantModel({ seed: 1 }));
const running: { close(): Promise<void> }[] = [];
const AT = '2026-11-23T08:00:00Z';

beforeAll(async () => {
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec.close();
  await Promise.all(running.map((r) => r.close()));
});

/** A lake of its own (an in-memory Azurite), the RFC stand-in on the procurement model, and a pool on it. */
async function setup(start = AT, overrides: Partial<SapIngestionDeps> = {}) {
  const clock = new ManualClock(start);
  const azurite: RunningAzurite = await startAzurite();
  running.push(azurite);
  const lake: Lake = createBlobLake({ connectionString: azurite.connectionString });
  const checkpoints = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpoints'));
  const status = createSourceStatusStore(createTableClient(azurite.connectionString, 'sourcestatus'));
  const standIn = new SapRfcStandIn({ data: procurement, clock });
  const pool: RfcPool = standIn.pool({
    user: standIn.credentials['user']!,
    passwd: standIn.credentials['sap-rfc-password']!,
  });
  const ring = new TestKeyRing();
  const deps: SapIngestionDeps = {
    lake,
    codec,
    checkpoints,
    status,
    clock,
    log: silentLogger,
    sealer: ring,
    goodsMovementLookbackDays: 3,
    initialLookbackDays: 1,
    sleep: clock.sleep,
    ...overrides,
  };
  return { clock, lake, checkpoints, status, standIn, pool, deps, ring };
}

async function files(lake: Lake, prefix: string) {
  const out: string[] = [];
  for await (const f of lake.list(prefix)) out.push(f.path);
  return out;
}
async function rows(lake: Lake, prefix: string) {
  const out: Record<string, unknown>[] = [];
  for (const path of await files(lake, prefix)) out.push(...(await codec.decode(await lake.get(path))));
  return out;
}
async function deadLetters(lake: Lake) {
  const out: Record<string, unknown>[] = [];
  for (const path of await files(lake, 'bronze/_deadletter/sap/'))
    for (const line of (await lake.get(path)).toString('utf8').trim().split('\n')) out.push(JSON.parse(line));
  return out;
}

const FILE = (bapi: string) =>
  new RegExp(`^bronze/sap/${bapi}/year=2026/month=11/day=23/${bapi}_20261123T\\d{9}000Z\\.parquet$`);

describe('runSapTransactional', () => {
  it('lands goods movements, PO details and MARD stock in the exact layout, typed, matching the model', async () => {
    const { lake, deps, pool, clock, ring } = await setup();
    const report = await runSapTransactional(deps, pool);
    expect(report.ok, report.summary).toBe(true);
    for (const bapi of [SAP_BAPIS.goodsMovements, SAP_BAPIS.poDetail, SAP_BAPIS.stock]) {
      const paths = await files(lake, `bronze/sap/${bapi}/`);
      expect(paths).toHaveLength(1);
      expect(paths[0]).toMatch(FILE(bapi));
    }

    // Goods movements: every document posted from yesterday to today and entered by now, once.
    const movements = await rows(lake, `bronze/sap/${SAP_BAPIS.goodsMovements}/`);
    const expected = procurement.goodsMovements('2026-11-22', '2026-11-23', new Date(AT));
    expect(movements.map((m) => m['MAT_DOC']).sort()).toEqual(expected.map((g) => g.matDoc).sort());
    const receipt = movements.find((m) => m['MOVE_TYPE'] === '101')!;
    const model = expected.find((g) => g.matDoc === receipt['MAT_DOC'])!;
    expect(receipt).toMatchObject({
      MATERIAL: model.material.id,
      PLANT: model.plant,
      ENTRY_QNT: model.quantity,
      PO_NUMBER: model.poNumber,
      PSTNG_DATE: `${model.postingDay}T00:00:00.000Z`,
      _source: 'sap',
      _extracted_at: '2026-11-23T08:00:00.000Z',
      _record_key: `${model.matDoc}/${model.docYear}/0001`,
    });
    expect(receipt['ENTRY_TIME']).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect(receipt['_batch_id']).toMatch(/^sap-bapi_goodsmvt_getitems-20261123T080000000000Z$/);
    expect(
      movements.some((m) => m['MOVE_TYPE'] === '261' && String(m['ITEM_TEXT']).startsWith('aug-m')),
    ).toBe(true);

    // PO details: one row per schedule line, every column of the documented schema, in order.
    const poRows = await rows(lake, `bronze/sap/${SAP_BAPIS.poDetail}/`);
    expect(Object.keys(poRows[0]!)).toEqual([
      ...PO_DETAIL_FIELDS.map((f) => f.name),
      '_source',
      '_extracted_at',
      '_batch_id',
      '_record_key',
    ]);
    const created = procurement
      .purchaseOrdersCreatedOn('2026-11-22')
      .concat(procurement.purchaseOrdersCreatedOn('2026-11-23').filter((p) => p.createdAt <= new Date(AT)));
    for (const po of created)
      for (const item of po.items) {
        const row = poRows.find(
          (r) => r['PO_NUMBER'] === po.poNumber && r['PO_ITEM'] === String(item.item).padStart(5, '0'),
        );
        expect(row, `${po.poNumber}/${item.item}`).toMatchObject({
          MATERIAL: item.material.id,
          PLANT: po.plant,
          QUANTITY: item.quantity,
          SCHED_QUANTITY: item.quantity,
          NET_PRICE: item.netPrice,
          DELIV_DATE: `${item.deliveryDay}T00:00:00.000Z`,
          VENDOR: po.supplier.vendor,
          SERIAL_NO: '0001',
        });
        // The contact landed sealed; it opens to what SAP holds.
        expect(await ring.openRow({ SALES_PERS: row!['SALES_PERS'], E_MAIL: row!['E_MAIL'] })).toEqual({
          SALES_PERS: po.supplier.contactName,
          E_MAIL: po.supplier.email,
        });
      }
    // POs received today (created long before) are read because their movements touched them.
    const touched = movements.filter((m) => m['MOVE_TYPE'] === '101').map((m) => m['PO_NUMBER']);
    for (const po of touched)
      expect(
        poRows.some((r) => r['PO_NUMBER'] === po),
        String(po),
      ).toBe(true);

    // MARD: the model's stock at this instant, per plant and material.
    const stock = await rows(lake, `bronze/sap/${SAP_BAPIS.stock}/`);
    expect(Object.keys(stock[0]!).slice(0, MARD_FIELDS.length)).toEqual(MARD_FIELDS.map((f) => f.name));
    for (const facility of ['augsburg', 'ingolstadt', 'regensburg'] as const)
      for (const s of procurement.stockAt(facility, new Date(AT))) {
        const row = stock.find((r) => r['MATNR'] === s.material.id && r['WERKS'] === s.plant);
        expect(row).toMatchObject({ LGORT: '0001', LABST: s.unrestricted, INSME: s.inspection, SPEME: 0 });
      }

    // An hour later: nothing lands twice, though the lookback re-reads three days of movements.
    clock.advance(3_600_000);
    const next = await runSapTransactional(deps, pool);
    expect(next.ok).toBe(true);
    const gm = next.bapis.find((b) => b.bapi === SAP_BAPIS.goodsMovements)!;
    expect(gm.duplicates).toBeGreaterThan(0);
    const all = await rows(lake, `bronze/sap/${SAP_BAPIS.goodsMovements}/`);
    expect(new Set(all.map((m) => m['_record_key'])).size).toBe(all.length);
    const visible = procurement.goodsMovements('2026-11-20', '2026-11-23', clock.now());
    const landedKeys = new Set(all.map((m) => m['MAT_DOC']));
    // Everything posted from yesterday on and entered by now is in bronze (earlier days: first run's window).
    const missing = visible.filter((x) => x.postingDay >= '2026-11-22' && !landedKeys.has(x.matDoc));
    expect(
      missing.map((g) => `${g.matDoc} ${g.moveType} ${g.postingDay} ${g.enteredAt.toISOString()}`),
    ).toEqual([]);
  });

  it('retries an RFC communication failure at 30/60/120 s, then dead-letters it; the other BAPIs land, the next run catches up', async () => {
    const { lake, deps, pool, clock, standIn, checkpoints, status } = await setup();
    standIn.faults.inject({ fault: 'communication_failure', rfm: 'BAPI_GOODSMVT_GETITEMS' });
    const report = await runSapTransactional(deps, pool);
    expect(report.ok).toBe(false);
    expect(clock.sleeps).toEqual([30_000, 60_000, 120_000]);
    const gm = report.bapis.find((b) => b.bapi === SAP_BAPIS.goodsMovements)!;
    expect(gm).toMatchObject({ ok: false, landed: 0, error: { code: 'source.unavailable' } });
    expect(gm.error?.message).toMatch(/gave up after 4 attempts.*RfcLibError RFC_COMMUNICATION_FAILURE/);
    for (const b of report.bapis.filter((x) => x.bapi !== SAP_BAPIS.goodsMovements))
      expect(b.ok && b.landed > 0).toBe(true);
    const [letter] = await deadLetters(lake);
    expect(letter).toMatchObject({
      code: 'sap.unavailable',
      source: 'sap',
      payload: { name: 'RfcLibError', group: 4, code: 1, key: 'RFC_COMMUNICATION_FAILURE' },
      context: {
        bapi: SAP_BAPIS.goodsMovements,
        attempts: 4,
        rfc_class: 'communication',
        window: { from: '2026-11-22', to: '2026-11-23' },
      },
    });
    expect(await files(lake, `bronze/sap/${SAP_BAPIS.goodsMovements}/`)).toEqual([]);
    expect((await status.get('sap'))?.lastError).toMatch(/bapi_goodsmvt_getitems: gave up/);

    // The checkpoint was pinned, not moved: the next run reads the same days.
    expect(
      (await checkpoints.load<{ postingDay: string }>('sap', SAP_BAPIS.goodsMovements))?.value.postingDay,
    ).toBe('2026-11-25');
    standIn.faults.clear();
    clock.advance(3_600_000);
    const again = await runSapTransactional(deps, pool);
    expect(again.bapis.find((b) => b.bapi === SAP_BAPIS.goodsMovements)).toMatchObject({
      ok: true,
      window: { from: '2026-11-22', to: '2026-11-23' },
    });
  });

  it('keeps the POs after a failure mid-run for the next run, without retrying each in turn', async () => {
    const { lake, deps, pool, clock, standIn } = await setup(AT, { concurrency: 1 });
    standIn.faults.inject({ fault: 'communication_failure', rfm: 'BAPI_PO_GETDETAIL', after: 3 });
    const report = await runSapTransactional(deps, pool);
    const po = report.bapis.find((b) => b.bapi === SAP_BAPIS.poDetail)!;
    expect(po.ok).toBe(false);
    expect(
      new Set((await rows(lake, `bronze/sap/${SAP_BAPIS.poDetail}/`)).map((r) => r['PO_NUMBER'])).size,
    ).toBe(3);
    expect(clock.sleeps).toEqual([30_000, 60_000, 120_000]);
    const letters = await deadLetters(lake);
    expect(letters.map((l) => l['code']).sort()).toEqual(['sap.not_attempted', 'sap.unavailable']);
    const failedKeys = po.failedKeys ?? [];
    expect(failedKeys.length).toBeGreaterThan(1);

    standIn.faults.clear();
    clock.advance(3_600_000);
    const next = await runSapTransactional(deps, pool);
    const landedPos = new Set(
      (await rows(lake, `bronze/sap/${SAP_BAPIS.poDetail}/`)).map((r) => r['PO_NUMBER']),
    );
    expect(next.bapis.find((b) => b.bapi === SAP_BAPIS.poDetail)?.ok).toBe(true);
    for (const key of failedKeys) expect(landedPos.has(key), key).toBe(true);
  });

  it('reads the POs the receipts touched even when the run died between the receipts and the POs', async () => {
    const clean = await setup();
    await runSapTransactional(clean.deps, clean.pool);
    const expected = new Set(
      (await rows(clean.lake, `bronze/sap/${SAP_BAPIS.poDetail}/`)).map((r) => r['PO_NUMBER']),
    );

    // The process dies as the PO run starts: the goods movements landed and their checkpoint moved.
    const { lake, deps, pool, checkpoints } = await setup();
    let movementsDone = false;
    const dying: SapIngestionDeps = {
      ...deps,
      checkpoints: {
        ...checkpoints,
        save: async (...args) => {
          const etag = await checkpoints.save(...args);
          if (args[1] === SAP_BAPIS.goodsMovements) movementsDone = true;
          return etag;
        },
        load: async (source, key) => {
          if (movementsDone && key === SAP_BAPIS.poDetail) throw new Error('killed');
          return checkpoints.load(source, key);
        },
      },
    };
    await expect(runSapTransactional(dying, pool)).rejects.toThrow('killed');
    expect(await files(lake, `bronze/sap/${SAP_BAPIS.poDetail}/`)).toEqual([]);

    const next = await runSapTransactional(deps, pool);
    expect(next.bapis.find((b) => b.bapi === SAP_BAPIS.goodsMovements)?.landed).toBe(0);
    const landed = new Set(
      (await rows(lake, `bronze/sap/${SAP_BAPIS.poDetail}/`)).map((r) => r['PO_NUMBER']),
    );
    expect([...expected].filter((po) => !landed.has(po))).toEqual([]);
  });

  it('dead-letters an ABAP error or a RETURN E for one PO with its message, without retrying; the other POs land', async () => {
    const { lake, deps, pool, clock, standIn } = await setup();
    const pos = procurement.purchaseOrdersCreatedOn('2026-11-22');
    const [broken, missing] = [pos[0]!.poNumber, pos[1]!.poNumber];
    standIn.faults.inject({ fault: 'abap_exception', rfm: 'BAPI_PO_GETDETAIL', poNumber: broken });
    standIn.faults.inject({ fault: 'po_not_found', poNumber: missing });
    const report = await runSapTransactional(deps, pool);
    expect(clock.sleeps).toEqual([]);
    const po = report.bapis.find((b) => b.bapi === SAP_BAPIS.poDetail)!;
    expect(po.ok).toBe(false);
    expect(po.failedKeys).toEqual([broken, missing].sort());
    const landed = new Set(
      (await rows(lake, `bronze/sap/${SAP_BAPIS.poDetail}/`)).map((r) => r['PO_NUMBER']),
    );
    expect(landed.has(broken) || landed.has(missing)).toBe(false);
    expect(landed.has(pos[2]!.poNumber)).toBe(true);
    const letters = await deadLetters(lake);
    const abap = letters.find((l) => (l['context'] as { po: string }).po === broken)!;
    expect(abap).toMatchObject({
      code: 'sap.abap_error',
      payload: { name: 'ABAPError', group: 1, code: 5, key: 'SYSTEM_FAILURE' },
      context: { attempts: 1, rfc_class: 'abap_application' },
    });
    const ret = letters.find((l) => (l['context'] as { po: string }).po === missing)!;
    expect(ret).toMatchObject({
      code: 'sap.bapi_return',
      payload: [{ TYPE: 'E', MESSAGE: `Purchasing document ${missing} does not exist` }],
    });
    expect(ret['reason']).toContain('RETURN E 06019');
  });

  it('does not retry a logon failure, and says what to check', async () => {
    const { lake, deps, standIn, clock } = await setup();
    const wrong = standIn.pool({ user: 'AURORA_RFC', passwd: 'not-the-password' });
    const report = await runSapTransactional(deps, wrong);
    expect(clock.sleeps).toEqual([]);
    expect(report.bapis.every((b) => !b.ok && b.error?.code === 'config.invalid')).toBe(true);
    expect(report.bapis[0]?.error?.message).toMatch(/RFC_LOGON_FAILURE.*sap-rfc-password/);
    const letters = await deadLetters(lake);
    expect(letters.every((l) => l['code'] === 'sap.logon_failed')).toBe(true);
    expect(letters[0]).toMatchObject({ payload: { name: 'RfcLibError', group: 3, code: 2 } });
  });

  it('keeps a field it has never seen as text, and lands personal fields sealed under their subject: the vendor for its contact, the user id for itself', async () => {
    const { lake, deps, pool, standIn, ring } = await setup(AT);
    standIn.faults.inject({ fault: 'new_field', rfm: 'BAPI_PO_GETDETAIL' });
    expect((await runSapTransactional(deps, pool)).ok).toBe(true);
    const poRows = await rows(lake, `bronze/sap/${SAP_BAPIS.poDetail}/`);
    const row = poRows[0]!;
    expect(row['ZZ_CARRIER']).toBe('DHL Freight');
    expect(Object.keys(row).indexOf('ZZ_CARRIER')).toBe(PO_DETAIL_FIELDS.length);
    const supplier = SUPPLIERS.find((s) => s.vendor === row['VENDOR'])!;
    for (const [field, plain] of [
      ['SALES_PERS', supplier.contactName.slice(0, 30)],
      ['TELEPHONE', supplier.phone.slice(0, 16)],
      ['E_MAIL', supplier.email],
    ] as const) {
      expect(row[field], field).toMatch(/^pd1\.[A-Za-z0-9_-]{22}\./);
      expect(ring.subjectOf(row[field])).toBe(`sap-vendor:${supplier.vendor}`);
      expect(await ring.open(String(row[field]))).toEqual({ state: 'open', value: plain });
    }
    expect(ring.subjectOf(row['CREATED_BY'])).toBe('sap-user:BUYER01');
    expect(row['VEND_NAME']).toBe(supplier.name.slice(0, 35));
    const movements = await rows(lake, `bronze/sap/${SAP_BAPIS.goodsMovements}/`);
    expect(new Set(movements.map((m) => ring.subjectOf(m['USERNAME'])))).toEqual(
      new Set(['sap-user:MES_IF', 'sap-user:WAREHOUSE01']),
    );
    // An erased vendor contact is not collected again: its fields land as null, the rest of the row lands.
    ring.erase(`sap-vendor:${supplier.vendor}`);
    const again = await setup(AT, { sealer: ring });
    expect((await runSapTransactional(again.deps, again.pool)).ok).toBe(true);
    const erased = (await rows(again.lake, `bronze/sap/${SAP_BAPIS.poDetail}/`)).filter(
      (r) => r['VENDOR'] === supplier.vendor,
    );
    expect(erased.length).toBeGreaterThan(0);
    for (const r of erased) {
      expect([r['SALES_PERS'], r['TELEPHONE'], r['E_MAIL']]).toEqual([null, null, null]);
      expect(ring.subjectOf(r['CREATED_BY'])).toBe('sap-user:BUYER01');
    }
  });
});

describe('runSapMasterData', () => {
  it('lands the material list of each plant once a day', async () => {
    const { lake, deps, pool } = await setup();
    const report = await runSapMasterData(deps, pool);
    expect(report.ok).toBe(true);
    const paths = await files(lake, `bronze/sap/${SAP_BAPIS.materials}/`);
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(FILE(SAP_BAPIS.materials));
    const materials = await rows(lake, `bronze/sap/${SAP_BAPIS.materials}/`);
    for (const facility of ['augsburg', 'ingolstadt', 'regensburg'] as const) {
      const plant = { augsburg: '1000', ingolstadt: '2000', regensburg: '3000' }[facility];
      expect(
        materials
          .filter((m) => m['PLANT'] === plant)
          .map((m) => m['MATERIAL'])
          .sort(),
      ).toEqual(
        procurement
          .materialsOf(facility)
          .map((s) => s.material.id)
          .sort(),
      );
    }
    expect(materials[0]).toMatchObject({
      MATERIAL: 'AUR-10011',
      MATL_DESC: 'Bracket, steel, pressed 2 mm',
      _source: 'sap',
    });
    expect(plantDayOf(new Date(AT))).toBe('2026-11-23');
  });
});
