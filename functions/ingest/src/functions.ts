import { eventHubFunction, type FunctionApp } from '@aurora/runtime';
import { type EventHubBatchMetadata, landTelemetry, type TelemetryLandingDeps } from '@aurora/sources';

export interface IngestDeps {
  telemetry: TelemetryLandingDeps;
}

export const IOT_TELEMETRY_FUNCTION = 'iotTelemetry';

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
    ],
  };
}
