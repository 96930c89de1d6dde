import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { jsonText, ManualClock, silentLogger } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createSourceStatusStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { PlantModel, ProcurementModel, SapRfcStandIn } from '@aurora/plant';
import {
  type RfcClient,
  type RfcPool,
  type RfcStructure,
  runSapTransactional,
  SAP_BAPIS,
  type SapIngestionDeps,
  type Sealer,
} from '@aurora/sources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSentinel, type HostileCase, hostileCorpus, prototypeState, type Sentinel } from './corpus.js';
import {
  deadLetters,
  expectBoundedHeap,
  expectLakeLayout,
  expectPrototypeUntouched,
  expectSentinelUnread,
  measureHeap,
  withDeadline,
} from './harness.js';

/**
 * RFC results: the RFC stand-in answers as SAP would, and a pool around it hands the connector each result
 * with hostile content in it: every value in a CHAR, a packed-number (BCD), a NUMC and a DATS field of a
 * goods-movement item of its own; every name as an extra field; results whose tables are not tables, and
 * RETURN tables that are not what BAPIRET2 says. Each record lands typed or is dead-lettered with its raw
 * fields; a result that cannot be read is dead-lettered whole; the run goes on.
 */

const AT = '2026-11-23T08:00:00Z';
const procurement = new ProcurementModel(new PlantModel({ seed: 1 }));
let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
let sentinel: Sentinel;

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
  sentinel = await createSentinel();
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  await sentinel?.remove();
});

type Mutate = (rfm: string, result: RfcStructure) => RfcStructure;

/** node-rfc's Pool over the stand-in's, with every result passed through `mutate` (a copy). */
function hostilePool(inner: RfcPool, mutate: () => Mutate): RfcPool {
  return {
    acquire: async () => {
      const client = await inner.acquire();
      const wrapped: RfcClient = {
        get alive() {
          return client.alive;
        },
        open: () => client.open(),
        close: () => client.close(),
        call: async (rfm, params, options) =>
          mutate()(rfm, structuredClone(await client.call(rfm, params, options))),
      };
      (wrapped as { inner?: RfcClient }).inner = client;
      return wrapped;
    },
    release: (client) => inner.release((client as { inner?: RfcClient }).inner ?? client),
    closeAll: () => inner.closeAll(),
    get status() {
      return inner.status;
    },
  };
}

const sealer: Sealer = {
  seal: async (_subject, plaintext) =>
    `pd1.${'A'.repeat(22)}.${Buffer.from(plaintext).toString('base64url')}`,
};

async function setup(table: string) {
  const clock = new ManualClock(AT);
  const standIn = new SapRfcStandIn({ data: procurement, clock });
  const pool = standIn.pool({
    user: standIn.credentials['user']!,
    passwd: standIn.credentials['sap-rfc-password']!,
  });
  const deps: SapIngestionDeps = {
    lake,
    codec,
    checkpoints: createCheckpointStore(createTableClient(azurite.connectionString, `cp${table}`)),
    status: createSourceStatusStore(createTableClient(azurite.connectionString, `st${table}`)),
    clock,
    log: silentLogger,
    sealer,
    goodsMovementLookbackDays: 3,
    initialLookbackDays: 1,
    retryDelaysMs: [1],
    sleep: async () => undefined,
  };
  return { clock, pool, deps };
}

/** One synthetic goods-movement item: its own material document, the hostile value in one field. */
interface Variant {
  label: string;
  matDoc: string;
  field: string;
  value: unknown;
  /** Set a key instead of a field's value. */
  key?: string;
  lands: boolean;
  /** What the field holds in bronze when it lands. */
  expected?: unknown;
}

const FINITE = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const SCALAR = (v: unknown) => typeof v === 'string' || FINITE(v) || typeof v === 'bigint';
const BCD_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function variantsOf(c: HostileCase, next: () => string): Variant[] {
  if (c.form === 'body') return [];
  if (c.form === 'key') {
    const key = c.key('ITEM_TEXT');
    return [
      {
        label: `${c.id} as a field`,
        matDoc: next(),
        field: key,
        key,
        value: JSON.parse(c.json),
        lands: true,
      },
    ];
  }
  const value = c.value();
  const text = typeof value === 'string' ? value : undefined;
  const bcd =
    text !== undefined
      ? text.trim() === ''
        ? null
        : BCD_TEXT.test(text.trim())
          ? Number(text)
          : undefined
      : undefined;
  return [
    {
      label: `${c.id} in a CHAR`,
      matDoc: next(),
      field: 'ITEM_TEXT',
      value,
      // Text UTF-8 can hold: an unpaired surrogate it cannot.
      lands: value === null || (SCALAR(value) && String(value).isWellFormed()),
      expected: value === null ? null : SCALAR(value) ? String(value).trimEnd() : undefined,
    },
    {
      label: `${c.id} in a BCD`,
      matDoc: next(),
      field: 'ENTRY_QNT',
      value,
      lands:
        value === null ||
        FINITE(value) ||
        typeof value === 'bigint' ||
        (bcd !== undefined && (bcd === null || Number.isFinite(bcd))),
      expected:
        value === null ? null : FINITE(value) ? value : typeof value === 'bigint' ? Number(value) : bcd,
    },
    {
      label: `${c.id} in a NUMC`,
      matDoc: next(),
      field: 'MOVE_REAS',
      value,
      lands: value === null || (SCALAR(value) && /^\d*$/.test(String(value).trim())),
      expected: !SCALAR(value) || String(value).trim() === '' ? null : String(value).trim(),
    },
    {
      label: `${c.id} in a DATS`,
      matDoc: next(),
      field: 'PSTNG_DATE',
      value,
      // Not one of them is a date; an empty one is SAP's initial value.
      lands: value === null || (typeof value === 'string' && value.trim() === ''),
      expected: null,
    },
  ];
}

