import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ConfigError, SourceUnavailableError } from './errors.js';
import { createLogger } from './logger.js';
import {
  cachedSecrets,
  envSecrets,
  firstOf,
  type SecretGetOptions,
  SecretMissingError,
  type SecretProvider,
  scrubSecrets,
  secretsFilePath,
  secretsFromConfig,
  secretVariable,
  staticSecrets,
} from './secrets.js';

type HttpClient = NonNullable<SecretClientOptions['httpClient']>;

/** A provider whose values the test rotates, counting and holding its fetches until released. */
function rotatingSource(initial: Record<string, string>) {
  const values = new Map(Object.entries(initial));
  const fetches: { name: string; signal: AbortSignal | undefined }[] = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  const provider: SecretProvider = {
    async get(name, options: SecretGetOptions = {}) {
      fetches.push({ name, signal: options.signal });
      const value = values.get(name);
      if (gate) {
        const signal = options.signal;
        await new Promise<void>((resolve, reject) => {
          void gate?.then(resolve);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      if (value === undefined) throw new SecretMissingError(`secret ${name} is not known`, name, []);
      return value;
    },
  };
  return {
    provider,
    fetches,
    rotate: (name: string, value: string) => values.set(name, value),
    hold: () => {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => {
      gate = undefined;
      open();
    },
  };
}

describe('secret providers', () => {
  it('maps Key Vault secret names to the app settings that hold them', () => {
    expect(secretVariable('mes-hydra-api-key')).toBe('AURORA_MES_HYDRA_API_KEY');
    expect(secretVariable('mes-simatic-client-secret')).toBe('AURORA_MES_SIMATIC_CLIENT_SECRET');
  });

  it('reads the environment on every call, so a rotated value is picked up', async () => {
    const env: Record<string, string | undefined> = { AURORA_MES_HYDRA_API_KEY: 'old' };
    const secrets = envSecrets(env);
    expect(await secrets.get('mes-hydra-api-key')).toBe('old');
    env['AURORA_MES_HYDRA_API_KEY'] = 'new';
    expect(await secrets.get('mes-hydra-api-key')).toBe('new');
  });

  it('names the variable to set when a secret is missing, without echoing any value', async () => {
    const secrets = envSecrets({ AURORA_MES_REGENSBURG_PASSWORD: '', OTHER: 'hunter2' });
    const error = await secrets.get('mes-regensburg-password').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'secret mes-regensburg-password is not set: set AURORA_MES_REGENSBURG_PASSWORD',
    );
    await expect(staticSecrets({ a: '1' }).get('b')).rejects.toThrow('secret b is not known');
  });
});

describe('firstOf', () => {
  it('falls through on a missing secret only, and names every place looked in', async () => {
    const secrets = firstOf([envSecrets({}), staticSecrets({ 'mes-hydra-api-key': 'from-file-1' })]);
    expect(await secrets.get('mes-hydra-api-key')).toBe('from-file-1');

    const error = await firstOf([envSecrets({}), staticSecrets({})])
      .get('mes-hydra-api-key')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretMissingError);
    expect((error as Error).message).toBe(
      'secret mes-hydra-api-key is not set: is not set: set AURORA_MES_HYDRA_API_KEY; or is not known',
    );
    expect((error as ConfigError).issues.map((i) => i.variable)).toEqual([
      'AURORA_MES_HYDRA_API_KEY',
      'mes-hydra-api-key',
    ]);

    const broken: SecretProvider = {
      get: async () => {
        throw new SourceUnavailableError('vault down');
      },
    };
    await expect(
      firstOf([broken, staticSecrets({ 'mes-hydra-api-key': 'x' })]).get('mes-hydra-api-key'),
    ).rejects.toThrow('vault down');
  });
});

describe('cachedSecrets', () => {
  it('serves the cached value for ttlMs and the rotated value after it', async () => {
    const clock = new ManualClock();
    const source = rotatingSource({ 'mes-hydra-api-key': 'key-v1-aaaa' });
    const secrets = cachedSecrets(source.provider, { ttlMs: 300_000, clock });

    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v1-aaaa');
    source.rotate('mes-hydra-api-key', 'key-v2-bbbb');
    clock.advance(299_999);
    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v1-aaaa');
    expect(source.fetches).toHaveLength(1);
    clock.advance(1);
    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v2-bbbb');
    expect(source.fetches).toHaveLength(2);
  });

  it('serves a rotated value at once after invalidate or a get with refresh (the 401 path)', async () => {
    const clock = new ManualClock();
    const source = rotatingSource({
      'mes-hydra-api-key': 'key-v1-aaaa',
      'mes-regensburg-password': 'pw-v1-cccc',
    });
    const secrets = cachedSecrets(source.provider, { ttlMs: 300_000, clock });
    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v1-aaaa');
    expect(await secrets.get('mes-regensburg-password')).toBe('pw-v1-cccc');

    source.rotate('mes-hydra-api-key', 'key-v2-bbbb');
    source.rotate('mes-regensburg-password', 'pw-v2-dddd');
    secrets.invalidate('mes-hydra-api-key');
    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v2-bbbb');
    // Only the invalidated name was dropped.
    expect(await secrets.get('mes-regensburg-password')).toBe('pw-v1-cccc');
    expect(await secrets.get('mes-regensburg-password', { refresh: true })).toBe('pw-v2-dddd');
    expect(source.fetches.map((f) => f.name)).toEqual([
      'mes-hydra-api-key',
      'mes-regensburg-password',
      'mes-hydra-api-key',
      'mes-regensburg-password',
    ]);
  });

  it('does not cache a fetch that was under way when the secret was invalidated', async () => {
    const clock = new ManualClock();
    const source = rotatingSource({ 'mes-hydra-api-key': 'key-v1-aaaa' });
    const secrets = cachedSecrets(source.provider, { ttlMs: 300_000, clock });
    source.hold();
    const early = secrets.get('mes-hydra-api-key');
    source.rotate('mes-hydra-api-key', 'key-v2-bbbb');
    secrets.invalidate('mes-hydra-api-key');
    source.release();
    expect(await early).toBe('key-v1-aaaa');
    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v2-bbbb');
  });

  it('shares one fetch between concurrent gets', async () => {
    const source = rotatingSource({ 'mes-hydra-api-key': 'key-v1-aaaa' });
    const secrets = cachedSecrets(source.provider, { ttlMs: 300_000, clock: new ManualClock() });
    source.hold();
    const all = Promise.all([1, 2, 3, 4, 5].map(() => secrets.get('mes-hydra-api-key')));
    source.release();
    expect(await all).toEqual(Array(5).fill('key-v1-aaaa'));
    expect(source.fetches).toHaveLength(1);
  });

  it('aborts the shared fetch only when every waiting caller has given up', async () => {
    const source = rotatingSource({ 'mes-hydra-api-key': 'key-v1-aaaa' });
    const secrets = cachedSecrets(source.provider, { ttlMs: 300_000, clock: new ManualClock() });
    source.hold();
    const a = new AbortController();
    const b = new AbortController();
    const first = secrets.get('mes-hydra-api-key', { signal: a.signal });
    const second = secrets.get('mes-hydra-api-key', { signal: b.signal });
    a.abort(new Error('caller a gave up'));
    await expect(first).rejects.toThrow('caller a gave up');
    expect(source.fetches[0]?.signal?.aborted).toBe(false);
    b.abort(new Error('caller b gave up'));
    await expect(second).rejects.toThrow('caller b gave up');
    expect(source.fetches[0]?.signal?.aborted).toBe(true);
    source.release();
    await expect(
      secrets.get('mes-hydra-api-key', { signal: AbortSignal.abort(new Error('already')) }),
    ).rejects.toThrow('already');
  });

  it('with ttlMs 0 asks the source every time, and never caches a failure', async () => {
    const source = rotatingSource({});
    const secrets = cachedSecrets(source.provider, { ttlMs: 0, clock: new ManualClock() });
    await expect(secrets.get('mes-hydra-api-key')).rejects.toBeInstanceOf(SecretMissingError);
    source.rotate('mes-hydra-api-key', 'key-v1-aaaa');
    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v1-aaaa');
    source.rotate('mes-hydra-api-key', 'key-v2-bbbb');
    expect(await secrets.get('mes-hydra-api-key')).toBe('key-v2-bbbb');
    expect(source.fetches).toHaveLength(3);
  });
});

describe('secretsFromConfig', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'aurora-home-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('locally takes the environment first, then $AURORA_HOME/secrets.json', async () => {
    await writeFile(
      secretsFilePath(home),
      JSON.stringify({ 'mes-hydra-api-key': 'file-key-1111', 'mes-regensburg-password': 'file-pw-2222' }),
      { mode: 0o600 },
    );
    const secrets = await secretsFromConfig(
      { home, secrets: { ttlMs: 300_000 } },
      { clock: new ManualClock(), env: { AURORA_MES_HYDRA_API_KEY: 'env-key-3333' } },
    );
    expect(await secrets.get('mes-hydra-api-key')).toBe('env-key-3333');
    expect(await secrets.get('mes-regensburg-password')).toBe('file-pw-2222');
    const error = await secrets.get('mes-simatic-client-secret').catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `secret mes-simatic-client-secret is not set: is not set: set AURORA_MES_SIMATIC_CLIENT_SECRET; or is not in ${secretsFilePath(home)}: the file has no "mes-simatic-client-secret"`,
    );
  });

  it('with a Key Vault URL asks the vault through the given credential, and never the environment', async () => {
    const scopes: string[][] = [];
    const credential: TokenCredential = {
      async getToken(scope): Promise<AccessToken> {
        scopes.push([scope].flat());
        return { token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const paths: string[] = [];
    const httpClient: HttpClient = {
      async sendRequest(request) {
        paths.push(new URL(request.url).pathname);
        const challenged = !request.headers.get('authorization');
        const body = challenged
          ? { error: { code: 'Unauthorized' } }
          : {
              value: 'vault-key-4444',
              id: 'https://kv-aurora-test.vault.azure.net/secrets/mes-hydra-api-key/v1',
              attributes: {},
            };
        const headers = new Map([
          ['content-type', 'application/json'],
          ...(challenged
            ? [
                [
                  'www-authenticate',
                  'Bearer authorization="https://login.microsoftonline.com/t1", resource="https://vault.azure.net"',
                ] as const,
              ]
            : []),
        ]);
        return {
          request,
          status: challenged ? 401 : 200,
          headers: {
            get: (n: string) => headers.get(n.toLowerCase()),
            has: (n: string) => headers.has(n.toLowerCase()),
            set: () => undefined,
            delete: () => undefined,
            toJSON: () => Object.fromEntries(headers),
            [Symbol.iterator]: () => headers.entries(),
          },
          bodyAsText: JSON.stringify(body),
        };
      },
    };
    const clock = new ManualClock();
    const secrets = await secretsFromConfig(
      { home, secrets: { keyVaultUrl: 'https://kv-aurora-test.vault.azure.net', ttlMs: 300_000 } },
      {
        clock,
        credential,
        env: { AURORA_MES_HYDRA_API_KEY: 'env-key-3333' },
        keyVaultClientOptions: { httpClient },
      },
    );
    expect(await secrets.get('mes-hydra-api-key')).toBe('vault-key-4444');
    expect(await secrets.get('mes-hydra-api-key')).toBe('vault-key-4444');
    expect(scopes).toEqual([['https://vault.azure.net/.default']]);
    // Challenge and authorised request once; the second get is served by the cache (config.secrets.ttlMs).
    expect(paths).toEqual(['/secrets/mes-hydra-api-key/', '/secrets/mes-hydra-api-key/']);
    clock.advance(300_000);
    expect(await secrets.get('mes-hydra-api-key')).toBe('vault-key-4444');
    expect(paths).toHaveLength(3);
  });
});

describe('no secret is ever logged', () => {
  const SECRET = 'S3cr3t-Hydra-Key-9f8e7d';

  function capturedLogger() {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger({ level: 'trace', name: 'secrets-test', destination });
    return { log, text: () => lines.join('') };
  }

  it('keeps values out of the log while fetching, caching, missing and failing', async () => {
    // A value no provider of this module marked: what is proven here is that nothing logs it, not scrubbing.
    const SECRET = 'Unmarked-Vault-Value-31c5a0';
    const { log, text } = capturedLogger();
    const clock = new ManualClock();
    let fail = false;
    const source: SecretProvider = {
      async get(name) {
        if (fail) throw new SourceUnavailableError(`vault did not return secret ${name}: HTTP 503`);
        if (name === 'mes-hydra-api-key') return SECRET;
        throw new SecretMissingError(`secret ${name} is not known`, name, [
          { variable: name, problem: 'unknown' },
        ]);
      },
    };
    const secrets = cachedSecrets(firstOf([envSecrets({}), source]), { ttlMs: 1000, clock, log });

    expect(await secrets.get('mes-hydra-api-key')).toBe(SECRET); // fetched
    expect(await secrets.get('mes-hydra-api-key')).toBe(SECRET); // cached
    const missing = await secrets.get('mes-regensburg-password').catch((e: unknown) => e);
    fail = true;
    clock.advance(1000);
    const failed = await secrets.get('mes-hydra-api-key').catch((e: unknown) => e);
    log.error({ event: 'test.failed', err: missing }, 'missing');
    log.error({ event: 'test.failed', err: failed }, 'failed');

    const output = text();
    expect(output).toContain('"event":"secrets.fetched"');
    expect(output).toContain('"event":"secrets.fetch_failed"');
    expect(output).toContain('"secret":"mes-hydra-api-key"');
    expect(output).not.toContain(SECRET);
    for (const error of [missing, failed]) {
      expect(JSON.stringify(error)).not.toContain(SECRET);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });

  it('scrubs a value handed out by a provider wherever a careless caller puts it', async () => {
    const { log, text } = capturedLogger();
    const value = await staticSecrets({ 'mes-hydra-api-key': SECRET }).get('mes-hydra-api-key');
    const withQuote = await staticSecrets({ 'mes-regensburg-password': 'pa"ss\\word-42' }).get(
      'mes-regensburg-password',
    );
    log.info({
      event: 'careless',
      request: { headers: { 'x-api-key': value } },
      nested: { deep: { body: `key=${value}` } },
    });
    log.info(`calling hydra with ${value}`);
    log.warn({ event: 'careless', err: new Error(`401 for key ${value}`) }, 'request failed');
    log.child({ token: value }).info({ form: { password: withQuote, apiKey: value } }, 'child');
    log.info({ event: 'careless', quoted: withQuote });

    const output = text();
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(JSON.stringify(withQuote).slice(1, -1));
    expect(output).toContain('[secret]');
    expect(output.split('\n').filter(Boolean)).toHaveLength(5);
    for (const line of output.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    expect(scrubSecrets(`a ${SECRET} b`)).toBe('a [secret] b');
  });

  it('redacts the usual credential fields by name even for values no provider handed out', () => {
    const { log, text } = capturedLogger();
    log.info({
      event: 'careless',
      password: 'never-fetched-1',
      form: { client_secret: 'never-fetched-2', clientSecret: 'never-fetched-3', apiKey: 'never-fetched-4' },
      headers: { authorization: 'Bearer never-fetched-5' },
    });
    const output = text();
    for (const n of [1, 2, 3, 4, 5]) expect(output).not.toContain(`never-fetched-${n}`);
  });
});
