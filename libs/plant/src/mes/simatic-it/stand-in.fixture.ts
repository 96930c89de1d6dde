import type {
  MachineState,
  MeasurementRecord,
  MesDataSource,
  MesSnapshot,
  OrderRecord,
  StateRecord,
} from '../records.js';

/** A few hand-written Augsburg records around the window [08:00, 08:15) of 2026-11-23 (UTC). */
const at = (hhmmss: string) => new Date(`2026-11-23T${hhmmss}Z`);

const order = (id: string, updatedAt: string, extra: Partial<OrderRecord> = {}): OrderRecord => ({
  orderId: id,
  facilityId: 'augsburg',
  machineId: 'aug-m07',
  materialId: 'AUR-10011',
  plannedQty: 500,
  idealCycleTimeS: 6,
  plannedStartAt: at('06:00:00.000'),
  plannedEndAt: at('07:00:00.000'),
  status: 'released',
  totalCount: 0,
  goodCount: 0,
  scrapCount: 0,
  postings: [],
  updatedAt: at(updatedAt),
  ...extra,
});

const posting = (hhmmss: string, good: number, scrap: number) => ({
  postedAt: at(hhmmss),
  totalCount: good + scrap,
  goodCount: good,
  scrapCount: scrap,
});

export const FIXTURE_ORDERS: OrderRecord[] = [
  order('aug-m07-20261123-e01', '07:59:59.999'),
  order('aug-m07-20261123-e02', '08:00:00.000', {
    status: 'in_progress',
    actualStartAt: at('06:02:10.000'),
    totalCount: 120,
    goodCount: 117,
    scrapCount: 3,
    postings: [
      posting('06:15:00.000', 15, 0),
      posting('06:30:00.000', 14, 1),
      posting('06:45:00.000', 15, 0),
      posting('07:00:00.000', 15, 0),
      posting('07:15:00.000', 14, 1),
      posting('07:30:00.000', 15, 0),
      posting('07:45:00.000', 14, 1),
      posting('08:00:00.000', 15, 0),
    ],
  }),
  order('aug-m07-20261123-e03', '08:05:30.250', {
    machineId: 'aug-m08',
    materialId: 'AUR-10012',
    idealCycleTimeS: 8,
    status: 'completed',
    actualStartAt: at('06:01:00.000'),
    actualEndAt: at('08:05:30.250'),
    totalCount: 500,
    goodCount: 496,
    scrapCount: 4,
    postings: [
      posting('06:15:00.000', 59, 1),
      posting('06:30:00.000', 60, 0),
      posting('06:45:00.000', 60, 0),
      posting('07:00:00.000', 59, 1),
      posting('07:15:00.000', 60, 0),
      posting('07:30:00.000', 59, 1),
      posting('07:45:00.000', 60, 0),
      posting('08:00:00.000', 60, 0),
      posting('08:05:30.250', 19, 1),
    ],
  }),
  order('aug-m09-20261123-e01', '08:14:59.999', { machineId: 'aug-m09' }),
  order('aug-m10-20261123-e01', '08:15:00.000', { machineId: 'aug-m10' }),
  // Another facility's order never shows in Augsburg's MES.
  { ...order('ing-m01-20261123-e01', '08:10:00.000', { machineId: 'ing-m01' }), facilityId: 'ingolstadt' },
];

const STATES: [MachineState, string | undefined][] = [
  ['running', undefined],
  ['reduced_speed', undefined],
  ['micro_stop', undefined],
  ['failure', 'F-HYDRAULIC'],
  ['setup', 'CHANGEOVER'],
  ['maintenance', 'M-LUBRICATION'],
  ['break', undefined],
  ['no_shift', undefined],
  ['no_order', undefined],
];

/** One 50 s interval per canonical state on aug-m07, a minute apart from 08:01; the last one still open. */
export const FIXTURE_STATES: StateRecord[] = STATES.map(([state, reasonCode], i) => {
  const startAt = new Date(at('08:01:00.000').getTime() + i * 60_000);
  const open = i === STATES.length - 1;
  const endAt = new Date(startAt.getTime() + 50_000);
  return {
    stateId: `aug-m07-${startAt.getTime()}`,
    facilityId: 'augsburg',
    machineId: 'aug-m07',
    state,
    ...(reasonCode ? { reasonCode } : {}),
    ...(state === 'no_order' || state === 'no_shift' ? {} : { orderId: 'aug-m07-20261123-e02' }),
    startAt,
    ...(open ? {} : { endAt }),
    ...(state === 'running' ? { speedFactor: 1 } : state === 'reduced_speed' ? { speedFactor: 0.8 } : {}),
    updatedAt: open ? startAt : endAt,
  };
});

const measurement = (k: number, value: number, measuredAt: string): MeasurementRecord => {
  const ok = value >= 47.9 && value <= 48.1;
  return {
    measurementId: `aug-m07-20261123-e02-q${String(k).padStart(5, '0')}`,
    facilityId: 'augsburg',
    machineId: 'aug-m07',
    orderId: 'aug-m07-20261123-e02',
    materialId: 'AUR-10011',
    characteristic: 'hole_spacing',
    unit: 'mm',
    nominal: 48,
    lsl: 47.9,
    usl: 48.1,
    value,
    ok,
    ...(ok ? {} : { defectCode: value > 48.1 ? 'HOLE_SPACING_HIGH' : 'HOLE_SPACING_LOW' }),
    measuredAt: at(measuredAt),
    updatedAt: at(measuredAt),
  };
};

export const FIXTURE_MEASUREMENTS: MeasurementRecord[] = [
  measurement(1, 48.012, '08:02:00.000'),
  measurement(2, 48.134, '08:04:00.000'),
  measurement(3, 47.95, '08:20:00.000'),
];

/** A MesDataSource over the records above that remembers the `since` of every call. */
export function simaticFixtureData(): MesDataSource & { calls: { asOf: Date; since: Date }[] } {
  const calls: { asOf: Date; since: Date }[] = [];
  return {
    calls,
    snapshot(facilityId, asOf, since): MesSnapshot {
      calls.push({ asOf, since });
      const visible = <T extends { facilityId: string; updatedAt: Date }>(xs: T[]) =>
        xs.filter((x) => x.facilityId === facilityId && x.updatedAt >= since && x.updatedAt <= asOf);
      return {
        orders: visible(FIXTURE_ORDERS),
        machineStates: visible(FIXTURE_STATES),
        qualityMeasurements: visible(FIXTURE_MEASUREMENTS),
      };
    },
  };
}
