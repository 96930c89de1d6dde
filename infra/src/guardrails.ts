import { FORBIDDEN_ROLES } from './access-plan.js';
import { azureName } from './mocks.js';

/**
 * The platform's security guardrails, checked against a resource inventory (what `buildInventory`
 * returns). Each check names the resource and the rule it breaks; an empty list means the stack keeps
 * every rule. Pure data in, data out: the tests run it on every stack and on deliberately broken copies.
 */

export interface InventoryResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

export interface Violation {
  rule:
    | 'public-network'
    | 'tls'
    | 'key-vault'
    | 'private-endpoint'
    | 'identity'
    | 'plaintext-secret'
    | 'rbac'
    | 'personal-data';
  resource: string;
  detail: string;
}

type Props = Record<string, unknown>;
const T = 'azure-native:';

const get = (value: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, key) => (typeof v === 'object' && v !== null ? (v as Props)[key] : undefined),
      value,
    );
const ofType = (inventory: readonly InventoryResource[], type: string) =>
  inventory.filter((r) => r.type === `${T}${type}`);
const lastSegment = (id: unknown) => (typeof id === 'string' ? (id.split('/').pop() ?? '') : '');
const nameOf = (r: InventoryResource) => azureName(r.type, r.name, r.props);

/** The only resource type allowed to accept public traffic: the API gateway partners call. */
export const PUBLIC_BY_DESIGN = [`${T}apimanagement:ApiManagementService`];

/** Where each PaaS type keeps its public-network switch, and which private endpoints it must have. */
export const PAAS_RULES: Record<
  string,
  { publicNetworkPaths: string[]; groupIds: (r: InventoryResource) => string[] }
> = {
  'storage:StorageAccount': {
    publicNetworkPaths: ['publicNetworkAccess'],
    groupIds: (r) =>
      r.props['isHnsEnabled'] === true ? ['blob', 'dfs', 'table'] : ['blob', 'queue', 'table'],
  },
  'keyvault:Vault': { publicNetworkPaths: ['properties.publicNetworkAccess'], groupIds: () => ['vault'] },
  'eventhub:Namespace': { publicNetworkPaths: ['publicNetworkAccess'], groupIds: () => ['namespace'] },
  'iothub:IotHubResource': {
    publicNetworkPaths: ['properties.publicNetworkAccess'],
    groupIds: () => ['iotHub'],
  },
  'synapse:Workspace': {
    publicNetworkPaths: ['publicNetworkAccess'],
    groupIds: () => ['Sql', 'SqlOnDemand', 'Dev'],
  },
  'web:WebApp': { publicNetworkPaths: ['publicNetworkAccess'], groupIds: () => ['sites'] },
  'dashboard:Grafana': {
    publicNetworkPaths: ['properties.publicNetworkAccess'],
    groupIds: () => ['grafana'],
  },
  'operationalinsights:Workspace': {
    publicNetworkPaths: ['publicNetworkAccessForIngestion', 'publicNetworkAccessForQuery'],
    groupIds: () => [],
  },
  'applicationinsights:Component': {
    publicNetworkPaths: ['publicNetworkAccessForIngestion', 'publicNetworkAccessForQuery'],
    groupIds: () => [],
  },
  'monitor:PrivateLinkScope': { publicNetworkPaths: [], groupIds: () => ['azuremonitor'] },
};

/** The privatelink zone each private-endpoint sub-resource must register in. */
export const ZONE_FOR_GROUP: Record<string, string> = {
  blob: 'privatelink.blob.core.windows.net',
  dfs: 'privatelink.dfs.core.windows.net',
  table: 'privatelink.table.core.windows.net',
  queue: 'privatelink.queue.core.windows.net',
  vault: 'privatelink.vaultcore.azure.net',
  namespace: 'privatelink.servicebus.windows.net',
  iotHub: 'privatelink.azure-devices.net',
  Sql: 'privatelink.sql.azuresynapse.net',
  SqlOnDemand: 'privatelink.sql.azuresynapse.net',
  Dev: 'privatelink.dev.azuresynapse.net',
  sites: 'privatelink.azurewebsites.net',
  grafana: 'privatelink.grafana.azure.com',
  azuremonitor: 'privatelink.monitor.azure.com',
};

