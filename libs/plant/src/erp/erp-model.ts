import { FACILITIES, type FacilityId } from '../catalogue.js';
import { MATERIALS, type Material } from '../materials.js';
import { CUSTOMERS, FX_TO_EUR, MATERIAL_SUPPLY, SUPPLIERS } from '../parties.js';
import { type OrderPlan, type PlantModel, partsAt, scrapAmong } from '../plant-model.js';
import { hashString, unit } from '../random.js';

/**
 * A value in an ERP row: text, a number, an instant (a `Date`; the database renders it in its own zone,
 * as EBS DATE columns hold server-local wall time) or null.
 */
export type ErpValue = string | number | Date | null;
export type ErpRow = Record<string, ErpValue>;

/** `OWNER.TABLE`, e.g. `WIP.WIP_DISCRETE_JOBS`. */
export type ErpTableName = string;

/**
 * One logical change the business made. `consume` is inventory's FIFO issue from on-hand lots: the
 * database resolves it into updates and deletes of MTL_ONHAND_QUANTITIES_DETAIL rows, because which lots
 * exist is the database's state, not the model's. `unsupported` is a change LogMiner cannot render as SQL.
 */
export type ErpOp =
  | { kind: 'insert'; table: ErpTableName; row: ErpRow }
  | { kind: 'update'; table: ErpTableName; key: ErpRow; set: ErpRow }
  | { kind: 'delete'; table: ErpTableName; key: ErpRow }
  | {
      kind: 'consume';
      organizationId: number;
      inventoryItemId: number;
      quantity: number;
      transactionId: number;
      at: Date;
    }
  | { kind: 'unsupported'; table: ErpTableName; info: string };

/** One database transaction: started, its changes, then committed or rolled back. */
export interface ErpTransaction {
  /** Unique and stable: what happened (`wip-complete:<order>`), so the same window gives the same list. */
  id: string;
  startMs: number;
  /** When it commits or rolls back; some sales-order entries stay open for minutes. */
  endMs: number;
  outcome: 'commit' | 'rollback';
  /** FND_USER id of the one who made it (LAST_UPDATED_BY). */
  userId: number;
  ops: ErpOp[];
}

export interface ErpOrganization {
  organizationId: number;
  code: string;
  /** The plant it is, or null for the item master organization. */
  facilityId: FacilityId | null;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const EPOCH_2020 = Date.UTC(2020, 0, 1);
/** When the master data was created in EBS (go-live). */
const GO_LIVE = new Date(Date.UTC(2021, 2, 1, 7, 0, 0));

/** FND_USER ids of the accounts that change data. */
export const ERP_USERS = {
  sysadmin: 0,
  mfg: 1013,
  orderEntry: 1021,
  shipping: 1022,
  pricing: 1031,
  crm: 1041,
};

export const ERP_ORGANIZATIONS: readonly ErpOrganization[] = [
  { organizationId: 100, code: 'MST', facilityId: null },
  ...FACILITIES.map((f, i) => ({
    organizationId: 101 + i,
    code: f.prefix.toUpperCase(),
    facilityId: f.id,
  })),
];

export const organizationOf = (facilityId: FacilityId): ErpOrganization =>
  ERP_ORGANIZATIONS.find((o) => o.facilityId === facilityId)!;

/** INVENTORY_ITEM_ID of a material (AUR-10023 → the same id in every organization). */
export const inventoryItemId = (materialId: string): number => {
  const index = MATERIALS.findIndex((m) => m.id === materialId);
  if (index < 0) throw new Error(`unknown material ${materialId}`);
  return 200_000 + index;
};

/** Components per assembly (the plants' bills of material), quantities per assembly. */
const BOMS: Record<string, [string, number][]> = {
  'AUR-10051': [['AUR-10014', 1]],
  'AUR-10052': [['AUR-10012', 1]],
  'AUR-10053': [['AUR-10041', 1]],
  'AUR-10054': [['AUR-10011', 2]],
  'AUR-10061': [
    ['AUR-10021', 1],
    ['AUR-10031', 2],
    ['AUR-10033', 4],
  ],
  'AUR-10062': [
    ['AUR-10024', 1],
    ['AUR-10032', 1],
  ],
  'AUR-10063': [
    ['AUR-10022', 1],
    ['AUR-10034', 4],
  ],
  'AUR-10064': [
    ['AUR-10042', 1],
    ['AUR-10013', 1],
  ],
};

const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
/** The EUR list price of a material: cost plus margin. */
const basePrice = (m: Material) => round2((2 + m.idealCycleTimeS * 0.35) * 1.6);

/** A long item text, from a few hundred to several thousand characters (LogMiner splits it over rows). */
export function longDescription(material: Material, revision: number): string {
  const paragraph =
    `${material.description} (${material.id}), revision ${revision}. Checked characteristic ` +
    `${material.characteristic.id}: nominal ${material.characteristic.nominal} mm, tolerance ±` +
    `${material.characteristic.tolerance} mm. Handling: keep dry, stack at most 4 high, ` +
    `protect machined faces. Customer's note: "don't mix lots". `;
  const repeats = 1 + ((hashString(material.id) + revision * 7) % 40);
  return paragraph.repeat(repeats).trimEnd();
}

const whoInsert = (at: Date, userId: number): ErpRow => ({
  CREATED_BY: userId,
  CREATION_DATE: at,
  LAST_UPDATED_BY: userId,
  LAST_UPDATE_DATE: at,
  LAST_UPDATE_LOGIN: userId * 10,
});
const whoUpdate = (at: Date, userId: number): ErpRow => ({
  LAST_UPDATED_BY: userId,
  LAST_UPDATE_DATE: at,
  LAST_UPDATE_LOGIN: userId * 10 + 1,
});

/**
 * The ERP side of the plant, deterministic for the plant model's seed: the master data EBS holds and
 * the transactions the business commits over time. Production orders come from the plant model (the MES
 * order id is the WIP job name), sales orders arrive and ship, on-hand stock moves with them, prices and
 * customer contacts change now and then, and once in a while a transaction is rolled back. Every
 * transaction is a pure function of (seed, what happened), so `transactions(a, c)` equals
 * `transactions(a, b)` followed by `transactions(b, c)`.
 */
export class ErpModel {
  readonly seed: number;

