import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** The part of a LokiJS database Azurite keeps its metadata in that durability needs. */
interface LokiDb {
  saveDatabase(callback?: (error?: unknown) => void): void;
}

/** What a persistent Azurite server holds, as far as its metadata databases go (Azurite internals). */
export interface AzuriteInternals {
  httpServer: Server;
  metadataStore?: { db?: LokiDb };
  extentMetadataStore?: { db?: LokiDb };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

const save = (db: LokiDb) =>
  new Promise<void>((resolve, reject) => db.saveDatabase((error) => (error ? reject(error) : resolve())));

const metadataDb = (server: AzuriteInternals): LokiDb => {
  const db = server.metadataStore?.db;
  if (!db)
    throw new Error('Azurite internals changed: no metadataStore.db (check the pinned azurite version)');
  return db;
};

/**
 * Makes a persistent Azurite's table store never run ahead of its blob store across a crash.
 *
 * Azurite keeps its metadata (blobs, the extents their bytes live in, table entities) in LokiJS databases
 * that each save themselves every 5 s on their own timer. A process killed in between forgot writes it had
 * acknowledged, and its databases came back from different moments: a checkpoint in the table store that
 * had moved past a bronze file the blob store lost, or a blob whose extent was unknown. Aurora's rule is
 * that a checkpoint moves only after the data it covers is durable, so here:
 * - a write to the table service (checkpoints, source status, keys) is answered only after the blob
 *   database, then the table database, were saved: it and every blob write acknowledged before it survive;
 * - the blob (and queue) database always saves its extent database first, so nothing saved refers to
 *   extents that were not.
 * Blob writes themselves keep Azurite's 5 s saves: one that no checkpoint covers yet may be lost, and is
 * landed again by the run that repeats its window. (Saving on every blob write would cost a save of the
 * whole blob database per file, which grows with the lake.) LokiJS coalesces concurrent saves, and a save
 * asked for after a change includes it.
 */
export function keepTablesBehindBlobs(servers: {
  blob: AzuriteInternals;
  queue: AzuriteInternals;
  table: AzuriteInternals;
}): void {
  const blobDb = savingExtentsFirst(servers.blob);
  savingExtentsFirst(servers.queue);
  const tableDb = metadataDb(servers.table);
  holdWrites(servers.table.httpServer, async () => {
    await save(blobDb);
    await save(tableDb);
  });
}

/** The server's metadata database, made to save its extent database before itself. */
function savingExtentsFirst(server: AzuriteInternals): LokiDb {
  const db = metadataDb(server);
  const extents = server.extentMetadataStore?.db;
  if (extents) {
    const saveOwn = db.saveDatabase.bind(db);
    db.saveDatabase = (callback) =>
      extents.saveDatabase((error) => (error ? callback?.(error) : saveOwn(callback)));
  }
  return db;
}

/** Answers every request that may change something only once `durable` resolved after the handler ran. */
function holdWrites(httpServer: Server, durable: () => Promise<void>): void {
  const listeners = httpServer.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  if (listeners.length !== 1)
    throw new Error(`Azurite internals changed: ${listeners.length} request listeners`);
  const handle = listeners[0]!;
  httpServer.removeAllListeners('request');
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!READS.has(req.method ?? 'GET')) holdResponseUntil(res, durable);
    handle(req, res);
  });
}

/**
 * Keeps what the handler writes until it ends the response, then waits for `durable`, then sends it: the
 * client sees neither status nor body of a write that is not yet durable. A failed save resets the
 * connection, which the client retries like any transient storage error.
 */
function holdResponseUntil(res: ServerResponse, durable: () => Promise<void>): void {
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const held: unknown[][] = [];
  res.write = ((...args: unknown[]) => {
    // A handler waiting for its write callback before it ends the response must not wait for the save.
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      args.pop();
      process.nextTick(callback as () => void);
    }
    held.push(args);
    return true;
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    durable().then(
      () => {
        res.write = write as ServerResponse['write'];
        res.end = end as ServerResponse['end'];
        for (const args of held) write(...args);
        end(...args);
      },
      (error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return res;
  }) as ServerResponse['end'];
}
