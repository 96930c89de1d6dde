import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock, silentLogger, systemClock } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { catalogue, connectSensors, publishTelemetry, simulateTelemetry } from '@aurora/plant';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeBridge } from './edge-bridge.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { landTelemetry } from './land-telemetry.js';

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec.close();
  await azurite.close();
});

const readRows = async (paths: string[]) =>
  (await Promise.all(paths.map(async (p) => codec.decode(await lake.get(p))))).flat();

describe('landTelemetry', () => {
  it('replays a captured-shape Event Hubs batch into bronze and dead-letter, and a redelivery lands nothing', async () => {
    const clock = new ManualClock('2026-11-23T08:15:01Z');
    const body = (sensor: string, ts: string, value: number) => ({
      sensor_id: sensor,
      value,
      ts,
      metric: catalogue.sensor(sensor)?.metric,
    });
    const messages = [
      body('aug-m01-temperature', '2026-11-23T07:59:59.900Z', 48.1),
      body('aug-m01-temperature', '2026-11-23T08:15:00.123Z', 48.3),
      JSON.stringify(body('rgb-m02-vibration', '2026-11-23T08:14:00Z', 1.2)),
      '{"sensor_id": broken',
      body('ghost-m01-energy', '2026-11-23T08:14:00Z', 1),
    ];
    const iso = '2026-11-23T08:15:00.200Z';
    const metadata = {
      enqueuedTimeUtcArray: messages.map(() => iso),
      sequenceNumberArray: [100, 101, 102, 103, 104],
      offsetArray: ['1', '2', '3', '4', '5'],
      partitionKeyArray: messages.map(() => null),
      propertiesArray: messages.map(() => ({})),
      systemPropertiesArray: messages.map((_, i) => ({
        'iothub-connection-device-id': `dev-${i}`,
        // IoT Hub's own enqueue time, as ISO text and as epoch ms (both occur).
        'iothub-enqueuedtime':
          i % 2 === 0 ? '2026-11-23T08:15:00.150Z' : Date.parse('2026-11-23T08:15:00.150Z'),
      })),
      partitionContext: { partitionId: '0' },
    };
    const deps = { lake, codec, clock, catalogue, log: silentLogger };
    const report = await landTelemetry(deps, messages, metadata);
    expect(report).toMatchObject({ batchId: 'iot-p0-100-104', received: 5, landed: 3, deadLettered: 2 });
    expect(report.rejectionsByCode).toEqual({ 'iot.invalid_json': 1, 'iot.unknown_sensor': 1 });
    // Named by the hub time of the batch (its last enqueue time), so a redelivery picks the same names.
    expect(report.files.map((f) => f.replace(/\d{3}Z\.parquet$/, ''))).toEqual([
      'bronze/iot/augsburg/year=2026/month=11/day=23/hour=07/telemetry_20261123T081500200',
      'bronze/iot/augsburg/year=2026/month=11/day=23/hour=08/telemetry_20261123T081500200',
      'bronze/iot/regensburg/year=2026/month=11/day=23/hour=08/telemetry_20261123T081500200',
    ]);
    const rows = await readRows(report.files);
    expect(
      rows.map((r) => [
        r['sensor_id'],
        r['value'],
        r['device_id'],
        r['partition_id'],
        r['sequence_number'],
        r['hub_offset'],
        r['enqueued_at'],
        r['iothub_enqueued_at'],
        r['_batch_id'],
        r['_source'],
      ]),
    ).toEqual([
      [
        'aug-m01-temperature',
        48.1,
        'dev-0',
        '0',
        100,
        '1',
        iso,
        '2026-11-23T08:15:00.150Z',
        'iot-p0-100-104',
        'iot',
      ],
      [
        'aug-m01-temperature',
        48.3,
        'dev-1',
        '0',
        101,
        '2',
        iso,
        '2026-11-23T08:15:00.150Z',
        'iot-p0-100-104',
        'iot',
      ],
      [
        'rgb-m02-vibration',
        1.2,
        'dev-2',
        '0',
        102,
        '3',
        iso,
        '2026-11-23T08:15:00.150Z',
        'iot-p0-100-104',
        'iot',
      ],
    ]);
    expect(rows[0]!['_extracted_at']).toBe('2026-11-23T08:15:01.000Z');
    const dead = (await lake.get(report.deadLetterFile!))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(dead.map((d) => [d.code, d.context.sequence_number, d.context.offset])).toEqual([
      ['iot.invalid_json', '103', '4'],
      ['iot.unknown_sensor', '104', '5'],
    ]);
    expect(dead[0].payload).toBe('{"sensor_id": broken');

    // Event Hubs redelivers the batch: the Blob API's If-None-Match refuses every name, each is ours.
    const listAll = async () => {
      const paths: string[] = [];
      for (const prefix of ['bronze/iot/', 'bronze/_deadletter/iot/'])
        for await (const f of lake.list(prefix)) paths.push(f.path);
      return paths.sort();
    };
    const before = await listAll();
    clock.advance(60_000);
    const again = await landTelemetry(deps, messages, metadata);
    expect(again).toMatchObject({
      batchId: 'iot-p0-100-104',
      landed: 0,
      deadLettered: 0,
      alreadyLanded: 3,
      alreadyDeadLettered: 2,
      files: report.files,
      deadLetterFile: report.deadLetterFile,
    });
    expect(await listAll()).toEqual(before);
  });
});

