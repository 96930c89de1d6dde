import { type Logger, toAuroraError, UsageError } from '@aurora/core';
import {
  bronzePaths,
  type CheckpointStore,
  type Lake,
  type LakeObjectInfo,
  type ParquetCodec,
} from '@aurora/lake';
import { isSealedValue, type Opener } from '../personal-data.js';
import { canonicalRowFromBronze, type HashKind, parseHashColumns, sha256Hex } from './bronze-rows.js';
import { bronzeTableName, type ErpTableConfig, qualifiedName } from './erp-tables.js';
import { chunkRange, type FullLoadState, fullLoadKey } from './full-load-state.js';
import { ERP_SOURCE, readChunk } from './run-erp-ingestion.js';
import { OracleServerError, type OracleSession, type OracleSessionFactory } from './session.js';
import { NLS_STATEMENTS } from './statements.js';

export interface VerifyLoadDeps {
  lake: Lake;
  checkpoints: CheckpointStore;
  codec: ParquetCodec;
  log: Logger;
  /** The database, for the source side; without it only the landed rows are checked. */
  connect?: OracleSessionFactory;
  /** The database server's zone (the canonical text of DATE/TIMESTAMP values is its wall time). */
  timeZone: string;
  /**
   * Opens the sealed personal data of landed rows: the source hashed the plaintext. Needed as soon as a
   * landed row holds a sealed value (the platform passes its privacy key ring).
   */
  opener?: Opener;
  signal?: AbortSignal;
  onProgress?: (progress: { table: string; chunk: number; chunks: number; rows: number }) => void;
}

/**
 * A landed row whose personal data was crypto-shredded (the subject's key destroyed by an erasure, or the
 * subject erased before the row landed): its checksum cannot be recomputed, by design. Not a mismatch.
 */
export interface VerifyErasedRow {
  table: string;
  key: string;
  file: string;
}

/**
 * A row that does not check out. `lake`: the landed row no longer hashes to the `_row_sha256` it landed
 * with (changed after landing), or a row the source holds is missing from the lake, or landed twice.
 * `source`: the source row, as of the load's SCN, hashes differently from what was landed, or is gone.
 */
export interface VerifyMismatch {
  table: string;
  /** `_record_key`: the key column values joined by `|`. */
  key: string;
  side: 'lake' | 'source';
  problem: string;
  file?: string;
}

export interface VerifyTableReport {
  table: string;
  /** No full load of the table was found (nothing verified). */
  loaded: boolean;
  loadId?: string;
  scn?: string;
  completed?: boolean;
  chunksVerified: number;
  files: number;
  rows: number;
  /** Whether the landed rows were compared with a fresh checksum at the source. */
  sourceChecked: boolean;
  /** Why the source side was not (or not completely) checked. */
  sourceSkipped?: string;
  mismatches: number;
  /** Landed rows of erased subjects (the lake side cannot be recomputed; the source side still is). */
  erased: number;
}

export interface VerifyLoadReport {
  ok: boolean;
  tables: VerifyTableReport[];
  /** The first `maxMismatches` mismatches; `mismatchCount` counts them all. */
  mismatches: VerifyMismatch[];
  mismatchCount: number;
  /** The first `maxMismatches` rows of erased subjects; `erasedCount` counts them all. */
  erased: VerifyErasedRow[];
  erasedCount: number;
  summary: string;
}

/**
 * `aurora erp verify-load`: for each table's full load (its checkpoint names the load, the SCN and the
 * key ranges), recomputes the SHA-256 of every landed bronze row from its columns (the canonical text
 * the source hashed, rebuilt from the landed values) and compares it with `_row_sha256`; where the
 * source is reachable, reads the same key range AS OF the load's SCN with a fresh source-side checksum
 * (STANDARD_HASH, or Node on 11.2) and compares row by row, both ways. Chunk by chunk, so memory stays
 * bounded by one chunk. Personal data landed sealed while the source hashed its plaintext, so sealed
 * values are opened before hashing; a row of an erased subject is reported as erased, not as a mismatch.
 */
