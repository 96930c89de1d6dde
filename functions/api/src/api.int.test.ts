import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildFixtureWarehouse,
  createTokenVerifier,
  DuckDbGoldReader,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  LocalGateway,
  LocalIssuer,
  localKeyPath,
  ROLES,
  type Role,
} from '@aurora/api';
import { createLogger, ManualClock } from '@aurora/core';
import { oeeOf } from '@aurora/plant';
import { LocalHost } from '@aurora/runtime';
import { Validator } from '@seriousme/openapi-schema-validator';
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServices, apiApp, apiOpenApiDocument } from './functions.js';

const FACILITIES = ['augsburg', 'ingolstadt', 'regensburg'] as const;
const MACHINE_OF = { augsburg: 'aug-m01', ingolstadt: 'ing-m01', regensburg: 'reg-m01' } as const;
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
const log = createLogger({ level: 'silent', name: 'test' });
let home: string;
let host: LocalHost;
let issuer: LocalIssuer;
let gateway: LocalGateway;
const alerts = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    facility_id: FACILITIES[(i + offset) % 3]!,
    material_id: `AUR-${String(10_000 + i + offset).padStart(5, '0')}`,
  }));

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'aurora-api-'));
  await buildFixtureWarehouse(join(home, 'warehouse', 'warehouse.duckdb'), { alerts: alerts(250) });
  issuer = await LocalIssuer.open(home, clock);
  gateway = new LocalGateway({ clock, calls: 100_000, periodS: 3600, cacheTtlS: 0 });
  const services: ApiServices = {
    context: {
      gold: new DuckDbGoldReader({ file: join(home, 'warehouse', 'warehouse.duckdb') }),
      clock,
      facilities: FACILITIES,
      sourceStatus: {
        list: async () => [
          {
            source: 'mes-augsburg',
            lastRunRows: 5,
            rowsLandedTotal: 50,
            deadLetteredTotal: 0,
            latestEventAt: '2026-11-23T07:50:00Z',
          },
          {
            source: 'mes-ingolstadt',
            lastRunRows: 5,
            rowsLandedTotal: 50,
            deadLetteredTotal: 0,
            latestEventAt: '2026-11-23T06:00:00Z',
          },
        ],
      },
      knownSources: ['iot', 'mes-augsburg', 'mes-ingolstadt', 'mes-regensburg', 'sap', 'oracle-erp'],
      iotSlaS: 300,
    },
    verify: createTokenVerifier({
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      keys: issuer.keys(),
      clock,
    }),
    log,
    gateway,
    issuer,
  };
  host = new LocalHost({
    apps: [apiApp({ clock, version: 'test', services: async () => services })],
    log,
    port: 0,
    schedule: false,
  });
  await host.start();
});
afterAll(async () => {
  await host?.stop();
  await rm(home, { recursive: true, force: true });
});

const call = async (path: string, init: RequestInit & { token?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(`${host.url}/api${path}`, { ...init, headers });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    headers: res.headers,
    type,
    text,
    body: type.includes('json') ? JSON.parse(text) : text,
  };
};
const token = (role: Role, facility?: string) =>
  issuer.sign({ roles: [role], ...(facility ? { facilities: [facility] } : {}) });
const report = (facility: string, t: string, extra: object = {}) =>
  call('/v1/quality/reports', {
    method: 'POST',
    token: t,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ facility_id: facility, from: '2026-11-22', to: '2026-11-23', ...extra }),
  });

