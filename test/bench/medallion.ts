import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ManualClock, silentLogger, systemClock } from '@aurora/core';
import { createBronze, loadProject, runMedallion, syncToCache } from '@aurora/engine';
import { ERP_FUNCTION, MES_FUNCTIONS } from '@aurora/functions-ingest/functions';
import { SAP_FUNCTIONS } from '@aurora/functions-sap/functions';
import { bronzePaths } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { LocalPlatform } from '@aurora/platform';
import { DuckDBInstance } from '@duckdb/node-api';
import type { BenchRow } from './table.js';

/** Monday 23 November 2026, a full production day in all three plants (UTC day). */
const DAY_START = Date.parse('2026-11-23T00:00:00Z');
const DAY_MS = 24 * 3_600_000;
/** The plant's telemetry rate (ARCHITECTURE §6): 5,000 messages a minute over 340 sensors. */
const MESSAGES_PER_MINUTE = 5_000;

/**
 * Bronze for one plant-day at full scale: the sources' own timer functions on the local platform with the
 * plant clock at the day's end — the three MES (24 h window), the Oracle ERP (first-run snapshot plus
 * CDC) and SAP (hourly and nightly) — and 7.2 million sensor readings written straight as bronze Parquet
 * (one file per facility and hour, the landing's own columns): generating them through MQTT would
 * measure the IoT path, not the medallion.
 */
