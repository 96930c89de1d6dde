import {
  type AuroraError,
  type Clock,
  type Logger,
  RetriesExhaustedError,
  retry,
  type Sleep,
  SourceDataError,
  toAuroraError,
  UsageError,
} from '@aurora/core';
import {
  bronzePaths,
  type CheckpointStore,
  type DeadLetter,
  fileTimestamp,
  type Lake,
  putNew,
  type SourceStatusStore,
  writeDeadLetters,
} from '@aurora/lake';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Sealer } from '../personal-data.js';
import {
  BronzeTableWriter,
  type BronzeValue,
  canonicalRowFromFetched,
  canonicalRowSql,
  fetchedToBronze,
  hashColumnsText,
  type OracleColumn,
  redoToBronze,
  sha256Hex,
} from './bronze-rows.js';
import { bronzeTableName, type ErpTableConfig, personalDataOf, qualifiedName } from './erp-tables.js';
import { chunkRange, type FullLoadState, fullLoadKey, type KeyRangePlan } from './full-load-state.js';
import {
  assembleTransactions,
  compareScn,
  isScn,
  type LogMinerChange,
  type LogMinerReportEntry,
  type LogMinerRow,
  type Scn,
} from './logminer/index.js';
import { formatOracleDateTime, ORACLE_DATE_FORMAT, parseOracleDateTime } from './oracle-text.js';
import { erpProtectHook, type ProtectHook, sealErpRecord, sealErpText } from './seal-personal-data.js';
import {
  type OracleRow,
  OracleServerError,
  type OracleSession,
  type OracleSessionFactory,
} from './session.js';
import {
  addLogFileSql,
  CURRENT_SCN_SQL,
  DB_VERSION_SQL,
  END_LOGMINER_SQL,
  LOG_FILES_SQL,
  logMinerContentsSql,
  NLS_STATEMENTS,
  OLDEST_OPEN_TRANSACTION_SQL,
  quoteIdentifier,
  SCN_SECONDS_AGO_SQL,
  SYSDATE_SQL,
  startLogMinerSql,
  TABLE_COLUMNS_SQL,
} from './statements.js';

export const ERP_SOURCE = 'oracle-erp';

export interface ErpIngestionDeps {
  lake: Lake;
  checkpoints: CheckpointStore;
  status?: SourceStatusStore;
  clock: Clock;
  log: Logger;
  /** Opens the one session a run uses (node-oracledb, or the stand-in). */
  connect: OracleSessionFactory;
  tables: readonly ErpTableConfig[];
  /** The database server's zone: DATE and TIMESTAMP columns hold its wall time. */
  timeZone: string;
  /** The first run snapshots the tables as of this many seconds ago, then mines the redo since. */
  snapshotLookbackS: number;
  /** Watermark tables re-read this far behind their high-water mark (late commits). */
  watermarkLookbackS: number;
  /** Rows per key-range chunk of a snapshot or full load. */
  chunkRows: number;
  /** LogMiner's COMMITTED_DATA_ONLY option (default true). */
  committedDataOnly?: boolean;
  /**
   * Seals the personal data the tables declare (erp-tables.ts) before anything reaches bronze, dead
   * letters included: the platform passes its privacy key ring.
   */
  sealer: Sealer;
  retryDelaysMs?: readonly number[];
  sleep?: Sleep;
  signal?: AbortSignal;
  /** Tests: runs between landing the files and moving the checkpoint (a crash there is survivable). */
  beforeCheckpoint?: () => Promise<void>;
}

/** What the SCN checkpoint holds. */
export interface ErpCheckpoint {
  /** Everything committed up to this SCN is landed: the next window starts after it. */
  fromScn: Scn;
  /** Where the next run starts mining: the start of the oldest transaction open at `fromScn`. */
  lowWatermarkScn: Scn;
  /** Per table (`OWNER.TABLE`): the SCN its snapshot was read at; changes up to it are in the snapshot. */
  tables: Record<string, { snapshotScn: Scn; columns?: string[] }>;
  /** Per watermark table: LAST_UPDATE_DATE high-water mark (server wall time) and what the lookback landed. */
  watermarks: Record<string, { since: string; seen: string[]; columns?: string[] }>;
}

export interface ErpTableReport {
  table: string;
  mode: 'logminer' | 'watermark';
  rows: number;
  inserts: number;
  updates: number;
  deletes: number;
  snapshotRows: number;
  file?: string;
  /** Columns the source gained in this window (DDL), now landed. */
  newColumns?: string[];
  /** Rows with personal data but a null subject key, sealed as `erp-unattributed:<table>`. */
  unattributed?: number;
}

export interface ErpIngestionReport {
  source: typeof ERP_SOURCE;
  ok: boolean;
  window: { fromScn: Scn; toScn: Scn } | null;
  snapshot: boolean;
  tables: ErpTableReport[];
  /** DDL seen in the redo (logged, and new columns landed). */
  ddl: string[];
  /** Redo rows that could not be landed: dead-lettered with the full SQL, never dropped. */
  deadLettered: number;
  deadLetterFile?: string;
  /** Tables left out because their full load is unfinished (CDC takes them over when it completes). */
  fullLoadPending?: string[];
  error?: { code: string; message: string };
  summary: string;
}

