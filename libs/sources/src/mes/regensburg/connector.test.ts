import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuroraError,
  ConfigError,
  ManualClock,
  type SecretProvider,
  SourceDataError,
  SourceUnavailableError,
  staticSecrets,
} from '@aurora/core';
import {
  type MesDataSource,
  type MesStandIn,
  regensburgMeasurementId,
  regensburgOrderNumber,
  startRegensburgStandIn,
} from '@aurora/plant';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MesConnector, MesEntity, MesPage, MesWindow } from '../connector.js';
import { bronzeRows } from '../run-mes-ingestion.js';
import {
  createRegensburgConnector,
  REGENSBURG_PASSWORD_SECRET,
  type RegensburgConnectorOptions,
} from './connector.js';
import {
  FIXTURE_NOW,
  FIXTURE_SNAPSHOT,
  fixtureSource,
  MEASUREMENT_NOT_OK,
  MEASUREMENT_OK,
  ORDER_AT_HORIZON,
  ORDER_DONE,
  ORDER_RELEASED,
  ORDER_RUNNING,
  STATE_FAILURE,
  STATE_NIGHT,
  STATE_RUNNING,
  STATE_SLOW,
} from './regensburg.fixture.js';

const ALL_TIME: MesWindow = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') };
const ms = (d: Date | undefined) => d?.getTime();

let clock: ManualClock;
let data: ReturnType<typeof fixtureSource>;
let standIn: MesStandIn;
const opened: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  clock = new ManualClock(FIXTURE_NOW);
  data = fixtureSource();
  standIn = await startRegensburgStandIn({ data, clock });
  opened.push(standIn);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function connect(
  overrides: Partial<RegensburgConnectorOptions> = {},
  target: MesStandIn = standIn,
): MesConnector {
  return createRegensburgConnector({
    baseUrl: target.url,
    secrets: staticSecrets(target.credentials),
    clock,
    username: target.credentials['username']!,
    timeoutMs: 2_000,
    ...overrides,
  });
}

async function pages(
  connector: MesConnector,
  entity: MesEntity,
  window: MesWindow = ALL_TIME,
  signal?: AbortSignal,
): Promise<MesPage[]> {
  const out: MesPage[] = [];
  for await (const page of connector.fetch(entity, window, signal ? { signal } : {})) out.push(page);
  return out;
}

const records = async (entity: MesEntity, window?: MesWindow, connector = connect()) =>
  (await pages(connector, entity, window)).flatMap((p) => p.records);

async function failure(promise: Promise<unknown>): Promise<AuroraError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) throw new Error('expected the fetch to fail');
  return error as AuroraError;
}

/** The raw body as the stand-in serves it, with the right credentials. */
async function rawBody(path: string, target: MesStandIn = standIn): Promise<string> {
  const auth = Buffer.from(
    `${target.credentials['username']}:${target.credentials[REGENSBURG_PASSWORD_SECRET]}`,
  ).toString('base64');
  const response = await fetch(`${target.url}${path}`, { headers: { authorization: `Basic ${auth}` } });
  return response.text();
}

