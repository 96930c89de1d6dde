import type { Clock } from '@aurora/core';
import {
  EBS_TABLES,
  type EbsColumn,
  type ErpModel,
  type ErpOp,
  type ErpRow,
  type ErpTransaction,
  type ErpValue,
  hashString,
  type OracleType,
  oracleTypeText,
  parseOracleType,
} from '@aurora/plant';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampValue,
} from '@duckdb/node-api';
import { formatOracleDateTime, oracleNumberText, zoneOffsetMs } from '../oracle-text.js';
import { OracleServerError } from '../session.js';

/**
 * Ways the ERP stand-in can misbehave, for tests and fault drills:
 * - `missing_log`: archived redo below the current log is purged, so mining an older window fails at
 *   START_LOGMNR with ORA-01291 (as when archives are deleted before the connector read them)
 * - `connection_lost`: the session dies mid-query with ORA-03113 after `afterRows` rows (default 1)
 * - `slow`: every statement waits `delayMs` (default 2,000 ms) first
 * - `new_column`: at its next change the DBA adds a column (DDL in the redo), which later rows fill
 * - `missing_scn`: the next mined window has a MISSING_SCN row (op 34) in it
 * - `garbled_redo`: V$LOGMNR_CONTENTS serves a DML row's SQL_REDO cut short and mangled (as a redo
 *   record LogMiner renders wrongly), `times` rows (default: every one)
 */
export type ErpFault =
  | 'missing_log'
  | 'connection_lost'
  | 'slow'
  | 'new_column'
  | 'missing_scn'
  | 'garbled_redo';
export const ERP_FAULTS: readonly ErpFault[] = [
  'missing_log',
  'connection_lost',
  'slow',
  'new_column',
  'missing_scn',
  'garbled_redo',
];

export interface ErpFaultRule {
  fault: ErpFault;
  /** How many statements (or sessions, for new_column/missing_scn: occurrences) it applies to; default all. */
  times?: number;
  delayMs?: number;
  afterRows?: number;
}

/** What {@link ErpStandIn.bulkIncrement} committed: its SCN range and the MTL_MATERIAL_TRANSACTIONS ids. */
export interface BulkIncrement {
  /** The SCN before it (exclusive) and of its last commit. */
  fromScn: bigint;
  toScn: bigint;
  changes: number;
  firstTransactionId: number;
  lastTransactionId: number;
}

/** Which Oracle the stand-in pretends to be: 11.2 has no STANDARD_HASH (and node-oracledb thin mode cannot reach it). */
export type ErpDbVersion = '11.2' | '19c';

export interface ErpStandInOptions {
  model: ErpModel;
  /** The plant's clock: the database applies the business's transactions up to its "now". */
  clock: Clock;
  version?: ErpDbVersion;
  /** The zone of the server's clock; DATE columns hold its wall time. */
  timeZone?: string;
  /** How far back the database's history (and its redo) reaches when it is opened; default 72 h. */
  historyMs?: number;
  /** How long undo is kept for flashback queries (AS OF SCN); default 3 h, older reads fail with ORA-01555. */
  undoRetentionMs?: number;
}

interface ColumnDef extends EbsColumn {
  columnId: number;
}

interface TableState {
  owner: string;
  name: string;
  key: readonly string[];
  columns: ColumnDef[];
  /** Current rows by key text; absent for append-only tables, which live in DuckDB only. */
  rows: Map<string, ErpRow> | undefined;
  /** Keys changed since the last flush (their DuckDB rows are replaced). */
  dirty: Set<string>;
  /** Rows to append to DuckDB at the next flush (append-only tables, and new rows of others). */
  appends: ErpRow[];
  /** Values for columns added by DDL, given to every row inserted after it. */
  extras: ErpRow;
  objectId: number;
}

/** A row of the stand-in's change log, as V$LOGMNR_CONTENTS has it (SCNs as bigint). */
interface LogRow {
  scn: bigint;
  timestampMs: number;
  xid: string;
  csf: number;
  operation: string;
  operationCode: number;
  owner: string | null;
  table: string | null;
  rowId: string | null;
  rollback: number;
  sqlRedo: string | null;
  rsId: string;
  ssn: number;
  info: string | null;
}

interface OpenTransaction {
  tx: ErpTransaction;
  xid: string;
  startScn: bigint;
  /** Resolved changes, applied to the tables when the transaction commits. */
  changes: ResolvedChange[];
}

type ResolvedChange =
  | { kind: 'insert'; table: TableState; row: ErpRow }
  | { kind: 'update'; table: TableState; keyText: string; before: ErpRow; after: ErpRow }
  | { kind: 'delete'; table: TableState; keyText: string; before: ErpRow };

interface UndoEntry {
  scn: bigint;
  table: TableState;
  keyText: string;
  /** The row before the change, null when the change inserted it. */
  before: ErpRow | null;
}

/** Tables that are only ever inserted into: kept in DuckDB, not in memory. */
const APPEND_ONLY = new Set(['INV.MTL_MATERIAL_TRANSACTIONS']);
const SCN_BASE = 7_300_000_000n;
const EPOCH_2020 = Date.UTC(2020, 0, 1);
/** SCNs per second of the clock, between changes (the database's other work). */
const SCN_PER_SECOND = 50n;
/** Each log file covers this many SCNs (about an hour of the clock). */
const LOG_FILE_SCNS = 180_000n;
/** LogMiner splits SQL_REDO longer than this over rows with CSF = 1. */
const SQL_REDO_PIECE = 4000;

const scnOfTime = (ms: number) => SCN_BASE + BigInt(Math.floor((ms - EPOCH_2020) / 1000)) * SCN_PER_SECOND;