async function endToEnd(mqttUrl: string, label: string) {
  const from = new Date(Date.now() - 10 * 60_000);
  const to = new Date(from.getTime() + 2 * 60_000);
  const messages = [...simulateTelemetry({ seed: 42, from, to, rateHz: 0.5, badRatio: 0.01 })];
  const bad = messages.filter((m) => m.bad).length;
  const landed: number[] = [];
  const dead: number[] = [];
  const checkpoints = createCheckpointStore(
    createTableClient(azurite.connectionString, `checkpoints${label}`),
  );
  const bridge = new EdgeBridge({
    mqttUrl,
    batchMax: 1000,
    flushMs: 200,
    clock: systemClock,
    log: silentLogger,
    checkpoints,
    retryDelaysMs: [10],
    deliver: async (batch, metadata) => {
      const report = await landTelemetry(
        { lake, codec, clock: systemClock, catalogue, log: silentLogger },
        batch,
        metadata,
      );
      landed.push(report.landed);
      dead.push(report.deadLettered);
    },
  });
  await bridge.start();
  const sensors = await connectSensors(mqttUrl);
  const published = await publishTelemetry(sensors, messages, { qos: 1 });
  await bridge.drain(published.published, 30_000);
  await sensors.endAsync();
  await bridge.stop();
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  expect(published).toEqual({ published: messages.length, bad });
  expect(bridge.stats).toMatchObject({ received: messages.length, delivered: messages.length, pending: 0 });
  expect(sum(landed)).toBe(messages.length - bad);
  expect(sum(dead)).toBe(bad);
  const saved = await Promise.all(
    ['0', '1', '2'].map((p) => checkpoints.load<{ nextSequence: number }>('edge-bridge', p)),
  );
  expect(sum(saved.map((c) => c?.value.nextSequence ?? 0))).toBe(messages.length);
}

