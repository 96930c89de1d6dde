import { DateTime } from 'luxon';
import { type Catalogue, catalogue as defaultCatalogue, type FacilityId } from './catalogue.js';
import type { Material } from './materials.js';
import { MATERIAL_SUPPLY, type MaterialSupply, SUPPLIERS, type Supplier } from './parties.js';
import type { OrderPlan, PlantModel } from './plant-model.js';
import { hashString, unit } from './random.js';
import { PLANT_TIME_ZONE, plantDayBounds, plantDayOf } from './shift-calendar.js';

/**
 * Procurement and warehouse as SAP MM sees them, deterministic for the plant model's seed: purchase
 * orders (EKKO/EKPO/EKET), goods receipts against them (movement type 101, partial and late deliveries,
 * some entered a day after their posting date), goods issues to the plant model's production orders
 * (261), and the storage-location stock (MARD) that follows from them. The SAP RFC stand-in serves it;
 * the truth functions at the end are what the medallion's reconcile compares gold against.
 *
 * The policy is a plant's JIT call-off: for every plant-local day, each supplier delivers exactly what
 * the orders starting that day consume, ordered its lead time ahead. The warehouse keeps a base stock
 * (the material's max stock, or a day's consumption where that is more); a late or short delivery eats
 * into it and the stock drops below min. Negative stock is allowed in the raw-material storage location
 * (MARC-XMCNG, as with backflushing), so a long outage shows as a negative LABST rather than being hidden.
 *
 * Everything is a pure function of (seed, plant-local day), so any day can be asked for on its own: a day's
 * stock needs only the deliveries due within a few days of it.
 */

/** SAP plant (WERKS) of each facility. */
export const SAP_PLANTS: Readonly<Record<FacilityId, string>> = {
  augsburg: '1000',
  ingolstadt: '2000',
  regensburg: '3000',
};
/** Storage location (LGORT) of purchased parts in every plant. */
export const SAP_STORAGE_LOCATION = '0001';
export const SAP_COMPANY_CODE = '1000';
export const SAP_PURCHASING_ORG = '1000';
export const SAP_PURCHASING_GROUP = '001';

export const facilityOfPlant = (plant: string): FacilityId | undefined =>
  (Object.entries(SAP_PLANTS) as [FacilityId, string][]).find(([, p]) => p === plant)?.[0];

/** A purchase order: one per plant, supplier and delivery day, one item per material. */
export interface PurchaseOrder {
  /** EBELN, `45000xxxxx`. */
  poNumber: string;
  facilityId: FacilityId;
  plant: string;
  supplier: Supplier;
  /** When the buyer saved it (it is visible from then on). */
  createdAt: Date;
  /** EKKO-AEDAT / BEDAT, plant-local `YYYY-MM-DD`. */
  createdOn: string;
  /** The day every schedule line is due (EKET-EINDT). */
  deliveryDay: string;
  items: PurchaseOrderItem[];
}

export interface PurchaseOrderItem {
  poNumber: string;
  /** EBELP: 10, 20, ... */
  item: number;
  supply: MaterialSupply;
  material: Material;
  /** Pieces ordered: one schedule line of this quantity, due on the PO's delivery day. */
  quantity: number;
  /** Net price per piece in the supplier's currency. */
  netPrice: number;
  deliveryDay: string;
}

export type MovementType = '101' | '261' | '321';

/** One material document with one item (MKPF + MSEG). */
export interface GoodsMovement {
  /** MBLNR: `50xxxxxxxx` goods receipts, `49xxxxxxxx` goods issues, `48xxxxxxxx` QI releases. */
  matDoc: string;
  /** MJAHR: year of the posting date. */
  docYear: number;
  moveType: MovementType;
  facilityId: FacilityId;
  plant: string;
  material: Material;
  quantity: number;
  /** BUDAT, plant-local `YYYY-MM-DD`. */
  postingDay: string;
  /** CPUDT/CPUTM: when it was entered; a backdated receipt is entered after its posting day. */
  enteredAt: Date;
  /** INSMK: 'X' quality inspection, '' unrestricted. */
  stockType: '' | 'X';
  poNumber?: string;
  poItem?: number;
  vendor?: string;
  /** ELIKZ: the last receipt of a PO item. */
  deliveryCompleted?: boolean;
  /** The MES production order a 261 issue is for (SGTXT: the MES order is not an SAP order). */
  orderId?: string;
  /** The PO's creation day, for receipts (lead time). */
  poCreatedOn?: string;
}

