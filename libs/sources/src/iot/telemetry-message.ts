import { jsonText } from '@aurora/core';
import type { Catalogue } from '@aurora/plant';
import { z } from 'zod';

/** IoT Hub rejects device-to-cloud messages over 256 KB; anything larger did not come from a real device. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Event Hubs keeps messages 7 days: an older event time is a broken device clock, not late data. */
export const MAX_EVENT_AGE_MS = 7 * 24 * 3600_000;
/** Device clocks drift; more than this ahead of the hub's clock is not plausible. */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

export const sensorPayloadSchema = z.strictObject({
  sensor_id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'sensor_id has characters outside [A-Za-z0-9_.-]'),
  metric: z.enum(['temperature', 'pressure', 'vibration', 'energy']).optional(),
  unit: z.string().max(32).optional(),
  value: z.number().refine(Number.isFinite, 'value must be a finite number'),
  ts: z.iso.datetime({ offset: true, message: 'ts must be an ISO 8601 date-time with a UTC offset' }),
  seq: z.number().int().nonnegative().optional(),
});

/** One landed reading: a bronze/iot row before lineage columns are added. */
export interface TelemetryRow {
  facility_id: string;
  machine_id: string;
  sensor_id: string;
  metric: string;
  unit: string;
  value: number;
  event_at: Date;
  sensor_seq: number | null;
  device_id: string | null;
  partition_id: string | null;
  sequence_number: bigint | null;
  enqueued_at: Date | null;
}

export interface EnvelopeFacts {
  deviceId: string | null;
  partitionId: string | null;
  sequenceNumber: bigint | null;
  enqueuedAt: Date | null;
  /** Application properties set by the edge (topic, facility). */
  properties: Record<string, unknown>;
}

export type Parsed = { ok: true; row: TelemetryRow } | { ok: false; code: string; reason: string };

const reject = (code: string, reason: string): Parsed => ({ ok: false, code, reason });

/** Bodies arrive as the Functions host hands them over: parsed JSON, a string, or raw bytes. */
function decodeBody(
  body: unknown,
): { ok: true; value: unknown; bytes: number } | { ok: false; code: string; reason: string } {
  if (body instanceof Uint8Array) {
    const text = Buffer.from(body).toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(Buffer.from(body)))
      return { ok: false, code: 'iot.invalid_encoding', reason: 'body is not valid UTF-8' };
    return decodeBody(text);
  }
  if (typeof body === 'string') {
    const bytes = Buffer.byteLength(body);
    if (bytes > MAX_MESSAGE_BYTES)
      return {
        ok: false,
        code: 'iot.oversized',
        reason: `body is ${bytes} bytes, over the 256 KB device limit`,
      };
    try {
      return { ok: true, value: JSON.parse(body), bytes };
    } catch (error) {
      return { ok: false, code: 'iot.invalid_json', reason: `body is not JSON: ${(error as Error).message}` };
    }
  }
  // jsonText, not JSON.stringify: a parsed body nested 10,000 deep must be measured, not crash the batch.
  const bytes = Buffer.byteLength(jsonText(body) ?? '');
  if (bytes > MAX_MESSAGE_BYTES)
    return {
      ok: false,
      code: 'iot.oversized',
      reason: `body is ${bytes} bytes, over the 256 KB device limit`,
    };
  return { ok: true, value: body, bytes };
}

/**
 * Validates one telemetry message against the payload contract and the plant catalogue. Never throws:
 * every way a message can be wrong becomes a rejection with a stable code and a reason a person can act on.
 */
export function parseTelemetryMessage(
  body: unknown,
  envelope: EnvelopeFacts,
  catalogue: Catalogue,
  now: Date,
): Parsed {
  const decoded = decodeBody(body);
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(
      'iot.invalid_message',
      `body must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  const parsed = sensorPayloadSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    return reject('iot.invalid_message', first.join('; '));
  }
  const p = parsed.data;
  const sensor = catalogue.sensor(p.sensor_id);
  if (!sensor) return reject('iot.unknown_sensor', `sensor ${p.sensor_id} is not in the plant catalogue`);
  if (p.metric !== undefined && p.metric !== sensor.metric) {
    return reject(
      'iot.metric_mismatch',
      `sensor ${sensor.id} measures ${sensor.metric}, message says ${p.metric}`,
    );
  }
  if (p.unit !== undefined && p.unit !== sensor.unit) {
    return reject(
      'iot.unit_mismatch',
      `sensor ${sensor.id} reports in ${sensor.unit}, message says ${p.unit}`,
    );
  }
  const claimedFacility = envelope.properties['facility'];
  if (typeof claimedFacility === 'string' && claimedFacility !== sensor.facilityId) {
    return reject(
      'iot.facility_mismatch',
      `sensor ${sensor.id} belongs to ${sensor.facilityId}, message came through ${claimedFacility}`,
    );
  }
  const eventAt = new Date(p.ts);
  const reference = envelope.enqueuedAt ?? now;
  if (eventAt.getTime() > reference.getTime() + MAX_CLOCK_AHEAD_MS) {
    return reject(
      'iot.implausible_time',
      `event time ${p.ts} is ahead of the hub time ${reference.toISOString()}`,
    );
  }
  if (eventAt.getTime() < reference.getTime() - MAX_EVENT_AGE_MS) {
    return reject(
      'iot.implausible_time',
      `event time ${p.ts} is more than 7 days before the hub time ${reference.toISOString()}`,
    );
  }
  return {
    ok: true,
    row: {
      facility_id: sensor.facilityId,
      machine_id: sensor.machineId,
      sensor_id: sensor.id,
      metric: sensor.metric,
      unit: sensor.unit,
      value: p.value,
      event_at: eventAt,
      sensor_seq: p.seq ?? null,
      device_id: envelope.deviceId,
      partition_id: envelope.partitionId,
      sequence_number: envelope.sequenceNumber,
      enqueued_at: envelope.enqueuedAt,
    },
  };
}
