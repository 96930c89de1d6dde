import * as storage from '@pulumi/azure-native/storage/index.js';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config.js';
import { sendDiagnostics } from './monitoring.js';
import type { Network } from './network.js';

/** The medallion's containers, plus Synapse's working file system. */
export const LAKE_CONTAINERS = ['bronze', 'silver', 'gold', 'synapse'] as const;
/** Tables the platform keeps beside the files: source status (freshness) and ingestion checkpoints. */
export const LAKE_TABLES = ['sourcestatus', 'checkpoints'] as const;

/** Bronze tiers to Cool after 90 days and to Archive after two years (ARCHITECTURE: raw data is kept). */
export const BRONZE_COOL_AFTER_DAYS = 90;
export const BRONZE_ARCHIVE_AFTER_DAYS = 730;
/** Silver and gold files go to Cool once nobody has read them for this long (and back to Hot on a read). */
export const DELTA_COOL_AFTER_UNREAD_DAYS = 90;

export interface LakeArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  accountName: pulumi.Input<string>;
  network: Network;
  workspaceId: pulumi.Input<string>;
}

/**
 * ADLS Gen2: hierarchical namespace, Entra-only access (no shared keys, no public blobs), TLS 1.2, private
 * endpoints only, geo-redundant in prod. Soft delete for blobs and containers is the first line of backup.
 * Lifecycle: bronze goes Hot -> Cool (90 days) -> Archive (730 days). Silver and gold are Delta tables whose
 * old files may still belong to the current version, so they move to Cool only when unread for 90 days
 * (and back to Hot when read) and never to the offline Archive tier.
 */
export class Lake extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount;
  readonly containers: Record<(typeof LAKE_CONTAINERS)[number], storage.BlobContainer>;
  readonly lifecycle: storage.ManagementPolicy;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly dfsEndpoint: pulumi.Output<string>;
  readonly tableEndpoint: pulumi.Output<string>;

  constructor(name: string, args: LakeArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Lake', name, {}, opts);
    const { resourceGroupName, location, config, network } = args;
    const { tags } = config;

    this.account = new storage.StorageAccount(
      'lake',
      {
        resourceGroupName,
        location,
        tags,
        accountName: args.accountName,
        kind: 'StorageV2',
        sku: { name: config.lake.sku },
        accessTier: 'Hot',
        isHnsEnabled: true,
        minimumTlsVersion: 'TLS1_2',
        enableHttpsTrafficOnly: true,
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowCrossTenantReplication: false,
        allowedCopyScope: 'PrivateLink',
        isSftpEnabled: false,
        isLocalUserEnabled: false,
        publicNetworkAccess: 'Disabled',
        networkRuleSet: { defaultAction: 'Deny', bypass: 'None', ipRules: [], virtualNetworkRules: [] },
        encryption: {
          keySource: 'Microsoft.Storage',
          requireInfrastructureEncryption: true,
          services: {
            blob: { enabled: true, keyType: 'Account' },
            table: { enabled: true, keyType: 'Account' },
          },
        },
      },
      { parent: this, protect: config.stack === 'prod' },
    );
    const endpoints = this.account.primaryEndpoints;
    this.blobEndpoint = endpoints.blob;
    this.dfsEndpoint = endpoints.dfs;
    this.tableEndpoint = endpoints.table;

    const blobService = new storage.BlobServiceProperties(
      'lake-blob-service',
      {
        resourceGroupName,
        accountName: this.account.name,
        blobServicesName: 'default',
        deleteRetentionPolicy: { enabled: true, days: config.lake.softDeleteDays },
        containerDeleteRetentionPolicy: { enabled: true, days: config.lake.softDeleteDays },
        lastAccessTimeTrackingPolicy: {
          enable: true,
          name: 'AccessTimeTracking',
          trackingGranularityInDays: 1,
          blobType: ['blockBlob'],
        },
      },
      { parent: this },
    );

    const containers: Partial<Record<(typeof LAKE_CONTAINERS)[number], storage.BlobContainer>> = {};
    for (const container of LAKE_CONTAINERS) {
      containers[container] = new storage.BlobContainer(
        `lake-${container}`,
        { resourceGroupName, accountName: this.account.name, containerName: container, publicAccess: 'None' },
        { parent: this, dependsOn: [blobService] },
      );
    }
    this.containers = containers as Record<(typeof LAKE_CONTAINERS)[number], storage.BlobContainer>;

    for (const table of LAKE_TABLES) {
      new storage.Table(
        `lake-table-${table}`,
        { resourceGroupName, accountName: this.account.name, tableName: table },
        { parent: this },
      );
    }

    this.lifecycle = new storage.ManagementPolicy(
      'lake-lifecycle',
      {
        resourceGroupName,
        accountName: this.account.name,
        managementPolicyName: 'default',
        policy: {
          rules: [
            {
              name: 'bronze-cool-then-archive',
              enabled: true,
              type: 'Lifecycle',
              definition: {
                filters: { blobTypes: ['blockBlob'], prefixMatch: ['bronze/'] },
                actions: {
                  baseBlob: {
                    tierToCool: { daysAfterModificationGreaterThan: BRONZE_COOL_AFTER_DAYS },
                    tierToArchive: { daysAfterModificationGreaterThan: BRONZE_ARCHIVE_AFTER_DAYS },
                  },
                },
              },
            },
            {
              name: 'silver-gold-cool-when-unread',
              enabled: true,
              type: 'Lifecycle',
              definition: {
                filters: { blobTypes: ['blockBlob'], prefixMatch: ['silver/', 'gold/'] },
                actions: {
                  baseBlob: {
                    tierToCool: { daysAfterLastAccessTimeGreaterThan: DELTA_COOL_AFTER_UNREAD_DAYS },
                    enableAutoTierToHotFromCool: true,
                  },
                },
              },
            },
          ],
        },
      },
      { parent: this, dependsOn: [blobService] },
    );

    for (const [groupId, zone] of [
      ['blob', 'blob'],
      ['dfs', 'dfs'],
      ['table', 'table'],
    ] as const) {
      network.privateEndpoint(
        `lake-${groupId}`,
        { serviceId: this.account.id, groupId, zones: [zone] },
        this,
      );
    }

    sendDiagnostics(
      'lake-blob',
      {
        resourceUri: pulumi.interpolate`${this.account.id}/blobServices/default`,
        workspaceId: args.workspaceId,
      },
      this,
    );
    sendDiagnostics(
      'lake-table',
      {
        resourceUri: pulumi.interpolate`${this.account.id}/tableServices/default`,
        workspaceId: args.workspaceId,
      },
      this,
    );

    this.registerOutputs({ accountId: this.account.id, dfsEndpoint: this.dfsEndpoint });
  }
}
