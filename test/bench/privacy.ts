import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '@aurora/azurite';
import { systemClock } from '@aurora/core';
import { storageFromConnectionString, toJsonRows } from '@aurora/lake';
import { AuditLog, Guardian, KeyRing, localPrivacyKeys, tableKeyTable } from '@aurora/privacy';
import { DuckDBInstance } from '@duckdb/node-api';
import type { BenchRow } from './table.js';

const SUBJECTS = 5_000;
const VALUES = 200_000;
const BIG_ROWS = 2_000_000;
const REQUESTS = 20;

/**
 * Personal data: sealing at landing (KeyRing: a data key per subject, created and wrapped on first use,
 * kept in the key table on Azurite) beside bare AES-256-GCM under one key; and Guardian's data-subject
 * requests (search silver and gold, open, audit, certificate) beside the same searches alone, over a
 * warehouse of 5,000 sealed contacts and a 2 M-row table of plant data.
 */
export async function benchPrivacy(): Promise<BenchRow[]> {
  const azurite = await startAzurite();
  const home = await mkdtemp(join(tmpdir(), 'aurora-bench-privacy-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const storage = storageFromConnectionString(azurite.connectionString);
    const keys = await localPrivacyKeys(join(home, 'privacy.json'));
    const ring = new KeyRing({
      keys,
      table: tableKeyTable(storage.table('privacykeys')),
      clock: systemClock,
    });
    const subjectOf = (i: number) => `erp-party:${50_000 + (i % SUBJECTS)}`;
    const email = (i: number) => `contact.${i}@example-customer.de`;

    let started = performance.now();
    const key = randomBytes(32);
    for (let i = 0; i < VALUES; i++) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      Buffer.concat([iv, cipher.update(email(i)), cipher.final(), cipher.getAuthTag()]).toString('base64url');
    }
    const bareRate = VALUES / ((performance.now() - started) / 1000);

    started = performance.now();
    const sealed: string[] = [];
    for (let i = 0; i < VALUES; i++) sealed.push((await ring.seal(subjectOf(i), email(i)))!);
    const ringRate = VALUES / ((performance.now() - started) / 1000);

    await connection.run(`CREATE SCHEMA silver; CREATE SCHEMA gold;
      CREATE TABLE silver.customer_contacts (party_id BIGINT, email VARCHAR, phone VARCHAR, country VARCHAR);
      CREATE TABLE silver.machine_states AS
        SELECT i AS state_id, 'AUG-M' || (i % 120) AS machine_id, 'RUN' AS state, 'order ' || i AS note FROM range(${BIG_ROWS}) t(i);
      CREATE TABLE gold.agg_oee_hourly AS SELECT 'AUG' AS facility_id, i AS hour, 0.7 AS oee FROM range(200000) t(i);`);
    const appender = await connection.createAppender('customer_contacts', 'silver');
    for (let i = 0; i < SUBJECTS; i++) {
      appender.appendBigInt(BigInt(50_000 + i));
      appender.appendVarchar(sealed[i]!);
      appender.appendVarchar(sealed[i + SUBJECTS]!);
      appender.appendVarchar('DE');
      appender.endRow();
    }
    appender.closeSync();
    const search = {
      async query(sql: string) {
        const reader = await connection.runAndReadAll(sql);
        return toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson());
      },
    };
    const guardian = new Guardian({
      ring,
      audit: new AuditLog(storage.lake, systemClock),
      lake: storage.lake,
      clock: systemClock,
      search,
      deadlineH: 72,
    });
    const reader = { actor: 'bench', roles: ['cli'], through: 'bench' };

    // Reference: the searches a request makes, nothing else.
    started = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const keyId = ring.keyIdOf(subjectOf(i));
      for (const [table, columns] of [
        ['silver.customer_contacts', ['email', 'phone', 'country']],
        ['silver.machine_states', ['machine_id', 'state', 'note']],
        ['gold.agg_oee_hourly', ['facility_id']],
      ] as const)
        await search.query(
          `SELECT * FROM ${table} WHERE ${columns.map((c) => `${c} LIKE '%pd1.${keyId}.%'`).join(' OR ')}`,
        );
    }
    const searchRate = REQUESTS / ((performance.now() - started) / 1000);

    started = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      await guardian.access(subjectOf(i), reader);
      await guardian.delete(subjectOf(i), reader);
    }
    const requestRate = (2 * REQUESTS) / ((performance.now() - started) / 1000);
    const perYear = requestRate * 3600 * 24 * 365;
    return [
      { name: 'personal data: AES-256-GCM alone, one key', value: bareRate, unit: 'values/s', ratio: 1 },
      {
        name: `personal data: sealed at landing (key per subject, ${SUBJECTS.toLocaleString('en')} subjects)`,
        value: ringRate,
        unit: 'values/s',
        ratio: ringRate / bareRate,
        note: 'keys created, wrapped and stored on first use; Azurite key table',
      },
      {
        name: 'GDPR request: the warehouse searches alone',
        value: searchRate * 3600,
        unit: 'requests/h',
        ratio: 1,
      },
      {
        name: 'GDPR request: access + delete with certificates',
        value: requestRate * 3600,
        unit: 'requests/h',
        ratio: requestRate / searchRate,
        note: `${Math.round(perYear).toLocaleString('en')}/year at this rate; target 50,000/year`,
      },
    ];
  } finally {
    connection.closeSync();
    instance.closeSync();
    await azurite.close();
    await rm(home, { recursive: true, force: true });
  }
}
