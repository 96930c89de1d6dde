import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aurora/core';
import { DQ_RESULTS_TABLE, warehousePath } from '@aurora/engine';
import { DeltaTable, type Lake, ParquetCodec } from '@aurora/lake';
import { openStorage } from '@aurora/platform';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { aurora, type CliResult } from './cli.js';

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
  erp: {
    ok: boolean;
    window: { fromScn: string; toScn: string } | null;
    tables: {
      table: string;
      rows: number;
      inserts: number;
      updates: number;
      deletes: number;
      file?: string;
    }[];
  };
  sap: {
    run: string;
    function: string;
    ok: boolean;
    bapis: { bapi: string; ok: boolean; landed: number; deadLettered: number; error?: { code: string } }[];
  }[];
  problems: string[];
}

const SAP_BAPIS = [
  'bapi_goodsmvt_getitems',
  'bapi_material_getlist',
  'bapi_po_getdetail',
  'rfc_read_table_mard',
];
const SAP_FILE =
  /^bronze\/sap\/(bapi_goodsmvt_getitems|bapi_po_getdetail|rfc_read_table_mard|bapi_material_getlist)\/year=2026\/month=11\/day=23\/\1_20261123T080000000000Z\.parquet$/;
const sapRowsOf = (summary: Summary) => summary.sap.flatMap((s) => s.bapis).reduce((n, b) => n + b.landed, 0);

