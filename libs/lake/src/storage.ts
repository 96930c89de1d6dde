import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { createBlobLake } from './blob-lake.js';
import { createTableClient } from './checkpoints.js';
import type { Lake } from './lake.js';

/** The lake and its state tables (checkpoints, source status), however the storage account is reached. */
export interface StorageClients {
  lake: Lake;
  table(name: string): TableClient;
}

/** Azurite, or an account that still allows shared keys. */
export function storageFromConnectionString(connectionString: string): StorageClients {
  return {
    lake: createBlobLake({ connectionString }),
    table: (name) => createTableClient(connectionString, name),
  };
}

/** Azure with Entra ID (managed identity in the Function Apps): the lake allows no shared keys. */
export function storageFromIdentity(options: {
  blobUrl: string;
  tableUrl: string;
  credential: TokenCredential;
}): StorageClients {
  return {
    lake: createBlobLake({ serviceClient: new BlobServiceClient(options.blobUrl, options.credential) }),
    table: (name) => new TableClient(options.tableUrl, name, options.credential),
  };
}