function publicNetwork(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  const walk = (r: InventoryResource, value: unknown, path: string) => {
    if (typeof value !== 'object' || value === null) return;
    for (const [key, v] of Object.entries(value as Props)) {
      const here = path ? `${path}.${key}` : key;
      if (/^publicNetworkAccess/.test(key) && v !== 'Disabled' && !PUBLIC_BY_DESIGN.includes(r.type)) {
        out.push({ rule: 'public-network', resource: r.name, detail: `${here} is ${JSON.stringify(v)}` });
      }
      walk(r, v, here);
    }
  };
  for (const r of inventory) walk(r, r.props, '');
  for (const [type, rule] of Object.entries(PAAS_RULES)) {
    for (const r of ofType(inventory, type)) {
      for (const path of rule.publicNetworkPaths) {
        if (get(r.props, path) === undefined) {
          out.push({
            rule: 'public-network',
            resource: r.name,
            detail: `${path} is not set (Azure defaults to Enabled)`,
          });
        }
      }
    }
  }
  for (const r of ofType(inventory, 'storage:StorageAccount')) {
    if (r.props['allowBlobPublicAccess'] !== false) {
      out.push({ rule: 'public-network', resource: r.name, detail: 'allowBlobPublicAccess is not false' });
    }
    if (get(r.props, 'networkRuleSet.defaultAction') !== 'Deny') {
      out.push({
        rule: 'public-network',
        resource: r.name,
        detail: 'networkRuleSet.defaultAction is not Deny',
      });
    }
  }
  for (const r of ofType(inventory, 'keyvault:Vault')) {
    if (get(r.props, 'properties.networkAcls.defaultAction') !== 'Deny') {
      out.push({ rule: 'public-network', resource: r.name, detail: 'networkAcls.defaultAction is not Deny' });
    }
  }
  for (const r of ofType(inventory, 'eventhub:NamespaceNetworkRuleSet')) {
    if (r.props['defaultAction'] !== 'Deny') {
      out.push({ rule: 'public-network', resource: r.name, detail: 'defaultAction is not Deny' });
    }
  }
  for (const r of ofType(inventory, 'network:NetworkSecurityGroup')) {
    const rules = (r.props['securityRules'] as Props[] | undefined) ?? [];
    const openToInternet = rules.filter(
      (rule) =>
        rule['direction'] === 'Inbound' &&
        rule['access'] === 'Allow' &&
        ['Internet', '*', '0.0.0.0/0'].includes(String(rule['sourceAddressPrefix'])) &&
        rule['destinationPortRange'] !== '443',
    );
    for (const rule of openToInternet) {
      out.push({
        rule: 'public-network',
        resource: r.name,
        detail: `rule ${String(rule['name'])} opens a non-HTTPS port`,
      });
    }
  }
  return out;
}

function tls(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  const expect = (r: InventoryResource, path: string, wanted: unknown) => {
    const actual = get(r.props, path);
    if (actual !== wanted) {
      out.push({
        rule: 'tls',
        resource: r.name,
        detail: `${path} is ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`,
      });
    }
  };
  for (const r of ofType(inventory, 'storage:StorageAccount')) {
    expect(r, 'minimumTlsVersion', 'TLS1_2');
    expect(r, 'enableHttpsTrafficOnly', true);
  }
  for (const r of ofType(inventory, 'eventhub:Namespace')) expect(r, 'minimumTlsVersion', '1.2');
  for (const r of ofType(inventory, 'iothub:IotHubResource')) expect(r, 'properties.minTlsVersion', '1.2');
  for (const r of ofType(inventory, 'web:WebApp')) {
    expect(r, 'httpsOnly', true);
    expect(r, 'siteConfig.minTlsVersion', '1.2');
    expect(r, 'siteConfig.scmMinTlsVersion', '1.2');
    expect(r, 'siteConfig.ftpsState', 'Disabled');
  }
  for (const r of ofType(inventory, 'apimanagement:ApiManagementService')) {
    const custom = (r.props['customProperties'] as Props | undefined) ?? {};
    for (const protocol of ['Ssl30', 'Tls10', 'Tls11']) {
      for (const side of ['', 'Backend.']) {
        const key = `Microsoft.WindowsAzure.ApiManagement.Gateway.Security.${side}Protocols.${protocol}`;
        if (String(custom[key]).toLowerCase() !== 'false') {
          out.push({ rule: 'tls', resource: r.name, detail: `${key} is not False` });
        }
      }
    }
  }
  return out;
}

