import type { SqlRunner } from '@aurora/engine';
import { DefaultAzureCredential } from '@azure/identity';
import sql from 'mssql';

/**
 * The dedicated pool over TDS with the Function App's managed identity. One pool per instance, opened on
 * first use; COPY INTO and REBUILD take minutes, hence the long request timeout.
 */
export function synapseRunner(pool: { server: string; database: string }): () => Promise<SqlRunner> {
  let connected: Promise<sql.ConnectionPool> | undefined;
  return async () => {
    connected ??= new sql.ConnectionPool({
      server: pool.server,
      database: pool.database,
      port: 1433,
      authentication: {
        type: 'token-credential',
        options: { credential: new DefaultAzureCredential() },
      },
      options: { encrypt: true, trustServerCertificate: false },
      requestTimeout: 30 * 60_000,
      pool: { max: 4 },
    }).connect();
    const connection = await connected;
    return {
      async query(text) {
        const result = await connection.request().query(text);
        return (result.recordset ?? []) as Record<string, unknown>[];
      },
    };
  };
}
