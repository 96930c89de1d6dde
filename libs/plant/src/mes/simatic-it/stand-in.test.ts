import { ManualClock } from '@aurora/core';
import { afterEach, describe, expect, it } from 'vitest';
import { MACHINE_STATES } from '../records.js';
import { FIXTURE_STATES, simaticFixtureData } from './stand-in.fixture.js';
import {
  SIMATIC_ORDER_STATUS,
  simaticCanonicalState,
  simaticEquipmentState,
  simaticGuid,
  startSimaticStandIn,
} from './stand-in.js';

const CREDENTIALS = {
  clientId: 'aurora-test',
  clientSecret: 's3cret:with+chars',
  username: 'AUG\\svc-aurora',
  password: 'pa ss&word=1',
};
const WINDOW = 'LastUpdatedOn ge 2026-11-23T08:00:00.000Z and LastUpdatedOn lt 2026-11-23T08:15:00.000Z';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function standIn(options: { tokenTtlS?: number; maxPageSize?: number } = {}) {
  const clock = new ManualClock('2026-11-23T09:00:00Z');
  const data = simaticFixtureData();
  const s = await startSimaticStandIn({ data, clock, credentials: CREDENTIALS, ...options });
  close = s.close;
  const token = async (form: Record<string, string>, basic = true) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams(form);
    if (basic) {
      const id = encodeURIComponent(CREDENTIALS.clientId);
      const secret = encodeURIComponent(CREDENTIALS.clientSecret);
      headers['Authorization'] = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    } else {
      body.set('client_id', CREDENTIALS.clientId);
      body.set('client_secret', CREDENTIALS.clientSecret);
    }
    return fetch(`${s.url}/sit-auth/OAuth/Token`, { method: 'POST', headers, body });
  };
  const bearer = async () => {
    const res = await token({ grant_type: 'client_credentials', scope: 'global' });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const get = async (entitySet: string, query: Record<string, string>, accessToken?: string) =>
    fetch(`${s.url}/sit-svc/Application/AppU4DM/odata/${entitySet}?${new URLSearchParams(query)}`, {
      headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {},
    });
  return { s, clock, data, token, bearer, get };
}

