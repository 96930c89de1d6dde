import { mkdtemp, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureWarehouse, sql } from '@aurora/api';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { createLogger, loadConfig, ManualClock } from '@aurora/core';
import { warehousePath } from '@aurora/engine';
import { type SourceStatusStore, type StorageClients, storageFromConnectionString } from '@aurora/lake';
import { localKeyFile } from '@aurora/privacy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SOURCES, localApi } from './api.js';

let home: string;
let azurite: RunningAzurite;
let storage: StorageClients;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'aurora-local-api-'));
  await buildFixtureWarehouse(warehousePath(home), { alerts: [] });
  azurite = await startAzurite();
  storage = storageFromConnectionString(azurite.connectionString);
});
afterAll(async () => {
  await azurite?.close();
  await rm(home, { recursive: true, force: true });
});

/** File descriptors of this process open on the warehouse file (Linux: /proc/self/fd). */
async function openOnWarehouse(): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd'))
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === warehousePath(home)) n++;
  return n;
}

describe('localApi', () => {
  it.skipIf(process.platform !== 'linux')(
    'closing it closes the gold reader and its DuckDB instance on the warehouse file',
    async () => {
      const api = localApi({
        config: loadConfig({ AURORA_HOME: home }),
        clock: new ManualClock(new Date('2026-11-23T08:00:00Z')),
        log: createLogger({ level: 'silent', name: 'test' }),
        status: { list: async () => [] } as unknown as SourceStatusStore,
        storage,
      });
      const services = await api.services();
      expect(services.context.knownSources).toBe(LOCAL_SOURCES);
      // Personal data is opened with this home's local key file, created on first use (mode 0600).
      expect(services.context.privacy?.ring.kekDescription).toBe(`local key file ${localKeyFile(home)}`);
      expect((await stat(localKeyFile(home))).mode & 0o777).toBe(0o600);
      const rows = await services.context.gold.query(sql`SELECT count(*) AS n FROM gold.agg_oee_hourly`);
      expect(rows).toEqual([{ n: 5 }]);
      expect(await openOnWarehouse()).toBeGreaterThan(0);
      await api.close();
      expect(await openOnWarehouse()).toBe(0);
    },
  );

  it('closing it before any request is a no-op', async () => {
    const api = localApi({
      config: loadConfig({ AURORA_HOME: home }),
      clock: new ManualClock(new Date()),
      log: createLogger({ level: 'silent', name: 'test' }),
      status: { list: async () => [] } as unknown as SourceStatusStore,
      storage,
    });
    await api.close();
  });
});
