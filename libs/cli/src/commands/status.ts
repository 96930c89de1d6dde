import { createSourceStatusStore } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { openStorage } from '@aurora/platform';
import { ERP_SOURCE, IOT_SOURCE, mesSource, SAP_SOURCE } from '@aurora/sources';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

/** Freshness SLAs per source, in seconds (what the plant needs, ARCHITECTURE §6; SAP runs hourly: 90 min). */
const slaSeconds = (source: string, iotSlaS: number): number =>
  source === 'iot' ? iotSlaS : source === SAP_SOURCE ? 90 * 60 : 30 * 60;
const KNOWN_SOURCES = [
  IOT_SOURCE,
  ...catalogue.facilities.map((f) => mesSource(f.id)),
  SAP_SOURCE,
  ERP_SOURCE,
];

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
        const now = Date.now();
        const sources = [...new Set([...KNOWN_SOURCES, ...stored.map((s) => s.source)])].sort();
        const rows = sources.map((source) => {
          const s = stored.find((x) => x.source === source);
          const slaS = slaSeconds(source, ctx.config.iot.slaS);
          const freshnessS = s?.latestEventAt
            ? Math.max(0, Math.round((now - Date.parse(s.latestEventAt)) / 1000))
            : null;
          return {
            source,
            lastRunAt: s?.lastRunAt ?? null,
            lastSuccessAt: s?.lastSuccessAt ?? null,
            lastError: s?.lastError ?? null,
            rowsLandedTotal: s?.rowsLandedTotal ?? 0,
            lastRunRows: s?.lastRunRows ?? 0,
            deadLetteredTotal: s?.deadLetteredTotal ?? 0,
            latestEventAt: s?.latestEventAt ?? null,
            freshnessS,
            slaS,
            withinSla: freshnessS !== null && freshnessS <= slaS,
          };
        });
        if (opts.json) ctx.out(JSON.stringify({ at: new Date(now).toISOString(), sources: rows }, null, 2));
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