describe('startSimaticStandIn', () => {
  it('issues bearer tokens for the password grant with the client in a Basic header', async () => {
    const { s, token } = await standIn();
    const res = await token({
      grant_type: 'password',
      username: CREDENTIALS.username,
      password: CREDENTIALS.password,
      scope: 'global',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'global' });
    expect(body['access_token']).toEqual(expect.any(String));
    expect(s.credentials).toMatchObject({
      'mes-simatic-client-secret': CREDENTIALS.clientSecret,
      'mes-simatic-password': CREDENTIALS.password,
      clientId: CREDENTIALS.clientId,
      username: CREDENTIALS.username,
    });
  });

  it('issues tokens for the client-credentials grant with the client in the form', async () => {
    const { token } = await standIn();
    const res = await token({ grant_type: 'client_credentials' }, false);
    expect(res.status).toBe(200);
  });

  it('answers OAuth errors for a wrong password, a wrong client, a missing or unknown grant', async () => {
    const { token, s } = await standIn();
    const wrongPassword = await token({
      grant_type: 'password',
      username: CREDENTIALS.username,
      password: 'x',
    });
    expect([wrongPassword.status, await wrongPassword.json()]).toMatchObject([
      400,
      { error: 'invalid_grant' },
    ]);
    const missing = await token({});
    expect([missing.status, await missing.json()]).toMatchObject([400, { error: 'invalid_request' }]);
    const unknown = await token({ grant_type: 'implicit' });
    expect([unknown.status, await unknown.json()]).toMatchObject([400, { error: 'unsupported_grant_type' }]);
    const wrongClient = await fetch(`${s.url}/sit-auth/OAuth/Token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'aurora-test',
        client_secret: 'no',
      }),
    });
    expect([wrongClient.status, await wrongClient.json()]).toMatchObject([401, { error: 'invalid_client' }]);
  });

  it('serves work orders in the window, ordered by LastUpdatedOn, with the OData envelope and $count', async () => {
    const { s, bearer, get, data } = await standIn();
    const res = await get(
      'WorkOrder',
      { $filter: WINDOW, $orderby: 'LastUpdatedOn,Id', $count: 'true' },
      await bearer(),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('odata-version')).toBe('4.0');
    const body = (await res.json()) as { value: Record<string, unknown>[] } & Record<string, unknown>;
    expect(body['@odata.context']).toBe(`${s.url}/sit-svc/Application/AppU4DM/odata/$metadata#WorkOrder`);
    expect(body['@odata.count']).toBe(3);
    expect(body['@odata.nextLink']).toBeUndefined();
    expect(body.value.map((r) => r['NId'])).toEqual([
      'WO-AUG-M07-20261123-E02',
      'WO-AUG-M07-20261123-E03',
      'WO-AUG-M09-20261123-E01',
    ]);
    expect(body.value[1]).toEqual({
      Id: simaticGuid('WorkOrder', 'aug-m07-20261123-e03'),
      NId: 'WO-AUG-M07-20261123-E03',
      Name: 'AUR-10012 on AUG-M08',
      Status: { StatusNId: 'Complete' },
      Quantity: 500,
      ProducedQuantity: 500,
      GoodQuantity: 496,
      ScrapQuantity: 4,
      QuantityPostings: expect.any(Array),
      FinalMaterial: { NId: 'AUR-10012', Revision: 'A' },
      PlannedStartTime: '2026-11-23T06:00:00.000Z',
      PlannedEndTime: '2026-11-23T07:00:00.000Z',
      ActualStartTime: '2026-11-23T06:01:00.000Z',
      ActualEndTime: '2026-11-23T08:05:30.250Z',
      Equipment: 'AUG-M08',
      IdealCycleTime: 8,
      Plant: 'AUG',
      LastUpdatedOn: '2026-11-23T08:05:30.250Z',
    });
    // The quantity postings: one per quarter-hour booking and the last at the actual end, deltas in pieces.
    const postings = body.value[1]!['QuantityPostings'] as Record<string, unknown>[];
    expect(postings).toHaveLength(9);
    expect(postings[0]).toEqual({
      PostedOn: '2026-11-23T06:15:00.000Z',
      ProducedQuantity: 60,
      GoodQuantity: 59,
      ScrapQuantity: 1,
    });
    expect(postings.at(-1)).toEqual({
      PostedOn: '2026-11-23T08:05:30.250Z',
      ProducedQuantity: 20,
      GoodQuantity: 19,
      ScrapQuantity: 1,
    });
    const sum = (field: string) => postings.reduce((n, p) => n + (p[field] as number), 0);
    expect([sum('ProducedQuantity'), sum('GoodQuantity'), sum('ScrapQuantity')]).toEqual([500, 496, 4]);
    expect(body.value[0]).toMatchObject({ Status: { StatusNId: 'Active' }, ActualEndTime: null });
    expect(data.calls.at(-1)?.since.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(data.calls.at(-1)?.asOf.toISOString()).toBe('2026-11-23T09:00:00.000Z');
    expect(s.stats.requests).toBe(1);
  });

  it('reads from the retention horizon when the filter has no lower bound', async () => {
    const { bearer, get, data } = await standIn();
    const res = await get(
      'WorkOrder',
      { $filter: 'LastUpdatedOn lt 2026-11-23T08:00:00.000Z' },
      await bearer(),
    );
    const body = (await res.json()) as { value: { NId: string }[] };
    expect(body.value.map((r) => r.NId)).toEqual(['WO-AUG-M07-20261123-E01']);
    expect(data.calls.at(-1)?.since.toISOString()).toBe('2026-11-16T09:00:00.000Z');
  });

  it('caps pages at maxPageSize whatever $top asks and links the next page with $skip advanced', async () => {
    const { bearer, get, s } = await standIn({ maxPageSize: 4 });
    const token = await bearer();
    const first = (await (
      await get('EquipmentState', { $filter: WINDOW, $top: '100', $count: 'true' }, token)
    ).json()) as Record<string, unknown> & { value: unknown[] };
    expect(first.value).toHaveLength(4);
    expect(first['@odata.count']).toBe(9);
    const next = new URL(first['@odata.nextLink'] as string);
    expect(next.origin).toBe(s.url);
    expect(next.searchParams.get('$skip')).toBe('4');
    expect(next.searchParams.get('$top')).toBe('96');
    expect(next.searchParams.get('$filter')).toBe(WINDOW);
    const limited = (await (
      await get('EquipmentState', { $filter: WINDOW, $top: '2' }, token)
    ).json()) as Record<string, unknown> & { value: unknown[] };
    expect(limited.value).toHaveLength(2);
    expect(limited['@odata.nextLink']).toBeUndefined();
    const preferred = await fetch(`${s.url}/sit-svc/Application/AppU4DM/odata/EquipmentState?$skip=8`, {
      headers: { Authorization: `Bearer ${token}`, Prefer: 'odata.maxpagesize=3' },
    });
    expect(preferred.headers.get('preference-applied')).toBe('odata.maxpagesize=3');
    expect(((await preferred.json()) as { value: unknown[] }).value).toHaveLength(1);
  });

  it('renders every canonical machine state as (State, ReasonCode) that maps back exactly', async () => {
    const { bearer, get } = await standIn();
    const body = (await (await get('EquipmentState', { $filter: WINDOW }, await bearer())).json()) as {
      value: Record<string, unknown>[];
    };
    const pairs = body.value.map((r) => [r['State'], r['ReasonCode']]);
    expect(pairs).toEqual([
      ['RUNNING', null],
      ['RUNNING', 'SPEED_LOSS'],
      ['IDLE', 'MICRO_STOP'],
      ['DOWN', 'F-HYDRAULIC'],
      ['SETUP', 'CHANGEOVER'],
      ['DOWN', 'MAINTENANCE/M-LUBRICATION'],
      ['IDLE', 'BREAK'],
      ['IDLE', 'NO_SHIFT'],
      ['IDLE', 'NO_ORDER'],
    ]);
    body.value.forEach((r, i) => {
      const canonical = FIXTURE_STATES[i]!;
      expect(simaticCanonicalState(r['State'] as string, r['ReasonCode'] as string | null)).toEqual({
        state: canonical.state,
        ...(canonical.reasonCode ? { reasonCode: canonical.reasonCode } : {}),
      });
    });
    for (const state of MACHINE_STATES) {
      const { State, ReasonCode } = simaticEquipmentState(state);
      expect(simaticCanonicalState(State, ReasonCode)).toEqual({ state });
    }
    expect(body.value[1]).toMatchObject({
      NId: `AUG-M07-${Date.parse('2026-11-23T08:02:00Z')}`,
      EquipmentNId: 'AUG-M07',
      WorkOrderNId: 'WO-AUG-M07-20261123-E02',
      StartTime: '2026-11-23T08:02:00.000Z',
      EndTime: '2026-11-23T08:02:50.000Z',
      SpeedFactor: 0.8,
    });
    expect(Object.values(SIMATIC_ORDER_STATUS)).toEqual(['Released', 'Active', 'Complete']);
  });

  it('renders quality measurements in mm with OK/NOK and the defect code', async () => {
    const { bearer, get } = await standIn();
    const body = (await (await get('QualityMeasurement', { $filter: WINDOW }, await bearer())).json()) as {
      value: Record<string, unknown>[];
    };
    expect(body.value).toHaveLength(2);
    expect(body.value[1]).toEqual({
      Id: simaticGuid('QualityMeasurement', 'aug-m07-20261123-e02-q00002'),
      NId: 'AUG-M07-20261123-E02-Q00002',
      WorkOrderNId: 'WO-AUG-M07-20261123-E02',
      EquipmentNId: 'AUG-M07',
      MaterialNId: 'AUR-10011',
      CharacteristicNId: 'hole_spacing',
      Value: 48.134,
      UoM: 'mm',
      NominalValue: 48,
      LSL: 47.9,
      USL: 48.1,
      Result: 'NOK',
      DefectCode: 'HOLE_SPACING_HIGH',
      MeasuredOn: '2026-11-23T08:04:00.000Z',
      LastUpdatedOn: '2026-11-23T08:04:00.000Z',
    });
    expect(body.value[0]).toMatchObject({ Result: 'OK', DefectCode: null });
  });

  it('rejects anything but LastUpdatedOn comparisons in $filter, and other $orderby, with 400', async () => {
    const { bearer, get } = await standIn();
    const token = await bearer();
    const queries: Record<string, string>[] = [
      { $filter: "Status eq 'Active'" },
      { $filter: 'LastUpdatedOn ge 2026-11-23T08:00:00.000Z or LastUpdatedOn lt 2026-11-23T09:00:00.000Z' },
      { $filter: 'LastUpdatedOn ge yesterday' },
      { $orderby: 'NId desc' },
      { $top: '-1' },
    ];
    for (const query of queries) {
      const res = await get('WorkOrder', query, token);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('400');
    }
  });

  it('answers 401 with WWW-Authenticate for a missing or expired token', async () => {
    const { bearer, get, clock } = await standIn({ tokenTtlS: 60 });
    const missing = await get('WorkOrder', {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const token = await bearer();
    expect((await get('WorkOrder', {}, token)).status).toBe(200);
    clock.advance(60_000);
    const expired = await get('WorkOrder', {}, token);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { code: string } }).error.code).toBe('401');
  });

  it('gives the same bytes for the same data and clock', async () => {
    const { bearer, get } = await standIn();
    const token = await bearer();
    const a = await (await get('WorkOrder', { $filter: WINDOW }, token)).text();
    const b = await (await get('WorkOrder', { $filter: WINDOW }, token)).text();
    expect(a).toBe(b);
    expect(simaticGuid('WorkOrder', 'x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('closes while a timed-out request is still hanging', async () => {
    const { bearer, get, s } = await standIn();
    const token = await bearer();
    s.faults.inject({ fault: 'timeout' });
    const hanging = get('WorkOrder', {}, token).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    close = undefined;
    expect(await hanging).toBeInstanceOf(Error);
  });
});
