import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { jsonDepth, negotiate } from './endpoint.js';
import { healthScore } from './machine-health.js';
import { greatest, ident, isTrue, limit, millisBetween, PlainDate, sql as q } from './statement.js';
import { bindStatement, normaliseRecordset, SynapseGoldReader } from './synapse-reader.js';

const from = new Date('2026-11-23T06:00:00Z');
const hostile = "augsburg'; DROP TABLE gold.agg_oee_hourly; --";

describe('statements render per engine with every value bound, never spliced', () => {
  const statement = q`SELECT ${ident('machine_id')} FROM gold.agg_oee_hourly WHERE facility_id = ${hostile} AND hour_start >= ${from} AND ${isTrue('is_complete')} AND day = ${new PlainDate('2026-11-23')} ORDER BY machine_id${limit(5)}`;

  it('DuckDB: $n placeholders, instants and dates cast, LIMIT', () => {
    const { text, values } = statement.render('duckdb');
    expect(text).toBe(
      'SELECT "machine_id" FROM gold.agg_oee_hourly WHERE facility_id = $1 AND hour_start >= CAST($2 AS TIMESTAMPTZ) AND "is_complete" AND day = CAST($3 AS DATE) ORDER BY machine_id LIMIT 5',
    );
    expect(values).toEqual([hostile, from, new PlainDate('2026-11-23')]);
    expect(text).not.toContain('DROP');
  });

  it('T-SQL: @pN placeholders, BIT as = 1, OFFSET/FETCH instead of LIMIT', () => {
    const { text } = statement.render('tsql');
    expect(text).toBe(
      'SELECT [machine_id] FROM gold.agg_oee_hourly WHERE facility_id = @p0 AND hour_start >= @p1 AND [is_complete] = 1 AND day = @p2 ORDER BY machine_id OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY',
    );
  });

  it('dialect helpers: the pool has no GREATEST, and DATEDIFF_BIG counts b - a', () => {
    const s = millisBetween(greatest(q`start_at`, q`${from}`), q`observed_until`);
    expect(s.render('duckdb').text).toBe(
      '(epoch_ms(observed_until) - epoch_ms(greatest(start_at, CAST($1 AS TIMESTAMPTZ))))',
    );
    const t = s.render('tsql');
    expect(t.text).toBe(
      'DATEDIFF_BIG(millisecond, CASE WHEN start_at > @p0 THEN start_at ELSE @p1 END, observed_until)',
    );
    expect(t.values).toEqual([from, from]);
  });

  it('identifiers are checked: anything but lower-case names is refused', () => {
    expect(() => ident('facility_id; DROP')).toThrow(/not an identifier/);
    expect(() => ident('"x"')).toThrow(/not an identifier/);
    expect(() => limit(0)).toThrow();
  });

  it('binds typed mssql inputs named like the placeholders', () => {
    const request = bindStatement(new sql.Request(), statement);
    const params = request.parameters as Record<string, { name: string; type: unknown; value: unknown }>;
    expect(Object.keys(params)).toEqual(['p0', 'p1', 'p2']);
    expect(params['p0']).toMatchObject({ value: hostile });
    expect((params['p0']!.type as { declaration: string }).declaration).toBe('nvarchar');
    expect((params['p1']!.type as { declaration: string }).declaration).toBe('datetime2');
    expect(params['p1']!.value).toEqual(from);
    expect((params['p2']!.type as { declaration: string }).declaration).toBe('date');
  });

  it('the Synapse reader sends the T-SQL text with the bound request and normalises the rows', async () => {
    const sent: { text: string; params: string[] }[] = [];
    const recording = () => {
      const request = new sql.Request();
      const query = async (text: string) => {
        sent.push({ text, params: Object.keys(request.parameters) });
        const recordset = [{ day: new Date('2026-11-23T00:00:00Z'), at: from, n: '12' }];
        Object.assign(recordset, {
          columns: { day: { type: sql.Date }, at: { type: sql.DateTime2 }, n: { type: sql.BigInt } },
        });
        return { recordset, recordsets: [recordset], rowsAffected: [1], output: {} };
      };
      Object.assign(request, { query });
      return request;
    };
    const reader = new SynapseGoldReader({ request: recording });
    const rows = await reader.query(q`SELECT day, at, n FROM gold.x WHERE facility_id = ${hostile}`);
    expect(sent).toEqual([{ text: 'SELECT day, at, n FROM gold.x WHERE facility_id = @p0', params: ['p0'] }]);
    expect(rows).toEqual([{ day: '2026-11-23', at: '2026-11-23T06:00:00.000Z', n: 12 }]);
    expect(normaliseRecordset(undefined)).toEqual([]);
  });
});

describe('the health score', () => {
  it('weights availability 50 %, anomalies and signal 25 % each, rescaled when a component has no data', () => {
    expect(
      healthScore({ plannedS: 3600, failureS: 900, windows: 100, spikes: 1, flatlines: 1 }),
    ).toMatchObject({
      score: 78,
      availability: 75,
      anomalies: 80,
      signal: 80,
      status: 'degraded',
    });
    expect(healthScore({ plannedS: 0, failureS: 0, windows: 100, spikes: 0, flatlines: 0 }).score).toBe(100);
    expect(
      healthScore({ plannedS: 3600, failureS: 3600, windows: 0, spikes: 0, flatlines: 0 }),
    ).toMatchObject({ score: 0, status: 'critical' });
    expect(healthScore({ plannedS: 0, failureS: 0, windows: 0, spikes: 0, flatlines: 0 })).toMatchObject({
      score: null,
      status: 'unknown',
    });
    expect(healthScore({ plannedS: 100, failureS: 0, windows: 10, spikes: 10, flatlines: 0 }).anomalies).toBe(
      0,
    );
  });
});

describe('request edges', () => {
  it('negotiates JSON by default, CSV when asked, 406 otherwise', () => {
    const offered = ['application/json', 'text/csv'];
    expect(negotiate(null, offered)).toBe('application/json');
    expect(negotiate('text/csv', offered)).toBe('text/csv');
    expect(negotiate('text/csv;q=0.5, application/json', offered)).toBe('application/json');
    expect(negotiate('text/*', offered)).toBe('text/csv');
    expect(() => negotiate('application/xml', offered)).toThrow(/answers/);
    expect(() => negotiate('application/json;q=0', ['application/json'])).toThrow();
  });

  it('counts JSON depth without parsing, ignoring brackets in strings', () => {
    expect(jsonDepth('{"a":[{"b":"[[[["}]}')).toBe(3);
    expect(jsonDepth('"\\"[["')).toBe(0);
    expect(jsonDepth('['.repeat(100))).toBe(100);
  });
});
