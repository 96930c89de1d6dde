import type { AuroraConfig, Clock, Logger } from '@aurora/core';
import { apiApp } from '@aurora/functions-api/functions';
import {
  ERP_FUNCTION,
  IOT_TELEMETRY_FUNCTION,
  ingestApp,
  MES_FUNCTIONS,
} from '@aurora/functions-ingest/functions';
import { SAP_FUNCTIONS, sapApp } from '@aurora/functions-sap/functions';
import {
  type CheckpointStore,
  createCheckpointStore,
  createSourceStatusStore,
  ParquetCodec,
  type RunOutcome,
  type SourceStatusStore,
} from '@aurora/lake';
import { type FacilityId, type MesStandIn, PlantModel } from '@aurora/plant';
import { erasedKeyIdsOf, openPrivacy, type Privacy } from '@aurora/privacy';
import { LocalHost } from '@aurora/runtime';
import {
  EdgeBridge,
  type EmbeddedBroker,
  type ErpIngestionReport,
  type MesIngestionReport,
  startEmbeddedBroker,
} from '@aurora/sources';
import { type LocalApi, localApi } from './api.js';
import { type LocalErp, openErp } from './erp.js';
import { LOCAL_MEDALLION_TIMER, localMedallionApp } from './medallion.js';
import { openMes } from './mes.js';
import { type LocalSap, openSap } from './sap.js';
import { openStorage, type PlatformStorage } from './storage.js';

export interface PlatformOptions {
  config: AuroraConfig;
  log: Logger;
  clock: Clock;
  /** `start` takes the configured ports and schedules timers; one-shot commands take free ports. */
  mode: 'service' | 'one-shot';
  /** Seed of the simulated plant behind the MES stand-ins; default 1. */
  seed?: number;
  /**
   * The plant's time: what the stand-ins serve "now" and where MES windows end. A cycle of `run --once`
   * freezes it at `--at`; by default it is `clock`.
   */
  plantClock?: Clock;
}

/** What landed through the platform since it opened, per source. */
export interface LandingTotals {
  rows: number;
  deadLettered: number;
  batches: number;
  latestEventAt?: Date;
}

/**
 * The local platform, composed: storage (Azurite), the Function Apps on the local host, the MQTT broker
 * and the edge bridge feeding the telemetry handler. Every command that needs more than the lake opens it.
 */
export class LocalPlatform {
  /** The Oracle ERP the ERP timer reads (the stand-in when simulating). */
  erp!: LocalErp;
  /** Every ERP ingestion report since the platform opened, oldest first. */
  erpReports!: ErpIngestionReport[];
  /** The privacy key ring (landing seals personal data with it) and the audit log, opened once. */
  privacy!: Privacy;
  /** The api app's services (built on its first request); closed with the platform. */
  private api: LocalApi | undefined;

  private constructor(
    readonly totals: ReadonlyMap<string, LandingTotals>,
    readonly options: PlatformOptions,
    readonly storage: PlatformStorage,
    readonly codec: ParquetCodec,
    readonly status: SourceStatusStore,
    readonly checkpoints: CheckpointStore,
    readonly host: LocalHost,
    readonly mqttUrl: string,
    readonly bridge: EdgeBridge,
    private readonly broker: EmbeddedBroker | undefined,
    readonly plant: PlantModel,
    /** The MES stand-ins running for facilities without a configured MES URL. */
    readonly standIns: ReadonlyMap<FacilityId, MesStandIn>,
    /** Every MES ingestion report since the platform opened, oldest first. */
    readonly mesReports: readonly MesIngestionReport[],
    private readonly closeMes: () => Promise<void>,
    /** SAP: the pool the sap timers use, the RFC stand-in when simulating, and every SAP report. */
    readonly sap: LocalSap,
  ) {}