describe('the auth matrix: 4 roles x 3 facilities x own/other facility, real JWTs over loopback', () => {
  for (const role of ROLES) {
    for (const facility of FACILITIES) {
      const other = FACILITIES.find((f) => f !== facility)!;
      it(`${role} restricted to ${facility}`, async () => {
        const t = await token(role, facility);
        expect(
          (await call(`/v1/production/oee/${facility}?from=2026-11-23T00:00:00Z`, { token: t })).status,
        ).toBe(200);
        const denied = await call(`/v1/production/oee/${other}`, { token: t });
        expect(denied.status).toBe(403);
        expect(denied.type).toBe('application/problem+json');
        expect(denied.body.code).toBe('facility.forbidden');
        expect((await call(`/v1/machines/${MACHINE_OF[facility]}/health`, { token: t })).status).toBe(200);
        expect((await call(`/v1/machines/${MACHINE_OF[other]}/health`, { token: t })).status).toBe(403);
        const list = await call('/v1/inventory/alerts?limit=500', { token: t });
        expect(list.status).toBe(200);
        expect(list.body.items.length).toBeGreaterThan(0);
        expect(new Set(list.body.items.map((i: { facility_id: string }) => i.facility_id))).toEqual(
          new Set([facility]),
        );
        expect((await call(`/v1/inventory/alerts?facility_id=${other}`, { token: t })).status).toBe(403);
        const analysis = role !== 'viewer';
        expect((await report(facility, t)).status).toBe(analysis ? 200 : 403);
        expect((await report(other, t)).status).toBe(403);
        const freshness = await call('/v1/freshness', { token: t });
        expect(freshness.status).toBe(role === 'platform-admin' || role === 'data-engineer' ? 200 : 403);
        if (freshness.status === 200) {
          const sources = freshness.body.sources.map((s: { source: string }) => s.source);
          expect(sources).toContain(`mes-${facility}`);
          expect(sources).not.toContain(`mes-${other}`);
        }
      });
    }
  }

  it('a token without a facility claim sees every facility', async () => {
    const t = await token('viewer');
    const list = await call('/v1/inventory/alerts?limit=500', { token: t });
    expect(new Set(list.body.items.map((i: { facility_id: string }) => i.facility_id))).toEqual(
      new Set(FACILITIES),
    );
  });
});

