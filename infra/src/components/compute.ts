import * as storage from '@pulumi/azure-native/storage/index.js';
import * as web from '@pulumi/azure-native/web/index.js';
import * as pulumi from '@pulumi/pulumi';
import {
  APP_INSIGHTS_SECRET,
  APPS,
  type AppName,
  PRIVACY_INDEX_SECRET,
  SOURCE_SECRETS,
} from '../access-plan.js';
import { type StackConfig, sourceSettingApp } from '../config.js';
import type { SubnetKey } from '../network-plan.js';
import type { Network } from './network.js';
import type { AppIdentity } from './security.js';

/** Node.js major version every Function App runs on. */
export const NODE_VERSION = '22';

/** How each Function App is hosted and which subnet carries its outbound traffic. */
export const FUNCTION_APPS: Record<
  AppName,
  { hosting: 'flex' | 'dedicated'; subnet: SubnetKey; purpose: string }
> = {
  ingest: {
    hosting: 'flex',
    subnet: 'funcIngest',
    purpose: 'Oracle ERP and MES timers, IoT telemetry trigger',
  },
  sap: { hosting: 'dedicated', subnet: 'sapPlan', purpose: 'SAP BAPIs over RFC (needs the native RFC SDK)' },
  orchestrator: {
    hosting: 'flex',
    subnet: 'funcOrchestrator',
    purpose: 'Durable medallion runs, view refresh',
  },
  api: { hosting: 'flex', subnet: 'funcApi', purpose: 'HTTP API under /api/v1, behind API Management' },
};

/** What the apps' settings point at; every value is an address or a Key Vault reference, never a secret. */
export interface ComputeDependencies {
  lakeBlobUrl: pulumi.Input<string>;
  lakeTableUrl: pulumi.Input<string>;
  /** The lake's DFS endpoint: COPY INTO reads Parquet through the workspace identity only over `.dfs`. */
  lakeDfsUrl: pulumi.Input<string>;
  eventHubsNamespaceFqdn: pulumi.Input<string>;
  synapseSqlEndpoint: pulumi.Input<string>;
  sqlPoolName: string;
  /** The personal-data KEK's versionless key id (`https://<vault>.vault.azure.net/keys/aurora-pd-kek`). */
  privacyKekUrl: pulumi.Input<string>;
  /** The lake table holding the wrapped per-subject data keys. */
  privacyKeyTable: string;
  tenantId: pulumi.Input<string>;
  /** `@Microsoft.KeyVault(SecretUri=...)` for a secret name. */
  keyVaultReference(secretName: string): pulumi.Input<string>;
  /** The vault's URI: apps that read source credentials read them there, so a rotation lands within the TTL. */
  keyVaultUrl: pulumi.Input<string>;
}

export interface ComputeArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  hostStorageName: pulumi.Input<string>;
  network: Network;
  identities: Record<AppName, AppIdentity>;
  dependencies: ComputeDependencies;
}

type Settings = Record<string, pulumi.Input<string>>;

/**
 * The four Function Apps on Node 22: ingest, orchestrator and api on Flex Consumption (one plan each, as
 * Flex requires), sap on a dedicated P1v3 plan (the SAP RFC SDK is a native library). Each runs as its own
 * user-assigned identity, integrates with its own spoke subnet (all outbound through the VNet), accepts
 * inbound traffic only through a private endpoint, has FTP and basic-auth publishing off, and reads its
 * secrets through Key Vault references. Host storage is a separate, identity-only account.
 */
export class Compute extends pulumi.ComponentResource {
  readonly hostStorage: storage.StorageAccount;
  readonly apps: Record<AppName, web.WebApp>;
  readonly plans: Record<AppName, web.AppServicePlan>;
  /** Every app's settings, as declared (for review and tests). */
  readonly appSettings: Record<AppName, Settings>;

