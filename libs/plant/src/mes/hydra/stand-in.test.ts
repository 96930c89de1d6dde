import { request } from 'node:http';
import { ManualClock } from '@aurora/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { MesStandIn } from '../faults.js';
import type { MeasurementRecord, MesDataSource, OrderRecord, StateRecord } from '../records.js';
import {
  HYDRA_ORDER_STATUS,
  HYDRA_STATUS_CODES,
  hydraMicrometres,
  hydraOrderNo,
  hydraTime,
  startHydraStandIn,
} from './stand-in.js';

const KEY = 'stand-in-test-key';
const ACCESS_ID = '00123456';
const clock = new ManualClock('2026-11-24T00:00:00Z');

const order: OrderRecord = {
  orderId: 'ing-m07-20261123-e01',
  facilityId: 'ingolstadt',
  machineId: 'ing-m07',
  materialId: 'AUR-10023',
  plannedQty: 500,
  idealCycleTimeS: 6.5,
  plannedStartAt: new Date('2026-11-23T05:00:00Z'),
  plannedEndAt: new Date('2026-11-23T06:00:00Z'),
  actualStartAt: new Date('2026-11-23T05:03:20Z'),
  status: 'in_progress',
  totalCount: 130,
  goodCount: 128,
  scrapCount: 2,
  postings: [
    { postedAt: new Date('2026-11-23T05:15:00Z'), totalCount: 61, goodCount: 60, scrapCount: 1 },
    { postedAt: new Date('2026-11-23T05:30:00Z'), totalCount: 69, goodCount: 68, scrapCount: 1 },
  ],
  updatedAt: new Date('2026-11-23T05:30:00Z'),
};

const state: StateRecord = {
  stateId: 'ing-m07-1792890000000',
  facilityId: 'ingolstadt',
  machineId: 'ing-m07',
  state: 'failure',
  reasonCode: 'F-JAM',
  orderId: 'ing-m07-20261025-n01',
  startAt: new Date('2026-10-25T00:40:00Z'),
  endAt: new Date('2026-10-25T01:10:00Z'),
  speedFactor: 0,
  updatedAt: new Date('2026-10-25T01:10:00Z'),
};

const measurement = (i: number): MeasurementRecord => ({
  measurementId: `ing-m07-20261123-e01-q${String(i).padStart(5, '0')}`,
  facilityId: 'ingolstadt',
  machineId: 'ing-m07',
  orderId: 'ing-m07-20261123-e01',
  materialId: 'AUR-10023',
  characteristic: 'seat_depth',
  unit: 'mm',
  nominal: 14,
  lsl: 13.98,
  usl: 14.02,
  value: 14.0213,
  ok: false,
  defectCode: 'SEAT_DEPTH_HIGH',
  measuredAt: new Date(Date.UTC(2026, 10, 23, 5, 0, i)),
  updatedAt: new Date(Date.UTC(2026, 10, 23, 5, 0, i)),
});

/** The model's records as they stand; tests may add to them. */
function source(
  records: { orders?: OrderRecord[]; states?: StateRecord[]; measurements?: MeasurementRecord[] } = {},
) {
  const calls: Date[] = [];
  const data = {
    orders: records.orders ?? [order],
    states: records.states ?? [state],
    measurements: records.measurements ?? [measurement(1), measurement(2), measurement(3)],
  };
  const source: MesDataSource = {
    snapshot(facilityId, asOf, since) {
      calls.push(since);
      const keep = <T extends { facilityId: string; updatedAt: Date }>(list: T[]) =>
        list.filter((r) => r.facilityId === facilityId && r.updatedAt >= since && r.updatedAt <= asOf);
      return {
        orders: keep(data.orders),
        machineStates: keep(data.states),
        qualityMeasurements: keep(data.measurements),
      };
    },
  };
  return { source, calls, data };
}

const standIns: MesStandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

async function standIn(data: MesDataSource = source().source) {
  const s = await startHydraStandIn({
    data,
    clock,
    credentials: { 'mes-hydra-api-key': KEY, accessId: ACCESS_ID },
  });
  standIns.push(s);
  return s;
}

