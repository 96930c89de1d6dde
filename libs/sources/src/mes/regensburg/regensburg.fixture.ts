import type {
  FacilityId,
  MeasurementRecord,
  MesDataSource,
  MesSnapshot,
  OrderRecord,
  QuantityPosting,
  StateRecord,
} from '@aurora/plant';

/**
 * A few canonical Regensburg MES records around "now" = 2026-11-23T12:00:00Z (13:00 in Regensburg), for
 * the connector tests against the stand-in. The 72 h retention horizon is 2026-11-20T12:00:00Z.
 */
export const FIXTURE_NOW = new Date('2026-11-23T12:00:00Z');

const at = (iso: string) => new Date(iso);

const order = (o: Omit<OrderRecord, 'facilityId'>): OrderRecord => ({ facilityId: 'regensburg', ...o });

const QUARTER_HOUR_MS = 900_000;

/** Postings at every quarter hour after `start` and at `last`, the good and scrap parts spread evenly. */
function postingsOver(start: string, last: string, good: number, scrap: number): QuantityPosting[] {
  const times: number[] = [];
  const lastMs = at(last).getTime();
  const first = Math.floor(at(start).getTime() / QUARTER_HOUR_MS) * QUARTER_HOUR_MS + QUARTER_HOUR_MS;
  for (let t = first; t < lastMs; t += QUARTER_HOUR_MS) times.push(t);
  times.push(lastMs);
  const share = (n: number, i: number) =>
    Math.floor((n * (i + 1)) / times.length) - Math.floor((n * i) / times.length);
  return times.map((t, i) => ({
    postedAt: new Date(t),
    totalCount: share(good, i) + share(scrap, i),
    goodCount: share(good, i),
    scrapCount: share(scrap, i),
  }));
}

export const ORDER_RUNNING = order({
  orderId: 'rgb-m01-20261123-e01',
  machineId: 'rgb-m01',
  materialId: 'AUR-10031',
  plannedQty: 300,
  idealCycleTimeS: 90,
  plannedStartAt: at('2026-11-23T05:00:00Z'),
  plannedEndAt: at('2026-11-23T13:00:00Z'),
  actualStartAt: at('2026-11-23T05:12:30Z'),
  status: 'in_progress',
  totalCount: 150,
  goodCount: 147,
  scrapCount: 3,
  postings: postingsOver('2026-11-23T05:12:30Z', '2026-11-23T11:45:00Z', 147, 3),
  updatedAt: at('2026-11-23T11:45:00Z'),
});

export const ORDER_DONE = order({
  orderId: 'rgb-m02-20261122-l01',
  machineId: 'rgb-m02',
  materialId: 'AUR-10041',
  plannedQty: 80,
  idealCycleTimeS: 112.5,
  plannedStartAt: at('2026-11-22T13:00:00Z'),
  plannedEndAt: at('2026-11-22T21:00:00Z'),
  actualStartAt: at('2026-11-22T13:20:00Z'),
  actualEndAt: at('2026-11-22T20:40:00Z'),
  status: 'completed',
  totalCount: 82,
  goodCount: 80,
  scrapCount: 2,
  postings: postingsOver('2026-11-22T13:20:00Z', '2026-11-22T20:40:00Z', 80, 2),
  updatedAt: at('2026-11-22T20:40:00Z'),
});

export const ORDER_RELEASED = order({
  orderId: 'rgb-m03-20261123-l01',
  machineId: 'rgb-m03',
  materialId: 'AUR-10061',
  plannedQty: 60,
  idealCycleTimeS: 420,
  plannedStartAt: at('2026-11-23T13:00:00Z'),
  plannedEndAt: at('2026-11-23T21:00:00Z'),
  status: 'released',
  totalCount: 0,
  goodCount: 0,
  scrapCount: 0,
  postings: [],
  updatedAt: at('2026-11-23T03:00:00Z'),
});

/** Last changed exactly at the retention horizon: still online. */
export const ORDER_AT_HORIZON = order({
  ...ORDER_DONE,
  orderId: 'rgb-m02-20261120-e01',
  status: 'completed',
  // Everything booked at once, at the end: a single posting.
  postings: [{ postedAt: at('2026-11-20T12:00:00Z'), totalCount: 82, goodCount: 80, scrapCount: 2 }],
  updatedAt: at('2026-11-20T12:00:00Z'),
});

/** Last changed a millisecond before the horizon: no longer online. */
export const ORDER_EXPIRED = order({
  ...ORDER_DONE,
  orderId: 'rgb-m01-20261120-e01',
  updatedAt: at('2026-11-20T11:59:59.999Z'),
});

/** Written a millisecond after now: not visible yet. */
export const ORDER_FUTURE = order({
  ...ORDER_RELEASED,
  orderId: 'rgb-m04-20261124-e01',
  updatedAt: at('2026-11-23T12:00:00.001Z'),
});

