/**
 * Who may do what, as one reviewable table: every role assignment the stack makes, its scope as narrow as
 * the workload allows, and why. The {@link AccessControl} component materialises exactly these rows.
 */

/** Azure built-in roles used by Aurora, by their stable role-definition GUIDs. */
export const BUILT_IN_ROLES = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Storage Table Data Reader': '76199698-9eea-4c19-bc75-cec21354c6b6',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  /** keys/read, wrap and unwrap only: narrower than Key Vault Crypto User, which can also update and back up keys. */
  'Key Vault Crypto Service Encryption User': 'e147488a-f6f5-4113-8e2d-b22465e65bf6',
  'Azure Event Hubs Data Receiver': 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde',
  'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Monitoring Reader': '43d0d8ad-25c7-4714-9337-8ba259a9fe05',
  'Grafana Admin': '22926164-76b3-42b3-bc55-97df8dab3e41',
  'IoT Hub Registry Contributor': '4ea46cd5-c1b2-4a8e-910b-273211f9ce47',
} as const;
export type RoleName = keyof typeof BUILT_IN_ROLES;

/** Roles that would grant control of resources rather than access to data; never assigned here. */
export const FORBIDDEN_ROLES = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
} as const;

export const APPS = ['ingest', 'sap', 'orchestrator', 'api'] as const;
export type AppName = (typeof APPS)[number];

export type Principal = AppName | 'synapse' | 'iotHub' | 'grafana' | 'admins';

/** Scopes by name; the AccessControl component resolves each to a resource id. */
export type ScopeName =
  | 'lake'
  | 'lake:bronze'
  | 'lake:silver'
  | 'lake:gold'
  | 'lake:audit'
  | 'lake:privacy'
  | 'lake:reports'
  | 'lake:tables'
  | 'lake:table:privacykeys'
  | 'host'
  | 'eventHub:telemetry'
  | 'iotHub'
  | 'keyVault'
  | 'key:privacy-kek'
  | `secret:${string}`
  | 'appInsights'
  | 'grafana'
  | 'resourceGroup';

export interface Grant {
  principal: Principal;
  role: RoleName;
  scope: ScopeName;
  why: string;
}

/** Source-system credentials: set out of band (README), read by one app each through a Key Vault reference. */
export const SOURCE_SECRETS = [
  { secretName: 'oracle-erp-password', setting: 'AURORA_ORACLE_ERP_PASSWORD', app: 'ingest' },
  { secretName: 'mes-simatic-client-secret', setting: 'AURORA_MES_SIMATIC_CLIENT_SECRET', app: 'ingest' },
  { secretName: 'mes-simatic-password', setting: 'AURORA_MES_SIMATIC_PASSWORD', app: 'ingest' },
  { secretName: 'mes-hydra-api-key', setting: 'AURORA_MES_HYDRA_API_KEY', app: 'ingest' },
  { secretName: 'mes-regensburg-password', setting: 'AURORA_MES_REGENSBURG_PASSWORD', app: 'ingest' },
  { secretName: 'sap-rfc-password', setting: 'AURORA_SAP_RFC_PASSWORD', app: 'sap' },
] as const satisfies readonly { secretName: string; setting: string; app: AppName }[];

/** The Application Insights connection string, written by Pulumi, read by every app. */
export const APP_INSIGHTS_SECRET = 'appinsights-connection-string';

/**
 * The HMAC key that derives pseudonymous key ids from data-subject ids (32 random bytes, base64). Set once out
 * of band (docs/privacy.md), never by Pulumi, and never rotated: a new value would derive other key ids and
 * orphan every subject's data key. Ingest and sap read it from the vault, api and orchestrator through the Key
 * Vault reference in `setting` (the secret provider's naming). Pulumi writes `placeholder` when it creates the
 * secret: even decoded leniently as base64 it is far shorter than 32 bytes, so the apps refuse it instead of
 * deriving key ids from it.
 */
export const PRIVACY_INDEX_SECRET = {
  secretName: 'privacy-index-key',
  setting: 'AURORA_PRIVACY_INDEX_KEY',
  placeholder: 'unset: see docs/privacy.md',
} as const;

const perApp = (app: AppName): Grant[] => [
  {
    principal: app,
    role: 'Storage Blob Data Owner',
    scope: 'host',
    why: 'Functions host storage: leases, deployment package, Durable task hub blobs',
  },
  {
    principal: app,
    role: 'Storage Queue Data Contributor',
    scope: 'host',
    why: 'Functions host and Durable queues',
  },
  {
    principal: app,
    role: 'Storage Table Data Contributor',
    scope: 'host',
    why: 'Durable Functions history tables',
  },
  {
    principal: app,
    role: 'Monitoring Metrics Publisher',
    scope: 'appInsights',
    why: 'Entra-authenticated telemetry (local auth is off)',
  },
  {
    principal: app,
    role: 'Key Vault Secrets User',
    scope: `secret:${APP_INSIGHTS_SECRET}`,
    why: 'Key Vault reference for APPLICATIONINSIGHTS_CONNECTION_STRING',
  },
];

