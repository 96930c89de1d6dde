import { createHash } from 'node:crypto';
import type * as pulumi from '@pulumi/pulumi';

/**
 * Offline stand-ins for Azure: what `pulumi.runtime.setMocks` needs to run the program without the Pulumi
 * engine or a cloud. Every custom resource is recorded with its resolved inputs, and the outputs the
 * program reads back (endpoints, identities, secret URIs) are faked per resource type, the way Azure
 * would compute them.
 */

export interface RecordedResource {
  /** Pulumi type token, e.g. `azure-native:storage:StorageAccount`. */
  type: string;
  /** Logical (Pulumi) name. */
  name: string;
  /** Resolved inputs. */
  props: Record<string, unknown>;
}

export const MOCK_SUBSCRIPTION_ID = '00000000-0000-0000-0000-00000000a0a0';
export const MOCK_TENANT_ID = '00000000-0000-0000-0000-00000000c1c1';

/** A stable GUID-shaped value derived from a seed, for principal and client ids. */
export const fakeGuid = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

type Inputs = Record<string, unknown>;

/** How Pulumi's RPC layer marks a secret value (`{ [SECRET_SIG]: SECRET_SIG_VALUE, value }`). */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const SECRET_SIG_VALUE = '1b47061264138c4ac30d75fd1eb44270';

/** Replaces secret wrappers by the values they hold, so that inputs read like the resource's arguments. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Inputs;
  if (record[SECRET_SIG] === SECRET_SIG_VALUE) return unwrapSecrets(record['value']);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The Azure resource name: the explicit name input when the program sets one, else the logical name. */
export const NAME_INPUTS: Readonly<Record<string, string>> = {
  'azure-native:resources:ResourceGroup': 'resourceGroupName',
  'azure-native:storage:StorageAccount': 'accountName',
  'azure-native:storage:BlobContainer': 'containerName',
  'azure-native:storage:Table': 'tableName',
  'azure-native:keyvault:Vault': 'vaultName',
  'azure-native:keyvault:Secret': 'secretName',
  'azure-native:keyvault:Key': 'keyName',
  'azure-native:eventhub:EventHub': 'eventHubName',
  'azure-native:eventhub:ConsumerGroup': 'consumerGroupName',
  'azure-native:synapse:Workspace': 'workspaceName',
  'azure-native:synapse:SqlPool': 'sqlPoolName',
  'azure-native:synapse:BigDataPool': 'bigDataPoolName',
  'azure-native:dashboard:Grafana': 'workspaceName',
  'azure-native:privatedns:PrivateZone': 'privateZoneName',
  'azure-native:apimanagement:Api': 'apiId',
  'azure-native:apimanagement:Product': 'productId',
  'azure-native:monitor:ScheduledQueryRule': 'ruleName',
  'azure-native:monitor:MetricAlert': 'ruleName',
  'azure-native:monitor:ActivityLogAlert': 'activityLogAlertName',
};

export const azureName = (type: string, logicalName: string, inputs: Inputs): string => {
  const key = NAME_INPUTS[type];
  return (key && str(inputs[key])) ?? str(inputs['name']) ?? logicalName;
};

