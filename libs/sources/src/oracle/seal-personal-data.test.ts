import { UsageError } from '@aurora/core';
import { describe, expect, it } from 'vitest';
import { TestKeyRing } from '../test-sealer.fixture.js';
import type { BronzeValue } from './bronze-rows.js';
import { DEFAULT_ERP_TABLES, type PersonalData, parseErpTables } from './erp-tables.js';
import { erpProtectHook, sealErpRecord, sealErpText } from './seal-personal-data.js';

const personalOf = (name: string): PersonalData => DEFAULT_ERP_TABLES.find((t) => t.name === name)!.personal!;
const PARTIES = { table: 'AR.HZ_PARTIES', personal: personalOf('HZ_PARTIES') };
const HEADERS = { table: 'ONT.OE_ORDER_HEADERS_ALL', personal: personalOf('OE_ORDER_HEADERS_ALL') };
const SEALED = /^pd1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/;

const party = (over: Record<string, BronzeValue>): Record<string, BronzeValue> => ({
  PARTY_ID: '50012',
  PARTY_NUMBER: '50012',
  PARTY_NAME: 'Anna Müller',
  PARTY_TYPE: 'PERSON',
  PERSON_FIRST_NAME: 'Anna',
  PERSON_LAST_NAME: 'Müller',
  EMAIL_ADDRESS: 'anna.mueller@alpenstahl.example',
  PRIMARY_PHONE_NUMBER: '+49 123 45678',
  COUNTRY: 'DE',
  _op: 'R',
  _unavailable: null,
  ...over,
});

describe('erpProtectHook', () => {
  it("seals a person party's name, e-mail and phone under erp-party:<PARTY_ID>; ids and codes stay plain", async () => {
    const ring = new TestKeyRing();
    const row = await erpProtectHook(ring)(PARTIES, party({}));
    for (const column of [
      'PARTY_NAME',
      'PERSON_FIRST_NAME',
      'PERSON_LAST_NAME',
      'EMAIL_ADDRESS',
      'PRIMARY_PHONE_NUMBER',
    ]) {
      expect(row[column], column).toMatch(SEALED);
      expect(ring.subjectOf(row[column])).toBe('erp-party:50012');
    }
    expect(await ring.open(String(row['EMAIL_ADDRESS']))).toEqual({
      state: 'open',
      value: 'anna.mueller@alpenstahl.example',
    });
    expect(row).toMatchObject({ PARTY_ID: '50012', PARTY_TYPE: 'PERSON', COUNTRY: 'DE', _unavailable: null });
  });

  it("leaves an organisation's name readable (PARTY_NAME is personal only when PARTY_TYPE = 'PERSON'), and seals it when the type is unknown", async () => {
    const ring = new TestKeyRing();
    const protect = erpProtectHook(ring);
    const organisation = await protect(
      PARTIES,
      party({
        PARTY_NAME: 'Alpenstahl GmbH',
        PARTY_TYPE: 'ORGANIZATION',
        PERSON_FIRST_NAME: null,
        PERSON_LAST_NAME: null,
        EMAIL_ADDRESS: null,
        PRIMARY_PHONE_NUMBER: null,
      }),
    );
    expect(organisation['PARTY_NAME']).toBe('Alpenstahl GmbH');
    expect(organisation['EMAIL_ADDRESS']).toBeNull();
    // An update's redo without PARTY_TYPE: whether the name is a person's is not known, so it is sealed.
    const update = await protect(PARTIES, party({ PARTY_TYPE: null, _op: 'U' }));
    expect(update['PARTY_NAME']).toMatch(SEALED);
  });

  it('seals the personal data of a row without subject key as erp-unattributed:<table>, and reports the row', async () => {
    const ring = new TestKeyRing();
    const unattributed: string[] = [];
    const protect = erpProtectHook(ring, { onUnattributed: (t) => unattributed.push(t) });
    const row = await protect(HEADERS, {
      HEADER_ID: '1000123',
      SOLD_TO_ORG_ID: null,
      SHIPPING_INSTRUCTIONS: 'Deliver to Alpenstahl GmbH, gate 3; call Anna Müller before arrival.',
    });
    expect(ring.subjectOf(row['SHIPPING_INSTRUCTIONS'])).toBe('erp-unattributed:ONT.OE_ORDER_HEADERS_ALL');
    expect(row['HEADER_ID']).toBe('1000123');
    // An update that carries no personal value is nobody's business: not counted.
    await protect(HEADERS, { HEADER_ID: '1000124', SOLD_TO_ORG_ID: null, SHIPPING_INSTRUCTIONS: null });
    const attributed = await protect(HEADERS, {
      HEADER_ID: '1000125',
      SOLD_TO_ORG_ID: '20003',
      SHIPPING_INSTRUCTIONS: 'call before arrival',
    });
    expect(ring.subjectOf(attributed['SHIPPING_INSTRUCTIONS'])).toBe('erp-cust-account:20003');
    expect(unattributed).toEqual(['ONT.OE_ORDER_HEADERS_ALL']);
  });

  it("lands an erased subject's personal data as null, named in _unavailable; the rest of the row lands", async () => {
    const ring = new TestKeyRing();
    ring.erase('erp-party:50012');
    const row = await erpProtectHook(ring)(PARTIES, party({ _unavailable: 'NOTES' }));
    expect([row['PARTY_NAME'], row['EMAIL_ADDRESS'], row['PRIMARY_PHONE_NUMBER']]).toEqual([
      null,
      null,
      null,
    ]);
    expect(String(row['_unavailable']).split(',')).toEqual([
      'NOTES',
      'PERSON_FIRST_NAME',
      'PERSON_LAST_NAME',
      'EMAIL_ADDRESS',
      'PRIMARY_PHONE_NUMBER',
      'PARTY_NAME',
    ]);
    expect(row).toMatchObject({ PARTY_ID: '50012', COUNTRY: 'DE' });
    // Another subject is unaffected.
    const other = await erpProtectHook(ring)(PARTIES, party({ PARTY_ID: '50013' }));
    expect(other['EMAIL_ADDRESS']).toMatch(SEALED);
  });

  it('seals a CLOB of any length whole; an empty LOB and an unchanged LOB (not in the redo) stay as they are', async () => {
    const ring = new TestKeyRing();
    const clob: PersonalData = { columns: ['NOTES'], subjectKey: 'CONTACT_ID', subjectKind: 'erp-contact' };
    const protect = erpProtectHook(ring);
    const long = `Gate 3, ask for Anna Müller (+49 123 45678). ${'ä€'.repeat(60_000)}`;
    const sealed = await protect({ table: 'X.CONTACTS', personal: clob }, { CONTACT_ID: '7', NOTES: long });
    expect(sealed['NOTES']).toMatch(SEALED);
    expect(await ring.open(String(sealed['NOTES']))).toEqual({ state: 'open', value: long });
    const empty = await protect({ table: 'X.CONTACTS', personal: clob }, { CONTACT_ID: '7', NOTES: '' });
    expect(empty['NOTES']).toBe('');
    const unchanged = await protect(
      { table: 'X.CONTACTS', personal: clob },
      { CONTACT_ID: '7', NOTES: null, _unavailable: 'NOTES' },
    );
    expect(unchanged).toMatchObject({ NOTES: null, _unavailable: 'NOTES' });
  });

  it('refuses a declared personal column that does not land as text, naming it', async () => {
    const protect = erpProtectHook(new TestKeyRing());
    const wrong: PersonalData = { columns: ['BIRTH_DATE'], subjectKey: 'ID', subjectKind: 'erp-person' };
    await expect(
      protect({ table: 'X.PEOPLE', personal: wrong }, { ID: '1', BIRTH_DATE: new Date(0) }),
    ).rejects.toThrow(UsageError);
    await expect(
      protect({ table: 'X.PEOPLE', personal: wrong }, { ID: '1', BIRTH_DATE: new Date(0) }),
    ).rejects.toThrow(/X\.PEOPLE\.BIRTH_DATE .* timestamp/);
  });
});

