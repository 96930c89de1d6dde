import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lake, LakeNotFoundError, type LakeObjectInfo } from '../lake.js';
import type { ParquetCodec } from '../parquet.js';
import {
  DeltaLogCorruptError,
  DeltaTableNotFoundError,
  DeltaUnsupportedError,
  DeltaVersionNotFoundError,
} from './errors.js';
import {
  type DeltaAction,
  type DeltaAddAction,
  type DeltaCommitInfo,
  type DeltaMetadataAction,
  type DeltaProtocolAction,
  type DeltaRemoveAction,
  type DeltaStructType,
  decodeAddPath,
  LOG_FOLDER,
  MAX_READER_VERSION,
  parseLogFileName,
} from './protocol.js';
import { mapBounded, quoteLiteral } from './sql.js';

/** What reading a table's log needs: the lake it lives in and a DuckDB for checkpoint Parquet. */
export interface DeltaLogDeps {
  lake: Lake;
  codec: ParquetCodec;
  signal?: AbortSignal;
}

/** Which snapshot to load: the latest, a version, or the latest commit at or before an instant. */
export interface SnapshotSelector {
  version?: number;
  timestamp?: Date;
}

/** An active data file of a snapshot. */
export interface DeltaFile {
  /** The lake path of the file (table location plus the decoded `add.path`). */
  lakePath: string;
  add: DeltaAddAction;
}

/** A table's state at one version: what a reader needs to read it and a writer needs to commit after it. */
export interface DeltaSnapshot {
  /** The table's lake prefix, ending in `/`. */
  location: string;
  version: number;
  /** When that version was committed (commitInfo.timestamp, else the commit file's modification time). */
  timestamp: Date;
  protocol: DeltaProtocolAction;
  metadata: DeltaMetadataAction;
  schema: DeltaStructType;
  partitionColumns: readonly string[];
  /** Active files (adds not removed since), in the order the log added them. */
  files: readonly DeltaFile[];
  /** Removed files still inside the retention window, for checkpoints and vacuum. */
  tombstones: readonly DeltaRemoveAction[];
  /** The latest `txn` version per application id, for idempotent writers. */
  appTransactions: ReadonlyMap<string, number>;
}

/** One commit of the table's history. */
export interface DeltaHistoryEntry {
  version: number;
  timestamp: Date;
  operation: string;
  operationParameters: Record<string, unknown>;
  readVersion?: number;
  isBlindAppend?: boolean;
}

interface LogListing {
  commits: Map<number, LakeObjectInfo>;
  /** Complete checkpoints only: a multi-part checkpoint missing a part is ignored, as the protocol says. */
  checkpoints: Map<number, LakeObjectInfo[]>;
}

/** `silver/orders` and `/silver/orders/` both become `silver/orders/`. */
export function normalizeLocation(location: string): string {
  const trimmed = location.replace(/^\/+/, '');
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

async function listLog(deps: DeltaLogDeps, location: string): Promise<LogListing> {
  const prefix = `${location}${LOG_FOLDER}`;
  const commits = new Map<number, LakeObjectInfo>();
  const parts = new Map<number, { expected: number; files: Map<number, LakeObjectInfo> }>();
  for await (const info of deps.lake.list(prefix, { signal: deps.signal })) {
    const parsed = parseLogFileName(info.path.slice(prefix.length));
    if (parsed?.kind === 'commit') commits.set(parsed.version, info);
    if (parsed?.kind === 'checkpoint') {
      const entry = parts.get(parsed.version) ?? { expected: parsed.parts, files: new Map() };
      if (entry.expected === parsed.parts) entry.files.set(parsed.part, info);
      parts.set(parsed.version, entry);
    }
  }
  const checkpoints = new Map<number, LakeObjectInfo[]>();
  for (const [version, entry] of parts) {
    if (entry.files.size !== entry.expected) continue;
    checkpoints.set(
      version,
      [...entry.files.entries()].sort(([a], [b]) => a - b).map(([, f]) => f),
    );
  }
  return { commits, checkpoints };
}

/** The actions of one commit file, in file order. */
export async function readCommit(
  deps: DeltaLogDeps,
  location: string,
  version: number,
  path = `${location}${LOG_FOLDER}${String(version).padStart(20, '0')}.json`,
): Promise<DeltaAction[]> {
  let text: string;
  try {
    text = (await deps.lake.get(path, { signal: deps.signal })).toString('utf8');
  } catch (error) {
    if (error instanceof LakeNotFoundError) {
      throw new DeltaLogCorruptError(location, `commit ${version} vanished while reading`, { cause: error });
    }
    throw error;
  }
  const actions: DeltaAction[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      actions.push(parsed as DeltaAction);
    } catch (error) {
      throw new DeltaLogCorruptError(location, `commit ${version} line ${i + 1} is not a JSON action`, {
        cause: error,
      });
    }
  }
  return actions;
}

