import * as storage from '@pulumi/azure-native/storage/index.js';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config.js';
import { sendDiagnostics } from './monitoring.js';
import type { Network } from './network.js';

/**
 * Personal-data protection's containers (docs/privacy.md): `audit` holds the append-only log of personal-data
 * reads (immutable, see {@link AUDIT_RETENTION_DAYS}), `privacy` the privacy request records and compliance
 * certificates, `reports` the personal-data migration reports.
 */
export const PRIVACY_CONTAINERS = ['audit', 'privacy', 'reports'] as const;
/** The medallion's containers, Synapse's working file system and the personal-data containers. */
export const LAKE_CONTAINERS = ['bronze', 'silver', 'gold', 'synapse', ...PRIVACY_CONTAINERS] as const;
export type LakeContainer = (typeof LAKE_CONTAINERS)[number];

/**
 * The table of wrapped per-subject data keys. Erasing a subject destroys its row, which makes that subject's
 * ciphertext unreadable everywhere (crypto-shredding), so nothing may keep a copy of a deleted row. It is a
 * Table Storage table on purpose: Table Storage has no versioning, soft delete, point-in-time restore or
 * snapshots (those are Blob features, and this program enables only blob and container soft delete), and no
 * backup of it is configured. Geo-replication (RA-GRS in prod) replays a delete on the secondary
 * asynchronously, usually within minutes. Never move these keys into blobs, nor export the table to a container: soft delete would keep a
 * destroyed key for the retention days.
 */
export const PRIVACY_KEY_TABLE = 'privacykeys';
/** Tables the platform keeps beside the files: source status (freshness), ingestion checkpoints, data keys. */
export const LAKE_TABLES = ['sourcestatus', 'checkpoints', PRIVACY_KEY_TABLE] as const;
export type LakeTable = (typeof LAKE_TABLES)[number];

/**
 * How long each audit blob stays immutable after its creation: three years, long enough to answer a data
 * subject or the supervisory authority about who read their data. While it lasts, blocks can only be appended
 * (allowProtectedAppendWrites); no blob can be overwritten or deleted. Once the policy is locked (prod, README)
 * this can only be extended; nothing deletes audit blobs after it ends.
 */
export const AUDIT_RETENTION_DAYS = 1095;

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
 * (and back to Hot when read) and never to the offline Archive tier. Personal-data protection keeps its audit
 * log, request records and reports in their own containers and its wrapped data keys in a table (never in
 * blobs, whose soft delete would keep destroyed keys).
 */
export class Lake extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount;
  readonly containers: Record<LakeContainer, storage.BlobContainer>;
  readonly tables: Record<LakeTable, storage.Table>;
  /** Write-once retention on the audit container; append blobs may still grow. */
  readonly auditImmutability: storage.BlobContainerImmutabilityPolicy;
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

    const containers: Partial<Record<LakeContainer, storage.BlobContainer>> = {};
    for (const container of LAKE_CONTAINERS) {
      containers[container] = new storage.BlobContainer(
        `lake-${container}`,
        { resourceGroupName, accountName: this.account.name, containerName: container, publicAccess: 'None' },
        { parent: this, dependsOn: [blobService] },
      );
    }
    this.containers = containers as Record<LakeContainer, storage.BlobContainer>;

    // Container-level WORM works on HNS accounts (blobs under retention cannot be renamed or moved). Pulumi
    // creates the policy unlocked; prod locks it once by hand (README), after which it can only be extended.
    this.auditImmutability = new storage.BlobContainerImmutabilityPolicy(
      'lake-audit-immutability',
      {
        resourceGroupName,
        accountName: this.account.name,
        containerName: this.containers.audit.name,
        immutabilityPolicyName: 'default',
        immutabilityPeriodSinceCreationInDays: AUDIT_RETENTION_DAYS,
        allowProtectedAppendWrites: true,
      },
      { parent: this, protect: config.stack === 'prod' },
    );

    const tables: Partial<Record<LakeTable, storage.Table>> = {};
    for (const table of LAKE_TABLES) {
      tables[table] = new storage.Table(
        `lake-table-${table}`,
        { resourceGroupName, accountName: this.account.name, tableName: table },
        { parent: this },
      );
    }
    this.tables = tables as Record<LakeTable, storage.Table>;

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
