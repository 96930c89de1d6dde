import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '@aurora/core';
import { MATERIALS } from '../materials.js';
import {
  addPlantDays,
  facilityOfPlant,
  type GoodsMovement,
  type ProcurementModel,
  type PurchaseOrder,
  SAP_COMPANY_CODE,
  SAP_PLANTS,
  SAP_PURCHASING_GROUP,
  SAP_PURCHASING_ORG,
  SAP_STORAGE_LOCATION,
  toDats,
  toDatsTims,
} from '../procurement.js';
import { plantDayOf } from '../shift-calendar.js';

/**
 * An in-process RFC server double for the SAP ERP behind the plant: it implements the same client and pool
 * shape as node-rfc (`Pool.acquire/release/closeAll/status`, `Client.open/close/call/alive`) and answers
 * the function modules Aurora calls with their real parameter structures and node-rfc's data mapping (DATS
 * `YYYYMMDD`, TIMS `HHMMSS`, BCD and NUMC as strings, RETURN tables), from the procurement model as of
 * its clock. Errors are thrown as node-rfc throws them: plain objects named RfcLibError or ABAPError.
 *
 * Served: BAPI_MATERIAL_GETLIST, BAPI_PO_GETDETAIL, BAPI_GOODSMVT_GETITEMS, RFC_READ_TABLE (EKKO, MARD).
 * docs/sources/sap.md describes the structures.
 */

type Scalar = string | number | Uint8Array;
export interface SapStructure {
  [field: string]: Scalar | SapStructure | SapStructure[];
}
type Params = Record<string, Scalar | SapStructure | SapStructure[]>;

/**
 * Ways the stand-in misbehaves, for tests and fault drills:
 * - `communication_failure`: RfcLibError group 4 / code 1 (the network dropped), on every matching call
 * - `logon_failure`: RfcLibError group 3 / code 2 when a connection logs on
 * - `abap_runtime`: ABAPError group 2 / code 3, a short dump (e.g. TIME_OUT) — transient
 * - `abap_exception`: ABAPError group 1 / code 5, a classic exception of the function module
 * - `po_not_found`: BAPI_PO_GETDETAIL answers RETURN TYPE E for the matching PO (the call succeeds)
 * - `slow`: answered after `delayMs` (default 2,000 ms)
 * - `new_field`: PO items and goods movement items carry a field never seen before (ZZ_CARRIER)
 */
export type SapFault =
  | 'communication_failure'
  | 'logon_failure'
  | 'abap_runtime'
  | 'abap_exception'
  | 'po_not_found'
  | 'slow'
  | 'new_field';

export const SAP_FAULTS: readonly SapFault[] = [
  'communication_failure',
  'logon_failure',
  'abap_runtime',
  'abap_exception',
  'po_not_found',
  'slow',
  'new_field',
];

export interface SapFaultRule {
  fault: SapFault;
  /** Only calls of this function module (default every call); for `po_not_found` only GETDETAIL. */
  rfm?: string;
  /** Only this PO (`po_not_found`, or any fault on BAPI_PO_GETDETAIL). */
  poNumber?: string;
  /** Calls to let through before the rule applies: a failure mid-run. */
  after?: number;
  /** How many calls it applies to; default every call until cleared. */
  times?: number;
  delayMs?: number;
}

/** The faults the stand-in applies to its next calls, first matching rule first. */
export class SapFaults {
  #rules: { rule: SapFaultRule; skip: number; left: number }[] = [];

  inject(rule: SapFaultRule): this {
    this.#rules.push({ rule, skip: rule.after ?? 0, left: rule.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  clear(): void {
    this.#rules = [];
  }

  take(rfm: string, poNumber?: string, only?: (f: SapFault) => boolean): SapFaultRule | undefined {
    for (const r of this.#rules) {
      if (r.left <= 0 || (only && !only(r.rule.fault)) || (!only && r.rule.fault === 'logon_failure'))
        continue;
      if (r.rule.rfm && r.rule.rfm !== rfm) continue;
      if (r.rule.poNumber && r.rule.poNumber !== poNumber) continue;
      if (r.skip > 0) {
        r.skip--;
        continue;
      }
      r.left--;
      return r.rule;
    }
    return undefined;
  }
}

/** node-rfc's connection parameters, as far as the stand-in checks them. */
export interface SapConnectionParameters {
  user?: string;
  passwd?: string;
  ashost?: string;
  sysnr?: string;
  client?: string;
  dest?: string;
  lang?: string;
}

