import { join } from 'node:path';
import {
  type AuroraConfig,
  type Clock,
  ConfigError,
  type SecretProvider,
  secretsFromConfig,
} from '@aurora/core';
import type { StorageClients } from '@aurora/lake';
import type { TokenCredential } from '@azure/core-auth';
import { AuditLog } from './audit.js';
import { keyVaultKek, localPrivacyKeys, type PrivacyKeys } from './kek.js';
import { tableKeyTable } from './key-table.js';
import { KeyRing } from './keyring.js';

/** The local key file: the KEK and the subject-index key of this AURORA_HOME. */
export const localKeyFile = (home: string) => join(home, 'keys', 'privacy.json');

export interface Privacy {
  ring: KeyRing;
  audit: AuditLog;
}

/**
 * The key ring and audit log of a configuration. With AURORA_PRIVACY_KEK set, the KEK is that Key Vault
 * key and the subject-index key the secret `privacy-index-key` (Key Vault, or AURORA_PRIVACY_INDEX_KEY);
 * otherwise both come from the local key file under AURORA_HOME, created on first use.
 */
export async function openPrivacy(
  config: Pick<AuroraConfig, 'home' | 'privacy' | 'secrets'>,
  storage: StorageClients,
  clock: Clock,
  azure?: { credential: TokenCredential; secrets: SecretProvider },
): Promise<Privacy> {
  let keys: PrivacyKeys;
  if (config.privacy.kekUrl) {
    const credential = azure?.credential ?? new (await import('@azure/identity')).DefaultAzureCredential();
    const secrets = azure?.secrets ?? (await secretsFromConfig(config, { clock, credential }));
    const indexKey = Buffer.from(await secrets.get('privacy-index-key'), 'base64');
    if (indexKey.length < 32)
      throw new ConfigError('the secret privacy-index-key must be at least 32 random bytes, base64', [
        { variable: 'AURORA_PRIVACY_INDEX_KEY', problem: 'shorter than 32 bytes' },
      ]);
    keys = { kek: keyVaultKek({ keyUrl: config.privacy.kekUrl, credential }), indexKey };
  } else {
    keys = await localPrivacyKeys(localKeyFile(config.home));
  }
  return {
    ring: new KeyRing({ keys, table: tableKeyTable(storage.table(config.privacy.keyTable)), clock }),
    audit: new AuditLog(storage.lake, clock),
  };
}

/**
 * The key ids of erased subjects, straight from the key table (no key material needed): what the
 * medallion anonymises silver and gold with.
 */
export const erasedKeyIdsOf =
  (storage: Pick<StorageClients, 'table'>, config: Pick<AuroraConfig, 'privacy'>) => (): Promise<string[]> =>
    tableKeyTable(storage.table(config.privacy.keyTable)).destroyedKeyIds();
