import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
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
import { createLogger, ManualClock } from '@aurora/core';
import { type ApiServices, apiApp } from '@aurora/functions-api/functions';
import { LocalHost } from '@aurora/runtime';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSentinel,
  type GoodBody,
  type HostileCase,
  hostileCorpus,
  prototypeState,
  type Sentinel,
} from './corpus.js';
import { expectBoundedHeap, expectPrototypeUntouched, measureHeap, withDeadline } from './harness.js';

/**
 * API requests, through the real HTTP server as the API's own tests run it (the local host, the api
 * Function App, a gold warehouse): every case as a POST body, as a body field, as a path segment (encoded,
 * and raw on the wire), as a query parameter and as a name. Every answer is a problem with a stable code
 * (or, for a well-formed question, an answer about exactly what was asked); the server keeps answering;
 * the warehouse is whole; no file appears in any answer.
 */

const FORMULA = `=cmd|' /C calc'!A0`;
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
const log = createLogger({ level: 'silent', name: 'hostile' });
let home: string;
let host: LocalHost;
let issuer: LocalIssuer;
let sentinel: Sentinel;
let token: string;

beforeAll(async () => {
  sentinel = await createSentinel();
  home = await mkdtemp(join(tmpdir(), 'aurora-hostile-api-'));
  const warehouse = join(home, 'warehouse', 'warehouse.duckdb');
  await buildFixtureWarehouse(warehouse, {
    alerts: [
      { facility_id: 'augsburg', material_id: 'AUR-10011' },
      { facility_id: 'ingolstadt', material_id: 'AUR-10012' },
    ],
  });
  // A defect code that made it from a MES into gold: a spreadsheet formula.
  const db = await DuckDBInstance.create(warehouse);
  const c = await db.connect();
  await c.run(
    `UPDATE gold.fact_quality SET defect_code = '${FORMULA.replaceAll("'", "''")}' WHERE defect_code = 'D-DENT'`,
  );
  c.closeSync();
  db.closeSync();
  issuer = await LocalIssuer.open(home, clock);
  const services: ApiServices = {
    context: {
      gold: new DuckDbGoldReader({ file: warehouse }),
      clock,
      facilities: ['augsburg', 'ingolstadt', 'regensburg'],
      sourceStatus: { list: async () => [] },
      knownSources: ['iot'],
      iotSlaS: 300,
    },
    verify: createTokenVerifier({
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      keys: issuer.keys(),
      clock,
    }),
    log,
    gateway: new LocalGateway({ clock, calls: 1_000_000, periodS: 3600, cacheTtlS: 0 }),
    issuer,
  };
  host = new LocalHost({
    apps: [apiApp({ clock, version: 'hostile', services: async () => services })],
    log,
    port: 0,
    schedule: false,
  });
  await host.start();
  token = await issuer.sign({ roles: ['platform-admin'] });
});
afterAll(async () => {
  await host?.stop();
  if (home) await rm(home, { recursive: true, force: true });
  await sentinel?.remove();
});

interface Answer {
  status: number;
  type: string;
  text: string;
}

