import { ConfigError, SourceUnavailableError } from '@aurora/core';
import { type FunctionApp, timerFunction } from '@aurora/runtime';
import {
  type RfcPool,
  runSapMasterData,
  runSapTransactional,
  type SapIngestionDeps,
  type SapIngestionReport,
} from '@aurora/sources';

export { importNodeRfc } from './node-rfc.js';

export interface SapDeps {
  ingestion: SapIngestionDeps;
  /** The pooled RFC connections: node-rfc in Azure, the RFC stand-in locally; undefined when SAP is not configured. */
  pool: RfcPool | undefined;
  /** Sees every report (the local platform's cycle summary). */
  onReport?: (report: SapIngestionReport) => void;
}

/** The timer functions and their schedules (NCRONTAB, UTC); the names are contracts (infra alerts on them). */
export const SAP_FUNCTIONS = {
  transactional: { name: 'ingestSapTransactional', schedule: '0 0 * * * *' },
  master: { name: 'ingestSapMaster', schedule: '0 30 2 * * *' },
} as const;

/**
 * The sap Function App's table: goods movements, PO details and stock every hour on the hour, the material
 * master every night at 02:30 UTC. Dependencies are built on first use by whoever hosts the table (the
 * Azure composition root in index.ts, or the local platform), so importing this file parses no config.
 */
export function sapApp(deps: () => Promise<SapDeps>): FunctionApp {
  const run = (name: string, ingest: typeof runSapTransactional) =>
    timerFunction(
      name,
      {
        schedule:
          name === SAP_FUNCTIONS.master.name
            ? SAP_FUNCTIONS.master.schedule
            : SAP_FUNCTIONS.transactional.schedule,
      },
      async (_timer, ctx) => {
        const sap = await deps();
        if (!sap.pool)
          throw new ConfigError('SAP is not configured: set AURORA_SAP_ASHOST (or AURORA_SAP_DEST)', [
            { variable: 'AURORA_SAP_ASHOST', problem: 'not set' },
          ]);
        const report = await ingest(sap.ingestion, sap.pool);
        sap.onReport?.(report);
        ctx.log(report.summary);
        // A failed invocation is what pages the on-call engineer (infra's alert rules).
        if (!report.ok) throw new SourceUnavailableError(report.summary);
      },
    );
  return {
    name: 'sap',
    functions: [
      run(SAP_FUNCTIONS.transactional.name, runSapTransactional),
      run(SAP_FUNCTIONS.master.name, runSapMasterData),
    ],
  };
}
