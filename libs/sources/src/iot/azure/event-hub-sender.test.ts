import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, silentLogger } from '@aurora/core';
import { catalogue, type SimulatedMessage, simulateTelemetry } from '@aurora/plant';
import type { EventData, EventDataBatch } from '@azure/event-hubs';
import { describe, expect, it } from 'vitest';
import {
  connectionStringHub,
  createTelemetryProducer,
  planTelemetrySend,
  sendTelemetry,
  type TelemetryProducer,
  toTelemetryEvent,
} from './event-hub-sender.js';

/**
 * The SDK's own EventDataBatch (EventDataBatchImpl), so `tryAdd` refuses exactly when the real AMQP
 * encoding of the batch would outgrow its limit. It is not exported; its constructor only needs the
 * connection id and entity for tracing, so it is built here from the installed package's files.
 */
const require = createRequire(import.meta.url);
const { EventDataBatchImpl } = require(
  join(dirname(require.resolve('@azure/event-hubs')), 'eventDataBatch.js'),
) as {
  EventDataBatchImpl: new (
    context: { connectionId: string; config: { entityPath: string; host: string } },
    maxSizeInBytes: number,
    isIdempotent: boolean,
    partitionKey?: string,
  ) => EventDataBatch;
};

/** A producer whose batches are the SDK's, and which records what each sent batch held. */
function recordingProducer(maxSizeInBytes: number) {
  const sent: { partitionKey: string; events: EventData[]; sizeInBytes: number }[] = [];
  const contents = new WeakMap<EventDataBatch, EventData[]>();
  const producer: TelemetryProducer = {
    eventHubName: 'telemetry',
    async createBatch({ partitionKey }) {
      const batch = new EventDataBatchImpl(
        { connectionId: 'test', config: { entityPath: 'telemetry', host: 'evhns.servicebus.windows.net' } },
        maxSizeInBytes,
        false,
        partitionKey,
      );
      const events: EventData[] = [];
      contents.set(batch, events);
      const tryAdd = batch.tryAdd.bind(batch);
      batch.tryAdd = (event, options) => {
        const added = tryAdd(event, options);
        if (added) events.push(event as EventData);
        return added;
      };
      return batch;
    },
    async sendBatch(batch) {
      sent.push({
        partitionKey: batch.partitionKey!,
        events: contents.get(batch)!,
        sizeInBytes: batch.sizeInBytes,
      });
    },
    async close() {},
  };
  return { producer, sent };
}

const from = new Date('2026-11-23T08:00:00Z');
const simulated = (seconds: number, badRatio = 0) => [
  ...simulateTelemetry({
    seed: 7,
    from,
    to: new Date(from.getTime() + seconds * 1000),
    rateHz: 0.2,
    badRatio,
  }),
];

describe('toTelemetryEvent', () => {
  it('keeps the sensor’s bytes as the body, keys by facility, and carries facility and topic as application properties', () => {
    const message = simulated(5)[0]!;
    const { partitionKey, event } = toTelemetryEvent(message);
    const facility = catalogue.sensor(message.sensorId)!.facilityId;
    expect(partitionKey).toBe(facility);
    expect(event).toEqual({
      body: message.payload,
      contentType: 'application/json',
      properties: { facility, topic: message.topic },
    });
    expect(Buffer.isBuffer(event.body) && JSON.parse(event.body.toString()).sensor_id).toBe(message.sensorId);
  });

  it('keys a message whose topic names no facility as unknown', () => {
    const odd: SimulatedMessage = {
      topic: 'elsewhere',
      payload: Buffer.from('{}'),
      sensorId: 'x',
      eventAt: from,
    };
    expect(toTelemetryEvent(odd).partitionKey).toBe('unknown');
  });
});

