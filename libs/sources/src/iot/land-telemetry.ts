import { createHash, randomUUID } from 'node:crypto';
import { type Clock, jsonText, type Logger } from '@aurora/core';
import {
  bronzePaths,
  type DeadLetter,
  deadLetterContent,
  type Lake,
  type LakeObjectInfo,
  type ParquetCodec,
  type ParquetSchema,
  type PutOptions,
  putNew,
  type SourceStatusStore,
} from '@aurora/lake';
import type { Catalogue } from '@aurora/plant';
import { type EventHubBatchMetadata, envelopeAt, type HubEnvelope } from './event-hub-batch.js';
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
  { name: 'hub_offset', type: 'VARCHAR' },
  { name: 'iothub_enqueued_at', type: 'TIMESTAMP' },
  { name: '_source', type: 'VARCHAR' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
];

/** Blob metadata naming the exact batch a file holds; a redelivery finds its own files by it. */
export const BATCH_KEY_METADATA = 'batch_key';

export interface TelemetryLandingDeps {
  lake: Lake;
  /** Only encoding is needed, so a test can hand in its own codec. */
  codec: Pick<ParquetCodec, 'encode'>;
  clock: Clock;
  catalogue: Catalogue;
  log: Logger;
  status?: SourceStatusStore;
}

/**
 * What one call did with a batch. Every message is accounted for exactly once:
 * `received = landed + alreadyLanded + deadLettered + alreadyDeadLettered + duplicates`.
 */
export interface TelemetryLandingReport {
  batchId: string;
  received: number;
  /** Rows committed by this call. */
  landed: number;
  /** Messages dead-lettered by this call. */
  deadLettered: number;
  /** Rows an earlier delivery of the same batch had already committed (Event Hubs redelivery). */
  alreadyLanded: number;
  alreadyDeadLettered: number;
  /** Repeats of a (device, sequence number) inside the batch: landed once, the repeats dropped. */
  duplicates: number;
  /** Every bronze file holding this batch's rows, whether written now or by the earlier delivery. */
  files: string[];
  deadLetterFile?: string;
  latestEventAt?: Date;
  rejectionsByCode: Record<string, number>;
}

const HOUR_MS = 3600_000;

interface BatchIdentity {
  batchId: string;
  /** SHA-256 over every message's position and body: equal only for a true redelivery. */
  key: string;
  /** Names the batch's files: the hub time the last message was enqueued, so a redelivery picks the same names. */
  stamp: Date;
  /** Where the microsecond digits of the file names start, spread by the key so that batches of one millisecond rarely meet. */
  startMicros: number;
}

/**
 * The Event Hubs trigger's work: validate a batch of telemetry messages, land the good ones in
 * bronze/iot partitioned by facility and event hour (one atomically committed Parquet file per partition),
 * and keep the bad ones in dead-letter with their reasons.
 *
 * Idempotent for Event Hubs redelivery: when every message carries its hub position (sequence number and
 * enqueue time, as the trigger always provides), the batch's file names are derived from the batch, not
 * from the clock, and committed with If-None-Match. A second delivery of the same batch meets its own
 * files (recognised by the `batch_key` metadata), lands nothing and reports them as already landed; a
 * delivery that failed half-way lands only what is missing. Batches cut differently on redelivery land
 * again, but every row carries (device_id, partition_id, sequence_number), which silver deduplicates on.
 */
