import { describe, expect, it } from 'vitest';
import { withClockSkew } from './clock-skew.js';
import type { MesDataSource, MesSnapshot, StateRecord } from './records.js';

const HOUR_MS = 3_600_000;
const state: StateRecord = {
  stateId: 'rgb-m01-1',
  facilityId: 'regensburg',
  machineId: 'rgb-m01',
  state: 'running',
  startAt: new Date('2026-11-23T10:00:00Z'),
  speedFactor: 1,
  updatedAt: new Date('2026-11-23T10:00:05Z'),
};

/** A source that remembers what it was asked and serves one state interval. */
function source() {
  const asked: { asOf: string; since: string }[] = [];
  const data: MesDataSource = {
    snapshot(_facility, asOf, since): MesSnapshot {
      asked.push({ asOf: asOf.toISOString(), since: since.toISOString() });
      return { orders: [], machineStates: [state], qualityMeasurements: [] };
    },
  };
  return { data, asked };
}

describe('withClockSkew', () => {
  it('serves every time on a clock 3 h behind, and reads "changed since" on that clock', () => {
    const { data, asked } = source();
    const skewed = withClockSkew(data, () => -3 * HOUR_MS);
    const snapshot = skewed.snapshot(
      'regensburg',
      new Date('2026-11-23T11:00:00Z'),
      new Date('2026-11-23T07:00:00Z'),
    );
    // Since 07:00 on the MES clock is since 10:00 in true time; what is visible is still as of true 11:00.
    expect(asked).toEqual([{ asOf: '2026-11-23T11:00:00.000Z', since: '2026-11-23T10:00:00.000Z' }]);
    expect(snapshot.machineStates).toEqual([
      { ...state, startAt: new Date('2026-11-23T07:00:00Z'), updatedAt: new Date('2026-11-23T07:00:05Z') },
    ]);
    expect(state.startAt.toISOString()).toBe('2026-11-23T10:00:00.000Z'); // the plant's record untouched
  });

  it('passes everything through untouched while the clock is right', () => {
    const { data } = source();
    let skewMs = 0;
    const skewed = withClockSkew(data, () => skewMs);
    const at = new Date('2026-11-23T11:00:00Z');
    expect(skewed.snapshot('regensburg', at, at).machineStates[0]).toBe(state);
    skewMs = HOUR_MS;
    expect(skewed.snapshot('regensburg', at, at).machineStates[0]!.updatedAt.toISOString()).toBe(
      '2026-11-23T11:00:05.000Z',
    );
  });
});
