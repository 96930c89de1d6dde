import * as network from '@pulumi/azure-native/network/index.js';
import * as privatedns from '@pulumi/azure-native/privatedns/index.js';
import * as pulumi from '@pulumi/pulumi';
import type { ApimSku } from '../config.js';
import { nsgRules, type SubnetKey, type SubnetPlan } from '../network-plan.js';

/** The privatelink DNS zones of every PaaS service Aurora reaches privately, by short key. */
export const PRIVATE_DNS_ZONES = {
  blob: 'privatelink.blob.core.windows.net',
  dfs: 'privatelink.dfs.core.windows.net',
  table: 'privatelink.table.core.windows.net',
  queue: 'privatelink.queue.core.windows.net',
  vault: 'privatelink.vaultcore.azure.net',
  servicebus: 'privatelink.servicebus.windows.net',
  iotHub: 'privatelink.azure-devices.net',
  synapseSql: 'privatelink.sql.azuresynapse.net',
  synapseDev: 'privatelink.dev.azuresynapse.net',
  sites: 'privatelink.azurewebsites.net',
  grafana: 'privatelink.grafana.azure.com',
  monitor: 'privatelink.monitor.azure.com',
  oms: 'privatelink.oms.opinsights.azure.com',
  ods: 'privatelink.ods.opinsights.azure.com',
  agentsvc: 'privatelink.agentsvc.azure-automation.net',
} as const;
export type DnsZoneKey = keyof typeof PRIVATE_DNS_ZONES;

export interface NetworkArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  hubAddressPrefix: string;
  spokeAddressPrefix: string;
  /** The subnet plan from `planSubnets`. */
  subnets: SubnetPlan[];
  /** Decides the APIM subnet's NSG rules. */
  apimSku: ApimSku;
  tags: Record<string, string>;
}

export interface PrivateEndpointArgs {
  /** The PaaS resource the endpoint connects to. */
  serviceId: pulumi.Input<string>;
  /** The private-link sub-resource (`blob`, `vault`, `Sql`, `namespace`...). */
  groupId: string;
  /** Zones the endpoint's A records go into. */
  zones: DnsZoneKey[];
}

/**
 * Hub-and-spoke network: the hub holds the plant gateway and DNS resolver subnets, the spoke holds the
 * workloads and every private endpoint. Each subnet but GatewaySubnet has an NSG denying inbound Internet
 * traffic (the APIM subnet alone accepts HTTPS). All privatelink zones are linked to both VNets.
 */
export class Network extends pulumi.ComponentResource {
  readonly hub: network.VirtualNetwork;
  readonly spoke: network.VirtualNetwork;
  readonly subnetIds: Record<SubnetKey, pulumi.Output<string>>;
  readonly dnsZones: Record<DnsZoneKey, privatedns.PrivateZone>;
  readonly nsgs: network.NetworkSecurityGroup[] = [];
  private readonly resourceGroupName: pulumi.Input<string>;
  private readonly location: pulumi.Input<string>;
  private readonly privateEndpointSubnetId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Network', name, {}, opts);
    const { resourceGroupName, location, tags } = args;
    this.resourceGroupName = resourceGroupName;
    this.location = location;

    const nsgFor = new Map<SubnetKey, network.NetworkSecurityGroup>();
    for (const subnet of args.subnets.filter((s) => s.nsg)) {
      const nsg = new network.NetworkSecurityGroup(
        `nsg-${subnet.name.replace(/^snet-/, '')}`,
        {
          resourceGroupName,
          location,
          tags,
          securityRules: nsgRules(subnet, args.apimSku).map((rule) => ({
            ...rule,
            sourcePortRange: '*',
          })),
        },
        { parent: this },
      );
      nsgFor.set(subnet.key, nsg);
      this.nsgs.push(nsg);
    }

    const vnet = (which: 'hub' | 'spoke', addressPrefix: string) =>
      new network.VirtualNetwork(
        `vnet-${which}`,
        {
          resourceGroupName,
          location,
          tags,
          addressSpace: { addressPrefixes: [addressPrefix] },
          subnets: args.subnets
            .filter((s) => s.vnet === which)
            .map((s) => ({
              name: s.name,
              addressPrefix: s.addressPrefix,
              ...(nsgFor.has(s.key) ? { networkSecurityGroup: { id: nsgFor.get(s.key)!.id } } : {}),
              ...(s.delegation ? { delegations: [{ name: 'delegation', serviceName: s.delegation }] } : {}),
              ...(s.key === 'privateEndpoints' ? { privateEndpointNetworkPolicies: 'Enabled' } : {}),
            })),
        },
        { parent: this },
      );
    this.hub = vnet('hub', args.hubAddressPrefix);
    this.spoke = vnet('spoke', args.spokeAddressPrefix);

