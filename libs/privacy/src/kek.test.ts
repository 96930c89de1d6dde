import { randomBytes } from 'node:crypto';
import { ConfigError, SourceUnavailableError } from '@aurora/core';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import { describe, expect, it } from 'vitest';
import { keyVaultKek } from './kek.js';

type HttpClient = NonNullable<CryptographyClientOptions['httpClient']>;
type PipelineRequest = Parameters<HttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;

const KEY = 'https://kv-aurora-test.vault.azure.net/keys/aurora-pd-kek/0123456789abcdef0123456789abcdef';
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
 * Answers like Key Vault's key operations: the bearer challenge first, a refused key read (the identity
 * may wrap and unwrap, not read the key: the SDK then works remotely), and wrapkey/unwrapkey that really
 * transform the value (XOR with a vault-side secret), so a test sees the bytes travel both ways.
 */
function fakeVault(options: { wrapStatus?: number } = {}) {
  const secret = randomBytes(32);
  const seen: { method: string; path: string; body?: { alg?: string; value?: string } }[] = [];
  const xor = (b: Buffer) => Buffer.from(b.map((x, i) => x ^ secret[i % 32]!));
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
      if (!request.headers.get('authorization'))
        return reply(401, undefined, {
          'www-authenticate':
            'Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"',
        });
      if (request.method === 'GET')
        return reply(403, { error: { code: 'Forbidden', message: 'get not permitted' } });
      const op = url.pathname.split('/').filter(Boolean).at(-1);
      if (op === 'wrapkey' && options.wrapStatus)
        return reply(options.wrapStatus, {
          error: { code: options.wrapStatus === 403 ? 'Forbidden' : 'ServiceUnavailable', message: 'no' },
        });
      if (op === 'wrapkey' || op === 'unwrapkey') {
        const value = xor(Buffer.from(body.value, 'base64url')).toString('base64url');
        return reply(200, { kid: KEY, value });
      }
      return reply(404, { error: { code: 'NotFound', message: 'unknown operation' } });
    },
  };
  return { httpClient, seen };
}

describe('the Key Vault key-encryption key (over a vault double speaking Key Vault REST)', () => {
  it('wraps with RSA-OAEP-256 remotely, records the versioned key id, and unwraps back', async () => {
    const vault = fakeVault();
    const kek = keyVaultKek({
      keyUrl: KEY,
      credential,
      clientOptions: { httpClient: vault.httpClient, retryOptions: { maxRetries: 0 } },
    });
    const dataKey = randomBytes(32);
    const wrapped = await kek.wrap(dataKey);
    expect(wrapped.kekId).toBe(KEY);
    expect(wrapped.wrapped.equals(dataKey)).toBe(false);
    expect((await kek.unwrap(wrapped)).equals(dataKey)).toBe(true);
    const posts = vault.seen.filter((r) => r.method === 'POST');
    expect(posts.map((r) => [r.path.split('/').at(-1), r.body?.alg])).toEqual([
      ['wrapkey', 'RSA-OAEP-256'],
      ['unwrapkey', 'RSA-OAEP-256'],
    ]);
    expect(posts[0]!.path).toContain('/keys/aurora-pd-kek/0123456789abcdef0123456789abcdef/');
  });

  it('names the role when the vault refuses, and is retryable when the vault is unavailable', async () => {
    const refused = keyVaultKek({
      keyUrl: KEY,
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
