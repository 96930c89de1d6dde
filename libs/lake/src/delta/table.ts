import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, systemClock, UsageError } from '@aurora/core';
import type { Json } from '@duckdb/node-api';
import { type Lake, LakeConflictError } from '../lake.js';
import type { ParquetCodec, ParquetSchema, Row } from '../parquet.js';
import { writeCheckpoint } from './checkpoint.js';
import { DeltaConcurrentCommitError, DeltaUnsupportedError } from './errors.js';
import {
  type DeltaFile,
  type DeltaHistoryEntry,
  type DeltaSnapshot,
  loadSnapshot,
  normalizeLocation,
  readHistory,
  type SnapshotSelector,
} from './log.js';
import {
  commitFileName,
  type DeltaAction,
  type DeltaAddAction,
  type DeltaCommitInfo,
  type DeltaRemoveAction,
  type DeltaStructType,
  duckTypeOf,
  encodeAddPath,
  escapePartitionValue,
  LOG_FOLDER,
  serializePartitionValue,
  toDeltaSchema,
  toParquetSchema,
  WRITTEN_PROTOCOL,
} from './protocol.js';
import { downloadFiles, fileSelectSql, type ReadRowsOptions, readSnapshotRows } from './read.js';
import { mapBounded, quoteIdent, quoteLiteral } from './sql.js';

export interface DeltaTableDeps {
  lake: Lake;
  codec: ParquetCodec;
  /** Commit timestamps and file times come from here, so tests can time-travel deterministically. */
  clock?: Clock;
  signal?: AbortSignal;
}

export interface DeltaTableOptions {
  /** A checkpoint every this many commits (the table's `delta.checkpointInterval` if set, else 10). */
  checkpointInterval?: number;
  /** Rows per data file before a write starts another file. */
  maxRowsPerFile?: number;
  /** Attempts of one operation against concurrent committers (1 = fail on the first conflict). */
  maxAttempts?: number;
}

export interface CreateDeltaTableOptions {
  /** The columns, as Aurora's writer types them, or a Delta schema as an engine wrote it (DuckDB's COPY). */
  schema: ParquetSchema | DeltaStructType;
  partitionColumns?: readonly string[];
  name?: string;
  description?: string;
  configuration?: Record<string, string>;
}

/** The actions of one commit and what commitInfo says about them. */
export interface DeltaCommitPlan {
  actions: DeltaAction[];
  operation: string;
  operationParameters?: Record<string, unknown>;
  isBlindAppend?: boolean;
}

export interface DeltaCommitResult {
  /** The version committed, or the snapshot's when there was nothing to commit. */
  version: number;
  committed: boolean;
  attempts: number;
  addedFiles: number;
  removedFiles: number;
  /** Set when this commit triggered a checkpoint that was written. */
  checkpoint?: { version: number; size: number };
  /** Set when the checkpoint failed: the commit itself stands, the next interval writes one again. */
  checkpointError?: unknown;
}

export type RowSource = Iterable<Row> | AsyncIterable<Row>;

const DEFAULT_MAX_ROWS_PER_FILE = 500_000;
const DEFAULT_MAX_ATTEMPTS = 10;
const ENGINE = 'aurora-delta/1';

/**
 * A Delta Lake table in the lake (PROTOCOL.md, reader 1 / writer 2): commits are `_delta_log/{v}.json`
 * files created with the lake's never-overwrite put, so of two writers racing for version N exactly one
 * wins; the other gets DeltaConcurrentCommitError and, through `commit`, rebuilds its commit on the new
 * snapshot. Every operation that depends on the table's content (overwrite, delete, replace) re-reads it
 * on retry, which makes concurrent writers serializable.
 */
export class DeltaTable {
  readonly location: string;
  private readonly clock: Clock;

  constructor(
    private readonly deps: DeltaTableDeps,
    location: string,
    private readonly options: DeltaTableOptions = {},
  ) {
    this.location = normalizeLocation(location);
    this.clock = deps.clock ?? systemClock;
  }

