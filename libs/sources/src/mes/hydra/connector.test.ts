import {
  ManualClock,
  type SecretProvider,
  SourceDataError,
  SourceUnavailableError,
  staticSecrets,
} from '@aurora/core';
import { type MeasurementRecord, type MesStandIn, startHydraStandIn } from '@aurora/plant';
import { afterEach, describe, expect, it } from 'vitest';
import type { MesEntity, MesPage, MesWindow } from '../connector.js';
import { bronzeRows } from '../run-mes-ingestion.js';
import { createHydraConnector, type HydraConnectorOptions, parseHydraTime } from './connector.js';
import { fixtureMeasurements, fixtureSource } from './hydra.fixture.js';

const API_KEY = 'test-key-9f3c1d0e7a';
const ACCESS_ID = '00123456';
const clock = new ManualClock('2026-11-24T00:00:00Z');
const november: MesWindow = { from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-24T00:00:00Z') };
const dstNight: MesWindow = { from: new Date('2026-10-24T22:00:00Z'), to: new Date('2026-10-25T06:00:00Z') };

const standIns: MesStandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.close()));
});

async function standIn(data = fixtureSource()) {
  const s = await startHydraStandIn({
    data,
    clock,
    credentials: { 'mes-hydra-api-key': API_KEY, accessId: ACCESS_ID },
  });
  standIns.push(s);
  return s;
}

const connectorFor = (s: MesStandIn, options: Partial<HydraConnectorOptions> = {}) =>
  createHydraConnector({
    baseUrl: s.url,
    secrets: staticSecrets(s.credentials),
    clock,
    accessId: ACCESS_ID,
    timeoutMs: 2_000,
    ...options,
  });

async function pagesOf(
  s: MesStandIn,
  entity: MesEntity,
  window: MesWindow,
  options: Partial<HydraConnectorOptions> = {},
  signal?: AbortSignal,
): Promise<MesPage[]> {
  const pages: MesPage[] = [];
  for await (const page of connectorFor(s, options).fetch(entity, window, signal ? { signal } : {}))
    pages.push(page);
  return pages;
}

const recordsOf = async (...args: Parameters<typeof pagesOf>) =>
  (await pagesOf(...args)).flatMap((p) => p.records);

async function failure(promise: Promise<unknown>): Promise<Error & { details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { details?: Record<string, unknown> };
  }
  throw new Error('expected a failure');
}

