import { loadConfig, silentLogger, systemClock } from '@aurora/core';
import { loadProject } from '@aurora/engine';
import { ParquetCodec } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { openStorage } from '@aurora/platform';
import { landTelemetry } from '@aurora/sources';
import { expect } from 'vitest';
import { aurora } from '../e2e/cli.js';
import { type Env, expectHealed, runCycle } from './faults.js';

/** Per silver and gold table: rows and an order-free fingerprint of their whole content. */
async function fingerprints(env: Env): Promise<Record<string, { n: number; fp: string }>> {
  const sql = (await loadProject()).models
    .map(
      (m) =>
        `SELECT '${m.name}' AS t, count(*) AS n, CAST(sum(CAST(hash(x) AS HUGEINT)) AS VARCHAR) AS fp FROM ${m.name} AS x`,
    )
    .join(' UNION ALL ');
  const result = await aurora(['query', sql, '--format', 'json'], env);
  expect(result.code, result.stderr).toBe(0);
  return Object.fromEntries(
    (JSON.parse(result.stdout) as { t: string; n: number; fp: string }[]).map((r) => [
      r.t,
      { n: r.n, fp: r.fp },
    ]),
  );
}

/**
 * Event Hubs redelivers from the last checkpoint, and the batches may be cut anew: the telemetry of
 * bronze/iot handed to the telemetry handler again, per partition in hub order, in batches of `size`.
 * Returns how many rows that landed a second time.
 */
async function redeliverTelemetry(env: Env, size: number): Promise<{ redelivered: number; landed: number }> {
  const storage = await openStorage(loadConfig(env), 'ephemeral');
  const codec = await ParquetCodec.create();
  try {
    const rows: Record<string, unknown>[] = [];
    for await (const file of storage.lake.list('bronze/iot/'))
      rows.push(...(await codec.decode(await storage.lake.get(file.path))));
    const partitions = Map.groupBy(rows, (r) => String(r['partition_id']));
    let landed = 0;
    for (const [partitionId, inPartition] of partitions) {
      inPartition.sort((a, b) => Number(a['sequence_number']) - Number(b['sequence_number']));
      for (let i = 0; i < inPartition.length; i += size) {
        const batch = inPartition.slice(i, i + size);
        const report = await landTelemetry(
          { lake: storage.lake, codec, clock: systemClock, catalogue, log: silentLogger },
          batch.map((r) => ({
            sensor_id: r['sensor_id'],
            metric: r['metric'],
            unit: r['unit'],
            value: r['value'],
            ts: r['event_at'],
            seq: r['sensor_seq'],
          })),
          {
            enqueuedTimeUtcArray: batch.map((r) => String(r['enqueued_at'])),
            sequenceNumberArray: batch.map((r) => Number(r['sequence_number'])),
            offsetArray: batch.map((r) => String(r['hub_offset'])),
            partitionKeyArray: batch.map((r) => String(r['facility_id'])),
            propertiesArray: batch.map(() => ({})),
            systemPropertiesArray: batch.map((r) => ({
              'iothub-connection-device-id': r['device_id'],
              'iothub-enqueuedtime': r['iothub_enqueued_at'],
            })),
            partitionContext: { partitionId, eventHubName: 'telemetry', consumerGroup: '$Default' },
          },
        );
        expect(report.deadLettered, report.batchId).toBe(0);
        landed += report.landed;
      }
    }
    return { redelivered: rows.length, landed };
  } finally {
    codec.close();
    await storage.close();
  }
}

/**
 * At-least-once everywhere, on a home of its own: one clean cycle; then its Event Hubs batches handed to
 * the telemetry handler again, cut anew (new files, the same rows); then the whole cycle again over the
 * same window (the sensors publish it again under new hub sequence numbers, the MES and SAP read their
 * overlap again, the ERP has no new SCN). Silver and gold must end exactly, to the bit, as the first
 * delivery left them.
 */
export async function duplicateDeliveries(env: Env): Promise<void> {
  const first = await runCycle(env);
  expect(first.problems).toEqual([]);
  const once = await fingerprints(env);

  // The same telemetry again through the handler, in batches no delivery used: new files, the same rows.
  const again = await redeliverTelemetry(env, 777);
  expect(again.redelivered).toBe(first.iot.landed);
  expect(again.landed).toBe(again.redelivered);

  // The cycle repeated over the same window: the sensors publish the window again (new hub sequence
  // numbers), the MES and SAP read their overlap again, the ERP has no new SCN.
  const second = await runCycle(env);
  expect(second.problems).toEqual([]);
  expect(second.iot.landed).toBe(first.iot.landed);
  for (const f of second.mes)
    for (const e of f.entities) {
      expect(e.duplicates, `${f.facility} ${e.entity}`).toBeGreaterThan(0);
      expect(e.landed, `${f.facility} ${e.entity}`).toBe(0);
    }

  // Bronze holds every reading three times; silver and gold hold it once, unchanged to the bit.
  const thrice = await fingerprints(env);
  const changed = Object.keys(once).filter(
    (t) => thrice[t]?.n !== once[t]!.n || thrice[t]?.fp !== once[t]!.fp,
  );
  expect(changed.map((t) => `${t}: ${once[t]!.n} rows -> ${thrice[t]?.n}`)).toEqual([]);
  await expectHealed(env);
}
