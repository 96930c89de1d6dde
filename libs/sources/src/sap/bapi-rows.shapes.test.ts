import { describe, expect, it } from 'vitest';
import { goodsMovementRecords, poDetailRecords, SAP_BAPIS, sapBronzeRows, tableOf } from './bapi-rows.js';

const lineage = {
  extractedAt: new Date('2026-11-23T08:00:00Z'),
  batchId: 'b',
  protect: async (v: string) => v,
};

describe('BAPI results that are not shaped as their interface says', () => {
  it('refuses a table that is not an array of structures, with the whole result for the dead letter', () => {
    const result = { GOODSMVT_ITEMS: [{ MAT_DOC: '1' }, 'text'] } as never;
    expect(() => goodsMovementRecords(result)).toThrow(
      'BAPI_GOODSMVT_GETITEMS: row 2 of GOODSMVT_ITEMS is not a structure; the result is kept whole in the dead letter',
    );
    try {
      poDetailRecords({ PO_HEADER: [], PO_ITEMS: [] } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'source.data_invalid', details: { result: { PO_HEADER: [] } } });
    }
    expect(tableOf({}, 'MISSING', 'X')).toEqual([]);
  });
});

describe('sapBronzeRows with fields it has never seen', () => {
  it('gives every unknown field a column of its own: case twins, lineage names, __proto__, empty names', async () => {
    const fields = JSON.parse(
      '{"MAT_DOC":"1","item_text":"twin","_source":"spoof","__proto__":"p","":"e","constructor":"c"}',
    ) as Record<string, unknown>;
    const { schema, rows } = await sapBronzeRows(
      SAP_BAPIS.goodsMovements,
      [
        { key: 'a', fields },
        { key: 'b', fields: { MAT_DOC: '2' } },
      ],
      lineage,
    );
    const names = schema.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['item_text~2', 'sap_source', '__proto__', 'sap', 'constructor']),
    );
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    expect(Object.getOwnPropertyDescriptor(rows[0], '__proto__')?.value).toBe('p');
    expect(rows[0]).toMatchObject({ 'item_text~2': 'twin', sap_source: 'spoof', sap: 'e', _source: 'sap' });
    // The record without them holds null, not what Object.prototype has under those names.
    expect(rows[1]).toMatchObject({ constructor: null, sap_source: null });
  });
});
