import { type Logger, UsageError } from '@aurora/core';
import {
  EventHubConsumerClient,
  type EventPosition,
  type MessagingError,
  type PartitionContext,
  type PartitionProperties,
  type ReceivedEventData,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionEventHandlers,
} from '@azure/event-hubs';
import type { EventHubBatchMetadata } from '../event-hub-batch.js';
import type { TelemetryLandingReport } from '../land-telemetry.js';

import { connectionStringHub, type EventHubAccess } from './event-hub-sender.js';

// The package exports the Event Hubs tools through this module (one line in src/index.ts).
export * from './event-hub-sender.js';

/** What replay needs of an EventHubConsumerClient; the real client satisfies it. */
export interface ReplayConsumer {
  readonly eventHubName: string;
  readonly fullyQualifiedNamespace: string;
  getPartitionIds(options?: { abortSignal?: AbortSignal }): Promise<string[]>;
  getPartitionProperties(
    partitionId: string,
    options?: { abortSignal?: AbortSignal },
  ): Promise<PartitionProperties>;
  subscribe(
    partitionId: string,
    handlers: SubscriptionEventHandlers,
    options?: SubscribeOptions,
  ): Subscription;
  close(): Promise<void>;
}

/**
 * An EventHubConsumerClient for the telemetry hub. A connection string that names its hub (`EntityPath`)
 * wins over `eventHubName`, since the SDK refuses the two when they differ.
 */
export function createTelemetryConsumer(
  access: EventHubAccess,
  options: { eventHubName: string; consumerGroup: string },
): EventHubConsumerClient {
  if (access.kind === 'identity') {
    return new EventHubConsumerClient(
      options.consumerGroup,
      access.namespace,
      options.eventHubName,
      access.credential,
    );
  }
  return connectionStringHub(access.connectionString)
    ? new EventHubConsumerClient(options.consumerGroup, access.connectionString)
    : new EventHubConsumerClient(options.consumerGroup, access.connectionString, options.eventHubName);
}

/** The partition a batch came from, as the Functions trigger's `partitionContext` names it. */
export type TriggerPartition = Pick<
  PartitionContext,
  'partitionId' | 'eventHubName' | 'consumerGroup' | 'fullyQualifiedNamespace'
>;

/**
 * Received events as the Event Hubs trigger (cardinality 'many') hands them to a function: the bodies,
 * and per-message metadata arrays with the host's field names. The SDK lifts the `x-opt-*` annotations
 * out of `systemProperties` into fields; the host keeps them in the system properties too, so they are
 * put back, together with the host's camel-cased copies (SOURCES-NOTES §4). IoT Hub's own properties
 * (`iothub-connection-device-id`, `iothub-enqueuedtime`, ...) pass through as the SDK decoded them.
 */
export function toTriggerBatch(
  events: readonly ReceivedEventData[],
  partition: TriggerPartition,
): { messages: unknown[]; metadata: EventHubBatchMetadata } {
  return {
    messages: events.map((e) => e.body),
    metadata: {
      enqueuedTimeUtcArray: events.map((e) => e.enqueuedTimeUtc.toISOString()),
      sequenceNumberArray: events.map((e) => e.sequenceNumber),
      offsetArray: events.map((e) => e.offset),
      partitionKeyArray: events.map((e) => e.partitionKey ?? null),
      propertiesArray: events.map((e) => ({ ...e.properties })),
      systemPropertiesArray: events.map((e) => ({
        ...e.systemProperties,
        'x-opt-sequence-number': e.sequenceNumber,
        'x-opt-offset': e.offset,
        'x-opt-enqueued-time': e.enqueuedTimeUtc.toISOString(),
        ...(e.partitionKey == null ? {} : { 'x-opt-partition-key': e.partitionKey }),
        enqueuedTimeUtc: e.enqueuedTimeUtc.toISOString(),
        sequenceNumber: e.sequenceNumber,
        offset: e.offset,
        partitionKey: e.partitionKey ?? null,
      })),
      partitionContext: {
        partitionId: partition.partitionId,
        eventHubName: partition.eventHubName,
        consumerGroup: partition.consumerGroup,
        fullyQualifiedNamespace: partition.fullyQualifiedNamespace,
      },
    },
  };
}