interface TableRun {
  config: ErpTableConfig;
  name: string;
  columns: OracleColumn[];
  writer: BronzeTableWriter;
  report: ErpTableReport;
  /** Seals the row's personal data; undefined for a table without any. */
  protect: ProtectHook | undefined;
}

interface ReadResult {
  runs: Map<string, TableRun>;
  checkpoint: ErpCheckpoint;
  etag: string | undefined;
  window: { fromScn: Scn; toScn: Scn } | null;
  snapshot: boolean;
  ddl: string[];
  deadLetters: DeadLetter[];
  fullLoadPending: string[];
}

/**
 * One ERP ingestion, the Oracle counterpart of the MES runner: on one session, the first run snapshots
 * the configured tables (as of `snapshotLookbackS` ago, chunked by key ranges, with a source-side SHA-256
 * per row); every run then mines the committed redo of (checkpoint SCN, CURRENT_SCN] with LogMiner
 * (continuations joined, rolled-back transactions left out) and reads watermark tables by
 * LAST_UPDATE_DATE. One Parquet file per table lands at bronze/oracle-erp/{table}/..., and only when all
 * are durable does the SCN checkpoint move; a crash in between re-lands the window next time (repeats
 * carry the same `_scn`). Source outages are retried (30/60/120 s), then dead-lettered with the window;
 * redo rows that cannot be landed are dead-lettered with their SQL.
 */
export async function runErpIngestion(deps: ErpIngestionDeps): Promise<ErpIngestionReport> {
  const log = deps.log.child({ source: ERP_SOURCE });
  const extractedAt = deps.clock.now();
  const batchId = `${ERP_SOURCE}-${fileTimestamp(extractedAt)}`;
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  let result: ReadResult | undefined;
  try {
    try {
      result = await retry(
        async () => {
          const session = await deps.connect(deps.signal ? { signal: deps.signal } : {});
          try {
            return await readWindow(deps, session, instance, { extractedAt, batchId }, log);
          } finally {
            await session.close();
          }
        },
        {
          ...(deps.retryDelaysMs ? { delaysMs: deps.retryDelaysMs } : {}),
          ...(deps.sleep ? { sleep: deps.sleep } : {}),
          ...(deps.signal ? { signal: deps.signal } : {}),
          onRetry: ({ attempt, delayMs, error }) =>
            log.warn(
              {
                event: 'ingest.erp.retry',
                attempt,
                delayMs,
                code: error.code,
                oraCode: error.details['oraCode'],
                err: error.message,
              },
              `oracle-erp: ${error.message}; retrying in ${delayMs / 1000} s`,
            ),
        },
      );
    } catch (thrown) {
      return await failure(deps, toAuroraError(thrown), batchId, log);
    }
    return await land(deps, result, { extractedAt, batchId }, log);
  } finally {
    for (const run of result?.runs.values() ?? []) run.writer.close();
    instance.closeSync();
  }
}

async function readWindow(
  deps: ErpIngestionDeps,
  session: OracleSession,
  instance: DuckDBInstance,
  lineage: { extractedAt: Date; batchId: string },
  log: Logger,
): Promise<ReadResult> {
  const runs = new Map<string, TableRun>();
  try {
    return await readWindowOn(deps, session, instance, runs, lineage, log);
  } catch (error) {
    for (const run of runs.values()) run.writer.close();
    throw error;
  }
}