    const subnetIds: Partial<Record<SubnetKey, pulumi.Output<string>>> = {};
    for (const s of args.subnets) {
      const owner = s.vnet === 'hub' ? this.hub : this.spoke;
      subnetIds[s.key] = pulumi.interpolate`${owner.id}/subnets/${s.name}`;
    }
    this.subnetIds = subnetIds as Record<SubnetKey, pulumi.Output<string>>;
    this.privateEndpointSubnetId = this.subnetIds.privateEndpoints;

    new network.VirtualNetworkPeering(
      'peer-hub-to-spoke',
      {
        resourceGroupName,
        virtualNetworkName: this.hub.name,
        remoteVirtualNetwork: { id: this.spoke.id },
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: true,
        allowGatewayTransit: true,
      },
      { parent: this },
    );
    new network.VirtualNetworkPeering(
      'peer-spoke-to-hub',
      {
        resourceGroupName,
        virtualNetworkName: this.spoke.name,
        remoteVirtualNetwork: { id: this.hub.id },
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: true,
        // Set to true once the plant VPN/ExpressRoute gateway exists in the hub's GatewaySubnet.
        useRemoteGateways: false,
      },
      { parent: this },
    );

    const zones: Partial<Record<DnsZoneKey, privatedns.PrivateZone>> = {};
    for (const [key, zoneName] of Object.entries(PRIVATE_DNS_ZONES) as [DnsZoneKey, string][]) {
      const zone = new privatedns.PrivateZone(
        `dns-${key}`,
        { resourceGroupName, privateZoneName: zoneName, location: 'global', tags },
        { parent: this },
      );
      for (const [which, vnetResource] of [
        ['hub', this.hub],
        ['spoke', this.spoke],
      ] as const) {
        new privatedns.VirtualNetworkLink(
          `dns-${key}-${which}`,
          {
            resourceGroupName,
            privateZoneName: zone.name,
            location: 'global',
            registrationEnabled: false,
            virtualNetwork: { id: vnetResource.id },
            tags,
          },
          { parent: zone },
        );
      }
      zones[key] = zone;
    }
    this.dnsZones = zones as Record<DnsZoneKey, privatedns.PrivateZone>;

    this.registerOutputs({
      hubId: this.hub.id,
      spokeId: this.spoke.id,
      privateEndpointSubnetId: this.privateEndpointSubnetId,
    });
  }

  /**
   * A private endpoint in the spoke's endpoint subnet, with its DNS records in the given privatelink zones.
   * The owning component passes itself as `parent`, so the endpoint is listed with the service it exposes.
   */
  privateEndpoint(
    name: string,
    args: PrivateEndpointArgs,
    parent: pulumi.Resource,
  ): { endpoint: network.PrivateEndpoint; dnsGroup: network.PrivateDnsZoneGroup } {
    const endpoint = new network.PrivateEndpoint(
      `pe-${name}`,
      {
        resourceGroupName: this.resourceGroupName,
        location: this.location,
        subnet: { id: this.privateEndpointSubnetId },
        privateLinkServiceConnections: [
          { name: `${name}-${args.groupId}`, privateLinkServiceId: args.serviceId, groupIds: [args.groupId] },
        ],
      },
      { parent },
    );
    const dnsGroup = new network.PrivateDnsZoneGroup(
      `pe-${name}-dns`,
      {
        resourceGroupName: this.resourceGroupName,
        privateEndpointName: endpoint.name,
        privateDnsZoneGroupName: 'default',
        privateDnsZoneConfigs: args.zones.map((zone) => ({
          name: PRIVATE_DNS_ZONES[zone].replaceAll('.', '-'),
          privateDnsZoneId: this.dnsZones[zone].id,
        })),
      },
      { parent: endpoint },
    );
    return { endpoint, dnsGroup };
  }
}
