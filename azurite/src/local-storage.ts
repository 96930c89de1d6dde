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

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
  for (let attempt = 0; attempt < 3; attempt++) {
    const lock = await readLock(lockPath);
    if (lock && lock.pid !== process.pid && isAlive(lock.pid)) {
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