const rfcLibError = (group: number, code: number, key: string, message: string) => ({
  name: 'RfcLibError',
  group,
  code,
  codeString: key,
  key,
  message,
});
const abapError = (
  group: number,
  code: number,
  key: string,
  message: string,
  msg: Partial<Record<string, string>> = {},
) => ({
  name: 'ABAPError',
  group,
  code,
  codeString:
    code === 3 ? 'RFC_ABAP_RUNTIME_FAILURE' : code === 4 ? 'RFC_ABAP_MESSAGE' : 'RFC_ABAP_EXCEPTION',
  key,
  message,
  abapMsgClass: msg['abapMsgClass'] ?? '',
  abapMsgType: msg['abapMsgType'] ?? 'E',
  abapMsgNumber: msg['abapMsgNumber'] ?? '000',
  abapMsgV1: msg['abapMsgV1'] ?? '',
  abapMsgV2: '',
  abapMsgV3: '',
  abapMsgV4: '',
});

/** One managed connection of the stand-in's pool. */
export class SapStandInClient {
  #alive = false;
  constructor(
    private readonly server: SapRfcStandIn,
    private readonly connection: SapConnectionParameters,
  ) {}

  get alive(): boolean {
    return this.#alive;
  }

  async open(): Promise<this> {
    this.server.logon(this.connection);
    this.#alive = true;
    return this;
  }

  async close(): Promise<void> {
    this.#alive = false;
  }

  async call(rfmName: string, params: Params, _options?: { timeout?: number }): Promise<SapStructure> {
    if (!this.#alive)
      throw rfcLibError(4, 13, 'RFC_INVALID_HANDLE', 'An invalid handle was passed to the API call');
    return this.server.dispatch(rfmName, params);
  }
}

/** The pool: `low` connections opened on first use, at most `high` leased at once (more wait). */
export class SapStandInPool {
  #ready: SapStandInClient[] = [];
  #leased = new Set<SapStandInClient>();
  #waiting: ((c: SapStandInClient) => void)[] = [];

  constructor(
    private readonly server: SapRfcStandIn,
    private readonly connection: SapConnectionParameters,
    readonly poolOptions: { low: number; high: number } = { low: 2, high: 4 },
  ) {}