/** A request exactly as given: the path goes on the wire unnormalised (fetch would resolve `..`). */
function send(
  method: string,
  path: string,
  body?: Buffer,
  type = 'application/json',
  accept = 'application/json',
) {
  const url = new URL(host.url);
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          accept,
          ...(body ? { 'content-type': type, 'content-length': body.byteLength } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Probe {
  label: string;
  method: 'GET' | 'POST';
  path: string;
  body?: Buffer;
  type?: string;
  /** Statuses a correct server may give; anything else fails. */
  allowed: number[];
  /** For a 200: what the answer must satisfy. */
  check?: (body: unknown) => void;
}

const API = '/api/v1';
const REFUSED = [400, 403, 404, 405, 406, 413, 415];
/** A URL longer than any server takes: the host refuses it before routing (431), or its length (414). */
const TOO_LONG = [414, 431];
const goodReport = (facility: string) =>
  `{"facility_id":"${facility}","from":"2026-11-22","to":"2026-11-23"}`;

function probesOf(c: HostileCase): Probe[] {
  if (c.form === 'body') {
    const good: GoodBody = { syntax: 'json', marker: 'augsburg', text: goodReport('augsburg') };
    const body = c.bytes(good);
    const probes: Probe[] = [
      {
        label: `${c.id} as a JSON body`,
        method: 'POST',
        path: `${API}/quality/reports`,
        body,
        // A byte order mark before good JSON may be read or refused; nothing else is a report request.
        allowed: c.id === 'malformed/utf8-bom' ? [200, 400] : REFUSED,
      },
    ];
    if (c.category === 'xml-entities')
      probes.push({
        label: `${c.id} as an XML body`,
        method: 'POST',
        path: `${API}/quality/reports`,
        body,
        type: 'application/xml',
        allowed: [415],
      });
    return probes;
  }
  if (c.form === 'key') {
    const key = c.key('facility_id');
    return [
      {
        label: `${c.id} as a body field`,
        method: 'POST',
        path: `${API}/quality/reports`,
        body: Buffer.from(goodReport('augsburg').replace(/}$/, `,${JSON.stringify(key)}:${c.json}}`)),
        allowed: [400],
      },
      {
        label: `${c.id} as a query parameter`,
        method: 'GET',
        path: `${API}/inventory/alerts?${encodeURIComponent(key)}=x&${encodeURIComponent(key)}[polluted]=yes`,
        allowed: [400],
      },
    ];
  }
  // What the wire can carry: an unpaired surrogate becomes U+FFFD in UTF-8.
  const text = c.text().toWellFormed();
  const encoded = encodeURIComponent(text);
  const long = encoded.length > 8000;
  return [
    {
      label: `${c.id} as facility_id in the body`,
      method: 'POST',
      path: `${API}/quality/reports`,
      body: Buffer.from(goodReport('augsburg').replace('"augsburg"', c.json())),
      allowed: REFUSED,
    },
    {
      label: `${c.id} as from in the body`,
      method: 'POST',
      path: `${API}/quality/reports`,
      body: Buffer.from(goodReport('augsburg').replace('"2026-11-22"', c.json())),
      allowed: REFUSED,
    },
    {
      label: `${c.id} as a facility in the path`,
      method: 'GET',
      path: `${API}/production/oee/${encoded}`,
      allowed: long ? TOO_LONG : REFUSED,
    },
    {
      label: `${c.id} as a machine in the path, raw`,
      method: 'GET',
      path: `${API}/machines/${rawSegment(text)}/health`,
      allowed: long ? TOO_LONG : REFUSED,
    },
    {
      label: `${c.id} as a material filter`,
      method: 'GET',
      path: `${API}/inventory/alerts?material_id=${encoded}`,
      allowed: long ? TOO_LONG : [...REFUSED, 200],
      // A filter on an odd value finds nothing, or only that value: never every row.
      check: (body) =>
        expect(
          (body as { items: { material_id: string }[] }).items.every((a) => a.material_id === text),
        ).toBe(true),
    },
    {
      label: `${c.id} as from in the query`,
      method: 'GET',
      path: `${API}/production/oee/augsburg?from=${encoded}`,
      allowed: long ? TOO_LONG : REFUSED,
    },
  ];
}

/** A path segment as a careless client would send it: only what HTTP cannot carry at all is encoded. */
const rawSegment = (text: string) => text.replace(/[^\u0021-\u007e]|[?#%]/gu, (ch) => encodeURIComponent(ch));

describe('hostile API requests through the HTTP server', () => {
  it('refuses every hostile request with a problem and a code, answers the rest exactly, and stays whole', async () => {
    const before = prototypeState();
    const cases = hostileCorpus({ sentinel: sentinel.path });
    const probes = cases.flatMap(probesOf);
    // Traversal on the wire, before any routing: raw dot segments, encoded ones, backslashes, a NUL.
    for (const path of [
      '/api/v1/machines/../../../../etc/passwd/health',
      `/api/v1/../../../..${sentinel.path}`,
      '/api/v1/machines/..%2F..%2F..%2Fetc%2Fpasswd/health',
      '/api/v1/machines/%2e%2e/%2e%2e/health',
      '/api/..%5c..%5c..%5cwindows%5cwin.ini',
      '/api/v1/machines/x%00.json/health',
      '/api/v1/machines/%ZZ/health',
    ])
      probes.push({ label: `raw path ${path}`, method: 'GET', path, allowed: REFUSED });
    const inputBytes = probes.reduce((m, p) => Math.max(m, p.body?.byteLength ?? 0, p.path.length), 0);
    const use = await measureHeap(() =>
      withDeadline('the hostile requests', async () => {
        const answers: [Probe, Answer][] = [];
        for (const p of probes) answers.push([p, await send(p.method, p.path, p.body, p.type)]);
        return answers;
      }),
    );
    expectBoundedHeap('the hostile requests', use, inputBytes);
    for (const [p, a] of use.result) {
      expect.soft(p.allowed, `${p.label}: ${a.status} ${a.text.slice(0, 200)}`).toContain(a.status);
      expect
        .soft(a.text.includes(sentinel.secret), `${p.label}: the sentinel's secret in the answer`)
        .toBe(false);
      if (a.status >= 400 && !TOO_LONG.includes(a.status)) {
        expect.soft(a.type, `${p.label}: a problem`).toBe('application/problem+json');
        const problem = JSON.parse(a.text) as { code?: unknown; status?: unknown };
        expect.soft(problem.status, p.label).toBe(a.status);
        expect.soft(String(problem.code), `${p.label}: a stable code`).toMatch(/^[a-z_]+\.[a-z_]+$/);
      }
      if (a.status === 200 && p.check) p.check(JSON.parse(a.text));
    }

    // Still serving, and the warehouse whole: the same figures as before the corpus.
    expect((await send('GET', `${API}/health`)).status).toBe(200);
    const oee = JSON.parse((await send('GET', `${API}/production/oee/augsburg?from=2026-11-23`)).text);
    expect(oee.window.figures.hours).toBe(3);
    const alerts = JSON.parse((await send('GET', `${API}/inventory/alerts`)).text);
    expect(alerts.items.map((a: { material_id: string }) => a.material_id).sort()).toEqual([
      'AUR-10011',
      'AUR-10012',
    ]);
    expectPrototypeUntouched(before);
  });

  it('neutralises a formula that reached gold in the CSV export, and keeps numbers numbers', async () => {
    const csv = await send(
      'POST',
      `${API}/quality/reports`,
      Buffer.from(goodReport('augsburg')),
      'application/json',
      'text/csv',
    );
    expect(csv.status).toBe(200);
    const pareto = csv.text.split('\n').filter((l) => l.startsWith('pareto,'));
    expect(
      pareto.some((l) => l.includes(`'${FORMULA}`)),
      pareto.join('\n'),
    ).toBe(true);
    expect(csv.text.split('\n').some((l) => /,=cmd/.test(l))).toBe(false);
    // A negative number is a number, not a formula.
    expect(csv.text).not.toMatch(/,'-\d/);
  });
});