  constructor(readonly plant: PlantModel) {
    this.seed = plant.seed;
  }

  /** The rows every table holds from go-live on (master data and the opening stock). */
  masterData(atMs: number): Record<ErpTableName, ErpRow[]> {
    const who = whoInsert(GO_LIVE, ERP_USERS.sysadmin);
    const out: Record<ErpTableName, ErpRow[]> = {};
    const add = (table: string, row: ErpRow) => {
      const rows = out[table] ?? [];
      out[table] = rows;
      rows.push({ ...row, ...who });
    };
    for (const org of ERP_ORGANIZATIONS) {
      add('INV.MTL_PARAMETERS', {
        ORGANIZATION_ID: org.organizationId,
        ORGANIZATION_CODE: org.code,
        MASTER_ORGANIZATION_ID: 100,
        CALENDAR_CODE: 'AUR-DE-BY',
        PRIMARY_COST_METHOD: 1,
        ATTRIBUTE1: org.facilityId,
      });
    }
    for (const supply of MATERIAL_SUPPLY) {
      const m = supply.material;
      for (const org of ERP_ORGANIZATIONS) {
        add('INV.MTL_SYSTEM_ITEMS_B', {
          INVENTORY_ITEM_ID: inventoryItemId(m.id),
          ORGANIZATION_ID: org.organizationId,
          SEGMENT1: m.id,
          DESCRIPTION: m.description,
          LONG_DESCRIPTION: longDescription(m, 0),
          PRIMARY_UOM_CODE: 'Ea',
          ITEM_TYPE: BOMS[m.id] ? 'FG' : 'SA',
          INVENTORY_ITEM_STATUS_CODE: 'Active',
          PLANNING_MAKE_BUY_CODE: 1,
          LIST_PRICE_PER_UNIT: basePrice(m),
          MIN_MINMAX_QUANTITY: supply.minStock,
          MAX_MINMAX_QUANTITY: supply.maxStock,
          FIXED_LEAD_TIME: supply.supplier.leadTimeDays,
          ATTRIBUTE1: m.kind,
        });
      }
    }
    let onhandId = 1;
    for (const org of ERP_ORGANIZATIONS) {
      if (org.facilityId === null) continue;
      for (const supply of MATERIAL_SUPPLY) {
        const itemId = inventoryItemId(supply.material.id);
        for (let lot = 0; lot < 3; lot++) {
          const u = unit(this.seed, hashString(`onhand.${org.code}.${itemId}`), lot);
          const qty = Math.round((supply.minStock / 3) * (0.8 + u));
          const received = new Date(atMs - (3 - lot) * 7 * DAY_MS);
          add('INV.MTL_ONHAND_QUANTITIES_DETAIL', {
            ONHAND_QUANTITIES_ID: onhandId++,
            INVENTORY_ITEM_ID: itemId,
            ORGANIZATION_ID: org.organizationId,
            SUBINVENTORY_CODE: 'STORES',
            LOCATOR_ID: null,
            LOT_NUMBER: `OPEN-${org.code}-${itemId}-${lot + 1}`,
            PRIMARY_TRANSACTION_QUANTITY: qty,
            TRANSACTION_QUANTITY: qty,
            DATE_RECEIVED: received,
            CREATE_TRANSACTION_ID: null,
            UPDATE_TRANSACTION_ID: null,
          });
        }
      }
    }
    ERP_ORGANIZATIONS.slice(1).forEach((org, orgIndex) => {
      Object.entries(BOMS).forEach(([assembly, components], assemblyIndex) => {
        const billId = 1000 + orgIndex * 100 + assemblyIndex;
        add('BOM.BOM_STRUCTURES_B', {
          BILL_SEQUENCE_ID: billId,
          ASSEMBLY_ITEM_ID: inventoryItemId(assembly),
          ORGANIZATION_ID: org.organizationId,
          ALTERNATE_BOM_DESIGNATOR: null,
          ASSEMBLY_TYPE: 1,
          COMMON_BILL_SEQUENCE_ID: billId,
        });
        components.forEach(([component, qty], n) => {
          add('BOM.BOM_COMPONENTS_B', {
            COMPONENT_SEQUENCE_ID: billId * 10 + n,
            BILL_SEQUENCE_ID: billId,
            COMPONENT_ITEM_ID: inventoryItemId(component),
            ITEM_NUM: (n + 1) * 10,
            OPERATION_SEQ_NUM: 10,
            COMPONENT_QUANTITY: qty,
            COMPONENT_YIELD_FACTOR: 1,
            EFFECTIVITY_DATE: GO_LIVE,
            DISABLE_DATE: null,
            WIP_SUPPLY_TYPE: 1,
          });
        });
      });
    });
    for (const c of CUSTOMERS) {
      add('AR.HZ_PARTIES', {
        PARTY_ID: c.partyId,
        PARTY_NUMBER: String(c.partyId),
        PARTY_NAME: c.name,
        PARTY_TYPE: 'ORGANIZATION',
        PERSON_FIRST_NAME: null,
        PERSON_LAST_NAME: null,
        EMAIL_ADDRESS: null,
        PRIMARY_PHONE_NUMBER: null,
        COUNTRY: c.country,
        STATUS: 'A',
      });
      const [first, ...last] = c.contactName.split(' ');
      add('AR.HZ_PARTIES', {
        PARTY_ID: contactPartyId(c.partyId),
        PARTY_NUMBER: String(contactPartyId(c.partyId)),
        PARTY_NAME: c.contactName,
        PARTY_TYPE: 'PERSON',
        PERSON_FIRST_NAME: first ?? null,
        PERSON_LAST_NAME: last.join(' ') || null,
        EMAIL_ADDRESS: c.email,
        PRIMARY_PHONE_NUMBER: c.phone,
        COUNTRY: c.country,
        STATUS: 'A',
      });
      add('AR.HZ_CUST_ACCOUNTS', {
        CUST_ACCOUNT_ID: c.custAccountId,
        PARTY_ID: c.partyId,
        ACCOUNT_NUMBER: c.accountNumber,
        ACCOUNT_NAME: c.name,
        STATUS: 'A',
        CUSTOMER_TYPE: 'R',
        ATTRIBUTE1: String(contactPartyId(c.partyId)),
      });
    }
    SUPPLIERS.forEach((s, i) => {
      add('AP.AP_SUPPLIERS', {
        VENDOR_ID: s.vendorId,
        VENDOR_NAME: s.name,
        SEGMENT1: s.vendor,
        VENDOR_TYPE_LOOKUP_CODE: 'VENDOR',
        INVOICE_CURRENCY_CODE: s.currency,
        PAYMENT_CURRENCY_CODE: s.currency,
        ENABLED_FLAG: 'Y',
        ATTRIBUTE1: s.country,
      });
      const [first, ...last] = s.contactName.split(' ');
      add('AP.AP_SUPPLIER_CONTACTS', {
        VENDOR_CONTACT_ID: 40_000 + i,
        VENDOR_ID: s.vendorId,
        FIRST_NAME: first ?? null,
        LAST_NAME: last.join(' ') || null,
        EMAIL_ADDRESS: s.email,
        PHONE: s.phone,
      });
    });
    CURRENCIES.forEach((currency, i) => {
      const listHeaderId = 7000 + i;
      add('QP.QP_LIST_HEADERS_B', {
        LIST_HEADER_ID: listHeaderId,
        LIST_TYPE_CODE: 'PRL',
        CURRENCY_CODE: currency,
        ROUNDING_FACTOR: -2,
        START_DATE_ACTIVE: GO_LIVE,
        END_DATE_ACTIVE: null,
        ACTIVE_FLAG: 'Y',
        ATTRIBUTE1: `AURORA ${currency} LIST`,
      });
      MATERIALS.forEach((m, j) => {
        add('QP.QP_LIST_LINES', {
          LIST_LINE_ID: listHeaderId * 100 + j,
          LIST_HEADER_ID: listHeaderId,
          LIST_LINE_TYPE_CODE: 'PLL',
          ARITHMETIC_OPERATOR: 'UNIT_PRICE',
          OPERAND: round2(basePrice(m) / FX_TO_EUR[currency]),
          PRODUCT_ATTR_VALUE: String(inventoryItemId(m.id)),
          START_DATE_ACTIVE: GO_LIVE,
          END_DATE_ACTIVE: null,
        });
      });
    });
    return out;
  }

