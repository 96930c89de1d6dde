import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aurora } from './cli.js';

const homes: string[] = [];
const newHome = async () => {
  const home = await mkdtemp(join(tmpdir(), 'aurora-e2e-'));
  homes.push(home);
  return { AURORA_HOME: home };
};
afterAll(async () => {
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

interface Summary {
  ok: boolean;
  iot: {
    published: number;
    publishedBad: number;
    landed: number;
    deadLettered: number;
    byFacility: Record<string, { rows: number; files: number }>;
  };
  mes: {
    facility: string;
    ok: boolean;
    entities: { entity: string; ok: boolean; landed: number; duplicates: number; file?: string }[];
  }[];
  problems: string[];
}

const MES_FILE =
  /^bronze\/mes\/(augsburg|ingolstadt|regensburg)\/(production_orders|machine_states|quality_measurements)\/year=2026\/month=11\/day=23\/\2_\d{8}T\d{12}Z\.parquet$/;
const LINEAGE = ['_source', '_extracted_at', '_batch_id', '_record_key', '_modified_at'];

const AT = '2026-11-23T08:00:00Z';
const BRONZE_IOT =
  /^bronze\/iot\/(augsburg|ingolstadt|regensburg)\/year=2026\/month=11\/day=23\/hour=07\/telemetry_\d{8}T\d{12}Z\.parquet$/;

describe('aurora run --once', () => {
  it('lands exactly what the simulator published, bad messages counted in dead-letter, for all three facilities', async () => {
    const env = await newHome();
    const run = await aurora(['run', '--once', '--seed', '1', '--at', AT, '--json'], env);
    expect(run.stderr).not.toMatch(/"level":(50|60)/); // no error logs
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.problems).toEqual([]);
    expect(summary.iot.published).toBe(340 * 0.25 * 300);
    expect(summary.iot.publishedBad).toBeGreaterThan(0);
    expect(summary.iot.deadLettered).toBe(summary.iot.publishedBad);
    expect(summary.iot.landed).toBe(summary.iot.published - summary.iot.publishedBad);
    const facilityRows = Object.values(summary.iot.byFacility).map((f) => f.rows);
    expect(Object.keys(summary.iot.byFacility).sort()).toEqual(['augsburg', 'ingolstadt', 'regensburg']);
    expect(facilityRows.every((n) => n > 0)).toBe(true);
    expect(facilityRows.reduce((a, b) => a + b, 0)).toBe(summary.iot.landed);

    // The files are in the exact layout, whole, and hold every row (landed + dead-lettered = published).
    const ls = await aurora(['lake', 'ls', 'bronze/iot/'], env);
    const paths = ls.stdout.trim().split('\n');
    expect(paths.length).toBeGreaterThanOrEqual(3);
    for (const path of paths) expect(path).toMatch(BRONZE_IOT);
    expect(new Set(paths.map((p) => p.split('/')[2]))).toEqual(
      new Set(['augsburg', 'ingolstadt', 'regensburg']),
    );
    const mesRows = summary.mes.flatMap((f) => f.entities).reduce((n, e) => n + e.landed, 0);
    const verify = await aurora(['lake', 'verify'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`${summary.iot.published + mesRows} rows checked, 0 problems`);

    const cat = await aurora(['lake', 'cat', paths[0]!, '--limit', '3'], env);
    const rows = cat.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ _source: 'iot', facility_id: paths[0]!.split('/')[2] });
    expect(rows[0]._batch_id).toMatch(/^iot-p[012]-\d+-\d+$/);
    expect(rows[0].event_at).toMatch(/^2026-11-23T07:5\d:\d\d\.\d{3}Z$/);

    // The three MES: all nine facility/entity combinations, in the exact layout, with the lineage columns.
    expect(summary.mes.map((f) => [f.facility, f.ok])).toEqual([
      ['augsburg', true],
      ['ingolstadt', true],
      ['regensburg', true],
    ]);
    for (const f of summary.mes)
      for (const e of f.entities) expect(e.landed, `${f.facility} ${e.entity}`).toBeGreaterThan(0);
    const mesFiles = (await aurora(['lake', 'ls', 'bronze/mes/'], env)).stdout.trim().split('\n');
    for (const path of mesFiles) expect(path).toMatch(MES_FILE);
    expect(new Set(mesFiles.map((p) => p.split('/').slice(2, 4).join('/'))).size).toBe(9);
    for (const path of mesFiles) {
      const [row] = (await aurora(['lake', 'cat', path, '--limit', '1'], env)).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const column of LINEAGE) expect(row?.[column], `${path} ${column}`).toBeTruthy();
      expect(row?.['_source']).toBe(`mes-${path.split('/')[2]}`);
      expect(row?.['_extracted_at']).toBe('2026-11-23T08:00:00.000Z');
    }

    const status = JSON.parse((await aurora(['status', '--json'], env)).stdout);
    expect(status.sources.map((s: { source: string }) => s.source)).toEqual([
      'iot',
      'mes-augsburg',
      'mes-ingolstadt',
      'mes-regensburg',
    ]);
    expect(status.sources[0]).toMatchObject({
      rowsLandedTotal: summary.iot.landed,
      deadLetteredTotal: summary.iot.deadLettered,
    });
    expect(
      status.sources.slice(1).reduce((n: number, s: { rowsLandedTotal: number }) => n + s.rowsLandedTotal, 0),
    ).toBe(mesRows);
    expect(status.sources.slice(1).every((s: { lastError: unknown }) => s.lastError === null)).toBe(true);
  });

  it('survives a MES down for the whole cycle: the others land, the failure shows in status, the next cycle catches up', async () => {
    const env = { ...(await newHome()), AURORA_RETRY_DELAYS_S: '0.01,0.01,0.01' };
    const args = ['run', '--once', '--seed', '1', '--at', AT, '--window-minutes', '1', '--json'];
    const down = await aurora([...args, '--fault', 'regensburg:http_500'], env);
    expect(down.code).toBe(1);
    const summary = JSON.parse(down.stdout) as Summary;
    const byFacility = Object.fromEntries(summary.mes.map((f) => [f.facility, f]));
    expect(byFacility['regensburg']?.ok).toBe(false);
    expect(byFacility['regensburg']?.entities.every((e) => !e.ok && e.landed === 0)).toBe(true);
    for (const f of ['augsburg', 'ingolstadt'])
      expect(byFacility[f]?.entities.every((e) => e.ok && e.landed > 0)).toBe(true);
    expect(summary.iot.landed).toBe(summary.iot.published - summary.iot.publishedBad);
    expect(summary.problems.some((p) => p.startsWith('mes regensburg'))).toBe(true);

    const status = JSON.parse((await aurora(['status', '--json'], env)).stdout);
    const rgb = status.sources.find((s: { source: string }) => s.source === 'mes-regensburg');
    expect(rgb).toMatchObject({ lastSuccessAt: null, rowsLandedTotal: 0, deadLetteredTotal: 3 });
    expect(rgb.lastError).toMatch(/production_orders: .*500/);
    const text = (await aurora(['status'], env)).stdout;
    expect(text).toMatch(/mes-regensburg\s+never/);
    expect(text).toContain('last error: production_orders');
    const letters = (await aurora(['lake', 'ls', 'bronze/_deadletter/mes-regensburg/'], env)).stdout
      .trim()
      .split('\n');
    expect(letters).toHaveLength(3);
    expect((await aurora(['lake', 'ls', 'bronze/mes/regensburg/'], env)).stdout.trim()).toBe('');

    // The checkpoint did not move: the next cycle fetches the window that failed.
    const again = await aurora(args, env);
    expect(again.code).toBe(0);
    const recovered = (JSON.parse(again.stdout) as Summary).mes.find((f) => f.facility === 'regensburg');
    expect(recovered?.entities.every((e) => e.ok && e.landed > 0)).toBe(true);
  });

  it('is deterministic for a seed, and two homes never touch each other', async () => {
    const [a, b] = [await newHome(), await newHome()];
    const [ra, rb] = await Promise.all([
      aurora(['run', '--once', '--seed', '7', '--at', AT, '--window-minutes', '2', '--json'], a),
      aurora(['run', '--once', '--seed', '7', '--at', AT, '--window-minutes', '2', '--json'], b),
    ]);
    const [sa, sb] = [JSON.parse(ra.stdout) as Summary, JSON.parse(rb.stdout) as Summary];
    expect(sa.ok && sb.ok).toBe(true);
    expect(sb.iot).toEqual(sa.iot);
    expect(sb.mes).toEqual(sa.mes);
    const firstRows = async (env: Record<string, string>) => {
      const path = (await aurora(['lake', 'ls', 'bronze/iot/ingolstadt/'], env)).stdout
        .trim()
        .split('\n')[0]!;
      return (await aurora(['lake', 'cat', path, '--limit', '5'], env)).stdout
        .trim()
        .split('\n')
        .map((l) => {
          const r = JSON.parse(l);
          return [r.sensor_id, r.event_at, r.value];
        });
    };
    expect(await firstRows(b)).toEqual(await firstRows(a));
    const verifyA = await aurora(['lake', 'verify'], a);
    const mesRowsA = sa.mes.flatMap((f) => f.entities).reduce((n, e) => n + e.landed, 0);
    expect(verifyA.stdout).toContain(`${sa.iot.published + mesRowsA} rows checked, 0 problems`);
  });

  it('stops with a message naming the bad setting', async () => {
    const run = await aurora(['run', '--once'], {
      ...(await newHome()),
      AURORA_PORT: 'seventy',
      AURORA_IOT_RATE_HZ: '-1',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('AURORA_PORT="seventy"');
    expect(run.stderr).toContain('AURORA_IOT_RATE_HZ');
  });
});
