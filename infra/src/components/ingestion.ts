import * as eventhub from '@pulumi/azure-native/eventhub/index.js';
import * as iothub from '@pulumi/azure-native/iothub/index.js';
import * as managedidentity from '@pulumi/azure-native/managedidentity/index.js';
import * as pulumi from '@pulumi/pulumi';
import { ACCESS_PLAN } from '../access-plan.js';
import { FACILITIES, type StackConfig } from '../config.js';
import { assignRole } from './access.js';
import { sendDiagnostics } from './monitoring.js';
import type { Network } from './network.js';

/** Names the ingest Function App's Event Hubs trigger binds to (functions/ingest: `telemetry`, `functions`). */
export const TELEMETRY_EVENT_HUB = 'telemetry';
export const FUNCTIONS_CONSUMER_GROUP = 'functions';
/** Read by `aurora iot replay`, so a backfill never takes the function's readers or checkpoints. */
export const REPLAY_CONSUMER_GROUP = 'replay';
/** The IoT Hub routing endpoint that points at the telemetry hub. */
export const TELEMETRY_ENDPOINT = 'telemetry';

export interface IngestionArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  network: Network;
  workspaceId: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
}

/**
 * Device telemetry path: plant IoT Edge gateways -> IoT Hub -> (identity-based route per facility) -> the
 * `telemetry` Event Hub, which has the same number of partitions for each facility. Both services accept
 * only private traffic (plants connect over the hub's VPN/ExpressRoute gateway), TLS 1.2, and no
 * shared-key authorization: IoT Hub writes with its managed identity, the ingest app reads with its own.
 * The hub's identity is user-assigned and granted before the hub is created, because IoT Hub validates an
 * identity-based endpoint on creation (a system-assigned identity would not hold the role yet).
 */
export class Ingestion extends pulumi.ComponentResource {
  readonly namespace: eventhub.Namespace;
  readonly telemetryHub: eventhub.EventHub;
  readonly iotHub: iothub.IotHubResource;
  readonly iotHubIdentity: managedidentity.UserAssignedIdentity;
  /** `<namespace>.servicebus.windows.net`, what identity-based Event Hubs clients connect to. */
  readonly namespaceFqdn: pulumi.Output<string>;

