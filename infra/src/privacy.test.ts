import { beforeAll, describe, expect, it } from 'vitest';
import { APPS, BUILT_IN_ROLES, PRIVACY_INDEX_SECRET } from './access-plan.js';
import { buildInventory, type InventoryEntry } from './inventory.js';
import { fakeGuid } from './mocks.js';

/**
 * Personal-data protection (issue 8) as the prod stack declares it: the key-encryption key in Key Vault, the
 * table of wrapped data keys, the immutable audit log and the other privacy containers, the index key, and
 * what each app is granted and told. The names are contracts with the apps' code (docs/privacy.md).
 */
let prod: InventoryEntry[];
beforeAll(async () => {
  prod = await buildInventory('prod');
}, 60_000);

type Props = Record<string, unknown>;
const ofType = (type: string) => prod.filter((r) => r.type === `azure-native:${type}`);
const one = (type: string, match: (props: Props) => boolean): InventoryEntry => {
  const found = ofType(type).filter((r) => match(r.props));
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const lakeAccount = () =>
  String(one('storage:StorageAccount', (p) => p['isHnsEnabled'] === true).props['accountName']);
const vaultName = () => String(one('keyvault:Vault', () => true).props['vaultName']);
const settingsOf = (app: string) =>
  Object.fromEntries(
    (
      (
        one('web:WebApp', (p) => (p['tags'] as Props)['aurora-app'] === app).props['siteConfig'] as {
          appSettings: { name: string; value: string }[];
        }
      ).appSettings ?? []
    ).map((s) => [s.name, s.value]),
  );
/** Role assignments of one app's identity, as `role @ scope`. */
const grantsOf = (app: string) => {
  const roles = Object.fromEntries(Object.entries(BUILT_IN_ROLES).map(([name, id]) => [id, name]));
  return ofType('authorization:RoleAssignment')
    .filter((a) => a.props['principalId'] === fakeGuid(`id-${app}/principal`))
    .map(
      (a) => `${roles[String(a.props['roleDefinitionId']).split('/').pop()!]} @ ${String(a.props['scope'])}`,
    );
};

describe('personal-data protection in the prod stack', () => {
  it('declares the key-encryption key aurora-pd-kek: RSA-HSM 3072 in the Premium vault, wrap/unwrap only, rotated yearly', () => {
    const kek = one('keyvault:Key', (p) => p['keyName'] === 'aurora-pd-kek');
    expect(kek.props['vaultName']).toBe(vaultName());
    expect(one('keyvault:Vault', () => true).props).toMatchObject({
      properties: { sku: { name: 'premium' } },
    });
    expect(kek.props['properties']).toMatchObject({
      kty: 'RSA-HSM',
      keySize: 3072,
      keyOps: ['wrapKey', 'unwrapKey'],
      attributes: { enabled: true, exportable: false },
      rotationPolicy: {
        attributes: { expiryTime: 'P2Y' },
        lifetimeActions: [
          { trigger: { timeAfterCreate: 'P1Y' }, action: { type: 'rotate' } },
          { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'notify' } },
        ],
      },
    });
    // The KEK replaced the earlier pii-kek: there is one personal-data key, not two.
    expect(ofType('keyvault:Key')).toHaveLength(1);
  });

  it('keeps wrapped data keys in the table privacykeys of the lake account, which nothing versions or backs up', () => {
    const table = one('storage:Table', (p) => p['tableName'] === 'privacykeys');
    expect(table.props['accountName']).toBe(lakeAccount());
    expect(table.name).toBe('lake-table-privacykeys');
    // No backup vault or policy could keep a destroyed key; no blob container holds keys.
    expect(prod.filter((r) => /^azure-native:(dataprotection|recoveryservices):/.test(r.type))).toEqual([]);
    const containers = ofType('storage:BlobContainer').map((c) => String(c.props['containerName']));
    expect(containers.filter((c) => /key/.test(c))).toEqual([]);
  });

  it('creates the private containers audit, privacy and reports in the lake', () => {
    for (const name of ['audit', 'privacy', 'reports']) {
      const container = one('storage:BlobContainer', (p) => p['containerName'] === name);
      expect(container.props).toMatchObject({ accountName: lakeAccount(), publicAccess: 'None' });
    }
  });

  it('keeps the audit log write-once for three years: append blobs may grow, nothing is changed or deleted', () => {
    const policy = one('storage:BlobContainerImmutabilityPolicy', (p) => p['containerName'] === 'audit');
    expect(policy.props).toEqual({
      resourceGroupName: 'rg-aurora-prod',
      accountName: lakeAccount(),
      containerName: 'audit',
      immutabilityPolicyName: 'default',
      immutabilityPeriodSinceCreationInDays: 1095,
      allowProtectedAppendWrites: true,
    });
    // Only the audit container is WORM: privacy request records and reports may be corrected.
    expect(ofType('storage:BlobContainerImmutabilityPolicy')).toHaveLength(1);
  });

  it('creates the index key with the placeholder only, so that its value never passes through Pulumi state', () => {
    const secret = one('keyvault:Secret', (p) => p['secretName'] === 'privacy-index-key');
    expect(secret.props).toMatchObject({
      vaultName: vaultName(),
      properties: { contentType: 'text/plain', value: '[redacted]' },
    });
    expect((secret.props['tags'] as Props)['rotation']).toMatch(/^never/);
    // Node decodes base64 leniently (it skips what is not base64): the placeholder must still be refused by
    // the apps' 32-byte check, or it would silently derive key ids.
    expect(Buffer.from(PRIVACY_INDEX_SECRET.placeholder, 'base64').length).toBeLessThan(32);
  });

  it.each(APPS)('tells the %s app where the KEK, the key table and the index key are', (app) => {
    const settings = settingsOf(app);
    // Versionless: wrapping uses the newest version of the key; unwrapping uses the kid stored with each key.
    expect(settings['AURORA_PRIVACY_KEK']).toBe(`https://${vaultName()}.vault.azure.net/keys/aurora-pd-kek`);
    expect(settings['AURORA_PRIVACY_KEY_TABLE']).toBe('privacykeys');
    expect(settings['AURORA_PRIVACY_INDEX_KEY']).toBe(
      `@Microsoft.KeyVault(SecretUri=https://${vaultName()}.vault.azure.net/secrets/privacy-index-key)`,
    );
    expect(settings['AURORA_LAKE_TABLE_URL']).toBe(`https://${lakeAccount()}.table.core.windows.net/`);
    expect(settings).not.toHaveProperty('AURORA_PII_KEY_URL');
  });

  it.each(APPS)(
    'lets the %s app wrap and unwrap with the KEK, read the index key and reach the key table',
    (app) => {
      const grants = grantsOf(app);
      const account = `/providers/Microsoft.Storage/storageAccounts/${lakeAccount()}`;
      const kek = grants.filter((g) => g.endsWith(`/vaults/${vaultName()}/keys/aurora-pd-kek`));
      expect(kek).toEqual([expect.stringMatching(/^Key Vault Crypto Service Encryption User @ /)]);
      expect(grants.filter((g) => g.endsWith('/secrets/privacy-index-key'))).toEqual([
        expect.stringMatching(/^Key Vault Secrets User @ /),
      ]);
      // Landing writes keys (on the table service, shared with checkpoints); the api reads them, and its Guardian
      // replaces an erased subject's key by a tombstone, with write access to this one table only.
      const tableGrants = grants
        .filter((g) => g.includes(`${account}/tableServices/`))
        .map((g) => g.replace(` @ ${g.split(' @ ')[1]!.split(account)[0]}${account}`, ' @ '))
        .sort();
      expect(tableGrants).toEqual(
        app === 'api'
          ? [
              'Storage Table Data Contributor @ /tableServices/default/tables/privacykeys',
              'Storage Table Data Reader @ /tableServices/default',
            ]
          : ['Storage Table Data Contributor @ /tableServices/default'],
      );
      // Nothing broader on keys: no Crypto User (update, backup), Officer or vault-wide role.
      expect(grants.filter((g) => g.includes('Microsoft.KeyVault') && !g.includes('/secrets/'))).toEqual(kek);
    },
  );

  it('lets the api and orchestrator write audit, privacy and reports, and the landing apps none of them', () => {
    const privacyContainers = (app: string) =>
      grantsOf(app)
        .filter((g) => /\/containers\/(audit|privacy|reports)$/.test(g))
        .map((g) => `${g.split(' @ ')[0]} @ ${g.split('/').pop()}`)
        .sort();
    for (const app of ['api', 'orchestrator']) {
      expect(privacyContainers(app), app).toEqual([
        'Storage Blob Data Contributor @ audit',
        'Storage Blob Data Contributor @ privacy',
        'Storage Blob Data Contributor @ reports',
      ]);
    }
    for (const app of ['ingest', 'sap']) expect(privacyContainers(app), app).toEqual([]);
  });
});
