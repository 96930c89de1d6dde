import { beforeAll, describe, expect, it } from 'vitest';
import { FORBIDDEN_ROLES } from './access-plan.js';
import { STACK_NAMES, type StackName } from './config.js';
import { findViolations, type InventoryResource } from './guardrails.js';
import { buildInventory } from './inventory.js';

type Props = Record<string, unknown>;

const inventories = new Map<StackName, InventoryResource[]>();
beforeAll(async () => {
  for (const stack of STACK_NAMES) inventories.set(stack, await buildInventory(stack));
}, 60_000);

/** A deep copy of the prod inventory with one resource changed. */
function prodWith(name: string, change: (props: Props) => void): InventoryResource[] {
  const copy = structuredClone(inventories.get('prod')!);
  const target = copy.find((r) => r.name === name);
  if (!target) throw new Error(`no resource ${name} in the prod inventory`);
  change(target.props);
  return copy;
}
const settingsOf = (props: Props) =>
  (props['siteConfig'] as Props)['appSettings'] as { name: string; value: string }[];
const rulesOf = (inventory: InventoryResource[]) =>
  findViolations(inventory).map((v) => `${v.rule} ${v.resource}`);

describe('guardrails', () => {
  it.each(STACK_NAMES)('finds no violation in the %s stack', (stack) => {
    expect(findViolations(inventories.get(stack)!)).toEqual([]);
  });

  it('flags a public PaaS endpoint but accepts the public API gateway', () => {
    const open = prodWith('lake', (p) => {
      p['publicNetworkAccess'] = 'Enabled';
    });
    expect(rulesOf(open)).toEqual(['public-network lake']);
    const grafana = prodWith('grafana', (p) => {
      (p['properties'] as Props)['publicNetworkAccess'] = 'Enabled';
    });
    expect(rulesOf(grafana)).toEqual(['public-network grafana']);
    const unset = prodWith('kv-aurora', (p) => {
      delete (p['properties'] as Props)['publicNetworkAccess'];
    });
    expect(findViolations(unset)).toEqual([
      expect.objectContaining({ rule: 'public-network', detail: expect.stringContaining('not set') }),
    ]);
    const apim = inventories.get('prod')!.find((r) => r.name === 'apim-aurora')!;
    expect(apim.props['publicNetworkAccess']).toBe('Enabled');
  });

  it('flags an NSG rule that opens a non-HTTPS port to the Internet', () => {
    const ssh = prodWith('nsg-func-api', (p) => {
      (p['securityRules'] as Props[]).push({
        name: 'allow-ssh',
        priority: 200,
        direction: 'Inbound',
        access: 'Allow',
        protocol: 'Tcp',
        sourceAddressPrefix: 'Internet',
        destinationAddressPrefix: '*',
        destinationPortRange: '22',
      });
    });
    expect(rulesOf(ssh)).toEqual(['public-network nsg-func-api']);
  });

  it('flags TLS below 1.2 on storage, apps and the gateway', () => {
    const tls10Storage = prodWith('func-host', (p) => {
      p['minimumTlsVersion'] = 'TLS1_0';
    });
    expect(rulesOf(tls10Storage)).toEqual(['tls func-host']);
    const tls11 = prodWith('func-api', (p) => {
      (p['siteConfig'] as Props)['minTlsVersion'] = '1.1';
    });
    expect(rulesOf(tls11)).toEqual(['tls func-api']);
    const tls10 = prodWith('apim-aurora', (p) => {
      (p['customProperties'] as Props)[
        'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10'
      ] = 'True';
    });
    expect(rulesOf(tls10)).toEqual(['tls apim-aurora']);
  });

  it('flags a vault without purge protection', () => {
    const vault = prodWith('kv-aurora', (p) => {
      (p['properties'] as Props)['enablePurgeProtection'] = false;
    });
    expect(findViolations(vault)).toEqual([
      { rule: 'key-vault', resource: 'kv-aurora', detail: 'purge protection off' },
    ]);
  });

  it('flags a PaaS service that lost a private endpoint or its DNS zone', () => {
    const withoutDfs = inventories.get('prod')!.filter((r) => r.name !== 'pe-lake-dfs');
    expect(findViolations(withoutDfs)).toEqual([
      { rule: 'private-endpoint', resource: 'lake', detail: 'no private endpoint for dfs' },
    ]);
    const wrongZone = prodWith('pe-vault-dns', (p) => {
      (p['privateDnsZoneConfigs'] as Props[])[0]!['privateDnsZoneId'] =
        '/zones/privatelink.blob.core.windows.net';
    });
    expect(rulesOf(wrongZone)).toEqual(['private-endpoint pe-vault']);
  });

  it('flags an app without its managed identity', () => {
    const noIdentity = prodWith('func-orchestrator', (p) => {
      p['identity'] = { type: 'None' };
    });
    expect(rulesOf(noIdentity)).toEqual(['identity func-orchestrator', 'identity func-orchestrator']);
  });

  it('flags plaintext secrets in app settings, by name and by value', () => {
    const password = prodWith('func-ingest', (p) => {
      const setting = settingsOf(p).find((s) => s.name === 'AURORA_ORACLE_ERP_PASSWORD')!;
      setting.value = 'hunter2';
    });
    expect(findViolations(password)).toEqual([
      {
        rule: 'plaintext-secret',
        resource: 'func-ingest',
        detail: 'AURORA_ORACLE_ERP_PASSWORD is not a Key Vault reference',
      },
    ]);
    const sas = prodWith('func-api', (p) => {
      settingsOf(p).push({ name: 'EXPORT_URL', value: 'https://x.blob.core.windows.net/c?sv=2024&sig=abc' });
    });
    expect(rulesOf(sas)).toEqual(['plaintext-secret func-api']);
    const dangling = prodWith('func-sap', (p) => {
      const setting = settingsOf(p).find((s) => s.name === 'AURORA_SAP_RFC_PASSWORD')!;
      setting.value = setting.value.replace('sap-rfc-password', 'sap-typo');
    });
    expect(findViolations(dangling)[0]?.detail).toMatch(/references a secret the stack does not declare/);
  });

  it('flags a personal-data key that is not an HSM key or does more than wrap and unwrap', () => {
    const software = prodWith('aurora-pd-kek', (p) => {
      (p['properties'] as Props)['kty'] = 'RSA';
    });
    expect(findViolations(software)).toEqual([
      { rule: 'personal-data', resource: 'aurora-pd-kek', detail: 'key type RSA is not HSM-protected' },
    ]);
    const decrypting = prodWith('aurora-pd-kek', (p) => {
      (p['properties'] as Props)['keyOps'] = ['wrapKey', 'unwrapKey', 'decrypt', 'sign'];
    });
    expect(findViolations(decrypting)).toEqual([
      {
        rule: 'personal-data',
        resource: 'aurora-pd-kek',
        detail: 'a key-encryption key also allows decrypt, sign',
      },
    ]);
    const unrestricted = prodWith('aurora-pd-kek', (p) => {
      delete (p['properties'] as Props)['keyOps'];
    });
    expect(findViolations(unrestricted)[0]?.detail).toBe('keyOps not set: every operation allowed');
  });

  it('flags an audit log that lost its retention or cannot grow', () => {
    const withoutPolicy = inventories
      .get('prod')!
      .filter((r) => r.type !== 'azure-native:storage:BlobContainerImmutabilityPolicy');
    expect(findViolations(withoutPolicy)).toEqual([
      { rule: 'personal-data', resource: 'lake-audit', detail: 'audit log without time-based retention' },
    ]);
    const zeroDays = prodWith('lake-audit-immutability', (p) => {
      p['immutabilityPeriodSinceCreationInDays'] = 0;
    });
    expect(rulesOf(zeroDays)).toEqual(['personal-data lake-audit']);
    const sealed = prodWith('lake-audit-immutability', (p) => {
      p['allowProtectedAppendWrites'] = false;
    });
    expect(rulesOf(sealed)).toEqual(['personal-data lake-audit-immutability']);
  });

  it('treats the privacy index key like any other secret: a Key Vault reference or a violation', () => {
    const inline = prodWith('func-api', (p) => {
      settingsOf(p).find((s) => s.name === 'AURORA_PRIVACY_INDEX_KEY')!.value = 'c2VjcmV0';
    });
    expect(findViolations(inline)).toEqual([
      {
        rule: 'plaintext-secret',
        resource: 'func-api',
        detail: 'AURORA_PRIVACY_INDEX_KEY is not a Key Vault reference',
      },
    ]);
  });

  it('flags owner-level roles and subscription-wide scopes', () => {
    const owner = prodWith('ra-api-storage-blob-data-reader-lake-gold', (p) => {
      p['roleDefinitionId'] =
        `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${FORBIDDEN_ROLES.Owner}`;
      p['scope'] = '/subscriptions/s';
    });
    expect(findViolations(owner).map((v) => v.detail)).toEqual([
      'assigns Owner',
      'scoped to the whole subscription',
    ]);
  });
});
