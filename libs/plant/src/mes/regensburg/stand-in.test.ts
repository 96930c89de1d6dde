import { request } from 'node:http';
import { ManualClock } from '@aurora/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { MesStandIn } from '../faults.js';
import type { MesDataSource, MesSnapshot } from '../records.js';
import {
  REGENSBURG_MACHINE_STATES,
  REGENSBURG_ORDER_STATUSES,
  regensburgDecimal,
  regensburgMeasurementId,
  regensburgOrderNumber,
  regensburgShift,
  startRegensburgStandIn,
} from './stand-in.js';

const NOW = new Date('2026-11-23T12:00:00Z');

/** One record per entity, plus an order last changed before the 72 h retention. */
const SNAPSHOT: MesSnapshot = {
  orders: [
    {
      orderId: 'rgb-m01-20261123-e01',
      facilityId: 'regensburg',
      machineId: 'rgb-m01',
      materialId: 'AUR-10033',
      plannedQty: 400,
      idealCycleTimeS: 45,
      plannedStartAt: new Date('2026-11-23T05:00:00Z'),
      plannedEndAt: new Date('2026-11-23T11:00:00Z'),
      actualStartAt: new Date('2026-11-23T05:10:00Z'),
      actualEndAt: new Date('2026-11-23T05:40:00Z'),
      status: 'completed',
      totalCount: 39,
      goodCount: 38,
      scrapCount: 1,
      postings: [
        { postedAt: new Date('2026-11-23T05:15:00Z'), totalCount: 6, goodCount: 6, scrapCount: 0 },
        { postedAt: new Date('2026-11-23T05:30:00Z'), totalCount: 20, goodCount: 19, scrapCount: 1 },
        { postedAt: new Date('2026-11-23T05:40:00Z'), totalCount: 13, goodCount: 13, scrapCount: 0 },
      ],
      updatedAt: new Date('2026-11-23T05:40:00Z'),
    },
    {
      orderId: 'rgb-m01-20261119-e01',
      facilityId: 'regensburg',
      machineId: 'rgb-m01',
      materialId: 'AUR-10033',
      plannedQty: 400,
      idealCycleTimeS: 45,
      plannedStartAt: new Date('2026-11-19T05:00:00Z'),
      plannedEndAt: new Date('2026-11-19T11:00:00Z'),
      status: 'released',
      totalCount: 0,
      goodCount: 0,
      scrapCount: 0,
      postings: [],
      updatedAt: new Date('2026-11-19T03:00:00Z'),
    },
  ],
  machineStates: [
    {
      stateId: 'rgb-m01-1795413600000',
      facilityId: 'regensburg',
      machineId: 'rgb-m01',
      state: 'setup',
      reasonCode: 'CHANGEOVER',
      orderId: 'rgb-m01-20261123-e01',
      startAt: new Date('2026-11-23T05:00:00Z'),
      endAt: new Date('2026-11-23T05:10:00Z'),
      updatedAt: new Date('2026-11-23T05:10:00Z'),
    },
  ],
  qualityMeasurements: [
    {
      measurementId: 'rgb-m01-20261123-e01-q00040',
      facilityId: 'regensburg',
      machineId: 'rgb-m01',
      orderId: 'rgb-m01-20261123-e01',
      materialId: 'AUR-10033',
      characteristic: 'inner_diameter',
      unit: 'mm',
      nominal: 12,
      lsl: 11.992,
      usl: 12.008,
      value: 11.9915,
      ok: false,
      defectCode: 'INNER_DIAMETER_LOW',
      measuredAt: new Date('2026-11-23T06:00:00Z'),
      updatedAt: new Date('2026-11-23T06:00:00Z'),
    },
  ],
};

/** Honours the MesDataSource contract: updated in [since, asOf]. */
const source: MesDataSource = {
  snapshot: (_facility, asOf, since) => {
    const within = <T extends { updatedAt: Date }>(rs: T[]) =>
      rs.filter((r) => r.updatedAt >= since && r.updatedAt <= asOf);
    return {
      orders: within(SNAPSHOT.orders),
      machineStates: within(SNAPSHOT.machineStates),
      qualityMeasurements: within(SNAPSHOT.qualityMeasurements),
    };
  },
};

