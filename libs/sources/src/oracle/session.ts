import { AuroraError, type AuroraErrorCode } from '@aurora/core';

/**
 * A fetched row, by column name as Oracle returns it (upper case unless the alias was quoted). Every
 * value is text or null: the connector asks for NUMBER, DATE and TIMESTAMP as text (explicit `TO_CHAR`
 * formats or the session's pinned NLS formats, and a fetch type handler for the rest), so no digit of an
 * id or SCN is lost to a JS number and no date is moved by the application's time zone. CLOBs arrive as
 * strings.
 */
export type OracleRow = Record<string, string | null>;

/** Bind values by name (`:startScn` → `{ startScn: '123' }`). SCNs and ids are bound as text. */
export type OracleBinds = Record<string, string | number | null>;

export interface OracleExecuteOptions {
  /** Rows per round trip (node-oracledb's fetchArraySize). */
  fetchArraySize?: number;
  signal?: AbortSignal;
}

/**
 * One database session: what the ERP connector needs from Oracle, satisfied both by node-oracledb (one
 * connection; see createOracledbSession) and by the ERP stand-in (an embedded DuckDB that understands the
 * statements the connector issues). The connector sends both the same SQL text. A session runs one
 * statement at a time, and everything LogMiner does must happen on one session: a LogMiner session
 * belongs to the database session that started it.
 */
export interface OracleSession {
  /** Runs a statement; for a query, returns all its rows (use `query` for large results). */
  execute(sql: string, binds?: OracleBinds, options?: OracleExecuteOptions): Promise<{ rows: OracleRow[] }>;
  /** Runs a query and yields its rows in batches of `fetchArraySize`, fetched as they are consumed. */
  query(sql: string, binds?: OracleBinds, options?: OracleExecuteOptions): AsyncIterable<OracleRow[]>;
  close(): Promise<void>;
}

/** Opens a session: each ERP run opens one and closes it at the end. */
export type OracleSessionFactory = (options?: { signal?: AbortSignal }) => Promise<OracleSession>;

/**
 * ORA- errors that are worth another attempt: the connection went away (03113, 03114, 03135, 12170,
 * 12541, 12543, 12514...), LogMiner could not find a log file it needs now (01291, 00310) or the undo a
 * flashback query needs (01555), a query timed out (01013).
 */
const TRANSIENT_ORA = new Set([
  'ORA-00310',
  'ORA-01013',
  'ORA-01089',
  'ORA-01291',
  'ORA-01555',
  'ORA-03113',
  'ORA-03114',
  'ORA-03135',
  'ORA-12170',
  'ORA-12514',
  'ORA-12528',
  'ORA-12541',
  'ORA-12543',
  'NJS-500',
  'NJS-501',
  'NJS-503',
  'NJS-510',
  'DPI-1010',
  'DPI-1080',
]);
/** Errors the configuration must fix: no such table or column (or no grant), bad login, locked account. */
const CONFIG_ORA = new Set(['ORA-00904', 'ORA-00942', 'ORA-01017', 'ORA-28000', 'ORA-01031']);

/**
 * An error the database reported, with its `ORA-nnnnn` code. Transient codes map to
 * `source.unavailable` (retried 30/60/120 s), configuration codes to `config.invalid`, the rest to
 * `internal`.
 */
export class OracleServerError extends AuroraError {
  readonly oraCode: string;

  constructor(
    oraCode: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    const code: AuroraErrorCode = TRANSIENT_ORA.has(oraCode)
      ? 'source.unavailable'
      : CONFIG_ORA.has(oraCode)
        ? 'config.invalid'
        : 'internal';
    super(code, message.startsWith(oraCode) ? message : `${oraCode}: ${message}`, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: { oraCode, ...options.details },
    });
    this.oraCode = oraCode;
  }
}

/** The `ORA-nnnnn` (or `NJS-nnn`, `DPI-nnnn`) code at the start of a driver message, if any. */
export function oracleErrorCode(message: string): string | undefined {
  return /\b((?:ORA|NJS|DPI|TNS)-\d{3,5})\b/.exec(message)?.[1];
}
