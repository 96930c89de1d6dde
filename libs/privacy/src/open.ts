import { join } from 'node:path';
import type { AuroraConfig, Clock, SecretProvider } from '@aurora/core';
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
  config: Pick<AuroraConfig, 'home' | 'privacy'>,
  storage: StorageClients,
  clock: Clock,
  azure?: { credential: TokenCredential; secrets: SecretProvider },
): Promise<Privacy> {
  let keys: PrivacyKeys;
  if (config.privacy.kekUrl) {
    if (!azure)
      throw new Error('AURORA_PRIVACY_KEK names a Key Vault key, but no Azure credential was given');
    const indexKey = Buffer.from(await azure.secrets.get('privacy-index-key'), 'base64');
    keys = { kek: keyVaultKek({ keyUrl: config.privacy.kekUrl, credential: azure.credential }), indexKey };
  } else {
    keys = await localPrivacyKeys(localKeyFile(config.home));
  }
  return {
    ring: new KeyRing({ keys, table: tableKeyTable(storage.table(config.privacy.keyTable)), clock }),
    audit: new AuditLog(storage.lake, clock),
  };
}
