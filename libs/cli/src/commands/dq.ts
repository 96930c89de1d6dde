import { UsageError } from '@aurora/core';
import { type Dimension, DQ_RESULTS_TABLE } from '@aurora/engine';
import { DeltaTable, DeltaTableNotFoundError, type Lake, ParquetCodec, quoteLiteral } from '@aurora/lake';
import { openStorage } from '@aurora/platform';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

/** One row of silver/dq_results: one expectation's outcome in one medallion run. */
export interface DqResultRow {
  runId: string;
  runAt: string;
  model: string;
  expectation: string;
  dimension: Dimension;
  severity: 'error' | 'warn';
  passed: boolean;
  failedRows: number;
  totalRows: number;
  sample: string;
}

export const DIMENSIONS: readonly Dimension[] = [
  'completeness',
  'uniqueness',
  'validity',
  'consistency',
  'timeliness',
];

export interface DimensionScore {
  dimension: Dimension;
  checks: number;
  passedChecks: number;
  /** Share of passed checks, 0..1. */
  checkScore: number;
  /** Mean over the dimension's checks of the share of rows that passed, 0..1. */
  rowScore: number;
}

export interface ModelLatest {
  model: string;
  runId: string;
  runAt: string;
  /** False when the model has no results in the newest run of all (it failed to build, or left the project). */
  inLatestRun: boolean;
  passed: number;
  failed: number;
  /** Failed expectations of severity error: these make `aurora dq` exit 1. */
  failedErrors: number;
  dimensions: DimensionScore[];
  expectations: (Omit<DqResultRow, 'runId' | 'runAt' | 'model' | 'sample'> & { sample?: unknown })[];
}

export interface ModelTrend {
  model: string;
  /** Oldest first. */
  runs: { runId: string; runAt: string; passed: number; total: number; passRate: number }[];
}

const byRun = (a: { runAt: string; runId: string }, b: { runAt: string; runId: string }) =>
  a.runAt === b.runAt ? a.runId.localeCompare(b.runId) : a.runAt < b.runAt ? -1 : 1;

/** dq_results as typed rows (BIGINTs arrive as numbers, timestamps as ISO text). */
export function toDqRows(rows: readonly Record<string, unknown>[]): DqResultRow[] {
  return rows.map((r) => ({
    runId: String(r['run_id']),
    runAt: String(r['run_at']),
    model: String(r['model']),
    expectation: String(r['expectation']),
    dimension: String(r['dimension']) as Dimension,
    severity: r['severity'] === 'warn' ? 'warn' : 'error',
    passed: r['passed'] === true,
    failedRows: Number(r['failed_rows'] ?? 0),
    totalRows: Number(r['total_rows'] ?? 0),
    sample: String(r['sample'] ?? '[]'),
  }));
}

/** Runs of each model, newest last: Map model -> Map runId -> rows. */
function runsByModel(rows: readonly DqResultRow[]): Map<string, DqResultRow[][]> {
  const grouped = new Map<string, Map<string, DqResultRow[]>>();
  for (const row of rows) {
    const runs = grouped.get(row.model) ?? new Map<string, DqResultRow[]>();
    grouped.set(row.model, runs);
    const run = runs.get(row.runId) ?? [];
    runs.set(row.runId, run);
    run.push(row);
  }
  return new Map(
    [...grouped.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, runs]) => [model, [...runs.values()].sort((a, b) => byRun(a[0]!, b[0]!))]),
  );
}

/** Per dimension: share of passed checks and the mean share of rows passing (failed rows capped at total). */
export function dimensionScores(results: readonly DqResultRow[]): DimensionScore[] {
  return DIMENSIONS.flatMap((dimension) => {
    const mine = results.filter((r) => r.dimension === dimension);
    if (mine.length === 0) return [];
    const passedChecks = mine.filter((r) => r.passed).length;
    const rowShares = mine.map((r) =>
      r.totalRows > 0 ? 1 - Math.min(r.failedRows, r.totalRows) / r.totalRows : r.passed ? 1 : 0,
    );
    return [
      {
        dimension,
        checks: mine.length,
        passedChecks,
        checkScore: passedChecks / mine.length,
        rowScore: rowShares.reduce((a, b) => a + b, 0) / mine.length,
      },
    ];
  });
}

/** The latest run of every model, with its expectations and dimension scores. */
export function latestPerModel(
  rows: readonly DqResultRow[],
  options: { samples?: boolean } = {},
): ModelLatest[] {
  const newest = rows.reduce<DqResultRow | undefined>(
    (best, r) => (!best || byRun(best, r) < 0 ? r : best),
    undefined,
  );
  return [...runsByModel(rows)].map(([model, runs]) => {
    const latest = runs[runs.length - 1]!;
    const { runId, runAt } = latest[0]!;
    const ordered = [...latest].sort((a, b) => a.expectation.localeCompare(b.expectation));
    return {
      model,
      runId,
      runAt,
      inLatestRun: runId === newest?.runId,
      passed: latest.filter((r) => r.passed).length,
      failed: latest.filter((r) => !r.passed).length,
      failedErrors: latest.filter((r) => !r.passed && r.severity === 'error').length,
      dimensions: dimensionScores(latest),
      expectations: ordered.map((r) => ({
        expectation: r.expectation,
        dimension: r.dimension,
        severity: r.severity,
        passed: r.passed,
        failedRows: r.failedRows,
        totalRows: r.totalRows,
        ...(options.samples && !r.passed ? { sample: parseSample(r.sample) } : {}),
      })),
    };
  });
}

