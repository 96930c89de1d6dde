import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** The `aurora` script of the root package.json, so tests run the CLI exactly as `pnpm aurora` does. */
const auroraScript = (
  JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { scripts: { aurora: string } }
).scripts.aurora;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pnpm aurora <args>` in a child process with its own environment. */
export function aurora(args: string[], env: Record<string, string>): Promise<CliResult> {
  const [tool, ...toolArgs] = auroraScript.split(' ');
  const bin = resolve(repoRoot, 'node_modules/.bin', tool!);
  return new Promise((done, fail) => {
    const child = spawn(bin, [...toolArgs, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', fail);
    // 'close', not 'exit': 'exit' can fire before the last stdout chunks are read, leaving stdout short.
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
