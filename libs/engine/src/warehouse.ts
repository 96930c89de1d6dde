import { access } from 'node:fs/promises';
import { UsageError } from '@aurora/core';
import { toJsonRows } from '@aurora/lake';
import { DuckDBInstance, type Json } from '@duckdb/node-api';
import { warehousePath } from './run.js';

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, Json>[];
}

/**
 * The warehouse the last medallion run left ($AURORA_HOME/warehouse/warehouse.duckdb: schemas silver,
 * gold and reference), opened read-only: a query can read everything and change nothing, and a run
 * replacing the file meanwhile does not disturb it.
 */
export async function queryWarehouse(home: string, sql: string): Promise<QueryResult> {
  const warehouse = await openWarehouse(home);
  try {
    return await warehouse.query(sql);
  } finally {
    warehouse.close();
  }
}

export interface OpenWarehouse {
  query(sql: string): Promise<QueryResult>;
  close(): void;
}

/** The warehouse held open read-only for several queries (see queryWarehouse). */
export async function openWarehouse(home: string): Promise<OpenWarehouse> {
  const file = warehousePath(home);
  await access(file).catch(() => {
    throw new UsageError(`no warehouse under ${home} yet: run \`pnpm aurora run --once\` first`);
  });
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    async query(sql) {
      const reader = await connection.runAndReadAll(sql).catch((error: Error) => {
        throw new UsageError(error.message);
      });
      const columns = reader
        .columnNames()
        .map((name, i) => ({ name, type: reader.columnTypes()[i]!.toString() }));
      return {
        columns,
        rows: toJsonRows(reader.getRowObjects(), reader.getRowObjectsJson(), { decimals: 'number' }),
      };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
