import type { Scn } from './scn.js';

/**
 * One row of `V$LOGMNR_CONTENTS` as the connector selects it with {@link LOGMINER_CONTENTS_SELECT_LIST}
 * through node-oracledb. Column names keep Oracle's spelling so a fetched row (`outFormat: OBJECT`) is a
 * `LogMinerRow` without mapping.
 *
 * Types follow what node-oracledb returns for that select list:
 * - SCN columns are fetched with `TO_CHAR` and arrive as canonical decimal strings ({@link Scn} says why).
 * - `XID` is `RAW(8)`, which node-oracledb returns as a Buffer; the select list converts it with
 *   `RAWTOHEX`, so it arrives as 16 upper-case hex digits (USN, slot, sequence). A string is a usable map
 *   key and JSON value, and it matches the `txId` Debezium writes.
 * - DATE columns (`TIMESTAMP`, `COMMIT_TIMESTAMP`) arrive as JS `Date`s in the application's time zone,
 *   with millisecond precision.
 * - Small NUMBERs (`CSF`, `OPERATION_CODE`, `ROLLBACK`, `SSN`) arrive as JS numbers.
 */
export interface LogMinerRow {
  /** SCN at which the change was made. */
  SCN: Scn;
  /** SCN at which the transaction started; filled only in COMMITTED_DATA_ONLY mode, else null. */
  START_SCN: Scn | null;
  /** SCN at which the transaction committed; filled only in COMMITTED_DATA_ONLY mode, else null. */
  COMMIT_SCN: Scn | null;
  /** Time of the change in the database's clock. */
  TIMESTAMP: Date;
  /** Commit time; filled only in COMMITTED_DATA_ONLY mode, else null. */
  COMMIT_TIMESTAMP: Date | null;
  /** Transaction id: `RAWTOHEX(XID)`, 16 upper-case hex digits. */
  XID: string;
  /** 1 when `SQL_REDO` continues in the next row of the same statement (same RS_ID and SSN), else 0. */
  CSF: number;
  /** Operation name as LogMiner spells it (`INSERT`, `COMMIT`, `UNSUPPORTED`, ...): for reports only. */
  OPERATION: string;
  /** Operation code; see {@link OPERATION_CODE}. */
  OPERATION_CODE: number;
  /** Schema owning the changed segment (`INV`, `WIP`, `ONT`; not `APPS`); null for START/COMMIT rows. */
  SEG_OWNER: string | null;
  TABLE_NAME: string | null;
  /** ROWID of the changed row; with NO_ROWID_IN_STMT this is the only place it appears. */
  ROW_ID: string | null;
  /** 1 when this row undoes an earlier change of the same transaction (a partial rollback), else 0. */
  ROLLBACK: number;
  /** The statement, or one piece of it when `CSF` is 1 (VARCHAR2(4000)). */
  SQL_REDO: string | null;
  /** Record set id, e.g. `" 0x000084.00000f4d.0010 "`: fixed-width hex, so it orders as a string. */
  RS_ID: string;
  /** SQL sequence number: tells apart the statements of one redo record and joins continuation rows. */
  SSN: number;
  /** LogMiner's note on the row (DDL kind, why a row is UNSUPPORTED); null when there is none. */
  INFO: string | null;
}

/** The `V$LOGMNR_CONTENTS` operation codes this module knows (Debezium's `EventType`). */
export const OPERATION_CODE = {
  INSERT: 1,
  DELETE: 2,
  UPDATE: 3,
  DDL: 5,
  START: 6,
  COMMIT: 7,
  SELECT_LOB_LOCATOR: 9,
  LOB_WRITE: 10,
  LOB_TRIM: 11,
  LOB_ERASE: 29,
  MISSING_SCN: 34,
  ROLLBACK: 36,
  UNSUPPORTED: 255,
} as const;

/**
 * The select list that produces {@link LogMinerRow}s: SCNs as text so no digit is lost, XID as hex text.
 * The connector's query is `SELECT ${LOGMINER_CONTENTS_SELECT_LIST} FROM V$LOGMNR_CONTENTS WHERE ...`;
 * keeping the list here keeps the query and the row type from drifting apart.
 */
export const LOGMINER_CONTENTS_SELECT_LIST = [
  'TO_CHAR(SCN) AS SCN',
  'TO_CHAR(START_SCN) AS START_SCN',
  'TO_CHAR(COMMIT_SCN) AS COMMIT_SCN',
  'TIMESTAMP',
  'COMMIT_TIMESTAMP',
  'RAWTOHEX(XID) AS XID',
  'CSF',
  'OPERATION',
  'OPERATION_CODE',
  'SEG_OWNER',
  'TABLE_NAME',
  'ROW_ID',
  'ROLLBACK',
  'SQL_REDO',
  'RS_ID',
  'SSN',
  'INFO',
].join(', ');
