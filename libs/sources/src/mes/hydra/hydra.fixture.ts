import type { MeasurementRecord, MesDataSource, MesSnapshot, OrderRecord, StateRecord } from '@aurora/plant';

/**
 * A few Ingolstadt MES records written for the HYDRA tests: orders on 2026-11-23, machine states around the
 * end of summer time (2026-10-25 01:00Z, when 03:00 CEST becomes 02:00 CET) and quality results with
 * characters XML must escape.
 */

const at = (iso: string) => new Date(iso);
const posting = (iso: string, goodCount: number, scrapCount: number) => ({
  postedAt: at(iso),
  totalCount: goodCount + scrapCount,
  goodCount,
  scrapCount,
});

export const fixtureOrders: OrderRecord[] = [
  {
    orderId: 'ing-m07-20261123-e01',
    facilityId: 'ingolstadt',
    machineId: 'ing-m07',
    materialId: 'AUR-10023',
    plannedQty: 500,
    idealCycleTimeS: 6.5,
    plannedStartAt: at('2026-11-23T05:00:00Z'),
    plannedEndAt: at('2026-11-23T06:00:00Z'),
    actualStartAt: at('2026-11-23T05:03:20Z'),
    actualEndAt: at('2026-11-23T06:10:00Z'),
    status: 'completed',
    totalCount: 500,
    goodCount: 488,
    scrapCount: 12,
    postings: [
      posting('2026-11-23T05:15:00Z', 105, 3),
      posting('2026-11-23T05:30:00Z', 136, 2),
      posting('2026-11-23T05:45:00Z', 135, 4),
      posting('2026-11-23T06:00:00Z', 80, 2),
      posting('2026-11-23T06:10:00Z', 32, 1),
    ],
    updatedAt: at('2026-11-23T06:10:00Z'),
  },
  {
    orderId: 'ing-m03-20261123-e02',
    facilityId: 'ingolstadt',
    machineId: 'ing-m03',
    materialId: 'AUR-10031',
    plannedQty: 120,
    idealCycleTimeS: 90,
    plannedStartAt: at('2026-11-23T06:15:00Z'),
    plannedEndAt: at('2026-11-23T09:15:00Z'),
    actualStartAt: at('2026-11-23T07:20:00Z'),
    status: 'in_progress',
    totalCount: 7,
    goodCount: 6,
    scrapCount: 1,
    // A single posting so far, booked a quarter second late.
    postings: [posting('2026-11-23T07:30:00.250Z', 6, 1)],
    updatedAt: at('2026-11-23T07:30:00.250Z'),
  },
  {
    orderId: 'ing-m12-20261123-l01',
    facilityId: 'ingolstadt',
    machineId: 'ing-m12',
    materialId: 'AUR-10041',
    plannedQty: 60,
    idealCycleTimeS: 300,
    plannedStartAt: at('2026-11-23T13:00:00Z'),
    plannedEndAt: at('2026-11-23T18:00:00Z'),
    status: 'released',
    totalCount: 0,
    goodCount: 0,
    scrapCount: 0,
    postings: [],
    updatedAt: at('2026-11-23T08:00:00Z'),
  },
];

const state = (
  stateId: string,
  fields: Omit<StateRecord, 'stateId' | 'facilityId' | 'machineId' | 'startAt' | 'endAt' | 'updatedAt'> & {
    startAt: string;
    endAt?: string;
    updatedAt: string;
  },
): StateRecord => {
  const { startAt, endAt, updatedAt, ...rest } = fields;
  return {
    stateId,
    facilityId: 'ingolstadt',
    machineId: 'ing-m07',
    ...rest,
    startAt: at(startAt),
    ...(endAt ? { endAt: at(endAt) } : {}),
    updatedAt: at(updatedAt),
  };
};

