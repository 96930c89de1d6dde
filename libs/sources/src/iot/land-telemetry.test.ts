import { ManualClock, silentLogger } from '@aurora/core';
import {
  type Lake,
  LakeConflictError,
  LakeNotFoundError,
  type LakeObjectInfo,
  type ParquetSchema,
  parseBronzePath,
  type Row,
} from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { describe, expect, it } from 'vitest';
import type { EventHubBatchMetadata } from './event-hub-batch.js';
import { BATCH_KEY_METADATA, landTelemetry, TELEMETRY_BRONZE_SCHEMA } from './land-telemetry.js';

/** A lake in memory with the Blob lake's contract: a put never overwrites (If-None-Match: *) unless told to. */
function memoryLake(options: { failPut?: (path: string) => boolean } = {}) {
  const files = new Map<string, { content: Buffer; info: LakeObjectInfo }>();
  const lake: Lake = {
    async put(path, content, o = {}) {
      if (options.failPut?.(path)) throw new Error(`injected failure writing ${path}`);
      if (!o.overwrite && files.has(path)) throw new LakeConflictError(path);
      const bytes = Buffer.from(content as Uint8Array);
      const info = {
        path,
        sizeBytes: bytes.byteLength,
        lastModified: new Date(),
        metadata: { ...o.metadata },
      };
      files.set(path, { content: bytes, info });
      return info;
    },
    async get(path) {
      const f = files.get(path);
      if (!f) throw new LakeNotFoundError(path);
      return f.content;
    },
    async stat(path) {
      return files.get(path)?.info;
    },
    async *list(prefix) {
      for (const path of [...files.keys()].sort()) if (path.startsWith(prefix)) yield files.get(path)!.info;
    },
    async delete(path) {
      files.delete(path);
    },
  };
  return { lake, files };
}

/**
 * Encodes rows as JSON instead of Parquet, refusing any row whose fields are not exactly the schema's
 * columns: DuckDB would silently write NULL for a misspelt field, this fails the test instead.
 */
const strictJsonCodec = {
  async encode(schema: ParquetSchema, rows: Iterable<Row>) {
    const names = schema.map((c) => c.name).sort();
    const out = [...rows].map((row) => {
      expect(Object.keys(row).sort()).toEqual(names);
      return row;
    });
    const json = JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    return { bytes: Buffer.from(json), rowCount: out.length };
  },
};

const readJson = async (lake: Lake, path: string) =>
  JSON.parse((await lake.get(path)).toString()) as Record<string, unknown>[];

const reading = (sensor: string, ts: string, value: number, seq: number) => ({
  sensor_id: sensor,
  metric: catalogue.sensor(sensor)?.metric,
  unit: catalogue.sensor(sensor)?.unit,
  value,
  ts,
  seq,
});

/**
 * A batch in the shape the Functions host delivers it (SOURCES-NOTES §4): JSON bodies already parsed,
 * a JSON text delivered as a string (dataType 'string'), JSON bytes (dataType 'binary'), a body that is
 * not JSON, bytes that are not UTF-8; IoT Hub's enqueue time as ISO text and as epoch ms.
 */
