import { SourceDataError } from '@aurora/core';
import { describe, expect, it } from 'vitest';
import { ContinuationJoiner, joinContinuations } from './continuations.js';
import { insertRow, logMinerRow, rsId } from './logminer-rows.fixture.js';

/** Splits `sql` into `count` pieces as rows with CSF=1 on all but the last, all sharing RS_ID/SSN. */
function pieces(sql: string, count: number, xid: string, block: number) {
  const size = Math.ceil(sql.length / count);
  return Array.from({ length: count }, (_, i) =>
    logMinerRow({
      SCN: '500',
      XID: xid,
      RS_ID: rsId(block),
      SSN: 3,
      ROW_ID: 'AAAR3sAAEAAAACXAAA',
      CSF: i < count - 1 ? 1 : 0,
      SQL_REDO: sql.slice(i * size, (i + 1) * size),
    }),
  );
}

const longInsert = `insert into "INV"."MTL_SYSTEM_ITEMS_B"("INVENTORY_ITEM_ID","DESCRIPTION") values ('1','${'d'.repeat(7000)}');`;

describe('joinContinuations', () => {
  it('joins a statement split over 2 rows into one row with CSF=0', () => {
    const [first, second] = pieces(longInsert, 2, '0A00110022003300', 900);
    const joined = joinContinuations([first!, second!]);
    expect(joined).toStrictEqual([{ ...first, CSF: 0, SQL_REDO: longInsert }]);
  });

  it('joins 5 pieces while rows of other transactions and statements interleave', () => {
    const a = pieces(longInsert, 5, '0A00110022003300', 901);
    const other = insertRow('500', '0B00110022003300', '2', 'AAAR3sAAEAAAACXAAB');
    const otherLong = pieces(longInsert.replace("'1'", "'3'"), 2, '0B00110022003300', 902);
    const joined = joinContinuations([
      a[0]!,
      a[1]!,
      other,
      otherLong[0]!,
      a[2]!,
      a[3]!,
      otherLong[1]!,
      a[4]!,
    ]);
    expect(joined.map((row) => [row.XID, row.CSF, row.SQL_REDO])).toStrictEqual([
      ['0B00110022003300', 0, other.SQL_REDO],
      ['0B00110022003300', 0, longInsert.replace("'1'", "'3'")],
      ['0A00110022003300', 0, longInsert],
    ]);
  });

  it('passes rows without continuations through unchanged and in order', () => {
    const rows = [insertRow('10', 'AA', '1', 'R1'), insertRow('11', 'BB', '2', 'R2')];
    expect(joinContinuations(rows)).toStrictEqual(rows);
    expect(joinContinuations(joinContinuations(rows))).toStrictEqual(rows);
  });

  it('rejects a window that ends inside a continued statement, naming the statement', () => {
    const [first] = pieces(longInsert, 3, '0A00110022003300', 903);
    let caught: unknown;
    try {
      joinContinuations([first!, insertRow('501', 'BB', '2', 'R2')]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SourceDataError);
    expect((caught as SourceDataError).details).toStrictEqual({
      xid: '0A00110022003300',
      scn: '500',
      rsId: rsId(903),
      ssn: 3,
      pieces: 1,
      sql: `${first!.SQL_REDO!.slice(0, 512)}… (${first!.SQL_REDO!.length} characters)`,
    });
  });

  it('holds a statement back across pages until its last piece arrives', () => {
    const [first, second] = pieces(longInsert, 2, '0A00110022003300', 904);
    const joiner = new ContinuationJoiner();
    expect(joiner.push(first!)).toBeUndefined();
    // page boundary: nothing is lost while the statement is open
    expect(joiner.push(second!)?.SQL_REDO).toBe(longInsert);
    expect(() => joiner.finish()).not.toThrow();
  });
});
