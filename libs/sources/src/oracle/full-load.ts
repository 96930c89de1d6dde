import {
  AuroraError,
  type Clock,
  type Logger,
  RetriesExhaustedError,
  retry,
  type Sleep,
  toAuroraError,
  UsageError,
} from '@aurora/core';
import {
  bronzePaths,
  CheckpointConflictError,
  type CheckpointStore,
  type DeadLetter,
  fileTimestamp,
  type Lake,
  writeDeadLetters,
} from '@aurora/lake';
import { type DuckDBInstance, DuckDBInstance as Instance } from '@duckdb/node-api';
import type { Sealer } from '../personal-data.js';
import { BronzeTableWriter, type BronzeValue, hashColumnsText } from './bronze-rows.js';
import { bronzeTableName, type ErpTableConfig, qualifiedName } from './erp-tables.js';
import { chunkRange, type FullLoadState, fullLoadKey } from './full-load-state.js';
import { compareScn, isScn, type Scn } from './logminer/index.js';
import {
  ERP_SOURCE,
  type ErpCheckpoint,
  fetchedRow,
  planKeyRanges,
  readChunk,
  tableColumns,
} from './run-erp-ingestion.js';
import { erpProtectHook, type ProtectHook, sealErpRecord } from './seal-personal-data.js';
import { OracleServerError, type OracleSession, type OracleSessionFactory } from './session.js';
import {
  CURRENT_SCN_SQL,
  DB_VERSION_SQL,
  NLS_STATEMENTS,
  OLDEST_OPEN_TRANSACTION_SQL,
  SYSDATE_SQL,
} from './statements.js';

export interface FullLoadDeps {
  lake: Lake;
  checkpoints: CheckpointStore;
  clock: Clock;
  log: Logger;
  /** Opens a session (node-oracledb, or the stand-in); a failed one is closed and a new one opened. */
  connect: OracleSessionFactory;
  /** The database server's zone: DATE and TIMESTAMP columns hold its wall time. */
  timeZone: string;
  /** Rows per key-range chunk: each chunk is one bronze file and one checkpoint step. */
  chunkRows: number;
  /** Seals the personal data the tables declare before it lands (dead letters included). */
  sealer: Sealer;
  /** Delays before each retry of a chunk (default 30/60/120 s); the budget is per chunk. */
  retryDelaysMs?: readonly number[];
  sleep?: Sleep;
  /** Stops the load between chunks (and mid-query); what is durable stays, `resume` continues. */
  signal?: AbortSignal;
  onProgress?: (progress: FullLoadProgress) => void;
  /** Tests: runs after a chunk's file is durable and before its checkpoint moves (a crash there). */
  beforeChunkCheckpoint?: (chunk: { table: string; chunk: number; path: string }) => Promise<void>;
}

export interface FullLoadOptions {
  tables: readonly ErpTableConfig[];
  /**
   * Continue unfinished loads (tables whose load is complete are skipped, tables never loaded start).
   * Without it, a table whose load is unfinished is an error (nothing starts), and the others start anew.
   */
  resume: boolean;
}

export interface FullLoadProgress {
  table: string;
  /** Chunks durable so far (1-based: the chunk just finished), of `chunks`. */
  chunk: number;
  chunks: number;
  /** Rows landed for the table so far, this run and earlier ones; of about `plannedRows`. */
  rows: number;
  plannedRows: number;
  /** Rows landed by this run, all tables, and how long it has run. */
  rowsThisRun: number;
  elapsedMs: number;
  /** The chunk was already durable before a crash: counted, not landed again. */
  recovered: boolean;
}

export interface FullLoadTableReport {
  table: string;
  loadId: string;
  /** The SCN the chunks were read at (the first one, if undo ran out and a later one was taken). */
  scn: Scn;
  chunks: number;
  /** Chunks landed by this run. */
  chunksLanded: number;
  /** The first chunk this run worked on (> 0 when it resumed). */
  resumedAt: number;
  /** Chunks found durable after a crash between their put and their checkpoint: counted, not re-landed. */
  chunksRecovered: number;
  rows: number;
  rowsLanded: number;
  files: number;
  deadLettered: number;
  /** Rows landed by this run with personal data but a null subject key (sealed as `erp-unattributed:<table>`). */
  unattributed?: number;
  completed: boolean;
  /** The load was complete already (`resume`): nothing done. */
  alreadyComplete: boolean;
  /** What the CDC checkpoint learnt from the completed load (see handOverToCdc). */
  cdc?: CdcHandover;
}

