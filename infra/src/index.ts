import { loadStackConfig } from './config.js';
import { readOpenApiDocument } from './openapi.js';
import { createPlatform } from './platform.js';

/**
 * The Pulumi program: the current stack's configuration composed into the platform. Only outputs below.
 */
const config = loadStackConfig();
const platform = createPlatform(config, readOpenApiDocument().text);

export const resourceGroupName = platform.resourceGroup.name;
export const lakeAccountName = platform.lake.account.name;
export const lakeDfsEndpoint = platform.lake.dfsEndpoint;
export const keyVaultName = platform.security.vault.name;
/** The personal-data key-encryption key's versionless key id (apps' AURORA_PRIVACY_KEK). */
export const privacyKekId = platform.security.privacyKek.keyUri;
export const eventHubsNamespace = platform.ingestion.namespaceFqdn;
export const iotHubName = platform.ingestion.iotHub.name;
export const synapseWorkspaceName = platform.analytics.workspace.name;
export const synapseSqlEndpoint = platform.analytics.sqlEndpoint;
export const functionAppNames = {
  ingest: platform.compute.apps.ingest.name,
  sap: platform.compute.apps.sap.name,
  orchestrator: platform.compute.apps.orchestrator.name,
  api: platform.compute.apps.api.name,
};
export const apiGatewayUrl = platform.api.gatewayUrl;
export const logAnalyticsWorkspaceId = platform.monitoring.workspace.id;
export const grafanaName = platform.monitoring.grafana.name;
export const grafanaDashboardFiles = platform.monitoring.dashboards.map(
  (d) => `infra/dashboards/${d.name}.json`,
);
export const alertRuleCount = platform.alerting.rules.length;