function parseSample(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Per model, the share of passed expectations in each of its last `runs` runs. */
export function trendPerModel(rows: readonly DqResultRow[], runs: number): ModelTrend[] {
  return [...runsByModel(rows)].map(([model, all]) => ({
    model,
    runs: all.slice(-runs).map((run) => {
      const passed = run.filter((r) => r.passed).length;
      return {
        runId: run[0]!.runId,
        runAt: run[0]!.runAt,
        passed,
        total: run.length,
        passRate: passed / run.length,
      };
    }),
  }));
}

/** Thrown when the lake holds no DQ results yet. */
export class NoDqResultsError extends UsageError {
  constructor() {
    super('no data-quality results yet: run `pnpm aurora run --once` first');
  }
}

/** Reads silver/dq_results (optionally one model's rows only). */
export async function readDqResults(
  deps: { lake: Lake; codec: ParquetCodec },
  options: { model?: string } = {},
): Promise<DqResultRow[]> {
  const table = new DeltaTable(deps, DQ_RESULTS_TABLE);
  try {
    const rows = await table.read(
      {},
      options.model ? { where: `model = ${quoteLiteral(options.model)}` } : {},
    );
    return toDqRows(rows);
  } catch (error) {
    if (error instanceof DeltaTableNotFoundError) throw new NoDqResultsError();
    throw error;
  }
}

export interface DqOptions {
  model?: string;
  samples?: boolean;
  trend?: boolean;
  runs?: number;
  json?: boolean;
}

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
const count = (n: number) => n.toLocaleString('en');

/**
 * What `aurora dq` prints and its exit code: 1 when the latest run of any shown model failed an
 * error-severity expectation (also with `--trend`, so scripts can rely on the code whatever they print).
 */
export function renderDq(
  rows: readonly DqResultRow[],
  options: DqOptions,
): { lines: string[]; exitCode: number } {
  if (rows.length === 0) {
    if (options.model) throw new UsageError(`no data-quality results for model ${options.model}`);
    throw new NoDqResultsError();
  }
  const latest = latestPerModel(rows, { samples: options.samples ?? false });
  const exitCode = latest.some((m) => m.failedErrors > 0) ? 1 : 0;
  const runs = options.runs ?? 10;
  if (options.json) {
    const body = options.trend ? { trend: trendPerModel(rows, runs) } : { models: latest };
    return { lines: [JSON.stringify({ ok: exitCode === 0, ...body }, null, 2)], exitCode };
  }
  const lines: string[] = [];
  if (options.trend) {
    lines.push(`pass rate of the expectations per model over its last ${runs} runs (oldest first)`);
    for (const t of trendPerModel(rows, runs)) {
      const rates = t.runs.map((r) => `${Math.round(r.passRate * 100)}%`.padStart(5)).join(' ');
      const last = t.runs[t.runs.length - 1]!;
      lines.push(`${t.model.padEnd(34)} ${rates}   latest ${last.passed}/${last.total}`);
    }
  } else {
    for (const m of latest) {
      const dims = m.dimensions.map((d) => `${d.dimension} ${pct(d.rowScore)}`).join(', ');
      lines.push(
        `${m.model}  ${m.passed}/${m.passed + m.failed} passed  (run ${m.runId}, ${m.runAt})${m.inLatestRun ? '' : '  NOT IN THE LATEST RUN'}`,
      );
      lines.push(`  dimensions: ${dims}`);
      for (const e of m.expectations) {
        const verdict = e.passed ? 'pass' : e.severity === 'error' ? 'FAIL' : 'warn';
        lines.push(
          // The name last: expectation names vary in length, the figures stay in columns.
          `  ${verdict}  ${e.dimension.padEnd(12)} ${count(e.failedRows).padStart(9)} / ${`${count(e.totalRows)} failed`.padEnd(17)} ${e.expectation}`,
        );
        if (e.sample !== undefined) lines.push(`        sample: ${JSON.stringify(e.sample)}`);
      }
    }
  }
  const failed = latest.filter((m) => m.failedErrors > 0).map((m) => m.model);
  lines.push(
    failed.length === 0
      ? `OK: no error-severity expectation failed in the latest run of ${latest.length} models`
      : `FAILED: error-severity expectations failed in ${failed.join(', ')}`,
  );
  return { lines, exitCode };
}

export function registerDq(program: Command): void {
  program
    .command('dq')
    .description(
      'data quality of the medallion: the latest run per model (expectations, dimension scores) or the trend',
    )
    .option('--model <name>', 'only this model, e.g. silver.production_orders')
    .option('--samples', 'print up to five failing rows per failed expectation')
    .option('--trend', "the pass rate per model over its last runs instead of the latest run's detail")
    .option('--runs <n>', 'how many runs --trend shows', '10')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nReads silver/dq_results, which every medallion run appends to (passes included). Exit code 1 when the\n' +
        "latest run of a model failed an expectation of severity error; warnings are shown but don't fail.",
    )
    .action(
      async (opts: { model?: string; samples?: boolean; trend?: boolean; runs: string; json?: boolean }) => {
        const runs = Number(opts.runs);
        if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive integer');
        const ctx = cliContext();
        const storage = await openStorage(ctx.config, 'ephemeral');
        const codec = await ParquetCodec.create();
        try {
          const rows = await readDqResults(
            { lake: storage.lake, codec },
            opts.model ? { model: opts.model } : {},
          );
          const { lines, exitCode } = renderDq(rows, {
            runs,
            ...(opts.model ? { model: opts.model } : {}),
            samples: opts.samples ?? false,
            trend: opts.trend ?? false,
            json: opts.json ?? false,
          });
          for (const line of lines) ctx.out(line);
          process.exitCode = exitCode;
        } finally {
          codec.close();
          await storage.close();
        }
      },
    );
}
