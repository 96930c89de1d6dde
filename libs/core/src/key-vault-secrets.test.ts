import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { describe, expect, it } from 'vitest';
import { ConfigError, SourceUnavailableError } from './errors.js';
import { keyVaultSecrets } from './key-vault-secrets.js';
import { SecretMissingError } from './secrets.js';

type HttpClient = NonNullable<SecretClientOptions['httpClient']>;
type PipelineRequest = Parameters<HttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;
type HttpHeaders = PipelineResponse['headers'];

const VAULT = 'https://kv-aurora-test.vault.azure.net';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOi.test-access-token';

function headers(values: Record<string, string>): HttpHeaders {
  const map = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  const self: HttpHeaders = {
    get: (name) => map.get(name.toLowerCase()),
    has: (name) => map.has(name.toLowerCase()),
    set: (name, value) => void map.set(name.toLowerCase(), String(value)),
    delete: (name) => void map.delete(name.toLowerCase()),
    toJSON: () => Object.fromEntries(map),
    [Symbol.iterator]: () => map.entries(),
  };
  return self;
}

interface SeenRequest {
  method: string;
  url: URL;
  authorization: string | undefined;
  accept: string | undefined;
}

/**
 * Answers like Key Vault: an unauthenticated request gets the bearer challenge, an authenticated one
 * the secret bundle or Key Vault's error body.
 */
function fakeKeyVault(
  secrets: Map<string, string>,
  overrides: { status?: number; errorCode?: string; errorMessage?: string } = {},
) {
  const seen: SeenRequest[] = [];
  const httpClient: HttpClient = {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url);
      const authorization = request.headers.get('authorization');
      seen.push({ method: request.method, url, authorization, accept: request.headers.get('accept') });
      const reply = (
        status: number,
        body: unknown,
        extra: Record<string, string> = {},
      ): PipelineResponse => ({
        request,
        status,
        headers: headers({ 'content-type': 'application/json; charset=utf-8', ...extra }),
        bodyAsText: body === undefined ? '' : JSON.stringify(body),
      });
      if (!authorization) {
        return reply(
          401,
          { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
          {
            'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`,
          },
        );
      }
      if (authorization !== `Bearer ${TOKEN}`) return reply(401, { error: { code: 'Unauthorized' } });
      if (overrides.status) {
        return reply(overrides.status, {
          error: { code: overrides.errorCode ?? 'Throttled', message: overrides.errorMessage ?? 'try later' },
        });
      }
      const match = /^\/secrets\/([^/]+)\/?$/.exec(url.pathname);
      const name = match?.[1] ? decodeURIComponent(match[1]) : undefined;
      const value = name === undefined ? undefined : secrets.get(name);
      if (request.method !== 'GET' || name === undefined || value === undefined) {
        return reply(404, {
          error: {
            code: 'SecretNotFound',
            message: `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`,
          },
        });
      }
      return reply(200, {
        value,
        id: `${VAULT}/secrets/${name}/4387e9f3d6e14c459867679a90fd0f79`,
        attributes: {
          enabled: true,
          created: 1767225600,
          updated: 1767225600,
          recoveryLevel: 'Recoverable+Purgeable',
        },
        tags: {},
      });
    },
  };
  return { httpClient, seen };
}

