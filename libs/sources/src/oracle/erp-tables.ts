import { UsageError } from '@aurora/core';
import { checkIdentifier } from './statements.js';

/**
 * How a table is read incrementally: `logminer` (CDC from the redo: inserts, updates and deletes) or
 * `watermark` (rows whose LAST_UPDATE_DATE moved: for tables where LogMiner is not allowed; deletes are
 * invisible to it).
 */
export type ErpTableMode = 'logminer' | 'watermark';

/**
 * Personal data in a table: which columns hold it, and whose it is. Landing seals these columns under the
 * key of the data subject `<subjectKind>:<value of subjectKey>` (e.g. `erp-party:10040`), the id access and
 * erasure requests name; a row whose subject key is null seals them as `erp-unattributed:<OWNER.TABLE>`.
 */
export interface PersonalData {
  /** Columns that are personal data in every row. */
  columns: readonly string[];
  /**
   * Columns that are personal data only in some rows, e.g. HZ_PARTIES.PARTY_NAME: a person's name, but
   * an organisation's name is not (and silver.customers needs it). Sealed when `when.column` equals
   * `when.equals`, and also when it is not known (null, or not in an update's redo): when in doubt, sealed.
   */
  conditional?: readonly PersonalDataCondition[];
  /** The column whose value names the data subject (the party, the contact, the customer account). */
  subjectKey: string;
  /** The kind of subject, the first part of its id: `erp-party`, `erp-supplier-contact`, ... */
  subjectKind: string;
}

export interface PersonalDataCondition {
  columns: readonly string[];
  when: { column: string; equals: string };
}

export interface ErpTableConfig {
  owner: string;
  name: string;
  mode: ErpTableMode;
  /** Primary key columns: `_record_key`, chunking (its first column must be numeric) and dedup. */
  key: readonly string[];
  personal?: PersonalData;
}

const t = (
  qualified: string,
  key: string[],
  mode: ErpTableMode = 'logminer',
  personal?: PersonalData,
): ErpTableConfig => {
  const [owner, name] = qualified.split('.') as [string, string];
  return { owner, name, key, mode, ...(personal ? { personal } : {}) };
};

/**
 * The tables Aurora reads by default: what manufacturing analytics needs (items, on-hand, material
 * transactions, WIP jobs, bills of material, sales orders, customers, suppliers, price lists). The plant's
 * production scope is larger (124 tables): set AURORA_ERP_TABLES. Price lists are read by watermark, as
 * the plant's DBA does not allow supplemental logging on QP.
 */
export const DEFAULT_ERP_TABLES: readonly ErpTableConfig[] = [
  t('INV.MTL_PARAMETERS', ['ORGANIZATION_ID']),
  t('INV.MTL_SYSTEM_ITEMS_B', ['INVENTORY_ITEM_ID', 'ORGANIZATION_ID']),
  t('INV.MTL_ONHAND_QUANTITIES_DETAIL', ['ONHAND_QUANTITIES_ID']),
  t('INV.MTL_MATERIAL_TRANSACTIONS', ['TRANSACTION_ID']),
  t('WIP.WIP_ENTITIES', ['WIP_ENTITY_ID']),
  t('WIP.WIP_DISCRETE_JOBS', ['WIP_ENTITY_ID']),
  t('BOM.BOM_STRUCTURES_B', ['BILL_SEQUENCE_ID']),
  t('BOM.BOM_COMPONENTS_B', ['COMPONENT_SEQUENCE_ID']),
  t('ONT.OE_ORDER_HEADERS_ALL', ['HEADER_ID'], 'logminer', {
    // Free text that names the buyer to call: the customer account's.
    columns: ['SHIPPING_INSTRUCTIONS'],
    subjectKey: 'SOLD_TO_ORG_ID',
    subjectKind: 'erp-cust-account',
  }),
  t('ONT.OE_ORDER_LINES_ALL', ['LINE_ID']),
  t('AR.HZ_PARTIES', ['PARTY_ID'], 'logminer', {
    columns: ['PERSON_FIRST_NAME', 'PERSON_LAST_NAME', 'EMAIL_ADDRESS', 'PRIMARY_PHONE_NUMBER'],
    // A person party's name is the person's; an organisation's is not personal data.
    conditional: [{ columns: ['PARTY_NAME'], when: { column: 'PARTY_TYPE', equals: 'PERSON' } }],
    subjectKey: 'PARTY_ID',
    subjectKind: 'erp-party',
  }),
  t('AR.HZ_CUST_ACCOUNTS', ['CUST_ACCOUNT_ID']),
  t('AP.AP_SUPPLIERS', ['VENDOR_ID']),
  t('AP.AP_SUPPLIER_CONTACTS', ['VENDOR_CONTACT_ID'], 'logminer', {
    columns: ['FIRST_NAME', 'LAST_NAME', 'EMAIL_ADDRESS', 'PHONE'],
    subjectKey: 'VENDOR_CONTACT_ID',
    subjectKind: 'erp-supplier-contact',
  }),
  t('QP.QP_LIST_HEADERS_B', ['LIST_HEADER_ID'], 'watermark'),
  t('QP.QP_LIST_LINES', ['LIST_LINE_ID'], 'watermark'),
];

export const qualifiedName = (table: { owner: string; name: string }) => `${table.owner}.${table.name}`;

/** What a table declares as personal data: the configured declaration, else the default set's. */
export function personalDataOf(
  table: { owner: string; name: string },
  configured: readonly ErpTableConfig[] = [],
): PersonalData | undefined {
  const same = (t: ErpTableConfig) => t.owner === table.owner && t.name === table.name;
  return configured.find(same)?.personal ?? DEFAULT_ERP_TABLES.find(same)?.personal;
}

/** The table's bronze name: lower case, without the owner (EBS table names are unique across owners). */
export const bronzeTableName = (table: { name: string }) => table.name.toLowerCase();

/**
 * Parses AURORA_ERP_TABLES: comma-separated `OWNER.TABLE[:mode][(KEY1+KEY2)]`. A table of the default set
 * needs neither mode nor key (its defaults apply, including its personal-data declaration); any other
 * table needs its key.
 */
export function parseErpTables(text: string): ErpTableConfig[] {
  const out: ErpTableConfig[] = [];
  for (const raw of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m =
      /^([A-Za-z0-9_$#]+)\.([A-Za-z0-9_$#]+)(?::(logminer|watermark))?(?:\(([A-Za-z0-9_$#+]+)\))?$/.exec(raw);
    if (!m)
      throw new UsageError(
        `AURORA_ERP_TABLES: "${raw}" is not OWNER.TABLE[:logminer|watermark][(KEY1+KEY2)]`,
      );
    const owner = checkIdentifier(m[1]!.toUpperCase());
    const name = checkIdentifier(m[2]!.toUpperCase());
    const known = DEFAULT_ERP_TABLES.find((d) => d.owner === owner && d.name === name);
    const key = m[4]?.toUpperCase().split('+').map(checkIdentifier) ?? known?.key;
    if (!key)
      throw new UsageError(
        `AURORA_ERP_TABLES: ${owner}.${name} is not a default table, so give its key: ${owner}.${name}(KEY)`,
      );
    if (out.some((o) => o.owner === owner && o.name === name))
      throw new UsageError(`AURORA_ERP_TABLES: ${owner}.${name} is listed twice`);
    out.push({
      owner,
      name,
      key,
      mode: (m[3] as ErpTableMode | undefined) ?? known?.mode ?? 'logminer',
      ...(known?.personal ? { personal: known.personal } : {}),
    });
  }
  return out;
}
