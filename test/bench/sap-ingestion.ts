import { startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger } from '@aurora/core';
import { createBlobLake, createCheckpointStore, createTableClient, ParquetCodec } from '@aurora/lake';
import { addPlantDays, PlantModel, ProcurementModel, plantDayOf, SapRfcStandIn, toDats } from '@aurora/plant';
import {
  callRfc,
  goodsMovementRecords,
  MARD_FIELDS,
  mardRecords,
  parseReadTable,
  poDetailRecords,
  type RfcPool,
  readTableRequest,
  runSapTransactional,
} from '@aurora/sources';
import { benchKeyRing } from './key-ring.js';
import type { BenchRow } from './table.js';

const AT = '2026-11-23T08:00:00Z';
const LOOKBACK_DAYS = 3;
const PLANTS = ['1000', '2000', '3000'];

/** The runner's calls, flattened into records, nothing typed or landed: what the RFC side costs alone. */
async function fetchAlone(pool: RfcPool, today: string): Promise<number> {
  const from = addPlantDays(today, -LOOKBACK_DAYS);
  const postingDates = [{ SIGN: 'I', OPTION: 'BT', LOW: toDats(from), HIGH: toDats(today) }];
  let records = 0;
  const movements = goodsMovementRecords(
    await callRfc(pool, 'BAPI_GOODSMVT_GETITEMS', {
      PSTNG_DATE_RA: postingDates,
      PLANT_RA: PLANTS.map((p) => ({ SIGN: 'I', OPTION: 'EQ', LOW: p })),
    }),
  );
  records += movements.length;
  const listed = parseReadTable(
    await callRfc(
      pool,
      'RFC_READ_TABLE',
      readTableRequest(
        'EKKO',
        ['EBELN', 'AEDAT'],
        `BSTYP EQ 'F' AND AEDAT GE '${toDats(from)}' AND AEDAT LE '${toDats(today)}'`,
      ),
      { checkReturn: false },
    ),
  ).rows.map((r) => r['EBELN']!);
  const touched = movements
    .filter((m) => m.fields['MOVE_TYPE'] === '101')
    .map((m) => String(m.fields['PO_NUMBER']));
  const queue = [...new Set([...listed, ...touched])];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let po = queue.shift(); po; po = queue.shift()) {
        const result = await callRfc(pool, 'BAPI_PO_GETDETAIL', {
          PURCHASEORDER: po,
          ITEMS: 'X',
          SCHEDULES: 'X',
          HISTORY: 'X',
        });
        records += poDetailRecords(result).length;
      }
    }),
  );
  for (const plant of PLANTS)
    records += mardRecords(
      parseReadTable(
        await callRfc(
          pool,
          'RFC_READ_TABLE',
          readTableRequest(
            'MARD',
            MARD_FIELDS.map((f) => f.name),
            `WERKS EQ '${plant}'`,
          ),
          {
            checkReturn: false,
          },
        ),
      ),
    ).length;
  return records;
}

/**
 * SAP: a first transactional run over 3 days (goods movements, PO details on a pool of 4, MARD) from the
 * RFC stand-in into bronze on Azurite, beside the same calls with their results flattened but not landed as
 * the reference: the ratio is what typing, Parquet, the atomic commits and the checkpoints cost.
 */
export async function benchSapIngestion(): Promise<BenchRow[]> {
  const azurite = await startAzurite();
  const codec = await ParquetCodec.create();
  const keys = await benchKeyRing(azurite.connectionString, new ManualClock(AT));
  try {
    const clock = new ManualClock(AT);
    const data = new ProcurementModel(new PlantModel({ seed: 1 }));
    const standIn = new SapRfcStandIn({ data, clock });
    const pool = standIn.pool(
      { user: standIn.credentials['user']!, passwd: standIn.credentials['sap-rfc-password']! },
      { low: 2, high: 4 },
    );
    const today = plantDayOf(clock.now());
    // Warm the plant model's caches so both runs serve the same data from memory.
    await fetchAlone(pool, today);
    const fetchStarted = performance.now();
    const fetched = await fetchAlone(pool, today);
    const fetchS = (performance.now() - fetchStarted) / 1000;

    const landStarted = performance.now();
    const report = await runSapTransactional(
      {
        lake: createBlobLake({ connectionString: azurite.connectionString }),
        codec,
        checkpoints: createCheckpointStore(createTableClient(azurite.connectionString, 'cpsap')),
        clock,
        log: silentLogger,
        sealer: keys.ring,
        goodsMovementLookbackDays: LOOKBACK_DAYS,
        initialLookbackDays: LOOKBACK_DAYS,
        concurrency: 4,
      },
      pool,
    );
    const landS = (performance.now() - landStarted) / 1000;
    const landed = report.bapis.reduce((n, b) => n + b.landed, 0);
    if (!report.ok || landed !== fetched)
      throw new Error(`SAP: fetched ${fetched}, landed ${landed} (${report.summary})`);
    const reference = fetched / fetchS;
    return [
      {
        name: 'SAP RFC (stand-in, pool of 4): BAPI calls alone, 3-day first run',
        value: reference,
        unit: 'records/s',
        ratio: 1,
      },
      {
        name: 'SAP RFC: stand-in to bronze, 3-day first run (movements, PO details, MARD)',
        value: landed / landS,
        unit: 'records/s',
        ratio: landed / landS / reference,
        note: `${landed.toLocaleString('en')} records in ${landS.toFixed(1)} s`,
      },
    ];
  } finally {
    await keys.close();
    codec.close();
    await azurite.close();
  }
}