async function readWindowOn(
  deps: ErpIngestionDeps,
  session: OracleSession,
  instance: DuckDBInstance,
  runs: Map<string, TableRun>,
  lineage: { extractedAt: Date; batchId: string },
  log: Logger,
): Promise<ReadResult> {
  const opts = deps.signal ? { signal: deps.signal } : {};
  for (const statement of NLS_STATEMENTS) await session.execute(statement, {}, opts);
  const version = (await session.execute(DB_VERSION_SQL, {}, opts)).rows[0]?.['VERSION'] ?? '';
  const serverHash = !version.startsWith('11.') && !version.startsWith('10.');
  const currentScn = scnOf(
    (await session.execute(CURRENT_SCN_SQL, {}, opts)).rows[0]?.['CURRENT_SCN'],
    'CURRENT_SCN',
  );
  const oldestOpen =
    (await session.execute(OLDEST_OPEN_TRANSACTION_SQL, {}, opts)).rows[0]?.['START_SCN'] ?? null;
  const stored = await deps.checkpoints.load<ErpCheckpoint>(ERP_SOURCE, 'cdc');
  for (const config of deps.tables) {
    const name = qualifiedName(config);
    const columns = await tableColumns(session, config.owner, config.name);
    if (columns.length === 0)
      throw new OracleServerError(
        'ORA-00942',
        `table or view does not exist: ${name} (AURORA_ERP_TABLES, or the grant)`,
      );
    const report: ErpTableReport = {
      table: name,
      mode: config.mode,
      rows: 0,
      inserts: 0,
      updates: 0,
      deletes: 0,
      snapshotRows: 0,
    };
    runs.set(name, {
      config,
      name,
      columns,
      writer: await BronzeTableWriter.create(instance, columns),
      report,
      protect: config.personal
        ? erpProtectHook(deps.sealer, {
            onUnattributed: () => {
              report.unattributed = (report.unattributed ?? 0) + 1;
            },
          })
        : undefined,
    });
  }

  const checkpoint: ErpCheckpoint = stored?.value ?? {
    fromScn: currentScn,
    lowWatermarkScn: currentScn,
    tables: {},
    watermarks: {},
  };
  let snapshotScn = currentScn;
  if (!stored) {
    // The first run reads the tables as they were a little while ago and mines the redo since, so that
    // it proves at once that the redo is reachable.
    try {
      const rows = (await session.execute(SCN_SECONDS_AGO_SQL, { seconds: deps.snapshotLookbackS }, opts))
        .rows;
      snapshotScn = scnOf(rows[0]?.['SCN'], 'TIMESTAMP_TO_SCN');
    } catch (error) {
      if (!(error instanceof OracleServerError && error.oraCode === 'ORA-08180')) throw error;
    }
    checkpoint.fromScn = snapshotScn;
    checkpoint.lowWatermarkScn = snapshotScn;
  }
  // A table whose full load (`aurora erp full-load`) is unfinished is left to it: the load hands it to
  // CDC when it completes, with the SCN CDC must take over from.
  const fullLoadPending: string[] = [];
  for (const run of [...runs.values()]) {
    const known =
      run.config.mode === 'logminer' ? checkpoint.tables[run.name] : checkpoint.watermarks[run.name];
    if (known !== undefined) continue;
    const load = await deps.checkpoints.load<FullLoadState>(ERP_SOURCE, fullLoadKey(run.name));
    if (!load || load.value.completedAt) continue;
    run.writer.close();
    runs.delete(run.name);
    fullLoadPending.push(run.name);
    log.warn(
      { event: 'ingest.erp.full_load_pending', table: run.name, loadId: load.value.loadId },
      `${run.name}: its full load ${load.value.loadId} is unfinished; CDC takes the table over when it completes`,
    );
  }
  let snapshot = false;
  for (const run of runs.values()) {
    if (run.config.mode === 'logminer' && checkpoint.tables[run.name] === undefined) {
      const scn = stored ? currentScn : snapshotScn;
      await snapshotTable(deps, session, run, { scn, serverHash, lineage }, log);
      checkpoint.tables[run.name] = { snapshotScn: scn };
      snapshot = true;
    }
  }

  // Columns the table gained since the last run (DDL before this run; DDL inside the window is seen
  // in the redo and handled while mining).
  for (const run of runs.values()) {
    const known = checkpoint.tables[run.name]?.columns ?? checkpoint.watermarks[run.name]?.columns;
    const added = known ? run.columns.map((c) => c.name).filter((c) => !known.includes(c)) : [];
    if (added.length > 0) {
      run.report.newColumns = added;
      log.warn(
        { event: 'ingest.erp.new_columns', table: run.name, columns: added },
        `${run.name} gained ${added.join(', ')}`,
      );
    }
  }
  const ddl: string[] = [];
  const deadLetters: DeadLetter[] = [];
  let window: ReadResult['window'] = null;
  const mined = [...runs.values()].filter((r) => r.config.mode === 'logminer');
  if (mined.length > 0 && compareScn(checkpoint.fromScn, currentScn) < 0) {
    window = { fromScn: checkpoint.fromScn, toScn: currentScn };
    await mine(
      deps,
      session,
      runs,
      { window, lowScn: checkpoint.lowWatermarkScn, lineage, checkpoint, ddl, deadLetters },
      log,
    );
  }
  checkpoint.fromScn = currentScn;
  checkpoint.lowWatermarkScn =
    oldestOpen !== null && isScn(oldestOpen) && compareScn(oldestOpen, currentScn) < 0
      ? oldestOpen
      : currentScn;

  const watermarked = [...runs.values()].filter((r) => r.config.mode === 'watermark');
  if (watermarked.length > 0) {
    const now = (await session.execute(SYSDATE_SQL, {}, opts)).rows[0]?.['NOW'];
    if (!now) throw new SourceDataError('SYSDATE came back empty');
    for (const run of watermarked)
      await readWatermark(deps, session, run, { now, currentScn, lineage, checkpoint }, log);
  }
  return { runs, checkpoint, etag: stored?.etag, window, snapshot, ddl, deadLetters, fullLoadPending };
}

/** A table's columns as the data dictionary has them now. */
export async function tableColumns(
  session: OracleSession,
  owner: string,
  tableName: string,
): Promise<OracleColumn[]> {
  const rows = (await session.execute(TABLE_COLUMNS_SQL, { owner, tableName })).rows;
  return rows.map((r) => ({
    name: r['COLUMN_NAME']!,
    dataType: (r['DATA_TYPE'] ?? '').replace(/\(\d+\)$/, ''),
    scale: r['DATA_SCALE'] === null || r['DATA_SCALE'] === undefined ? null : Number(r['DATA_SCALE']),
  }));
}

