import { readFile } from 'node:fs/promises';
import type { StackName } from './config.js';

/** The configuration a `Pulumi.<stack>.yaml` file holds, as the Pulumi CLI would hand it to the program. */
export interface StackFile {
  /** Plain values by fully qualified key (`aurora:lakeSku`, `azure-native:location`). */
  config: Record<string, string>;
  /** Keys stored encrypted (`secure:`); their values are never available offline. */
  secureKeys: string[];
}

/** Where the stack files live: the infra package root, one level above `src/` and `dist/`. */
export const stackFileUrl = (stack: StackName): URL => new URL(`../Pulumi.${stack}.yaml`, import.meta.url);

export async function readStackFile(stack: StackName): Promise<StackFile> {
  const url = stackFileUrl(stack);
  return parseStackFile(await readFile(url, 'utf8'), url.pathname);
}

const unquote = (value: string, where: string): string => {
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2) throw new Error(`${where}: unterminated string`);
    return JSON.parse(value) as string;
  }
  if (value.startsWith("'")) {
    if (!value.endsWith("'") || value.length < 2) throw new Error(`${where}: unterminated string`);
    return value.slice(1, -1).replaceAll("''", "'");
  }
  if (/^[[{|>&*!%@`]/.test(value)) {
    throw new Error(
      `${where}: structured YAML values are not used in Aurora stack files; write a plain scalar`,
    );
  }
  const comment = value.search(/\s#/);
  return (comment === -1 ? value : value.slice(0, comment)).trim();
};

/**
 * Reads the subset of YAML that `pulumi config set` writes for scalar values: a top-level `config:`
 * map of `namespace:key: value` lines, and `secure:` values for secrets. Anything else in the config
 * map is rejected with its line number rather than guessed at, so the offline inventory never runs
 * on a misread stack file.
 */
export function parseStackFile(text: string, source = 'stack file'): StackFile {
  const config: Record<string, string> = {};
  const secureKeys: string[] = [];
  let inConfig = false;
  let pendingKey: string | undefined;
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const where = `${source}:${index + 1}`;
    if (/^\s*(#.*)?$/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    const content = line.trim();
    if (indent === 0) {
      if (pendingKey) throw new Error(`${where}: "${pendingKey}" has no value`);
      inConfig = content === 'config:';
      continue;
    }
    if (!inConfig) continue;
    if (pendingKey) {
      const secure = /^secure:\s*(.+)$/.exec(content);
      if (secure && indent > 2) {
        secureKeys.push(pendingKey);
        pendingKey = undefined;
        continue;
      }
      throw new Error(
        `${where}: "${pendingKey}" holds a structured value; only scalars and secure: are supported`,
      );
    }
    const entry = /^([A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(content);
    if (!entry) throw new Error(`${where}: expected "namespace:key: value", got "${content}"`);
    const key = entry[1]!;
    const value = entry[2]?.trim() ?? '';
    if (value === '' || value.startsWith('#')) {
      pendingKey = key;
      continue;
    }
    config[key] = unquote(value, where);
  }
  if (pendingKey) throw new Error(`${source}: "${pendingKey}" has no value`);
  return { config, secureKeys };
}
