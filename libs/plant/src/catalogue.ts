/**
 * The plant catalogue: three facilities, their machines and the 340 sensors on them. Every local data
 * source and every validation of sensor data refers to it; it is fixed (not seeded) so that ids are stable.
 */

export type FacilityId = 'augsburg' | 'ingolstadt' | 'regensburg';
export type Metric = 'temperature' | 'pressure' | 'vibration' | 'energy';
export type MachineKind = 'press' | 'cnc_mill' | 'lathe' | 'welding_robot' | 'paint_line' | 'assembly_cell';

export interface Facility {
  id: FacilityId;
  name: string;
  /** Days and shifts are the plant's local ones. */
  timeZone: 'Europe/Berlin';
  mes: 'simatic-it' | 'hydra' | 'regensburg-mes';
  prefix: string;
}

export interface Machine {
  id: string;
  facilityId: FacilityId;
  kind: MachineKind;
  name: string;
}

export interface Sensor {
  id: string;
  facilityId: FacilityId;
  machineId: string;
  metric: Metric;
  unit: string;
  /** Typical reading while running, and its spread. */
  nominal: number;
  spread: number;
  /** Physically possible readings; anything outside is a broken sensor, not a hot machine. */
  min: number;
  max: number;
}

export const METRICS: readonly Metric[] = ['temperature', 'pressure', 'vibration', 'energy'];

export const METRIC_SPECS: Record<Metric, { unit: string; min: number; max: number }> = {
  temperature: { unit: 'degC', min: -40, max: 400 },
  pressure: { unit: 'bar', min: 0, max: 700 },
  vibration: { unit: 'mm/s', min: 0, max: 100 },
  energy: { unit: 'kWh', min: 0, max: 50 },
};

const NOMINAL: Record<MachineKind, Record<Metric, [number, number]>> = {
  press: { temperature: [48, 3], pressure: [210, 12], vibration: [4.5, 0.8], energy: [1.9, 0.3] },
  cnc_mill: { temperature: [38, 2], pressure: [6, 0.4], vibration: [2.2, 0.4], energy: [0.9, 0.15] },
  lathe: { temperature: [36, 2], pressure: [5.5, 0.4], vibration: [1.8, 0.3], energy: [0.7, 0.1] },
  welding_robot: { temperature: [62, 5], pressure: [4, 0.3], vibration: [1.1, 0.2], energy: [1.4, 0.25] },
  paint_line: { temperature: [28, 1.5], pressure: [3.2, 0.2], vibration: [0.6, 0.1], energy: [2.6, 0.4] },
  assembly_cell: { temperature: [24, 1], pressure: [6.5, 0.3], vibration: [0.8, 0.15], energy: [0.4, 0.08] },
};

export const FACILITIES: readonly Facility[] = [
  { id: 'augsburg', name: 'Augsburg', timeZone: 'Europe/Berlin', mes: 'simatic-it', prefix: 'aug' },
  { id: 'ingolstadt', name: 'Ingolstadt', timeZone: 'Europe/Berlin', mes: 'hydra', prefix: 'ing' },
  { id: 'regensburg', name: 'Regensburg', timeZone: 'Europe/Berlin', mes: 'regensburg-mes', prefix: 'rgb' },
];

/** Machines per facility and the kinds they cycle through; 85 machines x 4 metrics = 340 sensors. */
const LAYOUT: Record<FacilityId, { count: number; kinds: MachineKind[] }> = {
  augsburg: { count: 30, kinds: ['press', 'press', 'cnc_mill', 'welding_robot', 'assembly_cell'] },
  ingolstadt: { count: 28, kinds: ['cnc_mill', 'lathe', 'cnc_mill', 'paint_line'] },
  regensburg: { count: 27, kinds: ['lathe', 'welding_robot', 'assembly_cell'] },
};

export interface Catalogue {
  facilities: readonly Facility[];
  machines: readonly Machine[];
  sensors: readonly Sensor[];
  facility(id: string): Facility | undefined;
  machine(id: string): Machine | undefined;
  sensor(id: string): Sensor | undefined;
}

function build(): Catalogue {
  const machines: Machine[] = [];
  const sensors: Sensor[] = [];
  for (const facility of FACILITIES) {
    const { count, kinds } = LAYOUT[facility.id];
    for (let i = 1; i <= count; i++) {
      const kind = kinds[(i - 1) % kinds.length]!;
      const id = `${facility.prefix}-m${String(i).padStart(2, '0')}`;
      machines.push({
        id,
        facilityId: facility.id,
        kind,
        name: `${facility.name} ${kind.replace('_', ' ')} ${i}`,
      });
      for (const metric of METRICS) {
        const [nominal, spread] = NOMINAL[kind][metric];
        sensors.push({
          id: `${id}-${metric}`,
          facilityId: facility.id,
          machineId: id,
          metric,
          nominal,
          spread,
          ...METRIC_SPECS[metric],
        });
      }
    }
  }
  const byId = <T extends { id: string }>(items: readonly T[]) => new Map(items.map((x) => [x.id, x]));
  const f = byId(FACILITIES);
  const m = byId(machines);
  const s = byId(sensors);
  return {
    facilities: FACILITIES,
    machines,
    sensors,
    facility: (id) => f.get(id as FacilityId),
    machine: (id) => m.get(id),
    sensor: (id) => s.get(id),
  };
}

export const catalogue: Catalogue = build();

/** The MQTT topic a sensor publishes on: one per facility/machine/sensor. */
export const telemetryTopic = (sensor: Pick<Sensor, 'facilityId' | 'machineId' | 'id'>) =>
  `aurora/telemetry/${sensor.facilityId}/${sensor.machineId}/${sensor.id}`;

export const TELEMETRY_TOPIC_FILTER = 'aurora/telemetry/#';

/** Reads facility, machine and sensor back out of a telemetry topic. */
export function parseTelemetryTopic(
  topic: string,
): { facilityId: string; machineId: string; sensorId: string } | undefined {
  const m = topic.match(/^aurora\/telemetry\/([^/]+)\/([^/]+)\/([^/]+)$/);
  return m ? { facilityId: m[1]!, machineId: m[2]!, sensorId: m[3]! } : undefined;
}
