import * as synapse from '@pulumi/azure-native/synapse/index.js';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config.js';
import { sendDiagnostics } from './monitoring.js';
import type { Network } from './network.js';

/** The dedicated SQL pool that holds gold and its materialized views (Power BI reads it). */
export const SQL_POOL_NAME = 'gold';
export const SPARK_POOL_NAME = 'spark';

export interface AnalyticsArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  tenantId: pulumi.Input<string>;
  workspaceName: pulumi.Input<string>;
  /** The lake: Synapse's primary storage and the source of COPY INTO and Spark jobs. */
  lakeAccountId: pulumi.Input<string>;
  lakeDfsEndpoint: pulumi.Input<string>;
  network: Network;
  workspaceId: pulumi.Input<string>;
}

/**
 * Synapse: a workspace in a managed VNet with data-exfiltration protection, no public network access
 * and Entra-only authentication (no SQL password exists anywhere); the platform admins group is its Entra
 * admin. A memory-optimised Spark pool autoscales for heavy backfills and pauses when idle; the dedicated
 * SQL pool holds gold with geo-redundant backups in prod (restore points every few hours plus a daily
 * geo-backup; gold can always be reloaded from the lake, which is the RPO < 1 h copy).
 */
export class Analytics extends pulumi.ComponentResource {
  readonly workspace: synapse.Workspace;
  readonly sparkPool: synapse.BigDataPool;
  readonly sqlPool: synapse.SqlPool;
  /** `<workspace>.sql.azuresynapse.net`: the dedicated pool's TDS endpoint. */
  readonly sqlEndpoint: pulumi.Output<string>;

  constructor(name: string, args: AnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Analytics', name, {}, opts);
    const { resourceGroupName, location, config, network } = args;
    const { tags, analytics, admins } = config;

    this.workspace = new synapse.Workspace(
      'synapse',
      {
        resourceGroupName,
        location,
        tags,
        workspaceName: args.workspaceName,
        identity: { type: 'SystemAssigned' },
        defaultDataLakeStorage: {
          accountUrl: args.lakeDfsEndpoint,
          filesystem: 'synapse',
          resourceId: args.lakeAccountId,
          createManagedPrivateEndpoint: true,
        },
        managedVirtualNetwork: 'default',
        managedVirtualNetworkSettings: { preventDataExfiltration: true, allowedAadTenantIdsForLinking: [] },
        publicNetworkAccess: 'Disabled',
        trustedServiceBypassEnabled: false,
        azureADOnlyAuthentication: true,
        cspWorkspaceAdminProperties: { initialWorkspaceAdminObjectId: admins.groupObjectId },
      },
      { parent: this },
    );
    this.sqlEndpoint = pulumi.interpolate`${this.workspace.name}.sql.azuresynapse.net`;

    const entraAdmin = {
      resourceGroupName,
      workspaceName: this.workspace.name,
      administratorType: 'ActiveDirectory',
      login: admins.groupName,
      sid: admins.groupObjectId,
      tenantId: args.tenantId,
    };
    new synapse.WorkspaceAadAdmin('synapse-entra-admin', entraAdmin, { parent: this.workspace });
    new synapse.WorkspaceSqlAadAdmin('synapse-sql-entra-admin', entraAdmin, { parent: this.workspace });

    this.sparkPool = new synapse.BigDataPool(
      'synapse-spark',
      {
        resourceGroupName,
        location,
        tags,
        workspaceName: this.workspace.name,
        bigDataPoolName: SPARK_POOL_NAME,
        sparkVersion: '3.4',
        nodeSizeFamily: 'MemoryOptimized',
        nodeSize: analytics.sparkNodeSize,
        autoScale: {
          enabled: true,
          minNodeCount: analytics.sparkMinNodes,
          maxNodeCount: analytics.sparkMaxNodes,
        },
        autoPause: { enabled: true, delayInMinutes: analytics.sparkAutoPauseMinutes },
        dynamicExecutorAllocation: {
          enabled: true,
          minExecutors: 1,
          maxExecutors: analytics.sparkMaxNodes - 1,
        },
        sessionLevelPackagesEnabled: true,
      },
      { parent: this },
    );

    this.sqlPool = new synapse.SqlPool(
      'synapse-sql-gold',
      {
        resourceGroupName,
        location,
        tags,
        workspaceName: this.workspace.name,
        sqlPoolName: SQL_POOL_NAME,
        sku: { name: analytics.sqlPoolSku },
        createMode: 'Default',
        collation: 'SQL_Latin1_General_CP1_CI_AS',
        storageAccountType: analytics.sqlPoolBackupStorage,
      },
      { parent: this, protect: config.stack === 'prod' },
    );
    new synapse.SqlPoolTransparentDataEncryption(
      'synapse-sql-gold-tde',
      {
        resourceGroupName,
        workspaceName: this.workspace.name,
        sqlPoolName: this.sqlPool.name,
        transparentDataEncryptionName: 'current',
        status: 'Enabled',
      },
      { parent: this.sqlPool },
    );

    network.privateEndpoint(
      'synapse-sql',
      { serviceId: this.workspace.id, groupId: 'Sql', zones: ['synapseSql'] },
      this,
    );
    network.privateEndpoint(
      'synapse-sql-ondemand',
      { serviceId: this.workspace.id, groupId: 'SqlOnDemand', zones: ['synapseSql'] },
      this,
    );
    network.privateEndpoint(
      'synapse-dev',
      { serviceId: this.workspace.id, groupId: 'Dev', zones: ['synapseDev'] },
      this,
    );

    sendDiagnostics(
      'synapse',
      { resourceUri: this.workspace.id, workspaceId: args.workspaceId, metrics: false },
      this,
    );
    sendDiagnostics('synapse-spark', { resourceUri: this.sparkPool.id, workspaceId: args.workspaceId }, this);
    sendDiagnostics(
      'synapse-sql-gold',
      { resourceUri: this.sqlPool.id, workspaceId: args.workspaceId },
      this,
    );

    this.registerOutputs({ workspaceId: this.workspace.id, sqlEndpoint: this.sqlEndpoint });
  }
}
