export * from './errors.js';
export type {
  DeltaFile,
  DeltaHistoryEntry,
  DeltaLogDeps,
  DeltaSnapshot,
  SnapshotSelector,
} from './log.js';
export { loadSnapshot, readHistory } from './log.js';
export type {
  DeltaAction,
  DeltaAddAction,
  DeltaCommitInfo,
  DeltaMetadataAction,
  DeltaProtocolAction,
  DeltaRemoveAction,
  DeltaStructField,
  DeltaStructType,
  DeltaTxnAction,
} from './protocol.js';
export type { ReadRowsOptions } from './read.js';
export { readSnapshotRows } from './read.js';
export { mapBounded, quoteIdent, quoteLiteral } from './sql.js';
export * from './table.js';
