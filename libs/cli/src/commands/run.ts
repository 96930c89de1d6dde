import { ManualClock, systemClock, UsageError } from '@aurora/core';
import {
  catalogue,
  type FacilityId,
  MES_FAULTS,
  type MesFault,
  SAP_FAULTS,
  type SapFault,
} from '@aurora/plant';
import { LocalPlatform, runCycle } from '@aurora/platform';
import { ERP_FAULTS, type ErpFault } from '@aurora/sources';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'run one whole cycle of every source and pipeline, deterministic for a seed, and print a summary',
    )
    .requiredOption('--once', 'run a single cycle and exit (the only mode; `aurora start` runs continuously)')
    .option('--seed <n>', 'seed of the simulated plant', '1')
    .option('--at <time>', 'end of the simulated window, ISO 8601 (default: now, to the minute)')
    .option('--window-minutes <n>', 'length of the simulated window', '5')
    .option(
      '--fault <facility:fault>',
      `make a MES stand-in fail every request of this cycle, e.g. regensburg:http_500 (repeatable; faults: ${MES_FAULTS.join(', ')}), or the SAP RFC stand-in every call, e.g. sap:communication_failure (${SAP_FAULTS.join(', ')}), or the ERP stand-in, e.g. erp:connection_lost (${ERP_FAULTS.join(', ')})`,
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--clock-skew <facility:hours>',
      "run a MES stand-in's server clock this many hours ahead for this cycle, or behind when negative, e.g. regensburg:-3 (repeatable): every time it serves and filters on is read on that clock",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      [
        '',
        'The MES stand-ins serve the plant as of --at; each MES connector reads from its checkpoint (or 72 h back',
        'on the first run, AURORA_MES_INITIAL_LOOKBACK_H) to --at. A failing MES is retried after',
        'AURORA_RETRY_DELAYS_S (30,60,120 by default), then dead-lettered.',
        'Exit code 0 only when every published message was landed or dead-lettered, every facility landed',
        'telemetry, every MES entity was fetched, and every SAP BAPI landed (the RFC stand-in answers unless',
        'AURORA_SAP_ASHOST or AURORA_SAP_DEST is set).',
      ].join('\n'),
    )
    .action(
      async (opts: {
        seed: string;
        at?: string;
        windowMinutes: string;
        fault: string[];
        clockSkew: string[];
        json?: boolean;
      }) => {
        const ctx = cliContext();
        const seed = Number(opts.seed);
        if (!Number.isSafeInteger(seed) || seed < 0)
          throw new UsageError(`--seed must be a non-negative integer, got "${opts.seed}"`);
        const windowMinutes = Number(opts.windowMinutes);
        if (!(windowMinutes > 0 && windowMinutes <= 24 * 60))
          throw new UsageError('--window-minutes must be between 1 and 1440');
        const at = opts.at ? new Date(opts.at) : new Date(Math.floor(Date.now() / 60_000) * 60_000);
        if (Number.isNaN(at.getTime()))
          throw new UsageError(`--at must be an ISO 8601 time, got "${opts.at}"`);
        const sapFaults = opts.fault.filter((f) => f.startsWith('sap:')).map(parseSapFault);
        const erpFaults = opts.fault.filter((f) => f.startsWith('erp:')).map(parseErpFault);
        const mesFaults = opts.fault
          .filter((f) => !f.startsWith('sap:') && !f.startsWith('erp:'))
          .map(parseFault);
        const mesClockSkews = opts.clockSkew.map(parseClockSkew);
        const progress = (line: string) => process.stderr.write(`${line}\n`);
        progress(`aurora run --once: home ${ctx.config.home}`);
        const platform = await LocalPlatform.open({
          config: ctx.config,
          log: ctx.log,
          clock: systemClock,
          mode: 'one-shot',
          seed,
          // The simulated plant stands still at --at, so the cycle is the same whenever it is run.
          plantClock: new ManualClock(at),
        });
        let summary: Awaited<ReturnType<typeof runCycle>>;
        try {
          progress(`lake: ${platform.storage.description}`);
          summary = await runCycle(platform, {
            seed,
            at,
            windowMinutes,
            rateHz: ctx.config.iot.rateHz,
            badRatio: ctx.config.iot.badRatio,
            mesFaults,
            mesClockSkews,
            sapFaults,
            erpFaults,
            onProgress: progress,
          });
        } finally {
          await platform.close();
        }
        if (opts.json) ctx.out(JSON.stringify(summary, null, 2));
        else {
          const n = (x: number) => x.toLocaleString('en');
          ctx.out(
            `cycle seed=${summary.seed} window ${summary.window.from} .. ${summary.window.to} (${(summary.durationMs / 1000).toFixed(1)} s)`,
          );
          ctx.out(
            `iot  published ${n(summary.iot.published)}  landed ${n(summary.iot.landed)}  dead-lettered ${n(summary.iot.deadLettered)} (${n(summary.iot.publishedBad)} malformed on purpose)`,
          );
          for (const [facility, f] of Object.entries(summary.iot.byFacility))
            ctx.out(`     ${facility.padEnd(11)} ${n(f.rows).padStart(8)} rows in ${f.files} files`);
          for (const f of summary.mes) {
            ctx.out(
              `mes  ${f.facility.padEnd(11)} ${f.vendor}${f.ok ? '' : '  FAILED'}${f.error ? `: ${f.error}` : ''}`,
            );
            for (const e of f.entities)
              ctx.out(
                `     ${e.entity.padEnd(21)} ${e.ok ? `${n(e.landed).padStart(8)} landed (${n(e.duplicates)} already landed)` : `failed: ${e.error?.code}`}`,
              );
          }
          const m = summary.medallion;
          ctx.out(
            `medallion  ${m.models.length} models in ${(m.durationMs / 1000).toFixed(1)} s over ${n(m.bronze.files)} bronze files; warehouse ${m.warehouse}`,
          );
          for (const r of m.models) {
            const failed = r.expectations.filter((e) => !e.passed);
            ctx.out(
              `     ${r.model.padEnd(30)} ${r.error ? `FAILED: ${r.error.split('\n')[0]}` : `${n(r.rows).padStart(9)} rows  ${n(r.quarantined)} quarantined  ${r.expectations.length - failed.length}/${r.expectations.length} expectations${failed.length ? ` (failed: ${failed.map((e) => e.expectation).join('; ')})` : ''}`}`,
            );
          }
          for (const s of summary.sap) {
            ctx.out(`sap  ${s.function}${s.ok ? '' : '  FAILED'}${s.error ? `: ${s.error}` : ''}`);
            for (const b of s.bapis)
              ctx.out(
                `     ${b.bapi.padEnd(24)} ${b.ok ? `${n(b.landed).padStart(8)} landed` : `failed: ${b.error?.code}`}${b.deadLettered ? ` (${n(b.deadLettered)} dead-lettered)` : ''}`,
              );
          }
          const erp = summary.erp;
          ctx.out(
            `erp  oracle-erp ${erp.window ? `SCN (${erp.window.fromScn}, ${erp.window.toScn}]` : 'no new SCNs'}${erp.snapshot ? ' + snapshot' : ''}${erp.ok ? '' : '  FAILED'}${erp.error ? `: ${erp.error}` : ''}${erp.deadLettered ? ` (${n(erp.deadLettered)} dead-lettered)` : ''}`,
          );
          for (const t of erp.tables.filter((x) => x.rows > 0))
            ctx.out(
              `     ${t.table.padEnd(34)} ${n(t.rows).padStart(8)} rows (I ${n(t.inserts)} U ${n(t.updates)} D ${n(t.deletes)}, snapshot ${n(t.snapshotRows)})${t.newColumns ? ` new columns: ${t.newColumns.join(', ')}` : ''}`,
            );
          for (const p of summary.problems) ctx.out(`PROBLEM ${p}`);
          ctx.out(summary.ok ? 'OK' : 'FAILED');
        }
        process.exitCode = summary.ok ? 0 : 1;
      },
    );
}