/** SELECT list with every column as text in the pinned formats, optionally the source-side hash. */
export function tableSelectList(columns: readonly OracleColumn[], serverHash: boolean): string {
  const items = columns.map((c) => {
    const col = quoteIdentifier(c.name);
    switch (c.dataType) {
      case 'NUMBER':
      case 'FLOAT':
        return `TO_CHAR(${col}) AS ${col}`;
      case 'DATE':
        return `TO_CHAR(${col}, '${ORACLE_DATE_FORMAT}') AS ${col}`;
      case 'TIMESTAMP':
        return `TO_CHAR(${col}, 'YYYY-MM-DD HH24:MI:SS.FF6') AS ${col}`;
      default:
        return `${col}`;
    }
  });
  if (serverHash)
    items.push(`LOWER(RAWTOHEX(STANDARD_HASH(${canonicalRowSql(columns)}, 'SHA256'))) AS "_ROW_SHA256"`);
  return items.join(', ');
}

export interface ChunkPlan {
  column: string;
  chunks: { lo: string; hi: string }[];
  rows: number;
}

/** Key ranges of about `chunkRows` rows over the table's first key column (numeric). */
export async function planChunks(
  session: OracleSession,
  config: ErpTableConfig,
  options: { scn?: Scn; chunkRows: number },
): Promise<ChunkPlan> {
  const plan = await planKeyRanges(session, config, options);
  const chunks = Array.from({ length: plan.count }, (_, i) => chunkRange(plan, i));
  return { column: plan.column, chunks, rows: plan.rows };
}

/** {@link planChunks} as a formula (lo, width, count): what a full load's checkpoint keeps. */
export async function planKeyRanges(
  session: OracleSession,
  config: ErpTableConfig,
  options: { scn?: Scn; chunkRows: number; signal?: AbortSignal },
): Promise<KeyRangePlan> {
  const column = quoteIdentifier(config.key[0]!);
  const asOf = options.scn ? ' AS OF SCN :scn' : '';
  const sql = `SELECT TO_CHAR(MIN(${column})) AS "LO", TO_CHAR(MAX(${column})) AS "HI", TO_CHAR(COUNT(*)) AS "N" FROM ${quoteIdentifier(config.owner)}.${quoteIdentifier(config.name)}${asOf}`;
  const row =
    (
      await session.execute(
        sql,
        options.scn ? { scn: options.scn } : {},
        options.signal ? { signal: options.signal } : {},
      )
    ).rows[0] ?? {};
  const rows = Number(row['N'] ?? 0);
  if (rows === 0 || !row['LO'] || !row['HI'])
    return { column: config.key[0]!, lo: '0', hi: '0', width: '1', count: 0, rows: 0 };
  if (!/^-?\d+$/.test(row['LO']) || !/^-?\d+$/.test(row['HI']))
    throw new UsageError(
      `${qualifiedName(config)}: its first key column ${config.key[0]} is not an integer (${row['LO']}), so it cannot be chunked by key ranges`,
    );
  const lo = BigInt(row['LO']);
  const hi = BigInt(row['HI']) + 1n;
  const wanted = BigInt(Math.max(1, Math.ceil(rows / Math.max(1, options.chunkRows))));
  const width = (hi - lo + wanted - 1n) / wanted;
  const count = Number((hi - lo + width - 1n) / width);
  return { column: config.key[0]!, lo: String(lo), hi: String(hi), width: String(width), count, rows };
}

/** Reads one key range, as of an SCN, yielding the fetched rows with their checksum. */
export async function* readChunk(
  session: OracleSession,
  config: ErpTableConfig,
  columns: readonly OracleColumn[],
  options: { scn?: Scn; lo: string; hi: string; serverHash: boolean; signal?: AbortSignal },
): AsyncIterable<{ row: OracleRow; sha256: string }[]> {
  const key = quoteIdentifier(config.key[0]!);
  const orderBy = config.key.map(quoteIdentifier).join(', ');
  const asOf = options.scn ? ' AS OF SCN :scn' : '';
  const sql = `SELECT ${tableSelectList(columns, options.serverHash)} FROM ${quoteIdentifier(config.owner)}.${quoteIdentifier(config.name)}${asOf} WHERE ${key} >= :lo AND ${key} < :hi ORDER BY ${orderBy}`;
  const binds = { ...(options.scn ? { scn: options.scn } : {}), lo: options.lo, hi: options.hi };
  for await (const batch of session.query(sql, binds, {
    fetchArraySize: 5000,
    ...(options.signal ? { signal: options.signal } : {}),
  })) {
    yield batch.map((row) => ({
      row,
      sha256: options.serverHash
        ? (row['_ROW_SHA256'] ?? '')
        : sha256Hex(canonicalRowFromFetched(columns, row)),
    }));
  }
}

/** A fetched row as bronze values with its lineage. */
export function fetchedRow(
  run: { config: ErpTableConfig; columns: readonly OracleColumn[] },
  row: OracleRow,
  lineage: { extractedAt: Date; batchId: string; op: string; scn: Scn; sha256: string | null },
  zone: string,
): Record<string, BronzeValue> {
  const out: Record<string, BronzeValue> = {};
  for (const c of run.columns) out[c.name] = fetchedToBronze(c, row[c.name] ?? null, zone);
  out['_source'] = ERP_SOURCE;
  out['_extracted_at'] = lineage.extractedAt;
  out['_batch_id'] = lineage.batchId;
  out['_op'] = lineage.op;
  out['_scn'] = lineage.scn;
  out['_commit_ts'] = null;
  out['_xid'] = null;
  out['_record_key'] = run.config.key.map((k) => row[k] ?? '').join('|');
  out['_row_sha256'] = lineage.sha256;
  out['_unavailable'] = null;
  return out;
}

