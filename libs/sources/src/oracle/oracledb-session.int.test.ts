import { createServer } from 'node:net';
import oracledb from 'oracledb';
import { describe, expect, it } from 'vitest';
import { createOracledbSessionFactory, oracleFetchTypeHandler } from './oracledb-session.js';

describe('oracledb session', () => {
  it('fetches NUMBER, DATE, TIMESTAMP and CLOB as text, and leaves VARCHAR2 alone', () => {
    const handler = oracleFetchTypeHandler(oracledb);
    for (const dbType of [
      oracledb.DB_TYPE_NUMBER,
      oracledb.DB_TYPE_DATE,
      oracledb.DB_TYPE_TIMESTAMP,
      oracledb.DB_TYPE_CLOB,
    ])
      expect(handler({ dbType })).toEqual({ type: oracledb.STRING });
    expect(handler({ dbType: oracledb.DB_TYPE_VARCHAR })).toBeUndefined();
  });

  it('names the connect string setting when what answers on the port is not Oracle', async () => {
    const server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const connect = createOracledbSessionFactory({
        connectString: `127.0.0.1:${port}/EBSPROD`,
        user: 'AURORA_CDC',
        password: async () => 'not-a-secret',
        connectTimeoutS: 5,
      });
      const error = (await connect().then(
        () => ({ code: 'connected', message: '' }),
        (e: unknown) => e,
      )) as { code: string; message: string };
      expect(error).toMatchObject({ code: 'source.unavailable' });
      expect(error.message).toContain('AURORA_ERP_CONNECT_STRING');
      expect(error.message).toContain('thin mode');
    } finally {
      server.close();
    }
  });
});