describe('personal data in ERP dead letters', () => {
  it('seals the personal columns of a redo image (typed values by their text), keyed as landing keys them', async () => {
    const ring = new TestKeyRing();
    const image = {
      PARTY_ID: { kind: 'number', text: '50012' },
      EMAIL_ADDRESS: 'anna.mueller@alpenstahl.example',
      PARTY_TYPE: 'PERSON',
      PARTY_NAME: 'Anna Müller',
      COUNTRY: 'DE',
    };
    const sealed = await sealErpRecord(ring, PARTIES.table, PARTIES.personal, image);
    expect(ring.subjectOf(sealed['EMAIL_ADDRESS'])).toBe('erp-party:50012');
    expect(ring.subjectOf(sealed['PARTY_NAME'])).toBe('erp-party:50012');
    expect(sealed['PARTY_ID']).toEqual({ kind: 'number', text: '50012' });
    expect(sealed['COUNTRY']).toBe('DE');
    expect(JSON.stringify(sealed)).not.toMatch(/alpenstahl|Müller/);
  });

  it('seals a statement that cannot be taken apart whole, as unattributed', async () => {
    const ring = new TestKeyRing();
    const sql = `update "AR"."HZ_PARTIES" set "EMAIL_ADDRESS" = 'anna.mueller.7@alpenstahl.example' where "PARTY_I#?UNKNOWN`;
    const sealed = await sealErpText(ring, 'AR.HZ_PARTIES', sql);
    expect(ring.subjectOf(sealed)).toBe('erp-unattributed:AR.HZ_PARTIES');
    expect(await ring.open(sealed!)).toEqual({ state: 'open', value: sql });
  });
});

describe('the personal-data declarations', () => {
  it('name a subject kind for every table with personal data, and AURORA_ERP_TABLES keeps them', () => {
    for (const t of DEFAULT_ERP_TABLES.filter((x) => x.personal))
      expect(t.personal!.subjectKind, t.name).toMatch(/^erp-[a-z-]+$/);
    const parsed = parseErpTables('AR.HZ_PARTIES, ap.ap_supplier_contacts:logminer, INV.MTL_PARAMETERS');
    expect(parsed.map((t) => t.personal?.subjectKind)).toEqual([
      'erp-party',
      'erp-supplier-contact',
      undefined,
    ]);
    expect(parsed[0]!.personal).toEqual(PARTIES.personal);
  });
});