/** What the warehouse holds of a material in a plant's storage location (MARD), in pieces. */
export interface StockLevel {
  facilityId: FacilityId;
  plant: string;
  material: Material;
  /** LABST: unrestricted use. */
  unrestricted: number;
  /** INSME: in quality inspection. */
  inspection: number;
  /** SPEME: blocked. */
  blocked: number;
  minStock: number;
  maxStock: number;
}

/** Per due day, facility, supplier and material: how much was due and how much came in by that day. */
export interface FulfilmentTruth {
  day: string;
  facilityId: FacilityId;
  vendor: string;
  material: string;
  orderedQty: number;
  /** Received with a posting date on or before the due day. */
  receivedByDueDayQty: number;
  /** receivedByDueDayQty / orderedQty. */
  fulfilmentRate: number;
}

/** Per posting day, facility, supplier and material: days from the PO's creation to the receipts' posting. */
export interface LeadTimeTruth {
  day: string;
  facilityId: FacilityId;
  vendor: string;
  material: string;
  receipts: number;
  /** Mean over the day's receipt documents of (posting date - PO creation date), whole days. */
  meanLeadTimeDays: number;
  receivedQty: number;
}

/** Stock at the end of a plant-local day, by posting date, against the material's limits. */
export interface StockTruth {
  day: string;
  facilityId: FacilityId;
  plant: string;
  material: string;
  /** LABST + INSME + SPEME. */
  stock: number;
  minStock: number;
  maxStock: number;
  belowMin: boolean;
}

/** Day numbers (and so PO and document numbers) count from here. */
const EPOCH_DAY = DateTime.fromISO('2020-01-01', { zone: 'UTC' });
const FACILITY_ORDER: readonly FacilityId[] = ['augsburg', 'ingolstadt', 'regensburg'];
/** Latest a schedule line's last receipt is entered after its due day: 1 day late + 2 partial + 1 backdated. */
const MAX_LATE_DAYS = 5;
/** Earliest a receipt comes before its due day. */
const MAX_EARLY_DAYS = 1;
/** Purchased modules are checked on receipt: into quality inspection, released (321) four hours later. */
const INSPECTION_KINDS = new Set(['assembly_cell', 'welding_robot']);
const INSPECTION_MS = 4 * 3_600_000;

const dayNumber = (day: string) =>
  Math.round(DateTime.fromISO(day, { zone: 'UTC' }).diff(EPOCH_DAY, 'days').days);
const dayOfNumber = (n: number) => EPOCH_DAY.plus({ days: n }).toISODate()!;
const addDays = (day: string, days: number) => dayOfNumber(dayNumber(day) + days);
/** A plant-local wall-clock time on a day, as an instant. */
const localTime = (day: string, hours: number) =>
  DateTime.fromISO(day, { zone: PLANT_TIME_ZONE })
    .startOf('day')
    .plus({ minutes: Math.round(hours * 60) })
    .toJSDate();

const supplierIndex = (s: Supplier) => SUPPLIERS.indexOf(s);

/**
 * The procurement side of the plant model. Build it on the same PlantModel the MES stand-ins serve, so that
 * goods issues follow the very orders the MES report.
 */
export class ProcurementModel {
  readonly seed: number;
  readonly #plant: PlantModel;
  readonly #catalogue: Catalogue;
  #consumption = new Map<string, Map<string, OrderPlan[]>>();
  #baseStock = new Map<string, number>();