const running: MesStandIn[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(retentionH?: number): Promise<MesStandIn> {
  const standIn = await startRegensburgStandIn({
    data: source,
    clock: new ManualClock(NOW),
    credentials: { username: 'aurora', 'mes-regensburg-password': 'geheim' },
    ...(retentionH === undefined ? {} : { retentionH }),
  });
  running.push(standIn);
  return standIn;
}

const BASIC = `Basic ${Buffer.from('aurora:geheim').toString('base64')}`;

const get = (standIn: MesStandIn, path: string, authorization = BASIC, method = 'GET') =>
  fetch(`${standIn.url}${path}`, { method, headers: { authorization } });

describe('startRegensburgStandIn', () => {
  it('serves each entity as one JSON array in the MES format', async () => {
    const standIn = await start();

    const orders = await (await get(standIn, '/api/productionOrders')).text();
    const states = await (await get(standIn, '/api/machineStates')).json();
    const measurements = await (await get(standIn, '/api/qualityMeasurements')).json();

    const number = regensburgOrderNumber('rgb-m01-20261123-e01');
    expect(orders).toBe(
      `[{"auftragsnummer":"${number}","maschine":"rgb-m01","artikel":"AUR-10033","menge_soll":400,` +
        '"menge_gut":38,"menge_ausschuss":1,"status":"FERTIG","taktzeit_soll_ms":45000,' +
        '"start_geplant":1795410000000,"ende_geplant":1795431600000,"start_ist":1795410600000,' +
        '"ende_ist":1795412400000,"buchungen":[{"zeitpunkt":1795410900000,"menge_gut":6,"menge_ausschuss":0},' +
        '{"zeitpunkt":1795411800000,"menge_gut":19,"menge_ausschuss":1},' +
        '{"zeitpunkt":1795412400000,"menge_gut":13,"menge_ausschuss":0}],"geaendert_am":1795412400000}]',
    );
    expect(states).toEqual([
      {
        maschine: 'rgb-m01',
        zustand: 'RUESTEN',
        grund: 'CHANGEOVER',
        auftragsnummer: number,
        von: 1_795_410_000_000,
        bis: 1_795_410_600_000,
        leistung_prozent: null,
        schicht: { name: 'Frueh', datum: '2026-11-23' },
        geaendert_am: 1_795_410_600_000,
      },
    ]);
    expect(measurements).toEqual([
      {
        messung_id: regensburgMeasurementId('rgb-m01-20261123-e01-q00040'),
        auftragsnummer: number,
        maschine: 'rgb-m01',
        artikel: 'AUR-10033',
        merkmal: 'inner_diameter',
        sollwert: '12,0000',
        untere_grenze: '11,9920',
        obere_grenze: '12,0080',
        messwert: '11,9915',
        einheit: 'mm',
        bewertung: 'NIO',
        fehlercode: 'INNER_DIAMETER_LOW',
        gemessen_am: 1_795_413_600_000,
        geaendert_am: 1_795_413_600_000,
      },
    ]);
    expect(standIn.stats.requests).toBe(3);
  });

  it('keeps records online for retentionH after their last change', async () => {
    const week = await start(24 * 7);
    const short = await start(12);

    const weekOrders = (await (await get(week, '/api/productionOrders')).json()) as unknown[];
    const shortOrders = (await (await get(short, '/api/productionOrders')).json()) as unknown[];

    expect(weekOrders).toHaveLength(2);
    expect(shortOrders).toHaveLength(1);
  });

  it('asks for Basic credentials with its realm and a JSON error body', async () => {
    const standIn = await start();

    const none = await get(standIn, '/api/machineStates', '');
    const wrong = await get(
      standIn,
      '/api/machineStates',
      `Basic ${Buffer.from('aurora:falsch').toString('base64')}`,
    );

    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="MES Regensburg", charset="UTF-8"');
    expect(await none.json()).toEqual({ fehler: 'Anmeldung fehlgeschlagen' });
    expect(wrong.status).toBe(401);
    expect(standIn.stats.requests).toBe(2);
  });

  it('answers unknown paths with 404 and other methods with 405, not counting them as data requests', async () => {
    const standIn = await start();

    const unknown = await get(standIn, '/api/workers');
    const post = await get(standIn, '/api/productionOrders', BASIC, 'POST');

    expect([unknown.status, post.status]).toEqual([404, 405]);
    expect(await unknown.json()).toEqual({ fehler: 'Unbekannte Ressource: /api/workers' });
    expect(standIn.stats.requests).toBe(0);
  });

  it('generates random credentials by default, exposed by secret name', async () => {
    const clock = new ManualClock(NOW);
    const a = await startRegensburgStandIn({ data: source, clock });
    const b = await startRegensburgStandIn({ data: source, clock });
    running.push(a, b);

    expect(Object.keys(a.credentials).sort()).toEqual(['mes-regensburg-password', 'username']);
    expect(a.credentials['mes-regensburg-password']).not.toBe(b.credentials['mes-regensburg-password']);
    expect(a.credentials['mes-regensburg-password']!.length).toBeGreaterThanOrEqual(24);
    expect([a.vendor, a.facilityId]).toEqual(['regensburg-mes', 'regensburg']);
  });

  it('declares the full length but sends half the body when truncated', async () => {
    const standIn = await start();
    const full = Buffer.byteLength(await (await get(standIn, '/api/productionOrders')).text());
    standIn.faults.inject({ fault: 'truncated', times: 1 });

    const { declared, received } = await new Promise<{ declared: number; received: number }>((resolve) => {
      const req = request(
        `${standIn.url}/api/productionOrders`,
        { headers: { authorization: BASIC } },
        (res) => {
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
          });
          res.on('close', () => resolve({ declared: Number(res.headers['content-length']), received }));
          res.on('error', () => undefined);
        },
      );
      req.end();
    });

    expect(declared).toBe(full);
    expect(received).toBe(Math.floor(full / 2));
  });

  it('serves broken JSON when malformed and an error body on http_500', async () => {
    const standIn = await start();
    standIn.faults.inject({ fault: 'malformed', times: 1 }).inject({ fault: 'http_500', times: 1 });

    const malformed = await (await get(standIn, '/api/machineStates')).text();
    const failed = await get(standIn, '/api/machineStates');

    expect(() => JSON.parse(malformed)).toThrow(SyntaxError);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ fehler: 'Interner Fehler: Datenbankverbindung verloren' });
  });

  it('closes while a request hangs (timeout) or waits (slow)', async () => {
    const standIn = await start();
    standIn.faults
      .inject({ fault: 'timeout', times: 1 })
      .inject({ fault: 'slow', delayMs: 60_000, times: 1 });
    const hanging = get(standIn, '/api/productionOrders').catch((e: unknown) => e);
    const waiting = get(standIn, '/api/productionOrders').catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = performance.now();
    await standIn.close();
    running.splice(running.indexOf(standIn), 1);

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await hanging).toBeInstanceOf(Error);
    expect(await waiting).toBeInstanceOf(Error);
  });

  it('serves the same bytes for the same data and clock', async () => {
    const a = await start();
    const b = await start();

    for (const path of ['/api/productionOrders', '/api/machineStates', '/api/qualityMeasurements']) {
      expect(await (await get(a, path)).text()).toBe(await (await get(b, path)).text());
    }
  });
});

