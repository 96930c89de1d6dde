import { ConfigError, type Logger } from '@aurora/core';
import { parseTelemetryTopic, type SimulatedMessage } from '@aurora/plant';
import {
  type EventData,
  type EventDataBatch,
  EventHubProducerClient,
  parseEventHubConnectionString,
  type TokenCredential,
} from '@azure/event-hubs';

/** How to reach an Event Hubs namespace: Entra ID (DefaultAzureCredential) or a connection string. */
export type EventHubAccess =
  | { kind: 'identity'; namespace: string; credential: TokenCredential }
  | { kind: 'connection-string'; connectionString: string };

/** The secret holding an Event Hubs connection string (env AURORA_EVENTHUB_CONNECTION_STRING locally). */
export const EVENTHUB_CONNECTION_SECRET = 'eventhub-connection-string';

/**
 * The hub a connection string names (`EntityPath`), if any. A malformed string becomes a ConfigError
 * naming the secret; the SDK's parser message is kept, the string itself never repeated.
 */
export function connectionStringHub(connectionString: string): string | undefined {
  try {
    return parseEventHubConnectionString(connectionString).eventHubName;
  } catch (error) {
    const problem = error instanceof Error ? error.message : 'unreadable';
    throw new ConfigError(
      `secret ${EVENTHUB_CONNECTION_SECRET} is not an Event Hubs connection string: ${problem}`,
      [{ variable: EVENTHUB_CONNECTION_SECRET, problem: 'not an Event Hubs connection string' }],
    );
  }
}

/** What sending needs of an EventHubProducerClient; the real client satisfies it. */
export interface TelemetryProducer {
  readonly eventHubName: string;
  createBatch(options: { partitionKey: string; abortSignal?: AbortSignal }): Promise<EventDataBatch>;
  sendBatch(batch: EventDataBatch, options?: { abortSignal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

/** An EventHubProducerClient for the telemetry hub (a connection string's `EntityPath` wins over the name). */
export function createTelemetryProducer(
  access: EventHubAccess,
  options: { eventHubName: string },
): EventHubProducerClient {
  if (access.kind === 'identity')
    return new EventHubProducerClient(access.namespace, options.eventHubName, access.credential);
  return connectionStringHub(access.connectionString)
    ? new EventHubProducerClient(access.connectionString)
    : new EventHubProducerClient(access.connectionString, options.eventHubName);
}

/** Facility of a message whose topic names none (the simulator's deliberately broken ones keep theirs). */
export const UNROUTABLE_PARTITION_KEY = 'unknown';

/**
 * A simulated sensor message as an Event Hubs event. The body is the sensor's bytes exactly (a Buffer
 * goes out as an AMQP data section, so JSON stays JSON and the deliberately broken messages stay broken).
 * The partition key is the facility, so one facility's readings stay in order on one partition. With no
 * IoT Hub in between there are no `iothub-*` system properties; the application properties carry what the
 * edge route adds (facility, topic), which the handler checks the sensor against.
 */
export function toTelemetryEvent(message: SimulatedMessage): { partitionKey: string; event: EventData } {
  const facility = parseTelemetryTopic(message.topic)?.facilityId ?? UNROUTABLE_PARTITION_KEY;
  return {
    partitionKey: facility,
    event: {
      body: message.payload,
      contentType: 'application/json',
      properties: { facility, topic: message.topic },
    },
  };
}

export interface PartitionKeyPlan {
  events: number;
  bytes: number;
  /** Messages the simulator broke on purpose; the handler must dead-letter exactly these. */
  bad: number;
}

/** What a send would do, per partition key (facility): the dry run. */
export interface TelemetrySendPlan {
  events: number;
  bytes: number;
  byPartitionKey: Record<string, PartitionKeyPlan>;
}

/** Counts what `sendTelemetry` would send, without a connection. */
export function planTelemetrySend(messages: Iterable<SimulatedMessage>): TelemetrySendPlan {
  const plan: TelemetrySendPlan = { events: 0, bytes: 0, byPartitionKey: {} };
  for (const message of messages) {
    const { partitionKey } = toTelemetryEvent(message);
    const entry = plan.byPartitionKey[partitionKey] ?? { events: 0, bytes: 0, bad: 0 };
    plan.byPartitionKey[partitionKey] = entry;
    entry.events++;
    entry.bytes += message.payload.byteLength;
    if (message.bad) entry.bad++;
    plan.events++;
    plan.bytes += message.payload.byteLength;
  }
  return plan;
}

export interface TelemetrySendOptions {
  producer: TelemetryProducer;
  messages: Iterable<SimulatedMessage> | AsyncIterable<SimulatedMessage>;
  log: Logger;
  /** After each batch sent. */
  onBatchSent?: (progress: { partitionKey: string; events: number; sentTotal: number }) => void;
  signal?: AbortSignal;
}

export interface TelemetrySendReport {
  sent: number;
  batches: number;
  /** Events larger than an empty batch allows (over the hub's message size limit): not sent, counted. */
  refused: number;
  byPartitionKey: Record<string, { sent: number; batches: number; refused: number }>;
}

/**
 * Sends the simulated plant's telemetry in batches, one open batch per partition key: a batch that
 * refuses the next event (`tryAdd` false, the SDK's own size accounting) is sent and a new one started.
 * One send is in flight at a time, so memory stays at one batch per facility however long the run.
 */
export async function sendTelemetry(options: TelemetrySendOptions): Promise<TelemetrySendReport> {
  const { producer, log, signal } = options;
  const report: TelemetrySendReport = { sent: 0, batches: 0, refused: 0, byPartitionKey: {} };
  const open = new Map<string, EventDataBatch>();
  const abort = signal ? { abortSignal: signal } : {};
  const entry = (key: string) => (report.byPartitionKey[key] ??= { sent: 0, batches: 0, refused: 0 });

  const send = async (partitionKey: string, batch: EventDataBatch) => {
    if (batch.count === 0) return;
    await producer.sendBatch(batch, abort);
    const e = entry(partitionKey);
    e.sent += batch.count;
    e.batches++;
    report.sent += batch.count;
    report.batches++;
    options.onBatchSent?.({ partitionKey, events: batch.count, sentTotal: report.sent });
  };
  const batchFor = async (partitionKey: string) => {
    let batch = open.get(partitionKey);
    if (!batch) {
      batch = await producer.createBatch({ partitionKey, ...abort });
      open.set(partitionKey, batch);
    }
    return batch;
  };

  for await (const message of options.messages) {
    signal?.throwIfAborted();
    const { partitionKey, event } = toTelemetryEvent(message);
    let batch = await batchFor(partitionKey);
    if (batch.tryAdd(event)) continue;
    await send(partitionKey, batch);
    open.delete(partitionKey);
    batch = await batchFor(partitionKey);
    if (!batch.tryAdd(event)) {
      entry(partitionKey).refused++;
      report.refused++;
      log.warn(
        {
          event: 'iot.simulate.event_refused',
          partitionKey,
          bytes: message.payload.byteLength,
          maxBatchBytes: batch.maxSizeInBytes,
        },
        'event larger than a batch may be; not sent',
      );
    }
  }
  for (const [partitionKey, batch] of open) await send(partitionKey, batch);
  log.info(
    { event: 'iot.simulate.sent', sent: report.sent, batches: report.batches, refused: report.refused },
    'telemetry sent to Event Hubs',
  );
  return report;
}
