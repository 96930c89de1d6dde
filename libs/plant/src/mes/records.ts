import type { FacilityId } from '../catalogue.js';

/**
 * What the three MES know, in the plant model's own terms. Each stand-in renders these records in its
 * product's field names, units, code lists and time formats; silver maps them back.
 */

/** Every state a machine can be in, each belonging to one loss class of the OEE model (docs/oee.md). */
export type MachineState =
  | 'running'
  | 'reduced_speed'
  | 'micro_stop'
  | 'failure'
  | 'setup'
  | 'maintenance'
  | 'break'
  | 'no_shift'
  | 'no_order';

/**
 * `productive` and `performance_loss` are run time; `availability_loss` is planned production time the
 * machine did not run; `planned_stop` is not planned production time at all.
 */
export type LossClass = 'productive' | 'performance_loss' | 'availability_loss' | 'planned_stop';

export const LOSS_CLASS: Record<MachineState, LossClass> = {
  running: 'productive',
  reduced_speed: 'performance_loss',
  micro_stop: 'performance_loss',
  failure: 'availability_loss',
  setup: 'availability_loss',
  maintenance: 'availability_loss',
  break: 'planned_stop',
  no_shift: 'planned_stop',
  no_order: 'planned_stop',
};

export const MACHINE_STATES = Object.keys(LOSS_CLASS) as MachineState[];

export type OrderStatus = 'released' | 'in_progress' | 'completed';

/** A production order (one operation on one machine) as the MES shows it at a moment. */
export interface OrderRecord {
  /** Canonical id, e.g. `aug-m07-20261123-02`; vendors render their own numbers from it. */
  orderId: string;
  facilityId: FacilityId;
  machineId: string;
  /** The ERP item made (MTL_SYSTEM_ITEMS_B.SEGMENT1), e.g. `AUR-10023`. */
  materialId: string;
  plannedQty: number;
  idealCycleTimeS: number;
  plannedStartAt: Date;
  plannedEndAt: Date;
  actualStartAt?: Date;
  actualEndAt?: Date;
  status: OrderStatus;
  /** Counts booked so far (the MES books quantities every 15 minutes and at the end of the order). */
  totalCount: number;
  goodCount: number;
  scrapCount: number;
  /**
   * Every quantity posting booked up to this version, oldest first; their deltas sum to the counts above.
   * Bronze keeps only an order's latest version, so these are what lets silver place parts in the hour
   * they were made (docs/oee.md, "Counts").
   */
  postings: QuantityPosting[];
  /** When this version was written in the MES. */
  updatedAt: Date;
}

/**
 * One quantity posting of an order (HYDRA "Mengenbuchung", Opcenter produced-material posting): the parts
 * completed in (previous posting, `postedAt`], the first posting counting from the order's actual start.
 * The MES posts at every UTC quarter hour while the order runs and at its actual end, zero parts included.
 */
export interface QuantityPosting {
  postedAt: Date;
  /** Parts completed in the interval, good and scrap. */
  totalCount: number;
  goodCount: number;
  scrapCount: number;
}

/** One interval of one machine in one state. Open (no `endAt`) while it lasts. */
export interface StateRecord {
  /** Stable across versions: the open and the closed record of an interval share it. */
  stateId: string;
  facilityId: FacilityId;
  machineId: string;
  state: MachineState;
  /** Why, where the state has a reason: failure cause, setup, maintenance kind... */
  reasonCode?: string;
  orderId?: string;
  startAt: Date;
  endAt?: Date;
  /** Share of the ideal rate while `reduced_speed` (0..1); 1 while running. */
  speedFactor?: number;
  updatedAt: Date;
}

/** One inspection of one characteristic on one part. */
export interface MeasurementRecord {
  measurementId: string;
  facilityId: FacilityId;
  machineId: string;
  orderId: string;
  materialId: string;
  characteristic: string;
  /** Unit of nominal, limits and value in the model: always `mm`; vendors may convert. */
  unit: 'mm';
  nominal: number;
  lsl: number;
  usl: number;
  value: number;
  ok: boolean;
  /** Set when not ok: the defect class (Pareto of defect reasons). */
  defectCode?: string;
  measuredAt: Date;
  updatedAt: Date;
}

export interface MesSnapshot {
  orders: OrderRecord[];
  machineStates: StateRecord[];
  qualityMeasurements: MeasurementRecord[];
}

/**
 * What the stand-ins serve: for one facility, the latest version of every record that is visible in the
 * MES at `asOf` and was last updated at or after `since`. A version becomes visible some seconds after its
 * `updatedAt` (the MES commits late), which is why connectors read with an overlap.
 */
export interface MesDataSource {
  snapshot(facilityId: FacilityId, asOf: Date, since: Date): MesSnapshot;
}
