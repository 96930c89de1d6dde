import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
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
} from '@aurora/api';
import { createLogger, systemClock } from '@aurora/core';
import { apiApp } from '@aurora/functions-api/functions';
import { LocalHost } from '@aurora/runtime';
import autocannon from 'autocannon';
import type { BenchRow } from './table.js';

export const CONNECTIONS = 64;
/** The OEE request every API row measures: an 8-hour window of the fixture warehouse's plant day. */
export const OEE_REQUEST =
  '/api/v1/production/oee/augsburg?from=2026-11-23T00:00:00Z&to=2026-11-23T08:00:00Z';

async function load(
  url: string,
  headers: Record<string, string>,
  durationS: number,
  path?: (n: number) => string,
) {
  let n = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: durationS,
    headers,
    ...(path ? { requests: [{ setupRequest: (req) => ({ ...req, path: path(n++) }) }] } : {}),
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return {
    rps: result.requests.average,
    p95: result.latency.p97_5 ?? 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/**
 * GET /api/v1/production/oee/{facility} at 64 concurrent connections through the local host, beside a bare
 * node:http server answering a fixed JSON in the same run: with the gateway's cache off, every request
 * runs the function (token check, validation, the OEE answer memoized while the warehouse file is the
 * same, response); then with every request a different window, so each one computes from DuckDB (one
 * parameterised statement, the roll-up, the response schema check); then behind the gateway's GET cache.
 * autocannon reports p97.5, the nearest percentile it has above P95.
 */
export async function benchApi(
  durationS = Number(process.env['BENCH_API_SECONDS'] ?? 10),
): Promise<BenchRow[]> {
  const log = createLogger({ level: 'silent', name: 'bench' });
  const home = await mkdtemp(join(tmpdir(), 'aurora-bench-api-'));
  const file = join(home, 'warehouse', 'warehouse.duckdb');
  await buildFixtureWarehouse(file, { alerts: [] });
  const issuer = await LocalIssuer.open(home, systemClock);
  const gold = new DuckDbGoldReader({ file });
  const app = (cacheTtlS: number) =>
    apiApp({
      clock: systemClock,
      version: 'bench',
      services: async () => ({
        context: {
          gold,
          clock: systemClock,
          facilities: ['augsburg', 'ingolstadt', 'regensburg'],
          sourceStatus: { list: async () => [] },
          knownSources: [],
          iotSlaS: 300,
        },
        verify: createTokenVerifier({
          issuer: LOCAL_ISSUER,
          audience: LOCAL_AUDIENCE,
          keys: issuer.keys(),
          clock: systemClock,
        }),
        log,
        gateway: new LocalGateway({ clock: systemClock, calls: 10_000_000, cacheTtlS }),
      }),
    });
  const host = new LocalHost({ apps: [app(0)], log, port: 0, schedule: false });
  await host.start();
  const fixed = JSON.stringify({ facility_id: 'augsburg', oee: 0.6486 });
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(fixed);
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const barePort = (bare.address() as { port: number }).port;
  try {
    const token = await issuer.sign({ roles: ['analyst'], expiresInS: 3600 });
    const url = `${host.url}${OEE_REQUEST}`;
    await load(url, { authorization: `Bearer ${token}` }, 2); // warm-up
    const reference = await load(`http://127.0.0.1:${barePort}/`, {}, durationS);
    const api = await load(url, { authorization: `Bearer ${token}` }, durationS);
    // 8-hour windows ending on successive minutes of a month: no two requests within the memo's reach.
    const path = new URL(url).pathname;
    const end = Date.parse('2026-11-23T08:00:00Z');
    const distinct = await load(url, { authorization: `Bearer ${token}` }, durationS, (n) => {
      const to = end - (n % 40_000) * 60_000;
      return `${path}?from=${new Date(to - 8 * 3_600_000).toISOString()}&to=${new Date(to).toISOString()}`;
    });
    const cachedHost = new LocalHost({ apps: [app(300)], log, port: 0, schedule: false });
    await cachedHost.start();
    const withCache = await load(
      url.replace(host.url, cachedHost.url),
      { authorization: `Bearer ${token}` },
      durationS,
    );
    await cachedHost.stop();
    return [
      {
        name: 'api: bare node:http, fixed JSON, 64 connections',
        value: reference.rps,
        unit: 'req/s',
        ratio: 1,
        note: `p97.5 ${reference.p95} ms`,
      },
      {
        name: 'api: GET production/oee (JWT, zod, answer memoized per warehouse file), gateway cache off, 64 connections',
        value: api.rps,
        unit: 'req/s',
        ratio: api.rps / reference.rps,
        note: `p50 ${api.p50} ms, p97.5 ${api.p95} ms, p99 ${api.p99} ms; every request runs the function; target P95 < 50 ms: ${api.p95 < 50 ? 'met' : '**not met**'}`,
      },
      {
        name: 'api: the same, every request another window (computed from DuckDB), 64 connections',
        value: distinct.rps,
        unit: 'req/s',
        ratio: distinct.rps / reference.rps,
        note: `p50 ${distinct.p50} ms, p97.5 ${distinct.p95} ms, p99 ${distinct.p99} ms; target P95 < 50 ms: ${distinct.p95 < 50 ? 'met' : '**not met**'}`,
      },
      {
        name: 'api: the same behind the gateway cache (APIM 5-minute GET cache), 64 connections',
        value: withCache.rps,
        unit: 'req/s',
        ratio: withCache.rps / reference.rps,
        note: `p50 ${withCache.p50} ms, p97.5 ${withCache.p95} ms, p99 ${withCache.p99} ms; target P95 < 50 ms: ${withCache.p95 < 50 ? 'met' : '**not met**'}`,
      },
    ];
  } finally {
    await host.stop();
    await new Promise((resolve) => bare.close(resolve));
    await gold.close();
    await rm(home, { recursive: true, force: true });
  }
}