function capturedBatch() {
  const messages: unknown[] = [
    reading('aug-m01-temperature', '2026-11-23T07:59:59.900Z', 48.1, 7),
    reading('aug-m01-temperature', '2026-11-23T08:14:59.000Z', 48.3, 8),
    JSON.stringify(reading('rgb-m02-vibration', '2026-11-23T08:14:00Z', 1.2, 3)),
    Buffer.from(JSON.stringify(reading('ing-m03-pressure', '2026-11-23T08:14:30Z', 6.1, 11))),
    'temperature=48.2;unit=degC',
    Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
    reading('aug-m01-temperature', '2026-11-23T08:14:59.000Z', 48.3, 8),
  ];
  const device = [
    'aug-m01-temperature',
    'aug-m01-temperature',
    'rgb-m02-vibration',
    'ing-m03-pressure',
    'aug-m01-pressure',
    'ing-m01-energy',
    'aug-m01-temperature',
  ];
  const seq = [1000, 1001, 1002, 1003, 1004, 1005, 1001];
  const enqueued = [
    '2026-11-23T08:15:00.100Z',
    '2026-11-23T08:15:00.200Z',
    '2026-11-23T08:15:00.300Z',
    '2026-11-23T08:15:00.400Z',
    '2026-11-23T08:15:00.500Z',
    '2026-11-23T08:15:00.600Z',
    '2026-11-23T08:15:00.200Z',
  ];
  // IoT Hub accepted each message a little earlier; alternately as ISO text and as epoch ms.
  const iotHubEnqueued = enqueued.map((iso, i) => {
    const ms = new Date(iso).getTime() - 50;
    return i % 2 === 0 ? new Date(ms).toISOString() : ms;
  });
  const metadata: EventHubBatchMetadata = {
    enqueuedTimeUtcArray: enqueued,
    sequenceNumberArray: seq,
    offsetArray: seq.map((s) => String(s * 512)),
    partitionKeyArray: messages.map(() => null),
    propertiesArray: messages.map(() => ({})),
    systemPropertiesArray: messages.map((_, i) => ({
      'iothub-connection-device-id': device[i],
      'iothub-connection-auth-method':
        '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}',
      'iothub-connection-auth-generation-id': '638664371234567890',
      'iothub-enqueuedtime': iotHubEnqueued[i],
      'iothub-message-source': 'Telemetry',
      'x-opt-sequence-number': seq[i],
      'x-opt-offset': String(seq[i]! * 512),
      'x-opt-enqueued-time': enqueued[i],
      enqueuedTimeUtc: enqueued[i],
      sequenceNumber: seq[i],
      offset: String(seq[i]! * 512),
      partitionKey: null,
    })),
    partitionContext: { partitionId: '3', eventHubName: 'telemetry', consumerGroup: 'functions' },
  };
  return { messages, metadata, iotHubEnqueued };
}

const deps = (lake: Lake, clock = new ManualClock('2026-11-23T08:15:02Z')) => ({
  lake,
  codec: strictJsonCodec,
  clock,
  catalogue,
  log: silentLogger,
});

