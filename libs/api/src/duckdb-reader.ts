import { statSync } from 'node:fs';
import { AuroraError } from '@aurora/core';
import { toJsonRows } from '@aurora/lake';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { GoldReader, GoldRow } from './gold-reader.js';
import { PlainDate, type SqlValue, type Statement } from './statement.js';

export interface DuckDbReaderOptions {
  /** The warehouse file ($AURORA_HOME/warehouse/warehouse.duckdb). */
  file: string;
  /** Connections kept open, so concurrent requests run in parallel (DuckDB runs one query per connection). */
  connections?: number;
}

interface Opened {
  identity: string;
  instance: DuckDBInstance;
  idle: DuckDBConnection[];
  all: DuckDBConnection[];
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
  #current: Promise<Opened> | undefined;

  constructor(options: DuckDbReaderOptions) {
    this.#file = options.file;
    this.#connections = options.connections ?? 4;
  }

  async query(statement: Statement): Promise<GoldRow[]> {
    const opened = await this.#lease();
    const connection = await this.#acquire(opened);
    try {
      const { text, values } = statement.render('duckdb');
      const reader = await connection.runAndReadAll(text, values.map(bind), values.map(typeOf));
      return toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson()) as GoldRow[];
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
      return { identity, instance, idle: [...all], all, waiting: [], inFlight: 0, retired: false };
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
