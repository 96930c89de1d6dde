import type { LogMinerRow } from './logminer-row.js';

/**
 * Builds V$LOGMNR_CONTENTS rows for the tests, shaped as the connector's select list returns them
 * (buffered mode: START_SCN/COMMIT_SCN null). Each helper takes the SCN and XID first because those
 * are what a test is about; the rest defaults to a plain INV.MTL_SYSTEM_ITEMS_B change.
 */

const at = (iso: string) => new Date(iso);
let nextRsBlock = 1;

/** A fixed-width RS_ID like LogMiner prints: " 0x000001.0000000a.0010 ". */
export function rsId(block: number): string {
  return ` 0x000001.${block.toString(16).padStart(8, '0')}.0010 `;
}

export function logMinerRow(overrides: Partial<LogMinerRow> & Pick<LogMinerRow, 'SCN' | 'XID'>): LogMinerRow {
  return {
    START_SCN: null,
    COMMIT_SCN: null,
    TIMESTAMP: at('2026-11-23T06:00:00Z'),
    COMMIT_TIMESTAMP: null,
    CSF: 0,
    OPERATION: 'INSERT',
    OPERATION_CODE: 1,
    SEG_OWNER: 'INV',
    TABLE_NAME: 'MTL_SYSTEM_ITEMS_B',
    ROW_ID: null,
    ROLLBACK: 0,
    SQL_REDO: null,
    RS_ID: rsId(nextRsBlock++),
    SSN: 0,
    INFO: null,
    ...overrides,
  };
}

export function startRow(scn: string, xid: string): LogMinerRow {
  return logMinerRow({
    SCN: scn,
    XID: xid,
    OPERATION: 'START',
    OPERATION_CODE: 6,
    SEG_OWNER: null,
    TABLE_NAME: null,
    SQL_REDO: 'set transaction read write;',
  });
}

export function commitRow(scn: string, xid: string, timestamp = '2026-11-23T06:05:00Z'): LogMinerRow {
  return logMinerRow({
    SCN: scn,
    XID: xid,
    TIMESTAMP: at(timestamp),
    OPERATION: 'COMMIT',
    OPERATION_CODE: 7,
    SEG_OWNER: null,
    TABLE_NAME: null,
    SQL_REDO: 'commit;',
  });
}

export function rollbackRow(scn: string, xid: string): LogMinerRow {
  return logMinerRow({
    SCN: scn,
    XID: xid,
    OPERATION: 'ROLLBACK',
    OPERATION_CODE: 36,
    SEG_OWNER: null,
    TABLE_NAME: null,
    SQL_REDO: 'rollback;',
  });
}

/** An insert of item `id` with `segment1` into INV.MTL_SYSTEM_ITEMS_B at ROWID `rowId`. */
export function insertRow(
  scn: string,
  xid: string,
  id: string,
  rowId: string,
  segment1 = 'AUR-1',
): LogMinerRow {
  return logMinerRow({
    SCN: scn,
    XID: xid,
    ROW_ID: rowId,
    SQL_REDO: `insert into "INV"."MTL_SYSTEM_ITEMS_B"("INVENTORY_ITEM_ID","SEGMENT1") values ('${id}','${segment1}');`,
  });
}

export function updateRow(
  scn: string,
  xid: string,
  id: string,
  rowId: string,
  from: string,
  to: string,
): LogMinerRow {
  return logMinerRow({
    SCN: scn,
    XID: xid,
    ROW_ID: rowId,
    OPERATION: 'UPDATE',
    OPERATION_CODE: 3,
    SQL_REDO: `update "INV"."MTL_SYSTEM_ITEMS_B" set "SEGMENT1" = '${to}' where "INVENTORY_ITEM_ID" = '${id}' and "SEGMENT1" = '${from}';`,
  });
}

export function deleteRow(scn: string, xid: string, id: string, rowId: string): LogMinerRow {
  return logMinerRow({
    SCN: scn,
    XID: xid,
    ROW_ID: rowId,
    OPERATION: 'DELETE',
    OPERATION_CODE: 2,
    SQL_REDO: `delete from "INV"."MTL_SYSTEM_ITEMS_B" where "INVENTORY_ITEM_ID" = '${id}';`,
  });
}
