import { type AuroraConfig, type Clock, secretsFromConfig, systemClock } from '@aurora/core';
import { importNodeRfc, type SapDeps } from '@aurora/functions-sap/functions';
import { type PlantModel, ProcurementModel, SapRfcStandIn } from '@aurora/plant';
import { createNodeRfcPool, type RfcPool, type SapIngestionReport } from '@aurora/sources';

export interface LocalSap {
  /** The pool the sap timers use: node-rfc when AURORA_SAP_* is set, else the stand-in's (when simulating). */
  pool: RfcPool | undefined;
  /** The RFC stand-in, when it answers instead of a real SAP. */
  standIn?: SapRfcStandIn;
  /** Every SAP report since the platform opened, oldest first. */
  reports: SapIngestionReport[];
  onReport: NonNullable<SapDeps['onReport']>;
  close(): Promise<void>;
}

/**
 * SAP for the local platform: the configured system through node-rfc (loaded only then; secrets from Key
 * Vault or the environment), else, when simulating, the in-process RFC stand-in serving the procurement
 * model of the same plant the MES stand-ins serve, as of the plant's clock.
 */
export async function openSap(options: {
  config: AuroraConfig;
  plant: PlantModel;
  clock: Clock;
}): Promise<LocalSap> {
  const { config, plant, clock } = options;
  const reports: SapIngestionReport[] = [];
  const onReport = (report: SapIngestionReport) => void reports.push(report);
  if (config.sap.connection) {
    const secrets = await secretsFromConfig(config, { clock: systemClock });
    const pool = await createNodeRfcPool(config.sap, { secrets, importNodeRfc });
    return { pool, reports, onReport, close: async () => void (await pool.closeAll()) };
  }
  if (!config.simulate) return { pool: undefined, reports, onReport, close: async () => {} };
  const standIn = new SapRfcStandIn({ data: new ProcurementModel(plant), clock });
  const pool = standIn.pool(
    { user: standIn.credentials['user']!, passwd: standIn.credentials['sap-rfc-password']! },
    config.sap.pool,
  );
  return { pool, standIn, reports, onReport, close: () => pool.closeAll() };
}