describe('401 for every bad token, with problem details and WWW-Authenticate', () => {
  const payload = { roles: ['Aurora.PlatformAdmin'], sub: 'mallory' };
  const signedWith = async (claims: { iss?: string; aud?: string; exp?: number }) => {
    const jwk = JSON.parse(await readFile(localKeyPath(home), 'utf8')) as JWK;
    const now = Math.floor(clock.now().getTime() / 1000);
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid! })
      .setIssuer(claims.iss ?? LOCAL_ISSUER)
      .setAudience(claims.aud ?? LOCAL_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(claims.exp ?? now + 600)
      .sign(await importJWK(jwk, 'ES256'));
  };
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const cases: [string, () => Promise<string | undefined>, string][] = [
    ['missing', async () => undefined, 'token.missing'],
    ['malformed', async () => 'not-a-jwt', 'token.malformed'],
    ['expired', () => signedWith({ exp: Math.floor(clock.now().getTime() / 1000) - 3600 }), 'token.expired'],
    ['wrong issuer', () => signedWith({ iss: 'https://evil.example' }), 'token.claims'],
    ['wrong audience', () => signedWith({ aud: 'api://other' }), 'token.claims'],
    [
      'signed by another key',
      async () =>
        (await LocalIssuer.open(await mkdtemp(join(tmpdir(), 'aurora-other-')), clock)).sign({
          roles: ['platform-admin'],
        }),
      'token.signature',
    ],
    [
      'alg none',
      async () =>
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...payload, iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, exp: 2e9 })}.`,
      'token.algorithm',
    ],
    [
      'HS256 with the public key as secret',
      async () =>
        new SignJWT(payload)
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(LOCAL_ISSUER)
          .setAudience(LOCAL_AUDIENCE)
          .setExpirationTime(2e9)
          .sign(new TextEncoder().encode(JSON.stringify(issuer.publicJwk))),
      'token.algorithm',
    ],
  ];
  for (const [name, make, code] of cases) {
    it(name, async () => {
      const t = await make();
      const res = await call(
        '/v1/production/oee/augsburg',
        t === undefined
          ? {}
          : { headers: { authorization: t === 'not-a-jwt' ? 'Basic abc' : `Bearer ${t}` } },
      );
      expect(res.status).toBe(401);
      expect(res.type).toBe('application/problem+json');
      expect(res.body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401, code });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    });
  }

  it('health and openapi.json need no token', async () => {
    expect((await call('/v1/health')).status).toBe(200);
    expect((await call('/v1/openapi.json')).status).toBe(200);
  });
});

describe('OEE', () => {
  it('rolls up from summed times and counts, never averaged ratios', async () => {
    const res = await call('/v1/production/oee/augsburg?from=2026-11-23T00:00:00Z&to=2026-11-23T08:00:00Z', {
      token: await token('analyst'),
    });
    expect(res.status).toBe(200);
    const expected = oeeOf({
      plannedTimeS: 9000,
      runTimeS: 7500,
      idealOutputS: 6900,
      totalCount: 1110,
      goodCount: 1085,
    });
    expect(res.body.window.figures).toMatchObject({
      planned_time_s: 9000,
      run_time_s: 7500,
      total_count: 1110,
      good_count: 1085,
      hours: 3,
      is_complete: false,
    });
    expect(res.body.window.figures.oee).toBeCloseTo(expected.oee!, 12);
    const m1 = oeeOf({
      plannedTimeS: 5400,
      runTimeS: 3900,
      idealOutputS: 3300,
      totalCount: 1100,
      goodCount: 1080,
    });
    const m2 = oeeOf({
      plannedTimeS: 3600,
      runTimeS: 3600,
      idealOutputS: 3600,
      totalCount: 10,
      goodCount: 5,
    });
    expect(res.body.machines.map((m: { machine_id: string }) => m.machine_id)).toEqual([
      'aug-m01',
      'aug-m02',
    ]);
    expect(res.body.machines[0].window.oee).toBeCloseTo(m1.oee!, 12);
    // The average of the machines' ratios is a different (wrong) number.
    expect(Math.abs(res.body.window.figures.oee - (m1.oee! + m2.oee!) / 2)).toBeGreaterThan(0.01);
    // 08:00 UTC on Monday 2026-11-23 is 09:00 in Augsburg: the early shift (06:00 local = 05:00 UTC).
    expect(res.body.current_shift).toMatchObject({
      shift: 'early',
      shift_date: '2026-11-23',
      from: '2026-11-23T05:00:00.000Z',
    });
    expect(res.body.current_day).toMatchObject({ day: '2026-11-23', from: '2026-11-22T23:00:00.000Z' });
    expect(res.body.current_day.figures.total_count).toBe(1110);
  });

  it('404 for a facility that does not exist, 400 for a malformed id or window', async () => {
    const t = await token('platform-admin');
    expect((await call('/v1/production/oee/hamburg', { token: t })).status).toBe(404);
    // Routes no function serves, and a wrong method, are answered by the host: problems with a code too.
    expect((await call('/v1/nothing-here', { token: t })).body).toMatchObject({
      status: 404,
      code: 'route.not_found',
    });
    expect((await call('/v1/production/oee/augsburg', { token: t, method: 'DELETE' })).body).toMatchObject({
      status: 405,
      code: 'method.not_allowed',
    });
    expect(
      (
        await call('/v1/production/oee/augsburg?from=2026-11-23T09:00:00Z&to=2026-11-23T08:00:00Z', {
          token: t,
        })
      ).body.code,
    ).toBe('window.invalid');
    expect(
      (await call('/v1/production/oee/augsburg?from=2026-01-01&to=2026-11-23', { token: t })).body.code,
    ).toBe('window.too_long');
  });
});

describe('quality reports, machine health', () => {
  it('defect rates from summed counts, SPC with rule violations and capability, Pareto; CSV on request', async () => {
    const t = await token('analyst');
    const res = await report('augsburg', t);
    expect(res.status).toBe(200);
    expect(res.body.defect_rates.total).toMatchObject({
      total_count: 500,
      scrap_count: 10,
      measured: 50,
      not_ok: 4,
    });
    expect(res.body.defect_rates.total.scrap_rate).toBeCloseTo(10 / 500, 12);
    expect(res.body.pareto).toEqual([
      { defect_code: 'D-SCRATCH', defects: 2, rank: 1, share: 0.5, cumulative_share: 0.5 },
      { defect_code: 'D-DENT', defects: 1, rank: 2, share: 0.25, cumulative_share: 0.75 },
      { defect_code: 'UNSPECIFIED', defects: 1, rank: 3, share: 0.25, cumulative_share: 1 },
    ]);
    expect(res.body.spc).toHaveLength(1);
    expect(res.body.spc[0]).toMatchObject({ violations: 1, capability: { cp: 1.4, cpk: 1.2 } });
    expect(res.body.spc[0].points[3].rules).toEqual([1]);
    const csv = await call('/v1/quality/reports', {
      method: 'POST',
      token: t,
      headers: { 'content-type': 'application/json', accept: 'text/csv' },
      body: JSON.stringify({ facility_id: 'augsburg', from: '2026-11-22', to: '2026-11-23' }),
    });
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.text.split('\n')[0]).toBe(
      'section,day,machine_id,material_id,characteristic,defect_code,subgroup,metric,value',
    );
    expect(csv.text).toContain('pareto,,,,,D-SCRATCH,,defects,2');
  });

  it('a health score from downtime and sensor anomalies, with its components', async () => {
    const res = await call('/v1/machines/aug-m01/health?from=2026-11-23T06:00:00Z&to=2026-11-23T08:00:00Z', {
      token: await token('viewer'),
    });
    expect(res.status).toBe(200);
    // 900 s failure in 3,600 s planned (the break is a planned stop): availability 75; 1 spike and 1
    // flatline in 100 windows: 1 % of the 5 % that scores 0, so 80 each; 0.5 x 75 + 0.25 x 80 + 0.25 x 80.
    expect(res.body.components.availability.score).toBe(75);
    expect(res.body.components.anomalies.score).toBe(80);
    expect(res.body.components.signal.score).toBe(80);
    expect(res.body.score).toBe(78);
    expect(res.body.status).toBe('degraded');
    expect(res.body.downtime).toMatchObject({ planned_time_s: 3600, failure_s: 900 });
    expect(res.body.sensors.map((s: { metric: string }) => s.metric)).toEqual(['temperature', 'vibration']);
    expect(res.body.sensors[0].mean).toBe(30);
    expect((await call('/v1/machines/aug-m99/health', { token: await token('viewer') })).status).toBe(404);
  });
});

describe('hostile input', () => {
  it('refuses oversized, deeply nested, mistyped and unacceptable requests with problems', async () => {
    const t = await token('platform-admin');
    const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      call('/v1/quality/reports', { method: 'POST', token: t, headers, body });
    const big = await post(JSON.stringify({ facility_id: 'augsburg', pad: 'x'.repeat(100_000) }));
    expect(big.status).toBe(413);
    expect(big.type).toBe('application/problem+json');
    expect(big.body.code).toBe('body.too_large');
    // Past 1 MiB the local host refuses before the function runs, with the same problem and code.
    const huge = await post('x'.repeat(2 * 1024 * 1024));
    expect(huge.status).toBe(413);
    expect(huge.type).toBe('application/problem+json');
    expect(huge.body).toMatchObject({ status: 413, title: 'Content Too Large', code: 'body.too_large' });
    const deep = await post(`${'['.repeat(5000)}${']'.repeat(5000)}`);
    expect(deep.status).toBe(400);
    expect(deep.body.code).toBe('body.too_deep');
    expect((await post('{"facility_id":', { 'content-type': 'application/json' })).body.code).toBe(
      'body.malformed',
    );
    expect(
      (await post('facility_id=augsburg', { 'content-type': 'application/x-www-form-urlencoded' })).status,
    ).toBe(415);
    const extra = await post(
      JSON.stringify({ facility_id: 'augsburg', from: '2026-11-22', to: '2026-11-23', admin: true }),
    );
    expect(extra.status).toBe(400);
    expect(extra.body.errors[0]).toMatchObject({ in: 'body', code: 'unrecognized_keys' });
    expect(
      (await call('/v1/production/oee/augsburg', { token: t, headers: { accept: 'application/xml' } }))
        .status,
    ).toBe(406);
  });

  it('keeps SQL and path tricks out of the statements', async () => {
    const t = await token('platform-admin');
    for (const path of [
      `/v1/production/oee/${encodeURIComponent("augsburg' OR '1'='1")}`,
      `/v1/production/oee/${encodeURIComponent('augsburg;DROP TABLE gold.agg_oee_hourly')}`,
      `/v1/machines/${encodeURIComponent('../../etc/passwd')}/health`,
      '/v1/machines/..%2F..%2Fwarehouse/health',
      `/v1/inventory/alerts?material_id=${encodeURIComponent("x' OR '1'='1")}`,
      `/v1/inventory/alerts?fields=${encodeURIComponent('facility_id,(SELECT 1)')}`,
      '/v1/inventory/alerts?limit=1000000',
      '/v1/inventory/alerts?limit=-1',
      '/v1/inventory/alerts?cursor=eyJ2IjoxfQ',
      '/v1/inventory/alerts?cursor=not%20base64!',
      '/v1/inventory/alerts?sort=1;--',
      '/v1/inventory/alerts?limit=1&limit=2',
    ]) {
      const res = await call(path, { token: t });
      expect(res.status, path).toBe(400);
      expect(res.type, path).toBe('application/problem+json');
    }
    // The table is still there and whole.
    const ok = await call('/v1/production/oee/augsburg?from=2026-11-23', { token: t });
    expect(ok.body.window.figures.hours).toBe(3);
  });
});

describe('pagination', () => {
  it('pages by key, and a new warehouse between pages neither repeats nor skips surviving rows', async () => {
    const t = await token('data-engineer');
    const first = await call('/v1/inventory/alerts?limit=100&fields=facility_id,material_id', { token: t });
    expect(first.body.items).toHaveLength(100);
    expect(Object.keys(first.body.items[0])).toEqual(['facility_id', 'material_id']);
    const lastKey = first.body.items.at(-1);
    // A new run lands meanwhile: 60 new alerts (keys on both sides of the cursor), 20 old ones resolved.
    const next = [...alerts(250).slice(20), ...alerts(60, 1000)];
    await buildFixtureWarehouse(join(home, 'warehouse', 'warehouse.duckdb'), { alerts: next });
    const seen = [...first.body.items];
    let cursor = first.body.next_cursor as string | null;
    while (cursor) {
      const page = await call(
        `/v1/inventory/alerts?limit=100&fields=facility_id,material_id&cursor=${cursor}`,
        { token: t },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.next_cursor;
    }
    const keys = seen.map(
      (i: { facility_id: string; material_id: string }) => `${i.facility_id}/${i.material_id}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
    const after = (k: string) => k > `${lastKey.facility_id}/${lastKey.material_id}`;
    const expectedAfter = next
      .map((a) => `${a.facility_id}/${a.material_id}`)
      .filter(after)
      .sort();
    expect(keys.slice(100)).toEqual(expectedAfter);
    await buildFixtureWarehouse(join(home, 'warehouse', 'warehouse.duckdb'), { alerts: alerts(250) });
  });
});

