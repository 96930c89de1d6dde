import { describe, expect, it } from 'vitest';
import { TestKeyRing } from '../test-sealer.fixture.js';
import { poDetailRecords, SAP_BAPIS, type SapRecord, sapBronzeRows, sapProtect } from './bapi-rows.js';

const AT = new Date('2026-11-23T08:00:00Z');
const SEALED = /^pd1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/;

/** A BAPI_PO_GETDETAIL result with one item and one schedule line, as node-rfc returns it. */
const poDetail = (header: Record<string, unknown> = {}, line: Record<string, unknown> = {}) => ({
  PO_HEADER: {
    PO_NUMBER: '4500000123',
    CREATED_ON: '20261120',
    CREATED_BY: 'BUYER01   ',
    VENDOR: '0000100003',
    SALES_PERS: 'Lukas Weber',
    TELEPHONE: '+49 412 34567',
    VEND_NAME: 'Bayern Lacke GmbH',
    ...header,
  },
  PO_ADDRESS: { E_MAIL: 'lukas.weber@bayernlacke.example' },
  PO_ITEMS: [{ PO_NUMBER: '4500000123', PO_ITEM: '00010', MATERIAL: 'AUR-10011', QUANTITY: '100.000' }],
  PO_ITEM_SCHEDULES: [{ PO_ITEM: '00010', SERIAL_NO: '0001', DELIV_DATE: '20261127', ...line }],
});

async function land(records: SapRecord[], ring: TestKeyRing) {
  return sapBronzeRows(SAP_BAPIS.poDetail, records, {
    extractedAt: AT,
    batchId: 'sap-test',
    protect: sapProtect(ring),
  });
}

describe('sapBronzeRows with personal data', () => {
  it("seals the vendor contact's fields under sap-vendor:<VENDOR> and user ids under sap-user:<id>", async () => {
    const ring = new TestKeyRing();
    const { rows, rejected } = await land(poDetailRecords(poDetail()), ring);
    expect(rejected).toEqual([]);
    const row = rows[0]!;
    for (const field of ['SALES_PERS', 'TELEPHONE', 'E_MAIL']) {
      expect(row[field], field).toMatch(SEALED);
      expect(ring.subjectOf(row[field])).toBe('sap-vendor:0000100003');
    }
    expect(await ring.open(String(row['E_MAIL']))).toEqual({
      state: 'open',
      value: 'lukas.weber@bayernlacke.example',
    });
    // The CHAR value is trimmed before sealing, and the id is the subject.
    expect(ring.subjectOf(row['CREATED_BY'])).toBe('sap-user:BUYER01');
    expect(await ring.open(String(row['CREATED_BY']))).toEqual({ state: 'open', value: 'BUYER01' });
    expect(row).toMatchObject({ VENDOR: '0000100003', VEND_NAME: 'Bayern Lacke GmbH', PO_ITEM: '00010' });
  });

  it('seals a contact without a vendor as sap-unattributed:<bapi>, and lands an erased subject as null', async () => {
    const ring = new TestKeyRing();
    ring.erase('sap-user:BUYER01');
    const { rows } = await land(poDetailRecords(poDetail({ VENDOR: '' })), ring);
    expect(ring.subjectOf(rows[0]!['SALES_PERS'])).toBe('sap-unattributed:bapi_po_getdetail');
    expect(rows[0]!['CREATED_BY']).toBeNull();
    expect(rows[0]!['PO_NUMBER']).toBe('4500000123');
  });

  it('rejects a record its types cannot hold with its raw fields, the personal ones sealed all the same', async () => {
    const ring = new TestKeyRing();
    const { rows, rejected } = await land(poDetailRecords(poDetail({}, { DELIV_DATE: '2026-11-27' })), ring);
    expect(rows).toEqual([]);
    expect(rejected).toHaveLength(1);
    const { fields, reason } = rejected[0]!;
    expect(reason).toMatch(/DELIV_DATE/);
    expect(fields['DELIV_DATE']).toBe('2026-11-27');
    expect(ring.subjectOf(fields['E_MAIL'])).toBe('sap-vendor:0000100003');
    expect(ring.subjectOf(fields['TELEPHONE'])).toBe('sap-vendor:0000100003');
    expect(ring.subjectOf(fields['CREATED_BY'])).toBe('sap-user:BUYER01');
    // The raw value, padding and all, is what was sealed: the dead letter keeps the record as received.
    expect(await ring.open(String(fields['CREATED_BY']))).toEqual({ state: 'open', value: 'BUYER01   ' });
    expect(JSON.stringify(fields)).not.toMatch(/@|\+49|Lukas/);
  });

  it('fails, rather than rejecting the record, when sealing fails (the key ring is unreachable)', async () => {
    const broken = {
      seal: async () => {
        throw new Error('key table unreachable');
      },
    };
    await expect(
      sapBronzeRows(SAP_BAPIS.poDetail, poDetailRecords(poDetail()), {
        extractedAt: AT,
        batchId: 'sap-test',
        protect: sapProtect(broken),
      }),
    ).rejects.toThrow('key table unreachable');
  });
});
