import { UsageError } from '@aurora/core';

/**
 * The parallel-run comparison of a migration: the same question answered by Aurora ("ours") and by the
 * system it replaces ("theirs"), row by row on a key, numbers within a relative tolerance, everything
 * else exactly. Pure over two result sets, so every rule below is tested without a database.
 */

/** Rows as a query or a file gave them, with the column types where the reader knows them. */
export interface ResultSet {
  /** Column names in order, with DuckDB's type name (`DOUBLE`, `DECIMAL(18,2)`, `VARCHAR`) when known. */
  columns?: readonly { name: string; type?: string }[];
  rows: readonly Record<string, unknown>[];
}

export interface CompareOptions {
  /** Columns that identify a row; by default the columns both sides share that are not numeric. */
  key?: readonly string[];
  /** Largest relative difference of two numbers, in percent (default 0.01, i.e. 1e-4). */
  tolerancePercent?: number;
}

/** A value as the report shows it: JSON-safe, with NaN, ±Infinity and integers beyond 2^53 as text. */
export type ReportValue = string | number | boolean | null;

export interface ValueDifference {
  key: Record<string, ReportValue>;
  column: string;
  ours: ReportValue;
  theirs: ReportValue;
  /**
   * |ours - theirs| / max(|ours|, |theirs|) for two numbers; null when the two cannot be measured
   * against each other (a NULL against a value, NaN against a number, ±Infinity against a finite
   * number, or two texts that differ).
   */
  relativeDifference: number | null;
}

export interface DuplicateKey {
  side: 'ours' | 'theirs';
  key: Record<string, ReportValue>;
  rows: number;
}

export interface ColumnTypeMismatch {
  column: string;
  ours: string;
  theirs: string;
}

export interface ParallelRunComparison {
  key: string[];
  /** Whether the key was given (--key) or chosen: the shared non-numeric columns. */
  keyChosen: 'given' | 'default';
  tolerancePercent: number;
  rows: { ours: number; theirs: number; matched: number };
  /** Shared non-key columns compared value by value, in the order of ours. */
  comparedColumns: string[];
  comparedValues: number;
  /** The largest relative difference among the numbers compared (within the tolerance or not). */
  maxRelativeDifference: number;
  onlyInOurs: Record<string, ReportValue>[];
  onlyInTheirs: Record<string, ReportValue>[];
  /** Keys held by more than one row on a side: an error, those rows are not compared. */
  duplicateKeys: DuplicateKey[];
  columnsOnlyInOurs: string[];
  columnsOnlyInTheirs: string[];
  /** Columns numeric on one side and not on the other: compared as text, and a failure. */
  typeMismatches: ColumnTypeMismatch[];
  /** Every value beyond the tolerance (numbers) or different (anything else), worst first. */
  differences: ValueDifference[];
  ok: boolean;
  summary: string;
}

export const DEFAULT_TOLERANCE_PERCENT = 0.01;

const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?|NUMERIC(\(\d+,\s*\d+\))?|VARINT|BIGNUM)$/i;

/** Whether a DuckDB type name is a number type. */
export const isNumericType = (type: string): boolean => NUMERIC_TYPE.test(type.trim());

type Kind = 'numeric' | 'text' | 'unknown';

interface Side {
  columns: string[];
  kinds: Map<string, Kind>;
  labels: Map<string, string>;
  rows: readonly Record<string, unknown>[];
}

const isNumberValue = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';

