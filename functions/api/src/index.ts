import { createTokenVerifier, openApiPrivacy, SynapseGoldReader } from '@aurora/api';
import { ConfigError, createLogger, loadConfig, secretsFromConfig, systemClock } from '@aurora/core';
import { createSourceStatusStore, storageFromConnectionString, storageFromIdentity } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { registerInAzure } from '@aurora/runtime';
import { DefaultAzureCredential } from '@azure/identity';
import { createRemoteJWKSet } from 'jose';
import { type ApiServices, apiApp } from './functions.js';

/**
 * Composition root for Azure, built on the first request: gold from the Synapse dedicated SQL pool (the
 * app's managed identity), tokens from Entra ID (issuer, audience and JWKS from AURORA_API_*), freshness
 * from the source status table, personal data opened with the Key Vault KEK (AURORA_PRIVACY_KEK; the
 * subject-index key from the secret provider) and Guardian searching the pool (gold only). Rate limits
 * and the GET cache are API Management's.
 */
const services = async (): Promise<ApiServices> => {
  const config = loadConfig();
  const missing = [
    ...(config.synapse.pool
      ? []
      : [{ variable: 'AURORA_SYNAPSE_SQL_SERVER', problem: 'the api reads gold from the Synapse pool' }]),
    ...(config.api.auth
      ? []
      : [{ variable: 'AURORA_API_ISSUER', problem: 'the api in Azure verifies Entra ID tokens' }]),
  ];
  if (missing.length > 0)
    throw new ConfigError(
      `invalid configuration:\n${missing.map((m) => `  ${m.variable}: ${m.problem}`).join('\n')}`,
      missing,
    );
  const credential = new DefaultAzureCredential();
  const storage =
    config.storage.kind === 'azure'
      ? storageFromConnectionString(config.storage.connectionString)
      : config.storage.kind === 'azure-identity'
        ? storageFromIdentity({ ...config.storage, credential })
        : undefined;
  if (!storage) throw new Error('the api in Azure needs AURORA_LAKE_BLOB_URL and AURORA_LAKE_TABLE_URL');
  const auth = config.api.auth!;
  const pool = config.synapse.pool!;
  const log = createLogger({ level: config.logLevel, name: 'api' });
  const gold = SynapseGoldReader.fromOptions({ server: pool.server, database: pool.database, credential });
  const secrets = await secretsFromConfig(config, { credential, clock: systemClock, log });
  return {
    context: {
      gold,
      privacy: await openApiPrivacy({
        config,
        storage,
        clock: systemClock,
        gold,
        azure: { credential, secrets },
      }),
      clock: systemClock,
      facilities: catalogue.facilities.map((f) => f.id),
      sourceStatus: createSourceStatusStore(storage.table('sourcestatus')),
      knownSources: ['iot', ...catalogue.facilities.map((f) => `mes-${f.id}`), 'sap', 'oracle-erp'],
      iotSlaS: config.iot.slaS,
    },
    verify: createTokenVerifier({
      issuer: auth.issuer,
      audience: auth.audience,
      keys: createRemoteJWKSet(new URL(auth.jwksUrl)),
      clock: systemClock,
      facilityClaim: config.api.facilityClaim,
    }),
    log,
  };
};

registerInAzure(apiApp({ clock: systemClock, version: process.env['AURORA_VERSION'] ?? 'dev', services }));
