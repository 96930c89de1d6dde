import { UsageError } from '@aurora/core';
import { reportPaths } from '@aurora/lake';
import { PlantModel } from '@aurora/plant';
import {
  DEFAULT_TOLERANCE,
  DEFAULT_TOLERANCE_PERCENT,
  openStorage,
  type ParallelRunReport,
  type ReportValue,
  reconcileAgainst,
  reconcileGold,
  recordedSeed,
  writeLakeReport,
} from '@aurora/platform';
import type { Command } from 'commander';
import { type CliContext, cliContext } from '../context.js';

const show = (v: number | null) => (v === null ? 'null' : Number.isInteger(v) ? String(v) : v.toPrecision(8));

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      "compare every gold OEE figure with the plant model's ground truth; exit 1 beyond the tolerance",
    )
    .option('--seed <n>', 'seed of the simulated plant (default: the one the last run used, else 1)')
    .option(
      '--tolerance <ratio>',
      `largest relative difference allowed: a ratio against the plant model; with --against in percent (default ${DEFAULT_TOLERANCE_PERCENT})`,
      String(DEFAULT_TOLERANCE),
    )
    .option('--worst <n>', 'how many of the worst differences to print', '20')
    .option('--json', 'print the report as JSON')
    .option(
      '--against <query|file>',
      'parallel run: compare --query with this result of the legacy system (a .csv, .json or .parquet file, or SQL over the warehouse)',
    )
    .option('--query <sql>', "with --against: the SQL over the warehouse whose result is Aurora's")
    .option(
      '--key <columns>',
      'with --against: the columns that identify a row, comma-separated (default: the shared non-numeric columns)',
    )
    .addHelpText(
      'after',
      '\nCompares the complete hours of gold.agg_oee_hourly and the complete days of gold.agg_oee_daily (those the\n' +
        'MES bronze fully covers) KPI by KPI: planned and run time, ideal output, counts, availability, performance,\n' +
        'quality, OEE; and reports true machine-hours gold lacks.\n' +
        '\n' +
        'With --against (the parallel run of a migration): runs --query over the warehouse (schemas silver, gold) as\n' +
        'ours and reads theirs from --against: a file (.csv; .json as an array of row objects or JSON lines; .parquet)\n' +
        'when one exists at that path, else SQL over the same warehouse. Rows match on --key; numeric columns agree\n' +
        'within --tolerance percent (|a-b| / max(|a|,|b|); both 0, NaN and NaN, -0 and 0 are equal), the others exactly\n' +
        '(NULL = NULL). Reports rows only in ours or theirs, duplicate keys, columns on one side only or numeric on one\n' +
        'side only, and values beyond the tolerance (the worst --worst of them). The whole report lands in the lake,\n' +
        'reports/reconcile/year=/month=/day=/reconcile_{timestamp}.json, and its path is printed.\n' +
        'Exit 0 when clean, 1 on any difference, 2 on a usage error. Example:\n' +
        '  pnpm aurora reconcile --against legacy-oee.csv --query "SELECT facility_id, plant_day, oee FROM gold.agg_oee_daily"',
    )
    .action(async (opts: ReconcileOptions, command: Command) => {
      const ctx = cliContext();
      if (opts.against !== undefined) {
        await reconcileParallelRun(ctx, opts, command.getOptionValueSource('tolerance') === 'default');
        return;
      }
      if (opts.query !== undefined || opts.key !== undefined)
        throw new UsageError('--query and --key belong to a parallel run: add --against <query|file>');
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

interface ReconcileOptions {
  seed?: string;
  tolerance: string;
  worst: string;
  json?: boolean;
  against?: string;
  query?: string;
  key?: string;
}

const cell = (v: ReportValue) => (v === null ? 'NULL' : typeof v === 'string' ? v : String(v));
const keyText = (key: Record<string, ReportValue>) =>
  Object.entries(key)
    .map(([c, v]) => `${c}=${cell(v)}`)
    .join(' ');
const percent = (ratio: number | null) =>
  ratio === null ? 'not comparable' : `${(ratio * 100).toPrecision(3)} %`;
const count = (n: number) => n.toLocaleString('en');

/** `aurora reconcile --against`: the parallel run, printed and written whole to the lake. */
async function reconcileParallelRun(ctx: CliContext, opts: ReconcileOptions, defaultTolerance: boolean) {
  if (opts.seed !== undefined)
    throw new UsageError('--seed is for the plant-model check; drop it with --against');
  if (opts.query === undefined)
    throw new UsageError('--against needs --query "<sql>": the SQL whose result is ours');
  const tolerancePercent = defaultTolerance
    ? DEFAULT_TOLERANCE_PERCENT
    : Number(opts.tolerance.replace(/%$/, ''));
  if (!(Number.isFinite(tolerancePercent) && tolerancePercent >= 0))
    throw new UsageError(`--tolerance must be a non-negative number of percent, got "${opts.tolerance}"`);
  const worst = Number(opts.worst);
  if (!(Number.isInteger(worst) && worst >= 0))
    throw new UsageError('--worst must be a non-negative integer');
  const key =
    opts.key === undefined
      ? undefined
      : opts.key
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '');
  if (key !== undefined && key.length === 0) throw new UsageError('--key names no column');

  const report = await reconcileAgainst(ctx.config.home, {
    query: opts.query,
    against: opts.against!,
    tolerancePercent,
    at: new Date(),
    ...(key ? { key } : {}),
  });
  if (!opts.json) printParallelRun(ctx, report, worst);
  const storage = await openStorage(ctx.config, 'ephemeral');
  let path: string;
  try {
    path = await writeLakeReport(storage.lake, reportPaths.reconcile, new Date(report.at), report);
  } finally {
    await storage.close();
  }
  if (opts.json) ctx.out(JSON.stringify({ ...report, reportPath: path }, null, 2));
  else {
    ctx.out(`report: ${path}`);
    ctx.out(report.ok ? 'OK' : `FAILED: ${report.summary}`);
  }
  if (!report.ok) process.exitCode = 1;
}

function printParallelRun(ctx: CliContext, r: ParallelRunReport, worst: number) {
  const theirs = r.theirs.kind === 'sql' ? 'SQL' : `${r.theirs.kind} ${r.theirs.source}`;
  ctx.out(
    `reconcile --against ${theirs}: ours ${count(r.rows.ours)} rows, theirs ${count(r.rows.theirs)} rows, ${count(r.rows.matched)} matched on ${r.key.join(', ')}${r.keyChosen === 'default' ? ' (the shared non-numeric columns)' : ''}; ${count(r.comparedValues)} values of ${r.comparedColumns.join(', ') || 'no column'} compared, tolerance ${r.tolerancePercent} %`,
  );
  const list = (title: string, keys: Record<string, ReportValue>[]) => {
    if (keys.length === 0) return;
    ctx.out(`${title} (${count(keys.length)}):`);
    for (const k of keys.slice(0, worst)) ctx.out(`  ${keyText(k)}`);
    if (keys.length > worst) ctx.out(`  ... and ${count(keys.length - worst)} more`);
  };
  list('only in ours', r.onlyInOurs);
  list('only in theirs', r.onlyInTheirs);
  if (r.duplicateKeys.length > 0) {
    ctx.out(`duplicate keys (${count(r.duplicateKeys.length)}; their rows are not compared):`);
    for (const d of r.duplicateKeys.slice(0, worst))
      ctx.out(`  ${d.side.padEnd(6)} ${d.rows} rows  ${keyText(d.key)}`);
  }
  if (r.columnsOnlyInOurs.length > 0) ctx.out(`columns only in ours: ${r.columnsOnlyInOurs.join(', ')}`);
  if (r.columnsOnlyInTheirs.length > 0)
    ctx.out(`columns only in theirs: ${r.columnsOnlyInTheirs.join(', ')}`);
  for (const t of r.typeMismatches)
    ctx.out(`column ${t.column} is ${t.ours} in ours but ${t.theirs} in theirs (compared as text)`);
  if (r.differences.length > 0) {
    ctx.out(`differences (${count(r.differences.length)}, worst first):`);
    for (const d of r.differences.slice(0, worst))
      ctx.out(
        `  ${keyText(d.key)}  ${d.column}  ours ${cell(d.ours)}  theirs ${cell(d.theirs)}  ${percent(d.relativeDifference)}`,
      );
    if (r.differences.length > worst) ctx.out(`  ... and ${count(r.differences.length - worst)} more`);
  }
  ctx.out(`largest relative difference: ${percent(r.maxRelativeDifference)}`);
}