describe('sensors -> MQTT -> edge bridge -> telemetry handler -> bronze', () => {
  it('keeps delivering after flushes that found nothing to send', async () => {
    const broker = await startEmbeddedBroker();
    const delivered: unknown[] = [];
    const bridge = new EdgeBridge({
      mqttUrl: broker.url,
      batchMax: 100,
      flushMs: 10,
      clock: systemClock,
      log: silentLogger,
      retryDelaysMs: [],
      deliver: async (batch) => {
        delivered.push(...batch);
      },
    });
    try {
      await bridge.start();
      await new Promise((r) => setTimeout(r, 100)); // several empty flushes first
      const sensors = await connectSensors(broker.url);
      const from = new Date(Date.now() - 60_000);
      const published = await publishTelemetry(
        sensors,
        simulateTelemetry({ seed: 1, from, to: new Date(from.getTime() + 10_000), rateHz: 0.1 }),
      );
      await sensors.endAsync();
      await bridge.drain(published.published, 10_000);
      expect(delivered).toHaveLength(340);
    } finally {
      await bridge.stop();
      await broker.close();
    }
  });

  it('keeps its session across a broker restart: readings published before it is back still reach it', async () => {
    let broker = await startEmbeddedBroker();
    const delivered: unknown[] = [];
    const bridge = new EdgeBridge({
      mqttUrl: broker.url,
      batchMax: 100,
      flushMs: 10,
      clock: systemClock,
      log: silentLogger,
      retryDelaysMs: [],
      deliver: async (batch) => {
        delivered.push(...batch);
      },
    });
    try {
      await bridge.start();
      await broker.close();
      broker = await startEmbeddedBroker({ port: broker.port, state: broker.state });
      // The sensors are back first: the bridge is still waiting for its next reconnect attempt.
      const sensors = await connectSensors(broker.url);
      const from = new Date(Date.now() - 60_000);
      const published = await publishTelemetry(
        sensors,
        simulateTelemetry({ seed: 1, from, to: new Date(from.getTime() + 10_000), rateHz: 0.1 }),
      );
      await sensors.endAsync();
      await bridge.drain(published.published, 10_000);
      expect(delivered).toHaveLength(340);
    } finally {
      await bridge.stop();
      await broker.close();
    }
  });

  it('keeps a batch whose checkpoint could not be saved; the next flush lands nothing twice and moves it', async () => {
    const broker = await startEmbeddedBroker();
    const real = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpointsfailing'));
    let failures = 1;
    const landed: number[] = [];
    const bridge = new EdgeBridge({
      mqttUrl: broker.url,
      batchMax: 100_000,
      flushMs: 3_600_000,
      clock: systemClock,
      log: silentLogger,
      // The storage is away exactly when the first checkpoint is saved.
      checkpoints: {
        ...real,
        save: (...args) => (failures-- > 0 ? Promise.reject(new Error('ECONNREFUSED')) : real.save(...args)),
      },
      retryDelaysMs: [],
      deliver: async (batch, metadata) => {
        const report = await landTelemetry(
          { lake, codec, clock: systemClock, catalogue, log: silentLogger },
          batch,
          metadata,
        );
        landed.push(report.landed);
      },
    });
    try {
      await bridge.start();
      const sensors = await connectSensors(broker.url);
      const from = new Date(Date.now() - 30 * 60_000);
      const published = await publishTelemetry(
        sensors,
        simulateTelemetry({ seed: 3, from, to: new Date(from.getTime() + 10_000), rateHz: 0.1 }),
      );
      await sensors.endAsync();
      while (bridge.stats.received < published.published) await new Promise((r) => setTimeout(r, 10));
      await bridge.flush();
      expect(bridge.stats).toMatchObject({ deliveryFailures: 1 });
      expect(bridge.stats.pending).toBeGreaterThan(0);
      await bridge.flush();
      expect(bridge.stats.pending).toBe(0);
      // Four deliveries (three partitions, one of them twice); the repeat landed nothing.
      expect(landed).toHaveLength(4);
      expect(landed.reduce((a, b) => a + b, 0)).toBe(published.published);
      const saved = await Promise.all(
        ['0', '1', '2'].map((p) => real.load<{ nextSequence: number }>('edge-bridge', p)),
      );
      expect(saved.reduce((n, c) => n + (c?.value.nextSequence ?? 0), 0)).toBe(published.published);
    } finally {
      await bridge.stop();
      await broker.close();
    }
  });

  it('lands every good message and dead-letters every bad one through the embedded broker', async () => {
    const broker = await startEmbeddedBroker();
    try {
      await endToEnd(broker.url, 'embedded');
    } finally {
      await broker.close();
    }
  });

  const mosquitto = spawnSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto'], {
    encoding: 'utf8',
  })
    .stdout.trim()
    .split('\n')[0];
  it.skipIf(!mosquitto)(
    'does the same through a real Mosquitto (needs the mosquitto binary, which .ci/run installs)',
    async () => {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      // Mosquitto's default per-client queue (1,000 QoS 1 messages) drops a burst that a busy subscriber
      // has not fetched yet; an edge broker for the plant runs with a deep queue.
      const conf = join(tmpdir(), `aurora-mosquitto-${port}.conf`);
      await writeFile(
        conf,
        `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n`,
      );
      const broker = spawn(mosquitto!, ['-c', conf], { stdio: 'ignore' });
      try {
        await new Promise((r) => setTimeout(r, 500));
        await endToEnd(`mqtt://127.0.0.1:${port}`, 'mosquitto');
      } finally {
        broker.kill();
      }
    },
  );
});
