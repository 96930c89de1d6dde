import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as resources from '@pulumi/azure-native/resources/index.js';
import * as pulumi from '@pulumi/pulumi';
import { ACCESS_PLAN, type ScopeName } from './access-plan.js';
import { ALERT_CATALOGUE } from './alert-catalogue.js';
import { AccessControl } from './components/access.js';
import { Alerting } from './components/alerting.js';
import { Analytics, SQL_POOL_NAME } from './components/analytics.js';
import { Api } from './components/api.js';
import { Compute } from './components/compute.js';
import { Ingestion } from './components/ingestion.js';
import { Lake, PRIVACY_KEY_TABLE } from './components/lake.js';
import { Monitoring } from './components/monitoring.js';
import { Network } from './components/network.js';
import { Security } from './components/security.js';
import type { StackConfig } from './config.js';
import {
  keyVaultName,
  nameSuffix,
  resourceGroupName,
  storageAccountName,
  synapseWorkspaceName,
} from './naming.js';
import { planSubnets } from './network-plan.js';

export interface Platform {
  resourceGroup: resources.ResourceGroup;
  network: Network;
  monitoring: Monitoring;
  lake: Lake;
  ingestion: Ingestion;
  analytics: Analytics;
  security: Security;
  compute: Compute;
  api: Api;
  access: AccessControl;
  alerting: Alerting;
}

/**
 * Composes the whole Aurora platform for one stack. Order follows the dependencies: the network and the
 * monitoring workspace first, then the data services, then identities and secrets, the apps that use
 * them, the gateway in front of the api app, and finally the access grants and alert rules that refer
 * to everything else.
 */