  constructor(name: string, args: IngestionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Ingestion', name, {}, opts);
    const { resourceGroupName, location, config, network } = args;
    const { tags, ingestion } = config;

    this.namespace = new eventhub.Namespace(
      'evhns-aurora',
      {
        resourceGroupName,
        location,
        tags,
        sku: { name: 'Standard', tier: 'Standard', capacity: ingestion.eventHubsThroughputUnits },
        isAutoInflateEnabled: ingestion.eventHubsMaxThroughputUnits > ingestion.eventHubsThroughputUnits,
        maximumThroughputUnits:
          ingestion.eventHubsMaxThroughputUnits > ingestion.eventHubsThroughputUnits
            ? ingestion.eventHubsMaxThroughputUnits
            : 0,
        zoneRedundant: true,
        minimumTlsVersion: '1.2',
        publicNetworkAccess: 'Disabled',
        disableLocalAuth: true,
      },
      { parent: this },
    );
    this.namespaceFqdn = pulumi.interpolate`${this.namespace.name}.servicebus.windows.net`;
    new eventhub.NamespaceNetworkRuleSet(
      'evhns-network',
      {
        resourceGroupName,
        namespaceName: this.namespace.name,
        publicNetworkAccess: 'Disabled',
        defaultAction: 'Deny',
        // IoT Hub is a trusted Microsoft service: its identity-based route reaches the private namespace.
        trustedServiceAccessEnabled: true,
        ipRules: [],
        virtualNetworkRules: [],
      },
      { parent: this },
    );

    this.telemetryHub = new eventhub.EventHub(
      'evh-telemetry',
      {
        resourceGroupName,
        namespaceName: this.namespace.name,
        eventHubName: TELEMETRY_EVENT_HUB,
        partitionCount: ingestion.telemetryPartitions,
        messageRetentionInDays: ingestion.telemetryRetentionDays,
        userMetadata: JSON.stringify({
          facilities: FACILITIES,
          partitionsPerFacility: ingestion.telemetryPartitions / FACILITIES.length,
        }),
      },
      { parent: this },
    );
    new eventhub.ConsumerGroup(
      'evh-telemetry-functions',
      {
        resourceGroupName,
        namespaceName: this.namespace.name,
        eventHubName: this.telemetryHub.name,
        consumerGroupName: FUNCTIONS_CONSUMER_GROUP,
      },
      { parent: this.telemetryHub },
    );
    new eventhub.ConsumerGroup(
      'evh-telemetry-replay',
      {
        resourceGroupName,
        namespaceName: this.namespace.name,
        eventHubName: this.telemetryHub.name,
        consumerGroupName: REPLAY_CONSUMER_GROUP,
      },
      { parent: this.telemetryHub },
    );

    this.iotHubIdentity = new managedidentity.UserAssignedIdentity(
      'id-iothub',
      { resourceGroupName, location, tags },
      { parent: this },
    );
    const senderGrants = ACCESS_PLAN.filter((g) => g.principal === 'iotHub').map((grant) =>
      assignRole(
        grant,
        {
          principal: { principalId: this.iotHubIdentity.principalId, principalType: 'ServicePrincipal' },
          scope: this.telemetryHub.id,
          subscriptionId: args.subscriptionId,
        },
        this,
      ),
    );

    this.iotHub = new iothub.IotHubResource(
      'iot-aurora',
      {
        resourceGroupName,
        location,
        tags,
        sku: { name: ingestion.iotHubSku, capacity: ingestion.iotHubUnits },
        identity: { type: 'UserAssigned', userAssignedIdentities: [this.iotHubIdentity.id] },
        properties: {
          minTlsVersion: '1.2',
          publicNetworkAccess: 'Disabled',
          // Hub-level shared access policies are off; devices authenticate with their own credentials.
          disableLocalAuth: true,
          restrictOutboundNetworkAccess: true,
          allowedFqdnList: [this.namespaceFqdn],
          eventHubEndpoints: { events: { retentionTimeInDays: 1, partitionCount: 4 } },
          routing: {
            endpoints: {
              eventHubs: [
                {
                  name: TELEMETRY_ENDPOINT,
                  authenticationType: 'identityBased',
                  endpointUri: pulumi.interpolate`sb://${this.namespaceFqdn}`,
                  entityPath: this.telemetryHub.name,
                  identity: { userAssignedIdentity: this.iotHubIdentity.id },
                },
              ],
            },
            // Stamp every message with the device's facility so that consumers partition bronze by it.
            enrichments: [
              { key: 'facility', value: '$twin.tags.facility', endpointNames: [TELEMETRY_ENDPOINT] },
            ],
            routes: FACILITIES.map((facility) => ({
              name: `telemetry-${facility}`,
              source: 'DeviceMessages',
              condition: `$twin.tags.facility = '${facility}'`,
              endpointNames: [TELEMETRY_ENDPOINT],
              isEnabled: true,
            })),
            // Messages from devices without a known facility are kept on the built-in endpoint (one day)
            // and raise the dead-letter-iothub-unrouted alert instead of vanishing.
            fallbackRoute: {
              name: '$fallback',
              source: 'DeviceMessages',
              condition: 'true',
              endpointNames: ['events'],
              isEnabled: true,
            },
          },
        },
      },
      { parent: this, dependsOn: senderGrants },
    );

    network.privateEndpoint(
      'eventhubs',
      { serviceId: this.namespace.id, groupId: 'namespace', zones: ['servicebus'] },
      this,
    );
    network.privateEndpoint(
      'iothub',
      { serviceId: this.iotHub.id, groupId: 'iotHub', zones: ['iotHub', 'servicebus'] },
      this,
    );
    sendDiagnostics('eventhubs', { resourceUri: this.namespace.id, workspaceId: args.workspaceId }, this);
    sendDiagnostics('iothub', { resourceUri: this.iotHub.id, workspaceId: args.workspaceId }, this);

    this.registerOutputs({ namespaceFqdn: this.namespaceFqdn, iotHubId: this.iotHub.id });
  }
}
