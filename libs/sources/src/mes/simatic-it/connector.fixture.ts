import type { MesDataSource, MesSnapshot, OrderRecord, StateRecord } from '@aurora/plant';

/** Hand-written Augsburg records around the window [08:00, 08:15) of 2026-11-23 (UTC). */
const at = (hhmmss: string) => new Date(`2026-11-23T${hhmmss}Z`);

const posting = (hhmmss: string, goodCount: number, scrapCount: number) => ({
  postedAt: at(hhmmss),
  totalCount: goodCount + scrapCount,
  goodCount,
  scrapCount,
});

/** A booking every quarter hour from 06:15 to 08:00: 120 parts, 3 of them scrap. */
const QUARTER_HOURLY = ['06:15', '06:30', '06:45', '07:00', '07:15', '07:30', '07:45', '08:00'].map(
  (hhmm, i) => posting(`${hhmm}:00.000`, i % 3 === 1 ? 14 : 15, i % 3 === 1 ? 1 : 0),
);

const order = (id: string, updatedAt: string, extra: Partial<OrderRecord> = {}): OrderRecord => ({
  orderId: id,
  facilityId: 'augsburg',
  machineId: id.slice(0, 7),
  materialId: 'AUR-10011',
  plannedQty: 500,
  idealCycleTimeS: 6,
  plannedStartAt: at('06:00:00.000'),
  plannedEndAt: at('07:00:00.000'),
  status: 'in_progress',
  actualStartAt: at('06:02:10.000'),
  totalCount: 120,
  goodCount: 117,
  scrapCount: 3,
  postings: QUARTER_HOURLY,
  updatedAt: at(updatedAt),
  ...extra,
});

/** The first and the last are just outside the window. */
export const FIXTURE_ORDERS: OrderRecord[] = [
  order('aug-m01-20261123-e01', '07:59:59.999'),
  order('aug-m02-20261123-e01', '08:00:00.000'),
  order('aug-m03-20261123-e01', '08:07:00.000', {
    status: 'released',
    totalCount: 0,
    goodCount: 0,
    scrapCount: 0,
    postings: [],
  }),
  // Started at 08:03, one posting so far.
  order('aug-m04-20261123-e01', '08:14:59.999', {
    actualStartAt: at('08:03:00.000'),
    totalCount: 118,
    goodCount: 117,
    scrapCount: 1,
    postings: [posting('08:14:59.999', 117, 1)],
  }),
  order('aug-m05-20261123-e01', '08:15:00.000'),
];

/** Seven closed intervals on aug-m07 updated a minute apart from 08:01, for paging. */
export const FIXTURE_STATES: StateRecord[] = Array.from({ length: 7 }, (_, i) => {
  const startAt = new Date(at('08:00:30.000').getTime() + i * 60_000);
  const endAt = new Date(startAt.getTime() + 30_000);
  return {
    stateId: `aug-m07-${startAt.getTime()}`,
    facilityId: 'augsburg',
    machineId: 'aug-m07',
    state: i % 2 === 0 ? 'running' : 'failure',
    ...(i % 2 === 0 ? { speedFactor: 1 } : { reasonCode: 'F-JAM' }),
    orderId: 'aug-m02-20261123-e01',
    startAt,
    endAt,
    updatedAt: endAt,
  };
});

/** A MesDataSource over the records above (no quality measurements). */
export function simaticConnectorFixture(): MesDataSource {
  return {
    snapshot(facilityId, asOf, since): MesSnapshot {
      const visible = <T extends { facilityId: string; updatedAt: Date }>(xs: T[]) =>
        xs.filter((x) => x.facilityId === facilityId && x.updatedAt >= since && x.updatedAt <= asOf);
      return {
        orders: visible(FIXTURE_ORDERS),
        machineStates: visible(FIXTURE_STATES),
        qualityMeasurements: [],
      };
    },
  };
}
