import { describe, expect, it } from 'vitest';
import { chunkRange, fullLoadKey, type KeyRangePlan } from './full-load-state.js';

const plan = (lo: string, hi: string, width: string, count: number): KeyRangePlan => ({
  column: 'ID',
  lo,
  hi,
  width,
  count,
  rows: 0,
});

describe('chunkRange', () => {
  it('cuts [lo, hi) into adjacent ranges of the plan width, the last one clamped to hi', () => {
    const p = plan('100', '950', '300', 3);
    expect(Array.from({ length: p.count }, (_, i) => chunkRange(p, i))).toEqual([
      { lo: '100', hi: '400' },
      { lo: '400', hi: '700' },
      { lo: '700', hi: '950' },
    ]);
  });

  it('keeps every digit of keys beyond 2^53', () => {
    const p = plan('9007199254740993', '9007199254741993', '500', 2);
    expect(chunkRange(p, 1)).toEqual({ lo: '9007199254741493', hi: '9007199254741993' });
  });
});

describe('fullLoadKey', () => {
  it('is one checkpoint per table', () => {
    expect(fullLoadKey('INV.MTL_MATERIAL_TRANSACTIONS')).toBe('full-load/INV.MTL_MATERIAL_TRANSACTIONS');
  });
});