  /**
   * Creates the table: version 0 holds protocol and metaData. Throws DeltaConcurrentCommitError (version 0)
   * when a table already exists at the location.
   */
  static async create(
    deps: DeltaTableDeps,
    location: string,
    spec: CreateDeltaTableOptions,
    options: DeltaTableOptions = {},
  ): Promise<DeltaTable> {
    const table = new DeltaTable(deps, location, options);
    const deltaSchema = 'fields' in spec.schema ? spec.schema : toDeltaSchema(spec.schema);
    const names = deltaSchema.fields.map((c) => c.name);
    if (new Set(names).size !== names.length) throw new UsageError(`duplicate column names in ${names}`);
    const partitionColumns = [...(spec.partitionColumns ?? [])];
    const unknown = partitionColumns.filter((p) => !names.includes(p));
    if (unknown.length) throw new UsageError(`partition columns not in the schema: ${unknown.join(', ')}`);
    const now = table.clock.now().getTime();
    const actions: DeltaAction[] = [
      {
        commitInfo: {
          timestamp: now,
          operation: 'CREATE TABLE',
          operationParameters: {
            isManaged: 'false',
            partitionBy: JSON.stringify(partitionColumns),
            properties: JSON.stringify(spec.configuration ?? {}),
          },
          isBlindAppend: true,
          engineInfo: ENGINE,
        },
      },
      { protocol: WRITTEN_PROTOCOL },
      {
        metaData: {
          id: randomUUID(),
          ...(spec.name === undefined ? {} : { name: spec.name }),
          ...(spec.description === undefined ? {} : { description: spec.description }),
          format: { provider: 'parquet', options: {} },
          schemaString: JSON.stringify(deltaSchema),
          partitionColumns,
          configuration: spec.configuration ?? {},
          createdTime: now,
        },
      },
    ];
    await table.putCommit(0, actions);
    return table;
  }

  /** The snapshot at the latest version, at `version`, or at the latest commit at or before `timestamp`. */
  snapshot(at: SnapshotSelector = {}): Promise<DeltaSnapshot> {
    return loadSnapshot(this.deps, this.location, at);
  }

  /** The rows of a snapshot (latest by default) as JSON-safe objects, columns in schema order. */
  async read(
    at: SnapshotSelector | DeltaSnapshot = {},
    options: ReadRowsOptions = {},
  ): Promise<Record<string, Json>[]> {
    const snapshot = 'files' in at ? at : await this.snapshot(at);
    return readSnapshotRows(this.deps, snapshot, options);
  }

  /** Commits newest first: version, timestamp, operation. */
  history(): Promise<DeltaHistoryEntry[]> {
    return readHistory(this.deps, this.location);
  }

  /**
   * One commit attempt at `readSnapshot.version + 1`. Throws DeltaConcurrentCommitError when another writer
   * took that version; the caller decides whether its actions still hold on the newer snapshot.
   */
  async commitOnce(readSnapshot: DeltaSnapshot, plan: DeltaCommitPlan): Promise<DeltaCommitResult> {
    const version = readSnapshot.version + 1;
    // Commit timestamps must increase for time travel by timestamp to name one version.
    const timestamp = Math.max(this.clock.now().getTime(), readSnapshot.timestamp.getTime() + 1);
    const commitInfo: DeltaCommitInfo = {
      timestamp,
      operation: plan.operation,
      operationParameters: plan.operationParameters ?? {},
      readVersion: readSnapshot.version,
      isBlindAppend: plan.isBlindAppend ?? false,
      engineInfo: ENGINE,
    };
    await this.putCommit(version, [{ commitInfo }, ...plan.actions]);
    const result: DeltaCommitResult = {
      version,
      committed: true,
      attempts: 1,
      addedFiles: plan.actions.filter((a) => 'add' in a).length,
      removedFiles: plan.actions.filter((a) => 'remove' in a).length,
    };
    if (version > 0 && version % this.checkpointInterval(readSnapshot) === 0) {
      try {
        result.checkpoint = await this.checkpoint({ version });
      } catch (error) {
        result.checkpointError = error;
      }
    }
    return result;
  }

