import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aurora, repoRoot } from './cli.js';

/**
 * Issue 6's "done when": `aurora start`, spawned as a person would run it (its own home, every port its
 * own and on loopback), serves the API on 127.0.0.1:$AURORA_PORT once its first medallion run has built
 * gold, with tokens from `aurora token` of the same home; Ctrl-C (SIGINT) stops it cleanly. One start
 * serves every assertion.
 */
const FIRST_MEDALLION = 'first medallion run done';
let home: string;
let env: Record<string, string>;
let base: string;
let child: ChildProcess;
let stdout = '';
let stderr = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
const tokens: Record<string, string> = {};

/** A port nothing listens on now (the kernel's pick, released at once). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function token(...args: string[]): Promise<string> {
  const run = await aurora(['token', ...args], env);
  expect(run.code, run.stderr).toBe(0);
  const jwt = run.stdout.trim().split('\n').at(-1)!;
  expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  return jwt;
}

function waitForLine(text: string, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no "${text}" within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`)),
      timeoutMs,
    );
    const check = () => {
      if (!stdout.includes(text)) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      done();
    };
    child.stdout!.on('data', check);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      fail(new Error(`aurora start exited (${code}) before "${text}"; stderr:\n${stderr}`));
    });
    check();
  });
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
  json: any;
}

async function call(
  path: string,
  options: { token?: string; method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body ? { body: options.body } : {}),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: type.includes('json') ? JSON.parse(text) : undefined,
  };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'aurora-api-e2e-'));
  const [port, mqtt, blob, queue, table] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  env = {
    AURORA_HOME: home,
    AURORA_PORT: String(port),
    AURORA_MQTT_PORT: String(mqtt),
    AURORA_AZURITE_BLOB_PORT: String(blob),
    AURORA_AZURITE_QUEUE_PORT: String(queue),
    AURORA_AZURITE_TABLE_PORT: String(table),
    AURORA_LOG_LEVEL: 'warn',
    AURORA_RETRY_DELAYS_S: '1,1,1',
  };
  base = `http://127.0.0.1:${port}/api/v1`;
  // tsx itself (not the .bin shell wrappers, which would not pass SIGINT on), as `pnpm aurora` runs it.
  child = spawn(
    process.execPath,
    [
      resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs'),
      '--conditions=@aurora/source',
      'libs/cli/src/main.ts',
      'start',
    ],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  exited = new Promise((done) => child.on('close', (code, signal) => done({ code, signal })));
  // Tokens from the CLI of the same home while the platform starts (the issuer's key is shared).
  tokens['analyst-augsburg'] = await token('--role', 'analyst', '--facility', 'augsburg');
  tokens['viewer-ingolstadt'] = await token('--role', 'viewer', '--facility', 'ingolstadt');
  tokens['data-engineer'] = await token('--role', 'data-engineer');
  tokens['platform-admin'] = await token('--role', 'platform-admin');
  await waitForLine(FIRST_MEDALLION, 240_000);
}, 300_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  await rm(home, { recursive: true, force: true });
});

describe('aurora start serves the API', () => {
  it('prints where the functions listen: 127.0.0.1:$AURORA_PORT', () => {
    expect(stdout).toContain(`http://127.0.0.1:${env['AURORA_PORT']}/api`);
  });

  it('GET health without a token', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', version: 'local' });
  });

  it('401 problem details without a token', async () => {
    const res = await call('/production/oee/augsburg');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.json).toMatchObject({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      code: 'token.missing',
    });
    expect(res.json.instance).toMatch(/^urn:aurora:invocation:/);
  });

  it('403 problem details for another facility', async () => {
    const res = await call('/production/oee/augsburg', { token: tokens['viewer-ingolstadt']! });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json).toMatchObject({ status: 403, title: 'Forbidden', code: 'facility.forbidden' });
    const machine = await call('/machines/aug-m01/health', { token: tokens['viewer-ingolstadt']! });
    expect(machine.json).toMatchObject({ status: 403, code: 'facility.forbidden' });
    const alerts = await call('/inventory/alerts?facility_id=augsburg', {
      token: tokens['viewer-ingolstadt']!,
    });
    expect(alerts.json).toMatchObject({ status: 403, code: 'facility.forbidden' });
  });

  it('GET production/oee/{facility} from the gold the first medallion run built', async () => {
    const res = await call('/production/oee/augsburg', { token: tokens['analyst-augsburg']! });
    expect(res.status, res.text).toBe(200);
    const oee = res.json;
    expect(oee.facility_id).toBe('augsburg');
    // The simulated plant works around the clock: the last 24 h hold machine-hours of every machine.
    expect(oee.window.figures.hours).toBeGreaterThan(0);
    expect(oee.machines.length).toBeGreaterThan(1);
    for (const m of oee.machines) expect(m.machine_id).toMatch(/^aug-/);
    const f = oee.window.figures;
    expect(f.oee).toBeGreaterThan(0);
    expect(f.oee).toBeCloseTo(f.availability * f.performance * f.quality, 9);
    expect(f.scrap_count).toBe(f.total_count - f.good_count);
    // The facility's figures are the sums of its machines'.
    const sum = (k: string) =>
      oee.machines.reduce((s: number, m: { window: Record<string, number> }) => s + m.window[k]!, 0);
    expect(sum('total_count')).toBe(f.total_count);
    expect(sum('hours')).toBe(f.hours);
    expect(Date.parse(oee.current_day.to)).toBe(Date.parse(oee.window.to));
  });

  it('GET inventory/alerts: a page, filtered to the caller facility', async () => {
    const res = await call('/inventory/alerts?limit=5', { token: tokens['analyst-augsburg']! });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ limit: 5 });
    expect(Array.isArray(res.json.items)).toBe(true);
    expect(res.json.items.length).toBeLessThanOrEqual(5);
    for (const item of res.json.items) expect(item.facility_id).toBe('augsburg');
    expect(res.json).toHaveProperty('next_cursor');
  });

  it('POST quality/reports as JSON and as CSV', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const body = JSON.stringify({ facility_id: 'augsburg', from, to: day });
    const headers = { 'content-type': 'application/json' };
    const json = await call('/quality/reports', {
      token: tokens['analyst-augsburg']!,
      method: 'POST',
      body,
      headers,
    });
    expect(json.status, json.text).toBe(200);
    expect(json.json).toMatchObject({ facility_id: 'augsburg', from, to: day });
    expect(json.json.defect_rates.total.total_count).toBeGreaterThan(0);
    const csv = await call('/quality/reports', {
      token: tokens['analyst-augsburg']!,
      method: 'POST',
      body,
      headers: { ...headers, accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe(
      'section,day,machine_id,material_id,characteristic,defect_code,subgroup,metric,value',
    );
    expect(lines).toContain(
      `defect_rates_total,,,,,,,total_count,${json.json.defect_rates.total.total_count}`,
    );
    const other = await call('/quality/reports', {
      token: tokens['analyst-augsburg']!,
      method: 'POST',
      body: JSON.stringify({ facility_id: 'regensburg', from, to: day }),
      headers,
    });
    expect(other.json).toMatchObject({ status: 403, code: 'facility.forbidden' });
  });

  it('GET machines/{id}/health: a 0-100 score with its components', async () => {
    const res = await call('/machines/aug-m01/health', { token: tokens['analyst-augsburg']! });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ machine_id: 'aug-m01', facility_id: 'augsburg' });
    expect(res.json.score).toBeGreaterThanOrEqual(0);
    expect(res.json.score).toBeLessThanOrEqual(100);
    expect(['good', 'degraded', 'critical']).toContain(res.json.status);
    expect(Object.keys(res.json.components).sort()).toEqual(['anomalies', 'availability', 'signal']);
  });

  it('GET freshness for operators, per source against its SLA; 403 for an analyst', async () => {
    const res = await call('/freshness', { token: tokens['data-engineer']! });
    expect(res.status, res.text).toBe(200);
    const sources = new Map<string, { lastSuccessAt: string | null; rowsLandedTotal: number; slaS: number }>(
      res.json.sources.map((s: { source: string }) => [s.source, s]),
    );
    for (const s of ['iot', 'mes-augsburg', 'mes-ingolstadt', 'mes-regensburg', 'sap', 'oracle-erp'])
      expect(sources.has(s), s).toBe(true);
    // The start-up runs of the sources landed rows.
    expect(sources.get('mes-augsburg')!.lastSuccessAt).not.toBeNull();
    expect(sources.get('mes-augsburg')!.rowsLandedTotal).toBeGreaterThan(0);
    expect(sources.get('sap')!.slaS).toBe(5400);
    const denied = await call('/freshness', { token: tokens['analyst-augsburg']! });
    expect(denied.json).toMatchObject({ status: 403, code: 'role.forbidden' });
  });

  it('GET customers: company-wide, contact persons in plaintext for an analyst and masked for a data engineer', async () => {
    const analyst = await call('/customers?limit=500', { token: tokens['analyst-augsburg']! });
    expect(analyst.status, analyst.text).toBe(200);
    expect(analyst.headers.get('cache-control')).toBe('no-store');
    expect(analyst.json.personal_data).toBe('plaintext');
    // The ERP stand-in's 40 accounts, each with its contact party, whatever the caller's facility claim.
    expect(analyst.json.items).toHaveLength(40);
    for (const c of analyst.json.items) {
      expect(c.contact_party_id).toBe(String(Number(c.cust_account_id) + 30_000));
      expect(c.contact_email).toMatch(/^[a-z.]+(\.\d+)?@[a-z]+\.example$/);
    }
    expect(analyst.text).not.toContain('pd1.');
    const engineer = await call('/customers?limit=500', { token: tokens['data-engineer']! });
    expect(engineer.json.personal_data).toBe('masked');
    expect(new Set(engineer.json.items.map((c: { contact_email: string }) => c.contact_email))).toEqual(
      new Set(['•••']),
    );
    expect(engineer.text).not.toMatch(/@[a-z]+\.example/);
    // The analyst's read was audited in the lake of the running platform.
    const audit = await aurora(['lake', 'ls', 'audit/personal-data/'], env);
    expect(audit.stdout).toMatch(/reads_\d+.*\.jsonl/);
  });

  it('POST privacy/requests: access to a contact landed sealed by the ERP stand-in, with a certificate that verifies', async () => {
    const admin = tokens['platform-admin']!;
    const first = (await call('/customers?limit=1', { token: tokens['analyst-augsburg']! })).json.items[0];
    const res = await call('/privacy/requests', {
      token: admin,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'access', subject: `erp-party:${first.contact_party_id}` }),
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json.data.key).toBe('active');
    const dim = res.json.data.tables.find((t: { table: string }) => t.table === 'gold.dim_customer');
    expect(dim.rows).toEqual([expect.objectContaining({ contact_email: first.contact_email })]);
    const verified = await call('/privacy/certificates/verify', {
      token: admin,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: res.json.certificate }),
    });
    expect(verified.json).toEqual({ valid: true, problems: [] });
    const denied = await call('/privacy/requests', { token: tokens['analyst-augsburg']! });
    expect(denied.json).toMatchObject({ status: 403, code: 'role.forbidden' });
  });

  it('GET openapi.json: the committed document API Management imports', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const committed = JSON.parse(await readFile(resolve(repoRoot, 'functions/api/openapi.json'), 'utf8'));
    expect(res.json.info.version).toBe('local');
    expect({ ...res.json, info: { ...res.json.info, version: committed.info.version } }).toEqual(committed);
  });

  it('stops cleanly on SIGINT', async () => {
    child.kill('SIGINT');
    const { code, signal } = await exited;
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    expect(stdout).toContain('stopping: flushing the edge...');
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  }, 60_000);
});
