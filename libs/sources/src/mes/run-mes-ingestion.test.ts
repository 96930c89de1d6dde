import { describe, expect, it } from 'vitest';
import { bronzeRows, mesSource } from './run-mes-ingestion.js';

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
});
