import { createHash } from 'node:crypto';
import type { StackName } from './config.js';

/**
 * Names for resources whose names are global DNS labels with tight rules (storage accounts: 3-24 lowercase
 * alphanumerics; key vaults: 3-24 characters). A short hash of subscription and stack keeps them unique
 * across tenants yet stable across `pulumi up` runs, unlike Pulumi's random auto-name suffix.
 */

export const nameSuffix = (subscriptionId: string, stack: StackName): string =>
  createHash('sha256').update(`${subscriptionId}/${stack}`).digest('hex').slice(0, 6);

const check = (name: string, pattern: RegExp, rule: string): string => {
  if (!pattern.test(name)) throw new Error(`generated name "${name}" breaks the rule: ${rule}`);
  return name;
};

export const storageAccountName = (purpose: 'lake' | 'fn', stack: StackName, suffix: string): string =>
  check(`aurora${stack}${purpose}${suffix}`, /^[a-z0-9]{3,24}$/, '3-24 lowercase letters and digits');

export const keyVaultName = (stack: StackName, suffix: string): string =>
  check(
    `kv-aurora-${stack}-${suffix}`,
    /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/,
    '3-24 characters, letters first',
  );

export const synapseWorkspaceName = (stack: StackName, suffix: string): string =>
  check(
    `syn-aurora-${stack}-${suffix}`,
    /^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$/,
    '1-50 lowercase letters, digits, hyphens',
  );

export const grafanaName = (stack: StackName): string =>
  check(`grafana-aurora-${stack}`, /^[a-zA-Z][a-zA-Z0-9-]{0,21}[a-zA-Z0-9]$/, '2-23 characters');

export const resourceGroupName = (stack: StackName): string => `rg-aurora-${stack}`;
