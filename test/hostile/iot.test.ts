import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { jsonText, silentLogger, systemClock } from '@aurora/core';
import { createBlobLake, type Lake, ParquetCodec } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { EdgeBridge, landTelemetry, startEmbeddedBroker, type TelemetryLandingReport } from '@aurora/sources';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSentinel,
  type GoodBody,
  type HostileCase,
  hostileCorpus,
  prototypeState,
  type Sentinel,
} from './corpus.js';
import {
  deadLetters,
  expectBoundedHeap,
  expectLakeLayout,
  expectPrototypeUntouched,
  expectSentinelUnread,
  measureHeap,
  withDeadline,
} from './harness.js';

/**
 * MQTT payloads into the telemetry path: every case is published by a "sensor" to the embedded broker, the
 * edge bridge hands it to the telemetry handler (landTelemetry, as the Event Hubs trigger does) and it lands
 * in bronze/iot or in the dead letter. Each message goes out on a topic whose device segment names its case
 * (`aurora/telemetry/augsburg/aug-m01/h007`), so every landed row and every dead letter is traced back.
 */

const SENSOR = 'aug-m01-temperature';
let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;
let sentinel: Sentinel;

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString });
  codec = await ParquetCodec.create();
  sentinel = await createSentinel();
});
afterAll(async () => {
  codec?.close();
  await azurite?.close();
  await sentinel?.remove();
});

/** One publication: its bytes, the case it carries and how it placed it. */
interface Sent {
  device: string;
  label: string;
  payload: Buffer;
  /** Whether the handler must land it: only readings that are valid telemetry. */
  lands: boolean;
}

const reading = (ts: string, fields: Record<string, unknown> = {}) => ({
  sensor_id: SENSOR,
  metric: 'temperature',
  unit: 'degC',
  value: 48.2,
  ts,
  ...fields,
});

/** The payloads of one case: a body case once; a value in `value` and in `sensor_id`; a key added. */
function payloadsOf(c: HostileCase, ts: string): { where: string; payload: Buffer; lands: boolean }[] {
  const good = JSON.stringify(reading(ts));
  if (c.form === 'body') {
    const body: GoodBody = { syntax: 'json', text: good, marker: SENSOR };
    return [{ where: 'body', payload: c.bytes(body), lands: false }];
  }
  if (c.form === 'key') {
    const text = good.replace(/}$/, `,${JSON.stringify(c.key('unit'))}:${c.json}}`);
    return [{ where: 'key', payload: Buffer.from(text), lands: false }];
  }
  const inValue = good.replace('"value":48.2', `"value":${c.json()}`);
  const inSensor = good.replace(JSON.stringify(SENSOR), c.json());
  // A reading is any finite number: these three are odd, but valid telemetry.
  const validNumber = [
    'wrong-type/negative-zero',
    'wrong-type/two-to-the-64',
    'wrong-type/beyond-double-precision',
  ].includes(c.id);
  return [
    { where: 'value', payload: Buffer.from(inValue), lands: validNumber },
    { where: 'sensor_id', payload: Buffer.from(inSensor), lands: false },
  ];
}

/** Whether a dead letter's payload is the message as published (bytes, text or the parsed JSON). */
function holdsPayload(letter: Record<string, unknown>, sent: Buffer): boolean {
  const payload = letter['payload'];
  if (payload && typeof payload === 'object' && 'base64' in payload)
    return Buffer.from(String((payload as { base64: string }).base64), 'base64').equals(sent);
  if (typeof payload === 'string') return Buffer.from(payload).equals(sent);
  // The bridge hands over parsed JSON, as the Functions host does: the same value, re-serialised.
  return jsonText(payload) === jsonText(JSON.parse(sent.toString('utf8')));
}

