import type { TokenCredential } from '@azure/identity';
import sql from 'mssql';
import type { GoldReader, GoldRow } from './gold-reader.js';
import { PlainDate, type SqlValue, type Statement } from './statement.js';

/** What the reader needs of an mssql pool: a request to bind inputs on and run. */
export interface SqlRequestFactory {
  request(): sql.Request;
  close?(): Promise<void>;
}

export interface SynapseReaderOptions {
  /** `<workspace>.sql.azuresynapse.net` */
  server: string;
  database: string;
  /** The Function App's managed identity (or DefaultAzureCredential); it needs db_datareader in the pool. */
  credential: TokenCredential;
  /** Per statement; the API's answers are small, so a slow one is an outage, not a report. */
  requestTimeoutMs?: number;
  poolMax?: number;
}

/** An mssql pool for the dedicated SQL pool, signed in with an Entra token (AZURE-NOTES §5). */
export function synapsePool(options: SynapseReaderOptions): sql.ConnectionPool {
  return new sql.ConnectionPool({
    server: options.server,
    database: options.database,
    port: 1433,
    authentication: { type: 'token-credential', options: { credential: options.credential } },
    options: { encrypt: true, trustServerCertificate: false },
    requestTimeout: options.requestTimeoutMs ?? 15_000,
    pool: { max: options.poolMax ?? 10, min: 0 },
  } as sql.config);
}

/**
 * Gold in Azure: the Synapse dedicated SQL pool over TDS (mssql/tedious), statements rendered in T-SQL
 * with every value bound as a typed input (`@p0`, `@p1`, ...), never spliced into the text.
 */
export class SynapseGoldReader implements GoldReader {
  readonly dialect = 'tsql' as const;
  readonly #pool: SqlRequestFactory;
  readonly #connect: (() => Promise<unknown>) | undefined;
  #connected: Promise<unknown> | undefined;

  /** `pool`: a connected mssql pool, or one that `connect` connects on first use. */
  constructor(pool: SqlRequestFactory, connect?: () => Promise<unknown>) {
    this.#pool = pool;
    this.#connect = connect;
  }

  static fromOptions(options: SynapseReaderOptions): SynapseGoldReader {
    const pool = synapsePool(options);
    return new SynapseGoldReader(pool, () => pool.connect());
  }

  async query(statement: Statement, options: { signal?: AbortSignal } = {}): Promise<GoldRow[]> {
    if (this.#connect) {
      this.#connected ??= this.#connect().catch((error: unknown) => {
        this.#connected = undefined;
        throw error;
      });
      await this.#connected;
    }
    const request = bindStatement(this.#pool.request(), statement);
    const { text } = statement.render('tsql');
    const abort = () => request.cancel();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      const result = await request.query(text);
      return normaliseRecordset(result.recordset);
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close?.();
  }
}

/** Binds a statement's values on a request as typed inputs named like their placeholders. */
export function bindStatement(request: sql.Request, statement: Statement): sql.Request {
  const { values } = statement.render('tsql');
  values.forEach((value, i) => {
    request.input(
      `p${i}`,
      typeOf(value),
      value instanceof PlainDate ? new Date(`${value.iso}T00:00:00Z`) : value,
    );
  });
  return request;
}

function typeOf(value: SqlValue): sql.ISqlType | (() => sql.ISqlType) {
  if (value instanceof Date) return sql.DateTime2(6);
  if (value instanceof PlainDate) return sql.Date;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? sql.BigInt : sql.Float;
  if (typeof value === 'boolean') return sql.Bit;
  return sql.NVarChar(4000);
}

/** mssql rows as the API's JSON rows: instants ISO, DATE as `YYYY-MM-DD`, BIGINT (a string) as a number. */
export function normaliseRecordset(
  recordset: sql.IRecordSet<Record<string, unknown>> | undefined,
): GoldRow[] {
  if (!recordset) return [];
  const columns = recordset.columns as unknown as Record<string, { type: unknown }>;
  return recordset.map((row) => {
    const out: GoldRow = {};
    for (const [name, value] of Object.entries(row)) {
      const type = columns[name]?.type;
      if (value === null || value === undefined) out[name] = null;
      else if (value instanceof Date)
        out[name] = type === sql.Date ? value.toISOString().slice(0, 10) : value.toISOString();
      else if (typeof value === 'string' && type === sql.BigInt) out[name] = Number(value);
      else if (typeof value === 'bigint') out[name] = Number(value);
      else out[name] = value as string | number | boolean;
    }
    return out;
  });
}
