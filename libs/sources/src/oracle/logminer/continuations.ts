import { SourceDataError } from '@aurora/core';
import type { LogMinerRow } from './logminer-row.js';

/** How much of a statement an error or report carries: enough to recognise it, not a whole CLOB. */
export const SQL_EXCERPT_CHARS = 512;

/** The first {@link SQL_EXCERPT_CHARS} characters of `sql`, marked when cut. */
export function sqlExcerpt(sql: string): string {
  return sql.length <= SQL_EXCERPT_CHARS
    ? sql
    : `${sql.slice(0, SQL_EXCERPT_CHARS)}… (${sql.length} characters)`;
}

interface PendingStatement {
  first: LogMinerRow;
  pieces: string[];
}

/**
 * Joins `SQL_REDO` pieces as they stream in. LogMiner splits a statement longer than one row over
 * several rows with `CSF = 1`, the last piece having `CSF = 0`; all pieces share XID, RS_ID and SSN (and
 * the SCN). Pieces are matched on that key rather than on adjacency, so a piece of another transaction
 * in between does no harm.
 *
 * Pieces still open at the end of a page are held back (a result set fetched in pages can split a
 * statement); pieces still open when the window ends are an error: all pieces of a statement carry one
 * SCN, so an SCN window can never cut a statement in two, and a dangling piece means the rows were cut
 * short (a result set abandoned early, a broken redo record). Quarantining beats landing half a
 * statement, and holding it back would never complete it.
 */
export class ContinuationJoiner {
  readonly #pending = new Map<string, PendingStatement>();

  /** Takes the next row; returns the row that is complete now, or undefined while a statement is open. */
  push(row: LogMinerRow): LogMinerRow | undefined {
    // The common case (no open statement, not a piece) builds no key.
    if (this.#pending.size === 0 && row.CSF !== 1) return row;
    const key = keyOf(row);
    const pending = this.#pending.get(key);
    if (pending === undefined) {
      if (row.CSF !== 1) return row;
      this.#pending.set(key, { first: row, pieces: [row.SQL_REDO ?? ''] });
      return undefined;
    }
    pending.pieces.push(row.SQL_REDO ?? '');
    if (row.CSF === 1) return undefined;
    this.#pending.delete(key);
    return { ...pending.first, CSF: 0, SQL_REDO: pending.pieces.join('') };
  }

  /**
   * Ends the window.
   * @throws SourceDataError when a statement is still missing pieces, naming its XID, SCN and RS_ID.
   */
  finish(): void {
    const dangling = [...this.#pending.values()];
    if (dangling.length === 0) return;
    const first = dangling[0]!.first;
    throw new SourceDataError(
      `SQL_REDO continuation never ended: ${dangling.length} statement(s) still had CSF=1 at the end of the window`,
      {
        details: {
          xid: first.XID,
          scn: first.SCN,
          rsId: first.RS_ID,
          ssn: first.SSN,
          pieces: dangling[0]!.pieces.length,
          sql: sqlExcerpt(dangling[0]!.pieces.join('')),
        },
      },
    );
  }
}

function keyOf(row: LogMinerRow): string {
  return `${row.XID}|${row.RS_ID}|${row.SSN}`;
}

/**
 * Joins every continued `SQL_REDO` of one mined window into a single row with `CSF = 0`, placed where
 * its last piece was; other rows pass through unchanged and in order. Already-joined rows pass through
 * as they are, so joining twice is harmless.
 * @throws SourceDataError when the window ends inside a continued statement ({@link ContinuationJoiner}).
 */
export function joinContinuations(rows: Iterable<LogMinerRow>): LogMinerRow[] {
  const joiner = new ContinuationJoiner();
  const joined: LogMinerRow[] = [];
  for (const row of rows) {
    const complete = joiner.push(row);
    if (complete !== undefined) joined.push(complete);
  }
  joiner.finish();
  return joined;
}
