import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { createLogger, loadConfig, ManualClock } from '@aurora/core';
import { type StorageClients, storageFromConnectionString } from '@aurora/lake';
import { type AuditEntry, AuditLog, canonicalJson, ERASED, MASKED } from '@aurora/privacy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, ROLE_CLAIMS, ROLES, type Role } from './auth.js';
import type { ApiContext, ApiPrivacy } from './context.js';
import { DuckDbGoldReader } from './duckdb-reader.js';
import { type ApiRequest, type Endpoint, type EndpointRuntime, runEndpoint } from './endpoint.js';
import { apiEndpoints } from './endpoints.js';
import { buildFixtureWarehouse, type FixtureCustomer } from './fixture-warehouse.js';
import { LocalGateway } from './gateway.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, LocalIssuer } from './local-issuer.js';
import { openApiPrivacy } from './privacy.js';

/**
 * Personal data through the API against real parts: JWTs from the local issuer, the fixture warehouse in
 * DuckDB holding values sealed by the key ring (local key file in a temp home, key table on Azurite), the
 * audit log and Guardian's requests and certificates in Azurite's lake, and the local gateway in front.
 */
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
const log = createLogger({ level: 'silent', name: 'test' });
let azurite: RunningAzurite;
let storage: StorageClients;
let home: string;
let gold: DuckDbGoldReader;
let privacy: ApiPrivacy;
let issuer: LocalIssuer;
let runtime: EndpointRuntime;
let endpoints: Endpoint[];
let gateway: LocalGateway;

/** Three contacts (one without a phone) and an account without one; plaintext before sealing. */
const PEOPLE = [
  {
    party: '50000',
    account: '20000',
    name: 'Alpenstahl GmbH',
    country: 'DE',
    first: 'Anna',
    last: 'Müller',
    email: 'anna.mueller@alpenstahl.example',
    phone: '+49 821 5550123',
  },
  {
    party: '50001',
    account: '20001',
    name: 'Donau Antriebe AG',
    country: 'AT',
    first: 'Ben',
    last: "O'Brien",
    email: 'ben.obrien@donau.example',
    phone: null,
  },
  {
    party: '50002',
    account: '20002',
    name: 'Südkran SE',
    country: 'CH',
    first: 'Chloé',
    last: 'Weber',
    email: 'chloe.weber@suedkran.example',
    phone: '+41 44 5550199',
  },
] as const;
const subjectOf = (party: string) => `erp-party:${party}`;
const PLAINTEXT = PEOPLE.flatMap((p) => [p.first, p.last, p.email, ...(p.phone ? [p.phone] : [])]);

beforeAll(async () => {
  azurite = await startAzurite();
  storage = storageFromConnectionString(azurite.connectionString);
  home = await mkdtemp(join(tmpdir(), 'aurora-api-privacy-'));
  const file = join(home, 'warehouse', 'warehouse.duckdb');
  // The ring opened first (creating the local key file) seals the fixture's values.
  gold = new DuckDbGoldReader({ file, connections: 2 });
  privacy = await openApiPrivacy({ config: loadConfig({ AURORA_HOME: home }), storage, clock, gold });
  const seal = async (party: string, value: string | null) =>
    value === null ? null : ((await privacy.ring.seal(subjectOf(party), value)) ?? null);
  const customers: FixtureCustomer[] = [];
  for (const p of PEOPLE)
    customers.push({
      cust_account_id: p.account,
      account_number: `C${p.account}`,
      name: p.name,
      country: p.country,
      contact_party_id: p.party,
      contact_first_name: await seal(p.party, p.first),
      contact_last_name: await seal(p.party, p.last),
      contact_email: await seal(p.party, p.email),
      contact_phone: await seal(p.party, p.phone),
    });
  customers.push({
    cust_account_id: '20003',
    account_number: 'C20003',
    name: 'Nordwerk GmbH',
    country: 'DE',
    contact_party_id: null,
    contact_first_name: null,
    contact_last_name: null,
    contact_email: null,
    contact_phone: null,
  });
  await buildFixtureWarehouse(file, { alerts: [], customers });
  issuer = await LocalIssuer.open(home, clock);
  runtime = {
    verify: createTokenVerifier({
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      keys: issuer.keys(),
      clock,
    }),
    log,
  };
  endpoints = apiEndpoints(context(privacy));
  gateway = new LocalGateway({ clock, calls: 100_000, periodS: 3600 });
});
afterAll(async () => {
  await gold?.close();
  await azurite?.close();
  await rm(home, { recursive: true, force: true });
});

