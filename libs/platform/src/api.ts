import {
  createTokenVerifier,
  DuckDbGoldReader,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  LocalGateway,
  LocalIssuer,
} from '@aurora/api';
import type { AuroraConfig, Clock, Logger } from '@aurora/core';
import { warehousePath } from '@aurora/engine';
import type { ApiServices } from '@aurora/functions-api/functions';
import type { SourceStatusStore } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { ERP_SOURCE, IOT_SOURCE, mesSource, SAP_SOURCE } from '@aurora/sources';
import { createRemoteJWKSet } from 'jose';

export interface LocalApiOptions {
  config: AuroraConfig;
  clock: Clock;
  log: Logger;
  status: SourceStatusStore;
}

/**
 * The api app's services on a laptop: gold from the warehouse file of the last medallion run, tokens from
 * Aurora's own issuer (or Entra ID when AURORA_API_ISSUER is set), and API Management's limits and cache
 * from a LocalGateway.
 */
export async function localApiServices(options: LocalApiOptions): Promise<ApiServices> {
  const { config, clock, log } = options;
  const issuer = await LocalIssuer.open(config.home, clock);
  const auth = config.api.auth;
  return {
    context: {
      gold: new DuckDbGoldReader({ file: warehousePath(config.home) }),
      clock,
      facilities: catalogue.facilities.map((f) => f.id),
      sourceStatus: options.status,
      knownSources: [IOT_SOURCE, ...catalogue.facilities.map((f) => mesSource(f.id)), SAP_SOURCE, ERP_SOURCE],
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
