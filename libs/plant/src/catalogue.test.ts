import { describe, expect, it } from 'vitest';
import { catalogue, parseTelemetryTopic, telemetryTopic } from './catalogue.js';

describe('catalogue', () => {
  it('has three facilities and 340 sensors, each measuring one metric', () => {
    expect(catalogue.facilities.map((f) => f.id)).toEqual(['augsburg', 'ingolstadt', 'regensburg']);
    expect(catalogue.sensors).toHaveLength(340);
    expect(new Set(catalogue.sensors.map((s) => s.id)).size).toBe(340);
    const perMetric = Object.groupBy(catalogue.sensors, (s) => s.metric);
    expect(Object.keys(perMetric).sort()).toEqual(['energy', 'pressure', 'temperature', 'vibration']);
    for (const facility of catalogue.facilities) {
      expect(catalogue.sensors.filter((s) => s.facilityId === facility.id).length).toBeGreaterThan(100);
    }
  });

  it('looks up sensors and machines by id and keeps each sensor inside its physical range', () => {
    const sensor = catalogue.sensor('ing-m03-vibration');
    expect(sensor).toMatchObject({
      facilityId: 'ingolstadt',
      machineId: 'ing-m03',
      metric: 'vibration',
      unit: 'mm/s',
    });
    expect(catalogue.machine('ing-m03')?.facilityId).toBe('ingolstadt');
    expect(catalogue.sensor('nope')).toBeUndefined();
    for (const s of catalogue.sensors) expect(s.nominal).toBeGreaterThan(s.min);
  });

  it('round-trips telemetry topics', () => {
    const s = catalogue.sensor('rgb-m27-energy')!;
    expect(telemetryTopic(s)).toBe('aurora/telemetry/regensburg/rgb-m27/rgb-m27-energy');
    expect(parseTelemetryTopic(telemetryTopic(s))).toEqual({
      facilityId: 'regensburg',
      machineId: 'rgb-m27',
      sensorId: 'rgb-m27-energy',
    });
    expect(parseTelemetryTopic('aurora/telemetry/x')).toBeUndefined();
  });
});
