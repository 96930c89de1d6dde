/**
 * The Oracle E-Business Suite 12.1 tables the ERP stand-in holds, with their owning product schemas
 * (INV, WIP, ONT, AR, AP, BOM, QP: rows in V$LOGMNR_CONTENTS carry these owners, never APPS) and the
 * columns manufacturing analytics reads. Column names and types follow EBS (../shared/SOURCES-NOTES.md
 * §1c); a few columns are stand-in extensions, marked below, so that every Oracle type the connector must
 * map (NUMBER, DATE, TIMESTAMP, VARCHAR2, CLOB) occurs at least once.
 */

/** An Oracle column type as ALL_TAB_COLUMNS describes it. */
export type OracleType =
  | { type: 'NUMBER'; precision: number | null; scale: number | null }
  | { type: 'DATE' }
  | { type: 'TIMESTAMP'; scale: number }
  | { type: 'VARCHAR2'; length: number }
  | { type: 'CLOB' };

export interface EbsColumn {
  name: string;
  type: OracleType;
}

export interface EbsTable {
  owner: string;
  name: string;
  /** Primary key columns, in order. */
  key: readonly string[];
  columns: readonly EbsColumn[];
}

/** Parses `NUMBER`, `NUMBER(15)`, `NUMBER(15,2)`, `DATE`, `TIMESTAMP(6)`, `VARCHAR2(40)`, `CLOB`. */
export function parseOracleType(text: string): OracleType {
  const m = /^([A-Z0-9]+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(text.replaceAll(' ', '').toUpperCase());
  if (!m) throw new Error(`not an Oracle column type: ${text}`);
  const [, base, a, b] = m;
  switch (base) {
    case 'NUMBER':
      return {
        type: 'NUMBER',
        precision: a === undefined ? null : Number(a),
        scale: a === undefined ? null : Number(b ?? 0),
      };
    case 'DATE':
      return { type: 'DATE' };
    case 'TIMESTAMP':
      return { type: 'TIMESTAMP', scale: a === undefined ? 6 : Number(a) };
    case 'VARCHAR2':
      return { type: 'VARCHAR2', length: Number(a ?? 4000) };
    case 'CLOB':
      return { type: 'CLOB' };
    default:
      throw new Error(`unsupported Oracle column type: ${text}`);
  }
}

/** Renders a type the way a DDL statement spells it. */
export function oracleTypeText(t: OracleType): string {
  switch (t.type) {
    case 'NUMBER':
      return t.precision === null
        ? 'NUMBER'
        : t.scale
          ? `NUMBER(${t.precision},${t.scale})`
          : `NUMBER(${t.precision})`;
    case 'DATE':
      return 'DATE';
    case 'TIMESTAMP':
      return `TIMESTAMP(${t.scale})`;
    case 'VARCHAR2':
      return `VARCHAR2(${t.length})`;
    case 'CLOB':
      return 'CLOB';
  }
}

/** The WHO columns every EBS table carries, filled by the application (FND_STANDARD.SET_WHO), not by triggers. */
export const WHO_COLUMNS = [
  'CREATED_BY NUMBER(15)',
  'CREATION_DATE DATE',
  'LAST_UPDATED_BY NUMBER(15)',
  'LAST_UPDATE_DATE DATE',
  'LAST_UPDATE_LOGIN NUMBER(15)',
] as const;

const table = (owner: string, name: string, key: string[], columns: string[]): EbsTable => ({
  owner,
  name,
  key,
  columns: [...columns, ...WHO_COLUMNS].map((spec) => {
    const space = spec.indexOf(' ');
    return { name: spec.slice(0, space), type: parseOracleType(spec.slice(space + 1)) };
  }),
});

export const EBS_TABLES: readonly EbsTable[] = [
  table(
    'INV',
    'MTL_PARAMETERS',
    ['ORGANIZATION_ID'],
    [
      'ORGANIZATION_ID NUMBER(15)',
      'ORGANIZATION_CODE VARCHAR2(3)',
      'MASTER_ORGANIZATION_ID NUMBER(15)',
      'CALENDAR_CODE VARCHAR2(10)',
      'PRIMARY_COST_METHOD NUMBER(15)',
      // The plant facility id (augsburg, ...): EBS sites keep such references in descriptive flexfields.
      'ATTRIBUTE1 VARCHAR2(150)',
    ],
  ),
  table(
    'INV',
    'MTL_SYSTEM_ITEMS_B',
    ['INVENTORY_ITEM_ID', 'ORGANIZATION_ID'],
    [
      'INVENTORY_ITEM_ID NUMBER(15)',
      'ORGANIZATION_ID NUMBER(15)',
      'SEGMENT1 VARCHAR2(40)',
      'DESCRIPTION VARCHAR2(240)',
      // Stand-in extension (EBS keeps long texts in MTL_SYSTEM_ITEMS_TL): the CLOB column of the set.
      'LONG_DESCRIPTION CLOB',
      'PRIMARY_UOM_CODE VARCHAR2(3)',
      'ITEM_TYPE VARCHAR2(30)',
      'INVENTORY_ITEM_STATUS_CODE VARCHAR2(10)',
      'PLANNING_MAKE_BUY_CODE NUMBER(15)',
      'LIST_PRICE_PER_UNIT NUMBER',
      'MIN_MINMAX_QUANTITY NUMBER',
      'MAX_MINMAX_QUANTITY NUMBER',
      'FIXED_LEAD_TIME NUMBER',
      'ATTRIBUTE1 VARCHAR2(150)',
    ],
  ),
  table(
    'INV',
    'MTL_ONHAND_QUANTITIES_DETAIL',
    ['ONHAND_QUANTITIES_ID'],
    [
      'ONHAND_QUANTITIES_ID NUMBER(15)',
      'INVENTORY_ITEM_ID NUMBER(15)',
      'ORGANIZATION_ID NUMBER(15)',
      'SUBINVENTORY_CODE VARCHAR2(10)',
      'LOCATOR_ID NUMBER(15)',
      'LOT_NUMBER VARCHAR2(80)',
      'PRIMARY_TRANSACTION_QUANTITY NUMBER',
      'TRANSACTION_QUANTITY NUMBER',
      'DATE_RECEIVED DATE',
      'CREATE_TRANSACTION_ID NUMBER(15)',
      'UPDATE_TRANSACTION_ID NUMBER(15)',
    ],
  ),
  table(
    'INV',
    'MTL_MATERIAL_TRANSACTIONS',
    ['TRANSACTION_ID'],
    [
      'TRANSACTION_ID NUMBER(15)',
      'INVENTORY_ITEM_ID NUMBER(15)',
      'ORGANIZATION_ID NUMBER(15)',
      'SUBINVENTORY_CODE VARCHAR2(10)',
      'TRANSACTION_TYPE_ID NUMBER(15)',
      'TRANSACTION_ACTION_ID NUMBER(15)',
      'TRANSACTION_SOURCE_TYPE_ID NUMBER(15)',
      'TRANSACTION_SOURCE_ID NUMBER(15)',
      'TRANSACTION_QUANTITY NUMBER',
      'TRANSACTION_UOM VARCHAR2(3)',
      'PRIMARY_QUANTITY NUMBER',
      'TRANSACTION_DATE DATE',
      'ACTUAL_COST NUMBER',
      'TRANSACTION_REFERENCE VARCHAR2(240)',
      'SOURCE_LINE_ID NUMBER(15)',
      'COSTED_FLAG VARCHAR2(1)',
      // Stand-in extension: the shop-floor event time with sub-second precision (the TIMESTAMP column).
      'EVENT_TIMESTAMP TIMESTAMP(6)',
    ],
  ),
  table(
    'WIP',
    'WIP_ENTITIES',
    ['WIP_ENTITY_ID'],
    [
      'WIP_ENTITY_ID NUMBER(15)',
      'ORGANIZATION_ID NUMBER(15)',
      'WIP_ENTITY_NAME VARCHAR2(240)',
      'ENTITY_TYPE NUMBER(15)',
      'DESCRIPTION VARCHAR2(240)',
      'PRIMARY_ITEM_ID NUMBER(15)',
    ],
  ),
  table(
    'WIP',
    'WIP_DISCRETE_JOBS',
    ['WIP_ENTITY_ID'],
    [
      'WIP_ENTITY_ID NUMBER(15)',
      'ORGANIZATION_ID NUMBER(15)',
      'PRIMARY_ITEM_ID NUMBER(15)',
      'STATUS_TYPE NUMBER(15)',
      'JOB_TYPE NUMBER(15)',
      'CLASS_CODE VARCHAR2(10)',
      'START_QUANTITY NUMBER',
      'NET_QUANTITY NUMBER',
      'QUANTITY_COMPLETED NUMBER',
      'QUANTITY_SCRAPPED NUMBER',
      'SCHEDULED_START_DATE DATE',
      'SCHEDULED_COMPLETION_DATE DATE',
      'DATE_RELEASED DATE',
      'DATE_COMPLETED DATE',
      'DATE_CLOSED DATE',
      'DESCRIPTION VARCHAR2(240)',
      // The machine the job runs on (a DFF at the plant).
      'ATTRIBUTE1 VARCHAR2(150)',
    ],
  ),
  table(
    'BOM',
    'BOM_STRUCTURES_B',
    ['BILL_SEQUENCE_ID'],
    [
      'BILL_SEQUENCE_ID NUMBER(15)',
      'ASSEMBLY_ITEM_ID NUMBER(15)',
      'ORGANIZATION_ID NUMBER(15)',
      'ALTERNATE_BOM_DESIGNATOR VARCHAR2(10)',
      'ASSEMBLY_TYPE NUMBER(15)',
      'COMMON_BILL_SEQUENCE_ID NUMBER(15)',
    ],
  ),
  table(
    'BOM',
    'BOM_COMPONENTS_B',
    ['COMPONENT_SEQUENCE_ID'],
    [
      'COMPONENT_SEQUENCE_ID NUMBER(15)',
      'BILL_SEQUENCE_ID NUMBER(15)',
      'COMPONENT_ITEM_ID NUMBER(15)',
      'ITEM_NUM NUMBER(15)',
      'OPERATION_SEQ_NUM NUMBER(15)',
      'COMPONENT_QUANTITY NUMBER',
      'COMPONENT_YIELD_FACTOR NUMBER',
      'EFFECTIVITY_DATE DATE',
      'DISABLE_DATE DATE',
      'WIP_SUPPLY_TYPE NUMBER(15)',
    ],
  ),
  table(
    'ONT',
    'OE_ORDER_HEADERS_ALL',
    ['HEADER_ID'],
    [
      'HEADER_ID NUMBER(15)',
      'ORG_ID NUMBER(15)',
      'ORDER_NUMBER NUMBER(15)',
      'ORDER_TYPE_ID NUMBER(15)',
      'SOLD_TO_ORG_ID NUMBER(15)',
      'SHIP_FROM_ORG_ID NUMBER(15)',
      'ORDERED_DATE DATE',
      'REQUEST_DATE DATE',
      'FLOW_STATUS_CODE VARCHAR2(30)',
      'TRANSACTIONAL_CURR_CODE VARCHAR2(15)',
      'CUST_PO_NUMBER VARCHAR2(50)',
      'BOOKED_FLAG VARCHAR2(1)',
      'OPEN_FLAG VARCHAR2(1)',
      'SHIPPING_INSTRUCTIONS VARCHAR2(2000)',
    ],
  ),
  table(
    'ONT',
    'OE_ORDER_LINES_ALL',
    ['LINE_ID'],
    [
      'LINE_ID NUMBER(15)',
      'HEADER_ID NUMBER(15)',
      'ORG_ID NUMBER(15)',
      'LINE_NUMBER NUMBER(15)',
      'SHIPMENT_NUMBER NUMBER(15)',
      'INVENTORY_ITEM_ID NUMBER(15)',
      'SHIP_FROM_ORG_ID NUMBER(15)',
      'ORDERED_QUANTITY NUMBER',
      'ORDER_QUANTITY_UOM VARCHAR2(3)',
      'UNIT_SELLING_PRICE NUMBER',
      'UNIT_LIST_PRICE NUMBER',
      'SHIPPED_QUANTITY NUMBER',
      'FLOW_STATUS_CODE VARCHAR2(30)',
      'OPEN_FLAG VARCHAR2(1)',
      'CANCELLED_FLAG VARCHAR2(1)',
      'REQUEST_DATE DATE',
      'SCHEDULE_SHIP_DATE DATE',
      'ACTUAL_SHIPMENT_DATE DATE',
    ],
  ),
  table(
    'AR',
    'HZ_PARTIES',
    ['PARTY_ID'],
    [
      'PARTY_ID NUMBER(15)',
      'PARTY_NUMBER VARCHAR2(30)',
      'PARTY_NAME VARCHAR2(360)',
      'PARTY_TYPE VARCHAR2(30)',
      'PERSON_FIRST_NAME VARCHAR2(150)',
      'PERSON_LAST_NAME VARCHAR2(150)',
      'EMAIL_ADDRESS VARCHAR2(2000)',
      'PRIMARY_PHONE_NUMBER VARCHAR2(40)',
      'COUNTRY VARCHAR2(60)',
      'STATUS VARCHAR2(1)',
    ],
  ),
  table(
    'AR',
    'HZ_CUST_ACCOUNTS',
    ['CUST_ACCOUNT_ID'],
    [
      'CUST_ACCOUNT_ID NUMBER(15)',
      'PARTY_ID NUMBER(15)',
      'ACCOUNT_NUMBER VARCHAR2(30)',
      'ACCOUNT_NAME VARCHAR2(240)',
      'STATUS VARCHAR2(1)',
      'CUSTOMER_TYPE VARCHAR2(30)',
      // The buyer's person party (HZ_RELATIONSHIPS at a real site).
      'ATTRIBUTE1 VARCHAR2(150)',
    ],
  ),
  table(
    'AP',
    'AP_SUPPLIERS',
    ['VENDOR_ID'],
    [
      'VENDOR_ID NUMBER(15)',
      'VENDOR_NAME VARCHAR2(240)',
      'SEGMENT1 VARCHAR2(30)',
      'VENDOR_TYPE_LOOKUP_CODE VARCHAR2(30)',
      'INVOICE_CURRENCY_CODE VARCHAR2(15)',
      'PAYMENT_CURRENCY_CODE VARCHAR2(15)',
      'ENABLED_FLAG VARCHAR2(1)',
      'ATTRIBUTE1 VARCHAR2(150)',
    ],
  ),
  table(
    'AP',
    'AP_SUPPLIER_CONTACTS',
    ['VENDOR_CONTACT_ID'],
    [
      'VENDOR_CONTACT_ID NUMBER(15)',
      'VENDOR_ID NUMBER(15)',
      'FIRST_NAME VARCHAR2(150)',
      'LAST_NAME VARCHAR2(150)',
      'EMAIL_ADDRESS VARCHAR2(2000)',
      'PHONE VARCHAR2(40)',
    ],
  ),
  table(
    'QP',
    'QP_LIST_HEADERS_B',
    ['LIST_HEADER_ID'],
    [
      'LIST_HEADER_ID NUMBER(15)',
      'LIST_TYPE_CODE VARCHAR2(30)',
      'CURRENCY_CODE VARCHAR2(30)',
      'ROUNDING_FACTOR NUMBER(15)',
      'START_DATE_ACTIVE DATE',
      'END_DATE_ACTIVE DATE',
      'ACTIVE_FLAG VARCHAR2(1)',
      'ATTRIBUTE1 VARCHAR2(150)',
    ],
  ),
  table(
    'QP',
    'QP_LIST_LINES',
    ['LIST_LINE_ID'],
    [
      'LIST_LINE_ID NUMBER(15)',
      'LIST_HEADER_ID NUMBER(15)',
      'LIST_LINE_TYPE_CODE VARCHAR2(30)',
      'ARITHMETIC_OPERATOR VARCHAR2(30)',
      'OPERAND NUMBER',
      // The priced item (QP_PRICING_ATTRIBUTES.PRODUCT_ATTR_VALUE at a real site).
      'PRODUCT_ATTR_VALUE VARCHAR2(240)',
      'START_DATE_ACTIVE DATE',
      'END_DATE_ACTIVE DATE',
    ],
  ),
];

/** `INV.MTL_SYSTEM_ITEMS_B` → its definition. */
export function ebsTable(qualifiedName: string): EbsTable | undefined {
  const [owner, name] = qualifiedName.toUpperCase().split('.');
  return EBS_TABLES.find((t) => t.owner === owner && t.name === name);
}
