import { quoteIdent, quoteLiteral } from '@aurora/lake';
import type { Expectation, Model } from './model.js';

/** The data-quality dimension an expectation measures (the scores `aurora dq` shows). */
export type Dimension = 'completeness' | 'uniqueness' | 'validity' | 'consistency' | 'timeliness';

export interface CompiledExpectation {
  /** `not_null(order_id)`, readable in reports. */
  name: string;
  dimension: Dimension;
  severity: 'error' | 'warn';
  /** A query returning the failing rows (or groups, for uniqueness). */
  failing: string;
  /** The number of rows the expectation was checked against. */
  total: string;
}

const cols = (columns: readonly string[]) => columns.map(quoteIdent).join(', ');

/**
 * Each expectation of a model as SQL over its table (`table` is the schema-qualified name). The model's
 * key is always expected unique. `nowIso` is the run's clock, for freshness.
 */
export function compileExpectations(model: Model, table: string, nowIso: string): CompiledExpectation[] {
  const all: Expectation[] = [{ unique: model.key, severity: 'error' }, ...model.expectations];
  const seen = new Set<string>();
  const out: CompiledExpectation[] = [];
  const rowsTotal = `SELECT count(*) FROM ${table}`;
  for (const e of all) {
    const severity = e.severity ?? 'error';
    let compiled: Omit<CompiledExpectation, 'severity'>;
    if ('not_null' in e) {
      compiled = {
        name: `not_null(${e.not_null.join(', ')})`,
        dimension: 'completeness',
        failing: `SELECT * FROM ${table} WHERE ${e.not_null.map((c) => `${quoteIdent(c)} IS NULL`).join(' OR ')}`,
        total: rowsTotal,
      };
    } else if ('unique' in e) {
      compiled = {
        name: `unique(${e.unique.join(', ')})`,
        dimension: 'uniqueness',
        failing: `SELECT ${cols(e.unique)}, count(*) AS copies FROM ${table} GROUP BY ALL HAVING count(*) > 1`,
        total: rowsTotal,
      };
    } else if ('accepted_values' in e) {
      const { column, values } = e.accepted_values;
      compiled = {
        name: `accepted_values(${column})`,
        dimension: 'validity',
        failing: `SELECT * FROM ${table} WHERE ${quoteIdent(column)} IS NOT NULL AND ${quoteIdent(column)} NOT IN (${values.map((v) => (typeof v === 'string' ? quoteLiteral(v) : String(v))).join(', ')})`,
        total: rowsTotal,
      };
    } else if ('range' in e) {
      const { column, min, max } = e.range;
      const outside = [
        ...(min === undefined ? [] : [`${quoteIdent(column)} < ${min}`]),
        ...(max === undefined ? [] : [`${quoteIdent(column)} > ${max}`]),
      ];
      compiled = {
        name: `range(${column}${min === undefined ? '' : ` >= ${min}`}${max === undefined ? '' : ` <= ${max}`})`,
        dimension: 'validity',
        failing: `SELECT * FROM ${table} WHERE ${outside.join(' OR ')}`,
        total: rowsTotal,
      };
    } else if ('relationship' in e) {
      const { column, to } = e.relationship;
      const [schema, target, targetColumn] = to.split('.') as [string, string, string];
      compiled = {
        name: `relationship(${column} -> ${to})`,
        dimension: 'consistency',
        failing: `SELECT * FROM ${table} AS t WHERE t.${quoteIdent(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(schema)}.${quoteIdent(target)} AS r WHERE r.${quoteIdent(targetColumn)} = t.${quoteIdent(column)})`,
        total: rowsTotal,
      };
    } else if ('freshness' in e) {
      const { column, max_age_minutes } = e.freshness;
      compiled = {
        name: `freshness(${column} within ${max_age_minutes} min)`,
        dimension: 'timeliness',
        failing: `SELECT max(${quoteIdent(column)}) AS latest FROM ${table} HAVING max(${quoteIdent(column)}) IS NULL OR max(${quoteIdent(column)}) < TIMESTAMPTZ ${quoteLiteral(nowIso)} - INTERVAL ${max_age_minutes} MINUTE`,
        total: 'SELECT 1',
      };
    } else {
      compiled = {
        name: `condition(${e.condition.name})`,
        dimension: 'validity',
        failing: `SELECT * FROM ${table} WHERE NOT COALESCE((${e.condition.sql}), false)`,
        total: rowsTotal,
      };
    }
    if (seen.has(compiled.name)) continue;
    seen.add(compiled.name);
    out.push({ ...compiled, severity });
  }
  return out;
}

/**
 * `_quality_score` of a row, 0-100: the mean of the declared dimensions, each 0..1 — completeness (share
 * of the listed columns that are not null), consistency (share of the conditions that hold) and
 * timeliness (1 when landed within the SLA, falling linearly to 0 at twice the SLA).
 */
export function qualityScoreSql(quality: NonNullable<Model['quality']>): string | undefined {
  const parts: string[] = [];
  if (quality.completeness) {
    parts.push(
      `((${quality.completeness.map((c) => `CAST(${quoteIdent(c)} IS NOT NULL AS INTEGER)`).join(' + ')}) / ${quality.completeness.length}.0)`,
    );
  }
  if (quality.consistency) {
    parts.push(
      `((${quality.consistency.map((c) => `CAST(COALESCE((${c}), false) AS INTEGER)`).join(' + ')}) / ${quality.consistency.length}.0)`,
    );
  }
  if (quality.timeliness) {
    const { event, landed, within_minutes } = quality.timeliness;
    const late = `(epoch(${quoteIdent(landed)}) - epoch(${quoteIdent(event)})) / 60.0`;
    parts.push(
      `(CASE WHEN ${quoteIdent(event)} IS NULL OR ${quoteIdent(landed)} IS NULL THEN 0.0 WHEN ${late} <= ${within_minutes} THEN 1.0 ELSE greatest(0.0, 2.0 - ${late} / ${within_minutes}) END)`,
    );
  }
  if (parts.length === 0) return undefined;
  return `round(100.0 * (${parts.join(' + ')}) / ${parts.length}, 1)`;
}