async function protect(run: TableRun, row: Record<string, BronzeValue>) {
  const personal = run.config.personal;
  if (!personal || !run.protect) return row;
  return run.protect({ table: run.name, personal }, row);
}

async function snapshotTable(
  deps: ErpIngestionDeps,
  session: OracleSession,
  run: TableRun,
  options: { scn: Scn; serverHash: boolean; lineage: { extractedAt: Date; batchId: string } },
  log: Logger,
): Promise<void> {
  const plan = await planChunks(session, run.config, { scn: options.scn, chunkRows: deps.chunkRows });
  for (const chunk of plan.chunks) {
    for await (const batch of readChunk(session, run.config, run.columns, {
      ...chunk,
      scn: options.scn,
      serverHash: options.serverHash,
    })) {
      for (const { row, sha256 } of batch) {
        const bronze = fetchedRow(
          run,
          row,
          { ...options.lineage, op: 'R', scn: options.scn, sha256 },
          deps.timeZone,
        );
        await run.writer.append(await protect(run, bronze));
        run.report.snapshotRows++;
        run.report.rows++;
      }
    }
  }
  log.info(
    {
      event: 'ingest.erp.snapshot',
      table: run.name,
      scn: options.scn,
      rows: run.report.snapshotRows,
      chunks: plan.chunks.length,
    },
    `${run.name}: snapshot of ${run.report.snapshotRows} rows as of SCN ${options.scn}`,
  );
}

const BATCH_ROWS = 2_000;

async function mine(
  deps: ErpIngestionDeps,
  session: OracleSession,
  runs: Map<string, TableRun>,
  ctx: {
    window: { fromScn: Scn; toScn: Scn };
    lowScn: Scn;
    lineage: { extractedAt: Date; batchId: string };
    checkpoint: ErpCheckpoint;
    ddl: string[];
    deadLetters: DeadLetter[];
  },
  log: Logger,
): Promise<void> {
  const committed = deps.committedDataOnly ?? true;
  const startScn = ctx.lowScn;
  const files = (await session.execute(LOG_FILES_SQL, { startScn })).rows
    .map((r) => ({ name: r['NAME']!, first: r['FIRST_CHANGE'] ?? '0' }))
    .sort((a, b) => compareScn(a.first, b.first));
  let first = true;
  for (const f of files) {
    await session.execute(addLogFileSql(first), { name: f.name });
    first = false;
  }
  await session.execute(startLogMinerSql(committed), { startScn, endScn: ctx.window.toScn });
  const owners = [
    ...new Set([...runs.values()].filter((r) => r.config.mode === 'logminer').map((r) => r.config.owner)),
  ];
  try {
    let batch: LogMinerRow[] = [];
    const open = new Set<string>();
    const flush = async () => {
      if (batch.length === 0) return;
      await landChanges(deps, session, runs, batch, ctx, log);
      batch = [];
    };
    for await (const rows of session.query(
      logMinerContentsSql(owners),
      { startScn, endScn: ctx.window.toScn },
      { fetchArraySize: BATCH_ROWS, ...(deps.signal ? { signal: deps.signal } : {}) },
    )) {
      for (const raw of rows) {
        const row = toLogMinerRow(raw, deps.timeZone);
        batch.push(row);
        // A batch may end only where no transaction is open in it, so each is assembled whole.
        if (
          row.OPERATION_CODE === 6 ||
          row.OPERATION_CODE === 1 ||
          row.OPERATION_CODE === 2 ||
          row.OPERATION_CODE === 3
        )
          open.add(row.XID);
        else if (row.OPERATION_CODE === 7 || row.OPERATION_CODE === 36) open.delete(row.XID);
        if (batch.length >= BATCH_ROWS && open.size === 0 && row.CSF === 0) await flush();
      }
    }
    await flush();
  } finally {
    await session.execute(END_LOGMINER_SQL).catch(() => undefined);
  }
}

/** A V$LOGMNR_CONTENTS row fetched as text, typed as the LogMiner core expects it. */
export function toLogMinerRow(raw: OracleRow, zone: string): LogMinerRow {
  const date = (text: string | null | undefined) => (text ? (parseOracleDateTime(text, zone) ?? null) : null);
  return {
    SCN: raw['SCN'] ?? '',
    START_SCN: raw['START_SCN'] ?? null,
    COMMIT_SCN: raw['COMMIT_SCN'] ?? null,
    TIMESTAMP: date(raw['TIMESTAMP']) ?? new Date(0),
    COMMIT_TIMESTAMP: date(raw['COMMIT_TIMESTAMP']),
    XID: raw['XID'] ?? '',
    CSF: Number(raw['CSF'] ?? 0),
    OPERATION: raw['OPERATION'] ?? '',
    OPERATION_CODE: Number(raw['OPERATION_CODE'] ?? 0),
    SEG_OWNER: raw['SEG_OWNER'] ?? null,
    TABLE_NAME: raw['TABLE_NAME'] ?? null,
    ROW_ID: raw['ROW_ID'] ?? null,
    ROLLBACK: Number(raw['ROLLBACK'] ?? 0),
    SQL_REDO: raw['SQL_REDO'] ?? null,
    RS_ID: raw['RS_ID'] ?? '',
    SSN: Number(raw['SSN'] ?? 0),
    INFO: raw['INFO'] ?? null,
  };
}

