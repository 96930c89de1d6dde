import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AzuriteOptions, azuriteConnectionString, type RunningAzurite, startAzurite } from './server.js';

export interface LocalStorage extends RunningAzurite {
  /** True when this process started the emulator; false when it joined one another process runs. */
  owner: boolean;
}

interface LockFile {
  pid: number;
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
}

/**
 * A process killed with SIGKILL stays a zombie until its new parent reaps it, and signal 0 still reaches a
 * zombie: on Linux its state in /proc says whether it is one.
 */
const isZombie = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
};

async function readLock(path: string): Promise<LockFile | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockFile;
  } catch {
    return undefined;
  }
}

/**
 * The lake of one AURORA_HOME. Azurite's files must have a single writer, so the first process to open a
 * home starts the emulator and records its endpoints in a lock file; every other process on the same home
 * (a `run --once` beside `aurora start`, `lake ls`) joins that emulator instead of opening the files twice.
 */
export async function openLocalStorage(
  home: string,
  ports: Pick<AzuriteOptions, 'blobPort' | 'queuePort' | 'tablePort'> = {},
): Promise<LocalStorage> {
  const location = join(home, 'azurite');
  const lockPath = join(home, 'azurite.lock.json');
  await mkdir(home, { recursive: true });
  const startingDeadline = Date.now() + 60_000;
  for (let attempt = 0; attempt < 3; attempt++) {
    const lock = await readLock(lockPath);
    if (lock && lock.pid !== process.pid && isAlive(lock.pid)) {
      if (!lock.blobUrl) {
        // Claimed, and the emulator is still starting: its endpoints follow in a moment.
        if (Date.now() > startingDeadline)
          throw new Error(
            `Azurite for ${home} is being started by process ${lock.pid}, which has not finished in 60 s`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
        attempt--;
        continue;
      }
      return {
        ...lock,
        connectionString: azuriteConnectionString(lock),
        owner: false,
        close: async () => {},
      };
    }
    if (lock) await rm(lockPath, { force: true });
    const claim: LockFile = { pid: process.pid, blobUrl: '', queueUrl: '', tableUrl: '' };
    try {
      await writeFile(lockPath, JSON.stringify(claim), { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // another process won the race
      throw error;
    }
    let azurite: RunningAzurite;
    try {
      azurite = await startAzurite({ location, ...ports });
    } catch (error) {
      await rm(lockPath, { force: true });
      throw explainStartFailure(error, ports);
    }
    const { blobUrl, queueUrl, tableUrl } = azurite;
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, blobUrl, queueUrl, tableUrl }));
    return {
      ...azurite,
      owner: true,
      async close() {
        await azurite.close();
        await rm(lockPath, { force: true });
      },
    };
  }
  throw new Error(`could not claim ${lockPath}: another process keeps replacing it`);
}

function explainStartFailure(error: unknown, ports: AzuriteOptions): Error {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new Error(
      `Azurite could not listen: a port of ${[ports.blobPort, ports.queuePort, ports.tablePort].join('/')} is in use. ` +
        'Stop the other emulator, or set AURORA_AZURITE_BLOB_PORT / _QUEUE_PORT / _TABLE_PORT (0 picks free ports).',
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
