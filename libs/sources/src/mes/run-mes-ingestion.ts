import { createHash } from 'node:crypto';
import {
  type AuroraError,
  type Clock,
  type Logger,
  RetriesExhaustedError,
  retry,
  type Sleep,
  toAuroraError,
} from '@aurora/core';
import {
  bronzePaths,
  type CheckpointStore,
  type Column,
  type ColumnType,
  fileTimestamp,
  type Lake,
  type ParquetCodec,
  putNew,
  type Row,
  type SourceStatusStore,
  safeColumnNames,
  setColumn,
  writeDeadLetters,
} from '@aurora/lake';
import { MES_ENTITIES } from '@aurora/plant';
import type { MesConnector, MesEntity, MesRecord, MesValue, MesWindow } from './connector.js';

export interface MesIngestionDeps {
  lake: Lake;
  codec: ParquetCodec;
  checkpoints: CheckpointStore;
  status?: SourceStatusStore;
  /** The time windows are cut by; in a simulated cycle it is the plant's clock. */
  clock: Clock;
  log: Logger;
  /** How far back each window reaches before the last one's end: late commits in the MES. */
  overlapMs: number;
  /** Where the first run of an entity starts, back from now. */
  initialLookbackMs: number;
  retryDelaysMs?: readonly number[];
  sleep?: Sleep;
  signal?: AbortSignal;
}

/** Per facility and entity: where the next window starts and what the overlap already landed. */
export interface MesCheckpoint {
  /**
   * The newest modification time the MES served, on the MES's own clock (never beyond the end of the
   * window that served it), ISO 8601: the next window starts the overlap before it.
   */
  watermark: string;
  /** Hashes of key + modification time of records landed within the overlap before the watermark. */
  seen: string[];
}

export interface MesEntityReport {
  entity: MesEntity;
  window: { from: string; to: string };
  ok: boolean;
  /** Records the MES returned, duplicates included. */
  fetched: number;
  /** Records already landed (the overlap, a repeated page). */
  duplicates: number;
  landed: number;
  file?: string;
  error?: { code: string; message: string };
  deadLetterFile?: string;
  latestModifiedAt?: string;
}

export interface MesIngestionReport {
  source: string;
  facilityId: string;
  vendor: string;
  ok: boolean;
  entities: MesEntityReport[];
  /** One line for logs and the CLI. */
  summary: string;
}

/** `mes-augsburg`: how a facility's MES is named in checkpoints, status and dead letters. */
export const mesSource = (facilityId: string): string => `mes-${facilityId}`;

