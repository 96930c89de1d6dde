import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RestError, TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, describe, expect, it } from 'vitest';
import { startAzurite } from './server.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * Runs the fixture (a persistent Azurite writing file n, then checkpoint n, n = 0, 1, ...) on a new
 * directory and SIGKILLs it right after it printed `acked <line>`; returns the directory and every write
 * it saw acknowledged.
 */
async function killRightAfter(
  line: string,
): Promise<{ location: string; blobs: number; checkpoints: number }> {
  const location = await mkdtemp(join(tmpdir(), 'aurora-azurite-kill-'));
  dirs.push(location);
  const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
  const child = spawn(tsx, [resolve(import.meta.dirname, 'durable-acks.fixture.ts'), location], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const acked = await new Promise<string[]>((done, fail) => {
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n').filter(Boolean)) {
        lines.push(l);
        // The whole process group (tsx and node under it), at once: nothing is flushed or closed.
        if (l === `acked ${line}`) process.kill(-child.pid!, 'SIGKILL');
      }
    });
    child.on('error', fail);
    child.on('close', (_code, signal) =>
      signal === 'SIGKILL' ? done(lines) : fail(new Error(`the fixture ended without the kill: ${stderr}`)),
    );
  });
  return {
    location,
    blobs: acked.filter((l) => l.startsWith('acked blob ')).length,
    checkpoints: acked.filter((l) => l.startsWith('acked checkpoint ')).length,
  };
}

/** What the emulator holds after a restart on the directory: readable files, and the checkpoint. */
async function reopen(location: string) {
  const azurite = await startAzurite({ location });
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      'lake',
    );
    const files: number[] = [];
    for await (const b of container.listBlobsFlat()) {
      const n = Number(/file-(\d+)/.exec(b.name)![1]);
      const body = await container.getBlockBlobClient(b.name).downloadToBuffer();
      expect(body.toString(), b.name).toBe(`file ${n} `.repeat(1000));
      files.push(n);
    }
    const table = TableClient.fromConnectionString(azurite.connectionString, 'checkpoints', {
      allowInsecureConnection: true,
    });
    const checkpoint = await table.getEntity<{ watermark: number }>('mes', 'cursor').then(
      (e) => e.watermark,
      (error: unknown) => {
        if (error instanceof RestError && error.statusCode === 404) return -1;
        throw error;
      },
    );
    return { files: files.sort((a, b) => a - b), checkpoint };
  } finally {
    await azurite.close();
  }
}

describe('a persistent Azurite killed with SIGKILL', () => {
  it('keeps a checkpoint it acknowledged, and every file acknowledged before it, whole', async () => {
    const killed = await killRightAfter('checkpoint 5');
    const after = await reopen(killed.location);
    expect(after.checkpoint).toBeGreaterThanOrEqual(killed.checkpoints - 1);
    expect(after.files.slice(0, killed.checkpoints)).toEqual([...Array(killed.checkpoints).keys()]);
  }, 60_000);

  it('never comes back with a checkpoint ahead of the files it covers', async () => {
    const killed = await killRightAfter('blob 6');
    const after = await reopen(killed.location);
    expect(killed.blobs).toBeGreaterThanOrEqual(7);
    // Checkpoint n is written after file n: files 0..n are all there (a file no checkpoint covers may not be).
    expect(after.files.slice(0, after.checkpoint + 1)).toEqual([...Array(after.checkpoint + 1).keys()]);
    expect(after.checkpoint).toBeGreaterThanOrEqual(killed.checkpoints - 1);
  }, 60_000);
});