/** The time range to replay: events enqueued in [from, to), or from `from` to what the hub held at start. */
export interface ReplayRange {
  from: Date;
  to?: Date;
}

export type PartitionReplayPlan =
  | {
      partitionId: string;
      action: 'skip';
      reason: 'empty' | 'nothing-since-from';
      lastEnqueuedSequenceNumber: number;
      lastEnqueuedOnUtc?: Date;
    }
  | {
      partitionId: string;
      action: 'read';
      startPosition: EventPosition;
      /** The last event the partition held when replay started: replay never waits for newer ones. */
      lastSequenceNumber: number;
      lastEnqueuedOnUtc: Date;
    };

/** A usage problem with a range, or undefined when it is fine. */
export function checkReplayRange(range: ReplayRange): string | undefined {
  if (Number.isNaN(range.from.getTime())) return '--from is not a valid time';
  if (range.to && Number.isNaN(range.to.getTime())) return '--to is not a valid time';
  if (range.to && range.to.getTime() <= range.from.getTime())
    return `--to (${range.to.toISOString()}) must be after --from (${range.from.toISOString()})`;
  return undefined;
}

/**
 * Where to read a partition, from its properties at the start of replay. The SDK's `enqueuedOn` filter is
 * exclusive (`x-opt-enqueued-time > from`), so the start is one millisecond before `from` to keep an
 * event enqueued exactly at `from`. An empty partition (lastEnqueuedSequenceNumber -1) and one whose
 * last event is older than `from` are not read at all.
 */
export function planPartitionReplay(
  properties: PartitionProperties,
  range: ReplayRange,
): PartitionReplayPlan {
  const { partitionId, lastEnqueuedSequenceNumber, lastEnqueuedOnUtc } = properties;
  if (properties.isEmpty || lastEnqueuedSequenceNumber < 0) {
    return {
      partitionId,
      action: 'skip',
      reason: 'empty',
      lastEnqueuedSequenceNumber,
    };
  }
  if (lastEnqueuedOnUtc.getTime() < range.from.getTime()) {
    return {
      partitionId,
      action: 'skip',
      reason: 'nothing-since-from',
      lastEnqueuedSequenceNumber,
      lastEnqueuedOnUtc,
    };
  }
  return {
    partitionId,
    action: 'read',
    startPosition: { enqueuedOn: range.from.getTime() - 1 },
    lastSequenceNumber: lastEnqueuedSequenceNumber,
    lastEnqueuedOnUtc,
  };
}

/**
 * The part of a received batch inside the range, and whether the partition is done: at the first event
 * enqueued at or after `to`, or once the last event that was there at start has been taken.
 */
export function takeInRange(
  events: readonly ReceivedEventData[],
  plan: { lastSequenceNumber: number },
  range: ReplayRange,
): { inRange: ReceivedEventData[]; done: boolean } {
  const inRange: ReceivedEventData[] = [];
  for (const event of events) {
    if (range.to && event.enqueuedTimeUtc.getTime() >= range.to.getTime()) return { inRange, done: true };
    if (event.sequenceNumber > plan.lastSequenceNumber) return { inRange, done: true };
    // The position filter already starts at `from`; an earlier event would be a service quirk, not data to land.
    if (event.enqueuedTimeUtc.getTime() >= range.from.getTime()) inRange.push(event);
    if (event.sequenceNumber === plan.lastSequenceNumber) return { inRange, done: true };
  }
  return { inRange, done: false };
}

/** What the landing function reports back (landTelemetry's report). */
export type LandingCounts = Pick<
  TelemetryLandingReport,
  'received' | 'landed' | 'deadLettered' | 'alreadyLanded' | 'alreadyDeadLettered' | 'duplicates'
>;

export type TelemetryLanding = (
  messages: unknown[],
  metadata: EventHubBatchMetadata,
) => Promise<LandingCounts>;

