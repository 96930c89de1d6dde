import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetCodec, type ParquetSchema } from './parquet.js';

const schema: ParquetSchema = [
  { name: 'sensor_id', type: 'VARCHAR' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'seq', type: 'BIGINT' },
  { name: 'ok', type: 'BOOLEAN' },
  { name: 'event_at', type: 'TIMESTAMP' },
];

let codec: ParquetCodec;
beforeAll(async () => {
  codec = await ParquetCodec.create();
});
afterAll(() => codec.close());

describe('ParquetCodec', () => {
  it('round-trips values, nulls and UTC timestamps', async () => {
    const rows = [
      {
        sensor_id: 'aug-m01-vibration',
        value: 0.125,
        seq: 9_007_199_254_740_993n,
        ok: true,
        event_at: new Date('2026-10-25T00:59:59.999Z'),
      },
      { sensor_id: 'it\'s "quoted" ünïcode', value: null, seq: 2, ok: false, event_at: Date.UTC(2026, 0, 1) },
      { sensor_id: null, value: -1e300, seq: null, ok: null, event_at: null },
    ];
    const encoded = await codec.encode(schema, rows);
    expect(encoded.rowCount).toBe(3);
    expect(encoded.bytes.subarray(0, 4).toString()).toBe('PAR1');
    const back = await codec.decode(encoded.bytes);
    expect(back).toHaveLength(3);
    expect(back[0]).toMatchObject({
      sensor_id: 'aug-m01-vibration',
      value: 0.125,
      seq: '9007199254740993',
      ok: true,
    });
    expect(new Date(String(back[0]!['event_at'])).toISOString()).toBe('2026-10-25T00:59:59.999Z');
    expect(back[1]).toMatchObject({ sensor_id: 'it\'s "quoted" ünïcode', value: null, ok: false });
    expect(back[2]).toEqual({ sensor_id: null, value: -1e300, seq: null, ok: null, event_at: null });
  });

  it('writes more rows than one chunk and counts them', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      sensor_id: `s${i % 7}`,
      value: i,
      seq: i,
      ok: i % 2 === 0,
      event_at: i,
    }));
    const encoded = await codec.encode(schema, rows);
    expect(await codec.check(encoded.bytes)).toBe(5000);
    expect(await codec.decode(encoded.bytes, { limit: 2 })).toHaveLength(2);
  });

  it('writes null for a column a row lacks, even one named like an Object.prototype member', async () => {
    const columns: ParquetSchema = [
      { name: 'constructor', type: 'VARCHAR' },
      { name: 'toString', type: 'DOUBLE' },
    ];
    const encoded = await codec.encode(columns, [{ constructor: 'c', toString: 1 }, {}]);
    // Before: the row without them handed over Object and Object.prototype.toString ("function Object()...").
    expect(await codec.decode(encoded.bytes)).toEqual([
      { constructor: 'c', toString: 1 },
      { constructor: null, toString: null },
    ]);
  });

  it('rejects a truncated file', async () => {
    const encoded = await codec.encode(schema, [{ sensor_id: 'a', value: 1, seq: 1, ok: true, event_at: 0 }]);
    await expect(codec.check(encoded.bytes.subarray(0, encoded.bytes.length - 10))).rejects.toThrow();
  });
});
