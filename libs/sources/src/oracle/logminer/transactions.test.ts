import { describe, expect, it } from 'vitest';
import {
  commitRow,
  deleteRow,
  insertRow,
  logMinerRow,
  rollbackRow,
  rsId,
  startRow,
  updateRow,
} from './logminer-rows.fixture.js';
import { assembleTransactions, type LogMinerChange } from './transactions.js';

const T1 = '0A001100C2030000';
const T2 = '0B001200D3040000';
const T3 = '0C001300E4050000';
const window = { fromScn: '1000', toScn: '2000' };

/** The essentials of each change, to compare whole sequences exactly. */
function summary(changes: LogMinerChange[]) {
  return changes.map((c) => `${c.xid.slice(0, 2)} ${c.op} ${c.rowId} scn=${c.scn} commit=${c.commitScn}`);
}

describe('assembleTransactions', () => {
  it('emits one committed transaction with every field of its changes', () => {
    const result = assembleTransactions(
      [
        startRow('1001', T1),
        insertRow('1002', T1, '7', 'AAAR1', 'AUR-7'),
        updateRow('1003', T1, '7', 'AAAR1', 'AUR-7', 'AUR-8'),
        deleteRow('1004', T1, '7', 'AAAR1'),
        commitRow('1005', T1, '2026-11-23T06:05:00Z'),
      ],
      window,
    );
    expect(JSON.parse(JSON.stringify(result.changes))).toStrictEqual([
      {
        op: 'I',
        owner: 'INV',
        table: 'MTL_SYSTEM_ITEMS_B',
        rowId: 'AAAR1',
        scn: '1002',
        rsId: expect.any(String),
        ssn: 0,
        commitScn: '1005',
        commitTimestamp: '2026-11-23T06:05:00.000Z',
        xid: T1,
        before: null,
        after: { INVENTORY_ITEM_ID: '7', SEGMENT1: 'AUR-7' },
      },
      {
        op: 'U',
        owner: 'INV',
        table: 'MTL_SYSTEM_ITEMS_B',
        rowId: 'AAAR1',
        scn: '1003',
        rsId: expect.any(String),
        ssn: 0,
        commitScn: '1005',
        commitTimestamp: '2026-11-23T06:05:00.000Z',
        xid: T1,
        before: { INVENTORY_ITEM_ID: '7', SEGMENT1: 'AUR-7' },
        after: { SEGMENT1: 'AUR-8' },
      },
      {
        op: 'D',
        owner: 'INV',
        table: 'MTL_SYSTEM_ITEMS_B',
        rowId: 'AAAR1',
        scn: '1004',
        rsId: expect.any(String),
        ssn: 0,
        commitScn: '1005',
        commitTimestamp: '2026-11-23T06:05:00.000Z',
        xid: T1,
        before: { INVENTORY_ITEM_ID: '7' },
        after: null,
      },
    ]);
    expect(result).toMatchObject({
      report: [],
      open: [],
      rolledBackXids: [],
      alreadyEmittedXids: [],
      lowWatermarkScn: '2000',
      lastCommitScn: '1005',
    });
  });

  it('emits interleaved transactions in commit order, each in SCN/RS_ID/SSN order', () => {
    const result = assembleTransactions(
      [
        startRow('1001', T1),
        insertRow('1002', T1, '1', 'R1'),
        startRow('1003', T2),
        insertRow('1004', T2, '2', 'R2'),
        insertRow('1005', T1, '3', 'R3'),
        // same SCN: RS_ID then SSN decide, whatever order the rows came in
        logMinerRow({ ...insertRow('1006', T2, '5', 'R5'), RS_ID: rsId(70), SSN: 2 }),
        logMinerRow({ ...insertRow('1006', T2, '4', 'R4'), RS_ID: rsId(70), SSN: 1 }),
        logMinerRow({ ...insertRow('1006', T2, '6', 'R6'), RS_ID: rsId(71), SSN: 0 }),
        commitRow('1007', T2),
        commitRow('1008', T1),
      ],
      window,
    );
    expect(summary(result.changes)).toStrictEqual([
      '0B I R2 scn=1004 commit=1007',
      '0B I R4 scn=1006 commit=1007',
      '0B I R5 scn=1006 commit=1007',
      '0B I R6 scn=1006 commit=1007',
      '0A I R1 scn=1002 commit=1008',
      '0A I R3 scn=1005 commit=1008',
    ]);
    expect(result.lastCommitScn).toBe('1008');
  });

  it('compares SCNs as numbers, not as text, beyond 2^53', () => {
    const big = '18446744073709551000';
    const result = assembleTransactions(
      [
        insertRow('999999999999999999', T1, '1', 'R1'),
        commitRow('18446744073709550999', T1),
        insertRow('9999999999999999999', T2, '2', 'R2'),
        commitRow(big, T2),
      ],
      { fromScn: '99999999999999999', toScn: big },
    );
    expect(summary(result.changes)).toStrictEqual([
      '0A I R1 scn=999999999999999999 commit=18446744073709550999',
      '0B I R2 scn=9999999999999999999 commit=18446744073709551000',
    ]);
  });

  it('leaves out rolled-back transactions entirely', () => {
    const result = assembleTransactions(
      [
        startRow('1001', T1),
        insertRow('1002', T1, '1', 'R1'),
        startRow('1003', T2),
        insertRow('1004', T2, '2', 'R2'),
        rollbackRow('1005', T1),
        commitRow('1006', T2),
      ],
      window,
    );
    expect(summary(result.changes)).toStrictEqual(['0B I R2 scn=1004 commit=1006']);
    expect(result.rolledBackXids).toStrictEqual([T1]);
    expect(result.open).toStrictEqual([]);
  });

  it('applies a partial rollback to the latest change of the same ROWID only', () => {
    const undo = (scn: string, rowId: string, id: string) =>
      logMinerRow({ ...deleteRow(scn, T1, id, rowId), ROLLBACK: 1 });
    const result = assembleTransactions(
      [
        startRow('1001', T1),
        insertRow('1002', T1, '1', 'R1'),
        updateRow('1003', T1, '1', 'R1', 'AUR-1', 'AUR-2'),
        insertRow('1004', T1, '2', 'R2'),
        // the update of R1 failed (say, a constraint): Oracle logs its undo with ROLLBACK=1
        logMinerRow({ ...updateRow('1005', T1, '1', 'R1', 'AUR-2', 'AUR-1'), ROLLBACK: 1 }),
        // an undo with nothing to undo is reported, not applied elsewhere
        undo('1006', 'R9', '9'),
        commitRow('1007', T1),
      ],
      window,
    );
    expect(summary(result.changes)).toStrictEqual([
      '0A I R1 scn=1002 commit=1007',
      '0A I R2 scn=1004 commit=1007',
    ]);
    expect(result.report.map((e) => [e.kind, e.scn, e.rowId])).toStrictEqual([
      ['unmatched_undo', '1006', 'R9'],
    ]);
  });

  it('reports open transactions and holds the low watermark at the oldest start', () => {
    const result = assembleTransactions(
      [
        startRow('1001', T1),
        insertRow('1002', T1, '1', 'R1'),
        startRow('1003', T2),
        insertRow('1004', T2, '2', 'R2'),
        insertRow('1005', T2, '3', 'R3'),
        // T3 came without a START row: its first row counts as the start
        insertRow('1006', T3, '4', 'R4'),
        commitRow('1007', T1),
      ],
      window,
    );
    expect(summary(result.changes)).toStrictEqual(['0A I R1 scn=1002 commit=1007']);
    expect(result.open).toStrictEqual([
      { xid: T2, startScn: '1003', changeCount: 2 },
      { xid: T3, startScn: '1006', changeCount: 1 },
    ]);
    expect(result.lowWatermarkScn).toBe('1003');
  });

  it('takes START_SCN when LogMiner supplies it (committed-data-only mode)', () => {
    const result = assembleTransactions(
      [logMinerRow({ ...insertRow('1500', T2, '2', 'R2'), START_SCN: '1200' })],
      window,
    );
    expect(result.open).toStrictEqual([{ xid: T2, startScn: '1200', changeCount: 1 }]);
    expect(result.lowWatermarkScn).toBe('1200');
  });

  it('completes a transaction from the overlap mined below fromScn, and skips ones already emitted', () => {
    // previous window (.., 1000] left T2 open from 900; this run mines from 900
    const result = assembleTransactions(
      [
        startRow('900', T2),
        insertRow('901', T2, '2', 'R2'),
        startRow('950', T1),
        insertRow('951', T1, '1', 'R1'),
        commitRow('990', T1), // emitted by the previous window
        logMinerRow({ ...startRow('995', T3), OPERATION_CODE: 5, OPERATION: 'DDL', INFO: 'USER DDL' }),
        insertRow('1100', T2, '3', 'R3'),
        commitRow('1200', T2),
      ],
      window,
    );
    expect(summary(result.changes)).toStrictEqual([
      '0B I R2 scn=901 commit=1200',
      '0B I R3 scn=1100 commit=1200',
    ]);
    expect(result.alreadyEmittedXids).toStrictEqual([T1]);
    expect(result.report).toStrictEqual([]); // the DDL at 995 was reported by the previous window
    expect(result.lowWatermarkScn).toBe('2000');
  });

  it('reports DDL, MISSING_SCN, UNSUPPORTED and unknown op codes instead of dropping them', () => {
    const result = assembleTransactions(
      [
        logMinerRow({
          SCN: '1001',
          XID: T1,
          OPERATION: 'DDL',
          OPERATION_CODE: 5,
          INFO: 'USER DDL (PlSql=0 RecDep=0)',
          SQL_REDO: 'alter table "INV"."T" add ("C" number);',
        }),
        logMinerRow({
          SCN: '1002',
          XID: '0000000000000000',
          OPERATION: 'MISSING_SCN',
          OPERATION_CODE: 34,
          SEG_OWNER: null,
          TABLE_NAME: null,
        }),
        logMinerRow({
          SCN: '1003',
          XID: T2,
          OPERATION: 'UNSUPPORTED',
          OPERATION_CODE: 255,
          ROW_ID: 'R7',
          INFO: 'Unsupported (Type=...)',
          SQL_REDO: 'Unsupported',
        }),
        logMinerRow({ SCN: '1004', XID: T2, OPERATION: 'LOB_WRITE', OPERATION_CODE: 10 }),
        commitRow('1005', T2),
      ],
      window,
    );
    expect(result.report.map((e) => [e.kind, e.scn, e.xid, e.operationCode, e.info, e.sql])).toStrictEqual([
      ['ddl', '1001', T1, 5, 'USER DDL (PlSql=0 RecDep=0)', 'alter table "INV"."T" add ("C" number);'],
      ['missing_scn', '1002', '0000000000000000', 34, null, null],
      ['unsupported', '1003', T2, 255, 'Unsupported (Type=...)', 'Unsupported'],
      ['unsupported', '1004', T2, 10, null, null],
    ]);
    // the all-zero XID of MISSING_SCN does not become an open transaction pinning the watermark
    expect(result.open).toStrictEqual([]);
    expect(result.lowWatermarkScn).toBe('2000');
  });

  it('reports an unparseable DML of a committed transaction and keeps the rest', () => {
    const bad = logMinerRow({
      SCN: '1002',
      XID: T1,
      ROW_ID: 'R2',
      SQL_REDO: `insert into "INV"."T"("C") values ('x`,
    });
    const result = assembleTransactions(
      [insertRow('1001', T1, '1', 'R1'), bad, insertRow('1003', T1, '3', 'R3'), commitRow('1004', T1)],
      window,
    );
    expect(summary(result.changes)).toStrictEqual([
      '0A I R1 scn=1001 commit=1004',
      '0A I R3 scn=1003 commit=1004',
    ]);
    expect(result.report).toStrictEqual([
      {
        kind: 'unparseable',
        scn: '1002',
        xid: T1,
        operationCode: 1,
        operation: 'INSERT',
        owner: 'INV',
        table: 'MTL_SYSTEM_ITEMS_B',
        rowId: 'R2',
        info: null,
        sql: `insert into "INV"."T"("C") values ('x`,
        error: {
          code: 'source.data_invalid',
          message: 'SQL_REDO not understood: unterminated quoted string literal at offset 35',
        },
      },
    ]);
  });

  it('joins continuation rows before parsing them', () => {
    const sql = `insert into "INV"."MTL_SYSTEM_ITEMS_B"("INVENTORY_ITEM_ID","DESCRIPTION") values ('9','${'x'.repeat(9000)}');`;
    const piece = (i: number, csf: number) =>
      logMinerRow({
        SCN: '1001',
        XID: T1,
        ROW_ID: 'R9',
        RS_ID: rsId(99),
        SSN: 1,
        CSF: csf,
        SQL_REDO: sql.slice(i * 4000, (i + 1) * 4000),
      });
    const result = assembleTransactions(
      [
        piece(0, 1),
        insertRow('1001', T2, '1', 'R1'),
        piece(1, 1),
        piece(2, 0),
        commitRow('1002', T2),
        commitRow('1003', T1),
      ],
      window,
    );
    expect(summary(result.changes)).toStrictEqual([
      '0B I R1 scn=1001 commit=1002',
      '0A I R9 scn=1001 commit=1003',
    ]);
    expect(result.changes[1]!.after!['DESCRIPTION']).toBe('x'.repeat(9000));
  });

  it('refuses a malformed window and rows above toScn', () => {
    expect(() => assembleTransactions([], { fromScn: '2000', toScn: '1000' })).toThrow(/invalid SCN window/);
    expect(() => assembleTransactions([], { fromScn: '01', toScn: '1000' })).toThrow(/invalid SCN window/);
    expect(() => assembleTransactions([insertRow('2001', T1, '1', 'R1')], window)).toThrow(
      "LogMiner row SCN 2001 is above the window's toScn 2000",
    );
    expect(() => assembleTransactions([insertRow('1e3', T1, '1', 'R1')], window)).toThrow(/malformed SCN/);
  });

  it('returns an empty window with the watermark at toScn', () => {
    expect(assembleTransactions([], window)).toStrictEqual({
      changes: [],
      report: [],
      open: [],
      rolledBackXids: [],
      alreadyEmittedXids: [],
      lowWatermarkScn: '2000',
      lastCommitScn: null,
    });
  });
});