export interface PartitionReplayResult extends LandingCounts {
  partitionId: string;
  outcome: 'done' | 'skipped' | 'stalled' | 'failed' | 'aborted';
  /** Why a partition was skipped, stalled or failed. */
  reason?: string;
  batches: number;
  firstSequenceNumber?: number;
  lastSequenceNumber?: number;
}

export interface ReplaySummary {
  namespace: string;
  eventHubName: string;
  from: string;
  to?: string;
  partitions: PartitionReplayResult[];
  totals: LandingCounts & { batches: number };
  /** Every partition done or skipped. */
  ok: boolean;
}

export interface ReplayOptions extends ReplayRange {
  consumer: ReplayConsumer;
  /** The telemetry handler's landing function (landTelemetry with its dependencies). */
  land: TelemetryLanding;
  log: Logger;
  /** Events per batch handed to `land` (the trigger's maxEventBatchSize). Default 1000. */
  maxBatchSize?: number;
  /** How long one receive waits for a batch to fill. Default 5 s. */
  maxWaitTimeInSeconds?: number;
  /** Empty receives in a row after which a partition that has not reached its end is given up as stalled. Default 12. */
  idleRounds?: number;
  /** Partitions read at once. Default 4. */
  concurrency?: number;
  /** Called with a partition's running totals after every batch and when it ends. */
  onProgress?: (progress: PartitionReplayResult) => void;
  /** Called once the plan is known, before anything is read. */
  onPlan?: (plans: readonly PartitionReplayPlan[]) => void;
  signal?: AbortSignal;
}

const zeroCounts = (): LandingCounts => ({
  received: 0,
  landed: 0,
  deadLettered: 0,
  alreadyLanded: 0,
  alreadyDeadLettered: 0,
  duplicates: 0,
});

const COUNT_KEYS = Object.keys(zeroCounts()) as (keyof LandingCounts)[];

/**
 * Every partition's plan, from its properties now: what a replay of `range` would read. Reads no events,
 * so it is the dry run.
 */
export async function planReplay(
  consumer: Pick<ReplayConsumer, 'getPartitionIds' | 'getPartitionProperties'>,
  range: ReplayRange,
  signal?: AbortSignal,
): Promise<PartitionReplayPlan[]> {
  const abort = signal ? { abortSignal: signal } : {};
  const partitionIds = await consumer.getPartitionIds(abort);
  return Promise.all(
    partitionIds.map(async (id) =>
      planPartitionReplay(await consumer.getPartitionProperties(id, abort), range),
    ),
  );
}

/**
 * Backfill after an outage: reads every partition of the hub from `from` (to `to`, or to what each
 * partition held when replay started) and lands it through the same function the Event Hubs trigger
 * calls, with the same metadata shape. Landing is idempotent per batch and rows carry their hub position,
 * so replaying a range the function already landed adds nothing silver cannot deduplicate.
 */
export async function replayTelemetry(options: ReplayOptions): Promise<ReplaySummary> {
  const { consumer, log, signal } = options;
  const range: ReplayRange = { from: options.from, ...(options.to ? { to: options.to } : {}) };
  const problem = checkReplayRange(range);
  if (problem) throw new UsageError(problem);
  const plans = await planReplay(consumer, range, signal);
  options.onPlan?.(plans);
  log.info(
    {
      event: 'iot.replay.planned',
      eventHub: consumer.eventHubName,
      partitions: plans.length,
      reading: plans.filter((p) => p.action === 'read').length,
    },
    'replay planned',
  );

  const results: PartitionReplayResult[] = new Array(plans.length);
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const index = next++;
      const plan = plans[index]!;
      const result =
        plan.action === 'skip'
          ? {
              partitionId: plan.partitionId,
              outcome: 'skipped' as const,
              reason: plan.reason,
              batches: 0,
              ...zeroCounts(),
            }
          : await replayPartition(options, plan, range);
      options.onProgress?.(result);
      results[index] = result;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));

  const totals = { ...zeroCounts(), batches: 0 };
  for (const r of results) {
    for (const k of COUNT_KEYS) totals[k] += r[k];
    totals.batches += r.batches;
  }
  const summary: ReplaySummary = {
    namespace: consumer.fullyQualifiedNamespace,
    eventHubName: consumer.eventHubName,
    from: range.from.toISOString(),
    ...(range.to ? { to: range.to.toISOString() } : {}),
    partitions: results,
    totals,
    ok: results.every((r) => r.outcome === 'done' || r.outcome === 'skipped'),
  };
  log.info({ event: 'iot.replay.finished', ok: summary.ok, ...totals }, 'replay finished');
  return summary;
}

