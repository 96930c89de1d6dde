import { AuroraError, jsonText, SourceDataError } from '@aurora/core';
import { type CellValue, type Column, type Row, safeColumnNames, setColumn } from '@aurora/lake';
import { personalText, type Sealer, subjectId, unattributedSubject } from '../personal-data.js';
import { type AbapType, columnTypeOf, type FieldSpec, fromAbap, type SapSubject } from './abap-types.js';
import type { RfcStructure } from './rfc.js';
import type { ReadTableField } from './rfc-read-table.js';

/**
 * The bronze shape of each BAPI result: one row per business record, SAP's field names kept as SAP names
 * them, each field typed by its ABAP type (docs/sources/sap.md lists the columns). A field the schema does
 * not know (a new field in the system) is kept as text after the known ones, never dropped.
 */

/** The bronze folder of each extract, lower case: `bronze/sap/{bapi}/...`. */
export const SAP_BAPIS = {
  poDetail: 'bapi_po_getdetail',
  goodsMovements: 'bapi_goodsmvt_getitems',
  stock: 'rfc_read_table_mard',
  materials: 'bapi_material_getlist',
} as const;
export type SapBapi = (typeof SAP_BAPIS)[keyof typeof SAP_BAPIS];

const f = (name: string, type: AbapType = 'CHAR', personal?: SapSubject): FieldSpec =>
  personal ? { name, type, personal } : { name, type };

/** The vendor's contact person: the record's vendor is the data subject. */
const VENDOR_CONTACT: SapSubject = { kind: 'sap-vendor', from: 'VENDOR' };
/** An SAP user id (an employee): the value is the subject's id. */
const SAP_USER: SapSubject = { kind: 'sap-user' };

/**
 * BAPI_PO_GETDETAIL: one row per schedule line, with its item, the PO header and the item's GR totals. Where
 * two structures share a field name the item keeps it and the other is prefixed: the header's with
 * `HEADER_`, the schedule line's with `SCHED_` (its QUANTITY becomes SCHED_QUANTITY).
 */
export const PO_DETAIL_FIELDS: readonly FieldSpec[] = [
  // PO_HEADER (BAPIEKKOL)
  f('PO_NUMBER'),
  f('HEADER_CO_CODE'),
  f('DOC_CAT'),
  f('DOC_TYPE'),
  f('CNTRL_IND'),
  f('HEADER_DELETE_IND'),
  f('HEADER_STATUS'),
  f('CREATED_ON', 'DATS'),
  f('CREATED_BY', 'CHAR', SAP_USER),
  f('ITEM_INTVL', 'NUMC'),
  f('LAST_ITEM', 'NUMC'),
  f('VENDOR'),
  f('LANGUAGE'),
  f('PMNTTRMS'),
  f('DSCNT1_TO', 'BCD'),
  f('PURCH_ORG'),
  f('PUR_GROUP'),
  f('CURRENCY'),
  f('EXCH_RATE', 'BCD'),
  f('DOC_DATE', 'DATS'),
  f('VPER_START', 'DATS'),
  f('VPER_END', 'DATS'),
  f('SALES_PERS', 'CHAR', VENDOR_CONTACT),
  f('TELEPHONE', 'CHAR', VENDOR_CONTACT),
  f('INCOTERMS1'),
  f('INCOTERMS2'),
  f('REL_STATUS'),
  f('VEND_NAME'),
  // PO_ADDRESS (BAPIADDRESS): the vendor's contact e-mail only
  f('E_MAIL', 'CHAR', VENDOR_CONTACT),
  // PO_ITEMS (BAPIEKPO)
  f('PO_ITEM', 'NUMC'),
  f('DELETE_IND'),
  f('STATUS'),
  f('CHANGED_ON', 'DATS'),
  f('SHORT_TEXT'),
  f('MATERIAL'),
  f('PUR_MAT'),
  f('CO_CODE'),
  f('PLANT'),
  f('STORE_LOC'),
  f('TRACKINGNO'),
  f('MAT_GRP'),
  f('INFO_REC'),
  f('VEND_MAT'),
  f('QUANTITY', 'BCD'),
  f('PO_UNIT'),
  f('ORDERPR_UN'),
  f('CONV_NUM1', 'BCD'),
  f('CONV_DEN1', 'BCD'),
  f('NET_PRICE', 'BCD'),
  f('PRICE_UNIT', 'BCD'),
  f('UNIT'),
  f('NET_VALUE', 'BCD'),
  f('GROS_VALUE', 'BCD'),
  f('ITEM_CAT'),
  f('ACCTASSCAT'),
  f('GR_IND'),
  f('IR_IND'),
  f('GR_BASEDIV'),
  f('DEL_COMPL'),
  // PO_ITEM_SCHEDULES (BAPIEKET)
  f('SERIAL_NO', 'NUMC'),
  f('DEL_DATCAT'),
  f('DELIV_DATE', 'DATS'),
  f('DELIV_TIME', 'TIMS'),
  f('SCHED_QUANTITY', 'BCD'),
  f('PREQ_NO'),
  f('PREQ_ITEM', 'NUMC'),
  f('BATCH'),
  f('VEND_BATCH'),
  f('RESERV_NO'),
  f('VERSION'),
  // PO_ITEM_HISTORY_TOTALS (BAPIEKBES)
  f('DELIV_QTY', 'BCD'),
  f('VAL_GR_LOC', 'BCD'),
  f('IV_QTY', 'BCD'),
];

