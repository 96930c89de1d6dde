import { randomUUID } from 'node:crypto';
import type { Clock, Logger } from '@aurora/core';
import {
  bronzePaths,
  type DeadLetter,
  type Lake,
  type ParquetCodec,
  type ParquetSchema,
  putNew,
  type SourceStatusStore,
  writeDeadLetters,
} from '@aurora/lake';
import type { Catalogue } from '@aurora/plant';
import { type EventHubBatchMetadata, envelopeAt } from './event-hub-batch.js';
import { parseTelemetryMessage, type TelemetryRow } from './telemetry-message.js';

export const IOT_SOURCE = 'iot';

/** bronze/iot columns: the reading, where it came through, and the lineage every bronze row carries. */
export const TELEMETRY_BRONZE_SCHEMA: ParquetSchema = [
  { name: 'facility_id', type: 'VARCHAR' },
  { name: 'machine_id', type: 'VARCHAR' },
  { name: 'sensor_id', type: 'VARCHAR' },
  { name: 'metric', type: 'VARCHAR' },
  { name: 'unit', type: 'VARCHAR' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'event_at', type: 'TIMESTAMP' },
  { name: 'sensor_seq', type: 'BIGINT' },
  { name: 'device_id', type: 'VARCHAR' },
  { name: 'partition_id', type: 'VARCHAR' },
  { name: 'sequence_number', type: 'BIGINT' },
  { name: 'enqueued_at', type: 'TIMESTAMP' },
  { name: '_source', type: 'VARCHAR' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
];

export interface TelemetryLandingDeps {
  lake: Lake;
  codec: ParquetCodec;
  clock: Clock;
  catalogue: Catalogue;
  log: Logger;
  status?: SourceStatusStore;
}

export interface TelemetryLandingReport {
  batchId: string;
  received: number;
  landed: number;
  deadLettered: number;
  files: string[];
  deadLetterFile?: string;
  latestEventAt?: Date;
  rejectionsByCode: Record<string, number>;
}

const HOUR_MS = 3600_000;

/**
 * The Event Hubs trigger's work: validate a batch of telemetry messages, land the good ones in
 * bronze/iot partitioned by facility and event hour (one atomically committed Parquet file per partition),
 * and keep the bad ones in dead-letter with their reasons. The batch id is derived from the hub partition
 * and sequence range, so a redelivered batch carries the same id and the same (device, sequence) keys.
 */
export async function landTelemetry(
  deps: TelemetryLandingDeps,
  messages: readonly unknown[],
  metadata: EventHubBatchMetadata = {},
): Promise<TelemetryLandingReport> {
  const extractedAt = deps.clock.now();
  const batchId = batchIdOf(metadata) ?? `iot-${randomUUID()}`;
  const groups = new Map<string, { facility: string; hour: Date; rows: TelemetryRow[] }>();
  const rejected: DeadLetter[] = [];
  const rejectionsByCode: Record<string, number> = {};
  let latest: number | undefined;

  messages.forEach((body, i) => {
    const envelope = envelopeAt(metadata, i);
    const parsed = parseTelemetryMessage(body, envelope, deps.catalogue, extractedAt);
    if (!parsed.ok) {
      rejectionsByCode[parsed.code] = (rejectionsByCode[parsed.code] ?? 0) + 1;
      rejected.push({
        code: parsed.code,
        reason: parsed.reason,
        payload: body,
        context: {
          index: i,
          device_id: envelope.deviceId,
          sequence_number: envelope.sequenceNumber?.toString() ?? null,
          enqueued_at: envelope.enqueuedAt?.toISOString() ?? null,
          properties: envelope.properties,
        },
      });
      return;
    }
    const row = parsed.row;
    const hourMs = Math.floor(row.event_at.getTime() / HOUR_MS) * HOUR_MS;
    const key = `${row.facility_id}|${hourMs}`;
    let group = groups.get(key);
    if (!group) {
      group = { facility: row.facility_id, hour: new Date(hourMs), rows: [] };
      groups.set(key, group);
    }
    group.rows.push(row);
    latest = Math.max(latest ?? 0, row.event_at.getTime());
  });

  const lineage = { _source: IOT_SOURCE, _extracted_at: extractedAt, _batch_id: batchId };
  const files = await Promise.all(
    [...groups.values()].map(async (group) => {
      const encoded = await deps.codec.encode(
        TELEMETRY_BRONZE_SCHEMA,
        group.rows.map((row) => ({ ...row, ...lineage })),
      );
      const file = await putNew(
        deps.lake,
        (micros) => bronzePaths.iot(group.facility, group.hour, extractedAt, micros),
        encoded.bytes,
        {
          contentType: 'application/vnd.apache.parquet',
          metadata: { rows: String(encoded.rowCount), batch_id: batchId, source: IOT_SOURCE },
        },
      );
      return { path: file.path, rows: encoded.rowCount };
    }),
  );
  const deadLetters = await writeDeadLetters(deps, IOT_SOURCE, batchId, rejected);
  const landed = files.reduce((n, f) => n + f.rows, 0);
  const report: TelemetryLandingReport = {
    batchId,
    received: messages.length,
    landed,
    deadLettered: rejected.length,
    files: files.map((f) => f.path).sort(),
    rejectionsByCode,
    ...(deadLetters ? { deadLetterFile: deadLetters.path } : {}),
    ...(latest === undefined ? {} : { latestEventAt: new Date(latest) }),
  };
  deps.log.info(
    {
      event: 'ingest.iot.batch.landed',
      batchId,
      received: report.received,
      landed,
      deadLettered: report.deadLettered,
      files: files.length,
    },
    'telemetry batch landed',
  );
  await deps.status?.record({
    source: IOT_SOURCE,
    at: extractedAt,
    ok: true,
    rows: landed,
    deadLettered: rejected.length,
    ...(report.latestEventAt ? { latestEventAt: report.latestEventAt } : {}),
  });
  return report;
}

function batchIdOf(metadata: EventHubBatchMetadata): string | undefined {
  const seqs = metadata.sequenceNumberArray;
  if (!seqs || seqs.length === 0) return undefined;
  const partition = metadata.partitionContext?.partitionId ?? 'x';
  return `iot-p${partition}-${String(seqs[0])}-${String(seqs[seqs.length - 1])}`;
}