describe('the gateway: rate limit and GET cache as API Management applies them', () => {
  it('answers 429 with Retry-After after the calls of the hour, per subscription key', async () => {
    const limited = new LocalGateway({ clock, calls: 3, periodS: 3600, cacheTtlS: 0 });
    const backend = async () => ({ status: 200, headers: {}, body: '{}' });
    const req = (key: string) => ({
      method: 'GET',
      url: 'http://x/api/v1/health',
      headers: new Headers({ 'ocp-apim-subscription-key': key }),
      params: {},
      query: new URLSearchParams(),
      arrayBuffer: async () => new ArrayBuffer(0),
    });
    for (let i = 0; i < 3; i++) expect((await limited.handle(req('a'), backend)).status).toBe(200);
    const refused = await limited.handle(req('a'), backend);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('3600');
    expect(JSON.parse(refused.body)).toMatchObject({ status: 429, code: 'rate_limit.exceeded' });
    expect((await limited.handle(req('b'), backend)).status).toBe(200);
    clock.advance(3600_000);
    expect((await limited.handle(req('a'), backend)).status).toBe(200);
    clock.advance(-3600_000);
  });

  it('serves a repeated GET from the cache for 5 minutes, per Authorization', async () => {
    const cached = new LocalGateway({ clock });
    let calls = 0;
    const backend = async () => ({ status: 200, headers: {}, body: String(++calls) });
    const req = (auth: string, query = '') => ({
      method: 'GET',
      url: `http://x/api/v1/inventory/alerts${query}`,
      headers: new Headers({ authorization: auth }),
      params: {},
      query: new URLSearchParams(query),
      arrayBuffer: async () => new ArrayBuffer(0),
    });
    expect((await cached.handle(req('Bearer a'), backend)).body).toBe('1');
    expect((await cached.handle(req('Bearer a'), backend)).headers['x-cache']).toBe('HIT');
    expect((await cached.handle(req('Bearer b'), backend)).body).toBe('2');
    expect((await cached.handle(req('Bearer a', '?unlisted=1'), backend)).body).toBe('3');
    clock.advance(301_000);
    expect((await cached.handle(req('Bearer a'), backend)).body).toBe('4');
    clock.advance(-301_000);
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1, generated from the schemas, and the one in functions/api/openapi.json', async () => {
    const served = await call('/v1/openapi.json');
    const validator = new Validator();
    const result = await validator.validate(served.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(Object.keys(served.body.paths).sort()).toEqual([
      '/customers',
      '/freshness',
      '/health',
      '/inventory/alerts',
      '/machines/{machine_id}/health',
      '/openapi.json',
      '/privacy/certificates/verify',
      '/privacy/requests',
      '/privacy/requests/{id}/certificate',
      '/production/oee/{facility_id}',
      '/quality/reports',
    ]);
    expect(served.body.components.schemas.OeeFigures.required).toContain('oee');
    // A data-subject request is recorded: 201, Platform Admin only.
    const createRequest = served.body.paths['/privacy/requests'].post;
    expect(Object.keys(createRequest.responses)).toContain('201');
    expect(Object.keys(createRequest.responses)).not.toContain('200');
    expect(createRequest.description).toMatch(/Roles: Platform Admin\.$/);
    expect(served.body.components.schemas.PrivacyRequestBody.properties.subject.pattern).toBeDefined();
    const committed = JSON.parse(await readFile(new URL('../openapi.json', import.meta.url), 'utf8'));
    expect(
      committed,
      'functions/api/openapi.json is stale: run `pnpm --filter @aurora/functions-api openapi`',
    ).toEqual(apiOpenApiDocument('1.0.0'));
  });
});
