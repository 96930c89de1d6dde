import { createHash, randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient, RestError } from '@azure/storage-blob';
import {
  type Lake,
  LakeConflictError,
  LakeNotFoundError,
  LakeUnavailableError,
  type PutOptions,
  SHA256_METADATA_KEY,
  splitLakePath,
} from './lake.js';

export interface BlobLakeOptions {
  /** A connection string (Azurite, or a storage account with shared keys), or a ready client (Entra ID). */
  connectionString?: string;
  serviceClient?: BlobServiceClient;
  /** Size of each staged block for large or streamed files. */
  blockSizeBytes?: number;
}

const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024;

/**
 * The lake over the Blob API, which Azurite and ADLS Gen2 (hierarchical namespace) both serve. Atomicity
 * comes from block blobs: staged blocks stay invisible until one Put Block List commits them, so a writer
 * killed half-way leaves nothing a reader can see (uncommitted blocks are garbage-collected after 7 days).
 */
export function createBlobLake(options: BlobLakeOptions): Lake {
  const service =
    options.serviceClient ??
    (options.connectionString ? BlobServiceClient.fromConnectionString(options.connectionString) : undefined);
  if (!service) throw new Error('createBlobLake needs a connectionString or a serviceClient');
  const blockSize = options.blockSizeBytes ?? DEFAULT_BLOCK_SIZE;
  const ready = new Map<string, Promise<ContainerClient>>();

  const container = (name: string): Promise<ContainerClient> => {
    let client = ready.get(name);
    if (!client) {
      const c = service.getContainerClient(name);
      client = c.createIfNotExists().then(() => c);
      client.catch(() => ready.delete(name));
      ready.set(name, client);
    }
    return client;
  };

  const info = (
    path: string,
    size: number,
    lastModified: Date,
    metadata: Record<string, string> | undefined,
  ) => ({
    path,
    sizeBytes: size,
    lastModified,
    metadata: metadata ?? {},
  });

  return {
    async put(path, content, putOptions: PutOptions = {}) {
      const { container: containerName, name } = splitLakePath(path);
      const blob = (await wrap(path, () => container(containerName))).getBlockBlobClient(name);
      const hash = createHash('sha256');
      const conditions = putOptions.overwrite ? {} : { ifNoneMatch: '*' };
      const headers = { blobContentType: putOptions.contentType ?? 'application/octet-stream' };
      const signal = putOptions.signal;
      let size = 0;
      if (content instanceof Uint8Array && content.byteLength <= blockSize) {
        hash.update(content);
        size = content.byteLength;
        const metadata = { ...putOptions.metadata, [SHA256_METADATA_KEY]: hash.digest('hex') };
        const r = await wrap(path, () =>
          blob.upload(content, content.byteLength, {
            metadata,
            conditions,
            blobHTTPHeaders: headers,
            abortSignal: signal,
          }),
        );
        return info(path, size, r.lastModified ?? new Date(), metadata);
      }
      const prefix = randomUUID().replaceAll('-', '');
      const blockIds: string[] = [];
      const stage = async (block: Uint8Array) => {
        const id = Buffer.from(`${prefix}-${String(blockIds.length).padStart(6, '0')}`).toString('base64');
        await wrap(path, () => blob.stageBlock(id, block, block.byteLength, { abortSignal: signal }));
        blockIds.push(id);
      };
      for await (const block of rechunk(content instanceof Uint8Array ? [content] : content, blockSize)) {
        hash.update(block);
        size += block.byteLength;
        await stage(block);
      }
      const metadata = { ...putOptions.metadata, [SHA256_METADATA_KEY]: hash.digest('hex') };
      const r = await wrap(path, () =>
        blob.commitBlockList(blockIds, {
          metadata,
          conditions,
          blobHTTPHeaders: headers,
          abortSignal: signal,
        }),
      );
      return info(path, size, r.lastModified ?? new Date(), metadata);
    },

    async get(path, o = {}) {
      const { container: c, name } = splitLakePath(path);
      return wrap(path, () =>
        service
          .getContainerClient(c)
          .getBlockBlobClient(name)
          .downloadToBuffer(0, undefined, { abortSignal: o.signal }),
      );
    },

    async stat(path, o = {}) {
      const { container: c, name } = splitLakePath(path);
      try {
        const p = await wrap(path, () =>
          service.getContainerClient(c).getBlobClient(name).getProperties({ abortSignal: o.signal }),
        );
        return info(path, p.contentLength ?? 0, p.lastModified ?? new Date(0), p.metadata);
      } catch (error) {
        if (error instanceof LakeNotFoundError) return undefined;
        throw error;
      }
    },

    async *list(prefix, o = {}) {
      const { container: c, name } = splitLakePath(prefix.includes('/') ? prefix : `${prefix}/`);
      const client = service.getContainerClient(c);
      const pages = client
        .listBlobsFlat({ prefix: name, includeMetadata: true, abortSignal: o.signal })
        .byPage({ maxPageSize: 5000 });
      for (;;) {
        let page: Awaited<ReturnType<typeof pages.next>>;
        try {
          page = await wrap(prefix, () => pages.next());
        } catch (error) {
          if (error instanceof LakeNotFoundError) return; // no container yet: nothing under the prefix
          throw error;
        }
        if (page.done) return;
        for (const item of page.value.segment.blobItems) {
          if (item.metadata?.['hdi_isfolder'] === 'true') continue; // HNS directory entries
          yield info(
            `${c}/${item.name}`,
            item.properties.contentLength ?? 0,
            item.properties.lastModified,
            item.metadata,
          );
        }
      }
    },

    async delete(path, o = {}) {
      const { container: c, name } = splitLakePath(path);
      await wrap(path, () =>
        service.getContainerClient(c).getBlobClient(name).deleteIfExists({ abortSignal: o.signal }),
      );
    },
  };
}

/** Maps storage failures onto the lake's error codes once, here. */
async function wrap<T>(path: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof RestError) {
      if (error.statusCode === 409 || error.statusCode === 412)
        throw new LakeConflictError(path, { cause: error });
      if (error.statusCode === 404) throw new LakeNotFoundError(path, { cause: error });
      if (
        error.statusCode === undefined ||
        error.statusCode >= 500 ||
        error.statusCode === 408 ||
        error.statusCode === 429
      ) {
        throw new LakeUnavailableError(`lake unavailable for ${path}: ${error.message}`, { cause: error });
      }
    }
    if (error instanceof Error && error.name === 'AbortError') throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
      throw new LakeUnavailableError(`lake unavailable for ${path}: ${code}`, { cause: error });
    }
    throw error;
  }
}

async function* rechunk(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
): AsyncIterable<Uint8Array> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(size - pendingBytes, chunk.byteLength - offset);
      pending.push(Buffer.from(chunk.buffer, chunk.byteOffset + offset, take));
      pendingBytes += take;
      offset += take;
      if (pendingBytes === size) {
        yield Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
