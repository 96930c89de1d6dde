import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { ErpModel, type ErpTransaction, PlantModel } from '@aurora/plant';
import {
  DEFAULT_ERP_TABLES,
  type ErpIngestionDeps,
  ErpStandIn,
  type OracleRow,
  type OracleSession,
  runErpIngestion,
  type Sealer,
} from '@aurora/sources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSentinel,
  type GoodBody,
  type HostileCase,
  hostileCorpus,
  prototypeState,
  type Sentinel,
} from './corpus.js';
import {
  deadLetters,
  expectBoundedHeap,
  expectLakeLayout,
  expectPrototypeUntouched,
  expectSentinelUnread,
  measureHeap,
  withDeadline,
} from './harness.js';

/**
 * ERP values: the LogMiner rows the ERP stand-in serves are the entry point. For every case a committed
 * transaction inserts a marked row into MTL_MATERIAL_TRANSACTIONS, and the session the connector reads
 * through (the stand-in's, wrapped) serves that row's SQL_REDO as the hostile statement instead: a value as
 * the literal of a VARCHAR2, a NUMBER, a NUMBER(15) id and a DATE column; a name as a column; a body as the
 * whole statement (split into 4,000-character continuation rows as LogMiner does). Each lands or is
 * dead-lettered with the statement; the run goes on; the stand-in's tables are all still there.
 */

const TABLE = 'INV.MTL_MATERIAL_TRANSACTIONS';
const FIRST_ID = 9_900_000_000;
const PIECE = 4000;

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
let sentinel: Sentinel;
let standIn: ErpStandIn;

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
  sentinel = await createSentinel();
});
afterAll(async () => {
  standIn?.close();
  codec?.close();
  await azurite?.close();
  await sentinel?.remove();
});

