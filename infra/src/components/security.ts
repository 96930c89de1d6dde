import * as keyvault from '@pulumi/azure-native/keyvault/index.js';
import * as managedidentity from '@pulumi/azure-native/managedidentity/index.js';
import * as pulumi from '@pulumi/pulumi';
import {
  APP_INSIGHTS_SECRET,
  APPS,
  type AppName,
  PRIVACY_INDEX_SECRET,
  SOURCE_SECRETS,
} from '../access-plan.js';
import type { StackConfig } from '../config.js';
import { sendDiagnostics } from './monitoring.js';
import type { Network } from './network.js';

/**
 * The value Pulumi writes into a source-credential secret when it first creates it. Real credentials are
 * set out of band (`az keyvault secret set`, README "Rotating secrets"), so they never pass through Pulumi
 * state; Pulumi ignores later changes to the value.
 */
export const UNSET_SECRET_VALUE = 'unset: set with az keyvault secret set (see infra/README.md)';

/**
 * The key-encryption key (KEK) that wraps the per-subject AES-256-GCM data keys protecting personal data in the
 * lake (RSA-OAEP-256 wrapKey/unwrapKey). Apps get its versionless id: wrapping uses the newest version, and a
 * wrapped key must be unwrapped with the version that wrapped it (the `kid` wrapKey returns, kept beside it).
 */
export const PRIVACY_KEK_NAME = 'aurora-pd-kek';

export interface SecurityArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  config: StackConfig;
  tenantId: pulumi.Input<string>;
  vaultName: pulumi.Input<string>;
  network: Network;
  workspaceId: pulumi.Input<string>;
  /** Written into Key Vault so that apps read it through a Key Vault reference, like every other secret. */
  appInsightsConnectionString: pulumi.Input<string>;
}

export interface AppIdentity {
  identity: managedidentity.UserAssignedIdentity;
  id: pulumi.Output<string>;
  clientId: pulumi.Output<string>;
  principalId: pulumi.Output<string>;
}

/**
 * Key Vault Premium (HSM-backed keys) with RBAC, purge protection and 90-day soft delete, reachable only
 * through its private endpoint; one user-assigned managed identity per Function App; the personal-data
 * key-encryption key with yearly rotation; and the secrets apps read through Key Vault references (source
 * credentials and the personal-data index key, both set by hand). Role
 * assignments are made by the AccessControl component from the access plan.
 */
export class Security extends pulumi.ComponentResource {
  readonly vault: keyvault.Vault;
  readonly identities: Record<AppName, AppIdentity>;
  /** The personal-data KEK; `keyUri` is its versionless key id. */
  readonly privacyKek: keyvault.Key;
  /** Secret resources by secret name. */
  readonly secrets: Record<string, keyvault.Secret>;