async function landChanges(
  deps: ErpIngestionDeps,
  session: OracleSession,
  runs: Map<string, TableRun>,
  rows: LogMinerRow[],
  ctx: {
    window: { fromScn: Scn; toScn: Scn };
    lineage: { extractedAt: Date; batchId: string };
    checkpoint: ErpCheckpoint;
    ddl: string[];
    deadLetters: DeadLetter[];
  },
  log: Logger,
): Promise<void> {
  const assembled = assembleTransactions(rows, ctx.window);
  // DDL first: a column added in the window must exist before its values land.
  for (const entry of assembled.report.filter((e) => e.kind === 'ddl')) {
    ctx.ddl.push(entry.sql ?? '');
    log.warn(
      { event: 'ingest.erp.ddl', table: `${entry.owner}.${entry.table}`, scn: entry.scn, sql: entry.sql },
      `DDL on ${entry.owner}.${entry.table}: ${entry.sql}`,
    );
    const run = runs.get(`${entry.owner}.${entry.table}`);
    if (!run) continue;
    const columns = await tableColumns(session, run.config.owner, run.config.name);
    for (const c of columns) {
      if (run.columns.some((x) => x.name === c.name)) continue;
      run.columns.push(c);
      await run.writer.addColumn(c);
      run.report.newColumns = [...(run.report.newColumns ?? []), c.name];
    }
  }
  const bad = assembled.report.filter((e) => e.kind !== 'ddl');
  for (const entry of bad)
    ctx.deadLetters.push(await sealRedoLetter(deps, entry, redoDeadLetter(entry, rows)));
  for (const change of assembled.changes) {
    const run = runs.get(`${change.owner}.${change.table}`);
    if (run?.config.mode !== 'logminer') continue;
    const since = ctx.checkpoint.tables[run.name]?.snapshotScn;
    // The table's snapshot already holds what committed up to its SCN.
    if (since !== undefined && compareScn(change.commitScn, since) <= 0) continue;
    let row: Record<string, BronzeValue>;
    try {
      row = changeRow(run, change, ctx.lineage, deps.timeZone);
    } catch (error) {
      const e = toAuroraError(error);
      if (e.kind !== 'data') throw error;
      const personal = run.config.personal;
      const image = async (values: Record<string, unknown> | null) =>
        values && personal ? sealErpRecord(deps.sealer, run.name, personal, values) : values;
      ctx.deadLetters.push({
        code: 'erp.unlandable_change',
        reason: e.message,
        payload: { before: await image(change.before), after: await image(change.after) },
        context: { table: run.name, scn: change.scn, xid: change.xid, op: change.op },
      });
      continue;
    }
    await run.writer.append(await protect(run, row));
    run.report.rows++;
    if (change.op === 'I') run.report.inserts++;
    else if (change.op === 'U') run.report.updates++;
    else run.report.deletes++;
  }
}

/** A change as a bronze row: inserts and updates carry the full after-image, deletes the before-image. */
function changeRow(
  run: TableRun,
  change: LogMinerChange,
  lineage: { extractedAt: Date; batchId: string },
  zone: string,
): Record<string, BronzeValue> {
  const image =
    change.op === 'I'
      ? change.after!
      : change.op === 'U'
        ? { ...change.before, ...change.after }
        : change.before!;
  const out: Record<string, BronzeValue> = {};
  const unavailable: string[] = [];
  for (const c of run.columns) {
    if (!(c.name in image)) {
      out[c.name] = null;
      // An unchanged LOB is not in an update's redo; anything else missing from an insert is just null.
      if (change.op !== 'I') unavailable.push(c.name);
      continue;
    }
    out[c.name] = redoToBronze(c, image[c.name] ?? null, zone);
  }
  const known = columnNames(run.columns);
  for (const name in image) {
    if (!known.has(name))
      throw new SourceDataError(
        `${run.name}: the redo has a column ${name} the data dictionary does not (DDL without a DDL row?)`,
      );
  }
  out['_source'] = ERP_SOURCE;
  out['_extracted_at'] = lineage.extractedAt;
  out['_batch_id'] = lineage.batchId;
  out['_op'] = change.op;
  out['_scn'] = change.scn;
  out['_commit_ts'] = change.commitTimestamp;
  out['_xid'] = change.xid;
  out['_record_key'] = run.config.key.map((k) => redoKeyText(image[k])).join('|');
  out['_row_sha256'] = null;
  out['_unavailable'] = unavailable.length > 0 ? unavailable.join(',') : null;
  return out;
}

/** The names of a table's columns, as a set; recomputed only when the list changes (DDL). */
const namesOf = new WeakMap<readonly OracleColumn[], { length: number; names: Set<string> }>();
function columnNames(columns: readonly OracleColumn[]): Set<string> {
  const hit = namesOf.get(columns);
  if (hit && hit.length === columns.length) return hit.names;
  const names = new Set(columns.map((c) => c.name));
  namesOf.set(columns, { length: columns.length, names });
  return names;
}

const redoKeyText = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'string' ? v : ((v as { text?: string }).text ?? '');

