import { type MedallionReport, runMedallion } from '@aurora/engine';
import { ERP_FUNCTION, MES_FUNCTIONS } from '@aurora/functions-ingest/functions';
import { SAP_FUNCTIONS } from '@aurora/functions-sap/functions';
import { bronzePaths } from '@aurora/lake';
import {
  catalogue,
  connectSensors,
  type FacilityId,
  type MesFault,
  publishTelemetry,
  type SapFault,
  simulateTelemetry,
} from '@aurora/plant';
import { erasedKeyIdsOf } from '@aurora/privacy';
import type { ErpFault, ErpTableReport, MesEntityReport, SapBapiReport } from '@aurora/sources';
import type { LocalPlatform } from './platform.js';
import { recordSeed } from './reconcile.js';

export interface CycleOptions {
  seed: number;
  /** End of the simulated window (exclusive); the window is the `windowMinutes` before it. */
  at: Date;
  windowMinutes: number;
  rateHz: number;
  badRatio: number;
  /** Stand-ins told to fail every request of this cycle, to rehearse an outage. */
  mesFaults?: readonly { facility: FacilityId; fault: MesFault }[];
  /** MES stand-ins whose server clock runs this far off for this cycle (ms; negative: behind). */
  mesClockSkews?: readonly { facility: FacilityId; skewMs: number }[];
  /** The RFC stand-in told to fail every call of this cycle (e.g. communication_failure). */
  sapFaults?: readonly SapFault[];
  /** The ERP stand-in told to misbehave this cycle (e.g. missing_log, connection_lost). */
  erpFaults?: readonly ErpFault[];
  onProgress?: (line: string) => void;
}

export interface MesFacilitySummary {
  facility: FacilityId;
  vendor: string;
  ok: boolean;
  entities: MesEntityReport[];
  error?: string;
}

/** The Oracle ERP timer's run in a cycle. */
export interface ErpCycleSummary {
  ok: boolean;
  /** The SCN window mined, null when nothing new (or the run failed). */
  window: { fromScn: string; toScn: string } | null;
  snapshot: boolean;
  tables: ErpTableReport[];
  ddl: string[];
  deadLettered: number;
  error?: string;
}

/** One SAP timer's run in a cycle: per BAPI, rows landed and what failed. */
export interface SapRunSummary {
  run: 'transactional' | 'master';
  function: string;
  ok: boolean;
  bapis: SapBapiReport[];
  error?: string;
}

export interface FacilityLanding {
  rows: number;
  files: number;
}

export interface CycleSummary {
  seed: number;
  window: { from: string; to: string };
  iot: {
    published: number;
    publishedBad: number;
    received: number;
    landed: number;
    deadLettered: number;
    byFacility: Record<string, FacilityLanding>;
  };
  mes: MesFacilitySummary[];
  sap: SapRunSummary[];
  erp: ErpCycleSummary;
  medallion: MedallionReport;
  ok: boolean;
  problems: string[];
  durationMs: number;
}

const HOUR_MS = 3600_000;

/**
 * One deterministic cycle of every source that exists: the simulated sensors publish the window's
 * readings (the seed fixes every value and event time), the edge bridge hands them to the telemetry
 * handler, and the cycle checks that everything published was either landed or dead-lettered.
 */
