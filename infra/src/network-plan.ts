import type { ApimSku } from './config.js';

/**
 * The address plan: which subnets exist in the hub and the spoke, carved out of each stack's address
 * space by position so that dev, staging and prod can all peer with the plants' networks without overlap.
 */

export type SubnetKey =
  | 'gateway'
  | 'dnsInbound'
  | 'privateEndpoints'
  | 'apim'
  | 'funcIngest'
  | 'funcOrchestrator'
  | 'funcApi'
  | 'sapPlan';

export interface SubnetPlan {
  key: SubnetKey;
  /** The subnet's Azure name; `GatewaySubnet` is a name Azure requires. */
  name: string;
  vnet: 'hub' | 'spoke';
  addressPrefix: string;
  /** Service the subnet is delegated to, if any. */
  delegation?: string;
  /** Whether the subnet gets its own NSG (Azure forbids one on GatewaySubnet). */
  nsg: boolean;
  purpose: string;
}

/** How API Management joins the spoke: classic VNet injection or v2 outbound VNet integration. */
export const apimNetworkMode = (sku: ApimSku): 'injection' | 'integration' =>
  sku.endsWith('V2') ? 'integration' : 'injection';

const toNumber = (ip: string) => ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/** The `index`-th subnet of length `prefixLength` inside `cidr` (`carve('10.0.0.0/16', 24, 2)` = `10.0.2.0/24`). */
export function carve(cidr: string, prefixLength: number, index: number): string {
  const [base, bits] = cidr.split('/');
  const parentLength = Number(bits);
  if (prefixLength < parentLength || prefixLength > 29) {
    throw new Error(`cannot carve a /${prefixLength} out of ${cidr}`);
  }
  if (index < 0 || index >= 2 ** (prefixLength - parentLength)) {
    throw new Error(`${cidr} has no subnet #${index} of length /${prefixLength}`);
  }
  return `${toIp(toNumber(base ?? '') + index * 2 ** (32 - prefixLength))}/${prefixLength}`;
}

/** First and last address of a CIDR, as numbers (for overlap checks). */
export function cidrRange(cidr: string): [number, number] {
  const [base, bits] = cidr.split('/');
  const start = toNumber(base ?? '');
  return [start, start + 2 ** (32 - Number(bits)) - 1];
}

export function planSubnets(hubPrefix: string, spokePrefix: string, apimSku: ApimSku): SubnetPlan[] {
  const flex = 'Microsoft.App/environments';
  const apim: SubnetPlan = {
    key: 'apim',
    name: 'snet-apim',
    vnet: 'spoke',
    addressPrefix: carve(spokePrefix, 24, 1),
    nsg: true,
    purpose: 'API Management: the only public entry point, for partner apps',
  };
  if (apimNetworkMode(apimSku) === 'integration') apim.delegation = 'Microsoft.Web/serverFarms';
  return [
    {
      key: 'gateway',
      name: 'GatewaySubnet',
      vnet: 'hub',
      addressPrefix: carve(hubPrefix, 27, 0),
      nsg: false,
      purpose: 'VPN/ExpressRoute gateway to the three plants (gateway deployed separately)',
    },
    {
      key: 'dnsInbound',
      name: 'snet-dns-inbound',
      vnet: 'hub',
      addressPrefix: carve(hubPrefix, 27, 1),
      delegation: 'Microsoft.Network/dnsResolvers',
      nsg: true,
      purpose: 'Private DNS Resolver inbound endpoint, so plant networks resolve the privatelink zones',
    },
    {
      key: 'privateEndpoints',
      name: 'snet-private-endpoints',
      vnet: 'spoke',
      addressPrefix: carve(spokePrefix, 24, 0),
      nsg: true,
      purpose: 'private endpoints of every PaaS service',
    },
    apim,
    {
      key: 'funcIngest',
      name: 'snet-func-ingest',
      vnet: 'spoke',
      addressPrefix: carve(spokePrefix, 24, 2),
      delegation: flex,
      nsg: true,
      purpose: 'ingest Function App (Flex Consumption) outbound',
    },
    {
      key: 'funcOrchestrator',
      name: 'snet-func-orchestrator',
      vnet: 'spoke',
      addressPrefix: carve(spokePrefix, 24, 3),
      delegation: flex,
      nsg: true,
      purpose: 'orchestrator Function App (Flex Consumption) outbound',
    },
    {
      key: 'funcApi',
      name: 'snet-func-api',
      vnet: 'spoke',
      addressPrefix: carve(spokePrefix, 24, 4),
      delegation: flex,
      nsg: true,
      purpose: 'api Function App (Flex Consumption) outbound',
    },
    {
      key: 'sapPlan',
      name: 'snet-func-sap',
      vnet: 'spoke',
      addressPrefix: carve(spokePrefix, 24, 5),
      delegation: 'Microsoft.Web/serverFarms',
      nsg: true,
      purpose: 'sap Function App (P1v3 plan) outbound',
    },
  ];
}

export type NsgRule = {
  name: string;
  priority: number;
  direction: 'Inbound' | 'Outbound';
  access: 'Allow' | 'Deny';
  protocol: 'Tcp' | '*';
  sourceAddressPrefix: string;
  destinationAddressPrefix: string;
  destinationPortRange: string;
};

const denyInternetInbound: NsgRule = {
  name: 'deny-internet-inbound',
  priority: 4000,
  direction: 'Inbound',
  access: 'Deny',
  protocol: '*',
  sourceAddressPrefix: 'Internet',
  destinationAddressPrefix: '*',
  destinationPortRange: '*',
};

/**
 * NSG rules per subnet. Everything denies inbound traffic from the Internet; only the APIM subnet
 * accepts HTTPS from partners, plus the management and load-balancer ports classic VNet injection needs.
 */
export function nsgRules(subnet: SubnetPlan, apimSku: ApimSku): NsgRule[] {
  if (subnet.key !== 'apim') return [denyInternetInbound];
  const vnet = 'VirtualNetwork';
  const rules: NsgRule[] = [
    {
      name: 'allow-https-from-internet',
      priority: 100,
      direction: 'Inbound',
      access: 'Allow',
      protocol: 'Tcp',
      sourceAddressPrefix: 'Internet',
      destinationAddressPrefix: vnet,
      destinationPortRange: '443',
    },
  ];
  if (apimNetworkMode(apimSku) === 'injection') {
    rules.push(
      {
        name: 'allow-apim-management',
        priority: 110,
        direction: 'Inbound',
        access: 'Allow',
        protocol: 'Tcp',
        sourceAddressPrefix: 'ApiManagement',
        destinationAddressPrefix: vnet,
        destinationPortRange: '3443',
      },
      {
        name: 'allow-azure-load-balancer',
        priority: 120,
        direction: 'Inbound',
        access: 'Allow',
        protocol: 'Tcp',
        sourceAddressPrefix: 'AzureLoadBalancer',
        destinationAddressPrefix: vnet,
        destinationPortRange: '6390',
      },
    );
  }
  return [...rules, denyInternetInbound];
}
