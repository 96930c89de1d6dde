import { describe, expect, it } from 'vitest';
import { plantDayBounds, plantDayOf, shiftAt, shiftsBetween } from './shift-calendar.js';

const iso = (d: Date) => d.toISOString();

describe('shift calendar', () => {
  it('starts the early shift at 06:00 plant time: 05:00 UTC in winter, 04:00 UTC in summer', () => {
    const winter = shiftsBetween('augsburg', new Date('2026-11-23T00:00Z'), new Date('2026-11-24T00:00Z'));
    const summer = shiftsBetween('augsburg', new Date('2026-07-06T00:00Z'), new Date('2026-07-07T00:00Z'));
    expect(winter.find((s) => s.id === '2026-11-23-early')?.startAt).toEqual(new Date('2026-11-23T05:00Z'));
    expect(summer.find((s) => s.id === '2026-07-06-early')?.startAt).toEqual(new Date('2026-07-06T04:00Z'));
  });

  it('follows the clock change: the Friday before and the Monday after 25 October 2026 start an hour apart in UTC', () => {
    const friday = shiftAt('ingolstadt', new Date('2026-10-23T06:00Z'))!;
    const monday = shiftAt('ingolstadt', new Date('2026-10-26T06:00Z'))!;
    expect([friday.id, iso(friday.startAt)]).toEqual(['2026-10-23-early', '2026-10-23T04:00:00.000Z']);
    expect([monday.id, iso(monday.startAt)]).toEqual(['2026-10-26-early', '2026-10-26T05:00:00.000Z']);
  });

  it('makes plant days 23 and 25 hours long on the days the clocks change', () => {
    const hours = (day: string) => {
      const { startAt, endAt } = plantDayBounds(day);
      return (endAt.getTime() - startAt.getTime()) / 3_600_000;
    };
    expect([hours('2026-03-29'), hours('2026-10-25'), hours('2026-11-23')]).toEqual([23, 25, 24]);
    expect(plantDayOf(new Date('2026-11-22T23:30Z'))).toBe('2026-11-23');
  });

  it('gives each plant its own pattern: three shifts and Saturday early, three shifts, two shifts', () => {
    const week = (f: 'augsburg' | 'ingolstadt' | 'regensburg') =>
      shiftsBetween(f, new Date('2026-11-23T00:00Z'), new Date('2026-11-30T00:00Z')).map((s) => s.id);
    expect(week('augsburg')).toHaveLength(16);
    expect(week('augsburg')).toContain('2026-11-28-early');
    expect(week('ingolstadt')).toHaveLength(15);
    expect(week('regensburg')).toHaveLength(10);
    expect(week('regensburg').some((id) => id.endsWith('night'))).toBe(false);
    expect(week('augsburg').some((id) => id.startsWith('2026-11-29'))).toBe(false);
  });

  it('runs the night shift across midnight, with its break on the next day', () => {
    const night = shiftAt('augsburg', new Date('2026-11-23T23:30Z'))!;
    expect(night.id).toBe('2026-11-23-night');
    expect([iso(night.startAt), iso(night.endAt)]).toEqual([
      '2026-11-23T21:00:00.000Z',
      '2026-11-24T05:00:00.000Z',
    ]);
    expect(iso(night.breaks[0]!.startAt)).toBe('2026-11-24T01:00:00.000Z');
  });
});
