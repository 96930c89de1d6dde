import { AuroraError, SourceDataError, UsageError } from '@aurora/core';
import { ContinuationJoiner, sqlExcerpt } from './continuations.js';
import { type LogMinerRow, OPERATION_CODE } from './logminer-row.js';
import { compareScn, isScn, type Scn } from './scn.js';
import { parseSqlRedo, type RedoColumns } from './sql-redo.js';

/**
 * The SCN window of one mining run. Transactions committing in `(fromScn, toScn]` are emitted;
 * `fromScn` is the previous window's `toScn` (everything committed up to it was emitted then).
 * The rows handed in must have been mined from the previous run's `lowWatermarkScn` (inclusive) up to
 * `toScn`, so that transactions still open last time are seen whole: rows at or below `fromScn` only
 * complete those transactions and are otherwise ignored, which makes re-mining an overlap harmless.
 */
export interface ScnWindow {
  fromScn: Scn;
  toScn: Scn;
}

/** One committed row change, ready to land with `_op` and `_scn`. */
export interface LogMinerChange {
  op: 'I' | 'U' | 'D';
  owner: string;
  table: string;
  /** The row's ROWID (from the ROW_ID column; NO_ROWID_IN_STMT keeps it out of the SQL). */
  rowId: string | null;
  /** SCN of this change. */
  scn: Scn;
  /** Record set id and SQL sequence number: with `scn`, the change's position in the redo stream. */
  rsId: string;
  ssn: number;
  commitScn: Scn;
  commitTimestamp: Date;
  xid: string;
  /** WHERE columns of an update or delete; null for an insert. */
  before: RedoColumns | null;
  /** Columns of an insert or SET columns of an update; null for a delete. */
  after: RedoColumns | null;
}

/**
 * Something in the window that is not a landed change. The caller logs `ddl` and dead-letters the rest;
 * none of these is dropped silently.
 * - `ddl`: a DDL statement (op 5), skipped: the online catalog cannot follow DDL, so schema changes are
 *   handled out of band.
 * - `missing_scn`: op 34, LogMiner could not mine a range of redo; changes may be missing.
 * - `unsupported`: op 255 (a change LogMiner cannot render as SQL) or an op code this module does not
 *   handle (LOB and XML pieces, which arrive only when LOB mining is on).
 * - `unparseable`: a DML of a committed transaction whose SQL_REDO {@link parseSqlRedo} rejected.
 * - `unmatched_undo`: a partial-rollback row (ROLLBACK=1) with no earlier change of that ROWID in its
 *   transaction; nothing is emitted for it, but its transaction may be incomplete.
 */
export interface LogMinerReportEntry {
  kind: 'ddl' | 'missing_scn' | 'unsupported' | 'unparseable' | 'unmatched_undo';
  scn: Scn;
  xid: string;
  operationCode: number;
  operation: string;
  owner: string | null;
  table: string | null;
  rowId: string | null;
  info: string | null;
  /** The start of SQL_REDO (see `sqlExcerpt`), null when there was none. */
  sql: string | null;
  /** For `unparseable`: the parser's error, as it would be serialised. */
  error?: { code: string; message: string };
}

/** A transaction seen in the window without its COMMIT or ROLLBACK. */
export interface OpenTransaction {
  xid: string;
  /** START SCN (the START row, START_SCN, or the first row seen): mining must resume at or before it. */
  startScn: Scn;
  /** DML rows buffered so far (after partial rollbacks). */
  changeCount: number;
}

/** What {@link assembleTransactions} found in one window. */
export interface AssembledWindow {
  /** Committed changes, by commit SCN, then SCN, RS_ID and SSN within a transaction. */
  changes: LogMinerChange[];
  report: LogMinerReportEntry[];
  open: OpenTransaction[];
  /** Transactions that ended in ROLLBACK (op 36); their changes are left out. */
  rolledBackXids: string[];
  /** Transactions whose commit is at or below `fromScn`: emitted by an earlier window, left out now. */
  alreadyEmittedXids: string[];
  /**
   * Where the next run must start mining (inclusive): the lowest start SCN of the open transactions,
   * else `toScn`. The checkpoint stores this and `toScn` (the next `fromScn`) once the landed file is
   * durable; it never moves past an open transaction's start, or that transaction's early changes
   * would be lost when it commits.
   */
  lowWatermarkScn: Scn;
  /** Highest commit SCN emitted, null when nothing committed in the window. */
  lastCommitScn: Scn | null;
}

