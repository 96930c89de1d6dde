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
  type DeadLetter,
  fileTimestamp,
  type Lake,
  type ParquetCodec,
  putNew,
  type SourceStatusStore,
  writeDeadLetters,
} from '@aurora/lake';
import { addPlantDays, fromDatsTims, plantDayOf, SAP_PLANTS, toDats } from '@aurora/plant';
import type { Sealer } from '../personal-data.js';
import {
  goodsMovementRecords,
  MARD_FIELDS,
  mardRecords,
  materialRecords,
  type ProtectPersonalData,
  poDetailRecords,
  SAP_BAPIS,
  type SapBapi,
  type SapRecord,
  sapBronzeRows,
  sapProtect,
} from './bapi-rows.js';
import { callRfc, type RfcParameters, type RfcPool, type RfcStructure } from './rfc.js';
import { parseReadTable, readTableRequest } from './rfc-read-table.js';

/** How SAP is named in checkpoints, status and dead letters. */
export const SAP_SOURCE = 'sap';
/** SAP commits a material document a moment after its entry time: documents this close to the last run are re-checked. */
const ENTRY_OVERLAP_MS = 10 * 60_000;

export interface SapIngestionDeps {
  lake: Lake;
  codec: ParquetCodec;
  checkpoints: CheckpointStore;
  status?: SourceStatusStore;
  /** The time windows are cut by; in a simulated cycle, the plant's clock. */
  clock: Clock;
  log: Logger;
  /** Goods movements are selected by posting date: days before the last run's that each run re-reads. */
  goodsMovementLookbackDays: number;
  /** Where the first run of each BAPI starts, days back from today. */
  initialLookbackDays: number;
  /** SAP plants (WERKS) read; default the three facilities' (1000, 2000, 3000). */
  plants?: readonly string[];
  /** Per call, seconds. */
  timeoutS?: number;
  /** BAPI_PO_GETDETAIL calls in flight at once; keep it at most the pool's `high`. */
  concurrency?: number;
  /**
   * Seals the personal fields (supplier contacts, SAP user ids: bapi-rows.ts) before anything reaches
   * bronze, dead letters included: the platform passes its privacy key ring.
   */
  sealer: Sealer;
  retryDelaysMs?: readonly number[];
  sleep?: Sleep;
  signal?: AbortSignal;
}

export interface SapBapiReport {
  bapi: SapBapi;
  ok: boolean;
  /** Records SAP returned. */
  fetched: number;
  /** Records already landed by an earlier run (goods movements re-read by the lookback). */
  duplicates: number;
  landed: number;
  /** Records dead-lettered: a value its type cannot hold, a PO the BAPI refused. */
  deadLettered: number;
  window?: { from: string; to: string };
  file?: string;
  deadLetterFile?: string;
  error?: { code: string; message: string };
  /** Keys that failed (PO numbers), kept for the next run when the failure was transient. */
  failedKeys?: string[];
}

export interface SapIngestionReport {
  source: typeof SAP_SOURCE;
  run: 'transactional' | 'master';
  ok: boolean;
  bapis: SapBapiReport[];
  summary: string;
}

interface GoodsMovementCheckpoint {
  /** Plant-local day the last window ended on. */
  postingDay: string;
  /** Entries up to this instant were landed (minus the overlap). */
  enteredUntil?: string;
  /** Keys of documents landed within the overlap before enteredUntil. */
  seen: string[];
}
interface PurchaseOrderCheckpoint {
  /** Plant-local day the last listing ended on (EKKO-AEDAT). */
  day: string;
  /** POs whose detail failed transiently or was not attempted: read on the next run. */
  pending: string[];
}

type Context = {
  deps: SapIngestionDeps;
  protect: ProtectPersonalData;
  pool: RfcPool;
  log: Logger;
  now: Date;
  today: string;
  plants: readonly string[];
};

/**
 * The hourly SAP run: goods movements by posting date (with a lookback, since BAPI_GOODSMVT_GETITEMS has no
 * entry-date selection), then the purchase orders created in the period plus those the movements touched
 * (BAPI_PO_GETDETAIL each, on pooled connections), then a MARD stock snapshot. Each lands as one Parquet
 * file under bronze/sap/{bapi}/ and only then moves its checkpoint. Communication failures are retried
 * (30/60/120 s), then dead-lettered with node-rfc's error object; an ABAP error or a RETURN E for one PO is
 * dead-lettered for that PO alone and the others land.
 */
