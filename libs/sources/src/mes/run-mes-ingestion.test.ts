import { describe, expect, it } from 'vitest';
import { bronzeRows, columnNames, mesSource } from './run-mes-ingestion.js';

const window = { from: new Date('2026-11-23T07:40:00Z'), to: new Date('2026-11-23T08:00:00Z') };
const lineage = {
  source: 'mes-augsburg',
  extractedAt: new Date('2026-11-23T08:00:00Z'),
  batchId: 'b1',
  window,
};
const at = new Date('2026-11-23T07:59:00Z');

describe('bronzeRows', () => {
  it('types columns by what they hold and keeps mixed ones as text, nothing lost', () => {
    const { schema, rows } = bronzeRows(
      [
        {
          key: 'a',
          modifiedAt: at,
          fields: { Qty: 5, Rate: 1, Flag: true, Code: 'X', Mixed: 1, Empty: null },
        },
        {
          key: 'b',
          modifiedAt: at,
          fields: { Qty: 7, Rate: 0.5, Flag: false, Code: 'Y', Mixed: 'n/a', Late: 'new' },
        },
      ],
      lineage,
    );
    expect(schema).toEqual([
      { name: 'Qty', type: 'BIGINT' },
      { name: 'Rate', type: 'DOUBLE' },
      { name: 'Flag', type: 'BOOLEAN' },
      { name: 'Code', type: 'VARCHAR' },
      { name: 'Mixed', type: 'VARCHAR' },
      { name: 'Empty', type: 'VARCHAR' },
      { name: 'Late', type: 'VARCHAR' },
      { name: '_source', type: 'VARCHAR' },
      { name: '_extracted_at', type: 'TIMESTAMP' },
      { name: '_batch_id', type: 'VARCHAR' },
      { name: '_record_key', type: 'VARCHAR' },
      { name: '_modified_at', type: 'TIMESTAMP' },
      { name: '_window_from', type: 'TIMESTAMP' },
      { name: '_window_to', type: 'TIMESTAMP' },
    ]);
    expect(rows[0]).toMatchObject({ Mixed: '1', Empty: null, _record_key: 'a', _modified_at: at });
    expect(rows[1]).toMatchObject({ _window_from: window.from, _window_to: window.to });
    expect(rows[1]).toMatchObject({ Mixed: 'n/a', Late: 'new', _source: 'mes-augsburg', _batch_id: 'b1' });
    expect(rows[0]).not.toHaveProperty('Late');
  });

  it('never lets a vendor field overwrite a lineage column', () => {
    const { schema, rows } = bronzeRows(
      [{ key: 'k', modifiedAt: at, fields: { _source: 'spoofed' } }],
      lineage,
    );
    expect(schema.map((c) => c.name)).toContain('vendor_source');
    expect(rows[0]).toMatchObject({ vendor_source: 'spoofed', _source: 'mes-augsburg' });
    expect(mesSource('ingolstadt')).toBe('mes-ingolstadt');
  });

  it('gives every vendor field a column DuckDB can hold: case twins, empty names, NULs, lineage in any case', () => {
    const fields = {
      Material: 'a',
      MATERIAL: 'b',
      '': 'empty',
      'x\u0000y': 'nul',
      _SOURCE: 'spoof',
      'Material~2': 'c',
    };
    const records = [{ key: 'k', modifiedAt: at, fields }];
    expect([...columnNames(records)]).toEqual([
      ['Material', 'Material'],
      ['MATERIAL', 'MATERIAL~2'],
      ['', 'vendor'],
      ['x\u0000y', 'x\\u0000y'],
      ['_SOURCE', 'vendor_SOURCE'],
      ['Material~2', 'Material~2~2'],
    ]);
    const { schema, rows } = bronzeRows(records, lineage);
    const names = schema.map((c) => c.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    expect(rows[0]).toMatchObject({
      'MATERIAL~2': 'b',
      vendor: 'empty',
      vendor_SOURCE: 'spoof',
      _source: 'mes-augsburg',
    });
  });

  it('keeps a field named __proto__ as a column of its own, never as the row’s prototype', () => {
    const fields = JSON.parse('{"__proto__":"{\\"polluted\\":1}","constructor":"c"}') as Record<
      string,
      string
    >;
    const { schema, rows } = bronzeRows(
      [
        { key: 'a', modifiedAt: at, fields },
        { key: 'b', modifiedAt: at, fields: {} },
      ],
      lineage,
    );
    expect(schema.slice(0, 2).map((c) => c.name)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(rows[0], '__proto__')?.value).toBe('{"polluted":1}');
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
    // The record without them has no such own property: the codec writes null, not Object.prototype's.
    expect(Object.hasOwn(rows[1]!, 'constructor')).toBe(false);
  });
});