/** BAPI_GOODSMVT_GETITEMS: one row per material document item, with its header. */
export const GOODS_MOVEMENT_FIELDS: readonly FieldSpec[] = [
  // GOODSMVT_ITEMS (BAPI2017_GM_ITEM_SHOW)
  f('MAT_DOC'),
  f('DOC_YEAR', 'NUMC'),
  f('MATDOC_ITM', 'NUMC'),
  f('MATERIAL'),
  f('PLANT'),
  f('STGE_LOC'),
  f('BATCH'),
  f('MOVE_TYPE'),
  f('STCK_TYPE'),
  f('SPEC_STOCK'),
  f('VENDOR'),
  f('CUSTOMER'),
  f('SALES_ORD'),
  f('S_ORD_ITEM', 'NUMC'),
  f('ENTRY_QNT', 'BCD'),
  f('ENTRY_UOM'),
  f('ENTRY_UOM_ISO'),
  f('PO_NUMBER'),
  f('PO_ITEM', 'NUMC'),
  f('ORDERID'),
  f('COSTCENTER'),
  f('MOVE_PLANT'),
  f('MOVE_STLOC'),
  f('MVT_IND'),
  f('MOVE_REAS', 'NUMC'),
  f('ITEM_TEXT'),
  f('NO_MORE_GR'),
  f('RESERV_NO'),
  f('RES_ITEM', 'NUMC'),
  f('PROFIT_CTR'),
  f('CURRENCY'),
  // GOODSMVT_HEADER (BAPI2017_GM_HEAD_02)
  f('TR_EV_TYPE'),
  f('DOC_DATE', 'DATS'),
  f('PSTNG_DATE', 'DATS'),
  f('ENTRY_DATE', 'DATS'),
  f('ENTRY_TIME', 'TIMS'),
  f('USERNAME', 'CHAR', SAP_USER),
  f('VER_GR_GI_SLIP'),
  f('REF_DOC_NO'),
  f('HEADER_TXT'),
];

/** RFC_READ_TABLE on MARD: one row per material, plant and storage location. */
export const MARD_FIELDS: readonly FieldSpec[] = [
  f('MATNR'),
  f('WERKS'),
  f('LGORT'),
  f('LVORM'),
  f('LFGJA', 'NUMC'),
  f('LFMON', 'NUMC'),
  f('LABST', 'BCD'),
  f('UMLME', 'BCD'),
  f('INSME', 'BCD'),
  f('EINME', 'BCD'),
  f('SPEME', 'BCD'),
  f('RETME', 'BCD'),
];

