import { describe, expect, it } from 'vitest';
import { LOSS_CLASS } from './mes/records.js';
import { oeeOf, PlantModel, partsAt, rollUp, scrapAmong } from './plant-model.js';
import { plantDayBounds } from './shift-calendar.js';
import { simulateTelemetry } from './telemetry-simulator.js';

const model = new PlantModel({ seed: 1 });
const monday = plantDayBounds('2026-11-23');

describe('PlantModel', () => {
  it('is deterministic for a seed, whatever window is asked for, and differs between seeds', () => {
    const whole = model.timeline('aug-m03', monday.startAt, monday.endAt);
    const fresh = new PlantModel({ seed: 1 });
    const from = new Date('2026-11-23T09:17:00Z');
    const to = new Date('2026-11-23T13:41:00Z');
    const part = fresh.timeline('aug-m03', from, to);
    const key = (s: { state: string; startMs: number; endMs: number }) =>
      `${s.state}@${s.startMs}-${s.endMs}`;
    expect(part.map(key)).toEqual(
      whole.filter((s) => s.endMs > from.getTime() && s.startMs < to.getTime()).map(key),
    );
    const other = new PlantModel({ seed: 2 }).timeline('aug-m03', monday.startAt, monday.endAt);
    expect(other.map(key)).not.toEqual(whole.map(key));
  });

  it('accounts for every second: segments are contiguous and every hour sums to 3,600 s', () => {
    for (const machine of ['aug-m01', 'ing-m04', 'rgb-m02']) {
      const segments = model.timeline(machine, monday.startAt, monday.endAt);
      for (let i = 1; i < segments.length; i++) expect(segments[i]!.startMs).toBe(segments[i - 1]!.endMs);
      expect(segments[0]!.startMs).toBeLessThanOrEqual(monday.startAt.getTime());
      expect(segments.at(-1)!.endMs).toBeGreaterThanOrEqual(monday.endAt.getTime());
      for (const h of model.machineHours(machine, monday.startAt, monday.endAt)) {
        const sum = Object.values(h.stateS).reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(3600, 6);
      }
    }
  });

  it('keeps planned stops out of planned time and availability losses out of run time', () => {
    const hours = model.machineHours('aug-m05', monday.startAt, monday.endAt);
    for (const h of hours) {
      const byClass = { productive: 0, performance_loss: 0, availability_loss: 0, planned_stop: 0 };
      for (const [state, s] of Object.entries(h.stateS))
        byClass[LOSS_CLASS[state as keyof typeof LOSS_CLASS]] += s;
      expect(h.plannedTimeS).toBeCloseTo(3600 - byClass.planned_stop, 6);
      expect(h.runTimeS).toBeCloseTo(byClass.productive + byClass.performance_loss, 6);
      expect(h.runTimeS).toBeLessThanOrEqual(h.plannedTimeS + 1e-6);
      // Performance cannot exceed 1: the output never beats the ideal rate (one part of slack at an hour edge).
      expect(h.idealOutputS).toBeLessThanOrEqual(h.runTimeS + 420);
    }
    // Monday 00:00-05:00 UTC is before the first shift of the week: no planned time at all.
    expect(hours.slice(0, 5).every((h) => h.plannedTimeS === 0 && h.stateS.no_shift === 3600)).toBe(true);
    const day = rollUp(hours);
    expect(day.availability).toBeGreaterThan(0.6);
    expect(day.availability).toBeLessThan(0.98);
    expect(day.performance).toBeGreaterThan(0.6);
    expect(day.performance).toBeLessThanOrEqual(1);
    expect(day.quality).toBeGreaterThan(0.9);
  });

  it('has every kind of loss somewhere in a plant-day', () => {
    const seen = new Set<string>();
    for (const machine of model.catalogue.machines.filter((m) => m.facilityId === 'augsburg'))
      for (const s of model.timeline(machine.id, monday.startAt, monday.endAt)) seen.add(s.state);
    expect([...seen].sort()).toEqual(Object.keys(LOSS_CLASS).sort());
  });

  it('counts parts only while running, and the hours add up to each order total', () => {
    const orders = model.orders('ing-m02', monday.startAt, monday.endAt);
    expect(orders.length).toBeGreaterThan(3);
    // A whole working week, from Sunday to Sunday: no shift is cut at either end.
    const from = new Date('2026-11-22T00:00:00Z');
    const to = new Date('2026-11-29T00:00:00Z');
    const hours = model.machineHours('ing-m02', from, to);
    const totalFromOrders = model
      .orders('ing-m02', from, to)
      .reduce((s, o) => s + partsAt(o, o.actualEndMs), 0);
    expect(hours.reduce((s, h) => s + h.totalCount, 0)).toBe(totalFromOrders);
    for (const o of orders) {
      for (const s of o.segments.filter((x) => x.speedFactor === 0)) {
        expect(partsAt(o, s.endMs) - partsAt(o, s.startMs)).toBeLessThanOrEqual(1);
      }
      const total = partsAt(o, o.actualEndMs);
      const scrap = scrapAmong(o, total);
      expect(scrap / Math.max(total, 1)).toBeLessThan(0.05);
    }
  });

  it('rolls up from summed times and counts, never by averaging ratios', () => {
    const a = { plannedTimeS: 3600, runTimeS: 3600, idealOutputS: 3600, totalCount: 100, goodCount: 100 };
    const b = { plannedTimeS: 3600, runTimeS: 360, idealOutputS: 180, totalCount: 10, goodCount: 5 };
    const hours = [a, b].map((x) => ({
      ...x,
      facilityId: 'augsburg' as const,
      machineId: 'x',
      hourStart: new Date(0),
      stateS: {} as never,
      scrapCount: x.totalCount - x.goodCount,
    }));
    const rolled = rollUp(hours);
    expect(rolled.availability).toBeCloseTo(3960 / 7200, 12);
    expect(rolled.performance).toBeCloseTo(3780 / 3960, 12);
    expect(rolled.quality).toBeCloseTo(105 / 110, 12);
    const averaged = ((oeeOf(a).oee ?? 0) + (oeeOf(b).oee ?? 0)) / 2;
    expect(rolled.oee).toBeCloseTo((3960 / 7200) * (3780 / 3960) * (105 / 110), 12);
    expect(rolled.oee).not.toBeCloseTo(averaged, 3);
    expect(
      oeeOf({ plannedTimeS: 0, runTimeS: 0, idealOutputS: 0, totalCount: 0, goodCount: 0 }).oee,
    ).toBeNull();
  });

  it('measures against the specification: a defect code exactly when out of limits', () => {
    const measurements = model.catalogue.machines
      .filter((m) => m.facilityId === 'regensburg')
      .flatMap((m) => model.measurements(m.id, monday.startAt, monday.endAt));
    expect(measurements.length).toBeGreaterThan(100);
    for (const m of measurements) {
      expect(m.ok).toBe(m.value >= m.lsl && m.value <= m.usl);
      expect(m.defectCode === undefined).toBe(m.ok);
    }
    const nok = measurements.filter((m) => !m.ok).length / measurements.length;
    expect(nok).toBeGreaterThan(0);
    expect(nok).toBeLessThan(0.1);
    // The facility's quality truth is the same measurements, counted, with a Pareto of defect codes.
    const truth = model.quality(monday.startAt, monday.endAt, 'regensburg');
    expect(truth.measured).toBe(measurements.length);
    expect(truth.defectRate).toBeCloseTo(nok, 12);
    expect(truth.byDefectCode.reduce((n, d) => n + d.count, 0)).toBe(truth.notOk);
    for (let i = 1; i < truth.byDefectCode.length; i++)
      expect(truth.byDefectCode[i]!.count).toBeLessThanOrEqual(truth.byDefectCode[i - 1]!.count);
    expect(truth.scrapRate).toBeGreaterThan(0.004);
    expect(truth.scrapRate).toBeLessThan(0.04);
  });

  it('shows the MES view as of a moment: nothing from the future, late commits appear later', () => {
    const asOf = new Date('2026-11-23T10:00:00Z');
    const since = new Date('2026-11-23T06:00:00Z');
    const now = model.snapshot('augsburg', asOf, since);
    const later = model.snapshot('augsburg', new Date(asOf.getTime() + 120_000), since);
    for (const r of [...now.orders, ...now.machineStates, ...now.qualityMeasurements]) {
      expect(r.updatedAt.getTime()).toBeLessThanOrEqual(asOf.getTime());
      expect(r.updatedAt.getTime()).toBeGreaterThanOrEqual(since.getTime());
    }
    expect(now.machineStates.some((s) => s.endAt === undefined)).toBe(true);
    // Something written in the last 90 s before asOf only becomes visible afterwards.
    const late = later.qualityMeasurements.filter(
      (m) => m.updatedAt <= asOf && !now.qualityMeasurements.some((n) => n.measurementId === m.measurementId),
    );
    const lateStates = later.machineStates.filter(
      (s) =>
        s.updatedAt <= asOf &&
        !now.machineStates.some(
          (n) => n.stateId === s.stateId && n.updatedAt.getTime() === s.updatedAt.getTime(),
        ),
    );
    expect(late.length + lateStates.length).toBeGreaterThan(0);
    for (const s of lateStates) expect(asOf.getTime() - s.updatedAt.getTime()).toBeLessThan(90_000);
  });

  it('books order quantities every quarter hour: counts only grow, status moves released -> in progress -> completed', () => {
    const since = new Date('2026-11-22T00:00:00Z');
    const order = model.orders('aug-m02', monday.startAt, monday.endAt)[1]!;
    const statuses: string[] = [];
    let last = -1;
    for (let t = order.releasedAtMs; t <= order.actualEndMs + 600_000; t += 5 * 60_000) {
      const seen = model
        .snapshot('augsburg', new Date(t), since)
        .orders.find((o) => o.orderId === order.orderId);
      if (!seen) continue;
      expect(seen.totalCount).toBeGreaterThanOrEqual(last);
      expect(seen.goodCount + seen.scrapCount).toBe(seen.totalCount);
      expect(
        seen.updatedAt.getTime() % (15 * 60_000) === 0 ||
          [order.releasedAtMs, order.actualStartMs, order.actualEndMs].includes(seen.updatedAt.getTime()),
      ).toBe(true);
      // The postings so far add up to the cumulative counts of the version, the last one being its own booking.
      const postings = seen.postings;
      const sum = (f: (p: (typeof postings)[number]) => number) => postings.reduce((n, p) => n + f(p), 0);
      expect([sum((p) => p.totalCount), sum((p) => p.goodCount), sum((p) => p.scrapCount)]).toEqual([
        seen.totalCount,
        seen.goodCount,
        seen.scrapCount,
      ]);
      for (const p of seen.postings) expect(p.goodCount + p.scrapCount).toBe(p.totalCount);
      if (seen.postings.length > 0) expect(seen.postings.at(-1)!.postedAt).toEqual(seen.updatedAt);
      else expect(seen.updatedAt.getTime()).toBeLessThanOrEqual(order.actualStartMs);
      last = seen.totalCount;
      if (statuses.at(-1) !== seen.status) statuses.push(seen.status);
    }
    expect(statuses).toEqual(['released', 'in_progress', 'completed']);
    expect(last).toBe(partsAt(order, order.actualEndMs));
  });

  it('posts quantities so that each UTC hour (start, end] holds exactly the parts the truth puts in it', () => {
    // The final version of every order started by the day's end (all completed and visible a day later).
    const asOf = new Date(monday.endAt.getTime() + 86_400_000);
    const since = new Date(monday.startAt.getTime() - 86_400_000);
    const machines = ['aug-m01', 'aug-m04', 'ing-m02', 'rgb-m03'];
    let postingsAtHourEnd = 0;
    let hoursWithParts = 0;
    let halfOpenMismatches = 0;
    for (const machineId of machines) {
      const facilityId = model.catalogue.machine(machineId)!.facilityId;
      const orders = model
        .snapshot(facilityId, asOf, since)
        .orders.filter(
          (o) => o.machineId === machineId && o.actualStartAt !== undefined && o.actualStartAt < monday.endAt,
        );
      expect(orders.length).toBeGreaterThan(3);
      for (const o of orders) {
        expect(o.status).toBe('completed');
        const times = o.postings.map((p) => p.postedAt.getTime());
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(new Set(times).size).toBe(times.length);
        expect(times.at(-1)).toBe(o.actualEndAt!.getTime());
        expect(times.every((t) => t > o.actualStartAt!.getTime())).toBe(true);
        expect(o.postings.reduce((n, p) => n + p.totalCount, 0)).toBe(o.totalCount);
        expect(o.postings.reduce((n, p) => n + p.goodCount, 0)).toBe(o.goodCount);
        expect(o.postings.reduce((n, p) => n + p.scrapCount, 0)).toBe(o.scrapCount);
      }
      const postings = orders.flatMap((o) => o.postings);
      for (const h of model.machineHours(machineId, monday.startAt, monday.endAt)) {
        const start = h.hourStart.getTime();
        const end = start + 3_600_000;
        const inHour = (rule: (t: number) => boolean) => {
          const own = postings.filter((p) => rule(p.postedAt.getTime()));
          return {
            total: own.reduce((n, p) => n + p.totalCount, 0),
            good: own.reduce((n, p) => n + p.goodCount, 0),
            scrap: own.reduce((n, p) => n + p.scrapCount, 0),
          };
        };
        const attributed = inHour((t) => t > start && t <= end);
        expect(attributed, `${machineId} ${h.hourStart.toISOString()}`).toEqual({
          total: h.totalCount,
          good: h.goodCount,
          scrap: h.scrapCount,
        });
        const halfOpen = inHour((t) => t >= start && t < end);
        if (halfOpen.total !== h.totalCount) halfOpenMismatches++;
        if (h.totalCount > 0) hoursWithParts++;
        postingsAtHourEnd += postings.filter((p) => p.postedAt.getTime() === end).length;
      }
    }
    // The rule is tested where it matters: postings sit on hour ends, and [start, end) would be wrong.
    expect(hoursWithParts).toBeGreaterThan(40);
    expect(postingsAtHourEnd).toBeGreaterThan(40);
    expect(halfOpenMismatches).toBeGreaterThan(20);
  });

  it('drives vibration and energy by machine state: a machine without a shift barely vibrates', () => {
    const sensors = model.catalogue.sensors.filter(
      (s) => s.machineId === 'aug-m01' && (s.metric === 'vibration' || s.metric === 'energy'),
    );
    const mean = (from: string, to: string, metric: string) => {
      const values = [
        ...simulateTelemetry({
          seed: 1,
          from: new Date(from),
          to: new Date(to),
          rateHz: 0.1,
          sensors,
          machineState: (m, at) => model.stateAt(m, at),
        }),
      ]
        .map((m) => JSON.parse(m.payload.toString()) as { metric: string; value: number })
        .filter((p) => p.metric === metric)
        .map((p) => p.value);
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    // Sunday: no shift. Monday 08:00-08:30 UTC: the early shift is producing.
    for (const metric of ['vibration', 'energy']) {
      const off = mean('2026-11-22T10:00:00Z', '2026-11-22T10:30:00Z', metric);
      const on = mean('2026-11-23T08:00:00Z', '2026-11-23T08:30:00Z', metric);
      expect(off).toBeLessThan(on * 0.2);
    }
  });
});