  get status(): { ready: number; leased: number } {
    return { ready: this.#ready.length, leased: this.#leased.size };
  }

  async acquire(): Promise<SapStandInClient> {
    let client = this.#ready.pop();
    if (!client) {
      if (this.#leased.size >= this.poolOptions.high) {
        client = await new Promise<SapStandInClient>((resolve) => this.#waiting.push(resolve));
        this.#leased.add(client);
        return client;
      }
      client = new SapStandInClient(this.server, this.connection);
      await client.open();
    }
    this.#leased.add(client);
    return client;
  }

  async release(client: SapStandInClient): Promise<void> {
    if (!this.#leased.delete(client)) return;
    const next = this.#waiting.shift();
    if (next) {
      this.#leased.add(client);
      next(client);
      return;
    }
    if (this.#ready.length < this.poolOptions.low) this.#ready.push(client);
    else await client.close();
  }

  async closeAll(): Promise<void> {
    for (const c of [...this.#ready, ...this.#leased]) await c.close();
    this.#ready = [];
    this.#leased.clear();
  }
}

/** DDIC of the tables RFC_READ_TABLE serves: name, internal type, output length. */
const TABLES: Record<string, [string, 'C' | 'N' | 'D' | 'P', number, string][]> = {
  EKKO: [
    ['EBELN', 'C', 10, 'Purchasing Document Number'],
    ['BUKRS', 'C', 4, 'Company Code'],
    ['BSTYP', 'C', 1, 'Purchasing Document Category'],
    ['BSART', 'C', 4, 'Purchasing Document Type'],
    ['AEDAT', 'D', 8, 'Date on Which Record Was Created'],
    ['ERNAM', 'C', 12, 'Name of Person who Created the Object'],
    ['LIFNR', 'C', 10, 'Vendor Account Number'],
    ['EKORG', 'C', 4, 'Purchasing Organization'],
    ['EKGRP', 'C', 3, 'Purchasing Group'],
    ['WAERS', 'C', 5, 'Currency Key'],
    ['BEDAT', 'D', 8, 'Purchasing Document Date'],
    ['ZTERM', 'C', 4, 'Terms of Payment Key'],
    ['INCO1', 'C', 3, 'Incoterms (Part 1)'],
    ['INCO2', 'C', 28, 'Incoterms (Part 2)'],
    ['VERKF', 'C', 30, "Responsible Salesperson at Vendor's Office"],
    ['TELF1', 'C', 16, "Vendor's Telephone Number"],
    ['IHREZ', 'C', 12, 'Your Reference'],
    ['UNSEZ', 'C', 12, 'Our Reference'],
    ['KTWRT', 'P', 18, 'Target Value for Header Area per Distribution'],
    ['KDATB', 'D', 8, 'Start of Validity Period'],
    ['KDATE', 'D', 8, 'End of Validity Period'],
    ['SUBMI', 'C', 10, 'Collective Number'],
    ['ADRNR', 'C', 10, 'Address'],
    ['LPONR', 'N', 5, 'Number of Previous Item'],
    ['FRGKE', 'C', 1, 'Release Indicator'],
    ['PROCSTAT', 'C', 2, 'Purchasing document processing state'],
    ['TEXT_LONG', 'C', 255, 'Header note (stand-in: a wide field, to make rows that do not fit a WA)'],
  ],
  MARD: [
    ['MATNR', 'C', 18, 'Material Number'],
    ['WERKS', 'C', 4, 'Plant'],
    ['LGORT', 'C', 4, 'Storage Location'],
    ['LVORM', 'C', 1, 'Flag Material for Deletion at Storage Location Level'],
    ['LFGJA', 'N', 4, 'Fiscal Year of Current Period'],
    ['LFMON', 'N', 2, 'Current period (posting period)'],
    ['LABST', 'P', 17, 'Valuated Unrestricted-Use Stock'],
    ['UMLME', 'P', 17, 'Stock in transfer (from one storage location to another)'],
    ['INSME', 'P', 17, 'Stock in Quality Inspection'],
    ['EINME', 'P', 17, 'Total Stock of All Restricted Batches'],
    ['SPEME', 'P', 17, 'Blocked Stock'],
    ['RETME', 'P', 17, 'Blocked Stock Returns'],
    ['LGPBE', 'C', 10, 'Storage Bin'],
  ],
};

type Condition = { field: string; op: string; value: string };
const OPS: Record<string, (a: string, b: string) => boolean> = {
  EQ: (a, b) => a === b,
  '=': (a, b) => a === b,
  NE: (a, b) => a !== b,
  '<>': (a, b) => a !== b,
  GE: (a, b) => a >= b,
  '>=': (a, b) => a >= b,
  GT: (a, b) => a > b,
  '>': (a, b) => a > b,
  LE: (a, b) => a <= b,
  '<=': (a, b) => a <= b,
  LT: (a, b) => a < b,
  '<': (a, b) => a < b,
};

/** The subset of Open SQL WHERE the stand-in understands: `FIELD op 'literal'` joined with AND. */
function parseWhere(text: string): Condition[] {
  const conditions: Condition[] = [];
  const rest = text.trim();
  if (!rest) return conditions;
  const parts = rest.split(/\s+AND\s+/i);
  for (const part of parts) {
    const m = /^\(?\s*([A-Z0-9_]+)\s+(EQ|NE|GE|GT|LE|LT|=|<>|>=|<=|>|<)\s+'([^']*)'\s*\)?$/i.exec(
      part.trim(),
    );
    if (!m) throw abapError(1, 5, 'OPTION_NOT_VALID', 'OPTION_NOT_VALID');
    conditions.push({ field: m[1]!.toUpperCase(), op: m[2]!.toUpperCase(), value: m[3]! });
  }
  return conditions;
}

const num = (n: number, decimals: number) => n.toFixed(decimals);
/** A packed number as WRITE shows it in a WA: right-aligned, sign trailing. */
const packed = (n: number, length: number) =>
  `${Math.abs(n).toFixed(3)}${n < 0 ? '-' : ' '}`.padStart(length, ' ');

/**
 * The RFC stand-in. `pool(connection)` is what the connector gets instead of node-rfc's Pool; the
 * credentials it accepts are in `credentials`, keyed as the secret provider names them.
 */
export class SapRfcStandIn {
  readonly faults = new SapFaults();
  readonly stats = { calls: 0, byRfm: new Map<string, number>(), logons: 0 };
  readonly credentials: Readonly<Record<string, string>>;
  readonly #password: string;

  constructor(
    private readonly options: { data: ProcurementModel; clock: Clock; user?: string; password?: string },
  ) {
    this.#password = options.password ?? randomBytes(12).toString('base64url');
    this.credentials = { user: options.user ?? 'AURORA_RFC', 'sap-rfc-password': this.#password };
  }

  pool(connection: SapConnectionParameters, poolOptions?: { low: number; high: number }): SapStandInPool {
    return new SapStandInPool(this, connection, poolOptions);
  }

  /** Checks a logon the way the RFC library does when a connection opens. */
  logon(connection: SapConnectionParameters): void {
    this.stats.logons++;
    const forced = this.faults.take('RFC_LOGON', undefined, (f) => f === 'logon_failure');
    const userOk = (connection.user ?? '').toUpperCase() === this.credentials['user'];
    const given = Buffer.from(connection.passwd ?? '');
    const expected = Buffer.from(this.#password);
    const passwordOk = given.length === expected.length && timingSafeEqual(given, expected);
    if (forced || !userOk || !passwordOk)
      throw rfcLibError(3, 2, 'RFC_LOGON_FAILURE', 'Name or password is incorrect (repeat logon)');
  }

  /** One call of a function module, as the SAP system would answer it. */
  async dispatch(rfm: string, params: Params): Promise<SapStructure> {
    this.stats.calls++;
    this.stats.byRfm.set(rfm, (this.stats.byRfm.get(rfm) ?? 0) + 1);
    const poNumber = rfm === 'BAPI_PO_GETDETAIL' ? String(params['PURCHASEORDER'] ?? '') : undefined;
    const rule = this.faults.take(rfm, poNumber);
    if (rule?.fault === 'slow') await new Promise((r) => setTimeout(r, rule.delayMs ?? 2000));
    if (rule?.fault === 'communication_failure')
      throw rfcLibError(
        4,
        1,
        'RFC_COMMUNICATION_FAILURE',
        'partner 10.20.1.5:sapgw00 not reached (connection reset by peer)',
      );
    if (rule?.fault === 'abap_runtime')
      throw abapError(2, 3, 'TIME_OUT', 'Time limit exceeded.', { abapMsgClass: '00', abapMsgNumber: '341' });
    if (rule?.fault === 'abap_exception')
      throw abapError(1, 5, 'SYSTEM_FAILURE', `${rfm} raised an exception`, {
        abapMsgClass: 'M7',
        abapMsgNumber: '001',
      });
    const newField = rule?.fault === 'new_field';
    switch (rfm) {
      case 'BAPI_MATERIAL_GETLIST':
        return this.#materialList(params);
      case 'BAPI_PO_GETDETAIL':
        return this.#poDetail(params, rule?.fault === 'po_not_found', newField);
      case 'BAPI_GOODSMVT_GETITEMS':
        return this.#goodsMovements(params, newField);
      case 'RFC_READ_TABLE':
        return this.#readTable(params);
      default:
        throw rfcLibError(5, 5, 'FU_NOT_FOUND', `ID:FL Type:E Number:046 ${rfm}`);
    }
  }

  #now(): Date {
    return this.options.clock.now();
  }

  #materialList(params: Params): SapStructure {
    const max = Number(params['MAXROWS'] ?? 0);
    const matnr = (params['MATNRSELECTION'] ?? []) as SapStructure[];
    const plants = ((params['PLANTSELECTION'] ?? []) as SapStructure[]).map((p) => String(p['PLANT_LOW']));
    const matches = (id: string) =>
      matnr.length === 0 ||
      matnr.some((s) => {
        const low = String(s['MATNR_LOW'] ?? '');
        const option = String(s['OPTION'] ?? 'EQ');
        if (option === 'CP')
          return new RegExp(`^${low.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(id);
        if (option === 'BT') return id >= low && id <= String(s['MATNR_HIGH'] ?? '');
        return id === low;
      });
    const facilities = plants.map(facilityOfPlant).filter((f) => !!f);
    const rows = MATERIALS.filter(
      (m) =>
        matches(m.id) &&
        (facilities.length === 0 ||
          facilities.some((f) => this.options.data.materialsOf(f).some((s) => s.material === m))),
    )
      .slice(0, max > 0 ? max : undefined)
      .map((m) => ({
        MATERIAL: m.id,
        MATL_DESC: m.description.slice(0, 40),
        MATERIAL_EXTERNAL: '',
        MATERIAL_GUID: '',
        MATERIAL_VERSION: '',
        MATERIAL_LONG: m.id,
      }));
    return { MAXROWS: max, MATNRLIST: rows, RETURN: [] };
  }

  #poDetail(params: Params, forceNotFound: boolean, newField: boolean): SapStructure {
    const poNumber = String(params['PURCHASEORDER'] ?? '').trim();
    const po = this.options.data.purchaseOrder(poNumber);
    const now = this.#now();
    if (!po || po.createdAt > now || forceNotFound) {
      return {
        PO_HEADER: {},
        PO_ADDRESS: {},
        PO_ITEMS: [],
        PO_ITEM_SCHEDULES: [],
        PO_ITEM_HISTORY: [],
        PO_ITEM_HISTORY_TOTALS: [],
        RETURN: [
          {
            TYPE: 'E',
            CODE: '06019',
            MESSAGE: `Purchasing document ${poNumber} does not exist`,
            LOG_NO: '',
            LOG_MSG_NO: '000000',
            MESSAGE_V1: poNumber,
            MESSAGE_V2: '',
            MESSAGE_V3: '',
            MESSAGE_V4: '',
          },
        ],
      };
    }
    const wantSchedules = params['SCHEDULES'] === 'X';
    const wantHistory = params['HISTORY'] === 'X';
    const wantItems = params['ITEMS'] !== ' ' && params['ITEMS'] !== '';
    const receipts = new Map(po.items.map((i) => [i.item, this.#receiptsOf(po, i.item, now)]));
    const created = toDats(po.createdOn);
    const s = po.supplier;
    const items = po.items.map((i) => {
      const received = (receipts.get(i.item) ?? []).reduce((n, g) => n + g.quantity, 0);
      return {
        PO_NUMBER: po.poNumber,
        PO_ITEM: String(i.item).padStart(5, '0'),
        DELETE_IND: '',
        STATUS: '',
        CHANGED_ON: created,
        SHORT_TEXT: i.material.description.slice(0, 40),
        MATERIAL: i.material.id,
        PUR_MAT: i.material.id,
        CO_CODE: SAP_COMPANY_CODE,
        PLANT: po.plant,
        STORE_LOC: SAP_STORAGE_LOCATION,
        TRACKINGNO: '',
        MAT_GRP: '001',
        INFO_REC: '',
        VEND_MAT: '',
        QUANTITY: num(i.quantity, 3),
        PO_UNIT: 'ST',
        ORDERPR_UN: 'ST',
        CONV_NUM1: 1,
        CONV_DEN1: 1,
        NET_PRICE: num(i.netPrice, 4),
        PRICE_UNIT: 1,
        UNIT: 'ST',
        NET_VALUE: num(i.netPrice * i.quantity, 2),
        GROS_VALUE: num(i.netPrice * i.quantity, 2),
        ITEM_CAT: '0',
        ACCTASSCAT: '',
        GR_IND: 'X',
        IR_IND: 'X',
        GR_BASEDIV: 'X',
        DEL_COMPL: received >= i.quantity ? 'X' : '',
        ...(newField ? { ZZ_CARRIER: 'DHL Freight' } : {}),
      };
    });
    const schedules = po.items.map((i) => ({
      PO_ITEM: String(i.item).padStart(5, '0'),
      SERIAL_NO: '0001',
      DEL_DATCAT: '1',
      DELIV_DATE: toDats(i.deliveryDay),
      DELIV_TIME: '000000',
      QUANTITY: num(i.quantity, 3),
      PREQ_NO: '',
      PREQ_ITEM: '00000',
      BATCH: '',
      VEND_BATCH: '',
      RESERV_NO: '',
      VERSION: '',
    }));
    const history = po.items.flatMap((i) =>
      (receipts.get(i.item) ?? []).map((g, k) => {
        const entered = toDatsTims(g.enteredAt);
        return {
          PO_ITEM: String(i.item).padStart(5, '0'),
          SERIAL_NO: String(k + 1).padStart(2, '0'),
          PROCESS_ID: '1',
          HIST_TYPE: 'E',
          MOVE_TYPE: '101',
          PSTNG_DATE: toDats(g.postingDay),
          QUANTITY: num(g.quantity, 3),
          VAL_LOCCUR: num(g.quantity * i.netPrice, 2),
          VAL_FORCUR: num(g.quantity * i.netPrice, 2),
          CURRENCY: s.currency,
          DB_CR_IND: 'S',
          MAT_DOC: g.matDoc,
          DOC_YEAR: String(g.docYear),
          MATDOC_ITEM: '0001',
          ENTRY_DATE: entered.date,
          ENTRY_TIME: entered.time,
        };
      }),
    );
    const totals = po.items.map((i) => {
      const received = (receipts.get(i.item) ?? []).reduce((n, g) => n + g.quantity, 0);
      return {
        PO_ITEM: String(i.item).padStart(5, '0'),
        SERIAL_NO: '00',
        DELIV_QTY: num(received, 3),
        VAL_GR_LOC: num(received * i.netPrice, 2),
        IV_QTY: num(0, 3),
      };
    });
    return {
      PURCHASEORDER: po.poNumber,
      PO_HEADER: {
        PO_NUMBER: po.poNumber,
        CO_CODE: SAP_COMPANY_CODE,
        DOC_CAT: 'F',
        DOC_TYPE: 'NB',
        CNTRL_IND: '',
        DELETE_IND: '',
        STATUS: '',
        CREATED_ON: created,
        CREATED_BY: 'BUYER01',
        ITEM_INTVL: '00010',
        LAST_ITEM: String(po.items.at(-1)!.item).padStart(5, '0'),
        VENDOR: s.vendor,
        LANGUAGE: 'D',
        PMNTTRMS: '0001',
        DSCNT1_TO: '0',
        PURCH_ORG: SAP_PURCHASING_ORG,
        PUR_GROUP: SAP_PURCHASING_GROUP,
        CURRENCY: s.currency,
        EXCH_RATE: '1.00000',
        DOC_DATE: created,
        VPER_START: '00000000',
        VPER_END: '00000000',
        SALES_PERS: s.contactName.slice(0, 30),
        TELEPHONE: s.phone.slice(0, 16),
        INCOTERMS1: 'FCA',
        INCOTERMS2: 'Werk',
        REL_STATUS: '',
        VEND_NAME: s.name.slice(0, 35),
      },
      PO_ADDRESS: {
        ADDR_NO: String(s.vendorId).padStart(10, '0'),
        NAME: s.name.slice(0, 40),
        COUNTRY: s.country,
        TEL1_NUMBR: s.phone,
        E_MAIL: s.email,
      },
      PO_ITEMS: wantItems ? items : [],
      PO_ITEM_SCHEDULES: wantSchedules ? schedules : [],
      PO_ITEM_HISTORY: wantHistory ? history : [],
      PO_ITEM_HISTORY_TOTALS: wantHistory ? totals : [],
      RETURN: [],
    };
  }

  #receiptsOf(po: PurchaseOrder, item: number, now: Date): GoodsMovement[] {
    const i = po.items.find((x) => x.item === item);
    if (!i) return [];
    return this.options.data.receipts(po, i).filter((g) => g.moveType === '101' && g.enteredAt <= now);
  }

  #goodsMovements(params: Params, newField: boolean): SapStructure {
    const range = (name: string) => (params[name] ?? []) as SapStructure[];
    const dates = range('PSTNG_DATE_RA');
    if (dates.length === 0) {
      return {
        GOODSMVT_HEADER: [],
        GOODSMVT_ITEMS: [],
        RETURN: [bapiret2('E', 'M7', '899', 'Enter a posting date range (PSTNG_DATE_RA)')],
      };
    }
    const bound = (d: SapStructure, f: 'LOW' | 'HIGH') => {
      const v = String(d[f] ?? '');
      return /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6)}` : undefined;
    };
    const low = dates
      .map((d) => bound(d, 'LOW'))
      .filter((x): x is string => !!x)
      .sort()[0];
    const high =
      dates
        .map((d) => (String(d['OPTION']) === 'BT' ? bound(d, 'HIGH') : bound(d, 'LOW')))
        .filter((x): x is string => !!x)
        .sort()
        .at(-1) ?? low;
    if (!low || !high) throw abapError(1, 4, 'CONVERSION_ERROR', 'PSTNG_DATE_RA: invalid date');
    const inRange = (name: string, value: string) => {
      const r = range(name);
      return (
        r.length === 0 ||
        r.some((x) => {
          const lo = String(x['LOW'] ?? '');
          const ok =
            String(x['OPTION'] ?? 'EQ') === 'BT'
              ? value >= lo && value <= String(x['HIGH'] ?? '')
              : value === lo;
          return String(x['SIGN'] ?? 'I') === 'E' ? !ok : ok;
        })
      );
    };
    const movements = this.options.data
      .goodsMovements(low, high, this.#now())
      .filter(
        (g) =>
          inRange('PLANT_RA', g.plant) &&
          inRange('MOVE_TYPE_RA', g.moveType) &&
          inRange('MATERIAL_RA', g.material.id),
      );
    const headers = movements.map((g) => {
      const entered = toDatsTims(g.enteredAt);
      return {
        MAT_DOC: g.matDoc,
        DOC_YEAR: String(g.docYear),
        TR_EV_TYPE: g.moveType === '101' ? 'WE' : g.moveType === '261' ? 'WA' : 'WQ',
        DOC_DATE: toDats(g.postingDay),
        PSTNG_DATE: toDats(g.postingDay),
        ENTRY_DATE: entered.date,
        ENTRY_TIME: entered.time,
        USERNAME: g.moveType === '261' ? 'MES_IF' : 'WAREHOUSE01',
        VER_GR_GI_SLIP: '',
        REF_DOC_NO: g.poNumber ? `LS${g.matDoc.slice(-8)}` : '',
        HEADER_TXT: '',
      };
    });
    const items = movements.map((g) => ({
      MAT_DOC: g.matDoc,
      DOC_YEAR: String(g.docYear),
      MATDOC_ITM: '0001',
      MATERIAL: g.material.id,
      PLANT: g.plant,
      STGE_LOC: SAP_STORAGE_LOCATION,
      BATCH: '',
      MOVE_TYPE: g.moveType,
      STCK_TYPE: g.stockType,
      SPEC_STOCK: '',
      VENDOR: g.vendor ?? '',
      CUSTOMER: '',
      SALES_ORD: '',
      S_ORD_ITEM: '000000',
      ENTRY_QNT: num(g.quantity, 3),
      ENTRY_UOM: 'ST',
      ENTRY_UOM_ISO: 'PCE',
      PO_NUMBER: g.poNumber ?? '',
      PO_ITEM: g.poItem ? String(g.poItem).padStart(5, '0') : '00000',
      ORDERID: '',
      COSTCENTER: '',
      MOVE_PLANT: '',
      MOVE_STLOC: '',
      MVT_IND: g.moveType === '101' ? 'B' : '',
      MOVE_REAS: '0000',
      ITEM_TEXT: g.orderId ?? '',
      NO_MORE_GR: g.deliveryCompleted ? 'X' : '',
      RESERV_NO: '',
      RES_ITEM: '0000',
      PROFIT_CTR: '',
      CURRENCY: 'EUR',
      ...(newField ? { ZZ_CARRIER: g.moveType === '101' ? 'DHL Freight' : '' } : {}),
    }));
    return { GOODSMVT_HEADER: headers, GOODSMVT_ITEMS: items, RETURN: [] };
  }

  #readTable(params: Params): SapStructure {
    const table = String(params['QUERY_TABLE'] ?? '')
      .trim()
      .toUpperCase();
    const ddic = TABLES[table];
    if (!ddic) throw abapError(1, 5, 'TABLE_NOT_AVAILABLE', 'TABLE_NOT_AVAILABLE');
    const delimiter = String(params['DELIMITER'] ?? '');
    const requested = ((params['FIELDS'] ?? []) as SapStructure[]).map((f) =>
      String(f['FIELDNAME']).trim().toUpperCase(),
    );
    const fields = (requested.length > 0 ? requested : ddic.map((d) => d[0])).map((name) => {
      const d = ddic.find((x) => x[0] === name);
      if (!d) throw abapError(1, 5, 'FIELD_NOT_VALID', 'FIELD_NOT_VALID');
      return d;
    });
    let offset = 0;
    const fieldRows = fields.map(([name, type, length, text], i) => {
      if (i > 0) offset += delimiter.length;
      const row = {
        FIELDNAME: name,
        OFFSET: String(offset).padStart(6, '0'),
        LENGTH: String(length).padStart(6, '0'),
        TYPE: type,
        FIELDTEXT: text,
      };
      offset += length;
      return row;
    });
    if (offset > 512) throw abapError(1, 5, 'DATA_BUFFER_EXCEEDED', 'DATA_BUFFER_EXCEEDED');
    const where = ((params['OPTIONS'] ?? []) as SapStructure[]).map((o) => String(o['TEXT'] ?? '')).join(' ');
    const conditions = parseWhere(where);
    for (const c of conditions)
      if (!ddic.some((d) => d[0] === c.field)) throw abapError(1, 5, 'OPTION_NOT_VALID', 'OPTION_NOT_VALID');
    const source = table === 'EKKO' ? this.#ekko(conditions) : this.#mard();
    const rows = source.filter((r) => conditions.every((c) => OPS[c.op]!(String(r[c.field] ?? ''), c.value)));
    const skip = Number(params['ROWSKIPS'] ?? 0);
    const count = Number(params['ROWCOUNT'] ?? 0);
    const page = rows.slice(skip, count > 0 ? skip + count : undefined);
    const data = page.map((r) => ({
      WA: fields
        .map(([name, type, length]) => {
          const v = r[name] ?? (type === 'P' ? 0 : type === 'N' ? '0' : type === 'D' ? '00000000' : '');
          if (type === 'P') return packed(Number(v), length);
          if (type === 'N') return String(v).padStart(length, '0');
          return String(v).padEnd(length, ' ').slice(0, length);
        })
        .join(delimiter),
    }));
    return {
      QUERY_TABLE: table,
      DELIMITER: delimiter,
      OPTIONS: params['OPTIONS'] ?? [],
      FIELDS: fieldRows,
      DATA: data,
    };
  }

  /** EKKO rows of POs created in the AEDAT range of the WHERE clause (at most 400 days, up to today). */
  #ekko(conditions: Condition[]): Record<string, string | number>[] {
    const today = plantDayOf(this.#now());
    const day = (v: string) => `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
    // The table is read by date: lower bounds raise `from`, upper bounds lower `to`; the rows are filtered after.
    let from: string | undefined;
    let to = today;
    for (const c of conditions) {
      if ((c.field !== 'AEDAT' && c.field !== 'BEDAT') || !/^\d{8}$/.test(c.value)) continue;
      if (['GE', '>=', 'GT', '>', 'EQ', '='].includes(c.op) && (!from || day(c.value) > from))
        from = day(c.value);
      if (['LE', '<=', 'LT', '<', 'EQ', '='].includes(c.op) && day(c.value) < to) to = day(c.value);
    }
    from ??= addPlantDays(today, -30);
    if (from < addPlantDays(to, -400)) from = addPlantDays(to, -400);
    const rows: Record<string, string | number>[] = [];
    const now = this.#now();
    for (let d = from; d <= to; d = addPlantDays(d, 1)) {
      for (const po of this.options.data.purchaseOrdersCreatedOn(d)) {
        if (po.createdAt > now) continue;
        rows.push({
          EBELN: po.poNumber,
          BUKRS: SAP_COMPANY_CODE,
          BSTYP: 'F',
          BSART: 'NB',
          AEDAT: toDats(po.createdOn),
          ERNAM: 'BUYER01',
          LIFNR: po.supplier.vendor,
          EKORG: SAP_PURCHASING_ORG,
          EKGRP: SAP_PURCHASING_GROUP,
          WAERS: po.supplier.currency,
          BEDAT: toDats(po.createdOn),
          ZTERM: '0001',
          INCO1: 'FCA',
          INCO2: 'Werk',
          VERKF: po.supplier.contactName,
          TELF1: po.supplier.phone.slice(0, 16),
          ADRNR: String(po.supplier.vendorId).padStart(10, '0'),
          LPONR: String(po.items.at(-1)!.item),
          PROCSTAT: '05',
        });
      }
    }
    return rows.sort((a, b) => String(a['EBELN']).localeCompare(String(b['EBELN'])));
  }

  #mard(): Record<string, string | number>[] {
    const now = this.#now();
    const day = plantDayOf(now);
    const rows: Record<string, string | number>[] = [];
    for (const facility of Object.keys(SAP_PLANTS) as (keyof typeof SAP_PLANTS)[]) {
      for (const s of this.options.data.stockAt(facility, now)) {
        rows.push({
          MATNR: s.material.id,
          WERKS: s.plant,
          LGORT: SAP_STORAGE_LOCATION,
          LVORM: '',
          LFGJA: day.slice(0, 4),
          LFMON: day.slice(5, 7),
          LABST: s.unrestricted,
          UMLME: 0,
          INSME: s.inspection,
          EINME: 0,
          SPEME: s.blocked,
          RETME: 0,
          LGPBE: `R${s.material.id.slice(-3)}`,
        });
      }
    }
    return rows;
  }
}

function bapiret2(type: string, id: string, number: string, message: string): SapStructure {
  return {
    TYPE: type,
    ID: id,
    NUMBER: number,
    MESSAGE: message,
    LOG_NO: '',
    LOG_MSG_NO: '000000',
    MESSAGE_V1: '',
    MESSAGE_V2: '',
    MESSAGE_V3: '',
    MESSAGE_V4: '',
    PARAMETER: '',
    ROW: 0,
    FIELD: '',
    SYSTEM: 'PRDCLNT100',
  };
}