/**
 * The ERP stand-in: an EBS 12.1 database made of a real embedded SQL engine (DuckDB) holding the EBS
 * tables under their owners, fed by the plant's ERP model, and a change log shaped like
 * V$LOGMNR_CONTENTS. When asked anything it first catches up with the plant clock: the business's
 * transactions up to "now" start, change rows (rendered as the SQL_REDO LogMiner writes, with full
 * before-images as under supplemental logging of all columns) and commit or roll back. Flashback queries
 * (AS OF SCN) are answered from undo, kept for `undoRetentionMs`. Sessions come from {@link session}.
 */
export class ErpStandIn {
  readonly version: ErpDbVersion;
  readonly timeZone: string;
  readonly faults = new ErpFaults();
  readonly #model: ErpModel;
  readonly #clock: Clock;
  readonly #undoRetentionMs: number;
  readonly #tables = new Map<string, TableState>();
  readonly #open = new Map<string, OpenTransaction>();
  readonly #undo: UndoEntry[] = [];
  /** (time, SCN) after each transaction end: TIMESTAMP_TO_SCN and the undo horizon. */
  readonly #timeline: { ms: number; scn: bigint }[] = [];
  #lastScn: bigint;
  #appliedMs: number;
  #txCounter = 0;
  #rsCounter = 0;
  #log: LogRow[] = [];
  #txEnds: { xid: string; startScn: bigint; endScn: bigint; endMs: number; outcome: string }[] = [];
  /** Oldest SCN whose redo still exists (raised by the missing_log fault). */
  #redoFloor: bigint;
  #undoHorizonScn: bigint;
  #pendingEnds: OpenTransaction[] = [];
  /** Serialises catch-up and flushes: sessions may ask concurrently. */
  #busy: Promise<void> = Promise.resolve();
  readonly stats = { sessions: 0, statements: 0 };

  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    options: ErpStandInOptions,
    startMs: number,
  ) {
    this.#model = options.model;
    this.#clock = options.clock;
    this.version = options.version ?? '19c';
    this.timeZone = options.timeZone ?? 'Europe/Berlin';
    this.#undoRetentionMs = options.undoRetentionMs ?? 3 * 3_600_000;
    this.#appliedMs = startMs;
    this.#lastScn = scnOfTime(startMs);
    this.#redoFloor = this.#lastScn;
    this.#undoHorizonScn = this.#lastScn;
    this.#timeline.push({ ms: startMs, scn: this.#lastScn });
  }

  /** Creates the database as of `clock.now() - historyMs` and catches up to now. */
  static async open(options: ErpStandInOptions): Promise<ErpStandIn> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await instance.connect();
    const startMs = options.clock.now().getTime() - (options.historyMs ?? 72 * 3_600_000);
    const db = new ErpStandIn(instance, connection, options, startMs);
    try {
      await db.#create(startMs);
      await db.catchUp();
    } catch (error) {
      db.close();
      throw error;
    }
    return db;
  }

  /** Opens a session on the database (what node-oracledb's getConnection is to a real one). */
  async session(): Promise<import('./stand-in-session.js').StandInSession> {
    const { StandInSession } = await import('./stand-in-session.js');
    this.stats.sessions++;
    return new StandInSession(this);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /** The plant clock's now, in ms. */
  nowMs(): number {
    return this.#clock.now().getTime();
  }

  /** Table names as `OWNER.TABLE`. */
  get tableNames(): string[] {
    return [...this.#tables.keys()];
  }

  columnsOf(table: string): readonly ColumnDef[] | undefined {
    return this.#tables.get(table)?.columns;
  }

  columnType(table: string, column: string): OracleType | undefined {
    return this.#tables.get(table)?.columns.find((c) => c.name === column)?.type;
  }

  /** The SCN now: at least everything applied, and it moves with the clock. Reading it consumes it. */
  currentScn(): bigint {
    const fromClock = scnOfTime(this.#clock.now().getTime());
    if (fromClock > this.#lastScn) this.#lastScn = fromClock;
    return this.#lastScn;
  }

  oldestOpenStartScn(): bigint | undefined {
    let min: bigint | undefined;
    for (const o of this.#open.values()) if (min === undefined || o.startScn < min) min = o.startScn;
    return min;
  }

  /** The SCN in force at an instant (TIMESTAMP_TO_SCN); ORA-08180 before the database's history. */
  scnAt(ms: number): bigint {
    if (ms < this.#timeline[0]!.ms)
      throw new OracleServerError('ORA-08180', 'no snapshot found based on specified time');
    let lo = 0;
    let hi = this.#timeline.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#timeline[mid]!.ms <= ms) lo = mid;
      else hi = mid - 1;
    }
    return this.#timeline[lo]!.scn;
  }

  /** Archived log files (and the current online one) as `V$ARCHIVED_LOG`/`V$LOG` list them. */
  logFiles(): { name: string; firstChange: bigint; nextChange: bigint; online: boolean }[] {
    const current = this.#lastScn;
    const out: { name: string; firstChange: bigint; nextChange: bigint; online: boolean }[] = [];
    const firstSeq = this.#redoFloor / LOG_FILE_SCNS;
    const currentSeq = current / LOG_FILE_SCNS;
    for (let seq = firstSeq; seq <= currentSeq; seq++) {
      const online = seq === currentSeq;
      out.push({
        name: online ? '/u01/oradata/EBSPROD/redo03.log' : `/u01/arch/EBSPROD/1_${seq}_1122334455.arc`,
        firstChange: seq === firstSeq ? this.#redoFloor : seq * LOG_FILE_SCNS,
        nextChange: online ? 281474976710655n : (seq + 1n) * LOG_FILE_SCNS,
        online,
      });
    }
    return out;
  }

  /** Throws ORA-01291 when the redo for [startScn, endScn] is not all in `files`. */
  checkLogCoverage(files: readonly string[], startScn: bigint, endScn: bigint): void {
    const known = this.logFiles().filter((f) => files.includes(f.name));
    const missing = () =>
      new OracleServerError('ORA-01291', 'missing logfile', {
        details: { startScn: String(startScn), oldestAvailableScn: String(this.#redoFloor) },
      });
    if (startScn < this.#redoFloor) throw missing();
    let reached = startScn;
    for (const f of known.sort((a, b) => (a.firstChange < b.firstChange ? -1 : 1))) {
      if (f.firstChange > reached) break;
      if (f.nextChange > reached) reached = f.nextChange;
    }
    if (reached <= endScn) throw missing();
  }

  /** Purges archived redo below the current log file (ORA-01291 for any window starting before it). */
  purgeArchivedLogs(): void {
    this.#redoFloor = (this.#lastScn / LOG_FILE_SCNS) * LOG_FILE_SCNS;
  }

  /**
   * Applies the business's transactions up to the plant clock's now: starts, changes, commits and
   * rollbacks, in time order, each logged. Idempotent for a given now.
   */
  catchUp(): Promise<void> {
    const run = this.#busy.then(() => this.#catchUp(this.#clock.now().getTime()));
    this.#busy = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs extra transactions now, through the same machinery as the model's (the benchmark's bulk
   * increments, tests' edge cases): they start and end at the clock's now.
   */
  inject(transactions: readonly ErpTransaction[]): Promise<void> {
    const run = this.#busy.then(async () => {
      for (const tx of transactions) {
        const open = this.#start(tx);
        this.#end(open, tx.endMs);
      }
      await this.#flush();
    });
    this.#busy = run.catch(() => undefined);
    return run;
  }

  /**
   * A bulk window, for benchmarks and load tests: `inserts` new MTL_MATERIAL_TRANSACTIONS rows (a mass
   * backflush, `transactionRows` per transaction), then the cost manager's update of the first `updates`
   * of them (COSTED_FLAG N to Y), all committed at the clock's now and logged as LogMiner renders them
   * (the same SQL_REDO as the model's changes). Rows are written out every few thousand, so a million
   * changes never sit in memory. No undo is kept for it (as if it had overflowed the undo tablespace):
   * flashback to an SCN before its end fails with ORA-01555.
   */
  bulkIncrement(options: {
    inserts: number;
    updates?: number;
    transactionRows?: number;
  }): Promise<BulkIncrement> {
    const run = this.#busy.then(() => this.#bulk(options));
    this.#busy = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #bulk(options: {
    inserts: number;
    updates?: number;
    transactionRows?: number;
  }): Promise<BulkIncrement> {
    const t = this.#tables.get('INV.MTL_MATERIAL_TRANSACTIONS')!;
    const updates = Math.min(options.updates ?? 0, options.inserts);
    const perTx = Math.max(1, options.transactionRows ?? 100);
    const ms = this.#clock.now().getTime();
    const second = new Date(Math.floor(ms / 1000) * 1000);
    const items = [...this.#tables.get('INV.MTL_SYSTEM_ITEMS_B')!.rows!.values()]
      .filter((r) => r['ORGANIZATION_ID'] !== 100)
      .map((r) => [r['INVENTORY_ITEM_ID'] as number, r['ORGANIZATION_ID'] as number] as const);
    const max = await this.connection.runAndReadAll(`SELECT max("TRANSACTION_ID") AS m FROM ${duckName(t)}`);
    const firstId = Number(max.getRowObjects()[0]?.['m'] ?? 0) + 1;
    const row = (i: number, batch: number): ErpRow => {
      const [item, org] = items[i % items.length]!;
      const quantity = -(1 + (i % 9));
      return {
        ...nullRow(t),
        ...t.extras,
        TRANSACTION_ID: firstId + i,
        INVENTORY_ITEM_ID: item,
        ORGANIZATION_ID: org,
        SUBINVENTORY_CODE: 'STORES',
        TRANSACTION_TYPE_ID: 35,
        TRANSACTION_ACTION_ID: 1,
        TRANSACTION_SOURCE_TYPE_ID: 5,
        TRANSACTION_SOURCE_ID: 9_000_000 + batch,
        TRANSACTION_QUANTITY: quantity,
        TRANSACTION_UOM: 'Ea',
        PRIMARY_QUANTITY: quantity,
        TRANSACTION_DATE: second,
        ACTUAL_COST: 12.5 + (i % 40) * 0.25,
        TRANSACTION_REFERENCE: `Backflush B${batch}`,
        COSTED_FLAG: 'N',
        EVENT_TIMESTAMP: new Date(ms),
        CREATED_BY: 1013,
        CREATION_DATE: second,
        LAST_UPDATED_BY: 1013,
        LAST_UPDATE_DATE: second,
      };
    };
    const fromScn = this.#lastScn;
    const transaction = (changes: (open: OpenTransaction) => void) => {
      const n = ++this.#txCounter;
      const xid = `00B${n.toString(16).padStart(13, '0')}`.toUpperCase();
      const startScn = this.#nextScn(ms);
      const open: OpenTransaction = {
        tx: { id: `bulk:${n}`, startMs: ms, endMs: ms, outcome: 'commit', userId: 1013, ops: [] },
        xid,
        startScn,
        changes: [],
      };
      this.#logRow({
        scn: startScn,
        ms,
        xid,
        operation: 'START',
        code: 6,
        sql: 'set transaction read write;',
      });
      changes(open);
      const endScn = this.#nextScn(ms);
      this.#logRow({ scn: endScn, ms, xid, operation: 'COMMIT', code: 7, sql: 'commit;' });
      this.#txEnds.push({ xid, startScn, endScn, endMs: ms, outcome: 'COMMIT' });
      this.#timeline.push({ ms, scn: endScn });
    };
    let sinceFlush = 0;
    for (let start = 0; start < options.inserts; start += perTx) {
      const batch = start / perTx;
      transaction((open) => {
        for (let i = start; i < Math.min(start + perTx, options.inserts); i++) {
          const r = row(i, batch);
          this.#logDml(open, t, 'INSERT', 1, r, insertSql(t, r, this.timeZone), ms);
          t.appends.push(r);
        }
      });
      sinceFlush += perTx;
      if (sinceFlush >= 20_000) {
        await this.#flush();
        sinceFlush = 0;
      }
    }
    await this.#flush();
    const set: ErpRow = { COSTED_FLAG: 'Y', LAST_UPDATED_BY: 1020 };
    for (let start = 0; start < updates; start += perTx) {
      transaction((open) => {
        for (let i = start; i < Math.min(start + perTx, updates); i++) {
          const before = row(i, Math.floor(i / perTx));
          this.#logDml(open, t, 'UPDATE', 3, before, updateSql(t, set, before, this.timeZone), ms);
        }
      });
      sinceFlush += perTx;
      if (sinceFlush >= 20_000) {
        await this.#flush();
        sinceFlush = 0;
      }
    }
    await this.#flush();
    if (updates > 0)
      await this.connection.run(
        `UPDATE ${duckName(t)} SET "COSTED_FLAG" = 'Y', "LAST_UPDATED_BY" = 1020 WHERE "TRANSACTION_ID" BETWEEN ${firstId} AND ${firstId + updates - 1}`,
      );
    this.#undoHorizonScn = this.#lastScn;
    return {
      fromScn,
      toScn: this.#lastScn,
      changes: options.inserts + updates,
      firstTransactionId: firstId,
      lastTransactionId: firstId + options.inserts - 1,
    };
  }

  /**
   * The state of a table at an SCN, as a temp table: the current rows with every change after the SCN
   * undone. ORA-01555 when the undo for it is gone.
   */
  async flashbackTable(table: string, scn: bigint): Promise<string> {
    const state = this.#tables.get(table);
    if (!state) throw new OracleServerError('ORA-00942', 'table or view does not exist');
    if (scn < this.#undoHorizonScn)
      throw new OracleServerError(
        'ORA-01555',
        'snapshot too old: rollback segment number  with name "" too small',
        {
          details: { scn: String(scn), undoHorizonScn: String(this.#undoHorizonScn) },
        },
      );
    const name = `asof_${state.owner}_${state.name}_${scn}`.toLowerCase();
    const temp = `flashback.${name}`;
    const exists = await this.connection.runAndReadAll(
      `SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'flashback' AND table_name = '${name}'`,
    );
    if (Number(exists.getRowObjects()[0]?.['n']) > 0) return temp;
    const earliest = new Map<string, ErpRow | null>();
    for (const u of this.#undo) {
      if (u.table !== state || u.scn <= scn || earliest.has(u.keyText)) continue;
      earliest.set(u.keyText, u.before);
    }
    await this.connection.run(`CREATE TABLE ${temp} AS SELECT * FROM ${duckName(state)}`);
    if (earliest.size > 0) {
      await this.#deleteKeys(temp, state, [...earliest.keys()]);
      const rows = [...earliest.values()].filter((r): r is ErpRow => r !== null);
      await this.#appendRows(name, 'flashback', state, rows);
    }
    return temp;
  }

  async dropTemp(name: string): Promise<void> {
    await this.connection.run(`DROP TABLE IF EXISTS ${name}`);
  }

  /** The log rows a LogMiner session over [startScn, endScn] returns, in LogMiner's order. */
  logMinerQuery(committedDataOnly: boolean, owners: readonly string[]): string {
    const ownerList = owners.map((o) => `'${o.replaceAll("'", "''")}'`).join(', ');
    const select = (commitCols: string) => `SELECT CAST(l.SCN AS VARCHAR) AS SCN, ${commitCols},
        strftime(l.TS, '%Y-%m-%d %H:%M:%S') AS "TIMESTAMP", l.XID, CAST(l.CSF AS VARCHAR) AS CSF, l.OPERATION,
        CAST(l.OPERATION_CODE AS VARCHAR) AS OPERATION_CODE, l.SEG_OWNER, l.TABLE_NAME, l.ROW_ID,
        CAST(l.ROLLBACK AS VARCHAR) AS "ROLLBACK", l.SQL_REDO, l.RS_ID, CAST(l.SSN AS VARCHAR) AS SSN, l.INFO`;
    const filter = `l.SCN >= $startScn AND l.SCN <= $endScn AND l.OPERATION_CODE IN (1, 2, 3, 5, 6, 7, 34, 36, 255)
        AND (l.SEG_OWNER IS NULL OR l.SEG_OWNER IN (${ownerList}))`;
    if (!committedDataOnly) {
      return `${select('NULL AS START_SCN, NULL AS COMMIT_SCN, NULL AS COMMIT_TIMESTAMP')} FROM logmnr_contents l WHERE ${filter} ORDER BY l.SEQ`;
    }
    // Committed transactions whole, in commit order; rows outside any transaction (MISSING_SCN) in place.
    return `${select(`CAST(t.START_SCN AS VARCHAR) AS START_SCN, CAST(t.END_SCN AS VARCHAR) AS COMMIT_SCN,
        strftime(t.END_TS, '%Y-%m-%d %H:%M:%S') AS COMMIT_TIMESTAMP`)}
      FROM logmnr_contents l LEFT JOIN logmnr_txns t ON t.XID = l.XID
      WHERE ${filter} AND ((t.OUTCOME = 'COMMIT' AND t.END_SCN <= $endScn) OR (t.XID IS NULL AND l.OPERATION_CODE IN (5, 34, 255)))
      ORDER BY coalesce(t.END_SCN, l.SCN), l.SEQ`;
  }

  // --- building and changing the database -------------------------------------------------------------

  async #create(startMs: number): Promise<void> {
    const c = this.connection;
    await c.run(
      `CREATE MACRO ora_num(s) AS regexp_replace(regexp_replace(regexp_replace(s, '(\\.[0-9]*?)0+$', '\\1'), '\\.$', ''), '^(-?)0\\.', '\\1.')`,
    );
    await c.run(`CREATE TABLE logmnr_contents (SEQ BIGINT, SCN BIGINT, TS TIMESTAMP, XID VARCHAR, CSF INTEGER,
      OPERATION VARCHAR, OPERATION_CODE INTEGER, SEG_OWNER VARCHAR, TABLE_NAME VARCHAR, ROW_ID VARCHAR,
      ROLLBACK INTEGER, SQL_REDO VARCHAR, RS_ID VARCHAR, SSN INTEGER, INFO VARCHAR)`);
    await c.run(
      'CREATE TABLE logmnr_txns (XID VARCHAR, START_SCN BIGINT, END_SCN BIGINT, END_TS TIMESTAMP, OUTCOME VARCHAR)',
    );
    await c.run('CREATE SCHEMA flashback');
    const owners = new Set(EBS_TABLES.map((t) => t.owner));
    for (const owner of owners) await c.run(`CREATE SCHEMA "${owner}"`);
    EBS_TABLES.forEach((t, i) => {
      const name = `${t.owner}.${t.name}`;
      this.#tables.set(name, {
        owner: t.owner,
        name: t.name,
        key: t.key,
        columns: t.columns.map((col, j) => ({ ...col, columnId: j + 1 })),
        rows: APPEND_ONLY.has(name) ? undefined : new Map(),
        dirty: new Set(),
        appends: [],
        extras: {},
        objectId: 80_000 + i,
      });
    });
    for (const t of this.#tables.values()) {
      const cols = t.columns.map((col) => `"${col.name}" ${duckType(col.type)}`).join(', ');
      await c.run(`CREATE TABLE ${duckName(t)} (${cols})`);
    }
    const master = this.#model.masterData(startMs);
    for (const [table, rows] of Object.entries(master)) {
      const t = this.#tables.get(table)!;
      for (const row of rows) {
        if (t.rows) t.rows.set(keyText(t, row), row);
        t.appends.push(row);
      }
    }
    await this.#flush();
  }

  async #catchUp(nowMs: number): Promise<void> {
    if (nowMs <= this.#appliedMs) return;
    const started = this.#model.transactions(this.#appliedMs, nowMs);
    type Event = { ms: number; end: boolean; id: string; tx?: ErpTransaction; open?: OpenTransaction };
    const events: Event[] = [];
    for (const tx of started) events.push({ ms: tx.startMs, end: false, id: tx.id, tx });
    const pending = this.#pendingEnds;
    this.#pendingEnds = [];
    for (const open of pending) events.push({ ms: open.tx.endMs, end: true, id: open.tx.id, open });
    events.sort(
      (a, b) => a.ms - b.ms || Number(a.end) - Number(b.end) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.end) {
        if (e.ms < nowMs) this.#end(e.open!, e.ms);
        else this.#pendingEnds.push(e.open!);
        continue;
      }
      const open = this.#start(e.tx!);
      if (e.tx!.endMs < nowMs) {
        // Insert the end among the later events, in time order.
        const end: Event = { ms: e.tx!.endMs, end: true, id: e.id, open };
        let j = i + 1;
        while (j < events.length && (events[j]!.ms < end.ms || (events[j]!.ms === end.ms && !events[j]!.end)))
          j++;
        events.splice(j, 0, end);
      } else this.#pendingEnds.push(open);
    }
    this.#appliedMs = nowMs;
    this.#pruneUndo(nowMs);
    await this.#flush();
  }

  #nextScn(ms: number): bigint {
    const fromClock = scnOfTime(ms);
    this.#lastScn = fromClock > this.#lastScn ? fromClock : this.#lastScn + 1n;
    return this.#lastScn;
  }

  #start(tx: ErpTransaction): OpenTransaction {
    const n = ++this.#txCounter;
    const xid =
      `${((n % 10) + 1).toString(16).padStart(4, '0')}${((n * 7) % 0xffff).toString(16).padStart(4, '0')}${n.toString(16).padStart(8, '0')}`.toUpperCase();
    const startScn = this.#nextScn(tx.startMs);
    const open: OpenTransaction = { tx, xid, startScn, changes: [] };
    this.#open.set(xid, open);
    this.#logRow({
      scn: startScn,
      ms: tx.startMs,
      xid,
      operation: 'START',
      code: 6,
      sql: 'set transaction read write;',
    });
    const ddl = this.faults.take('new_column');
    if (ddl) this.#addColumnDdl(tx.startMs);
    for (const op of tx.ops) this.#change(open, op);
    return open;
  }

  #change(open: OpenTransaction, op: ErpOp): void {
    const { tx } = open;
    if (op.kind === 'consume') {
      for (const resolved of this.#consume(op)) this.#change(open, resolved);
      return;
    }
    const table = this.#tables.get(op.table);
    if (!table) throw new Error(`the ERP model changed an unknown table ${op.table}`);
    const ms = tx.startMs;
    if (op.kind === 'unsupported') {
      this.#logRow({
        scn: this.#nextScn(ms),
        ms,
        xid: open.xid,
        operation: 'UNSUPPORTED',
        code: 255,
        owner: table.owner,
        table: table.name,
        sql: 'Unsupported',
        info: op.info,
      });
      return;
    }
    if (op.kind === 'insert') {
      const row = { ...nullRow(table), ...table.extras, ...op.row };
      this.#logDml(open, table, 'INSERT', 1, row, insertSql(table, row, this.timeZone), ms);
      open.changes.push({ kind: 'insert', table, row });
      return;
    }
    const keyed = keyText(table, op.key);
    const before = table.rows?.get(keyed);
    if (!before) return; // Nothing to change: the application's statement touched no row, so no redo.
    if (op.kind === 'update') {
      const set: ErpRow = {};
      for (const [column, value] of Object.entries(op.set))
        if (!sameValue(before[column], value)) set[column] = value;
      if (Object.keys(set).length === 0) return;
      const after = { ...before, ...set };
      this.#logDml(open, table, 'UPDATE', 3, before, updateSql(table, set, before, this.timeZone), ms);
      open.changes.push({ kind: 'update', table, keyText: keyed, before, after });
    } else {
      this.#logDml(open, table, 'DELETE', 2, before, deleteSql(table, before, this.timeZone), ms);
      open.changes.push({ kind: 'delete', table, keyText: keyed, before });
    }
  }

  /** FIFO issue from the on-hand lots of an item: partial lots updated, used-up lots deleted. */
  #consume(op: Extract<ErpOp, { kind: 'consume' }>): ErpOp[] {
    const onhand = this.#tables.get('INV.MTL_ONHAND_QUANTITIES_DETAIL')!;
    const lots = [...onhand.rows!.values()]
      .filter(
        (r) => r['ORGANIZATION_ID'] === op.organizationId && r['INVENTORY_ITEM_ID'] === op.inventoryItemId,
      )
      .sort(
        (a, b) =>
          (a['DATE_RECEIVED'] as Date).getTime() - (b['DATE_RECEIVED'] as Date).getTime() ||
          (a['ONHAND_QUANTITIES_ID'] as number) - (b['ONHAND_QUANTITIES_ID'] as number),
      );
    const out: ErpOp[] = [];
    let left = op.quantity;
    for (const lot of lots) {
      if (left <= 0) break;
      const qty = lot['TRANSACTION_QUANTITY'] as number;
      const key = { ONHAND_QUANTITIES_ID: lot['ONHAND_QUANTITIES_ID']! };
      if (qty <= left) {
        out.push({ kind: 'delete', table: 'INV.MTL_ONHAND_QUANTITIES_DETAIL', key });
        left -= qty;
      } else {
        out.push({
          kind: 'update',
          table: 'INV.MTL_ONHAND_QUANTITIES_DETAIL',
          key,
          set: {
            PRIMARY_TRANSACTION_QUANTITY: qty - left,
            TRANSACTION_QUANTITY: qty - left,
            UPDATE_TRANSACTION_ID: op.transactionId,
            LAST_UPDATE_DATE: op.at,
            LAST_UPDATED_BY: 1013,
          },
        });
        left = 0;
      }
    }
    return out;
  }

  #end(open: OpenTransaction, ms: number): void {
    const scn = this.#nextScn(ms);
    this.#open.delete(open.xid);
    const commit = open.tx.outcome === 'commit';
    if (commit) {
      for (const change of open.changes) this.#apply(change, scn);
    }
    this.#logRow({
      scn,
      ms,
      xid: open.xid,
      operation: commit ? 'COMMIT' : 'ROLLBACK',
      code: commit ? 7 : 36,
      sql: commit ? 'commit;' : 'rollback;',
    });
    this.#txEnds.push({
      xid: open.xid,
      startScn: open.startScn,
      endScn: scn,
      endMs: ms,
      outcome: commit ? 'COMMIT' : 'ROLLBACK',
    });
    this.#timeline.push({ ms, scn });
    if (this.faults.take('missing_scn')) {
      this.#logRow({
        scn: this.#nextScn(ms),
        ms,
        xid: '0000000000000000',
        operation: 'MISSING_SCN',
        code: 34,
        sql: null,
        info: 'Missing SCN range: redo could not be read (corrupt block)',
      });
    }
  }

  #apply(change: ResolvedChange, scn: bigint): void {
    const t = change.table;
    if (change.kind === 'insert') {
      const k = keyText(t, change.row);
      if (t.rows) {
        t.rows.set(k, change.row);
        t.dirty.add(k);
      } else t.appends.push(change.row);
      this.#undo.push({ scn, table: t, keyText: k, before: null });
    } else if (change.kind === 'update') {
      if (!t.rows?.has(change.keyText)) return;
      t.rows.set(change.keyText, change.after);
      t.dirty.add(change.keyText);
      this.#undo.push({ scn, table: t, keyText: change.keyText, before: change.before });
    } else {
      if (!t.rows?.has(change.keyText)) return;
      t.rows.delete(change.keyText);
      t.dirty.add(change.keyText);
      this.#undo.push({ scn, table: t, keyText: change.keyText, before: change.before });
    }
  }

  /** The DBA adds a column to MTL_MATERIAL_TRANSACTIONS; rows inserted from now on fill it. */
  #addColumnDdl(ms: number): void {
    const t = this.#tables.get('INV.MTL_MATERIAL_TRANSACTIONS')!;
    const name = `ATTRIBUTE${t.columns.filter((c) => c.name.startsWith('ATTRIBUTE')).length + 15}`;
    const type = parseOracleType('VARCHAR2(150)');
    t.columns.push({ name, type, columnId: t.columns.length + 1 });
    t.extras[name] = 'TRACE-LOT';
    this.#pendingDdl.push(`ALTER TABLE ${duckName(t)} ADD COLUMN "${name}" VARCHAR`);
    const n = ++this.#txCounter;
    const xid = `00FF${n.toString(16).padStart(12, '0')}`.toUpperCase();
    const scn = this.#nextScn(ms);
    this.#logRow({
      scn,
      ms,
      xid,
      operation: 'DDL',
      code: 5,
      owner: t.owner,
      table: t.name,
      sql: `ALTER TABLE "${t.owner}"."${t.name}" ADD ("${name}" ${oracleTypeText(type)});`,
      info: 'USER DDL (PlSql=0 RecDep=0)',
    });
    this.#txEnds.push({ xid, startScn: scn, endScn: scn, endMs: ms, outcome: 'COMMIT' });
  }

  #pendingDdl: string[] = [];

  #logDml(
    open: OpenTransaction,
    t: TableState,
    operation: string,
    code: number,
    row: ErpRow,
    sql: string,
    ms: number,
  ): void {
    this.#logRow({
      scn: this.#nextScn(ms),
      ms,
      xid: open.xid,
      operation,
      code,
      owner: t.owner,
      table: t.name,
      rowId: rowIdOf(t, row),
      sql,
    });
  }

  #logRow(r: {
    scn: bigint;
    ms: number;
    xid: string;
    operation: string;
    code: number;
    owner?: string;
    table?: string;
    rowId?: string;
    sql: string | null;
    info?: string;
  }): void {
    const rs = ++this.#rsCounter;
    const rsId = ` 0x${(Number(r.scn / LOG_FILE_SCNS) % 0xffffff).toString(16).padStart(6, '0')}.${rs.toString(16).padStart(8, '0')}.0010 `;
    const pieces = r.sql === null || r.sql.length <= SQL_REDO_PIECE ? [r.sql] : splitPieces(r.sql);
    pieces.forEach((piece, i) => {
      this.#log.push({
        scn: r.scn,
        timestampMs: r.ms,
        xid: r.xid,
        csf: i < pieces.length - 1 ? 1 : 0,
        operation: r.operation,
        operationCode: r.code,
        owner: r.owner ?? null,
        table: r.table ?? null,
        rowId: r.rowId ?? null,
        rollback: 0,
        sqlRedo: piece,
        rsId,
        ssn: 0,
        info: r.info ?? null,
      });
    });
  }

  #pruneUndo(nowMs: number): void {
    const horizonMs = nowMs - this.#undoRetentionMs;
    let cut = 0;
    while (cut < this.#timeline.length - 1 && this.#timeline[cut + 1]!.ms <= horizonMs) cut++;
    if (cut === 0) return;
    const horizon = this.#timeline[cut]!.scn;
    this.#undoHorizonScn = horizon;
    let drop = 0;
    while (drop < this.#undo.length && this.#undo[drop]!.scn <= horizon) drop++;
    this.#undo.splice(0, drop);
  }

  #seq = 0n;

  /** Writes what changed since the last flush into DuckDB: log rows, transaction ends, table rows. */
  async #flush(): Promise<void> {
    for (const ddl of this.#pendingDdl) await this.connection.run(ddl);
    this.#pendingDdl = [];
    if (this.#log.length > 0) {
      const appender = await this.connection.createAppender('logmnr_contents');
      for (const r of this.#log) {
        appender.appendBigInt(this.#seq++);
        appender.appendBigInt(r.scn);
        appender.appendTimestamp(
          new DuckDBTimestampValue(BigInt(wallMs(r.timestampMs, this.timeZone)) * 1000n),
        );
        appender.appendVarchar(r.xid);
        appender.appendInteger(r.csf);
        appender.appendVarchar(r.operation);
        appender.appendInteger(r.operationCode);
        appendNullable(appender, r.owner);
        appendNullable(appender, r.table);
        appendNullable(appender, r.rowId);
        appender.appendInteger(r.rollback);
        appendNullable(appender, r.sqlRedo);
        appender.appendVarchar(r.rsId);
        appender.appendInteger(r.ssn);
        appendNullable(appender, r.info);
        appender.endRow();
      }
      appender.closeSync();
      this.#log = [];
    }
    if (this.#txEnds.length > 0) {
      const appender = await this.connection.createAppender('logmnr_txns');
      for (const e of this.#txEnds) {
        appender.appendVarchar(e.xid);
        appender.appendBigInt(e.startScn);
        appender.appendBigInt(e.endScn);
        appender.appendTimestamp(new DuckDBTimestampValue(BigInt(wallMs(e.endMs, this.timeZone)) * 1000n));
        appender.appendVarchar(e.outcome);
        appender.endRow();
      }
      appender.closeSync();
      this.#txEnds = [];
    }
    for (const t of this.#tables.values()) {
      if (t.dirty.size > 0) {
        const keys = [...t.dirty];
        await this.#deleteKeys(duckName(t), t, keys);
        for (const k of keys) {
          const row = t.rows?.get(k);
          if (row) t.appends.push(row);
        }
        t.dirty.clear();
      }
      if (t.appends.length > 0) {
        await this.#appendRows(`${t.name}`, t.owner, t, t.appends);
        t.appends = [];
      }
    }
  }

  async #deleteKeys(target: string, t: TableState, keys: string[]): Promise<void> {
    const types = t.key.map((k) => t.columns.find((c) => c.name === k)!.type);
    for (let i = 0; i < keys.length; i += 500) {
      const predicate = keys
        .slice(i, i + 500)
        .map((k) => {
          const parts = JSON.parse(k) as (string | number)[];
          return `(${t.key.map((col, j) => `"${col}" = ${types[j]!.type === 'NUMBER' ? Number(parts[j]) : `'${String(parts[j]).replaceAll("'", "''")}'`}`).join(' AND ')})`;
        })
        .join(' OR ');
      await this.connection.run(`DELETE FROM ${target} WHERE ${predicate}`);
    }
  }

  async #appendRows(table: string, schema: string, t: TableState, rows: readonly ErpRow[]): Promise<void> {
    const appender = await this.connection.createAppender(table, schema);
    const columns = t.columns;
    for (const row of rows) {
      for (const col of columns) appendValue(appender, col.type, row[col.name] ?? null, this.timeZone);
      appender.endRow();
    }
    appender.closeSync();
  }
}