export const ACCESS_PLAN: readonly Grant[] = [
  ...APPS.flatMap(perApp),
  ...SOURCE_SECRETS.map(
    (s): Grant => ({
      principal: s.app,
      role: 'Key Vault Secrets User',
      scope: `secret:${s.secretName}`,
      why: `Key Vault reference for ${s.setting}`,
    }),
  ),
  {
    principal: 'ingest',
    role: 'Storage Blob Data Contributor',
    scope: 'lake:bronze',
    why: 'lands ERP, MES and IoT data',
  },
  {
    principal: 'sap',
    role: 'Storage Blob Data Contributor',
    scope: 'lake:bronze',
    why: 'lands SAP BAPI extracts',
  },
  {
    principal: 'orchestrator',
    role: 'Storage Blob Data Reader',
    scope: 'lake:bronze',
    why: 'reads bronze for silver',
  },
  {
    principal: 'orchestrator',
    role: 'Storage Blob Data Contributor',
    scope: 'lake:silver',
    why: 'writes silver Delta tables',
  },
  {
    principal: 'orchestrator',
    role: 'Storage Blob Data Contributor',
    scope: 'lake:gold',
    why: 'writes gold Delta tables',
  },
  { principal: 'api', role: 'Storage Blob Data Reader', scope: 'lake:gold', why: 'serves gold facts' },
  ...(['ingest', 'sap', 'orchestrator'] as const).map(
    (app): Grant => ({
      principal: app,
      role: 'Storage Table Data Contributor',
      scope: 'lake:tables',
      // privacykeys too: landing stores wrapped data keys; the orchestrator reads which keys are destroyed.
      why: 'checkpoints, source status and the personal-data key table privacykeys',
    }),
  ),
  {
    principal: 'api',
    role: 'Storage Table Data Reader',
    scope: 'lake:tables',
    why: 'GET /freshness reads source status; decrypting reads wrapped data keys from privacykeys',
  },
  {
    principal: 'api',
    role: 'Storage Table Data Contributor',
    scope: 'lake:table:privacykeys',
    why: "Guardian (POST /api/v1/privacy/requests) replaces an erased subject's data key by a tombstone",
  },
  {
    principal: 'ingest',
    role: 'Azure Event Hubs Data Receiver',
    scope: 'eventHub:telemetry',
    why: 'Event Hubs trigger for IoT telemetry',
  },
  // Personal data (docs/privacy.md): landing encrypts under a per-subject data key that Key Vault wraps; the
  // api decrypts for roles allowed to see it; the orchestrator decrypts, anonymises and migrates. Unwrapping
  // is needed everywhere, since landing reuses a subject's existing data key.
  ...(
    [
      ['ingest', "landing wraps new data keys and unwraps a subject's existing one (ERP, MES, IoT)"],
      ['sap', "landing wraps new data keys and unwraps a subject's existing one (SAP)"],
      ['orchestrator', 'unwraps data keys to decrypt, anonymise and migrate personal data'],
      ['api', 'unwraps data keys to decrypt personal data for roles allowed to see it'],
    ] as const
  ).map(
    ([app, why]): Grant => ({
      principal: app,
      role: 'Key Vault Crypto Service Encryption User',
      scope: 'key:privacy-kek',
      why,
    }),
  ),
  ...APPS.map(
    (app): Grant => ({
      principal: app,
      role: 'Key Vault Secrets User',
      scope: `secret:${PRIVACY_INDEX_SECRET.secretName}`,
      why: `Key Vault reference for ${PRIVACY_INDEX_SECRET.setting}: derives a subject's key id (landing, privacy requests)`,
    }),
  ),
  ...(['orchestrator', 'api'] as const).flatMap((app) =>
    (
      [
        ['lake:audit', 'appends to the audit log of personal-data reads (immutable append blobs)'],
        ['lake:privacy', 'writes privacy request records and compliance certificates'],
        ['lake:reports', 'writes personal-data migration reports'],
      ] as const
    ).map(([scope, why]): Grant => ({ principal: app, role: 'Storage Blob Data Contributor', scope, why })),
  ),
  {
    principal: 'synapse',
    role: 'Storage Blob Data Contributor',
    scope: 'lake',
    why: 'Synapse workspace primary storage: Spark, serverless SQL and COPY INTO',
  },
  {
    principal: 'iotHub',
    role: 'Azure Event Hubs Data Sender',
    scope: 'eventHub:telemetry',
    why: 'identity-based routing of device messages',
  },
  {
    principal: 'grafana',
    role: 'Monitoring Reader',
    scope: 'resourceGroup',
    why: 'dashboards read metrics and logs',
  },
  {
    principal: 'admins',
    role: 'Key Vault Secrets Officer',
    scope: 'keyVault',
    why: 'platform engineers set and rotate source credentials',
  },
  {
    principal: 'admins',
    role: 'Grafana Admin',
    scope: 'grafana',
    why: 'platform engineers manage dashboards',
  },
  {
    principal: 'admins',
    role: 'Azure Event Hubs Data Receiver',
    scope: 'eventHub:telemetry',
    why: 'platform engineers backfill after an outage (aurora iot replay)',
  },
  {
    principal: 'admins',
    role: 'Azure Event Hubs Data Sender',
    scope: 'eventHub:telemetry',
    why: 'platform engineers load-test the telemetry path (aurora simulate --target eventhubs)',
  },
  {
    principal: 'admins',
    role: 'IoT Hub Registry Contributor',
    scope: 'iotHub',
    why: 'platform engineers register gateways and sensors (aurora iot devices sync)',
  },
];