  /**
   * Commits what `build` makes of the latest snapshot, rebuilding it on the newer snapshot after each lost
   * race, at most `maxAttempts` times. `build` returning undefined means there is nothing to commit.
   */
  async commit(
    build: (snapshot: DeltaSnapshot) => Promise<DeltaCommitPlan | undefined>,
    options: { maxAttempts?: number } = {},
  ): Promise<DeltaCommitResult> {
    const maxAttempts = options.maxAttempts ?? this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      const snapshot = await this.snapshot();
      const plan = await build(snapshot);
      if (!plan) {
        return {
          version: snapshot.version,
          committed: false,
          attempts: attempt,
          addedFiles: 0,
          removedFiles: 0,
        };
      }
      try {
        return { ...(await this.commitOnce(snapshot, plan)), attempts: attempt };
      } catch (error) {
        if (!(error instanceof DeltaConcurrentCommitError) || attempt >= maxAttempts) throw error;
      }
    }
  }

  /**
   * Appends rows as new data files (a blind append: it commits on whatever snapshot is latest). With `txn`,
   * an application's batch `version` is committed at most once: a replay of a committed batch is a no-op.
   */
  async append(
    rows: RowSource,
    options: { txn?: { appId: string; version: number }; maxAttempts?: number } = {},
  ): Promise<DeltaCommitResult> {
    const { txn } = options;
    const applied = (s: DeltaSnapshot) =>
      txn !== undefined && (s.appTransactions.get(txn.appId) ?? -1) >= txn.version;
    const first = await this.snapshot();
    if (applied(first)) {
      return { version: first.version, committed: false, attempts: 1, addedFiles: 0, removedFiles: 0 };
    }
    const adds = await this.writeDataFiles(first, rows);
    return this.commit(
      async (snapshot) =>
        applied(snapshot)
          ? undefined
          : {
              actions: [
                ...(txn ? [{ txn: { ...txn, lastUpdated: this.clock.now().getTime() } }] : []),
                ...adds.map((add) => ({ add })),
              ],
              operation: 'WRITE',
              operationParameters: { mode: 'Append', partitionBy: JSON.stringify(snapshot.partitionColumns) },
              isBlindAppend: true,
            },
      options,
    );
  }

  /** Replaces the table's content with `rows`: removes every active file, adds the new ones. */
  async overwrite(rows: RowSource, options: { maxAttempts?: number } = {}): Promise<DeltaCommitResult> {
    const adds = await this.writeDataFiles(await this.snapshot(), rows);
    return this.commit(async (snapshot) => {
      const deletionTimestamp = this.clock.now().getTime();
      return {
        actions: [
          ...snapshot.files.map((f) => ({ remove: removeOf(f, deletionTimestamp) })),
          ...adds.map((add) => ({ add })),
        ],
        operation: 'WRITE',
        operationParameters: { mode: 'Overwrite', partitionBy: JSON.stringify(snapshot.partitionColumns) },
      };
    }, options);
  }

  /**
   * Replaces the table's content with Parquet files an engine already wrote (DuckDB's COPY, unpartitioned
   * tables): one commit that removes every active file and adds these. `schema` becomes the table's schema
   * when it differs (a model that gained a column). Files are tagged with their SHA-256, and when the
   * table already holds exactly these files' contents under the same schema nothing is committed, so a
   * pipeline re-run over unchanged input leaves the history alone.
   */
  async replaceWithFiles(
    files: readonly Buffer[],
    schema: DeltaStructType,
    options: { maxAttempts?: number } = {},
  ): Promise<DeltaCommitResult> {
    const hashes = files.map((bytes) => createHash('sha256').update(bytes).digest('hex'));
    const schemaString = JSON.stringify(schema);
    const unchanged = (snapshot: DeltaSnapshot) =>
      snapshot.partitionColumns.length === 0 &&
      JSON.stringify(snapshot.schema) === schemaString &&
      JSON.stringify(snapshot.files.map((f) => f.add.tags?.['sha256'] ?? '').sort()) ===
        JSON.stringify([...hashes].sort());
    const first = await this.snapshot();
    if (first.partitionColumns.length > 0) {
      throw new UsageError(`replaceWithFiles writes unpartitioned tables; ${this.location} is partitioned`);
    }
    if (unchanged(first)) {
      return { version: first.version, committed: false, attempts: 1, addedFiles: 0, removedFiles: 0 };
    }
    const withSchema = { ...first, schema };
    const adds: DeltaAddAction[] = [];
    for (const [i, bytes] of files.entries()) {
      const add = await this.uploadDataFile(withSchema, {}, bytes, i);
      adds.push({ ...add, tags: { sha256: hashes[i]! } });
    }
    return this.commit(async (snapshot) => {
      if (unchanged(snapshot)) return undefined;
      const deletionTimestamp = this.clock.now().getTime();
      const schemaChanged = JSON.stringify(snapshot.schema) !== schemaString;
      return {
        actions: [
          ...(schemaChanged ? [{ metaData: { ...snapshot.metadata, schemaString } }] : []),
          ...snapshot.files.map((f) => ({ remove: removeOf(f, deletionTimestamp) })),
          ...adds.map((add) => ({ add })),
        ],
        operation: 'WRITE',
        operationParameters: { mode: 'Overwrite', partitionBy: '[]' },
      };
    }, options);
  }

  /**
   * Deletes the rows matching a DuckDB SQL condition over the table's columns: files without a match stay,
   * files with matches are removed and, if rows remain, rewritten without them.
   */
  async deleteWhere(predicate: string, options: { maxAttempts?: number } = {}): Promise<DeltaCommitResult> {
    return this.commit(async (snapshot) => {
      const { removes, adds } = await this.rewriteMatching(snapshot, `(${predicate})`);
      return {
        actions: [...removes.map((remove) => ({ remove })), ...adds.map((add) => ({ add }))],
        operation: 'DELETE',
        operationParameters: { predicate: JSON.stringify([predicate]) },
      };
    }, options);
  }

  /**
   * Upserts a batch by key, silver's merge: the files holding any of the batch's keys are rewritten
   * without those rows, and the batch is added, in one commit. The batch must not repeat a key.
   */
  async replaceByKey(
    keyColumns: readonly string[],
    rows: RowSource,
    options: { maxAttempts?: number } = {},
  ): Promise<DeltaCommitResult> {
    const first = await this.snapshot();
    const schema = this.writeSchema(first);
    const keySchema = keyColumns.map((k) => {
      const column = schema.find((c) => c.name === k);
      if (!column) throw new UsageError(`key column ${k} is not in the table ${this.location}`);
      return column;
    });
    const batch: Row[] = [];
    for await (const row of rows) batch.push(row);
    const dir = await mkdtemp(join(tmpdir(), 'aurora-delta-keys-'));
    try {
      const keysFile = join(dir, 'keys.parquet');
      await writeFile(keysFile, (await this.deps.codec.encode(keySchema, batch)).bytes);
      const adds = await this.writeDataFiles(first, batch);
      const matchesKey =
        `EXISTS (SELECT 1 FROM read_parquet(${quoteLiteral(keysFile)}) AS k WHERE ` +
        keyColumns.map((k) => `k.${quoteIdent(k)} IS NOT DISTINCT FROM src.${quoteIdent(k)}`).join(' AND ') +
        ')';
      return await this.commit(async (snapshot) => {
        const rewritten = await this.rewriteMatching(snapshot, matchesKey);
        return {
          actions: [
            ...rewritten.removes.map((remove) => ({ remove })),
            ...rewritten.adds.map((add) => ({ add })),
            ...adds.map((add) => ({ add })),
          ],
          operation: 'MERGE',
          operationParameters: {
            keys: JSON.stringify(keyColumns),
            matchedPredicates: '[{"actionType":"update"}]',
          },
        };
      }, options);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Writes a checkpoint of a snapshot (latest by default) and `_last_checkpoint`. */
  async checkpoint(at: SnapshotSelector = {}): Promise<{ version: number; size: number }> {
    return writeCheckpoint(this.deps, await this.snapshot(at), this.clock.now());
  }

  private checkpointInterval(snapshot: DeltaSnapshot): number {
    const configured = Number(snapshot.metadata.configuration?.['delta.checkpointInterval']);
    const interval = this.options.checkpointInterval ?? (configured > 0 ? configured : 10);
    return Math.max(1, Math.trunc(interval));
  }

  private writeSchema(snapshot: DeltaSnapshot): ParquetSchema {
    const schema = toParquetSchema(snapshot.schema);
    if (typeof schema === 'string') throw new DeltaUnsupportedError(this.location, `cannot write: ${schema}`);
    return schema;
  }

  private async putCommit(version: number, actions: DeltaAction[]): Promise<void> {
    const path = `${this.location}${LOG_FOLDER}${commitFileName(version)}`;
    const body = Buffer.from(actions.map((a) => JSON.stringify(a)).join('\n'));
    try {
      await this.deps.lake.put(path, body, { contentType: 'application/json', signal: this.deps.signal });
    } catch (error) {
      if (error instanceof LakeConflictError) {
        throw new DeltaConcurrentCommitError(this.location, version, { cause: error });
      }
      throw error;
    }
  }

  /** Rows as zstd Parquet files, one or more per partition, uploaded; returns their add actions. */
  private async writeDataFiles(snapshot: DeltaSnapshot, rows: RowSource): Promise<DeltaAddAction[]> {
    const schema = this.writeSchema(snapshot);
    const partitions = snapshot.partitionColumns;
    const dataSchema = schema.filter((c) => !partitions.includes(c.name));
    const maxRows = this.options.maxRowsPerFile ?? DEFAULT_MAX_ROWS_PER_FILE;
    const groups = new Map<string, { values: Record<string, string | null>; rows: Row[] }>();
    const adds: DeltaAddAction[] = [];
    const flush = async (group: { values: Record<string, string | null>; rows: Row[] }) => {
      const encoded = await this.deps.codec.encode(dataSchema, group.rows);
      group.rows = [];
      adds.push(await this.uploadDataFile(snapshot, group.values, encoded.bytes, adds.length));
    };
    for await (const row of rows) {
      const values = Object.fromEntries(partitions.map((p) => [p, serializePartitionValue(row[p])]));
      const key = JSON.stringify(partitions.map((p) => values[p]));
      let group = groups.get(key);
      if (!group) {
        group = { values, rows: [] };
        groups.set(key, group);
      }
      group.rows.push(row);
      if (group.rows.length >= maxRows) await flush(group);
    }
    for (const group of groups.values()) if (group.rows.length > 0) await flush(group);
    return adds;
  }

  /** Uploads one data file under its partition folder; stats come from the file itself. */
  private async uploadDataFile(
    snapshot: DeltaSnapshot,
    partitionValues: Record<string, string | null>,
    bytes: Buffer,
    index: number,
  ): Promise<DeltaAddAction> {
    const folder = snapshot.partitionColumns
      .map((p) => `${p}=${escapePartitionValue(partitionValues[p] ?? null)}/`)
      .join('');
    const relative = `${folder}part-${String(index).padStart(5, '0')}-${randomUUID()}-c000.zstd.parquet`;
    const stats = await this.fileStats(snapshot, bytes);
    const info = await this.deps.lake.put(`${this.location}${relative}`, bytes, { signal: this.deps.signal });
    return {
      path: encodeAddPath(relative),
      partitionValues,
      size: bytes.byteLength,
      modificationTime: info.lastModified.getTime(),
      dataChange: true,
      stats: JSON.stringify(stats),
    };
  }

  /** numRecords, minValues, maxValues, nullCount of the data columns, as Delta's data skipping reads them. */
  private async fileStats(snapshot: DeltaSnapshot, bytes: Buffer): Promise<Record<string, unknown>> {
    const dir = await mkdtemp(join(tmpdir(), 'aurora-delta-stats-'));
    try {
      const file = join(dir, 'f.parquet');
      await writeFile(file, bytes);
      const fields = snapshot.schema.fields.filter((f) => !snapshot.partitionColumns.includes(f.name));
      const ordered = fields.filter((f) => {
        const t = duckTypeOf(f.type);
        return t !== undefined && t !== 'BOOLEAN' && t !== 'BLOB';
      });
      const select = [
        'count(*) AS "n"',
        ...fields.map((f, i) => `count(*) - count(${quoteIdent(f.name)}) AS "null_${i}"`),
        ...ordered.map(
          (f, i) => `min(${quoteIdent(f.name)}) AS "min_${i}", max(${quoteIdent(f.name)}) AS "max_${i}"`,
        ),
      ].join(', ');
      const [row] = await this.deps.codec.query(`SELECT ${select} FROM read_parquet(${quoteLiteral(file)})`);
      const r = row ?? {};
      return {
        numRecords: r['n'] ?? 0,
        minValues: Object.fromEntries(
          ordered.map((f, i) => [f.name, r[`min_${i}`] ?? null]).filter(([, v]) => v !== null),
        ),
        maxValues: Object.fromEntries(
          ordered.map((f, i) => [f.name, r[`max_${i}`] ?? null]).filter(([, v]) => v !== null),
        ),
        nullCount: Object.fromEntries(fields.map((f, i) => [f.name, r[`null_${i}`] ?? 0])),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * For every active file with rows matching `predicate` (SQL over the row, aliased `src`): a remove, and
   * when rows remain, an add of the file rewritten without them, in the same partition.
   */
  private async rewriteMatching(
    snapshot: DeltaSnapshot,
    predicate: string,
  ): Promise<{ removes: DeltaRemoveAction[]; adds: DeltaAddAction[] }> {
    const dataColumns = snapshot.schema.fields
      .filter((f) => !snapshot.partitionColumns.includes(f.name))
      .map((f) => quoteIdent(f.name))
      .join(', ');
    const deletionTimestamp = this.clock.now().getTime();
    const outcomes = await mapBounded(snapshot.files, 4, (file, index) =>
      downloadFiles(this.deps, snapshot, [file], 1, async ([local], dir) => {
        const source = `(${fileSelectSql(snapshot, file, local!)}) AS src`;
        const [counts] = await this.deps.codec.query(
          `SELECT count(*) AS n, count(*) FILTER (WHERE ${predicate}) AS hit FROM ${source}`,
        );
        const total = Number(counts?.['n'] ?? 0);
        const hit = Number(counts?.['hit'] ?? 0);
        if (hit === 0) return undefined;
        const remove = removeOf(file, deletionTimestamp);
        if (hit === total) return { remove };
        const out = join(dir, 'rewritten.parquet');
        await this.deps.codec.query(
          `COPY (SELECT ${dataColumns} FROM ${source} WHERE (${predicate}) IS NOT TRUE)
           TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        const add = await this.uploadDataFile(snapshot, file.add.partitionValues, await readFile(out), index);
        return { remove, add };
      }),
    );
    return {
      removes: outcomes.flatMap((o) => (o ? [o.remove] : [])),
      adds: outcomes.flatMap((o) => (o?.add ? [o.add] : [])),
    };
  }
}

function removeOf(file: DeltaFile, deletionTimestamp: number): DeltaRemoveAction {
  return {
    path: file.add.path,
    deletionTimestamp,
    dataChange: true,
    extendedFileMetadata: true,
    partitionValues: file.add.partitionValues,
    size: file.add.size,
  };
}