export interface FullLoadReport {
  ok: boolean;
  tables: FullLoadTableReport[];
  rowsLanded: number;
  durationMs: number;
  deadLetterFile?: string;
  error?: { table: string; chunk: number | null; code: string; message: string };
  summary: string;
}

/**
 * The initial migration of the ERP tables (five years of history), table by table, in key-range chunks:
 * each chunk is read AS OF the load's SCN with its SHA-256 per row computed at the source (STANDARD_HASH
 * from 12.1, in Node over the same canonical text on 11.2), lands as one Parquet file in the bronze
 * layout, and then the table's checkpoint (`oracle-erp` / `full-load/OWNER.TABLE`) moves past it. A crash
 * or an abort loses nothing: `resume` continues at the first chunk not yet durable, never landing one
 * twice (the path a chunk is put to is recorded before the put). Transient failures are retried per chunk
 * (30/60/120 s) on a new session, then the load stops with a dead letter naming where to resume. Rows that
 * cannot be typed are dead-lettered, the rest of the chunk lands. A completed table is handed to CDC.
 */
export async function runFullLoad(deps: FullLoadDeps, options: FullLoadOptions): Promise<FullLoadReport> {
  const started = performance.now();
  const log = deps.log.child({ source: ERP_SOURCE, operation: 'full-load' });
  const states = new Map<string, { value: FullLoadState; etag: string } | undefined>();
  for (const config of options.tables) {
    const name = qualifiedName(config);
    const stored = await deps.checkpoints.load<FullLoadState>(ERP_SOURCE, fullLoadKey(name));
    if (stored && !stored.value.completedAt && !options.resume)
      throw new UsageError(
        `the full load of ${name} is unfinished (${stored.value.next} of ${stored.value.plan.count} chunks durable, started ${stored.value.startedAt}): resume it (--resume)`,
      );
    states.set(name, stored);
  }
  const ctx: LoadContext = {
    deps,
    log,
    instance: await Instance.create(':memory:', { threads: '1' }),
    session: undefined,
    resume: options.resume,
    rowsThisRun: 0,
    started,
  };
  const reports: FullLoadTableReport[] = [];
  let current: { table: string; chunk: number | null } = { table: '', chunk: null };
  try {
    for (const config of options.tables) {
      const report = await loadTable(ctx, config, states.get(qualifiedName(config)), (chunk) => {
        current = { table: qualifiedName(config), chunk };
      });
      reports.push(report);
    }
  } catch (thrown) {
    const error = toAuroraError(thrown);
    const aborted = deps.signal?.aborted === true;
    const last = error instanceof RetriesExhaustedError ? error.lastError : error;
    const code = aborted ? 'aborted' : last.code;
    const letters = aborted
      ? undefined
      : await writeDeadLetters(deps, ERP_SOURCE, `${ERP_SOURCE}-full-load`, [
          {
            code: 'erp.full_load_failed',
            reason: error.message,
            payload: null,
            context: {
              table: current.table,
              chunk: current.chunk,
              error_code: last.code,
              ora_code: last.details['oraCode'] ?? null,
              attempts: error instanceof RetriesExhaustedError ? error.attempts : 1,
              resume: 'aurora erp full-load --resume',
            },
          },
        ]).catch(() => undefined);
    log.error(
      {
        event: aborted ? 'ingest.erp.full_load.aborted' : 'deadletter.written',
        table: current.table,
        chunk: current.chunk,
        code,
        err: error.message,
      },
      `full load stopped at ${current.table} chunk ${current.chunk}: ${error.message}`,
    );
    const rowsLanded = ctx.rowsThisRun;
    return {
      ok: false,
      tables: reports,
      rowsLanded,
      durationMs: Math.round(performance.now() - started),
      ...(letters ? { deadLetterFile: letters.path } : {}),
      error: { table: current.table, chunk: current.chunk, code, message: error.message },
      summary: `${ERP_SOURCE} full load ${aborted ? 'ABORTED' : 'FAILED'} at ${current.table}${current.chunk === null ? '' : ` chunk ${current.chunk + 1}`}: ${error.message}; what landed is durable, continue with --resume`,
    };
  } finally {
    await ctx.session?.close().catch(() => undefined);
    ctx.instance.closeSync();
  }
  const rowsLanded = ctx.rowsThisRun;
  const durationMs = Math.round(performance.now() - started);
  const summary =
    `${ERP_SOURCE} full load: ${reports.filter((r) => r.completed).length} of ${reports.length} tables complete, ` +
    `${rowsLanded.toLocaleString('en')} rows landed in ${(durationMs / 1000).toFixed(1)} s` +
    (reports.some((r) => r.deadLettered > 0)
      ? `, ${reports.reduce((n, r) => n + r.deadLettered, 0)} rows dead-lettered`
      : '');
  log.info({ event: 'ingest.erp.full_load.done', rowsLanded, durationMs }, summary);
  return { ok: true, tables: reports, rowsLanded, durationMs, summary };
}