function context(p: ApiPrivacy | undefined): ApiContext {
  return {
    gold,
    clock,
    facilities: ['augsburg', 'ingolstadt', 'regensburg'],
    sourceStatus: { list: async () => [] },
    knownSources: [],
    iotSlaS: 300,
    ...(p ? { privacy: p } : {}),
  };
}

const routeOf = (e: Endpoint) => new RegExp(`^/api/v1${e.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are inspected field by field
  body: any;
}

/** One request through the local gateway and runEndpoint, as the local host runs it (no port needed). */
async function call(
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown; raw?: string; within?: Endpoint[] } = {},
): Promise<Answer> {
  const url = new URL(`http://127.0.0.1${path}`);
  let params: Record<string, string> | undefined;
  const endpoint = (options.within ?? endpoints).find((e) => {
    if (e.method !== method) return false;
    const m = routeOf(e).exec(url.pathname);
    // As the host does: path parameters arrive percent-decoded.
    params = m
      ? Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]))
      : undefined;
    return m !== null;
  });
  if (!endpoint) throw new Error(`no endpoint for ${method} ${path}`);
  const bytes = Buffer.from(
    options.raw ?? (options.body === undefined ? '' : JSON.stringify(options.body)),
    'utf8',
  );
  const headers = new Headers();
  if (options.token) headers.set('authorization', `Bearer ${options.token}`);
  if (method === 'POST') headers.set('content-type', 'application/json');
  const request: ApiRequest = {
    method,
    url: url.toString(),
    headers,
    params: params ?? {},
    query: url.searchParams,
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  };
  const response = await gateway.handle(request, () => runEndpoint(endpoint, runtime, request, 'test'));
  return { ...response, text: response.body, body: JSON.parse(response.body) };
}

const token = (role: Role, extra: { facilities?: string[]; subject?: string } = {}) =>
  issuer.sign({ roles: [role], subject: extra.subject ?? `user-${role}`, ...extra });

