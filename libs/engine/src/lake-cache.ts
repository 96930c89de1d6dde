import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Lake, LakeObjectInfo } from '@aurora/lake';

export interface CachedFile {
  /** The lake path, e.g. `bronze/mes/augsburg/production_orders/.../x.parquet`. */
  path: string;
  /** Where the bytes are on this machine. */
  local: string;
  size: number;
}

export interface SyncReport {
  files: CachedFile[];
  downloaded: number;
  bytesDownloaded: number;
}

/**
 * Mirrors the lake files under `prefix` into a local folder so that DuckDB can scan them (Azurite has no
 * endpoint DuckDB's azure extension speaks, and the extension cannot be installed offline). Bronze files
 * are immutable (never overwritten), so a file already cached with the same size is not fetched again.
 */
export async function syncToCache(
  lake: Lake,
  prefix: string,
  cacheDir: string,
  options: {
    include?: (info: LakeObjectInfo) => boolean;
    concurrency?: number;
    signal?: AbortSignal;
    onProgress?: (done: number) => void;
  } = {},
): Promise<SyncReport> {
  const listed: LakeObjectInfo[] = [];
  for await (const info of lake.list(prefix, options.signal ? { signal: options.signal } : {})) {
    if (!options.include || options.include(info)) listed.push(info);
  }
  let downloaded = 0;
  let bytesDownloaded = 0;
  let next = 0;
  const files: CachedFile[] = new Array(listed.length);
  const worker = async () => {
    while (next < listed.length) {
      const index = next++;
      const info = listed[index]!;
      const local = join(cacheDir, ...info.path.split('/'));
      const cached = await stat(local).catch(() => undefined);
      if (!cached || cached.size !== info.sizeBytes) {
        const bytes = await lake.get(info.path, options.signal ? { signal: options.signal } : {});
        await mkdir(dirname(local), { recursive: true });
        // Written beside and renamed, so a crash never leaves a half file that looks cached.
        const partial = `${local}.partial`;
        await writeFile(partial, bytes);
        await rename(partial, local);
        downloaded++;
        bytesDownloaded += bytes.byteLength;
        if (downloaded % 100 === 0) options.onProgress?.(downloaded);
      }
      files[index] = { path: info.path, local, size: info.sizeBytes };
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, listed.length) }, worker));
  return { files, downloaded, bytesDownloaded };
}
