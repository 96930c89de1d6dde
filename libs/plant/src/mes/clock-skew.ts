import type { MesDataSource, MesSnapshot } from './records.js';

/** Every Date in a record (times, postings, nested lists) moved by `ms`; everything else as it was. */
function shifted<T>(value: T, ms: number): T {
  if (value instanceof Date) return new Date(value.getTime() + ms) as T;
  if (Array.isArray(value)) return value.map((v) => shifted(v, ms)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = shifted(v, ms);
    return out as T;
  }
  return value;
}

/**
 * The plant's MES records as a MES whose server clock is `skewMs()` off (positive: ahead) would hold
 * them: every time it stamps (modifications, states, measurements, postings) read on its clock, and its
 * "changed since" filters compared with those stamps. What is visible is still what happened up to the
 * true `asOf`. A skew of 0 serves `data` unchanged.
 */
export function withClockSkew(data: MesDataSource, skewMs: () => number): MesDataSource {
  return {
    snapshot(facilityId, asOf, since): MesSnapshot {
      const skew = skewMs();
      if (skew === 0) return data.snapshot(facilityId, asOf, since);
      return shifted(data.snapshot(facilityId, asOf, new Date(since.getTime() - skew)), skew);
    },
  };
}
