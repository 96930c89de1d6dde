import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { createLogger, ManualClock } from '@aurora/core';
import { bronzePaths, createBlobLake, type Lake, ParquetCodec, type ParquetSchema } from '@aurora/lake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from './project.js';
import { runMedallion } from './run.js';
import { queryWarehouse } from './warehouse.js';

/** gold.fact_inventory of pipelines/ over hand-made SAP stock (MARD) bronze. */

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
const homes: string[] = [];
const clock = new ManualClock(new Date('2026-11-23T09:00:00Z'));
const log = createLogger({ level: 'silent', name: 'test' });

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

const MARD: ParquetSchema = [
  { name: 'MATNR', type: 'VARCHAR' },
  { name: 'WERKS', type: 'VARCHAR' },
  { name: 'LGORT', type: 'VARCHAR' },
  { name: 'LABST', type: 'DOUBLE' },
  { name: 'INSME', type: 'DOUBLE' },
  { name: 'SPEME', type: 'DOUBLE' },
  { name: 'UMLME', type: 'DOUBLE' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
];

/** One RFC_READ_TABLE MARD extraction of plant 1000 (augsburg), as the SAP runner lands it. */
async function landMard(extractedAt: string, micros: number, stock: [string, number][]) {
  const at = new Date(extractedAt);
  const rows = stock.map(([lgort, labst]) => ({
    MATNR: 'AUR-10011',
    WERKS: '1000',
    LGORT: lgort,
    LABST: labst,
    INSME: 1,
    SPEME: 0,
    UMLME: 0,
    _extracted_at: at,
    _batch_id: `sap-rfc_read_table_mard-${extractedAt}`,
  }));
  const { bytes } = await codec.encode(MARD, rows);
  await lake.put(bronzePaths.sap('rfc_read_table_mard', at, micros), bytes);
}

describe('gold.fact_inventory', () => {
  it("counts an extraction landed twice once, and takes the day's last extraction", async () => {
    const home = await mkdtemp(join(tmpdir(), 'aurora-inventory-'));
    homes.push(home);
    await landMard('2026-11-23T06:00:00Z', 0, [
      ['0001', 500],
      ['0002', 20],
    ]);
    // The 08:00 extraction, landed by a run and again by its repetition after a crash.
    for (const micros of [0, 1])
      await landMard('2026-11-23T08:00:00Z', micros, [
        ['0001', 400],
        ['0002', 30],
      ]);
    const report = await runMedallion(
      { lake, codec, clock, log, home },
      { project: await loadProject(), publish: false },
    );
    expect(report.models.find((m) => m.model === 'gold.fact_inventory')?.error).toBeUndefined();
    const { rows } = await queryWarehouse(
      home,
      `SELECT facility_id, material_id, CAST(snapshot_date AS VARCHAR) AS day, unrestricted_qty, inspection_qty
       FROM gold.fact_inventory WHERE unrestricted_qty > 0`,
    );
    expect(rows).toEqual([
      {
        facility_id: 'augsburg',
        material_id: 'AUR-10011',
        day: '2026-11-23',
        unrestricted_qty: 430,
        inspection_qty: 2,
      },
    ]);
  }, 120_000);
});
