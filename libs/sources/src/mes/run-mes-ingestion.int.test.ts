import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger, staticSecrets } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createSourceStatusStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { type MesStandIn, PlantModel, regensburgMeasurementId, startRegensburgStandIn } from '@aurora/plant';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegensburgConnector } from './regensburg/connector.js';
import type { MesCheckpoint } from './run-mes-ingestion.js';
import { type MesIngestionDeps, runMesIngestion } from './run-mes-ingestion.js';

let codec: ParquetCodec;
const plant = new PlantModel({ seed: 1 });
const running: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec.close();
  await Promise.all(running.map((r) => r.close()));
});

/** A lake of its own (an in-memory Azurite), a Regensburg stand-in on the plant model, and its connector. */
async function setup(start: string, overrides: Partial<MesIngestionDeps> = {}) {
  const clock = new ManualClock(start);
  const azurite: RunningAzurite = await startAzurite();
  running.push(azurite);
  const lake: Lake = createBlobLake({ connectionString: azurite.connectionString });
  const checkpoints = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpoints'));
  const status = createSourceStatusStore(createTableClient(azurite.connectionString, 'sourcestatus'));
  const standIn: MesStandIn = await startRegensburgStandIn({ data: plant, clock });
  running.push(standIn);
  const connector = createRegensburgConnector({
    baseUrl: standIn.url,
    secrets: staticSecrets(standIn.credentials),
    clock,
    username: standIn.credentials['username']!,
  });
  const deps: MesIngestionDeps = {
    lake,
    codec,
    checkpoints,
    status,
    clock,
    log: silentLogger,
    overlapMs: 300_000,
    initialLookbackMs: 3_600_000,
    sleep: clock.sleep,
    ...overrides,
  };
  return { clock, lake, checkpoints, status, standIn, connector, deps };
}

async function landedRows(lake: Lake, prefix: string) {
  const rows: Record<string, unknown>[] = [];
  for await (const file of lake.list(prefix)) rows.push(...(await codec.decode(await lake.get(file.path))));
  return rows;
}