describe('createHydraConnector', () => {
  it('lands every BOOrder element as a text field, attributes as Element@attr and empty elements as ""', async () => {
    const records = await recordsOf(await standIn(), 'production_orders', november);

    expect(records.map((r) => r.key)).toEqual(['25180711/0010', '25180312/0010', '25181221/0010']);
    expect(records[0]).toEqual({
      key: '25180711/0010',
      modifiedAt: new Date('2026-11-23T06:10:00Z'),
      fields: {
        OrderNo: '25180711',
        OperationNo: '0010',
        Workplace: 'ING-M07',
        ArticleNo: 'AUR-10023',
        QtyPlanned: '500',
        QtyGood: '488',
        QtyScrap: '12',
        Status: 'AB',
        TargetCycleTime: '6.5',
        'TargetCycleTime@unit': 's',
        PlannedStart: '2026-11-23T06:00:00+01:00',
        PlannedEnd: '2026-11-23T07:00:00+01:00',
        ActualStart: '2026-11-23T06:03:20+01:00',
        ActualEnd: '2026-11-23T07:10:00+01:00',
        Postings:
          '[{"PostedAt":"2026-11-23T06:15:00+01:00","QtyGood":"105","QtyScrap":"3"},' +
          '{"PostedAt":"2026-11-23T06:30:00+01:00","QtyGood":"136","QtyScrap":"2"},' +
          '{"PostedAt":"2026-11-23T06:45:00+01:00","QtyGood":"135","QtyScrap":"4"},' +
          '{"PostedAt":"2026-11-23T07:00:00+01:00","QtyGood":"80","QtyScrap":"2"},' +
          '{"PostedAt":"2026-11-23T07:10:00+01:00","QtyGood":"32","QtyScrap":"1"}]',
        ModifiedAt: '2026-11-23T07:10:00+01:00',
      },
    });
    expect(records[1]?.fields).toMatchObject({
      Status: 'AK',
      ActualEnd: '',
      ModifiedAt: '2026-11-23T08:30:00.250+01:00',
    });
    expect(records[1]?.modifiedAt).toEqual(new Date('2026-11-23T07:30:00.250Z'));
    expect(records[2]?.fields).toMatchObject({ Status: 'RL', ActualStart: '', ActualEnd: '', QtyGood: '0' });
  });

  it('lands the quantity postings as one bronze column of JSON array text: none, one or many', async () => {
    const records = await recordsOf(await standIn(), 'production_orders', november);
    const { schema, rows } = bronzeRows(records, {
      source: 'mes-ingolstadt',
      extractedAt: new Date('2026-11-24T00:00:00Z'),
      batchId: 'b1',
    });
    expect(schema.filter((c) => c.name.startsWith('Posting'))).toEqual([
      { name: 'Postings', type: 'VARCHAR' },
    ]);
    const postings = rows.map((r) => JSON.parse(r['Postings'] as string) as Record<string, string>[]);
    expect(postings.map((p) => p.length)).toEqual([5, 1, 0]);
    expect(rows[1]!['Postings']).toBe(
      '[{"PostedAt":"2026-11-23T08:30:00.250+01:00","QtyGood":"6","QtyScrap":"1"}]',
    );
    // Good and scrap of the postings add up to the order's booked quantities.
    rows.forEach((row, i) => {
      const sum = (f: string) => postings[i]!.reduce((n, p) => n + Number(p[f]), 0);
      expect([sum('QtyGood'), sum('QtyScrap')]).toEqual([Number(row['QtyGood']), Number(row['QtyScrap'])]);
    });
  });

  it('lands machine states with MPDV status codes and German texts, results in micrometres', async () => {
    const s = await standIn();
    const states = await recordsOf(s, 'machine_states', dstNight);
    const failure = states.find((r) => r.fields['StatusCode'] === '200');
    expect(failure?.fields).toEqual({
      StateId: failure?.key,
      Workplace: 'ING-M07',
      StatusCode: '200',
      StatusText: 'Störung',
      ReasonCode: 'F-HYDRAULIC',
      SpeedPct: '0',
      OrderNo: '24890731',
      OperationNo: '0010',
      Start: '2026-10-25T02:30:00+02:00',
      End: '2026-10-25T02:00:00+01:00',
      ModifiedAt: '2026-10-25T02:00:00+01:00',
    });
    expect(failure?.key).toMatch(/^\d{16}$/);
    expect(states.map((r) => [r.fields['StatusCode'], r.fields['SpeedPct']])).toEqual([
      ['500', ''],
      ['100', '100'],
      ['120', '0'],
      ['200', '0'],
      ['110', '55'],
      ['300', '0'],
      ['700', ''],
    ]);
    expect(states.at(-1)?.fields['End']).toBe('');

    const results = await recordsOf(s, 'quality_measurements', november);
    expect(results[1]?.fields).toMatchObject({
      OrderNo: '25180312',
      Workplace: 'ING-M03',
      Characteristic: 'outer_diameter',
      NominalValue: '25000',
      LowerTolerance: '-10',
      UpperTolerance: '10',
      MeasuredValue: '25012.3',
      Unit: 'µm',
      Assessment: 'n.i.O.',
      DefectCode: 'OUTER_DIAMETER_HIGH',
      MeasuredAt: '2026-11-23T08:00:00+01:00',
      ModifiedAt: '2026-11-23T08:00:05+01:00',
    });
    expect(results[0]?.fields).toMatchObject({
      Assessment: 'i.O.',
      DefectCode: '',
      MeasuredValue: '25003.1',
    });
  });

  it('keeps unicode and the characters XML escapes exactly', async () => {
    const results = await recordsOf(await standIn(), 'quality_measurements', november);
    expect(results.map((r) => r.fields['Characteristic'])).toContain(fixtureMeasurements[2]?.characteristic);
    expect(fixtureMeasurements[2]?.characteristic).toBe('Rundheit Ø <0,01> & "A"\'s ≤ 5 µm 🙂');
  });

  it('sends the window in UTC and the credentials only in headers', async () => {
    const [page] = await pagesOf(await standIn(), 'production_orders', november, { pageSize: 2 });
    expect(page?.request.startsWith('GET http://127.0.0.1:')).toBe(true);
    const url = new URL(page!.request.slice(4));
    expect(url.pathname).toBe('/mip/api/v1/services/BOOrder');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      modifiedFrom: '2026-11-23T00:00:00.000Z',
      modifiedTo: '2026-11-24T00:00:00.000Z',
      limit: '2',
    });
    expect(page?.request).not.toContain(API_KEY);
  });

  it('follows the cursor to the end: one record per page, the last page carrying an empty NextCursor', async () => {
    const s = await standIn();
    const pages = await pagesOf(s, 'quality_measurements', november, { pageSize: 1 });
    expect(pages.map((p) => p.records.length)).toEqual([1, 1, 1, 1]);
    expect(s.stats.requests).toBe(4);
    expect(new URL(pages[0]!.request.slice(4)).searchParams.get('cursor')).toBeNull();
    expect(new URL(pages[3]!.request.slice(4)).searchParams.get('cursor')).toMatch(/^[A-Za-z0-9_-]+$/);
    // Ordered by (ModifiedAt, key): the two results modified at 07:00:05Z come in key order.
    const keys = pages.flatMap((p) => p.records.map((r) => r.key));
    expect(keys.slice(1, 3)).toEqual([...keys.slice(1, 3)].sort());
    expect(pages.flatMap((p) => p.records.map((r) => r.modifiedAt.toISOString()))).toEqual([
      '2026-11-23T06:30:05.000Z',
      '2026-11-23T07:00:05.000Z',
      '2026-11-23T07:00:05.000Z',
      '2026-11-23T07:30:05.000Z',
    ]);

    const byThree = await pagesOf(s, 'quality_measurements', november, { pageSize: 3 });
    expect(byThree.map((p) => p.records.length)).toEqual([3, 1]);
    expect(byThree.flatMap((p) => p.records.map((r) => r.key))).toEqual(keys);
  });

  it('ends a listing whose response has no NextCursor element (no records in the window)', async () => {
    const s = await standIn();
    const window = { from: new Date('2026-11-25T00:00:00Z'), to: new Date('2026-11-26T00:00:00Z') };
    const pages = await pagesOf(s, 'production_orders', window);
    expect(pages.map((p) => p.records)).toEqual([[]]);
    expect(s.stats.requests).toBe(1);
  });

  it('gets at most 1000 records per page when asking for more', async () => {
    const many: MeasurementRecord[] = Array.from({ length: 1005 }, (_, i) => ({
      ...fixtureMeasurements[0]!,
      measurementId: `ing-m03-20261123-e02-q${String(i).padStart(5, '0')}`,
      updatedAt: new Date(Date.UTC(2026, 10, 23, 6, 0, i)),
    }));
    const s = await standIn(fixtureSource({ qualityMeasurements: many }));
    const pages = await pagesOf(s, 'quality_measurements', november, { pageSize: 5000 });
    expect(pages.map((p) => p.records.length)).toEqual([1000, 5]);
    expect(new URL(pages[0]!.request.slice(4)).searchParams.get('limit')).toBe('5000');
    expect(new Set(pages.flatMap((p) => p.records.map((r) => r.key))).size).toBe(1005);
  });

  it('returns only records modified in [from, to) when the window spans the end of summer time', async () => {
    const data = fixtureSource();
    const s = await standIn(data);
    // 02:30 CEST (00:30Z) to 02:30 CET (01:30Z): the same wall-clock time twice, an hour apart.
    const window = {
      from: new Date(parseHydraTime('2026-10-25T02:30:00+02:00')!),
      to: new Date(parseHydraTime('2026-10-25T02:30:00+01:00')!),
    };
    expect(window.to.getTime() - window.from.getTime()).toBe(3_600_000);
    const records = await recordsOf(s, 'machine_states', window);
    expect(records.map((r) => [r.fields['ModifiedAt'], r.modifiedAt.toISOString()])).toEqual([
      ['2026-10-25T02:30:00+02:00', '2026-10-25T00:30:00.000Z'],
      ['2026-10-25T02:00:00+01:00', '2026-10-25T01:00:00.000Z'],
    ]);
    // The stand-in asked the model only for what the window can hold.
    expect(data.calls.at(-1)?.since).toEqual(window.from);

    const night = await recordsOf(s, 'machine_states', dstNight);
    expect(night.map((r) => r.fields['ModifiedAt'])).toEqual([
      '2026-10-25T02:00:00+02:00',
      '2026-10-25T02:29:59.999+02:00',
      '2026-10-25T02:30:00+02:00',
      '2026-10-25T02:00:00+01:00',
      '2026-10-25T02:30:00+01:00',
      '2026-10-25T03:00:00+01:00',
      '2026-10-25T04:30:00+01:00',
    ]);
    expect(night.map((r) => r.modifiedAt.toISOString())).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:29:59.999Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T03:30:00.000Z',
    ]);
  });

  it('fails with SourceUnavailableError naming the secret when the API key is wrong (401)', async () => {
    const s = await standIn();
    const error = await failure(
      pagesOf(s, 'production_orders', november, {
        secrets: staticSecrets({ 'mes-hydra-api-key': 'wrong-key-123' }),
      }),
    );
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('401 UNAUTHORIZED');
    expect(error.message).toContain('check secret mes-hydra-api-key');
    expect(error.details).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('wrong-key-123');
  });

  it('fails with SourceUnavailableError naming the access id when it is not registered (403)', async () => {
    const s = await standIn();
    const error = await failure(pagesOf(s, 'production_orders', november, { accessId: '00999999' }));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('refused access id 00999999 (403 ACCESS_DENIED');
    expect(error.details).toMatchObject({ status: 403, code: 'ACCESS_DENIED' });
  });

  it('reads the API key for every request, so a rotated key is used at once', async () => {
    const s = await standIn();
    let current = 'old-key';
    const secrets: SecretProvider = { get: async () => current };
    const connector = connectorFor(s, { secrets });
    const first = connector.fetch('production_orders', november)[Symbol.asyncIterator]();
    await expect(first.next()).rejects.toBeInstanceOf(SourceUnavailableError);
    current = API_KEY;
    const second = connector.fetch('production_orders', november)[Symbol.asyncIterator]();
    expect((await second.next()).value?.records).toHaveLength(3);
  });

  it('reports an unreachable MIP as SourceUnavailableError', async () => {
    const s = await standIn();
    await s.close();
    const error = await failure(pagesOf(s, 'production_orders', november));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('request failed');
    expect(error.details).toMatchObject({ status: null });
  });

  it('passes a caller abort through instead of reporting the source', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'timeout' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 30);
    const error = await failure(pagesOf(s, 'production_orders', november, {}, controller.signal));
    expect(error.message).toBe('shutting down');
    expect(error).not.toBeInstanceOf(SourceUnavailableError);
  });

  it('yields the same records from the same data and clock', async () => {
    const a = await recordsOf(await standIn(), 'machine_states', dstNight, { pageSize: 2 });
    const b = await recordsOf(await standIn(), 'machine_states', dstNight, { pageSize: 2 });
    expect(a).toHaveLength(7);
    expect(b).toEqual(a);
  });
});

