import { type Catalogue, catalogue as defaultCatalogue, type FacilityId, type Machine } from './catalogue.js';
import { type Material, materialsFor } from './materials.js';
import {
  LOSS_CLASS,
  type MachineState,
  type MeasurementRecord,
  type MesDataSource,
  type MesSnapshot,
  type OrderRecord,
  type QuantityPosting,
  type StateRecord,
} from './mes/records.js';
import { hashString, normal, unit } from './random.js';
import { type Shift, shiftsBetween } from './shift-calendar.js';

/** One interval of one machine in one state, as the model decided it. */
export interface StateSegment {
  machineId: string;
  state: MachineState;
  startMs: number;
  endMs: number;
  reasonCode?: string;
  /** The order being worked on (setup and production), if any. */
  order?: OrderPlan;
  /** Output rate as a share of the ideal rate: 1 running, 0.55..0.9 at reduced speed, 0 otherwise. */
  speedFactor: number;
  /** Ideal-rate seconds of output the order had produced when this segment began. */
  effectiveStartS: number;
}

/** A production order as planned and executed in the model. */
export interface OrderPlan {
  orderId: string;
  facilityId: FacilityId;
  machineId: string;
  material: Material;
  plannedQty: number;
  releasedAtMs: number;
  plannedStartMs: number;
  plannedEndMs: number;
  actualStartMs: number;
  actualEndMs: number;
  scrapRate: number;
  scrapPhase: number;
  /** Every n-th part is measured. */
  sampleEvery: number;
  /** Process mean offset and spread of the characteristic for this order, mm. */
  biasMm: number;
  sigmaMm: number;
  /** The order's segments (setup and production), in time order. */
  segments: StateSegment[];
}

/** The truth of one machine-hour, what gold's agg_oee_hourly must reproduce. */
export interface MachineHourTruth {
  facilityId: FacilityId;
  machineId: string;
  hourStart: Date;
  plannedTimeS: number;
  runTimeS: number;
  /** Seconds per state inside the hour (planned stops included). */
  stateS: Record<MachineState, number>;
  totalCount: number;
  goodCount: number;
  scrapCount: number;
  /** Σ ideal cycle time x parts: the run time the output would have taken at the ideal rate. */
  idealOutputS: number;
}

/** The true quality picture of some machines over a period: scrap and inspection results. */
export interface QualityTruth {
  totalCount: number;
  scrapCount: number;
  /** scrap / total parts (null without parts). */
  scrapRate: number | null;
  measured: number;
  notOk: number;
  /** not-OK measurements / measurements (null without measurements). */
  defectRate: number | null;
  /** Not-OK measurements per defect code, most frequent first (the Pareto). */
  byDefectCode: { defectCode: string; count: number }[];
}