export async function verifyFullLoad(
  deps: VerifyLoadDeps,
  options: { tables: readonly ErpTableConfig[]; maxMismatches?: number },
): Promise<VerifyLoadReport> {
  const max = options.maxMismatches ?? 1000;
  const mismatches: VerifyMismatch[] = [];
  let mismatchCount = 0;
  const erased: VerifyErasedRow[] = [];
  let erasedCount = 0;
  const tables: VerifyTableReport[] = [];
  let session: OracleSession | undefined;
  let sessionError: string | undefined;
  const source = async (): Promise<OracleSession | undefined> => {
    if (session || sessionError || !deps.connect) return session;
    try {
      const opened = await deps.connect(deps.signal ? { signal: deps.signal } : {});
      for (const statement of NLS_STATEMENTS) await opened.execute(statement);
      session = opened;
    } catch (error) {
      sessionError = `the source is not reachable: ${toAuroraError(error).message}`;
      deps.log.warn({ event: 'erp.verify_load.no_source', err: sessionError }, sessionError);
    }
    return session;
  };
  try {
    for (const config of options.tables) {
      const report = await verifyTable(
        deps,
        config,
        source,
        () => sessionError,
        (m) => {
          mismatchCount++;
          if (mismatches.length < max) mismatches.push(m);
        },
        (row) => {
          erasedCount++;
          if (erased.length < max) erased.push(row);
        },
      );
      tables.push(report);
    }
  } finally {
    await session?.close().catch(() => undefined);
  }
  const verified = tables.filter((t) => t.loaded);
  const ok = mismatchCount === 0 && verified.length > 0;
  const summary =
    verified.length === 0
      ? 'verify-load: no full load found to verify'
      : `verify-load: ${verified.length} tables, ${verified.reduce((n, t) => n + t.rows, 0).toLocaleString('en')} landed rows checked, ` +
        `${mismatchCount} mismatches` +
        (erasedCount > 0 ? `, ${erasedCount.toLocaleString('en')} rows of erased subjects` : '') +
        `; source side ${verified.every((t) => t.sourceChecked) ? 'checked' : `not checked for ${verified.filter((t) => !t.sourceChecked).length} tables`}`;
  return { ok, tables, mismatches, mismatchCount, erased, erasedCount, summary };
}

async function verifyTable(
  deps: VerifyLoadDeps,
  config: ErpTableConfig,
  source: () => Promise<OracleSession | undefined>,
  sourceError: () => string | undefined,
  report: (m: VerifyMismatch) => void,
  reportErased: (row: VerifyErasedRow) => void,
): Promise<VerifyTableReport> {
  const name = qualifiedName(config);
  const stored = await deps.checkpoints.load<FullLoadState>(ERP_SOURCE, fullLoadKey(name));
  const out: VerifyTableReport = {
    table: name,
    loaded: stored !== undefined,
    chunksVerified: 0,
    files: 0,
    rows: 0,
    sourceChecked: false,
    mismatches: 0,
    erased: 0,
  };
  if (!stored) return out;
  const state = stored.value;
  Object.assign(out, { loadId: state.loadId, scn: state.firstScn, completed: state.completedAt !== null });
  const mismatch = (m: Omit<VerifyMismatch, 'table'>) => {
    out.mismatches++;
    report({ table: name, ...m });
  };
  const files = await loadFiles(deps.lake, bronzeTableName(config), state);
  let session = await source();
  out.sourceChecked = session !== undefined;
  if (!session) out.sourceSkipped = sourceError() ?? 'no source configured';
  for (let index = 0; index < state.next; index++) {
    deps.signal?.throwIfAborted();
    const chunkFiles = files.get(index) ?? [];
    if (chunkFiles.length > 1)
      for (const f of chunkFiles.slice(1))
        mismatch({ key: '', side: 'lake', problem: `chunk ${index + 1} landed twice`, file: f.path });
    const file = chunkFiles[0];
    // key -> [landed checksum, file]
    const landed = new Map<string, { sha256: string; file: string }>();
    if (file) {
      out.files++;
      const columns = parseHashColumns(file.metadata['hash_columns'] ?? '');
      for (const row of await deps.codec.decode(await deps.lake.get(file.path))) {
        const key = String(row['_record_key'] ?? '');
        const claimed = String(row['_row_sha256'] ?? '');
        out.rows++;
        if (landed.has(key)) mismatch({ key, side: 'lake', problem: 'landed twice', file: file.path });
        landed.set(key, { sha256: claimed, file: file.path });
        const plain = await openSealed(deps.opener, columns, row);
        if (plain.state === 'erased') {
          out.erased++;
          reportErased({ table: name, key, file: file.path });
          continue;
        }
        if (plain.state === 'unopenable') {
          mismatch({ key, side: 'lake', problem: plain.problem, file: file.path });
          continue;
        }
        const actual = sha256Hex(canonicalRowFromBronze(columns, plain.row, deps.timeZone));
        if (actual !== claimed)
          mismatch({
            key,
            side: 'lake',
            problem: `the landed row no longer matches its _row_sha256 (${claimed.slice(0, 12)}… landed, ${actual.slice(0, 12)}… now)`,
            file: file.path,
          });
      }
    }
    if (session) {
      const scn = file?.metadata['scn'] ?? state.scn;
      try {
        for await (const batch of readChunk(session, config, state.columns, {
          ...chunkRange(state.plan, index),
          scn,
          serverHash: state.serverHash,
          ...(deps.signal ? { signal: deps.signal } : {}),
        })) {
          for (const { row, sha256 } of batch) {
            const key = config.key.map((k) => row[k] ?? '').join('|');
            const was = landed.get(key);
            if (!was)
              mismatch({
                key,
                side: 'lake',
                problem: `missing from the lake (the source has it as of SCN ${scn})`,
              });
            else if (was.sha256 !== sha256)
              mismatch({
                key,
                side: 'source',
                problem: `the source row as of SCN ${scn} differs from the landed one (${sha256.slice(0, 12)}… at the source, ${was.sha256.slice(0, 12)}… landed)`,
                file: was.file,
              });
            landed.delete(key);
          }
        }
        for (const [key, was] of landed)
          mismatch({ key, side: 'source', problem: `not at the source as of SCN ${scn}`, file: was.file });
      } catch (error) {
        const e = toAuroraError(error);
        out.sourceChecked = false;
        out.sourceSkipped =
          error instanceof OracleServerError &&
          (error.oraCode === 'ORA-01555' || error.oraCode === 'ORA-08180')
            ? `the undo for SCN ${scn} is gone (${error.oraCode}): the source can no longer be read as the load read it`
            : `reading the source failed: ${e.message}`;
        deps.log.warn(
          { event: 'erp.verify_load.source_skipped', table: name, err: out.sourceSkipped },
          out.sourceSkipped,
        );
        session = undefined;
      }
    }
    out.chunksVerified++;
    deps.onProgress?.({ table: name, chunk: index + 1, chunks: state.next, rows: out.rows });
  }
  return out;
}

