import type { Clock, MesConfig, SecretProvider } from '@aurora/core';
import type { FacilityId } from '@aurora/plant';
import type { MesConnector } from './connector.js';
import { createHydraConnector } from './hydra/connector.js';
import { createRegensburgConnector } from './regensburg/connector.js';
import { createSimaticConnector } from './simatic-it/connector.js';

/**
 * The connectors of every MES whose URL is configured, reading their secrets through `secrets` (Key Vault
 * references in Azure). Facilities without a URL are left out.
 */
export function configuredMesConnectors(
  mes: MesConfig,
  deps: { secrets: SecretProvider; clock: Clock },
): Partial<Record<FacilityId, MesConnector>> {
  const common = { ...deps, timeoutMs: mes.timeoutMs, pageSize: mes.pageSize };
  const out: Partial<Record<FacilityId, MesConnector>> = {};
  if (mes.simatic) {
    out.augsburg = createSimaticConnector({
      ...common,
      baseUrl: mes.simatic.url,
      grant: mes.simatic.grant,
      clientId: mes.simatic.clientId,
      ...(mes.simatic.username ? { username: mes.simatic.username } : {}),
    });
  }
  if (mes.hydra) {
    out.ingolstadt = createHydraConnector({
      ...common,
      baseUrl: mes.hydra.url,
      accessId: mes.hydra.accessId,
    });
  }
  if (mes.regensburg) {
    out.regensburg = createRegensburgConnector({
      ...common,
      baseUrl: mes.regensburg.url,
      username: mes.regensburg.username,
    });
  }
  return out;
}