  constructor(name: string, args: ComputeArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Compute', name, {}, opts);
    const { resourceGroupName, location, config, network, identities, dependencies: deps } = args;
    const { tags, functions } = config;

    this.hostStorage = new storage.StorageAccount(
      'func-host',
      {
        resourceGroupName,
        location,
        tags,
        accountName: args.hostStorageName,
        kind: 'StorageV2',
        sku: { name: functions.hostStorageSku },
        accessTier: 'Hot',
        minimumTlsVersion: 'TLS1_2',
        enableHttpsTrafficOnly: true,
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowCrossTenantReplication: false,
        publicNetworkAccess: 'Disabled',
        networkRuleSet: { defaultAction: 'Deny', bypass: 'None', ipRules: [], virtualNetworkRules: [] },
      },
      { parent: this },
    );
    for (const service of ['blob', 'queue', 'table'] as const) {
      network.privateEndpoint(
        `func-host-${service}`,
        { serviceId: this.hostStorage.id, groupId: service, zones: [service] },
        this,
      );
    }

    const plans: Partial<Record<AppName, web.AppServicePlan>> = {};
    const apps: Partial<Record<AppName, web.WebApp>> = {};
    const appSettings: Partial<Record<AppName, Settings>> = {};

    for (const app of APPS) {
      const spec = FUNCTION_APPS[app];
      const identity = identities[app];
      const flex = spec.hosting === 'flex';

      plans[app] = flex
        ? new web.AppServicePlan(
            `plan-${app}`,
            {
              resourceGroupName,
              location,
              tags,
              kind: 'functionapp',
              reserved: true,
              sku: { name: 'FC1', tier: 'FlexConsumption' },
            },
            { parent: this },
          )
        : new web.AppServicePlan(
            `plan-${app}`,
            {
              resourceGroupName,
              location,
              tags,
              kind: 'linux',
              reserved: true,
              sku: { name: functions.sapPlanSku, tier: 'PremiumV3', capacity: functions.sapPlanInstances },
              zoneRedundant: functions.sapPlanInstances >= 2,
            },
            { parent: this },
          );

      let deploymentContainer: storage.BlobContainer | undefined;
      if (flex) {
        deploymentContainer = new storage.BlobContainer(
          `func-deploy-${app}`,
          {
            resourceGroupName,
            accountName: this.hostStorage.name,
            containerName: `deploy-${app}`,
            publicAccess: 'None',
          },
          { parent: this },
        );
      }

      const settings = settingsFor(app, identity, args.hostStorageName, deps, config.stack);
      for (const [setting, value] of Object.entries(config.sourceSettings))
        if (sourceSettingApp(setting) === app) settings[setting] = value;
      if (!flex) {
        // Flex takes the runtime from functionAppConfig; dedicated plans need these two.
        settings['FUNCTIONS_WORKER_RUNTIME'] = 'node';
        settings['FUNCTIONS_EXTENSION_VERSION'] = '~4';
      }
      appSettings[app] = settings;

      const alwaysReady = app === 'api' && functions.apiAlwaysReadyInstances > 0;
      apps[app] = new web.WebApp(
        `func-${app}`,
        {
          resourceGroupName,
          location,
          tags: { ...tags, 'aurora-app': app },
          kind: 'functionapp,linux',
          serverFarmId: plans[app].id,
          httpsOnly: true,
          clientCertEnabled: false,
          publicNetworkAccess: 'Disabled',
          identity: { type: 'UserAssigned', userAssignedIdentities: [identity.id] },
          keyVaultReferenceIdentity: identity.id,
          virtualNetworkSubnetId: network.subnetIds[spec.subnet],
          outboundVnetRouting: { allTraffic: true },
          siteConfig: {
            minTlsVersion: '1.2',
            scmMinTlsVersion: '1.2',
            ftpsState: 'Disabled',
            http20Enabled: true,
            remoteDebuggingEnabled: false,
            // Flex routes all outbound traffic through its subnet; the dedicated plan is told to.
            ...(flex
              ? {}
              : { linuxFxVersion: `Node|${NODE_VERSION}`, alwaysOn: true, vnetRouteAllEnabled: true }),
            appSettings: Object.entries(settings).map(([settingName, value]) => ({
              name: settingName,
              value,
            })),
          },
          ...(flex && deploymentContainer
            ? {
                functionAppConfig: {
                  deployment: {
                    storage: {
                      type: 'blobContainer',
                      value: pulumi.interpolate`${this.hostStorage.primaryEndpoints.blob}${deploymentContainer.name}`,
                      authentication: {
                        type: 'UserAssignedIdentity',
                        userAssignedIdentityResourceId: identity.id,
                      },
                    },
                  },
                  runtime: { name: 'node', version: NODE_VERSION },
                  scaleAndConcurrency: {
                    maximumInstanceCount: functions.maximumInstanceCount,
                    instanceMemoryMB: functions.instanceMemoryMb,
                    ...(alwaysReady
                      ? { alwaysReady: [{ name: 'http', instanceCount: functions.apiAlwaysReadyInstances }] }
                      : {}),
                  },
                },
              }
            : {}),
        },
        { parent: this },
      );

      // Publishing goes through Entra ID (az functionapp deploy / OneDeploy), never basic credentials.
      new web.WebAppFtpAllowed(
        `func-${app}-ftp`,
        { resourceGroupName, name: apps[app].name, allow: false },
        { parent: apps[app] },
      );
      new web.WebAppScmAllowed(
        `func-${app}-scm`,
        { resourceGroupName, name: apps[app].name, allow: false },
        { parent: apps[app] },
      );
      network.privateEndpoint(
        `func-${app}`,
        { serviceId: apps[app].id, groupId: 'sites', zones: ['sites'] },
        this,
      );
    }

    this.plans = plans as Record<AppName, web.AppServicePlan>;
    this.apps = apps as Record<AppName, web.WebApp>;
    this.appSettings = appSettings as Record<AppName, Settings>;

    this.registerOutputs({
      hostStorageId: this.hostStorage.id,
      apiHostName: this.apps.api.defaultHostName,
    });
  }
}