/** One hostile statement: the id it lands under when it lands, and the truth about its fate. */
interface Statement {
  id: number;
  label: string;
  sql: string;
  lands: boolean;
  /** Where the value lands, and what it must hold there. */
  column?: string;
  expected?: string | number | null;
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const insert = (id: number, columns: [string, string][]) =>
  `insert into "INV"."MTL_MATERIAL_TRANSACTIONS"("TRANSACTION_ID",${columns.map(([c]) => `"${c.replaceAll('"', '""')}"`).join(',')}) values ('${id}',${columns.map(([, v]) => v).join(',')});`;

/** An Oracle NUMBER literal as LogMiner quotes it: what a NUMBER column may hold. */
const ORACLE_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(E[+-]?\d+)?$/i;

/** The statements of one case. */
function statementsOf(c: HostileCase, next: () => number): Statement[] {
  if (c.form === 'body') {
    const id = next();
    const good: GoodBody = {
      syntax: 'json',
      marker: 'HOSTILE-MARKER',
      text: insert(id, [['TRANSACTION_REFERENCE', "'HOSTILE-MARKER'"]]),
    };
    // The driver hands text over: bytes that are not UTF-8 arrive as U+FFFD.
    const sql = c.bytes(good).toString('utf8');
    // Inside the literal, any character is data (a NUL too, and an entity reference): those land.
    const lands = [
      'malformed/invalid-utf8',
      'malformed/nul-bytes',
      'wrong-encoding/latin1',
      'wrong-encoding/overlong-utf8',
      'wrong-encoding/surrogate-bytes',
      'xml-entities/undefined-entity',
    ].includes(c.id);
    return [{ id, label: `${c.id} as the statement`, sql, lands }];
  }
  if (c.form === 'key') {
    const id = next();
    const name = c.key('TRANSACTION_REFERENCE');
    // No such column in the data dictionary: the change cannot land and is dead-lettered whole.
    return [{ id, label: `${c.id} as a column`, sql: insert(id, [[name, quote(c.json)]]), lands: false }];
  }
  const text = c.text();
  const asText = next();
  const asNumber = next();
  const asId = next();
  const asDate = next();
  // An empty text is NULL to Oracle, in any column.
  const empty = text.trim() === '';
  const number = ORACLE_NUMBER.test(text.trim()) ? Number(text) : undefined;
  return [
    {
      id: asText,
      label: `${c.id} in a VARCHAR2`,
      sql: insert(asText, [['TRANSACTION_REFERENCE', quote(text)]]),
      lands: true,
      column: 'TRANSACTION_REFERENCE',
      // What the wire can carry: an unpaired surrogate is not UTF-8.
      expected: Buffer.from(text).toString('utf8'),
    },
    {
      id: asNumber,
      label: `${c.id} in a NUMBER`,
      sql: insert(asNumber, [['PRIMARY_QUANTITY', quote(text)]]),
      lands: empty || (number !== undefined && Number.isFinite(number)),
      column: 'PRIMARY_QUANTITY',
      ...(empty ? { expected: null } : number === undefined ? {} : { expected: number }),
    },
    {
      id: asId,
      label: `${c.id} in a NUMBER(15) id`,
      sql: insert(asId, [['TRANSACTION_SOURCE_ID', quote(text)]]),
      lands: text === '' || /^[+-]?\d+$/.test(text),
      column: 'TRANSACTION_SOURCE_ID',
      expected: text === '' ? null : text,
    },
    {
      id: asDate,
      label: `${c.id} in a DATE`,
      sql: insert(asDate, [['TRANSACTION_DATE', `TO_DATE(${quote(text)}, 'YYYY-MM-DD HH24:MI:SS')`]]),
      lands: false,
    },
  ];
}

/**
 * The stand-in's session, except that a DML row whose SQL_REDO holds a statement's marker is served as
 * that statement instead, in continuation pieces when it is long.
 */
function hostileSession(
  inner: OracleSession,
  byMarker: Map<string, Statement>,
  served: Map<number, string>,
): OracleSession {
  const replace = (rows: OracleRow[]): OracleRow[] =>
    rows.flatMap((row) => {
      const sql = row['SQL_REDO'];
      const marker = sql ? /'HOSTILE#(\d+)'/.exec(sql)?.[1] : undefined;
      const statement = marker === undefined ? undefined : byMarker.get(marker);
      if (!statement || !['1', '2', '3'].includes(row['OPERATION_CODE'] ?? '')) return [row];
      served.set(statement.id, row['SCN'] ?? '');
      const pieces: string[] = [];
      for (let i = 0; i < statement.sql.length; i += PIECE) pieces.push(statement.sql.slice(i, i + PIECE));
      if (pieces.length === 0) pieces.push('');
      return pieces.map((piece, i) => ({ ...row, SQL_REDO: piece, CSF: i < pieces.length - 1 ? '1' : '0' }));
    });
  return {
    execute: (sql, binds, options) => inner.execute(sql, binds, options),
    async *query(sql, binds, options) {
      for await (const rows of inner.query(sql, binds, options))
        yield sql.includes('V$LOGMNR_CONTENTS') ? replace(rows) : rows;
    },
    close: () => inner.close(),
  };
}

/** Seals nothing this table holds; required by the deps. */
const sealer: Sealer = {
  seal: async (_subject, plaintext) =>
    `pd1.${'A'.repeat(22)}.${Buffer.from(plaintext).toString('base64url')}`,
};

describe('hostile ERP values through LogMiner into runErpIngestion', () => {
  it('lands each statement whose values its columns can hold, dead-letters every other with the statement', async () => {
    const before = prototypeState();
    const clock = new ManualClock('2026-11-23T10:00:00Z');
    standIn = await ErpStandIn.open({
      model: new ErpModel(new PlantModel({ seed: 1 })),
      clock,
      historyMs: 3_600_000,
    });
    const cases = hostileCorpus({ sentinel: sentinel.path });
    let n = 0;
    const statements = cases.flatMap((c) => statementsOf(c, () => FIRST_ID + n++));
    const byMarker = new Map(statements.map((s, i) => [String(i), s]));
    const served = new Map<number, string>();
    const deps: ErpIngestionDeps = {
      lake,
      checkpoints: createCheckpointStore(createTableClient(azurite.connectionString, 'hostileerp')),
      clock,
      log: silentLogger,
      sealer,
      connect: async () => hostileSession(await standIn.session(), byMarker, served),
      tables: DEFAULT_ERP_TABLES.filter((t) => `${t.owner}.${t.name}` === TABLE),
      timeZone: 'Europe/Berlin',
      snapshotLookbackS: 600,
      watermarkLookbackS: 3600,
      chunkRows: 5000,
      retryDelaysMs: [1],
      sleep: clock.sleep,
    };
    const first = await runErpIngestion(deps);
    expect(first.ok).toBe(true);

    clock.advance(60_000);
    const transactions: ErpTransaction[] = statements.map((s, i) => ({
      id: `hostile:${i}`,
      startMs: clock.now().getTime(),
      endMs: clock.now().getTime(),
      outcome: 'commit',
      userId: 1013,
      ops: [
        {
          kind: 'insert',
          table: TABLE,
          row: { TRANSACTION_ID: s.id, TRANSACTION_REFERENCE: `HOSTILE#${i}`, ORGANIZATION_ID: 101 },
        },
      ],
    }));
    await standIn.inject(transactions);
    clock.advance(60_000);
    const inputBytes = statements.reduce((m, s) => Math.max(m, s.sql.length), 0);
    const use = await measureHeap(() => withDeadline('the hostile window', () => runErpIngestion(deps)));
    expectBoundedHeap('the hostile window', use, inputBytes);
    const report = use.result;
    expect(report.ok, report.summary).toBe(true);
    expect(served.size, 'every hostile statement was served').toBe(statements.length);

    const rows = new Map<number, Record<string, unknown>>();
    for await (const f of lake.list('bronze/oracle-erp/mtl_material_transactions/'))
      for (const row of await codec.decode(await lake.get(f.path))) {
        const id = Number(row['TRANSACTION_ID']);
        if (id >= FIRST_ID && row['_op'] === 'I') rows.set(id, row);
      }
    const letters = await deadLetters(lake, 'oracle-erp');
    const letterOf = (s: Statement) =>
      letters.find((l) => {
        const context = l['context'] as { scn?: string };
        return context.scn === served.get(s.id);
      });
    let landed = 0;
    let dead = 0;
    for (const s of statements) {
      const row = rows.get(s.id);
      const letter = letterOf(s);
      if (s.lands) {
        expect.soft(row, `${s.label} lands`).toBeDefined();
        expect.soft(letter, `${s.label} is not dead-lettered`).toBeUndefined();
        if (row && s.column && s.expected !== undefined)
          expect.soft(row[s.column], `${s.label}: landed exactly`).toBe(s.expected);
        if (row) landed++;
      } else {
        expect.soft(row, `${s.label} does not land`).toBeUndefined();
        expect.soft(letter, `${s.label} is dead-lettered`).toBeDefined();
        if (!letter) continue;
        dead++;
        expect.soft(String(letter['code']), s.label).toMatch(/^erp\.(redo_unparseable|unlandable_change)$/);
        expect.soft(String(letter['reason']).length, s.label).toBeGreaterThan(10);
        // The statement itself, or the change's values, whole.
        const payload = letter['payload'];
        if (letter['code'] === 'erp.redo_unparseable')
          expect.soft(payload, `${s.label}: the statement`).toBe(s.sql);
        else expect.soft(JSON.stringify(payload).length, `${s.label}: the values`).toBeGreaterThan(10);
      }
    }
    expect(landed + dead).toBe(statements.length);

    // The stand-in's tables are all still there, and the table the injections name still has its rows.
    const tables = await standIn.connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE schema_name = 'INV'`,
    );
    expect(Number(tables.getRowObjects()[0]!['n'])).toBeGreaterThanOrEqual(4);
    const mmt = await standIn.connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM "INV"."MTL_MATERIAL_TRANSACTIONS" WHERE "TRANSACTION_ID" >= ${FIRST_ID}`,
    );
    expect(Number(mmt.getRowObjects()[0]!['n'])).toBe(statements.length);
    await expectLakeLayout(lake);
    await expectSentinelUnread(lake, codec, sentinel);
    expectPrototypeUntouched(before);
  });
});