/** Summed times and counts with the OEE ratios computed from them (null where undefined, e.g. no planned time). */
export interface OeeFigures {
  plannedTimeS: number;
  runTimeS: number;
  idealOutputS: number;
  totalCount: number;
  goodCount: number;
  availability: number | null;
  performance: number | null;
  quality: number | null;
  oee: number | null;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The MES books produced quantities every 15 minutes (and when an order ends). */
const BOOKING_MS = 15 * 60_000;
/** Orders are released to the shop floor two hours before their shift. */
const RELEASE_LEAD_MS = 2 * HOUR_MS;
/** The MES commits a record up to 90 s after the time it carries. */
const MAX_COMMIT_DELAY_MS = 90_000;
/** The longest stretch without a shift (a weekend), to find the state a machine is in. */
const LOOKBACK_MS = 4 * DAY_MS;

/** Events per hour of production, and how long they last (seconds). */
const EVENTS = {
  micro_stop: { perHour: 3, minS: 20, maxS: 150 },
  reduced_speed: { perHour: 0.4, minS: 300, maxS: 1800 },
  failure: { perHour: 0.12, minS: 300, maxS: 2700 },
  maintenance: { perHour: 0.03, minS: 900, maxS: 1800 },
} as const;
type EventState = keyof typeof EVENTS;
const FAILURE_REASONS = ['F-HYDRAULIC', 'F-ELECTRICAL', 'F-TOOL-BREAK', 'F-JAM', 'F-SENSOR'] as const;
const MAINTENANCE_REASONS = ['M-LUBRICATION', 'M-INSPECTION'] as const;

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** OEE from summed times and counts: never an average of ratios (docs/oee.md). */
export function oeeOf(x: {
  plannedTimeS: number;
  runTimeS: number;
  idealOutputS: number;
  totalCount: number;
  goodCount: number;
}): OeeFigures {
  const availability = ratio(x.runTimeS, x.plannedTimeS);
  // Capped at 1: a part counts wholly in the hour it is finished, so an hour can hold up to one cycle
  // more ideal output than its run time (docs/oee.md, "Counts").
  const uncapped = ratio(x.idealOutputS, x.runTimeS);
  const performance = uncapped === null ? null : Math.min(1, uncapped);
  const quality = ratio(x.goodCount, x.totalCount);
  const oee =
    availability === null ? null : availability * (performance ?? 0) * (quality ?? (performance ? 0 : 1));
  return {
    plannedTimeS: x.plannedTimeS,
    runTimeS: x.runTimeS,
    idealOutputS: x.idealOutputS,
    totalCount: x.totalCount,
    goodCount: x.goodCount,
    availability,
    performance,
    quality,
    oee,
  };
}

/** Rolls machine-hours up (to a machine-day, a facility-shift...): sums first, ratios last. */
export function rollUp(hours: readonly MachineHourTruth[]): OeeFigures {
  const sum = (f: (h: MachineHourTruth) => number) => hours.reduce((s, h) => s + f(h), 0);
  return oeeOf({
    plannedTimeS: sum((h) => h.plannedTimeS),
    runTimeS: sum((h) => h.runTimeS),
    idealOutputS: sum((h) => h.idealOutputS),
    totalCount: sum((h) => h.totalCount),
    goodCount: sum((h) => h.goodCount),
  });
}

/** Parts an order had completed at `atMs`. */
export function partsAt(order: OrderPlan, atMs: number): number {
  return Math.floor(effectiveAt(order, atMs) / order.material.idealCycleTimeS + 1e-9);
}

/** Scrapped parts among the first `parts` of an order (spread evenly through the order). */
export function scrapAmong(order: OrderPlan, parts: number): number {
  return Math.floor(parts * order.scrapRate + order.scrapPhase) - Math.floor(order.scrapPhase);
}

function effectiveAt(order: OrderPlan, atMs: number): number {
  let e = 0;
  for (const s of order.segments) {
    if (atMs <= s.startMs) break;
    e = s.effectiveStartS + (s.speedFactor * (Math.min(atMs, s.endMs) - s.startMs)) / 1000;
  }
  return e;
}

/** When part number `k` (1-based) of an order was completed. */
function completionMs(order: OrderPlan, k: number): number | undefined {
  const target = k * order.material.idealCycleTimeS;
  for (const s of order.segments) {
    const end = s.effectiveStartS + (s.speedFactor * (s.endMs - s.startMs)) / 1000;
    if (s.speedFactor > 0 && target > s.effectiveStartS - 1e-9 && target <= end + 1e-9) {
      return Math.min(s.endMs, Math.round(s.startMs + ((target - s.effectiveStartS) / s.speedFactor) * 1000));
    }
  }
  return undefined;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * The plant as it really ran, deterministic for a seed: shift calendars in plant-local time, every
 * machine's states with their loss classes, production orders with their counts, quality measurements,
 * and from these the true OEE and defect rates that gold is reconciled against. Everything is a pure
 * function of (seed, machine, shift), so any window can be asked for on its own.
 */
export class PlantModel implements MesDataSource {
  readonly seed: number;
  readonly catalogue: Catalogue;
  #shiftPlans = new Map<string, { segments: StateSegment[]; orders: OrderPlan[] }>();
  #hourStates = new Map<string, StateSegment[]>();
  #orderMeasurements = new WeakMap<OrderPlan, MeasurementRecord[]>();
  #shiftLists = new Map<string, Shift[]>();

  constructor(options: { seed: number; catalogue?: Catalogue }) {
    this.seed = options.seed;
    this.catalogue = options.catalogue ?? defaultCatalogue;
  }

  /** A machine's state segments overlapping [from, to), gaps between shifts included, in time order. */
  timeline(machineId: string, from: Date, to: Date): StateSegment[] {
    const machine = this.#machine(machineId);
    const fromMs = from.getTime();
    const toMs = to.getTime();
    const shifts = this.#shifts(machine.facilityId, fromMs - LOOKBACK_MS, toMs + DAY_MS);
    const out: StateSegment[] = [];
    let previousEnd: number | undefined;
    for (const shift of shifts) {
      const startMs = shift.startAt.getTime();
      if (previousEnd !== undefined && startMs > previousEnd && startMs > fromMs && previousEnd < toMs) {
        out.push(idle(machineId, 'no_shift', previousEnd, startMs));
      }
      previousEnd = shift.endAt.getTime();
      if (previousEnd <= fromMs || startMs >= toMs) continue;
      for (const s of this.#plan(machine, shift).segments)
        if (s.endMs > fromMs && s.startMs < toMs) out.push(s);
    }
    return out;
  }

  /** Orders of a machine whose work overlaps [from, to), or that are released and waiting in it. */
  orders(machineId: string, from: Date, to: Date): OrderPlan[] {
    const machine = this.#machine(machineId);
    const shifts = this.#shifts(machine.facilityId, from.getTime(), to.getTime() + RELEASE_LEAD_MS);
    return shifts
      .flatMap((shift) => this.#plan(machine, shift).orders)
      .filter((o) => o.releasedAtMs < to.getTime() && o.actualEndMs > from.getTime());
  }

  /** The state of a machine at an instant (what its sensors feel). */
  stateAt(machineId: string, at: Date | number): StateSegment | undefined {
    const atMs = typeof at === 'number' ? at : at.getTime();
    const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS;
    const key = `${machineId}|${hour}`;
    let segments = this.#hourStates.get(key);
    if (!segments) {
      if (this.#hourStates.size > 50_000) this.#hourStates.clear();
      segments = this.timeline(machineId, new Date(hour), new Date(hour + HOUR_MS));
      this.#hourStates.set(key, segments);
    }
    return segments.find((s) => s.startMs <= atMs && atMs < s.endMs);
  }

  /** The true figures of each hour of [from, to) on one machine (whole UTC hours). */
  machineHours(machineId: string, from: Date, to: Date): MachineHourTruth[] {
    const machine = this.#machine(machineId);
    const firstHour = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
    const segments = this.timeline(machineId, new Date(firstHour), to);
    const orders = this.orders(machineId, new Date(firstHour), to);
    const out: MachineHourTruth[] = [];
    for (let h = firstHour; h < to.getTime(); h += HOUR_MS) {
      const end = h + HOUR_MS;
      const stateS = Object.fromEntries(Object.keys(LOSS_CLASS).map((s) => [s, 0])) as Record<
        MachineState,
        number
      >;
      for (const s of segments) {
        const overlap = Math.min(end, s.endMs) - Math.max(h, s.startMs);
        if (overlap > 0) stateS[s.state] += overlap / 1000;
      }
      let plannedTimeS = 0;
      let runTimeS = 0;
      for (const [state, seconds] of Object.entries(stateS) as [MachineState, number][]) {
        const lossClass = LOSS_CLASS[state];
        if (lossClass !== 'planned_stop') plannedTimeS += seconds;
        if (lossClass === 'productive' || lossClass === 'performance_loss') runTimeS += seconds;
      }
      let totalCount = 0;
      let scrapCount = 0;
      let idealOutputS = 0;
      for (const o of orders) {
        const before = partsAt(o, h);
        const after = partsAt(o, end);
        const parts = after - before;
        totalCount += parts;
        scrapCount += scrapAmong(o, after) - scrapAmong(o, before);
        idealOutputS += parts * o.material.idealCycleTimeS;
      }
      out.push({
        facilityId: machine.facilityId,
        machineId,
        hourStart: new Date(h),
        plannedTimeS,
        runTimeS,
        stateS,
        totalCount,
        goodCount: totalCount - scrapCount,
        scrapCount,
        idealOutputS,
      });
    }
    return out;
  }

  /** Scrap and inspection results of a facility's machines (or all) in [from, to). */
  quality(from: Date, to: Date, facilityId?: FacilityId): QualityTruth {
    const machines = this.catalogue.machines.filter((m) => !facilityId || m.facilityId === facilityId);
    let totalCount = 0;
    let scrapCount = 0;
    let measured = 0;
    const codes = new Map<string, number>();
    for (const m of machines) {
      for (const h of this.machineHours(m.id, from, to)) {
        totalCount += h.totalCount;
        scrapCount += h.scrapCount;
      }
      for (const x of this.measurements(m.id, from, to)) {
        measured++;
        if (x.defectCode) codes.set(x.defectCode, (codes.get(x.defectCode) ?? 0) + 1);
      }
    }
    const notOk = [...codes.values()].reduce((a, b) => a + b, 0);
    return {
      totalCount,
      scrapCount,
      scrapRate: ratio(scrapCount, totalCount),
      measured,
      notOk,
      defectRate: ratio(notOk, measured),
      byDefectCode: [...codes]
        .map(([defectCode, count]) => ({ defectCode, count }))
        .sort((a, b) => b.count - a.count || a.defectCode.localeCompare(b.defectCode)),
    };
  }

  /** Every quality measurement taken on a machine in [from, to). */
  measurements(machineId: string, from: Date, to: Date): MeasurementRecord[] {
    const out: MeasurementRecord[] = [];
    for (const order of this.orders(machineId, from, to)) {
      for (const m of this.#measurementsOf(order)) {
        if (m.measuredAt >= from && m.measuredAt < to) out.push(m);
      }
    }
    return out.sort((a, b) => a.measuredAt.getTime() - b.measuredAt.getTime());
  }

  /** MesDataSource: what a facility's MES shows at `asOf`, for records last updated since `since`. */
  snapshot(facilityId: FacilityId, asOf: Date, since: Date): MesSnapshot {
    const asOfMs = asOf.getTime();
    const sinceMs = since.getTime();
    const snapshot: MesSnapshot = { orders: [], machineStates: [], qualityMeasurements: [] };
    for (const machine of this.catalogue.machines) {
      if (machine.facilityId !== facilityId) continue;
      const from = new Date(sinceMs - MAX_COMMIT_DELAY_MS);
      for (const s of this.timeline(machine.id, from, new Date(asOfMs + 1))) {
        const record = this.#stateVersion(facilityId, s, asOfMs);
        if (record && record.updatedAt.getTime() >= sinceMs) snapshot.machineStates.push(record);
      }
      for (const order of this.orders(machine.id, from, new Date(asOfMs + 1))) {
        const record = this.#orderVersion(order, asOfMs);
        if (record && record.updatedAt.getTime() >= sinceMs) snapshot.orders.push(record);
        for (const m of this.#measurementsOf(order)) {
          const at = m.measuredAt.getTime();
          if (at >= sinceMs && this.#visible(m.measurementId, at, asOfMs))
            snapshot.qualityMeasurements.push(m);
        }
      }
    }
    return snapshot;
  }

  /** Shifts overlapping [fromMs, toMs), from a cache of whole UTC days (the calendar is slow to compute). */
  #shifts(facilityId: FacilityId, fromMs: number, toMs: number): Shift[] {
    const fromDay = Math.floor(fromMs / DAY_MS) * DAY_MS;
    const toDay = Math.ceil(toMs / DAY_MS) * DAY_MS;
    const key = `${facilityId}|${fromDay}|${toDay}`;
    let shifts = this.#shiftLists.get(key);
    if (!shifts) {
      if (this.#shiftLists.size > 10_000) this.#shiftLists.clear();
      shifts = shiftsBetween(facilityId, new Date(fromDay), new Date(toDay));
      this.#shiftLists.set(key, shifts);
    }
    return shifts.filter((s) => s.endAt.getTime() > fromMs && s.startAt.getTime() < toMs);
  }

  #machine(machineId: string): Machine {
    const machine = this.catalogue.machine(machineId);
    if (!machine) throw new Error(`unknown machine ${machineId}`);
    return machine;
  }

  /** A version written at `atMs` is visible from `atMs` plus a commit delay of 0..90 s. */
  #visible(recordId: string, atMs: number, asOfMs: number): boolean {
    const delay = Math.floor(
      unit(this.seed, hashString(recordId), Math.floor(atMs / 1000)) * MAX_COMMIT_DELAY_MS,
    );
    return atMs + delay <= asOfMs;
  }

  #stateVersion(facilityId: FacilityId, s: StateSegment, asOfMs: number): StateRecord | undefined {
    const stateId = `${s.machineId}-${s.startMs}`;
    const closed = this.#visible(stateId, s.endMs, asOfMs);
    if (!closed && !this.#visible(stateId, s.startMs, asOfMs)) return undefined;
    return {
      stateId,
      facilityId,
      machineId: s.machineId,
      state: s.state,
      ...(s.reasonCode ? { reasonCode: s.reasonCode } : {}),
      ...(s.order ? { orderId: s.order.orderId } : {}),
      startAt: new Date(s.startMs),
      ...(closed ? { endAt: new Date(s.endMs) } : {}),
      ...(s.state === 'running' || s.state === 'reduced_speed' ? { speedFactor: s.speedFactor } : {}),
      updatedAt: new Date(closed ? s.endMs : s.startMs),
    };
  }

  #orderVersion(order: OrderPlan, asOfMs: number): OrderRecord | undefined {
    // Versions: released, started, one per quarter-hour booking, completed; the newest visible one wins.
    const versions = [order.releasedAtMs, order.actualStartMs];
    for (
      let b = Math.ceil(order.actualStartMs / BOOKING_MS) * BOOKING_MS;
      b < order.actualEndMs;
      b += BOOKING_MS
    )
      if (b > order.actualStartMs) versions.push(b);
    versions.push(order.actualEndMs);
    const at = versions.filter((v) => v <= asOfMs && this.#visible(order.orderId, v, asOfMs)).at(-1);
    if (at === undefined) return undefined;
    const started = at >= order.actualStartMs;
    const completed = at >= order.actualEndMs;
    const parts = started ? partsAt(order, at) : 0;
    const scrap = scrapAmong(order, parts);
    // Every version after the start is a posting: the bookings and the end, each the delta since the last.
    const postings: QuantityPosting[] = [];
    let postedParts = 0;
    let postedScrap = 0;
    for (const v of versions) {
      if (v <= order.actualStartMs || v > at) continue;
      const partsThen = partsAt(order, v);
      const scrapThen = scrapAmong(order, partsThen);
      postings.push({
        postedAt: new Date(v),
        totalCount: partsThen - postedParts,
        goodCount: partsThen - scrapThen - (postedParts - postedScrap),
        scrapCount: scrapThen - postedScrap,
      });
      postedParts = partsThen;
      postedScrap = scrapThen;
    }
    return {
      orderId: order.orderId,
      facilityId: order.facilityId,
      machineId: order.machineId,
      materialId: order.material.id,
      plannedQty: order.plannedQty,
      idealCycleTimeS: order.material.idealCycleTimeS,
      plannedStartAt: new Date(order.plannedStartMs),
      plannedEndAt: new Date(order.plannedEndMs),
      ...(started ? { actualStartAt: new Date(order.actualStartMs) } : {}),
      ...(completed ? { actualEndAt: new Date(order.actualEndMs) } : {}),
      status: completed ? 'completed' : started ? 'in_progress' : 'released',
      totalCount: parts,
      goodCount: parts - scrap,
      scrapCount: scrap,
      postings,
      updatedAt: new Date(at),
    };
  }

  #measurementsOf(order: OrderPlan): MeasurementRecord[] {
    let cached = this.#orderMeasurements.get(order);
    if (!cached) {
      cached = this.#measure(order);
      this.#orderMeasurements.set(order, cached);
    }
    return cached;
  }

  #measure(order: OrderPlan): MeasurementRecord[] {
    const total = partsAt(order, order.actualEndMs);
    const c = order.material.characteristic;
    const stream = hashString(order.orderId);
    const out: MeasurementRecord[] = [];
    for (let k = order.sampleEvery; k <= total; k += order.sampleEvery) {
      const at = completionMs(order, k);
      if (at === undefined) continue;
      const value =
        Math.round((c.nominal + order.biasMm + order.sigmaMm * normal(this.seed, stream, k)) * 1e4) / 1e4;
      const lsl = Math.round((c.nominal - c.tolerance) * 1e4) / 1e4;
      const usl = Math.round((c.nominal + c.tolerance) * 1e4) / 1e4;
      const ok = value >= lsl && value <= usl;
      out.push({
        measurementId: `${order.orderId}-q${String(k).padStart(5, '0')}`,
        facilityId: order.facilityId,
        machineId: order.machineId,
        orderId: order.orderId,
        materialId: order.material.id,
        characteristic: c.id,
        unit: 'mm',
        nominal: c.nominal,
        lsl,
        usl,
        value,
        ok,
        ...(ok ? {} : { defectCode: `${c.id.toUpperCase()}_${value > usl ? 'HIGH' : 'LOW'}` }),
        measuredAt: new Date(at),
        updatedAt: new Date(at),
      });
    }
    return out;
  }

  /** One machine's shift: orders with their setups, production, losses, and the break, in real time. */
  #plan(machine: Machine, shift: Shift): { segments: StateSegment[]; orders: OrderPlan[] } {
    const key = `${machine.id}|${shift.id}`;
    const cached = this.#shiftPlans.get(key);
    if (cached) return cached;
    if (this.#shiftPlans.size > 20_000) this.#shiftPlans.clear();

    const stream = hashString(key);
    let draw = 0;
    const r = () => unit(this.seed, stream, draw++);
    const between = (min: number, max: number) => min + r() * (max - min);
    const machineStream = hashString(machine.id);
    const reliability = 0.5 + unit(this.seed, machineStream, 1);
    const capability = 0.9 + 0.7 * unit(this.seed, machineStream, 2);

    // Work in planned seconds (the shift minus its breaks), then lay them onto the clock.
    const windows = plannedWindows(shift);
    const plannedS = windows.reduce((s, [a, b]) => s + (b - a) / 1000, 0);
    type Activity = {
      state: MachineState;
      s: number;
      e: number;
      reasonCode?: string;
      speed: number;
      order?: number;
    };
    const activities: Activity[] = [];
    const orderDrafts: { material: Material; plannedQty: number; setupS: number; runS: number }[] = [];
    const materials = materialsFor(machine.kind);
    let v = 0;
    const push = (a: Omit<Activity, 'e'>, seconds: number) => {
      const e = Math.min(plannedS, a.s + seconds);
      if (e > a.s) activities.push({ ...a, e });
      return e;
    };
    while (v < plannedS - 60) {
      if (r() < 0.08) v = push({ state: 'no_order', s: v, speed: 0 }, between(900, 2700));
      const material = materials[Math.floor(r() * materials.length)]!;
      const setupS = between(600, 1500);
      const runS = between(5400, 14_400);
      const order = orderDrafts.length;
      orderDrafts.push({
        material,
        plannedQty: Math.max(1, Math.round((runS * 0.85) / material.idealCycleTimeS)),
        setupS,
        runS,
      });
      v = push({ state: 'setup', s: v, speed: 0, order, reasonCode: 'CHANGEOVER' }, setupS);
      const runEnd = Math.min(plannedS, v + runS);
      while (v < runEnd) {
        const rates = Object.entries(EVENTS).map(([state, e]) => [
          state as EventState,
          (e.perHour * (state === 'failure' ? reliability : 1)) / 3600,
        ]) as [EventState, number][];
        const total = rates.reduce((s, [, x]) => s + x, 0);
        const gap = -Math.log(1 - r()) / total;
        v = push({ state: 'running', s: v, speed: 1, order }, Math.min(gap, runEnd - v));
        if (v >= runEnd) break;
        const event = pickWeighted(rates, r() * total);
        const spec = EVENTS[event];
        const seconds = Math.min(
          runEnd - v,
          between(spec.minS, spec.maxS) * (event === 'failure' ? r() + 0.2 : 1),
        );
        const reasonCode =
          event === 'failure'
            ? FAILURE_REASONS[Math.floor(r() * FAILURE_REASONS.length)]
            : event === 'maintenance'
              ? MAINTENANCE_REASONS[Math.floor(r() * MAINTENANCE_REASONS.length)]
              : event === 'micro_stop'
                ? 'MICRO-STOP'
                : 'SPEED-LOSS';
        const speed = event === 'reduced_speed' ? Math.round(between(0.55, 0.9) * 100) / 100 : 0;
        v = push({ state: event, s: v, speed, order, ...(reasonCode ? { reasonCode } : {}) }, seconds);
      }
    }

    // Lay planned seconds onto the clock, splitting at breaks, and insert the breaks.
    const toClock = (s: number): number => {
      let left = s;
      for (const [a, b] of windows) {
        const len = (b - a) / 1000;
        if (left <= len) return a + Math.round(left * 1000);
        left -= len;
      }
      return windows.at(-1)![1];
    };
    const segments: StateSegment[] = [];
    const orderSegments: StateSegment[][] = orderDrafts.map(() => []);
    for (const a of activities) {
      const start = toClock(a.s);
      const end = toClock(a.e);
      for (const [wa, wb] of windows) {
        const s = Math.max(start, wa);
        const e = Math.min(end, wb);
        if (e <= s) continue;
        const segment: StateSegment = {
          machineId: machine.id,
          state: a.state,
          startMs: s,
          endMs: e,
          speedFactor: a.speed,
          effectiveStartS: 0,
          ...(a.reasonCode ? { reasonCode: a.reasonCode } : {}),
        };
        segments.push(segment);
        if (a.order !== undefined) orderSegments[a.order]!.push(segment);
      }
    }
    for (const b of shift.breaks)
      segments.push(idle(machine.id, 'break', b.startAt.getTime(), b.endAt.getTime()));
    segments.sort((x, y) => x.startMs - y.startMs);
    // A shift with no activity at all would leave its planned time unaccounted: it has no order then.
    fillGaps(segments, machine.id, shift.startAt.getTime(), shift.endAt.getTime());

    const day = shift.plantDay.replaceAll('-', '');
    const orders: OrderPlan[] = [];
    orderDrafts.forEach((draft, i) => {
      const own = orderSegments[i]!;
      if (own.length === 0) return;
      const orderId = `${machine.id}-${day}-${shift.name[0]}${pad2(i + 1)}`;
      const actualStartMs = own[0]!.startMs;
      const plannedStartMs = Math.floor(actualStartMs / BOOKING_MS) * BOOKING_MS;
      const orderStream = hashString(orderId);
      const order: OrderPlan = {
        orderId,
        facilityId: machine.facilityId,
        machineId: machine.id,
        material: draft.material,
        plannedQty: draft.plannedQty,
        releasedAtMs: shift.startAt.getTime() - RELEASE_LEAD_MS,
        plannedStartMs,
        plannedEndMs: plannedStartMs + Math.round((draft.setupS + draft.runS) * 1000),
        actualStartMs,
        actualEndMs: own.at(-1)!.endMs,
        scrapRate: 0.005 + 0.035 * unit(this.seed, orderStream, 1),
        scrapPhase: unit(this.seed, orderStream, 2),
        sampleEvery: Math.max(1, Math.round(1800 / draft.material.idealCycleTimeS)),
        biasMm: (unit(this.seed, orderStream, 3) - 0.5) * 0.6 * draft.material.characteristic.tolerance,
        sigmaMm: draft.material.characteristic.tolerance / (3 * capability),
        segments: own,
      };
      let e = 0;
      for (const s of own) {
        s.effectiveStartS = e;
        s.order = order;
        e += (s.speedFactor * (s.endMs - s.startMs)) / 1000;
      }
      orders.push(order);
    });
    const plan = { segments, orders };
    this.#shiftPlans.set(key, plan);
    return plan;
  }
}

/** The entry whose cumulative weight first exceeds `at`. */
function pickWeighted<T>(weights: readonly [T, number][], at: number): T {
  let left = at;
  for (const [value, weight] of weights) {
    left -= weight;
    if (left < 0) return value;
  }
  return weights.at(-1)![0];
}

function idle(machineId: string, state: MachineState, startMs: number, endMs: number): StateSegment {
  return { machineId, state, startMs, endMs, speedFactor: 0, effectiveStartS: 0 };
}

function plannedWindows(shift: Shift): [number, number][] {
  const out: [number, number][] = [];
  let cursor = shift.startAt.getTime();
  for (const b of [...shift.breaks].sort((x, y) => x.startAt.getTime() - y.startAt.getTime())) {
    if (b.startAt.getTime() > cursor) out.push([cursor, b.startAt.getTime()]);
    cursor = Math.max(cursor, b.endAt.getTime());
  }
  if (shift.endAt.getTime() > cursor) out.push([cursor, shift.endAt.getTime()]);
  return out;
}

/** Whatever part of a shift no activity covers is time without an order. */
function fillGaps(segments: StateSegment[], machineId: string, startMs: number, endMs: number): void {
  let cursor = startMs;
  const gaps: StateSegment[] = [];
  for (const s of segments) {
    if (s.startMs > cursor) gaps.push(idle(machineId, 'no_order', cursor, s.startMs));
    cursor = Math.max(cursor, s.endMs);
  }
  if (endMs > cursor) gaps.push(idle(machineId, 'no_order', cursor, endMs));
  segments.push(...gaps);
  segments.sort((x, y) => x.startMs - y.startMs);
}
