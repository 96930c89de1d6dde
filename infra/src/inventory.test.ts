import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ACCESS_PLAN, BUILT_IN_ROLES, SOURCE_SECRETS } from './access-plan.js';
import { ALERT_CATEGORIES } from './alert-catalogue.js';
import { renderApiPolicyXml } from './apim-policy.js';
import { FACILITIES } from './config.js';
import { buildInventory, type InventoryEntry, OFFLINE_DEPLOYMENT_VALUES } from './inventory.js';

type Props = Record<string, unknown>;
const at = (value: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Props)[k] : undefined), value);

let prod: InventoryEntry[];
let dev: InventoryEntry[];
let stdoutWrites: string[];

beforeAll(async () => {
  stdoutWrites = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdoutWrites.push(String(chunk));
    return true;
  });
  try {
    prod = await buildInventory('prod');
  } finally {
    spy.mockRestore();
  }
  dev = await buildInventory('dev');
}, 60_000);

const all = (inventory: InventoryEntry[], type: string) =>
  inventory.filter((r) => r.type === `azure-native:${type}`);
const one = (inventory: InventoryEntry[], type: string, name?: string) => {
  const found = all(inventory, type).filter((r) => name === undefined || r.name === name);
  expect(found, `${type} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};
const settings = (app: InventoryEntry) =>
  Object.fromEntries(
    ((at(app.props, 'siteConfig.appSettings') as { name: string; value: string }[]) ?? []).map((s) => [
      s.name,
      s.value,
    ]),
  );

describe('buildInventory(prod)', () => {
  it('lists every resource as {type, name, props}, JSON-serialisable, and prints nothing on stdout', () => {
    expect(prod.length).toBeGreaterThan(200);
    for (const r of prod) expect(Object.keys(r)).toEqual(['type', 'name', 'props']);
    expect(JSON.parse(JSON.stringify(prod))).toEqual(prod);
    expect(stdoutWrites).toEqual([]);
    const names = prod.map((r) => `${r.type}/${r.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('waits for resources whose inputs depend on other outputs (role assignments, alerts, app settings)', () => {
    expect(all(prod, 'authorization:RoleAssignment')).toHaveLength(ACCESS_PLAN.length);
    const alerts = [
      ...all(prod, 'monitor:ScheduledQueryRule'),
      ...all(prod, 'monitor:MetricAlert'),
      ...all(prod, 'monitor:ActivityLogAlert'),
    ];
    expect(alerts).toHaveLength(47);
  });

  it('builds the lake as ADLS Gen2: HNS, geo-redundant with Archive available, no keys, no public access', () => {
    const lake = one(prod, 'storage:StorageAccount', 'lake').props;
    expect(lake).toMatchObject({
      kind: 'StorageV2',
      isHnsEnabled: true,
      sku: { name: 'Standard_RAGRS' },
      minimumTlsVersion: 'TLS1_2',
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: false,
      publicNetworkAccess: 'Disabled',
    });
    const containers = all(prod, 'storage:BlobContainer')
      .filter((c) => c.props['accountName'] === lake['accountName'])
      .map((c) => c.props['containerName']);
    expect(containers).toEqual(expect.arrayContaining(['bronze', 'silver', 'gold']));
    const blobService = one(prod, 'storage:BlobServiceProperties').props;
    expect(at(blobService, 'deleteRetentionPolicy')).toEqual({ enabled: true, days: 30 });
    expect(at(blobService, 'containerDeleteRetentionPolicy.enabled')).toBe(true);
  });

  it('tiers bronze Hot -> Cool after 90 days -> Archive after 730, and never archives Delta tables', () => {
    const policy = one(prod, 'storage:ManagementPolicy').props;
    expect(policy['managementPolicyName']).toBe('default');
    const rules = at(policy, 'policy.rules') as Props[];
    const bronze = rules.find((r) =>
      (at(r, 'definition.filters.prefixMatch') as string[]).includes('bronze/'),
    )!;
    expect(bronze['enabled']).toBe(true);
    expect(at(bronze, 'definition.actions.baseBlob.tierToCool.daysAfterModificationGreaterThan')).toBe(90);
    expect(at(bronze, 'definition.actions.baseBlob.tierToArchive.daysAfterModificationGreaterThan')).toBe(
      730,
    );
    for (const rule of rules.filter((r) => r !== bronze)) {
      const prefixes = at(rule, 'definition.filters.prefixMatch') as string[];
      expect(prefixes.some((p) => p.startsWith('bronze'))).toBe(false);
      expect(at(rule, 'definition.actions.baseBlob.tierToArchive')).toBeUndefined();
    }
    const silverGold = rules.find((r) => r !== bronze)!;
    expect(at(silverGold, 'definition.actions.baseBlob.tierToCool.daysAfterLastAccessTimeGreaterThan')).toBe(
      90,
    );
  });

  it('sizes Synapse as designed: Spark 4-16 memory-optimised nodes with autoscale, dedicated pool DW1000c', () => {
    const spark = one(prod, 'synapse:BigDataPool').props;
    expect(spark).toMatchObject({
      nodeSizeFamily: 'MemoryOptimized',
      nodeSize: 'Medium',
      autoScale: { enabled: true, minNodeCount: 4, maxNodeCount: 16 },
      autoPause: { enabled: true, delayInMinutes: 15 },
    });
    const pool = one(prod, 'synapse:SqlPool').props;
    expect(pool).toMatchObject({ sku: { name: 'DW1000c' }, storageAccountType: 'GRS', sqlPoolName: 'gold' });
    expect(one(prod, 'synapse:SqlPoolTransparentDataEncryption').props['status']).toBe('Enabled');
  });

  it('authenticates Synapse with Entra ID only, admin = platform admins group, no SQL password', () => {
    const workspace = one(prod, 'synapse:Workspace').props;
    expect(workspace).toMatchObject({
      azureADOnlyAuthentication: true,
      publicNetworkAccess: 'Disabled',
      managedVirtualNetwork: 'default',
      managedVirtualNetworkSettings: { preventDataExfiltration: true },
    });
    expect(workspace).not.toHaveProperty('sqlAdministratorLoginPassword');
    for (const type of ['synapse:WorkspaceAadAdmin', 'synapse:WorkspaceSqlAadAdmin']) {
      expect(one(prod, type).props).toMatchObject({
        administratorType: 'ActiveDirectory',
        sid: OFFLINE_DEPLOYMENT_VALUES.adminGroupObjectId,
      });
    }
  });

  it('runs the four Function Apps on Node 22: three on Flex Consumption, sap on a P1v3 plan', () => {
    const apps = Object.fromEntries(all(prod, 'web:WebApp').map((a) => [a.name, a.props]));
    expect(Object.keys(apps).sort()).toEqual(['func-api', 'func-ingest', 'func-orchestrator', 'func-sap']);
    const plans = Object.fromEntries(all(prod, 'web:AppServicePlan').map((p) => [p.name, p.props]));
    for (const app of ['ingest', 'orchestrator', 'api']) {
      expect(plans[`plan-${app}`]).toMatchObject({ sku: { name: 'FC1', tier: 'FlexConsumption' } });
      expect(at(apps[`func-${app}`], 'functionAppConfig.runtime')).toEqual({ name: 'node', version: '22' });
      expect(at(apps[`func-${app}`], 'functionAppConfig.deployment.storage.authentication.type')).toBe(
        'UserAssignedIdentity',
      );
    }
    expect(plans['plan-sap']).toMatchObject({
      kind: 'linux',
      reserved: true,
      sku: { name: 'P1v3', tier: 'PremiumV3' },
    });
    expect(at(apps['func-sap'], 'siteConfig.linuxFxVersion')).toBe('Node|22');
    expect(at(apps['func-sap'], 'functionAppConfig')).toBeUndefined();
    expect(at(apps['func-api'], 'functionAppConfig.scaleAndConcurrency.alwaysReady')).toEqual([
      { name: 'http', instanceCount: 1 },
    ]);
  });

  it('integrates every app with its own delegated subnet and wires Application Insights', () => {
    const spoke = one(prod, 'network:VirtualNetwork', 'vnet-spoke').props;
    const subnets = at(spoke, 'subnets') as Props[];
    const subnetIds = new Set<string>();
    for (const app of all(prod, 'web:WebApp')) {
      const subnetId = String(app.props['virtualNetworkSubnetId']);
      expect(subnetIds.has(subnetId)).toBe(false);
      subnetIds.add(subnetId);
      const subnet = subnets.find((s) => subnetId.endsWith(`/subnets/${s['name']}`));
      expect(subnet, app.name).toBeDefined();
      expect(at(subnet, 'delegations.0.serviceName')).toMatch(
        /^Microsoft\.(App\/environments|Web\/serverFarms)$/,
      );
      expect(app.props['outboundVnetRouting']).toEqual({ allTraffic: true });
      const s = settings(app);
      expect(s['APPLICATIONINSIGHTS_CONNECTION_STRING']).toMatch(
        /^@Microsoft\.KeyVault\(SecretUri=.*appinsights/,
      );
      expect(s['APPLICATIONINSIGHTS_AUTHENTICATION_STRING']).toMatch(
        /^ClientId=[0-9a-f-]{36};Authorization=AAD$/,
      );
      expect(s['AzureWebJobsStorage__credential']).toBe('managedidentity');
    }
    const ai = one(prod, 'applicationinsights:Component').props;
    expect(ai).toMatchObject({ ingestionMode: 'LogAnalytics', disableLocalAuth: true });
  });

  it('gives each source credential to its one app as a Key Vault reference, and nothing else', () => {
    const apps = Object.fromEntries(
      all(prod, 'web:WebApp').map((a) => [a.name.replace('func-', ''), settings(a)]),
    );
    for (const secret of SOURCE_SECRETS) {
      for (const [app, s] of Object.entries(apps)) {
        if (app === secret.app) {
          expect(s[secret.setting]).toMatch(
            new RegExp(
              `^@Microsoft\\.KeyVault\\(SecretUri=https://kv-aurora-prod-[0-9a-f]{6}\\.vault\\.azure\\.net/secrets/${secret.secretName}\\)$`,
            ),
          );
        } else {
          expect(s[secret.setting]).toBeUndefined();
        }
      }
    }
    // The apps holding source credentials also read the vault directly, so a rotation lands within the TTL.
    for (const [app, s] of Object.entries(apps)) {
      const holdsSecrets = SOURCE_SECRETS.some((x) => x.app === app);
      expect(s['AURORA_KEY_VAULT_URL'], app).toEqual(
        holdsSecrets
          ? expect.stringMatching(/^https:\/\/kv-aurora-prod-[0-9a-f]{6}\.vault\.azure\.net\/$/)
          : undefined,
      );
    }
    const everything = JSON.stringify(all(prod, 'web:WebApp'));
    expect(everything).not.toMatch(/InstrumentationKey=|AccountKey=|SharedAccessKey=|unset: set with/);
    for (const secret of all(prod, 'keyvault:Secret'))
      expect(at(secret.props, 'properties.value')).toBe('[redacted]');
  });

  it('keeps Key Vault Premium with RBAC, purge protection and 90-day soft delete', () => {
    expect(at(one(prod, 'keyvault:Vault').props, 'properties')).toMatchObject({
      sku: { family: 'A', name: 'premium' },
      enableRbacAuthorization: true,
      enablePurgeProtection: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      publicNetworkAccess: 'Disabled',
    });
    expect(at(one(prod, 'keyvault:Key').props, 'properties')).toMatchObject({
      kty: 'RSA-HSM',
      rotationPolicy: {
        lifetimeActions: expect.arrayContaining([
          { trigger: { timeAfterCreate: 'P1Y' }, action: { type: 'rotate' } },
        ]),
      },
    });
  });

  it('grants every access-plan row exactly once, with the planned role on the narrowest scope', () => {
    const assignments = all(prod, 'authorization:RoleAssignment');
    for (const grant of ACCESS_PLAN) {
      const matching = assignments.filter(
        (a) =>
          String(a.props['roleDefinitionId']).endsWith(BUILT_IN_ROLES[grant.role]) &&
          String(a.props['description']).startsWith(`${grant.principal}:`) &&
          a.name.endsWith(grant.scope.replace(/[^a-z0-9]+/gi, '-').toLowerCase()),
      );
      expect(matching, `${grant.principal} ${grant.role} ${grant.scope}`).toHaveLength(1);
    }
    const scopeOf = (name: string) => String(assignments.find((a) => a.name === name)?.props['scope']);
    expect(scopeOf('ra-ingest-storage-blob-data-contributor-lake-bronze')).toMatch(/\/containers\/bronze$/);
    expect(scopeOf('ra-api-storage-blob-data-reader-lake-gold')).toMatch(/\/containers\/gold$/);
    expect(scopeOf('ra-sap-key-vault-secrets-user-secret-sap-rfc-password')).toMatch(
      /\/secrets\/sap-rfc-password$/,
    );
    expect(scopeOf('ra-iothub-azure-event-hubs-data-sender-eventhub-telemetry')).toMatch(
      /\/eventhubs\/telemetry$/,
    );
    // The api app can read gold and write the personal-data containers, and nothing else in the lake.
    const apiLake = assignments.filter(
      (a) => a.name.startsWith('ra-api-') && String(a.props['scope']).includes('/blobServices/'),
    );
    expect(apiLake.map((a) => a.name).sort()).toEqual([
      'ra-api-storage-blob-data-contributor-lake-audit',
      'ra-api-storage-blob-data-contributor-lake-privacy',
      'ra-api-storage-blob-data-contributor-lake-reports',
      'ra-api-storage-blob-data-reader-lake-gold',
    ]);
  });

  it('routes IoT Hub device messages per facility to a telemetry hub with partitions for each facility', () => {
    const hub = one(prod, 'iothub:IotHubResource').props;
    const routes = at(hub, 'properties.routing.routes') as Props[];
    expect(routes.map((r) => r['condition'])).toEqual(FACILITIES.map((f) => `$twin.tags.facility = '${f}'`));
    for (const route of routes)
      expect(route).toMatchObject({ endpointNames: ['telemetry'], isEnabled: true });
    expect(at(hub, 'properties.routing.endpoints.eventHubs.0')).toMatchObject({
      authenticationType: 'identityBased',
      entityPath: 'telemetry',
    });
    expect(at(hub, 'properties.routing.fallbackRoute')).toMatchObject({
      endpointNames: ['events'],
      isEnabled: true,
    });
    expect(at(hub, 'properties.disableLocalAuth')).toBe(true);
    const telemetry = one(prod, 'eventhub:EventHub').props;
    expect(telemetry['eventHubName']).toBe('telemetry');
    expect(telemetry['partitionCount']).toBe(6);
    expect(Number(telemetry['partitionCount']) % FACILITIES.length).toBe(0);
    // The function reads with its own group; `aurora iot replay` with another, never taking its readers.
    expect(all(prod, 'eventhub:ConsumerGroup').map((g) => g.props['consumerGroupName'])).toEqual([
      'functions',
      'replay',
    ]);
    expect(one(prod, 'eventhub:Namespace').props).toMatchObject({
      disableLocalAuth: true,
      minimumTlsVersion: '1.2',
    });
  });

  it('puts a private endpoint in front of every PaaS service, with its privatelink zone', () => {
    const groups = all(prod, 'network:PrivateEndpoint').map((pe) => {
      const c = at(pe.props, 'privateLinkServiceConnections.0') as Props;
      return `${String(c['privateLinkServiceId']).split('/').pop()}:${(c['groupIds'] as string[])[0]}`;
    });
    const lake = String(one(prod, 'storage:StorageAccount', 'lake').props['accountName']);
    const host = String(one(prod, 'storage:StorageAccount', 'func-host').props['accountName']);
    const vault = String(one(prod, 'keyvault:Vault').props['vaultName']);
    const synapse = String(one(prod, 'synapse:Workspace').props['workspaceName']);
    expect(groups.sort()).toEqual(
      [
        `${lake}:blob`,
        `${lake}:dfs`,
        `${lake}:table`,
        `${host}:blob`,
        `${host}:queue`,
        `${host}:table`,
        `${vault}:vault`,
        'evhns-aurora:namespace',
        'iot-aurora:iotHub',
        `${synapse}:Sql`,
        `${synapse}:SqlOnDemand`,
        `${synapse}:Dev`,
        'func-ingest:sites',
        'func-sap:sites',
        'func-orchestrator:sites',
        'func-api:sites',
        'grafana-aurora-prod:grafana',
        'ampls-aurora:azuremonitor',
      ].sort(),
    );
    const zones = all(prod, 'privatedns:PrivateZone').map((z) => z.props['privateZoneName']);
    expect(zones).toEqual(
      expect.arrayContaining([
        'privatelink.blob.core.windows.net',
        'privatelink.dfs.core.windows.net',
        'privatelink.vaultcore.azure.net',
        'privatelink.sql.azuresynapse.net',
        'privatelink.dev.azuresynapse.net',
        'privatelink.servicebus.windows.net',
      ]),
    );
    // Every zone resolves in both hub and spoke.
    expect(all(prod, 'privatedns:VirtualNetworkLink')).toHaveLength(zones.length * 2);
  });

  it('peers hub and spoke and guards every subnet but GatewaySubnet with an NSG', () => {
    expect(all(prod, 'network:VirtualNetworkPeering')).toHaveLength(2);
    const subnets = all(prod, 'network:VirtualNetwork').flatMap((v) => at(v.props, 'subnets') as Props[]);
    for (const subnet of subnets) {
      if (subnet['name'] === 'GatewaySubnet') expect(subnet['networkSecurityGroup']).toBeUndefined();
      else
        expect(at(subnet, 'networkSecurityGroup.id'), String(subnet['name'])).toMatch(
          /NetworkSecurityGroup\/nsg-/,
        );
    }
  });

  it('fronts the api app with API Management: OpenAPI import, /api/v1, product, keys and the policy', () => {
    const service = one(prod, 'apimanagement:ApiManagementService').props;
    expect(at(service, 'sku.name')).toBe('StandardV2');
    expect(at(service, 'sku.name')).not.toBe('Consumption');
    expect(service).toMatchObject({ virtualNetworkType: 'External', identity: { type: 'SystemAssigned' } });
    const api = one(prod, 'apimanagement:Api').props;
    expect(api).toMatchObject({
      path: 'api',
      apiVersion: 'v1',
      format: 'openapi+json',
      subscriptionRequired: true,
      protocols: ['https'],
    });
    expect(String(api['serviceUrl'])).toMatch(/^https:\/\/func-api\.azurewebsites\.net\/api\/v1$/);
    const document = JSON.parse(String(api['value'])) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toContain('/production/oee/{facility_id}');
    expect(one(prod, 'apimanagement:ApiVersionSet').props['versioningScheme']).toBe('Segment');
    const policy = one(prod, 'apimanagement:ApiPolicy').props;
    expect(policy).toMatchObject({ format: 'rawxml', value: renderApiPolicyXml() });
    expect(String(policy['value'])).toContain('<rate-limit-by-key calls="1000" renewal-period="3600"');
    expect(String(policy['value'])).toContain('<cache-store duration="300" />');
    expect(one(prod, 'apimanagement:Product').props).toMatchObject({
      state: 'published',
      subscriptionRequired: true,
      approvalRequired: true,
    });
    expect(one(prod, 'apimanagement:ProductApiLink').props['productId']).toBe('aurora-partners');
    expect(one(prod, 'apimanagement:Subscription').props['state']).toBe('active');
  });

  it('alerts through one action group: 47 rules across the five categories', () => {
    const group = one(prod, 'monitor:ActionGroup').props;
    expect(at(group, 'emailReceivers.0.emailAddress')).toBe(OFFLINE_DEPLOYMENT_VALUES.alertEmail);
    const rules = [
      ...all(prod, 'monitor:ScheduledQueryRule'),
      ...all(prod, 'monitor:MetricAlert'),
      ...all(prod, 'monitor:ActivityLogAlert'),
    ];
    const categories = new Set(rules.map((r) => String(r.props['description']).split(':')[0]));
    expect([...categories].sort()).toEqual([...ALERT_CATEGORIES].sort());
    for (const rule of rules) {
      expect(JSON.stringify(rule.props['actions']), rule.name).toContain('/ActionGroup/ag-platform-oncall');
      expect(rule.props['enabled'], rule.name).toBe(true);
    }
    const workspaceRules = all(prod, 'monitor:ScheduledQueryRule');
    for (const rule of workspaceRules)
      expect(String(at(rule.props, 'scopes.0'))).toMatch(/Workspace\/log-aurora$/);
  });

  it('keeps logs 90 days in a private workspace and runs Grafana privately, zone-redundant in prod', () => {
    expect(one(prod, 'operationalinsights:Workspace').props).toMatchObject({
      retentionInDays: 90,
      publicNetworkAccessForIngestion: 'Disabled',
      publicNetworkAccessForQuery: 'Disabled',
    });
    expect(one(prod, 'monitor:PrivateLinkScope').props['accessModeSettings']).toEqual({
      ingestionAccessMode: 'PrivateOnly',
      queryAccessMode: 'PrivateOnly',
    });
    expect(at(one(prod, 'dashboard:Grafana').props, 'properties')).toMatchObject({
      publicNetworkAccess: 'Disabled',
      zoneRedundancy: 'Enabled',
      apiKey: 'Disabled',
    });
    expect(one(prod, 'consumption:Budget').props).toMatchObject({ amount: 16000, timeGrain: 'Monthly' });
    const diagnosed = all(prod, 'monitor:DiagnosticSetting').map((d) => String(d.props['resourceUri']));
    expect(diagnosed.some((uri) => uri.includes('Microsoft.KeyVault/vaults/'))).toBe(true);
    expect(diagnosed.some((uri) => uri.endsWith('/blobServices/default'))).toBe(true);
  });

  it('makes dev smaller than prod from the same program', () => {
    expect(one(dev, 'synapse:SqlPool').props['sku']).toEqual({ name: 'DW100c' });
    expect(one(dev, 'synapse:BigDataPool').props['autoScale']).toEqual({
      enabled: true,
      minNodeCount: 3,
      maxNodeCount: 4,
    });
    expect(at(one(dev, 'storage:StorageAccount', 'lake').props, 'sku.name')).toBe('Standard_LRS');
    expect(at(one(dev, 'apimanagement:ApiManagementService').props, 'sku.name')).toBe('Developer');
    expect(one(dev, 'eventhub:EventHub').props['partitionCount']).toBe(3);
    expect(dev.map((r) => `${r.type}/${r.name}`).sort()).toEqual(
      prod.map((r) => `${r.type}/${r.name}`).sort(),
    );
  });
});