/** The faults a stand-in applies, first matching rule first. */
export class ErpFaults {
  #rules: { rule: ErpFaultRule; left: number }[] = [];

  inject(rule: ErpFaultRule): this {
    this.#rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  clear(): void {
    this.#rules = [];
  }

  /** The rule for `fault` without using it up (see `use`). */
  peek(fault: ErpFault): ErpFaultRule | undefined {
    return this.#rules.find((r) => r.left > 0 && r.rule.fault === fault)?.rule;
  }

  /** Uses up one application of a rule `peek` returned. */
  use(rule: ErpFaultRule): void {
    const hit = this.#rules.find((r) => r.rule === rule);
    if (hit) hit.left--;
  }

  /** The rule for `fault`, consuming one use of it. */
  take(fault: ErpFault): ErpFaultRule | undefined {
    const hit = this.#rules.find((r) => r.left > 0 && r.rule.fault === fault);
    if (!hit) return undefined;
    hit.left--;
    return hit.rule;
  }
}

function duckName(t: { owner: string; name: string }): string {
  return `"${t.owner}"."${t.name}"`;
}

/** NUMBER(p,0) as BIGINT, other NUMBERs as DOUBLE, DATE and TIMESTAMP as TIMESTAMP (server wall time). */
function duckType(type: OracleType): string {
  switch (type.type) {
    case 'NUMBER':
      return type.scale === 0 ? 'BIGINT' : 'DOUBLE';
    case 'DATE':
    case 'TIMESTAMP':
      return 'TIMESTAMP';
    default:
      return 'VARCHAR';
  }
}

