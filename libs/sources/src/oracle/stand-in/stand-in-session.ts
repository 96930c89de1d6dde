import { sleep } from '@aurora/core';
import { type DuckDBConnection, DuckDBTimestampValue, type DuckDBValue } from '@duckdb/node-api';
import { LOGMINER_CONTENTS_SELECT_LIST } from '../logminer/index.js';
import { formatOracleDateTime, zoneOffsetMs } from '../oracle-text.js';
import {
  type OracleBinds,
  type OracleExecuteOptions,
  type OracleRow,
  OracleServerError,
  type OracleSession,
} from '../session.js';
import {
  CURRENT_SCN_SQL,
  DB_VERSION_SQL,
  END_LOGMINER_SQL,
  LOG_FILES_SQL,
  NLS_STATEMENTS,
  OLDEST_OPEN_TRANSACTION_SQL,
  SCN_SECONDS_AGO_SQL,
  SYSDATE_SQL,
  TABLE_COLUMNS_SQL,
} from '../statements.js';
import type { ErpStandIn } from './erp-stand-in.js';
import { translateSelect } from './sql-translate.js';

const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const CONTENTS_PREFIX = normalise(`SELECT ${LOGMINER_CONTENTS_SELECT_LIST} FROM V$LOGMNR_CONTENTS`);
const ADD_LOGFILE =
  /^BEGIN sys\.dbms_logmnr\.add_logfile\(LOGFILENAME => :name, OPTIONS => DBMS_LOGMNR\.(NEW|ADDFILE)\); END;$/i;
const START_LOGMNR =
  /^BEGIN sys\.dbms_logmnr\.start_logmnr\(startScn => :startScn, endScn => :endScn, OPTIONS => ([A-Z_.+ ]+)\); END;$/i;

/**
 * A session on the ERP stand-in: recognises the statements the connector sends (statements.ts) and
 * answers them from the stand-in's DuckDB, table reads as real SQL translated from Oracle's dialect. It
 * keeps what a real session keeps: the NLS settings, the LogMiner session (added log files, SCN range,
 * options), its own database connection. Everything is returned as text, as the oracledb session's fetch
 * type handler returns it.
 */
export class StandInSession implements OracleSession {
  readonly #db: ErpStandIn;
  #connection: DuckDBConnection | undefined;
  #closed = false;
  readonly nls = new Map<string, string>();
  #logFiles: string[] = [];
  #mining: { startScn: bigint; endScn: bigint; committedDataOnly: boolean } | undefined;
  #flashbackTables: string[] = [];

  constructor(db: ErpStandIn) {
    this.#db = db;
  }

  async execute(
    sql: string,
    binds: OracleBinds = {},
    options: OracleExecuteOptions = {},
  ): Promise<{ rows: OracleRow[] }> {
    const rows: OracleRow[] = [];
    for await (const batch of this.query(sql, binds, options)) rows.push(...batch);
    return { rows };
  }