  /** The transactions that start in [fromMs, toMs), by start time (id breaks ties). */
  transactions(fromMs: number, toMs: number): ErpTransaction[] {
    const out: ErpTransaction[] = [];
    const inWindow = (ms: number) => ms >= fromMs && ms < toMs;
    const seen = new Set<string>();
    for (const machine of this.plant.catalogue.machines) {
      const orders = this.plant.orders(machine.id, new Date(fromMs - DAY_MS), new Date(toMs + 4 * HOUR_MS));
      for (const order of orders) {
        if (seen.has(order.orderId)) continue;
        seen.add(order.orderId);
        if (inWindow(order.releasedAtMs)) out.push(this.#release(order));
        if (inWindow(order.actualStartMs) && BOMS[order.material.id]) out.push(this.#issue(order));
        if (inWindow(order.actualEndMs)) out.push(this.#complete(order));
      }
    }
    for (let hour = Math.floor(fromMs / HOUR_MS) - 30; hour * HOUR_MS < toMs; hour++) {
      ERP_ORGANIZATIONS.slice(1).forEach((org, orgIndex) => {
        for (const tx of this.#salesOrderLife(org, orgIndex, hour)) if (inWindow(tx.startMs)) out.push(tx);
      });
    }
    for (let day = Math.floor(fromMs / DAY_MS); day * DAY_MS < toMs; day++) {
      for (const tx of this.#daily(day)) if (inWindow(tx.startMs)) out.push(tx);
    }
    return out.sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  #u(stream: string, index: number): number {
    return unit(this.seed, hashString(stream), index);
  }

  #release(order: OrderPlan): ErpTransaction {
    const id = wipEntityId(order, this.plant);
    const org = organizationOf(order.facilityId).organizationId;
    const at = new Date(order.releasedAtMs);
    const item = inventoryItemId(order.material.id);
    return {
      id: `wip-release:${order.orderId}`,
      startMs: order.releasedAtMs,
      endMs: order.releasedAtMs + 1000 + Math.floor(this.#u('erp.release', id) * 4000),
      outcome: 'commit',
      userId: ERP_USERS.mfg,
      ops: [
        {
          kind: 'insert',
          table: 'WIP.WIP_ENTITIES',
          row: {
            WIP_ENTITY_ID: id,
            ORGANIZATION_ID: org,
            WIP_ENTITY_NAME: order.orderId,
            ENTITY_TYPE: 1,
            DESCRIPTION: `${order.material.description} on ${order.machineId}`,
            PRIMARY_ITEM_ID: item,
            ...whoInsert(at, ERP_USERS.mfg),
          },
        },
        {
          kind: 'insert',
          table: 'WIP.WIP_DISCRETE_JOBS',
          row: {
            WIP_ENTITY_ID: id,
            ORGANIZATION_ID: org,
            PRIMARY_ITEM_ID: item,
            STATUS_TYPE: 3,
            JOB_TYPE: 1,
            CLASS_CODE: 'Discrete',
            START_QUANTITY: order.plannedQty,
            NET_QUANTITY: order.plannedQty,
            QUANTITY_COMPLETED: 0,
            QUANTITY_SCRAPPED: 0,
            SCHEDULED_START_DATE: new Date(order.plannedStartMs),
            SCHEDULED_COMPLETION_DATE: new Date(order.plannedEndMs),
            DATE_RELEASED: at,
            DATE_COMPLETED: null,
            DATE_CLOSED: null,
            DESCRIPTION: order.material.description,
            ATTRIBUTE1: order.machineId,
            ...whoInsert(at, ERP_USERS.mfg),
          },
        },
      ],
    };
  }

  /** Backflush of the components at the job's start (WIP component issue, type 35). */
  #issue(order: OrderPlan): ErpTransaction {
    const id = wipEntityId(order, this.plant);
    const org = organizationOf(order.facilityId).organizationId;
    const at = new Date(order.actualStartMs);
    const ops: ErpOp[] = [];
    BOMS[order.material.id]!.forEach(([component, qty], n) => {
      const transactionId = id * 10 + 2 + n;
      const item = inventoryItemId(component);
      const quantity = order.plannedQty * qty;
      ops.push(
        {
          kind: 'insert',
          table: 'INV.MTL_MATERIAL_TRANSACTIONS',
          row: materialTransaction({
            transactionId,
            item,
            org,
            typeId: 35,
            actionId: 1,
            sourceTypeId: 5,
            sourceId: id,
            quantity: -quantity,
            at,
            cost: basePrice(MATERIALS.find((m) => m.id === component)!) / 1.6,
            reference: `WIP issue ${order.orderId}`,
            sourceLineId: null,
          }),
        },
        { kind: 'consume', organizationId: org, inventoryItemId: item, quantity, transactionId, at },
      );
    });
    return {
      id: `wip-issue:${order.orderId}`,
      startMs: order.actualStartMs,
      endMs: order.actualStartMs + 500 + Math.floor(this.#u('erp.issue', id) * 2000),
      outcome: 'commit',
      userId: ERP_USERS.mfg,
      ops,
    };
  }

  #complete(order: OrderPlan): ErpTransaction {
    const id = wipEntityId(order, this.plant);
    const org = organizationOf(order.facilityId).organizationId;
    const at = new Date(order.actualEndMs);
    const parts = partsAt(order, order.actualEndMs);
    const scrap = scrapAmong(order, parts);
    const total = { good: parts - scrap, scrap };
    const item = inventoryItemId(order.material.id);
    const transactionId = id * 10 + 1;
    return {
      id: `wip-complete:${order.orderId}`,
      startMs: order.actualEndMs,
      endMs: order.actualEndMs + 800 + Math.floor(this.#u('erp.complete', id) * 3000),
      outcome: 'commit',
      userId: ERP_USERS.mfg,
      ops: [
        {
          kind: 'update',
          table: 'WIP.WIP_DISCRETE_JOBS',
          key: { WIP_ENTITY_ID: id },
          set: {
            STATUS_TYPE: 4,
            QUANTITY_COMPLETED: total.good,
            QUANTITY_SCRAPPED: total.scrap,
            DATE_COMPLETED: at,
            ...whoUpdate(at, ERP_USERS.mfg),
          },
        },
        {
          kind: 'insert',
          table: 'INV.MTL_MATERIAL_TRANSACTIONS',
          row: materialTransaction({
            transactionId,
            item,
            org,
            typeId: 44,
            actionId: 31,
            sourceTypeId: 5,
            sourceId: id,
            quantity: total.good,
            at,
            cost: basePrice(order.material) / 1.6,
            reference: `WIP completion ${order.orderId}`,
            sourceLineId: null,
          }),
        },
        {
          kind: 'insert',
          table: 'INV.MTL_ONHAND_QUANTITIES_DETAIL',
          row: {
            ONHAND_QUANTITIES_ID: id * 10 + 5,
            INVENTORY_ITEM_ID: item,
            ORGANIZATION_ID: org,
            SUBINVENTORY_CODE: 'FGI',
            LOCATOR_ID: null,
            LOT_NUMBER: order.orderId,
            PRIMARY_TRANSACTION_QUANTITY: total.good,
            TRANSACTION_QUANTITY: total.good,
            DATE_RECEIVED: at,
            CREATE_TRANSACTION_ID: transactionId,
            UPDATE_TRANSACTION_ID: transactionId,
            ...whoInsert(at, ERP_USERS.mfg),
          },
        },
      ],
    };
  }

  /**
   * A sales order that may arrive in `hour` at `org`: its entry (open for up to four minutes), now and
   * then a line deleted soon after, its shipment hours later; or an entry abandoned (rolled back).
   */
  #salesOrderLife(org: ErpOrganization, orgIndex: number, hour: number): ErpTransaction[] {
    const stream = `erp.so.${org.code}`;
    const arrives = this.#u(stream, hour * 8);
    const out: ErpTransaction[] = [];
    const headerId = 1_000_000 + (hour - Math.floor(EPOCH_2020 / HOUR_MS)) * 4 + orgIndex;
    const startMs = hour * HOUR_MS + Math.floor(this.#u(stream, hour * 8 + 1) * HOUR_MS);
    if (arrives >= 0.75) {
      if (arrives < 0.82) {
        // Someone starts an order and abandons it: the redo has its inserts, then a ROLLBACK.
        const at = new Date(startMs);
        out.push({
          id: `so-abandoned:${headerId}`,
          startMs,
          endMs: startMs + 20_000 + Math.floor(this.#u(stream, hour * 8 + 2) * 60_000),
          outcome: 'rollback',
          userId: ERP_USERS.orderEntry,
          ops: [
            {
              kind: 'insert',
              table: 'ONT.OE_ORDER_HEADERS_ALL',
              row: this.#header(headerId + 9_000_000, org, CUSTOMERS[0]!, at, 'ENTERED'),
            },
          ],
        });
      }
      return out;
    }
    const customer = CUSTOMERS[Math.floor(this.#u(stream, hour * 8 + 3) * CUSTOMERS.length)]!;
    const made = MATERIALS.filter((m) =>
      this.plant.catalogue.machines.some((x) => x.facilityId === org.facilityId && x.kind === m.kind),
    );
    const lineCount = 1 + Math.floor(this.#u(stream, hour * 8 + 4) * 4);
    const at = new Date(startMs);
    const lines: ErpRow[] = [];
    for (let n = 1; n <= lineCount; n++) {
      const material = made[Math.floor(this.#u(`${stream}.item`, hour * 8 + n) * made.length)]!;
      const qty = 5 * (1 + Math.floor(this.#u(`${stream}.qty`, hour * 8 + n) * 20));
      const listPrice = round2(basePrice(material) / FX_TO_EUR[customer.currency]);
      lines.push({
        LINE_ID: headerId * 10 + n,
        HEADER_ID: headerId,
        ORG_ID: org.organizationId,
        LINE_NUMBER: n,
        SHIPMENT_NUMBER: 1,
        INVENTORY_ITEM_ID: inventoryItemId(material.id),
        SHIP_FROM_ORG_ID: org.organizationId,
        ORDERED_QUANTITY: qty,
        ORDER_QUANTITY_UOM: 'Ea',
        UNIT_SELLING_PRICE: round4(listPrice * (1 - 0.05 * this.#u(`${stream}.disc`, hour * 8 + n))),
        UNIT_LIST_PRICE: listPrice,
        SHIPPED_QUANTITY: null,
        FLOW_STATUS_CODE: 'AWAITING_SHIPPING',
        OPEN_FLAG: 'Y',
        CANCELLED_FLAG: 'N',
        REQUEST_DATE: new Date(startMs + 2 * DAY_MS),
        SCHEDULE_SHIP_DATE: new Date(startMs + DAY_MS),
        ACTUAL_SHIPMENT_DATE: null,
        ...whoInsert(at, ERP_USERS.orderEntry),
      });
    }
    out.push({
      id: `so-entry:${headerId}`,
      startMs,
      endMs: startMs + 30_000 + Math.floor(this.#u(stream, hour * 8 + 5) * 210_000),
      outcome: 'commit',
      userId: ERP_USERS.orderEntry,
      ops: [
        {
          kind: 'insert',
          table: 'ONT.OE_ORDER_HEADERS_ALL',
          row: this.#header(headerId, org, customer, at, 'BOOKED'),
        },
        ...lines.map((row): ErpOp => ({ kind: 'insert', table: 'ONT.OE_ORDER_LINES_ALL', row })),
      ],
    });
    let shipped = lines;
    if (lineCount > 1 && this.#u(stream, hour * 8 + 6) < 0.25) {
      // The customer drops the last line soon after entry.
      const dropMs = startMs + 10 * 60_000 + Math.floor(this.#u(stream, hour * 8 + 7) * 50 * 60_000);
      const dropped = lines.at(-1)!;
      shipped = lines.slice(0, -1);
      out.push({
        id: `so-line-delete:${dropped['LINE_ID']}`,
        startMs: dropMs,
        endMs: dropMs + 1500,
        outcome: 'commit',
        userId: ERP_USERS.orderEntry,
        ops: [{ kind: 'delete', table: 'ONT.OE_ORDER_LINES_ALL', key: { LINE_ID: dropped['LINE_ID']! } }],
      });
    }
    const shipMs = startMs + 4 * HOUR_MS + Math.floor(this.#u(`${stream}.ship`, hour) * 22 * HOUR_MS);
    const shipAt = new Date(shipMs);
    const ops: ErpOp[] = [];
    for (const line of shipped) {
      const lineId = line['LINE_ID'] as number;
      const qty = line['ORDERED_QUANTITY'] as number;
      ops.push(
        {
          kind: 'update',
          table: 'ONT.OE_ORDER_LINES_ALL',
          key: { LINE_ID: lineId },
          set: {
            SHIPPED_QUANTITY: qty,
            FLOW_STATUS_CODE: 'SHIPPED',
            ACTUAL_SHIPMENT_DATE: shipAt,
            ...whoUpdate(shipAt, ERP_USERS.shipping),
          },
        },
        {
          kind: 'insert',
          table: 'INV.MTL_MATERIAL_TRANSACTIONS',
          row: materialTransaction({
            transactionId: lineId * 10 + 1,
            item: line['INVENTORY_ITEM_ID'] as number,
            org: org.organizationId,
            typeId: 33,
            actionId: 1,
            sourceTypeId: 2,
            sourceId: headerId,
            quantity: -qty,
            at: shipAt,
            cost: line['UNIT_LIST_PRICE'] as number,
            reference: `SO ${headerId - 1_000_000 + 60_000_000}`,
            sourceLineId: lineId,
          }),
        },
        {
          kind: 'consume',
          organizationId: org.organizationId,
          inventoryItemId: line['INVENTORY_ITEM_ID'] as number,
          quantity: qty,
          transactionId: lineId * 10 + 1,
          at: shipAt,
        },
      );
    }
    ops.push({
      kind: 'update',
      table: 'ONT.OE_ORDER_HEADERS_ALL',
      key: { HEADER_ID: headerId },
      set: { FLOW_STATUS_CODE: 'CLOSED', OPEN_FLAG: 'N', ...whoUpdate(shipAt, ERP_USERS.shipping) },
    });
    out.push({
      id: `so-ship:${headerId}`,
      startMs: shipMs,
      endMs: shipMs + 2000 + Math.floor(this.#u(`${stream}.ship`, hour + 1) * 8000),
      outcome: 'commit',
      userId: ERP_USERS.shipping,
      ops,
    });
    return out;
  }

  #header(
    headerId: number,
    org: ErpOrganization,
    customer: (typeof CUSTOMERS)[number],
    at: Date,
    status: string,
  ): ErpRow {
    return {
      HEADER_ID: headerId,
      ORG_ID: org.organizationId,
      ORDER_NUMBER: headerId - 1_000_000 + 60_000_000,
      ORDER_TYPE_ID: 1430,
      SOLD_TO_ORG_ID: customer.custAccountId,
      SHIP_FROM_ORG_ID: org.organizationId,
      ORDERED_DATE: at,
      REQUEST_DATE: new Date(at.getTime() + 2 * DAY_MS),
      FLOW_STATUS_CODE: status,
      TRANSACTIONAL_CURR_CODE: customer.currency,
      CUST_PO_NUMBER: `PO-${customer.accountNumber}-${headerId % 100_000}`,
      BOOKED_FLAG: status === 'BOOKED' ? 'Y' : 'N',
      OPEN_FLAG: 'Y',
      SHIPPING_INSTRUCTIONS: `Deliver to ${customer.name}, gate 3; call ${customer.contactName} before arrival.`,
      ...whoInsert(at, ERP_USERS.orderEntry),
    };
  }

  /** Once a day: a price change, a revised item text (a CLOB), a customer contact update, an unsupported change. */
  #daily(day: number): ErpTransaction[] {
    const out: ErpTransaction[] = [];
    const material = MATERIALS[day % MATERIALS.length]!;
    const item = inventoryItemId(material.id);
    const priceAt = new Date(day * DAY_MS + 2 * HOUR_MS);
    const factor = 1 + 0.01 * (1 + Math.floor(this.#u('erp.price', day) * 3));
    const newPrice = round2(basePrice(material) * factor);
    out.push({
      id: `price:${day}`,
      startMs: priceAt.getTime(),
      endMs: priceAt.getTime() + 3000,
      outcome: 'commit',
      userId: ERP_USERS.pricing,
      ops: [
        ...ERP_ORGANIZATIONS.map(
          (org): ErpOp => ({
            kind: 'update',
            table: 'INV.MTL_SYSTEM_ITEMS_B',
            key: { INVENTORY_ITEM_ID: item, ORGANIZATION_ID: org.organizationId },
            set: { LIST_PRICE_PER_UNIT: newPrice, ...whoUpdate(priceAt, ERP_USERS.pricing) },
          }),
        ),
        ...CURRENCIES.map(
          (currency, i): ErpOp => ({
            kind: 'update',
            table: 'QP.QP_LIST_LINES',
            key: { LIST_LINE_ID: (7000 + i) * 100 + MATERIALS.indexOf(material) },
            set: {
              OPERAND: round2(newPrice / FX_TO_EUR[currency]),
              ...whoUpdate(priceAt, ERP_USERS.pricing),
            },
          }),
        ),
      ],
    });
    const textMaterial = MATERIALS[(day * 7) % MATERIALS.length]!;
    const textAt = day * DAY_MS + 4 * HOUR_MS + 17 * 60_000;
    out.push({
      id: `item-text:${day}`,
      startMs: textAt,
      endMs: textAt + 1200,
      outcome: 'commit',
      userId: ERP_USERS.mfg,
      ops: [
        {
          kind: 'update',
          table: 'INV.MTL_SYSTEM_ITEMS_B',
          key: { INVENTORY_ITEM_ID: inventoryItemId(textMaterial.id), ORGANIZATION_ID: 100 },
          set: {
            LONG_DESCRIPTION: longDescription(textMaterial, day),
            ...whoUpdate(new Date(textAt), ERP_USERS.mfg),
          },
        },
      ],
    });
    const customer = CUSTOMERS[day % CUSTOMERS.length]!;
    const crmAt = day * DAY_MS + 9 * HOUR_MS + Math.floor(this.#u('erp.crm', day) * 6 * HOUR_MS);
    const [local, domain] = customer.email.split('@');
    out.push({
      id: `crm:${day}`,
      startMs: crmAt,
      endMs: crmAt + 2500,
      outcome: 'commit',
      userId: ERP_USERS.crm,
      ops: [
        {
          kind: 'update',
          table: 'AR.HZ_PARTIES',
          key: { PARTY_ID: contactPartyId(customer.partyId) },
          set: {
            EMAIL_ADDRESS: `${local}.${day % 100}@${domain}`,
            PRIMARY_PHONE_NUMBER: `${customer.phone.split(' ')[0]} ${String(Math.floor(this.#u('erp.crm.phone', day) * 1e8)).padStart(8, '0')}`,
            ...whoUpdate(new Date(crmAt), ERP_USERS.crm),
          },
        },
      ],
    });
    const oddAt = day * DAY_MS + 3 * HOUR_MS + 33 * 60_000;
    out.push({
      id: `unsupported:${day}`,
      startMs: oddAt,
      endMs: oddAt + 500,
      outcome: 'commit',
      userId: ERP_USERS.mfg,
      ops: [
        {
          kind: 'unsupported',
          table: 'INV.MTL_MATERIAL_TRANSACTIONS',
          info: 'Unsupported (Compressed segment: advanced row compression)',
        },
      ],
    });
    return out;
  }
}

/** The PERSON party of a customer's buyer. */
export const contactPartyId = (organizationPartyId: number): number => organizationPartyId + 40_000;

/** WIP_ENTITY_ID of a production order: stable, from the MES order id (`aug-m07-20261123-E01`). */
export function wipEntityId(order: OrderPlan, plant: PlantModel): number {
  const m = /-(\d{4})(\d{2})(\d{2})-([A-Za-z])(\d{2})$/.exec(order.orderId);
  if (!m) throw new Error(`unexpected order id ${order.orderId}`);
  const day = Math.floor((Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - EPOCH_2020) / DAY_MS);
  const machineIndex = plant.catalogue.machines.findIndex((x) => x.id === order.machineId);
  const shiftIndex = 'eln'.indexOf(m[4]!.toLowerCase());
  return day * 100_000 + machineIndex * 1000 + Math.max(0, shiftIndex) * 100 + Number(m[5]);
}

function materialTransaction(t: {
  transactionId: number;
  item: number;
  org: number;
  typeId: number;
  actionId: number;
  sourceTypeId: number;
  sourceId: number;
  quantity: number;
  at: Date;
  cost: number;
  reference: string;
  sourceLineId: number | null;
}): ErpRow {
  return {
    TRANSACTION_ID: t.transactionId,
    INVENTORY_ITEM_ID: t.item,
    ORGANIZATION_ID: t.org,
    SUBINVENTORY_CODE: t.typeId === 44 ? 'FGI' : 'STORES',
    TRANSACTION_TYPE_ID: t.typeId,
    TRANSACTION_ACTION_ID: t.actionId,
    TRANSACTION_SOURCE_TYPE_ID: t.sourceTypeId,
    TRANSACTION_SOURCE_ID: t.sourceId,
    TRANSACTION_QUANTITY: t.quantity,
    TRANSACTION_UOM: 'Ea',
    PRIMARY_QUANTITY: t.quantity,
    TRANSACTION_DATE: new Date(Math.floor(t.at.getTime() / 1000) * 1000),
    ACTUAL_COST: round4(t.cost),
    TRANSACTION_REFERENCE: t.reference,
    SOURCE_LINE_ID: t.sourceLineId,
    COSTED_FLAG: 'N',
    EVENT_TIMESTAMP: t.at,
    ...whoInsert(t.at, ERP_USERS.mfg),
  };
}