describe('landTelemetry', () => {
  it('lands every field of a captured-shape Event Hubs batch, and dead-letters what is not telemetry', async () => {
    const { lake } = memoryLake();
    const { messages, metadata, iotHubEnqueued } = capturedBatch();
    const report = await landTelemetry(deps(lake), messages, metadata);

    expect(report).toMatchObject({
      batchId: 'iot-p3-1000-1005',
      received: 7,
      landed: 4,
      deadLettered: 2,
      alreadyLanded: 0,
      alreadyDeadLettered: 0,
      duplicates: 1,
      rejectionsByCode: { 'iot.invalid_json': 1, 'iot.invalid_encoding': 1 },
    });
    // Files are named by the hub time of the batch's last enqueued message, not by the clock.
    for (const file of report.files) {
      expect(parseBronzePath(file)).toMatchObject({ source: 'iot', entity: 'telemetry' });
      expect(file).toMatch(/\/telemetry_20261123T081500600\d{3}Z\.parquet$/);
    }
    expect(report.files.map((f) => f.replace(/telemetry_.*$/, ''))).toEqual([
      'bronze/iot/augsburg/year=2026/month=11/day=23/hour=07/',
      'bronze/iot/augsburg/year=2026/month=11/day=23/hour=08/',
      'bronze/iot/ingolstadt/year=2026/month=11/day=23/hour=08/',
      'bronze/iot/regensburg/year=2026/month=11/day=23/hour=08/',
    ]);

    const rows = (await Promise.all(report.files.map((f) => readJson(lake, f)))).flat();
    const expected = [
      ['aug-m01-temperature', 0],
      ['aug-m01-temperature', 1],
      ['ing-m03-pressure', 3],
      ['rgb-m02-vibration', 2],
    ] as const;
    expect(rows).toEqual(
      expected.map(([sensor, i]) => {
        const s = catalogue.sensor(sensor)!;
        const body = reading(sensor, '', 0, 0);
        const enqueuedAt = (metadata.enqueuedTimeUtcArray as string[])[i]!;
        const iotHub = iotHubEnqueued[i]!;
        return {
          facility_id: s.facilityId,
          machine_id: s.machineId,
          sensor_id: sensor,
          metric: body.metric,
          unit: body.unit,
          value: [48.1, 48.3, 1.2, 6.1][i],
          event_at: [
            '2026-11-23T07:59:59.900Z',
            '2026-11-23T08:14:59.000Z',
            '2026-11-23T08:14:00.000Z',
            '2026-11-23T08:14:30.000Z',
          ][i],
          sensor_seq: [7, 8, 3, 11][i],
          device_id: sensor,
          partition_id: '3',
          sequence_number: `${1000 + i}n`,
          enqueued_at: enqueuedAt,
          hub_offset: String((1000 + i) * 512),
          iothub_enqueued_at: new Date(iotHub).toISOString(),
          _source: 'iot',
          _extracted_at: '2026-11-23T08:15:02.000Z',
          _batch_id: 'iot-p3-1000-1005',
        };
      }),
    );

    const dead = (await lake.get(report.deadLetterFile!))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(report.deadLetterFile).toMatch(
      /^bronze\/_deadletter\/iot\/year=2026\/month=11\/day=23\/iot_20261123T081500600\d{3}Z\.jsonl$/,
    );
    expect(dead.map((d) => [d.code, d.payload, d.context])).toEqual([
      [
        'iot.invalid_json',
        'temperature=48.2;unit=degC',
        {
          index: 4,
          device_id: 'aug-m01-pressure',
          partition_id: '3',
          sequence_number: '1004',
          offset: String(1004 * 512),
          enqueued_at: '2026-11-23T08:15:00.500Z',
          properties: {},
        },
      ],
      [
        'iot.invalid_encoding',
        { base64: Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('base64') },
        expect.objectContaining({ device_id: 'ing-m01-energy', sequence_number: '1005', offset: '514560' }),
      ],
    ]);
    expect(dead[0].batch_id).toBe('iot-p3-1000-1005');
  });

  it('lands nothing when Event Hubs redelivers the same batch', async () => {
    const { lake, files } = memoryLake();
    const { messages, metadata } = capturedBatch();
    const first = await landTelemetry(deps(lake), messages, metadata);
    const before = new Map([...files].map(([p, f]) => [p, f.content]));

    const later = new ManualClock('2026-11-23T08:20:00Z');
    const again = await landTelemetry(deps(lake, later), messages, metadata);

    expect(again).toMatchObject({
      batchId: first.batchId,
      received: 7,
      landed: 0,
      deadLettered: 0,
      alreadyLanded: 4,
      alreadyDeadLettered: 2,
      duplicates: 1,
      files: first.files,
      deadLetterFile: first.deadLetterFile,
    });
    expect(new Map([...files].map(([p, f]) => [p, f.content]))).toEqual(before);
  });

  it('after a delivery that failed half-way, lands only the missing files', async () => {
    let failing = true;
    const { lake, files } = memoryLake({ failPut: (p) => failing && p.includes('/regensburg/') });
    const { messages, metadata } = capturedBatch();
    await expect(landTelemetry(deps(lake), messages, metadata)).rejects.toThrow(/injected failure/);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the other files' puts were already under way
    const committed = [...files.keys()].filter((p) => p.startsWith('bronze/iot/'));
    expect(committed.length).toBe(3);

    failing = false;
    const retry = await landTelemetry(deps(lake), messages, metadata);
    expect(retry).toMatchObject({ landed: 1, alreadyLanded: 3, duplicates: 1 });
    expect([...files.keys()].filter((p) => p.startsWith('bronze/iot/')).length).toBe(4);
  });

  it('accounts for every message: landed, dead-lettered, or a repeat inside the batch', async () => {
    const { lake } = memoryLake();
    const { messages, metadata } = capturedBatch();
    for (const attempt of [1, 2]) {
      const r = await landTelemetry(deps(lake), messages, metadata);
      expect(
        r.landed + r.alreadyLanded + r.deadLettered + r.alreadyDeadLettered + r.duplicates,
        `attempt ${attempt}`,
      ).toBe(messages.length);
    }
  });

  it('never takes another batch’s file for its own: a taken name moves on to the next microsecond', async () => {
    const { messages, metadata } = capturedBatch();
    const probe = await landTelemetry(deps(memoryLake().lake), messages.slice(0, 1), metadata);
    const firstChoice = probe.files[0]!;
    // Another batch (say, another partition) committed a file under exactly that name.
    const { lake, files } = memoryLake();
    await lake.put(firstChoice, Buffer.from('someone else'), {
      metadata: { [BATCH_KEY_METADATA]: 'another-batch' },
    });
    const moved = await landTelemetry(deps(lake), messages.slice(0, 1), metadata);
    expect(moved).toMatchObject({ landed: 1, alreadyLanded: 0 });
    expect(moved.files[0]).not.toBe(firstChoice);
    expect(moved.files[0]!.replace(/\d{3}Z\.parquet$/, '')).toBe(firstChoice.replace(/\d{3}Z\.parquet$/, ''));
    expect(files.get(firstChoice)!.content.toString()).toBe('someone else');
    // And its redelivery finds its own file behind the foreign one.
    expect(await landTelemetry(deps(lake), messages.slice(0, 1), metadata)).toMatchObject({
      landed: 0,
      alreadyLanded: 1,
    });
  });

  it('dead-letters a parsed body nested 10,000 deep with the body, and lands the rest of its batch', async () => {
    const { lake } = memoryLake();
    const { messages, metadata } = capturedBatch();
    let deep: unknown = [];
    for (let i = 1; i < 10_000; i++) deep = [deep];
    // The Functions host hands a JSON body over parsed: JSON.stringify overflows the stack on it.
    const batch = [{ ...(messages[0] as object), value: deep }, ...messages.slice(1)];
    const r = await landTelemetry(deps(lake), batch, metadata);
    expect(r).toMatchObject({ received: 7, landed: 3, deadLettered: 3, duplicates: 1 });
    expect(r.rejectionsByCode['iot.invalid_message']).toBe(1);
    const letter = JSON.parse((await lake.get(r.deadLetterFile!)).toString().split('\n')[0]!);
    expect(letter.context.sequence_number).toBe('1000');
    expect(letter.payload.sensor_id).toBe('aug-m01-temperature');
    let depth = 0;
    for (let v = letter.payload.value; Array.isArray(v); v = v[0]) depth++;
    expect(depth).toBe(10_000);
  });

  it('lands a hand-made batch without hub positions under clock-named files, as before', async () => {
    const { lake } = memoryLake();
    const body = reading('aug-m01-temperature', '2026-11-23T08:14:59.000Z', 48.3, 8);
    const r1 = await landTelemetry(deps(lake), [body]);
    const r2 = await landTelemetry(deps(lake), [body]);
    expect(r1.files[0]).toMatch(/telemetry_20261123T081502000000Z\.parquet$/);
    expect(r2.files[0]).toMatch(/telemetry_20261123T081502000001Z\.parquet$/);
    expect(r1.batchId).not.toBe(r2.batchId);
  });

  it('keeps the schema’s column names (silver reads them)', () => {
    expect(TELEMETRY_BRONZE_SCHEMA.map((c) => c.name)).toEqual([
      'facility_id',
      'machine_id',
      'sensor_id',
      'metric',
      'unit',
      'value',
      'event_at',
      'sensor_seq',
      'device_id',
      'partition_id',
      'sequence_number',
      'enqueued_at',
      'hub_offset',
      'iothub_enqueued_at',
      '_source',
      '_extracted_at',
      '_batch_id',
    ]);
  });
});