export async function runSapTransactional(
  deps: SapIngestionDeps,
  pool: RfcPool,
): Promise<SapIngestionReport> {
  const ctx = context(deps, pool);
  const movements = await ingestGoodsMovements(ctx);
  const pos = await ingestPurchaseOrders(ctx);
  const stock = await ingestStock(ctx);
  return finish(ctx, 'transactional', [movements.report, pos, stock], movements.latestEntry);
}

/** The daily SAP run: the material master of each plant (BAPI_MATERIAL_GETLIST). */
export async function runSapMasterData(deps: SapIngestionDeps, pool: RfcPool): Promise<SapIngestionReport> {
  const ctx = context(deps, pool);
  return finish(ctx, 'master', [await ingestMaterials(ctx)]);
}

function context(deps: SapIngestionDeps, pool: RfcPool): Context {
  const now = deps.clock.now();
  return {
    deps,
    protect: sapProtect(deps.sealer),
    pool,
    log: deps.log.child({ source: SAP_SOURCE }),
    now,
    today: plantDayOf(now),
    plants: deps.plants ?? Object.values(SAP_PLANTS),
  };
}

async function finish(
  ctx: Context,
  run: SapIngestionReport['run'],
  bapis: SapBapiReport[],
  latestEntry?: Date,
): Promise<SapIngestionReport> {
  const ok = bapis.every((b) => b.ok);
  const failed = bapis.filter((b) => !b.ok);
  await ctx.deps.status?.record({
    source: SAP_SOURCE,
    at: ctx.now,
    ok,
    rows: bapis.reduce((n, b) => n + b.landed, 0),
    deadLettered: bapis.reduce((n, b) => n + b.deadLettered, 0),
    ...(latestEntry ? { latestEventAt: latestEntry } : {}),
    ...(ok ? {} : { error: failed.map((b) => `${b.bapi}: ${b.error?.message}`).join('; ') }),
  });
  const summary = `${SAP_SOURCE} ${run}: ${bapis
    .map((b) =>
      b.ok
        ? `${b.bapi} ${b.landed} landed${b.deadLettered ? ` (${b.deadLettered} dead-lettered)` : ''}`
        : `${b.bapi} FAILED (${b.error?.code})`,
    )
    .join(', ')}`;
  return { source: SAP_SOURCE, run, ok, bapis, summary };
}

const batchIdOf = (bapi: SapBapi, at: Date) => `${SAP_SOURCE}-${bapi}-${fileTimestamp(at)}`;

