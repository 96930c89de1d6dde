import { randomUUID } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParquetCodec } from '@aurora/lake';
import { catalogue, simulateTelemetry } from '@aurora/plant';
import { TELEMETRY_BRONZE_SCHEMA } from '@aurora/sources';
import { DuckDBInstance } from '@duckdb/node-api';
import type { BenchRow } from './table.js';

const require = createRequire(import.meta.url);
// parquetjs-lite ships no types; only its writer is used.
const parquet = require('parquetjs-lite') as {
  ParquetSchema: new (fields: Record<string, { type: string; optional?: boolean }>) => unknown;
  ParquetWriter: {
    openFile(
      schema: unknown,
      path: string,
    ): Promise<{ appendRow(r: object): Promise<void>; close(): Promise<void> }>;
  };
};

function telemetryRows(count: number) {
  const from = new Date('2026-11-23T08:00:00Z');
  const seconds = Math.ceil(count / 340);
  const rows = [];
  const extractedAt = new Date();
  for (const m of simulateTelemetry({
    seed: 1,
    from,
    to: new Date(from.getTime() + seconds * 1000),
    rateHz: 1,
  })) {
    const p = JSON.parse(m.payload.toString());
    const s = catalogue.sensor(p.sensor_id)!;
    rows.push({
      facility_id: s.facilityId,
      machine_id: s.machineId,
      sensor_id: s.id,
      metric: s.metric,
      unit: s.unit,
      value: p.value,
      event_at: new Date(p.ts),
      sensor_seq: p.seq,
      device_id: s.id,
      partition_id: '0',
      sequence_number: BigInt(rows.length),
      enqueued_at: extractedAt,
      _source: 'iot',
      _extracted_at: extractedAt,
      _batch_id: 'bench',
    });
    if (rows.length === count) break;
  }
  return rows;
}

const time = async <T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> => {
  const t = performance.now();
  const result = await run();
  return { ms: performance.now() - t, result };
};

/** Parquet landing: Aurora's writer vs parquetjs-lite vs DuckDB COPY generating the rows natively. */
export async function benchParquetLanding(rowCount: number): Promise<BenchRow[]> {
  const rows = telemetryRows(rowCount);
  const codec = await ParquetCodec.create();
  await codec.encode(TELEMETRY_BRONZE_SCHEMA, rows.slice(0, 1000)); // warm-up
  const aurora = await time(() => codec.encode(TELEMETRY_BRONZE_SCHEMA, rows));
  codec.close();

  const lite = await time(async () => {
    const schema = new parquet.ParquetSchema({
      facility_id: { type: 'UTF8' },
      machine_id: { type: 'UTF8' },
      sensor_id: { type: 'UTF8' },
      metric: { type: 'UTF8' },
      unit: { type: 'UTF8' },
      value: { type: 'DOUBLE' },
      event_at: { type: 'TIMESTAMP_MILLIS' },
      sensor_seq: { type: 'INT64' },
      device_id: { type: 'UTF8' },
      partition_id: { type: 'UTF8' },
      sequence_number: { type: 'INT64' },
      enqueued_at: { type: 'TIMESTAMP_MILLIS' },
      _source: { type: 'UTF8' },
      _extracted_at: { type: 'TIMESTAMP_MILLIS' },
      _batch_id: { type: 'UTF8' },
    });
    const path = join(tmpdir(), `bench-lite-${randomUUID()}.parquet`);
    const writer = await parquet.ParquetWriter.openFile(schema, path);
    for (const r of rows) await writer.appendRow({ ...r, sequence_number: Number(r.sequence_number) });
    await writer.close();
    const size = (await stat(path)).size;
    await rm(path);
    return size;
  });

  const duck = await time(async () => {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await instance.connect();
    const path = join(tmpdir(), `bench-duck-${randomUUID()}.parquet`);
    await connection.run(`COPY (
      SELECT 'augsburg' AS facility_id, 'aug-m' || (i % 85) AS machine_id, 'aug-m' || (i % 85) || '-temperature' AS sensor_id,
             'temperature' AS metric, 'degC' AS unit, 40 + (i % 1000) / 100.0 AS value,
             TIMESTAMPTZ '2026-11-23 08:00:00+00' + to_milliseconds(i) AS event_at, i AS sensor_seq,
             'aug-m' || (i % 85) || '-temperature' AS device_id, '0' AS partition_id, i AS sequence_number,
             now() AS enqueued_at, 'iot' AS _source, now() AS _extracted_at, 'bench' AS _batch_id
      FROM range(${rowCount}) t(i)) TO '${path}' (FORMAT parquet, COMPRESSION zstd)`);
    const size = (await readFile(path)).length;
    await rm(path);
    connection.closeSync();
    instance.closeSync();
    return size;
  });

  const rate = (ms: number) => Math.round(rowCount / (ms / 1000));
  const base = rate(aurora.ms);
  return [
    {
      name: 'parquet: Aurora writer (DuckDB appender, zstd)',
      value: base,
      unit: 'rows/s',
      ratio: 1,
      note: `${(aurora.result.bytes.length / 1024).toFixed(0)} KiB for ${rowCount} rows`,
    },
    {
      name: 'parquet: parquetjs-lite',
      value: rate(lite.ms),
      unit: 'rows/s',
      ratio: rate(lite.ms) / base,
      note: `${(lite.result / 1024).toFixed(0)} KiB`,
    },
    {
      name: 'parquet: raw DuckDB COPY (rows made in SQL)',
      value: rate(duck.ms),
      unit: 'rows/s',
      ratio: rate(duck.ms) / base,
      note: `${(duck.result / 1024).toFixed(0)} KiB; upper bound, no JS rows`,
    },
  ];
}
