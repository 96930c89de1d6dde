/**
 * SQL statements with bound parameters, written once and rendered for the engine that serves gold: DuckDB
 * locally (`$1`, `$2`) and Synapse SQL in Azure (`@p0`, `@p1`). Values never become SQL text; the only
 * text a caller can add is through {@link ident} (checked against an allow-list by the caller) and
 * {@link dialect} fragments written in this repository.
 */
export type Dialect = 'duckdb' | 'tsql';

/** A parameter value: text, a number, a boolean, an instant (TIMESTAMPTZ / DATETIME2) or a plant date. */
export type SqlValue = string | number | boolean | Date | PlainDate | null;

/** A calendar date (`2026-11-23`), bound as DATE. */
export class PlainDate {
  constructor(readonly iso: string) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) throw new Error(`not a date: ${iso}`);
  }
}

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'value'; value: SqlValue }
  | { kind: 'dialect'; text: Record<Dialect, string> }
  | { kind: 'only'; target: Dialect; parts: readonly Part[] };

export class Statement {
  constructor(readonly parts: readonly Part[]) {}

  /** The statement for one engine: its text with numbered placeholders, and the values in order. */
  render(target: Dialect): { text: string; values: SqlValue[] } {
    const values: SqlValue[] = [];
    const walk = (parts: readonly Part[]): string => {
      let text = '';
      for (const part of parts) {
        if (part.kind === 'text') text += part.text;
        else if (part.kind === 'dialect') text += part.text[target];
        else if (part.kind === 'only') text += part.target === target ? walk(part.parts) : '';
        else {
          values.push(part.value);
          text += placeholder(target, values.length - 1, part.value);
        }
      }
      return text;
    };
    return { text: walk(this.parts), values };
  }
}

function placeholder(target: Dialect, index: number, value: SqlValue): string {
  if (target === 'tsql') return `@p${index}`;
  // DuckDB infers a parameter's type from its use; an explicit cast keeps instants and dates exact.
  if (value instanceof Date) return `CAST($${index + 1} AS TIMESTAMPTZ)`;
  if (value instanceof PlainDate) return `CAST($${index + 1} AS DATE)`;
  return `$${index + 1}`;
}

/** A statement as a template: `sql\`... WHERE facility_id = ${id}\``; nested statements are inlined. */
export function sql(strings: TemplateStringsArray, ...values: (SqlValue | Statement)[]): Statement {
  const parts: Part[] = [];
  strings.forEach((s, i) => {
    if (s) parts.push({ kind: 'text', text: s });
    if (i < values.length) {
      const v = values[i]!;
      if (v instanceof Statement) parts.push(...v.parts);
      else parts.push({ kind: 'value', value: v });
    }
  });
  return new Statement(parts);
}

/** Joins statements with a separator (`, ` for column lists, ` AND ` for conditions). */
export function join(statements: readonly Statement[], separator: string): Statement {
  const parts: Part[] = [];
  statements.forEach((s, i) => {
    if (i > 0) parts.push({ kind: 'text', text: separator });
    parts.push(...s.parts);
  });
  return new Statement(parts);
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/**
 * A column or table name as SQL text. Only lower-case identifiers pass, so even a name that slipped
 * past the caller's allow-list cannot carry SQL; it is quoted for both engines.
 */
export function ident(name: string): Statement {
  const parts = name.split('.');
  if (!parts.every((p) => IDENT.test(p))) throw new Error(`not an identifier: ${JSON.stringify(name)}`);
  return new Statement([
    {
      kind: 'dialect',
      text: {
        duckdb: parts.map((p) => `"${p}"`).join('.'),
        tsql: parts.map((p) => `[${p}]`).join('.'),
      },
    },
  ]);
}

/** Text that differs between the engines (written here, never from input). */
export function dialect(text: Record<Dialect, string>): Statement {
  return new Statement([{ kind: 'dialect', text }]);
}

/** A boolean column as a condition: DuckDB has BOOLEAN, Synapse BIT. */
export const isTrue = (column: string): Statement =>
  join([ident(column), dialect({ duckdb: '', tsql: ' = 1' })], '');

/** Either statement, by engine: the two may bind different values. */
export const perDialect = (statements: Record<Dialect, Statement>): Statement =>
  new Statement([
    { kind: 'only', target: 'duckdb', parts: statements.duckdb.parts },
    { kind: 'only', target: 'tsql', parts: statements.tsql.parts },
  ]);

/** Milliseconds from `a` to `b` (two timestamp expressions): `b - a`. */
export const millisBetween = (a: Statement, b: Statement): Statement =>
  perDialect({
    duckdb: sql`(epoch_ms(${b}) - epoch_ms(${a}))`,
    tsql: sql`DATEDIFF_BIG(millisecond, ${a}, ${b})`,
  });

/**
 * The later / earlier of two timestamp expressions. The dedicated SQL pool has no GREATEST/LEAST, so
 * T-SQL gets a CASE (binding the operands' values twice).
 */
export const greatest = (a: Statement, b: Statement): Statement =>
  perDialect({ duckdb: sql`greatest(${a}, ${b})`, tsql: sql`CASE WHEN ${a} > ${b} THEN ${a} ELSE ${b} END` });
export const least = (a: Statement, b: Statement): Statement =>
  perDialect({ duckdb: sql`least(${a}, ${b})`, tsql: sql`CASE WHEN ${a} < ${b} THEN ${a} ELSE ${b} END` });

/** `LIMIT n` / `OFFSET 0 ROWS FETCH NEXT n ROWS ONLY` (T-SQL needs an ORDER BY before it, as keyset pages have). */
export function limit(rows: number): Statement {
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error(`bad row limit ${rows}`);
  return dialect({ duckdb: ` LIMIT ${rows}`, tsql: ` OFFSET 0 ROWS FETCH NEXT ${rows} ROWS ONLY` });
}
