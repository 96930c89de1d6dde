import { type FacilityId, oeeOf, plantDayBounds, plantDayOf, type Shift, shiftAt } from '@aurora/plant';
import { z } from 'zod';
import type { Role } from './auth.js';
import { type ApiContext, requireFacility, resolveWindow } from './context.js';
import { defineEndpoint, queryObjectSchema } from './endpoint.js';
import { GoldMemo } from './gold-memo.js';
import type { GoldRow } from './gold-reader.js';
import { Lru } from './lru.js';
import { facilityIdSchema, instantParam, isoDate, isoInstant, oeeFiguresSchema } from './schemas.js';
import { ident, join, sql } from './statement.js';

const MEASURES = ['planned_time_s', 'run_time_s', 'ideal_output_s', 'total_count', 'good_count'] as const;
type Sums = Record<(typeof MEASURES)[number] | 'hours' | 'complete_hours', number>;

const periodSchema = (id: string, extra: z.ZodRawShape) =>
  z.object({ from: isoInstant, to: isoInstant, ...extra, figures: oeeFiguresSchema }).meta({ id });

export const oeeResponseSchema = z
  .object({
    facility_id: z.string(),
    window: periodSchema('OeeWindow', {}),
    current_shift: periodSchema('OeeShift', {
      shift: z.enum(['early', 'late', 'night']),
      shift_date: isoDate,
    })
      .nullable()
      .meta({ description: 'the shift worked at `to` (up to `to`); null when no shift is worked then' }),
    current_day: periodSchema('OeeDay', { day: isoDate }).meta({
      description: 'the plant-local day (Europe/Berlin) of `to`, from its start to `to`',
    }),
    machines: z.array(
      z.object({
        machine_id: z.string(),
        window: oeeFiguresSchema,
        current_shift: oeeFiguresSchema.nullable(),
        current_day: oeeFiguresSchema,
      }),
    ),
  })
  .meta({ id: 'OeeReport' });

export const oeeQuerySchema = queryObjectSchema({
  from: instantParam.optional().meta({ description: 'window start (default: 24 h before `to`)' }),
  to: instantParam.optional().meta({ description: 'window end, exclusive (default: now)' }),
});

const READERS: readonly Role[] = ['platform-admin', 'data-engineer', 'analyst', 'viewer'];

/** Figures from sums: the ratios of docs/oee.md (oeeOf, the plant model's own), never averaged. */
export function figuresOf(s: Sums) {
  const f = oeeOf({
    plannedTimeS: s.planned_time_s,
    runTimeS: s.run_time_s,
    idealOutputS: s.ideal_output_s,
    totalCount: s.total_count,
    goodCount: s.good_count,
  });
  const round3 = (n: number) => Math.round(n * 1000) / 1000;
  return {
    planned_time_s: round3(s.planned_time_s),
    run_time_s: round3(s.run_time_s),
    ideal_output_s: round3(s.ideal_output_s),
    total_count: s.total_count,
    good_count: s.good_count,
    scrap_count: s.total_count - s.good_count,
    availability: f.availability,
    performance: f.performance,
    quality: f.quality,
    oee: f.oee,
    hours: s.hours,
    is_complete: s.hours > 0 && s.complete_hours === s.hours,
  };
}

const zero = (): Sums => ({
  planned_time_s: 0,
  run_time_s: 0,
  ideal_output_s: 0,
  total_count: 0,
  good_count: 0,
  hours: 0,
  complete_hours: 0,
});

const sumsOf = (rows: readonly GoldRow[], from: Date, to: Date): Sums => {
  const s = zero();
  const fromIso = from.toISOString();
  const toIso = to.toISOString();
  for (const row of rows) {
    const hour = String(row['hour_start']);
    if (hour < fromIso || hour >= toIso) continue;
    for (const m of MEASURES) s[m] += Number(row[m] ?? 0);
    s.hours++;
    if (row['is_complete'] === true) s.complete_hours++;
  }
  return s;
};
const add = (a: Sums, b: Sums): Sums => {
  const s = zero();
  for (const k of Object.keys(s) as (keyof Sums)[]) s[k] = a[k] + b[k];
  return s;
};

/** The shift and plant day an instant falls in, and the day's start. */
export interface PlantPeriods {
  shift: Shift | undefined;
  day: string;
  dayFrom: Date;
}

const HOUR_MS = 3_600_000;
const periodsByHour = new Lru<string, PlantPeriods>(1024);

