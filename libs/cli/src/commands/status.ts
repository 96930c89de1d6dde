import { sourceFreshness } from '@aurora/api';
import { createSourceStatusStore } from '@aurora/lake';
import { LOCAL_SOURCES, openStorage } from '@aurora/platform';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('per source: last success, rows landed, and freshness against its SLA')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = cliContext();
      const storage = await openStorage(ctx.config, 'ephemeral');
      try {
        const stored = await createSourceStatusStore(storage.table('sourcestatus')).list();
        const now = new Date();
        // The same rows as GET /api/v1/freshness: one definition of freshness and SLA, in libs/api.
        const rows = sourceFreshness(stored, now, {
          knownSources: LOCAL_SOURCES,
          iotSlaS: ctx.config.iot.slaS,
        });
        if (opts.json) ctx.out(JSON.stringify({ at: now.toISOString(), sources: rows }, null, 2));
        else {
          ctx.out(
            'source          last success               rows landed  dead-lettered  freshness      SLA',
          );
          for (const r of rows) {
            const fresh = r.freshnessS === null ? 'no data' : `${r.freshnessS} s`;
            ctx.out(
              `${r.source.padEnd(15)} ${(r.lastSuccessAt ?? 'never').padEnd(26)} ${String(r.rowsLandedTotal).padStart(11)}  ${String(r.deadLetteredTotal).padStart(13)}  ${fresh.padEnd(13)}  ${r.slaS} s ${r.withinSla ? 'ok' : 'BREACHED'}`,
            );
            if (r.lastError) ctx.out(`                last error: ${r.lastError}`);
          }
        }
      } finally {
        await storage.close();
      }
    });
}
