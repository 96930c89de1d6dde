import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, SourceUnavailableError } from '@aurora/core';
import type { TokenCredential } from '@azure/core-auth';
import type { CryptographyClient, CryptographyClientOptions } from '@azure/keyvault-keys';

/** A data key wrapped by a key-encryption key; `kekId` names the KEK (and its version) that can unwrap it. */
export interface WrappedKey {
  kekId: string;
  wrapped: Buffer;
}

/**
 * The key-encryption key: Key Vault in Azure (the key never leaves the vault), a key file under
 * AURORA_HOME locally. Data keys are only ever stored wrapped by it.
 */
export interface KeyEncryptionKey {
  /** For people: where the KEK is. */
  readonly description: string;
  wrap(dataKey: Buffer): Promise<WrappedKey>;
  unwrap(key: WrappedKey): Promise<Buffer>;
}

/** The KEK and the subject-index key of one installation. */
export interface PrivacyKeys {
  kek: KeyEncryptionKey;
  /** HMAC key deriving pseudonymous key ids from subject ids (Key Vault secret `privacy-index-key`). */
  indexKey: Buffer;
}

const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

interface KeyFile {
  version: 1;
  /** AES-256 key-encryption keys by id; `current` wraps new data keys. */
  keks: Record<string, string>;
  current: string;
  indexKey: string;
}

/**
 * The local KEK: AES-256 key wrap (RFC 3394) with a key kept in `file` (mode 0600), created on first use.
 * Losing the file makes every sealed value of this home unreadable, as destroying the Key Vault key would.
 */
export async function localPrivacyKeys(file: string): Promise<PrivacyKeys> {
  const keys = await readOrCreateKeyFile(file);
  const kekOf = (id: string) => {
    const encoded = keys.keks[id];
    if (encoded === undefined)
      throw new ConfigError(`the key file ${file} has no key-encryption key "${id}"`, [
        { variable: 'AURORA_PRIVACY_KEK', problem: `key ${id} missing from ${file}` },
      ]);
    return Buffer.from(encoded, 'base64');
  };
  return {
    indexKey: Buffer.from(keys.indexKey, 'base64'),
    kek: {
      description: `local key file ${file}`,
      async wrap(dataKey) {
        const cipher = createCipheriv('id-aes256-wrap', kekOf(keys.current), AES_KW_IV);
        return { kekId: keys.current, wrapped: Buffer.concat([cipher.update(dataKey), cipher.final()]) };
      },
      async unwrap({ kekId, wrapped }) {
        const decipher = createDecipheriv('id-aes256-wrap', kekOf(kekId), AES_KW_IV);
        try {
          return Buffer.concat([decipher.update(wrapped), decipher.final()]);
        } catch {
          throw new ConfigError(
            `a data key does not unwrap with ${kekId} of ${file} (the key file was replaced?)`,
            [{ variable: 'AURORA_PRIVACY_KEK', problem: `unwrap failed with ${kekId}` }],
          );
        }
      },
    },
  };
}

async function readOrCreateKeyFile(file: string): Promise<KeyFile> {
  try {
    return parseKeyFile(file, await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const kek = randomBytes(32);
  const id = `local-${createHash('sha256').update(kek).digest('hex').slice(0, 12)}`;
  const fresh: KeyFile = {
    version: 1,
    keks: { [id]: kek.toString('base64') },
    current: id,
    indexKey: randomBytes(32).toString('base64'),
  };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // link is atomic and refuses an existing name: when two processes race, the first file wins and
    // both read it back.
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temp, { force: true });
  }
  return parseKeyFile(file, await readFile(file, 'utf8'));
}

function parseKeyFile(file: string, text: string): KeyFile {
  const bad = (problem: string) =>
    new ConfigError(`the privacy key file ${file} is unusable: ${problem}; restore it from its backup`, [
      { variable: 'AURORA_PRIVACY_KEK', problem },
    ]);
  let parsed: Partial<KeyFile>;
  try {
    parsed = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw bad('not JSON');
  }
  if (parsed.version !== 1 || typeof parsed.current !== 'string' || typeof parsed.indexKey !== 'string')
    throw bad('expected version 1 with current and indexKey');
  const keks = parsed.keks ?? {};
  for (const [id, key] of Object.entries(keks))
    if (Buffer.from(key, 'base64').length !== 32) throw bad(`key ${id} is not 32 bytes`);
  if (keks[parsed.current] === undefined) throw bad(`current key ${parsed.current} is missing`);
  if (Buffer.from(parsed.indexKey, 'base64').length < 32) throw bad('indexKey is shorter than 32 bytes');
  return parsed as KeyFile;
}

