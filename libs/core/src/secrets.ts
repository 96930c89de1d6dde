import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import type { Clock } from './clock.js';
import type { AuroraConfig } from './config.js';
import { AuroraError, ConfigError } from './errors.js';
import { fileSecrets } from './file-secrets.js';
import { keyVaultSecrets } from './key-vault-secrets.js';
import type { Logger } from './logger.js';

/** Options of one secret lookup. */
export interface SecretGetOptions {
  signal?: AbortSignal;
  /**
   * Skip any cached value and ask the source again: for a caller whose request was just refused (401)
   * with the value it got, because the secret may have been rotated since. Providers without a cache
   * ignore it.
   */
  refresh?: boolean;
}

/**
 * Where credentials come from: Key Vault in Azure, the environment or a file locally, all behind this
 * interface. Names are Key Vault secret names (`mes-hydra-api-key`); callers ask on every use, so a
 * rotated secret is picked up without a restart.
 */
export interface SecretProvider {
  /** The secret's current value; a ConfigError naming where it was looked for when it is missing. */
  get(name: string, options?: SecretGetOptions): Promise<string>;
}

/**
 * A secret that is not where it was looked for. Still a ConfigError (`config.invalid`: someone has to
 * set it); the class only lets `firstOf` tell "not here, try the next source" from "this source is
 * broken" within one process.
 */
export class SecretMissingError extends ConfigError {
  constructor(
    message: string,
    readonly secret: string,
    issues: readonly { variable: string; problem: string }[],
  ) {
    super(message, issues);
  }
}

/**
 * Values handed out by a provider of this module, so that the logger can scrub them from every line
 * whatever field, nesting or message text they end up in. Process-wide on purpose: loggers and secret
 * providers are built in different places, and a scrubber that must be wired up is one that gets
 * forgotten. Values shorter than this are not scrubbed (they would mangle unrelated text) — and are
 * no secrets worth the name.
 */
const MIN_SCRUBBED_LENGTH = 6;
/** Each revealed value with the forms it can take in a log line: as is, and JSON-escaped when that differs. */
const revealedForms = new Map<string, readonly string[]>();

/** Records a value as secret, so that `scrubSecrets` removes it; returns it unchanged. */
export function markSecret(value: string): string {
  if (value.length >= MIN_SCRUBBED_LENGTH && !revealedForms.has(value)) {
    const escaped = JSON.stringify(value).slice(1, -1);
    revealedForms.set(value, escaped === value ? [value] : [value, escaped]);
  }
  return value;
}

/**
 * `text` with every value a secret provider has handed out (and its JSON-escaped form) replaced by
 * `[secret]`. The logger runs each line through this; use it for any other text leaving the process.
 */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const forms of revealedForms.values())
    for (const form of forms) if (out.includes(form)) out = out.replaceAll(form, '[secret]');
  return out;
}

/** `mes-hydra-api-key` -> `AURORA_MES_HYDRA_API_KEY`: the app setting holding a secret (a Key Vault reference in Azure). */
export const secretVariable = (name: string): string => `AURORA_${name.toUpperCase().replaceAll('-', '_')}`;

/** Secrets from environment variables, named by `secretVariable`. */
export function envSecrets(env: Record<string, string | undefined> = process.env): SecretProvider {
  return {
    async get(name) {
      const variable = secretVariable(name);
      const value = env[variable];
      if (value === undefined || value === '') {
        throw new SecretMissingError(`secret ${name} is not set: set ${variable}`, name, [
          { variable, problem: 'required secret is not set' },
        ]);
      }
      return markSecret(value);
    },
  };
}

/** Secrets held in memory: the local stand-ins' generated credentials, and tests. */
export function staticSecrets(values: Readonly<Record<string, string>>): SecretProvider {
  return {
    async get(name) {
      const value = values[name];
      if (value === undefined) {
        throw new SecretMissingError(`secret ${name} is not known`, name, [
          { variable: name, problem: 'unknown secret' },
        ]);
      }
      return markSecret(value);
    },
  };
}

/**
 * Asks each provider in turn and returns the first value found. Only a missing secret falls through to
 * the next provider; any other failure (an unreadable or too open file, a vault that is down) is
 * thrown at once, so a broken source is never papered over by a stale fallback. When no provider has
 * the secret, the error names every place that was looked in.
 */
export function firstOf(providers: readonly SecretProvider[]): SecretProvider {
  return {
    async get(name, options) {
      const misses: SecretMissingError[] = [];
      for (const provider of providers) {
        try {
          return await provider.get(name, options);
        } catch (error) {
          if (!(error instanceof SecretMissingError)) throw error;
          misses.push(error);
        }
      }
      throw new SecretMissingError(
        `secret ${name} is not set: ${misses.map((m) => m.message.replace(/^secret \S+ /, '')).join('; or ')}`,
        name,
        misses.flatMap((m) => m.issues),
      );
    },
  };
}

/** A provider whose values are cached; see `cachedSecrets`. */
export interface CachedSecretProvider extends SecretProvider {
  /**
   * Forgets the cached value of `name` (of every secret when omitted); the next get asks the source.
   * A fetch already under way when this is called is not cached either, as it may predate a rotation.
   */
  invalidate(name?: string): void;
}

export interface CachedSecretsOptions {
  /** How long a value is served without asking the source again; 0 = never cached (config.secrets.ttlMs). */
  ttlMs: number;
  clock: Clock;
  /** Receives `secrets.fetched` / `secrets.fetch_failed` events: names, durations and error codes, never values. */
  log?: Logger;
}