describe('hostile RFC results into runSapTransactional', () => {
  it('lands each record its types can hold and dead-letters every other with its raw fields', async () => {
    const before = prototypeState();
    const { pool, deps } = await setup('values');
    const cases = hostileCorpus({ sentinel: sentinel.path });
    let n = 0;
    const next = () => `59${String(n++).padStart(8, '0')}`;
    const variants = cases.flatMap((c) => variantsOf(c, next));
    const mutate: Mutate = (rfm, result) => {
      if (rfm !== 'BAPI_GOODSMVT_GETITEMS') return result;
      const items = result['GOODSMVT_ITEMS'] as RfcStructure[];
      const template = { ...items[0]!, MOVE_TYPE: '201', PO_NUMBER: '', PO_ITEM: '00000' };
      for (const v of variants) {
        const item: Record<string, unknown> = {
          ...template,
          MAT_DOC: v.matDoc,
          DOC_YEAR: '2026',
          MATDOC_ITM: '0001',
        };
        if (v.key !== undefined)
          Object.defineProperty(item, v.key, {
            value: v.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else item[v.field] = v.value;
        items.push(item as RfcStructure);
      }
      return result;
    };
    const use = await measureHeap(() =>
      withDeadline('the hostile goods movements', () =>
        runSapTransactional(
          deps,
          hostilePool(pool, () => mutate),
        ),
      ),
    );
    const inputBytes = variants.reduce((m, v) => Math.max(m, (jsonText(v.value) ?? '').length), 0);
    expectBoundedHeap('the hostile goods movements', use, inputBytes);
    const report = use.result;
    const movements = report.bapis.find((b) => b.bapi === SAP_BAPIS.goodsMovements)!;
    expect(movements.ok, report.summary).toBe(true);
    expect(movements.landed + movements.deadLettered).toBe(movements.fetched);

    const landed = new Map<string, Record<string, unknown>>();
    for await (const f of lake.list(`bronze/sap/${SAP_BAPIS.goodsMovements}/`))
      for (const row of await codec.decode(await lake.get(f.path))) landed.set(String(row['MAT_DOC']), row);
    const letters = new Map(
      (await deadLetters(lake, 'sap'))
        .filter((l) => l['code'] === 'sap.invalid_value')
        .map((l) => [String((l['context'] as { key: string }).key).split('/')[0]!, l]),
    );
    for (const v of variants) {
      const row = landed.get(v.matDoc);
      const letter = letters.get(v.matDoc);
      if (v.lands) {
        expect.soft(row, `${v.label} lands`).toBeDefined();
        expect.soft(letter, `${v.label} is not dead-lettered`).toBeUndefined();
        if (row && v.key === undefined && v.expected !== undefined)
          expect.soft(row[v.field], `${v.label}: landed as`).toEqual(v.expected);
      } else {
        expect.soft(row, `${v.label} does not land`).toBeUndefined();
        expect.soft(letter, `${v.label} is dead-lettered`).toBeDefined();
        if (!letter) continue;
        expect.soft(String(letter['reason']), v.label).toContain(v.field);
        const fields = letter['payload'] as Record<string, unknown>;
        expect
          .soft(jsonText(fields[v.field]), `${v.label}: the raw value is in the dead letter`)
          .toBe(jsonText(typeof v.value === 'bigint' ? v.value.toString() : v.value));
      }
    }
    // An extra field is a column of its own, whatever its name; the ones Object.prototype knows are null
    // in every other record.
    const names = await columnNames(`bronze/sap/${SAP_BAPIS.goodsMovements}/`);
    for (const v of variants.filter((x) => x.key !== undefined))
      expect
        .soft(
          names.some(
            (c) => c === v.key || c.startsWith(`${v.key}~`) || c === `sap${v.key}` || c.includes('\\u0000'),
          ),
          `${v.label}: a column`,
        )
        .toBe(true);
    const plain = [...landed.values()].find((r) => !String(r['MAT_DOC']).startsWith('59'))!;
    expect(plain['constructor'] ?? null).toBeNull();
    expect(plain['hasOwnProperty'] ?? null).toBeNull();

    await expectLakeLayout(lake);
    await expectSentinelUnread(lake, codec, sentinel, ['bronze/sap/', 'bronze/_deadletter/sap/']);
    expectPrototypeUntouched(before);
  });

  const shapes: [string, Mutate, string][] = [
    [
      'a table that is a structure',
      (rfm, r) => (rfm === 'BAPI_GOODSMVT_GETITEMS' ? { ...r, GOODSMVT_ITEMS: { MAT_DOC: '1' } } : r),
      SAP_BAPIS.goodsMovements,
    ],
    [
      'a table row that is text',
      (rfm, r) =>
        rfm === 'BAPI_GOODSMVT_GETITEMS'
          ? { ...r, GOODSMVT_ITEMS: [...(r['GOODSMVT_ITEMS'] as RfcStructure[]), 'x' as never] }
          : r,
      SAP_BAPIS.goodsMovements,
    ],
    [
      'a null table row',
      (rfm, r) => (rfm === 'BAPI_GOODSMVT_GETITEMS' ? { ...r, GOODSMVT_HEADER: [null as never] } : r),
      SAP_BAPIS.goodsMovements,
    ],
    [
      'PO items that are text',
      (rfm, r) => (rfm === 'BAPI_PO_GETDETAIL' ? { ...r, PO_ITEMS: 'items' as never } : r),
      SAP_BAPIS.poDetail,
    ],
    [
      'a PO header that is a table',
      (rfm, r) => (rfm === 'BAPI_PO_GETDETAIL' ? { ...r, PO_HEADER: [r['PO_HEADER'] as RfcStructure] } : r),
      SAP_BAPIS.poDetail,
    ],
    [
      'RFC_READ_TABLE FIELDS that are a structure',
      (rfm, r) =>
        rfm === 'RFC_READ_TABLE' && r['DATA'] !== undefined && (r['FIELDS'] as RfcStructure[]).length > 2
          ? { ...r, FIELDS: {} }
          : r,
      SAP_BAPIS.stock,
    ],
    [
      'a WA that is a number',
      (rfm, r) =>
        rfm === 'RFC_READ_TABLE' && (r['FIELDS'] as RfcStructure[]).length > 2
          ? { ...r, DATA: [{ WA: 42 }] }
          : r,
      SAP_BAPIS.stock,
    ],
    [
      'a RETURN error with a 1 MB message and forged log lines',
      (rfm, r) =>
        rfm === 'BAPI_GOODSMVT_GETITEMS'
          ? {
              ...r,
              RETURN: [
                {
                  TYPE: 'E',
                  ID: 'M7',
                  NUMBER: '001',
                  MESSAGE: `forged\n{"level":60}\r\n${'x'.repeat(1024 * 1024)}`,
                },
              ],
            }
          : r,
      SAP_BAPIS.goodsMovements,
    ],
    [
      'a RETURN table of nulls, text and an abort',
      (rfm, r) =>
        rfm === 'BAPI_PO_GETDETAIL'
          ? {
              ...r,
              RETURN: [null, 'E', { TYPE: { x: 1 } }, { TYPE: 'A', MESSAGE: { nested: [1] } }] as never,
            }
          : r,
      SAP_BAPIS.poDetail,
    ],
  ];
  it.each(shapes)(
    'dead-letters a result with %s whole, and the other BAPIs land',
    async (what, mutate, bapi) => {
      const before = prototypeState();
      const { pool, deps } = await setup(`shape${shapes.findIndex(([w]) => w === what)}`);
      const report = await withDeadline(what, () =>
        runSapTransactional(
          deps,
          hostilePool(pool, () => mutate),
        ),
      );
      const failed = report.bapis.find((b) => b.bapi === bapi)!;
      expect(failed.ok, report.summary).toBe(false);
      expect(failed.deadLetterFile).toBeDefined();
      for (const other of report.bapis.filter((b) => b.bapi !== bapi))
        expect(other.ok, report.summary).toBe(true);
      const letters = (await lake.get(failed.deadLetterFile!)).toString('utf8').trim().split('\n');
      const letter = JSON.parse(letters[0]!) as Record<string, unknown>;
      expect(String(letter['code'])).toMatch(/^sap\.(failed|bapi_return)$/);
      expect(letter['payload'], 'the result (or its RETURN rows) is in the dead letter').not.toBeNull();
      expect(String(letter['reason']).length).toBeLessThan(2000);
      const status = await deps.status!.get('sap');
      expect(status?.lastError?.length ?? 0).toBeLessThanOrEqual(4100);
      expectPrototypeUntouched(before);
    },
  );
});

/** Column names of the Parquet files under a prefix. */
async function columnNames(prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for await (const f of lake.list(prefix)) {
    const rows = await codec.decode(await lake.get(f.path), { limit: 1 });
    for (const k of Object.keys(rows[0] ?? {})) names.add(k);
  }
  return [...names];
}
