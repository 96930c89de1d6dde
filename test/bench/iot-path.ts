import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { startAzurite } from '@aurora/azurite';
import { createLogger, silentLogger, systemClock } from '@aurora/core';
import { createBlobLake, ParquetCodec } from '@aurora/lake';
import { catalogue, simulateTelemetry, TELEMETRY_TOPIC_FILTER } from '@aurora/plant';
import { EdgeBridge, landTelemetry, startEmbeddedBroker } from '@aurora/sources';
import mqtt from 'mqtt';
import type { BenchRow } from './table.js';

/** Starts the publisher process, waits until it is connected, then lets it go; resolves when it is done. */
async function publish(url: string, count: number, processes = PUBLISHERS): Promise<{ started: number }> {
  if (processes > 1) {
    const share = Math.ceil(count / processes);
    const children = Array.from({ length: processes }, (_, i) =>
      startPublisher(url, Math.min(share, count - i * share), i),
    );
    await Promise.all(children.map((c) => c.ready));
    const started = performance.now();
    for (const c of children) c.go();
    await Promise.all(children.map((c) => c.done));
    return { started };
  }
  const one = startPublisher(url, count, 0);
  await one.ready;
  const started = performance.now();
  one.go();
  await one.done;
  return { started };
}

/** Sensor gateways publishing from their own processes (seed per gateway, so their messages differ). */
const PUBLISHERS = Number(process.env['BENCH_PUBLISHERS'] ?? 2);

function startPublisher(url: string, count: number, index: number) {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@aurora/source',
      '--import',
      'tsx',
      resolve(import.meta.dirname, 'publisher.ts'),
      url,
      String(count),
      String(index + 2),
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  return {
    ready: new Promise<void>((done) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && done()),
    ),
    go: () => child.stdin.write('go\n'),
    done: new Promise((done) => child.on('exit', done)),
  };
}

const waitFor = async (check: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
};

/** The IoT path, MQTT to bronze, against the same publisher into a subscriber that only counts. */
export async function benchIotPath(count: number, mqttUrl?: string): Promise<BenchRow[]> {
  const broker = mqttUrl ? undefined : await startEmbeddedBroker();
  const url = mqttUrl ?? broker!.url;
  const brokerName = mqttUrl ? 'Mosquitto' : 'embedded broker';

  // Reference: raw MQTT throughput, publisher process -> broker -> a subscriber that counts.
  const counter = await mqtt.connectAsync(url, { clientId: `bench-counter-${process.pid}` });
  let counted = 0;
  let lastCounted = 0;
  counter.on('message', () => {
    counted++;
    lastCounted = performance.now();
  });
  await counter.subscribeAsync(TELEMETRY_TOPIC_FILTER, { qos: 1 });
  const raw = await publish(url, count);
  await waitFor(() => counted >= count, 120_000);
  process.stderr.write(`  raw MQTT: ${counted} of ${count} counted\n`);
  await counter.endAsync();
  const rawRate = count / ((lastCounted - raw.started) / 1000);

  // Aurora: the same messages through the edge bridge into the telemetry handler and bronze on Azurite.
  const azurite = await startAzurite();
  const lake = createBlobLake({ connectionString: azurite.connectionString });
  const codec = await ParquetCodec.create();
  let landed = 0;
  let lastLanded = 0;
  const latenciesMs: number[] = [];
  const bridge = new EdgeBridge({
    mqttUrl: url,
    batchMax: 10_000,
    flushMs: 250,
    clock: systemClock,
    log: createLogger({ level: 'warn', name: 'bench' }),
    retryDelaysMs: [100],
    deliver: async (messages, metadata) => {
      const report = await landTelemetry(
        { lake, codec, clock: systemClock, catalogue, log: silentLogger },
        messages,
        metadata,
      );
      const done = Date.now();
      for (const at of metadata.enqueuedTimeUtcArray ?? []) latenciesMs.push(done - new Date(at).getTime());
      landed += report.landed + report.deadLettered;
      lastLanded = performance.now();
    },
  });
  await bridge.start();
  const run = await publish(url, count);
  await waitFor(() => landed >= count, 300_000);
  process.stderr.write(`  landed: ${landed} of ${count}\n`);
  await bridge.stop();
  codec.close();
  await azurite.close();
  await broker?.close();
  const rate = count / ((lastLanded - run.started) / 1000);
  latenciesMs.sort((a, b) => a - b);
  const p99 = latenciesMs[Math.floor(latenciesMs.length * 0.99)] ?? Number.NaN;
  return [
    {
      name: `iot: raw MQTT, publisher -> ${brokerName} -> counting subscriber`,
      value: rawRate,
      unit: 'msg/s',
      ratio: 1,
      note: `${count} messages, QoS 1`,
    },
    {
      name: `iot: MQTT -> edge bridge -> handler -> bronze Parquet on Azurite (${brokerName})`,
      value: rate,
      unit: 'msg/s',
      ratio: rate / rawRate,
      note: `target >= 50,000 msg/s; ${landed} landed`,
    },
    {
      name: 'iot: freshness, edge enqueue -> durable in bronze, p99',
      value: p99 / 1000,
      unit: 's',
      note: 'target < 60 s',
    },
  ];
}

/**
 * The telemetry handler alone, without MQTT: what one Function instance lands per second when Event Hubs
 * hands it full batches (three partitions in parallel, 10,000 messages per batch).
 */
export async function benchHandlerAlone(count: number): Promise<BenchRow> {
  const azurite = await startAzurite();
  const lake = createBlobLake({ connectionString: azurite.connectionString });
  const codec = await ParquetCodec.create();
  const from = new Date(Date.now() - 3600_000);
  const bodies: unknown[] = [];
  for (const m of simulateTelemetry({
    seed: 3,
    from,
    to: new Date(from.getTime() + Math.ceil(count / 340 / 4) * 1000),
    rateHz: 4,
  })) {
    if (bodies.length === count) break;
    bodies.push(JSON.parse(m.payload.toString()));
  }
  const batchSize = 10_000;
  const batches: unknown[][] = [];
  for (let i = 0; i < bodies.length; i += batchSize) batches.push(bodies.slice(i, i + batchSize));
  const deps = { lake, codec, clock: systemClock, catalogue, log: silentLogger };
  const started = performance.now();
  let next = 0;
  await Promise.all(
    [0, 1, 2].map(async (partition) => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const now = new Date().toISOString();
        await landTelemetry(deps, batch, {
          enqueuedTimeUtcArray: batch.map(() => now),
          sequenceNumberArray: batch.map((_, i) => next * batchSize + i),
          partitionContext: { partitionId: String(partition) },
        });
      }
    }),
  );
  const rate = count / ((performance.now() - started) / 1000);
  codec.close();
  await azurite.close();
  return {
    name: 'iot: telemetry handler alone, batches of 10,000 -> bronze on Azurite',
    value: rate,
    unit: 'msg/s',
    note: 'no MQTT; what one Function instance lands',
  };
}
