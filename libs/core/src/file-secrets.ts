import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { markSecret, SecretMissingError, type SecretProvider } from './secrets.js';

export interface FileSecretsOptions {
  /**
   * Whether to refuse a file readable or writable by group or others, as ssh does with private keys.
   * Default: on, except on Windows, where POSIX modes mean nothing.
   */
  checkPermissions?: boolean;
}

/**
 * Local secrets from a JSON object of Key Vault names to values (`{"mes-hydra-api-key": "..."}`),
 * usually `$AURORA_HOME/secrets.json`. The file is stat'ed on every get and re-read when it changed (mtime,
 * size or inode), so an edited secret is picked up without a restart. A missing file or name is a
 * SecretMissingError (a chain may look elsewhere); a file others can read, invalid JSON or a non-string
 * value is a ConfigError naming the file — errors never quote the file's content.
 */
export function fileSecrets(path: string, options: FileSecretsOptions = {}): SecretProvider {
  const checkPermissions = options.checkPermissions ?? process.platform !== 'win32';
  let loaded: { version: string; values: Map<string, string> } | undefined;

  const load = async (signal: AbortSignal | undefined): Promise<Map<string, string> | undefined> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        loaded = undefined;
        return undefined;
      }
      throw new ConfigError(`secrets file ${path} cannot be read: ${(error as Error).message}`, [
        { variable: path, problem: 'unreadable secrets file' },
      ]);
    }
    if (checkPermissions && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      throw new ConfigError(
        `secrets file ${path} is accessible by group or others (mode ${mode}): run chmod 600 ${path}`,
        [{ variable: path, problem: `permissions ${mode} are too open; expected 0600` }],
      );
    }
    // The inode and ctime catch an editor's atomic replace within one mtime tick.
    const version = `${info.ino}:${info.mtimeMs}:${info.ctimeMs}:${info.size}`;
    if (loaded?.version === version) return loaded.values;
    const text = await readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) });
    loaded = { version, values: parse(path, text) };
    return loaded.values;
  };

  return {
    async get(name, getOptions = {}) {
      const values = await load(getOptions.signal);
      const value = values?.get(name);
      if (value === undefined) {
        const problem = values ? `has no "${name}"` : 'does not exist';
        throw new SecretMissingError(`secret ${name} is not in ${path}: the file ${problem}`, name, [
          { variable: path, problem: `secret ${name} not found (file ${problem})` },
        ]);
      }
      return markSecret(value);
    },
  };
}

function parse(path: string, text: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the fault, which may be a secret.
    throw new ConfigError(`secrets file ${path} is not valid JSON`, [
      { variable: path, problem: 'expected a JSON object of secret names to string values' },
    ]);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(`secrets file ${path} must hold a JSON object of secret names to values`, [
      { variable: path, problem: 'expected a JSON object of secret names to string values' },
    ]);
  }
  const values = new Map<string, string>();
  const bad: string[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (typeof value === 'string' && value !== '') values.set(name, value);
    else bad.push(name);
  }
  if (bad.length > 0) {
    throw new ConfigError(`secrets file ${path}: ${bad.join(', ')} must be non-empty strings`, [
      ...bad.map((name) => ({ variable: path, problem: `${name} is not a non-empty string` })),
    ]);
  }
  return values;
}
