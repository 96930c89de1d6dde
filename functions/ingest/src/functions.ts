import { ConfigError, SourceUnavailableError } from '@aurora/core';
import type { FacilityId } from '@aurora/plant';
import { eventHubFunction, type FunctionApp, timerFunction } from '@aurora/runtime';
import {
  type ErpIngestionDeps,
  type ErpIngestionReport,
  type EventHubBatchMetadata,
  landTelemetry,
  type MesConnector,
  type MesIngestionDeps,
  type MesIngestionReport,
  runErpIngestion,
  runMesIngestion,
  type TelemetryLandingDeps,
} from '@aurora/sources';

export interface MesDeps {
  ingestion: MesIngestionDeps;
  /** One per facility whose MES is configured (or simulated). */
  connectors: Partial<Record<FacilityId, MesConnector>>;
  /** Sees every report (the local platform's cycle summary). */
  onReport?: (report: MesIngestionReport) => void;
}

export interface ErpDeps {
  /** Undefined when no Oracle is configured and nothing is simulated: the timer then names the setting. */
  ingestion: ErpIngestionDeps | undefined;
  onReport?: (report: ErpIngestionReport) => void;
}

export interface IngestDeps {
  telemetry: TelemetryLandingDeps;
  mes: MesDeps;
  /** Optional so that hosts composed before the ERP existed keep working. */
  erp?: ErpDeps;
}

/** The Oracle ERP timer (CDC every 15 minutes); its name is a contract like the MES ones. */
export const ERP_FUNCTION = 'ingestOracleErp';

export const IOT_TELEMETRY_FUNCTION = 'iotTelemetry';

/** The MES timer functions, by facility; their names are contracts (infra alerts on their failures). */
export const MES_FUNCTIONS: Record<FacilityId, { name: string; urlVariable: string }> = {
  augsburg: { name: 'ingestMesAugsburg', urlVariable: 'AURORA_MES_SIMATIC_URL' },
  ingolstadt: { name: 'ingestMesIngolstadt', urlVariable: 'AURORA_MES_HYDRA_URL' },
  regensburg: { name: 'ingestMesRegensburg', urlVariable: 'AURORA_MES_REGENSBURG_URL' },
};

/** Every 15 minutes, on the quarter hour (UTC). */
export const MES_SCHEDULE = '0 */15 * * * *';

/**
 * The ingest Function App's table. Dependencies are built on first use by whoever hosts the table (the
 * Azure composition root in index.ts, or the local platform), so importing this file parses no config.
 */
export function ingestApp(deps: () => Promise<IngestDeps>): FunctionApp {
  return {
    name: 'ingest',
    functions: [
      eventHubFunction(
        IOT_TELEMETRY_FUNCTION,
        { eventHubName: 'telemetry', connection: 'IOT_EVENTHUB', consumerGroup: 'functions' },
        async (messages, ctx) => {
          const batch = Array.isArray(messages) ? messages : [messages];
          const report = await landTelemetry(
            (await deps()).telemetry,
            batch,
            ctx.triggerMetadata as EventHubBatchMetadata,
          );
          ctx.log(`batch ${report.batchId}: ${report.landed} landed, ${report.deadLettered} dead-lettered`);
        },
      ),
      ...(Object.entries(MES_FUNCTIONS) as [FacilityId, { name: string; urlVariable: string }][]).map(
        ([facility, { name, urlVariable }]) =>
          timerFunction(name, { schedule: MES_SCHEDULE }, async (_timer, ctx) => {
            const { mes } = await deps();
            const connector = mes.connectors[facility];
            if (!connector) {
              throw new ConfigError(`the ${facility} MES is not configured: set ${urlVariable}`, [
                { variable: urlVariable, problem: 'not set' },
              ]);
            }
            const report = await runMesIngestion(mes.ingestion, connector);
            mes.onReport?.(report);
            ctx.log(report.summary);
            // A failed invocation is what pages the on-call engineer (infra's alert rules).
            if (!report.ok) throw new SourceUnavailableError(report.summary);
          }),
      ),
      timerFunction(ERP_FUNCTION, { schedule: MES_SCHEDULE }, async (_timer, ctx) => {
        const erp = (await deps()).erp;
        if (!erp?.ingestion) {
          throw new ConfigError(
            'the Oracle ERP is not configured: set AURORA_ERP_CONNECT_STRING and AURORA_ERP_USER',
            [{ variable: 'AURORA_ERP_CONNECT_STRING', problem: 'not set' }],
          );
        }
        const report = await runErpIngestion(erp.ingestion);
        erp.onReport?.(report);
        ctx.log(report.summary);
        if (!report.ok) throw new SourceUnavailableError(report.summary);
      }),
    ],
  };
}
