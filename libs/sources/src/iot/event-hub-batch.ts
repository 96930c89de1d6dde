import type { EnvelopeFacts } from './telemetry-message.js';

/**
 * `context.triggerMetadata` of an Event Hubs trigger with cardinality 'many', as the Functions v4 Node
 * library hands it over: one array entry per message (SOURCES-NOTES §4). Types are loose on purpose: the
 * host serialises some values as ISO strings, raw AMQP as epoch milliseconds.
 */
export interface EventHubBatchMetadata {
  enqueuedTimeUtcArray?: readonly (string | number | Date)[];
  sequenceNumberArray?: readonly (number | string | bigint)[];
  offsetArray?: readonly (string | number)[];
  partitionKeyArray?: readonly (string | null)[];
  propertiesArray?: readonly (Record<string, unknown> | null)[];
  systemPropertiesArray?: readonly (Record<string, unknown> | null)[];
  partitionContext?: {
    partitionId?: string;
    eventHubName?: string;
    consumerGroup?: string;
    fullyQualifiedNamespace?: string;
  };
}

/** The IoT Hub system property that names the authenticated device (never an application property). */
export const IOTHUB_DEVICE_ID = 'iothub-connection-device-id';
/** When IoT Hub accepted the device's message: epoch ms in raw AMQP, an ISO string after the Functions host. */
export const IOTHUB_ENQUEUED_TIME = 'iothub-enqueuedtime';

/** Everything the hub says about message `i`, beyond what parsing the body needs. */
export interface HubEnvelope extends EnvelopeFacts {
  /** The event's offset in its partition (a string in the current Event Hubs API). Absent when unknown. */
  offset?: string;
  partitionKey?: string;
  /** When IoT Hub accepted the message, before routing it to Event Hubs; absent for events sent straight to Event Hubs. */
  iotHubEnqueuedAt?: Date;
}

const toDate = (v: unknown): Date | null => {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v === 'number' || typeof v === 'string') {
    const d = new Date(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
};

const toBigInt = (v: unknown): bigint | null => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  return null;
};

const toOffset = (v: unknown): string | null => {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  return null;
};

/** First value that is set: the metadata arrays win, the per-message system properties are the fallback. */
const firstSet = (...values: unknown[]): unknown => values.find((v) => v !== undefined && v !== null);

/**
 * The envelope of message `i`: the device id from the IoT Hub system properties (authenticated by the
 * hub, unlike anything in the body or the application properties) and the event's position in the hub.
 * The host's camel-cased copies (`sequenceNumber`, `offset`, `enqueuedTimeUtc`, `partitionKey`) and the raw
 * AMQP annotations (`x-opt-*`) inside the system properties are fallbacks for the arrays.
 */
export function envelopeAt(metadata: EventHubBatchMetadata, i: number): HubEnvelope {
  const system = metadata.systemPropertiesArray?.[i] ?? {};
  const device = system[IOTHUB_DEVICE_ID];
  const partitionKey = firstSet(
    metadata.partitionKeyArray?.[i],
    system['partitionKey'],
    system['x-opt-partition-key'],
  );
  const offset = toOffset(firstSet(metadata.offsetArray?.[i], system['offset'], system['x-opt-offset']));
  const iotHubEnqueuedAt = toDate(system[IOTHUB_ENQUEUED_TIME]);
  return {
    deviceId: typeof device === 'string' && device.length > 0 ? device : null,
    partitionId: metadata.partitionContext?.partitionId ?? null,
    sequenceNumber: toBigInt(
      firstSet(metadata.sequenceNumberArray?.[i], system['sequenceNumber'], system['x-opt-sequence-number']),
    ),
    enqueuedAt: toDate(
      firstSet(
        metadata.enqueuedTimeUtcArray?.[i],
        system['enqueuedTimeUtc'],
        system['x-opt-enqueued-time'],
        system[IOTHUB_ENQUEUED_TIME],
      ),
    ),
    properties: metadata.propertiesArray?.[i] ?? {},
    // Optional fields stay absent rather than null, so an envelope compares equal to the plain facts.
    ...(offset === null ? {} : { offset }),
    ...(typeof partitionKey === 'string' ? { partitionKey } : {}),
    ...(iotHubEnqueuedAt === null ? {} : { iotHubEnqueuedAt }),
  };
}
