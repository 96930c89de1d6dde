import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStorage, openLocalStorage } from '@aurora/azurite';
import { warehousePath } from '@aurora/engine';
import { createBlobLake, type Lake } from '@aurora/lake';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aurora } from './cli.js';

/**
 * `aurora reconcile --against`, the parallel run of a migration, over a small warehouse built for the test
 * in its own AURORA_HOME (what a medallion run leaves: a DuckDB file with schema gold). The test keeps the
 * home's Azurite open; the CLI joins it, so the reports it lands can be read back.
 */
let dir: string;
let home: string;
let storage: LocalStorage;
let lake: Lake;
let env: Record<string, string>;

const QUERY = 'SELECT facility_id, machine_id, hour, oee, good_count FROM gold.agg_oee_hourly';
const ROWS = [
  ['augsburg', 'aug-m01', '2026-11-23T07:00:00.000Z', 0.8125, 412],
  ['augsburg', 'aug-m02', '2026-11-23T07:00:00.000Z', 0.6, 300],
  ['ingolstadt', 'ing-m01', '2026-11-23T07:00:00.000Z', 0.75, 95],
] as const;

/** The legacy system's export of the same hours, with aug-m02's OEE scaled by `factor`. */
async function legacyCsv(name: string, factor: number): Promise<string> {
  const file = join(dir, name);
  const lines = ROWS.map(
    ([f, m, h, oee, good]) => `${f},${m},${h},${m === 'aug-m02' ? oee * factor : oee},${good}`,
  );
  await writeFile(file, `facility_id,machine_id,hour,oee,good_count\n${lines.join('\n')}\n`);
  return file;
}

