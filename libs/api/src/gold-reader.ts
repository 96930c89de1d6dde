import type { Dialect, Statement } from './statement.js';

/** A row as JSON: instants as ISO 8601 UTC strings, dates as `YYYY-MM-DD`, decimals as numbers. */
export type GoldRow = Record<string, string | number | boolean | null>;

/**
 * Where the API reads gold (and the silver tables machine health needs): the warehouse DuckDB file
 * locally, the Synapse dedicated SQL pool in Azure. Statements are parameterised only (see statement.ts);
 * a reader renders them in its own dialect and binds the values.
 */
export interface GoldReader {
  readonly dialect: Dialect;
  query(statement: Statement, options?: { signal?: AbortSignal }): Promise<GoldRow[]>;
  /**
   * An identity of the gold the next statement reads, changing whenever gold may have changed (locally: a
   * medallion run replaced the warehouse file); undefined when the reader cannot tell. Answers computed
   * from gold may be kept while it stays the same (GoldMemo).
   */
  snapshot?(): Promise<string | undefined>;
  close(): Promise<void>;
}
