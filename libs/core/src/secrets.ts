import { ConfigError } from './errors.js';

/**
 * Where credentials come from: Key Vault in Azure, the environment or a file locally, all behind this
 * interface. Names are Key Vault secret names (`mes-hydra-api-key`); callers ask on every use, so a
 * rotated secret is picked up without a restart.
 */
export interface SecretProvider {
  /** The secret's current value; a ConfigError naming where it was looked for when it is missing. */
  get(name: string, options?: { signal?: AbortSignal }): Promise<string>;
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
        throw new ConfigError(`secret ${name} is not set: set ${variable}`, [
          { variable, problem: 'required secret is not set' },
        ]);
      }
      return value;
    },
  };
}

/** Secrets held in memory: the local stand-ins' generated credentials, and tests. */
export function staticSecrets(values: Readonly<Record<string, string>>): SecretProvider {
  return {
    async get(name) {
      const value = values[name];
      if (value === undefined) {
        throw new ConfigError(`secret ${name} is not known`, [{ variable: name, problem: 'unknown secret' }]);
      }
      return value;
    },
  };
}