async function reportAt(stdout: string): Promise<Record<string, unknown>> {
  const path = stdout.match(/^report: (\S+)$/m)?.[1];
  expect(path).toMatch(
    /^reports\/reconcile\/year=\d{4}\/month=\d{2}\/day=\d{2}\/reconcile_\d{8}T\d{12}Z\.json$/,
  );
  return JSON.parse((await lake.get(path!)).toString('utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aurora-reconcile-e2e-'));
  home = join(dir, 'home');
  await mkdir(join(home, 'warehouse'), { recursive: true });
  const db = await DuckDBInstance.create(warehousePath(home));
  const c = await db.connect();
  await c.run(`CREATE SCHEMA gold; CREATE SCHEMA silver;
    CREATE TABLE gold.agg_oee_hourly (facility_id VARCHAR, machine_id VARCHAR, hour TIMESTAMPTZ, oee DOUBLE, good_count BIGINT)`);
  for (const [f, m, h, oee, good] of ROWS)
    await c.run(
      `INSERT INTO gold.agg_oee_hourly VALUES ('${f}', '${m}', TIMESTAMPTZ '${h}', ${oee}, ${good})`,
    );
  c.closeSync();
  db.closeSync();
  storage = await openLocalStorage(home, { blobPort: 0, queuePort: 0, tablePort: 0 });
  lake = createBlobLake({ connectionString: storage.connectionString });
  env = { AURORA_HOME: home };
});
afterAll(async () => {
  await storage?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('aurora reconcile --against', () => {
  it('explains the parallel run in --help', async () => {
    const help = await aurora(['reconcile', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--against <query|file>');
    expect(help.stdout).toContain('reports/reconcile/year=/month=/day=/reconcile_{timestamp}.json');
  });

  it('finds a query clean against itself (exit 0) and lands the report in the lake', async () => {
    const run = await aurora(['reconcile', '--against', QUERY, '--query', QUERY], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'ours 3 rows, theirs 3 rows, 3 matched on facility_id, machine_id, hour (the shared non-numeric columns)',
    );
    expect(run.stdout).toMatch(/^OK$/m);
    const report = await reportAt(run.stdout);
    expect(report).toMatchObject({
      check: 'parallel-run',
      ok: true,
      key: ['facility_id', 'machine_id', 'hour'],
      ours: { kind: 'sql', source: QUERY },
      theirs: { kind: 'sql', source: QUERY },
      comparedValues: 6,
      tolerancePercent: 0.01,
    });
  });

  it('fails on a CSV with one value 0.02 % off (exit 1), naming the row, and the lake report holds it', async () => {
    const csv = await legacyCsv('legacy-off.csv', 1.0002);
    const run = await aurora(['reconcile', '--against', csv, '--query', QUERY], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^ {2}facility_id=augsburg machine_id=aug-m02 hour=2026-11-23T07:00:00\.000Z {2}oee {2}ours 0\.6 {2}theirs 0\.6001\d* {2}0\.0200 %$/m,
    );
    expect(run.stdout).toContain('FAILED: 1 value beyond 0.01 % or different');
    const report = await reportAt(run.stdout);
    expect(report['ok']).toBe(false);
    expect(report['theirs']).toMatchObject({ kind: 'csv', source: csv });
    expect(report['differences']).toEqual([
      {
        key: { facility_id: 'augsburg', machine_id: 'aug-m02', hour: '2026-11-23T07:00:00.000Z' },
        column: 'oee',
        ours: 0.6,
        theirs: expect.closeTo(0.6 * 1.0002, 12),
        relativeDifference: expect.closeTo(0.0002 / 1.0002, 10),
      },
    ]);
    // The same difference passes a tolerance of 0.03 %.
    const looser = await aurora(
      ['reconcile', '--against', csv, '--query', QUERY, '--tolerance', '0.03'],
      env,
    );
    expect(looser.code).toBe(0);
  });

  it('passes a CSV within 0.005 % (exit 0), and prints the report as JSON with its lake path', async () => {
    const csv = await legacyCsv('legacy-close.csv', 1.00005);
    const run = await aurora(['reconcile', '--against', csv, '--query', QUERY, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as {
      ok: boolean;
      reportPath: string;
      maxRelativeDifference: number;
    };
    expect(printed.ok).toBe(true);
    expect(printed.maxRelativeDifference).toBeCloseTo(0.00005 / 1.00005, 10);
    const { reportPath, ...report } = printed;
    expect(JSON.parse((await lake.get(reportPath)).toString('utf8'))).toEqual(report);
  });

  it('fails on rows missing on either side and on a duplicate key (exit 1)', async () => {
    const run = await aurora(
      [
        'reconcile',
        '--against',
        `${QUERY} WHERE machine_id <> 'ing-m01' UNION ALL ${QUERY} WHERE machine_id = 'aug-m01'`,
        '--query',
        `${QUERY} UNION ALL SELECT 'regensburg', 'reg-m01', TIMESTAMPTZ '2026-11-23 07:00:00Z', 0.5, 1`,
      ],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^only in ours \(2\):$/m);
    expect(run.stdout).toContain('  facility_id=regensburg machine_id=reg-m01 hour=2026-11-23T07:00:00.000Z');
    expect(run.stdout).toMatch(/^ {2}theirs +2 rows {2}facility_id=augsburg machine_id=aug-m01 /m);
    expect(run.stdout).toContain('FAILED: 2 rows only in ours; 1 duplicate key');
  });

  it('exits 2 on a usage error, saying what to do', { timeout: 300_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [['--against', QUERY], /--against needs --query/],
      [['--query', QUERY], /add --against/],
      [['--against', 'nothing-here.csv', '--query', QUERY], /--against nothing-here\.csv: no such file/],
      [['--against', QUERY, '--query', QUERY, '--key', 'plant'], /--key plant: not a column of both results/],
      [
        ['--against', QUERY, '--query', QUERY, '--tolerance', 'x'],
        /--tolerance must be a non-negative number/,
      ],
      [['--against', 'SELECT * FROM gold.nothing', '--query', QUERY], /nothing/],
    ];
    // Each case is a process of its own: run them side by side.
    const runs = await Promise.all(cases.map(([args]) => aurora(['reconcile', ...args], env)));
    cases.forEach(([args, message], i) => {
      expect({ args, code: runs[i]!.code }).toEqual({ args, code: 2 });
      expect(runs[i]!.stderr).toMatch(message);
    });
  });
});