const ERP_FILE =
  /^bronze\/oracle-erp\/([a-z_]+)\/year=2026\/month=11\/day=23\/\1_20261123T080000000000Z\.parquet$/;

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
    const erpRows = summary.erp.tables.reduce((n, t) => n + t.rows, 0);
    const verify = await aurora(['lake', 'verify'], env);
    expect(verify.code).toBe(0);
    // Silver, gold and the other sources are verified too: at least what these three sources landed.
    const checked = Number(/([\d,]+) rows checked, 0 problems/.exec(verify.stdout)?.[1]?.replaceAll(',', ''));
    expect(checked).toBeGreaterThanOrEqual(summary.iot.published + mesRows + erpRows + sapRowsOf(summary));

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

    // The Oracle ERP: at least 8 tables in the exact layout; the first run's snapshot, then CDC rows with _op and _scn.
    expect(summary.erp.ok).toBe(true);
    const erpFiles = (await aurora(['lake', 'ls', 'bronze/oracle-erp/'], env)).stdout.trim().split('\n');
    expect(erpFiles.length).toBeGreaterThanOrEqual(8);
    for (const path of erpFiles) expect(path).toMatch(ERP_FILE);
    const cdc = summary.erp.tables.filter((t) => t.inserts + t.updates + t.deletes > 0);
    expect(cdc.length).toBeGreaterThan(0);
    const jobs = erpFiles.find((p) => p.includes('/wip_discrete_jobs/'))!;
    const jobRows = (await aurora(['lake', 'cat', jobs], env)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const changed = jobRows.filter((r) => r['_op'] === 'U');
    expect(changed.length).toBeGreaterThan(0);
    for (const r of changed) {
      expect(r['_scn']).toMatch(/^\d+$/);
      expect(BigInt(String(r['_scn']))).toBeGreaterThan(BigInt(summary.erp.window!.fromScn));
      expect(r['_source']).toBe('oracle-erp');
    }

    // SAP: both timers ran after the MES; each BAPI landed one file in the exact layout, with the lineage.
    expect(summary.sap.map((s) => [s.function, s.ok])).toEqual([
      ['ingestSapTransactional', true],
      ['ingestSapMaster', true],
    ]);
    for (const b of summary.sap.flatMap((s) => s.bapis)) expect(b.landed, b.bapi).toBeGreaterThan(0);
    const sapFiles = (await aurora(['lake', 'ls', 'bronze/sap/'], env)).stdout.trim().split('\n');
    expect(sapFiles.map((p) => p.split('/')[2]).sort()).toEqual(SAP_BAPIS);
    for (const path of sapFiles) {
      expect(path).toMatch(SAP_FILE);
      const [row] = (await aurora(['lake', 'cat', path, '--limit', '1'], env)).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(row).toMatchObject({ _source: 'sap', _extracted_at: '2026-11-23T08:00:00.000Z' });
      expect(row?.['_batch_id']).toBe(`sap-${path.split('/')[2]}-20261123T080000000000Z`);
      expect(row?.['_record_key']).toBeTruthy();
      const typed: Record<string, RegExp> = {
        bapi_po_getdetail: /"PO_NUMBER":"45000\d{5}".*"DELIV_DATE":"2026-\d\d-\d\dT00:00:00.000Z"/,
        bapi_goodsmvt_getitems:
          /"MAT_DOC":"\d{10}".*"ENTRY_QNT":\d+.*"PSTNG_DATE":"2026-11-2\dT00:00:00.000Z"/,
        rfc_read_table_mard: /"MATNR":"AUR-\d{5}","WERKS":"[123]000","LGORT":"0001".*"LABST":-?\d+/,
        bapi_material_getlist: /"MATERIAL":"AUR-\d{5}"/,
      };
      expect(JSON.stringify(row)).toMatch(typed[path.split('/')[2]!]!);
    }

    const status = JSON.parse((await aurora(['status', '--json'], env)).stdout);
    expect(status.sources.find((s: { source: string }) => s.source === 'sap')).toMatchObject({
      rowsLandedTotal: sapRowsOf(summary),
      deadLetteredTotal: 0,
      lastError: null,
    });
    expect(status.sources.map((s: { source: string }) => s.source)).toEqual(
      expect.arrayContaining(['iot', 'mes-augsburg', 'mes-ingolstadt', 'mes-regensburg', 'oracle-erp']),
    );
    status.sources = status.sources.filter(
      (s: { source: string }) => s.source === 'iot' || s.source.startsWith('mes-'),
    );
    expect(status.sources[0]).toMatchObject({
      rowsLandedTotal: summary.iot.landed,
      deadLetteredTotal: summary.iot.deadLettered,
    });
    expect(
      status.sources.slice(1).reduce((n: number, s: { rowsLandedTotal: number }) => n + s.rowsLandedTotal, 0),
    ).toBe(mesRows);
    expect(status.sources.slice(1).every((s: { lastError: unknown }) => s.lastError === null)).toBe(true);
  }, 300_000);

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
  }, 300_000);

  it('survives SAP unreachable over RFC: retried, dead-lettered with the error object, shown in status; the next cycle catches up', async () => {
    const env = { ...(await newHome()), AURORA_RETRY_DELAYS_S: '0.01,0.01,0.01' };
    const args = ['run', '--once', '--seed', '1', '--at', AT, '--window-minutes', '1', '--json'];
    const down = await aurora([...args, '--fault', 'sap:communication_failure'], env);
    expect(down.code).toBe(1);
    const summary = JSON.parse(down.stdout) as Summary;
    expect(summary.mes.every((f) => f.ok)).toBe(true);
    const bapis = summary.sap.flatMap((s) => s.bapis);
    expect(bapis.map((b) => [b.bapi, b.ok, b.error?.code]).sort()).toEqual(
      SAP_BAPIS.map((b) => [b, false, 'source.unavailable']),
    );
    expect(summary.problems.filter((p) => p.startsWith('sap '))).toHaveLength(4);
    expect((await aurora(['lake', 'ls', 'bronze/sap/'], env)).stdout.trim()).toBe('');
    const letters = (await aurora(['lake', 'ls', 'bronze/_deadletter/sap/'], env)).stdout.trim().split('\n');
    expect(letters).toHaveLength(4);
    const letter = JSON.parse(
      (await aurora(['lake', 'cat', letters[0]!], env)).stdout.trim().split('\n')[0]!,
    );
    expect(letter).toMatchObject({
      code: 'sap.unavailable',
      payload: { name: 'RfcLibError', group: 4, code: 1, key: 'RFC_COMMUNICATION_FAILURE' },
      context: { attempts: 4, rfc_class: 'communication' },
    });
    const status = JSON.parse((await aurora(['status', '--json'], env)).stdout);
    const sap = status.sources.find((s: { source: string }) => s.source === 'sap');
    expect(sap).toMatchObject({ lastSuccessAt: null, rowsLandedTotal: 0, deadLetteredTotal: 4 });
    // The master-data run came last: its failure is the last error.
    expect(sap.lastError).toMatch(
      /bapi_material_getlist: gave up after 4 attempts.*RFC_COMMUNICATION_FAILURE/,
    );

    const again = await aurora(args, env);
    const recovered = JSON.parse(again.stdout) as Summary;
    expect(recovered.problems.filter((p) => p.startsWith('sap '))).toEqual([]);
    expect(recovered.sap.every((s) => s.ok && s.bapis.every((b) => b.landed > 0))).toBe(true);
  }, 300_000);

  it('is deterministic for a seed, and two homes never touch each other', async () => {
    const [a, b] = [await newHome(), await newHome()];
    const [ra, rb] = await Promise.all([
      aurora(['run', '--once', '--seed', '7', '--at', AT, '--window-minutes', '2', '--json'], a),
      aurora(['run', '--once', '--seed', '7', '--at', AT, '--window-minutes', '2', '--json'], b),
    ]);
    const [sa, sb] = [JSON.parse(ra.stdout) as Summary, JSON.parse(rb.stdout) as Summary];
    expect(sa.ok && sb.ok).toBe(true);
    // Rows are a function of the seed; how many files they land in depends on when the edge flushes.
    const rowsOnly = (iot: Summary['iot']) => ({
      ...iot,
      byFacility: Object.fromEntries(Object.entries(iot.byFacility).map(([f, x]) => [f, x.rows])),
    });
    expect(rowsOnly(sb.iot)).toEqual(rowsOnly(sa.iot));
    expect(sb.mes).toEqual(sa.mes);
    expect(sb.sap).toEqual(sa.sap);
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
    const checkedA = Number(
      /([\d,]+) rows checked, 0 problems/.exec(verifyA.stdout)?.[1]?.replaceAll(',', ''),
    );
    expect(checkedA).toBeGreaterThanOrEqual(sa.iot.published + mesRowsA + sapRowsOf(sa));
  }, 300_000);

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