const state = (s: Omit<StateRecord, 'facilityId'>): StateRecord => ({ facilityId: 'regensburg', ...s });

export const STATE_RUNNING = state({
  stateId: 'rgb-m01-1795428000000',
  machineId: 'rgb-m01',
  state: 'running',
  orderId: ORDER_RUNNING.orderId,
  startAt: at('2026-11-23T10:00:00Z'),
  endAt: at('2026-11-23T11:00:00Z'),
  speedFactor: 1,
  updatedAt: at('2026-11-23T11:00:00Z'),
});

/** Still open: no end. */
export const STATE_FAILURE = state({
  stateId: 'rgb-m01-1795431600000',
  machineId: 'rgb-m01',
  state: 'failure',
  reasonCode: 'F-HYDRAULIC',
  orderId: ORDER_RUNNING.orderId,
  startAt: at('2026-11-23T11:00:00Z'),
  updatedAt: at('2026-11-23T11:00:00Z'),
});

/** 15:30 in Regensburg: the late shift. */
export const STATE_SLOW = state({
  stateId: 'rgb-m02-1795365000000',
  machineId: 'rgb-m02',
  state: 'reduced_speed',
  reasonCode: 'SPEED-LOSS',
  orderId: ORDER_DONE.orderId,
  startAt: at('2026-11-22T14:30:00Z'),
  endAt: at('2026-11-22T15:00:00Z'),
  speedFactor: 0.72,
  updatedAt: at('2026-11-22T15:00:00Z'),
});

/** 22:00 on the 22nd in Regensburg: the night shift of the 22nd. */
export const STATE_NIGHT = state({
  stateId: 'rgb-m03-1795381200000',
  machineId: 'rgb-m03',
  state: 'no_shift',
  startAt: at('2026-11-22T21:00:00Z'),
  endAt: at('2026-11-23T05:00:00Z'),
  updatedAt: at('2026-11-23T05:00:00Z'),
});

const measurement = (m: Omit<MeasurementRecord, 'facilityId' | 'unit'>): MeasurementRecord => ({
  facilityId: 'regensburg',
  unit: 'mm',
  ...m,
});

export const MEASUREMENT_OK = measurement({
  measurementId: 'rgb-m01-20261123-e01-q00020',
  machineId: 'rgb-m01',
  orderId: ORDER_RUNNING.orderId,
  materialId: 'AUR-10031',
  characteristic: 'outer_diameter',
  nominal: 25,
  lsl: 24.99,
  usl: 25.01,
  value: 25.0034,
  ok: true,
  measuredAt: at('2026-11-23T09:30:00Z'),
  updatedAt: at('2026-11-23T09:30:00Z'),
});

export const MEASUREMENT_NOT_OK = measurement({
  measurementId: 'rgb-m02-20261122-l01-q00010',
  machineId: 'rgb-m02',
  orderId: ORDER_DONE.orderId,
  materialId: 'AUR-10041',
  characteristic: 'seam_width',
  nominal: 6,
  lsl: 5.2,
  usl: 6.8,
  value: 6.8125,
  ok: false,
  defectCode: 'SEAM_WIDTH_HIGH',
  measuredAt: at('2026-11-22T18:00:00Z'),
  updatedAt: at('2026-11-22T18:00:00Z'),
});

export const FIXTURE_SNAPSHOT: MesSnapshot = {
  orders: [ORDER_RUNNING, ORDER_DONE, ORDER_RELEASED, ORDER_AT_HORIZON, ORDER_EXPIRED, ORDER_FUTURE],
  machineStates: [STATE_RUNNING, STATE_FAILURE, STATE_SLOW, STATE_NIGHT],
  qualityMeasurements: [MEASUREMENT_OK, MEASUREMENT_NOT_OK],
};

/**
 * A MesDataSource over fixed records honouring the contract: the records of the facility updated in
 * [since, asOf]. It remembers every call, so tests can see what the stand-in asked for.
 */
export function fixtureSource(
  snapshot: MesSnapshot = FIXTURE_SNAPSHOT,
): MesDataSource & { calls: { facilityId: FacilityId; asOf: Date; since: Date }[] } {
  const calls: { facilityId: FacilityId; asOf: Date; since: Date }[] = [];
  return {
    calls,
    snapshot(facilityId, asOf, since) {
      calls.push({ facilityId, asOf, since });
      const visible = <T extends { facilityId: FacilityId; updatedAt: Date }>(records: T[]) =>
        records.filter(
          (r) =>
            r.facilityId === facilityId && r.updatedAt >= since && r.updatedAt.getTime() <= asOf.getTime(),
        );
      return {
        orders: visible(snapshot.orders),
        machineStates: visible(snapshot.machineStates),
        qualityMeasurements: visible(snapshot.qualityMeasurements),
      };
    },
  };
}
