import { z } from 'zod';
import type { Role } from './auth.js';
import { type ApiContext, requireFacility, resolveWindow } from './context.js';
import { defineEndpoint, queryObjectSchema } from './endpoint.js';
import { ApiProblem } from './problem.js';
import { instantParam, isoInstant, machineIdSchema } from './schemas.js';
import { greatest, isTrue, least, millisBetween, sql } from './statement.js';

/** Weights of the health score's components; a component without data drops out and the rest rescale. */
export const HEALTH_WEIGHTS = { availability: 0.5, anomalies: 0.25, signal: 0.25 } as const;
/** A share of spike (or flatline) windows at which that component reaches 0: 5 %. */
export const ANOMALY_ZERO_SHARE = 0.05;

const component = z.object({
  score: z.number().min(0).max(100).nullable(),
  weight: z.number(),
  detail: z.string(),
});

export const machineHealthSchema = z
  .object({
    machine_id: z.string(),
    facility_id: z.string(),
    from: isoInstant,
    to: isoInstant,
    score: z
      .number()
      .int()
      .min(0)
      .max(100)
      .nullable()
      .meta({ description: '0-100; null without any data in the window' }),
    status: z.enum(['good', 'degraded', 'critical', 'unknown']),
    components: z.object({ availability: component, anomalies: component, signal: component }),
    downtime: z.object({
      planned_time_s: z.number().min(0),
      failure_s: z.number().min(0),
      maintenance_s: z.number().min(0),
      setup_s: z.number().min(0),
      by_state: z.record(z.string(), z.number()),
    }),
    sensors: z.array(
      z.object({
        metric: z.string(),
        unit: z.string().nullable(),
        sensors: z.number().int(),
        windows: z.number().int(),
        samples: z.number().int(),
        mean: z.number().nullable(),
        min: z.number().nullable(),
        max: z.number().nullable(),
        spike_windows: z.number().int(),
        flatline_windows: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'MachineHealth' });

/**
 * The health score (docs/api.md): availability = 100 x (1 - failure time / planned production time);
 * anomalies = 100 x (1 - spike windows / windows / 5 %), floored at 0; signal = the same for flatline
 * windows (a stuck sensor). Score = the weighted mean of the components that have data (50/25/25).
 */
export function healthScore(input: {
  plannedS: number;
  failureS: number;
  windows: number;
  spikes: number;
  flatlines: number;
}) {
  const availability = input.plannedS > 0 ? 100 * Math.max(0, 1 - input.failureS / input.plannedS) : null;
  const share = (n: number) =>
    input.windows > 0 ? 100 * Math.max(0, 1 - n / input.windows / ANOMALY_ZERO_SHARE) : null;
  const anomalies = share(input.spikes);
  const signal = share(input.flatlines);
  const parts = [
    [availability, HEALTH_WEIGHTS.availability],
    [anomalies, HEALTH_WEIGHTS.anomalies],
    [signal, HEALTH_WEIGHTS.signal],
  ] as const;
  const weight = parts.reduce((s, [v, w]) => s + (v === null ? 0 : w), 0);
  const score = weight > 0 ? Math.round(parts.reduce((s, [v, w]) => s + (v ?? 0) * w, 0) / weight) : null;
  const status = score === null ? 'unknown' : score >= 80 ? 'good' : score >= 50 ? 'degraded' : 'critical';
  const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    score,
    status,
    availability: round1(availability),
    anomalies: round1(anomalies),
    signal: round1(signal),
  } as const;
}

const READERS: readonly Role[] = ['platform-admin', 'data-engineer', 'analyst', 'viewer'];

/** GET /machines/{machine_id}/health */
export const machineHealthEndpoint = (ctx: ApiContext) =>
  defineEndpoint({
    name: 'getMachineHealth',
    method: 'GET',
    path: '/machines/{machine_id}/health',
    summary: 'A 0-100 health score of one machine with its components',
    description:
      'From the 1-minute sensor windows (silver.machine_telemetry: means, spikes, flatlines) and the machine state intervals (silver.machine_states: failures, maintenance, setups) in [from, to), default the last 24 h.',
    roles: READERS,
    params: z.strictObject({ machine_id: machineIdSchema }),
    query: queryObjectSchema({
      from: instantParam.optional().meta({ description: 'default: 24 h before `to`' }),
      to: instantParam.optional().meta({ description: 'default: now' }),
    }),
    response: machineHealthSchema,
    errors: [404],
    async handle({ params, query, principal }) {
      const [machine] = await ctx.gold.query(
        sql`SELECT machine_id, facility_id FROM gold.dim_machine WHERE machine_id = ${params.machine_id}`,
      );
      if (!machine)
        throw new ApiProblem(404, 'machine.not_found', `there is no machine "${params.machine_id}"`);
      const facility = String(machine['facility_id']);
      requireFacility(ctx, principal, facility);
      const { from, to } = resolveWindow(ctx, query, 86_400, 31 * 86_400);
      const [telemetry, states] = await Promise.all([
        ctx.gold.query(sql`SELECT metric, min(unit) AS unit, count(DISTINCT sensor_id) AS sensors, count(*) AS windows,
  sum(sample_count) AS samples, sum(value_sum) AS value_sum, min(value_min) AS value_min, max(value_max) AS value_max,
  sum(CASE WHEN ${isTrue('is_spike')} THEN 1 ELSE 0 END) AS spike_windows,
  sum(CASE WHEN ${isTrue('is_flatline')} THEN 1 ELSE 0 END) AS flatline_windows
FROM silver.machine_telemetry
WHERE machine_id = ${params.machine_id} AND window_start >= ${from} AND window_start < ${to}
GROUP BY metric ORDER BY metric`),
        ctx.gold.query(sql`SELECT state, loss_class, sum(ms) AS ms FROM (
  SELECT state, loss_class, ${millisBetween(greatest(sql`start_at`, sql`${from}`), least(sql`observed_until`, sql`${to}`))} AS ms
  FROM silver.machine_states
  WHERE machine_id = ${params.machine_id} AND start_at < ${to} AND observed_until > ${from}
) AS clipped GROUP BY state, loss_class`),
      ]);
      const byState: Record<string, number> = {};
      let plannedS = 0;
      for (const s of states) {
        const seconds = Number(s['ms'] ?? 0) / 1000;
        byState[String(s['state'])] = seconds;
        if (s['loss_class'] !== 'planned_stop') plannedS += seconds;
      }
      const windows = telemetry.reduce((n, t) => n + Number(t['windows']), 0);
      const spikes = telemetry.reduce((n, t) => n + Number(t['spike_windows']), 0);
      const flatlines = telemetry.reduce((n, t) => n + Number(t['flatline_windows']), 0);
      const failureS = byState['failure'] ?? 0;
      const h = healthScore({ plannedS, failureS, windows, spikes, flatlines });
      return {
        machine_id: params.machine_id,
        facility_id: facility,
        from: from.toISOString(),
        to: to.toISOString(),
        score: h.score,
        status: h.status,
        components: {
          availability: {
            score: h.availability,
            weight: HEALTH_WEIGHTS.availability,
            detail: `${Math.round(failureS)} s of failure in ${Math.round(plannedS)} s of planned production time`,
          },
          anomalies: {
            score: h.anomalies,
            weight: HEALTH_WEIGHTS.anomalies,
            detail: `${spikes} spike windows of ${windows} sensor-minutes (0 at ${ANOMALY_ZERO_SHARE * 100} %)`,
          },
          signal: {
            score: h.signal,
            weight: HEALTH_WEIGHTS.signal,
            detail: `${flatlines} flatline windows of ${windows} sensor-minutes (0 at ${ANOMALY_ZERO_SHARE * 100} %)`,
          },
        },
        downtime: {
          planned_time_s: Math.round(plannedS * 1000) / 1000,
          failure_s: failureS,
          maintenance_s: byState['maintenance'] ?? 0,
          setup_s: byState['setup'] ?? 0,
          by_state: byState,
        },
        sensors: telemetry.map((t) => {
          const samples = Number(t['samples'] ?? 0);
          return {
            metric: String(t['metric']),
            unit: t['unit'] === null ? null : String(t['unit']),
            sensors: Number(t['sensors']),
            windows: Number(t['windows']),
            samples,
            mean: samples > 0 ? Math.round((Number(t['value_sum']) / samples) * 1e6) / 1e6 : null,
            min: t['value_min'] === null ? null : Number(t['value_min']),
            max: t['value_max'] === null ? null : Number(t['value_max']),
            spike_windows: Number(t['spike_windows']),
            flatline_windows: Number(t['flatline_windows']),
          };
        }),
      };
    },
  });