  constructor(plant: PlantModel) {
    this.#plant = plant;
    this.seed = plant.seed;
    this.#catalogue = plant.catalogue ?? defaultCatalogue;
  }

  /** Orders of a facility starting on a plant-local day, by material: what that day's goods issues take. */
  ordersStarting(facilityId: FacilityId, day: string): Map<string, OrderPlan[]> {
    const key = `${facilityId}|${day}`;
    const cached = this.#consumption.get(key);
    if (cached) return cached;
    if (this.#consumption.size > 400) this.#consumption.clear();
    const { startAt, endAt } = plantDayBounds(day);
    const byMaterial = new Map<string, OrderPlan[]>();
    for (const machine of this.#catalogue.machines) {
      if (machine.facilityId !== facilityId) continue;
      for (const order of this.#plant.orders(machine.id, startAt, endAt)) {
        if (order.actualStartMs < startAt.getTime() || order.actualStartMs >= endAt.getTime()) continue;
        const list = byMaterial.get(order.material.id) ?? [];
        list.push(order);
        byMaterial.set(order.material.id, list);
      }
    }
    for (const list of byMaterial.values()) list.sort((a, b) => a.actualStartMs - b.actualStartMs);
    this.#consumption.set(key, byMaterial);
    return byMaterial;
  }

  /** Pieces of a material the facility's orders starting on `day` consume. */
  consumption(facilityId: FacilityId, materialId: string, day: string): number {
    return (this.ordersStarting(facilityId, day).get(materialId) ?? []).reduce((n, o) => n + o.plannedQty, 0);
  }

  /** The materials a facility makes (and so buys): those of the machine kinds it has. */
  materialsOf(facilityId: FacilityId): MaterialSupply[] {
    const kinds = new Set(
      this.#catalogue.machines.filter((m) => m.facilityId === facilityId).map((m) => m.kind),
    );
    return MATERIAL_SUPPLY.filter((s) => kinds.has(s.material.kind));
  }

  /**
   * The stock the warehouse holds at the end of a day when every delivery is on time: the material's max
   * stock, or 1.75 days of expected consumption (its machines x 22.5 h x 64 % of the ideal rate, shared by
   * the 4 materials of the kind) where that is more. A delivery a day late on a busy day takes it below min stock.
   */
  baseStock(facilityId: FacilityId, supply: MaterialSupply): number {
    const key = `${facilityId}|${supply.material.id}`;
    let base = this.#baseStock.get(key);
    if (base === undefined) {
      const machines = this.#catalogue.machines.filter(
        (m) => m.facilityId === facilityId && m.kind === supply.material.kind,
      ).length;
      const daily = (machines * 22.5 * 3600 * 0.64) / supply.material.idealCycleTimeS / 4;
      base = Math.max(supply.maxStock, Math.round((1.75 * daily) / 10) * 10);
      this.#baseStock.set(key, base);
    }
    return base;
  }

  /** `45000xxxxx` for a facility, supplier and creation day. */
  poNumber(facilityId: FacilityId, supplier: Supplier, createdOn: string): string {
    const index =
      (dayNumber(createdOn) * FACILITY_ORDER.length + FACILITY_ORDER.indexOf(facilityId)) * SUPPLIERS.length +
      supplierIndex(supplier);
    return String(4_500_000_000 + index);
  }

  /** The PO with this number, if one was (or will be) created. */
  purchaseOrder(poNumber: string): PurchaseOrder | undefined {
    if (!/^\d{10}$/.test(poNumber)) return undefined;
    const index = Number(poNumber) - 4_500_000_000;
    if (index < 0) return undefined;
    const supplier = SUPPLIERS[index % SUPPLIERS.length]!;
    const rest = Math.floor(index / SUPPLIERS.length);
    const facilityId = FACILITY_ORDER[rest % FACILITY_ORDER.length]!;
    const createdOn = dayOfNumber(Math.floor(rest / FACILITY_ORDER.length));
    return this.#build(facilityId, supplier, createdOn);
  }

