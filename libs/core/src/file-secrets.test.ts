import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { fileSecrets } from './file-secrets.js';
import { SecretMissingError } from './secrets.js';

const posix = process.platform !== 'win32';

describe('fileSecrets', () => {
  let dir: string;
  let path: string;
  const write = async (content: unknown, mode = 0o600) => {
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content), { mode });
    await chmod(path, mode);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aurora-secrets-'));
    path = join(dir, 'secrets.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a JSON object of Key Vault names to values', async () => {
    await write({ 'mes-hydra-api-key': 'hydra-key-4f9c2e', 'mes-regensburg-password': 'rgb-pw-77a1' });
    const secrets = fileSecrets(path);
    expect(await secrets.get('mes-hydra-api-key')).toBe('hydra-key-4f9c2e');
    expect(await secrets.get('mes-regensburg-password')).toBe('rgb-pw-77a1');
  });

  it('picks up an edited file, also one replaced by rename as editors do', async () => {
    await write({ 'mes-hydra-api-key': 'old-value-1' });
    const secrets = fileSecrets(path);
    expect(await secrets.get('mes-hydra-api-key')).toBe('old-value-1');
    await write({ 'mes-hydra-api-key': 'new-value-2' });
    expect(await secrets.get('mes-hydra-api-key')).toBe('new-value-2');
    const next = join(dir, 'secrets.json.tmp');
    await writeFile(next, JSON.stringify({ 'mes-hydra-api-key': 'new-value-3' }), { mode: 0o600 });
    await rename(next, path);
    expect(await secrets.get('mes-hydra-api-key')).toBe('new-value-3');
  });

  it.runIf(posix)('refuses a file readable by group or others, naming the chmod to run', async () => {
    await write({ 'mes-hydra-api-key': 'hydra-key-4f9c2e' }, 0o644);
    const error = await fileSecrets(path)
      .get('mes-hydra-api-key')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(SecretMissingError);
    expect((error as Error).message).toBe(
      `secrets file ${path} is accessible by group or others (mode 0644): run chmod 600 ${path}`,
    );
    await write({ 'mes-hydra-api-key': 'hydra-key-4f9c2e' }, 0o640);
    await expect(fileSecrets(path).get('mes-hydra-api-key')).rejects.toThrow('mode 0640');
    await write({ 'mes-hydra-api-key': 'hydra-key-4f9c2e' }, 0o400);
    expect(await fileSecrets(path).get('mes-hydra-api-key')).toBe('hydra-key-4f9c2e');
  });

  it('reports a missing file or name as a missing secret, so a chain can look elsewhere', async () => {
    const missingFile = await fileSecrets(path)
      .get('mes-hydra-api-key')
      .catch((e: unknown) => e);
    expect(missingFile).toBeInstanceOf(SecretMissingError);
    expect((missingFile as Error).message).toBe(
      `secret mes-hydra-api-key is not in ${path}: the file does not exist`,
    );
    await write({ other: 'x-value-9' });
    await expect(fileSecrets(path).get('mes-hydra-api-key')).rejects.toThrow(
      `secret mes-hydra-api-key is not in ${path}: the file has no "mes-hydra-api-key"`,
    );
  });

  it('rejects invalid JSON and non-string values without quoting the content', async () => {
    await write('{"mes-hydra-api-key": "hydra-key-4f9c2e",,}');
    const invalid = await fileSecrets(path)
      .get('mes-hydra-api-key')
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ConfigError);
    expect((invalid as Error).message).toBe(`secrets file ${path} is not valid JSON`);
    expect(JSON.stringify(invalid)).not.toContain('hydra-key-4f9c2e');

    await write({ 'mes-hydra-api-key': 12345678, 'mes-regensburg-password': 'rgb-pw-77a1' });
    const wrongType = await fileSecrets(path)
      .get('mes-regensburg-password')
      .catch((e: unknown) => e);
    expect((wrongType as Error).message).toBe(
      `secrets file ${path}: mes-hydra-api-key must be non-empty strings`,
    );
    expect(JSON.stringify(wrongType)).not.toContain('12345678');
    expect(JSON.stringify(wrongType)).not.toContain('rgb-pw-77a1');
  });
});
