import type { TokenCredential } from '@azure/identity';
import type { SecretClient, SecretClientOptions } from '@azure/keyvault-secrets';
import { ConfigError, SourceUnavailableError } from './errors.js';
import { markSecret, SecretMissingError, type SecretProvider } from './secrets.js';

export interface KeyVaultSecretsOptions {
  /** `https://kv-aurora-prod.vault.azure.net` (AURORA_KEY_VAULT_URL). */
  vaultUrl: string;
  /** DefaultAzureCredential in Azure (the Function App's managed identity needs "Key Vault Secrets User"). */
  credential: TokenCredential;
  /** Passed to SecretClient: retry options, and in tests an `httpClient` answering like Key Vault. */
  clientOptions?: SecretClientOptions;
}

/** What the SDK throws for a non-2xx answer (a RestError), read structurally: status and Key Vault error code. */
interface ServiceFailure {
  statusCode?: number;
  code?: string;
  details?: { error?: { code?: string; message?: string } };
}

/**
 * Secrets from Azure Key Vault through @azure/keyvault-secrets, always the latest version. A secret the
 * vault does not have (404) is a SecretMissingError naming vault and secret; a refusal (403: the
 * identity lacks "get" on secrets, or the secret is disabled) is a ConfigError as well, since retrying
 * will not fix it; anything else (throttling, the vault or the token endpoint unreachable) is a
 * retryable SourceUnavailableError. Errors carry status and Key Vault error code, never the SDK error
 * itself, whose request and response may hold the value.
 */
export function keyVaultSecrets(options: KeyVaultSecretsOptions): SecretProvider {
  const { vaultUrl, credential, clientOptions } = options;
  // Loaded on first use: every CLI command imports @aurora/core, few of them talk to Key Vault.
  let client: Promise<SecretClient> | undefined;
  return {
    async get(name, getOptions = {}) {
      const { signal } = getOptions;
      try {
        client ??= import('@azure/keyvault-secrets').then(
          ({ SecretClient }) => new SecretClient(vaultUrl, credential, clientOptions),
        );
        const secret = await (await client).getSecret(name, signal ? { abortSignal: signal } : {});
        if (secret.value === undefined) {
          throw new SourceUnavailableError(`Key Vault ${vaultUrl} returned secret ${name} without a value`, {
            details: { vaultUrl, secret: name },
          });
        }
        return markSecret(secret.value);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw mapFailure(error, vaultUrl, name);
      }
    },
  };
}

function mapFailure(error: unknown, vaultUrl: string, name: string): Error {
  if (error instanceof SourceUnavailableError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as ServiceFailure;
  const status = failure.statusCode;
  const serviceCode = failure.details?.error?.code ?? failure.code;
  const where = {
    vaultUrl,
    secret: name,
    ...(status ? { status } : {}),
    ...(serviceCode ? { serviceCode } : {}),
  };
  if (status === 404) {
    return new SecretMissingError(
      `secret ${name} is not in Key Vault ${vaultUrl}: add it (az keyvault secret set --vault-name <vault> --name ${name})`,
      name,
      [{ variable: name, problem: `not found in Key Vault ${vaultUrl}` }],
    );
  }
  const serviceMessage = failure.details?.error?.message;
  if (status === 403) {
    return new ConfigError(
      `Key Vault ${vaultUrl} refused secret ${name} (${serviceCode ?? 'Forbidden'}): grant this identity "Key Vault Secrets User" on the vault, or enable the secret`,
      [{ variable: name, problem: `refused by Key Vault ${vaultUrl}: ${serviceMessage ?? 'forbidden'}` }],
    );
  }
  // A credential failure (no managed identity, token endpoint down) is no RestError; its name says which.
  const reason =
    status !== undefined
      ? `HTTP ${status}${serviceCode ? ` ${serviceCode}` : ''}${serviceMessage ? `: ${serviceMessage}` : ''}`
      : error instanceof Error
        ? `${error.name}: ${error.message}`
        : 'unknown failure';
  return new SourceUnavailableError(`Key Vault ${vaultUrl} did not return secret ${name}: ${reason}`, {
    details: where,
  });
}
