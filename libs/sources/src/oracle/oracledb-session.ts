import { ConfigError, SourceUnavailableError } from '@aurora/core';
import oracledb from 'oracledb';
import {
  type OracleBinds,
  type OracleExecuteOptions,
  type OracleRow,
  OracleServerError,
  type OracleSession,
  type OracleSessionFactory,
  oracleErrorCode,
} from './session.js';

export interface OracledbSessionOptions {
  /** Easy Connect (`host:1521/EBSPROD`) or a TNS alias: AURORA_ERP_CONNECT_STRING. */
  connectString: string;
  user: string;
  /** Read at each connect, so a rotated secret is used at the next run. */
  password: () => Promise<string>;
  /**
   * Instant Client directory: set, node-oracledb runs in thick mode (needed for Oracle Database 11.2,
   * which thin mode cannot reach); unset, thin mode (12.1 and later, no client libraries).
   */
  clientLibDir?: string;
  /** Seconds to wait for a connection; default 20. */
  connectTimeoutS?: number;
}

/** The oracledb metadata fields the type handler looks at. */
export interface FetchMetadata {
  dbType?: unknown;
}

/**
 * What every column is fetched as: NUMBER (ids, SCNs, money) as text so no digit is lost above 2^53;
 * DATE and TIMESTAMP as text in the session's pinned NLS formats, so the application's time zone never
 * moves them (the connector converts with the database's zone); CLOB as a string instead of a Lob stream.
 * Everything else keeps node-oracledb's default.
 */
export function oracleFetchTypeHandler(
  db: Pick<
    typeof oracledb,
    | 'DB_TYPE_NUMBER'
    | 'DB_TYPE_DATE'
    | 'DB_TYPE_TIMESTAMP'
    | 'DB_TYPE_TIMESTAMP_LTZ'
    | 'DB_TYPE_TIMESTAMP_TZ'
    | 'DB_TYPE_CLOB'
    | 'DB_TYPE_NCLOB'
    | 'DB_TYPE_BINARY_DOUBLE'
    | 'DB_TYPE_BINARY_FLOAT'
    | 'STRING'
  >,
) {
  const asText = new Set<unknown>([
    db.DB_TYPE_NUMBER,
    db.DB_TYPE_BINARY_DOUBLE,
    db.DB_TYPE_BINARY_FLOAT,
    db.DB_TYPE_DATE,
    db.DB_TYPE_TIMESTAMP,
    db.DB_TYPE_TIMESTAMP_LTZ,
    db.DB_TYPE_TIMESTAMP_TZ,
    db.DB_TYPE_CLOB,
    db.DB_TYPE_NCLOB,
  ]);
  return (metadata: FetchMetadata) => (asText.has(metadata.dbType) ? { type: db.STRING } : undefined);
}

let thickInitialised: string | undefined;

/**
 * Sessions on a real Oracle through node-oracledb: one connection per session (a LogMiner session is tied
 * to it), thin mode unless `clientLibDir` asks for thick. Connection failures name the setting to check.
 */
export function createOracledbSessionFactory(options: OracledbSessionOptions): OracleSessionFactory {
  const typeHandler = oracleFetchTypeHandler(oracledb);
  return async () => {
    if (options.clientLibDir && thickInitialised !== options.clientLibDir) {
      try {
        oracledb.initOracleClient({ libDir: options.clientLibDir });
        thickInitialised = options.clientLibDir;
      } catch (error) {
        throw new ConfigError(
          `node-oracledb thick mode could not load Oracle Instant Client from ${options.clientLibDir} (AURORA_ERP_ORACLE_CLIENT_LIB_DIR): ${(error as Error).message}`,
          [{ variable: 'AURORA_ERP_ORACLE_CLIENT_LIB_DIR', problem: (error as Error).message }],
        );
      }
    }
    let connection: oracledb.Connection;
    try {
      connection = await oracledb.getConnection({
        user: options.user,
        password: await options.password(),
        connectString: options.connectString,
        connectTimeout: options.connectTimeoutS ?? 20,
      });
    } catch (error) {
      const message = (error as Error).message;
      const code = oracleErrorCode(message);
      if (code === 'ORA-01017' || code === 'ORA-28000')
        throw new ConfigError(
          `the Oracle ERP refused the login of ${options.user} (${code}): check AURORA_ERP_USER and the secret erp-oracle-password`,
          [{ variable: 'AURORA_ERP_USER', problem: message }],
        );
      throw new SourceUnavailableError(
        `cannot connect to the Oracle ERP at ${options.connectString} (AURORA_ERP_CONNECT_STRING, ${options.clientLibDir ? 'thick' : 'thin'} mode): ${message}`,
        { cause: error, details: { oraCode: code ?? null, connectString: options.connectString } },
      );
    }
    return new OracledbSession(connection, typeHandler);
  };
}

class OracledbSession implements OracleSession {
  constructor(
    private readonly connection: oracledb.Connection,
    private readonly typeHandler: ReturnType<typeof oracleFetchTypeHandler>,
  ) {}

  async execute(
    sql: string,
    binds: OracleBinds = {},
    options: OracleExecuteOptions = {},
  ): Promise<{ rows: OracleRow[] }> {
    const result = await this.#guard(options.signal, () =>
      this.connection.execute<OracleRow>(sql, binds, {
        outFormat: oracledb.OUT_FORMAT_OBJECT,
        fetchTypeHandler: this.typeHandler,
        fetchArraySize: options.fetchArraySize ?? 1000,
      }),
    );
    return { rows: result.rows ?? [] };
  }

  async *query(
    sql: string,
    binds: OracleBinds = {},
    options: OracleExecuteOptions = {},
  ): AsyncIterable<OracleRow[]> {
    const size = options.fetchArraySize ?? 1000;
    const result = await this.#guard(options.signal, () =>
      this.connection.execute<OracleRow>(sql, binds, {
        outFormat: oracledb.OUT_FORMAT_OBJECT,
        fetchTypeHandler: this.typeHandler,
        resultSet: true,
        fetchArraySize: size,
        prefetchRows: size,
      }),
    );
    const resultSet = result.resultSet!;
    try {
      for (;;) {
        const rows = await this.#guard(options.signal, () => resultSet.getRows(size));
        if (rows.length > 0) yield rows;
        if (rows.length < size) break;
      }
    } finally {
      await resultSet.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }

  /** Maps driver errors to OracleServerError and breaks the running call when the signal aborts. */
  async #guard<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const onAbort = () => void this.connection.break().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await call();
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      throw new OracleServerError(oracleErrorCode(message) ?? 'ORA-00000', message, { cause: error });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