/** One RFC call, retried after each configured delay while the failure is transient. */
function call(
  ctx: Context,
  bapi: SapBapi,
  rfm: string,
  params: RfcParameters,
  options: { what?: string; checkReturn?: boolean } = {},
): Promise<RfcStructure> {
  const { deps, log } = ctx;
  return retry(
    () =>
      callRfc(ctx.pool, rfm, params, {
        ...options,
        ...(deps.timeoutS ? { timeout: deps.timeoutS } : {}),
      }),
    {
      ...(deps.retryDelaysMs ? { delaysMs: deps.retryDelaysMs } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      isRetryable: (e) => e.kind === 'transient',
      onRetry: ({ attempt, delayMs, error }) =>
        log.warn(
          { event: 'ingest.sap.retry', bapi, rfm, attempt, delayMs, code: error.code, err: error.message },
          `${rfm}${options.what ? ` (${options.what})` : ''}: ${error.message}; retrying in ${delayMs / 1000} s`,
        ),
    },
  );
}

/** A failure as a dead letter: its class as the code, node-rfc's error object or the RETURN rows as payload. */
function letterFor(error: AuroraError, context: Record<string, unknown>): DeadLetter {
  const last = error instanceof RetriesExhaustedError ? error.lastError : error;
  const attempts = error instanceof RetriesExhaustedError ? error.attempts : 1;
  const details = last.details as {
    rfcClass?: string;
    rfc?: unknown;
    return?: unknown;
    result?: unknown;
    rfm?: string;
  };
  const code =
    details.rfcClass === 'bapi_return'
      ? 'sap.bapi_return'
      : details.rfcClass === 'logon'
        ? 'sap.logon_failed'
        : details.rfcClass === 'abap_application'
          ? 'sap.abap_error'
          : details.rfcClass === 'conversion'
            ? 'sap.conversion_error'
            : last.kind === 'transient'
              ? 'sap.unavailable'
              : 'sap.failed';
  return {
    code,
    reason: error.message,
    payload: details.rfc ?? details.return ?? details.result ?? null,
    context: {
      ...context,
      rfm: details.rfm ?? null,
      attempts,
      error_code: last.code,
      rfc_class: details.rfcClass ?? null,
    },
  };
}

async function deadLetter(
  ctx: Context,
  bapi: SapBapi,
  batchId: string,
  letters: DeadLetter[],
): Promise<string | undefined> {
  const written = await writeDeadLetters(ctx.deps, SAP_SOURCE, batchId, letters);
  if (written)
    ctx.log.error(
      {
        event: 'deadletter.written',
        source: SAP_SOURCE,
        bapi,
        count: letters.length,
        file: written.path,
        codes: [...new Set(letters.map((l) => l.code))],
      },
      `${bapi}: ${letters.length} dead-lettered: ${letters[0]?.reason}`,
    );
  return written?.path;
}

/** Types and lands records as one Parquet file; records that cannot be typed are dead-lettered. */
async function land(
  ctx: Context,
  bapi: SapBapi,
  records: SapRecord[],
  batchId: string,
): Promise<{ file?: string; landed: number; rejected: number; deadLetterFile?: string }> {
  const extractedAt = ctx.deps.clock.now();
  const { schema, rows, rejected } = await sapBronzeRows(bapi, records, {
    extractedAt,
    batchId,
    protect: ctx.protect,
  });
  const deadLetterFile =
    rejected.length > 0
      ? await deadLetter(
          ctx,
          bapi,
          batchId,
          rejected.map((r) => ({
            code: 'sap.invalid_value',
            reason: r.reason,
            payload: r.fields,
            context: { bapi, key: r.key },
          })),
        )
      : undefined;
  let file: string | undefined;
  if (rows.length > 0) {
    const encoded = await ctx.deps.codec.encode(schema, rows);
    const put = await putNew(
      ctx.deps.lake,
      (micros) => bronzePaths.sap(bapi, extractedAt, micros),
      encoded.bytes,
      {
        contentType: 'application/vnd.apache.parquet',
        metadata: { rows: String(encoded.rowCount), batch_id: batchId, source: SAP_SOURCE },
      },
    );
    file = put.path;
  }
  ctx.log.info(
    { event: 'ingest.sap.batch.landed', bapi, batchId, landed: rows.length, rejected: rejected.length, file },
    `${bapi}: ${rows.length} landed`,
  );
  return {
    landed: rows.length,
    rejected: rejected.length,
    ...(file ? { file } : {}),
    ...(deadLetterFile ? { deadLetterFile } : {}),
  };
}

async function failedReport(
  ctx: Context,
  bapi: SapBapi,
  batchId: string,
  error: AuroraError,
  window?: { from: string; to: string },
): Promise<SapBapiReport> {
  const deadLetterFile = await deadLetter(ctx, bapi, batchId, [
    letterFor(error, { bapi, ...(window ? { window } : {}) }),
  ]);
  const last = error instanceof RetriesExhaustedError ? error.lastError : error;
  return {
    bapi,
    ok: false,
    fetched: 0,
    duplicates: 0,
    landed: 0,
    deadLettered: 1,
    ...(window ? { window } : {}),
    error: { code: last.code, message: error.message },
    ...(deadLetterFile ? { deadLetterFile } : {}),
  };
}

const range = (low: string, high: string) => [
  { SIGN: 'I', OPTION: 'BT', LOW: toDats(low), HIGH: toDats(high) },
];
const plantRange = (plants: readonly string[]) => plants.map((p) => ({ SIGN: 'I', OPTION: 'EQ', LOW: p }));

async function ingestGoodsMovements(ctx: Context): Promise<{ report: SapBapiReport; latestEntry?: Date }> {
  const bapi = SAP_BAPIS.goodsMovements;
  const { deps } = ctx;
  const checkpoint = await deps.checkpoints.load<GoodsMovementCheckpoint>(SAP_SOURCE, bapi);
  const from = checkpoint
    ? addPlantDays(checkpoint.value.postingDay, -deps.goodsMovementLookbackDays)
    : addPlantDays(ctx.today, -deps.initialLookbackDays);
  const window = { from, to: ctx.today };
  const batchId = batchIdOf(bapi, ctx.now);
  let records: SapRecord[];
  try {
    const result = await call(ctx, bapi, 'BAPI_GOODSMVT_GETITEMS', {
      PSTNG_DATE_RA: range(from, ctx.today),
      PLANT_RA: plantRange(ctx.plants),
    });
    // A result not shaped as the BAPI's interface is dead-lettered whole, like a failed call.
    records = goodsMovementRecords(result);
  } catch (thrown) {
    if (!checkpoint) {
      // A first run that failed pins where the data starts, so the next run does not slide past it.
      const pinned = addPlantDays(from, deps.goodsMovementLookbackDays);
      await deps.checkpoints.save<GoodsMovementCheckpoint>(
        SAP_SOURCE,
        bapi,
        { postingDay: pinned, seen: [] },
        undefined,
      );
    }
    return { report: await failedReport(ctx, bapi, batchId, toAuroraError(thrown), window) };
  }
  const enteredUntil = checkpoint?.value.enteredUntil ? Date.parse(checkpoint.value.enteredUntil) : undefined;
  const seen = new Set(checkpoint?.value.seen ?? []);
  const nextSeen: string[] = [];
  const fresh: SapRecord[] = [];
  let latest: number | undefined;
  for (const r of records) {
    const entered = fromDatsTims(
      String(r.fields['ENTRY_DATE'] ?? ''),
      String(r.fields['ENTRY_TIME'] ?? ''),
    )?.getTime();
    if (entered !== undefined && entered >= ctx.now.getTime() - ENTRY_OVERLAP_MS) nextSeen.push(r.key);
    // Entered before the last run (less the overlap): that run saw it, since the lookback covers its posting date.
    if (entered !== undefined && enteredUntil !== undefined && entered < enteredUntil - ENTRY_OVERLAP_MS)
      continue;
    if (seen.has(r.key)) continue;
    fresh.push(r);
    if (entered !== undefined && (latest === undefined || entered > latest)) latest = entered;
  }
  const landed = await land(ctx, bapi, fresh, batchId);
  const poNumbers = [
    ...new Set(
      fresh
        .filter((r) => r.fields['MOVE_TYPE'] === '101' && String(r.fields['PO_NUMBER'] ?? '').trim() !== '')
        .map((r) => String(r.fields['PO_NUMBER']).trim()),
    ),
  ];
  // The POs these receipts touched join the PO run's pending list before this checkpoint moves past the
  // receipts: a run that dies in between must not leave them unread for good.
  await addPendingPurchaseOrders(ctx, poNumbers);
  await deps.checkpoints.save<GoodsMovementCheckpoint>(
    SAP_SOURCE,
    bapi,
    { postingDay: ctx.today, enteredUntil: ctx.now.toISOString(), seen: nextSeen },
    checkpoint?.etag,
  );
  return {
    report: {
      bapi,
      ok: true,
      fetched: records.length,
      duplicates: records.length - fresh.length,
      landed: landed.landed,
      deadLettered: landed.rejected,
      window,
      ...(landed.file ? { file: landed.file } : {}),
      ...(landed.deadLetterFile ? { deadLetterFile: landed.deadLetterFile } : {}),
    },
    ...(latest !== undefined ? { latestEntry: new Date(latest) } : {}),
  };
}

/** Adds POs to the PO run's pending list (creating its checkpoint where the first run would start). */
async function addPendingPurchaseOrders(ctx: Context, poNumbers: readonly string[]): Promise<void> {
  if (poNumbers.length === 0) return;
  const { deps } = ctx;
  const bapi = SAP_BAPIS.poDetail;
  const checkpoint = await deps.checkpoints.load<PurchaseOrderCheckpoint>(SAP_SOURCE, bapi);
  const value: PurchaseOrderCheckpoint = checkpoint
    ? { ...checkpoint.value, pending: [...new Set([...checkpoint.value.pending, ...poNumbers])].sort() }
    : { day: addPlantDays(ctx.today, -deps.initialLookbackDays), pending: [...poNumbers].sort() };
  await deps.checkpoints.save<PurchaseOrderCheckpoint>(SAP_SOURCE, bapi, value, checkpoint?.etag);
}

async function ingestPurchaseOrders(ctx: Context): Promise<SapBapiReport> {
  const bapi = SAP_BAPIS.poDetail;
  const { deps } = ctx;
  const checkpoint = await deps.checkpoints.load<PurchaseOrderCheckpoint>(SAP_SOURCE, bapi);
  const from = checkpoint ? checkpoint.value.day : addPlantDays(ctx.today, -deps.initialLookbackDays);
  const window = { from, to: ctx.today };
  const batchId = batchIdOf(bapi, ctx.now);
  // EKKO-AEDAT is the PO's creation date: the POs created in the period. Receipts change a PO's history
  // without touching EKKO, so the POs the period's goods movements touched are read as well: the
  // goods-movement run put them on the pending list.
  let listed: string[];
  try {
    const result = await call(
      ctx,
      bapi,
      'RFC_READ_TABLE',
      readTableRequest(
        'EKKO',
        ['EBELN', 'AEDAT'],
        `BSTYP EQ 'F' AND AEDAT GE '${toDats(from)}' AND AEDAT LE '${toDats(ctx.today)}'`,
      ),
      { what: 'EKKO by AEDAT', checkReturn: false },
    );
    listed = parseReadTable(result)
      .rows.map((r) => r['EBELN'] ?? '')
      .filter(Boolean);
  } catch (thrown) {
    if (!checkpoint)
      await deps.checkpoints.save<PurchaseOrderCheckpoint>(
        SAP_SOURCE,
        bapi,
        { day: from, pending: [] },
        undefined,
      );
    return failedReport(ctx, bapi, batchId, toAuroraError(thrown), window);
  }
  const poNumbers = [...new Set([...(checkpoint?.value.pending ?? []), ...listed])].sort();

  const records: SapRecord[] = [];
  const failures: { po: string; error: AuroraError }[] = [];
  const skipped: string[] = [];
  // After one PO fails for want of SAP, the rest wait for the next run instead of each retrying in turn.
  let unavailable: AuroraError | undefined;
  const queue = [...poNumbers];
  const worker = async () => {
    for (let po = queue.shift(); po !== undefined; po = queue.shift()) {
      if (unavailable) {
        skipped.push(po);
        continue;
      }
      try {
        const result = await call(
          ctx,
          bapi,
          'BAPI_PO_GETDETAIL',
          { PURCHASEORDER: po, ITEMS: 'X', SCHEDULES: 'X', HISTORY: 'X' },
          { what: `PO ${po}` },
        );
        records.push(...poDetailRecords(result));
      } catch (thrown) {
        const error = toAuroraError(thrown);
        failures.push({ po, error });
        if (error.kind === 'transient') unavailable = error;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(deps.concurrency ?? 4, poNumbers.length)) }, worker),
  );
  records.sort((a, b) => a.key.localeCompare(b.key));

  const landed = await land(ctx, bapi, records, batchId);
  const letters = [
    ...failures.map((f) => letterFor(f.error, { bapi, window, po: f.po })),
    ...(skipped.length > 0 && unavailable
      ? [
          {
            code: 'sap.not_attempted',
            reason: `${skipped.length} POs not read after SAP became unavailable: ${unavailable.message}`,
            payload: skipped,
            context: { bapi, window },
          },
        ]
      : []),
  ];
  const deadLetterFile =
    letters.length > 0 ? await deadLetter(ctx, bapi, `${batchId}-po`, letters) : undefined;
  const pending = [
    ...failures.filter((f) => f.error.kind === 'transient').map((f) => f.po),
    ...skipped,
  ].sort();
  await deps.checkpoints.save<PurchaseOrderCheckpoint>(
    SAP_SOURCE,
    bapi,
    { day: ctx.today, pending },
    checkpoint?.etag,
  );
  const failedKeys = [...failures.map((f) => f.po), ...skipped].sort();
  const first = failures[0]?.error;
  return {
    bapi,
    ok: failedKeys.length === 0,
    fetched: records.length,
    duplicates: 0,
    landed: landed.landed,
    deadLettered: landed.rejected + failures.length + skipped.length,
    window,
    ...(landed.file ? { file: landed.file } : {}),
    ...(deadLetterFile || landed.deadLetterFile
      ? { deadLetterFile: deadLetterFile ?? landed.deadLetterFile }
      : {}),
    ...(first
      ? {
          error: {
            code: (first instanceof RetriesExhaustedError ? first.lastError : first).code,
            message: `${failedKeys.length} of ${poNumbers.length} POs failed; first: ${first.message}`,
          },
        }
      : {}),
    ...(failedKeys.length > 0 ? { failedKeys } : {}),
  };
}