/** Modified at 00:00Z, 00:29:59.999Z, 00:30Z, 01:00Z, 01:30Z, 02:00Z and 03:30Z on 2026-10-25. */
export const fixtureStates: StateRecord[] = [
  state('ing-m07-s1', {
    state: 'break',
    startAt: '2026-10-24T23:30:00Z',
    endAt: '2026-10-25T00:00:00Z',
    updatedAt: '2026-10-25T00:00:00Z',
  }),
  state('ing-m07-s2', {
    state: 'running',
    speedFactor: 1,
    orderId: 'ing-m07-20261025-n01',
    startAt: '2026-10-25T00:00:00Z',
    endAt: '2026-10-25T00:29:59.999Z',
    updatedAt: '2026-10-25T00:29:59.999Z',
  }),
  state('ing-m07-s3', {
    state: 'micro_stop',
    reasonCode: 'MICRO-STOP',
    speedFactor: 0,
    orderId: 'ing-m07-20261025-n01',
    startAt: '2026-10-25T00:29:59.999Z',
    endAt: '2026-10-25T00:30:00Z',
    updatedAt: '2026-10-25T00:30:00Z',
  }),
  state('ing-m07-s4', {
    state: 'failure',
    reasonCode: 'F-HYDRAULIC',
    speedFactor: 0,
    orderId: 'ing-m07-20261025-n01',
    startAt: '2026-10-25T00:30:00Z',
    endAt: '2026-10-25T01:00:00Z',
    updatedAt: '2026-10-25T01:00:00Z',
  }),
  state('ing-m07-s5', {
    state: 'reduced_speed',
    reasonCode: 'SPEED-LOSS',
    speedFactor: 0.55,
    orderId: 'ing-m07-20261025-n01',
    startAt: '2026-10-25T01:00:00Z',
    endAt: '2026-10-25T01:30:00Z',
    updatedAt: '2026-10-25T01:30:00Z',
  }),
  state('ing-m07-s6', {
    state: 'setup',
    reasonCode: 'CHANGEOVER',
    speedFactor: 0,
    orderId: 'ing-m07-20261025-n02',
    startAt: '2026-10-25T01:30:00Z',
    endAt: '2026-10-25T02:00:00Z',
    updatedAt: '2026-10-25T02:00:00Z',
  }),
  state('ing-m07-s7', {
    state: 'no_order',
    startAt: '2026-10-25T02:00:00Z',
    updatedAt: '2026-10-25T03:30:00Z',
  }),
];

const measurement = (
  measurementId: string,
  fields: Partial<Omit<MeasurementRecord, 'measuredAt' | 'updatedAt'>> & {
    value: number;
    measuredAt: string;
    updatedAt: string;
  },
): MeasurementRecord => {
  const { measuredAt, updatedAt, ...rest } = fields;
  return {
    measurementId,
    facilityId: 'ingolstadt',
    machineId: 'ing-m03',
    orderId: 'ing-m03-20261123-e02',
    materialId: 'AUR-10031',
    characteristic: 'outer_diameter',
    unit: 'mm',
    nominal: 25,
    lsl: 24.99,
    usl: 25.01,
    ok: true,
    ...rest,
    measuredAt: at(measuredAt),
    updatedAt: at(updatedAt),
  };
};

export const fixtureMeasurements: MeasurementRecord[] = [
  measurement('ing-m03-20261123-e02-q00001', {
    value: 25.0031,
    measuredAt: '2026-11-23T06:30:00Z',
    updatedAt: '2026-11-23T06:30:05Z',
  }),
  measurement('ing-m03-20261123-e02-q00002', {
    value: 25.0123,
    ok: false,
    defectCode: 'OUTER_DIAMETER_HIGH',
    measuredAt: '2026-11-23T07:00:00Z',
    updatedAt: '2026-11-23T07:00:05Z',
  }),
  measurement('ing-m03-20261123-e02-q00003', {
    characteristic: 'Rundheit Ø <0,01> & "A"\'s ≤ 5 µm 🙂',
    value: 24.9999,
    measuredAt: '2026-11-23T07:00:00Z',
    updatedAt: '2026-11-23T07:00:05Z',
  }),
  measurement('ing-m03-20261123-e02-q00004', {
    value: 24.987,
    ok: false,
    defectCode: 'OUTER_DIAMETER_LOW',
    measuredAt: '2026-11-23T07:30:00Z',
    updatedAt: '2026-11-23T07:30:05Z',
  }),
];

/**
 * A MesDataSource over fixed records: every record with `since <= updatedAt <= asOf`, for facility ingolstadt
 * only. It remembers the `since` of each call so tests can check the stand-in bounds its work.
 */
export function fixtureSource(
  records: Partial<MesSnapshot> = {},
): MesDataSource & { calls: { asOf: Date; since: Date }[] } {
  const calls: { asOf: Date; since: Date }[] = [];
  const visible = <T extends { facilityId: string; updatedAt: Date }>(list: T[], asOf: Date, since: Date) =>
    list.filter((r) => r.facilityId === 'ingolstadt' && r.updatedAt >= since && r.updatedAt <= asOf);
  return {
    calls,
    snapshot(facilityId, asOf, since) {
      calls.push({ asOf, since });
      if (facilityId !== 'ingolstadt') return { orders: [], machineStates: [], qualityMeasurements: [] };
      return {
        orders: visible(records.orders ?? fixtureOrders, asOf, since),
        machineStates: visible(records.machineStates ?? fixtureStates, asOf, since),
        qualityMeasurements: visible(records.qualityMeasurements ?? fixtureMeasurements, asOf, since),
      };
    },
  };
}