export interface KeyVaultKekOptions {
  /** `https://kv-aurora-prod.vault.azure.net/keys/aurora-pd-kek` (AURORA_PRIVACY_KEK), with or without version. */
  keyUrl: string;
  /** The Function App's managed identity: needs "Key Vault Crypto Service Encryption User" on the key. */
  credential: TokenCredential;
  /** Passed to CryptographyClient: retry options, and in tests an `httpClient` answering like Key Vault. */
  clientOptions?: CryptographyClientOptions;
}

/** What the SDK throws for a non-2xx answer (a RestError), read structurally. */
interface ServiceFailure {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * The KEK in Azure Key Vault: RSA-OAEP-256 wrapKey/unwrapKey through @azure/keyvault-keys. A wrapped key
 * records the versioned key id that wrapped it, so data keys wrapped before a rotation still unwrap.
 * A refusal (403) or a missing key (404) is a ConfigError naming the key and the role; anything else is
 * a retryable SourceUnavailableError.
 */
export function keyVaultKek(options: KeyVaultKekOptions): KeyEncryptionKey {
  const clients = new Map<string, Promise<CryptographyClient>>();
  const clientFor = (keyId: string) => {
    let client = clients.get(keyId);
    if (!client) {
      client = import('@azure/keyvault-keys').then(
        ({ CryptographyClient }) => new CryptographyClient(keyId, options.credential, options.clientOptions),
      );
      clients.set(keyId, client);
    }
    return client;
  };
  const fail = (error: unknown, keyId: string, operation: string): Error => {
    const f = error as ServiceFailure;
    if (f.statusCode === 403 || f.statusCode === 401 || f.statusCode === 404) {
      const problem =
        f.statusCode === 404
          ? 'the key does not exist'
          : `refused ${operation} (${f.code ?? f.statusCode}): grant the app's identity "Key Vault Crypto Service Encryption User" on the key`;
      return new ConfigError(`Key Vault key ${keyId}: ${problem}`, [
        { variable: 'AURORA_PRIVACY_KEK', problem },
      ]);
    }
    return new SourceUnavailableError(
      `Key Vault key ${keyId}: ${operation} failed (${f.code ?? f.statusCode ?? 'no answer'})`,
      { details: { keyId, operation, status: f.statusCode } },
    );
  };
  // A versionless key URL wraps with the key's newest version, looked up at most hourly; the versioned id
  // is what the key table records, so that unwrapping after a rotation asks the version that wrapped.
  const url = new URL(options.keyUrl);
  const [, , name, version] = url.pathname.split('/');
  let current: { id: string; at: number } | undefined;
  const currentKeyId = async (): Promise<string> => {
    if (version) return options.keyUrl;
    if (current && Date.now() - current.at < 3_600_000) return current.id;
    try {
      const { KeyClient } = await import('@azure/keyvault-keys');
      const key = await new KeyClient(url.origin, options.credential, options.clientOptions).getKey(name!);
      if (!key.id) throw new Error('the key has no id');
      current = { id: key.id, at: Date.now() };
      return key.id;
    } catch (error) {
      throw fail(error, options.keyUrl, 'get (to find the current version)');
    }
  };
  return {
    description: `Key Vault key ${options.keyUrl}`,
    async wrap(dataKey) {
      const keyId = await currentKeyId();
      try {
        const result = await (await clientFor(keyId)).wrapKey('RSA-OAEP-256', dataKey);
        return { kekId: keyId, wrapped: Buffer.from(result.result) };
      } catch (error) {
        throw fail(error, keyId, 'wrapKey');
      }
    },
    async unwrap({ kekId, wrapped }) {
      try {
        const result = await (await clientFor(kekId)).unwrapKey('RSA-OAEP-256', wrapped);
        return Buffer.from(result.result);
      } catch (error) {
        throw fail(error, kekId, 'unwrapKey');
      }
    },
  };
}