describe('hostile MQTT payloads through the edge bridge into the telemetry handler', () => {
  it('lands what is valid telemetry and dead-letters everything else with the message, nothing lost', async () => {
    const before = prototypeState();
    const cases = hostileCorpus({ sentinel: sentinel.path });
    const ts = new Date(Date.now() - 60_000).toISOString();
    const sent: Sent[] = [];
    const add = (label: string, payload: Buffer, lands: boolean) =>
      sent.push({ device: `h${String(sent.length).padStart(3, '0')}`, label, payload, lands });
    add('control: a good reading first', Buffer.from(JSON.stringify(reading(ts))), true);
    for (const c of cases) {
      for (const p of payloadsOf(c, ts)) add(`${c.id} in ${p.where}`, p.payload, p.lands);
      add(`control: a good reading after ${c.id}`, Buffer.from(JSON.stringify(reading(ts))), true);
    }
    // Traversal in the topic itself: the device segment, and a topic the bridge cannot route.
    const traversalTopics = ['aurora/telemetry/augsburg/aug-m01/..', 'aurora/telemetry/../../../etc/passwd'];

    const broker = await startEmbeddedBroker();
    const reports: TelemetryLandingReport[] = [];
    const bridge = new EdgeBridge({
      mqttUrl: broker.url,
      batchMax: 50,
      flushMs: 50,
      clock: systemClock,
      log: silentLogger,
      retryDelaysMs: [10],
      deliver: async (batch, metadata) => {
        reports.push(
          await landTelemetry(
            { lake, codec, clock: systemClock, catalogue, log: silentLogger },
            batch,
            metadata,
          ),
        );
      },
    });
    const sensors = await mqtt.connectAsync(broker.url, { clientId: 'hostile-sensor' });
    const oversized = sent.reduce((n, s) => Math.max(n, s.payload.byteLength), 0);
    try {
      await bridge.start();
      const use = await measureHeap(() =>
        withDeadline('publishing and landing the corpus', async () => {
          for (const s of sent)
            await sensors.publishAsync(`aurora/telemetry/augsburg/aug-m01/${s.device}`, s.payload, {
              qos: 1,
            });
          for (const topic of traversalTopics)
            await sensors.publishAsync(topic, JSON.stringify(reading(ts)), { qos: 1 });
          await bridge.drain(sent.length + traversalTopics.length, 60_000);
        }),
      );
      expectBoundedHeap('the corpus through MQTT', use, oversized);
    } finally {
      await sensors.endAsync();
      await bridge.stop();
      await broker.close();
    }

    // Nothing lost: every message landed or dead-lettered, none stuck in the bridge.
    const total = sent.length + traversalTopics.length;
    expect(bridge.stats).toMatchObject({ received: total, delivered: total, pending: 0 });
    const landed = reports.reduce((n, r) => n + r.landed, 0);
    const dead = reports.reduce((n, r) => n + r.deadLettered, 0);
    expect(landed + dead).toBe(total);

    const rows = [];
    for (const r of reports) for (const f of r.files) rows.push(...(await codec.decode(await lake.get(f))));
    const landedDevices = new Set(rows.map((r) => String(r['device_id'])));
    const letters = await deadLetters(lake, 'iot');
    const letterOf = new Map(
      letters.map((l) => [String((l['context'] as { device_id: string }).device_id), l]),
    );
    for (const s of sent) {
      if (s.lands) {
        expect(landedDevices.has(s.device), `${s.label} landed`).toBe(true);
        expect(letterOf.has(s.device), `${s.label} not dead-lettered`).toBe(false);
      } else {
        const letter = letterOf.get(s.device);
        expect(letter, `${s.label} dead-lettered`).toBeDefined();
        expect(landedDevices.has(s.device), `${s.label} not landed`).toBe(false);
        expect(String(letter!['code']), s.label).toMatch(/^iot\.[a-z_]+$/);
        expect(String(letter!['reason']).length, s.label).toBeGreaterThan(10);
        expect(holdsPayload(letter!, s.payload), `${s.label}: the dead letter holds the message`).toBe(true);
      }
    }
    // Landed rows are readings the catalogue knows, whatever the topic claimed.
    expect(rows.every((r) => r['sensor_id'] === SENSOR && r['facility_id'] === 'augsburg')).toBe(true);
    expect(rows.every((r) => Number.isFinite(Number(r['value'])))).toBe(true);

    await expectLakeLayout(lake);
    await expectSentinelUnread(lake, codec, sentinel);
    expectPrototypeUntouched(before);
  });
});