describe('Regensburg formats', () => {
  it.each([
    ['2026-11-23T04:59:59Z', 'Nacht', '2026-11-22'],
    ['2026-11-23T05:00:00Z', 'Frueh', '2026-11-23'],
    ['2026-11-23T12:59:59Z', 'Frueh', '2026-11-23'],
    ['2026-11-23T13:00:00Z', 'Spaet', '2026-11-23'],
    ['2026-11-23T21:00:00Z', 'Nacht', '2026-11-23'],
    ['2026-11-23T22:59:00Z', 'Nacht', '2026-11-23'],
    ['2026-07-01T04:00:00Z', 'Frueh', '2026-07-01'],
    ['2026-07-01T03:59:00Z', 'Nacht', '2026-06-30'],
  ])('puts %s into the %s shift of %s (Europe/Berlin)', (iso, name, datum) => {
    expect(regensburgShift(new Date(iso))).toEqual({ name, datum });
  });

  it('prints millimetres with four decimals and a decimal comma', () => {
    expect([12.034, 850, -0.01, 0.0125].map(regensburgDecimal)).toEqual([
      '12,0340',
      '850,0000',
      '-0,0100',
      '0,0125',
    ]);
  });

  it('derives stable, distinct order numbers and measurement ids from the canonical ids', () => {
    const a = regensburgOrderNumber('rgb-m07-20261123-e01');

    expect(a).toMatch(/^FA-2026-\d{10}$/);
    expect(regensburgOrderNumber('rgb-m07-20261123-e01')).toBe(a);
    expect(regensburgOrderNumber('rgb-m07-20261123-e02')).not.toBe(a);
    expect(regensburgOrderNumber('order-without-date')).toMatch(/^FA-0000-\d{10}$/);
    expect(Number.isSafeInteger(regensburgMeasurementId('rgb-m07-20261123-e01-q00001'))).toBe(true);
  });

  it('maps every canonical state and status to its own code', () => {
    expect(new Set(Object.values(REGENSBURG_MACHINE_STATES)).size).toBe(9);
    expect(Object.values(REGENSBURG_ORDER_STATUSES)).toEqual(['GEPLANT', 'LAEUFT', 'FERTIG']);
  });
});