/** BAPI_MATERIAL_GETLIST: one row per material and plant it was selected for (PLANT is the selection's). */
export const MATERIAL_LIST_FIELDS: readonly FieldSpec[] = [
  f('MATERIAL'),
  f('MATL_DESC'),
  f('MATERIAL_EXTERNAL'),
  f('MATERIAL_GUID'),
  f('MATERIAL_VERSION'),
  f('MATERIAL_LONG'),
  f('PLANT'),
];

export const BAPI_FIELDS: Readonly<Record<SapBapi, readonly FieldSpec[]>> = {
  [SAP_BAPIS.poDetail]: PO_DETAIL_FIELDS,
  [SAP_BAPIS.goodsMovements]: GOODS_MOVEMENT_FIELDS,
  [SAP_BAPIS.stock]: MARD_FIELDS,
  [SAP_BAPIS.materials]: MATERIAL_LIST_FIELDS,
};

/** One record of a BAPI result before typing: its key and SAP's raw values (strings, numbers). */
export interface SapRecord {
  key: string;
  fields: Record<string, unknown>;
  /** Types of fields the result described itself (RFC_READ_TABLE's FIELDS), over the schema's. */
  types?: Readonly<Record<string, AbapType>>;
}

/** A record that could not be typed: kept whole for the dead letter, with why. */
export interface RejectedRecord {
  key: string;
  reason: string;
  fields: Record<string, unknown>;
}

/**
 * Personal data on its way into the lake: the value of a personal field of a record, as the lake may hold
 * it (sealed), or null when it must not be kept (its subject was erased).
 */
export type ProtectPersonalData = (
  value: string,
  field: { bapi: SapBapi; spec: FieldSpec & { personal: SapSubject }; record: SapRecord },
) => Promise<string | null>;

/** Whose a personal field's value is: `sap-vendor:<VENDOR>`, `sap-user:<value>`, else unattributed. */
export function sapSubjectOf(bapi: SapBapi, personal: SapSubject, value: string, record: SapRecord): string {
  const id = personal.from ? personalText(record.fields[personal.from]) : value;
  return subjectId(personal.kind, id) ?? unattributedSubject('sap', bapi);
}

/** The landing path's envelope encryption for SAP: each personal value sealed under its subject's key. */
export function sapProtect(sealer: Sealer): ProtectPersonalData {
  return async (value, { bapi, spec, record }) =>
    (await sealer.seal(sapSubjectOf(bapi, spec.personal, value, record), value)) ?? null;
}

/** A record's raw fields with its personal ones protected (for a dead letter: those are in the lake too). */
export async function protectRawFields(
  bapi: SapBapi,
  record: SapRecord,
  protect: ProtectPersonalData,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...record.fields };
  for (const spec of BAPI_FIELDS[bapi]) {
    if (!spec.personal) continue;
    const text = personalText(record.fields[spec.name]);
    if (text === null || text.trim() === '') continue;
    out[spec.name] = await protect(text, { bapi, spec: { ...spec, personal: spec.personal }, record });
  }
  return out;
}

export const SAP_LINEAGE: readonly Column[] = [
  { name: '_source', type: 'VARCHAR' },
  { name: '_extracted_at', type: 'TIMESTAMP' },
  { name: '_batch_id', type: 'VARCHAR' },
  { name: '_record_key', type: 'VARCHAR' },
];

/**
 * Types SAP records into bronze rows: the schema's columns in its order, then unknown fields as VARCHAR in
 * the order first seen, then the lineage. Personal fields go through `protect` (sealed). A record with a
 * value its type cannot hold is rejected (dead-lettered by the caller, its personal fields protected too),
 * the others land.
 */
