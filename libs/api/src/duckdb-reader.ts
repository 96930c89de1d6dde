import { statSync } from 'node:fs';
import { AuroraError } from '@aurora/core';
import { toJsonRows } from '@aurora/lake';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { GoldReader, GoldRow } from './gold-reader.js';
import { Lru } from './lru.js';
import { PlainDate, type SqlValue, type Statement } from './statement.js';

export interface DuckDbReaderOptions {
  /** The warehouse file ($AURORA_HOME/warehouse/warehouse.duckdb). */
  file: string;
  /** Connections kept open, so concurrent requests run in parallel (DuckDB runs one query per connection). */
  connections?: number;
  /** Prepared statements kept per connection (by SQL text; values are bound per request). */
  preparedStatements?: number;
}

interface Opened {
  identity: string;
  instance: DuckDBInstance;
  idle: DuckDBConnection[];
  all: DuckDBConnection[];
  /** Per connection, its prepared statements by SQL text: parsing and planning once, not per request. */
  prepared: Map<DuckDBConnection, Lru<string, DuckDBPreparedStatement>>;
  waiting: ((c: DuckDBConnection) => void)[];
  inFlight: number;
  retired: boolean;
}

/**
 * The local gold reader: the warehouse file the last medallion run left, opened read-only and kept open.
 * A run replaces the file by renaming a new one over it; the reader notices (the file's inode and mtime
 * change), opens the new one for the next statement and closes the old one once its statements are done,
 * so a request never sees half of two runs.
 */
export class DuckDbGoldReader implements GoldReader {
  readonly dialect = 'duckdb' as const;
  readonly #file: string;
  readonly #connections: number;
  readonly #preparedStatements: number;
  #current: Promise<Opened> | undefined;

  constructor(options: DuckDbReaderOptions) {
    this.#file = options.file;
    this.#connections = options.connections ?? 4;
    this.#preparedStatements = options.preparedStatements ?? 32;
  }

  async query(statement: Statement): Promise<GoldRow[]> {
    const opened = await this.#lease();
    const connection = await this.#acquire(opened);
    try {
      const { text, values } = statement.render('duckdb');
      const prepared = await this.#prepare(opened, connection, text);
      if (values.length > 0) prepared.bind(values.map(bind), values.map(typeOf));
      const reader = await prepared.runAndReadAll();
      return toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson(), {
        decimals: 'number',
      }) as GoldRow[];
    } finally {
      this.#release(opened, connection);
    }
  }

  async close(): Promise<void> {
    const current = await this.#current?.catch(() => undefined);
    this.#current = undefined;
    if (current) {
      current.retired = true;
      this.#closeIfDone(current);
    }
  }

  async #prepare(
    opened: Opened,
    connection: DuckDBConnection,
    text: string,
  ): Promise<DuckDBPreparedStatement> {
    let statements = opened.prepared.get(connection);
    if (!statements) {
      statements = new Lru(this.#preparedStatements, (p) => p.destroySync());
      opened.prepared.set(connection, statements);
    }
    let prepared = statements.get(text);
    if (!prepared) {
      prepared = await connection.prepare(text);
      statements.set(text, prepared);
    }
    return prepared;
  }

  /** The current file, counted in flight until released; a file retired meanwhile is never leased. */
  async #lease(): Promise<Opened> {
    for (;;) {
      const opened = await this.#open();
      if (!opened.retired) {
        opened.inFlight++;
        return opened;
      }
    }
  }

  /**
   * The warehouse file's identity: a medallion run renames a new file over it (new inode and mtime). A
   * synchronous stat: a few microseconds, where the promise API costs ten times that on the event loop
   * (it runs on every request).
   */
  async snapshot(): Promise<string> {
    const s = statSync(this.#file, { throwIfNoEntry: false });
    if (!s) throw new AuroraError('lake.not_found', 'no warehouse yet: no medallion run has finished');
    return `${s.dev}:${s.ino}:${s.mtimeMs}:${s.size}`;
  }

  async #open(): Promise<Opened> {
    const identity = await this.snapshot();
    const current = await this.#current?.catch(() => undefined);
    if (current && current.identity === identity) return current;
    if (current) {
      current.retired = true;
      this.#closeIfDone(current);
    }
    const opening = (async (): Promise<Opened> => {
      // Statements here are small: threads would only contend; concurrency comes from the connections.
      const instance = await DuckDBInstance.create(this.#file, { access_mode: 'READ_ONLY', threads: '1' });
      const all: DuckDBConnection[] = [];
      for (let i = 0; i < this.#connections; i++) {
        const c = await instance.connect();
        await c.run("SET TimeZone = 'UTC'");
        all.push(c);
      }
      return {
        identity,
        instance,
        idle: [...all],
        all,
        prepared: new Map(),
        waiting: [],
        inFlight: 0,
        retired: false,
      };
    })();
    this.#current = opening;
    return opening;
  }

  #acquire(opened: Opened): Promise<DuckDBConnection> {
    const c = opened.idle.pop();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => opened.waiting.push(resolve));
  }

  #release(opened: Opened, connection: DuckDBConnection): void {
    opened.inFlight--;
    const next = opened.waiting.shift();
    if (next) {
      next(connection);
      return;
    }
    opened.idle.push(connection);
    this.#closeIfDone(opened);
  }

  #closeIfDone(opened: Opened): void {
    if (!opened.retired || opened.inFlight > 0) return;
    for (const statements of opened.prepared.values()) for (const p of statements.values()) p.destroySync();
    opened.prepared.clear();
    for (const c of opened.all) c.closeSync();
    opened.instance.closeSync();
  }
}

function bind(value: SqlValue): DuckDBValue {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof PlainDate) return value.iso;
  return value;
}

function typeOf(value: SqlValue) {
  if (value instanceof Date || value instanceof PlainDate || typeof value === 'string') return VARCHAR;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BIGINT : DOUBLE;
  if (typeof value === 'boolean') return BOOLEAN;
  return VARCHAR;
}