async function auditEntries(): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const entry of privacy.audit.entries()) out.push(entry);
  return out;
}
/** The audit entries `action` adds: the log after it, less (by content) every entry it held before. */
async function auditedBy(action: () => Promise<unknown>): Promise<AuditEntry[]> {
  const before = new Map<string, number>();
  for (const e of await auditEntries())
    before.set(JSON.stringify(e), (before.get(JSON.stringify(e)) ?? 0) + 1);
  await action();
  return (await auditEntries()).filter((e) => {
    const n = before.get(JSON.stringify(e)) ?? 0;
    if (n > 0) before.set(JSON.stringify(e), n - 1);
    return n === 0;
  });
}
const keyIdOf = (party: string) => privacy.ring.keyIdOf(subjectOf(party));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('GET /customers: personal data by role', () => {
  for (const role of ['analyst', 'platform-admin'] as const)
    it(`${role}: plaintext contacts, one audit entry per subject read, written before the answer`, async () => {
      let answer: Answer | undefined;
      const added = await auditedBy(async () => {
        answer = await call('GET', '/api/v1/customers', { token: await token(role) });
      });
      expect(answer!.status).toBe(200);
      expect(answer!.headers['cache-control']).toBe('no-store');
      expect(answer!.body.personal_data).toBe('plaintext');
      expect(answer!.body.items).toHaveLength(4);
      expect(answer!.body.items[0]).toEqual({
        cust_account_id: '20000',
        account_number: 'C20000',
        name: 'Alpenstahl GmbH',
        country: 'DE',
        contact_party_id: '50000',
        contact_first_name: 'Anna',
        contact_last_name: 'Müller',
        contact_email: 'anna.mueller@alpenstahl.example',
        contact_phone: '+49 821 5550123',
      });
      expect(answer!.body.items[1].contact_phone).toBeNull();
      expect(answer!.body.items[3].contact_email).toBeNull();
      expect(answer!.text).not.toContain('pd1.');
      expect(added.map((e) => [e.keyId, e.values]).sort()).toEqual(
        [
          [keyIdOf('50000'), 4],
          [keyIdOf('50001'), 3],
          [keyIdOf('50002'), 4],
        ].sort(),
      );
      for (const e of added)
        expect(e).toMatchObject({
          actor: `user-${role}`,
          roles: [ROLE_CLAIMS[role]],
          through: 'GET /api/v1/customers',
          action: 'read',
          at: clock.now().toISOString(),
        });
      // The audit log names key ids, never the subject or the values.
      const log = JSON.stringify(added);
      for (const value of [...PLAINTEXT, 'erp-party:']) expect(log).not.toContain(value);
    });

  for (const role of ['viewer', 'data-engineer'] as const)
    it(`${role}: every contact value masked, nothing opened, nothing audited`, async () => {
      let answer: Answer | undefined;
      const added = await auditedBy(async () => {
        answer = await call('GET', '/api/v1/customers', { token: await token(role) });
      });
      expect(answer!.status).toBe(200);
      expect(answer!.body.personal_data).toBe('masked');
      expect(answer!.body.items[0]).toMatchObject({
        name: 'Alpenstahl GmbH',
        contact_party_id: '50000',
        contact_first_name: MASKED,
        contact_last_name: MASKED,
        contact_email: MASKED,
        contact_phone: MASKED,
      });
      expect(answer!.body.items[1].contact_phone).toBeNull();
      for (const value of [...PLAINTEXT, 'pd1.']) expect(answer!.text).not.toContain(value);
      expect(added).toEqual([]);
    });

  it('opens only the page and the fields asked for; customers are company-wide (no facility filter)', async () => {
    const analyst = await token('analyst', { facilities: ['augsburg'] });
    let first: Answer | undefined;
    const pageOne = await auditedBy(async () => {
      first = await call('GET', '/api/v1/customers?limit=2', { token: analyst });
    });
    expect(first!.body.items.map((c: { cust_account_id: string }) => c.cust_account_id)).toEqual([
      '20000',
      '20001',
    ]);
    expect(pageOne.map((e) => e.keyId).sort()).toEqual([keyIdOf('50000'), keyIdOf('50001')].sort());
    const second = await call('GET', `/api/v1/customers?limit=2&cursor=${first!.body.next_cursor}`, {
      token: analyst,
    });
    expect(second.body.items.map((c: { cust_account_id: string }) => c.cust_account_id)).toEqual([
      '20002',
      '20003',
    ]);
    expect(second.body.next_cursor).toBeNull();

    let names: Answer | undefined;
    expect(
      await auditedBy(async () => {
        names = await call('GET', '/api/v1/customers?fields=cust_account_id,name', { token: analyst });
      }),
    ).toEqual([]);
    expect(names!.body.items[0]).toEqual({ cust_account_id: '20000', name: 'Alpenstahl GmbH' });

    const swiss = await call('GET', '/api/v1/customers?country=CH&fields=name,contact_email', {
      token: analyst,
    });
    expect(swiss.body.items).toEqual([{ name: 'Südkran SE', contact_email: 'chloe.weber@suedkran.example' }]);
  });

  it('is never answered from the gateway cache: a repeated read reaches the handler and is audited again', async () => {
    const analyst = await token('analyst');
    const added = await auditedBy(async () => {
      for (let i = 0; i < 2; i++) {
        const answer = await call('GET', '/api/v1/customers?limit=1', { token: analyst });
        expect(answer.headers['x-cache']).toBe('MISS');
      }
    });
    expect(added.map((e) => e.keyId)).toEqual([keyIdOf('50000'), keyIdOf('50000')]);
    // Other GET answers are still cached.
    await call('GET', '/api/v1/inventory/alerts', { token: analyst });
    expect((await call('GET', '/api/v1/inventory/alerts', { token: analyst })).headers['x-cache']).toBe(
      'HIT',
    );
  });

  it('refuses bad input, and without a token answers 401', async () => {
    const viewer = await token('viewer');
    for (const query of [
      'country=de',
      'country=DEU',
      'fields=name,email',
      'facility_id=augsburg',
      'cursor=bm9wZQ',
      "country=DE'%20OR%201=1--",
    ]) {
      const answer = await call('GET', `/api/v1/customers?${query}`, { token: viewer });
      expect(answer.status, query).toBe(400);
      expect(answer.headers['content-type']).toBe('application/problem+json');
    }
    const anonymous = await call('GET', '/api/v1/customers');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('token.missing');
  });

  it('masks a contact value that reached gold unsealed, for roles without personal data', async () => {
    const file = join(home, 'unsealed', 'warehouse.duckdb');
    await buildFixtureWarehouse(file, {
      alerts: [],
      customers: [
        {
          cust_account_id: '29999',
          account_number: 'C29999',
          name: 'Lech Hydraulik AG',
          country: 'DE',
          contact_party_id: '59999',
          contact_first_name: 'Dora',
          contact_last_name: 'Fischer',
          contact_email: 'dora.fischer@lech.example',
          contact_phone: null,
        },
      ],
    });
    const unsealed = new DuckDbGoldReader({ file, connections: 1 });
    try {
      const within = apiEndpoints({ ...context(privacy), gold: unsealed });
      const viewer = await call('GET', '/api/v1/customers', { token: await token('viewer'), within });
      expect(viewer.body.items).toEqual([
        expect.objectContaining({
          contact_first_name: MASKED,
          contact_last_name: MASKED,
          contact_email: MASKED,
          contact_phone: null,
        }),
      ]);
      for (const value of ['Dora', 'Fischer', 'dora.fischer']) expect(viewer.text).not.toContain(value);
    } finally {
      await unsealed.close();
    }
  });

  it('fails closed: no key ring means 503 for a reader allowed plaintext, masked rows for the others', async () => {
    const without = apiEndpoints(context(undefined));
    const analyst = await call('GET', '/api/v1/customers', {
      token: await token('analyst'),
      within: without,
    });
    expect(analyst.status).toBe(503);
    expect(analyst.body.code).toBe('privacy.unavailable');
    const viewer = await call('GET', '/api/v1/customers', { token: await token('viewer'), within: without });
    expect(viewer.status).toBe(200);
    expect(viewer.body.items[0].contact_email).toBe(MASKED);
  });

  it('a read that cannot be audited does not happen: 500 and no personal data', async () => {
    // The same ring, but an audit log whose writes the storage account refuses (a wrong account key).
    const refused = storageFromConnectionString(
      azurite.connectionString.replace(
        /AccountKey=[^;]+/,
        `AccountKey=${Buffer.alloc(64).toString('base64')}`,
      ),
    );
    const broken = apiEndpoints(context({ ...privacy, audit: new AuditLog(refused.lake, clock) }));
    const answer = await call('GET', '/api/v1/customers', { token: await token('analyst'), within: broken });
    expect(answer.status).toBe(500);
    expect(answer.body.code).toBe('internal');
    for (const value of PLAINTEXT) expect(answer.text).not.toContain(value);
  });
});

