import { describe, expect, it } from 'vitest';
import { envelopeAt } from './event-hub-batch.js';

describe('envelopeAt', () => {
  it('reads each fact from the trigger’s metadata arrays alone', () => {
    expect(
      envelopeAt(
        {
          enqueuedTimeUtcArray: ['2026-11-23T08:00:00.000Z', '2026-11-23T08:00:00.200Z'],
          sequenceNumberArray: [41, 42],
          offsetArray: ['4096', 8192],
          partitionKeyArray: [null, 'augsburg'],
          propertiesArray: [{}, { facility: 'augsburg' }],
          systemPropertiesArray: [{}, { 'iothub-connection-device-id': 'aug-m01-temperature' }],
          partitionContext: { partitionId: '1' },
        },
        1,
      ),
    ).toEqual({
      deviceId: 'aug-m01-temperature',
      partitionId: '1',
      sequenceNumber: 42n,
      enqueuedAt: new Date('2026-11-23T08:00:00.200Z'),
      offset: '8192',
      partitionKey: 'augsburg',
      properties: { facility: 'augsburg' },
    });
  });

  it('falls back to the host’s camel-cased copies inside the system properties', () => {
    expect(
      envelopeAt(
        {
          systemPropertiesArray: [
            {
              'iothub-connection-device-id': 'd1',
              enqueuedTimeUtc: '2026-11-23T08:00:01.000Z',
              sequenceNumber: 7,
              offset: '700',
              partitionKey: 'ingolstadt',
            },
          ],
        },
        0,
      ),
    ).toEqual({
      deviceId: 'd1',
      partitionId: null,
      sequenceNumber: 7n,
      enqueuedAt: new Date('2026-11-23T08:00:01.000Z'),
      offset: '700',
      partitionKey: 'ingolstadt',
      properties: {},
    });
  });

  it('falls back to the raw AMQP annotations (x-opt-*), and reads IoT Hub’s enqueue time as epoch ms or ISO', () => {
    const raw = envelopeAt(
      {
        systemPropertiesArray: [
          {
            'iothub-connection-device-id': 'd2',
            'iothub-enqueuedtime': 1795420799950,
            'x-opt-sequence-number': 9,
            'x-opt-offset': '900',
            'x-opt-enqueued-time': 1795420800000,
            'x-opt-partition-key': 'regensburg',
          },
          { 'iothub-enqueuedtime': '2026-11-23T08:00:00.950Z' },
        ],
      },
      0,
    );
    expect(raw).toEqual({
      deviceId: 'd2',
      partitionId: null,
      sequenceNumber: 9n,
      enqueuedAt: new Date(1795420800000),
      offset: '900',
      partitionKey: 'regensburg',
      iotHubEnqueuedAt: new Date(1795420799950),
      properties: {},
    });
    expect(
      envelopeAt({ systemPropertiesArray: [{}, { 'iothub-enqueuedtime': '2026-11-23T08:00:00.950Z' }] }, 1),
    ).toMatchObject({
      iotHubEnqueuedAt: new Date('2026-11-23T08:00:00.950Z'),
      // Without an Event Hubs time, IoT Hub's is the best there is.
      enqueuedAt: new Date('2026-11-23T08:00:00.950Z'),
    });
  });

  it('never takes a device id from the body or the application properties', () => {
    expect(
      envelopeAt(
        {
          propertiesArray: [{ 'iothub-connection-device-id': 'spoofed' }],
          systemPropertiesArray: [{ 'iothub-connection-device-id': '' }],
        },
        0,
      ).deviceId,
    ).toBeNull();
  });

  it('treats garbage positions as unknown rather than guessing', () => {
    expect(
      envelopeAt(
        {
          enqueuedTimeUtcArray: ['not a time'],
          sequenceNumberArray: ['12a'],
          offsetArray: [''],
        },
        0,
      ),
    ).toEqual({ deviceId: null, partitionId: null, sequenceNumber: null, enqueuedAt: null, properties: {} });
  });
});