export function createPlatform(config: StackConfig, openApiDocument: string): Platform {
  const client = authorization.getClientConfigOutput();
  const suffix = client.subscriptionId.apply((subscriptionId) => nameSuffix(subscriptionId, config.stack));
  const location = config.location;

  const resourceGroup = new resources.ResourceGroup('rg-aurora', {
    resourceGroupName: resourceGroupName(config.stack),
    location,
    tags: config.tags,
  });
  const resourceGroupNameOutput = resourceGroup.name;
  const base = { resourceGroupName: resourceGroupNameOutput, location, config };

  const network = new Network('network', {
    resourceGroupName: resourceGroupNameOutput,
    location,
    hubAddressPrefix: config.network.hubAddressPrefix,
    spokeAddressPrefix: config.network.spokeAddressPrefix,
    subnets: planSubnets(
      config.network.hubAddressPrefix,
      config.network.spokeAddressPrefix,
      config.api.apimSku,
    ),
    apimSku: config.api.apimSku,
    tags: config.tags,
  });

  const monitoring = new Monitoring('monitoring', { ...base, resourceGroupId: resourceGroup.id, network });
  const workspaceId = monitoring.workspace.id;

  const lake = new Lake('lake', {
    ...base,
    accountName: suffix.apply((s) => storageAccountName('lake', config.stack, s)),
    network,
    workspaceId,
  });

  const ingestion = new Ingestion('ingestion', {
    ...base,
    network,
    workspaceId,
    subscriptionId: client.subscriptionId,
  });

  const analytics = new Analytics('analytics', {
    ...base,
    tenantId: client.tenantId,
    workspaceName: suffix.apply((s) => synapseWorkspaceName(config.stack, s)),
    lakeAccountId: lake.account.id,
    lakeDfsEndpoint: lake.dfsEndpoint,
    network,
    workspaceId,
  });

  const security = new Security('security', {
    ...base,
    tenantId: client.tenantId,
    vaultName: suffix.apply((s) => keyVaultName(config.stack, s)),
    network,
    workspaceId,
    appInsightsConnectionString: monitoring.appInsights.connectionString,
  });

  const compute = new Compute('compute', {
    ...base,
    hostStorageName: suffix.apply((s) => storageAccountName('fn', config.stack, s)),
    network,
    identities: security.identities,
    dependencies: {
      lakeBlobUrl: lake.blobEndpoint,
      lakeTableUrl: lake.tableEndpoint,
      lakeDfsUrl: lake.dfsEndpoint,
      eventHubsNamespaceFqdn: ingestion.namespaceFqdn,
      synapseSqlEndpoint: analytics.sqlEndpoint,
      sqlPoolName: SQL_POOL_NAME,
      privacyKekUrl: security.privacyKek.keyUri,
      privacyKeyTable: PRIVACY_KEY_TABLE,
      tenantId: client.tenantId,
      keyVaultReference: (secretName) => security.reference(secretName),
      keyVaultUrl: security.vault.properties.vaultUri,
    },
  });

  const api = new Api('api', {
    ...base,
    openApiDocument,
    backendHostName: compute.apps.api.defaultHostName,
    apimSubnetId: network.subnetIds.apim,
    workspaceId,
  });

  const scopes = (name: ScopeName): pulumi.Input<string> => {
    if (name.startsWith('secret:')) {
      const secret = security.secrets[name.slice('secret:'.length)];
      if (!secret) throw new Error(`the access plan names an unknown secret: ${name}`);
      return secret.id;
    }
    switch (name) {
      case 'lake':
        return lake.account.id;
      case 'lake:bronze':
        return lake.containers.bronze.id;
      case 'lake:silver':
        return lake.containers.silver.id;
      case 'lake:gold':
        return lake.containers.gold.id;
      case 'lake:audit':
        return lake.containers.audit.id;
      case 'lake:privacy':
        return lake.containers.privacy.id;
      case 'lake:reports':
        return lake.containers.reports.id;
      case 'lake:tables':
        return pulumi.interpolate`${lake.account.id}/tableServices/default`;
      case 'lake:table:privacykeys':
        return lake.tables.privacykeys.id;
      case 'host':
        return compute.hostStorage.id;
      case 'eventHub:telemetry':
        return ingestion.telemetryHub.id;
      case 'iotHub':
        return ingestion.iotHub.id;
      case 'keyVault':
        return security.vault.id;
      case 'key:privacy-kek':
        return security.privacyKek.id;
      case 'appInsights':
        return monitoring.appInsights.id;
      case 'grafana':
        return monitoring.grafana.id;
      case 'resourceGroup':
        return resourceGroup.id;
      default:
        throw new Error(`no scope named ${name}`);
    }
  };
  const app = (name: keyof typeof security.identities) => ({
    principalId: security.identities[name].principalId,
    principalType: 'ServicePrincipal' as const,
  });
  const access = new AccessControl('access', {
    subscriptionId: client.subscriptionId,
    grants: ACCESS_PLAN.filter((g) => g.principal !== 'iotHub'),
    principals: {
      ingest: app('ingest'),
      sap: app('sap'),
      orchestrator: app('orchestrator'),
      api: app('api'),
      synapse: {
        principalId: analytics.workspace.identity.apply((i) => i?.principalId ?? ''),
        principalType: 'ServicePrincipal',
      },
      grafana: {
        principalId: monitoring.grafana.identity.apply((i) => i?.principalId ?? ''),
        principalType: 'ServicePrincipal',
      },
      admins: { principalId: config.admins.groupObjectId, principalType: 'Group' },
    },
    scope: scopes,
  });

  const alerting = new Alerting('alerting', {
    ...base,
    rules: ALERT_CATALOGUE,
    actionGroupId: monitoring.actionGroup.id,
    workspaceId,
    resourceGroupId: resourceGroup.id,
    subscriptionId: client.subscriptionId,
    metricTargets: { sparkPool: analytics.sparkPool.id, iotHub: ingestion.iotHub.id },
  });

  return {
    resourceGroup,
    network,
    monitoring,
    lake,
    ingestion,
    analytics,
    security,
    compute,
    api,
    access,
    alerting,
  };
}
