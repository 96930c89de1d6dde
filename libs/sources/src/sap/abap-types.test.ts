import { describe, expect, it } from 'vitest';
import { columnTypeOf, fromAbap } from './abap-types.js';

describe('ABAP types into the lake', () => {
  it('lands DATS as TIMESTAMP (midnight UTC of the date), TIMS as HH:MM:SS text, BCD as DOUBLE, NUMC as text', () => {
    expect([columnTypeOf('DATS'), columnTypeOf('TIMS'), columnTypeOf('BCD'), columnTypeOf('NUMC')]).toEqual([
      'TIMESTAMP',
      'VARCHAR',
      'DOUBLE',
      'VARCHAR',
    ]);
    expect(fromAbap('DELIV_DATE', 'DATS', '20261123')).toEqual(new Date('2026-11-23T00:00:00Z'));
    expect(fromAbap('DELIV_DATE', 'DATS', '00000000')).toBeNull();
    expect(fromAbap('ENTRY_TIME', 'TIMS', '055200')).toBe('05:52:00');
    expect(fromAbap('QUANTITY', 'BCD', '35335.000')).toBe(35335);
    expect(fromAbap('NET_PRICE', 'BCD', '4.1000')).toBe(4.1);
    expect(fromAbap('LABST', 'BCD', '        152.000-')).toBe(-152);
    expect(fromAbap('PO_ITEM', 'NUMC', '00010')).toBe('00010');
    expect(fromAbap('MATERIAL', 'CHAR', 'AUR-10011   ')).toBe('AUR-10011');
    expect(fromAbap('ROW', 'INT', 3)).toBe(3);
  });

  it('refuses what node-rfc never hands over and numbers that are none: structures, NaN, Infinity, 1e999', () => {
    for (const [type, value] of [
      ['CHAR', { a: 1 }],
      ['CHAR', [1, 2]],
      ['CHAR', true],
      ['BCD', Number.NaN],
      ['BCD', '1e999'],
      ['FLTP', Number.POSITIVE_INFINITY],
      ['NUMC', { a: 1 }],
    ] as const)
      expect(() => fromAbap('F', type, value), `${type} ${String(value)}`).toThrow(
        /^field F: .* is not a valid/,
      );
    // SAP's UTF-16 may hold an unpaired surrogate; the lake's UTF-8 cannot.
    expect(() => fromAbap('ITEM_TEXT', 'CHAR', 'a\ud800b')).toThrow(/not a valid CHAR/);
    // A hostile value is shown in part, never whole.
    expect(() => fromAbap('F', 'CHAR', { x: 'y'.repeat(1_000_000) })).toThrow(
      /… \(1000008 characters\) is not/,
    );
  });

  it('takes INT as exact integers only: no empty text as 0, no hex, nothing past 64 bits or rounded', () => {
    expect(fromAbap('N', 'INT', '')).toBeNull();
    expect(fromAbap('N', 'INT', ' 42 ')).toBe(42);
    expect(fromAbap('N', 'INT', '42-')).toBe(-42);
    expect(fromAbap('N', 'INT', '9007199254740993')).toBe(9007199254740993n);
    expect(fromAbap('N', 'INT', 9007199254740993n)).toBe(9007199254740993n);
    for (const value of ['0x10', '1e3', '4.5', 2 ** 64, 2 ** 53, '18446744073709551616', 2n ** 63n])
      expect(() => fromAbap('N', 'INT', value), String(value)).toThrow(/is not a valid INT/);
  });

  it('refuses a value its type cannot hold, naming the field, instead of coercing it', () => {
    expect(() => fromAbap('DELIV_DATE', 'DATS', '20260231')).toThrow(
      /DELIV_DATE: "20260231" is not a valid DATS/,
    );
    expect(() => fromAbap('DELIV_DATE', 'DATS', '2026-11-23')).toThrow(/DATS/);
    expect(() => fromAbap('ENTRY_TIME', 'TIMS', '256000')).toThrow(/TIMS/);
    expect(() => fromAbap('QUANTITY', 'BCD', '1,5')).toThrow(/BCD/);
    expect(() => fromAbap('PO_ITEM', 'NUMC', '10A')).toThrow(/NUMC/);
  });
});
