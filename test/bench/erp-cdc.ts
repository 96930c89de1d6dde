import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger } from '@aurora/core';
import { loadProject, orderModels, type Project, runMedallion } from '@aurora/engine';
import { createBlobLake, createCheckpointStore, createTableClient, ParquetCodec } from '@aurora/lake';
import { ErpModel, PlantModel } from '@aurora/plant';
import { DEFAULT_ERP_TABLES, ErpStandIn, runErpIngestion } from '@aurora/sources';
import { benchKeyRing } from './key-ring.js';
import type { BenchRow } from './table.js';

const AT = '2026-11-23T08:00:00Z';

/**
 * The silver models fed by the ERP (any input under bronze.erp_*) and the silver tables they read:
 * extract to silver is the CDC run to bronze plus these models over the ERP's bronze.
 */
async function erpSilverProject(): Promise<Project> {
  const project = await loadProject();
  const byName = new Map(project.models.map((m) => [m.name, m]));
  const wanted = new Set<string>();
  const add = (name: string) => {
    const model = byName.get(name);
    if (model?.layer !== 'silver' || wanted.has(name)) return;
    wanted.add(name);
    for (const input of model.requires) add(input);
  };
  for (const m of project.models) if (m.inputs.some((i) => i.startsWith('bronze.erp_'))) add(m.name);
  const levels = orderModels(project.models.filter((m) => wanted.has(m.name)));
  return { ...project, models: levels.flat(), levels };
}

/**
 * ERP: one CDC increment of `changes` changed rows (80 % inserts of MTL_MATERIAL_TRANSACTIONS in
 * transactions of 100, 20 % updates of them) in one LogMiner window, from the ERP stand-in to bronze
 * through the real runner (V$LOGMNR_CONTENTS streamed as text, transactions assembled, SQL_REDO parsed,
 * rows typed, Parquet, the atomic put, the SCN checkpoint). The reference is the same rows read straight
 * from the stand-in's DuckDB tables and written as Parquet, without the connector: the ratio is what
 * mining the redo costs over copying the table. Then extract to silver (ARCHITECTURE §6): the ERP's silver
 * models (inventory movements with CDC applied in SCN order, materials, customers, suppliers) over that
 * bronze, as the medallion runs them (mirror, models, expectations, Delta commits).
 */
export async function benchErpCdc(changes: number): Promise<BenchRow[]> {
  const azurite = await startAzurite();
  const clock = new ManualClock(AT);
  const standIn = await ErpStandIn.open({
    model: new ErpModel(new PlantModel({ seed: 1 })),
    clock,
    historyMs: 2 * 3_600_000,
  });
  const keys = await benchKeyRing(azurite.connectionString, clock);
  const codec = await ParquetCodec.create();
  const home = await mkdtemp(join(tmpdir(), 'aurora-bench-erp-silver-'));
  try {
    const deps = {
      lake: createBlobLake({ connectionString: azurite.connectionString }),
      checkpoints: createCheckpointStore(createTableClient(azurite.connectionString, 'cperp')),
      clock,
      log: silentLogger,
      sealer: keys.ring,
      connect: () => standIn.session(),
      tables: DEFAULT_ERP_TABLES,
      timeZone: 'Europe/Berlin',
      snapshotLookbackS: 600,
      watermarkLookbackS: 3600,
      chunkRows: 50_000,
    };
    const first = await runErpIngestion(deps);
    if (!first.ok) throw new Error(`ERP first run: ${first.summary}`);

    const updates = Math.round(changes * 0.2);
    const bulk = await standIn.bulkIncrement({ inserts: changes - updates, updates, transactionRows: 100 });

    const started = performance.now();
    const report = await runErpIngestion(deps);
    const cdcS = (performance.now() - started) / 1000;
    const mmt = report.tables.find((t) => t.table === 'INV.MTL_MATERIAL_TRANSACTIONS');
    if (!report.ok || mmt?.inserts !== changes - updates || mmt.updates !== updates || report.deadLettered)
      throw new Error(`ERP increment: expected ${changes} changes, got ${report.summary}`);

    const silverStarted = performance.now();
    const silver = await runMedallion(
      { lake: deps.lake, codec, clock, log: silentLogger, home },
      { project: await erpSilverProject() },
    );
    const silverS = (performance.now() - silverStarted) / 1000;
    if (!silver.ok) throw new Error(`ERP silver: ${silver.problems.join('; ')}`);
    const movements = silver.models.find((m) => m.model === 'silver.inventory_movements')?.rows ?? 0;
    if (movements < changes - updates)
      throw new Error(`ERP silver: ${movements} inventory movements, expected at least ${changes - updates}`);

    const file = join(tmpdir(), `aurora-bench-erp-${process.pid}.parquet`);
    const ids = `"TRANSACTION_ID" BETWEEN ${bulk.firstTransactionId} AND`;
    const refStarted = performance.now();
    await standIn.connection.run(
      `COPY (SELECT * FROM "INV"."MTL_MATERIAL_TRANSACTIONS" WHERE ${ids} ${bulk.lastTransactionId}
        UNION ALL SELECT * FROM "INV"."MTL_MATERIAL_TRANSACTIONS" WHERE ${ids} ${bulk.firstTransactionId + updates - 1})
        TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    const bytes = await readFile(file);
    const refS = (performance.now() - refStarted) / 1000;
    const copied = Number(
      (
        await standIn.connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${file}')`)
      ).getRowObjects()[0]?.['n'],
    );
    if (copied !== changes) throw new Error(`reference: ${copied} rows copied, expected ${changes}`);
    await rm(file, { force: true });
    const reference = (changes / refS) * 60;
    const rate = (changes / cdcS) * 60;
    const toSilver = (changes / (cdcS + silverS)) * 60;
    return [
      {
        name: 'ERP increment: the same rows straight from the stand-in tables to Parquet (no connector)',
        value: reference,
        unit: 'rows/min',
        ratio: 1,
        note: `${(bytes.length / 2 ** 20).toFixed(1)} MiB Parquet`,
      },
      {
        name: `ERP increment: ${changes.toLocaleString('en')} changed rows in one LogMiner window, stand-in to bronze (CDC runner)`,
        value: rate,
        unit: 'rows/min',
        ratio: rate / reference,
        note: `${cdcS.toFixed(1)} s`,
      },
      {
        name: `ERP increment: the same ${changes.toLocaleString('en')} rows extracted to silver (CDC to bronze, then the ERP's ${silver.models.length} silver models)`,
        value: toSilver,
        unit: 'rows/min',
        ratio: toSilver / reference,
        note: `${cdcS.toFixed(1)} s + ${silverS.toFixed(1)} s; ${movements.toLocaleString('en')} rows in silver.inventory_movements; target >= 1,000,000 rows/min`,
      },
    ];
  } finally {
    await rm(home, { recursive: true, force: true });
    codec.close();
    await keys.close();
    standIn.close();
    await azurite.close();
  }
}
