import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeltaLogDeps, DeltaSnapshot } from './log.js';
import { checkpointFileName, type DeltaAction, LOG_FOLDER } from './protocol.js';
import { quoteLiteral } from './sql.js';

/** How long removed files stay in checkpoints (Delta's default delta.deletedFileRetentionDuration). */
const TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * The checkpoint schema of PROTOCOL.md (the columns a reader needs), so that Spark and other readers find
 * the struct columns and map types they expect, not whatever DuckDB would infer from JSON.
 */
const CHECKPOINT_COLUMNS = {
  txn: 'STRUCT(appId VARCHAR, "version" BIGINT, lastUpdated BIGINT)',
  add: 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, tags MAP(VARCHAR, VARCHAR), stats VARCHAR)',
  remove:
    'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)',
  metaData:
    'STRUCT(id VARCHAR, "name" VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, "options" MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], "configuration" MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
  protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)',
};

/** What a checkpoint holds: the snapshot's reconciled actions, adds marked as no data change. */
function checkpointActions(snapshot: DeltaSnapshot, now: Date): DeltaAction[] {
  const horizon = now.getTime() - TOMBSTONE_RETENTION_MS;
  return [
    {
      protocol: {
        minReaderVersion: snapshot.protocol.minReaderVersion,
        minWriterVersion: snapshot.protocol.minWriterVersion,
      },
    },
    { metaData: snapshot.metadata },
    ...[...snapshot.appTransactions].map(([appId, version]) => ({ txn: { appId, version } })),
    ...snapshot.files.map((f) => ({ add: { ...f.add, dataChange: false } })),
    ...snapshot.tombstones
      .filter((r) => (r.deletionTimestamp ?? 0) > horizon)
      .map((r) => ({ remove: { ...r, dataChange: false } })),
  ];
}

/**
 * Writes `{version}.checkpoint.parquet` for a snapshot and points `_last_checkpoint` at it. The checkpoint
 * is written never-overwrite: a second writer checkpointing the same version has written the same state.
 */
export async function writeCheckpoint(
  deps: DeltaLogDeps,
  snapshot: DeltaSnapshot,
  now: Date,
): Promise<{ version: number; size: number }> {
  const actions = checkpointActions(snapshot, now);
  const dir = await mkdtemp(join(tmpdir(), 'aurora-delta-cp-'));
  try {
    const json = join(dir, 'actions.ndjson');
    const parquet = join(dir, 'checkpoint.parquet');
    await writeFile(json, actions.map((a) => JSON.stringify(a)).join('\n'));
    const columns = Object.entries(CHECKPOINT_COLUMNS)
      .map(([name, type]) => `${name}: ${quoteLiteral(type)}`)
      .join(', ');
    await deps.codec.query(
      `COPY (SELECT * FROM read_json(${quoteLiteral(json)}, format = 'newline_delimited', columns = {${columns}}))
       TO ${quoteLiteral(parquet)} (FORMAT parquet)`,
    );
    const path = `${snapshot.location}${LOG_FOLDER}${checkpointFileName(snapshot.version)}`;
    try {
      await deps.lake.put(path, await readFile(parquet), { signal: deps.signal });
    } catch (error) {
      if ((error as { code?: string }).code !== 'lake.conflict') throw error;
    }
    const last = { version: snapshot.version, size: actions.length };
    // A slower writer must not point readers back at an older checkpoint (readers list the log anyway).
    const lastPath = `${snapshot.location}${LOG_FOLDER}_last_checkpoint`;
    const current = await deps.lake.get(lastPath, { signal: deps.signal }).then(
      (b) => Number((JSON.parse(b.toString()) as { version?: unknown }).version),
      () => -1,
    );
    if (current >= snapshot.version) return last;
    await deps.lake.put(
      `${snapshot.location}${LOG_FOLDER}_last_checkpoint`,
      Buffer.from(JSON.stringify(last)),
      {
        overwrite: true,
        contentType: 'application/json',
        signal: deps.signal,
      },
    );
    return last;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