/** A loopback server answering every request with one fixed response, for bodies no MES should send. */
async function answering(status: number, body: string, chunked = false): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  opened.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createRegensburgConnector', () => {
  it('reads production orders with Basic auth as one page, every field as delivered', async () => {
    const got = await pages(connect(), 'production_orders');

    expect(got).toHaveLength(1);
    expect(got[0]!.request).toBe(`GET ${standIn.url}/api/productionOrders`);
    const byKey = new Map(got[0]!.records.map((r) => [r.key, r]));
    expect([...byKey.keys()]).toEqual(
      [ORDER_AT_HORIZON, ORDER_DONE, ORDER_RELEASED, ORDER_RUNNING].map((o) =>
        regensburgOrderNumber(o.orderId),
      ),
    );
    const running = byKey.get(regensburgOrderNumber(ORDER_RUNNING.orderId))!;
    expect(running.key).toMatch(/^FA-2026-\d{10}$/);
    expect(running.modifiedAt).toEqual(new Date('2026-11-23T11:45:00Z'));
    expect(running.fields).toEqual({
      auftragsnummer: running.key,
      maschine: 'rgb-m01',
      artikel: 'AUR-10031',
      menge_soll: 300,
      menge_gut: 147,
      menge_ausschuss: 3,
      status: 'LAEUFT',
      taktzeit_soll_ms: 90_000,
      start_geplant: Date.parse('2026-11-23T05:00:00Z'),
      ende_geplant: Date.parse('2026-11-23T13:00:00Z'),
      start_ist: Date.parse('2026-11-23T05:12:30Z'),
      ende_ist: null,
      buchungen: expect.stringMatching(/^\[\{"zeitpunkt":\d+,"menge_gut":\d+,"menge_ausschuss":\d+\},/),
      geaendert_am: Date.parse('2026-11-23T11:45:00Z'),
    });
    const done = byKey.get(regensburgOrderNumber(ORDER_DONE.orderId))!.fields;
    expect([done['status'], done['taktzeit_soll_ms'], done['ende_ist']]).toEqual([
      'FERTIG',
      112_500,
      Date.parse('2026-11-22T20:40:00Z'),
    ]);
    expect(byKey.get(regensburgOrderNumber(ORDER_RELEASED.orderId))!.fields).toMatchObject({
      status: 'GEPLANT',
      start_ist: null,
      ende_ist: null,
      menge_gut: 0,
    });
  });

  it('lands the buchungen array as one bronze column of JSON array text: none, one or many', async () => {
    const records = (await pages(connect(), 'production_orders')).flatMap((p) => p.records);
    const { schema, rows } = bronzeRows(records, {
      source: 'mes-regensburg',
      extractedAt: FIXTURE_NOW,
      batchId: 'b1',
    });
    expect(schema.find((c) => c.name === 'buchungen')).toEqual({ name: 'buchungen', type: 'VARCHAR' });
    const byKey = new Map(rows.map((r) => [r['_record_key'], r]));
    const row = (o: { orderId: string }) => byKey.get(regensburgOrderNumber(o.orderId))!;
    expect(row(ORDER_RELEASED)['buchungen']).toBe('[]');
    expect(row(ORDER_AT_HORIZON)['buchungen']).toBe(
      `[{"zeitpunkt":${Date.parse('2026-11-20T12:00:00Z')},"menge_gut":80,"menge_ausschuss":2}]`,
    );
    // 05:12:30 to 11:45: the quarter hours 05:15 ... 11:30, then 11:45, the version's own booking.
    const running = JSON.parse(row(ORDER_RUNNING)['buchungen'] as string) as Record<string, number>[];
    expect(running).toHaveLength(27);
    expect(running[0]).toEqual({
      zeitpunkt: Date.parse('2026-11-23T05:15:00Z'),
      menge_gut: 5,
      menge_ausschuss: 0,
    });
    expect(running.at(-1)!['zeitpunkt']).toBe(Date.parse('2026-11-23T11:45:00Z'));
    for (const order of [ORDER_RUNNING, ORDER_DONE, ORDER_AT_HORIZON, ORDER_RELEASED]) {
      const r = row(order);
      const postings = JSON.parse(r['buchungen'] as string) as Record<string, number>[];
      const sum = (f: string) => postings.reduce((n, p) => n + p[f]!, 0);
      expect([sum('menge_gut'), sum('menge_ausschuss')]).toEqual([r['menge_gut'], r['menge_ausschuss']]);
    }
  });

  it('keys machine states by machine and start, keeps open states open and the shift object as JSON text', async () => {
    const got = await records('machine_states');
    const byKey = new Map(got.map((r) => [r.key, r]));

    expect([...byKey.keys()].sort()).toEqual(
      [STATE_RUNNING, STATE_FAILURE, STATE_SLOW, STATE_NIGHT]
        .map((s) => `${s.machineId}|${ms(s.startAt)}`)
        .sort(),
    );
    const failure = byKey.get(`rgb-m01|${ms(STATE_FAILURE.startAt)}`)!;
    expect(failure.modifiedAt).toEqual(STATE_FAILURE.updatedAt);
    expect(failure.fields).toEqual({
      maschine: 'rgb-m01',
      zustand: 'STOERUNG',
      grund: 'F-HYDRAULIC',
      auftragsnummer: regensburgOrderNumber(ORDER_RUNNING.orderId),
      von: Date.parse('2026-11-23T11:00:00Z'),
      bis: null,
      leistung_prozent: null,
      schicht: '{"name":"Frueh","datum":"2026-11-23"}',
      geaendert_am: Date.parse('2026-11-23T11:00:00Z'),
    });
    expect(byKey.get(`rgb-m02|${ms(STATE_SLOW.startAt)}`)!.fields).toMatchObject({
      zustand: 'LANGSAM',
      leistung_prozent: 72,
      bis: Date.parse('2026-11-22T15:00:00Z'),
      schicht: '{"name":"Spaet","datum":"2026-11-22"}',
    });
    expect(byKey.get(`rgb-m03|${ms(STATE_NIGHT.startAt)}`)!.fields).toMatchObject({
      zustand: 'KEINE_SCHICHT',
      grund: null,
      auftragsnummer: null,
      schicht: '{"name":"Nacht","datum":"2026-11-22"}',
    });
    expect(byKey.get(`rgb-m01|${ms(STATE_RUNNING.startAt)}`)!.fields['leistung_prozent']).toBe(100);
  });

  it('keeps measurement values as decimal-comma strings and times as epoch milliseconds, exactly', async () => {
    const got = await records('quality_measurements');
    const byKey = new Map(got.map((r) => [r.key, r]));

    const okId = regensburgMeasurementId(MEASUREMENT_OK.measurementId);
    expect(Number.isSafeInteger(okId)).toBe(true);
    expect(byKey.get(String(okId))!.fields).toEqual({
      messung_id: okId,
      auftragsnummer: regensburgOrderNumber(ORDER_RUNNING.orderId),
      maschine: 'rgb-m01',
      artikel: 'AUR-10031',
      merkmal: 'outer_diameter',
      sollwert: '25,0000',
      untere_grenze: '24,9900',
      obere_grenze: '25,0100',
      messwert: '25,0034',
      einheit: 'mm',
      bewertung: 'OK',
      fehlercode: null,
      gemessen_am: 1_795_426_200_000,
      geaendert_am: 1_795_426_200_000,
    });
    const notOk = byKey.get(String(regensburgMeasurementId(MEASUREMENT_NOT_OK.measurementId)))!;
    expect(notOk.fields).toMatchObject({
      messwert: '6,8125',
      untere_grenze: '5,2000',
      obere_grenze: '6,8000',
      bewertung: 'NIO',
      fehlercode: 'SEAM_WIDTH_HIGH',
    });
    expect(notOk.modifiedAt).toEqual(new Date('2026-11-22T18:00:00Z'));
  });

  it('downloads the whole data set whatever the window and keeps only [from, to) on the client', async () => {
    const window = { from: ORDER_DONE.updatedAt, to: ORDER_RUNNING.updatedAt };
    const inWindow = await records('production_orders', window);
    const after = await records('production_orders', {
      from: new Date(ms(ORDER_DONE.updatedAt)! + 1),
      to: window.to,
    });

    // from is inclusive, to exclusive; the horizon order before `from` stays out.
    expect(inWindow.map((r) => r.key)).toEqual(
      [ORDER_DONE, ORDER_RELEASED].map((o) => regensburgOrderNumber(o.orderId)),
    );
    expect(after.map((r) => r.key)).toEqual([regensburgOrderNumber(ORDER_RELEASED.orderId)]);
    // The API knows no window: both requests asked for everything within the retention.
    expect(data.calls.map((c) => [c.facilityId, c.asOf.toISOString(), c.since.toISOString()])).toEqual([
      ['regensburg', '2026-11-23T12:00:00.000Z', '2026-11-20T12:00:00.000Z'],
      ['regensburg', '2026-11-23T12:00:00.000Z', '2026-11-20T12:00:00.000Z'],
    ]);
    expect(JSON.parse(await rawBody('/api/productionOrders'))).toHaveLength(4);
    expect(standIn.stats.requests).toBe(3);
  });

  it('sees only what the MES keeps online: the retention horizon, as of the clock at each request', async () => {
    const horizon = regensburgOrderNumber(ORDER_AT_HORIZON.orderId);
    const expired = regensburgOrderNumber('rgb-m01-20261120-e01');
    const future = regensburgOrderNumber('rgb-m04-20261124-e01');

    const first = (await records('production_orders')).map((r) => r.key);
    clock.advance(1);
    const later = (await records('production_orders')).map((r) => r.key);
    const shortRetention = await startRegensburgStandIn({ data: fixtureSource(), clock, retentionH: 12 });
    opened.push(shortRetention);
    const short = (await records('production_orders', ALL_TIME, connect({}, shortRetention))).map(
      (r) => r.key,
    );

    expect(first).toContain(horizon);
    expect(first).not.toContain(expired);
    expect(first).not.toContain(future);
    expect(later).not.toContain(horizon);
    expect(later).toContain(future);
    expect(short).toEqual(
      [ORDER_RELEASED, ORDER_RUNNING, { orderId: 'rgb-m04-20261124-e01' }].map((o) =>
        regensburgOrderNumber(o.orderId),
      ),
    );
  });

  it('rejects a wrong password as unavailable, pointing at the credentials and never showing a secret', async () => {
    const secrets = staticSecrets({ [REGENSBURG_PASSWORD_SECRET]: 'wrong-horse-battery' });

    const error = await failure(pages(connect({ secrets }), 'production_orders'));

    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/credentials/);
    expect(error.message).toContain('mes-regensburg-password');
    expect(error.details).toEqual({ status: 401, request: `GET ${standIn.url}/api/productionOrders` });
    const shown = JSON.stringify(error.toJSON());
    expect(shown).not.toContain('wrong-horse-battery');
    expect(shown).not.toContain(standIn.credentials[REGENSBURG_PASSWORD_SECRET]!);
  });

  it('reads the password at each call, so a rotated one is picked up', async () => {
    const current = { value: 'stale-password' };
    const secrets: SecretProvider = { get: async () => current.value };
    const connector = connect({ secrets });

    const first = await failure(pages(connector, 'machine_states'));
    current.value = standIn.credentials[REGENSBURG_PASSWORD_SECRET]!;
    const second = await records('machine_states', ALL_TIME, connector);

    expect(first).toBeInstanceOf(SourceUnavailableError);
    expect(second).toHaveLength(4);
  });

  it('fails an occasional 401 as unavailable and succeeds on the next call', async () => {
    standIn.faults.inject({ fault: 'unauthorized', times: 1 });
    const connector = connect();

    const error = await failure(pages(connector, 'production_orders'));
    const retried = await records('production_orders', ALL_TIME, connector);

    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.details['status']).toBe(401);
    expect(retried).toHaveLength(4);
    expect(standIn.stats.requests).toBe(2);
  });

  it('maps a 500 with the MES error body to unavailable, quoting the MES', async () => {
    standIn.faults.inject({ fault: 'http_500', entity: 'quality_measurements' });

    const error = await failure(pages(connect(), 'quality_measurements'));
    const others = await records('production_orders');

    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('Datenbankverbindung verloren');
    expect(error.details).toEqual({ status: 500, request: `GET ${standIn.url}/api/qualityMeasurements` });
    expect(others).toHaveLength(4);
  });

  it('gives up on an MES that never answers after timeoutMs, as unavailable', async () => {
    standIn.faults.inject({ fault: 'timeout', times: 1 });
    const started = performance.now();

    const error = await failure(pages(connect({ timeoutMs: 200 }), 'production_orders'));

    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toMatch(/did not answer within 200 ms/);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('waits for a slow answer within the timeout', async () => {
    standIn.faults.inject({ fault: 'slow', delayMs: 50, times: 1 });
    const started = performance.now();

    const got = await records('machine_states', ALL_TIME, connect({ timeoutMs: 500 }));

    expect(got).toHaveLength(4);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('treats a body that breaks off as unreadable, keeping what arrived', async () => {
    const full = await rawBody('/api/productionOrders');
    standIn.faults.inject({ fault: 'truncated', times: 1 });

    const error = await failure(pages(connect(), 'production_orders'));

    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.details['status']).toBe(200);
    const body = error.details['body'] as string;
    expect(body.length).toBeGreaterThan(0);
    expect(body.length).toBeLessThan(full.length);
    expect(full.startsWith(body)).toBe(true);
  });

  it('treats a syntactically broken body as unreadable, with the body in the error', async () => {
    standIn.faults.inject({ fault: 'malformed', times: 1 });

    const error = await failure(pages(connect(), 'machine_states'));

    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.details['body']).toMatch(/^\[\{"maschine":.*,\{"fehler":$/);
  });

  it('keeps integers past 2^53 exactly, as text, and refuses an unpaired surrogate with the body', async () => {
    const url = await answering(
      200,
      '[{"messung_id":18446744073709551617,"geaendert_am":1795420800000,"wert":9007199254740993}]',
    );
    const [record] = await records('quality_measurements', undefined, connect({ baseUrl: url }));
    expect(record).toMatchObject({
      key: '18446744073709551617',
      fields: { messung_id: '18446744073709551617', wert: '9007199254740993' },
    });

    const bad = await answering(200, '[{"messung_id":1,"geaendert_am":1795420800000,"text":"a\\ud800"}]');
    const error = await failure(pages(connect({ baseUrl: bad }), 'quality_measurements'));
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toContain('unpaired surrogate');
    expect(error.details['body']).toContain('\\ud800');
  });

  it('yields a record the MES lists twice twice (repeat_page): the runner deduplicates', async () => {
    standIn.faults.inject({ fault: 'repeat_page', times: 1 });

    const got = await records('production_orders');

    const first = regensburgOrderNumber(ORDER_AT_HORIZON.orderId);
    expect(got.map((r) => r.key)).toEqual([
      first,
      ...[ORDER_DONE, ORDER_RELEASED, ORDER_RUNNING].map((o) => regensburgOrderNumber(o.orderId)),
      first,
    ]);
    expect(got[4]).toEqual(got[0]);
  });

  it('keeps a field it has never seen (new_field)', async () => {
    standIn.faults.inject({ fault: 'new_field', times: 1 });

    const got = await records('quality_measurements');

    expect(got).toHaveLength(2);
    for (const r of got) {
      expect(r.fields['kostenstelle']).toBe('KST-4711');
      expect(r.fields['messwert']).toMatch(/^\d+,\d{4}$/);
    }
  });

  it('refuses a body larger than maxBodyBytes, declared or streamed', async () => {
    const size = Buffer.byteLength(await rawBody('/api/productionOrders'));

    const declared = await failure(pages(connect({ maxBodyBytes: size - 1 }), 'production_orders'));
    const fits = await records('production_orders', ALL_TIME, connect({ maxBodyBytes: size }));
    const chunkedUrl = await answering(
      200,
      JSON.stringify(Array.from({ length: 50 }, () => ({ x: 'y'.repeat(100) }))),
      true,
    );
    const streamed = await failure(
      pages(connect({ baseUrl: chunkedUrl, maxBodyBytes: 1_000 }), 'production_orders'),
    );

    expect(declared).toBeInstanceOf(SourceDataError);
    expect(declared.message).toMatch(/maxBodyBytes/);
    expect(fits).toHaveLength(4);
    expect(streamed).toBeInstanceOf(SourceDataError);
    expect(streamed.message).toMatch(/maxBodyBytes \(1000\)/);
  });

  it('refuses a record without its key, keeping the whole body for the dead letter', async () => {
    const broken: MesDataSource = {
      snapshot: () => ({
        orders: [],
        machineStates: [{ ...STATE_RUNNING, startAt: new Date(Number.NaN) }],
        qualityMeasurements: [],
      }),
    };
    const target = await startRegensburgStandIn({ data: broken, clock });
    opened.push(target);

    const error = await failure(pages(connect({}, target), 'machine_states'));

    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toMatch(/record 0 lacks its key \(maschine and von\)/);
    expect(error.details['body']).toBe(await rawBody('/api/machineStates', target));
    expect(error.details['index']).toBe(0);
  });

  it.each([
    ['{"daten":[]}', /not a JSON array/],
    ['[1]', /element 0 is not an object/],
    ['[{"auftragsnummer":"FA-1","geaendert_am":"2026-11-23T12:00:00Z"}]', /record 0 has no geaendert_am/],
    ['[{"auftragsnummer":"FA-1","geaendert_am":1795430000000.5}]', /record 0 has no geaendert_am/],
  ])('refuses %s as unreadable rather than guessing', async (body, message) => {
    const baseUrl = await answering(200, body);

    const error = await failure(pages(connect({ baseUrl }), 'production_orders'));

    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toMatch(message);
    expect(error.details).toMatchObject({
      status: 200,
      body,
      request: `GET ${baseUrl}/api/productionOrders`,
    });
  });

  it('maps 429 and an unreachable MES to unavailable', async () => {
    const busy = await answering(429, '{"fehler":"Zu viele Anfragen"}');
    const closed = await startRegensburgStandIn({ data: fixtureSource(), clock });
    await closed.close();

    const throttled = await failure(pages(connect({ baseUrl: busy }), 'production_orders'));
    const unreachable = await failure(pages(connect({ baseUrl: closed.url }), 'production_orders'));

    expect(throttled).toBeInstanceOf(SourceUnavailableError);
    expect(throttled.message).toContain('Zu viele Anfragen');
    expect(unreachable).toBeInstanceOf(SourceUnavailableError);
    expect(unreachable.message).toMatch(/could not be reached/);
  });

  it("passes the caller's cancellation through instead of calling it an outage", async () => {
    standIn.faults.inject({ fault: 'timeout', times: 1 });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 30);

    const error = await failure(pages(connect(), 'production_orders', ALL_TIME, controller.signal));

    expect(error).toBe(reason);
  });

  it('delivers the same records from the same data and clock', async () => {
    const twin = await startRegensburgStandIn({ data: fixtureSource(FIXTURE_SNAPSHOT), clock });
    opened.push(twin);

    for (const path of ['/api/productionOrders', '/api/machineStates', '/api/qualityMeasurements']) {
      expect(await rawBody(path, twin)).toBe(await rawBody(path, standIn));
    }
    expect(await records('machine_states', ALL_TIME, connect({}, twin))).toEqual(
      await records('machine_states'),
    );
  });

  it('refuses a URL carrying credentials', () => {
    expect(() => connect({ baseUrl: 'http://user:pw@127.0.0.1:1' })).toThrow(ConfigError);
  });
});