/**
 * A landed row as the source had it: its sealed values opened. Erased when a hashed column holds a value of
 * an erased subject, or was erased before the row landed (null, and named in `_unavailable`).
 */
async function openSealed(
  opener: Opener | undefined,
  columns: readonly { name: string; kind: HashKind }[],
  row: Record<string, unknown>,
): Promise<
  | { state: 'open'; row: Record<string, unknown> }
  | { state: 'erased' }
  | { state: 'unopenable'; problem: string }
> {
  const unavailable = typeof row['_unavailable'] === 'string' ? row['_unavailable'].split(',') : [];
  if (columns.some((c) => unavailable.includes(c.name))) return { state: 'erased' };
  let out = row;
  for (const { name } of columns) {
    const value = row[name];
    if (!isSealedValue(value)) continue;
    if (!opener)
      throw new UsageError(
        'the load holds sealed personal data: verify-load needs the privacy key ring to open it',
      );
    let opened: Awaited<ReturnType<Opener['open']>>;
    try {
      opened = await opener.open(value);
    } catch (error) {
      return { state: 'unopenable', problem: `${name}: ${toAuroraError(error).message}` };
    }
    if (opened.state !== 'open')
      return opened.state === 'erased'
        ? { state: 'erased' }
        : {
            state: 'unopenable',
            problem: `${name} is sealed with a key the key ring does not hold (another AURORA_HOME or key table?)`,
          };
    if (out === row) out = { ...row };
    out[name] = opened.value;
  }
  return { state: 'open', row: out };
}

/** The load's files by chunk, from the day partitions the load ran on (their metadata names the load). */
async function loadFiles(
  lake: Lake,
  bronzeName: string,
  state: FullLoadState,
): Promise<Map<number, LakeObjectInfo[]>> {
  const out = new Map<number, LakeObjectInfo[]>();
  const DAY = 86_400_000;
  const first = Math.floor(Date.parse(state.startedAt) / DAY) * DAY;
  const last = Date.parse(state.completedAt ?? state.updatedAt);
  for (let day = first; day <= last; day += DAY) {
    const prefix = bronzePaths.oracleErp(bronzeName, new Date(day)).replace(/[^/]+$/, '');
    for await (const f of lake.list(prefix)) {
      if (f.metadata['load_id'] !== state.loadId) continue;
      const chunk = Number(f.metadata['chunk']);
      out.set(chunk, [...(out.get(chunk) ?? []), f]);
    }
  }
  return out;
}