export async function sapBronzeRows(
  bapi: SapBapi,
  records: readonly SapRecord[],
  lineage: { extractedAt: Date; batchId: string; protect: ProtectPersonalData },
): Promise<{ schema: Column[]; rows: Row[]; rejected: RejectedRecord[] }> {
  const spec = BAPI_FIELDS[bapi];
  const known = new Set(spec.map((s) => s.name));
  const unknown = new Set<string>();
  for (const r of records) for (const name of Object.keys(r.fields)) if (!known.has(name)) unknown.add(name);
  const extra = [...unknown];
  // Every unknown field gets a column of its own, whatever its name (`sap_source`, `ITEM_TEXT~2`...).
  const columnOf = safeColumnNames([...known, ...extra], {
    reserved: SAP_LINEAGE.map((c) => c.name),
    prefix: 'sap',
  });
  const { protect } = lineage;
  const rows: Row[] = [];
  const rejected: RejectedRecord[] = [];
  for (const r of records) {
    const row: Record<string, CellValue> = {};
    try {
      for (const s of spec) row[s.name] = fromAbap(s.name, r.types?.[s.name] ?? s.type, r.fields[s.name]);
    } catch (error) {
      if (!(error instanceof AuroraError)) throw error;
      rejected.push({ key: r.key, reason: error.message, fields: await protectRawFields(bapi, r, protect) });
      continue;
    }
    // Sealing failures (the key table unreachable) fail the run: they say nothing about the record.
    for (const s of spec) {
      const value = row[s.name];
      if (s.personal && typeof value === 'string' && value !== '')
        row[s.name] = await protect(value, { bapi, spec: { ...s, personal: s.personal }, record: r });
    }
    for (const name of extra) {
      // Own fields only: a record without a `constructor` field has none, whatever Object.prototype says.
      const v = Object.hasOwn(r.fields, name) ? r.fields[name] : undefined;
      setColumn(
        row,
        columnOf.get(name)!,
        v === undefined || v === null
          ? null
          : typeof v === 'object'
            ? (jsonText(v) ?? null)
            : String(v).trimEnd(),
      );
    }
    row['_source'] = 'sap';
    row['_extracted_at'] = lineage.extractedAt;
    row['_batch_id'] = lineage.batchId;
    row['_record_key'] = r.key;
    rows.push(row);
  }
  const schema: Column[] = [
    ...spec.map((s) => ({ name: s.name, type: columnTypeOf(s.type) })),
    ...extra.map((name) => ({ name: columnOf.get(name)!, type: 'VARCHAR' as const })),
    ...SAP_LINEAGE,
  ];
  return { schema, rows, rejected };
}

/** `fields` with each name another structure already uses prefixed. */
const prefixed = (
  fields: RfcStructure,
  taken: ReadonlySet<string>,
  prefix: string,
): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [taken.has(k) ? `${prefix}${k}` : k, v]));

const isStructure = (value: unknown): value is RfcStructure =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** What a result that is not shaped as the BAPI's interface says: the whole result goes with it. */
const shapeError = (rfm: string, problem: string, result: RfcStructure) =>
  new SourceDataError(`${rfm}: ${problem}; the result is kept whole in the dead letter`, {
    details: { rfm, result },
  });