function replayPartition(
  options: ReplayOptions,
  plan: Extract<PartitionReplayPlan, { action: 'read' }>,
  range: ReplayRange,
): Promise<PartitionReplayResult> {
  const { consumer, land, log, signal } = options;
  const idleRounds = options.idleRounds ?? 12;
  const result: PartitionReplayResult = {
    partitionId: plan.partitionId,
    outcome: 'done',
    batches: 0,
    ...zeroCounts(),
  };
  return new Promise((resolve) => {
    let settled = false;
    let idle = 0;
    let subscription: Subscription | undefined;
    const finish = (outcome: PartitionReplayResult['outcome'], reason?: string) => {
      if (settled) return;
      settled = true;
      result.outcome = outcome;
      if (reason) result.reason = reason;
      signal?.removeEventListener('abort', onAbort);
      // Never awaited inside processEvents: closing waits for the running handler, which would deadlock.
      const closing = subscription?.close() ?? Promise.resolve();
      closing.then(
        () => resolve(result),
        (error: unknown) => {
          log.warn(
            { event: 'iot.replay.close_failed', partition: plan.partitionId, err: error },
            'close failed',
          );
          resolve(result);
        },
      );
    };
    const onAbort = () => finish('aborted', 'aborted');
    if (signal?.aborted) {
      finish('aborted', 'aborted');
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    subscription = consumer.subscribe(
      plan.partitionId,
      {
        processEvents: async (events, context) => {
          if (settled) return;
          if (events.length === 0) {
            // Events that were there at start must come; a long silence means the hub lost them (retention) or the link is stuck.
            if (++idle >= idleRounds)
              finish('stalled', `no events for ${idle} receives before sequence ${plan.lastSequenceNumber}`);
            return;
          }
          idle = 0;
          const { inRange, done } = takeInRange(events, plan, range);
          if (inRange.length > 0) {
            const batch = toTriggerBatch(inRange, context);
            try {
              const counts = await land(batch.messages, batch.metadata);
              for (const k of COUNT_KEYS) result[k] += counts[k];
            } catch (error) {
              log.error(
                { event: 'iot.replay.landing_failed', partition: plan.partitionId, err: error },
                'landing a replayed batch failed',
              );
              finish('failed', `landing failed: ${error instanceof Error ? error.message : String(error)}`);
              return;
            }
            result.batches++;
            result.firstSequenceNumber ??= inRange[0]!.sequenceNumber;
            result.lastSequenceNumber = inRange[inRange.length - 1]!.sequenceNumber;
            options.onProgress?.({ ...result });
          }
          if (done) finish('done');
        },
        processError: async (error) => {
          log.warn(
            { event: 'iot.replay.receive_error', partition: plan.partitionId, err: error },
            'receiving from Event Hubs failed',
          );
          // The SDK retries transient errors itself and stops the partition's pump on any other (as here).
          if (!(error as Partial<MessagingError>).retryable)
            finish('failed', `receiving failed: ${error.message}`);
        },
      },
      {
        startPosition: plan.startPosition,
        maxBatchSize: options.maxBatchSize ?? 1000,
        maxWaitTimeInSeconds: options.maxWaitTimeInSeconds ?? 5,
      },
    );
    // Finished before the subscription existed (an abort): close it now.
    if (settled) void subscription.close().catch(() => undefined);
  });
}
