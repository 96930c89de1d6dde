import { type AuroraConfig, type Clock, secretsFromConfig, systemClock } from '@aurora/core';
import { ErpModel, type PlantModel } from '@aurora/plant';
import {
  createOracledbSessionFactory,
  DEFAULT_ERP_TABLES,
  ErpStandIn,
  type ErpTableConfig,
  type OracleSessionFactory,
  parseErpTables,
} from '@aurora/sources';

export interface LocalErp {
  /** How the ERP timer reaches the database; undefined when neither configured nor simulated. */
  connect: OracleSessionFactory | undefined;
  tables: readonly ErpTableConfig[];
  /** The stand-in, when the ERP is simulated. */
  standIn: ErpStandIn | undefined;
  close(): Promise<void>;
}

/**
 * The Oracle ERP the local platform reads: the real one when AURORA_ERP_CONNECT_STRING is set (password
 * from the secret `oracle-erp-password`), else, when simulating, the ERP stand-in on the plant model,
 * whose clock is the plant's (its history reaches back as far as the MES stand-ins'). The stand-in
 * answers as the configured AURORA_ERP_DB_VERSION.
 */
export async function openErp(options: {
  config: AuroraConfig;
  plant: PlantModel;
  clock: Clock;
}): Promise<LocalErp> {
  const { config, plant, clock } = options;
  const tables = config.erp.tables ? parseErpTables(config.erp.tables) : DEFAULT_ERP_TABLES;
  if (config.erp.oracle) {
    const secrets = await secretsFromConfig(config, { clock: systemClock });
    return {
      connect: createOracledbSessionFactory({
        ...config.erp.oracle,
        password: () => secrets.get('oracle-erp-password'),
      }),
      tables,
      standIn: undefined,
      close: async () => {},
    };
  }
  if (!config.simulate) return { connect: undefined, tables, standIn: undefined, close: async () => {} };
  const standIn = await ErpStandIn.open({
    model: new ErpModel(plant),
    clock,
    version: config.erp.standInVersion,
    timeZone: config.erp.timeZone,
    historyMs: config.mes.initialLookbackMs,
  });
  return {
    connect: () => standIn.session(),
    tables,
    standIn,
    close: async () => standIn.close(),
  };
}