export async function landTelemetry(
  deps: TelemetryLandingDeps,
  messages: readonly unknown[],
  metadata: EventHubBatchMetadata = {},
): Promise<TelemetryLandingReport> {
  const extractedAt = deps.clock.now();
  const envelopes = messages.map((_, i) => envelopeAt(metadata, i));
  const identity = batchIdentityOf(messages, envelopes, metadata);
  const batchId = identity?.batchId ?? `iot-${randomUUID()}`;
  const groups = new Map<string, { facility: string; hour: Date; rows: Record<string, unknown>[] }>();
  const rejected: DeadLetter[] = [];
  const rejectionsByCode: Record<string, number> = {};
  const seen = new Set<string>();
  let duplicates = 0;
  let latest: number | undefined;

  messages.forEach((body, i) => {
    const envelope = envelopes[i]!;
    if (envelope.sequenceNumber !== null) {
      const key = `${envelope.deviceId ?? ''}|${envelope.sequenceNumber}`;
      if (seen.has(key)) {
        duplicates++;
        return;
      }
      seen.add(key);
    }
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
          partition_id: envelope.partitionId,
          sequence_number: envelope.sequenceNumber?.toString() ?? null,
          offset: envelope.offset ?? null,
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
    group.rows.push(bronzeRow(row, envelope));
    latest = Math.max(latest ?? 0, row.event_at.getTime());
  });

  const lineage = { _source: IOT_SOURCE, _extracted_at: extractedAt, _batch_id: batchId };
  const batchMetadata: Record<string, string> = identity ? { [BATCH_KEY_METADATA]: identity.key } : {};
  const files = await Promise.all(
    [...groups.values()].map(async (group) => {
      const encoded = await deps.codec.encode(
        TELEMETRY_BRONZE_SCHEMA,
        group.rows.map((row) => ({ ...row, ...lineage })),
      );
      const metadata: Record<string, string> = {
        rows: String(encoded.rowCount),
        batch_id: batchId,
        source: IOT_SOURCE,
        ...batchMetadata,
      };
      const options = { contentType: 'application/vnd.apache.parquet', metadata };
      const committed = identity
        ? await putOnce(
            deps.lake,
            (micros) => bronzePaths.iot(group.facility, group.hour, identity.stamp, micros),
            encoded.bytes,
            options,
            identity,
          )
        : {
            file: await putNew(
              deps.lake,
              (micros) => bronzePaths.iot(group.facility, group.hour, extractedAt, micros),
              encoded.bytes,
              options,
            ),
            existed: false,
          };
      return { path: committed.file.path, rows: encoded.rowCount, existed: committed.existed };
    }),
  );
  const deadLetters = await landDeadLetters(deps, batchId, identity, rejected, extractedAt);
  const landed = files.filter((f) => !f.existed).reduce((n, f) => n + f.rows, 0);
  const alreadyLanded = files.filter((f) => f.existed).reduce((n, f) => n + f.rows, 0);
  const report: TelemetryLandingReport = {
    batchId,
    received: messages.length,
    landed,
    deadLettered: deadLetters?.existed ? 0 : rejected.length,
    alreadyLanded,
    alreadyDeadLettered: deadLetters?.existed ? rejected.length : 0,
    duplicates,
    files: files.map((f) => f.path).sort(),
    rejectionsByCode,
    ...(deadLetters ? { deadLetterFile: deadLetters.file.path } : {}),
    ...(latest === undefined ? {} : { latestEventAt: new Date(latest) }),
  };
  const redelivered = report.alreadyLanded + report.alreadyDeadLettered > 0;
  deps.log.info(
    {
      event: redelivered ? 'ingest.iot.batch.redelivered' : 'ingest.iot.batch.landed',
      batchId,
      received: report.received,
      landed,
      deadLettered: report.deadLettered,
      alreadyLanded,
      alreadyDeadLettered: report.alreadyDeadLettered,
      duplicates,
      files: files.length,
    },
    redelivered ? 'telemetry batch redelivered; landed only what was missing' : 'telemetry batch landed',
  );
  await deps.status?.record({
    source: IOT_SOURCE,
    at: extractedAt,
    ok: true,
    rows: landed,
    deadLettered: report.deadLettered,
    ...(report.latestEventAt ? { latestEventAt: report.latestEventAt } : {}),
  });
  return report;
}

/** The parsed reading plus the hub facts kept for lineage and deduplication. */
function bronzeRow(row: TelemetryRow, envelope: HubEnvelope): Record<string, unknown> {
  return {
    ...row,
    hub_offset: envelope.offset ?? null,
    iothub_enqueued_at: envelope.iotHubEnqueuedAt ?? null,
  };
}

