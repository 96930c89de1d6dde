import { type Clock, type Logger, retry, type Sleep } from '@aurora/core';
import { CheckpointConflictError, type CheckpointStore } from '@aurora/lake';
import { FACILITIES, parseTelemetryTopic, TELEMETRY_TOPIC_FILTER } from '@aurora/plant';
import mqtt, { type MqttClient } from 'mqtt';
import type { EventHubBatchMetadata } from './event-hub-batch.js';

/** The Event Hubs trigger handler the bridge feeds, locally exactly as the Azure host would. */
export type EventHubDelivery = (messages: unknown[], metadata: EventHubBatchMetadata) => Promise<void>;

export interface EdgeBridgeOptions {
  mqttUrl: string;
  deliver: EventHubDelivery;
  /** Most messages handed over in one call (the trigger's maxEventBatchSize). */
  batchMax: number;
  /** How long a message may wait for its batch to fill. */
  flushMs: number;
  clock: Clock;
  log: Logger;
  /** Where each partition's delivered sequence number is kept, so numbering continues across restarts. */
  checkpoints?: CheckpointStore;
  retryDelaysMs: readonly number[];
  sleep?: Sleep;
  clientId?: string;
}

interface Pending {
  body: unknown;
  topic: string;
  facility: string;
  sensorId: string;
  sequence: number;
  enqueuedAt: string;
}

interface Partition {
  id: string;
  facility: string;
  next: number;
  etag: string | undefined;
  queue: Pending[];
  inFlight: Promise<void> | undefined;
}

export interface EdgeBridgeStats {
  received: number;
  delivered: number;
  pending: number;
  deliveryFailures: number;
  unroutable: number;
}

const CHECKPOINT_SOURCE = 'edge-bridge';

/** Payloads become what the Functions host hands a handler: parsed JSON when it parses, else text or bytes. */
function asTriggerBody(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(payload)) return Buffer.from(payload);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The IoT Edge role on a laptop: subscribes to the sensors' MQTT topics and hands batches to the Event
 * Hubs trigger handler with the metadata the hub would attach (one partition per facility, sequence
 * numbers, enqueue times, the device id as IoT Hub system property). Store and forward: a batch that
 * fails is retried with backoff and kept, never dropped; a partition's checkpoint moves only after its
 * batch was handled.
 */
export class EdgeBridge {
  readonly #o: EdgeBridgeOptions;
  readonly #partitions = new Map<string, Partition>();
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stats: EdgeBridgeStats = { received: 0, delivered: 0, pending: 0, deliveryFailures: 0, unroutable: 0 };

  readonly #clientId: string;

  constructor(options: EdgeBridgeOptions) {
    this.#o = options;
    this.#clientId = options.clientId ?? `aurora-edge-${process.pid}-${Date.now()}`;
  }