interface LoadContext {
  deps: FullLoadDeps;
  log: Logger;
  instance: DuckDBInstance;
  /** The open session, reused from chunk to chunk; dropped (and reopened) after a failure. */
  session: OracleSession | undefined;
  resume: boolean;
  rowsThisRun: number;
  started: number;
}

/** Runs `fn` on the load's session, retrying transient failures (per call) on a new session. */
function onSession<T>(
  ctx: LoadContext,
  what: string,
  fn: (session: OracleSession) => Promise<T>,
): Promise<T> {
  const { deps } = ctx;
  const opts = deps.signal ? { signal: deps.signal } : {};
  return retry(
    async () => {
      if (!ctx.session) {
        const session = await deps.connect(opts);
        try {
          for (const statement of NLS_STATEMENTS) await session.execute(statement, {}, opts);
        } catch (error) {
          await session.close().catch(() => undefined);
          throw error;
        }
        ctx.session = session;
      }
      const session = ctx.session;
      try {
        return await fn(session);
      } catch (error) {
        ctx.session = undefined;
        await session.close().catch(() => undefined);
        throw error;
      }
    },
    {
      ...(deps.retryDelaysMs ? { delaysMs: deps.retryDelaysMs } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      // An abort is not an outage.
      isRetryable: (e) => e.retryable && !deps.signal?.aborted,
      onRetry: ({ attempt, delayMs, error }) =>
        ctx.log.warn(
          {
            event: 'ingest.erp.retry',
            what,
            attempt,
            delayMs,
            code: error.code,
            oraCode: error.details['oraCode'],
          },
          `oracle-erp full load, ${what}: ${error.message}; retrying in ${delayMs / 1000} s`,
        ),
    },
  );
}

async function loadTable(
  ctx: LoadContext,
  config: ErpTableConfig,
  stored: { value: FullLoadState; etag: string } | undefined,
  at: (chunk: number | null) => void,
): Promise<FullLoadTableReport> {
  const { deps, log } = ctx;
  const name = qualifiedName(config);
  const key = fullLoadKey(name);
  at(null);
  if (stored?.value.completedAt && ctx.resume) {
    // Complete already; the hand-over is idempotent, and repeating it covers a crash right before it.
    const cdc = await handOverToCdc(deps.checkpoints, stored.value, config.mode);
    return { ...tableReport(stored.value, { alreadyComplete: true, resumedAt: stored.value.next }), cdc };
  }
  let etag: string | undefined = stored?.etag;
  let state: FullLoadState;
  if (stored && !stored.value.completedAt) {
    state = stored.value;
    log.info(
      { event: 'ingest.erp.full_load.resume', table: name, loadId: state.loadId, next: state.next },
      `${name}: resuming load ${state.loadId} at chunk ${state.next + 1} of ${state.plan.count}`,
    );
  } else {
    state = await onSession(ctx, `${name}: planning`, (session) => startState(ctx, session, config));
    etag = await deps.checkpoints.save(ERP_SOURCE, key, state, etag);
    log.info(
      {
        event: 'ingest.erp.full_load.start',
        table: name,
        loadId: state.loadId,
        scn: state.scn,
        chunks: state.plan.count,
        rows: state.plan.rows,
      },
      `${name}: full load ${state.loadId} of ${state.plan.rows} rows in ${state.plan.count} chunks as of SCN ${state.scn}`,
    );
  }
  const report = tableReport(state, { alreadyComplete: false, resumedAt: state.next });
  const protect = config.personal
    ? erpProtectHook(deps.sealer, {
        onUnattributed: () => {
          report.unattributed = (report.unattributed ?? 0) + 1;
        },
      })
    : undefined;
  const save = async () => {
    state.updatedAt = deps.clock.now().toISOString();
    etag = await deps.checkpoints.save(ERP_SOURCE, key, state, etag);
  };
  const progress = (recovered: boolean) =>
    deps.onProgress?.({
      table: name,
      chunk: state.next,
      chunks: state.plan.count,
      rows: state.rows,
      plannedRows: state.plan.rows,
      rowsThisRun: ctx.rowsThisRun,
      elapsedMs: performance.now() - ctx.started,
      recovered,
    });
  const bronzeName = bronzeTableName(config);
  while (state.next < state.plan.count) {
    const index = state.next;
    at(index);
    deps.signal?.throwIfAborted();
    if (state.pending?.chunk === index) {
      const info = await deps.lake.stat(state.pending.path);
      if (info && info.metadata['load_id'] === state.loadId && info.metadata['chunk'] === String(index)) {
        // Put before the crash, checkpoint not: it is durable, so count it and go on.
        state.next = index + 1;
        state.rows += Number(info.metadata['rows'] ?? 0);
        state.files++;
        state.pending = null;
        await save();
        report.chunksRecovered++;
        log.warn(
          { event: 'ingest.erp.full_load.recovered', table: name, chunk: index, path: info.path },
          `${name}: chunk ${index + 1} was landed before the crash (${info.path}); not landing it again`,
        );
        progress(true);
        continue;
      }
      state.pending = null;
    }
    const extractedAt = deps.clock.now();
    const batchId = `${state.loadId}-c${index}`;
    const chunk = await onSession(ctx, `${name} chunk ${index + 1}`, (session) =>
      readChunkRows(ctx, session, config, state, index, { extractedAt, batchId }, protect),
    );
    try {
      if (chunk.deadLetters.length > 0) {
        // Kept before the file lands: a crash in between reads the chunk again (letters repeat, never lost).
        await writeDeadLetters(deps, ERP_SOURCE, batchId, chunk.deadLetters);
        state.deadLettered += chunk.deadLetters.length;
        report.deadLettered += chunk.deadLetters.length;
      }
      if (chunk.writer.rowCount > 0) {
        const rows = chunk.writer.rowCount;
        const bytes = await chunk.writer.finish();
        const path = await freePath(deps.lake, (micros) =>
          bronzePaths.oracleErp(bronzeName, extractedAt, micros),
        );
        // The path is known before the put, so a resume can tell whether the put happened.
        state.pending = { chunk: index, path };
        await save();
        const range = chunkRange(state.plan, index);
        await deps.lake.put(path, bytes, {
          contentType: 'application/vnd.apache.parquet',
          metadata: {
            rows: String(rows),
            batch_id: batchId,
            source: ERP_SOURCE,
            table: name,
            hash_columns: hashColumnsText(state.columns),
            load_id: state.loadId,
            chunk: String(index),
            chunks: String(state.plan.count),
            key_column: state.plan.column,
            key_lo: range.lo,
            key_hi: range.hi,
            scn: chunk.scn,
          },
        });
        await deps.beforeChunkCheckpoint?.({ table: name, chunk: index, path });
        state.files++;
        report.chunksLanded++;
      }
    } finally {
      chunk.writer.close();
    }
    state.next = index + 1;
    state.rows += chunk.landed;
    state.pending = null;
    await save();
    ctx.rowsThisRun += chunk.landed;
    report.rowsLanded += chunk.landed;
    progress(false);
  }
  at(null);
  state.completedAt = deps.clock.now().toISOString();
  await save();
  const cdc = await handOverToCdc(deps.checkpoints, state, config.mode);
  if (report.unattributed)
    log.warn(
      { event: 'ingest.erp.unattributed', table: name, rows: report.unattributed },
      `${name}: ${report.unattributed} rows with personal data but no subject key, sealed as erp-unattributed:${name}`,
    );
  log.info(
    { event: 'ingest.erp.full_load.table_done', table: name, loadId: state.loadId, rows: state.rows, cdc },
    `${name}: full load ${state.loadId} complete, ${state.rows} rows in ${state.files} files; CDC: ${cdc.action}`,
  );
  return {
    ...report,
    rows: state.rows,
    files: state.files,
    scn: state.firstScn,
    completed: true,
    cdc,
  };
}

function tableReport(
  state: FullLoadState,
  options: { alreadyComplete: boolean; resumedAt: number },
): FullLoadTableReport {
  return {
    table: state.table,
    loadId: state.loadId,
    scn: state.firstScn,
    chunks: state.plan.count,
    chunksLanded: 0,
    resumedAt: options.resumedAt,
    chunksRecovered: 0,
    rows: state.rows,
    rowsLanded: 0,
    files: state.files,
    deadLettered: 0,
    completed: state.completedAt !== null,
    alreadyComplete: options.alreadyComplete,
  };
}

/** A new load's state: the SCN, the oldest open transaction, the columns and the key-range plan. */
async function startState(
  ctx: LoadContext,
  session: OracleSession,
  config: ErpTableConfig,
): Promise<FullLoadState> {
  const { deps } = ctx;
  const opts = deps.signal ? { signal: deps.signal } : {};
  const name = qualifiedName(config);
  const version = (await session.execute(DB_VERSION_SQL, {}, opts)).rows[0]?.['VERSION'] ?? '';
  const serverHash = !version.startsWith('11.') && !version.startsWith('10.');
  const oldestOpen = (await session.execute(OLDEST_OPEN_TRANSACTION_SQL, {}, opts)).rows[0]?.['START_SCN'];
  const scn = await currentScn(session, opts);
  const sysdate = (await session.execute(SYSDATE_SQL, {}, opts)).rows[0]?.['NOW'];
  if (!sysdate) throw new OracleServerError('ORA-01403', 'SYSDATE came back empty');
  const columns = await tableColumns(session, config.owner, config.name);
  if (columns.length === 0)
    throw new OracleServerError(
      'ORA-00942',
      `table or view does not exist: ${name} (AURORA_ERP_TABLES, or the grant)`,
    );
  const plan = await planKeyRanges(session, config, { scn, chunkRows: deps.chunkRows, ...opts });
  const now = deps.clock.now().toISOString();
  return {
    loadId: `${bronzeTableName(config)}-${fileTimestamp(deps.clock.now())}`,
    table: name,
    scn,
    firstScn: scn,
    lowWatermarkScn: oldestOpen && isScn(oldestOpen) && compareScn(oldestOpen, scn) < 0 ? oldestOpen : scn,
    sysdate,
    serverHash,
    columns,
    plan,
    next: 0,
    pending: null,
    rows: 0,
    files: 0,
    deadLettered: 0,
    startedAt: now,
    updatedAt: now,
    completedAt: null,
  };
}

async function currentScn(session: OracleSession, opts: { signal?: AbortSignal }): Promise<Scn> {
  const value = (await session.execute(CURRENT_SCN_SQL, {}, opts)).rows[0]?.['CURRENT_SCN'];
  if (!value || !isScn(value))
    throw new OracleServerError('ORA-01403', `CURRENT_SCN is not an SCN: ${value}`);
  return value;
}

/**
 * Reads one chunk AS OF the load's SCN into a new bronze writer. When the undo for that SCN is gone
 * (ORA-01555: a long load on a database with a short UNDO_RETENTION), the chunk and the ones after it are
 * read at the current SCN instead; their rows carry it in `_scn`, and CDC still takes over from the first.
 */
async function readChunkRows(
  ctx: LoadContext,
  session: OracleSession,
  config: ErpTableConfig,
  state: FullLoadState,
  index: number,
  lineage: { extractedAt: Date; batchId: string },
  protect: ProtectHook | undefined,
): Promise<{ writer: BronzeTableWriter; landed: number; deadLetters: DeadLetter[]; scn: Scn }> {
  const { deps } = ctx;
  const range = chunkRange(state.plan, index);
  for (let attempt = 0; ; attempt++) {
    const writer = await BronzeTableWriter.create(ctx.instance, state.columns);
    const deadLetters: DeadLetter[] = [];
    let landed = 0;
    try {
      for await (const batch of readChunk(session, config, state.columns, {
        ...range,
        scn: state.scn,
        serverHash: state.serverHash,
        ...(deps.signal ? { signal: deps.signal } : {}),
      })) {
        for (const { row, sha256 } of batch) {
          let bronze: Record<string, BronzeValue>;
          try {
            bronze = fetchedRow(
              { config, columns: state.columns },
              row,
              { ...lineage, op: 'R', scn: state.scn, sha256 },
              deps.timeZone,
            );
          } catch (error) {
            const e = toAuroraError(error);
            if (e.kind !== 'data') throw error;
            const personal = config.personal;
            deadLetters.push({
              code: 'erp.unlandable_row',
              reason: e.message,
              payload: personal ? await sealErpRecord(deps.sealer, state.table, personal, row) : row,
              context: { table: state.table, load_id: state.loadId, chunk: index, scn: state.scn },
            });
            continue;
          }
          const personal = config.personal;
          await writer.append(
            personal && protect ? await protect({ table: state.table, personal }, bronze) : bronze,
          );
          landed++;
        }
      }
      return { writer, landed, deadLetters, scn: state.scn };
    } catch (error) {
      writer.close();
      if (attempt === 0 && error instanceof OracleServerError && error.oraCode === 'ORA-01555') {
        const scn = await currentScn(session, deps.signal ? { signal: deps.signal } : {});
        ctx.log.warn(
          {
            event: 'ingest.erp.full_load.new_scn',
            table: state.table,
            chunk: index,
            from: state.scn,
            to: scn,
          },
          `${state.table}: the undo for SCN ${state.scn} is gone (ORA-01555); chunk ${index + 1} on are read as of SCN ${scn}`,
        );
        state.scn = scn;
        continue;
      }
      throw error;
    }
  }
}

/** A free path for a chunk (the micro-second digits tell apart files of the same millisecond). */
async function freePath(lake: Lake, pathFor: (micros: number) => string): Promise<string> {
  for (let micros = 0; micros < 1000; micros++) {
    const path = pathFor(micros);
    if (!(await lake.stat(path))) return path;
  }
  throw new AuroraError('lake.conflict', `no free file name near ${pathFor(0)}`);
}

export interface CdcHandover {
  /**
   * `created`: CDC had no checkpoint; it starts mining at the load's SCN. `added`: the table joins the
   * mined ones, its changes after the load's SCN are mined. `rewound`: CDC was already past the load's
   * SCN, so it mines again from it; the other tables skip what they already have. `already`: CDC
   * tracked the table before the load (its changes were never missed): nothing to do.
   */
  action: 'created' | 'added' | 'rewound' | 'already';
  fromScn: Scn;
}

/**
 * Hands a completed load to the CDC runner: the table enters the CDC checkpoint with the load's SCN as
 * its snapshot SCN (so CDC neither snapshots it again nor lands the changes the load already holds), and
 * the mining window reaches back to that SCN if CDC was past it. Optimistic: retried on a concurrent CDC
 * run's save.
 */
export async function handOverToCdc(
  checkpoints: CheckpointStore,
  state: FullLoadState,
  mode: ErpTableConfig['mode'],
): Promise<CdcHandover> {
  for (let attempt = 1; ; attempt++) {
    const stored = await checkpoints.load<ErpCheckpoint>(ERP_SOURCE, 'cdc');
    const checkpoint: ErpCheckpoint = stored?.value ?? {
      fromScn: state.firstScn,
      lowWatermarkScn: state.lowWatermarkScn,
      tables: {},
      watermarks: {},
    };
    const columns = state.columns.map((c) => c.name);
    let action: CdcHandover['action'] = stored ? 'added' : 'created';
    if (mode === 'watermark') {
      if (checkpoint.watermarks[state.table]) return { action: 'already', fromScn: checkpoint.fromScn };
      checkpoint.watermarks[state.table] = { since: state.sysdate, seen: [], columns };
    } else {
      if (checkpoint.tables[state.table]) return { action: 'already', fromScn: checkpoint.fromScn };
      if (stored && compareScn(state.firstScn, checkpoint.fromScn) < 0) {
        // Everything the other tables committed up to fromScn is landed: they skip it when re-mined.
        for (const table of Object.values(checkpoint.tables))
          if (compareScn(table.snapshotScn, checkpoint.fromScn) < 0) table.snapshotScn = checkpoint.fromScn;
        checkpoint.fromScn = state.firstScn;
        if (compareScn(state.lowWatermarkScn, checkpoint.lowWatermarkScn) < 0)
          checkpoint.lowWatermarkScn = state.lowWatermarkScn;
        action = 'rewound';
      }
      checkpoint.tables[state.table] = { snapshotScn: state.firstScn, columns };
    }
    try {
      await checkpoints.save(ERP_SOURCE, 'cdc', checkpoint, stored?.etag);
      return { action, fromScn: checkpoint.fromScn };
    } catch (error) {
      if (!(error instanceof CheckpointConflictError) || attempt >= 5) throw error;
    }
  }
}
