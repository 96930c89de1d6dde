import { startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger, staticSecrets } from '@aurora/core';
import { createBlobLake, createCheckpointStore, createTableClient, ParquetCodec } from '@aurora/lake';
import {
  MES_ENTITIES,
  type MesStandIn,
  PlantModel,
  startHydraStandIn,
  startRegensburgStandIn,
  startSimaticStandIn,
} from '@aurora/plant';
import {
  createHydraConnector,
  createRegensburgConnector,
  createSimaticConnector,
  type MesConnector,
  runMesIngestion,
} from '@aurora/sources';
import type { BenchRow } from './table.js';

const AT = '2026-11-23T08:00:00Z';
const LOOKBACK_MS = 72 * 3_600_000;

interface Vendor {
  name: string;
  start: (data: PlantModel, clock: ManualClock) => Promise<MesStandIn>;
  connect: (standIn: MesStandIn, clock: ManualClock) => MesConnector;
}

const VENDORS: Vendor[] = [
  {
    name: 'SIMATIC IT (OAuth, OData JSON, pages of 500)',
    start: (data, clock) => startSimaticStandIn({ data, clock }),
    connect: (s, clock) =>
      createSimaticConnector({
        baseUrl: s.url,
        secrets: staticSecrets(s.credentials),
        clock,
        grant: 'password',
        clientId: s.credentials['clientId']!,
        username: s.credentials['username']!,
      }),
  },
  {
    name: 'HYDRA (API key, XML, cursor pages of 500)',
    start: (data, clock) => startHydraStandIn({ data, clock }),
    connect: (s, clock) =>
      createHydraConnector({
        baseUrl: s.url,
        secrets: staticSecrets(s.credentials),
        clock,
        accessId: s.credentials['accessId']!,
      }),
  },
  {
    name: 'Regensburg (Basic, one JSON array)',
    start: (data, clock) => startRegensburgStandIn({ data, clock }),
    connect: (s, clock) =>
      createRegensburgConnector({
        baseUrl: s.url,
        secrets: staticSecrets(s.credentials),
        clock,
        username: s.credentials['username']!,
      }),
  },
];

/**
 * Per MES: a 72-hour first run of all three entities from the stand-in into bronze on Azurite (fetch,
 * overlap bookkeeping, Parquet, atomic commit, checkpoint), beside the same connector's fetch alone as the
 * reference: the ratio is what landing costs on top of the protocol.
 */
export async function benchMesIngestion(): Promise<BenchRow[]> {
  const azurite = await startAzurite();
  const codec = await ParquetCodec.create();
  const rows: BenchRow[] = [];
  try {
    for (const vendor of VENDORS) {
      const clock = new ManualClock(AT);
      // Warmed below: both measurements then see the same cached plant, so they compare the pipelines.
      const plant = new PlantModel({ seed: 1 });
      const standIn = await vendor.start(plant, clock);
      try {
        const connector = vendor.connect(standIn, clock);
        const window = { from: new Date(Date.parse(AT) - LOOKBACK_MS), to: new Date(AT) };
        plant.snapshot(standIn.facilityId, window.to, window.from);
        let fetched = 0;
        const fetchStarted = performance.now();
        for (const entity of MES_ENTITIES)
          for await (const page of connector.fetch(entity, window)) fetched += page.records.length;
        const fetchS = (performance.now() - fetchStarted) / 1000;

        const suffix = vendor.name.slice(0, 3).toLowerCase();
        const landStarted = performance.now();
        const report = await runMesIngestion(
          {
            lake: createBlobLake({ connectionString: azurite.connectionString }),
            codec,
            checkpoints: createCheckpointStore(createTableClient(azurite.connectionString, `cp${suffix}`)),
            clock,
            log: silentLogger,
            overlapMs: 300_000,
            initialLookbackMs: LOOKBACK_MS,
          },
          connector,
        );
        const landS = (performance.now() - landStarted) / 1000;
        const landed = report.entities.reduce((n, e) => n + e.landed, 0);
        if (!report.ok || landed !== fetched)
          throw new Error(`${vendor.name}: fetched ${fetched}, landed ${landed} (${report.summary})`);
        const reference = fetched / fetchS;
        rows.push({
          name: `MES ${vendor.name}: connector fetch alone`,
          value: reference,
          unit: 'records/s',
          ratio: 1,
        });
        rows.push({
          name: `MES ${vendor.name}: stand-in to bronze, 72 h first run`,
          value: landed / landS,
          unit: 'records/s',
          ratio: landed / landS / reference,
          note: `${landed.toLocaleString('en')} records in ${landS.toFixed(1)} s`,
        });
      } finally {
        await standIn.close();
      }
    }
  } finally {
    codec.close();
    await azurite.close();
  }
  return rows;
}