function parseFault(value: string): { facility: FacilityId; fault: MesFault } {
  const [facility, fault] = value.split(':');
  const facilities = catalogue.facilities.map((f) => f.id as string);
  if (!facility || !facilities.includes(facility) || !MES_FAULTS.includes(fault as MesFault)) {
    throw new UsageError(
      `--fault must be <facility>:<fault> with facility one of ${facilities.join(', ')} and fault one of ${MES_FAULTS.join(', ')}; got "${value}"`,
    );
  }
  return { facility: facility as FacilityId, fault: fault as MesFault };
}

function parseClockSkew(value: string): { facility: FacilityId; skewMs: number } {
  const [facility, hours] = value.split(':');
  const facilities = catalogue.facilities.map((f) => f.id as string);
  const h = Number(hours);
  if (!facility || !facilities.includes(facility) || !hours || !Number.isFinite(h) || Math.abs(h) > 48) {
    throw new UsageError(
      `--clock-skew must be <facility>:<hours> with facility one of ${facilities.join(', ')} and hours between -48 and 48, e.g. regensburg:-3; got "${value}"`,
    );
  }
  return { facility: facility as FacilityId, skewMs: Math.round(h * 3_600_000) };
}

function parseErpFault(value: string): ErpFault {
  const fault = value.slice('erp:'.length);
  if (!ERP_FAULTS.includes(fault as ErpFault))
    throw new UsageError(`--fault erp:<fault> takes one of ${ERP_FAULTS.join(', ')}; got "${value}"`);
  return fault as ErpFault;
}

function parseSapFault(value: string): SapFault {
  const fault = value.slice('sap:'.length);
  if (!SAP_FAULTS.includes(fault as SapFault))
    throw new UsageError(`--fault sap:<fault> takes one of ${SAP_FAULTS.join(', ')}; got "${value}"`);
  return fault as SapFault;
}
