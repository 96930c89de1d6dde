import type { OracleColumn } from './bronze-rows.js';
import type { Scn } from './logminer/index.js';

/**
 * Key ranges over a table's first key column, kept as a formula rather than a list (a 5-year table has
 * thousands of chunks; a checkpoint entity holds at most 64 KiB): chunk `i` is
 * `[lo + i * width, min(lo + (i + 1) * width, hi))`.
 */
export interface KeyRangePlan {
  column: string;
  /** Decimal text: keys are NUMBERs and may exceed 2^53. */
  lo: string;
  /** Exclusive upper bound (MAX + 1). */
  hi: string;
  width: string;
  count: number;
  /** Rows the table held at the plan's SCN. */
  rows: number;
}

/** The key range of chunk `index`. */
export function chunkRange(plan: KeyRangePlan, index: number): { lo: string; hi: string } {
  const lo = BigInt(plan.lo) + BigInt(index) * BigInt(plan.width);
  const end = lo + BigInt(plan.width);
  const hi = BigInt(plan.hi);
  return { lo: String(lo), hi: String(end < hi ? end : hi) };
}

/**
 * One table's full load, as its checkpoint `oracle-erp` / `full-load/OWNER.TABLE` holds it. Chunks land
 * in order; `next` is the first chunk not yet durable. Before a chunk's file is put, its path is written
 * here as `pending`: after a crash the resume finds the file (durable: counted, never re-landed) or not
 * (read again), so no chunk lands twice or goes missing.
 */
export interface FullLoadState {
  loadId: string;
  /** `OWNER.TABLE`. */
  table: string;
  /** The SCN chunks are read at (AS OF SCN). Moves only if the undo for it is gone (ORA-01555). */
  scn: Scn;
  /** The SCN of the first chunk: where CDC takes over (changes after it). */
  firstScn: Scn;
  /** Start of the oldest transaction open at `firstScn`: where mining must start to see it whole. */
  lowWatermarkScn: Scn;
  /** The database's SYSDATE at the start (server wall time): a watermark table's first high-water mark. */
  sysdate: string;
  /** Whether the checksum is STANDARD_HASH in the database (12.1+) or computed in Node (11.2). */
  serverHash: boolean;
  columns: OracleColumn[];
  plan: KeyRangePlan;
  next: number;
  pending: { chunk: number; path: string } | null;
  rows: number;
  files: number;
  deadLettered: number;
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export const FULL_LOAD_KEY_PREFIX = 'full-load/';

/** The checkpoint key of a table's full load. */
export const fullLoadKey = (table: string) => `${FULL_LOAD_KEY_PREFIX}${table}`;