const wallMs = (utcMs: number, zone: string) => utcMs + zoneOffsetMs(zone, utcMs);

function appendNullable(appender: DuckDBAppender, value: string | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}

function appendValue(appender: DuckDBAppender, type: OracleType, value: ErpValue, zone: string): void {
  if (value === null || value === undefined) {
    appender.appendNull();
    return;
  }
  switch (type.type) {
    case 'NUMBER':
      if (type.scale === 0) appender.appendBigInt(BigInt(Math.round(Number(value))));
      else appender.appendDouble(Number(value));
      return;
    case 'DATE':
    case 'TIMESTAMP': {
      const ms = value instanceof Date ? value.getTime() : Number(value);
      const truncated = type.type === 'DATE' ? Math.floor(ms / 1000) * 1000 : ms;
      appender.appendTimestamp(new DuckDBTimestampValue(BigInt(wallMs(truncated, zone)) * 1000n));
      return;
    }
    default:
      appender.appendVarchar(String(value));
  }
}

function nullRow(t: TableState): ErpRow {
  const row: ErpRow = {};
  for (const c of t.columns) row[c.name] = null;
  return row;
}

function keyText(t: { key: readonly string[] }, row: ErpRow): string {
  return JSON.stringify(t.key.map((k) => row[k] ?? null));
}