async function ingestStock(ctx: Context): Promise<SapBapiReport> {
  const bapi = SAP_BAPIS.stock;
  const batchId = batchIdOf(bapi, ctx.now);
  const checkpoint = await ctx.deps.checkpoints.load<{ snapshotAt: string }>(SAP_SOURCE, bapi);
  const records: SapRecord[] = [];
  try {
    // One call per plant keeps each result small; a snapshot lands whole or not at all.
    for (const plant of ctx.plants) {
      const result = await call(
        ctx,
        bapi,
        'RFC_READ_TABLE',
        readTableRequest(
          'MARD',
          MARD_FIELDS.map((f) => f.name),
          `WERKS EQ '${plant}'`,
        ),
        { what: `MARD plant ${plant}`, checkReturn: false },
      );
      records.push(...mardRecords(parseReadTable(result)));
    }
  } catch (thrown) {
    return failedReport(ctx, bapi, batchId, toAuroraError(thrown));
  }
  const landed = await land(ctx, bapi, records, batchId);
  await ctx.deps.checkpoints.save(SAP_SOURCE, bapi, { snapshotAt: ctx.now.toISOString() }, checkpoint?.etag);
  return {
    bapi,
    ok: true,
    fetched: records.length,
    duplicates: 0,
    landed: landed.landed,
    deadLettered: landed.rejected,
    ...(landed.file ? { file: landed.file } : {}),
    ...(landed.deadLetterFile ? { deadLetterFile: landed.deadLetterFile } : {}),
  };
}