  /** Every PO created on a plant-local day, whatever its creation time (filter on createdAt for "as of"). */
  purchaseOrdersCreatedOn(day: string): PurchaseOrder[] {
    const out: PurchaseOrder[] = [];
    for (const facilityId of FACILITY_ORDER)
      for (const supplier of SUPPLIERS) {
        const po = this.#build(facilityId, supplier, day);
        if (po) out.push(po);
      }
    return out;
  }

  /** The PO a facility's supplier gets for the deliveries due on `deliveryDay`. */
  purchaseOrderDue(
    facilityId: FacilityId,
    supplier: Supplier,
    deliveryDay: string,
  ): PurchaseOrder | undefined {
    return this.#build(facilityId, supplier, addDays(deliveryDay, -supplier.leadTimeDays));
  }

  #build(facilityId: FacilityId, supplier: Supplier, createdOn: string): PurchaseOrder | undefined {
    const deliveryDay = addDays(createdOn, supplier.leadTimeDays);
    const poNumber = this.poNumber(facilityId, supplier, createdOn);
    const items: PurchaseOrderItem[] = [];
    for (const supply of this.materialsOf(facilityId)) {
      if (supply.supplier !== supplier) continue;
      const quantity = this.consumption(facilityId, supply.material.id, deliveryDay);
      if (quantity === 0) continue;
      items.push({
        poNumber,
        item: (items.length + 1) * 10,
        supply,
        material: supply.material,
        quantity,
        netPrice: supply.unitPrice,
        deliveryDay,
      });
    }
    if (items.length === 0) return undefined;
    const r = unit(this.seed, hashString(`po|${poNumber}`), 0);
    return {
      poNumber,
      facilityId,
      plant: SAP_PLANTS[facilityId],
      supplier,
      // The buyer runs the call-offs between 07:00 and 09:00 plant time.
      createdAt: localTime(createdOn, 7 + 2 * r),
      createdOn,
      deliveryDay,
      items,
    };
  }

  /**
   * The goods receipts of one PO item: on time mostly, a day early or up to two days late sometimes, a
   * share delivered short with the rest a day or two later, and some entered the morning after the day
   * they are posted for. Items of inspected materials go to quality inspection, released four hours later.
   */
  receipts(po: PurchaseOrder, item: PurchaseOrderItem): GoodsMovement[] {
    const stream = hashString(`gr|${po.poNumber}|${item.item}`);
    const r = (i: number) => unit(this.seed, stream, i);
    // Each supplier is late with 3-13 % of its deliveries, by a day; 4 % come a day early.
    const lateShare = 0.03 + 0.1 * unit(this.seed, hashString(`vendor|${po.supplier.vendor}`), 0);
    const timing = r(0);
    const offset = timing < 0.04 ? -1 : timing < 0.04 + lateShare ? 1 : 0;
    const arrival = addDays(item.deliveryDay, offset);
    const partial = r(2) < 0.12;
    const firstQty = partial ? Math.max(1, Math.floor(item.quantity * (0.4 + 0.5 * r(3)))) : item.quantity;
    const parts: { day: string; qty: number }[] = [{ day: arrival, qty: firstQty }];
    if (firstQty < item.quantity)
      parts.push({ day: addDays(arrival, r(4) < 0.6 ? 1 : 2), qty: item.quantity - firstQty });
    const inspected = INSPECTION_KINDS.has(item.material.kind);
    const itemIndex = item.item / 10 - 1;
    const poIndex = Number(po.poNumber) - 4_500_000_000;
    const out: GoodsMovement[] = [];
    parts.forEach((part, k) => {
      // Trucks arrive 05:00-06:00, before the early shift; some receipts are keyed in the next morning.
      const postedAt = localTime(part.day, 5 + r(10 + k));
      const backdated = r(20 + k) < 0.1;
      const enteredAt = backdated ? localTime(addDays(part.day, 1), 7.5 + r(30 + k)) : postedAt;
      const receipt: GoodsMovement = {
        matDoc: String(5_000_000_000 + poIndex * 4 + itemIndex * 2 + k),
        docYear: Number(part.day.slice(0, 4)),
        moveType: '101',
        facilityId: po.facilityId,
        plant: po.plant,
        material: item.material,
        quantity: part.qty,
        postingDay: part.day,
        enteredAt,
        stockType: inspected ? 'X' : '',
        poNumber: po.poNumber,
        poItem: item.item,
        vendor: po.supplier.vendor,
        deliveryCompleted: k === parts.length - 1,
        poCreatedOn: po.createdOn,
      };
      out.push(receipt);
      if (inspected) {
        const releasedAt = new Date(enteredAt.getTime() + INSPECTION_MS);
        out.push({
          matDoc: String(4_800_000_000 + poIndex * 4 + itemIndex * 2 + k),
          docYear: Number(plantDayOf(releasedAt).slice(0, 4)),
          moveType: '321',
          facilityId: po.facilityId,
          plant: po.plant,
          material: item.material,
          quantity: part.qty,
          postingDay: plantDayOf(releasedAt),
          enteredAt: releasedAt,
          stockType: '',
        });
      }
    });
    return out;
  }

  /** Goods issues (261) of the orders starting on a plant-local day at a facility, posted at each order's start. */
  goodsIssues(facilityId: FacilityId, day: string): GoodsMovement[] {
    const out: GoodsMovement[] = [];
    const plantIndex = FACILITY_ORDER.indexOf(facilityId);
    for (const orders of this.ordersStarting(facilityId, day).values()) {
      for (const order of orders) {
        // aug-m07-20261123-e02: machine 7, plant day of the shift, early shift, second order.
        const m = order.orderId.match(/-m(\d+)-(\d{4})(\d{2})(\d{2})-([eln])(\d+)$/);
        if (!m) throw new Error(`unexpected order id ${order.orderId}`);
        const shiftDay = dayNumber(`${m[2]}-${m[3]}-${m[4]}`);
        const index =
          ((shiftDay * FACILITY_ORDER.length + plantIndex) * 30 + Number(m[1]) - 1) * 60 +
          'eln'.indexOf(m[5]!) * 20 +
          (Number(m[6]) % 20);
        out.push({
          matDoc: String(4_900_000_000 + index),
          docYear: Number(day.slice(0, 4)),
          moveType: '261',
          facilityId,
          plant: SAP_PLANTS[facilityId],
          material: order.material,
          quantity: order.plannedQty,
          postingDay: day,
          enteredAt: new Date(order.actualStartMs),
          stockType: '',
          orderId: order.orderId,
        });
      }
    }
    return out;
  }

  /**
   * Every goods movement with a posting date in [fromDay, toDay] (plant-local, inclusive) entered by
   * `asOf`: what BAPI_GOODSMVT_GETITEMS shows for that posting-date range, in document order.
   */
  goodsMovements(fromDay: string, toDay: string, asOf: Date): GoodsMovement[] {
    const out: GoodsMovement[] = [];
    const from = dayNumber(fromDay);
    const to = dayNumber(toDay);
    for (let d = from; d <= to; d++) {
      const day = dayOfNumber(d);
      for (const facilityId of FACILITY_ORDER) out.push(...this.goodsIssues(facilityId, day));
    }
    // Receipts posted in the range belong to schedule lines due up to MAX_LATE_DAYS before it.
    for (let d = from - MAX_LATE_DAYS; d <= to + MAX_EARLY_DAYS; d++) {
      for (const { po, item } of this.#linesDue(dayOfNumber(d)))
        for (const g of this.receipts(po, item)) {
          const n = dayNumber(g.postingDay);
          if (n >= from && n <= to) out.push(g);
        }
    }
    return out
      .filter((g) => g.enteredAt.getTime() <= asOf.getTime())
      .sort((a, b) => a.matDoc.localeCompare(b.matDoc));
  }

  /** Every PO item due on a plant-local day, across facilities and suppliers. */
  #linesDue(day: string): { po: PurchaseOrder; item: PurchaseOrderItem }[] {
    const out: { po: PurchaseOrder; item: PurchaseOrderItem }[] = [];
    for (const facilityId of FACILITY_ORDER)
      for (const supplier of SUPPLIERS) {
        const po = this.purchaseOrderDue(facilityId, supplier, day);
        if (po) for (const item of po.items) out.push({ po, item });
      }
    return out;
  }

  /**
   * MARD at an instant, from what has been entered by then: base stock, less what the orders issued, plus
   * what came in. Only deliveries due within a few days of `at` can still be open, which keeps this local.
   */
  stockAt(facilityId: FacilityId, at: Date): StockLevel[] {
    const today = plantDayOf(at);
    const counted = (g: GoodsMovement) => g.enteredAt.getTime() <= at.getTime();
    const out: StockLevel[] = [];
    const ledger = this.#ledger(facilityId, today, counted, (g) => g.enteredAt.getTime() <= at.getTime());
    for (const supply of this.materialsOf(facilityId)) {
      const l = ledger.get(supply.material.id) ?? { total: 0, inspection: 0 };
      const issuedToday = (this.ordersStarting(facilityId, today).get(supply.material.id) ?? [])
        .filter((o) => o.actualStartMs <= at.getTime())
        .reduce((n, o) => n + o.plannedQty, 0);
      const total = this.baseStock(facilityId, supply) + l.total - issuedToday;
      out.push({
        facilityId,
        plant: SAP_PLANTS[facilityId],
        material: supply.material,
        unrestricted: total - l.inspection,
        inspection: l.inspection,
        blocked: 0,
        minStock: supply.minStock,
        maxStock: supply.maxStock,
      });
    }
    return out;
  }

  /**
   * Per material: receipts counted so far minus what lines due before `today` ordered (their issues), and
   * stock still in inspection. Lines due earlier than the horizon are fully received by construction.
   */
  #ledger(
    facilityId: FacilityId,
    today: string,
    received: (g: GoodsMovement) => boolean,
    inspectedBy: (g: GoodsMovement) => boolean,
  ): Map<string, { total: number; inspection: number }> {
    const t = dayNumber(today);
    const out = new Map<string, { total: number; inspection: number }>();
    for (let d = t - MAX_LATE_DAYS; d <= t + MAX_EARLY_DAYS; d++) {
      for (const supplier of SUPPLIERS) {
        const po = this.purchaseOrderDue(facilityId, supplier, dayOfNumber(d));
        if (!po) continue;
        for (const item of po.items) {
          const entry = out.get(item.material.id) ?? { total: 0, inspection: 0 };
          if (d < t) entry.total -= item.quantity;
          const moves = this.receipts(po, item);
          for (const g of moves) {
            if (g.moveType !== '101' || !received(g)) continue;
            entry.total += g.quantity;
            const release = moves.find(
              (x) => x.moveType === '321' && x.matDoc.slice(2) === g.matDoc.slice(2),
            );
            if (g.stockType === 'X' && !(release && inspectedBy(release))) entry.inspection += g.quantity;
          }
          out.set(item.material.id, entry);
        }
      }
    }
    return out;
  }

  /** Stock at the end of each plant-local day in [fromDay, toDay], by posting date (the books as closed). */
  stockTruth(fromDay: string, toDay: string): StockTruth[] {
    const out: StockTruth[] = [];
    for (let d = dayNumber(fromDay); d <= dayNumber(toDay); d++) {
      const day = dayOfNumber(d);
      const next = dayOfNumber(d + 1);
      for (const facilityId of FACILITY_ORDER) {
        const byPosting = (g: GoodsMovement) => dayNumber(g.postingDay) <= d;
        const ledger = this.#ledger(facilityId, next, byPosting, byPosting);
        for (const supply of this.materialsOf(facilityId)) {
          const stock = this.baseStock(facilityId, supply) + (ledger.get(supply.material.id)?.total ?? 0);
          out.push({
            day,
            facilityId,
            plant: SAP_PLANTS[facilityId],
            material: supply.material.id,
            stock,
            minStock: supply.minStock,
            maxStock: supply.maxStock,
            belowMin: stock < supply.minStock,
          });
        }
      }
    }
    return out;
  }

  /** PO fulfilment per due day in [fromDay, toDay], facility, supplier and material. */
  fulfilmentTruth(fromDay: string, toDay: string): FulfilmentTruth[] {
    const out: FulfilmentTruth[] = [];
    for (let d = dayNumber(fromDay); d <= dayNumber(toDay); d++) {
      const day = dayOfNumber(d);
      for (const { po, item } of this.#linesDue(day)) {
        const received = this.receipts(po, item)
          .filter((g) => g.moveType === '101' && dayNumber(g.postingDay) <= d)
          .reduce((n, g) => n + g.quantity, 0);
        out.push({
          day,
          facilityId: po.facilityId,
          vendor: po.supplier.vendor,
          material: item.material.id,
          orderedQty: item.quantity,
          receivedByDueDayQty: received,
          fulfilmentRate: received / item.quantity,
        });
      }
    }
    return out;
  }

  /** Supplier lead time per posting day in [fromDay, toDay], facility, supplier and material. */
  leadTimeTruth(fromDay: string, toDay: string): LeadTimeTruth[] {
    const groups = new Map<string, LeadTimeTruth & { sum: number }>();
    const receipts = this.goodsMovements(fromDay, toDay, new Date(8.64e15)).filter(
      (g) => g.moveType === '101',
    );
    for (const g of receipts) {
      const key = `${g.postingDay}|${g.facilityId}|${g.vendor}|${g.material.id}`;
      const e = groups.get(key) ?? {
        day: g.postingDay,
        facilityId: g.facilityId,
        vendor: g.vendor!,
        material: g.material.id,
        receipts: 0,
        meanLeadTimeDays: 0,
        receivedQty: 0,
        sum: 0,
      };
      e.receipts++;
      e.receivedQty += g.quantity;
      e.sum += dayNumber(g.postingDay) - dayNumber(g.poCreatedOn!);
      groups.set(key, e);
    }
    return [...groups.values()]
      .map(({ sum, ...e }) => ({ ...e, meanLeadTimeDays: sum / e.receipts }))
      .sort((a, b) =>
        `${a.day}${a.facilityId}${a.vendor}${a.material}`.localeCompare(
          `${b.day}${b.facilityId}${b.vendor}${b.material}`,
        ),
      );
  }
}

/** `YYYY-MM-DD` -> `YYYYMMDD` (DATS). */
export const toDats = (day: string): string => day.replaceAll('-', '');
/** An instant as SAP shows it in plant time: DATS and TIMS. */
export function toDatsTims(at: Date): { date: string; time: string } {
  const local = DateTime.fromJSDate(at, { zone: PLANT_TIME_ZONE });
  return { date: local.toFormat('yyyyLLdd'), time: local.toFormat('HHmmss') };
}
/** Whole plant-local days from `a` to `b`. */
export const daysBetween = (a: string, b: string): number => dayNumber(b) - dayNumber(a);
/** A plant-local day `days` later (or earlier). */
export const addPlantDays = addDays;

/** A DATS and TIMS pair in plant time (the SAP system's time zone) as an instant; undefined if either is not valid. */
export function fromDatsTims(date: string, time: string): Date | undefined {
  if (!/^\d{8}$/.test(date) || !/^\d{6}$/.test(time)) return undefined;
  const local = DateTime.fromFormat(`${date}${time}`, 'yyyyLLddHHmmss', { zone: PLANT_TIME_ZONE });
  return local.isValid ? local.toJSDate() : undefined;
}