function sameValue(a: ErpValue | undefined, b: ErpValue | undefined): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

/** A ROWID-looking id: data object, file, block and row, base64 as Oracle prints them. */
function rowIdOf(t: TableState, row: ErpRow): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const enc = (n: number, width: number) => {
    let s = '';
    for (let i = 0; i < width; i++) {
      s = alphabet[n % 64]! + s;
      n = Math.floor(n / 64);
    }
    return s;
  };
  const h = hashString(keyText(t, row));
  return `${enc(t.objectId, 6)}${enc(4, 3)}${enc(h >>> 8, 6)}${enc(h & 0xff, 3)}`;
}

/** A literal as LogMiner writes it in SQL_REDO: numbers and text quoted, dates through TO_DATE/TO_TIMESTAMP. */
function literal(type: OracleType, value: ErpValue, zone: string): string {
  if (value === null || value === undefined) return 'NULL';
  switch (type.type) {
    case 'NUMBER':
      return `'${oracleNumberText(Number(value))}'`;
    case 'DATE':
      return `TO_DATE('${formatOracleDateTime(value instanceof Date ? value : new Date(Number(value)), zone)}', 'YYYY-MM-DD HH24:MI:SS')`;
    case 'TIMESTAMP':
      return `TO_TIMESTAMP('${formatOracleDateTime(value instanceof Date ? value : new Date(Number(value)), zone, true)}')`;
    default:
      return `'${String(value).replaceAll("'", "''")}'`;
  }
}