  constructor(name: string, args: SecurityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:Security', name, {}, opts);
    const { resourceGroupName, location, config, network } = args;
    const { tags } = config;

    this.vault = new keyvault.Vault(
      'kv-aurora',
      {
        resourceGroupName,
        location,
        tags,
        vaultName: args.vaultName,
        properties: {
          tenantId: args.tenantId,
          sku: { family: 'A', name: 'premium' },
          enableRbacAuthorization: true,
          enablePurgeProtection: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: config.keyVault.softDeleteRetentionDays,
          enabledForDeployment: false,
          enabledForDiskEncryption: false,
          enabledForTemplateDeployment: false,
          publicNetworkAccess: 'Disabled',
          networkAcls: {
            defaultAction: 'Deny',
            bypass: 'AzureServices',
            ipRules: [],
            virtualNetworkRules: [],
          },
        },
      },
      { parent: this, protect: config.stack === 'prod' },
    );
    network.privateEndpoint('vault', { serviceId: this.vault.id, groupId: 'vault', zones: ['vault'] }, this);
    sendDiagnostics('vault', { resourceUri: this.vault.id, workspaceId: args.workspaceId }, this);

    const identities: Partial<Record<AppName, AppIdentity>> = {};
    for (const app of APPS) {
      const identity = new managedidentity.UserAssignedIdentity(
        `id-${app}`,
        { resourceGroupName, location, tags },
        { parent: this },
      );
      identities[app] = {
        identity,
        id: identity.id,
        clientId: identity.clientId,
        principalId: identity.principalId,
      };
    }
    this.identities = identities as Record<AppName, AppIdentity>;

    // HSM-protected (Premium vault), usable only to wrap and unwrap. The yearly rotation adds a version; old
    // versions stay enabled, and an expired version still unwraps (Key Vault refuses only new wraps after
    // `exp`), so data keys wrapped years ago stay readable until their subject's key is destroyed.
    this.privacyKek = new keyvault.Key(
      PRIVACY_KEK_NAME,
      {
        resourceGroupName,
        vaultName: this.vault.name,
        keyName: PRIVACY_KEK_NAME,
        tags,
        properties: {
          kty: 'RSA-HSM',
          keySize: 3072,
          keyOps: ['wrapKey', 'unwrapKey'],
          attributes: { enabled: true },
          rotationPolicy: {
            attributes: { expiryTime: 'P2Y' },
            lifetimeActions: [
              { trigger: { timeAfterCreate: 'P1Y' }, action: { type: 'rotate' } },
              { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'notify' } },
            ],
          },
        },
      },
      { parent: this, protect: config.stack === 'prod' },
    );

    const secrets: Record<string, keyvault.Secret> = {};
    for (const { secretName } of SOURCE_SECRETS) {
      secrets[secretName] = new keyvault.Secret(
        `secret-${secretName}`,
        {
          resourceGroupName,
          vaultName: this.vault.name,
          secretName,
          tags: { ...tags, rotation: 'manual, see infra/README.md' },
          properties: { value: UNSET_SECRET_VALUE, contentType: 'text/plain', attributes: { enabled: true } },
        },
        { parent: this, ignoreChanges: ['properties.value'] },
      );
    }
    secrets[APP_INSIGHTS_SECRET] = new keyvault.Secret(
      `secret-${APP_INSIGHTS_SECRET}`,
      {
        resourceGroupName,
        vaultName: this.vault.name,
        secretName: APP_INSIGHTS_SECRET,
        tags,
        properties: { value: pulumi.secret(args.appInsightsConnectionString), contentType: 'text/plain' },
      },
      { parent: this },
    );
    // Created with a placeholder, like the source credentials, so that its value never passes through
    // Pulumi state; the real value is set once by hand. Protected in prod: replacing it would write a new
    // placeholder version over the real key.
    secrets[PRIVACY_INDEX_SECRET.secretName] = new keyvault.Secret(
      `secret-${PRIVACY_INDEX_SECRET.secretName}`,
      {
        resourceGroupName,
        vaultName: this.vault.name,
        secretName: PRIVACY_INDEX_SECRET.secretName,
        tags: { ...tags, rotation: 'never: a new value orphans every data key, see docs/privacy.md' },
        properties: {
          value: PRIVACY_INDEX_SECRET.placeholder,
          contentType: 'text/plain',
          attributes: { enabled: true },
        },
      },
      { parent: this, ignoreChanges: ['properties.value'], protect: config.stack === 'prod' },
    );
    this.secrets = secrets;

    this.registerOutputs({
      vaultId: this.vault.id,
      vaultUri: this.vault.properties.vaultUri,
      privacyKekId: this.privacyKek.keyUri,
    });
  }

  /** `@Microsoft.KeyVault(SecretUri=...)` without a version, so a rotated secret is picked up. */
  reference(secretName: string): pulumi.Output<string> {
    const secret = this.secrets[secretName];
    if (!secret) throw new Error(`no Key Vault secret "${secretName}" in the security component`);
    // The URI is not secret, but Pulumi marks it so because the secret's value is; unmark it so that app
    // settings stay readable in previews.
    return pulumi.interpolate`@Microsoft.KeyVault(SecretUri=${pulumi.unsecret(secret.properties.secretUri)})`;
  }
}
