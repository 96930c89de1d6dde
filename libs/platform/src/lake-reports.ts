import { type Lake, putNew } from '@aurora/lake';

/**
 * Writes a check's report into the lake as one JSON file whose name carries the run's timestamp
 * (`reportPaths`); never replaces another run's report, even one of the same millisecond.
 * Returns the path it landed at.
 */
export async function writeLakeReport(
  lake: Lake,
  pathFor: (at: Date, micros: number) => string,
  at: Date,
  report: unknown,
): Promise<string> {
  const body = Buffer.from(
    `${JSON.stringify(report, (_key, value) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`,
  );
  const landed = await putNew(lake, (micros) => pathFor(at, micros), body, {
    contentType: 'application/json',
  });
  return landed.path;
}