  async *query(
    sql: string,
    binds: OracleBinds = {},
    options: OracleExecuteOptions = {},
  ): AsyncIterable<OracleRow[]> {
    if (this.#closed) throw new OracleServerError('DPI-1010', 'not connected');
    const db = this.#db;
    db.stats.statements++;
    const slow = db.faults.take('slow');
    if (slow) await sleep(slow.delayMs ?? 2000, options.signal);
    const text = normalise(sql);
    // The connection drops once a query has sent `afterRows` rows; shorter queries pass untouched.
    const lost = text.startsWith('SELECT') ? db.faults.peek('connection_lost') : undefined;
    const afterRows = lost ? (lost.afterRows ?? 1) : Number.POSITIVE_INFINITY;
    let served = 0;
    for await (const batch of this.#dispatch(text, binds, options)) {
      if (lost && served + batch.length > afterRows) {
        db.faults.use(lost);
        const keep = Math.max(0, afterRows - served);
        if (keep > 0) yield batch.slice(0, keep);
        this.#closed = true;
        throw new OracleServerError('ORA-03113', 'end-of-file on communication channel', {
          details: { afterRows: served + keep },
        });
      }
      served += batch.length;
      yield batch;
    }
  }

  async close(): Promise<void> {
    if (this.#connection) {
      for (const t of this.#flashbackTables) await this.#db.dropTemp(t).catch(() => undefined);
      this.#connection.closeSync();
      this.#connection = undefined;
    }
    this.#closed = true;
  }

  async #conn(): Promise<DuckDBConnection> {
    this.#connection ??= await this.#db.instance.connect();
    return this.#connection;
  }

  async *#dispatch(
    text: string,
    binds: OracleBinds,
    options: OracleExecuteOptions,
  ): AsyncIterable<OracleRow[]> {
    const db = this.#db;
    if (text.toUpperCase().startsWith('ALTER SESSION SET ')) {
      if (!NLS_STATEMENTS.includes(text))
        throw new OracleServerError('ORA-02248', 'invalid option for ALTER SESSION');
      const [name, value] = text.slice('ALTER SESSION SET '.length).split(' = ');
      this.nls.set(name!, value!);
      return;
    }
    if (text === CURRENT_SCN_SQL) {
      await db.catchUp();
      yield [{ CURRENT_SCN: String(db.currentScn()) }];
      return;
    }
    if (text === OLDEST_OPEN_TRANSACTION_SQL) {
      await db.catchUp();
      const oldest = db.oldestOpenStartScn();
      yield [{ START_SCN: oldest === undefined ? null : String(oldest) }];
      return;
    }
    if (text === SCN_SECONDS_AGO_SQL) {
      await db.catchUp();
      const seconds = Number(binds['seconds']);
      yield [{ SCN: String(db.scnAt(this.#now() - seconds * 1000)) }];
      return;
    }
    if (text === SYSDATE_SQL) {
      yield [{ NOW: formatOracleDateTime(this.#now(), db.timeZone) }];
      return;
    }
    if (text === DB_VERSION_SQL) {
      yield [{ VERSION: db.version === '11.2' ? '11.2.0.4.0' : '19.0.0.0.0' }];
      return;
    }
    if (text === normalise(LOG_FILES_SQL)) {
      const startScn = scnBind(binds, 'startScn');
      yield db
        .logFiles()
        .filter((f) => f.online || f.nextChange > startScn)
        .map((f) => ({
          NAME: f.name,
          FIRST_CHANGE: String(f.firstChange),
          NEXT_CHANGE: String(f.nextChange),
        }));
      return;
    }
    const add = ADD_LOGFILE.exec(text);
    if (add) {
      if (add[1]!.toUpperCase() === 'NEW') this.#logFiles = [];
      const name = String(binds['name'] ?? '');
      if (!db.logFiles().some((f) => f.name === name))
        throw new OracleServerError('ORA-01284', `file ${name} cannot be opened`);
      this.#logFiles.push(name);
      return;
    }
    const start = START_LOGMNR.exec(text);
    if (start) {
      const opts = start[1]!.toUpperCase();
      if (!opts.includes('DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG'))
        throw new OracleServerError('ORA-01371', 'complete LogMiner dictionary not found');
      if (db.faults.take('missing_log')) db.purgeArchivedLogs();
      const startScn = scnBind(binds, 'startScn');
      const endScn = scnBind(binds, 'endScn');
      if (endScn < startScn) throw new OracleServerError('ORA-01281', 'SCN range specified is invalid');
      db.checkLogCoverage(this.#logFiles, startScn, endScn);
      this.#mining = { startScn, endScn, committedDataOnly: opts.includes('COMMITTED_DATA_ONLY') };
      return;
    }
    if (text === END_LOGMINER_SQL) {
      if (!this.#mining) throw new OracleServerError('ORA-01307', 'no LogMiner session is currently active');
      this.#mining = undefined;
      this.#logFiles = [];
      return;
    }
    if (text.startsWith(CONTENTS_PREFIX)) {
      const mining = this.#mining;
      if (!mining)
        throw new OracleServerError(
          'ORA-01306',
          'dbms_logmnr.start_logmnr() must be invoked before selecting from v$logmnr_contents',
        );
      const owners =
        /SEG_OWNER IN \(([^)]*)\)/
          .exec(text)?.[1]
          ?.split(',')
          .map((s) => s.trim().replace(/^'|'$/g, '')) ?? [];
      const from = scnBind(binds, 'startScn');
      const to = scnBind(binds, 'endScn');
      // Outside the started range LogMiner has nothing: clamp to it as V$LOGMNR_CONTENTS would.
      const values = {
        startScn: [from, mining.startScn].sort(byValue)[1]!,
        endScn: [to, mining.endScn].sort(byValue)[0]!,
      };
      for await (const batch of this.#streamJson(
        db.logMinerQuery(mining.committedDataOnly, owners),
        values,
        options,
      )) {
        for (const row of batch)
          if (
            row['SQL_REDO'] &&
            ['1', '2', '3'].includes(row['OPERATION_CODE'] ?? '') &&
            db.faults.take('garbled_redo')
          )
            row['SQL_REDO'] = garble(row['SQL_REDO']);
        yield batch;
      }
      return;
    }
    if (text === TABLE_COLUMNS_SQL) {
      const table = `${binds['owner']}.${binds['tableName']}`;
      const columns = db.columnsOf(table) ?? [];
      yield columns.map((c) => ({
        COLUMN_NAME: c.name,
        DATA_TYPE: c.type.type === 'TIMESTAMP' ? `TIMESTAMP(${c.type.scale})` : c.type.type,
        DATA_PRECISION:
          c.type.type === 'NUMBER' && c.type.precision !== null ? String(c.type.precision) : null,
        DATA_SCALE: c.type.type === 'NUMBER' && c.type.scale !== null ? String(c.type.scale) : null,
        DATA_LENGTH:
          c.type.type === 'VARCHAR2' ? String(c.type.length) : c.type.type === 'CLOB' ? '4000' : '22',
      }));
      return;
    }
    if (text.toUpperCase().startsWith('SELECT ')) {
      await db.catchUp();
      const translated = translateSelect(text, (table, column) => db.columnType(table, column), {
        hasStandardHash: db.version !== '11.2',
      });
      if (!db.columnsOf(translated.table))
        throw new OracleServerError('ORA-00942', 'table or view does not exist');
      let sql = translated.sql;
      if (translated.asOf) {
        const scnText =
          'bind' in translated.asOf ? String(binds[translated.asOf.bind] ?? '') : translated.asOf.literal;
        if (!/^\d+$/.test(scnText)) throw new OracleServerError('ORA-08186', 'invalid timestamp specified');
        const table = await db.flashbackTable(translated.table, BigInt(scnText));
        if (!this.#flashbackTables.includes(table)) this.#flashbackTables.push(table);
        const [owner, name] = translated.table.split('.');
        sql = sql.replace(`FROM "${owner}"."${name}"`, `FROM ${table}`);
      }
      const values: Record<string, DuckDBValue> = {};
      for (const name of translated.binds) {
        const v = binds[name];
        values[name] = v === undefined ? null : typeof v === 'string' && /^\d{1,18}$/.test(v) ? BigInt(v) : v;
      }
      if (sql.includes('$__sysdate')) {
        const now = this.#now();
        values['__sysdate'] = new DuckDBTimestampValue(BigInt(now + zoneOffsetMs(db.timeZone, now)) * 1000n);
      }
      yield* this.#stream(sql, values, options);
      return;
    }
    throw new OracleServerError(
      'ORA-00900',
      `invalid SQL statement (the ERP stand-in does not know it): ${text.slice(0, 120)}`,
    );
  }

  #now(): number {
    return this.#db.nowMs();
  }

  /**
   * {@link #stream} for a query whose columns are all text (V$LOGMNR_CONTENTS): each row comes out of
   * DuckDB as one JSON object, which decodes several times faster than a string per column.
   */
  async *#streamJson(
    sql: string,
    values: Record<string, DuckDBValue>,
    options: OracleExecuteOptions,
  ): AsyncIterable<OracleRow[]> {
    for await (const batch of this.#stream(`SELECT to_json(q) AS "J" FROM (${sql}) q`, values, options))
      yield batch.map((row) => JSON.parse(row['J']!) as OracleRow);
  }

  async *#stream(
    sql: string,
    values: Record<string, DuckDBValue>,
    options: OracleExecuteOptions,
  ): AsyncIterable<OracleRow[]> {
    const connection = await this.#conn();
    let result: Awaited<ReturnType<DuckDBConnection['stream']>>;
    try {
      result = await connection.stream(sql, values);
    } catch (error) {
      throw new OracleServerError(
        'ORA-00904',
        `the stand-in could not run the query: ${(error as Error).message}`,
        {
          cause: error,
          details: { sql: sql.slice(0, 500) },
        },
      );
    }
    const names = result.columnNames();
    const size = Math.max(1, options.fetchArraySize ?? 2048);
    let batch: OracleRow[] = [];
    for (;;) {
      options.signal?.throwIfAborted();
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const columns = chunk.getColumns();
      for (let r = 0; r < chunk.rowCount; r++) {
        const row: OracleRow = {};
        for (let c = 0; c < names.length; c++) row[names[c]!] = text(columns[c]![r]);
        batch.push(row);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  }
}

/** A SQL_REDO cut off in its value list and mangled, as a misrendered redo record looks. */
function garble(sql: string): string {
  const cut = Math.max(sql.indexOf('values ('), sql.indexOf(' where '), 0) + 12;
  return `${sql.slice(0, cut)}#?UNKNOWN(0x1F3A) HEXTORAW('ZZ' ;`;
}

const byValue = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

function text(value: DuckDBValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

function scnBind(binds: OracleBinds, name: string): bigint {
  const v = binds[name];
  if (v === undefined || v === null || !/^\d+$/.test(String(v)))
    throw new OracleServerError('ORA-01008', `not all variables bound (:${name})`);
  return BigInt(v);
}
