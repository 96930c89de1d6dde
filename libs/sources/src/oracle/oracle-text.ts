/**
 * How Oracle writes values as text, and back: the one place that knows the fixed formats the ERP
 * connector pins (NLS settings, TO_CHAR formats) and the database's time zone. DATE and TIMESTAMP columns
 * hold wall-clock time of the database server's zone with no zone attached; landing turns them into UTC
 * instants with the zone configured for the source (AURORA_ERP_DB_TIME_ZONE).
 */

/** `TO_CHAR(date_col, DATE_FORMAT)`; also the session's NLS_DATE_FORMAT. */
export const ORACLE_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS';
/** `TO_CHAR(timestamp_col, TIMESTAMP_FORMAT)`: microseconds, always six digits. */
export const ORACLE_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF6';

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();
/** Zone offset caches per zone, keyed by the UTC hour (offsets change on whole hours in every real zone). */
const offsetCache = new Map<string, Map<number, number>>();
const HOUR_MS = 3_600_000;

/** Milliseconds to add to a UTC instant to get the wall-clock time in `zone` at that instant. */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  if (zone === 'UTC') return 0;
  let cache = offsetCache.get(zone);
  if (!cache) {
    cache = new Map();
    offsetCache.set(zone, cache);
  }
  const hour = Math.floor(utcMs / HOUR_MS);
  const cached = cache.get(hour);
  if (cached !== undefined) return cached;
  let format = offsetFormatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(hour * HOUR_MS))) parts[p.type] = Number(p.value);
  const wall = Date.UTC(
    parts['year']!,
    parts['month']! - 1,
    parts['day']!,
    parts['hour']!,
    parts['minute']!,
    parts['second']!,
  );
  const offset = wall - hour * HOUR_MS;
  if (cache.size > 100_000) cache.clear();
  cache.set(hour, offset);
  return offset;
}

/** An instant as wall-clock text in `zone`: `YYYY-MM-DD HH24:MI:SS`, or with `.FF6` when `fraction`. */
export function formatOracleDateTime(at: Date | number, zone: string, fraction = false): string {
  const utcMs = typeof at === 'number' ? at : at.getTime();
  const d = new Date(utcMs + zoneOffsetMs(zone, utcMs));
  const text = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return fraction ? `${text}.${pad3(d.getUTCMilliseconds())}000` : text;
}

/**
 * Wall-clock text of `zone` (`YYYY-MM-DD HH24:MI:SS[.FF]`, also `YYYY-MM-DDTHH:MI:SS`) as a UTC instant.
 * In the hour a clock change repeats, the earlier of the two instants is taken: a DATE cannot tell them
 * apart (documented in docs/sources/oracle-erp.md). Precision is milliseconds; further digits are cut.
 * @returns undefined when the text is not such a date-time.
 */
export function parseOracleDateTime(text: string, zone: string): Date | undefined {
  // A CDC window repeats the same few thousand instants (commit times, DATEs to the second) a million
  // times: remember them.
  let cache = parsedCache.get(zone);
  if (!cache) {
    cache = new Map();
    parsedCache.set(zone, cache);
  }
  const cached = cache.get(text);
  if (cached !== undefined) return new Date(cached);
  const parsed = parseWallTime(text, zone);
  if (parsed === undefined) return undefined;
  if (cache.size >= 50_000) cache.clear();
  cache.set(text, parsed);
  return new Date(parsed);
}

const parsedCache = new Map<string, Map<string, number>>();

function parseWallTime(text: string, zone: string): number | undefined {
  const c = (i: number) => text.charCodeAt(i) - 48;
  if (text.length < 19 || text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':')
    return undefined;
  const year = c(0) * 1000 + c(1) * 100 + c(2) * 10 + c(3);
  const month = c(5) * 10 + c(6);
  const day = c(8) * 10 + c(9);
  const hour = c(11) * 10 + c(12);
  const minute = c(14) * 10 + c(15);
  const second = c(17) * 10 + c(18);
  let ms = 0;
  if (text.length > 20 && text[19] === '.') {
    const digits = text.slice(20, 23).padEnd(3, '0');
    ms = Number(digits);
  }
  if (
    !(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour >= 0 && hour <= 23) ||
    !(minute >= 0 && minute <= 59 && second >= 0 && second <= 59) ||
    Number.isNaN(year + ms)
  )
    return undefined;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // The offsets half a day either side are the two a wall time can have; keep those that map back.
  const before = wall - zoneOffsetMs(zone, wall - 12 * HOUR_MS);
  const after = wall - zoneOffsetMs(zone, wall + 12 * HOUR_MS);
  const beforeValid = before + zoneOffsetMs(zone, before) === wall;
  const afterValid = after + zoneOffsetMs(zone, after) === wall;
  if (beforeValid && afterValid) return Math.min(before, after);
  if (afterValid) return after;
  // `before` when valid; also in the hour skipped in spring (none is valid): the offset before the change.
  return before;
}

/**
 * A number as Oracle's `TO_CHAR(n)` prints it (text minimum): no exponent for everyday magnitudes, no
 * trailing zeros, and no zero before the decimal point (`.5`, `-.25`). The canonical row text of the
 * checksum uses it on both sides: over the values fetched from the source and over the landed ones.
 */
export function oracleNumberText(value: number | string): string {
  let text = typeof value === 'number' ? numberToPlainText(value) : value.trim();
  if (text.includes('.')) {
    text = text.replace(/0+$/, '').replace(/\.$/, '');
  }
  if (text.startsWith('0.')) text = text.slice(1);
  else if (text.startsWith('-0.')) text = `-${text.slice(2)}`;
  if (text === '-0' || text === '') text = '0';
  return text;
}

function numberToPlainText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // Only very large or very small magnitudes get an exponent in JS: spell them out.
  return Math.abs(value) >= 1 ? BigInt(Math.round(value)).toString() : value.toFixed(20);
}
