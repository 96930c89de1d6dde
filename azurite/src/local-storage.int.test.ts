import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalStorage } from './local-storage.js';
import { startAzurite } from './server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const home = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aurora-local-storage-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

/** A process that lives until the tests end. */
const living = (): ChildProcess => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanup.push(() => void child.kill());
  return child;
};

const lockOf = (pid: number, urls = { blobUrl: '', queueUrl: '', tableUrl: '' }) =>
  JSON.stringify({ pid, ...urls });

describe('openLocalStorage', () => {
  // Zombies are told apart through /proc, which only Linux has.
  it.skipIf(process.platform !== 'linux')(
    'starts its own emulator when the lock names a process that was killed and is not yet reaped',
    async () => {
      // sh starts a child that exits at once, then becomes `sleep`, which never reaps it: a zombie.
      const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      cleanup.push(() => void parent.kill());
      const zombie = Number(
        await new Promise<string>((r) => parent.stdout!.once('data', (d: Buffer) => r(d.toString()))),
      );
      await new Promise((r) => setTimeout(r, 300));
      const state = readFileSync(`/proc/${zombie}/stat`, 'utf8');
      expect(state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3)).toBe('Z');
      expect(() => process.kill(zombie, 0)).not.toThrow(); // what made it look alive

      const dir = await home();
      await writeFile(
        join(dir, 'azurite.lock.json'),
        lockOf(zombie, {
          blobUrl: 'http://127.0.0.1:9',
          queueUrl: 'http://127.0.0.1:9',
          tableUrl: 'http://127.0.0.1:9',
        }),
      );
      const storage = await openLocalStorage(dir, { blobPort: 0, queuePort: 0, tablePort: 0 });
      try {
        expect(storage.owner).toBe(true);
        expect(storage.blobUrl).not.toBe('http://127.0.0.1:9');
        expect(JSON.parse(readFileSync(join(dir, 'azurite.lock.json'), 'utf8')).pid).toBe(process.pid);
      } finally {
        await storage.close();
      }
    },
  );

  it('waits for the endpoints of an emulator its owner is still starting, then joins it', async () => {
    const dir = await home();
    const owner = living();
    await writeFile(join(dir, 'azurite.lock.json'), lockOf(owner.pid!));
    const running = await startAzurite();
    cleanup.push(() => running.close());
    const joining = openLocalStorage(dir);
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(join(dir, 'azurite.lock.json'), lockOf(owner.pid!, running));
    const joined = await joining;
    expect(joined).toMatchObject({ owner: false, blobUrl: running.blobUrl, tableUrl: running.tableUrl });
  });
});
