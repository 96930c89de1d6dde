import {
  createTokenVerifier,
  DuckDbGoldReader,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  LocalGateway,
  LocalIssuer,
  openApiPrivacy,
} from '@aurora/api';
import type { AuroraConfig, Clock, Logger } from '@aurora/core';
import { warehousePath } from '@aurora/engine';
import type { ApiServices } from '@aurora/functions-api/functions';
import type { SourceStatusStore, StorageClients } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { ERP_SOURCE, IOT_SOURCE, mesSource, SAP_SOURCE } from '@aurora/sources';
import { createRemoteJWKSet } from 'jose';

export interface LocalApiOptions {
  config: AuroraConfig;
  clock: Clock;
  log: Logger;
  status: SourceStatusStore;
  /** The lake (privacy requests, certificates, the audit log) and the key table of personal data. */
  storage: StorageClients;
}

/** Every source the local platform lands, expected in `aurora status` and GET freshness before its first run. */
export const LOCAL_SOURCES: readonly string[] = [
  IOT_SOURCE,
  ...catalogue.facilities.map((f) => mesSource(f.id)),
  SAP_SOURCE,
  ERP_SOURCE,
];

/** The api app's services, built on its first request, and what closes them with the platform. */
export interface LocalApi {
  services(): Promise<ApiServices>;
  /** Closes the gold reader (its DuckDB instance on the warehouse file), if the services were built. */
  close(): Promise<void>;
}

export function localApi(options: LocalApiOptions): LocalApi {
  let built: Promise<ApiServices> | undefined;
  return {
    services: () => {
      built = localApiServices(options);
      return built;
    },
    close: async () => {
      const services = await built?.catch(() => undefined);
      built = undefined;
      await services?.context.gold.close();
    },
  };
}

/**
 * The api app's services on a laptop: gold from the warehouse file of the last medallion run, tokens from
 * Aurora's own issuer (or Entra ID when AURORA_API_ISSUER is set), personal data opened with the local
 * key file's KEK (Guardian searching silver and gold of the same warehouse file), and API Management's
 * limits and cache from a LocalGateway.
 */
export async function localApiServices(options: LocalApiOptions): Promise<ApiServices> {
  const { config, clock, log, storage } = options;
  const issuer = await LocalIssuer.open(config.home, clock);
  const auth = config.api.auth;
  const gold = new DuckDbGoldReader({ file: warehousePath(config.home) });
  return {
    context: {
      gold,
      privacy: await openApiPrivacy({ config, storage, clock, gold }),
      clock,
      facilities: catalogue.facilities.map((f) => f.id),
      sourceStatus: options.status,
      knownSources: LOCAL_SOURCES,
      iotSlaS: config.iot.slaS,
    },
    verify: createTokenVerifier({
      issuer: auth?.issuer ?? LOCAL_ISSUER,
      audience: auth?.audience ?? LOCAL_AUDIENCE,
      keys: auth ? createRemoteJWKSet(new URL(auth.jwksUrl)) : issuer.keys(),
      clock,
      facilityClaim: config.api.facilityClaim,
    }),
    log: log.child({ app: 'api' }),
    gateway: new LocalGateway({ clock, ...config.api.gateway }),
    issuer,
  };
}