function keyVault(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  for (const r of ofType(inventory, 'keyvault:Vault')) {
    const p = (r.props['properties'] ?? {}) as Props;
    if (p['enablePurgeProtection'] !== true)
      out.push({ rule: 'key-vault', resource: r.name, detail: 'purge protection off' });
    if (p['enableSoftDelete'] !== true)
      out.push({ rule: 'key-vault', resource: r.name, detail: 'soft delete off' });
    if (p['enableRbacAuthorization'] !== true) {
      out.push({ rule: 'key-vault', resource: r.name, detail: 'access policies instead of RBAC' });
    }
    if (typeof p['softDeleteRetentionInDays'] !== 'number' || p['softDeleteRetentionInDays'] < 7) {
      out.push({ rule: 'key-vault', resource: r.name, detail: 'soft-delete retention below 7 days' });
    }
  }
  return out;
}

function privateEndpoints(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  const endpoints = ofType(inventory, 'network:PrivateEndpoint');
  const zoneGroups = ofType(inventory, 'network:PrivateDnsZoneGroup');
  for (const [type, rule] of Object.entries(PAAS_RULES)) {
    for (const service of ofType(inventory, type)) {
      const serviceName = nameOf(service);
      for (const groupId of rule.groupIds(service)) {
        const endpoint = endpoints.find((pe) => {
          const connection = (pe.props['privateLinkServiceConnections'] as Props[] | undefined)?.[0];
          return (
            lastSegment(connection?.['privateLinkServiceId']) === serviceName &&
            (connection?.['groupIds'] as string[] | undefined)?.includes(groupId)
          );
        });
        if (!endpoint) {
          out.push({
            rule: 'private-endpoint',
            resource: service.name,
            detail: `no private endpoint for ${groupId}`,
          });
          continue;
        }
        const group = zoneGroups.find((g) => g.props['privateEndpointName'] === nameOf(endpoint));
        const zones = ((group?.props['privateDnsZoneConfigs'] as Props[] | undefined) ?? []).map((c) =>
          lastSegment(c['privateDnsZoneId']),
        );
        const zone = ZONE_FOR_GROUP[groupId];
        if (!zone || !zones.includes(zone)) {
          out.push({
            rule: 'private-endpoint',
            resource: endpoint.name,
            detail: `${groupId} endpoint not registered in ${zone ?? '(unknown zone)'}`,
          });
        }
      }
    }
  }
  return out;
}

function identities(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  const userAssigned = new Set(ofType(inventory, 'managedidentity:UserAssignedIdentity').map(nameOf));
  for (const r of ofType(inventory, 'web:WebApp')) {
    const ids = (get(r.props, 'identity.userAssignedIdentities') as string[] | undefined) ?? [];
    if (!String(get(r.props, 'identity.type')).includes('UserAssigned') || ids.length === 0) {
      out.push({ rule: 'identity', resource: r.name, detail: 'no user-assigned managed identity' });
    }
    for (const id of ids) {
      if (!userAssigned.has(lastSegment(id))) {
        out.push({
          rule: 'identity',
          resource: r.name,
          detail: `identity ${id} is not declared in the stack`,
        });
      }
    }
    if (!ids.includes(String(r.props['keyVaultReferenceIdentity']))) {
      out.push({
        rule: 'identity',
        resource: r.name,
        detail: 'Key Vault references do not use the app identity',
      });
    }
  }
  for (const type of [
    'synapse:Workspace',
    'iothub:IotHubResource',
    'apimanagement:ApiManagementService',
    'dashboard:Grafana',
  ]) {
    for (const r of ofType(inventory, type)) {
      if (!get(r.props, 'identity.type'))
        out.push({ rule: 'identity', resource: r.name, detail: 'no managed identity' });
    }
  }
  return out;
}

/** Setting names that hold credentials by convention (any `..._KEY`, e.g. the privacy index key). */
export const SECRET_LIKE_NAME = /(password|passwd|secret|key|connection_?string|token|sas)$/i;
/** Values that look like credentials whatever the setting is called. */
export const SECRET_LIKE_VALUE =
  /(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|InstrumentationKey)=|[?&]sig=/i;
const KEY_VAULT_REFERENCE =
  /^@Microsoft\.KeyVault\(SecretUri=https:\/\/([a-z0-9-]+)\.vault\.azure\.net\/secrets\/([A-Za-z0-9-]+)\/?\)$/;