async function get(
  s: MesStandIn,
  path: string,
  headers: Record<string, string> = { 'X-API-Key': KEY, 'X-Access-Id': ACCESS_ID },
) {
  const response = await fetch(`${s.url}${path}`, { headers });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const cursorOf = (body: string) => /<NextCursor>([^<]*)<\/NextCursor>/.exec(body)?.[1];
const countRecords = (body: string) => body.split('<Record>').length - 1;

describe('startHydraStandIn', () => {
  it('serves BOOrder in MIP XML with plant-local times, HYDRA codes and an 8-digit order number', async () => {
    const s = await standIn();
    const r = await get(s, '/mip/api/v1/services/BOOrder?modifiedFrom=2026-11-23T00:00:00Z');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/xml; charset=utf-8');
    expect(r.body).toBe(
      `${DECL}<MipResponse service="BOOrder"><Records><Record><OrderNo>25180711</OrderNo><OperationNo>0010</OperationNo>` +
        '<Workplace>ING-M07</Workplace><ArticleNo>AUR-10023</ArticleNo><QtyPlanned>500</QtyPlanned><QtyGood>128</QtyGood>' +
        '<QtyScrap>2</QtyScrap><Status>AK</Status><TargetCycleTime unit="s">6.5</TargetCycleTime>' +
        '<PlannedStart>2026-11-23T06:00:00+01:00</PlannedStart><PlannedEnd>2026-11-23T07:00:00+01:00</PlannedEnd>' +
        '<ActualStart>2026-11-23T06:03:20+01:00</ActualStart><ActualEnd/>' +
        '<Postings><Posting><PostedAt>2026-11-23T06:15:00+01:00</PostedAt><QtyGood>60</QtyGood><QtyScrap>1</QtyScrap></Posting>' +
        '<Posting><PostedAt>2026-11-23T06:30:00+01:00</PostedAt><QtyGood>68</QtyGood><QtyScrap>1</QtyScrap></Posting></Postings>' +
        '<ModifiedAt>2026-11-23T06:30:00+01:00</ModifiedAt></Record></Records><NextCursor/></MipResponse>',
    );
  });

  it('renders an order without postings yet (released, or just started) as an empty <Postings/>', async () => {
    const released: OrderRecord = {
      ...order,
      status: 'released',
      totalCount: 0,
      goodCount: 0,
      scrapCount: 0,
      postings: [],
      updatedAt: new Date('2026-11-23T03:00:00Z'),
    };
    delete released.actualStartAt;
    const s = await standIn(source({ orders: [released] }).source);
    const r = await get(s, '/mip/api/v1/services/BOOrder?modifiedFrom=2026-11-23T00:00:00Z');
    expect(r.body).toContain(
      '<ActualStart/><ActualEnd/><Postings/><ModifiedAt>2026-11-23T04:00:00+01:00</ModifiedAt>',
    );
  });

  it('serves BOMachineState and BOQualityResult with status codes, German texts and micrometres', async () => {
    const s = await standIn();
    const states = await get(s, '/mip/api/v1/services/BOMachineState?modifiedFrom=2026-10-25T00:00:00Z');
    expect(states.body).toMatch(
      /<Record><StateId>\d{16}<\/StateId><Workplace>ING-M07<\/Workplace><StatusCode>200<\/StatusCode><StatusText>Störung<\/StatusText><ReasonCode>F-JAM<\/ReasonCode><SpeedPct>0<\/SpeedPct><OrderNo>24890731<\/OrderNo><OperationNo>0010<\/OperationNo><Start>2026-10-25T02:40:00\+02:00<\/Start><End>2026-10-25T02:10:00\+01:00<\/End><ModifiedAt>2026-10-25T02:10:00\+01:00<\/ModifiedAt><\/Record>/,
    );
    const results = await get(
      s,
      '/mip/api/v1/services/BOQualityResult?modifiedFrom=2026-11-23T00:00:00Z&limit=1',
    );
    expect(results.body).toMatch(
      /<Record><ResultId>\d{16}<\/ResultId><OrderNo>25180711<\/OrderNo><OperationNo>0010<\/OperationNo><Workplace>ING-M07<\/Workplace><ArticleNo>AUR-10023<\/ArticleNo><Characteristic>seat_depth<\/Characteristic><NominalValue>14000<\/NominalValue><LowerTolerance>-20<\/LowerTolerance><UpperTolerance>20<\/UpperTolerance><MeasuredValue>14021.3<\/MeasuredValue><Unit>µm<\/Unit><Assessment>n.i.O.<\/Assessment><DefectCode>SEAT_DEPTH_HIGH<\/DefectCode><MeasuredAt>2026-11-23T06:00:01\+01:00<\/MeasuredAt><ModifiedAt>2026-11-23T06:00:01\+01:00<\/ModifiedAt><\/Record>/,
    );
  });

  it('serves the same bytes for the same data and clock', async () => {
    const a = await standIn();
    const b = await startHydraStandIn({ data: source().source, clock });
    standIns.push(b);
    for (const service of ['BOOrder', 'BOMachineState', 'BOQualityResult']) {
      const path = `/mip/api/v1/services/${service}?limit=2`;
      const fromA = await get(a, path);
      const fromB = await get(b, path, {
        'X-API-Key': b.credentials['mes-hydra-api-key']!,
        'X-Access-Id': b.credentials['accessId']!,
      });
      expect(fromA.status).toBe(200);
      expect(fromB.body).toBe(fromA.body);
    }
  });

  it('generates credentials unless given: a random API key and an 8-digit access id', async () => {
    const a = await startHydraStandIn({ data: source().source, clock });
    const b = await startHydraStandIn({ data: source().source, clock });
    standIns.push(a, b);
    expect(Object.keys(a.credentials).sort()).toEqual(['accessId', 'mes-hydra-api-key']);
    expect(a.credentials['accessId']).toMatch(/^\d{8}$/);
    expect(a.credentials['mes-hydra-api-key']!.length).toBeGreaterThanOrEqual(32);
    expect(b.credentials['mes-hydra-api-key']).not.toBe(a.credentials['mes-hydra-api-key']);
    expect(a).toMatchObject({ vendor: 'hydra', facilityId: 'ingolstadt' });
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers 401 for a missing or wrong API key and 403 for an unknown access id, with an XML error', async () => {
    const s = await standIn();
    const path = '/mip/api/v1/services/BOOrder';
    expect(await get(s, path, { 'X-Access-Id': ACCESS_ID })).toEqual({
      status: 401,
      type: 'application/xml; charset=utf-8',
      body: `${DECL}<Error code="UNAUTHORIZED" message="API key missing or not valid"/>`,
    });
    expect((await get(s, path, { 'X-API-Key': 'nope', 'X-Access-Id': ACCESS_ID })).status).toBe(401);
    expect(await get(s, path, { 'X-API-Key': KEY, 'X-Access-Id': '00000001' })).toMatchObject({
      status: 403,
      body: `${DECL}<Error code="ACCESS_DENIED" message="access id is not registered for this service"/>`,
    });
    expect((await get(s, path, { 'X-API-Key': KEY })).status).toBe(403);
  });

  it('answers bad parameters with 400, unknown services with 404 and other methods with 405', async () => {
    const s = await standIn();
    const base = '/mip/api/v1/services/BOOrder';
    const bad = async (query: string) => get(s, `${base}?${query}`);
    expect(await bad('modifiedFrom=2026-11-23T00:00:00')).toMatchObject({
      status: 400,
      body: `${DECL}<Error code="INVALID_PARAMETER" message="modifiedFrom must be ISO 8601 with an offset or Z"/>`,
    });
    expect((await bad('modifiedTo=yesterday')).status).toBe(400);
    expect((await bad('modifiedFrom=2026-11-24T00:00:00Z&modifiedTo=2026-11-23T00:00:00Z')).status).toBe(400);
    expect((await bad('limit=0')).status).toBe(400);
    expect((await bad('limit=ten')).status).toBe(400);
    expect(await bad('cursor=not-a-cursor')).toMatchObject({
      status: 400,
      body: `${DECL}<Error code="INVALID_CURSOR" message="cursor is not valid"/>`,
    });
    expect((await get(s, '/mip/api/v1/services/BOPerson')).status).toBe(404);
    expect((await get(s, '/odata/WorkOrder')).status).toBe(404);
    const post = await fetch(`${s.url}${base}`, {
      method: 'POST',
      headers: { 'X-API-Key': KEY, 'X-Access-Id': ACCESS_ID },
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('accepts any ISO 8601 offset in the window and serves [modifiedFrom, modifiedTo)', async () => {
    const s = await standIn();
    const path = (from: string, to: string) =>
      `/mip/api/v1/services/BOMachineState?modifiedFrom=${encodeURIComponent(from)}&modifiedTo=${encodeURIComponent(to)}`;
    // The state was modified at 01:10Z = 02:10 CET, after the clocks went back.
    expect(
      countRecords((await get(s, path('2026-10-25T02:10:00+01:00', '2026-10-25T02:10:01+01:00'))).body),
    ).toBe(1);
    expect(
      countRecords((await get(s, path('2026-10-25T02:10:00+02:00', '2026-10-25T02:10:00+01:00'))).body),
    ).toBe(0);
    expect(countRecords((await get(s, path('2026-10-25T01:10:00Z', '2026-10-25T01:10:00.001Z'))).body)).toBe(
      1,
    );
    expect(countRecords((await get(s, path('2026-10-24T20:10:00-05:00', '2026-10-25T01:11:00Z'))).body)).toBe(
      1,
    );
  });

  it('defaults the limit to 500 and caps it at 1000', async () => {
    const measurements = Array.from({ length: 1200 }, (_, i) => measurement(i));
    const s = await standIn(source({ measurements }).source);
    const base = '/mip/api/v1/services/BOQualityResult?modifiedFrom=2026-11-23T00:00:00Z';
    expect(countRecords((await get(s, base)).body)).toBe(500);
    expect(countRecords((await get(s, `${base}&limit=5000`)).body)).toBe(1000);
    const first = await get(s, `${base}&limit=1000`);
    const rest = await get(s, `${base}&limit=1000&cursor=${cursorOf(first.body)}`);
    expect(countRecords(rest.body)).toBe(200);
    expect(rest.body).toContain('<NextCursor/>');
  });

  it('asks the model only from the window start, or from the retention horizon without one', async () => {
    const { source: data, calls } = source();
    const s = await standIn(data);
    await get(s, '/mip/api/v1/services/BOOrder?modifiedFrom=2026-11-23T06:00:00%2B01:00');
    expect(calls.at(-1)).toEqual(new Date('2026-11-23T05:00:00Z'));
    await get(s, '/mip/api/v1/services/BOOrder');
    expect(calls.at(-1)).toEqual(new Date('2026-08-26T00:00:00Z'));
  });

  it('keeps a cursor valid when records are added before it, and leaves NextCursor out of an empty page', async () => {
    const { source: data, data: records } = source();
    const s = await standIn(data);
    const base = '/mip/api/v1/services/BOQualityResult?modifiedFrom=2026-11-23T00:00:00Z&limit=2';
    const first = await get(s, base);
    expect(countRecords(first.body)).toBe(2);
    const cursor = cursorOf(first.body)!;
    expect(Buffer.from(cursor, 'base64url').toString()).toMatch(/^\[\d+,"\d{16}"\]$/);
    records.measurements.unshift(measurement(0));
    const second = await get(s, `${base}&cursor=${cursor}`);
    expect(second.body).toContain('<MeasuredAt>2026-11-23T06:00:03+01:00</MeasuredAt>');
    expect(countRecords(second.body)).toBe(1);
    expect(second.body.endsWith('</Records><NextCursor/></MipResponse>')).toBe(true);

    const empty = await get(s, '/mip/api/v1/services/BOOrder?modifiedFrom=2026-12-01T00:00:00Z');
    expect(empty.body).toBe(`${DECL}<MipResponse service="BOOrder"><Records/></MipResponse>`);
  });

  it('counts data requests only', async () => {
    const s = await standIn();
    await get(s, '/mip/api/v1/services/BOOrder');
    await get(s, '/mip/api/v1/services/BOOrder', {});
    await get(s, '/nothing');
    expect(s.stats.requests).toBe(2);
  });
});

describe('startHydraStandIn faults', () => {
  const path = '/mip/api/v1/services/BOQualityResult?modifiedFrom=2026-11-23T00:00:00Z&limit=2';

  it('http_500 and unauthorized answer with MIP error bodies, for the named entity only', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'http_500', entity: 'quality_measurements', times: 1 });
    expect((await get(s, '/mip/api/v1/services/BOOrder')).status).toBe(200);
    expect(await get(s, path)).toMatchObject({
      status: 500,
      body: `${DECL}<Error code="INTERNAL_ERROR" message="MIP service call failed"/>`,
    });
    expect((await get(s, path)).status).toBe(200);
    s.faults.inject({ fault: 'unauthorized', times: 1 });
    expect((await get(s, path)).status).toBe(401);
  });

  it('timeout never answers, and close() still finishes', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'timeout' });
    const pending = fetch(`${s.url}${path}`, { headers: { 'X-API-Key': KEY, 'X-Access-Id': ACCESS_ID } });
    const outcome = await Promise.race([
      pending.then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 100)),
    ]);
    expect(outcome).toBe('waiting');
    await s.close();
    await expect(pending).rejects.toThrow();
  });

  it('slow answers after the delay', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'slow', delayMs: 60, times: 1 });
    const started = Date.now();
    expect((await get(s, path)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('truncated declares the full length, sends about half and drops the connection', async () => {
    const s = await standIn();
    const full = (await get(s, path)).body;
    s.faults.inject({ fault: 'truncated', times: 1 });
    const { declared, received, failed } = await new Promise<{
      declared: number;
      received: number;
      failed: boolean;
    }>((resolve) => {
      const req = request(
        `${s.url}${path}`,
        { headers: { 'X-API-Key': KEY, 'X-Access-Id': ACCESS_ID } },
        (res) => {
          let received = 0;
          const declared = Number(res.headers['content-length']);
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
          });
          res.on('end', () => resolve({ declared, received, failed: false }));
          res.on('error', () => resolve({ declared, received, failed: true }));
          res.on('aborted', () => resolve({ declared, received, failed: true }));
        },
      );
      req.end();
    });
    expect(failed).toBe(true);
    expect(declared).toBe(Buffer.byteLength(full));
    expect(received).toBe(Math.floor(declared / 2));
  });

  it('malformed sends XML with unclosed elements', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'malformed', times: 1 });
    const { status, body } = await get(s, path);
    expect(status).toBe(200);
    expect(body.endsWith('<Records><Record><OrderNo>')).toBe(true);
    expect(body).not.toContain('</MipResponse>');
  });

  it('repeat_page points NextCursor back at the page just served', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'repeat_page', times: 2 });
    const first = await get(s, path);
    const again = await get(s, `${path}&cursor=${cursorOf(first.body)}`);
    expect(again.body).toBe(first.body);
    const normal = await get(s, `${path}&cursor=${cursorOf(again.body)}`);
    const second = cursorOf(normal.body);
    expect(second).toBeDefined();
    expect(countRecords(normal.body)).toBe(2);
  });

  it('new_field adds a CostCenter element with an attribute to every record', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'new_field' });
    const { body } = await get(s, path);
    expect(body.split('<CostCenter type="KST">4711</CostCenter></Record>').length - 1).toBe(2);
  });
});