/**
 * The batch's identity, or undefined when a message lacks its hub position (a hand-made batch), in which
 * case files are named by the clock as before and a repeated call lands again.
 */
function batchIdentityOf(
  messages: readonly unknown[],
  envelopes: readonly HubEnvelope[],
  metadata: EventHubBatchMetadata,
): BatchIdentity | undefined {
  if (envelopes.length === 0) return undefined;
  if (envelopes.some((e) => e.sequenceNumber === null || e.enqueuedAt === null)) return undefined;
  let lowest = envelopes[0]!.sequenceNumber!;
  let highest = lowest;
  for (const e of envelopes) {
    if (e.sequenceNumber! < lowest) lowest = e.sequenceNumber!;
    if (e.sequenceNumber! > highest) highest = e.sequenceNumber!;
  }
  const partition = metadata.partitionContext?.partitionId ?? 'x';
  const batchId = `iot-p${partition}-${lowest}-${highest}`;
  const hash = createHash('sha256').update(batchId);
  envelopes.forEach((e, i) => {
    hash.update(`\n${e.deviceId ?? ''}|${e.sequenceNumber}|${e.offset ?? ''}|${e.enqueuedAt!.getTime()}|`);
    hash.update(bodyBytes(messages[i]));
  });
  const key = hash.digest('hex');
  // A loop, not Math.max(...): batches of a million messages would overflow the argument list.
  let stampMs = Number.NEGATIVE_INFINITY;
  for (const e of envelopes) stampMs = Math.max(stampMs, e.enqueuedAt!.getTime());
  const stamp = new Date(stampMs);
  return { batchId, key, stamp, startMicros: Number.parseInt(key.slice(0, 8), 16) % 1000 };
}

const bodyBytes = (body: unknown): Uint8Array | string => {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return `s:${body}`;
  return `j:${jsonText(body) ?? 'undefined'}`;
};

/**
 * Commits a file under a batch-derived name exactly once. A taken name holding this batch (same
 * `batch_key`) means an earlier delivery committed it: nothing is written. A name taken by another batch
 * moves on to the next microsecond digit, as putNew does.
 */
async function putOnce(
  lake: Lake,
  pathFor: (micros: number) => string,
  content: Uint8Array,
  options: Omit<PutOptions, 'overwrite'> & { metadata: Record<string, string> },
  identity: BatchIdentity,
): Promise<{ file: LakeObjectInfo; existed: boolean }> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const path = pathFor((identity.startMicros + attempt) % 1000);
    try {
      return { file: await lake.put(path, content, options), existed: false };
    } catch (error) {
      if ((error as { code?: string }).code !== 'lake.conflict') throw error;
    }
    const existing = await lake.stat(path);
    if (existing?.metadata[BATCH_KEY_METADATA] === identity.key) return { file: existing, existed: true };
  }
  throw new Error(`no free file name for batch ${identity.batchId}: 1000 names taken`);
}

/** Dead letters as JSON lines, one file per batch, named like the batch's bronze files when it has an identity. */
async function landDeadLetters(
  deps: { lake: Lake },
  batchId: string,
  identity: BatchIdentity | undefined,
  letters: readonly DeadLetter[],
  at: Date,
): Promise<{ file: LakeObjectInfo; existed: boolean } | undefined> {
  if (letters.length === 0) return undefined;
  const content = deadLetterContent(IOT_SOURCE, batchId, at, letters);
  const metadata: Record<string, string> = { rows: String(letters.length), batch_id: batchId };
  if (identity) metadata[BATCH_KEY_METADATA] = identity.key;
  const options = { contentType: 'application/x-ndjson', metadata };
  if (!identity) {
    const file = await putNew(
      deps.lake,
      (micros) => bronzePaths.deadLetter(IOT_SOURCE, at, micros),
      content,
      options,
    );
    return { file, existed: false };
  }
  return putOnce(
    deps.lake,
    (micros) => bronzePaths.deadLetter(IOT_SOURCE, identity.stamp, micros),
    content,
    options,
    identity,
  );
}