  static async open(options: PlatformOptions): Promise<LocalPlatform> {
    const { config, log, clock } = options;
    const service = options.mode === 'service';
    const storage = await openStorage(config, service ? 'configured' : 'ephemeral');
    const cleanup: (() => Promise<void>)[] = [() => storage.close()];
    try {
      const codec = await ParquetCodec.create();
      cleanup.push(async () => codec.close());
      const status = createSourceStatusStore(storage.table('sourcestatus'));
      const checkpoints = createCheckpointStore(storage.table('checkpoints'));
      // One key ring for every landing path: personal data is sealed before it reaches bronze.
      const privacy = await openPrivacy(config, storage, clock);
      const totals = new Map<string, LandingTotals>();
      const countingStatus: SourceStatusStore = {
        ...status,
        record: (outcome: RunOutcome) => {
          const t = totals.get(outcome.source) ?? { rows: 0, deadLettered: 0, batches: 0 };
          t.rows += outcome.rows;
          t.deadLettered += outcome.deadLettered;
          t.batches++;
          if (outcome.latestEventAt && (!t.latestEventAt || outcome.latestEventAt > t.latestEventAt))
            t.latestEventAt = outcome.latestEventAt;
          totals.set(outcome.source, t);
          return status.record(outcome);
        },
      };
      const plant = new PlantModel({ seed: options.seed ?? 1 });
      const plantClock = options.plantClock ?? clock;
      const ingestLog = log.child({ app: 'ingest' });
      const telemetry = {
        lake: storage.lake,
        codec,
        clock,
        catalogue: plant.catalogue,
        log: ingestLog,
        status: countingStatus,
      };
      const mes = await openMes({ config, plant, clock: plantClock });
      cleanup.push(() => mes.close());
      const erp = await openErp({ config, plant, clock: plantClock });
      cleanup.push(() => erp.close());
      const erpReports: ErpIngestionReport[] = [];
      const erpDeps = {
        ingestion: erp.connect
          ? {
              lake: storage.lake,
              checkpoints,
              status: countingStatus,
              clock: plantClock,
              log: ingestLog,
              connect: erp.connect,
              sealer: privacy.ring,
              tables: erp.tables,
              timeZone: config.erp.timeZone,
              snapshotLookbackS: config.erp.snapshotLookbackS,
              watermarkLookbackS: config.erp.watermarkLookbackS,
              chunkRows: config.erp.chunkRows,
              retryDelaysMs: config.retryDelaysMs,
            }
          : undefined,
        onReport: (report: ErpIngestionReport) => void erpReports.push(report),
      };
      const mesReports: MesIngestionReport[] = [];
      const mesDeps = {
        ingestion: {
          lake: storage.lake,
          codec,
          checkpoints,
          status: countingStatus,
          clock: plantClock,
          log: ingestLog,
          overlapMs: config.mes.overlapMs,
          initialLookbackMs: config.mes.initialLookbackMs,
          retryDelaysMs: config.retryDelaysMs,
        },
        connectors: mes.connectors,
        onReport: (report: MesIngestionReport) => void mesReports.push(report),
      };
      const sap = await openSap({ config, plant, clock: plantClock });
      cleanup.push(() => sap.close());
      const sapDeps = {
        ingestion: {
          lake: storage.lake,
          codec,
          checkpoints,
          status: countingStatus,
          clock: plantClock,
          log: log.child({ app: 'sap' }),
          sealer: privacy.ring,
          goodsMovementLookbackDays: config.sap.goodsMovementLookbackDays,
          initialLookbackDays: config.sap.initialLookbackDays,
          timeoutS: config.sap.timeoutS,
          concurrency: config.sap.pool.high,
          retryDelaysMs: config.retryDelaysMs,
        },
        pool: sap.pool,
        onReport: sap.onReport,
      };
      const api = localApi({ config, clock, log, status, storage });
      cleanup.push(() => api.close());
      const host = new LocalHost({
        apps: [
          ingestApp(async () => ({ telemetry, mes: mesDeps, erp: erpDeps })),
          sapApp(async () => sapDeps),
          localMedallionApp(() => ({
            lake: storage.lake,
            codec,
            clock: plantClock,
            log: log.child({ app: 'orchestrator' }),
            home: config.home,
            erasedKeyIds: erasedKeyIdsOf(storage, config),
          })),
          apiApp({
            clock,
            version: 'local',
            services: api.services,
          }),
        ],
        log: log.child({ component: 'host' }),
        port: service ? config.port : 0,
        schedule: service,
      });
      if (service) {
        await host.start();
        cleanup.push(() => host.stop());
      }
      let broker: EmbeddedBroker | undefined;
      let mqttUrl: string;
      if (config.mqtt.kind === 'external') mqttUrl = config.mqtt.url;
      else {
        broker = await startEmbeddedBroker({ port: service ? config.mqtt.port : 0 }).catch(
          (error: NodeJS.ErrnoException) => {
            throw error.code === 'EADDRINUSE'
              ? new Error(
                  `MQTT port ${config.mqtt.kind === 'embedded' ? config.mqtt.port : ''} is in use: set AURORA_MQTT_PORT, or AURORA_MQTT_URL to use that broker`,
                )
              : error;
          },
        );
        const b = broker;
        cleanup.push(() => b.close());
        mqttUrl = broker.url;
      }
      const bridge = new EdgeBridge({
        mqttUrl,
        deliver: host.eventHubHandler(IOT_TELEMETRY_FUNCTION),
        batchMax: config.iot.edgeBatchMax,
        flushMs: config.iot.edgeFlushMs,
        clock,
        log: log.child({ component: 'edge' }),
        checkpoints,
        retryDelaysMs: config.retryDelaysMs,
      });
      await bridge.start();
      const platform = new LocalPlatform(
        totals,
        options,
        storage,
        codec,
        status,
        checkpoints,
        host,
        mqttUrl,
        bridge,
        broker,
        plant,
        mes.standIns,
        mesReports,
        mes.close,
        sap,
      );
      platform.erp = erp;
      platform.erpReports = erpReports;
      platform.privacy = privacy;
      platform.api = api;
      return platform;
    } catch (error) {
      for (const close of cleanup.reverse()) await close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Runs the three MES timer functions now, as their schedule would. `aurora start` calls it once at
   * start-up so a new home has MES data without waiting for the next quarter hour; failures are logged
   * and recorded by the runs themselves.
   */
  async runMesNow(): Promise<void> {
    await Promise.all(
      Object.values(MES_FUNCTIONS).map(({ name }) => this.host.invokeTimer(name).catch(() => undefined)),
    );
  }

  /** Runs both SAP timer functions now, as their schedules would (`aurora start` at start-up). */
  async runSapNow(): Promise<void> {
    for (const { name } of [SAP_FUNCTIONS.transactional, SAP_FUNCTIONS.master])
      await this.host.invokeTimer(name).catch(() => undefined);
  }

  /** Runs the medallion timer now (`aurora start`, once the sources' first runs have landed). */
  async runMedallionNow(): Promise<void> {
    await this.host.invokeTimer(LOCAL_MEDALLION_TIMER).catch(() => undefined);
  }

  /** Runs the ERP timer function now, as its schedule would (`aurora start` at start-up). */
  async runErpNow(): Promise<void> {
    await this.host.invokeTimer(ERP_FUNCTION).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.bridge.stop();
    await this.broker?.close();
    if (this.options.mode === 'service') await this.host.stop();
    await this.api?.close();
    await this.closeMes();
    await this.sap.close();
    await this.erp.close();
    this.codec.close();
    await this.storage.close();
  }
}