function plaintextSecrets(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  const vaults = new Set(ofType(inventory, 'keyvault:Vault').map(nameOf));
  const secrets = new Set(ofType(inventory, 'keyvault:Secret').map(nameOf));
  for (const r of ofType(inventory, 'web:WebApp')) {
    const settings =
      (get(r.props, 'siteConfig.appSettings') as { name: string; value: unknown }[] | undefined) ?? [];
    for (const { name, value } of settings) {
      const text = String(value);
      if (!SECRET_LIKE_NAME.test(name) && !SECRET_LIKE_VALUE.test(text)) continue;
      const reference = KEY_VAULT_REFERENCE.exec(text);
      if (!reference) {
        out.push({
          rule: 'plaintext-secret',
          resource: r.name,
          detail: `${name} is not a Key Vault reference`,
        });
      } else if (!vaults.has(reference[1]!) || !secrets.has(reference[2]!)) {
        out.push({
          rule: 'plaintext-secret',
          resource: r.name,
          detail: `${name} references a secret the stack does not declare`,
        });
      }
    }
    const connectionStrings = get(r.props, 'siteConfig.connectionStrings') as unknown[] | undefined;
    if (connectionStrings && connectionStrings.length > 0) {
      out.push({ rule: 'plaintext-secret', resource: r.name, detail: 'connection strings in site config' });
    }
  }
  return out;
}

function rbac(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  const forbidden = Object.entries(FORBIDDEN_ROLES);
  for (const r of ofType(inventory, 'authorization:RoleAssignment')) {
    const role = String(r.props['roleDefinitionId']);
    for (const [name, guid] of forbidden) {
      if (role.endsWith(guid)) out.push({ rule: 'rbac', resource: r.name, detail: `assigns ${name}` });
    }
    if (/^\/subscriptions\/[^/]+\/?$/.test(String(r.props['scope']))) {
      out.push({ rule: 'rbac', resource: r.name, detail: 'scoped to the whole subscription' });
    }
    if (!r.props['principalType'])
      out.push({ rule: 'rbac', resource: r.name, detail: 'principalType not set' });
  }
  return out;
}

/** The only key operations a key-encryption key may allow. */
export const KEK_OPS = ['wrapKey', 'unwrapKey'];

/**
 * Personal-data protection (docs/privacy.md): Key Vault keys are HSM-protected and list their operations; a
 * key that wraps data keys does nothing else; and the lake's `audit` container keeps a time-based retention
 * policy that lets append blobs grow but nothing change or go.
 */
function personalData(inventory: readonly InventoryResource[]): Violation[] {
  const out: Violation[] = [];
  for (const r of ofType(inventory, 'keyvault:Key')) {
    const kty = String(get(r.props, 'properties.kty'));
    if (!kty.endsWith('-HSM')) {
      out.push({ rule: 'personal-data', resource: r.name, detail: `key type ${kty} is not HSM-protected` });
    }
    const ops = (get(r.props, 'properties.keyOps') as string[] | undefined) ?? [];
    if (ops.length === 0) {
      out.push({
        rule: 'personal-data',
        resource: r.name,
        detail: 'keyOps not set: every operation allowed',
      });
    } else if (ops.some((op) => KEK_OPS.includes(op)) && ops.some((op) => !KEK_OPS.includes(op))) {
      out.push({
        rule: 'personal-data',
        resource: r.name,
        detail: `a key-encryption key also allows ${ops.filter((op) => !KEK_OPS.includes(op)).join(', ')}`,
      });
    }
  }
  const policies = ofType(inventory, 'storage:BlobContainerImmutabilityPolicy');
  for (const container of ofType(inventory, 'storage:BlobContainer')) {
    if (container.props['containerName'] !== 'audit') continue;
    const policy = policies.find(
      (p) =>
        p.props['accountName'] === container.props['accountName'] && p.props['containerName'] === 'audit',
    );
    const days = policy?.props['immutabilityPeriodSinceCreationInDays'];
    if (!policy || typeof days !== 'number' || days < 1) {
      out.push({
        rule: 'personal-data',
        resource: container.name,
        detail: 'audit log without time-based retention',
      });
    } else if (policy.props['allowProtectedAppendWrites'] !== true) {
      out.push({
        rule: 'personal-data',
        resource: policy.name,
        detail: 'allowProtectedAppendWrites is not true: the audit log cannot grow',
      });
    }
  }
  return out;
}

/** Every guardrail violation in an inventory; empty when the stack is compliant. */
export function findViolations(inventory: readonly InventoryResource[]): Violation[] {
  return [
    ...publicNetwork(inventory),
    ...tls(inventory),
    ...keyVault(inventory),
    ...privateEndpoints(inventory),
    ...identities(inventory),
    ...plaintextSecrets(inventory),
    ...rbac(inventory),
    ...personalData(inventory),
  ];
}