/** Realistic resource ids for the types whose ids the program uses as scopes; a generic shape for the rest. */
const azureId = (type: string, name: string, inputs: Inputs): string => {
  const rg = `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${str(inputs['resourceGroupName']) ?? 'rg'}`;
  const [, module = 'unknown', kind = 'Resource'] = type.split(':');
  switch (type) {
    case 'azure-native:resources:ResourceGroup':
      return rg;
    case 'azure-native:storage:StorageAccount':
      return `${rg}/providers/Microsoft.Storage/storageAccounts/${name}`;
    case 'azure-native:storage:BlobContainer':
      return `${rg}/providers/Microsoft.Storage/storageAccounts/${str(inputs['accountName'])}/blobServices/default/containers/${name}`;
    case 'azure-native:storage:Table':
      return `${rg}/providers/Microsoft.Storage/storageAccounts/${str(inputs['accountName'])}/tableServices/default/tables/${name}`;
    case 'azure-native:keyvault:Vault':
      return `${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
    case 'azure-native:keyvault:Secret':
      return `${rg}/providers/Microsoft.KeyVault/vaults/${str(inputs['vaultName'])}/secrets/${name}`;
    case 'azure-native:keyvault:Key':
      return `${rg}/providers/Microsoft.KeyVault/vaults/${str(inputs['vaultName'])}/keys/${name}`;
    case 'azure-native:eventhub:Namespace':
      return `${rg}/providers/Microsoft.EventHub/namespaces/${name}`;
    case 'azure-native:eventhub:EventHub':
      return `${rg}/providers/Microsoft.EventHub/namespaces/${str(inputs['namespaceName'])}/eventhubs/${name}`;
    default:
      return `${rg}/providers/Microsoft.${module}/${kind}/${name}`;
  }
};

/** Outputs Azure computes, faked per type so that the program can wire resources together. */
const computedState = (type: string, name: string, inputs: Inputs): Inputs => {
  const identity = (value: unknown) =>
    typeof value === 'object' && value !== null
      ? { ...value, principalId: fakeGuid(`${type}/${name}/principal`), tenantId: MOCK_TENANT_ID }
      : value;
  switch (type) {
    case 'azure-native:storage:StorageAccount': {
      const endpoint = (service: string) => `https://${name}.${service}.core.windows.net/`;
      return {
        primaryEndpoints: Object.fromEntries(
          ['blob', 'dfs', 'table', 'queue', 'file', 'web'].map((service) => [service, endpoint(service)]),
        ),
      };
    }
    case 'azure-native:keyvault:Vault':
      return {
        properties: { ...(inputs['properties'] as Inputs), vaultUri: `https://${name}.vault.azure.net/` },
      };
    case 'azure-native:keyvault:Secret': {
      const uri = `https://${str(inputs['vaultName'])}.vault.azure.net/secrets/${name}`;
      return {
        properties: {
          ...(inputs['properties'] as Inputs),
          secretUri: uri,
          secretUriWithVersion: `${uri}/0001`,
        },
      };
    }
    case 'azure-native:keyvault:Key': {
      const uri = `https://${str(inputs['vaultName'])}.vault.azure.net/keys/${name}`;
      return { keyUri: uri, keyUriWithVersion: `${uri}/0001` };
    }
    case 'azure-native:managedidentity:UserAssignedIdentity':
      return {
        principalId: fakeGuid(`${name}/principal`),
        clientId: fakeGuid(`${name}/client`),
        tenantId: MOCK_TENANT_ID,
      };
    case 'azure-native:web:WebApp':
      return { defaultHostName: `${name}.azurewebsites.net`, identity: identity(inputs['identity']) };
    case 'azure-native:synapse:Workspace':
    case 'azure-native:iothub:IotHubResource':
    case 'azure-native:dashboard:Grafana':
      return { identity: identity(inputs['identity']) };
    case 'azure-native:apimanagement:ApiManagementService':
      return { identity: identity(inputs['identity']), gatewayUrl: `https://${name}.azure-api.net` };
    case 'azure-native:applicationinsights:Component': {
      const key = fakeGuid(`${name}/instrumentation-key`);
      return {
        instrumentationKey: key,
        connectionString: `InstrumentationKey=${key};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/`,
      };
    }
    case 'azure-native:operationalinsights:Workspace':
      return { customerId: fakeGuid(`${name}/customer`) };
    default:
      return {};
  }
};

/** Resources whose inputs carry secret values; the inventory never prints those values. */
const SECRET_INPUT_PATHS: Record<string, string[]> = {
  'azure-native:keyvault:Secret': ['properties', 'value'],
};

const redact = (type: string, inputs: Inputs): Inputs => {
  const path = SECRET_INPUT_PATHS[type];
  if (!path) return inputs;
  const [outer, inner] = path as [string, string];
  const nested = inputs[outer];
  if (typeof nested !== 'object' || nested === null || !(inner in nested)) return inputs;
  return { ...inputs, [outer]: { ...nested, [inner]: '[redacted]' } };
};

/** Builds the mocks and the list they record into. */
export function createAzureMocks(): { mocks: pulumi.runtime.Mocks; resources: RecordedResource[] } {
  const resources: RecordedResource[] = [];
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const inputs = unwrapSecrets(args.inputs) as Inputs;
      const name = azureName(args.type, args.name, inputs);
      if (args.custom !== false)
        resources.push({ type: args.type, name: args.name, props: redact(args.type, inputs) });
      return {
        id: azureId(args.type, name, inputs),
        state: { ...inputs, name, ...computedState(args.type, name, inputs) },
      };
    },
    call(args) {
      if (args.token === 'azure-native:authorization:getClientConfig') {
        return {
          subscriptionId: MOCK_SUBSCRIPTION_ID,
          tenantId: MOCK_TENANT_ID,
          clientId: fakeGuid('deployer/client'),
          objectId: fakeGuid('deployer/object'),
        };
      }
      throw new Error(`no offline mock for invoke ${args.token}`);
    },
  };
  return { mocks, resources };
}