/**
 * Every silver and gold Delta table in the lake at its current version, with the SHA-256 of each data file
 * computed from its bytes (and checked against the hash its log recorded). The DQ history
 * (silver/dq_results) is a log of runs, not a function of bronze, and is left out.
 */
async function deltaTables(env: { AURORA_HOME: string }) {
  const storage = await openStorage(loadConfig(env), 'ephemeral');
  const codec = await ParquetCodec.create();
  try {
    const tables = new Map<string, { version: number; paths: string[]; sha256: string[] }>();
    for (const container of ['silver/', 'gold/']) {
      for await (const f of storage.lake.list(container)) {
        const location = /^(.+\/)_delta_log\/0{20}\.json$/.exec(f.path)?.[1];
        if (!location || location === DQ_RESULTS_TABLE) continue;
        const snapshot = await new DeltaTable({ lake: storage.lake, codec }, location).snapshot();
        const files = [];
        for (const file of snapshot.files) {
          const sha256 = createHash('sha256')
            .update(await storage.lake.get(file.lakePath))
            .digest('hex');
          expect(file.add.tags?.['sha256'], file.lakePath).toBe(sha256);
          files.push({ path: file.lakePath, sha256 });
        }
        tables.set(location, {
          version: snapshot.version,
          paths: files.map((x) => x.path).sort(),
          sha256: files.map((x) => x.sha256).sort(),
        });
      }
    }
    return tables;
  } finally {
    codec.close();
    await storage.close();
  }
}

