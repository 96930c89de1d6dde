import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock } from '@aurora/core';
import { storageFromConnectionString, toJsonRows } from '@aurora/lake';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from './audit.js';
import { canonicalJson, Guardian } from './guardian.js';
import { localPrivacyKeys } from './kek.js';
import { tableKeyTable } from './key-table.js';
import { KeyRing } from './keyring.js';
import { MASKED, maskRows, revealRows } from './personal.js';

let azurite: RunningAzurite;
let home: string;
const clock = new ManualClock('2026-11-23T08:00:00Z');

beforeAll(async () => {
  azurite = await startAzurite();
  home = await mkdtemp(join(tmpdir(), 'aurora-guardian-'));
});
afterAll(async () => {
  await azurite.close();
  await rm(home, { recursive: true, force: true });
});

async function setup(name: string) {
  const storage = storageFromConnectionString(azurite.connectionString);
  const keys = await localPrivacyKeys(join(home, name, 'privacy.json'));
  const table = tableKeyTable(storage.table(`keys${name}`));
  const ring = new KeyRing({ keys, table, clock });
  const audit = new AuditLog(storage.lake, clock);
  return { storage, keys, table, ring, audit };
}

/** A warehouse with the subject's sealed values in silver and gold, whole and inside quarantined JSON. */
async function warehouse(ring: KeyRing) {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const anna = 'erp-party:50012';
  const ben = 'erp-party:50013';
  const s = async (subject: string, text: string) => `'${await ring.seal(subject, text)}'`;
  await connection.run(`
    CREATE SCHEMA silver; CREATE SCHEMA gold;
    CREATE TABLE silver.customer_contacts (party_id BIGINT, first_name VARCHAR, email VARCHAR, phone VARCHAR, country VARCHAR);
    INSERT INTO silver.customer_contacts VALUES
      (50012, ${await s(anna, 'Anna')}, ${await s(anna, 'anna.mueller@alpenstahl.de')}, ${await s(anna, '+49 821 5550123')}, 'DE'),
      (50013, ${await s(ben, 'Ben')}, ${await s(ben, 'ben@nordwerk.de')}, NULL, 'DE');
    CREATE TABLE silver.quarantine (model VARCHAR, reason VARCHAR, row_json VARCHAR);
    INSERT INTO silver.quarantine VALUES ('customer_contacts', 'late', '{"email":"' || ${await s(anna, 'anna@old.de')} || '","cc":"' || ${await s(ben, 'ben@nordwerk.de')} || '","party_id":50012}');
    CREATE TABLE gold.dim_customer (cust_account_id BIGINT, name VARCHAR, contact_email VARCHAR);
    INSERT INTO gold.dim_customer VALUES (7001, 'Alpenstahl GmbH', ${await s(anna, 'anna.mueller@alpenstahl.de')}), (7002, 'Nordwerk AG', ${await s(ben, 'ben@nordwerk.de')});
    CREATE TABLE gold.agg_oee_daily (facility_id VARCHAR, oee DOUBLE);
    INSERT INTO gold.agg_oee_daily VALUES ('AUG', 0.71);
  `);
  return {
    anna,
    ben,
    search: {
      async query(sql: string) {
        const reader = await connection.runAndReadAll(sql);
        return toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson());
      },
    },
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

const admin = { actor: 'cli:ops', roles: ['Aurora.PlatformAdmin'], through: 'aurora privacy' };

describe('the key ring on the key table (Azurite)', () => {
  it('creates one key per subject, shared by two rings racing on a new subject', async () => {
    const { keys, table, ring } = await setup('race');
    const other = new KeyRing({ keys, table, clock });
    const [a, b] = await Promise.all([
      ring.seal('sap-user:BUYER01', 'BUYER01'),
      other.seal('sap-user:BUYER01', 'x'),
    ]);
    expect((await other.open(a!)).state).toBe('open');
    expect(await ring.open(b!)).toEqual({ state: 'open', value: 'x' });
    expect(await ring.state('sap-user:BUYER01')).toBe('active');
    expect(await ring.state('sap-user:NOBODY')).toBe('none');
    // The key id does not name the subject, and differs with another installation's index key.
    expect(ring.keyIdOf('sap-user:BUYER01')).not.toContain('BUYER01');
    const elsewhere = await setup('elsewhere');
    expect(elsewhere.ring.keyIdOf('sap-user:BUYER01')).not.toBe(ring.keyIdOf('sap-user:BUYER01'));
  });

  it('after destroy, nothing opens (in this process and in a fresh one), and the subject is not collected again', async () => {
    const { keys, table, ring } = await setup('shred');
    const sealed = (await ring.seal('erp-party:1', 'anna@example.com'))!;
    const before = new KeyRing({ keys, table, clock, cacheMs: 0 });
    expect((await before.open(sealed)).state).toBe('open');
    expect(await ring.destroy('erp-party:1', 'dsr-20261123-00000001')).toEqual({
      keyId: ring.keyIdOf('erp-party:1'),
      destroyed: true,
    });
    expect(await ring.open(sealed)).toEqual({ state: 'erased', keyId: ring.keyIdOf('erp-party:1') });
    expect((await before.open(sealed)).state).toBe('erased');
    expect(await ring.seal('erp-party:1', 'anna@new.example.com')).toBeUndefined();
    expect(await ring.destroyedKeyIds()).toEqual([ring.keyIdOf('erp-party:1')]);
    // The tombstone holds no key material.
    const record = await table.get(ring.keyIdOf('erp-party:1'));
    expect(record).toMatchObject({ state: 'destroyed', requestId: 'dsr-20261123-00000001' });
    expect(JSON.stringify(record)).not.toMatch(/wrapped|kekId/);
  });

  it('refuses subject ids that are e-mail addresses, traversal or junk', async () => {
    const { ring } = await setup('ids');
    for (const bad of [
      'anna@example.com',
      'erp-party:a@b',
      '../../etc',
      'erp-party:',
      'x:1',
      `erp-party:${'9'.repeat(300)}`,
      'ERP:1',
      'erp-party:1 2',
    ])
      expect(() => ring.keyIdOf(bad), bad).toThrow(/not a subject id/);
  });
});

describe('reading personal data', () => {
  it('opens for allowed readers with one audit entry per subject, masks for the others', async () => {
    const { ring, audit, storage } = await setup('reveal');
    const w = await warehouse(ring);
    const rows = await w.search.query('SELECT * FROM silver.customer_contacts ORDER BY party_id');
    const analyst = { actor: 'user-1', roles: ['Aurora.Analyst'], through: 'GET /api/v1/customers' };
    const opened = await revealRows(rows, ring, audit, analyst);
    expect(opened[0]).toMatchObject({
      first_name: 'Anna',
      email: 'anna.mueller@alpenstahl.de',
      phone: '+49 821 5550123',
    });
    expect(opened[1]).toMatchObject({ first_name: 'Ben', phone: null });
    const entries = [];
    for await (const e of new AuditLog(storage.lake, clock).entries()) entries.push(e);
    expect(
      entries
        .filter((e) => e.actor === 'user-1')
        .map((e) => [e.keyId, e.values])
        .sort(),
    ).toEqual(
      [
        [ring.keyIdOf(w.anna), 3],
        [ring.keyIdOf(w.ben), 2],
      ].sort(),
    );
    expect(maskRows(rows)[0]).toMatchObject({
      first_name: MASKED,
      email: MASKED,
      country: 'DE',
      party_id: 50012,
    });
    w.close();
  });
});

describe('Guardian', () => {
  it('access -> delete -> access: the data, a certificate with a SHA-256 that verifies, then nothing personal', async () => {
    const { ring, audit, storage } = await setup('dsr');
    const w = await warehouse(ring);
    const guardian = new Guardian({
      ring,
      audit,
      lake: storage.lake,
      clock,
      search: w.search,
      deadlineH: 72,
    });

    const first = await guardian.access(w.anna, admin);
    expect(first.data.key).toBe('active');
    expect(first.data.tables.map((t) => [t.table, t.rows.length])).toEqual([
      ['gold.dim_customer', 1],
      ['silver.customer_contacts', 1],
      ['silver.quarantine', 1],
    ]);
    expect(JSON.stringify(first.data)).toContain('anna.mueller@alpenstahl.de');
    expect(JSON.stringify(first.data)).toContain('anna@old.de');
    expect(JSON.stringify(first.data)).not.toContain('ben@nordwerk.de');
    expect(first.certificate.sha256).toBe(
      (await import('node:crypto'))
        .createHash('sha256')
        .update(canonicalJson(first.certificate.certificate))
        .digest('hex'),
    );
    expect(first.request.dueBy).toBe('2026-11-26T08:00:00.000Z');
    expect(await guardian.verify(first.certificate)).toEqual([]);

    const exported = await guardian.export(w.anna, admin);
    expect(exported.certificate.certificate.exportSha256).toMatch(/^[0-9a-f]{64}$/);

    const erased = await guardian.delete(w.anna, admin);
    expect(erased.certificate.certificate.key).toBe('erased');
    expect(erased.certificate.certificate.found).toEqual({
      'gold.dim_customer': 1,
      'silver.customer_contacts': 1,
      'silver.quarantine': 1,
    });
    expect(await guardian.verify(erased.certificate)).toEqual([]);

    const after = await guardian.access(w.anna, admin);
    expect(after.data.key).toBe('erased');
    const text = JSON.stringify(after.data);
    for (const plain of ['Anna', 'anna.mueller', '+49 821', 'anna@old.de']) expect(text).not.toContain(plain);
    expect(text).toContain('[erased]');
    // Ben is untouched.
    expect(JSON.stringify((await guardian.access(w.ben, admin)).data)).toContain('ben@nordwerk.de');

    const ours = new Set([first, exported, erased, after].map((o) => o.request.id));
    const listed = (await guardian.requests()).filter((r) => ours.has(r.id));
    expect(listed.map((r) => `${r.type} ${r.state}`).sort()).toEqual([
      'access done',
      'access done',
      'delete done',
      'export done',
    ]);
    w.close();
  });

  it('a tampered certificate fails verification, rehashed or not, and so does a forged one', async () => {
    const { ring, audit, storage } = await setup('tamper');
    const w = await warehouse(ring);
    const guardian = new Guardian({
      ring,
      audit,
      lake: storage.lake,
      clock,
      search: w.search,
      deadlineH: 72,
    });
    const { certificate } = await guardian.delete(w.ben, admin);
    const edited = structuredClone(certificate);
    edited.certificate.completedAt = '2026-11-20T00:00:00.000Z';
    expect((await guardian.verify(edited)).join()).toMatch(/SHA-256 mismatch/);
    const { createHash } = await import('node:crypto');
    edited.sha256 = createHash('sha256').update(canonicalJson(edited.certificate)).digest('hex');
    expect((await guardian.verify(edited)).join()).toMatch(/lake's certificate .* has SHA-256/);
    const forged = structuredClone(certificate);
    forged.certificate.id = 'dsr-20261123-deadbeef';
    forged.sha256 = createHash('sha256').update(canonicalJson(forged.certificate)).digest('hex');
    expect((await guardian.verify(forged)).join()).toMatch(/holds no certificate dsr-20261123-deadbeef/);
    expect(await guardian.verify({ hello: 1 })).toEqual([expect.stringMatching(/not a certificate/)]);
    w.close();
  });

  it('tracks the 72-hour deadline: a request received and not completed turns overdue', async () => {
    const { ring, audit, storage } = await setup('deadline');
    const w = await warehouse(ring);
    const failing = { query: async () => Promise.reject(new Error('warehouse gone')) };
    const guardian = new Guardian({ ring, audit, lake: storage.lake, clock, search: failing, deadlineH: 72 });
    await expect(guardian.access(w.anna, admin)).rejects.toThrow(/warehouse gone/);
    const keyId = ring.keyIdOf(w.anna);
    const mine = async (g: Guardian) =>
      (await g.requests()).filter((r) => r.keyId === keyId && r.type === 'access');
    expect((await mine(guardian)).map((r) => r.state)).toEqual(['open']);
    const later = new ManualClock('2026-11-26T08:00:01Z');
    const lateGuardian = new Guardian({
      ring,
      audit,
      lake: storage.lake,
      clock: later,
      search: w.search,
      deadlineH: 72,
    });
    expect((await mine(lateGuardian)).map((r) => r.state)).toEqual(['overdue']);
    w.close();
  });
});
