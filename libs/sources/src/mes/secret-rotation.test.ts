import { cachedSecrets, envSecrets, ManualClock, SourceUnavailableError } from '@aurora/core';
import {
  type FacilityId,
  type MesDataSource,
  type MesStandIn,
  startHydraStandIn,
  startRegensburgStandIn,
  startSimaticStandIn,
} from '@aurora/plant';
import { describe, expect, it } from 'vitest';
import type { MesConnector } from './connector.js';
import { createHydraConnector } from './hydra/connector.js';
import { createRegensburgConnector } from './regensburg/connector.js';
import { createSimaticConnector } from './simatic-it/connector.js';

/** An MES with nothing in it: this test is about credentials, not records. */
const empty: MesDataSource = {
  snapshot: () => ({ orders: [], machineStates: [], qualityMeasurements: [] }),
};
const clock = new ManualClock('2026-11-23T08:00:00Z');
const window = { from: new Date('2026-11-23T07:00:00Z'), to: new Date('2026-11-23T08:00:00Z') };
const drain = async (connector: MesConnector) => {
  for await (const _page of connector.fetch('machine_states', window));
};
const portOf = (s: MesStandIn) => Number(new URL(s.url).port);

interface Case {
  facility: FacilityId;
  variable: string;
  /** Secrets that do not rotate in this test. */
  fixed?: Record<string, string>;
  start: (secret: string, port?: number) => Promise<MesStandIn>;
  connect: (url: string, secrets: ReturnType<typeof cachedSecrets>) => MesConnector;
}

const cases: Case[] = [
  {
    facility: 'augsburg',
    variable: 'AURORA_MES_SIMATIC_PASSWORD',
    fixed: { AURORA_MES_SIMATIC_CLIENT_SECRET: 'client-secret-1' },
    start: (password, port) =>
      startSimaticStandIn({
        data: empty,
        clock,
        ...(port ? { port } : {}),
        credentials: { clientId: 'aurora', clientSecret: 'client-secret-1', username: 'AUG\\svc', password },
      }),
    connect: (baseUrl, secrets) =>
      createSimaticConnector({
        baseUrl,
        secrets,
        clock,
        grant: 'password',
        clientId: 'aurora',
        username: 'AUG\\svc',
      }),
  },
  {
    facility: 'ingolstadt',
    variable: 'AURORA_MES_HYDRA_API_KEY',
    start: (key, port) =>
      startHydraStandIn({
        data: empty,
        clock,
        ...(port ? { port } : {}),
        credentials: { 'mes-hydra-api-key': key, accessId: '00123456' },
      }),
    connect: (baseUrl, secrets) => createHydraConnector({ baseUrl, secrets, clock, accessId: '00123456' }),
  },
  {
    facility: 'regensburg',
    variable: 'AURORA_MES_REGENSBURG_PASSWORD',
    start: (password, port) =>
      startRegensburgStandIn({
        data: empty,
        clock,
        ...(port ? { port } : {}),
        credentials: { username: 'aurora', 'mes-regensburg-password': password },
      }),
    connect: (baseUrl, secrets) => createRegensburgConnector({ baseUrl, secrets, clock, username: 'aurora' }),
  },
];

describe('MES connectors and a rotated secret', () => {
  it.each(cases)(
    '$facility: after one rejection the next run reads the new secret, although the cached one has an hour to live',
    async ({ variable, fixed, start, connect }) => {
      const env: Record<string, string> = { ...fixed, [variable]: 'before-rotation-1' };
      const secrets = cachedSecrets(envSecrets(env), { ttlMs: 3_600_000, clock });
      let mes = await start('before-rotation-1');
      const port = portOf(mes);
      const connector = connect(mes.url, secrets);
      try {
        await drain(connector);
        // The credential is rotated in the MES and in the secret store.
        await mes.close();
        mes = await start('after-rotation-2', port);
        env[variable] = 'after-rotation-2';
        // The runner's next attempts: the first ones meet the rejection (and a dropped keep-alive socket
        // where the server restarted); without re-reading past the cache every attempt would fail for an hour.
        const failures: unknown[] = [];
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            await drain(connector);
            break;
          } catch (error) {
            failures.push(error);
          }
        }
        expect(failures.length).toBeGreaterThan(0);
        expect(failures.length).toBeLessThan(3);
        expect(failures.every((e) => e instanceof SourceUnavailableError)).toBe(true);
      } finally {
        await mes.close();
      }
    },
  );
});