describe('HYDRA renderings', () => {
  it('numbers orders DDDD MM SN from the canonical id, one-to-one', () => {
    expect(hydraOrderNo('ing-m07-20261123-e01')).toBe('25180711');
    expect(hydraOrderNo('ing-m27-20261123-n09')).toBe('25182739');
    expect(hydraOrderNo('ing-m27-20200101-l02')).toBe('00002722');
    expect(hydraOrderNo('something-else')).toMatch(/^9\d{7}$/);
    expect(hydraOrderNo('something-else')).toBe(hydraOrderNo('something-else'));
  });

  it('writes plant-local times with their offset, also across the DST change', () => {
    expect(hydraTime(new Date('2026-10-25T00:30:00Z'))).toBe('2026-10-25T02:30:00+02:00');
    expect(hydraTime(new Date('2026-10-25T01:30:00Z'))).toBe('2026-10-25T02:30:00+01:00');
    expect(hydraTime(new Date('2026-03-29T01:00:00.5Z'))).toBe('2026-03-29T03:00:00.500+02:00');
  });

  it('writes micrometres without binary noise', () => {
    expect(hydraMicrometres(62.0123)).toBe('62012.3');
    expect(hydraMicrometres(0.015)).toBe('15');
    expect(hydraMicrometres(13.98 - 14)).toBe('-20');
    expect(hydraMicrometres(0.00001)).toBe('0.01');
  });

  it('exports the code lists silver maps back', () => {
    expect(HYDRA_ORDER_STATUS).toEqual({ released: 'RL', in_progress: 'AK', completed: 'AB' });
    expect(Object.values(HYDRA_STATUS_CODES)).toEqual([100, 110, 120, 200, 300, 400, 500, 600, 700]);
  });
});