describe('createHydraConnector under faults', () => {
  it('http_500: SourceUnavailableError with the MIP error code', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'http_500', entity: 'production_orders' });
    const error = await failure(pagesOf(s, 'production_orders', november));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('unavailable (500 INTERNAL_ERROR');
    expect(error.details).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(await recordsOf(s, 'machine_states', dstNight)).toHaveLength(7);
  });

  it('unauthorized: SourceUnavailableError although the key is right', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'unauthorized', times: 1 });
    const error = await failure(pagesOf(s, 'production_orders', november));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.details).toMatchObject({ status: 401 });
    expect(await recordsOf(s, 'production_orders', november)).toHaveLength(3);
  });

  it('timeout: SourceUnavailableError after the connector timeout', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'timeout' });
    const started = Date.now();
    const error = await failure(pagesOf(s, 'production_orders', november, { timeoutMs: 200 }));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('did not answer within 200 ms');
    expect(error.details).toMatchObject({ status: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('slow: answers within the timeout are delivered, later ones are SourceUnavailableError', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'slow', delayMs: 50, times: 1 });
    const started = Date.now();
    expect(await recordsOf(s, 'production_orders', november, { timeoutMs: 500 })).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);

    s.faults.inject({ fault: 'slow', delayMs: 400, times: 1 });
    const error = await failure(pagesOf(s, 'production_orders', november, { timeoutMs: 150 }));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.message).toContain('did not answer within 150 ms');
  });

  it('truncated: SourceDataError holding the part of the body that arrived', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'truncated', times: 1 });
    const error = await failure(pagesOf(s, 'production_orders', november));
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toContain('incomplete');
    const body = String(error.details?.['body']);
    expect(body.startsWith('<?xml version="1.0" encoding="UTF-8"?><MipResponse service="BOOrder">')).toBe(
      true,
    );
    expect(body).not.toContain('</MipResponse>');
    expect(error.details).toMatchObject({ status: 200 });
  });

  it('malformed: SourceDataError for XML that is not well-formed', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'malformed', times: 1 });
    const error = await failure(pagesOf(s, 'production_orders', november));
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toContain('not well-formed XML');
    expect(String(error.details?.['body'])).toContain('<Records><Record><OrderNo>');
  });

  it('repeat_page: the repeated page is yielded again and the listing still ends', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'repeat_page', times: 1 });
    const pages = await pagesOf(s, 'quality_measurements', november, { pageSize: 2 });
    const keys = pages.map((p) => p.records.map((r) => r.key));
    expect(keys).toHaveLength(3);
    expect(keys[1]).toEqual(keys[0]);
    expect(new Set(keys.flat()).size).toBe(4);
  });

  it('repeat_page forever: SourceDataError once the same cursor was served three times', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'repeat_page' });
    const error = await failure(pagesOf(s, 'quality_measurements', november, { pageSize: 2 }));
    expect(error).toBeInstanceOf(SourceDataError);
    expect(error.message).toMatch(/paging loops: cursor \S+ was served 3 times/);
    expect(s.stats.requests).toBe(4);
  });

  it('new_field: the unknown element and its attribute are landed with the known fields', async () => {
    const s = await standIn();
    s.faults.inject({ fault: 'new_field' });
    const records = await recordsOf(s, 'machine_states', dstNight);
    expect(records).toHaveLength(7);
    for (const r of records) {
      expect(r.fields['CostCenter']).toBe('4711');
      expect(r.fields['CostCenter@type']).toBe('KST');
      expect(Object.keys(r.fields)).toHaveLength(13);
    }
  });
});

describe('parseHydraTime', () => {
  it('reads offsets, Z and fractions into UTC', () => {
    expect(parseHydraTime('2026-10-25T02:30:00+02:00')?.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(parseHydraTime('2026-10-25T02:30:00+01:00')?.toISOString()).toBe('2026-10-25T01:30:00.000Z');
    expect(parseHydraTime('2026-11-23T08:30:00.25+01:00')?.toISOString()).toBe('2026-11-23T07:30:00.250Z');
    expect(parseHydraTime('2026-11-23T07:30:00Z')?.toISOString()).toBe('2026-11-23T07:30:00.000Z');
    expect(parseHydraTime('2026-11-23T07:30:00-05:30')?.toISOString()).toBe('2026-11-23T13:00:00.000Z');
  });

  it('refuses times without offset and impossible dates instead of guessing', () => {
    for (const bad of [
      '2026-10-25T02:30:00',
      '2026-10-25 02:30:00+01:00',
      '2026-02-30T00:00:00Z',
      '2026-10-25T24:00:00Z',
      '2026-10-25T02:30:00+15:00',
      '25.10.2026 02:30',
      '',
    ]) {
      expect(parseHydraTime(bad), bad).toBeUndefined();
    }
  });
});