interface BufferedTransaction {
  xid: string;
  startScn: Scn;
  /** DML rows in mining order; undone ones are set to undefined so the order of the rest holds. */
  events: (LogMinerRow | undefined)[];
  liveEvents: number;
  commit: LogMinerRow | undefined;
  rolledBack: boolean;
}

/**
 * Committed-data-only assembly of one mined window, as Debezium's buffered LogMiner adapter does it:
 * - Joins continuation rows first ({@link ContinuationJoiner}); throws SourceDataError on a dangling one.
 * - Buffers DML (ops 1, 2, 3) per XID; a transaction with a ROLLBACK row (op 36) is dropped whole.
 * - A DML row with ROLLBACK=1 undoes the latest still-buffered change of the same ROW_ID in its
 *   transaction (Oracle writes one when a statement fails mid-transaction, e.g. on a constraint
 *   violation, and the transaction goes on to commit); the undo row itself is not emitted.
 * - Emits transactions whose COMMIT (op 7) SCN is in `(fromScn, toScn]`, ordered by commit SCN (XID
 *   breaks ties), changes within one ordered by SCN, RS_ID, SSN, then mining order. SQL_REDO is parsed
 *   only here, so rolled-back and open work is never parsed.
 * - DDL (5), MISSING_SCN (34), UNSUPPORTED (255) and unknown op codes become report entries when their
 *   SCN is in `(fromScn, toScn]` (so an overlap re-mined next time does not report them twice).
 * - Transactions without COMMIT or ROLLBACK are returned as open, with the low watermark.
 *
 * @param rows the window's `V$LOGMNR_CONTENTS` rows in the order LogMiner returned them.
 * @throws UsageError when the window or a row's SCN is malformed, or a row lies above `toScn`.
 * @throws SourceDataError when a continued SQL_REDO never ends.
 */
export function assembleTransactions(rows: Iterable<LogMinerRow>, window: ScnWindow): AssembledWindow {
  const { fromScn, toScn } = window;
  if (!isScn(fromScn) || !isScn(toScn) || compareScn(fromScn, toScn) > 0) {
    throw new UsageError(`invalid SCN window (${String(fromScn)}, ${String(toScn)}]`, {
      details: { fromScn, toScn },
    });
  }
  const inWindow = (scn: Scn) => compareScn(scn, fromScn) > 0;
  const transactions = new Map<string, BufferedTransaction>();
  const report: LogMinerReportEntry[] = [];
  const joiner = new ContinuationJoiner();

  const transactionOf = (row: LogMinerRow): BufferedTransaction => {
    const start = row.START_SCN !== null && isScn(row.START_SCN) ? row.START_SCN : row.SCN;
    let tx = transactions.get(row.XID);
    if (tx === undefined) {
      tx = { xid: row.XID, startScn: start, events: [], liveEvents: 0, commit: undefined, rolledBack: false };
      transactions.set(row.XID, tx);
    } else if (compareScn(start, tx.startScn) < 0) tx.startScn = start;
    return tx;
  };

  for (const raw of rows) {
    checkRowScn(raw, toScn);
    const row = joiner.push(raw);
    if (row === undefined) continue;
    switch (row.OPERATION_CODE) {
      case OPERATION_CODE.INSERT:
      case OPERATION_CODE.UPDATE:
      case OPERATION_CODE.DELETE: {
        const tx = transactionOf(row);
        if (row.ROLLBACK === 1) {
          if (!undoLatest(tx, row.ROW_ID) && inWindow(row.SCN))
            report.push(reportEntry('unmatched_undo', row));
        } else {
          tx.events.push(row);
          tx.liveEvents++;
        }
        break;
      }
      case OPERATION_CODE.START:
        transactionOf(row);
        break;
      case OPERATION_CODE.COMMIT:
        transactionOf(row).commit = row;
        break;
      case OPERATION_CODE.ROLLBACK:
        transactionOf(row).rolledBack = true;
        break;
      // Not tied to a buffered transaction on purpose: a MISSING_SCN row's XID can be all zeros, and a
      // transaction made of it would never commit and would pin the low watermark for ever.
      case OPERATION_CODE.DDL:
        if (inWindow(row.SCN)) report.push(reportEntry('ddl', row));
        break;
      case OPERATION_CODE.MISSING_SCN:
        if (inWindow(row.SCN)) report.push(reportEntry('missing_scn', row));
        break;
      default:
        if (inWindow(row.SCN)) report.push(reportEntry('unsupported', row));
    }
  }
  joiner.finish();

  const committed: { tx: BufferedTransaction; commit: LogMinerRow }[] = [];
  const open: OpenTransaction[] = [];
  const rolledBackXids: string[] = [];
  const alreadyEmittedXids: string[] = [];
  for (const tx of transactions.values()) {
    if (tx.rolledBack) rolledBackXids.push(tx.xid);
    else if (tx.commit === undefined)
      open.push({ xid: tx.xid, startScn: tx.startScn, changeCount: tx.liveEvents });
    else if (inWindow(tx.commit.SCN)) committed.push({ tx, commit: tx.commit });
    else alreadyEmittedXids.push(tx.xid);
  }
  committed.sort((a, b) => compareScn(a.commit.SCN, b.commit.SCN) || compareText(a.tx.xid, b.tx.xid));

  const changes: LogMinerChange[] = [];
  for (const { tx, commit } of committed) {
    const commitTimestamp = commit.COMMIT_TIMESTAMP ?? commit.TIMESTAMP;
    for (const row of inRedoOrder(tx.events)) {
      try {
        if (row.SQL_REDO === null) throw new SourceDataError('DML row without SQL_REDO');
        const parsed = parseSqlRedo(row.SQL_REDO);
        changes.push({
          op: parsed.op,
          owner: parsed.owner,
          table: parsed.table,
          rowId: row.ROW_ID,
          scn: row.SCN,
          rsId: row.RS_ID,
          ssn: row.SSN,
          commitScn: commit.SCN,
          commitTimestamp,
          xid: tx.xid,
          before: parsed.before,
          after: parsed.after,
        });
      } catch (error) {
        // Only our own data errors become report entries; anything else is a bug and propagates.
        if (!(error instanceof AuroraError) || error.kind !== 'data') throw error;
        const { code, message } = error.toJSON();
        report.push({ ...reportEntry('unparseable', row), error: { code, message } });
      }
    }
  }

  let lowWatermarkScn = toScn;
  for (const tx of open) if (compareScn(tx.startScn, lowWatermarkScn) < 0) lowWatermarkScn = tx.startScn;
  const last = committed.at(-1);
  return {
    changes,
    report,
    open,
    rolledBackXids,
    alreadyEmittedXids,
    lowWatermarkScn,
    lastCommitScn: last === undefined ? null : last.commit.SCN,
  };
}

