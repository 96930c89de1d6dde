import { openLocalStorage } from '@aurora/azurite';
import type { AuroraConfig } from '@aurora/core';
import { type StorageClients, storageFromConnectionString } from '@aurora/lake';

export interface PlatformStorage extends StorageClients {
  /** Where the lake is, for people: an Azurite blob URL or the account's endpoint. */
  description: string;
  close(): Promise<void>;
}

/**
 * The platform's storage for a configuration: a real account when one is configured, otherwise the
 * Azurite of AURORA_HOME (joined if another Aurora process already runs it). `ports: 'ephemeral'` lets
 * one-shot commands start their own emulator without taking the well-known ports.
 */
export async function openStorage(
  config: AuroraConfig,
  ports: 'configured' | 'ephemeral',
): Promise<PlatformStorage> {
  if (config.storage.kind === 'azure') {
    return {
      ...storageFromConnectionString(config.storage.connectionString),
      description: 'Azure Storage (connection string)',
      close: async () => {},
    };
  }
  if (config.storage.kind === 'azure-identity') {
    throw new Error(
      'the local platform reaches Azure storage through AURORA_STORAGE_CONNECTION_STRING; unset AURORA_LAKE_BLOB_URL/AURORA_LAKE_TABLE_URL',
    );
  }
  const local = await openLocalStorage(
    config.home,
    ports === 'configured' ? config.storage : { blobPort: 0, queuePort: 0, tablePort: 0 },
  );
  return {
    ...storageFromConnectionString(local.connectionString),
    description: `Azurite ${local.blobUrl} (data in ${config.home}/azurite${local.owner ? '' : ', shared with a running aurora'})`,
    close: () => local.close(),
  };
}
