import { type Catalogue, catalogue as defaultCatalogue, type Sensor, telemetryTopic } from './catalogue.js';
import type { MachineState } from './mes/records.js';
import { hashString, normal, unit } from './random.js';

/** What a sensor puts on the wire (JSON, UTF-8). */
export interface SensorPayload {
  sensor_id: string;
  metric: string;
  unit: string;
  value: number;
  /** Event time, ISO 8601 UTC. */
  ts: string;
  /** The sensor's own message counter. */
  seq: number;
}

export type BadMessageKind =
  | 'truncated_json'
  | 'binary_garbage'
  | 'value_not_number'
  | 'missing_ts'
  | 'unknown_sensor'
  | 'ts_not_a_date'
  | 'metric_mismatch'
  | 'oversized'
  | 'far_future'
  | 'json_array';

const BAD_KINDS: readonly BadMessageKind[] = [
  'truncated_json',
  'binary_garbage',
  'value_not_number',
  'missing_ts',
  'unknown_sensor',
  'ts_not_a_date',
  'metric_mismatch',
  'oversized',
  'far_future',
  'json_array',
];

export interface SimulatedMessage {
  topic: string;
  payload: Buffer;
  sensorId: string;
  eventAt: Date;
  /** Set when the simulator broke this message on purpose; validation must reject it. */
  bad?: BadMessageKind;
}

export interface TelemetrySimulation {
  seed: number;
  /** Event times in [from, to). */
  from: Date;
  to: Date;
  /** Readings per sensor per second. */
  rateHz: number;
  /** Share of messages broken on purpose (0..1). */
  badRatio?: number;
  sensors?: readonly Sensor[];
  catalogue?: Catalogue;
  /**
   * What each machine is doing (the plant model's `stateAt`): vibration and energy follow it. Without it
   * every machine runs all the time.
   */
  machineState?: (
    machineId: string,
    atMs: number,
  ) => { state: MachineState; speedFactor: number } | undefined;
}

/** How much of its running level a metric shows in each state (temperature and pressure stay put). */
const LOAD: Record<'vibration' | 'energy', Record<MachineState, number>> = {
  vibration: {
    running: 1,
    reduced_speed: 0.7,
    micro_stop: 0.15,
    setup: 0.15,
    no_order: 0.1,
    break: 0.1,
    failure: 0.05,
    maintenance: 0.05,
    no_shift: 0.02,
  },
  energy: {
    running: 1,
    reduced_speed: 0.75,
    micro_stop: 0.3,
    setup: 0.3,
    no_order: 0.25,
    break: 0.25,
    failure: 0.1,
    maintenance: 0.1,
    no_shift: 0.05,
  },
};

function loadOf(sim: TelemetrySimulation, sensor: Sensor, atMs: number): number {
  if (!sim.machineState || (sensor.metric !== 'vibration' && sensor.metric !== 'energy')) return 1;
  const s = sim.machineState(sensor.machineId, atMs);
  if (!s) return 1;
  return s.state === 'reduced_speed'
    ? LOAD[sensor.metric].reduced_speed * s.speedFactor
    : LOAD[sensor.metric][s.state];
}

const STREAM_BAD = 0x0bad;

/**
 * Deterministic sensor readings for a time window: the same seed and window give the same messages, byte
 * for byte. Ticks sit on a fixed grid per sensor (its own phase), so consecutive windows tile exactly.
 */
export function* simulateTelemetry(sim: TelemetrySimulation): Generator<SimulatedMessage> {
  const sensors = sim.sensors ?? (sim.catalogue ?? defaultCatalogue).sensors;
  const periodMs = Math.max(10, Math.round(1000 / sim.rateHz));
  const fromMs = sim.from.getTime();
  const toMs = sim.to.getTime();
  const badRatio = sim.badRatio ?? 0;
  const plan = sensors.map((sensor) => {
    const stream = hashString(sensor.id);
    const phase = Math.floor(unit(sim.seed, stream, -1) * periodMs);
    return { sensor, stream, phase, first: Math.ceil((fromMs - phase) / periodMs) };
  });
  for (let step = 0; ; step++) {
    let any = false;
    for (const { sensor, stream, phase, first } of plan) {
      const k = first + step;
      const at = k * periodMs + phase;
      if (at >= toMs) continue;
      any = true;
      const payload: SensorPayload = {
        sensor_id: sensor.id,
        metric: sensor.metric,
        unit: sensor.unit,
        value: reading(sim.seed, stream, k, sensor, loadOf(sim, sensor, at)),
        ts: new Date(at).toISOString(),
        seq: k,
      };
      const message: SimulatedMessage = {
        topic: telemetryTopic(sensor),
        payload: Buffer.from(JSON.stringify(payload)),
        sensorId: sensor.id,
        eventAt: new Date(at),
      };
      if (badRatio > 0 && unit(sim.seed ^ STREAM_BAD, stream, k) < badRatio) {
        const kind = BAD_KINDS[Math.floor(unit(sim.seed, stream ^ STREAM_BAD, k) * BAD_KINDS.length)]!;
        message.bad = kind;
        message.payload = corrupt(kind, payload);
      }
      yield message;
    }
    if (!any) return;
  }
}

/**
 * A plausible reading: nominal level scaled by the machine's load, a slow daily swing, and noise; rounded
 * as a sensor would.
 */
function reading(seed: number, stream: number, k: number, sensor: Sensor, load: number): number {
  const swing = Math.sin((2 * Math.PI * k) / 1440 + (stream % 360)) * sensor.spread * 0.5 * load;
  const raw = sensor.nominal * load + swing + normal(seed, stream, k) * sensor.spread * Math.max(load, 0.1);
  return Math.round(Math.min(sensor.max, Math.max(sensor.min, raw)) * 1000) / 1000;
}

function corrupt(kind: BadMessageKind, p: SensorPayload): Buffer {
  const json = (x: unknown) => Buffer.from(JSON.stringify(x));
  switch (kind) {
    case 'truncated_json':
      return Buffer.from(JSON.stringify(p).slice(0, 30));
    case 'binary_garbage':
      return Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x7b, 0x22, 0xc3, 0x28]);
    case 'value_not_number':
      return json({ ...p, value: 'hot' });
    case 'missing_ts': {
      const { ts: _ts, ...rest } = p;
      return json(rest);
    }
    case 'unknown_sensor':
      return json({ ...p, sensor_id: 'ghost-m99-temperature' });
    case 'ts_not_a_date':
      return json({ ...p, ts: 'yesterday at noon' });
    case 'metric_mismatch':
      return json({ ...p, metric: p.metric === 'pressure' ? 'energy' : 'pressure' });
    case 'oversized':
      return json({ ...p, note: 'x'.repeat(300 * 1024) });
    case 'far_future':
      return json({ ...p, ts: '2099-01-01T00:00:00.000Z' });
    case 'json_array':
      return json([p, p]);
  }
}
