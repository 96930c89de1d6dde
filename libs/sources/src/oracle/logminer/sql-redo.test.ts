import { SourceDataError } from '@aurora/core';
import { describe, expect, it } from 'vitest';
import { parseSqlRedo } from './sql-redo.js';

/** Plain JSON values for toStrictEqual, so typed values compare by content. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function parseError(sql: string): SourceDataError {
  try {
    parseSqlRedo(sql);
  } catch (error) {
    if (error instanceof SourceDataError) return error;
    throw error;
  }
  throw new Error(`expected ${sql.slice(0, 80)} to be rejected`);
}

describe('parseSqlRedo', () => {
  it('parses an insert into all its columns', () => {
    const parsed = parseSqlRedo(
      `insert into "INV"."MTL_SYSTEM_ITEMS_B"("INVENTORY_ITEM_ID","SEGMENT1") values ('123','ABC');`,
    );
    expect(plain(parsed)).toStrictEqual({
      op: 'I',
      owner: 'INV',
      table: 'MTL_SYSTEM_ITEMS_B',
      after: { INVENTORY_ITEM_ID: '123', SEGMENT1: 'ABC' },
      before: null,
    });
  });

  it('parses an update into SET columns (after) and WHERE columns (before)', () => {
    const parsed = parseSqlRedo(
      `update "INV"."T" set "COL2" = 'new', "COL3" = NULL where "ID" = '1' and "COL2" = 'old' and "COL3" IS NULL;`,
    );
    expect(plain(parsed)).toStrictEqual({
      op: 'U',
      owner: 'INV',
      table: 'T',
      after: { COL2: 'new', COL3: null },
      before: { ID: '1', COL2: 'old', COL3: null },
    });
  });

  it('parses a delete into its WHERE columns, with IS NULL as null', () => {
    const parsed = parseSqlRedo(`delete from "INV"."T" where "ID" = '1' and "C2" IS NULL;`);
    expect(plain(parsed)).toStrictEqual({
      op: 'D',
      owner: 'INV',
      table: 'T',
      after: null,
      before: { ID: '1', C2: null },
    });
  });

  it('reads every literal kind as a typed value, never evaluated', () => {
    const parsed = parseSqlRedo(
      'insert into "WIP"."WIP_DISCRETE_JOBS"("S","Q","N","NEG","EXP","D","TS","TSTZ","TS1","R","CL","BL","U","NUL","NAT") values (' +
        "'O''Brien','',42,-1.5,2.5E-3," +
        "TO_DATE('2025-01-01 10:00:00','YYYY-MM-DD HH24:MI:SS')," +
        "TO_TIMESTAMP('2025-01-01 10:00:00.123456','YYYY-MM-DD HH24:MI:SS.FF')," +
        "TO_TIMESTAMP_TZ('2025-01-01 10:00:00.5 +01:00','YYYY-MM-DD HH24:MI:SS.FF TZH:TZM')," +
        "TO_TIMESTAMP('2025-01-01 10:00:00')," +
        "HEXTORAW('0a0B'),EMPTY_CLOB(),EMPTY_BLOB(),unistr('caf\\00e9 \\\\ \\d83d\\de00'),NULL,N'Gr''n');",
    );
    expect(plain(parsed.after)).toStrictEqual({
      S: "O'Brien",
      Q: '',
      N: { kind: 'number', text: '42' },
      NEG: { kind: 'number', text: '-1.5' },
      EXP: { kind: 'number', text: '2.5E-3' },
      D: { kind: 'date', text: '2025-01-01 10:00:00', format: 'YYYY-MM-DD HH24:MI:SS' },
      TS: { kind: 'timestamp', text: '2025-01-01 10:00:00.123456', format: 'YYYY-MM-DD HH24:MI:SS.FF' },
      TSTZ: {
        kind: 'timestamp_tz',
        text: '2025-01-01 10:00:00.5 +01:00',
        format: 'YYYY-MM-DD HH24:MI:SS.FF TZH:TZM',
      },
      TS1: { kind: 'timestamp', text: '2025-01-01 10:00:00', format: null },
      R: { kind: 'raw', hex: '0A0B' },
      CL: { kind: 'empty_lob', lob: 'CLOB' },
      BL: { kind: 'empty_lob', lob: 'BLOB' },
      U: 'café \\ 😀',
      NUL: null,
      NAT: "Gr'n",
    });
  });

  it('joins || chains of string literals and UNISTR into one string', () => {
    const parsed = parseSqlRedo(
      `update "AR"."HZ_PARTIES" set "PARTY_NAME" = 'M' || UNISTR('\\00fc') || 'ller' where "PARTY_ID" = '7';`,
    );
    expect(plain(parsed.after)).toStrictEqual({ PARTY_NAME: 'Müller' });
  });

  it('reads quoted identifiers with spaces, dots and doubled quotes, and upper-cases unquoted ones', () => {
    const parsed = parseSqlRedo(
      `insert into "UNKNOWN"."OBJ# 45522"("COL 1","a ""b"".c",plain_col) values ('1','2','3');`,
    );
    expect(parsed.owner).toBe('UNKNOWN');
    expect(parsed.table).toBe('OBJ# 45522');
    expect(plain(parsed.after)).toStrictEqual({ 'COL 1': '1', 'a "b".c': '2', PLAIN_COL: '3' });
  });

  it('keeps hostile column names as ordinary keys', () => {
    const parsed = parseSqlRedo(`insert into "O"."T"("__proto__","constructor") values ('x','y');`);
    expect(Object.getPrototypeOf(parsed.after)).toBe(Object.prototype);
    expect(Object.entries(parsed.after!)).toStrictEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });

  it('accepts any keyword case, extra whitespace and a missing semicolon', () => {
    const parsed = parseSqlRedo(`  DELETE\n FROM "INV"."T"\r\n WHERE "ID" =\t'1'  AND "C" is null  ;  \n`);
    expect(plain(parsed)).toStrictEqual({
      op: 'D',
      owner: 'INV',
      table: 'T',
      after: null,
      before: { ID: '1', C: null },
    });
    expect(parseSqlRedo(`delete from "INV"."T" where "ID" = '1'`).op).toBe('D');
  });

  it('skips an unquoted ROWID predicate but keeps a column named "ROWID"', () => {
    const parsed = parseSqlRedo(
      `update "INV"."T" set "A" = '2' where "A" = '1' and ROWID = 'AAAR3sAAEAAAACXAAA' and "ROWID" = 'x';`,
    );
    expect(plain(parsed.before)).toStrictEqual({ A: '1', ROWID: 'x' });
  });

  it('keeps an injection-looking value as one plain string', () => {
    const parsed = parseSqlRedo(`insert into "O"."T"("C","D") values ('x''); drop table t; --','after');`);
    expect(plain(parsed.after)).toStrictEqual({ C: "x'); drop table t; --", D: 'after' });
  });

  it('parses a 1 MB statement and keeps the long value whole', () => {
    const long = "ab'".repeat(350_000); // 1.05 M characters, every third one a quote to double
    const sql = `insert into "O"."T"("ID","NOTE") values ('1','${long.replaceAll("'", "''")}');`;
    expect(sql.length).toBeGreaterThan(1_000_000);
    const parsed = parseSqlRedo(sql);
    expect(parsed.after!['NOTE']).toBe(long);

    const columns = Array.from({ length: 20_000 }, (_, i) => `"C${i}"`).join(',');
    const values = Array.from({ length: 20_000 }, (_, i) => `'v${i}'`).join(',');
    const wide = parseSqlRedo(`insert into "O"."T"(${columns}) values (${values});`);
    expect(Object.keys(wide.after!)).toHaveLength(20_000);
    expect(wide.after!['C19999']).toBe('v19999');
  });

  it.each([
    [
      'an unterminated string literal',
      `insert into "O"."T"("C") values ('abc);`,
      'unterminated quoted string literal',
    ],
    [
      'an unterminated doubled quote',
      `insert into "O"."T"("C") values ('abc''`,
      'unterminated quoted string literal',
    ],
    ['an unterminated identifier', `delete from "O"."T where ID = '1';`, 'unterminated quoted identifier'],
    [
      'garbage after the semicolon',
      `delete from "O"."T" where "ID" = '1'; drop table t;`,
      'unexpected text after the statement',
    ],
    [
      'a second statement',
      `delete from "O"."T" where "ID" = '1' delete`,
      'unexpected text after the statement',
    ],
    ['an unknown statement', `truncate table "O"."T";`, 'expected insert, update or delete'],
    ['DDL text', `create table "O"."T" ("C" number);`, 'expected insert, update or delete'],
    ['an unknown function', `insert into "O"."T"("C") values (SYSDATE());`, 'unsupported function SYSDATE'],
    ['a bare word', `insert into "O"."T"("C") values (abc);`, 'expected ('],
    ['fewer values than columns', `insert into "O"."T"("A","B") values ('1');`, '1 values for 2 columns'],
    [
      'more values than columns',
      `insert into "O"."T"("A") values ('1','2');`,
      'more values than the 1 columns',
    ],
    ['an update without WHERE', `update "O"."T" set "A" = '1';`, 'expected where'],
    ['a delete without WHERE', `delete from "O"."T";`, 'expected where'],
    ['IS NOT NULL', `delete from "O"."T" where "A" IS NOT NULL;`, 'expected null'],
    ['a table without owner', `delete from "T" where "A" = '1';`, 'expected .'],
    [
      'bad HEXTORAW',
      `insert into "O"."T"("A") values (HEXTORAW('0G'));`,
      'HEXTORAW argument is not hexadecimal',
    ],
    ['bad UNISTR', `insert into "O"."T"("A") values (UNISTR('\\00z1'));`, 'UNISTR escape is not \\XXXX'],
    ['a malformed number', `insert into "O"."T"("A") values (1.2.3);`, 'expected )'],
    ['|| with a non-string', `insert into "O"."T"("A") values ('a' || 1);`, '|| must join string literals'],
    ['an empty statement', '', 'expected insert, update or delete'],
  ])('rejects %s with a SourceDataError', (_name, sql, reason) => {
    const error = parseError(sql);
    expect(error.code).toBe('source.data_invalid');
    expect(error.details['reason']).toBe(reason);
    expect(error.details['sql']).toBe(sql);
  });

  it('carries only the start of a long rejected statement', () => {
    const sql = `insert into "O"."T"("C") values ('${'x'.repeat(100_000)}`;
    const error = parseError(sql);
    expect(error.details['offset']).toBe(33);
    expect(error.details['length']).toBe(sql.length);
    expect(error.details['sql']).toBe(`${sql.slice(0, 512)}… (${sql.length} characters)`);
  });

  it('parses 10,000 typical statements to the same values each time', () => {
    const sql = `update "INV"."MTL_ONHAND_QUANTITIES_DETAIL" set "PRIMARY_TRANSACTION_QUANTITY" = '12.5', "LAST_UPDATE_DATE" = TO_DATE('2026-11-23 06:00:00','YYYY-MM-DD HH24:MI:SS') where "ONHAND_QUANTITIES_ID" = '991' and "PRIMARY_TRANSACTION_QUANTITY" = '10' and "LOT_NUMBER" IS NULL;`;
    let quantities = 0;
    for (let i = 0; i < 10_000; i++) {
      if (parseSqlRedo(sql).after!['PRIMARY_TRANSACTION_QUANTITY'] === '12.5') quantities++;
    }
    expect(quantities).toBe(10_000);
  });
});