/** A data-subject request, a second after the previous one (requests are listed by the time received). */
const request = async (t: string, type: string, subject: unknown) => {
  clock.advance(1000);
  return call('POST', '/api/v1/privacy/requests', { token: t, body: { type, subject } });
};

describe('privacy endpoints: Platform Admin only', () => {
  for (const role of ROLES.filter((r) => r !== 'platform-admin'))
    it(`${role}: 403 problem details on every privacy endpoint, and nothing recorded`, async () => {
      const t = await token(role);
      const admin = await token('platform-admin');
      const requestsBefore = (await call('GET', '/api/v1/privacy/requests?limit=500', { token: admin })).body
        .items.length;
      const auditBefore = (await auditEntries()).length;
      const answers = [
        await request(t, 'access', subjectOf('50000')),
        await request(t, 'delete', subjectOf('50000')),
        await call('GET', '/api/v1/privacy/requests', { token: t }),
        await call('GET', '/api/v1/privacy/requests/dsr-20261123-00000000/certificate', { token: t }),
        await call('POST', '/api/v1/privacy/certificates/verify', { token: t, body: { certificate: {} } }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(403);
        expect(answer.headers['content-type']).toBe('application/problem+json');
        expect(answer.body).toMatchObject({ code: 'role.forbidden', status: 403 });
      }
      expect(
        (await call('GET', '/api/v1/privacy/requests?limit=500', { token: admin })).body.items.length,
      ).toBe(requestsBefore);
      expect(await privacy.ring.state(subjectOf('50000'))).toBe('active');
      expect((await auditEntries()).length).toBe(auditBefore);
    });

  it('401 with WWW-Authenticate without a token or with a forged one', async () => {
    const forged = `${(await token('platform-admin')).slice(0, -4)}AAAA`;
    for (const t of [undefined, forged]) {
      const answers = [
        await call('POST', '/api/v1/privacy/requests', {
          ...(t ? { token: t } : {}),
          body: { type: 'access', subject: 'erp-party:50000' },
        }),
        await call('GET', '/api/v1/privacy/requests', t ? { token: t } : {}),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(401);
        expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
  });
});

describe('access -> export -> delete -> access on a customer contact, through the API', () => {
  it('shows the data, certificates that verify, then nothing personal', async () => {
    const admin = await token('platform-admin', { subject: 'ops-admin' });
    const ben = subjectOf('50001');

    // Access: the subject's rows in silver and gold, opened and audited under the request.
    let access: Answer | undefined;
    const accessAudit = await auditedBy(async () => {
      access = await request(admin, 'access', ben);
    });
    expect(access!.status).toBe(201);
    expect(access!.headers['cache-control']).toBe('no-store');
    const { request: record, certificate, data } = access!.body;
    expect(record).toMatchObject({
      type: 'access',
      subject: ben,
      actor: 'ops-admin',
      keyId: keyIdOf('50001'),
    });
    expect(Date.parse(record.dueBy) - Date.parse(record.receivedAt)).toBe(72 * 3_600_000);
    expect(data.key).toBe('active');
    const tables = Object.fromEntries(
      data.tables.map((t: { table: string; rows: unknown[] }) => [t.table, t.rows]),
    );
    expect(Object.keys(tables).sort()).toEqual(['gold.dim_customer', 'silver.customer_contacts']);
    expect(tables['gold.dim_customer']).toEqual([
      expect.objectContaining({ cust_account_id: '20001', contact_email: 'ben.obrien@donau.example' }),
    ]);
    expect(tables['silver.customer_contacts']).toEqual([
      expect.objectContaining({ party_id: '50001', first_name: 'Ben', last_name: "O'Brien" }),
    ]);
    expect(accessAudit.length).toBe(2);
    for (const e of accessAudit)
      expect(e).toMatchObject({
        keyId: keyIdOf('50001'),
        action: 'access',
        requestId: record.id,
        actor: 'ops-admin',
        through: 'POST /api/v1/privacy/requests',
      });
    expect(certificate.sha256).toBe(sha256(canonicalJson(certificate.certificate)));
    expect(certificate.certificate).toMatchObject({
      id: record.id,
      found: { 'gold.dim_customer': 1, 'silver.customer_contacts': 1 },
      key: 'active',
    });
    const verified = await call('POST', '/api/v1/privacy/certificates/verify', {
      token: admin,
      body: { certificate },
    });
    expect(verified.body).toEqual({ valid: true, problems: [] });
    expect(
      (await call('GET', `/api/v1/privacy/requests/${record.id}/certificate`, { token: admin })).body,
    ).toEqual(certificate);

    // Export: the portable document, whose SHA-256 the certificate records.
    const exported = await request(admin, 'export', ben);
    expect(exported.status).toBe(201);
    expect(exported.body.data).toBeUndefined();
    expect(exported.body.export.subject).toBe(ben);
    expect(exported.body.export.tables['gold.dim_customer'][0].contact_email).toBe(
      'ben.obrien@donau.example',
    );
    expect(exported.body.certificate.certificate.exportSha256).toBe(
      sha256(canonicalJson(exported.body.export)),
    );

    // Delete: the data key destroyed; the certificate says so and verifies.
    const deleted = await request(admin, 'delete', ben);
    expect(deleted.status).toBe(201);
    expect(deleted.body.data).toBeUndefined();
    expect(deleted.body.export).toBeUndefined();
    expect(deleted.body.certificate.certificate).toMatchObject({ type: 'delete', key: 'erased' });
    expect(deleted.body.certificate.certificate.actions.join(' ')).toContain('destroyed the data key');
    expect(await privacy.ring.state(ben)).toBe('erased');
    expect(
      (
        await call('POST', '/api/v1/privacy/certificates/verify', {
          token: admin,
          body: { certificate: deleted.body.certificate },
        })
      ).body,
    ).toEqual({ valid: true, problems: [] });

    // Access again: the rows are still there until the next medallion run, but nothing personal opens.
    let again: Answer | undefined;
    const againAudit = await auditedBy(async () => {
      again = await request(admin, 'access', ben);
    });
    expect(again!.status).toBe(201);
    expect(again!.body.data.key).toBe('erased');
    for (const value of ['Ben', "O'Brien", 'ben.obrien@donau.example', 'pd1.'])
      expect(again!.text).not.toContain(value);
    const contact = again!.body.data.tables.find(
      (t: { table: string }) => t.table === 'silver.customer_contacts',
    ).rows[0];
    expect(contact).toMatchObject({ party_id: '50001', first_name: ERASED, email: ERASED });
    expect(againAudit).toEqual([]);

    // GET /customers: the erased contact reads [erased] for an analyst, and is not audited.
    let customers: Answer | undefined;
    const customersAudit = await auditedBy(async () => {
      customers = await call('GET', '/api/v1/customers', { token: await token('analyst') });
    });
    expect(customers!.body.items[1]).toMatchObject({
      cust_account_id: '20001',
      contact_first_name: ERASED,
      contact_email: ERASED,
      contact_phone: null,
    });
    expect(customersAudit.map((e) => e.keyId)).not.toContain(keyIdOf('50001'));
    expect(customersAudit).toHaveLength(2);

    // The request list: all four done within their deadlines, newest last, filterable, in pages.
    const list = await call('GET', '/api/v1/privacy/requests?limit=500', { token: admin });
    const mine = list.body.items.filter((r: { subject: string }) => r.subject === ben);
    expect(mine.map((r: { type: string; state: string }) => `${r.type}:${r.state}`)).toEqual([
      'access:done',
      'export:done',
      'delete:done',
      'access:done',
    ]);
    const deletes = await call('GET', '/api/v1/privacy/requests?type=delete', { token: admin });
    expect(deletes.body.items.map((r: { id: string }) => r.id)).toEqual([deleted.body.request.id]);
    expect((await call('GET', '/api/v1/privacy/requests?state=open', { token: admin })).body.items).toEqual(
      [],
    );
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Answer = await call(
        'GET',
        `/api/v1/privacy/requests?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        { token: admin },
      );
      ids.push(...page.body.items.map((r: { id: string }) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(ids).toEqual(list.body.items.map((r: { id: string }) => r.id));
  });

  it('a tampered certificate does not verify, even with its SHA-256 recomputed', async () => {
    const admin = await token('platform-admin');
    const issued = (await request(admin, 'access', subjectOf('50002'))).body.certificate;
    const verify = (certificate: unknown) =>
      call('POST', '/api/v1/privacy/certificates/verify', { token: admin, body: { certificate } });

    const altered = structuredClone(issued);
    altered.certificate.found['gold.dim_customer'] = 0;
    const plain = await verify(altered);
    expect(plain.status).toBe(200);
    expect(plain.body.valid).toBe(false);
    expect(plain.body.problems.join('\n')).toMatch(/SHA-256 mismatch/);

    // A forger who also recomputes the hash still differs from the certificate the lake keeps.
    const forged = { ...altered, sha256: sha256(canonicalJson(altered.certificate)) };
    const reHashed = await verify(forged);
    expect(reHashed.body.valid).toBe(false);
    expect(reHashed.body.problems.join('\n')).toContain(`the lake's certificate ${issued.certificate.id}`);

    // An invented certificate was never issued here.
    const invented = structuredClone(issued);
    invented.certificate.id = 'dsr-20261123-00000000';
    invented.sha256 = sha256(canonicalJson(invented.certificate));
    expect((await verify(invented)).body.problems.join('\n')).toContain('not issued by this platform');

    const notOne = await verify({ certificate: { id: '../../privacy/keys' }, sha256: 'x' });
    expect(notOne.body.valid).toBe(false);
  });
});

describe('hostile input on the privacy endpoints', () => {
  it('refuses bad subject ids and request types with 400 before anything is recorded or opened', async () => {
    const admin = await token('platform-admin');
    const count = async () =>
      (await call('GET', '/api/v1/privacy/requests?limit=500', { token: admin })).body.items.length;
    const requestsBefore = await count();
    const auditBefore = (await auditEntries()).length;
    const bad: [string, unknown][] = [
      ['access', 'anna.mueller@alpenstahl.example'],
      ['access', 'erp-party:anna@alpenstahl.example'],
      ['access', 'erp-party:../../keys/privacy.json'],
      ['access', '../../etc/passwd'],
      ['export', `erp-party:${'9'.repeat(10_240)}`],
      ['delete', 'erp-party:50000 OR 1=1'],
      ['delete', "erp-party:50000'--"],
      ['access', 50000],
      ['access', ['erp-party:50000']],
      ['access', null],
      ['rectify', 'erp-party:50000'],
      ['DELETE', 'erp-party:50000'],
    ];
    for (const [type, subject] of bad) {
      const answer = await request(admin, type, subject);
      expect(answer.status, `${type} ${String(subject).slice(0, 40)}`).toBe(400);
      expect(answer.body.code).toBe('validation.failed');
      expect(answer.text.length).toBeLessThan(2_000);
    }
    const others = [
      await call('POST', '/api/v1/privacy/requests', {
        token: admin,
        body: { type: 'access', subject: 'erp-party:50000', extra: 1 },
      }),
      await call('POST', '/api/v1/privacy/requests', { token: admin, body: { type: 'access' } }),
      await call('POST', '/api/v1/privacy/requests', { token: admin, raw: '{"type": "access", "subject": ' }),
      await call('POST', '/api/v1/privacy/requests', { token: admin, raw: '[]' }),
      await call('POST', '/api/v1/privacy/certificates/verify', { token: admin, body: { certificate: 'x' } }),
      await call('GET', '/api/v1/privacy/requests/..%2F..%2Fkeys/certificate', { token: admin }),
      await call('GET', '/api/v1/privacy/requests/dsr-2026-1/certificate', { token: admin }),
      await call('GET', '/api/v1/privacy/requests?state=lost', { token: admin }),
    ];
    for (const answer of others) expect(answer.status).toBe(400);
    expect(await count()).toBe(requestsBefore);
    expect((await auditEntries()).length).toBe(auditBefore);
    expect(await privacy.ring.state(subjectOf('50000'))).toBe('active');

    const missing = await call('GET', '/api/v1/privacy/requests/dsr-20261123-0000abcd/certificate', {
      token: admin,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('certificate.not_found');
  });

  it('a subject with no data gets a certificate saying so, and nothing is opened', async () => {
    const admin = await token('platform-admin');
    const nobody = await request(admin, 'access', 'sap-user:NOBODY01');
    expect(nobody.status).toBe(201);
    expect(nobody.body.data).toMatchObject({ key: 'none', tables: [] });
    expect(nobody.body.certificate.certificate.found).toEqual({});
  });
});
