import { DateTime } from 'luxon';
import type { FacilityId } from './catalogue.js';

export const PLANT_TIME_ZONE = 'Europe/Berlin';

export type ShiftName = 'early' | 'late' | 'night';

/** One shift as worked: its wall-clock times are the plant's, its instants UTC. */
export interface Shift {
  /** `2026-11-23-early`: the plant-local date the shift starts on, and its name. */
  id: string;
  facilityId: FacilityId;
  name: ShiftName;
  /** Plant-local date the shift belongs to (the night shift belongs to the day it starts). */
  plantDay: string;
  startAt: Date;
  endAt: Date;
  /** Planned stops inside the shift; everything else is planned production time. */
  breaks: { startAt: Date; endAt: Date }[];
}

interface ShiftTemplate {
  name: ShiftName;
  start: number;
  /** Hours; the night shift ends on the next day. */
  hours: number;
  breakAt: number;
  breakMinutes: number;
}

const TEMPLATES: Record<ShiftName, ShiftTemplate> = {
  early: { name: 'early', start: 6, hours: 8, breakAt: 10, breakMinutes: 30 },
  late: { name: 'late', start: 14, hours: 8, breakAt: 18, breakMinutes: 30 },
  night: { name: 'night', start: 22, hours: 8, breakAt: 2, breakMinutes: 30 },
};

/**
 * Which shifts each plant works, by ISO weekday (1 = Monday). Augsburg runs three shifts and a Saturday
 * early shift, Ingolstadt three shifts on weekdays, Regensburg two.
 */
const CALENDARS: Record<FacilityId, Record<number, readonly ShiftName[]>> = {
  augsburg: {
    1: ['early', 'late', 'night'],
    2: ['early', 'late', 'night'],
    3: ['early', 'late', 'night'],
    4: ['early', 'late', 'night'],
    5: ['early', 'late', 'night'],
    6: ['early'],
  },
  ingolstadt: {
    1: ['early', 'late', 'night'],
    2: ['early', 'late', 'night'],
    3: ['early', 'late', 'night'],
    4: ['early', 'late', 'night'],
    5: ['early', 'late', 'night'],
  },
  regensburg: {
    1: ['early', 'late'],
    2: ['early', 'late'],
    3: ['early', 'late'],
    4: ['early', 'late'],
    5: ['early', 'late'],
  },
};

/** A local wall-clock time on a plant day, as a UTC instant (clock changes included). */
function localInstant(day: DateTime, hour: number, plusDays = 0): Date {
  return day.plus({ days: plusDays }).set({ hour, minute: 0, second: 0, millisecond: 0 }).toJSDate();
}

function shiftOn(facilityId: FacilityId, day: DateTime, t: ShiftTemplate): Shift {
  const endsNextDay = t.start + t.hours >= 24;
  const startAt = localInstant(day, t.start);
  const endAt = localInstant(day, (t.start + t.hours) % 24, endsNextDay ? 1 : 0);
  const breakStart = localInstant(day, t.breakAt, t.breakAt < t.start ? 1 : 0);
  const breakEnd = new Date(breakStart.getTime() + t.breakMinutes * 60_000);
  const plantDay = day.toISODate()!;
  return {
    id: `${plantDay}-${t.name}`,
    facilityId,
    name: t.name,
    plantDay,
    startAt,
    endAt,
    breaks: [{ startAt: breakStart, endAt: breakEnd }],
  };
}

/** The plant-local date of an instant, `YYYY-MM-DD`. */
export function plantDayOf(at: Date): string {
  return DateTime.fromJSDate(at, { zone: PLANT_TIME_ZONE }).toISODate()!;
}

/** UTC start and end of a plant-local day: 23 or 25 hours long on the days the clocks change. */
export function plantDayBounds(plantDay: string): { startAt: Date; endAt: Date } {
  const day = DateTime.fromISO(plantDay, { zone: PLANT_TIME_ZONE }).startOf('day');
  if (!day.isValid) throw new Error(`not a date: ${plantDay}`);
  return { startAt: day.toJSDate(), endAt: day.plus({ days: 1 }).toJSDate() };
}

/** Every shift of a facility that overlaps [from, to), in time order. */
export function shiftsBetween(facilityId: FacilityId, from: Date, to: Date): Shift[] {
  const out: Shift[] = [];
  let day = DateTime.fromJSDate(from, { zone: PLANT_TIME_ZONE }).startOf('day').minus({ days: 1 });
  const last = DateTime.fromJSDate(to, { zone: PLANT_TIME_ZONE }).startOf('day');
  for (; day <= last; day = day.plus({ days: 1 })) {
    for (const name of CALENDARS[facilityId][day.weekday] ?? []) {
      const shift = shiftOn(facilityId, day, TEMPLATES[name]);
      if (shift.endAt > from && shift.startAt < to) out.push(shift);
    }
  }
  return out;
}

/** The shift running at an instant, if any. */
export function shiftAt(facilityId: FacilityId, at: Date): Shift | undefined {
  return shiftsBetween(facilityId, at, new Date(at.getTime() + 1)).find(
    (s) => s.startAt <= at && at < s.endAt,
  );
}