/** A TokenCredential recording what it was asked for. */
function recordingCredential() {
  const calls: { scopes: string[]; tenantId: string | undefined }[] = [];
  const credential: TokenCredential = {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
      calls.push({ scopes: [scopes].flat(), tenantId: options?.tenantId });
      return { token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return { credential, calls };
}

const noRetries = { retryOptions: { maxRetries: 0 } } satisfies SecretClientOptions;

describe('keyVaultSecrets', () => {
  it('answers the bearer challenge with a token for the vault scope and reads the latest version', async () => {
    const vault = fakeKeyVault(new Map([['mes-hydra-api-key', 'hydra-key-4f9c2e']]));
    const { credential, calls } = recordingCredential();
    const secrets = keyVaultSecrets({
      vaultUrl: VAULT,
      credential,
      clientOptions: { httpClient: vault.httpClient },
    });

    expect(await secrets.get('mes-hydra-api-key')).toBe('hydra-key-4f9c2e');

    expect(calls).toEqual([{ scopes: ['https://vault.azure.net/.default'], tenantId: TENANT }]);
    expect(vault.seen.map((r) => [r.method, r.url.origin, r.url.pathname, r.authorization])).toEqual([
      ['GET', VAULT, '/secrets/mes-hydra-api-key/', undefined],
      ['GET', VAULT, '/secrets/mes-hydra-api-key/', `Bearer ${TOKEN}`],
    ]);
    for (const request of vault.seen) {
      expect(request.url.searchParams.get('api-version')).toBe('2026-04-01');
      expect(request.accept).toBe('application/json');
    }

    // The challenge is remembered: the next get goes out authorised at once, with the cached token.
    expect(await secrets.get('mes-hydra-api-key')).toBe('hydra-key-4f9c2e');
    expect(vault.seen).toHaveLength(3);
    expect(vault.seen[2]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(calls).toHaveLength(1);
  });

  it('reports a secret the vault does not have as a ConfigError naming vault and secret', async () => {
    const vault = fakeKeyVault(new Map([['mes-hydra-api-key', 'hydra-key-4f9c2e']]));
    const secrets = keyVaultSecrets({
      vaultUrl: VAULT,
      credential: recordingCredential().credential,
      clientOptions: { httpClient: vault.httpClient },
    });
    const error = await secrets.get('mes-regensburg-password').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretMissingError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config.invalid');
    expect((error as ConfigError).message).toContain(
      `secret mes-regensburg-password is not in Key Vault ${VAULT}`,
    );
    expect((error as ConfigError).issues).toEqual([
      { variable: 'mes-regensburg-password', problem: `not found in Key Vault ${VAULT}` },
    ]);
  });

  it('maps throttling to a retryable SourceUnavailableError with status and Key Vault code', async () => {
    const vault = fakeKeyVault(new Map(), {
      status: 429,
      errorCode: 'Throttled',
      errorMessage: 'Rate limit exceeded',
    });
    const secrets = keyVaultSecrets({
      vaultUrl: VAULT,
      credential: recordingCredential().credential,
      clientOptions: { httpClient: vault.httpClient, ...noRetries },
    });
    const error = await secrets.get('mes-hydra-api-key').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as SourceUnavailableError).retryable).toBe(true);
    expect((error as SourceUnavailableError).toJSON()).toEqual({
      code: 'source.unavailable',
      message: `Key Vault ${VAULT} did not return secret mes-hydra-api-key: HTTP 429 Throttled: Rate limit exceeded`,
      details: { vaultUrl: VAULT, secret: 'mes-hydra-api-key', status: 429, serviceCode: 'Throttled' },
    });
    // The SDK error (whose response may hold values) is not kept as the cause.
    expect((error as Error).cause).toBeUndefined();
  });

  it('maps a refusal (403) to a ConfigError telling which role to grant', async () => {
    const vault = fakeKeyVault(new Map(), {
      status: 403,
      errorCode: 'Forbidden',
      errorMessage: 'Caller is not authorized to perform action on resource.',
    });
    const secrets = keyVaultSecrets({
      vaultUrl: VAULT,
      credential: recordingCredential().credential,
      clientOptions: { httpClient: vault.httpClient },
    });
    const error = await secrets.get('mes-hydra-api-key').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(SecretMissingError);
    expect((error as Error).message).toContain('Key Vault Secrets User');
  });

  it('maps a credential that cannot get a token to SourceUnavailableError', async () => {
    const vault = fakeKeyVault(new Map([['mes-hydra-api-key', 'hydra-key-4f9c2e']]));
    const credential: TokenCredential = {
      async getToken() {
        const error = new Error('ManagedIdentityCredential: no managed identity endpoint found');
        error.name = 'CredentialUnavailableError';
        throw error;
      },
    };
    const secrets = keyVaultSecrets({
      vaultUrl: VAULT,
      credential,
      clientOptions: { httpClient: vault.httpClient },
    });
    const error = await secrets.get('mes-hydra-api-key').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toBe(
      `Key Vault ${VAULT} did not return secret mes-hydra-api-key: CredentialUnavailableError: ManagedIdentityCredential: no managed identity endpoint found`,
    );
  });

  it('passes the AbortSignal down to the request and rethrows its reason', async () => {
    const vault = fakeKeyVault(new Map([['mes-hydra-api-key', 'hydra-key-4f9c2e']]));
    let signalSeen: { readonly aborted: boolean } | undefined;
    const controller = new AbortController();
    const httpClient: HttpClient = {
      sendRequest(request) {
        signalSeen = request.abortSignal;
        controller.abort(new Error('shutting down'));
        return vault.httpClient.sendRequest(request);
      },
    };
    const secrets = keyVaultSecrets({
      vaultUrl: VAULT,
      credential: recordingCredential().credential,
      clientOptions: { httpClient },
    });
    await expect(secrets.get('mes-hydra-api-key', { signal: controller.signal })).rejects.toThrow(
      'shutting down',
    );
    expect(signalSeen?.aborted).toBe(true);
  });
});