function describeSide(set: ResultSet): Side {
  const columns: string[] = [];
  const declared = new Map<string, string | undefined>();
  if (set.columns) {
    for (const c of set.columns) {
      if (!declared.has(c.name)) columns.push(c.name);
      declared.set(c.name, c.type);
    }
  } else {
    // Sparse rows (JSON lines) may name a column late: the union, in order of appearance.
    const seen = new Set<string>();
    for (const row of set.rows)
      for (const name of Object.keys(row))
        if (!seen.has(name)) {
          seen.add(name);
          columns.push(name);
        }
  }
  const kinds = new Map<string, Kind>();
  const labels = new Map<string, string>();
  for (const name of columns) {
    const type = declared.get(name);
    if (type !== undefined) {
      kinds.set(name, isNumericType(type) ? 'numeric' : 'text');
      labels.set(name, type);
      continue;
    }
    let kind: Kind = 'unknown';
    for (const row of set.rows) {
      const v = row[name];
      if (v === null || v === undefined) continue;
      if (!isNumberValue(v)) {
        kind = 'text';
        break;
      }
      kind = 'numeric';
    }
    kinds.set(name, kind);
    labels.set(name, kind === 'numeric' ? 'number' : kind === 'text' ? 'text' : 'null');
  }
  return { columns, kinds, labels, rows: set.rows };
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A number from a numeric column: DuckDB renders BIGINT beyond 2^53, HUGEINT and DECIMAL as text, and
 * NaN/Infinity as `NaN`/`Infinity`; integers stay exact as bigint. Undefined when it is not a number.
 */
export function numericValue(v: unknown): number | bigint | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (INTEGER_TEXT.test(s)) {
    const n = BigInt(s);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (DECIMAL_TEXT.test(s)) return Number(s);
  const special = s.toLowerCase();
  if (special === 'nan') return Number.NaN;
  if (special === 'infinity' || special === 'inf' || special === '+infinity' || special === '+inf')
    return Number.POSITIVE_INFINITY;
  if (special === '-infinity' || special === '-inf') return Number.NEGATIVE_INFINITY;
  return undefined;
}

/** The text two exactly-compared values must share; null for NULL. Numbers have one spelling. */
function canonicalText(v: unknown, numeric: boolean): string | null {
  if (v === null || v === undefined) return null;
  if (numeric) {
    const n = numericValue(v);
    if (n !== undefined) return canonicalNumber(n);
  }
  if (typeof v === 'string') return v;
  if (isNumberValue(v)) return canonicalNumber(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

function canonicalNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  // -0 is 0; integral doubles are spelt out (1e21 and 10n**21n are one key).
  if (Number.isInteger(n)) return BigInt(n).toString();
  return String(n);
}

/** JSON-safe, and readable: NaN and ±Infinity would turn into null in JSON, big integers would not parse. */
export function reportValue(v: unknown): ReportValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : String(v);
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  return canonicalText(v, false);
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/**
 * The relative difference of two numbers, |a - b| / max(|a|, |b|): 0 when equal (0 and -0, NaN and
 * NaN, two equal infinities), null when they cannot be measured against each other (NaN against a
 * number, an infinity against anything else). Never overflows: 1.7e308 against -1.7e308 is 2.
 */
export function relativeNumberDifference(a: number | bigint, b: number | bigint): number | null {
  // Integers compare exactly as bigint, so 2^53 + 1 is not 2^53 even against a double.
  const x = typeof a === 'number' && typeof b === 'bigint' && Number.isInteger(a) ? BigInt(a) : a;
  const y = typeof b === 'number' && typeof a === 'bigint' && Number.isInteger(b) ? BigInt(b) : b;
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    if (x === y) return 0;
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
    const m = abs(x) > abs(y) ? abs(x) : abs(y);
    const bits = m.toString(2).length;
    if (bits < 1000) return Number(abs(x - y)) / Number(m);
    // Near the range of a double: scale both down first; a difference is never 0.
    const shift = BigInt(bits - 60);
    return Math.max(Number(abs(x - y) >> shift) / Number(m >> shift), Number.MIN_VALUE);
  }
  const u = Number(x);
  const v = Number(y);
  if (Number.isNaN(u) || Number.isNaN(v)) return Number.isNaN(u) && Number.isNaN(v) ? 0 : null;
  if (u === v) return 0;
  if (!Number.isFinite(u) || !Number.isFinite(v)) return null;
  const m = Math.max(Math.abs(u), Math.abs(v));
  return Math.abs(u / m - v / m);
}

function compareCell(
  ours: unknown,
  theirs: unknown,
  numeric: boolean,
): { equal: boolean; relativeDifference: number | null } {
  const oursNull = ours === null || ours === undefined;
  const theirsNull = theirs === null || theirs === undefined;
  if (oursNull || theirsNull) return { equal: oursNull && theirsNull, relativeDifference: null };
  if (numeric) {
    const a = numericValue(ours);
    const b = numericValue(theirs);
    if (a !== undefined && b !== undefined) {
      const relativeDifference = relativeNumberDifference(a, b);
      return { equal: relativeDifference === 0, relativeDifference };
    }
  }
  return { equal: canonicalText(ours, false) === canonicalText(theirs, false), relativeDifference: null };
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/**
 * Compares two results of the same question. Rows are matched on the key (NULL matches NULL, as in
 * IS NOT DISTINCT FROM; numbers on their value, so 1, 1.0 and 1n are one key); numeric columns compare
 * within the tolerance, others exactly. Throws UsageError when no key can be formed.
 */
export function compareResults(
  oursSet: ResultSet,
  theirsSet: ResultSet,
  options: CompareOptions = {},
): ParallelRunComparison {
  const tolerancePercent = options.tolerancePercent ?? DEFAULT_TOLERANCE_PERCENT;
  if (!(Number.isFinite(tolerancePercent) && tolerancePercent >= 0))
    throw new UsageError(`the tolerance must be a non-negative number of percent, got ${tolerancePercent}`);
  const tolerance = tolerancePercent / 100;
  const ours = describeSide(oursSet);
  const theirs = describeSide(theirsSet);
  const theirsColumns = new Set(theirs.columns);
  const oursColumns = new Set(ours.columns);
  const shared = ours.columns.filter((c) => theirsColumns.has(c));
  const columnsOnlyInOurs = ours.columns.filter((c) => !theirsColumns.has(c));
  const columnsOnlyInTheirs = theirs.columns.filter((c) => !oursColumns.has(c));

  const typeMismatches: ColumnTypeMismatch[] = [];
  const numeric = new Map<string, boolean>();
  for (const c of shared) {
    const a = ours.kinds.get(c)!;
    const b = theirs.kinds.get(c)!;
    if ((a === 'numeric' && b === 'text') || (a === 'text' && b === 'numeric'))
      typeMismatches.push({ column: c, ours: ours.labels.get(c)!, theirs: theirs.labels.get(c)! });
    numeric.set(c, (a === 'numeric' || a === 'unknown') && (b === 'numeric' || b === 'unknown'));
  }

  let key: string[];
  let keyChosen: 'given' | 'default';
  if (options.key && options.key.length > 0) {
    key = [...new Set(options.key)];
    keyChosen = 'given';
    const missing = key.filter((c) => !oursColumns.has(c) || !theirsColumns.has(c));
    if (missing.length > 0)
      throw new UsageError(
        `--key ${missing.join(', ')}: not a column of both results (shared: ${shared.join(', ') || 'none'})`,
      );
  } else {
    // Columns all NULL on both sides say nothing about their type: they do not make a key.
    key = shared.filter((c) => {
      const a = ours.kinds.get(c)!;
      const b = theirs.kinds.get(c)!;
      return a !== 'numeric' && b !== 'numeric' && (a === 'text' || b === 'text');
    });
    keyChosen = 'default';
    if (key.length === 0)
      throw new UsageError(
        `no key: the two results share no non-numeric column (shared: ${shared.join(', ') || 'none'}); name the columns that identify a row with --key col,col`,
      );
  }
  const keyNumeric = key.map((c) => numeric.get(c) === true);
  const keyColumns = new Set(key);
  const comparedColumns = shared.filter((c) => !keyColumns.has(c));

  const keyOf = (row: Record<string, unknown>) =>
    JSON.stringify(key.map((c, i) => canonicalText(row[c], keyNumeric[i]!)));
  const keyObject = (row: Record<string, unknown>) =>
    Object.fromEntries(key.map((c) => [c, reportValue(row[c])]));
  const index = (side: Side) => {
    const byKey = new Map<string, Record<string, unknown>[]>();
    for (const row of side.rows) {
      const k = keyOf(row);
      const hit = byKey.get(k);
      if (hit) hit.push(row);
      else byKey.set(k, [row]);
    }
    return byKey;
  };
  const oursByKey = index(ours);
  const theirsByKey = index(theirs);

  const duplicateKeys: DuplicateKey[] = [];
  for (const [side, byKey] of [
    ['ours', oursByKey],
    ['theirs', theirsByKey],
  ] as const)
    for (const rows of byKey.values())
      if (rows.length > 1) duplicateKeys.push({ side, key: keyObject(rows[0]!), rows: rows.length });

  const onlyInOurs: Record<string, ReportValue>[] = [];
  const onlyInTheirs: Record<string, ReportValue>[] = [];
  const differences: (ValueDifference & { order: number })[] = [];
  let matched = 0;
  let comparedValues = 0;
  let maxRelativeDifference = 0;
  for (const [k, oursRows] of oursByKey) {
    const theirsRows = theirsByKey.get(k);
    if (!theirsRows) {
      onlyInOurs.push(keyObject(oursRows[0]!));
      continue;
    }
    if (oursRows.length > 1 || theirsRows.length > 1) continue;
    matched++;
    const a = oursRows[0]!;
    const b = theirsRows[0]!;
    for (const column of comparedColumns) {
      comparedValues++;
      const { equal, relativeDifference } = compareCell(a[column], b[column], numeric.get(column) === true);
      if (relativeDifference !== null && relativeDifference > maxRelativeDifference)
        maxRelativeDifference = relativeDifference;
      if (equal || (relativeDifference !== null && relativeDifference <= tolerance)) continue;
      differences.push({
        key: keyObject(a),
        column,
        ours: reportValue(a[column]),
        theirs: reportValue(b[column]),
        relativeDifference,
        order: differences.length,
      });
    }
  }
  for (const [k, theirsRows] of theirsByKey)
    if (!oursByKey.has(k)) onlyInTheirs.push(keyObject(theirsRows[0]!));

  // Worst first: what cannot be measured, then the largest relative difference; ties in row order.
  differences.sort((x, y) => {
    const rx = x.relativeDifference ?? Number.POSITIVE_INFINITY;
    const ry = y.relativeDifference ?? Number.POSITIVE_INFINITY;
    return rx === ry ? x.order - y.order : ry - rx;
  });

  const problems = [
    differences.length > 0 &&
      `${plural(differences.length, 'value')} beyond ${tolerancePercent} % or different`,
    onlyInOurs.length > 0 && `${plural(onlyInOurs.length, 'row')} only in ours`,
    onlyInTheirs.length > 0 && `${plural(onlyInTheirs.length, 'row')} only in theirs`,
    duplicateKeys.length > 0 && `${plural(duplicateKeys.length, 'duplicate key')}`,
    columnsOnlyInOurs.length > 0 && `columns only in ours: ${columnsOnlyInOurs.join(', ')}`,
    columnsOnlyInTheirs.length > 0 && `columns only in theirs: ${columnsOnlyInTheirs.join(', ')}`,
    typeMismatches.length > 0 &&
      `numeric on one side only: ${typeMismatches.map((t) => t.column).join(', ')}`,
  ].filter((p): p is string => typeof p === 'string');
  const ok = problems.length === 0;
  return {
    key,
    keyChosen,
    tolerancePercent,
    rows: { ours: ours.rows.length, theirs: theirs.rows.length, matched },
    comparedColumns,
    comparedValues,
    maxRelativeDifference,
    onlyInOurs,
    onlyInTheirs,
    duplicateKeys,
    columnsOnlyInOurs,
    columnsOnlyInTheirs,
    typeMismatches,
    differences: differences.map(({ order: _order, ...d }) => d),
    ok,
    summary: ok
      ? `clean: ${plural(matched, 'row')} matched, ${plural(comparedValues, 'value')} within ${tolerancePercent} %`
      : problems.join('; '),
  };
}
