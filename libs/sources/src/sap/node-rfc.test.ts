import { staticSecrets } from '@aurora/core';
import { describe, expect, it } from 'vitest';
import { createNodeRfcPool, loadNodeRfc, SapClientUnavailableError } from './node-rfc.js';

const sap = {
  connection: { ashost: 'sap-prd', sysnr: '00', client: '100', user: 'AURORA_RFC', lang: 'EN' },
  pool: { low: 1, high: 3 },
  timeoutS: 60,
  goodsMovementLookbackDays: 3,
  initialLookbackDays: 3,
};

describe('node-rfc, loaded only when SAP is configured', () => {
  it('names the SDK and SAPNWRFC_HOME when node-rfc is not installed (as on this machine)', async () => {
    const specifier = 'node-rfc';
    const error = await loadNodeRfc(() => import(specifier)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SapClientUnavailableError);
    expect((error as Error).message).toMatch(/node-rfc is not installed.*NW RFC SDK \(SAPNWRFC_HOME\)/);
    expect((error as SapClientUnavailableError).kind).toBe('config');
  });

  it('says the SDK is missing when node-rfc is there but libsapnwrfc cannot be loaded', async () => {
    // What node-rfc 3.3.1's prebuilt addon throws on Linux without the SDK (checked by hand).
    const dlopen = Object.assign(
      new Error('libsapnwrfc.so: cannot open shared object file: No such file or directory'),
      {
        code: 'ERR_DLOPEN_FAILED',
      },
    );
    const error = await loadNodeRfc(async () => {
      throw dlopen;
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /cannot load the SAP NW RFC SDK \(libsapnwrfc\.so.*SAPNWRFC_HOME.*LD_LIBRARY_PATH/,
    );
  });

  it('builds a node-rfc Pool from the configuration and the secret, and hands out its clients', async () => {
    const made: unknown[] = [];
    class Pool {
      status = { ready: 0, leased: 0 };
      constructor(readonly configuration: unknown) {
        made.push(configuration);
      }
      async acquire() {
        return {
          alive: true,
          open: async () => {},
          close: async () => {},
          call: async () => ({ RETURN: [] }),
        };
      }
      async release() {}
      async closeAll() {}
    }
    const pool = await createNodeRfcPool(sap, {
      secrets: staticSecrets({ 'sap-rfc-password': 's3cret-pw' }),
      importNodeRfc: async () => ({ Pool }),
    });
    expect(made).toEqual([
      {
        connectionParameters: {
          user: 'AURORA_RFC',
          passwd: 's3cret-pw',
          lang: 'EN',
          ashost: 'sap-prd',
          sysnr: '00',
          client: '100',
        },
        clientOptions: { stateless: true, timeout: 60 },
        poolOptions: { low: 1, high: 3 },
      },
    ]);
    const client = await pool.acquire();
    expect(await client.call('BAPI_MATERIAL_GETLIST', {})).toEqual({ RETURN: [] });
  });
});
