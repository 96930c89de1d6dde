import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { ConfigError, SourceUnavailableError, staticSecrets, systemClock } from '@aurora/core';
import { storageFromConnectionString } from '@aurora/lake';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import { describe, expect, it } from 'vitest';
import { keyVaultKek } from './kek.js';
import { openPrivacy } from './open.js';

type HttpClient = NonNullable<CryptographyClientOptions['httpClient']>;
type PipelineRequest = Parameters<HttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;

const VAULT = 'https://kv-aurora-test.vault.azure.net';
const VERSION = '0123456789abcdef0123456789abcdef';
const KEY = `${VAULT}/keys/aurora-pd-kek/${VERSION}`;
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = pair.publicKey.export({ format: 'jwk' });
const oaep256 = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({
    token: 'test-token',
    expiresOnTimestamp: Date.now() + 3_600_000,
  }),
};

function headers(values: Record<string, string>): PipelineResponse['headers'] {
  const map = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    get: (name) => map.get(name.toLowerCase()),
    has: (name) => map.has(name.toLowerCase()),
    set: (name, value) => void map.set(name.toLowerCase(), String(value)),
    delete: (name) => void map.delete(name.toLowerCase()),
    toJSON: () => Object.fromEntries(map),
    [Symbol.iterator]: () => map.entries(),
  };
}

/**
 * Answers like Key Vault's key operations over a real RSA key pair: the bearer challenge first, the key
 * bundle (public part only) on GET, and wrapkey/unwrapkey doing RSA-OAEP-256 with the private part,
 * which never leaves the double. Whether the SDK wraps locally with the public key or asks the vault,
 * only the vault can unwrap.
 */
function fakeVault(options: { wrapStatus?: number; getStatus?: number } = {}) {
  const seen: { method: string; path: string; body?: { alg?: string; value?: string } }[] = [];
  const httpClient: HttpClient = {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url);
      const body = typeof request.body === 'string' ? JSON.parse(request.body) : undefined;
      seen.push({ method: request.method, path: url.pathname, body });
      const reply = (
        status: number,
        value: unknown,
        extra: Record<string, string> = {},
      ): PipelineResponse => ({
        request,
        status,
        headers: headers({ 'content-type': 'application/json', ...extra }),
        bodyAsText: value === undefined ? '' : JSON.stringify(value),
      });
      const error = (status: number) =>
        reply(status, {
          error: { code: status === 403 ? 'Forbidden' : 'ServiceUnavailable', message: 'no' },
        });
      if (!request.headers.get('authorization'))
        return reply(401, undefined, {
          'www-authenticate':
            'Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"',
        });
      if (request.method === 'GET') {
        if (options.getStatus) return error(options.getStatus);
        return reply(200, {
          key: { kid: KEY, kty: 'RSA-HSM', key_ops: ['wrapKey', 'unwrapKey'], n: jwk.n, e: jwk.e },
          attributes: { enabled: true },
        });
      }
      const op = url.pathname.split('/').filter(Boolean).at(-1);
      if (op === 'wrapkey' && options.wrapStatus) return error(options.wrapStatus);
      const value = Buffer.from(body.value, 'base64url');
      if (op === 'wrapkey')
        return reply(200, {
          kid: KEY,
          value: publicEncrypt({ key: pair.publicKey, ...oaep256 }, value).toString('base64url'),
        });
      if (op === 'unwrapkey')
        return reply(200, {
          kid: KEY,
          value: privateDecrypt({ key: pair.privateKey, ...oaep256 }, value).toString('base64url'),
        });
      return reply(404, { error: { code: 'NotFound', message: 'unknown operation' } });
    },
  };
  return { httpClient, seen };
}

describe('the Key Vault key-encryption key (over a vault double speaking Key Vault REST)', () => {
  it('wraps with RSA-OAEP-256 under the newest version of a versionless key, records that version, and only the vault unwraps', async () => {
    const vault = fakeVault();
    const kek = keyVaultKek({
      keyUrl: `${VAULT}/keys/aurora-pd-kek`,
      credential,
      clientOptions: { httpClient: vault.httpClient, retryOptions: { maxRetries: 0 } },
    });
    const dataKey = randomBytes(32);
    const wrapped = await kek.wrap(dataKey);
    expect(wrapped.kekId).toBe(KEY);
    expect(wrapped.wrapped.equals(dataKey)).toBe(false);
    expect((await kek.unwrap(wrapped)).equals(dataKey)).toBe(true);
    expect(privateDecrypt({ key: pair.privateKey, ...oaep256 }, wrapped.wrapped).equals(dataKey)).toBe(true);
    const unwraps = vault.seen.filter((r) => r.method === 'POST' && r.path.endsWith('/unwrapkey'));
    expect(unwraps.map((r) => [r.path, r.body?.alg])).toEqual([
      [`/keys/aurora-pd-kek/${VERSION}/unwrapkey`, 'RSA-OAEP-256'],
    ]);
  });

  it('names the role when the vault refuses, and is retryable when the vault is unavailable', async () => {
    const refused = keyVaultKek({
      keyUrl: `${VAULT}/keys/aurora-pd-kek`,
      credential,
      clientOptions: {
        httpClient: fakeVault({ wrapStatus: 403 }).httpClient,
        retryOptions: { maxRetries: 0 },
      },
    });
    const error = await refused.wrap(randomBytes(32)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/Key Vault Crypto Service Encryption User/);
    const down = keyVaultKek({
      keyUrl: KEY,
      credential,
      clientOptions: {
        httpClient: fakeVault({ wrapStatus: 503 }).httpClient,
        retryOptions: { maxRetries: 0 },
      },
    });
    await expect(down.wrap(randomBytes(32))).rejects.toBeInstanceOf(SourceUnavailableError);
  });
});

describe('openPrivacy with a Key Vault KEK', () => {
  const config = (kekUrl: string) => ({
    home: '/nonexistent',
    secrets: { ttlMs: 0 },
    privacy: { kekUrl, keyTable: 'privacykeys', deadlineH: 72 },
  });
  const storage = storageFromConnectionString('UseDevelopmentStorage=true');

  it('takes the index key only as exactly 32 bytes of base64, so the infra placeholder is refused', async () => {
    for (const value of [
      'unset: see docs/privacy.md',
      'c2hvcnQ=',
      `${randomBytes(32).toString('base64')}!!`,
      randomBytes(31).toString('base64'),
    ])
      await expect(
        openPrivacy(config(`${VAULT}/keys/aurora-pd-kek`), storage, systemClock, {
          credential,
          secrets: staticSecrets({ 'privacy-index-key': value }),
        }),
        value,
      ).rejects.toThrow(/32 random bytes in base64/);
    const privacy = await openPrivacy(config(`${VAULT}/keys/aurora-pd-kek`), storage, systemClock, {
      credential,
      secrets: staticSecrets({ 'privacy-index-key': randomBytes(32).toString('base64') }),
    });
    expect(privacy.ring.kekDescription).toBe(`Key Vault key ${VAULT}/keys/aurora-pd-kek`);
  });
});