async function ingestMaterials(ctx: Context): Promise<SapBapiReport> {
  const bapi = SAP_BAPIS.materials;
  const batchId = batchIdOf(bapi, ctx.now);
  const checkpoint = await ctx.deps.checkpoints.load<{ runAt: string }>(SAP_SOURCE, bapi);
  const records: SapRecord[] = [];
  try {
    for (const plant of ctx.plants) {
      const result = await call(
        ctx,
        bapi,
        'BAPI_MATERIAL_GETLIST',
        {
          MATNRSELECTION: [{ SIGN: 'I', OPTION: 'CP', MATNR_LOW: '*' }],
          PLANTSELECTION: [{ SIGN: 'I', OPTION: 'EQ', PLANT_LOW: plant }],
        },
        { what: `plant ${plant}` },
      );
      records.push(...materialRecords(result, plant));
    }
  } catch (thrown) {
    return failedReport(ctx, bapi, batchId, toAuroraError(thrown));
  }
  const landed = await land(ctx, bapi, records, batchId);
  await ctx.deps.checkpoints.save(SAP_SOURCE, bapi, { runAt: ctx.now.toISOString() }, checkpoint?.etag);
  return {
    bapi,
    ok: true,
    fetched: records.length,
    duplicates: 0,
    landed: landed.landed,
    deadLettered: landed.rejected,
    ...(landed.file ? { file: landed.file } : {}),
    ...(landed.deadLetterFile ? { deadLetterFile: landed.deadLetterFile } : {}),
  };
}