function insertSql(t: TableState, row: ErpRow, zone: string): string {
  const cols = t.columns.map((c) => `"${c.name}"`).join(',');
  const values = t.columns.map((c) => literal(c.type, row[c.name] ?? null, zone)).join(',');
  return `insert into "${t.owner}"."${t.name}"(${cols}) values (${values});`;
}

/** With supplemental logging of all columns, the WHERE clause holds every old value except LOBs. */
function wherePredicates(t: TableState, before: ErpRow, zone: string): string {
  return t.columns
    .filter((c) => c.type.type !== 'CLOB')
    .map((c) => {
      const v = before[c.name] ?? null;
      return v === null ? `"${c.name}" IS NULL` : `"${c.name}" = ${literal(c.type, v, zone)}`;
    })
    .join(' and ');
}

function updateSql(t: TableState, set: ErpRow, before: ErpRow, zone: string): string {
  const assignments = Object.entries(set)
    .map(
      ([name, value]) => `"${name}" = ${literal(t.columns.find((c) => c.name === name)!.type, value, zone)}`,
    )
    .join(', ');
  return `update "${t.owner}"."${t.name}" set ${assignments} where ${wherePredicates(t, before, zone)};`;
}

function deleteSql(t: TableState, before: ErpRow, zone: string): string {
  return `delete from "${t.owner}"."${t.name}" where ${wherePredicates(t, before, zone)};`;
}

function splitPieces(sql: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sql.length; i += SQL_REDO_PIECE) out.push(sql.slice(i, i + SQL_REDO_PIECE));
  return out;
}
