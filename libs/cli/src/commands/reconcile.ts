import { PlantModel } from '@aurora/plant';
import { DEFAULT_TOLERANCE, reconcileGold, recordedSeed } from '@aurora/platform';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

const show = (v: number | null) => (v === null ? 'null' : Number.isInteger(v) ? String(v) : v.toPrecision(8));

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      "compare every gold OEE figure with the plant model's ground truth; exit 1 beyond the tolerance",
    )
    .option('--seed <n>', 'seed of the simulated plant (default: the one the last run used, else 1)')
    .option('--tolerance <ratio>', 'largest relative difference allowed', String(DEFAULT_TOLERANCE))
    .option('--worst <n>', 'how many of the worst differences to print', '20')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nCompares the complete hours of gold.agg_oee_hourly and the complete days of gold.agg_oee_daily (those the\n' +
        'MES bronze fully covers) KPI by KPI: planned and run time, ideal output, counts, availability, performance,\n' +
        'quality, OEE; and reports true machine-hours gold lacks.',
    )
    .action(async (opts: { seed?: string; tolerance: string; worst: string; json?: boolean }) => {
      const ctx = cliContext();
      const seed = opts.seed === undefined ? ((await recordedSeed(ctx.config.home)) ?? 1) : Number(opts.seed);
      const tolerance = Number(opts.tolerance);
      if (!Number.isInteger(seed) || !(tolerance >= 0)) {
        throw new Error('--seed must be an integer and --tolerance a non-negative number');
      }
      const report = await reconcileGold(ctx.config.home, new PlantModel({ seed }), { tolerance });
      if (opts.json) ctx.out(JSON.stringify(report, null, 2));
      else {
        ctx.out(
          `reconcile: seed ${seed}, ${report.compared.hourly.toLocaleString('en')} machine-hours and ${report.compared.daily.toLocaleString('en')} machine-days, ${report.compared.qualityDays} facility-days of quality, ${report.compared.supplyDays} facility-days of supply chain, ${report.compared.values.toLocaleString('en')} values, tolerance ${(tolerance * 100).toPrecision(2)} %`,
        );
        if (report.compared.hourly === 0) ctx.out('nothing to compare: no complete hour in gold yet');
        for (const d of report.differences.slice(0, Number(opts.worst))) {
          ctx.out(
            `  ${d.table.padEnd(15)} ${d.row.padEnd(42)} ${d.kpi.padEnd(16)} gold ${show(d.gold).padStart(12)}  truth ${show(d.truth).padStart(12)}  ${Number.isFinite(d.relativeDifference) ? `${(d.relativeDifference * 100).toPrecision(3)} %` : d.gold === null || d.truth === null ? 'missing' : 'vs 0'}`,
          );
        }
        ctx.out(report.ok ? 'OK' : `FAILED: ${report.differences.length} differences`);
      }
      if (!report.ok) process.exitCode = 1;
    });
}
