import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@aurora/core';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from './auth.js';
import type { ApiContext } from './context.js';
import { DuckDbGoldReader } from './duckdb-reader.js';
import { buildFixtureWarehouse } from './fixture-warehouse.js';
import type { GoldReader } from './gold-reader.js';
import { oeeEndpoint } from './oee.js';

/**
 * The OEE answer memo against the real DuckDB reader: the same explicit window is computed once while the
 * warehouse file is the same, and a medallion-style replacement of the file (rename over it) is seen by
 * the very next request.
 */
let home: string;
let file: string;
let duck: DuckDbGoldReader;
let statements = 0;
const analyst: Principal = { subject: 't', roles: new Set(['analyst']), facilities: 'all' };
const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'aurora-oee-memo-'));
  file = join(home, 'warehouse.duckdb');
  await buildFixtureWarehouse(file, { alerts: [] });
  duck = new DuckDbGoldReader({ file, connections: 1 });
});
afterAll(async () => {
  await duck.close();
  await rm(home, { recursive: true, force: true });
});

function endpoint() {
  const gold: GoldReader = {
    dialect: 'duckdb',
    query: (s) => {
      statements++;
      return duck.query(s);
    },
    snapshot: () => duck.snapshot(),
    close: async () => {},
  };
  const ctx: ApiContext = {
    gold,
    clock,
    facilities: ['augsburg', 'ingolstadt', 'regensburg'],
    sourceStatus: { list: async () => [] },
    knownSources: [],
    iotSlaS: 300,
  };
  return oeeEndpoint(ctx);
}

const oee = (e: ReturnType<typeof endpoint>, query: Record<string, string>) =>
  e.handle({ params: { facility_id: 'augsburg' }, query, body: undefined, principal: analyst }) as Promise<{
    window: { figures: { good_count: number; total_count: number } };
  }>;

describe('OEE answers memoized per warehouse file', () => {
  it('computes an explicit window once, and again after the warehouse file is replaced', async () => {
    const e = endpoint();
    const window = { from: '2026-11-23T00:00:00Z', to: '2026-11-23T08:00:00Z' };
    const first = await oee(e, window);
    expect(first.window.figures).toMatchObject({ total_count: 1110, good_count: 1085 });
    expect(await oee(e, window)).toBe(first);
    expect(statements).toBe(1);
    // Another window is its own answer.
    await oee(e, { ...window, to: '2026-11-23T07:00:00Z' });
    expect(statements).toBe(2);

    // A medallion run: a new file built beside the warehouse, renamed over it.
    const next = join(home, 'next.duckdb');
    await buildFixtureWarehouse(next, { alerts: [] });
    const db = await DuckDBInstance.create(next);
    const c = await db.connect();
    await c.run("UPDATE gold.agg_oee_hourly SET good_count = 0 WHERE facility_id = 'augsburg'");
    c.closeSync();
    db.closeSync();
    await rename(next, file);

    const after = await oee(e, window);
    expect(statements).toBe(3);
    expect(after.window.figures).toMatchObject({ total_count: 1110, good_count: 0 });
  });

  it('"as of now" (no `to`) is computed on every request', async () => {
    const e = endpoint();
    const before = statements;
    await oee(e, {});
    await oee(e, {});
    expect(statements - before).toBe(2);
  });
});
