import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { envSecrets, secretVariable, staticSecrets } from './secrets.js';

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
