import { ManualClock } from '@aurora/core';
import { PlantModel, ProcurementModel, SapRfcStandIn } from '@aurora/plant';
import { describe, expect, it } from 'vitest';
import { parseReadTable, readTableOptions, readTableRequest } from './rfc-read-table.js';

describe('RFC_READ_TABLE', () => {
  it('splits a WHERE clause into OPTIONS lines of at most 72 characters, between words', () => {
    const where = `AEDAT GE '20261101' AND AEDAT LE '20261123' AND BSTYP EQ 'F' AND EKORG EQ '1000' AND BUKRS EQ '1000'`;
    const lines = readTableOptions(where);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.TEXT.length).toBeLessThanOrEqual(72);
    expect(lines.map((l) => l.TEXT).join(' ')).toBe(where);
  });

  it('cuts fields out of each WA by OFFSET and LENGTH, with their types', () => {
    const { fields, rows } = parseReadTable({
      FIELDS: [
        { FIELDNAME: 'MATNR', OFFSET: '000000', LENGTH: '000018', TYPE: 'C', FIELDTEXT: '' },
        { FIELDNAME: 'WERKS', OFFSET: '000019', LENGTH: '000004', TYPE: 'C', FIELDTEXT: '' },
        { FIELDNAME: 'LABST', OFFSET: '000024', LENGTH: '000017', TYPE: 'P', FIELDTEXT: '' },
      ],
      DATA: [{ WA: `${'AUR-10011'.padEnd(18)}|1000|${'1520.000-'.padStart(17)}` }],
    });
    expect(fields.map((f) => [f.name, f.type])).toEqual([
      ['MATNR', 'CHAR'],
      ['WERKS', 'CHAR'],
      ['LABST', 'BCD'],
    ]);
    expect(rows).toEqual([{ MATNR: 'AUR-10011', WERKS: '1000', LABST: '1520.000-' }]);
  });

  it('refuses rows wider than the 512 characters of a WA', () => {
    expect(() =>
      parseReadTable({
        FIELDS: [{ FIELDNAME: 'TEXT', OFFSET: '000500', LENGTH: '000020', TYPE: 'C' }],
        DATA: [],
      }),
    ).toThrow(/520 characters per row, more than the 512/);
    expect(() =>
      parseReadTable({
        FIELDS: [{ FIELDNAME: 'A', OFFSET: '0', LENGTH: '10', TYPE: 'C' }],
        DATA: [{ WA: 'x'.repeat(513) }],
      }),
    ).toThrow(/more than a WA holds/);
  });

  it('refuses a result not shaped as RFC_READ_TABLE says, keeping the result for the dead letter', () => {
    const notATable = { FIELDS: { FIELDNAME: 'A' }, DATA: [] } as never;
    expect(() => parseReadTable(notATable)).toThrow(/RFC_READ_TABLE: FIELDS is not a table/);
    try {
      parseReadTable({
        FIELDS: [{ FIELDNAME: 'A', OFFSET: '0', LENGTH: '2', TYPE: 'C' }],
        DATA: [{ WA: 42 }],
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'source.data_invalid',
        details: { result: { DATA: [{ WA: 42 }] } },
      });
    }
  });

  it('reads a TYPE it does not know, such as constructor, as CHAR, and a field named __proto__ as a field', () => {
    const { fields, rows } = parseReadTable({
      FIELDS: [
        { FIELDNAME: '__proto__', OFFSET: '0', LENGTH: '3', TYPE: 'constructor' },
        { FIELDNAME: 'B', OFFSET: '4', LENGTH: '2', TYPE: 'toString' },
      ],
      DATA: [{ WA: 'abc|de' }],
    });
    expect(fields.map((f) => f.type)).toEqual(['CHAR', 'CHAR']);
    expect(Object.getOwnPropertyDescriptor(rows[0], '__proto__')?.value).toBe('abc');
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
  });

  it('is answered by the stand-in like SAP: a WA per row, DATA_BUFFER_EXCEEDED past 512 characters', async () => {
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const standIn = new SapRfcStandIn({ data: new ProcurementModel(new PlantModel({ seed: 1 })), clock });
    const client = await standIn
      .pool({ user: standIn.credentials['user']!, passwd: standIn.credentials['sap-rfc-password']! })
      .acquire();
    const result = await client.call(
      'RFC_READ_TABLE',
      readTableRequest('EKKO', ['EBELN', 'AEDAT', 'LIFNR'], `AEDAT GE '20261122' AND AEDAT LE '20261122'`),
    );
    const { rows } = parseReadTable(result as never);
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows)
      expect(r).toMatchObject({ AEDAT: '20261122', EBELN: expect.stringMatching(/^45000\d{5}$/) });
    const wide = readTableRequest(
      'EKKO',
      ['TEXT_LONG', 'TEXT_LONG', 'INCO2', 'VERKF'],
      `AEDAT EQ '20261122'`,
    );
    await expect(client.call('RFC_READ_TABLE', wide)).rejects.toMatchObject({
      name: 'ABAPError',
      key: 'DATA_BUFFER_EXCEEDED',
    });
  });
});