/**
 * A redo dead letter of a table with personal data keeps its statement sealed (as unattributed: a garbled
 * statement cannot be taken apart reliably enough to find its subject); the rest stays readable.
 */
async function sealRedoLetter(
  deps: ErpIngestionDeps,
  entry: LogMinerReportEntry,
  letter: DeadLetter,
): Promise<DeadLetter> {
  if (typeof letter.payload !== 'string' || letter.payload === '' || !entry.owner || !entry.table)
    return letter;
  const table = { owner: entry.owner, name: entry.table };
  if (!personalDataOf(table, deps.tables)) return letter;
  return { ...letter, payload: await sealErpText(deps.sealer, qualifiedName(table), letter.payload) };
}

function redoDeadLetter(entry: LogMinerReportEntry, rows: readonly LogMinerRow[]): DeadLetter {
  // The report keeps an excerpt; the dead letter keeps the whole statement (continuations joined).
  const pieces = rows.filter(
    (r) => r.XID === entry.xid && r.SCN === entry.scn && r.OPERATION_CODE === entry.operationCode,
  );
  const sql =
    pieces.length > 0 && pieces.every((p) => p.SQL_REDO !== null)
      ? pieces.map((p) => p.SQL_REDO).join('')
      : entry.sql;
  return {
    code: `erp.redo_${entry.kind}`,
    reason:
      entry.kind === 'unparseable'
        ? `SQL_REDO not understood: ${entry.error?.message}`
        : entry.kind === 'missing_scn'
          ? 'LogMiner reported a MISSING_SCN range: changes in it may be missing; re-snapshot the affected tables'
          : `LogMiner could not render the change (${entry.info ?? entry.operation})`,
    payload: sql,
    context: {
      scn: entry.scn,
      xid: entry.xid,
      operation_code: entry.operationCode,
      owner: entry.owner,
      table: entry.table,
      row_id: entry.rowId,
      info: entry.info,
    },
  };
}

async function readWatermark(
  deps: ErpIngestionDeps,
  session: OracleSession,
  run: TableRun,
  ctx: {
    now: string;
    currentScn: Scn;
    lineage: { extractedAt: Date; batchId: string };
    checkpoint: ErpCheckpoint;
  },
  log: Logger,
): Promise<void> {
  const state = ctx.checkpoint.watermarks[run.name];
  const nowAt = parseOracleDateTime(ctx.now, deps.timeZone)!;
  const since = state
    ? formatOracleDateTime(
        parseOracleDateTime(state.since, deps.timeZone)!.getTime() - deps.watermarkLookbackS * 1000,
        deps.timeZone,
      )
    : '1900-01-01 00:00:00';
  const table = `${quoteIdentifier(run.config.owner)}.${quoteIdentifier(run.config.name)}`;
  const orderBy = ['"LAST_UPDATE_DATE"', ...run.config.key.map(quoteIdentifier)].join(', ');
  const sql = `SELECT ${tableSelectList(run.columns, false)} FROM ${table} WHERE "LAST_UPDATE_DATE" >= TO_DATE(:since, '${ORACLE_DATE_FORMAT}') AND "LAST_UPDATE_DATE" < TO_DATE(:upper, '${ORACLE_DATE_FORMAT}') ORDER BY ${orderBy}`;
  const seen = new Set(state?.seen ?? []);
  const nextSeen: string[] = [];
  const overlapStart = formatOracleDateTime(nowAt.getTime() - deps.watermarkLookbackS * 1000, deps.timeZone);
  let high = state?.since ?? since;
  for await (const batch of session.query(sql, { since, upper: ctx.now }, { fetchArraySize: 5000 })) {
    for (const row of batch) {
      const updated = row['LAST_UPDATE_DATE'] ?? '';
      const id = `${run.config.key.map((k) => row[k] ?? '').join('|')}@${updated}`;
      if (updated >= overlapStart) nextSeen.push(id);
      if (updated > high) high = updated;
      if (seen.has(id)) continue;
      seen.add(id);
      const bronze = fetchedRow(
        run,
        row,
        { ...ctx.lineage, op: state ? 'U' : 'R', scn: ctx.currentScn, sha256: null },
        deps.timeZone,
      );
      await run.writer.append(await protect(run, bronze));
      run.report.rows++;
      if (state) run.report.updates++;
      else run.report.snapshotRows++;
    }
  }
  ctx.checkpoint.watermarks[run.name] = {
    since: high,
    seen: nextSeen,
    columns: run.columns.map((c) => c.name),
  };
  log.info(
    { event: 'ingest.erp.watermark', table: run.name, since, upper: ctx.now, rows: run.report.rows },
    `${run.name}: ${run.report.rows} rows by LAST_UPDATE_DATE`,
  );
}

