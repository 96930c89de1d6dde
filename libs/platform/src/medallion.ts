import type { Clock, Logger } from '@aurora/core';
import { type MedallionReport, runMedallion } from '@aurora/engine';
import type { Lake, ParquetCodec } from '@aurora/lake';
import { type FunctionApp, timerFunction } from '@aurora/runtime';

/** The local twin of functions/orchestrator's timer: same name, same schedule. */
export const LOCAL_MEDALLION_TIMER = 'medallionTimer';
export const LOCAL_MEDALLION_SCHEDULE = '0 */15 * * * *';

export interface LocalMedallionDeps {
  lake: Lake;
  codec: ParquetCodec;
  clock: Clock;
  log: Logger;
  home: string;
  /** Key ids of erased data subjects (the key table's tombstones), anonymised in silver and gold. */
  erasedKeyIds?: () => Promise<readonly string[]>;
  onReport?: (report: MedallionReport) => void;
}

/**
 * The medallion on the local host: every 15 minutes the same DAG the Durable orchestration walks in Azure
 * runs in-process (runMedallion), one run at a time like the singleton instance there: a tick that finds a
 * run still going is skipped. A run with failed models or error expectations fails the invocation.
 */
export function localMedallionApp(deps: () => LocalMedallionDeps): FunctionApp {
  let running: Promise<MedallionReport> | undefined;
  return {
    name: 'orchestrator',
    functions: [
      timerFunction(LOCAL_MEDALLION_TIMER, { schedule: LOCAL_MEDALLION_SCHEDULE }, async (_timer, ctx) => {
        if (running) {
          ctx.log('medallion: the previous run is still going; this tick is skipped');
          return;
        }
        const d = deps();
        running = runMedallion(
          {
            lake: d.lake,
            codec: d.codec,
            clock: d.clock,
            log: d.log,
            home: d.home,
            ...(d.erasedKeyIds ? { erasedKeyIds: d.erasedKeyIds } : {}),
          },
          { onProgress: (line) => d.log.debug({ event: 'medallion.progress' }, line) },
        );
        try {
          const report = await running;
          d.onReport?.(report);
          ctx.log(
            `medallion ${report.runId}: ${report.models.length} models in ${(report.durationMs / 1000).toFixed(1)} s${report.ok ? '' : `; ${report.problems.length} problems`}`,
          );
          if (!report.ok) throw new Error(`medallion: ${report.problems.join('; ')}`);
        } finally {
          running = undefined;
        }
      }),
    ],
  };
}