  get stats(): EdgeBridgeStats {
    return {
      ...this.#stats,
      pending: [...this.#partitions.values()].reduce((n, p) => n + p.queue.length, 0),
    };
  }

  async start(): Promise<void> {
    for (const [index, facility] of FACILITIES.entries()) {
      const id = String(index);
      const saved = await this.#o.checkpoints?.load<{ nextSequence: number }>(CHECKPOINT_SOURCE, id);
      this.#partitions.set(facility.id, {
        id,
        facility: facility.id,
        next: saved?.value.nextSequence ?? 0,
        etag: saved?.etag,
        queue: [],
        inFlight: undefined,
      });
    }
    // A persistent session: while the bridge is away (a reconnect, a broker restart with persistence)
    // the broker keeps its subscription, queues the QoS 1 readings for it, and redelivers what it sent
    // but never saw acknowledged. A clean session would drop whatever the sensors published meanwhile.
    const client = await mqtt.connectAsync(this.#o.mqttUrl, {
      clientId: this.#clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    client.on('message', (topic, payload) => this.#receive(topic, payload));
    client.on('error', (error) => this.#o.log.warn({ event: 'edge.mqtt.error', err: error }, 'MQTT error'));
    await client.subscribeAsync(TELEMETRY_TOPIC_FILTER, { qos: 1 });
    this.#client = client;
    this.#timer = setInterval(() => void this.flush(), this.#o.flushMs);
    this.#o.log.info({ event: 'edge.started', mqttUrl: this.#o.mqttUrl }, 'edge bridge subscribed');
  }

  #receive(topic: string, payload: Buffer): void {
    this.#stats.received++;
    const route = parseTelemetryTopic(topic);
    const partition = route ? this.#partitions.get(route.facilityId) : undefined;
    // An unknown facility still reaches the handler (which dead-letters it), on partition 0.
    const target = partition ?? this.#partitions.values().next().value!;
    if (!partition) this.#stats.unroutable++;
    target.queue.push({
      body: asTriggerBody(payload),
      topic,
      facility: route?.facilityId ?? 'unknown',
      sensorId: route?.sensorId ?? 'unknown',
      sequence: target.next++,
      enqueuedAt: this.#o.clock.now().toISOString(),
    });
    if (target.queue.length >= this.#o.batchMax) void this.#pump(target);
  }

  /** Hands every queued message over now and waits until all of it was handled. */
  async flush(): Promise<void> {
    await Promise.all([...this.#partitions.values()].map((p) => this.#pump(p)));
  }

  /** Waits until `count` messages were received (or the timeout passes), then flushes. */
  async drain(expected: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#stats.received < expected && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await this.flush();
  }

  #pump(partition: Partition): Promise<void> {
    if (partition.inFlight) return partition.inFlight;
    if (partition.queue.length === 0) return Promise.resolve();
    // One delivery at a time per partition, like an Event Hubs partition; cleared once it settles.
    partition.inFlight = (async () => {
      while (partition.queue.length > 0) {
        const batch = partition.queue.slice(0, this.#o.batchMax);
        if (!(await this.#deliver(partition, batch))) return;
        partition.queue.splice(0, batch.length);
      }
    })().finally(() => {
      partition.inFlight = undefined;
    });
    return partition.inFlight;
  }

  async #deliver(partition: Partition, batch: Pending[]): Promise<boolean> {
    const metadata: EventHubBatchMetadata = {
      enqueuedTimeUtcArray: batch.map((m) => m.enqueuedAt),
      sequenceNumberArray: batch.map((m) => m.sequence),
      offsetArray: batch.map((m) => String(m.sequence)),
      partitionKeyArray: batch.map(() => partition.facility),
      propertiesArray: batch.map((m) => ({ topic: m.topic, facility: m.facility })),
      systemPropertiesArray: batch.map((m) => ({
        'iothub-connection-device-id': m.sensorId,
        'iothub-message-source': 'Telemetry',
        'iothub-enqueuedtime': m.enqueuedAt,
        'x-opt-sequence-number': m.sequence,
        'x-opt-offset': String(m.sequence),
      })),
      partitionContext: { partitionId: partition.id, eventHubName: 'telemetry', consumerGroup: '$Default' },
    };
    try {
      await retry(
        () =>
          this.#o.deliver(
            batch.map((m) => m.body),
            metadata,
          ),
        {
          delaysMs: this.#o.retryDelaysMs,
          isRetryable: () => true,
          ...(this.#o.sleep ? { sleep: this.#o.sleep } : {}),
          onRetry: ({ attempt, delayMs, error }) => {
            this.#stats.deliveryFailures++;
            this.#o.log.warn(
              { event: 'edge.delivery.retry', partition: partition.id, attempt, delayMs, err: error },
              'telemetry delivery failed, retrying',
            );
          },
        },
      );
    } catch (error) {
      this.#stats.deliveryFailures++;
      this.#o.log.error(
        { event: 'edge.delivery.failed', partition: partition.id, messages: batch.length, err: error },
        'telemetry delivery failed; batch kept for the next flush',
      );
      return false;
    }
    const nextSequence = batch[batch.length - 1]!.sequence + 1;
    try {
      await this.#checkpoint(partition, nextSequence);
    } catch (error) {
      // Landed but not checkpointed (the storage went away in between): the batch stays queued, and its
      // redelivery, cut the same, finds its files and lands nothing twice.
      this.#stats.deliveryFailures++;
      this.#o.log.error(
        { event: 'edge.checkpoint.failed', partition: partition.id, messages: batch.length, err: error },
        'telemetry landed but its checkpoint could not be saved; batch kept for the next flush',
      );
      return false;
    }
    this.#stats.delivered += batch.length;
    return true;
  }

  async #checkpoint(partition: Partition, nextSequence: number): Promise<void> {
    const store = this.#o.checkpoints;
    if (!store) return;
    try {
      partition.etag = await store.save(CHECKPOINT_SOURCE, partition.id, { nextSequence }, partition.etag);
    } catch (error) {
      if (!(error instanceof CheckpointConflictError)) throw error;
      // A save whose answer was lost (the storage restarted) may have gone through: take the stored
      // version and save again.
      const stored = await store.load<{ nextSequence: number }>(CHECKPOINT_SOURCE, partition.id);
      partition.etag = await store.save(
        CHECKPOINT_SOURCE,
        partition.id,
        { nextSequence: Math.max(nextSequence, stored?.value.nextSequence ?? 0) },
        stored?.etag,
      );
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#client?.endAsync();
    await this.flush();
    // Stopped on purpose: end the session, so the broker does not keep queueing readings for nobody.
    if (this.#client) {
      const ending = await mqtt
        .connectAsync(this.#o.mqttUrl, { clientId: this.#clientId, clean: true, reconnectPeriod: 0 })
        .catch(() => undefined);
      await ending?.endAsync();
    }
  }
}
