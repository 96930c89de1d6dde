import { ManualClock, silentLogger } from '@aurora/core';
import { type Lake, LakeConflictError, LakeNotFoundError, type LakeObjectInfo } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import type {
  EventPosition,
  PartitionContext,
  PartitionProperties,
  ReceivedEventData,
  SubscribeOptions,
  Subscription,
  SubscriptionEventHandlers,
} from '@azure/event-hubs';
import { describe, expect, it } from 'vitest';
import { envelopeAt } from '../event-hub-batch.js';
import { landTelemetry } from '../land-telemetry.js';
import {
  checkReplayRange,
  createTelemetryConsumer,
  type LandingCounts,
  type PartitionReplayResult,
  planPartitionReplay,
  type ReplayConsumer,
  replayTelemetry,
  takeInRange,
  toTriggerBatch,
} from './event-hub-replay.js';

const T0 = Date.parse('2026-11-23T08:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

/**
 * An event as the SDK's fromRheaMessage builds it from an IoT Hub message on the built-in endpoint: the
 * x-opt-* annotations lifted into fields, IoT Hub's annotations left in systemProperties (dates as epoch ms),
 * the JSON body parsed.
 */
function iotHubEvent(
  sequenceNumber: number,
  enqueuedSeconds: number,
  sensorId = 'aug-m01-temperature',
): ReceivedEventData {
  const enqueued = at(enqueuedSeconds);
  const sensor = catalogue.sensor(sensorId)!;
  return {
    body: {
      sensor_id: sensorId,
      metric: sensor.metric,
      unit: sensor.unit,
      value: 40 + sequenceNumber / 10,
      ts: new Date(enqueued.getTime() - 80).toISOString(),
      seq: sequenceNumber,
    },
    enqueuedTimeUtc: enqueued,
    sequenceNumber,
    offset: String(sequenceNumber * 1024),
    partitionKey: null,
    properties: { facility: sensor.facilityId },
    systemProperties: {
      'iothub-connection-device-id': sensorId,
      'iothub-connection-auth-method': '{"scope":"device","type":"sas","issuer":"iothub"}',
      'iothub-connection-auth-generation-id': '638664371234567890',
      'iothub-enqueuedtime': enqueued.getTime() - 30,
      'iothub-message-source': 'Telemetry',
      messageId: `m-${sequenceNumber}`,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
    },
    contentType: 'application/json',
    messageId: `m-${sequenceNumber}`,
    getRawAmqpMessage: () => {
      throw new Error('not needed');
    },
  };
}

const partitionContext = (partitionId: string): PartitionContext => ({
  fullyQualifiedNamespace: 'evhns-aurora-prod.servicebus.windows.net',
  eventHubName: 'telemetry',
  consumerGroup: 'replay',
  partitionId,
  updateCheckpoint: async () => {},
});

/**
 * The consumer client's observable behaviour for one subscriber: properties computed from what the
 * partition holds, the `enqueuedOn` position applied as the service applies the SDK's filter
 * (`x-opt-enqueued-time > <ms>`, exclusive), batches of at most maxBatchSize, and empty batches once
 * the partition is drained (the SDK calls processEvents with [] after maxWaitTimeInSeconds).
 */
class FakeConsumer implements ReplayConsumer {
  readonly eventHubName = 'telemetry';
  readonly fullyQualifiedNamespace = 'evhns-aurora-prod.servicebus.windows.net';
  readonly positions: Record<string, EventPosition> = {};
  readonly batchSizes: number[] = [];
  closedSubscriptions = 0;

  constructor(
    readonly partitions: Record<string, ReceivedEventData[]>,
    /** Events appended to a partition once replay has started (live traffic). */
    readonly arrivingLater: Record<string, ReceivedEventData[]> = {},
    /** Overrides of what getPartitionProperties reports. */
    readonly reported: Record<string, Partial<PartitionProperties>> = {},
  ) {}

  async getPartitionIds() {
    return Object.keys(this.partitions);
  }

  async getPartitionProperties(partitionId: string): Promise<PartitionProperties> {
    const events = this.partitions[partitionId] ?? [];
    const last = events[events.length - 1];
    return {
      eventHubName: this.eventHubName,
      partitionId,
      beginningSequenceNumber: events[0]?.sequenceNumber ?? 0,
      lastEnqueuedSequenceNumber: last?.sequenceNumber ?? -1,
      lastEnqueuedOffset: last?.offset ?? '-1',
      lastEnqueuedOnUtc: last?.enqueuedTimeUtc ?? new Date(0),
      isEmpty: events.length === 0,
      ...this.reported[partitionId],
    };
  }

  subscribe(partitionId: string, handlers: SubscriptionEventHandlers, options: SubscribeOptions = {}) {
    const position = options.startPosition as EventPosition;
    this.positions[partitionId] = position;
    const events = [...(this.partitions[partitionId] ?? []), ...(this.arrivingLater[partitionId] ?? [])];
    const after = Number(position.enqueuedOn);
    const queue = events.filter((e) => e.enqueuedTimeUtc.getTime() > after);
    const max = options.maxBatchSize ?? 1;
    let running = true;
    const loop = async () => {
      while (running) {
        await new Promise((r) => setImmediate(r));
        if (!running) break;
        const batch = queue.splice(0, max);
        this.batchSizes.push(batch.length);
        await handlers.processEvents(batch, partitionContext(partitionId));
      }
    };
    void loop();
    const subscription: Subscription = {
      isRunning: true,
      close: async () => {
        running = false;
        this.closedSubscriptions++;
      },
    };
    return subscription;
  }

  async close() {}
}

/** Records what would have been landed, and answers like landTelemetry for a fresh batch. */
function recordingLand() {
  const calls: { messages: unknown[]; metadata: ReturnType<typeof toTriggerBatch>['metadata'] }[] = [];
  const land = async (messages: unknown[], metadata: (typeof calls)[number]['metadata']) => {
    calls.push({ messages, metadata });
    const counts: LandingCounts = {
      received: messages.length,
      landed: messages.length,
      deadLettered: 0,
      alreadyLanded: 0,
      alreadyDeadLettered: 0,
      duplicates: 0,
    };
    return counts;
  };
  const sequences = (partitionId: string) =>
    calls
      .filter((c) => c.metadata.partitionContext?.partitionId === partitionId)
      .flatMap((c) => c.metadata.sequenceNumberArray ?? []);
  return { calls, land, sequences };
}

describe('toTriggerBatch', () => {
  it('shapes received events exactly like the Functions trigger’s metadata, field by field', () => {
    const event = iotHubEvent(42, 10);
    const { messages, metadata } = toTriggerBatch([event], partitionContext('2'));
    expect(messages).toEqual([event.body]);
    expect(metadata).toEqual({
      enqueuedTimeUtcArray: ['2026-11-23T08:00:10.000Z'],
      sequenceNumberArray: [42],
      offsetArray: ['43008'],
      partitionKeyArray: [null],
      propertiesArray: [{ facility: 'augsburg' }],
      systemPropertiesArray: [
        {
          'iothub-connection-device-id': 'aug-m01-temperature',
          'iothub-connection-auth-method': '{"scope":"device","type":"sas","issuer":"iothub"}',
          'iothub-connection-auth-generation-id': '638664371234567890',
          'iothub-enqueuedtime': T0 + 10_000 - 30,
          'iothub-message-source': 'Telemetry',
          messageId: 'm-42',
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          'x-opt-sequence-number': 42,
          'x-opt-offset': '43008',
          'x-opt-enqueued-time': '2026-11-23T08:00:10.000Z',
          enqueuedTimeUtc: '2026-11-23T08:00:10.000Z',
          sequenceNumber: 42,
          offset: '43008',
          partitionKey: null,
        },
      ],
      partitionContext: {
        partitionId: '2',
        eventHubName: 'telemetry',
        consumerGroup: 'replay',
        fullyQualifiedNamespace: 'evhns-aurora-prod.servicebus.windows.net',
      },
    });
  });

  it('gives the handler the same envelope as the live trigger would', () => {
    const keyed = { ...iotHubEvent(7, 3), partitionKey: 'augsburg' };
    const { metadata } = toTriggerBatch([iotHubEvent(6, 2), keyed], partitionContext('1'));
    expect(envelopeAt(metadata, 1)).toEqual({
      deviceId: 'aug-m01-temperature',
      partitionId: '1',
      sequenceNumber: 7n,
      enqueuedAt: at(3),
      offset: '7168',
      partitionKey: 'augsburg',
      iotHubEnqueuedAt: new Date(T0 + 3000 - 30),
      properties: { facility: 'augsburg' },
    });
    expect(metadata.systemPropertiesArray?.[1]).toMatchObject({ 'x-opt-partition-key': 'augsburg' });
    expect(metadata.systemPropertiesArray?.[0]).not.toHaveProperty('x-opt-partition-key');
  });
});

describe('planPartitionReplay', () => {
  const props = (p: Partial<PartitionProperties>): PartitionProperties => ({
    eventHubName: 'telemetry',
    partitionId: '0',
    beginningSequenceNumber: 0,
    lastEnqueuedSequenceNumber: 99,
    lastEnqueuedOffset: '9900',
    lastEnqueuedOnUtc: at(100),
    isEmpty: false,
    ...p,
  });

  it('starts one millisecond before `from`, because the enqueuedOn filter is exclusive', () => {
    expect(planPartitionReplay(props({}), { from: at(10) })).toEqual({
      partitionId: '0',
      action: 'read',
      startPosition: { enqueuedOn: T0 + 10_000 - 1 },
      lastSequenceNumber: 99,
      lastEnqueuedOnUtc: at(100),
    });
  });

  it('skips an empty partition, including one that reports lastEnqueuedSequenceNumber -1', () => {
    expect(planPartitionReplay(props({ isEmpty: true }), { from: at(0) })).toMatchObject({
      action: 'skip',
      reason: 'empty',
    });
    expect(
      planPartitionReplay(props({ isEmpty: false, lastEnqueuedSequenceNumber: -1 }), { from: at(0) }),
    ).toMatchObject({ action: 'skip', reason: 'empty' });
  });

  it('skips a partition whose last event is older than `from`, and reads one whose last event is exactly at it', () => {
    expect(planPartitionReplay(props({}), { from: at(100.001) })).toMatchObject({
      action: 'skip',
      reason: 'nothing-since-from',
    });
    expect(planPartitionReplay(props({}), { from: at(100) })).toMatchObject({ action: 'read' });
  });
});

describe('takeInRange', () => {
  const events = [iotHubEvent(5, 9.999), iotHubEvent(6, 10), iotHubEvent(7, 15), iotHubEvent(8, 20)];
  const seqs = (r: { inRange: ReceivedEventData[] }) => r.inRange.map((e) => e.sequenceNumber);

  it('stops at the first event enqueued at or after `to`, which is not taken', () => {
    const r = takeInRange(events, { lastSequenceNumber: 99 }, { from: at(10), to: at(20) });
    expect([seqs(r), r.done]).toEqual([[6, 7], true]);
  });

  it('takes the last event that was there at start and is done with it', () => {
    const r = takeInRange(events, { lastSequenceNumber: 7 }, { from: at(0) });
    expect([seqs(r), r.done]).toEqual([[5, 6, 7], true]);
  });

  it('is not done while the end has not been seen', () => {
    const r = takeInRange(events, { lastSequenceNumber: 99 }, { from: at(0) });
    expect([seqs(r), r.done]).toEqual([[5, 6, 7, 8], false]);
  });

  it('takes nothing and is done when `to` lies before the first event', () => {
    const r = takeInRange(events, { lastSequenceNumber: 99 }, { from: at(0), to: at(1) });
    expect([seqs(r), r.done]).toEqual([[], true]);
  });

  it('leaves out an event from before `from` should one come through', () => {
    const r = takeInRange(events, { lastSequenceNumber: 99 }, { from: at(10) });
    expect(seqs(r)).toEqual([6, 7, 8]);
  });
});

describe('checkReplayRange', () => {
  it('names the flag that is wrong', () => {
    expect(checkReplayRange({ from: at(10), to: at(10) })).toMatch(/--to .* must be after --from/);
    expect(checkReplayRange({ from: new Date('nope') })).toMatch(/--from/);
    expect(checkReplayRange({ from: at(0), to: new Date('nope') })).toMatch(/--to/);
    expect(checkReplayRange({ from: at(0), to: at(1) })).toBeUndefined();
  });
});

describe('replayTelemetry', () => {
  const partitions = () => ({
    '0': Array.from({ length: 25 }, (_, i) => iotHubEvent(100 + i, i)),
    '1': [] as ReceivedEventData[],
    '2': Array.from({ length: 10 }, (_, i) => iotHubEvent(i, i * 3, 'rgb-m02-vibration')),
    '3': [iotHubEvent(0, -60)],
  });

  it('lands every event of the range once, per partition, and reports what it did', async () => {
    const consumer = new FakeConsumer(partitions());
    const { land, sequences, calls } = recordingLand();
    const progress: PartitionReplayResult[] = [];
    const summary = await replayTelemetry({
      consumer,
      land,
      from: at(5),
      to: at(20),
      log: silentLogger,
      maxBatchSize: 4,
      onProgress: (p) => progress.push(p),
    });
    // [5, 20): partition 0 has sequence 105..119, partition 2 events at 6,9,...,18 s.
    expect(sequences('0')).toEqual(Array.from({ length: 15 }, (_, i) => 105 + i));
    expect(sequences('2')).toEqual([2, 3, 4, 5, 6]);
    expect(calls.every((c) => (c.metadata.sequenceNumberArray?.length ?? 0) <= 4)).toBe(true);
    expect(consumer.positions).toEqual({ '0': { enqueuedOn: T0 + 4999 }, '2': { enqueuedOn: T0 + 4999 } });
    expect(summary.partitions.map((p) => [p.partitionId, p.outcome, p.reason, p.landed])).toEqual([
      ['0', 'done', undefined, 15],
      ['1', 'skipped', 'empty', 0],
      ['2', 'done', undefined, 5],
      ['3', 'skipped', 'nothing-since-from', 0],
    ]);
    expect(summary.partitions[0]).toMatchObject({ firstSequenceNumber: 105, lastSequenceNumber: 119 });
    expect(summary).toMatchObject({
      ok: true,
      from: '2026-11-23T08:00:05.000Z',
      to: '2026-11-23T08:00:20.000Z',
      eventHubName: 'telemetry',
      totals: { received: 20, landed: 20, batches: 6 },
    });
    expect(consumer.closedSubscriptions).toBe(2);
    expect(progress.filter((p) => p.partitionId === '0').map((p) => p.landed)).toEqual([4, 8, 12, 15, 15]);
  });

  it('without --to, reads up to what each partition held at start and does not wait for live traffic', async () => {
    const consumer = new FakeConsumer(partitions(), {
      '0': [iotHubEvent(125, 30), iotHubEvent(126, 31)],
    });
    const { land, sequences } = recordingLand();
    const summary = await replayTelemetry({
      consumer,
      land,
      from: at(20),
      log: silentLogger,
      maxBatchSize: 100,
    });
    expect(sequences('0')).toEqual([120, 121, 122, 123, 124]);
    expect(summary.ok).toBe(true);
  });

  it('gives up a partition that never reaches its end as stalled, and says so', async () => {
    const consumer = new FakeConsumer(partitions(), {}, { '2': { lastEnqueuedSequenceNumber: 50 } });
    const { land, sequences } = recordingLand();
    const summary = await replayTelemetry({
      consumer,
      land,
      from: at(0),
      log: silentLogger,
      idleRounds: 3,
    });
    expect(sequences('2')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(summary.partitions[2]).toMatchObject({ outcome: 'stalled', landed: 10 });
    expect(summary.partitions[2]?.reason).toMatch(/before sequence 50/);
    expect(summary.ok).toBe(false);
  });

  it('stops a partition whose landing fails, keeps the others going, and reports failure', async () => {
    const consumer = new FakeConsumer(partitions());
    const recording = recordingLand();
    const summary = await replayTelemetry({
      consumer,
      land: async (messages, metadata) => {
        if (metadata.partitionContext?.partitionId === '2') throw new Error('lake unavailable');
        return recording.land(messages, metadata);
      },
      from: at(0),
      log: silentLogger,
      maxBatchSize: 10,
    });
    expect(summary.partitions[2]).toMatchObject({
      outcome: 'failed',
      reason: 'landing failed: lake unavailable',
    });
    expect(recording.sequences('0')).toHaveLength(25);
    expect(summary.ok).toBe(false);
  });

  it('refuses a range whose end is not after its start', async () => {
    const { land } = recordingLand();
    await expect(
      replayTelemetry({ consumer: new FakeConsumer({}), land, from: at(5), to: at(5), log: silentLogger }),
    ).rejects.toThrow(/--to .* must be after --from/);
  });

  it('replayed twice through the real handler, lands the range once', async () => {
    const files = new Map<string, LakeObjectInfo>();
    const lake: Lake = {
      async put(path, _content, o = {}) {
        if (files.has(path)) throw new LakeConflictError(path);
        const info = { path, sizeBytes: 1, lastModified: new Date(), metadata: { ...o.metadata } };
        files.set(path, info);
        return info;
      },
      get: async (path) => {
        throw new LakeNotFoundError(path);
      },
      stat: async (path) => files.get(path),
      list: async function* () {},
      delete: async () => {},
    };
    const codec = {
      encode: async (_schema: unknown, rows: Iterable<unknown>) => ({
        bytes: Buffer.from('x'),
        rowCount: [...rows].length,
      }),
    };
    const deps = {
      lake,
      codec,
      clock: new ManualClock('2026-11-23T09:00:00Z'),
      catalogue,
      log: silentLogger,
    };
    const run = () =>
      replayTelemetry({
        consumer: new FakeConsumer(partitions()),
        land: (messages, metadata) => landTelemetry(deps, messages, metadata),
        from: at(0),
        log: silentLogger,
        maxBatchSize: 8,
      });
    const first = await run();
    const second = await run();
    expect(first.totals).toMatchObject({ received: 35, landed: 35, alreadyLanded: 0, deadLettered: 0 });
    expect(second.totals).toMatchObject({ received: 35, landed: 0, alreadyLanded: 35 });
  });
});

describe('createTelemetryConsumer', () => {
  it('builds the SDK client for a connection string, taking the hub from EntityPath when it names one', async () => {
    const withEntity = createTelemetryConsumer(
      {
        kind: 'connection-string',
        connectionString:
          'Endpoint=sb://evhns-aurora-dev.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0;EntityPath=telemetry-dev',
      },
      { eventHubName: 'telemetry', consumerGroup: 'replay' },
    );
    expect([withEntity.fullyQualifiedNamespace, withEntity.eventHubName]).toEqual([
      'evhns-aurora-dev.servicebus.windows.net',
      'telemetry-dev',
    ]);
    const withoutEntity = createTelemetryConsumer(
      {
        kind: 'connection-string',
        connectionString:
          'Endpoint=sb://evhns-aurora-dev.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0',
      },
      { eventHubName: 'telemetry', consumerGroup: 'replay' },
    );
    expect(withoutEntity.eventHubName).toBe('telemetry');
    const viaIdentity = createTelemetryConsumer(
      {
        kind: 'identity',
        namespace: 'evhns-aurora-prod.servicebus.windows.net',
        credential: { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 60_000 }) },
      },
      { eventHubName: 'telemetry', consumerGroup: 'replay' },
    );
    expect([viaIdentity.fullyQualifiedNamespace, viaIdentity.eventHubName]).toEqual([
      'evhns-aurora-prod.servicebus.windows.net',
      'telemetry',
    ]);
    // The real client is what the CLI hands to replayTelemetry.
    const asConsumer: ReplayConsumer = viaIdentity;
    await Promise.all([withEntity.close(), withoutEntity.close(), asConsumer.close()]);
  });
});