/** A table parameter of a result: an array of structures ([] when absent), else a SourceDataError. */
export function tableOf(result: RfcStructure, name: string, rfm: string): RfcStructure[] {
  const value = result[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw shapeError(rfm, `${name} is not a table`, result);
  const at = value.findIndex((row) => !isStructure(row));
  if (at >= 0) throw shapeError(rfm, `row ${at + 1} of ${name} is not a structure`, result);
  return value;
}

/** A structure parameter of a result ({} when absent), else a SourceDataError. */
export function structureOf(result: RfcStructure, name: string, rfm: string): RfcStructure {
  const value = result[name];
  if (value === undefined || value === null) return {};
  if (!isStructure(value)) throw shapeError(rfm, `${name} is not a structure`, result);
  return value;
}

/** BAPI_PO_GETDETAIL's result flattened: one record per schedule line (an item without any gives one). */
export function poDetailRecords(result: RfcStructure): SapRecord[] {
  const rfm = 'BAPI_PO_GETDETAIL';
  const header = structureOf(result, 'PO_HEADER', rfm);
  const address = structureOf(result, 'PO_ADDRESS', rfm);
  const items = tableOf(result, 'PO_ITEMS', rfm);
  const schedules = tableOf(result, 'PO_ITEM_SCHEDULES', rfm);
  const totals = tableOf(result, 'PO_ITEM_HISTORY_TOTALS', rfm);
  const poNumber = header['PO_NUMBER'];
  const out: SapRecord[] = [];
  for (const item of items) {
    const { PO_NUMBER: _n, ...itemFields } = item;
    const itemNames = new Set(Object.keys(itemFields));
    const { PO_NUMBER: _h, ...headerFields } = header;
    const poItem = String(item['PO_ITEM']);
    const total = totals.find((t) => String(t['PO_ITEM']) === poItem);
    const { PO_ITEM: _ti, SERIAL_NO: _ts, ...totalFields } = total ?? {};
    const lines = schedules.filter((s) => String(s['PO_ITEM']) === poItem);
    for (const line of lines.length > 0 ? lines : [undefined]) {
      const { PO_ITEM: _i, ...lineFields } = line ?? {};
      out.push({
        key: `${poNumber}/${poItem}/${line ? String(line['SERIAL_NO']) : ''}`,
        fields: {
          PO_NUMBER: poNumber,
          ...prefixed(headerFields, itemNames, 'HEADER_'),
          E_MAIL: address['E_MAIL'],
          ...itemFields,
          ...prefixed(lineFields, itemNames, 'SCHED_'),
          ...totalFields,
        },
      });
    }
  }
  return out;
}

/** BAPI_GOODSMVT_GETITEMS's result flattened: one record per item, with its document's header fields. */
export function goodsMovementRecords(result: RfcStructure): SapRecord[] {
  const rfm = 'BAPI_GOODSMVT_GETITEMS';
  const headers = new Map(
    tableOf(result, 'GOODSMVT_HEADER', rfm).map((h) => [`${h['MAT_DOC']}/${h['DOC_YEAR']}`, h]),
  );
  return tableOf(result, 'GOODSMVT_ITEMS', rfm).map((item) => {
    const h = headers.get(`${item['MAT_DOC']}/${item['DOC_YEAR']}`) ?? {};
    const { MAT_DOC: _d, DOC_YEAR: _y, ...header } = h;
    return {
      key: `${item['MAT_DOC']}/${item['DOC_YEAR']}/${item['MATDOC_ITM']}`,
      fields: { ...header, ...item },
    };
  });
}

/** RFC_READ_TABLE MARD rows (already cut out of their WAs), typed by what FIELDS said. */
export function mardRecords(parsed: {
  fields: ReadTableField[];
  rows: Record<string, string>[];
}): SapRecord[] {
  const types = Object.fromEntries(parsed.fields.map((x) => [x.name, x.type]));
  return parsed.rows.map((row) => ({
    key: `${row['MATNR']}/${row['WERKS']}/${row['LGORT']}`,
    fields: row,
    types,
  }));
}

/** BAPI_MATERIAL_GETLIST's MATNRLIST for one plant selection. */
export function materialRecords(result: RfcStructure, plant: string): SapRecord[] {
  return tableOf(result, 'MATNRLIST', 'BAPI_MATERIAL_GETLIST').map((m) => ({
    key: `${m['MATERIAL']}/${plant}`,
    fields: { ...m, PLANT: plant },
  }));
}
