import { createLogger, loadConfig, secretsFromConfig, systemClock } from '@aurora/core';
import {
  createCheckpointStore,
  createSourceStatusStore,
  ParquetCodec,
  storageFromConnectionString,
  storageFromIdentity,
} from '@aurora/lake';
import { openPrivacy } from '@aurora/privacy';
import { registerInAzure } from '@aurora/runtime';
import { createNodeRfcPool } from '@aurora/sources';
import { DefaultAzureCredential } from '@azure/identity';
import { type SapDeps, sapApp } from './functions.js';
import { importNodeRfc } from './node-rfc.js';

/** Composition root for Azure: configuration is read, and node-rfc loaded, on the first invocation. */
let deps: Promise<SapDeps> | undefined;
const build = async (): Promise<SapDeps> => {
  const config = loadConfig();
  const credential = new DefaultAzureCredential();
  const storage =
    config.storage.kind === 'azure'
      ? storageFromConnectionString(config.storage.connectionString)
      : config.storage.kind === 'azure-identity'
        ? storageFromIdentity({ ...config.storage, credential })
        : undefined;
  if (!storage)
    throw new Error(
      'sap in Azure needs AURORA_LAKE_BLOB_URL and AURORA_LAKE_TABLE_URL (or AURORA_STORAGE_CONNECTION_STRING)',
    );
  const log = createLogger({ level: config.logLevel, name: 'sap' });
  // Key Vault when AURORA_KEY_VAULT_URL is set, else app settings (AURORA_SAP_RFC_PASSWORD).
  const secrets = await secretsFromConfig(config, { clock: systemClock, log });
  // SAP's supplier contacts and user ids are personal data: sealed with data keys wrapped by the Key
  // Vault KEK, never a local key file.
  if (!config.privacy.kekUrl)
    throw new Error(
      'sap lands personal data and needs AURORA_PRIVACY_KEK (the Key Vault key that wraps the data keys)',
    );
  const privacy = await openPrivacy(config, storage, systemClock, { credential, secrets });
  const pool = config.sap.connection
    ? await createNodeRfcPool(config.sap, { secrets, importNodeRfc })
    : undefined;
  return {
    ingestion: {
      lake: storage.lake,
      codec: await ParquetCodec.create(),
      checkpoints: createCheckpointStore(storage.table('checkpoints')),
      status: createSourceStatusStore(storage.table('sourcestatus')),
      clock: systemClock,
      log,
      sealer: privacy.ring,
      goodsMovementLookbackDays: config.sap.goodsMovementLookbackDays,
      initialLookbackDays: config.sap.initialLookbackDays,
      timeoutS: config.sap.timeoutS,
      concurrency: config.sap.pool.high,
      retryDelaysMs: config.retryDelaysMs,
    },
    pool,
  };
};

registerInAzure(
  sapApp(() => {
    deps ??= build();
    return deps;
  }),
);