describe('runMesIngestion', () => {
  it('lands every record version exactly once across overlapping 15-minute windows, late commits included', async () => {
    const { clock, lake, standIn, connector, deps } = await setup('2026-11-23T06:00:00Z');
    try {
      let duplicates = 0;
      for (let run = 0; run < 12; run++) {
        const report = await runMesIngestion(deps, connector);
        expect(report.ok).toBe(true);
        duplicates += report.entities.reduce((n, e) => n + e.duplicates, 0);
        clock.advance(15 * 60_000);
      }
      // The overlap re-read records every time, and none of them landed twice.
      expect(duplicates).toBeGreaterThan(0);
      const rows = await landedRows(lake, 'bronze/mes/regensburg/quality_measurements/');
      const versions = rows.map((r) => `${r['_record_key']}|${r['_modified_at']}`);
      expect(new Set(versions).size).toBe(versions.length);
      // Everything the plant measured from the first window's start until 90 s (the longest commit delay)
      // before the last window's end is there.
      const lastEnd = new Date('2026-11-23T08:45:00Z').getTime();
      const expected = plant.catalogue.machines
        .filter((m) => m.facilityId === 'regensburg')
        .flatMap((m) =>
          plant.measurements(m.id, new Date('2026-11-23T05:00:00Z'), new Date(lastEnd - 90_000)),
        );
      expect(expected.length).toBeGreaterThan(50);
      const landedKeys = new Set(rows.map((r) => r['_record_key']));
      expect(
        expected.filter((m) => !landedKeys.has(String(regensburgMeasurementId(m.measurementId)))),
      ).toEqual([]);
      // Each row keeps the vendor's fields next to the lineage columns.
      expect(rows[0]).toMatchObject({ _source: 'mes-regensburg' });
      expect(String(rows[0]?.['_batch_id'])).toMatch(/^mes-regensburg-quality_measurements-\d{8}T\d{12}Z$/);
    } finally {
      await standIn.close();
    }
  });

  it('loses nothing from a MES whose clock runs 3 h behind: the window follows the MES clock, not ours', async () => {
    const { clock, lake, standIn, connector, deps } = await setup('2026-11-23T06:00:00Z', {
      initialLookbackMs: 4 * 3_600_000,
    });
    try {
      standIn.faults.clockSkewMs = -3 * 3_600_000;
      for (let run = 0; run < 12; run++) {
        expect((await runMesIngestion(deps, connector)).ok).toBe(true);
        clock.advance(15 * 60_000);
      }
      const rows = await landedRows(lake, 'bronze/mes/regensburg/quality_measurements/');
      const versions = rows.map((r) => `${r['_record_key']}|${r['_modified_at']}`);
      expect(new Set(versions).size).toBe(versions.length);
      // The first window reached 4 h back on our clock, 1 h back in true time; the last ended at 08:45.
      const expected = plant.catalogue.machines
        .filter((m) => m.facilityId === 'regensburg')
        .flatMap((m) =>
          plant.measurements(m.id, new Date('2026-11-23T05:05:00Z'), new Date('2026-11-23T08:43:30Z')),
        );
      expect(expected.length).toBeGreaterThan(50);
      const landedKeys = new Set(rows.map((r) => r['_record_key']));
      expect(
        expected.filter((m) => !landedKeys.has(String(regensburgMeasurementId(m.measurementId)))),
      ).toEqual([]);
    } finally {
      await standIn.close();
    }
  });

  it('loses late commits without the overlap: the reason it exists', async () => {
    const { clock, lake, standIn, connector, deps } = await setup('2026-11-23T06:00:00Z', { overlapMs: 0 });
    try {
      for (let run = 0; run < 12; run++) {
        await runMesIngestion(deps, connector);
        clock.advance(15 * 60_000);
      }
      const landedKeys = new Set(
        (await landedRows(lake, 'bronze/mes/regensburg/quality_measurements/')).map((r) => r['_record_key']),
      );
      const measured = plant.catalogue.machines
        .filter((m) => m.facilityId === 'regensburg')
        .flatMap((m) =>
          plant.measurements(m.id, new Date('2026-11-23T05:00:00Z'), new Date('2026-11-23T08:43:30Z')),
        );
      expect(
        measured.filter((m) => !landedKeys.has(String(regensburgMeasurementId(m.measurementId)))).length,
      ).toBeGreaterThan(0);
    } finally {
      await standIn.close();
    }
  });

  it('retries after 30, 60 and 120 s, then dead-letters the window and keeps it open for the next run', async () => {
    const { clock, lake, checkpoints, status, standIn, connector, deps } =
      await setup('2026-11-23T10:00:00Z');
    try {
      standIn.faults.inject({ fault: 'http_500', entity: 'production_orders', times: 4 });
      const first = await runMesIngestion(deps, connector);
      expect(clock.sleeps).toEqual([30_000, 60_000, 120_000]);
      const orders = first.entities.find((e) => e.entity === 'production_orders')!;
      expect(orders).toMatchObject({ ok: false, landed: 0, error: { code: 'source.unavailable' } });
      expect(
        first.entities.filter((e) => e.entity !== 'production_orders').every((e) => e.ok && e.landed > 0),
      ).toBe(true);
      expect(first.ok).toBe(false);
      // Nothing landed, so the checkpoint only pins where the failed window starts.
      expect((await checkpoints.load<MesCheckpoint>('mes-regensburg', 'production_orders'))?.value).toEqual({
        watermark: orders.window.from,
        seen: [],
      });
      const letter = JSON.parse((await lake.get(orders.deadLetterFile!)).toString()) as {
        code: string;
        context: { entity: string; window: { from: string; to: string }; attempts: number; status: number };
      };
      expect(letter).toMatchObject({
        code: 'mes.unavailable',
        context: { entity: 'production_orders', window: orders.window, attempts: 4, status: 500 },
      });
      expect((await status.get('mes-regensburg'))?.lastError).toMatch(/^production_orders: /);

      clock.advance(15 * 60_000);
      const second = await runMesIngestion(deps, connector);
      const retried = second.entities.find((e) => e.entity === 'production_orders')!;
      expect(retried.ok).toBe(true);
      expect(Date.parse(retried.window.from)).toBe(Date.parse(orders.window.from) - deps.overlapMs);
      expect(retried.landed).toBeGreaterThan(0);
      expect((await status.get('mes-regensburg'))?.lastError).toBeUndefined();
      // The window moves on to the newest change the MES served.
      const cp = await checkpoints.load<MesCheckpoint>('mes-regensburg', 'production_orders');
      expect(cp?.value.watermark).toBe(retried.latestModifiedAt);
      expect(Date.parse(cp!.value.watermark)).toBeLessThanOrEqual(Date.parse(retried.window.to));
    } finally {
      await standIn.close();
    }
  });

  it('gets over a truncated body on the next attempt, and lands a field it has never seen as a new column', async () => {
    const { lake, standIn, connector, deps } = await setup('2026-11-23T10:00:00Z');
    try {
      standIn.faults.inject({ fault: 'truncated', entity: 'machine_states', times: 1 });
      standIn.faults.inject({ fault: 'new_field', entity: 'quality_measurements', times: 1 });
      const report = await runMesIngestion(deps, connector);
      expect(report.ok).toBe(true);
      expect(report.entities.find((e) => e.entity === 'machine_states')!.landed).toBeGreaterThan(0);
      const plain = await landedRows(lake, 'bronze/mes/regensburg/machine_states/');
      const extended = await landedRows(lake, 'bronze/mes/regensburg/quality_measurements/');
      const plainColumns = Object.keys(
        (await landedRows(lake, 'bronze/mes/regensburg/production_orders/'))[0]!,
      );
      expect(plain.length).toBeGreaterThan(0);
      expect(plainColumns).toContain('_record_key');
      // new_field adds a column no normal response has; it lands rather than breaking the run.
      const columns = Object.keys(extended[0]!);
      const normal = await setup('2026-11-23T10:00:00Z');
      try {
        await runMesIngestion(normal.deps, normal.connector);
        const normalColumns = Object.keys(
          (await landedRows(normal.lake, 'bronze/mes/regensburg/quality_measurements/'))[0]!,
        );
        expect(columns.filter((c) => !normalColumns.includes(c)).length).toBe(1);
      } finally {
        await normal.standIn.close();
      }
    } finally {
      await standIn.close();
    }
  });
});
