import { type AuroraConfig, type Clock, secretsFromConfig, staticSecrets, systemClock } from '@aurora/core';
import {
  type FacilityId,
  type MesDataSource,
  type MesStandIn,
  startHydraStandIn,
  startRegensburgStandIn,
  startSimaticStandIn,
} from '@aurora/plant';
import {
  configuredMesConnectors,
  createHydraConnector,
  createRegensburgConnector,
  createSimaticConnector,
  type MesConnector,
} from '@aurora/sources';

export interface LocalMes {
  connectors: Partial<Record<FacilityId, MesConnector>>;
  standIns: Map<FacilityId, MesStandIn>;
  close(): Promise<void>;
}

/**
 * Each facility's MES connector: pointed at the real MES when its URL is configured (secrets from Key
 * Vault, else the environment and $AURORA_HOME/secrets.json: see secretsFromConfig), else, when
 * simulating, at a stand-in on loopback serving the plant model, else none (its timer then fails naming
 * the variable to set).
 */
export async function openMes(options: {
  config: AuroraConfig;
  plant: MesDataSource;
  clock: Clock;
}): Promise<LocalMes> {
  const { config, plant, clock } = options;
  // The secrets cache runs on wall time whatever the plant's clock does: its TTL is about Key Vault.
  const secrets = await secretsFromConfig(config, { clock: systemClock });
  const connectors = configuredMesConnectors(config.mes, { secrets, clock });
  const standIns = new Map<FacilityId, MesStandIn>();
  const common = { clock, timeoutMs: config.mes.timeoutMs, pageSize: config.mes.pageSize };
  const close = async () => {
    await Promise.all([...standIns.values()].map((s) => s.close()));
  };
  if (!config.simulate) return { connectors, standIns, close };
  try {
    if (!connectors.augsburg) {
      const standIn = await startSimaticStandIn({ data: plant, clock });
      standIns.set('augsburg', standIn);
      connectors.augsburg = createSimaticConnector({
        ...common,
        baseUrl: standIn.url,
        secrets: staticSecrets(standIn.credentials),
        grant: 'password',
        clientId: standIn.credentials['clientId']!,
        username: standIn.credentials['username']!,
      });
    }
    if (!connectors.ingolstadt) {
      const standIn = await startHydraStandIn({ data: plant, clock });
      standIns.set('ingolstadt', standIn);
      connectors.ingolstadt = createHydraConnector({
        ...common,
        baseUrl: standIn.url,
        secrets: staticSecrets(standIn.credentials),
        accessId: standIn.credentials['accessId']!,
      });
    }
    if (!connectors.regensburg) {
      const standIn = await startRegensburgStandIn({ data: plant, clock });
      standIns.set('regensburg', standIn);
      connectors.regensburg = createRegensburgConnector({
        ...common,
        baseUrl: standIn.url,
        secrets: staticSecrets(standIn.credentials),
        username: standIn.credentials['username']!,
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { connectors, standIns, close };
}
