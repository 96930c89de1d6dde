import { lazyTable } from '@aurora/lake';
import type { TableClient } from '@azure/data-tables';
import type { WrappedKey } from './kek.js';

/** One data subject's key as the key table keeps it: wrapped while active, gone once destroyed. */
export type KeyRecord =
  | { keyId: string; state: 'active'; key: WrappedKey; createdAt: Date }
  | { keyId: string; state: 'destroyed'; destroyedAt: Date; requestId: string };

/**
 * The wrapped data keys, one per data subject, keyed by the pseudonymous key id (no subject ids, no
 * personal data). Azure Table Storage in the lake's account (table `privacykeys`): Table Storage has
 * no versioning or soft delete, so a destroyed key is gone for good — which is what crypto-shredding
 * needs. A destroyed key leaves a tombstone, so that landing knows the subject asked to be forgotten.
 */
export interface KeyTable {
  get(keyId: string): Promise<KeyRecord | undefined>;
  /** Adds an active key unless the id exists (another writer won the race): then returns false. */
  create(keyId: string, key: WrappedKey, createdAt: Date): Promise<boolean>;
  /** Replaces the key (if any) by a tombstone; true when there was an active key to destroy. */
  destroy(keyId: string, tombstone: { requestId: string; at: Date }): Promise<boolean>;
  destroyedKeyIds(): Promise<string[]>;
}

const PARTITION = 'subject';

interface KeyEntity {
  partitionKey: string;
  rowKey: string;
  state: 'active' | 'destroyed';
  kekId?: string;
  wrappedKey?: string;
  createdAt?: string;
  destroyedAt?: string;
  requestId?: string;
}

const status = (error: unknown) => (error as { statusCode?: number }).statusCode;

export function tableKeyTable(client: TableClient): KeyTable {
  const ready = lazyTable(client);
  return {
    async get(keyId) {
      await ready();
      let entity: KeyEntity;
      try {
        entity = await client.getEntity<KeyEntity>(PARTITION, keyId);
      } catch (error) {
        if (status(error) === 404) return undefined;
        throw error;
      }
      if (entity.state === 'destroyed')
        return {
          keyId,
          state: 'destroyed',
          destroyedAt: new Date(entity.destroyedAt ?? 0),
          requestId: entity.requestId ?? '',
        };
      return {
        keyId,
        state: 'active',
        key: { kekId: entity.kekId ?? '', wrapped: Buffer.from(entity.wrappedKey ?? '', 'base64') },
        createdAt: new Date(entity.createdAt ?? 0),
      };
    },
    async create(keyId, key, createdAt) {
      await ready();
      try {
        await client.createEntity<KeyEntity>({
          partitionKey: PARTITION,
          rowKey: keyId,
          state: 'active',
          kekId: key.kekId,
          wrappedKey: key.wrapped.toString('base64'),
          createdAt: createdAt.toISOString(),
        });
        return true;
      } catch (error) {
        if (status(error) === 409) return false;
        throw error;
      }
    },
    async destroy(keyId, tombstone) {
      await ready();
      const before = await this.get(keyId);
      // Replace, not merge: the wrapped key must not survive as a stale property.
      await client.upsertEntity<KeyEntity>(
        {
          partitionKey: PARTITION,
          rowKey: keyId,
          state: 'destroyed',
          destroyedAt: tombstone.at.toISOString(),
          requestId: tombstone.requestId,
        },
        'Replace',
      );
      return before?.state === 'active';
    },
    async destroyedKeyIds() {
      await ready();
      const ids: string[] = [];
      const entities = client.listEntities<KeyEntity>({
        queryOptions: {
          filter: `PartitionKey eq '${PARTITION}' and state eq 'destroyed'`,
          select: ['RowKey'],
        },
      });
      for await (const entity of entities) ids.push(entity.rowKey);
      return ids.sort();
    },
  };
}
