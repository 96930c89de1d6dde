import { describe, expect, it } from 'vitest';
import { LatencyHistogram, slope } from './stats.js';

describe('the load test figures', () => {
  it('reads percentiles off the histogram at its bucket edges, never below the true value', () => {
    const h = new LatencyHistogram(5, 1000);
    for (let ms = 1; ms <= 100; ms++) h.record(ms);
    expect(h.count).toBe(100);
    expect(h.percentileMs(0.5)).toBe(55); // the 50th value, 50 ms, is in [50, 55): its upper edge
    expect(h.percentileMs(0.99)).toBe(100); // [95, 100) holds 95..99; the 99th value is 99 -> edge 100
    expect(h.percentileMs(1)).toBe(100); // capped at the largest value seen, not the bucket's edge 105
  });

  it('keeps values beyond its limit as the largest seen, and ignores negative and unparseable ones', () => {
    const h = new LatencyHistogram(10, 100);
    h.record(5);
    h.record(250);
    h.record(-3);
    h.record(Number.NaN);
    expect(h.count).toBe(2);
    expect(h.percentileMs(0.5)).toBe(10);
    expect(h.percentileMs(0.99)).toBe(250);
    expect(new LatencyHistogram().percentileMs(0.5)).toBeNaN();
  });

  it('fits the slope of memory over time by least squares', () => {
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 100 + 2 * x })))).toBeCloseTo(2);
    // Noise around a flat line: no slope, though the samples swing by 40.
    expect(slope([500, 520, 480, 480, 520, 500].map((y, x) => ({ x, y })))).toBeCloseTo(0);
    expect(slope([{ x: 1, y: 1 }])).toBeNaN();
  });
});
