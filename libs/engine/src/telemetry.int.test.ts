import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { createLogger, ManualClock } from '@aurora/core';
import { bronzePaths, createBlobLake, type Lake, ParquetCodec, type ParquetSchema } from '@aurora/lake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from './project.js';
import { runMedallion } from './run.js';
import { queryWarehouse } from './warehouse.js';

/** silver.machine_telemetry of pipelines/ over hand-made bronze: the IoT rules, one by one. */

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
let home: string;
const clock = new ManualClock(new Date('2026-11-23T08:10:00Z'));
const log = createLogger({ level: 'silent', name: 'test' });

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
  home = await mkdtemp(join(tmpdir(), 'aurora-telemetry-'));
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  await rm(home, { recursive: true, force: true });
});

const SCHEMA: ParquetSchema = [
  { name: 'facility_id', type: 'VARCHAR' },
  { name: 'machine_id', type: 'VARCHAR' },
  { name: 'sensor_id', type: 'VARCHAR' },
  { name: 'metric', type: 'VARCHAR' },
  { name: 'unit', type: 'VARCHAR' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'event_at', type: 'TIMESTAMP' },
  { name: 'sensor_seq', type: 'BIGINT' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
];
const T0 = Date.parse('2026-11-23T07:00:00Z');
const reading = (sensor: string, seq: number, value: number, atMs: number, batch: string) => ({
  facility_id: 'augsburg',
  machine_id: 'aug-m01',
  sensor_id: sensor,
  metric: sensor.split('-').at(-1),
  unit: 'degC',
  value,
  event_at: new Date(atMs),
  sensor_seq: seq,
  _extracted_at: new Date(atMs + 2_000),
  _batch_id: batch,
});
let fileNo = 0;
const land = async (rows: ReturnType<typeof reading>[]) => {
  const { bytes } = await codec.encode(SCHEMA, rows);
  fileNo++;
  await lake.put(bronzePaths.iot('augsburg', new Date(T0), new Date(T0 + fileNo * 1000)), bytes);
};
const run = async () => {
  const report = await runMedallion(
    { lake, codec, clock, log, home },
    { project: await loadProject(), publish: false },
  );
  expect(report.models.find((m) => m.model === 'silver.machine_telemetry')?.error).toBeUndefined();
};
const windows = async (sensor: string) =>
  (
    await queryWarehouse(
      home,
      `SELECT epoch_ms(window_start) - ${T0} AS offset_ms, sample_count, value_min, value_max, value_avg, value_stddev, is_spike, is_flatline
       FROM silver.machine_telemetry WHERE sensor_id = '${sensor}' ORDER BY window_start`,
    )
  ).rows;

describe('silver.machine_telemetry', () => {
  it('aggregates one-minute windows, counts a redelivered reading once, and merges a late reading into its window', async () => {
    const sensor = 'aug-m01-temperature';
    // Minute 0: 10, 20, 30; minute 1: 40.
    await land([
      reading(sensor, 1, 10, T0 + 5_000, 'b1'),
      reading(sensor, 2, 20, T0 + 25_000, 'b1'),
      reading(sensor, 3, 30, T0 + 45_000, 'b1'),
      reading(sensor, 4, 40, T0 + 65_000, 'b1'),
    ]);
    // Event Hubs redelivers reading 2 in another batch.
    await land([reading(sensor, 2, 20, T0 + 25_000, 'b2')]);
    await run();
    expect(await windows(sensor)).toEqual([
      {
        offset_ms: 0,
        sample_count: 3,
        value_min: 10,
        value_max: 30,
        value_avg: 20,
        value_stddev: 10,
        is_spike: false,
        is_flatline: false,
      },
      {
        offset_ms: 60_000,
        sample_count: 1,
        value_min: 40,
        value_max: 40,
        value_avg: 40,
        value_stddev: null,
        is_spike: false,
        is_flatline: false,
      },
    ]);

    // A reading of minute 0 arrives late (store-and-forward after an outage): the window takes it.
    await land([reading(sensor, 5, 60, T0 + 50_000, 'b3')]);
    await run();
    const [first] = await windows(sensor);
    expect(first).toMatchObject({ sample_count: 4, value_max: 60, value_avg: 30 });

    // The 5-minute and 1-hour windows are rolled up from the minutes: all 5 distinct readings.
    const rolled = await queryWarehouse(
      home,
      `SELECT (SELECT sample_count FROM silver.machine_telemetry_5m WHERE sensor_id = '${sensor}') AS five,
              (SELECT value_avg FROM silver.machine_telemetry_1h WHERE sensor_id = '${sensor}') AS hour_avg`,
    );
    expect(rolled.rows[0]).toEqual({ five: 5, hour_avg: 32 });
  });

  it('flags a flatline and a spike', async () => {
    const flat = 'aug-m01-pressure';
    const spiky = 'aug-m01-vibration';
    const rows: ReturnType<typeof reading>[] = [];
    let seq = 100;
    // A stuck pressure sensor: the same value all minute.
    for (let i = 0; i < 4; i++) rows.push(reading(flat, seq++, 3.2, T0 + i * 15_000, 'f1'));
    // A vibration sensor with 20 quiet minutes, then a burst.
    for (let minute = 0; minute < 21; minute++) {
      const level = minute === 20 ? 50 : 1 + (minute % 3) * 0.1;
      for (let i = 0; i < 3; i++)
        rows.push(reading(spiky, seq++, level + i * 0.01, T0 + minute * 60_000 + i * 15_000, 'f1'));
    }
    await land(rows);
    await run();
    expect((await windows(flat))[0]).toMatchObject({ sample_count: 4, is_flatline: true, value_stddev: 0 });
    const vibration = await windows(spiky);
    expect(vibration.filter((w) => w['is_spike']).map((w) => w['offset_ms'])).toEqual([20 * 60_000]);
    expect(vibration.some((w) => w['is_flatline'])).toBe(false);
  });
});