describe('planTelemetrySend', () => {
  it('counts events, bytes and deliberately broken messages per facility', () => {
    const messages = simulated(60, 0.02);
    const plan = planTelemetrySend(messages);
    const perFacility = (f: string) => messages.filter((m) => m.topic.startsWith(`aurora/telemetry/${f}/`));
    expect(plan.events).toBe(messages.length);
    expect(Object.keys(plan.byPartitionKey).sort()).toEqual(['augsburg', 'ingolstadt', 'regensburg']);
    for (const facility of ['augsburg', 'ingolstadt', 'regensburg']) {
      const mine = perFacility(facility);
      expect(plan.byPartitionKey[facility]).toEqual({
        events: mine.length,
        bytes: mine.reduce((n, m) => n + m.payload.byteLength, 0),
        bad: mine.filter((m) => m.bad).length,
      });
    }
    expect(Object.values(plan.byPartitionKey).reduce((n, p) => n + p.bad, 0)).toBe(
      messages.filter((m) => m.bad).length,
    );
  });
});

describe('sendTelemetry', () => {
  it('sends every message once, in order, in batches of one facility each, splitting where the SDK’s batch refuses', async () => {
    const messages = simulated(30);
    const { producer, sent } = recordingProducer(8 * 1024);
    const progress: number[] = [];
    const report = await sendTelemetry({
      producer,
      messages,
      log: silentLogger,
      onBatchSent: (p) => progress.push(p.sentTotal),
    });

    expect(report.sent).toBe(messages.length);
    expect(report.refused).toBe(0);
    expect(report.batches).toBe(sent.length);
    for (const batch of sent) {
      expect(batch.sizeInBytes).toBeLessThanOrEqual(8 * 1024);
      expect(new Set(batch.events.map((e) => (e.properties as { facility: string }).facility))).toEqual(
        new Set([batch.partitionKey]),
      );
    }
    for (const facility of ['augsburg', 'ingolstadt', 'regensburg']) {
      const expected = messages
        .filter((m) => toTelemetryEvent(m).partitionKey === facility)
        .map((m) => m.payload);
      const got = sent.filter((b) => b.partitionKey === facility).flatMap((b) => b.events.map((e) => e.body));
      expect(got).toEqual(expected);
      expect(report.byPartitionKey[facility]?.sent).toBe(expected.length);
      expect(report.byPartitionKey[facility]?.batches).toBeGreaterThan(1);
    }
    expect(progress[progress.length - 1]).toBe(messages.length);
  });

  it('counts an event too large for any batch as refused and sends the rest', async () => {
    const [a, b] = simulated(5);
    const huge: SimulatedMessage = { ...a!, payload: Buffer.alloc(6000, 0x61) };
    const { producer, sent } = recordingProducer(4 * 1024);
    const report = await sendTelemetry({ producer, messages: [a!, huge, b!], log: silentLogger });
    expect(report).toMatchObject({ sent: 2, refused: 1 });
    expect(sent.flatMap((s) => s.events.map((e) => e.body))).toEqual(
      expect.arrayContaining([a!.payload, b!.payload]),
    );
  });
});

describe('createTelemetryProducer', () => {
  it('builds the SDK producer that sendTelemetry takes', async () => {
    const client = createTelemetryProducer(
      {
        kind: 'connection-string',
        connectionString:
          'Endpoint=sb://evhns-aurora-dev.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0',
      },
      { eventHubName: 'telemetry' },
    );
    const producer: TelemetryProducer = client;
    expect([client.fullyQualifiedNamespace, producer.eventHubName]).toEqual([
      'evhns-aurora-dev.servicebus.windows.net',
      'telemetry',
    ]);
    await producer.close();
  });
});

describe('connectionStringHub', () => {
  it('reads EntityPath, and refuses a malformed string naming the secret but never repeating it', () => {
    expect(
      connectionStringHub(
        'Endpoint=sb://evhns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0;EntityPath=telemetry',
      ),
    ).toBe('telemetry');
    const secret = 'Endpoint=sb://evhns.servicebus.windows.net/;SharedAccessKey=TOP-SECRET-VALUE';
    let caught: unknown;
    try {
      connectionStringHub(secret);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const text = `${(caught as ConfigError).message} ${JSON.stringify(caught)}`;
    expect(text).toMatch(/secret eventhub-connection-string is not an Event Hubs connection string/);
    expect(text).not.toContain('TOP-SECRET-VALUE');
  });
});
