import * as apimanagement from '@pulumi/azure-native/apimanagement/index.js';
import * as pulumi from '@pulumi/pulumi';
import {
  API_BASE_PATH,
  API_PATH,
  API_VERSION,
  renderApiPolicyXml,
  SUBSCRIPTION_KEY_HEADER,
  SUBSCRIPTION_KEY_QUERY,
} from '../apim-policy.js';
import type { StackConfig } from '../config.js';
import { apimNetworkMode } from '../network-plan.js';
import { sendDiagnostics } from './monitoring.js';

const SECURITY = 'Microsoft.WindowsAzure.ApiManagement.Gateway.Security';
/** Gateway and backend protocol settings: nothing below TLS 1.2, no 3DES. */
export const APIM_TLS_SETTINGS: Record<string, string> = {
  [`${SECURITY}.Protocols.Ssl30`]: 'False',
  [`${SECURITY}.Protocols.Tls10`]: 'False',
  [`${SECURITY}.Protocols.Tls11`]: 'False',
  [`${SECURITY}.Backend.Protocols.Ssl30`]: 'False',
  [`${SECURITY}.Backend.Protocols.Tls10`]: 'False',
  [`${SECURITY}.Backend.Protocols.Tls11`]: 'False',
  [`${SECURITY}.Ciphers.TripleDes168`]: 'False',
};

export const PARTNER_PRODUCT_ID = 'aurora-partners';

export interface ApiArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  /** The OpenAPI document (JSON text) that defines the API's operations. */
  openApiDocument: string;
  /** Host name of the api Function App, reached privately from the APIM subnet. */
  backendHostName: pulumi.Input<string>;
  apimSubnetId: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
}

/**
 * API Management in front of the api Function App: the one public endpoint of the platform, for partner
 * apps. The API is imported from the OpenAPI document, versioned by path segment (`/api/v1`), published
 * through a partner product whose subscriptions need approval, and guarded by the policy from
 * `apim-policy.ts` (1,000 calls per hour per subscription key, 5-minute GET cache). The tier is never
 * Consumption, which has no rate-limit-by-key; the gateway reaches the private backend through the spoke.
 */
export class Api extends pulumi.ComponentResource {
  readonly service: apimanagement.ApiManagementService;
  readonly api: apimanagement.Api;
  readonly policy: apimanagement.ApiPolicy;
  readonly product: apimanagement.Product;
  readonly gatewayUrl: pulumi.Output<string>;

  constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Api', name, {}, opts);
    const { resourceGroupName, location, config } = args;
    const { tags, api } = config;
    if ((api.apimSku as string) === 'Consumption') {
      throw new Error('API Management Consumption has no rate-limit-by-key; choose another tier');
    }

    this.service = new apimanagement.ApiManagementService(
      'apim-aurora',
      {
        resourceGroupName,
        location,
        tags,
        sku: { name: api.apimSku, capacity: api.apimCapacity },
        publisherName: api.publisherName,
        publisherEmail: api.publisherEmail,
        identity: { type: 'SystemAssigned' },
        // The gateway is public on purpose (partners call it); its backend is private.
        publicNetworkAccess: 'Enabled',
        virtualNetworkType: 'External',
        virtualNetworkConfiguration: { subnetResourceId: args.apimSubnetId },
        customProperties: APIM_TLS_SETTINGS,
      },
      { parent: this },
    );
    this.gatewayUrl = this.service.gatewayUrl;
    const service = { resourceGroupName, serviceName: this.service.name };

    const versionSet = new apimanagement.ApiVersionSet(
      'apim-aurora-versions',
      { ...service, versionSetId: 'aurora', displayName: 'Aurora API', versioningScheme: 'Segment' },
      { parent: this.service },
    );

    this.api = new apimanagement.Api(
      'apim-aurora-api-v1',
      {
        ...service,
        apiId: `aurora-${API_VERSION}`,
        displayName: 'Aurora API',
        path: API_PATH,
        apiVersion: API_VERSION,
        apiVersionSetId: versionSet.id,
        format: 'openapi+json',
        value: args.openApiDocument,
        serviceUrl: pulumi.interpolate`https://${args.backendHostName}${API_BASE_PATH}`,
        protocols: ['https'],
        subscriptionRequired: true,
        subscriptionKeyParameterNames: { header: SUBSCRIPTION_KEY_HEADER, query: SUBSCRIPTION_KEY_QUERY },
      },
      { parent: this.service },
    );

    this.policy = new apimanagement.ApiPolicy(
      'apim-aurora-api-v1-policy',
      { ...service, apiId: this.api.name, policyId: 'policy', format: 'rawxml', value: renderApiPolicyXml() },
      { parent: this.api },
    );

    this.product = new apimanagement.Product(
      'apim-partners',
      {
        ...service,
        productId: PARTNER_PRODUCT_ID,
        displayName: 'Aurora partners',
        description: 'Partner apps: plant KPIs, inventory alerts and quality reports.',
        state: 'published',
        subscriptionRequired: true,
        approvalRequired: true,
        subscriptionsLimit: 5,
      },
      { parent: this.service },
    );
    new apimanagement.ProductApiLink(
      'apim-partners-api-v1',
      { ...service, productId: this.product.name, apiLinkId: 'aurora-v1', apiId: this.api.id },
      { parent: this.product },
    );
    // The platform's own key, for synthetic checks; partner keys are issued by approving subscriptions.
    new apimanagement.Subscription(
      'apim-subscription-platform-probe',
      {
        ...service,
        sid: 'platform-probe',
        displayName: 'Aurora platform probe',
        scope: this.product.id,
        state: 'active',
      },
      { parent: this.product },
    );

    sendDiagnostics('apim', { resourceUri: this.service.id, workspaceId: args.workspaceId }, this);

    this.registerOutputs({ gatewayUrl: this.gatewayUrl, networkMode: apimNetworkMode(api.apimSku) });
  }
}
