import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type AzuriteInternals, keepTablesBehindBlobs } from './durable-acks.js';

/*
 * Azurite has no supported in-process API (its package main is the VS Code extension), so its servers are
 * loaded from their dist modules. That is why the azurite version is pinned exactly in package.json.
 * This path never initialises Azurite's telemetry client: only its CLI entry point does.
 */
const require = createRequire(import.meta.url);

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type ServerClass = new (config: unknown) => AzuriteServer;
type ConfigClass = new (...args: unknown[]) => unknown;

const dist = 'azurite/dist/src';
const load = <T>(path: string): T => (require(`${dist}/${path}`) as { default: T }).default;
const BlobServer = load<ServerClass>('blob/BlobServer');
const BlobConfiguration = load<ConfigClass>('blob/BlobConfiguration');
const QueueServer = load<ServerClass>('queue/QueueServer');
const QueueConfiguration = load<ConfigClass>('queue/QueueConfiguration');
const TableServer = load<ServerClass>('table/TableServer');
const TableConfiguration = load<ConfigClass>('table/TableConfiguration');
const { MemoryExtentChunkStore } = require(`${dist}/common/persistence/MemoryExtentStore`) as {
  MemoryExtentChunkStore: new (limitBytes: number) => unknown;
};
const { EMULATOR_ACCOUNT_KEY_STR, EMULATOR_ACCOUNT_NAME } = require(`${dist}/blob/utils/constants`) as {
  EMULATOR_ACCOUNT_KEY_STR: string;
  EMULATOR_ACCOUNT_NAME: string;
};

export interface AzuriteOptions {
  /** Directory for persistent data; omit for an in-memory emulator (tests). */
  location?: string;
  host?: string;
  /** 0 picks a free port. */
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** In-memory extent limit in MiB. */
  memoryLimitMiB?: number;
}

export interface RunningAzurite {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  connectionString: string;
  close(): Promise<void>;
}

export const emulatorAccount = { name: EMULATOR_ACCOUNT_NAME, key: EMULATOR_ACCOUNT_KEY_STR } as const;

/** The connection string for an Azurite whose endpoints are known. */
export function azuriteConnectionString(urls: {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
}): string {
  const account = emulatorAccount.name;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${account}`,
    `AccountKey=${emulatorAccount.key}`,
    `BlobEndpoint=${urls.blobUrl}/${account}`,
    `QueueEndpoint=${urls.queueUrl}/${account}`,
    `TableEndpoint=${urls.tableUrl}/${account}`,
  ].join(';');
}

/**
 * Starts Azurite's blob, queue and table services in this process: loose mode, API version check off (the
 * SDKs may be newer than the emulator), no telemetry, no access log. A persistent one acknowledges a table
 * write only once it and every blob write before it are saved (durable-acks.ts): a process killed at any
 * moment never comes back with a checkpoint ahead of the files it covers.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const host = options.host ?? '127.0.0.1';
  const inMemory = options.location === undefined;
  const location = options.location ?? '';
  if (!inMemory) await mkdir(location, { recursive: true });
  const memoryBytes = (options.memoryLimitMiB ?? 1024) * 1024 * 1024;
  const at = (file: string) => (inMemory ? ':memory:' : join(location, file));
  const persistence = (dir: string) => [{ locationId: 'Default', locationPath: at(dir), maxConcurrency: 10 }];
  const common = (port: number | undefined) => [host, port ?? 0, undefined];
  const tail = [true, true, '', '', '', undefined, false, inMemory];

  const blob = new BlobServer(
    new BlobConfiguration(
      ...common(options.blobPort),
      at('__azurite_db_blob__.json'),
      at('__azurite_db_blob_extent__.json'),
      persistence('__blobstorage__'),
      false,
      undefined,
      false,
      undefined,
      ...tail,
      inMemory ? new MemoryExtentChunkStore(memoryBytes) : undefined,
    ),
  );
  const queue = new QueueServer(
    new QueueConfiguration(
      ...common(options.queuePort),
      at('__azurite_db_queue__.json'),
      at('__azurite_db_queue_extent__.json'),
      persistence('__queuestorage__'),
      false,
      undefined,
      false,
      undefined,
      ...tail,
      inMemory ? new MemoryExtentChunkStore(memoryBytes / 4) : undefined,
    ),
  );
  const table = new TableServer(
    new TableConfiguration(
      ...common(options.tablePort),
      at('__azurite_db_table__.json'),
      false,
      false,
      undefined,
      undefined,
      ...tail,
    ),
  );

  const servers = [blob, queue, table];
  const started: AzuriteServer[] = [];
  try {
    for (const server of servers) {
      await server.start();
      started.push(server);
    }
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw error;
  }
  // Only once started: each server loads its databases from disk at start, and a save chained in before
  // that would write an empty extent database over the one on disk.
  if (!inMemory) {
    const internals = (server: unknown) => server as AzuriteInternals;
    keepTablesBehindBlobs({ blob: internals(blob), queue: internals(queue), table: internals(table) });
  }
  const urls = {
    blobUrl: blob.getHttpServerAddress(),
    queueUrl: queue.getHttpServerAddress(),
    tableUrl: table.getHttpServerAddress(),
  };
  let closed = false;
  return {
    ...urls,
    connectionString: azuriteConnectionString(urls),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled(servers.map((s) => s.close()));
      if (inMemory) await Promise.allSettled(servers.map((s) => s.clean()));
    },
  };
}