interface InFlight {
  promise: Promise<string>;
  controller: AbortController;
  waiters: number;
}

/**
 * Serves each secret from memory for `ttlMs` after it was fetched, so a connector that asks on every
 * request does not ask Key Vault on every request (Key Vault throttles per vault). Concurrent gets of
 * one name share one fetch; the shared fetch is aborted only when every caller waiting on it has given
 * up. A rotated value is served once the TTL has run out, or at once after `invalidate(name)` or a get
 * with `refresh: true`. Failures are never cached.
 */
export function cachedSecrets(provider: SecretProvider, options: CachedSecretsOptions): CachedSecretProvider {
  const { ttlMs, clock, log } = options;
  const cache = new Map<string, { value: string; expiresAtMs: number }>();
  const inFlight = new Map<string, InFlight>();
  const generation = new Map<string, number>();
  let allGeneration = 0;
  const generationOf = (name: string) => `${allGeneration}:${generation.get(name) ?? 0}`;

  const startFetch = (name: string): InFlight => {
    const controller = new AbortController();
    const startedGeneration = generationOf(name);
    const startedMs = clock.now().getTime();
    const entry: InFlight = { controller, waiters: 0, promise: Promise.resolve('') };
    entry.promise = provider
      .get(name, { signal: controller.signal, refresh: true })
      .then(
        (value) => {
          const nowMs = clock.now().getTime();
          if (ttlMs > 0 && generationOf(name) === startedGeneration) {
            cache.set(name, { value, expiresAtMs: nowMs + ttlMs });
          }
          log?.debug(
            { event: 'secrets.fetched', secret: name, durationMs: nowMs - startedMs },
            'secret fetched',
          );
          return value;
        },
        (error: unknown) => {
          // Abandoned by every caller: nothing failed that anyone needs to hear about.
          if (controller.signal.aborted) throw error;
          log?.warn(
            {
              event: 'secrets.fetch_failed',
              secret: name,
              ...(error instanceof AuroraError ? { error: error.toJSON() } : {}),
            },
            'secret could not be fetched',
          );
          throw error;
        },
      )
      .finally(() => {
        if (inFlight.get(name) === entry) inFlight.delete(name);
      });
    // Callers that all gave up leave the promise unobserved; its failure is already logged.
    entry.promise.catch(() => undefined);
    inFlight.set(name, entry);
    return entry;
  };

  const invalidate = (name?: string) => {
    if (name === undefined) {
      allGeneration += 1;
      cache.clear();
      inFlight.clear();
      return;
    }
    generation.set(name, (generation.get(name) ?? 0) + 1);
    cache.delete(name);
    inFlight.delete(name);
  };

  return {
    invalidate,
    async get(name, getOptions = {}) {
      const { signal, refresh } = getOptions;
      signal?.throwIfAborted();
      if (refresh) invalidate(name);
      const cached = cache.get(name);
      if (cached && clock.now().getTime() < cached.expiresAtMs) return cached.value;
      const entry = inFlight.get(name) ?? startFetch(name);
      entry.waiters += 1;
      if (!signal) return entry.promise;
      return new Promise<string>((resolve, reject) => {
        const onAbort = () => {
          entry.waiters -= 1;
          if (entry.waiters === 0) entry.controller.abort(signal.reason);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        entry.promise.then(
          (value) => {
            signal.removeEventListener('abort', onAbort);
            resolve(value);
          },
          (error: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        );
      });
    },
  };
}

/** The file under AURORA_HOME that holds local secrets when they are not in the environment. */
export const secretsFilePath = (home: string): string => join(home, 'secrets.json');

export interface SecretsFromConfigOptions {
  /** Only used with Key Vault; default DefaultAzureCredential (the Function App's managed identity). */
  credential?: TokenCredential;
  clock: Clock;
  log?: Logger;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Passed to the Key Vault SecretClient (retry options; an `httpClient` in tests). */
  keyVaultClientOptions?: SecretClientOptions;
}

/**
 * The one secret provider of an app, chosen from configuration:
 * - `AURORA_KEY_VAULT_URL` set: Key Vault only, through the given credential (managed identity in
 *   Azure). Nothing falls back to the environment, so a secret missing from the vault is reported as
 *   such rather than silently taken from a stale app setting.
 * - otherwise: the environment (`AURORA_MES_HYDRA_API_KEY`) first, then `$AURORA_HOME/secrets.json`
 *   (`{"mes-hydra-api-key": "..."}`, mode 0600), so a one-off override needs no file edit.
 * Either way values are cached for `config.secrets.ttlMs` (AURORA_SECRETS_TTL_S).
 */
export async function secretsFromConfig(
  config: Pick<AuroraConfig, 'home' | 'secrets'>,
  options: SecretsFromConfigOptions,
): Promise<CachedSecretProvider> {
  const { clock, log, env = process.env } = options;
  const { keyVaultUrl, ttlMs } = config.secrets;
  let source: SecretProvider;
  if (keyVaultUrl) {
    const credential = options.credential ?? new (await import('@azure/identity')).DefaultAzureCredential();
    source = keyVaultSecrets({
      vaultUrl: keyVaultUrl,
      credential,
      ...(options.keyVaultClientOptions ? { clientOptions: options.keyVaultClientOptions } : {}),
    });
  } else {
    source = firstOf([envSecrets(env), fileSecrets(secretsFilePath(config.home))]);
  }
  return cachedSecrets(source, { ttlMs, clock, ...(log ? { log } : {}) });
}