/**
 * The shift and plant day at an instant, computed once per facility and UTC hour: shifts start and end on
 * whole local hours (06, 14, 22) and Europe/Berlin's offsets are whole hours, so every instant of a UTC
 * hour has the same shift and day (the time-zone arithmetic is most of an uncached request's CPU).
 */
export function plantPeriodsAt(facility: FacilityId, at: Date): PlantPeriods {
  const key = `${facility}:${Math.floor(at.getTime() / HOUR_MS)}`;
  let periods = periodsByHour.get(key);
  if (!periods) {
    const day = plantDayOf(at);
    periods = { shift: shiftAt(facility, at), day, dayFrom: plantDayBounds(day).startAt };
    periodsByHour.set(key, periods);
  }
  return periods;
}

/** The OEE answer for a facility and window: one range read of gold.agg_oee_hourly, summed here. */
async function oeeReport(ctx: ApiContext, facility: string, from: Date, to: Date) {
  const { shift, day, dayFrom } = plantPeriodsAt(facility as FacilityId, new Date(to.getTime() - 1));
  const shiftTo = shift ? new Date(Math.min(shift.endAt.getTime(), to.getTime())) : to;
  const lower = new Date(Math.min(from.getTime(), dayFrom.getTime(), shift?.startAt.getTime() ?? Infinity));
  // One plain range read; the sums per period and machine are made here (cheaper than 21 conditional
  // aggregates in the engine, and the same in both dialects).
  const rows = await ctx.gold.query(sql`SELECT machine_id, hour_start, ${join(
    MEASURES.map((m) => ident(m)),
    ', ',
  )}, is_complete
FROM gold.agg_oee_hourly
WHERE facility_id = ${facility} AND hour_start >= ${lower} AND hour_start < ${to}
ORDER BY machine_id, hour_start`);
  const byMachine = new Map<string, GoldRow[]>();
  for (const row of rows) {
    const id = String(row['machine_id']);
    const hours = byMachine.get(id);
    if (hours) hours.push(row);
    else byMachine.set(id, [row]);
  }
  let w = zero();
  let d = zero();
  let s = zero();
  const machines = [...byMachine].map(([machineId, hours]) => {
    const mw = sumsOf(hours, from, to);
    const md = sumsOf(hours, dayFrom, to);
    const ms = shift ? sumsOf(hours, shift.startAt, shiftTo) : undefined;
    w = add(w, mw);
    d = add(d, md);
    if (ms) s = add(s, ms);
    return {
      machine_id: machineId,
      window: figuresOf(mw),
      current_shift: ms ? figuresOf(ms) : null,
      current_day: figuresOf(md),
    };
  });
  return {
    facility_id: facility,
    window: { from: from.toISOString(), to: to.toISOString(), figures: figuresOf(w) },
    current_shift: shift
      ? {
          from: shift.startAt.toISOString(),
          to: shiftTo.toISOString(),
          shift: shift.name,
          shift_date: shift.plantDay,
          figures: figuresOf(s),
        }
      : null,
    current_day: { from: dayFrom.toISOString(), to: to.toISOString(), day, figures: figuresOf(d) },
    machines,
  };
}

/** GET /production/oee/{facility_id} */
export const oeeEndpoint = (ctx: ApiContext) => {
  // Per context (one per Function App instance): answers for explicit windows while gold is unchanged.
  const memo = new GoldMemo(() => ctx.gold, 512);
  return defineEndpoint({
    name: 'getProductionOee',
    method: 'GET',
    path: '/production/oee/{facility_id}',
    summary: 'OEE of a facility: a time window, the current shift and day, per machine',
    description:
      'Sums planned and run time, ideal output and part counts of gold.agg_oee_hourly (hours whose start lies in [from, to)) and computes availability, performance, quality and OEE from the sums, for the facility and each machine. "Current" is as of `to`.',
    roles: READERS,
    params: z.strictObject({ facility_id: facilityIdSchema }),
    query: oeeQuerySchema,
    response: oeeResponseSchema,
    errors: [404],
    async handle({ params, query, principal }) {
      requireFacility(ctx, principal, params.facility_id);
      const { from, to } = resolveWindow(ctx, query, 86_400, 31 * 86_400);
      const compute = () => oeeReport(ctx, params.facility_id, from, to);
      // "As of now" differs on every request; an explicit window is the same answer until gold changes.
      return query.to === undefined
        ? compute()
        : memo.get(`${params.facility_id}\n${from.getTime()}\n${to.getTime()}`, compute);
    },
  });
};