function checkRowScn(row: LogMinerRow, toScn: Scn): void {
  if (!isScn(row.SCN)) {
    throw new UsageError(`LogMiner row has a malformed SCN: ${String(row.SCN)}`, {
      details: { xid: row.XID, rsId: row.RS_ID },
    });
  }
  // Rows above the window would be emitted by neither this window nor the next one's overlap logic.
  if (compareScn(row.SCN, toScn) > 0) {
    throw new UsageError(`LogMiner row SCN ${row.SCN} is above the window's toScn ${toScn}`, {
      details: { scn: row.SCN, toScn, xid: row.XID },
    });
  }
}

/** Removes the latest still-live change of `rowId` (Debezium's buffered adapter does the same). */
function undoLatest(tx: BufferedTransaction, rowId: string | null): boolean {
  for (let i = tx.events.length - 1; i >= 0; i--) {
    const event = tx.events[i];
    if (event !== undefined && event.ROW_ID === rowId) {
      tx.events[i] = undefined;
      tx.liveEvents--;
      return true;
    }
  }
  return false;
}

/** The live events ordered by SCN, RS_ID, SSN; mining order breaks ties (Array#sort is stable). */
function inRedoOrder(events: readonly (LogMinerRow | undefined)[]): LogMinerRow[] {
  const live = events.filter((event): event is LogMinerRow => event !== undefined);
  let sorted = true;
  for (let i = 1; i < live.length && sorted; i++) sorted = compareRedoPosition(live[i - 1]!, live[i]!) <= 0;
  return sorted ? live : live.sort(compareRedoPosition);
}

function compareRedoPosition(a: LogMinerRow, b: LogMinerRow): number {
  return compareScn(a.SCN, b.SCN) || compareText(a.RS_ID, b.RS_ID) || a.SSN - b.SSN;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function reportEntry(kind: LogMinerReportEntry['kind'], row: LogMinerRow): LogMinerReportEntry {
  return {
    kind,
    scn: row.SCN,
    xid: row.XID,
    operationCode: row.OPERATION_CODE,
    operation: row.OPERATION,
    owner: row.SEG_OWNER,
    table: row.TABLE_NAME,
    rowId: row.ROW_ID,
    info: row.INFO,
    sql: row.SQL_REDO === null ? null : sqlExcerpt(row.SQL_REDO),
  };
}
