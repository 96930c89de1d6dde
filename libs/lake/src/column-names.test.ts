import { describe, expect, it } from 'vitest';
import { safeColumnNames, setColumn } from './column-names.js';

describe('safeColumnNames', () => {
  it('gives every field a column DuckDB can hold: case twins, empty names, NULs, reserved names in any case', () => {
    const names = ['Material', 'MATERIAL', '', 'x\u0000y', '_SOURCE', 'Material~2', 'Material'];
    expect([...safeColumnNames(names, { reserved: ['_source', '_batch_id'], prefix: 'vendor' })]).toEqual([
      ['Material', 'Material'],
      ['MATERIAL', 'MATERIAL~2'],
      ['', 'vendor'],
      ['x\u0000y', 'x\\u0000y'],
      ['_SOURCE', 'vendor_SOURCE'],
      ['Material~2', 'Material~2~2'],
    ]);
  });
});

describe('setColumn', () => {
  it('sets __proto__ as an own property and leaves the prototype alone', () => {
    const row: Record<string, unknown> = {};
    setColumn(row, '__proto__', { polluted: true });
    setColumn(row, 'a', 1);
    expect(Object.keys(row)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
