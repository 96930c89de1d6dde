import { AuroraError, type AuroraErrorOptions } from '@aurora/core';

/** A file in the lake: `path` starts with its container (`bronze/iot/...`). */
export interface LakeObjectInfo {
  path: string;
  sizeBytes: number;
  lastModified: Date;
  metadata: Record<string, string>;
}

export interface PutOptions {
  metadata?: Record<string, string>;
  contentType?: string;
  /** Replace an existing file; by default a put never overwrites (two writers cannot both win). */
  overwrite?: boolean;
  signal?: AbortSignal;
}

/**
 * The data lake as Aurora uses it: whole files under container-rooted paths. A put is atomic: readers see
 * the complete file or nothing, whatever happens to the writer half-way.
 */
export interface Lake {
  put(
    path: string,
    content: Uint8Array | AsyncIterable<Uint8Array>,
    options?: PutOptions,
  ): Promise<LakeObjectInfo>;
  get(path: string, options?: { signal?: AbortSignal }): Promise<Buffer>;
  stat(path: string, options?: { signal?: AbortSignal }): Promise<LakeObjectInfo | undefined>;
  /** Files under a prefix, in lexical order, directories omitted. */
  list(prefix: string, options?: { signal?: AbortSignal }): AsyncIterable<LakeObjectInfo>;
  delete(path: string, options?: { signal?: AbortSignal }): Promise<void>;
}

/** The metadata key under which every put records the SHA-256 (hex) of the content it committed. */
export const SHA256_METADATA_KEY = 'sha256';

export class LakeConflictError extends AuroraError {
  constructor(path: string, options: AuroraErrorOptions = {}) {
    super('lake.conflict', `${path} already exists`, { ...options, details: { path } });
  }
}

export class LakeNotFoundError extends AuroraError {
  constructor(path: string, options: AuroraErrorOptions = {}) {
    super('lake.not_found', `${path} does not exist`, { ...options, details: { path } });
  }
}

export class LakeUnavailableError extends AuroraError {
  constructor(message: string, options: AuroraErrorOptions = {}) {
    super('lake.unavailable', message, options);
  }
}

/** Splits `bronze/iot/x.parquet` into its container and the blob name inside it. */
export function splitLakePath(path: string): { container: string; name: string } {
  const trimmed = path.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  const container = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const name = slash === -1 ? '' : trimmed.slice(slash + 1);
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container)) {
    throw new AuroraError('usage.invalid', `"${path}" does not start with a container name such as bronze/`);
  }
  if (name.split('/').some((part) => part === '..' || part === '.')) {
    throw new AuroraError('usage.invalid', `"${path}" contains a relative segment`);
  }
  return { container, name };
}