export async function runCycle(platform: LocalPlatform, options: CycleOptions): Promise<CycleSummary> {
  const started = performance.now();
  const startedAt = new Date();
  const to = options.at;
  const from = new Date(to.getTime() - options.windowMinutes * 60_000);
  const progress = options.onProgress ?? (() => {});
  const before = { ...(platform.totals.get('iot') ?? { rows: 0, deadLettered: 0, batches: 0 }) };
  const receivedBefore = platform.bridge.stats.received;

  progress(
    `iot: simulating 340 sensors from ${from.toISOString()} to ${to.toISOString()} (seed ${options.seed})`,
  );
  const sensors = await connectSensors(platform.mqttUrl);
  let published: { published: number; bad: number };
  try {
    published = await publishTelemetry(
      sensors,
      simulateTelemetry({
        seed: options.seed,
        from,
        to,
        rateHz: options.rateHz,
        badRatio: options.badRatio,
        machineState: (machine, atMs) => platform.plant.stateAt(machine, atMs),
      }),
      { qos: 1, onProgress: (n) => progress(`iot: published ${n.toLocaleString('en')} messages`) },
    );
  } finally {
    await sensors.endAsync();
  }
  progress(
    `iot: published ${published.published.toLocaleString('en')} messages (${published.bad} malformed on purpose); landing`,
  );
  await platform.bridge.drain(receivedBefore + published.published, 120_000);

  const after = platform.totals.get('iot') ?? { rows: 0, deadLettered: 0, batches: 0 };
  const received = platform.bridge.stats.received - receivedBefore;
  const landed = after.rows - before.rows;
  const deadLettered = after.deadLettered - before.deadLettered;
  const byFacility: Record<string, FacilityLanding> = {};
  for (const { id: facility } of catalogue.facilities) {
    const entry: FacilityLanding = { rows: 0, files: 0 };
    for (let hour = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS; hour < to.getTime(); hour += HOUR_MS) {
      const prefix = bronzePaths.iot(facility, new Date(hour), startedAt).replace(/telemetry_[^/]+$/, '');
      for await (const file of platform.storage.lake.list(prefix)) {
        if (file.lastModified.getTime() < startedAt.getTime() - 1000) continue;
        entry.rows += Number(file.metadata['rows'] ?? 0);
        entry.files++;
      }
    }
    byFacility[facility] = entry;
  }

  const mes = await runMesCycle(platform, options, progress);
  const sap = await runSapCycle(platform, options, progress);
  const erp = await runErpCycle(platform, options, progress);

  progress('medallion: bronze -> silver -> gold');
  const medallion = await runMedallion(
    {
      lake: platform.storage.lake,
      codec: platform.codec,
      // Freshness is judged on the plant's clock, which a simulated cycle freezes at --at.
      clock: platform.options.plantClock ?? platform.options.clock,
      log: platform.options.log,
      home: platform.options.config.home,
      erasedKeyIds: erasedKeyIdsOf(platform.storage, platform.options.config),
    },
    { onProgress: progress },
  );
  await recordSeed(platform.options.config.home, options.seed);

  const problems: string[] = [];
  for (const s of sap) {
    if (s.error) problems.push(`sap ${s.function}: ${s.error}`);
    for (const b of s.bapis.filter((x) => !x.ok))
      problems.push(`sap ${b.bapi}: ${b.error?.message} (dead-lettered: ${b.deadLetterFile})`);
  }
  if (erp.error) problems.push(`erp: ${erp.error}`);
  else if (erp.tables.filter((t) => t.file).length === 0) problems.push('erp: no Oracle table landed');
  for (const p of medallion.problems) problems.push(`medallion ${p}`);
  for (const f of mes) {
    if (f.error) problems.push(`mes ${f.facility}: ${f.error}`);
    for (const e of f.entities.filter((x) => !x.ok))
      problems.push(
        `mes ${f.facility} ${e.entity}: ${e.error?.message} (dead-lettered: ${e.deadLetterFile})`,
      );
  }
  if (received !== published.published)
    problems.push(`iot: published ${published.published} messages, the edge received ${received}`);
  if (landed + deadLettered !== published.published) {
    problems.push(
      `iot: ${published.published} published but ${landed} landed + ${deadLettered} dead-lettered`,
    );
  }
  if (deadLettered !== published.bad)
    problems.push(`iot: ${published.bad} malformed messages published, ${deadLettered} dead-lettered`);
  if (platform.bridge.stats.pending > 0)
    problems.push(
      `iot: ${platform.bridge.stats.pending} messages still waiting at the edge (delivery failing?)`,
    );
  for (const [facility, f] of Object.entries(byFacility))
    if (f.rows === 0) problems.push(`iot: nothing landed for ${facility}`);

  return {
    seed: options.seed,
    window: { from: from.toISOString(), to: to.toISOString() },
    iot: {
      published: published.published,
      publishedBad: published.bad,
      received,
      landed,
      deadLettered,
      byFacility,
    },
    mes,
    sap,
    erp,
    medallion,
    ok: problems.length === 0,
    problems,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Each facility's MES timer function, invoked as its schedule would (all three at once, like the host).
 * Faults and clock skews asked for are injected into the stand-ins for this cycle only.
 */
async function runMesCycle(
  platform: LocalPlatform,
  options: CycleOptions,
  progress: (line: string) => void,
): Promise<MesFacilitySummary[]> {
  for (const { facility, fault } of options.mesFaults ?? []) {
    const standIn = platform.standIns.get(facility);
    if (!standIn) throw new Error(`no MES stand-in runs for ${facility}: its MES is configured`);
    standIn.faults.inject({ fault, ...(fault === 'slow' ? { delayMs: 1000 } : {}) });
  }
  for (const { facility, skewMs } of options.mesClockSkews ?? []) {
    const standIn = platform.standIns.get(facility);
    if (!standIn) throw new Error(`no MES stand-in runs for ${facility}: its MES is configured`);
    standIn.faults.clockSkewMs = skewMs;
  }
  try {
    const facilities = Object.keys(MES_FUNCTIONS) as FacilityId[];
    return await Promise.all(
      facilities.map(async (facility): Promise<MesFacilitySummary> => {
        const { name } = MES_FUNCTIONS[facility];
        const before = platform.mesReports.length;
        progress(`mes: ${name}`);
        let error: string | undefined;
        await platform.host.invokeTimer(name).catch((e: unknown) => {
          error = e instanceof Error ? e.message : String(e);
        });
        const report = platform.mesReports.slice(before).find((r) => r.facilityId === facility);
        if (report) progress(`mes: ${report.summary}`);
        const vendor = report?.vendor ?? catalogue.facility(facility)?.mes ?? '?';
        return {
          facility,
          vendor,
          ok: !!report?.ok,
          entities: report?.entities ?? [],
          // A report carries its own failures; anything else (no connector, a crash) is reported here.
          ...(report ? {} : { error: error ?? 'no report' }),
        };
      }),
    );
  } finally {
    for (const standIn of platform.standIns.values()) standIn.faults.clear();
  }
}

/**
 * The Oracle ERP timer function, invoked after the MES ones as its schedule would. Faults asked for are
 * injected into the ERP stand-in for this cycle only.
 */
async function runErpCycle(
  platform: LocalPlatform,
  options: CycleOptions,
  progress: (line: string) => void,
): Promise<ErpCycleSummary> {
  const standIn = platform.erp.standIn;
  const faults = options.erpFaults ?? [];
  if (faults.length > 0 && !standIn)
    throw new Error('no ERP stand-in runs: the ERP is configured (AURORA_ERP_CONNECT_STRING)');
  for (const fault of faults)
    standIn?.faults.inject({ fault, ...(fault === 'slow' ? { delayMs: 1000 } : {}) });
  try {
    const before = platform.erpReports.length;
    progress(`erp: ${ERP_FUNCTION}`);
    let error: string | undefined;
    await platform.host.invokeTimer(ERP_FUNCTION).catch((e: unknown) => {
      error = e instanceof Error ? e.message : String(e);
    });
    const report = platform.erpReports.slice(before).at(-1);
    if (report) progress(`erp: ${report.summary}`);
    return {
      ok: !!report?.ok,
      window: report?.window ?? null,
      snapshot: report?.snapshot ?? false,
      tables: report?.tables ?? [],
      ddl: report?.ddl ?? [],
      deadLettered: report?.deadLettered ?? 0,
      ...(report?.error ? { error: report.error.message } : report ? {} : { error: error ?? 'no report' }),
    };
  } finally {
    standIn?.faults.clear();
  }
}

/**
 * The two SAP timer functions, invoked after the MES as their schedules would (transactional, then master
 * data). Faults asked for are injected into the RFC stand-in for this cycle only.
 */
async function runSapCycle(
  platform: LocalPlatform,
  options: CycleOptions,
  progress: (line: string) => void,
): Promise<SapRunSummary[]> {
  const faults = options.sapFaults ?? [];
  if (faults.length > 0 && !platform.sap.standIn)
    throw new Error('no RFC stand-in runs: SAP is configured (AURORA_SAP_ASHOST/AURORA_SAP_DEST)');
  for (const fault of faults)
    platform.sap.standIn?.faults.inject({ fault, ...(fault === 'slow' ? { delayMs: 1000 } : {}) });
  try {
    const out: SapRunSummary[] = [];
    for (const [run, { name }] of Object.entries(SAP_FUNCTIONS) as [
      SapRunSummary['run'],
      { name: string },
    ][]) {
      const before = platform.sap.reports.length;
      progress(`sap: ${name}`);
      let error: string | undefined;
      await platform.host.invokeTimer(name).catch((e: unknown) => {
        error = e instanceof Error ? e.message : String(e);
      });
      const report = platform.sap.reports.slice(before).find((r) => r.run === run);
      if (report) progress(`sap: ${report.summary}`);
      out.push({
        run,
        function: name,
        ok: !!report?.ok,
        bapis: report?.bapis ?? [],
        // A report carries its own failures; anything else (SAP not configured, a crash) is reported here.
        ...(report ? {} : { error: error ?? 'no report' }),
      });
    }
    return out;
  } finally {
    platform.sap.standIn?.faults.clear();
  }
}