describe('the medallion after aurora run --once', () => {
  const query = async (env: Record<string, string>, sql: string) => {
    const result = await aurora(['query', sql, '--format', 'json'], env);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as Record<string, unknown>[];
  };
  // One whole cycle serves every test of this block (CI time): the first test that needs it runs it.
  let cycle: Promise<{ env: { AURORA_HOME: string }; run: CliResult }> | undefined;
  const ranOnce = () =>
    (cycle ??= (async () => {
      const env = await newHome();
      return { env, run: await aurora(['run', '--once', '--seed', '1', '--at', AT], env) };
    })());

  it('leaves silver as Delta tables without duplicate keys, gold OEE consistent, and reconcile clean; a rebuild from bronze gives the same tables', async () => {
    const { env, run } = await ranOnce();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/medallion {2}\d+ models/);

    const delta = (await aurora(['lake', 'ls', 'silver/'], env)).stdout.trim().split('\n');
    for (const table of [
      'production_orders',
      'machine_states',
      'machine_telemetry',
      'quality_measurements',
    ]) {
      expect(delta).toContain(`silver/${table}/_delta_log/00000000000000000000.json`);
    }

    const duplicates = await query(
      env,
      `SELECT 'production_orders' AS t, count(*) - count(DISTINCT (facility_id, order_id)) AS n FROM silver.production_orders
       UNION ALL SELECT 'machine_telemetry', count(*) - count(DISTINCT (sensor_id, window_start)) FROM silver.machine_telemetry
       UNION ALL SELECT 'machine_states', count(*) - count(DISTINCT (facility_id, state_id)) FROM silver.machine_states`,
    );
    expect(duplicates.every((r) => r['n'] === 0)).toBe(true);

    const [oee] = await query(
      env,
      `SELECT count(*) AS hours,
         count(*) FILTER (WHERE is_complete) AS complete,
         count(*) FILTER (WHERE oee IS NOT NULL AND performance IS NOT NULL AND quality IS NOT NULL
                          AND oee <> availability * performance * quality) AS oee_not_product,
         count(*) FILTER (WHERE availability NOT BETWEEN 0 AND 1 OR performance NOT BETWEEN 0 AND 1
                          OR quality NOT BETWEEN 0 AND 1 OR oee NOT BETWEEN 0 AND 1) AS out_of_range
       FROM gold.agg_oee_hourly`,
    );
    expect(oee).toMatchObject({ oee_not_product: 0, out_of_range: 0 });
    expect(Number(oee!['complete'])).toBeGreaterThan(1000);

    const [days] = await query(
      env,
      `WITH h AS (
         SELECT facility_id, machine_id, CAST(hour_start AT TIME ZONE 'Europe/Berlin' AS DATE) AS day,
                sum(planned_time_s) AS p, sum(run_time_s) AS r, sum(total_count) AS t, sum(good_count) AS g
         FROM gold.agg_oee_hourly GROUP BY ALL)
       SELECT count(*) AS days,
              count(*) FILTER (WHERE d.planned_time_s <> h.p OR d.run_time_s <> h.r OR d.total_count <> h.t OR d.good_count <> h.g) AS unequal
       FROM gold.agg_oee_daily AS d JOIN h USING (facility_id, machine_id, day)`,
    );
    expect(days).toMatchObject({ unequal: 0 });
    expect(Number(days!['days'])).toBe(340);

    const reconcile = await aurora(['reconcile'], env);
    expect(reconcile.code, reconcile.stdout).toBe(0);
    expect(reconcile.stdout).toMatch(/seed 1, [\d,]+ machine-hours .* tolerance 0\.010 %\nOK/);
    // Against another plant (seed 2) the same gold must fail, and say where.
    const wrong = await aurora(['reconcile', '--seed', '2', '--worst', '3'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/agg_oee_hourly .*\n[\s\S]*FAILED: [\d]+ differences/);

    // query prints tables, JSON and CSV, explains a bad statement, and cannot change the warehouse.
    const sql = 'SELECT facility_id, count(*) AS machines FROM gold.dim_machine GROUP BY 1 ORDER BY 1';
    expect((await aurora(['query', sql], env)).stdout).toMatch(
      /facility_id\s+machines\n-+\s+-+\naugsburg\s+\d+/,
    );
    expect(JSON.parse((await aurora(['query', sql, '--format', 'json'], env)).stdout)).toHaveLength(3);
    expect((await aurora(['query', sql, '--format', 'csv'], env)).stdout.split('\n')[0]).toBe(
      'facility_id,machines',
    );
    const bad = await aurora(['query', 'SELECT * FROM gold.no_such_table'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no_such_table/);
    const write = await aurora(['query', 'DROP TABLE gold.dim_machine'], env);
    expect(write.code).toBe(2);
    expect(write.stderr).toMatch(/read-only/i);

    // Disaster recovery (docs/dr.md): silver and gold deleted, rebuilt from bronze alone, the same rows come
    // back, and bit for bit: every table of both layers is created again (a history as long as the first
    // run's, new files) and its data files have the same bytes as before.
    const snapshot = (sql: string) => aurora(['query', sql, '--format', 'csv'], env).then((r) => r.stdout);
    const tables = [
      'silver.production_orders',
      'silver.machine_telemetry',
      'gold.agg_oee_hourly',
      'gold.agg_oee_daily',
    ];
    const before = await Promise.all(tables.map((t) => snapshot(`SELECT * FROM ${t}`)));
    const filesBefore = await deltaTables(env);
    const rebuild = await aurora(['pipelines', 'run', '--rebuild'], env);
    expect(rebuild.code, rebuild.stdout).toBe(0);
    expect(rebuild.stderr).toMatch(/deleted [1-9]\d* files under silver\/ and gold\//);
    expect(await Promise.all(tables.map((t) => snapshot(`SELECT * FROM ${t}`)))).toEqual(before);
    const filesAfter = await deltaTables(env);
    expect([...filesAfter.keys()].sort()).toEqual([...filesBefore.keys()].sort());
    expect([...filesBefore.keys()].filter((t) => t.startsWith('gold/')).length).toBeGreaterThan(5);
    for (const [location, was] of filesBefore) {
      const now = filesAfter.get(location)!;
      expect(now.version, location).toBe(was.version);
      expect(
        now.paths.filter((p) => was.paths.includes(p)),
        location,
      ).toEqual([]);
      expect(now.sha256, location).toEqual(was.sha256);
    }
  }, 300_000);

  it('leaves no personal data in clear: no e-mail address or phone number in bronze, silver, gold, dead letters or the warehouse, and the sealed values are there', async () => {
    const { env, run } = await ranOnce();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // As the stand-ins generate them (libs/plant/src/parties.ts): `+49 123 45678`, and `+49 12345678` after a CRM update.
    const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
    const PHONE = /\+\d{1,3} [\d ]{6,}\d/;
    const SEALED = /^pd1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/;
    const found: string[] = [];
    const sealed = new Map<string, number>();
    // Around each `@` only: the pattern run over a long token-like string (a 256 KB malformed message) is
    // quadratic.
    const hasEmail = (value: string) => {
      for (let at = value.indexOf('@'); at >= 0; at = value.indexOf('@', at + 1))
        if (EMAIL.test(value.slice(Math.max(0, at - 64), at + 256))) return true;
      return false;
    };
    const check = (where: string, value: string) => {
      if (hasEmail(value) || PHONE.test(value)) found.push(`${where}: ${value.slice(0, 120)}`);
      if (SEALED.test(value)) sealed.set(where.split(' ')[0]!, (sealed.get(where.split(' ')[0]!) ?? 0) + 1);
    };

    const storage = await openStorage(loadConfig(env), 'ephemeral');
    const codec = await ParquetCodec.create();
    const files = { parquet: 0, deadLetters: 0, other: 0 };
    try {
      const scan = async (lake: Lake, prefix: string) => {
        for await (const f of lake.list(prefix)) {
          const bytes = await lake.get(f.path);
          if (f.path.endsWith('.parquet')) {
            files.parquet++;
            for (const row of await codec.decode(bytes))
              for (const [column, value] of Object.entries(row))
                if (typeof value === 'string') check(`${f.path} ${column}`, value);
          } else {
            // Dead letters (JSON lines), Delta logs, anything else: as text.
            if (f.path.startsWith('bronze/_deadletter/')) files.deadLetters++;
            else files.other++;
            for (const line of bytes.toString('utf8').split('\n')) check(f.path, line);
          }
        }
      };
      for (const prefix of ['bronze/', 'silver/', 'gold/']) await scan(storage.lake, prefix);
    } finally {
      codec.close();
      await storage.close();
    }
    expect(files.parquet).toBeGreaterThan(50);
    expect(files.deadLetters).toBeGreaterThan(0);

    // The warehouse `aurora query` and the API read: every VARCHAR column of every silver and gold table.
    const db = await DuckDBInstance.create(warehousePath(env.AURORA_HOME), { access_mode: 'READ_ONLY' });
    const connection = await db.connect();
    try {
      const columns = (
        await connection.runAndReadAll(
          `SELECT table_schema, table_name, column_name FROM information_schema.columns
           WHERE table_schema IN ('silver', 'gold') AND data_type = 'VARCHAR'`,
        )
      ).getRowObjects();
      expect(columns.length).toBeGreaterThan(20);
      for (const c of columns) {
        const table = `"${c['table_schema']}"."${c['table_name']}"`;
        const column = `"${c['column_name']}"`;
        for (const row of (
          await connection.runAndReadAll(
            `SELECT DISTINCT ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL`,
          )
        ).getRowObjects())
          check(`warehouse:${c['table_schema']}.${c['table_name']} ${c['column_name']}`, String(row['v']));
      }
    } finally {
      connection.closeSync();
      db.closeSync();
    }

    expect(found).toEqual([]);
    // Not vacuous: the personal columns are there, sealed, in every layer.
    const count = (prefix: string) =>
      [...sealed].filter(([where]) => where.startsWith(prefix)).reduce((n, [, k]) => n + k, 0);
    for (const where of [
      'bronze/oracle-erp/hz_parties/',
      'bronze/oracle-erp/ap_supplier_contacts/',
      'bronze/oracle-erp/oe_order_headers_all/',
      'bronze/sap/bapi_po_getdetail/',
      'bronze/sap/bapi_goodsmvt_getitems/',
      'silver/customer_contacts/',
      'silver/suppliers/',
      'warehouse:silver.customer_contacts',
      'warehouse:silver.suppliers',
    ])
      expect(count(where), where).toBeGreaterThan(0);
  }, 300_000);
});
