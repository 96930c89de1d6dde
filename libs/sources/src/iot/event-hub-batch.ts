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
  partitionContext?: { partitionId?: string; eventHubName?: string; consumerGroup?: string };
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

/** The envelope facts of message `i`: device id from the IoT Hub system properties, position in the hub. */
export function envelopeAt(metadata: EventHubBatchMetadata, i: number): EnvelopeFacts {
  const system = metadata.systemPropertiesArray?.[i] ?? {};
  const device = system['iothub-connection-device-id'];
  return {
    deviceId: typeof device === 'string' ? device : null,
    partitionId: metadata.partitionContext?.partitionId ?? null,
    sequenceNumber: toBigInt(
      metadata.sequenceNumberArray?.[i] ?? system['sequenceNumber'] ?? system['x-opt-sequence-number'],
    ),
    enqueuedAt: toDate(
      metadata.enqueuedTimeUtcArray?.[i] ?? system['enqueuedTimeUtc'] ?? system['iothub-enqueuedtime'],
    ),
    properties: metadata.propertiesArray?.[i] ?? {},
  };
}
