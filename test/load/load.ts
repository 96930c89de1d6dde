import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildFixtureWarehouse, LocalIssuer } from '@aurora/api';
import { createLogger, loadConfig, systemClock } from '@aurora/core';
import { warehousePath } from '@aurora/engine';
import { IOT_TELEMETRY_FUNCTION } from '@aurora/functions-ingest/functions';
import { LocalPlatform } from '@aurora/platform';
import { EdgeBridge, type EventHubDelivery, IOT_SOURCE } from '@aurora/sources';
import { CONNECTIONS, OEE_REQUEST } from '../bench/api.js';
import type { BenchRow } from '../bench/table.js';
import { LatencyHistogram, slope } from './stats.js';

export interface LoadOptions {
  /** How long the sensors publish (fractions allowed). */
  minutes: number;
  /** Multiple of the plant's rate (AURORA_IOT_RATE_HZ per sensor, 0.25 Hz: ~5,000 msg/min). Default 10. */
  factor?: number;
  /** Progress lines, every 10 s. */
  progress?: (line: string) => void;
}

export interface LoadResult {
  rows: BenchRow[];
  /** What went wrong (lost messages, failed API requests, a backlog that did not drain); empty when none. */
  problems: string[];
}

interface MemorySample {
  atS: number;
  rssMb: number;
  heapUsedMb: number;
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p97_5: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

const SAMPLE_EVERY_MS = 10_000;
const MB = 2 ** 20;

/** A full garbage collection on demand, so memory samples show what is retained rather than when V8 last collected. */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * IoT at a multiple of the plant's rate through the real local path, with partners calling the API at the
 * same time: the local platform in this process as `aurora start` composes it (Azurite, the Function Apps
 * on the local host, the embedded MQTT broker or AURORA_MQTT_URL, the edge bridge, the telemetry function);
 * the simulated sensors of `aurora start` publishing in real time from their own process, as a plant's
 * do; autocannon in a third process holding 64 connections on GET production/oee. Measures every
 * message's freshness (its event time to the moment the telemetry function returned, its Parquet file
 * committed in bronze), and this process's RSS and heapUsed after a full GC every 10 s, reported as slopes
 * (nothing asserted).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const progress = options.progress ?? (() => {});
  const durationS = options.minutes * 60;
  if (!(durationS > 0)) throw new Error(`minutes must be a positive number, not ${options.minutes}`);
  const factor = options.factor ?? 10;
  const home = await mkdtemp(join(tmpdir(), 'aurora-load-'));
  const config = loadConfig({
    ...process.env,
    AURORA_HOME: home,
    // Partners' requests must reach the function: the gateway stand-in neither caches nor limits them.
    AURORA_API_CACHE_TTL_S: '0',
    AURORA_API_RATE_LIMIT_CALLS: String(1_000_000_000),
  });
  const log = createLogger({ level: 'warn', name: 'load' });
  const rateHz = config.iot.rateHz * factor;
  const brokerName = config.mqtt.kind === 'external' ? config.mqtt.url : 'embedded broker';

  await buildFixtureWarehouse(warehousePath(home), { alerts: [] });
  const issuer = await LocalIssuer.open(home, systemClock);
  const token = await issuer.sign({ roles: ['analyst'], expiresInS: durationS + 3600 });
  const platform = await LocalPlatform.open({ config, log, clock: systemClock, mode: 'one-shot' });

  // Every message timed the moment the telemetry function returned: the platform's own bridge is replaced by
  // one configured the same way (batch size, flush interval, retries, checkpoints) whose delivery is timed.
  const overall = new LatencyHistogram(5, 300_000);
  // The platform's own share: from the edge's receipt of a message (its Event Hubs enqueue time) to durable.
  const fromEdge = new LatencyHistogram(5, 300_000);
  const perMinute = Array.from(
    { length: Math.ceil(options.minutes) + 1 },
    () => new LatencyHistogram(50, 300_000),
  );
  let startedAt = Number.POSITIVE_INFINITY;
  const handler = platform.host.eventHubHandler(IOT_TELEMETRY_FUNCTION);
  const timed: EventHubDelivery = async (messages, metadata) => {
    await handler(messages, metadata);
    const now = Date.now();
    const minute = perMinute[Math.min(perMinute.length - 1, Math.floor((now - startedAt) / 60_000))];
    for (const at of metadata.enqueuedTimeUtcArray ?? []) fromEdge.record(now - new Date(at).getTime());
    for (const message of messages) {
      const ts = (message as { ts?: unknown } | null)?.ts;
      if (typeof ts !== 'string') continue;
      const ms = now - Date.parse(ts);
      overall.record(ms);
      minute?.record(ms);
    }
  };
  await platform.bridge.stop();
  const bridge = new EdgeBridge({
    mqttUrl: platform.mqttUrl,
    deliver: timed,
    batchMax: config.iot.edgeBatchMax,
    flushMs: config.iot.edgeFlushMs,
    clock: systemClock,
    log,
    checkpoints: platform.checkpoints,
    retryDelaysMs: config.retryDelaysMs,
  });
  const landed = () => {
    const t = platform.totals.get(IOT_SOURCE);
    return { rows: t?.rows ?? 0, deadLettered: t?.deadLettered ?? 0 };
  };

  let sensors: ReturnType<typeof startSensors> | undefined;
  let apiLoad: { child: ChildProcess; result: Promise<AutocannonResult> } | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    await bridge.start();
    await platform.host.start();
    const url = `${platform.host.url}${OEE_REQUEST}`;
    const probe = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (probe.status !== 200)
      throw new Error(
        `the API answered ${probe.status} before the load: ${(await probe.text()).slice(0, 300)}`,
      );

    const memory: MemorySample[] = [];
    const gc = fullGc();
    const sampleMemory = () => {
      gc();
      const m = process.memoryUsage();
      memory.push({ atS: (Date.now() - startedAt) / 1000, rssMb: m.rss / MB, heapUsedMb: m.heapUsed / MB });
    };
    sensors = startSensors(platform.mqttUrl, rateHz, config.iot.badRatio);
    await sensors.ready;
    startedAt = Date.now();
    sampleMemory();
    sensors.go();
    apiLoad = startApiLoad(url, token, Math.round(durationS));
    const live = sensors;
    timers.push(
      setInterval(() => {
        sampleMemory();
        const last = memory[memory.length - 1]!;
        const l = landed();
        progress(
          `load ${clock(last.atS)}/${clock(durationS)}  published ${n(live.published)} (${live.behindS.toFixed(0)} s behind)  landed ${n(l.rows)}  dead-lettered ${n(l.deadLettered)}  pending ${n(bridge.stats.pending)}  freshness p99 ${(overall.percentileMs(0.99) / 1000).toFixed(1)} s  rss ${last.rssMb.toFixed(0)} MB  heap ${last.heapUsedMb.toFixed(0)} MB`,
        );
      }, SAMPLE_EVERY_MS),
    );
    await sleep(durationS * 1000);
    for (const t of timers.splice(0)) clearInterval(t);
    sampleMemory();
    const { published, behindS } = await sensors.stop();
    sensors = undefined;

    // Drain: everything the sensors handed to the broker lands or is dead-lettered.
    const stoppedAt = performance.now();
    while (landed().rows + landed().deadLettered < published && performance.now() - stoppedAt < 120_000)
      await sleep(50);
    await bridge.flush();
    const drainS = (performance.now() - stoppedAt) / 1000;
    const api = await apiLoad.result;
    apiLoad = undefined;

    const { rows: landedRows, deadLettered } = landed();
    const lost = published - landedRows - deadLettered;
    const problems: string[] = [];
    if (lost > 0)
      problems.push(`${n(lost)} of ${n(published)} published messages neither landed nor dead-lettered`);
    if (api.non2xx > 0 || api.errors > 0)
      problems.push(
        `API: ${n(api.non2xx)} non-2xx answers, ${n(api.errors)} errors (${n(api.timeouts)} timeouts)`,
      );

    const warmupS = Math.min(30, durationS / 2);
    const steady = memory.filter((s) => s.atS >= warmupS);
    const rssSlope = slope(steady.map((s) => ({ x: s.atS / 60, y: s.rssMb })));
    const heapSlope = slope(steady.map((s) => ({ x: s.atS / 60, y: s.heapUsedMb })));
    const span = (key: 'rssMb' | 'heapUsedMb') =>
      `${steady[0]![key].toFixed(0)} -> ${steady[steady.length - 1]![key].toFixed(0)} MB (max ${Math.max(...memory.map((s) => s[key])).toFixed(0)})`;
    const worstMinute = Math.max(...perMinute.filter((h) => h.count > 0).map((h) => h.percentileMs(0.99)));
    const p99 = overall.percentileMs(0.99);
    const minutes = `${options.minutes} min`;
    const offeredPerMin = 340 * rateHz * 60;
    const rows: BenchRow[] = [
      {
        name: `load: IoT at ${factor}x the plant (340 sensors x ${rateHz} Hz), sensors -> MQTT (${brokerName}) -> edge -> telemetry function -> bronze on Azurite, ${minutes}`,
        value: (landedRows + deadLettered) / (durationS / 60),
        unit: 'msg/min',
        note: `offered ${n(offeredPerMin)} msg/min; ${n(published)} published, ${n(landedRows)} landed, ${n(deadLettered)} dead-lettered (bad on purpose), ${n(Math.max(0, lost))} lost; sensors ${behindS.toFixed(1)} s behind the clock at the end, the edge's backlog drained ${drainS.toFixed(1)} s after they stopped`,
      },
      {
        name: `load: freshness, event time -> durable in bronze, p50 (every message, ${minutes}, API under load)`,
        value: overall.percentileMs(0.5) / 1000,
        unit: 's',
        note: `${n(overall.count)} messages timed; edge flush every ${config.iot.edgeFlushMs / 1000} s`,
      },
      {
        name: 'load: freshness p99',
        value: p99 / 1000,
        unit: 's',
        note: `worst minute's p99 ${(worstMinute / 1000).toFixed(2)} s, max ${(overall.maxMs / 1000).toFixed(2)} s; of it, edge receipt -> durable p50 ${(fromEdge.percentileMs(0.5) / 1000).toFixed(2)} s, p99 ${(fromEdge.percentileMs(0.99) / 1000).toFixed(2)} s; target < 60 s: ${p99 < 60_000 ? 'met' : '**not met**'}`,
      },
      {
        name: 'load: memory of the platform process (Azurite, broker, edge, Function Apps with the API), RSS slope',
        value: rssSlope,
        unit: 'MB/min',
        note: `${span('rssMb')}; ${steady.length} samples after a full GC, every 10 s after the first ${warmupS} s; not asserted`,
      },
      {
        name: 'load: memory, heapUsed slope',
        value: heapSlope,
        unit: 'MB/min',
        note: `${span('heapUsedMb')}; not asserted`,
      },
      {
        name: `load: API GET production/oee (gateway cache off) at ${CONNECTIONS} connections during the load`,
        value: api.requests.average,
        unit: 'req/s',
        note: `p50 ${api.latency.p50} ms, p97.5 ${api.latency.p97_5} ms, p99 ${api.latency.p99} ms, ${n(api.requests.total)} requests, ${n(api.non2xx)} non-2xx; target P95 < 50 ms: ${api.latency.p97_5 < 50 ? 'met' : '**not met**'}`,
      },
    ];
    return { rows, problems };
  } finally {
    for (const t of timers) clearInterval(t);
    apiLoad?.child.kill();
    sensors?.child.kill();
    await bridge.stop();
    await platform.host.stop();
    await platform.close();
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * The sensors' process (sensors.ts): resolves `ready` once connected to the broker; `go` starts publishing
 * in real time; `stop` stops it and resolves with how many messages the broker acknowledged.
 */
function startSensors(mqttUrl: string, rateHz: number, badRatio: number) {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@aurora/source',
      '--import',
      'tsx',
      resolve(import.meta.dirname, 'sensors.ts'),
      mqttUrl,
      String(rateHz),
      String(badRatio),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let published = 0;
  let behindS = 0;
  let lines = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (d: Buffer) => {
    lines += d.toString();
    const complete = lines.split('\n');
    lines = complete.pop()!;
    for (const line of complete) {
      if (line === 'ready') onReady();
      const m = /^published (\d+) behind ([\d.]+)$/.exec(line);
      if (m) {
        published = Number(m[1]);
        behindS = Number(m[2]);
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  return {
    child,
    ready: Promise.race([
      ready,
      exited.then((code) => {
        throw new Error(`the sensors' process exited with ${code} before it was ready`);
      }),
    ]),
    get published() {
      return published;
    },
    /** How far the event times published trail the clock: the sensors' backlog. */
    get behindS() {
      return behindS;
    },
    go: () => child.stdin!.write('go\n'),
    stop: async () => {
      child.stdin!.write('stop\n');
      await exited;
      return { published, behindS };
    },
  };
}

/** autocannon's command line in its own process (as partners are), so its work is not this process's. */
function startApiLoad(url: string, token: string, durationS: number) {
  const bin = createRequire(import.meta.url).resolve('autocannon');
  const child = spawn(
    process.execPath,
    [
      bin,
      '-c',
      String(CONNECTIONS),
      '-d',
      String(durationS),
      '-j',
      '-H',
      `authorization=Bearer ${token}`,
      url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<AutocannonResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out) as AutocannonResult);
      } catch {
        reject(new Error(`autocannon exited with ${code} without a result: ${err.slice(-500)}`));
      }
    });
  });
  return { child, result };
}

const n = (x: number) => Math.round(x).toLocaleString('en');
const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
