import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, systemClock } from '@aurora/core';
import { CUSTOMERS, contactPartyId } from '@aurora/plant';
import { openStorage } from '@aurora/platform';
import { openPrivacy } from '@aurora/privacy';
import { afterAll, describe, expect, it } from 'vitest';
import { aurora } from './cli.js';

const homes: string[] = [];
afterAll(async () => {
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

const AT = '2026-11-23T08:00:00Z';
const customer = CUSTOMERS[0]!;
// The ERP stand-in's person party for the customer's buyer.
const contactParty = contactPartyId(customer.partyId);
const subject = `erp-party:${contactParty}`;

describe('aurora privacy (Guardian) after aurora run --once', () => {
  it('access -> delete -> access: the data, a certificate with a SHA-256 that verifies, then nothing personal; bronze stays sealed and unreadable', async () => {
    const home = await mkdtemp(join(tmpdir(), 'aurora-privacy-'));
    homes.push(home);
    const env = { AURORA_HOME: home };
    const run = await aurora(['run', '--once', '--seed', '1', '--at', AT], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    // Silver holds the contact sealed, not in clear.
    const silver = await aurora(
      [
        'query',
        `SELECT email FROM silver.customer_contacts WHERE party_id = ${contactParty}`,
        '--format',
        'json',
      ],
      env,
    );
    const [sealedRow] = JSON.parse(silver.stdout) as { email: string }[];
    expect(sealedRow?.email).toMatch(/^pd1\.[A-Za-z0-9_-]{22}\./);

    const first = await aurora(['privacy', 'access', '--subject', subject], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('silver.customer_contacts');
    expect(first.stdout).toContain(customer.email);
    expect(first.stderr).toMatch(
      /certificate privacy\/certificates\/dsr-\d{8}-[0-9a-f]{8}\.json {2}sha256 [0-9a-f]{64}/,
    );

    const erased = await aurora(['privacy', 'delete', '--subject', subject, '--json'], env);
    expect(erased.code, erased.stderr).toBe(0);
    const certificate = JSON.parse(erased.stdout) as {
      certificate: { id: string; type: string; key: string; found: Record<string, number> };
      sha256: string;
    };
    expect(certificate.certificate).toMatchObject({ type: 'delete', key: 'erased' });
    expect(certificate.certificate.found['silver.customer_contacts']).toBe(1);
    expect(certificate.sha256).toMatch(/^[0-9a-f]{64}$/);

    const after = await aurora(['privacy', 'access', '--subject', subject], env);
    expect(after.code, after.stderr).toBe(0);
    for (const personal of [customer.email, customer.phone, customer.contactName.split(' ')[0]!])
      expect(after.stdout).not.toContain(personal);

    // The certificate verifies by id and as a file; a tampered copy does not.
    expect((await aurora(['privacy', 'verify', certificate.certificate.id], env)).code).toBe(0);
    const file = join(home, 'certificate.json');
    await writeFile(file, erased.stdout);
    expect((await aurora(['privacy', 'verify', file], env)).stdout).toMatch(/is valid/);
    const tampered = JSON.parse(await readFile(file, 'utf8'));
    tampered.certificate.found['silver.customer_contacts'] = 0;
    await writeFile(file, JSON.stringify(tampered));
    const refused = await aurora(['privacy', 'verify', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/INVALID: SHA-256 mismatch/);

    // Every read of personal data was audited: the first access opened the subject's values.
    const audit = JSON.parse(
      (await aurora(['privacy', 'audit', '--subject', subject, '--json'], env)).stdout,
    ) as { action: string; values: number; through: string }[];
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((e) => e.through === 'aurora privacy access' && e.values > 0)).toBe(true);

    // The next medallion run anonymises silver: the subject's values are gone, other contacts stay sealed.
    expect((await aurora(['pipelines', 'run'], env)).code).toBe(0);
    const rows = JSON.parse(
      (
        await aurora(
          [
            'query',
            'SELECT party_id, email FROM silver.customer_contacts ORDER BY party_id',
            '--format',
            'json',
          ],
          env,
        )
      ).stdout,
    ) as { party_id: string | number; email: string | null }[];
    expect(rows.find((r) => String(r.party_id) === String(contactParty))?.email).toBeNull();
    expect(
      rows
        .filter((r) => String(r.party_id) !== String(contactParty))
        .every((r) => r.email?.startsWith('pd1.')),
    ).toBe(true);

    // Bronze is immutable and still holds the sealed value: it no longer opens.
    const config = loadConfig(env);
    const storage = await openStorage(config, 'ephemeral');
    try {
      const { ring } = await openPrivacy(config, storage, systemClock);
      expect(await ring.open(sealedRow!.email)).toMatchObject({ state: 'erased' });
    } finally {
      await storage.close();
    }
    expect((await aurora(['privacy', 'requests', '--json'], env)).code).toBe(0);
  }, 300_000);
});
