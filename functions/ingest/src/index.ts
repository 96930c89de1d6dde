import { createLogger, loadConfig, systemClock } from '@aurora/core';
import {
  createSourceStatusStore,
  ParquetCodec,
  storageFromConnectionString,
  storageFromIdentity,
} from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { registerInAzure } from '@aurora/runtime';
import { DefaultAzureCredential } from '@azure/identity';
import { type IngestDeps, ingestApp } from './functions.js';

/** Composition root for Azure: configuration is read once, on the first invocation. */
let deps: Promise<IngestDeps> | undefined;
const build = async (): Promise<IngestDeps> => {
  const config = loadConfig();
  const storage =
    config.storage.kind === 'azure'
      ? storageFromConnectionString(config.storage.connectionString)
      : config.storage.kind === 'azure-identity'
        ? storageFromIdentity({ ...config.storage, credential: new DefaultAzureCredential() })
        : undefined;
  if (!storage)
    throw new Error(
      'ingest in Azure needs AURORA_LAKE_BLOB_URL and AURORA_LAKE_TABLE_URL (or AURORA_STORAGE_CONNECTION_STRING)',
    );
  return {
    telemetry: {
      lake: storage.lake,
      codec: await ParquetCodec.create(),
      clock: systemClock,
      catalogue,
      log: createLogger({ level: config.logLevel, name: 'ingest' }),
      status: createSourceStatusStore(storage.table('sourcestatus')),
    },
  };
};

registerInAzure(
  ingestApp(() => {
    deps ??= build();
    return deps;
  }),
);