const LINEAGE: readonly Column[] = [
  { name: '_source', type: 'VARCHAR' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
  { name: '_record_key', type: 'VARCHAR' },
  { name: '_modified_at', type: 'TIMESTAMP' },
  { name: '_window_from', type: 'TIMESTAMP' },
  { name: '_window_to', type: 'TIMESTAMP' },
];

/**
 * One MES ingestion for one facility: per entity, the records modified since the checkpoint (minus the
 * overlap) up to now are fetched (retried after each configured delay), the ones the overlap already landed
 * are dropped, the rest land as one Parquet file in bronze/mes with the vendor's fields and the lineage
 * columns, and only then does the checkpoint move, to the newest modification the MES served (its clock
 * may not be ours). An entity that still fails is dead-lettered with its
 * window and an alert-level log event; the other entities carry on.
 */
export async function runMesIngestion(
  deps: MesIngestionDeps,
  connector: MesConnector,
): Promise<MesIngestionReport> {
  const source = mesSource(connector.facilityId);
  const log = deps.log.child({ source, vendor: connector.vendor });
  const entities: MesEntityReport[] = [];
  for (const entity of MES_ENTITIES) {
    entities.push(await ingestEntity(deps, connector, entity, source, log));
  }
  const ok = entities.every((e) => e.ok);
  const landed = entities.reduce((n, e) => n + e.landed, 0);
  const failed = entities.filter((e) => !e.ok);
  const latest = entities
    .map((e) => e.latestModifiedAt)
    .filter((x): x is string => !!x)
    .sort()
    .at(-1);
  await deps.status?.record({
    source,
    at: deps.clock.now(),
    ok,
    rows: landed,
    deadLettered: failed.length,
    ...(latest ? { latestEventAt: new Date(latest) } : {}),
    ...(ok ? {} : { error: failed.map((e) => `${e.entity}: ${e.error?.message}`).join('; ') }),
  });
  const summary = `${source} (${connector.vendor}): ${entities
    .map((e) => (e.ok ? `${e.entity} ${e.landed} landed` : `${e.entity} FAILED (${e.error?.code})`))
    .join(', ')}`;
  return { source, facilityId: connector.facilityId, vendor: connector.vendor, ok, entities, summary };
}

async function ingestEntity(
  deps: MesIngestionDeps,
  connector: MesConnector,
  entity: MesEntity,
  source: string,
  log: Logger,
): Promise<MesEntityReport> {
  const checkpoint = await deps.checkpoints.load<MesCheckpoint>(source, entity);
  const to = deps.clock.now();
  const from = checkpoint
    ? new Date(Date.parse(checkpoint.value.watermark) - deps.overlapMs)
    : new Date(to.getTime() - deps.initialLookbackMs);
  const window = { from: from.toISOString(), to: to.toISOString() };
  const batchId = `${source}-${entity}-${fileTimestamp(to)}`;
  let lastRequest = '';
  let fetched: MesRecord[];
  try {
    fetched = await retry(
      async () => {
        const records: MesRecord[] = [];
        for await (const page of connector.fetch(entity, { from, to }, optionalSignal(deps.signal))) {
          lastRequest = page.request;
          records.push(...page.records);
        }
        return records;
      },
      {
        ...(deps.retryDelaysMs ? { delaysMs: deps.retryDelaysMs } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
        ...(deps.signal ? { signal: deps.signal } : {}),
        // A truncated or garbled body is as likely a network hiccup as a bad record: worth another try.
        isRetryable: (e) => e.kind === 'transient' || e.kind === 'data',
        onRetry: ({ attempt, delayMs, error }) =>
          log.warn(
            { event: 'ingest.mes.retry', entity, attempt, delayMs, code: error.code, err: error.message },
            `${entity}: ${error.message}; retrying in ${delayMs / 1000} s`,
          ),
      },
    );
  } catch (thrown) {
    if (!checkpoint) {
      // A first run that failed pins where the data starts, so the next run does not slide past it.
      await deps.checkpoints.save<MesCheckpoint>(
        source,
        entity,
        { watermark: window.from, seen: [] },
        undefined,
      );
    }
    return deadLetterFailure(deps, source, entity, window, batchId, toAuroraError(thrown), lastRequest, log);
  }

  // The next window starts from the newest change the MES served, read on the MES's clock, not on ours:
  // a MES whose clock runs behind stamps its latest changes hours before `to`, and a watermark of `to`
  // would step past them for good. Nothing served: the window stays where it was.
  const newest = fetched.reduce((m, r) => Math.max(m, r.modifiedAt.getTime()), Number.NEGATIVE_INFINITY);
  const watermark = Number.isFinite(newest)
    ? new Date(Math.min(newest, to.getTime())).toISOString()
    : (checkpoint?.value.watermark ?? window.from);
  const seen = new Set(checkpoint?.value.seen ?? []);
  const fresh: MesRecord[] = [];
  const overlapStart = Date.parse(watermark) - deps.overlapMs;
  const nextSeen = new Set<string>(Number.isFinite(newest) ? [] : seen);
  for (const record of fetched) {
    const id = recordHash(record);
    if (record.modifiedAt.getTime() >= overlapStart) nextSeen.add(id);
    if (seen.has(id)) continue;
    seen.add(id);
    fresh.push(record);
  }

  let file: string | undefined;
  if (fresh.length > 0) {
    const extractedAt = deps.clock.now();
    const { schema, rows } = bronzeRows(fresh, { source, extractedAt, batchId, window: { from, to } });
    const encoded = await deps.codec.encode(schema, rows);
    const put = await putNew(
      deps.lake,
      (micros) => bronzePaths.mes(connector.facilityId, entity, extractedAt, micros),
      encoded.bytes,
      {
        contentType: 'application/vnd.apache.parquet',
        metadata: { rows: String(encoded.rowCount), batch_id: batchId, source },
      },
    );
    file = put.path;
  }
  // The file is durable: only now may the window move on.
  await deps.checkpoints.save<MesCheckpoint>(
    source,
    entity,
    { watermark, seen: [...nextSeen] },
    checkpoint?.etag,
  );
  const latest = fresh.reduce((m, r) => Math.max(m, r.modifiedAt.getTime()), Number.NEGATIVE_INFINITY);
  const report: MesEntityReport = {
    entity,
    window,
    ok: true,
    fetched: fetched.length,
    duplicates: fetched.length - fresh.length,
    landed: fresh.length,
    ...(file ? { file } : {}),
    ...(Number.isFinite(latest) ? { latestModifiedAt: new Date(latest).toISOString() } : {}),
  };
  log.info(
    {
      event: 'ingest.mes.batch.landed',
      entity,
      batchId,
      ...window,
      fetched: report.fetched,
      duplicates: report.duplicates,
      landed: report.landed,
      file,
    },
    `${entity}: ${report.landed} landed`,
  );
  return report;
}

async function deadLetterFailure(
  deps: MesIngestionDeps,
  source: string,
  entity: MesEntity,
  window: { from: string; to: string },
  batchId: string,
  error: AuroraError,
  request: string,
  log: Logger,
): Promise<MesEntityReport> {
  const last = error instanceof RetriesExhaustedError ? error.lastError : error;
  const attempts = error instanceof RetriesExhaustedError ? error.attempts : 1;
  const details = last.details as { body?: unknown; request?: unknown; status?: unknown };
  const letters = await writeDeadLetters(deps, source, batchId, [
    {
      code: last.kind === 'data' ? 'mes.unreadable_response' : 'mes.unavailable',
      reason: error.message,
      // The window to fetch again, and the body the MES sent when it sent one that could not be read.
      payload: details.body ?? null,
      context: {
        entity,
        window,
        attempts,
        error_code: last.code,
        status: details.status ?? null,
        request: details.request ?? (request || null),
      },
    },
  ]);
  log.error(
    {
      event: 'deadletter.written',
      source,
      count: 1,
      entity,
      ...window,
      code: last.code,
      attempts,
      err: error.message,
    },
    `${entity} could not be fetched after ${attempts} attempts; dead-lettered, the window stays open for the next run`,
  );
  return {
    entity,
    window,
    ok: false,
    fetched: 0,
    duplicates: 0,
    landed: 0,
    error: { code: last.code, message: error.message },
    ...(letters ? { deadLetterFile: letters.path } : {}),
  };
}

const optionalSignal = (signal: AbortSignal | undefined) => (signal ? { signal } : {});

function recordHash(record: MesRecord): string {
  return createHash('sha256')
    .update(`${record.key}\u0000${record.modifiedAt.toISOString()}`)
    .digest('base64url')
    .slice(0, 22);
}

/**
 * The vendor's fields as columns, in the order first seen, typed by what they hold (numbers, booleans,
 * else text), followed by the lineage columns. A field that appears only in some records is null in the
 * others. Every field keeps its value under a column of its own (see `columnNames`).
 */
export function bronzeRows(
  records: readonly MesRecord[],
  lineage: { source: string; extractedAt: Date; batchId: string; window?: MesWindow },
): { schema: Column[]; rows: Row[] } {
  const columnOf = columnNames(records);
  const kinds = new Map<string, Set<string>>();
  for (const r of records) {
    for (const [name, value] of Object.entries(r.fields)) {
      const column = columnOf.get(name)!;
      const seen = kinds.get(column) ?? new Set<string>();
      if (value !== null) seen.add(typeOf(value));
      kinds.set(column, seen);
    }
  }
  const schema: Column[] = [...kinds].map(([name, seen]) => ({ name, type: columnType(seen) }));
  const text = new Set(schema.filter((c) => c.type === 'VARCHAR').map((c) => c.name));
  const rows = records.map((r) => {
    const row: Record<string, MesValue | Date> = {};
    for (const [name, value] of Object.entries(r.fields)) {
      const column = columnOf.get(name)!;
      setColumn(row, column, value !== null && text.has(column) ? String(value) : value);
    }
    row['_source'] = lineage.source;
    row['_extracted_at'] = lineage.extractedAt;
    row['_batch_id'] = lineage.batchId;
    row['_record_key'] = r.key;
    row['_modified_at'] = r.modifiedAt;
    // The window asked for: silver and reconcile know which hours a facility's bronze covers completely.
    row['_window_from'] = lineage.window?.from ?? null;
    row['_window_to'] = lineage.window?.to ?? null;
    return row;
  });
  return { schema: [...schema, ...LINEAGE], rows };
}

/**
 * The column of each vendor field name, in the order first seen: the name itself, unless DuckDB cannot
 * hold it or would confuse it with another (lake's safeColumnNames: `vendor` + an empty or lineage name,
 * control characters escaped, `~2` for a case twin).
 */
export function columnNames(records: readonly MesRecord[]): Map<string, string> {
  const names = new Set<string>();
  for (const r of records) for (const name of Object.keys(r.fields)) names.add(name);
  return safeColumnNames(names, { reserved: LINEAGE.map((c) => c.name), prefix: 'vendor' });
}

const typeOf = (value: Exclude<MesValue, null>): string =>
  typeof value === 'number' ? (Number.isSafeInteger(value) ? 'integer' : 'double') : typeof value;

function columnType(seen: Set<string>): ColumnType {
  if (seen.size === 0) return 'VARCHAR';
  if ([...seen].every((k) => k === 'integer')) return 'BIGINT';
  if ([...seen].every((k) => k === 'integer' || k === 'double')) return 'DOUBLE';
  if (seen.size === 1 && seen.has('boolean')) return 'BOOLEAN';
  return 'VARCHAR';
}
