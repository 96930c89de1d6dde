import { createLogger, loadConfig, secretsFromConfig, systemClock } from '@aurora/core';
import {
  createCheckpointStore,
  createSourceStatusStore,
  ParquetCodec,
  storageFromConnectionString,
  storageFromIdentity,
} from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { openPrivacy } from '@aurora/privacy';
import { registerInAzure } from '@aurora/runtime';
import {
  configuredMesConnectors,
  createOracledbSessionFactory,
  DEFAULT_ERP_TABLES,
  parseErpTables,
} from '@aurora/sources';
import { DefaultAzureCredential } from '@azure/identity';
import { type IngestDeps, ingestApp } from './functions.js';

/** Composition root for Azure: configuration is read once, on the first invocation. */
let deps: Promise<IngestDeps> | undefined;
const build = async (): Promise<IngestDeps> => {
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
      'ingest in Azure needs AURORA_LAKE_BLOB_URL and AURORA_LAKE_TABLE_URL (or AURORA_STORAGE_CONNECTION_STRING)',
    );
  const codec = await ParquetCodec.create();
  const log = createLogger({ level: config.logLevel, name: 'ingest' });
  const status = createSourceStatusStore(storage.table('sourcestatus'));
  // Key Vault when AURORA_KEY_VAULT_URL is set (rotation picked up within AURORA_SECRETS_TTL_S), else app settings.
  const secrets = await secretsFromConfig(config, { clock: systemClock, log });
  // The ERP lands personal data: sealed with data keys wrapped by the Key Vault KEK, never a local key file.
  if (config.erp.oracle && !config.privacy.kekUrl)
    throw new Error(
      'ingest lands ERP personal data and needs AURORA_PRIVACY_KEK (the Key Vault key that wraps the data keys)',
    );
  const privacy = config.erp.oracle
    ? await openPrivacy(config, storage, systemClock, { credential, secrets })
    : undefined;
  return {
    telemetry: { lake: storage.lake, codec, clock: systemClock, catalogue, log, status },
    mes: {
      ingestion: {
        lake: storage.lake,
        codec,
        checkpoints: createCheckpointStore(storage.table('checkpoints')),
        status,
        clock: systemClock,
        log,
        overlapMs: config.mes.overlapMs,
        initialLookbackMs: config.mes.initialLookbackMs,
        retryDelaysMs: config.retryDelaysMs,
      },
      connectors: configuredMesConnectors(config.mes, { secrets, clock: systemClock }),
    },
    erp: {
      ingestion:
        config.erp.oracle && privacy
          ? {
              lake: storage.lake,
              checkpoints: createCheckpointStore(storage.table('checkpoints')),
              status,
              clock: systemClock,
              log,
              sealer: privacy.ring,
              connect: createOracledbSessionFactory({
                ...config.erp.oracle,
                // Infra's Key Vault reference (SOURCE_SECRETS): AURORA_ORACLE_ERP_PASSWORD.
                password: () => secrets.get('oracle-erp-password'),
              }),
              tables: config.erp.tables ? parseErpTables(config.erp.tables) : DEFAULT_ERP_TABLES,
              timeZone: config.erp.timeZone,
              snapshotLookbackS: config.erp.snapshotLookbackS,
              watermarkLookbackS: config.erp.watermarkLookbackS,
              chunkRows: config.erp.chunkRows,
              retryDelaysMs: config.retryDelaysMs,
            }
          : undefined,
    },
  };
};

registerInAzure(
  ingestApp(() => {
    deps ??= build();
    return deps;
  }),
);