async function landPlantDay(home: string): Promise<{ platform: LocalPlatform; readings: number }> {
  const config = loadConfig({ ...process.env, AURORA_HOME: home, AURORA_MES_INITIAL_LOOKBACK_H: '24' });
  const platform = await LocalPlatform.open({
    config,
    log: silentLogger,
    clock: systemClock,
    mode: 'one-shot',
    seed: 1,
    plantClock: new ManualClock(new Date(DAY_START + DAY_MS)),
  });
  const lake = platform.storage.lake;
  const timers = [
    ...Object.values(MES_FUNCTIONS).map((f) => f.name),
    ERP_FUNCTION,
    SAP_FUNCTIONS.transactional.name,
    SAP_FUNCTIONS.master.name,
  ];
  for (const name of timers) await platform.host.invokeTimer(name);

  const sensors = catalogue.sensors.map((s) => ({
    facility: s.facilityId,
    machine: s.machineId,
    sensor: s.id,
    metric: s.metric,
    unit: s.unit,
  }));
  const periodMs = Math.round((60_000 * sensors.length) / MESSAGES_PER_MINUTE);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const dir = await mkdtemp(join(tmpdir(), 'aurora-bench-iot-'));
  let readings = 0;
  try {
    await connection.run(
      `CREATE TABLE sensors AS SELECT * FROM (VALUES ${sensors.map((s, i) => `(${i}, '${s.facility}', '${s.machine}', '${s.sensor}', '${s.metric}', '${s.unit}')`).join(', ')}) AS t(n, facility_id, machine_id, sensor_id, metric, unit)`,
    );
    for (const { id: facility } of catalogue.facilities) {
      for (let hour = 0; hour < 24; hour++) {
        const from = DAY_START + hour * 3_600_000;
        const file = join(dir, `${facility}-${hour}.parquet`);
        await connection.run(`
          COPY (
            SELECT s.facility_id, s.machine_id, s.sensor_id, s.metric, s.unit,
              round(50 + 10 * sin(k / 500.0 + s.n) + (hash(s.n, k) % 1000) / 500.0, 3) AS value,
              make_timestamptz(CAST((${from} + (s.n * 37) % ${periodMs} + k * ${periodMs}) * 1000 AS BIGINT)) AS event_at,
              CAST(${from / periodMs} + k AS BIGINT) AS sensor_seq, s.sensor_id AS device_id,
              CAST(s.n % 3 AS VARCHAR) AS partition_id, CAST(k AS BIGINT) AS sequence_number,
              make_timestamptz(CAST((${from} + k * ${periodMs} + 1500) * 1000 AS BIGINT)) AS enqueued_at,
              CAST(k AS VARCHAR) AS hub_offset,
              make_timestamptz(CAST((${from} + k * ${periodMs} + 1500) * 1000 AS BIGINT)) AS iothub_enqueued_at,
              'iot' AS _source,
              make_timestamptz(CAST((${from} + k * ${periodMs} + 4000) * 1000 AS BIGINT)) AS _extracted_at,
              'bench-${facility}-${hour}' AS _batch_id
            FROM sensors AS s, range(${Math.floor(3_600_000 / periodMs)}) AS r(k)
            WHERE s.facility_id = '${facility}'
          ) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
        const bytes = await readFile(file);
        const rows = Number(
          (await connection.runAndReadAll(`SELECT count(*) FROM '${file}'`)).getRows()[0]![0],
        );
        readings += rows;
        await lake.put(bronzePaths.iot(facility, new Date(from), new Date(from + 3_600_000)), bytes, {
          metadata: { rows: String(rows) },
        });
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
  return { platform, readings };
}

/**
 * One plant-day at full scale through silver and gold (ARCHITECTURE §6: under 60 s on 2 cores): the whole
 * medallion run — bronze mirrored from the lake, every model, quarantine, expectations, Delta commits —
 * beside the reference, the same models' SQL run directly in DuckDB over the same local bronze.
 */
export async function benchMedallion(): Promise<BenchRow[]> {
  const home = await mkdtemp(join(tmpdir(), 'aurora-bench-medallion-'));
  const { platform, readings } = await landPlantDay(home);
  try {
    const lake = platform.storage.lake;
    const codec = platform.codec;
    const project = await loadProject();
    const clock = new ManualClock(new Date(DAY_START + DAY_MS));

    const runStarted = performance.now();
    const report = await runMedallion({ lake, codec, clock, log: silentLogger, home }, { project });
    const runS = (performance.now() - runStarted) / 1000;
    if (!report.ok) throw new Error(`medallion failed: ${report.problems.join('; ')}`);

    // The reference: the same SQL, bare, over the bronze the run already mirrored.
    const cache = await syncToCache(lake, 'bronze/', join(home, 'cache', 'lake'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    let refS: number;
    try {
      await connection.run("SET TimeZone = 'UTC'");
      const started = performance.now();
      for (const schema of ['bronze', 'reference', 'silver', 'gold'])
        await connection.run(`CREATE SCHEMA ${schema}`);
      await createBronze(
        connection,
        project,
        cache.files.filter((f) => f.path.endsWith('.parquet')),
      );
      for (const ref of project.reference)
        await connection.run(
          `CREATE TABLE reference.${ref.name} AS SELECT * FROM read_csv('${ref.file}', header = true)`,
        );
      for (const model of project.models) await connection.run(`CREATE TABLE ${model.name} AS ${model.sql}`);
      refS = (performance.now() - started) / 1000;
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    let bronzeRows = 0;
    for (const prefix of ['bronze/mes/', 'bronze/oracle-erp/', 'bronze/sap/'])
      for await (const f of lake.list(prefix)) bronzeRows += Number(f.metadata['rows'] ?? 0);
    const telemetry = report.models.find((m) => m.model === 'silver.machine_telemetry')?.rows ?? 0;
    return [
      { name: "Medallion, one plant-day: the models' SQL alone in DuckDB", value: refS, unit: 's', ratio: 1 },
      {
        name: 'Medallion, one plant-day: full run (mirror, models, quarantine, expectations, Delta commits)',
        value: runS,
        unit: 's',
        ratio: runS / refS,
        note: `${readings.toLocaleString('en')} readings -> ${telemetry.toLocaleString('en')} sensor-minutes, ${bronzeRows.toLocaleString('en')} MES/ERP/SAP bronze rows; ${report.models.length} models; target < 60 s`,
      },
    ];
  } finally {
    await platform.close();
    await rm(home, { recursive: true, force: true });
  }
}
