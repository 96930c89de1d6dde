import { type FacilityId, plantDayBounds, plantDayOf, shiftAt } from '@aurora/plant';
import { describe, expect, it } from 'vitest';
import { plantPeriodsAt } from './oee.js';

const FACILITIES: FacilityId[] = ['augsburg', 'ingolstadt', 'regensburg'];

describe('plantPeriodsAt (shift and day once per facility and UTC hour)', () => {
  it('equals the plant calendar at every instant tried: both clock changes of 2026 and the year around', () => {
    // The calendar costs ~0.5 ms a call, so: every 20 minutes of the three days around each clock change
    // (each hour's first call fills the memo, its later instants must get what the calendar computes for
    // them), and 250 instants spread over the year.
    const instants: number[] = [];
    for (const change of ['2026-03-28T00:00:00Z', '2026-10-24T00:00:00Z'])
      for (let t = Date.parse(change); t < Date.parse(change) + 3 * 86_400_000; t += 1_200_000)
        instants.push(t);
    for (let i = 0; i < 250; i++) instants.push(Date.parse('2026-01-01T00:00:00Z') + i * 126_144_017);
    for (const t of instants) {
      const at = new Date(t);
      for (const facility of FACILITIES) {
        const got = plantPeriodsAt(facility, at);
        const shift = shiftAt(facility, at);
        const day = plantDayOf(at);
        expect(got.day).toBe(day);
        expect(got.dayFrom).toEqual(plantDayBounds(day).startAt);
        expect(got.shift?.id).toBe(shift?.id);
        expect(got.shift?.startAt).toEqual(shift?.startAt);
        expect(got.shift?.endAt).toEqual(shift?.endAt);
      }
    }
  }, 30_000);

  it('a day of 23 hours (clocks forward); a night shift after the clocks went back', () => {
    const p = plantPeriodsAt('augsburg', new Date('2026-03-29T12:00:00Z'));
    expect(p.day).toBe('2026-03-29');
    expect(p.dayFrom.toISOString()).toBe('2026-03-28T23:00:00.000Z');
    // 02:30 on Tuesday after the change (UTC+1): the night shift that started on Monday.
    const night = plantPeriodsAt('ingolstadt', new Date('2026-10-27T01:30:00Z'));
    expect(night.shift?.name).toBe('night');
    expect(night.shift?.plantDay).toBe('2026-10-26');
    expect(night.shift?.startAt.toISOString()).toBe('2026-10-26T21:00:00.000Z');
  });
});
