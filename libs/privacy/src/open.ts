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
    const encoded = (await secrets.get('privacy-index-key')).trim();
    // Strictly 32 bytes of standard base64: Node's decoder skips junk, so a placeholder could pass a length check.
    if (!/^[A-Za-z0-9+/]{43}=$/.test(encoded))
      throw new ConfigError(
        'the secret privacy-index-key must be 32 random bytes in base64 (openssl rand -base64 32): see docs/privacy.md',
        [{ variable: 'AURORA_PRIVACY_INDEX_KEY', problem: 'not 32 bytes of base64' }],
      );
    const indexKey = Buffer.from(encoded, 'base64');
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