async function land(
  deps: ErpIngestionDeps,
  result: ReadResult,
  lineage: { extractedAt: Date; batchId: string },
  log: Logger,
): Promise<ErpIngestionReport> {
  for (const run of result.runs.values()) {
    const state = result.checkpoint.tables[run.name];
    if (state) state.columns = run.columns.map((c) => c.name);
    if (run.writer.rowCount === 0) {
      run.writer.close();
      continue;
    }
    const bytes = await run.writer.finish();
    const put = await putNew(
      deps.lake,
      (micros) => bronzePaths.oracleErp(bronzeTableName(run.config), lineage.extractedAt, micros),
      bytes,
      {
        contentType: 'application/vnd.apache.parquet',
        metadata: {
          rows: String(run.report.rows),
          batch_id: lineage.batchId,
          source: ERP_SOURCE,
          table: run.name,
          hash_columns: hashColumnsText(run.columns),
          ...(result.window ? { from_scn: result.window.fromScn, to_scn: result.window.toScn } : {}),
        },
      },
    );
    run.report.file = put.path;
    log.info(
      { event: 'ingest.erp.file.landed', table: run.name, rows: run.report.rows, file: put.path },
      `${run.name}: ${run.report.rows} rows landed in ${put.path}`,
    );
  }
  const letters = await writeDeadLetters(deps, ERP_SOURCE, lineage.batchId, result.deadLetters);
  if (letters)
    log.error(
      { event: 'deadletter.written', source: ERP_SOURCE, count: letters.count, file: letters.path },
      `${letters.count} redo rows could not be landed; dead-lettered`,
    );
  await deps.beforeCheckpoint?.();
  // Every file of the window is durable: only now may the SCN move on.
  await deps.checkpoints.save<ErpCheckpoint>(ERP_SOURCE, 'cdc', result.checkpoint, result.etag);
  const tables = [...result.runs.values()].map((r) => r.report);
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  for (const t of tables.filter((x) => x.unattributed))
    log.warn(
      { event: 'ingest.erp.unattributed', table: t.table, rows: t.unattributed },
      `${t.table}: ${t.unattributed} rows with personal data but no subject key, sealed as erp-unattributed:${t.table}`,
    );
  await deps.status?.record({
    source: ERP_SOURCE,
    at: deps.clock.now(),
    ok: true,
    rows,
    deadLettered: result.deadLetters.length,
    latestEventAt: deps.clock.now(),
  });
  const window = result.window;
  const summary =
    `${ERP_SOURCE}: ${result.snapshot ? 'snapshot + ' : ''}${window ? `SCN (${window.fromScn}, ${window.toScn}]` : 'no new SCNs'}, ` +
    `${rows} rows in ${tables.filter((t) => t.rows > 0).length} tables` +
    (result.ddl.length > 0 ? `, ${result.ddl.length} DDL` : '') +
    (result.deadLetters.length > 0 ? `, ${result.deadLetters.length} dead-lettered` : '') +
    (result.fullLoadPending.length > 0
      ? `, waiting for the full load of ${result.fullLoadPending.join(', ')}`
      : '');
  log.info(
    {
      event: 'ingest.erp.batch.landed',
      batchId: lineage.batchId,
      rows,
      ...(window ?? {}),
      deadLettered: result.deadLetters.length,
    },
    summary,
  );
  return {
    source: ERP_SOURCE,
    ok: true,
    window,
    snapshot: result.snapshot,
    tables,
    ddl: result.ddl,
    deadLettered: result.deadLetters.length,
    ...(letters ? { deadLetterFile: letters.path } : {}),
    ...(result.fullLoadPending.length > 0 ? { fullLoadPending: result.fullLoadPending } : {}),
    summary,
  };
}

async function failure(
  deps: ErpIngestionDeps,
  error: AuroraError,
  batchId: string,
  log: Logger,
): Promise<ErpIngestionReport> {
  const last = error instanceof RetriesExhaustedError ? error.lastError : error;
  const attempts = error instanceof RetriesExhaustedError ? error.attempts : 1;
  const stored = await deps.checkpoints.load<ErpCheckpoint>(ERP_SOURCE, 'cdc').catch(() => undefined);
  const letters = await writeDeadLetters(deps, ERP_SOURCE, batchId, [
    {
      code: last.kind === 'config' ? 'erp.misconfigured' : 'erp.unavailable',
      reason: error.message,
      payload: null,
      context: {
        attempts,
        error_code: last.code,
        ora_code: last.details['oraCode'] ?? null,
        // The window to mine again: the checkpoint did not move.
        from_scn: stored?.value.fromScn ?? null,
        low_watermark_scn: stored?.value.lowWatermarkScn ?? null,
      },
    },
  ]);
  log.error(
    {
      event: 'deadletter.written',
      source: ERP_SOURCE,
      count: 1,
      code: last.code,
      oraCode: last.details['oraCode'],
      attempts,
      err: error.message,
    },
    `oracle-erp failed after ${attempts} attempts; dead-lettered, the SCN window stays open for the next run`,
  );
  await deps.status?.record({
    source: ERP_SOURCE,
    at: deps.clock.now(),
    ok: false,
    rows: 0,
    deadLettered: 1,
    error: error.message,
  });
  return {
    source: ERP_SOURCE,
    ok: false,
    window: null,
    snapshot: false,
    tables: [],
    ddl: [],
    deadLettered: 1,
    ...(letters ? { deadLetterFile: letters.path } : {}),
    error: { code: last.code, message: error.message },
    summary: `${ERP_SOURCE}: FAILED (${String(last.details['oraCode'] ?? last.code)}) ${error.message}`,
  };
}

function scnOf(value: string | null | undefined, what: string): Scn {
  if (!value || !isScn(value)) throw new SourceDataError(`${what} is not an SCN: ${String(value)}`);
  return value;
}