/** Checkpoint actions read through DuckDB: each struct column rendered as JSON, maps as objects. */
async function readCheckpoint(
  deps: DeltaLogDeps,
  location: string,
  version: number,
  files: LakeObjectInfo[],
): Promise<DeltaAction[]> {
  const dir = await mkdtemp(join(tmpdir(), 'aurora-delta-cp-'));
  try {
    const local = await mapBounded(files, 4, async (file, i) => {
      const target = join(dir, `part-${i}.parquet`);
      await writeFile(target, await deps.lake.get(file.path, { signal: deps.signal }));
      return target;
    });
    const source = `read_parquet([${local.map(quoteLiteral).join(', ')}], union_by_name = true)`;
    const present = new Set(
      (await deps.codec.query(`DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r['column_name'])),
    );
    const kinds = ['protocol', 'metaData', 'txn', 'add', 'remove'].filter((k) => present.has(k));
    if (!kinds.includes('protocol') || !kinds.includes('metaData')) {
      throw new Error('checkpoint lacks protocol or metaData columns');
    }
    const rows = await deps.codec.query(
      `SELECT ${kinds.map((k) => `to_json("${k}")::VARCHAR AS "${k}"`).join(', ')} FROM ${source}`,
    );
    const actions: DeltaAction[] = [];
    for (const row of rows) {
      for (const kind of kinds) {
        const json = row[kind];
        if (typeof json === 'string') actions.push({ [kind]: JSON.parse(json) } as DeltaAction);
      }
    }
    return actions;
  } catch (error) {
    if (error instanceof LakeNotFoundError || (error as { code?: string }).code === 'lake.unavailable') {
      throw error;
    }
    throw new DeltaLogCorruptError(location, `checkpoint ${version} is unreadable`, { cause: error });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SUPPORTED_READER_FEATURES = new Set(['timestampNtz', 'vacuumProtocolCheck']);

/** Log replay: the state the actions of a checkpoint and the commits after it add up to. */
class Replay {
  protocol: DeltaProtocolAction | undefined;
  metadata: DeltaMetadataAction | undefined;
  readonly files = new Map<string, DeltaAddAction>();
  readonly tombstones = new Map<string, DeltaRemoveAction>();
  readonly txns = new Map<string, number>();

  constructor(private readonly location: string) {}

  apply(action: DeltaAction): void {
    if ('add' in action) {
      const key = decodeAddPath(action.add.path);
      if (action.add.deletionVector) {
        throw new DeltaUnsupportedError(this.location, `file ${key} has a deletion vector`);
      }
      this.tombstones.delete(key);
      // Re-adding a path replaces it (Spark does this when it recomputes stats).
      this.files.delete(key);
      this.files.set(key, action.add);
    } else if ('remove' in action) {
      const key = decodeAddPath(action.remove.path);
      this.files.delete(key);
      this.tombstones.set(key, action.remove);
    } else if ('protocol' in action) {
      this.protocol = action.protocol;
    } else if ('metaData' in action) {
      this.metadata = action.metaData;
    } else if ('txn' in action) {
      this.txns.set(action.txn.appId, action.txn.version);
    }
  }

  snapshot(version: number, timestamp: Date): DeltaSnapshot {
    const { protocol, metadata } = this;
    if (!protocol || !metadata) {
      throw new DeltaLogCorruptError(
        this.location,
        `no protocol or metaData action up to version ${version}`,
      );
    }
    const unsupported = (protocol.readerFeatures ?? []).filter((f) => !SUPPORTED_READER_FEATURES.has(f));
    if (
      (protocol.minReaderVersion > MAX_READER_VERSION && protocol.minReaderVersion !== 3) ||
      unsupported.length > 0
    ) {
      throw new DeltaUnsupportedError(
        this.location,
        `needs reader version ${protocol.minReaderVersion}${unsupported.length ? ` with ${unsupported.join(', ')}` : ''}`,
      );
    }
    let schema: DeltaStructType;
    try {
      schema = JSON.parse(metadata.schemaString) as DeltaStructType;
      if (schema.type !== 'struct' || !Array.isArray(schema.fields)) throw new Error('not a struct');
    } catch (error) {
      throw new DeltaLogCorruptError(this.location, 'metaData.schemaString is not a StructType', {
        cause: error,
      });
    }
    if (metadata.format.provider !== 'parquet') {
      throw new DeltaUnsupportedError(this.location, `data format ${metadata.format.provider}`);
    }
    return {
      location: this.location,
      version,
      timestamp,
      protocol,
      metadata,
      schema,
      partitionColumns: metadata.partitionColumns ?? [],
      files: [...this.files.entries()].map(([path, add]) => ({ lakePath: `${this.location}${path}`, add })),
      tombstones: [...this.tombstones.values()],
      appTransactions: new Map(this.txns),
    };
  }
}

const commitInfoOf = (actions: DeltaAction[]): DeltaCommitInfo | undefined =>
  actions.find((a): a is { commitInfo: DeltaCommitInfo } => 'commitInfo' in a)?.commitInfo;

/**
 * Commit timestamps by version. Like Spark, timestamps are made strictly increasing so that a timestamp
 * names at most one version even when clocks of successive writers disagree.
 */
async function commitTimestamps(
  deps: DeltaLogDeps,
  location: string,
  listing: LogListing,
): Promise<{ version: number; timestamp: number; actions: DeltaAction[] }[]> {
  const versions = [...listing.commits.keys()].sort((a, b) => a - b);
  const commits = await mapBounded(versions, 8, async (version) => {
    const info = listing.commits.get(version)!;
    const actions = await readCommit(deps, location, version, info.path);
    return { version, timestamp: commitInfoOf(actions)?.timestamp ?? info.lastModified.getTime(), actions };
  });
  for (let i = 1; i < commits.length; i++) {
    const previous = commits[i - 1]!;
    const current = commits[i]!;
    if (current.version === previous.version + 1 && current.timestamp <= previous.timestamp) {
      current.timestamp = previous.timestamp + 1;
    }
  }
  return commits;
}

/**
 * Loads a snapshot by replaying the log from the newest complete checkpoint at or before the version
 * wanted, plus the JSON commits after it. A gap in the commits, or a version older than what the remaining
 * log can rebuild, is an error rather than a silently different table.
 */
export async function loadSnapshot(
  deps: DeltaLogDeps,
  rawLocation: string,
  at: SnapshotSelector = {},
): Promise<DeltaSnapshot> {
  const location = normalizeLocation(rawLocation);
  const listing = await listLog(deps, location);
  if (listing.commits.size === 0 && listing.checkpoints.size === 0) {
    throw new DeltaTableNotFoundError(location);
  }
  const latest = Math.max(...listing.commits.keys(), ...listing.checkpoints.keys());
  let target = latest;
  let preRead: Map<number, { timestamp: number; actions: DeltaAction[] }> | undefined;
  if (at.version !== undefined) {
    if (!Number.isInteger(at.version) || at.version < 0 || at.version > latest) {
      throw new DeltaVersionNotFoundError(
        location,
        `version ${at.version} does not exist (latest ${latest})`,
      );
    }
    target = at.version;
  } else if (at.timestamp !== undefined) {
    const wanted = at.timestamp.getTime();
    const commits = await commitTimestamps(deps, location, listing);
    const match = commits.filter((c) => c.timestamp <= wanted).at(-1);
    if (!match) {
      throw new DeltaVersionNotFoundError(
        location,
        `no commit at or before ${at.timestamp.toISOString()} (earliest ${commits[0] ? new Date(commits[0].timestamp).toISOString() : 'none'})`,
      );
    }
    target = match.version;
    preRead = new Map(commits.map((c) => [c.version, c]));
  }

  const checkpointVersion = Math.max(-1, ...[...listing.checkpoints.keys()].filter((v) => v <= target));
  const replay = new Replay(location);
  if (checkpointVersion >= 0) {
    const parts = listing.checkpoints.get(checkpointVersion)!;
    for (const action of await readCheckpoint(deps, location, checkpointVersion, parts)) replay.apply(action);
  }
  const needed: number[] = [];
  for (let v = checkpointVersion + 1; v <= target; v++) {
    if (!listing.commits.has(v)) {
      throw checkpointVersion < 0 && v === 0
        ? new DeltaVersionNotFoundError(
            location,
            `version ${target} is older than the log kept (no checkpoint)`,
          )
        : new DeltaLogCorruptError(location, `commit ${v} is missing`);
    }
    needed.push(v);
  }
  const readTimed = async (v: number) => {
    const known = preRead?.get(v);
    if (known) return known;
    const info = listing.commits.get(v)!;
    const actions = await readCommit(deps, location, v, info.path);
    return { timestamp: commitInfoOf(actions)?.timestamp ?? info.lastModified.getTime(), actions };
  };
  const commits = await mapBounded(needed, 8, readTimed);
  for (const commit of commits) {
    for (const action of commit.actions) replay.apply(action);
  }
  // The snapshot's time is its own commit's; a checkpoint file's modification time says only when it was
  // written, which may be long after (a copied table), so it is the last resort.
  let timestamp = commits.at(-1)?.timestamp;
  if (timestamp === undefined && listing.commits.has(target)) timestamp = (await readTimed(target)).timestamp;
  timestamp ??= listing.checkpoints.get(target)?.[0]?.lastModified.getTime() ?? 0;
  return replay.snapshot(target, new Date(timestamp));
}

/** The table's commits, newest first, as far back as the log keeps them. */
export async function readHistory(deps: DeltaLogDeps, rawLocation: string): Promise<DeltaHistoryEntry[]> {
  const location = normalizeLocation(rawLocation);
  const listing = await listLog(deps, location);
  if (listing.commits.size === 0 && listing.checkpoints.size === 0) {
    throw new DeltaTableNotFoundError(location);
  }
  const commits = await commitTimestamps(deps, location, listing);
  return commits
    .map(({ version, timestamp, actions }) => {
      const info = commitInfoOf(actions);
      return {
        version,
        timestamp: new Date(timestamp),
        operation: info?.operation ?? 'UNKNOWN',
        operationParameters: info?.operationParameters ?? {},
        ...(info?.readVersion === undefined ? {} : { readVersion: info.readVersion }),
        ...(info?.isBlindAppend === undefined ? {} : { isBlindAppend: info.isBlindAppend }),
      };
    })
    .reverse();
}
