import { describe, expect, it } from 'vitest';
import {
  type DqResultRow,
  dimensionScores,
  latestPerModel,
  renderDq,
  toDqRows,
  trendPerModel,
} from './dq.js';

const row = (over: Partial<DqResultRow>): DqResultRow => ({
  runId: 'r1',
  runAt: '2026-11-23T08:00:00.000Z',
  model: 'silver.orders',
  expectation: 'unique(order_id)',
  dimension: 'uniqueness',
  severity: 'error',
  passed: true,
  failedRows: 0,
  totalRows: 10,
  sample: '[]',
  ...over,
});

describe('dimensionScores', () => {
  it('scores each dimension by passed checks and by the mean share of passing rows, capped at the total', () => {
    const scores = dimensionScores([
      row({ expectation: 'not_null(a)', dimension: 'completeness', passed: false, failedRows: 5 }),
      row({ expectation: 'not_null(b)', dimension: 'completeness' }),
      row({ expectation: 'unique(k)', passed: false, failedRows: 30 }),
      row({ expectation: 'freshness(t)', dimension: 'timeliness', totalRows: 0 }),
    ]);
    expect(scores).toEqual([
      { dimension: 'completeness', checks: 2, passedChecks: 1, checkScore: 0.5, rowScore: 0.75 },
      { dimension: 'uniqueness', checks: 1, passedChecks: 0, checkScore: 0, rowScore: 0 },
      { dimension: 'timeliness', checks: 1, passedChecks: 1, checkScore: 1, rowScore: 1 },
    ]);
  });
});

describe('latestPerModel', () => {
  it("takes each model's own latest run and flags a model missing from the newest run", () => {
    const rows = [
      row({ runId: 'r1', model: 'gold.a', passed: false, failedRows: 2 }),
      row({ runId: 'r2', runAt: '2026-11-23T08:15:00.000Z', model: 'gold.a' }),
      row({ runId: 'r1', model: 'gold.b', passed: false, failedRows: 1 }),
    ];
    const latest = latestPerModel(rows);
    expect(latest.map((m) => [m.model, m.runId, m.inLatestRun, m.failedErrors])).toEqual([
      ['gold.a', 'r2', true, 0],
      ['gold.b', 'r1', false, 1],
    ]);
  });
});

describe('renderDq', () => {
  it('exits 0 when only warnings failed and 1 when an error-severity expectation failed', () => {
    const warnOnly = [
      row({}),
      row({ expectation: 'range(q)', dimension: 'validity', severity: 'warn', passed: false, failedRows: 1 }),
    ];
    expect(renderDq(warnOnly, {}).exitCode).toBe(0);
    expect(
      renderDq(
        [
          ...warnOnly,
          row({ expectation: 'not_null(x)', dimension: 'completeness', passed: false, failedRows: 1 }),
        ],
        {},
      ).exitCode,
    ).toBe(1);
  });

  it('keeps the exit code of the latest run: an old failure that was fixed does not fail', () => {
    const rows = [
      row({ runId: 'r1', passed: false, failedRows: 3 }),
      row({ runId: 'r2', runAt: '2026-11-23T08:15:00.000Z' }),
    ];
    const out = renderDq(rows, { trend: true, runs: 5 });
    expect(out.exitCode).toBe(0);
    expect(out.lines[1]).toBe(`${'silver.orders'.padEnd(34)}    0%  100%   latest 1/1`);
  });

  it('refuses to print nothing: no results at all is an error that says what to run', () => {
    expect(() => renderDq([], {})).toThrow('run `pnpm aurora run --once` first');
  });
});

describe('trendPerModel', () => {
  it('keeps the last N runs, oldest first, ordered by run time not by id', () => {
    const rows = [
      row({ runId: 'zz', runAt: '2026-11-23T08:00:00.000Z', passed: false }),
      row({ runId: 'aa', runAt: '2026-11-23T08:30:00.000Z' }),
      row({ runId: 'mm', runAt: '2026-11-23T08:15:00.000Z' }),
      row({ runId: 'mm', runAt: '2026-11-23T08:15:00.000Z', expectation: 'x', passed: false }),
    ];
    expect(trendPerModel(rows, 2)[0]!.runs.map((r) => [r.runId, r.passRate])).toEqual([
      ['mm', 0.5],
      ['aa', 1],
    ]);
  });
});

describe('toDqRows', () => {
  it('reads the Delta rows as the engine writes them', () => {
    expect(
      toDqRows([
        {
          run_id: 'r',
          run_at: '2026-11-23T08:00:00.000Z',
          model: 'm',
          expectation: 'e',
          dimension: 'validity',
          severity: 'warn',
          passed: false,
          failed_rows: 2,
          total_rows: 9,
          sample: '[{"a":1}]',
        },
      ]),
    ).toEqual([
      {
        runId: 'r',
        runAt: '2026-11-23T08:00:00.000Z',
        model: 'm',
        expectation: 'e',
        dimension: 'validity',
        severity: 'warn',
        passed: false,
        failedRows: 2,
        totalRows: 9,
        sample: '[{"a":1}]',
      },
    ]);
  });
});
