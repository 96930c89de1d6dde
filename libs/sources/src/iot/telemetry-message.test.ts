import { catalogue } from '@aurora/plant';
import { describe, expect, it } from 'vitest';
import { envelopeAt } from './event-hub-batch.js';
import { type EnvelopeFacts, parseTelemetryMessage } from './telemetry-message.js';

const now = new Date('2026-11-23T08:00:00Z');
const envelope: EnvelopeFacts = {
  deviceId: 'aug-m01-temperature',
  partitionId: '0',
  sequenceNumber: 5n,
  enqueuedAt: now,
  properties: {},
};
const good = {
  sensor_id: 'aug-m01-temperature',
  metric: 'temperature',
  unit: 'degC',
  value: 48.2,
  ts: '2026-11-23T07:59:58.500Z',
  seq: 3,
};
const parse = (body: unknown, env: Partial<EnvelopeFacts> = {}) =>
  parseTelemetryMessage(body, { ...envelope, ...env }, catalogue, now);

describe('parseTelemetryMessage', () => {
  it('turns a good message into a row with the catalogue’s facility and machine', () => {
    const parsed = parse(good);
    expect(parsed).toEqual({
      ok: true,
      row: {
        facility_id: 'augsburg',
        machine_id: 'aug-m01',
        sensor_id: 'aug-m01-temperature',
        metric: 'temperature',
        unit: 'degC',
        value: 48.2,
        event_at: new Date('2026-11-23T07:59:58.500Z'),
        sensor_seq: 3,
        device_id: 'aug-m01-temperature',
        partition_id: '0',
        sequence_number: 5n,
        enqueued_at: now,
      },
    });
  });

  it('accepts the same message as text, as bytes, and with a non-UTC offset', () => {
    expect(parse(JSON.stringify(good)).ok).toBe(true);
    expect(parse(Buffer.from(JSON.stringify(good))).ok).toBe(true);
    const shifted = parse({ ...good, ts: '2026-11-23T08:59:58.500+01:00' });
    expect(shifted.ok && shifted.row.event_at.toISOString()).toBe('2026-11-23T07:59:58.500Z');
  });

  const nasty: [string, unknown, string][] = [
    ['truncated JSON', '{"sensor_id": "aug-m01-temperature", "val', 'iot.invalid_json'],
    ['invalid UTF-8 bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 'iot.invalid_encoding'],
    ['an empty body', '', 'iot.invalid_json'],
    ['JSON null', null, 'iot.invalid_message'],
    ['a JSON array', [good], 'iot.invalid_message'],
    ['a number', 42, 'iot.invalid_message'],
    ['value as a string', { ...good, value: '48.2' }, 'iot.invalid_message'],
    ['value missing', { ...good, value: undefined }, 'iot.invalid_message'],
    [
      'NaN as text',
      '{"sensor_id":"aug-m01-temperature","value":NaN,"ts":"2026-11-23T07:59:58Z"}',
      'iot.invalid_json',
    ],
    ['Infinity', { ...good, value: Number.POSITIVE_INFINITY }, 'iot.invalid_message'],
    ['ts without offset', { ...good, ts: '2026-11-23T07:59:58' }, 'iot.invalid_message'],
    ['ts not a date', { ...good, ts: 'yesterday' }, 'iot.invalid_message'],
    ['ts impossible date', { ...good, ts: '2026-02-30T07:59:58Z' }, 'iot.invalid_message'],
    ['unknown extra field', { ...good, admin: true }, 'iot.invalid_message'],
    [
      'prototype pollution',
      JSON.parse(
        '{"__proto__":{"polluted":1},"sensor_id":"aug-m01-temperature","value":1,"ts":"2026-11-23T07:59:58Z"}',
      ),
      'iot.invalid_message',
    ],
    ['traversal in sensor id', { ...good, sensor_id: '../../silver/x' }, 'iot.invalid_message'],
    ['SQL in sensor id', { ...good, sensor_id: "x'; DROP TABLE t;--" }, 'iot.invalid_message'],
    ['unknown sensor', { ...good, sensor_id: 'ghost-m99-temperature' }, 'iot.unknown_sensor'],
    ['wrong metric for the sensor', { ...good, metric: 'pressure' }, 'iot.metric_mismatch'],
    ['wrong unit for the sensor', { ...good, unit: 'degF' }, 'iot.unit_mismatch'],
    ['event an hour in the future', { ...good, ts: '2026-11-23T09:00:00Z' }, 'iot.implausible_time'],
    ['event from 2019', { ...good, ts: '2019-01-01T00:00:00Z' }, 'iot.implausible_time'],
    ['over 256 KB', { ...good, note: 'x'.repeat(300_000) }, 'iot.oversized'],
    ['over 256 KB as text', JSON.stringify({ ...good, note: 'x'.repeat(300_000) }), 'iot.oversized'],
  ];
  it.each(nasty)('rejects %s with a reason', (_name, body, code) => {
    const parsed = parse(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.code).toBe(code);
      expect(parsed.reason.length).toBeGreaterThan(5);
    }
  });

  it('rejects a sensor that arrives through another facility’s partition', () => {
    expect(parse(good, { properties: { facility: 'regensburg' } })).toMatchObject({
      ok: false,
      code: 'iot.facility_mismatch',
    });
  });

  it('survives deeply nested JSON without a stack overflow', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    expect(parse(deep)).toMatchObject({ ok: false });
  });
});

describe('envelopeAt', () => {
  it('reads the device id from the IoT Hub system properties and the position from the arrays', () => {
    const facts = envelopeAt(
      {
        enqueuedTimeUtcArray: ['2026-11-23T08:00:00.200Z', 1795420800300],
        sequenceNumberArray: [41, '9007199254740993'],
        systemPropertiesArray: [{ 'iothub-connection-device-id': 'aug-m01-temperature' }, {}],
        propertiesArray: [{ facility: 'augsburg' }, null],
        partitionContext: { partitionId: '2' },
      },
      1,
    );
    expect(facts).toEqual({
      deviceId: null,
      partitionId: '2',
      sequenceNumber: 9007199254740993n,
      enqueuedAt: new Date(1795420800300),
      properties: {},
    });
    expect(
      envelopeAt(
        {
          systemPropertiesArray: [
            { 'iothub-connection-device-id': 'd', 'x-opt-sequence-number': 7, 'iothub-enqueuedtime': 1000 },
          ],
        },
        0,
      ),
    ).toMatchObject({
      deviceId: 'd',
      sequenceNumber: 7n,
      enqueuedAt: new Date(1000),
    });
  });
});
