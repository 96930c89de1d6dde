import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { silentLogger, systemClock } from '@aurora/core';
import {
  createBlobLake,
  createCheckpointStore,
  createTableClient,
  type Lake,
  ParquetCodec,
} from '@aurora/lake';
import { catalogue, connectSensors, publishTelemetry, simulateTelemetry } from '@aurora/plant';
import { EdgeBridge, landTelemetry, startEmbeddedBroker } from '@aurora/sources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

/** Every reading in bronze/iot under a prefix: (sensor, sensor sequence) pairs, repeats included. */
async function readings(prefix: string, from: Lake = lake): Promise<string[]> {
  const out: string[] = [];
  for await (const file of from.list(prefix))
    for (const row of await codec.decode(await from.get(file.path)))
      out.push(`${row['sensor_id']}#${row['sensor_seq']}`);
  return out;
}

describe('the MQTT broker restarted mid-stream', () => {
  it('loses no reading: every good message published lands, every bad one is dead-lettered', async () => {
    let broker = await startEmbeddedBroker();
    const port = broker.port;
    const label = `restart${Date.now()}`;
    const bridge = new EdgeBridge({
      mqttUrl: broker.url,
      batchMax: 1000,
      flushMs: 200,
      clock: systemClock,
      log: silentLogger,
      checkpoints: createCheckpointStore(createTableClient(azurite.connectionString, label)),
      retryDelaysMs: [10, 10, 10],
      deliver: async (batch, metadata) => {
        await landTelemetry(
          { lake, codec, clock: systemClock, catalogue, log: silentLogger },
          batch,
          metadata,
        );
      },
    });
    await bridge.start();
    const sensors = await connectSensors(broker.url);
    const from = new Date(Date.now() - 10 * 60_000);
    const messages = [
      ...simulateTelemetry({
        seed: 9,
        from,
        to: new Date(from.getTime() + 60_000),
        rateHz: 0.5,
        badRatio: 0.01,
      }),
    ];
    const bad = messages.filter((m) => m.bad).length;
    try {
      const publishing = publishTelemetry(sensors, messages, { qos: 1, inFlight: 100 });
      // Mid-stream: once the bridge has part of it, the broker goes away for a second and comes back.
      while (bridge.stats.received < messages.length / 4) await new Promise((r) => setTimeout(r, 5));
      await broker.close();
      await new Promise((r) => setTimeout(r, 1000));
      broker = await startEmbeddedBroker({ port, state: broker.state });
      const published = await publishing;
      expect(published).toEqual({ published: messages.length, bad });
      await bridge.drain(messages.length, 30_000);
      // Quiet for a moment: whatever the broker still redelivers arrives now.
      await new Promise((r) => setTimeout(r, 1500));
      await bridge.flush();
    } finally {
      await sensors.endAsync();
      await bridge.stop();
      await broker.close();
    }
    const landed = await readings('bronze/iot/');
    const expected = messages
      .filter((m) => !m.bad)
      .map((m) => {
        const body = JSON.parse(m.payload.toString()) as { sensor_id: string; seq: number };
        return `${body.sensor_id}#${body.seq}`;
      });
    const landedSet = new Set(landed);
    expect(
      expected.filter((r) => !landedSet.has(r)),
      'readings lost',
    ).toEqual([]);
    // A message in flight when the broker went away may come twice (QoS 1); silver counts it once.
    expect(landedSet.size).toBe(messages.length - bad);
  }, 120_000);
});

/** A persistent Azurite on three ports in 20000-32767 (Linux hands out 32768 and up to outgoing connections). */
async function startBelowEphemeralPorts(location: string) {
  for (let attempt = 0; ; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = { blobPort: base, queuePort: base + 1, tablePort: base + 2 };
    try {
      return { storage: await startAzurite({ location, ...ports }), ports };
    } catch (error) {
      if (attempt >= 5 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}

describe('Azurite restarted between landing a batch and its checkpoint', () => {
  it('keeps the batch, and its redelivery lands once: every reading exactly once in bronze, the checkpoint at the end', async () => {
    const location = await mkdtemp(join(tmpdir(), 'aurora-faults-azurite-'));
    // Ports below the ephemeral range, so no outgoing connection takes one while the emulator is down.
    const { storage: first, ports } = await startBelowEphemeralPorts(location);
    let storage = first;
    const persistentLake = createBlobLake({ connectionString: storage.connectionString });
    const checkpoints = createCheckpointStore(createTableClient(storage.connectionString, 'checkpoints'));
    const broker = await startEmbeddedBroker();
    let closing: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    let deliveries = 0;
    const bridge = new EdgeBridge({
      mqttUrl: broker.url,
      batchMax: 100_000,
      flushMs: 3_600_000,
      clock: systemClock,
      log: silentLogger,
      checkpoints,
      retryDelaysMs: [10],
      deliver: async (batch, metadata) => {
        deliveries++;
        await landTelemetry(
          { lake: persistentLake, codec, clock: systemClock, catalogue, log: silentLogger },
          batch,
          metadata,
        );
        // Landed; the storage goes away before the checkpoint, for longer than the SDK's own retries. Set
        // before the first await: partitions deliver concurrently, and only the first may restart it.
        closing ??= storage.close();
        restarted ??= closing
          .then(() => new Promise((r) => setTimeout(r, 8_000)))
          .then(async () => {
            storage = await startAzurite({ location, ...ports });
          });
        await closing;
      },
    });
    try {
      await bridge.start();
      const sensors = await connectSensors(broker.url);
      const from = new Date(Date.now() - 10 * 60_000);
      const messages = [
        ...simulateTelemetry({
          seed: 11,
          from,
          to: new Date(from.getTime() + 30_000),
          rateHz: 0.2,
          badRatio: 0.01,
        }),
      ];
      const published = await publishTelemetry(sensors, messages, { qos: 1 });
      await sensors.endAsync();
      while (bridge.stats.received < published.published) await new Promise((r) => setTimeout(r, 10));

      await bridge.flush();
      // The partition whose checkpoint failed keeps its batch (the others may have finished before).
      expect(bridge.stats.pending, 'batches kept').toBeGreaterThan(0);
      await restarted;
      await bridge.flush();
      expect(bridge.stats.pending).toBe(0);
      expect(deliveries).toBeGreaterThanOrEqual(2);

      const rows = await readings('bronze/iot/', persistentLake);
      expect(rows.length, 'rows in bronze, repeats included').toBe(published.published - published.bad);
      expect(new Set(rows).size).toBe(rows.length);
      const saved = await Promise.all(
        ['0', '1', '2'].map((p) => checkpoints.load<{ nextSequence: number }>('edge-bridge', p)),
      );
      expect(saved.reduce((n, c) => n + (c?.value.nextSequence ?? 0), 0)).toBe(published.published);
    } finally {
      await bridge.stop();
      await broker.close();
      await restarted;
      await storage.close();
      await rm(location, { recursive: true, force: true });
    }
  }, 120_000);
});
