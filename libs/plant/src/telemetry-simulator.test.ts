import { describe, expect, it } from 'vitest';
import { catalogue } from './catalogue.js';
import { simulateTelemetry } from './telemetry-simulator.js';

const from = new Date('2026-11-23T08:00:00Z');
const to = new Date('2026-11-23T08:10:00Z');

describe('simulateTelemetry', () => {
  it('publishes rate x duration readings per sensor, inside the window', () => {
    const messages = [...simulateTelemetry({ seed: 1, from, to, rateHz: 0.1 })];
    expect(messages).toHaveLength(340 * 60);
    for (const m of messages) {
      expect(m.eventAt.getTime()).toBeGreaterThanOrEqual(from.getTime());
      expect(m.eventAt.getTime()).toBeLessThan(to.getTime());
    }
    const one = JSON.parse(messages[0]!.payload.toString());
    expect(Object.keys(one).sort()).toEqual(['metric', 'sensor_id', 'seq', 'ts', 'unit', 'value']);
    expect(catalogue.sensor(one.sensor_id)?.metric).toBe(one.metric);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = [...simulateTelemetry({ seed: 7, from, to, rateHz: 0.05, badRatio: 0.05 })];
    const b = [...simulateTelemetry({ seed: 7, from, to, rateHz: 0.05, badRatio: 0.05 })];
    const c = [...simulateTelemetry({ seed: 8, from, to, rateHz: 0.05, badRatio: 0.05 })];
    expect(b.map((m) => m.payload.toString('hex'))).toEqual(a.map((m) => m.payload.toString('hex')));
    expect(c.map((m) => m.payload.toString('hex'))).not.toEqual(a.map((m) => m.payload.toString('hex')));
  });

  it('tiles: two half windows give exactly the messages of the whole', () => {
    const mid = new Date('2026-11-23T08:04:17.500Z');
    const whole = [...simulateTelemetry({ seed: 3, from, to, rateHz: 0.2 })].map((m) => m.payload.toString());
    const halves = [
      ...simulateTelemetry({ seed: 3, from, to: mid, rateHz: 0.2 }),
      ...simulateTelemetry({ seed: 3, from: mid, to, rateHz: 0.2 }),
    ].map((m) => m.payload.toString());
    expect(halves.sort()).toEqual(whole.sort());
  });

  it('breaks about the requested share of messages, in every way it knows', () => {
    const messages = [
      ...simulateTelemetry({
        seed: 5,
        from,
        to: new Date('2026-11-23T09:00:00Z'),
        rateHz: 0.2,
        badRatio: 0.02,
      }),
    ];
    const bad = messages.filter((m) => m.bad);
    expect(bad.length / messages.length).toBeGreaterThan(0.015);
    expect(bad.length / messages.length).toBeLessThan(0.025);
    expect(new Set(bad.map((m) => m.bad)).size).toBe(10);
  });

  it('keeps readings inside each sensor’s physical range', () => {
    const outside = [...simulateTelemetry({ seed: 9, from, to, rateHz: 0.5 })]
      .map((m) => JSON.parse(m.payload.toString()))
      .filter((p) => {
        const s = catalogue.sensor(p.sensor_id)!;
        return !(p.value >= s.min && p.value <= s.max);
      });
    expect(outside).toEqual([]);
  });
});
