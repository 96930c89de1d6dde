import { describe, expect, it } from 'vitest';
import {
  compareResults,
  isNumericType,
  numericValue,
  relativeNumberDifference,
  reportValue,
} from './parallel-run.js';

const hours = [
  {
    facility_id: 'augsburg',
    machine_id: 'aug-m01',
    hour: '2026-11-23T07:00:00.000Z',
    oee: 0.8125,
    good: 412,
  },
  { facility_id: 'augsburg', machine_id: 'aug-m02', hour: '2026-11-23T07:00:00.000Z', oee: 0.5, good: 300 },
  { facility_id: 'ingolstadt', machine_id: 'ing-m01', hour: '2026-11-23T07:00:00.000Z', oee: 0, good: 0 },
];
const withRow = (i: number, change: Record<string, unknown>) =>
  hours.map((r, j) => (i === j ? { ...r, ...change } : r));

describe('compareResults', () => {
  it('finds two identical results clean, keyed on the shared non-numeric columns', () => {
    const report = compareResults({ rows: hours }, { rows: [...hours].reverse() });
    expect(report.ok).toBe(true);
    expect(report.key).toEqual(['facility_id', 'machine_id', 'hour']);
    expect(report.keyChosen).toBe('default');
    expect(report.comparedColumns).toEqual(['oee', 'good']);
    expect(report.rows).toEqual({ ours: 3, theirs: 3, matched: 3 });
    expect(report.comparedValues).toBe(6);
    expect(report.summary).toBe('clean: 3 rows matched, 6 values within 0.01 %');
  });

  it('passes a number within the tolerance and fails one beyond it, naming row, column and difference', () => {
    const within = compareResults({ rows: hours }, { rows: withRow(0, { oee: 0.8125 * 1.00005 }) });
    expect(within.ok).toBe(true);
    expect(within.maxRelativeDifference).toBeCloseTo(0.00005 / 1.00005, 12);

    const beyond = compareResults({ rows: hours }, { rows: withRow(0, { oee: 0.8125 * 1.0002 }) });
    expect(beyond.ok).toBe(false);
    expect(beyond.differences).toEqual([
      {
        key: { facility_id: 'augsburg', machine_id: 'aug-m01', hour: '2026-11-23T07:00:00.000Z' },
        column: 'oee',
        ours: 0.8125,
        theirs: 0.8125 * 1.0002,
        relativeDifference: expect.closeTo(0.0002 / 1.0002, 12),
      },
    ]);
    expect(beyond.summary).toBe('1 value beyond 0.01 % or different');
    // A looser tolerance lets the same difference pass; 0 % demands equality.
    expect(
      compareResults(
        { rows: hours },
        { rows: withRow(0, { oee: 0.8125 * 1.0002 }) },
        { tolerancePercent: 0.05 },
      ).ok,
    ).toBe(true);
    expect(
      compareResults({ rows: hours }, { rows: withRow(1, { good: 300.0000001 }) }, { tolerancePercent: 0 })
        .ok,
    ).toBe(false);
  });

  it('measures against the larger magnitude, so the difference is symmetric', () => {
    expect(relativeNumberDifference(100, 99)).toBeCloseTo(0.01, 15);
    expect(relativeNumberDifference(99, 100)).toBeCloseTo(0.01, 15);
    expect(relativeNumberDifference(-5, 5)).toBe(2);
    expect(relativeNumberDifference(0, 1e-300)).toBe(1);
  });

  it('lists rows only in ours and only in theirs by their key', () => {
    const report = compareResults(
      { rows: hours.slice(0, 2) },
      { rows: [hours[1]!, hours[2]!, { ...hours[0]!, hour: '2026-11-23T08:00:00.000Z' }] },
    );
    expect(report.ok).toBe(false);
    expect(report.onlyInOurs).toEqual([
      { facility_id: 'augsburg', machine_id: 'aug-m01', hour: '2026-11-23T07:00:00.000Z' },
    ]);
    expect(report.onlyInTheirs).toEqual([
      { facility_id: 'ingolstadt', machine_id: 'ing-m01', hour: '2026-11-23T07:00:00.000Z' },
      { facility_id: 'augsburg', machine_id: 'aug-m01', hour: '2026-11-23T08:00:00.000Z' },
    ]);
    expect(report.rows.matched).toBe(1);
    expect(report.summary).toBe('1 row only in ours; 2 rows only in theirs');
  });

  it('reports duplicate keys on either side as an error and does not compare those rows', () => {
    const report = compareResults(
      { rows: [...hours, hours[0]!] },
      { rows: [...withRow(1, { oee: 99 }), { ...hours[1]!, oee: 0.7 }, hours[1]!] },
    );
    expect(report.ok).toBe(false);
    expect(report.duplicateKeys).toEqual([
      {
        side: 'ours',
        key: { facility_id: 'augsburg', machine_id: 'aug-m01', hour: hours[0]!.hour },
        rows: 2,
      },
      {
        side: 'theirs',
        key: { facility_id: 'augsburg', machine_id: 'aug-m02', hour: hours[1]!.hour },
        rows: 3,
      },
    ]);
    // Only the ingolstadt row is unambiguous on both sides; the oee of 99 is never silently picked.
    expect(report.rows.matched).toBe(1);
    expect(report.differences).toEqual([]);
    expect(report.onlyInOurs).toEqual([]);
  });

  it('reports columns missing on one side and compares the rest', () => {
    const report = compareResults(
      { rows: hours.map(({ good: _good, ...r }) => ({ ...r, scrap: 1 })) },
      { rows: hours },
    );
    expect(report.ok).toBe(false);
    expect(report.columnsOnlyInOurs).toEqual(['scrap']);
    expect(report.columnsOnlyInTheirs).toEqual(['good']);
    expect(report.comparedColumns).toEqual(['oee']);
    expect(report.differences).toEqual([]);
  });

  it('matches NULL keys with NULL keys, compares NULL = NULL as equal and NULL against a value as a difference', () => {
    const ours = [
      { plant: null, line: 'l1', qty: 1 },
      { plant: 'aug', line: null, qty: null },
      { plant: 'aug', line: 'l2', qty: null },
    ];
    const theirs = [
      { plant: 'aug', line: null, qty: null },
      { plant: null, line: 'l1', qty: 1 },
      { plant: 'aug', line: 'l2', qty: 0 },
    ];
    const report = compareResults({ rows: ours }, { rows: theirs }, { key: ['plant', 'line'] });
    expect(report.rows.matched).toBe(3);
    expect(report.differences).toEqual([
      { key: { plant: 'aug', line: 'l2' }, column: 'qty', ours: null, theirs: 0, relativeDifference: null },
    ]);
    // Two rows with a NULL key are one key twice, not two different keys.
    const doubled = compareResults(
      { rows: [ours[0]!, { ...ours[0]! }] },
      { rows: [ours[0]!] },
      { key: ['plant', 'line'] },
    );
    expect(doubled.duplicateKeys).toEqual([{ side: 'ours', key: { plant: null, line: 'l1' }, rows: 2 }]);
    // NULL is not the text "null".
    const text = compareResults(
      { rows: [{ k: null, v: 1 }] },
      { rows: [{ k: 'null', v: 1 }] },
      { key: ['k'] },
    );
    expect(text.onlyInOurs).toEqual([{ k: null }]);
    expect(text.onlyInTheirs).toEqual([{ k: 'null' }]);
  });

  it('treats NaN as equal to NaN only, and infinities as equal to the same infinity only', () => {
    const ours = [
      { k: 'a', v: Number.NaN },
      { k: 'b', v: Number.NaN },
      { k: 'c', v: Number.POSITIVE_INFINITY },
      { k: 'd', v: Number.POSITIVE_INFINITY },
      { k: 'e', v: Number.NEGATIVE_INFINITY },
    ];
    const theirs = [
      { k: 'a', v: Number.NaN },
      { k: 'b', v: 0 },
      { k: 'c', v: Number.POSITIVE_INFINITY },
      { k: 'd', v: Number.MAX_VALUE },
      { k: 'e', v: Number.POSITIVE_INFINITY },
    ];
    const report = compareResults({ rows: ours }, { rows: theirs });
    expect(report.differences).toEqual([
      { key: { k: 'b' }, column: 'v', ours: 'NaN', theirs: 0, relativeDifference: null },
      { key: { k: 'd' }, column: 'v', ours: 'Infinity', theirs: Number.MAX_VALUE, relativeDifference: null },
      { key: { k: 'e' }, column: 'v', ours: '-Infinity', theirs: 'Infinity', relativeDifference: null },
    ]);
    // The report survives JSON without turning NaN or Infinity into null.
    expect(JSON.parse(JSON.stringify(report.differences))[0].ours).toBe('NaN');
    // DuckDB renders them as text in a DOUBLE column: still numbers.
    const typed = compareResults(
      {
        columns: [
          { name: 'k', type: 'VARCHAR' },
          { name: 'v', type: 'DOUBLE' },
        ],
        rows: [
          { k: 'a', v: 'NaN' },
          { k: 'b', v: '-Infinity' },
        ],
      },
      {
        rows: [
          { k: 'a', v: Number.NaN },
          { k: 'b', v: Number.NEGATIVE_INFINITY },
        ],
      },
    );
    expect(typed.ok).toBe(true);
  });

  it('reports a column numeric on one side and text on the other ("1" against 1), and compares it as text', () => {
    const report = compareResults(
      {
        rows: [
          { k: 'a', qty: 1 },
          { k: 'b', qty: 2 },
        ],
      },
      {
        rows: [
          { k: 'a', qty: '1' },
          { k: 'b', qty: '2.0' },
        ],
      },
      { key: ['k'] },
    );
    expect(report.ok).toBe(false);
    expect(report.typeMismatches).toEqual([{ column: 'qty', ours: 'number', theirs: 'text' }]);
    expect(report.differences).toEqual([
      { key: { k: 'b' }, column: 'qty', ours: 2, theirs: '2.0', relativeDifference: null },
    ]);
    expect(report.summary).toBe('1 value beyond 0.01 % or different; numeric on one side only: qty');
    // With declared types the reader's type wins over the JavaScript type of the value.
    const declared = compareResults(
      {
        columns: [
          { name: 'k', type: 'VARCHAR' },
          { name: 'qty', type: 'DECIMAL(18,2)' },
        ],
        rows: [{ k: 'a', qty: '12.50' }],
      },
      {
        columns: [
          { name: 'k', type: 'VARCHAR' },
          { name: 'qty', type: 'DOUBLE' },
        ],
        rows: [{ k: 'a', qty: 12.5 }],
      },
    );
    expect(declared.ok).toBe(true);
    expect(declared.typeMismatches).toEqual([]);
  });

  it('compares huge numbers without overflow and integers beyond 2^53 exactly', () => {
    const big = 2n ** 70n;
    const ours = [
      { k: 'max', v: Number.MAX_VALUE },
      { k: 'opposite', v: Number.MAX_VALUE },
      { k: 'int', v: big },
      { k: 'int53', v: 9007199254740993n },
      { k: 'tiny', v: 5e-324 },
    ];
    const theirs = [
      { k: 'max', v: Number.MAX_VALUE },
      { k: 'opposite', v: -Number.MAX_VALUE },
      { k: 'int', v: big + 1n },
      { k: 'int53', v: 9007199254740992 },
      { k: 'tiny', v: 0 },
    ];
    const loose = compareResults({ rows: ours }, { rows: theirs });
    expect(loose.differences.map((d) => [d.key['k'], d.relativeDifference])).toEqual([
      ['opposite', 2],
      ['tiny', 1],
    ]);
    expect(loose.differences[0]!.ours).toBe(Number.MAX_VALUE);
    // At 0 % the last unit of an integer beyond 2^53 counts, against a bigint or a double.
    const exact = compareResults({ rows: ours }, { rows: theirs }, { tolerancePercent: 0 });
    expect(exact.differences.map((d) => d.key['k'])).toEqual(['opposite', 'tiny', 'int53', 'int']);
    expect(exact.differences.find((d) => d.key['k'] === 'int')).toMatchObject({
      ours: '1180591620717411303424',
      theirs: '1180591620717411303425',
    });
    expect(relativeNumberDifference(10n ** 400n, 10n ** 400n + 1n)).toBeGreaterThan(0);
    expect(relativeNumberDifference(10n ** 400n, -(10n ** 400n))).toBe(2);
  });

  it('takes negative zero for zero, in values and in keys', () => {
    const report = compareResults(
      { rows: [{ k: -0, name: 'x', v: -0 }] },
      { rows: [{ k: 0, name: 'x', v: 0 }] },
      { key: ['k', 'name'], tolerancePercent: 0 },
    );
    expect(report.ok).toBe(true);
    expect(report.rows.matched).toBe(1);
    expect(reportValue(-0)).toBe(0);
  });

  it('matches numeric keys on their value: 1, 1.0 as DuckDB text and 1n are one key', () => {
    const report = compareResults(
      {
        columns: [
          { name: 'id', type: 'BIGINT' },
          { name: 'v', type: 'DOUBLE' },
        ],
        rows: [
          { id: '1', v: 2 },
          { id: 1e21, v: 3 },
        ],
      },
      {
        rows: [
          { id: 1n, v: 2 },
          { id: 10n ** 21n, v: 3 },
        ],
      },
      { key: ['id'] },
    );
    expect(report.ok).toBe(true);
    expect(report.rows.matched).toBe(2);
  });

  it('keys unicode exactly: no normalisation, no collisions through separators', () => {
    const composed = 'Stra\u00dfe M\u00fcller';
    const decomposed = 'Stra\u00dfe Mu\u0308ller';
    const ours = [
      { a: composed, b: 'x', v: 1 },
      { a: 'a|b', b: 'c', v: 2 },
      { a: '工場 🏭', b: '"', v: 3 },
      { a: '', b: 'x', v: 4 },
    ];
    const theirs = [
      { a: decomposed, b: 'x', v: 1 },
      { a: 'a', b: 'b|c', v: 2 },
      { a: '工場 🏭', b: '"', v: 3 },
      { a: '', b: 'x', v: 4 },
    ];
    const report = compareResults({ rows: ours }, { rows: theirs });
    expect(report.key).toEqual(['a', 'b']);
    expect(report.rows.matched).toBe(2);
    expect(report.onlyInOurs).toEqual([
      { a: composed, b: 'x' },
      { a: 'a|b', b: 'c' },
    ]);
    expect(report.onlyInTheirs).toEqual([
      { a: decomposed, b: 'x' },
      { a: 'a', b: 'b|c' },
    ]);
  });

  it('compares non-numeric values exactly: case, whitespace, booleans', () => {
    const report = compareResults(
      {
        rows: [
          { k: 'a', s: 'Augsburg', ok: true },
          { k: 'b', s: 'x ', ok: false },
        ],
      },
      {
        rows: [
          { k: 'a', s: 'augsburg', ok: true },
          { k: 'b', s: 'x', ok: false },
        ],
      },
      { key: ['k'] },
    );
    expect(report.differences.map((d) => [d.key['k'], d.column, d.ours, d.theirs])).toEqual([
      ['a', 's', 'Augsburg', 'augsburg'],
      ['b', 's', 'x ', 'x'],
    ]);
  });

  it('sorts differences worst first: unmeasurable, then by relative difference', () => {
    const ours = [1, 2, 3, 4].map((i) => ({ k: `r${i}`, v: 100 }));
    const theirs = [
      { k: 'r1', v: 100.1 },
      { k: 'r2', v: null },
      { k: 'r3', v: 110 },
      { k: 'r4', v: 101 },
    ];
    const report = compareResults({ rows: ours }, { rows: theirs });
    expect(report.differences.map((d) => d.key['k'])).toEqual(['r2', 'r3', 'r4', 'r1']);
  });

  it('refuses a key it cannot form, naming the columns it has (a usage error)', () => {
    expect(() => compareResults({ rows: [{ v: 1 }] }, { rows: [{ v: 1 }] })).toThrow(
      expect.objectContaining({ code: 'usage.invalid', message: expect.stringMatching(/no key: .*--key/) }),
    );
    expect(() => compareResults({ rows: hours }, { rows: hours }, { key: ['plant'] })).toThrow(
      /--key plant: not a column of both results \(shared: facility_id, machine_id, hour, oee, good\)/,
    );
    expect(() => compareResults({ rows: hours }, { rows: hours }, { tolerancePercent: -1 })).toThrow(
      expect.objectContaining({ code: 'usage.invalid' }),
    );
    expect(() => compareResults({ rows: hours }, { rows: hours }, { tolerancePercent: Number.NaN })).toThrow(
      /non-negative/,
    );
  });

  it('compares two empty results with declared columns as clean', () => {
    const columns = [
      { name: 'k', type: 'VARCHAR' },
      { name: 'v', type: 'DOUBLE' },
    ];
    const report = compareResults({ columns, rows: [] }, { columns, rows: [] });
    expect(report.ok).toBe(true);
    expect(report.rows).toEqual({ ours: 0, theirs: 0, matched: 0 });
  });
});

describe('numericValue and isNumericType', () => {
  it('reads the numbers DuckDB renders as text', () => {
    expect(numericValue('12.50')).toBe(12.5);
    expect(numericValue('9007199254740993')).toBe(9007199254740993n);
    expect(numericValue('42')).toBe(42);
    expect(numericValue('-1e-5')).toBe(-0.00001);
    expect(numericValue('-inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(numericValue('NaN')).toBeNaN();
    expect(numericValue('12,50')).toBeUndefined();
    expect(numericValue('')).toBeUndefined();
  });

  it('knows DuckDB number types from the others', () => {
    for (const t of ['BIGINT', 'DOUBLE', 'DECIMAL(18,2)', 'HUGEINT', 'UBIGINT', 'FLOAT', 'INTEGER'])
      expect(isNumericType(t)).toBe(true);
    for (const t of ['VARCHAR', 'TIMESTAMP WITH TIME ZONE', 'DATE', 'BOOLEAN', 'INTEGER[]'])
      expect(isNumericType(t)).toBe(false);
  });
});
