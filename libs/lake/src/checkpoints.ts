import { AuroraError } from '@aurora/core';
import { RestError, TableClient } from '@azure/data-tables';
import { lazyTable } from './state-table.js';

export interface Checkpoint<T> {
  value: T;
  /** Opaque version; pass it back to `save` to prove nobody moved the checkpoint in between. */
  etag: string;
  updatedAt: Date;
}

export class CheckpointConflictError extends AuroraError {
  constructor(source: string, key: string, cause: unknown) {
    super('checkpoint.conflict', `checkpoint ${source}/${key} was moved by another writer`, {
      cause,
      details: { source, key },
    });
  }
}

/**
 * Positions that say how far a source has been landed (a watermark, an SCN, a cursor, an Event Hubs
 * sequence number), in Azure Table storage, which Azurite and Azure both serve. Saving is optimistic: a
 * save with a stale etag fails, so two runners can never both advance the same checkpoint.
 */
export interface CheckpointStore {
  load<T>(source: string, key: string): Promise<Checkpoint<T> | undefined>;
  /** `expectedEtag` undefined means "must not exist yet". Returns the new etag. */
  save<T>(source: string, key: string, value: T, expectedEtag: string | undefined): Promise<string>;
  list(source: string): Promise<{ key: string; checkpoint: Checkpoint<unknown> }[]>;
}

/** Table, partition and row keys may not contain / \ # ? or control characters. */
const tableKey = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*~%]/g, (c) => `~${c.charCodeAt(0).toString(16)}`);
const fromTableKey = (s: string) =>
  decodeURIComponent(
    s.replace(/~([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
  );

export function createTableClient(connectionString: string, table: string): TableClient {
  return TableClient.fromConnectionString(connectionString, table, {
    allowInsecureConnection: connectionString.includes('http://'),
  });
}

export function createCheckpointStore(client: TableClient): CheckpointStore {
  const ensureTable = lazyTable(client);
  return {
    async load<T>(source: string, key: string) {
      await ensureTable();
      try {
        const entity = await client.getEntity<{ value: string; updatedAt: string }>(
          tableKey(source),
          tableKey(key),
        );
        return {
          value: JSON.parse(entity.value) as T,
          etag: entity.etag,
          updatedAt: new Date(entity.updatedAt),
        };
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
    async save<T>(source: string, key: string, value: T, expectedEtag: string | undefined) {
      await ensureTable();
      const entity = {
        partitionKey: tableKey(source),
        rowKey: tableKey(key),
        value: JSON.stringify(value),
        updatedAt: new Date().toISOString(),
      };
      try {
        const result =
          expectedEtag === undefined
            ? await client.createEntity(entity)
            : await client.updateEntity(entity, 'Replace', { etag: expectedEtag });
        return result.etag ?? '';
      } catch (error) {
        if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) {
          throw new CheckpointConflictError(source, key, error);
        }
        throw error;
      }
    },
    async list(source: string) {
      await ensureTable();
      const out: { key: string; checkpoint: Checkpoint<unknown> }[] = [];
      const filter = `PartitionKey eq '${tableKey(source).replaceAll("'", "''")}'`;
      for await (const e of client.listEntities<{ value: string; updatedAt: string }>({
        queryOptions: { filter },
      })) {
        out.push({
          key: fromTableKey(e.rowKey ?? ''),
          checkpoint: { value: JSON.parse(e.value), etag: e.etag, updatedAt: new Date(e.updatedAt) },
        });
      }
      return out;
    },
  };
}