function settingsFor(
  app: AppName,
  identity: AppIdentity,
  hostStorageName: pulumi.Input<string>,
  deps: ComputeDependencies,
  stack: string,
): Settings {
  const settings: Settings = {
    AzureWebJobsStorage__accountName: hostStorageName,
    AzureWebJobsStorage__credential: 'managedidentity',
    AzureWebJobsStorage__clientId: identity.clientId,
    AZURE_CLIENT_ID: identity.clientId,
    APPLICATIONINSIGHTS_CONNECTION_STRING: deps.keyVaultReference(APP_INSIGHTS_SECRET),
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: pulumi.interpolate`ClientId=${identity.clientId};Authorization=AAD`,
    AURORA_LOG_LEVEL: 'info',
    AURORA_LAKE_BLOB_URL: deps.lakeBlobUrl,
    AURORA_LAKE_TABLE_URL: deps.lakeTableUrl,
    // Personal data is encrypted at landing and decrypted by the api and orchestrator: every app needs these.
    AURORA_PRIVACY_KEK: deps.privacyKekUrl,
    AURORA_PRIVACY_KEY_TABLE: deps.privacyKeyTable,
    [PRIVACY_INDEX_SECRET.setting]: deps.keyVaultReference(PRIVACY_INDEX_SECRET.secretName),
  };
  const sourceSecrets = SOURCE_SECRETS.filter((s) => s.app === app);
  for (const secret of sourceSecrets) {
    settings[secret.setting] = deps.keyVaultReference(secret.secretName);
  }
  if (sourceSecrets.length > 0) settings['AURORA_KEY_VAULT_URL'] = deps.keyVaultUrl;
  if (app === 'ingest') {
    // Identity-based Event Hubs connection named IOT_EVENTHUB (functions/ingest binds to it).
    settings['IOT_EVENTHUB__fullyQualifiedNamespace'] = deps.eventHubsNamespaceFqdn;
    settings['IOT_EVENTHUB__credential'] = 'managedidentity';
    settings['IOT_EVENTHUB__clientId'] = identity.clientId;
  }
  if (app === 'orchestrator' || app === 'api') {
    settings['AURORA_SYNAPSE_SQL_SERVER'] = deps.synapseSqlEndpoint;
    settings['AURORA_SYNAPSE_SQL_DATABASE'] = deps.sqlPoolName;
  }
  if (app === 'orchestrator') {
    // host.json names the Durable task hub %AURORA_TASK_HUB%: one per stack, in the host storage account.
    settings['AURORA_TASK_HUB'] = `medallion${stack}`;
    settings['AURORA_LAKE_DFS_URL'] = deps.lakeDfsUrl;
    settings['AURORA_SYNAPSE_MV_REBUILD_THRESHOLD'] = '0.3';
  }
  if (app === 'api') {
    settings['AURORA_AUTH_ISSUER'] =
      pulumi.interpolate`https://login.microsoftonline.com/${deps.tenantId}/v2.0`;
    settings['AURORA_AUTH_AUDIENCE'] = `api://aurora-${stack}`;
  }
  return settings;
}
