import { describe, expect, it } from 'vitest';
import { compareScn, isScn } from './scn.js';

describe('isScn', () => {
  it('accepts canonical decimal strings only', () => {
    expect(['0', '7', '324567897', '18446744073709551615'].map(isScn)).toStrictEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['', '01', '-1', '1.0', '1e3', ' 1', 12, null].map(isScn)).toStrictEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('compareScn', () => {
  it('orders numerically beyond 2^53, where numbers and plain text comparison both fail', () => {
    expect(compareScn('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(compareScn('999', '1000')).toBeLessThan(0);
    expect(compareScn('18446744073709551615', '18446744073709551615')).toBe(0);
  });
});
