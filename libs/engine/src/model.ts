import { UsageError } from '@aurora/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * A model of the medallion: one SQL file in pipelines/silver or pipelines/gold whose leading block comment
 * is YAML declaring what the model reads, its key and what must hold of its rows. The SQL after the
 * comment is one SELECT over the schemas bronze, reference, silver and gold.
 */

const columnList = z.array(z.string().min(1)).min(1);

const severity = z.enum(['error', 'warn']).optional();
const variant = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ...shape, severity });

const expectationSchema = z.union([
  variant({ not_null: columnList }),
  variant({ unique: columnList }),
  variant({
    accepted_values: z.strictObject({
      column: z.string(),
      values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
    }),
  }),
  variant({
    range: z
      .strictObject({ column: z.string(), min: z.number().optional(), max: z.number().optional() })
      .refine((r) => r.min !== undefined || r.max !== undefined, 'a range needs min or max'),
  }),
  variant({
    relationship: z.strictObject({
      column: z.string(),
      /** `silver.materials.material_id`: the table and column every non-null value must exist in. */
      to: z.string().regex(/^(bronze|reference|silver|gold)\.\w+\.\w+$/, 'schema.table.column'),
    }),
  }),
  variant({
    freshness: z.strictObject({ column: z.string(), max_age_minutes: z.number().positive() }),
  }),
  variant({
    /** Any SQL condition every row must satisfy, e.g. `good_count <= total_count`. */
    condition: z.strictObject({ name: z.string(), sql: z.string() }),
  }),
]);

export const modelHeaderSchema = z.strictObject({
  description: z.string().min(1),
  inputs: z.array(z.string().regex(/^(bronze|reference|silver|gold)\.\w+$/, 'schema.table')).min(1),
  key: columnList,
  /** Rows matching `when` go to silver.quarantine with the reason, instead of into the table. */
  quarantine: z.array(z.strictObject({ when: z.string(), reason: z.string() })).default([]),
  /** How `_quality_score` (0-100) is computed: the mean of the three dimensions that are declared. */
  quality: z
    .strictObject({
      completeness: columnList.optional(),
      consistency: z.array(z.string()).min(1).optional(),
      timeliness: z
        .strictObject({ event: z.string(), landed: z.string(), within_minutes: z.number().positive() })
        .optional(),
    })
    .optional(),
  expectations: z.array(expectationSchema).default([]),
  /** Synapse dedicated pool: how the table is distributed (gold). */
  synapse: z
    .strictObject({
      distribution: z.union([
        z.literal('ROUND_ROBIN'),
        z.literal('REPLICATE'),
        z.string().regex(/^HASH\(\w+\)$/),
      ]),
      /** The T-SQL SELECT of a materialized view over the model's table in the dedicated pool. */
      materialized_view: z.string().optional(),
    })
    .optional(),
});

export type ModelHeader = z.infer<typeof modelHeaderSchema>;
export type Expectation = z.infer<typeof expectationSchema>;

export interface Model extends ModelHeader {
  /** `silver.production_orders`. */
  name: string;
  layer: 'silver' | 'gold';
  table: string;
  sql: string;
  /** Where it was read from, for messages. */
  file: string;
  /** Every table the model needs before it runs: its inputs and the targets of its relationship checks. */
  requires: string[];
}

const REFERENCE = /\b(bronze|reference|silver|gold)\.([a-z_][a-z0-9_]*)\b/g;

/** The schema.table names a SQL text reads (string literals and comments left out). */
export function referencedTables(sql: string): string[] {
  const code = sql
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/--[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '');
  return [...new Set([...code.matchAll(REFERENCE)].map((m) => `${m[1]}.${m[2]}`))].sort();
}

/** Parses one model file; every problem is a UsageError naming the file. */
export function parseModel(file: string, layer: 'silver' | 'gold', table: string, text: string): Model {
  const match = /^\s*\/\*([\s\S]*?)\*\/([\s\S]*)$/.exec(text);
  if (!match)
    throw new UsageError(`${file}: a model starts with a /* ... */ block of YAML (description, inputs, key)`);
  let raw: unknown;
  try {
    raw = parseYaml(match[1]!);
  } catch (error) {
    throw new UsageError(`${file}: the header is not YAML: ${(error as Error).message}`);
  }
  const parsed = modelHeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(header)'}: ${i.message}`);
    throw new UsageError(`${file}: ${problems.join('; ')}`);
  }
  const sql = match[2]!.trim().replace(/;\s*$/, '');
  if (!/^(with|select)\b/i.test(sql))
    throw new UsageError(`${file}: the body must be one SELECT (or WITH ... SELECT)`);
  const name = `${layer}.${table}`;
  const read = referencedTables(sql).filter((t) => t !== name);
  const declared = [...parsed.data.inputs].sort();
  const undeclared = read.filter((t) => !declared.includes(t));
  const unused = declared.filter((t) => !read.includes(t));
  if (undeclared.length || unused.length) {
    throw new UsageError(
      `${file}: inputs must list exactly the tables the SQL reads` +
        (undeclared.length ? `; read but not declared: ${undeclared.join(', ')}` : '') +
        (unused.length ? `; declared but not read: ${unused.join(', ')}` : ''),
    );
  }
  const checked = parsed.data.expectations.flatMap((e) =>
    'relationship' in e ? [e.relationship.to.split('.').slice(0, 2).join('.')] : [],
  );
  const requires = [...new Set([...parsed.data.inputs, ...checked])].filter((t) => t !== name).sort();
  return { ...parsed.data, name, layer, table, sql, file, requires };
}
