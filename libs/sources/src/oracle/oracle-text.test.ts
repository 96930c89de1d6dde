import { describe, expect, it } from 'vitest';
import { formatOracleDateTime, oracleNumberText, parseOracleDateTime } from './oracle-text.js';

describe('oracle text', () => {
  it('prints numbers as TO_CHAR does', () => {
    expect(oracleNumberText(0.5)).toBe('.5');
    expect(oracleNumberText(-0.25)).toBe('-.25');
    expect(oracleNumberText(12)).toBe('12');
    expect(oracleNumberText('12.500')).toBe('12.5');
    expect(oracleNumberText(1e21)).toBe('1000000000000000000000');
  });

  it('turns server wall time into UTC and back, across the clock change', () => {
    const summer = parseOracleDateTime('2026-07-01 10:00:00', 'Europe/Berlin')!;
    expect(summer.toISOString()).toBe('2026-07-01T08:00:00.000Z');
    const winter = parseOracleDateTime('2026-11-23 10:00:00.123456', 'Europe/Berlin')!;
    expect(winter.toISOString()).toBe('2026-11-23T09:00:00.123Z');
    expect(formatOracleDateTime(winter, 'Europe/Berlin', true)).toBe('2026-11-23 10:00:00.123000');
    // 02:30 on 25 October 2026 happens twice in Berlin: the earlier instant is taken.
    expect(parseOracleDateTime('2026-10-25 02:30:00', 'Europe/Berlin')!.toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    expect(parseOracleDateTime('not a date', 'UTC')).toBeUndefined();
  });
});
